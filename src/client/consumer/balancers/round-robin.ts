/**
 * The roundrobin balancer: every partition of every subscribed topic, topics in name order, is dealt to the
 * next member in a circle of members sorted as Java sorts them (static members first, KIP-345), skipping
 * members not subscribed to the partition's topic. Java's RoundRobinAssignor, which ignores racks.
 */
import type { GroupBalancer, GroupMember, Plan } from './index.js'
import { PlanBuilder, compareMemberInfo, eagerSubscription, subscribedPartitionCounts } from './plan.js'
import { compareStrings } from './protocol.js'

/** roundRobinBalancer returns the 'roundrobin' balancer (eager), equivalent to Java's RoundRobinAssignor. */
export function roundRobinBalancer(): GroupBalancer {
  return ROUND_ROBIN
}

const ROUND_ROBIN: GroupBalancer = Object.freeze({
  name: 'roundrobin',
  cooperative: false,
  subscriptionMetadata(topics: string[], _owned: Map<string, number[]>, generation: number, rack: string | null): Buffer {
    return eagerSubscription(topics, generation, rack, null)
  },
  balance: balanceRoundRobin,
})

function balanceRoundRobin(members: GroupMember[], partitions: ReadonlyMap<string, number>): Plan {
  const plan = new PlanBuilder(members)
  const circle = [...members].sort(compareMemberInfo)
  const subscribed = circle.map((m) => new Set(m.topics))
  const counts = subscribedPartitionCounts(members, partitions)
  const topics = [...counts.keys()].sort(compareStrings)
  let next = 0
  for (const topic of topics) {
    const n = counts.get(topic)!
    for (let p = 0; p < n; p++) {
      // Some member subscribes to every topic here, so the search ends.
      while (!subscribed[next]!.has(topic)) next = (next + 1) % circle.length
      plan.add(circle[next]!.memberId, topic, p)
      next = (next + 1) % circle.length
    }
  }
  return plan.finish()
}
