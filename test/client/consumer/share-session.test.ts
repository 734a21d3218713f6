// A share-group member against a scripted broker: what goes on the wire in the share session
// (epochs, acknowledgement batches, gaps, forgotten partitions), and what happens to acknowledgements
// when the session ends under them (an error answer, a lost connection). The real-broker behaviour
// (delivery, redelivery, two members) is in share-group.test.ts.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Client } from '../../../src/client/client.js'
import type { ClientOptions } from '../../../src/client/options.js'
import type { ShareAckResult } from '../../../src/client/types.js'
import type { Record } from '../../../src/protocol/record.js'
import { ErrorCode } from '../../../src/protocol/error-codes.js'
import { KafkaProtocolError, ProtocolDecodeError } from '../../../src/protocol/errors.js'
import { CorruptRecordBatchError, encodeRecordBatchBuffer } from '../../../src/protocol/records.js'
import { FindCoordinator, newFindCoordinatorResponseCoordinator } from '../../../src/protocol/messages/find-coordinator.js'
import { ShareAcknowledge, type ShareAcknowledgeRequest } from '../../../src/protocol/messages/share-acknowledge.js'
import { ShareFetch, type ShareFetchRequest } from '../../../src/protocol/messages/share-fetch.js'
import { ShareGroupHeartbeat, type ShareGroupHeartbeatRequest } from '../../../src/protocol/messages/share-group-heartbeat.js'
import { FakeCluster } from '../../helpers/fake-cluster.js'
import { closePeers, keyedBatch, ourVersions, type FakePeer, type Received } from '../../helpers/fake-peer.js'
import { waitFor } from '../helpers.js'

const TOPIC = 'shared'
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'
const GROUP = 'sg'

const clients: Client[] = []
after(async () => {
  for (const c of clients) await c.close()
  closePeers()
})

/** Acked is one acknowledged offset range as a request carried it: [first, last, type]. */
type Acked = [number, number, number]

/**
 * Broker scripts a one-partition share group on node 1: the coordinator assigns partition 0, and
 * `onFetch` answers each ShareFetch (n counts them) with records or an error. Every acknowledgement
 * batch sent (in ShareFetch or ShareAcknowledge) is collected in `acked`, with the epoch it was sent in.
 */
class Broker {
  cl!: FakeCluster
  fetches: ShareFetchRequest[] = []
  acks: ShareAcknowledgeRequest[] = []
  heartbeats: ShareGroupHeartbeatRequest[] = []
  acked: Array<{ epoch: number; via: 'fetch' | 'ack'; batches: Acked[] }> = []
  onFetch: (req: ShareFetchRequest, n: number, received: Received, peer: FakePeer) => object | 'hang' | null = () => null
  onAck: (req: ShareAcknowledgeRequest) => number | Promise<number> = () => 0

  async start(): Promise<this> {
    this.cl = await new FakeCluster(TOPIC, TOPIC_ID).start()
    this.cl.leaders = [1]
    this.cl.answer = (_node, req, peer) => this.#answer(req, peer)
    return this
  }

