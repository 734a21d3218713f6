// The Docker path of the harness. The first part needs no Docker engine and runs everywhere: how the
// harness explains a path it cannot take. The second part starts containers; it runs under
// `npm run test:containers` (KAFKA_WIRE_HARNESS=docker), where a Docker engine that does not work makes
// it fail, and elsewhere it reports itself skipped with that command as the reason.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { containerRunning, dockerApi } from '../../src/testing/docker-api.js'
import { loadTestcontainers, localKafkaImage, officialKafkaImage, readTar } from '../../src/testing/docker.js'
import { apiVersions, canConnect, freePorts, KAFKA_VERSION, KafkaHarnessError, parseHostPort, probeDockerEngine, startKafka, type KafkaCluster } from '../../src/testing/index.js'

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

// --- with a Docker engine -------------------------------------------------------------------------

const onDocker = process.env.KAFKA_WIRE_HARNESS === 'docker'
const needsDocker = onDocker ? false : 'the Docker path runs under `npm run test:containers` (KAFKA_WIRE_HARNESS=docker)'

test('a missing image is named, with the command that builds the local one', { skip: needsDocker, timeout: 60_000 }, async () => {
  const err = await withEnv({ KAFKA_BOOTSTRAP: undefined, KAFKA_WIRE_IMAGE: 'kafka-wire/no-such-image:0' }, () => startKafka().then(() => undefined, (e: unknown) => e))
  assert.ok(err instanceof KafkaHarnessError, String(err))
  assert.equal(err.code, 'IMAGE_MISSING')
  assert.match(err.message, /the Kafka image kafka-wire\/no-such-image:0 is not on the Docker engine, and pulling it failed/)
  assert.match(err.message, /docker\/kafka\/build\.sh/)
})

let own: KafkaCluster | undefined

before(async () => {
  if (!onDocker) return
  // Its own broker settings make startKafka start a container here, even when the run shares one.
  own = await startKafka({ brokerConfig: { 'log.retention.hours': '1' } })
}, { timeout: 300_000 })

after(async () => {
  await own?.stop()
})

test('the cluster runs in a container of the official or the local image, as the harness chose', { skip: needsDocker }, async () => {
  const k = own as KafkaCluster
  assert.equal(k.kind, 'docker')
  assert.equal(k.version, KAFKA_VERSION)
  assert.equal(k.containers?.length, 1)
  const res = await dockerApi('GET', `/containers/${k.containers?.[0]}/json`)
  const image = (JSON.parse(res.body) as { Config: { Image: string } }).Config.Image
  assert.ok([officialKafkaImage(), localKafkaImage(), process.env.KAFKA_WIRE_IMAGE].includes(image), image)
  const { host, port } = parseHostPort(k.bootstrapServers[0] as string)
  assert.equal((await apiVersions(host, port)).errorCode, 0)
})

test('Java tools inside the container: stdin input, host files and host addresses work as on the host', { skip: needsDocker, timeout: 180_000 }, async () => {
  const k = own as KafkaCluster
  const topic = `kw-docker-${randomUUID()}`
  const created = await k.runJavaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', k.bootstrapServers.join(','), '--create', '--topic', topic])
  assert.equal(created.code, 0, created.stderr)
  const produced = await k.runJavaTool('org.apache.kafka.tools.ConsoleProducer', ['--bootstrap-server', k.bootstrapServers[0] as string, '--topic', topic], { input: 'one\ntwo\nthree\n' })
  assert.equal(produced.code, 0, produced.stderr)

  // A consumer configuration written on the host, named by its host path.
  const dir = await mkdtemp(join(tmpdir(), 'kw-docker-tool-'))
  try {
    const config = join(dir, 'consumer.properties')
    await writeFile(config, 'client.id=kw-docker-test\n')
    const consumed = await k.runJavaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server', k.bootstrapServers[0] as string, '--topic', topic, '--from-beginning', '--max-messages', '3', '--timeout-ms', '30000', '--command-config', config,
    ])
    assert.equal(consumed.code, 0, consumed.stderr)
    assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two', 'three'])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('runJavaTool kills a tool that outlives timeoutMs and reports no exit code', { skip: needsDocker, timeout: 120_000 }, async () => {
  const k = own as KafkaCluster
  // A console consumer on an empty topic waits for records until killed.
  const res = await k.runJavaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', ['--bootstrap-server', k.bootstrapServers[0] as string, '--topic', `kw-empty-${randomUUID()}`], { timeoutMs: 8000 })
  assert.equal(res.code, null)
})

