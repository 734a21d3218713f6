// The exactly-once chain: 100,000 input records go through three consume-transform-produce stages,
// each a consumer group of two GroupTransactSession members running as child processes. During the
// run members are SIGKILLed mid-transaction and started again with the same transactional id, and
// the broker is restarted halfway through stage 1: the transactional ids, the open transactions and
// the groups must survive it. Each stage appends `:<stage>` to the value and keeps the key, so the
// final topic, read with read_committed, must hold every input exactly once with value `<i>:1:2:3`:
// no duplicate (a zombie's or a revoked member's work committed twice) and nothing missing (an
// aborted transaction's input not polled again). The cluster is this file's own (it is restarted).
//
// KAFKA_WIRE_EOS_LOG=<dir> writes each member's client log (debug) to <dir>/<transactionalId>.log,
// the broker's log to <dir>/broker.log, and prints the progress every 2 s.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { consumerOf } from '../../src/client/client.js'
import { startKafka, type KafkaCluster } from '../../src/testing/index.js'
import { closeAll, createTopic, listOffsets, newClient, waitFor } from './helpers.js'

const INPUTS = 100_000
const PARTITIONS = 4
const STAGES = 3
const MEMBERS = 2
const MEMBER_SCRIPT = fileURLToPath(new URL('../fixtures/eos/member.ts', import.meta.url))

let k: KafkaCluster | undefined

before(async () => {
  try {
    k = await startKafka({
      // Members use a 3 s session so that a killed member's partitions move quickly.
      brokerConfig: { 'group.min.session.timeout.ms': '3000' },
    })
  } catch (err) {
    throw new Error(`the exactly-once chain needs a Kafka broker of its own (it restarts it) and none could be started: ${err instanceof Error ? err.message : String(err)}`)
  }
}, { timeout: 300_000 })

const members = new Set<Member>()

after(async () => {
  await Promise.all([...members].map((m) => m.kill('SIGKILL')))
  await closeAll()
  if (process.env.KAFKA_WIRE_EOS_LOG && k?.dir) cpSync(join(k.dir, 'node1', 'stdout.log'), join(process.env.KAFKA_WIRE_EOS_LOG, 'broker.log'))
  await k?.stop()
})

/** Member is one running child process of one stage. */
class Member {
  readonly proc: ChildProcess
  readonly exited: Promise<number | null>
  killedByTest = false
  stderr = ''
  lastLines: string[] = []

  constructor(
    readonly stage: number,
    readonly slot: number,
    args: string[],
    onEnd: (stage: number, committed: boolean, n: number) => void,
    onFatal: (m: Member, why: string) => void,
  ) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', MEMBER_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)))
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      this.lastLines = [...this.lastLines.slice(-9), line]
      const m = /^end (committed|aborted) (\d+)$/.exec(line)
      if (m) onEnd(stage, m[1] === 'committed', Number(m[2]))
      else if (line.startsWith('fatal ')) onFatal(this, line)
    })
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)))
    void this.exited.then((code) => {
      members.delete(this)
      if (!this.killedByTest) onFatal(this, `exited with code ${code} (not killed by the test)`)
    })
    members.add(this)
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    this.killedByTest = true
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal)
    await this.exited
  }
}

