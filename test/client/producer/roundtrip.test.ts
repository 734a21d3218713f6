// Records produced by kafka-wire and read back from a real broker with Fetch: keys, values and
// headers byte for byte (duplicates, empties, nulls), timestamps, tombstones; acks 0, 1 and all;
// every codec.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { ProduceRecord } from '../../../src/protocol/record.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, listOffsets, newClient, readAll, str, waitFor, type FetchedRecord } from '../helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

const bytes = (v: Buffer | string | null | undefined): Buffer | null => (v === null || v === undefined ? null : Buffer.from(v))

/** sameRecord asserts that a fetched record holds exactly what was produced. */
function sameRecord(got: FetchedRecord, want: ProduceRecord, what: string): void {
  assert.deepEqual(got.key, bytes(want.key), `${what}: key`)
  assert.deepEqual(got.value, bytes(want.value), `${what}: value`)
  assert.deepEqual(
    got.headers,
    (want.headers ?? []).map((h) => ({ key: h.key, value: bytes(h.value) })),
    `${what}: headers`,
  )
  assert.equal(got.timestamp, want.timestamp, `${what}: timestamp`)
}

test('keys, values, headers, timestamps, null keys and tombstones round-trip byte for byte', { timeout: 60_000 }, async () => {
  const c = newClient(k)
  const topic = await createTopic(c, { partitions: 1 })
  const now = Date.now()
  const big = Buffer.alloc(300_000, 7)
  big.write('the end', big.length - 7)
  const records: ProduceRecord[] = [
    { topic, key: Buffer.from([0, 1, 2, 255]), value: Buffer.from([9, 8, 7]) },
    { topic, key: 'string key', value: 'string value' },
    { topic, key: null, value: 'null key' },
    { topic, value: 'no key at all' },
    { topic, key: '', value: 'empty string key (not null)' },
    { topic, key: Buffer.alloc(0), value: Buffer.alloc(0) },
    { topic, key: 'tombstone', value: null },
    { topic, key: null, value: null },
    { topic, key: 'ünïcødé 🎉 键', value: 'värdé — 值 — 🚀' },
    { topic, key: 'dup headers', value: 'v', headers: [{ key: 'h', value: '1' }, { key: 'h', value: '2' }, { key: 'a', value: '3' }, { key: 'h', value: '1' }] },
    { topic, key: 'empty headers', value: 'v', headers: [{ key: '', value: '' }, { key: 'null', value: null }, { key: 'empty', value: Buffer.alloc(0) }] },
    { topic, key: 'binary header', value: 'v', headers: [{ key: 'ünï', value: Buffer.from([0, 0xff, 0x80]) }] },
    { topic, key: 'no headers', value: 'v', headers: [] },
    { topic, key: 'old timestamp', value: 'v', timestamp: 1_000_000_000_123 },
    { topic, key: 'epoch', value: 'v', timestamp: 0 },
    { topic, key: 'future', value: 'v', timestamp: now + 3_600_000 },
    { topic, key: 'earlier than the one before', value: 'v', timestamp: now - 86_400_000 },
    { topic, key: 'big', value: big },
    { topic, key: Buffer.from('Uint8Array'), value: new Uint8Array([1, 2, 3]) as Buffer },
  ]
  const before = Date.now()
  const results = await Promise.all(records.map((r) => c.produce(r)))
  const afterProduce = Date.now()
  results.forEach((r, i) => {
    assert.equal(r, records[i], 'produce resolves with the record it was given')
    assert.equal(r.partition, 0)
    assert.equal(typeof r.offset, 'bigint')
    assert.ok(r.offset >= 0n)
  })
  // One partition, produced in order: offsets are 0..n-1 in produce order.
  assert.deepEqual(results.map((r) => r.offset), records.map((_, i) => BigInt(i)))
  // A record without a timestamp gets the time of produce().
  for (const r of results.slice(0, 13)) assert.ok(r.timestamp >= before && r.timestamp <= afterProduce, `${String(r.key)}: ${r.timestamp}`)
  const [stored] = await readAll(c, topic)
  assert.equal(stored!.length, records.length)
  stored!.forEach((got, i) => {
    assert.equal(got.offset, BigInt(i))
    assert.equal(got.timestampType, 'create')
    sameRecord(got, records[i]!, `record ${i} (${str(got.key)})`)
  })
  // A null key and an empty key are different things on the wire.
  assert.equal(stored![2]!.key, null)
  assert.equal(stored![3]!.key, null)
  assert.deepEqual(stored![4]!.key, Buffer.alloc(0))
  assert.equal(stored![6]!.value, null, 'a tombstone has a null value')
  assert.deepEqual(stored![5]!.value, Buffer.alloc(0), 'an empty value is not a tombstone')
})

