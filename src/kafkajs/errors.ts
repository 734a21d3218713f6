/**
 * The KafkaJS 2.2.4 error classes, under the same names and in the same hierarchy, so that programs'
 * `instanceof` checks, `error.name`, `error.retriable` and `error.type === 'UNKNOWN_TOPIC_OR_PARTITION'`
 * keep working; and `toKafkaJSError`, which turns kafka-wire's typed errors into them. A converted
 * error keeps kafka-wire's error as `cause` and the broker, topic and partition it concerns.
 *
 * `instanceof` works across two loaded copies of the package: classes are matched by a global brand
 * and the class names along the prototype chain, as kafka-wire's own errors are.
 */
import { kafkaErrorCodes } from '../protocol/error-codes.js'
import { KafkaProtocolError, KafkaWireError } from '../protocol/errors.js'
import {
  AbortError,
  BrokerConnectionError,
  BrokersUnreachableError,
  ClientClosedError,
  InvalidArgumentError,
  InvalidOperationError,
  InvalidOptionError,
  InvalidRecordError,
  InvalidTopicError,
  PartitionerError,
  ProducerFencedError,
  RecordTimeoutError,
  RecordTooLargeError,
  RequestTimeoutError,
  SaslAuthenticationError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionFatalError,
  TransactionStateError,
  UnknownLeaderError,
  UnsupportedSaslMechanismError,
  UnsupportedVersionError,
  WaitTimeoutError,
} from '../client/errors.js'
import { ErrorCode } from '../protocol/error-codes.js'

const BRAND = Symbol.for('kafka-wire.kafkajs-error')

/** KafkaJSErrorOptions are what every KafkaJS error may be built with. */
export interface KafkaJSErrorOptions {
  /** retriable says whether trying again may succeed; true unless said otherwise, as in KafkaJS. */
  retriable?: boolean
  /** cause is the error this one wraps. */
  cause?: unknown
}

function messageOf(e: unknown): string {
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message
  return String(e)
}

/**
 * KafkaJSError is the base class of every error the KafkaJS facade throws. `retriable` tells whether
 * the operation may succeed if tried again; `cause` holds the error it wraps (a kafka-wire error for
 * errors that came from the client). `broker`, `topic` and `partition` are set when the error concerns one.
 */
export class KafkaJSError extends Error {
  /** retriable is true when the same operation may succeed if tried again. */
  retriable: boolean
  /** helpUrl points to documentation about the error, when there is some. */
  helpUrl?: string
  /** topic the error concerns, when it concerns one (a kafka-wire addition). */
  topic?: string
  /** partition the error concerns, when it concerns one (a kafka-wire addition). */
  partition?: number
  /** cause is the error this one wraps (undefined when none). */
  declare readonly cause?: Error

  constructor(e: Error | string | { message: string }, opts: KafkaJSErrorOptions = {}) {
    super(messageOf(e), opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'KafkaJSError'
    this.retriable = opts.retriable ?? true
    const help = (e as { helpUrl?: unknown })?.helpUrl
    if (typeof help === 'string') this.helpUrl = help
    // KafkaJS always defines the property, undefined when there is no cause.
    if (opts.cause === undefined) (this as { cause?: unknown }).cause = undefined
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, v)) return true
    if (typeof v !== 'object' || v === null || !(BRAND in v)) return false
    for (let p = Object.getPrototypeOf(v); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
      if (p.constructor?.name === this.name) return true
    }
    return false
  }
}
Object.defineProperty(KafkaJSError.prototype, BRAND, { value: true })

/** KafkaJSNonRetriableError is an error that trying again cannot fix. */
export class KafkaJSNonRetriableError extends KafkaJSError {
  constructor(e: Error | string, opts: { cause?: unknown } = {}) {
    super(e, { retriable: false, cause: opts.cause })
    this.name = 'KafkaJSNonRetriableError'
  }
}

/** ProtocolErrorInfo is what a KafkaJSProtocolError is built from: Kafka's error code, its name and whether it is retriable. */
export interface ProtocolErrorInfo {
  message: string
  type: string
  code: number
  retriable: boolean
  helpUrl?: string
}

/**
 * KafkaJSProtocolError is an error code a broker answered with: `code` is the number on the wire,
 * `type` its KafkaJS name (Kafka's name, except for the five codes KafkaJS knows by older names, such as
 * NOT_LEADER_FOR_PARTITION for code 6).
 */
