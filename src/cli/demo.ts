/**
 * `kafka-wire demo`: starts a broker unless one is given, produces and consumes with kotel tracing,
 * prints the trace trees of each mode and a throughput line. With --otlp-endpoint (or --jaeger, which
 * starts a Jaeger), the spans also go over OTLP/HTTP to a tracing backend, and the demo prints the ids
 * (and, with Jaeger, the addresses) of a producer trace and of a consumer trace linked to it.
 *
 * The tracing part is ./trace-trees.ts (kotelTraceTrees, written with kotel, also run by
 * examples/kotel-trace-trees.ts); the demo calls it (see KOTEL DEMO CALL SITE below). It records spans
 * with the OpenTelemetry SDK, which the package does not depend on: where the SDK is not installed,
 * the demo still produces and consumes, prints the throughput line, and prints the `npm install`
 * command that brings the trees.
 */
import { performance } from 'node:perf_hooks'
import type { Client } from '../client/client.js'
import type { Jaeger, KafkaCluster } from '../testing/index.js'
import { startJaeger } from '../testing/jaeger.js'
import { startLocalKafka } from './broker.js'
import { BROKERS_OPTION, CliError, UsageError, brokersFrom, int, newClient, num, parse, reach, createTopic, deleteTopic } from './common.js'

export const DEMO_HELP = `usage: kafka-wire demo [options]

Shows kafka-wire end to end: starts a local broker (unless -b or KAFKA_BOOTSTRAP names one), produces
and consumes with kotel tracing, prints the trace trees of each mode and a throughput line.

  -b, --brokers HOST:PORT[,…]  use this cluster instead of starting a broker
  -n, --records N              records for the throughput line (default 100000)
      --otlp-endpoint URL      also send the spans over OTLP/HTTP to this base address (e.g.
                               http://127.0.0.1:4318, the traces going to URL/v1/traces), and print
                               the ids of a producer trace and of a consumer trace linked to it
      --jaeger                 start a Jaeger (the jaegertracing/jaeger image through Testcontainers
                               when Docker is there, with its web UI; else the cached Go build, API
                               only), send the spans to it, print the traces' addresses and keep it
                               running until Ctrl-C
  -h, --help                   this help`

/** ModeTraces names a mode's traces (the example's type): the producer's, and the ones with consumer spans. */
interface ModeTraces {
  producer: string
  consumer: string[]
}

/** TraceTrees is what ./trace-trees.ts's kotelTraceTrees returns: each mode's trees, two side by side, the trace ids. */
interface TraceTrees {
  default: string
  link: string
  linkPerSpan: string
  sideBySide: string
  traces: { default: ModeTraces; link: ModeTraces; linkPerSpan: ModeTraces }
}

/** KotelTraceTrees is the signature of that example's exported function. */
type KotelTraceTrees = (opts: { seedBrokers?: string[]; records?: number; otlpEndpoint?: string }) => Promise<TraceTrees>

