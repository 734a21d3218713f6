// A KafkaJS program traced by kotel: the program is written against KafkaJS 2.2.4's API and runs on
// kafka-wire's facade; tracing is one option of `new Kafka`.
//
//   npx tsx examples/kafkajs-traced.ts            (starts a Kafka broker, or uses KAFKA_BOOTSTRAP)
//
// In an application the imports are `from 'kafka-wire/kafkajs'` and `from 'kafka-wire/kotel'`. The
// producer sends two orders inside the application's `checkout` span; the consumer's eachMessage runs
// a `charge card` span for each, inside kotel's process span. With `linkSpans: true` each message gets a
// consumer trace of its own, linked to the send span it came from. The spans are printed as trees.
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { Kafka, logLevel } from '../src/kafkajs/index.js'
import { Kotel, Tracer } from '../src/kotel/index.js'
import { startKafka } from '../src/testing/index.js'
import { renderTrees } from '../src/cli/trace-trees.js'

/** kafkajsTraceTrees runs the program against `brokers` (default: a broker from `startKafka()`: KAFKA_BOOTSTRAP, Docker or the jars) and returns its trace trees. */
export async function kafkajsTraceTrees(brokers?: string[]): Promise<string> {
  const cluster = brokers ? undefined : await startKafka()
  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  const spans = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const topic = `orders-${randomBytes(4).toString('hex')}`
  try {
    // The KafkaJS program: one added option, `hooks`.
    const tracer = new Tracer({ tracerProvider: provider, linkSpans: true })
    const kafka = new Kafka({ clientId: 'shop', brokers: brokers ?? cluster!.bootstrapServers, logLevel: logLevel.WARN, hooks: new Kotel({ tracer }).hooks() })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
    await admin.disconnect()

    const app = provider.getTracer('shop')
    const producer = kafka.producer()
    await producer.connect()
    await app.startActiveSpan('checkout', async (span) => {
      await producer.send({ topic, messages: [{ key: 'order-1', value: '{"order":1}' }, { key: 'order-2', value: '{"order":2}' }] })
      span.end()
    })
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: `billing-${topic}` })
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      let charged = 0
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`only ${charged} of 2 messages consumed within 30 s`)), 30_000)
        consumer
          .run({
            eachMessage: () =>
              app.startActiveSpan('charge card', async (span) => {
                await new Promise((r) => setTimeout(r, 5))
                span.end()
                if (++charged === 2) resolve()
              }),
          })
          .catch(reject)
      }).finally(() => clearTimeout(timer))
    } finally {
      await consumer.disconnect()
    }
    return renderTrees(spans.getFinishedSpans(), { [topic]: 'orders' })
  } finally {
    await provider.shutdown()
    context.disable()
    await cluster?.stop()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await kafkajsTraceTrees())
}