test('stopBroker and startBroker restart the container with its data; stop removes it', { skip: needsDocker, timeout: 240_000 }, async () => {
  const k = own as KafkaCluster
  const topic = `kw-restart-${randomUUID()}`
  const created = await k.runJavaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', k.bootstrapServers[0] as string, '--create', '--topic', topic])
  assert.equal(created.code, 0, created.stderr)
  const { host, port } = parseHostPort(k.bootstrapServers[0] as string)
  const id = k.containers?.[0] as string

  await k.stopBroker(0)
  assert.equal(await containerRunning(id), false)
  assert.equal((await apiVersions(host, port, { timeoutMs: 2000 }).catch(() => undefined))?.errorCode, undefined, 'nothing answers while stopped')
  await k.stopBroker(0) // stopping a stopped node is harmless
  await k.startBroker(0)
  assert.equal((await apiVersions(host, port)).errorCode, 0)
  await assert.rejects(k.startBroker(0), /already running/)
  await assert.rejects(k.stopBroker(1), RangeError)
  const listed = await k.runJavaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', k.bootstrapServers[0] as string, '--list'])
  assert.equal(listed.code, 0, listed.stderr)
  assert.ok(listed.stdout.split('\n').includes(topic), 'the topic made before the restart is still there')

  await k.stop()
  own = undefined
  const gone = await dockerApi('GET', `/containers/${id}/json`)
  assert.equal(gone.status, 404, 'the container is removed')
  assert.equal(await canConnect(host, port), false)
})

test('a process killed with its cluster running leaves no container, network or volume behind', { skip: needsDocker, timeout: 240_000 }, async () => {
  // The child starts a container and reports its id; SIGKILL gives it no chance to stop it, so only
  // the harness's watchdog can remove it (Ryuk is disabled under test:containers).
  const script = `
    const { startKafka } = await import(${JSON.stringify(pathToFileURL(join(process.cwd(), 'src/testing/index.ts')).href)})
    const k = await startKafka({ brokerConfig: { 'log.retention.hours': '2' } })
    console.log('READY ' + k.containers.join(','))
    setInterval(() => {}, 1 << 30)`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_BOOTSTRAP: '' } })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr.on('data', (b: Buffer) => (out += b.toString()))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const id = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /READY (\w+)/.exec(out)
      if (m) resolve(m[1] as string)
    })
    child.once('exit', () => reject(new Error(`the child exited before its cluster was ready:\n${out}`)))
  })
  const inspect = JSON.parse((await dockerApi('GET', `/containers/${id}/json`)).body) as { NetworkSettings: { Networks: Record<string, { NetworkID: string }> }; Mounts: Array<{ Name?: string }> }
  // The cluster's own network; the engine's default ones stay, of course.
  const networks = Object.entries(inspect.NetworkSettings.Networks).flatMap(([name, n]) => (['bridge', 'host', 'none'].includes(name) ? [] : [n.NetworkID]))
  const volumes = inspect.Mounts.flatMap((m) => (m.Name ? [m.Name] : []))
  assert.ok(networks.length > 0 && volumes.length > 0)
  child.kill('SIGKILL')
  await exited
  // The watchdog removes the container (with its volumes) first, then the network.
  const deadline = Date.now() + 60_000
  for (const path of [`/containers/${id}/json`, ...volumes.map((v) => `/volumes/${v}`), ...networks.map((n) => `/networks/${n}`)]) {
    while ((await dockerApi('GET', path)).status !== 404) {
      assert.ok(Date.now() < deadline, `${path} is still there a minute after its owner died`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }
})
