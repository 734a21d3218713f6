import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  ApiVersions,
  Fetch,
  Metadata,
  Produce,
  ProtocolDecodeError,
  ProtocolEncodeError,
  Reader,
  RequestHeader,
  ResponseHeader,
  Writer,
  ZERO_UUID,
  apiByKey,
  apis,
  type ApiMessage,
  type DataMessage,
  type FieldSchema,
  type MessageSchema,
  type StructSchema,
  type TaggedField,
} from '../../src/protocol/index.js'
import * as messages from '../../src/protocol/messages/index.js'

const RUNS = 20

type Value = Record<string, unknown>

function inRange(r: readonly [number, number] | null | undefined, v: number): boolean {
  return r !== undefined && r !== null && v >= r[0] && v <= r[1]
}

/** defaultOf is a field's default, computed from the schema alone (the generated newX functions must agree). */
function defaultOf(f: FieldSchema, hasTags: boolean): unknown {
  if (f.default !== undefined) return f.default
  if (f.type.startsWith('[]')) return []
  switch (f.type) {
    case 'bool':
      return false
    case 'int64':
      return 0n
    case 'string':
      return ''
    case 'bytes':
      return Buffer.alloc(0)
    case 'records':
      return null
    case 'uuid':
      return ZERO_UUID
    case 'struct':
      return defaultStruct(f.struct!, hasTags)
    default:
      return 0
  }
}

function defaultStruct(s: StructSchema, hasTags: boolean): Value {
  const out: Value = {}
  for (const f of s.fields) out[f.name] = defaultOf(f, hasTags)
  if (hasTags) out.unknownTaggedFields = undefined
  return out
}

const uuidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'))
const bytesArb = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b))
const stringArb = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 4 }))

function primitiveArb(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool':
      return fc.boolean()
    case 'int8':
      return fc.integer({ min: -128, max: 127 })
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 })
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 })
    case 'int32':
      return fc.integer({ min: -2147483648, max: 2147483647 })
    case 'uint32':
      return fc.integer({ min: 0, max: 4294967295 })
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    case 'float64':
      return fc.double()
    case 'string':
      return stringArb
    case 'bytes':
    case 'records':
      return bytesArb
    case 'uuid':
      return uuidArb
  }
  throw new Error(`no arbitrary for ${type}`)
}

/** Builds arbitraries of values valid for one version of one message, from its schema. */
class Arbs {
  readonly #memo = new Map<StructSchema, fc.Arbitrary<Value>>()
  constructor(
    readonly version: number,
    readonly flexible: boolean,
    readonly hasTags: boolean,
  ) {}

  struct(s: StructSchema): fc.Arbitrary<Value> {
    let a = this.#memo.get(s)
    if (a !== undefined) return a
    const record: Record<string, fc.Arbitrary<unknown>> = {}
    for (const f of s.fields) record[f.name] = this.field(f)
    if (this.hasTags) record.unknownTaggedFields = this.flexible ? this.unknownTags(s) : fc.constant(undefined)
    // Plain objects, as decoders make them (fc.record's have a null prototype).
    a = fc.record(record).map((o) => ({ ...o })) as fc.Arbitrary<Value>
    this.#memo.set(s, a)
    return a
  }

  field(f: FieldSchema): fc.Arbitrary<unknown> {
    const v = this.version
    const dflt = defaultOf(f, this.hasTags)
    if (!inRange(f.versions, v)) return fc.constant(dflt)
    let arb: fc.Arbitrary<unknown>
    if (f.type === 'struct') arb = this.struct(f.struct!)
    else if (f.type === '[]struct') arb = fc.array(this.struct(f.struct!), { maxLength: 2 })
    else if (f.type.startsWith('[]')) arb = fc.array(primitiveArb(f.type.slice(2)), { maxLength: 4 })
    else arb = primitiveArb(f.type)
    if (inRange(f.nullable, v)) arb = fc.option(arb, { nil: null, freq: 4 })
    // Tagged fields are written only when not at their default: try both.
    if (this.flexible && inRange(f.tagged, v)) arb = fc.oneof(fc.constant(dflt), arb)
    return arb
  }

