// The Tracer driven through its hooks with records made here (no broker), for what a broker cannot
// easily be made to do: every error type, odd keys, throwing user hooks, samplers that drop spans,
// span limits, propagator and conventions resolution, empty and multi-topic polls.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, afterEach, before, test } from 'node:test'
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Context, type TextMapPropagator } from '@opentelemetry/api'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { ProduceRecord, Record } from '../../src/protocol/record.js'
import { Kotel, Meter, Tracer, VERSION, type TracerOptions } from '../../src/kotel/index.js'
import { resolveSemconv } from '../../src/kotel/semconv.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { byName, installContextManager, makeOtel, normalize, type Otel } from './helpers.js'

const otel: Otel = makeOtel()

before(installContextManager)
afterEach(() => otel.reset())
after(() => otel.shutdown())

function tracer(opts: TracerOptions = {}): Tracer {
  return new Tracer({ tracerProvider: otel.tracerProvider, ...opts })
}

/** produce runs a record through the producer hooks: buffered, then settled at partition 0 / offset. */
function produce(t: Tracer, record: ProduceRecord, outcome: { offset?: bigint; err?: Error | null; partition?: number } = {}): ProduceRecord {
  t.onProduceRecordBuffered(record)
  if (outcome.partition !== -1) record.partition = outcome.partition ?? record.partition ?? 0
  if (!outcome.err) record.offset = outcome.offset ?? 0n
  t.onProduceRecordUnbuffered(record, outcome.err ?? null)
  return record
}

/** fetched makes the consumed copy of a produced record, as the broker would return it. */
function fetched(r: ProduceRecord, offset = r.offset ?? 0n): Record {
  const bytes = (v: Buffer | string | null | undefined) => (v === null || v === undefined ? null : Buffer.from(v))
  return {
    topic: r.topic,
    partition: r.partition ?? 0,
    key: bytes(r.key),
    value: bytes(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: bytes(h.value) })),
    timestamp: 0,
    offset,
    leaderEpoch: -1,
    producerId: -1n,
    producerEpoch: -1,
  }
}

/** poll runs records through a poll: start, each handed out, then lets the poll complete. */
async function poll(t: Tracer, records: Record[]): Promise<void> {
  t.onPollStart(undefined)
  for (const r of records) t.onFetchRecordUnbuffered(r, true)
  await new Promise((r) => setImmediate(r))
}

const headerText = (r: { headers?: Array<{ key: string; value: Buffer | string | null }> }) => (r.headers ?? []).map((h) => [h.key, h.value?.toString() ?? null])

test('the scope is kafka-wire/kotel at the package version with the flavour schema; a tracer built before the global provider records once it is set', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(VERSION, pkg.version)
  // Built first, with no tracerProvider: the API's proxy provider delegates once an SDK registers.
  const early = { new: new Tracer(), old: new Tracer({ semconv: 'old' }) }
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  assert.ok(trace.setGlobalTracerProvider(provider))
  try {
    produce(early.new, { topic: 't', value: 'v' })
    produce(early.old, { topic: 't', value: 'v' })
    await provider.forceFlush()
    assert.deepEqual(
      exporter.getFinishedSpans().map((s) => [s.name, s.instrumentationScope]),
      [
        ['send t', { name: 'kafka-wire/kotel', version: pkg.version, schemaUrl: 'https://opentelemetry.io/schemas/1.44.0' }],
        ['t publish', { name: 'kafka-wire/kotel', version: pkg.version, schemaUrl: 'https://opentelemetry.io/schemas/1.18.0' }],
      ],
    )
  } finally {
    trace.disable()
    await provider.shutdown()
  }
})

