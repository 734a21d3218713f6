import { ErrorCode, kafkaErrorCodes } from '../../protocol/error-codes.js'
import { KafkaProtocolError, KafkaWireError, ProtocolDecodeError } from '../../protocol/errors.js'
import type { ApiMessage } from '../../protocol/messages/api.js'
import { ShareAcknowledge, type ShareAcknowledgeRequest, type ShareAcknowledgeResponse } from '../../protocol/messages/share-acknowledge.js'
import { ShareFetch, type ShareFetchRequest, type ShareFetchResponse, type ShareFetchResponsePartitionData } from '../../protocol/messages/share-fetch.js'
import { ShareGroupHeartbeat, type ShareGroupHeartbeatRequest } from '../../protocol/messages/share-group-heartbeat.js'
import { CorruptRecordBatchError, decodeRecordBatches, type RecordBatch } from '../../protocol/records.js'
import type { Record } from '../../protocol/record.js'
import type { BrokerMetadata } from '../../hooks/index.js'
import type { ClientCore } from '../core.js'
import { AbortError, ClientClosedError, InvalidArgumentError, UnsupportedVersionError } from '../errors.js'
import type { LeaderMove } from '../metadata.js'
import type { AckStatus, CoreListener, ShareAckResult } from '../types.js'
import { Fetches, type FetchPartition } from './fetches.js'
import { endedPoll, MissingTopics, PollErrors, PollWaiters, reportsMetadataError, takeRoundRobin } from './polls.js'
import { fetchBatchMetrics } from './source.js'
import { WakeTimer } from '../wake-timer.js'
import { recycleFrame } from '../connection.js'
import { HeartbeatLoop } from './heartbeat-loop.js'

// AcknowledgeType on the wire (KIP-932): 0 is a gap (an acquired offset with no record to hand out).
const GAP = 0
const ACK_TYPES: { readonly [K in AckStatus]: number } = { accept: 1, release: 2, reject: 3, renew: 4 }
/** RENEW (KIP-1222) extends a record's acquisition lock; it is not a final acknowledgement. */
const RENEW = ACK_TYPES.renew
/** A mark (Slab.marks) is a final acknowledgement type (0 until set) in its low bits, and flags. */
const TYPE_BITS = 0x07
/** QUEUED flags a mark whose acknowledgement has been queued for sending. */
const QUEUED = 0x80
/** RENEWING flags a record whose renewal is queued or in flight: its final acknowledgement waits for the answer. */
const RENEWING = 0x40
/** SHARE_V2 is the first ShareFetch and ShareAcknowledge version with renewals and the record-limit acquire mode (Kafka 4.2). */
const SHARE_V2 = 2
/** ACQUIRE_RECORD_LIMIT is ShareFetch's record-limit acquire mode (KIP-1206): at most MaxRecords, batches split. */
const ACQUIRE_RECORD_LIMIT = 1
const FINAL_EPOCH = -1
/**
 * ACKS_MAX_WAIT bounds how long a fetch carrying acknowledgements may wait on the broker for records:
 * their answer comes with the fetch's, and flushAcks, close and shareAckCallback wait for it.
 */
const ACKS_MAX_WAIT = 500

/** Errors that mean a partition is led elsewhere now, or its metadata is stale: it waits for a load (or a KIP-951 hint). */
const MOVED = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.REPLICA_NOT_AVAILABLE,
])
const SESSION_LOST = new Set<number>([ErrorCode.SHARE_SESSION_NOT_FOUND, ErrorCode.INVALID_SHARE_SESSION_EPOCH])
const { UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH } = ErrorCode

/** SharePart is an assigned partition. */
interface SharePart {
  key: string
  topic: string
  topicId: string
  partition: number
  /** backoffUntil holds the partition back after an error (Date.now() ms). */
  backoffUntil: number
}

/**
 * AckRange is a run of offsets acknowledged the same way; `user` counts the polled records in it. A
 * renewal's run names its records (`renewing`: records [from, to) of a slab) so that their final
 * marks can go once it is answered.
 */
interface AckRange {
  first: bigint
  last: bigint
  type: number
  user: number
  renewing?: { slab: Slab; from: number; to: number }
}

/** PendingAcks are one partition's acknowledgements waiting to be sent to its source's broker. */
interface PendingAcks {
  topic: string
  topicId: string
  partition: number
  ranges: AckRange[]
}

/**
 * Slab is one partition's records from one share fetch: the records handed out (sorted by offset)
 * and each one's mark (0 until markAcks or the next poll marks it; QUEUED once sent on its way;
 * RENEWING while a renewal of it is on its way).
 * `session` is the source's session generation the records were acquired in: acknowledgements
 * belong to that session and are dropped (with an error result) once it is gone.
 */
interface Slab {
  source: ShareSource
  session: number
  topic: string
  topicId: string
  partition: number
  records: Record[]
  marks: Uint8Array
  /** taken counts the records handed to polls so far. */
  taken: number
  /** bytes is the wire size of the partition's records in the response, counted until all are polled. */
  bytes: number
}

/** Polled is a run of a slab's records one poll handed out. */
interface Polled {
  slab: Slab
  from: number
  to: number
}

/**
 * ShareConsumer consumes as a member of a share group (KIP-932). The coordinator assigns partitions
 * (ShareGroupHeartbeat), possibly to several members at once; each partition's leader hands each
 * record to one member at a time, under an acquisition lock, through a share session per broker
 * (ShareFetch). Every acquired record is acknowledged: accepted, released (delivered again, to any
 * member, with its delivery count raised) or rejected (archived). As in franz-go, records of one
 * poll that the application did not mark (markAcks) are accepted at the next poll; at close they are
 * released, with the records fetched and never polled. Acknowledgements ride on the next ShareFetch
 * to the broker, or go alone (ShareAcknowledge) when no fetch is due or flushAcks asks.
 */
