/**
 * What every Node worker measures, the same way for every client, over the workload's timed window
 * only (connecting, metadata and group joins happen before `start()`):
 *
 * - wall time with `performance.now()`;
 * - client CPU with `process.cpuUsage()` (user + system of the whole process: the client's own work,
 *   its codecs and GC; the driver loop costs every client the same);
 * - peak RSS, and the peaks of the V8 heap in use and of Buffer (ArrayBuffer) memory, by sampling
 *   `process.memoryUsage()` every 20 ms (and at start and stop): where the resident bytes go;
 * - event-loop utilization with `performance.eventLoopUtilization()` (the share of the window the
 *   loop was busy: 1.0 means the client left the application no room);
 * - latencies in an HDR histogram (microseconds, 3 significant digits).
 *
 * A worker prints one line `@@RESULT {json}` on stdout; the orchestrator (run.ts) parses it.
 *
 * With KW_BENCH_PROFILE=<file> set (run.ts --profile), the Meter also runs V8's sampling CPU profiler
 * (the one behind `node --cpu-prof`, through node:inspector) over the timed window alone and writes
 * the .cpuprofile there, so start-up, connecting and group joins stay out of the profile.
 * KW_BENCH_PROFILE_INTERVAL_US sets the sampling interval (default 250 µs).
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { performance } from 'node:perf_hooks'
import * as hdr from 'hdr-histogram-js'

/** WorkloadName names the workloads of run.ts. */
export type WorkloadName = 'produce-single' | 'produce-batch' | 'consume' | 'produce-uncompressed' | 'consume-uncompressed' | 'produce-realistic' | 'consume-realistic' | 'produce-transactional' | 'latency'

/** Codec is the compression of the 1 KiB workloads: none for the *-uncompressed ones and produce-transactional, lz4 otherwise. */
export type Codec = 'none' | 'lz4'

/** WorkloadSpec is what the orchestrator hands a worker (as JSON in argv[2]). */
export interface WorkloadSpec {
  workload: WorkloadName
  bootstrap: string[]
  topic: string
  /** records to produce or consume. */
  records: number
  /** batch is the records per awaited send (produce-batch). */
  batch: number
  partitions: number
  /** payloadFile holds the 1 KiB values, one per line (realistic workloads and latency). */
  payloadFile: string
  /** rate in records/s and seconds of the latency workload. */
  rate: number
  seconds: number
  /** group is a fresh consumer group name. */
  group: string
  /** compression the producer of a 1 KiB workload uses (produce-*, latency). */
  compression: Codec
  /** transaction is the records per transaction of produce-transactional (1,000). */
  transaction: number
  /** transactionalId is produce-transactional's transactional id, fresh for every run. */
  transactionalId: string
  /**
   * transactionMs is the Java tool's --transaction-duration-ms: ProducerPerformance commits by time,
   * not by count (lib/java.ts).
   */
  transactionMs: number
}

/** Latency summarises an HDR histogram, in milliseconds. */
export interface Latency {
  count: number
  p50: number
  p99: number
  p999: number
  max: number
  mean: number
}

/** WorkerResult is one (client, workload) run. */
export interface WorkerResult {
  client: string
  clientVersion: string
  node: string
  workload: WorkloadName
  records: number
  /** bytes counts value bytes (what ProducerPerformance's MB/s counts). */
  bytes: number
  seconds: number
  recordsPerSec: number
  mbPerSec: number
  /** latency: per awaited send (peer produce), per record produce→ack (realistic), end to end (latency). */
  latency: Latency | null
  latencyKind: string
  cpuSeconds: number
  cpuSecondsPerMillion: number
  peakRssMB: number
  /** peakHeapMB and peakBuffersMB: the largest V8 heap in use and Buffer memory (arrayBuffers) seen; each its own peak. */
  peakHeapMB?: number
  peakBuffersMB?: number
  /** elu is the event-loop utilization over the window, 0..1 (null for the JVM). */
  elu: number | null
  /** windowStartMs is when the timed window began, in epoch milliseconds (Node workers). */
  windowStartMs?: number
  /**
   * brokerRecordsPerSec (acks 0 workloads, set by run.ts): records ÷ the time from the window's start
   * until the topic's end offset reached its final value, the rate at which the broker took them.
   * An awaited send with acks 0 resolves when the client has handed the request on, to the kernel
   * or only to its own buffer, so the client's figure alone does not say the broker has the records.
   */
  brokerRecordsPerSec?: number
  /** brokerMissing (acks 0 workloads, set by run.ts): sends the client resolved that never reached the topic. */
  brokerMissing?: number
  /** extra notes (records lost, settings that differ). */
  notes: string[]
  /** txn: produce-transactional's facts, checked by run.ts against the topic's offsets. */
  txn?: TxnFacts
}

