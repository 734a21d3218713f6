// Tests that a broker cannot outlive the Node process that started it, using `sleep` as a stand-in JVM
// (the mechanism is the same, and it costs milliseconds instead of a broker start).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'

const watchdogModule = fileURLToPath(new URL('../../src/testing/watchdog.ts', import.meta.url))
let scratch: string

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kw-watchdog-test-'))
})

after(async () => {
  await rm(scratch, { recursive: true, force: true })
})

// A process is gone when it no longer exists or is a zombie nobody has reaped yet.
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await delay(50)
  }
}

/** runFixture starts a Node child running `body` (with the watchdog module imported) and resolves with the pid it prints. */
async function runFixture(name: string, body: string): Promise<{ child: ReturnType<typeof spawn>; sleeper: number; dir: string; exited: Promise<unknown> }> {
  const dir = join(scratch, name)
  await mkdir(dir)
  await writeFile(join(dir, 'marker'), 'x')
  const script = join(scratch, `${name}.mts`)
  await writeFile(
    script,
    `import { spawn } from 'node:child_process'
import * as w from ${JSON.stringify(watchdogModule)}
const dir = ${JSON.stringify(dir)}
const sleeper = spawn('sleep', ['300'], { stdio: 'ignore', detached: true })
sleeper.unref()
${body}
console.log(sleeper.pid)
setInterval(() => {}, 1 << 30)
`,
  )
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'ignore'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const sleeper = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (b: Buffer) => resolve(Number(b.toString().trim())))
    child.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)))
  })
  assert.ok(alive(sleeper))
  return { child, sleeper, dir, exited }
}

test('the watchdog kills the child and removes the folder when its parent is SIGKILLed', { timeout: 30_000 }, async () => {
  const { child, sleeper, dir, exited } = await runFixture('sigkill', 'w.spawnWatchdog(sleeper.pid, dir)')
  child.kill('SIGKILL') // no exit handler runs: only the watchdog can clean up
  await exited
  await until(() => !alive(sleeper), 10_000, 'the orphan to be killed')
  await until(() => !existsSync(dir), 10_000, 'the folder to be removed')
})

test('the exit hooks kill tracked children and remove tracked folders on an uncaught exception', { timeout: 30_000 }, async () => {
  const { sleeper, dir, exited } = await runFixture(
    'crash',
    `w.trackPid(sleeper.pid); w.trackDir(dir)
setTimeout(() => { throw new Error('boom (expected by the test)') }, 100)`,
  )
  await exited
  // 'exit' handlers run synchronously before the process is gone: no wait needed beyond the signal's delivery.
  await until(() => !alive(sleeper), 2_000, 'the tracked child to be killed')
  assert.equal(existsSync(dir), false)
})

test('the exit hooks clean up on SIGTERM and the process still dies of it', { timeout: 30_000 }, async () => {
  const { child, sleeper, dir, exited } = await runFixture('sigterm', 'w.trackPid(sleeper.pid); w.trackDir(dir)')
  child.kill('SIGTERM')
  await exited
  assert.equal(child.signalCode, 'SIGTERM')
  await until(() => !alive(sleeper), 2_000, 'the tracked child to be killed')
  assert.equal(existsSync(dir), false)
})
