/**
 * The range balancer: per topic, members sorted (static members first, KIP-345) take consecutive ranges of
 * partitions, the first `partitions % members` of them one more than the rest. With racks (KIP-881) a
 * member first takes partitions with a replica in its rack, and topics with the same partition count and
 * the same members are assigned together so a member gets the same partition numbers of each (co-partitioned
 * joins keep working). Java's RangeAssignor, decision for decision.
 */
import type { GroupBalancer, GroupMember, PartitionRacks, Plan } from './index.js'
import { PlanBuilder, compareMemberInfo, eagerSubscription, rackOf, subscribedPartitionCounts } from './plan.js'

/** rangeBalancer returns the 'range' balancer (eager), equivalent to Java's RangeAssignor. */
export function rangeBalancer(): GroupBalancer {
  return RANGE
}

const RANGE: GroupBalancer = Object.freeze({
  name: 'range',
  cooperative: false,
  subscriptionMetadata(topics: string[], _owned: Map<string, number[]>, generation: number, rack: string | null): Buffer {
    return eagerSubscription(topics, generation, rack, null)
  },
  balance: balanceRange,
})

function balanceRange(members: GroupMember[], partitions: ReadonlyMap<string, number>, racks?: PartitionRacks): Plan {
  const plan = new PlanBuilder(members)
  const consumersPerTopic = new Map<string, GroupMember[]>()
  for (const m of members) {
    for (const t of new Set(m.topics)) {
      let list = consumersPerTopic.get(t)
      if (list === undefined) consumersPerTopic.set(t, (list = []))
      list.push(m)
    }
  }
  const states: TopicState[] = []
  for (const [topic, count] of subscribedPartitionCounts(members, partitions)) {
    states.push(new TopicState(topic, count, consumersPerTopic.get(topic) ?? [], racks?.get(topic)))
  }

  if (states.some((s) => s.needsRackAware)) assignWithRackMatching(states, plan)
  for (const s of states) assignRanges(s, () => true, plan)
  return plan.finish()
}

/** TopicState is one topic's assignment in progress (Java's RangeAssignor.TopicAssignmentState). */
class TopicState {
  readonly topic: string
  /** consumers are the topic's members in Java's order, with their racks. */
  readonly consumers: Map<string, string | null>
  /** key identifies the member set, to find topics that have the same members. */
  readonly key: string
  readonly needsRackAware: boolean
  /** partitionRacks are the replica racks per partition, kept only when some member has a rack. */
  readonly partitionRacks: Array<Set<string>> | null
  /** unassigned keeps partition order as partitions are taken, like Java's LinkedHashSet. */
  readonly unassigned = new Set<number>()
  readonly #numAssigned = new Map<string, number>()
  readonly #perConsumer: number
  #remainingWithExtra: number

  constructor(topic: string, count: number, members: GroupMember[], racks: ReadonlyArray<ReadonlyArray<string>> | undefined) {
    this.topic = topic
    const sorted = [...members].sort(compareMemberInfo)
    this.consumers = new Map(sorted.map((m) => [m.memberId, rackOf(m)]))
    this.key = JSON.stringify([...this.consumers])
    for (let p = 0; p < count; p++) this.unassigned.add(p)
    for (const id of this.consumers.keys()) this.#numAssigned.set(id, 0)
    const n = this.consumers.size
    this.#perConsumer = n === 0 ? 0 : Math.floor(count / n)
    this.#remainingWithExtra = n === 0 ? 0 : count % n

    const consumerRacks = new Set<string>()
    for (const r of this.consumers.values()) if (r !== null) consumerRacks.add(r)
    const partitionRacks: Array<Set<string>> = []
    const allPartitionRacks = new Set<string>()
    if (consumerRacks.size > 0) {
      for (let p = 0; p < count; p++) {
        const set = new Set(racks?.[p] ?? [])
        partitionRacks.push(set)
        for (const r of set) allPartitionRacks.add(r)
      }
      this.partitionRacks = partitionRacks
    } else {
      this.partitionRacks = null
    }
    this.needsRackAware = useRackAwareAssignment(consumerRacks, allPartitionRacks, partitionRacks)
  }

