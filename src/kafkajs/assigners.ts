/**
 * KafkaJS's partition assigners: `PartitionAssigners.roundRobin` (KafkaJS's RoundRobinAssigner, under
 * its name and with its assignment, so a group can hold KafkaJS and kafka-wire members while a program
 * moves over), `AssignerProtocol` (the MemberMetadata and MemberAssignment codecs custom assigners use),
 * and the adapter that runs a KafkaJS assigner as the client's group balancer.
 */
import { Reader } from '../protocol/reader.js'
import { Writer } from '../protocol/writer.js'
import type { GroupBalancer, GroupMember, Plan } from '../client/consumer/balancers/index.js'
import type { Logger } from './logger.js'
import type { Cluster } from './types.js'

/** Assignment maps topics to partitions. */
export type Assignment = { [topic: string]: number[] }
/** GroupMember is a member as a KafkaJS assigner sees it: its id and its raw subscription metadata. */
export type KafkaJSGroupMember = { memberId: string; memberMetadata: Buffer }
/** GroupMemberAssignment is one member's encoded assignment, as a KafkaJS assigner returns it. */
export type GroupMemberAssignment = { memberId: string; memberAssignment: Buffer }
/** GroupState is the protocol a member offers: the assigner's name and its subscription metadata. */
export type GroupState = { name: string; metadata: Buffer }

/** Assigner is a KafkaJS partition assigner. */
export type Assigner = {
  name: string
  version: number
  assign(group: { members: KafkaJSGroupMember[]; topics: string[] }): Promise<GroupMemberAssignment[]>
  protocol(subscription: { topics: string[] }): GroupState
}

/** PartitionAssigner makes an Assigner for a consumer: KafkaJS's `partitionAssigners` entries. */
export type PartitionAssigner = (config: { cluster: Cluster; groupId: string; logger: Logger }) => Assigner

/** MemberMetadata is a decoded subscription. */
export type MemberMetadata = { version: number; topics: string[]; userData: Buffer }
/** MemberAssignment is a decoded assignment. */
export type MemberAssignment = { version: number; assignment: Assignment; userData: Buffer }

/** ISerializer encodes and decodes one of the assigner protocol's structures. */
export interface ISerializer<T> {
  encode(value: T): Buffer
  decode(buffer: Buffer): T | null
}

/**
 * AssignerProtocol encodes and decodes the consumer protocol's subscription (MemberMetadata) and
 * assignment (MemberAssignment) as KafkaJS does: a version, then the fields of version 0, user data
 * always written (empty when not given).
 */
export const AssignerProtocol: { MemberMetadata: ISerializer<MemberMetadata>; MemberAssignment: ISerializer<MemberAssignment> } = Object.freeze({
  MemberMetadata: {
    encode({ version, topics, userData = Buffer.alloc(0) }: { version: number; topics: string[]; userData?: Buffer }): Buffer {
      const w = new Writer(64)
      w.int16(version)
      w.int32(topics.length)
      for (const t of topics) w.string(t)
      w.bytes(userData)
      return w.finishCopy()
    },
    decode(buffer: Buffer): MemberMetadata {
      const r = new Reader(buffer)
      const version = r.int16()
      const n = r.int32()
      const topics: string[] = []
      for (let i = 0; i < n && r.ok; i++) topics.push(r.string() ?? '')
      const userData = r.bytes() ?? Buffer.alloc(0)
      r.check('MemberMetadata')
      return { version, topics, userData: Buffer.from(userData) }
    },
  },
  MemberAssignment: {
    encode({ version, assignment, userData = Buffer.alloc(0) }: { version: number; assignment: Assignment; userData?: Buffer }): Buffer {
      const w = new Writer(64)
      w.int16(version)
      const topics = Object.keys(assignment)
      w.int32(topics.length)
      for (const t of topics) {
        w.string(t)
        const ps = assignment[t]!
        w.int32(ps.length)
        for (const p of ps) w.int32(p)
      }
      w.bytes(userData)
      return w.finishCopy()
    },
    decode(buffer: Buffer): MemberAssignment | null {
      // An empty assignment (a member given nothing) decodes to null, as in KafkaJS.
      if (buffer.length < 2) return null
      const r = new Reader(buffer)
      const version = r.int16()
      const n = r.int32()
      const assignment: Assignment = {}
      for (let i = 0; i < n && r.ok; i++) {
        const topic = r.string() ?? ''
        const m = r.int32()
        const ps: number[] = []
        for (let j = 0; j < m && r.ok; j++) ps.push(r.int32())
        assignment[topic] = ps
      }
      const userData = r.remaining() > 0 ? (r.bytes() ?? Buffer.alloc(0)) : Buffer.alloc(0)
      r.check('MemberAssignment')
      return { version, assignment, userData: Buffer.from(userData) }
    },
  },
})