  #answer(req: Received, peer: FakePeer): void {
    if (req.api.key === FindCoordinator.key) {
      const keys: string[] = req.body.coordinatorKeys
      return peer.respond(req, { ...FindCoordinator.newResponse(), coordinators: keys.map((key) => ({ ...newFindCoordinatorResponseCoordinator(), key, nodeId: 1, host: '127.0.0.1', port: peer.port })) })
    }
    if (req.api.key === ShareGroupHeartbeat.key) {
      const body = req.body as ShareGroupHeartbeatRequest
      this.heartbeats.push(body)
      const leaving = body.memberEpoch === -1
      return peer.respond(req, { ...ShareGroupHeartbeat.newResponse(), memberId: body.memberId, memberEpoch: leaving ? -1 : 1, heartbeatIntervalMs: 100, assignment: body.memberEpoch === 0 ? { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0] }] } : null })
    }
    if (req.api.key === ShareAcknowledge.key) {
      const body = req.body as ShareAcknowledgeRequest
      this.acks.push(body)
      this.#collect(body.shareSessionEpoch, 'ack', body.topics)
      void Promise.resolve(this.onAck(body)).then((code) =>
        peer.respond(req, { ...ShareAcknowledge.newResponse(), responses: body.topics.map((t) => ({ topicId: t.topicId, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code, errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } })) })) }),
      )
      return
    }
    if (req.api.key !== ShareFetch.key) return
    const body = req.body as ShareFetchRequest
    const n = this.fetches.length
    this.fetches.push(body)
    this.#collect(body.shareSessionEpoch, 'fetch', body.topics)
    const answer = this.onFetch(body, n, req, peer)
    if (answer === 'hang') return
    if (answer === null) setTimeout(() => this.respondFetch(req, peer, null), Math.min(body.maxWaitMs, 50))
    else this.respondFetch(req, peer, answer)
  }

  /**
   * respondFetch answers a ShareFetch: partition 0 with `answer`'s fields (records, acquiredRecords, …),
   * a top-level errorCode, partition 0's errorCode when `answer` has `partition: 0` too, or nothing new.
   */
  respondFetch(req: Received, peer: FakePeer, answer: object | null): void {
    const body = req.body as ShareFetchRequest
    const { errorCode, partition: partitionError, ...partition } = (answer ?? {}) as { errorCode?: number; partition?: number }
    if (errorCode !== undefined && errorCode !== 0 && partitionError === undefined) {
      return peer.respond(req, { ...ShareFetch.newResponse(), errorCode })
    }
    const acked = body.topics.flatMap((t) => t.partitions).some((p) => p.acknowledgementBatches.length > 0)
    const partitions = answer === null ? (acked ? [{ partitionIndex: 0 }] : []) : [{ partitionIndex: 0, ...partition, ...(partitionError !== undefined ? { errorCode } : {}) }]
    peer.respond(req, {
      ...ShareFetch.newResponse(),
      acquisitionLockTimeoutMs: 30_000,
      responses: partitions.length === 0 ? [] : [{ topicId: TOPIC_ID, partitions: partitions.map((p) => ({ errorCode: 0, errorMessage: null, acknowledgeErrorCode: 0, acknowledgeErrorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 }, records: Buffer.alloc(0), acquiredRecords: [], ...p })) }],
    })
  }

  #collect(epoch: number, via: 'fetch' | 'ack', topics: Array<{ partitions: Array<{ acknowledgementBatches: Array<{ firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }> }> }>): void {
    const batches: Acked[] = []
    for (const t of topics) for (const p of t.partitions) for (const b of p.acknowledgementBatches) batches.push([Number(b.firstOffset), Number(b.lastOffset), b.acknowledgeTypes[0]!])
    if (batches.length > 0) this.acked.push({ epoch, via, batches })
  }

  /** ackedTypes maps every acknowledged offset to its type, across all requests. */
  ackedTypes(): Map<number, number> {
    const m = new Map<number, number>()
    for (const a of this.acked) for (const [first, last, type] of a.batches) for (let o = first; o <= last; o++) m.set(o, type)
    return m
  }
}

function member(b: Broker, opts: Partial<ClientOptions> = {}, results: ShareAckResult[] = []): Client {
  const c = new Client({ seedBrokers: [`127.0.0.1:${b.cl.peers[0]!.port}`], shareGroup: GROUP, consumeTopics: [TOPIC], fetchMaxWait: 200, retryBackoff: 50, shareAckCallback: (r) => results.push(...r), ...opts })
  clients.push(c)
  return c
}

/** firstRecords polls until a poll hands out records, and returns that poll's records (those markAcks applies to). */
async function firstRecords(c: Client): Promise<Record[]> {
  let got: Record[] = []
  await waitFor(async () => {
    got = (await c.pollFetches({ signal: AbortSignal.timeout(2_000) })).records()
    return got.length > 0
  }, 'records', 10_000)
  return got
}

async function pollSome(c: Client): Promise<Array<{ key: string; offset: bigint; deliveryCount: number | undefined }>> {
  return (await firstRecords(c)).map((r) => ({ key: r.key!.toString(), offset: r.offset, deliveryCount: r.deliveryCount }))
}

