import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaProtocolError, KafkaWireError, ProtocolEncodeError } from '../../protocol/errors.js'
import { Produce, type ProduceRequest, type ProduceResponse } from '../../protocol/messages/produce.js'
import { encodeRecordBatch, encodedRecordSize, restampRecordBatch, RECORD_BATCH_OVERHEAD } from '../../protocol/records.js'
import type { ProduceBatchMetrics } from '../../hooks/index.js'
import type { Producer } from './producer.js'
import { Batch, recordSize, type RecBuf } from './batch.js'
import { produceRequestBaseBytes, produceTopicBytes, PRODUCE_PARTITION_BYTES } from './request-size.js'
import { IncompleteResponseError } from '../errors.js'
import { WakeTimer } from '../wake-timer.js'
import type { LeaderMove } from '../metadata.js'

// Errors after which the batch is retried once metadata says where the partition lives now.
// UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH,
// UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_ID.
const LEADER_ERRORS = new Set<number>([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.UNKNOWN_TOPIC_ID])
// Retriable errors that do not need new metadata: CORRUPT_MESSAGE, REQUEST_TIMED_OUT, NETWORK_EXCEPTION,
// NOT_ENOUGH_REPLICAS(_AFTER_APPEND), CONCURRENT_TRANSACTIONS, KAFKA_STORAGE_ERROR.
const RETRY_ERRORS = new Set<number>([ErrorCode.CORRUPT_MESSAGE, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NETWORK_EXCEPTION, ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.KAFKA_STORAGE_ERROR])
// Answers after which the broker may have appended the batch all the same: it timed out waiting for
// replicas, appended it before the ISR shrank, or failed in an unknown way.
const MAYBE_WRITTEN = new Set<number>([ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.UNKNOWN_SERVER_ERROR, ErrorCode.NETWORK_EXCEPTION])
// The batch is larger than the broker or topic accepts (MESSAGE_TOO_LARGE), or than a log segment
// (RECORD_LIST_TOO_LARGE): the broker wrote none of it.
const TOO_LARGE = new Set<number>([ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.RECORD_LIST_TOO_LARGE])
const { UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID, DUPLICATE_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID, NOT_LEADER_OR_FOLLOWER } = ErrorCode
const OUT_OF_ORDER = ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER

interface SentBatch {
  rb: RecBuf
  batch: Batch
}

/**
 * Sink sends one broker's produce requests (franz-go's sink): each request carries the next ready
 * batch of every partition led by the broker, up to `maxProduceRequestsInflightPerBroker` requests
 * are in flight, and answers settle batches in partition order.
 */
export class Sink {
  readonly nodeId: number
  #producer: Producer
  #recBufs: RecBuf[] = []
  #moved = new Set<RecBuf>()
  inflightRequests = 0
  /** lingerTimer drains when the oldest unsent batch has lingered (or its backoff ends). Buffered records hold the event loop themselves (ClientCore.hold). */
  #lingerTimer = new WakeTimer(() => this.#drain())
  #immediate: NodeJS.Immediate | null = null
  #idle: Array<() => void> = []
  #closed = false
  #waitingPid = false
  #failures = 0
  #rotate = 0
  /** baseBytes bounds a produce request of this client without its topics (brokerMaxWriteBytes). */
  readonly #baseBytes: number

  constructor(producer: Producer, nodeId: number) {
    this.#producer = producer
    this.nodeId = nodeId
    this.#baseBytes = produceRequestBaseBytes(producer.core.config.clientId, producer.core.config.transactionalId)
  }

  add(rb: RecBuf): void {
    this.#recBufs.push(rb)
    if (rb.batches.length > 0) this.wake(false)
  }

  remove(rb: RecBuf): void {
    const i = this.#recBufs.indexOf(rb)
    if (i >= 0) this.#recBufs.splice(i, 1)
    this.#moved.delete(rb)
  }

