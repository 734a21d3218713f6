// Partitioners pick the partition of every record produced without an explicit one. The shape is
// franz-go's: a Partitioner makes one TopicPartitioner per topic, and the producer drives that
// TopicPartitioner synchronously, one record at a time, so a TopicPartitioner keeps plain fields and
// needs no locking. The default is Java's since Kafka 3.3 (KIP-794): keys hash with murmur2 exactly as
// the Java client does, keyless records stick to one partition for a run of bytes.

import { murmur2, murmur2String, toPositive } from '../../protocol/murmur2.js'
import type { ProduceRecord } from '../../protocol/record.js'
import { InvalidOptionError, PartitionerError } from '../errors.js'

/**
 * Partitioner makes a TopicPartitioner for each topic the producer writes to. `forTopic` is called
 * once per topic, the first time a record for it is partitioned.
 */
export interface Partitioner {
  forTopic(topic: string): TopicPartitioner
}

/**
 * PartitionBacklog tells an adaptive partitioner how much is waiting to be sent on a partition:
 * `backlog(i)` is the number of batches (or records) buffered and not yet sent for index `i`
 * of the same `n` partitions `partition` was given. The producer makes one per topic, not per record;
 * it is only read when a sticky partitioner switches partition.
 */
export type PartitionBacklog = (index: number) => number

/**
 * TopicPartitioner picks partitions for the records of one topic. The producer calls it, for every
 * record that has no `partition` of its own, in this order and synchronously:
 *
 * 1. `requiresConsistency(record)`: true → `n` is the count of all partitions and the index returned
 *    is the partition id, even if that partition has no leader right now (the record waits for it);
 *    false → `n` is the count of writable partitions (with a leader) and the index is into that list,
 *    sorted by partition id.
 * 2. `partition(record, n, backlog?)` returns an index in [0, n). It may throw (a record the
 *    partitioner cannot place, such as one without a partition for `manualPartitioner`); the producer
 *    fails that record with the error. The producer also fails the record when the index is not an
 *    integer in [0, n): user-written partitioners are not trusted.
 * 3. If `onNewBatch` exists and buffering the record at that index would start a new batch (none is
 *    open, or the open one cannot take it), call `onNewBatch()` once, then `partition` again and use
 *    the second answer (KIP-480: the moment to leave a sticky partition without splitting a batch).
 * 4. After the record is buffered, `onRecordAdded(bytes, batchBytes)` if it exists: `bytes` is the
 *    record's encoded size in its batch, `batchBytes` the size of that batch now.
 *
 * `onNewBatch` and `onRecordAdded` concern the record of the latest `partition` call; a partitioner
 * ignores them when that record was not placed by its sticky logic (keyed records, round robin).
 * Records with an explicit `partition` never reach the partitioner.
 */
export interface TopicPartitioner {
  /**
   * requiresConsistency is true when the record must land on the partition it maps to even if that
   * partition is not writable now (keyed hashing), so the producer passes all partitions.
   */
  requiresConsistency(record: ProduceRecord): boolean
  /** partition picks an index in [0, n) for the record; `n` is at least 1 (see requiresConsistency). */
  partition(record: ProduceRecord, n: number, backlog?: PartitionBacklog): number
  /** onNewBatch says the record just partitioned would start a new batch on its partition. */
  onNewBatch?(): void
  /** onRecordAdded says the record just partitioned was buffered: `bytes` of it, in a batch now `batchBytes` big. */
  onRecordAdded?(bytes: number, batchBytes?: number): void
}

// ---- key hashing ----------------------------------------------------------------------------------

/**
 * javaPartitionForKey returns the partition the Java client's default partitioner picks for a key
 * among `n` partitions: `toPositive(murmur2(keyBytes)) % n` (BuiltInPartitioner.partitionForKey). A
 * string key hashes over its UTF-8 bytes as Java's StringSerializer makes them, unpaired surrogates
 * included.
 */
export function javaPartitionForKey(key: Buffer | string, n: number): number {
  // A string key is hashed from its characters (murmur2String): no UTF-8 Buffer per record.
  return toPositive(typeof key === 'string' ? murmur2String(key) : murmur2(key)) % n
}

// ---- random choices -----------------------------------------------------------------------------