test('only acquired records are handed out, with their delivery counts; acquired offsets without a record are acknowledged as gaps at once', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  // Offsets 0-9 come back; 2-4 and 7 were acquired (7 twice before), 5 is acquired but has no record
  // (compacted away): it must be acknowledged as a gap (type 0) without waiting for the application.
  b.onFetch = (_req, n) => (n === 0 ? { records: keyedBatch(0n, 5, 1), acquiredRecords: [{ firstOffset: 2n, lastOffset: 5n, deliveryCount: 1 }, { firstOffset: 7n, lastOffset: 7n, deliveryCount: 3 }] } : null)
  // keyedBatch(0, 5) holds offsets 0-4 only: 7 has no record either, so it is a gap too.
  const c = member(b)
  const got = await pollSome(c)
  assert.deepEqual(got.map((r) => [r.offset, r.deliveryCount]), [[2n, 1], [3n, 1], [4n, 1]])
  await waitFor(() => b.ackedTypes().get(5) === 0 && b.ackedTypes().get(7) === 0, 'the gaps at 5 and 7 to be acknowledged')
  assert.deepEqual([...b.ackedTypes()].sort((x, y) => x[0] - y[0]), [[5, 0], [7, 0]], 'nothing but the gaps is acknowledged before the application marks or polls again')
  assert.equal(b.fetches[0]!.shareSessionEpoch, 0, 'the first fetch opens the session')
  assert.ok(b.acked.every((a) => a.epoch > 0), 'acknowledgements never go in the request that opens a session')
})

test('marks ride on the next fetch in one batch per run; the next poll accepts what was left unmarked', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  b.onFetch = (_req, n) => (n === 0 ? { records: keyedBatch(0n, 6, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 5n, deliveryCount: 1 }] } : null)
  const results: ShareAckResult[] = []
  const c = member(b, {}, results)
  const got = await pollSome(c)
  assert.equal(got.length, 6)
  const marked = b.fetches.length
  // Nothing is sent for them before the next poll or flushAcks.
  assert.equal(b.ackedTypes().size, 0)
  // A second poll (it returns nothing new within its signal) accepts all six at once.
  const f = await c.pollFetches({ signal: AbortSignal.timeout(300) })
  assert.equal(f.numRecords(), 0)
  await waitFor(() => b.ackedTypes().size === 6, 'the six records to be acknowledged')
  assert.deepEqual([...b.ackedTypes().values()], [1, 1, 1, 1, 1, 1])
  const sent = b.acked.filter((a) => a.batches.length > 0)
  assert.deepEqual(sent.flatMap((a) => a.batches), [[0, 5, 1]], 'one batch for the run of six')
  assert.equal(sent[0]!.via, 'fetch', 'it rode on the next fetch')
  assert.ok(b.fetches.length > marked)
  await waitFor(() => results.length > 0, 'the answer to reach shareAckCallback')
  assert.deepEqual(results.map((r) => [r.topic, r.partition, r.records, r.error]), [[TOPIC, 0, 6, null]])
})

test('markAcks: release and reject single records, accept the rest; flushAcks resolves once the broker answered', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  b.onFetch = (_req, n) => (n === 0 ? { records: keyedBatch(0n, 5, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 4n, deliveryCount: 1 }] } : null)
  const results: ShareAckResult[] = []
  const c = member(b, {}, results)
  const records = await firstRecords(c)
  c.markAcks('release', records[1]!)
  c.markAcks('reject', records[3]!)
  c.markAcks('release', records[3]!) // a record keeps its first mark
  c.markAcks('accept')
  await c.flushAcks()
  assert.deepEqual([...b.ackedTypes()].sort((x, y) => x[0] - y[0]), [[0, 1], [1, 2], [2, 1], [3, 3], [4, 1]])
  assert.equal(results.reduce((n, r) => n + r.records, 0), 5, 'flushAcks resolved after the answers reached shareAckCallback')
  assert.ok(results.every((r) => r.error === null))
  assert.throws(() => c.markAcks('bogus' as 'accept'), (e: Error) => e.name === 'InvalidArgumentError')
})

test('a session the broker no longer knows takes its acknowledgements with it: reported failed, and the next fetch opens a new session', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  let lost = false
  b.onFetch = (req, n) => {
    if (n === 0) return { records: keyedBatch(0n, 3, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 2n, deliveryCount: 1 }] }
    // The fetch carrying the acknowledgements meets a broker that lost the session.
    if (!lost && req.topics.some((t) => t.partitions.some((p) => p.acknowledgementBatches.length > 0))) {
      lost = true
      return { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND }
    }
    return null
  }
  const results: ShareAckResult[] = []
  const c = member(b, {}, results)
  await pollSome(c)
  c.markAcks('accept')
  await c.pollFetches({ signal: AbortSignal.timeout(300) })
  await waitFor(() => results.length > 0, 'the acknowledgements to be reported')
  assert.equal(results[0]!.records, 3)
  assert.equal((results[0]!.error as { errorCode?: number } | null)?.errorCode, ErrorCode.SHARE_SESSION_NOT_FOUND)
  await waitFor(() => b.fetches.slice(2).some((f) => f.shareSessionEpoch === 0), 'a fetch opening a new session')
  const reopened = b.fetches.findIndex((f, i) => i >= 2 && f.shareSessionEpoch === 0)
  assert.deepEqual(b.fetches[reopened]!.topics.map((t) => t.partitions.map((p) => [p.partitionIndex, p.acknowledgementBatches.length])), [[[0, 0]]], 'the new session names the partition again and carries no acknowledgement')
})

