// Frames captured from a real Kafka broker (test/fixtures/wire, made by scripts/capture-fixtures.ts):
// each request and response decodes with the generated code at its recorded version, says what the
// exchange was about, and encodes back to exactly the captured bytes. Then the captured responses are
// used as hostile input: every truncation and single-byte corruptions at every position must end in a
// ProtocolDecodeError or a value, never another exception.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { ProtocolDecodeError } from '../../src/protocol/errors.js'
import type { ApiMessage } from '../../src/protocol/messages/api.js'
import type { ApiVersionsResponse } from '../../src/protocol/messages/api-versions.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../src/protocol/messages/create-topics.js'
import type { FetchRequest, FetchResponse } from '../../src/protocol/messages/fetch.js'
import { RequestHeader, ResponseHeader } from '../../src/protocol/messages/headers.js'
import { apiByKey } from '../../src/protocol/messages/index.js'
import type { MetadataRequest, MetadataResponse } from '../../src/protocol/messages/metadata.js'
import type { ProduceRequest, ProduceResponse } from '../../src/protocol/messages/produce.js'
import { Reader } from '../../src/protocol/reader.js'
import { decodeRecordBatches, type BatchRecord } from '../../src/protocol/records.js'
import { Writer } from '../../src/protocol/writer.js'

const dir = join(import.meta.dirname, '../fixtures/wire')

interface Fixture {
  name: string
  api: string
  key: number
  version: number
  correlationId: number
  request: string
  response: string
}

interface Index {
  kafkaVersion: string
  topic: string
  topicId: string
  records: Array<{ key: string | null; value: string | null; timestamp: number; headers: Array<{ key: string; value: string | null }> }>
  fixtures: Fixture[]
}

const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Index
const PRODUCE = 0
const FETCH = 1
const METADATA = 3
const CREATE_TOPICS = 19
const UNSUPPORTED_VERSION = 35

/** bodyVersion is the version a response body is written in: an UNSUPPORTED_VERSION ApiVersions answer is always v0 (KIP-511). */
function bodyVersion(f: Fixture): number {
  return f.key === ApiVersions.key && f.version > ApiVersions.maxVersion ? 0 : f.version
}

interface Decoded<T> {
  header: { correlationId: number; requestApiKey?: number; requestApiVersion?: number; clientId?: string | null }
  body: T
}

function decodeRequestFrame(f: Fixture, bytes: Buffer): Decoded<unknown> {
  const api = apiByKey(f.key)!
  assert.equal(bytes.readInt32BE(0), bytes.length - 4, 'size prefix')
  const r = new Reader(bytes, 4)
  const header = RequestHeader.decode(r, api.requestHeaderVersion(f.version))
  const body = api.decodeRequest(r, f.version)
  r.complete(`${f.name} request`)
  return { header, body }
}

function decodeResponseFrame(f: Fixture, bytes: Buffer): Decoded<unknown> {
  const api = apiByKey(f.key)!
  assert.equal(bytes.readInt32BE(0), bytes.length - 4, 'size prefix')
  const r = new Reader(bytes, 4)
  const header = ResponseHeader.decode(r, api.responseHeaderVersion(bodyVersion(f)))
  const body = api.decodeResponse(r, bodyVersion(f))
  r.complete(`${f.name} response`)
  return { header, body }
}

function encodeFrame(encode: (w: Writer) => void): Buffer {
  const w = new Writer(64)
  const at = w.reserve(4)
  encode(w)
  w.patchInt32(at, w.pos - 4)
  return w.finishCopy()
}

const load = (file: string) => readFileSync(join(dir, file))
const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'))
const recordsOf = (rs: BatchRecord[]) => rs.map((r) => ({ key: text(r.key), value: text(r.value), timestamp: r.timestamp, headers: r.headers.map((h) => ({ key: h.key, value: text(h.value) })) }))

test('the fixtures cover ApiVersions (v0, v4, the newest, an unknown version), Metadata, CreateTopics, Produce and Fetch from Kafka 4.x', () => {
  assert.match(index.kafkaVersion, /^4\./)
  const names = index.fixtures.map((f) => f.name)
  for (const name of ['api-versions-v0', 'api-versions-v4', `api-versions-v${ApiVersions.maxVersion}`, `api-versions-v${ApiVersions.maxVersion + 1}-unsupported`]) assert.ok(names.includes(name), name)
  for (const key of [METADATA, CREATE_TOPICS, PRODUCE, FETCH]) assert.ok(index.fixtures.filter((f) => f.key === key).length >= 1, `key ${key}`)
  // A flexible and a non-flexible version of each of Metadata, Produce and Fetch.
  for (const key of [METADATA, PRODUCE, FETCH]) {
    const api = apiByKey(key)!
    const versions = index.fixtures.filter((f) => f.key === key).map((f) => f.version >= api.flexibleVersion!)
    assert.deepEqual(new Set(versions), new Set([true, false]), api.name)
  }
})

