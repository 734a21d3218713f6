/** Medians over repetitions, kafka-wire's ratios to each peer, and the Markdown and SVG renderings. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { WorkerResult, WorkloadName } from './measure.js'

/** RunRecord is one worker run as the orchestrator saw it. */
export interface RunRecord {
  rep: number
  order: number
  workload: WorkloadName
  client: string
  loadAvg1: number
  result: WorkerResult | null
  error: string | null
  /** notApplicable is why the client cannot run the workload (no result and no failure). */
  notApplicable?: string
}

/** Summary is the median of each figure over a (workload, client)'s successful repetitions. */
export interface Summary {
  workload: WorkloadName
  client: string
  reps: number
  failures: number
  recordsPerSec: number
  mbPerSec: number
  p50: number | null
  p99: number | null
  latencyKind: string
  cpuSecondsPerMillion: number
  peakRssMB: number
  /** peakHeapMB and peakBuffersMB: medians of the workers' peaks of V8 heap and Buffer memory (null for the JVM). */
  peakHeapMB: number | null
  peakBuffersMB: number | null
  elu: number | null
  /** node is the Node version the client ran on ('' for the JVM). */
  node: string
  /** spread is (max - min) / median of records/s over the repetitions. */
  spread: number
  notes: string[]
  /** notApplicable is why the client cannot run the workload, when none of its runs could. */
  notApplicable: string | null
  /** transactionsPerSec and recordsPerTransaction: medians for produce-transactional, else null. */
  transactionsPerSec: number | null
  recordsPerTransaction: number | null
  /** check is the last run's check of what produce-transactional left in the topic. */
  check: string | null
  /** brokerRecordsPerSec: median of WorkerResult.brokerRecordsPerSec (acks 0 workloads), else null. */
  brokerRecordsPerSec: number | null
  /** brokerMissing: the largest WorkerResult.brokerMissing over the repetitions (acks 0 workloads), else null. */
  brokerMissing: number | null
}

export const WORKLOADS: WorkloadName[] = ['produce-single', 'produce-batch', 'consume', 'produce-uncompressed', 'consume-uncompressed', 'produce-realistic', 'consume-realistic', 'produce-transactional', 'latency']

export const WORKLOAD_TITLES: Record<WorkloadName, string> = {
  'produce-single': 'produce, single awaited sends (acks 0, 3 B)',
  'produce-batch': 'produce, awaited sends of 100 (acks 0, 3 B)',
  consume: 'consume (2 KiB fetches, 1-record batches)',
  'produce-uncompressed': 'produce 1 KiB, acks all, idempotent, uncompressed, 6 partitions',
  'consume-uncompressed': 'consume 1 KiB uncompressed, 6 partitions',
  'produce-realistic': 'produce 1 KiB, acks all, idempotent, lz4, 6 partitions',
  'consume-realistic': 'consume 1 KiB lz4, 6 partitions',
  'produce-transactional': 'produce 1 KiB in transactions of 1,000, acks all, idempotent, uncompressed, 6 partitions',
  latency: 'end-to-end latency at a fixed rate (1 KiB, lz4)',
}

