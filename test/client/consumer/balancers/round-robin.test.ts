import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { balancerByName, roundRobinBalancer, type GroupMember } from '../../../../src/client/consumer/balancers/index.js'
import { assertValid, groupArb, spread, toObject } from './helpers.js'

const member = (memberId: string, topics: string[]): GroupMember => ({
  memberId,
  instanceId: null,
  topics,
  userData: null,
  ownedPartitions: [],
  generation: -1,
  rackId: null,
})

describe('roundrobin balancer', () => {
  it("assigns the example of Java's RoundRobinAssignor documentation", () => {
    const plan = roundRobinBalancer().balance([member('M1', ['t0', 't1']), member('M0', ['t0', 't1'])], new Map([['t0', 3], ['t1', 3]]))
    assert.deepEqual(toObject(plan), { M1: { t0: [1], t1: [0, 2] }, M0: { t0: [0, 2], t1: [1] } })
  })

  it('is found by name and is eager', () => {
    assert.equal(balancerByName('roundrobin'), roundRobinBalancer())
    assert.equal(roundRobinBalancer().cooperative, false)
    assert.equal(balancerByName('fair'), undefined)
  })

  it('assigns every subscribed partition once, to a subscriber', () => {
    fc.assert(
      fc.property(groupArb, ({ partitions, group }) => {
        assertValid(roundRobinBalancer().balance(group, partitions), group, partitions)
      }),
    )
  })

  it('balances within one partition when every member subscribes to the same topics', () => {
    fc.assert(
      fc.property(groupArb, ({ partitions, group }) => {
        const same = group.map((m) => ({ ...m, topics: [...partitions.keys()] }))
        const plan = roundRobinBalancer().balance(same, partitions)
        assertValid(plan, same, partitions)
        assert.ok(spread(plan) <= 1)
      }),
    )
  })

  it('gives a static member the same partitions whatever its member id (KIP-345)', () => {
    fc.assert(
      fc.property(groupArb, ({ partitions, group }) => {
        const before = roundRobinBalancer().balance(group, partitions)
        const restarted = group.map((m) => (m.instanceId === null ? m : { ...m, memberId: `${m.memberId}~` }))
        const after = roundRobinBalancer().balance(restarted, partitions)
        group.forEach((m, i) => {
          if (m.instanceId !== null) assert.deepEqual(after.get(restarted[i]!.memberId), before.get(m.memberId))
        })
      }),
    )
  })
})
