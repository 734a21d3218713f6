// KIP-951: a broker that is no longer a partition's leader names the new leader (and its address) in
// its produce (v10+) and fetch (v16+) answers. The client follows at once, without waiting for a
// metadata load, and a later load from a broker that has not heard of the move yet does not move the
// partition back (franz-go's kip951move and its epoch-rewind guard). Against two scripted brokers, with
// metadataMinAge and retryBackoff at a minute: a test ends in time only if neither is waited out.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Client, coreOf } from '../../src/client/client.js'
import type { ClientOptions } from '../../src/client/options.js'
import { MetadataCache, type ClusterMetadata, type TopicInfo } from '../../src/client/metadata.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { Fetch, newFetchResponsePartitionData, type FetchRequest } from '../../src/protocol/messages/fetch.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { ListOffsets, type ListOffsetsRequest } from '../../src/protocol/messages/list-offsets.js'
import { Produce, type ProduceRequest } from '../../src/protocol/messages/produce.js'
import { FakeCluster } from '../helpers/fake-cluster.js'
import { closePeers, keyedBatch, type FakePeer, type Received } from '../helpers/fake-peer.js'
import { waitFor } from './helpers.js'

const TOPIC = 'hinted'
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'
const { NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH } = ErrorCode

const clients: Client[] = []
after(async () => {
  for (const c of clients) await c.close()
  closePeers()
})

function client(cl: FakeCluster, opts: Partial<ClientOptions> = {}): Client {
  const c = new Client({ seedBrokers: [`127.0.0.1:${cl.peers[0]!.port}`], metadataMinAge: 60_000, metadataMaxAge: 60_000, retryBackoff: 60_000, ...opts })
  clients.push(c)
  return c
}

/** A hint is the currentLeader a partition's answer names, and the node endpoints the response lists. */
interface Hint {
  leaderId: number
  leaderEpoch: number
  endpoints: number[]
}

/** answerProduce answers every partition of a Produce request: written at offset `base`, or `code` with a hint. */
function answerProduce(cl: FakeCluster, req: Received, peer: FakePeer, code: number, hint: Hint | null, base = 0n): void {
  const body = req.body as ProduceRequest
  peer.respond(req, {
    ...Produce.newResponse(),
    nodeEndpoints: hint === null ? [] : hint.endpoints.map((n) => cl.endpoint(n)),
    responses: body.topicData.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitionResponses: t.partitionData.map((p) => ({
        index: p.index,
        errorCode: code,
        baseOffset: code === 0 ? base : -1n,
        logAppendTimeMs: -1n,
        logStartOffset: 0n,
        recordErrors: [],
        errorMessage: null,
        currentLeader: hint === null ? { leaderId: -1, leaderEpoch: -1 } : { leaderId: hint.leaderId, leaderEpoch: hint.leaderEpoch },
      })),
    })),
  })
}

/** producing scripts a one-partition cluster for an idempotent producer; `onProduce` answers each Produce. */
async function producing(onProduce: (node: number, req: Received, peer: FakePeer) => void): Promise<FakeCluster> {
  const cl = await new FakeCluster(TOPIC, TOPIC_ID).start()
  cl.leaders = [1]
  cl.answer = (node, req, peer) => {
    if (req.api.key === InitProducerId.key) peer.respond(req, { ...InitProducerId.newResponse(), producerId: 9n, producerEpoch: 0 })
    else if (req.api.key === Produce.key) onProduce(node, req, peer)
  }
  return cl
}

/** baseSequence reads the base sequence of the one record batch of a Produce request (batch byte 53). */
function baseSequence(req: ProduceRequest): number {
  return (req.topicData[0]!.partitionData[0]!.records as Buffer).readInt32BE(53)
}