test('propagation with no setup uses W3C trace context; a registered global is used instead; null writes and reads nothing', async () => {
  // No global propagator: traceparent, so that consumers connect (franz-go #624).
  const t = tracer()
  const r = produce(t, { topic: 't', value: 'v' })
  const send = trace.getSpan(r.context as Context)!.spanContext()
  assert.deepEqual(headerText(r), [['traceparent', `00-${send.traceId}-${send.spanId}-01`]])

  // A global propagator (here a dummy that writes the ids in two headers) wins once registered.
  const dummy: TextMapPropagator = {
    inject(ctx, carrier, setter) {
      const sc = trace.getSpanContext(ctx)!
      setter.set(carrier, 'x-dummy-trace-id', sc.traceId)
      setter.set(carrier, 'x-dummy-span-id', sc.spanId)
    },
    extract(ctx, carrier, getter) {
      const traceId = getter.get(carrier, 'x-dummy-trace-id') as string | undefined
      const spanId = getter.get(carrier, 'x-dummy-span-id') as string | undefined
      return traceId && spanId ? trace.setSpanContext(ctx, { traceId, spanId, traceFlags: 1, isRemote: true }) : ctx
    },
    fields: () => ['x-dummy-trace-id', 'x-dummy-span-id'],
  }
  propagation.setGlobalPropagator(dummy)
  try {
    const d = produce(t, { topic: 't', value: 'v' })
    const dsc = trace.getSpan(d.context as Context)!.spanContext()
    assert.deepEqual(headerText(d), [
      ['x-dummy-trace-id', dsc.traceId],
      ['x-dummy-span-id', dsc.spanId],
    ])
    const rec = fetched(d)
    t.onFetchRecordBuffered(rec)
    t.onFetchRecordUnbuffered(rec, true)
  } finally {
    propagation.disable()
  }
  // propagator: null: no header written, and an existing traceparent is not read.
  const off = tracer({ propagator: null })
  const n = produce(off, { topic: 't', value: 'v' })
  assert.equal(n.headers, undefined)
  const withHeader = fetched(r)
  off.onFetchRecordBuffered(withHeader)
  off.onFetchRecordUnbuffered(withHeader, true)

  const spans = await otel.spans()
  const receives = spans.filter((s) => s.name === 'receive t')
  assert.equal(receives.length, 2)
  assert.equal(receives[0]!.parentSpanContext?.spanId, spans[1]!.spanContext().spanId, 'the dummy-propagated receive span is a child of its send span')
  assert.equal(receives[1]!.parentSpanContext, undefined, 'with propagator null the receive span is a root')
})

test('Kotel.hooks() is [], [tracer], [meter] or [tracer, meter]', () => {
  const t = tracer()
  const m = new Meter({ meterProvider: otel.meterProvider })
  assert.deepEqual(new Kotel().hooks(), [])
  assert.deepEqual(new Kotel({}).hooks(), [])
  const onlyT = new Kotel({ tracer: t }).hooks()
  assert.equal(onlyT.length, 1)
  assert.equal(onlyT[0], t)
  const onlyM = new Kotel({ meter: m }).hooks()
  assert.equal(onlyM.length, 1)
  assert.equal(onlyM[0], m)
  const both = new Kotel({ tracer: t, meter: m }).hooks()
  assert.equal(both.length, 2)
  assert.equal(both[0], t)
  assert.equal(both[1], m)
})

test('semconv flavour: the option, else OTEL_SEMCONV_STABILITY_OPT_IN (messaging/dup wins), else new', () => {
  assert.equal(resolveSemconv(undefined, undefined), 'new')
  assert.equal(resolveSemconv(undefined, ''), 'new')
  assert.equal(resolveSemconv(undefined, 'messaging'), 'new')
  assert.equal(resolveSemconv(undefined, 'messaging/dup'), 'dup')
  assert.equal(resolveSemconv(undefined, 'http, messaging , MESSAGING/DUP'), 'dup')
  assert.equal(resolveSemconv(undefined, 'http/dup'), 'new')
  assert.equal(resolveSemconv('old', 'messaging/dup'), 'old')
  assert.equal(resolveSemconv('new', 'messaging/dup'), 'new')
  assert.throws(() => resolveSemconv('v2' as never, undefined), /semconv must be 'old', 'new' or 'dup'/)
  assert.equal(new Tracer({ semconv: 'dup' }).semconv, 'dup')
})

