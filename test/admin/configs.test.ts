// Admin's config methods against the real broker: describe topic, broker, broker-logger and group
// configs with sources, synonyms and types; incremental set, delete, append and subtract; replacing a
// resource's whole set; per-resource errors; a named broker's configs asked of that broker.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.js'
import { InvalidArgumentError } from '../../src/client/errors.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, newClient, topicName, waitFor } from '../client/helpers.js'
import { countingAdmin } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

const valueOf = async (admin: Admin, topic: string, name: string) => (await admin.describeTopicConfigs([topic], { names: [name] }))[0]!.configs.find((c) => c.name === name)

test('topic configs: sources and synonyms; incremental set, append, subtract, delete; validateOnly; a missing topic is its own error', async () => {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  await admin.createTopic({ name: topic, configs: { 'retention.ms': '600000' } })
  const [d, missing] = await admin.describeTopicConfigs([topic, `${topic}-missing`], { synonyms: true, documentation: true })
  assert.equal(d!.type, 'topic')
  assert.equal(d!.name, topic)
  const ret = d!.configs.find((c) => c.name === 'retention.ms')!
  assert.deepEqual([ret.value, ret.source, ret.type, ret.readOnly, ret.sensitive], ['600000', 'dynamicTopic', 'long', false, false])
  assert.deepEqual(ret.synonyms[0], { name: 'retention.ms', value: '600000', source: 'dynamicTopic' })
  assert.ok((ret.documentation ?? '').length > 0)
  // A topic config left at its default names the broker config it comes from.
  const seg = d!.configs.find((c) => c.name === 'segment.bytes')!
  assert.equal(seg.source, 'default')
  assert.deepEqual(seg.synonyms.at(-1), { name: 'log.segment.bytes', value: seg.value, source: 'default' })
  assert.deepEqual(
    d!.configs.map((c) => c.name),
    [...d!.configs.map((c) => c.name)].sort(),
  )
  assert.equal(missing!.error?.code, 'UNKNOWN_TOPIC_OR_PARTITION')
  assert.equal(missing!.error?.topic, `${topic}-missing`)
  assert.match(missing!.error!.message, /topic config/)

  const [v] = await admin.alterTopicConfigs([{ name: 'retention.ms', value: '1' }], [topic], { validateOnly: true })
  assert.equal(v!.error, null)
  assert.equal((await valueOf(admin, topic, 'retention.ms'))!.value, '600000', 'validateOnly changed nothing')

  const res = await admin.alterConfigs([
    {
      type: 'topic',
      name: topic,
      configs: [
        { name: 'retention.ms', op: 'delete' },
        { name: 'cleanup.policy', op: 'append', value: 'compact' },
        { name: 'max.message.bytes', value: '200000' },
      ],
    },
    { type: 'topic', name: `${topic}-missing`, configs: [{ name: 'retention.ms', value: '1' }] },
  ])
  assert.equal(res[0]!.error, null)
  assert.equal(res[1]!.error?.code, 'UNKNOWN_TOPIC_OR_PARTITION')
  await waitFor(async () => (await valueOf(admin, topic, 'cleanup.policy'))?.value === 'delete,compact', 'the append to apply')
  assert.equal((await valueOf(admin, topic, 'retention.ms'))!.source, 'default')
  assert.equal((await valueOf(admin, topic, 'max.message.bytes'))!.value, '200000')
  await admin.alterTopicConfigs([{ name: 'cleanup.policy', op: 'subtract', value: 'delete' }], [topic])
  await waitFor(async () => (await valueOf(admin, topic, 'cleanup.policy'))?.value === 'compact', 'the subtract to apply')
  // A bad value is the resource's error.
  const [bad] = await admin.alterTopicConfigs([{ name: 'retention.ms', value: 'soon' }], [topic])
  assert.equal(bad!.error?.code, 'INVALID_CONFIG')
})

test('alterConfigsState replaces the dynamic set: what it leaves out goes back to the default', async () => {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  await admin.createTopic({ name: topic, configs: { 'retention.ms': '600000', 'max.message.bytes': '300000' } })
  const [r] = await admin.alterConfigsState([{ type: 'topic', name: topic, configs: { 'retention.ms': '700000' } }])
  assert.equal(r!.error, null)
  await waitFor(async () => (await valueOf(admin, topic, 'retention.ms'))?.value === '700000', 'the new set')
  assert.equal((await valueOf(admin, topic, 'max.message.bytes'))!.source, 'default')
})