for (const f of index.fixtures) {
  const api: ApiMessage<any, any> = apiByKey(f.key)!
  const unsupported = f.version > api.maxVersion

  test(`${f.name}: the captured request decodes and re-encodes to the same bytes`, () => {
    const bytes = load(f.request)
    assert.equal(bytes.readInt16BE(4), f.key)
    assert.equal(bytes.readInt16BE(6), f.version)
    assert.equal(bytes.readInt32BE(8), f.correlationId)
    if (unsupported) {
      // kafka-wire has no v6 to decode: only the header (v2, flexible) is read back.
      const r = new Reader(bytes, 4)
      const header = RequestHeader.decode(r, 2)
      assert.equal(header.clientId, 'kafka-wire-fixtures')
      assert.equal(encodeFrame((w) => RequestHeader.encode(w, 2, header)).subarray(4).equals(bytes.subarray(4, r.pos)), true)
      return
    }
    const { header, body } = decodeRequestFrame(f, bytes)
    assert.equal(header.requestApiKey, f.key)
    assert.equal(header.requestApiVersion, f.version)
    assert.equal(header.correlationId, f.correlationId)
    assert.equal(header.clientId, 'kafka-wire-fixtures')
    const again = encodeFrame((w) => {
      RequestHeader.encode(w, api.requestHeaderVersion(f.version), header as never)
      api.encodeRequest(w, f.version, body)
    })
    assert.ok(again.equals(bytes), `${f.name} request re-encodes to ${again.toString('hex')}\n  captured ${bytes.toString('hex')}`)
    checkRequest(f, body)
  })

  test(`${f.name}: the captured response decodes at v${bodyVersion(f)} and re-encodes to the same bytes`, () => {
    const bytes = load(f.response)
    const { header, body } = decodeResponseFrame(f, bytes)
    assert.equal(header.correlationId, f.correlationId)
    const again = encodeFrame((w) => {
      ResponseHeader.encode(w, api.responseHeaderVersion(bodyVersion(f)), header as never)
      api.encodeResponse(w, bodyVersion(f), body)
    })
    assert.ok(again.equals(bytes), `${f.name} response re-encodes to ${again.toString('hex')}\n  captured ${bytes.toString('hex')}`)
    checkResponse(f, body)
  })

  test(`${f.name}: every truncation and every single-byte corruption (three per byte) of the response end in ProtocolDecodeError or a value`, () => {
    const bytes = load(f.response)
    const v = bodyVersion(f)
    const decode = (buf: Buffer) => {
      const r = new Reader(buf, 4)
      ResponseHeader.decode(r, api.responseHeaderVersion(v))
      const body = api.decodeResponse(r, v)
      r.complete('corrupted response')
      return body
    }
    let truncations = 0
    for (let end = 4; end < bytes.length; end++) {
      assert.throws(() => decode(bytes.subarray(0, end)), ProtocolDecodeError, `${f.name} cut at ${end} of ${bytes.length}`)
      truncations++
    }
    assert.equal(truncations, bytes.length - 4)
    let rejected = 0
    for (let at = 4; at < bytes.length; at++) {
      for (const flip of [0xff, 0x80, 0x01]) {
        const copy = Buffer.from(bytes)
        copy[at] = copy[at]! ^ flip
        try {
          decode(copy)
        } catch (err) {
          assert.ok(err instanceof ProtocolDecodeError, `${f.name} with byte ${at} ^ ${flip} threw ${String(err)}`)
          rejected++
        }
      }
    }
    // Many single-byte changes land in plain integers and still decode; those that hit a length or
    // count must be caught, and some always do.
    assert.ok(rejected > 0, `${f.name}: no corruption was detected`)
  })
}

