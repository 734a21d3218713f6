// 200,000 records through a chain of three consumer groups against a real broker, after franz-go's
// group integration test: each level consumes its input topic, produces every record to the next
// topic, commits, and only then polls again (blockRebalanceOnPoll, allowRebalance after the commit),
// while members join and leave mid-run. Four variants share one input: classic range (eager),
// classic cooperative-sticky, static membership, and KIP-848.
//
// What is asserted, per level: every key reaches the level's output topic, and no (partition,
// offset) of its input is processed twice by committed work (a batch counts once its commit
// succeeded). Joins and leaves are graceful (a member finishes its batch, commits and closes), so no
// work is left uncommitted: the outputs are checked to hold every key exactly once as well.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Client } from '../../../src/client/client.js'
import type { ClientOptions } from '../../../src/client/options.js'
import { LogLevel } from '../../../src/hooks/logger.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, listOffsets, newClient, topicName, waitFor } from '../helpers.js'

const N = 200_000
const PARTITIONS = 6
const LEVELS = 3
const BATCH = 2_000

let k: KafkaCluster
let admin: Client
let input: string

before(async () => {
  k = await broker()
  admin = newClient(k, { maxBufferedRecords: 50_000 })
  input = await createTopic(admin, { partitions: PARTITIONS })
  const value = Buffer.alloc(64, 'x')
  await new Promise<void>((resolve, reject) => {
    let left = N
    for (let i = 0; i < N; i++) admin.produce({ topic: input, key: `k${i}`, value }, (_r, err) => (err ? reject(err) : --left === 0 && resolve()))
  })
}, { timeout: 300_000 })

after(closeAll)

/** LevelStats is what the members of one level did, counted when their commits succeeded. */
interface LevelStats {
  /** committed counts, per input "partition:offset", the committed batches that processed it. */
  committed: Map<string, number>
  twice: string[]
  commitFailures: string[]
  produceFailures: number
  batches: number
}

/** Gate holds a level's members between batches (after allowRebalance) while a membership change completes. */
interface Gate {
  wait: Promise<void> | null
}

/**
 * ChainMember consumes one level's input, produces to its output, commits, then polls again. It
 * keeps what its callbacks said it owns and every partition it had revoked, and counts the records
 * its committed batches processed.
 */
class ChainMember {
  readonly client: Client
  readonly name: string
  readonly owned = new Set<number>()
  readonly revoked: number[] = []
  processed = 0
  #stop = new AbortController()
  #done: Promise<void>

  constructor(name: string, inTopic: string, outTopic: string, opts: Partial<ClientOptions>, stats: LevelStats, gate: Gate) {
    this.name = name
    const track = (kind: 'assigned' | 'revoked') => (parts: Map<string, number[]>) => {
      for (const p of parts.get(inTopic) ?? []) {
        if (kind === 'assigned') this.owned.add(p)
        else {
          this.owned.delete(p)
          this.revoked.push(p)
        }
      }
    }
    opts = { ...opts, onPartitionsAssigned: track('assigned'), onPartitionsRevoked: track('revoked'), onPartitionsLost: track('revoked') }
    // CHAIN_DEBUG=1 prints each member's group log lines (joins, assignments, errors).
    const logger: Partial<ClientOptions> = process.env.CHAIN_DEBUG
      ? { logger: { level: () => LogLevel.Info, log: (_l: LogLevel, msg: string, ...kv: unknown[]) => console.log(Date.now() % 100_000, name, msg, ...kv.map(String)) } }
      : {}
    this.client = newClient(k, { ...opts, ...logger, consumeTopics: [inTopic], blockRebalanceOnPoll: true, disableAutoCommit: true, maxBufferedRecords: 50_000 })
    this.#done = this.#run(outTopic, stats, gate)
  }

  async #run(outTopic: string, stats: LevelStats, gate: Gate): Promise<void> {
    const c = this.client
    const signal = this.#stop.signal
    while (!signal.aborted) {
      // Batches of at most BATCH records keep the levels flowing together and give rebalances
      // many batch boundaries to land between.
      const f = await c.pollRecords(BATCH, { signal })
      const records = f.records()
      if (records.length > 0) {
        const res = await c.produceSync(records.map((r) => ({ topic: outTopic, key: r.key, value: r.value })))
        if (res.some((x) => x.error !== null)) stats.produceFailures++
        else {
          try {
            await c.commitRecords(...records)
            stats.batches++
            this.processed += records.length
            for (const r of records) {
              const key = `${r.partition}:${r.offset}`
              const n = (stats.committed.get(key) ?? 0) + 1
              stats.committed.set(key, n)
              if (n === 2) stats.twice.push(key)
            }
          } catch (err) {
            stats.commitFailures.push(`${this.name}: ${(err as Error).message}`)
          }
        }
      }
      c.allowRebalance()
      if (gate.wait !== null) await Promise.race([gate.wait, new Promise((r) => signal.addEventListener('abort', r, { once: true }))])
    }
  }

  /** stop finishes the batch in hand (processed and committed), then closes: a graceful leave. */
  async stop(): Promise<void> {
    this.#stop.abort()
    await this.#done
    await this.client.close()
  }
}

