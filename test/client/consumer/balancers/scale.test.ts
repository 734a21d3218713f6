/**
 * A large group: 200 members and 20,000 partitions (10 topics of 2,000) under cooperative-sticky. The
 * assignments are checked; the time each balance takes is reported (as test diagnostics), not asserted,
 * since it depends on the machine.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { cooperativeStickyBalancer, type GroupMember, type Plan } from '../../../../src/client/consumer/balancers/index.js'
import { adopt, assertValid, joinMembers, planKeys, spread, type MemberState } from './helpers.js'

const balancer = cooperativeStickyBalancer()
const MEMBERS = 200
const partitions = new Map(Array.from({ length: 10 }, (_, t) => [`topic-${t}`, 2_000]))
const topics = [...partitions.keys()]

function group(subscriptions: (i: number) => string[]): MemberState[] {
  return Array.from({ length: MEMBERS }, (_, i) => ({
    id: `consumer-${i}-${((i + 1) * 2654435761) >>> 0}`,
    instanceId: null,
    topics: subscriptions(i),
    rack: null,
    owned: new Map(),
    generation: -1,
  }))
}

/** timed balances once to warm up the code paths, then reports the fastest of three runs. */
function timed(t: TestContext, label: string, members: GroupMember[]): Plan {
  let plan = balancer.balance(members, partitions)
  let best = Infinity
  for (let i = 0; i < 3; i++) {
    const start = performance.now()
    plan = balancer.balance(members, partitions)
    best = Math.min(best, performance.now() - start)
  }
  t.diagnostic(`${label}: ${best.toFixed(1)} ms`)
  return plan
}

describe(`cooperative-sticky with ${MEMBERS} members and 20,000 partitions`, () => {
  it('balances a group subscribed to the same topics', (t) => {
    const states = group(() => topics)
    let members = joinMembers(balancer, states)
    const first = timed(t, 'new group', members)
    assertValid(first, members, partitions)
    assert.ok(spread(first) <= 1)

    adopt(states, first, 1)
    members = joinMembers(balancer, states)
    assert.deepEqual(timed(t, 'rejoin, nothing changed', members), first)

    // A member joins: 100 partitions are revoked from others, then given to it in the follow-up.
    states.push({ id: 'newcomer', instanceId: null, topics, rack: null, owned: new Map(), generation: -1 })
    members = joinMembers(balancer, states)
    const revoking = timed(t, 'a member joins (revocation round)', members)
    assertValid(revoking, members, partitions, { complete: false })
    assert.equal(planKeys(revoking, 'newcomer').size, 0)
    adopt(states, revoking, 2)
    members = joinMembers(balancer, states)
    const followUp = timed(t, 'a member joins (follow-up)', members)
    assertValid(followUp, members, partitions)
    assert.ok(spread(followUp) <= 1)

    // A member leaves: its partitions go straight to the others.
    adopt(states, followUp, 3)
    states.splice(0, 1)
    members = joinMembers(balancer, states)
    const left = timed(t, 'a member leaves', members)
    assertValid(left, members, partitions)
    assert.ok(spread(left) <= 1)
  })

  it('balances a group with different subscriptions', (t) => {
    // Member i subscribes to a deterministic half of the topics, at least one.
    const states = group((i) => topics.filter((_, k) => ((i * 7 + k * 3) % 5) < 3 || k === i % 10))
    let members = joinMembers(balancer, states)
    const first = timed(t, 'new group, different subscriptions', members)
    assertValid(first, members, partitions)

    adopt(states, first, 1)
    members = joinMembers(balancer, states)
    assert.deepEqual(timed(t, 'rejoin, nothing changed, different subscriptions', members), first)

    states.push({ id: 'newcomer', instanceId: null, topics: topics.slice(0, 5), rack: null, owned: new Map(), generation: -1 })
    members = joinMembers(balancer, states)
    const revoking = timed(t, 'a member joins, different subscriptions (revocation round)', members)
    assertValid(revoking, members, partitions, { complete: false })
    adopt(states, revoking, 2)
    members = joinMembers(balancer, states)
    const followUp = timed(t, 'a member joins, different subscriptions (follow-up)', members)
    assertValid(followUp, members, partitions, { complete: false })
  })
})
