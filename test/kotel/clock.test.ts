// kotel's spans on the OpenTelemetry SDK's clock (no broker): a send the application awaited lies inside
// the application's span, the application's spans lie inside the process span that ran them, a poll
// span inside the span that awaited the poll — compared exactly, in nanoseconds, over hundreds of spans
// whose starts straddle millisecond ticks (where the SDK's clock, anchored at whole milliseconds of the
// wall clock, and a monotonic clock disagree), and with the wall clock 40 ms away from
// `performance.timeOrigin + performance.now()` (as after a long uptime or an NTP step).
import assert from 'node:assert/strict'
import { after, afterEach, before, test, type TestContext } from 'node:test'
import { context, trace, type HrTime } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { ProduceRecord, Record } from '../../src/protocol/record.js'
import { Kotel, Meter, Tracer, type TracerOptions } from '../../src/kotel/index.js'
import { installContextManager, makeOtel, type Otel } from './helpers.js'

const otel: Otel = makeOtel()

before(installContextManager)
afterEach(() => otel.reset())
after(() => otel.shutdown())

const app = () => otel.tracerProvider.getTracer('app')
const ns = (t: HrTime) => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])
const ms = (d: bigint) => Number(d) / 1e6

/** pause waits a moment that varies from none to about 2 ms, so span starts land on both sides of ticks. */
function pause(i: number): Promise<void> {
  const k = i % 4
  if (k === 0) return Promise.resolve()
  if (k === 1) return new Promise((r) => setImmediate(r))
  return new Promise((r) => setTimeout(r, k - 1))
}

interface Nesting {
  pairs: number
  /** crossed counts pairs whose child started in a later wall-clock millisecond than its parent. */
  crossed: number
  /** minEndSlack is the smallest parent.end − child.end seen, in ms. */
  minEndSlack: number
}

/** nested checks that each child lies inside its parent, exactly, and returns the figures. */
function nested(spans: ReadonlyArray<ReadableSpan>, isChild: (s: ReadableSpan) => boolean, what: string): Nesting {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
  const out: Nesting = { pairs: 0, crossed: 0, minEndSlack: Infinity }
  for (const child of spans.filter(isChild)) {
    const parent = byId.get(child.parentSpanContext?.spanId ?? '')
    assert.ok(parent, `${what}: ${child.name} has its parent among the spans`)
    const startGap = ns(child.startTime) - ns(parent.startTime)
    const endSlack = ns(parent.endTime) - ns(child.endTime)
    assert.ok(startGap >= 0n, `${what}: ${child.name} starts ${ms(-startGap)} ms before its parent ${parent.name}`)
    assert.ok(endSlack >= 0n, `${what}: ${child.name} ends ${ms(-endSlack)} ms after its parent ${parent.name}`)
    out.pairs++
    if (Math.floor(ms(ns(child.startTime))) > Math.floor(ms(ns(parent.startTime)))) out.crossed++
    out.minEndSlack = Math.min(out.minEndSlack, ms(endSlack))
  }
  return out
}

function report(t: TestContext, what: string, n: Nesting): void {
  t.diagnostic(`${what}: ${n.pairs} pairs nested exactly; ${n.crossed} children started in a later millisecond than their parent; smallest end slack ${n.minEndSlack.toFixed(4)} ms`)
}

/** fetched makes the consumed copy of a produced record. */
function fetched(r: ProduceRecord, offset: bigint): Record {
  return {
    topic: r.topic,
    partition: 0,
    key: null,
    value: Buffer.from('v'),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
    timestamp: 0,
    offset,
    leaderEpoch: -1,
    producerId: -1n,
    producerEpoch: -1,
  }
}

/** sendInside produces one record inside an application span that awaits it, as `await client.produce()` does. */
async function sendInside(t: Tracer, i: number): Promise<ProduceRecord> {
  return app().startActiveSpan('app', async (span) => {
    await pause(i)
    const r: ProduceRecord = { topic: 't', value: 'v' }
    t.onProduceRecordBuffered(r)
    await pause(i + 1)
    r.partition = 0
    r.offset = BigInt(i)
    t.onProduceRecordUnbuffered(r, null)
    span.end()
    return r
  })
}

