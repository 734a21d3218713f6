/**
 * The sticky core shared by the 'sticky' (eager, KIP-54) and 'cooperative-sticky' (KIP-429) balancers:
 * Java's AbstractStickyAssignor, decision for decision, so that a kafka-wire leader gives the assignment a
 * Java leader would give for the same JoinGroup response.
 *
 * Two algorithms, as in Java. When every member subscribes to the same topics (the common case) the
 * constrained builder runs: members keep up to their quota of what they owned, the rest is dealt round
 * robin in member-id order. Otherwise the general builder keeps every valid claim, hands out the rest to
 * the least loaded eligible member, and then moves partitions from members with more than one partition
 * over a subscriber until that is no longer possible, backing out of a rebalance that does not improve
 * the balance score. Racks (KIP-881) are honoured by both.
 *
 * Java walks HashMaps keyed by member id in a few places where the walk decides the result; java-order.ts
 * reproduces that order. Where Java's own data structures make it slow, this port keeps the decisions and
 * changes the structures:
 *   - members sorted by (partition count, member id), Java's TreeSet, are a sorted array (O(M) updates);
 *   - isBalanced, which Java answers by scanning every partition every member could take (O(M·P) per call,
 *     and it is called once per partition tried), is answered from each topic's owners: a member could
 *     take a partition of topic t from someone with two more partitions exactly when the most loaded owner
 *     of a partition of t has more than count + 1. The scan is over (member, topic) pairs, stops at the
 *     first member within one of the maximum, and runs again only after a partition has moved;
 *   - membership tests on lists are sets, counts and flag arrays.
 * With M members, T topics and P partitions, the constrained builder is O(P log P + M log M). The general
 * builder's initial assignment is O(P·M); a reassignment pass costs O(M) per partition tried plus, per
 * partition moved, one isBalanced scan of O(M·T + P) at worst, where Java's costs O(M·P) per partition
 * tried.
 *
 * Deliberate differences from Java, all for rare or malformed input: a member listing the same partition
 * twice counts once; claims on partitions beyond a topic's partition count are dropped (Java would hand
 * out a partition that does not exist); a member with no topics never makes the subscriptions "equal"
 * (Java skips such a member when it comes first in its HashMap, then gives it partitions it did not ask
 * for); a partition is never moved back to a previous owner that no longer subscribes to its topic, nor
 * compared against a previous owner that sits the rebalance out (Java would assign an unsubscribed topic,
 * or throw). cooperative-sticky.ts describes one more, about handing partitions over.
 */
import type { GroupBalancer, GroupMember, PartitionRacks, Plan } from './index.js'
import { JavaHashOrder, javaHashMapOrder, javaStringHash, javaTopicPartitionHash } from './java-order.js'
import { eagerSubscription, rackOf } from './plan.js'
import { compareStrings, decodeStickyUserData, encodeStickyUserData } from './protocol.js'
import { useRackAwareAssignment } from './range.js'

/** MemberData is what a member claims to own and the generation of the claim (Java's MemberData). */
export interface MemberData {
  /** partitions are grouped by topic, in the order the member listed them. */
  partitions: ReadonlyArray<{ topic: string; partitions: readonly number[] }>
  /** generation is null when the member reported none. */
  generation: number | null
}

/** StickyResult is the sticky core's assignment, indexed like the members it was given. */
export interface StickyResult {
  /** topics are the assigned topics, sorted; partition id `base[t] + p` is partition p of topics[t]. */
  readonly topics: readonly string[]
  readonly base: Int32Array
  /** assigned[i] are the partition ids given to members[i]. */
  readonly assigned: number[][]
  /** assignedTo[pid] is the index of the member given the partition. */
  readonly assignedTo: Int32Array
  /**
   * transferring maps a partition id to the member index it goes to when the partition was claimed by
   * another member in this rebalance (the constrained builder tracks this as it assigns); null when the
   * general builder ran and the cooperative balancer must work it out from the claims below.
   */
  readonly transferring: Map<number, number> | null
  /** claimedBy[pid] is the index of the member whose claim on the partition stood, or -1. */
  readonly claimedBy: Int32Array
  /** multiplyClaimed are partitions that two members of one generation claimed; neither claim stood. */
  readonly multiplyClaimed: ReadonlySet<number>
  /** partitionId is the id of a topic's partition, or -1 when it is not being assigned. */
  partitionId(topic: string, partition: number): number
  /** toPlan turns the result into a Plan, leaving out partitions whose id is flagged in `drop`. */
  toPlan(drop?: Uint8Array): Plan
}

/** stickyBalancer returns the 'sticky' balancer (eager), equivalent to Java's StickyAssignor. */
export function stickyBalancer(): GroupBalancer {
  return STICKY
}

