/**
 * @kafkats/client's side of every workload, to the same plan as workers/kafka-wire.ts. It runs on the
 * same Node binary as the other Node peers, with @node-rs/crc32 (its native CRC-32C) and lz4-napi
 * installed, the optional packages its documentation names for speed and lz4.
 *
 * Its defaults, as its ProducerConfig and ConsumerConfig document them: linger 5 ms, batches up to
 * 16 KiB (maxBatchBytes), acks all, idempotence off, 5 requests in flight, no compression; consumers
 * start at the latest offset, read committed, fetch up to 1 MiB per partition and hand out up to 500
 * records per batch. What each workload changes:
 *
 * - peer produce (single, batch): acks none and linger 0, as kafka-wire gets, so each awaited send is
 *   one request (with its default 5 ms linger every awaited send would wait 5 ms);
 * - the 1 KiB produce: idempotent (acks all is its default) and the workload's codec; every other
 *   setting its default. It gets 1,000 records per send() with up to 5 sends in flight, as KafkaJS
 *   and @platformatic/kafka do, and as its own benchmarks send arrays. Although it has an
 *   accumulator (linger 5 ms), one record per send() with 10,000 outstanding (kafka-wire's shape,
 *   KW_BENCH_KAFKATS_SINGLE=1) ran at 400–1,900 records/s against 142,000 with arrays (10,000 and
 *   2,000 records against 50,000, load 8–10): each send() goes out on its own.
 * - consumers: the earliest offset, no offset commits (commitOffsets false, as every client here
 *   runs without commits), batches through runBatch(); the peer consume also gets the methodology's
 *   2 KiB per partition and 10 ms wait. Its read_committed default stays: no topic here holds
 *   transactions, so it reads the same records as read_uncommitted would.
 */
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { KafkaClient, type Message, type ProducerMessage, type SendResult } from '@kafkats/client'
import { loadPayloads } from '../lib/payload.js'
import { LatencyCollector, Meter, PEER_VALUE, Schedule, keyForTime, newHistogram, parseSpec, peerKey, report, tick, timedTransactions, waitUntil, type WorkloadSpec } from '../lib/measure.js'

const CLIENT = 'kafkats'
const require = createRequire(import.meta.url)
const VERSION = (require(require.resolve('@kafkats/client').replace(/dist[/\\]index\.c?js$/, 'package.json')) as { version: string }).version
const PEER_HEADERS = { a: '123', b: '456' }
// Its send() takes Buffer values for a topic given by name: one Buffer for every record, as the others get one string.
const PEER_VALUE_BUF = Buffer.from(PEER_VALUE)
const CHUNK = 1000
const INFLIGHT = 5

const spec = parseSpec()
const client = new KafkaClient({ brokers: spec.bootstrap, clientId: 'bench', logLevel: 'error' })
await client.connect()

function peerProducer() {
  return client.producer({ acks: 'none', lingerMs: 0 })
}

async function produceSingle(s: WorkloadSpec): Promise<void> {
  const producer = peerProducer()
  await producer.send(s.topic, { partition: 0, key: 'warm-up', value: PEER_VALUE_BUF, headers: PEER_HEADERS })
  const hist = newHistogram()
  const m = new Meter()
  m.start()
  for (let i = 0; i < s.records; i++) {
    const t = performance.now()
    await producer.send(s.topic, { partition: 0, key: peerKey(i), value: PEER_VALUE_BUF, headers: PEER_HEADERS })
    hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }
  const w = m.stop()
  await producer.disconnect()
  await client.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes: s.records * 3, window: w, latency: hist, latencyKind: 'per awaited send' })
}

async function produceBatch(s: WorkloadSpec): Promise<void> {
  const producer = peerProducer()
  await producer.send(s.topic, { partition: 0, key: 'warm-up', value: PEER_VALUE_BUF, headers: PEER_HEADERS })
  const hist = newHistogram()
  const sends = Math.ceil(s.records / s.batch)
  const m = new Meter()
  m.start()
  for (let i = 0; i < sends; i++) {
    const messages: ProducerMessage[] = []
    for (let j = 0; j < s.batch; j++) messages.push({ partition: 0, key: peerKey(i * s.batch + j), value: PEER_VALUE_BUF, headers: PEER_HEADERS })
    const t = performance.now()
    await producer.send(s.topic, messages)
    hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }
  const w = m.stop()
  await producer.disconnect()
  await client.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: sends * s.batch, bytes: sends * s.batch * 3, window: w, latency: hist, latencyKind: 'per awaited send of a batch' })
}

