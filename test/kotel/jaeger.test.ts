// kotel where users look at traces: the spans go through the OpenTelemetry SDK's OTLP/HTTP exporter
// into a real Jaeger v2 (src/testing/jaeger.ts starts one), and are read back through Jaeger's query
// APIs: v3 (OTLP JSON: names, kinds, attributes, parents, links with their attributes, exactly as the SDK
// recorded them) and v1 (what Jaeger's UI draws: links as FOLLOWS_FROM references, and the warnings its
// clock-skew check puts on spans). Two services, as in a real deployment: `checkout` produces inside an
// application span, `billing` polls inside a loop span and processes each record with application spans
// of its own. The resources carry no host attributes, so Jaeger compares every child with its parent.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { SpanKind, type AttributeValue, type Attributes } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { Client } from '../../src/client/client.js'
import { Kafka, logLevel } from '../../src/kafkajs/index.js'
import { Kotel, Tracer, type TracerOptions } from '../../src/kotel/index.js'
import { startJaeger, type Jaeger, type JaegerSpanV1, type KafkaCluster, type OtlpKeyValue, type OtlpSpan } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, waitFor } from '../client/helpers.js'
import { installContextManager } from './helpers.js'

let k: KafkaCluster
let admin: Client
let jaeger: Jaeger

before(
  async () => {
    installContextManager()
    k = await broker({})
    admin = newClient(k)
    try {
      jaeger = await startJaeger({ log: (l) => console.log(`# ${l}`) })
    } catch (err) {
      throw new Error(`the Jaeger tests need a Jaeger and none could be started: ${err instanceof Error ? err.message : String(err)}`)
    }
  },
  // A machine without the cached build compiles Jaeger first (minutes; CI builds it in a step of its own).
  { timeout: 30 * 60_000 },
)

after(async () => {
  await closeAll()
  await jaeger?.stop()
})

/** Service is one service's tracer provider: spans exported over OTLP to Jaeger, and kept in memory to compare. */
interface Service {
  provider: BasicTracerProvider
  memory: InMemorySpanExporter
}

function service(name: string): Service {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': name }),
    spanProcessors: [new SimpleSpanProcessor(memory), new BatchSpanProcessor(new OTLPTraceExporter({ url: `${jaeger.otlpHttpUrl}/v1/traces` }))],
  })
  return { provider, memory }
}

const RECORDS = 4

interface Flow {
  topic: string
  spans: ReadableSpan[]
  /** service maps a span id to the service that recorded it. */
  service: Map<string, string>
  children(parent: ReadableSpan, name: string): ReadableSpan[]
}

/**
 * flow produces RECORDS records inside a `checkout` span, then consumes them and runs a `charge card`
 * span for each inside kotel's process span, through kafka-wire's Client (clientFlow) or as a KafkaJS
 * program on the facade (kafkajsFlow); both services flush their spans to Jaeger.
 */
async function flow(mode: TracerOptions, api: 'client' | 'kafkajs' = 'client'): Promise<Flow> {
  const topic = await createTopic(admin, { partitions: 2 })
  const checkout = service('checkout')
  const billing = service('billing')
  let checkoutSpans: ReadableSpan[] = []
  let billingSpans: ReadableSpan[] = []
  try {
    await (api === 'kafkajs' ? kafkajsFlow : clientFlow)(topic, mode, checkout, billing)
    await checkout.provider.forceFlush()
    await billing.provider.forceFlush()
    // Read before shutdown: shutting the in-memory exporter down empties it.
    checkoutSpans = checkout.memory.getFinishedSpans()
    billingSpans = billing.memory.getFinishedSpans()
  } finally {
    await checkout.provider.shutdown()
    await billing.provider.shutdown()
  }
  const spans = [...checkoutSpans, ...billingSpans]
  // checkout, the sends; the receives, processes and the application's spans (and the client's loop and polls).
  assert.equal(checkoutSpans.length, 1 + RECORDS)
  if (api === 'kafkajs') assert.equal(billingSpans.length, 3 * RECORDS, `billing recorded receive, process and charge card per record: ${billingSpans.map((s) => s.name).join(', ')}`)
  else assert.ok(billingSpans.length >= 2 + 3 * RECORDS, `billing recorded ${billingSpans.length} spans`)
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
  const serviceOf = new Map<string, string>()
  for (const s of checkoutSpans) serviceOf.set(s.spanContext().spanId, 'checkout')
  for (const s of billingSpans) serviceOf.set(s.spanContext().spanId, 'billing')
  return {
    topic,
    spans,
    service: serviceOf,
    children(parent, name) {
      return spans.filter((s) => s.name === name && s.parentSpanContext?.spanId === parent.spanContext().spanId && byId.has(s.parentSpanContext.spanId))
    },
  }
}

