// The produce path's hooks against a real broker, in franz-go's order: per record, buffered (before
// validation), partitioned, unbuffered just before the callback with the same error; per
// acknowledged batch, written with metrics that match the batch; per request, broker write, read and
// E2E; per connection, connect and disconnect. Retries must not repeat any of the per-record calls.
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { Client, coreOf } from '../../../src/client/client.js'
import type { ProduceRecord } from '../../../src/protocol/record.js'
import type { BrokerE2E, Hook, ProduceBatchMetrics } from '../../../src/hooks/index.js'
import { KafkaProtocolError } from '../../../src/protocol/errors.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { FaultProxy } from '../../fixtures/producer/fault-proxy.js'
import { broker, closeAll, createTopic, newClient, readAll, waitFor } from '../helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

type Step = 'buffered' | 'partitioned' | 'unbuffered' | 'callback'

/** recorder collects per-record hook calls and batch reports. */
function recorder() {
  const steps = new Map<ProduceRecord, Array<{ step: Step; partition?: number; leader?: number; err?: Error | null }>>()
  const note = (r: ProduceRecord, e: { step: Step; partition?: number; leader?: number; err?: Error | null }) => {
    let s = steps.get(r)
    if (s === undefined) steps.set(r, (s = []))
    s.push(e)
  }
  const batches: Array<{ topic: string; partition: number; m: ProduceBatchMetrics }> = []
  const hooks: Hook<Client> = {
    onProduceRecordBuffered: (r) => note(r, { step: 'buffered', partition: r.partition ?? -1 }),
    onProduceRecordPartitioned: (r, leader) => note(r, { step: 'partitioned', partition: r.partition!, leader }),
    onProduceRecordUnbuffered: (r, err) => note(r, { step: 'unbuffered', err }),
    onProduceBatchWritten: (_m, topic, partition, m) => batches.push({ topic, partition, m }),
  }
  return { steps, note, batches, hooks }
}

test('produce hooks run once per record in order, batches are reported with their metrics, and requests and connections are observed', { timeout: 60_000 }, async () => {
  const rec = recorder()
  const writes: Array<{ node: number; bytes: number; err: Error | null }> = []
  const reads: Array<{ node: number; bytes: number; err: Error | null }> = []
  const e2e: BrokerE2E[] = []
  const connects: Array<{ node: number; socket: Socket | null; err: Error | null }> = []
  const disconnects: Socket[] = []
  const hooks: Hook<Client>[] = [
    rec.hooks,
    {
      onBrokerWrite: (m, key, bytes, _w, _t, err) => key === 0 && writes.push({ node: m.nodeId, bytes, err }),
      onBrokerRead: (m, key, bytes, _w, _t, err) => key === 0 && reads.push({ node: m.nodeId, bytes, err }),
      onBrokerE2E: (_m, key, x) => key === 0 && e2e.push(x),
      onBrokerConnect: (m, _d, socket, err) => connects.push({ node: m.nodeId, socket, err }),
      onBrokerDisconnect: (_m, socket) => disconnects.push(socket),
    },
  ]
  const c = newClient(k, { hooks, producerBatchCompression: ['lz4'], linger: 20 })
  const topic = await createTopic(c, { partitions: 3 })
  const leader = (await coreOf(c).topic(topic))!.partitions[0]!.leader
  const n = 1_000
  const records: ProduceRecord[] = Array.from({ length: n }, (_, i) => ({ topic, key: `k${i}`, value: `${'compress me '.repeat(20)}${i}` }))
  await new Promise<void>((resolve) => {
    let left = n
    for (const r of records) {
      c.produce(r, (got, err) => {
        rec.note(got, { step: 'callback', err })
        if (--left === 0) resolve()
      })
    }
  })

  for (const [i, r] of records.entries()) {
    const s = rec.steps.get(r)!
    assert.deepEqual(s.map((x) => x.step), ['buffered', 'partitioned', 'unbuffered', 'callback'], `record ${i}`)
    assert.equal(s[0]!.partition, -1, 'buffered runs before the record is partitioned')
    assert.equal(s[1]!.partition, r.partition, 'partitioned sees the final partition')
    assert.equal(s[1]!.leader, leader)
    assert.equal(s[2]!.err, null)
    assert.equal(s[3]!.err, null)
  }

  // Batch reports run apart from the callbacks: wait for them, then check they add up.
  await waitFor(() => rec.batches.reduce((a, b) => a + b.m.numRecords, 0) >= n, 'every batch to be reported written')
  const stored = await readAll(c, topic)
  for (let p = 0; p < 3; p++) {
    const mine = rec.batches.filter((b) => b.partition === p)
    assert.equal(mine.reduce((a, b) => a + b.m.numRecords, 0), stored[p]!.length, `partition ${p}: reported records = stored records`)
  }
  for (const b of rec.batches) {
    assert.equal(b.topic, topic)
    assert.equal(b.m.compressionType, 3, 'lz4')
    assert.ok(b.m.compressedBytes > 0 && b.m.compressedBytes < b.m.uncompressedBytes, `compressed ${b.m.compressedBytes} < ${b.m.uncompressedBytes}`)
  }

  // Every produce request was written, read and reported end to end, once.
  assert.ok(writes.length >= 1)
  assert.equal(reads.length, writes.length)
  assert.equal(e2e.length, writes.length)
  assert.ok(writes.every((w) => w.err === null && w.bytes > 0 && w.node === leader))
  assert.ok(reads.every((r) => r.err === null && r.bytes > 0))
  assert.equal(e2e.reduce((a, x) => a + x.bytesWritten, 0), writes.reduce((a, w) => a + w.bytes, 0))
  assert.equal(e2e.reduce((a, x) => a + x.bytesRead, 0), reads.reduce((a, r) => a + r.bytes, 0))
  assert.ok(e2e.every((x) => x.err() === null && x.durationE2E() >= 0))

  // Each connection opened is reported closed once by close().
  await c.close()
  const opened = connects.filter((x) => x.err === null).map((x) => x.socket!)
  assert.ok(opened.length >= 2, `${opened.length} connections`)
  assert.ok(connects.some((x) => x.node === leader), 'the leader was connected to')
  assert.deepEqual(new Set(disconnects), new Set(opened), 'every opened connection was reported disconnected')
  assert.equal(disconnects.length, opened.length, 'once each')
})

