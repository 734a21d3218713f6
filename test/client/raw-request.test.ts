// client.request with bodies written by hand: bad bodies fail before anything is sent, with an
// InvalidRequestError naming the field (checked against a fake peer that records every request), and
// against the real broker, topic ids and names are filled where the negotiated version needs the other
// (OffsetCommit and OffsetFetch v10 name topics by id; Fetch v13+ too), dashed Uuids work, and bodies in
// an older version's shape (OffsetFetch groupId/topics, DeleteTopics topicNames) still work.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Client } from '../../src/client/client.js'
import { InvalidRequestError } from '../../src/protocol/errors.js'
import { DeleteRecords } from '../../src/protocol/messages/delete-records.js'
import { DeleteTopics } from '../../src/protocol/messages/delete-topics.js'
import { DescribeCluster } from '../../src/protocol/messages/describe-cluster.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { ListGroups } from '../../src/protocol/messages/list-groups.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { OffsetCommit } from '../../src/protocol/messages/offset-commit.js'
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js'
import { uuidToDashed } from '../../src/protocol/validate.js'
import { ZERO_UUID } from '../../src/protocol/reader.js'
import { decodeRecordBatches } from '../../src/protocol/records.js'
import { Admin } from '../../src/admin/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { FakePeer, closePeers } from '../helpers/fake-peer.js'
import { broker, closeAll, createTopic, newClient, topicName, waitFor } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(async () => {
  closePeers()
  await closeAll()
})

test('bad bodies fail with InvalidRequestError naming the field, and nothing but ApiVersions reaches the peer', async () => {
  const peer = await FakePeer.start()
  const c = new Client({ seedBrokers: [`127.0.0.1:${peer.port}`], requestRetries: 0 })
  try {
    const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
      // Routed per leader: checked before the split, so before any connection.
      [() => c.request(DeleteRecords, { timeoutMs: 1000 } as never), 'DeleteRecordsRequest.topics', /must be an array of topics, got nothing/],
      [() => c.request(DeleteRecords, { ...DeleteRecords.newRequest(), topics: [{ name: 't', partitions: [{ offset: 1n }] }] } as never), 'DeleteRecordsRequest.topics[0].partitions[0].partitionIndex', /must be a partition number/],
      // Routed to any broker: checked against the version the connection negotiated.
      [() => c.request(ListGroups, { ...ListGroups.newRequest(), statesFilter: 'Stable' as never }), 'ListGroupsRequest.statesFilter', /must be an array/],
      [() => c.request(DescribeCluster, { endpointType: 1, includeFencedBrokers: false } as never), 'DescribeClusterRequest.includeClusterAuthorizedOperations', /is missing/],
      [() => c.request(ListGroups, null as never), 'ListGroupsRequest', /must be an object/],
    ]
    for (const [p, path, problem] of cases) {
      await assert.rejects(p(), (err: unknown) => err instanceof InvalidRequestError && err.path === path && problem.test(err.message) && err.code === 'INVALID_REQUEST' && !err.retriable, path)
    }
    assert.deepEqual(
      peer.requests().map((r) => r.api.name),
      [],
      'no request other than ApiVersions was sent',
    )
  } finally {
    await c.close()
  }
})

test('OffsetCommit and OffsetFetch written with topic names work at v10 (ids filled), and the legacy OffsetFetch shape (groupId, topics: null) too', async () => {
  const c = newClient(k)
  const topic = await createTopic(c, { partitions: 2 })
  const group = topicName('g')
  const commit = OffsetCommit.newRequest()
  commit.groupId = group
  commit.topics = [{ name: topic, topicId: ZERO_UUID, partitions: [{ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: 'm' }] }]
  const cres = await c.request(OffsetCommit, commit)
  assert.equal(cres.topics.length, 1)
  assert.equal(cres.topics[0]!.name, topic, 'the response names the topic, even when the broker answered by id')
  assert.equal(cres.topics[0]!.partitions[0]!.errorCode, 0)
  assert.equal(commit.topics[0]!.topicId, ZERO_UUID, "the caller's body is not changed")

  // The shape of v0-7: one group, topics null for every committed offset.
  const legacy = OffsetFetch.newRequest()
  legacy.groupId = group
  legacy.topics = null
  const fres = await c.request(OffsetFetch, legacy)
  assert.equal(fres.errorCode, 0)
  assert.equal(fres.topics.length, 1)
  assert.equal(fres.topics[0]!.name, topic)
  assert.deepEqual(
    fres.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]),
    [[1, 42n, 'm']],
  )
  // …and the v8+ shape of the same answer.
  assert.equal(fres.groups[0]!.groupId, group)
  assert.equal(fres.groups[0]!.topics[0]!.name, topic)

  // The v8+ shape with a topic named (no id) fetches that topic's partitions.
  const modern = OffsetFetch.newRequest()
  modern.groups = [{ groupId: group, memberId: null, memberEpoch: -1, topics: [{ name: topic, topicId: ZERO_UUID, partitionIndexes: [0, 1] }] }]
  const mres = await c.request(OffsetFetch, modern)
  const parts = mres.groups[0]!.topics[0]!.partitions
  assert.deepEqual(
    parts.map((p) => [p.partitionIndex, p.committedOffset]),
    [
      [0, -1n],
      [1, 42n],
    ],
  )
})

