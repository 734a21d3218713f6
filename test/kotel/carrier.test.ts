// RecordCarrier (franz-go kotel's carrier_test.go cases and more), the built-in W3C trace-context
// propagator checked against @opentelemetry/core's, and how a tracer picks its propagator.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTraceState, propagation, ROOT_CONTEXT, trace, TraceFlags, type TextMapPropagator } from '@opentelemetry/api'
import { W3CTraceContextPropagator as CoreW3C } from '@opentelemetry/core'
import type { ProduceRecord, Record } from '../../src/protocol/record.js'
import { RecordCarrier, W3CTraceContextPropagator } from '../../src/kotel/index.js'
import { builtinPropagator, PropagatorChoice } from '../../src/kotel/propagator.js'

function consumed(headers: Array<[string, string | null]>): Record {
  return {
    topic: 't',
    partition: 0,
    key: null,
    value: null,
    headers: headers.map(([key, v]) => ({ key, value: v === null ? null : Buffer.from(v) })),
    timestamp: 0,
    offset: 0n,
    leaderEpoch: -1,
    producerId: -1n,
    producerEpoch: -1,
  }
}

const text = (r: Record | ProduceRecord) => (r.headers ?? []).map((h) => [h.key, h.value === null ? null : h.value.toString()])

test('RecordCarrier.get: the first header of that name as UTF-8, a case-insensitive match when no exact one, undefined for missing and null values', () => {
  const r = consumed([
    ['key', 'first'],
    ['key', 'second'],
    ['Upper', 'U'],
    ['empty', ''],
    ['null', null],
    ['ünï', 'värdé 🎉'],
  ])
  const c = new RecordCarrier(r)
  assert.equal(c.get('key'), 'first')
  assert.equal(c.get('upper'), 'U')
  assert.equal(c.get('UPPER'), 'U')
  assert.equal(c.get('empty'), '')
  assert.equal(c.get('null'), undefined)
  assert.equal(c.get('missing'), undefined)
  assert.equal(c.get('ünï'), 'värdé 🎉')
  // An exact match wins over an earlier case-insensitive one.
  assert.equal(new RecordCarrier(consumed([['TraceParent', 'a'], ['traceparent', 'b']])).get('traceparent'), 'b')
  // Produce records may carry string values, or no headers at all.
  assert.equal(new RecordCarrier({ topic: 't', value: 'v', headers: [{ key: 'k', value: 'string' }] }).get('k'), 'string')
  assert.equal(new RecordCarrier({ topic: 't', value: 'v' }).get('k'), undefined)
})

test('RecordCarrier.keys: every name in order, duplicates included; [] without headers', () => {
  assert.deepEqual(new RecordCarrier(consumed([['b', '1'], ['a', '2'], ['b', '3']])).keys(), ['b', 'a', 'b'])
  assert.deepEqual(new RecordCarrier(consumed([])).keys(), [])
  assert.deepEqual(new RecordCarrier({ topic: 't', value: 'v' }).keys(), [])
})

test("RecordCarrier.set: kotel's sequence, replacement in place, later duplicates removed, headers created when absent", () => {
  // kotel carrier_test.go: key1 → updated, key2 set twice, key3 added.
  const r = consumed([['key1', 'value1']])
  const c = new RecordCarrier(r)
  c.set('key1', 'updated')
  c.set('key2', 'value2')
  c.set('key2', 'updated')
  c.set('key3', 'value3')
  assert.deepEqual(text(r), [
    ['key1', 'updated'],
    ['key2', 'updated'],
    ['key3', 'value3'],
  ])
  assert.ok(r.headers.every((h) => Buffer.isBuffer(h.value)), 'values are written as bytes')

  const dup = consumed([['a', '1'], ['traceparent', 'old-1'], ['b', '2'], ['traceparent', 'old-2']])
  new RecordCarrier(dup).set('traceparent', 'new')
  assert.deepEqual(text(dup), [
    ['a', '1'],
    ['traceparent', 'new'],
    ['b', '2'],
  ])

  const bare: ProduceRecord = { topic: 't', value: 'v' }
  new RecordCarrier(bare).set('traceparent', 'x')
  assert.deepEqual(text(bare), [['traceparent', 'x']])
})

