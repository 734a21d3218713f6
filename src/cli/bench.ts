/**
 * `kafka-wire bench`: one workload with kafka-wire alone, against a given broker or one started for
 * it, with a live progress line. The side-by-side comparison with other clients is bench/run.ts in
 * the repository; this is the quick check of a machine or a cluster.
 */
import { performance } from 'node:perf_hooks'
import type { Client } from '../client/client.js'
import type { Acks, CompressionName } from '../client/options.js'
import type { ProduceRecord } from '../protocol/record.js'
import type { KafkaCluster } from '../testing/index.js'
import { startLocalKafka } from './broker.js'
import { BROKERS_OPTION, CliError, Progress, UsageError, brokersFrom, int, newClient, num, onInterrupt, parse, reach, createTopic, deleteTopic } from './common.js'

export const BENCH_HELP = `usage: kafka-wire bench [options]

Produces records to a fresh topic and reads them back, with a progress line, then prints records/s,
MB/s, ack latency percentiles and CPU time. Without -b or KAFKA_BOOTSTRAP it starts a broker first.

  -b, --brokers HOST:PORT[,…]  seed brokers (default: $KAFKA_BOOTSTRAP, else start one)
  -w, --workload NAME          produce, consume or roundtrip (default roundtrip: produce, then consume)
  -n, --records N              records (default 1000000)
  -s, --size BYTES             value size (default 1024)
  -P, --partitions N           partitions of the fresh topic (default 6)
  -z, --compression CODEC      none, gzip, snappy, lz4 or zstd (default lz4)
      --acks 0|1|all           required acks (default all, idempotent)
      --linger MS              producer linger (default 10)
      --keep                   keep the topic afterwards
  -h, --help                   this help`

export async function benchCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire bench'
  const { values } = parse(cmd, argv, {
    ...BROKERS_OPTION,
    workload: { type: 'string', short: 'w' },
    records: { type: 'string', short: 'n' },
    size: { type: 'string', short: 's' },
    partitions: { type: 'string', short: 'P' },
    compression: { type: 'string', short: 'z' },
    acks: { type: 'string' },
    linger: { type: 'string' },
    keep: { type: 'boolean' },
  })
  if (values.help) {
    console.log(BENCH_HELP)
    return 0
  }
  const workload = (values.workload as string | undefined) ?? 'roundtrip'
  if (!['produce', 'consume', 'roundtrip'].includes(workload)) throw new UsageError(`${cmd}: --workload must be produce, consume or roundtrip, got ${JSON.stringify(workload)}`)
  const records = int(cmd, 'records', values.records as string | undefined, 1_000_000, 1)
  const size = int(cmd, 'size', values.size as string | undefined, 1024, 0)
  const partitions = int(cmd, 'partitions', values.partitions as string | undefined, 6, 1)
  const codec = (values.compression as string | undefined) ?? 'lz4'
  if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(codec)) throw new UsageError(`${cmd}: --compression must be none, gzip, snappy, lz4 or zstd, got ${JSON.stringify(codec)}`)
  const acksFlag = (values.acks as string | undefined) ?? 'all'
  if (!['0', '1', 'all'].includes(acksFlag)) throw new UsageError(`${cmd}: --acks must be 0, 1 or all`)
  const acks: Acks = acksFlag === 'all' ? 'all' : (Number(acksFlag) as 0 | 1)
  const linger = int(cmd, 'linger', values.linger as string | undefined, 10)

  let cluster: KafkaCluster | null = null
  let brokers = brokersFrom(values.brokers as string | undefined)
  if (brokers === undefined) {
    cluster = await startLocalKafka()
    brokers = cluster.bootstrapServers
  }
  const client = newClient(cmd, {
    seedBrokers: brokers,
    requiredAcks: acks,
    disableIdempotentWrite: acks !== 'all',
    linger,
    producerBatchCompression: [codec as CompressionName],
  })
  const topic = `kafka-wire-bench-${Date.now().toString(36)}`
  try {
    await reach(client, brokers, undefined, 10_000)
    await createTopic(client, topic, partitions)
    process.stderr.write(`topic ${topic}: ${partitions} partitions; ${num(records)} records of ${num(size)} bytes, ${codec}, acks ${acksFlag}, linger ${linger} ms\n`)
    const value = Buffer.alloc(size)
    for (let i = 0; i < size; i++) value[i] = 65 + ((i * 7919) % 26)
    const results: string[] = []
    if (workload !== 'consume') results.push(await produce(client, topic, records, value))
    if (workload !== 'produce') results.push(await consume(brokers, topic, records))
    for (const r of results) console.log(r)
    if (!values.keep) await deleteTopic(client, topic)
  } finally {
    await client.close()
    await cluster?.stop()
  }
  return 0
}

