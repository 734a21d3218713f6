// client.request for partition requests, against two scripted fake brokers sharing one view of the
// cluster: each partition's request goes to its leader, and when that leader moves (a partition answers
// NOT_LEADER_OR_FOLLOWER, or the broker hangs up) the partition is asked again of the new leader, as
// franz-go's sharded requests do. Produce answers are never asked again: they are the caller's.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Client, coreOf } from '../../src/client/client.js'
import { UnknownLeaderError } from '../../src/client/errors.js'
import { DeleteRecords, type DeleteRecordsRequest } from '../../src/protocol/messages/delete-records.js'
import { ListOffsets, type ListOffsetsRequest } from '../../src/protocol/messages/list-offsets.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Produce, type ProduceRequest } from '../../src/protocol/messages/produce.js'
import { FakeCluster } from '../helpers/fake-cluster.js'
import { FakePeer, closePeers, type Received } from '../helpers/fake-peer.js'

const TOPIC = 'moving'

const clients: Client[] = []
after(async () => {
  for (const c of clients) await c.close()
  closePeers()
})

function client(cl: FakeCluster, opts: { retryBackoff?: number; requestRetries?: number } = {}): Client {
  const c = new Client({ seedBrokers: [`127.0.0.1:${cl.peers[0]!.port}`], retryBackoff: 20, metadataMinAge: 10, ...opts })
  clients.push(c)
  return c
}

function listOffsets(partitions: number[]): ListOffsetsRequest {
  return { ...ListOffsets.newRequest(), replicaId: -1, topics: [{ name: TOPIC, partitions: partitions.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 })) }] }
}

/** answerListOffsets answers each partition with `code` (offset 100 + partition + 10 × node when 0). */
function answerListOffsets(node: number, req: Received, peer: FakePeer, code: (partition: number) => number): void {
  const body = req.body as ListOffsetsRequest
  peer.respond(req, {
    ...ListOffsets.newResponse(),
    topics: body.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code(p.partitionIndex), timestamp: -1n, offset: code(p.partitionIndex) === 0 ? BigInt(100 + p.partitionIndex + 10 * node) : -1n, leaderEpoch: 1, oldStyleOffsets: [] })) })),
  })
}

test('ListOffsets: a partition answering NOT_LEADER_OR_FOLLOWER is asked again of its new leader, the others are not asked twice', { timeout: 30_000 }, async () => {
  const cl = await new FakeCluster(TOPIC).start()
  cl.answer = (node, req, peer) => {
    if (req.api.key !== ListOffsets.key) return
    // Partition 1 moves from node 2 to node 1 as node 2 answers.
    answerListOffsets(node, req, peer, (p) => {
      if (node === 2 && p === 1) {
        cl.leaders = [1, 1]
        cl.epoch = 2
        return 6
      }
      return 0
    })
  }
  const c = client(cl)
  const res = await c.request(ListOffsets, listOffsets([0, 1]))
  const got = res.topics.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.offset]))
  assert.deepEqual(got.sort(), [[0, 0, 110n], [1, 0, 111n]], 'both answered, partition 1 by its new leader')
  assert.equal(res.topics.length, 1, 'one topic in the merged answer')
  const to1 = cl.asked<ListOffsetsRequest>(1, ListOffsets).map((r) => r.topics[0]!.partitions.map((p) => p.partitionIndex))
  const to2 = cl.asked<ListOffsetsRequest>(2, ListOffsets).map((r) => r.topics[0]!.partitions.map((p) => p.partitionIndex))
  assert.deepEqual(to2, [[1]], 'node 2 was asked once, for partition 1')
  assert.deepEqual(to1, [[0], [1]], 'node 1 was asked for partition 0, then for partition 1 alone')
})

test('DeleteRecords: a leader that hangs up is left for the new leader the metadata names', { timeout: 30_000 }, async () => {
  const cl = await new FakeCluster(TOPIC).start()
  cl.answer = (node, req, peer) => {
    if (req.api.key !== DeleteRecords.key) return
    if (node === 2) {
      // Node 2 dies for this partition: metadata now names node 1, and the connection drops.
      cl.leaders = [1, 1]
      req.socket.destroy()
      return
    }
    const body = req.body as DeleteRecordsRequest
    peer.respond(req, { ...DeleteRecords.newResponse(), topics: body.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, lowWatermark: p.offset, errorCode: 0 })) })) })
  }
  const c = client(cl)
  const req = { ...DeleteRecords.newRequest(), timeoutMs: 1000, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: 5n }, { partitionIndex: 1, offset: 7n }] }] }
  const res = await c.request(DeleteRecords, req)
  const got = res.topics.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark]))
  assert.deepEqual(got.sort(), [[0, 0, 5n], [1, 0, 7n]])
  const to1 = cl.asked<DeleteRecordsRequest>(1, DeleteRecords).map((r) => r.topics[0]!.partitions.map((p) => p.partitionIndex))
  assert.deepEqual(to1, [[0], [1]], 'partition 1 went to node 1 once node 2 hung up')
})

