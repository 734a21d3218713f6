import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaProtocolError } from '../../protocol/errors.js'
import { ZERO_UUID } from '../../protocol/reader.js'
import { OffsetCommit, type OffsetCommitRequest } from '../../protocol/messages/offset-commit.js'
import { OffsetFetch, type OffsetFetchRequest } from '../../protocol/messages/offset-fetch.js'
import { delay } from '../broker.js'
import { GroupSessionError } from '../errors.js'
import type { ApiMessage } from '../../protocol/messages/api.js'
import type { ClientCore } from '../core.js'
import type { OffsetSpec, PartitionsCallback } from '../options.js'
import type { Record } from '../../protocol/record.js'
import type { Consumer, ConsumerGroupHooks, EpochOffset } from './consumer.js'

/** TopicPartitionOffsets maps topic → partition → offset (with leader epoch and metadata). */
export type CommitOffsets = Map<string, Map<number, EpochOffset & { metadata?: string | null }>>

// Errors after which the member must rejoin: its generation or epoch is no longer valid.
export const REJOIN_ERRORS = new Set<number>([ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.STALE_MEMBER_EPOCH])

/**
 * GroupBase is what both group protocols share: the partitions the member owns, committing and
 * fetching offsets, autocommit, the assigned/revoked/lost callbacks (awaited before the rebalance
 * goes on), and blockRebalanceOnPoll.
 */
export abstract class GroupBase implements ConsumerGroupHooks {
  readonly core: ClientCore
  readonly consumer: Consumer
  readonly group: string
  memberId = ''
  /** generation is the classic generation id, or the KIP-848 member epoch. */
  generation = -1
  owned = new Map<string, Set<number>>()
  /** committed holds the last offsets committed per partition, to commit only what moved. */
  #committed = new Map<string, Map<number, bigint>>()
  /** marks are the offsets marked with markCommitRecords (autoCommitMarks). */
  #marks = new Map<string, Map<number, EpochOffset>>()
  /**
   * head holds, with greedyAutoCommit off, what the consumer's `polled` held when the latest poll
   * began: the offsets the client's own commits take (franz-go's head, `polled` being its dirty).
   */
  #head = new Map<string, Map<number, EpochOffset>>()
  #autoTimer: NodeJS.Timeout | null = null
  #blocked = false
  #allowWaiters: Array<() => void> = []
  #commitChain: Promise<unknown> = Promise.resolve()
  closed = false
  /** subscription is consumeTopics plus what addConsumeTopics added (regular expressions with consumeRegex). */
  readonly subscription: string[]
  /** leaving is set by close so loops stop. */
  protected abort = new AbortController()

  constructor(core: ClientCore, consumer: Consumer) {
    this.core = core
    this.consumer = consumer
    this.group = core.config.consumerGroup!
    this.subscription = [...core.config.consumeTopics]
  }

  /** addTopics subscribes to more topics (or regular expressions); the group picks them up in its next rebalance. */
  addTopics(topics: string[]): void {
    const fresh = topics.filter((t) => !this.subscription.includes(t))
    if (fresh.length === 0) return
    this.subscription.push(...fresh)
    if (!this.core.config.consumeRegex) this.core.metadata.interest(fresh)
    this.onSubscriptionChanged()
  }

  /** onSubscriptionChanged tells the coordinator about a changed subscription. */
  protected abstract onSubscriptionChanged(): void

  abstract start(): void
  protected abstract leave(): Promise<void>

  /** ownedMap returns the owned partitions as topic → sorted partitions. */
  ownedMap(): Map<string, number[]> {
    const out = new Map<string, number[]>()
    for (const [t, ps] of this.owned) if (ps.size > 0) out.set(t, [...ps].sort((a, b) => a - b))
    return out
  }

  // ---------------------------------------------------------------- rebalance barrier

  afterPoll(): void {
    if (this.core.config.blockRebalanceOnPoll) this.#blocked = true
  }