  /** markMoved notes that a partition's leader changed while batches were in flight. */
  markMoved(rb: RecBuf): void {
    this.#moved.add(rb)
  }

  /** onIdle runs `fn` once no produce request of this sink is in flight. */
  onIdle(fn: () => void): void {
    if (this.inflightRequests === 0) queueMicrotask(fn)
    else this.#idle.push(fn)
  }

  /**
   * wake tells the sink a partition has data: `now` sends on the next tick (a full batch, a flush),
   * otherwise the sink arms its linger timer for the oldest unsent batch.
   */
  wake(now: boolean): void {
    if (this.#closed) return
    if (now || this.#producer.core.config.linger === 0 || this.#producer.flushing > 0) {
      if (this.#immediate === null) this.#immediate = setImmediate(() => {
        this.#immediate = null
        this.#drain()
      })
      return
    }
    // A drain re-arms the timer for the batches after this one.
    this.#lingerTimer.at(Date.now() + this.#producer.core.config.linger)
  }

  #nextDeadline(): number {
    const linger = this.#producer.core.config.linger
    let at = Infinity
    for (const rb of this.#recBufs) {
      const d = rb.nextDeadline(linger)
      if (d < at) at = d
    }
    return at
  }

  #drain(): void {
    const p = this.#producer
    if (this.#closed) return
    if (p.stopped !== null) {
      // Data loss stopped the producer: what waits to be sent (a batch answered with a retriable
      // error since, say) fails instead.
      p.failUnsent(p.stopped)
      return
    }
    if (p.bumping) return
    const cfg = p.core.config
    if (cfg.idempotent && p.producerId < 0n) {
      if (this.#waitingPid) return
      const pid = p.ensureProducerId()
      if (pid !== null) {
        this.#waitingPid = true
        pid.then(
          () => {
            this.#waitingPid = false
            this.#drain()
          },
          (err: Error) => {
            this.#waitingPid = false
            this.#failures++
            if ((err as { retriable?: boolean }).retriable !== true) {
              // Authentication or authorization failures do not heal by retrying: fail what is buffered.
              p.failFatal(err)
              return
            }
            p.core.log('warn', 'InitProducerId failed; retrying', 'err', err.message)
            setTimeout(() => this.#drain(), cfg.retryBackoff(this.#failures)).unref()
          },
        )
        return
      }
    }
    while (this.inflightRequests < cfg.maxProduceRequestsInflightPerBroker) {
      const now = Date.now()
      const rbs = this.#recBufs
      // As franz-go's sink does: once one partition's batch is due (full, lingered, flushed), the
      // request takes the next batch of every partition led by this broker, lingering or not, so
      // their records ride along instead of waiting out their own lingers in requests of their own.
      const force = p.flushing > 0 || this.#anyDue(now, cfg.linger)
      const sent: SentBatch[] = []
      // The request's size on the wire, kept within brokerMaxWriteBytes; a topic's name is counted once.
      const maxBytes = cfg.brokerMaxWriteBytes
      let bytes = this.#baseBytes
      let topics: Set<string> | null = null
      const txn = p.txn
      // Start at a different partition each time so a size-capped request cannot starve the last ones.
      const start = rbs.length > 0 ? this.#rotate++ % rbs.length : 0
      for (let k = 0; k < rbs.length; k++) {
        const rb = rbs[(start + k) % rbs.length]!
        if (this.#moved.has(rb)) continue
        const b = rb.sendable(now, cfg.linger, force)
        if (b === null) continue
        if (b.done) {
          // Its records were settled (delivery timeout) while newer batches were in flight: it is not
          // sent again. Sequence numbers stamped on it leave a gap that an epoch bump closes.
          this.#dropDone(rb, b)
          if (p.bumping) break
          continue
        }
        // Transactions: the partition may have to join the transaction first (AddPartitionsToTxn).
        if (txn !== null && !txn.maySend(rb)) continue
        if (b.encoded === null && !this.#encode(rb, b)) continue
        // Measured as encoded (compression may make a batch larger than its records). One that does
        // not fit ends the request and goes in a later one; a request's first batch always goes, as
        // brokerMaxWriteBytes holds any batch.
        const size = PRODUCE_PARTITION_BYTES + (topics?.has(rb.topic) === true ? 0 : produceTopicBytes(rb.topic.length)) + b.encoded!.length
        if (sent.length > 0 && bytes + size > maxBytes) break
        bytes += size
        ;(topics ??= new Set()).add(rb.topic)
        sent.push({ rb, batch: b })
      }
      if (sent.length === 0) break
      this.#send(sent)
    }
    // At the in-flight limit the next answer drains again (#afterAnswer): a timer for a batch that has
    // lingered already would only fire, find no room, and fire again, every millisecond until then.
    if (this.inflightRequests < cfg.maxProduceRequestsInflightPerBroker) this.#lingerTimer.at(this.#nextDeadline())
  }

  /** anyDue is true when some partition of this sink has a batch ready to go on its own. */
  #anyDue(now: number, linger: number): boolean {
    const rbs = this.#recBufs
    for (let i = 0; i < rbs.length; i++) {
      const rb = rbs[i]!
      if (!this.#moved.has(rb) && rb.sendable(now, linger, false) !== null) return true
    }
    return false
  }

  /**
   * encode freezes a batch: stamps its producer id, epoch and sequence and encodes it once. A batch
   * that cannot be encoded (a codec failing) fails alone and returns false; its sequence numbers
   * were never sent, so they are given back and the partition needs no epoch bump.
   */
  #encode(rb: RecBuf, b: Batch): boolean {
    const p = this.#producer
    const idempotent = p.core.config.idempotent
    const seq = idempotent ? rb.nextSequence : -1
    try {
      this.#encodeAs(b, seq, p.producerId, p.producerEpoch)
    } catch (err) {
      b.encoded = null
      b.baseSequence = -1
      const i = rb.batches.indexOf(b)
      if (i >= 0) rb.batches.splice(i, 1)
      p.finishBatch(rb, b, err instanceof KafkaWireError ? err : new ProtocolEncodeError(`encoding a batch of ${rb.topic}[${rb.partition}] failed: ${(err as Error).message}`, err))
      return false
    }
    if (idempotent) rb.nextSequence = nextSequence(seq, b.records.length)
    return true
  }

  /** encodeAs encodes a batch with the given base sequence (-1 when not idempotent). */
  #encodeAs(b: Batch, baseSequence: number, producerId: bigint, producerEpoch: number): void {
    const codec = b.codec
    if (baseSequence >= 0) {
      b.baseSequence = baseSequence
      b.producerId = producerId
      b.producerEpoch = producerEpoch
    }
    // The batch is encoded straight into a pooled writer and kept as a view of it, with room for the
    // records' size as the producer counted it (a little above their encoded size), so an uncompressed
    // batch seldom regrows; a compressed one starts at half that.
    const pool = this.#producer.batchWriters
    const w = pool.get(RECORD_BATCH_OVERHEAD + (codec === 0 ? b.bytes : b.bytes >>> 1))
    try {
      encodeRecordBatch(w, {
        producerId: b.producerId,
        producerEpoch: b.producerEpoch,
        baseSequence: b.baseSequence,
        isTransactional: this.#producer.txn !== null,
        compression: codec,
        compressor: this.#producer.core.config.compressor,
        records: b.records,
      })
    } catch (err) {
      pool.put(w)
      throw err
    }
    b.writer = w
    b.encoded = w.buf.subarray(0, w.pos)
    b.compressedBytes = b.encoded.length
  }

  /** restamp rewrites a frozen batch's producer id, epoch and base sequence in place (epoch bump). */
  static restamp(b: Batch, producerId: bigint, epoch: number, rb: RecBuf): void {
    const buf = b.encoded!
    b.producerId = producerId
    b.producerEpoch = epoch
    b.baseSequence = rb.nextSequence
    rb.nextSequence = nextSequence(rb.nextSequence, b.records.length)
    restampRecordBatch(buf, producerId, epoch, b.baseSequence)
  }

  #send(sent: SentBatch[]): void {
    const p = this.#producer
    const cfg = p.core.config
    const req: ProduceRequest = Produce.newRequest()
    const txn = p.txn
    req.transactionalId = txn === null ? null : txn.id
    req.acks = cfg.requiredAcks
    req.timeoutMs = cfg.produceRequestTimeout
    const byTopic = new Map<string, ProduceRequest['topicData'][number]>()
    for (const s of sent) {
      s.batch.inflight = true
      s.batch.tries++
      s.rb.inflight++
      let td = byTopic.get(s.rb.topic)
      if (td === undefined) {
        td = { name: s.rb.topic, topicId: s.rb.topicId, partitionData: [] }
        byTopic.set(s.rb.topic, td)
        req.topicData.push(td)
      }
      td.partitionData.push({ index: s.rb.partition, records: s.batch.encoded })
    }
    this.inflightRequests++
    const noResponse = cfg.requiredAcks === 0
    // Set once the request is handed to the socket: a failure after that leaves its batches' fate unknown.
    const wrote = { value: false }
    p.core
      .requestOn(this.nodeId, 'produce', Produce, req, { timeout: cfg.produceRequestTimeout + cfg.requestTimeoutOverhead, noResponse, wrote, maxVersion: txn?.produceMaxVersion })
      .then(
        // After close() every batch was failed already: late answers must not settle them again.
        (res) => this.#closed || this.#onResponse(sent, noResponse ? null : res),
        (err: Error) => this.#closed || this.#onRequestError(sent, err, wrote.value),
      )
      .finally(() => {
        this.inflightRequests--
        if (this.inflightRequests === 0 && this.#idle.length > 0) {
          const idle = this.#idle
          this.#idle = []
          for (const fn of idle) fn()
        }
        this.#afterAnswer()
      })
  }

  #onResponse(sent: SentBatch[], res: ProduceResponse | null): void {
    this.#failures = 0
    const p = this.#producer
    const hooks = p.core.hooks
    // Metrics of the batches this response acknowledged, for onProduceBatchWritten; measured now,
    // before the records settle and the application may reuse them.
    const written: Array<{ topic: string; partition: number; m: ProduceBatchMetrics }> | null = hooks.onProduceBatchWritten.length !== 0 ? [] : null
    if (res === null) {
      // acks=0: the broker answers nothing; the records count as written with unknown offsets
      // (franz-go reports these batches as written too).
      for (const s of sent) {
        written?.push({ topic: s.rb.topic, partition: s.rb.partition, m: batchMetrics(s.batch) })
        this.#ack(s, -1n, -1)
      }
      this.#batchesWritten(written)
      return
    }
    const byKey = new Map<string, ProduceResponse['responses'][number]['partitionResponses'][number]>()
    for (const t of res.responses) {
      for (const pr of t.partitionResponses) byKey.set(`${t.name || t.topicId}\u0000${pr.index}`, pr)
    }
    let refresh = false
    let moves: LeaderMove[] | null = null
    let moving: SentBatch[] | null = null
    for (const s of sent) {
      const pr = byKey.get(`${s.rb.topic}\u0000${s.rb.partition}`) ?? byKey.get(`${s.rb.topicId}\u0000${s.rb.partition}`)
      if (pr === undefined) {
        if (s.batch.done) this.#dropDone(s.rb, s.batch, true)
        else this.#retry(s, new IncompleteResponseError(`broker ${this.nodeId} did not answer for ${s.rb.topic}[${s.rb.partition}]`, { broker: this.nodeId, topic: s.rb.topic, partition: s.rb.partition }))
        continue
      }
      const code = pr.errorCode
      if (code === 0 || code === DUPLICATE_SEQUENCE_NUMBER) {
        written?.push({ topic: s.rb.topic, partition: s.rb.partition, m: batchMetrics(s.batch) })
        this.#ack(s, code === 0 ? pr.baseOffset : -1n, Number(pr.logAppendTimeMs))
        continue
      }
      if (s.batch.done) {
        // Its records already learned their fate (delivery timeout): nothing is retried or split.
        this.#dropDone(s.rb, s.batch, true)
        continue
      }
      if (MAYBE_WRITTEN.has(code)) s.batch.maybeWritten = true
      const err = new KafkaProtocolError(code, { broker: this.nodeId, topic: s.rb.topic, partition: s.rb.partition, errorMessage: pr.errorMessage })
      if (LEADER_ERRORS.has(code)) {
        const to = pr.currentLeader
        if (code === NOT_LEADER_OR_FOLLOWER && to.leaderId >= 0 && to.leaderEpoch >= 0 && to.leaderId !== this.nodeId && res.nodeEndpoints.length > 0) {
          // KIP-951: the broker named the new leader. The batch goes there next, without a backoff
          // or a metadata load (franz-go's kip951move).
          this.#retry(s, err)
          ;(moves ??= []).push({ topic: s.rb.topic, partition: s.rb.partition, leader: to.leaderId, leaderEpoch: to.leaderEpoch })
          ;(moving ??= []).push(s)
          continue
        }
        refresh = true
        if ((code === UNKNOWN_TOPIC_OR_PARTITION || code === UNKNOWN_TOPIC_ID) && ++s.rb.unknownTopicFailures > p.core.config.unknownTopicRetries) {
          // The topic is gone (deleted after records were partitioned): retrying forever would
          // never settle them.
          this.#fail(s, err, false, true)
        } else this.#retry(s, err)
      } else if (RETRY_ERRORS.has(code)) {
        this.#retry(s, err)
      } else if (TOO_LARGE.has(code) && s.batch.records.length > 1) {
        // Java splits such a batch and sends the halves; only a record too large on its own fails.
        this.#split(s, err)
      } else if (code === OUT_OF_ORDER || code === UNKNOWN_PRODUCER_ID || code === INVALID_PRODUCER_EPOCH) {
        // KIP-360: if this is the oldest unacknowledged batch of the partition, the broker lost
        // (or never had) our sequence state: bump the epoch and resend. A newer batch failing this
        // way only means an older one failed first; it is retried after it.
        // A batch behind one the broker refused gets this too: the gap is closed, not bumped over.
        const head = s.rb.batches.find((b) => !b.acked)
        const first = head === s.batch && s.rb.refused.length === 0
        if (p.txn !== null && (first || code === INVALID_PRODUCER_EPOCH)) {
          // Transactions: the epoch cannot be bumped mid-transaction (InitProducerId would abort it on
          // the coordinator), and a refused epoch means the broker aborted it or another producer
          // took over: the batch fails, and the transaction must be aborted.
          this.#fail(s, err)
          continue
        }
        if (first && code !== INVALID_PRODUCER_EPOCH && lostAcknowledged(s.rb, pr.logStartOffset)) {
          // Data loss (franz-go's): the broker acknowledged earlier batches of this producer id and
          // epoch and now has no state for them, or expects another sequence: it lost records.
          const stop = p.dataLost(s.rb, err)
          if (stop !== null) {
            // The broker refused the batch: it was not written, and nothing is sent again.
            this.#fail(s, stop)
            continue
          }
        }
        if (first) p.requestBump()
        this.#retry(s, err)
      } else {
        // The broker refused the batch: it wrote none of it (an unknown server error says nothing).
        this.#fail(s, err, false, code !== ErrorCode.UNKNOWN_SERVER_ERROR)
      }
    }
    if (moves !== null) {
      const followed = new Set(p.core.metadata.moveLeaders(moves, res.nodeEndpoints))
      for (let i = 0; i < moves.length; i++) {
        // Moving (by this answer or an earlier one): no backoff. A named leader the client cannot
        // follow (unknown to it, or older than what metadata says) leaves the partition to metadata
        // and the backoff, as any leader error does.
        if (followed.has(moves[i]!)) moving![i]!.rb.backoffUntil = 0
        else refresh = true
      }
    }
    if (refresh) p.core.metadata.trigger()
    this.#batchesWritten(written)
  }

  /**
   * batchesWritten runs onProduceBatchWritten for one response's acknowledged batches, apart from
   * the produce path (franz-go starts one goroutine per produce response), so the hook is not
   * ordered against the records' callbacks and cannot delay them.
   */
  #batchesWritten(written: Array<{ topic: string; partition: number; m: ProduceBatchMetrics }> | null): void {
    if (written === null || written.length === 0) return
    const meta = this.#producer.core.broker(this.nodeId)?.meta
    if (meta === undefined) return
    const hooks = this.#producer.core.hooks
    setImmediate(() => {
      for (const w of written) hooks.produceBatchWritten(meta, w.topic, w.partition, w.m)
    })
  }

  #onRequestError(sent: SentBatch[], err: Error, wrote: boolean): void {
    this.#failures++
    const retriable = (err as { retriable?: boolean }).retriable === true
    for (const s of sent) {
      // Handed to the socket and never answered: the broker may have appended it.
      if (wrote) s.batch.maybeWritten = true
      if (s.batch.done) this.#dropDone(s.rb, s.batch, true)
      else if (retriable) this.#retry(s, err)
      else this.#fail(s, err)
    }
    if (retriable) this.#producer.core.metadata.trigger()
  }

  #ack(s: SentBatch, baseOffset: bigint, appendTime: number): void {
    s.batch.inflight = false
    s.batch.acked = true
    s.batch.baseOffset = baseOffset
    s.batch.logAppendTime = appendTime
    s.rb.inflight--
    s.rb.recovering = false
    s.rb.unknownTopicFailures = 0
    if (s.batch.baseSequence >= 0) {
      s.rb.ackedInEpoch = true
      if (baseOffset >= 0n) s.rb.lastAckedOffset = baseOffset + BigInt(s.batch.records.length - 1)
    }
    // A broker with no state for the producer takes any first sequence: after that, the gap a
    // refused batch left is behind the broker's state and must stay.
    if (s.rb.refused.length > 0 && s.batch.baseSequence >= 0 && sequenceAfter(s.batch.baseSequence, s.rb.refused[0]![0])) s.rb.refusedSkipped = true
    // Complete acknowledged batches in partition order.
    const batches = s.rb.batches
    while (batches.length > 0 && batches[0]!.acked) {
      const b = batches.shift()!
      this.#producer.finishBatch(s.rb, b, null)
    }
  }

  #retry(s: SentBatch, err: Error): void {
    const cfg = this.#producer.core.config
    s.batch.inflight = false
    s.batch.lastError = err
    s.rb.inflight--
    if (s.batch.tries > cfg.recordRetries) {
      this.#fail(s, err, true)
      return
    }
    const timeout = cfg.recordDeliveryTimeout
    if (timeout > 0 && Date.now() - s.batch.createdAt >= timeout && s.rb.inflight === 0) {
      // The records fail for the delivery timeout, as they would waiting in the buffer; the broker's
      // error is the cause.
      this.#fail(s, this.#producer.timeoutError(s.rb, err), true)
      return
    }
    s.rb.failing = true
    s.rb.recovering = true
    s.rb.backoffUntil = Date.now() + cfg.retryBackoff(s.batch.tries)
    this.#producer.core.log('debug', 'retrying produce batch', 'broker', this.nodeId, 'topic', s.rb.topic, 'partition', s.rb.partition, 'err', err.message)
  }

  /**
   * split replaces a batch the broker refused as too large by its two halves, sent in its place. The
   * halves keep the batch's sequence numbers (the first half starts at the batch's base sequence,
   * the second where the first ends), so the batches behind them stay in sequence and no epoch bump
   * is needed; those already in flight get OUT_OF_ORDER_SEQUENCE_NUMBER and are resent after them.
   */
  #split(s: SentBatch, err: Error): void {
    const { rb, batch } = s
    let halves: [Batch, Batch]
    try {
      const mid = Math.ceil(batch.records.length / 2)
      halves = [this.#part(batch, 0, mid), this.#part(batch, mid, batch.records.length)]
    } catch {
      this.#fail(s, err)
      return
    }
    batch.inflight = false
    rb.inflight--
    const i = rb.batches.indexOf(batch)
    rb.batches.splice(i, 1, ...halves)
    // The broker answered: no request holds the batch's bytes any more.
    this.#producer.releaseEncoded(batch)
    // Like a retry: nothing newer is sent until everything in flight for the partition answered.
    rb.failing = true
    rb.recovering = true
  }

  /** part makes a batch of records [from, to) of `b`, encoded with their sequence numbers in `b`. */
  #part(b: Batch, from: number, to: number): Batch {
    const nb = new Batch(b.createdAt, b.codec)
    nb.records = b.records.slice(from, to)
    nb.callbacks = b.callbacks.slice(from, to)
    for (const r of nb.records) nb.bytes += recordSize(r)
    nb.tries = b.tries
    nb.lastError = b.lastError
    nb.producerId = b.producerId
    nb.producerEpoch = b.producerEpoch
    this.#encodeAs(nb, b.baseSequence < 0 ? -1 : nextSequence(b.baseSequence, from), b.producerId, b.producerEpoch)
    return nb
  }

  /**
   * fail settles a batch with an error. `refused` says the broker answered that it did not write
   * the batch: its sequence numbers are then given back (see RecBuf.refused) instead of leaving a
   * gap that only an epoch bump could get past.
   */
  #fail(s: SentBatch, err: Error, wasRetried = false, refused = false): void {
    s.batch.inflight = false
    if (!wasRetried) s.rb.inflight--
    if (refused && s.batch.baseSequence >= 0) {
      s.rb.refused.push([s.batch.baseSequence, s.batch.records.length])
      s.batch.baseSequence = -1
      // Nothing newer goes out until the gap is closed, once everything in flight has answered.
      s.rb.failing = true
      s.rb.recovering = true
    }
    const batches = s.rb.batches
    const i = batches.indexOf(s.batch)
    if (i >= 0) batches.splice(i, 1)
    this.#producer.finishBatch(s.rb, s.batch, err)
    // Batches acknowledged behind the failed one can now complete.
    while (batches.length > 0 && batches[0]!.acked) this.#producer.finishBatch(s.rb, batches.shift()!, null)
  }

  /**
   * dropDone removes a batch whose records were settled early (their delivery timeout ran out) instead
   * of sending it again. Its sequence numbers, if stamped, leave a gap: the epoch is bumped (KIP-360),
   * which restamps the batches behind it from a new sequence 0.
   */
  #dropDone(rb: RecBuf, b: Batch, wasInflight = false): void {
    if (wasInflight) {
      b.inflight = false
      rb.inflight--
    }
    const batches = rb.batches
    const i = batches.indexOf(b)
    if (i >= 0) batches.splice(i, 1)
    if (b.baseSequence >= 0) this.#producer.requestBump()
    while (batches.length > 0 && batches[0]!.acked) this.#producer.finishBatch(rb, batches.shift()!, null)
  }

  #afterAnswer(): void {
    for (const rb of [...this.#recBufs]) {
      if (rb.inflight === 0 && rb.refused.length > 0) this.#closeGaps(rb)
      if (rb.inflight === 0 && rb.failing) {
        // Everything in flight has answered: the partition may resend from its oldest batch.
        rb.failing = false
      }
      if (rb.inflight === 0 && this.#moved.has(rb)) {
        this.#moved.delete(rb)
        this.#producer.settleMove(rb)
      }
    }
    this.wake(false)
    // Backoffs end later: make sure a timer is armed for them.
    this.#drain()
  }

  /**
   * closeGaps moves the partition's stamped, unacknowledged batches down over the sequence numbers
   * of the batches the broker refused, so the broker sees no gap; the partition's next sequence
   * moves down too. Called once nothing of the partition is in flight.
   */
  #closeGaps(rb: RecBuf): void {
    const gaps = rb.refused
    rb.refused = []
    if (rb.refusedSkipped) {
      rb.refusedSkipped = false
      return
    }
    let total = 0
    for (const [, n] of gaps) total += n
    for (const b of rb.batches) {
      if (b.acked || b.encoded === null || b.baseSequence < 0) continue
      let shift = 0
      for (const [start, n] of gaps) if (sequenceAfter(b.baseSequence, start)) shift += n
      if (shift > 0) restampRecordBatch(b.encoded, b.producerId, b.producerEpoch, (b.baseSequence = nextSequence(b.baseSequence, -shift)))
    }
    rb.nextSequence = nextSequence(rb.nextSequence, -total)
  }

  close(): void {
    this.#closed = true
    this.#lingerTimer.stop()
    if (this.#immediate !== null) clearImmediate(this.#immediate)
    this.#immediate = null
  }
}

