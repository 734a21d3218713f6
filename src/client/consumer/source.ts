import { ErrorCode } from '../../protocol/error-codes.js'
import { ZERO_UUID } from '../../protocol/reader.js'
import { KafkaProtocolError, KafkaWireError, ProtocolDecodeError } from '../../protocol/errors.js'
import { Fetch, type FetchRequest, type FetchResponse, type FetchResponsePartitionData } from '../../protocol/messages/fetch.js'
import { CorruptRecordBatchError, decodeRecordBatches, encodedRecordSize, RECORD_BATCH_OVERHEAD, scanRecordBatches, type BatchesScan, type BatchRecord, type ClientRecordFields, type RecordBatch } from '../../protocol/records.js'
import type { FetchBatchMetrics } from '../../hooks/index.js'
import type { Record } from '../../protocol/record.js'
import { recycleFrame } from '../connection.js'
import type { LeaderMove } from '../metadata.js'
import type { Consumer } from './consumer.js'
import type { Cursor } from './cursor.js'
import { FrameLease, holdSameFrame, lazyOf, lazyPartition, leaseFrame, recordCount, releaseFrame, type FetchPartition } from './fetches.js'
import { LazyRecords } from './lazy-records.js'
import { WakeTimer } from '../wake-timer.js'

/**
 * FrameUse is what may view a fetch response's buffer once it is decoded: nothing (FREE: read into
 * again at once), records under recycleFetches (LEASED: the partitions made from it hold a
 * FrameLease), or something handed out for good (KEPT: never read into again).
 */
type FrameUse = 0 | 1 | 2
const FRAME_FREE = 0
const FRAME_LEASED = 1
const FRAME_KEPT = 2

/** BufferedFetch is one fetch response's worth of records waiting to be polled. */
interface BufferedFetch {
  partitions: FetchPartition[]
  /** cursors whose data is in this fetch (with the generation it was fetched at). */
  cursors: FetchedCursor[]
  /** partitionIndex and recordIndex say where the next poll starts (partial polls: pollRecords). */
  partitionIndex: number
  recordIndex: number
  bytes: number
}

/**
 * FetchedData is a partition's records in a response, to decode from `start`, and what their batch
 * headers said (`scan`): when exact, the cursor has moved past them already; when exact and not
 * corrupt, every whole batch's CRC-32C has been checked.
 */
interface FetchedData {
  cursor: Cursor
  pd: FetchResponsePartitionData
  start: bigint
  /** epoch is the cursor's lastFetchedEpoch before the headers moved it. */
  epoch: number
  scan: BatchesScan
}

/** FetchedCursor is a cursor as it was when its data was fetched. */
interface FetchedCursor {
  cursor: Cursor
  generation: number
}

interface SessionEntry {
  offset: bigint
  maxBytes: number
  leaderEpoch: number
  lastFetchedEpoch: number
}

// Errors that mean the partition moved or metadata is stale: the partition waits for a metadata load
// before it is fetched again (Cursor.awaitingLeader), and the load goes out at once, whatever
// metadataMinAge says (franz-go's triggerUpdateMetadataNow). A NOT_LEADER_OR_FOLLOWER or
// FENCED_LEADER_EPOCH answer that names the leader (KIP-951) is followed without one (#onResponse).
const MOVED = new Set<number>([
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.INCONSISTENT_TOPIC_ID,
  ErrorCode.OFFSET_NOT_AVAILABLE,
  ErrorCode.REPLICA_NOT_AVAILABLE,
])
// Errors that most likely mean the topic is gone: metadata is reloaded no sooner than metadataMinAge
// allows, and the partition is fetched again after a backoff (a deleted topic would make loading at
// once wasteful; franz-go does the same).
const UNKNOWN = new Set<number>([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_ID])
const { OFFSET_OUT_OF_RANGE, FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, FETCH_SESSION_TOPIC_ID_ERROR, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH } = ErrorCode

/**
 * Source is one broker's fetch loop (franz-go's source): one fetch in flight at a time on the
 * broker's fetch connection, an incremental fetch session (KIP-227), and the responses' records
 * buffered in fetch order until polled. The next fetch goes out as soon as a response's batch
 * headers and checksums are read, before its records are decoded and while the application is
 * still processing earlier ones, as long as the consumer's buffered records and bytes (this
 * response's included) are under maxBufferedFetchRecords and maxBufferedFetchBytes; past them it
 * waits until polls make room. A source with nothing buffered always fetches, so the bounds are
 * exceeded by at most one response per broker.
 */
