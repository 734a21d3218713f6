// The fetch path against a scripted fake broker, for answers a healthy real broker will not give on
// demand: a record batch whose CRC does not match, a partition whose leader moved
// (NOT_LEADER_OR_FOLLOWER, then a new leader epoch in metadata), and a diverging epoch that says the
// log was truncated below the consumer's position (KIP-320), retryable partition errors shown to polls
// (keepRetryableFetchErrors), and a leader that prefers a follower (KIP-392) asked again after
// recheckPreferredReplicaInterval. The peer decodes each request with the
// generated decoders and answers with the generated encoders.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Client } from '../../../src/client/client.js'
import type { ClientOptions } from '../../../src/client/options.js'
import type { Record } from '../../../src/protocol/record.js'
import type { ApiMessage } from '../../../src/protocol/messages/api.js'
import { Fetch, newFetchResponsePartitionData, type FetchRequest, type FetchResponse } from '../../../src/protocol/messages/fetch.js'
import { ErrorCode } from '../../../src/protocol/error-codes.js'
import { ListOffsets, type ListOffsetsRequest } from '../../../src/protocol/messages/list-offsets.js'
import { Metadata, newMetadataResponseMetadataResponsePartition, newMetadataResponseMetadataResponseTopic, type MetadataRequest } from '../../../src/protocol/messages/metadata.js'
import { crc32c } from '../../../src/protocol/crc32c.js'
import { KafkaProtocolError, ProtocolDecodeError } from '../../../src/protocol/errors.js'
import { InvalidOptionError } from '../../../src/client/errors.js'
import { CorruptRecordBatchError } from '../../../src/protocol/records.js'
import { waitFor } from '../helpers.js'
import { FakePeer, keyedBatch, type Received } from '../../helpers/fake-peer.js'

const TOPIC = 'fake-topic'
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'

/**
 * FakeBroker is one node (id 1) leading one partition of one topic, on a scripted fake peer. Metadata
 * and ListOffsets are answered from its fields; each Fetch goes to `onFetch`, which returns the
 * partition's answer (or null for an empty one after a short wait, as a broker's maxWait would).
 */
class FakeBroker {
  peer!: FakePeer
  /** nodeId is this broker's id; cluster is every broker metadata lists (this one alone unless set). */
  nodeId = 1
  cluster: FakeBroker[] = [this]
  /** leaderId is the node metadata names as the partition's leader. */
  leaderId = 1
  leaderEpoch = 5
  /** metadataDelay holds each Metadata answer back this long, in ms. */
  metadataDelay = 0
  startOffset = 0n
  /** sessionId is what fetch responses carry: 0 refuses sessions, anything else opens or keeps one (KIP-227). */
  sessionId = 0
  onFetch: (req: FetchRequest, n: number) => Partial<FetchResponse['responses'][number]['partitions'][number]> | null = () => null
  #fetches = 0

