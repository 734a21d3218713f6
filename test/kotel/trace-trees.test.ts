// kotel against a real broker: the whole span tree of a record's life (app → send → receive →
// process) in both modes and all three conventions flavours, compared exactly; the traceparent the
// broker stored; records produced again; records written by Kafka's Java console producer with a
// hand-written traceparent; poll spans; records dropped at close; values filled in from the client.
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { context, trace, type Context } from '@opentelemetry/api'
import { Client, coreOf } from '../../src/client/client.js'
import type { Record } from '../../src/protocol/record.js'
import { Kotel, Meter, Tracer, type SemconvFlavour } from '../../src/kotel/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readAll, waitFor } from '../client/helpers.js'
import { byName, installContextManager, makeOtel, normalize, pollN, type NSpan, type Otel } from './helpers.js'

let k: KafkaCluster
let admin: Client
const otel: Otel = makeOtel()

before(async () => {
  installContextManager()
  k = await broker({})
  admin = newClient(k)
}, { timeout: 300_000 })

beforeEach(() => otel.reset())

after(async () => {
  await closeAll()
  await otel.shutdown()
})

/** Modes: parent/child; linkSpans with a trace per record (the default shape); linkSpans with franz-go's trace per span. */
type Mode = 'default' | 'link' | 'link-span'

interface Flow {
  topic: string
  record: Record
  spans: Awaited<ReturnType<Otel['spans']>>
  tree: { [label: string]: NSpan }
  producer: Client
  consumer: Client
  server: { host: string; port: number }
  clusterId: string
}

/**
 * flow produces one record (key 'k', value 'v') inside an app span, consumes it with a second client,
 * processes it with `tracer.process`, and returns the spans, normalized with the topic shown as T.
 */
async function flow(mode: Mode, flavour: SemconvFlavour): Promise<Flow> {
  const topic = await createTopic(admin)
  const linkSpans = mode !== 'default'
  const linkedTraces = mode === 'link-span' ? 'span' : 'record'
  const producer = newClient(k, { clientId: 'kotel-producer', hooks: new Kotel({ tracer: new Tracer({ tracerProvider: otel.tracerProvider, linkSpans, linkedTraces, semconv: flavour }) }).hooks() })
  const app = otel.tracerProvider.getTracer('app')
  await app.startActiveSpan('app', async (span) => {
    try {
      await producer.produce({ topic, key: 'k', value: 'v' })
    } finally {
      span.end()
    }
  })
  const tracer = new Tracer({ tracerProvider: otel.tracerProvider, linkSpans, linkedTraces, semconv: flavour, consumerGroup: 'billing' })
  const consumer = newClient(k, { clientId: 'kotel-consumer', consumeTopics: [topic], hooks: new Kotel({ tracer }).hooks() })
  const [record] = await pollN(consumer, 1)
  let active: Context | undefined
  await tracer.process(record!, (ctx) => {
    active = context.active()
    assert.equal(active, ctx, 'process() runs fn inside the span context it passes')
  })
  assert.equal(trace.getSpan(active!)?.spanContext().spanId, byName(otel.exporter.getFinishedSpans(), flavour === 'old' ? `${topic} process` : `process ${topic}`).spanContext().spanId)
  const spans = await otel.spans()
  const leader = coreOf(producer).broker(coreOf(producer).leaderOf(topic, 0))!.meta
  return { topic, record: record!, spans, tree: normalize(spans, { [topic]: 'T' }), producer, consumer, server: { host: leader.host, port: leader.port }, clusterId: coreOf(producer).metadata.clusterId! }
}