test('ListOffsets: a partition still answering NOT_LEADER_OR_FOLLOWER when the retries run out keeps that answer', { timeout: 30_000 }, async () => {
  const cl = await new FakeCluster(TOPIC).start()
  cl.answer = (node, req, peer) => {
    if (req.api.key === ListOffsets.key) answerListOffsets(node, req, peer, (p) => (p === 1 ? 6 : 0))
  }
  const c = client(cl, { requestRetries: 2 })
  const res = await c.request(ListOffsets, listOffsets([0, 1]))
  const got = res.topics.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode]))
  assert.deepEqual(got.sort(), [[0, 0], [1, 6]], 'the answer as the broker last gave it')
  assert.equal(cl.asked(2, ListOffsets).length, 3, 'asked once, then again for each of the 2 retries')
  assert.equal(cl.asked(1, ListOffsets).length, 1, 'the partition answered was not asked again')
})

test('a partition without a leader is asked once an election gives it one; a partition the topic lacks fails at once', { timeout: 30_000 }, async () => {
  const cl = await new FakeCluster(TOPIC).start()
  cl.leaders = [1, -1]
  let metadataLoads = 0
  cl.answer = (node, req, peer) => {
    if (req.api.key === ListOffsets.key) answerListOffsets(node, req, peer, () => 0)
  }
  for (const p of cl.peers) {
    const inner = p.handler
    p.handler = (req, peer) => {
      // The third metadata load (the client's first, the request's, then the retry's) sees the election's outcome.
      if (req.api.key === Metadata.key && ++metadataLoads >= 3) cl.leaders = [1, 2]
      inner(req, peer)
    }
  }
  const c = client(cl)
  const res = await c.request(ListOffsets, listOffsets([0, 1]))
  const got = res.topics.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.offset]))
  assert.deepEqual(got.sort(), [[0, 0, 110n], [1, 0, 121n]])
  await assert.rejects(c.request(ListOffsets, listOffsets([0, 5])), (err: unknown) => err instanceof UnknownLeaderError && err.partition === 5 && err.topic === TOPIC)
})

test('Produce answers are the caller’s: NOT_LEADER_OR_FOLLOWER comes back, and the batch is not sent again', { timeout: 30_000 }, async () => {
  const cl = await new FakeCluster(TOPIC).start()
  cl.leaders = [1, 1]
  cl.answer = (_node, req, peer) => {
    if (req.api.key !== Produce.key) return
    const body = req.body as ProduceRequest
    peer.respond(req, { ...Produce.newResponse(), responses: body.topicData.map((t) => ({ name: t.name, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode: 6, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } })) })) })
  }
  const c = client(cl)
  const req = { ...Produce.newRequest(), acks: 1, timeoutMs: 1000, topicData: [{ name: TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionData: [{ index: 0, records: null }] }] }
  const res = await c.request(Produce, req as never)
  assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 6)
  assert.equal(cl.asked(1, Produce).length, 1, 'sent once')
})

test('askAgain false (the consumer’s offset lookups): a moved partition comes back after one round, a partition without a leader fails at once', { timeout: 30_000 }, async () => {
  const cl = await new FakeCluster(TOPIC).start()
  cl.answer = (node, req, peer) => {
    if (req.api.key === ListOffsets.key) answerListOffsets(node, req, peer, (p) => (p === 1 ? 6 : 0))
  }
  const core = coreOf(client(cl))
  const res = await core.request(ListOffsets, listOffsets([0, 1]), { askAgain: false })
  const got = res.topics.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode]))
  assert.deepEqual(got.sort(), [[0, 0], [1, 6]])
  assert.equal(cl.asked(2, ListOffsets).length, 1, 'not asked again')
  cl.leaders = [1, -1]
  await core.metadata.refresh(true)
  await assert.rejects(core.request(ListOffsets, listOffsets([0, 1]), { askAgain: false }), (err: unknown) => err instanceof UnknownLeaderError && err.partition === 1)
  assert.equal(cl.asked(1, ListOffsets).length, 1, 'nothing sent for a call that failed at once')
})
