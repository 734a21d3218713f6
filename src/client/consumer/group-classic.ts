import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaProtocolError } from '../../protocol/errors.js'
import { ClientClosedError, GroupSessionError } from '../errors.js'
import { JoinGroup } from '../../protocol/messages/join-group.js'
import { SyncGroup } from '../../protocol/messages/sync-group.js'
import { Heartbeat } from '../../protocol/messages/heartbeat.js'
import { LeaveGroup } from '../../protocol/messages/leave-group.js'
import { delay } from '../broker.js'
import type { ClientCore } from '../core.js'
import type { Consumer } from './consumer.js'
import { GroupBase, REJOIN_ERRORS, diff } from './group-base.js'
import { balancerByName, type GroupBalancer, type GroupMember, type PartitionRacks } from './balancers/index.js'
import { decodeAssignment, encodeAssignment, memberFromJoin } from './balancers/protocol.js'

const { MEMBER_ID_REQUIRED, REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID } = ErrorCode
const FATAL = new Set<number>([FENCED_INSTANCE_ID, ErrorCode.GROUP_MAX_SIZE_REACHED, ErrorCode.GROUP_AUTHORIZATION_FAILED, ErrorCode.INCONSISTENT_GROUP_PROTOCOL, ErrorCode.INVALID_GROUP_ID, ErrorCode.INVALID_SESSION_TIMEOUT])

/**
 * ClassicGroup is a member of a consumer group with the classic protocol (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup), franz-go's groupConsumer. The leader balances with the first balancer
 * every member supports; cooperative-sticky (KIP-429) revokes only what moves, in two rounds.
 * Heartbeats run on their own timer and connection, so slow processing never costs membership.
 */
export class ClassicGroup extends GroupBase {
  #balancers: GroupBalancer[]
  #rejoin = false
  #running = false
  #wake: (() => void) | null = null
  #heartbeatTimer: NodeJS.Timeout | null = null
  /** beatChain counts heartbeat starts and stops; a running chain goes on while it is current. */
  #beatChain = 0
  #failures = 0
  /** fatal is a heartbeat's fatal error (FENCED_INSTANCE_ID, …), for the loop to handle as its own. */
  #fatal: KafkaProtocolError | null = null
  /** lastJoinTopics are the partition counts the leader balanced with, to rebalance when they change. */
  #leaderCounts: Map<string, number> | null = null
  /** joining is the JoinGroup in flight, for a close that must learn the member id it hands out. */
  #joining: Promise<unknown> | null = null
  /**
   * assigning is set while a new generation's partitions are revoked and assigned: a heartbeat that
   * fails meanwhile aborts it with its error, for the loop to handle once the join is given up.
   */
  #assigning: AbortController | null = null

  constructor(core: ClientCore, consumer: Consumer) {
    super(core, consumer)
    // The names were checked when the options were resolved.
    this.#balancers = core.config.balancers.map((b) => (typeof b === 'string' ? balancerByName(b)! : b))
  }

