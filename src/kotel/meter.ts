import { metrics, ValueType, type Attributes, type Counter, type Histogram, type Meter as OtelMeter, type MeterProvider } from '@opentelemetry/api'
import type { Socket } from 'node:net'
import type { Client } from '../client/client.js'
import type { ProduceRecord, Record } from '../protocol/record.js'
import { nodeName, type AllHooks, type BrokerMetadata, type FetchBatchMetrics, type ProduceBatchMetrics } from '../hooks/index.js'
import { ClientInfo } from './client-info.js'
import * as sc from './semconv.js'
import { RECORD_POLL, RECORD_PROCESS, RECORD_SEND, TIMED_BY_TRACER } from './symbols.js'
import { SCOPE_NAME, VERSION } from './version.js'

/** MeterOptions configure a kotel Meter. Every option is optional. */
export interface MeterOptions {
  /**
   * meterProvider makes the instruments. Default: the global meter provider, looked up again whenever
   * it changes: unlike the tracer provider, the API's global meter provider is no proxy, and a meter
   * taken before the SDK started would stay a no-op. Equivalent to franz-go kotel's MeterProvider.
   */
  meterProvider?: MeterProvider
  /**
   * mergedConnects counts failed connections in `messaging.kafka.connects.count` with
   * `outcome: 'failure'` (and successes with `outcome: 'success'`) instead of in
   * `messaging.kafka.connect_errors.count`. Default false. Equivalent to kotel's WithMergedConnectsMeter.
   */
  mergedConnects?: boolean
  /** brokerCounters records franz-go kotel's eleven `messaging.kafka.*` counters. Default true. */
  brokerCounters?: boolean
  /** semconv is the conventions flavour, resolved as the Tracer's option is. It sets the default of `semconvMetrics`. */
  semconv?: sc.SemconvFlavour
  /**
   * semconvMetrics records the conventions' metrics: `messaging.client.operation.duration` (send and
   * poll), `messaging.client.sent.messages`, `messaging.client.consumed.messages` and
   * `messaging.process.duration`. Default: true unless semconv is 'old'.
   */
  semconvMetrics?: boolean
  /** consumerGroup is the `messaging.consumer.group.name` attribute. Default: the client's consumerGroup (or shareGroup). */
  consumerGroup?: string
  /**
   * transactionCounters records `messaging.kafka.transactions.count`, one point per ended transaction
   * (the onTransactionEnd hook): attributes `transactional_id`, `end` ('commit' or 'abort'), `outcome`
   * ('success' or 'failure') and, on failure, `error.type`. Made on the first transaction, so clients
   * without one export no such metric. A kafka-wire addition. Default true.
   */
  transactionCounters?: boolean
}

interface Instruments {
  readonly provider: MeterProvider
  readonly connects: Counter
  readonly connectErrors: Counter | undefined
  readonly disconnects: Counter
  readonly writeErrors: Counter
  readonly writeBytes: Counter
  readonly readErrors: Counter
  readonly readBytes: Counter
  readonly produceBytes: Counter
  readonly produceRecords: Counter
  readonly fetchBytes: Counter
  readonly fetchRecords: Counter
  readonly operationDuration: Histogram
  readonly sentMessages: Counter
  readonly consumedMessages: Counter
  readonly processDuration: Histogram
}

interface PendingPoll {
  readonly start: number
  readonly records: Record[]
  scheduled: boolean
}


type MeterHooks = Pick<
  AllHooks<Client>,
  | 'onNewClient'
  | 'onBrokerConnect'
  | 'onBrokerDisconnect'
  | 'onBrokerWrite'
  | 'onBrokerRead'
  | 'onProduceBatchWritten'
  | 'onFetchBatchRead'
  | 'onProduceRecordBuffered'
  | 'onProduceRecordPartitioned'
  | 'onProduceRecordUnbuffered'
  | 'onFetchRecordUnbuffered'
  | 'onPollStart'
  | 'onTransactionEnd'