/** expectedTree writes out the span tree of `flow` for a mode and flavour, attribute by attribute. */
function expectedTree(mode: Mode, flavour: SemconvFlavour, f: Flow): { [label: string]: NSpan } {
  const newKeys = flavour !== 'old'
  const oldKeys = flavour !== 'new'
  const server = { 'server.address': f.server.host, 'server.port': f.server.port }
  const send: NSpan['attributes'] = { 'messaging.system': 'kafka', 'messaging.destination.name': 'T', 'messaging.kafka.message.key': 'k' }
  const consumer = (op: 'receive' | 'process'): NSpan['attributes'] => {
    const a: NSpan['attributes'] = { 'messaging.system': 'kafka', 'messaging.kafka.message.key': 'k' }
    if (newKeys) {
      Object.assign(a, {
        'messaging.operation.type': op,
        'messaging.operation.name': op,
        'messaging.destination.name': 'T',
        'messaging.destination.partition.id': '0',
        'messaging.kafka.offset': 0,
        'messaging.consumer.group.name': 'billing',
        'messaging.client.id': 'kotel-consumer',
        'messaging.kafka.cluster.id': f.clusterId,
        ...server,
      })
    }
    if (oldKeys) {
      Object.assign(a, {
        'messaging.source.kind': 'topic',
        'messaging.source.name': 'T',
        'messaging.operation': op,
        'messaging.kafka.source.partition': 0,
        'messaging.kafka.message.offset': 0,
        'messaging.kafka.client_id': 'kotel-consumer',
        'messaging.kafka.consumer.group': 'billing',
      })
    }
    return a
  }
  if (newKeys) {
    Object.assign(send, {
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.client.id': 'kotel-producer',
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': 0,
      'messaging.kafka.cluster.id': f.clusterId,
      ...server,
    })
  }
  if (oldKeys) {
    Object.assign(send, {
      'messaging.destination.kind': 'topic',
      'messaging.operation': 'publish',
      'messaging.kafka.client_id': 'kotel-producer',
      'messaging.kafka.destination.partition': 0,
      'messaging.kafka.message.offset': 0,
    })
  }
  const n = flavour === 'old' ? { send: 'T publish @0', receive: 'T receive @0', process: 'T process @0' } : { send: 'send T @0', receive: 'receive T @0', process: 'process T @0' }
  const link = mode !== 'default'
  const perSpan = mode === 'link-span'
  return {
    app: { kind: 'INTERNAL', trace: 'app', parent: null, links: [], attributes: {}, status: 'UNSET' },
    [n.send]: { kind: 'PRODUCER', trace: 'app', parent: 'app', links: [], attributes: send, status: 'UNSET' },
    [n.receive]: {
      kind: flavour === 'old' ? 'CONSUMER' : 'CLIENT',
      trace: link ? n.receive : 'app',
      parent: link ? null : n.send,
      links: link ? [n.send] : [],
      attributes: consumer('receive'),
      status: 'UNSET',
    },
    [n.process]: {
      kind: 'CONSUMER',
      trace: perSpan ? n.process : link ? n.receive : 'app',
      parent: perSpan ? null : n.receive,
      links: perSpan ? [n.receive, n.send] : link ? [n.send] : [],
      attributes: consumer('process'),
      status: 'UNSET',
    },
  }
}

for (const mode of ['default', 'link', 'link-span'] as const) {
  for (const flavour of ['new', 'old', 'dup'] as const) {
    test(`${mode} mode, semconv '${flavour}': the exact span tree of a produced, consumed and processed record`, { timeout: 60_000 }, async () => {
      const f = await flow(mode, flavour)
      assert.deepEqual(f.tree, expectedTree(mode, flavour, f))
      const scopes = new Set(f.spans.filter((s) => s.name !== 'app').map((s) => `${s.instrumentationScope.name} ${s.instrumentationScope.version} ${s.instrumentationScope.schemaUrl}`))
      assert.deepEqual([...scopes], [`kafka-wire/kotel 0.1.0 https://opentelemetry.io/schemas/${flavour === 'old' ? '1.18.0' : '1.44.0'}`])
      // The header the broker stored carries the send span's context, once.
      const send = byName(f.spans, flavour === 'old' ? `${f.topic} publish` : `send ${f.topic}`)
      const [stored] = (await readAll(f.producer, f.topic))[0]!
      assert.deepEqual(
        stored!.headers.map((h) => [h.key, h.value?.toString()]),
        [['traceparent', `00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`]],
      )
      // The polled record's context holds its receive span.
      const receive = byName(f.spans, flavour === 'old' ? `${f.topic} receive` : `receive ${f.topic}`)
      assert.equal(trace.getSpan(f.record.context as Context)?.spanContext().spanId, receive.spanContext().spanId)
    })
  }
}