  get #cooperative(): boolean {
    return this.#balancers.every((b) => b.cooperative)
  }

  start(): void {
    // A client closed before its consumer started (close() right after the constructor) starts nothing.
    if (this.#running || this.closed) return
    this.#running = true
    this.core.metadata.interest(this.#topics())
    this.startAutocommit()
    this.#loop().catch((err: Error) => this.core.log('error', 'group loop stopped', 'group', this.group, 'err', err.message))
  }

  #topics(): string[] {
    const patterns = this.consumer.patterns
    return patterns === null ? [...this.subscription] : patterns.matching(this.core.metadata.topics)
  }

  protected onSubscriptionChanged(): void {
    // A new subscription goes out in a new JoinGroup; the leader balances the new topics in.
    if (this.core.config.consumeRegex) this.core.metadata.refresh(true).then(() => this.requestRejoin(), () => this.requestRejoin())
    else this.requestRejoin()
  }

  /** requestRejoin makes the member join again (metadata changed, a heartbeat said so). */
  requestRejoin(): void {
    this.#rejoin = true
    this.#wake?.()
  }

  /** onMetadata rejoins when the leader's view of subscribed partitions changed (new partitions, new topics). */
  onMetadata(): void {
    const counts = this.#leaderCounts
    if (counts === null) return
    const now = this.#counts(this.#topics())
    if (now.size !== counts.size) return this.requestRejoin()
    for (const [t, n] of now) if (counts.get(t) !== n) return this.requestRejoin()
  }

  /** racks gives the replica racks per partition, for rack-aware balancing (KIP-881); undefined when no broker has a rack. */
  #racks(counts: Map<string, number>): PartitionRacks | undefined {
    const md = this.core.metadata
    if (![...md.brokers.values()].some((b) => b.rack !== null)) return undefined
    const out = new Map<string, string[][]>()
    for (const t of counts.keys()) {
      const info = md.topics.get(t)
      if (info === undefined) continue
      out.set(t, info.partitions.map((p) => p.replicas.map((id) => md.brokers.get(id)?.rack).filter((r): r is string => typeof r === 'string')))
    }
    return out
  }

  #counts(topics: string[]): Map<string, number> {
    const out = new Map<string, number>()
    for (const t of topics) {
      const info = this.core.metadata.topics.get(t)
      if (info !== undefined && info.errorCode === 0) out.set(t, info.partitions.length)
    }
    return out
  }

  async #loop(): Promise<void> {
    const cfg = this.core.config
    while (!this.closed) {
      try {
        if (this.core.config.consumeRegex || this.core.metadata.lastLoad === 0) await this.core.metadata.refresh(true)
        await this.#joinAndSync()
        this.#failures = 0
        this.#startHeartbeats()
        // Wait until something asks for a rejoin (heartbeat error, metadata change, close).
        await new Promise<void>((resolve) => {
          this.#wake = resolve
          if (this.#rejoin || this.closed) resolve()
        })
        this.#wake = null
        // Heartbeats go on until the rejoin really starts (it may wait for allowRebalance), so a member
        // whose application is slow to allow keeps its session meanwhile, as Java's heartbeat thread does.
        if (this.#fatal !== null) {
          const fatal = this.#fatal
          this.#fatal = null
          throw fatal
        }
      } catch (err) {
        this.#stopHeartbeats()
        if (this.closed) return
        const e = err as Error & { errorCode?: number }
        this.core.log('warn', 'group management error', 'group', this.group, 'err', e.message)
        if (e instanceof KafkaProtocolError && FATAL.has(e.errorCode)) {
          // Fatal for this member: give up the partitions and stop (franz-go surfaces these too).
          await this.revokePartitions(this.ownedMap(), true)
          this.generation = -1
          if (e.errorCode === FENCED_INSTANCE_ID) {
            this.core.hooks.groupManageError(e)
            return
          }
        }
        if (e instanceof KafkaProtocolError && (e.errorCode === UNKNOWN_MEMBER_ID || e.errorCode === ILLEGAL_GENERATION)) {
          await this.#lose()
        }
        if (e instanceof GroupSessionError) {
          // onOffsetsFetched failed: the member gives this session up as franz-go does, losing what it
          // owns and joining again (with its member id) after the backoff; the poll hears of it too.
          await this.revokePartitions(this.ownedMap(), true)
          this.generation = -1
          this.consumer.addError(e)
        }
        // franz-go runs OnGroupManageError for every error that breaks the loop, right after any
        // partitions it cost were reported lost.
        this.core.hooks.groupManageError(e)
        this.#failures++
        await delay(cfg.retryBackoff(this.#failures), this.abort.signal, true).catch(() => {})
      }
    }
  }

  /** lose gives up every owned partition without committing (the generation is gone). */
  async #lose(): Promise<void> {
    await this.revokePartitions(this.ownedMap(), true)
    this.generation = -1
    this.memberId = ''
  }

  async #joinAndSync(): Promise<void> {
    // blockRebalanceOnPoll holds the whole rebalance, the join included, as franz-go does: between
    // JoinGroup and SyncGroup the coordinator refuses commits of the old generation, so joining while
    // the application still processes a poll would fail the commit it is about to make.
    await this.enterRebalance()
    this.#stopHeartbeats()
    try {
      await this.#joinAndSyncHeld()
    } finally {
      this.leaveRebalance()
    }
  }

  async #joinAndSyncHeld(): Promise<void> {
    const cfg = this.core.config
    this.#rejoin = false
    const topics = this.#topics()
    // Eager protocols give everything back before joining (onPartitionsRevoked, commit).
    if (!this.#cooperative && this.owned.size > 0) await this.revokePartitions(this.ownedMap(), false)
    const owned = this.ownedMap()
    let join
    for (;;) {
      const req = JoinGroup.newRequest()
      req.groupId = this.group
      req.sessionTimeoutMs = cfg.sessionTimeout
      req.rebalanceTimeoutMs = cfg.rebalanceTimeout
      req.memberId = this.memberId
      req.groupInstanceId = cfg.instanceId
      req.protocolType = 'consumer'
      req.protocols = this.#balancers.map((b) => ({ name: b.name, metadata: b.subscriptionMetadata(topics, owned, this.generation, cfg.rack) }))
      req.reason = null
      const joining = this.core.request(JoinGroup, req, { timeout: cfg.rebalanceTimeout + cfg.requestTimeoutOverhead, signal: this.abort.signal })
      this.#joining = joining
      try {
        join = await joining
      } finally {
        this.#joining = null
      }
      if (join.errorCode === MEMBER_ID_REQUIRED) {
        // KIP-394: the broker hands out the member id and wants it back in a second JoinGroup.
        this.memberId = join.memberId
        if (this.closed) throw new ClientClosedError('the group member closed while joining')
        continue
      }
      // Closed while the join was parked at the coordinator: the member left (or is leaving) already.
      if (this.closed) throw new ClientClosedError('the group member closed during a rebalance')
      if (join.errorCode === UNKNOWN_MEMBER_ID) {
        this.memberId = ''
        throw new KafkaProtocolError(join.errorCode)
      }
      if (join.errorCode !== 0) throw new KafkaProtocolError(join.errorCode)
      break
    }
    this.memberId = join.memberId
    const generation = join.generationId
    const protocol = this.#balancers.find((b) => b.name === join.protocolName) ?? null
    if (protocol === null) throw new KafkaProtocolError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, { errorMessage: `the group chose protocol ${join.protocolName}, which this member did not offer` })
    let assignments: Array<{ memberId: string; assignment: Buffer }> = []
    if (join.leader === join.memberId && !join.skipAssignment) {
      const members: GroupMember[] = join.members.map((m) => memberFromJoin(m.memberId, m.groupInstanceId, m.metadata))
      const all = new Set<string>()
      for (const m of members) for (const t of m.topics) all.add(t)
      this.core.metadata.interest(all)
      await this.core.metadata.refresh(true)
      const counts = this.#counts([...all])
      this.#leaderCounts = this.#counts(topics)
      // Awaited: a balancer may be asynchronous (the KafkaJS facade runs KafkaJS's async assigners).
      const plan = await protocol.balance(members, counts, this.#racks(counts))
      assignments = members.map((m) => {
        const mine = plan.get(m.memberId) ?? new Map<string, number[]>()
        return { memberId: m.memberId, assignment: encodeAssignment({ assignedPartitions: [...mine].map(([topic, partitions]) => ({ topic, partitions })), userData: null }) }
      })
    } else {
      this.#leaderCounts = null
    }
    const sreq = SyncGroup.newRequest()
    sreq.groupId = this.group
    sreq.generationId = generation
    sreq.memberId = this.memberId
    sreq.groupInstanceId = cfg.instanceId
    sreq.protocolType = 'consumer'
    sreq.protocolName = protocol.name
    sreq.assignments = assignments
    const sync = await this.core.request(SyncGroup, sreq, { timeout: cfg.rebalanceTimeout + cfg.requestTimeoutOverhead, signal: this.abort.signal })
    if (this.closed) throw new ClientClosedError('the group member closed during a rebalance')
    if (sync.errorCode !== 0) throw new KafkaProtocolError(sync.errorCode)
    this.generation = generation
    const assigned = new Map<string, number[]>()
    if (sync.assignment.length > 0) {
      for (const tp of decodeAssignment(sync.assignment).assignedPartitions) assigned.set(tp.topic, [...tp.partitions].sort((a, b) => a - b))
    }
    const now = this.ownedMap()
    const revoked = diff(now, assigned)
    const added = diff(assigned, now)
    this.core.log('info', 'joined group', 'group', this.group, 'generation', generation, 'member', this.memberId, 'protocol', protocol.name, 'added', mapString(added), 'revoked', mapString(revoked))
    // Heartbeats start now, not once the partitions are in place: revoking waits for the application
    // (its callbacks, a transaction it is ending), and the committed offsets of new partitions wait for
    // every transaction that commits offsets for them (UNSTABLE_OFFSET_COMMIT, KIP-447), up to that
    // transaction's timeout, longer than a session. Without heartbeats the member would lose its
    // session meanwhile and the group would rebalance again and again (franz-go heartbeats while it
    // fetches offsets; Java's heartbeat thread never stops). A heartbeat that fails gives the fetch up.
    const assigning = new AbortController()
    this.#assigning = assigning
    this.#startHeartbeats()
    try {
      if (revoked.size > 0) {
        await this.revokePartitions(revoked, false)
        // KIP-429: what we gave up goes to its new owner in a follow-up rebalance.
        if (protocol.cooperative) this.#rejoin = true
      }
      await this.assignPartitions(added, assigning.signal)
    } catch (err) {
      // Given up for a failed heartbeat, whose error is handled below; anything else is the loop's.
      if (!assigning.signal.aborted) throw err
    } finally {
      this.#assigning = null
    }
    if (assigning.signal.aborted) {
      // The partitions whose offsets were not fetched yet were not taken; the rejoin hands them out again.
      const err = assigning.signal.reason as KafkaProtocolError
      // A rebalance asks only for the rejoin (set); the loop handles the others as a failed join's.
      if (err.errorCode !== REBALANCE_IN_PROGRESS) throw err
    }
  }

  #startHeartbeats(): void {
    const cfg = this.core.config
    this.#stopHeartbeats()
    // Each start begins a chain of its own; a chain whose start was superseded stops by itself.
    const chain = this.#beatChain
    const beat = () => {
      this.#heartbeatTimer = null
      if (this.closed || chain !== this.#beatChain) return
      const req = Heartbeat.newRequest()
      req.groupId = this.group
      req.generationId = this.generation
      req.memberId = this.memberId
      req.groupInstanceId = cfg.instanceId
      this.core
        .request(Heartbeat, req, { timeout: cfg.sessionTimeout, signal: this.abort.signal })
        .then(
          (res) => {
            if (res.errorCode === 0) return
            const assigning = this.#assigning
            if (assigning !== null && (res.errorCode === REBALANCE_IN_PROGRESS || REJOIN_ERRORS.has(res.errorCode) || FATAL.has(res.errorCode))) {
              // The new generation is being set up: give it up (a fetch of committed offsets waiting
              // for a transaction would hold the rebalance, or outlive the member), and let the loop
              // handle the error, once, as a failed join's: lose the partitions, report it, rejoin.
              this.#stopHeartbeats()
              this.#rejoin = true
              this.core.log('info', 'heartbeat failed while the assignment was set up; rejoining', 'group', this.group, 'err', new KafkaProtocolError(res.errorCode).message)
              assigning.abort(new KafkaProtocolError(res.errorCode))
              return
            }
            if (res.errorCode === REBALANCE_IN_PROGRESS) return this.requestRejoin()
            if (FATAL.has(res.errorCode)) {
              // The loop handles it as a failed join would: the hook, the partitions lost, and for
              // FENCED_INSTANCE_ID a stop (rejoining would fence the member that replaced us, and so on).
              this.#stopHeartbeats()
              this.#fatal = new KafkaProtocolError(res.errorCode)
              this.#wake?.()
              return
            }
            if (REJOIN_ERRORS.has(res.errorCode)) {
              // The session is gone: the partitions are lost, then the hook hears why (franz-go's order).
              this.#stopHeartbeats()
              this.#rejoin = true
              this.#lose()
                .catch(() => {})
                .finally(() => {
                  this.core.hooks.groupManageError(new KafkaProtocolError(res.errorCode))
                  this.#wake?.()
                })
              return
            }
            this.core.log('warn', 'heartbeat failed', 'group', this.group, 'err', new KafkaProtocolError(res.errorCode).message)
          },
          (err: Error) => {
            if (!this.closed) this.core.log('warn', 'heartbeat failed', 'group', this.group, 'err', err.message)
          },
        )
        .finally(() => {
          if (!this.closed && chain === this.#beatChain) this.#heartbeatTimer = setTimeout(beat, cfg.heartbeatInterval).unref()
        })
    }
    // Membership is background work: an idle member does not keep the process alive by itself.
    this.#heartbeatTimer = setTimeout(beat, cfg.heartbeatInterval).unref()
  }

  #stopHeartbeats(): void {
    this.#beatChain++
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer)
    this.#heartbeatTimer = null
  }

  protected onGenerationError(code: number): void {
    if (code === REBALANCE_IN_PROGRESS) {
      this.requestRejoin()
      return
    }
    // The coordinator forgot us (session expired) or fenced the generation: the partitions are lost.
    this.#stopHeartbeats()
    this.#rejoin = true
    this.#lose()
      .catch(() => {})
      .finally(() => this.#wake?.())
  }

  protected async leave(): Promise<void> {
    this.#stopHeartbeats()
    this.#wake?.()
    const cfg = this.core.config
    if (this.memberId === '' && this.#joining !== null) {
      // A first JoinGroup is in flight: its answer (KIP-394's MEMBER_ID_REQUIRED, at once) names the
      // member the coordinator now holds as pending, which must leave too or the next rebalance waits for it.
      await Promise.race([this.#joining.catch(() => {}), delay(5_000, this.abort.signal, true).catch(() => {})])
    }
    if (this.memberId === '') return
    // Static members (KIP-345) keep their place across restarts: they do not leave.
    if (cfg.instanceId === null) {
      await this.revokePartitions(this.ownedMap(), false).catch(() => {})
      const memberId = this.memberId
      const res = await this.leaveRequest(LeaveGroup, (version) => {
        const req = LeaveGroup.newRequest()
        req.groupId = this.group
        // v3+ (KIP-345) leaves by a list of members; older versions carry one member id.
        if (version >= 3) req.members = [{ memberId, groupInstanceId: null, reason: 'the client is closing' }]
        else req.memberId = memberId
        return req
      })
      if (res.errorCode !== 0 && res.errorCode !== UNKNOWN_MEMBER_ID) throw new KafkaProtocolError(res.errorCode)
    }
  }
}

function mapString(m: Map<string, number[]>): string {
  return [...m].map(([t, ps]) => `${t}[${ps.join(',')}]`).join(' ')
}
