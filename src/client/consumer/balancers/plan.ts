/** Helpers every balancer shares: Java's member order, the plan under construction, eager subscriptions. */
import type { GroupMember, Plan } from './index.js'
import { compareStrings, encodeSubscription } from './protocol.js'

/**
 * compareMemberInfo orders members as Java's AbstractPartitionAssignor.MemberInfo does (KIP-345): static
 * members (with a group.instance.id) first, by instance id, then dynamic members by member id. Static
 * members keep their place across restarts this way, and so keep their partitions under range and
 * roundrobin.
 */
export function compareMemberInfo(a: GroupMember, b: GroupMember): number {
  if (a.instanceId !== null && b.instanceId !== null) return compareStrings(a.instanceId, b.instanceId)
  if (a.instanceId !== null) return -1
  if (b.instanceId !== null) return 1
  return compareStrings(a.memberId, b.memberId)
}

/** PlanBuilder collects partitions per member and topic and hands out a Plan with partitions ascending. */
export class PlanBuilder {
  readonly #plan: Plan = new Map()

  constructor(members: readonly GroupMember[]) {
    // Java answers every member, including members that get nothing.
    for (const m of members) this.#plan.set(m.memberId, new Map())
  }

  /** add gives a partition to a member. */
  add(memberId: string, topic: string, partition: number): void {
    const topics = this.#plan.get(memberId)!
    let parts = topics.get(topic)
    if (parts === undefined) topics.set(topic, (parts = []))
    parts.push(partition)
  }

  /** finish sorts every member's partitions and returns the plan. */
  finish(): Plan {
    for (const topics of this.#plan.values()) for (const parts of topics.values()) parts.sort((a, b) => a - b)
    return this.#plan
  }
}

/**
 * eagerSubscription is the subscription of an eager balancer's member: topics, the generation and the rack,
 * and no owned partitions, because an eager member has given all of them up before it joins (Java's
 * ConsumerCoordinator revokes everything in onJoinPrepare). `userData` is the balancer's own.
 */
export function eagerSubscription(topics: string[], generation: number, rack: string | null, userData: Buffer | null): Buffer {
  return encodeSubscription({ topics, userData, ownedPartitions: [], generationId: generation, rackId: rack })
}

/**
 * subscribedPartitionCounts returns the topics some member subscribes to that have partitions, as Java's
 * AbstractPartitionAssignor keeps only topics with metadata and at least one partition.
 */
export function subscribedPartitionCounts(members: readonly GroupMember[], partitions: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>()
  for (const m of members) {
    for (const t of m.topics) {
      const n = partitions.get(t)
      if (n !== undefined && n > 0) out.set(t, n)
    }
  }
  return out
}

/** rackOf is a member's rack, with the empty string meaning none, as in Java. */
export function rackOf(m: GroupMember): string | null {
  return m.rackId === null || m.rackId === '' ? null : m.rackId
}
