import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { balancerByName, cooperativeStickyBalancer, stickyBalancer } from '../../../../src/client/consumer/balancers/index.js'
import { decodeStickyUserData, decodeSubscription } from '../../../../src/client/consumer/balancers/protocol.js'
import { adopt, assertValid, joinMembers, kept, mostKeepable, spread, stickyGroupArb, type MemberState } from './helpers.js'

describe('sticky balancer (eager)', () => {
  const balancer = stickyBalancer()

  it('is found by name and is eager', () => {
    assert.equal(balancerByName('sticky'), balancer)
    assert.equal(balancer.cooperative, false)
  })

  it('sends the previous assignment and generation in user data, and nothing as owned (KIP-341)', () => {
    const s = decodeSubscription(balancer.subscriptionMetadata(['t'], new Map([['t', [0, 3]]]), 7, 'r1'))
    assert.deepEqual(s.ownedPartitions, [])
    assert.equal(s.generationId, 7)
    assert.equal(s.rackId, 'r1')
    assert.deepEqual(decodeStickyUserData(s.userData!), { partitions: [{ topic: 't', partitions: [0, 3] }], generation: 7 })
    assert.equal(decodeSubscription(balancer.subscriptionMetadata(['t'], new Map(), -1, null)).userData, null, 'a new member sends none')
  })

  for (const uniform of [true, false]) {
    it(`assigns every subscribed partition once, to a subscriber (${uniform ? 'same' : 'different'} subscriptions)`, () => {
      fc.assert(
        fc.property(stickyGroupArb(uniform), ({ partitions, states }) => {
          const members = joinMembers(balancer, states)
          assertValid(balancer.balance(members, partitions), members, partitions)
        }),
      )
    })

    it(`moves nothing when nothing changed (${uniform ? 'same' : 'different'} subscriptions)`, () => {
      fc.assert(
        fc.property(stickyGroupArb(uniform), ({ partitions, states }) => {
          const first = balancer.balance(joinMembers(balancer, states), partitions)
          adopt(states, first, 1000)
          assert.deepEqual(balancer.balance(joinMembers(balancer, states), partitions), first)
        }),
      )
    })
  }

  it('balances within one partition when every member subscribes to the same topics', () => {
    fc.assert(
      fc.property(stickyGroupArb(true), ({ partitions, states }) => {
        assert.ok(spread(balancer.balance(joinMembers(balancer, states), partitions)) <= 1)
      }),
    )
  })

  it('keeps as many previously owned partitions as a balanced assignment allows', () => {
    fc.assert(
      fc.property(stickyGroupArb(true), ({ partitions, states }) => {
        const total = [...partitions.values()].reduce((a, b) => a + b, 0)
        assert.equal(kept(balancer.balance(joinMembers(balancer, states), partitions), states), mostKeepable(states, total))
      }),
    )
  })

  it('prefers the newer of two generations claiming a partition (KIP-341)', () => {
    const partitions = new Map([['t', 4]])
    const states: MemberState[] = [
      { id: 'old', instanceId: null, topics: ['t'], rack: null, owned: new Map([['t', [0, 1, 2, 3]]]), generation: 3 },
      { id: 'new', instanceId: null, topics: ['t'], rack: null, owned: new Map([['t', [2, 3]]]), generation: 4 },
    ]
    const plan = balancer.balance(joinMembers(balancer, states), partitions)
    assert.deepEqual(plan.get('new'), new Map([['t', [2, 3]]]))
    assert.deepEqual(plan.get('old'), new Map([['t', [0, 1]]]))
  })

  it('keeps partitions in their replica racks when racks and members line up (KIP-881)', () => {
    for (const b of [balancer, cooperativeStickyBalancer()]) {
      const racks = ['a', 'b', 'c']
      const states: MemberState[] = Array.from({ length: 6 }, (_, i) => ({ id: `m${i}`, instanceId: null, topics: ['t0', 't1'], rack: racks[i % 3]!, owned: new Map(), generation: -1 }))
      const partitions = new Map([['t0', 30], ['t1', 6]])
      const replicaRacks = new Map([...partitions].map(([t, n]) => [t, Array.from({ length: n }, (_, p) => [racks[(p * 5 + t.length) % 3]!])]))
      const members = joinMembers(b, states)
      const plan = b.balance(members, partitions, replicaRacks)
      assertValid(plan, members, partitions)
      for (const s of states) {
        for (const [t, ps] of plan.get(s.id)!) for (const p of ps) assert.deepEqual(replicaRacks.get(t)![p], [s.rack], `${b.name}: ${t}/${p} on ${s.id}`)
      }
    }
  })
})
