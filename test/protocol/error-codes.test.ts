import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ErrorCode, errorCodeByName, kafkaErrorCodes } from '../../src/protocol/error-codes.js'
import { KafkaProtocolError, errorForCode } from '../../src/protocol/errors.js'

// The codes whose exception is a RetriableException in the Java client, as printed by iterating
// `Errors.values()` of kafka-clients 4.4.0 and printing `exception() instanceof RetriableException`.
const JAVA_RETRIABLE = [2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 41, 51, 56, 70, 71, 72, 74, 75, 78, 80, 83, 84, 88, 89, 100, 103, 106, 122, 123, 133]

test('the table holds every code from -1 through 136, except 0', () => {
  assert.equal(kafkaErrorCodes.size, 137)
  assert.equal(kafkaErrorCodes.has(0), false)
  for (let code = -1; code <= 136; code++) {
    if (code === 0) continue
    const e = kafkaErrorCodes.get(code)
    assert.ok(e, `code ${code} is missing`)
    assert.equal(e.code, code)
    assert.match(e.name, /^[A-Z][A-Z0-9_]+$/)
    assert.ok(e.description.length > 10, `${e.name} needs a description`)
    assert.ok(!e.description.endsWith('.'), `${e.name}: descriptions are one line without a final period`)
  }
})

test('names are unique and errorCodeByName finds each one', () => {
  const names = new Set<string>()
  for (const e of kafkaErrorCodes.values()) {
    assert.ok(!names.has(e.name), `duplicate name ${e.name}`)
    names.add(e.name)
    assert.equal(errorCodeByName(e.name), e)
  }
  assert.equal(errorCodeByName('NOT_LEADER_FOR_PARTITION'), undefined)
  assert.equal(errorCodeByName('nope'), undefined)
})

test('retriability matches the Java client', () => {
  const retriable = [...kafkaErrorCodes.values()].filter((e) => e.retriable).map((e) => e.code).sort((a, b) => a - b)
  assert.deepEqual(retriable, JAVA_RETRIABLE)
})

test('a few well-known codes', () => {
  const expect: [number, string, boolean][] = [
    [-1, 'UNKNOWN_SERVER_ERROR', false],
    [1, 'OFFSET_OUT_OF_RANGE', false],
    [6, 'NOT_LEADER_OR_FOLLOWER', true],
    [16, 'NOT_COORDINATOR', true],
    [22, 'ILLEGAL_GENERATION', false],
    [27, 'REBALANCE_IN_PROGRESS', false],
    [35, 'UNSUPPORTED_VERSION', false],
    [47, 'INVALID_PRODUCER_EPOCH', false],
    [51, 'CONCURRENT_TRANSACTIONS', true],
    [59, 'UNKNOWN_PRODUCER_ID', false],
    [90, 'PRODUCER_FENCED', false],
    [100, 'UNKNOWN_TOPIC_ID', true],
    [110, 'FENCED_MEMBER_EPOCH', false],
    [120, 'TRANSACTION_ABORTABLE', false],
    [133, 'SHARE_SESSION_LIMIT_REACHED', true],
    [136, 'CONTROLLER_ID_NOT_REGISTERED', false],
  ]
  for (const [code, name, retriable] of expect) {
    const e = kafkaErrorCodes.get(code)!
    assert.equal(e.name, name)
    assert.equal(e.retriable, retriable, name)
  }
})

test('ErrorCode names every code and is frozen', () => {
  assert.equal(ErrorCode.NONE, 0)
  assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6)
  assert.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1)
  assert.equal(ErrorCode.CONTROLLER_ID_NOT_REGISTERED, 136)
  assert.equal(Object.keys(ErrorCode).length, 138)
  for (const e of kafkaErrorCodes.values()) assert.equal((ErrorCode as Record<string, number>)[e.name], e.code)
  assert.ok(Object.isFrozen(ErrorCode))
  assert.throws(() => {
    ;(ErrorCode as Record<string, number>).NONE = 1
  }, TypeError)
})

test('KafkaProtocolError takes its name and retriability from the table', () => {
  const err = new KafkaProtocolError(ErrorCode.NOT_LEADER_OR_FOLLOWER, { topic: 't', partition: 3 })
  assert.equal(err.code, 'NOT_LEADER_OR_FOLLOWER')
  assert.equal(err.errorCode, 6)
  assert.equal(err.retriable, true)
  assert.match(err.message, /^NOT_LEADER_OR_FOLLOWER \(t\[3\]\): /)
  assert.equal(errorForCode(0), null)
  assert.equal(errorForCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED)!.retriable, false)
  assert.equal(new KafkaProtocolError(4242).code, 'UNKNOWN_ERROR_CODE_4242')
})
