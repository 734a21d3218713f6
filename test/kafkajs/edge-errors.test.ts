// Errors at the edges, as differential programs: each runs once with kafkajs@2.2.4 and once with
// kafka-wire/kafkajs against the same broker, and what it observes (results, error classes, types,
// retriability, causes, per-topic errors) must be equal. Found by trying KafkaJS programs' error paths
// one by one: an invalid topic name, createTopics with failures, deleteTopics of an unknown topic,
// describeGroups of an unknown group, fetchTopicOffsetsByTimestamp of an unknown topic, subscribe to a
// topic that does not exist (without auto-creation), and a message for a partition the topic lacks
// (a deliberate difference: KafkaJS drops it without a word).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker } from '../client/helpers.js'
import { createTopicNamed, errorShape, LIBS, Names, neutralAdmin, type Lib } from './helpers.js'

let k: KafkaCluster
let neutral: ReturnType<typeof neutralAdmin>

before(async () => {
  k = await broker({})
  neutral = neutralAdmin(k)
}, { timeout: 300_000 })

after(async () => {
  await neutral?.client.close()
})

/** shape is errorShape plus what an aggregate error collects: each error's class, type and topic. */
function shape(lib: Lib, err: unknown): unknown {
  const e = err as { errors?: Array<{ name?: string; type?: string; topic?: string; retriable?: boolean }> }
  const errors = Array.isArray(e?.errors) ? e.errors.map((x) => ({ name: x.name, type: x.type, topic: x.topic, retriable: x.retriable, isProtocolError: x instanceof lib.KafkaJSProtocolError })) : undefined
  return { ...(errorShape(lib, err) as object), errors }
}

const settle = <T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown }> => p.then((ok) => ({ ok }), (err: unknown) => ({ err }))

async function program(lib: Lib, name: string): Promise<unknown> {
  const names = new Names(name)
  const existing = await createTopicNamed(neutral.admin, names, 0, 1)
  const kafka = new lib.Kafka({ brokers: k.bootstrapServers, clientId: 'edge-errors', logLevel: lib.logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50 } })
  const admin = kafka.admin()
  await admin.connect()
  const producer = kafka.producer()
  await producer.connect()
  const seen: Record<string, unknown> = {}
  // (undefined as a string: the observation is compared as JSON.)
  const describe = (r: { ok: unknown } | { err: unknown }) => ('ok' in r ? { ok: r.ok === undefined ? 'undefined' : r.ok } : { err: shape(lib, r.err) })
  try {
    seen.sendInvalidTopic = describe(await settle(producer.send({ topic: 'not a valid name!', messages: [{ value: 'x' }] })))
    seen.createInvalidName = describe(await settle(admin.createTopics({ topics: [{ topic: `${names.topic(1)}-${'x'.repeat(260)}` }] })))
    seen.createExistingAndBadReplication = describe(await settle(admin.createTopics({ topics: [{ topic: existing }, { topic: names.topic(2), replicationFactor: 5 }] })))
    seen.createExistingAndNew = describe(await settle(admin.createTopics({ topics: [{ topic: existing }, { topic: names.topic(3) }] })))
    seen.createOnlyExisting = describe(await settle(admin.createTopics({ topics: [{ topic: existing }] })))
    seen.deleteUnknown = describe(await settle(admin.deleteTopics({ topics: [names.topic(4)] })))
    seen.offsetsByTimestampUnknown = describe(await settle(admin.fetchTopicOffsetsByTimestamp(names.topic(5), Date.now())))
    // subscribe asks the cluster about the topics named; one that does not exist fails it.
    const consumer = kafka.consumer({ groupId: names.group(1), allowAutoTopicCreation: false })
    await consumer.connect()
    try {
      seen.subscribeUnknown = describe(await settle(consumer.subscribe({ topics: [existing, names.topic(6)] })))
      seen.subscribeExisting = describe(await settle(consumer.subscribe({ topics: [existing] })))
    } finally {
      await consumer.disconnect()
    }
    const groups = await admin.describeGroups([names.group(0)])
    seen.describeUnknownGroup = groups.groups.map((g) => ({ ...g }))
    // A message for a partition the topic lacks: KafkaJS resolves without it (only partition 0's
    // message is written); kafka-wire rejects the send with the retries spent.
    const partial = await settle(producer.send({ topic: existing, messages: [{ value: 'p7', partition: 7 }, { value: 'p0', partition: 0 }] }))
    seen.differs = {
      partitionOutOfRange: 'ok' in partial ? { ok: (partial.ok as Array<{ partition: number }>).map((m) => m.partition) } : { err: shape(lib, partial.err) },
    }
  } finally {
    await producer.disconnect()
    await admin.disconnect()
  }
  return names.normalize(seen)
}

test('edge errors: invalid topic, createTopics failures, unknown topics (deleteTopics, offsets by timestamp, subscribe), describeGroups of an unknown group', { timeout: 120_000 }, async () => {
  const seen: Record<string, any> = {}
  for (const { name, lib } of LIBS) seen[name] = await program(lib, name)
  const wire = seen['kafka-wire']
  // The facade's own terms first, so that an equal observation is not two failures alike.
  assert.equal(wire.sendInvalidTopic.err.name, 'KafkaJSNonRetriableError', JSON.stringify(wire.sendInvalidTopic))
  assert.equal(wire.sendInvalidTopic.err.cause.type, 'INVALID_TOPIC_EXCEPTION', JSON.stringify(wire.sendInvalidTopic))
  assert.equal(wire.createExistingAndBadReplication.err.name, 'KafkaJSAggregateError', JSON.stringify(wire.createExistingAndBadReplication))
  assert.deepEqual(wire.createExistingAndBadReplication.err.errors.map((e: { type: string }) => e.type).sort(), ['INVALID_REPLICATION_FACTOR', 'TOPIC_ALREADY_EXISTS'])
  assert.deepEqual(wire.createExistingAndNew, { ok: false })
  assert.equal(wire.deleteUnknown.err.name, 'KafkaJSNumberOfRetriesExceeded', JSON.stringify(wire.deleteUnknown))
  assert.equal(wire.describeUnknownGroup[0].state, 'Dead')
  assert.equal(wire.offsetsByTimestampUnknown.err.name, 'KafkaJSNumberOfRetriesExceeded', JSON.stringify(wire.offsetsByTimestampUnknown))
  assert.equal(wire.subscribeUnknown.err.type, 'UNKNOWN_TOPIC_OR_PARTITION', JSON.stringify(wire.subscribeUnknown))
  assert.deepEqual(wire.subscribeExisting, { ok: 'undefined' })
  // docs/kafkajs.md: kafka-wire fails what it cannot write, where KafkaJS drops it.
  assert.deepEqual(seen.kafkajs.differs, { partitionOutOfRange: { ok: [0] } })
  assert.equal(wire.differs.partitionOutOfRange.err.name, 'KafkaJSNumberOfRetriesExceeded', JSON.stringify(wire.differs))
  const { differs: _a, ...kafkajs } = seen.kafkajs
  const { differs: _b, ...kafkaWire } = wire
  assert.deepEqual(kafkaWire, kafkajs)
})