/**
 * consume: a fresh group from the earliest offset, batches through runBatch; the window runs from
 * the first record to the last.
 */
async function consume(s: WorkloadSpec, peer: boolean): Promise<void> {
  const consumer = client.consumer({
    groupId: s.group,
    autoOffsetReset: 'earliest',
    ...(peer ? { maxBytesPerPartition: 2048, minBytes: 1, maxWaitMs: 10 } : {}),
  })
  const m = new Meter()
  let n = 0
  let bytes = 0
  let w: ReturnType<Meter['stop']> | null = null
  const run = consumer.runBatch(
    s.topic,
    async (messages: Message[]) => {
      if (w !== null) return
      if (n === 0 && messages.length > 0) m.start()
      for (let i = 0; i < messages.length; i++) {
        n++
        const v = messages[i]!.value
        bytes += v === null ? 0 : v.length
      }
      if (n >= s.records) {
        w = m.stop()
        consumer.stop()
      }
    },
    { commitOffsets: false, autoCommit: false },
  )
  await run
  if (w === null) throw new Error(`the consumer stopped after ${n} of ${s.records} records`)
  await client.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: n, bytes, window: w, latency: null, latencyKind: '' })
}

function realisticProducer(s: WorkloadSpec) {
  return client.producer({ idempotent: true, acks: 'all', compression: s.compression })
}

/**
 * The 1 KiB produce: 1,000 records per send() with up to 5 in flight (KW_BENCH_KAFKATS_SINGLE=1: one
 * record per send(), at most 10,000 outstanding). Latency is send() → its promise settling.
 */
async function produceRealistic(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const producer = realisticProducer(s)
  await producer.send(s.topic, { value: Buffer.from('warm-up') })
  const chunked = process.env.KW_BENCH_KAFKATS_SINGLE !== '1'
  const hist = newHistogram()
  let bytes = 0
  let failed: unknown = null
  let wake: (() => void) | null = null
  const m = new Meter()
  if (chunked) {
    let inflight = 0
    m.start()
    for (let i = 0; i < s.records; i += CHUNK) {
      while (inflight >= INFLIGHT) await new Promise<void>((r) => (wake = r))
      if (failed) throw failed
      const messages: ProducerMessage[] = []
      const end = Math.min(s.records, i + CHUNK)
      for (let j = i; j < end; j++) {
        const value = payloads[j % payloads.length]!
        bytes += value.length
        messages.push({ value })
      }
      inflight++
      const t = performance.now()
      producer.send(s.topic, messages).then(
        () => {
          hist.recordValueWithCount(Math.max(1, Math.round((performance.now() - t) * 1000)), messages.length)
          inflight--
          wake?.()
        },
        (e: unknown) => {
          failed ??= e
          inflight--
          wake?.()
        },
      )
    }
    while (inflight > 0) await new Promise<void>((r) => (wake = r))
  } else {
    const window = 10_000
    let outstanding = 0
    const settle = (t: number) => {
      hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
      if (--outstanding <= window / 2 && wake !== null) {
        const wk = wake
        wake = null
        wk()
      }
    }
    m.start()
    for (let i = 0; i < s.records; i++) {
      if (outstanding >= window) await new Promise<void>((r) => (wake = r))
      if (failed) throw failed
      const value = payloads[i % payloads.length]!
      bytes += value.length
      outstanding++
      const t = performance.now()
      producer.send(s.topic, { value }).then(
        () => settle(t),
        (e: unknown) => {
          failed ??= e
          settle(t)
        },
      )
    }
    await producer.flush()
    while (outstanding > 0) await new Promise<void>((r) => (wake = r))
  }
  const w = m.stop()
  if (failed) throw failed
  await producer.disconnect()
  await client.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes, window: w, latency: hist, latencyKind: chunked ? 'per record, send() → ack (1,000 per send)' : 'per record, send() → ack' })
}

/**
 * produce-transactional: transactions of `s.transaction` (1,000) records one after another, each
 * `producer.transaction(fn)` with one `tx.send()` of its records — its documented shape, committed
 * when fn resolves — on a producer with a transactionalId, idempotent, acks all, its default
 * transactionConcurrency 1 (one transactional id, one open transaction, as every client here). No
 * compression. A warm-up transaction of one record first. Latency is per transaction, transaction()
 * → its promise resolving. The send's results name each record's partition; one commit marker per
 * partition written (TxnFacts, checked by run.ts). Its partitioner puts all the keyless records of
 * one send() on one partition, so each of its transactions writes to one partition where the
 * others spread theirs over (nearly) all six: one partition to add and one marker instead of six.
 */