test('a LogAppendTime topic hands back the broker time, not the producer time', { timeout: 60_000 }, async () => {
  const c = newClient(k)
  const topic = await createTopic(c, { configs: { 'message.timestamp.type': 'LogAppendTime' } })
  const t0 = Date.now()
  const r = await c.produce({ topic, value: 'v', timestamp: 1_000 })
  assert.ok(r.timestamp >= t0 - 5_000 && r.timestamp <= Date.now() + 5_000, `got ${r.timestamp}`)
  const [stored] = await readAll(c, topic)
  assert.equal(stored![0]!.timestampType, 'log-append')
  assert.equal(stored![0]!.timestamp, r.timestamp)
})

for (const acks of [0, 1, 'all'] as const) {
  for (const idempotent of acks === 'all' ? [true, false] : [false]) {
    test(`acks ${acks}${idempotent ? ', idempotent' : ''}: every record is stored once, in order`, { timeout: 60_000 }, async () => {
      const c = newClient(k, { requiredAcks: acks, disableIdempotentWrite: !idempotent, linger: 5 })
      const topic = await createTopic(c, { partitions: 3 })
      // A new topic's leaders can refuse the first produce for a moment after metadata names them.
      // With acks 0 Kafka answers a refusal by closing the connection and the request's records are
      // lost, which is the protocol, not a client failure: first wait until every leader answers
      // (listOffsets retries leader errors).
      if (acks === 0) await listOffsets(c, topic, 3)
      const n = 3_000
      const results = await Promise.all(Array.from({ length: n }, (_, i) => c.produce({ topic, partition: i % 3, key: `k${i}`, value: `v${i}` })))
      // acks 0 settles a record once it is written to the socket, before the broker appended it: wait
      // until the logs hold every record (a ListOffsets can overtake the last produce requests).
      if (acks === 0) {
        let ends: bigint[] = []
        await waitFor(async () => (ends = await listOffsets(c, topic, 3)).every((o) => o >= BigInt(n / 3)), 'the acks 0 records to be appended').catch((err: Error) => {
          // Say how far each partition got.
          throw new Error(`${err.message}; the partitions' ends: ${ends.join(', ')} of ${n / 3} each`)
        })
      }
      const stored = await readAll(c, topic)
      for (let p = 0; p < 3; p++) {
        const values = stored[p]!.map((r) => str(r.value))
        const want = Array.from({ length: n / 3 }, (_, j) => `v${j * 3 + p}`)
        assert.deepEqual(values, want, `partition ${p} holds its records once each, in produce order`)
        stored[p]!.forEach((r, j) => assert.equal(r.offset, BigInt(j)))
        for (const r of stored[p]!) {
          if (idempotent) assert.ok(r.producerId >= 0n && r.sequence >= 0, 'idempotent batches carry a producer id and sequences')
          else assert.equal(r.producerId, -1n, 'non-idempotent batches carry no producer id')
        }
      }
      for (const [i, r] of results.entries()) {
        assert.equal(r.partition, i % 3)
        if (acks === 0) {
          // The broker does not answer acks 0 produce requests: no offset is known.
          assert.equal(r.offset, -1n)
        } else {
          assert.equal(r.offset, BigInt(Math.floor(i / 3)), `record ${i}`)
        }
      }
    })
  }
}

for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`codec ${codec}: batches are stored compressed with it and read back identical`, { timeout: 60_000 }, async () => {
    const c = newClient(k, { producerBatchCompression: [codec], linger: 20 })
    const topic = await createTopic(c, { partitions: 2 })
    const records: ProduceRecord[] = Array.from({ length: 2_000 }, (_, i) => ({
      topic,
      key: i % 10 === 0 ? null : `key-${i % 37}`,
      value: i % 17 === 0 ? null : `${'compressible '.repeat(i % 50)}${i}`,
      headers: i % 3 === 0 ? [{ key: 'n', value: String(i) }, { key: 'n', value: null }] : [],
      timestamp: 1_700_000_000_000 + i,
    }))
    const results = await Promise.all(records.map((r) => c.produce(r)))
    const stored = await readAll(c, topic)
    const id = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[codec]
    let seen = 0
    for (let p = 0; p < 2; p++) {
      for (const got of stored[p]!) {
        assert.equal(got.compression, id, `stored with ${codec}`)
        const i = results.findIndex((r) => r.partition === p && r.offset === got.offset)
        assert.ok(i >= 0, `the record at ${p}/${got.offset} was produced`)
        sameRecord(got, records[i]!, `record ${i}`)
        seen++
      }
    }
    assert.equal(seen, records.length)
  })
}
