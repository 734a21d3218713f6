/**
 * `kafka-wire broker`: a local Kafka broker in the foreground (kafka-wire/testing: Docker, else
 * Kafka's jars on the machine's Java), its bootstrap address on stdout, stopped by Ctrl-C.
 */
import { KAFKA_VERSION, startKafka, type KafkaCluster } from '../testing/index.js'
import { CliError, UsageError, onInterrupt, parse } from './common.js'

export const BROKER_HELP = `usage: kafka-wire broker [options]

Starts a local Kafka broker (KRaft, data in a temporary folder) and keeps it in the foreground.
Prints its bootstrap address on stdout once it is ready; Ctrl-C stops it and removes its data.
Needs Docker (with the testcontainers package) or Java 17+; Kafka's jars are fetched from Maven
Central once per machine.

      --nodes 1|3          number of brokers (default 1)
      --sasl               add SASL_PLAINTEXT listeners (PLAIN, SCRAM-SHA-256/512; user alice/alice-secret)
      --tls                add SSL listeners (a CA file is printed)
      --kafka VERSION      Apache Kafka release (default ${KAFKA_VERSION})
      --heap SIZE          broker JVM heap, e.g. 2g (default 768m for one node)
  -h, --help               this help`

export async function brokerCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire broker'
  const { values } = parse(cmd, argv, {
    nodes: { type: 'string' },
    sasl: { type: 'boolean' },
    tls: { type: 'boolean' },
    kafka: { type: 'string' },
    heap: { type: 'string' },
  })
  if (values.help) {
    console.log(BROKER_HELP)
    return 0
  }
  const nodes = values.nodes === undefined ? 1 : Number(values.nodes)
  if (nodes !== 1 && nodes !== 3) throw new UsageError(`${cmd}: --nodes must be 1 or 3, got ${JSON.stringify(values.nodes)}`)
  const heap = values.heap as string | undefined
  if (heap !== undefined && !/^\d+[kmgKMG]?$/.test(heap)) throw new UsageError(`${cmd}: --heap wants a JVM size such as 2g or 768m, got ${JSON.stringify(heap)}`)
  const cluster = await startLocalKafka({ brokers: nodes as 1 | 3, sasl: values.sasl === true, tls: values.tls === true, version: (values.kafka as string | undefined) ?? KAFKA_VERSION, ...(heap ? { jvmArgs: [`-Xms${heap}`, `-Xmx${heap}`] } : {}) }, true)
  console.log(cluster.bootstrapServers.join(','))
  const extra: Array<[string, string | undefined]> = [
    ['SASL (PLAIN/SCRAM, alice/alice-secret)', cluster.saslBootstrapServers?.join(',')],
    ['TLS', cluster.tlsBootstrapServers?.join(',')],
    ['SASL over TLS', cluster.saslTlsBootstrapServers?.join(',')],
    ['TLS CA file', cluster.caFile],
  ]
  for (const [what, v] of extra) if (v) process.stderr.write(`${what}: ${v}\n`)
  process.stderr.write(`Kafka ${cluster.version ?? '?'} (${cluster.kind}) is ready. Use it with: export KAFKA_BOOTSTRAP=${cluster.bootstrapServers.join(',')}\nCtrl-C stops it.\n`)
  await new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30)
    onInterrupt(() => {
      process.stderr.write('stopping…\n')
      cluster.stop().finally(() => {
        clearInterval(keepAlive)
        resolve()
      })
    })
  })
  return 0
}

/**
 * startLocalKafka starts a broker here even when KAFKA_BOOTSTRAP names one (that variable is for
 * commands that should use a running cluster); Ctrl-C during the start aborts it.
 */
export async function startLocalKafka(opts: Parameters<typeof startKafka>[0] = {}, verbose = false): Promise<KafkaCluster> {
  const saved = process.env.KAFKA_BOOTSTRAP
  delete process.env.KAFKA_BOOTSTRAP
  const ac = new AbortController()
  const onSig = () => ac.abort(new Error('interrupted'))
  process.once('SIGINT', onSig)
  const t = Date.now()
  process.stderr.write('starting Kafka (the first start on a machine fetches its jars)…\n')
  try {
    return await startKafka({ ...opts, signal: ac.signal, ...(verbose ? { log: (l: string) => process.stderr.write(`  ${l}\n`) } : {}) })
  } catch (err) {
    throw new CliError(`could not start a Kafka broker: ${err instanceof Error ? err.message : String(err)}`)
  } finally {
    process.off('SIGINT', onSig)
    if (saved !== undefined) process.env.KAFKA_BOOTSTRAP = saved
    process.stderr.write(`(${((Date.now() - t) / 1000).toFixed(1)} s)\n`)
  }
}