/** RandomSource returns a number in [0, 1), as Math.random does; partitioners take one for reproducible tests. */
export type RandomSource = () => number

function randomIndex(random: RandomSource, n: number): number {
  return Math.floor(random() * n)
}

// ---- simple partitioners ------------------------------------------------------------------------

class RoundRobinTopicPartitioner implements TopicPartitioner {
  #on = 0
  requiresConsistency(): boolean { return false }
  partition(_record: ProduceRecord, n: number): number {
    if (this.#on >= n) this.#on = 0
    return this.#on++
  }
}

/**
 * roundRobinPartitioner cycles through the writable partitions one record at a time, ignoring keys.
 * It spreads records most evenly and batches worst (franz-go's RoundRobinPartitioner; Java's
 * RoundRobinPartitioner).
 */
export function roundRobinPartitioner(): Partitioner {
  return { forTopic: () => new RoundRobinTopicPartitioner() }
}

class ManualTopicPartitioner implements TopicPartitioner {
  readonly #topic: string
  constructor(topic: string) { this.#topic = topic }
  requiresConsistency(): boolean { return true }
  partition(record: ProduceRecord): number {
    const p = record.partition
    if (p === undefined || !Number.isInteger(p) || p < 0) {
      throw new PartitionerError(`manual partitioner: the record has no partition (got ${String(p)})`, this.#topic)
    }
    return p
  }
}

/**
 * manualPartitioner uses each record's own `partition`. The producer already honours an explicit
 * partition before asking any partitioner, so this one only sees records without one, and throws a
 * PartitionerError for them: with it, a record missing its partition fails instead of being placed
 * (franz-go's ManualPartitioner).
 */
export function manualPartitioner(): Partitioner {
  return { forTopic: (topic) => new ManualTopicPartitioner(topic) }
}

class CustomTopicPartitioner implements TopicPartitioner {
  readonly #topic: string
  readonly #fn: (record: ProduceRecord, n: number) => number
  constructor(topic: string, fn: (record: ProduceRecord, n: number) => number) {
    this.#topic = topic
    this.#fn = fn
  }
  requiresConsistency(): boolean { return true }
  partition(record: ProduceRecord, n: number): number {
    const p = this.#fn(record, n)
    if (!Number.isInteger(p) || p < 0 || p >= n) {
      throw new PartitionerError(`custom partitioner returned ${String(p)}, not a partition in [0, ${n})`, this.#topic)
    }
    return p
  }
}

/**
 * customPartitioner wraps a function of (record, number of partitions) returning a partition id. All
 * partitions are passed, writable or not, so a function that hashes stays consistent (franz-go's
 * BasicConsistentPartitioner). A result that is not an integer in [0, n) fails the record.
 */
export function customPartitioner(fn: (record: ProduceRecord, n: number) => number): Partitioner {
  if (typeof fn !== 'function') throw new InvalidOptionError('partitioner', 'customPartitioner needs a function of (record, n)')
  return { forTopic: (topic) => new CustomTopicPartitioner(topic, fn) }
}

// ---- sticky (KIP-480) ---------------------------------------------------------------------------

class StickyTopicPartitioner implements TopicPartitioner {
  readonly #keys: boolean
  readonly #random: RandomSource
  #on = -1
  #last = -1
  // #placed is whether the latest partition() call used the sticky pick, so batch events caused by
  // keyed records do not move the keyless records along.
  #placed = false

  constructor(keys: boolean, random: RandomSource) {
    this.#keys = keys
    this.#random = random
  }

  requiresConsistency(record: ProduceRecord): boolean {
    return this.#keys && record.key != null
  }

  partition(record: ProduceRecord, n: number): number {
    const key = record.key
    if (this.#keys && key != null) {
      this.#placed = false
      return javaPartitionForKey(key, n)
    }
    this.#placed = true
    if (this.#on < 0 || this.#on >= n) {
      let p = randomIndex(this.#random, n)
      // A new batch means "move on": landing on the partition just left would defeat that.
      if (p === this.#last && n > 1) p = (p + 1) % n
      this.#on = p
    }
    return this.#on
  }

  onNewBatch(): void {
    if (!this.#placed) return
    this.#last = this.#on
    this.#on = -1
  }
}

/**
 * stickyKeyPartitioner hashes keyed records as the Java client does (see javaPartitionForKey) and
 * keeps keyless records on one random partition until a record would start a new batch there, then
 * moves to another. This was Java's default from 2.4 to 3.2 (KIP-480); franz-go's
 * StickyKeyPartitioner.
 */
export function stickyKeyPartitioner(opts: { random?: RandomSource } = {}): Partitioner {
  const random = opts.random ?? Math.random
  return { forTopic: () => new StickyTopicPartitioner(true, random) }
}

/**
 * stickyPartitioner is stickyKeyPartitioner ignoring keys: every record sticks to one partition until
 * a new batch starts (franz-go's StickyPartitioner).
 */
export function stickyPartitioner(opts: { random?: RandomSource } = {}): Partitioner {
  const random = opts.random ?? Math.random
  return { forTopic: () => new StickyTopicPartitioner(false, random) }
}

// ---- uniform sticky (KIP-794) -------------------------------------------------------------------

/** UniformBytesOptions configures uniformBytesPartitioner and defaultPartitioner. */
export interface UniformBytesOptions {
  /**
   * adaptive weights the choice of the next sticky partition against partitions with a longer backlog,
   * when the producer passes one (KIP-794; Java's partitioner.adaptive.partitioning.enable). Default true.
   */
  adaptive?: boolean
  /** keys hashes keyed records as the Java client does; false sticks them like keyless ones (Java's partitioner.ignore.keys). Default true. */
  keys?: boolean
  /** random replaces Math.random, for reproducible tests. */
  random?: RandomSource
}

class UniformBytesTopicPartitioner implements TopicPartitioner {
  readonly #bytes: number
  readonly #adaptive: boolean
  readonly #keys: boolean
  readonly #random: RandomSource
  #on = -1
  #produced = 0
  #placed = false

  constructor(bytes: number, adaptive: boolean, keys: boolean, random: RandomSource) {
    this.#bytes = bytes
    this.#adaptive = adaptive
    this.#keys = keys
    this.#random = random
  }

  requiresConsistency(record: ProduceRecord): boolean {
    return this.#keys && record.key != null
  }

  partition(record: ProduceRecord, n: number, backlog?: PartitionBacklog): number {
    const key = record.key
    if (this.#keys && key != null) {
      this.#placed = false
      return javaPartitionForKey(key, n)
    }
    this.#placed = true
    if (this.#on < 0 || this.#on >= n) {
      this.#on = this.#adaptive && backlog !== undefined ? this.#weighted(n, backlog) : randomIndex(this.#random, n)
      this.#produced = 0
    }
    return this.#on
  }

  // onNewBatch: a batch boundary is the best moment to switch (no partly filled batch is left
  // behind), so switch here once the partition has had its share of bytes.
  onNewBatch(): void {
    if (this.#placed && this.#produced >= this.#bytes) this.#on = -1
  }

  // onRecordAdded counts bytes sent to the sticky partition and switches, as Java's
  // BuiltInPartitioner.updatePartitionInfo does, once `bytes` were produced and the batch holds at
  // least that much (Java: the batch is full, as its batch.size is the threshold), or in any case once
  // twice `bytes` were produced, so a batch that never fills (high linger, mixed keyed records) cannot
  // pin the partition forever. Without `batchBytes` the switch happens at `bytes` (franz-go's rule).
  onRecordAdded(bytes: number, batchBytes: number = Infinity): void {
    if (!this.#placed) return
    const produced = (this.#produced += bytes)
    if (produced >= this.#bytes && (batchBytes >= this.#bytes || produced >= 2 * this.#bytes)) this.#on = -1
  }

  // #weighted picks an index with probability proportional to (max backlog + 1 - backlog): Java's
  // cumulative frequency table from KIP-794, walked without building it (two passes, no allocation).
  // Equal backlogs are a uniform pick.
  #weighted(n: number, backlog: PartitionBacklog): number {
    let max = 0
    let sum = 0
    let allEqual = true
    const first = backlog(0)
    for (let i = 0; i < n; i++) {
      const b = backlog(i)
      if (b !== first) allEqual = false
      if (b > max) max = b
      sum += b
    }
    if (allEqual) return randomIndex(this.#random, n)
    const total = n * (max + 1) - sum
    let r = Math.floor(this.#random() * total)
    for (let i = 0; i < n; i++) {
      r -= max + 1 - backlog(i)
      if (r < 0) return i
    }
    return n - 1
  }
}

/**
 * uniformBytesPartitioner is KIP-794's uniform sticky partitioner (Java's built-in partitioner since
 * 3.3; franz-go's UniformBytesPartitioner): keyed records hash as in Java (unless `keys` is false),
 * keyless records go to one partition until about `bytes` were produced to it, then to another chosen
 * at random, weighted against backlogged partitions when `adaptive` and the producer passes a backlog.
 */
export function uniformBytesPartitioner(bytes: number, opts: UniformBytesOptions = {}): Partitioner {
  if (!Number.isInteger(bytes) || bytes < 1) throw new InvalidOptionError('partitioner', `uniformBytesPartitioner needs a positive integer of bytes, got ${String(bytes)}`)
  const adaptive = opts.adaptive ?? true
  const keys = opts.keys ?? true
  const random = opts.random ?? Math.random
  return { forTopic: () => new UniformBytesTopicPartitioner(bytes, adaptive, keys, random) }
}

/**
 * DEFAULT_STICKY_BYTES is how many bytes the default partitioner sends to one partition before moving
 * keyless records on: 64 KiB, franz-go's default. Java uses batch.size (16 KiB); this client's batch cap
 * (producerBatchMaxBytes, 1 MB) would pin a slow producer to one partition for too long.
 */
export const DEFAULT_STICKY_BYTES = 64 * 1024

/**
 * defaultPartitioner is the Java client's default since Kafka 3.3 (KIP-794): a keyed record goes to
 * `toPositive(murmur2(key)) % n`, the partition Java picks for the same key and partition count; a
 * keyless record goes to the uniform sticky partition, which moves on after `bytes` (default
 * DEFAULT_STICKY_BYTES) at a batch boundary. Adaptive by default, as in Java and franz-go.
 */
export function defaultPartitioner(opts: UniformBytesOptions & { bytes?: number } = {}): Partitioner {
  return uniformBytesPartitioner(opts.bytes ?? DEFAULT_STICKY_BYTES, opts)
}

// ---- option -------------------------------------------------------------------------------------

/** PartitionerName names a built-in partitioner for the `partitioner` option. */
export type PartitionerName = 'default' | 'round-robin' | 'sticky' | 'sticky-key' | 'manual'

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (v === null || typeof v !== 'object') return String(v)
  return Array.isArray(v) ? 'an array' : 'an object without forTopic'
}

// checkedPartitioner validates what a user's Partitioner hands back once per topic, so a missing
// method is an error naming the option instead of a TypeError on the first record.
function checkedPartitioner(p: Partitioner): Partitioner {
  return {
    forTopic(topic: string): TopicPartitioner {
      const tp = p.forTopic(topic)
      if (tp === null || typeof tp !== 'object' || typeof tp.partition !== 'function' || typeof tp.requiresConsistency !== 'function') {
        throw new InvalidOptionError('partitioner', `forTopic(${JSON.stringify(topic)}) must return an object with partition and requiresConsistency methods`)
      }
      return tp
    },
  }
}

/**
 * partitionerFrom turns a `partitioner` option into a Partitioner: a built-in name, a Partitioner
 * object, or a function of (record, n) (see customPartitioner). Anything else throws an
 * InvalidOptionError naming the option.
 */
export function partitionerFrom(option: PartitionerName | Partitioner | ((record: ProduceRecord, n: number) => number) | undefined): Partitioner {
  switch (option) {
    case undefined:
    case 'default': return defaultPartitioner()
    case 'round-robin': return roundRobinPartitioner()
    case 'sticky': return stickyPartitioner()
    case 'sticky-key': return stickyKeyPartitioner()
    case 'manual': return manualPartitioner()
  }
  if (typeof option === 'function') return customPartitioner(option)
  if (typeof option === 'object' && option !== null && typeof option.forTopic === 'function') return checkedPartitioner(option)
  throw new InvalidOptionError('partitioner', `${describe(option)} is not a partitioner: want 'default', 'round-robin', 'sticky', 'sticky-key', 'manual', a Partitioner or a function of (record, n)`)
}