/** clientFlow produces with `produce`, polls inside a `poll loop` span and processes each record with `tracer.process`. */
async function clientFlow(topic: string, mode: TracerOptions, checkout: Service, billing: Service): Promise<void> {
  const producer = newClient(k, { clientId: 'checkout', hooks: new Kotel({ tracer: new Tracer({ tracerProvider: checkout.provider, ...mode }) }).hooks() })
  await checkout.provider.getTracer('checkout-app').startActiveSpan('checkout', async (span) => {
    for (let i = 0; i < RECORDS; i++) await producer.produce({ topic, partition: i % 2, key: `order-${i}`, value: JSON.stringify({ order: i }) })
    span.end()
  })
  const tracer = new Tracer({ tracerProvider: billing.provider, consumerGroup: 'billing', pollSpans: true, ...mode })
  const consumer = newClient(k, { clientId: 'billing', consumeTopics: [topic], hooks: new Kotel({ tracer }).hooks() })
  const app = billing.provider.getTracer('billing-app')
  await app.startActiveSpan('poll loop', async (loop) => {
    let seen = 0
    const signal = AbortSignal.timeout(30_000)
    while (seen < RECORDS) {
      const fetches = await consumer.pollFetches({ signal })
      if (signal.aborted) throw new Error(`only ${seen} of ${RECORDS} records came back within 30 s`)
      for (const record of fetches.records()) {
        await tracer.process(record, () =>
          app.startActiveSpan('charge card', async (s) => {
            await new Promise((r) => setTimeout(r, 1 + (seen % 3)))
            s.end()
          }),
        )
        seen++
      }
    }
    loop.end()
  })
}

/**
 * kafkajsFlow is the same flow written as a KafkaJS program on the facade: kotel is one option of
 * `new Kafka`, the sends are `producer.send` calls inside the `checkout` span, and each message's
 * `charge card` span runs in `eachMessage`, which the facade runs inside kotel's process span.
 */
async function kafkajsFlow(topic: string, mode: TracerOptions, checkout: Service, billing: Service): Promise<void> {
  const kafka = (clientId: string, tracer: Tracer) => new Kafka({ clientId, brokers: k.bootstrapServers, logLevel: logLevel.NOTHING, hooks: new Kotel({ tracer }).hooks() })
  const producer = kafka('checkout', new Tracer({ tracerProvider: checkout.provider, ...mode })).producer()
  await producer.connect()
  try {
    await checkout.provider.getTracer('checkout-app').startActiveSpan('checkout', async (span) => {
      for (let i = 0; i < RECORDS; i++) await producer.send({ topic, messages: [{ partition: i % 2, key: `order-${i}`, value: JSON.stringify({ order: i }) }] })
      span.end()
    })
  } finally {
    await producer.disconnect()
  }
  const consumer = kafka('billing', new Tracer({ tracerProvider: billing.provider, consumerGroup: 'billing', ...mode })).consumer({ groupId: `billing-${topic}`, heartbeatInterval: 500 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    const app = billing.provider.getTracer('billing-app')
    let seen = 0
    await consumer.run({
      eachMessage: () =>
        app.startActiveSpan('charge card', async (s) => {
          await new Promise((r) => setTimeout(r, 1 + (seen % 3)))
          s.end()
          seen++
        }),
    })
    await waitFor(() => seen >= RECORDS, `the ${RECORDS} messages through eachMessage`, 30_000)
  } finally {
    await consumer.disconnect()
  }
}

// Records go to partitions 0, 1, 0, 1: record i is at offset i >> 1 of partition i % 2. The helpers
// below name records by i.
const recordIds = Array.from({ length: RECORDS }, (_, i) => i)

/** spanOf finds record i's span of an operation ('send', 'receive', 'process'). */
function spanOf(f: Flow, op: string, i: number): ReadableSpan {
  const hit = f.spans.filter((s) => s.name === `${op} ${f.topic}` && s.attributes['messaging.destination.partition.id'] === String(i % 2) && s.attributes['messaging.kafka.offset'] === i >> 1)
  assert.equal(hit.length, 1, `one ${op} span for record ${i} among ${JSON.stringify(f.spans.filter((s) => s.name.startsWith(op)).map((s) => [s.name, s.attributes]))}`)
  return hit[0]!
}

const id = (s: ReadableSpan) => s.spanContext().spanId
const traceOf = (s: ReadableSpan) => s.spanContext().traceId

// ------------------------------------------------------------------------------- reading Jaeger back

/** otlpValue turns an OTLP JSON attribute value into what the SDK recorded. */
function otlpValue(v: OtlpKeyValue['value']): AttributeValue | undefined {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.boolValue !== undefined) return v.boolValue
  if (v.doubleValue !== undefined) return v.doubleValue
  return undefined
}

