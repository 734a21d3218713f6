// A record's own codec (RECORD_CODEC, honoured when the producer's recordCodecs is set: the KafkaJS
// facade's per-send compression inside a transaction): records of different codecs never share a
// batch, each batch is stored with its records' codec, and without the switch the property is not read.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { producerOf, type Client } from '../../../src/client/client.js'
import { RECORD_CODEC } from '../../../src/client/producer/producer.js'
import type { ProduceRecord } from '../../../src/protocol/record.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readStored } from '../helpers.js'

let k: KafkaCluster
let admin: Client

before(async () => {
  k = await broker()
  admin = newClient(k)
})

after(closeAll)

/** stored reads partition 0 of `topic` from the start: each batch's codec and every value, in log order. */
const stored = (topic: string, records: number) => readStored(k, topic, records)

test('records of different codecs go in different batches, each stored with its codec, in produce order', async () => {
  const topic = await createTopic(admin)
  const client = newClient(k, { linger: 200 })
  producerOf(client).recordCodecs = true
  const codecs = [0, 1, 1, 3, 3, 3, 0, 4, 4] as const
  const records = codecs.map((codec, i): ProduceRecord & { [RECORD_CODEC]?: number } => ({ topic, partition: 0, value: `v${i}`, [RECORD_CODEC]: codec }))
  // One turn: every record is buffered before any batch can go, so only the codecs split them.
  const settled = await Promise.all(records.map((r) => client.produce(r)))
  assert.deepEqual(settled.map((r) => Number(r.offset)), [0, 1, 2, 3, 4, 5, 6, 7, 8])
  const got = await stored(topic, codecs.length)
  assert.deepEqual(got.codecs, [0, 1, 3, 0, 4])
  assert.deepEqual(got.values, records.map((r) => r.value))
})

test('without recordCodecs a record\'s codec is not read: the client\'s codec holds for every batch', async () => {
  const topic = await createTopic(admin)
  const client = newClient(k, { linger: 200, producerBatchCompression: ['gzip'] })
  const records = [0, 3, 4].map((codec, i): ProduceRecord & { [RECORD_CODEC]?: number } => ({ topic, partition: 0, value: `v${i}`, [RECORD_CODEC]: codec }))
  await Promise.all(records.map((r) => client.produce(r)))
  const got = await stored(topic, records.length)
  assert.deepEqual(got.codecs, [1])
  assert.deepEqual(got.values, ['v0', 'v1', 'v2'])
})
