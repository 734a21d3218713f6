// kotel through the KafkaJS facade: `new Kafka({ ..., hooks: kotel.hooks() })` gives a KafkaJS program
// send spans that are children of the caller's active span, and runs each eachMessage inside kotel's
// process span, so the program's own spans there are its children and the process span reaches the
// send span (as its parent or through a link).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { SpanKind } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { Kotel, Tracer } from '../../src/kotel/index.js'
import { Kafka, logLevel } from '../../src/kafkajs/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, waitFor } from '../client/helpers.js'
import { kafkajsTraceTrees } from '../../examples/kafkajs-traced.js'
import { installContextManager, LINK_MODE_TREES, maskTrees } from '../kotel/helpers.js'

let k: KafkaCluster

before(async () => {
  installContextManager()
  k = await broker()
})

after(async () => {
  await closeAll()
})

test('a KafkaJS program traced by kotel: send spans under the caller, eachMessage inside the process span', async () => {
  const topic = await createTopic(newClient(k), { partitions: 2 })
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] })
  const app = provider.getTracer('app')
  const group = `kotel-facade-${Date.now()}`
  const kafka = new Kafka({
    clientId: 'facade-traced',
    brokers: k.bootstrapServers,
    logLevel: logLevel.NOTHING,
    hooks: new Kotel({ tracer: new Tracer({ tracerProvider: provider, consumerGroup: group }) }).hooks(),
  })

  const producer = kafka.producer()
  await producer.connect()
  let checkoutId = ''
  let checkoutTrace = ''
  await app.startActiveSpan('checkout', async (span) => {
    checkoutId = span.spanContext().spanId
    checkoutTrace = span.spanContext().traceId
    await producer.send({ topic, messages: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] })
    await producer.send({ topic, messages: [{ key: 'c', value: '3' }] })
    span.end()
  })
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: group, heartbeatInterval: 500 })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  let handled = 0
  await consumer.run({
    eachMessage: async () => {
      await app.startActiveSpan('handle', async (s) => {
        s.end()
      })
      handled++
    },
  })
  await waitFor(() => handled >= 3, 'three messages handled', 30_000)
  await consumer.disconnect()

  const spans = memory.getFinishedSpans()
  const sends = spans.filter((s) => s.kind === SpanKind.PRODUCER)
  assert.equal(sends.length, 3, `one send span per message: ${spans.map((s) => `${s.name}/${s.kind}`).join(', ')}`)
  for (const s of sends) assert.equal(s.parentSpanContext?.spanId, checkoutId, `${s.name} is a child of the caller's checkout span`)
  const sendIds = new Set(sends.map((s) => s.spanContext().spanId))
  const handles = spans.filter((s) => s.name === 'handle')
  assert.equal(handles.length, 3)
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
  for (const h of handles) {
    const process = byId.get(h.parentSpanContext?.spanId ?? '')
    assert.ok(process !== undefined, 'the handler span has a recorded parent')
    assert.equal(process.kind, SpanKind.CONSUMER, `the handler runs inside kotel's process span (${process.name})`)
    // Up the parents (and across links) from the process span, a send span is reached: the message's
    // trace continues the producer's.
    const seen = new Set<string>()
    const reaches = (id: string | undefined): boolean => {
      if (id === undefined || seen.has(id)) return false
      seen.add(id)
      if (sendIds.has(id)) return true
      const span = byId.get(id)
      if (span === undefined) return false
      return reaches(span.parentSpanContext?.spanId) || span.links.some((l) => reaches(l.context.spanId))
    }
    assert.ok(reaches(process.spanContext().spanId), `the process span ${process.name} reaches a send span through parents or links`)
    assert.equal(process.spanContext().traceId === checkoutTrace || process.links.length > 0, true, 'in the checkout trace, or linked to it')
  }
})

test("the README's KafkaJS trace tree (examples/kafkajs-traced.ts): the producer's trace, then a trace per message linked to its send", { timeout: 120_000 }, async () => {
  assert.equal(
    maskTrees(await kafkajsTraceTrees(k.bootstrapServers)),
    LINK_MODE_TREES,
  )
})