  /** unknownTags are tags the struct does not know, sorted, or undefined (an empty list decodes as undefined). */
  unknownTags(s: StructSchema): fc.Arbitrary<TaggedField[] | undefined> {
    const known = new Set(s.fields.filter((f) => f.tag !== undefined).map((f) => f.tag!))
    const tag = fc.integer({ min: 0, max: 300 }).filter((t) => !known.has(t))
    const list = fc
      .uniqueArray(fc.record({ tag, data: bytesArb }).map((t) => ({ ...t })), { minLength: 1, maxLength: 3, selector: (t) => t.tag })
      .map((l) => l.sort((a, b) => a.tag - b.tag))
    return fc.option(list, { nil: undefined, freq: 2 })
  }
}

function messageArb(schema: MessageSchema, version: number): fc.Arbitrary<Value> {
  const flexible = inRange(schema.flexible, version)
  return new Arbs(version, flexible, schema.flexible !== null).struct(schema)
}

interface Codec {
  name: string
  schema: MessageSchema
  encode(w: Writer, version: number, v: unknown): void
  decode(r: Reader, version: number): unknown
  newValue(): unknown
}

function apiCodecs(api: ApiMessage): [Codec, Codec] {
  return [
    {
      name: `${api.name}Request`,
      schema: api.requestSchema,
      encode: (w, v, x) => api.encodeRequest(w, v, x),
      decode: (r, v) => api.decodeRequest(r, v),
      newValue: () => api.newRequest(),
    },
    {
      name: `${api.name}Response`,
      schema: api.responseSchema,
      encode: (w, v, x) => api.encodeResponse(w, v, x),
      decode: (r, v) => api.decodeResponse(r, v),
      newValue: () => api.newResponse(),
    },
  ]
}

function isDataMessage(x: unknown): x is DataMessage {
  return typeof x === 'object' && x !== null && 'schema' in x && 'encode' in x && 'newValue' in x
}

const dataMessages: DataMessage[] = (Object.values(messages) as unknown[]).filter(isDataMessage).sort((a, b) => a.name.localeCompare(b.name))

function dataCodec(d: DataMessage): Codec {
  return { name: d.name, schema: d.schema, encode: (w, v, x) => d.encode(w, v, x), decode: (r, v) => d.decode(r, v), newValue: () => d.newValue() }
}

function encode(c: Codec, version: number, value: unknown): Buffer {
  const w = new Writer(16)
  c.encode(w, version, value)
  return w.finishCopy()
}

function decode(c: Codec, version: number, bytes: Buffer): unknown {
  const r = new Reader(bytes)
  const v = c.decode(r, version)
  r.complete(`${c.name} v${version}`)
  return v
}

function roundTrip(c: Codec, version: number): void {
  fc.assert(
    fc.property(messageArb(c.schema, version), (value) => {
      const bytes = encode(c, version, value)
      const back = decode(c, version, bytes)
      assert.deepStrictEqual(back, value)
      assert.ok(encode(c, version, back).equals(bytes), 'encode(decode(bytes)) differs from bytes')
    }),
    { numRuns: RUNS },
  )
}

const apiKeyCount = apis.length
const apiPairs = apis.reduce((n, a) => n + a.maxVersion - a.minVersion + 1, 0)

test(`round trips: ${apiKeyCount} API keys, ${apiPairs} (key, version) pairs, requests and responses`, async (t) => {
  let pairs = 0
  for (const api of apis) {
    await t.test(`${api.name} (key ${api.key}) v${api.minVersion}-${api.maxVersion}`, () => {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        for (const c of apiCodecs(api)) roundTrip(c, v)
        pairs++
      }
    })
  }
  assert.equal(pairs, apiPairs)
  t.diagnostic(`round-tripped ${apiKeyCount} API keys and ${apiPairs} (key, version) pairs, request and response, ${RUNS} runs each`)
})