async function produceTransactional(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const producer = client.producer({ idempotent: true, acks: 'all', compression: s.compression, transactionalId: s.transactionalId })
  const partitionsOf = (results: SendResult | SendResult[]) => new Set((Array.isArray(results) ? results : [results]).map((r) => r.partition)).size
  const warmMarkers = await producer.transaction(async (tx) => partitionsOf(await tx.send(s.topic, [{ value: Buffer.from('warm-up') }])))
  const run = await timedTransactions(s, payloads, (from, to) => {
    const messages: ProducerMessage[] = []
    for (let i = from; i < to; i++) messages.push({ value: payloads[i % payloads.length]! })
    return producer.transaction(async (tx) => partitionsOf(await tx.send(s.topic, messages)))
  })
  await producer.disconnect()
  await client.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes: run.bytes, window: run.window, latency: run.latency, latencyKind: 'per transaction, begin → commit', txn: { transactions: run.transactions, logRecords: s.records + 1, markers: warmMarkers + run.markers } })
}

/**
 * latency: a consumer in the same process (same clock) reads the topic while the producer sends at a
 * fixed rate what is due at each 1 ms tick in one send() (one send() per record goes out on its own,
 * see above); each record's key carries its scheduled send time.
 */
async function latency(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  // The consumer has a client (connections, metadata) of its own, as in the other workers.
  const consumerClient = new KafkaClient({ brokers: s.bootstrap, clientId: 'bench-consumer', logLevel: 'error' })
  await consumerClient.connect()
  const consumer = consumerClient.consumer({ groupId: s.group, autoOffsetReset: 'earliest' })
  let assigned = false
  consumer.on('partitionsAssigned', () => {
    assigned = true
  })
  const producer = realisticProducer(s)
  await producer.send(s.topic, { key: Buffer.alloc(0), value: Buffer.from('warm-up') })
  let collector: LatencyCollector | null = null
  let warmups = 0
  let consumeError: unknown = null
  const run = consumer
    .runBatch(
      s.topic,
      async (messages: Message[]) => {
        for (let i = 0; i < messages.length; i++) {
          const key = messages[i]!.key
          if (collector === null || key === null || key.length !== 8) warmups++
          else collector.onRecord(key)
        }
      },
      { commitOffsets: false, autoCommit: false },
    )
    .catch((e: unknown) => (consumeError ??= e))
  if (!(await waitUntil(() => (assigned && warmups > 0) || consumeError !== null, 60_000)) || consumeError) {
    throw consumeError ?? new Error('the consumer got no partitions or did not see the warm-up record within 60 s')
  }
  let failed: unknown = null
  const onError = (e: unknown) => (failed ??= e)
  const sched = new Schedule(s.rate, s.seconds)
  collector = new LatencyCollector(sched.t0)
  const m = new Meter()
  m.start()
  while (!sched.done) {
    const due = sched.due()
    if (due > 0) {
      const messages: ProducerMessage[] = []
      for (let k = 0; k < due; k++) {
        const i = sched.sent++
        messages.push({ key: keyForTime(sched.scheduledAt(i)), value: payloads[i % payloads.length]! })
      }
      producer.send(s.topic, messages).catch(onError)
    }
    if (failed ?? consumeError) throw failed ?? consumeError
    await tick()
  }
  await producer.flush()
  const c = collector
  await waitUntil(() => c.received >= sched.total, 30_000)
  const w = m.stop()
  const lost = sched.total - c.received
  consumer.stop()
  await run
  await producer.disconnect()
  await Promise.all([client.disconnect(), consumerClient.disconnect()])
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: c.received, bytes: c.received * payloads[0]!.length, window: w, latency: c.hist, latencyKind: 'end to end (scheduled send → consumed)', notes: lost > 0 ? [`${lost} records not consumed within 30 s`] : [] })
}

switch (spec.workload) {
  case 'produce-single':
    await produceSingle(spec)
    break
  case 'produce-batch':
    await produceBatch(spec)
    break
  case 'consume':
    await consume(spec, true)
    break
  case 'produce-uncompressed':
  case 'produce-realistic':
    await produceRealistic(spec)
    break
  case 'consume-uncompressed':
  case 'consume-realistic':
    await consume(spec, false)
    break
  case 'produce-transactional':
    await produceTransactional(spec)
    break
  case 'latency':
    await latency(spec)
    break
}
