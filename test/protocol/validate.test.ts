// checkRequest against every generated schema: what newRequest() returns passes in every version, and
// hand-written bodies fail before encoding with an InvalidRequestError naming the field's path; Uuids
// in the dashed form encode to the same bytes as Kafka's base64url form, and garbage is refused.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { InvalidRequestError, KafkaWireError, ProtocolEncodeError } from '../../src/protocol/errors.js'
import { apis } from '../../src/protocol/messages/index.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { DeleteRecords } from '../../src/protocol/messages/delete-records.js'
import { DeleteTopics } from '../../src/protocol/messages/delete-topics.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js'
import { checkRequest, isUuid, uuidToBase64, uuidToDashed } from '../../src/protocol/validate.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** rejects asserts that checking `body` fails with InvalidRequestError at `path`, its message matching `problem`. */
function rejects(api: Parameters<typeof checkRequest>[0], version: number, body: unknown, path: string, problem: RegExp): void {
  assert.throws(
    () => checkRequest(api, version, body),
    (err: unknown) => {
      assert.ok(err instanceof InvalidRequestError, `an InvalidRequestError, got ${String(err)}`)
      assert.ok(err instanceof KafkaWireError)
      assert.equal(err.code, 'INVALID_REQUEST')
      assert.equal(err.retriable, false)
      assert.equal(err.path, path)
      assert.equal(err.api, api.name)
      assert.equal(err.version, version)
      assert.match(err.message, problem)
      return true
    },
  )
}

test('newRequest() of every API passes checkRequest in every version, and the checked body encodes', () => {
  let checked = 0
  for (const api of apis) {
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      const body = api.newRequest()
      const out = checkRequest(api, v, body)
      assert.equal(out, body, `${api.name} v${v}: a complete body is returned as it is`)
      const w = new Writer(64)
      api.encodeRequest(w, v, out)
      checked++
    }
  }
  assert.ok(checked >= 300, `${checked} API versions checked`)
})

test('a missing field is named by its path, with the hint to start from newRequest()', () => {
  const req = CreateTopics.newRequest()
  req.topics = [{ name: 'a', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }, { name: 'b', numPartitions: 1, replicationFactor: 1 } as never]
  rejects(CreateTopics, 7, req, 'CreateTopicsRequest.topics[1].assignments', /is missing \(\[\]struct, versions 0\+\); CreateTopics\.newRequest\(\)/)
  rejects(DeleteRecords, 2, { timeoutMs: 1 }, 'DeleteRecordsRequest.topics', /is missing/)
})

test('wrong types are named: a number for an int64, a string for an int32, an object for an array, a non-object body', () => {
  const dr = DeleteRecords.newRequest()
  dr.topics = [{ name: 't', partitions: [{ partitionIndex: 0, offset: 5 as never }] }]
  rejects(DeleteRecords, 2, dr, 'DeleteRecordsRequest.topics[0].partitions[0].offset', /must be a bigint \(int64\), got the number 5 \(write 5n\)/)
  dr.topics = [{ name: 't', partitions: [{ partitionIndex: '0' as never, offset: 5n }] }]
  rejects(DeleteRecords, 2, dr, 'DeleteRecordsRequest.topics[0].partitions[0].partitionIndex', /must be an integer \(int32\), got the string "0"/)
  dr.topics = { name: 't' } as never
  rejects(DeleteRecords, 2, dr, 'DeleteRecordsRequest.topics', /must be an array/)
  rejects(DeleteRecords, 2, 'not a body', 'DeleteRecordsRequest', /must be an object/)
  const md = Metadata.newRequest()
  md.allowAutoTopicCreation = 'yes' as never
  rejects(Metadata, 12, md, 'MetadataRequest.allowAutoTopicCreation', /must be a boolean/)
})

test('integers out of their type range and null where the version does not allow it are refused', () => {
  const ct = CreateTopics.newRequest()
  ct.topics = [{ name: 't', numPartitions: 1, replicationFactor: 40000, assignments: [], configs: [] }]
  rejects(CreateTopics, 7, ct, 'CreateTopicsRequest.topics[0].replicationFactor', /out of the int16 range -32768\.\.32767: 40000/)
  ct.topics = [{ name: null as never, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }]
  rejects(CreateTopics, 7, ct, 'CreateTopicsRequest.topics[0].name', /cannot be null in version 7/)
  // Metadata's topics may be null (every topic) from v1 on.
  const md = Metadata.newRequest()
  md.topics = null
  assert.equal(checkRequest(Metadata, 12, md), md)
})