  async start(): Promise<number> {
    this.peer = await FakePeer.start((req) => this.#onRequest(req))
    return this.peer.port
  }

  close(): void {
    this.peer.close()
  }

  /** seen is every request received, in order. */
  get seen(): Received[] {
    return this.peer.received
  }

  /** of returns the requests of one API, in order. */
  of<T>(api: ApiMessage<T, any>): T[] {
    return this.peer.of(api)
  }

  #onRequest(req: Received): void {
    const { api, body } = req
    const respond = (res: unknown) => this.peer.respond(req, res)
    const port = this.peer.port
    switch (api.key) {
      case Metadata.key: {
        const req = body as MetadataRequest
        const nodes = this.cluster.map((b) => b.nodeId)
        const partition = { ...newMetadataResponseMetadataResponsePartition(), partitionIndex: 0, leaderId: this.leaderId, leaderEpoch: this.leaderEpoch, replicaNodes: nodes, isrNodes: nodes }
        const topics = (req.topics ?? [{ name: TOPIC }]).map((t) => ({ ...newMetadataResponseMetadataResponseTopic(), name: t.name, topicId: TOPIC_ID, partitions: t.name === TOPIC ? [partition] : [], errorCode: t.name === TOPIC ? 0 : 3 }))
        const brokers = this.cluster.map((b) => ({ nodeId: b.nodeId, host: '127.0.0.1', port: b === this ? port : b.peer.port, rack: null }))
        const res = { ...Metadata.newResponse(), brokers, controllerId: 1, clusterId: 'fake', topics }
        if (this.metadataDelay > 0) setTimeout(() => respond(res), this.metadataDelay)
        else respond(res)
        return
      }
      case ListOffsets.key: {
        const req = body as ListOffsetsRequest
        return respond({
          ...ListOffsets.newResponse(),
          topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1n, offset: this.startOffset, leaderEpoch: this.leaderEpoch, oldStyleOffsets: [] })) })),
        })
      }
      case Fetch.key: {
        const req = body as FetchRequest
        const n = this.#fetches++
        const answer = req.topics.length > 0 ? this.onFetch(req, n) : null
        const send = () =>
          respond({
            ...Fetch.newResponse(),
            sessionId: this.sessionId,
            responses:
              answer === null
                ? []
                : [{ topic: TOPIC, topicId: TOPIC_ID, partitions: [{ ...newFetchResponsePartitionData(), partitionIndex: 0, highWatermark: 100n, lastStableOffset: 100n, logStartOffset: 0n, ...answer }] }],
          })
        if (answer === null) setTimeout(send, Math.min(req.maxWaitMs, 50))
        else send()
        return
      }
      default:
        throw new Error(`fake broker: unexpected ${api.name}`)
    }
  }
}

const opened: Array<{ close(): unknown }> = []
after(async () => {
  for (const o of opened) await o.close()
})

async function setup(opts: { startOffset?: bigint; sessionId?: number; client?: Partial<ClientOptions> } = {}): Promise<{ b: FakeBroker; c: Client }> {
  const b = new FakeBroker()
  if (opts.startOffset !== undefined) b.startOffset = opts.startOffset
  if (opts.sessionId !== undefined) b.sessionId = opts.sessionId
  const port = await b.start()
  const c = new Client({ seedBrokers: [`127.0.0.1:${port}`], consumeTopics: [TOPIC], metadataMinAge: 50, retryBackoff: 50, fetchMaxWait: 50, ...opts.client })
  opened.push(c, b)
  return { b, c }
}

async function poll(c: Client): Promise<{ records: Record[]; errors: Error[] }> {
  const f = await c.pollFetches({ signal: AbortSignal.timeout(5_000) })
  return { records: f.records(), errors: f.errors().map((e) => e.error) }
}

test('a batch whose CRC does not match is reported in errors(), never handed out, and fetched again', { timeout: 30_000 }, async () => {
  const { b, c } = await setup()
  b.onFetch = (req, n) => {
    const offset = req.topics[0]!.partitions[0]!.fetchOffset
    const good = keyedBatch(offset, 3, 5)
    if (n > 0) return { records: good }
    const bad = Buffer.from(good)
    bad[bad.length - 2]! ^= 0xff // a value byte: the CRC-32C over attributes..records no longer matches
    return { records: bad }
  }
  const first = await poll(c)
  assert.equal(first.records.length, 0, 'nothing from the corrupt batch')
  assert.equal(first.errors.length, 1)
  assert.match(first.errors[0]!.message, /crc/i)
  const second = await poll(c)
  assert.deepEqual(second.records.map((r) => r.key!.toString()), ['r0', 'r1', 'r2'])
  assert.deepEqual(b.of(Fetch).slice(0, 2).map((f) => f.topics[0]!.partitions[0]!.fetchOffset), [0n, 0n], 'the corrupt batch was fetched again from the same offset')
})

