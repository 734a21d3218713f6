import type { Record } from '../../protocol/record.js'
import { recycleFrame } from '../connection.js'
import type { LazyRecords } from './lazy-records.js'

/** FetchPartition is what one poll returned for one partition: records, or an error. */
export interface FetchPartition {
  topic: string
  partition: number
  /** error is set when fetching the partition failed in a way the application should know. */
  error: Error | null
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
  /**
   * records are the partition's records, in offset order. A consumer makes this array when it is
   * first read: until then (and when `eachRecord` or iterating the Fetches is all that reads them)
   * each record is made as it is reached.
   */
  records: Record[]
}

/** FetchError is one error of a poll, with the partition it concerns (-1 for none). */
export interface FetchError {
  topic: string
  partition: number
  error: Error
}

/**
 * Fetches is what a poll returns (franz-go's Fetches): the records of every partition that had
 * some, in fetch order, and the errors met on the way. Records of one partition are in offset order.
 */
export class Fetches {
  readonly partitions: FetchPartition[]
  #errors: FetchError[]
  #recycled = false

  constructor(partitions: FetchPartition[] = [], errors: FetchError[] = []) {
    this.partitions = partitions
    this.#errors = errors
  }

  /**
   * eachRecord calls `fn` for every record, partition by partition. Records of a partition whose
   * `records` array was not read are made as they are reached and kept by nothing but `fn`: the
   * cheapest way through a poll, and the one that keeps memory lowest. Calling it twice then gives
   * equal records, not the same objects.
   */
  eachRecord(fn: (r: Record) => void): void {
    const ps = this.partitions
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!
      const lz = lazyOf(p)
      if (lz !== null) {
        lz.each(fn)
        continue
      }
      const rs = p.records
      for (let j = 0; j < rs.length; j++) fn(rs[j]!)
    }
  }

  /** eachPartition calls `fn` for every partition in the fetch. */
  eachPartition(fn: (p: FetchPartition) => void): void {
    for (const p of this.partitions) fn(p)
  }

  /** records returns every record in one array. */
  records(): Record[] {
    const ps = this.partitions
    if (ps.length === 1) return ps[0]!.records
    const out: Record[] = []
    for (const p of ps) for (const r of p.records) out.push(r)
    return out
  }

  /** numRecords counts the records. */
  numRecords(): number {
    let n = 0
    for (const p of this.partitions) n += recordCount(p)
    return n
  }

  /** isEmpty is true when there are no records and no errors. */
  isEmpty(): boolean {
    return this.numRecords() === 0 && this.#errors.length === 0
  }

  /** errors returns the errors of this poll: partition errors and, for an aborted poll, the abort reason. */
  errors(): FetchError[] {
    const out = [...this.#errors]
    for (const p of this.partitions) if (p.error !== null) out.push({ topic: p.topic, partition: p.partition, error: p.error })
    return out
  }

  /** addError appends an error that concerns no partition (an aborted poll, a closed client). */
  addError(error: Error, topic = '', partition = -1): void {
    this.#errors.push({ topic, partition, error })
  }

  /**
   * recycle says the application is done with every record of this Fetches and with every Buffer
   * taken from them (franz-go's Record.Recycle, for a whole poll): with the client's
   * `recycleFetches`, the response buffers they view are read into again once nothing else holds
   * them, and the records then read whatever comes next. Without that option (and for a share-group
   * member's Fetches) it does nothing. Calling it again does nothing.
   */
  recycle(): void {
    if (this.#recycled) return
    this.#recycled = true
    for (const p of this.partitions) releaseFrame(p)
  }

  /** Iterating a Fetches gives every record, partition by partition, made as eachRecord makes them. */
  *[Symbol.iterator](): IterableIterator<Record> {
    for (const p of this.partitions) yield* lazyOf(p) ?? p.records
  }
}

// A lazy partition: a FetchPartition whose records wait in a LazyRecords until they are read.

/** LAZY is where a lazy partition keeps its LazyRecords until its `records` array is made (then null). */
const LAZY = Symbol('lazyRecords')

type LazyPartition = FetchPartition & { [LAZY]: LazyRecords | null }

/** getRecords is the `records` getter of a lazy partition: it makes the array once and keeps it as a plain property. */
function getRecords(this: LazyPartition): Record[] {
  const rs = this[LAZY]!.toArray()
  setRecords.call(this, rs)
  return rs
}

function setRecords(this: LazyPartition, rs: Record[]): void {
  Object.defineProperty(this, 'records', { value: rs, writable: true, enumerable: true, configurable: true })
  this[LAZY] = null
}

const RECORDS_ACCESSOR: PropertyDescriptor = { get: getRecords, set: setRecords, enumerable: true, configurable: true }

/**
 * lazyPartition makes a FetchPartition whose `records` is made from `lazy` when first read (an own,
 * enumerable property, so spreading or comparing the partition sees the records).
 */
export function lazyPartition(base: Omit<FetchPartition, 'records'>, lazy: LazyRecords): FetchPartition {
  const p = { topic: base.topic, partition: base.partition, error: base.error, highWatermark: base.highWatermark, lastStableOffset: base.lastStableOffset, logStartOffset: base.logStartOffset }
  Object.defineProperty(p, 'records', RECORDS_ACCESSOR)
  Object.defineProperty(p, LAZY, { value: lazy, writable: true, enumerable: false, configurable: false })
  return p as FetchPartition
}

/** lazyOf is a lazy partition's LazyRecords while its `records` array is not made yet; null otherwise. */
export function lazyOf(p: FetchPartition): LazyRecords | null {
  return (p as Partial<LazyPartition>)[LAZY] ?? null
}

/** recordCount counts a partition's records without making them. */
export function recordCount(p: FetchPartition): number {
  const lz = lazyOf(p)
  return lz !== null ? lz.count : p.records.length
}

// A partition's frame lease: with recycleFetches, all the partitions made from a fetch response whose
// records view it (those holding only compressed batches too) share a FrameLease, counting them
// (buffered or handed out); the response's buffer goes back to its connection (recycleFrame) when the
// last is released: a buffered partition when it is dropped, or when a poll hands it out (as it is,
// or as the part split off), once its Fetches is recycled.

/** FrameLease counts the partitions whose records view one fetch response. */
export class FrameLease {
  #view: Uint8Array
  #holders = 0

  constructor(view: Uint8Array) {
    this.#view = view
  }

  /** hold counts one more partition viewing the response. */
  hold(): void {
    this.#holders++
  }

  /** release counts one fewer: the last one hands the response's buffer back. */
  release(): void {
    if (--this.#holders === 0) recycleFrame(this.#view)
  }
}

/** LEASE is where a partition keeps the lease of the response its records view (recycleFetches). */
const LEASE = Symbol('frameLease')

type LeasedPartition = FetchPartition & { [LEASE]?: FrameLease | null }

/** leaseFrame makes `p` a holder of `lease`. */
export function leaseFrame(p: FetchPartition, lease: FrameLease): void {
  lease.hold()
  Object.defineProperty(p, LEASE, { value: lease, writable: true, enumerable: false, configurable: false })
}

/** holdSameFrame makes `q`, a partition split off `p` or standing for it, a holder of the lease `p` holds, if any. */
export function holdSameFrame(q: FetchPartition, p: FetchPartition): void {
  const lease = (p as LeasedPartition)[LEASE]
  if (lease !== undefined && lease !== null) leaseFrame(q, lease)
}

/** releaseFrame lets go of the lease `p` holds, if any, once. */
export function releaseFrame(p: FetchPartition): void {
  const lease = (p as LeasedPartition)[LEASE]
  if (lease === undefined || lease === null) return
  ;(p as LeasedPartition)[LEASE] = null
  lease.release()
}
