/** Shared checks for the balancer tests: plan validity, balance, and a group that rebalances round after round. */
import assert from 'node:assert/strict'
import type { GroupBalancer, GroupMember, Plan } from '../../../../src/client/consumer/balancers/index.js'
import { memberFromJoin } from '../../../../src/client/consumer/balancers/protocol.js'

/** MemberState is what one member's client knows between rebalances. */
export interface MemberState {
  id: string
  instanceId: string | null
  topics: string[]
  rack: string | null
  owned: Map<string, number[]>
  generation: number
}

/** joinMembers encodes every member's subscription with the balancer and decodes it as a leader would. */
export function joinMembers(balancer: GroupBalancer, states: readonly MemberState[]): GroupMember[] {
  return states.map((s) => memberFromJoin(s.id, s.instanceId, balancer.subscriptionMetadata(s.topics, s.owned, s.generation, s.rack)))
}

/** assertValid checks that every subscribed partition is assigned at most once (exactly once unless `pending` may hold some), and only to a subscriber. */
export function assertValid(plan: Plan, members: readonly GroupMember[], partitions: ReadonlyMap<string, number>, opts: { complete: boolean } = { complete: true }): void {
  assert.equal(plan.size, members.length, 'every member has an entry')
  const seen = new Map<string, string>()
  for (const m of members) {
    const topics = plan.get(m.memberId)
    assert.ok(topics !== undefined, `member ${m.memberId} missing from the plan`)
    for (const [topic, parts] of topics) {
      assert.ok(m.topics.includes(topic), `${m.memberId} got ${topic}, which it does not subscribe to`)
      const n = partitions.get(topic) ?? 0
      assert.deepEqual(parts, [...parts].sort((a, b) => a - b), 'partitions ascending')
      for (const p of parts) {
        assert.ok(p >= 0 && p < n, `${topic}/${p} does not exist`)
        const key = `${topic}/${p}`
        assert.ok(!seen.has(key), `${key} assigned to ${seen.get(key)} and ${m.memberId}`)
        seen.set(key, m.memberId)
      }
    }
  }
  if (!opts.complete) return
  const subscribed = new Set(members.flatMap((m) => m.topics))
  for (const [topic, n] of partitions) {
    if (!subscribed.has(topic)) continue
    for (let p = 0; p < n; p++) assert.ok(seen.has(`${topic}/${p}`), `${topic}/${p} unassigned`)
  }
}

/** counts returns each member's number of partitions. */
export function counts(plan: Plan): number[] {
  return [...plan.values()].map((topics) => [...topics.values()].reduce((n, parts) => n + parts.length, 0))
}

/** spread is the difference between the largest and smallest partition count. */
export function spread(plan: Plan): number {
  const c = counts(plan)
  return c.length === 0 ? 0 : Math.max(...c) - Math.min(...c)
}

/** planKeys lists a member's partitions as "topic/partition" strings. */
export function planKeys(plan: Plan, memberId: string): Set<string> {
  const out = new Set<string>()
  for (const [topic, parts] of plan.get(memberId) ?? []) for (const p of parts) out.add(`${topic}/${p}`)
  return out
}

/** ownedKeys lists a member state's owned partitions as "topic/partition" strings. */
export function ownedKeys(s: MemberState): Set<string> {
  const out = new Set<string>()
  for (const [topic, parts] of s.owned) for (const p of parts) out.add(`${topic}/${p}`)
  return out
}

/** adopt makes every member take what the plan gave it, at the next generation. */
export function adopt(states: MemberState[], plan: Plan, generation: number): void {
  for (const s of states) {
    s.owned = new Map([...(plan.get(s.id) ?? new Map<string, number[]>())].map(([t, p]) => [t, [...p]]))
    s.generation = generation
  }
}

/** toObject turns a plan into a plain object with topics sorted, for deepEqual against JSON. */
export function toObject(plan: Plan): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {}
  for (const [member, topics] of plan) {
    out[member] = {}
    for (const t of [...topics.keys()].sort()) out[member]![t] = topics.get(t)!
  }
  return out
}