/** handle is the application's work on a record: spans of its own, started and ended at varying moments. */
async function handle(i: number): Promise<void> {
  await pause(i)
  await app().startActiveSpan('handle', async (span) => {
    await pause(i + 1)
    app().startSpan('step').end()
    await pause(i + 2)
    span.end()
  })
}

test('a send the application awaited ends inside the application span, exactly, and starts inside it', async (t) => {
  const tracer = new Tracer({ tracerProvider: otel.tracerProvider })
  for (let i = 0; i < 200; i++) await sendInside(tracer, i)
  const spans = await otel.spans()
  const n = nested(spans, (s) => s.name === 'send t', 'send in app')
  assert.equal(n.pairs, 200)
  assert.ok(n.crossed > 0, 'some sends started in a later millisecond than their application span (the case the clocks disagree on)')
  report(t, 'send inside app', n)
})

const consumerModes: Array<[string, TracerOptions]> = [
  ['default mode', {}],
  ['linkSpans (a trace per record)', { linkSpans: true }],
  ["linkSpans, linkedTraces: 'span'", { linkSpans: true, linkedTraces: 'span' }],
  ['without receive spans', { receiveSpans: false }],
]

for (const [name, opts] of consumerModes) {
  test(`${name}: the application's spans lie inside the process span that ran them, exactly`, async (t) => {
    const producer = new Tracer({ tracerProvider: otel.tracerProvider })
    const consumer = new Tracer({ tracerProvider: otel.tracerProvider, ...opts })
    for (let i = 0; i < 150; i++) {
      const r: ProduceRecord = { topic: 't', value: 'v', partition: 0 }
      producer.onProduceRecordBuffered(r)
      r.offset = BigInt(i)
      producer.onProduceRecordUnbuffered(r, null)
      const rec = fetched(r, BigInt(i))
      consumer.onFetchRecordBuffered(rec)
      consumer.onFetchRecordUnbuffered(rec, true)
      await consumer.process(rec, () => handle(i))
    }
    const spans = await otel.spans()
    const n = nested(spans, (s) => s.name === 'handle', `handle in process, ${name}`)
    assert.equal(n.pairs, 150)
    assert.ok(n.crossed > 0, 'some application spans started in a later millisecond than their process span')
    report(t, `handle inside process (${name})`, n)
    // For comparison, the SDK's own spans: each anchored at its own whole millisecond, a child that
    // started after a tick can end after its parent (only kotel's pairs are asserted).
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
    const steps = spans.filter((s) => s.name === 'step')
    const overhang = steps.filter((s) => ns(s.endTime) > ns(byId.get(s.parentSpanContext!.spanId)!.endTime)).length
    t.diagnostic(`the SDK's own step-in-handle pairs: ${overhang} of ${steps.length} end after their parent`)
  })
}

test('a process span given a running parent lies inside it exactly; a poll span inside the span that awaited the poll', async (t) => {
  const producer = new Tracer({ tracerProvider: otel.tracerProvider })
  const consumer = new Tracer({ tracerProvider: otel.tracerProvider, pollSpans: true })
  for (let i = 0; i < 150; i++) {
    const r: ProduceRecord = { topic: 't', value: 'v', partition: 0 }
    producer.onProduceRecordBuffered(r)
    r.offset = BigInt(i)
    producer.onProduceRecordUnbuffered(r, null)
    const rec = fetched(r, BigInt(i))
    consumer.onFetchRecordBuffered(rec)
    await app().startActiveSpan('loop', async (loop) => {
      await pause(i)
      consumer.onPollStart(undefined)
      await pause(i + 1)
      consumer.onFetchRecordUnbuffered(rec, true)
      await new Promise((r) => setImmediate(r)) // the poll completes
      await consumer.process(rec, () => pause(i + 2), { parent: context.active() })
      loop.end()
    })
  }
  const spans = await otel.spans()
  const processes = nested(spans, (s) => s.name === 'process t', 'process in loop')
  const polls = nested(spans, (s) => s.name === 'poll t', 'poll in loop')
  assert.equal(processes.pairs, 150)
  assert.equal(polls.pairs, 150)
  assert.ok(processes.crossed > 0 && polls.crossed > 0, 'some started in a later millisecond than the loop span')
  report(t, 'process inside its given parent', processes)
  report(t, 'poll inside the span awaiting it', polls)
})

