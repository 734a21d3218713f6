// producer.transaction() as a differential suite: every scenario is one KafkaJS program, run once with
// kafkajs@2.2.4 and once with kafka-wire/kafkajs against the same broker (names of its own each
// time), and what the program observes (RecordMetadata, what read_committed and read_uncommitted
// consumers get, committed offsets, isActive, error classes, types and retriability) must be equal.
// Where kafka-wire differs on purpose (docs/kafkajs.md), the scenario keeps that part under a
// `differs` key and asserts the difference itself.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { KafkaCluster } from '../../src/testing/index.js'
import { Client } from '../../src/client/client.js'
import type { FetchBatchMetrics } from '../../src/hooks/index.js'
import { broker } from '../client/helpers.js'
import { caught, errorShape, LIBS, Names, neutralAdmin, until, untilAsync, committedOffsets, createTopicNamed, kafkaFor as kafkaForCluster, type Lib, type Scenario as SharedScenario } from './helpers.js'

let k: KafkaCluster
let neutral: ReturnType<typeof neutralAdmin>

before(async () => {
  k = await broker({})
  neutral = neutralAdmin(k)
})

after(async () => {
  await neutral?.client.close()
})

type Kafka = InstanceType<Lib['Kafka']>
type Producer = ReturnType<Kafka['producer']>

interface Run {
  lib: Lib
  name: 'kafkajs' | 'kafka-wire'
  names: Names
  kafka: Kafka
  /** connected are the producers and consumers the run connected, disconnected after it whatever happened. */
  connected: Array<{ disconnect(): Promise<void> }>
}

type Scenario = SharedScenario<Run>

const topic = (names: Names, i: number, partitions: number, configs: { [k: string]: string } = {}) => createTopicNamed(neutral.admin, names, i, partitions, configs)

const kafkaFor = (lib: Lib, clientId: string): Kafka => kafkaForCluster(k, lib, clientId)

/** transactional makes and connects a transactional producer of the run's transactional id `i`. */
async function transactional(r: Run, i = 0, opts: { idempotent?: boolean } = { idempotent: true }): Promise<Producer> {
  const p = r.kafka.producer({ transactionalId: r.names.transactionalId(i), ...opts, maxInFlightRequests: 1, createPartitioner: r.lib.Partitioners.DefaultPartitioner })
  r.connected.push(p)
  await p.connect()
  return p
}

type Seen = { partition: number; offset: string; key: string | null; value: string | null }

/**
 * read consumes a topic from the beginning with a new group of the run until `done` holds for what
 * came, and returns it in log order. KafkaJS's consumers read committed records only unless
 * `readUncommitted`.
 */
async function read(r: Run, t: string, group: number, readUncommitted: boolean, done: (got: Seen[]) => boolean): Promise<Seen[]> {
  // keepControlRecords is a kafka-wire Client option, not KafkaJS's: passed to either consumer it
  // must change nothing, since KafkaJS never hands out transaction markers (the offsets compared
  // below would show one).
  const notKafkaJS = { keepControlRecords: true } as object
  const consumer = r.kafka.consumer({ groupId: r.names.group(group), readUncommitted, heartbeatInterval: 500, sessionTimeout: 10_000, ...notKafkaJS })
  r.connected.push(consumer)
  await consumer.connect()
  await consumer.subscribe({ topics: [t], fromBeginning: true })
  const got: Seen[] = []
  await consumer.run({
    eachMessage: async ({ partition, message: m }) => void got.push({ partition, offset: m.offset, key: m.key === null ? null : String(m.key), value: m.value === null ? null : String(m.value) }),
  })
  await until(() => done(got), `${r.name}'s consumer of ${t} (got ${JSON.stringify(got.map((s) => s.value))})`)
  await consumer.disconnect()
  return got.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))
}

