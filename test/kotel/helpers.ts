// Helpers for kotel's tests: an OpenTelemetry SDK with in-memory exporters, a normalized form of the
// exported spans that a test can compare whole (names, kinds, parents, links, traces, attributes,
// status), and a poll loop that collects a number of records.
import { context, SpanKind, SpanStatusCode, type AttributeValue } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, MetricReader, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor, type SpanLimits, type Sampler } from '@opentelemetry/sdk-trace-base'
import type { Client } from '../../src/client/client.js'
import type { Record } from '../../src/protocol/record.js'

/** installContextManager makes context.with()/context.active() work (once per test process). */
export function installContextManager(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
}

/** CountingProcessor counts span starts and ends, to prove every started span ends exactly once. */
export class CountingProcessor implements SpanProcessor {
  started: ReadableSpan[] = []
  ended: ReadableSpan[] = []
  onStart(span: ReadableSpan): void {
    this.started.push(span)
  }
  onEnd(span: ReadableSpan): void {
    this.ended.push(span)
  }
  forceFlush(): Promise<void> {
    return Promise.resolve()
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
  reset(): void {
    this.started = []
    this.ended = []
  }
}

/** TestReader is a metric reader collected by hand. */
export class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Otel is one SDK setup: a tracer provider exporting to memory, and a meter provider read by hand. */
export interface Otel {
  exporter: InMemorySpanExporter
  counter: CountingProcessor
  tracerProvider: BasicTracerProvider
  reader: TestReader
  meterProvider: MeterProvider
  /** spans flushes and returns every finished span. */
  spans(): Promise<ReadableSpan[]>
  /** metrics collects and returns the metrics of kotel's scope, by name. */
  metrics(): Promise<Map<string, MetricData>>
  reset(): void
  shutdown(): Promise<void>
}

export function makeOtel(opts: { spanLimits?: SpanLimits; sampler?: Sampler } = {}): Otel {
  const exporter = new InMemorySpanExporter()
  const counter = new CountingProcessor()
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter), counter],
    ...(opts.spanLimits ? { spanLimits: opts.spanLimits } : {}),
    ...(opts.sampler ? { sampler: opts.sampler } : {}),
  })
  const reader = new TestReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  return {
    exporter,
    counter,
    tracerProvider,
    reader,
    meterProvider,
    async spans() {
      await tracerProvider.forceFlush()
      return exporter.getFinishedSpans()
    },
    async metrics() {
      const { resourceMetrics, errors } = await reader.collect()
      if (errors.length > 0) throw new Error(`metric collection failed: ${errors.join('; ')}`)
      return kotelMetrics(resourceMetrics)
    },
    reset() {
      exporter.reset()
      counter.reset()
    },
    async shutdown() {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
    },
  }
}

/** kotelMetrics returns the metrics of the kafka-wire/kotel scope by name (and fails on another scope). */
export function kotelMetrics(rm: ResourceMetrics): Map<string, MetricData> {
  const out = new Map<string, MetricData>()
  for (const s of rm.scopeMetrics) {
    if (s.scope.name !== 'kafka-wire/kotel') throw new Error(`unexpected metric scope ${s.scope.name}`)
    for (const m of s.metrics) {
      if (out.has(m.descriptor.name)) throw new Error(`metric ${m.descriptor.name} appears twice`)
      out.set(m.descriptor.name, m)
    }
  }
  return out
}

/** NSpan is a span reduced to what a test compares. */
export interface NSpan {
  kind: string
  /** trace names the trace by its earliest-started exported span. */
  trace: string
  /** parent is the parent's label, `remote <spanId>` when the parent was not exported, null for a root. */
  parent: string | null
  links: string[]
  attributes: { [k: string]: AttributeValue | undefined }
  status: string
}

const KIND = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const

/**
 * normalize turns exported spans into { label: NSpan }. A label is the span name, with every `replace`
 * key swapped for its value (a random topic for 'T'), plus ` @<offset>` for spans about one record.
 * Attribute values get the same replacement.
 */
