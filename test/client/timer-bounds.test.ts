// Durations that become Node timers: a timer longer than 2^31 - 1 ms fires after 1 ms, so an option
// past that would turn a long wait into none (or a loop). The options refuse such values by name;
// request bounds past it mean no bound (checked with a broker that never answers).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { BrokerConnection } from '../../src/client/connection.js'
import { InvalidOptionError, RequestTimeoutError } from '../../src/client/errors.js'
import { resolveConfig } from '../../src/client/options.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { FakePeer, closePeers } from '../helpers/fake-peer.js'

const LONGEST = 2 ** 31 - 1
const conns: BrokerConnection[] = []
after(() => {
  for (const c of conns) c.close()
  closePeers()
})

test('timer-fed durations past Node\'s longest timer fail at construction, naming the option; the longest is taken', () => {
  const names = ['dialTimeout', 'connIdleTimeout', 'metadataMaxAge', 'metadataMinAge', 'sessionTimeout', 'heartbeatInterval', 'rebalanceTimeout', 'autoCommitInterval'] as const
  for (const name of names) {
    const group = name === 'sessionTimeout' || name === 'heartbeatInterval' || name === 'rebalanceTimeout' || name === 'autoCommitInterval' ? { consumerGroup: 'g', consumeTopics: ['t'] } : {}
    assert.throws(() => resolveConfig({ seedBrokers: ['127.0.0.1:1'], ...group, [name]: LONGEST + 1 }), (e: unknown) => e instanceof InvalidOptionError && e.option === name, name)
    // heartbeatInterval must stay below sessionTimeout, which is at most the longest timer too.
    const longest: Record<string, number> = name === 'heartbeatInterval' ? { sessionTimeout: LONGEST, heartbeatInterval: LONGEST - 1 } : { [name]: LONGEST }
    const cfg = resolveConfig({ seedBrokers: ['127.0.0.1:1'], ...group, ...longest }) as unknown as Record<string, number>
    assert.equal(cfg[name], longest[name], name)
  }
})

test('a request bound past Node\'s longest timer is no bound: the request waits instead of timing out at once', async () => {
  const peer = await FakePeer.start() // never answers
  const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: peer.port, connectTimeout: 5000, requestTimeout: LONGEST })
  conns.push(conn)
  const outcomes: string[] = []
  const track = (p: Promise<unknown>, what: string) => p.then(() => outcomes.push(`${what} answered`), (e: unknown) => outcomes.push(`${what}: ${e instanceof RequestTimeoutError ? 'RequestTimeoutError' : String(e)}`))
  track(conn.request(Metadata, { ...Metadata.newRequest(), topics: null }), 'Metadata')
  track(conn.request(CreateTopics, { ...CreateTopics.newRequest(), timeoutMs: 30_000 }), 'CreateTopics') // 2^31 - 1 + 30 s
  await peer.waitFor(2)
  await new Promise((r) => setTimeout(r, 300))
  assert.deepEqual(outcomes, [], 'both requests still wait for their answers')
  assert.equal(conn.inflight, 2)
})

test('retryBackoff: a number past the longest timer is refused; a function\'s bad values fall back to the default wait, its too-long ones are cut', () => {
  assert.throws(() => resolveConfig({ seedBrokers: ['127.0.0.1:1'], retryBackoff: LONGEST + 1 }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'retryBackoff')
  assert.equal(resolveConfig({ seedBrokers: ['127.0.0.1:1'], retryBackoff: LONGEST }).retryBackoff(1), LONGEST)
  const values: unknown[] = [Number.NaN, -5, undefined, 'soon', 1e15, 7]
  const backoff = resolveConfig({ seedBrokers: ['127.0.0.1:1'], retryBackoff: (tries) => values[tries - 1] as number }).retryBackoff
  for (const tries of [1, 2, 3, 4]) {
    const ms = backoff(tries)
    // The default: 250 ms doubling per try (up to 2.5 s), within a fifth either way.
    const base = 250 * 2 ** (tries - 1)
    assert.ok(ms >= 0.8 * base && ms <= 1.2 * base, `try ${tries}: ${ms} ms is not the default's wait`)
  }
  assert.equal(backoff(5), LONGEST)
  assert.equal(backoff(6), 7)
})

test('requestTimeoutOverhead past the longest timer is refused by name; the longest, the KafkaJS facade\'s unbounded setting, is taken', () => {
  assert.throws(() => resolveConfig({ seedBrokers: ['127.0.0.1:1'], requestTimeoutOverhead: LONGEST + 1 }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'requestTimeoutOverhead')
  assert.equal(resolveConfig({ seedBrokers: ['127.0.0.1:1'], requestTimeoutOverhead: LONGEST }).requestTimeoutOverhead, LONGEST)
})