export class Source {
  readonly nodeId: number
  readonly cursors = new Set<Cursor>()
  #consumer: Consumer
  #inflight = false
  #scheduled = false
  /** backoffTimer wakes the source when a backoff ends (background work: pending polls hold the event loop themselves). */
  #backoffTimer = new WakeTimer(() => this.wake())
  /** buffered is this source's fetched data waiting for polls, oldest first. */
  #buffered: BufferedFetch[] = []
  /** frameUse says, while a response is decoded, what may view its buffer (the most binding seen so far). */
  #frameUse: FrameUse = FRAME_FREE
  /** bufRecords and bufBytes count what `buffered` holds: records not yet polled, wire bytes. */
  #bufRecords = 0
  #bufBytes = 0
  /** waitingRoom is set while a fetch is held back by the consumer's buffer bounds. */
  #waitingRoom = false
  #sessionId = 0
  #sessionEpoch = 0
  #session = new Map<Cursor, SessionEntry>()
  #closed = false
  #failures = 0
  #abort = new AbortController()
  /** inflightCursors are the cursors of the fetch in flight; killed is set once interrupt cut it short. */
  #inflightCursors: Map<Cursor, number> | null = null
  #killed = false

  constructor(consumer: Consumer, nodeId: number) {
    this.#consumer = consumer
    this.nodeId = nodeId
  }

  add(c: Cursor): void {
    this.cursors.add(c)
    c.source = this
    this.wake(true)
  }

  remove(c: Cursor): void {
    this.cursors.delete(c)
    if (c.source === this) c.source = null
  }

  /**
   * wake starts a fetch soon if one may start: nothing in flight, room in the buffer (#mayFetch), a
   * cursor fetchable. `urgent` is for a partition that just became fetchable (assigned, moved here,
   * its start offset resolved): if the fetch in flight does not include it, that fetch is cut short.
   */
  wake(urgent = false): void {
    if (urgent && this.#inflight) this.#interrupt()
    if (this.#closed || this.#inflight || this.#scheduled || !this.#mayFetch()) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#fetch()
    })
  }

