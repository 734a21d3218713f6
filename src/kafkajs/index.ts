// kafka-wire/kafkajs: KafkaJS 2.2.4's API over kafka-wire. Change `from 'kafkajs'` to
// `from 'kafka-wire/kafkajs'` and the program runs on kafka-wire's client; docs/kafkajs.md lists every
// deliberate difference.

export { Kafka } from './kafka.js'
export type { BrokersFunction, ISocketFactory, KafkaConfig, Mechanism, OauthbearerProviderResponse, RetryOptions, SASLMechanism, SASLOptions } from './kafka.js'
export { Producer } from './producer.js'
export type { ProducerBatch, ProducerConfig, ProducerRecord, RecordMetadata, Sender, TopicMessages } from './producer.js'
export type { Offsets as TransactionOffsets, Transaction } from './transaction.js'
export { Consumer } from './consumer.js'
export type {
  Batch,
  ConsumerConfig,
  ConsumerRunConfig,
  ConsumerSubscribeTopic,
  ConsumerSubscribeTopics,
  EachBatchHandler,
  EachBatchPayload,
  EachMessageHandler,
  EachMessagePayload,
  EachBatchPayload as ConsumerEachBatchPayload,
  EachMessagePayload as ConsumerEachMessagePayload,
  GroupDescription,
  KafkaMessage,
  MemberDescription,
  Offsets,
  OffsetsByTopicPartition,
  PartitionOffset,
  TopicOffsets,
  TopicPartitionOffsetAndMetadata,
  TopicPartitions,
} from './consumer.js'
export { Admin } from './admin.js'
export type { AdminConfig, GroupOverview, ITopicConfig, ITopicMetadata, SeekEntry } from './admin.js'
export { logLevel } from './logger.js'
export type { LogEntry, Logger, LoggerEntryContent, logCreator } from './logger.js'
export {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  CompressionCodecs,
  CompressionTypes,
  ConfigResourceTypes,
  ConfigSource,
  ResourcePatternTypes,
  ResourceTypes,
} from './constants.js'
export { Partitioners } from './partitioners.js'
export type { DefaultPartitioner, ICustomPartitioner, IHeaders, LegacyPartitioner, Message, PartitionerArgs, PartitionMetadata } from './partitioners.js'
export { AssignerProtocol, PartitionAssigners } from './assigners.js'
export type { Assigner, Assignment, GroupMemberAssignment, GroupState, ISerializer, MemberAssignment, MemberMetadata, PartitionAssigner } from './assigners.js'
export type { KafkaJSGroupMember as GroupMember } from './assigners.js'
export type { AdminEvents, ConsumerEvents, InstrumentationEvent, ProducerEvents, RemoveInstrumentationEventListener } from './events.js'
export type {
  Acl,
  AclEntry,
  AclFilter,
  AclResource,
  ApiVersions,
  AuthenticationProviderArgs,
  Authenticator,
  Broker,
  BrokerMetadata,
  Cluster,
  ConfigEntries,
  ConfigSynonyms,
  ConnectEvent,
  ConsumerCommitOffsetsEvent,
  ConsumerCrashEvent,
  ConsumerEndBatchProcessEvent,
  ConsumerFetchEvent,
  ConsumerFetchStartEvent,
  ConsumerGroup,
  ConsumerGroupJoinEvent,
  ConsumerGroupState,
  ConsumerHeartbeatEvent,
  ConsumerRebalancingEvent,
  ConsumerReceivedUnsubcribedTopicsEvent,
  ConsumerStartBatchProcessEvent,
  CoordinatorMetadata,
  DeleteAclFilterResponses,
  DeleteAclResponse,
  DeleteGroupsResult,
  DescribeAclResource,
  DescribeAclResponse,
  DescribeConfigResponse,
  DisconnectEvent,
  FetchOffsetsPartition,
  GroupDescriptions,
  IMemberAssignment,
  IResourceConfig,
  IResourceConfigEntry,
  ISocketFactoryArgs,
  ITopicPartitionConfig,
  KafkaJSConnectionErrorMetadata,
  KafkaJSDeleteGroupsErrorGroups,
  KafkaJSDeleteTopicRecordsErrorPartition,
  KafkaJSDeleteTopicRecordsErrorTopic,
  KafkaJSErrorMetadata,
  KafkaJSNumberOfRetriesExceededMetadata,
  KafkaJSOffsetOutOfRangeMetadata,
  KafkaJSRequestTimeoutErrorMetadata,
  KafkaJSServerDoesNotSupportApiKeyMetadata,
  KafkaJSStaleTopicMetadataAssignmentMetadata,
  KafkaJSTopicMetadataNotLoadedMetadata,
  ListPartitionReassignmentsResponse,
  MatchingAcl,
  OngoingPartitionReassignment,
  OngoingTopicReassignment,
  PartitionReassignment,
  ReplicaAssignment,
  RequestEvent,
  RequestQueueSizeEvent,
  RequestTimeoutEvent,
  ResourceConfigQuery,
  SaslAuthenticateArgs,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js'
export {
  KafkaJSAggregateError,
  KafkaJSAlterPartitionReassignmentsError,
  KafkaJSBrokerNotFound,
  KafkaJSConnectionClosedError,
  KafkaJSConnectionError,
  KafkaJSCreateTopicError,
  KafkaJSDeleteGroupsError,
  KafkaJSDeleteTopicRecordsError,
  KafkaJSError,
  KafkaJSFetcherRebalanceError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSInvalidLongError,
  KafkaJSInvalidVarIntError,
  KafkaJSInvariantViolation,
  KafkaJSLockTimeout,
  KafkaJSMemberIdRequired,
  KafkaJSMetadataNotLoaded,
  KafkaJSNoBrokerAvailableError,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSOffsetOutOfRange,
  KafkaJSPartialMessageError,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
  KafkaJSServerDoesNotSupportApiKey,
  KafkaJSStaleTopicMetadataAssignment,
  KafkaJSTimeout,
  KafkaJSTopicMetadataNotLoaded,
  KafkaJSUnsupportedMagicByteInMessageSet,
} from './errors.js'

// KafkaJS is a CommonJS module, so ESM programs often write `import kafkajs from 'kafkajs'` and take
// its members from the default export; the facade's default export holds the same values.
import { Kafka } from './kafka.js'
import { Producer } from './producer.js'
import { Consumer } from './consumer.js'
import { Admin } from './admin.js'
import { logLevel } from './logger.js'
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, CompressionCodecs, CompressionTypes, ConfigResourceTypes, ConfigSource, ResourcePatternTypes, ResourceTypes } from './constants.js'
import { Partitioners } from './partitioners.js'
import { AssignerProtocol, PartitionAssigners } from './assigners.js'
import { KafkaJSAggregateError, KafkaJSAlterPartitionReassignmentsError, KafkaJSBrokerNotFound, KafkaJSConnectionClosedError, KafkaJSConnectionError, KafkaJSCreateTopicError, KafkaJSDeleteGroupsError, KafkaJSDeleteTopicRecordsError, KafkaJSError, KafkaJSFetcherRebalanceError, KafkaJSGroupCoordinatorNotFound, KafkaJSInvalidLongError, KafkaJSInvalidVarIntError, KafkaJSInvariantViolation, KafkaJSLockTimeout, KafkaJSMemberIdRequired, KafkaJSMetadataNotLoaded, KafkaJSNoBrokerAvailableError, KafkaJSNonRetriableError, KafkaJSNotImplemented, KafkaJSNumberOfRetriesExceeded, KafkaJSOffsetOutOfRange, KafkaJSPartialMessageError, KafkaJSProtocolError, KafkaJSRequestTimeoutError, KafkaJSSASLAuthenticationError, KafkaJSServerDoesNotSupportApiKey, KafkaJSStaleTopicMetadataAssignment, KafkaJSTimeout, KafkaJSTopicMetadataNotLoaded, KafkaJSUnsupportedMagicByteInMessageSet } from './errors.js'
/** default holds the module's values, as `import kafkajs from 'kafkajs'` gives them for KafkaJS. */
const kafkajs = Object.freeze({ Kafka, Producer, Consumer, Admin, logLevel, AclOperationTypes, AclPermissionTypes, AclResourceTypes, CompressionCodecs, CompressionTypes, ConfigResourceTypes, ConfigSource, ResourcePatternTypes, ResourceTypes, Partitioners, AssignerProtocol, PartitionAssigners, KafkaJSAggregateError, KafkaJSAlterPartitionReassignmentsError, KafkaJSBrokerNotFound, KafkaJSConnectionClosedError, KafkaJSConnectionError, KafkaJSCreateTopicError, KafkaJSDeleteGroupsError, KafkaJSDeleteTopicRecordsError, KafkaJSError, KafkaJSFetcherRebalanceError, KafkaJSGroupCoordinatorNotFound, KafkaJSInvalidLongError, KafkaJSInvalidVarIntError, KafkaJSInvariantViolation, KafkaJSLockTimeout, KafkaJSMemberIdRequired, KafkaJSMetadataNotLoaded, KafkaJSNoBrokerAvailableError, KafkaJSNonRetriableError, KafkaJSNotImplemented, KafkaJSNumberOfRetriesExceeded, KafkaJSOffsetOutOfRange, KafkaJSPartialMessageError, KafkaJSProtocolError, KafkaJSRequestTimeoutError, KafkaJSSASLAuthenticationError, KafkaJSServerDoesNotSupportApiKey, KafkaJSStaleTopicMetadataAssignment, KafkaJSTimeout, KafkaJSTopicMetadataNotLoaded, KafkaJSUnsupportedMagicByteInMessageSet })
export default kafkajs
