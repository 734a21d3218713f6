import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeRecordBatches, encodeRecordBatchBuffer, type RecordBatch } from '../../../src/protocol/records.js'
import type { Record } from '../../../src/protocol/record.js'
import { LazyRecords } from '../../../src/client/consumer/lazy-records.js'

const FIELDS = { topic: 't', partition: 2 }

/** batchAt encodes `n` records at offsets from `base` and decodes it with deferRecords (records kept as bytes). */
function batchAt(base: bigint, n: number): RecordBatch {
  const bytes = encodeRecordBatchBuffer({
    baseOffset: base,
    partitionLeaderEpoch: 7,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    compression: 0,
    records: Array.from({ length: n }, (_, i) => ({ key: `k${base + BigInt(i)}`, value: Buffer.from(`v${base + BigInt(i)}`), timestamp: 1_700_000_000_000 + i })),
  })
  const [b] = decodeRecordBatches(Buffer.from(bytes), { recordFields: FIELDS, deferRecords: true })
  assert.equal(b!.deferred!.count, n)
  return b!
}

/** partition is a LazyRecords of batches of the given sizes at offsets from 10 on, all kept as bytes. */
function partition(sizes: number[]): LazyRecords {
  const lz = new LazyRecords(FIELDS)
  let at = 10n
  for (const n of sizes) {
    lz.addBatch(batchAt(at, n), 10n)
    at += BigInt(n)
  }
  return lz
}

const offsets = (rs: Iterable<Record>) => [...rs].map((r) => Number(r.offset))
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)

test('LazyRecords.takeFirst splits a partition in offset order, at a batch boundary and inside a batch', () => {
  for (const n of [1, 4, 5, 6, 9, 12, 13]) {
    const lz = partition([5, 4, 5])
    const made: Record[] = []
    const head = lz.takeFirst(n)
    assert.equal(head.count, n)
    assert.equal(head.firstOffset, 10n)
    assert.equal(head.lastOffset, BigInt(10 + n - 1))
    assert.equal(head.lastLeaderEpoch, 7)
    head.each((r) => made.push(r))
    assert.deepEqual(offsets(made), range(10, n), `the first ${n}`)
    assert.deepEqual(made.map((r) => r.key?.toString()), range(10, n).map((o) => `k${o}`))
    assert.ok(made.every((r) => r.topic === 't' && r.partition === 2))

    assert.equal(lz.count, 14 - n, `what stays after taking ${n}`)
    assert.equal(lz.firstOffset, BigInt(10 + n))
    assert.equal(lz.lastOffset, 23n)
    assert.deepEqual(offsets(lz), range(10 + n, 14 - n))
    assert.deepEqual(offsets(lz.toArray()), range(10 + n, 14 - n))
  }
})

test('LazyRecords.takeFirst, repeated, hands out every record once and leaves whole batches unmade', () => {
  const lz = partition([3, 3, 3, 3])
  const seen: number[] = []
  for (const n of [2, 2, 4, 1, 2]) {
    const head = lz.takeFirst(n)
    seen.push(...offsets(head))
  }
  assert.equal(lz.count, 1)
  seen.push(...offsets(lz))
  assert.deepEqual(seen, range(10, 12))

  // Taking the first batch and a half makes only the batch the split falls in: the records of the
  // whole batch moved are made on each read (equal, not the same objects), the split one's are kept.
  const p = partition([3, 3, 3])
  const head = p.takeFirst(4)
  const a = [...head]
  const b = [...head]
  assert.deepEqual(offsets(a), [10, 11, 12, 13])
  assert.notEqual(a[0], b[0], 'the whole first batch is still kept as bytes')
  assert.equal(a[3], b[3], 'the split batch was made once')
  const restA = [...p]
  const restB = [...p]
  assert.deepEqual(offsets(restA), [14, 15, 16, 17, 18])
  assert.equal(restA[0], restB[0], 'the rest of the split batch is made')
  assert.notEqual(restA[2], restB[2], 'the last batch is still kept as bytes')
})

test('LazyRecords.takeFirst takes from records already made (a fetch that started inside a batch)', () => {
  const lz = new LazyRecords(FIELDS)
  lz.addBatch(batchAt(10n, 5), 12n) // made now: offsets 12–14
  lz.addBatch(batchAt(15n, 5), 12n) // kept as bytes: 15–19
  assert.equal(lz.count, 8)
  const head = lz.takeFirst(2)
  assert.deepEqual(offsets(head), [12, 13])
  assert.equal(lz.firstOffset, 14n)
  assert.deepEqual(offsets(lz), range(14, 6))
})
