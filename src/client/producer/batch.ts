import type { ProduceRecord } from '../../protocol/record.js'
import type { RecordCompression } from '../../protocol/records.js'
import type { Writer } from '../../protocol/writer.js'
import type { Sink } from './sink.js'

/** ProduceCallback receives a produced record once it settles: with `err` null on success. */
export type ProduceCallback = (record: ProduceRecord, err: Error | null) => void

/**
 * Batch is one record batch of one partition: the records (and their callbacks, in a parallel array,
 * so a record costs no wrapper object), then, once it is first sent, its encoded bytes. The bytes are
 * kept for retries; an epoch bump re-stamps the header in place instead of encoding again.
 */
export class Batch {
  records: ProduceRecord[] = []
  callbacks: ProduceCallback[] = []
  /** bytes is the size of the encoded records (before compression), from the size arithmetic. */
  bytes = 0
  /** createdAt is when the first record was added (for linger and the delivery timeout). */
  createdAt: number
  /**
   * encoded is the whole RecordBatch once the batch is frozen for its first send: a view of `writer`,
   * the pooled writer it was encoded into, which goes back to the pool once the batch has settled.
   */
  encoded: Buffer | null = null
  writer: Writer | null = null
  /** baseSequence stamped at encoding; -1 when not idempotent. */
  baseSequence = -1
  producerId = -1n
  producerEpoch = -1
  /** compressedBytes is the size of the encoded batch's records, for ProduceBatchMetrics. */
  compressedBytes = 0
  /** codec is the compression the batch is encoded with (its attributes' id; 0 is none), set when it is made. */
  readonly codec: RecordCompression
  /** inflight is true while a request carrying this batch awaits its answer. */
  inflight = false
  /** acked is set when the broker acknowledged the batch (it completes once every older batch has). */
  acked = false
  /** baseOffset and logAppendTime from the broker's answer. */
  baseOffset = -1n
  logAppendTime = -1
  /** tries counts sends, for recordRetries. */
  tries = 0
  /** lastError is the last retriable error, reported if the batch finally fails. */
  lastError: Error | null = null
  /**
   * done is set once the batch's records were settled, so that nothing can settle them twice. A batch
   * settled while in flight (its delivery timeout ran out) stays with its sink until the request
   * answers, and is never sent again.
   */
  done = false
  /**
   * maybeWritten is set when a request carrying the batch was handed to the socket and no answer
   * came (or an answer that says the broker may have appended it): if the batch finally fails, its
   * records' fate is unknown rather than "not written".
   */
  maybeWritten = false
  /** unlingered batches are sent without waiting for linger (produceSync). */
  unlingered = false

  constructor(now: number, codec: RecordCompression) {
    this.createdAt = now
    this.codec = codec
  }
}

/**
 * RecBuf is one partition's buffer in the producer: its batches oldest first, the sink of the
 * partition's leader, and the idempotent sequence state. Batches are sent strictly in order; after a
 * failure nothing newer is sent until everything in flight has answered, so a retried batch keeps
 * its place in the partition's order.
 */