/** otlpAttributes reads OTLP JSON attributes, leaving out the warnings Jaeger adds as an attribute of its own. */
function otlpAttributes(kvs: OtlpKeyValue[] | undefined): Attributes {
  const out: Attributes = {}
  for (const kv of kvs ?? []) if (kv.key !== JAEGER_WARNINGS) out[kv.key] = otlpValue(kv.value)
  return out
}

/** JAEGER_WARNINGS is the attribute Jaeger's query service puts its warnings (clock skew, missing parents) in. */
const JAEGER_WARNINGS = '@jaeger@warnings'

const KIND_NUMBER: { [k: number]: number } = { [SpanKind.INTERNAL]: 1, [SpanKind.SERVER]: 2, [SpanKind.CLIENT]: 3, [SpanKind.PRODUCER]: 4, [SpanKind.CONSUMER]: 5 }

/** Readback is every trace the flow's spans are in, as Jaeger returns them through both APIs. */
interface Readback {
  v3: Map<string, { span: OtlpSpan; service: string }>
  v1: Map<string, JaegerSpanV1>
  /** v1Traces maps a trace id to the span ids Jaeger's v1 API lists in it. */
  v1Traces: Map<string, Set<string>>
}

async function readBack(f: Flow): Promise<Readback> {
  const traceIds = [...new Set(f.spans.map(traceOf))]
  const out: Readback = { v3: new Map(), v1: new Map(), v1Traces: new Map() }
  const expected = (t: string) => f.spans.filter((s) => traceOf(s) === t).length
  for (const t of traceIds) {
    // The SDK's export has been answered, so Jaeger has the spans; waiting only covers its storage write.
    await waitFor(async () => ((await jaeger.traceV1(t))?.spans.length ?? 0) >= expected(t), `Jaeger to hold the ${expected(t)} spans of trace ${t}`, 10_000)
    const v1 = (await jaeger.traceV1(t))!
    out.v1Traces.set(t, new Set(v1.spans.map((s) => s.spanID)))
    for (const s of v1.spans) out.v1.set(s.spanID, s)
    const v3 = (await jaeger.traceV3(t))!
    for (const rs of v3.resourceSpans) {
      const serviceName = String(otlpAttributes(rs.resource.attributes)['service.name'])
      for (const ss of rs.scopeSpans) for (const s of ss.spans) out.v3.set(s.spanId, { span: s, service: serviceName })
    }
  }
  return out
}

/**
 * arrivedAsEmitted checks every span the SDK recorded against Jaeger's v3 copy: name, kind, trace,
 * parent, attributes (values and types), links with their attributes, status; and the v1 copy: the
 * parent as CHILD_OF and each link as FOLLOWS_FROM, exactly. It also checks that nothing is orphaned:
 * every parent is in its span's trace, every link's target exists in Jaeger.
 */
