/**
 * `kafka-wire demo`: starts a broker unless one is given, produces and consumes with kotel tracing,
 * prints the trace trees of both modes and a throughput line.
 *
 * The tracing part is the example examples/kotel-trace-trees.ts (written with kotel); the demo calls
 * it when it is there (see KOTEL DEMO CALL SITE below). Without it — an installed package has no
 * examples folder, and a checkout may predate it — the demo still produces and consumes and prints
 * the throughput line, and says why there are no trees.
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

/** TraceTreesDemo is the shape the demo expects of examples/kotel-trace-trees.ts's exported function. */
export type TraceTreesDemo = (opts: { seedBrokers: string[]; print: (line: string) => void }) => Promise<unknown>

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
    // The trace trees come from examples/kotel-trace-trees.ts: its exported `traceTreesDemo` (or
    // default export) is called with the brokers and a print function, and prints the span trees
    // of a produce and a consume in both of kotel's modes.
    const traceTrees = await loadTraceTreesDemo()
    if (traceTrees !== null) {
      await traceTrees({ seedBrokers: brokers, print: (line) => console.log(line) })
    } else {
      console.log('trace trees: skipped — examples/kotel-trace-trees.ts is not in this checkout (it is not shipped in the package); run `npm run demo` in the repository for them')
    }
    // -------------------------------------------------------------------------------------------
    console.log(await throughput(brokers, records))
  } finally {
    await cluster?.stop()
  }
  return 0
}

async function loadTraceTreesDemo(): Promise<TraceTreesDemo | null> {
  for (const rel of ['../../examples/kotel-trace-trees.ts', '../../examples/kotel-trace-trees.js']) {
    const url = new URL(rel, import.meta.url)
    if (!existsSync(fileURLToPath(url))) continue
    // A .ts file loads only under tsx (npm run demo); plain node skips it for the .js build.
    if (rel.endsWith('.ts') && !process.execArgv.some((a) => a.includes('tsx')) && !process.env.TSX) continue
    const mod = (await import(pathToFileURL(fileURLToPath(url)).href)) as { traceTreesDemo?: TraceTreesDemo; default?: TraceTreesDemo }
    const fn = mod.traceTreesDemo ?? mod.default
    if (typeof fn === 'function') return fn
  }
  return null
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