export class RecBuf {
  readonly topic: string
  readonly partition: number
  topicId: string
  batches: Batch[] = []
  /** sink is the leader's sink, null while the leader is unknown. */
  sink: Sink | null = null
  /** leader is the leader node id the sink belongs to, -1 when unknown. */
  leader = -1
  leaderEpoch = -1
  /** inflight counts this partition's batches in flight. */
  inflight = 0
  /** nextSequence is the sequence number of the next batch to be stamped. */
  nextSequence = 0
  /** failing holds sends back after a failure until every in-flight batch has answered. */
  failing = false
  /**
   * recovering sends one batch at a time after a failure, until the broker acknowledges one (Java's
   * "reduces our in flight request count to 1"). A broker that holds no state for the producer yet
   * accepts any first sequence: were the batches behind a refused batch in flight with it, they could
   * be written before it is resent.
   */
  recovering = false
  /**
   * refused lists the sequence ranges [start, count] of batches the broker refused (and so never
   * wrote) while newer batches of the partition may be stamped after them. Once nothing is in
   * flight the newer batches move down over the gap (Java's adjustSequencesDueToFailedBatch):
   * no epoch bump, which could make the broker take a batch it already wrote as new.
   */
  refused: Array<[start: number, count: number]> = []
  /** refusedSkipped is set when the broker acknowledged a batch stamped after a refused one. */
  refusedSkipped = false
  /**
   * unknownTopicFailures counts answers in a row that did not know the topic (or its id); past
   * unknownTopicRetries the batches fail, as franz-go's do, so records of a deleted topic settle.
   */
  unknownTopicFailures = 0
  /**
   * deleted is the error of a partition whose topic the client took as deleted
   * (considerMissingTopicDeletedAfter), null otherwise: its producer forgot it, and once its batches
   * in flight have answered, what is not acknowledged fails with this error (Producer.settleMove).
   */
  deleted: Error | null = null
  /**
   * ackedInEpoch is set once the broker acknowledged a batch of the partition stamped with the
   * current producer id and epoch (cleared when sequences restart): the broker then holds sequence
   * state for them, and an answer that it has none, or expects another sequence, means it lost
   * records it had acknowledged (franz-go's data loss).
   */
  ackedInEpoch = false
  /**
   * lastAckedOffset is the offset of the last record the broker acknowledged, -1n when unknown: a log
   * start offset past it means retention deleted those records, and the broker's state with them.
   */
  lastAckedOffset = -1n
  /** backoffUntil delays the retry of a failed batch. */
  backoffUntil = 0
  /** bufferedBytes is the sum of `bytes` over the batches, for maxBufferedBytes. */
  bufferedRecords = 0

  constructor(topic: string, partition: number, topicId: string) {
    this.topic = topic
    this.partition = partition
    this.topicId = topicId
  }

  /** sendable returns the next batch to send, or null (nothing ready, blocked, or backing off). */
  sendable(now: number, linger: number, force: boolean): Batch | null {
    if (this.failing || now < this.backoffUntil) return null
    if (this.recovering && this.inflight > 0) return null
    const batches = this.batches
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!
      if (b.inflight || b.acked) continue
      return force || now >= this.#lingerEnd(i, linger) ? b : null
    }
    return null
  }

  /** unlinger marks the open batch to be sent without waiting for linger. */
  unlinger(): void {
    const b = this.batches[this.batches.length - 1]
    if (b !== undefined && !b.inflight && !b.acked) b.unlingered = true
  }

  /**
   * nextDeadline is when `sendable` will next return a batch without `force`, or Infinity: the
   * later of the oldest unsent batch's linger end and the partition's backoff.
   */
  nextDeadline(linger: number): number {
    if (this.failing) return this.backoffUntil > 0 ? this.backoffUntil : Infinity
    const batches = this.batches
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!
      if (b.inflight || b.acked) continue
      return Math.max(this.#lingerEnd(i, linger), this.backoffUntil)
    }
    return Infinity
  }

  /**
   * lingerEnd is when batch `i` may go: at once (0) once it is full (a newer batch exists), marked
   * to go (flush, unlinger) or encoded already (a batch being retried), else when it has lingered.
   */
  #lingerEnd(i: number, linger: number): number {
    const b = this.batches[i]!
    return b.unlingered || i < this.batches.length - 1 || b.encoded !== null ? 0 : b.createdAt + linger
  }
}

function byteLen(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return 0
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length
}

/** recordSize estimates a record's encoded size (varints counted at their largest). */
export function recordSize(r: ProduceRecord): number {
  let n = 21 + byteLen(r.key) + byteLen(r.value)
  const hs = r.headers
  if (hs !== undefined) for (let i = 0; i < hs.length; i++) n += 10 + Buffer.byteLength(hs[i]!.key) + byteLen(hs[i]!.value)
  return n
}