/**
 * batchMetrics measures an encoded batch as franz-go's ProduceBatchMetrics does: the records' bytes
 * without the batch header, before (uncompressed) and after (compressed) compression. The records
 * were encoded with the first record's timestamp as the base, so their sizes are worked out again
 * exactly; that costs a pass over the batch, paid only when an onProduceBatchWritten hook exists.
 */
function batchMetrics(b: Batch): ProduceBatchMetrics {
  const rs = b.records
  const compressed = b.encoded!.length - RECORD_BATCH_OVERHEAD
  let uncompressed = compressed
  if (b.codec !== 0) {
    uncompressed = 0
    const base = rs.length > 0 ? rs[0]!.timestamp! : 0
    for (let i = 0; i < rs.length; i++) uncompressed += encodedRecordSize(rs[i]!, i, rs[i]!.timestamp! - base)
  }
  return { numRecords: rs.length, uncompressedBytes: uncompressed, compressedBytes: compressed, compressionType: b.codec }
}

/**
 * lostAcknowledged tells whether an OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID answer for a
 * partition's oldest unacknowledged batch means the broker lost records it had acknowledged: it
 * acknowledged a batch of this producer id and epoch (a broker that never did may rightly know
 * nothing of them: no loss), and its log start offset (`logStartOffset`, -1 when not sent) is not past
 * the last record acknowledged (retention or DeleteRecords removed them, and the broker's producer
 * state with them, as Java and franz-go tell apart).
 */
function lostAcknowledged(rb: RecBuf, logStartOffset: bigint): boolean {
  if (!rb.ackedInEpoch) return false
  return !(rb.lastAckedOffset >= 0n && logStartOffset > rb.lastAckedOffset)
}

/** nextSequence adds `n` (which may be negative) to a sequence number; sequences wrap to 0 after int32 max, as Java's do. */
function nextSequence(seq: number, n: number): number {
  return (((seq + n) % 2147483648) + 2147483648) % 2147483648
}

/** sequenceAfter is true when sequence `a` comes after `b` (less than half the sequence space ahead). */
function sequenceAfter(a: number, b: number): boolean {
  const d = nextSequence(a, -b)
  return d > 0 && d < 1073741824
}