test(`round trips: ${dataMessages.length} non-API messages (headers, consumer protocol, control records)`, async (t) => {
  assert.ok(dataMessages.length >= 10, `only ${dataMessages.length} data messages exported`)
  let pairs = 0
  for (const d of dataMessages) {
    await t.test(`${d.name} v${d.minVersion}-${d.maxVersion}`, () => {
      for (let v = d.minVersion; v <= d.maxVersion; v++) {
        roundTrip(dataCodec(d), v)
        pairs++
      }
    })
  }
  t.diagnostic(`round-tripped ${dataMessages.length} non-API messages in ${pairs} versions`)
})

test('every strict prefix of a valid encoding fails to decode with ProtocolDecodeError', () => {
  for (const api of apis) {
    for (const c of apiCodecs(api)) {
      const v = api.maxVersion
      const [value] = fc.sample(messageArb(c.schema, v), { numRuns: 1, seed: api.key })
      const bytes = encode(c, v, value)
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(() => decode(c, v, bytes.subarray(0, n)), ProtocolDecodeError, `${c.name} v${v} prefix of ${n}/${bytes.length} bytes`)
      }
    }
  }
})

test('decoding random bytes throws only ProtocolDecodeError', () => {
  const codecs = apis.flatMap((a) => apiCodecs(a).map((c) => [c, a] as const))
  fc.assert(
    fc.property(fc.nat({ max: codecs.length - 1 }), fc.nat(), fc.uint8Array({ maxLength: 64 }), (k, vs, raw) => {
      const [c, api] = codecs[k]!
      const v = api.minVersion + (vs % (api.maxVersion - api.minVersion + 1))
      try {
        decode(c, v, Buffer.from(raw))
      } catch (err) {
        assert.ok(err instanceof ProtocolDecodeError, `${c.name} v${v}: ${String(err)}`)
      }
    }),
    { numRuns: 2000 },
  )
})

test('a hostile array count fails before anything is allocated', () => {
  // MetadataResponse v12: throttle, then a compact array of brokers claiming 2^31 elements.
  const w = new Writer()
  w.int32(0)
  w.uvarint(0x7fffffff)
  const r = new Reader(w.finishCopy())
  Metadata.decodeResponse(r, 12)
  assert.throws(() => r.complete(), (e: unknown) => e instanceof ProtocolDecodeError && /cannot fit/.test(e.message))
})

test('new values carry every field at its spec default', () => {
  for (const api of apis) {
    for (const c of apiCodecs(api)) assert.deepStrictEqual(c.newValue(), defaultStruct(c.schema, c.schema.flexible !== null), c.name)
  }
  for (const d of dataMessages) assert.deepStrictEqual(d.newValue(), defaultStruct(d.schema, d.schema.flexible !== null), d.name)
  const fetch = Fetch.newRequest()
  assert.equal(fetch.replicaId, -1)
  assert.equal(fetch.maxBytes, 0x7fffffff)
  assert.equal(fetch.sessionEpoch, -1)
  assert.equal(fetch.clusterId, null)
  assert.deepStrictEqual(fetch.replicaState, { replicaId: -1, replicaEpoch: -1n, unknownTaggedFields: undefined })
  assert.equal(Metadata.newRequest().allowAutoTopicCreation, true)
  assert.equal(Produce.newRequest().transactionalId, null)
  assert.equal(Produce.newResponse().throttleTimeMs, 0)
})

test('API table: keys sorted and unique, versions ordered, lookups by key', () => {
  assert.ok(apis.length > 80, `only ${apis.length} APIs`)
  let last = -1
  for (const api of apis) {
    assert.ok(api.key > last, `${api.name} out of order`)
    last = api.key
    assert.ok(api.minVersion <= api.maxVersion, `${api.name}: ${api.minVersion} > ${api.maxVersion}`)
    assert.equal(apiByKey(api.key), api)
    assert.ok(api.flexibleVersion === null || api.flexibleVersion <= api.maxVersion)
  }
  assert.equal(apiByKey(0), Produce)
  assert.equal(apiByKey(18), ApiVersions)
  assert.equal(apiByKey(4), undefined, 'LeaderAndIsr was removed in Kafka 4.0')
  assert.equal(apiByKey(9999), undefined)
})