>

/**
 * Meter records franz-go kotel's broker counters and the OpenTelemetry messaging metrics:
 *
 * - `messaging.kafka.connects.count`, `.connect_errors.count`, `.disconnects.count`, `.write_errors.count`,
 *   `.write_bytes`, `.read_errors.count`, `.read_bytes.count`, `.produce_bytes.count`,
 *   `.produce_records.count`, `.fetch_bytes.count`, `.fetch_records.count`: with `node_id` (and `topic`
 *   for produce and fetch), units `1` and `By` (kotel writes `by`; UCUM spells bytes `By`);
 * - `messaging.client.operation.duration` per send (from `produce()` to the record's settling) and per
 *   poll that returns records; `messaging.client.sent.messages` per record that reached a partition's
 *   batch; `messaging.client.consumed.messages` per record a poll handed out;
 *   `messaging.process.duration` per process span ended (needs the Tracer, through Kotel).
 *
 * Used with a Tracer through `new Kotel({ tracer, meter })`, each duration is taken from the same two
 * timestamps as its span, as the conventions ask.
 */
export class Meter implements MeterHooks {
  readonly #provider: MeterProvider | undefined
  readonly #flavour: sc.SemconvFlavour
  readonly #merged: boolean
  readonly #brokerCounters: boolean
  readonly #semconvMetrics: boolean
  readonly #info: ClientInfo
  #instruments: Instruments | undefined
  #timedByTracer = false
  // Per-record state of sends, when this meter times them itself.
  readonly #sendStarts = new WeakMap<object, number>()
  readonly #partitioned = new WeakSet<object>()
  #poll: PendingPoll | null = null
  readonly #nodeAttrs = new Map<number, Attributes>()
  readonly #transactionCounters: boolean
  #transactions: { provider: MeterProvider; counter: Counter } | undefined

  constructor(opts: MeterOptions = {}) {
    this.#provider = opts.meterProvider
    this.#flavour = sc.resolveSemconv(opts.semconv)
    this.#merged = opts.mergedConnects === true
    this.#brokerCounters = opts.brokerCounters !== false
    this.#semconvMetrics = opts.semconvMetrics ?? this.#flavour !== 'old'
    this.#info = new ClientInfo(undefined, opts.consumerGroup)
    this.#transactionCounters = opts.transactionCounters !== false
  }

  /** semconv is the conventions flavour in use. */
  get semconv(): sc.SemconvFlavour {
    return this.#flavour
  }

  /** [TIMED_BY_TRACER] is called by Kotel when a Tracer times sends, polls and processing for this meter. */
  [TIMED_BY_TRACER](): void {
    this.#timedByTracer = true
  }

  // ------------------------------------------------------------------------------ kotel's counters

  onNewClient(client: Client): void {
    this.#info.attach(client)
  }