test('a given parent context wins in both modes: the process span is its child, linked to the producer span (and the receive span in link mode)', { timeout: 60_000 }, async () => {
  for (const mode of ['default', 'link'] as const) {
    otel.reset()
    const topic = await createTopic(admin)
    const tracer = new Tracer({ tracerProvider: otel.tracerProvider, linkSpans: mode === 'link' })
    const producer = newClient(k, { hooks: [tracer] })
    await producer.produce({ topic, value: 'v' })
    const consumer = newClient(k, { consumeTopics: [topic], hooks: [tracer] })
    const [record] = await pollN(consumer, 1)
    const handler = otel.tracerProvider.getTracer('app').startSpan('handler')
    const parent = trace.setSpan(context.active(), handler)
    const result = await tracer.process(record!, () => 42, { parent })
    assert.equal(result, 42)
    handler.end()
    const tree = normalize(await otel.spans(), { [topic]: 'T' })
    assert.deepEqual(
      Object.fromEntries(Object.entries(tree).map(([l, s]) => [l, { kind: s.kind, trace: s.trace, parent: s.parent, links: s.links }])),
      {
        'send T @0': { kind: 'PRODUCER', trace: 'send T @0', parent: null, links: [] },
        'receive T @0': mode === 'link' ? { kind: 'CLIENT', trace: 'receive T @0', parent: null, links: ['send T @0'] } : { kind: 'CLIENT', trace: 'send T @0', parent: 'send T @0', links: [] },
        handler: { kind: 'INTERNAL', trace: 'handler', parent: null, links: [] },
        'process T @0': { kind: 'CONSUMER', trace: 'handler', parent: 'handler', links: mode === 'link' ? ['receive T @0', 'send T @0'] : ['send T @0'] },
      },
      `${mode} mode`,
    )
  }
})

test('re-producing a consumed record leaves one traceparent, the new send span, which is a child of the receive span', { timeout: 60_000 }, async () => {
  const topic = await createTopic(admin)
  const mirror = await createTopic(admin)
  const tracer = new Tracer({ tracerProvider: otel.tracerProvider })
  const c = newClient(k, { consumeTopics: [topic], hooks: [tracer] })
  await c.produce({ topic, key: 'k', value: 'v', headers: [{ key: 'app', value: 'x' }] })
  const [record] = await pollN(c, 1)
  assert.deepEqual(record!.headers.map((h) => h.key), ['app', 'traceparent'])
  // Forward the consumed record as it is: its headers (with the first traceparent) and its context.
  await c.produce({ ...record!, topic: mirror, partition: undefined })
  const spans = await otel.spans()
  const tree = normalize(spans, { [topic]: 'T', [mirror]: 'M' })
  assert.deepEqual(
    Object.fromEntries(Object.entries(tree).map(([l, s]) => [l, { trace: s.trace, parent: s.parent, links: s.links }])),
    {
      'send T @0': { trace: 'send T @0', parent: null, links: [] },
      'receive T @0': { trace: 'send T @0', parent: 'send T @0', links: [] },
      'send M @0': { trace: 'send T @0', parent: 'receive T @0', links: [] },
    },
  )
  const forward = byName(spans, `send ${mirror}`)
  const [stored] = (await readAll(admin, mirror))[0]!
  assert.deepEqual(
    stored!.headers.map((h) => [h.key, h.value?.toString()]),
    [
      ['app', 'x'],
      ['traceparent', `00-${forward.spanContext().traceId}-${forward.spanContext().spanId}-01`],
    ],
  )
})

