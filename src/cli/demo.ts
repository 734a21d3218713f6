/**
 * `kafka-wire demo`: starts a broker unless one is given, produces and consumes with kotel tracing,
 * prints the trace trees of both modes and a throughput line.
 *
 * The tracing part is examples/kotel-trace-trees.ts (kotelTraceTrees, written with kotel); the demo
 * calls it (see KOTEL DEMO CALL SITE below). Where it cannot be loaded — an installed package has no
 * examples folder, and the example is TypeScript — the demo still produces and consumes, prints the
 * throughput line, and says why there are no trees.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { performance } from 'node:perf_hooks'
import type { Client } from '../client/client.js'
import type { KafkaCluster } from '../testing/index.js'
import { startLocalKafka } from './broker.js'
import { BROKERS_OPTION, CliError, brokersFrom, int, newClient, num, parse, reach, createTopic, deleteTopic } from './common.js'

export const DEMO_HELP = `usage: kafka-wire demo [options]

Shows kafka-wire end to end: starts a local broker (unless -b or KAFKA_BOOTSTRAP names one), produces
and consumes with kotel tracing, prints the trace trees of both modes and a throughput line.

  -b, --brokers HOST:PORT[,…]  use this cluster instead of starting a broker
  -n, --records N              records for the throughput line (default 100000)
  -h, --help                   this help`

/** TraceTrees is what examples/kotel-trace-trees.ts's kotelTraceTrees returns: each mode's trees, and both side by side. */
interface TraceTrees {
  default: string
  link: string
  sideBySide: string
}

/** KotelTraceTrees is the signature of that example's exported function. */
type KotelTraceTrees = (opts: { seedBrokers?: string[]; records?: number }) => Promise<TraceTrees>

export async function demoCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire demo'
  const { values } = parse(cmd, argv, { ...BROKERS_OPTION, records: { type: 'string', short: 'n' } })
  if (values.help) {
    console.log(DEMO_HELP)
    return 0
  }
  const records = int(cmd, 'records', values.records as string | undefined, 100_000, 1)
  let cluster: KafkaCluster | null = null
  let brokers = brokersFrom(values.brokers as string | undefined)
  if (brokers === undefined) {
    cluster = await startLocalKafka()
    brokers = cluster.bootstrapServers
    console.log(`broker: ${brokers.join(',')} (Kafka ${cluster.version ?? '?'}, ${cluster.kind})`)
  }
  try {
    // ---- KOTEL DEMO CALL SITE ----------------------------------------------------------------
    // The trace trees come from examples/kotel-trace-trees.ts (kotelTraceTrees): a producer and a
    // consumer with kotel hooks, in the default parent/child mode and in link mode.
    const loaded = await loadKotelTraceTrees()
    if (typeof loaded === 'function') {
      const trees = await loaded({ seedBrokers: brokers, records: 2 })
      const width = Math.max(...trees.sideBySide.split('\n').map((l) => l.length))
      console.log('\ntrace trees: produce → consume → process, in kotel\'s two modes\n')
      if (width <= (process.stdout.columns ?? 160)) console.log(trees.sideBySide)
      else console.log(`default mode (linkSpans: false)\n\n${trees.default}\n\nlink mode (linkSpans: true)\n\n${trees.link}`)
      console.log('')
    } else {
      console.log(`trace trees: skipped — ${loaded}`)
    }
    // -------------------------------------------------------------------------------------------
    console.log(await throughput(brokers, records))
  } finally {
    await cluster?.stop()
  }
  return 0
}

/** loadKotelTraceTrees returns the example's function, or why it cannot be had here. */
async function loadKotelTraceTrees(): Promise<KotelTraceTrees | string> {
  const url = new URL('../../examples/kotel-trace-trees.ts', import.meta.url)
  if (!existsSync(fileURLToPath(url))) return 'examples/kotel-trace-trees.ts is not here (the installed package has no examples); run `npm run demo` in a checkout of the repository'
  // A .ts file loads only under tsx (`npm run demo` runs the CLI with it).
  if (!process.execArgv.some((a) => a.includes('tsx'))) return 'examples/kotel-trace-trees.ts needs tsx: run `npm run demo`'
  try {
    const mod = (await import(pathToFileURL(fileURLToPath(url)).href)) as { kotelTraceTrees?: KotelTraceTrees }
    if (typeof mod.kotelTraceTrees !== 'function') return 'examples/kotel-trace-trees.ts exports no kotelTraceTrees function'
    return mod.kotelTraceTrees
  } catch (err) {
    return `examples/kotel-trace-trees.ts could not be loaded (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the OpenTelemetry packages it uses come with \`npm install\` in the repository`
  }
}

/** throughput produces `n` small records to a fresh topic, reads them back and reports both rates. */
async function throughput(brokers: string[], n: number): Promise<string> {
  const cmd = 'kafka-wire demo'
  const topic = `kafka-wire-demo-${Date.now().toString(36)}`
  const producer = newClient(cmd, { seedBrokers: brokers, producerBatchCompression: ['lz4'] })
  let consumer: Client | null = null
  try {
    await reach(producer, brokers, undefined, 10_000)
    await createTopic(producer, topic, 3)
    const value = Buffer.alloc(100, 'x')
    let failed: Error | null = null
    let t = performance.now()
    for (let i = 0; i < n; i++) {
      producer.produce({ topic, key: String(i), value }, (_r, err) => {
        if (err) failed ??= err
      })
      if (producer.bufferedProduceRecords >= 10_000) await producer.flush()
    }
    await producer.flush()
    if (failed) throw new CliError(`produce failed: ${(failed as Error).message}`)
    const produceRate = n / ((performance.now() - t) / 1000)
    // Timed from the consumer's creation: metadata and start offsets count, as a user would see it.
    t = performance.now()
    consumer = newClient(cmd, { seedBrokers: brokers, consumeTopics: [topic] })
    let got = 0
    while (got < n) got += (await consumer.pollFetches()).numRecords()
    const consumeRate = got / ((performance.now() - t) / 1000)
    await deleteTopic(producer, topic)
    return `throughput: produced ${num(n)} records of 100 bytes (lz4, acks all, idempotent) at ${num(produceRate)} records/s; consumed them at ${num(consumeRate)} records/s`
  } finally {
    await consumer?.close()
    await producer.close()
  }
}
