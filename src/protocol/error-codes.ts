/** KafkaErrorCode describes one error code of the Kafka protocol. */
export interface KafkaErrorCode {
  /** code is the number on the wire. */
  code: number
  /** name is Kafka's name for it, such as 'NOT_LEADER_OR_FOLLOWER'. */
  name: string
  /** retriable is Kafka's own judgement (a RetriableException subclass in the Java client). */
  retriable: boolean
  /** description is a one-line explanation in kafka-wire's words. */
  description: string
}

/**
 * TABLE lists every error code of Kafka 4.4 (code 0, "no error", is not an error and is left out):
 * code, Kafka's name, whether the Java client's exception for it is a RetriableException, and what it
 * means. Names and retriability were read from the kafka-clients 4.4.0 jar (`Errors.values()`);
 * franz-go's kerr agrees on retriability except where a comment says otherwise, and Java wins there.
 */
const TABLE = [
  [-1, 'UNKNOWN_SERVER_ERROR', false, 'the broker failed in a way it has no specific code for; its log has the detail'],
  [1, 'OFFSET_OUT_OF_RANGE', false, "the requested offset is outside the partition's log (before its start or past its end)"],
  [2, 'CORRUPT_MESSAGE', true, 'a record failed validation: bad CRC, bad size, null key on a compacted topic, or otherwise malformed'],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', true, "the broker has no such topic or partition (it may not exist yet, or the client's metadata is stale)"],
  [4, 'INVALID_FETCH_SIZE', false, 'the fetch asked for an invalid number of bytes'],
  [5, 'LEADER_NOT_AVAILABLE', true, 'the partition has no leader at the moment, usually because an election is under way'],
  // Called NOT_LEADER_FOR_PARTITION before Kafka 2.6 (KIP-392), and still so in franz-go's kerr.
  [6, 'NOT_LEADER_OR_FOLLOWER', true, "this broker is not the partition's leader (or not one of its replicas); refresh metadata and resend"],
  [7, 'REQUEST_TIMED_OUT', true, 'the broker gave up on the request before it completed, e.g. while waiting for replicas'],
  // Java's BrokerNotAvailableException is not retriable; franz-go's kerr marks this one retriable.
  [8, 'BROKER_NOT_AVAILABLE', false, 'the broker named in the request is not alive'],
  [9, 'REPLICA_NOT_AVAILABLE', true, 'a replica of the partition is not available on this broker'],
  [10, 'MESSAGE_TOO_LARGE', false, 'a record batch is larger than the broker or topic accepts (message.max.bytes, max.message.bytes)'],
  [11, 'STALE_CONTROLLER_EPOCH', false, 'the request came from a controller that has since been replaced'],
  [12, 'OFFSET_METADATA_TOO_LARGE', false, 'the metadata string attached to an offset commit is longer than the broker allows'],
  [13, 'NETWORK_EXCEPTION', true, 'the connection was lost before the response arrived'],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', true, 'the coordinator is still loading its state and cannot answer yet'],
  [15, 'COORDINATOR_NOT_AVAILABLE', true, 'the group or transaction coordinator is not available'],
  [16, 'NOT_COORDINATOR', true, 'this broker is not the coordinator for the group or transactional id; look the coordinator up again'],
  [17, 'INVALID_TOPIC_EXCEPTION', false, 'the topic name is invalid, or the operation is not allowed on this topic (e.g. writing to an internal topic)'],
  [18, 'RECORD_LIST_TOO_LARGE', false, "a partition's data in a produce request is larger than the broker's log segment size"],
  [19, 'NOT_ENOUGH_REPLICAS', true, 'too few in-sync replicas to accept a write with acks=all (see min.insync.replicas)'],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', true, 'the write was stored, but the in-sync replicas dropped below the minimum before it was acknowledged'],
  [21, 'INVALID_REQUIRED_ACKS', false, "the produce request's acks value is not -1, 0 or 1"],
  [22, 'ILLEGAL_GENERATION', false, 'the group generation in the request is not the current one; the member must rejoin'],
  [23, 'INCONSISTENT_GROUP_PROTOCOL', false, "the member's protocol type or assignors do not match the rest of the group's"],
  [24, 'INVALID_GROUP_ID', false, 'the group id is empty or otherwise invalid'],
  [25, 'UNKNOWN_MEMBER_ID', false, 'the coordinator does not know this member id; the member must rejoin'],
  [26, 'INVALID_SESSION_TIMEOUT', false, "the session timeout is outside the broker's allowed range (group.min/max.session.timeout.ms)"],
  [27, 'REBALANCE_IN_PROGRESS', false, 'the group is rebalancing; the member must rejoin'],
  [28, 'INVALID_COMMIT_OFFSET_SIZE', false, 'the offset commit is too large to store'],
  [29, 'TOPIC_AUTHORIZATION_FAILED', false, 'the principal may not perform this operation on the topic'],
  [30, 'GROUP_AUTHORIZATION_FAILED', false, 'the principal may not perform this operation on the group'],
  [31, 'CLUSTER_AUTHORIZATION_FAILED', false, 'the principal may not perform this operation on the cluster'],
  [32, 'INVALID_TIMESTAMP', false, 'a record timestamp is outside the range the topic accepts'],
  [33, 'UNSUPPORTED_SASL_MECHANISM', false, 'the broker does not offer the requested SASL mechanism'],
  [34, 'ILLEGAL_SASL_STATE', false, 'the request is not valid at this step of the SASL exchange'],
  [35, 'UNSUPPORTED_VERSION', false, 'the broker does not support this API, or this version of it'],
  [36, 'TOPIC_ALREADY_EXISTS', false, 'a topic with this name exists already'],
  [37, 'INVALID_PARTITIONS', false, 'the partition count is invalid (below 1, or not an increase)'],
  [38, 'INVALID_REPLICATION_FACTOR', false, 'the replication factor is below 1 or above the number of available brokers'],
  [39, 'INVALID_REPLICA_ASSIGNMENT', false, 'the explicit replica assignment is invalid'],
  [40, 'INVALID_CONFIG', false, 'a configuration name or value in the request is invalid'],
  [41, 'NOT_CONTROLLER', true, 'this broker is not the active controller'],
  [42, 'INVALID_REQUEST', false, 'the broker could not make sense of the request: usually a client bug or a version mismatch (see the broker log)'],
  [43, 'UNSUPPORTED_FOR_MESSAGE_FORMAT', false, 'the request needs a newer message format than the topic uses'],
  [44, 'POLICY_VIOLATION', false, 'the request breaks a policy configured on the broker (e.g. a create-topic policy)'],
  [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false, "an idempotent batch's sequence number skips ahead of what the broker expected"],
  [46, 'DUPLICATE_SEQUENCE_NUMBER', false, 'the broker already has a batch with this sequence number'],
  [47, 'INVALID_PRODUCER_EPOCH', false, 'the producer used an epoch older than the current one for its producer id'],
  [48, 'INVALID_TXN_STATE', false, "the transactional operation is not valid in the transaction's current state"],
  [49, 'INVALID_PRODUCER_ID_MAPPING', false, 'the producer id is not the one currently assigned to this transactional id'],
  [50, 'INVALID_TRANSACTION_TIMEOUT', false, "the transaction timeout exceeds the broker's transaction.max.timeout.ms"],
  // Java's ConcurrentTransactionsException is retriable; franz-go's kerr marks this one not retriable.
  [51, 'CONCURRENT_TRANSACTIONS', true, 'another operation on the same transaction is still in progress (e.g. the previous commit is completing)'],
  [52, 'TRANSACTION_COORDINATOR_FENCED', false, 'the transaction coordinator writing markers has been replaced by a newer one'],
  [53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', false, 'the principal may not use this transactional id'],
  [54, 'SECURITY_DISABLED', false, 'the request needs security features that are turned off on the broker'],
  [55, 'OPERATION_NOT_ATTEMPTED', false, 'the broker skipped this part of a batched request because another part failed'],
  [56, 'KAFKA_STORAGE_ERROR', true, 'the broker hit a disk error on the log directory that holds the partition'],
  [57, 'LOG_DIR_NOT_FOUND', false, 'the log directory named in the request is not configured on the broker'],
  [58, 'SASL_AUTHENTICATION_FAILED', false, 'SASL authentication failed (wrong credentials or a mechanism set up wrongly)'],
  [59, 'UNKNOWN_PRODUCER_ID', false, 'the broker has no state for this producer id, e.g. because all of its records left the log'],
  [60, 'REASSIGNMENT_IN_PROGRESS', false, 'the operation conflicts with a partition reassignment that is under way'],
  [61, 'DELEGATION_TOKEN_AUTH_DISABLED', false, 'delegation tokens are not enabled on the cluster'],
  [62, 'DELEGATION_TOKEN_NOT_FOUND', false, 'no such delegation token'],
  [63, 'DELEGATION_TOKEN_OWNER_MISMATCH', false, 'the principal is neither the owner nor a renewer of the delegation token'],
  [64, 'DELEGATION_TOKEN_REQUEST_NOT_ALLOWED', false, 'delegation token requests need a SASL or mutual-TLS connection that was not itself authenticated by a token'],
  [65, 'DELEGATION_TOKEN_AUTHORIZATION_FAILED', false, 'the principal may not perform this delegation token operation'],
  [66, 'DELEGATION_TOKEN_EXPIRED', false, 'the delegation token has expired'],
  [67, 'INVALID_PRINCIPAL_TYPE', false, 'the principal type is not supported'],
  [68, 'NON_EMPTY_GROUP', false, 'the group still has members, so it cannot be deleted'],
  [69, 'GROUP_ID_NOT_FOUND', false, 'no group with this id exists'],
  [70, 'FETCH_SESSION_ID_NOT_FOUND', true, 'the broker no longer has the incremental fetch session; start a new one'],
  [71, 'INVALID_FETCH_SESSION_EPOCH', true, "the fetch session epoch does not match the broker's; start a new session"],
  [72, 'LISTENER_NOT_FOUND', true, 'the partition leader has no listener with the name this metadata request arrived on'],
  [73, 'TOPIC_DELETION_DISABLED', false, 'topic deletion is turned off on the cluster (delete.topic.enable)'],
  [74, 'FENCED_LEADER_EPOCH', true, "the request's leader epoch is older than the broker's; refresh metadata"],
  [75, 'UNKNOWN_LEADER_EPOCH', true, "the request's leader epoch is newer than the broker's; the broker has not caught up yet"],
  [76, 'UNSUPPORTED_COMPRESSION_TYPE', false, "the request version cannot carry the topic's compression codec (e.g. zstd on an old fetch version)"],
  [77, 'STALE_BROKER_EPOCH', false, 'the broker epoch in the request is out of date'],
  [78, 'OFFSET_NOT_AVAILABLE', true, "the new leader's high watermark has not caught up since the election, so it cannot answer for this offset yet"],
  [79, 'MEMBER_ID_REQUIRED', false, 'the member must rejoin with the member id the coordinator has just assigned it'],
  [80, 'PREFERRED_LEADER_NOT_AVAILABLE', true, 'the preferred replica could not become the leader'],
  [81, 'GROUP_MAX_SIZE_REACHED', false, 'the group already has as many members as group.max.size allows'],
  [82, 'FENCED_INSTANCE_ID', false, "another member with the same group.instance.id has taken this static member's place"],
  [83, 'ELIGIBLE_LEADERS_NOT_AVAILABLE', true, 'no replica eligible to become leader is available for the election'],
  [84, 'ELECTION_NOT_NEEDED', true, 'the requested leader election would change nothing'],
  [85, 'NO_REASSIGNMENT_IN_PROGRESS', false, 'there is no partition reassignment to cancel'],
  [86, 'GROUP_SUBSCRIBED_TO_TOPIC', false, 'offsets cannot be deleted for a topic the group is actively consuming'],
  [87, 'INVALID_RECORD', false, 'the broker rejected a record that failed its validation'],
  [88, 'UNSTABLE_OFFSET_COMMIT', true, 'transactional offset commits for the partition are still pending; retry once they settle'],
  [89, 'THROTTLING_QUOTA_EXCEEDED', true, 'the request went over a controller mutation quota; retry later'],
  [90, 'PRODUCER_FENCED', false, 'a newer producer with the same transactional id has fenced this one'],
  [91, 'RESOURCE_NOT_FOUND', false, 'the request referred to a resource that does not exist'],
  [92, 'DUPLICATE_RESOURCE', false, 'the request named the same resource more than once'],
  [93, 'UNACCEPTABLE_CREDENTIAL', false, "the credential does not meet the broker's requirements (e.g. too few SCRAM iterations)"],
  [94, 'INCONSISTENT_VOTER_SET', false, 'the sender or receiver of a KRaft voter request is not in the expected voter set'],
  [95, 'INVALID_UPDATE_VERSION', false, "the feature update's version is invalid"],
  [96, 'FEATURE_UPDATE_FAILED', false, 'the broker could not update the finalized features because of an unexpected error'],
  [97, 'PRINCIPAL_DESERIALIZATION_FAILURE', false, "a forwarded request's principal could not be deserialized: a problem in the brokers' security setup"],
  [98, 'SNAPSHOT_NOT_FOUND', false, 'the requested KRaft snapshot does not exist'],
  [99, 'POSITION_OUT_OF_RANGE', false, 'the requested position is outside the snapshot'],
  [100, 'UNKNOWN_TOPIC_ID', true, 'the broker has no topic with this topic id'],
  [101, 'DUPLICATE_BROKER_REGISTRATION', false, 'another broker is already registered with this broker id'],
  [102, 'BROKER_ID_NOT_REGISTERED', false, 'no broker is registered with this broker id'],
  [103, 'INCONSISTENT_TOPIC_ID', true, "the topic id in the request does not match the one in the partition's log"],
  [104, 'INCONSISTENT_CLUSTER_ID', false, "the cluster id in the request does not match the server's"],
  [105, 'TRANSACTIONAL_ID_NOT_FOUND', false, 'no transaction state exists for this transactional id'],
  [106, 'FETCH_SESSION_TOPIC_ID_ERROR', true, 'the fetch session used topic ids and topic names inconsistently; start a new session'],
  [107, 'INELIGIBLE_REPLICA', false, 'the proposed in-sync replica set includes a replica that may not be in it'],
  [108, 'NEW_LEADER_ELECTED', false, 'the partition state change was applied, but leadership has moved since'],
  [109, 'OFFSET_MOVED_TO_TIERED_STORAGE', false, 'the requested offset now lives only in tiered (remote) storage'],
  [110, 'FENCED_MEMBER_EPOCH', false, "the coordinator fenced this member's epoch (KIP-848); it must give up its partitions and rejoin"],
  [111, 'UNRELEASED_INSTANCE_ID', false, 'another member still holds this static instance id and must leave first'],
  [112, 'UNSUPPORTED_ASSIGNOR', false, 'the group does not support the requested server-side assignor, or that version of it'],
  [113, 'STALE_MEMBER_EPOCH', false, 'the member epoch is out of date; retry once a heartbeat has delivered the current one'],
  [114, 'MISMATCHED_ENDPOINT_TYPE', false, 'the request was sent to the wrong kind of endpoint (broker versus controller)'],
  [115, 'UNSUPPORTED_ENDPOINT_TYPE', false, 'this kind of endpoint is not supported yet'],
  [116, 'UNKNOWN_CONTROLLER_ID', false, 'no controller with this id is known'],
  [117, 'UNKNOWN_SUBSCRIPTION_ID', false, 'the telemetry push named a subscription id that is unknown or out of date'],
  [118, 'TELEMETRY_TOO_LARGE', false, 'the telemetry push is larger than the broker accepts'],
  [119, 'INVALID_REGISTRATION', false, "the controller judged the broker's registration invalid"],
  [120, 'TRANSACTION_ABORTABLE', false, 'the transaction hit an error; abort it to keep using the transactional id'],
  [121, 'INVALID_RECORD_STATE', false, 'the share-group acknowledgement could not be applied because the record is in the wrong state'],
  // KIP-932 share sessions: Java marks 122 and 123 retriable; franz-go's kerr marks them not retriable.
  [122, 'SHARE_SESSION_NOT_FOUND', true, 'the broker has no share session with this id'],
  [123, 'INVALID_SHARE_SESSION_EPOCH', true, "the share session epoch does not match the broker's"],
  [124, 'FENCED_STATE_EPOCH', false, 'the share coordinator rejected the request because its state epoch is out of date'],
  [125, 'INVALID_VOTER_KEY', false, "the voter key does not match the receiving replica's"],
  [126, 'DUPLICATE_VOTER', false, 'the voter is already in the voter set'],
  [127, 'VOTER_NOT_FOUND', false, 'the voter is not in the voter set'],
  [128, 'INVALID_REGULAR_EXPRESSION', false, "the subscription's regular expression is invalid"],
  [129, 'REBOOTSTRAP_REQUIRED', false, "the client's metadata is too stale to use; it must rebootstrap from its seed brokers"],
  [130, 'STREAMS_INVALID_TOPOLOGY', false, 'the Streams group topology is invalid'],
  [131, 'STREAMS_INVALID_TOPOLOGY_EPOCH', false, 'the Streams group topology epoch is invalid'],
  [132, 'STREAMS_TOPOLOGY_FENCED', false, "the Streams group topology epoch is older than the group's"],
  [133, 'SHARE_SESSION_LIMIT_REACHED', true, 'the broker already holds as many share sessions as it allows'],
  // 134..136 are new in Kafka 4.4 (not yet in franz-go's kerr).
  [134, 'GROUP_DELETION_FAILED', false, 'a group could not be deleted; the per-group error message says why'],
  [135, 'STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED', false, 'the broker could not apply the Streams topology description update'],
  [136, 'CONTROLLER_ID_NOT_REGISTERED', false, 'no controller is registered with this id'],
] as const satisfies readonly (readonly [number, string, boolean, string])[]

