/**
 * checkRequest: a request body checked against its API's schema in one version before it is encoded,
 * so that a body written by hand fails with an error naming the field (`CreateTopicsRequest.topics[0].name
 * is missing`) instead of a TypeError deep in an encoder, or worse, bytes the broker misreads. The
 * schemas are the ones the generator writes beside every message; this file is hand-written.
 *
 * The client checks bodies that users give to `client.request`; its own requests (produce, fetch,
 * groups) are built from `newRequest()` and are not checked again, so the hot paths pay nothing.
 */
import { InvalidRequestError } from './errors.js'
import { ZERO_UUID } from './reader.js'
import { UUID_BASE64, UUID_DASHED } from './writer.js'
import { EMPTY_BYTES, type ApiMessage, type FieldSchema, type StructSchema, type VersionRange } from './messages/api.js'

const INT_RANGES: { readonly [t: string]: readonly [number, number] } = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
}
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/**
 * isUuid is true for a string a uuid field accepts: Kafka's 22-character base64url form or the
 * canonical dashed form.
 */
export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && (UUID_BASE64.test(v) || UUID_DASHED.test(v))
}

/** uuidToBase64 returns a Uuid in Kafka's base64url form, from either accepted form; other input throws TypeError. */
export function uuidToBase64(v: string): string {
  if (UUID_BASE64.test(v)) return v
  if (UUID_DASHED.test(v)) return Buffer.from(v.replace(/-/g, ''), 'hex').toString('base64url')
  throw new TypeError(`invalid Uuid ${JSON.stringify(v)}: want 22 base64url characters (as Kafka prints it) or the dashed form 8-4-4-4-12`)
}

/** uuidToDashed returns a Uuid in the dashed hex form, from either accepted form. */
export function uuidToDashed(v: string): string {
  const hex = Buffer.from(uuidToBase64(v), 'base64url').toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const within = (v: number, r: VersionRange | undefined) => r !== undefined && v >= r[0] && v <= r[1]
const showRange = (r: VersionRange) => (r[1] >= 32767 ? `${r[0]}+` : r[0] === r[1] ? `${r[0]}` : `${r[0]}-${r[1]}`)

/**
 * checkRequest checks `body` against the request schema of `api` in `version` and returns what to
 * encode: `body` itself, or, when fields that do not exist in this version were left out, a copy with
 * those fields at their defaults (the given object is never changed). It throws InvalidRequestError,
 * naming the field's path, for a field of the version that is missing, null where the version does
 * not allow it, of the wrong type, out of its type's range, or a malformed UUID; and for a field that
 * does not exist in this version but holds a value that would be lost. Tagged fields may be left out.
 */
export function checkRequest<Req>(api: ApiMessage<Req, unknown>, version: number, body: unknown): Req {
  if (version < api.minVersion || version > api.maxVersion) {
    throw new InvalidRequestError(api.name, version, api.requestSchema.name, `cannot be sent in version ${version}: versions ${api.minVersion}-${api.maxVersion} exist`)
  }
  const c = new Checker(api.name, version)
  return c.struct(api.requestSchema, body, api.requestSchema.name) as Req
}

class Checker {
  constructor(
    readonly api: string,
    readonly version: number,
  ) {}

  fail(path: string, problem: string): never {
    throw new InvalidRequestError(this.api, this.version, path, problem)
  }

  struct(s: StructSchema, v: unknown, path: string): unknown {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) this.fail(path, `must be an object (${s.name}), got ${describe(v)}`)
    const obj = v as { [k: string]: unknown }
    let out: { [k: string]: unknown } | null = null
    for (const f of s.fields) {
      const fp = `${path}.${f.name}`
      const val = obj[f.name]
      if (!within(this.version, f.versions)) {
        if (val === undefined) (out ??= { ...obj })[f.name] = zeroOf(f)
        else if (!f.ignorable && !isDefault(f, val)) {
          this.fail(fp, `does not exist in version ${this.version} (only in versions ${showRange(f.versions)}) and holds ${describe(val)}; leave it at its default`)
        }
        continue
      }
      if (val === undefined) {
        if (within(this.version, f.tagged)) {
          ;(out ??= { ...obj })[f.name] = zeroOf(f)
          continue
        }
        this.fail(fp, `is missing (${f.type}, versions ${showRange(f.versions)}); ${this.api}.newRequest() returns a body with every field at its default`)
      }
      const checked = this.value(f, val, fp)
      if (checked !== val) (out ??= { ...obj })[f.name] = checked
    }
    return out ?? obj
  }

  value(f: FieldSchema, val: unknown, path: string): unknown {
    if (val === null) {
      if (within(this.version, f.nullable) || f.type === 'records') return val
      this.fail(path, `cannot be null in version ${this.version}${f.nullable ? ` (only in versions ${showRange(f.nullable)})` : ''}`)
    }
    if (f.type === 'struct') return this.struct(f.struct!, val, path)
    if (f.type.startsWith('[]')) {
      if (!Array.isArray(val)) this.fail(path, `must be an array (${f.type}), got ${describe(val)}`)
      const elem = f.type.slice(2)
      let out: unknown[] | null = null
      for (let i = 0; i < val.length; i++) {
        const ep = `${path}[${i}]`
        const e = val[i]
        if (elem === 'struct') {
          const c = this.struct(f.struct!, e, ep)
          if (c !== e) (out ??= [...val])[i] = c
        } else {
          if (e === null || e === undefined) this.fail(ep, `must be a ${elem}, got ${describe(e)}`)
          this.primitive(elem, e, ep)
        }
      }
      return out ?? val
    }
    this.primitive(f.type, val, path)
    return val
  }

  primitive(type: string, v: unknown, path: string): void {
    switch (type) {
      case 'bool':
        if (typeof v !== 'boolean') this.fail(path, `must be a boolean, got ${describe(v)}`)
        return
      case 'int64':
        if (typeof v !== 'bigint') this.fail(path, `must be a bigint (int64), got ${describe(v)}${typeof v === 'number' ? ` (write ${v}n)` : ''}`)
        if (v < INT64_MIN || v > INT64_MAX) this.fail(path, `is out of the int64 range: ${v}`)
        return
      case 'float64':
        if (typeof v !== 'number') this.fail(path, `must be a number (float64), got ${describe(v)}`)
        return
      case 'string':
        if (typeof v !== 'string') this.fail(path, `must be a string, got ${describe(v)}`)
        if (v.length > 32767 && Buffer.byteLength(v) > 32767) this.fail(path, `is longer than a Kafka string may be (32,767 bytes)`)
        return
      case 'bytes':
      case 'records':
        if (!(v instanceof Uint8Array)) this.fail(path, `must be a Buffer (${type}), got ${describe(v)}`)
        return
      case 'uuid':
        if (typeof v !== 'string') this.fail(path, `must be a Uuid string, got ${describe(v)}`)
        if (!isUuid(v)) this.fail(path, `is not a Uuid: ${describe(v)}; want 22 base64url characters (as Kafka prints it) or the dashed form 8-4-4-4-12`)
        return
      default: {
        const range = INT_RANGES[type]
        if (range === undefined) this.fail(path, `has a type this check does not know: ${type}`)
        if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `must be an integer (${type}), got ${describe(v)}`)
        if (v < range[0] || v > range[1]) this.fail(path, `is out of the ${type} range ${range[0]}..${range[1]}: ${v}`)
      }
    }
  }
}

