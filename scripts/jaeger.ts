// npm run jaeger [-- --docker] [--build-only] [--check]
//
// Starts a Jaeger (v2, in-memory) for local work in the foreground (see src/testing/jaeger.ts), prints
// where it takes OTLP and where its query service (and UI, for the container) listens, and stops it on
// Ctrl-C. --build-only builds the Go program into the cache (when it is not there yet) and exits, so CI
// shows the build time on its own line; --check starts one, prints how long that took and stops it;
// --docker prefers the container, which has the web UI.
import { parseArgs } from 'node:util'
import { buildJaeger, isJaegerBuilt, JAEGER_MODULE_VERSION, jaegerBinarySize, startJaeger, type Jaeger } from '../src/testing/jaeger.js'

const { values } = parseArgs({
  options: {
    docker: { type: 'boolean', default: false },
    'build-only': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.help) {
  console.log('usage: npm run jaeger -- [--docker] [--build-only] [--check]')
  process.exit(0)
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`

if (values['build-only']) {
  const t = performance.now()
  const cached = isJaegerBuilt()
  const bin = await buildJaeger({ log: (l) => console.log(l) })
  const mb = (((await jaegerBinarySize()) ?? 0) / 1024 / 1024).toFixed(1)
  console.log(`Jaeger ${JAEGER_MODULE_VERSION} ${cached ? 'already built' : 'built'} in ${seconds(t)}: ${bin} (${mb} MiB)`)
  process.exit(0)
}

if (values.check) {
  const t = performance.now()
  const j = await startJaeger({ prefer: values.docker ? 'docker' : 'binary', log: (l) => console.log(l) })
  const ready = seconds(t)
  await j.stop()
  console.log(`Jaeger (${j.kind}) started and answered in ${ready}`)
  process.exit(0)
}

const ac = new AbortController()
let jaeger: Jaeger | undefined
let stopping = false
const onSignal = (sig: NodeJS.Signals) => {
  if (stopping) return
  stopping = true
  if (jaeger === undefined) {
    ac.abort(new Error(`interrupted by ${sig}`))
    return
  }
  void jaeger.stop().then(() => process.exit(0))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

const t = performance.now()
try {
  jaeger = await startJaeger({ prefer: values.docker ? 'docker' : 'binary', log: (l) => console.log(l), signal: ac.signal })
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
}
console.log(`Jaeger (${jaeger.kind}) ready in ${seconds(t)}`)
console.log(`  OTLP/HTTP  ${jaeger.otlpHttpUrl}   (traces: ${jaeger.otlpHttpUrl}/v1/traces)`)
if (jaeger.otlpGrpcAddress) console.log(`  OTLP/gRPC  ${jaeger.otlpGrpcAddress}`)
console.log(`  query      ${jaeger.queryUrl}${jaeger.hasUi ? '   (web UI)' : '   (API only: /api/traces/{id}, /api/v3/traces/{id}; this build has no web UI)'}`)
console.log(`  npx tsx src/cli/index.ts demo --otlp-endpoint ${jaeger.otlpHttpUrl}   sends the demo's traces here`)
console.log('Ctrl-C stops it.')
