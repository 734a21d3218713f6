// The Docker path of the harness, the part that needs no Docker engine and runs everywhere: how the
// harness explains a path it cannot take. The part that starts containers is
// test/containers/docker.test.ts, run by `npm run test:containers`.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { loadTestcontainers, readTar } from '../../src/testing/docker.js'
import { freePorts, KafkaHarnessError, probeDockerEngine, startKafka } from '../../src/testing/index.js'

/** withEnv runs fn with some variables changed (undefined removes one) and puts them back after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k]
      else process.env[k] = x
    }
  }
  set(vars)
  try {
    return await fn()
  } finally {
    set(saved)
  }
}

// Nothing answers here: a socket path that does not exist, and a port nobody listens on.
const NO_SOCKET = 'unix:///nonexistent/kafka-wire/docker.sock'

test('a DOCKER_HOST socket that does not exist is reported with the path and the reason', async () => {
  const probe = await probeDockerEngine(500, { DOCKER_HOST: NO_SOCKET })
  assert.equal(probe.ok, false)
  assert.equal(probe.where, `DOCKER_HOST=${NO_SOCKET}`)
  assert.match(probe.reason ?? '', /ENOENT/)
})

test('a DOCKER_HOST port where nothing listens is reported as refused', async () => {
  const [port] = await freePorts(1)
  const probe = await probeDockerEngine(500, { DOCKER_HOST: `tcp://127.0.0.1:${port}` })
  assert.equal(probe.ok, false)
  assert.match(probe.reason ?? '', /ECONNREFUSED/)
})

test('KAFKA_WIRE_HARNESS=docker without an engine fails at once, naming DOCKER_HOST', async () => {
  const err = await withEnv({ KAFKA_BOOTSTRAP: undefined, KAFKA_WIRE_HARNESS: 'docker', DOCKER_HOST: NO_SOCKET }, () => startKafka().then(() => undefined, (e: unknown) => e))
  assert.ok(err instanceof KafkaHarnessError, String(err))
  assert.equal(err.code, 'DOCKER_UNAVAILABLE')
  assert.equal(err.retriable, false)
  assert.match(err.message, /no Docker engine answers \(DOCKER_HOST=unix:\/\/\/nonexistent\/kafka-wire\/docker\.sock: ENOENT/)
})

test('an unknown KAFKA_WIRE_HARNESS value is refused with the valid ones', async () => {
  const err = await withEnv({ KAFKA_BOOTSTRAP: undefined, KAFKA_WIRE_HARNESS: 'podman' }, () => startKafka().then(() => undefined, (e: unknown) => e))
  assert.ok(err instanceof KafkaHarnessError)
  assert.equal(err.code, 'BAD_HARNESS')
  assert.match(err.message, /KAFKA_WIRE_HARNESS=podman .*jvm, docker/)
})

test('no Docker engine and no Java: one error says what each path lacked and what to install', { timeout: 60_000 }, async () => {
  // A child whose PATH holds only node, so neither java nor a Docker socket can be found.
  const dir = await mkdtemp(join(tmpdir(), 'kw-noruntime-'))
  try {
    await symlink(process.execPath, join(dir, 'node'))
    const script = `
      const { startKafka } = await import(${JSON.stringify(pathToFileURL(join(process.cwd(), 'src/testing/index.ts')).href)})
      try { await startKafka(); console.log(JSON.stringify({ started: true })) }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })) }
      process.exit(0)`
    const res = spawnSync(join(dir, 'node'), ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { PATH: dir, HOME: dir, DOCKER_HOST: NO_SOCKET },
      encoding: 'utf8',
      timeout: 50_000,
    })
    const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { name?: string; code?: string; message?: string }
    assert.equal(out.code, 'NO_RUNTIME', `${res.stdout}\n${res.stderr}`)
    assert.equal(out.name, 'KafkaHarnessError')
    assert.match(out.message ?? '', /Docker: no Docker engine answers \(DOCKER_HOST=/)
    assert.match(out.message ?? '', /JVM: .*needs Java 17\+/)
    assert.match(out.message ?? '', /apt-get install docker\.io/)
    assert.match(out.message ?? '', /testcontainers@11/)
    assert.match(out.message ?? '', /openjdk-17-jdk-headless maven/)
    assert.match(out.message ?? '', /KAFKA_BOOTSTRAP/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('testcontainers not installed and testcontainers failing to load are told apart, the cause kept', async () => {
  const missing = await loadTestcontainers('kafka-wire-no-such-package').catch((e: unknown) => e)
  assert.ok(missing instanceof KafkaHarnessError)
  assert.equal(missing.code, 'TESTCONTAINERS_MISSING')
  assert.match(missing.message, /not installed \(Node 20: npm i -D testcontainers@11\)/)

  const dir = await mkdtemp(join(tmpdir(), 'kw-broken-'))
  try {
    const broken = join(dir, 'broken.mjs')
    await writeFile(broken, "throw new Error('dockerode needs ssh2 and it is missing')\n")
    const err = await loadTestcontainers(pathToFileURL(broken).href).catch((e: unknown) => e)
    assert.ok(err instanceof KafkaHarnessError)
    assert.equal(err.code, 'TESTCONTAINERS_BROKEN')
    assert.match(err.message, /failed to load: dockerode needs ssh2 and it is missing/)
    assert.match(String((err.cause as Error).message), /dockerode needs ssh2/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('readTar reads the files of a tar stream, long names included', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-tar-'))
  try {
    const long = `${'n'.repeat(120)}.txt` // past ustar's 100-byte name field
    await writeFile(join(dir, 'a.bin'), Buffer.from([0, 1, 2, 255]))
    await writeFile(join(dir, long), 'x'.repeat(1000))
    const tar = spawn('tar', ['-cf', '-', '--format=gnu', '-C', dir, 'a.bin', long])
    const files = await readTar(tar.stdout)
    assert.deepEqual(files.get('a.bin'), Buffer.from([0, 1, 2, 255]))
    assert.equal(files.get(long)?.toString(), 'x'.repeat(1000))
    assert.equal(files.size, 2)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