test('broker configs: static ones from server.properties, the cluster-wide default, a dynamic change asked of that broker, and logger levels', async () => {
  const { admin, writes } = countingAdmin(k)
  const node = (await admin.listBrokers())[0]!.nodeId
  const mark = writes.sent.length
  const [b] = await admin.describeBrokerConfigs([node], { names: ['num.io.threads', 'log.cleaner.threads'] })
  assert.equal(b!.error, null)
  assert.deepEqual(
    b!.configs.map((c) => [c.name, c.source]),
    [
      ['log.cleaner.threads', 'default'],
      ['num.io.threads', 'staticBroker'],
    ],
  )
  assert.ok(writes.sent.slice(mark).some((w) => w.api === 'DescribeConfigs' && w.node === node), 'asked of the broker itself')
  const [def] = await admin.describeBrokerConfigs()
  assert.equal(def!.name, '')
  assert.equal(def!.error, null)

  const [set] = await admin.alterBrokerConfigs([{ name: 'log.cleaner.threads', value: '2' }], [node])
  assert.equal(set!.error, null)
  await waitFor(async () => (await admin.describeBrokerConfigs([node], { names: ['log.cleaner.threads'] }))[0]!.configs[0]?.source === 'dynamicBroker', 'the dynamic broker config')
  await admin.alterBrokerConfigs([{ name: 'log.cleaner.threads', op: 'delete' }], [node])
  await waitFor(async () => (await admin.describeBrokerConfigs([node], { names: ['log.cleaner.threads'] }))[0]!.configs[0]?.source === 'default', 'the config deleted')

  // Loggers: described per broker; a level set and put back.
  const logger = 'kafka.server.ReplicaManager'
  const [l] = await admin.describeConfigs([{ type: 'brokerLogger', name: String(node) }])
  assert.equal(l!.error, null)
  assert.ok(l!.configs.some((c) => c.name === 'root'), 'the root logger is listed')
  const [ls] = await admin.alterConfigs([{ type: 'brokerLogger', name: String(node), configs: [{ name: logger, value: 'DEBUG' }] }])
  assert.equal(ls!.error, null)
  await waitFor(async () => (await admin.describeConfigs([{ type: 'brokerLogger', name: String(node) }], { names: [logger] }))[0]!.configs[0]?.value === 'DEBUG', 'the logger level')
  await admin.alterConfigs([{ type: 'brokerLogger', name: String(node), configs: [{ name: logger, op: 'delete' }] }])
})

test('group configs (KIP-848): set and described', async () => {
  const admin = new Admin(newClient(k))
  const group = topicName('g')
  const [r] = await admin.alterConfigs([{ type: 'group', name: group, configs: [{ name: 'consumer.session.timeout.ms', value: '20000' }] }])
  assert.equal(r!.error, null)
  await waitFor(async () => {
    const [d] = await admin.describeConfigs([{ type: 'group', name: group }], { names: ['consumer.session.timeout.ms'] })
    return d!.configs[0]?.value === '20000' && d!.configs[0]!.source === 'group'
  }, 'the group config')
})

test('bad resources fail fast with InvalidArgumentError', async () => {
  const { admin, writes } = countingAdmin(k)
  const mark = writes.mark
  const cases: Array<[() => Promise<unknown>, string]> = [
    [() => admin.describeConfigs([{ type: 'table' as never, name: 'x' }]), 'resources[0].type'],
    [() => admin.describeConfigs([{ type: 'broker', name: 'one' }]), 'resources[0].name'],
    [() => admin.describeConfigs([{ type: 'topic', name: '' }]), 'resources[0].name'],
    [() => admin.alterConfigs([{ type: 'topic', name: 't', configs: [{ name: 'a', op: 'replace' as never, value: '1' }] }]), 'resources[0].configs[0].op'],
    [() => admin.alterConfigs([{ type: 'topic', name: 't', configs: [{ name: 'a' }] }]), 'resources[0].configs[0].value'],
  ]
  for (const [f, argument] of cases) await assert.rejects(f(), (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument, argument)
  assert.equal(writes.mark, mark)
})
