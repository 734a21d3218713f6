// Helpers for client integration tests: the shared broker, clients that are closed after the file,
// topics created with CreateTopics, a reader that fetches a topic back with Fetch and
// decodeRecordBatches (below the consumer, so a test checks what the broker stored), and readStored,
// which reads a partition back with the consumer.
import { randomUUID } from 'node:crypto'
import { Client, coreOf } from '../../src/client/client.js'
import type { ClientOptions } from '../../src/client/options.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { Admin } from '../../src/admin/index.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'
import { decodeRecordBatches, type RecordHeader } from '../../src/protocol/records.js'
import { startKafka, type KafkaCluster, type StartKafkaOptions } from '../../src/testing/index.js'

let shared: Promise<KafkaCluster> | undefined

/**
 * broker returns the shared single-node broker (under `npm test`, the one the run started; otherwise
 * one started here). It fails with a message that says what to do when none can be had.
 */
export function broker(opts: StartKafkaOptions = { sasl: true, tls: true }): Promise<KafkaCluster> {
  shared ??= startKafka(opts).catch((err: unknown) => {
    throw new Error(`these tests need a Kafka broker and none could be started (run them with \`npm test -- <file>\`, or set KAFKA_BOOTSTRAP): ${err instanceof Error ? err.message : String(err)}`)
  })
  return shared
}

/** topicName returns a fresh topic name for one test. */
export function topicName(prefix = 't'): string {
  return `${prefix}-${randomUUID()}`
}

/**
 * Clients tracks the clients a test file makes so that `closeAll` (in `after`) closes the ones a
 * failing test left open; a client left open would keep the test process alive.
 */
const open = new Set<Client>()

/** newClient makes a client of the cluster's PLAINTEXT listener with short metadata waits for tests. */
export function newClient(k: KafkaCluster, opts: Partial<ClientOptions<Client>> = {}): Client {
  const c = new Client({ seedBrokers: k.bootstrapServers, metadataMinAge: 100, retryBackoff: 100, ...opts })
  open.add(c)
  return c
}

/** closeAll closes every client made with newClient. */
export async function closeAll(): Promise<void> {
  const all = [...open]
  open.clear()
  await Promise.all(all.map((c) => c.close().catch(() => {})))
}

/** createTopic creates a topic (a fresh name unless given) and waits until every broker knows it and every partition has a leader. */
export async function createTopic(
  c: Client,
  opts: { partitions?: number; replicationFactor?: number; configs?: Record<string, string>; name?: string } = {},
): Promise<string> {
  const name = opts.name ?? topicName()
  await new Admin(c).createTopic({ name, partitions: opts.partitions ?? 1, replicationFactor: opts.replicationFactor ?? -1, configs: opts.configs ?? {} })
  return name
}

/** waitFor polls `cond` every 50 ms until it holds, failing after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** FetchedRecord is a record read back from the broker, with what its batch said. */
export interface FetchedRecord {
  partition: number
  offset: bigint
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
  timestamp: number
  timestampType: 'create' | 'log-append' | 'none'
  compression: number
  producerId: bigint
  producerEpoch: number
  /** sequence is the batch's base sequence plus the record's place in it (-1 when not idempotent). */
  sequence: number
}

const LEADER_MOVED = new Set([3, 5, 6, 74, 75, 100])

/** listOffsets returns each partition's end (timestamp -1) or start (-2) offset. */
export async function listOffsets(c: Client, topic: string, partitions: number, timestamp = -1n): Promise<bigint[]> {
  for (let attempt = 0; ; attempt++) {
    const req = ListOffsets.newRequest()
    req.topics = [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp })) }]
    const res = await c.request(ListOffsets, req)
    const out = new Array<bigint>(partitions).fill(-1n)
    let moved = false
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (LEADER_MOVED.has(p.errorCode)) moved = true
        else if (p.errorCode !== 0) throw new KafkaProtocolError(p.errorCode, { topic, partition: p.partitionIndex })
        out[p.partitionIndex] = p.offset
      }
    }
    if (!moved) return out
    if (attempt > 50) throw new Error(`ListOffsets of ${topic}: partitions keep answering leader errors`)
    await coreOf(c).topic(topic, true)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * readAll fetches every record of a topic, from offset 0 to each partition's end offset as it is
 * now, and returns them per partition in offset order. Control batches are left out.
 */
