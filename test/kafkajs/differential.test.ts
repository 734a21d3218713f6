// The differential suite: every scenario is one KafkaJS program, run once with kafkajs@2.2.4 and once
// with kafka-wire/kafkajs against the same broker (with names of its own each time), and what the
// program observes (returned values, messages and offsets delivered, committed offsets, events,
// errors) must be equal. Where kafka-wire differs on purpose, the scenario leaves that part out of the
// comparison and asserts the difference itself, as docs/kafkajs.md describes it.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { KafkaCluster } from '../../src/testing/index.js'
import { TEST_USERS } from '../../src/testing/index.js'
import { broker } from '../client/helpers.js'
import { caught, errorShape, LIBS, Names, neutralAdmin, until, committedOffsets, createTopicNamed, kafkaFor as kafkaForCluster, type Lib, type Scenario as SharedScenario } from './helpers.js'

let k: KafkaCluster
let neutral: ReturnType<typeof neutralAdmin>

before(async () => {
  k = await broker({ sasl: true })
  neutral = neutralAdmin(k)
})

after(async () => {
  await neutral?.client.close()
})

type Kafka = InstanceType<Lib['Kafka']>

interface Run {
  lib: Lib
  name: 'kafkajs' | 'kafka-wire'
  names: Names
  kafka: Kafka
}

type Scenario = SharedScenario<Run>

const topic = (names: Names, i: number, partitions: number, configs: { [k: string]: string } = {}) => createTopicNamed(neutral.admin, names, i, partitions, configs)

const kafkaFor = (lib: Lib, clientId: string): Kafka => kafkaForCluster(k, lib, clientId)

type Delivered = { topic: string; partition: number; offset: string; key: string | null; value: string | null; headers: unknown; timestamp: string }

/** deliver renders a consumed message for comparison. */
function delivered(topic: string, partition: number, m: { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers?: unknown }): Delivered {
  const headers: { [k: string]: unknown } = {}
  for (const [hk, hv] of Object.entries((m.headers ?? {}) as { [k: string]: Buffer | Buffer[] })) headers[hk] = Array.isArray(hv) ? hv.map(String) : String(hv)
  return { topic, partition, offset: m.offset, key: m.key === null ? null : m.key.toString(), value: m.value === null ? null : m.value.toString(), headers, timestamp: m.timestamp }
}

const byPosition = (a: { topic: string; partition: number; offset: string }, b: { topic: string; partition: number; offset: string }) =>
  a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset))

/**
 * produce sends messages with the run's own producer and disconnects it. The producer is idempotent:
 * KafkaJS retries a whole send when one partition of it fails (a new topic's partition whose leader is
 * not ready yet), and without idempotence the partitions that had succeeded get their records twice,
 * so the scenario's input would not be what it wrote.
 */
async function produce(r: Run, topicName: string, messages: Array<{ key?: string | null; value: string | null; partition?: number; headers?: { [k: string]: string | string[] }; timestamp?: string }>): Promise<void> {
  const p = r.kafka.producer({ createPartitioner: r.lib.Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 })
  await p.connect()
  await p.send({ topic: topicName, messages })
  await p.disconnect()
}

/** consumeAll runs a consumer with eachMessage until `n` messages came, then disconnects it. */
async function consumeAll(r: Run, topics: string[], n: number, opts: { fromBeginning?: boolean; events?: string[] } = {}) {
  const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500, sessionTimeout: 10_000 })
  const events: string[] = []
  if (opts.events) for (const e of opts.events) consumer.on(e as never, (ev: { type: string }) => events.push(ev.type))
  await consumer.connect()
  await consumer.subscribe({ topics, fromBeginning: opts.fromBeginning ?? true })
  const got: Delivered[] = []
  await consumer.run({ eachMessage: async ({ topic: t, partition, message }) => void got.push(delivered(t, partition, message)) })
  await until(() => got.length >= n, `${n} messages (${r.name} got ${got.length})`)
  await consumer.disconnect()
  return { got: got.sort(byPosition), events }
}

