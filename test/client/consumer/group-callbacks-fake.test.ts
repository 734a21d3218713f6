// Group callbacks against a scripted fake broker, for the classic protocol and KIP-848, where the
// requests themselves are the point. autoCommitCallback when the coordinator refuses a commit (a real
// broker refuses a partition's commit only in states a test cannot set up on demand): the callback
// gets the offsets the commit carried and the refusal as a typed per-partition error; a callback
// that throws or rejects is logged and the member goes on. onOffsetsFetched that throws: the member
// joins again with its member id (KIP-848: at epoch 0, owning nothing).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Client } from '../../../src/client/client.js'
import type { AutoCommitResult } from '../../../src/client/types.js'
import type { ClientOptions } from '../../../src/client/options.js'
import { ErrorCode } from '../../../src/protocol/error-codes.js'
import { KafkaProtocolError } from '../../../src/protocol/errors.js'
import { ConsumerGroupHeartbeat, type ConsumerGroupHeartbeatRequest } from '../../../src/protocol/messages/consumer-group-heartbeat.js'
import { Fetch, newFetchResponsePartitionData, type FetchRequest } from '../../../src/protocol/messages/fetch.js'
import { FindCoordinator, type FindCoordinatorRequest } from '../../../src/protocol/messages/find-coordinator.js'
import { Heartbeat } from '../../../src/protocol/messages/heartbeat.js'
import { JoinGroup, type JoinGroupRequest } from '../../../src/protocol/messages/join-group.js'
import { LeaveGroup } from '../../../src/protocol/messages/leave-group.js'
import { Metadata, newMetadataResponseMetadataResponsePartition, newMetadataResponseMetadataResponseTopic, type MetadataRequest } from '../../../src/protocol/messages/metadata.js'
import { OffsetCommit, type OffsetCommitRequest } from '../../../src/protocol/messages/offset-commit.js'
import { OffsetFetch, type OffsetFetchRequest } from '../../../src/protocol/messages/offset-fetch.js'
import { SyncGroup, type SyncGroupRequest } from '../../../src/protocol/messages/sync-group.js'
import { LogLevel } from '../../../src/hooks/logger.js'
import { waitFor } from '../helpers.js'
import { FakePeer, closePeers, keyedBatch, type Received } from '../../helpers/fake-peer.js'

const TOPIC = 'fake-topic'
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'
const MEMBER = 'member-1'
const EPOCH = 5
/** RECORDS is how many records each of the two partitions holds. */
const RECORDS = 3

const clients: Client[] = []
after(async () => {
  for (const c of clients) await c.close().catch(() => {})
  closePeers()
})

/**
 * fakeGroupBroker is one node leading both partitions of TOPIC and coordinating every group: a
 * member of either protocol is given both partitions, starts at offset 0 and fetches RECORDS records
 * of each; OffsetCommit answers each partition with `commitError(partition)`.
 */
