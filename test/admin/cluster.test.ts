// Admin's cluster methods against the real broker: describe the cluster, API versions per broker,
// feature levels, log directories, leader elections, partition reassignments, client quotas, and
// coordinators.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.js'
import { ClientClosedError, InvalidArgumentError } from '../../src/client/errors.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, newClient, topicName, waitFor } from '../client/helpers.js'
import { countingAdmin } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

test('describeCluster: cluster id, controller, brokers with their listeners and racks, authorized operations', async () => {
  const admin = new Admin(newClient(k))
  const d = await admin.describeCluster({ authorizedOperations: true, includeFenced: true })
  const md = await admin.metadata([])
  assert.equal(d.clusterId, md.clusterId)
  assert.match(d.clusterId, /^[A-Za-z0-9_-]{22}$/)
  assert.equal(d.controller, md.controller)
  assert.deepEqual(
    d.brokers.map((b) => `${b.host}:${b.port}`),
    k.bootstrapServers,
  )
  assert.deepEqual(
    d.brokers.map((b) => [b.nodeId, b.rack, b.fenced]),
    [[1, null, false]],
  )
  assert.ok(d.authorizedOperations?.includes('alterConfigs'), `${d.authorizedOperations}`)
  assert.equal((await admin.describeCluster()).authorizedOperations, null, 'not asked: null')
  assert.deepEqual(
    (await admin.listBrokers()).map((b) => b.nodeId),
    [1],
  )
})

test('apiVersions: every broker, each API with the range it supports and the version kafka-wire uses', async () => {
  const c = newClient(k)
  const admin = new Admin(c)
  const [v] = await admin.apiVersions()
  assert.equal(v!.nodeId, 1)
  assert.equal(v!.error, null)
  const md = v!.apis.find((a) => a.name === 'Metadata')!
  assert.ok(md.maxVersion >= 12)
  assert.equal(md.version, Math.min(md.maxVersion, Metadata.maxVersion))
  assert.deepEqual(
    v!.apis.map((a) => a.key),
    [...v!.apis.map((a) => a.key)].sort((a, b) => a - b),
  )
  // Inter-broker APIs kafka-wire knows but a broker does not take from clients are absent; what is listed has a usable version.
  assert.ok(v!.apis.every((a) => a.version === -1 || (a.version >= a.minVersion && a.version <= a.maxVersion)))
  const [unknown] = await admin.apiVersions([99])
  assert.ok(unknown!.error !== null, 'a broker that does not exist is its own error')
})

test('describeFeatures: the finalized metadata.version and what the broker supports', async () => {
  const f = await new Admin(newClient(k)).describeFeatures()
  assert.ok(f.epoch >= 0n)
  const mv = f.finalized['metadata.version']!
  assert.ok(mv.maxVersionLevel > 0)
  const range = f.supported['metadata.version']!
  assert.ok(range.minVersion <= mv.maxVersionLevel && mv.maxVersionLevel <= range.maxVersion)
})

test('log dirs: every broker and one broker, with replica sizes that grow with the data', async () => {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 2 })
  await admin.client.produceSync(Array.from({ length: 20 }, (_, i) => ({ topic, partition: 0, value: Buffer.alloc(1000, i) })))
  const [all] = await admin.describeAllLogDirs([topic])
  assert.equal(all!.nodeId, 1)
  assert.equal(all!.error, null)
  const dir = all!.dirs[0]!
  assert.equal(dir.error, null)
  assert.ok(dir.totalBytes > 0n && dir.usableBytes > 0n && dir.usableBytes <= dir.totalBytes)
  assert.deepEqual(
    dir.partitions.map((p) => [p.topic, p.partition, p.future]),
    [
      [topic, 0, false],
      [topic, 1, false],
    ],
  )
  assert.ok(dir.partitions[0]!.size > 20_000n, `size ${dir.partitions[0]!.size}`)
  assert.equal(dir.partitions[1]!.size, 0n)
  const one = await admin.describeBrokerLogDirs(1, { [topic]: [1] })
  assert.deepEqual(
    one[0]!.partitions.map((p) => p.partition),
    [1],
  )
  await assert.rejects(admin.describeBrokerLogDirs(-1), InvalidArgumentError)
})