test('header versions', () => {
  assert.equal(ApiVersions.requestHeaderVersion(3), 2)
  assert.equal(ApiVersions.responseHeaderVersion(3), 0)
  assert.equal(ApiVersions.responseHeaderVersion(0), 0)
  assert.equal(ApiVersions.requestHeaderVersion(0), 1)
  assert.equal(Produce.flexibleVersion, 9)
  assert.equal(Produce.requestHeaderVersion(8), 1)
  assert.equal(Produce.responseHeaderVersion(8), 0)
  for (let v = 9; v <= Produce.maxVersion; v++) {
    assert.equal(Produce.requestHeaderVersion(v), 2)
    assert.equal(Produce.responseHeaderVersion(v), 1)
  }
  assert.equal(Metadata.requestHeaderVersion(9), 2)
  assert.equal(Metadata.responseHeaderVersion(8), 0)
})

test('byte fixtures: RequestHeader v2 keeps a non-compact client id; ApiVersions v3 request', () => {
  const w = new Writer()
  RequestHeader.encode(w, 2, { requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: 'kw', unknownTaggedFields: undefined })
  ApiVersions.encodeRequest(w, 3, { ...ApiVersions.newRequest(), clientSoftwareName: 'kafka-wire', clientSoftwareVersion: '0.1.0' })
  const want = Buffer.concat([
    Buffer.from([0, 18, 0, 3, 0, 0, 0, 7, 0, 2]),
    Buffer.from('kw'),
    Buffer.from([0, 11]),
    Buffer.from('kafka-wire'),
    Buffer.from([6]),
    Buffer.from('0.1.0'),
    Buffer.from([0]),
  ])
  assert.deepStrictEqual(w.finishCopy(), want)
  const r = new Reader(want)
  assert.deepStrictEqual(RequestHeader.decode(r, 2), { requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: 'kw', unknownTaggedFields: undefined })
  assert.equal(ApiVersions.decodeRequest(r, 3).clientSoftwareName, 'kafka-wire')
  r.complete()

  const h = new Writer()
  ResponseHeader.encode(h, 0, { correlationId: 7, unknownTaggedFields: undefined })
  assert.deepStrictEqual(h.finishCopy(), Buffer.from([0, 0, 0, 7]))
})

test('tagged fields: a known tag at its default is not written; unknown tags are kept in order around known ones', () => {
  const res = Produce.newResponse()
  const plain = new Writer()
  Produce.encodeResponse(plain, 10, res)
  // responses (compact, empty) + throttle + empty tagged section
  assert.deepStrictEqual(plain.finishCopy(), Buffer.from([1, 0, 0, 0, 0, 0]))

  res.nodeEndpoints = [{ nodeId: 1, host: 'h', port: 9092, rack: null, unknownTaggedFields: undefined }]
  res.unknownTaggedFields = [
    { tag: 5, data: Buffer.from([0xaa]) },
  ]
  const w = new Writer()
  Produce.encodeResponse(w, 10, res)
  const bytes = w.finishCopy()
  // ... tagged section: 2 fields, tag 0 (node endpoints) first, then the unknown tag 5.
  const tail = bytes.subarray(5)
  assert.equal(tail[0], 2)
  assert.equal(tail[1], 0)
  assert.deepStrictEqual(tail.subarray(tail.length - 3), Buffer.from([5, 1, 0xaa]))
  const back = Produce.decodeResponse(new Reader(bytes), 10)
  assert.deepStrictEqual(back, res)

  res.unknownTaggedFields = [{ tag: 0, data: Buffer.from([1]) }]
  assert.throws(() => Produce.encodeResponse(new Writer(), 10, res), ProtocolEncodeError)
  res.unknownTaggedFields = [
    { tag: 7, data: Buffer.alloc(0) },
    { tag: 6, data: Buffer.alloc(0) },
  ]
  assert.throws(() => Produce.encodeResponse(new Writer(), 10, res), ProtocolEncodeError)
})