/** refusal is errorShape with the message, for the facade's own refusals, whose messages are KafkaJS's. */
const refusal = (lib: Lib, err: unknown) => ({ ...(errorShape(lib, err) as object), message: (err as Error)?.message })

/** has is a `done` for read: every value of `values` came. */
const has = (...values: string[]) => (got: Seen[]) => values.every((v) => got.some((s) => s.value === v))

/** metadata keeps what both libraries report alike of RecordMetadata (logStartOffset is '-1' in kafka-wire: docs/kafkajs.md). */
function metadata(rm: Array<{ topicName: string; partition: number; errorCode: number; baseOffset?: string; logAppendTime?: string }>) {
  return rm.map(({ topicName, partition, errorCode, baseOffset, logAppendTime }) => ({ topicName, partition, errorCode, baseOffset, logAppendTime })).sort((a, b) => a.partition - b.partition)
}

/** committed reads a group's committed offsets with the run's own admin. */
/**
 * batchCodecs reads partition 0 of `t` from the start (control batches included) until `count`
 * batches came, and returns each batch's codec id in log order: 0 none, 1 gzip.
 */
async function batchCodecs(t: string, count: number): Promise<number[]> {
  const codecs: number[] = []
  const hook = { onFetchBatchRead: (_meta: unknown, _t: string, _p: number, m: FetchBatchMetrics) => void codecs.push(m.compressionType) }
  const reader = new Client({ seedBrokers: k.bootstrapServers, consumePartitions: { [t]: { 0: 'earliest' } }, keepControlRecords: true, hooks: [hook] })
  try {
    await untilAsync(async () => {
      await reader.pollFetches({ signal: AbortSignal.timeout(500) })
      return codecs.length >= count
    }, `${count} batches of ${t}`, 20_000)
  } finally {
    await reader.close()
  }
  return codecs
}

const committed = async (r: Run, group: string, t: string) => (await committedOffsets(r.kafka, group, [t])).flatMap((x) => x.partitions)

