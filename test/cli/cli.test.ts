// The kafka-wire command, run as a user would (a child process): --help of each subcommand, clear
// errors for bad flags (exit 2) and for an unreachable broker (exit 1), and produce → consume round
// trips through the CLI against the shared broker.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient } from '../client/helpers.js'
import { shareGroupFromStart } from '../client/consumer/helpers.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** kw runs `kafka-wire …` from the sources (as `npm run demo` does) with `input` on stdin. */
function kw(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env }
    if (opts.env && 'KAFKA_BOOTSTRAP' in opts.env && opts.env.KAFKA_BOOTSTRAP === undefined) delete env.KAFKA_BOOTSTRAP
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 90_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
  })
}

/** closedPort returns a loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

describe('kafka-wire --help and usage errors', () => {
  test('the top-level usage lists every command', async () => {
    const r = await kw(['--help'])
    assert.equal(r.code, 0)
    for (const c of ['broker', 'produce', 'consume', 'bench', 'demo']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'))
  })

  for (const c of ['broker', 'produce', 'consume', 'bench', 'demo']) {
    test(`${c} --help prints its usage and exits 0`, async () => {
      const r = await kw([c, '--help'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^usage: kafka-wire ${c}`))
      assert.match(r.stdout, /-h, --help/)
    })
  }

  const bad: Array<[string, string[], RegExp]> = [
    ['an unknown command', ['nope'], /unknown command "nope"/],
    ['an unknown option', ['produce', '-t', 'x', '--tpoic', 'y'], /kafka-wire produce: unknown option --tpoic/],
    ['a missing topic', ['produce'], /kafka-wire produce: -t TOPIC is required/],
    ['a flag without its value', ['consume', '-t'], /kafka-wire consume: option -t, --topic <value> needs a value/],
    ['an unknown codec', ['produce', '-t', 'x', '-z', 'brotli'], /--compression must be none, gzip, snappy, lz4 or zstd, got "brotli"/],
    ['bad acks', ['produce', '-t', 'x', '--acks', '2'], /--acks must be 0, 1 or all/],
    ['a header without =', ['produce', '-t', 'x', '-H', 'novalue'], /-H wants KEY=VALUE/],
    ['a bad offset', ['consume', '-t', 'x', '-o', 'yesterday'], /-o must be beginning, end, stored, N, -N or s@TIMESTAMP_MS/],
    ['an unknown format token', ['consume', '-t', 'x', '-f', '%q'], /unknown format token %q/],
    ['a negative count', ['consume', '-t', 'x', '-c', '-3'], /--count must be an integer >= 1|ambiguous/],
    ['-e with a group', ['consume', '-t', 'x', '-G', 'g', '-e'], /-e needs partitions read directly/],
    ['a malformed broker address', ['produce', '-t', 'x', '-b', 'host:notaport'], /invalid broker address \(-b\)/],
    ['bench with an unknown workload', ['bench', '-w', 'sleep'], /--workload must be produce, consume or roundtrip/],
    ['broker with 2 nodes', ['broker', '--nodes', '2'], /--nodes must be 1 or 3/],
  ]
  for (const [what, args, message] of bad) {
    test(`${what} exits 2 with a message and a pointer to --help`, async () => {
      const r = await kw(args, { env: { KAFKA_BOOTSTRAP: undefined } })
      assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`)
      assert.match(r.stderr, message)
      assert.match(r.stderr, /see kafka-wire .*--help/)
    })
  }
})

describe('kafka-wire against an unreachable broker', () => {
  test('produce fails at once with exit 1, naming the address', async () => {
    const port = await closedPort()
    const r = await kw(['produce', '-t', 'x', '-b', `127.0.0.1:${port}`], { input: 'a\n' })
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, new RegExp(`cannot reach Kafka at 127\\.0\\.0\\.1:${port}`))
    assert.match(r.stderr, /kafka-wire broker/)
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace for an expected failure')
  })

  test('consume fails the same way', async () => {
    const port = await closedPort()
    const r = await kw(['consume', '-t', 'x', '-e'], { env: { KAFKA_BOOTSTRAP: `127.0.0.1:${port}` } })
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, new RegExp(`cannot reach Kafka at 127\\.0\\.0\\.1:${port}`))
  })
})

describe('kafka-wire produce → consume round trip', () => {
  let k: KafkaCluster
  let env: NodeJS.ProcessEnv
  before(async () => {
    k = await broker({})
    env = { KAFKA_BOOTSTRAP: k.bootstrapServers.join(',') }
  })
  after(closeAll)

  test('keys, values and headers come back as produced, in a kcat format', async () => {
    const c = newClient(k)
    const topic = await createTopic(c, { partitions: 1 })
    const p = await kw(['produce', '-t', topic, '-K', ':', '-H', 'src=cli', '-H', 'n=1', '-z', 'lz4'], { env, input: 'k1:hello\nk2:wörld\nnokey\n' })
    assert.equal(p.code, 0, p.stderr)
    assert.match(p.stderr, /produced 3 records/)
    const r = await kw(['consume', '-t', topic, '-e', '-q', '-f', '%t|%p|%o|%k|%s|%K|%S|%h\\n'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, [`${topic}|0|0|k1|hello|2|5|src=cli,n=1`, `${topic}|0|1|k2|wörld|2|6|src=cli,n=1`, `${topic}|0|2||nokey|-1|5|src=cli,n=1`].join('\n') + '\n')
  })

  test('files, a partition, offsets and a group', async () => {
    const c = newClient(k)
    const topic = await createTopic(c, { partitions: 3 })
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const dir = await mkdtemp(join(tmpdir(), 'kw-cli-'))
    try {
      await writeFile(join(dir, 'a.txt'), 'a1;a2;a3')
      await writeFile(join(dir, 'b.txt'), 'b1;b2')
      const p = await kw(['produce', '-t', topic, '-p', '2', '-D', ';', '-q', join(dir, 'a.txt'), join(dir, 'b.txt')], { env })
      assert.equal(p.code, 0, p.stderr)
      assert.equal(p.stderr, '')
      const all = await kw(['consume', '-t', topic, '-p', '2', '-e', '-q', '-f', '%o=%s '], { env })
      assert.equal(all.stdout, '0=a1 1=a2 2=a3 3=b1 4=b2 ')
      const from3 = await kw(['consume', '-t', topic, '-o', '3', '-e', '-q', '-f', '%s '], { env })
      assert.equal(from3.stdout, 'b1 b2 ')
      const last2 = await kw(['consume', '-t', topic, '--offset=-2', '-e', '-q', '-f', '%s '], { env })
      assert.equal(last2.stdout, 'b1 b2 ')
      const empty = await kw(['consume', '-t', topic, '-p', '0', '-e'], { env })
      assert.equal(empty.code, 0, empty.stderr)
      assert.equal(empty.stdout, '')
      const group = `g-${topic}`
      const g = await kw(['consume', '-G', group, '-t', topic, '-c', '5', '-q', '-f', '%s\\n'], { env })
      assert.equal(g.code, 0, g.stderr)
      assert.deepEqual(g.stdout.trim().split('\n'), ['a1', 'a2', 'a3', 'b1', 'b2'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  // The AbortSignal contract end to end: a real SIGINT aborts the poll, whose errors() holds an
  // AbortError caused by the reason; consume tells its own abort apart, commits, closes and exits 0.
  for (const mode of ['direct', 'group'] as const) {
    test(`consume (${mode}) exits 0 on a real SIGINT, after printing what it read`, async () => {
      const c = newClient(k)
      const topic = await createTopic(c, { partitions: 2 })
      await Promise.all(['r1', 'r2', 'r3'].map((v) => c.produce({ topic, value: v })))
      const args = ['consume', '-t', topic, '-f', '%s\\n', ...(mode === 'group' ? ['-G', `g-${topic}`] : [])]
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
      // Interrupt once all three records are printed: consume is then parked in a poll.
      await new Promise<void>((resolve, reject) => {
        const killer = setTimeout(() => reject(new Error(`consume printed ${JSON.stringify(stdout)} in 60 s\n${stderr}`)), 60_000)
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString()
          if (stdout.split('\n').filter(Boolean).length >= 3) {
            clearTimeout(killer)
            resolve()
          }
        })
      }).catch((err) => {
        child.kill('SIGKILL')
        throw err
      })
      assert.ok(child.kill('SIGINT'))
      const r = await exited
      assert.equal(r.signal, null, `killed by ${r.signal}`)
      assert.equal(r.code, 0, stderr)
      assert.deepEqual(stdout.trim().split('\n').sort(), ['r1', 'r2', 'r3'])
      assert.match(stderr, /consumed 3 records/)
      assert.doesNotMatch(stderr, /interrupted|AbortError/)
    })
  }

  test('a share group: each record is printed by one run only, and records fetched past -c go to the next run', async () => {
    const c = newClient(k)
    const topic = await createTopic(c, { partitions: 1 })
    const group = `sg-${topic}`
    await shareGroupFromStart(c, group)
    await c.produceSync(['s1', 's2', 's3', 's4', 's5'].map((value) => ({ topic, value })))
    const first = await kw(['consume', '--share-group', group, '-t', topic, '-c', '3', '-q', '-f', '%s\\n'], { env })
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stdout.trim().split('\n').length, 3)
    // The first run fetched all five (one fetch takes up to 500): the two it did not print were released.
    const second = await kw(['consume', '--share-group', group, '-t', topic, '-c', '2', '-q', '-f', '%s\\n'], { env })
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual([...first.stdout.trim().split('\n'), ...second.stdout.trim().split('\n')].sort(), ['s1', 's2', 's3', 's4', 's5'])
    // groups describe knows a share group: its type, no lag left (every record was accepted), its partition.
    const d = await kw(['groups', 'describe', group], { env })
    assert.equal(d.code, 0, d.stderr)
    assert.match(d.stdout, new RegExp(`^Group ${group}  type share  state Empty  coordinator \\d+  members 0  total lag 0$`, 'm'))
    assert.match(d.stdout, new RegExp(`^${group}\\s+${topic}\\s+0\\s+\\S+\\s+0\\s*$`, 'm'))
    const both = await kw(['consume', '--share-group', group, '-G', group, '-t', topic], { env })
    assert.equal(both.code, 2)
    assert.match(both.stderr, /-G and --share-group cannot be used together/)
    // reset-offsets on a share group moves its start offset: a dry run changes nothing ...
    const dry = await kw(['groups', 'reset-offsets', group, '--to-earliest'], { env })
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /PREVIOUS-START-OFFSET\s+NEW-START-OFFSET/)
    // (The previous start offset is the broker's: it can trail the last acknowledged record for a while.)
    assert.match(dry.stdout, new RegExp(`^${group}\\s+${topic}\\s+0\\s+\\d+\\s+0\\s+-\\s*$`, 'm'))
    assert.match(dry.stderr, /dry run; add --execute to set these start offsets/)
    assert.match((await kw(['groups', 'describe', group], { env })).stdout, /total lag 0$/m)
    // ... --execute sets it, and the group hands out all five again.
    const exec = await kw(['groups', 'reset-offsets', group, '--to-earliest', '--execute', '--json'], { env })
    assert.equal(exec.code, 0, exec.stderr)
    const plan = JSON.parse(exec.stdout) as { type: string; executed: boolean; offsets: Array<{ partition: number; previous: string; offset: string; error: unknown }> }
    assert.deepEqual([plan.type, plan.executed, plan.offsets.map((o) => [o.partition, String(o.offset), o.error])], ['share', true, [[0, '0', null]]])
    assert.match((await kw(['groups', 'describe', group], { env })).stdout, /total lag 5$/m)
    const again = await kw(['consume', '--share-group', group, '-t', topic, '-c', '5', '-q', '-f', '%s\\n'], { env })
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(again.stdout.trim().split('\n').sort(), ['s1', 's2', 's3', 's4', 's5'])
    // delete removes an empty share group.
    const del = await kw(['groups', 'delete', group], { env })
    assert.equal(del.code, 0, del.stderr)
    assert.match(del.stdout, new RegExp(`^${group}\\s+deleted\\s*$`, 'm'))
    const gone = await kw(['groups', 'describe', group], { env })
    assert.doesNotMatch(gone.stdout, /type share/)
  })

  test('a missing topic is an error that names it', async () => {
    const r = await kw(['produce', '-t', 'no-such-topic-for-kafka-wire-cli'], { env, input: 'x\n' })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /topic no-such-topic-for-kafka-wire-cli does not exist/)
  })
})
