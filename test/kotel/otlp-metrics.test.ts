// kotel's meter exported over OTLP: the SDK's OTLP/HTTP metric exporter (as users run it) sends to a
// small OTLP/HTTP receiver written here (Jaeger takes only traces). After real sends, polls and
// processing against a broker, the export carries messaging.client.operation.duration,
// messaging.client.sent.messages and messaging.client.consumed.messages with the units and attributes
// the conventions give them, and the same points an in-process reader of the same meter provider sees.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AggregationTemporality, DataPointType, MeterProvider, PeriodicExportingMetricReader, type MetricData, type PushMetricExporter } from '@opentelemetry/sdk-metrics'
import type { Client } from '../../src/client/client.js'
import { Kotel, Meter, Tracer } from '../../src/kotel/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient } from '../client/helpers.js'
import { installContextManager, kotelMetrics, makeOtel, pollN, TestReader } from './helpers.js'

let k: KafkaCluster
let admin: Client
let receiver: Server
let url: string
/** bodies are the OTLP/HTTP JSON requests the receiver got, by path. */
const bodies: Array<{ path: string; type: string; body: OtlpMetricsRequest }> = []

before(async () => {
  installContextManager()
  k = await broker({})
  admin = newClient(k)
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        bodies.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpMetricsRequest })
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch (err) {
        res.writeHead(400).end(String(err))
      }
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const addr = receiver.address() as { port: number }
  url = `http://127.0.0.1:${addr.port}/v1/metrics`
}, { timeout: 300_000 })

after(async () => {
  await closeAll()
  await new Promise<void>((resolve) => receiver.close(() => resolve()))
})

// OTLP/HTTP JSON, as much of it as this test reads.
interface OtlpKv {
  key: string
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
}
interface OtlpPoint {
  attributes?: OtlpKv[]
  asInt?: string | number
  asDouble?: number
  count?: string | number
  sum?: number
  bucketCounts?: Array<string | number>
  explicitBounds?: number[]
}
interface OtlpMetric {
  name: string
  unit?: string
  description?: string
  sum?: { dataPoints: OtlpPoint[]; aggregationTemporality?: number; isMonotonic?: boolean }
  histogram?: { dataPoints: OtlpPoint[]; aggregationTemporality?: number }
}
interface OtlpMetricsRequest {
  resourceMetrics: Array<{ resource?: { attributes?: OtlpKv[] }; scopeMetrics: Array<{ scope: { name: string; version?: string }; metrics: OtlpMetric[] }> }>
}

const attrs = (kvs: OtlpKv[] | undefined) =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, kv.value.stringValue ?? (kv.value.intValue !== undefined ? Number(kv.value.intValue) : (kv.value.boolValue ?? kv.value.doubleValue))]))
const key = (a: object) => JSON.stringify(Object.entries(a).sort(([x], [y]) => x.localeCompare(y)))

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
// OTLP's AggregationTemporality: 2 is cumulative.
const CUMULATIVE = 2