const scenarios: Scenario[] = [
  {
    name: 'commit is seen by read_committed consumers, abort is not; producer.send during a transaction is outside it',
    async run(r) {
      const t = await topic(r.names, 0, 2)
      const p = await transactional(r)
      const t1 = await p.transaction()
      const active = [t1.isActive()]
      const sent = await t1.send({ topic: t, messages: [{ key: 'c1', value: 'committed-1', partition: 0 }, { key: 'c2', value: 'committed-2', partition: 1 }] })
      const batch = await t1.sendBatch({ topicMessages: [{ topic: t, messages: [{ value: 'committed-3', partition: 0 }] }] })
      await t1.commit()
      active.push(t1.isActive())

      const t2 = await p.transaction()
      await t2.send({ topic: t, messages: [{ value: 'aborted-1', partition: 0 }, { value: 'aborted-2', partition: 1 }] })
      // The producer's own send is not part of the open transaction: the abort leaves it in place.
      const outside = await p.send({ topic: t, messages: [{ value: 'outside', partition: 1 }] })
      await t2.abort()
      active.push(t2.isActive())

      const t3 = await p.transaction()
      await t3.sendBatch({ topicMessages: [{ topic: t, messages: [{ value: 'end-0', partition: 0 }, { value: 'end-1', partition: 1 }] }] })
      await t3.commit()
      await p.disconnect()

      const readCommitted = await read(r, t, 0, false, has('end-0', 'end-1'))
      const readUncommitted = await read(r, t, 1, true, has('end-0', 'end-1'))
      return { active, sent: metadata(sent), batch: metadata(batch), outside: metadata(outside), readCommitted, readUncommitted }
    },
  },
  {
    name: 'a transaction without idempotent: true commits (KafkaJS does not require it); acks other than -1 are refused',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      const p = await transactional(r, 0, {})
      const tx = await p.transaction()
      const acks1 = refusal(r.lib, await caught(() => tx.send({ topic: t, acks: 1, messages: [{ value: 'acks 1' }] })))
      const acks0 = refusal(r.lib, await caught(() => tx.sendBatch({ acks: 0, topicMessages: [{ topic: t, messages: [{ value: 'acks 0' }] }] })))
      const active = tx.isActive()
      await tx.send({ topic: t, messages: [{ value: 'kept' }] })
      await tx.commit()
      await p.disconnect()
      return { acks1, acks0, active, readCommitted: await read(r, t, 0, false, has('kept')) }
    },
  },
  {
    name: 'per-send compression inside a transaction: each send is stored with its codec, and read back alike',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      const p = await transactional(r)
      const tx = await p.transaction()
      const gzip = await tx.send({ topic: t, compression: r.lib.CompressionTypes.GZIP, messages: [{ value: 'gzip-1' }, { value: 'gzip-2' }] })
      const plain = await tx.send({ topic: t, messages: [{ value: 'plain' }] })
      const gzipAgain = await tx.sendBatch({ compression: r.lib.CompressionTypes.GZIP, topicMessages: [{ topic: t, messages: [{ value: 'gzip-3' }] }] })
      await tx.commit()
      await p.disconnect()
      // Three data batches, then the commit marker (a control batch, never compressed).
      const codecs = await batchCodecs(t, 4)
      return { sent: [metadata(gzip), metadata(plain), metadata(gzipAgain)], codecs, readCommitted: await read(r, t, 0, false, has('gzip-3')) }
    },
  },
  {
    name: 'sendOffsets: the offsets are committed with the transaction, not after an abort',
    async run(r) {
      const t = await topic(r.names, 0, 2)
      const group = r.names.group(0)
      const p = await transactional(r)
      const before = await committed(r, group, t)

      const t1 = await p.transaction()
      await t1.send({ topic: t, messages: [{ value: 'processed', partition: 0 }] })
      await t1.sendOffsets({ consumerGroupId: group, topics: [{ topic: t, partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '7' }] }] })
      await t1.commit()
      // The coordinator writes the commit marker after it answers EndTxn: wait for the offsets to show.
      let afterCommit: Array<{ partition: number; offset: string }> = []
      await untilAsync(async () => (afterCommit = await committed(r, group, t)).some((o) => o.offset !== '-1'), 'the committed offsets')

      // Each transaction sends a message before its offsets: KafkaJS retries the first AddPartitionsToTxn
      // while the coordinator still completes the previous transaction (CONCURRENT_TRANSACTIONS), not
      // AddOffsetsToTxn (docs/kafkajs.md).
      const t2 = await p.transaction()
      await t2.send({ topic: t, messages: [{ value: 'reprocessed', partition: 0 }] })
      await t2.sendOffsets({ consumerGroupId: group, topics: [{ topic: t, partitions: [{ partition: 0, offset: '9' }] }] })
      await t2.abort()
      // The next transaction cannot begin on the coordinator before the abort's markers are written, so
      // once its commit shows, the abort has been applied too.
      const t3 = await p.transaction()
      await t3.send({ topic: t, messages: [{ value: 'other', partition: 1 }] })
      await t3.sendOffsets({ consumerGroupId: group, topics: [{ topic: t, partitions: [{ partition: 1, offset: '8' }] }] })
      await t3.commit()
      let final: Array<{ partition: number; offset: string }> = []
      await untilAsync(async () => (final = await committed(r, group, t)).some((o) => o.partition === 1 && o.offset === '8'), 'the third transaction\'s offsets')
      await p.disconnect()
      return { before, afterCommit, final }
    },
  },
  {
    name: 'misuse: transaction() without transactionalId, a second transaction() while one is active, a transaction used after commit and after abort',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      const plain = r.kafka.producer()
      r.connected.push(plain)
      await plain.connect()
      const noId = refusal(r.lib, await caught(() => plain.transaction()))
      await plain.disconnect()

      const p = await transactional(r)
      const tx = await p.transaction()
      const second = refusal(r.lib, await caught(() => p.transaction()))
      const missingGroup = refusal(r.lib, await caught(() => tx.sendOffsets({ topics: [] } as never)))
      await tx.send({ topic: t, messages: [{ value: 'x' }] })
      await tx.commit()
      const use = async (x: typeof tx) => ({
        active: x.isActive(),
        send: refusal(r.lib, await caught(() => x.send({ topic: t, messages: [{ value: 'late' }] }))),
        sendBatch: refusal(r.lib, await caught(() => x.sendBatch({ topicMessages: [{ topic: t, messages: [{ value: 'late' }] }] }))),
        sendOffsets: refusal(r.lib, await caught(() => x.sendOffsets({ consumerGroupId: r.names.group(0), topics: [{ topic: t, partitions: [{ partition: 0, offset: '1' }] }] }))),
        commit: refusal(r.lib, await caught(() => x.commit())),
        abort: refusal(r.lib, await caught(() => x.abort())),
      })
      const afterCommit = await use(tx)
      const tx2 = await p.transaction()
      await tx2.abort()
      const afterAbort = await use(tx2)
      // An empty transaction commits (no EndTxn is needed), and the producer begins the next one.
      const empty = await p.transaction()
      await empty.commit()
      const next = await p.transaction()
      const nextActive = next.isActive()
      await next.abort()
      await p.disconnect()
      return { noId, second, missingGroup, afterCommit, afterAbort, nextActive }
    },
  },
  {
    name: 'fencing: a second producer with the same transactionalId fences the first, whose commit fails alike',
    async run(r) {
      const t = await topic(r.names, 0, 2)
      const fence = async (i: number, lateSend: boolean) => {
        const a = await transactional(r, i)
        const ta = await a.transaction()
        await ta.send({ topic: t, messages: [{ value: `zombie-${i}`, partition: 0 }] })
        // b's transaction() initializes the id: the coordinator aborts a's transaction and bumps the epoch.
        const b = await transactional(r, i)
        const tb = await b.transaction()
        const activeAfterFence = ta.isActive()
        const late = lateSend ? errorShape(r.lib, await caught(() => ta.send({ topic: t, messages: [{ value: `late-${i}`, partition: 0 }] }))) : null
        const commit = errorShape(r.lib, await caught(() => ta.commit()))
        const activeAfterCommit = ta.isActive()
        const abort = refusal(r.lib, await caught(() => ta.abort()))
        // The fenced producer cannot begin another transaction (KafkaJS: a state exception, kafka-wire: the fence).
        const again = errorShape(r.lib, await caught(() => a.transaction()))
        await tb.send({ topic: t, messages: [{ value: `live-${i}`, partition: 1 }] })
        await tb.commit()
        await Promise.all([a.disconnect(), b.disconnect()])
        return { activeAfterFence, late, commit, activeAfterCommit, abort, again }
      }
      const direct = await fence(0, false)
      const afterLateSend = await fence(1, true)
      const readCommitted = (await read(r, t, 0, false, has('live-0', 'live-1'))).map((s) => s.value)
      return { direct, afterLateSend, readCommitted }
    },
  },
  {
    name: 'a message of the transaction fails: both reject the send alike; kafka-wire refuses the commit, KafkaJS commits the rest',
    async run(r) {
      const t = await topic(r.names, 0, 1, { 'max.message.bytes': '2000' })
      const p = await transactional(r)
      const tx = await p.transaction()
      await tx.send({ topic: t, messages: [{ value: 'kept' }] })
      const tooLarge = errorShape(r.lib, await caught(() => tx.send({ topic: t, messages: [{ value: 'x'.repeat(10_000) }] })))
      const commit = await caught(() => tx.commit())
      const activeAfterCommit = tx.isActive()
      const abort = tx.isActive() ? await caught(() => tx.abort()) : null
      const next = await p.transaction()
      await next.send({ topic: t, messages: [{ value: 'next' }] })
      await next.commit()
      await p.disconnect()
      const readCommitted = (await read(r, t, 0, false, has('next'))).map((s) => s.value)
      return {
        tooLarge,
        differs: { commit: commit instanceof Error && commit.message === 'did not fail' ? 'ok' : errorShape(r.lib, commit), activeAfterCommit, abort: abort === null ? null : abort instanceof Error && abort.message === 'did not fail' ? 'ok' : errorShape(r.lib, abort), readCommitted },
      }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: KafkaJS commits a transaction one of whose messages failed, losing it; the
      // transaction then has ended, so abort() is refused.
      assert.deepEqual(kjs, { commit: 'ok', activeAfterCommit: false, abort: null, readCommitted: ['kept', 'next'] })
      // kafka-wire refuses to commit it (as Java's client does) with the message's error, keeps it
      // active, and abort() ends it: neither message of it is committed.
      assert.equal(kw.commit.name, 'KafkaJSProtocolError')
      assert.equal(kw.commit.type, 'MESSAGE_TOO_LARGE')
      assert.equal(kw.commit.retriable, false)
      assert.equal(kw.activeAfterCommit, true)
      assert.equal(kw.abort, 'ok')
      assert.deepEqual(kw.readCommitted, ['next'])
    },
  },
  {
    name: 'disconnect with a transaction open: KafkaJS keeps it, kafka-wire aborts it',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      const p = await transactional(r)
      const tx = await p.transaction()
      await tx.send({ topic: t, messages: [{ value: 'left open' }] })
      await p.disconnect()
      await p.connect()
      const activeAfterReconnect = tx.isActive()
      let began: unknown = 'ok'
      let readCommitted: Array<string | null> | null = null
      const tx2 = await p.transaction().catch((err: unknown) => void (began = errorShape(r.lib, err)))
      if (tx2) {
        await tx2.send({ topic: t, messages: [{ value: 'after' }] })
        await tx2.commit()
        // The transaction left open was aborted: a read_committed consumer is not held back by it.
        readCommitted = (await read(r, t, 0, false, has('after'))).map((m) => m.value)
      }
      await p.disconnect()
      return { differs: { activeAfterReconnect, began, readCommitted } }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: KafkaJS keeps the transaction open across disconnect (the broker aborts it
      // after transactionTimeout), and the producer cannot begin another until it ends.
      assert.equal(kjs.activeAfterReconnect, true)
      assert.equal(kjs.began.name, 'KafkaJSNonRetriableError')
      assert.equal(kjs.readCommitted, null)
      assert.equal(kw.activeAfterReconnect, false)
      assert.equal(kw.began, 'ok')
      assert.deepEqual(kw.readCommitted, ['after'])
    },
  },
]

describe('KafkaJS transactions: the same programs on kafkajs@2.2.4 and kafka-wire/kafkajs', () => {
  for (const s of scenarios) {
    test(s.name, { timeout: 120_000 }, async () => {
      const runs = await Promise.all(
        LIBS.map(async ({ name, lib }) => {
          const names = new Names(name)
          const kafka = kafkaFor(lib, `txn-${name}`)
          const connected: Run['connected'] = []
          try {
            return names.normalize(await s.run({ lib, name, names, kafka, connected })) as { differs?: unknown }
          } finally {
            // A scenario that failed half-way leaves connections that would keep the process up.
            await Promise.all(connected.map((c) => c.disconnect().catch(() => {})))
          }
        }),
      )
      const [kjs, kw] = runs as [any, any]
      const strip = (o: any) => (o !== null && typeof o === 'object' && !Array.isArray(o) && 'differs' in o ? { ...o, differs: undefined } : o)
      assert.deepEqual(strip(kw), strip(kjs), 'kafka-wire/kafkajs observed what kafkajs@2.2.4 observed')
      if (s.differs) s.differs(kjs.differs, kw.differs)
    })
  }
})