test('retries repeat no record hook and report each batch written once; a failed record is unbuffered with its callback error', { timeout: 60_000 }, async () => {
  const proxy = await FaultProxy.start(k.bootstrapServers[0]!)
  try {
    const rec = recorder()
    const c = newClient(k, { seedBrokers: [proxy.address], hooks: rec.hooks, linger: 5 })
    const topic = await createTopic(c, { partitions: 2 })
    proxy.faults.push({ kind: 'reject', code: 6 }, { kind: 'lose-ack', code: 20 }, { kind: 'cut' }, { kind: 'reject', code: 19 })
    const records: ProduceRecord[] = Array.from({ length: 600 }, (_, i) => ({ topic, partition: i % 2, value: `v${i}` }))
    for (let wave = 0; wave < 4; wave++) {
      await Promise.all(records.slice(wave * 150, (wave + 1) * 150).map((r) => c.produce(r)))
    }
    assert.equal(proxy.faulted, 4)
    for (const [i, r] of records.entries()) {
      assert.deepEqual(rec.steps.get(r)!.map((x) => x.step), ['buffered', 'partitioned', 'unbuffered'], `record ${i}`)
    }
    await waitFor(() => rec.batches.reduce((a, b) => a + b.m.numRecords, 0) >= records.length, 'every batch to be reported')
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(rec.batches.reduce((a, b) => a + b.m.numRecords, 0), records.length, 'no batch is reported twice, none before it was acknowledged')

    // A record that fails after retries: unbuffered carries the callback's error object.
    const failing = newClient(k, { seedBrokers: [proxy.address], hooks: rec.hooks, recordRetries: 1, retryBackoff: 20 })
    proxy.faults.push({ kind: 'reject', code: 19 }, { kind: 'reject', code: 19 })
    const r: ProduceRecord = { topic, partition: 0, value: 'doomed' }
    const err = await new Promise<Error | null>((resolve) => failing.produce(r, (got, e) => {
      rec.note(got, { step: 'callback', err: e })
      resolve(e)
    }))
    assert.ok(err instanceof KafkaProtocolError && err.code === 'NOT_ENOUGH_REPLICAS', String(err))
    const s = rec.steps.get(r)!
    assert.deepEqual(s.map((x) => x.step), ['buffered', 'partitioned', 'unbuffered', 'callback'])
    assert.equal(s[2]!.err, err, 'the same error object')
  } finally {
    await closeAll()
    await proxy.close()
  }
})