function checkRequest(f: Fixture, body: unknown): void {
  switch (f.key) {
    case CREATE_TOPICS: {
      const b = body as CreateTopicsRequest
      assert.deepEqual(b.topics.map((t) => [t.name, t.numPartitions]), [[index.topic, 1]])
      break
    }
    case METADATA:
      assert.deepEqual((body as MetadataRequest).topics!.map((t) => t.name), [index.topic])
      break
    case PRODUCE: {
      const b = body as ProduceRequest
      assert.equal(b.acks, -1)
      const td = b.topicData[0]!
      if (f.version >= 13) assert.equal(td.topicId, index.topicId)
      else assert.equal(td.name, index.topic)
      const batches = decodeRecordBatches(td.partitionData[0]!.records!)
      assert.deepEqual(recordsOf(batches.flatMap((x) => x.records)), index.records)
      break
    }
    case FETCH: {
      const b = body as FetchRequest
      const t = b.topics[0]!
      if (f.version >= 13) assert.equal(t.topicId, index.topicId)
      else assert.equal(t.topic, index.topic)
      assert.equal(t.partitions[0]!.fetchOffset, 0n)
      break
    }
  }
}

function checkResponse(f: Fixture, body: unknown): void {
  switch (f.key) {
    case ApiVersions.key: {
      const b = body as ApiVersionsResponse
      const range = (key: number) => b.apiKeys.find((k) => k.apiKey === key)
      if (f.version > ApiVersions.maxVersion) {
        // KIP-511: the refusal lists the broker's own ApiVersions range so the client can retry.
        assert.equal(b.errorCode, UNSUPPORTED_VERSION)
        assert.deepEqual(b.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [[ApiVersions.key, 0, ApiVersions.maxVersion]])
        break
      }
      assert.equal(b.errorCode, 0)
      assert.ok(range(PRODUCE)!.maxVersion >= 9, 'Produce up to at least v9')
      assert.ok(range(FETCH)!.maxVersion >= 12)
      assert.equal(range(ApiVersions.key)!.maxVersion, ApiVersions.maxVersion)
      for (const key of [METADATA, CREATE_TOPICS]) assert.ok(range(key), `lists key ${key}`)
      assert.ok(b.apiKeys.length >= 40)
      if (f.version >= 3) {
        // KIP-584 features ride in tagged fields; a KRaft broker finalizes metadata.version.
        assert.ok(b.supportedFeatures.some((x) => x.name === 'metadata.version'))
        assert.ok(b.finalizedFeatures.some((x) => x.name === 'metadata.version' && x.maxVersionLevel > 0))
        assert.ok(b.finalizedFeaturesEpoch >= 0n)
      }
      break
    }
    case CREATE_TOPICS: {
      const t = (body as CreateTopicsResponse).topics[0]!
      assert.deepEqual([t.name, t.errorCode, t.topicId, t.numPartitions, t.replicationFactor], [index.topic, 0, index.topicId, 1, 1])
      assert.equal(t.configs!.find((c) => c.name === 'message.timestamp.type')!.value, 'CreateTime')
      break
    }
    case METADATA: {
      const b = body as MetadataResponse
      assert.ok(b.brokers.length >= 1)
      const t = b.topics[0]!
      assert.deepEqual([t.name, t.errorCode, t.isInternal, t.partitions.length], [index.topic, 0, false, 1])
      if (f.version >= 10) assert.equal(t.topicId, index.topicId)
      assert.ok(b.brokers.some((x) => x.nodeId === t.partitions[0]!.leaderId), 'the leader is a listed broker')
      break
    }
    case PRODUCE: {
      const p = (body as ProduceResponse).responses[0]!.partitionResponses[0]!
      assert.equal(p.errorCode, 0)
      // The v13 produce went first (offsets 0-2), the v8 one second (3-5).
      assert.equal(p.baseOffset, f.version >= 13 ? 0n : 3n)
      break
    }
    case FETCH: {
      const b = body as FetchResponse
      assert.equal(b.errorCode, 0)
      const t = b.responses[0]!
      if (f.version >= 13) assert.equal(t.topicId, index.topicId)
      else assert.equal(t.topic, index.topic)
      const p = t.partitions[0]!
      assert.equal(p.errorCode, 0)
      assert.equal(p.highWatermark, 6n)
      const batches = decodeRecordBatches(p.records!)
      assert.equal(batches.truncated, false)
      assert.deepEqual(batches.map((x) => x.baseOffset), [0n, 3n])
      assert.deepEqual(batches.flatMap((x) => x.records.map((r) => r.offset)), [0n, 1n, 2n, 3n, 4n, 5n])
      assert.deepEqual(recordsOf(batches.flatMap((x) => x.records)), [...index.records, ...index.records])
      break
    }
  }
}
