/**
 * kafka-wire's side of every workload. One process runs one workload (see run.ts); the three Node
 * workers are written to the same plan, so reading them side by side shows that each client gets the
 * same records and is asked for the same guarantees.
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { Client } from '../../dist/index.js'
import type { ProduceRecord, Record as KRecord } from '../../dist/index.js'
import { loadPayloads } from '../lib/payload.js'
import { LatencyCollector, Meter, PEER_VALUE, Schedule, keyForTime, newHistogram, notApplicable, parseSpec, peerKey, report, tick, timedTransactions, waitUntil, type WorkloadSpec } from '../lib/measure.js'

/**
 * KW_BENCH_RECYCLE (run.ts's `kafka-wire-recycle`) consumes with `recycleFetches`, recycling each
 * poll once its records were counted; it runs the consume workloads only.
 */
const RECYCLE = process.env.KW_BENCH_RECYCLE === '1'
const CLIENT = RECYCLE ? 'kafka-wire-recycle' : 'kafka-wire'
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
const PEER_HEADERS = [
  { key: 'a', value: '123' },
  { key: 'b', value: '456' },
]

const spec = parseSpec()

/** peer produce: acks 0, no idempotence, no linger: each awaited send is one request. */
function peerProducer(s: WorkloadSpec): Client {
  return new Client({ seedBrokers: s.bootstrap, clientId: 'bench', requiredAcks: 0, disableIdempotentWrite: true, linger: 0 })
}

async function produceSingle(s: WorkloadSpec): Promise<void> {
  const client = peerProducer(s)
  await client.produce({ topic: s.topic, partition: 0, key: 'warm-up', value: PEER_VALUE, headers: PEER_HEADERS })
  const hist = newHistogram()
  const m = new Meter()
  m.start()
  for (let i = 0; i < s.records; i++) {
    const t = performance.now()
    await client.produce({ topic: s.topic, partition: 0, key: peerKey(i), value: PEER_VALUE, headers: PEER_HEADERS })
    hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
  }
  const w = m.stop()
  await client.close()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes: s.records * 3, window: w, latency: hist, latencyKind: 'per awaited send' })
}

async function produceBatch(s: WorkloadSpec): Promise<void> {
  const client = peerProducer(s)
  await client.produce({ topic: s.topic, partition: 0, key: 'warm-up', value: PEER_VALUE, headers: PEER_HEADERS })
  const hist = newHistogram()
  const sends = Math.ceil(s.records / s.batch)
  const m = new Meter()
  m.start()
  for (let i = 0; i < sends; i++) {
    const batch: ProduceRecord[] = []
    for (let j = 0; j < s.batch; j++) batch.push({ topic: s.topic, partition: 0, key: peerKey(i * s.batch + j), value: PEER_VALUE, headers: PEER_HEADERS })
    const t = performance.now()
    const results = await client.produceSync(batch)
    hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
    const failed = results.find((r) => r.error !== null)
    if (failed) throw failed.error
  }
  const w = m.stop()
  await client.close()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: sends * s.batch, bytes: sends * s.batch * 3, window: w, latency: hist, latencyKind: 'per awaited send of a batch' })
}

/**
 * consume: a fresh group from the earliest offset; the window runs from the first record to the
 * last, so group joins do not count. `peer` uses the peer methodology's fetch sizes (2 KiB, 10 ms).
 */
async function consume(s: WorkloadSpec, peer: boolean): Promise<void> {
  let first = true
  let n = 0
  let bytes = 0
  const m = new Meter()
  const client = new Client({
    seedBrokers: s.bootstrap,
    clientId: 'bench',
    consumeTopics: [s.topic],
    consumerGroup: s.group,
    disableAutoCommit: true,
    recycleFetches: RECYCLE,
    ...(peer ? { fetchMaxBytes: 2048, fetchMaxWait: 10 } : {}),
  })
  const onRecord = (r: KRecord) => {
    n++
    bytes += r.value === null ? 0 : r.value.length
  }
  while (n < s.records) {
    const f = await client.pollFetches()
    const errs = f.errors()
    if (errs.length > 0) throw errs[0]!.error
    if (first && f.numRecords() > 0) {
      first = false
      m.start()
    }
    f.eachRecord(onRecord)
    if (RECYCLE) f.recycle()
  }
  const w = m.stop()
  await client.close()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: n, bytes, window: w, latency: null, latencyKind: '' })
}

/**
 * The 1 KiB produce: every record handed to the client on its own, with the client's defaults
 * (idempotent, acks all, linger 10 ms) plus the workload's codec. The driver keeps at most maxBufferedRecords (10,000)
 * records outstanding, as the client's own buffer limit would. Latency is produce call → callback.
 */
async function produceRealistic(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const client = new Client({ seedBrokers: s.bootstrap, clientId: 'bench', producerBatchCompression: [s.compression] })
  await client.produce({ topic: s.topic, value: 'warm-up' })
  const hist = newHistogram()
  const window = 10_000
  let outstanding = 0
  let failed: Error | null = null
  let wake: (() => void) | null = null
  let bytes = 0
  const sentAt = new Float64Array(s.records)
  const cb = (r: ProduceRecord, err: Error | null) => {
    if (err) failed ??= err
    const i = (r as ProduceRecord & { i: number }).i
    hist.recordValue(Math.max(1, Math.round((performance.now() - sentAt[i]!) * 1000)))
    if (--outstanding <= window / 2 && wake !== null) {
      const w = wake
      wake = null
      w()
    }
  }
  const m = new Meter()
  m.start()
  for (let i = 0; i < s.records; i++) {
    if (outstanding >= window) await new Promise<void>((r) => (wake = r))
    if (failed) throw failed
    const value = payloads[i % payloads.length]!
    bytes += value.length
    outstanding++
    sentAt[i] = performance.now()
    client.produce({ topic: s.topic, value, i } as ProduceRecord, cb)
  }
  await client.flush()
  const w = m.stop()
  if (failed) throw failed
  await client.close()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes, window: w, latency: hist, latencyKind: 'per record, produce → ack' })
}

