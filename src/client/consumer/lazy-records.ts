/**
 * The fetched records of one partition, made as the application reads them. A fetched batch is
 * checked record by record when its response arrives, but kept as bytes; a record object is made
 * only when `eachRecord` or an iteration reaches it, or when the partition's `records` array is first
 * read (fetches.ts makes the partitions that hold a LazyRecords). Records an application does not
 * keep then die young, one at a time, instead of a whole response's records living from arrival
 * until the poll's last one was handled: V8 copies far fewer objects in its young collections, and
 * keeps its young generation (and the process's memory) small.
 */
import type { Record } from '../../protocol/record.js'
import { forEachDeferredRecord, type RecordBatch } from '../../protocol/records.js'

/**
 * LazyRecords are one partition's records of one fetch, in offset order: deferred batches (made on
 * reading) and records already made (control records kept, legacy message sets, the part of a batch
 * at or after the fetch's start).
 */
export class LazyRecords {
  /** count is the number of records. */
  count = 0
  /** firstOffset is the first record's offset, -1n with none. */
  firstOffset = -1n
  /** lastOffset and lastLeaderEpoch are the last record's offset and leader epoch (-1n and -1 with none). */
  lastOffset = -1n
  lastLeaderEpoch = -1
  readonly #fields: { topic: string; partition: number }
  readonly #parts: Array<RecordBatch | Record[]> = []

  constructor(fields: { topic: string; partition: number }) {
    this.#fields = fields
  }

  /**
   * addBatch adds the records of a batch decoded with deferRecords that are at or after `from`: all
   * of them are kept as bytes, or (a fetch that starts inside the batch) those are made now, and the
   * ones before `from` not at all.
   */
  addBatch(b: RecordBatch, from: bigint): void {
    const d = b.deferred!
    if (d.count === 0) return
    if (b.baseOffset + BigInt(d.minDelta) < from) {
      this.#addMade(this.#make(b, from))
      return
    }
    this.#addDeferred(b)
  }

  /** addDeferred adds a deferred batch (with records) whole, its records kept as bytes. */
  #addDeferred(b: RecordBatch): void {
    const d = b.deferred!
    if (this.count === 0) this.firstOffset = b.baseOffset + BigInt(d.minDelta)
    this.count += d.count
    this.lastOffset = b.baseOffset + BigInt(d.lastDelta)
    this.lastLeaderEpoch = b.partitionLeaderEpoch
    this.#parts.push(b)
  }

  /** addRecords adds the records of `rs` (given over to this: kept as is when none is before `from`) at or after `from`. */
  addRecords(rs: Record[], from: bigint): void {
    let i = 0
    while (i < rs.length && rs[i]!.offset >= from) i++
    if (i === rs.length) {
      this.#addMade(rs)
      return
    }
    const kept = rs.slice(0, i)
    for (; i < rs.length; i++) if (rs[i]!.offset >= from) kept.push(rs[i]!)
    this.#addMade(kept)
  }

  /** addMade adds records already made (and filtered), if there are any. */
  #addMade(rs: Record[]): void {
    if (rs.length === 0) return
    this.#parts.push(rs)
    if (this.count === 0) this.firstOffset = rs[0]!.offset
    this.count += rs.length
    const last = rs[rs.length - 1]!
    this.lastOffset = last.offset
    this.lastLeaderEpoch = last.leaderEpoch
  }

  /**
   * takeFirst moves the first `n` records (0 < n < count) into a new LazyRecords and keeps the rest,
   * for a poll that takes part of a partition: whole batches move still as bytes, and only the one
   * batch the split falls in is made.
   */
  takeFirst(n: number): LazyRecords {
    const head = new LazyRecords(this.#fields)
    const parts = this.#parts
    let i = 0
    while (head.count < n) {
      const part = parts[i]!
      const size = Array.isArray(part) ? part.length : part.deferred!.count
      if (head.count + size <= n) {
        if (Array.isArray(part)) head.#addMade(part)
        else head.#addDeferred(part)
        i++
        continue
      }
      const made = Array.isArray(part) ? part : this.#make(part, null)
      const k = n - head.count
      head.#addMade(made.slice(0, k))
      parts[i] = made.slice(k)
      break
    }
    parts.splice(0, i)
    this.count -= n
    const first = parts[0]!
    this.firstOffset = Array.isArray(first) ? first[0]!.offset : first.baseOffset + BigInt(first.deferred!.minDelta)
    return head
  }

  /** make makes a deferred batch's records at or after `from` (all with null) into an array. */
  #make(b: RecordBatch, from: bigint | null): Record[] {
    const made: Record[] = []
    forEachDeferredRecord(b, this.#fields, from, (r) => made.push(r as Record))
    return made
  }

  /** each calls `fn` with every record, making those of deferred batches as it goes (and keeping none). */
  each(fn: (r: Record) => void): void {
    const parts = this.#parts
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!
      if (Array.isArray(part)) for (let j = 0; j < part.length; j++) fn(part[j]!)
      else forEachDeferredRecord(part, this.#fields, null, fn as (r: unknown) => void)
    }
  }

  /** toArray makes every record, in one array. */
  toArray(): Record[] {
    const parts = this.#parts
    if (parts.length === 1 && Array.isArray(parts[0])) return parts[0]
    const out: Record[] = []
    this.each((r) => out.push(r))
    return out
  }

  *[Symbol.iterator](): IterableIterator<Record> {
    for (const part of this.#parts) {
      if (Array.isArray(part)) yield* part
      else {
        // A batch is made whole for a generator (it cannot yield from inside a callback); each batch
        // holds at most a batch's records, not the partition's.
        yield* this.#make(part, null)
      }
    }
  }
}