export class KafkaJSProtocolError extends KafkaJSError {
  /** type is the error's name, such as 'UNKNOWN_TOPIC_OR_PARTITION'. */
  readonly type: string
  /** code is the error code the broker sent. */
  readonly code: number

  constructor(e: ProtocolErrorInfo | Error | string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    const info = e as Partial<ProtocolErrorInfo>
    super(e, { retriable: opts.retriable ?? info.retriable ?? false, cause: opts.cause })
    this.type = typeof info.type === 'string' ? info.type : 'KAFKAJS_UNKNOWN_ERROR_CODE'
    this.code = typeof info.code === 'number' ? info.code : -99
    this.name = 'KafkaJSProtocolError'
  }
}

/** KafkaJSOffsetOutOfRange means a fetch asked for an offset the partition's log does not have. */
export class KafkaJSOffsetOutOfRange extends KafkaJSProtocolError {
  constructor(e: ProtocolErrorInfo | Error | string, meta: { topic: string; partition: number }) {
    super(e)
    this.topic = meta.topic
    this.partition = meta.partition
    this.name = 'KafkaJSOffsetOutOfRange'
  }
}

/** KafkaJSMemberIdRequired means the coordinator handed out a member id and wants it back in a new JoinGroup (KIP-394). */
export class KafkaJSMemberIdRequired extends KafkaJSProtocolError {
  /** memberId is the id the coordinator handed out. */
  readonly memberId: string
  constructor(e: ProtocolErrorInfo | Error | string, meta: { memberId: string }) {
    super(e)
    this.memberId = meta.memberId
    this.name = 'KafkaJSMemberIdRequired'
  }
}

/** KafkaJSNumberOfRetriesExceeded means an operation failed with a retriable error more times than `retry.retries` allow; `cause` is the last error. */
export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  /** retryCount is the number of retries made. */
  readonly retryCount: number
  /** retryTime is the last wait before retrying, in ms. */
  readonly retryTime: number
  constructor(e: Error | string, meta: { retryCount: number; retryTime: number }) {
    super(e, { cause: e })
    this.stack = `${this.name}\n  Caused by: ${(e as Error)?.stack ?? String(e)}`
    this.retryCount = meta.retryCount
    this.retryTime = meta.retryTime
    this.name = 'KafkaJSNumberOfRetriesExceeded'
  }
}

/**
 * retriesSpent is how a KafkaJS call that retries (connect, send) rejects once its retries are used up:
 * a retriable error becomes KafkaJSNumberOfRetriesExceeded with it as the cause; others stay as they are.
 */
export function retriesSpent(e: KafkaJSError, retry: { retries?: number; maxRetryTime?: number }): KafkaJSError {
  return e.retriable ? new KafkaJSNumberOfRetriesExceeded(e, { retryCount: retry.retries ?? 5, retryTime: retry.maxRetryTime ?? 30_000 }) : e
}

/** KafkaJSConnectionError means a connection to a broker could not be made or was lost; `broker` is its "host:port". */
export class KafkaJSConnectionError extends KafkaJSError {
  /** broker is the "host:port" of the broker. */
  broker?: string
  /** code is the system error code (ECONNREFUSED, …) when there is one. */
  code?: string
  constructor(e: Error | string, meta: { broker?: string; code?: string; cause?: unknown } = {}) {
    super(e, { cause: meta.cause })
    this.broker = meta.broker
    this.code = meta.code
    this.name = 'KafkaJSConnectionError'
  }
}

/** KafkaJSConnectionClosedError means a broker closed the connection. */
export class KafkaJSConnectionClosedError extends KafkaJSConnectionError {
  /** host and port of the broker. */
  readonly host?: string
  readonly port?: number
  constructor(e: Error | string, meta: { host?: string; port?: number; cause?: unknown } = {}) {
    super(e, { broker: `${meta.host}:${meta.port}`, cause: meta.cause })
    this.host = meta.host
    this.port = meta.port
    this.name = 'KafkaJSConnectionClosedError'
  }
}

