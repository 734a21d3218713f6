// BrokerConnection against a real Apache Kafka broker (the one startKafka() returns; under `npm test`,
// the run's shared broker): ApiVersions negotiation, Metadata, CreateTopics, Produce of a record batch
// and Fetch of it back, over PLAINTEXT and over TLS with the harness CA, plus pipelining and the
// maxResponseBytes guard against real responses.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { BrokerConnection, type BrokerConnectionOptions } from '../../src/client/connection.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { Fetch, type FetchResponse } from '../../src/protocol/messages/fetch.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { ZERO_UUID } from '../../src/protocol/reader.js'
import { decodeRecordBatches, encodeRecordBatchBuffer, type RecordInput } from '../../src/protocol/records.js'
import { parseHostPort, startKafka, type KafkaCluster } from '../../src/testing/index.js'
import { ResponseTooLargeError } from '../../src/client/errors.js'

let kafka: KafkaCluster
const open = new Set<BrokerConnection>()

before(async () => {
  try {
    kafka = await startKafka({ tls: true })
  } catch (err) {
    throw new Error(`these tests need a Kafka broker and none could be had (run them with \`npm test -- test/client/broker-integration.test.ts\`, or set KAFKA_BOOTSTRAP and KAFKA_TLS_BOOTSTRAP): ${err instanceof Error ? err.message : String(err)}`)
  }
}, { timeout: 300_000 })

after(async () => {
  for (const c of open) c.close()
  await kafka?.stop()
})

async function connect(listener: 'plain' | 'tls', opts: Partial<BrokerConnectionOptions> = {}): Promise<BrokerConnection> {
  const address = listener === 'tls' ? kafka.tlsBootstrapServers?.[0] : kafka.bootstrapServers[0]
  assert.ok(address, `the cluster has no ${listener} listener`)
  const { host, port } = parseHostPort(address)
  const tls = listener === 'tls' ? { ca: kafka.ca } : undefined
  assert.ok(listener === 'plain' || kafka.ca, 'the cluster gives no CA for its TLS listener')
  const conn = await BrokerConnection.connect({ host, port, tls, connectTimeout: 15_000, requestTimeout: 30_000, clientId: 'broker-integration', ...opts })
  open.add(conn)
  return conn
}