test('the send span is record.context after the buffered hook, started with the sampling-relevant attributes', async () => {
  const t = tracer({ clientId: 'cid' })
  const r: ProduceRecord = { topic: 't', key: 'k', value: 'v', partition: 3 }
  t.onProduceRecordBuffered(r)
  const started = otel.counter.started
  assert.equal(started.length, 1)
  assert.equal(trace.getSpan(r.context as Context)?.spanContext().spanId, started[0]!.spanContext().spanId)
  // What samplers and onStart see: everything known before the record is sent.
  assert.deepEqual(started[0]!.attributes, {
    'messaging.system': 'kafka',
    'messaging.destination.name': 't',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
    'messaging.destination.partition.id': '3',
    'messaging.kafka.message.key': 'k',
    'messaging.client.id': 'cid',
  })
  r.offset = 41n
  t.onProduceRecordUnbuffered(r, null)
  const [span] = await otel.spans()
  assert.equal(span!.attributes['messaging.kafka.offset'], 41)
  assert.equal(span!.attributes['messaging.destination.partition.id'], '3')
})

test("the send span's parent is record.context when set, else the context active on the caller's stack", async () => {
  const t = tracer()
  const app = otel.tracerProvider.getTracer('app')
  const active = app.startSpan('active')
  const given = app.startSpan('given')
  context.with(trace.setSpan(context.active(), active), () => {
    produce(t, { topic: 't', value: 'from the active context' })
    produce(t, { topic: 't', value: 'from record.context', context: trace.setSpan(ROOT_CONTEXT, given) }, { offset: 1n })
  })
  produce(t, { topic: 't', value: 'no context at all' }, { offset: 2n })
  active.end()
  given.end()
  const tree = normalize(await otel.spans())
  assert.deepEqual(
    Object.fromEntries(Object.entries(tree).map(([l, s]) => [l, s.parent])),
    { active: null, given: null, 'send t @0': 'active', 'send t @1': 'given', 'send t @2': null },
  )
})

test('keys and tombstones: null keys, tombstones, invalid UTF-8, empty keys and the keyFormatter', async () => {
  const cases: Array<[string, ProduceRecord, TracerOptions, { key?: string; tombstone?: true }]> = [
    ['string key', { topic: 't', key: 'k', value: 'v' }, {}, { key: 'k' }],
    ['tombstone', { topic: 't', key: 'k', value: null }, {}, { key: 'k', tombstone: true }],
    ['null key and value', { topic: 't', key: null, value: null }, {}, {}],
    ['no key', { topic: 't', value: null }, {}, {}],
    ['invalid UTF-8', { topic: 't', key: Buffer.from([0xff, 0xfe]), value: 'v' }, {}, {}],
    ['bytes key', { topic: 't', key: Buffer.from('ключ'), value: 'v' }, {}, { key: 'ключ' }],
    ['empty key', { topic: 't', key: '', value: 'v' }, {}, { key: '' }],
    ['formatter', { topic: 't', key: Buffer.from([0xff]), value: 'v' }, { keyFormatter: (r) => Buffer.from(r.key as Buffer).toString('hex') }, { key: 'ff' }],
    ['formatter undefined', { topic: 't', key: 'k', value: 'v' }, { keyFormatter: () => undefined }, {}],
    ['formatter throws', { topic: 't', key: 'k', value: 'v' }, { keyFormatter: () => { throw new Error('no') } }, {}],
    ['formatter lone surrogate', { topic: 't', key: 'k', value: 'v' }, { keyFormatter: () => '\ud800' }, {}],
    ['formatter on a null key', { topic: 't', key: null, value: 'v' }, { keyFormatter: () => 'never' }, {}],
  ]
  for (const [what, record, opts, want] of cases) {
    otel.reset()
    for (const semconv of ['new', 'old'] as const) produce(tracer({ ...opts, semconv }), { ...record })
    const spans = await otel.spans()
    assert.equal(spans.length, 2, what)
    for (const s of spans) {
      const got: { key?: string; tombstone?: true } = {}
      const key = s.attributes['messaging.kafka.message.key']
      if (key !== undefined) got.key = key as string
      if (s.attributes['messaging.kafka.message.tombstone'] !== undefined) got.tombstone = s.attributes['messaging.kafka.message.tombstone'] as true
      assert.deepEqual(got, want, `${what} (${s.name})`)
    }
  }
})