/** committed reads a group's committed offsets with the run's own admin. */
const committed = (r: Run, group: string, topics: string[]) => committedOffsets(r.kafka, group, topics)

const scenarios: Scenario[] = [
  {
    name: 'send: RecordMetadata per partition for keyed messages',
    async run(r) {
      const t = await topic(r.names, 0, 3)
      const p = r.kafka.producer({ createPartitioner: r.lib.Partitioners.DefaultPartitioner })
      await p.connect()
      const first = await p.send({ topic: t, messages: Array.from({ length: 12 }, (_, i) => ({ key: `key-${i}`, value: `v${i}` })) })
      const second = await p.send({ topic: t, messages: [{ key: 'key-1', value: 'again' }] })
      await p.disconnect()
      const shape = (rm: typeof first) => rm.map(({ topicName, partition, errorCode, baseOffset, logAppendTime }) => ({ topicName, partition, errorCode, baseOffset, logAppendTime })).sort((a, b) => a.partition - b.partition)
      return { first: shape(first), second: shape(second), keys: Object.keys(first[0]!).sort(), differs: first.map((m) => m.logStartOffset) }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: logStartOffset is '-1' (the client does not surface the produce response's log start offset).
      assert.ok(kjs.every((o: string) => /^\d+$/.test(o)))
      assert.ok(kw.every((o: string) => o === '-1'))
    },
  },
  {
    name: 'sendBatch: two topics in one call, explicit partitions',
    async run(r) {
      const a = await topic(r.names, 0, 2)
      const b = await topic(r.names, 1, 1)
      const p = r.kafka.producer()
      await p.connect()
      const res = await p.sendBatch({
        topicMessages: [
          { topic: a, messages: [{ partition: 1, value: 'a1' }, { partition: 1, value: 'a2' }, { partition: 0, value: 'a0' }] },
          { topic: b, messages: [{ value: 'b0' }] },
          { topic: a, messages: [{ partition: 1, value: 'a3' }] },
        ],
      })
      await p.disconnect()
      return res.map(({ topicName, partition, baseOffset }) => ({ topicName, partition, baseOffset })).sort((x, y) => x.topicName.localeCompare(y.topicName) || x.partition - y.partition)
    },
  },
  {
    name: 'acks: 0 resolves with no metadata, 1 with metadata',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      const p = r.kafka.producer()
      await p.connect()
      const none = await p.send({ topic: t, acks: 0, messages: [{ value: 'x' }] })
      const one = await p.send({ topic: t, acks: 1, messages: [{ value: 'y' }] })
      await p.disconnect()
      return { none, one: one.map(({ partition, errorCode }) => ({ partition, errorCode })) }
    },
  },
  {
    name: 'messages round trip: keys, null key, tombstone, headers (repeated keys), timestamps, GZIP',
    async run(r) {
      const t = await topic(r.names, 0, 2)
      const p = r.kafka.producer({ createPartitioner: r.lib.Partitioners.DefaultPartitioner })
      await p.connect()
      await p.send({
        topic: t,
        compression: r.lib.CompressionTypes.GZIP,
        messages: [
          { key: 'a', value: 'one', headers: { trace: 'abc', multi: ['x', 'y'] }, timestamp: '1700000000000' },
          { key: null, value: 'keyless', partition: 0, timestamp: '1700000000001' },
          { key: 'b', value: null, timestamp: '1700000000002' },
          { key: 'c', value: 'three', headers: { empty: '' }, timestamp: '1700000000003' },
        ],
      })
      await p.disconnect()
      return (await consumeAll(r, [t], 4)).got
    },
  },
  {
    name: 'DefaultPartitioner and LegacyPartitioner place keys as KafkaJS does',
    async run(r) {
      const t = await topic(r.names, 0, 5)
      const u = await topic(r.names, 1, 5)
      const keys = Array.from({ length: 40 }, (_, i) => `user-${i * 7919}`)
      const place = async (create: unknown, name: string) => {
        const p = r.kafka.producer({ createPartitioner: create as never })
        await p.connect()
        for (const key of keys) await p.send({ topic: name, messages: [{ key, value: key }] })
        await p.disconnect()
      }
      await place(r.lib.Partitioners.DefaultPartitioner, t)
      await place(r.lib.Partitioners.LegacyPartitioner, u)
      const { got } = await consumeAll(r, [t, u], 80)
      return got.map((m) => ({ topic: m.topic, partition: m.partition, key: m.key }))
    },
  },
  {
    name: 'createPartitioner: a custom partitioner sees partition metadata and the message',
    async run(r) {
      const t = await topic(r.names, 0, 4)
      const seen: Array<{ partitions: number[]; key: string; leaderKnown: boolean }> = []
      const p = r.kafka.producer({
        createPartitioner: () => ({ partitionMetadata, message }) => {
          seen.push({ partitions: partitionMetadata.map((m) => m.partitionId), key: String(message.key), leaderKnown: partitionMetadata.every((m) => m.leader >= 0) })
          return Number(message.key) % partitionMetadata.length
        },
      })
      await p.connect()
      const res = await p.send({ topic: t, messages: [0, 1, 2, 3, 5].map((i) => ({ key: String(i), value: `v${i}` })) })
      await p.disconnect()
      return { seen, partitions: res.map((m) => m.partition).sort() }
    },
  },
  {
    name: 'eachMessage: every message once, in order per partition; autoCommit commits the ends',
    async run(r) {
      const t = await topic(r.names, 0, 3)
      await produce(r, t, Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })))
      const { got } = await consumeAll(r, [t], 30)
      return { got: got.map(({ partition, offset, key }) => ({ partition, offset, key })), committed: await committed(r, r.names.group(), [t]) }
    },
  },
  {
    name: 'eachBatch: batches, resolveOffset, manual commitOffsetsIfNecessary, uncommittedOffsets',
    async run(r) {
      const t = await topic(r.names, 0, 2)
      await produce(r, t, Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `v${i}` })))
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500 })
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      const got: string[] = []
      const uncommitted: unknown[] = []
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale }) => {
          assert.equal(isRunning(), true)
          assert.equal(isStale(), false)
          assert.equal(batch.isEmpty(), false)
          for (const m of batch.messages) {
            // Only the first three messages of each partition count as processed.
            if (Number(m.offset) < 3) {
              got.push(`${batch.partition}:${m.offset}`)
              resolveOffset(m.offset)
            }
          }
          uncommitted.push(uncommittedOffsets())
          await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: '3' }] }] })
        },
      })
      await until(() => got.length >= 6, 'six processed messages')
      await consumer.disconnect()
      return { got: got.sort(), committed: await committed(r, r.names.group(), [t]) }
    },
  },
  {
    name: 'autoCommit false and commitOffsets with metadata',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, [{ value: 'a' }, { value: 'b' }, { value: 'c' }])
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500 })
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      let n = 0
      await consumer.run({ autoCommit: false, eachMessage: async () => void n++ })
      await until(() => n >= 3, 'three messages')
      await consumer.commitOffsets([{ topic: t, partition: 0, offset: '2', metadata: 'half-way' }])
      await consumer.disconnect()
      const admin = r.kafka.admin()
      await admin.connect()
      const res = await admin.fetchOffsets({ groupId: r.names.group(), topics: [t] })
      await admin.disconnect()
      return res
    },
  },
  {
    name: 'seek during eachMessage: the partition goes back and is delivered again from there',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, Array.from({ length: 6 }, (_, i) => ({ value: `v${i}` })))
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500 })
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      const got: string[] = []
      let sought = false
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.offset)
          if (message.offset === '4' && !sought) {
            sought = true
            consumer.seek({ topic: t, partition: 0, offset: '1' })
          }
        },
      })
      await until(() => got.length >= 10, `ten deliveries (got ${got.join(',')})`)
      await consumer.disconnect()
      return got.slice(0, 10)
    },
  },
  {
    name: 'pause() from eachMessage and resume: nothing of the partition until resumed, then the rest',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, Array.from({ length: 5 }, (_, i) => ({ value: `v${i}` })))
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500 })
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      const got: string[] = []
      let resume: (() => void) | null = null
      await consumer.run({
        eachMessage: async ({ message, pause }) => {
          got.push(message.offset)
          if (message.offset === '1' && resume === null) resume = pause()
        },
      })
      await until(() => got.length >= 2, 'two messages')
      await new Promise((res) => setTimeout(res, 1500))
      const whilePaused = [...got]
      const paused = consumer.paused()
      resume!()
      await until(() => got.length >= 5, 'the rest after resume')
      await consumer.disconnect()
      return { whilePaused, paused, all: got }
    },
  },
  {
    name: 'a failing eachMessage is retried with the same message, then consuming goes on',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, Array.from({ length: 4 }, (_, i) => ({ value: `v${i}` })))
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500, retry: { retries: 3, initialRetryTime: 50 } })
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      const got: string[] = []
      let failures = 0
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.offset)
          if (message.offset === '2' && failures < 2) {
            failures++
            throw new Error('processing failed')
          }
        },
      })
      await until(() => got.includes('3'), 'offset 3')
      await consumer.disconnect()
      return { got, committed: await committed(r, r.names.group(), [t]) }
    },
  },
  {
    name: 'a handler that always fails: retries exhausted, CRASH with KafkaJSNumberOfRetriesExceeded, no restart when restartOnFailure says no',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, [{ value: 'poison' }])
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500, retry: { retries: 2, initialRetryTime: 50, restartOnFailure: async () => false } })
      const crashes: unknown[] = []
      consumer.on(consumer.events.CRASH, (e: { payload: { error: Error; restart: boolean; groupId: string } }) => crashes.push({ error: errorShape(r.lib, e.payload.error), restart: e.payload.restart, groupId: e.payload.groupId }))
      let attempts = 0
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      await consumer.run({
        eachMessage: async () => {
          attempts++
          throw new Error('always fails')
        },
      })
      await until(() => crashes.length >= 1, 'a crash')
      await consumer.disconnect()
      return { attempts, crashes }
    },
  },
  {
    name: 'a handler throwing a TypeError crashes at once, without restart',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, [{ value: 'x' }])
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500, retry: { retries: 5, initialRetryTime: 50 } })
      const crashes: unknown[] = []
      consumer.on(consumer.events.CRASH, (e: { payload: { error: Error; restart: boolean } }) => crashes.push({ error: errorShape(r.lib, e.payload.error), restart: e.payload.restart }))
      let attempts = 0
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      await consumer.run({
        eachMessage: async () => {
          attempts++
          throw new TypeError('a bug')
        },
      })
      await until(() => crashes.length >= 1, 'a crash')
      await consumer.disconnect()
      return { attempts, crashes }
    },
  },
  {
    name: 'fromBeginning false: only messages produced after the consumer joined',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, [{ value: 'before' }])
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500 })
      let joined = false
      consumer.on(consumer.events.GROUP_JOIN, () => void (joined = true))
      await consumer.connect()
      await consumer.subscribe({ topics: [t] })
      const got: string[] = []
      await consumer.run({ eachMessage: async ({ message }) => void got.push(String(message.value)) })
      await until(() => joined, 'the group join')
      // The start offset is resolved after the join; a moment later the end is where the consumer starts.
      await new Promise((res) => setTimeout(res, 1000))
      await produce(r, t, [{ value: 'after' }])
      await until(() => got.length >= 1, 'a message')
      await new Promise((res) => setTimeout(res, 300))
      await consumer.disconnect()
      return got
    },
  },
  {
    name: 'subscribe with a RegExp matches the topics existing at subscribe time',
    async run(r) {
      const a = await topic(r.names, 0, 1)
      const b = await topic(r.names, 1, 1)
      await produce(r, a, [{ value: 'a' }])
      await produce(r, b, [{ value: 'b' }])
      const prefix = r.names.topic(0).replace(/topic0$/, '')
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500 })
      await consumer.connect()
      await consumer.subscribe({ topics: [new RegExp(`^${prefix}topic[01]$`)], fromBeginning: true })
      const got: string[] = []
      await consumer.run({ eachMessage: async ({ topic: tn }) => void got.push(tn) })
      await until(() => got.length >= 2, 'two messages')
      await consumer.disconnect()
      return got.sort()
    },
  },
  {
    name: 'consumer events: the sequence from connect to disconnect',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, [{ value: 'a' }, { value: 'b' }])
      const names = ['CONNECT', 'GROUP_JOIN', 'START_BATCH_PROCESS', 'END_BATCH_PROCESS', 'COMMIT_OFFSETS', 'STOP', 'DISCONNECT'] as const
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500 })
      const events: string[] = []
      const payloads: { [k: string]: unknown } = {}
      for (const n of names) {
        consumer.on(consumer.events[n] as never, (e: { type: string; payload: any; id: unknown; timestamp: unknown }) => {
          events.push(e.type)
          assert.equal(typeof e.timestamp, 'number')
          if (n === 'GROUP_JOIN') payloads.join = { groupId: e.payload.groupId, isLeader: e.payload.isLeader, groupProtocol: e.payload.groupProtocol, memberAssignment: e.payload.memberAssignment, leaderIsMe: e.payload.leaderId === e.payload.memberId }
          if (n === 'END_BATCH_PROCESS') payloads.batch = { ...e.payload, duration: typeof e.payload.duration }
          if (n === 'COMMIT_OFFSETS') payloads.commit = { groupId: e.payload.groupId, topics: e.payload.topics }
        })
      }
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      let n = 0
      await consumer.run({ eachMessage: async () => void n++ })
      await until(() => n >= 2 && events.includes('consumer.commit_offsets'), 'two messages and a commit')
      await consumer.disconnect()
      // Commits after the first may or may not happen depending on timing; one is what both guarantee.
      const seq = events.filter((e, i) => e !== 'consumer.commit_offsets' || events.indexOf(e) === i)
      return { seq, payloads }
    },
  },
  {
    name: 'producer events and the network REQUEST payload',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      const p = r.kafka.producer()
      const events: string[] = []
      let request: { [k: string]: unknown } | null = null
      p.on(p.events.CONNECT, (e: { type: string }) => void events.push(e.type))
      p.on(p.events.DISCONNECT, (e: { type: string }) => void events.push(e.type))
      p.on(p.events.REQUEST, (e: { payload: { [k: string]: unknown } }) => {
        if (e.payload.apiName === 'Produce') request ??= e.payload
      })
      await p.connect()
      await p.send({ topic: t, messages: [{ value: 'x' }] })
      await p.disconnect()
      assert.ok(request !== null, 'a Produce REQUEST event')
      const req = request as { [k: string]: unknown }
      return { events, requestKeys: Object.keys(req).sort(), apiKey: req.apiKey, apiName: req.apiName, clientId: req.clientId === `diff-${r.name}`, types: Object.fromEntries(Object.entries(req).map(([key, v]) => [key, typeof v]).sort()), differs: { apiVersion: req.apiVersion, correlationId: req.correlationId } }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: the client's hooks do not see API versions and correlation ids; the events carry -1.
      assert.ok(kjs.apiVersion >= 3 && kjs.correlationId >= 0)
      assert.deepEqual(kw, { apiVersion: -1, correlationId: -1 })
    },
  },
  {
    name: 'bad input: send without value, without topic, messages not an array; send before connect',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      const p = r.kafka.producer()
      const beforeConnect = errorShape(r.lib, await caught(() => p.send({ topic: t, messages: [{ value: 'x' }] })))
      await p.connect()
      const noValue = await caught(() => p.send({ topic: t, messages: [{ key: 'k' } as never] }))
      const noTopic = await caught(() => p.send({ topic: '', messages: [{ value: 'x' }] }))
      const notArray = await caught(() => p.send({ topic: t, messages: 'x' as never }))
      await p.disconnect()
      return {
        beforeConnect,
        noValue: { ...(errorShape(r.lib, noValue) as object), message: (noValue as Error).message },
        noTopic: { ...(errorShape(r.lib, noTopic) as object), message: (noTopic as Error).message },
        differs: { ...(errorShape(r.lib, notArray) as object), message: (notArray as Error).message },
      }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: KafkaJS fails on `messages` that is not an array with a TypeError from inside it.
      assert.equal(kjs.name, 'TypeError')
      assert.deepEqual({ name: kw.name, isKafkaJSError: kw.isKafkaJSError, message: kw.message }, { name: 'KafkaJSNonRetriableError', isKafkaJSError: true, message: 'Invalid messages array [x] for topic "<topic0>"' })
    },
  },
  {
    name: 'bad input: consumer without groupId, heartbeatInterval >= sessionTimeout, subscribe without topics, commit before run',
    async run(r) {
      const noGroup = await caught(() => r.kafka.consumer({} as never))
      const heartbeat = await caught(() => r.kafka.consumer({ groupId: 'x', heartbeatInterval: 5000, sessionTimeout: 5000 }))
      const c = r.kafka.consumer({ groupId: r.names.group() })
      await c.connect()
      const noTopics = await caught(() => c.subscribe({} as never))
      const badTopic = await caught(() => c.subscribe({ topics: [42 as never] }))
      const commit = await caught(() => c.commitOffsets([{ topic: 'x', partition: 0, offset: '1' }]))
      const seek = await caught(() => c.seek({ topic: 'x', partition: 0, offset: '1' }))
      await c.disconnect()
      const shape = (e: unknown) => ({ ...(errorShape(r.lib, e) as object), message: (e as Error).message })
      return { noGroup: shape(noGroup), heartbeat: shape(heartbeat), noTopics: shape(noTopics), badTopic: shape(badTopic), commit: shape(commit), seek: shape(seek) }
    },
  },
  {
    name: 'unknown topic without auto-creation: the send fails with the retries exhausted',
    async run(r) {
      const p = r.kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 2, initialRetryTime: 100 } })
      await p.connect()
      const err = await caught(() => p.send({ topic: r.names.topic(9), messages: [{ value: 'x' }] }))
      await p.disconnect()
      return errorShape(r.lib, err)
    },
  },
  {
    name: 'message too large for the topic: KafkaJSProtocolError MESSAGE_TOO_LARGE, not retried',
    async run(r) {
      const t = await topic(r.names, 0, 1, { 'max.message.bytes': '2048' })
      const p = r.kafka.producer()
      await p.connect()
      const err = await caught(() => p.send({ topic: t, messages: [{ value: 'x'.repeat(10_000) }] }))
      const ok = await p.send({ topic: t, messages: [{ value: 'small' }] })
      await p.disconnect()
      return { err: errorShape(r.lib, err), ok: ok.length }
    },
  },
  {
    name: 'wrong SASL credentials: connect fails with KafkaJSSASLAuthenticationError',
    async run(r) {
      const kafka = new r.lib.Kafka({ brokers: k.saslBootstrapServers!, clientId: 'wrong-creds', logLevel: r.lib.logLevel.NOTHING, sasl: { mechanism: 'scram-sha-256', username: TEST_USERS.plain.username, password: 'not-the-password' }, retry: { retries: 0 } })
      const p = kafka.producer()
      const err = await caught(() => p.connect())
      await p.disconnect().catch(() => {})
      const good = new r.lib.Kafka({ brokers: k.saslBootstrapServers!, clientId: 'good-creds', logLevel: r.lib.logLevel.NOTHING, sasl: { mechanism: 'scram-sha-512', username: TEST_USERS.plain.username, password: TEST_USERS.plain.password } })
      const admin = good.admin()
      await admin.connect()
      const listed = (await admin.listTopics()).includes(await topic(r.names, 0, 1))
      await admin.disconnect()
      const e = errorShape(r.lib, err) as { name: string; isKafkaJSError: boolean; isNonRetriable: boolean; retriable: boolean }
      return { name: e.name, isKafkaJSError: e.isKafkaJSError, isNonRetriable: e.isNonRetriable, retriable: e.retriable, listed }
    },
  },
  {
    name: 'admin: createTopics true then false, listTopics, fetchTopicMetadata, fetchTopicOffsets, describeCluster',
    async run(r) {
      const admin = r.kafka.admin()
      await admin.connect()
      const name = r.names.topic(0)
      const created = await admin.createTopics({ topics: [{ topic: name, numPartitions: 2 }] })
      const again = await admin.createTopics({ topics: [{ topic: name, numPartitions: 2 }] })
      const listed = (await admin.listTopics()).includes(name)
      const md = await admin.fetchTopicMetadata({ topics: [name] })
      const p = r.kafka.producer()
      await p.connect()
      await p.send({ topic: name, messages: [{ partition: 1, value: 'a' }, { partition: 1, value: 'b' }] })
      await p.disconnect()
      const offsets = await admin.fetchTopicOffsets(name)
      const byTime = await admin.fetchTopicOffsetsByTimestamp(name, 0)
      const cluster = await admin.describeCluster()
      await admin.disconnect()
      return {
        created,
        again,
        listed,
        md: md.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((pm) => ({ partitionId: pm.partitionId, partitionErrorCode: pm.partitionErrorCode, replicas: pm.replicas.length })).sort((a, b) => a.partitionId - b.partitionId) })),
        offsets: offsets.sort((a, b) => a.partition - b.partition),
        byTime: byTime.sort((a, b) => a.partition - b.partition),
        cluster: { brokers: cluster.brokers.length, controllerKnown: cluster.controller !== null, clusterId: typeof cluster.clusterId },
      }
    },
  },
  {
    name: 'describeGroup and admin describeGroups/listGroups of a running consumer',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await produce(r, t, [{ value: 'x' }])
      const consumer = r.kafka.consumer({ groupId: r.names.group(), heartbeatInterval: 500 })
      await consumer.connect()
      await consumer.subscribe({ topics: [t], fromBeginning: true })
      let n = 0
      await consumer.run({ eachMessage: async () => void n++ })
      await until(() => n >= 1, 'a message')
      const d = await consumer.describeGroup()
      const admin = r.kafka.admin()
      await admin.connect()
      const listed = (await admin.listGroups()).groups.filter((g) => g.groupId === r.names.group())
      const described = await admin.describeGroups([r.names.group()])
      await admin.disconnect()
      await consumer.disconnect()
      const member = d.members[0]!
      return {
        group: { groupId: d.groupId, state: d.state, protocol: d.protocol, protocolType: d.protocolType, members: d.members.length },
        assignment: r.lib.AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment,
        metadataTopics: r.lib.AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.topics,
        listed,
        described: described.groups.map((g) => ({ groupId: g.groupId, state: g.state, members: g.members.length })),
      }
    },
  },
]

describe('KafkaJS differential: the same programs on kafkajs@2.2.4 and kafka-wire/kafkajs', () => {
  for (const s of scenarios) {
    test(s.name, { timeout: 120_000 }, async () => {
      // Both libraries run the program at once, against the same broker, with names of their own.
      const runs = await Promise.all(
        LIBS.map(async ({ name, lib }) => {
          const names = new Names(name)
          const kafka = kafkaFor(lib, `diff-${name}`)
          const observed = names.normalize(await s.run({ lib, name, names, kafka })) as { differs?: unknown }
          return observed
        }),
      )
      const [kjs, kw] = runs as [any, any]
      const strip = (o: any) => (o !== null && typeof o === 'object' && !Array.isArray(o) && 'differs' in o ? { ...o, differs: undefined } : o)
      assert.deepEqual(strip(kw), strip(kjs), 'kafka-wire/kafkajs observed what kafkajs@2.2.4 observed')
      if (s.differs) s.differs(kjs.differs, kw.differs)
    })
  }
})