/** KafkaJSRequestTimeoutError means a broker did not answer a request within `requestTimeout`. */
export class KafkaJSRequestTimeoutError extends KafkaJSError {
  /** broker is the broker (host:port) that did not answer in time. */
  readonly broker: string
  /** correlationId, createdAt, sentAt and pendingDuration are -1 when kafka-wire's error does not carry them (docs/kafkajs.md). */
  readonly correlationId: number
  readonly createdAt: number
  readonly sentAt: number
  readonly pendingDuration: number
  constructor(e: Error | string, meta: { broker?: string; correlationId?: number; createdAt?: number; sentAt?: number; pendingDuration?: number; cause?: unknown } = {}) {
    super(e, { cause: meta.cause })
    this.broker = meta.broker ?? ''
    this.correlationId = meta.correlationId ?? -1
    this.createdAt = meta.createdAt ?? -1
    this.sentAt = meta.sentAt ?? -1
    this.pendingDuration = meta.pendingDuration ?? -1
    this.name = 'KafkaJSRequestTimeoutError'
  }
}

/** KafkaJSMetadataNotLoaded means an operation needed cluster metadata that could not be loaded. */
export class KafkaJSMetadataNotLoaded extends KafkaJSError {
  constructor(e: Error | string = 'metadata not loaded', opts: KafkaJSErrorOptions = {}) {
    super(e, opts)
    this.name = 'KafkaJSMetadataNotLoaded'
  }
}

/** KafkaJSTopicMetadataNotLoaded means a topic's metadata could not be loaded. */
export class KafkaJSTopicMetadataNotLoaded extends KafkaJSMetadataNotLoaded {
  constructor(e: Error | string, meta: { topic?: string } = {}) {
    super(e)
    this.topic = meta.topic
    this.name = 'KafkaJSTopicMetadataNotLoaded'
  }
}

/** KafkaJSStaleTopicMetadataAssignment means a group assignment named partitions the metadata does not know. */
export class KafkaJSStaleTopicMetadataAssignment extends KafkaJSError {
  /** unknownPartitions are the partitions the metadata lacked. */
  readonly unknownPartitions: number
  constructor(e: Error | string, meta: { topic?: string; unknownPartitions?: number } = {}) {
    super(e)
    this.topic = meta.topic
    this.unknownPartitions = meta.unknownPartitions ?? 0
    this.name = 'KafkaJSStaleTopicMetadataAssignment'
  }
}

/** KafkaJSDeleteGroupsError means deleting some groups failed; `groups` has each group's result. */
export class KafkaJSDeleteGroupsError extends KafkaJSError {
  /** groups lists the groups that failed, each with its error. */
  readonly groups: Array<{ groupId: string; errorCode?: number; error?: KafkaJSProtocolError }>
  constructor(e: Error | string, groups: Array<{ groupId: string; errorCode?: number; error?: KafkaJSProtocolError }> = []) {
    super(e)
    this.groups = groups
    this.name = 'KafkaJSDeleteGroupsError'
  }
}

/** KafkaJSServerDoesNotSupportApiKey means the broker does not support a request the operation needs. */
export class KafkaJSServerDoesNotSupportApiKey extends KafkaJSNonRetriableError {
  readonly apiKey?: number
  readonly apiName?: string
  constructor(e: Error | string, meta: { apiKey?: number; apiName?: string; cause?: unknown } = {}) {
    super(e, { cause: meta.cause })
    this.apiKey = meta.apiKey
    this.apiName = meta.apiName
    this.name = 'KafkaJSServerDoesNotSupportApiKey'
  }
}

/** KafkaJSBrokerNotFound means no broker with the wanted id is known. */
export class KafkaJSBrokerNotFound extends KafkaJSError {
  constructor(e: Error | string = 'broker not found', opts: KafkaJSErrorOptions = {}) {
    super(e, opts)
    this.name = 'KafkaJSBrokerNotFound'
  }
}

/** KafkaJSPartialMessageError means a response ended before the message it announced. */
export class KafkaJSPartialMessageError extends KafkaJSNonRetriableError {
  constructor(e: Error | string = 'partial message', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSPartialMessageError'
  }
}

/** KafkaJSSASLAuthenticationError means SASL authentication failed (wrong credentials, a mechanism the broker does not enable). */
export class KafkaJSSASLAuthenticationError extends KafkaJSNonRetriableError {
  constructor(e: Error | string = 'SASL authentication failed', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSSASLAuthenticationError'
  }
}

/** KafkaJSGroupCoordinatorNotFound means no coordinator could be found for a group. */
export class KafkaJSGroupCoordinatorNotFound extends KafkaJSNonRetriableError {
  constructor(e: Error | string = 'group coordinator not found', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSGroupCoordinatorNotFound'
  }
}

