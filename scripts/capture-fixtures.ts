// tsx scripts/capture-fixtures.ts [--out test/fixtures/wire]
//
// Captures real request and response frames from a Kafka broker into test/fixtures/wire/, for
// test/protocol/wire-fixtures.test.ts. A TCP proxy sits between a BrokerConnection and the broker and
// records every size-prefixed frame in both directions, byte for byte; the script then pairs requests
// with responses by correlation id and writes each as <name>.request.bin / <name>.response.bin (whole
// frames, size prefix included), with index.json describing them. Run once; the files are committed.
//
// The broker is the one named by KAFKA_BOOTSTRAP, or one started here with startKafka().
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BrokerConnection } from '../src/client/connection.js'
import { ApiVersions } from '../src/protocol/messages/api-versions.js'
import { CreateTopics } from '../src/protocol/messages/create-topics.js'
import { Fetch } from '../src/protocol/messages/fetch.js'
import { apiByKey } from '../src/protocol/messages/index.js'
import { Metadata } from '../src/protocol/messages/metadata.js'
import { Produce } from '../src/protocol/messages/produce.js'
import { ZERO_UUID } from '../src/protocol/reader.js'
import { encodeRecordBatchBuffer, type RecordInput } from '../src/protocol/records.js'
import { Writer } from '../src/protocol/writer.js'
import { parseHostPort, startKafka } from '../src/testing/index.js'

const { values } = parseArgs({ options: { out: { type: 'string', default: 'test/fixtures/wire' } } })
const out = values.out!

/** RECORDS are produced in one uncompressed batch; index.json repeats them for the test to compare. */
const RECORDS = [
  { key: 'key-0', value: 'value-0', timestamp: 1_700_000_000_000, headers: [{ key: 'h1', value: 'one' }, { key: 'h1', value: null }] },
  { key: null, value: 'value-1 without a key', timestamp: 1_700_000_000_001, headers: [] },
  { key: 'key-2', value: null, timestamp: 1_700_000_000_002, headers: [{ key: 'tombstone', value: 'yes' }] },
] satisfies Array<RecordInput & { headers: Array<{ key: string; value: string | null }> }>

interface Frame {
  correlationId: number
  bytes: Buffer
}

/** FrameRecorder splits one direction of a byte stream into size-prefixed frames. */
class FrameRecorder {
  frames: Frame[] = []
  #buf = Buffer.alloc(0)
  constructor(readonly correlationAt: number) {}
  push(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk])
    while (this.#buf.length >= 4 && this.#buf.length >= 4 + this.#buf.readInt32BE(0)) {
      const bytes = Buffer.from(this.#buf.subarray(0, 4 + this.#buf.readInt32BE(0)))
      this.#buf = this.#buf.subarray(bytes.length)
      this.frames.push({ correlationId: bytes.readInt32BE(this.correlationAt), bytes })
    }
  }
}

/** startProxy forwards every connection to the broker, recording requests and responses per connection. */
async function startProxy(target: { host: string; port: number }) {
  const conns: Array<{ requests: FrameRecorder; responses: FrameRecorder }> = []
  const server = net.createServer((client) => {
    const rec = { requests: new FrameRecorder(8), responses: new FrameRecorder(4) }
    conns.push(rec)
    const upstream = net.connect(target)
    client.on('data', (c: Buffer) => {
      rec.requests.push(c)
      upstream.write(c)
    })
    upstream.on('data', (c: Buffer) => {
      rec.responses.push(c)
      client.write(c)
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  return { server, conns, port: (server.address() as net.AddressInfo).port }
}

const kafka = await startKafka()
const broker = parseHostPort(kafka.bootstrapServers[0]!)
const proxy = await startProxy(broker)
const wanted: Array<{ name: string; connection: number; correlationId: number; version: number; key: number; note: string }> = []
const note = (name: string, connection: number, correlationId: number, key: number, version: number, text: string) => wanted.push({ name, connection, correlationId, key, version, note: text })

// Connection 0: BrokerConnection negotiates ApiVersions (correlation id 0), then everything else.
const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: proxy.port, clientId: 'kafka-wire-fixtures', requestTimeout: 30_000 })
let next = 0
const cid = () => next++
const avNewest = conn.apiVersionsVersion
note(`api-versions-v${avNewest}`, 0, cid(), ApiVersions.key, avNewest, 'negotiated by BrokerConnection.connect')
for (const v of [4, 0]) {
  const req = ApiVersions.newRequest()
  req.clientSoftwareName = 'kafka-wire'
  req.clientSoftwareVersion = '0.1.0'
  await conn.request(ApiVersions, req, { version: v })
  note(`api-versions-v${v}`, 0, cid(), ApiVersions.key, v, `ApiVersions v${v}`)
}

const topic = `wire-fixtures-${randomUUID()}`
const ct = CreateTopics.newRequest()
ct.timeoutMs = 30_000
ct.topics = [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'message.timestamp.type', value: 'CreateTime', unknownTaggedFields: undefined }], unknownTaggedFields: undefined }]
const ctVersion = conn.versionFor(CreateTopics)
const created = await conn.request(CreateTopics, ct)
note(`create-topics-v${ctVersion}`, 0, cid(), CreateTopics.key, ctVersion, 'creates the fixture topic')
const topicId = created.topics[0]!.topicId
if (created.topics[0]!.errorCode !== 0) throw new Error(`CreateTopics failed: ${created.topics[0]!.errorCode}`)

