/**
 * Every error class the client throws or hands out. Each has a stable `code`, `retriable`, and the
 * broker, topic or partition it concerns when it concerns one; `instanceof` works across two loaded
 * copies of the package (KafkaWireError's brand). Errors of the bytes (decode, encode) and the
 * broker's error codes (KafkaProtocolError) are the protocol layer's and stay there.
 */
import { KafkaWireError } from '../protocol/errors.js'

/** ErrorScope names what an error concerns. */
export interface ErrorScope {
  broker?: number
  topic?: string
  partition?: number
}

/** ClientClosedError is what every operation on a closed client fails with. */
export class ClientClosedError extends KafkaWireError {
  constructor(message = 'the client is closed', scope: ErrorScope = {}) {
    super(message, { code: 'CLIENT_CLOSED', retriable: false, ...scope })
  }
}

/** InvalidOptionError is thrown at construction for an option that cannot work; it names the option. */
export class InvalidOptionError extends KafkaWireError {
  /** option is the name (or path, such as `hooks[1]`) of the offending option. */
  readonly option: string
  constructor(option: string, message: string) {
    super(`invalid option ${option}: ${message}`, { code: 'INVALID_OPTION', retriable: false })
    this.option = option
  }
}

/** WaitTimeoutError means a wait for a condition (a topic usable on every broker, say) ran out of time. */
export class WaitTimeoutError extends KafkaWireError {
  constructor(message: string, scope: ErrorScope = {}) {
    super(message, { code: 'WAIT_TIMEOUT', retriable: true, ...scope })
  }
}

/** InvalidOperationError means a method was called in a state or configuration where it cannot work. */
export class InvalidOperationError extends KafkaWireError {
  constructor(message: string, scope: ErrorScope = {}) {
    super(message, { code: 'INVALID_OPERATION', retriable: false, ...scope })
  }
}

/** AbortError is how an operation ends when its AbortSignal fires; `cause` is the signal's reason. */
export class AbortError extends KafkaWireError {
  constructor(reason: unknown) {
    super('the operation was aborted', { code: 'ABORTED', retriable: false, cause: reason })
  }
}

// ---------------------------------------------------------------- connections

/** BrokerConnectionError means a connection to a broker failed or died; the request may be retried. */
export class BrokerConnectionError extends KafkaWireError {
  constructor(message: string, opts: { cause?: unknown; broker?: number } = {}) {
    super(message, { code: 'BROKER_CONNECTION', retriable: true, ...opts })
  }
}

/** RequestTimeoutError means a broker did not answer a request in time; the connection is closed. */
export class RequestTimeoutError extends KafkaWireError {
  constructor(message: string, opts: { broker?: number } = {}) {
    super(message, { code: 'REQUEST_TIMEOUT', retriable: true, ...opts })
  }
}

/** UnsupportedVersionError means the broker and kafka-wire share no version of a request. */
export class UnsupportedVersionError extends KafkaWireError {
  constructor(message: string, opts: { broker?: number } = {}) {
    super(message, { code: 'UNSUPPORTED_VERSION', retriable: false, ...opts })
  }
}

/** ResponseTooLargeError means a broker announced a response larger than `brokerMaxReadBytes`. */
export class ResponseTooLargeError extends KafkaWireError {
  constructor(message: string, opts: { broker?: number } = {}) {
    super(message, { code: 'RESPONSE_TOO_LARGE', retriable: false, ...opts })
  }
}

/**
 * SaslAuthenticationError means SASL authentication failed: the broker refused the credentials, the
 * exchange broke the mechanism's rules, or the server failed to prove it knows the credentials (SCRAM).
 * Trying again with the same credentials fails the same way, so it is not retriable. `errorMessage` is
 * the broker's own explanation when it sent one.
 */
export class SaslAuthenticationError extends KafkaWireError {
  /** errorMessage is the broker's message, null when the failure was detected on this side. */
  readonly errorMessage: string | null

  constructor(message: string, opts: { errorMessage?: string | null; cause?: unknown; broker?: number } = {}) {
    super(message, { code: 'SASL_AUTHENTICATION_FAILED', retriable: false, cause: opts.cause, broker: opts.broker })
    this.errorMessage = opts.errorMessage ?? null
  }
}

/**
 * UnsupportedSaslMechanismError means the broker does not enable the requested mechanism; `enabled`
 * lists the mechanisms it does enable.
 */
export class UnsupportedSaslMechanismError extends KafkaWireError {
  /** mechanism is the mechanism that was asked for. */
  readonly mechanism: string
  /** enabled lists the mechanisms the broker offers. */
  readonly enabled: ReadonlyArray<string>

