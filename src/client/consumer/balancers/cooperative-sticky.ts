/**
 * The cooperative-sticky balancer (KIP-429): the sticky core over the partitions members report owning,
 * with one change that makes incremental rebalancing safe. A partition that moves from one member to
 * another is only taken from its old owner in this rebalance; the new owner gets it in the follow-up
 * rebalance, which the old owner asks for once it has revoked it. No partition is ever owned by two
 * members at once, and members keep consuming everything that does not move. Java's
 * CooperativeStickyAssignor, decision for decision, except where Java would break that rule (see
 * markTransferring).
 */
import type { GroupBalancer, GroupMember, PartitionRacks, Plan } from './index.js'
import { decodeCooperativeUserData, encodeCooperativeUserData, encodeSubscription } from './protocol.js'
import { stickyAssign, type MemberData, type StickyResult } from './sticky.js'

/** cooperativeStickyBalancer returns the 'cooperative-sticky' balancer, equivalent to Java's CooperativeStickyAssignor. */
export function cooperativeStickyBalancer(): GroupBalancer {
  return COOPERATIVE_STICKY
}

const COOPERATIVE_STICKY: GroupBalancer = Object.freeze({
  name: 'cooperative-sticky',
  cooperative: true,
  /**
   * A cooperative member keeps its partitions while it rejoins, so it reports them with their generation
   * (KIP-792). The generation also goes in the user data, as Java writes it, for leaders that read
   * subscriptions older than version 2.
   */
  subscriptionMetadata(topics: string[], owned: Map<string, number[]>, generation: number, rack: string | null): Buffer {
    return encodeSubscription({
      topics,
      userData: encodeCooperativeUserData(generation),
      ownedPartitions: [...owned].map(([topic, partitions]) => ({ topic, partitions })),
      generationId: generation,
      rackId: rack,
    })
  },
  balance(members: GroupMember[], partitions: ReadonlyMap<string, number>, racks?: PartitionRacks): Plan {
    const result = stickyAssign(members, partitions, racks, cooperativeMemberData)
    // Take each moving partition out of its new owner's assignment: its old owner revokes it first.
    const drop = new Uint8Array(result.assignedTo.length)
    if (result.transferring !== null) for (const pid of result.transferring.keys()) drop[pid] = 1
    else markTransferring(result, drop)
    return result.toPlan(drop)
  },
})

/**
 * cooperativeMemberData is what a cooperative member claims: its owned partitions, from the generation in
 * its subscription (version 2+), else from the generation in its user data (-1 when that cannot be read).
 */
function cooperativeMemberData(m: GroupMember): MemberData {
  const generation = m.generation >= 0 ? m.generation : decodeCooperativeUserData(m.userData)
  return { partitions: m.ownedPartitions, generation }
}

/**
 * markTransferring works out, after the general builder, which partitions go to a member other than the
 * one whose claim on them stood, or were claimed by two members of one generation: those are revoked
 * first. The constrained builder applies this rule as it assigns.
 *
 * Java's computePartitionsTransferringOwnership compares against the members' raw owned partitions
 * instead, claims from stale generations included. When the general builder hands a partition back to a
 * member whose stale claim made it the "previous owner" (KIP-341), Java then gives it over at once while
 * its current owner still holds it, and likewise to one of two same-generation claimants. kafka-wire
 * holds the partition back until the follow-up rebalance in those cases, as KIP-429 intends; everywhere
 * else the two rules agree.
 */
function markTransferring(result: StickyResult, drop: Uint8Array): void {
  const { assignedTo, claimedBy, multiplyClaimed } = result
  for (let pid = 0; pid < assignedTo.length; pid++) {
    const to = assignedTo[pid]!
    if (to < 0) continue
    const from = claimedBy[pid]!
    if ((from >= 0 && from !== to) || multiplyClaimed.has(pid)) drop[pid] = 1
  }
}