test('a connection lost under a fetch carrying acknowledgements: their fate is reported unknown, the session starts over', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  let dropped = false
  b.onFetch = (req, n, received) => {
    if (n === 0) return { records: keyedBatch(0n, 2, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 1n, deliveryCount: 1 }] }
    if (!dropped && req.topics.some((t) => t.partitions.some((p) => p.acknowledgementBatches.length > 0))) {
      dropped = true
      received.socket.destroy()
      return 'hang'
    }
    return null
  }
  const results: ShareAckResult[] = []
  const c = member(b, {}, results)
  await pollSome(c)
  await c.pollFetches({ signal: AbortSignal.timeout(300) })
  await waitFor(() => results.length > 0, 'the acknowledgements to be reported')
  assert.equal(results[0]!.records, 2)
  assert.ok(results[0]!.error !== null, 'not reported applied')
  assert.equal(results[0]!.error!.retriable, true)
  await waitFor(() => b.fetches.slice(2).some((f) => f.shareSessionEpoch === 0), 'a fetch opening a new session')
})

test('close releases the unmarked records of the last poll and those never polled, closes the session (epoch -1) and leaves the group', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  // Two fetches' worth: the first is polled with pollRecords(2) (3 stay buffered, never polled).
  b.onFetch = (_req, n) => (n === 0 ? { records: keyedBatch(0n, 5, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 4n, deliveryCount: 1 }] } : null)
  const c = member(b)
  let got = 0
  await waitFor(async () => {
    got += (await c.pollRecords(2, { signal: AbortSignal.timeout(2_000) })).numRecords()
    return got > 0
  }, 'records')
  assert.equal(got, 2)
  await c.close()
  const final = b.acks.filter((a) => a.shareSessionEpoch === -1)
  assert.equal(final.length, 1, 'the session was closed once')
  assert.deepEqual([...b.ackedTypes()].sort((x, y) => x[0] - y[0]), [[0, 2], [1, 2], [2, 2], [3, 2], [4, 2]], 'all five released: two polled and unmarked, three never polled')
  assert.ok(b.heartbeats.some((h) => h.memberEpoch === -1), 'the member left the group')
})

test('close waits for a fetch parked on the broker, and releases what it acquired in the session\'s close (records are not left locked)', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  let parked: { req: Received; peer: FakePeer } | null = null
  b.onFetch = (_req, n, received, peer) => {
    if (n === 0) return { records: keyedBatch(0n, 2, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 1n, deliveryCount: 1 }] }
    if (n === 1) {
      parked = { req: received, peer }
      return 'hang'
    }
    return null
  }
  const c = member(b, { fetchMaxWait: 10_000 })
  await pollSome(c)
  c.markAcks('accept')
  await waitFor(() => parked !== null, 'the next fetch to park on the broker')
  const closing = c.close()
  // Records arrive while the member closes: the parked fetch acquires offsets 2-4 for it.
  await new Promise((r) => setTimeout(r, 50))
  b.respondFetch(parked!.req, parked!.peer, { records: keyedBatch(2n, 3, 1), acquiredRecords: [{ firstOffset: 2n, lastOffset: 4n, deliveryCount: 1 }] })
  await closing
  const final = b.acks.filter((a) => a.shareSessionEpoch === -1)
  assert.equal(final.length, 1, 'the session was closed once, after the parked fetch answered')
  assert.deepEqual([...b.ackedTypes()].sort((x, y) => x[0] - y[0]), [[0, 1], [1, 1], [2, 2], [3, 2], [4, 2]], 'the two polled and marked accepted; the three the parked fetch acquired released')
})

