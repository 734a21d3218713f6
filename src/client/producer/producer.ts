import { ErrorCode, kafkaErrorCodes } from '../../protocol/error-codes.js'
import { KafkaWireError, KafkaProtocolError } from '../../protocol/errors.js'
import { InitProducerId } from '../../protocol/messages/init-producer-id.js'
import type { ClientCore } from '../core.js'
import type { CoreListener } from '../types.js'
import { topicDeletedError, type LeaderMove } from '../metadata.js'
import type { ProduceRecord } from '../../protocol/record.js'
import { RECORD_BATCH_OVERHEAD, type RecordCompression } from '../../protocol/records.js'
import { codecId } from '../../protocol/compression/index.js'
import { partitionerFrom, type Partitioner, type TopicPartitioner } from './partitioner.js'
import { Batch, RecBuf, recordSize, type ProduceCallback } from './batch.js'
import { Sink } from './sink.js'
import { Transactions } from './transaction.js'
import { WriterPool } from './writer-pool.js'

export type { ProduceCallback } from './batch.js'
export { recordSize } from './batch.js'
import { MaxBufferedError, RecordTooLargeError, InvalidRecordError, RecordTimeoutError, RecordFateUnknownError, BrokersUnreachableError, DataLossError } from '../errors.js'
import { ClientClosedError } from '../errors.js'
import { checkTopicName } from '../topic-name.js'

/** ProduceResult is a produced record after it settled: partition, offset and timestamp are set. */
export type ProduceResult = ProduceRecord & { partition: number; offset: bigint; timestamp: number }

interface TopicState {
  name: string
  partitioner: TopicPartitioner
  recBufs: RecBuf[]
  /** writable lists the partitions with a leader, for partitioners that may skip the others. */
  writable: RecBuf[]
  /** backlog reports a partition's queued batches to adaptive partitioners (KIP-794). */
  backlog: (index: number) => number
  /** records waiting for the topic to appear in metadata. */
  waiting: ProduceRecord[]
  waitingCbs: ProduceCallback[]
  /** waitingAt holds when each waiting record was produced (Date.now()), for the delivery timeout. */
  waitingAt: number[]
  /** loads counts metadata loads that did not know the topic. */
  misses: number
  /** unlinger marks the batches the waiting records land in to be sent at once (flushSoon). */
  unlinger: boolean
  id: string
}

/**
 * RECORD_CODEC is the key of a record's own compression (a batch attributes' codec id, 0 for none),
 * honoured by a producer whose `recordCodecs` is set: the KafkaJS facade's per-send `compression`
 * inside a transaction, where every send goes through one client. Records with different codecs go
 * in different batches. Not part of the package's API.
 */
export const RECORD_CODEC: unique symbol = Symbol('kafka-wire.recordCodec')

/**
 * Producer buffers, partitions, batches and sends records for a Client (franz-go's producer): one
 * RecBuf per partition, one Sink per broker, idempotent sequence numbers by default, and every
 * record's callback called exactly once.
 */
export class Producer implements CoreListener {
  readonly core: ClientCore
  #partitioner: Partitioner
  #topics = new Map<string, TopicState>()
  #sinks = new Map<number, Sink>()
  /** records and bytes buffered (not yet settled). */
  bufferedRecords = 0
  bufferedBytes = 0
  /** produce calls waiting for buffer room, in order. */
  #blocked: ProduceRecord[] = []
  #blockedCbs: ProduceCallback[] = []
  /** blockedAt holds when each blocked call was made (Date.now()), for the delivery timeout. */
  #blockedAt: number[] = []
  /** blockedHead indexes the oldest blocked call (a queue without O(n) shifts). */
  #blockedHead = 0
  #flushers: Array<() => void> = []
  flushing = 0
  #closed = false
  // Idempotence.
  producerId = -1n
  producerEpoch = -1
  #pidLoading: Promise<void> | null = null
  #pidError: Error | null = null
  /** bumping is true while sends are held for an epoch bump (KIP-360). */
  bumping = false
  /**
   * stopped is the error that stopped the producer for good once it detected data loss
   * (stopProducerOnDataLossDetected), null while it produces.
   */
  stopped: DataLossError | null = null
  #needBump = false
  #timeoutTimer: NodeJS.Timeout | null = null
  /** holding is true while records are pending: the client keeps the event loop open for them. */
  #holding = false
  #inAfterSettle = false
  #settleAgain = false
  /** txn is the transaction state machine of a client with a transactionalId, null otherwise. */
  readonly txn: Transactions | null
  /** batchWriters lends the buffers batches are encoded into (sink.ts), reused once batches settle. */
  readonly batchWriters = new WriterPool()
  /** codec is the compression of every batch (the first of producerBatchCompression), unless a record says otherwise. */
  readonly #codec: RecordCompression
  /** recordCodecs makes records' RECORD_CODEC count (off: the property is never read). */
  recordCodecs = false

  constructor(core: ClientCore) {
    this.core = core
    this.#partitioner = partitionerFrom(core.config.partitioner)
    this.#codec = codecId(core.config.compression[0]!)
    const id = core.config.transactionalId
    this.txn = id === null ? null : new Transactions(this, id)
    core.listen(this)
  }

