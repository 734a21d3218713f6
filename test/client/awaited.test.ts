// A program that awaits a call at the top level gets the call's answer: the client holds the process
// open while a call waits, for a connection to be dialed as for an answer or a retry's backoff, and
// only then. Each case runs in a child process, an ES module, which Node ends with exit code 13 when
// a top-level await never settles because nothing holds the event loop.
// - Admin calls on a client that has done nothing else: their first step dials a group
//   coordinator's connection to learn a request version. Before that dial was held,
//   `admin.fetchOffsets(group, { topic: [0] })` ended the process with exit code 13, printing nothing.
// - `fetchCommittedOffsets` while a transaction commits the group's offsets: the broker answers
//   UNSTABLE_OFFSET_COMMIT until the transaction ends, and the client waits between tries.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

/** run runs a fixture and resolves when it exits; `onLine` sees each JSON line it prints as it comes. */
function run(fixture: string, args: string[], onLine: (line: any) => void = () => {}): Promise<{ code: number | null; lines: any[]; err: string }> {
  const file = fileURLToPath(new URL(`../fixtures/client/${fixture}`, import.meta.url))
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: any[] = []
    let buf = ''
    let err = ''
    p.stdout.on('data', (b: Buffer) => {
      buf += b.toString()
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl))
        buf = buf.slice(nl + 1)
        lines.push(line)
        onLine(line)
      }
    })
    p.stderr.on('data', (b: Buffer) => (err += b.toString()))
    const killer = setTimeout(() => p.kill('SIGKILL'), 50_000)
    p.on('error', reject)
    p.on('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, lines, err })
    })
  })
}

test('Admin calls awaited at the top level of a fresh process settle, and the process then exits 0', { timeout: 60_000 }, async () => {
  const topic = await createTopic(newClient(k))
  const res = await run('awaited-admin.ts', [k.bootstrapServers[0]!, topic])
  assert.equal(res.code, 0, `exit code ${res.code}; stdout: ${JSON.stringify(res.lines)}; stderr: ${res.err}`)
  assert.deepEqual(res.lines[0], { call: 'fetchOffsets', offsets: [{ topic, partition: 0, offset: '-1' }] })
  assert.equal(res.lines[1]?.call, 'describeGroups', JSON.stringify(res.lines))
  assert.deepEqual(res.lines[2], { call: 'close' })
})

test('fetchCommittedOffsets awaited while a transaction commits the offsets waits for it, and the process then exits 0', { timeout: 60_000 }, async () => {
  const topic = await createTopic(newClient(k))
  const group = topicName('g')
  const txn = newClient(k, { transactionalId: topicName('txn'), transactionTimeout: 60_000 })
  txn.beginTransaction()
  await txn.sendOffsetsToTransaction({ [topic]: { 0: { offset: 7n } } }, { groupId: group })
  let ended: Promise<void> | null = null
  const res = await run('awaited-committed.ts', [k.bootstrapServers[0]!, group, topic], (line) => {
    // Once the child is told the offsets are unstable, the transaction commits: only then can its call settle.
    if (ended === null && typeof line.log === 'string' && line.log.includes('unstable')) ended = txn.endTransaction('commit')
  })
  await ended
  assert.ok(ended !== null, `the child saw the offsets unstable: ${JSON.stringify(res.lines)}`)
  assert.equal(res.code, 0, `exit code ${res.code}; stdout: ${JSON.stringify(res.lines)}; stderr: ${res.err}`)
  assert.deepEqual(res.lines.at(-1), { offset: '7' })
})
