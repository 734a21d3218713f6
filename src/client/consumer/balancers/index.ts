/**
 * Group balancers: the assignment strategies a classic-protocol group leader runs over the members of a
 * JoinGroup response (franz-go's GroupBalancer, Java's ConsumerPartitionAssignor). Each gives the
 * assignment the Java assignor of the same name in kafka-clients 4.4 gives for the same members and
 * metadata, so a group may mix kafka-wire and Java members whichever of them leads. The few deliberate
 * differences, for rare inputs where Java assigns an unsubscribed topic or lets two members own a
 * partition at once, are listed in sticky.ts and cooperative-sticky.ts.
 */
import { cooperativeStickyBalancer } from './cooperative-sticky.js'
import { rangeBalancer } from './range.js'
import { roundRobinBalancer } from './round-robin.js'
import { stickyBalancer } from './sticky.js'

export { cooperativeStickyBalancer } from './cooperative-sticky.js'
export { rangeBalancer } from './range.js'
export { roundRobinBalancer } from './round-robin.js'
export { stickyBalancer } from './sticky.js'
export {
  CONSUMER_PROTOCOL_VERSION,
  decodeAssignment,
  decodeCooperativeUserData,
  decodeStickyUserData,
  decodeSubscription,
  encodeAssignment,
  encodeCooperativeUserData,
  encodeStickyUserData,
  encodeSubscription,
  memberFromJoin,
  type Assignment,
  type StickyUserData,
  type Subscription,
  type TopicPartitions,
} from './protocol.js'

/** GroupMember is one member of a JoinGroup response with its subscription decoded. */
export interface GroupMember {
  memberId: string
  /** instanceId is the member's group.instance.id (KIP-345 static membership), or null. */
  instanceId: string | null
  topics: string[]
  userData: Buffer | null
  /** ownedPartitions are the partitions the member reports owning (subscription v1+; KIP-429). */
  ownedPartitions: Array<{ topic: string; partitions: number[] }>
  /** generation is the subscription's generationId, -1 when the member sent none (before v2). */
  generation: number
  /** rackId is the member's rack (subscription v3+; KIP-881), or null. */
  rackId: string | null
}

/**
 * PartitionRacks gives, per topic and partition index, the racks of the brokers holding a replica of the
 * partition (brokers without a rack left out). Rack-aware assignment (KIP-881) needs it; without it, or
 * when no member has a rack, every balancer assigns as if racks did not exist, as Java does.
 */
export type PartitionRacks = ReadonlyMap<string, ReadonlyArray<ReadonlyArray<string>>>

/** Plan is a balancer's result: member id → topic → partitions (ascending). Every member has an entry. */
export type Plan = Map<string, Map<string, number[]>>

/** GroupBalancer is an assignment strategy of the classic consumer group protocol. */
export interface GroupBalancer {
  /** name is the protocol name sent in JoinGroup: 'range', 'roundrobin', 'sticky' or 'cooperative-sticky'. */
  readonly name: string
  /** cooperative is true only for cooperative-sticky (KIP-429 incremental rebalancing). */
  readonly cooperative: boolean
  /**
   * subscriptionMetadata returns the ConsumerProtocolSubscription this member sends in JoinGroup for
   * these topics: `owned` are the partitions it holds now and `generation` the generation they came from
   * (-1 for none), `rack` its client.rack.
   */
  subscriptionMetadata(topics: string[], owned: Map<string, number[]>, generation: number, rack: string | null): Buffer
  /**
   * balance assigns partitions (topic → partition count) to members and returns member id → topic →
   * partitions. `racks` enables rack-aware assignment (KIP-881) for balancers that support it.
   */
  balance(members: GroupMember[], partitions: ReadonlyMap<string, number>, racks?: PartitionRacks): Plan
}

/** BALANCER_NAMES are the protocol names balancerByName knows. */
export const BALANCER_NAMES = ['range', 'roundrobin', 'sticky', 'cooperative-sticky'] as const

/** BalancerName names a built-in balancer. */
export type BalancerName = (typeof BALANCER_NAMES)[number]

/** balancerByName returns the balancer for a protocol name, or undefined for a name kafka-wire does not know. */
export function balancerByName(name: string): GroupBalancer | undefined {
  switch (name) {
    case 'range':
      return rangeBalancer()
    case 'roundrobin':
      return roundRobinBalancer()
    case 'sticky':
      return stickyBalancer()
    case 'cooperative-sticky':
      return cooperativeStickyBalancer()
    default:
      return undefined
  }
}