test('disableFetchCRCValidation: a batch whose CRC never matches fails every poll by default, and is handed out with the option', { timeout: 30_000 }, async () => {
  // The broker serves the same corrupt batch of r0..r2 from offset 0, and nothing after it.
  const corrupt = (req: FetchRequest) => {
    if (req.topics[0]!.partitions[0]!.fetchOffset !== 0n) return null
    const bad = keyedBatch(0n, 3, 5)
    bad[bad.length - 2]! ^= 0xff // r2's value byte: 'v' becomes 0x89, and the CRC-32C no longer matches
    return { records: bad }
  }

  // Default: the corruption is reported on every poll, as a CorruptRecordBatchError naming the batch,
  // no record of it is handed out, and the partition stays at the batch.
  const strict = await setup()
  strict.b.onFetch = corrupt
  for (let i = 0; i < 2; i++) {
    const got = await poll(strict.c)
    assert.equal(got.records.length, 0, 'nothing from the corrupt batch')
    assert.equal(got.errors.length, 1)
    const err = got.errors[0]!
    assert.ok(err instanceof CorruptRecordBatchError && err instanceof ProtocolDecodeError, `a CorruptRecordBatchError, got ${err}`)
    assert.equal(err.offset, 0n)
    assert.match(err.message, /CRC-32C mismatch/)
  }
  assert.ok(strict.b.of(Fetch).every((f) => f.topics.length === 0 || f.topics[0]!.partitions[0]!.fetchOffset === 0n), 'fetched from the corrupt batch again and again')

  // disableFetchCRCValidation: the records come as fetched, corrupt byte included, with no error, and
  // the partition moves past them.
  const lax = await setup({ client: { disableFetchCRCValidation: true } })
  lax.b.onFetch = corrupt
  const got = await poll(lax.c)
  assert.deepEqual(got.errors, [])
  assert.deepEqual(got.records.map((r) => [r.offset, r.key!.toString(), r.value![0]]), [[0n, 'r0', 0x76], [1n, 'r1', 0x76], [2n, 'r2', 0x76 ^ 0xff]])
  await waitFor(() => lax.b.of(Fetch).some((f) => f.topics[0]?.partitions[0]?.fetchOffset === 3n), 'a fetch from offset 3')
  assert.equal(strict.c.config.disableFetchCRCValidation, false)
  assert.equal(lax.c.config.disableFetchCRCValidation, true)
})

test('a batch that fails decoding although its CRC matches: the batches before it are handed out, it is reported, and fetched again from it', { timeout: 30_000 }, async () => {
  const { b, c } = await setup()
  b.onFetch = (req, n) => {
    const offset = req.topics[0]!.partitions[0]!.fetchOffset
    if (offset !== 0n || n > 1) return { records: keyedBatch(offset, 2, 5) }
    // r0..r1 good, then a batch of r2..r4 whose first record claims more bytes than the batch holds,
    // checksummed afresh: only decoding can tell, after the next fetch has gone out past it.
    const bad = keyedBatch(2n, 3, 5)
    bad[61] = 0x7e // the first record's length varint: 63 bytes
    bad.writeUInt32BE(crc32c(bad, 21), 17)
    return { records: Buffer.concat([keyedBatch(0n, 2, 5), bad]) }
  }
  const got: Record[] = []
  const errors: Error[] = []
  await waitFor(async () => {
    const r = await poll(c)
    got.push(...r.records)
    errors.push(...r.errors)
    return got.some((x) => x.offset >= 2n)
  }, 'records after the corrupt batch')
  assert.equal(errors.length, 1, 'the corrupt batch is reported once')
  assert.match(errors[0]!.message, /record 0/)
  assert.deepEqual(got.map((r) => r.key!.toString()).slice(0, 4), ['r0', 'r1', 'r2', 'r3'], 'nothing skipped, nothing twice')
  const offsets = b.of(Fetch).map((f) => f.topics[0]?.partitions[0]?.fetchOffset)
  assert.deepEqual(offsets.slice(0, 2), [0n, 5n], 'the next fetch went out past the batch, by its header')
  assert.ok(offsets.slice(2).includes(2n), `then the consumer fetched from the corrupt batch again (${offsets.join(', ')})`)
})

