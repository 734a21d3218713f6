/**
 * The shapes shared by the generated message modules beside this file: ApiMessage (one per API key),
 * DataMessage (headers and other non-API specs), the compact schemas every message carries, and the
 * errors the generated encoders throw. This file is hand-written; the generator only imports it.
 */
import { ProtocolDecodeError, ProtocolEncodeError } from '../errors.js'
import type { Reader, TaggedField } from '../reader.js'
import type { Writer } from '../writer.js'

export type { TaggedField }

/** EntityType is what a field of a message names, in the specs' words. */
export type EntityType = 'groupId' | 'transactionalId' | 'topicName' | 'brokerId' | 'producerId'

/** VersionRange is an inclusive range of versions; 32767 stands for "and every later version". */
export type VersionRange = readonly [lo: number, hi: number]

/** PrimitiveType is a non-struct field type of Kafka's message specs. */
export type PrimitiveType = 'bool' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'float64' | 'string' | 'bytes' | 'records' | 'uuid'

/** FieldSchema describes one field of a struct, as its message spec does, without the prose. */
export interface FieldSchema {
  /** name is the TypeScript property name. */
  readonly name: string
  readonly type: PrimitiveType | 'struct' | '[]struct' | `[]${PrimitiveType}`
  /** versions are the versions in which the field exists. */
  readonly versions: VersionRange
  /** nullable are the versions in which the field may be null (absent: never). */
  readonly nullable?: VersionRange
  /** tag and tagged: the field is a tagged field with this tag in these versions. */
  readonly tag?: number
  readonly tagged?: VersionRange
  /** flexible overrides the message's flexible versions for this field (null: never flexible). */
  readonly flexible?: VersionRange | null
  /** ignorable fields are silently dropped when encoding a version that lacks them. */
  readonly ignorable?: true
  /**
   * entityType says what the field names, where the spec says so: 'groupId', 'transactionalId',
   * 'topicName', 'brokerId' or 'producerId'. The client routes coordinator requests by it.
   */
  readonly entityType?: EntityType
  /** default is the spec's default when it is not the type's zero value (null for a struct or array). */
  readonly default?: number | bigint | boolean | string | null
  /** struct describes the struct of a `struct` or `[]struct` field. */
  readonly struct?: StructSchema
}

/** StructSchema describes a struct: its TypeScript name and its fields in wire order. */
export interface StructSchema {
  readonly name: string
  readonly fields: readonly FieldSchema[]
}

/** MessageSchema describes a top-level request, response, header or data struct. */
export interface MessageSchema extends StructSchema {
  readonly versions: VersionRange
  /** flexible are the versions that use compact encodings and tagged fields (null: none). */
  readonly flexible: VersionRange | null
}

/**
 * ApiMessage is one Kafka API: its key, versions, header versions, and the encoders and decoders of its
 * request and response bodies (the header is encoded separately, see headers.ts). Decoders read from the
 * reader's position and leave the final `complete()` check to the caller, which knows where the frame ends.
 */
export interface ApiMessage<Req = unknown, Res = unknown> {
  readonly key: number
  /** name is the API's name as Kafka spells it, e.g. 'Produce' or 'ApiVersions'. */
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  /** flexibleVersion is the first version using compact encodings and tagged fields, or null. */
  readonly flexibleVersion: number | null
  /** latestVersionUnstable is true when maxVersion is still under development in Kafka. */
  readonly latestVersionUnstable: boolean
  /** listeners are the listener types that serve this API: 'broker', 'controller', 'zkBroker'. */
  readonly listeners: readonly string[]
  readonly requestSchema: MessageSchema
  readonly responseSchema: MessageSchema
  /** requestHeaderVersion is the RequestHeader version to send with a request of this version. */
  requestHeaderVersion(version: number): number
  /** responseHeaderVersion is the ResponseHeader version that comes back with a response of this version. */
  responseHeaderVersion(version: number): number
  encodeRequest(w: Writer, version: number, v: Req): void
  decodeRequest(r: Reader, version: number): Req
  encodeResponse(w: Writer, version: number, v: Res): void
  decodeResponse(r: Reader, version: number): Res
  /**
   * newRequest returns a new request with every field, in every version, at its spec default: set
   * the fields you need and send it, e.g.
   *
   * ```ts
   * const req = CreateTopics.newRequest()
   * req.topics = [{ ...newCreateTopicsRequestCreatableTopic(), name: 'orders', numPartitions: 6, replicationFactor: -1 }]
   * await client.request(CreateTopics, req)
   * ```
   *
   * Each struct of a message has its own `newX()` helper exported beside the message (for the
   * example, `newCreateTopicsRequestCreatableTopic`). `checkRequest` (protocol/validate.ts) says what is wrong
   * with a body before it is encoded.
   */
  newRequest(): Req
  /** newResponse returns a response with every field at its spec default. */
  newResponse(): Res
}

/** DataMessage is a versioned struct that is not an API body: headers, consumer protocol, control records. */
export interface DataMessage<T = unknown> {
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  readonly flexibleVersion: number | null
  readonly schema: MessageSchema
  encode(w: Writer, version: number, v: T): void
  decode(r: Reader, version: number): T
  /** newValue returns a value with every field at its spec default. */
  newValue(): T
}

/** EMPTY_BYTES is the shared default of bytes fields (zero length, so nothing can write into it). */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0)

/** absentFieldError: a field that does not exist in `version` holds a non-default value that must not be lost. */
export function absentFieldError(field: string, version: number): ProtocolEncodeError {
  return new ProtocolEncodeError(`${field} is not in version ${version}, and its non-default value cannot be dropped`)
}

/** nullFieldError: null given for a field that is not nullable in `version`. */
export function nullFieldError(field: string, version: number): ProtocolEncodeError {
  return new ProtocolEncodeError(`${field} cannot be null in version ${version}`)
}

/** taggedFieldsError: unknown tagged fields given for a version that has no tagged fields. */
export function taggedFieldsError(struct: string, version: number): ProtocolEncodeError {
  return new ProtocolEncodeError(`${struct} has unknownTaggedFields, but version ${version} has no tagged fields`)
}

/** encodeVersionError: encoding a version the message does not have. */
export function encodeVersionError(message: string, version: number, min: number, max: number): ProtocolEncodeError {
  return new ProtocolEncodeError(`cannot encode ${message} version ${version}: versions ${min}-${max} exist`)
}

/** decodeVersionError: decoding a version the message does not have. */
export function decodeVersionError(message: string, version: number, min: number, max: number): ProtocolDecodeError {
  return new ProtocolDecodeError(`cannot decode ${message} version ${version}: versions ${min}-${max} exist`)
}
