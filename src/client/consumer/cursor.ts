import { ZERO_UUID } from '../../protocol/reader.js'
import type { OffsetSpec } from '../options.js'
import type { Source } from './source.js'

/**
 * Cursor is one consumed partition: where the next fetch starts, where it is fetched from, and
 * whether it may be fetched now. Its offset moves when a response is buffered, so the next fetch
 * may go out before that data is polled; the consumer's buffer bounds (maxBufferedFetchRecords,
 * maxBufferedFetchBytes) hold fetching back when the application polls slowly.
 */
export class Cursor {
  readonly topic: string
  readonly partition: number
  topicId = ZERO_UUID
  /** offset is the next offset to fetch; -1n while `pending` is being resolved. */
  offset = -1n
  /** pending is a start position still to be turned into an offset (ListOffsets), or null. */
  pending: OffsetSpec | null = null
  /** leaderEpoch is the partition's leader epoch from metadata, sent as currentLeaderEpoch (KIP-320). */
  leaderEpoch = -1
  /** lastFetchedEpoch is the leader epoch of the last batch fetched. */
  lastFetchedEpoch = -1
  /** source fetches this partition: the leader's, or a preferred read replica's (KIP-392). */
  source: Source | null = null
  /** preferredReplica is the replica the leader told us to fetch from, -1 for the leader. */
  preferredReplica = -1
  /** preferredUntil is when fetching from preferredReplica ends and the leader is asked again (recheckPreferredReplicaInterval). */
  preferredUntil = 0
  paused = false
  /** removed is set once the partition is no longer consumed; buffered data for it is dropped. */
  removed = false
  /** resolving is true while a ListOffsets for `pending` is in flight. */
  resolving = false
  backoffUntil = 0
  /**
   * awaitingLeader is set when the broker said the partition's leader moved (NOT_LEADER_OR_FOLLOWER,
   * FENCED_LEADER_EPOCH, ...): the partition is not fetched again until the metadata load this asks
   * for has finished, so the next fetch goes to the new leader with its epoch.
   */
  awaitingLeader = false
  highWatermark = -1n
  lastStableOffset = -1n
  logStartOffset = -1n
  /** generation increases whenever the cursor's position is set from outside, so stale fetches are dropped. */
  generation = 0

  constructor(topic: string, partition: number) {
    this.topic = topic
    this.partition = partition
  }

  /** fetchable is true when the cursor may go into a fetch request now. */
  fetchable(now: number): boolean {
    return !this.paused && !this.removed && !this.awaitingLeader && this.offset >= 0n && this.pending === null && now >= this.backoffUntil
  }

  /** reset sets a start position to resolve (a new assignment, or OFFSET_OUT_OF_RANGE). */
  reset(spec: OffsetSpec): void {
    this.generation++
    this.lastFetchedEpoch = -1
    if (typeof spec === 'object' && 'offset' in spec) {
      this.offset = spec.offset
      this.pending = null
    } else {
      this.offset = -1n
      this.pending = spec
    }
  }

  /** setOffset moves the cursor to an exact offset (a committed offset, a seek). */
  setOffset(offset: bigint, leaderEpoch = -1): void {
    this.generation++
    this.offset = offset
    this.pending = null
    this.lastFetchedEpoch = leaderEpoch
  }
}