export async function readAll(c: Client, topic: string): Promise<FetchedRecord[][]> {
  const info = await coreOf(c).topic(topic, true)
  if (info === undefined) throw new Error(`topic ${topic} does not exist`)
  const n = info.partitions.length
  const ends = await listOffsets(c, topic, n)
  const next = new Array<bigint>(n).fill(0n)
  const out: FetchedRecord[][] = Array.from({ length: n }, () => [])
  let maxPartBytes = 4 << 20
  let idle = 0
  while (next.some((o, p) => o < ends[p]!)) {
    const t = (await coreOf(c).topic(topic))!
    const req = Fetch.newRequest()
    req.maxWaitMs = 0
    req.minBytes = 0
    req.maxBytes = 64 << 20
    req.topics = [
      {
        topic,
        topicId: t.id,
        partitions: next
          .map((o, p) => ({ o, p }))
          .filter(({ o, p }) => o < ends[p]!)
          .map(({ o, p }) => ({ partition: p, currentLeaderEpoch: -1, fetchOffset: o, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: maxPartBytes, replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA', highWatermark: 9223372036854775807n })),
      },
    ]
    const res = await c.request(Fetch, req)
    if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { topic })
    let progressed = false
    let moved = false
    for (const rt of res.responses) {
      for (const pd of rt.partitions) {
        const p = pd.partitionIndex
        if (LEADER_MOVED.has(pd.errorCode)) {
          moved = true
          continue
        }
        if (pd.errorCode !== 0) throw new KafkaProtocolError(pd.errorCode, { topic, partition: p })
        if (pd.records === null || pd.records.length === 0) continue
        const batches = decodeRecordBatches(pd.records)
        if (batches.length === 0 && batches.truncated) {
          maxPartBytes *= 2
          progressed = true
          continue
        }
        for (const b of batches) {
          const last = b.baseOffset + BigInt(b.lastOffsetDelta)
          if (!b.isControl) {
            b.records.forEach((r, i) => {
              if (r.offset < next[p]!) return
              out[p]!.push({
                partition: p,
                offset: r.offset,
                key: r.key === null ? null : Buffer.from(r.key),
                value: r.value === null ? null : Buffer.from(r.value),
                headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
                timestamp: r.timestamp,
                timestampType: b.timestampType,
                compression: b.compression,
                producerId: b.producerId,
                producerEpoch: b.producerEpoch,
                sequence: b.baseSequence < 0 ? -1 : b.baseSequence + Number(r.offset - b.baseOffset),
              })
            })
          }
          if (last + 1n > next[p]!) {
            next[p] = last + 1n
            progressed = true
          }
        }
      }
    }
    if (moved) await coreOf(c).topic(topic, true)
    if (!progressed) {
      if (++idle > 200) throw new Error(`reading ${topic} back made no progress (at ${next.join(',')}, ends ${ends.join(',')})`)
      await new Promise((r) => setTimeout(r, 50))
    } else idle = 0
  }
  return out
}

/** str is a Buffer's UTF-8 text, or null. */
export function str(b: Buffer | null): string | null {
  return b === null ? null : b.toString('utf8')
}

/**
 * readStored polls partition 0 of `topic` from the start with a client of its own (`opts` added to it)
 * until `n` records, or an error, came: the values in log order, each batch's codec as the
 * onFetchBatchRead hook saw it, and the poll errors.
 */
export async function readStored(k: KafkaCluster, topic: string, n: number, opts: Partial<ClientOptions<Client>> = {}): Promise<{ values: Array<string | null>; codecs: number[]; errors: Error[] }> {
  const codecs: number[] = []
  const hook = { onFetchBatchRead: (_m: unknown, _t: string, _p: number, m: { compressionType: number }) => void codecs.push(m.compressionType) }
  const reader = newClient(k, { ...opts, consumePartitions: { [topic]: { 0: 'earliest' } }, hooks: [hook] })
  const values: Array<string | null> = []
  const errors: Error[] = []
  await waitFor(async () => {
    const f = await reader.pollFetches({ signal: AbortSignal.timeout(500) })
    for (const e of f.errors()) errors.push(e.error)
    f.eachRecord((r) => values.push(str(r.value)))
    return values.length >= n || errors.length > 0
  }, `${n} records of ${topic}`, 20_000)
  await reader.close()
  return { values, codecs, errors }
}