/**
 * TxnFacts is what a produce-transactional run leaves for run.ts to check against the topic after it
 * (run.ts checkTransactional): every offset of the topic must be one of the worker's records or one
 * commit marker, and no transaction may be left open.
 */
export interface TxnFacts {
  /** transactions committed in the timed window (every commit resolved without error). */
  transactions: number
  /** logRecords is every record the worker wrote to the topic, its warm-up transaction's included. */
  logRecords: number
  /**
   * markers is the control records the topic must hold: one per partition that each committed
   * transaction (warm-up included) wrote to, as the client's send results name them; null when the
   * client does not say (the Java tool).
   */
  markers: number | null
  /** check is what run.ts verified, in words. */
  check?: string
}

/** newHistogram makes a histogram of microseconds from 1 µs to 10 minutes. */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
}

/** summarize turns a histogram of microseconds into milliseconds. */
export function summarize(h: hdr.Histogram): Latency | null {
  if (h.totalCount === 0) return null
  const ms = (us: number) => Math.round(us) / 1000
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  }
}

/** Meter measures one timed window. */
export class Meter {
  #t0 = 0
  #cpu0: NodeJS.CpuUsage = { user: 0, system: 0 }
  #elu0 = performance.eventLoopUtilization()
  #peak = 0
  #peakHeap = 0
  #peakBuffers = 0
  #timer: NodeJS.Timeout | null = null
  #profiler: Session | null = null