  constructor(mechanism: string, enabled: ReadonlyArray<string>, opts: { broker?: number; host?: string } = {}) {
    const where = opts.host ? `broker ${opts.host}` : 'the broker'
    const offered = enabled.length > 0 ? `it enables ${enabled.join(', ')}` : 'it enables none'
    super(`${where} does not enable SASL mechanism ${mechanism}; ${offered}`, {
      code: 'UNSUPPORTED_SASL_MECHANISM',
      retriable: false,
      broker: opts.broker,
    })
    this.mechanism = mechanism
    this.enabled = Object.freeze([...enabled])
  }
}

/**
 * IncompleteResponseError means a broker's response left out part of what was asked (a partition of a
 * produce request, for example); the part is retried.
 */
export class IncompleteResponseError extends KafkaWireError {
  constructor(message: string, scope: ErrorScope = {}) {
    super(message, { code: 'INCOMPLETE_RESPONSE', retriable: true, ...scope })
  }
}

// ---------------------------------------------------------------- routing

/** UnknownLeaderError means a partition in a request has no known leader. */
export class UnknownLeaderError extends KafkaWireError {
  constructor(topic: string, partition: number) {
    super(`no leader known for ${topic}[${partition}]`, { code: 'LEADER_NOT_AVAILABLE', retriable: true, topic, partition })
  }
}

// ---------------------------------------------------------------- producing

/** MaxBufferedError means `tryProduce` found maxBufferedRecords or maxBufferedBytes reached. */
export class MaxBufferedError extends KafkaWireError {
  constructor(what: string, topic?: string) {
    super(`the producer buffer is full (${what}); the record was not buffered`, { code: 'MAX_BUFFERED', retriable: true, ...(topic !== undefined ? { topic } : {}) })
  }
}

/** RecordTooLargeError means a record cannot fit in one batch of `producerBatchMaxBytes`. */
export class RecordTooLargeError extends KafkaWireError {
  constructor(size: number, max: number, topic: string) {
    super(`record of about ${size} bytes is larger than producerBatchMaxBytes (${max})`, { code: 'RECORD_TOO_LARGE', retriable: false, topic })
  }
}

/** InvalidRecordError means a record is malformed (no topic, a key or value of the wrong type, ...). */
export class InvalidRecordError extends KafkaWireError {
  constructor(message: string, topic?: string) {
    super(message, { code: 'INVALID_RECORD', retriable: false, ...(topic !== undefined ? { topic } : {}) })
  }
}

/** RecordTimeoutError means a record was not delivered within `recordDeliveryTimeout`. */
export class RecordTimeoutError extends KafkaWireError {
  constructor(ms: number, topic: string, partition: number, cause: Error | null) {
    super(`record not delivered within recordDeliveryTimeout (${ms} ms)${cause ? `; last error: ${cause.message}` : ''}`, { code: 'RECORD_TIMEOUT', retriable: false, topic, partition, cause })
  }
}

/**
 * DataLossError means the producer detected data loss on `topic`[`partition`] and stopped, as
 * stopProducerOnDataLossDetected asks (franz-go's StopProducerOnDataLossDetected): the broker
 * answered OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID (`cause`) for the partition's oldest
 * unacknowledged batch after acknowledging earlier ones, so it lost records it had acknowledged (an
 * unclean leader election, say). A record failed with it was not written: the refused batch, every
 * record not yet sent, of any partition, and every record produced afterwards. The producer stays
 * stopped: a new client is needed to produce again.
 */
export class DataLossError extends KafkaWireError {
  constructor(topic: string, partition: number, cause?: unknown) {
    super(`data loss detected on ${topic}[${partition}]: the broker no longer has records it acknowledged (${cause instanceof Error ? cause.message : 'no producer state'}); the producer stopped (stopProducerOnDataLossDetected) and the record was not written`, { code: 'DATA_LOSS_DETECTED', retriable: false, topic, partition, cause })
  }
}

/** PartitionerError is thrown by a partitioner for a record it cannot place; the producer fails that record with it. */
export class PartitionerError extends KafkaWireError {
  constructor(message: string, topic: string) {
    super(message, { code: 'PARTITIONER', retriable: false, topic })
  }
}

// ---------------------------------------------------------------- fate and reachability

/**
 * RecordFateUnknownError means the client cannot tell whether a record was written: a produce request
 * carrying it was sent and no answer came (the connection died, the request timed out, or the client
 * closed or the delivery timeout ran out while it was in flight), so the broker may or may not have
 * appended it. Java's TimeoutException says the same of expired batches. Producing the record again may
 * write it twice; read the partition back (or use transactions) when that matters. `cause` is the last
 * error met. Not retriable, for that reason.
 */