const STICKY: GroupBalancer = Object.freeze({
  name: 'sticky',
  cooperative: false,
  /**
   * The previous assignment and its generation travel in the user data, as Java's StickyAssignor sends
   * them; an eager member has revoked everything before it joins, so they are not "owned" partitions.
   * A member that never had an assignment (generation -1, nothing owned) sends no user data, as in Java.
   */
  subscriptionMetadata(topics: string[], owned: Map<string, number[]>, generation: number, rack: string | null): Buffer {
    const hadAssignment = generation >= 0 || owned.size > 0
    const userData = hadAssignment ? encodeStickyUserData([...owned].map(([topic, partitions]) => ({ topic, partitions })), generation) : null
    return eagerSubscription(topics, generation, rack, userData)
  },
  balance(members: GroupMember[], partitions: ReadonlyMap<string, number>, racks?: PartitionRacks): Plan {
    return stickyAssign(members, partitions, racks, stickyMemberData).toPlan()
  },
})

/** stickyMemberData reads an eager sticky member's claims from its user data, as Java's StickyAssignor does. */
function stickyMemberData(m: GroupMember): MemberData {
  if (m.userData === null || m.userData.length === 0) return { partitions: [], generation: null }
  return decodeStickyUserData(m.userData) ?? { partitions: [], generation: -1 }
}

const DEFAULT_GENERATION = -1

/**
 * stickyAssign runs the sticky core over members in JoinGroup order. `memberData` says what each member
 * claims: eager sticky reads it from user data, cooperative-sticky from the owned partitions.
 */
export function stickyAssign(
  joinOrder: readonly GroupMember[],
  partitions: ReadonlyMap<string, number>,
  racks: PartitionRacks | undefined,
  memberData: (m: GroupMember) => MemberData,
): StickyResult {
  // Index members in the order Java's HashMap of subscriptions visits them.
  const order = javaHashMapOrder(joinOrder.map((m) => m.memberId))
  const members = order.map((i) => joinOrder[i]!)
  const ctx = new Context(members, partitions, racks)
  const claims = members.map((m) => memberData(m))

  const { equal, owned, multiplyClaimed, maxGeneration } = collectOwned(ctx, claims)
  let assignedByHashOrder: number[][]
  let transferring: Map<number, number> | null
  if (members.length === 0) {
    assignedByHashOrder = []
    transferring = new Map()
  } else if (equal) {
    const b = new ConstrainedBuilder(ctx, owned, multiplyClaimed)
    assignedByHashOrder = b.build()
    transferring = b.transferring
  } else {
    assignedByHashOrder = new GeneralBuilder(ctx, owned, claims, maxGeneration).build()
    transferring = null
  }

  // Back to JoinGroup order.
  const assigned: number[][] = new Array(joinOrder.length)
  const assignedTo = new Int32Array(ctx.total).fill(-1)
  for (let h = 0; h < order.length; h++) {
    assigned[order[h]!] = assignedByHashOrder[h]!
    for (const pid of assignedByHashOrder[h]!) assignedTo[pid] = order[h]!
  }
  let byJoinOrder: Map<number, number> | null = null
  if (transferring !== null) {
    byJoinOrder = new Map()
    for (const [pid, h] of transferring) byJoinOrder.set(pid, order[h]!)
  }
  const claimedBy = new Int32Array(ctx.total).fill(-1)
  for (let h = 0; h < owned.length; h++) for (const pid of owned[h]!) claimedBy[pid] = order[h]!
  return {
    topics: ctx.topics,
    base: ctx.base,
    assigned,
    assignedTo,
    transferring: byJoinOrder,
    claimedBy,
    multiplyClaimed,
    partitionId: (topic, partition) => ctx.partitionId(topic, partition),
    toPlan: (drop) => toPlan(ctx, joinOrder, assigned, drop),
  }
}

/** toPlan groups each member's partition ids by topic; ids ascend with topic name, then partition. */
function toPlan(ctx: Context, members: readonly GroupMember[], assigned: readonly number[][], drop: Uint8Array | undefined): Plan {
  const plan: Plan = new Map()
  for (let i = 0; i < members.length; i++) {
    const topics = new Map<string, number[]>()
    plan.set(members[i]!.memberId, topics)
    const pids = Int32Array.from(assigned[i]!).sort()
    let t = -1
    let parts: number[] = []
    for (const pid of pids) {
      if (drop !== undefined && drop[pid] === 1) continue
      if (ctx.partTopic[pid] !== t) {
        t = ctx.partTopic[pid]!
        topics.set(ctx.topics[t]!, (parts = []))
      }
      parts.push(ctx.partNum[pid]!)
    }
  }
  return plan
}

/** Context numbers the topics and partitions being assigned and holds the members' rack information. */
class Context {
  readonly members: readonly GroupMember[]
  readonly n: number
  /** topics are the subscribed topics with partitions, sorted by name. */
  readonly topics: string[]
  readonly topicIndex = new Map<string, number>()
  readonly base: Int32Array
  readonly total: number
  readonly partTopic: Int32Array
  readonly partNum: Int32Array
  readonly #topicHash: Int32Array
  /** subscribed[c] are the topic indexes member c subscribes to. */
  readonly subscribed: Array<Set<number>>
  /** idRank orders members by member id (Java's natural String order). */
  readonly idRank: Int32Array
  readonly rack: RackInfo