export function normalize(spans: ReadonlyArray<ReadableSpan>, replace: { [from: string]: string } = {}): { [label: string]: NSpan } {
  const sub = (s: string) => {
    for (const [from, to] of Object.entries(replace)) s = s.split(from).join(to)
    return s
  }
  const labels = new Map<string, string>()
  const used = new Set<string>()
  const sorted = [...spans].sort((a, b) => cmpTime(a.startTime, b.startTime))
  for (const s of sorted) {
    const offset = s.attributes['messaging.kafka.offset'] ?? s.attributes['messaging.kafka.message.offset']
    let label = sub(s.name) + (offset !== undefined ? ` @${String(offset)}` : '')
    if (used.has(label)) {
      let i = 2
      while (used.has(`${label} #${i}`)) i++
      label = `${label} #${i}`
    }
    used.add(label)
    labels.set(s.spanContext().spanId, label)
  }
  const traceRoot = new Map<string, string>()
  for (const s of sorted) if (!traceRoot.has(s.spanContext().traceId)) traceRoot.set(s.spanContext().traceId, labels.get(s.spanContext().spanId)!)
  const ref = (spanId: string) => labels.get(spanId) ?? `remote ${spanId}`
  const out: { [label: string]: NSpan } = {}
  for (const s of sorted) {
    const attributes: NSpan['attributes'] = {}
    for (const [k, v] of Object.entries(s.attributes)) attributes[k] = typeof v === 'string' ? sub(v) : v
    out[labels.get(s.spanContext().spanId)!] = {
      kind: KIND[s.kind]!,
      trace: traceRoot.get(s.spanContext().traceId)!,
      parent: s.parentSpanContext === undefined ? null : ref(s.parentSpanContext.spanId),
      links: s.links.map((l) => ref(l.context.spanId)),
      attributes,
      status: s.status.code === SpanStatusCode.ERROR ? `ERROR: ${s.status.message ?? ''}` : s.status.code === SpanStatusCode.OK ? 'OK' : 'UNSET',
    }
  }
  return out
}

function cmpTime(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1]
}

/** byName returns the one span with this name (failing when there are none or several). */
export function byName(spans: ReadonlyArray<ReadableSpan>, name: string): ReadableSpan {
  const hits = spans.filter((s) => s.name === name)
  if (hits.length !== 1) throw new Error(`expected one span named ${name}, found ${hits.length} among ${spans.map((s) => s.name).join(', ')}`)
  return hits[0]!
}

/** pollN polls until `n` records arrived (failing after `timeoutMs`) and returns them in order. */
export async function pollN(c: Client, n: number, timeoutMs = 20_000): Promise<Record[]> {
  const deadline = Date.now() + timeoutMs
  const out: Record[] = []
  while (out.length < n) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms with ${out.length} of ${n} records`)
    const f = await c.pollFetches({ signal: AbortSignal.timeout(left) })
    for (const e of f.errors()) if (e.partition >= 0) throw e.error
    out.push(...f.records())
  }
  return out
}

/** maskTrees hides what changes between runs in rendered trace trees: durations and trace ids. */
export const maskTrees = (s: string) => s.replace(/ \d+\.\d ms/g, ' N ms').replace(/\([0-9a-f]{8}…\)/g, '(…)')

/** LINK_MODE_TREES is link mode's trees for two records (masked): the producer's trace, then a trace per record linked to its send. */
export const LINK_MODE_TREES = [
  'trace 1 (…)',
  '└─ checkout [INTERNAL] N ms',
  '   ├─ send orders @0 [PRODUCER] N ms',
  '   └─ send orders @1 [PRODUCER] N ms',
  '',
  'trace 2 (…)',
  '└─ receive orders @0 [CLIENT] N ms  ⇢ send orders @0',
  '   └─ process orders @0 [CONSUMER] N ms  ⇢ send orders @0',
  '      └─ charge card [INTERNAL] N ms',
  '',
  'trace 3 (…)',
  '└─ receive orders @1 [CLIENT] N ms  ⇢ send orders @1',
  '   └─ process orders @1 [CONSUMER] N ms  ⇢ send orders @1',
  '      └─ charge card [INTERNAL] N ms',
].join('\n')

export { SpanKind }