test('a field the version lacks: left out, it is filled with its default in a copy; holding a value, it is refused', () => {
  // OffsetFetch v8+ moved groupId and topics into groups; a body for v10 may leave the old fields out.
  const body = { groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: null }], requireStable: true }
  const out = checkRequest(OffsetFetch, 10, body) as unknown as { groupId: string; topics: unknown[]; groups: unknown[] }
  assert.notEqual(out, body, 'a copy')
  assert.equal(out.groupId, '')
  assert.deepEqual(out.topics, [])
  assert.equal(out.groups, body.groups)
  assert.equal('groupId' in body, false, 'the given body is left alone')
  const w = new Writer(64)
  OffsetFetch.encodeRequest(w, 10, out as never)
  const decoded = OffsetFetch.decodeRequest(new Reader(w.finish()), 10)
  assert.equal(decoded.groups[0]!.groupId, 'g')
  // A value that the version would drop is an error, named.
  const legacy = { ...OffsetFetch.newRequest(), groupId: 'g', topics: null }
  rejects(OffsetFetch, 10, legacy, 'OffsetFetchRequest.groupId', /does not exist in version 10 \(only in versions 0-7\) and holds the string "g"/)
})

test('tagged fields may be left out', () => {
  // Fetch's clusterId (tag 0), replicaState (tag 1) are tagged in v12+.
  const f = Fetch.newRequest() as unknown as Record<string, unknown>
  delete f.clusterId
  delete f.replicaState
  const out = checkRequest(Fetch, 17, f) as unknown as Record<string, unknown>
  assert.equal(out.clusterId, null)
})

test('Uuids: the dashed form and the base64url form are accepted and encode the same 16 bytes; anything else is refused with the path', () => {
  const b64 = 'Y2HkZ5MKQw6tLwo8SDbi_A'
  const dashed = uuidToDashed(b64)
  assert.match(dashed, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  assert.equal(uuidToBase64(dashed), b64)
  assert.equal(uuidToBase64(dashed.toUpperCase()), b64)
  const enc = (id: string) => {
    const w = new Writer(32)
    w.uuid(id)
    return w.finishCopy()
  }
  assert.deepEqual(enc(dashed), enc(b64))
  assert.equal(new Reader(enc(dashed)).uuid(), b64)
  const req = DeleteTopics.newRequest()
  for (const bad of ['', 'not-a-uuid', `${dashed}0`, dashed.replace(/-/g, ''), 'Y2HkZ5MKQw6tLwo8SDbi_', 'Y2HkZ5MKQw6tLwo8SDbi_A=', '0f7a1c2e-1111-2222-3333-44445555666g']) {
    req.topics = [{ name: null, topicId: bad }]
    rejects(DeleteTopics, 6, req, 'DeleteTopicsRequest.topics[0].topicId', /is not a Uuid: .*; want 22 base64url characters \(as Kafka prints it\) or the dashed form 8-4-4-4-12/)
    assert.equal(isUuid(bad), false, bad)
    // The writer refuses it too, rather than write garbage (a dashed Uuid is base64url-valid text).
    assert.throws(() => enc(bad), ProtocolEncodeError)
  }
  req.topics = [{ name: null, topicId: dashed }]
  assert.equal(checkRequest(DeleteTopics, 6, req), req)
})

test('property: any 16 bytes survive dashed → base64url → bytes, and the two forms encode alike', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const b64 = Buffer.from(bytes).toString('base64url')
      const dashed = uuidToDashed(b64)
      assert.equal(uuidToBase64(dashed), b64)
      const a = new Writer(16)
      a.uuid(dashed)
      assert.deepEqual(a.finishCopy(), Buffer.from(bytes))
    }),
  )
})

test('a version the API does not have is refused', () => {
  rejects(ListOffsets, 99, ListOffsets.newRequest(), 'ListOffsetsRequest', /cannot be sent in version 99: versions 1-11 exist/)
})