test('a failed send: status ERROR with the message, error.type by Kafka code, class name or _OTHER, one exception event, ended once', async () => {
  const cases: Array<[unknown, string]> = [
    [new KafkaProtocolError(19, { topic: 't', partition: 0 }), 'NOT_ENOUGH_REPLICAS'],
    [new Error('plain'), 'Error'],
    [new TypeError('typed'), 'TypeError'],
    ['a string', '_OTHER'],
  ]
  const t = tracer()
  for (const [err] of cases) {
    const r = produce(t, { topic: 't', value: 'v' }, { err: err as Error })
    t.onProduceRecordUnbuffered(r, err as Error) // a second settle must not end the span again
  }
  const spans = await otel.spans()
  assert.equal(otel.counter.started.length, cases.length)
  assert.equal(otel.counter.ended.length, cases.length, 'each span ended exactly once')
  spans.forEach((s, i) => {
    const [err, type] = cases[i]!
    const message = err instanceof Error ? err.message : String(err)
    assert.deepEqual(s.status, { code: SpanStatusCode.ERROR, message })
    assert.equal(s.attributes['error.type'], type)
    assert.equal(s.attributes['messaging.kafka.offset'], undefined, 'no offset for a failed record')
    assert.deepEqual(s.events.map((e) => [e.name, e.attributes?.['exception.message']]), [['exception', message]])
  })
  assert.match(spans[0]!.status.message!, /^NOT_ENOUGH_REPLICAS \(t\[0\]\)/)

  // 'old' is kotel's: status and exception event, but no error.type; recordException: false drops the event.
  otel.reset()
  produce(tracer({ semconv: 'old' }), { topic: 't', value: 'v' }, { err: new Error('old') })
  produce(tracer({ recordException: false }), { topic: 't', value: 'v' }, { err: new Error('quiet') })
  const [old, quiet] = await otel.spans()
  assert.deepEqual([old!.status.code, old!.attributes['error.type'], old!.events.length], [SpanStatusCode.ERROR, undefined, 1])
  assert.deepEqual([quiet!.status.code, quiet!.attributes['error.type'], quiet!.events.length], [SpanStatusCode.ERROR, 'Error', 0])
})

test('records to two topics: each record carries its own span in its header', async () => {
  const t = tracer()
  const rs = [produce(t, { topic: 'a', value: '1' }), produce(t, { topic: 'b', value: '2' }), produce(t, { topic: 'a', value: '3' }, { offset: 1n })]
  const spans = await otel.spans()
  assert.deepEqual(
    spans.map((s) => s.name),
    ['send a', 'send b', 'send a'],
  )
  rs.forEach((r, i) => {
    const sc = spans[i]!.spanContext()
    assert.deepEqual(headerText(r), [['traceparent', `00-${sc.traceId}-${sc.spanId}-01`]])
  })
  assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 3, 'without an active span each send starts its own trace')
})

test('baggage crosses Kafka with a baggage propagator and survives the new roots of link mode', async () => {
  const w3c = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] })
  for (const linkSpans of [false, true]) {
    const t = tracer({ propagator: w3c, linkSpans })
    const bag = propagation.createBaggage({ tenant: { value: 'acme' } })
    const r = context.with(propagation.setBaggage(context.active(), bag), () => produce(t, { topic: 't', value: 'v' }))
    assert.deepEqual(headerText(r).map(([k]) => k), ['traceparent', 'baggage'])
    const rec = fetched(r)
    t.onFetchRecordBuffered(rec)
    assert.equal(propagation.getBaggage(rec.context as Context)?.getEntry('tenant')?.value, 'acme', `receive, linkSpans ${linkSpans}`)
    t.onFetchRecordUnbuffered(rec, true)
    const seen = await t.process(rec, () => propagation.getBaggage(context.active())?.getEntry('tenant')?.value)
    assert.equal(seen, 'acme', `process, linkSpans ${linkSpans}`)
  }
})

