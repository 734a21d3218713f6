import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaProtocolError } from '../../protocol/errors.js'
import { ConsumerGroupHeartbeat, type ConsumerGroupHeartbeatRequest } from '../../protocol/messages/consumer-group-heartbeat.js'
import type { ClientCore } from '../core.js'
import { GroupSessionError } from '../errors.js'
import type { Consumer } from './consumer.js'
import { GroupBase, diff } from './group-base.js'
import { HeartbeatLoop } from './heartbeat-loop.js'

const { UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH } = ErrorCode
const FATAL = new Set<number>([
  ErrorCode.GROUP_MAX_SIZE_REACHED,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.UNRELEASED_INSTANCE_ID,
  ErrorCode.UNSUPPORTED_ASSIGNOR,
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.INVALID_REQUEST,
  ErrorCode.TOPIC_AUTHORIZATION_FAILED,
])

/**
 * ConsumerProtocolGroup is a member of a consumer group with the KIP-848 protocol: one
 * ConsumerGroupHeartbeat loop carries the subscription and the owned partitions, and the
 * coordinator computes the assignment (server-side assignors 'uniform' or 'range'). The member
 * reconciles: it revokes what it lost (callback, commit), acknowledges in the next heartbeat, and
 * takes what it gained once the coordinator hands it over.
 */
