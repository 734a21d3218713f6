/**
 * The KafkaJS producer over kafka-wire's Client. `send` and `sendBatch` hand each message to the
 * client's accumulator, so concurrent sends share batches and produce requests, and resolve with
 * KafkaJS's RecordMetadata once every message of the call has settled.
 */
import { Client, coreOf, producerOf } from '../client/client.js'
import { InvalidTopicError } from '../client/errors.js'
import { RECORD_CODEC } from '../client/producer/producer.js'
import type { ProduceRecord, ProduceRecordHeader } from '../protocol/record.js'
import type { RecordCompression } from '../protocol/records.js'
import { codecName, CompressionTypes } from './constants.js'
import {
  KafkaJSError,
  KafkaJSNonRetriableError,
  retriesSpent,
  toKafkaJSError,
  type KafkaJSError as KafkaJSErrorType,
} from './errors.js'
import { Instrumentation, PRODUCER_EVENTS, networkHooks, type InstrumentationEvent, type ProducerEvents, type RemoveInstrumentationEventListener } from './events.js'
import type { ConnectEvent, DisconnectEvent, RequestEvent, RequestQueueSizeEvent, RequestTimeoutEvent } from './types.js'
import type { KafkaContext, RetryOptions } from './context.js'
import { kafkaJSPartitioner, MESSAGE, Partitioners, type ICustomPartitioner, type IHeaders, type Message, type PartitionerFn, type RecordWithMessage } from './partitioners.js'
import type { Logger } from './logger.js'
import type { Transaction } from './transaction.js'
import { beginTransaction } from './transaction.js'

/** ProducerConfig configures a producer, as KafkaJS's. */
export interface ProducerConfig {
  /** createPartitioner picks partitions for messages without one. Default Partitioners.DefaultPartitioner. */
  createPartitioner?: ICustomPartitioner
  /** retry bounds retries of a send (retries, maxRetryTime, initialRetryTime, factor, multiplier). */
  retry?: RetryOptions
  /** metadataMaxAge refreshes metadata at least this often, in ms. Default 300,000. */
  metadataMaxAge?: number
  /** allowAutoTopicCreation lets sending to a missing topic create it (when the broker allows). Default true. */
  allowAutoTopicCreation?: boolean
  /** idempotent writes each message once, in order, despite retries; needs acks -1. Default false. */
  idempotent?: boolean
  /** transactionalId makes the producer transactional (producer.transaction()). */
  transactionalId?: string
  /** transactionTimeout is how long the coordinator waits before aborting an open transaction, in ms. Default 60,000. */
  transactionTimeout?: number
  /** maxInFlightRequests bounds produce requests in flight per broker. Default 5 (KafkaJS: unlimited). */
  maxInFlightRequests?: number
}

/** ProducerRecord is what `send` takes. */
export interface ProducerRecord {
  topic: string
  messages: Message[]
  /** acks: -1 (all in-sync replicas, the default), 1 (the leader) or 0 (no answer). */
  acks?: number
  /** timeout is how long the broker may wait for the acks, in ms. Default 30,000. */
  timeout?: number
  compression?: CompressionTypes
}

/** TopicMessages are one topic's messages in a sendBatch. */
export interface TopicMessages {
  topic: string
  messages: Message[]
}

/** ProducerBatch is what `sendBatch` takes. */
export interface ProducerBatch {
  acks?: number
  timeout?: number
  compression?: CompressionTypes
  topicMessages?: TopicMessages[]
}

/**
 * RecordMetadata is one partition's result of a send: the offset of the first message of the call
 * written there (`baseOffset`) and the broker's append time when the topic uses LogAppendTime ('-1'
 * otherwise). Offsets are strings, as in KafkaJS.
 */
export type RecordMetadata = {
  topicName: string
  partition: number
  errorCode: number
  offset?: string
  timestamp?: string
  baseOffset?: string
  logAppendTime?: string
  logStartOffset?: string
}

/** Sender is what producers and transactions share: send and sendBatch. */
export type Sender = {
  send(record: ProducerRecord): Promise<RecordMetadata[]>
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>
}