  /** racksMatch: a member without a rack matches every partition; one with a rack, partitions with a replica there. */
  racksMatch(consumer: string, p: number): boolean {
    const rack = this.consumers.get(consumer) ?? null
    if (rack === null) return true
    return this.partitionRacks?.[p]?.has(rack) ?? false
  }

  /** maxAssignable is how many more partitions of this topic the member may take and keep the ranges even. */
  maxAssignable(consumer: string): number {
    const max = this.#perConsumer + (this.#remainingWithExtra > 0 ? 1 : 0) - this.#numAssigned.get(consumer)!
    return Math.max(0, max)
  }

  onAssigned(consumer: string, taken: number[]): void {
    const n = this.#numAssigned.get(consumer)! + taken.length
    this.#numAssigned.set(consumer, n)
    if (n > this.#perConsumer) this.#remainingWithExtra--
    for (const p of taken) this.unassigned.delete(p)
  }
}

/**
 * useRackAwareAssignment is Java's AbstractPartitionAssignor rule: racks matter when some member has a rack
 * that holds replicas, and not every partition has replicas on every rack (then any member is as close as
 * any other, and the plain assignment is kept).
 */
export function useRackAwareAssignment(consumerRacks: ReadonlySet<string>, partitionRacks: ReadonlySet<string>, racksPerPartition: Iterable<ReadonlySet<string>>): boolean {
  if (consumerRacks.size === 0) return false
  let disjoint = true
  for (const r of consumerRacks) {
    if (partitionRacks.has(r)) {
      disjoint = false
      break
    }
  }
  if (disjoint) return false
  for (const racks of racksPerPartition) {
    if (racks.size !== partitionRacks.size) return true
    for (const r of racks) if (!partitionRacks.has(r)) return true
  }
  return false
}

function assign(consumer: string, taken: number[], state: TopicState, plan: PlanBuilder): void {
  for (const p of taken) plan.add(consumer, state.topic, p)
  state.onAssigned(consumer, taken)
}

function assignRanges(state: TopicState, mayAssign: (consumer: string, p: number) => boolean, plan: PlanBuilder): void {
  for (const consumer of state.consumers.keys()) {
    if (state.unassigned.size === 0) break
    const limit = state.maxAssignable(consumer)
    const taken: number[] = []
    for (const p of state.unassigned) {
      if (taken.length >= limit) break
      if (mayAssign(consumer, p)) taken.push(p)
    }
    if (taken.length > 0) assign(consumer, taken, state, plan)
  }
}

function assignWithRackMatching(states: TopicState[], plan: PlanBuilder): void {
  // Topics with the same members and the same partition count are co-partitioned: assign them together.
  const groups = new Map<string, TopicState[]>()
  for (const s of states) {
    const key = `${s.partitionRacks?.length ?? 0}:${s.key}`
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [s])
    else g.push(s)
  }
  for (const group of groups.values()) {
    const first = group[0]!
    if (group.length > 1) assignCoPartitioned([...first.consumers.keys()], first.partitionRacks?.length ?? 0, group, plan)
    else if (first.needsRackAware) assignRanges(first, (c, p) => first.racksMatch(c, p), plan)
  }
}

function assignCoPartitioned(consumers: string[], numPartitions: number, states: TopicState[], plan: PlanBuilder): void {
  const remaining = new Set(consumers)
  for (let p = 0; p < numPartitions; p++) {
    let match: string | undefined
    for (const c of remaining) {
      if (states.every((s) => s.racksMatch(c, p) && s.maxAssignable(c) > 0)) {
        match = c
        break
      }
    }
    if (match === undefined) continue
    for (const s of states) assign(match, [p], s, plan)
    if (states.every((s) => s.maxAssignable(match) === 0)) {
      remaining.delete(match)
      if (remaining.size === 0) break
    }
  }
}