test('a tagged value of 128 bytes or more gets a multi-byte size prefix', () => {
  const req = Fetch.newRequest()
  req.clusterId = 'c'.repeat(300)
  const w = new Writer(8)
  Fetch.encodeRequest(w, 12, req)
  const back = Fetch.decodeRequest(new Reader(w.finishCopy()), 12)
  assert.equal(back.clusterId, req.clusterId)
})

test('encode errors: absent non-ignorable fields, nulls, unknown tags in old versions, versions out of range', () => {
  let absentCases = 0
  let nullCases = 0
  for (const api of apis) {
    for (const c of apiCodecs(api)) {
      const hasTags = c.schema.flexible !== null
      for (const f of c.schema.fields) {
        for (let v = api.minVersion; v <= api.maxVersion; v++) {
          const value = c.newValue() as Value
          if (!inRange(f.versions, v) && f.type !== 'struct') {
            const nonDefault = nonDefaultValue(f, hasTags)
            value[f.name] = nonDefault
            if (f.ignorable) {
              assert.doesNotThrow(() => encode(c, v, value), `${c.name}.${f.name} v${v} is ignorable`)
            } else {
              assert.throws(
                () => encode(c, v, value),
                (e: unknown) => e instanceof ProtocolEncodeError && e.message.includes(`.${f.name} `) && e.message.includes(`version ${v}`),
                `${c.name}.${f.name} v${v}`,
              )
              absentCases++
            }
          } else if (inRange(f.versions, v) && !inRange(f.nullable, v) && !['struct', 'records'].includes(f.type) && !isPrimitiveScalar(f.type)) {
            value[f.name] = null
            assert.throws(
              () => encode(c, v, value),
              (e: unknown) => e instanceof ProtocolEncodeError && e.message.includes(`.${f.name} cannot be null in version ${v}`),
              `${c.name}.${f.name} v${v} null`,
            )
            nullCases++
          }
        }
      }
    }
  }
  assert.ok(absentCases > 50, `only ${absentCases} absent-field cases`)
  assert.ok(nullCases > 100, `only ${nullCases} null cases`)

  // Unknown tagged fields cannot go into a version without tagged fields.
  const req = Produce.newRequest()
  req.unknownTaggedFields = [{ tag: 9, data: Buffer.from([1]) }]
  assert.throws(() => Produce.encodeRequest(new Writer(), 8, req), ProtocolEncodeError)
  assert.doesNotThrow(() => Produce.encodeRequest(new Writer(), 9, req))

  assert.throws(() => Produce.encodeRequest(new Writer(), Produce.maxVersion + 1, Produce.newRequest()), ProtocolEncodeError)
  assert.throws(() => Produce.encodeRequest(new Writer(), -1, Produce.newRequest()), ProtocolEncodeError)
  assert.throws(() => Produce.decodeResponse(new Reader(Buffer.alloc(0)), 2), ProtocolDecodeError)
})

function isPrimitiveScalar(type: string): boolean {
  return ['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'uuid'].includes(type)
}

/** nonDefaultValue is some value of the field's type that is not its default. */
function nonDefaultValue(f: FieldSchema, hasTags: boolean): unknown {
  if (f.type === '[]struct') return [defaultStruct(f.struct!, hasTags)]
  if (f.type.startsWith('[]')) return f.default === null ? [] : [nonDefaultScalar(f.type.slice(2), undefined)]
  if (f.default === null) return nonDefaultScalar(f.type, undefined)
  return nonDefaultScalar(f.type, f.default)
}

function nonDefaultScalar(type: string, dflt: unknown): unknown {
  switch (type) {
    case 'bool':
      return dflt !== true
    case 'int64':
      return dflt === 5n ? 6n : 5n
    case 'string':
      return dflt === 'x' ? 'y' : 'x'
    case 'bytes':
    case 'records':
      return Buffer.from([1])
    case 'uuid':
      return Buffer.alloc(16, 1).toString('base64url')
    default:
      return dflt === 5 ? 6 : 5
  }
}