/**
 * produce-transactional: transactions of `s.transaction` (1,000) records, one after another on one
 * transactionalId: beginTransaction(), every record handed to produce() on its own (callback form),
 * endTransaction('commit'), which flushes and waits for them before EndTxn. The client's defaults
 * (idempotent, acks all, linger 10 ms), no compression. A warm-up transaction of one record first
 * (InitProducerId, the coordinator and metadata stay out of the window). Latency is per transaction,
 * beginTransaction() → the commit resolving. Each record's callback names its partition, so the
 * worker knows the commit markers the topic must hold (TxnFacts, checked by run.ts).
 */
async function produceTransactional(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  const client = new Client({ seedBrokers: s.bootstrap, clientId: 'bench', transactionalId: s.transactionalId, producerBatchCompression: [s.compression] })
  const touched = new Uint8Array(s.partitions)
  let failed: Error | null = null
  const cb = (r: ProduceRecord, err: Error | null) => {
    if (err) failed ??= err
    else touched[r.partition!] = 1
  }
  const markersOf = () => {
    let n = 0
    for (let p = 0; p < touched.length; p++) n += touched[p]!
    touched.fill(0)
    return n
  }
  client.beginTransaction()
  client.produce({ topic: s.topic, value: 'warm-up' }, cb)
  await client.endTransaction('commit')
  const warmMarkers = markersOf()
  const run = await timedTransactions(s, payloads, async (from, to) => {
    client.beginTransaction()
    for (let i = from; i < to; i++) client.produce({ topic: s.topic, value: payloads[i % payloads.length]! }, cb)
    // endTransaction rejects (TransactionAbortableError) when a record failed; failed says which.
    await client.endTransaction('commit').catch((err: Error) => {
      throw failed ?? err
    })
    return markersOf()
  })
  if (failed) throw failed
  await client.close()
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: s.records, bytes: run.bytes, window: run.window, latency: run.latency, latencyKind: 'per transaction, begin → commit', txn: { transactions: run.transactions, logRecords: s.records + 1, markers: warmMarkers + run.markers } })
}

/**
 * latency: a consumer in the same process (same clock) reads the topic while the producer sends at a
 * fixed rate; each record's key carries its scheduled send time.
 */
async function latency(s: WorkloadSpec): Promise<void> {
  const payloads = loadPayloads(s.payloadFile)
  let assigned = false
  const consumer = new Client({
    seedBrokers: s.bootstrap,
    clientId: 'bench-consumer',
    consumeTopics: [s.topic],
    consumerGroup: s.group,
    disableAutoCommit: true,
    onPartitionsAssigned: () => {
      assigned = true
    },
  })
  // KW_BENCH_LINGER overrides the default linger (10 ms) to show what it costs in latency.
  const linger = process.env.KW_BENCH_LINGER === undefined ? {} : { linger: Number(process.env.KW_BENCH_LINGER) }
  const producer = new Client({ seedBrokers: s.bootstrap, clientId: 'bench', producerBatchCompression: [s.compression], ...linger })
  await producer.produce({ topic: s.topic, value: 'warm-up', key: Buffer.alloc(0) })
  let stop = false
  let collector: LatencyCollector | null = null
  let warmups = 0
  const polling = (async () => {
    while (!stop) {
      const f = await consumer.pollFetches()
      f.eachRecord((r) => {
        if (collector === null || r.key === null || r.key.length !== 8) warmups++
        else collector.onRecord(r.key)
      })
    }
  })()
  if (!(await waitUntil(() => assigned && warmups > 0, 60_000))) throw new Error('the consumer got no partitions or did not see the warm-up record within 60 s')
  let failed: Error | null = null
  const cb = (_r: ProduceRecord, err: Error | null) => {
    if (err) failed ??= err
  }
  const sched = new Schedule(s.rate, s.seconds)
  collector = new LatencyCollector(sched.t0)
  const m = new Meter()
  m.start()
  while (!sched.done) {
    const due = sched.due()
    for (let k = 0; k < due; k++) {
      const i = sched.sent++
      producer.produce({ topic: s.topic, key: keyForTime(sched.scheduledAt(i)), value: payloads[i % payloads.length]! }, cb)
    }
    if (failed) throw failed
    await tick()
  }
  await producer.flush()
  const c = collector
  await waitUntil(() => c.received >= sched.total, 30_000)
  const w = m.stop()
  stop = true
  const lost = sched.total - c.received
  await Promise.all([producer.close(), consumer.close()])
  await polling.catch(() => {})
  report({ client: CLIENT, clientVersion: VERSION, spec: s, records: c.received, bytes: c.received * payloads[0]!.length, window: w, latency: c.hist, latencyKind: 'end to end (scheduled send → consumed)', notes: lost > 0 ? [`${lost} records not consumed within 30 s`] : [] })
}

if (RECYCLE && !spec.workload.startsWith('consume')) notApplicable('kafka-wire-recycle differs from kafka-wire in consuming only')
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