/** KafkaJSNotImplemented means a KafkaJS feature the facade does not provide (see docs/kafkajs.md). */
export class KafkaJSNotImplemented extends KafkaJSNonRetriableError {
  constructor(e: Error | string = 'not implemented', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSNotImplemented'
  }
}

/** KafkaJSTimeout means an operation did not finish in time. */
export class KafkaJSTimeout extends KafkaJSNonRetriableError {
  constructor(e: Error | string = 'timeout', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSTimeout'
  }
}

/** KafkaJSLockTimeout means a wait for an internal lock ran out of time. */
export class KafkaJSLockTimeout extends KafkaJSTimeout {
  constructor(e: Error | string = 'lock timeout', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSLockTimeout'
  }
}

/** KafkaJSUnsupportedMagicByteInMessageSet means a fetched message set had a format this client cannot read. */
export class KafkaJSUnsupportedMagicByteInMessageSet extends KafkaJSNonRetriableError {
  constructor(e: Error | string = 'unsupported magic byte', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSUnsupportedMagicByteInMessageSet'
  }
}

/** KafkaJSDeleteTopicRecordsError means deleting records failed for some partitions; retriable when every partition's error is. */
export class KafkaJSDeleteTopicRecordsError extends KafkaJSError {
  /** partitions lists each failed partition with the offset asked and its error. */
  readonly partitions: Array<{ partition: number; offset: string; error: KafkaJSError | null }>
  constructor(meta: { topic?: string; partitions: Array<{ partition: number; offset: string; error: KafkaJSError | null }> }) {
    const failed = meta.partitions.filter((p) => p.error != null)
    super('Error while deleting records', { retriable: failed.every((p) => p.error!.retriable === true) })
    this.name = 'KafkaJSDeleteTopicRecordsError'
    this.partitions = meta.partitions
    if (meta.topic !== undefined) this.topic = meta.topic
  }
}

/** KafkaJSInvariantViolation means the facade met a state it should never be in: a bug to report. */
export class KafkaJSInvariantViolation extends KafkaJSNonRetriableError {
  constructor(e: Error | string) {
    super(`Invariant violated: ${messageOf(e)}. This is likely a bug and should be reported.`)
    this.name = 'KafkaJSInvariantViolation'
  }
}

/** KafkaJSInvalidVarIntError means a varint on the wire was malformed (its `name` is KafkaJSNonRetriableError, as in KafkaJS). */
export class KafkaJSInvalidVarIntError extends KafkaJSNonRetriableError {
  constructor(e: Error | string = 'invalid varint', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSNonRetriableError'
  }
}

/** KafkaJSInvalidLongError means an int64 on the wire was malformed (its `name` is KafkaJSNonRetriableError, as in KafkaJS). */
export class KafkaJSInvalidLongError extends KafkaJSNonRetriableError {
  constructor(e: Error | string = 'invalid long', opts: { cause?: unknown } = {}) {
    super(e, opts)
    this.name = 'KafkaJSNonRetriableError'
  }
}

/** KafkaJSCreateTopicError means creating a topic failed; `topic` names it. */
export class KafkaJSCreateTopicError extends KafkaJSProtocolError {
  constructor(e: ProtocolErrorInfo | Error | string, topicName: string) {
    super(e)
    this.topic = topicName
    this.name = 'KafkaJSCreateTopicError'
  }
}

/** KafkaJSAlterPartitionReassignmentsError means reassigning a partition failed. */
export class KafkaJSAlterPartitionReassignmentsError extends KafkaJSProtocolError {
  constructor(e: ProtocolErrorInfo | Error | string, topicName?: string, partition?: number) {
    super(e)
    this.topic = topicName
    this.partition = partition
    this.name = 'KafkaJSAlterPartitionReassignmentsError'
  }
}

/** KafkaJSAggregateError collects several errors (`errors`); like KafkaJS's, it extends Error, not KafkaJSError. */
export class KafkaJSAggregateError extends Error {
  /** errors are the collected errors. */
  readonly errors: Array<Error | string>
  constructor(message: Error | string, errors: Array<Error | string>) {
    super(messageOf(message))
    this.errors = errors
    this.name = 'KafkaJSAggregateError'
  }
}

/** KafkaJSFetcherRebalanceError is KafkaJS's internal signal that a fetch was cut short by a rebalance. */
export class KafkaJSFetcherRebalanceError extends Error {}

