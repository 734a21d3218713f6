// The hook contract against a real broker, kept by a ledger: one object implementing all 18 hooks
// records every call with a sequence number, and the tests check what franz-go promises
// (reference/franz-go.md §1): every buffered record unbuffered exactly once and before its promise, the
// record lifecycle order of §1.4, batch metrics that add up to the records, write/read bytes equal to
// the E2E totals, a connect call per attempt with its error, and throttles from a real client quota.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import { after, before, test } from 'node:test'
import {
  BrokerE2E,
  Client,
  hookNames,
  seedNodeId,
  type AllHooks,
  type BrokerMetadata,
  type FetchBatchMetrics,
  type HookName,
  type ProduceBatchMetrics,
  type ProduceRecord,
  type Record,
} from '../../src/index.js'
import { AddPartitionsToTxn } from '../../src/protocol/messages/add-partitions-to-txn.js'
import { EndTxn } from '../../src/protocol/messages/end-txn.js'
import { InitProducerId } from '../../src/protocol/messages/init-producer-id.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { encodeRecordBatchBuffer } from '../../src/protocol/records.js'
import { freePorts, type KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, waitFor } from '../client/helpers.js'
import { coreOf } from '../../src/client/client.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

interface Call {
  seq: number
  /** at is performance.now() when the hook ran. */
  at: number
}
interface ProducedEntry {
  buffered: number[]
  partitioned: Array<Call & { partition: number; leader: number }>
  unbuffered: Array<Call & { err: Error | null }>
}
interface FetchedEntry {
  buffered: number[]
  /** batchRead is what onFetchBatchRead had counted for the record's partition when it was buffered. */
  batchRead: number
  unbuffered: Array<Call & { polled: boolean; poll: number }>
}

const tp = (topic: string, partition: number) => `${topic}\u0000${partition}`

/**
 * Ledger implements every hook and writes each call down in order. It checks nothing itself: the
 * tests read it. `seq` orders hook calls and the test's own events (`mark`) on one line.
 */
class Ledger implements AllHooks<Client> {
  seq = 0
  readonly counts = new Map<HookName, number>()
  readonly newClients: Array<Call & { client: Client }> = []
  readonly closedClients: Array<Call & { client: Client }> = []
  readonly connects: Array<Call & { meta: BrokerMetadata; initDuration: number; socket: Socket | null; err: Error | null }> = []
  readonly disconnects: Array<Call & { meta: BrokerMetadata; socket: Socket }> = []
  readonly writes: Array<Call & { key: number; bytes: number; writeWait: number; timeToWrite: number; err: Error | null }> = []
  readonly reads: Array<Call & { key: number; bytes: number; readWait: number; timeToRead: number; err: Error | null }> = []
  readonly e2es: Array<Call & { key: number; e2e: BrokerE2E }> = []
  readonly throttles: Array<Call & { meta: BrokerMetadata; interval: number; afterResponse: boolean }> = []
  readonly groupErrors: Array<Call & { err: Error }> = []
  readonly batchesWritten: Array<Call & { meta: BrokerMetadata; topic: string; partition: number; m: ProduceBatchMetrics; partitionedBefore: number }> = []
  readonly batchesRead: Array<Call & { meta: BrokerMetadata; topic: string; partition: number; m: FetchBatchMetrics }> = []
  readonly produced = new Map<ProduceRecord, ProducedEntry>()
  readonly fetched = new Map<Record, FetchedEntry>()
  readonly pollStarts: Array<Call & { signal: AbortSignal | undefined }> = []
  readonly transactionEnds: Array<Call & { transactionalId: string; committed: boolean; err: Error | null }> = []
  /** partitioned counts records partitioned so far, per topic and partition. */
  readonly partitioned = new Map<string, number>()
  /** batchRead sums onFetchBatchRead's numRecords so far, per topic and partition. */
  readonly batchRead = new Map<string, number>()