test('produce: NOT_LEADER_OR_FOLLOWER naming the new leader sends the batch there at once, with the same sequence, and no metadata load', { timeout: 30_000 }, async () => {
  let loadsAtMove = -1
  const cl = await producing((node, req, peer) => {
    if (node === 1) {
      loadsAtMove = cl.metadataLoads
      return answerProduce(cl, req, peer, NOT_LEADER_OR_FOLLOWER, { leaderId: 2, leaderEpoch: 2, endpoints: [2] })
    }
    answerProduce(cl, req, peer, 0, null, 40n)
  })
  const c = client(cl)
  const r = await c.produce({ topic: TOPIC, value: 'v' })
  assert.deepEqual([r.partition, r.offset], [0, 40n], 'written by node 2')
  const to1 = cl.asked<ProduceRequest>(1, Produce)
  const to2 = cl.asked<ProduceRequest>(2, Produce)
  assert.equal(to1.length, 1, 'node 1 was asked once')
  assert.equal(to2.length, 1, 'node 2 took the batch on the first try')
  assert.deepEqual([baseSequence(to1[0]!), baseSequence(to2[0]!)], [0, 0], 'the same batch, the same sequence')
  assert.equal(cl.metadataLoads, loadsAtMove, 'no metadata load after the move')

  // A load from a broker that has not heard of the move (epoch 1 still names node 1) does not move it back.
  await coreOf(c).metadata.refresh(true)
  assert.equal(coreOf(c).leaderOf(TOPIC, 0), 2)
  const again = await c.produce({ topic: TOPIC, value: 'w' })
  assert.equal(again.offset, 40n)
  assert.equal(cl.asked(1, Produce).length, 1, 'node 1 was not asked again')
  assert.equal(cl.asked(2, Produce).length, 2)
})

test('produce: three requests in flight to the old leader, each answered with the new one: the batches reach it in order, with their sequences, once all three answered', { timeout: 30_000 }, async () => {
  const held: Array<() => void> = []
  let written = 0n
  const cl = await producing((node, req, peer) => {
    if (node === 2) {
      const n = BigInt((req.body as ProduceRequest).topicData[0]!.partitionData.length)
      answerProduce(cl, req, peer, 0, null, written)
      written += n
      return
    }
    // The old leader holds its answers until all three requests are in, then answers them in order.
    held.push(() => answerProduce(cl, req, peer, NOT_LEADER_OR_FOLLOWER, { leaderId: 2, leaderEpoch: 2, endpoints: [2] }))
    if (held.length === 3) for (const answer of held) answer()
  })
  const c = client(cl, { linger: 0 })
  const sends: Array<Promise<{ offset: bigint }>> = []
  for (let i = 0; i < 3; i++) {
    sends.push(c.produce({ topic: TOPIC, key: `k${i}`, value: 'v' }))
    await waitFor(() => cl.asked(1, Produce).length === i + 1, `request ${i + 1} at node 1`)
  }
  const offsets = (await Promise.all(sends)).map((r) => r.offset)
  assert.deepEqual(offsets, [0n, 1n, 2n], 'written in the order produced')
  assert.deepEqual(cl.asked<ProduceRequest>(1, Produce).map(baseSequence), [0, 1, 2], 'three requests to node 1')
  assert.deepEqual(cl.asked<ProduceRequest>(2, Produce).map(baseSequence), [0, 1, 2], 'each batch once at node 2, in sequence')
})

test('produce: a hint naming a broker the answer does not list is left to metadata, as any leader error', { timeout: 30_000 }, async () => {
  const cl = await producing((node, req, peer) => {
    if (node === 1) {
      // Node 3 is nowhere to be found; metadata now says node 2.
      cl.leaders = [2]
      cl.epoch = 2
      return answerProduce(cl, req, peer, NOT_LEADER_OR_FOLLOWER, { leaderId: 3, leaderEpoch: 2, endpoints: [2] })
    }
    answerProduce(cl, req, peer, 0, null, 7n)
  })
  const c = client(cl, { metadataMinAge: 10, retryBackoff: 20 })
  const r = await c.produce({ topic: TOPIC, value: 'v' })
  assert.equal(r.offset, 7n)
  assert.equal(coreOf(c).leaderOf(TOPIC, 0), 2, 'placed by metadata')
  assert.equal(coreOf(c).broker(3), undefined, 'no broker 3 was made up')
})