  get #cfg() {
    return this.core.config
  }

  // ---------------------------------------------------------------- produce

  /** produce buffers one record; `callback` is called exactly once. */
  produce(record: ProduceRecord, callback: ProduceCallback, noWait: boolean): void {
    const hooks = this.core.hooks
    if (record !== null && typeof record === 'object' && (record.topic === undefined || record.topic === '') && this.#cfg.defaultProduceTopic !== null) {
      record.topic = this.#cfg.defaultProduceTopic
    }
    // franz-go calls the buffered hook before validation, so interceptors can fix records up.
    if (hooks.onProduceRecordBuffered.length !== 0) hooks.produceRecordBuffered(record)
    if (this.txn !== null) {
      // A transactional client produces inside a transaction only (franz-go's ErrNotInTransaction).
      const refused = this.txn.produceError()
      if (refused !== null) {
        this.#finishOne(record, callback, refused)
        return
      }
    }
    // A topic the producer knows was checked when it was first seen; a new one is checked here, so a
    // name the broker would refuse fails at once instead of after metadata round trips.
    const invalid = validate(record) ?? (this.#topics.has(record.topic) ? null : checkTopicName(record.topic))
    if (invalid !== null) {
      this.#finishOne(record, callback, invalid)
      return
    }
    if (this.#closed) {
      this.#finishOne(record, callback, new ClientClosedError())
      return
    }
    if (this.stopped !== null) {
      this.#finishOne(record, callback, this.stopped)
      return
    }
    if (record.timestamp === undefined) record.timestamp = Date.now()
    const size = recordSize(record)
    if (size + RECORD_BATCH_OVERHEAD > this.#cfg.producerBatchMaxBytes) {
      this.#finishOne(record, callback, new RecordTooLargeError(size, this.#cfg.producerBatchMaxBytes, record.topic))
      return
    }
    if (this.#blocked.length > this.#blockedHead || this.#full(size)) {
      if (noWait) {
        this.#finishOne(record, callback, new MaxBufferedError(this.bufferedRecords >= this.#cfg.maxBufferedRecords ? `${this.bufferedRecords} records` : `${this.bufferedBytes} bytes`))
        return
      }
      this.#blocked.push(record)
      this.#blockedCbs.push(callback)
      this.#blockedAt.push(Date.now())
      this.#armTimeouts()
      return
    }
    this.#buffer(record, callback, size)
  }

  #full(size: number): boolean {
    const c = this.#cfg
    if (this.bufferedRecords >= c.maxBufferedRecords) return true
    return c.maxBufferedBytes > 0 && this.bufferedBytes + size > c.maxBufferedBytes && this.bufferedRecords > 0
  }

  #buffer(record: ProduceRecord, callback: ProduceCallback, size: number): void {
    this.bufferedRecords++
    this.bufferedBytes += size
    if (!this.#holding) {
      this.#holding = true
      this.core.hold()
    }
    this.#armTimeouts()
    const t = this.#topic(record.topic)
    if (t.recBufs.length === 0) {
      t.waiting.push(record)
      t.waitingCbs.push(callback)
      t.waitingAt.push(Date.now())
      this.core.metadata.interest([t.name])
      this.core.metadata.refresh(true).catch(() => {})
      return
    }
    this.#partition(t, record, callback, size)
  }

  #topic(name: string): TopicState {
    let t = this.#topics.get(name)
    if (t === undefined) {
      const state: TopicState = { name, partitioner: this.#partitioner.forTopic(name), recBufs: [], writable: [], backlog: (i) => state.writable[i]?.batches.length ?? 0, waiting: [], waitingCbs: [], waitingAt: [], misses: 0, id: '', unlinger: false }
      t = state
      this.#topics.set(name, t)
      this.#syncTopic(t)
    }
    return t
  }

  #partition(t: TopicState, record: ProduceRecord, callback: ProduceCallback, size: number): void {
    let rb: RecBuf | undefined
    let p = record.partition ?? -1
    // fits is the partition whose open batch is known to take the record, so it is not checked twice.
    let fits: RecBuf | undefined
    const codec = this.recordCodecs ? ((record as { [RECORD_CODEC]?: RecordCompression })[RECORD_CODEC] ?? this.#codec) : this.#codec
    if (p >= 0) {
      rb = t.recBufs[p]
    } else {
      try {
        rb = this.#pick(t, record)
        // A sticky partitioner moves on when its partition starts a new batch: tell it, ask again.
        if (rb !== undefined && t.partitioner.onNewBatch !== undefined) {
          if (this.#startsBatch(rb, size, codec)) {
            t.partitioner.onNewBatch()
            rb = this.#pick(t, record)
          } else fits = rb
        }
      } catch (err) {
        this.#release(size)
        this.#finishOne(record, callback, err as Error)
        this.#afterSettle()
        return
      }
      p = rb?.partition ?? p
    }
    if (rb === undefined) {
      this.#release(size)
      const n = t.recBufs.length
      this.#finishOne(record, callback, new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: t.name, partition: p, errorMessage: `partition ${p} does not exist (the topic has ${n})` }))
      this.#afterSettle()
      return
    }
    record.partition = rb.partition
    const batches = rb.batches
    let batch = batches.length > 0 ? batches[batches.length - 1]! : null
    let created = false
    if (batch === null || (rb !== fits && this.#startsBatch(rb, size, codec))) {
      batch = new Batch(Date.now(), codec)
      batches.push(batch)
      created = true
    }
    batch.records.push(record)
    batch.callbacks.push(callback)
    batch.bytes += size
    rb.bufferedRecords++
    t.partitioner.onRecordAdded?.(size, batch.bytes)
    const hooks = this.core.hooks
    if (hooks.onProduceRecordPartitioned.length !== 0) hooks.produceRecordPartitioned(record, rb.leader)
    // The sink needs waking for a new batch (its linger starts) and a full one (it goes now); a record
    // joining an open batch changes neither, and the sink's timer is armed for that batch already. A
    // batch is full when it reached the cap, or when the one before it, unsent, could not take this
    // record: that one goes now, not when the sink's timer (armed for an older deadline) fires.
    const prev = created && batches.length > 1 ? batches[batches.length - 2]! : null
    const full = batch.bytes + RECORD_BATCH_OVERHEAD >= this.#cfg.producerBatchMaxBytes || (prev !== null && !prev.inflight && !prev.acked)
    if (rb.sink !== null && (created || full)) rb.sink.wake(full)
  }

  /** pick asks the topic's partitioner; keyed partitioners see every partition, others the writable ones. */
  #pick(t: TopicState, record: ProduceRecord): RecBuf | undefined {
    const all = t.partitioner.requiresConsistency(record) || t.writable.length === 0
    const list = all ? t.recBufs : t.writable
    const i = t.partitioner.partition(record, list.length, all ? undefined : t.backlog)
    if (!Number.isInteger(i) || i < 0 || i >= list.length) {
      throw new InvalidRecordError(`the partitioner returned ${String(i)}, not a partition index in [0, ${list.length})`, t.name)
    }
    return list[i]
  }

  /** startsBatch is true when a record of `size` bytes compressed with `codec` would not go into the partition's open batch. */
  #startsBatch(rb: RecBuf, size: number, codec: RecordCompression): boolean {
    const b = rb.batches.length > 0 ? rb.batches[rb.batches.length - 1]! : null
    return b === null || b.encoded !== null || b.inflight || b.acked || b.codec !== codec || b.bytes + size + RECORD_BATCH_OVERHEAD > this.#cfg.producerBatchMaxBytes
  }

  /** wants is true when records for the topic were produced (its metadata stays of interest). */
  wants(topic: string): boolean {
    return this.#topics.has(topic)
  }

  /** onMetadata re-partitions waiting records and moves partitions whose leader changed. */
  onMetadata(): void {
    for (const t of this.#topics.values()) this.#syncTopic(t)
  }

  #syncTopic(t: TopicState): void {
    const info = this.core.metadata.topics.get(t.name)
    if (info === undefined || info.errorCode !== 0 || info.partitions.length === 0) {
      if (this.core.metadata.lastLoad === 0) return
      if (t.waiting.length === 0 && t.recBufs.length === 0) return
      // Errors retrying cannot fix (TOPIC_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION, ...) are final at
      // once; an unknown topic gets `unknownTopicRetries` loads to appear.
      const code = info?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      t.misses++
      if (kafkaErrorCodes.get(code)?.retriable !== true || t.misses > this.#cfg.unknownTopicRetries) {
        this.#failWaiting(t, new KafkaProtocolError(code, { topic: t.name, errorMessage: code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? `topic ${t.name} does not exist (checked ${t.misses} metadata loads)${this.#cfg.allowAutoTopicCreation ? '' : '; create it first (Admin.createTopic), or set allowAutoTopicCreation: true to let the broker create it'}` : null }))
      } else {
        this.core.metadata.trigger()
      }
      return
    }
    t.misses = 0
    t.id = info.id
    // Partitions only ever grow.
    for (let i = t.recBufs.length; i < info.partitions.length; i++) t.recBufs.push(new RecBuf(t.name, i, info.id))
    let needRefresh = false
    for (const rb of t.recBufs) {
      rb.topicId = info.id
      const p = info.partitions[rb.partition]
      const leader = p === undefined || p.errorCode === ErrorCode.LEADER_NOT_AVAILABLE ? -1 : p.leader
      if (p !== undefined) rb.leaderEpoch = p.leaderEpoch
      if (leader < 0) needRefresh = true
      if (leader !== rb.leader) this.#moveRecBuf(rb, leader)
    }
    t.writable = t.recBufs.filter((rb) => rb.leader >= 0 || rb.sink !== null)
    if (needRefresh) this.core.metadata.trigger()
    if (t.waiting.length > 0) {
      const recs = t.waiting
      const cbs = t.waitingCbs
      t.waiting = []
      t.waitingCbs = []
      t.waitingAt = []
      for (let i = 0; i < recs.length; i++) this.#partition(t, recs[i]!, cbs[i]!, recordSize(recs[i]!))
      if (t.unlinger) {
        t.unlinger = false
        for (const rb of t.recBufs) rb.unlinger()
        for (const rb of t.recBufs) rb.sink?.wake(true)
      }
    }
  }

  /**
   * onTopicsDeleted forgets topics the client took as deleted (considerMissingTopicDeletedAfter), as
   * franz-go purges them: records not yet sent fail with UNKNOWN_TOPIC_OR_PARTITION, batches in
   * flight keep the fate their answer tells (one that would be sent again fails instead), and a
   * record produced to the topic later starts over as for a topic never seen, with new partitions
   * and sequence numbers, should the topic be created again.
   */
  onTopicsDeleted(topics: readonly string[]): void {
    for (const name of topics) {
      const t = this.#topics.get(name)
      if (t === undefined) continue
      const err = topicDeletedError(name, this.#cfg.considerMissingTopicDeletedAfter)
      this.core.log('warn', 'topic taken as deleted; failing its records not yet sent', 'topic', name)
      for (const rb of t.recBufs) rb.deleted = err
      if (t.waiting.length > 0) this.#failWaiting(t, err)
      this.failUnsent(err, new Set(t.recBufs))
      this.#topics.delete(name)
      for (const rb of t.recBufs) {
        // A partition with batches in flight, or whose answer is being handled, stays with its sink
        // until they have answered (settleMove then lets it go), as when its leader moves.
        if (rb.inflight > 0 || rb.failing) rb.sink?.markMoved(rb)
        else this.#dropRecBuf(rb)
      }
    }
  }

  /** dropRecBuf takes a deleted topic's partition off its sink; whatever it still holds fails. */
  #dropRecBuf(rb: RecBuf): void {
    rb.sink?.remove(rb)
    rb.sink = null
    rb.leader = -1
    const left = rb.batches
    rb.batches = []
    for (const b of left) this.finishBatch(rb, b, b.acked ? null : rb.deleted)
  }

  /** onLeadersMoved moves partitions to the leaders brokers named in their answers (KIP-951). */
  onLeadersMoved(moves: readonly LeaderMove[]): void {
    for (const m of moves) {
      const rb = this.#topics.get(m.topic)?.recBufs[m.partition]
      if (rb === undefined) continue
      rb.leaderEpoch = m.leaderEpoch
      if (rb.leader !== m.leader) this.#moveRecBuf(rb, m.leader)
    }
  }

  #moveRecBuf(rb: RecBuf, leader: number): void {
    // A partition with batches in flight stays with its sink until they answer, so that a retried
    // batch cannot race a newer one on another connection; the sink moves it when they are done.
    // So does one whose answer is being handled (failing): the sink settles it after that answer.
    if (rb.inflight > 0 || rb.failing) {
      rb.sink?.markMoved(rb)
      return
    }
    rb.sink?.remove(rb)
    rb.leader = leader
    rb.sink = leader < 0 ? null : this.#sink(leader)
    rb.sink?.add(rb)
  }

  /** timeoutError is the error of records failed for recordDeliveryTimeout, `cause` their last error. */
  timeoutError(rb: RecBuf, cause: Error | null): RecordTimeoutError {
    return new RecordTimeoutError(this.#cfg.recordDeliveryTimeout, rb.topic, rb.partition, cause)
  }

  /** settleMove is called by a sink once a moved partition has nothing in flight. */
  settleMove(rb: RecBuf): void {
    if (rb.deleted !== null) return this.#dropRecBuf(rb)
    const info = this.core.metadata.topics.get(rb.topic)
    const leader = info?.partitions[rb.partition]?.leader ?? -1
    rb.sink?.remove(rb)
    rb.leader = leader
    rb.sink = leader < 0 ? null : this.#sink(leader)
    rb.sink?.add(rb)
    if (leader < 0) this.core.metadata.trigger()
  }

  #sink(nodeId: number): Sink {
    let s = this.#sinks.get(nodeId)
    if (s === undefined) {
      s = new Sink(this, nodeId)
      this.#sinks.set(nodeId, s)
    }
    return s
  }

  #failWaiting(t: TopicState, err: Error): void {
    const recs = t.waiting
    const cbs = t.waitingCbs
    t.waiting = []
    t.waitingCbs = []
    t.waitingAt = []
    for (let i = 0; i < recs.length; i++) {
      this.#release(recordSize(recs[i]!))
      this.#finishOne(recs[i]!, cbs[i]!, err)
    }
    this.#afterSettle()
  }

  // ---------------------------------------------------------------- settling

  /** finishOne calls the unbuffered hooks and then the callback, as franz-go orders them. */
  #finishOne(record: ProduceRecord, cb: ProduceCallback, err: Error | null): void {
    if (err !== null && this.txn !== null) this.txn.recordFailed(err, false)
    const hooks = this.core.hooks
    if (hooks.onProduceRecordUnbuffered.length !== 0) hooks.produceRecordUnbuffered(record, err)
    try {
      cb(record, err)
    } catch (e) {
      this.core.log('error', 'a produce callback threw', 'err', (e as Error).message)
    }
  }

  #release(size: number): void {
    this.bufferedRecords--
    this.bufferedBytes -= size
  }

  /**
   * finishBatch settles every record of a batch (success when `err` is null) and frees its room in
   * the buffer. Called by sinks, in partition order.
   */
  finishBatch(rb: RecBuf, batch: Batch, err: Error | null): void {
    if (batch.done) return
    batch.done = true
    if (err !== null && batch.maybeWritten && !(err instanceof RecordFateUnknownError)) {
      // A request carrying the batch went unanswered earlier: the broker may hold it, whatever failed since.
      err = new RecordFateUnknownError(`an earlier produce request carrying it got no answer; it then failed with: ${err.message}`, rb.topic, rb.partition, err)
    }
    const recs = batch.records
    const cbs = batch.callbacks
    const hooks = this.core.hooks
    const unbuffered = hooks.onProduceRecordUnbuffered.length !== 0
    const appendTime = batch.logAppendTime
    // One bigint per record: the running offset (base + BigInt(i) would make two).
    const known = batch.baseOffset >= 0n
    let offset = batch.baseOffset
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!
      if (err === null) {
        if (known) {
          r.offset = offset
          offset += 1n
        } else r.offset = -1n
        if (appendTime >= 0) r.timestamp = appendTime
      }
      if (unbuffered) hooks.produceRecordUnbuffered(r, err)
      try {
        cbs[i]!(r, err)
      } catch (e) {
        this.core.log('error', 'a produce callback threw', 'err', (e as Error).message)
      }
    }
    rb.bufferedRecords -= recs.length
    this.bufferedRecords -= recs.length
    this.bufferedBytes -= batch.bytes
    this.releaseEncoded(batch)
    if (err !== null && this.txn !== null) {
      // The transaction cannot commit without these records; its abort bumps the epoch if needed.
      this.txn.recordFailed(err, batch.baseSequence >= 0)
    } else if (err !== null && this.#cfg.idempotent && batch.baseSequence >= 0 && rb.deleted === null) {
      // A failed batch leaves a hole in the partition's sequence: the next batch would be out of
      // order. KIP-360: bump the epoch, which resets every partition's sequence. (A deleted topic's
      // partition sends nothing more: its hole needs no bump.)
      this.#needBump = true
    }
    this.#afterSettle()
  }

  /**
   * releaseEncoded gives a batch's encoded bytes back to the pool, unless a request may still hold
   * them: a batch in flight when it settles (the client closing) keeps its buffer, left to the
   * garbage collector. A batch not in flight had its requests answered (or their connection closed,
   * which writes nothing more), so its bytes are free to reuse.
   */
  releaseEncoded(batch: Batch): void {
    const w = batch.writer
    if (w === null) return
    batch.writer = null
    batch.encoded = null
    if (!batch.inflight) this.batchWriters.put(w)
  }

  #afterSettle(): void {
    // Re-entered from inside (a blocked record let in fails at once, and settles): run again after.
    if (this.#inAfterSettle) {
      this.#settleAgain = true
      return
    }
    this.#inAfterSettle = true
    try {
      do {
        this.#settleAgain = false
        this.#afterSettleOnce()
      } while (this.#settleAgain)
    } finally {
      this.#inAfterSettle = false
    }
  }

  #afterSettleOnce(): void {
    // Let blocked produce calls in, oldest first.
    const blocked = this.#blocked
    while (this.#blockedHead < blocked.length) {
      const r = blocked[this.#blockedHead]!
      const size = recordSize(r)
      if (this.#full(size)) break
      const cb = this.#blockedCbs[this.#blockedHead]!
      blocked[this.#blockedHead] = undefined as unknown as ProduceRecord
      this.#blockedCbs[this.#blockedHead] = undefined as unknown as ProduceCallback
      this.#blockedHead++
      this.#buffer(r, cb, size)
    }
    if (this.#blockedHead === blocked.length && this.#blockedHead > 0) {
      this.#blocked = []
      this.#blockedCbs = []
      this.#blockedAt = []
      this.#blockedHead = 0
    } else if (this.#blockedHead > 4096 && this.#blockedHead * 2 > blocked.length) {
      this.#blocked = blocked.slice(this.#blockedHead)
      this.#blockedCbs = this.#blockedCbs.slice(this.#blockedHead)
      this.#blockedAt = this.#blockedAt.slice(this.#blockedHead)
      this.#blockedHead = 0
    }
    if (this.bufferedRecords === 0 && this.#blocked.length === this.#blockedHead) {
      const f = this.#flushers
      this.#flushers = []
      for (const fn of f) fn()
      if (this.#timeoutTimer !== null) {
        clearInterval(this.#timeoutTimer)
        this.#timeoutTimer = null
      }
      if (this.#holding) {
        this.#holding = false
        this.core.release()
      }
    }
    if (this.#needBump && !this.bumping) this.#startBump()
  }

  // ---------------------------------------------------------------- idempotence

  /** ensureProducerId resolves once the producer id is known (idempotent producers only). */
  ensureProducerId(): Promise<void> | null {
    if (!this.#cfg.idempotent || this.producerId >= 0n) return null
    if (this.txn !== null) return this.txn.ensureProducerId()
    if (this.#pidError !== null) return Promise.reject(this.#pidError)
    return (this.#pidLoading ??= this.#initProducerId(-1n, -1).finally(() => {
      this.#pidLoading = null
    }))
  }

  async #initProducerId(id: bigint, epoch: number): Promise<void> {
    const req = InitProducerId.newRequest()
    req.transactionalId = null
    req.transactionTimeoutMs = 60_000
    req.producerId = id
    req.producerEpoch = epoch
    const res = await this.core.request(InitProducerId, req)
    if (res.errorCode !== 0) {
      const err = new KafkaProtocolError(res.errorCode)
      // Authorization failures are final for every record; others are retried by the sinks.
      if (res.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED || res.errorCode === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) this.#pidError = err
      throw err
    }
    this.producerId = res.producerId
    this.producerEpoch = res.producerEpoch
  }

  /**
   * dataLost is told by a sink that the broker lost records of `rb` it had acknowledged (`cause` is
   * its answer). With stopProducerOnDataLossDetected the producer stops for good: the returned error
   * is what the refused batch fails with; `stopped`, the first such error, is what every record not
   * in flight fails with on the sinks' next drain (failUnsent), and every later record at once. Otherwise producerOnDataLossDetected
   * is called in a microtask (the sink is in the middle of an answer, which a callback producing to
   * the partition must not cut into), and null is returned: the sink bumps the epoch and resends.
   */
  dataLost(rb: RecBuf, cause: KafkaProtocolError): DataLossError | null {
    if (this.#cfg.stopProducerOnDataLossDetected) {
      this.core.log('error', 'data loss detected; the producer stops (stopProducerOnDataLossDetected)', 'topic', rb.topic, 'partition', rb.partition, 'err', cause.message)
      // The refused batch's error names its own partition; what else fails gets the first one's.
      const err = new DataLossError(rb.topic, rb.partition, cause)
      this.stopped ??= err
      this.#needBump = false
      return err
    }
    this.core.log('warn', 'data loss detected; bumping the producer epoch and going on', 'topic', rb.topic, 'partition', rb.partition, 'err', cause.message)
    const fn = this.#cfg.producerOnDataLossDetected
    if (fn !== null) {
      const { topic, partition } = rb
      queueMicrotask(() => {
        try {
          fn(topic, partition)
        } catch (e) {
          this.core.log('error', 'producerOnDataLossDetected threw', 'topic', topic, 'partition', partition, 'err', (e as Error)?.message ?? String(e))
        }
      })
    }
    return null
  }

  /** needBump asks for an epoch bump before any further send (OUT_OF_ORDER_SEQUENCE_NUMBER and similar). */
  requestBump(): void {
    this.#needBump = true
    if (!this.bumping) this.#startBump()
  }

  #startBump(): void {
    // A transactional producer bumps between transactions only (Transactions): mid-transaction,
    // InitProducerId would abort the transaction on the coordinator.
    // A producer stopped for data loss sends nothing more: no new epoch either.
    if (!this.#cfg.idempotent || this.#closed || this.txn !== null || this.stopped !== null) {
      this.#needBump = false
      return
    }
    this.bumping = true
    this.#tryBump()
  }

  /** tryBump runs once nothing is in flight anywhere: a new epoch, then every sequence restarts. */
  #tryBump(): void {
    for (const s of this.#sinks.values()) {
      if (s.inflightRequests > 0) {
        s.onIdle(() => this.#tryBump())
        return
      }
    }
    this.#needBump = false
    const oldId = this.producerId
    const oldEpoch = this.producerEpoch
    this.core
      .retry({}, InitProducerId.key, () => this.#initProducerId(oldId, oldEpoch).catch((err: Error) => {
        // A broker that does not know the old id/epoch (or predates KIP-360) gets a new producer id.
        if (err instanceof KafkaProtocolError && !err.retriable) return this.#initProducerId(-1n, -1)
        throw err
      }))
      .then(
        () => {
          this.core.log('info', 'producer epoch bumped', 'producerId', String(this.producerId), 'epoch', this.producerEpoch)
          for (const t of this.#topics.values()) {
            for (const rb of t.recBufs) {
              rb.nextSequence = 0
              rb.ackedInEpoch = false
              // Batches whose records already learned their fate (expired in flight) are not sent again.
              if (rb.batches.some((b) => b.done && !b.acked)) rb.batches = rb.batches.filter((b) => !b.done || b.acked)
              for (const b of rb.batches) {
                if (b.encoded !== null && !b.acked) Sink.restamp(b, this.producerId, this.producerEpoch, rb)
              }
            }
          }
        },
        (err: Error) => {
          this.core.log('error', 'producer epoch bump failed; failing buffered records', 'err', err.message)
          this.#failAll(err, `the producer epoch bump failed (${err.message}) after a produce request carrying it went unanswered`)
        },
      )
      .finally(() => {
        this.bumping = false
        if (this.#needBump) this.#startBump()
        for (const s of this.#sinks.values()) s.wake(true)
      })
  }

  // ---------------------------------------------------------------- transactions

  /**
   * setProducerId installs a producer id and epoch from the transaction coordinator (the first
   * InitProducerId, an epoch bump, transaction version 2's new epoch after every EndTxn) and restarts
   * every partition's sequence numbers at 0. Called between transactions, when nothing is in flight.
   */
  setProducerId(id: bigint, epoch: number): void {
    this.producerId = id
    this.producerEpoch = epoch
    for (const t of this.#topics.values()) {
      for (const rb of t.recBufs) {
        rb.nextSequence = 0
        rb.ackedInEpoch = false
        rb.refused = []
        rb.refusedSkipped = false
      }
    }
  }

  /**
   * failUnsent fails, with `err`, every record not in flight (of the partitions in `only`, when
   * given): blocked produce calls, records waiting for metadata, and batches not sent or waiting to
   * be sent again. Acknowledged batches that only waited for a failed one settle too.
   */
  failUnsent(err: Error, only?: ReadonlySet<RecBuf>): void {
    if (only === undefined) {
      const blocked = this.#blocked
      const blockedCbs = this.#blockedCbs
      const head = this.#blockedHead
      this.#blocked = []
      this.#blockedCbs = []
      this.#blockedHead = 0
      for (let i = head; i < blocked.length; i++) this.#finishOne(blocked[i]!, blockedCbs[i]!, err)
    }
    for (const t of this.#topics.values()) {
      if (only === undefined && t.waiting.length > 0) this.#failWaiting(t, err)
      for (const rb of t.recBufs) {
        if (only !== undefined && !only.has(rb)) continue
        const unsent = rb.batches.filter((b) => !b.inflight && !b.acked)
        if (unsent.length === 0) continue
        // What is in flight, and acknowledged batches waiting for it, keep their partition order.
        rb.batches = rb.batches.filter((b) => b.inflight || b.acked)
        for (const b of unsent) this.finishBatch(rb, b, err)
        while (rb.batches.length > 0 && rb.batches[0]!.acked) this.finishBatch(rb, rb.batches.shift()!, null)
      }
    }
    this.#afterSettle()
  }

  /**
   * abortBuffered fails every record not yet sent with `err` and resolves once the ones in flight
   * have settled too (franz-go's AbortBufferedRecords), for endTransaction('abort'): while it runs
   * the transaction keeps the sinks from sending, so batches answered with a retriable error fail on
   * the next round instead of going out again.
   */
  async abortBuffered(err: Error): Promise<void> {
    for (;;) {
      this.failUnsent(err)
      if (this.bufferedRecords === 0) return
      await Promise.all([...this.#sinks.values()].map((s) => new Promise<void>((resolve) => s.onIdle(resolve))))
    }
  }

  // ---------------------------------------------------------------- timeouts, flush, close

  #armTimeouts(): void {
    const ms = this.#cfg.recordDeliveryTimeout
    if (ms <= 0 || this.#timeoutTimer !== null) return
    this.#timeoutTimer = setInterval(() => this.#expire(ms), Math.max(50, Math.min(1000, ms / 8)))
    // The records themselves hold the event loop (core.hold) while they are pending.
    this.#timeoutTimer.unref()
  }

  /**
   * timeoutFor is the error of records whose delivery timeout ran out before they were sent: the
   * cluster's unreachability when no broker could be reached at all, else RecordTimeoutError with the
   * partition's last error.
   */
  #timeoutFor(ms: number, topic: string, partition: number, cause: Error | null): Error {
    const unreachable = this.core.unreachable
    if (unreachable !== null && (cause === null || unreachable.cause === cause || !(cause instanceof KafkaProtocolError))) {
      return new BrokersUnreachableError(unreachable.brokers, (unreachable.cause as Error | undefined) ?? null, { topic, ...(partition >= 0 ? { partition } : {}) }, `record not delivered within recordDeliveryTimeout (${ms} ms): `)
    }
    return new RecordTimeoutError(ms, topic, partition, cause)
  }

  /**
   * expire fails the records older than recordDeliveryTimeout, so that every record settles within
   * it. Records not sent yet fail with RecordTimeoutError (or BrokersUnreachableError); records whose
   * request is in flight, or went unanswered before, learn that their fate is unknown
   * (RecordFateUnknownError, as Java's TimeoutException) while the sink keeps the batch until its
   * request answers, so that the partition's sequence numbers stay right.
   */
  #expire(ms: number): void {
    const now = Date.now()
    // Calls still waiting for buffer room, oldest first.
    let failedBlocked = false
    while (this.#blockedHead < this.#blocked.length && now - this.#blockedAt[this.#blockedHead]! >= ms) {
      const r = this.#blocked[this.#blockedHead]!
      const cb = this.#blockedCbs[this.#blockedHead]!
      this.#blocked[this.#blockedHead] = undefined as unknown as ProduceRecord
      this.#blockedCbs[this.#blockedHead] = undefined as unknown as ProduceCallback
      this.#blockedHead++
      failedBlocked = true
      this.#finishOne(r, cb, this.#timeoutFor(ms, r.topic, -1, null))
    }
    if (failedBlocked) this.#afterSettle()
    for (const t of this.#topics.values()) {
      if (t.waiting.length > 0 && now - t.waitingAt[0]! >= ms) this.#expireWaiting(t, now, ms)
      for (const rb of t.recBufs) {
        const batches = rb.batches
        for (let i = 0; i < batches.length; ) {
          const b = batches[i]!
          // Batches are in the order they were made: the rest are younger.
          if (now - b.createdAt < ms) break
          if (b.done || b.acked) {
            i++
            continue
          }
          if (b.inflight) {
            this.finishBatch(rb, b, new RecordFateUnknownError(`recordDeliveryTimeout (${ms} ms) ran out while a produce request carrying it awaited its answer`, rb.topic, rb.partition, b.lastError ?? undefined))
            i++
            continue
          }
          if (b.encoded === null || rb.inflight === 0) {
            // Never sent (no sequence numbers given out yet), or nothing of the partition in flight:
            // the batch leaves the buffer; a sequence gap it leaves is closed by an epoch bump.
            batches.splice(i, 1)
            this.finishBatch(rb, b, this.#timeoutFor(ms, rb.topic, rb.partition, b.lastError))
            continue
          }
          // Waiting to be sent again while newer batches of the partition are in flight: its records
          // settle now; the sink drops the batch when it comes to it.
          this.finishBatch(rb, b, this.#timeoutFor(ms, rb.topic, rb.partition, b.lastError))
          i++
        }
        // Acknowledged batches behind the ones that left complete now.
        while (batches.length > 0 && batches[0]!.acked) this.finishBatch(rb, batches.shift()!, null)
      }
    }
  }

  /** expireWaiting fails the records waiting for the topic's metadata that were produced `ms` ago or more. */
  #expireWaiting(t: TopicState, now: number, ms: number): void {
    let n = 0
    while (n < t.waiting.length && now - t.waitingAt[n]! >= ms) n++
    const recs = t.waiting.splice(0, n)
    const cbs = t.waitingCbs.splice(0, n)
    t.waitingAt.splice(0, n)
    const err = this.#timeoutFor(ms, t.name, -1, null)
    for (let i = 0; i < recs.length; i++) {
      this.#release(recordSize(recs[i]!))
      this.#finishOne(recs[i]!, cbs[i]!, err)
    }
    this.#afterSettle()
  }

  /**
   * flushSoon sends what is buffered now without waiting for linger (produceSync): every open batch
   * is marked to go at once, and so are the batches that records still waiting for their topic's
   * metadata will land in. Waking the sinks alone was not enough: a batch is only ready once it
   * lingered, so the records waited the whole linger.
   */
  flushSoon(): void {
    for (const t of this.#topics.values()) {
      if (t.waiting.length > 0) t.unlinger = true
      for (const rb of t.recBufs) rb.unlinger()
    }
    for (const s of this.#sinks.values()) s.wake(true)
  }

  /** flush makes every buffered batch ready now and resolves once every record has settled. */
  flush(signal?: AbortSignal): Promise<void> {
    if (this.bufferedRecords === 0 && this.#blocked.length === this.#blockedHead) return Promise.resolve()
    this.flushing++
    this.flushSoon()
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.flushing--
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        const i = this.#flushers.indexOf(done)
        if (i >= 0) this.#flushers.splice(i, 1)
        this.flushing--
        reject(signal!.reason)
      }
      this.#flushers.push(done)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /**
   * failAll settles every pending record with `err`, except records that may have been written (their
   * request is in flight, or one went unanswered), which get a RecordFateUnknownError saying `why`
   * (with `err` as its cause). Acknowledged batches waiting behind older ones complete as written.
   * With `awaitInflight`, batches in flight are left to their answer, which tells their fate (a
   * request never answered fails them as of unknown fate), and so are acknowledged batches behind
   * them, to complete in order.
   */
  #failAll(err: Error, why: string, awaitInflight = false): void {
    const blocked = this.#blocked
    const blockedCbs = this.#blockedCbs
    const head = this.#blockedHead
    this.#blocked = []
    this.#blockedCbs = []
    this.#blockedAt = []
    this.#blockedHead = 0
    // Blocked calls never entered the buffer: nothing to release for them.
    for (let i = head; i < blocked.length; i++) this.#finishOne(blocked[i]!, blockedCbs[i]!, err)
    for (const t of this.#topics.values()) {
      this.#failWaiting(t, err)
      for (const rb of t.recBufs) {
        const batches = rb.batches
        rb.batches = []
        for (const b of batches) {
          if (awaitInflight && (b.inflight || (b.acked && rb.batches.length > 0))) rb.batches.push(b)
          else this.finishBatch(rb, b, b.acked ? null : b.inflight || b.maybeWritten ? new RecordFateUnknownError(why, rb.topic, rb.partition, err) : err)
        }
      }
    }
    this.#afterSettle()
  }

  /**
   * failFatal fails every buffered record with an error retrying cannot fix (failed authentication,
   * a missing authorization, a fenced transactional producer), so nothing waits forever; records
   * produced later try again. Records whose request is in flight learn their fate from its answer.
   */
  failFatal(err: Error): void {
    this.core.log('error', 'producing failed for good; failing buffered records', 'err', err.message)
    this.#failAll(err, `producing failed for good (${err.message}) after a produce request carrying it went unanswered`, true)
  }

  /**
   * onMetadataError fails records waiting for metadata when loading it cannot succeed (failed
   * authentication), and asks for another load when it may (an unreachable cluster).
   */
  onMetadataError(err: Error): void {
    if ((err as { retriable?: boolean }).retriable === true || !(err instanceof KafkaWireError)) {
      // Records wait for their topic: look again (the cache backs off between failed loads) until
      // the metadata comes or their delivery timeout runs out.
      for (const t of this.#topics.values()) {
        if (t.waiting.length > 0) {
          this.core.metadata.trigger()
          break
        }
      }
      return
    }
    for (const t of this.#topics.values()) if (t.waiting.length > 0) this.#failWaiting(t, err)
  }

  /**
   * close delivers what is buffered, as Java's close() does: every batch is sent at once (no linger),
   * records waiting for room or metadata go too, and close waits for every answer. Once `timeout` ms
   * passed (Infinity waits until everything settled, which recordDeliveryTimeout bounds) what is left
   * fails: records never sent with ClientClosedError, records whose request is in flight or
   * went unanswered with RecordFateUnknownError. Then every sink and timer stops. `timeout` is in ms.
   */
  async close(timeout = Infinity): Promise<void> {
    if (this.#closed) return
    const deadline = Date.now() + timeout
    const pending = () => this.bufferedRecords > 0 || this.#blocked.length > this.#blockedHead
    if (pending() && deadline > Date.now()) {
      const ac = new AbortController()
      const t = Number.isFinite(deadline) ? setTimeout(() => ac.abort(new Error('close timeout')), Math.max(0, deadline - Date.now())) : null
      try {
        await this.flush(ac.signal)
      } catch {
        // The deadline passed: what is left fails below.
      } finally {
        if (t !== null) clearTimeout(t)
      }
    }
    this.#closed = true
    this.#needBump = false
    if (pending()) {
      const waited = Number.isFinite(timeout) ? ` (close waited its timeout, ${timeout} ms)` : ''
      this.#failAll(new ClientClosedError(`the client closed before the record was sent${waited}`), `the client closed while a produce request carrying it awaited its answer, or after one went unanswered${waited}`)
    }
    for (const s of this.#sinks.values()) s.close()
    if (this.#timeoutTimer !== null) clearInterval(this.#timeoutTimer)
    this.#timeoutTimer = null
    if (this.#holding) {
      this.#holding = false
      this.core.release()
    }
  }

  get closed(): boolean {
    return this.#closed
  }
}

/** validate checks what the broker would otherwise reject, so the record fails alone and at once. */
function validate(r: ProduceRecord): Error | null {
  if (r === null || typeof r !== 'object') return new InvalidRecordError('a record must be an object')
  if (typeof r.topic !== 'string' || r.topic === '') return new InvalidRecordError('the record has no topic (and no defaultProduceTopic is set)')
  if (!isBytes(r.key) && r.key !== undefined) return new InvalidRecordError(`record key must be a Buffer, a string or null, not ${typeName(r.key)}`, r.topic)
  if (!isBytes(r.value)) return new InvalidRecordError(`record value must be a Buffer, a string or null, not ${typeName(r.value)}`, r.topic)
  if (r.headers !== undefined) {
    if (!Array.isArray(r.headers)) return new InvalidRecordError('record headers must be an array of { key, value }', r.topic)
    for (const h of r.headers) {
      if (h === null || typeof h !== 'object' || typeof h.key !== 'string' || !isBytes(h.value)) {
        return new InvalidRecordError('each record header must be { key: string, value: Buffer | string | null }', r.topic)
      }
    }
  }
  if (r.partition !== undefined && r.partition !== -1 && (!Number.isInteger(r.partition) || r.partition < 0)) {
    return new InvalidRecordError(`record partition must be a non-negative integer, not ${String(r.partition)}`, r.topic)
  }
  // A batch stores timestamps as int64 milliseconds: a fraction would only fail later, when the
  // batch is encoded, taking the other records of the batch with it.
  if (r.timestamp !== undefined && (typeof r.timestamp !== 'number' || !Number.isSafeInteger(r.timestamp))) {
    return new InvalidRecordError('record timestamp must be an integer number of milliseconds', r.topic)
  }
  return null
}

function isBytes(v: unknown): boolean {
  return v === null || typeof v === 'string' || v instanceof Uint8Array
}

function typeName(v: unknown): string {
  return v === undefined ? 'undefined' : v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v
}
