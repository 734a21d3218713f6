/**
 * Records and offsets of partitions: deleting records before an offset, and listing start, end, last
 * stable (committed), by-timestamp and max-timestamp offsets, each request sent to the partitions'
 * leaders and retried where the leader moved.
 */
import type { KafkaWireError } from '../protocol/errors.js'
import { DeleteRecords } from '../protocol/messages/delete-records.js'
import { ListOffsets } from '../protocol/messages/list-offsets.js'
import type { ClientCore } from '../client/core.js'
import { InvalidArgumentError } from '../client/errors.js'
import { byLeader, codeOfResult, errorFor, loadMetadata, partitionKey, sendTo, partitionMapOf, type AdminOptions, type TimeoutOptions } from './util.js'

/** ListedOffset is one partition's answer to a ListOffsets question. */
export interface ListedOffset {
  topic: string
  partition: number
  /** offset answers the question; -1 when the partition has no such offset (a timestamp after every record). */
  offset: bigint
  /** timestamp is the record's timestamp for by-timestamp and max-timestamp questions, -1 otherwise. */
  timestamp: number
  /** leaderEpoch is the leader epoch of the record at `offset` (or of the log end), -1 when unknown. */
  leaderEpoch: number
  /** error is the partition's error, null on success. */
  error: KafkaWireError | null
}

/** DeletedRecords is one partition's result of deleteRecords. */
export interface DeletedRecords {
  topic: string
  partition: number
  /** lowWatermark is the partition's new start offset, -1 on error. */
  lowWatermark: bigint
  error: KafkaWireError | null
}

/** TopicPartitions names partitions: `{ topic: [partitions] }`, or topic names for all their partitions. */
export type TopicPartitionsArg = string[] | { [topic: string]: number[] } | Map<string, number[]>

/** ListOffsetsOptions tune the list*Offsets methods. */
export interface ListOffsetsOptions extends AdminOptions {
  /** isolationLevel: 'read_uncommitted' (the default) answers with the high watermark, 'read_committed' with the last stable offset. */
  isolationLevel?: 'read_uncommitted' | 'read_committed'
}

// ListOffsets' special timestamps.
const LATEST = -1n
const EARLIEST = -2n
const MAX_TIMESTAMP = -3n

/**
 * partitionsOf resolves a TopicPartitionsArg into partitions: topic names become all their partitions
 * (read from fresh metadata); no argument means every non-internal topic. Topics that do not exist are
 * returned apart, with their error.
 */
export async function partitionsOf(core: ClientCore, arg: TopicPartitionsArg | undefined, opts: AdminOptions): Promise<{ parts: Map<string, number[]>; missing: Map<string, KafkaWireError> }> {
  const missing = new Map<string, KafkaWireError>()
  if (arg !== undefined && !Array.isArray(arg)) return { parts: partitionMapOf(arg, 'topics'), missing }
  if (arg !== undefined) {
    arg.forEach((t, i) => {
      if (typeof t !== 'string' || t === '') throw new InvalidArgumentError(`topics[${i}]`, `must be a topic name, got ${JSON.stringify(t)}`)
    })
    if (arg.length === 0) return { parts: new Map(), missing }
  }
  const md = await loadMetadata(core, arg ?? null, opts)
  const parts = new Map<string, number[]>()
  for (const t of md.topics) {
    if (t.name === null) continue
    if (arg === undefined && t.isInternal) continue
    if (t.errorCode !== 0) {
      missing.set(t.name, errorFor(t.errorCode, { topic: t.name })!)
      continue
    }
    parts.set(
      t.name,
      t.partitions.map((p) => p.partitionIndex).sort((a, b) => a - b),
    )
  }
  return { parts, missing }
}

/**
 * listOffsets asks each partition's leader for the offset matching `timestamp` (a time in ms, or
 * LATEST, EARLIEST, MAX_TIMESTAMP) and returns one result per partition, sorted by topic and
 * partition; a topic that does not exist gives one result with partition -1 and its error.
 */
export async function listOffsets(core: ClientCore, timestamp: bigint | ((topic: string, partition: number) => bigint), topics: TopicPartitionsArg | undefined, opts: ListOffsetsOptions = {}): Promise<ListedOffset[]> {
  const { parts, missing } = await partitionsOf(core, topics, opts)
  const isolation = opts.isolationLevel === 'read_committed' ? 1 : 0
  const tsOf = typeof timestamp === 'bigint' ? () => timestamp : timestamp
  const results = await byLeader(
    core,
    parts,
    async (node, mine, signal) => {
      const res = await sendTo(
        core,
        node,
        ListOffsets,
        () => {
          const req = ListOffsets.newRequest()
          req.replicaId = -1
          req.isolationLevel = isolation
          req.topics = [...mine].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: tsOf(name, p) })) }))
          req.timeoutMs = 30_000
          return req
        },
        signal ? { signal } : {},
      )
      const out = new Map<string, ListedOffset>()
      for (const t of res.topics) {
        for (const p of t.partitions) {
          out.set(partitionKey(t.name, p.partitionIndex), {
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.offset,
            timestamp: Number(p.timestamp),
            leaderEpoch: p.leaderEpoch,
            error: errorFor(p.errorCode, { topic: t.name, partition: p.partitionIndex, broker: node }),
          })
        }
      }
      return out
    },
    codeOfResult,
    (topic, partition, err) => ({ topic, partition, offset: -1n, timestamp: -1, leaderEpoch: -1, error: err as KafkaWireError }),
    opts,
  )
  const out = [...results.values()]
  for (const [topic, error] of missing) out.push({ topic, partition: -1, offset: -1n, timestamp: -1, leaderEpoch: -1, error })
  return out.sort(byTopicPartition)
}