/** consuming scripts a one-partition cluster for a direct consumer from offset 0; `onFetch` answers each Fetch with data. */
async function consuming(onFetch: (node: number, req: FetchRequest, n: number) => object | null): Promise<FakeCluster> {
  const cl = await new FakeCluster(TOPIC, TOPIC_ID).start()
  cl.leaders = [1]
  const fetches = [0, 0, 0]
  cl.answer = (node, req, peer) => {
    if (req.api.key === ListOffsets.key) {
      const body = req.body as ListOffsetsRequest
      return peer.respond(req, { ...ListOffsets.newResponse(), topics: body.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1n, offset: 0n, leaderEpoch: 1, oldStyleOffsets: [] })) })) })
    }
    if (req.api.key !== Fetch.key) return
    const body = req.body as FetchRequest
    const answer = body.topics.length > 0 ? onFetch(node, body, fetches[node]!++) : null
    const send = () => {
      const { nodeEndpoints, ...partition } = (answer ?? {}) as { nodeEndpoints?: unknown[] }
      peer.respond(req, {
        ...Fetch.newResponse(),
        nodeEndpoints: nodeEndpoints ?? [],
        responses: answer === null ? [] : [{ topic: TOPIC, topicId: TOPIC_ID, partitions: [{ ...newFetchResponsePartitionData(), partitionIndex: 0, highWatermark: 100n, lastStableOffset: 100n, logStartOffset: 0n, ...partition }] }],
      })
    }
    if (answer === null) setTimeout(send, Math.min(body.maxWaitMs, 50))
    else send()
  }
  return cl
}

async function firstRecords(c: Client): Promise<string[]> {
  let got: string[] = []
  await waitFor(async () => {
    const f = await c.pollFetches({ signal: AbortSignal.timeout(5_000) })
    got = f.records().map((r) => r.key!.toString())
    return got.length > 0
  }, 'records')
  return got
}

test('fetch: NOT_LEADER_OR_FOLLOWER naming the new leader moves the partition there at once, in the named epoch, with no metadata load', { timeout: 30_000 }, async () => {
  let loadsAtMove = -1
  const cl = await consuming((node, req, n) => {
    const p = req.topics[0]!.partitions[0]!
    if (node === 1) {
      if (n > 0) return null
      loadsAtMove = cl.metadataLoads
      return { errorCode: NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: 2, leaderEpoch: 2 }, nodeEndpoints: [cl.endpoint(2)] }
    }
    return { records: keyedBatch(p.fetchOffset, 2, 2) }
  })
  const c = client(cl, { consumeTopics: [TOPIC], fetchMaxWait: 50 })
  assert.deepEqual(await firstRecords(c), ['r0', 'r1'])
  assert.equal(cl.asked<FetchRequest>(1, Fetch).filter((f) => f.topics.length > 0).length, 1, 'node 1 was asked once')
  const first = cl.asked<FetchRequest>(2, Fetch)[0]!.topics[0]!.partitions[0]!
  assert.deepEqual([first.fetchOffset, first.currentLeaderEpoch], [0n, 2], 'node 2 was asked from the same offset, in the named epoch')
  assert.equal(cl.metadataLoads, loadsAtMove, 'no metadata load after the move')
})

test('fetch: FENCED_LEADER_EPOCH naming the same leader in a newer epoch fetches again from it in that epoch, with no metadata load', { timeout: 30_000 }, async () => {
  let loadsAtMove = -1
  const cl = await consuming((node, req, n) => {
    const p = req.topics[0]!.partitions[0]!
    if (n === 0) {
      loadsAtMove = cl.metadataLoads
      return { errorCode: FENCED_LEADER_EPOCH, currentLeader: { leaderId: 1, leaderEpoch: 3 }, nodeEndpoints: [cl.endpoint(1)] }
    }
    return { records: keyedBatch(p.fetchOffset, 1, 3) }
  })
  const c = client(cl, { consumeTopics: [TOPIC], fetchMaxWait: 50 })
  assert.deepEqual(await firstRecords(c), ['r0'])
  const epochs = cl.asked<FetchRequest>(1, Fetch).filter((f) => f.topics.length > 0).map((f) => f.topics[0]!.partitions[0]!.currentLeaderEpoch)
  assert.deepEqual(epochs.slice(0, 2), [1, 3])
  assert.equal(cl.metadataLoads, loadsAtMove, 'no metadata load after the fence')
})

