// considerMissingTopicDeletedAfter: a topic metadata has had that loads then lack for that long is
// taken as deleted. First the cache's judgment against a scripted loader (no broker); then, against
// the real broker, what the producer and a direct consumer do with a topic deleted by the admin, and
// that a topic created again under the same name is produced to and consumed again from its start.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Client, consumerOf } from '../../src/client/client.js'
import { InvalidOptionError } from '../../src/client/errors.js'
import { MetadataCache, type ClusterMetadata, type TopicInfo } from '../../src/client/metadata.js'
import { Admin } from '../../src/admin/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName, waitFor } from './helpers.js'

// ---------------------------------------------------------------- the cache's judgment

/** Script is a loader whose answers a test sets: `present` topics come back, others are unknown. */
class Script {
  present = new Set<string>()
  /** loads holds when each load was answered (Date.now()) and whether it had `watch`. */
  loads: Array<{ at: number; had: boolean }> = []
  constructor(readonly watch: string) {}

  load = async (asked: string[] | null): Promise<ClusterMetadata> => {
    const topics = new Map<string, TopicInfo>()
    for (const name of asked ?? [...this.present]) {
      const has = this.present.has(name)
      topics.set(name, { name, id: 'AAAAAAAAAAAAAAAAAAAAAQ', isInternal: false, partitions: has ? [{ partition: 0, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offline: [], errorCode: 0 }] : [], errorCode: has ? 0 : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, loadedAt: Date.now() })
    }
    this.loads.push({ at: Date.now(), had: this.present.has(this.watch) })
    return { brokers: new Map([[1, { nodeId: 1, host: 'h', port: 1, rack: null }]]), topics, controllerId: 1, clusterId: 'c', loadedAt: Date.now() }
  }
}

function cache(s: Script, deleteAfter: number): { md: MetadataCache; deleted: Array<{ at: number; topics: string[] }> } {
  const md = new MetadataCache(s.load, { minAge: 0, maxAge: 60_000, deleteAfter })
  const deleted: Array<{ at: number; topics: string[] }> = []
  md.onDelete((topics) => deleted.push({ at: Date.now(), topics }))
  md.interest([s.watch, 'never-made'])
  return { md, deleted }
}

test('a topic loaded once and then missing is taken as deleted at the first load past the wait (0: at once), and only then; one never loaded never is', async () => {
  const s = new Script('t')
  const { md, deleted } = cache(s, 0)
  try {
    await md.refresh(true)
    assert.equal(deleted.length, 0, 'never loaded yet: nothing is deleted')
    s.present.add('t')
    await md.refresh(true)
    assert.equal(deleted.length, 0)
    s.present.delete('t')
    await md.refresh(true)
    assert.deepEqual(deleted.map((d) => d.topics), [['t']], 'missing once with a wait of 0')
    await md.refresh(true)
    assert.equal(deleted.length, 1, 'told once: a deleted topic is no longer known')
    // Made again: known again, and deleted again when it goes.
    s.present.add('t')
    await md.refresh(true)
    s.present.delete('t')
    await md.refresh(true)
    assert.deepEqual(deleted.map((d) => d.topics), [['t'], ['t']])
  } finally {
    md.close()
  }
})

test('Infinity never takes a topic as deleted', async () => {
  const s = new Script('t')
  const { md, deleted } = cache(s, Infinity)
  try {
    s.present.add('t')
    await md.refresh(true)
    s.present.delete('t')
    for (let i = 0; i < 5; i++) await md.refresh(true)
    assert.equal(deleted.length, 0)
  } finally {
    md.close()
  }
})

test('the cache loads again by itself when a missing topic\'s time is up; a topic back before then starts over', async () => {
  const s = new Script('t')
  const { md, deleted } = cache(s, 400)
  try {
    s.present.add('t')
    await md.refresh(true)
    s.present.delete('t')
    await md.refresh(true)
    const firstAbsence = s.loads.at(-1)!.at
    // Back within its time (300 ms into it), then missing again: the wait counts from this second absence.
    await waitFor(() => Date.now() - firstAbsence >= 300, '300 ms of the first absence')
    s.present.add('t')
    await md.refresh(true)
    s.present.delete('t')
    await md.refresh(true)
    const secondAbsence = s.loads.at(-1)!.at
    // Nothing else asks for a load: the cache's own timer does.
    await waitFor(() => deleted.length > 0, 'the deletion', 10_000)
    assert.deepEqual(deleted[0]!.topics, ['t'])
    assert.ok(deleted[0]!.at - secondAbsence >= 400, `deleted ${deleted[0]!.at - secondAbsence} ms after the second absence began, before the 400 ms wait`)
  } finally {
    md.close()
  }
})

test('considerMissingTopicDeletedAfter must be a number of ms from 0 (Infinity allowed), naming the option', () => {
  for (const bad of [-1, Number.NaN, '15000']) {
    assert.throws(
      () => new Client({ seedBrokers: ['127.0.0.1:1'], considerMissingTopicDeletedAfter: bad as number }),
      (err: unknown) => err instanceof InvalidOptionError && err.option === 'considerMissingTopicDeletedAfter',
      String(bad),
    )
  }
  for (const ok of [0, 2_000, Infinity]) new Client({ seedBrokers: ['127.0.0.1:1'], considerMissingTopicDeletedAfter: ok }).close().catch(() => {})
})