test('renew goes at once, alone, as a renewal; a final mark made meanwhile waits for its answer; the next poll accepts renewed records left unmarked', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  b.onFetch = (_req, n) => (n === 0 ? { records: keyedBatch(0n, 3, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 2n, deliveryCount: 1 }] } : null)
  let answer!: () => void
  const held = new Promise<number>((resolve) => (answer = () => resolve(0)))
  b.onAck = (req) => (req.isRenewAck ? held : 0)
  const results: ShareAckResult[] = []
  const c = member(b, {}, results)
  const records = await firstRecords(c)
  assert.equal(records.length, 3)
  c.markAcks('renew', records[0]!, records[1]!)
  await waitFor(() => b.acks.length === 1, 'the renewal to be sent')
  assert.equal(b.acks[0]!.isRenewAck, true)
  assert.deepEqual(b.acked.map((a) => [a.via, a.batches]), [['ack', [[0, 1, 4]]]], 'one renewal batch, in a ShareAcknowledge')
  // While the renewal is unanswered: a second renewal of the same records is left out, and a final
  // mark waits (the broker must not see an offset twice in flight).
  c.markAcks('renew', records[0]!)
  c.markAcks('reject', records[0]!)
  const flushed = c.flushAcks()
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(b.acks.length, 1, 'nothing else went while the renewal was unanswered')
  answer()
  await flushed
  assert.deepEqual(b.acked.map((a) => [a.via, a.batches]), [['ack', [[0, 1, 4]]], ['ack', [[0, 0, 3]]]], 'the reject went after the renewal\'s answer')
  assert.deepEqual(results.map((r) => [r.records, r.renewed, r.error]), [[2, 2, null], [1, 0, null]])
  // Renewed records are not marked by it: the next poll accepts records 1 and 2; 0 stays rejected.
  await c.pollFetches({ signal: AbortSignal.timeout(300) })
  await waitFor(() => b.ackedTypes().get(2) === 1, 'the next poll to accept what was left unmarked')
  assert.deepEqual([...b.ackedTypes()].sort((x, y) => x[0] - y[0]), [[0, 3], [1, 1], [2, 1]])
  assert.ok(b.acked.filter((a) => a.batches.some((x) => x[2] === 4)).every((a) => a.via === 'ack'), 'renewals never ride on a fetch')
})

test('close after a renewal: what the renewal held back is released with the session\'s close, whether the renewal was answered or never sent', { timeout: 30_000 }, async () => {
  for (const when of ['answered during close', 'queued behind a parked fetch'] as const) {
    const b = await new Broker().start()
    let parked: { req: Received; peer: FakePeer } | null = null
    b.onFetch = (_req, n, received, peer) => {
      if (n === 0) return { records: keyedBatch(0n, 2, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 1n, deliveryCount: 1 }] }
      if (when === 'queued behind a parked fetch' && n === 1) {
        parked = { req: received, peer }
        return 'hang'
      }
      return null
    }
    let answer!: () => void
    const held = new Promise<number>((resolve) => (answer = () => resolve(0)))
    b.onAck = (req) => (req.isRenewAck ? held : 0)
    const c = member(b, { fetchMaxWait: when === 'queued behind a parked fetch' ? 10_000 : 200 })
    await pollSome(c)
    if (when === 'queued behind a parked fetch') await waitFor(() => parked !== null, 'the next fetch to park on the broker')
    c.markAcks('renew')
    if (when === 'answered during close') await waitFor(() => b.acks.length === 1, 'the renewal to be sent')
    const closing = c.close()
    await new Promise((r) => setTimeout(r, 50))
    const p = parked as { req: Received; peer: FakePeer } | null
    if (p !== null) b.respondFetch(p.req, p.peer, null)
    answer()
    await closing
    const final = b.acks.filter((a) => a.shareSessionEpoch === -1)
    assert.equal(final.length, 1, when)
    assert.deepEqual(final[0]!.topics.flatMap((t) => t.partitions.flatMap((p) => p.acknowledgementBatches.map((x) => [Number(x.firstOffset), Number(x.lastOffset), x.acknowledgeTypes[0]]))), [[0, 1, 2]], `${when}: both released in the close`)
    assert.equal(b.acks.filter((a) => a.isRenewAck).length, when === 'answered during close' ? 1 : 0, `${when}: a renewal not sent before close is not sent`)
  }
})