test('a record without trace headers gets a root receive span and no links, in every mode', async () => {
  const modes: Array<[TracerOptions, object]> = [
    [{}, { 'receive t @0': [null, []], 'process t @0': ['receive t @0', []] }],
    [{ linkSpans: true }, { 'receive t @0': [null, []], 'process t @0': ['receive t @0', []] }],
    [{ linkSpans: true, linkedTraces: 'span' }, { 'receive t @0': [null, []], 'process t @0': [null, ['receive t @0']] }],
  ]
  for (const [opts, want] of modes) {
    otel.reset()
    const t = tracer(opts)
    const rec = fetched({ topic: 't', value: 'v', headers: [{ key: 'other', value: 'x' }] })
    t.onFetchRecordBuffered(rec)
    t.onFetchRecordUnbuffered(rec, true)
    await t.process(rec, () => {})
    const tree = normalize(await otel.spans())
    assert.deepEqual(Object.fromEntries(Object.entries(tree).map(([l, s]) => [l, [s.parent, s.links]])), want, JSON.stringify(opts))
  }
})

test('linkedTraces accepts only record and span', () => {
  assert.equal(tracer({ linkSpans: true }).linkedTraces, 'record')
  assert.equal(tracer({ linkSpans: true, linkedTraces: 'span' }).linkedTraces, 'span')
  assert.throws(() => tracer({ linkedTraces: 'trace' as 'span' }), (e: unknown) => e instanceof TypeError && /linkedTraces must be 'record' or 'span', got "trace"/.test(e.message))
})

test('process(): fn runs in the span context, its result passes through, a throw marks the span and is rethrown unchanged', async () => {
  const t = tracer()
  const rec = fetched(produce(t, { topic: 't', value: 'v' }))
  t.onFetchRecordBuffered(rec)
  t.onFetchRecordUnbuffered(rec, true)
  const before = rec.context
  const spanIds: string[] = []
  assert.equal(await t.process(rec, async () => {
    await new Promise((r) => setImmediate(r))
    spanIds.push(trace.getSpan(context.active())!.spanContext().spanId)
    return 'result'
  }), 'result')
  const boom = new RangeError('boom')
  await assert.rejects(t.process(rec, () => Promise.reject(boom)), (e) => e === boom)
  const odd = { not: 'an error' }
  await assert.rejects(t.process(rec, () => { throw odd }), (e) => e === odd)
  assert.equal(rec.context, before, 'record.context is left alone')
  // processSpan(): end() twice ends once; end(undefined) still counts as a failure.
  const ps = t.processSpan(rec)
  ps.end(undefined)
  ps.end()
  const spans = (await otel.spans()).filter((s) => s.name === 'process t')
  assert.equal(spans.length, 4)
  assert.equal(spans[0]!.spanContext().spanId, spanIds[0])
  assert.deepEqual(
    spans.map((s) => [s.status.code, s.status.message, s.attributes['error.type']]),
    [
      [SpanStatusCode.UNSET, undefined, undefined],
      [SpanStatusCode.ERROR, 'boom', 'RangeError'],
      [SpanStatusCode.ERROR, '[object Object]', 'Object'],
      [SpanStatusCode.ERROR, 'undefined', '_OTHER'],
    ],
  )
  const receive = byName(await otel.spans(), 'receive t')
  for (const s of spans) assert.equal(s.parentSpanContext?.spanId, receive.spanContext().spanId)
})