export class ConsumerProtocolGroup extends GroupBase {
  #running = false
  /** heartbeats sends ConsumerGroupHeartbeats, one at a time, until the member closes or leaves. */
  #heartbeats = new HeartbeatLoop(
    () => this.#beat().catch(() => this.#interval),
    () => !this.closed && !this.#leaving,
  )
  #interval: number
  /** full is true when the next heartbeat must carry every field (first join, after an error). */
  #full = true
  #sentTopics: string | null = null
  #reconciling = false
  #failures = 0
  /** target is an assignment waiting to be reconciled; reconcileRun the reconciliation under way. */
  #target: Map<string, number[]> | null = null
  #reconcileRun: Promise<void> | null = null
  #leaving = false
  /**
   * sessionFailed is set when onOffsetsFetched failed: no new assignment is taken while the member
   * gives its partitions up; then `rejoin` is set, and the next heartbeat turn reports the error and
   * the one after joins again with epoch 0.
   */
  #sessionFailed: GroupSessionError | null = null
  #rejoin = false

  constructor(core: ClientCore, consumer: Consumer) {
    super(core, consumer)
    // Since Kafka 4.0 (KIP-1082) the client makes its own member id, kept for its lifetime.
    this.memberId = globalThis.crypto.randomUUID()
    this.generation = 0
    this.#interval = core.config.heartbeatInterval
  }

  start(): void {
    // A client closed before its consumer started (close() right after the constructor) starts nothing.
    if (this.#running || this.closed) return
    this.#running = true
    if (!this.core.config.consumeRegex) this.core.metadata.interest(this.subscription)
    this.startAutocommit()
    this.#heartbeats.schedule(0)
  }

  protected onSubscriptionChanged(): void {
    // The next heartbeat carries the new subscription (its key differs from what was last sent); a
    // member matching patterns itself matches them against a fresh load first.
    if (this.#matchesLocally) this.core.metadata.refresh(true).then(() => this.#heartbeats.schedule(0), () => this.#heartbeats.schedule(0))
    else this.#heartbeats.schedule(0)
  }

  /**
   * matchesLocally is true when the member matches consumeRegex patterns against metadata itself and
   * subscribes by name: consumeExcludeTopics has no place in the coordinator's subscribedTopicRegex,
   * which only includes (franz-go does the same).
   */
  get #matchesLocally(): boolean {
    return this.consumer.patterns?.excludes ?? false
  }

  onMetadata(): void {
    // New topics matching a regex are picked up by the coordinator itself (subscribedTopicRegex),
    // unless the member matches them itself: a load that changed what matches goes out at once.
    if (!this.#matchesLocally || !this.#running || this.#sentTopics === null) return
    if (this.consumer.patterns!.matching(this.core.metadata.topics).join('\u0000') !== this.#sentTopics) this.#heartbeats.schedule(0)
  }

  /**
   * reconcileSoon moves to a new target assignment off the heartbeat loop: revoking may wait for the
   * application (callbacks, blockRebalanceOnPoll), and heartbeats must go on meanwhile or the
   * coordinator would expire the session of a member that is only slow. A target that arrives while
   * one is being reconciled replaces it and is taken next.
   */
  #reconcileSoon(target: Map<string, number[]>): void {
    if (this.#sessionFailed !== null) return
    this.#target = target
    if (this.#reconcileRun !== null) return
    this.#reconcileRun = (async () => {
      while (this.#target !== null && !this.closed && !this.#leaving) {
        const t = this.#target
        this.#target = null
        try {
          // Acknowledge the new owned set at once, as the Java consumer does.
          if (await this.#reconcile(t)) this.#heartbeats.schedule(0)
        } catch (err) {
          if (!(err instanceof GroupSessionError) || this.closed) throw err
          // onOffsetsFetched failed: as franz-go, the session's partitions are lost. Heartbeats go on
          // meanwhile (the application may hold the revocation), but bring no new assignment.
          this.#target = null
          this.#sessionFailed = err
          this.core.log('warn', 'giving up the group session; rejoining', 'group', this.group, 'err', err.message)
          await this.revokePartitions(this.ownedMap(), true)
          this.#rejoin = true
          this.#heartbeats.schedule(0)
          return
        }
      }
    })()
      .catch((err: Error) => this.core.log('warn', 'reconciling the assignment failed', 'group', this.group, 'err', err.message))
      .finally(() => {
        this.#reconcileRun = null
      })
  }

  /** beat sends one heartbeat and returns when to send the next (null: not at all). */
  async #beat(): Promise<number | null> {
    const cfg = this.core.config
    const failed = this.#sessionFailed
    if (failed !== null && this.#rejoin) {
      // The session given up (its partitions lost), the error is reported (poll, onGroupManageError),
      // and after a backoff the member joins again with epoch 0 and the same member id, which the
      // coordinator answers with its assignment (franz-go's way out of a failed session).
      this.#sessionFailed = null
      this.#rejoin = false
      this.generation = 0
      this.#full = true
      this.#failures++
      this.consumer.addError(failed)
      this.core.hooks.groupManageError(failed)
      return this.closed || this.#leaving ? null : cfg.retryBackoff(this.#failures)
    }
    const req: ConsumerGroupHeartbeatRequest = ConsumerGroupHeartbeat.newRequest()
    req.groupId = this.group
    req.memberId = this.memberId
    req.memberEpoch = this.generation
    req.instanceId = cfg.instanceId
    // Fields left null mean "unchanged since the last heartbeat"; a full heartbeat sends them all.
    const sub = this.subscription
    const md = this.core.metadata
    // A member matching patterns itself joins with the topics of a first load, not with none.
    if (this.#matchesLocally && md.lastLoad === 0) await md.refresh(true).catch(() => {})
    const topics = !cfg.consumeRegex ? [...sub].sort() : this.#matchesLocally ? this.consumer.patterns!.matching(md.topics) : null
    const topicsKey = topics === null ? `re:${sub.join('|')}` : topics.join('\u0000')
    const full = this.#full || this.generation === 0
    req.rackId = full ? cfg.rack : null
    req.rebalanceTimeoutMs = full ? cfg.rebalanceTimeout : -1
    req.serverAssignor = full ? cfg.groupRemoteAssignor : null
    if (full || topicsKey !== this.#sentTopics) {
      if (topics !== null) req.subscribedTopicNames = topics
      // The coordinator matches whole topic names (RE2/J, Java's Pattern.matches); consumeRegex patterns
      // are searched for, as RegExp.test and franz-go do, so each is wrapped to match anywhere.
      else req.subscribedTopicRegex = sub.map((t) => `.*(?:${t}).*`).join('|')
    } else {
      req.subscribedTopicNames = null
      req.subscribedTopicRegex = null
    }
    req.topicPartitions = this.#ownedByTopicId()
    let next = this.#interval
    try {
      const res = await this.core.request(ConsumerGroupHeartbeat, req, { timeout: cfg.sessionTimeout, signal: this.abort.signal })
      // The session was given up while this heartbeat was out: its answer belongs to it; rejoin now.
      if (this.#rejoin) return this.closed || this.#leaving ? null : 0
      if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage })
      this.#failures = 0
      this.#full = false
      this.#sentTopics = topicsKey
      if (res.memberId !== null && res.memberId !== '') this.memberId = res.memberId
      this.generation = res.memberEpoch
      if (res.heartbeatIntervalMs > 0) this.#interval = res.heartbeatIntervalMs
      next = this.#interval
      if (res.assignment !== null) {
        const target = await this.#namesOf(res.assignment.topicPartitions)
        if (target === null) {
          // Unknown topic ids: metadata is behind; send the full state again soon.
          this.#full = true
          next = Math.min(next, 200)
        } else {
          this.#reconcileSoon(target)
        }
      }
    } catch (err) {
      if (this.closed) return null
      const e = err as Error
      this.#full = true
      this.#failures++
      if (e instanceof KafkaProtocolError) {
        if (e.errorCode === FENCED_MEMBER_EPOCH || e.errorCode === UNKNOWN_MEMBER_ID) {
          // Fenced or forgotten: the partitions are lost; rejoin with epoch 0 and the same member id.
          this.core.log('warn', 'member fenced; rejoining', 'group', this.group, 'err', e.message)
          await this.revokePartitions(this.ownedMap(), true)
          this.generation = 0
          next = 0
        } else if (FATAL.has(e.errorCode)) {
          this.core.log('error', 'fatal group error; leaving the group loop', 'group', this.group, 'err', e.message)
          await this.revokePartitions(this.ownedMap(), true)
          this.generation = 0
          next = Math.max(5_000, cfg.retryBackoff(this.#failures) * 4)
        } else {
          this.core.log('warn', 'group heartbeat failed', 'group', this.group, 'err', e.message)
          next = cfg.retryBackoff(this.#failures)
        }
      } else {
        this.core.log('warn', 'group heartbeat failed', 'group', this.group, 'err', e.message)
        next = cfg.retryBackoff(this.#failures)
      }
      // As in franz-go: after any partitions the error cost were reported lost.
      this.core.hooks.groupManageError(e)
    }
    return this.closed || this.#leaving ? null : next
  }

  #ownedByTopicId(): ConsumerGroupHeartbeatRequest['topicPartitions'] {
    const md = this.core.metadata
    const out: NonNullable<ConsumerGroupHeartbeatRequest['topicPartitions']> = []
    for (const [t, ps] of this.ownedMap()) {
      const id = md.topics.get(t)?.id
      if (id !== undefined) out.push({ topicId: id, partitions: ps })
    }
    return out
  }

  /** namesOf maps the assignment's topic ids to names, loading metadata once if an id is unknown. */
  async #namesOf(tps: Array<{ topicId: string; partitions: number[] }>): Promise<Map<string, number[]> | null> {
    const md = this.core.metadata
    const find = (id: string) => md.topicName(id)
    if (tps.some((tp) => find(tp.topicId) === undefined)) {
      md.interestAll(true)
      await md.refresh(true).catch(() => {})
      md.interestAll(this.core.config.consumeRegex)
    }
    const out = new Map<string, number[]>()
    for (const tp of tps) {
      const name = find(tp.topicId)
      if (name === undefined) return null
      md.interest([name])
      out.set(name, [...tp.partitions].sort((a, b) => a - b))
    }
    return out
  }

  /** reconcile moves from the owned set to the target; true when the owned set changed. */
  async #reconcile(target: Map<string, number[]>): Promise<boolean> {
    if (this.#reconciling) return false
    this.#reconciling = true
    try {
      const owned = this.ownedMap()
      if (diff(owned, target).size === 0 && diff(target, owned).size === 0) return false
      // blockRebalanceOnPoll: wait for the application, and hold polls while the assignment changes.
      await this.enterRebalance()
      try {
        const now = this.ownedMap()
        const revoked = diff(now, target)
        const added = diff(target, now)
        this.core.log('info', 'reconciling assignment', 'group', this.group, 'epoch', this.generation, 'added', added.size, 'revoked', revoked.size)
        await this.revokePartitions(revoked, false)
        await this.assignPartitions(added)
        return revoked.size > 0 || added.size > 0
      } finally {
        this.leaveRebalance()
      }
    } finally {
      this.#reconciling = false
    }
  }

  protected override memberIdentity(): { memberId: string | null; memberEpoch: number } {
    // Only a member with an epoch names itself (as Java's consumer does); before the first
    // heartbeat answered, or after a leave, the coordinator would answer STALE_MEMBER_EPOCH.
    if (this.generation <= 0) return { memberId: null, memberEpoch: -1 }
    return { memberId: this.memberId, memberEpoch: this.generation }
  }

  protected override commitIdentity(): { memberId: string; generation: number } {
    return this.generation <= 0 ? { memberId: '', generation: -1 } : { memberId: this.memberId, generation: this.generation }
  }

  protected onGenerationError(code: number): void {
    if (code === FENCED_MEMBER_EPOCH || code === UNKNOWN_MEMBER_ID) {
      this.#full = true
      this.#heartbeats.schedule(0)
    }
  }

  protected async leave(): Promise<void> {
    this.#leaving = true
    await this.#heartbeats.stop()
    await this.#reconcileRun
    if (this.generation <= 0 && this.owned.size === 0) return
    await this.revokePartitions(this.ownedMap(), false).catch(() => {})
    const cfg = this.core.config
    const req = ConsumerGroupHeartbeat.newRequest()
    req.groupId = this.group
    req.memberId = this.memberId
    // -1 leaves the group; -2 is a static member's temporary leave (KIP-848), keeping its instance id.
    req.memberEpoch = cfg.instanceId === null ? -1 : -2
    req.instanceId = cfg.instanceId
    req.rackId = null
    req.rebalanceTimeoutMs = -1
    req.subscribedTopicNames = null
    req.subscribedTopicRegex = null
    req.serverAssignor = null
    req.topicPartitions = null
    const res = await this.core.request(ConsumerGroupHeartbeat, req, { timeout: 5_000 })
    if (res.errorCode !== 0 && res.errorCode !== UNKNOWN_MEMBER_ID && res.errorCode !== FENCED_MEMBER_EPOCH) throw new KafkaProtocolError(res.errorCode)
  }
}
