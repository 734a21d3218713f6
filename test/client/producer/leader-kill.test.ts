// On a 3-broker cluster (replication factor 3, min ISR 2), a partition leader is killed (SIGKILL:
// no controlled shutdown) and restarted while 200,000 idempotent records are produced. Nothing may
// be lost or written twice, and each partition keeps the order its records were produced in.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { ProduceRecord } from '../../../src/protocol/record.js'
import { LogLevel, type Logger } from '../../../src/hooks/index.js'
import { startKafka, type KafkaCluster } from '../../../src/testing/index.js'
import { closeAll, createTopic, newClient, readAll } from '../helpers.js'
import { coreOf } from '../../../src/client/client.js'

let k: KafkaCluster | undefined
let startedIn = 0

before(async () => {
  const t = performance.now()
  try {
    k = await startKafka({
      brokers: 3,
      // A killed broker is fenced once its session times out; a short session makes the failover
      // take seconds instead of the default 9 s, without being so short that a loaded machine
      // fences live brokers.
      brokerConfig: { 'broker.session.timeout.ms': '6000', 'broker.heartbeat.interval.ms': '1000' },
    })
  } catch (err) {
    throw new Error(`the leader-kill test needs a 3-broker cluster and none could be started: ${err instanceof Error ? err.message : String(err)}`)
  }
  startedIn = performance.now() - t
}, { timeout: 300_000 })

after(async () => {
  await closeAll()
  await k?.stop()
})

/**
 * killBroker SIGKILLs node `index` of a JVM cluster this process started: the JVM is found by its
 * server.properties path (unique to this cluster's folder) in /proc. It resolves with how it
 * stopped the node; where no such process can be found (not Linux, or not a JVM cluster) it falls
 * back to the harness's graceful stop.
 */
async function killBroker(cluster: KafkaCluster, index: number): Promise<'SIGKILL' | 'SIGTERM'> {
  const config = cluster.dir ? join(cluster.dir, `node${index + 1}`, 'server.properties') : null
  if (config !== null) {
    let entries: string[] = []
    try {
      entries = readdirSync('/proc')
    } catch {
      // not Linux
    }
    for (const e of entries) {
      if (!/^\d+$/.test(e)) continue
      let cmd: string
      try {
        cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8')
      } catch {
        continue
      }
      const args = cmd.split('\0')
      if (args.includes('kafka.Kafka') && args.includes(config)) {
        process.kill(Number(e), 'SIGKILL')
        return 'SIGKILL'
      }
    }
  }
  await cluster.stopBroker(index)
  return 'SIGTERM'
}

/** restartBroker starts node `index` again, once the harness has seen the killed process exit. */
async function restartBroker(cluster: KafkaCluster, index: number): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await cluster.startBroker(index)
      return
    } catch (err) {
      if (!/already running/.test(String(err)) || i > 200) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

test('a partition leader killed and restarted during 200,000 idempotent records: none lost, none doubled, order kept', { timeout: 240_000 }, async (t) => {
  const cluster = k!
  t.diagnostic(`3-broker cluster started in ${(startedIn / 1000).toFixed(1)} s`)
  const logged = new Map<string, number>()
  const logger: Logger = { level: () => LogLevel.Debug, log: (_l, msg) => void logged.set(msg, (logged.get(msg) ?? 0) + 1) }
  const c = newClient(cluster, { metadataMinAge: 250, retryBackoff: 100, logger })
  const partitions = 6
  const topic = await createTopic(c, { partitions, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } })
  const leader = (await coreOf(c).topic(topic))!.partitions[0]!.leader
  const victim = leader - 1 // node ids are 1-based, broker indexes 0-based

  const n = 200_000
  const calls = new Uint8Array(n)
  const partitionOf = new Int8Array(n).fill(-1)
  const offsetOf = new Array<bigint>(n)
  const errors: string[] = []
  let acked = 0
  let resolveAll!: () => void
  const allSettled = new Promise<void>((r) => (resolveAll = r))
  let left = n
  const waiters: Array<{ at: number; resolve: () => void }> = []
  const whenAcked = (at: number) => new Promise<void>((resolve) => (acked >= at ? resolve() : waiters.push({ at, resolve })))
  let next = 0
  const value = Buffer.alloc(64, 'v')
  const produceUpTo = (end: number) => {
    for (; next < end; next++) {
      const i = next
      const rec: ProduceRecord = { topic, key: `key-${i}`, value, headers: [{ key: 'i', value: String(i) }] }
      c.produce(rec, (r, err) => {
        calls[i]!++
        if (err) errors.push(`${i}: ${err.message}`)
        else {
          partitionOf[i] = r.partition!
          offsetOf[i] = r.offset!
          acked++
          for (let w = waiters.length - 1; w >= 0; w--) {
            if (acked >= waiters[w]!.at) waiters.splice(w, 1)[0]!.resolve()
          }
        }
        if (--left === 0) resolveAll()
      })
    }
  }

  const start = performance.now()
  const at = (label: string) => t.diagnostic(`${((performance.now() - start) / 1000).toFixed(1)} s: ${label}`)
  produceUpTo(40_000)
  await whenAcked(20_000)
  const how = await killBroker(cluster, victim)
  at(`${how} broker ${leader}, leader of partition 0, with ${acked} records acknowledged`)
  produceUpTo(100_000)
  const restarted = restartBroker(cluster, victim).then(() => at(`broker ${leader} restarted`))
  // Keep producing while the broker restarts, a chunk at a time, and the rest once it is back.
  let restartDone = false
  void restarted.then(() => (restartDone = true), () => (restartDone = true))
  while (!restartDone && next < 180_000) {
    produceUpTo(next + 2_000)
    await new Promise((r) => setTimeout(r, 250))
  }
  await restarted
  produceUpTo(n)
  await allSettled
  const ms = performance.now() - start
  at(`all ${n} records settled (${Math.round(n / (ms / 1000))} records/s overall)`)
  t.diagnostic(`client log: ${JSON.stringify(Object.fromEntries(logged))}`)

  assert.deepEqual(errors.slice(0, 10), [], `${errors.length} records failed`)
  assert.ok(calls.every((x) => x === 1), 'every callback ran exactly once')
  assert.equal(c.bufferedProduceRecords, 0)

  // What the callbacks said: per partition, offsets 0..count-1 each once, in produce order.
  const byPartition: number[][] = Array.from({ length: partitions }, () => [])
  for (let i = 0; i < n; i++) byPartition[partitionOf[i]!]!.push(i)
  for (let p = 0; p < partitions; p++) {
    byPartition[p]!.forEach((i, j) => assert.equal(offsetOf[i], BigInt(j), `partition ${p}: record ${i} is the ${j}th`))
  }

  // What the cluster stored: exactly those records at those offsets.
  const stored = await readAll(c, topic)
  const seen = new Uint8Array(n)
  for (let p = 0; p < partitions; p++) {
    const recs = stored[p]!
    assert.equal(recs.length, byPartition[p]!.length, `partition ${p}: stored ${recs.length}, acknowledged ${byPartition[p]!.length}`)
    let prev = -1
    for (const [j, r] of recs.entries()) {
      assert.equal(r.offset, BigInt(j))
      const i = Number(r.headers[0]!.value!.toString())
      assert.equal(r.key!.toString(), `key-${i}`)
      assert.ok(i > prev, `partition ${p}: record ${i} stored after ${prev}`)
      prev = i
      seen[i]!++
    }
  }
  assert.ok(seen.every((x) => x === 1), 'every record is stored exactly once')
  at('read back and checked')
})