function arrivedAsEmitted(f: Flow, rb: Readback): void {
  assert.equal(rb.v3.size, f.spans.length, 'Jaeger holds exactly the spans the SDK recorded')
  for (const s of f.spans) {
    const got = rb.v3.get(id(s))
    assert.ok(got, `${s.name} ${id(s)} is in Jaeger`)
    const j = got.span
    const label = `${s.name} (${id(s)})`
    assert.equal(j.name, s.name, label)
    assert.equal(got.service, f.service.get(id(s)), `${label}: service`)
    assert.equal(j.traceId, traceOf(s), `${label}: trace`)
    assert.equal(Number(j.kind), KIND_NUMBER[s.kind], `${label}: kind`)
    assert.equal(j.parentSpanId || undefined, s.parentSpanContext?.spanId, `${label}: parent`)
    assert.deepEqual(otlpAttributes(j.attributes), { ...s.attributes }, `${label}: attributes`)
    assert.deepEqual(
      (j.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: otlpAttributes(l.attributes) })),
      s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, attributes: { ...l.attributes } })),
      `${label}: links`,
    )
    assert.equal(j.status?.code ?? 0, s.status.code, `${label}: status`)
    // v1, what the UI draws.
    const v1 = rb.v1.get(id(s))
    assert.ok(v1, `${label} is in the v1 API`)
    const refs = v1.references.map((r) => `${r.refType} ${r.traceID}/${r.spanID}`)
    const want = [
      ...(s.parentSpanContext ? [`CHILD_OF ${traceOf(s)}/${s.parentSpanContext.spanId}`] : []),
      ...s.links.map((l) => `FOLLOWS_FROM ${l.context.traceId}/${l.context.spanId}`),
    ]
    assert.deepEqual(refs.sort(), want.sort(), `${label}: v1 references`)
    // Nothing orphaned.
    if (s.parentSpanContext) assert.ok(rb.v1Traces.get(traceOf(s))!.has(s.parentSpanContext.spanId), `${label}: its parent is in its trace`)
    for (const l of s.links) assert.ok(rb.v3.has(l.context.spanId), `${label}: its link target ${l.context.spanId} is in Jaeger`)
    // Jaeger warns only about children that do not lie inside their parents: a span whose parent
    // awaited or ran it never does. A receive span runs after its send (and a process span after its
    // receive), as messaging does; Jaeger's check, made for calls, flags such a child when it is the
    // shorter of the two, whatever the clocks say.
    const afterParent = s.name.startsWith('receive ') || (s.name.startsWith('process ') && s.parentSpanContext !== undefined && f.spans.some((p) => id(p) === s.parentSpanContext!.spanId && p.name.startsWith('receive ')))
    for (const w of v1.warnings ?? []) {
      assert.ok(afterParent && /^clock skew adjustment disabled; not applying calculated delta/.test(w), `${label}: unexpected Jaeger warning: ${w}`)
    }
  }
}

/** noSkewWarning checks that Jaeger's clock-skew check found nothing to say about these spans. */
function noSkewWarning(rb: Readback, spans: ReadableSpan[], what: string): void {
  assert.ok(spans.length > 0, `${what}: spans to check`)
  for (const s of spans) {
    const warnings = rb.v1.get(id(s))!.warnings ?? []
    assert.deepEqual(warnings, [], `${what}: ${s.name} ${id(s)} has no warnings in Jaeger`)
  }
}

/** pollLinks checks the poll spans: children of the loop span, one link per record to its send span, with partition and offset. */
function pollLinks(f: Flow, rb: Readback): void {
  const loop = f.spans.find((s) => s.name === 'poll loop')!
  const polls = f.spans.filter((s) => s.name === `poll ${f.topic}`)
  assert.ok(polls.length >= 1)
  const linked: string[] = []
  for (const p of polls) {
    assert.equal(p.parentSpanContext?.spanId, id(loop), 'a poll span is a child of the span that awaited the poll')
    const j = rb.v3.get(id(p))!.span
    assert.equal(otlpAttributes(j.attributes)['messaging.batch.message_count'], (j.links ?? []).length, 'one link per polled record')
    for (const l of j.links ?? []) {
      const a = otlpAttributes(l.attributes)
      const i = Number(a['messaging.kafka.offset']) * 2 + Number(a['messaging.destination.partition.id'])
      const send = spanOf(f, 'send', i)
      assert.deepEqual({ traceId: l.traceId, spanId: l.spanId }, { traceId: traceOf(send), spanId: id(send) }, `the poll span's link for record ${i} is its send span`)
      linked.push(String(i))
    }
  }
  assert.deepEqual(linked.sort(), recordIds.map(String), 'every record is linked from exactly one poll span')
  noSkewWarning(rb, polls, 'poll spans in their loop span')
}

