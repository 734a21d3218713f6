// The attribute keys, span names and schema URLs kotel emits, for each conventions flavour. The keys are
// written out here rather than imported from @opentelemetry/semantic-conventions: the messaging keys
// live in its `incubating` entry point, which its README asks libraries not to depend on at run time.
//
// 'new' follows the OpenTelemetry messaging conventions v1.44 (Kafka refinements); 'old' is exactly what
// franz-go's kotel v1.7.0 emits, the v1.18 conventions; 'dup' emits both key sets with the new span
// names and kinds, as the conventions' migration banner asks of dual emission.

/** SemconvFlavour picks the messaging conventions kotel emits: 'new' (v1.44), 'old' (v1.18, franz-go's kotel) or 'dup' (both). */
export type SemconvFlavour = 'old' | 'new' | 'dup'

/** SCHEMA_URL_NEW is the schema of the conventions the 'new' and 'dup' flavours follow. */
export const SCHEMA_URL_NEW = 'https://opentelemetry.io/schemas/1.44.0'
/** SCHEMA_URL_OLD is the schema of franz-go's kotel (semconv v1.18.0). */
export const SCHEMA_URL_OLD = 'https://opentelemetry.io/schemas/1.18.0'

/**
 * resolveSemconv picks the flavour: the option when given, else OTEL_SEMCONV_STABILITY_OPT_IN
 * (`messaging` → 'new', `messaging/dup` → 'dup', dup winning when both are listed), else 'new'. The
 * conventions' banner keeps old output as the default for instrumentations that already emitted it;
 * kotel for Node has no earlier output to stay compatible with, so it starts on the current names.
 */
export function resolveSemconv(option: SemconvFlavour | undefined, env: string | undefined = process.env.OTEL_SEMCONV_STABILITY_OPT_IN): SemconvFlavour {
  if (option !== undefined) {
    if (option !== 'old' && option !== 'new' && option !== 'dup') throw new TypeError(`kotel: semconv must be 'old', 'new' or 'dup', not ${JSON.stringify(option)}`)
    return option
  }
  if (env === undefined) return 'new'
  const values = env.split(',').map((v) => v.trim().toLowerCase())
  if (values.includes('messaging/dup')) return 'dup'
  return 'new'
}

// Keys of the current conventions (v1.44).
export const MESSAGING_SYSTEM = 'messaging.system'
export const MESSAGING_OPERATION_TYPE = 'messaging.operation.type'
export const MESSAGING_OPERATION_NAME = 'messaging.operation.name'
export const MESSAGING_DESTINATION_NAME = 'messaging.destination.name'
export const MESSAGING_DESTINATION_PARTITION_ID = 'messaging.destination.partition.id'
export const MESSAGING_KAFKA_OFFSET = 'messaging.kafka.offset'
export const MESSAGING_KAFKA_MESSAGE_KEY = 'messaging.kafka.message.key'
export const MESSAGING_KAFKA_MESSAGE_TOMBSTONE = 'messaging.kafka.message.tombstone'
export const MESSAGING_KAFKA_CLUSTER_ID = 'messaging.kafka.cluster.id'
export const MESSAGING_CLIENT_ID = 'messaging.client.id'
export const MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name'
export const MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count'
export const MESSAGING_MESSAGE_BODY_SIZE = 'messaging.message.body.size'
export const SERVER_ADDRESS = 'server.address'
export const SERVER_PORT = 'server.port'
export const ERROR_TYPE = 'error.type'

// Keys of v1.18, as franz-go's kotel sets them.
export const OLD_MESSAGING_OPERATION = 'messaging.operation'
export const OLD_MESSAGING_DESTINATION_KIND = 'messaging.destination.kind'
export const OLD_MESSAGING_SOURCE_KIND = 'messaging.source.kind'
export const OLD_MESSAGING_SOURCE_NAME = 'messaging.source.name'
export const OLD_KAFKA_DESTINATION_PARTITION = 'messaging.kafka.destination.partition'
export const OLD_KAFKA_SOURCE_PARTITION = 'messaging.kafka.source.partition'
export const OLD_KAFKA_MESSAGE_OFFSET = 'messaging.kafka.message.offset'
export const OLD_KAFKA_CLIENT_ID = 'messaging.kafka.client_id'
export const OLD_KAFKA_CONSUMER_GROUP = 'messaging.kafka.consumer.group'

/** DURATION_BUCKETS are the bucket boundaries the conventions advise for messaging durations, in seconds. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10])

/** OTHER_ERROR is the conventions' error.type for an error with no better name. */
export const OTHER_ERROR = '_OTHER'

/**
 * errorType names an error for `error.type`: the Kafka error name for a broker error code (such as
 * 'NOT_ENOUGH_REPLICAS'), else the error's class name, else '_OTHER' for thrown values that are not
 * objects.
 */
export function errorType(err: unknown): string {
  if (err === null || typeof err !== 'object') return OTHER_ERROR
  const e = err as { errorCode?: unknown; code?: unknown }
  // KafkaProtocolError carries the wire code and its name; matched by shape so that an error from
  // another loaded copy of the package is named the same way.
  if (typeof e.errorCode === 'number' && typeof e.code === 'string' && e.code !== '') return e.code
  const name = (err as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? name : OTHER_ERROR
}

/** errorMessage is the text for a span status description. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message
  return String(err)
}
