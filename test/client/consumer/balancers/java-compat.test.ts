/**
 * Every scenario of test/fixtures/balancers/java-assignments.json, computed by the Java client's own
 * assignors (kafka-clients 4.4.0, see Assign.java there), must come out of kafka-wire's balancers the same.
 * The members' subscriptions are the bytes a Java member sent, decoded by kafka-wire.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { balancerByName, memberFromJoin, type PartitionRacks, type Plan } from '../../../../src/client/consumer/balancers/index.js'
import { JavaHashOrder, javaHashMapOrder, javaStringHash, javaTopicPartitionHash } from '../../../../src/client/consumer/balancers/java-order.js'
import { assertValid, toObject } from './helpers.js'

interface Scenario {
  name: string
  protocol: string
  topics: Array<{ name: string; partitions: number; racks?: string[][] }>
  members: Array<{ memberId: string; instanceId: string | null; subscription: string; input?: { topics: string[] } }>
  assignment: Record<string, Record<string, number[]>>
}

type HashOrderCase =
  | { kind: 'string'; keys: string[]; order: string[] }
  | { kind: 'topicPartition'; ops: Array<[string, string, number]>; firsts: Array<[string, number] | null> }
  | { kind: 'int'; ops: Array<[string, number]>; firsts: Array<number | null>; order: number[] }

const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/balancers/java-assignments.json', import.meta.url), 'utf8')) as {
  kafkaClients: string
  scenarios: Scenario[]
  hashOrders: HashOrderCase[]
}

type Inputs = ReturnType<typeof inputs>

/**
 * KNOWN_DIFFERENCES are scenarios where kafka-wire deliberately does not do what Java does. Each check
 * shows the Java behaviour kafka-wire avoids and what kafka-wire does instead.
 */
const KNOWN_DIFFERENCES: Record<string, (sc: Scenario, plan: Plan, inp: Inputs) => void> = {
  // Java's AbstractStickyAssignor.allSubscriptionsEqual only starts comparing subscriptions at the first
  // member (in HashMap order) with a non-empty one, so a member subscribed to nothing that comes first is
  // taken for an equal subscriber and the constrained builder gives it partitions of a topic it never
  // asked for. kafka-wire treats the subscriptions as unequal and assigns only to subscribers.
  'cooperative-sticky: member with an empty subscription first in HashMap order': (sc, plan, { members, partitions }) => {
    const empty = sc.members.filter((m) => m.input!.topics.length === 0).map((m) => m.memberId)
    assert.ok(empty.some((id) => Object.keys(sc.assignment[id]!).length > 0), 'Java gave the unsubscribed member partitions')
    assertValid(plan, members, partitions, { complete: false })
    for (const id of empty) assert.equal(plan.get(id)!.size, 0)
  },
  // m1 owns t2-0 and t2-1 at generation 6; m0 rejoins from generation 4 still claiming t2-0. The general
  // builder moves t2-0 back to its "previous owner" m0, and Java's check for partitions changing hands
  // looks at raw owned lists, where m0 lists t2-0: Java gives m0 t2-0 while m1 still owns it. kafka-wire
  // holds t2-0 back until m1 has revoked it (KIP-429's two phases) and gives the rest as Java does.
  'cooperative-sticky: unequal subscriptions, a stale claim is moved back at once': (sc, plan) => {
    assert.deepEqual(sc.assignment, { m1: { t0: [0], t2: [1] }, m0: { t2: [0] } })
    assert.deepEqual(toObject(plan), { m1: { t0: [0], t2: [1] }, m0: {} })
  },
}

function inputs(sc: Scenario) {
  const members = sc.members.map((m) => memberFromJoin(m.memberId, m.instanceId, Buffer.from(m.subscription, 'hex')))
  const partitions = new Map(sc.topics.map((t) => [t.name, t.partitions]))
  const racks: PartitionRacks = new Map(sc.topics.filter((t) => t.racks !== undefined).map((t) => [t.name, t.racks!]))
  return { members, partitions, racks }
}

describe(`balancers give kafka-clients ${fixture.kafkaClients}'s assignments`, () => {
  it('has scenarios for every protocol, and every known difference is one of them', () => {
    for (const name of Object.keys(KNOWN_DIFFERENCES)) assert.ok(fixture.scenarios.some((s) => s.name === name), name)
    const byProtocol = new Map<string, number>()
    for (const sc of fixture.scenarios) byProtocol.set(sc.protocol, (byProtocol.get(sc.protocol) ?? 0) + 1)
    assert.deepEqual([...byProtocol.keys()].sort(), ['cooperative-sticky', 'range', 'roundrobin', 'sticky'])
    assert.ok(fixture.scenarios.length >= 30)
  })

  for (const protocol of ['range', 'roundrobin', 'sticky', 'cooperative-sticky']) {
    describe(protocol, () => {
      for (const sc of fixture.scenarios.filter((s) => s.protocol === protocol)) {
        it(sc.name, () => {
          const inp = inputs(sc)
          const plan = balancerByName(protocol)!.balance(inp.members, inp.partitions, inp.racks)
          const difference = KNOWN_DIFFERENCES[sc.name]
          if (difference === undefined) assert.deepEqual(toObject(plan), sc.assignment)
          else difference(sc, plan, inp)
        })
      }
    })
  }
})

describe("Java's HashMap and HashSet iteration orders", () => {
  for (const [i, c] of fixture.hashOrders.entries()) {
    it(`${c.kind} sequence ${i + 1}`, () => {
      if (c.kind === 'string') {
        assert.deepEqual(javaHashMapOrder(c.keys).map((k) => c.keys[k]), c.order)
      } else if (c.kind === 'topicPartition') {
        const set = new JavaHashOrder()
        const ids = new Map<string, number>()
        const byId: Array<[string, number]> = []
        c.ops.forEach(([op, topic, p], step) => {
          const key = `${topic}\u0000${p}`
          let id = ids.get(key)
          if (id === undefined) {
            ids.set(key, (id = byId.length))
            byId.push([topic, p])
          }
          if (op === '+') set.add(id, javaTopicPartitionHash(javaStringHash(topic), p))
          else set.delete(id)
          const first = set.first()
          assert.deepEqual(first === undefined ? null : byId[first], c.firsts[step], `after step ${step}`)
        })
      } else {
        const set = new JavaHashOrder()
        c.ops.forEach(([op, v], step) => {
          if (op === '+') set.add(v, v)
          else set.delete(v)
          assert.equal(set.first() ?? null, c.firsts[step], `after step ${step}`)
        })
        assert.deepEqual(set.keys(), c.order)
      }
    })
  }

  it('hashes strings as Java does', () => {
    assert.equal(javaStringHash(''), 0)
    assert.equal(javaStringHash('a'), 97)
    assert.equal(javaStringHash('Aa'), javaStringHash('BB'))
    // Values printed by Java 17: "consumer-1".hashCode(), "\u00e9v\u00e9nements".hashCode(),
    // new TopicPartition("orders", 7).hashCode().
    assert.equal(javaStringHash('consumer-1'), -166239206)
    assert.equal(javaStringHash('\u00e9v\u00e9nements'), -1479837150)
    assert.equal(javaTopicPartitionHash(javaStringHash('orders'), 7), -1008769153)
  })
})