export const CLIENT_TITLES: Record<string, string> = {
  'kafka-wire': 'kafka-wire',
  'kafka-wire-node22': 'kafka-wire (Node 22)',
  'kafka-wire-node20': 'kafka-wire (Node 20)',
  'kafka-wire-recycle': 'kafka-wire (recycleFetches)',
  kafkats: '@kafkats/client',
  'kafkats-node22': '@kafkats/client (Node 22)',
  kafkajs: 'KafkaJS',
  'kafkajs-facade': 'KafkaJS program on kafka-wire/kafkajs',
  platformatic: '@platformatic/kafka',
  java: 'Java client (perf tools)',
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const r2 = (v: number) => Math.round(v * 100) / 100

/** summarize groups runs by (workload, client) and takes medians. */
export function summarizeRuns(runs: RunRecord[]): Summary[] {
  const out: Summary[] = []
  const keys = new Map<string, RunRecord[]>()
  for (const r of runs) {
    const k = `${r.workload}\u0000${r.client}`
    let list = keys.get(k)
    if (!list) keys.set(k, (list = []))
    list.push(r)
  }
  for (const list of keys.values()) {
    const ok = list.map((r) => r.result).filter((r): r is WorkerResult => r !== null)
    const first = list[0]!
    if (ok.length === 0) {
      const na = list.every((r) => r.notApplicable !== undefined) ? first.notApplicable! : null
      out.push({ workload: first.workload, client: first.client, reps: 0, failures: na === null ? list.length : 0, recordsPerSec: NaN, mbPerSec: NaN, p50: null, p99: null, latencyKind: '', cpuSecondsPerMillion: NaN, peakRssMB: NaN, peakHeapMB: null, peakBuffersMB: null, elu: null, node: '', spread: NaN, notes: [...new Set(list.map((r) => r.error ?? r.notApplicable ?? ''))].filter(Boolean).map((e) => e.split('\n')[0]!.slice(0, 200)), notApplicable: na, transactionsPerSec: null, recordsPerTransaction: null, check: null, brokerRecordsPerSec: null, brokerMissing: null })
      continue
    }
    const txns = ok.filter((r) => r.txn !== undefined)
    const rps = ok.map((r) => r.recordsPerSec)
    const lat = ok.filter((r) => r.latency !== null)
    const elus = ok.map((r) => r.elu).filter((e): e is number => e !== null)
    const med = median(rps)
    out.push({
      workload: first.workload,
      client: first.client,
      reps: ok.length,
      failures: list.length - ok.length,
      recordsPerSec: Math.round(med),
      mbPerSec: r2(median(ok.map((r) => r.mbPerSec))),
      p50: lat.length ? r2(median(lat.map((r) => r.latency!.p50))) : null,
      p99: lat.length ? r2(median(lat.map((r) => r.latency!.p99))) : null,
      latencyKind: ok[0]!.latencyKind,
      cpuSecondsPerMillion: r2(median(ok.map((r) => r.cpuSecondsPerMillion))),
      peakRssMB: r2(median(ok.map((r) => r.peakRssMB))),
      peakHeapMB: ok.every((r) => r.peakHeapMB !== undefined) ? r2(median(ok.map((r) => r.peakHeapMB!))) : null,
      peakBuffersMB: ok.every((r) => r.peakBuffersMB !== undefined) ? r2(median(ok.map((r) => r.peakBuffersMB!))) : null,
      elu: elus.length ? r2(median(elus)) : null,
      node: ok[0]!.node,
      spread: r2((Math.max(...rps) - Math.min(...rps)) / med),
      notes: [...new Set(ok.flatMap((r) => r.notes))],
      notApplicable: null,
      transactionsPerSec: txns.length ? r2(median(txns.map((r) => r.txn!.transactions / r.seconds))) : null,
      recordsPerTransaction: txns.length ? Math.round(median(txns.map((r) => r.records / r.txn!.transactions))) : null,
      check: txns.at(-1)?.txn?.check ?? null,
      brokerRecordsPerSec: ok.every((r) => r.brokerRecordsPerSec !== undefined) ? Math.round(median(ok.map((r) => r.brokerRecordsPerSec!))) : null,
      brokerMissing: ok.every((r) => r.brokerMissing !== undefined) ? Math.max(...ok.map((r) => r.brokerMissing!)) : null,
    })
  }
  return out
}

/** Ratio is kafka-wire's figure divided by a peer's, for one workload. */
export interface Ratio {
  workload: WorkloadName
  peer: string
  /** throughput: kafka-wire records/s ÷ peer records/s (above 1: kafka-wire is faster). */
  throughput: number | null
  /** p99: kafka-wire p99 ÷ peer p99 (below 1: kafka-wire's tail is shorter). */
  p99: number | null
  /** cpu: kafka-wire CPU per record ÷ peer's (below 1: kafka-wire spends less). */
  cpu: number | null
}

/** isPeer is true for the clients kafka-wire is compared with (not kafka-wire on another Node). */
export const isPeer = (client: string) => !client.startsWith('kafka-wire')

/**
 * sameNode names the kafka-wire a client is divided into: for a peer run on another Node (`-node22`,
 * `-node20`, …), kafka-wire on that Node; for every other client, `base`. With no such kafka-wire in
 * the run, the peer gets no ratio rather than one across Node versions.
 */
export const sameNode = (client: string, base: string) => {
  const node = isPeer(client) ? /-node\d+$/.exec(client) : null
  return node ? `kafka-wire${node[0]}` : base
}

export function ratios(summaries: Summary[], base = 'kafka-wire'): Ratio[] {
  const out: Ratio[] = []
  for (const w of WORKLOADS) {
    for (const s of summaries) {
      if (s.workload !== w || !isPeer(s.client) || s.reps === 0) continue
      const kw = summaries.find((x) => x.workload === w && x.client === sameNode(s.client, base) && x.reps > 0)
      if (!kw) continue
      // The Java tool's latency is per record, send → ack: not end to end, not per transaction.
      const comparableLatency = s.client !== 'java' || (w !== 'latency' && w !== 'produce-transactional')
      out.push({
        workload: w,
        peer: s.client,
        throughput: w === 'latency' ? null : r2(kw.recordsPerSec / s.recordsPerSec),
        p99: kw.p99 !== null && s.p99 !== null && comparableLatency && s.p99 > 0 ? r2(kw.p99 / s.p99) : null,
        cpu: s.client === 'java' ? null : r2(kw.cpuSecondsPerMillion / s.cpuSecondsPerMillion),
      })
    }
  }
  return out
}

const fmt = (v: number | null | undefined, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }))

