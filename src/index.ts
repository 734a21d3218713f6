// kafka-wire: the public API of the client. Protocol codecs are in 'kafka-wire/protocol', admin in
// 'kafka-wire/admin', OpenTelemetry in 'kafka-wire/kotel', the test broker harness in 'kafka-wire/testing'.

// ---- the client
export { Client } from './client/client.js'
export type { ClientRequestOptions } from './client/types.js'
export { defaultRetryBackoff } from './client/options.js'
export type { Acks, ClientOptions, CompressionName, Config, IsolationLevel, OffsetSpec, PartitionerOption, PartitionsCallback } from './client/options.js'
export type { Compressor, Decompressor } from './protocol/compression/index.js'
export type { ControlMarker, ProduceRecord, ProduceRecordHeader, Record, RecordContext, RecordHeader } from './protocol/record.js'
export type { ProduceCallback, ProduceResult } from './client/producer/producer.js'
export { Fetches } from './client/consumer/fetches.js'
export type { FetchError, FetchPartition } from './client/consumer/fetches.js'
export type { AckStatus, AutoCommitResult, CommitOffsets, EpochOffset, ShareAckResult } from './client/types.js'

// ---- transactions
export { GroupTransactSession } from './client/transact-session.js'
export type { GroupTransactSessionOptions } from './client/transact-session.js'
export type { GroupMetadata } from './client/types.js'

// ---- partitioners and balancers
export {
  DEFAULT_STICKY_BYTES,
  customPartitioner,
  defaultPartitioner,
  javaPartitionForKey,
  manualPartitioner,
  roundRobinPartitioner,
  stickyKeyPartitioner,
  stickyPartitioner,
  uniformBytesPartitioner,
} from './client/producer/partitioner.js'
export type { PartitionBacklog, Partitioner, PartitionerName, RandomSource, TopicPartitioner, UniformBytesOptions } from './client/producer/partitioner.js'
export { BALANCER_NAMES, cooperativeStickyBalancer, rangeBalancer, roundRobinBalancer, stickyBalancer } from './client/consumer/balancers/index.js'
export type { BalancerName, GroupBalancer, GroupMember, PartitionRacks, Plan } from './client/consumer/balancers/index.js'

// ---- SASL
export { oauthBearer, plain, scramSha256, scramSha512 } from './client/sasl/index.js'
export type { CredentialSource, Mechanism, OAuthBearerConfig, OAuthBearerToken, PlainAuth, PlainConfig, SaslConfig, SaslContext, SaslSession, SaslStart, SaslStep, ScramAuth, ScramConfig, ScramHash } from './client/sasl/index.js'

// ---- one connection (franz-go's broker-level requests)
export { BrokerConnection } from './client/connection.js'
export type { BrokerConnectionOptions, ConnectionObserver, Dialer, DialOptions, RequestOptions } from './client/connection.js'

// ---- hooks
export * from './hooks/index.js'

// ---- errors
export { InvalidRequestError, KafkaProtocolError, KafkaWireError, ProtocolDecodeError, ProtocolEncodeError, errorForCode } from './protocol/errors.js'
export { ErrorCode, errorCodeByName, kafkaErrorCodes } from './protocol/error-codes.js'
export type { KafkaErrorCode, KafkaErrorName } from './protocol/error-codes.js'
export * from './client/errors.js'
