/**
 * The Java client, through Kafka's own ProducerPerformance and ConsumerPerformance from the same jars
 * as the broker, run under GNU time for the process's CPU seconds and peak RSS. Unlike the Node
 * workers, the figures cover the whole JVM (start-up and JIT included): there is no way to read the
 * window alone from outside, and the tools print their own throughput for their timed part.
 *
 * The JVM runs with its default JIT (not the C1-only flags `runKafkaJavaTool` uses for short tools).
 */
import { spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findJava, toolsLog4jConfig } from '../../src/testing/java.js'
import { resolveKafkaJars } from '../../src/testing/maven.js'
import { KAFKA_VERSION } from '../../src/testing/kafka-version.js'
import type { WorkerResult, WorkloadSpec } from './measure.js'

interface Timed {
  code: number | null
  stdout: string
  stderr: string
  cpuSeconds: number
  peakRssMB: number
  wallSeconds: number
}

async function runJava(mainClass: string, args: string[], timeoutMs: number, libs?: string): Promise<Timed> {
  const [{ java }, log4j] = await Promise.all([findJava(), toolsLog4jConfig()])
  const jars = libs ?? (await resolveKafkaJars(KAFKA_VERSION))
  const jvm = ['-Xmx1g', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4j}`, '-cp', join(jars, '*'), mainClass, ...args]
  const useTime = existsSync('/usr/bin/time')
  const cmd = useTime ? '/usr/bin/time' : java
  const argv = useTime ? ['-f', '@@TIME %e %U %S %M', java, ...jvm] : jvm
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const m = /@@TIME (\S+) (\S+) (\S+) (\d+)/.exec(err)
      resolve({
        code,
        stdout: out,
        stderr: err.replace(/@@TIME.*\n?/, ''),
        wallSeconds: m ? Number(m[1]) : NaN,
        cpuSeconds: m ? Number(m[2]) + Number(m[3]) : NaN,
        peakRssMB: m ? Math.round(Number(m[4]) / 102.4) / 10 : NaN,
      })
    })
  })
}

function base(spec: WorkloadSpec, t: Timed, records: number, seconds: number, bytes: number): WorkerResult {
  return {
    client: 'java',
    clientVersion: KAFKA_VERSION,
    node: '',
    workload: spec.workload,
    records,
    bytes,
    seconds,
    recordsPerSec: Math.round(records / seconds),
    mbPerSec: Math.round((bytes / 1048576 / seconds) * 100) / 100,
    latency: null,
    latencyKind: '',
    cpuSeconds: t.cpuSeconds,
    cpuSecondsPerMillion: Math.round((t.cpuSeconds / records) * 1e6 * 100) / 100,
    peakRssMB: t.peakRssMB,
    elu: null,
    notes: ['CPU and RSS of the whole JVM, start-up and JIT included'],
  }
}

/**
 * producerPerformance runs the 1 KiB produce with the workload's codec (rate -1) or the latency
 * workload's producer side (a fixed rate). It prints a final line "N records sent, X records/sec (Y MB/sec), A ms avg latency,
 * M ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th."; its latency is send →
 * acknowledgement, not end to end.
 *
 * produce-transactional runs it with --transactional-id and --transaction-duration-ms: the tool
 * begins a transaction, sends, and commits once a send starts `transactionMs` or more after the
 * transaction began — by time, not by count (its only mode). So its transactions hold as many records
 * as it hands the producer in that time, not 1,000; run.ts counts them afterwards from the
 * coordinator (checkTransactional) and the results give the records per transaction it reached.
 */
export async function producerPerformance(spec: WorkloadSpec, libs?: string): Promise<WorkerResult> {
  const records = spec.workload === 'latency' ? Math.round(spec.rate * spec.seconds) : spec.records
  const args = [
    '--topic', spec.topic,
    '--num-records', String(records),
    '--payload-file', spec.payloadFile,
    '--throughput', spec.workload === 'latency' ? String(spec.rate) : '-1',
    ...(spec.workload === 'produce-transactional' ? ['--transactional-id', spec.transactionalId, '--transaction-duration-ms', String(spec.transactionMs)] : []),
    '--producer-props', `bootstrap.servers=${spec.bootstrap.join(',')}`, 'acks=all', 'enable.idempotence=true', `compression.type=${spec.compression}`, 'client.id=bench',
  ]
  const t = await runJava('org.apache.kafka.tools.ProducerPerformance', args, 30 * 60_000, libs)
  const last = t.stdout.trim().split('\n').filter((l) => /records sent/.test(l)).pop() ?? ''
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th/.exec(last)
  if (t.code !== 0 || !m) throw new Error(`ProducerPerformance failed (exit ${t.code}):\n${t.stdout.slice(-1500)}\n${t.stderr.slice(-1500)}`)
  const sent = Number(m[1])
  const rps = Number(m[2])
  const seconds = sent / rps
  const r = base(spec, t, sent, Math.round(seconds * 1000) / 1000, sent * 1024)
  r.recordsPerSec = Math.round(rps)
  r.mbPerSec = Number(m[3])
  if (spec.workload === 'produce-transactional') r.notes.push(`transactions by time: --transaction-duration-ms ${spec.transactionMs}`)
  r.latency = { count: sent, p50: Number(m[6]), p99: Number(m[8]), p999: Number(m[9]), max: Number(m[5]), mean: Number(m[4]) }
  r.latencyKind = spec.workload === 'latency' ? 'send → ack (ProducerPerformance; not end to end)' : spec.workload === 'produce-transactional' ? 'per record, send → ack (not per transaction)' : 'per record, send → ack'
  return r
}

/**
 * consumerPerformance consumes `spec.records` in a fresh group from the earliest offset. Its figures
 * come from the tool's "fetch" columns, which leave out the group join, as the Node workers' window
 * does. The peer methodology's consume gets the same 2 KiB fetches and 10 ms wait.
 */
export async function consumerPerformance(spec: WorkloadSpec, tmpDir: string, libs?: string): Promise<WorkerResult> {
  const config = join(tmpDir, `consumer-${spec.group}.properties`)
  const props = ['auto.offset.reset=earliest', 'enable.auto.commit=false', 'client.id=bench']
  if (spec.workload === 'consume') props.push('fetch.max.bytes=2048', 'max.partition.fetch.bytes=2048', 'fetch.max.wait.ms=10')
  writeFileSync(config, props.join('\n') + '\n')
  const args = ['--bootstrap-server', spec.bootstrap.join(','), '--topic', spec.topic, '--messages', String(spec.records), '--group', spec.group, '--consumer.config', config, '--timeout', '60000']
  const t = await runJava('org.apache.kafka.tools.ConsumerPerformance', args, 30 * 60_000, libs)
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = t.stdout.trim().split('\n').filter((l) => /^\d{4}-/.test(l.trim())).pop() ?? ''
  const f = line.split(',').map((s) => s.trim())
  if (t.code !== 0 || f.length < 10) throw new Error(`ConsumerPerformance failed (exit ${t.code}):\n${t.stdout.slice(-1500)}\n${t.stderr.slice(-1500)}`)
  const mb = Number(f[2])
  const n = Number(f[4])
  const fetchMs = Number(f[7])
  const r = base(spec, t, n, fetchMs / 1000, Math.round(mb * 1048576))
  r.recordsPerSec = Math.round(Number(f[9]))
  r.mbPerSec = Number(f[8])
  return r
}
