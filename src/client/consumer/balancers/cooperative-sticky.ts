/**
 * The cooperative-sticky balancer (KIP-429): the sticky core over the partitions members report owning,
 * with one change that makes incremental rebalancing safe. A partition that moves from one member to
 * another is only taken from its old owner in this rebalance; the new owner gets it in the follow-up
 * rebalance, which the old owner asks for once it has revoked it. No partition is ever owned by two
 * members at once, and members keep consuming everything that does not move. Java's
 * CooperativeStickyAssignor, decision for decision.
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
    else markTransferring(members, result, drop)
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
 * markTransferring works out, after the general builder, which partitions go to a member that did not
 * report owning them while another member reported owning them (and is not keeping them): those must
 * be revoked first. Java's computePartitionsTransferringOwnership, over flags instead of sets.
 */
function markTransferring(members: readonly GroupMember[], result: StickyResult, drop: Uint8Array): void {
  const assignedTo = result.assignedTo
  const revoked = new Uint8Array(assignedTo.length)
  // claimedBy[pid] is 1 + the index of the last member seen claiming it.
  const claimedBy = new Int32Array(assignedTo.length)
  const added: number[] = []
  for (let i = 0; i < members.length; i++) {
    for (const tp of members[i]!.ownedPartitions) {
      for (const p of tp.partitions) {
        const pid = result.partitionId(tp.topic, p)
        if (pid < 0) continue
        claimedBy[pid] = i + 1
        if (assignedTo[pid] !== i) revoked[pid] = 1
      }
    }
    for (const pid of result.assigned[i]!) if (claimedBy[pid] !== i + 1) added.push(pid)
  }
  for (const pid of added) if (revoked[pid] === 1) drop[pid] = 1
}