interface Variant {
  name: string
  opts: Partial<ClientOptions>
  static?: boolean
}

const VARIANTS: Variant[] = [
  { name: 'classic range', opts: { balancers: ['range'], sessionTimeout: 10_000, heartbeatInterval: 1_000 } },
  { name: 'classic cooperative-sticky', opts: { sessionTimeout: 10_000, heartbeatInterval: 1_000 } },
  { name: 'static membership (cooperative-sticky)', opts: { sessionTimeout: 10_000, heartbeatInterval: 1_000 }, static: true },
  { name: 'KIP-848', opts: { groupProtocol: 'consumer' } },
]

for (const v of VARIANTS) {
  test(`chain of three groups, ${v.name}: 200,000 records, members join and leave mid-run; every key at every level, no committed (partition, offset) twice`, { timeout: 300_000 }, async (t) => {
    const topics = [input]
    for (let l = 1; l <= LEVELS; l++) topics.push(await createTopic(admin, { partitions: PARTITIONS }))
    const stats: LevelStats[] = Array.from({ length: LEVELS }, () => ({ committed: new Map(), twice: [], commitFailures: [], produceFailures: 0, batches: 0 }))
    const groups = Array.from({ length: LEVELS }, () => topicName('chain'))
    const members: ChainMember[][] = Array.from({ length: LEVELS }, () => [])
    const gates: Gate[] = Array.from({ length: LEVELS }, () => ({ wait: null }))
    let seq = 0
    const start = (l: number, instance?: string) => {
      const name = instance ?? `L${l + 1}-m${seq++}`
      const opts = { ...v.opts, consumerGroup: groups[l]!, ...(v.static ? { instanceId: name } : {}) }
      const m = new ChainMember(name, topics[l]!, topics[l + 1]!, opts, stats[l]!, gates[l]!)
      members[l]!.push(m)
      return m
    }
    const began = performance.now()
    for (let l = 0; l < LEVELS; l++) for (let i = 0; i < 2; i++) start(l, v.static ? `L${l + 1}-s${i}` : undefined)

    const progress = () => stats.map((s) => s.committed.size)
    const events: string[] = []
    const timeline: string[] = []
    const tick = setInterval(() => timeline.push(progress().map((n) => Math.round(n / 1000)).join('/')), 1_000)
    // A membership change completes while records flow: the level's members hold between batches
    // (having committed and allowed the rebalance) until the new assignment is in place, so the
    // change cannot slip past the end of a fast run.
    const settle = async (l: number, done: () => boolean, what: string) => {
      const wait = waitFor(done, what, 60_000)
      gates[l]!.wait = wait.catch(() => {})
      try {
        await wait
      } finally {
        gates[l]!.wait = null
      }
    }
    const covered = (ms: ChainMember[]) => new Set(ms.flatMap((m) => [...m.owned])).size === PARTITIONS && ms.reduce((n, m) => n + m.owned.size, 0) === PARTITIONS
    const joiners: ChainMember[] = []
    const leavers: ChainMember[] = []
    const revokedBefore = new Map<ChainMember, number>()
    const keptAcrossJoin = new Map<ChainMember, Set<number>>()
    const revokedAtJoin = new Map<ChainMember, number[]>()
    // ownedAtJoin is what each first member held once the join settled (a member that leaves later owns nothing at the end).
    const ownedAtJoin = new Map<ChainMember, number>()
    let releaseHold = () => {}
    try {
      // A third member joins every level once a third of the input went through the first level.
      await waitFor(() => stats[0]!.committed.size >= N * 0.3, 'a third of the input through level 1', 120_000)
      // Every level holds between batches until its new member has partitions: a fast level must not
      // finish its input while the slower levels settle, or its joiner would get nothing to process.
      const hold = new Promise<void>((r) => (releaseHold = r))
      for (const g of gates) g.wait = hold
      // What a join revokes is judged against a settled assignment: every level's first members both
      // own partitions (a level whose input has not reached it yet may still be in its first rounds).
      await waitFor(() => members.every((ms) => covered(ms) && ms.every((m) => m.owned.size > 0)), "every level's first members to hold their partitions", 60_000)
      for (const m of members.flat()) {
        revokedBefore.set(m, m.revoked.length)
        keptAcrossJoin.set(m, new Set(m.owned))
      }
      await Promise.all(
        members.map(async (ms, l) => {
          const originals = [...ms]
          const j = start(l, v.static ? `L${l + 1}-s2` : undefined)
          joiners.push(j)
          await settle(l, () => j.owned.size > 0 && covered([...originals, j]), `the member joining level ${l + 1} to get partitions`)
        }),
      )
      releaseHold()
      for (const [m, before] of keptAcrossJoin) {
        for (const p of [...before]) if (!m.owned.has(p)) before.delete(p)
        revokedAtJoin.set(m, m.revoked.slice(revokedBefore.get(m)))
        ownedAtJoin.set(m, m.owned.size)
      }
      events.push(`joined at ${progress().join('/')}`)
      // Later, one of the first members leaves every level (a static member restarts with its id).
      await waitFor(() => stats[0]!.committed.size >= N * 0.6, 'three fifths of the input through level 1', 120_000)
      await Promise.all(
        members.map(async (ms, l) => {
          const leaving = ms.shift()!
          leavers.push(leaving)
          await leaving.stop()
          const back = v.static ? start(l, leaving.name) : null
          await settle(l, () => covered(ms) && (back === null || back.owned.size > 0), `level ${l + 1} to settle after a member ${v.static ? 'restarted' : 'left'}`)
        }),
      )
      events.push(`${v.static ? 'restarted' : 'left'} at ${progress().join('/')}`)
      await waitFor(() => stats[LEVELS - 1]!.committed.size >= N, 'every record through the last level', 180_000)
    } finally {
      releaseHold()
      clearInterval(tick)
      t.diagnostic(`progress at the end: ${progress().join('/')}; ${events.join('; ')}; thousands per level each second: ${timeline.join(' ')}`)
      await Promise.all(members.flat().map((m) => m.stop().catch(() => {})))
    }
    const ms = performance.now() - began
    t.diagnostic(`${v.name}: ${N} records through 3 levels in ${(ms / 1000).toFixed(1)} s: ${Math.round(N / (ms / 1000))} records/s end to end, ${Math.round((LEVELS * N) / (ms / 1000))} records/s consumed (all levels)`)
    t.diagnostic(`batches per level: ${stats.map((s) => s.batches).join('/')}; commit failures: ${stats.map((s) => s.commitFailures.length).join('/')}`)

    for (const j of joiners) assert.ok(j.processed > 0, `${j.name} joined mid-run and processed records (${j.processed})`)
    for (const m of leavers) assert.ok(m.processed > 0, `${m.name} processed records before it ${v.static ? 'restarted' : 'left'} (${m.processed})`)
    if (v.name !== 'classic range') {
      // Cooperative (KIP-429) and KIP-848: the join revoked only partitions that moved away.
      for (const [m, kept] of keptAcrossJoin) {
        const revoked = revokedAtJoin.get(m)!
        assert.ok(revoked.length > 0 || kept.size === ownedAtJoin.get(m), `${m.name} gave partitions to the joiner, or kept all it had`)
        for (const p of kept) assert.ok(!revoked.includes(p), `${m.name} kept partition ${p} across the join and never had it revoked`)
      }
    }
    t.diagnostic(`records per member: ${members.flat().concat(leavers).map((m) => `${m.name} ${m.processed}`).join(', ')}`)
    for (let l = 0; l < LEVELS; l++) {
      const s = stats[l]!
      assert.deepEqual(s.twice.slice(0, 10), [], `level ${l + 1}: no (partition, offset) processed twice by committed work`)
      assert.equal(s.produceFailures, 0, `level ${l + 1}: every produce succeeded`)
      assert.deepEqual(s.commitFailures, [], `level ${l + 1}: every commit succeeded (graceful joins and leaves leave no uncommitted work)`)
    }
    // Read every output back: each key present, and (nothing uncommitted, nothing redone) exactly once.
    for (let l = 1; l <= LEVELS; l++) {
      const counts = await countKeys(topics[l]!)
      let missing = 0
      let dup = 0
      for (let i = 0; i < N; i++) {
        const n = counts.get(`k${i}`) ?? 0
        if (n === 0) missing++
        if (n > 1) dup += n - 1
      }
      assert.equal(missing, 0, `level ${l}: every key in its output topic`)
      assert.equal(dup, 0, `level ${l}: no key twice in its output topic`)
      assert.equal(counts.size, N, `level ${l}: no other keys`)
    }
  })
}

/** countKeys reads a topic from the start with a direct consumer and counts each key. */
async function countKeys(topic: string): Promise<Map<string, number>> {
  const c = newClient(k, { consumeTopics: [topic], fetchMaxWait: 100 })
  const ends = await listOffsets(admin, topic, PARTITIONS)
  const next = new Array<bigint>(PARTITIONS).fill(0n)
  const counts = new Map<string, number>()
  const deadline = Date.now() + 60_000
  while (next.some((o, p) => o < ends[p]!)) {
    if (Date.now() > deadline) throw new Error(`reading ${topic} back: at ${next.join(',')}, ends ${ends.join(',')}`)
    const f = await c.pollFetches({ signal: AbortSignal.timeout(1_000) })
    f.eachRecord((r) => {
      const key = r.key!.toString()
      counts.set(key, (counts.get(key) ?? 0) + 1)
      next[r.partition] = r.offset + 1n
    })
  }
  await c.close()
  return counts
}
