/**
 * KafkaJS 2.2.4's side of every workload, to the same plan as workers/kafka-wire.ts.
 *
 * KafkaJS has no producer accumulator: every send() is one request per broker. So the realistic
 * workload hands it records the way its users batch them, 1,000 per send() with up to 5 sends in
 * flight, and the latency workload sends what is due at each 1 ms tick in one send(). It has no lz4
 * codec of its own (kafkajs-lz4 needs a native build); it gets kafka-wire's lz4 framing over the same
 * lz4-napi package, so both spend the same on compression.
 */
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import kafkajs, { type Message } from 'kafkajs'
import { compressLz4, decompressLz4 } from '../../dist/protocol/compression/lz4.js'
import { loadPayloads } from '../lib/payload.js'
import { LatencyCollector, Meter, PEER_VALUE, Schedule, keyForTime, newHistogram, notApplicable, parseSpec, peerKey, report, tick, timedTransactions, waitUntil, type WorkloadSpec } from '../lib/measure.js'

// KafkaJS is CommonJS: its named exports come through the default import.
const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs
const CLIENT = 'kafkajs'
const VERSION = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version
const PEER_HEADERS = { a: '123', b: '456' }
const CHUNK = 1000
const INFLIGHT = 5

CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: async (encoder: { buffer: Buffer }) => compressLz4(encoder.buffer),
  decompress: async (buffer: Buffer) => decompressLz4(buffer, 256 << 20),
})

const spec = parseSpec()
const codec = (s: WorkloadSpec) => (s.compression === 'lz4' ? CompressionTypes.LZ4 : CompressionTypes.None)
const kafka = new Kafka({ clientId: 'bench', brokers: spec.bootstrap, logLevel: logLevel.ERROR })

async function produceSingle(s: WorkloadSpec): Promise<void> {
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: s.topic, acks: 0, messages: [{ partition: 0, key: 'warm-up', value: PEER_VALUE, headers: PEER_HEADERS }] })
  const hist = newHistogram()
  const m = new Meter()
  m.start()
  for (let i = 0; i < s.records; i++) {
    const t = performance.now()
    await producer.send({ topic: s.topic, acks: 0, messages: [{ partition: 0, key: peerKey(i), value: PEER_VALUE, headers: PEER_HEADERS }] })
    hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }
  const w = m.stop()
  await producer.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes: s.records * 3, window: w, latency: hist, latencyKind: 'per awaited send' })
}

async function produceBatch(s: WorkloadSpec): Promise<void> {
  // maxInFlightRequests 100 as in the peer methodology; sends are awaited one by one anyway.
  const producer = kafka.producer({ maxInFlightRequests: 100 })
  await producer.connect()
  await producer.send({ topic: s.topic, acks: 0, messages: [{ partition: 0, key: 'warm-up', value: PEER_VALUE, headers: PEER_HEADERS }] })
  const hist = newHistogram()
  const sends = Math.ceil(s.records / s.batch)
  const m = new Meter()
  m.start()
  for (let i = 0; i < sends; i++) {
    const messages: Message[] = []
    for (let j = 0; j < s.batch; j++) messages.push({ partition: 0, key: peerKey(i * s.batch + j), value: PEER_VALUE, headers: PEER_HEADERS })
    const t = performance.now()
    await producer.send({ topic: s.topic, acks: 0, messages })
    hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }
  const w = m.stop()
  await producer.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: sends * s.batch, bytes: sends * s.batch * 3, window: w, latency: hist, latencyKind: 'per awaited send of a batch' })
}

/** consume: eachMessage for the peer methodology (as it is run there), eachBatch for the realistic one. */
async function consume(s: WorkloadSpec, peer: boolean): Promise<void> {
  const consumer = kafka.consumer({ groupId: s.group, ...(peer ? { maxWaitTimeInMs: 10, maxBytes: 2048 } : {}) })
  await consumer.connect()
  await consumer.subscribe({ topics: [s.topic], fromBeginning: true })
  const m = new Meter()
  let n = 0
  let bytes = 0
  let done!: () => void
  let failed!: (e: unknown) => void
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve
    failed = reject
  })
  consumer.on(consumer.events.CRASH, (e) => failed(e.payload.error))
  const count = (value: Buffer | null) => {
    if (n === 0) m.start()
    n++
    bytes += value === null ? 0 : value.length
    if (n === s.records) done()
  }
  if (peer) {
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachMessage: async ({ message }) => count(message.value),
    })
  } else {
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) if (n < s.records) count(message.value)
      },
    })
  }
  await finished
  const w = m.stop()
  await consumer.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: n, bytes, window: w, latency: null, latencyKind: '' })
}