test('without receive spans the process span is a child of the producer span (default mode), or a root linked to it (link mode)', async () => {
  for (const linkSpans of [false, true]) {
    otel.reset()
    const t = tracer({ receiveSpans: false, linkSpans })
    const rec = fetched(produce(t, { topic: 't', value: 'v' }))
    t.onFetchRecordBuffered(rec)
    t.onFetchRecordUnbuffered(rec, true)
    await t.process(rec, () => {})
    // A parent context without a span keeps its values and is still placed by the mode.
    const key = Symbol('app value')
    const ps = t.processSpan(rec, { parent: ROOT_CONTEXT.setValue(key, 'kept') })
    assert.equal(ps.context.getValue(key), 'kept')
    ps.end()
    const tree = normalize(await otel.spans())
    assert.deepEqual(
      Object.fromEntries(Object.entries(tree).map(([l, s]) => [l, [s.parent, s.links]])),
      linkSpans
        ? { 'send t @0': [null, []], 'process t @0': [null, ['send t @0']], 'process t @0 #2': [null, ['send t @0']] }
        : { 'send t @0': [null, []], 'process t @0': ['send t @0', []], 'process t @0 #2': ['send t @0', []] },
      `linkSpans ${linkSpans}`,
    )
  }
})

test('poll spans: off by default, "poll" without a destination across topics, none for an empty poll, none in old, links capped by the span limit', async () => {
  const src = tracer()
  const recs = [fetched(produce(src, { topic: 'a', value: '1' })), fetched(produce(src, { topic: 'b', value: '2' }))]
  otel.reset()
  await poll(tracer(), recs)
  assert.deepEqual((await otel.spans()).map((s) => s.name), [], 'pollSpans defaults to false')

  const t = tracer({ pollSpans: true, receiveSpans: false })
  for (const r of recs) t.onFetchRecordBuffered(r)
  await poll(t, recs)
  await poll(t, []) // an empty poll
  await poll(tracer({ pollSpans: true, semconv: 'old' }), recs)
  const spans = await otel.spans()
  assert.deepEqual(
    spans.map((s) => [s.name, s.kind, s.attributes['messaging.destination.name'], s.attributes['messaging.batch.message_count'], s.links.length]),
    [['poll', 2, undefined, 2, 2]],
  )

  // linkCountLimit: the SDK keeps the first links and counts the rest as dropped.
  const limited = makeOtel({ spanLimits: { linkCountLimit: 3 } })
  const lt = new Tracer({ tracerProvider: limited.tracerProvider, pollSpans: true })
  const many = Array.from({ length: 5 }, (_, i) => fetched(produce(src, { topic: 'a', value: String(i) }, { offset: BigInt(i) })))
  for (const r of many) lt.onFetchRecordBuffered(r)
  await poll(lt, many)
  const p = byName(await limited.spans(), 'poll a')
  assert.deepEqual([p.links.length, p.droppedLinksCount, p.attributes['messaging.batch.message_count']], [3, 2, 5])
  // (This SDK keeps the latest links.)
  assert.deepEqual(p.links.map((l) => l.attributes?.['messaging.kafka.offset']), [2, 3, 4])
  await limited.shutdown()
})

test('throwing producerHook, consumerHook and keyFormatter: the spans still end with status UNSET', async () => {
  const boom = () => {
    throw new Error('user hook')
  }
  const t = tracer({ producerHook: boom, consumerHook: boom, keyFormatter: boom })
  const r = produce(t, { topic: 't', key: 'k', value: 'v' })
  const rec = fetched(r)
  t.onFetchRecordBuffered(rec)
  t.onFetchRecordUnbuffered(rec, true)
  await t.process(rec, () => {})
  const spans = await otel.spans()
  assert.deepEqual(
    spans.map((s) => [s.name, s.status.code, s.attributes['messaging.kafka.message.key']]),
    [
      ['send t', SpanStatusCode.UNSET, undefined],
      ['receive t', SpanStatusCode.UNSET, undefined],
      ['process t', SpanStatusCode.UNSET, undefined],
    ],
  )
  // And hooks that work see the span and the record.
  otel.reset()
  const seen: string[] = []
  const ok = tracer({ producerHook: (span, rec) => { span.setAttribute('app.hook', rec.topic); seen.push('producer') }, consumerHook: (span) => { span.setAttribute('app.hook', 'consumer'); seen.push('consumer') } })
  const r2 = produce(ok, { topic: 't', value: 'v' })
  const rec2 = fetched(r2)
  ok.onFetchRecordBuffered(rec2)
  ok.onFetchRecordUnbuffered(rec2, true)
  ok.processSpan(rec2).end()
  assert.deepEqual(seen, ['producer', 'consumer', 'consumer'])
  assert.deepEqual((await otel.spans()).map((s) => s.attributes['app.hook']), ['t', 'consumer', 'consumer'])
})

