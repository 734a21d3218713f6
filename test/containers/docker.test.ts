// The Docker path of the harness with a Docker engine: the image chosen, Java tools inside the container,
// node restarts, cleanup after a killed process. `npm run test:containers` runs this file (with
// KAFKA_WIRE_HARNESS=docker); `npm test` leaves test/containers/ out. Without a working engine it fails,
// saying why.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { containerRunning, dockerApi } from '../../src/testing/docker-api.js'
import { localKafkaImage, officialKafkaImage } from '../../src/testing/docker.js'
import { apiVersions, canConnect, KAFKA_VERSION, KafkaHarnessError, parseHostPort, startKafka, type KafkaCluster } from '../../src/testing/index.js'

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
// --- with a Docker engine -------------------------------------------------------------------------

test('a missing image is named, with the command that builds the local one', { timeout: 60_000 }, async () => {
  const err = await withEnv({ KAFKA_BOOTSTRAP: undefined, KAFKA_WIRE_IMAGE: 'kafka-wire/no-such-image:0' }, () => startKafka().then(() => undefined, (e: unknown) => e))
  assert.ok(err instanceof KafkaHarnessError, String(err))
  assert.equal(err.code, 'IMAGE_MISSING')
  assert.match(err.message, /the Kafka image kafka-wire\/no-such-image:0 is not on the Docker engine, and pulling it failed/)
  assert.match(err.message, /docker\/kafka\/build\.sh/)
})

let own: KafkaCluster | undefined

before(async () => {
  if (process.env.KAFKA_WIRE_HARNESS !== 'docker') throw new Error('these tests need the Docker path: run them with `npm run test:containers` (or KAFKA_WIRE_HARNESS=docker with a Docker engine)')
  // Its own broker settings make startKafka start a container here, even when the run shares one.
  own = await startKafka({ brokerConfig: { 'log.retention.hours': '1' } })
}, { timeout: 300_000 })

after(async () => {
  await own?.stop()
})

test('the cluster runs in a container of the official or the local image, as the harness chose', async () => {
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

test('Java tools inside the container: stdin input, host files and host addresses work as on the host', { timeout: 180_000 }, async () => {
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

test('runJavaTool kills a tool that outlives timeoutMs and reports no exit code', { timeout: 120_000 }, async () => {
  const k = own as KafkaCluster
  // A console consumer on an empty topic waits for records until killed.
  const res = await k.runJavaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', ['--bootstrap-server', k.bootstrapServers[0] as string, '--topic', `kw-empty-${randomUUID()}`], { timeoutMs: 8000 })
  assert.equal(res.code, null)
})

test('stopBroker and startBroker restart the container with its data; stop removes it', { timeout: 240_000 }, async () => {
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

test('a process killed with its cluster running leaves no container, network or volume behind', { timeout: 240_000 }, async () => {
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