  /**
   * beforePoll runs as a poll begins. With greedyAutoCommit off, what earlier polls handed out is now
   * committable: the application polling again says it is done with them.
   */
  beforePoll(): void {
    if (!this.#lagging) return
    for (const [t, ps] of this.consumer.polled) {
      let h = this.#head.get(t)
      if (h === undefined) this.#head.set(t, (h = new Map()))
      for (const [p, eo] of ps) h.set(p, eo)
    }
  }

  /** lagging is true when the client's own commits take `head` rather than everything polled. */
  get #lagging(): boolean {
    const cfg = this.core.config
    return !cfg.greedyAutoCommit && !cfg.autoCommitMarks && !cfg.disableAutoCommit
  }

  /**
   * setPosition makes a position the application set (setOffsets) count as polled, and, with
   * greedyAutoCommit off, as committable at once: there is nothing of it left to process, and an
   * older head committed later would undo the move.
   */
  setPosition(topic: string, partition: number, eo: EpochOffset): void {
    let m = this.consumer.polled.get(topic)
    if (m === undefined) this.consumer.polled.set(topic, (m = new Map()))
    m.set(partition, eo)
    if (!this.#lagging) return
    let h = this.#head.get(topic)
    if (h === undefined) this.#head.set(topic, (h = new Map()))
    h.set(partition, eo)
  }

  /** allowRebalance lets a rebalance held by blockRebalanceOnPoll go on. */
  allowRebalance(): void {
    this.#blocked = false
    const es = this.#enterWaiters
    this.#enterWaiters = []
    this.#rebalancing += es.length
    for (const e of es) e()
    const ws = this.#allowWaiters
    this.#allowWaiters = []
    for (const w of ws) w()
  }

  protected waitAllowed(): Promise<void> {
    if (!this.#blocked || this.closed) return Promise.resolve()
    const allowed = new Promise<void>((resolve) => this.#allowWaiters.push(resolve))
    this.#tellBlocked()
    return allowed
  }

  /**
   * tellBlocked calls onPartitionsCallbackBlocked for a rebalance that starts waiting for
   * allowRebalance. It runs on a microtask, after the wait is registered (so an allowRebalance it
   * makes ends this wait), and is not awaited: a slow or stuck callback must not hold the group.
   */
  #tellBlocked(): void {
    const cb = this.core.config.onPartitionsCallbackBlocked
    if (cb === null) return
    const failed = (err: unknown) => this.core.log('error', 'onPartitionsCallbackBlocked threw', 'group', this.group, 'err', err instanceof Error ? err.message : String(err))
    queueMicrotask(() => {
      if (this.closed) return
      try {
        Promise.resolve(cb()).catch(failed)
      } catch (err) {
        failed(err)
      }
    })
  }

  #rebalancing = 0
  #enterWaiters: Array<() => void> = []
  #rebalancedWaiters: Array<() => void> = []

  /**
   * enterRebalance waits until the application allowed rebalancing, then marks a rebalance under
   * way; with blockRebalanceOnPoll, polls hand out nothing until leaveRebalance (franz-go's polls
   * wait for a rebalance the same way), or the application would process a poll while the member
   * joins a new generation, and its commit would carry the old one. allowRebalance marks a waiting
   * rebalance under way itself, synchronously: an application that polls right after allowing would
   * otherwise get records first, block again, and starve the rebalance batch after batch until the
   * coordinator dropped the member.
   */
  protected enterRebalance(): Promise<void> {
    if (!this.#blocked || this.closed) {
      this.#rebalancing++
      return Promise.resolve()
    }
    const entered = new Promise<void>((resolve) => this.#enterWaiters.push(resolve))
    this.#tellBlocked()
    return entered
  }

  protected leaveRebalance(): void {
    if (--this.#rebalancing > 0) return
    const ws = this.#rebalancedWaiters
    this.#rebalancedWaiters = []
    for (const w of ws) w()
  }

  /** rebalanced is null when polls may hand out records, else a promise of when they may. */
  rebalanced(): Promise<void> | null {
    if (this.#rebalancing === 0 || this.closed || !this.core.config.blockRebalanceOnPoll) return null
    return new Promise((resolve) => this.#rebalancedWaiters.push(resolve))
  }

  // ---------------------------------------------------------------- assignment changes

  /**
   * assignPartitions fetches committed offsets for new partitions, hands them to onOffsetsFetched,
   * starts consuming them, then runs onPartitionsAssigned. It throws GroupSessionError when
   * onOffsetsFetched fails: the partitions are not taken, and the caller gives the session up.
   */
  protected async assignPartitions(added: Map<string, number[]>, signal?: AbortSignal): Promise<void> {
    if (added.size === 0) return
    const stop = signal === undefined ? this.abort.signal : AbortSignal.any([this.abort.signal, signal])
    let committed: CommitOffsets | null = null
    for (let attempt = 1; committed === null; attempt++) {
      try {
        committed = await this.fetchCommitted(added, stop)
      } catch (err) {
        // Without the committed offsets the partitions cannot start; keep asking (franz-go does).
        if (this.closed || stop.aborted) throw stop.aborted ? stop.reason : err
        this.core.log('warn', 'fetching committed offsets failed; retrying', 'group', this.group, 'err', (err as Error).message)
        await delay(this.core.config.retryBackoff(attempt), stop, true)
      }
    }
    const onFetched = this.core.config.onOffsetsFetched
    if (onFetched !== null) {
      // Awaited before any cursor exists: nothing of these partitions is fetched until it is done. It
      // gets a copy: what it does to the offsets does not move where consuming starts.
      const copy: CommitOffsets = new Map([...committed].map(([t, ps]) => [t, new Map([...ps].map(([p, o]) => [p, { ...o }]))]))
      try {
        await onFetched(copy, stop)
      } catch (err) {
        // A callback that failed because the session ended (its signal) goes the session's way.
        if (stop.aborted) throw stop.reason
        throw new GroupSessionError(this.group, err)
      }
      // The session ended while the callback ran: the partitions are not taken, as when the fetch is given up.
      if (stop.aborted) throw stop.reason
    }
    for (const [t, ps] of added) {
      let s = this.owned.get(t)
      if (s === undefined) this.owned.set(t, (s = new Set()))
      for (const p of ps) s.add(p)
    }
    const reset: OffsetSpec = this.core.config.consumeResetOffset
    const assign = new Map<string, Map<number, OffsetSpec>>()
    for (const [t, ps] of added) {
      const m = new Map<number, OffsetSpec>()
      for (const p of ps) {
        const c = committed.get(t)?.get(p)
        m.set(p, c !== undefined && c.offset >= 0n ? { offset: c.offset } : reset)
        if (c !== undefined && c.offset >= 0n) {
          let cm = this.#committed.get(t)
          if (cm === undefined) this.#committed.set(t, (cm = new Map()))
          cm.set(p, c.offset)
        }
      }
      assign.set(t, m)
    }
    this.consumer.assign(assign)
    await this.#callback(this.core.config.onPartitionsAssigned, added)
  }

  /**
   * revokePartitions gives partitions up: on a revoke the callback runs and their offsets are
   * committed first; on a loss (session expired, fenced) nothing can be committed.
   */
  protected async revokePartitions(revoked: Map<string, number[]>, lost: boolean): Promise<void> {
    if (revoked.size === 0) return
    await this.waitAllowed()
    this.consumer.revoking(revoked)
    const cfg = this.core.config
    if (lost) {
      await this.#callback(cfg.onPartitionsLost ?? cfg.onPartitionsRevoked, revoked)
    } else {
      await this.#callback(cfg.onPartitionsRevoked, revoked)
      if (!cfg.disableAutoCommit) await this.autoCommit('commit on revoke', revoked)
    }
    for (const [t, ps] of revoked) {
      const s = this.owned.get(t)
      for (const p of ps) {
        s?.delete(p)
        this.#committed.get(t)?.delete(p)
        this.#marks.get(t)?.delete(p)
        this.#head.get(t)?.delete(p)
      }
      if (s !== undefined && s.size === 0) this.owned.delete(t)
    }
    this.consumer.unassign(revoked)
  }

  async #callback(cb: PartitionsCallback | null, parts: Map<string, number[]>): Promise<void> {
    if (cb === null || parts.size === 0) return
    try {
      await cb(parts)
    } catch (err) {
      this.core.log('error', 'a partitions callback threw', 'group', this.group, 'err', (err as Error).message)
    }
  }

  // ---------------------------------------------------------------- offsets

  /**
   * groupRequest sends a request to the group's coordinator, finding it again and retrying when it
   * moved or is loading. `build` gets the negotiated version (fields differ between versions).
   */
  protected groupRequest<Req, Res>(api: ApiMessage<Req, Res>, build: (version: number) => Req, timeout?: number, signal: AbortSignal = this.abort.signal): Promise<Res> {
    return this.core.coordinatorRequest(0, this.group, api, build, { signal, ...(timeout !== undefined ? { timeout } : {}) })
  }

  /** memberIdentity is what OffsetFetch v9+ carries: KIP-848 members send their id and epoch, classic ones nothing. */
  protected memberIdentity(): { memberId: string | null; memberEpoch: number } {
    return { memberId: null, memberEpoch: -1 }
  }

  /**
   * knowTopics loads metadata for topics the cache lacks (their ids go into OffsetFetch v10+ and
   * OffsetCommit v10+): the application may ask about a topic before the group subscribed to it.
   */
  async #knowTopics(topics: string[]): Promise<void> {
    const md = this.core.metadata
    const missing = topics.filter((t) => !md.topics.has(t))
    if (missing.length === 0) return
    md.interest(missing)
    await md.refresh(true)
  }

  /** commitIdentity is the member id and generation (or epoch) an OffsetCommit carries. */
  protected commitIdentity(): { memberId: string; generation: number } {
    return { memberId: this.memberId, generation: this.generation }
  }

  /**
   * fetchCommitted asks the coordinator for the committed offsets of partitions. It waits for
   * transactions that commit offsets for them (KIP-447's requireStable), until `signal` aborts.
   */
  async fetchCommitted(parts: Map<string, number[]>, signal: AbortSignal = this.abort.signal): Promise<CommitOffsets> {
    const md = this.core.metadata
    await this.#knowTopics([...parts.keys()])
    const idOf = (t: string) => md.topics.get(t)?.id ?? ZERO_UUID
    for (let attempt = 1; ; attempt++) {
      const out: CommitOffsets = new Map()
      const res = await this.groupRequest(OffsetFetch, (version): OffsetFetchRequest => {
        const req = OffsetFetch.newRequest()
        req.requireStable = true
        if (version <= 7) {
          req.groupId = this.group
          req.topics = [...parts].map(([name, ps]) => ({ name, partitionIndexes: ps }))
        } else {
          const who = this.memberIdentity()
          req.groups = [{ groupId: this.group, memberId: who.memberId, memberEpoch: who.memberEpoch, topics: [...parts].map(([name, ps]) => ({ name, topicId: idOf(name), partitionIndexes: ps })) }]
        }
        return req
      }, undefined, signal)
      const g = res.groups.length > 0 ? res.groups[0]! : null
      const errorCode = g !== null ? g.errorCode : res.errorCode
      let retry = errorCode === ErrorCode.UNSTABLE_OFFSET_COMMIT
      if (errorCode !== 0 && !retry) throw new KafkaProtocolError(errorCode)
      if (!retry) {
        const rtopics: Array<{ name: string; topicId?: string; partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string | null; errorCode: number }> }> = g !== null ? g.topics : res.topics
        for (const t of rtopics) {
          const name = t.name || md.topicName(t.topicId ?? '') || ''
          for (const p of t.partitions) {
            if (p.errorCode === ErrorCode.UNSTABLE_OFFSET_COMMIT) retry = true
            else if (p.errorCode !== 0) throw new KafkaProtocolError(p.errorCode, { topic: name, partition: p.partitionIndex })
            let m = out.get(name)
            if (m === undefined) out.set(name, (m = new Map()))
            m.set(p.partitionIndex, { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata })
          }
        }
      }
      if (!retry) return out
      // KIP-447: a transaction is committing offsets for these partitions; wait for it.
      this.core.log(attempt === 1 ? 'info' : 'debug', 'committed offsets are unstable: a transaction is committing offsets for them; waiting', 'group', this.group, 'try', attempt)
      await delay(this.core.config.retryBackoff(attempt), signal, true)
    }
  }

  /**
   * uncommitted returns the polled (or marked) offsets that moved since the last commit. `auto` asks
   * for what the client's own commits take: with greedyAutoCommit off, only what polls before the
   * latest one handed out.
   */
  uncommitted(only?: Map<string, number[]>, auto = false): CommitOffsets {
    const src = this.core.config.autoCommitMarks ? this.#marks : auto && this.#lagging ? this.#head : this.consumer.polled
    const out: CommitOffsets = new Map()
    for (const [t, ps] of src) {
      if (!this.owned.has(t)) continue
      const want = only?.get(t)
      if (only !== undefined && want === undefined) continue
      for (const [p, eo] of ps) {
        if (want !== undefined && !want.includes(p)) continue
        if (!this.owned.get(t)!.has(p)) continue
        if (this.#committed.get(t)?.get(p) === eo.offset) continue
        let m = out.get(t)
        if (m === undefined) out.set(t, (m = new Map()))
        m.set(p, eo)
      }
    }
    return out
  }

  /** mark records for autoCommitMarks. */
  mark(records: Record[]): void {
    for (const r of records) {
      let m = this.#marks.get(r.topic)
      if (m === undefined) this.#marks.set(r.topic, (m = new Map()))
      const cur = m.get(r.partition)
      if (cur === undefined || cur.offset <= r.offset) m.set(r.partition, { offset: r.offset + 1n, leaderEpoch: r.leaderEpoch })
    }
  }

  /** commitUncommitted commits what was polled (or marked) and not yet committed. */
  commitUncommitted(only?: Map<string, number[]>): Promise<void> {
    return this.commit(this.uncommitted(only))
  }

  /**
   * commit commits offsets for the group. Commits are serialized so an older commit can never land
   * after a newer one. Per-partition errors reject with the first error after every partition was tried.
   */
  async commit(offsets: CommitOffsets): Promise<void> {
    const refused = await this.#queueCommit(offsets)
    if (refused.length > 0) throw refused[0]
  }

  /**
   * queueCommit sends a commit after those before it and resolves with the partitions the broker
   * refused; it rejects when the request failed as a whole. Nothing to commit waits for the commits
   * before it.
   */
  #queueCommit(offsets: CommitOffsets): Promise<KafkaProtocolError[]> {
    if (offsets.size === 0) return this.#commitChain.then(() => [])
    const run = this.#commitChain.then(() => this.#commitNow(offsets))
    this.#commitChain = run.catch(() => {})
    return run
  }

  /**
   * autoCommit commits what was polled (or marked) and not yet committed, as the client does by itself
   * (every autoCommitInterval, before a revoke, at close), and tells autoCommitCallback how it went;
   * without one, a failure is logged (franz-go's default commit callback). It never rejects.
   */
  protected async autoCommit(what: string, only?: Map<string, number[]>): Promise<void> {
    const offsets = this.uncommitted(only, true)
    let error: Error | null = null
    let refused: KafkaProtocolError[] = []
    try {
      refused = await this.#queueCommit(offsets)
    } catch (err) {
      error = err as Error
    }
    if (offsets.size === 0) return
    error ??= refused[0] ?? null
    const cb = this.core.config.autoCommitCallback
    if (cb === null) {
      if (error !== null) this.core.log('warn', `${what} failed`, 'group', this.group, 'err', error.message)
      return
    }
    const failed = (err: unknown) => this.core.log('error', 'autoCommitCallback threw', 'group', this.group, 'err', err instanceof Error ? err.message : String(err))
    try {
      // Not awaited: a slow callback must not hold the revoke or the close it reports on.
      Promise.resolve(cb({ offsets, error, partitionErrors: refused })).catch(failed)
    } catch (err) {
      failed(err)
    }
  }

  async #commitNow(offsets: CommitOffsets): Promise<KafkaProtocolError[]> {
    const md = this.core.metadata
    // OffsetCommit v10+ names topics by id.
    await this.#knowTopics([...offsets.keys()])
    const res = await this.groupRequest(OffsetCommit, (): OffsetCommitRequest => {
      const req = OffsetCommit.newRequest()
      req.groupId = this.group
      const who = this.commitIdentity()
      req.generationIdOrMemberEpoch = who.generation
      req.memberId = who.memberId
      req.groupInstanceId = this.core.config.instanceId
      for (const [t, ps] of offsets) {
        req.topics.push({
          name: t,
          topicId: md.topics.get(t)?.id ?? ZERO_UUID,
          partitions: [...ps].map(([p, eo]) => ({ partitionIndex: p, committedOffset: eo.offset, committedLeaderEpoch: eo.leaderEpoch, committedMetadata: eo.metadata ?? null })),
        })
      }
      return req
    })
    const refused: KafkaProtocolError[] = []
    for (const t of res.topics) {
      const name = t.name || md.topicName(t.topicId) || ''
      for (const p of t.partitions) {
        if (p.errorCode !== 0) {
          refused.push(new KafkaProtocolError(p.errorCode, { topic: name, partition: p.partitionIndex }))
          if (REJOIN_ERRORS.has(p.errorCode)) this.onGenerationError(p.errorCode)
          continue
        }
        const eo = offsets.get(name)?.get(p.partitionIndex)
        if (eo === undefined) continue
        let m = this.#committed.get(name)
        if (m === undefined) this.#committed.set(name, (m = new Map()))
        m.set(p.partitionIndex, eo.offset)
        // A commit past the head (commitUncommittedOffsets, commitRecords) moves it along, or the
        // next autocommit would commit the older head and move the group's offset back.
        const h = this.#head.get(name)
        const head = h?.get(p.partitionIndex)
        if (head !== undefined && head.offset < eo.offset) h!.set(p.partitionIndex, { offset: eo.offset, leaderEpoch: eo.leaderEpoch })
      }
    }
    return refused
  }

  // ---------------------------------------------------------------- transactions (GroupTransactSession)

  /** noteCommitted records offsets a transaction committed, so that `uncommitted` stops returning them. */
  noteCommitted(offsets: CommitOffsets): void {
    for (const [t, ps] of offsets) {
      const owned = this.owned.get(t)
      for (const [p, eo] of ps) {
        if (owned === undefined || !owned.has(p)) continue
        let m = this.#committed.get(t)
        if (m === undefined) this.#committed.set(t, (m = new Map()))
        m.set(p, eo.offset)
      }
    }
  }

  /**
   * resetToCommitted moves every owned partition back to its committed offset (to consumeResetOffset
   * when it has none) and forgets what was polled of it, so that the input of an aborted transaction
   * is polled again. Partitions revoked meanwhile, or being revoked, are left alone.
   *
   * The committed offsets are the ones the member knows: fetched when the partition was assigned, or
   * committed by the member since (franz-go's GroupTransactSession resets to CommittedOffsets() the
   * same way). Nobody else commits a partition the member owns, so they are the group's. An
   * OffsetFetch would be wrong here: it waits (UNSTABLE_OFFSET_COMMIT, KIP-447) for the markers of the
   * transaction just aborted, which the coordinator may write late, or, when its marker to the offsets
   * partition was lost (a broker that restarts can drop it), never, and the session's revocations wait
   * for this reset: the member would stall, out of the group.
   */
  resetToCommitted(): void {
    const reset = this.core.config.consumeResetOffset
    const assign = new Map<string, Map<number, OffsetSpec>>()
    for (const [t, ps] of this.owned) {
      for (const p of ps) {
        const cur = this.consumer.cursor(t, p)
        if (cur === undefined || cur.removed) continue
        const c = this.#committed.get(t)?.get(p)
        let m = assign.get(t)
        if (m === undefined) assign.set(t, (m = new Map()))
        m.set(p, c !== undefined ? { offset: c } : reset)
        this.consumer.polled.get(t)?.delete(p)
        this.#head.get(t)?.delete(p)
      }
    }
    if (assign.size > 0) this.consumer.assign(assign)
  }

  /** onGenerationError is told when a commit says the member's generation is stale. */
  protected abstract onGenerationError(code: number): void

  protected startAutocommit(): void {
    const cfg = this.core.config
    if (cfg.disableAutoCommit || this.#autoTimer !== null || this.closed) return
    this.#autoTimer = setInterval(() => {
      if (this.closed || this.generation < 0) return
      void this.autoCommit('autocommit')
    }, cfg.autoCommitInterval)
    // Membership is background work: an idle member does not keep the process alive by itself.
    this.#autoTimer.unref()
  }

  /**
   * close commits what was polled (unless autocommit is off), leaves the group at once (so the next
   * member is assigned without waiting out a session timeout) and stops timers. At `deadline`
   * (Date.now() ms) whatever is still under way (the commit, the leave) is abandoned.
   */
  async close(deadline = Infinity): Promise<void> {
    if (this.closed) return
    const cfg = this.core.config
    const left = deadline - Date.now()
    const timer = Number.isFinite(left) ? setTimeout(() => this.abort.abort(new Error('close() ran out of time')), Math.max(0, left)) : null
    try {
      if (!cfg.disableAutoCommit && this.generation >= 0) await this.autoCommit('commit on close')
      this.closed = true
      this.allowRebalance()
      for (const w of this.#rebalancedWaiters.splice(0)) w()
      if (this.#autoTimer !== null) clearInterval(this.#autoTimer)
      await this.leave().catch((err: Error) => this.core.log('warn', 'leaving the group failed', 'group', this.group, 'err', err.message))
    } finally {
      if (timer !== null) clearTimeout(timer)
      this.closed = true
      this.abort.abort(new Error('group closed'))
    }
  }

  /**
   * leaveRequest sends a leave request to the group's coordinator on a connection of its own ('other'),
   * not the group connection: a JoinGroup parked at the coordinator holds that connection (a broker
   * reads one request of a connection at a time), and a LeaveGroup queued behind it would wait out the
   * rebalance, leaving the member in the group for the next one to wait on.
   */
  protected async leaveRequest<Req, Res>(api: ApiMessage<Req, Res>, build: (version: number) => Req): Promise<Res> {
    return this.core.retry({ signal: this.abort.signal }, api.key, async (signal) => {
      const node = await this.core.coordinator(0, this.group, signal)
      return this.core.requestOn(node, 'other', api, build, { timeout: 5_000, ...(signal ? { signal } : {}) })
    })
  }
}

/** diff returns the partitions of `a` that are not in `b`. */
export function diff(a: Map<string, number[]>, b: Map<string, number[]>): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const [t, ps] of a) {
    const other = new Set(b.get(t) ?? [])
    const d = ps.filter((p) => !other.has(p))
    if (d.length > 0) out.set(t, d)
  }
  return out
}
