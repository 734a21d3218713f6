// kafka-wire: the public API of the client. Protocol codecs are in 'kafka-wire/protocol', the test
// broker harness in 'kafka-wire/testing'.

export { Client } from './client/client.js'
export type { ClientRequestOptions } from './client/types.js'
export { defaultRetryBackoff } from './client/options.js'
export type { ClientOptions, Config, Acks, CompressionName, PartitionerOption } from './client/options.js'
export type { Record, RecordHeader, ProduceRecord, ProduceRecordHeader, RecordContext } from './protocol/record.js'
export type { ProduceCallback, ProduceResult } from './client/producer/producer.js'
export * from './client/producer/partitioner.js'
export { BrokerConnection } from './client/connection.js'
export type { BrokerConnectionOptions, RequestOptions, ConnectionObserver } from './client/connection.js'
export * from './hooks/index.js'
export { KafkaWireError, KafkaProtocolError, ProtocolDecodeError, ProtocolEncodeError, errorForCode } from './protocol/errors.js'
export { kafkaErrorCodes, errorCodeByName, ErrorCode } from './protocol/error-codes.js'
export type { KafkaErrorCode } from './protocol/error-codes.js'
export { ClientClosedError, InvalidOptionError, MaxBufferedError, RecordTooLargeError, InvalidRecordError, RecordTimeoutError, BrokerConnectionError, RequestTimeoutError, UnsupportedVersionError, ResponseTooLargeError, AbortError, UnknownLeaderError } from './client/errors.js'