async function produce(client: Client, topic: string, n: number, value: Buffer): Promise<string> {
  const progress = new Progress()
  const lat = new Float64Array(Math.min(n, 1_000_000))
  let acked = 0
  let outstanding = 0
  let failed: Error | null = null
  let wake: (() => void) | null = null
  let stop = false
  onInterrupt(() => (stop = true))
  const sentAt = new Float64Array(n)
  const cb = (r: ProduceRecord, err: Error | null) => {
    if (err) failed ??= err
    const i = (r as ProduceRecord & { i: number }).i
    if (acked < lat.length) lat[acked] = performance.now() - sentAt[i]!
    acked++
    if (--outstanding <= 5_000 && wake !== null) {
      const w = wake
      wake = null
      w()
    }
  }
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const line = () => {
    const s = (performance.now() - t0) / 1000
    return `produce ${num(acked)}/${num(n)} (${num((acked / n) * 100)}%)  ${num(acked / s)} rec/s  ${num((acked * value.length) / 1048576 / s, 1)} MB/s`
  }
  for (let i = 0; i < n && !stop; i++) {
    if (outstanding >= 10_000) await new Promise<void>((r) => (wake = r))
    if (failed) throw new CliError(`produce failed: ${(failed as Error).message}`)
    outstanding++
    sentAt[i] = performance.now()
    client.produce({ topic, value, i } as ProduceRecord, cb)
    progress.update(line)
  }
  await client.flush()
  progress.update(line, true)
  progress.done()
  if (failed) throw new CliError(`produce failed: ${(failed as Error).message}`)
  const s = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const sorted = lat.subarray(0, Math.min(acked, lat.length)).sort()
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
  return `produce: ${num(acked)} records in ${num(s, 2)} s = ${num(acked / s)} records/s, ${num((acked * value.length) / 1048576 / s, 1)} MB/s; ack latency p50 ${num(pct(50), 1)} ms, p99 ${num(pct(99), 1)} ms; CPU ${num((cpu.user + cpu.system) / 1e6 / (acked / 1e6), 1)} s per million records`
}

async function consume(brokers: string[], topic: string, n: number): Promise<string> {
  const client = newClient('kafka-wire bench', { seedBrokers: brokers, consumePartitions: {}, consumeTopics: [topic] })
  const progress = new Progress()
  let got = 0
  let bytes = 0
  let t0 = 0
  let cpu0 = process.cpuUsage()
  let stop = false
  onInterrupt(() => (stop = true))
  const line = () => {
    const s = (performance.now() - t0) / 1000
    return `consume ${num(got)}/${num(n)} (${num((got / n) * 100)}%)  ${num(got / s)} rec/s  ${num(bytes / 1048576 / s, 1)} MB/s`
  }
  try {
    const ac = new AbortController()
    const idle = setTimeout(() => ac.abort(new Error('no records for 30 s')), 30_000)
    while (got < n && !stop) {
      const f = await client.pollFetches({ signal: ac.signal })
      const errs = f.errors()
      if (errs.length > 0) throw new CliError(`consume failed: ${errs[0]!.error.message}`)
      if (t0 === 0 && f.numRecords() > 0) {
        t0 = performance.now()
        cpu0 = process.cpuUsage()
      }
      f.eachRecord((r) => {
        got++
        bytes += r.value?.length ?? 0
      })
      idle.refresh()
      progress.update(line)
    }
    clearTimeout(idle)
  } finally {
    await client.close()
  }
  progress.update(line, true)
  progress.done()
  const s = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return `consume: ${num(got)} records in ${num(s, 2)} s = ${num(got / s)} records/s, ${num(bytes / 1048576 / s, 1)} MB/s; CPU ${num((cpu.user + cpu.system) / 1e6 / (got / 1e6), 1)} s per million records`
}
