/** Medians over repetitions, kafka-wire's ratios to each peer, and the Markdown and SVG renderings. */
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
  elu: number | null
  /** spread is (max - min) / median of records/s over the repetitions. */
  spread: number
  notes: string[]
}

export const WORKLOADS: WorkloadName[] = ['produce-single', 'produce-batch', 'consume', 'produce-realistic', 'consume-realistic', 'latency']

export const WORKLOAD_TITLES: Record<WorkloadName, string> = {
  'produce-single': 'produce, single awaited sends (acks 0, 3 B)',
  'produce-batch': 'produce, awaited sends of 100 (acks 0, 3 B)',
  consume: 'consume (2 KiB fetches, 1-record batches)',
  'produce-realistic': 'produce 1 KiB, acks all, idempotent, lz4, 6 partitions',
  'consume-realistic': 'consume 1 KiB lz4, 6 partitions',
  latency: 'end-to-end latency at a fixed rate',
}

export const CLIENT_TITLES: Record<string, string> = {
  'kafka-wire': 'kafka-wire',
  'kafka-wire-node20': 'kafka-wire (Node 20)',
  kafkajs: 'KafkaJS',
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
      out.push({ workload: first.workload, client: first.client, reps: 0, failures: list.length, recordsPerSec: NaN, mbPerSec: NaN, p50: null, p99: null, latencyKind: '', cpuSecondsPerMillion: NaN, peakRssMB: NaN, elu: null, spread: NaN, notes: [...new Set(list.map((r) => r.error ?? ''))].filter(Boolean).map((e) => e.split('\n')[0]!.slice(0, 200)) })
      continue
    }
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
      elu: elus.length ? r2(median(elus)) : null,
      spread: r2((Math.max(...rps) - Math.min(...rps)) / med),
      notes: [...new Set(ok.flatMap((r) => r.notes))],
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

export function ratios(summaries: Summary[], base = 'kafka-wire'): Ratio[] {
  const out: Ratio[] = []
  for (const w of WORKLOADS) {
    const kw = summaries.find((s) => s.workload === w && s.client === base && s.reps > 0)
    if (!kw) continue
    for (const s of summaries) {
      if (s.workload !== w || s.client === base || s.reps === 0) continue
      const comparableLatency = s.client !== 'java' || w !== 'latency'
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
  lines.push('| workload | client | records/s | MB/s | p50 ms | p99 ms | latency measured | CPU s / M records | peak RSS MB | ELU | reps (spread) |')
  lines.push('|---|---|--:|--:|--:|--:|---|--:|--:|--:|--:|')
  for (const w of WORKLOADS) {
    for (const c of clients) {
      const s = summaries.find((x) => x.workload === w && x.client === c)
      if (!s) continue
      if (s.reps === 0) {
        lines.push(`| ${WORKLOAD_TITLES[w]} | ${CLIENT_TITLES[c] ?? c} | failed | | | | ${s.notes.join('; ')} | | | | 0 |`)
        continue
      }
      lines.push(`| ${WORKLOAD_TITLES[w]} | ${CLIENT_TITLES[c] ?? c} | ${fmt(s.recordsPerSec)} | ${fmt(s.mbPerSec, 1)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${s.latencyKind || '–'} | ${fmt(s.cpuSecondsPerMillion, 1)} | ${fmt(s.peakRssMB)} | ${fmt(s.elu, 2)} | ${s.reps}${s.failures ? `+${s.failures} failed` : ''} (±${fmt(s.spread * 50, 0)}%) |`)
    }
  }
  return lines.join('\n')
}

export function markdownRatios(rs: Ratio[], clients: string[]): string {
  const peers = clients.filter((c) => c !== 'kafka-wire')
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

const COLORS: Record<string, string> = { 'kafka-wire': '#2563eb', 'kafka-wire-node20': '#60a5fa', kafkajs: '#f59e0b', platformatic: '#10b981', java: '#ef4444' }

/**
 * svgChart draws, per workload, each client's records/s relative to kafka-wire (kafka-wire = 1) as
 * horizontal bars, with the absolute figure at the bar's end; the latency workload shows p99 instead.
 */
export function svgChart(summaries: Summary[], clients: string[], title: string): string {
  const rowH = 18
  const groupGap = 16
  const left = 330
  const width = 980
  const barMax = width - left - 170
  let y = 56
  const parts: string[] = []
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  for (const w of WORKLOADS) {
    const rows = clients.map((c) => summaries.find((s) => s.workload === w && s.client === c)).filter((s): s is Summary => !!s && s.reps > 0)
    if (rows.length === 0) continue
    const lat = w === 'latency'
    const val = (s: Summary) => (lat ? (s.p99 ?? NaN) : s.recordsPerSec)
    const kw = rows.find((s) => s.client === 'kafka-wire')
    const max = Math.max(...rows.map(val).filter((v) => Number.isFinite(v)))
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(WORKLOAD_TITLES[w])}${lat ? ' — p99 ms, shorter is better' : ''}</text>`)
    for (const s of rows) {
      const v = val(s)
      const len = Number.isFinite(v) && max > 0 ? Math.max(1, (v / max) * barMax) : 0
      const rel = kw && Number.isFinite(v) && val(kw) > 0 ? v / val(kw) : NaN
      parts.push(`<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(CLIENT_TITLES[s.client] ?? s.client)}</text>`)
      parts.push(`<rect x="${left}" y="${y + 2}" width="${len.toFixed(1)}" height="${rowH - 4}" fill="${COLORS[s.client] ?? '#888'}"/>`)
      const label = lat ? `${fmt(v, 1)} ms` : `${fmt(v)} rec/s`
      parts.push(`<text x="${(left + len + 6).toFixed(1)}" y="${y + 13}">${label}${s.client !== 'kafka-wire' && Number.isFinite(rel) ? ` (${fmt(rel, 2)}× kafka-wire)` : ''}</text>`)
      y += rowH
    }
    y += groupGap
  }
  const height = y + 10
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
<text x="10" y="42" fill="#555">median of the repetitions; longer bars are faster (latency: longer is slower)</text>
${parts.join('\n')}
</svg>
`
}
