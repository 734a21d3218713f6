// A program that awaits an Admin call at the top level, on a client that has done nothing else, gets
// the call's answer: the process is held open while the call waits for a connection to be dialed (a
// group coordinator's, to learn the request version), not only while it waits for an answer. Before
// that hold, `admin.fetchOffsets(group, { topic: [0] })` in a fresh process ended the process with
// the promise unsettled (exit code 13 for an ES module), printing nothing.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient } from '../client/helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

test('Admin calls awaited at the top level of a fresh process settle, and the process then exits 0', { timeout: 60_000 }, async () => {
  const topic = await createTopic(newClient(k))
  const file = fileURLToPath(new URL('../fixtures/admin/awaited.ts', import.meta.url))
  const res = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', file, k.bootstrapServers[0]!, topic], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (b: Buffer) => (out += b.toString()))
    p.stderr.on('data', (b: Buffer) => (err += b.toString()))
    const killer = setTimeout(() => p.kill('SIGKILL'), 50_000)
    p.on('error', reject)
    p.on('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, out, err })
    })
  })
  const lines = res.out.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
  assert.equal(res.code, 0, `exit code ${res.code}; stdout: ${res.out}; stderr: ${res.err}`)
  assert.deepEqual(lines[0], { call: 'fetchOffsets', offsets: [{ topic, partition: 0, offset: '-1' }] })
  assert.equal(lines[1]?.call, 'describeGroups', res.out)
  assert.deepEqual(lines[2], { call: 'close' })
})