test("a record from Kafka's Java console producer with a hand-written traceparent is continued (default mode) or linked (link mode)", { timeout: 120_000 }, async () => {
  const topic = await createTopic(admin)
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  const spanId = '00f067aa0ba902b7'
  // parse.headers + parse.key: "name:value,...<TAB>key<TAB>value" per line.
  const res = await k.runJavaTool(
    'org.apache.kafka.tools.ConsoleProducer',
    ['--bootstrap-server', k.bootstrapServers[0]!, '--topic', topic, '--reader-property', 'parse.headers=true', '--reader-property', 'parse.key=true'],
    { input: `traceparent:00-${traceId}-${spanId}-01,tracestate:vendor=x\tjava-key\tjava-value\n` },
  )
  assert.equal(res.code, 0, `ConsoleProducer failed:\n${res.stderr}`)
  for (const mode of ['default', 'link'] as const) {
    otel.reset()
    const tracer = new Tracer({ tracerProvider: otel.tracerProvider, linkSpans: mode === 'link' })
    const c = newClient(k, { consumeTopics: [topic], hooks: [tracer] })
    const [record] = await pollN(c, 1)
    assert.equal(record!.key?.toString(), 'java-key')
    await tracer.process(record!, () => {})
    const spans = await otel.spans()
    const tree = normalize(spans, { [topic]: 'T' })
    const remote = `remote ${spanId}`
    assert.deepEqual(
      Object.fromEntries(Object.entries(tree).map(([l, s]) => [l, { parent: s.parent, links: s.links, key: s.attributes['messaging.kafka.message.key'] }])),
      mode === 'default'
        ? { 'receive T @0': { parent: remote, links: [], key: 'java-key' }, 'process T @0': { parent: 'receive T @0', links: [], key: 'java-key' } }
        : { 'receive T @0': { parent: null, links: [remote], key: 'java-key' }, 'process T @0': { parent: 'receive T @0', links: [remote], key: 'java-key' } },
      `${mode} mode`,
    )
    const receive = byName(spans, `receive ${topic}`)
    if (mode === 'default') {
      assert.equal(receive.spanContext().traceId, traceId, 'the receive span continues the Java record trace')
      assert.equal(receive.parentSpanContext?.traceState?.get('vendor'), 'x', 'tracestate is read too')
    } else {
      assert.notEqual(receive.spanContext().traceId, traceId)
      assert.deepEqual(
        { traceId: receive.links[0]!.context.traceId, spanId: receive.links[0]!.context.spanId, remote: receive.links[0]!.context.isRemote },
        { traceId, spanId, remote: true },
      )
    }
    await c.close()
  }
})

