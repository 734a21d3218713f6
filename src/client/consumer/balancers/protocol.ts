/**
 * The consumer protocol's bytes: the subscription a member sends in JoinGroup, the assignment the leader
 * sends back in SyncGroup (both version-prefixed ConsumerProtocol structs), and the user data the eager
 * sticky and cooperative-sticky assignors of the Java client put in a subscription.
 */
import { ProtocolDecodeError } from '../../../protocol/errors.js'
import { ConsumerProtocolAssignment } from '../../../protocol/messages/consumer-protocol-assignment.js'
import { ConsumerProtocolSubscription } from '../../../protocol/messages/consumer-protocol-subscription.js'
import { Reader } from '../../../protocol/reader.js'
import { Writer } from '../../../protocol/writer.js'
import type { GroupMember } from './index.js'

/** TopicPartitions lists partitions grouped by topic, as the consumer protocol carries them. */
export type TopicPartitions = Array<{ topic: string; partitions: number[] }>

/** Subscription is a decoded ConsumerProtocolSubscription with the version it was written in. */
export interface Subscription {
  version: number
  topics: string[]
  userData: Buffer | null
  /** ownedPartitions are the partitions the member owns (version 1+; KIP-429). */
  ownedPartitions: TopicPartitions
  /** generationId is the generation the owned partitions are from, -1 when absent (version 2+; KIP-792). */
  generationId: number
  /** rackId is the member's client.rack (version 3+; KIP-881). */
  rackId: string | null
}

/** Assignment is a decoded ConsumerProtocolAssignment with the version it was written in. */
export interface Assignment {
  version: number
  assignedPartitions: TopicPartitions
  userData: Buffer | null
}

/** CONSUMER_PROTOCOL_VERSION is the version kafka-wire writes: the highest Kafka 4.4 knows, as Java writes. */
export const CONSUMER_PROTOCOL_VERSION = ConsumerProtocolSubscription.maxVersion

/**
 * encodeSubscription writes a version-prefixed ConsumerProtocolSubscription. Topics and owned partitions
 * are written sorted, as Java's ConsumerProtocol.serializeSubscription writes them, so the same member
 * state always gives the same bytes. The returned Buffer is the caller's to keep.
 */
export function encodeSubscription(s: Omit<Subscription, 'version'>, version: number = CONSUMER_PROTOCOL_VERSION): Buffer {
  const owned = s.ownedPartitions
    .map((tp) => ({ topic: tp.topic, partitions: [...tp.partitions].sort((a, b) => a - b) }))
    .sort((a, b) => compareStrings(a.topic, b.topic))
  const w = new Writer(64)
  w.int16(version)
  ConsumerProtocolSubscription.encode(w, version, {
    topics: [...s.topics].sort(compareStrings),
    userData: s.userData,
    ownedPartitions: owned,
    generationId: s.generationId,
    rackId: s.rackId,
  })
  return w.finishCopy()
}

/**
 * decodeSubscription reads a version-prefixed ConsumerProtocolSubscription. A version newer than kafka-wire
 * knows is read as the newest known one and whatever follows is ignored, as Java's ConsumerProtocol does:
 * the format only ever appends fields. An empty rack id reads as null, as in Java. The user data is a view
 * into `buf`.
 */
export function decodeSubscription(buf: Buffer): Subscription {
  const r = new Reader(buf)
  const version = readVersion(r, 'ConsumerProtocolSubscription')
  const v = ConsumerProtocolSubscription.decode(r, Math.min(version, ConsumerProtocolSubscription.maxVersion))
  r.check('ConsumerProtocolSubscription')
  return {
    version,
    topics: v.topics,
    userData: v.userData,
    ownedPartitions: v.ownedPartitions,
    generationId: v.generationId,
    rackId: v.rackId === '' ? null : v.rackId,
  }
}

/** encodeAssignment writes a version-prefixed ConsumerProtocolAssignment; topics keep the order given. */
export function encodeAssignment(a: Omit<Assignment, 'version'>, version: number = CONSUMER_PROTOCOL_VERSION): Buffer {
  const w = new Writer(64)
  w.int16(version)
  ConsumerProtocolAssignment.encode(w, version, { assignedPartitions: a.assignedPartitions, userData: a.userData })
  return w.finishCopy()
}

