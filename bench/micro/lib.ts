/**
 * A small harness for the micro benchmarks of the hot helpers: each case runs for a fixed time split
 * into rounds after a warm-up, and reports the best and the median round in operations per second
 * (and MB/s when the case says how many bytes one operation handles). The best round is the figure
 * least disturbed by other load on the machine; the median shows how steady it was.
 *
 *   node --import tsx bench/micro/index.ts [--seconds 1] [--rounds 5] [--only name] [--json out.json]
 */
import { writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'

export interface Case {
  name: string
  /** fn runs `n` operations; it returns something so the work cannot be optimized away. */
  fn: (n: number) => unknown
  /** bytesPerOp turns ops/s into MB/s. */
  bytesPerOp?: number
}

export interface Row {
  group: string
  name: string
  opsPerSecBest: number
  opsPerSecMedian: number
  mbPerSecBest: number | null
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
  strict: false,
})

const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
export const rows: Row[] = []
let sink: unknown

/** measure runs the cases of one group and prints a table. */
export function measure(group: string, cases: Case[]): void {
  const only = values.only as string | undefined
  if (only && !group.includes(only) && !cases.some((c) => c.name.includes(only))) return
  console.log(`\n${group}`)
  for (const c of cases) {
    if (only && !group.includes(only) && !c.name.includes(only)) continue
    // Calibrate a batch size of about 10 ms, warming up at the same time.
    let n = 1
    for (;;) {
      const t = performance.now()
      sink = c.fn(n)
      const dt = performance.now() - t
      if (dt > 10 || n > 1e9) break
      n *= dt < 1 ? 10 : 2
    }
    const perRound = (seconds * 1000) / rounds
    const results: number[] = []
    for (let r = 0; r < rounds; r++) {
      let ops = 0
      const t0 = performance.now()
      let t = t0
      while (t - t0 < perRound) {
        sink = c.fn(n)
        ops += n
        t = performance.now()
      }
      results.push(ops / ((t - t0) / 1000))
    }
    results.sort((a, b) => a - b)
    const best = results[results.length - 1]!
    const med = results[results.length >> 1]!
    const mb = c.bytesPerOp ? (best * c.bytesPerOp) / 1048576 : null
    rows.push({ group, name: c.name, opsPerSecBest: Math.round(best), opsPerSecMedian: Math.round(med), mbPerSecBest: mb === null ? null : Math.round(mb) })
    console.log(`  ${c.name.padEnd(52)} ${fmt(best).padStart(14)} ops/s best  ${fmt(med).padStart(14)} median${mb !== null ? `  ${fmt(mb).padStart(7)} MB/s` : ''}`)
  }
}

/** finish writes --json when asked. */
export function finish(): void {
  if (values.json) writeFileSync(values.json as string, JSON.stringify({ node: process.version, date: new Date().toISOString(), rows }, null, 2) + '\n')
  if (sink === Symbol.for('never')) console.log('')
}

const fmt = (v: number) => Math.round(v).toLocaleString('en-US')