async function createTopic(conn: BrokerConnection, partitions = 1): Promise<{ name: string; topicId: string }> {
  const name = `broker-it-${randomUUID()}`
  const req = CreateTopics.newRequest()
  req.timeoutMs = 30_000
  req.topics = [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [], unknownTaggedFields: undefined }]
  const res = await conn.request(CreateTopics, req)
  assert.equal(res.topics.length, 1)
  const t = res.topics[0]!
  assert.equal(t.errorCode, 0, `CreateTopics ${name}: error ${t.errorCode} ${t.errorMessage}`)
  assert.equal(t.name, name)
  assert.equal(t.numPartitions, partitions)
  assert.notEqual(t.topicId, ZERO_UUID)
  // CreateTopics returns once the controller has the topic; the broker learns of it a moment later.
  const deadline = Date.now() + 30_000
  for (;;) {
    const md = Metadata.newRequest()
    md.topics = [{ topicId: ZERO_UUID, name, unknownTaggedFields: undefined }]
    md.allowAutoTopicCreation = false
    const m = await conn.request(Metadata, md)
    const mt = m.topics.find((x) => x.name === name)
    if (mt && mt.errorCode === 0 && mt.partitions.length === partitions && mt.partitions.every((p) => p.leaderId >= 0)) {
      assert.equal(mt.topicId, t.topicId)
      return { name, topicId: t.topicId }
    }
    if (Date.now() > deadline) throw new Error(`topic ${name} has no leader after 30 s: ${JSON.stringify(mt, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function produce(conn: BrokerConnection, topic: { name: string; topicId: string }, batches: Buffer[]): Promise<bigint[]> {
  const offsets: bigint[] = []
  for (const records of batches) {
    const req = Produce.newRequest()
    req.acks = -1
    req.timeoutMs = 30_000
    req.topicData = [{ name: topic.name, topicId: topic.topicId, partitionData: [{ index: 0, records, unknownTaggedFields: undefined }], unknownTaggedFields: undefined }]
    // A new partition's leader is in the metadata a moment before the broker acts as leader: the
    // first produce may answer NOT_LEADER_OR_FOLLOWER (6) or LEADER_NOT_AVAILABLE (5); try again.
    const deadline = Date.now() + 30_000
    let p = (await conn.request(Produce, req)).responses[0]!.partitionResponses[0]!
    while ((p.errorCode === 6 || p.errorCode === 5) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      p = (await conn.request(Produce, req)).responses[0]!.partitionResponses[0]!
    }
    assert.equal(p.errorCode, 0, `Produce: error ${p.errorCode} ${p.errorMessage}`)
    offsets.push(p.baseOffset)
  }
  return offsets
}

async function fetchFrom(conn: BrokerConnection, topic: { name: string; topicId: string }, offset: bigint, partitionMaxBytes = 1 << 20): Promise<FetchResponse> {
  const req = Fetch.newRequest()
  req.maxWaitMs = 500
  req.minBytes = 1
  req.maxBytes = 50 << 20
  req.topics = [
    {
      topic: topic.name,
      topicId: topic.topicId,
      partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes, replicaDirectoryId: ZERO_UUID, highWatermark: 9223372036854775807n, unknownTaggedFields: undefined }],
      unknownTaggedFields: undefined,
    },
  ]
  return conn.request(Fetch, req)
}

const T0 = 1_700_000_000_000
const records: RecordInput[] = [
  { key: 'k0', value: 'first value', timestamp: T0, headers: [{ key: 'h', value: 'v' }, { key: 'h', value: null }] },
  { key: null, value: Buffer.from([0, 1, 2, 255]), timestamp: T0 + 5 },
  { key: 'k2', value: null, timestamp: T0 + 7, headers: [{ key: 'trace', value: 'x'.repeat(300) }] },
]
const gzipRecords: RecordInput[] = Array.from({ length: 20 }, (_, i) => ({ key: `gz-${i}`, value: `compressed ${i} `.repeat(20), timestamp: T0 + 100 + i }))

const text = (b: Uint8Array | string | null | undefined) => (b === null || b === undefined ? null : Buffer.from(b).toString('latin1'))

/** roundTrip runs the whole exchange on one connection and checks what the broker stored. */
async function roundTrip(conn: BrokerConnection, listenerPort: number): Promise<void> {
  // ApiVersions: negotiated at the newest version both know, and the broker's table is kept.
  const av = conn.versions.get(ApiVersions.key)
  assert.ok(av, 'the broker listed ApiVersions')
  assert.equal(conn.apiVersionsVersion, Math.min(ApiVersions.maxVersion, av[1]))
  for (const api of [Metadata, CreateTopics, Produce, Fetch]) {
    const range = conn.versions.get(api.key)
    assert.ok(range, `the broker lists ${api.name}`)
    assert.equal(conn.versionFor(api), Math.min(api.maxVersion, range[1]))
  }
  assert.ok(conn.versions.get(Produce.key)![1] >= 9)

  // Metadata: the cluster, and the node we are connected to at the address we used.
  const md = await conn.request(Metadata, Metadata.newRequest())
  assert.ok(md.clusterId && md.clusterId.length > 0, 'Metadata has a cluster id')
  assert.ok(md.brokers.length >= 1)
  assert.ok(md.brokers.some((b) => b.port === listenerPort), `Metadata lists a broker on port ${listenerPort}: ${md.brokers.map((b) => `${b.host}:${b.port}`).join(', ')}`)
  assert.ok(md.controllerId >= 0)

  const topic = await createTopic(conn)
  const batches = [
    encodeRecordBatchBuffer({ producerId: -1n, producerEpoch: -1, baseSequence: -1, compression: 0, records }),
    encodeRecordBatchBuffer({ producerId: -1n, producerEpoch: -1, baseSequence: -1, compression: 1, records: gzipRecords }),
  ]
  assert.deepEqual(await produce(conn, topic, batches), [0n, 3n])

  const res = await fetchFrom(conn, topic, 0n)
  assert.equal(res.errorCode, 0)
  const pd = res.responses[0]!.partitions[0]!
  assert.equal(pd.errorCode, 0)
  assert.equal(pd.highWatermark, 23n)
  assert.ok(pd.records !== null && pd.records.length > 0)
  const fetched = decodeRecordBatches(pd.records)
  assert.equal(fetched.truncated, false)
  assert.deepEqual(fetched.map((b) => [b.baseOffset, b.compression, b.records.length]), [
    [0n, 0, 3],
    [3n, 1, 20],
  ])
  const got = fetched.flatMap((b) => b.records)
  const want = [...records, ...gzipRecords]
  assert.deepEqual(
    got.map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: text(r.key), value: text(r.value), headers: r.headers.map((h) => [h.key, text(h.value)]) })),
    want.map((r, i) => ({ offset: BigInt(i), timestamp: r.timestamp, key: text(r.key), value: text(r.value), headers: (r.headers ?? []).map((h) => [h.key, text(h.value)]) })),
  )
}

test('PLAINTEXT: ApiVersions, Metadata, CreateTopics, Produce and Fetch through one BrokerConnection', async () => {
  const conn = await connect('plain')
  await roundTrip(conn, parseHostPort(kafka.bootstrapServers[0]!).port)
  conn.close()
})

test('TLS (harness CA): the same exchange over the SSL listener', async () => {
  const conn = await connect('tls')
  assert.equal((conn.socket as import('node:tls').TLSSocket).encrypted, true)
  assert.equal((conn.socket as import('node:tls').TLSSocket).authorized, true)
  await roundTrip(conn, parseHostPort(kafka.tlsBootstrapServers![0]!).port)
  conn.close()
})

test('TLS without the CA fails to connect (the certificate is checked)', async () => {
  const { host, port } = parseHostPort(kafka.tlsBootstrapServers![0]!)
  await assert.rejects(BrokerConnection.connect({ host, port, tls: true, connectTimeout: 15_000 }), /cannot connect .*(self-signed|certificate|unable to verify)/i)
})

test('30 pipelined Metadata requests to the real broker all resolve, each with its own topic', async () => {
  const conn = await connect('plain')
  const names = Array.from({ length: 30 }, (_, i) => `broker-it-missing-${i}-${randomUUID()}`)
  const res = await Promise.all(
    names.map((name) => {
      const req = Metadata.newRequest()
      req.topics = [{ topicId: ZERO_UUID, name, unknownTaggedFields: undefined }]
      req.allowAutoTopicCreation = false
      return conn.request(Metadata, req)
    }),
  )
  assert.deepEqual(res.map((r) => r.topics[0]!.name), names)
  assert.ok(res.every((r) => r.topics[0]!.errorCode === 3), 'each topic is UNKNOWN_TOPIC_OR_PARTITION')
  conn.close()
})

test('maxResponseBytes refuses a real response larger than the limit with ResponseTooLargeError', async () => {
  const writer = await connect('plain')
  const topic = await createTopic(writer)
  const big = 'x'.repeat(16 * 1024)
  await produce(writer, topic, [encodeRecordBatchBuffer({ producerId: -1n, producerEpoch: -1, baseSequence: -1, compression: 0, records: [{ key: 'big', value: big, timestamp: T0 }] })])
  // The same fetch on an unlimited connection succeeds, so the refusal below is the limit's doing.
  const ok = await fetchFrom(writer, topic, 0n)
  assert.equal(text(decodeRecordBatches(ok.responses[0]!.partitions[0]!.records!)[0]!.records[0]!.value), big)

  // 1 KiB: the ApiVersions answer and a small Metadata answer fit; the 16 KiB fetch does not.
  const limited = await connect('plain', { maxResponseBytes: 1024 })
  const closed = new Promise<Error | null>((resolve) => limited.onClose(resolve))
  const small = Metadata.newRequest()
  small.topics = [{ topicId: ZERO_UUID, name: topic.name, unknownTaggedFields: undefined }]
  assert.equal((await limited.request(Metadata, small)).topics[0]!.name, topic.name)
  await assert.rejects(fetchFrom(limited, topic, 0n), (err: unknown) => err instanceof ResponseTooLargeError && /announced a (\d+)-byte response, over the 1024-byte limit/.test(err.message) && Number(/a (\d+)-byte/.exec(err.message)![1]) > big.length)
  assert.ok((await closed) instanceof ResponseTooLargeError)
  assert.equal(limited.closed, true)
  writer.close()
})