export async function demoCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire demo'
  const { values } = parse(cmd, argv, { ...BROKERS_OPTION, records: { type: 'string', short: 'n' }, 'otlp-endpoint': { type: 'string' }, jaeger: { type: 'boolean' } })
  if (values.help) {
    console.log(DEMO_HELP)
    return 0
  }
  const records = int(cmd, 'records', values.records as string | undefined, 100_000, 1)
  let otlpEndpoint = values['otlp-endpoint'] as string | undefined
  if (otlpEndpoint !== undefined && values.jaeger) throw new UsageError(`${cmd}: --otlp-endpoint and --jaeger are two ways to name where traces go; give one`)
  if (otlpEndpoint !== undefined) {
    let u: URL
    try {
      u = new URL(otlpEndpoint)
    } catch {
      throw new UsageError(`${cmd}: --otlp-endpoint must be an http(s) URL such as http://127.0.0.1:4318, got ${JSON.stringify(otlpEndpoint)}`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${cmd}: --otlp-endpoint must be an http(s) URL such as http://127.0.0.1:4318, got ${JSON.stringify(otlpEndpoint)}`)
    otlpEndpoint = otlpEndpoint.replace(/\/+$/, '').replace(/\/v1\/traces$/, '')
  }
  let jaeger: Jaeger | null = null
  let cluster: KafkaCluster | null = null
  let brokers = brokersFrom(values.brokers as string | undefined)
  if (brokers === undefined) {
    cluster = await startLocalKafka()
    brokers = cluster.bootstrapServers
    console.log(`broker: ${brokers.join(',')} (Kafka ${cluster.version ?? '?'}, ${cluster.kind})`)
  }
  try {
    if (values.jaeger) {
      const t = performance.now()
      jaeger = await startJaeger({ prefer: 'docker', log: (l) => console.log(`jaeger: ${l}`) })
      otlpEndpoint = jaeger.otlpHttpUrl
      console.log(`jaeger: ${jaeger.kind === 'docker' ? 'container' : jaeger.kind === 'binary' ? 'Go build' : 'JAEGER_URL'} ready in ${((performance.now() - t) / 1000).toFixed(1)} s, query at ${jaeger.queryUrl}${jaeger.hasUi ? ' (web UI)' : ' (API only)'}`)
    }
    // ---- KOTEL DEMO CALL SITE ----------------------------------------------------------------
    // The trace trees come from ./trace-trees.ts (kotelTraceTrees): a producer and a
    // consumer with kotel hooks, in the default parent/child mode and in link mode.
    const loaded = await loadKotelTraceTrees(otlpEndpoint !== undefined)
    if (typeof loaded === 'function') {
      const trees = await loaded({ seedBrokers: brokers, records: 2, otlpEndpoint })
      const width = Math.max(...trees.sideBySide.split('\n').map((l) => l.length))
      console.log('\ntrace trees: produce → consume → process, in kotel\'s modes\n')
      if (width <= (process.stdout.columns ?? 160)) console.log(trees.sideBySide)
      else console.log(`default mode (linkSpans: false)\n\n${trees.default}\n\nlink mode (linkSpans: true)\n\n${trees.link}`)
      console.log(`\nlink mode with linkedTraces: 'span' (franz-go kotel's LinkSpans shape)\n\n${trees.linkPerSpan}\n`)
      if (otlpEndpoint !== undefined) console.log(`${tracesSent(trees, otlpEndpoint, jaeger)}\n`)
    } else {
      if (otlpEndpoint !== undefined) throw new CliError(`${cmd}: cannot send traces to ${otlpEndpoint}: ${loaded}`)
      console.log(`trace trees: skipped — ${loaded}`)
    }
    // -------------------------------------------------------------------------------------------
    console.log(await throughput(brokers, records))
    if (jaeger !== null && jaeger.kind !== 'external') await keepJaeger(jaeger)
  } finally {
    await cluster?.stop()
    await jaeger?.stop()
  }
  return 0
}

/** tracesSent says where the link-mode traces went: a producer trace and a consumer trace linked to it (and the default mode's one trace). */
function tracesSent(trees: TraceTrees, endpoint: string, jaeger: Jaeger | null): string {
  const show = (traceId: string) => {
    if (jaeger === null) return traceId
    return `${traceId}  ${jaeger.hasUi ? jaeger.traceUrl(traceId) : `${jaeger.queryUrl}/api/traces/${traceId}`}`
  }
  const lines = [
    `traces sent over OTLP to ${endpoint}/v1/traces (services checkout and billing):`,
    `  producer trace (link mode)         ${show(trees.traces.link.producer)}`,
    `  linked consumer trace (link mode)  ${show(trees.traces.link.consumer[0]!)}`,
    `  one trace (default mode)           ${show(trees.traces.default.producer)}`,
  ]
  if (jaeger !== null && !jaeger.hasUi) lines.push('  (this Jaeger is the Go build, which has no web UI: the addresses are its JSON API; `--jaeger` with Docker and testcontainers gives the UI)')
  return lines.join('\n')
}

/** keepJaeger keeps a Jaeger the demo started until Ctrl-C, so the printed addresses can be opened; without a terminal it returns at once. */
async function keepJaeger(jaeger: Jaeger): Promise<void> {
  if (!process.stdin.isTTY) {
    console.log('jaeger: no terminal to wait on; stopping Jaeger (its storage is in memory, so the traces go with it)')
    return
  }
  console.log(`jaeger: running at ${jaeger.queryUrl}; press Ctrl-C to stop it (its storage is in memory)`)
  await new Promise<void>((resolve) => {
    const done = () => {
      process.removeListener('SIGINT', done)
      process.removeListener('SIGTERM', done)
      resolve()
    }
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
  })
}

/**
 * TRACE_TREES_PACKAGES are the OpenTelemetry packages the trace trees record spans with, at the major
 * versions trace-trees.ts is written for; kotel itself needs only @opentelemetry/api.
 */
export const TRACE_TREES_PACKAGES = ['@opentelemetry/api@1', '@opentelemetry/sdk-trace-base@2', '@opentelemetry/context-async-hooks@2']

/**
 * loadKotelTraceTrees returns trace-trees.ts's function, or why it cannot be had here. It is imported
 * only now, so that the command loads (and every other subcommand runs) without OpenTelemetry.
 */
async function loadKotelTraceTrees(otlp: boolean): Promise<KotelTraceTrees | string> {
  const missing = (err: unknown) => {
    const e = err as { code?: string; message?: string }
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') return null
    return /'(@opentelemetry\/[^/']+)/.exec(e.message ?? '')?.[1] ?? 'an OpenTelemetry package'
  }
  try {
    const mod = (await import('./trace-trees.js')) as { kotelTraceTrees: KotelTraceTrees }
    if (otlp) await Promise.all([import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources')])
    return mod.kotelTraceTrees
  } catch (err) {
    const pkg = missing(err)
    if (pkg === null) throw err
    const install = [...TRACE_TREES_PACKAGES, ...(otlp ? ['@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources@2'] : [])]
    return `the trees are recorded with the OpenTelemetry SDK, and ${pkg} is not installed here: \`npm install ${install.join(' ')}\` beside kafka-wire brings them`
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