async function fakeGroupBroker(commitError: (partition: number) => number): Promise<FakePeer> {
  const peer = await FakePeer.start((req: Received, p: FakePeer) => {
    const respond = (res: unknown) => p.respond(req, res)
    const body = req.body
    switch (req.api.key) {
      case Metadata.key: {
        const partitions = [0, 1].map((partitionIndex) => ({ ...newMetadataResponseMetadataResponsePartition(), partitionIndex, leaderId: 1, leaderEpoch: EPOCH, replicaNodes: [1], isrNodes: [1] }))
        const topics = ((body as MetadataRequest).topics ?? [{ name: TOPIC }]).map((t) => ({ ...newMetadataResponseMetadataResponseTopic(), name: t.name, topicId: TOPIC_ID, partitions: t.name === TOPIC ? partitions : [], errorCode: t.name === TOPIC ? 0 : 3 }))
        return respond({ ...Metadata.newResponse(), brokers: [{ nodeId: 1, host: '127.0.0.1', port: p.port, rack: null }], controllerId: 1, clusterId: 'fake', topics })
      }
      case FindCoordinator.key: {
        // v4+ answers per key (the client asks v4+ of a broker that offers it).
        const keys = (body as FindCoordinatorRequest).coordinatorKeys
        return respond({ ...FindCoordinator.newResponse(), coordinators: keys.map((key) => ({ key, nodeId: 1, host: '127.0.0.1', port: p.port, errorCode: 0, errorMessage: null })) })
      }
      case JoinGroup.key: {
        const join = body as JoinGroupRequest
        const proto = join.protocols[0]!
        return respond({ ...JoinGroup.newResponse(), generationId: 1, protocolType: 'consumer', protocolName: proto.name, leader: MEMBER, memberId: MEMBER, members: [{ memberId: MEMBER, groupInstanceId: null, metadata: proto.metadata }] })
      }
      case SyncGroup.key: {
        const mine = (body as SyncGroupRequest).assignments.find((a) => a.memberId === MEMBER)
        return respond({ ...SyncGroup.newResponse(), protocolType: 'consumer', protocolName: (body as SyncGroupRequest).protocolName, assignment: mine?.assignment ?? Buffer.alloc(0) })
      }
      case Heartbeat.key:
        return respond(Heartbeat.newResponse())
      case LeaveGroup.key:
        return respond({ ...LeaveGroup.newResponse(), members: [{ memberId: MEMBER, groupInstanceId: null, errorCode: 0 }] })
      case ConsumerGroupHeartbeat.key: {
        const hb = body as ConsumerGroupHeartbeatRequest
        const leaving = hb.memberEpoch < 0
        // Every full heartbeat (the join, or after an error) gets the assignment.
        const assignment = !leaving && hb.topicPartitions !== null ? { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1] }] } : null
        return respond({ ...ConsumerGroupHeartbeat.newResponse(), memberId: hb.memberId, memberEpoch: leaving ? hb.memberEpoch : 1, heartbeatIntervalMs: 200, assignment })
      }
      case OffsetFetch.key: {
        const groups = (body as OffsetFetchRequest).groups
        const partition = (partitionIndex: number) => ({ partitionIndex, committedOffset: 0n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 })
        return respond({
          ...OffsetFetch.newResponse(),
          groups: groups.map((g) => ({ groupId: g.groupId, errorCode: 0, topics: (g.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitionIndexes.map(partition) })) })),
        })
      }
      case Fetch.key: {
        const fetch = body as FetchRequest
        const partitions = fetch.topics.flatMap((t) => t.partitions).filter((fp) => fp.fetchOffset < BigInt(RECORDS))
        const res = {
          ...Fetch.newResponse(),
          responses: partitions.length === 0 ? [] : [{ topic: TOPIC, topicId: TOPIC_ID, partitions: partitions.map((fp) => ({ ...newFetchResponsePartitionData(), partitionIndex: fp.partition, highWatermark: BigInt(RECORDS), lastStableOffset: BigInt(RECORDS), logStartOffset: 0n, records: keyedBatch(fp.fetchOffset, RECORDS - Number(fp.fetchOffset), EPOCH) })) }],
        }
        // Nothing new: answer after a short wait, as a broker's maxWait would.
        if (partitions.length === 0) setTimeout(() => respond(res), Math.min(fetch.maxWaitMs, 50))
        else respond(res)
        return
      }
      case OffsetCommit.key: {
        const commit = body as OffsetCommitRequest
        return respond({
          ...OffsetCommit.newResponse(),
          topics: commit.topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.map((cp) => ({ partitionIndex: cp.partitionIndex, errorCode: commitError(cp.partitionIndex) })) })),
        })
      }
      default:
        throw new Error(`fake broker: unexpected ${req.api.name}`)
    }
  })
  return peer
}

const PROTOCOLS = [
  { name: 'classic', opts: { heartbeatInterval: 200 } },
  { name: 'KIP-848', opts: { groupProtocol: 'consumer' as const } },
]

/**
 * pollAll polls until every record of both partitions came, then once more: that poll says they are
 * processed, so autocommit (at-least-once by default) may take them.
 */
async function pollAll(c: Client): Promise<void> {
  let polled = 0
  await waitFor(async () => {
    polled += (await c.pollFetches({ signal: AbortSignal.timeout(500) })).numRecords()
    return polled === 2 * RECORDS
  }, 'every record')
  await c.pollFetches({ signal: AbortSignal.timeout(50) })
}

/** memberOf is the options of a group member of the scripted broker, with short waits. */
function memberOf(port: number, opts: Partial<ClientOptions<Client>>): ClientOptions<Client> {
  return { ...opts, seedBrokers: [`127.0.0.1:${port}`], consumeTopics: [TOPIC], consumerGroup: 'fake-group', metadataMinAge: 50, retryBackoff: 50, fetchMaxWait: 50 }
}