test('poll spans: one "poll T" CLIENT span per poll, a child of the caller context, linked to each record\'s send span, the same in both modes', { timeout: 60_000 }, async () => {
  for (const linkSpans of [false, true]) {
    otel.reset()
    const topic = await createTopic(admin)
    const producer = newClient(k, { clientId: 'p', hooks: [new Tracer({ tracerProvider: otel.tracerProvider })] })
    await producer.produceSync([
      { topic, value: 'a' },
      { topic, value: 'b' },
    ])
    const tracer = new Tracer({ tracerProvider: otel.tracerProvider, linkSpans, pollSpans: true, receiveSpans: false, consumerGroup: 'g' })
    const consumer = newClient(k, { clientId: 'c', consumeTopics: [topic], hooks: [tracer] })
    // Wait until both records are buffered, so one poll returns both.
    await waitFor(() => consumer.bufferedFetchRecords === 2, 'two buffered records')
    const loop = otel.tracerProvider.getTracer('app').startSpan('loop')
    const records = await context.with(trace.setSpan(context.active(), loop), () => pollN(consumer, 2))
    loop.end()
    assert.equal(records.length, 2)
    const spans = await otel.spans()
    const tree = normalize(spans, { [topic]: 'T' })
    assert.deepEqual(tree['poll T'], {
      kind: 'CLIENT',
      trace: 'loop',
      parent: 'loop',
      links: ['send T @0', 'send T @1'],
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'receive',
        'messaging.operation.name': 'poll',
        'messaging.batch.message_count': 2,
        'messaging.destination.name': 'T',
        'messaging.consumer.group.name': 'g',
        'messaging.client.id': 'c',
        'messaging.kafka.cluster.id': coreOf(consumer).metadata.clusterId!,
      },
      status: 'UNSET',
    }, `linkSpans ${linkSpans}`)
    const poll = byName(spans, `poll ${topic}`)
    assert.deepEqual(
      poll.links.map((l) => l.attributes),
      [
        { 'messaging.destination.partition.id': '0', 'messaging.kafka.offset': 0 },
        { 'messaging.destination.partition.id': '0', 'messaging.kafka.offset': 1 },
      ],
    )
    assert.ok(!spans.some((s) => s.name.startsWith('receive')), 'receiveSpans: false records no receive spans')
  }
})

test('records dropped at close still end their receive spans and are not counted as consumed', { timeout: 60_000 }, async () => {
  const topic = await createTopic(admin)
  const tracer = new Tracer({ tracerProvider: otel.tracerProvider })
  const meter = new Meter({ meterProvider: otel.meterProvider })
  const producer = newClient(k, { hooks: [tracer] })
  await producer.produceSync([
    { topic, value: 'a' },
    { topic, value: 'b' },
  ])
  const consumer = newClient(k, { consumeTopics: [topic], hooks: new Kotel({ tracer, meter }).hooks() })
  await waitFor(() => otel.counter.started.filter((s) => s.name === `receive ${topic}`).length === 2, 'two receive spans to start')
  assert.equal(otel.counter.ended.filter((s) => s.name === `receive ${topic}`).length, 0, 'buffered records have open receive spans')
  await consumer.close()
  await waitFor(() => otel.counter.ended.filter((s) => s.name === `receive ${topic}`).length === 2, 'the receive spans to end')
  const spans = await otel.spans()
  assert.deepEqual(
    spans.filter((s) => s.name === `receive ${topic}`).map((s) => s.status.code),
    [0, 0],
  )
  assert.equal(otel.counter.started.length, otel.counter.ended.length, 'every started span ended')
  const m = await otel.metrics()
  assert.equal(m.get('messaging.client.consumed.messages'), undefined, 'no record was consumed')
})

test('clientId and consumerGroup are filled from the client: a real group member', { timeout: 60_000 }, async () => {
  const topic = await createTopic(admin)
  const group = `kotel-group-${topic}`
  const producer = newClient(k, { hooks: [new Tracer({ tracerProvider: otel.tracerProvider, semconv: 'dup' })] })
  await producer.produce({ topic, value: 'v' })
  const tracer = new Tracer({ tracerProvider: otel.tracerProvider, semconv: 'dup' })
  const consumer = newClient(k, { clientId: 'member-client', consumeTopics: [topic], consumerGroup: group, hooks: [tracer] })
  const [record] = await pollN(consumer, 1, 30_000)
  await tracer.process(record!, () => {})
  const spans = await otel.spans()
  const send = byName(spans, `send ${topic}`)
  assert.equal(send.attributes['messaging.client.id'], 'kafka-wire', "the producer's default clientId")
  for (const name of [`receive ${topic}`, `process ${topic}`]) {
    const s = byName(spans, name)
    assert.equal(s.attributes['messaging.consumer.group.name'], group, name)
    assert.equal(s.attributes['messaging.kafka.consumer.group'], group, name)
    assert.equal(s.attributes['messaging.client.id'], 'member-client', name)
    assert.equal(s.attributes['messaging.kafka.client_id'], 'member-client', name)
  }
})
