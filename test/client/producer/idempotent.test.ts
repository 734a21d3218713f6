// 100,000 idempotent records over 6 partitions: every callback settles once, each partition's
// offsets are contiguous from 0, and what the broker stored matches what each callback reported.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { ProduceRecord } from '../../../src/protocol/record.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readAll } from '../helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

test('100,000 idempotent records over 6 partitions: offsets contiguous per partition, nothing lost or doubled', { timeout: 120_000 }, async (t) => {
  const c = newClient(k)
  const topic = await createTopic(c, { partitions: 6 })
  const n = 100_000
  const settled = new Uint8Array(n)
  const partitionOf = new Int32Array(n).fill(-1)
  const offsetOf = new Array<bigint>(n)
  const errors: Error[] = []
  const value = Buffer.alloc(100, 'x')
  const start = performance.now()
  await new Promise<void>((resolve) => {
    let left = n
    for (let i = 0; i < n; i++) {
      // Keys spread the records over every partition with the default (murmur2) partitioner.
      const rec: ProduceRecord = { topic, key: `key-${i}`, value }
      c.produce(rec, (r, err) => {
        settled[i]!++
        if (err) errors.push(err)
        else {
          partitionOf[i] = r.partition!
          offsetOf[i] = r.offset!
        }
        if (--left === 0) resolve()
      })
    }
  })
  const ms = performance.now() - start
  t.diagnostic(`produced ${n} records in ${ms.toFixed(0)} ms: ${Math.round(n / (ms / 1000))} records/s`)
  assert.deepEqual(errors, [])
  assert.ok(settled.every((s) => s === 1), 'every callback ran exactly once')
  assert.equal(c.bufferedProduceRecords, 0)

  // What the callbacks reported: per partition, offsets 0..count-1, each once.
  const perPartition: number[][] = Array.from({ length: 6 }, () => [])
  for (let i = 0; i < n; i++) perPartition[partitionOf[i]!]!.push(i)
  for (let p = 0; p < 6; p++) {
    const offs = perPartition[p]!.map((i) => offsetOf[i]!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    assert.ok(offs.length > n / 12, `partition ${p} got a fair share (${offs.length})`)
    offs.forEach((o, j) => assert.equal(o, BigInt(j), `partition ${p}: offset ${j} reported once`))
    // Records of one partition keep their produce order.
    const inOrder = perPartition[p]!.map((i) => offsetOf[i]!)
    for (let j = 1; j < inOrder.length; j++) assert.ok(inOrder[j]! > inOrder[j - 1]!, `partition ${p}: order kept`)
  }

  // What the broker stored: the same records at the same offsets, sequences contiguous per partition.
  const stored = await readAll(c, topic)
  let total = 0
  for (let p = 0; p < 6; p++) {
    const recs = stored[p]!
    total += recs.length
    assert.equal(recs.length, perPartition[p]!.length, `partition ${p} holds exactly the records reported`)
    recs.forEach((r, j) => {
      assert.equal(r.offset, BigInt(j))
      const i = perPartition[p]![j]!
      assert.equal(r.key!.toString(), `key-${i}`, `partition ${p} offset ${j}`)
    })
    const pid = recs[0]!.producerId
    assert.ok(pid >= 0n)
    recs.forEach((r, j) => {
      assert.equal(r.producerId, pid)
      assert.equal(r.sequence, j, `partition ${p}: sequence ${j}`)
    })
  }
  assert.equal(total, n)
})