/** markdownTables renders the figures table and the ratios table. */
export function markdownTables(summaries: Summary[], clients: string[]): string {
  const lines: string[] = []
  lines.push('| workload | client | Node | records/s | MB/s | p50 ms | p99 ms | latency measured | CPU s / M records | peak RSS MB (heap / buffers) | ELU | reps (spread) |')
  lines.push('|---|---|---|--:|--:|--:|--:|---|--:|--:|--:|--:|')
  for (const w of WORKLOADS) {
    for (const c of clients) {
      const s = summaries.find((x) => x.workload === w && x.client === c)
      if (!s) continue
      if (s.notApplicable !== null) {
        lines.push(`| ${WORKLOAD_TITLES[w]} | ${CLIENT_TITLES[c] ?? c} | | not applicable | | | | ${s.notApplicable} | | | | – |`)
        continue
      }
      if (s.reps === 0) {
        lines.push(`| ${WORKLOAD_TITLES[w]} | ${CLIENT_TITLES[c] ?? c} | | failed | | | | ${s.notes.join('; ')} | | | | 0 |`)
        continue
      }
      lines.push(`| ${WORKLOAD_TITLES[w]} | ${CLIENT_TITLES[c] ?? c} | ${s.node ? s.node.replace(/^v/, '') : 'JVM'} | ${fmt(s.recordsPerSec)} | ${fmt(s.mbPerSec, 1)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${s.latencyKind || '–'} | ${fmt(s.cpuSecondsPerMillion, 1)} | ${fmt(s.peakRssMB)}${s.peakHeapMB !== null && s.peakBuffersMB !== null ? ` (${fmt(s.peakHeapMB)} / ${fmt(s.peakBuffersMB)})` : ''} | ${fmt(s.elu, 2)} | ${s.reps}${s.failures ? `+${s.failures} failed` : ''} (±${fmt(s.spread * 50, 0)}%) |`)
    }
  }
  const acks0 = summaries.filter((x) => x.brokerRecordsPerSec !== null && clients.includes(x.client))
  if (acks0.length > 0) {
    lines.push('', 'With acks 0 an awaited send resolves once the client has handed the request on (to the kernel, or to its own buffer), so the broker may have the records later, or never: "at the broker" is the records the topic gained after the window began ÷ the time until its end offset reached its last value (polled every 10 ms); "never arrived" is the most sends, over the repetitions, that the client resolved and the topic did not get.', '')
    lines.push('| workload | client | records/s, awaited sends | records/s at the broker | never arrived |')
    lines.push('|---|---|--:|--:|--:|')
    for (const w of WORKLOADS) {
      for (const c of clients) {
        const x = acks0.find((y) => y.workload === w && y.client === c)
        if (x) lines.push(`| ${WORKLOAD_TITLES[w]} | ${CLIENT_TITLES[c] ?? c} | ${fmt(x.recordsPerSec)} | ${fmt(x.brokerRecordsPerSec)} | ${fmt(x.brokerMissing)} |`)
      }
    }
  }
  return lines.join('\n')
}