test('a broker before Kafka 4.2: renew throws UnsupportedVersionError and changes nothing; shareMaxRecordsStrict reaches polls as UnsupportedVersionError; on 4.2 it asks for the record-limit mode', { timeout: 30_000 }, async () => {
  const v1 = ourVersions.map((v) => (v.apiKey === ShareFetch.key || v.apiKey === ShareAcknowledge.key ? { ...v, maxVersion: 1 } : v))
  const old = await new Broker().start()
  old.cl.peers[0]!.apiVersions = v1
  old.onFetch = (_req, n) => (n === 0 ? { records: keyedBatch(0n, 2, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 1n, deliveryCount: 1 }] } : null)
  const c = member(old)
  const records = await firstRecords(c)
  assert.throws(() => c.markAcks('renew', records[0]!), (e: Error) => e.name === 'UnsupportedVersionError' && /Kafka 4\.2/.test(e.message) && (e as { broker?: number }).broker === 1)
  c.markAcks('release', records[0]!)
  await c.flushAcks()
  assert.deepEqual([...old.ackedTypes()], [[0, 2]], 'the record took the release: the refused renewal left no mark')
  assert.equal(old.fetches[0]!.shareAcquireMode, 0)

  const oldStrict = await new Broker().start()
  oldStrict.cl.peers[0]!.apiVersions = v1
  const s = member(oldStrict, { shareMaxRecordsStrict: true })
  let err: Error | null = null
  await waitFor(async () => {
    err = (await s.pollFetches({ signal: AbortSignal.timeout(1_000) })).errors()[0]?.error ?? null
    return err !== null
  }, 'the error to reach a poll')
  assert.ok(err!.name === 'UnsupportedVersionError' && /shareMaxRecordsStrict/.test(err!.message), String(err))
  assert.equal(oldStrict.fetches.length, 0, 'no fetch went without the record limit')

  const current = await new Broker().start()
  const strict = member(current, { shareMaxRecordsStrict: true, shareMaxRecords: 7 })
  await strict.pollFetches({ signal: AbortSignal.timeout(300) })
  await waitFor(() => current.fetches.length > 0, 'a fetch')
  assert.deepEqual([current.fetches[0]!.shareAcquireMode, current.fetches[0]!.maxRecords], [1, 7])
})

test('pause: what was fetched and not polled is released at once and never polled, the paused partition is not fetched; resume fetches it again', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  b.onFetch = (_req, n) => {
    if (n === 0) return { records: keyedBatch(0n, 3, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 2n, deliveryCount: 1 }] }
    if (n === 1) return { records: keyedBatch(0n, 3, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 2n, deliveryCount: 2 }] }
    return null
  }
  const c = member(b)
  // Nothing is polled: the fetch's records wait in the buffer.
  await waitFor(() => c.bufferedFetchRecords === 3, 'the first fetch to be buffered')
  c.pauseFetchTopics(TOPIC)
  assert.equal(c.bufferedFetchRecords, 0, 'dropped from the buffer at once')
  await waitFor(() => b.ackedTypes().size === 3, 'the three to be released')
  assert.deepEqual([...b.ackedTypes()], [[0, 2], [1, 2], [2, 2]])
  const whilePaused = await c.pollFetches({ signal: AbortSignal.timeout(400) })
  assert.equal(whilePaused.numRecords(), 0, 'nothing of the paused topic is polled')
  assert.equal(b.fetches.length, 1, 'the paused partition was not fetched')
  c.resumeFetchTopics(TOPIC)
  const got = await pollSome(c)
  assert.deepEqual(got.map((r) => [r.offset, r.deliveryCount]), [[0n, 2], [1n, 2], [2n, 2]], 'fetched again after resume (the broker hands them out again)')

  // A fetch on its way when the partition is paused: what it brings is released, never polled.
  const b2 = await new Broker().start()
  let parked: { req: Received; peer: FakePeer } | null = null
  b2.onFetch = (_req, n, received, peer) => {
    if (n === 0) {
      parked = { req: received, peer }
      return 'hang'
    }
    return null
  }
  const c2 = member(b2, { fetchMaxWait: 10_000 })
  await waitFor(() => parked !== null, 'the first fetch to park on the broker')
  c2.pauseFetchPartitions({ [TOPIC]: [0] })
  const p = parked as { req: Received; peer: FakePeer } | null
  b2.respondFetch(p!.req, p!.peer, { records: keyedBatch(0n, 2, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 1n, deliveryCount: 1 }] })
  await waitFor(() => b2.ackedTypes().size === 2, 'the two to be released')
  assert.deepEqual([...b2.ackedTypes()], [[0, 2], [1, 2]])
  assert.equal((await c2.pollFetches({ signal: AbortSignal.timeout(300) })).numRecords(), 0)
})