test('an AlwaysOff sampler exports nothing, yet the header carries flags 00 and the consumer still continues the trace', async () => {
  const off = makeOtel({ sampler: new AlwaysOffSampler() })
  const producerSide = new Tracer({ tracerProvider: off.tracerProvider })
  const r = produce(producerSide, { topic: 't', value: 'v' })
  assert.deepEqual(await off.spans(), [])
  const sc = trace.getSpan(r.context as Context)!.spanContext()
  assert.deepEqual(headerText(r), [['traceparent', `00-${sc.traceId}-${sc.spanId}-00`]])
  await off.shutdown()
  for (const linkSpans of [false, true]) {
    otel.reset()
    const consumerSide = tracer({ linkSpans })
    const rec = fetched(r)
    consumerSide.onFetchRecordBuffered(rec)
    consumerSide.onFetchRecordUnbuffered(rec, true)
    const spans = await otel.spans()
    // The default (parent-based) sampler follows the unsampled parent: nothing exported in default
    // mode; a new root in link mode is sampled on its own and links to the unsampled producer span.
    if (!linkSpans) assert.deepEqual(spans, [])
    else assert.deepEqual(spans.map((s) => [s.parentSpanContext, s.links.map((l) => [l.context.spanId, l.context.traceFlags])]), [[undefined, [[sc.spanId, 0]]]])
  }
})

test('no leaks: every span started across produce, failures, fetch, drops, polls and processing is ended', async () => {
  const t = tracer({ pollSpans: true })
  produce(t, { topic: 't', value: 'ok' })
  produce(t, { topic: 't', value: 'failed' }, { err: new Error('x') })
  // A record that fails validation before it is an object: no span at all.
  t.onProduceRecordBuffered(null as unknown as ProduceRecord)
  t.onProduceRecordUnbuffered(null as unknown as ProduceRecord, new Error('invalid'))
  const recs = [0n, 1n, 2n].map((o) => fetched(produce(t, { topic: 't', value: 'v' }, { offset: o }), o))
  for (const r of recs) t.onFetchRecordBuffered(r)
  await poll(t, recs.slice(0, 2))
  t.onFetchRecordUnbuffered(recs[2]!, false) // dropped
  await t.process(recs[0]!, () => {})
  await t.process(recs[1]!, () => Promise.reject(new Error('x'))).catch(() => {})
  assert.ok(otel.counter.started.length >= 11)
  assert.equal(otel.counter.ended.length, otel.counter.started.length)
  assert.equal(new Set(otel.counter.ended).size, otel.counter.ended.length, 'no span ended twice')
})

test('recordBodySize sets messaging.message.body.size on send, receive and process spans', async () => {
  const t = tracer({ recordBodySize: true })
  const rec = fetched(produce(t, { topic: 't', value: 'héllo' }))
  t.onFetchRecordBuffered(rec)
  t.onFetchRecordUnbuffered(rec, true)
  t.processSpan(rec).end()
  produce(t, { topic: 't', key: 'k', value: null })
  assert.deepEqual((await otel.spans()).map((s) => s.attributes['messaging.message.body.size']), [6, 6, 6, undefined])
})