  constructor(members: readonly GroupMember[], partitions: ReadonlyMap<string, number>, racks: PartitionRacks | undefined) {
    this.members = members
    this.n = members.length
    const names = new Set<string>()
    for (const m of members) for (const t of m.topics) if ((partitions.get(t) ?? 0) > 0) names.add(t)
    this.topics = [...names].sort(compareStrings)
    this.base = new Int32Array(this.topics.length + 1)
    this.#topicHash = new Int32Array(this.topics.length)
    for (let t = 0; t < this.topics.length; t++) {
      this.topicIndex.set(this.topics[t]!, t)
      this.#topicHash[t] = javaStringHash(this.topics[t]!)
      this.base[t + 1] = this.base[t]! + partitions.get(this.topics[t]!)!
    }
    this.total = this.base[this.topics.length]!
    this.partTopic = new Int32Array(this.total)
    this.partNum = new Int32Array(this.total)
    for (let t = 0; t < this.topics.length; t++) {
      for (let pid = this.base[t]!, p = 0; pid < this.base[t + 1]!; pid++, p++) {
        this.partTopic[pid] = t
        this.partNum[pid] = p
      }
    }
    this.subscribed = members.map((m) => {
      const s = new Set<number>()
      for (const t of m.topics) {
        const i = this.topicIndex.get(t)
        if (i !== undefined) s.add(i)
      }
      return s
    })
    const byId = members.map((_, i) => i).sort((a, b) => compareStrings(members[a]!.memberId, members[b]!.memberId))
    this.idRank = new Int32Array(this.n)
    byId.forEach((c, rank) => (this.idRank[c] = rank))
    this.rack = new RackInfo(this, racks)
  }

  partitionId(topic: string, partition: number): number {
    const t = this.topicIndex.get(topic)
    if (t === undefined || partition < 0 || partition >= this.base[t + 1]! - this.base[t]!) return -1
    return this.base[t]! + partition
  }

  /** hash is the partition's Java TopicPartition.hashCode. */
  hash(pid: number): number {
    return javaTopicPartitionHash(this.#topicHash[this.partTopic[pid]!]!, this.partNum[pid]!)
  }

  compareById(a: number, b: number): number {
    return this.idRank[a]! - this.idRank[b]!
  }
}

/** RackInfo is Java's AbstractStickyAssignor.RackInfo: which racks members and replicas are in (KIP-881). */
class RackInfo {
  /** used is true when rack-aware assignment applies (Java: consumerRacks is not empty). */
  readonly used: boolean
  /** consumerRack[c] is member c's rack when rack-aware assignment applies, else null. */
  readonly consumerRack: Array<string | null>
  /** partitionRacks[pid] are the replica racks, when rack-aware assignment applies. */
  readonly partitionRacks: Array<Set<string>> | null
  /** numConsumersByPartition counts members in a partition's racks, whenever some member has a rack. */
  readonly numConsumersByPartition: Int32Array | null

  constructor(ctx: Context, racks: PartitionRacks | undefined) {
    const consumersByRack = new Map<string, number>()
    for (const m of ctx.members) {
      const r = rackOf(m)
      if (r !== null) consumersByRack.set(r, (consumersByRack.get(r) ?? 0) + 1)
    }
    this.consumerRack = ctx.members.map(() => null)
    this.partitionRacks = null
    this.numConsumersByPartition = null
    this.used = false
    if (consumersByRack.size === 0) return

    const partitionRacks: Array<Set<string>> = new Array(ctx.total)
    const allPartitionRacks = new Set<string>()
    const counts = new Int32Array(ctx.total)
    for (let pid = 0; pid < ctx.total; pid++) {
      const set = new Set(racks?.get(ctx.topics[ctx.partTopic[pid]!]!)?.[ctx.partNum[pid]!] ?? [])
      partitionRacks[pid] = set
      let n = 0
      for (const r of set) {
        allPartitionRacks.add(r)
        n += consumersByRack.get(r) ?? 0
      }
      counts[pid] = n
    }
    // Java sorts unassigned partitions by this count whenever a member has a rack, used or not.
    if (ctx.total > 0) this.numConsumersByPartition = counts
    if (useRackAwareAssignment(new Set(consumersByRack.keys()), allPartitionRacks, partitionRacks)) {
      this.used = true
      this.consumerRack = ctx.members.map((m) => rackOf(m))
      this.partitionRacks = partitionRacks
    }
  }

  /** racksMismatch: member c has a rack and partition pid has no replica in it. */
  racksMismatch(c: number, pid: number): boolean {
    const rack = this.consumerRack[c]
    if (rack === null || rack === undefined) return false
    return !(this.partitionRacks?.[pid]?.has(rack) ?? false)
  }

  /** sortByRackConsumers puts partitions with fewer same-rack members first, so they get them first. */
  sortByRackConsumers(pids: number[]): number[] {
    const counts = this.numConsumersByPartition
    if (counts === null) return pids
    return pids.sort((a, b) => counts[a]! - counts[b]!)
  }

