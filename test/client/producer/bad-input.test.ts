// Bad input loses nothing: a record that cannot be produced fails alone, with a typed error, and
// every record's promise or callback settles exactly once, the good ones with their offsets.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { ProduceRecord } from '../../../src/protocol/record.js'
import { KafkaProtocolError, KafkaWireError } from '../../../src/protocol/errors.js'
import { DeleteTopics } from '../../../src/protocol/messages/delete-topics.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readAll, str, topicName } from '../helpers.js'
import { Client, coreOf } from '../../../src/client/client.js'
import { ClientClosedError, MaxBufferedError, RecordTooLargeError, InvalidRecordError, PartitionerError } from '../../../src/client/errors.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

interface Outcome {
  record: ProduceRecord
  err: Error | null
  calls: number
}

/**
 * produceAll produces with the callback form and resolves once every callback ran; it records how
 * many times each callback ran, and whether it ran before `produce` returned.
 */
function produceAll(c: Client, records: ProduceRecord[]): { outcomes: Outcome[]; sync: boolean[]; done: Promise<void> } {
  const outcomes: Outcome[] = records.map((record) => ({ record, err: null, calls: 0 }))
  const sync: boolean[] = []
  let left = records.length
  let resolve!: () => void
  const done = new Promise<void>((r) => (resolve = r))
  records.forEach((rec, i) => {
    let returned = false
    c.produce(rec, (_r, err) => {
      const o = outcomes[i]!
      o.calls++
      o.err = err
      if (o.calls === 1) {
        sync[i] = !returned
        if (--left === 0) resolve()
      }
    })
    returned = true
  })
  return { outcomes, sync, done }
}

/** settleAgain waits a little past the end so that a second call of any callback would be seen. */
const settleAgain = () => new Promise((r) => setTimeout(r, 300))

test('a record larger than producerBatchMaxBytes fails alone, at once, with RecordTooLargeError', { timeout: 60_000 }, async () => {
  const c = newClient(k, { producerBatchMaxBytes: 10_000, linger: 50 })
  const topic = await createTopic(c)
  const records: ProduceRecord[] = [
    { topic, value: 'a' },
    { topic, value: Buffer.alloc(20_000) },
    { topic, value: 'b' },
    { topic, key: Buffer.alloc(6_000), value: Buffer.alloc(6_000) },
    { topic, value: 'c', headers: [{ key: 'big', value: Buffer.alloc(12_000) }] },
    { topic, value: 'd' },
  ]
  const { outcomes, sync, done } = produceAll(c, records)
  await done
  await settleAgain()
  for (const i of [1, 3, 4]) {
    const err = outcomes[i]!.err
    assert.ok(err instanceof RecordTooLargeError, `record ${i}: ${String(err)}`)
    assert.equal((err as KafkaWireError).code, 'RECORD_TOO_LARGE')
    assert.equal((err as KafkaWireError).retriable, false)
    assert.equal(sync[i], true, `record ${i} failed before produce returned`)
  }
  for (const i of [0, 2, 5]) assert.equal(outcomes[i]!.err, null, `record ${i}: ${String(outcomes[i]!.err)}`)
  assert.ok(outcomes.every((o) => o.calls === 1), 'every callback ran once')
  const [stored] = await readAll(c, topic)
  assert.deepEqual(stored!.map((r) => str(r.value)), ['a', 'b', 'd'])
})

test("a record larger than the topic's max.message.bytes fails alone with MESSAGE_TOO_LARGE; the rest of its batch is written", { timeout: 60_000 }, async () => {
  const c = newClient(k, { linger: 100 })
  const topic = await createTopic(c, { configs: { 'max.message.bytes': '20000' } })
  const records: ProduceRecord[] = []
  for (let i = 0; i < 20; i++) records.push({ topic, partition: 0, value: i === 7 ? Buffer.alloc(50_000, 1) : `small ${i}` })
  const { outcomes, done } = produceAll(c, records)
  await done
  await settleAgain()
  assert.ok(outcomes.every((o) => o.calls === 1), 'every callback ran once')
  const big = outcomes[7]!.err
  assert.ok(big instanceof KafkaProtocolError, String(big))
  assert.equal(big.code, 'MESSAGE_TOO_LARGE')
  const failed = outcomes.map((o, i) => (o.err ? `${i}: ${o.err.message}` : null)).filter((x) => x !== null)
  assert.deepEqual(failed.length, 1, `only the big record fails:\n${failed.join('\n')}`)
  // The producer goes on: a later record is written after the ones before it.
  const later = await c.produce({ topic, partition: 0, value: 'later' })
  assert.ok(later.offset >= 19n)
  const [stored] = await readAll(c, topic)
  assert.deepEqual(
    stored!.map((r) => str(r.value)),
    [...records.filter((_, i) => i !== 7).map((r) => r.value as string), 'later'],
  )
})

