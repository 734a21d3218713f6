/**
 * The type-only part of KafkaJS 2.2.4's API that programs name in their own declarations: the typed
 * events listeners receive, the admin client's argument and result shapes, the Cluster and Broker
 * views custom assigners are handed, the authentication and socket-factory arguments and the error
 * metadata. They describe values; test/kafkajs/types.test.ts compiles typed KafkaJS programs against
 * them and against KafkaJS's own declarations.
 */
import type { ConnectionOptions } from 'node:tls'
import type { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ConfigResourceTypes, ConfigSource, ResourcePatternTypes } from './constants.js'
import type { MemberDescription, TopicOffsets, TopicPartitions } from './consumer.js'
import type { KafkaJSError, KafkaJSProtocolError } from './errors.js'
import type { InstrumentationEvent } from './events.js'
import type { Logger } from './logger.js'
import type { PartitionMetadata } from './partitioners.js'

// ---------------------------------------------------------------- events

/** ConnectEvent is a CONNECT event: no payload. */
export type ConnectEvent = InstrumentationEvent<null>
/** DisconnectEvent is a DISCONNECT event: no payload. */
export type DisconnectEvent = InstrumentationEvent<null>
/**
 * RequestEvent is a `*.network.request` event: one answered request. apiVersion and correlationId are
 * -1 on kafka-wire (docs/kafkajs.md).
 */
export type RequestEvent = InstrumentationEvent<{
  apiKey: number
  apiName: string
  apiVersion: number
  broker: string
  clientId: string
  correlationId: number
  createdAt: number
  duration: number
  pendingDuration: number
  sentAt: number
  size: number
}>
/** RequestTimeoutEvent is a `*.network.request_timeout` event: a request that got no answer in time. */
export type RequestTimeoutEvent = InstrumentationEvent<{
  apiKey: number
  apiName: string
  apiVersion: number
  broker: string
  clientId: string
  correlationId: number
  createdAt: number
  pendingDuration: number
  sentAt: number
}>
/** RequestQueueSizeEvent is a `*.network.request_queue_size` event: requests awaiting answers from one broker. */
export type RequestQueueSizeEvent = InstrumentationEvent<{ broker: string; clientId: string; queueSize: number }>

/** ConsumerHeartbeatEvent is a consumer's HEARTBEAT event. */
export type ConsumerHeartbeatEvent = InstrumentationEvent<{ groupId: string; memberId: string; groupGenerationId: number }>
/** ConsumerCommitOffsetsEvent is a consumer's COMMIT_OFFSETS event: the offsets committed. */
export type ConsumerCommitOffsetsEvent = InstrumentationEvent<{ groupId: string; memberId: string; groupGenerationId: number; topics: TopicOffsets[] }>
/** IMemberAssignment maps topics to the partitions a member was given. */
export interface IMemberAssignment {
  [key: string]: number[]
}
/** ConsumerGroupJoinEvent is a consumer's GROUP_JOIN event: a join (or a KIP-848 assignment) completed. */
export type ConsumerGroupJoinEvent = InstrumentationEvent<{
  duration: number
  groupId: string
  isLeader: boolean
  leaderId: string
  groupProtocol: string
  memberId: string
  memberAssignment: IMemberAssignment
}>
/** ConsumerFetchStartEvent is a consumer's FETCH_START event. */
export type ConsumerFetchStartEvent = InstrumentationEvent<{ nodeId: number }>
/** ConsumerFetchEvent is a consumer's FETCH event: a fetch answered. */
export type ConsumerFetchEvent = InstrumentationEvent<{ numberOfBatches: number; duration: number; nodeId: number }>
/** IBatchProcessEvent is the payload of START_BATCH_PROCESS (and, with a duration, END_BATCH_PROCESS). */
export interface IBatchProcessEvent {
  topic: string
  partition: number
  highWatermark: string
  offsetLag: string
  offsetLagLow: string
  batchSize: number
  firstOffset: string
  lastOffset: string
}
/** ConsumerStartBatchProcessEvent is a consumer's START_BATCH_PROCESS event. */
export type ConsumerStartBatchProcessEvent = InstrumentationEvent<IBatchProcessEvent>
/** ConsumerEndBatchProcessEvent is a consumer's END_BATCH_PROCESS event. */
export type ConsumerEndBatchProcessEvent = InstrumentationEvent<IBatchProcessEvent & { duration: number }>
/** ConsumerCrashEvent is a consumer's CRASH event: the error, and whether the consumer restarts. */
export type ConsumerCrashEvent = InstrumentationEvent<{ error: Error; groupId: string; restart: boolean }>
/** ConsumerRebalancingEvent is a consumer's REBALANCING event. */
export type ConsumerRebalancingEvent = InstrumentationEvent<{ groupId: string; memberId: string }>
/** ConsumerReceivedUnsubcribedTopicsEvent (KafkaJS's spelling) is a RECEIVED_UNSUBSCRIBED_TOPICS event. */
export type ConsumerReceivedUnsubcribedTopicsEvent = InstrumentationEvent<{
  groupId: string
  generationId: number
  memberId: string
  assignedTopics: string[]
  topicsSubscribed: string[]
  topicsNotSubscribed: string[]
}>