  /** nextRackConsumer is the index of the first member of `list`, from `first` on and wrapping, in pid's racks. */
  nextRackConsumer(pid: number, list: readonly number[], first: number): number {
    const racks = this.partitionRacks?.[pid]
    if (racks === undefined || racks.size === 0) return -1
    for (let i = 0; i < list.length; i++) {
      const index = (first + i) % list.length
      const rack = this.consumerRack[list[index]!]
      if (rack !== null && rack !== undefined && racks.has(rack)) return index
    }
    return -1
  }
}

/**
 * collectOwned is Java's allSubscriptionsEqual: it decides whether all members subscribe to the same topics
 * and settles conflicting claims. A partition claimed by two members of the same generation is taken from
 * both (and remembered, so the cooperative protocol revokes it first); between generations the newer claim
 * wins, so a member that rejoins with a stale view cannot steal partitions (KIP-792). Members are visited
 * in Java's HashMap order because the order decides conflicts. The generation a claim is compared against
 * is the subscription's, not the user data's, exactly as in Java.
 */
function collectOwned(ctx: Context, claims: readonly MemberData[]): { equal: boolean; owned: Array<Set<number>>; multiplyClaimed: Set<number>; maxGeneration: number } {
  const members = ctx.members
  let equal = true
  let reference: Set<string> | null = null
  let maxGeneration = DEFAULT_GENERATION
  const owned: Array<Set<number>> = []
  const multiplyClaimed = new Set<number>()
  const previousOwner = new Int32Array(ctx.total).fill(-1)
  for (let c = 0; c < members.length; c++) {
    const topics = new Set(members[c]!.topics)
    if (reference === null) reference = topics
    else if (equal && (topics.size !== reference.size || [...topics].some((t) => !reference!.has(t)))) equal = false

    const generation = claims[c]!.generation ?? DEFAULT_GENERATION
    maxGeneration = Math.max(maxGeneration, generation)
    const mine = new Set<number>()
    owned.push(mine)
    for (const tp of claims[c]!.partitions) {
      const t = ctx.topicIndex.get(tp.topic)
      if (t === undefined) continue
      const base = ctx.base[t]!
      const n = ctx.base[t + 1]! - base
      for (const p of tp.partitions) {
        if (p < 0 || p >= n) continue
        const pid = base + p
        if (mine.has(pid)) continue
        const other = previousOwner[pid]!
        if (other < 0) {
          mine.add(pid)
          previousOwner[pid] = c
          continue
        }
        const otherGeneration = Math.max(members[other]!.generation, DEFAULT_GENERATION)
        if (generation === otherGeneration) {
          multiplyClaimed.add(pid)
          owned[other]!.delete(pid)
          previousOwner[pid] = c
        } else if (generation > otherGeneration) {
          mine.add(pid)
          owned[other]!.delete(pid)
          previousOwner[pid] = c
        }
      }
    }
  }
  return { equal, owned, multiplyClaimed, maxGeneration }
}

/**
 * ConstrainedBuilder is Java's ConstrainedAssignmentBuilder, for groups whose members all subscribe to
 * the same topics. Quotas are floor(P/M) and ceil(P/M); P % M members may reach the larger one. A member
 * keeps what it owned up to a quota (the first members, in HashMap order, to own enough keep the larger
 * quota), then unassigned partitions go round robin to members below quota, in member-id order, first to
 * members in a replica's rack when racks apply.
 */
class ConstrainedBuilder {
  readonly transferring = new Map<number, number>()
  readonly #ctx: Context
  readonly #owned: Array<Set<number>>
  readonly #multiplyClaimed: Set<number>
  readonly #maybeRevoked = new Map<number, number>()
  readonly #assignment: number[][]
  #underMin: number[] = []
  #exactlyMin: number[] = []
  readonly #minQuota: number
  readonly #maxQuota: number
  readonly #expectedOverMin: number
  #currentOverMin = 0

  constructor(ctx: Context, owned: Array<Set<number>>, multiplyClaimed: Set<number>) {
    this.#ctx = ctx
    this.#owned = owned
    this.#multiplyClaimed = multiplyClaimed
    this.#minQuota = Math.floor(ctx.total / ctx.n)
    this.#maxQuota = Math.ceil(ctx.total / ctx.n)
    this.#expectedOverMin = ctx.total % ctx.n
    this.#assignment = ctx.members.map(() => [])
  }

  build(): number[][] {
    const ctx = this.#ctx
    const assigned = this.#assignOwned()
    const unassigned: number[] = []
    for (let pid = 0; pid < ctx.total; pid++) if (!assigned[pid]) unassigned.push(pid)
    const byId = (a: number, b: number) => ctx.compareById(a, b)
    this.#underMin.sort(byId)
    this.#exactlyMin.sort(byId)
    const rest = this.#assignRackAwareRoundRobin(ctx.rack.sortByRackConsumers(unassigned))
    this.#assignRoundRobin(rest)
    this.#verifyUnfilled()
    return this.#assignment
  }