  /**
   * mayFetch is true when a next fetch may go out as far as buffering goes: nothing is buffered here,
   * or the consumer's buffered records and bytes are both under their bounds, counting `extraRecords`
   * and `extraBytes` of a response about to be buffered. When not, the source waits for roomFreed.
   */
  #mayFetch(extraRecords = 0, extraBytes = 0): boolean {
    const nothing = this.#buffered.length === 0 && extraRecords === 0 && extraBytes === 0
    if (nothing || this.#consumer.roomToPrefetch(extraRecords, extraBytes)) {
      this.#waitingRoom = false
      return true
    }
    this.#waitingRoom = true
    return false
  }

  /** roomFreed wakes a source held back by the buffer bounds, once polls have taken records. */
  roomFreed(): void {
    if (this.#waitingRoom) this.wake()
  }

  #fetch(extraRecords = 0, extraBytes = 0): void {
    if (this.#closed || this.#inflight || !this.#mayFetch(extraRecords, extraBytes)) return
    const c = this.#consumer
    if (!c.acquireFetchSlot(this)) return
    const now = Date.now()
    const usable: Cursor[] = []
    let nextBackoff = Infinity
    let recheck: Cursor[] | null = null
    for (const cur of this.cursors) {
      // KIP-392: a partition fetched here, from the replica its leader preferred, for
      // recheckPreferredReplicaInterval goes back to its leader, which may prefer another replica by now.
      if (cur.preferredReplica === this.nodeId && now >= cur.preferredUntil) (recheck ??= []).push(cur)
      else if (cur.fetchable(now)) usable.push(cur)
      else if (!cur.paused && !cur.removed && !cur.awaitingLeader && cur.backoffUntil > now && cur.backoffUntil < nextBackoff) nextBackoff = cur.backoffUntil
    }
    if (recheck !== null) {
      c.core.log('info', 'fetching from the leader again to recheck the preferred read replica', 'from_broker', this.nodeId, 'partitions', recheck.map((r) => `${r.topic}[${r.partition}]`).join(' '))
      for (const cur of recheck) {
        cur.preferredReplica = -1
        c.placeCursor(cur, true)
        // The leader may be this broker now: then the partition is fetched here, in this fetch.
        if (cur.source === this && cur.fetchable(now)) usable.push(cur)
      }
    }
    if (usable.length === 0) {
      c.releaseFetchSlot()
      this.#backoffTimer.at(nextBackoff)
      return
    }
    const cfg = c.core.config
    // Each cursor's generation as sent: the response applies only to cursors still there (#onResponse).
    const sent = new Map<Cursor, number>()
    for (const u of usable) sent.set(u, u.generation)
    const req = this.#buildRequest(sent)
    this.#inflight = true
    this.#inflightCursors = sent
    // end frees the source for its next fetch, once: as soon as a response's offsets are known
    // (#onResponse), or when the fetch fails.
    let ended = false
    const end = (): void => {
      if (ended) return
      ended = true
      this.#inflight = false
      this.#inflightCursors = null
      this.#killed = false
      c.releaseFetchSlot()
    }
    c.core
      .requestOn(this.nodeId, 'fetch', Fetch, req, { timeout: cfg.fetchMaxWait + cfg.requestTimeoutOverhead, signal: this.#abort.signal, flush: true })
      .then(
        (res) => {
          this.#failures = 0
          this.#onResponse(res, sent, end)
        },
        (err: Error) => this.#onError(err),
      )
      .finally(() => {
        end()
        this.wake()
      })
  }

  /**
   * interrupt ends the fetch in flight when a fetchable partition is missing from it, or is in it at
   * a position it has since left (a seek, a rewind), by closing the fetch connection (a broker cannot
   * be told to stop waiting), so a newly assigned or repositioned partition does not wait out
   * fetchMaxWait behind a long poll. franz-go kills in-flight fetches on
   * assignment changes the same way. The fetch session starts over; no data is lost, since a
   * cursor moves only when a response is processed.
   */
  #interrupt(): void {
    // A fetch held back by the buffer bounds would not start at once anyway: let the long poll be.
    if (this.#killed || this.#inflightCursors === null || !this.#mayFetch()) return
    const now = Date.now()
    let missing = false
    for (const cur of this.cursors) {
      if (cur.fetchable(now) && this.#inflightCursors.get(cur) !== cur.generation) {
        missing = true
        break
      }
    }
    if (!missing) return
    this.#killed = true
    this.#consumer.core.broker(this.nodeId)?.connection('fetch').then((conn) => conn.close(), () => {})
  }

  #buildRequest(usable: ReadonlyMap<Cursor, number>): FetchRequest {
    const c = this.#consumer
    const cfg = c.core.config
    const req = Fetch.newRequest()
    req.maxWaitMs = cfg.fetchMaxWait
    req.minBytes = cfg.fetchMinBytes
    req.maxBytes = cfg.fetchMaxBytes
    req.isolationLevel = cfg.isolationLevel
    req.rackId = cfg.rack ?? ''
    const sessions = !cfg.disableFetchSessions
    // KIP-227: sessionId 0 / epoch 0 asks for a new session (a full fetch); -1 asks for none.
    req.sessionId = sessions ? this.#sessionId : 0
    req.sessionEpoch = sessions ? this.#sessionEpoch : -1
    const full = !sessions || this.#sessionEpoch === 0
    const byTopic = new Map<string, FetchRequest['topics'][number]>()
    const inRequest = new Set<Cursor>()
    for (const cur of usable.keys()) {
      const entry = this.#session.get(cur)
      const changed = full || entry === undefined || entry.offset !== cur.offset || entry.leaderEpoch !== cur.leaderEpoch || entry.maxBytes !== cfg.fetchMaxPartitionBytes
      if (!changed) continue
      inRequest.add(cur)
      let t = byTopic.get(cur.topic)
      if (t === undefined) {
        t = { topic: cur.topic, topicId: cur.topicId, partitions: [] }
        byTopic.set(cur.topic, t)
        req.topics.push(t)
      }
      t.partitions.push({
        partition: cur.partition,
        currentLeaderEpoch: cur.leaderEpoch,
        fetchOffset: cur.offset,
        lastFetchedEpoch: cur.lastFetchedEpoch,
        logStartOffset: -1n,
        partitionMaxBytes: cfg.fetchMaxPartitionBytes,
        replicaDirectoryId: ZERO_UUID,
        highWatermark: 9223372036854775807n,
      })
    }
    if (sessions) {
      if (full) this.#session.clear()
      else {
        // Partitions in the session that are not fetchable now (paused, removed, moved) are forgotten.
        // A partition whose cursor was replaced (revoked and assigned again, removed and added again)
        // is not: the new cursor is in `topics` above, and the broker applies forgotten partitions
        // after the fetched ones, so forgetting it too would drop it from the session for good.
        const sent = new Set<string>()
        for (const cur of inRequest) sent.add(`${cur.topic}\u0000${cur.partition}`)
        const forgotten = new Map<string, FetchRequest['forgottenTopicsData'][number]>()
        for (const cur of [...this.#session.keys()]) {
          if (usable.has(cur)) continue
          this.#session.delete(cur)
          if (sent.has(`${cur.topic}\u0000${cur.partition}`)) continue
          let f = forgotten.get(cur.topic)
          if (f === undefined) {
            f = { topic: cur.topic, topicId: cur.topicId, partitions: [] }
            forgotten.set(cur.topic, f)
            req.forgottenTopicsData.push(f)
          }
          f.partitions.push(cur.partition)
        }
      }
      for (const cur of inRequest) {
        this.#session.set(cur, { offset: cur.offset, maxBytes: cfg.fetchMaxPartitionBytes, leaderEpoch: cur.leaderEpoch, lastFetchedEpoch: cur.lastFetchedEpoch })
      }
    }
    return req
  }

  #resetSession(): void {
    this.#sessionId = 0
    this.#sessionEpoch = 0
    this.#session.clear()
  }

  #onError(err: Error): void {
    if (this.#closed) return
    if (this.#killed) {
      // We closed the connection ourselves (interrupt): fetch again at once, in a new session.
      this.#resetSession()
      return
    }
    const c = this.#consumer
    this.#failures++
    this.#resetSession()
    c.core.log('debug', 'fetch failed', 'broker', this.nodeId, 'err', err.message)
    const until = Date.now() + c.core.config.retryBackoff(this.#failures)
    for (const cur of this.cursors) cur.backoffUntil = until
    if ((err as { retriable?: boolean }).retriable !== false) c.core.metadata.trigger()
    // An error retrying cannot fix (failed authentication on the fetch connection) reaches the
    // application's next poll instead of only the debug log.
    else if (err instanceof KafkaWireError) c.addError(err, '', -1, `fetch\u0000${this.nodeId}\u0000${err.code}`)
    this.#backoffTimer.at(until)
  }

  /**
   * onResponse handles a fetch response in two passes. The first reads what each partition's answer
   * says without decoding records (errors, truncation, moves, and from the batch headers where the
   * partition's next fetch starts) and moves the cursors; then `end` frees the source and the next
   * fetch goes out at once, bounds permitting, so the broker works on it while this response's
   * records are checked and decoded in the second pass.
   */
  #onResponse(res: FetchResponse, sent: ReadonlyMap<Cursor, number>, end: () => void): void {
    if (this.#closed) return
    const c = this.#consumer
    const cfg = c.core.config
    if (res.errorCode !== 0) {
      // The whole fetch failed: session errors start a new session; others back off.
      this.#resetSession()
      if (res.errorCode !== FETCH_SESSION_ID_NOT_FOUND && res.errorCode !== INVALID_FETCH_SESSION_EPOCH && res.errorCode !== FETCH_SESSION_TOPIC_ID_ERROR) {
        this.#onError(new KafkaProtocolError(res.errorCode, { broker: this.nodeId }))
      }
      return
    }
    if (!cfg.disableFetchSessions) {
      if (res.sessionId !== 0) {
        if (this.#sessionId !== res.sessionId) this.#sessionEpoch = 0
        this.#sessionId = res.sessionId
        this.#sessionEpoch = this.#sessionEpoch === 0x7fffffff ? 1 : this.#sessionEpoch + 1
      } else {
        // The broker would not open a session (too many); keep full fetches.
        this.#resetSession()
      }
    }
    const byKey = new Map<string, Cursor>()
    for (const cur of sent.keys()) {
      byKey.set(`${cur.topic}\u0000${cur.partition}`, cur)
      byKey.set(`${cur.topicId}\u0000${cur.partition}`, cur)
    }
    const out: FetchPartition[] = []
    const fetched: FetchedCursor[] = []
    const data: FetchedData[] = []
    let records = 0
    let bytes = 0
    let exact = true
    let refresh = false
    let moved: Cursor[] | null = null
    let moves: LeaderMove[] | null = null
    let moving: Cursor[] | null = null
    for (const t of res.responses) {
      for (const pd of t.partitions) {
        const cur = byKey.get(`${t.topic || t.topicId}\u0000${pd.partitionIndex}`)
        if (cur === undefined || cur.removed || sent.get(cur) !== cur.generation) continue
        const r = this.#answer(cur, pd)
        if (r === 'refresh') refresh = true
        else if (r === 'moved') {
          const to = pd.currentLeader
          if ((pd.errorCode === NOT_LEADER_OR_FOLLOWER || pd.errorCode === FENCED_LEADER_EPOCH) && to.leaderId >= 0 && to.leaderEpoch >= 0 && res.nodeEndpoints.length > 0) {
            // KIP-951: the broker named the partition's leader (fetch v16+): no metadata load is needed.
            ;(moves ??= []).push({ topic: cur.topic, partition: cur.partition, leader: to.leaderId, leaderEpoch: to.leaderEpoch })
            ;(moving ??= []).push(cur)
          } else (moved ??= []).push(cur)
        } else if (r === 'data') {
          const scan = scanRecordBatches(pd.records!, cur.offset, !cfg.disableFetchCRCValidation)
          data.push({ cursor: cur, pd, start: cur.offset, epoch: cur.lastFetchedEpoch, scan })
          // A corrupt batch: the partition waits out a backoff before it is fetched again (#decode).
          if (scan.corrupt) cur.backoffUntil = Date.now() + cfg.retryBackoff(3)
          if (scan.exact) {
            cur.offset = scan.next
            if (scan.leaderEpoch >= 0) cur.lastFetchedEpoch = scan.leaderEpoch
          } else exact = false
          records += scan.records
          bytes += pd.records!.length
        } else if (r !== null) {
          out.push(r)
          fetched.push({ cursor: cur, generation: cur.generation })
        }
      }
    }
    if (moves !== null) {
      // Followed (by this answer or an earlier one): fetched from the named leader at once (franz-go's
      // kip951move). A leader the client cannot follow leaves the partition to the metadata load.
      const followed = new Set(c.core.metadata.moveLeaders(moves, res.nodeEndpoints))
      for (let i = 0; i < moves.length; i++) {
        if (followed.has(moves[i]!)) c.followLeader(moving![i]!)
        else (moved ??= []).push(moving![i]!)
      }
    }
    if (moved !== null) c.awaitLeaders(moved)
    else if (refresh) c.core.metadata.trigger()
    end()
    // Where every partition's next offset is known, the next fetch need not wait for the decoding.
    if (exact && data.length > 0) this.#fetch(records, bytes)
    this.#frameUse = FRAME_FREE
    for (const d of data) {
      const p = this.#decode(d)
      if (p === null) continue
      out.push(p)
      fetched.push({ cursor: d.cursor, generation: d.cursor.generation })
    }
    // The response's buffer is read into again at once when nothing handed out views it, once every
    // partition made from it was let go when records view it under recycleFetches, and never when an
    // error (or a record, without the option) may view it.
    const use = this.#frameUse as FrameUse // set by #decode
    if (data.length > 0 && use !== FRAME_KEPT) {
      const view = data[0]!.pd.records!
      if (use === FRAME_FREE || out.length === 0) recycleFrame(view)
      else {
        const lease = new FrameLease(view)
        for (const p of out) leaseFrame(p, lease)
      }
    }
    if (out.length === 0) return
    const hooks = c.core.hooks
    if (hooks.onFetchRecordBuffered.length !== 0) {
      for (const p of out) hooks.fetchRecordsBuffered(p.records)
    }
    let n = 0
    for (let i = 0; i < out.length; i++) n += recordCount(out[i]!)
    this.#buffered.push({ partitions: out, cursors: fetched, partitionIndex: 0, recordIndex: 0, bytes })
    this.#bufRecords += n
    this.#bufBytes += bytes
    c.onBuffered(this)
  }

  /**
   * answer applies a partition's answer short of its records: errors handled, truncation and moves
   * followed. It returns 'data' when there are records to decode, 'moved' when the partition's
   * leader moved, 'refresh' when its topic may be gone, a partition carrying an error for the
   * application, or null.
   */
  #answer(cur: Cursor, pd: FetchResponsePartitionData): FetchPartition | 'data' | 'moved' | 'refresh' | null {
    const c = this.#consumer
    const cfg = c.core.config
    cur.highWatermark = pd.highWatermark
    cur.lastStableOffset = pd.lastStableOffset
    if (pd.logStartOffset >= 0n) cur.logStartOffset = pd.logStartOffset
    const code = pd.errorCode
    if (code !== 0) {
      const err = new KafkaProtocolError(code, { broker: this.nodeId, topic: cur.topic, partition: cur.partition })
      if (code === OFFSET_OUT_OF_RANGE && cur.preferredReplica === this.nodeId) {
        // KIP-392: a follower's log can end before the position the leader gave (it is catching up):
        // the leader is asked, which resets only if the offset is out of its range too (as Java does).
        c.core.log('debug', 'offset out of range on a preferred replica; asking the leader', 'topic', cur.topic, 'partition', cur.partition, 'offset', String(cur.offset), 'broker', this.nodeId)
        cur.preferredReplica = -1
        c.placeCursor(cur)
        return null
      }
      if (code === OFFSET_OUT_OF_RANGE) {
        // The offset is gone (retention) or beyond the end: start over per consumeResetOffset.
        const spec = cfg.consumeResetOffset
        c.core.log('info', 'offset out of range; resetting', 'topic', cur.topic, 'partition', cur.partition, 'offset', String(cur.offset))
        cur.reset(typeof spec === 'object' && 'offset' in spec ? 'earliest' : spec)
        c.resolveSoon()
        return null
      }
      const moved = MOVED.has(code)
      if (moved || UNKNOWN.has(code)) {
        // Handled here either way; keepRetryableFetchErrors lets the application see it too.
        if (cfg.keepRetryableFetchErrors) c.addError(err, cur.topic, cur.partition)
        cur.backoffUntil = Date.now() + cfg.retryBackoff(1)
        cur.preferredReplica = -1
        if (!moved) return 'refresh'
        cur.awaitingLeader = true
        return 'moved'
      }
      // Authorization and other errors go to the application, which decides (franz-go does too).
      cur.backoffUntil = Date.now() + cfg.retryBackoff(2)
      return { topic: cur.topic, partition: cur.partition, error: err, highWatermark: pd.highWatermark, lastStableOffset: pd.lastStableOffset, logStartOffset: pd.logStartOffset, records: [] }
    }
    if (pd.divergingEpoch.epoch >= 0 && pd.divergingEpoch.endOffset >= 0n && pd.divergingEpoch.endOffset < cur.offset) {
      // KIP-320: the log was truncated below our position; go back to where the logs agree.
      c.core.log('warn', 'log truncation detected', 'topic', cur.topic, 'partition', cur.partition, 'from', String(cur.offset), 'to', String(pd.divergingEpoch.endOffset))
      cur.setOffset(pd.divergingEpoch.endOffset, pd.divergingEpoch.epoch)
      return null
    }
    if (pd.preferredReadReplica >= 0 && pd.preferredReadReplica !== this.nodeId && c.core.broker(pd.preferredReadReplica) === undefined) {
      // A replica metadata does not name yet: the leader answered at once and without records, and
      // would again. Learn the broker, and ask the leader again after a backoff, not in a tight loop.
      c.core.metadata.trigger()
      cur.backoffUntil = Date.now() + cfg.retryBackoff(1)
      return null
    }
    if (pd.preferredReadReplica >= 0 && pd.preferredReadReplica !== this.nodeId) {
      // KIP-392: the leader wants us to fetch from a replica closer to our rack.
      cur.preferredReplica = pd.preferredReadReplica
      cur.preferredUntil = Date.now() + cfg.recheckPreferredReplicaInterval
      c.placeCursor(cur)
      return null
    }
    const raw = pd.records
    return raw === null || raw.length === 0 ? null : 'data'
  }

  /**
   * decode checks and decodes one partition's records, starting at the offset the cursor had when the
   * response came, and returns them (with the error of a corrupt batch, if any) or null. A cursor
   * already moved past the records by their headers (#onResponse) goes back to a corrupt batch, which
   * drops whatever the fetch in flight brings for it: the next fetch starts at that batch again after
   * a backoff, and reports it again while it stays corrupt, as the Java consumer does.
   */
  #decode(d: FetchedData): FetchPartition | null {
    const c = this.#consumer
    const cfg = c.core.config
    const { cursor: cur, pd, start } = d
    const raw = pd.records!
    let batches: RecordBatch[]
    let corrupt: KafkaWireError | null = null
    const hooks = c.core.hooks
    const batchHooks = hooks.onFetchBatchRead.length !== 0
    // Records are made when the application reads them (lazy-records.ts), unless hooks are to see
    // every record (or batch) as it is buffered: then they are made now, as the hooks need them.
    const defer = !batchHooks && hooks.onFetchRecordBuffered.length === 0 && hooks.onFetchRecordUnbuffered.length === 0
    const fields = { topic: cur.topic, partition: cur.partition }
    try {
      // Records are checked now, and made (straight into the shape handed to the application, one
      // object each) now or, deferred, when read. The scan checked the checksums already when it
      // was exact (and checked none when they are not to be).
      const verifyCrc = !cfg.disableFetchCRCValidation && (!d.scan.exact || d.scan.corrupt)
      // Records view their batch's copy (decompressed, or copied out) unless they came from an
      // uncompressed legacy message set; with recycleFetches, uncompressed ones view the response.
      const decoded = decodeRecordBatches(raw, { verifyCrc, maxDecompressedBytes: Math.max(cfg.fetchMaxBytes, 64 << 20), recordFields: fields, copyUncompressed: !cfg.recycleFetches, deferRecords: defer, decompressor: cfg.decompressor })
      if (decoded.viewsInput) this.#frameUse = Math.max(this.#frameUse, cfg.recycleFetches ? FRAME_LEASED : FRAME_KEPT) as FrameUse
      batches = decoded
    } catch (err) {
      // A corrupt batch: the complete batches before it are handed out with the error (which may view the response).
      this.#frameUse = FRAME_KEPT
      cur.backoffUntil = Date.now() + cfg.retryBackoff(3)
      corrupt = err instanceof KafkaWireError ? err : new ProtocolDecodeError(String(err), err)
      batches = err instanceof CorruptRecordBatchError ? err.decoded : []
    }
    const records = new LazyRecords(fields)
    const readCommitted = cfg.isolationLevel === 1
    const keepControl = cfg.keepControlRecords
    const aborted = readCommitted ? pd.abortedTransactions ?? [] : []
    aborted.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
    let abortedIdx = 0
    const abortedProducers = new Set<bigint>()
    const meta = batchHooks ? c.core.broker(this.nodeId)?.meta : undefined
    let next = start
    let epoch = -1
    for (const b of batches) {
      const last = b.baseOffset + BigInt(b.lastOffsetDelta)
      if (batchHooks && meta !== undefined) hooks.fetchBatchRead(meta, cur.topic, cur.partition, fetchBatchMetrics(b))
      if (last < next) continue
      next = last + 1n
      if (b.partitionLeaderEpoch >= 0) epoch = b.partitionLeaderEpoch
      if (readCommitted) {
        while (abortedIdx < aborted.length && aborted[abortedIdx]!.firstOffset <= last) abortedProducers.add(aborted[abortedIdx++]!.producerId)
        if (b.isControl) {
          if (b.control?.type === 'abort') abortedProducers.delete(b.producerId)
          if (!keepControl) continue
        } else if (b.isTransactional && abortedProducers.has(b.producerId)) continue
      } else if (b.isControl && !keepControl) continue
      if (b.deferred !== undefined) {
        records.addBatch(b, start)
        continue
      }
      const rs = b.records as Array<BatchRecord & ClientRecordFields>
      // A control record kept (keepControlRecords) says so, and which marker it is; data records
      // never get the property, so their shape stays the one the decoder made.
      if (b.isControl) for (let i = 0; i < rs.length; i++) (rs[i] as Record).control = b.control!
      records.addRecords(rs, start)
    }
    if (!d.scan.exact) {
      cur.offset = next
      if (epoch >= 0) cur.lastFetchedEpoch = epoch
    } else if (next !== d.scan.next) cur.setOffset(next, epoch >= 0 ? epoch : d.epoch)
    if (records.count === 0 && corrupt === null) return null
    const p = { topic: cur.topic, partition: cur.partition, error: corrupt, highWatermark: pd.highWatermark, lastStableOffset: pd.lastStableOffset, logStartOffset: pd.logStartOffset }
    return defer ? lazyPartition(p, records) : { ...p, records: records.toArray() }
  }

  // ---------------------------------------------------------------- the buffered fetch

  /** hasBuffered is true while fetched records wait to be polled. */
  get hasBuffered(): boolean {
    return this.#buffered.length !== 0
  }

  /** bufferedRecords counts the fetched records not yet polled. */
  get bufferedRecords(): number {
    return this.#bufRecords
  }

  /** bufferedBytes is the wire size of the buffered fetch responses (counted until wholly polled). */
  get bufferedBytes(): number {
    return this.#bufBytes
  }

  /**
   * take moves up to `max` buffered records into `out`, partition by partition, and returns how many
   * it moved. It takes from the oldest buffered response only (going on to the next one only when
   * everything of the oldest was dropped), so that one poll has each partition at most once per
   * broker. Partitions revoked, repositioned or paused since the fetch are dropped on the way.
   */
  take(max: number, out: FetchPartition[]): number {
    const before = out.length
    let left = max
    let taken = 0
    let freed = false
    while (this.#buffered.length !== 0 && left > 0 && out.length === before) {
      const b = this.#buffered[0]!
      while (b.partitionIndex < b.partitions.length && left > 0) {
        const p = b.partitions[b.partitionIndex]!
        const cur = b.cursors[b.partitionIndex]!
        if (unpollable(cur)) {
          this.#drop(p, b.recordIndex, cur)
          b.partitionIndex++
          b.recordIndex = 0
          continue
        }
        const n = recordCount(p) - b.recordIndex
        if (n <= left) {
          if (b.recordIndex === 0) out.push(p)
          else {
            const rest = { ...p, records: p.records.slice(b.recordIndex) }
            holdSameFrame(rest, p)
            releaseFrame(p)
            out.push(rest)
          }
          left -= n
          taken += n
          b.partitionIndex++
          b.recordIndex = 0
        } else {
          // A partition whose records are not made yet gives its first `left` (lazy-records.ts) and
          // keeps the rest, so its buffered part stays whole (recordIndex 0).
          const lz = lazyOf(p)
          let head: FetchPartition
          if (lz !== null) head = lazyPartition(p, lz.takeFirst(left))
          else {
            head = { ...p, records: p.records.slice(b.recordIndex, b.recordIndex + left) }
            b.recordIndex += left
          }
          holdSameFrame(head, p)
          out.push(head)
          taken += left
          left = 0
        }
      }
      if (b.partitionIndex < b.partitions.length) break
      this.#shift()
      freed = true
    }
    this.#bufRecords -= taken
    if (freed) this.wake()
    return taken
  }

  /** discardUnpollable drops buffered partitions revoked, repositioned or paused since the fetch. */
  discardUnpollable(): void {
    // Oldest first: a paused partition's cursor goes back to its first buffered record (#drop), and
    // moving it makes the partition's later buffered records stale, so they are dropped as they are.
    let freed = false
    for (let k = 0; k < this.#buffered.length; k++) {
      const b = this.#buffered[k]!
      for (let i = b.partitionIndex; i < b.partitions.length; i++) {
        const e = b.cursors[i]!
        if (!unpollable(e)) continue
        this.#drop(b.partitions[i]!, i === b.partitionIndex ? b.recordIndex : 0, e)
        b.partitions.splice(i, 1)
        b.cursors.splice(i, 1)
        if (i === b.partitionIndex) b.recordIndex = 0
        i--
      }
      if (b.partitionIndex >= b.partitions.length) {
        this.#bufBytes -= b.bytes
        this.#buffered.splice(k--, 1)
        freed = true
      }
    }
    if (freed) this.wake()
  }

  /** shift removes the oldest buffered response, wholly polled or dropped. */
  #shift(): void {
    this.#bufBytes -= this.#buffered.shift()!.bytes
  }

  /**
   * drop discards a buffered partition's records from index `from`. A paused partition's cursor goes
   * back to the first of them, so resuming fetches them again: franz-go strips paused partitions from
   * polls the same way (a poll never returns a partition paused before it), and Java holds them back.
   */
  #drop(p: FetchPartition, from: number, entry: FetchedCursor): void {
    const c = entry.cursor
    const lz = lazyOf(p)
    if (lz !== null) {
      // Its records are not made (but for part of one batch, when a poll took some of them and it
      // holds the rest from firstOffset on): no hook is there to hear of them either, or the records
      // would have been made when they came.
      if (!c.removed && entry.generation === c.generation && c.paused && lz.count > 0) c.setOffset(lz.firstOffset, -1)
      this.#bufRecords -= lz.count
      releaseFrame(p)
      return
    }
    const rest = p.records.slice(from)
    if (!c.removed && entry.generation === c.generation && c.paused && rest.length > 0) c.setOffset(rest[0]!.offset, -1)
    this.#bufRecords -= rest.length
    this.#consumer.dropped(rest, p)
  }

  close(): void {
    this.#closed = true
    this.#abort.abort(new Error('consumer closed'))
    this.#backoffTimer.stop()
  }
}

