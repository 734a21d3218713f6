// Integration test of the three-broker harness: a JVM cluster under `npm test`, containers under
// `npm run test:containers`, or a cluster named by KAFKA_BOOTSTRAP with KAFKA_BROKERS=3 (and
// KAFKA_CONTAINERS for node control, as docker-compose.yml's cluster profile). It is the expensive
// file: everything about node control is checked on one cluster, in order.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { containerRunning, dockerApi } from '../../src/testing/docker-api.js'
import { apiVersions, canConnect, parseHostPort, startKafka, type KafkaCluster } from '../../src/testing/index.js'

let kafka: KafkaCluster

before(async () => {
  kafka = await startKafka({ brokers: 3 })
}, { timeout: 300_000 })

after(async () => {
  await kafka?.stop()
})

test('three brokers start with their own listeners and all answer ApiVersions', async () => {
  assert.equal(kafka.brokers, 3)
  assert.equal(new Set(kafka.bootstrapServers).size, 3)
  for (const address of kafka.bootstrapServers) {
    const { host, port } = parseHostPort(address)
    assert.equal((await apiVersions(host, port)).errorCode, 0, address)
  }
})

test('the brokers form one cluster: a topic with replication factor 3 can be created', { timeout: 120_000 }, async () => {
  const topic = `kw-cluster-${randomUUID()}`
  const res = await kafka.runJavaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server', kafka.bootstrapServers.join(','), '--create', '--topic', topic, '--partitions', '3', '--replication-factor', '3',
  ])
  assert.equal(res.code, 0, res.stderr)
  assert.match(res.stdout, new RegExp(`Created topic ${topic}`))
})

test('stopBroker(1) closes that broker\'s port and leaves the others up; startBroker(1) brings it back', { timeout: 180_000 }, async (t) => {
  // Stopping and starting nodes needs a cluster this run started, or an external one whose containers
  // are named; any other fails, never skips.
  assert.ok(kafka.kind !== 'external' || kafka.containers, 'the cluster named by KAFKA_BOOTSTRAP (KAFKA_BROKERS=3) cannot be controlled: set KAFKA_CONTAINERS to its containers, or unset KAFKA_BROKERS to let this test start its own')
  const [first, second, third] = kafka.bootstrapServers.map(parseHostPort) as [ReturnType<typeof parseHostPort>, ReturnType<typeof parseHostPort>, ReturnType<typeof parseHostPort>]
  await kafka.stopBroker(1)
  assert.equal(await canConnect(second.host, second.port), false, 'the stopped broker refuses connections')
  for (const other of [first, third]) assert.equal((await apiVersions(other.host, other.port)).errorCode, 0)

  await kafka.startBroker(1)
  assert.equal((await apiVersions(second.host, second.port)).errorCode, 0, 'the restarted broker answers again')
  await assert.rejects(kafka.startBroker(1), /already running/)
  await assert.rejects(kafka.stopBroker(3), RangeError)
})

test('stop() leaves no node running: no JVM and no folder, or no container', { timeout: 120_000 }, async () => {
  if (kafka.kind === 'external') {
    // Not ours: stop() must leave it as it is.
    await kafka.stop()
    for (const address of kafka.bootstrapServers) {
      const { host, port } = parseHostPort(address)
      assert.equal((await apiVersions(host, port)).errorCode, 0, `${address} still answers after stop() of an external cluster`)
    }
    return
  }
  if (kafka.kind === 'docker') {
    const ids = kafka.containers ?? []
    assert.equal(ids.length, 3)
    for (const id of ids) assert.equal(await containerRunning(id), true)
    await kafka.stop()
    for (const id of ids) assert.equal((await dockerApi('GET', `/containers/${id}/json`)).status, 404, `container ${id} is removed`)
  } else {
    const dir = kafka.dir
    assert.ok(dir && existsSync(dir))
    assert.equal(javaProcessesUsing(dir).length, 3, 'one JVM per node while running')
    await kafka.stop()
    assert.deepEqual(javaProcessesUsing(dir), [])
    assert.equal(existsSync(dir), false)
  }
  for (const address of kafka.bootstrapServers) {
    const { host, port } = parseHostPort(address)
    assert.equal(await canConnect(host, port), false, `${address} is closed`)
  }
  await kafka.stop() // a second stop is harmless
})

/** javaProcessesUsing lists the pids of live processes whose command line mentions `dir` (Linux /proc). */
function javaProcessesUsing(dir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
    } catch {
      continue // exited while we looked
    }
    const args = cmdline.split('\0')
    if (/(^|\/)java$/.test(args[0] ?? '') && args.some((a) => a.includes(dir))) pids.push(Number(entry))
  }
  return pids
}