test('a key, value or header that is not a Buffer, string or null fails at once with InvalidRecordError', { timeout: 60_000 }, async () => {
  const c = newClient(k)
  const topic = await createTopic(c)
  const bad = [
    { topic, key: 42, value: 'v' },
    { topic, key: { a: 1 }, value: 'v' },
    { topic, value: 42 },
    { topic, value: undefined },
    { topic, value: [1, 2, 3] },
    { topic, value: 'v', headers: [{ key: 'h', value: 7 }] },
    { topic, value: 'v', headers: [{ key: 3, value: 'x' }] },
    { topic, value: 'v', headers: 'nope' },
    { topic, value: 'v', timestamp: 'yesterday' },
    { topic, value: 'v', timestamp: 1.5 },
    { topic, value: 'v', timestamp: Number.NaN },
    { topic, value: 'v', partition: -2 },
    { topic, value: 'v', partition: 0.5 },
    { value: 'no topic' },
    { topic: '', value: 'empty topic' },
  ] as unknown as ProduceRecord[]
  const good: ProduceRecord = { topic, value: 'good' }
  const { outcomes, sync, done } = produceAll(c, [...bad, good])
  await done
  await settleAgain()
  bad.forEach((_, i) => {
    const err = outcomes[i]!.err
    assert.ok(err instanceof InvalidRecordError, `bad record ${i}: ${String(err)}`)
    assert.equal(err.code, 'INVALID_RECORD')
    assert.equal(sync[i], true, `bad record ${i} failed before produce returned`)
  })
  assert.equal(outcomes[bad.length]!.err, null)
  assert.ok(outcomes.every((o) => o.calls === 1), 'every callback ran once')
  // The promise form rejects the same way.
  await assert.rejects(c.produce({ topic, value: 42 } as unknown as ProduceRecord), InvalidRecordError)
  const [stored] = await readAll(c, topic)
  assert.deepEqual(stored!.map((r) => str(r.value)), ['good'])
})

test('producing after close() fails with ClientClosedError, in every form, exactly once', { timeout: 60_000 }, async () => {
  const c = newClient(k)
  const topic = await createTopic(c)
  await c.produce({ topic, value: 'before' }) // the producer exists
  await c.close()
  await assert.rejects(c.produce({ topic, value: 'after' }), ClientClosedError)
  let calls = 0
  let got = null as Error | null
  c.produce({ topic, value: 'after' }, (_r, err) => {
    calls++
    got = err
  })
  c.tryProduce({ topic, value: 'after' }, (_r, err) => {
    calls++
    assert.ok(err instanceof ClientClosedError)
  })
  const results = await c.produceSync([{ topic, value: 'a' }, { topic, value: 'b' }])
  await settleAgain()
  assert.ok(got instanceof ClientClosedError, String(got))
  assert.equal(calls, 2, 'each callback ran once')
  assert.ok(results.every((r) => r.error instanceof ClientClosedError))
  // A client that never produced fails the same way.
  const fresh = newClient(k)
  await fresh.close()
  await assert.rejects(fresh.produce({ topic, value: 'x' }), ClientClosedError)
})

test('records buffered when close() is called all settle exactly once', { timeout: 60_000 }, async () => {
  const c = newClient(k, { linger: 1_000 })
  const topic = await createTopic(c, { partitions: 2 })
  const { outcomes, done } = produceAll(c, Array.from({ length: 500 }, (_, i) => ({ topic, value: `v${i}` })))
  await c.close()
  await done
  await settleAgain()
  assert.ok(outcomes.every((o) => o.calls === 1), 'every callback ran once')
  for (const o of outcomes) {
    if (o.err !== null) assert.equal((o.err as KafkaWireError).code, 'CLIENT_CLOSED', String(o.err))
  }
})

test('records of a topic that does not appear fail with UNKNOWN_TOPIC_OR_PARTITION within unknownTopicRetries loads', { timeout: 60_000 }, async () => {
  let metadataRequests = 0
  const c = newClient(k, { unknownTopicRetries: 3, metadataMinAge: 200, hooks: { onBrokerWrite: (_m, key) => void (key === 3 && metadataRequests++) } })
  const topic = topicName('missing')
  const start = Date.now()
  const { outcomes, done } = produceAll(c, Array.from({ length: 50 }, (_, i) => ({ topic, value: `v${i}` })))
  await done
  const took = Date.now() - start
  await settleAgain()
  assert.ok(outcomes.every((o) => o.calls === 1), 'every callback ran once')
  for (const o of outcomes) {
    assert.ok(o.err instanceof KafkaProtocolError, String(o.err))
    assert.equal(o.err.code, 'UNKNOWN_TOPIC_OR_PARTITION')
    assert.equal(o.err.errorCode, 3)
  }
  // unknownTopicRetries 3: the fourth load that does not know the topic fails its records; loads
  // are at least metadataMinAge apart, so that takes a few hundred ms.
  assert.ok(metadataRequests >= 4 && metadataRequests <= 8, `${metadataRequests} metadata requests`)
  assert.ok(took >= 300 && took < 10_000, `failed after ${took} ms`)
  assert.equal(c.bufferedProduceRecords, 0)
  // The broker did not create it (allowAutoTopicCreation is off by default).
  assert.equal((await coreOf(c).topic(topic, true))?.partitions.length ?? 0, 0)
})