test('electLeaders: preferred election of partitions that already have their preferred leader is ELECTION_NOT_NEEDED per partition; reassignments list and move', async () => {
  const { admin, writes } = countingAdmin(k)
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 2 })
  const mark = writes.mark
  const res = await admin.electLeaders('preferred', [topic])
  assert.deepEqual(
    res.map((r) => [r.topic, r.partition, r.error?.code]),
    [
      [topic, 0, 'ELECTION_NOT_NEEDED'],
      [topic, 1, 'ELECTION_NOT_NEEDED'],
    ],
  )
  assert.equal(writes.of('ElectLeaders', mark).length, 1, 'not retried')
  await assert.rejects(admin.electLeaders('fair' as never), InvalidArgumentError)

  assert.deepEqual(await admin.listPartitionReassignments([topic]), [])
  const moved = await admin.alterPartitionAssignments({ [topic]: { 0: [1], 1: [42] } })
  assert.equal(moved[0]!.error, null)
  assert.ok(moved[1]!.error instanceof KafkaProtocolError, 'a broker that does not exist')
  assert.equal(moved[1]!.error.partition, 1)
  assert.equal(moved[1]!.error.topic, topic)
})

test('client quotas: set, described, removed', async () => {
  const admin = new Admin(newClient(k))
  const user = topicName('u')
  const [set] = await admin.alterClientQuotas([{ entity: { user }, ops: { producer_byte_rate: 1024, consumer_byte_rate: 2048 } }])
  assert.equal(set!.error, null)
  await waitFor(async () => (await admin.describeClientQuotas({ components: [{ entityType: 'user', match: user }] })).length === 1, 'the quota')
  const [q] = await admin.describeClientQuotas({ components: [{ entityType: 'user', match: user }], strict: true })
  assert.deepEqual(q, { entity: { user }, values: { producer_byte_rate: 1024, consumer_byte_rate: 2048 } })
  await admin.alterClientQuotas([{ entity: { user }, ops: { producer_byte_rate: null, consumer_byte_rate: null } }])
  await waitFor(async () => (await admin.describeClientQuotas({ components: [{ entityType: 'user', match: user }] })).length === 0, 'the quota removed')
  const [bad] = await admin.alterClientQuotas([{ entity: { user }, ops: { no_such_quota: 1 } }])
  assert.ok(bad!.error instanceof KafkaProtocolError)
  assert.match(bad!.error.message, new RegExp(`quota user=${user}`))
  await assert.rejects(admin.alterClientQuotas([{ entity: {}, ops: {} }]), InvalidArgumentError)
})

test('findGroupCoordinators and findTxnCoordinators name the coordinator of each key', async () => {
  const admin = new Admin(newClient(k))
  const gs = await admin.findGroupCoordinators([topicName('g'), topicName('g')])
  assert.deepEqual(
    gs.map((g) => [g.coordinator, g.error]),
    [
      [1, null],
      [1, null],
    ],
  )
  const [t] = await admin.findTxnCoordinators([topicName('tx')])
  assert.deepEqual([t!.coordinator, t!.error], [1, null])
  await assert.rejects(admin.findGroupCoordinators(['']), InvalidArgumentError)
})

test('an Admin built from options owns its client and closes it; one over a Client leaves the client open', async () => {
  const own = new Admin({ seedBrokers: k.bootstrapServers })
  const id = (await own.describeCluster()).clusterId
  await own.close()
  await assert.rejects(own.describeCluster(), ClientClosedError)

  const c = newClient(k)
  const over = new Admin(c)
  assert.equal(over.client, c)
  assert.equal((await over.describeCluster()).clusterId, id)
  await over.close()
  assert.equal((await new Admin(c).describeCluster()).clusterId, id, 'the client is still open')
})
