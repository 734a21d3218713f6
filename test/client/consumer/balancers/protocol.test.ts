import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ProtocolDecodeError } from '../../../../src/protocol/errors.js'
import { balancerByName } from '../../../../src/client/consumer/balancers/index.js'
import {
  decodeAssignment,
  decodeCooperativeUserData,
  decodeStickyUserData,
  decodeSubscription,
  encodeAssignment,
  encodeCooperativeUserData,
  encodeStickyUserData,
  encodeSubscription,
  memberFromJoin,
  type Subscription,
} from '../../../../src/client/consumer/balancers/protocol.js'

interface FixtureMember {
  memberId: string
  instanceId: string | null
  subscription: string
  input?: { topics: string[]; owned: Record<string, number[]>; generation: number; rack: string | null; version: number }
}
const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/balancers/java-assignments.json', import.meta.url), 'utf8')) as {
  scenarios: Array<{ name: string; protocol: string; members: FixtureMember[]; assignment: Record<string, Record<string, number[]>>; assignmentBytes?: Record<string, string> }>
}
const detailed = fixture.scenarios.filter((s) => s.assignmentBytes !== undefined)

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
const ownedObject = (owned: Subscription['ownedPartitions']) => Object.fromEntries(owned.map((tp) => [tp.topic, sorted(tp.partitions)]))

describe('ConsumerProtocolSubscription', () => {
  const full: Omit<Subscription, 'version'> = {
    topics: ['b', 'a'],
    userData: Buffer.from([1, 2, 3]),
    ownedPartitions: [
      { topic: 'z', partitions: [2, 0] },
      { topic: 'a', partitions: [1] },
    ],
    generationId: 12,
    rackId: 'rack-1',
  }

  it('writes topics and owned partitions sorted, as Java does, and reads every version back', () => {
    for (let version = 0; version <= 3; version++) {
      const s = decodeSubscription(encodeSubscription(full, version))
      assert.equal(s.version, version)
      assert.deepEqual(s.topics, ['a', 'b'])
      assert.deepEqual(s.userData, Buffer.from([1, 2, 3]))
      assert.deepEqual(s.ownedPartitions, version >= 1 ? [{ topic: 'a', partitions: [1] }, { topic: 'z', partitions: [0, 2] }] : [])
      assert.equal(s.generationId, version >= 2 ? 12 : -1)
      assert.equal(s.rackId, version >= 3 ? 'rack-1' : null)
    }
  })

  it('reads a newer version as the newest it knows and ignores fields it does not', () => {
    const v3 = encodeSubscription(full, 3)
    const newer = Buffer.concat([v3, Buffer.from([0, 0, 0, 9, 0xff, 0xee])])
    newer.writeInt16BE(9, 0)
    const s = decodeSubscription(newer)
    assert.equal(s.version, 9)
    assert.deepEqual(s.topics, ['a', 'b'])
    assert.equal(s.generationId, 12)
    assert.equal(s.rackId, 'rack-1')
    // Java reads any version this way, so trailing bytes after a known version are ignored too.
    assert.deepEqual(decodeSubscription(Buffer.concat([encodeSubscription(full, 1), Buffer.from([7])])).topics, ['a', 'b'])
  })

  it('reads an empty rack id as none, as Java does', () => {
    assert.equal(decodeSubscription(encodeSubscription({ ...full, rackId: '' })).rackId, null)
  })

  it('refuses truncated bytes and negative versions', () => {
    const v3 = encodeSubscription(full)
    for (const cut of [0, 1, 5, v3.length - 1]) assert.throws(() => decodeSubscription(v3.subarray(0, cut)), ProtocolDecodeError)
    const negative = Buffer.from(v3)
    negative.writeInt16BE(-1, 0)
    assert.throws(() => decodeSubscription(negative), ProtocolDecodeError)
  })

  it('round-trips any subscription in any version', () => {
    const topic = fc.string({ maxLength: 12 })
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.uniqueArray(topic, { maxLength: 6 }),
        fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
        fc.uniqueArray(fc.record({ topic, partitions: fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { maxLength: 5 }) }), { selector: (tp) => tp.topic, maxLength: 4 }),
        fc.integer({ min: -1, max: 1 << 30 }),
        fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: null }),
        (version, topics, userData, ownedPartitions, generationId, rackId) => {
          const s = decodeSubscription(encodeSubscription({ topics, userData: userData && Buffer.from(userData), ownedPartitions, generationId, rackId }, version))
          assert.deepEqual(s.topics, [...topics].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
          assert.deepEqual(s.userData === null ? null : [...s.userData], userData === null ? null : [...userData])
          assert.deepEqual(ownedObject(s.ownedPartitions), version >= 1 ? ownedObject(ownedPartitions) : {})
          assert.equal(s.generationId, version >= 2 ? generationId : -1)
          assert.equal(s.rackId, version >= 3 ? rackId : null)
        },
      ),
    )
  })

  it("decodes every Java member's subscription in the fixtures", () => {
    let n = 0
    for (const sc of detailed) {
      for (const m of sc.members) {
        const input = m.input!
        const s = decodeSubscription(Buffer.from(m.subscription, 'hex'))
        assert.equal(s.version, input.version)
        assert.deepEqual(s.topics, [...input.topics].sort())
        assert.equal(s.generationId, input.version >= 2 ? input.generation : -1)
        assert.equal(s.rackId, input.version >= 3 ? input.rack : null)
        if (sc.protocol === 'cooperative-sticky') {
          if (input.version >= 1) assert.deepEqual(ownedObject(s.ownedPartitions), input.owned)
          assert.equal(decodeCooperativeUserData(s.userData), input.generation)
        } else if (sc.protocol === 'sticky' && input.generation >= 0) {
          const ud = decodeStickyUserData(s.userData!)!
          assert.equal(ud.generation, input.generation)
          assert.deepEqual(ownedObject(ud.partitions), input.owned)
        } else {
          assert.equal(s.userData, null)
        }
        n++
      }
    }
    assert.ok(n > 50)
  })

  it("writes a member's subscription byte for byte as a Java member of the same state does", () => {
    let n = 0
    for (const sc of detailed) {
      // Java's StickyAssignor groups its user data's partitions in a HashMap; the content is checked above.
      if (sc.protocol === 'sticky') continue
      for (const m of sc.members) {
        const input = m.input!
        if (input.version !== 3) continue
        const owned = new Map(Object.entries(input.owned))
        const mine = balancerByName(sc.protocol)!.subscriptionMetadata(input.topics, sc.protocol === 'cooperative-sticky' ? owned : new Map(), input.generation, input.rack)
        assert.equal(mine.toString('hex'), m.subscription, `${sc.name}: ${m.memberId}`)
        n++
      }
    }
    assert.ok(n > 50)
  })

  it('memberFromJoin carries the JoinGroup member and its subscription', () => {
    const m = memberFromJoin('m-1', 'i-1', encodeSubscription(full))
    assert.deepEqual(m, {
      memberId: 'm-1',
      instanceId: 'i-1',
      topics: ['a', 'b'],
      userData: Buffer.from([1, 2, 3]),
      ownedPartitions: [
        { topic: 'a', partitions: [1] },
        { topic: 'z', partitions: [0, 2] },
      ],
      generation: 12,
      rackId: 'rack-1',
    })
  })
})