async function produceRealistic(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const producer = kafka.producer({ idempotent: true })
  await producer.connect()
  await producer.send({ topic: s.topic, acks: -1, compression: codec(s), messages: [{ value: 'warm-up' }] })
  const hist = newHistogram()
  let bytes = 0
  let inflight = 0
  let failed: unknown = null
  let wake: (() => void) | null = null
  const m = new Meter()
  m.start()
  for (let i = 0; i < s.records; i += CHUNK) {
    while (inflight >= INFLIGHT) await new Promise<void>((r) => (wake = r))
    if (failed) throw failed
    const messages: Message[] = []
    const end = Math.min(s.records, i + CHUNK)
    for (let j = i; j < end; j++) {
      const value = payloads[j % payloads.length]!
      bytes += value.length
      messages.push({ value })
    }
    inflight++
    const t = performance.now()
    producer.send({ topic: s.topic, acks: -1, compression: codec(s), messages }).then(
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
  const w = m.stop()
  if (failed) throw failed
  await producer.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes, window: w, latency: hist, latencyKind: 'per record, send() → ack (1,000 per send)' })
}

/**
 * produce-transactional: transactions of `s.transaction` (1,000) records one after another, each
 * `producer.transaction()`, one `send()` of its records, `commit()` — KafkaJS's documented shape, on
 * a producer with a transactionalId, idempotent and maxInFlightRequests 1 (what its documentation
 * asks of a transactional producer). No compression. A warm-up transaction of one record first.
 * Latency is per transaction, transaction() → commit() resolving. The send's RecordMetadata lists
 * the partitions written, one commit marker each (TxnFacts, checked by run.ts).
 *
 * Run through workers/kafkajs-facade.ts, this is the same program on kafka-wire/kafkajs: while its
 * producer.transaction() throws KafkaJSNotImplemented the workload is reported not applicable.
 */
async function produceTransactional(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const producer = kafka.producer({ transactionalId: s.transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  let warm
  try {
    warm = await producer.transaction()
  } catch (err) {
    if ((err as Error).name === 'KafkaJSNotImplemented') notApplicable(`producer.transaction() throws KafkaJSNotImplemented: ${(err as Error).message}`)
    throw err
  }
  const warmMarkers = (await warm.send({ topic: s.topic, acks: -1, compression: codec(s), messages: [{ value: 'warm-up' }] })).length
  await warm.commit()
  const run = await timedTransactions(s, payloads, async (from, to) => {
    const txn = await producer.transaction()
    const messages: Message[] = []
    for (let i = from; i < to; i++) messages.push({ value: payloads[i % payloads.length]! })
    const written = (await txn.send({ topic: s.topic, acks: -1, compression: codec(s), messages })).length
    await txn.commit()
    return written
  })
  await producer.disconnect()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes: run.bytes, window: run.window, latency: run.latency, latencyKind: 'per transaction, begin → commit', txn: { transactions: run.transactions, logRecords: s.records + 1, markers: warmMarkers + run.markers } })
}

async function latency(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const consumer = kafka.consumer({ groupId: s.group })
  let joined = false
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [s.topic], fromBeginning: true })
  const producer = kafka.producer({ idempotent: true })
  await producer.connect()
  await producer.send({ topic: s.topic, acks: -1, compression: codec(s), messages: [{ key: Buffer.alloc(0), value: 'warm-up' }] })
  let collector: LatencyCollector | null = null
  let warmups = 0
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        if (collector === null || message.key === null || message.key.length !== 8) warmups++
        else collector.onRecord(message.key)
      }
    },
  })
  if (!(await waitUntil(() => joined && warmups > 0, 60_000))) throw new Error('the consumer did not join or see the warm-up record within 60 s')
  let failed: unknown = null
  const sched = new Schedule(s.rate, s.seconds)
  collector = new LatencyCollector(sched.t0)
  const m = new Meter()
  m.start()
  const sends: Promise<unknown>[] = []
  while (!sched.done) {
    const due = sched.due()
    if (due > 0) {
      const messages: Message[] = []
      for (let k = 0; k < due; k++) {
        const i = sched.sent++
        messages.push({ key: keyForTime(sched.scheduledAt(i)), value: payloads[i % payloads.length]! })
      }
      sends.push(producer.send({ topic: s.topic, acks: -1, compression: codec(s), messages }).catch((e: unknown) => (failed ??= e)))
    }
    if (failed) throw failed
    await tick()
  }
  await Promise.all(sends)
  const c = collector
  await waitUntil(() => c.received >= sched.total, 30_000)
  const w = m.stop()
  const lost = sched.total - c.received
  await Promise.all([producer.disconnect(), consumer.disconnect()])
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