/**
 * roundRobin is KafkaJS's RoundRobinAssigner: members sorted by id take every subscribed partition in
 * turn (the leader's topics in subscription order, partitions in metadata order). Its protocol name
 * is 'RoundRobinAssigner', as KafkaJS's.
 */
const roundRobin: PartitionAssigner = ({ cluster }) => ({
  name: 'RoundRobinAssigner',
  version: 0,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort()
    const plan = new Map<string, Assignment>()
    let i = 0
    for (const topic of topics) {
      for (const p of cluster.findTopicPartitionMetadata(topic)) {
        const id = ids[i++ % ids.length]!
        let a = plan.get(id)
        if (a === undefined) plan.set(id, (a = Object.create(null) as Assignment))
        ;(a[topic] ??= []).push(p.partitionId)
      }
    }
    return [...plan].map(([memberId, assignment]) => ({ memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }) }))
  },
  protocol({ topics }) {
    return { name: 'RoundRobinAssigner', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) }
  },
})

/** PartitionAssigners are KafkaJS's built-in assigners: `roundRobin`, the default. */
export const PartitionAssigners: { roundRobin: PartitionAssigner } = Object.freeze({ roundRobin })

/** LeaderListener hears when this member balanced the group, with the protocol it balanced with. */
export type LeaderListener = (protocol: string) => void

/**
 * assignerBalancer runs a KafkaJS Assigner as the client's group balancer. `topics` returns the
 * consumer's own subscription, which KafkaJS leaders assign (not the union of the members'). Members
 * are handed to the assigner with their subscription re-encoded as MemberMetadata (version, topics,
 * user data). The assigner's encoded assignments are decoded into the plan; user data an assigner puts
 * in an assignment does not reach the members (see docs/kafkajs.md).
 *
 * KafkaJS assigners are asynchronous, so `balance` returns a promise; the classic group awaits it.
 */
export function assignerBalancer(assigner: Assigner, topics: () => string[], onLead: LeaderListener): GroupBalancer {
  if (assigner === null || typeof assigner !== 'object' || typeof assigner.name !== 'string' || typeof assigner.assign !== 'function' || typeof assigner.protocol !== 'function') {
    throw new TypeError('a partition assigner must return { name, version, assign(), protocol() }')
  }
  return {
    name: assigner.name,
    cooperative: false,
    subscriptionMetadata(subscribed: string[]): Buffer {
      return assigner.protocol({ topics: subscribed }).metadata
    },
    balance(members: GroupMember[]): Plan {
      onLead(assigner.name)
      const kjsMembers = members.map((m) => ({ memberId: m.memberId, memberMetadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics: m.topics, userData: m.userData ?? Buffer.alloc(0) }) }))
      const run = async (): Promise<Plan> => {
        const out: Plan = new Map()
        for (const m of members) out.set(m.memberId, new Map())
        for (const a of await assigner.assign({ members: kjsMembers, topics: topics() })) {
          const decoded = AssignerProtocol.MemberAssignment.decode(a.memberAssignment)
          const mine = out.get(a.memberId)
          if (mine === undefined || decoded === null) continue
          for (const [t, ps] of Object.entries(decoded.assignment)) mine.set(t, [...ps].sort((x, y) => x - y))
        }
        return out
      }
      // The group awaits what balance returns; the interface's type is the synchronous Plan.
      return run() as unknown as Plan
    },
  }
}
