// The admin commands (`kafka-wire topics|groups|cluster`) run as a user would (child processes)
// against the shared broker: usage errors exit 2; each action's --json answer is checked against what
// Admin reads back from the cluster, and the tables people read carry the same figures.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { Admin } from '../../src/admin/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, newClient, topicName } from '../client/helpers.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

let k: KafkaCluster
let admin: Admin

/** kw runs `kafka-wire …` from the sources against the test broker. */
function kw(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** ok runs a command against the broker and returns its output, failing on a non-zero exit. */
async function ok(args: string[]): Promise<string> {
  const r = await kw([...args, '-b', k.bootstrapServers.join(',')])
  assert.equal(r.code, 0, `kafka-wire ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r.stdout
}

/** okJson runs a command with --json and parses its answer. */
async function okJson<T = any>(args: string[]): Promise<T> {
  return JSON.parse(await ok([...args, '--json'])) as T
}

/** fails runs a command that must exit `code` and returns its stderr. */
async function fails(args: string[], code: number): Promise<string> {
  const r = await kw([...args, '-b', k.bootstrapServers.join(',')])
  assert.equal(r.code, code, `kafka-wire ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r.stderr
}

before(async () => {
  k = await broker()
  admin = new Admin(newClient(k))
}, { timeout: 300_000 })

after(closeAll)

describe('usage', () => {
  test('topics, groups and cluster are listed and each has --help', async () => {
    const top = await kw(['--help'])
    for (const c of ['topics', 'groups', 'cluster']) {
      assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'))
      const r = await kw([c, '--help'])
      assert.equal(r.code, 0)
      assert.match(r.stdout, new RegExp(`^usage: kafka-wire ${c}`))
      assert.match(r.stdout, /--json/)
    }
  })

  const bad: Array<[string, string[], RegExp]> = [
    ['an unknown action', ['topics', 'rename', 'x'], /kafka-wire topics: unknown action "rename"; actions: list, create, describe, delete, alter-configs/],
    ['create without a topic', ['topics', 'create'], /kafka-wire topics create: name at least one TOPIC/],
    ['a config without =', ['topics', 'create', 'x', '-c', 'retention.ms'], /-c wants KEY=VALUE/],
    ['alter-configs without a change', ['topics', 'alter-configs', 'x'], /give at least one --set, --delete, --append or --subtract/],
    ['a bad partition count', ['topics', 'create', 'x', '-p', '0'], /--partitions must be an integer >= 1/],
    ['two reset targets', ['groups', 'reset-offsets', 'g', '--to-earliest', '--to-latest'], /give exactly one of .* \(got --to-earliest, --to-latest\)/],
    ['no reset target', ['groups', 'reset-offsets', 'g'], /give exactly one of --to-earliest/],
    ['a bad datetime', ['groups', 'reset-offsets', 'g', '--to-datetime', 'yesterday'], /--to-datetime must be ISO 8601 or epoch milliseconds/],
    ['a bad partition list', ['groups', 'reset-offsets', 'g', '--to-earliest', '-t', 't:x'], /-t wants TOPIC or TOPIC:P,P/],
    ['describe without a group', ['groups', 'describe'], /name at least one GROUP/],
    ['--broker outside api-versions', ['cluster', 'features', '--broker', '1'], /--broker is for api-versions/],
  ]
  for (const [what, args, message] of bad) {
    test(`${what} exits 2 with a message`, async () => {
      const r = await kw(args, { KAFKA_BOOTSTRAP: '127.0.0.1:1' })
      assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`)
      assert.match(r.stderr, message)
    })
  }
})

test('an unreachable broker: each admin command exits 1 with one line saying what to do', async () => {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((r) => srv.close(() => r()))
  for (const args of [['topics'], ['groups', 'describe', 'g'], ['cluster', 'features']]) {
    const r = await kw([...args, '-b', `127.0.0.1:${port}`, '--timeout', '3000'])
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, new RegExp(`^kafka-wire: cannot reach Kafka at 127\\.0\\.0\\.1:${port}: .*Is a broker running there\\?`))
    assert.equal(r.stdout, '')
  }
})

test('topics: create, list, describe, alter-configs and delete, as JSON and as tables', { timeout: 180_000 }, async () => {
  const [a, b] = [topicName('cli'), topicName('cli')]
  const created = await okJson<Array<{ name: string; partitions: number; error: unknown }>>(['topics', 'create', a, b, '-p', '3', '-c', 'retention.ms=600000'])
  assert.deepEqual(
    created.map((t) => [t.name, t.partitions, t.error]),
    [
      [a, 3, null],
      [b, 3, null],
    ],
  )
  const [da] = await admin.describeTopics([a])
  assert.equal(da!.partitions.length, 3)
  assert.equal((await admin.describeTopicConfigs([a], { names: ['retention.ms'] }))[0]!.configs[0]!.value, '600000')

  const again = await fails(['topics', 'create', a], 1)
  assert.match(again, new RegExp(`TOPIC_ALREADY_EXISTS|already exists`))
  const dry = topicName('cli')
  await ok(['topics', 'create', dry, '--dry-run'])
  assert.equal((await admin.describeTopics([dry]))[0]!.error?.code, 'UNKNOWN_TOPIC_OR_PARTITION', '--dry-run created nothing')

  const listed = await okJson<Array<{ name: string; topicId: string; partitions: number }>>(['topics', 'list'])
  assert.deepEqual(
    listed.filter((t) => t.name === a).map((t) => [t.topicId, t.partitions]),
    [[da!.topicId, 3]],
  )
  assert.ok(!listed.some((t) => t.name === '__consumer_offsets'), 'internal topics only with --internal')
  await admin.findGroupCoordinators([topicName('g')]) // makes sure __consumer_offsets exists
  assert.ok((await okJson<Array<{ name: string; internal: boolean }>>(['topics', 'list', '--internal'])).some((t) => t.name === '__consumer_offsets' && t.internal))
  const listTable = await ok(['topics'])
  assert.match(listTable, /^TOPIC\s+PARTITIONS\s+REPLICAS\s+TOPIC-ID$/m)
  assert.match(listTable, new RegExp(`^${a}\\s+3\\s+1\\s+${da!.topicId}$`, 'm'))

  const [desc] = await okJson<Array<{ name: string; topicId: string; partitions: Array<{ partition: number; leader: number; replicas: number[]; isr: number[] }>; configs: Record<string, string> }>>(['topics', 'describe', a])
  assert.equal(desc!.topicId, da!.topicId)
  assert.deepEqual(
    desc!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr]),
    da!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr]),
  )
  assert.deepEqual(desc!.configs, { 'retention.ms': '600000' })
  const descTable = await ok(['topics', 'describe', a])
  assert.match(descTable, new RegExp(`^Topic ${a}  id ${da!.topicId}  partitions 3$`, 'm'))
  assert.match(descTable, /^  configs: retention\.ms=600000$/m)
  assert.match(descTable, /^PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+OFFLINE\s+ERROR$/m)
  assert.equal(descTable.split('\n').filter((l) => /^\s*\d+\s+1\s+\d+\s+1\s+1\s+-\s+-$/.test(l)).length, 3)
  const missing = await fails(['topics', 'describe', `${a}-missing`], 1)
  assert.match(missing, new RegExp(`${a}-missing`))

  await ok(['topics', 'alter-configs', a, b, '--set', 'retention.ms=700000', '--append', 'cleanup.policy=compact', '--delete', 'max.message.bytes'])
  for (const t of [a, b]) {
    const cs = (await admin.describeTopicConfigs([t], { names: ['retention.ms', 'cleanup.policy'] }))[0]!.configs
    assert.deepEqual(
      cs.map((c) => [c.name, c.value]),
      [
        ['cleanup.policy', 'delete,compact'],
        ['retention.ms', '700000'],
      ],
    )
  }
  const badValue = await fails(['topics', 'alter-configs', a, '--set', 'retention.ms=soon'], 1)
  assert.match(badValue, /INVALID_CONFIG|Invalid value/)

  const deleted = await okJson<Array<{ name: string; error: unknown }>>(['topics', 'delete', a, b])
  assert.deepEqual(
    deleted.map((d) => [d.name, d.error]),
    [
      [a, null],
      [b, null],
    ],
  )
  assert.deepEqual(
    (await admin.describeTopics([a, b])).map((d) => d.error?.code),
    ['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION'],
  )
  await fails(['topics', 'delete', a], 1)
})

test('groups: list, describe with the lag table, reset-offsets (dry run, then executed) and delete', { timeout: 180_000 }, async () => {
  const topic = topicName('cli')
  const group = topicName('cli-g')
  await admin.createTopic({ name: topic, partitions: 2 })
  await admin.client.produceSync(Array.from({ length: 10 }, (_, i) => ({ topic, partition: i % 2, value: `v${i}` })))
  await admin.commitOffsets(group, { [topic]: { 0: 3n, 1: 1n } })

  const listed = await okJson<Array<{ group: string; state: string; type: string }>>(['groups', 'list', '--state', 'Empty'])
  assert.deepEqual(
    listed.filter((g) => g.group === group).map((g) => [g.state, g.type]),
    [['Empty', 'classic']],
  )
  assert.ok(!(await okJson<Array<{ group: string }>>(['groups', 'list', '--state', 'Stable'])).some((g) => g.group === group))

  const [d] = await okJson<Array<{ group: string; state: string; lag: { total: number; partitions: Array<{ partition: number; committed: number; end: number; lag: number }> } }>>(['groups', 'describe', group])
  assert.equal(d!.state, 'Empty')
  assert.deepEqual(
    d!.lag.partitions.map((p) => [p.partition, p.committed, p.end, p.lag]),
    [
      [0, 3, 5, 2],
      [1, 1, 5, 4],
    ],
  )
  assert.equal(d!.lag.total, 6)
  const lagTable = await ok(['groups', 'describe', group])
  assert.match(lagTable, /^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID$/m)
  assert.match(lagTable, new RegExp(`^${group}\\s+${topic}\\s+0\\s+3\\s+5\\s+2\\s+-\\s+-\\s+-$`, 'm'))
  assert.match(lagTable, new RegExp(`^${group}\\s+${topic}\\s+1\\s+1\\s+5\\s+4\\s+-\\s+-\\s+-$`, 'm'))
  assert.match(lagTable, /total lag 6/)

  const committed = async () => (await admin.fetchOffsets(group)).map((o) => [o.partition, o.offset])
  const plan = await kw(['groups', 'reset-offsets', group, '--to-earliest', '-b', k.bootstrapServers[0]!])
  assert.equal(plan.code, 0, plan.stderr)
  assert.match(plan.stdout, new RegExp(`^${group}\\s+${topic}\\s+0\\s+3\\s+0\\s+-$`, 'm'))
  assert.match(plan.stderr, /dry run; add --execute/)
  assert.deepEqual(await committed(), [
    [0, 3n],
    [1, 1n],
  ], 'a dry run commits nothing')

  const done = await okJson<{ executed: boolean; offsets: Array<{ partition: number; previous: number; offset: number }> }>(['groups', 'reset-offsets', group, '--to-latest', '--execute'])
  assert.equal(done.executed, true)
  assert.deepEqual(
    done.offsets.map((o) => [o.partition, o.previous, o.offset]),
    [
      [0, 3, 5],
      [1, 1, 5],
    ],
  )
  assert.deepEqual(await committed(), [
    [0, 5n],
    [1, 5n],
  ])
  await ok(['groups', 'reset-offsets', group, '--shift-by=-2', '-t', `${topic}:1`, '--execute'])
  assert.deepEqual(await committed(), [
    [0, 5n],
    [1, 3n],
  ])
  const ts = Date.now() + 60_000
  await ok(['groups', 'reset-offsets', group, '--to-datetime', new Date(ts).toISOString(), '--execute'])
  assert.deepEqual(await committed(), [
    [0, 5n],
    [1, 5n],
  ], 'after every record: the log end')

  const del = await okJson<Array<{ group: string; error: unknown }>>(['groups', 'delete', group])
  assert.deepEqual(del, [{ group, error: null }])
  assert.ok(!(await admin.listGroups()).some((g) => g.group === group))
  const again = await fails(['groups', 'delete', group], 1)
  assert.match(again, /GROUP_ID_NOT_FOUND|does not exist/)
})

test('cluster: brokers, features and api-versions match what Admin reads', { timeout: 120_000 }, async () => {
  const want = await admin.describeCluster()
  const got = await okJson<{ clusterId: string; controller: number; brokers: Array<{ nodeId: number; host: string; port: number }> }>(['cluster'])
  assert.equal(got.clusterId, want.clusterId)
  assert.equal(got.controller, want.controller)
  assert.deepEqual(
    got.brokers.map((b) => `${b.host}:${b.port}`),
    k.bootstrapServers,
  )
  const brokersTable = await ok(['cluster', 'brokers'])
  assert.match(brokersTable, new RegExp(`^Cluster ${want.clusterId}  controller ${want.controller}  brokers 1$`, 'm'))
  const [host, port] = k.bootstrapServers[0]!.split(':')
  assert.match(brokersTable, new RegExp(`^\\s*1\\s+${host!.replace(/\./g, '\\.')}\\s+${port}\\s+-\\s+no\\s+yes$`, 'm'))

  const features = await okJson<{ finalized: Record<string, { maxVersionLevel: number }> }>(['cluster', 'features'])
  assert.equal(features.finalized['metadata.version']!.maxVersionLevel, (await admin.describeFeatures()).finalized['metadata.version']!.maxVersionLevel)
  assert.match(await ok(['cluster', 'features']), /^metadata\.version\s+\d+\s+\d+\s+\d+$/m)

  const [versions] = await okJson<Array<{ nodeId: number; apis: Array<{ name: string; version: number }> }>>(['cluster', 'api-versions', '--broker', '1'])
  const [mine] = await admin.apiVersions([1])
  assert.equal(versions!.nodeId, 1)
  assert.deepEqual(versions!.apis, JSON.parse(JSON.stringify(mine!.apis)))
  const metadata = mine!.apis.find((a) => a.name === 'Metadata')!
  assert.match(await ok(['cluster', 'api-versions']), new RegExp(`^\\s*3\\s+Metadata\\s+${metadata.minVersion}\\s+${metadata.maxVersion}\\s+${metadata.version}$`, 'm'))
  const noBroker = await fails(['cluster', 'api-versions', '--broker', '99'], 1)
  assert.match(noBroker, /99/)
})
