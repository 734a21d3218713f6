import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { balancerByName, rangeBalancer, type GroupMember } from '../../../../src/client/consumer/balancers/index.js'
import { assertValid, groupArb, toObject } from './helpers.js'

const member = (memberId: string, topics: string[], extra: Partial<GroupMember> = {}): GroupMember => ({
  memberId,
  instanceId: null,
  topics,
  userData: null,
  ownedPartitions: [],
  generation: -1,
  rackId: null,
  ...extra,
})

describe('range balancer', () => {
  it("assigns the example of Java's RangeAssignor documentation", () => {
    const plan = rangeBalancer().balance([member('C1', ['t0', 't1']), member('C0', ['t0', 't1'])], new Map([['t0', 3], ['t1', 3]]))
    assert.deepEqual(toObject(plan), { C1: { t0: [2], t1: [2] }, C0: { t0: [0, 1], t1: [0, 1] } })
  })

  it('is found by name and is eager', () => {
    assert.equal(balancerByName('range'), rangeBalancer())
    assert.equal(rangeBalancer().name, 'range')
    assert.equal(rangeBalancer().cooperative, false)
  })

  it('assigns every subscribed partition once, to a subscriber, each topic evenly', () => {
    fc.assert(
      fc.property(groupArb, fc.boolean(), ({ partitions, group, racks }, withRacks) => {
        const plan = rangeBalancer().balance(group, partitions, withRacks ? racks : undefined)
        assertValid(plan, group, partitions)
        for (const topic of partitions.keys()) {
          const counts = group.filter((m) => m.topics.includes(topic)).map((m) => plan.get(m.memberId)!.get(topic)?.length ?? 0)
          if (counts.length > 0) assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${topic} unevenly split: ${counts}`)
        }
      }),
    )
  })

  it('gives a static member the same partitions whatever its member id (KIP-345)', () => {
    fc.assert(
      fc.property(groupArb, fc.string({ maxLength: 3 }), ({ partitions, group }, suffix) => {
        const before = rangeBalancer().balance(group, partitions)
        const restarted = group.map((m) => (m.instanceId === null ? m : { ...m, memberId: `${m.memberId}~${suffix}` }))
        const after = rangeBalancer().balance(restarted, partitions)
        for (let i = 0; i < group.length; i++) {
          if (group[i]!.instanceId === null) continue
          assert.deepEqual(after.get(restarted[i]!.memberId), before.get(group[i]!.memberId))
        }
      }),
    )
  })

  it('keeps every partition in its replica rack when racks and members line up (KIP-881)', () => {
    // Three racks, two members in each, every partition on one rack, each rack holding 12 partitions.
    const racks = ['a', 'b', 'c']
    const group = Array.from({ length: 6 }, (_, i) => member(`m${i}`, ['t0', 't1'], { rackId: racks[i % 3]! }))
    const partitions = new Map([['t0', 36], ['t1', 36]])
    const replicaRacks = new Map([...partitions].map(([t, n]) => [t, Array.from({ length: n }, (_, p) => [racks[(p * 7 + t.length) % 3]!])]))
    const plan = rangeBalancer().balance(group, partitions, replicaRacks)
    assertValid(plan, group, partitions)
    for (const m of group) {
      for (const [t, ps] of plan.get(m.memberId)!) for (const p of ps) assert.deepEqual(replicaRacks.get(t)![p], [m.rackId])
    }
  })
})