// ---------------------------------------------------------------- topics, partitions, groups

/** TopicPartition names one partition. */
export type TopicPartition = { topic: string; partition: number }
/** TopicPartitionOffset is a partition and an offset (a string), as seek takes it. */
export type TopicPartitionOffset = TopicPartition & { offset: string }
/** FetchOffsetsPartition is a partition's committed offset and metadata, as fetchOffsets returns it. */
export type FetchOffsetsPartition = { partition: number; offset: string } & { metadata: string | null }
/** ConsumerGroupState is a group's state as the broker names it. */
export type ConsumerGroupState = 'Unknown' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead' | 'Empty'
/** ConsumerGroup is a group's identity in a group coordinator's answers. */
export type ConsumerGroup = { groupId: string; generationId: number; memberId: string; coordinator: { nodeId: number; host: string; port: number } }
/** GroupDescriptions is what admin.describeGroups returns. */
export type GroupDescriptions = { groups: Array<{ groupId: string; members: MemberDescription[]; protocol: string; protocolType: string; state: ConsumerGroupState | string; errorCode?: number }> }
/** DeleteGroupsResult is one group's outcome in admin.deleteGroups. */
export type DeleteGroupsResult = { groupId: string; errorCode?: number; error?: KafkaJSProtocolError }

// ---------------------------------------------------------------- admin shapes

/** ReplicaAssignment places one partition's replicas on brokers. */
export interface ReplicaAssignment {
  partition: number
  replicas: Array<number>
}
/** PartitionReassignment moves partitions of a topic to other brokers. */
export interface PartitionReassignment {
  topic: string
  partitionAssignment: Array<ReplicaAssignment>
}
/** ITopicPartitionConfig asks for a topic's partition count to grow to `count`. */
export interface ITopicPartitionConfig {
  topic: string
  count: number
  assignments?: Array<Array<number>>
}
/** IResourceConfigEntry is one configuration name and value. */
export interface IResourceConfigEntry {
  name: string
  value: string
}
/** IResourceConfig is a resource and the configuration values to set on it. */
export interface IResourceConfig {
  type: ConfigResourceTypes
  name: string
  configEntries: IResourceConfigEntry[]
}
/** ResourceConfigQuery asks for a resource's configuration (all of it, or the names given). */
export interface ResourceConfigQuery {
  type: ConfigResourceTypes
  name: string
  configNames?: string[]
}
/** ConfigSynonyms is where else a configuration value is set. */
export interface ConfigSynonyms {
  configName: string
  configValue: string
  configSource: ConfigSource
}
/** ConfigEntries is one configuration value of a described resource. */
export interface ConfigEntries {
  configName: string
  configValue: string
  isDefault: boolean
  configSource: ConfigSource
  isSensitive: boolean
  readOnly: boolean
  configSynonyms: ConfigSynonyms[]
}
/** DescribeConfigResponse is what admin.describeConfigs returns. */
export interface DescribeConfigResponse {
  resources: {
    configEntries: ConfigEntries[]
    errorCode: number
    errorMessage: string
    resourceName: string
    resourceType: ConfigResourceTypes
  }[]
  throttleTime: number
}
/** Acl is who may do what, from where. */
export interface Acl {
  principal: string
  host: string
  operation: AclOperationTypes
  permissionType: AclPermissionTypes
}
/** AclResource is what an ACL applies to. */
export interface AclResource {
  resourceType: AclResourceTypes
  resourceName: string
  resourcePatternType: ResourcePatternTypes
}
/** AclEntry is one ACL binding, as createAcls takes it. */
export type AclEntry = Acl & AclResource
/** DescribeAclResource is a resource and its ACLs in describeAcls' answer. */
export type DescribeAclResource = AclResource & { acls: Acl[] }
/** DescribeAclResponse is what admin.describeAcls returns. */
export interface DescribeAclResponse {
  throttleTime: number
  errorCode: number
  errorMessage?: string
  resources: DescribeAclResource[]
}
/** AclFilter selects ACL bindings (describeAcls, deleteAcls). */
export interface AclFilter {
  resourceType: AclResourceTypes
  resourceName?: string
  resourcePatternType: ResourcePatternTypes
  principal?: string
  host?: string
  operation: AclOperationTypes
  permissionType: AclPermissionTypes
}
/** MatchingAcl is one binding a deleteAcls filter removed. */
export interface MatchingAcl {
  errorCode: number
  errorMessage?: string
  resourceType: AclResourceTypes
  resourceName: string
  resourcePatternType: ResourcePatternTypes
  principal: string
  host: string
  operation: AclOperationTypes
  permissionType: AclPermissionTypes
}
/** DeleteAclFilterResponses is one filter's outcome in deleteAcls. */
export interface DeleteAclFilterResponses {
  errorCode: number
  errorMessage?: string
  matchingAcls: MatchingAcl[]
}
/** DeleteAclResponse is what admin.deleteAcls returns. */
export interface DeleteAclResponse {
  throttleTime: number
  filterResponses: DeleteAclFilterResponses[]
}
/**
 * OngoingPartitionReassignment is one partition being moved. KafkaJS's declarations call the index
 * `partitionIndex` and its runtime `partition`; both are set (see docs/kafkajs.md).
 */
