/**
 * Every scenario of test/fixtures/balancers/java-assignments.json, computed by the Java client's own
 * assignors (kafka-clients 4.4.0, see Assign.java there), must come out of kafka-wire's balancers the same.
 * The members' subscriptions are the bytes a Java member sent, decoded by kafka-wire.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { balancerByName, memberFromJoin, type PartitionRacks } from '../../../../src/client/consumer/balancers/index.js'
import { JavaHashOrder, javaHashMapOrder, javaStringHash, javaTopicPartitionHash } from '../../../../src/client/consumer/balancers/java-order.js'
import { assertValid, toObject } from './helpers.js'

interface Scenario {
  name: string
  protocol: string
  topics: Array<{ name: string; partitions: number; racks?: string[][] }>
  members: Array<{ memberId: string; instanceId: string | null; subscription: string; input: { topics: string[] } }>
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

/**
 * KNOWN_DIFFERENCES are scenarios where kafka-wire deliberately does not do what Java does, each with the
 * reason; for them the test checks the Java behaviour it avoids and the properties kafka-wire keeps.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {
  // Java's AbstractStickyAssignor.allSubscriptionsEqual only starts comparing subscriptions at the first
  // member (in HashMap order) with a non-empty one, so a member subscribed to nothing that comes first is
  // taken for an equal subscriber and the constrained builder gives it partitions of a topic it never
  // asked for. kafka-wire treats the subscriptions as unequal and assigns only to subscribers.
  'cooperative-sticky: member with an empty subscription first in HashMap order': 'empty subscription',
}

function inputs(sc: Scenario) {
  const members = sc.members.map((m) => memberFromJoin(m.memberId, m.instanceId, Buffer.from(m.subscription, 'hex')))
  const partitions = new Map(sc.topics.map((t) => [t.name, t.partitions]))
  const racks: PartitionRacks = new Map(sc.topics.filter((t) => t.racks !== undefined).map((t) => [t.name, t.racks!]))
  return { members, partitions, racks }
}

describe(`balancers give kafka-clients ${fixture.kafkaClients}'s assignments`, () => {
  it('has scenarios for every protocol', () => {
    const byProtocol = new Map<string, number>()
    for (const sc of fixture.scenarios) byProtocol.set(sc.protocol, (byProtocol.get(sc.protocol) ?? 0) + 1)
    assert.deepEqual([...byProtocol.keys()].sort(), ['cooperative-sticky', 'range', 'roundrobin', 'sticky'])
    assert.ok(fixture.scenarios.length >= 30)
  })

  for (const protocol of ['range', 'roundrobin', 'sticky', 'cooperative-sticky']) {
    describe(protocol, () => {
      for (const sc of fixture.scenarios.filter((s) => s.protocol === protocol)) {
        it(sc.name, () => {
          const { members, partitions, racks } = inputs(sc)
          const plan = balancerByName(protocol)!.balance(members, partitions, racks)
          if (KNOWN_DIFFERENCES[sc.name] === undefined) {
            assert.deepEqual(toObject(plan), sc.assignment)
            return
          }
          // Java assigned partitions to a member that subscribes to nothing; kafka-wire does not.
          const empty = sc.members.filter((m) => m.input.topics.length === 0).map((m) => m.memberId)
          assert.ok(empty.some((id) => Object.keys(sc.assignment[id]!).length > 0), 'Java gave the unsubscribed member partitions')
          assertValid(plan, members, partitions, { complete: false })
          for (const id of empty) assert.equal(plan.get(id)!.size, 0)
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