test('Fetch by topic id alone is routed (the name filled from the id) and answers with the name; DeleteTopics by a dashed id and by topicNames', async () => {
  const c = newClient(k)
  const topic = await createTopic(c, { partitions: 1 })
  await c.produce({ topic, value: 'hello', partition: 0 })
  const admin = new Admin(c)
  const id = (await admin.describeTopic(topic)).topicId
  const f = Fetch.newRequest()
  f.maxWaitMs = 0
  f.minBytes = 0
  f.topics = [{ ...f.topics[0], topic: '', topicId: id, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO_UUID, highWatermark: -1n }] }]
  const res = await c.request(Fetch, f)
  assert.equal(res.responses.length, 1)
  assert.equal(res.responses[0]!.topic, topic)
  assert.equal(res.responses[0]!.topicId, id)
  const recs = decodeRecordBatches(res.responses[0]!.partitions[0]!.records!)
  assert.equal(recs[0]!.records[0]!.value!.toString(), 'hello')

  // By the dashed form of the id.
  const dt = DeleteTopics.newRequest()
  dt.timeoutMs = 30_000
  dt.topics = [{ name: null, topicId: uuidToDashed(id) }]
  const dres = await c.request(DeleteTopics, dt)
  assert.equal(dres.responses.length, 1)
  assert.equal(dres.responses[0]!.errorCode, 0, String(dres.responses[0]!.errorMessage))
  assert.equal(dres.responses[0]!.topicId, id)
  // The controller has deleted it; the broker's metadata says so a moment later.
  await waitFor(async () => (await admin.describeTopics([topic]))[0]!.error?.code === 'UNKNOWN_TOPIC_OR_PARTITION', 'the deleted topic to be gone from metadata')

  // By topicNames, the shape of v0-5, sent as v6.
  const other = await createTopic(c, { partitions: 1 })
  const old = DeleteTopics.newRequest()
  old.timeoutMs = 30_000
  old.topicNames = [other]
  const ores = await c.request(DeleteTopics, old)
  assert.deepEqual(
    ores.responses.map((r) => [r.name, r.errorCode]),
    [[other, 0]],
  )
})

test('Metadata by topic id: the broker answers with the name', async () => {
  const c = newClient(k)
  const topic = await createTopic(c, { partitions: 1 })
  const id = (await new Admin(c).describeTopic(topic)).topicId
  const md = Metadata.newRequest()
  md.topics = [{ topicId: uuidToDashed(id), name: null }]
  md.allowAutoTopicCreation = false
  const res = await c.request(Metadata, md)
  assert.deepEqual(
    res.topics.map((t) => [t.name, t.topicId, t.errorCode]),
    [[topic, id, 0]],
  )
})

test('an unknown topic name in a by-id version is the broker’s per-topic answer, not a crash', async () => {
  const c = newClient(k)
  const commit = OffsetCommit.newRequest()
  commit.groupId = topicName('g')
  commit.topics = [{ name: topicName('missing'), topicId: ZERO_UUID, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }]
  const res = await c.request(OffsetCommit, commit)
  const code = res.topics[0]!.partitions[0]!.errorCode
  assert.ok(code === 100 || code === 3, `UNKNOWN_TOPIC_ID or UNKNOWN_TOPIC_OR_PARTITION, got ${code}`)
})