/** zeroOf is the value a field takes when it is left out: its spec default, or its type's zero value. */
function zeroOf(f: FieldSchema): unknown {
  if (f.default !== undefined) return f.default
  if (f.type.startsWith('[]')) return []
  switch (f.type) {
    case 'struct':
      return zeroStruct(f.struct!)
    case 'bool':
      return false
    case 'int64':
      return 0n
    case 'string':
      return ''
    case 'bytes':
      return EMPTY_BYTES
    case 'records':
      return null
    case 'uuid':
      return ZERO_UUID
    default:
      return 0
  }
}

function zeroStruct(s: StructSchema): { [k: string]: unknown } {
  const o: { [k: string]: unknown } = {}
  for (const f of s.fields) o[f.name] = zeroOf(f)
  return o
}

/** isDefault is true when a value of a field equals what the field takes when left out (the encoders' test). */
function isDefault(f: FieldSchema, v: unknown): boolean {
  if (f.type.startsWith('[]') || f.type === 'bytes' || f.type === 'records') {
    if (f.default === null || f.type === 'records') return v === null
    return v !== null && (v as { length?: unknown }).length === 0
  }
  if (f.type === 'struct') {
    if (f.default === null) return v === null
    if (typeof v !== 'object' || v === null) return false
    return f.struct!.fields.every((g) => (v as { [k: string]: unknown })[g.name] === undefined || isDefault(g, (v as { [k: string]: unknown })[g.name]))
  }
  return v === zeroOf(f)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (Array.isArray(v)) return 'an array'
  if (Buffer.isBuffer(v)) return 'a Buffer'
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`
    case 'number':
      return `the number ${v}`
    case 'bigint':
      return `the bigint ${v}n`
    case 'boolean':
      return String(v)
    case 'object':
      return 'an object'
    default:
      return `a ${typeof v}`
  }
}