/** TXN_DRIVERS says how each client runs produce-transactional (the workers' and lib/java.ts's comments say more). */
export const TXN_DRIVERS: Record<string, string> = {
  'kafka-wire': "beginTransaction(); 1,000 produce() calls; endTransaction('commit')",
  'kafka-wire-node22': "beginTransaction(); 1,000 produce() calls; endTransaction('commit')",
  'kafka-wire-node20': "beginTransaction(); 1,000 produce() calls; endTransaction('commit')",
  kafkats: 'producer.transaction(fn), one tx.send() of 1,000',
  'kafkats-node22': 'producer.transaction(fn), one tx.send() of 1,000',
  kafkajs: 'producer.transaction(), one send() of 1,000, commit() (idempotent, maxInFlightRequests 1)',
  'kafkajs-facade': 'the KafkaJS program on kafka-wire/kafkajs',
  platformatic: 'beginTransaction(), one send() of 1,000, commit()',
  java: 'ProducerPerformance --transactional-id --transaction-duration-ms: commits by time, not by count',
}

/**
 * markdownTransactions is produce-transactional's own table: transactions per second, the records
 * per transaction each client reached (1,000 but for the Java tool, which commits by time), how
 * each client ran it and what the check after the last run found; '' when the workload did not run.
 */
export function markdownTransactions(summaries: Summary[], clients: string[]): string {
  const rows = clients.map((c) => summaries.find((s) => s.workload === 'produce-transactional' && s.client === c)).filter((s): s is Summary => s !== undefined)
  if (rows.length === 0) return ''
  const lines = ['| client | transactions/s | records per transaction | driven by | check of the topic after the last run |', '|---|--:|--:|---|---|']
  for (const s of rows) {
    const client = CLIENT_TITLES[s.client] ?? s.client
    const how = TXN_DRIVERS[s.client] ?? ''
    if (s.notApplicable !== null) lines.push(`| ${client} | not applicable | | ${how} | ${s.notApplicable} |`)
    else if (s.reps === 0) lines.push(`| ${client} | failed | | ${how} | ${s.notes.join('; ')} |`)
    else lines.push(`| ${client} | ${fmt(s.transactionsPerSec, 1)} | ${fmt(s.recordsPerTransaction)} | ${how} | ${s.check ?? '–'} |`)
  }
  return lines.join('\n')
}

/**
 * pairedRatios divides kafka-wire's figure by each peer's within each repetition (the clients of one
 * repetition ran minutes apart, under much the same load) and takes the median over repetitions:
 * steadier than the ratio of medians when the machine's load drifts during a run.
 */
export function pairedRatios(runs: RunRecord[], base = 'kafka-wire'): Array<{ workload: WorkloadName; peer: string; ratio: number; perRep: number[] }> {
  const out: Array<{ workload: WorkloadName; peer: string; ratio: number; perRep: number[] }> = []
  const reps = [...new Set(runs.map((r) => r.rep))].sort((a, b) => a - b)
  const peers = [...new Set(runs.map((r) => r.client))].filter(isPeer)
  for (const w of WORKLOADS) {
    for (const peer of peers) {
      if (w === 'latency' && peer === 'java') continue
      const perRep: number[] = []
      for (const rep of reps) {
        const kw = runs.find((r) => r.rep === rep && r.workload === w && r.client === sameNode(peer, base))?.result
        const p = runs.find((r) => r.rep === rep && r.workload === w && r.client === peer)?.result
        if (!kw || !p) continue
        const v = w === 'latency' ? (kw.latency && p.latency ? kw.latency.p99 / p.latency.p99 : NaN) : kw.recordsPerSec / p.recordsPerSec
        if (Number.isFinite(v)) perRep.push(r2(v))
      }
      if (perRep.length > 0) out.push({ workload: w, peer, ratio: r2(median(perRep)), perRep })
    }
  }
  return out
}

export function markdownPaired(ps: ReturnType<typeof pairedRatios>, clients: string[]): string {
  const peers = clients.filter(isPeer)
  const lines = [`| workload | ${peers.map((p) => `÷ ${CLIENT_TITLES[p] ?? p}`).join(' | ')} |`, `|---|${peers.map(() => '--:').join('|')}|`]
  for (const w of WORKLOADS) {
    const row = peers.map((p) => {
      const r = ps.find((x) => x.workload === w && x.peer === p)
      return r ? `${w === 'latency' ? 'p99 ' : ''}×${fmt(r.ratio, 2)} (${r.perRep.map((v) => fmt(v, 2)).join(', ')})` : '–'
    })
    if (row.every((x) => x === '–')) continue
    lines.push(`| ${WORKLOAD_TITLES[w]} | ${row.join(' | ')} |`)
  }
  return lines.join('\n')
}

