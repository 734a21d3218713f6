/**
 * How V8 gives back response-sized buffers, without Kafka: `--mib` MiB pass through buffers of
 * `--frame` KiB (filled, as a socket read fills a response), each viewed by one small Buffer per KiB
 * (as records view an uncompressed response), the last `--live` of them kept reachable (a response
 * being polled, one prefetched). Each shape runs in a process of its own, once allocating nothing
 * else and once allocating `--garbage` bytes of small objects per KiB (a client that makes more
 * JavaScript garbage per record). Prints peak RSS and the collections seen.
 *
 *   node --import tsx bench/micro/external-buffers.ts [--mib 2048] [--frame 1024] [--live 2] [--garbage 600]
 *
 * Behind bench/results/consume-frame-reuse (issue 18's consume memory). Measured 2026-12-07 on Node
 * 24.21.0, 2 GiB each, peak RSS MB / scavenges / mark-compacts, nothing but this running:
 *
 * | frame KiB × kept live | no other garbage | 600 B of objects per KiB |
 * |---|--:|--:|
 * | 1024 × 2 (about kafka-wire's consume) | 232 / 6 / 28 | 209 / 45 / 11 |
 * | 1024 × 0 | 163 / 61 / 6 | |
 * | 1024 × 8 | 269 / 10 / 24 | |
 * | 512 × 2 | 237 / 27 / 19 | |
 * | 256 × 2 | 152 / 55 / 2 | |
 * | 64 × 2 | 128 / 91 / 1 | 106 / 101 / 1 |
 * | 64 × 32 | 136 / 51 / 2 | |
 * | 64 × 128 | 189 / 5 / 31 | |
 *
 * Buffers are memory V8 counts outside its heap and frees when a collection finds them dead. While
 * what is kept live stays small, scavenges free them young and RSS stays low; once a few MiB are kept
 * across collections, full mark-compacts, started by external memory, free them instead, and some
 * 100 MiB of dead buffers are resident at the peak, whatever else the program allocates. Smaller
 * fetches (fetchMaxPartitionBytes 128 KiB, or fetchMaxBytes 256 KiB) did not move kafka-wire's
 * consumer out of that regime, and cost throughput (bench/results/consume-frame-reuse/README.md).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PerformanceObserver, constants } from 'node:perf_hooks'

const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '2048' },
    frame: { type: 'string', default: '1024' },
    live: { type: 'string', default: '2' },
    garbage: { type: 'string', default: '600' },
    child: { type: 'string' },
  },
})

interface Outcome {
  peakRssMB: number
  scavenges: number
  markCompacts: number
  ms: number
}

/** run passes the buffers through and measures; `garbage` bytes of small objects are made per KiB. */
async function run(mib: number, frameKiB: number, live: number, garbage: number): Promise<Outcome> {
  let scavenges = 0
  let markCompacts = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail: { kind: number } }).detail.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) markCompacts++
    }
  })
  obs.observe({ entryTypes: ['gc'] })
  const kept: Buffer[][] = []
  let peak = 0
  let sink = 0
  const t0 = performance.now()
  const frames = Math.ceil((mib * 1024) / frameKiB)
  for (let f = 0; f < frames; f++) {
    const b = Buffer.allocUnsafeSlow(frameKiB * 1024)
    b.fill(f & 0xff)
    const views: Buffer[] = []
    for (let k = 0; k < frameKiB; k++) {
      views.push(b.subarray(k * 1024, k * 1024 + 1024))
      // Small objects, as a client allocating more per record would (about 40 bytes each).
      for (let g = 0; g < garbage; g += 40) sink += ({ a: g, b: k } as { a: number; b: number }).a & 1
    }
    kept.push(views)
    if (kept.length > live) kept.shift()
    if ((f & 7) === 0) {
      const rss = process.memoryUsage.rss()
      if (rss > peak) peak = rss
      // Let the GC observer's entries (and V8's tasks) run, as a client's event loop would.
      await new Promise((r) => setImmediate(r))
    }
  }
  const ms = performance.now() - t0
  await new Promise((r) => setTimeout(r, 50))
  obs.disconnect()
  if (sink < 0) console.log(sink)
  return { peakRssMB: Math.round(peak / 1e6), scavenges, markCompacts, ms: Math.round(ms) }
}

const mib = Number(args.mib)
const frame = Number(args.frame)
const live = Number(args.live)
if (args.child !== undefined) {
  console.log(JSON.stringify(await run(mib, frame, live, Number(args.child))))
} else {
  console.log(`Node ${process.version}: ${mib} MiB through ${frame} KiB buffers, ${live} kept live, 1 view per KiB; each row a process of its own`)
  console.log('| JavaScript garbage per KiB | peak RSS MB | scavenges | mark-compacts | ms |')
  console.log('|--:|--:|--:|--:|--:|')
  for (const g of [0, Number(args.garbage)]) {
    const p = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--mib', String(mib), '--frame', String(frame), '--live', String(live), '--child', String(g)], { encoding: 'utf8' })
    if (p.status !== 0) throw new Error(p.stderr)
    const o = JSON.parse(p.stdout.trim().split('\n').at(-1)!) as Outcome
    console.log(`| ${g} B | ${o.peakRssMB} | ${o.scavenges} | ${o.markCompacts} | ${o.ms} |`)
  }
}