test('NOT_LEADER_OR_FOLLOWER makes the consumer reload metadata at once, and fetch again only after it, with the new leader epoch (KIP-320)', { timeout: 30_000 }, async () => {
  // metadataMinAge would hold a reload for a minute: only a load that skips it lets this test end.
  const { b, c } = await setup({ client: { metadataMinAge: 60_000 } })
  let moved = -1
  b.onFetch = (req, n) => {
    const p = req.topics[0]!.partitions[0]!
    if (n === 0) {
      // The leader "moves": metadata now says epoch 6, and answers slower than the 50 ms backoff.
      b.leaderEpoch = 6
      b.metadataDelay = 300
      moved = b.seen.length
      return { errorCode: 6 }
    }
    return { records: keyedBatch(p.fetchOffset, 2, 6) }
  }
  const got = await (async () => {
    for (;;) {
      const r = await poll(c)
      if (r.records.length > 0) return r.records
    }
  })()
  assert.deepEqual(got.map((r) => r.key!.toString()), ['r0', 'r1'])
  const after = b.seen.slice(moved)
  const md = after.findIndex((s) => s.api.key === Metadata.key)
  const fetch = after.findIndex((s) => s.api.key === Fetch.key)
  assert.ok(md >= 0 && md < fetch, 'metadata reloaded before the next fetch')
  const fetches = b.of(Fetch)
  assert.equal(fetches[0]!.topics[0]!.partitions[0]!.currentLeaderEpoch, 5)
  assert.equal(fetches[1]!.topics[0]!.partitions[0]!.currentLeaderEpoch, 6, 'the first fetch after the move waited for metadata: it carries the new leader epoch')
  assert.equal(got[0]!.leaderEpoch, 6)
})

test('a leader moved to another broker: the partition is fetched from the new leader as soon as metadata says so, without waiting out a backoff', { timeout: 30_000 }, async () => {
  const b1 = new FakeBroker()
  const b2 = new FakeBroker()
  b2.nodeId = 2
  b1.cluster = b2.cluster = [b1, b2]
  await b1.start()
  await b2.start()
  opened.push(b1, b2)
  b1.onFetch = (req, n) => {
    if (n > 0) return null
    for (const b of [b1, b2]) {
      b.leaderId = 2
      b.leaderEpoch = 6
    }
    return { errorCode: 6 }
  }
  b2.onFetch = (req) => ({ records: keyedBatch(req.topics[0]!.partitions[0]!.fetchOffset, 2, 6) })
  // A minute of backoff and of metadataMinAge: records arrive within the test's time only if neither is waited out.
  const c = new Client({ seedBrokers: [`127.0.0.1:${b1.peer.port}`], consumeTopics: [TOPIC], metadataMinAge: 60_000, retryBackoff: 60_000, fetchMaxWait: 50 })
  opened.push(c)
  let got: Record[] = []
  await waitFor(async () => {
    got = (await poll(c)).records
    return got.length > 0
  }, 'records from the new leader')
  assert.deepEqual(got.map((r) => r.key!.toString()), ['r0', 'r1'])
  const fromOld = b1.of(Fetch).filter((f) => f.topics.length > 0)
  assert.equal(fromOld.length, 1, 'the old leader was asked once')
  const fromNew = b2.of(Fetch)[0]!.topics[0]!.partitions[0]!
  assert.deepEqual([fromNew.fetchOffset, fromNew.currentLeaderEpoch], [0n, 6], 'the new leader was asked from the same offset, in the new epoch')
})

test('a diverging epoch below the position moves the consumer back to where the logs agree (KIP-320 truncation)', { timeout: 30_000 }, async () => {
  const { b, c } = await setup({ startOffset: 10n })
  b.onFetch = (req, n) => {
    const p = req.topics[0]!.partitions[0]!
    if (n === 0) return { records: keyedBatch(p.fetchOffset, 5, 5) } // 10..14 in epoch 5
    if (n === 1) return { divergingEpoch: { epoch: 5, endOffset: 12n } } // epoch 5 really ended at 12
    return { records: keyedBatch(p.fetchOffset, 3, 6) }
  }
  const first = await poll(c)
  assert.deepEqual(first.records.map((r) => r.key!.toString()), ['r10', 'r11', 'r12', 'r13', 'r14'])
  let again: Record[] = []
  await waitFor(async () => {
    again = (await poll(c)).records
    return again.length > 0
  }, 'records after the truncation')
  assert.deepEqual(again.map((r) => r.key!.toString()), ['r12', 'r13', 'r14'], 'refetched from the divergence point, in the new epoch')
  const fetches = b.of(Fetch).map((f) => f.topics[0]!.partitions[0]!)
  assert.deepEqual(fetches.slice(0, 3).map((p) => p.fetchOffset), [10n, 15n, 12n])
  assert.equal(fetches[1]!.lastFetchedEpoch, 5, 'the fetch after the first batch says which epoch it last saw')
})