export function markdownRatios(rs: Ratio[], clients: string[]): string {
  const peers = clients.filter(isPeer)
  const lines: string[] = []
  lines.push(`| workload | ${peers.map((p) => `÷ ${CLIENT_TITLES[p] ?? p}`).join(' | ')} |`)
  lines.push(`|---|${peers.map(() => '--:').join('|')}|`)
  for (const w of WORKLOADS) {
    const row = peers.map((p) => {
      const r = rs.find((x) => x.workload === w && x.peer === p)
      if (!r) return '–'
      if (w === 'latency') return r.p99 === null ? '–' : `p99 ×${fmt(r.p99, 2)}`
      return r.throughput === null ? '–' : `×${fmt(r.throughput, 2)}${r.cpu !== null ? ` (CPU ×${fmt(r.cpu, 2)})` : ''}`
    })
    if (row.every((x) => x === '–')) continue
    lines.push(`| ${WORKLOAD_TITLES[w]} | ${row.join(' | ')} |`)
  }
  return lines.join('\n')
}

/**
 * markdownNodes puts kafka-wire's figures on each Node version (and with recycleFetches, when run) side
 * by side: records/s and CPU seconds per million records, with each one's records/s ÷ kafka-wire's.
 */
export function markdownNodes(summaries: Summary[], clients: string[]): string {
  const variants = clients.filter((c) => c.startsWith('kafka-wire'))
  if (variants.length < 2) return ''
  const node = (c: string) => summaries.find((s) => s.client === c && s.reps > 0)?.node.replace(/^v/, '') ?? '?'
  const lines = [`| workload | ${variants.map((c) => `${c === 'kafka-wire-recycle' ? 'recycleFetches, ' : ''}Node ${node(c)}`).join(' | ')} |`, `|---|${variants.map(() => '--:').join('|')}|`]
  for (const w of WORKLOADS) {
    const base = summaries.find((s) => s.workload === w && s.client === 'kafka-wire' && s.reps > 0)
    const row = variants.map((c) => {
      const s = summaries.find((x) => x.workload === w && x.client === c && x.reps > 0)
      if (!s) return '–'
      if (w === 'latency') return `p99 ${fmt(s.p99, 1)} ms`
      const rel = base && c !== 'kafka-wire' ? ` ×${fmt(s.recordsPerSec / base.recordsPerSec, 2)}` : ''
      return `${fmt(s.recordsPerSec)}${rel}, CPU ${fmt(s.cpuSecondsPerMillion, 1)}`
    })
    if (row.every((x) => x === '–')) continue
    lines.push(`| ${WORKLOAD_TITLES[w]} | ${row.join(' | ')} |`)
  }
  return lines.join('\n')
}

const COLORS: Record<string, string> = { 'kafka-wire': '#2563eb', 'kafka-wire-node22': '#3b82f6', 'kafka-wire-node20': '#60a5fa', 'kafka-wire-recycle': '#1e40af', kafkats: '#8b5cf6', 'kafkats-node22': '#a78bfa', kafkajs: '#f59e0b', platformatic: '#10b981', java: '#ef4444' }

/**
 * svgChart draws, per workload, each client's records/s relative to kafka-wire (kafka-wire = 1) as
 * horizontal bars, with the absolute figure at the bar's end; the latency workload shows p99 instead.
 */