test('a share member of a topic metadata lacks gets UNKNOWN_TOPIC_OR_PARTITION for it in a poll, as any consumer does', { timeout: 30_000 }, async () => {
  const b = await new Broker().start()
  const c = member(b, { consumeTopics: ['absent'], unknownTopicRetries: 1, metadataMinAge: 20 })
  let err: { topic: string; error: Error } | undefined
  await waitFor(async () => {
    err = (await c.pollFetches({ signal: AbortSignal.timeout(500) })).errors().find((e) => e.topic === 'absent')
    return err !== undefined
  }, 'the missing topic to be reported')
  assert.ok(err!.error instanceof KafkaProtocolError && err!.error.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, String(err!.error))
  assert.match(err!.error.message, /topic absent does not exist/)
})

/** txnBatches is a transaction of producer 7 on the wire: data records t0, t1 at offsets 0 and 1, then its commit marker at 2. */
function txnBatches(): Buffer {
  const txn = { producerId: 7n, producerEpoch: 0, isTransactional: true, compression: 0 as const }
  const data = encodeRecordBatchBuffer({ ...txn, baseOffset: 0n, baseSequence: 0, records: [{ key: 't0', value: 'v', timestamp: 1 }, { key: 't1', value: 'v', timestamp: 1 }] })
  // A control record: key = version 0, type 1 (commit); value = version 0, coordinator epoch 3.
  const marker = encodeRecordBatchBuffer({ ...txn, baseOffset: 2n, baseSequence: -1, isControl: true, records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 3]), timestamp: 2 }] })
  return Buffer.concat([data, marker])
}

test('keepControlRecords: a control record among the acquired offsets is acknowledged as a gap by default, and handed out (and accepted) with the option', { timeout: 30_000 }, async () => {
  for (const keep of [false, true]) {
    const b = await new Broker().start()
    b.onFetch = (_req, n) => (n === 0 ? { records: txnBatches(), acquiredRecords: [{ firstOffset: 0n, lastOffset: 2n, deliveryCount: 1 }] } : null)
    const c = member(b, keep ? { keepControlRecords: true } : {})
    const got = await firstRecords(c)
    if (!keep) {
      assert.deepEqual(got.map((r) => [r.offset, r.key!.toString(), r.control]), [[0n, 't0', undefined], [1n, 't1', undefined]])
      await waitFor(() => b.ackedTypes().get(2) === 0, 'the marker at 2 to be acknowledged as a gap')
    } else {
      assert.deepEqual(got.map((r) => [r.offset, r.control]), [[0n, undefined], [1n, undefined], [2n, { type: 'commit', coordinatorEpoch: 3 }]])
      assert.equal(got[2]!.deliveryCount, 1)
      assert.deepEqual([...got[2]!.key!], [0, 0, 0, 1], 'the marker\'s raw key')
      assert.equal(b.ackedTypes().size, 0, 'nothing is acknowledged as a gap')
    }
    // The next poll accepts what the application polled.
    await c.pollFetches({ signal: AbortSignal.timeout(300) })
    await waitFor(() => b.ackedTypes().size === 3, 'all three offsets to be acknowledged')
    assert.deepEqual([...b.ackedTypes()].sort((x, y) => x[0] - y[0]), [[0, 1], [1, 1], [2, keep ? 1 : 0]])
  }
})

test('disableFetchCRCValidation: a batch whose CRC does not match is reported and its offsets released by default, and handed out with the option', { timeout: 30_000 }, async () => {
  for (const lax of [false, true]) {
    const b = await new Broker().start()
    const bad = keyedBatch(0n, 3, 1)
    bad[bad.length - 2]! ^= 0xff // r2's value byte
    b.onFetch = (_req, n) => (n === 0 ? { records: bad, acquiredRecords: [{ firstOffset: 0n, lastOffset: 2n, deliveryCount: 1 }] } : null)
    const c = member(b, lax ? { disableFetchCRCValidation: true } : {})
    let f = await c.pollFetches({ signal: AbortSignal.timeout(5_000) })
    if (!lax) {
      assert.equal(f.numRecords(), 0)
      const err = f.errors()[0]?.error
      assert.ok(err instanceof CorruptRecordBatchError && err instanceof ProtocolDecodeError, `a CorruptRecordBatchError, got ${err}`)
      assert.match(err.message, /CRC-32C mismatch/)
      await waitFor(() => b.ackedTypes().size === 3, 'the three offsets to be released')
      assert.deepEqual([...b.ackedTypes().values()], [2, 2, 2], 'released, for the broker to hand out again')
    } else {
      while (f.numRecords() === 0 && f.errors().length === 0) f = await c.pollFetches({ signal: AbortSignal.timeout(5_000) })
      assert.deepEqual(f.errors(), [])
      assert.deepEqual(f.records().map((r) => [r.offset, r.value![0]]), [[0n, 0x76], [1n, 0x76], [2n, 0x76 ^ 0xff]])
    }
  }
})