test('with the wall clock 40 ms away from timeOrigin + performance.now(), kotel follows the wall clock as the SDK does', async (t) => {
  const realNow = Date.now
  for (const shift of [40, -40]) {
    otel.reset()
    Date.now = () => realNow() + shift
    try {
      const producer = new Tracer({ tracerProvider: otel.tracerProvider })
      const consumer = new Tracer({ tracerProvider: otel.tracerProvider, linkSpans: true })
      for (let i = 0; i < 40; i++) {
        const r = await sendInside(producer, i)
        const rec = fetched(r, BigInt(i))
        const before = Date.now()
        consumer.onFetchRecordBuffered(rec)
        const after = Date.now()
        consumer.onFetchRecordUnbuffered(rec, true)
        await consumer.process(rec, () => handle(i))
        const receive = trace.getSpan(rec.context as never) as unknown as ReadableSpan
        const start = ns(receive.startTime)
        assert.ok(start >= BigInt(before) * 1_000_000n && start <= BigInt(after) * 1_000_000n, `a receive span starts at the wall clock's millisecond (${start} ns in [${before}, ${after}] ms)`)
      }
    } finally {
      Date.now = realNow
    }
    const spans = await otel.spans()
    report(t, `send inside app, wall clock ${shift} ms off`, nested(spans, (s) => s.name === 'send t', `send in app, shift ${shift}`))
    report(t, `handle inside process, wall clock ${shift} ms off`, nested(spans, (s) => s.name === 'handle', `handle in process, shift ${shift}`))
  }
})

test("a process span outlasts the processing by less than the wall clock's millisecond; its metric is its span's duration", async (t) => {
  const tracer = new Tracer({ tracerProvider: otel.tracerProvider })
  const meter = new Meter({ meterProvider: otel.meterProvider, brokerCounters: false })
  new Kotel({ tracer, meter })
  const extra: number[] = []
  for (let i = 0; i < 100; i++) {
    const rec = fetched({ topic: 't', value: 'v' }, BigInt(i))
    tracer.onFetchRecordBuffered(rec)
    tracer.onFetchRecordUnbuffered(rec, true)
    let work = 0
    await tracer.process(rec, async () => {
      const t0 = performance.now()
      await pause(i)
      work = performance.now() - t0
    })
    const span = otel.exporter.getFinishedSpans().at(-1)!
    const duration = ms(ns(span.endTime) - ns(span.startTime))
    assert.ok(duration >= work, `the process span (${duration} ms) covers the processing (${work} ms)`)
    extra.push(duration - work)
  }
  extra.sort((a, b) => a - b)
  const median = extra[extra.length >> 1]!
  t.diagnostic(`process span longer than the processing by: median ${median.toFixed(3)} ms, max ${extra.at(-1)!.toFixed(3)} ms`)
  // The span starts at the wall clock's whole millisecond, as every SDK span does, and ends no earlier
  // than the wall clock: on average about half a millisecond more than the work, never a second one.
  assert.ok(median < 1, `median excess ${median} ms`)
  const spans = await otel.spans()
  const metrics = await otel.metrics()
  const hist = metrics.get('messaging.process.duration')!.dataPoints[0]!.value as { sum: number; count: number }
  const total = spans.filter((s) => s.name === 'process t').reduce((a, s) => a + ms(ns(s.endTime) - ns(s.startTime)), 0) / 1000
  assert.equal(hist.count, 100)
  assert.ok(Math.abs(hist.sum - total) < 1e-6, `process.duration's sum ${hist.sum} s equals the spans' ${total} s`)
})
