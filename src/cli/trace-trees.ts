// kotel's trace shapes, side by side: what `kafka-wire demo` prints (and examples/kotel-trace-trees.ts).
//
// For each mode (the default parent/child mode, `linkSpans: true` with its trace per record, and
// `linkSpans: true, linkedTraces: 'span'`, franz-go's trace per span), a producer client produces a few
// records inside an application span, a consumer client polls them and processes each one with
// `tracer.process`, and the spans the OpenTelemetry SDK recorded are printed as trees: one tree per
// trace, each span with its kind and duration, links shown after the span that holds them (a receive
// span lasts while its record waits in the consumer's buffer; a process span, the application's
// work). No propagator is configured: kotel falls back to W3C trace context in the record headers by
// itself. With `otlpEndpoint`, the same spans also go over OTLP/HTTP to a tracing backend (Jaeger,
// Tempo, a collector), from two services: `checkout` (the producer) and `billing` (the consumer).
//
// This module is part of the package, but the OpenTelemetry SDK it records spans with is not (kotel
// needs only the optional peer @opentelemetry/api): the demo imports it dynamically and, when the
// packages are missing, prints the command that installs them.
import { randomBytes } from 'node:crypto'
import { context, SpanKind, type Tracer as OtelTracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { Client } from '../client/client.js'
import { Kotel, Tracer, type TracerOptions } from '../kotel/index.js'
import { Admin } from '../admin/index.js'
import { startKafka } from '../testing/index.js'

/** TraceTreesOptions configure kotelTraceTrees. */
export interface TraceTreesOptions {
  /** seedBrokers of a running cluster; default: a broker from `startKafka()` (KAFKA_BOOTSTRAP, Docker or the jars). */
  seedBrokers?: string[]
  /** records is how many records each mode produces and consumes; default 2. */
  records?: number
  /** otlpEndpoint is an OTLP/HTTP base address (e.g. http://127.0.0.1:4318): the spans are exported there too. */
  otlpEndpoint?: string
}

/** ModeTraces names a mode's traces: the producer's, and each trace that holds consumer spans, in order. */
export interface ModeTraces {
  producer: string
  consumer: string[]
}

/** TraceTrees is the printed result: each mode's trees, the first two side by side, and the trace ids. */
export interface TraceTrees {
  default: string
  link: string
  /** linkPerSpan is franz-go kotel's LinkSpans shape (`linkedTraces: 'span'`). */
  linkPerSpan: string
  sideBySide: string
  traces: { default: ModeTraces; link: ModeTraces; linkPerSpan: ModeTraces }
}

/** kotelTraceTrees runs the produce → consume → process flow in each mode and renders the span trees. */
export async function kotelTraceTrees(opts: TraceTreesOptions = {}): Promise<TraceTrees> {
  const cluster = opts.seedBrokers ? undefined : await startKafka()
  const seedBrokers = opts.seedBrokers ?? cluster!.bootstrapServers
  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  try {
    const n = opts.records ?? 2
    const def = await runMode(seedBrokers, {}, n, opts.otlpEndpoint)
    const link = await runMode(seedBrokers, { linkSpans: true }, n, opts.otlpEndpoint)
    const linkPerSpan = await runMode(seedBrokers, { linkSpans: true, linkedTraces: 'span' }, n, opts.otlpEndpoint)
    return {
      default: def.trees,
      link: link.trees,
      linkPerSpan: linkPerSpan.trees,
      sideBySide: sideBySide(`default mode (linkSpans: false)\n\n${def.trees}`, `link mode (linkSpans: true)\n\n${link.trees}`),
      traces: { default: def.traces, link: link.traces, linkPerSpan: linkPerSpan.traces },
    }
  } finally {
    context.disable()
    await cluster?.stop()
  }
}

/** service is a tracer provider for one service: spans to memory (for the trees) and, given an endpoint, over OTLP. */
async function service(name: string, memory: InMemorySpanExporter, otlpEndpoint: string | undefined): Promise<BasicTracerProvider> {
  const spanProcessors: SpanProcessor[] = [new SimpleSpanProcessor(memory)]
  if (otlpEndpoint === undefined) return new BasicTracerProvider({ spanProcessors })
  // Only an OTLP backend shows the service names, so the exporter and resources load only for one.
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
  const { resourceFromAttributes } = await import('@opentelemetry/resources')
  spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/+$/, '')}/v1/traces` })))
  return new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': name }), spanProcessors })
}

async function runMode(seedBrokers: string[], mode: Pick<TracerOptions, 'linkSpans' | 'linkedTraces'>, n: number, otlpEndpoint: string | undefined): Promise<{ trees: string; traces: ModeTraces }> {
  const exporter = new InMemorySpanExporter()
  const checkout = await service('checkout', exporter, otlpEndpoint)
  const billing = await service('billing', exporter, otlpEndpoint)
  const topic = `orders-${randomBytes(4).toString('hex')}`
  const producer = new Client({ seedBrokers, clientId: 'checkout', hooks: new Kotel({ tracer: new Tracer({ tracerProvider: checkout, ...mode }) }).hooks() })
  const tracer = new Tracer({ tracerProvider: billing, ...mode })
  const app: OtelTracer = billing.getTracer('billing-app')
  let consumer: Client | undefined
  try {
    await createTopic(producer, topic)
    consumer = new Client({ seedBrokers, clientId: 'billing', consumeTopics: [topic], hooks: new Kotel({ tracer }).hooks() })
    // The application's own span: the sends are its children.
    await checkout.getTracer('checkout-app').startActiveSpan('checkout', async (span) => {
      try {
        await producer.produceSync(Array.from({ length: n }, (_, i) => ({ topic, key: `order-${i + 1}`, value: JSON.stringify({ order: i + 1 }) })))
      } finally {
        span.end()
      }
    })
    let seen = 0
    const deadline = AbortSignal.timeout(30_000)
    while (seen < n) {
      const fetches = await consumer.pollFetches({ signal: deadline })
      if (deadline.aborted) throw new Error(`only ${seen} of ${n} records came back within 30 s`)
      for (const record of fetches.records()) {
        await tracer.process(record, () =>
          // The application's work, a few milliseconds, in a span of its own inside the process span.
          app.startActiveSpan('charge card', async (span) => {
            await new Promise((r) => setTimeout(r, 5))
            span.end()
          }),
        )
        seen++
      }
    }
    await checkout.forceFlush()
    await billing.forceFlush()
    const spans = exporter.getFinishedSpans()
    return { trees: renderTrees(spans, { [topic]: 'orders' }), traces: traceIds(spans) }
  } finally {
    await consumer?.close()
    await producer.close()
    await checkout.shutdown()
    await billing.shutdown()
  }
}

/** traceIds finds the producer's trace (the one of the `checkout` span) and the others, in the order they began. */
function traceIds(spans: ReadonlyArray<ReadableSpan>): ModeTraces {
  const sorted = [...spans].sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
  const producer = sorted.find((s) => s.name === 'checkout')!.spanContext().traceId
  const consumer: string[] = []
  for (const s of sorted) {
    const id = s.spanContext().traceId
    if (s.kind === SpanKind.CONSUMER || s.kind === SpanKind.CLIENT) if (!consumer.includes(id)) consumer.push(id)
  }
  return { producer, consumer }
}

async function createTopic(client: Client, name: string): Promise<void> {
  await new Admin(client).createTopic({ name, partitions: 1 })
}

const KIND: { [k: number]: string } = { [SpanKind.INTERNAL]: 'INTERNAL', [SpanKind.SERVER]: 'SERVER', [SpanKind.CLIENT]: 'CLIENT', [SpanKind.PRODUCER]: 'PRODUCER', [SpanKind.CONSUMER]: 'CONSUMER' }

/**
 * renderTrees prints spans as one tree per trace, traces in the order they began. A span is named by
 * its name (with `rename` applied, to hide random topic names) and, for a record's span, `@offset`;
 * links follow as `⇢ <span>`, naming a span outside the exported ones by its id.
 */
export function renderTrees(spans: ReadonlyArray<ReadableSpan>, rename: { [from: string]: string } = {}): string {
  const sorted = [...spans].sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
  const label = new Map<string, string>()
  for (const s of sorted) {
    let name = s.name
    for (const [from, to] of Object.entries(rename)) name = name.split(from).join(to)
    const offset = s.attributes['messaging.kafka.offset'] ?? s.attributes['messaging.kafka.message.offset']
    label.set(s.spanContext().spanId, offset === undefined ? name : `${name} @${String(offset)}`)
  }
  const byId = new Map(sorted.map((s) => [s.spanContext().spanId, s]))
  const children = new Map<string, ReadableSpan[]>()
  const roots: ReadableSpan[] = []
  for (const s of sorted) {
    const parent = s.parentSpanContext?.spanId
    if (parent !== undefined && byId.has(parent)) {
      const list = children.get(parent) ?? []
      list.push(s)
      children.set(parent, list)
    } else roots.push(s)
  }
  const traceNo = new Map<string, number>()
  for (const s of sorted) if (!traceNo.has(s.spanContext().traceId)) traceNo.set(s.spanContext().traceId, traceNo.size + 1)
  const lines: string[] = []
  const describe = (s: ReadableSpan) => {
    const links = s.links.map((l) => label.get(l.context.spanId) ?? `span ${l.context.spanId}`)
    const parent = s.parentSpanContext?.spanId
    const remote = parent !== undefined && !byId.has(parent) ? ` (child of remote span ${parent})` : ''
    const ms = (s.duration[0] * 1e3 + s.duration[1] / 1e6).toFixed(1)
    return `${label.get(s.spanContext().spanId)} [${KIND[s.kind]}] ${ms} ms${remote}${links.length > 0 ? `  ⇢ ${links.join(', ')}` : ''}`
  }
  const walk = (s: ReadableSpan, prefix: string, last: boolean) => {
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${describe(s)}`)
    const kids = children.get(s.spanContext().spanId) ?? []
    kids.forEach((k, i) => walk(k, prefix + (last ? '   ' : '│  '), i === kids.length - 1))
  }
  let current = ''
  for (const r of roots) {
    const trace = r.spanContext().traceId
    if (trace !== current) {
      if (lines.length > 0) lines.push('')
      lines.push(`trace ${traceNo.get(trace)} (${trace.slice(0, 8)}…)`)
      current = trace
    }
    walk(r, '', true)
  }
  return lines.join('\n')
}

/** sideBySide puts two blocks of text in two columns. */
export function sideBySide(left: string, right: string, gap = 4): string {
  const l = left.split('\n')
  const r = right.split('\n')
  const width = Math.max(...l.map((x) => [...x].length)) + gap
  const rows = Math.max(l.length, r.length)
  const out: string[] = []
  for (let i = 0; i < rows; i++) {
    const a = l[i] ?? ''
    out.push(`${a}${' '.repeat(width - [...a].length)}${r[i] ?? ''}`.trimEnd())
  }
  return out.join('\n')
}
