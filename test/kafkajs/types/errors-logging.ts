// A typed KafkaJS program's error handling, logging and constants (compiled against kafkajs@2.2.4's
// types and kafka-wire/kafkajs's by test/kafkajs/types.test.ts; never run).
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ConfigResourceTypes,
  ConfigSource,
  Kafka,
  KafkaJSAggregateError,
  KafkaJSAlterPartitionReassignmentsError,
  KafkaJSBrokerNotFound,
  KafkaJSConnectionError,
  KafkaJSDeleteGroupsError,
  KafkaJSDeleteTopicRecordsError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSLockTimeout,
  KafkaJSMetadataNotLoaded,
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
  ResourcePatternTypes,
  logLevel,
  type KafkaConfig,
  type LogEntry,
  type Logger,
  type LoggerEntryContent,
  type RetryOptions,
  type SASLOptions,
  type logCreator,
} from 'kafkajs'

// A logCreator that forwards to a structured logger, the usual way programs plug in pino or winston.
const toJson: logCreator = (level: logLevel) => {
  const floor = level
  return ({ namespace, level, label, log }: LogEntry) => {
    const { message, timestamp, ...extra }: LoggerEntryContent = log
    if (level <= floor) process.stdout.write(JSON.stringify({ namespace, level, label, message, timestamp, extra }) + '\n')
  }
}

const sasl: SASLOptions = { mechanism: 'scram-sha-512', username: 'app', password: 'secret' }
const plain: SASLOptions = { mechanism: 'plain', username: 'app', password: 'secret' }
const oauth: SASLOptions = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 'token' }) }
const retry: RetryOptions = { retries: 2, initialRetryTime: 50 }
const config: KafkaConfig = {
  clientId: 'ops',
  brokers: ['b1:9093', 'b2:9093'],
  ssl: { rejectUnauthorized: true, ca: ['-----BEGIN CERTIFICATE-----'] },
  sasl,
  authenticationTimeout: 10000,
  reauthenticationThreshold: 10000,
  enforceRequestTimeout: true,
  logLevel: logLevel.INFO,
  logCreator: toJson,
  retry,
}
const kafka = new Kafka(config)
console.log(plain, oauth)

const log: Logger = kafka.logger().namespace('ops', logLevel.DEBUG)
log.setLogLevel(logLevel.ERROR)

/** classify is the error handling KafkaJS programs write: instanceof checks, `type`, `retriable`. */
export function classify(e: unknown): string {
  if (e instanceof KafkaJSNumberOfRetriesExceeded) return `gave up after ${e.retryCount} retries (${e.retryTime} ms): ${e.cause?.message ?? ''}`
  if (e instanceof KafkaJSOffsetOutOfRange) return `out of range ${e.topic}/${e.partition}`
  if (e instanceof KafkaJSAlterPartitionReassignmentsError) return `reassignment ${e.topic ?? ''} ${e.partition ?? ''}`
  if (e instanceof KafkaJSProtocolError) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION' || e.type === 'TOPIC_ALREADY_EXISTS') return `protocol ${e.code} ${e.type}`
    return e.retriable ? 'retry later' : 'fatal'
  }
  if (e instanceof KafkaJSConnectionError) return `connection to ${e.broker}`
  if (e instanceof KafkaJSRequestTimeoutError) return `timeout on ${e.broker} #${e.correlationId} ${e.sentAt - e.createdAt} ${e.pendingDuration}`
  if (e instanceof KafkaJSSASLAuthenticationError) return 'credentials'
  if (e instanceof KafkaJSDeleteGroupsError) return e.groups.map((g) => `${g.groupId}:${g.errorCode ?? 0}:${g.error?.type ?? ''}`).join(',')
  if (e instanceof KafkaJSDeleteTopicRecordsError) return e.message
  if (e instanceof KafkaJSTopicMetadataNotLoaded || e instanceof KafkaJSMetadataNotLoaded) return 'metadata'
  if (e instanceof KafkaJSStaleTopicMetadataAssignment) return `stale ${e.topic} ${e.unknownPartitions}`
  if (e instanceof KafkaJSServerDoesNotSupportApiKey) return `api ${e.apiKey} ${e.apiName}`
  if (e instanceof KafkaJSBrokerNotFound || e instanceof KafkaJSGroupCoordinatorNotFound) return 'routing'
  if (e instanceof KafkaJSPartialMessageError || e instanceof KafkaJSUnsupportedMagicByteInMessageSet) return 'decode'
  if (e instanceof KafkaJSTimeout || e instanceof KafkaJSLockTimeout) return 'timeout'
  if (e instanceof KafkaJSNotImplemented) return 'not implemented'
  if (e instanceof KafkaJSAggregateError) return e.errors.map(String).join('; ')
  if (e instanceof KafkaJSNonRetriableError) return `non-retriable: ${e.message}`
  if (e instanceof KafkaJSError) return `${e.name} retriable=${e.retriable} ${e.helpUrl ?? ''}`
  return String(e)
}

// Programs throw KafkaJS's errors themselves too (in handlers, in tests).
export const made: Error[] = [
  new KafkaJSError('plain'),
  new KafkaJSError(new Error('wrapped'), { retriable: false }),
  new KafkaJSNonRetriableError('do not retry'),
  new KafkaJSProtocolError('protocol'),
  new KafkaJSConnectionError('refused', { broker: 'b1:9093' }),
  new KafkaJSNumberOfRetriesExceeded(new Error('last'), { retryCount: 5, retryTime: 1000 }),
  new KafkaJSAggregateError('several', [new Error('a'), 'b']),
]

export const constants = [
  AclResourceTypes.TOPIC,
  AclResourceTypes.GROUP,
  AclOperationTypes.READ,
  AclPermissionTypes.ALLOW,
  ConfigResourceTypes.TOPIC,
  ConfigResourceTypes.BROKER,
  ConfigSource.DEFAULT_CONFIG,
  ResourcePatternTypes.LITERAL,
  ResourcePatternTypes.PREFIXED,
  logLevel.NOTHING,
  logLevel.ERROR,
  logLevel.WARN,
  logLevel.INFO,
  logLevel.DEBUG,
]