type Status = 'disconnected' | 'connected' | 'disconnecting'

const DEFAULT_TIMEOUT = 30_000

/**
 * Producer is KafkaJS's producer. Sends go through one kafka-wire Client per combination of acks and
 * timeout a program uses (usually one), with linger 0: a lone awaited send goes out at once, and the
 * messages of sends made in the same turn of the event loop share produce requests. A send's
 * `compression` rides on its records (sendOn), so it needs no client of its own.
 */
export class Producer implements Sender {
  readonly #ctx: KafkaContext
  readonly #config: ProducerConfig
  readonly #logger: Logger
  readonly #events: Instrumentation
  readonly #idempotent: boolean
  readonly #createPartitioner: ICustomPartitioner | undefined
  /** partitioner is the function createPartitioner made, once per producer as in KafkaJS. */
  readonly #partitioner: PartitionerFn | undefined
  #lanes = new Map<string, Client>()
  #status: Status = 'disconnected'
  #brokers: string[] | null = null
  #transactional: Client | null = null
  #inTransaction = false

  /** events are the names of the events `on` accepts. */
  readonly events: ProducerEvents = PRODUCER_EVENTS

  constructor(ctx: KafkaContext, config: ProducerConfig = {}) {
    this.#ctx = ctx
    this.#config = { ...config }
    this.#logger = ctx.logger.namespace('Producer')
    this.#events = new Instrumentation('producer', PRODUCER_EVENTS, this.#logger)
    this.#idempotent = config.idempotent === true
    const retries = config.retry?.retries
    if (this.#idempotent && retries !== undefined && retries < 1) {
      throw new KafkaJSNonRetriableError('Idempotent producer must allow retries to protect against transient errors')
    }
    if (config.createPartitioner !== undefined && typeof config.createPartitioner !== 'function') {
      throw new KafkaJSNonRetriableError('createPartitioner must be a function')
    }
    // The default partitioner is the client's own: the same partitions for keys, without a call per message.
    this.#createPartitioner = config.createPartitioner === Partitioners.DefaultPartitioner ? undefined : config.createPartitioner
    this.#partitioner = this.#createPartitioner?.()
    if (this.#partitioner !== undefined && typeof this.#partitioner !== 'function') throw new KafkaJSNonRetriableError('createPartitioner must return a partitioner function')
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * connect reaches the cluster (a metadata request through the seed brokers, with SASL when
   * configured) and emits CONNECT. Connection and authentication failures reject here.
   */
  async connect(): Promise<void> {
    this.#brokers = await this.#ctx.brokers()
    const lane = this.#lane(-1, DEFAULT_TIMEOUT)
    try {
      await coreOf(lane).metadata.refresh(true)
    } catch (err) {
      throw retriesSpent(this.#error(err, lane), this.#retryOptions())
    }
    this.#status = 'connected'
    this.#events.emit(PRODUCER_EVENTS.CONNECT)
  }

  /**
   * disconnect waits for the messages already sent to settle (their sends resolve or reject), closes
   * every connection and emits DISCONNECT. Sends made meanwhile are refused. An open transaction is
   * aborted (kafka-wire's close does), and after connect the producer can begin a new one.
   */
  async disconnect(): Promise<void> {
    this.#status = 'disconnecting'
    const lanes = [...this.#lanes.values()]
    if (this.#transactional !== null) lanes.push(this.#transactional)
    await Promise.all(lanes.map((c) => c.flush().catch(() => {})))
    await Promise.all(lanes.map((c) => c.close()))
    this.#lanes.clear()
    this.#transactional = null
    this.#inTransaction = false
    this.#status = 'disconnected'
    this.#events.emit(PRODUCER_EVENTS.DISCONNECT)
  }

  /** isIdempotent tells whether the producer was configured idempotent. */
  isIdempotent(): boolean {
    return this.#idempotent
  }

  /** logger returns the producer's logger. */
  logger(): Logger {
    return this.#logger
  }

  /** on listens to one of `producer.events`; it returns the function that removes the listener. */
  on(eventName: ProducerEvents['REQUEST'], listener: (event: RequestEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ProducerEvents['REQUEST_TIMEOUT'], listener: (event: RequestTimeoutEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ProducerEvents['REQUEST_QUEUE_SIZE'], listener: (event: RequestQueueSizeEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ProducerEvents['CONNECT'], listener: (event: ConnectEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ProducerEvents['DISCONNECT'], listener: (event: DisconnectEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ProducerEvents[keyof ProducerEvents], listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ProducerEvents[keyof ProducerEvents], listener: (event: InstrumentationEvent<any>) => void): () => void {
    return this.#events.on(eventName, listener)
  }

  // ---------------------------------------------------------------- sending

  /** send sends messages to one topic and resolves with each partition's RecordMetadata. */
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (record === null || typeof record !== 'object') return Promise.reject(new KafkaJSNonRetriableError('Invalid topic'))
    return this.sendBatch({ acks: record.acks, timeout: record.timeout, compression: record.compression, topicMessages: [{ topic: record.topic, messages: record.messages }] })
  }

  /** sendBatch sends messages to several topics in one call and resolves with each partition's RecordMetadata. */
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    let lane: Client
    try {
      lane = this.#prepare(batch, null)
    } catch (err) {
      return Promise.reject(err)
    }
    return sendOn(lane, batch, this.#createPartitioner !== undefined, (err) => this.#sendError(err, lane))
  }

  /**
   * transaction begins a transaction on the transactional producer (`transactionalId`) and returns
   * it; only messages sent through it are part of it, and one transaction at a time is open. The
   * first one initializes the producer id, which fences older producers of the same transactionalId.
   */
  async transaction(): Promise<Transaction> {
    if (this.#config.transactionalId === undefined) throw new KafkaJSNonRetriableError('Must provide transactional id for transactional producer')
    if (this.#inTransaction) throw new KafkaJSNonRetriableError('There is already an ongoing transaction for this producer. Please end the transaction before beginning another.')
    if (this.#status !== 'connected') throw new KafkaJSError('The producer is disconnected')
    this.#transactional ??= this.#client(-1, DEFAULT_TIMEOUT, true)
    const client = this.#transactional
    this.#inTransaction = true
    try {
      return await beginTransaction(client, {
        validate: (batch) => this.#prepare(batch, client),
        hasPartitioner: this.#createPartitioner !== undefined,
        sendError: (err) => this.#sendError(err, client),
        error: (err) => this.#error(err, client),
        ended: () => {
          this.#inTransaction = false
        },
      })
    } catch (err) {
      this.#inTransaction = false
      throw err
    }
  }

  // ---------------------------------------------------------------- internals

  /** prepare validates a batch as KafkaJS does and returns the client to send it through. */
  #prepare(batch: ProducerBatch, fixed: Client | null): Client {
    if (batch === null || typeof batch !== 'object') throw new KafkaJSNonRetriableError('Invalid topic')
    const topicMessages = batch.topicMessages ?? []
    if (topicMessages.some((tm) => !tm || !tm.topic)) throw new KafkaJSNonRetriableError('Invalid topic')
    const acks = batch.acks ?? -1
    if ((this.#idempotent || fixed !== null) && acks !== -1) {
      throw new KafkaJSNonRetriableError("Not requiring ack for all messages invalidates the idempotent producer's EoS guarantees")
    }
    for (const { topic, messages } of topicMessages) {
      if (!messages || !Array.isArray(messages)) throw new KafkaJSNonRetriableError(`Invalid messages array [${String(messages)}] for topic "${topic}"`)
      for (const m of messages) {
        if (m === null || typeof m !== 'object' || m.value === undefined) {
          throw new KafkaJSNonRetriableError(`Invalid message without value for topic "${topic}": ${JSON.stringify(m)}`)
        }
      }
    }
    if (this.#status === 'disconnecting') throw new KafkaJSNonRetriableError("The producer is disconnecting; therefore, it can't safely accept messages anymore")
    if (this.#status === 'disconnected') throw new KafkaJSError('The producer is disconnected')
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new KafkaJSNonRetriableError(`Invalid acks ${String(acks)}: expected -1, 0 or 1`)
    const compression = batch.compression ?? CompressionTypes.None
    if (codecName(compression) === undefined) throw new KafkaJSNonRetriableError(`Unsupported compression codec ${String(compression)}`)
    const timeout = batch.timeout ?? DEFAULT_TIMEOUT
    if (typeof timeout !== 'number' || !(timeout > 0)) throw new KafkaJSNonRetriableError(`Invalid timeout ${String(timeout)}`)
    if (fixed !== null) {
      // The transactional client is one client: a request timeout is the client's, for every request.
      if (timeout !== DEFAULT_TIMEOUT) throw new KafkaJSNonRetriableError('transactions send with the producer\'s request timeout (30 s): timeout cannot be set per send')
      return fixed
    }
    return this.#lane(acks, timeout)
  }

  /** lane returns the client for a combination of acks and timeout, made on first use. */
  #lane(acks: number, timeout: number): Client {
    const key = `${acks}/${timeout}`
    let c = this.#lanes.get(key)
    if (c === undefined) {
      c = this.#client(acks, timeout, false)
      this.#lanes.set(key, c)
    }
    return c
  }

  /**
   * client builds a kafka-wire Client for the producer's settings and a combination of acks and
   * timeout. Its batches are uncompressed unless their records carry a codec (RECORD_CODEC, sendOn).
   */
  #client(acks: number, timeout: number, transactional: boolean): Client {
    const cfg = this.#config
    const retries = cfg.retry?.retries ?? this.#ctx.retry.retries ?? (this.#idempotent ? Number.MAX_SAFE_INTEGER : 5)
    const idempotent = this.#idempotent || transactional
    let inflight = cfg.maxInFlightRequests ?? 5
    if (!(inflight >= 1)) inflight = 5
    if (idempotent) inflight = Math.min(inflight, 5)
    const hooks = [networkHooks(this.#events, PRODUCER_EVENTS, this.#ctx.clientId)]
    // A KafkaJS partitioner reads the partition metadata of the client it partitions for.
    let made: Client | null = null
    const partitioner = this.#partitioner === undefined ? 'default' : kafkaJSPartitioner(this.#partitioner, (topic) => (made === null ? undefined : coreOf(made).metadata.topics.get(topic)))
    made = new Client({
      ...this.#ctx.clientOptions(this.#brokers ?? [], hooks, cfg.retry),
      ...this.#producerOptions(acks, timeout, idempotent, retries, inflight),
      partitioner,
      ...(transactional ? transactionalOptions(cfg) : {}),
    })
    producerOf(made).recordCodecs = true
    return made
  }

  #producerOptions(acks: number, timeout: number, idempotent: boolean, retries: number, inflight: number) {
    const cfg = this.#config
    return {
      requiredAcks: acks === -1 ? ('all' as const) : (acks as 0 | 1),
      disableIdempotentWrite: !idempotent,
      linger: 0,
      produceRequestTimeout: timeout,
      recordRetries: retries,
      maxProduceRequestsInflightPerBroker: inflight,
      metadataMaxAge: cfg.metadataMaxAge ?? 300_000,
      allowAutoTopicCreation: cfg.allowAutoTopicCreation !== false,
      // KafkaJS fails a send to a missing topic after its retries; one metadata load per retry.
      unknownTopicRetries: Math.min(retries, 5),
    }
  }

  #error(err: unknown, client: Client): KafkaJSErrorType {
    return toKafkaJSError(err, (id) => {
      const b = coreOf(client).metadata.brokers.get(id)
      return b === undefined ? undefined : `${b.host}:${b.port}`
    })
  }

  /**
   * sendError maps a failed message's error; a retriable one has used up its retries. An invalid topic
   * name is what KafkaJS learns from metadata, before producing, where its retrier wraps a
   * non-retriable error in KafkaJSNonRetriableError.
   */
  #sendError(err: unknown, client: Client): Error {
    const e = this.#error(err, client)
    if (err instanceof InvalidTopicError) return new KafkaJSNonRetriableError(e, { cause: e })
    return retriesSpent(e, this.#retryOptions())
  }

  /** retryOptions are the retry settings this producer's calls use: the Kafka's, then its own. */
  #retryOptions(): RetryOptions {
    return { ...this.#ctx.retry, ...this.#config.retry }
  }
}

function transactionalOptions(cfg: ProducerConfig): object {
  return { transactionalId: cfg.transactionalId, transactionTimeout: cfg.transactionTimeout ?? 60_000 }
}

/** headersOf turns KafkaJS headers into the client's: arrays become repeated keys, undefined values are skipped. */
function headersOf(h: IHeaders): ProduceRecordHeader[] {
  const out: ProduceRecordHeader[] = []
  for (const key in h) {
    const v = h[key]
    if (v === undefined) continue
    if (Array.isArray(v)) for (const x of v) out.push({ key, value: x })
    else out.push({ key, value: v })
  }
  return out
}

/**
 * sendOn produces every message of a batch through a client and resolves, once all have settled,
 * with KafkaJS's RecordMetadata per topic and partition, or rejects with the first failure. One
 * callback serves every message of the call; no promise is made per message. The batch's
 * `compression` goes on each record, for the client's producer (`recordCodecs`) to batch by.
 */
export function sendOn(client: Client, batch: ProducerBatch, keepMessage: boolean, mapError: (err: unknown) => Error): Promise<RecordMetadata[]> {
  const topicMessages = batch.topicMessages ?? []
  let total = 0
  for (const tm of topicMessages) total += tm.messages.length
  if (total === 0) return Promise.resolve([])
  const acks = batch.acks ?? -1
  const codec = (batch.compression ?? CompressionTypes.None) as RecordCompression
  return new Promise<RecordMetadata[]>((resolve, reject) => {
    const records: ProduceRecord[] = new Array(total)
    let left = total
    let failure: unknown = null
    const done = (_r: ProduceRecord, err: Error | null) => {
      if (err !== null && failure === null) failure = err
      if (--left !== 0) return
      if (failure !== null) reject(mapError(failure))
      else resolve(acks === 0 ? [] : metadataOf(records))
    }
    const now = Date.now()
    let i = 0
    for (const { topic, messages } of topicMessages) {
      for (let j = 0; j < messages.length; j++) {
        const m = messages[j]!
        const rec: RecordWithMessage & { [RECORD_CODEC]?: RecordCompression } = {
          topic,
          key: m.key ?? null,
          value: m.value,
          timestamp: m.timestamp === undefined || m.timestamp === null ? now : Number(m.timestamp),
        }
        if (m.partition !== undefined && m.partition !== null) rec.partition = m.partition
        if (m.headers !== undefined && m.headers !== null) rec.headers = headersOf(m.headers)
        if (keepMessage) rec[MESSAGE] = m
        if (codec !== 0) rec[RECORD_CODEC] = codec
        records[i++] = rec
      }
    }
    // Every record is buffered first, then they settle: a callback cannot run before its record is in
    // `records` (the client settles at the earliest on a later turn, or synchronously for an invalid
    // record, which `done` handles the same way).
    for (let k = 0; k < total; k++) client.produce(records[k]!, done)
  })
}

/** metadataOf groups settled records into KafkaJS's RecordMetadata: per topic and partition, the first offset. */
function metadataOf(records: ProduceRecord[]): RecordMetadata[] {
  const byTopic = new Map<string, Map<number, bigint>>()
  for (const r of records) {
    let m = byTopic.get(r.topic)
    if (m === undefined) byTopic.set(r.topic, (m = new Map()))
    const p = r.partition!
    const o = r.offset!
    const cur = m.get(p)
    if (cur === undefined || o < cur) m.set(p, o)
  }
  const out: RecordMetadata[] = []
  for (const [topicName, ps] of byTopic) {
    for (const p of [...ps.keys()].sort((a, b) => a - b)) {
      out.push({ topicName, partition: p, errorCode: 0, baseOffset: String(ps.get(p)), logAppendTime: '-1', logStartOffset: '-1' })
    }
  }
  return out
}