/** byTopicPartition orders results by topic, then partition. */
export function byTopicPartition(a: { topic: string; partition: number }, b: { topic: string; partition: number }): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

/** listStartOffsets lists each partition's log start offset. */
export function listStartOffsets(core: ClientCore, topics: TopicPartitionsArg | undefined, opts: AdminOptions = {}): Promise<ListedOffset[]> {
  return listOffsets(core, EARLIEST, topics, opts)
}

/** listEndOffsets lists each partition's end offset: the high watermark (or, read_committed, the last stable offset). */
export function listEndOffsets(core: ClientCore, topics: TopicPartitionsArg | undefined, opts: ListOffsetsOptions = {}): Promise<ListedOffset[]> {
  return listOffsets(core, LATEST, topics, opts)
}

/** listCommittedOffsets lists each partition's last stable offset: the end offset a read_committed consumer sees. */
export function listCommittedOffsets(core: ClientCore, topics: TopicPartitionsArg | undefined, opts: AdminOptions = {}): Promise<ListedOffset[]> {
  return listOffsets(core, LATEST, topics, { ...opts, isolationLevel: 'read_committed' })
}

/** listMaxTimestampOffsets lists, per partition, the offset and timestamp of the record with the largest timestamp (KIP-734). */
export function listMaxTimestampOffsets(core: ClientCore, topics: TopicPartitionsArg | undefined, opts: AdminOptions = {}): Promise<ListedOffset[]> {
  return listOffsets(core, MAX_TIMESTAMP, topics, opts)
}

/**
 * listOffsetsAfterMilli lists, per partition, the first offset whose record's timestamp is at or after
 * `millis`; where every record is older, the end offset (where a consumer would start), with
 * timestamp -1 (kadm's ListOffsetsAfterMilli).
 */
export async function listOffsetsAfterMilli(core: ClientCore, millis: number, topics: TopicPartitionsArg | undefined, opts: ListOffsetsOptions = {}): Promise<ListedOffset[]> {
  if (!Number.isFinite(millis) || millis < 0) throw new InvalidArgumentError('millis', `must be a time in ms since the epoch, got ${millis}`)
  const found = await listOffsets(core, BigInt(Math.floor(millis)), topics, opts)
  const after = found.filter((o) => o.error === null && o.offset < 0n)
  if (after.length === 0) return found
  const ends = await listEndOffsets(core, new Map([...groupParts(after)]), opts)
  const endOf = new Map(ends.map((e) => [partitionKey(e.topic, e.partition), e]))
  return found.map((o) => (o.error === null && o.offset < 0n ? { ...endOf.get(partitionKey(o.topic, o.partition))!, timestamp: -1 } : o))
}

function groupParts(xs: Array<{ topic: string; partition: number }>): Map<string, number[]> {
  const m = new Map<string, number[]>()
  for (const x of xs) {
    let ps = m.get(x.topic)
    if (ps === undefined) m.set(x.topic, (ps = []))
    ps.push(x.partition)
  }
  return m
}

/**
 * deleteRecords deletes the records of each partition before an offset (-1n: before the high
 * watermark, so every record) and returns each partition's new start offset, sorted by topic and
 * partition.
 */
export async function deleteRecords(core: ClientCore, offsets: { [topic: string]: { [partition: number]: bigint } } | Map<string, Map<number, bigint>>, opts: TimeoutOptions = {}): Promise<DeletedRecords[]> {
  const want = new Map<string, Map<number, bigint>>()
  const entries = offsets instanceof Map ? [...offsets] : Object.entries(offsets).map(([t, ps]) => [t, new Map(Object.entries(ps).map(([p, o]) => [Number(p), o]))] as const)
  for (const [t, ps] of entries) {
    if (typeof t !== 'string' || t === '') throw new InvalidArgumentError('offsets', `must be keyed by topic names, got ${JSON.stringify(t)}`)
    for (const [p, o] of ps) {
      if (!Number.isInteger(p) || p < 0) throw new InvalidArgumentError(`offsets.${t}`, `must be keyed by partition numbers, got ${p}`)
      if (typeof o !== 'bigint' || o < -1n) throw new InvalidArgumentError(`offsets.${t}.${p}`, `must be an offset as a bigint (-1n for the high watermark), got ${typeof o === 'bigint' ? `${o}n` : JSON.stringify(o)}`)
    }
    want.set(t, new Map(ps))
  }
  const parts = new Map([...want].map(([t, ps]) => [t, [...ps.keys()]]))
  const results = await byLeader(
    core,
    parts,
    async (node, mine, signal) => {
      const res = await sendTo(
        core,
        node,
        DeleteRecords,
        () => {
          const req = DeleteRecords.newRequest()
          req.timeoutMs = opts.timeout ?? 30_000
          req.topics = [...mine].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p, offset: want.get(name)!.get(p)! })) }))
          return req
        },
        signal ? { signal } : {},
      )
      const out = new Map<string, DeletedRecords>()
      for (const t of res.topics) {
        for (const p of t.partitions) {
          out.set(partitionKey(t.name, p.partitionIndex), { topic: t.name, partition: p.partitionIndex, lowWatermark: p.errorCode === 0 ? p.lowWatermark : -1n, error: errorFor(p.errorCode, { topic: t.name, partition: p.partitionIndex, broker: node }) })
        }
      }
      return out
    },
    codeOfResult,
    (topic, partition, err) => ({ topic, partition, lowWatermark: -1n, error: err as KafkaWireError }),
    opts,
  )
  return [...results.values()].sort(byTopicPartition)
}
