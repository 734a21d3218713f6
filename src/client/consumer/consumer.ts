import { KafkaProtocolError } from '../../protocol/errors.js'
import { ListOffsets, type ListOffsetsRequest } from '../../protocol/messages/list-offsets.js'
import type { ClientCore } from '../core.js'
import type { CoreListener } from '../types.js'
import { topicDeletedError, type LeaderMove } from '../metadata.js'
import type { OffsetSpec } from '../options.js'
import type { Record } from '../../protocol/record.js'
import { Cursor } from './cursor.js'
import { Fetches, lazyOf, releaseFrame, type FetchPartition } from './fetches.js'
import { endedPoll, MissingTopics, PollErrors, PollWaiters, reportsMetadataError, takeRoundRobin } from './polls.js'
import { Source } from './source.js'
import type { GroupBase } from './group-base.js'
import { ClassicGroup } from './group-classic.js'
import { ConsumerProtocolGroup } from './group-848.js'
import { TopicPatterns } from './topic-patterns.js'
import { ClientClosedError } from '../errors.js'

/** EpochOffset is an offset with the leader epoch of the record before it (for commits, KIP-320). */
export interface EpochOffset {
  offset: bigint
  leaderEpoch: number
}

/** ConsumerGroupHooks is how a group member plugs into the consumer. */
export interface ConsumerGroupHooks {
  /** afterPoll runs when a poll hands records to the application. */
  afterPoll?(): void
  /** beforePoll runs as a poll begins (greedyAutoCommit off: what was polled before becomes committable). */
  beforePoll?(): void
  onMetadata?(): void
  start(): void
  close(deadline?: number): Promise<void>
}

/**
 * Consumer is the consuming half of a Client (franz-go's consumer): cursors per partition, one
 * Source per broker, start offsets resolved with ListOffsets, and polls that hand out what the
 * sources buffered. Groups drive it through `assign` and `unassign`.
 */
export class Consumer implements CoreListener {
  readonly core: ClientCore
  #cursors = new Map<string, Map<number, Cursor>>()
  #sources = new Map<number, Source>()
  #ready: Source[] = []
  #polls = new PollWaiters()
  #fetchSlots = 0
  #slotWaiters: Source[] = []
  #resolveScheduled = false
  #resolveTimer: NodeJS.Timeout | null = null
  #resolveFailures = 0
  /** direct consuming: topics to consume every partition of, from consumeResetOffset. */
  #directTopics = new Set<string>()
  /** patterns picks the topics consumeRegex consumes, directly or in a group; null without consumeRegex. */
  readonly patterns: TopicPatterns | null
  #pausedTopics = new Set<string>()
  /** polled holds, per partition, the offset after the last record handed to the application. */
  polled = new Map<string, Map<number, EpochOffset>>()
  group: (ConsumerGroupHooks & GroupBase) | null = null
  #closed = false
  /** errors are what the next poll reports besides records. */
  #errors = new PollErrors()
  /** missing counts, per consumed topic absent from metadata, the loads in a row that lacked it. */
  #missing = new MissingTopics()

  constructor(core: ClientCore) {
    this.core = core
    core.listen(this)
    const cfg = core.config
    this.patterns = cfg.consumeRegex ? new TopicPatterns(cfg.consumeTopics, cfg.consumeExcludeTopics) : null
    if (cfg.consumerGroup !== null) {
      this.group = cfg.groupProtocol === 'consumer' ? new ConsumerProtocolGroup(core, this) : new ClassicGroup(core, this)
      // A classic member matches regular expressions itself, against every topic (franz-go loads
      // all topics for regex consuming too); KIP-848 members leave it to the coordinator, unless
      // topics are excluded, which its regex cannot say: then they match too and subscribe by name.
      if (this.patterns !== null && (cfg.groupProtocol === 'classic' || this.patterns.excludes)) core.metadata.interestAll(true)
    } else {
      if (this.patterns !== null) {
        core.metadata.interestAll(true)
      } else {
        for (const t of cfg.consumeTopics) this.#directTopics.add(t)
        core.metadata.interest(cfg.consumeTopics)
      }
      if (cfg.consumePartitions.size > 0) {
        const m = new Map<string, Map<number, OffsetSpec>>()
        for (const [t, ps] of cfg.consumePartitions) m.set(t, new Map(ps))
        this.assign(m)
      }
    }
  }