/** clock checks Jaeger's clock-skew warnings where a parent awaited or ran its child. */
function clock(f: Flow, rb: Readback): void {
  noSkewWarning(rb, recordIds.map((i) => spanOf(f, 'send', i)), 'sends in the checkout span that awaited them')
  noSkewWarning(rb, f.spans.filter((s) => s.name === 'charge card'), "the application's spans in the process spans that ran them")
}

/** defaultShape checks default mode: one trace from the checkout span through each send to its receive, process and the application's span. */
function defaultShape(f: Flow, rb: Readback): void {
  arrivedAsEmitted(f, rb)
  const checkout = f.spans.find((s) => s.name === 'checkout')!
  for (const i of recordIds) {
    const send = spanOf(f, 'send', i)
    const receive = spanOf(f, 'receive', i)
    const process = spanOf(f, 'process', i)
    assert.equal(send.parentSpanContext?.spanId, id(checkout))
    assert.equal(receive.parentSpanContext?.spanId, id(send), `record ${i}: receive is a child of its send`)
    assert.equal(process.parentSpanContext?.spanId, id(receive), `record ${i}: process is a child of its receive`)
    assert.equal(f.children(process, 'charge card').length, 1)
    for (const s of [send, receive, process]) assert.equal(traceOf(s), traceOf(checkout), `record ${i}: ${s.name} is in the producer's trace`)
    assert.equal(receive.links.length + process.links.length, 0)
  }
  clock(f, rb)
}

test('default mode in Jaeger: one trace from the checkout span through each send to its receive, process and the application\'s span', { timeout: 120_000 }, async () => {
  const f = await flow({})
  const rb = await readBack(f)
  defaultShape(f, rb)
  pollLinks(f, rb)
})

/** linkShape checks link mode: a trace per record (receive, then process under it), each linked to its exact send span. */
function linkShape(f: Flow, rb: Readback): void {
  arrivedAsEmitted(f, rb)
  const checkout = f.spans.find((s) => s.name === 'checkout')!
  const producerTrace = rb.v1Traces.get(traceOf(checkout))!
  assert.deepEqual([...producerTrace].sort(), [id(checkout), ...recordIds.map((i) => id(spanOf(f, 'send', i)))].sort(), "the producer's trace holds the checkout span and the sends only")
  const consumerTraces = new Set<string>()
  for (const i of recordIds) {
    const send = spanOf(f, 'send', i)
    const receive = spanOf(f, 'receive', i)
    const process = spanOf(f, 'process', i)
    const charge = f.children(process, 'charge card')
    assert.equal(receive.parentSpanContext, undefined, `record ${i}: receive starts a trace`)
    assert.deepEqual(rb.v1.get(id(receive))!.references, [{ refType: 'FOLLOWS_FROM', traceID: traceOf(send), spanID: id(send) }], `record ${i}: receive follows from its send`)
    assert.equal(process.parentSpanContext?.spanId, id(receive), `record ${i}: process is a child of receive`)
    assert.deepEqual(process.links.map((l) => l.context.spanId), [id(send)], `record ${i}: process is linked to its send`)
    assert.equal(charge.length, 1)
    assert.deepEqual(rb.v1Traces.get(traceOf(receive)), new Set([id(receive), id(process), id(charge[0]!)]), `record ${i}: its trace is receive, process and the application's span`)
    assert.notEqual(traceOf(receive), traceOf(send))
    consumerTraces.add(traceOf(receive))
  }
  assert.equal(consumerTraces.size, RECORDS, 'one consumer trace per record')
  clock(f, rb)
}