export class RecordFateUnknownError extends KafkaWireError {
  constructor(why: string, topic: string, partition: number, cause: unknown = undefined) {
    super(`the record may or may not have been written to ${topic}[${partition}]: ${why}`, { code: 'RECORD_FATE_UNKNOWN', retriable: false, topic, partition, cause })
  }
}

/**
 * BrokersUnreachableError means no broker of the cluster could be reached: every address tried refused
 * the connection, did not answer, or failed before a request could be made. `brokers` lists the
 * addresses tried, `cause` is the last connection error. Records fail with it when their delivery
 * timeout runs out while the cluster is unreachable; a consumer's polls report it in `errors()`.
 * Retriable: the cluster may come back.
 */
export class BrokersUnreachableError extends KafkaWireError {
  /** brokers lists the "host:port" addresses tried. */
  readonly brokers: ReadonlyArray<string>

  constructor(brokers: ReadonlyArray<string>, cause: Error | null, scope: ErrorScope = {}, prefix = '') {
    const tried = Array.isArray(brokers) ? [...brokers] : [String(brokers)]
    const last = cause instanceof Error ? `last error: ${cause.message}` : 'no connection attempt has finished yet'
    super(`${prefix}no broker could be reached (tried ${tried.join(', ')}); ${last}`, { code: 'BROKERS_UNREACHABLE', retriable: true, cause: cause ?? undefined, ...scope })
    this.brokers = Object.freeze(tried)
  }
}

/**
 * InvalidTopicError means a topic name breaks Kafka's rules: empty, longer than 249 characters, `.` or
 * `..`, or a character other than ASCII letters, digits, `.`, `_` and `-`. It is found locally, before
 * anything is sent; its code is the broker's name for the same error, INVALID_TOPIC_EXCEPTION.
 */
export class InvalidTopicError extends KafkaWireError {
  constructor(topic: string, why: string) {
    super(`invalid topic name ${JSON.stringify(topic)}: ${why}`, { code: 'INVALID_TOPIC_EXCEPTION', retriable: false, topic })
  }
}

// ---------------------------------------------------------------- administration

/**
 * InvalidArgumentError means an argument of a method (an Admin method, say) is malformed: a topic
 * without a name, an ACL with an unknown operation, a negative partition count. `argument` names it,
 * as a path such as `topics[2].name`. Nothing was sent.
 */
export class InvalidArgumentError extends KafkaWireError {
  /** argument is the path of the offending argument. */
  readonly argument: string
  constructor(argument: string, message: string) {
    super(`invalid argument ${argument}: ${message}`, { code: 'INVALID_ARGUMENT', retriable: false })
    this.argument = argument
  }
}

/**
 * GroupNotEmptyError means an operation that needs a group without members (resetting its offsets,
 * as kafka-consumer-groups refuses to while the group is active) found members in it. `state` is the
 * group's state (Stable, PreparingRebalance, …) and `members` how many members it has.
 */
export class GroupNotEmptyError extends KafkaWireError {
  /** state is the group's state when it was checked. */
  readonly state: string
  /** members is the number of members the group had. */
  readonly members: number
  constructor(group: string, state: string, members: number) {
    super(`group ${group} has ${members} member${members === 1 ? '' : 's'} (state ${state}): its offsets can only be reset while it is empty; stop its consumers first`, { code: 'GROUP_NOT_EMPTY', retriable: false, group })
    this.state = state
    this.members = members
  }
}


/**
 * GroupSessionError means a group member gave up its group session and joins again (franz-go's
 * ErrGroupSession): `onOffsetsFetched` threw or rejected, and `cause` is what it threw. The
 * partitions of the session are lost (onPartitionsLost), the error reaches the next poll and
 * onGroupManageError, and the member rejoins after a backoff, so it is retriable.
 */
export class GroupSessionError extends KafkaWireError {
  constructor(group: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause)
    super(`group ${group}: onOffsetsFetched failed (${why}); the member gives up its partitions and rejoins`, { code: 'GROUP_SESSION', retriable: true, group, cause })
  }
}
// ---------------------------------------------------------------- transactions

/** TransactionErrorOptions are what a transaction error concerns and what caused it. */
export interface TransactionErrorOptions extends ErrorScope {
  /** transactionalId is the producer's transactional id. */
  transactionalId?: string | null
  /** cause is the underlying error: the broker's code, a record's failure, a request that gave up. */
  cause?: unknown
}