  start(): void {
    const profile = process.env.KW_BENCH_PROFILE
    if (profile) {
      // Session.post runs synchronously on the main thread: the profiler is running when start() returns.
      const s = (this.#profiler = new Session())
      s.connect()
      s.post('Profiler.enable')
      s.post('Profiler.setSamplingInterval', { interval: Number(process.env.KW_BENCH_PROFILE_INTERVAL_US ?? 250) })
      s.post('Profiler.start')
    }
    this.#sample()
    this.#timer = setInterval(() => this.#sample(), 20)
    this.#timer.unref()
    this.#elu0 = performance.eventLoopUtilization()
    this.#cpu0 = process.cpuUsage()
    this.#t0 = performance.now()
  }

  #sample(): void {
    const m = process.memoryUsage()
    if (m.rss > this.#peak) this.#peak = m.rss
    if (m.heapUsed > this.#peakHeap) this.#peakHeap = m.heapUsed
    if (m.arrayBuffers > this.#peakBuffers) this.#peakBuffers = m.arrayBuffers
  }

  /** stop ends the window and returns its figures. */
  stop(): { seconds: number; cpuSeconds: number; peakRssMB: number; peakHeapMB: number; peakBuffersMB: number; elu: number; startMs: number } {
    const seconds = (performance.now() - this.#t0) / 1000
    const cpu = process.cpuUsage(this.#cpu0)
    const elu = performance.eventLoopUtilization(this.#elu0).utilization
    this.#sample()
    if (this.#timer !== null) clearInterval(this.#timer)
    if (this.#profiler !== null) {
      const s = this.#profiler
      this.#profiler = null
      s.post('Profiler.stop', (err, res) => {
        if (err) throw err
        writeFileSync(process.env.KW_BENCH_PROFILE!, JSON.stringify(res.profile))
      })
      s.disconnect()
    }
    const mb = (v: number) => Math.round((v / 1048576) * 10) / 10
    return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMB: mb(this.#peak), peakHeapMB: mb(this.#peakHeap), peakBuffersMB: mb(this.#peakBuffers), elu: Math.round(elu * 1000) / 1000, startMs: performance.timeOrigin + this.#t0 }
  }
}

/**
 * timedTransactions is produce-transactional's timed loop, the same for every client: the records
 * 0..s.records-1 (payload i % payloads.length) in transactions of s.transaction, one after another,
 * each timed from its start to its commit resolving. `transact(from, to)` sends the records [from, to)
 * in one transaction, commits it and resolves with the number of partitions it wrote to (its commit
 * markers). The record bytes are summed before the window opens.
 */
export async function timedTransactions(s: WorkloadSpec, payloads: ReadonlyArray<Buffer>, transact: (from: number, to: number) => Promise<number>): Promise<{ window: ReturnType<Meter['stop']>; latency: hdr.Histogram; bytes: number; transactions: number; markers: number }> {
  let bytes = 0
  for (let i = 0; i < s.records; i++) bytes += payloads[i % payloads.length]!.length
  const latency = newHistogram()
  const transactions = Math.ceil(s.records / s.transaction)
  let markers = 0
  const m = new Meter()
  m.start()
  for (let t = 0; t < transactions; t++) {
    const t0 = performance.now()
    markers += await transact(t * s.transaction, Math.min(s.records, (t + 1) * s.transaction))
    latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)))
  }
  return { window: m.stop(), latency, bytes, transactions, markers }
}

/** finish builds the result line from a window's figures and prints it. */
export function report(r: {
  client: string
  clientVersion: string
  spec: WorkloadSpec
  records: number
  bytes: number
  window: ReturnType<Meter['stop']>
  latency: hdr.Histogram | null
  latencyKind: string
  notes?: string[]
  txn?: TxnFacts
}): void {
  const w = r.window
  const out: WorkerResult = {
    client: r.client,
    clientVersion: r.clientVersion,
    node: process.version,
    workload: r.spec.workload,
    records: r.records,
    bytes: r.bytes,
    seconds: round(w.seconds, 3),
    recordsPerSec: Math.round(r.records / w.seconds),
    mbPerSec: round(r.bytes / 1048576 / w.seconds, 2),
    latency: r.latency ? summarize(r.latency) : null,
    latencyKind: r.latencyKind,
    cpuSeconds: round(w.cpuSeconds, 3),
    cpuSecondsPerMillion: round((w.cpuSeconds / r.records) * 1e6, 2),
    peakRssMB: w.peakRssMB,
    peakHeapMB: w.peakHeapMB,
    peakBuffersMB: w.peakBuffersMB,
    elu: w.elu,
    windowStartMs: Math.round(w.startMs),
    notes: r.notes ?? [],
    ...(r.txn ? { txn: r.txn } : {}),
  }
  process.stdout.write(`@@RESULT ${JSON.stringify(out)}\n`)
}

/**
 * notApplicable ends a worker whose client cannot run the workload (the KafkaJS facade's
 * producer.transaction() while it throws KafkaJSNotImplemented): run.ts reports the reason in the
 * results table instead of a figure or a failure.
 */
export function notApplicable(reason: string): never {
  process.stdout.write(`@@NOTAPPLICABLE ${JSON.stringify({ reason })}\n`)
  process.exit(0)
}

function round(v: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}

/** parseSpec reads the worker's spec from argv. */
export function parseSpec(): WorkloadSpec {
  const raw = process.argv[2]
  if (!raw) throw new Error('usage: <worker> <spec json>')
  return JSON.parse(raw) as WorkloadSpec
}

/** PEER_HEADERS are the two headers of the peer methodology's records. */
export const PEER_VALUE = '222'
export const peerKey = (i: number) => `111-${i}`

/**
 * Schedule paces the latency workload: `due(now)` is how many records should have been sent by
 * now at `rate`/s. Latency is measured from each record's scheduled time, not from when the client
 * got to send it, so a client that falls behind is charged for the wait (no coordinated omission).
 */
export class Schedule {
  readonly t0: number
  readonly rate: number
  readonly total: number
  sent = 0
  constructor(rate: number, seconds: number) {
    this.rate = rate
    this.total = Math.round(rate * seconds)
    this.t0 = performance.now()
  }
  /** due returns how many records to send now; scheduledAt(i) is when record i was due. */
  due(now = performance.now()): number {
    const should = Math.min(this.total, Math.floor(((now - this.t0) / 1000) * this.rate))
    return should - this.sent
  }
  scheduledAt(i: number): number {
    return this.t0 + (i / this.rate) * 1000
  }
  get done(): boolean {
    return this.sent >= this.total
  }
}

/** keyForTime makes the 8-byte key the latency workload carries a record's scheduled time in. */
export function keyForTime(t: number): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeDoubleLE(t, 0)
  return b
}

/** timeOfKey reads it back. */
export function timeOfKey(k: Buffer | null | undefined): number {
  return k && k.length === 8 ? k.readDoubleLE(0) : NaN
}

/** LatencyCollector records end-to-end latencies, skipping the first second as warm-up. */
export class LatencyCollector {
  readonly hist = newHistogram()
  received = 0
  #warmupUntil: number
  constructor(t0: number) {
    this.#warmupUntil = t0 + 1000
  }
  onRecord(key: Buffer | null | undefined): void {
    this.received++
    const t = timeOfKey(key)
    if (!(t >= this.#warmupUntil)) return
    const us = Math.max(1, Math.round((performance.now() - t) * 1000))
    this.hist.recordValue(us)
  }
}

/** waitUntil polls `cond` every 5 ms until true or `ms` pass; returns whether it held. */
export async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms
  while (!cond()) {
    if (performance.now() > end) return false
    await new Promise((r) => setTimeout(r, 5))
  }
  return true
}

/** tick waits for the next timer turn (about 1 ms), the pacing step of the latency workload. */
export const tick = () => new Promise<void>((r) => setTimeout(r, 1))