const W3C_CASES: Array<[string, string | undefined]> = [
  ['sampled', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
  ['not sampled', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'],
  ['other flag bits', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09'],
  ['a space either side', ' 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 '],
  ['two spaces either side', '  00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01  '],
  ['a later version with more fields', 'cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds'],
  ['version 00 with more fields', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'],
  ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
  ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
  ['all-zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
  ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
  ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
  ['garbage', 'not a traceparent'],
  ['empty', ''],
  ['missing', undefined],
]

test('the built-in W3C propagator reads every traceparent as @opentelemetry/core does, tracestate included', () => {
  const core = new CoreW3C()
  for (const [what, value] of W3C_CASES) {
    const r = consumed(value === undefined ? [] : [['traceparent', value], ['tracestate', 'vendor=a,other=b']])
    const ours = trace.getSpanContext(builtinPropagator.extract(ROOT_CONTEXT, new RecordCarrier(r), RecordCarrier.getter))
    const theirs = trace.getSpanContext(core.extract(ROOT_CONTEXT, new RecordCarrier(r), RecordCarrier.getter))
    const plain = (sc: typeof ours) => sc && { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, isRemote: sc.isRemote, traceState: sc.traceState?.serialize() }
    assert.deepEqual(plain(ours), plain(theirs), what)
  }
  // And the cases that must be read, are.
  const sc = trace.getSpanContext(builtinPropagator.extract(ROOT_CONTEXT, new RecordCarrier(consumed([['traceparent', W3C_CASES[0]![1]!]])), RecordCarrier.getter))
  assert.deepEqual(sc, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true })
})

test('the built-in W3C propagator writes the same headers as @opentelemetry/core, and nothing for an invalid span context', () => {
  const core = new CoreW3C()
  const contexts = [
    { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: 'bbbbbbbbbbbbbbbb', traceFlags: TraceFlags.SAMPLED },
    { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: 'bbbbbbbbbbbbbbbb', traceFlags: TraceFlags.NONE, traceState: createTraceState('k=v,x=y') },
  ]
  for (const sc of contexts) {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, sc)
    const ours: ProduceRecord = { topic: 't', value: 'v' }
    const theirs: ProduceRecord = { topic: 't', value: 'v' }
    builtinPropagator.inject(ctx, new RecordCarrier(ours), RecordCarrier.setter)
    core.inject(ctx, new RecordCarrier(theirs), RecordCarrier.setter)
    assert.deepEqual(text(ours), text(theirs))
    assert.ok(text(ours).length >= 1)
  }
  const invalid: ProduceRecord = { topic: 't', value: 'v' }
  builtinPropagator.inject(trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: 'bbbbbbbbbbbbbbbb', traceFlags: 1 }), new RecordCarrier(invalid), RecordCarrier.setter)
  builtinPropagator.inject(ROOT_CONTEXT, new RecordCarrier(invalid), RecordCarrier.setter)
  assert.equal(invalid.headers, undefined)
  assert.deepEqual(new W3CTraceContextPropagator().fields(), ['traceparent', 'tracestate'])
})

test('propagator choice: explicit, null, OTEL_PROPAGATORS=none, the global once registered, else the built-in W3C', () => {
  const mine: TextMapPropagator = { inject() {}, extract: (c) => c, fields: () => ['mine'] }
  assert.equal(new PropagatorChoice(mine).current(), mine)
  assert.equal(new PropagatorChoice(null).current(), null)
  assert.equal(new PropagatorChoice(undefined, 'none').current(), null)
  assert.equal(new PropagatorChoice(undefined, ' NONE ').current(), null)
  assert.equal(new PropagatorChoice(mine, 'none').current(), mine, 'the option beats the environment')
  // No global propagator yet: the API's default lists no fields.
  assert.deepEqual(propagation.fields(), [])
  const choice = new PropagatorChoice(undefined, 'tracecontext')
  assert.equal(choice.current(), builtinPropagator)
  // Decided per call: a global registered later is picked up by the same choice.
  propagation.setGlobalPropagator(mine)
  try {
    assert.equal(choice.current(), propagation)
  } finally {
    propagation.disable()
  }
  assert.equal(choice.current(), builtinPropagator)
})
