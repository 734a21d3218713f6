// An idle share-group member lets its process exit, as an idle consumer does: the fetch it keeps
// parked on the broker is background work; only pending polls and acknowledgements hold the process.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName } from '../helpers.js'
import { produceKeys, shareGroupFromStart } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('../../fixtures/share/idle-member.ts', import.meta.url))
let k: KafkaCluster

before(async () => {
  k = await broker({})
}, { timeout: 300_000 })

after(closeAll)

test('a share member that polled and went idle (not closed) lets its process exit by itself', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 2 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group)
  await produceKeys(admin, topic, 10)
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, topic, group, '10'], { env: { ...process.env, KAFKA_BOOTSTRAP: k.bootstrapServers.join(',') }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let polledAt = 0
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString()
    if (polledAt === 0 && out.includes('polled')) polledAt = performance.now()
  })
  child.stderr.on('data', (b: Buffer) => (err += b.toString()))
  // A child that does not exit by itself is the failure looked for: kill it after 60 s.
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  clearTimeout(killer)
  assert.equal(code, 0, `exit code ${code}: ${err.slice(-2000)}`)
  assert.match(out, /^polled 10$/m)
  const idle = performance.now() - polledAt
  assert.ok(idle < 15_000, `the process exited ${idle.toFixed(0)} ms after going idle`)
})