test('link mode in Jaeger: a trace per record (receive, then process under it), each linked to its exact send span', { timeout: 120_000 }, async () => {
  const f = await flow({ linkSpans: true })
  const rb = await readBack(f)
  linkShape(f, rb)
  pollLinks(f, rb)
})

test("franz-go's link shape in Jaeger (linkedTraces: 'span'): each receive and each process span a trace, linked upstream", { timeout: 120_000 }, async () => {
  const f = await flow({ linkSpans: true, linkedTraces: 'span' })
  const rb = await readBack(f)
  arrivedAsEmitted(f, rb)
  for (const i of recordIds) {
    const send = spanOf(f, 'send', i)
    const receive = spanOf(f, 'receive', i)
    const process = spanOf(f, 'process', i)
    const charge = f.children(process, 'charge card')
    assert.deepEqual(rb.v1.get(id(receive))!.references, [{ refType: 'FOLLOWS_FROM', traceID: traceOf(send), spanID: id(send) }])
    assert.deepEqual(
      rb.v1.get(id(process))!.references.map((r) => `${r.refType} ${r.spanID}`),
      [`FOLLOWS_FROM ${id(receive)}`, `FOLLOWS_FROM ${id(send)}`],
      `record ${i}: process follows from its receive and its send`,
    )
    assert.deepEqual(rb.v1Traces.get(traceOf(receive)), new Set([id(receive)]))
    assert.deepEqual(rb.v1Traces.get(traceOf(process)), new Set([id(process), id(charge[0]!)]))
  }
  clock(f, rb)
  pollLinks(f, rb)
})

test('a KafkaJS program on the facade, default mode in Jaeger: the same trace as the Client gives', { timeout: 120_000 }, async () => {
  const f = await flow({}, 'kafkajs')
  defaultShape(f, await readBack(f))
})

test('a KafkaJS program on the facade, link mode in Jaeger: a trace per message, linked to its exact send span', { timeout: 120_000 }, async () => {
  const f = await flow({ linkSpans: true }, 'kafkajs')
  linkShape(f, await readBack(f))
})

test('kafka-wire demo --otlp-endpoint sends its traces to Jaeger and prints a producer trace and a consumer trace linked to it', { timeout: 180_000 }, async () => {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'demo', '-b', k.bootstrapServers.join(','), '-n', '200', '--otlp-endpoint', jaeger.otlpHttpUrl], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 150_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
  assert.equal(run.code, 0, `demo failed:\n${run.stdout}\n${run.stderr}`)
  assert.match(run.stdout, new RegExp(`traces sent over OTLP to ${jaeger.otlpHttpUrl}/v1/traces`))
  const producer = /producer trace \(link mode\) +([0-9a-f]{32})/.exec(run.stdout)?.[1]
  const consumer = /linked consumer trace \(link mode\) +([0-9a-f]{32})/.exec(run.stdout)?.[1]
  assert.ok(producer && consumer, `the demo printed both trace ids:\n${run.stdout}`)
  await waitFor(async () => (await jaeger.traceV1(producer))?.spans.length === 3, 'the producer trace (checkout and two sends) in Jaeger', 10_000)
  await waitFor(async () => (await jaeger.traceV1(consumer))?.spans.length === 3, 'the consumer trace (receive, process, charge card) in Jaeger', 10_000)
  const p = (await jaeger.traceV1(producer))!
  const c = (await jaeger.traceV1(consumer))!
  const sends = new Set(p.spans.filter((s) => s.operationName.startsWith('send ')).map((s) => s.spanID))
  assert.equal(sends.size, 2)
  const receive = c.spans.find((s) => s.operationName.startsWith('receive '))!
  assert.equal(receive.references.length, 1)
  assert.equal(receive.references[0]!.refType, 'FOLLOWS_FROM')
  assert.equal(receive.references[0]!.traceID, producer)
  assert.ok(sends.has(receive.references[0]!.spanID), 'the consumer trace is linked to a send span of the producer trace')
  assert.deepEqual(
    Object.values(c.processes).map((pr) => pr.serviceName),
    ['billing'],
  )
  assert.match(run.stdout, /^throughput: produced 200 records/m)
})