  onBrokerConnect(meta: BrokerMetadata, _initDuration: number, _socket: Socket | null, err: Error | null): void {
    if (!this.#brokerCounters) return
    const m = this.#get()
    if (this.#merged) m.connects.add(1, { node_id: nodeName(meta.nodeId), outcome: err === null ? 'success' : 'failure' })
    else if (err !== null) m.connectErrors!.add(1, this.#node(meta))
    else m.connects.add(1, this.#node(meta))
  }

  onBrokerDisconnect(meta: BrokerMetadata, _socket: Socket): void {
    if (!this.#brokerCounters) return
    this.#get().disconnects.add(1, this.#node(meta))
  }

  onBrokerWrite(meta: BrokerMetadata, _key: number, bytesWritten: number, _writeWait: number, _timeToWrite: number, err: Error | null): void {
    if (!this.#brokerCounters) return
    const m = this.#get()
    if (err !== null) m.writeErrors.add(1, this.#node(meta))
    else m.writeBytes.add(bytesWritten, this.#node(meta))
  }

  onBrokerRead(meta: BrokerMetadata, _key: number, bytesRead: number, _readWait: number, _timeToRead: number, err: Error | null): void {
    if (!this.#brokerCounters) return
    const m = this.#get()
    if (err !== null) m.readErrors.add(1, this.#node(meta))
    else m.readBytes.add(bytesRead, this.#node(meta))
  }

  onProduceBatchWritten(meta: BrokerMetadata, topic: string, _partition: number, pm: ProduceBatchMetrics): void {
    if (!this.#brokerCounters) return
    const m = this.#get()
    const attrs = { node_id: nodeName(meta.nodeId), topic }
    m.produceBytes.add(pm.uncompressedBytes, attrs)
    m.produceRecords.add(pm.numRecords, attrs)
  }

  onFetchBatchRead(meta: BrokerMetadata, topic: string, partition: number, fm: FetchBatchMetrics): void {
    this.#info.noteFetch(meta, topic, partition)
    if (!this.#brokerCounters) return
    const m = this.#get()
    const attrs = { node_id: nodeName(meta.nodeId), topic }
    m.fetchBytes.add(fm.uncompressedBytes, attrs)
    m.fetchRecords.add(fm.numRecords, attrs)
  }

  /** onTransactionEnd counts an ended transaction in `messaging.kafka.transactions.count`. */
  onTransactionEnd(transactionalId: string, committed: boolean, err: Error | null): void {
    if (!this.#transactionCounters) return
    const provider = this.#provider ?? metrics.getMeterProvider()
    let t = this.#transactions
    if (t === undefined || t.provider !== provider) {
      const meter = provider.getMeter(SCOPE_NAME, VERSION, { schemaUrl: this.#flavour === 'old' ? sc.SCHEMA_URL_OLD : sc.SCHEMA_URL_NEW })
      t = { provider, counter: meter.createCounter('messaging.kafka.transactions.count', { unit: '1', description: 'Total number of ended transactions, by transactional id, end and outcome', valueType: ValueType.INT }) }
      this.#transactions = t
    }
    const attrs: Attributes = { transactional_id: transactionalId, end: committed ? 'commit' : 'abort', outcome: err === null ? 'success' : 'failure' }
    if (err !== null) attrs[sc.ERROR_TYPE] = sc.errorType(err)
    t.counter.add(1, attrs)
  }

  // ----------------------------------------------------------------- the conventions' metrics

  onProduceRecordBuffered(record: ProduceRecord): void {
    if (!this.#semconvMetrics || this.#timedByTracer || record === null || typeof record !== 'object') return
    this.#sendStarts.set(record, performance.now())
  }

  /** onProduceRecordPartitioned marks a record as sent: the conventions count only messages the producer tried to send. */
  onProduceRecordPartitioned(record: ProduceRecord, _leaderNodeId: number): void {
    if (this.#semconvMetrics) this.#partitioned.add(record)
  }

  onProduceRecordUnbuffered(record: ProduceRecord, err: Error | null): void {
    if (!this.#semconvMetrics || this.#timedByTracer || record === null || typeof record !== 'object') return
    const start = this.#sendStarts.get(record)
    this.#sendStarts.delete(record)
    if (start !== undefined) this[RECORD_SEND](record, performance.now() - start, err)
  }

  onPollStart(_signal: AbortSignal | undefined): void {
    if (!this.#semconvMetrics || this.#timedByTracer) return
    this.#poll = { start: performance.now(), records: [], scheduled: false }
  }

  onFetchRecordUnbuffered(record: Record, polled: boolean): void {
    if (!polled || !this.#semconvMetrics || this.#timedByTracer) return
    const p = this.#poll
    if (p === null) {
      this.#countConsumed([record])
      return
    }
    p.records.push(record)
    if (!p.scheduled) {
      // A poll's records are handed out in one synchronous pass: this runs once the poll is complete.
      p.scheduled = true
      queueMicrotask(() => {
        if (this.#poll === p) this.#poll = null
        this[RECORD_POLL](p.records, performance.now() - p.start)
      })
    }
  }

  /** [RECORD_SEND] records a settled send that took `ms` milliseconds. */
  [RECORD_SEND](record: ProduceRecord, ms: number, err: Error | null): void {
    // Records that never joined a partition's batch (invalid, too large, unknown topic) were never sent.
    if (!this.#semconvMetrics || !this.#partitioned.has(record)) return
    this.#partitioned.delete(record)
    const m = this.#get()
    const attrs: Attributes = {
      [sc.MESSAGING_SYSTEM]: 'kafka',
      [sc.MESSAGING_OPERATION_NAME]: 'send',
      [sc.MESSAGING_DESTINATION_NAME]: record.topic,
    }
    const partition = record.partition ?? -1
    if (partition >= 0) {
      attrs[sc.MESSAGING_DESTINATION_PARTITION_ID] = String(partition)
      this.#server(attrs, this.#info.leader(record.topic, partition))
    }
    if (err !== null) attrs[sc.ERROR_TYPE] = sc.errorType(err)
    m.sentMessages.add(1, attrs)
    // A fresh object: the SDK may keep the attributes it was given.
    m.operationDuration.record(ms / 1000, { ...attrs, [sc.MESSAGING_OPERATION_TYPE]: 'send' })
  }

  /** [RECORD_POLL] records a poll that handed out `records` after `ms` milliseconds, and counts them as consumed. */
  [RECORD_POLL](records: Record[], ms: number): void {
    if (!this.#semconvMetrics || records.length === 0) return
    const attrs: Attributes = {
      [sc.MESSAGING_SYSTEM]: 'kafka',
      [sc.MESSAGING_OPERATION_NAME]: 'poll',
      [sc.MESSAGING_OPERATION_TYPE]: 'receive',
    }
    const first = records[0]!
    if (records.every((r) => r.topic === first.topic)) {
      attrs[sc.MESSAGING_DESTINATION_NAME] = first.topic
      if (records.every((r) => r.partition === first.partition)) {
        attrs[sc.MESSAGING_DESTINATION_PARTITION_ID] = String(first.partition)
        this.#server(attrs, this.#info.source(first.topic, first.partition))
      }
    }
    const group = this.#info.consumerGroup
    if (group !== undefined) attrs[sc.MESSAGING_CONSUMER_GROUP_NAME] = group
    this.#get().operationDuration.record(ms / 1000, attrs)
    this.#countConsumed(records)
  }

  /** [RECORD_PROCESS] records a process span's duration, `ms` milliseconds. */
  [RECORD_PROCESS](record: Record, ms: number, failed: boolean, err: unknown): void {
    if (!this.#semconvMetrics) return
    const attrs = this.#consumerAttributes('process', record.topic, record.partition)
    if (failed) attrs[sc.ERROR_TYPE] = sc.errorType(err)
    this.#get().processDuration.record(ms / 1000, attrs)
  }

  // ---------------------------------------------------------------------------------- helpers

  #countConsumed(records: Record[]): void {
    // One add per partition: the SDK hashes the attribute set on every call.
    const counts = new Map<string, { topic: string; partition: number; n: number }>()
    for (const r of records) {
      const k = `${r.topic}\u0000${r.partition}`
      const c = counts.get(k)
      if (c === undefined) counts.set(k, { topic: r.topic, partition: r.partition, n: 1 })
      else c.n++
    }
    const m = this.#get()
    for (const c of counts.values()) m.consumedMessages.add(c.n, this.#consumerAttributes('poll', c.topic, c.partition))
  }

  #consumerAttributes(op: 'poll' | 'process', topic: string, partition: number): Attributes {
    const attrs: Attributes = {
      [sc.MESSAGING_SYSTEM]: 'kafka',
      [sc.MESSAGING_OPERATION_NAME]: op,
      [sc.MESSAGING_DESTINATION_NAME]: topic,
      [sc.MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
    }
    const group = this.#info.consumerGroup
    if (group !== undefined) attrs[sc.MESSAGING_CONSUMER_GROUP_NAME] = group
    this.#server(attrs, this.#info.source(topic, partition))
    return attrs
  }

  #server(attrs: Attributes, meta: BrokerMetadata | undefined): void {
    if (meta === undefined) return
    attrs[sc.SERVER_ADDRESS] = meta.host
    attrs[sc.SERVER_PORT] = meta.port
  }

  #node(meta: BrokerMetadata): Attributes {
    let a = this.#nodeAttrs.get(meta.nodeId)
    if (a === undefined) {
      a = Object.freeze({ node_id: nodeName(meta.nodeId) })
      this.#nodeAttrs.set(meta.nodeId, a)
    }
    return a
  }

  /**
   * get returns the instruments, made on first use and made again when the global meter provider
   * changed (when no provider was given), so metrics recorded after the SDK starts are kept.
   */
  #get(): Instruments {
    const provider = this.#provider ?? metrics.getMeterProvider()
    const cur = this.#instruments
    if (cur !== undefined && cur.provider === provider) return cur
    const meter = provider.getMeter(SCOPE_NAME, VERSION, { schemaUrl: this.#flavour === 'old' ? sc.SCHEMA_URL_OLD : sc.SCHEMA_URL_NEW })
    this.#instruments = makeInstruments(provider, meter, { merged: this.#merged, broker: this.#brokerCounters, semconv: this.#semconvMetrics })
    return this.#instruments
  }
}

// Only the instruments of the enabled metric sets are made: an instrument that exists is an exported
// metric name for some SDKs and backends, even before it has a point.
function makeInstruments(provider: MeterProvider, meter: OtelMeter, opts: { merged: boolean; broker: boolean; semconv: boolean }): Instruments {
  const counter = (name: string, unit: string, description: string) => meter.createCounter(name, { unit, description, valueType: ValueType.INT })
  const histogram = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description, valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: [...sc.DURATION_BUCKETS] } })
  const broker = opts.broker
    ? {
        connects: counter('messaging.kafka.connects.count', '1', 'Total number of connections opened, by broker'),
        connectErrors: opts.merged ? undefined : counter('messaging.kafka.connect_errors.count', '1', 'Total number of connection errors, by broker'),
        disconnects: counter('messaging.kafka.disconnects.count', '1', 'Total number of connections closed, by broker'),
        writeErrors: counter('messaging.kafka.write_errors.count', '1', 'Total number of write errors, by broker'),
        writeBytes: counter('messaging.kafka.write_bytes', 'By', 'Total number of bytes written, by broker'),
        readErrors: counter('messaging.kafka.read_errors.count', '1', 'Total number of read errors, by broker'),
        readBytes: counter('messaging.kafka.read_bytes.count', 'By', 'Total number of bytes read, by broker'),
        produceBytes: counter('messaging.kafka.produce_bytes.count', 'By', 'Total number of uncompressed bytes produced, by broker and topic'),
        produceRecords: counter('messaging.kafka.produce_records.count', '1', 'Total number of produced records, by broker and topic'),
        fetchBytes: counter('messaging.kafka.fetch_bytes.count', 'By', 'Total number of uncompressed bytes fetched, by broker and topic'),
        fetchRecords: counter('messaging.kafka.fetch_records.count', '1', 'Total number of fetched records, by broker and topic'),
      }
    : {}
  const semconv = opts.semconv
    ? {
        operationDuration: histogram('messaging.client.operation.duration', 'Duration of a send or poll of the Kafka client'),
        sentMessages: counter('messaging.client.sent.messages', '{message}', 'Number of records the producer attempted to send to a broker'),
        consumedMessages: counter('messaging.client.consumed.messages', '{message}', 'Number of records handed to the application by polls'),
        processDuration: histogram('messaging.process.duration', 'Duration of processing a consumed record'),
      }
    : {}
  // Only the enabled sets are read: every use is behind its option's check.
  return { provider, ...broker, ...semconv } as Instruments
}
