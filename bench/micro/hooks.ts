/**
 * What hooks cost the produce path: a client with no hooks against one with a no-op hook of each of
 * the 17 kinds (CONVENTIONS.md "Hooks": no hooks, no cost).
 *
 *   node --import tsx bench/micro/hooks.ts [--only dispatch|produce] [--records 200000] [--rounds 5]
 *     [--dispatch 1000000] [--size 100]
 *
 * Two measurements:
 *
 * 1. dispatch (in process, no broker): `--dispatch` records through the two per-record dispatches of
 *    the produce path, onProduceRecordBuffered and onProduceRecordUnbuffered, exactly as producer.ts
 *    writes them (`if (bucket.length !== 0) registry.dispatch(record)`), with a registry of no hooks,
 *    of 17 no-op hooks (one object per hook), and of one no-op object implementing all 17. Reported
 *    as ns per record, the best of `--rounds`.
 * 2. produce (real broker): `--records` records of `--size` bytes produced with requiredAcks 1 and
 *    linger 5 ms, as fast as the client takes them, on a fresh client per round; rounds alternate the
 *    two configurations so drift in the machine's load hits both alike. Reported per configuration as
 *    the median records/s and the median CPU time of this process per record over `--rounds` rounds,
 *    and as the median ratio of the two within each back-to-back pair. Uses KAFKA_BOOTSTRAP, or
 *    starts a broker with src/testing.
 *
 * Results (2026-11, Node 20.20.2, the project's 2-core machine while other sessions kept its load
 * average at 10–15, so wall-clock figures swing by ±30 % from round to round; CPU time per record and
 * the dispatch figures are the ones to read). Three runs each: for dispatch two full runs with
 * `--rounds 9` and one `--only dispatch --rounds 7`; for produce one `--only produce --rounds 9` and
 * the two full runs.
 *
 * | dispatch, 1,000,000 records (buffered + unbuffered) | ns/record, best of the rounds  |
 * | no hooks                                            |                 3.7, 4.3, 4.4  |
 * | 17 no-op hooks (one object each)                    |              47.2, 61.7, 50.5  |
 * | 1 no-op object implementing all 17                  |              63.4, 75.6, 54.8  |
 *
 * | produce, 200,000 × 100 B, acks 1, linger 5 ms | µs CPU/record, median | records/s, median      | paired ratio, median |
 * | no hooks                                      |     2.15, 2.11, 1.75  | 170,099 168,423 219,065 |                      |
 * | one no-op hook of each of the 17 kinds        |     2.22, 2.19, 2.06  | 174,504 202,699 198,783 | 1.069, 1.040, 0.890  |
 *
 * With no hooks the produce path pays two length checks on frozen empty arrays per record (the 4 ns
 * above is mostly the benchmark's own loop) and the broker observer is not installed, so connections
 * take no timestamps: 0.2 % of the ≈2 µs a record costs the client. With every hook registered as a
 * no-op, each record pays three dispatches (buffered, partitioned, unbuffered) of ≈25 ns each on this
 * loaded machine, and each request a few timestamps and a BrokerE2E: +0.07–0.3 µs CPU a record, which
 * the wall-clock throughput cannot tell apart from the machine's noise.
 */
import { parseArgs } from 'node:util'
import { Client } from '../../src/client/client.js'
import { HookRegistry, hookNames, type Hook, type HookName } from '../../src/hooks/index.js'
import type { ProduceRecord } from '../../src/protocol/record.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { startKafka, type KafkaCluster } from '../../src/testing/index.js'

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    records: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    dispatch: { type: 'string', default: '1000000' },
    size: { type: 'string', default: '100' },
  },
})
const ROUNDS = Number(values.rounds)

/** noops returns one no-op object per hook, or one object implementing all of them. */
function noops(oneObject: boolean): Hook[] {
  const fn = () => {}
  if (oneObject) return [Object.fromEntries(hookNames.map((n) => [n, fn])) as Hook]
  return hookNames.map((n: HookName) => ({ [n]: fn }) as Hook)
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

// ---------------------------------------------------------------------------------------------------
// 1. dispatch

function dispatchRound(reg: HookRegistry, records: ProduceRecord[], n: number): number {
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const r = records[i & 1023]!
    // producer.ts, produce(): before validation.
    if (reg.onProduceRecordBuffered.length !== 0) reg.produceRecordBuffered(r)
    // producer.ts, finishBatch(): before each callback.
    if (reg.onProduceRecordUnbuffered.length !== 0) reg.produceRecordUnbuffered(r, null)
  }
  return Number(process.hrtime.bigint() - t) / n
}

