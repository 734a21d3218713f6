// npm test [-- [node test options as --name=value] [files, folders or globs]]
//
// Starts ONE single-node Kafka broker (PLAINTEXT + SASL_PLAINTEXT + SSL + SASL_SSL) for the whole run,
// hands its addresses to the test processes through KAFKA_* variables (startKafka() in a test file then
// returns it), runs `node --test` over test/**/*.test.ts or the given paths, stops the broker and exits
// with the test run's exit code. A broker that cannot start fails the run: tests never skip silently.
// With KAFKA_BOOTSTRAP already set, it starts nothing and uses that cluster.
//
// The broker comes from the JVM path (Kafka's jars and the machine's Java) unless KAFKA_WIRE_HARNESS
// says `docker`: the suite's own choice is fixed so that a Docker engine left running on a machine does
// not change what `npm test` means. Test files that start clusters of their own inherit the choice.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { isKafkaResolved, startKafka, type KafkaCluster } from '../src/testing/index.js'

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`
const args = process.argv.slice(2)
const nodeOptions = args.filter((a) => a.startsWith('-'))
const patterns = args.filter((a) => !a.startsWith('-'))
// test/containers/ needs a Docker engine and runs under `npm run test:containers`, which names it.
const files = patterns.length > 0 ? expand(patterns) : expand(['test/**/*.test.ts']).filter((f) => !f.startsWith('test/containers/'))
if (files.length === 0) {
  console.error(`no test files match ${patterns.join(' ') || 'test/**/*.test.ts'}`)
  process.exit(1)
}

process.env.KAFKA_WIRE_HARNESS ||= 'jvm'
const env: NodeJS.ProcessEnv = { ...process.env }
let cluster: KafkaCluster | undefined
if (process.env.KAFKA_BOOTSTRAP) {
  console.log(`using the Kafka cluster at KAFKA_BOOTSTRAP=${process.env.KAFKA_BOOTSTRAP}`)
} else {
  const t = performance.now()
  if (!isKafkaResolved()) console.log('fetching the Kafka jars first (once per machine; see `npm run broker -- --resolve-only`)')
  try {
    cluster = await startKafka({ sasl: true, tls: true, log: (l) => process.env.KAFKA_WIRE_VERBOSE && console.log(l) })
  } catch (err) {
    console.error(`could not start a Kafka broker for the tests:\n${err instanceof Error ? err.message : String(err)}`)
    console.error('(set KAFKA_BOOTSTRAP to use a running cluster instead)')
    process.exit(1)
  }
  console.log(`broker ready in ${seconds(t)} (Kafka ${cluster.version}, ${cluster.kind}, ${cluster.bootstrapServers.join(',')})`)
  Object.assign(env, {
    KAFKA_BOOTSTRAP: cluster.bootstrapServers.join(','),
    KAFKA_BROKERS: String(cluster.brokers),
    KAFKA_CLUSTER_VERSION: cluster.version ?? '',
  })
  const optional: Record<string, string | undefined> = {
    KAFKA_SASL_BOOTSTRAP: cluster.saslBootstrapServers?.join(','),
    KAFKA_TLS_BOOTSTRAP: cluster.tlsBootstrapServers?.join(','),
    KAFKA_SASL_TLS_BOOTSTRAP: cluster.saslTlsBootstrapServers?.join(','),
    KAFKA_TLS_CA_FILE: cluster.caFile,
    KAFKA_JARS: cluster.javaClasspath?.replace(/[/\\]\*$/, ''),
  }
  for (const [k, v] of Object.entries(optional)) if (v) env[k] = v
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...nodeOptions, ...files], { stdio: 'inherit', env })
// A terminal's Ctrl-C reaches the test runner too; a SIGTERM from a CI runner reaches only us.
const forward = (sig: NodeJS.Signals) => () => {
  child.kill(sig)
}
process.on('SIGINT', forward('SIGINT'))
process.on('SIGTERM', forward('SIGTERM'))
const code = await new Promise<number>((resolve) => {
  child.on('error', (err) => {
    console.error(`could not run node --test: ${err.message}`)
    resolve(1)
  })
  child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 + signalNumber(sig) : 1)))
})
if (cluster) {
  const t = performance.now()
  await cluster.stop().catch((err: unknown) => console.error(`stopping the broker failed: ${String(err)}`))
  // Quiet on success: the test runner's summary should stay the last lines of the output.
  if (performance.now() - t > 5000) console.error(`broker stopped in ${seconds(t)}`)
}
process.exit(code)

function signalNumber(sig: NodeJS.Signals): number {
  return ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig] ?? 0
}

/** expand turns files, folders and globs (`*`, `**`, `?`) into a sorted list of test files. */
function expand(patterns: string[]): string[] {
  const out = new Set<string>()
  for (const pattern of patterns) {
    if (!/[*?[]/.test(pattern)) {
      if (!existsSync(pattern)) {
        console.error(`no such test file or folder: ${pattern}`)
        process.exit(1)
      }
      if (statSync(pattern).isDirectory()) {
        for (const f of walk(pattern)) if (f.endsWith('.test.ts')) out.add(f)
      } else {
        out.add(pattern)
      }
      continue
    }
    const parts = pattern.split('/')
    const firstGlob = parts.findIndex((p) => /[*?[]/.test(p))
    const base = parts.slice(0, firstGlob).join('/') || '.'
    const re = globToRegExp(pattern.replace(/^\.\//, ''))
    if (!existsSync(base)) continue
    for (const f of walk(base)) if (re.test(f)) out.add(f)
  }
  return [...out].sort()
}

function walk(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...walk(path))
    else found.push(relative('.', path).split(sep).join('/'))
  }
  return found
}

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more folders
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*'
      i += glob[i + 2] === '/' ? 2 : 1
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}