  /** start loads metadata so direct consuming can begin. */
  start(): void {
    if (this.#closed) return
    if (this.group !== null) {
      this.group.start()
      // A KIP-848 member learns its assignment from the coordinator, without metadata: load it anyway,
      // so that subscribed topics that do not exist are noticed (checkMissing) and reported.
      if (this.core.metadata.lastLoad === 0) this.core.metadata.refresh(true).catch((err: Error) => this.core.log('warn', 'metadata load failed', 'err', err.message))
      return
    }
    if (this.#directTopics.size > 0 || this.#directPatterns !== null || this.#cursors.size > 0) {
      this.core.metadata.refresh(true).catch((err: Error) => this.core.log('warn', 'metadata load failed', 'err', err.message))
    }
  }

  get closed(): boolean {
    return this.#closed
  }

  /** directPatterns are the patterns direct consuming (no group) takes topics by, null when none. */
  get #directPatterns(): TopicPatterns | null {
    return this.group === null && this.patterns !== null && !this.patterns.empty ? this.patterns : null
  }

  // ---------------------------------------------------------------- assignment

  /** assign starts consuming partitions from the given positions (a position replaces an existing one). */
  assign(partitions: Map<string, Map<number, OffsetSpec>>): void {
    if (this.#closed) return
    const topics: string[] = []
    for (const [topic, ps] of partitions) {
      topics.push(topic)
      let m = this.#cursors.get(topic)
      if (m === undefined) this.#cursors.set(topic, (m = new Map()))
      for (const [p, spec] of ps) {
        let cur = m.get(p)
        if (cur === undefined) {
          cur = new Cursor(topic, p)
          m.set(p, cur)
        }
        cur.removed = false
        cur.paused = this.#pausedTopics.has(topic) || cur.paused
        cur.reset(spec)
        // Urgent: a partition assigned again at a new position must not wait behind a fetch in flight from its old one.
        this.placeCursor(cur, true)
      }
    }
    this.core.metadata.interest(topics)
    if (topics.some((t) => !this.core.metadata.topics.has(t))) this.core.metadata.refresh(true).catch(() => {})
    this.resolveSoon()
  }

  /**
   * unassign stops consuming partitions (all when `partitions` is undefined). Records of theirs
   * that were buffered and not polled are dropped, with onFetchRecordUnbuffered(polled = false).
   */
  unassign(partitions?: Map<string, number[]>): void {
    const drop: Cursor[] = []
    if (partitions === undefined) {
      for (const m of this.#cursors.values()) for (const c of m.values()) drop.push(c)
      this.#cursors.clear()
      this.polled.clear()
    } else {
      for (const [topic, ps] of partitions) {
        const m = this.#cursors.get(topic)
        if (m === undefined) continue
        for (const p of ps) {
          const c = m.get(p)
          if (c === undefined) continue
          drop.push(c)
          m.delete(p)
          this.polled.get(topic)?.delete(p)
        }
        if (m.size === 0) this.#cursors.delete(topic)
      }
    }
    for (const c of drop) {
      c.removed = true
      c.generation++
      c.source?.remove(c)
    }
    if (drop.length > 0) this.#discardUnpollable()
  }

  /**
   * revoking stops fetching and handing out partitions whose revocation has begun, keeping what was
   * polled of them for the commit on revoke; `unassign` finishes the job. Without it a poll racing
   * the revoke (the application polls again right after allowRebalance) could hand out records of a
   * partition whose offsets were just committed and which a new owner is about to start on.
   */
  revoking(partitions: Map<string, number[]>): void {
    let any = false
    for (const [topic, ps] of partitions) {
      for (const p of ps) {
        const c = this.#cursors.get(topic)?.get(p)
        if (c === undefined || c.removed) continue
        c.removed = true
        c.generation++
        c.source?.remove(c)
        any = true
      }
    }
    if (any) this.#discardUnpollable()
  }

  /** wants is true when the topic is consumed (its metadata stays of interest). */
  wants(topic: string): boolean {
    return (
      this.#directTopics.has(topic) ||
      this.#cursors.has(topic) ||
      this.core.config.consumeTopics.includes(topic) ||
      (this.patterns?.matches(topic) ?? false) ||
      // A group member's subscription grows with addConsumeTopics.
      (this.group?.subscription.includes(topic) ?? false)
    )
  }

  /** assigned lists the partitions being consumed, per topic. */
  assigned(): Map<string, number[]> {
    const out = new Map<string, number[]>()
    for (const [t, m] of this.#cursors) out.set(t, [...m.keys()].sort((a, b) => a - b))
    return out
  }

  /** cursor returns a partition's cursor, if it is consumed. */
  cursor(topic: string, partition: number): Cursor | undefined {
    return this.#cursors.get(topic)?.get(partition)
  }

  /** onMetadata places cursors on their (new) leaders and picks up new partitions of direct topics. */
  onMetadata(): void {
    if (this.#closed) return
    const md = this.core.metadata
    const add = new Map<string, Map<number, OffsetSpec>>()
    const reset = this.core.config.consumeResetOffset
    const patterns = this.#directPatterns
    const wanted = (name: string) => this.#directTopics.has(name) || (patterns?.matches(name) ?? false)
    this.#checkMissing()
    if (this.#directTopics.size > 0 || patterns !== null) {
      for (const [name, info] of md.topics) {
        if (info.isInternal || info.errorCode !== 0 || !wanted(name)) continue
        const have = this.#cursors.get(name)
        for (const p of info.partitions) {
          if (have?.has(p.partition)) continue
          let m = add.get(name)
          if (m === undefined) add.set(name, (m = new Map()))
          m.set(p.partition, reset)
        }
      }
    }
    for (const m of this.#cursors.values()) for (const c of m.values()) this.placeCursor(c)
    if (add.size > 0) this.assign(add)
    this.group?.onMetadata?.()
    this.resolveSoon()
  }

  /**
   * onTopicsDeleted stops a direct consumer consuming topics the client took as deleted
   * (considerMissingTopicDeletedAfter), as franz-go purges them: their partitions are dropped with
   * what was buffered of them, and the next poll reports each deletion. A topic consumed by name or
   * pattern is picked up again (from consumeResetOffset) if it is created again, as a new topic;
   * partitions added by consumePartitions or addConsumePartitions are not. A group member's
   * partitions are the group's to take away: the assignment changes with the topic gone.
   */
  onTopicsDeleted(topics: readonly string[]): void {
    if (this.#closed || this.group !== null) return
    const drop = new Map<string, number[]>()
    for (const t of topics) {
      const m = this.#cursors.get(t)
      if (m !== undefined && m.size > 0) drop.set(t, [...m.keys()])
    }
    if (drop.size === 0) return
    this.unassign(drop)
    const after = this.core.config.considerMissingTopicDeletedAfter
    for (const t of drop.keys()) this.addError(topicDeletedError(t, after), t, -1, `deleted\u0000${t}`)
  }

  /** onLeadersMoved places the cursors of partitions whose leader a broker named (KIP-951) on it. */
  onLeadersMoved(moves: readonly LeaderMove[]): void {
    if (this.#closed) return
    for (const m of moves) {
      const cur = this.cursor(m.topic, m.partition)
      if (cur !== undefined) this.followLeader(cur)
    }
  }

  /**
   * followLeader places a cursor on the leader metadata now names for it, learned from a broker's
   * answer (KIP-951), and lets it be fetched there at once: no metadata load to wait for, no backoff.
   */
  followLeader(c: Cursor): void {
    c.awaitingLeader = false
    c.backoffUntil = 0
    this.placeCursor(c, true)
  }

  /**
   * awaitLeaders loads metadata at once for partitions whose leader moved (they are awaitingLeader),
   * then lets them be fetched again, from wherever the load placed them. A failed load lets them go
   * too: they are fetched again after their backoff, and a fetch that fails again asks again.
   */
  awaitLeaders(cursors: Cursor[]): void {
    const release = (): void => {
      for (const c of cursors) {
        if (!c.awaitingLeader) continue
        c.awaitingLeader = false
        c.source?.wake(true)
      }
    }
    this.core.metadata.refresh(true).then(release, (err: Error) => {
      this.core.log('debug', 'metadata load after a leader move failed', 'err', err.message)
      release()
    })
  }

  /**
   * placeCursor moves a cursor to the source of its leader (or preferred replica) and wakes that
   * source; `urgent` when the cursor may have moved, so a fetch in flight without it is cut short (Source.wake).
   */
  placeCursor(c: Cursor, urgent = false): void {
    if (c.removed) return
    const info = this.core.metadata.topics.get(c.topic)
    const p = info?.partitions[c.partition]
    if (info !== undefined) c.topicId = info.id
    let node = -1
    if (p !== undefined) {
      c.leaderEpoch = p.leaderEpoch
      node = p.leader
    }
    if (c.preferredReplica >= 0 && Date.now() < c.preferredUntil && this.core.broker(c.preferredReplica) !== undefined) {
      node = c.preferredReplica
    } else c.preferredReplica = -1
    if (node < 0 || this.core.broker(node) === undefined) {
      c.source?.remove(c)
      if (this.core.metadata.lastLoad > 0) this.core.metadata.trigger()
      return
    }
    if (c.source?.nodeId === node) {
      c.source.wake(urgent)
      return
    }
    c.source?.remove(c)
    // A backoff waits out trouble with the broker it was fetched from, not with the new one (franz-go's
    // backoffs are per broker too).
    c.backoffUntil = 0
    this.#source(node).add(c)
  }

  /**
   * checkMissing reports the consumed topics (by name) that metadata lacks (MissingTopics), and loads
   * metadata again (at most once per metadataMinAge) while any is missing: when the topic appears, its
   * partitions are picked up.
   */
  #checkMissing(): void {
    const cfg = this.core.config
    const named = new Set<string>(this.#directTopics)
    if (this.group !== null && !cfg.consumeRegex) for (const t of this.group.subscription) named.add(t)
    for (const t of this.#cursors.keys()) named.add(t)
    if (this.#missing.check(named, this.core.metadata, cfg.unknownTopicRetries, this.#errors)) this.core.metadata.trigger()
    if (this.#errors.size > 0) this.#wakePolls()
  }

  /**
   * addError makes the next poll report `error` (waking a poll that waits). `key` names the kind and
   * place: a newer error of the same key replaces one not yet polled.
   */
  addError(error: Error, topic = '', partition = -1, key?: string): void {
    if (this.#closed) return
    this.#errors.add(error, topic, partition, key)
    this.#wakePolls()
  }

  #wakePolls(): void {
    this.#polls.wakeAll()
  }

  /**
   * onMetadataError is told of every failed metadata load. An error retrying cannot fix (failed
   * authentication) reaches the next poll at once; a cluster that cannot be reached does after three
   * failed loads in a row. Loads go on (with a backoff) while anything is consumed.
   */
  onMetadataError(err: Error): void {
    if (this.#closed) return
    const md = this.core.metadata
    if (reportsMetadataError(err, md.failures)) this.addError(err)
    if (this.#directTopics.size > 0 || this.#directPatterns !== null || this.#cursors.size > 0 || this.group !== null) md.trigger()
  }

  #source(nodeId: number): Source {
    let s = this.#sources.get(nodeId)
    if (s === undefined) {
      s = new Source(this, nodeId)
      this.#sources.set(nodeId, s)
    }
    return s
  }

  // ---------------------------------------------------------------- start offsets

  /** resolveSoon resolves pending start positions with ListOffsets shortly (coalescing requests). */
  resolveSoon(): void {
    if (this.#resolveScheduled || this.#closed) return
    this.#resolveScheduled = true
    setImmediate(() => {
      this.#resolveScheduled = false
      this.#resolve().catch((err: Error) => this.core.log('warn', 'resolving offsets failed', 'err', err.message))
    })
  }

  async #resolve(): Promise<void> {
    const todo: Cursor[] = []
    for (const m of this.#cursors.values()) {
      for (const c of m.values()) if (c.pending !== null && !c.resolving && !c.removed) todo.push(c)
    }
    if (todo.length === 0) return
    const md = this.core.metadata
    if (todo.some((c) => md.topics.get(c.topic)?.partitions[c.partition] === undefined)) {
      await md.refresh(true).catch(() => {})
    }
    // Two resolves can overlap across the refresh above (assign and start both schedule one): a
    // cursor the other one took meanwhile, or resolved, is not asked for again.
    const known = todo.filter((c) => !c.resolving && c.pending !== null && !c.removed && md.topics.get(c.topic)?.partitions[c.partition] !== undefined)
    if (todo.some((c) => md.topics.get(c.topic)?.partitions[c.partition] === undefined)) this.#retryResolve()
    if (known.length === 0) return
    for (const c of known) c.resolving = true
    const req: ListOffsetsRequest = ListOffsets.newRequest()
    req.replicaId = -1
    req.isolationLevel = this.core.config.isolationLevel
    const byTopic = new Map<string, ListOffsetsRequest['topics'][number]>()
    const generations = new Map<Cursor, number>()
    const asked = new Map<Cursor, OffsetSpec>()
    for (const c of known) {
      generations.set(c, c.generation)
      asked.set(c, c.pending!)
      const spec = c.pending!
      const ts = specTimestamp(spec)
      let t = byTopic.get(c.topic)
      if (t === undefined) {
        t = { name: c.topic, partitions: [] }
        byTopic.set(c.topic, t)
        req.topics.push(t)
      }
      t.partitions.push({ partitionIndex: c.partition, currentLeaderEpoch: c.leaderEpoch, timestamp: ts })
    }
    let failed = false
    let again = false
    try {
      // Partitions whose leader moved come back at once and are retried by #retryResolve, so the others start.
      const res = await this.core.request(ListOffsets, req, { askAgain: false })
      const byKey = new Map<string, { errorCode: number; offset: bigint; leaderEpoch: number }>()
      for (const t of res.topics) for (const p of t.partitions) byKey.set(`${t.name}\u0000${p.partitionIndex}`, p)
      // Relative positions need both ends; earliest/latest lookups for them are folded in below.
      for (const c of known) {
        c.resolving = false
        // The answer is for the spec asked; a cursor reset meanwhile is resolved by the next round.
        if (c.removed || generations.get(c) !== c.generation || c.pending !== asked.get(c)) {
          again ||= c.pending !== null
          continue
        }
        const r = byKey.get(`${c.topic}\u0000${c.partition}`)
        if (r === undefined || r.errorCode !== 0) {
          failed = true
          if (r !== undefined && r.errorCode !== 0) {
            const err = new KafkaProtocolError(r.errorCode, { topic: c.topic, partition: c.partition })
            if (!err.retriable) this.core.log('error', 'cannot resolve start offset', 'topic', c.topic, 'partition', c.partition, 'err', err.message)
          }
          continue
        }
        const spec = c.pending
        let offset = r.offset
        if (typeof spec === 'object' && 'timestamp' in spec && offset < 0n) {
          // No record at or after the timestamp: start at the end (franz-go's AfterMilli does too).
          c.pending = 'latest'
          again = true
          continue
        }
        if (typeof spec === 'object' && 'relative' in spec) {
          // Relative positions add to their base: { relative: -10, from: 'latest' } is the last ten.
          offset += BigInt(spec.relative)
          if (offset < 0n) offset = 0n
        }
        c.setOffset(offset, -1)
        c.source?.wake(true)
      }
    } catch (err) {
      failed = true
      for (const c of known) c.resolving = false
      this.core.log('debug', 'ListOffsets failed', 'err', (err as Error).message)
    }
    if (failed) this.#retryResolve()
    else this.#resolveFailures = 0
    if (again) this.resolveSoon()
  }

  #retryResolve(): void {
    if (this.#resolveTimer !== null || this.#closed) return
    this.#resolveFailures++
    this.core.metadata.trigger()
    this.#resolveTimer = setTimeout(() => {
      this.#resolveTimer = null
      this.resolveSoon()
    }, this.core.config.retryBackoff(this.#resolveFailures))
    // Background work: pending polls hold the event loop themselves.
    this.#resolveTimer.unref()
  }

  // ---------------------------------------------------------------- fetch concurrency

  /** acquireFetchSlot bounds concurrent fetches (maxConcurrentFetches); false means wait to be woken. */
  acquireFetchSlot(s: Source): boolean {
    const max = this.core.config.maxConcurrentFetches
    if (max === 0) return true
    if (this.#fetchSlots < max) {
      this.#fetchSlots++
      return true
    }
    if (!this.#slotWaiters.includes(s)) this.#slotWaiters.push(s)
    return false
  }

  releaseFetchSlot(): void {
    if (this.core.config.maxConcurrentFetches === 0) return
    this.#fetchSlots--
    const next = this.#slotWaiters.shift()
    next?.wake()
  }

  /** onBuffered is called by a source that has records to poll. */
  onBuffered(s: Source): void {
    // A source with responses buffered already is in #ready (a source leaves it once it has none).
    if (!this.#ready.includes(s)) this.#ready.push(s)
    this.#wakePolls()
  }

  // ---------------------------------------------------------------- polling

  /**
   * poll returns buffered records (up to `max`, all when max <= 0) and the errors met since the last
   * poll, at once, whether or not `signal` has aborted; with none it waits for either. When `signal`
   * aborts (or has aborted) with nothing buffered, or during a rebalance, it resolves with no records
   * and an AbortError whose `cause` is the signal's reason in `errors()` (topic '', partition -1); it
   * never rejects. A closed client's poll returns a ClientClosedError the same way. (Client.pollFetches
   * states this contract for users.)
   */
  async poll(max: number, signal?: AbortSignal): Promise<Fetches> {
    const hooks = this.core.hooks
    if (hooks.onPollStart.length !== 0) hooks.pollStart(signal)
    if (this.#closed) {
      const f = new Fetches()
      f.addError(new ClientClosedError())
      return f
    }
    this.group?.beforePoll?.()
    // A waiting poll keeps the process alive, as a blocked PollFetches would, even when no fetch is
    // in flight (a topic that does not exist yet, everything paused).
    this.core.hold()
    try {
      for (;;) {
        // blockRebalanceOnPoll: nothing is handed out while the group's assignment changes.
        const rebalance = this.group?.rebalanced() ?? null
        if (rebalance !== null) {
          if (!signal?.aborted && !this.#closed) {
            await abortable(rebalance, signal)
            continue
          }
        } else if (this.#ready.length > 0 || this.#errors.size > 0) {
          const f = this.#ready.length > 0 ? this.#take(max) : new Fetches()
          const errs = this.#errors.takeInto(f)
          if (f.partitions.length > 0 || errs > 0) return f
          // Everything buffered was stale (revoked, repositioned or paused): wait for more.
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
    takeRoundRobin(this.#ready, max, out, undefined)
    this.#roomFreed()
    // Track what the application now has, for commits; then the unbuffered hooks before returning.
    const hooks = this.core.hooks
    for (const p of out) {
      // A partition whose records are not made yet (lazy-records.ts) knows its last record's offset.
      const lz = lazyOf(p)
      const last = lz !== null ? (lz.count > 0 ? { offset: lz.lastOffset, leaderEpoch: lz.lastLeaderEpoch } : undefined) : p.records[p.records.length - 1]
      if (last === undefined) continue
      let m = this.polled.get(p.topic)
      if (m === undefined) this.polled.set(p.topic, (m = new Map()))
      m.set(p.partition, { offset: last.offset + 1n, leaderEpoch: last.leaderEpoch })
      if (hooks.onFetchRecordUnbuffered.length !== 0) hooks.fetchRecordsUnbuffered(p.records, true)
    }
    // blockRebalanceOnPoll holds rebalances from a poll that returned records until allowRebalance.
    if (out.length > 0) this.group?.afterPoll?.()
    return new Fetches(out)
  }

  /**
   * dropped reports buffered records discarded without being polled (onFetchRecordUnbuffered), then
   * lets go of the response their partition `from` leases (recycleFetches), if any.
   */
  dropped(records: Record[], from: FetchPartition): void {
    const hooks = this.core.hooks
    if (records.length === 0 || hooks.onFetchRecordUnbuffered.length === 0) {
      releaseFrame(from)
      return
    }
    // franz-go reports discarded records asynchronously, off the path that discarded them.
    setImmediate(() => {
      hooks.fetchRecordsUnbuffered(records, false)
      releaseFrame(from)
    })
  }

  /** discardUnpollable drops buffered records of removed, repositioned and paused partitions, freeing their sources to fetch. */
  #discardUnpollable(): void {
    for (const s of this.#ready) s.discardUnpollable()
    this.#ready = this.#ready.filter((s) => s.hasBuffered)
    this.#roomFreed()
  }

  /**
   * roomToPrefetch is true while the records and bytes buffered and not yet polled (plus `records`
   * and `bytes` about to be) are both under maxBufferedFetchRecords and maxBufferedFetchBytes: a
   * source with a response buffered may then send its next fetch before the application polls (Source).
   */
  roomToPrefetch(records = 0, bytes = 0): boolean {
    const cfg = this.core.config
    return this.bufferedRecords + records < cfg.maxBufferedFetchRecords && this.bufferedBytes + bytes < cfg.maxBufferedFetchBytes
  }

  /** roomFreed lets sources held back by the buffer bounds fetch again, after polls took records. */
  #roomFreed(): void {
    if (this.#sources.size === 0 || !this.roomToPrefetch()) return
    for (const s of this.#sources.values()) s.roomFreed()
  }

  /** bufferedRecords counts fetched records not yet polled. */
  get bufferedRecords(): number {
    let n = 0
    for (const s of this.#ready) n += s.bufferedRecords
    return n
  }

  /** bufferedBytes is the wire size of the fetch responses whose records wait to be polled. */
  get bufferedBytes(): number {
    let n = 0
    for (const s of this.#ready) n += s.bufferedBytes
    return n
  }

  // ---------------------------------------------------------------- pause, seek

  /** pause stops fetching topics, or some partitions of topics; their buffered records are dropped, to be fetched again after resume. */
  pause(topics: string[] | Map<string, number[]>): void {
    for (const c of this.#select(topics)) c.paused = true
    if (Array.isArray(topics)) for (const t of topics) this.#pausedTopics.add(t)
    this.#discardUnpollable()
  }

  /** resume starts fetching paused topics or partitions again. */
  resume(topics: string[] | Map<string, number[]>): void {
    if (Array.isArray(topics)) for (const t of topics) this.#pausedTopics.delete(t)
    for (const c of this.#select(topics)) {
      c.paused = false
      c.source?.wake()
    }
  }

  /** paused lists paused partitions per topic. */
  paused(): Map<string, number[]> {
    const out = new Map<string, number[]>()
    for (const [t, m] of this.#cursors) {
      const ps = [...m.values()].filter((c) => c.paused).map((c) => c.partition)
      if (ps.length > 0) out.set(t, ps)
    }
    return out
  }

  #select(topics: string[] | Map<string, number[]>): Cursor[] {
    const out: Cursor[] = []
    if (Array.isArray(topics)) {
      for (const t of topics) for (const c of this.#cursors.get(t)?.values() ?? []) out.push(c)
    } else {
      for (const [t, ps] of topics) for (const p of ps) {
        const c = this.#cursors.get(t)?.get(p)
        if (c !== undefined) out.push(c)
      }
    }
    return out
  }

  /**
   * setOffsets moves consumed partitions to exact offsets (franz-go's SetOffsets): the next fetch of
   * each starts there, and records of it buffered or in flight are dropped, so the next poll hands out
   * records from the new position. Partitions not consumed right now (not assigned to this member) are
   * left alone. In a group the new position also counts as polled, so the next commit (or autocommit)
   * commits it, as Java's commit commits the position a seek set.
   */
  setOffsets(offsets: Map<string, Map<number, EpochOffset>>): void {
    if (this.#closed) return
    let moved = false
    for (const [topic, ps] of offsets) {
      const m = this.#cursors.get(topic)
      if (m === undefined) continue
      for (const [p, eo] of ps) {
        const c = m.get(p)
        if (c === undefined || c.removed) continue
        c.setOffset(eo.offset, eo.leaderEpoch)
        c.backoffUntil = 0
        c.preferredReplica = -1
        this.group?.setPosition(topic, p, { offset: eo.offset, leaderEpoch: eo.leaderEpoch })
        moved = true
      }
    }
    if (!moved) return
    this.#discardUnpollable()
    for (const [topic, ps] of offsets) for (const p of ps.keys()) this.#cursors.get(topic)?.get(p)?.source?.wake(true)
  }

  /** addTopics starts consuming more topics directly (not with a group). */
  addTopics(topics: string[]): void {
    // With consumeRegex they are patterns, for direct consuming and groups alike.
    this.patterns?.add(topics)
    if (this.group !== null) {
      // A group member subscribes: the coordinator (or leader) assigns the topics' partitions.
      this.group.addTopics(topics)
      return
    }
    if (this.patterns !== null) {
      this.core.metadata.refresh(true).then(() => this.onMetadata(), () => {})
      return
    }
    for (const t of topics) this.#directTopics.add(t)
    this.core.metadata.interest(topics)
    this.core.metadata.refresh(true).then(() => this.onMetadata(), () => {})
  }

  /**
   * close commits and leaves the group (when in one; bounded by `deadline`, Date.now() ms), stops
   * every source, drops buffered records, and wakes waiting polls.
   */
  async close(deadline = Infinity): Promise<void> {
    if (this.#closed) return
    if (this.group !== null) await this.group.close(deadline)
    this.#closed = true
    this.#errors.clear()
    if (this.#resolveTimer !== null) clearTimeout(this.#resolveTimer)
    this.unassign()
    for (const s of this.#sources.values()) s.close()
    this.#wakePolls()
  }
}

/** abortable resolves when `p` does or `signal` aborts. */
function abortable(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return p
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
    p.then(done)
  })
}


function specTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'earliest') return -2n
  if (spec === 'latest') return -1n
  if ('timestamp' in spec) return BigInt(Math.trunc(spec.timestamp))
  if ('relative' in spec) return spec.from === 'earliest' ? -2n : -1n
  return -1n
}
