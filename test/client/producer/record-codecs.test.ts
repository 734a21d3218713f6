// The codecs of produced batches. A record's own codec (RECORD_CODEC, honoured when the producer's
// recordCodecs is set: the KafkaJS facade's per-send compression inside a transaction): records of
// different codecs never share a batch, each batch is stored with its records' codec, and without the
// switch the property is not read. The `compressor` and `decompressor` options (franz-go's
// WithCompressor and WithDecompressor): batches are compressed and decompressed by the application's
// code instead of the built-in codecs, the broker stores what it returned under the codec
// producerBatchCompression names, and a compressor or decompressor that fails costs only its own
// batch: the records of a batch that could not be compressed are failed and not written, and a batch
// that could not be decompressed is reported as corrupt.
import assert from 'node:assert/strict'
import { gunzipSync, gzipSync } from 'node:zlib'
import { after, before, test } from 'node:test'
import { producerOf, type Client } from '../../../src/client/client.js'
import { RECORD_CODEC } from '../../../src/client/producer/producer.js'
import type { ProduceRecord } from '../../../src/protocol/record.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { InvalidOptionError } from '../../../src/client/errors.js'
import { ProtocolDecodeError, ProtocolEncodeError } from '../../../src/protocol/errors.js'
import type { Compressor, Decompressor } from '../../../src/index.js'
import { broker, closeAll, createTopic, listOffsets, newClient, readStored } from '../helpers.js'

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

/** gzip9 is a compressor of the application's own: zlib at level 9, counting its calls and the codecs asked for. */
function gzip9(failOn?: string): Compressor & { calls: number; codecs: string[] } {
  return {
    calls: 0,
    codecs: [],
    compress(data, codec) {
      this.calls++
      this.codecs.push(codec)
      if (failOn !== undefined && Buffer.from(data).includes(failOn)) throw new Error(`refusing ${failOn}`)
      return gzipSync(data, { level: 9 })
    },
  }
}

/** read reads partition 0 of `topic` back, with the decompressor given. */
const read = (topic: string, n: number, decompressor?: Decompressor) => readStored(k, topic, n, decompressor ? { decompressor } : {})

test('a compressor compresses every batch with the codec producerBatchCompression names, and the broker stores its output', async () => {
  const topic = await createTopic(admin)
  const compressor = gzip9()
  const client = newClient(k, { producerBatchCompression: ['gzip'], compressor, linger: 0 })
  const values = Array.from({ length: 30 }, (_, i) => `value ${i} `.repeat(20))
  for (let i = 0; i < values.length; i += 10) await client.produceSync(values.slice(i, i + 10).map((value) => ({ topic, partition: 0, value })))
  const got = await read(topic, values.length)
  assert.deepEqual(got.errors, [])
  assert.deepEqual(got.values, values)
  // Every stored batch is gzip, and each was compressed by the application's compressor, once.
  assert.ok(got.codecs.length >= 3, `${got.codecs.length} batches`)
  assert.deepEqual(new Set(got.codecs), new Set([1]))
  assert.equal(compressor.calls, got.codecs.length)
  assert.deepEqual(new Set(compressor.codecs), new Set(['gzip']))
})

test('a decompressor decompresses every fetched batch, within the bound it is given', async () => {
  const topic = await createTopic(admin)
  const writer = newClient(k, { producerBatchCompression: ['gzip'], linger: 0 })
  const values = Array.from({ length: 20 }, (_, i) => `v${i}`.repeat(50))
  for (let i = 0; i < values.length; i += 5) await writer.produceSync(values.slice(i, i + 5).map((value) => ({ topic, partition: 0, value })))
  const bounds: number[] = []
  const decompressor = {
    calls: 0,
    decompress(data: Uint8Array, codec: string, maxOutputBytes: number) {
      assert.equal(codec, 'gzip')
      this.calls++
      bounds.push(maxOutputBytes)
      return gunzipSync(data, { maxOutputLength: maxOutputBytes })
    },
  }
  const got = await read(topic, values.length, decompressor)
  assert.deepEqual(got.errors, [])
  assert.deepEqual(got.values, values)
  assert.equal(decompressor.calls, got.codecs.length)
  assert.ok(bounds.every((b) => b > 0 && Number.isSafeInteger(b)), `bounds ${bounds.join(', ')}`)
})

test('a batch the compressor throws for fails its records with a ProtocolEncodeError and writes nothing; the batches around it are written', async () => {
  const topic = await createTopic(admin)
  const client = newClient(k, { producerBatchCompression: ['gzip'], compressor: gzip9('poison'), linger: 0 })
  const first = await client.produce({ topic, partition: 0, value: 'before' })
  const failed = await client.produce({ topic, partition: 0, value: 'poison' }).then(
    () => null,
    (err: unknown) => err,
  )
  assert.ok(failed instanceof ProtocolEncodeError, `got ${String(failed)}`)
  assert.match(String((failed as Error & { cause?: Error }).cause?.message), /refusing poison/)
  const last = await client.produce({ topic, partition: 0, value: 'after' })
  // The failed record took no offset and no sequence number: the next one follows the first directly.
  assert.equal(last.offset, first.offset + 1n)
  assert.deepEqual(await listOffsets(admin, topic, 1), [2n])
  assert.deepEqual((await read(topic, 2)).values, ['before', 'after'])
})

test('a batch the decompressor throws for, or answers over the bound, is reported as corrupt, not handed out', async () => {
  const topic = await createTopic(admin)
  const writer = newClient(k, { producerBatchCompression: ['gzip'], linger: 0 })
  await writer.produceSync([{ topic, partition: 0, value: 'x'.repeat(1000) }])
  const throwing = { decompress: () => { throw new Error('no gzip today') } }
  const a = await read(topic, 1, throwing)
  assert.deepEqual(a.values, [])
  assert.ok(a.errors[0] instanceof ProtocolDecodeError, `got ${String(a.errors[0])}`)
  assert.match(a.errors[0]!.message, /no gzip today/)
  const tooLarge = { decompress: (_d: Uint8Array, _c: string, max: number) => Buffer.alloc(max + 1) }
  const b = await read(topic, 1, tooLarge)
  assert.deepEqual(b.values, [])
  assert.ok(b.errors[0] instanceof ProtocolDecodeError, `got ${String(b.errors[0])}`)
  assert.match(b.errors[0]!.message, /over maxOutputBytes/)
})

test('compressor and decompressor must have their method', () => {
  assert.throws(() => newClient(k, { compressor: {} as Compressor }), (e: unknown) => e instanceof InvalidOptionError && /compress\(\)/.test(e.message))
  assert.throws(() => newClient(k, { decompressor: { compress: () => Buffer.alloc(0) } as unknown as Decompressor }), (e: unknown) => e instanceof InvalidOptionError && /decompress\(\)/.test(e.message))
})