  #assignOwned(): Uint8Array {
    const ctx = this.#ctx
    const assigned = new Uint8Array(ctx.total)
    const take = (c: number, pids: number[]) => {
      for (const pid of pids) {
        this.#assignment[c]!.push(pid)
        assigned[pid] = 1
      }
    }
    for (let c = 0; c < ctx.n; c++) {
      let owned: number[] = []
      for (const pid of this.#owned[c]!) {
        if (ctx.rack.racksMismatch(c, pid)) this.#maybeRevoked.set(pid, c)
        else owned.push(pid)
      }
      // Java keeps the lowest partition numbers, across topics, when it must give some up.
      owned.sort((a, b) => ctx.partNum[a]! - ctx.partNum[b]! || ctx.partTopic[a]! - ctx.partTopic[b]!)
      if (this.#multiplyClaimed.size > 0) owned = owned.filter((pid) => !this.#multiplyClaimed.has(pid))

      if (owned.length < this.#minQuota) {
        take(c, owned)
        this.#underMin.push(c)
      } else if (owned.length >= this.#maxQuota && this.#currentOverMin < this.#expectedOverMin) {
        if (++this.#currentOverMin === this.#expectedOverMin) this.#exactlyMin = []
        take(c, owned.slice(0, this.#maxQuota))
        for (const pid of owned.slice(this.#maxQuota)) this.#maybeRevoked.set(pid, c)
      } else {
        take(c, owned.slice(0, this.#minQuota))
        for (const pid of owned.slice(this.#minQuota)) this.#maybeRevoked.set(pid, c)
        if (this.#currentOverMin < this.#expectedOverMin) this.#exactlyMin.push(c)
      }
    }
    return assigned
  }

  /** #assignRackAwareRoundRobin deals partitions to members in a replica's rack; returns those left over. */
  #assignRackAwareRoundRobin(unassigned: number[]): number[] {
    const rack = this.#ctx.rack
    if (!rack.used) return unassigned
    const rest: number[] = []
    let nextIndex = 0
    for (const pid of unassigned) {
      let consumer = -1
      let index = rack.nextRackConsumer(pid, this.#underMin, nextIndex)
      if (index >= 0) {
        consumer = this.#underMin[index]!
        const count = this.#assignment[consumer]!.length + 1
        if (count >= this.#minQuota) {
          this.#underMin.splice(index, 1)
          if (count < this.#maxQuota && this.#currentOverMin < this.#expectedOverMin) this.#exactlyMin.push(consumer)
        } else {
          index++
        }
        nextIndex = this.#underMin.length === 0 ? 0 : index % this.#underMin.length
      } else if (this.#exactlyMin.length > 0) {
        const first = rack.nextRackConsumer(pid, this.#exactlyMin, 0)
        if (first >= 0) {
          consumer = this.#exactlyMin[first]!
          if (this.#assignment[consumer]!.length + 1 === this.#maxQuota) {
            this.#exactlyMin.splice(first, 1)
            if (++this.#currentOverMin === this.#expectedOverMin) this.#exactlyMin = []
          }
        }
      }
      if (consumer >= 0) this.#assignNew(pid, consumer)
      else rest.push(pid)
    }
    return rest
  }

  #assignRoundRobin(unassigned: number[]): void {
    // `next` walks #underMin like Java's iterator, which restarts from the front when it runs out.
    let next = 0
    for (const pid of unassigned) {
      let consumer: number
      if (next < this.#underMin.length) {
        consumer = this.#underMin[next++]!
      } else if (this.#underMin.length === 0 && this.#exactlyMin.length === 0) {
        throw new Error('sticky balancer: no member left below its quota, but partitions remain to assign')
      } else if (this.#underMin.length === 0) {
        consumer = this.#exactlyMin.shift()!
      } else {
        next = 0
        consumer = this.#underMin[next++]!
      }
      const count = this.#assignNew(pid, consumer)
      if (count === this.#minQuota) {
        this.#underMin.splice(--next, 1)
        this.#exactlyMin.push(consumer)
      } else if (count === this.#maxQuota) {
        this.#currentOverMin++
      }
    }
  }

  #assignNew(pid: number, consumer: number): number {
    const mine = this.#assignment[consumer]!
    mine.push(pid)
    // Everything a member owned and may keep is assigned already, so this partition is new to it: if
    // another member gave it up, or several claimed it, the cooperative protocol revokes it first.
    const from = this.#maybeRevoked.get(pid)
    if ((from !== undefined && from !== consumer) || this.#multiplyClaimed.has(pid)) this.transferring.set(pid, consumer)
    return mine.length
  }

  #verifyUnfilled(): void {
    if (this.#underMin.length === 0) return
    if (this.#currentOverMin !== this.#expectedOverMin) {
      throw new Error('sticky balancer: fewer members reached the larger quota than expected, and no partitions remain')
    }
    for (const c of this.#underMin) {
      if (this.#assignment[c]!.length !== this.#minQuota) {
        throw new Error(`sticky balancer: member ${this.#ctx.members[c]!.memberId} is below its quota and no partitions remain`)
      }
    }
  }
}

/** SortedMembers is Java's TreeSet of members ordered by (partition count, member id), as a sorted array. */
class SortedMembers {
  readonly list: number[] = []
  readonly #count: Int32Array
  readonly #rank: Int32Array

  constructor(count: Int32Array, rank: Int32Array) {
    this.#count = count
    this.#rank = rank
  }

  #lowerBound(c: number): number {
    const count = this.#count[c]!
    const rank = this.#rank[c]!
    let lo = 0
    let hi = this.list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const m = this.list[mid]!
      if (this.#count[m]! < count || (this.#count[m] === count && this.#rank[m]! < rank)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add(c: number): void {
    const i = this.#lowerBound(c)
    if (this.list[i] !== c) this.list.splice(i, 0, c)
  }

  /** remove must be called before the member's count changes, as in Java. */
  remove(c: number): void {
    const i = this.#lowerBound(c)
    if (this.list[i] === c) this.list.splice(i, 1)
  }

  get size(): number {
    return this.list.length
  }

  first(): number {
    return this.list[0]!
  }

  last(): number {
    return this.list[this.list.length - 1]!
  }
}

/**
 * PartitionMovements is Java's record of the partitions moved during one rebalance, used to keep the
 * assignment sticky: when a partition of topic t must go from A to B and some partition of t already
 * moved from B to A, that one moves back instead. Java picks the first of those in its HashSet's order,
 * which JavaHashOrder reproduces.
 */
class PartitionMovements {
  readonly #ctx: Context
  /** pid → [source, destination] of its net movement so far. */
  readonly #movements = new Map<number, [number, number]>()
  /** topic → (source·M + destination) → partitions moved that way. */
  readonly #byTopic = new Map<number, Map<number, JavaHashOrder>>()

  constructor(ctx: Context) {
    this.#ctx = ctx
  }

  #pair(src: number, dst: number): number {
    return src * this.#ctx.n + dst
  }

  #removeRecord(pid: number): [number, number] {
    const pair = this.#movements.get(pid)!
    this.#movements.delete(pid)
    const topic = this.#ctx.partTopic[pid]!
    const byPair = this.#byTopic.get(topic)!
    const key = this.#pair(pair[0], pair[1])
    const set = byPair.get(key)!
    set.delete(pid)
    if (set.size === 0) byPair.delete(key)
    if (byPair.size === 0) this.#byTopic.delete(topic)
    return pair
  }

  #addRecord(pid: number, src: number, dst: number): void {
    this.#movements.set(pid, [src, dst])
    const topic = this.#ctx.partTopic[pid]!
    let byPair = this.#byTopic.get(topic)
    if (byPair === undefined) this.#byTopic.set(topic, (byPair = new Map()))
    const key = this.#pair(src, dst)
    let set = byPair.get(key)
    if (set === undefined) byPair.set(key, (set = new JavaHashOrder()))
    set.add(pid, this.#ctx.hash(pid))
  }

  move(pid: number, from: number, to: number): void {
    if (this.#movements.has(pid)) {
      const [src] = this.#removeRecord(pid)
      // Moving back to where it started cancels the movement.
      if (src !== to) this.#addRecord(pid, src, to)
    } else {
      this.#addRecord(pid, from, to)
    }
  }

  /** partitionToMove returns the partition to move instead of pid when one can go back where it came from. */
  partitionToMove(pid: number, from: number, to: number): number {
    const byPair = this.#byTopic.get(this.#ctx.partTopic[pid]!)
    if (byPair === undefined) return pid
    const earlier = this.#movements.get(pid)
    if (earlier !== undefined) from = earlier[0]
    const reverse = byPair.get(this.#pair(to, from))
    if (reverse === undefined) return pid
    return reverse.first()!
  }
}

/**
 * GeneralBuilder is Java's GeneralAssignmentBuilder, for groups with differing subscriptions. Member
 * indexes are in Java's HashMap order; the owner of every partition is kept in one array, with per-member
 * partition sets and per-topic owner counts beside it.
 */
class GeneralBuilder {
  readonly #ctx: Context
  readonly #claims: readonly MemberData[]
  readonly #maxGeneration: number
  /** consumersOf[t] are the members subscribed to topic t (Java's topic2AllPotentialConsumers). */
  readonly #consumersOf: number[][]
  /** maxSize[c] is every partition member c could be given. */
  readonly #maxSize: Int32Array
  readonly #owner: Int32Array
  readonly #count: Int32Array
  readonly #assigned: Array<Set<number>>
  /** topicOwners[t] counts, per member, the partitions of topic t it holds. */
  readonly #topicOwners: Array<Map<number, number>>
  readonly #sorted: SortedMembers
  readonly #movements: PartitionMovements
  readonly #prevAssignment = new Map<number, { consumer: number; generation: number }>()
  #revocationRequired = false
  /** fixed[c] is 1 for a member that can neither gain nor lose a partition, left out of reassignment. */
  readonly #fixed: Uint8Array
  /** balanced caches #isBalanced until the next change to the assignment. */
  #balanced: boolean | null = null
  /** Scratch for isBalanced: the most loaded owner per topic, valid when #maxOwnerStamp[t] === #stamp. */
  readonly #maxOwner: Int32Array
  readonly #maxOwnerStamp: Int32Array
  #stamp = 0

  constructor(ctx: Context, owned: Array<Set<number>>, claims: readonly MemberData[], maxGeneration: number) {
    this.#ctx = ctx
    this.#claims = claims
    this.#maxGeneration = maxGeneration
    const T = ctx.topics.length
    this.#consumersOf = Array.from({ length: T }, () => [])
    this.#maxSize = new Int32Array(ctx.n)
    for (let c = 0; c < ctx.n; c++) {
      for (const t of ctx.subscribed[c]!) {
        this.#consumersOf[t]!.push(c)
        this.#maxSize[c] += ctx.base[t + 1]! - ctx.base[t]!
      }
    }
    this.#owner = new Int32Array(ctx.total).fill(-1)
    this.#count = new Int32Array(ctx.n)
    this.#assigned = ctx.members.map(() => new Set())
    this.#topicOwners = Array.from({ length: T }, () => new Map())
    this.#sorted = new SortedMembers(this.#count, ctx.idRank)
    this.#movements = new PartitionMovements(ctx)
    this.#maxOwner = new Int32Array(T)
    this.#maxOwnerStamp = new Int32Array(T)
    this.#fixed = new Uint8Array(ctx.n)

    // Keep every claim that is still valid; a claim on a topic the member dropped, or outside its rack,
    // is given up, and then Java only considers moves that revoke (see #balance).
    for (let c = 0; c < ctx.n; c++) {
      for (const pid of owned[c]!) {
        if (!ctx.subscribed[c]!.has(ctx.partTopic[pid]!) || ctx.rack.racksMismatch(c, pid)) this.#revocationRequired = true
        else this.#give(pid, c)
      }
    }
  }

  build(): number[][] {
    this.#prepopulatePrevious()
    const sortedAll = this.#sortedAllPartitions()
    const unassigned = sortedAll.filter((pid) => this.#owner[pid] === -1)
    for (let c = 0; c < this.#ctx.n; c++) this.#sorted.add(c)
    this.#balance(sortedAll, unassigned)
    return this.#assigned.map((s) => [...s])
  }

  #give(pid: number, c: number): void {
    this.#balanced = null
    this.#owner[pid] = c
    this.#count[c]++
    this.#assigned[c]!.add(pid)
    const owners = this.#topicOwners[this.#ctx.partTopic[pid]!]!
    owners.set(c, (owners.get(c) ?? 0) + 1)
  }

  #take(pid: number, c: number): void {
    this.#balanced = null
    this.#owner[pid] = -1
    this.#count[c]--
    this.#assigned[c]!.delete(pid)
    const owners = this.#topicOwners[this.#ctx.partTopic[pid]!]!
    const n = owners.get(c)! - 1
    if (n === 0) owners.delete(c)
    else owners.set(c, n)
  }

  /**
   * #prepopulatePrevious records, for partitions claimed by members of older generations, the newest such
   * claim: the partition's previous owner, to which Java prefers to move it back (KIP-341).
   */
  #prepopulatePrevious(): void {
    const ctx = this.#ctx
    for (let c = 0; c < ctx.n; c++) {
      const claim = this.#claims[c]!
      let generation: number
      if (claim.generation !== null && claim.generation < this.#maxGeneration) generation = claim.generation
      else if (claim.generation === null && this.#maxGeneration > DEFAULT_GENERATION) generation = DEFAULT_GENERATION
      else continue
      for (const tp of claim.partitions) {
        for (const p of tp.partitions) {
          const pid = ctx.partitionId(tp.topic, p)
          if (pid < 0) continue
          const prev = this.#prevAssignment.get(pid)
          if (prev === undefined || generation > prev.generation) this.#prevAssignment.set(pid, { consumer: c, generation })
        }
      }
    }
  }

  /** #sortedAllPartitions lists partitions by topic, topics with fewer subscribers first, then by name. */
  #sortedAllPartitions(): number[] {
    const ctx = this.#ctx
    const topics = ctx.topics.map((_, t) => t)
    topics.sort((a, b) => this.#consumersOf[a]!.length - this.#consumersOf[b]!.length || a - b)
    const out: number[] = []
    for (const t of topics) for (let pid = ctx.base[t]!; pid < ctx.base[t + 1]!; pid++) out.push(pid)
    return out
  }

  /** #firstSubscriber is the least loaded member (then lowest id) subscribed to the topic, optionally in a replica's rack. */
  #firstSubscriber(pid: number, matchRack: boolean): number {
    const ctx = this.#ctx
    const topic = ctx.partTopic[pid]!
    for (const c of this.#sorted.list) {
      if (ctx.subscribed[c]!.has(topic) && !(matchRack && ctx.rack.racksMismatch(c, pid))) return c
    }
    return -1
  }

  #maybeAssign(pids: number[], matchRack: boolean): number[] {
    const left: number[] = []
    for (const pid of pids) {
      const c = this.#firstSubscriber(pid, matchRack)
      if (c < 0) {
        left.push(pid)
        continue
      }
      this.#sorted.remove(c)
      this.#give(pid, c)
      this.#sorted.add(c)
    }
    return left
  }

  #canConsumerParticipate(c: number): boolean {
    if (this.#count[c]! < this.#maxSize[c]!) return true
    for (const pid of this.#assigned[c]!) if (this.#consumersOf[this.#ctx.partTopic[pid]!]!.length >= 2) return true
    return false
  }

  #balance(sortedAll: number[], unassigned: number[]): void {
    const ctx = this.#ctx
    const initializing = this.#count[this.#sorted.last()] === 0

    // First with rack matching, then whatever is left without.
    let toAssign = unassigned
    if (ctx.rack.used) toAssign = this.#maybeAssign(unassigned, true)
    this.#maybeAssign(toAssign, false)

    // Only topics with two or more subscribers, and members that could gain or lose something, take part.
    const movable = (pid: number) => this.#consumersOf[ctx.partTopic[pid]!]!.length >= 2
    const reassignable = sortedAll.filter(movable)
    const reassignableUnassigned = unassigned.filter(movable)
    const fixed: number[] = []
    const participants: number[] = []
    for (let c = 0; c < ctx.n; c++) {
      if (this.#canConsumerParticipate(c)) {
        participants.push(c)
      } else {
        this.#sorted.remove(c)
        this.#fixed[c] = 1
        fixed.push(c)
      }
    }
    this.#balanced = null
    const before = this.#owner.slice()
    const scoreBefore = this.#balanceScore(participants)

    // Without revocations already due to subscription changes, first try moving only new partitions.
    if (!this.#revocationRequired) this.#performReassignments(reassignableUnassigned)
    const performed = this.#performReassignments(reassignable)

    // Keep the moves only when they improved the balance (Java checks the second pass only).
    if (!initializing && performed && this.#balanceScore(participants) >= scoreBefore) this.#restore(before)
    for (const c of fixed) this.#sorted.add(c)
  }

  #restore(owner: Int32Array): void {
    for (let pid = 0; pid < owner.length; pid++) {
      const now = this.#owner[pid]!
      if (now === owner[pid]) continue
      if (now >= 0) this.#take(pid, now)
      this.#give(pid, owner[pid]!)
    }
  }

  /**
   * #balanceScore is the sum over member pairs of the difference in partition counts, in Java's int
   * arithmetic (it wraps the same way), computed from the sorted counts in O(M log M).
   */
  #balanceScore(members: number[]): number {
    const counts = members.map((c) => this.#count[c]!).sort((a, b) => a - b)
    let score = 0
    for (let k = 0; k < counts.length; k++) score = (score + Math.imul(counts[k]!, 2 * k - counts.length + 1)) | 0
    return score
  }

  #performReassignments(pids: number[]): boolean {
    let performed = false
    let modified: boolean
    do {
      modified = false
      for (let i = 0; i < pids.length && !this.#isBalanced(); i++) {
        const pid = pids[i]!
        const consumer = this.#owner[pid]!
        const prev = this.#prevAssignment.get(pid)
        if (prev !== undefined && this.#movableBackTo(pid, prev.consumer) && this.#count[consumer]! > this.#count[prev.consumer]! + 1) {
          this.#reassign(pid, prev.consumer)
          performed = modified = true
          continue
        }
        // Java first looks for a better-placed member in a replica's rack, then anywhere; either way the
        // partition goes to the least loaded subscriber, so one search covers both.
        const to = this.#firstSubscriber(pid, false)
        if (to >= 0 && this.#count[consumer]! > this.#count[to]! + 1) {
          this.#reassign(pid, to)
          performed = modified = true
        }
      }
    } while (modified)
    return performed
  }

  /** #movableBackTo guards against moving to a previous owner that sits this rebalance out or left the topic. */
  #movableBackTo(pid: number, c: number): boolean {
    return this.#fixed[c] === 0 && this.#ctx.subscribed[c]!.has(this.#ctx.partTopic[pid]!)
  }

  #reassign(pid: number, to: number): void {
    const actual = this.#movements.partitionToMove(pid, this.#owner[pid]!, to)
    const from = this.#owner[actual]!
    this.#sorted.remove(from)
    this.#sorted.remove(to)
    this.#movements.move(actual, from, to)
    this.#take(actual, from)
    this.#give(actual, to)
    this.#sorted.add(to)
    this.#sorted.add(from)
  }

  /**
   * #isBalanced is Java's isBalanced: counts within one of each other, or no member below its maximum
   * could take a partition of its topics from a member with two or more partitions more than it has.
   */
  #isBalanced(): boolean {
    // Most partitions tried do not move: the answer stands until something does.
    return (this.#balanced ??= this.#computeBalanced())
  }

  #computeBalanced(): boolean {
    const sorted = this.#sorted.list
    if (sorted.length === 0) return true
    const max = this.#count[sorted[sorted.length - 1]!]!
    if (this.#count[sorted[0]!]! >= max - 1) return true
    this.#stamp++
    for (const c of sorted) {
      const count = this.#count[c]!
      // Nobody holds more than max, so from here on no member can be short by two.
      if (count + 1 >= max) return true
      if (count === this.#maxSize[c]) continue
      for (const t of this.#ctx.subscribed[c]!) if (this.#maxOwnerCount(t) > count + 1) return false
    }
    return true
  }

  #maxOwnerCount(t: number): number {
    if (this.#maxOwnerStamp[t] === this.#stamp) return this.#maxOwner[t]!
    let max = 0
    for (const c of this.#topicOwners[t]!.keys()) if (this.#count[c]! > max) max = this.#count[c]!
    this.#maxOwner[t] = max
    this.#maxOwnerStamp[t] = this.#stamp
    return max
  }
}