test('exactly-once chain: 3 stages x 2 members, 100,000 inputs, members SIGKILLed and restarted, the broker restarted; every input reaches the end exactly once', { timeout: 300_000 }, async (t) => {
  const cluster = k!
  const admin = newClient(cluster)
  const run = randomUUID().slice(0, 8)
  const topics = [await createTopic(admin, { partitions: PARTITIONS, name: `eos-${run}-in` })]
  for (let s = 1; s <= STAGES; s++) topics.push(await createTopic(admin, { partitions: PARTITIONS, name: `eos-${run}-s${s}` }))

  // The input: key `k<i>`, value `<i>`, spread over the partitions.
  for (let from = 0; from < INPUTS; from += 10_000) {
    await admin.produceSync(Array.from({ length: 10_000 }, (_, j) => ({ topic: topics[0]!, key: `k${from + j}`, value: String(from + j), partition: (from + j) % PARTITIONS })))
  }

  const committed = new Array<number>(STAGES + 1).fill(0)
  const aborted = new Array<number>(STAGES + 1).fill(0)
  let failure: string | null = null
  const onEnd = (stage: number, ok: boolean, n: number) => {
    if (ok) committed[stage]! += n
    else aborted[stage]! += 1
  }
  const onFatal = (m: Member, why: string) => {
    failure ??= `stage ${m.stage} member ${m.slot}: ${why}\nlast lines: ${m.lastLines.join(' | ')}\nstderr: ${m.stderr}`
  }
  const slots: Member[][] = []
  const start = (stage: number, slot: number) => {
    const m = new Member(stage, slot, [cluster.bootstrapServers.join(','), `eos-${run}-group-${stage}`, topics[stage - 1]!, topics[stage]!, `eos-${run}-txn-${stage}-${slot}`, String(stage)], onEnd, onFatal)
    slots[stage]![slot] = m
    return m
  }
  for (let s = 1; s <= STAGES; s++) {
    slots[s] = []
    for (let i = 0; i < MEMBERS; i++) start(s, i)
  }

  /** until waits for a condition on the progress, failing at once when a member failed. */
  const until = (cond: () => boolean, what: string, ms = 120_000) =>
    waitFor(() => {
      if (failure !== null) throw new Error(failure)
      return cond()
    }, `${what} (committed per stage: ${committed.slice(1).join(', ')})`, ms)
  let kills = 0
  const killAndRestart = async (stage: number, slot: number) => {
    await slots[stage]![slot]!.kill('SIGKILL')
    kills++
    start(stage, slot)
  }

  // The final topic is read with read_committed from the start, while the chain runs.
  const out = topics[STAGES]!
  const ps: { [p: number]: 'earliest' } = {}
  for (let p = 0; p < PARTITIONS; p++) ps[p] = 'earliest'
  const reader = newClient(cluster, { consumePartitions: { [out]: ps }, isolationLevel: 'read_committed' })
  const seen = new Map<string, number>()
  let wrong = 0
  const read = async () => {
    const f = await reader.pollFetches({ signal: AbortSignal.timeout(500) })
    f.eachRecord((r) => {
      const key = String(r.key)
      seen.set(key, (seen.get(key) ?? 0) + 1)
      if (String(r.value) !== `${key.slice(1)}:1:2:3`) wrong++
    })
  }
  let reading = true
  const readLoop = (async () => {
    while (reading && failure === null) await read()
  })()

  const t0 = performance.now()
  const log = process.env.KAFKA_WIRE_EOS_LOG ? (line: string) => console.log(`${new Date().toISOString()} ${line}`) : () => {}
  const progress = setInterval(() => log(`committed ${committed.slice(1).join(', ')}, aborted ${aborted.slice(1).join('/')}, seen ${seen.size}`), 2000)
  let restartSeconds = 0
  try {
    await until(() => committed[1]! >= INPUTS * 0.15, 'stage 1 to reach 15%')
    await killAndRestart(1, 0)
    await until(() => committed[2]! >= INPUTS * 0.25, 'stage 2 to reach 25%')
    await killAndRestart(2, 1)
    await until(() => committed[1]! >= INPUTS * 0.5, 'stage 1 to reach 50%')
    // The broker goes down and comes back: the transaction state and the groups are reloaded from its
    // logs. Transactions open meanwhile time out (10 s) or are ended by their members once it is back.
    const down = performance.now()
    log('stopping the broker')
    await cluster.stopBroker(0)
    log('starting the broker')
    await cluster.startBroker(0)
    restartSeconds = (performance.now() - down) / 1000
    log('the broker is back')
    await until(() => committed[3]! >= INPUTS * 0.4, 'stage 3 to reach 40%')
    await killAndRestart(3, 0)
    await until(() => committed[2]! >= INPUTS * 0.7, 'stage 2 to reach 70%')
    await killAndRestart(2, 0)
    await until(() => seen.size >= INPUTS, 'every input to reach the final topic', 180_000)
  } finally {
    clearInterval(progress)
    reading = false
    await readLoop.catch(() => {})
  }
  const seconds = (performance.now() - t0) / 1000

  // Stop the members; every transaction is ended, so the last stable offsets reach the log ends.
  await Promise.all([...members].map((m) => m.kill('SIGTERM')))
  assert.equal(failure, null)

  // Read on to the end of the final topic: whatever was committed late (a duplicate) is counted too.
  const ends = await listOffsets(admin, out, PARTITIONS)
  await waitFor(async () => {
    await read()
    return ends.every((end, p) => (consumerOf(reader).cursor(out, p)?.offset ?? -1n) >= end)
  }, 'the read_committed reader to reach the end of the final topic', 120_000)
  let duplicates = 0
  let missing = 0
  for (let i = 0; i < INPUTS; i++) {
    const n = seen.get(`k${i}`) ?? 0
    if (n === 0) missing++
    else duplicates += n - 1
  }
  const outputs = [...seen.values()].reduce((a, b) => a + b, 0)
  const figures = `inputs ${INPUTS}, outputs ${outputs}, distinct ${seen.size}, duplicates ${duplicates}, missing ${missing}, wrong values ${wrong}, member kills survived ${kills}, broker restart ${restartSeconds.toFixed(1)} s, committed per stage ${committed.slice(1).join('/')}, aborted transactions per stage ${aborted.slice(1).join('/')}, ${seconds.toFixed(1)} s`
  t.diagnostic(figures)
  console.log(`exactly-once chain: ${figures}`)
  assert.deepEqual({ outputs, distinct: seen.size, duplicates, missing, wrong }, { outputs: INPUTS, distinct: INPUTS, duplicates: 0, missing: 0, wrong: 0 }, figures)
  assert.equal(kills, 4)
  assert.ok(restartSeconds > 0, 'the broker was restarted')
  // No stage committed more records than it had inputs (a member killed right after a commit may not
  // have reported it, so the sums can fall short, never exceed).
  for (let s = 1; s <= STAGES; s++) assert.ok(committed[s]! <= INPUTS, `stage ${s} committed ${committed[s]} records`)
  await reader.close()
  await admin.close()
})
