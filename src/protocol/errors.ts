import { kafkaErrorCodes, type KafkaErrorCode } from './error-codes.js'

const BRAND = Symbol.for('kafka-wire.error')

/**
 * KafkaWireError is the base class of every error kafka-wire throws or hands out. `code` is a stable
 * string for programs to switch on, `retriable` says whether trying the same thing again may succeed.
 * `instanceof` works across two loaded copies of the package: classes are matched by a global brand.
 */
export class KafkaWireError extends Error {
  /** code is a stable machine-readable name, such as 'PROTOCOL_DECODE' or 'NOT_LEADER_OR_FOLLOWER'. */
  readonly code: string
  /** retriable is true when the same operation may succeed if tried again. */
  readonly retriable: boolean
  /** broker is the node id the error concerns, when it concerns one. */
  broker?: number
  /** topic and partition the error concerns, when it concerns one. */
  topic?: string
  partition?: number
  /** group is the consumer group the error concerns, when it concerns one. */
  group?: string
  /**
   * resource names another thing the error concerns, as `kind name`: `transactional id tx-1`,
   * `user alice`, `broker 1`, `topic config orders`, `acl …`.
   */
  resource?: string

  constructor(message: string, opts: { code: string; retriable?: boolean; cause?: unknown; broker?: number; topic?: string; partition?: number; group?: string; resource?: string }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = new.target.name
    this.code = opts.code
    this.retriable = opts.retriable ?? false
    if (opts.broker !== undefined) this.broker = opts.broker
    if (opts.topic !== undefined) this.topic = opts.topic
    if (opts.partition !== undefined) this.partition = opts.partition
    if (opts.group !== undefined) this.group = opts.group
    if (opts.resource !== undefined) this.resource = opts.resource
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, v)) return true
    // Another loaded copy of the package has its own class objects: match the brand and the class
    // names along the prototype chain instead.
    if (typeof v !== 'object' || v === null || !(BRAND in v)) return false
    for (let p = Object.getPrototypeOf(v); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
      if (p.constructor?.name === this.name) return true
    }
    return false
  }
}

Object.defineProperty(KafkaWireError.prototype, BRAND, { value: true })

/** ProtocolDecodeError means bytes from the wire did not decode: truncated, oversized or malformed. */
export class ProtocolDecodeError extends KafkaWireError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'PROTOCOL_DECODE', retriable: false, cause })
  }
}

/** ProtocolEncodeError means a value could not be encoded in the requested version. */
export class ProtocolEncodeError extends KafkaWireError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'PROTOCOL_ENCODE', retriable: false, cause })
  }
}

/**
 * InvalidRequestError means a request body given to `client.request` (or a helper that takes one) does
 * not fit its API's schema in the version about to be sent: a field is missing, has the wrong type, is
 * out of range, or is a malformed UUID. `path` names the field, e.g. `CreateTopicsRequest.topics[0].name`.
 * Nothing was sent.
 */
export class InvalidRequestError extends KafkaWireError {
  /** path is the offending field's path from the request's root. */
  readonly path: string
  /** api is the request's API name, e.g. 'CreateTopics'. */
  readonly api: string
  /** version is the request version the body was checked against (-1 when the check needed none). */
  readonly version: number

  constructor(api: string, version: number, path: string, problem: string) {
    super(`invalid ${api} request${version >= 0 ? ` (v${version})` : ''}: ${path} ${problem}`, { code: 'INVALID_REQUEST', retriable: false })
    this.path = path
    this.api = api
    this.version = version
  }
}

/**
 * KafkaProtocolError is an error code returned by a broker. `errorCode` is the number on the wire,
 * `code` its name (for example 'NOT_LEADER_OR_FOLLOWER'), `retriable` comes from Kafka's own table.
 */
export class KafkaProtocolError extends KafkaWireError {
  /** errorCode is the number the broker sent. */
  readonly errorCode: number
  /** errorMessage is the optional message the broker sent with the code. */
  readonly errorMessage: string | null

  constructor(errorCode: number, opts: { errorMessage?: string | null; broker?: number; topic?: string; partition?: number; group?: string; resource?: string } = {}) {
    const info: KafkaErrorCode | undefined = kafkaErrorCodes.get(errorCode)
    const name = info?.name ?? `UNKNOWN_ERROR_CODE_${errorCode}`
    const scope: string[] = []
    if (opts.group !== undefined) scope.push(`group ${opts.group}`)
    if (opts.topic !== undefined) scope.push(`${opts.topic}${opts.partition !== undefined ? `[${opts.partition}]` : ''}`)
    if (opts.resource !== undefined) scope.push(opts.resource)
    const where = scope.length > 0 ? ` (${scope.join(', ')})` : ''
    const detail = opts.errorMessage ? `: ${opts.errorMessage}` : info ? `: ${info.description}` : ''
    super(`${name}${where}${detail}`, { code: name, retriable: info?.retriable ?? false, ...opts })
    this.errorCode = errorCode
    this.errorMessage = opts.errorMessage ?? null
  }
}

/** errorForCode returns null for 0 (no error) and a KafkaProtocolError for any other code. */
export function errorForCode(errorCode: number, opts?: ConstructorParameters<typeof KafkaProtocolError>[1]): KafkaProtocolError | null {
  return errorCode === 0 ? null : new KafkaProtocolError(errorCode, opts)
}