export interface OngoingPartitionReassignment {
  partition: number
  partitionIndex: number
  replicas: number[]
  addingReplicas: number[]
  removingReplicas: number[]
}
/** OngoingTopicReassignment is a topic's partitions being moved; `name` (KafkaJS's runtime) and `topic` (its declarations) are both set. */
export interface OngoingTopicReassignment {
  name: string
  topic: string
  partitions: OngoingPartitionReassignment[]
}
/** ListPartitionReassignmentsResponse is what admin.listPartitionReassignments returns. */
export interface ListPartitionReassignmentsResponse {
  topics: OngoingTopicReassignment[]
}

// ---------------------------------------------------------------- cluster, broker

/** BrokerMetadata is the cluster's brokers and topics as a metadata answer gives them. */
export interface BrokerMetadata {
  brokers: Array<{ nodeId: number; host: string; port: number; rack?: string }>
  topicMetadata: Array<{ topicErrorCode: number; topic: string; partitionMetadata: PartitionMetadata[] }>
}
/** ApiVersions maps API keys to the versions a broker supports. */
export interface ApiVersions {
  [apiKey: number]: { minVersion: number; maxVersion: number }
}
/** CoordinatorMetadata is a FindCoordinator answer. */
export interface CoordinatorMetadata {
  errorCode: number
  coordinator: { nodeId: number; host: string; port: number }
}
/**
 * Broker is KafkaJS's per-broker connection object. kafka-wire/kafkajs never hands one out (its
 * Cluster's findBroker calls throw KafkaJSNotImplemented); the type is here so that programs naming it
 * compile.
 */
export type Broker = {
  isConnected(): boolean
  connect(): Promise<void>
  disconnect(): Promise<void>
  apiVersions(): Promise<ApiVersions>
  metadata(topics: string[]): Promise<BrokerMetadata>
  describeGroups: (options: { groupIds: string[] }) => Promise<any>
  offsetCommit(request: { groupId: string; groupGenerationId: number; memberId: string; retentionTime?: number; topics: TopicOffsets[] }): Promise<any>
  offsetFetch(request: { groupId: string; topics: TopicOffsets[] }): Promise<{ responses: TopicOffsets[] }>
  fetch(request: {
    replicaId?: number
    isolationLevel?: number
    maxWaitTime?: number
    minBytes?: number
    maxBytes?: number
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>
    rackId?: string
  }): Promise<any>
  produce(request: {
    topicData: Array<{ topic: string; partitions: Array<{ partition: number; firstSequence?: number; messages: unknown[] }> }>
    transactionalId?: string
    producerId?: number
    producerEpoch?: number
    acks?: number
    timeout?: number
    compression?: number
  }): Promise<any>
}

type Without<T, U> = { [P in Exclude<keyof T, keyof U>]?: never }
type XOR<T, U> = T | U extends object ? (Without<T, U> & U) | (Without<U, T> & T) : T | U

/**
 * Cluster is the cluster view KafkaJS hands custom partition assigners. kafka-wire/kafkajs implements
 * the calls assigners make (getNodeIds, metadata, findTopicPartitionMetadata, findLeaderForPartitions,
 * refreshMetadata*, addTargetTopic/addMultipleTargetTopics, isConnected, defaultOffset); the calls that
 * hand out broker connections throw KafkaJSNotImplemented (docs/kafkajs.md).
 */
