// Admin on a 3-broker cluster of this file's own, where routing and splitting can be seen: a topic
// created with createTopics is known, with a leader for every partition, by each broker at once; many
// groups spread over several coordinators take one request per coordinator; broker-scoped requests
// answer per broker; and a preferred-leader election moves leadership back to a restarted broker.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Metadata, newMetadataRequestMetadataRequestTopic } from '../../src/protocol/messages/metadata.js'
import { startKafka, type KafkaCluster } from '../../src/testing/index.js'
import { closeAll, topicName, waitFor } from '../client/helpers.js'
import { countingAdmin } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await startKafka({
    brokers: 3,
    // The election below is this test's: no automatic rebalancing of leaders behind its back.
    brokerConfig: { 'auto.leader.rebalance.enable': 'false', 'broker.session.timeout.ms': '6000', 'broker.heartbeat.interval.ms': '1000' },
  }).catch((err: unknown) => {
    throw new Error(`the multi-broker admin tests need a 3-broker cluster and none could be started: ${err instanceof Error ? err.message : String(err)}`)
  })
}, { timeout: 300_000 })

after(async () => {
  await closeAll()
  await k?.stop()
})

test('createTopic returns once every broker knows the topic and every partition has a leader; per-broker requests answer per broker', { timeout: 120_000 }, async () => {
  const { admin } = countingAdmin(k)
  const nodes = (await admin.listBrokers()).map((b) => b.nodeId)
  assert.equal(nodes.length, 3)
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 6, replicationFactor: 3 })
  for (const node of nodes) {
    const req = Metadata.newRequest()
    req.topics = [{ ...newMetadataRequestMetadataRequestTopic(), name: topic }]
    const res = await admin.client.request(Metadata, req, { broker: node })
    const t = res.topics[0]!
    assert.equal(t.errorCode, 0, `broker ${node} knows ${topic}`)
    assert.equal(t.partitions.length, 6)
    assert.ok(
      t.partitions.every((p) => nodes.includes(p.leaderId) && p.replicaNodes.length === 3),
      `broker ${node}: every partition has a leader`,
    )
  }

  assert.deepEqual(
    (await admin.apiVersions()).map((v) => [v.nodeId, v.error]),
    nodes.map((n) => [n, null]),
  )
  // Leaders are in place when createTopic returns; a follower may still be creating its replica's log.
  const replicasPerBroker = async () => (await admin.describeAllLogDirs([topic])).map((d) => [d.nodeId, d.error, d.dirs.flatMap((x) => x.partitions).length])
  await waitFor(async () => JSON.stringify(await replicasPerBroker()) === JSON.stringify(nodes.map((n) => [n, null, 6])), 'each broker to hold a replica of each partition')
})

test('groups on several coordinators: one request per coordinator for describe, fetch and lag', { timeout: 120_000 }, async () => {
  const { admin, writes } = countingAdmin(k)
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 2, replicationFactor: 3 })
  await admin.client.produceSync(Array.from({ length: 10 }, (_, i) => ({ topic, partition: i % 2, value: `v${i}` })))
  // Enough groups that they land on more than one coordinator (__consumer_offsets has 3 partitions here).
  const groups = Array.from({ length: 12 }, () => topicName('g'))
  const coordinators = await admin.findGroupCoordinators(groups)
  const distinct = [...new Set(coordinators.map((c) => c.coordinator))].sort()
  assert.ok(distinct.length >= 2, `12 groups on ${distinct.length} coordinator(s)`)
  for (const [i, g] of groups.entries()) await admin.commitOffsets(g, { [topic]: { 0: BigInt(i % 5), 1: 1n } })

  let mark = writes.mark
  const described = await admin.describeGroups(groups)
  assert.deepEqual(
    described.map((d) => [d.group, d.state, d.coordinator]),
    groups.map((g, i) => [g, 'Empty', coordinators[i]!.coordinator]),
  )
  const describeNodes = [...writes.of('ConsumerGroupDescribe', mark), ...writes.of('DescribeGroups', mark)]
  assert.deepEqual([...new Set(describeNodes)].sort(), distinct)
  assert.ok(writes.of('DescribeGroups', mark).length <= distinct.length && writes.of('ConsumerGroupDescribe', mark).length <= distinct.length, `one request per coordinator: ${JSON.stringify(writes.sent.slice(mark))}`)

  mark = writes.mark
  const fetched = await admin.fetchManyOffsets(groups)
  assert.deepEqual(
    fetched.map((f) => [f.group, f.error, f.offsets.map((o) => o.offset)]),
    groups.map((g, i) => [g, null, [BigInt(i % 5), 1n]]),
  )
  assert.deepEqual(writes.of('OffsetFetch', mark).sort(), distinct, 'one OffsetFetch per coordinator')

  const lags = await admin.lag(groups)
  assert.deepEqual(
    lags.map((l) => [l.group, l.total]),
    groups.map((g, i) => [g, 5n - BigInt(i % 5) + 4n]),
  )
})

test('electLeaders: after a broker restarts, a preferred election gives it back the partitions it prefers', { timeout: 240_000 }, async () => {
  const { admin } = countingAdmin(k)
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 3, replicationFactor: 3 })
  const [before] = await admin.describeTopics([topic])
  const preferred = (p: number) => before!.partitions[p]!.replicas[0]!
  // Stop the preferred leader of partition 0; its partitions move to other replicas.
  const victim = preferred(0)
  const brokers = await admin.listBrokers()
  const index = k.bootstrapServers.indexOf(`${brokers.find((b) => b.nodeId === victim)!.host}:${brokers.find((b) => b.nodeId === victim)!.port}`)
  assert.ok(index >= 0)
  await k.stopBroker(index)
  await waitFor(async () => (await admin.describeTopics([topic]))[0]!.partitions.every((p) => p.leader !== victim && p.leader >= 0), 'leadership to leave the stopped broker', 60_000)
  await k.startBroker(index)
  await waitFor(async () => (await admin.describeTopics([topic]))[0]!.partitions.every((p) => p.isr.includes(victim)), 'the restarted broker back in every ISR', 120_000)
  const moved = (await admin.describeTopics([topic]))[0]!.partitions.filter((p) => p.leader !== p.replicas[0]).map((p) => p.partition)
  assert.ok(moved.includes(0), 'partition 0 is led by another broker until the election')

  const res = await admin.electLeaders('preferred', [topic])
  assert.deepEqual(
    res.map((r) => [r.partition, r.error?.code ?? null]),
    [0, 1, 2].map((p) => [p, moved.includes(p) ? null : 'ELECTION_NOT_NEEDED']),
  )
  await waitFor(async () => (await admin.describeTopics([topic]))[0]!.partitions.every((p) => p.leader === preferred(p.partition)), 'every partition led by its preferred replica', 60_000)
})
