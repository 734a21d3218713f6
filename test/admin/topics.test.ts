// Admin's topic methods against the real broker: create (counts, configs, explicit assignments,
// validateOnly, per-topic errors that are not retried), list, describe, metadata, add partitions, delete
// by name and id, wait for topics; bad arguments fail fast with InvalidArgumentError.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.js'
import { InvalidArgumentError, WaitTimeoutError } from '../../src/client/errors.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { uuidToDashed } from '../../src/protocol/validate.js'
import { ZERO_UUID } from '../../src/protocol/reader.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, listOffsets, newClient, topicName, waitFor } from '../client/helpers.js'
import { countingAdmin } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

test('createTopics: one result per topic in order, configs and counts as asked, a per-topic error that is not retried, and the topics usable at once', async () => {
  const { admin, writes } = countingAdmin(k)
  const [a, b, dup, bad] = [topicName(), topicName(), topicName(), topicName()]
  await admin.createTopic({ name: dup, partitions: 1 })
  const mark = writes.mark
  const res = await admin.createTopics([
    { name: a, partitions: 3, configs: { 'cleanup.policy': 'compact', 'retention.ms': '3600000' } },
    { name: dup, partitions: 1 },
    { name: b, assignments: { 0: [1], 1: [1] } },
    { name: bad, partitions: 1, replicationFactor: 3 },
  ])
  assert.deepEqual(
    res.map((r) => r.name),
    [a, dup, b, bad],
  )
  assert.equal(res[0]!.error, null)
  assert.equal(res[0]!.partitions, 3)
  assert.equal(res[0]!.replicationFactor, 1)
  assert.notEqual(res[0]!.topicId, ZERO_UUID)
  assert.equal(res[0]!.configs['cleanup.policy'], 'compact')
  assert.equal(res[2]!.error, null)
  assert.equal(res[2]!.partitions, 2)
  for (const [r, code] of [
    [res[1]!, 'TOPIC_ALREADY_EXISTS'],
    [res[3]!, 'INVALID_REPLICATION_FACTOR'],
  ] as const) {
    assert.ok(r.error instanceof KafkaProtocolError, code)
    assert.equal(r.error.code, code)
    assert.equal(r.error.topic, r.name)
    assert.equal(r.error.retriable, false)
    assert.match(r.error.message, new RegExp(r.name))
  }
  assert.equal(writes.of('CreateTopics', mark).length, 1, 'errors that cannot succeed are not retried')
  // Usable right away: a record goes to the last partition and reads back at offset 0.
  const c = admin.client
  const rec = await c.produce({ topic: a, value: 'x', key: 'k', partition: 2 })
  assert.equal(rec.offset, 0n)
  // Single form throws the topic's error.
  await assert.rejects(admin.createTopic({ name: dup }), (e: unknown) => e instanceof KafkaProtocolError && e.code === 'TOPIC_ALREADY_EXISTS' && e.topic === dup)
})

test('createTopics validateOnly creates nothing; bad arguments throw InvalidArgumentError before any request', async () => {
  const { admin, writes } = countingAdmin(k)
  const name = topicName()
  const [r] = await admin.createTopics([{ name, partitions: 2 }], { validateOnly: true })
  assert.equal(r!.error, null)
  const [d] = await admin.describeTopics([name])
  assert.equal(d!.error?.code, 'UNKNOWN_TOPIC_OR_PARTITION')
  const mark = writes.mark
  const bad: Array<[() => Promise<unknown>, string]> = [
    [() => admin.createTopics([{ name: '' }]), 'topics[0].name'],
    [() => admin.createTopics([{ name: 'x', partitions: 0 }]), 'topics[0].partitions'],
    [() => admin.createTopics([{ name: 'x', partitions: 2, assignments: { 0: [1] } }]), 'topics[0]'],
    [() => admin.deleteTopics([{ topicId: 'nope' }]), 'topics[0]'],
    [() => admin.describeTopics(['ok', 3 as never]), 'topics[1]'],
    [() => admin.createPartitions(0, ['x']), 'add'],
    [() => admin.updatePartitions(0, ['x']), 'count'],
  ]
  for (const [f, argument] of bad) {
    await assert.rejects(f(), (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument && e.code === 'INVALID_ARGUMENT', argument)
  }
  assert.equal(writes.mark, mark, 'nothing was sent')
})

test('listTopics, describeTopics, metadata: partitions, leaders, replicas, ISR, ids, internal topics, authorized operations', async () => {
  const admin = new Admin(newClient(k))
  const name = topicName()
  const created = await admin.createTopic({ name, partitions: 2 })
  // A committed offset makes sure __consumer_offsets exists.
  await admin.commitOffsets(topicName('g'), [{ topic: name, partition: 0, offset: 0n }])
  const listed = await admin.listTopics()
  const names = listed.map((t) => t.name)
  assert.ok(names.includes(name))
  assert.deepEqual(names, [...names].sort(), 'sorted by name')
  assert.ok(!names.includes('__consumer_offsets'), 'no internal topics by default')
  const withInternal = await admin.listTopics({ internal: true })
  assert.ok(withInternal.some((t) => t.name === '__consumer_offsets' && t.internal))

  const [d, missing] = await admin.describeTopics([name, `${name}-missing`])
  assert.equal(d!.error, null)
  assert.equal(d!.topicId, created.topicId)
  assert.deepEqual(
    d!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.offline, p.error]),
    [
      [0, 1, [1], [1], [], null],
      [1, 1, [1], [1], [], null],
    ],
  )
  assert.ok(d!.authorizedOperations?.includes('read') && d!.authorizedOperations.includes('alterConfigs'), `operations ${d!.authorizedOperations}`)
  assert.equal(missing!.error?.code, 'UNKNOWN_TOPIC_OR_PARTITION')
  assert.equal(missing!.error?.topic, `${name}-missing`)
  await assert.rejects(admin.describeTopic(`${name}-missing`), (e: unknown) => e instanceof KafkaProtocolError && e.code === 'UNKNOWN_TOPIC_OR_PARTITION')

  const md = await admin.metadata([name])
  assert.equal(md.clusterId, admin.client.clusterId ?? md.clusterId)
  assert.equal(md.brokers.length, k.brokers)
  assert.deepEqual([...md.topics.keys()], [name])
  assert.equal(md.controller, 1)
})