test('fetch sessions (KIP-227): after a full fetch, incremental ones carry the session and only what changed; disableFetchSessions never opens one', { timeout: 30_000 }, async () => {
  const { b, c } = await setup({ sessionId: 77 })
  b.onFetch = (req, n) => (n === 0 ? { records: keyedBatch(req.topics[0]!.partitions[0]!.fetchOffset, 2, 5) } : null)
  await poll(c)
  await waitFor(() => b.of(Fetch).length >= 3, 'a few more fetches')
  const fs = b.of(Fetch)
  assert.deepEqual([fs[0]!.sessionId, fs[0]!.sessionEpoch], [0, 0], 'the first fetch asks for a new session')
  assert.equal(fs[0]!.topics[0]!.partitions.length, 1)
  assert.deepEqual([fs[1]!.sessionId, fs[1]!.sessionEpoch], [77, 1], 'the next carries the session and its epoch')
  assert.equal(fs[1]!.topics[0]?.partitions[0]?.fetchOffset, 2n, 'the partition moved, so it is sent with its new offset')
  assert.deepEqual([fs[2]!.sessionId, fs[2]!.sessionEpoch], [77, 2])
  assert.equal(fs[2]!.topics.length, 0, 'nothing changed: an incremental fetch lists no partition')

  const off = await setup({ sessionId: 77, client: { disableFetchSessions: true } })
  await waitFor(() => off.b.of(Fetch).length >= 3, 'a few fetches')
  for (const f of off.b.of(Fetch)) {
    assert.deepEqual([f.sessionId, f.sessionEpoch], [0, -1], 'no session is asked for')
    assert.equal(f.topics[0]!.partitions.length, 1, 'every fetch is full')
  }
})