test('records of a topic deleted while producing fail with an unknown-topic error instead of retrying forever', { timeout: 60_000 }, async () => {
  const c = newClient(k, { unknownTopicRetries: 3 })
  const topic = await createTopic(c, { partitions: 2 })
  await c.produce({ topic, value: 'before' })
  const req = DeleteTopics.newRequest()
  req.topicNames = [topic]
  req.topics = [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }] // by name: a name and an id together are refused
  req.timeoutMs = 30_000
  const res = await c.request(DeleteTopics, req)
  assert.equal(res.responses[0]!.errorCode, 0)
  const start = Date.now()
  const { outcomes, done } = produceAll(c, Array.from({ length: 20 }, (_, i) => ({ topic, value: `after ${i}` })))
  await done
  await settleAgain()
  assert.ok(outcomes.every((o) => o.calls === 1), 'every callback ran once')
  for (const o of outcomes) {
    assert.ok(o.err instanceof KafkaProtocolError, String(o.err))
    assert.ok(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'].includes(o.err.code), o.err.code)
  }
  assert.ok(Date.now() - start < 30_000)
  assert.equal(c.bufferedProduceRecords, 0)
})

test('a topic created while its records wait gets them', { timeout: 60_000 }, async () => {
  const c = newClient(k, { unknownTopicRetries: 50, metadataMinAge: 100 })
  const topic = topicName('late')
  const pending = Promise.all(Array.from({ length: 20 }, (_, i) => c.produce({ topic, value: `v${i}` })))
  await new Promise((r) => setTimeout(r, 300))
  await createTopic(newClient(k), { name: topic })
  const results = await pending
  assert.deepEqual(results.map((r) => r.offset), Array.from({ length: 20 }, (_, i) => BigInt(i)))
})

test('a partition that does not exist fails its record alone with UNKNOWN_TOPIC_OR_PARTITION', { timeout: 60_000 }, async () => {
  const c = newClient(k)
  const topic = await createTopic(c, { partitions: 2 })
  const { outcomes, done } = produceAll(c, [
    { topic, partition: 1, value: 'ok' },
    { topic, partition: 2, value: 'no such partition' },
    { topic, partition: 0, value: 'ok too' },
  ])
  await done
  await settleAgain()
  assert.ok(outcomes.every((o) => o.calls === 1))
  assert.equal(outcomes[0]!.err, null)
  assert.equal(outcomes[2]!.err, null)
  const err = outcomes[1]!.err
  assert.ok(err instanceof KafkaProtocolError, String(err))
  assert.equal(err.code, 'UNKNOWN_TOPIC_OR_PARTITION')
})

test('a partitioner that throws or returns a bad index fails the record alone', { timeout: 60_000 }, async () => {
  const c = newClient(k, {
    partitioner: (r: ProduceRecord) => {
      const v = String(r.value)
      if (v === 'throw') throw new Error('partitioner exploded')
      if (v === 'bad') return 17
      return 0
    },
  })
  const topic = await createTopic(c, { partitions: 2 })
  const { outcomes, done } = produceAll(c, [{ topic, value: 'throw' }, { topic, value: 'bad' }, { topic, value: 'fine' }])
  await done
  await settleAgain()
  assert.ok(outcomes.every((o) => o.calls === 1))
  assert.match(String(outcomes[0]!.err), /partitioner exploded/)
  assert.ok(outcomes[1]!.err instanceof PartitionerError, String(outcomes[1]!.err))
  assert.equal((outcomes[1]!.err as KafkaWireError).code, 'PARTITIONER')
  assert.equal(outcomes[2]!.err, null)
})

test('tryProduce fails at once with MaxBufferedError when the buffer is full; produce waits for room', { timeout: 60_000 }, async () => {
  const c = newClient(k, { maxBufferedRecords: 10, linger: 200 })
  const topic = await createTopic(c)
  const first = Array.from({ length: 10 }, (_, i) => c.produce({ topic, value: `v${i}` }))
  let err = null as Error | null
  let calls = 0
  c.tryProduce({ topic, value: 'no room' }, (_r, e) => {
    calls++
    err = e
  })
  assert.equal(calls, 1, 'tryProduce failed at once')
  assert.ok(err instanceof MaxBufferedError, String(err))
  // produce blocks (does not fail) and goes through once the first ten are acknowledged.
  const waited = c.produce({ topic, value: 'waited' })
  await Promise.all(first)
  const w = await waited
  assert.equal(w.offset, 10n)
})