describe('ConsumerProtocolAssignment', () => {
  it('round-trips in every version, topics in the order given', () => {
    const a = { assignedPartitions: [{ topic: 'b', partitions: [3, 1] }, { topic: 'a', partitions: [0] }], userData: Buffer.from('ud') }
    for (let version = 0; version <= 3; version++) {
      assert.deepEqual(decodeAssignment(encodeAssignment(a, version)), { version, ...a })
    }
  })

  it('reads an empty buffer as an empty assignment: the coordinator sends one to a member the leader left out', () => {
    assert.deepEqual(decodeAssignment(Buffer.alloc(0)), { version: 0, assignedPartitions: [], userData: null })
  })

  it('reads newer versions and refuses truncated bytes', () => {
    const bytes = encodeAssignment({ assignedPartitions: [{ topic: 't', partitions: [1] }], userData: null })
    const newer = Buffer.concat([bytes, Buffer.from([1, 2, 3])])
    newer.writeInt16BE(5, 0)
    assert.deepEqual(decodeAssignment(newer).assignedPartitions, [{ topic: 't', partitions: [1] }])
    assert.throws(() => decodeAssignment(bytes.subarray(0, bytes.length - 1)), ProtocolDecodeError)
  })

  it("reads and writes the Java leader's SyncGroup assignments byte for byte", () => {
    let n = 0
    for (const sc of detailed) {
      for (const [member, hex] of Object.entries(sc.assignmentBytes!)) {
        const java = Buffer.from(hex, 'hex')
        const a = decodeAssignment(java)
        assert.equal(a.version, 3)
        assert.deepEqual(Object.fromEntries(a.assignedPartitions.map((tp) => [tp.topic, sorted(tp.partitions)])), sc.assignment[member])
        // Written back in the same topic and partition order, the bytes are Java's.
        assert.equal(encodeAssignment(a).toString('hex'), hex)
        n++
      }
    }
    assert.ok(n > 50)
  })
})

describe('sticky assignor user data', () => {
  it('round-trips the V1 layout: partitions by topic, then the generation', () => {
    const bytes = encodeStickyUserData([{ topic: 't1', partitions: [0, 2] }, { topic: 't0', partitions: [5] }], 42)
    assert.deepEqual(decodeStickyUserData(bytes), {
      partitions: [
        { topic: 't1', partitions: [0, 2] },
        { topic: 't0', partitions: [5] },
      ],
      generation: 42,
    })
    // Trailing bytes are ignored, as Java's Schema reader ignores them.
    assert.equal(decodeStickyUserData(Buffer.concat([bytes, Buffer.from([9, 9])]))!.generation, 42)
  })

  it('reads V0 user data (no generation) as having none', () => {
    const v1 = encodeStickyUserData([{ topic: 't', partitions: [1] }], 3)
    assert.deepEqual(decodeStickyUserData(v1.subarray(0, v1.length - 4)), { partitions: [{ topic: 't', partitions: [1] }], generation: null })
  })

  it('gives up on user data it cannot read, as Java does', () => {
    assert.equal(decodeStickyUserData(Buffer.from([0, 0])), null)
    assert.equal(decodeStickyUserData(Buffer.from([0xff, 0xff, 0xff, 0xff])), null, 'negative topic count')
    assert.equal(decodeStickyUserData(Buffer.from([0, 0, 0, 1, 0xff, 0xff])), null, 'null topic name')
    assert.equal(decodeStickyUserData(Buffer.from([0, 0, 0, 1, 0, 5, 0x61])), null, 'truncated topic name')
    assert.equal(decodeStickyUserData(Buffer.from([0, 0, 0x10, 0, 0, 1])), null, 'count larger than the bytes')
  })
})

describe('cooperative-sticky assignor user data', () => {
  it('is the generation as an int32; too short reads as -1 and none as null, as in Java', () => {
    assert.equal(decodeCooperativeUserData(encodeCooperativeUserData(7)), 7)
    assert.equal(decodeCooperativeUserData(encodeCooperativeUserData(-1)), -1)
    assert.equal(decodeCooperativeUserData(Buffer.from([1, 2])), -1)
    assert.equal(decodeCooperativeUserData(null), null)
  })
})
