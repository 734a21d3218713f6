// The Meter: franz-go kotel's counters (names, units, descriptions, attributes, the merged connects
// option) driven through the hooks, and the conventions' metrics read back through an in-memory
// reader after real produces, polls and processing against a broker.
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { metrics } from '@opentelemetry/api'
import { AggregationTemporality, DataPointType, MeterProvider, type HistogramMetricData, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics'
import { Client, coreOf } from '../../src/client/client.js'
import type { ProduceRecord } from '../../src/protocol/record.js'
import { seedNodeId, type BrokerMetadata } from '../../src/hooks/index.js'
import { Kotel, Meter, Tracer } from '../../src/kotel/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient } from '../client/helpers.js'
import { byName, installContextManager, kotelMetrics, makeOtel, pollN, TestReader, type Otel } from './helpers.js'

const otel: Otel = makeOtel()
let k: KafkaCluster
let admin: Client

before(async () => {
  installContextManager()
  k = await broker({})
  admin = newClient(k)
}, { timeout: 300_000 })

beforeEach(async () => {
  // Cumulative metrics keep their points: each test reads a fresh provider's.
  otel.reset()
})

after(async () => {
  await closeAll()
  await otel.shutdown()
})

const meta = (nodeId: number): BrokerMetadata => ({ nodeId, host: 'h', port: 9092, rack: null })

/** fresh returns a meter provider and reader of its own, so a test sees only its own points. */
function fresh(): { provider: MeterProvider; read: () => Promise<Map<string, MetricData>> } {
  const reader = new TestReader()
  const provider = new MeterProvider({ readers: [reader] })
  return {
    provider,
    async read() {
      const { resourceMetrics, errors } = await reader.collect()
      assert.deepEqual(errors, [])
      return kotelMetrics(resourceMetrics)
    },
  }
}

/** sum describes a counter the way kotel's meter_test.go checks it. */
function sum(m: MetricData | undefined): { description: string; unit: string; monotonic: boolean; cumulative: boolean; points: Array<[object, number]> } {
  assert.ok(m !== undefined, 'the metric exists')
  assert.equal(m.dataPointType, DataPointType.SUM)
  const s = m as SumMetricData
  return {
    description: s.descriptor.description,
    unit: s.descriptor.unit,
    monotonic: s.isMonotonic,
    cumulative: s.aggregationTemporality === AggregationTemporality.CUMULATIVE,
    points: s.dataPoints.map((p) => [p.attributes, p.value]),
  }
}

const KOTEL_COUNTERS = [
  'messaging.kafka.connects.count',
  'messaging.kafka.connect_errors.count',
  'messaging.kafka.disconnects.count',
  'messaging.kafka.write_errors.count',
  'messaging.kafka.write_bytes',
  'messaging.kafka.read_errors.count',
  'messaging.kafka.read_bytes.count',
  'messaging.kafka.produce_bytes.count',
  'messaging.kafka.produce_records.count',
  'messaging.kafka.fetch_bytes.count',
  'messaging.kafka.fetch_records.count',
]

test("kotel's eleven counters: names, descriptions, units (By for bytes), node_id and topic attributes", async () => {
  const { provider, read } = fresh()
  const m = new Meter({ meterProvider: provider })
  m.onBrokerConnect(meta(1), 5, null, null)
  m.onBrokerConnect(meta(1), 5, null, null)
  m.onBrokerConnect(meta(seedNodeId(0)), 5, null, new Error('refused'))
  m.onBrokerDisconnect(meta(1), null as never)
  m.onBrokerWrite(meta(1), 0, 100, 0, 0, null)
  m.onBrokerWrite(meta(1), 0, 50, 0, 0, null)
  m.onBrokerWrite(meta(2), 0, 7, 0, 0, new Error('write'))
  m.onBrokerRead(meta(2), 0, 300, 0, 0, null)
  m.onBrokerRead(meta(2), 0, 0, 0, 0, new Error('read'))
  m.onProduceBatchWritten(meta(1), 'orders', 0, { numRecords: 3, uncompressedBytes: 120, compressedBytes: 60, compressionType: 3 })
  m.onProduceBatchWritten(meta(1), 'orders', 1, { numRecords: 2, uncompressedBytes: 80, compressedBytes: 80, compressionType: 0 })
  m.onFetchBatchRead(meta(2), 'orders', 0, { numRecords: 4, uncompressedBytes: 500, compressedBytes: 200, compressionType: 4 })
  const got = await read()
  assert.deepEqual([...got.keys()].sort(), [...KOTEL_COUNTERS].sort(), 'exactly the eleven counters')
  const base = { monotonic: true, cumulative: true }
  const expected: { [name: string]: ReturnType<typeof sum> } = {
    'messaging.kafka.connects.count': { ...base, description: 'Total number of connections opened, by broker', unit: '1', points: [[{ node_id: '1' }, 2]] },
    'messaging.kafka.connect_errors.count': { ...base, description: 'Total number of connection errors, by broker', unit: '1', points: [[{ node_id: 'seed_0' }, 1]] },
    'messaging.kafka.disconnects.count': { ...base, description: 'Total number of connections closed, by broker', unit: '1', points: [[{ node_id: '1' }, 1]] },
    'messaging.kafka.write_errors.count': { ...base, description: 'Total number of write errors, by broker', unit: '1', points: [[{ node_id: '2' }, 1]] },
    'messaging.kafka.write_bytes': { ...base, description: 'Total number of bytes written, by broker', unit: 'By', points: [[{ node_id: '1' }, 150]] },
    'messaging.kafka.read_errors.count': { ...base, description: 'Total number of read errors, by broker', unit: '1', points: [[{ node_id: '2' }, 1]] },
    'messaging.kafka.read_bytes.count': { ...base, description: 'Total number of bytes read, by broker', unit: 'By', points: [[{ node_id: '2' }, 300]] },
    'messaging.kafka.produce_bytes.count': { ...base, description: 'Total number of uncompressed bytes produced, by broker and topic', unit: 'By', points: [[{ node_id: '1', topic: 'orders' }, 200]] },
    'messaging.kafka.produce_records.count': { ...base, description: 'Total number of produced records, by broker and topic', unit: '1', points: [[{ node_id: '1', topic: 'orders' }, 5]] },
    'messaging.kafka.fetch_bytes.count': { ...base, description: 'Total number of uncompressed bytes fetched, by broker and topic', unit: 'By', points: [[{ node_id: '2', topic: 'orders' }, 500]] },
    'messaging.kafka.fetch_records.count': { ...base, description: 'Total number of fetched records, by broker and topic', unit: '1', points: [[{ node_id: '2', topic: 'orders' }, 4]] },
  }
  for (const [name, want] of Object.entries(expected)) assert.deepEqual(sum(got.get(name)), want, name)
  await provider.shutdown()
})

test('mergedConnects: one connects counter with outcome success or failure, and no connect_errors', async () => {
  const { provider, read } = fresh()
  const m = new Meter({ meterProvider: provider, mergedConnects: true })
  m.onBrokerConnect(meta(1), 5, null, null)
  m.onBrokerConnect(meta(1), 5, null, new Error('refused'))
  m.onBrokerConnect(meta(1), 5, null, new Error('refused'))
  const got = await read()
  assert.deepEqual([...got.keys()], ['messaging.kafka.connects.count'])
  assert.deepEqual(sum(got.get('messaging.kafka.connects.count')).points, [
    [{ node_id: '1', outcome: 'success' }, 1],
    [{ node_id: '1', outcome: 'failure' }, 2],
  ])
  await provider.shutdown()
})

test('brokerCounters: false records none of them; semconv old records none of the conventions metrics', async () => {
  const { provider, read } = fresh()
  const quiet = new Meter({ meterProvider: provider, brokerCounters: false, semconvMetrics: false })
  const old = new Meter({ meterProvider: provider, semconv: 'old' })
  for (const m of [quiet, old]) {
    const r: ProduceRecord = { topic: 't', value: 'v', partition: 0 }
    m.onProduceRecordBuffered(r)
    m.onProduceRecordPartitioned(r, 1)
    m.onProduceRecordUnbuffered(r, null)
    m.onPollStart(undefined)
    m.onFetchRecordUnbuffered({ topic: 't', partition: 0, key: null, value: null, headers: [], timestamp: 0, offset: 0n, leaderEpoch: 0, producerId: -1n, producerEpoch: -1 }, true)
    m.onBrokerConnect(meta(1), 1, null, null)
  }
  await new Promise((r) => setImmediate(r))
  const got = await read()
  assert.deepEqual([...got.keys()], ['messaging.kafka.connects.count'], 'only the old meter counted, and only its kotel counter')
  assert.deepEqual(sum(got.get('messaging.kafka.connects.count')).points, [[{ node_id: '1' }, 1]])
  await provider.shutdown()
})

test('without a meterProvider the meter follows the global one, even when it is registered later', async () => {
  const m = new Meter()
  m.onBrokerConnect(meta(1), 1, null, null) // the no-op global: lost
  const { provider, read } = fresh()
  assert.ok(metrics.setGlobalMeterProvider(provider))
  try {
    m.onBrokerConnect(meta(1), 1, null, null)
    assert.deepEqual(sum((await read()).get('messaging.kafka.connects.count')).points, [[{ node_id: '1' }, 1]])
  } finally {
    metrics.disable()
    await provider.shutdown()
  }
})

function histogram(m: MetricData | undefined): HistogramMetricData {
  assert.ok(m !== undefined, 'the metric exists')
  assert.equal(m.dataPointType, DataPointType.HISTOGRAM)
  return m as HistogramMetricData
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

/** seconds is a span's duration in seconds. */
const seconds = (s: { duration: [number, number] }) => s.duration[0] + s.duration[1] / 1e9

test("the conventions' metrics after real sends, a failed send, polls and processing; each duration equals its span's", { timeout: 60_000 }, async () => {
  const { provider, read } = fresh()
  const topic = await createTopic(admin)
  const small = await createTopic(admin, { configs: { 'max.message.bytes': '1024' } })
  const kotel = () => new Kotel({ tracer: new Tracer({ tracerProvider: otel.tracerProvider }), meter: new Meter({ meterProvider: provider, consumerGroup: 'g' }) })
  const producer = newClient(k, { hooks: kotel().hooks() })
  await producer.produceSync([
    { topic, key: 'a', value: '1' },
    { topic, key: 'b', value: '2' },
  ])
  // The broker refuses a record above the topic's max.message.bytes: a send that failed after it was sent.
  await assert.rejects(producer.produce({ topic: small, value: Buffer.alloc(4000) }), /MESSAGE_TOO_LARGE/)
  // Never sent: the topic does not exist. Not counted as a sent message.
  await assert.rejects(producer.produce({ topic, partition: 9, value: 'x' }), /partition 9 does not exist/)

  const ck = kotel()
  const consumer = newClient(k, { consumeTopics: [topic], hooks: ck.hooks() })
  const records = await pollN(consumer, 2)
  await ck.tracer!.process(records[0]!, () => new Promise((r) => setTimeout(r, 150)))
  await assert.rejects(ck.tracer!.process(records[1]!, () => Promise.reject(new RangeError('bad record'))), RangeError)
  const got = await read()
  const spans = await otel.spans()

  const leader = coreOf(producer).broker(coreOf(producer).leaderOf(topic, 0))!.meta
  const smallLeader = coreOf(producer).broker(coreOf(producer).leaderOf(small, 0))!.meta
  const server = { 'server.address': leader.host, 'server.port': leader.port }
  assert.deepEqual(
    [...got.keys()].filter((n) => !n.startsWith('messaging.kafka.')).sort(),
    ['messaging.client.consumed.messages', 'messaging.client.operation.duration', 'messaging.client.sent.messages', 'messaging.process.duration'],
  )
  assert.ok([...got.keys()].every((n) => !n.startsWith('messaging.kafka.') || KOTEL_COUNTERS.includes(n)))

  // sent.messages: the two acked records in one point; the refused one with its error.type.
  const sent = sum(got.get('messaging.client.sent.messages'))
  assert.deepEqual({ ...sent, points: undefined }, { description: 'Number of records the producer attempted to send to a broker', unit: '{message}', monotonic: true, cumulative: true, points: undefined })
  const sendAttrs = { 'messaging.system': 'kafka', 'messaging.operation.name': 'send', 'messaging.destination.name': topic, 'messaging.destination.partition.id': '0', ...server }
  const failedAttrs = { 'messaging.system': 'kafka', 'messaging.operation.name': 'send', 'messaging.destination.name': small, 'messaging.destination.partition.id': '0', 'server.address': smallLeader.host, 'server.port': smallLeader.port, 'error.type': 'MESSAGE_TOO_LARGE' }
  assert.deepEqual(sent.points, [
    [sendAttrs, 2],
    [failedAttrs, 1],
  ])
  const failedSpan = byName(spans, `send ${small}`)
  assert.equal(failedSpan.attributes['error.type'], 'MESSAGE_TOO_LARGE', 'the span and the metric carry the same error.type')

  // operation.duration: seconds, the advised buckets, one point per send outcome and one per poll.
  const op = histogram(got.get('messaging.client.operation.duration'))
  assert.equal(op.descriptor.unit, 's')
  const points = op.dataPoints.map((p) => ({ attributes: p.attributes, count: p.value.count, sum: p.value.sum, boundaries: p.value.buckets.boundaries }))
  for (const p of points) assert.deepEqual(p.boundaries, BUCKETS)
  const sends = points.filter((p) => p.attributes['messaging.operation.type'] === 'send')
  assert.deepEqual(
    sends.map((p) => [p.attributes, p.count]),
    [
      [{ ...sendAttrs, 'messaging.operation.type': 'send' }, 2],
      [{ ...failedAttrs, 'messaging.operation.type': 'send' }, 1],
    ],
  )
  const sendSpans = spans.filter((s) => s.name === `send ${topic}` && s.status.code === 0)
  assert.equal(sendSpans.length, 2)
  assert.ok(Math.abs(sends[0]!.sum! - (seconds(sendSpans[0]!) + seconds(sendSpans[1]!))) < 2e-6, 'the send durations are the send spans\' durations')
  assert.ok(Math.abs(sends[1]!.sum! - seconds(failedSpan)) < 1e-6)
  const polls = points.filter((p) => p.attributes['messaging.operation.name'] === 'poll')
  assert.ok(polls.length >= 1)
  for (const p of polls) {
    assert.deepEqual(p.attributes, {
      'messaging.system': 'kafka',
      'messaging.operation.name': 'poll',
      'messaging.operation.type': 'receive',
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': '0',
      'messaging.consumer.group.name': 'g',
      ...server,
    })
  }
  assert.equal(points.length, sends.length + polls.length)

  // consumed.messages: the two polled records; process() never adds to it.
  assert.deepEqual(sum(got.get('messaging.client.consumed.messages')).points, [
    [{ 'messaging.system': 'kafka', 'messaging.operation.name': 'poll', 'messaging.destination.name': topic, 'messaging.destination.partition.id': '0', 'messaging.consumer.group.name': 'g', ...server }, 2],
  ])

  // process.duration: the 150 ms process in the (0.1, 0.25] bucket, equal to its span; the failure with error.type.
  const proc = histogram(got.get('messaging.process.duration'))
  const procAttrs = { 'messaging.system': 'kafka', 'messaging.operation.name': 'process', 'messaging.destination.name': topic, 'messaging.destination.partition.id': '0', 'messaging.consumer.group.name': 'g', ...server }
  assert.deepEqual(
    proc.dataPoints.map((p) => [p.attributes, p.value.count]),
    [
      [procAttrs, 1],
      [{ ...procAttrs, 'error.type': 'RangeError' }, 1],
    ],
  )
  const slow = proc.dataPoints[0]!.value
  assert.equal(slow.buckets.counts[BUCKETS.indexOf(0.25)], 1, `150 ms lands in (0.1, 0.25]: ${JSON.stringify(slow.buckets.counts)}`)
  const processSpans = spans.filter((s) => s.name === `process ${topic}`)
  assert.ok(Math.abs(slow.sum! - seconds(processSpans[0]!)) < 1e-6, 'the process duration is the process span\'s')
  await provider.shutdown()
})

test('a meter without a tracer times sends and polls itself; semconv old keeps only the kotel counters', { timeout: 60_000 }, async () => {
  for (const semconv of ['new', 'old'] as const) {
    const { provider, read } = fresh()
    const topic = await createTopic(admin)
    const m = new Meter({ meterProvider: provider, semconv })
    const c = newClient(k, { consumeTopics: [topic], hooks: [m] })
    await c.produceSync([{ topic, value: '1' }, { topic, value: '2' }, { topic, value: '3' }])
    await pollN(c, 3)
    // onProduceBatchWritten runs apart from the produce path (in a setImmediate): let it run.
    await new Promise((r) => setImmediate(r))
    const got = await read()
    const names = [...got.keys()].sort()
    if (semconv === 'old') {
      assert.deepEqual(names, ['messaging.kafka.connects.count', 'messaging.kafka.fetch_bytes.count', 'messaging.kafka.fetch_records.count', 'messaging.kafka.produce_bytes.count', 'messaging.kafka.produce_records.count', 'messaging.kafka.read_bytes.count', 'messaging.kafka.write_bytes'])
    } else {
      const op = histogram(got.get('messaging.client.operation.duration'))
      const count = (name: string) => op.dataPoints.filter((p) => p.attributes['messaging.operation.name'] === name).reduce((n, p) => n + p.value.count, 0)
      assert.equal(count('send'), 3)
      assert.ok(count('poll') >= 1)
      assert.equal(sum(got.get('messaging.client.sent.messages')).points.reduce((n, [, v]) => n + v, 0), 3)
      assert.equal(sum(got.get('messaging.client.consumed.messages')).points.reduce((n, [, v]) => n + v, 0), 3)
      assert.equal(sum(got.get('messaging.kafka.fetch_records.count')).points.reduce((n, [, v]) => n + v, 0) >= 3, true)
      assert.equal(got.has('messaging.process.duration'), false, 'no tracer, no process spans')
    }
    await c.close()
    await provider.shutdown()
  }
})
