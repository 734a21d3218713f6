// Record batches written by the Java client (Kafka's console producer, from the broker's own jars)
// with every codec, fetched back raw through the wire and decoded by records.ts to the same records.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { startKafka } from '../../src/testing/index.js'
import { Client } from '../../src/index.js'
import { Admin } from '../../src/admin/index.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { decodeRecordBatches } from '../../src/protocol/records.js'
import { coreOf } from '../../src/client/client.js'

const CODECS = [
  ['none', 0],
  ['gzip', 1],
  ['snappy', 2],
  ['lz4', 3],
  ['zstd', 4],
] as const

import { ZERO_UUID } from '../../src/protocol/reader.js'

test('batches the Java console producer writes with every codec decode to the records it was given', async (t) => {
  const k = await startKafka()
  const client = new Client({ seedBrokers: k.bootstrapServers })
  t.after(() => client.close())
  const lines = Array.from({ length: 40 }, (_, i) => ({ key: `key-${i}`, value: `{"n":${i},"text":"${'é'.repeat(i % 7)}${'x'.repeat(i * 3)}"}`, header: `h${i % 3}` }))
  for (const [codec, id] of CODECS) {
    const topic = `java-${codec}-${randomUUID()}`
    await new Admin(client).createTopic({ name: topic, partitions: 1, replicationFactor: 1 })
    // parse.headers + parse.key: "name:value<TAB>key<TAB>value" per line; a long linger puts them in few batches.
    const res = await k.runJavaTool(
      'org.apache.kafka.tools.ConsoleProducer',
      [
        '--bootstrap-server', k.bootstrapServers[0]!, '--topic', topic,
        '--reader-property', 'parse.headers=true', '--reader-property', 'parse.key=true',
        '--compression-codec', codec, '--producer-property', 'linger.ms=200', '--producer-property', 'batch.size=1000000',
      ],
      { input: lines.map((l) => `${l.header}:v-${l.key}\t${l.key}\t${l.value}`).join('\n') + '\n' },
    )
    assert.equal(res.code, 0, `ConsoleProducer (${codec}) failed:\n${res.stderr}`)
    const info = await coreOf(client).topic(topic, true)
    assert.ok(info !== undefined && info.partitions.length === 1, `metadata for ${topic}`)
    const fetched = await client.request(Fetch, (() => {
      const f = Fetch.newRequest()
      f.maxWaitMs = 0
      f.minBytes = 1
      f.maxBytes = 8 << 20
      f.topics = [{
        topic,
        topicId: info.id,
        partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 8 << 20, replicaDirectoryId: ZERO_UUID, highWatermark: 9223372036854775807n, unknownTaggedFields: undefined }],
        unknownTaggedFields: undefined,
      }]
      return f
    })())
    const pd = fetched.responses[0]!.partitions[0]!
    assert.equal(pd.errorCode, 0, `Fetch ${topic}`)
    const batches = decodeRecordBatches(pd.records!, { verifyCrc: true })
    assert.ok(batches.length >= 1, `${codec}: at least one batch`)
    for (const b of batches) {
      assert.equal(b.magic, 2, `${codec}: RecordBatch v2`)
      assert.equal(b.compression, id, `${codec}: the batch says codec ${id}`)
    }
    const records = batches.flatMap((b) => b.records)
    assert.equal(records.length, lines.length, `${codec}: every record`)
    records.forEach((r, i) => {
      const l = lines[i]!
      assert.equal(r.offset, BigInt(i), `${codec}: offsets in order`)
      assert.equal(r.key?.toString(), l.key)
      assert.equal(r.value?.toString(), l.value)
      assert.deepEqual(r.headers.map((h) => [h.key, h.value?.toString()]), [[l.header, `v-${l.key}`]])
    })
  }
})