test("kotel's messaging metrics over OTLP/HTTP: names, units, attributes and values as the meter recorded them", { timeout: 120_000 }, async () => {
  const otel = makeOtel()
  const local = new TestReader()
  // A long interval: the export this test reads is the one forceFlush makes.
  const exporter = new OTLPMetricExporter({ url }) as unknown as PushMetricExporter
  const otlp = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'kotel-metrics' }), readers: [otlp, local] })
  try {
    const topic = await createTopic(admin, { partitions: 2 })
    const kotel = (group?: string) =>
      new Kotel({ tracer: new Tracer({ tracerProvider: otel.tracerProvider, consumerGroup: group }), meter: new Meter({ meterProvider, consumerGroup: group, brokerCounters: false }) })
    const producer = newClient(k, { clientId: 'orders', hooks: kotel().hooks() })
    await producer.produceSync([
      { topic, partition: 0, key: 'a', value: '1' },
      { topic, partition: 1, key: 'b', value: '2' },
      { topic, partition: 1, key: 'c', value: '3' },
    ])
    const ck = kotel('billing')
    const consumer = newClient(k, { clientId: 'billing', consumeTopics: [topic], hooks: ck.hooks() })
    for (const r of await pollN(consumer, 3)) await ck.tracer!.process(r, () => {})

    await meterProvider.forceFlush()
    const exported = bodies.filter((b) => b.path === '/v1/metrics')
    assert.equal(exported.length, 1, 'one OTLP export, made by forceFlush')
    assert.match(exported[0]!.type, /^application\/json/)
    const req = exported[0]!.body
    assert.equal(req.resourceMetrics.length, 1)
    assert.equal(attrs(req.resourceMetrics[0]!.resource?.attributes)['service.name'], 'kotel-metrics')
    const scopes = req.resourceMetrics[0]!.scopeMetrics
    assert.deepEqual(scopes.map((s) => s.scope.name), ['kafka-wire/kotel'])
    const metrics = new Map(scopes[0]!.metrics.map((m) => [m.name, m]))
    assert.deepEqual([...metrics.keys()].sort(), ['messaging.client.consumed.messages', 'messaging.client.operation.duration', 'messaging.client.sent.messages', 'messaging.process.duration'])

    const leader = (p: number) => producer.partitionLeader(topic, p)!
    const server = (p: number) => ({ 'server.address': leader(p).host, 'server.port': leader(p).port })

    // operation.duration: a histogram in seconds with the advised buckets; one point per partition's
    // sends (3 in all) and one per partition polled.
    const op = metrics.get('messaging.client.operation.duration')!
    assert.equal(op.unit, 's')
    assert.ok(op.histogram, 'a histogram')
    assert.equal(op.histogram.aggregationTemporality, CUMULATIVE)
    for (const p of op.histogram.dataPoints) assert.deepEqual(p.explicitBounds, BUCKETS)
    const sendPoints = op.histogram.dataPoints.filter((p) => attrs(p.attributes)['messaging.operation.type'] === 'send')
    assert.deepEqual(
      sendPoints.map((p) => [attrs(p.attributes), Number(p.count)]).sort((a, b) => key(a[0] as object).localeCompare(key(b[0] as object))),
      [0, 1].map((p) => [
        { 'messaging.system': 'kafka', 'messaging.operation.name': 'send', 'messaging.operation.type': 'send', 'messaging.destination.name': topic, 'messaging.destination.partition.id': String(p), ...server(p) },
        p === 0 ? 1 : 2,
      ]),
    )
    const pollPoints = op.histogram.dataPoints.filter((p) => attrs(p.attributes)['messaging.operation.name'] === 'poll')
    assert.ok(pollPoints.length >= 1)
    for (const p of pollPoints) {
      const a = attrs(p.attributes)
      assert.deepEqual(
        { system: a['messaging.system'], type: a['messaging.operation.type'], topic: a['messaging.destination.name'], group: a['messaging.consumer.group.name'] },
        { system: 'kafka', type: 'receive', topic, group: 'billing' },
      )
    }
    assert.equal(sendPoints.length + pollPoints.length, op.histogram.dataPoints.length)

    // sent.messages and consumed.messages: monotonic cumulative sums of {message}, per partition.
    for (const [name, op, extra] of [
      ['messaging.client.sent.messages', 'send', {}],
      ['messaging.client.consumed.messages', 'poll', { 'messaging.consumer.group.name': 'billing' }],
    ] as const) {
      const m = metrics.get(name)!
      assert.equal(m.unit, '{message}', name)
      assert.ok(m.sum, `${name} is a sum`)
      assert.equal(m.sum.isMonotonic, true)
      assert.equal(m.sum.aggregationTemporality, CUMULATIVE)
      assert.deepEqual(
        m.sum.dataPoints.map((p) => [attrs(p.attributes), Number(p.asInt)]).sort((a, b) => key(a[0] as object).localeCompare(key(b[0] as object))),
        [0, 1].map((p) => [{ 'messaging.system': 'kafka', 'messaging.operation.name': op, 'messaging.destination.name': topic, 'messaging.destination.partition.id': String(p), ...extra, ...server(p) }, p === 0 ? 1 : 2]),
        name,
      )
    }

    // The same points an in-process reader collected: nothing lost or changed on the wire.
    const { resourceMetrics, errors } = await local.collect()
    assert.deepEqual(errors, [])
    const inProcess = kotelMetrics(resourceMetrics)
    for (const name of ['messaging.client.operation.duration', 'messaging.client.sent.messages', 'messaging.client.consumed.messages']) {
      assert.deepEqual(wire(metrics.get(name)!), memory(inProcess.get(name)!), `${name}: the export equals the in-process collection`)
    }
  } finally {
    await meterProvider.shutdown()
    await otel.shutdown()
  }
})

/** wire and memory reduce an exported and a collected metric to the same comparable form. */
function wire(m: OtlpMetric): object {
  const points = (m.histogram?.dataPoints ?? m.sum?.dataPoints ?? []).map((p) =>
    m.histogram ? [key(attrs(p.attributes)), Number(p.count), (p.bucketCounts ?? []).map(Number), p.sum] : [key(attrs(p.attributes)), Number(p.asInt)],
  )
  return { name: m.name, unit: m.unit, description: m.description, points: points.sort((a, b) => String(a[0]).localeCompare(String(b[0]))) }
}

function memory(m: MetricData): object {
  const points = m.dataPoints.map((p) => {
    if (m.dataPointType === DataPointType.HISTOGRAM) {
      const v = p.value as { count: number; sum?: number; buckets: { counts: number[] } }
      return [key(p.attributes), v.count, v.buckets.counts, v.sum]
    }
    return [key(p.attributes), p.value as number]
  })
  assert.equal(m.aggregationTemporality, AggregationTemporality.CUMULATIVE)
  return { name: m.descriptor.name, unit: m.descriptor.unit, description: m.descriptor.description, points: points.sort((a, b) => String(a[0]).localeCompare(String(b[0]))) }
}