test('keepRetryableFetchErrors: a NOT_LEADER_OR_FOLLOWER partition error reaches the poll with the option, never without, and consuming goes on either way', { timeout: 30_000 }, async () => {
  // The broker answers the partition's first fetch with NOT_LEADER_OR_FOLLOWER (naming no leader, so
  // the consumer reloads metadata), then serves r0..r2 and nothing after.
  const script = (req: FetchRequest, n: number) => {
    const offset = req.topics[0]!.partitions[0]!.fetchOffset
    if (n === 0) return { errorCode: 6 }
    return offset === 0n ? { records: keyedBatch(0n, 3, 5) } : null
  }
  const consume = async (c: Client) => {
    const records: Record[] = []
    const errors: Error[] = []
    await waitFor(async () => {
      const r = await poll(c)
      records.push(...r.records)
      errors.push(...r.errors)
      return records.length >= 3
    }, 'r0..r2')
    return { keys: records.map((r) => r.key!.toString()), errors }
  }

  const kept = await setup({ client: { keepRetryableFetchErrors: true } })
  kept.b.onFetch = script
  const got = await consume(kept.c)
  assert.equal(got.errors.length, 1, `one error: ${got.errors.join('; ')}`)
  const err = got.errors[0]!
  assert.ok(err instanceof KafkaProtocolError, String(err))
  assert.equal(err.errorCode, 6)
  assert.equal(err.retriable, true)
  assert.match(err.message, /NOT_LEADER_OR_FOLLOWER \(fake-topic\[0\]\)/)
  assert.deepEqual(got.keys, ['r0', 'r1', 'r2'], 'the consumer handled the error itself: metadata reloaded, fetched again from offset 0')
  assert.ok(kept.b.of(Metadata).length >= 2, 'metadata was reloaded after the error')

  const stripped = await setup()
  stripped.b.onFetch = script
  const quiet = await consume(stripped.c)
  assert.deepEqual(quiet.errors, [], 'without the option the poll never shows the error')
  assert.deepEqual(quiet.keys, ['r0', 'r1', 'r2'])
  assert.equal(stripped.b.of(Fetch)[0]!.topics[0]!.partitions[0]!.fetchOffset, 0n)
  assert.equal(stripped.c.config.keepRetryableFetchErrors, false)
  assert.throws(() => new Client({ seedBrokers: ['127.0.0.1:1'], keepRetryableFetchErrors: 'yes' as unknown as boolean }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'keepRetryableFetchErrors')
})

test('recheckPreferredReplicaInterval: fetched from the preferred replica (KIP-392) until the interval ends, then from the leader again, which may prefer another replica', { timeout: 60_000 }, async () => {
  // Node 1 leads the partition and prefers node 2 at first, node 3 when asked again. Node 2 serves
  // r0..r2, node 3 serves r3..r5; past those, either answers empty (after a short wait).
  const [b1, b2, b3] = [new FakeBroker(), new FakeBroker(), new FakeBroker()]
  b2.nodeId = 2
  b3.nodeId = 3
  for (const b of [b1, b2, b3]) {
    b.cluster = [b1, b2, b3]
    await b.start()
    opened.push(b)
  }
  // fetchedFrom is the node of every fetch, in the order they arrived, with the offset it asked for.
  const fetchedFrom: Array<[number, bigint]> = []
  const serve = (node: number, lo: bigint, hi: bigint) => (req: FetchRequest) => {
    const offset = req.topics[0]!.partitions[0]!.fetchOffset
    fetchedFrom.push([node, offset])
    return offset >= lo && offset < hi ? { records: keyedBatch(offset, 1, 5) } : null
  }
  b1.onFetch = (req, n) => {
    fetchedFrom.push([1, req.topics[0]!.partitions[0]!.fetchOffset])
    return { preferredReadReplica: n === 0 ? 2 : 3 }
  }
  b2.onFetch = serve(2, 0n, 3n)
  b3.onFetch = serve(3, 3n, 6n)
  const c = new Client({ seedBrokers: [`127.0.0.1:${b1.peer.port}`], consumeTopics: [TOPIC], rack: 'r1', recheckPreferredReplicaInterval: 300, metadataMinAge: 50, retryBackoff: 50, fetchMaxWait: 50 })
  opened.push(c)
  const records: Record[] = []
  await waitFor(async () => {
    records.push(...(await poll(c)).records)
    return records.length >= 6
  }, 'r0..r5, from both replicas')
  assert.deepEqual(records.map((r) => r.key!.toString()), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'], 'nothing skipped, nothing twice')
  const runs: Array<[number, bigint]> = []
  for (const f of fetchedFrom) if (runs.length === 0 || runs[runs.length - 1]![0] !== f[0]) runs.push(f)
  assert.deepEqual(runs.slice(0, 4), [[1, 0n], [2, 0n], [1, 3n], [3, 3n]], `leader, its preferred replica, the leader again from where the replica left off, the replica it prefers now (${runs.join(' ')})`)
  assert.ok(fetchedFrom.filter(([n]) => n === 2).length >= 4, 'the first replica was fetched from until the interval ended, not just once')
  assert.equal(b1.of(Fetch)[0]!.rackId, 'r1')

  // The default (30 minutes) keeps the partition on its preferred replica.
  const [d1, d2] = [new FakeBroker(), new FakeBroker()]
  d2.nodeId = 2
  for (const b of [d1, d2]) {
    b.cluster = [d1, d2]
    await b.start()
    opened.push(b)
  }
  d1.onFetch = () => ({ preferredReadReplica: 2 })
  d2.onFetch = () => null
  const dc = new Client({ seedBrokers: [`127.0.0.1:${d1.peer.port}`], consumeTopics: [TOPIC], rack: 'r1', metadataMinAge: 50, retryBackoff: 50, fetchMaxWait: 50 })
  opened.push(dc)
  await waitFor(() => d2.of(Fetch).length >= 20, 'twenty fetches from the preferred replica')
  assert.equal(d1.of(Fetch).filter((f) => f.topics.length > 0).length, 1, 'the leader was asked once')
  assert.equal(dc.config.recheckPreferredReplicaInterval, 30 * 60_000)
  for (const bad of [5, 8 * 24 * 3_600_000, Number.NaN]) {
    assert.throws(() => new Client({ seedBrokers: ['127.0.0.1:1'], recheckPreferredReplicaInterval: bad }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'recheckPreferredReplicaInterval', String(bad))
  }
})

test('OFFSET_OUT_OF_RANGE from the preferred replica sends the partition back to its leader at the same offset, without a reset (KIP-392)', { timeout: 30_000 }, async () => {
  // Node 1 leads and prefers node 2, whose log is behind: it refuses offset 3 once, then serves it.
  // The consumer must ask the leader from offset 3 again, not start over from consumeResetOffset.
  const [b1, b2] = [new FakeBroker(), new FakeBroker()]
  b2.nodeId = 2
  for (const b of [b1, b2]) {
    b.cluster = [b1, b2]
    b.startOffset = 3n
    await b.start()
    opened.push(b)
  }
  const fetchedFrom: Array<[number, bigint]> = []
  b1.onFetch = (req) => {
    fetchedFrom.push([1, req.topics[0]!.partitions[0]!.fetchOffset])
    return { preferredReadReplica: 2 }
  }
  let refused = false
  b2.onFetch = (req) => {
    const offset = req.topics[0]!.partitions[0]!.fetchOffset
    fetchedFrom.push([2, offset])
    if (!refused) {
      refused = true
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: null }
    }
    return offset >= 3n && offset < 5n ? { records: keyedBatch(offset, 1, 5) } : null
  }
  const c = new Client({ seedBrokers: [`127.0.0.1:${b1.peer.port}`], consumeTopics: [TOPIC], consumeResetOffset: 'latest', rack: 'r1', metadataMinAge: 50, retryBackoff: 50, fetchMaxWait: 50 })
  opened.push(c)
  const records: Record[] = []
  await waitFor(async () => {
    records.push(...(await poll(c)).records)
    return records.length >= 2
  }, 'r3 and r4 from the replica')
  assert.deepEqual(records.map((r) => r.key!.toString()), ['r3', 'r4'])
  const runs: Array<[number, bigint]> = []
  for (const f of fetchedFrom) if (runs.length === 0 || runs[runs.length - 1]![0] !== f[0]) runs.push(f)
  assert.deepEqual(runs.slice(0, 4), [[1, 3n], [2, 3n], [1, 3n], [2, 3n]], `the leader, the replica (refused), the leader again at 3, the replica (${runs.join(' ')})`)
  // No reset: ListOffsets was asked once, for the start, never after the refusal.
  assert.equal(b1.of(ListOffsets).length + b2.of(ListOffsets).length, 1)
})

test('a preferred replica metadata does not name: the client learns the cluster again before asking the leader again, not in a tight loop', { timeout: 30_000 }, async () => {
  // Node 1 leads and prefers node 9, which no metadata answer lists (and its answer carries no records).
  const b = new FakeBroker()
  await b.start()
  opened.push(b)
  b.onFetch = () => ({ preferredReadReplica: 9 })
  const c = new Client({ seedBrokers: [`127.0.0.1:${b.peer.port}`], consumeTopics: [TOPIC], rack: 'r1', metadataMinAge: 50, retryBackoff: 300, fetchMaxWait: 50 })
  opened.push(c)
  await waitFor(() => b.of(Fetch).filter((f) => f.topics.length > 0).length >= 3, 'three fetches naming the partition')
  // Between two fetches answered "prefer node 9", a Metadata request went out: each answer made the
  // client look for node 9 first (and back off), instead of fetching again at once.
  const order = b.seen.filter((r) => r.api.key === Metadata.key || (r.api.key === Fetch.key && (r.body as FetchRequest).topics.length > 0)).map((r) => r.api.key === Metadata.key ? 'M' : 'F')
  const firstFetch = order.indexOf('F')
  assert.ok(firstFetch >= 0 && order.slice(firstFetch).join('').startsWith('FM'), `a metadata load follows the first answer naming an unknown replica (${order.join('')})`)
  assert.ok(!order.slice(firstFetch).join('').includes('FF'), `no two such fetches without a metadata load between them (${order.join('')})`)
})