test('share-group options and operations fail with typed errors', async () => {
  const seed = ['127.0.0.1:1']
  assert.throws(() => new Client({ seedBrokers: seed, shareGroup: 'g', consumeTopics: ['t'], consumerGroup: 'g' }), (e: Error) => e.name === 'InvalidOptionError' && /consumerGroup/.test(e.message))
  assert.throws(() => new Client({ seedBrokers: seed, shareGroup: 'g', consumeTopics: ['t'], consumePartitions: { t: { 0: 'earliest' } } }), (e: Error) => e.name === 'InvalidOptionError')
  assert.throws(() => new Client({ seedBrokers: seed, shareGroup: 'g', consumeTopics: ['t.*'], consumeRegex: true }), (e: Error) => e.name === 'InvalidOptionError' && /consumeRegex/.test(e.message))
  assert.throws(() => new Client({ seedBrokers: seed, shareGroup: 'g' }), (e: Error) => e.name === 'InvalidOptionError' && /consumeTopics/.test(e.message))
  assert.throws(() => new Client({ seedBrokers: seed, shareGroup: '' , consumeTopics: ['t'] }), (e: Error) => e.name === 'InvalidOptionError' && /shareGroup/.test(e.message))
  const plain = new Client({ seedBrokers: seed })
  assert.throws(() => plain.markAcks('accept'), (e: Error) => e.name === 'InvalidOperationError')
  await assert.rejects(plain.flushAcks(), (e: Error) => e.name === 'InvalidOperationError')
  await plain.close()
  const s = new Client({ seedBrokers: seed, shareGroup: 'g', consumeTopics: ['t'] })
  await assert.rejects(async () => s.commitRecords(), (e: Error) => e.name === 'InvalidOperationError')
  assert.throws(() => s.setOffsets({ t: { 0: { offset: 0n } } }), (e: Error) => e.name === 'InvalidOperationError')
  await s.close({ timeout: 1_000 })
})

test('a share member whose cluster cannot be reached says so to its polls, and closes at once', { timeout: 30_000 }, async () => {
  const c = new Client({ seedBrokers: ['127.0.0.1:1'], shareGroup: GROUP, consumeTopics: [TOPIC], retryBackoff: 20, metadataMinAge: 10 })
  let err: Error | null = null
  await waitFor(async () => {
    const f = await c.pollFetches({ signal: AbortSignal.timeout(500) })
    err = f.errors().find((e) => e.error.name === 'BrokersUnreachableError')?.error ?? null
    return err !== null
  }, 'BrokersUnreachableError in a poll', 20_000)
  const started = Date.now()
  await c.close()
  assert.ok(Date.now() - started < 2_000, `closed in ${Date.now() - started} ms`)
})

test('keepRetryableFetchErrors: a NOT_LEADER_OR_FOLLOWER partition answer reaches a share member\'s poll with the option, not without; the member fetches again either way', { timeout: 30_000 }, async () => {
  for (const keep of [false, true]) {
    const b = await new Broker().start()
    // The first ShareFetch finds the partition "moved" (no leader named: metadata is loaded again),
    // the second hands out r0..r1.
    b.onFetch = (_req, n) => (n === 0 ? { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, partition: 0 } : n === 1 ? { records: keyedBatch(0n, 2, 1), acquiredRecords: [{ firstOffset: 0n, lastOffset: 1n, deliveryCount: 1 }] } : null)
    const c = member(b, keep ? { keepRetryableFetchErrors: true } : {})
    const records: Record[] = []
    const errors: Array<{ topic: string; partition: number; error: Error }> = []
    await waitFor(async () => {
      const f = await c.pollFetches({ signal: AbortSignal.timeout(2_000) })
      records.push(...f.records())
      errors.push(...f.errors().filter((e) => e.topic === TOPIC))
      return records.length >= 2
    }, 'r0..r1')
    assert.deepEqual(records.map((r) => r.key!.toString()), ['r0', 'r1'])
    if (!keep) {
      assert.deepEqual(errors, [], 'without the option the error is not shown')
      continue
    }
    assert.equal(errors.length, 1, errors.map((e) => e.error.message).join('; '))
    assert.equal(errors[0]!.partition, 0)
    assert.ok(errors[0]!.error instanceof KafkaProtocolError && errors[0]!.error.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER, String(errors[0]!.error))
  }
})