export function svgChart(summaries: Summary[], clients: string[], title: string): string {
  const rowH = 18
  const groupGap = 14
  const left = 200
  const width = 1000
  const barMax = width - left - 330
  let y = 58
  const parts: string[] = []
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  for (const w of WORKLOADS) {
    const rows = clients.map((c) => summaries.find((s) => s.workload === w && s.client === c)).filter((s): s is Summary => !!s && s.reps > 0)
    if (rows.length === 0) continue
    const lat = w === 'latency'
    const val = (s: Summary) => (lat ? (s.p99 ?? NaN) : s.recordsPerSec)
    // Each bar is divided into kafka-wire on its own Node (sameNode), as in the ratio tables.
    const kwOf = (c: string) => rows.find((s) => s.client === sameNode(c, 'kafka-wire'))
    const finite = rows.map(val).filter((v) => Number.isFinite(v) && v > 0)
    const max = Math.max(...finite)
    // Latencies span orders of magnitude: their bars are on a log scale from 1 ms.
    const scale = (v: number) => (lat ? Math.log10(Math.max(1, v)) / Math.log10(Math.max(10, max)) : v / max)
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(WORKLOAD_TITLES[w])}${lat ? ' — p99 ms (log scale), shorter is better' : ' — records/s'}</text>`)
    y += rowH + 2
    for (const s of rows) {
      const v = val(s)
      const len = Number.isFinite(v) && max > 0 ? Math.max(1, scale(v) * barMax) : 0
      const kw = kwOf(s.client)
      const rel = kw && kw !== s && Number.isFinite(v) && val(kw) > 0 ? v / val(kw) : NaN
      parts.push(`<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(CLIENT_TITLES[s.client] ?? s.client)}</text>`)
      parts.push(`<rect x="${left}" y="${y + 2}" width="${len.toFixed(1)}" height="${rowH - 4}" fill="${COLORS[s.client] ?? '#888'}"/>`)
      const label = lat ? `${fmt(v, 1)} ms${s.client === 'java' ? ' (send → ack, not end to end)' : ''}` : `${fmt(v)}`
      parts.push(`<text x="${(left + len + 6).toFixed(1)}" y="${y + 13}">${esc(label)}${Number.isFinite(rel) ? ` (${fmt(rel, 2)}× ${esc(CLIENT_TITLES[kw!.client] ?? kw!.client)})` : ''}</text>`)
      y += rowH
    }
    y += groupGap
  }
  const height = y + 10
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
<text x="10" y="42" fill="#555">medians of the repetitions; longer bars moved more records per second (latency: longer is slower)</text>
${parts.join('\n')}
</svg>
`
}

/** RunEnv describes a run: machine, versions, settings and load. */
export interface RunEnv {
  date: string
  cpu: string
  cores: number
  memoryGiB: number
  kernel: string
  /** node is the Node version of the peers and of `kafka-wire`; node22 and systemNode those of kafka-wire-node22 and -node20. */
  node: string
  node22?: string
  systemNode?: string
  /** nodeFlags are run.ts --node-flags: flags every Node worker ran with (absent when none). */
  nodeFlags?: string[]
  java: string
  kafka: string
  broker: string
  scale: number
  reps: number
  counts: { [k: string]: number }
  latencyRate: number
  latencySeconds: number
  realisticWriter: string
  loadAvg1: { min: number; median: number; max: number } | null
  /** loadBefore is the 1-minute load average before the benchmark started anything (absent in older runs). */
  loadBefore?: number
  clients: string[]
  clientVersions: { [client: string]: string }
}

/**
 * loadLine says whether the machine was quiet: the load before the benchmark began tells what else
 * ran (the load at each run's start counts the benchmark's own broker and previous run as well).
 * Older runs, without it, are judged by that median.
 */
function loadLine(env: RunEnv): string {
  const overloaded = ' — **the machine was busy (more than half its cores) before the benchmark started: absolute figures are low and noisy; compare the ratios**'
  if (env.loadBefore === undefined) return env.loadAvg1 && env.loadAvg1.median > env.cores ? overloaded : ''
  const before = `; ${env.loadBefore.toFixed(1)} before the benchmark started (the later figures count its own broker and runs)`
  return env.loadBefore > env.cores / 2 ? `${before}${overloaded}` : `${before}: nothing else ran`
}

function envLines(env: RunEnv, runs: RunRecord[]): string[] {
  const l = env.loadAvg1
  const done = new Set(runs.map((r) => r.rep)).size
  return [
    `- Date: ${env.date}; machine: ${env.cpu}, ${env.memoryGiB} GiB, ${env.kernel}`,
    `- Load average (1 min) when each run started: ${l ? `median ${l.median.toFixed(1)}, min ${l.min.toFixed(1)}, max ${l.max.toFixed(1)} on ${env.cores} cores` : '–'}${loadLine(env)}`,
    `- Node ${env.node} for the Node peers and kafka-wire${env.node22 ? `, ${env.node22} for the rows marked (Node 22)` : ''}${env.systemNode ? `, ${env.systemNode} for kafka-wire (Node 20)` : ''} (the Node column gives each row's); Java ${env.java || '?'}; Kafka ${env.kafka} broker (${env.broker})`,
    `- Clients: ${Object.entries(env.clientVersions).map(([c, v]) => `${CLIENT_TITLES[c] ?? c} ${v}`).join(', ')}`,
    `- Scale ${env.scale} (${Object.entries(env.counts).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}), ${done} of ${env.reps} repetitions, client order rotated and reversed between repetitions; latency: ${env.latencyRate.toLocaleString('en-US')} records/s for ${env.latencySeconds} s`,
    env.realisticWriter ? `- The 1 KiB consume workloads read topics written once by ${env.realisticWriter}` : '',
    env.nodeFlags ? `- Every Node worker ran with \`${env.nodeFlags.join(' ')}\` (run.ts --node-flags): not Node's defaults` : '',
  ].filter(Boolean)
}