/** KafkaJSNoBrokerAvailableError means no broker could be reached. */
export class KafkaJSNoBrokerAvailableError extends KafkaJSError {
  constructor(opts: KafkaJSErrorOptions = {}) {
    super('No broker available', opts)
    this.name = 'KafkaJSNoBrokerAvailableError'
  }
}

// ---------------------------------------------------------------- protocol error table

// KafkaJS 2.2.4 knows five codes by the names Kafka used before renaming them; programs compare
// `type` with those names, so the facade keeps them. Every other code uses Kafka's own name, which is
// KafkaJS's too (codes newer than KafkaJS's table, which KafkaJS would call
// KAFKAJS_UNKNOWN_ERROR_CODE, keep Kafka's name: see docs/kafkajs.md).
const KAFKAJS_NAMES: ReadonlyMap<number, string> = new Map([
  [ErrorCode.UNKNOWN_SERVER_ERROR, 'UNKNOWN'],
  [ErrorCode.NOT_LEADER_OR_FOLLOWER, 'NOT_LEADER_FOR_PARTITION'],
  [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 'GROUP_LOAD_IN_PROGRESS'],
  [ErrorCode.COORDINATOR_NOT_AVAILABLE, 'GROUP_COORDINATOR_NOT_AVAILABLE'],
  [ErrorCode.NOT_COORDINATOR, 'NOT_COORDINATOR_FOR_GROUP'],
])

/** protocolErrorInfo returns the KafkaJS type, retriability and a message for a Kafka error code. */
export function protocolErrorInfo(code: number, message?: string | null): ProtocolErrorInfo {
  const k = kafkaErrorCodes.get(code)
  if (k === undefined) return { type: 'KAFKAJS_UNKNOWN_ERROR_CODE', code: -99, retriable: false, message: message || `Unknown error code ${code}` }
  return { type: KAFKAJS_NAMES.get(code) ?? k.name, code, retriable: k.retriable, message: message || k.description }
}

/** createErrorFromCode returns the KafkaJSProtocolError for a Kafka error code. */
export function createErrorFromCode(code: number, opts: { topic?: string; partition?: number; message?: string | null; cause?: unknown } = {}): KafkaJSProtocolError {
  const info = protocolErrorInfo(code, opts.message)
  const err = code === ErrorCode.OFFSET_OUT_OF_RANGE && opts.topic !== undefined && opts.partition !== undefined
    ? new KafkaJSOffsetOutOfRange(info, { topic: opts.topic, partition: opts.partition })
    : new KafkaJSProtocolError(info, { cause: opts.cause })
  if (opts.topic !== undefined) err.topic = opts.topic
  if (opts.partition !== undefined) err.partition = opts.partition
  return err
}

/**
 * kafkaJSCode is the code KafkaJS sees in place of `code`. KafkaJS speaks request versions at which
 * brokers report a fence as INVALID_PRODUCER_EPOCH (KIP-588 kept the old code for them), and has no
 * name for PRODUCER_FENCED: programs that handle fences test for INVALID_PRODUCER_EPOCH.
 */
function kafkaJSCode(code: number): number {
  return code === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : code
}

/** BrokerAddress resolves a node id to its "host:port", for errors that name a broker. */
export type BrokerAddress = (nodeId: number) => string | undefined

/**
 * toKafkaJSError turns any error the client hands out into the KafkaJS error a KafkaJS program would
 * see in its place; KafkaJS errors pass through unchanged. The kafka-wire error is kept as `cause`.
 */