function benchDispatch(): void {
  const n = Number(values.dispatch)
  const records: ProduceRecord[] = Array.from({ length: 1024 }, (_, i) => ({ topic: 't', key: `k${i}`, value: 'v' }))
  const configs: Array<[string, HookRegistry]> = [
    ['no hooks', new HookRegistry()],
    ['17 no-op hooks (one object each)', new HookRegistry(noops(false))],
    ['1 no-op object with all 17 hooks', new HookRegistry(noops(true))],
  ]
  // Warm every configuration up first, so the JIT has seen each before anything is timed.
  for (const [, reg] of configs) dispatchRound(reg, records, n / 10)
  const best = new Map<string, number>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, reg] of configs) {
      const ns = dispatchRound(reg, records, n)
      best.set(name, Math.min(best.get(name) ?? Infinity, ns))
    }
  }
  console.log(`dispatch: ${n.toLocaleString('en')} records, buffered + unbuffered, best of ${ROUNDS}`)
  for (const [name] of configs) console.log(`  ${name.padEnd(34)} ${best.get(name)!.toFixed(1).padStart(6)} ns/record`)
}

// ---------------------------------------------------------------------------------------------------
// 2. produce

async function cluster(): Promise<{ seeds: string[]; stop: () => Promise<void> }> {
  if (process.env.KAFKA_BOOTSTRAP) return { seeds: process.env.KAFKA_BOOTSTRAP.split(','), stop: async () => {} }
  const k: KafkaCluster = await startKafka()
  return { seeds: k.bootstrapServers, stop: () => k.stop() }
}

/** Round is one timed round: wall-clock throughput and this process's CPU time per record. */
interface Round {
  rate: number
  cpuUs: number
}

async function produceRound(seeds: string[], topic: string, hooks: Hook[] | undefined, n: number, value: Buffer): Promise<Round> {
  const c = new Client({ seedBrokers: seeds, requiredAcks: 1, disableIdempotentWrite: true, linger: 5, ...(hooks ? { hooks } : {}) })
  try {
    // Connect and load metadata outside the timed window.
    await c.produce({ topic, value })
    let failed: Error | null = null
    let left = n
    const t = performance.now()
    const cpu = process.cpuUsage()
    await new Promise<void>((resolve) => {
      const cb = (_r: ProduceRecord, err: Error | null) => {
        if (err !== null) failed ??= err
        if (--left === 0) resolve()
      }
      for (let i = 0; i < n; i++) c.produce({ topic, value }, cb)
    })
    const seconds = (performance.now() - t) / 1000
    const used = process.cpuUsage(cpu)
    if (failed !== null) throw failed
    return { rate: n / seconds, cpuUs: (used.user + used.system) / n }
  } finally {
    await c.close()
  }
}

async function benchProduce(): Promise<void> {
  const n = Number(values.records)
  const value = Buffer.alloc(Number(values.size), 'x')
  const { seeds, stop } = await cluster()
  try {
    const topic = `bench-hooks-${Date.now()}`
    const admin = new Client({ seedBrokers: seeds })
    const req = CreateTopics.newRequest()
    req.timeoutMs = 30_000
    req.topics = [{ ...CreateTopics.newRequest().topics[0]!, name: topic, numPartitions: 6, replicationFactor: -1, assignments: [], configs: [] }]
    const res = await admin.request(CreateTopics, req)
    if (res.topics[0]!.errorCode !== 0) throw new Error(`CreateTopics: error ${res.topics[0]!.errorCode}`)
    await admin.close()
    const configs: Array<[string, Hook[] | undefined]> = [
      ['no hooks', undefined],
      ['one no-op hook of each of the 17 kinds', noops(false)],
    ]
    const rounds = new Map<string, Round[]>(configs.map(([name]) => [name, []]))
    // A warm-up round of each, not counted.
    for (const [, hooks] of configs) await produceRound(seeds, topic, hooks, n / 4, value)
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which configuration goes first, so neither always runs on the warmer broker.
      const order = round % 2 === 0 ? configs : [...configs].reverse()
      for (const [name, hooks] of order) rounds.get(name)!.push(await produceRound(seeds, topic, hooks, n, value))
    }
    console.log(`produce: ${n.toLocaleString('en')} × ${value.length} B, acks 1, linger 5 ms, ${ROUNDS} rounds each`)
    for (const [name] of configs) {
      const r = rounds.get(name)!
      const rates = r.map((x) => x.rate)
      console.log(
        `  ${name.padEnd(40)} median ${Math.round(median(rates)).toLocaleString('en').padStart(9)} records/s, ${median(r.map((x) => x.cpuUs)).toFixed(2)} µs CPU/record` +
          `  (records/s: ${rates.map((x) => Math.round(x).toLocaleString('en')).join(', ')})`,
      )
    }
    // Rounds run in pairs, back to back: the ratio within a pair is the least disturbed by the load.
    const [a, b] = configs.map(([name]) => rounds.get(name)!)
    const ratios = a!.map((x, i) => b![i]!.rate / x.rate)
    console.log(`  paired ratio (hooks / no hooks), median: ${median(ratios).toFixed(3)}  (${ratios.map((x) => x.toFixed(3)).join(', ')})`)
  } finally {
    await stop()
  }
}

if (values.only === undefined || values.only === 'dispatch') benchDispatch()
if (values.only === undefined || values.only === 'produce') await benchProduce()
