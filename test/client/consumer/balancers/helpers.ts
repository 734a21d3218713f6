/** Shared checks for the balancer tests: plan validity, balance, and a group that rebalances round after round. */
import assert from 'node:assert/strict'
import fc from 'fast-check'
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

/** newMember is a GroupMember with nothing owned and no generation. */
export function newMember(memberId: string, topics: string[], extra: Partial<GroupMember> = {}): GroupMember {
  return { memberId, instanceId: null, topics, userData: null, ownedPartitions: [], generation: -1, rackId: null, ...extra }
}

/** groupArb is a group of 1-8 members over up to 4 topics, some static, some in racks. */
export const groupArb = fc
  .record({
    counts: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 4 }),
    members: fc.uniqueArray(
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 6 }),
        instance: fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: null }),
        pick: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        rack: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null }),
      }),
      { minLength: 1, maxLength: 8, selector: (m) => m.id },
    ),
    replicaRacks: fc.array(fc.subarray(['a', 'b', 'c']), { minLength: 20, maxLength: 20 }),
  })
  .map(({ counts, members, replicaRacks }) => {
    const partitions = new Map(counts.map((n, t) => [`t${t}`, n]))
    const instances = new Set<string>()
    const group = members.map((m) => {
      // Instance ids are unique in a group; the coordinator enforces it.
      const instanceId = m.instance !== null && !instances.has(m.instance) ? m.instance : null
      if (instanceId !== null) instances.add(instanceId)
      return newMember(m.id, [...partitions.keys()].filter((_, t) => m.pick[t]), { instanceId, rackId: m.rack })
    })
    const racks = new Map([...partitions].map(([t, n]) => [t, replicaRacks.slice(0, n)]))
    return { partitions, group, racks }
  })

/**
 * stickyGroupArb is a group whose members own a random part of the partitions (disjoint, one
 * generation), with every member subscribed to every topic when `uniform`.
 */
export function stickyGroupArb(uniform: boolean) {
  return fc
    .record({
      counts: fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: 4 }),
      members: fc.integer({ min: 1, max: 9 }),
      owners: fc.array(fc.integer({ min: -1, max: 8 }), { minLength: 96, maxLength: 96 }),
      picks: fc.array(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), { minLength: 9, maxLength: 9 }),
      generation: fc.integer({ min: 1, max: 100 }),
    })
    .map(({ counts, members, owners, picks, generation }) => {
      const partitions = new Map(counts.map((n, t) => [`t${t}`, n]))
      const topics = [...partitions.keys()]
      const states: MemberState[] = Array.from({ length: members }, (_, i) => {
        const subscribed = uniform ? topics : topics.filter((_, t) => picks[i]![t])
        return { id: `member-${i}`, instanceId: null, topics: subscribed.length > 0 ? subscribed : [topics[0]!], rack: null, owned: new Map(), generation: -1 }
      })
      let k = 0
      for (const [topic, n] of partitions) {
        for (let p = 0; p < n; p++) {
          const owner = owners[k++ % owners.length]!
          if (owner < 0 || owner >= members || !states[owner]!.topics.includes(topic)) continue
          const s = states[owner]!
          if (!s.owned.has(topic)) s.owned.set(topic, [])
          s.owned.get(topic)!.push(p)
          s.generation = generation
        }
      }
      for (const s of states) if (s.owned.size > 0) s.generation = generation
      return { partitions, states }
    })
}

/**
 * mostKeepable is the most previously owned partitions any balanced assignment can leave in place when
 * every member subscribes to everything: each member keeps up to the smaller quota, and the members
 * that own more than that keep one more, for as many members as may hold the larger quota.
 */
export function mostKeepable(states: MemberState[], total: number): number {
  const min = Math.floor(total / states.length)
  const extra = total % states.length
  const owned = states.map((s) => ownedKeys(s).size)
  return owned.reduce((n, o) => n + Math.min(o, min), 0) + Math.min(extra, owned.filter((o) => o > min).length)
}

/** kept counts the partitions members own that the plan leaves with them. */
export function kept(plan: Plan, states: MemberState[]): number {
  let n = 0
  for (const s of states) {
    const mine = planKeys(plan, s.id)
    for (const key of ownedKeys(s)) if (mine.has(key)) n++
  }
  return n
}