for (const { name, opts } of PROTOCOLS) {
  test(`${name}: a commit the coordinator refuses for one partition reaches autoCommitCallback as a typed per-partition error; a throwing callback does not stop the member`, { timeout: 30_000 }, async () => {
    const peer = await fakeGroupBroker((p) => (p === 1 ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : 0))
    const results: AutoCommitResult[] = []
    const logged: string[] = []
    const c = new Client({
      ...memberOf(peer.port, opts),
      autoCommitInterval: 50,
      logger: { level: () => LogLevel.Warn, log: (_level: LogLevel, msg: string) => void logged.push(msg) },
      autoCommitCallback: (r) => {
        results.push(r)
        // The first throws, the second rejects: both are logged, and autocommitting goes on.
        if (results.length === 1) throw new Error('callback threw')
        if (results.length === 2) return Promise.reject(new Error('callback rejected'))
      },
    })
    clients.push(c)
    await pollAll(c)
    // Partition 1 stays uncommitted, so each autocommit carries it again.
    const withP1 = () => results.filter((r) => r.offsets.get(TOPIC)?.has(1))
    await waitFor(() => withP1().length >= 3, 'three autocommits of the refused partition')
    const snapshot = [...results]
    const merged = new Map<number, { offset: bigint; leaderEpoch: number }>()
    for (const r of snapshot) for (const [p, eo] of r.offsets.get(TOPIC)!) merged.set(p, eo)
    assert.deepEqual(Object.fromEntries(merged), { 0: { offset: 3n, leaderEpoch: EPOCH }, 1: { offset: 3n, leaderEpoch: EPOCH } }, 'the offsets after the records polled')
    for (const r of snapshot) {
      if (!r.offsets.get(TOPIC)!.has(1)) {
        assert.equal(r.error, null, 'a commit of partition 0 alone succeeds')
        assert.deepEqual(r.partitionErrors, [])
        continue
      }
      assert.equal(r.partitionErrors.length, 1)
      const e = r.partitionErrors[0]!
      assert.ok(e instanceof KafkaProtocolError)
      assert.equal(e.code, 'TOPIC_AUTHORIZATION_FAILED')
      assert.equal(e.retriable, false)
      assert.equal(e.topic, TOPIC)
      assert.equal(e.partition, 1)
      assert.equal(r.error, e, 'error is the first partition error')
    }
    // What the coordinator was asked to commit is what the callback was told.
    const sent = peer.of<OffsetCommitRequest>(OffsetCommit).map((req) => req.topics.flatMap((t) => t.partitions.map((p) => `${p.partitionIndex}@${p.committedOffset}`)).sort().join(','))
    assert.deepEqual(sent.slice(0, snapshot.length), snapshot.map((r) => [...r.offsets.get(TOPIC)!].map(([p, eo]) => `${p}@${eo.offset}`).sort().join(',')))
    assert.ok(logged.filter((m) => m === 'autoCommitCallback threw').length >= 2, 'the throw and the rejection were logged')
    assert.ok(!logged.includes('autocommit failed'), 'the callback replaces the default log')
  })
}

for (const { name, opts } of PROTOCOLS) {
  test(`${name}: onOffsetsFetched that throws makes the member join again with its member id${name === 'KIP-848' ? ' at epoch 0, owning nothing' : ''}; the callback runs again and consuming starts`, { timeout: 30_000 }, async () => {
    const peer = await fakeGroupBroker(() => 0)
    let calls = 0
    const c = new Client({
      ...memberOf(peer.port, opts),
      onOffsetsFetched: () => {
        if (++calls === 1) throw new Error('not yet')
      },
    })
    clients.push(c)
    await pollAll(c)
    assert.equal(calls, 2)
    if (name === 'classic') {
      const joins = peer.of<JoinGroupRequest>(JoinGroup)
      assert.equal(joins.length, 2, 'one join per session')
      assert.equal(joins[0]!.memberId, '')
      assert.equal(joins[1]!.memberId, MEMBER, 'the rejoin keeps the member id')
    } else {
      const beats = peer.of<ConsumerGroupHeartbeatRequest>(ConsumerGroupHeartbeat)
      const joins = beats.filter((b) => b.memberEpoch === 0)
      assert.equal(joins.length, 2, 'one join (epoch 0) per session')
      assert.equal(joins[1]!.memberId, joins[0]!.memberId, 'the rejoin keeps the member id')
      assert.deepEqual(joins[1]!.topicPartitions, [], 'owning nothing')
    }
  })
}