export class ShareConsumer implements CoreListener {
  readonly core: ClientCore
  readonly group: string
  memberId: string = globalThis.crypto.randomUUID()
  memberEpoch = 0
  #interval: number
  #failures = 0
  /** heartbeats sends ShareGroupHeartbeats, one at a time, until the member closes or leaves. */
  #heartbeats = new HeartbeatLoop(
    () => this.#beat(),
    () => !this.#closed && !this.#leaving,
  )
  #sentTopics = ''
  /** assigned is the coordinator's assignment, by topic id; parts is every assigned partition, by "topic\u0000partition". */
  #assigned = new Map<string, number[]>()
  #parts = new Map<string, SharePart>()
  #unresolved = false
  /** pausedTopics and pausedParts ("topic\u0000partition") are not fetched (pause). */
  #pausedTopics = new Set<string>()
  #pausedParts = new Set<string>()
  #sources = new Map<number, ShareSource>()
  /** ready are the sources with records to poll, oldest first. */
  #ready: ShareSource[] = []
  #lastPolled: Polled[] = []
  #polls = new PollWaiters()
  #errors = new PollErrors()
  #missing = new MissingTopics()
  #closed = false
  #leaving = false
  /** abort ends the sources' requests once the member has closed; beatAbort ends a heartbeat once it starts closing. */
  readonly abort = new AbortController()
  #beatAbort = new AbortController()

  constructor(core: ClientCore) {
    this.core = core
    this.group = core.config.shareGroup!
    this.#interval = core.config.heartbeatInterval
    core.listen(this)
    core.metadata.interest(core.config.consumeTopics)
  }

  /** start joins the group and loads metadata, so that topic ids can be named and leaders found. */
  start(): void {
    if (this.#closed) return
    this.#heartbeats.schedule(0)
    this.core.metadata.refresh(true).catch((err: Error) => this.core.log('warn', 'metadata load failed', 'err', err.message))
  }

  get closed(): boolean {
    return this.#closed
  }

  wants(topic: string): boolean {
    return this.core.config.consumeTopics.includes(topic)
  }

  // ---------------------------------------------------------------- membership

  /** beat sends one ShareGroupHeartbeat and returns when to send the next (null: not at all). */
  async #beat(): Promise<number | null> {
    const cfg = this.core.config
    const req: ShareGroupHeartbeatRequest = ShareGroupHeartbeat.newRequest()
    req.groupId = this.group
    req.memberId = this.memberId
    req.memberEpoch = this.memberEpoch
    const topics = [...cfg.consumeTopics].sort()
    const key = topics.join('\u0000')
    // Subscription and rack are sent on joining and when they change; null means "unchanged".
    const full = this.memberEpoch === 0 || key !== this.#sentTopics
    req.subscribedTopicNames = full ? topics : null
    req.rackId = full ? cfg.rack : null
    let next = this.#interval
    try {
      const res = await this.core.request(ShareGroupHeartbeat, req, { timeout: cfg.sessionTimeout, signal: this.#beatAbort.signal })
      if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage })
      this.#failures = 0
      this.#sentTopics = key
      if (res.memberId !== null && res.memberId !== '') this.memberId = res.memberId
      this.memberEpoch = res.memberEpoch
      if (res.heartbeatIntervalMs > 0) this.#interval = res.heartbeatIntervalMs
      next = this.#interval
      if (res.assignment !== null) {
        this.#assigned = new Map(res.assignment.topicPartitions.map((tp) => [tp.topicId, [...tp.partitions].sort((a, b) => a - b)]))
        this.#unresolved = true
        this.core.log('info', 'share group assignment', 'group', this.group, 'epoch', this.memberEpoch, 'partitions', res.assignment.topicPartitions.map((tp) => `${tp.topicId}:${tp.partitions.join(',')}`).join(' '))
      }
      if (this.#unresolved && !(await this.#resolveAssignment())) next = Math.min(next, 200)
    } catch (err) {
      if (this.#closed || this.#leaving) return null
      const e = err as Error
      this.#failures++
      next = cfg.retryBackoff(this.#failures)
      if (e instanceof KafkaProtocolError && (e.errorCode === FENCED_MEMBER_EPOCH || e.errorCode === UNKNOWN_MEMBER_ID)) {
        // Fenced or forgotten: the assignment is gone; rejoin at once with epoch 0 and the same member id.
        this.core.log('warn', 'share group member fenced; rejoining', 'group', this.group, 'err', e.message)
        this.memberEpoch = 0
        this.#assigned = new Map()
        this.#unresolved = false
        this.#setParts(new Map())
        next = 0
      } else {
        this.core.log('warn', 'share group heartbeat failed', 'group', this.group, 'err', e.message)
        // What retrying cannot mend (authorization, a group of another type, a full group) is told to polls.
        if (e instanceof KafkaWireError && !e.retriable) this.addError(e)
      }
      this.core.hooks.groupManageError(e)
    }
    return this.#closed || this.#leaving ? null : next
  }

  /**
   * resolveAssignment names the assignment's topic ids from metadata (loading it when an id is
   * unknown) and places the partitions on their leaders. False while an id stays unknown.
   */
  async #resolveAssignment(): Promise<boolean> {
    const md = this.core.metadata
    const ids = [...this.#assigned.keys()]
    if (ids.some((id) => md.topicName(id) === undefined)) {
      md.interestAll(true)
      await md.refresh(true).catch(() => {})
      md.interestAll(false)
    }
    const parts = new Map<string, SharePart>()
    let all = true
    for (const [id, ps] of this.#assigned) {
      const topic = md.topicName(id)
      if (topic === undefined) {
        all = false
        continue
      }
      md.interest([topic])
      for (const p of ps) {
        const key = `${topic}\u0000${p}`
        parts.set(key, this.#parts.get(key) ?? { key, topic, topicId: id, partition: p, backoffUntil: 0 })
      }
    }
    this.#unresolved = !all
    this.#setParts(parts)
    return all
  }

  /** setParts replaces the assigned partitions and places them on their leaders' sources. */
  #setParts(parts: Map<string, SharePart>): void {
    this.#parts = parts
    this.#place()
  }

  /** place puts every assigned partition on its leader's source (and off any other), waking them. */
  #place(): void {
    const md = this.core.metadata
    let leaderless = false
    const byNode = new Map<number, SharePart[]>()
    for (const part of this.#parts.values()) {
      const leader = md.topics.get(part.topic)?.partitions[part.partition]?.leader ?? -1
      if (leader < 0) {
        leaderless = true
        continue
      }
      let list = byNode.get(leader)
      if (list === undefined) byNode.set(leader, (list = []))
      list.push(part)
    }
    for (const node of byNode.keys()) this.#source(node)
    for (const [node, s] of this.#sources) s.setParts(byNode.get(node) ?? [])
    if (leaderless) md.trigger()
  }

  #source(node: number): ShareSource {
    let s = this.#sources.get(node)
    if (s === undefined) this.#sources.set(node, (s = new ShareSource(this, node)))
    return s
  }

  onMetadata(): void {
    if (this.#closed) return
    if (this.#unresolved) this.#heartbeats.schedule(0)
    this.#place()
    this.#checkMissing()
  }

  /** onMetadataError tells polls of a failed metadata load as the consumer does (reportsMetadataError), and loads again. */
  onMetadataError(err: Error): void {
    if (this.#closed) return
    if (reportsMetadataError(err, this.core.metadata.failures)) this.addError(err)
    this.core.metadata.trigger()
  }

  onLeadersMoved(_moves: readonly LeaderMove[]): void {
    if (!this.#closed) this.#place()
  }

  /** checkMissing reports the subscribed topics metadata lacks (MissingTopics), loading metadata again while any is. */
  #checkMissing(): void {
    const md = this.core.metadata
    if (this.#missing.check(new Set(this.core.config.consumeTopics), md, this.core.config.unknownTopicRetries, this.#errors)) md.trigger()
    if (this.#errors.size > 0) this.#polls.wakeAll()
  }

  // ---------------------------------------------------------------- polling

  /** addError queues an error for the next poll: one per kind and place, the newest. */
  addError(error: Error, topic = '', partition = -1): void {
    this.#errors.add(error, topic, partition)
    this.#polls.wakeAll()
  }

  /** bufferedRecords counts the acquired records not yet polled. */
  get bufferedRecords(): number {
    let n = 0
    for (const s of this.#ready) n += s.bufferedRecords
    return n
  }

  /** bufferedBytes is the wire size of the partitions' records not wholly polled yet. */
  get bufferedBytes(): number {
    let n = 0
    for (const s of this.#ready) n += s.bufferedBytes
    return n
  }

  /** onBuffered is called by a source that has records to poll. */
  onBuffered(s: ShareSource): void {
    if (!this.#ready.includes(s)) this.#ready.push(s)
    this.#polls.wakeAll()
  }

  /**
   * poll accepts what the previous poll handed out and the application left unmarked, then returns
   * the acquired records buffered (up to `max`, all when max <= 0) and the errors met since, under
   * the same AbortSignal contract as Consumer.poll.
   */
  async poll(max: number, signal?: AbortSignal): Promise<Fetches> {
    const hooks = this.core.hooks
    if (hooks.onPollStart.length !== 0) hooks.pollStart(signal)
    if (this.#closed) {
      const f = new Fetches()
      f.addError(new ClientClosedError())
      return f
    }
    this.#finishPoll(ACK_TYPES.accept)
    this.core.hold()
    try {
      for (;;) {
        if (this.#ready.length > 0 || this.#errors.size > 0) {
          const f = this.#take(max)
          if (this.#errors.takeInto(f) > 0 || f.partitions.length > 0) return f
        }
        if (this.#closed || signal?.aborted) return endedPoll(this.#closed, signal, this.#errors)
        await this.#polls.wait(signal)
      }
    } finally {
      this.core.release()
    }
  }

  #take(max: number): Fetches {
    const out: FetchPartition[] = []
    takeRoundRobin(this.#ready, max, out, this.#lastPolled)
    const hooks = this.core.hooks
    if (hooks.onFetchRecordUnbuffered.length !== 0) for (const p of out) hooks.fetchRecordsUnbuffered(p.records, true)
    return new Fetches(out)
  }

  /**
   * finishPoll marks what the last poll handed out and the application left unmarked with `type`
   * (accept at the next poll, release at close) and queues every mark not yet queued.
   */
  #finishPoll(type: number): void {
    const polled = this.#lastPolled
    if (polled.length === 0) return
    this.#lastPolled = []
    for (const p of polled) {
      const marks = p.slab.marks
      for (let i = p.from; i < p.to; i++) if ((marks[i]! & TYPE_BITS) === 0) marks[i]! |= type
    }
    this.#queueMarks(polled)
  }

  /** queueMarks hands the marked, not yet queued records of `polled` to their sources. */
  #queueMarks(polled: Polled[]): void {
    const touched = new Set<ShareSource>()
    for (const p of polled) {
      const { slab } = p
      const ranges = takeMarks(slab, p.from, p.to)
      if (ranges.length > 0) {
        slab.source.queueAcks(slab, ranges)
        touched.add(slab.source)
      }
    }
    for (const s of touched) s.wake()
  }

  /**
   * markAcks marks records of the last poll with `status`: the given records, or every record of the
   * last poll not marked yet. A record keeps its first final mark; records not from the last poll
   * are left alone (their poll marked them already). 'renew' is sent at once and leaves the record
   * unmarked, to be marked again (or accepted by the next poll); a renewal of a record marked
   * already, or with a renewal on its way, is left out.
   */
  markAcks(status: AckStatus, records: Record[]): void {
    const type = ACK_TYPES[status]
    if (type === undefined || !Object.hasOwn(ACK_TYPES, status)) throw new InvalidArgumentError('status', `${JSON.stringify(status)} is not 'accept', 'release', 'reject' or 'renew'`)
    const polled = this.#lastPolled
    const targets: Polled[] = []
    if (records.length === 0) for (const p of polled) targets.push(p)
    else {
      for (const r of records) {
        for (const p of polled) {
          const { slab } = p
          if (slab.partition !== r.partition || slab.topic !== r.topic) continue
          const i = indexOfOffset(slab.records, p.from, p.to, r.offset)
          if (i >= 0) {
            targets.push({ slab, from: i, to: i + 1 })
            break
          }
        }
      }
    }
    if (type === RENEW) return this.#renew(targets)
    for (const p of targets) {
      const marks = p.slab.marks
      for (let i = p.from; i < p.to; i++) if ((marks[i]! & TYPE_BITS) === 0) marks[i]! |= type
    }
  }

  /**
   * renew sends renewals of the unmarked records of `targets` that have none on its way (KIP-1222):
   * their brokers start their acquisition locks over. It throws, changing nothing, when a broker
   * predates renewals.
   */
  #renew(targets: Polled[]): void {
    for (const p of targets) {
      if (!p.slab.source.renewable) throw new UnsupportedVersionError(`renewing share-group records needs ShareAcknowledge v${SHARE_V2} (Kafka 4.2+); broker ${p.slab.source.nodeId} is older`, { broker: p.slab.source.nodeId })
    }
    const touched = new Set<ShareSource>()
    for (const p of targets) {
      const { slab } = p
      const ranges: AckRange[] = []
      let run: AckRange | null = null
      for (let i = p.from; i < p.to; i++) {
        if (slab.marks[i] !== 0) {
          run = null
          continue
        }
        slab.marks[i] = RENEWING
        const off = slab.records[i]!.offset
        if (run !== null && run.last + 1n === off) {
          run.last = off
          run.user++
          run.renewing!.to = i + 1
        } else ranges.push((run = { first: off, last: off, type: RENEW, user: 1, renewing: { slab, from: i, to: i + 1 } }))
      }
      if (ranges.length > 0) {
        slab.source.queueAcks(slab, ranges)
        touched.add(slab.source)
      }
    }
    for (const s of touched) s.wake()
  }

  /**
   * pause stops fetching topics, or some partitions of topics, until resumed (also partitions assigned
   * later). What was fetched of them and not polled is released at once, for any member to take, as
   * franz-go does: the share group's way of "fetched again after resume".
   */
  pause(topics: string[] | Map<string, number[]>): void {
    if (Array.isArray(topics)) for (const t of topics) this.#pausedTopics.add(t)
    else for (const [t, ps] of topics) for (const p of ps) this.#pausedParts.add(`${t}\u0000${p}`)
    for (const s of this.#sources.values()) s.releasePaused()
    this.#ready = this.#ready.filter((s) => s.hasBuffered)
  }

  /** resume fetches paused topics or partitions again. */
  resume(topics: string[] | Map<string, number[]>): void {
    if (Array.isArray(topics)) for (const t of topics) this.#pausedTopics.delete(t)
    else for (const [t, ps] of topics) for (const p of ps) this.#pausedParts.delete(`${t}\u0000${p}`)
    for (const s of this.#sources.values()) s.wake()
  }

  /** isPaused is true when a partition is paused, by itself or with its topic. */
  isPaused(topic: string, partition: number): boolean {
    return (this.#pausedTopics.size !== 0 && this.#pausedTopics.has(topic)) || (this.#pausedParts.size !== 0 && this.#pausedParts.has(`${topic}\u0000${partition}`))
  }

  /**
   * flushAcks sends every mark made so far and resolves once the brokers answered them (the answers
   * went to shareAckCallback), or when `signal` aborts.
   */
  async flushAcks(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return
    this.#queueMarks(this.#lastPolled)
    const done = Promise.all([...this.#sources.values()].map((s) => s.flushed()))
    this.core.hold()
    try {
      if (signal === undefined) await done
      else {
        if (signal.aborted) throw new AbortError(signal.reason)
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(new AbortError(signal.reason))
          signal.addEventListener('abort', onAbort, { once: true })
          done.then(() => {
            signal.removeEventListener('abort', onAbort)
            resolve()
          })
        })
      }
    } finally {
      this.core.release()
    }
  }

  /** reportAcks hands acknowledgement outcomes to shareAckCallback. */
  reportAcks(results: ShareAckResult[]): void {
    const cb = this.core.config.shareAckCallback
    if (cb === null || results.length === 0) return
    try {
      cb(results)
    } catch (err) {
      this.core.log('error', 'shareAckCallback threw', 'err', (err as Error).message)
    }
  }

  // ---------------------------------------------------------------- close

  /**
   * close releases what the last poll handed out unmarked and what was fetched and never polled,
   * sends every acknowledgement with the close of each share session, and leaves the group, within
   * `deadline`.
   */
  async close(deadline = Infinity): Promise<void> {
    if (this.#closed) return
    this.#leaving = true
    const beating = this.#heartbeats.stop()
    // A heartbeat under way (retrying an unreachable coordinator, say) is cut short: the member leaves.
    this.#beatAbort.abort()
    this.#finishPoll(ACK_TYPES.release)
    const within = <T>(p: Promise<T>): Promise<T | void> => {
      const ms = deadline - Date.now()
      if (ms === Infinity) return p
      let t: NodeJS.Timeout | undefined
      return Promise.race([p, new Promise<void>((resolve) => (t = setTimeout(resolve, Math.max(0, ms))))]).finally(() => clearTimeout(t))
    }
    await within(Promise.all([...this.#sources.values()].map((s) => s.closeSession(deadline))))
    await within(beating)
    if (this.memberEpoch > 0) {
      const req = ShareGroupHeartbeat.newRequest()
      req.groupId = this.group
      req.memberId = this.memberId
      req.memberEpoch = -1
      req.rackId = null
      req.subscribedTopicNames = null
      await within(
        this.core
          .request(ShareGroupHeartbeat, req, { timeout: Math.max(1, Math.min(5_000, deadline - Date.now())) })
          .then((res) => {
            if (res.errorCode !== 0 && res.errorCode !== UNKNOWN_MEMBER_ID && res.errorCode !== FENCED_MEMBER_EPOCH) throw new KafkaProtocolError(res.errorCode)
          })
          .catch((err: Error) => this.core.log('warn', 'leaving the share group failed', 'group', this.group, 'err', err.message)),
      )
    }
    this.#closed = true
    this.abort.abort()
    for (const s of this.#sources.values()) s.stop()
    this.#errors.clear()
    this.#polls.wakeAll()
  }
}

/**
 * ShareSource is one broker's share session: the assigned partitions it leads, one request at a time
 * (the session epoch orders them), the acquired records buffered until polled, and the
 * acknowledgements waiting to go to this broker.
 */
class ShareSource {
  readonly nodeId: number
  #consumer: ShareConsumer
  #parts = new Map<string, SharePart>()
  /** inSession are the partitions the broker's session holds (as far as the last answer says). */
  #inSession = new Map<string, SharePart>()
  #epoch = 0
  /** session counts the sessions this source opened; slabs of an older one cannot be acknowledged. */
  #session = 1
  #pending = new Map<string, PendingAcks>()
  #buffered: Slab[] = []
  /** frameViewed is set while a response is decoded once a record or error handed out may view its buffer. */
  #frameViewed = false
  #inflight = false
  #scheduled = false
  /** backoffTimer wakes the source when a partition's backoff ends. */
  #backoffTimer = new WakeTimer(() => this.wake())
  #failures = 0
  /** inflightAcks is set while the request in flight carries acknowledgements. */
  #inflightAcks = false
  /** flushWaiters wait for every queued acknowledgement to be answered; idleWaiters for the request in flight to end. */
  #flushWaiters: Array<() => void> = []
  #idleWaiters: Array<() => void> = []
  /** closing is set once closeSession began: a failed request then leaves the session for the close to end. */
  #closing = false
  #stopped = false
  /** version is the ShareFetch version this broker answered last (-1 before its first answer). */
  #version = -1

  constructor(consumer: ShareConsumer, nodeId: number) {
    this.#consumer = consumer
    this.nodeId = nodeId
  }

  /** setParts sets the partitions this broker leads for the member. */
  setParts(parts: SharePart[]): void {
    const next = new Map(parts.map((p) => [p.key, p]))
    let changed = next.size !== this.#parts.size
    if (!changed) for (const k of next.keys()) if (!this.#parts.has(k)) changed = true
    this.#parts = next
    if (changed) this.wake()
  }

  /** renewable is true once this broker is known to take renewals (KIP-1222). */
  get renewable(): boolean {
    return this.#version >= SHARE_V2
  }

  get hasBuffered(): boolean {
    return this.#buffered.length !== 0
  }

  get bufferedRecords(): number {
    let n = 0
    for (const s of this.#buffered) n += s.records.length - s.taken
    return n
  }

  get bufferedBytes(): number {
    let n = 0
    for (const s of this.#buffered) n += s.bytes
    return n
  }

  /** queueAcks adds acknowledgements of a slab's records; those of a session gone are answered with an error at once. */
  queueAcks(slab: Slab, ranges: AckRange[]): void {
    if (slab.session !== this.#session || this.#stopped) {
      const n = userAcks(ranges)
      if (n > 0) this.#consumer.reportAcks([{ topic: slab.topic, partition: slab.partition, records: n, renewed: renewals(ranges), error: sessionGone(this.nodeId) }])
      endRenewals(ranges)
      return
    }
    this.#queue(slab, ranges)
  }

  #queue(slab: Slab, ranges: AckRange[]): void {
    const key = `${slab.topic}\u0000${slab.partition}`
    let p = this.#pending.get(key)
    if (p === undefined) this.#pending.set(key, (p = { topic: slab.topic, topicId: slab.topicId, partition: slab.partition, ranges: [] }))
    for (const r of ranges) p.ranges.push(r)
  }

  /** flushed resolves once every acknowledgement queued so far has been answered (or dropped). */
  flushed(): Promise<void> {
    if (this.#pending.size === 0 && !this.#inflightAcks) return Promise.resolve()
    const p = new Promise<void>((resolve) => this.#flushWaiters.push(resolve))
    this.wake()
    return p
  }

  #flushDone(): void {
    if (this.#flushWaiters.length === 0 || this.#pending.size !== 0 || this.#inflightAcks) return
    const w = this.#flushWaiters
    this.#flushWaiters = []
    for (const fn of w) fn()
  }

  /**
   * wake sends the next request soon, if one is due: a ShareFetch when partitions are fetchable and
   * nothing is buffered (acknowledgements of fetched partitions ride on it), otherwise a
   * ShareAcknowledge when acknowledgements wait (`flush`, records buffered, or partitions not fetched).
   */
  wake(): void {
    if (this.#stopped || this.#inflight || this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#next()
    })
  }

  #next(): void {
    if (this.#stopped || this.#inflight) return
    const now = Date.now()
    const fetchable: SharePart[] = []
    let nextBackoff = Infinity
    for (const p of this.#parts.values()) {
      if (this.#consumer.isPaused(p.topic, p.partition)) continue
      if (p.backoffUntil <= now) fetchable.push(p)
      else if (p.backoffUntil < nextBackoff) nextBackoff = p.backoffUntil
    }
    const fetch = fetchable.length > 0 && this.#buffered.length === 0 && !this.#closing
    if (this.#pending.size > 0 && this.#epoch > 0) {
      // Acknowledgements go alone when no fetch is due, when flushAcks waits for them, or when some
      // are for partitions the fetch would not name; otherwise they ride on it.
      // Renewals always go alone: the broker takes them only in a request that fetches nothing.
      let alone = !fetch || this.#flushWaiters.length > 0
      if (!alone) {
        const names = new Set(fetchable.map((p) => p.key))
        for (const [key, a] of this.#pending) if (!names.has(key) || renewals(a.ranges) > 0) alone = true
      }
      if (alone) return this.#acknowledge(this.#epoch)
    }
    // Acknowledgements cannot open a session (epoch 0): a session gone took them with it.
    if (this.#pending.size > 0 && this.#epoch === 0) this.#dropPending(sessionGone(this.nodeId))
    if (fetch) return this.#fetch(fetchable)
    this.#flushDone()
    this.#backoffTimer.at(nextBackoff)
  }

  /** takeAcks removes the pending acknowledgements of the given partitions (all when null), sorted and merged for the wire. */
  #takeAcks(only: ReadonlyMap<string, SharePart> | null): Map<string, PendingAcks> {
    const out = new Map<string, PendingAcks>()
    for (const [key, p] of this.#pending) {
      if (only !== null && !only.has(key)) continue
      this.#pending.delete(key)
      p.ranges.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0))
      const merged: AckRange[] = []
      for (const r of p.ranges) {
        const last = merged[merged.length - 1]
        if (last !== undefined && last.type === r.type && last.last + 1n === r.first && joins(last.renewing, r.renewing)) {
          last.last = r.last
          last.user += r.user
          if (last.renewing !== undefined) last.renewing = { slab: last.renewing.slab, from: last.renewing.from, to: r.renewing!.to }
        } else merged.push({ ...r })
      }
      p.ranges = merged
      out.set(key, p)
    }
    return out
  }

  #fetch(fetchable: SharePart[]): void {
    const c = this.#consumer
    const cfg = c.core.config
    const req: ShareFetchRequest = ShareFetch.newRequest()
    req.groupId = c.group
    req.memberId = c.memberId
    req.shareSessionEpoch = this.#epoch
    req.minBytes = cfg.fetchMinBytes
    req.maxBytes = cfg.fetchMaxBytes
    req.maxRecords = cfg.shareMaxRecords
    req.batchSize = cfg.shareMaxRecords
    const opening = this.#epoch === 0
    const want = new Map(fetchable.map((p) => [p.key, p]))
    // Acknowledgements go with the fetch for partitions in it (never in the request opening a session).
    const acks = opening ? new Map<string, PendingAcks>() : this.#takeAcks(want)
    req.maxWaitMs = acks.size > 0 ? Math.min(cfg.fetchMaxWait, ACKS_MAX_WAIT) : cfg.fetchMaxWait
    const byTopic = new Map<string, ShareFetchRequest['topics'][number]>()
    const entry = (topic: string, topicId: string) => {
      let t = byTopic.get(topic)
      if (t === undefined) {
        byTopic.set(topic, (t = { topicId, partitions: [] }))
        req.topics.push(t)
      }
      return t
    }
    for (const p of fetchable) {
      const a = acks.get(p.key)
      // Partitions the session holds already are fetched without being named, unless they carry acknowledgements.
      if (!opening && this.#inSession.has(p.key) && a === undefined) continue
      entry(p.topic, p.topicId).partitions.push({ partitionIndex: p.partition, partitionMaxBytes: 0, acknowledgementBatches: a === undefined ? [] : wireBatches(a.ranges) })
    }
    const forgotten = new Map<string, ShareFetchRequest['forgottenTopicsData'][number]>()
    if (!opening) {
      for (const [key, p] of this.#inSession) {
        if (want.has(key)) continue
        let f = forgotten.get(p.topic)
        if (f === undefined) {
          forgotten.set(p.topic, (f = { topicId: p.topicId, partitions: [] }))
          req.forgottenTopicsData.push(f)
        }
        f.partitions.push(p.partition)
      }
    }
    const strict = cfg.shareMaxRecordsStrict
    this.#send(
      ShareFetch,
      (version: number) => {
        this.#version = version
        if (strict) {
          if (version < SHARE_V2) throw new UnsupportedVersionError(`shareMaxRecordsStrict needs ShareFetch v${SHARE_V2} (Kafka 4.2+); broker ${this.nodeId} is older`, { broker: this.nodeId })
          req.shareAcquireMode = ACQUIRE_RECORD_LIMIT
        }
        return req
      },
      acks,
      { timeout: cfg.fetchMaxWait + cfg.requestTimeoutOverhead, kind: 'fetch' },
      (res) => {
        if (opening) this.#inSession = new Map(want)
        else {
          for (const p of fetchable) this.#inSession.set(p.key, p)
          for (const key of [...this.#inSession.keys()]) if (!want.has(key)) this.#inSession.delete(key)
        }
        this.#onFetched(res, want, acks)
      },
    )
  }

  #acknowledge(epoch: number): void {
    const acks = this.#takeAcks(null)
    const req: ShareAcknowledgeRequest = ShareAcknowledge.newRequest()
    req.groupId = this.#consumer.group
    req.memberId = this.#consumer.memberId
    req.shareSessionEpoch = epoch
    req.topics = ackTopics(acks)
    for (const a of acks.values()) if (renewals(a.ranges) > 0) req.isRenewAck = true
    this.#send(ShareAcknowledge, req, acks, { timeout: this.#consumer.core.config.requestTimeoutOverhead, kind: 'other' }, (res) => this.#onAcknowledged(res, acks))
  }

  /** send sends one session request and moves the session epoch on when the broker took it. */
  #send<Req, Res extends { errorCode: number; errorMessage: string | null }>(
    api: ApiMessage<Req, Res>,
    req: Req | ((version: number) => Req),
    acks: Map<string, PendingAcks>,
    opts: { timeout: number; kind: 'fetch' | 'other' },
    onResponse: (res: Res) => void,
  ): void {
    const c = this.#consumer
    const session = this.#session
    this.#inflight = true
    this.#inflightAcks = acks.size > 0
    // A fetch waiting for records is background work and does not keep the process alive (an idle
    // consumer never does); a request carrying acknowledgements does, until it is answered.
    const held = this.#inflightAcks
    if (held) c.core.hold()
    c.core
      .requestOn(this.nodeId, opts.kind, api, req, { timeout: opts.timeout, signal: c.abort.signal, flush: true })
      .then(
        (res) => {
          if (session !== this.#session) return
          if (res.errorCode !== 0) {
            const err = new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage, broker: this.nodeId })
            this.#reportAll(acks, err)
            this.#failed(err, SESSION_LOST.has(res.errorCode))
            return
          }
          this.#failures = 0
          this.#epoch = this.#epoch >= 0x7fffffff ? 1 : this.#epoch + 1
          onResponse(res)
        },
        (err: Error) => {
          if (session !== this.#session) return
          // The request may or may not have reached the broker: the session's state is unknown, so it
          // starts over, and these acknowledgements' fate with it (the records come back if they were not applied).
          this.#reportAll(acks, err instanceof KafkaWireError ? err : new ProtocolDecodeError(err.message, err))
          this.#failed(err, true)
        },
      )
      .finally(() => {
        if (held) c.core.release()
        this.#inflight = false
        this.#inflightAcks = false
        const idle = this.#idleWaiters
        this.#idleWaiters = []
        for (const fn of idle) fn()
        this.#flushDone()
        this.wake()
      })
  }

  #failed(err: Error, resetSession: boolean): void {
    const c = this.#consumer
    if (this.#stopped || this.#closing) return
    this.#failures++
    if (resetSession) this.#resetSession()
    c.core.log('debug', 'share request failed', 'broker', this.nodeId, 'err', err.message)
    const until = Date.now() + (err instanceof KafkaProtocolError && SESSION_LOST.has(err.errorCode) && this.#failures === 1 ? 0 : c.core.config.retryBackoff(this.#failures))
    for (const p of this.#parts.values()) p.backoffUntil = until
    if ((err as { retriable?: boolean }).retriable !== false) c.core.metadata.trigger()
    else if (err instanceof KafkaWireError) c.addError(err)
  }

  /** resetSession forgets the broker's session: the next fetch opens a new one; what the old one acquired cannot be acknowledged. */
  #resetSession(): void {
    this.#epoch = 0
    this.#session++
    this.#inSession.clear()
    this.#dropPending(sessionGone(this.nodeId))
  }

  #dropPending(err: KafkaWireError): void {
    if (this.#pending.size === 0) return
    const acks = this.#pending
    this.#pending = new Map()
    this.#reportAll(acks, err)
  }

  #reportAll(acks: Map<string, PendingAcks>, err: KafkaWireError | null): void {
    const results: ShareAckResult[] = []
    for (const a of acks.values()) {
      const n = userAcks(a.ranges)
      if (n > 0 || err !== null) results.push({ topic: a.topic, partition: a.partition, records: n, renewed: renewals(a.ranges), error: err })
    }
    this.#consumer.reportAcks(results)
    for (const a of acks.values()) endRenewals(a.ranges)
  }

  #onAcknowledged(res: ShareAcknowledgeResponse, acks: Map<string, PendingAcks>): void {
    const c = this.#consumer
    const results: ShareAckResult[] = []
    const answered = new Set<string>()
    const moves: LeaderMove[] = []
    for (const t of res.responses) {
      const topic = c.core.metadata.topicName(t.topicId)
      if (topic === undefined) continue
      for (const pd of t.partitions) {
        const key = `${topic}\u0000${pd.partitionIndex}`
        const a = acks.get(key)
        if (a === undefined) continue
        answered.add(key)
        results.push(ackResult(a, pd.errorCode, pd.errorMessage, this.nodeId))
        if (pd.errorCode !== 0 && MOVED.has(pd.errorCode)) {
          if (pd.currentLeader.leaderId >= 0 && pd.currentLeader.leaderEpoch >= 0) moves.push({ topic, partition: pd.partitionIndex, leader: pd.currentLeader.leaderId, leaderEpoch: pd.currentLeader.leaderEpoch })
        }
      }
    }
    for (const [key, a] of acks) if (!answered.has(key)) results.push(ackResult(a, ErrorCode.UNKNOWN_SERVER_ERROR, 'the broker did not answer for this partition', this.nodeId))
    c.reportAcks(results)
    for (const a of acks.values()) endRenewals(a.ranges)
    this.#follow(moves, res.nodeEndpoints)
  }

  /** follow applies leaders named in an answer (KIP-951), or loads metadata when none can be followed. */
  #follow(moves: LeaderMove[], endpoints: ReadonlyArray<{ nodeId: number; host: string; port: number; rack: string | null }>): void {
    if (moves.length === 0) return
    const md = this.#consumer.core.metadata
    const followed = md.moveLeaders(moves, endpoints)
    if (followed.length < moves.length) md.trigger()
  }

  #onFetched(res: ShareFetchResponse, sent: ReadonlyMap<string, SharePart>, acks: Map<string, PendingAcks>): void {
    const c = this.#consumer
    const cfg = c.core.config
    const md = c.core.metadata
    const hooks = c.core.hooks
    const meta = hooks.onFetchBatchRead.length !== 0 ? c.core.broker(this.nodeId)?.meta : undefined
    const results: ShareAckResult[] = []
    const answered = new Set<string>()
    const moves: LeaderMove[] = []
    let refresh = false
    const slabs: Slab[] = []
    const now = Date.now()
    // frame is a view of the response's buffer, handed back to the connection once nothing views it.
    let frame: Buffer | null = null
    this.#frameViewed = false
    for (const t of res.responses) {
      const topic = md.topicName(t.topicId)
      for (const pd of t.partitions) {
        const key = topic === undefined ? '' : `${topic}\u0000${pd.partitionIndex}`
        const part = sent.get(key)
        const a = acks.get(key)
        if (a !== undefined) {
          answered.add(key)
          results.push(ackResult(a, pd.acknowledgeErrorCode, pd.acknowledgeErrorMessage, this.nodeId))
        }
        if (topic === undefined) continue
        if (part === undefined) {
          // Records acquired for a partition this fetch did not ask for (the session still held it):
          // released at once rather than left locked until their acquisition lock runs out.
          if (pd.acquiredRecords.length > 0) {
            const slab: Slab = { source: this, session: this.#session, topic, topicId: t.topicId, partition: pd.partitionIndex, records: [], marks: new Uint8Array(0), taken: 0, bytes: 0 }
            this.#queue(slab, pd.acquiredRecords.map((r) => ({ first: r.firstOffset, last: r.lastOffset, type: ACK_TYPES.release, user: 0 })))
          }
          continue
        }
        if (pd.errorCode !== 0) {
          const err = new KafkaProtocolError(pd.errorCode, { topic, partition: pd.partitionIndex, errorMessage: pd.errorMessage, broker: this.nodeId })
          // Retryable errors are handled here; keepRetryableFetchErrors lets the application see them too.
          if (!err.retriable || cfg.keepRetryableFetchErrors) c.addError(err, topic, pd.partitionIndex)
          if (MOVED.has(pd.errorCode)) {
            this.#inSession.delete(key)
            if ((pd.errorCode === NOT_LEADER_OR_FOLLOWER || pd.errorCode === FENCED_LEADER_EPOCH) && pd.currentLeader.leaderId >= 0 && pd.currentLeader.leaderEpoch >= 0) {
              // Fetched from the named leader at once, once the move is applied (onLeadersMoved).
              moves.push({ topic, partition: pd.partitionIndex, leader: pd.currentLeader.leaderId, leaderEpoch: pd.currentLeader.leaderEpoch })
              continue
            }
            refresh = true
          }
          c.core.log('debug', 'share fetch partition error', 'broker', this.nodeId, 'topic', topic, 'partition', pd.partitionIndex, 'err', kafkaErrorCodes.get(pd.errorCode)?.name ?? pd.errorCode)
          part.backoffUntil = now + cfg.retryBackoff(1)
          continue
        }
        frame ??= pd.records
        const slab = this.#decode(topic, part, pd, meta)
        if (slab !== null) slabs.push(slab)
      }
    }
    // Records view their batches' copies (source.ts decodes the same way): the buffer can be read into again.
    if (frame !== null && !this.#frameViewed) recycleFrame(frame)
    for (const [key, a] of acks) if (!answered.has(key)) results.push(ackResult(a, ErrorCode.UNKNOWN_SERVER_ERROR, 'the broker did not answer for this partition', this.nodeId))
    c.reportAcks(results)
    for (const a of acks.values()) endRenewals(a.ranges)
    if (moves.length > 0) this.#follow(moves, res.nodeEndpoints)
    if (refresh) md.trigger()
    if (slabs.length === 0) return
    if (hooks.onFetchRecordBuffered.length !== 0) for (const s of slabs) hooks.fetchRecordsBuffered(s.records)
    for (const s of slabs) this.#buffered.push(s)
    // A partition paused while this fetch was on its way: its records go back at once.
    this.releasePaused()
    if (this.#buffered.length !== 0) c.onBuffered(this)
  }

  /** releasePaused releases what was fetched of paused partitions and not polled, and forgets it. */
  releasePaused(): void {
    const c = this.#consumer
    let released = false
    for (let k = 0; k < this.#buffered.length; k++) {
      const slab = this.#buffered[k]!
      if (!c.isPaused(slab.topic, slab.partition)) continue
      this.#release(slab, slab.taken)
      this.#buffered.splice(k--, 1)
      released = true
    }
    if (released) this.wake()
  }

  /** release queues the release of a slab's records from `from` on, never polled (onFetchRecordUnbuffered runs for them). */
  #release(slab: Slab, from: number): void {
    const hooks = this.#consumer.core.hooks
    if (hooks.onFetchRecordUnbuffered.length !== 0) hooks.fetchRecordsUnbuffered(slab.records.slice(from), false)
    slab.marks.fill(ACK_TYPES.release, from)
    const ranges = takeMarks(slab, from, slab.records.length)
    if (slab.session === this.#session) this.#queue(slab, ranges)
  }

  /**
   * decode reads a partition's batches and keeps the records it acquired, each with its delivery
   * count. Acquired offsets with no record to hand out (control records, compacted away) are
   * acknowledged as gaps at once, as the broker expects every acquired offset to be.
   */
  #decode(topic: string, part: SharePart, pd: ShareFetchResponsePartitionData, meta: BrokerMetadata | undefined): Slab | null {
    const c = this.#consumer
    const acquired = pd.acquiredRecords
    if (acquired.length === 0 || pd.records === null) return null
    const cfg = c.core.config
    let batches: RecordBatch[]
    let corrupt: KafkaWireError | null = null
    try {
      const decoded = decodeRecordBatches(pd.records, { verifyCrc: !cfg.disableFetchCRCValidation, maxDecompressedBytes: Math.max(cfg.fetchMaxBytes, 64 << 20), recordFields: { topic, partition: part.partition }, copyUncompressed: true, decompressor: cfg.decompressor })
      if (decoded.viewsInput) this.#frameViewed = true
      batches = decoded
    } catch (err) {
      // The complete batches before a corrupt one are handed out with its error, which may view the response.
      this.#frameViewed = true
      corrupt = err instanceof KafkaWireError ? err : new ProtocolDecodeError(String(err), err)
      batches = err instanceof CorruptRecordBatchError ? err.decoded : []
    }
    const hooks = c.core.hooks
    const records: Record[] = []
    let ri = 0
    const sorted = [...acquired].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
    for (const b of batches) {
      if (meta !== undefined && hooks.onFetchBatchRead.length !== 0) hooks.fetchBatchRead(meta, topic, part.partition, fetchBatchMetrics(b))
      // Control records are acknowledged as gaps (below), unless keepControlRecords hands them out.
      if (b.isControl && !cfg.keepControlRecords) continue
      for (const r of b.records) {
        while (ri < sorted.length && sorted[ri]!.lastOffset < r.offset) ri++
        const range = sorted[ri]
        if (range === undefined || range.firstOffset > r.offset) continue
        ;(r as Record).deliveryCount = range.deliveryCount < 1 ? 1 : range.deliveryCount
        if (b.isControl) (r as Record).control = b.control!
        records.push(r as Record)
      }
    }
    // Every acquired offset without a record is acknowledged now: as a gap, or as a release when the
    // batch holding it could not be read (corrupt), so that the broker hands it out again.
    const gaps: AckRange[] = []
    const gapType = corrupt === null ? GAP : ACK_TYPES.release
    let k = 0
    for (const range of sorted) {
      let off = range.firstOffset
      while (k < records.length && records[k]!.offset < off) k++
      while (off <= range.lastOffset) {
        const next = k < records.length ? records[k]!.offset : range.lastOffset + 1n
        if (next > off) {
          const end = next - 1n < range.lastOffset ? next - 1n : range.lastOffset
          gaps.push({ first: off, last: end, type: gapType, user: 0 })
          off = end + 1n
        } else {
          off = next + 1n
          k++
        }
      }
    }
    const slab: Slab = { source: this, session: this.#session, topic, topicId: part.topicId, partition: part.partition, records, marks: new Uint8Array(records.length), taken: 0, bytes: pd.records.length }
    if (gaps.length > 0) {
      this.queueAcks(slab, gaps)
      this.wake()
    }
    if (corrupt !== null) {
      c.addError(corrupt, topic, part.partition)
      part.backoffUntil = Date.now() + cfg.retryBackoff(3)
    }
    return records.length === 0 ? null : slab
  }

  /** take moves up to `max` buffered records into `out` (one FetchPartition per slab run) and notes them in `polled`. */
  take(max: number, out: FetchPartition[], polled: Polled[]): number {
    let left = max
    let taken = 0
    while (this.#buffered.length > 0 && left > 0) {
      const slab = this.#buffered[0]!
      const from = slab.taken
      const to = Math.min(slab.records.length, from + left)
      const records = from === 0 && to === slab.records.length ? slab.records : slab.records.slice(from, to)
      out.push({ topic: slab.topic, partition: slab.partition, error: null, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, records })
      polled.push({ slab, from, to })
      slab.taken = to
      taken += to - from
      left -= to - from
      if (to === slab.records.length) this.#buffered.shift()
    }
    if (this.#buffered.length === 0) this.wake()
    return taken
  }

  /**
   * closeSession releases the records fetched and never polled, then closes the broker's session
   * with every acknowledgement left (ShareAcknowledge, epoch -1), after the request in flight.
   */
  async closeSession(deadline: number): Promise<void> {
    const c = this.#consumer
    this.#parts = new Map()
    this.#closing = true
    if (this.#inflight) {
      // The request in flight is waited for, a fetch parked on the broker included (fetchMaxWait at
      // most): a fetch cut short by closing its connection stays parked on the broker, and what it
      // acquires when records come is locked for the acquisition lock (30 s by default) with no member
      // to hand it to. Waited for, whatever it acquired comes back here and is released below.
      const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
      const ms = deadline - Date.now()
      if (ms === Infinity) await idle
      else {
        let t: NodeJS.Timeout | undefined
        await Promise.race([idle, new Promise<void>((resolve) => (t = setTimeout(resolve, Math.max(0, ms))))]).finally(() => clearTimeout(t))
      }
    }
    // Renewals not sent yet are dropped (the session ends), and the final marks they held back go instead.
    for (const a of this.#pending.values()) {
      const renewed = a.ranges.filter((r) => r.type === RENEW)
      if (renewed.length === 0) continue
      a.ranges = a.ranges.filter((r) => r.type !== RENEW)
      endRenewals(renewed)
    }
    for (const [key, a] of this.#pending) if (a.ranges.length === 0) this.#pending.delete(key)
    this.#stopped = true
    // What was fetched and never polled is released, to be handed out again at once.
    for (const slab of this.#buffered) this.#release(slab, slab.taken)
    this.#buffered = []
    if (this.#epoch === 0) {
      this.#dropPending(sessionGone(this.nodeId))
      return
    }
    const acks = this.#takeAcks(null)
    const req: ShareAcknowledgeRequest = ShareAcknowledge.newRequest()
    req.groupId = c.group
    req.memberId = c.memberId
    req.shareSessionEpoch = FINAL_EPOCH
    req.topics = ackTopics(acks)
    this.#epoch = 0
    try {
      const res = await c.core.requestOn(this.nodeId, 'other', ShareAcknowledge, req, { timeout: Math.max(1, Math.min(c.core.config.requestTimeoutOverhead, deadline - Date.now())) })
      if (res.errorCode !== 0) this.#reportAll(acks, new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage, broker: this.nodeId }))
      else this.#onAcknowledged(res, acks)
    } catch (err) {
      this.#reportAll(acks, err instanceof KafkaWireError ? err : new ProtocolDecodeError((err as Error).message, err))
    }
  }

  stop(): void {
    this.#stopped = true
    this.#backoffTimer.stop()
    this.#buffered = []
    const w = [...this.#flushWaiters, ...this.#idleWaiters]
    this.#flushWaiters = []
    this.#idleWaiters = []
    for (const fn of w) fn()
  }
}

/**
 * takeMarks turns the marks of records [from, to) of a slab that are set and not queued yet into
 * acknowledgement runs (consecutive offsets marked alike), flagging them queued.
 */
function takeMarks(slab: Slab, from: number, to: number): AckRange[] {
  const { marks, records } = slab
  const ranges: AckRange[] = []
  let run: AckRange | null = null
  for (let i = from; i < to; i++) {
    const m = marks[i]!
    if ((m & TYPE_BITS) === 0 || (m & (QUEUED | RENEWING)) !== 0) {
      run = null
      continue
    }
    marks[i] = m | QUEUED
    const off = records[i]!.offset
    if (run !== null && run.type === m && run.last + 1n === off) {
      run.last = off
      run.user++
    } else ranges.push((run = { first: off, last: off, type: m, user: 1 }))
  }
  return ranges
}

/** userAcks counts the polled records whose acknowledgements `ranges` carry (gaps are not records). */
function userAcks(ranges: AckRange[]): number {
  let n = 0
  for (const r of ranges) n += r.user
  return n
}

/** joins is true when two runs' renewals (or their lack of one) can be one run: records next to each other in one slab. */
function joins(a: AckRange['renewing'], b: AckRange['renewing']): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.slab === b.slab && a.to === b.from
}

/** renewals counts the records whose renewals `ranges` carry. */
function renewals(ranges: AckRange[]): number {
  let n = 0
  for (const r of ranges) if (r.type === RENEW) n += r.user
  return n
}

/**
 * endRenewals ends the renewals `ranges` carry, answered or not: their records may be renewed
 * again, and the final marks set meanwhile (markAcks, the next poll, close) are queued now.
 */
function endRenewals(ranges: AckRange[]): void {
  for (const r of ranges) {
    const rn = r.renewing
    if (rn === undefined) continue
    r.renewing = undefined
    const { slab, from, to } = rn
    for (let i = from; i < to; i++) slab.marks[i]! &= ~RENEWING
    const final = takeMarks(slab, from, to)
    if (final.length > 0) {
      slab.source.queueAcks(slab, final)
      slab.source.wake()
    }
  }
}

/** indexOfOffset finds the record with `offset` in records[from, to) (sorted by offset), or -1. */
function indexOfOffset(records: Record[], from: number, to: number, offset: bigint): number {
  let lo = from
  let hi = to - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const o = records[mid]!.offset
    if (o === offset) return mid
    if (o < offset) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

function wireBatches(ranges: AckRange[]): Array<{ firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }> {
  return ranges.map((r) => ({ firstOffset: r.first, lastOffset: r.last, acknowledgeTypes: [r.type] }))
}

function ackTopics(acks: Map<string, PendingAcks>): ShareAcknowledgeRequest['topics'] {
  const byTopic = new Map<string, ShareAcknowledgeRequest['topics'][number]>()
  for (const a of acks.values()) {
    let t = byTopic.get(a.topic)
    if (t === undefined) byTopic.set(a.topic, (t = { topicId: a.topicId, partitions: [] }))
    t.partitions.push({ partitionIndex: a.partition, acknowledgementBatches: wireBatches(a.ranges) })
  }
  return [...byTopic.values()]
}

function ackResult(a: PendingAcks, code: number, message: string | null, broker: number): ShareAckResult {
  return { topic: a.topic, partition: a.partition, records: userAcks(a.ranges), renewed: renewals(a.ranges), error: code === 0 ? null : new KafkaProtocolError(code, { topic: a.topic, partition: a.partition, errorMessage: message, broker }) }
}

/** sessionGone is the error of acknowledgements whose share session ended before they could be sent. */
function sessionGone(broker: number): KafkaWireError {
  return new KafkaProtocolError(ErrorCode.SHARE_SESSION_NOT_FOUND, { broker, errorMessage: 'the share session that acquired these records ended before they were acknowledged; the broker delivers them again' })
}