  #call(name: HookName): Call {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1)
    return { seq: this.seq++, at: performance.now() }
  }

  /** mark puts a test event on the ledger's line. */
  mark(): number {
    return this.seq++
  }

  count(name: HookName): number {
    return this.counts.get(name) ?? 0
  }

  onNewClient(client: Client): void {
    this.newClients.push({ ...this.#call('onNewClient'), client })
  }
  onClientClosed(client: Client): void {
    this.closedClients.push({ ...this.#call('onClientClosed'), client })
  }
  onBrokerConnect(meta: BrokerMetadata, initDuration: number, socket: Socket | null, err: Error | null): void {
    this.connects.push({ ...this.#call('onBrokerConnect'), meta, initDuration, socket, err })
  }
  onBrokerDisconnect(meta: BrokerMetadata, socket: Socket): void {
    this.disconnects.push({ ...this.#call('onBrokerDisconnect'), meta, socket })
  }
  onBrokerWrite(_meta: BrokerMetadata, key: number, bytes: number, writeWait: number, timeToWrite: number, err: Error | null): void {
    this.writes.push({ ...this.#call('onBrokerWrite'), key, bytes, writeWait, timeToWrite, err })
  }
  onBrokerRead(_meta: BrokerMetadata, key: number, bytes: number, readWait: number, timeToRead: number, err: Error | null): void {
    this.reads.push({ ...this.#call('onBrokerRead'), key, bytes, readWait, timeToRead, err })
  }
  onBrokerE2E(_meta: BrokerMetadata, key: number, e2e: BrokerE2E): void {
    this.e2es.push({ ...this.#call('onBrokerE2E'), key, e2e })
  }
  onBrokerThrottle(meta: BrokerMetadata, interval: number, afterResponse: boolean): void {
    this.throttles.push({ ...this.#call('onBrokerThrottle'), meta, interval, afterResponse })
  }
  onGroupManageError(err: Error): void {
    this.groupErrors.push({ ...this.#call('onGroupManageError'), err })
  }
  onProduceBatchWritten(meta: BrokerMetadata, topic: string, partition: number, m: ProduceBatchMetrics): void {
    this.batchesWritten.push({ ...this.#call('onProduceBatchWritten'), meta, topic, partition, m, partitionedBefore: this.partitioned.get(tp(topic, partition)) ?? 0 })
  }
  onFetchBatchRead(meta: BrokerMetadata, topic: string, partition: number, m: FetchBatchMetrics): void {
    this.batchesRead.push({ ...this.#call('onFetchBatchRead'), meta, topic, partition, m })
    this.batchRead.set(tp(topic, partition), (this.batchRead.get(tp(topic, partition)) ?? 0) + m.numRecords)
  }
  onProduceRecordBuffered(record: ProduceRecord): void {
    const c = this.#call('onProduceRecordBuffered')
    let e = this.produced.get(record)
    if (e === undefined) this.produced.set(record, (e = { buffered: [], partitioned: [], unbuffered: [] }))
    e.buffered.push(c.seq)
  }
  onProduceRecordPartitioned(record: ProduceRecord, leader: number): void {
    const c = this.#call('onProduceRecordPartitioned')
    this.produced.get(record)?.partitioned.push({ ...c, partition: record.partition!, leader })
    this.partitioned.set(tp(record.topic, record.partition!), (this.partitioned.get(tp(record.topic, record.partition!)) ?? 0) + 1)
  }
  onProduceRecordUnbuffered(record: ProduceRecord, err: Error | null): void {
    const c = this.#call('onProduceRecordUnbuffered')
    this.produced.get(record)?.unbuffered.push({ ...c, err })
  }
  onFetchRecordBuffered(record: Record): void {
    const c = this.#call('onFetchRecordBuffered')
    let e = this.fetched.get(record)
    if (e === undefined) this.fetched.set(record, (e = { buffered: [], batchRead: 0, unbuffered: [] }))
    e.buffered.push(c.seq)
    e.batchRead = this.batchRead.get(tp(record.topic, record.partition)) ?? 0
  }
  onFetchRecordUnbuffered(record: Record, polled: boolean): void {
    const c = this.#call('onFetchRecordUnbuffered')
    this.fetched.get(record)?.unbuffered.push({ ...c, polled, poll: this.pollStarts.length })
  }
  onPollStart(signal: AbortSignal | undefined): void {
    this.pollStarts.push({ ...this.#call('onPollStart'), signal })
  }

  onTransactionEnd(transactionalId: string, committed: boolean, err: Error | null): void {
    this.transactionEnds.push({ ...this.#call('onTransactionEnd'), transactionalId, committed, err })
  }
}

/** firstAfter returns the first element of an ascending array above `v`, or Infinity. */
function firstAfter(sorted: number[], v: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= v) lo = mid + 1
    else hi = mid
  }
  return lo < sorted.length ? sorted[lo]! : Infinity
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

/**
 * assertBrokerIO checks a closed client's broker hooks: one E2E per request written, the bytes the
 * write and read hooks reported equal to the E2E totals, and every connection that opened closed once.
 */
function assertBrokerIO(l: Ledger, who: string): void {
  assert.ok(l.writes.length > 0, `${who}: requests were written`)
  assert.equal(l.e2es.length, l.writes.length, `${who}: one onBrokerE2E per request written`)
  assert.equal(l.reads.length, l.e2es.filter((e) => e.e2e.writeErr === null).length, `${who}: one onBrokerRead per request that was written without error`)
  assert.equal(sum(l.writes.map((w) => w.bytes)), sum(l.e2es.map((e) => e.e2e.bytesWritten)), `${who}: bytes written`)
  assert.equal(sum(l.reads.map((r) => r.bytes)), sum(l.e2es.map((e) => e.e2e.bytesRead)), `${who}: bytes read`)
  for (const key of new Set(l.writes.map((w) => w.key))) {
    assert.equal(sum(l.writes.filter((w) => w.key === key).map((w) => w.bytes)), sum(l.e2es.filter((e) => e.key === key).map((e) => e.e2e.bytesWritten)), `${who}: bytes written with key ${key}`)
    assert.equal(sum(l.reads.filter((r) => r.key === key).map((r) => r.bytes)), sum(l.e2es.filter((e) => e.key === key).map((e) => e.e2e.bytesRead)), `${who}: bytes read with key ${key}`)
  }
  for (const e of l.e2es) {
    assert.ok(e.e2e instanceof BrokerE2E)
    assert.ok(e.e2e.durationE2E() >= 0 && e.e2e.writeWait >= 0 && e.e2e.timeToWrite >= 0 && e.e2e.readWait >= 0 && e.e2e.timeToRead >= 0, `${who}: E2E durations of key ${e.key} are not negative`)
    assert.equal(e.e2e.durationE2E(), e.e2e.timeToWrite + e.e2e.readWait + e.e2e.timeToRead)
    if (e.e2e.err() === null) assert.ok(e.e2e.bytesRead > 0, `${who}: a response of key ${e.key} was read`)
  }
  assert.ok(l.connects.length > 0, `${who}: connected`)
  for (const c of l.connects) {
    assert.equal(c.err, null, `${who}: a connection failed: ${c.err?.message}`)
    assert.ok(c.socket !== null && c.initDuration > 0, `${who}: a connection has its socket and a duration`)
  }
  // Every connection that opened was reported closed exactly once, with its own socket.
  assert.equal(l.disconnects.length, l.connects.length, `${who}: one disconnect per connection`)
  assert.deepEqual(new Set(l.disconnects.map((d) => d.socket)), new Set(l.connects.map((c) => c.socket)))
  assert.equal(l.newClients.length, 1, `${who}: onNewClient once`)
  assert.equal(l.newClients[0]!.seq, 0, `${who}: onNewClient before anything else`)
  assert.equal(l.closedClients.length, 1, `${who}: onClientClosed once`)
  const closed = l.closedClients[0]!.seq
  for (const ev of [...l.connects, ...l.disconnects, ...l.writes, ...l.reads, ...l.e2es]) assert.ok(ev.seq < closed, `${who}: onClientClosed comes after all broker traffic`)
}

/**
 * commitTransaction writes `perPartition` lz4 records to each of `partitions` in one transaction and
 * commits it, with raw requests (the producer has no transactions yet), so the partitions end with a
 * commit marker: a control batch of one record that fetches count and polls never return.
 */
async function commitTransaction(c: Client, topic: string, partitions: number[], perPartition: number): Promise<void> {
  const transactionalId = `ledger-${randomUUID()}`
  const init = InitProducerId.newRequest()
  Object.assign(init, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 })
  const pid = await c.request(InitProducerId, init)
  assert.equal(pid.errorCode, 0, 'InitProducerId')
  const add = AddPartitionsToTxn.newRequest()
  Object.assign(add, { v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: pid.producerId, v3AndBelowProducerEpoch: pid.producerEpoch, v3AndBelowTopics: [{ name: topic, partitions }] })
  const added = await c.request(AddPartitionsToTxn, add, { version: 3 })
  assert.ok(added.resultsByTopicV3AndBelow.every((t) => t.resultsByPartition.every((p) => p.partitionErrorCode === 0)), 'AddPartitionsToTxn')
  const info = (await coreOf(c).topic(topic))!
  const produce = Produce.newRequest()
  produce.transactionalId = transactionalId
  produce.acks = -1
  produce.timeoutMs = 30_000
  produce.topicData = [
    {
      name: topic,
      topicId: info.id,
      partitionData: partitions.map((index) => ({
        index,
        records: encodeRecordBatchBuffer({
          producerId: pid.producerId,
          producerEpoch: pid.producerEpoch,
          baseSequence: 0,
          isTransactional: true,
          compression: 3,
          records: Array.from({ length: perPartition }, (_, i) => ({ key: `txn-${index}-${i}`, value: `transactional ${i} `.repeat(8), timestamp: Date.now() })),
        }),
      })),
    },
  ]
  const produced = await c.request(Produce, produce)
  assert.ok(produced.responses.every((t) => t.partitionResponses.every((p) => p.errorCode === 0)), 'transactional Produce')
  const end = EndTxn.newRequest()
  Object.assign(end, { transactionalId, producerId: pid.producerId, producerEpoch: pid.producerEpoch, committed: true })
  assert.equal((await c.request(EndTxn, end)).errorCode, 0, 'EndTxn')
}

test('ledger: 20,000 lz4 records over 6 partitions, produced and consumed by a group, keep every hook promise', { timeout: 180_000 }, async () => {
  const N = 20_000
  const PARTITIONS = 6
  const TXN_PARTITIONS = [0, 1]
  const TXN_RECORDS = 3
  const pl = new Ledger()
  const producer = newClient(k, { hooks: pl, producerBatchCompression: ['lz4'], linger: 5 })
  const topic = await createTopic(producer, { partitions: PARTITIONS })

  // ---- produce
  const records: ProduceRecord[] = Array.from({ length: N }, (_, i) => ({ topic, key: `k${i}`, value: `value ${i} `.padEnd(120, '-') }))
  const settled = new Map<ProduceRecord, number>()
  await Promise.all(
    records.map((r) =>
      producer.produce(r).then((res) => {
        // The unbuffered hook mirrors the promise: it ran, once, just before, with the same (no) error.
        const e = pl.produced.get(r)
        assert.ok(e !== undefined && e.unbuffered.length === 1 && e.unbuffered[0]!.err === null, 'unbuffered ran once, without error, before the promise resolved')
        assert.equal(res, r)
        settled.set(r, pl.mark())
      }),
    ),
  )
  await commitTransaction(producer, topic, TXN_PARTITIONS, TXN_RECORDS)
  // onProduceBatchWritten runs apart from the promises: wait for the last of them.
  await waitFor(() => sum(pl.batchesWritten.map((b) => b.m.numRecords)) >= N, 'onProduceBatchWritten to cover every acknowledged record')
  await producer.close()

  // Per record: buffered → partitioned → a Produce write and its response → unbuffered → promise.
  const produceWrites = pl.writes.filter((w) => w.key === 0).map((w) => w.seq)
  const produceE2Es = pl.e2es.filter((e) => e.key === 0).map((e) => e.seq)
  const produceReads = pl.reads.filter((r) => r.key === 0).map((r) => r.seq)
  assert.equal(pl.produced.size, N, 'every record was buffered')
  for (const r of records) {
    const e = pl.produced.get(r)!
    assert.equal(e.buffered.length, 1, 'buffered once')
    assert.equal(e.partitioned.length, 1, 'partitioned once')
    assert.equal(e.unbuffered.length, 1, 'unbuffered once')
    const [b, p, u] = [e.buffered[0]!, e.partitioned[0]!, e.unbuffered[0]!]
    assert.equal(p.partition, r.partition)
    assert.equal(p.leader, coreOf(producer).leaderOf(topic, r.partition!))
    assert.ok(r.offset! >= 0n)
    const write = firstAfter(produceWrites, p.seq)
    const read = firstAfter(produceReads, write)
    const e2e = firstAfter(produceE2Es, write)
    assert.ok(b < p.seq && p.seq < write && write < read && read < e2e && e2e < u.seq && u.seq < settled.get(r)!, `lifecycle of ${r.key}: buffered ${b}, partitioned ${p.seq}, write ${write}, read ${read}, e2e ${e2e}, unbuffered ${u.seq}, promise ${settled.get(r)}`)
  }

  // Batch metrics: they add up to the acknowledged records, and lz4 shrank every batch.
  assert.equal(sum(pl.batchesWritten.map((b) => b.m.numRecords)), N)
  const cum = new Map<string, number>()
  for (const bw of pl.batchesWritten) {
    assert.equal(bw.topic, topic)
    assert.equal(bw.m.compressionType, 3, 'lz4 is codec 3')
    assert.ok(bw.m.compressedBytes > 0 && bw.m.compressedBytes < bw.m.uncompressedBytes, `lz4 batch ${bw.m.compressedBytes} < ${bw.m.uncompressedBytes} bytes`)
    // The uncompressed records are at least their values plus the 7 bytes of a record's fixed fields.
    assert.ok(bw.m.uncompressedBytes >= bw.m.numRecords * (120 + 7))
    assert.equal(bw.meta.nodeId, coreOf(producer).leaderOf(topic, bw.partition))
    // A batch is reported written only after its records were partitioned and a Produce answered.
    const c = (cum.get(tp(topic, bw.partition)) ?? 0) + bw.m.numRecords
    cum.set(tp(topic, bw.partition), c)
    assert.ok(bw.partitionedBefore >= c, 'batch written after its records were partitioned')
    assert.ok(produceReads.some((s) => s < bw.seq), 'batch written after a Produce response')
  }
  assert.equal(cum.size, PARTITIONS, 'every partition got records')

  // ---- consume with a group
  const cl = new Ledger()
  const consumer = newClient(k, { hooks: cl, consumerGroup: `ledger-${randomUUID()}`, consumeTopics: [topic], consumeResetOffset: 'earliest' })
  const expected = N + TXN_PARTITIONS.length * TXN_RECORDS
  const consumed: Record[] = []
  const deadline = Date.now() + 120_000
  while (consumed.length < expected) {
    assert.ok(Date.now() < deadline, `consumed ${consumed.length} of ${expected}`)
    const polls = cl.pollStarts.length
    const signal = AbortSignal.timeout(2_000)
    const f = await consumer.pollFetches({ signal })
    const returned = cl.mark()
    // onPollStart is the first thing this poll did, with the caller's signal.
    assert.equal(cl.pollStarts.length, polls + 1)
    const start = cl.pollStarts[polls]!
    assert.equal(start.signal, signal)
    assert.deepEqual(f.errors().filter((e) => e.partition >= 0), [])
    for (const r of f) {
      const e = cl.fetched.get(r)
      assert.ok(e !== undefined, 'a polled record was buffered first')
      assert.equal(e.buffered.length, 1)
      assert.equal(e.unbuffered.length, 1, 'unbuffered once, before the poll returned')
      const u = e.unbuffered[0]!
      assert.equal(u.polled, true)
      assert.equal(u.poll, polls + 1, 'unbuffered by the poll that returned it')
      // fetch batch read → buffered → unbuffered(polled) → poll returns, and the poll's start comes
      // before its unbuffered calls. (A poll that waits sees records buffered after it started.)
      assert.ok(e.batchRead >= Number(r.offset) + 1, `the batch of ${r.topic}[${r.partition}]@${r.offset} was read before the record was buffered`)
      assert.ok(e.buffered[0]! < u.seq && start.seq < u.seq && u.seq < returned, 'consumer lifecycle order')
      consumed.push(r)
    }
  }
  // The commit markers come after the transaction's records; the source reads them without a poll.
  await waitFor(() => sum(cl.batchesRead.map((b) => b.m.numRecords)) >= expected + TXN_PARTITIONS.length, 'the commit markers to be fetched')
  await consumer.close()

  assert.equal(consumed.length, expected)
  assert.equal(new Set(consumed.map((r) => tp(r.topic, r.partition) + r.offset)).size, expected, 'no offset twice')
  assert.equal(new Set(consumed.map((r) => String(r.key))).size, expected, 'every key once')
  // Fetch batch metrics add up to the records consumed plus the control records.
  assert.equal(sum(cl.batchesRead.map((b) => b.m.numRecords)), expected + TXN_PARTITIONS.length)
  const control = cl.batchesRead.filter((b) => b.m.compressionType === 0)
  assert.deepEqual(control.map((b) => [b.partition, b.m.numRecords]).sort(), TXN_PARTITIONS.map((p) => [p, 1]), 'one uncompressed control batch of one record per transactional partition')
  for (const b of control) assert.equal(b.m.compressedBytes, b.m.uncompressedBytes)
  for (const b of cl.batchesRead.filter((x) => x.m.compressionType !== 0)) {
    assert.equal(b.m.compressionType, 3)
    assert.ok(b.m.compressedBytes < b.m.uncompressedBytes, `fetched lz4 batch ${b.m.compressedBytes} < ${b.m.uncompressedBytes} bytes`)
    assert.equal(b.meta.nodeId, coreOf(consumer).leaderOf(topic, b.partition))
  }
  // The same lz4 batches were written and read back: both sides measure them alike. What is read
  // beyond the producer's batches is the two transactional batches.
  const sizes = (b: { partition: number; m: ProduceBatchMetrics }) => `${b.partition}:${b.m.numRecords}:${b.m.compressedBytes}:${b.m.uncompressedBytes}`
  const readSizes = cl.batchesRead.filter((b) => b.m.compressionType === 3).map(sizes)
  for (const w of pl.batchesWritten.map(sizes)) {
    const i = readSizes.indexOf(w)
    assert.ok(i >= 0, `written batch ${w} was read back alike`)
    readSizes.splice(i, 1)
  }
  assert.deepEqual(readSizes.map((s) => s.split(':').slice(0, 2).join(':')).sort(), TXN_PARTITIONS.map((p) => `${p}:${TXN_RECORDS}`))
  // Every fetched record was buffered once and unbuffered once, by a poll.
  assert.equal(cl.fetched.size, expected)
  for (const e of cl.fetched.values()) assert.ok(e.buffered.length === 1 && e.unbuffered.length === 1 && e.unbuffered[0]!.polled)

  // Broker-level hooks of both clients.
  assertBrokerIO(pl, 'producer')
  assertBrokerIO(cl, 'consumer')
  assert.ok(pl.e2es.some((e) => e.key === 0) && cl.e2es.some((e) => e.key === 1), 'Produce and Fetch requests were observed')
  assert.equal(pl.groupErrors.length + cl.groupErrors.length, 0, 'a healthy group reports no management error')
  // One object implementing every hook received every one this run could produce.
  const producerHooks: HookName[] = ['onNewClient', 'onClientClosed', 'onBrokerConnect', 'onBrokerDisconnect', 'onBrokerWrite', 'onBrokerRead', 'onBrokerE2E', 'onProduceBatchWritten', 'onProduceRecordBuffered', 'onProduceRecordPartitioned', 'onProduceRecordUnbuffered']
  const consumerHooks: HookName[] = ['onNewClient', 'onClientClosed', 'onBrokerConnect', 'onBrokerDisconnect', 'onBrokerWrite', 'onBrokerRead', 'onBrokerE2E', 'onFetchBatchRead', 'onFetchRecordBuffered', 'onFetchRecordUnbuffered', 'onPollStart']
  for (const h of producerHooks) assert.ok(pl.count(h) > 0, `producer: ${h} was called`)
  for (const h of consumerHooks) assert.ok(cl.count(h) > 0, `consumer: ${h} was called`)
  // franz-go's 17, and onTransactionEnd (transactions end through the client API, not the raw requests here).
  assert.equal(hookNames.length, 18)
  assert.equal(pl.transactionEnds.length + cl.transactionEnds.length, 0)
})

test('a seed on a closed port: one onBrokerConnect per dial attempt, each with the error and no socket', { timeout: 30_000 }, async () => {
  const [port] = await freePorts(1)
  const l = new Ledger()
  const c = new Client({ seedBrokers: [`127.0.0.1:${port}`], retryBackoff: 20, requestRetries: 2, hooks: l })
  const err = await c.request(Metadata, Metadata.newRequest()).then(
    () => null,
    (e: Error) => e,
  )
  await c.close()
  assert.ok(err !== null, 'the request failed')
  // requestRetries 2: three attempts, each dialing once.
  assert.equal(l.connects.length, 3)
  for (const call of l.connects) {
    assert.deepEqual(call.meta, { nodeId: seedNodeId(0), host: '127.0.0.1', port: port!, rack: null })
    assert.equal(call.socket, null)
    assert.ok(call.err instanceof Error && /ECONNREFUSED/.test(call.err.message), String(call.err))
    assert.ok(call.initDuration >= 0)
  }
  assert.equal(l.disconnects.length, 0, 'nothing connected, so nothing disconnected')
  assert.equal(l.writes.length + l.e2es.length, 0)
  assert.equal(l.closedClients.length, 1)
})

test('SASL: onBrokerConnect covers dialing, ApiVersions and SASL; a failed login is reported there', { timeout: 60_000 }, async () => {
  assert.ok(k.saslBootstrapServers !== undefined, 'the test broker has a SASL listener')
  const user = k.users.scram512
  const ok = new Ledger()
  const c = newClient(k, { seedBrokers: k.saslBootstrapServers, sasl: { mechanism: 'SCRAM-SHA-512', user: user.username, pass: user.password }, hooks: ok })
  await c.request(Metadata, Metadata.newRequest())
  await c.close()
  assert.equal(ok.connects[0]!.err, null)
  const first = ok.connects[0]!
  // ApiVersions (18), SaslHandshake (17) and SaslAuthenticate (36) ran inside the first connect.
  const init = ok.e2es.filter((e) => e.seq < first.seq)
  assert.deepEqual([...new Set(init.map((e) => e.key))].sort((a, b) => a - b), [17, 18, 36])
  const inside = sum(init.map((e) => e.e2e.durationE2E()))
  assert.ok(first.initDuration >= inside, `connect took ${first.initDuration} ms, its requests ${inside} ms`)
  assert.ok(ok.e2es.some((e) => e.key === 3 && e.seq > first.seq), 'Metadata went out after the connect')

  const bad = new Ledger()
  const d = newClient(k, { seedBrokers: k.saslBootstrapServers, sasl: { mechanism: 'SCRAM-SHA-512', user: user.username, pass: 'wrong' }, hooks: bad, requestRetries: 0 })
  await assert.rejects(d.request(Metadata, Metadata.newRequest()))
  await d.close()
  assert.ok(bad.connects.length >= 1)
  let previous = -1
  for (const call of bad.connects) {
    assert.ok(call.err !== null && /auth/i.test(call.err.message), `a failed login is a failed connect: ${call.err?.message}`)
    assert.equal(call.socket, null)
    // Its duration still covers the exchanges of this attempt that happened before the broker refused.
    const attempt = bad.e2es.filter((e) => e.seq > previous && e.seq < call.seq)
    assert.deepEqual([...new Set(attempt.map((e) => e.key))].sort((a, b) => a - b), [17, 18, 36], 'ApiVersions, SaslHandshake and SaslAuthenticate were sent')
    assert.ok(call.initDuration >= sum(attempt.map((e) => e.e2e.durationE2E())))
    previous = call.seq
  }
  assert.equal(bad.disconnects.length, 0, 'a connection that never finished connecting is not reported disconnected')
})

test('a client quota set with ConfigCommand: onBrokerThrottle fires after the response and the next write waits it out', { timeout: 120_000 }, async () => {
  const clientId = `quota-${randomUUID()}`
  const res = await k.runJavaTool('org.apache.kafka.tools.ConfigCommand', ['--bootstrap-server', k.bootstrapServers[0]!, '--alter', '--entity-type', 'clients', '--entity-name', clientId, '--add-config', 'producer_byte_rate=1024'])
  assert.equal(res.code, 0, res.stderr || res.stdout)
  const l = new Ledger()
  const c = newClient(k, { clientId, hooks: l, linger: 0 })
  const topic = await createTopic(c)
  // A full quota window's worth of bytes over 1 KiB/s: the broker answers a Produce with a throttle.
  const value = Buffer.alloc(4096, 7)
  await waitFor(async () => {
    await c.produce({ topic, value })
    return l.throttles.length > 0
  }, 'a throttled Produce response', 60_000)
  const th = l.throttles[0]!
  assert.ok(th.interval > 0, `throttled for ${th.interval} ms`)
  assert.equal(th.afterResponse, true, 'Kafka 4 throttles after responding (KIP-219)')
  assert.equal(th.meta.nodeId, coreOf(c).leaderOf(topic, 0))
  // The throttle came with a Produce response: it follows that response's read.
  assert.ok(l.reads.some((r) => r.key === 0 && r.seq < th.seq))
  // KIP-219: the client holds its next write on that connection until the throttle has passed, and
  // the held time shows in that write's writeWait.
  const writesBefore = l.writes.length
  const t0 = performance.now()
  await c.produce({ topic, value: 'after the throttle' })
  const next = l.writes.slice(writesBefore).find((w) => w.key === 0)!
  assert.ok(next !== undefined)
  const end = th.at + th.interval
  assert.ok(t0 < end - 100, 'the record was produced while the throttle was on')
  assert.ok(next.at >= end - 30, `the next Produce was written ${(end - next.at).toFixed(0)} ms before the throttle ended`)
  // The request was created within moments of t0 and written after the throttle: writeWait spans it.
  assert.ok(next.writeWait >= end - t0 - 60, `writeWait ${next.writeWait.toFixed(0)} ms includes the ${(end - t0).toFixed(0)} ms held`)
  await c.close()
  assertBrokerIO(l, 'throttled producer')
})