type Entry = (typeof TABLE)[number]

/** KafkaErrorName is the name of any Kafka error code, such as 'NOT_LEADER_OR_FOLLOWER'. */
export type KafkaErrorName = Entry[1]

/** kafkaErrorCodes maps every Kafka error code to its name, retriability and description. */
export const kafkaErrorCodes: ReadonlyMap<number, KafkaErrorCode> = new Map<number, KafkaErrorCode>(
  TABLE.map(([code, name, retriable, description]) => [code, Object.freeze({ code, name, retriable, description })]),
)

const byName: ReadonlyMap<string, KafkaErrorCode> = new Map([...kafkaErrorCodes.values()].map((e) => [e.name, e]))

/** errorCodeByName returns the error code with Kafka's name `name` (e.g. 'UNKNOWN_TOPIC_ID'), if any. */
export function errorCodeByName(name: string): KafkaErrorCode | undefined {
  return byName.get(name)
}

/**
 * ErrorCode holds every Kafka error code by name, plus NONE (0), so code can say
 * `err === ErrorCode.NOT_LEADER_OR_FOLLOWER` instead of a bare 6.
 */
export const ErrorCode: { readonly NONE: 0 } & { readonly [E in Entry as E[1]]: E[0] } = Object.freeze(
  Object.fromEntries([['NONE', 0], ...TABLE.map(([code, name]) => [name, code])]),
) as never