// Wait for the topic to have a leader; these Metadata exchanges are not kept.
for (;;) {
  const md = Metadata.newRequest()
  md.topics = [{ topicId: ZERO_UUID, name: topic, unknownTaggedFields: undefined }]
  const res = await conn.request(Metadata, md)
  cid()
  if (res.topics[0]?.errorCode === 0 && res.topics[0].partitions[0]?.leaderId !== undefined && res.topics[0].partitions[0].leaderId >= 0) break
  await new Promise((r) => setTimeout(r, 100))
}
for (const v of [conn.versionFor(Metadata), 8]) {
  const md = Metadata.newRequest()
  md.topics = [{ topicId: ZERO_UUID, name: topic, unknownTaggedFields: undefined }]
  md.allowAutoTopicCreation = false
  md.includeTopicAuthorizedOperations = v >= 8
  await conn.request(Metadata, md, { version: v })
  note(`metadata-v${v}`, 0, cid(), Metadata.key, v, 'Metadata of the fixture topic')
}

// Produce: the records in one batch at the newest version, then again at v8 (the last before the
// flexible versions) so that the Fetch below returns two batches.
const batch = encodeRecordBatchBuffer({ producerId: -1n, producerEpoch: -1, baseSequence: -1, compression: 0, records: RECORDS })
for (const v of [conn.versionFor(Produce), 8]) {
  const req = Produce.newRequest()
  req.acks = -1
  req.timeoutMs = 30_000
  req.topicData = [{ name: topic, topicId, partitionData: [{ index: 0, records: batch, unknownTaggedFields: undefined }], unknownTaggedFields: undefined }]
  const res = await conn.request(Produce, req, { version: v })
  if (res.responses[0]!.partitionResponses[0]!.errorCode !== 0) throw new Error(`Produce v${v} failed: ${res.responses[0]!.partitionResponses[0]!.errorCode}`)
  note(`produce-v${v}`, 0, cid(), Produce.key, v, 'produces RECORDS in one uncompressed batch')
}

for (const v of [conn.versionFor(Fetch), 11]) {
  const req = Fetch.newRequest()
  req.maxWaitMs = 0
  req.minBytes = 0
  req.maxBytes = 1 << 20
  req.topics = [
    {
      topic,
      topicId,
      partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO_UUID, highWatermark: 9223372036854775807n, unknownTaggedFields: undefined }],
      unknownTaggedFields: undefined,
    },
  ]
  await conn.request(Fetch, req, { version: v })
  note(`fetch-v${v}`, 0, cid(), Fetch.key, v, 'fetches both batches from offset 0')
}
conn.close()

// Connection 1: a raw ApiVersions request at a version the broker does not know (one past ours), which
// it answers with UNSUPPORTED_VERSION in a v0 body listing its own ApiVersions range (KIP-511).
const unknownVersion = ApiVersions.maxVersion + 1
{
  const w = new Writer(128)
  const at = w.reserve(4)
  w.int16(ApiVersions.key)
  w.int16(unknownVersion)
  w.int32(0)
  w.string('kafka-wire-fixtures')
  w.uvarint(0) // header tagged fields: ApiVersions v3+ requests use header v2
  const body = ApiVersions.newRequest()
  body.clientSoftwareName = 'kafka-wire'
  body.clientSoftwareVersion = '0.1.0'
  ApiVersions.encodeRequest(w, ApiVersions.maxVersion, body) // the body of our newest; the broker does not read it
  w.patchInt32(at, w.pos - 4)
  const raw = net.connect({ host: '127.0.0.1', port: proxy.port })
  await new Promise((r) => raw.once('connect', r))
  raw.write(w.finishCopy())
  await new Promise<void>((resolve) => {
    const check = () => (proxy.conns[1]?.responses.frames.length ? resolve() : setTimeout(check, 20))
    check()
  })
  raw.destroy()
  note(`api-versions-v${unknownVersion}-unsupported`, 1, 0, ApiVersions.key, unknownVersion, 'a version the broker does not know: UNSUPPORTED_VERSION in a v0 body')
}

mkdirSync(out, { recursive: true })
const index = {
  kafkaVersion: kafka.version,
  capturedAt: new Date().toISOString().slice(0, 10),
  topic,
  topicId,
  records: RECORDS,
  fixtures: [] as Array<{ name: string; api: string; key: number; version: number; correlationId: number; request: string; response: string; note: string }>,
}
for (const w of wanted) {
  const rec = proxy.conns[w.connection]!
  const req = rec.requests.frames.find((f) => f.correlationId === w.correlationId)
  const res = rec.responses.frames.find((f) => f.correlationId === w.correlationId)
  if (!req || !res) throw new Error(`no frames for ${w.name} (connection ${w.connection}, correlation id ${w.correlationId})`)
  if (req.bytes.readInt16BE(4) !== w.key || req.bytes.readInt16BE(6) !== w.version) throw new Error(`${w.name}: the recorded request is key ${req.bytes.readInt16BE(4)} v${req.bytes.readInt16BE(6)}`)
  writeFileSync(join(out, `${w.name}.request.bin`), req.bytes)
  writeFileSync(join(out, `${w.name}.response.bin`), res.bytes)
  index.fixtures.push({ name: w.name, api: apiByKey(w.key)!.name, key: w.key, version: w.version, correlationId: w.correlationId, request: `${w.name}.request.bin`, response: `${w.name}.response.bin`, note: w.note })
  console.log(`${w.name}: request ${req.bytes.length} bytes, response ${res.bytes.length} bytes`)
}
writeFileSync(join(out, 'index.json'), JSON.stringify(index, null, 2) + '\n')
proxy.server.close()
await kafka.stop()
console.log(`wrote ${index.fixtures.length} request/response pairs to ${out}`)