/** loaded is a metadata load naming `leader` in `epoch` for partition 0 of TOPIC (topic id `id`). */
function loaded(leader: number, epoch: number, id = TOPIC_ID): ClusterMetadata {
  const t: TopicInfo = { name: TOPIC, id, isInternal: false, errorCode: 0, loadedAt: Date.now(), partitions: [{ partition: 0, leader, leaderEpoch: epoch, replicas: [1, 2], isr: [1, 2], offline: [], errorCode: 0 }] }
  const brokers = new Map([1, 2].map((n) => [n, { nodeId: n, host: 'h', port: 9000 + n, rack: null }]))
  return { brokers, topics: new Map([[TOPIC, t]]), controllerId: 1, clusterId: 'c', loadedAt: Date.now() }
}

test('MetadataCache: moves apply over older epochs only, to brokers it knows or is told of; loads naming an older epoch are kept out five times in a row while they list the leader', async () => {
  let next = loaded(1, 5)
  // A minute of minAge: the loads kept out ask for another, which must not run within the test.
  const m = new MetadataCache(async () => next, { minAge: 60_000, maxAge: 60_000 })
  const seen: string[] = []
  m.onMove((moves) => seen.push(...moves.map((x) => `${x.partition}->${x.leader}@${x.leaderEpoch}`)))
  await m.refresh(true)
  const leader = () => [m.topics.get(TOPIC)!.partitions[0]!.leader, m.topics.get(TOPIC)!.partitions[0]!.leaderEpoch]

  assert.deepEqual(m.moveLeaders([{ topic: TOPIC, partition: 0, leader: 2, leaderEpoch: 4 }], []), [], 'an older epoch is ignored')
  assert.deepEqual(m.moveLeaders([{ topic: TOPIC, partition: 0, leader: 3, leaderEpoch: 6 }], []), [], 'an unknown broker is ignored')
  assert.deepEqual(m.moveLeaders([{ topic: TOPIC, partition: 7, leader: 2, leaderEpoch: 6 }, { topic: 'other', partition: 0, leader: 2, leaderEpoch: 6 }], []), [], 'unknown partitions and topics are ignored')
  assert.deepEqual(leader(), [1, 5])
  assert.equal(m.moveLeaders([{ topic: TOPIC, partition: 0, leader: 3, leaderEpoch: 6 }], [{ nodeId: 3, host: 'h', port: 9003, rack: null }]).length, 1, 'a broker the answer lists is added')
  assert.deepEqual(leader(), [3, 6])
  assert.deepEqual([...m.brokers.keys()].sort(), [1, 2, 3], 'and none is dropped')
  assert.deepEqual(seen, ['0->3@6'])

  // A load that no longer lists the leader the client knows is believed at once.
  await m.refresh(true)
  assert.deepEqual(leader(), [1, 5], 'node 3 is not in the load')

  // Five loads naming epoch 5 are not believed after a move to epoch 7; the sixth is.
  assert.equal(m.moveLeaders([{ topic: TOPIC, partition: 0, leader: 2, leaderEpoch: 7 }], []).length, 1)
  for (let i = 1; i <= 5; i++) {
    await m.refresh(true)
    assert.deepEqual(leader(), [2, 7], `load ${i} is behind`)
  }
  await m.refresh(true)
  assert.deepEqual(leader(), [1, 5], 'the sixth in a row is believed')

  // A topic created again under the same name starts its epochs over: believed at once.
  m.moveLeaders([{ topic: TOPIC, partition: 0, leader: 2, leaderEpoch: 9 }], [])
  next = loaded(1, 0, 'AAAAAAAAAAAAAAAAAAAAAg')
  await m.refresh(true)
  assert.deepEqual(leader(), [1, 0])
  m.close()
})
