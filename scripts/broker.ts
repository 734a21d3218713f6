// npm run broker [-- --brokers 3] [--sasl] [--tls] [--authorizer] [--version X] [--resolve-only]
//
// Starts a Kafka cluster for local work in the foreground (see src/testing), prints where it listens
// and the variables that point `npm test` at it, and stops it on Ctrl-C. --resolve-only fetches the
// jars into the cache and exits, so CI can show download time on its own line.
import { parseArgs } from 'node:util'
import { folderSize, isKafkaResolved, resolveKafkaClientsJar, resolveKafkaJars } from '../src/testing/maven.js'
import { KAFKA_VERSION, startKafka } from '../src/testing/index.js'

const { values } = parseArgs({
  options: {
    brokers: { type: 'string', default: '1' },
    sasl: { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    authorizer: { type: 'boolean', default: false },
    version: { type: 'string', default: KAFKA_VERSION },
    'resolve-only': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.help) {
  console.log('usage: npm run broker -- [--brokers 1|3] [--sasl] [--tls] [--authorizer] [--version X.Y.Z] [--resolve-only]')
  process.exit(0)
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`
const version = values.version

if (values['resolve-only']) {
  const t = performance.now()
  const cached = isKafkaResolved(version)
  const libs = await resolveKafkaJars(version, { log: (l) => console.log(l) })
  await resolveKafkaClientsJar(version)
  const mb = ((await folderSize(libs)) / 1024 / 1024).toFixed(1)
  console.log(`Kafka ${version} jars ${cached ? 'already cached' : 'resolved'} in ${seconds(t)}: ${libs} (${mb} MiB)`)
  process.exit(0)
}

const brokers = Number(values.brokers)
if (brokers !== 1 && brokers !== 3) {
  console.error(`--brokers must be 1 or 3, got ${values.brokers}`)
  process.exit(2)
}

// Ctrl-C during the start aborts it (and removes what was started); after it, it stops the cluster.
const ac = new AbortController()
let stopping: Promise<void> | undefined
let stopCluster: (() => Promise<void>) | undefined
const onSignal = (sig: NodeJS.Signals) => {
  if (stopping) return
  if (!stopCluster) {
    ac.abort(new Error(`interrupted by ${sig}`))
    return
  }
  console.log(`\n${sig}: stopping`)
  const t = performance.now()
  stopping = stopCluster().then(
    () => {
      console.log(`stopped in ${seconds(t)}`)
      process.exit(0)
    },
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

const t = performance.now()
const cluster = await startKafka({ brokers, sasl: values.sasl, tls: values.tls, authorizer: values.authorizer, version, signal: ac.signal, log: (l) => console.log(l) }).catch(
  (err: unknown) => {
    console.error(`could not start Kafka: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  },
)
stopCluster = () => cluster.stop()
console.log(`broker${brokers > 1 ? 's' : ''} ready in ${seconds(t)} (Kafka ${cluster.version ?? '?'}, ${cluster.kind})`)
const env: Record<string, string | undefined> = {
  KAFKA_BOOTSTRAP: cluster.bootstrapServers.join(','),
  KAFKA_SASL_BOOTSTRAP: cluster.saslBootstrapServers?.join(','),
  KAFKA_TLS_BOOTSTRAP: cluster.tlsBootstrapServers?.join(','),
  KAFKA_SASL_TLS_BOOTSTRAP: cluster.saslTlsBootstrapServers?.join(','),
  KAFKA_TLS_CA_FILE: cluster.caFile,
  KAFKA_JARS: cluster.javaClasspath?.replace(/[/\\]\*$/, ''),
  KAFKA_BROKERS: String(cluster.brokers),
  KAFKA_CLUSTER_VERSION: cluster.version,
}
console.log('point tests at it with:')
for (const [k, v] of Object.entries(env)) if (v) console.log(`  export ${k}=${v}`)
if (cluster.dir) console.log(`data and logs: ${cluster.dir} (removed on stop)`)
console.log('Ctrl-C stops it.')
// The JVMs are unref'd children, so something must keep this process alive until a signal arrives.
setInterval(() => {}, 1 << 30)