// ---------------------------------------------------------------- against the broker

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

const WAIT = 2_000

/** isDeletedError checks the error records and polls get for a topic taken as deleted. */
function isDeletedError(err: unknown, topic: string): boolean {
  return err instanceof KafkaProtocolError && err.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && err.topic === topic && /was deleted/.test(err.message)
}

test('producing: records of a deleted topic not yet written fail with UNKNOWN_TOPIC_OR_PARTITION naming it once it has been missing for considerMissingTopicDeletedAfter; made again, it is produced to from offset 0', { timeout: 60_000 }, async (t) => {
  const admin = newClient(k)
  const topic = await createTopic(admin)
  // unknownTopicRetries is high so that the broker's UNKNOWN_TOPIC answers alone never fail the records.
  const p = newClient(k, { considerMissingTopicDeletedAfter: WAIT, unknownTopicRetries: 1_000_000 })
  t.after(() => p.close({ timeout: 1_000 }))
  assert.equal((await p.produce({ topic, value: 'before' })).offset, 0n)
  const start = Date.now()
  await new Admin(admin).deleteTopic(topic)
  const settling = Promise.all(
    Array.from({ length: 3 }, (_, i) =>
      p.produce({ topic, value: `after-${i}` }).then(
        () => null,
        (err: unknown) => ({ err, at: Date.now() }),
      ),
    ),
  )
  const settled = await Promise.race([settling, new Promise<null>((resolve) => setTimeout(resolve, 30_000, null).unref())])
  assert.ok(settled !== null, 'the records of the deleted topic did not settle within 30 s')
  for (const s of settled) {
    assert.ok(s !== null, 'a record of the deleted topic was written')
    assert.ok(isDeletedError(s.err, topic), String(s.err))
    assert.ok(s.at - start >= WAIT, `failed ${s.at - start} ms after the deletion, before considerMissingTopicDeletedAfter (${WAIT} ms)`)
  }
  t.diagnostic(`failed after ${settled[0]!.at - start} ms: ${(settled[0]!.err as Error).message}`)
  // A record produced now waits for the topic as for a new one; created again, it is written first.
  const next = p.produce({ topic, value: 'recreated' })
  await createTopic(admin, { name: topic })
  assert.equal((await next).offset, 0n, 'the first record of the new topic')
})

for (const mode of ['by name', 'by pattern'] as const) {
  test(`direct consuming ${mode}: a deleted topic's partitions are dropped and the deletion reported once it has been missing for considerMissingTopicDeletedAfter; made again, it is consumed from its start`, { timeout: 90_000 }, async (t) => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { name: topicName('deleted') })
    await Promise.all(Array.from({ length: 5 }, (_, i) => admin.produce({ topic, value: `old-${i}` })))
    // unknownTopicRetries is high so that the poll errors seen are the deletion's alone. A pattern's
    // new topics are found by loads on age: metadataMaxAge is short.
    const subscription = mode === 'by name' ? { consumeTopics: [topic] } : { consumeTopics: [`^${topic}$`], consumeRegex: true, metadataMaxAge: 500 }
    const consumer = newClient(k, { considerMissingTopicDeletedAfter: WAIT, unknownTopicRetries: 1_000_000, ...subscription })
    const old: string[] = []
    const until = AbortSignal.timeout(30_000)
    while (old.length < 5 && !until.aborted) for (const r of (await consumer.pollFetches({ signal: until })).records()) old.push(r.value!.toString())
    assert.equal(old.length, 5)

    const start = Date.now()
    await new Admin(admin).deleteTopic(topic)
    let reported: { err: Error; at: number } | undefined
    const deadline = AbortSignal.timeout(30_000)
    while (reported === undefined && !deadline.aborted) {
      const f = await consumer.pollFetches({ signal: deadline })
      assert.equal(f.records().length, 0)
      const e = f.errors().find((x) => x.topic === topic)
      if (e !== undefined) reported = { err: e.error, at: Date.now() }
    }
    assert.ok(reported !== undefined, 'no error for the deleted topic within 30 s')
    assert.ok(isDeletedError(reported.err, topic), String(reported.err))
    assert.ok(reported.at - start >= WAIT, `reported ${reported.at - start} ms after the deletion, before considerMissingTopicDeletedAfter (${WAIT} ms)`)
    assert.equal(consumerOf(consumer).assigned().has(topic), false, 'its partitions are no longer consumed')
    t.diagnostic(`reported after ${reported.at - start} ms: ${reported.err.message}`)

    // Created again with more records than the old cursor's offset: all of them, from offset 0. The
    // admin client, which deleted the topic through its own Admin, produces them: its loads still ask
    // for the topic its producer used, and so learn the new topic's id.
    await createTopic(admin, { name: topic })
    await Promise.all(Array.from({ length: 8 }, (_, i) => admin.produce({ topic, value: `new-${i}` })))
    const fresh: Array<[bigint, string]> = []
    const again = AbortSignal.timeout(30_000)
    while (fresh.length < 8 && !again.aborted) for (const r of (await consumer.pollFetches({ signal: again })).records()) fresh.push([r.offset, r.value!.toString()])
    assert.deepEqual(fresh, Array.from({ length: 8 }, (_, i) => [BigInt(i), `new-${i}`]))
  })
}