test('createPartitions adds, updatePartitions sets; shrinking is INVALID_PARTITIONS; new partitions take records at once', async () => {
  const { admin, writes } = countingAdmin(k)
  const name = topicName()
  await admin.createTopic({ name, partitions: 1 })
  const [added, missing] = await admin.createPartitions(2, [name, `${name}-missing`])
  assert.deepEqual([added!.topic, added!.partitions, added!.error], [name, 3, null])
  assert.equal(missing!.error?.code, 'UNKNOWN_TOPIC_OR_PARTITION')
  assert.equal((await admin.describeTopic(name)).partitions.length, 3)
  const rec = await admin.client.produce({ topic: name, value: 'p2', partition: 2 })
  assert.equal(rec.partition, 2)
  const [set] = await admin.updatePartitions(5, [name], { assignments: { [name]: [[1], [1]] } })
  assert.equal(set!.error, null)
  assert.equal((await admin.describeTopic(name)).partitions.length, 5)
  const mark = writes.mark
  const [shrink] = await admin.updatePartitions(2, [name])
  assert.equal(shrink!.error?.code, 'INVALID_PARTITIONS')
  assert.equal(shrink!.error?.topic, name)
  assert.equal(writes.of('CreatePartitions', mark).length, 1)
})

test('deleteTopics by name and by id (base64url or dashed); a missing topic is its own result', async () => {
  const admin = new Admin(newClient(k))
  const [a, b, c] = [topicName(), topicName(), topicName()]
  await admin.createTopics([{ name: a }, { name: b }, { name: c }])
  const [db, dc] = await admin.describeTopics([b, c])
  const res = await admin.deleteTopics([a, { topicId: db!.topicId }, { topicId: uuidToDashed(dc!.topicId) }, `${a}-missing`])
  assert.equal(res.length, 4)
  assert.deepEqual(
    res.slice(0, 3).map((r) => [r.name, r.error]),
    [
      [a, null],
      [b, null],
      [c, null],
    ],
  )
  assert.equal(res[1]!.topicId, db!.topicId)
  assert.equal(res[3]!.error?.code, 'UNKNOWN_TOPIC_OR_PARTITION')
  // The answer comes once the controller committed the deletion; the broker's metadata follows a moment later.
  await waitFor(async () => (await admin.describeTopics([a, b, c])).every((d) => d.error?.code === 'UNKNOWN_TOPIC_OR_PARTITION'), 'the deleted topics to be gone from the metadata')
  await assert.rejects(admin.deleteTopic(a), (e: unknown) => e instanceof KafkaProtocolError && e.code === 'UNKNOWN_TOPIC_OR_PARTITION' && e.topic === a)
})

test('deleteTopic through the Admin of a client that produces to the topic: made again, the client produces to the new topic', { timeout: 60_000 }, async () => {
  const c = newClient(k)
  const admin = new Admin(c)
  const topic = topicName()
  await admin.createTopic({ name: topic })
  assert.equal((await c.produce({ topic, value: 'old' })).offset, 0n)
  await admin.deleteTopic(topic)
  await admin.createTopic({ name: topic })
  // The client's metadata still asks for the topic its producer uses: it learns the new topic's id.
  const r = await c.produce({ topic, value: 'new' })
  assert.equal(r.offset, 0n)
})

test('waitForTopics: resolves for a topic every broker knows, times out naming a topic that never appears, and honours its signal', async () => {
  const c = newClient(k)
  const admin = new Admin(c)
  const name = topicName()
  await admin.createTopic({ name, partitions: 2 }, { waitReady: false })
  await admin.waitForTopics([name])
  assert.deepEqual(await listOffsets(c, name, 2), [0n, 0n])
  const missing = topicName()
  await assert.rejects(admin.waitForTopics([missing], { timeout: 300 }), (e: unknown) => e instanceof WaitTimeoutError && e.topic === missing && e.message.includes(missing))
  const ac = new AbortController()
  const p = admin.waitForTopics([missing], { timeout: 30_000, signal: ac.signal })
  ac.abort(new Error('stop'))
  await assert.rejects(p, (e: unknown) => (e as Error).name === 'AbortError')
})
