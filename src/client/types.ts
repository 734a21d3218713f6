/**
 * Types shared by the client's parts (core, broker, routing, producer, consumer, groups), kept here
 * so that those files need not import each other for a type. Types only: no runtime code.
 */

import type { KafkaProtocolError, KafkaWireError } from '../protocol/errors.js'
import type { LeaderMove } from './metadata.js'

/**
 * ConnectionKind separates traffic so that a long fetch never delays a produce or a heartbeat:
 * each broker gets up to one connection of each kind.
 */
export type ConnectionKind = 'produce' | 'fetch' | 'group' | 'other'

/** CoordinatorType is 0 for a group coordinator and 1 for a transaction coordinator (FindCoordinator's KeyType). */
export type CoordinatorType = 0 | 1

/** ClientRequestOptions are per-call options of `client.request`. */
export interface ClientRequestOptions {
  signal?: AbortSignal
  /** broker sends the request to this node id instead of routing it. */
  broker?: number
  /** version forces a request version. */
  version?: number
  /** timeout bounds one attempt, in ms. */
  timeout?: number
}

/**
 * CoreRequestOptions are ClientRequestOptions plus what only the client's own layers pass to
 * `ClientCore.request`: `prepare` turns the body (or, for a request split per leader, each part of it)
 * into what is encoded once the version is negotiated (checks, version-dependent fields).
 */
export interface CoreRequestOptions extends ClientRequestOptions {
  prepare?: (version: number, body: any) => unknown
  /**
   * askAgain false keeps a partition request from waiting on moved partitions: those answering that
   * their leader moved come back with that answer, and one without a leader fails the call at once
   * (UnknownLeaderError), for callers that retry them on their own (the consumer's offset lookups, so
   * one moved partition does not hold the others back). Failed requests are still sent again.
   * Default true.
   */
  askAgain?: boolean
}

/** EpochOffset is an offset with the leader epoch of the record before it (for commits, KIP-320). */
export interface EpochOffset {
  offset: bigint
  leaderEpoch: number
}

/** CommitOffsets maps topic → partition → offset (with leader epoch and commit metadata). */
export type CommitOffsets = Map<string, Map<number, EpochOffset & { metadata?: string | null }>>

/**
 * AutoCommitResult is the outcome of one commit the client made by itself (autoCommitCallback): the
 * periodic autocommit, or the commit of what was polled before partitions are revoked or the client
 * closes.
 */
export interface AutoCommitResult {
  /** offsets are what the commit carried: topic → partition → the next offset to consume, with its leader epoch. */
  offsets: CommitOffsets
  /**
   * error is null when every partition was committed. Otherwise it is the failure of the whole request
   * (nothing was committed: the coordinator unreachable, the client closing) or, when the broker
   * refused some partitions, the first of `partitionErrors`.
   */
  error: Error | null
  /** partitionErrors are the partitions the broker refused, each a KafkaProtocolError naming its topic and partition. */
  partitionErrors: KafkaProtocolError[]
}

/**
 * GroupMetadata identifies a consumer group member for offsets committed in a transaction (Java's
 * ConsumerGroupMetadata): the coordinator refuses them once the group has moved on from the member's
 * generation (KIP-447), which fences zombies. `memberId` '' and `generation` -1 (the defaults) commit
 * without that check. `generation` is the KIP-848 member epoch for members of 'consumer' groups.
 */
export interface GroupMetadata {
  groupId: string
  memberId?: string
  generation?: number
  instanceId?: string | null
}

/**
 * CoreListener is how a part of the client (producer, consumer) hears from the core: after every
 * metadata load, after a load that failed, when a broker's answer names a partition's new leader, and
 * when the core asks whether a topic is still wanted.
 */
export interface CoreListener {
  onMetadata?(): void
  onMetadataError?(err: Error): void
  /** onLeadersMoved is told of partition leaders learned from brokers' answers (KIP-951), between loads. */
  onLeadersMoved?(moves: readonly LeaderMove[]): void
  /** onTopicsDeleted is told of topics metadata has lacked for considerMissingTopicDeletedAfter (before that load's onMetadata). */
  onTopicsDeleted?(topics: readonly string[]): void
  /** wants is true while the part produces to or consumes the topic (its metadata stays of interest). */
  wants?(topic: string): boolean
}

/**
 * AckStatus is how a share-group record is acknowledged: processed ('accept'), given back for
 * redelivery ('release'), refused for good ('reject'), or kept a while longer ('renew': its
 * acquisition lock starts over, KIP-1222; it still needs one of the other three).
 */
export type AckStatus = 'accept' | 'release' | 'reject' | 'renew'

/** ShareAckResult is a broker's answer to the acknowledgements of one partition sent in one request. */
export interface ShareAckResult {
  topic: string
  partition: number
  /** records counts the polled records this answer is about: their acknowledgements, and their renewals (`renewed`). */
  records: number
  /** renewed counts those of `records` that were renewals: they stay acquired, and a final mark is still to come. */
  renewed: number
  /** error is null when the broker applied them; otherwise the records go back to the group (delivered again after the broker's acquisition lock expires, at worst). */
  error: KafkaWireError | null
}