/**
 * TransactionStateError means a transaction method was called in a state where it cannot work: a
 * second `beginTransaction()`, `endTransaction()` with no transaction open, an abort while a commit
 * whose outcome is unknown must be retried, any of them on a client without a `transactionalId`.
 * Nothing was changed: the calling code is wrong, so it is not retriable.
 */
export class TransactionStateError extends KafkaWireError {
  /** transactionalId is the producer's transactional id, null on a client without one. */
  readonly transactionalId: string | null

  constructor(message: string, opts: TransactionErrorOptions = {}) {
    super(message, { code: new.target === NotInTransactionError ? 'NOT_IN_TRANSACTION' : 'TRANSACTION_STATE', retriable: false, ...scopeOf(opts) })
    this.transactionalId = typeof opts.transactionalId === 'string' ? opts.transactionalId : null
  }
}

/**
 * NotInTransactionError is what a record produced by a transactional client outside a transaction
 * fails with (franz-go's ErrNotInTransaction): call `beginTransaction()` first.
 */
export class NotInTransactionError extends TransactionStateError {
  constructor(message = 'the client has a transactionalId and no transaction is open: call beginTransaction() before producing', opts: TransactionErrorOptions = {}) {
    super(message, opts)
  }
}

/**
 * TransactionAbortableError means the open transaction cannot commit: one of its records failed,
 * its offsets could not be added, the consumer group moved on (KIP-447), or the broker aborted it
 * when `transactionTimeout` ran out. Call `endTransaction('abort')`: the producer stays usable and the
 * next transaction can succeed. `cause` is the underlying error. (Its code is the name of the
 * broker's TRANSACTION_ABORTABLE, which means the same.)
 */
export class TransactionAbortableError extends KafkaWireError {
  /** transactionalId is the producer's transactional id. */
  readonly transactionalId: string | null

  constructor(message: string, opts: TransactionErrorOptions = {}) {
    super(message, { code: 'TRANSACTION_ABORTABLE', retriable: false, ...scopeOf(opts) })
    this.transactionalId = typeof opts.transactionalId === 'string' ? opts.transactionalId : null
  }
}

/**
 * TransactionFatalError means the transactional producer cannot go on: its transactional id is not
 * authorized, the broker refuses its transaction timeout or protocol, or (ProducerFencedError) a newer
 * producer took the transactional id over. Every later produce and transaction call fails with this
 * same error: close the client. `cause` is the broker's error.
 */
export class TransactionFatalError extends KafkaWireError {
  /** transactionalId is the producer's transactional id. */
  readonly transactionalId: string | null

  constructor(message: string, opts: TransactionErrorOptions = {}) {
    super(message, { code: new.target === ProducerFencedError ? 'PRODUCER_FENCED' : 'TRANSACTION_FATAL', retriable: false, ...scopeOf(opts) })
    this.transactionalId = typeof opts.transactionalId === 'string' ? opts.transactionalId : null
  }
}

/**
 * ProducerFencedError means a newer producer with the same `transactionalId` initialized and fenced
 * this one (KIP-98's zombie fencing): the broker refuses its epoch for good. The client refuses every
 * further produce and transaction with this error; close it. A TransactionFatalError.
 */
export class ProducerFencedError extends TransactionFatalError {
  constructor(message = 'a newer producer with the same transactionalId fenced this one: close the client', opts: TransactionErrorOptions = {}) {
    super(message, opts)
  }
}

/**
 * TransactionAbortedError is what a record fails with when its transaction was aborted before the
 * record was sent (`endTransaction('abort')`, Java's TransactionAbortedException): it was never
 * written.
 */
export class TransactionAbortedError extends KafkaWireError {
  constructor(message = 'the transaction was aborted before the record was sent', scope: ErrorScope = {}) {
    super(message, { code: 'TRANSACTION_ABORTED', retriable: false, ...scopeOf(scope) })
  }
}

/** scopeOf keeps the broker, topic, partition and cause of an options object, dropping what is not one. */
function scopeOf(o: TransactionErrorOptions): { broker?: number; topic?: string; partition?: number; cause?: unknown } {
  const out: { broker?: number; topic?: string; partition?: number; cause?: unknown } = {}
  if (o === null || typeof o !== 'object') return out
  if (typeof o.broker === 'number') out.broker = o.broker
  if (typeof o.topic === 'string') out.topic = o.topic
  if (typeof o.partition === 'number') out.partition = o.partition
  if (o.cause !== undefined) out.cause = o.cause
  return out
}