/**
 * fetchBatchMetrics measures a fetched batch as franz-go's FetchBatchMetrics does. For a v2 batch the
 * sizes leave out the batch header: compressedBytes is the records as fetched, uncompressedBytes the
 * records after decompression, worked out again from the decoded records (the decoder keeps no
 * count). Their timestamp deltas are exact for create-time batches; a log-append-time batch no longer
 * carries them, and counts them at one byte each. A legacy message set counts its message overhead
 * in both, as franz-go's does. numRecords includes control records.
 */
export function fetchBatchMetrics(b: RecordBatch): FetchBatchMetrics {
  const rs = b.records
  const wire = b.batchLength + 12
  if (b.magic < 2) return { numRecords: rs.length, uncompressedBytes: wire, compressedBytes: wire, compressionType: b.compression }
  const compressed = wire - RECORD_BATCH_OVERHEAD
  let uncompressed = compressed
  if (b.compression !== 0) {
    uncompressed = 0
    const logAppend = b.timestampType === 'log-append'
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!
      uncompressed += encodedRecordSize(r, Number(r.offset - b.baseOffset), logAppend ? 0 : r.timestamp - b.baseTimestamp)
    }
  }
  return { numRecords: rs.length, uncompressedBytes: uncompressed, compressedBytes: compressed, compressionType: b.compression }
}

/** unpollable is true for buffered data whose partition was removed, repositioned or paused since it was fetched. */
function unpollable(e: FetchedCursor): boolean {
  return e.cursor.removed || e.generation !== e.cursor.generation || e.cursor.paused
}