/**
 * decodeAssignment reads a version-prefixed ConsumerProtocolAssignment, tolerating newer versions like
 * decodeSubscription. An empty buffer is an empty assignment: the coordinator sends one to a member the
 * leader left out.
 */
export function decodeAssignment(buf: Buffer): Assignment {
  if (buf.length === 0) return { version: 0, assignedPartitions: [], userData: null }
  const r = new Reader(buf)
  const version = readVersion(r, 'ConsumerProtocolAssignment')
  const v = ConsumerProtocolAssignment.decode(r, Math.min(version, ConsumerProtocolAssignment.maxVersion))
  r.check('ConsumerProtocolAssignment')
  return { version, assignedPartitions: v.assignedPartitions, userData: v.userData }
}

function readVersion(r: Reader, what: string): number {
  const version = r.int16()
  r.check(what)
  if (version < 0) throw new ProtocolDecodeError(`cannot decode ${what}: unsupported version ${version}`)
  return version
}

/**
 * memberFromJoin turns one member of a JoinGroup response into the GroupMember a balancer takes. The
 * generation is the subscription's generationId (-1 before version 2).
 */
export function memberFromJoin(memberId: string, instanceId: string | null, metadata: Buffer): GroupMember {
  const s = decodeSubscription(metadata)
  return {
    memberId,
    instanceId,
    topics: s.topics,
    userData: s.userData,
    ownedPartitions: s.ownedPartitions,
    generation: s.generationId,
    rackId: s.rackId,
  }
}

/**
 * encodeStickyUserData writes the user data of Java's eager StickyAssignor (its V1 schema): the member's
 * current partitions by topic, then the generation they are from. Topics go in order of first appearance,
 * as Java groups them.
 */
export function encodeStickyUserData(owned: TopicPartitions, generation: number): Buffer {
  const w = new Writer(64)
  w.arrayLength(owned.length)
  for (const tp of owned) {
    w.string(tp.topic)
    w.arrayLength(tp.partitions.length)
    for (const p of tp.partitions) w.int32(p)
  }
  w.int32(generation)
  return w.finishCopy()
}

/** StickyUserData is what an eager sticky member reported: its partitions and, from V1 on, their generation. */
export interface StickyUserData {
  /** partitions are grouped by topic in the order they were written. */
  partitions: TopicPartitions
  /** generation is null for V0 user data, which had none. */
  generation: number | null
}

/**
 * decodeStickyUserData reads Java StickyAssignor user data the way Java does: as V1 (partitions then
 * generation), else as V0 (partitions only); trailing bytes are ignored. Returns null when neither
 * parses; Java then treats the member as owning nothing, at generation -1.
 */
export function decodeStickyUserData(buf: Buffer): StickyUserData | null {
  const v1 = readStickyPartitions(buf)
  if (v1 === null) return null
  const r = v1.reader
  const generation = r.int32()
  if (r.ok) return { partitions: v1.partitions, generation }
  return { partitions: v1.partitions, generation: null }
}

function readStickyPartitions(buf: Buffer): { partitions: StickyUserData['partitions']; reader: Reader } | null {
  const r = new Reader(buf)
  const partitions: TopicPartitions = []
  // Java's Schema reader refuses negative lengths and counts larger than the bytes that remain.
  const topics = r.int32()
  if (!r.ok || topics < 0 || topics > r.remaining()) return null
  for (let i = 0; i < topics; i++) {
    const topic = r.string()
    if (!r.ok || topic === null) return null
    const n = r.int32()
    if (!r.ok || n < 0 || n > r.remaining()) return null
    const ps: number[] = new Array(n)
    for (let j = 0; j < n; j++) ps[j] = r.int32()
    if (!r.ok) return null
    partitions.push({ topic, partitions: ps })
  }
  return { partitions, reader: r }
}

/** encodeCooperativeUserData writes Java CooperativeStickyAssignor's user data: the generation as an int32. */
export function encodeCooperativeUserData(generation: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32BE(generation)
  return b
}

/**
 * decodeCooperativeUserData reads Java CooperativeStickyAssignor user data: null for no user data, -1 for
 * user data too short to hold a generation (Java's fallback), else the generation.
 */
export function decodeCooperativeUserData(buf: Buffer | null): number | null {
  if (buf === null) return null
  return buf.length >= 4 ? buf.readInt32BE(0) : -1
}

/** compareStrings orders strings by UTF-16 code units, as Java's String.compareTo does. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