export function toKafkaJSError(err: unknown, brokerAddress?: BrokerAddress): KafkaJSError {
  if (err instanceof KafkaJSError) return err
  // Handed on as it is, as KafkaJS does; callers read `retriable` (absent: not retried) and throw it.
  if (err instanceof Error && programErrors.has(err)) return err as KafkaJSError
  if (!(err instanceof Error)) return new KafkaJSNonRetriableError(String(err))
  const where = (e: KafkaWireError) => (e.broker !== undefined ? brokerAddress?.(e.broker) : undefined)
  let out: KafkaJSError
  if (err instanceof ProducerFencedError) {
    out = createErrorFromCode(ErrorCode.INVALID_PRODUCER_EPOCH, { cause: err })
  } else if (err instanceof KafkaProtocolError) {
    out = createErrorFromCode(kafkaJSCode(err.errorCode), { topic: err.topic, partition: err.partition, message: err.errorMessage, cause: err })
  } else if (err instanceof TransactionFatalError || err instanceof TransactionAbortableError) {
    // The broker's error that ended or spoiled the transaction, when there is one; never retriable:
    // the same call cannot succeed (an abortable transaction must be aborted).
    const c = err.cause
    out = c instanceof KafkaProtocolError
      ? new KafkaJSProtocolError(protocolErrorInfo(kafkaJSCode(c.errorCode), err.message), { retriable: false, cause: err })
      : new KafkaJSNonRetriableError(err.message, { cause: err })
  } else if (err instanceof SaslAuthenticationError || err instanceof UnsupportedSaslMechanismError) {
    out = new KafkaJSSASLAuthenticationError(`SASL authentication failed: ${err.message}`, { cause: err })
  } else if (err instanceof RequestTimeoutError) {
    out = new KafkaJSRequestTimeoutError('Request timed out', { broker: where(err), cause: err })
    out.message = `Request timed out: ${err.message}`
  } else if (err instanceof InvalidTopicError) {
    // kafka-wire refuses the name before sending; KafkaJS hears the broker's INVALID_TOPIC_EXCEPTION.
    out = createErrorFromCode(ErrorCode.INVALID_TOPIC_EXCEPTION, { topic: err.topic, message: err.message, cause: err })
  } else if (err instanceof BrokersUnreachableError && err.cause instanceof Error) {
    // No broker answered: KafkaJS reports the last connection's error (a KafkaJSConnectionError, or
    // the SASL error that ended it); the message keeps which brokers were tried.
    out = toKafkaJSError(err.cause, brokerAddress)
    out.message = err.message
  } else if (err instanceof BrokerConnectionError) {
    const sys = (err.cause as { code?: unknown } | undefined)?.code
    out = new KafkaJSConnectionError(err.message, { broker: where(err), code: typeof sys === 'string' ? sys : undefined, cause: err })
  } else if (err instanceof UnsupportedVersionError) {
    out = new KafkaJSServerDoesNotSupportApiKey(err.message, { cause: err })
  } else if (err instanceof RecordTooLargeError) {
    // KafkaJS sends the batch and the broker refuses it; kafka-wire refuses it before sending.
    out = new KafkaJSProtocolError(protocolErrorInfo(ErrorCode.MESSAGE_TOO_LARGE, err.message), { cause: err })
  } else if (err instanceof UnknownLeaderError) {
    out = new KafkaJSProtocolError(protocolErrorInfo(ErrorCode.LEADER_NOT_AVAILABLE, err.message), { cause: err })
  } else if (err instanceof WaitTimeoutError || err instanceof RecordTimeoutError) {
    out = new KafkaJSTimeout(err.message, { cause: err })
  } else if (err instanceof ClientClosedError) {
    out = new KafkaJSError(err.message, { retriable: false, cause: err })
  } else if (err instanceof InvalidOptionError || err instanceof InvalidArgumentError || err instanceof InvalidRecordError || err instanceof PartitionerError || err instanceof InvalidOperationError || err instanceof AbortError || err instanceof TransactionStateError || err instanceof TransactionAbortedError) {
    out = new KafkaJSNonRetriableError(err.message, { cause: err })
  } else if (err instanceof KafkaWireError) {
    out = new KafkaJSError(err.message, { retriable: err.retriable, cause: err })
  } else {
    return new KafkaJSNonRetriableError(err, { cause: err })
  }
  if (err instanceof KafkaWireError) {
    if (err.topic !== undefined) out.topic = err.topic
    if (err.partition !== undefined) out.partition = err.partition
  }
  return out
}

/**
 * programErrors are errors the program's own code threw inside the facade, such as a custom SASL
 * provider's: they reach the program unchanged, as in KafkaJS, rather than as KafkaJS errors.
 */
const programErrors = new WeakSet<Error>()

/** programError marks an error of the program's own code (see programErrors) and returns it. */
export function programError(err: Error): Error {
  programErrors.add(err)
  return err
}

/** isRebalancing is true for the errors after which KafkaJS rejoins its group. */
export function isRebalancing(e: { type?: string }): boolean {
  return e.type === 'REBALANCE_IN_PROGRESS' || e.type === 'NOT_COORDINATOR_FOR_GROUP' || e.type === 'ILLEGAL_GENERATION'
}

/** isKafkaJSError is true for errors of the KafkaJS hierarchy. */
export function isKafkaJSError(e: unknown): e is KafkaJSError {
  return e instanceof KafkaJSError
}