/**
 * render writes results.json, results.md and results.svg into `out`, and, when `resultsDir` is given,
 * RESULTS.md and results.svg there, keeping any hand-written analysis below the marker.
 */
export function render(runs: RunRecord[], env: RunEnv, out: string, resultsDir: string | null): void {
  // results.json files written before `clients` and `cores` were recorded.
  env.clients ??= Object.keys(env.clientVersions)
  env.cores ??= Number(/× (\d+)/.exec(env.cpu)?.[1] ?? 0)
  const summaries = summarizeRuns(runs)
  const rs = ratios(summaries)
  const clients = env.clients
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'results.json'), JSON.stringify({ env, summaries, ratios: rs, runs }, null, 2) + '\n')
  const nodes = markdownNodes(summaries, clients)
  const txns = markdownTransactions(summaries, clients)
  const txnsMd = txns ? `\n\n## Transactions (produce-transactional)\n\n${txns}` : ''
  const nodesMd = nodes ? `\n\n## kafka-wire on each Node version${clients.includes('kafka-wire-recycle') ? ' (and with recycleFetches)' : ''}\n\nrecords/s (÷ kafka-wire on Node ${env.node.replace(/^v/, '')}) and CPU seconds per million records:\n\n${nodes}` : ''
  const md = `# kafka-wire benchmark results\n\n${envLines(env, runs).join('\n')}\n\n## Figures (medians)\n\n${markdownTables(summaries, clients)}${txnsMd}${nodesMd}\n\n## kafka-wire ÷ each peer\n\nThroughput ratios: above 1 means kafka-wire moved more records per second; CPU ratios below 1 mean it spent less CPU per record. Latency: kafka-wire's p99 ÷ the peer's (below 1 is shorter).${clients.some((c) => sameNode(c, 'kafka-wire') !== 'kafka-wire') ? ' A peer on another Node is divided into kafka-wire on that Node; every other peer into kafka-wire on the default Node.' : ''}\n\n${markdownRatios(rs, clients)}\n\nThe same ratios taken within each repetition (the clients of one repetition ran minutes apart, under much the same load), median and then each repetition's:\n\n${markdownPaired(pairedRatios(runs), clients)}\n`
  const title = `kafka-wire vs peers — Kafka ${env.kafka}, Node ${env.node}, scale ${env.scale}, ${new Set(runs.map((r) => r.rep)).size} reps`
  writeFileSync(join(out, 'results.md'), md)
  writeFileSync(join(out, 'results.svg'), svgChart(summaries, clients, title))
  if (resultsDir !== null) {
    const resultsMd = join(resultsDir, 'RESULTS.md')
    const previous = existsSync(resultsMd) ? readFileSync(resultsMd, 'utf8') : ''
    const marker = '<!-- analysis -->'
    const analysis = previous.includes(marker) ? previous.slice(previous.indexOf(marker)) : `${marker}\n`
    writeFileSync(join(resultsDir, 'results.svg'), svgChart(summaries, clients, title))
    // The command that makes these figures: the workloads are named when the run left some out.
    const ran = WORKLOADS.filter((w) => runs.some((r) => r.workload === w))
    const only = ran.length < WORKLOADS.length ? ` --workloads ${ran.join(',')}` : ''
    const intro = `Made by \`cd bench && npm i && node --import tsx run.ts --write-results${only}\` (run.ts describes the workloads). Chart: [results.svg](results.svg); every run: [results/results.json](results/results.json).`
    writeFileSync(resultsMd, `${md.replace('# kafka-wire benchmark results\n', `# kafka-wire benchmark results\n\n${intro}\n`)}\n${analysis}`)
  }
}