export type Cluster = {
  getNodeIds(): number[]
  metadata(): Promise<BrokerMetadata>
  removeBroker(options: { host: string; port: number }): void
  addMultipleTargetTopics(topics: string[]): Promise<void>
  isConnected(): boolean
  connect(): Promise<void>
  disconnect(): Promise<void>
  refreshMetadata(): Promise<void>
  refreshMetadataIfNecessary(): Promise<void>
  addTargetTopic(topic: string): Promise<void>
  findBroker(node: { nodeId: string }): Promise<Broker>
  findControllerBroker(): Promise<Broker>
  findTopicPartitionMetadata(topic: string): PartitionMetadata[]
  findLeaderForPartitions(topic: string, partitions: number[]): { [leader: string]: number[] }
  findGroupCoordinator(group: { groupId: string }): Promise<Broker>
  findGroupCoordinatorMetadata(group: { groupId: string }): Promise<CoordinatorMetadata>
  defaultOffset(config: { fromBeginning: boolean }): number
  fetchTopicsOffset(
    topics: Array<{ topic: string; partitions: Array<{ partition: number }> } & XOR<{ fromBeginning: boolean }, { fromTimestamp: number }>>,
  ): Promise<TopicOffsets[]>
}

// ---------------------------------------------------------------- authentication, sockets

/** Authenticator authenticates one connection (a custom SASL mechanism's provider returns one). */
export type Authenticator = { authenticate: () => Promise<void> }
/** SaslAuthenticateArgs is one SASL round trip: the request, and how to read its answer. */
export type SaslAuthenticateArgs<ParseResult> = {
  request: { encode: () => Buffer | Promise<Buffer> }
  response?: { decode: (rawResponse: Buffer) => Buffer | Promise<Buffer>; parse: (data: Buffer) => ParseResult }
}
/** AuthenticationProviderArgs is what a custom SASL mechanism's provider is called with. */
export type AuthenticationProviderArgs = {
  host: string
  port: number
  logger: Logger
  saslAuthenticate: <ParseResult>(args: SaslAuthenticateArgs<ParseResult>) => Promise<ParseResult | void>
}
/** ISocketFactoryArgs is what a socket factory is called with. */
export interface ISocketFactoryArgs {
  host: string
  port: number
  ssl: ConnectionOptions
  onConnect: () => void
}

// ---------------------------------------------------------------- error metadata

/** KafkaJSErrorMetadata is the options a KafkaJSError is built with. */
export interface KafkaJSErrorMetadata {
  retriable?: boolean
  topic?: string
  partitionId?: number
  metadata?: PartitionMetadata
}
/** KafkaJSOffsetOutOfRangeMetadata names the partition of a KafkaJSOffsetOutOfRange. */
export interface KafkaJSOffsetOutOfRangeMetadata {
  topic: string
  partition: number
}
/** KafkaJSNumberOfRetriesExceededMetadata is how often and how long an operation was retried. */
export interface KafkaJSNumberOfRetriesExceededMetadata {
  retryCount: number
  retryTime: number
}
/** KafkaJSConnectionErrorMetadata names the broker of a KafkaJSConnectionError. */
export interface KafkaJSConnectionErrorMetadata {
  broker?: string
  code?: string
}
/** KafkaJSRequestTimeoutErrorMetadata describes the request of a KafkaJSRequestTimeoutError. */
export interface KafkaJSRequestTimeoutErrorMetadata {
  broker: string
  clientId: string
  correlationId: number
  createdAt: number
  sentAt: number
  pendingDuration: number
}
/** KafkaJSTopicMetadataNotLoadedMetadata names the topic of a KafkaJSTopicMetadataNotLoaded. */
export interface KafkaJSTopicMetadataNotLoadedMetadata {
  topic: string
}
/** KafkaJSStaleTopicMetadataAssignmentMetadata describes a KafkaJSStaleTopicMetadataAssignment. */
export interface KafkaJSStaleTopicMetadataAssignmentMetadata {
  topic: string
  unknownPartitions: PartitionMetadata[]
}
/** KafkaJSServerDoesNotSupportApiKeyMetadata names the API a broker does not support. */
export interface KafkaJSServerDoesNotSupportApiKeyMetadata {
  apiKey: number
  apiName: string
}
/** KafkaJSDeleteGroupsErrorGroups is one group's failure in a KafkaJSDeleteGroupsError. */
export interface KafkaJSDeleteGroupsErrorGroups {
  groupId: string
  errorCode: number
  error: KafkaJSError
}
/** KafkaJSDeleteTopicRecordsErrorPartition is one partition's failure in deleteTopicRecords. */
export interface KafkaJSDeleteTopicRecordsErrorPartition {
  partition: number
  offset: string
  error: KafkaJSError
}
/** KafkaJSDeleteTopicRecordsErrorTopic is a topic's failures in deleteTopicRecords. */
export interface KafkaJSDeleteTopicRecordsErrorTopic {
  topic: string
  partitions: KafkaJSDeleteTopicRecordsErrorPartition[]
}

export type { TopicPartitions }
