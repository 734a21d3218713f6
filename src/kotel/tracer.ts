import {
  context,
  createContextKey,
  diag,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type TextMapPropagator,
  type Tracer as OtelTracer,
  type TracerProvider,
} from '@opentelemetry/api'
import type { Client } from '../client/client.js'
import type { ProduceRecord, Record } from '../protocol/record.js'
import type { AllHooks, BrokerMetadata, FetchBatchMetrics } from '../hooks/index.js'
import { RecordCarrier } from './carrier.js'
import { anchorOf, at, compareHrTime, freshAnchor, hrDurationMs, ownAnchor, rememberAnchor, wallUpperBound, type Anchor } from './clock.js'
import { ClientInfo } from './client-info.js'
import type { Meter } from './meter.js'
import { PropagatorChoice } from './propagator.js'
import * as sc from './semconv.js'
import { LINK_METER, RECORD_POLL, RECORD_PROCESS, RECORD_SEND } from './symbols.js'
import { SCOPE_NAME, VERSION } from './version.js'

/** TracerOptions configure a kotel Tracer. Every option is optional. */
export interface TracerOptions {
  /**
   * tracerProvider makes the spans. Default: the global provider (`trace.getTracerProvider()`), a proxy
   * that starts recording once an SDK registers, even if that happens after the client is built.
   * Equivalent to franz-go kotel's TracerProvider.
   */
  tracerProvider?: TracerProvider
  /**
   * propagator writes the send span's context into record headers and reads it back on the consumer.
   * Default: the global propagator when one is registered, else kotel's built-in W3C trace-context
   * propagator (`traceparent`, `tracestate`), so traces connect with no setup; OTEL_PROPAGATORS=none
   * turns the default off. `null`: never write or read headers. Equivalent to kotel's TracerPropagator,
   * whose default (Go's no-op global) is why franz-go #624's consumer traces did not connect.
   */
  propagator?: TextMapPropagator | null
  /**
   * linkSpans starts the consumer's spans of a record in a trace of their own, linked to the producer's
   * span, instead of as children of it in the producer's trace. Default false. Equivalent to kotel's
   * LinkSpans (franz-go #940, #941); `linkedTraces` says how the consumer's spans group into traces.
   */
  linkSpans?: boolean
  /**
   * linkedTraces is the shape of the consumer's traces under `linkSpans`:
   *
   * - 'record' (default): one trace per record, whose root is the receive span (linked to the
   *   producer's span) with the process span as its child (also linked to the producer's span), so one
   *   timeline shows how long the record waited and how long its processing took;
   * - 'span': every receive span and every process span a trace of its own, the receive span linked to
   *   the producer's span and the process span to the receive span and the producer's span: franz-go
   *   kotel's LinkSpans shape (2N+1 traces for N records).
   *
   * Without receive spans both shapes make the process span a root linked to the producer's span.
   */
  linkedTraces?: 'record' | 'span'
  /**
   * semconv picks the messaging conventions: 'new' (v1.44 names and keys), 'old' (franz-go kotel's
   * v1.18 span names and keys, exactly) or 'dup' (both key sets, new names and kinds). Default:
   * OTEL_SEMCONV_STABILITY_OPT_IN (`messaging` → 'new', `messaging/dup` → 'dup'), else 'new'.
   */
  semconv?: sc.SemconvFlavour
  /** clientId is the `messaging.client.id` attribute. Default: the client's clientId. Equivalent to kotel's ClientID. */
  clientId?: string
  /** consumerGroup is the consumer group attribute. Default: the client's consumerGroup (or shareGroup). Equivalent to kotel's ConsumerGroup. */
  consumerGroup?: string
  /**
   * keyFormatter renders a non-null record key for the key attribute, replacing UTF-8 decoding (keys
   * that are not valid UTF-8 are otherwise left out). Returning undefined or throwing leaves the
   * attribute out. Equivalent to kotel's KeyFormatter.
   */
  keyFormatter?: (record: Record | ProduceRecord) => string | undefined
  /**
   * receiveSpans records a receive span per fetched record, from when it is buffered to when it is
   * polled or dropped, as franz-go's kotel does. Default true. The conventions say receive spans MUST
   * NOT be created for records prefetched into a buffer before the application asks for them; this
   * default keeps kotel's shape, which shows how long records wait in the client. Set false (and
   * perhaps `pollSpans: true`) for the conventions' shape.
   */
  receiveSpans?: boolean
  /**
   * pollSpans records a `poll <topic>` CLIENT span per poll that returns records, a child of the
   * context active when `pollFetches` was called, with one link per record to its producer's span.
   * Default false. Not emitted with semconv 'old' (franz-go's kotel has no poll span).
   */
  pollSpans?: boolean
  /** recordException adds an `exception` event to failed spans, as kotel's RecordError. Default true. */
  recordException?: boolean
  /** recordBodySize sets the opt-in `messaging.message.body.size` on send, receive and process spans. Default false. */
  recordBodySize?: boolean
  /** producerHook is called with each send span after it starts; a throw is logged and ignored. */
  producerHook?: (span: Span, record: ProduceRecord) => void
  /** consumerHook is called with each receive and process span after it starts; a throw is logged and ignored. */
  consumerHook?: (span: Span, record: Record) => void
}

/** ProcessSpanOptions say where a process span goes. */
export interface ProcessSpanOptions {
  /**
   * parent is the context the processing runs in (a poll loop's span, an HTTP request's). When it
   * holds a valid span, the process span is its child in either mode, linked to the producer's span
   * (and in link mode to the receive span too): the fix franz-go's users asked for in #1079.
   * Its other values, such as baggage, are kept in the returned context.
   */
  parent?: Context
}

/** ProcessSpan is a started process span and the context that holds it. */
export interface ProcessSpan {
  readonly span: Span
  /** context holds the process span; run the processing in it (`context.with`). */
  readonly context: Context
  /** end ends the span, marked failed when `err` is given (even a falsy one), and records its duration. Later calls do nothing. */
  end(err?: unknown): void
}

interface SendState {
  readonly span: Span
  readonly anchor: Anchor
  readonly start: HrTime
  ended: boolean
}

interface PendingPoll {
  readonly anchor: Anchor
  readonly startPerf: number
  readonly ctx: Context
  readonly records: Record[]
  scheduled: boolean
}

// Values kotel keeps in a record's context. Context values are immutable, so a record's context can be
// handed on (re-produced, given to process spans) without kotel's state changing under it.
const SEND_STATE = createContextKey('kafka-wire/kotel send span')
const RECEIVE_SPAN = createContextKey('kafka-wire/kotel receive span')
const CREATION_CONTEXT = createContextKey('kafka-wire/kotel creation context')

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

type TracerHooks = Pick<
  AllHooks<Client>,
  'onNewClient' | 'onProduceRecordBuffered' | 'onProduceRecordUnbuffered' | 'onFetchBatchRead' | 'onFetchRecordBuffered' | 'onFetchRecordUnbuffered' | 'onPollStart'
>

/**
 * Tracer records a span for each record's send, receive and processing, after franz-go's kotel.Tracer,
 * and carries the trace across Kafka in record headers:
 *
 * - send: started in onProduceRecordBuffered, on the caller's stack, as a child of `record.context` or
 *   else the active context; its context is injected into the headers (replacing any header of the same
 *   key) and becomes `record.context`; it ends when the record settles, with partition and offset, or
 *   marked failed with `error.type`;
 * - receive: from when a fetched record is buffered to when it is polled or dropped, a child of the
 *   context extracted from its headers, or with `linkSpans` a new trace linked to it (the record's
 *   consumer trace, which its process span joins, unless `linkedTraces: 'span'`);
 * - process: started by the application with `processSpan` or `process`;
 * - poll (opt-in): one span per poll, linked to each record's producer span.
 *
 * Pass it to the client through `new Kotel({ tracer }).hooks()` or directly in the `hooks` option.
 */
export class Tracer implements TracerHooks {
  readonly #tracer: OtelTracer
  readonly #propagators: PropagatorChoice
  readonly #flavour: sc.SemconvFlavour
  readonly #new: boolean
  readonly #old: boolean
  readonly #linkSpans: boolean
  readonly #tracePerSpan: boolean
  readonly #receiveSpans: boolean
  readonly #pollSpans: boolean
  readonly #recordException: boolean
  readonly #recordBodySize: boolean
  readonly #keyFormatter: TracerOptions['keyFormatter']
  readonly #producerHook: TracerOptions['producerHook']
  readonly #consumerHook: TracerOptions['consumerHook']
  readonly #info: ClientInfo
  #meter: Meter | undefined
  #poll: PendingPoll | null = null

  constructor(opts: TracerOptions = {}) {
    this.#flavour = sc.resolveSemconv(opts.semconv)
    this.#new = this.#flavour !== 'old'
    this.#old = this.#flavour !== 'new'
    const provider = opts.tracerProvider ?? trace.getTracerProvider()
    this.#tracer = provider.getTracer(SCOPE_NAME, VERSION, { schemaUrl: this.#flavour === 'old' ? sc.SCHEMA_URL_OLD : sc.SCHEMA_URL_NEW })
    this.#propagators = new PropagatorChoice(opts.propagator)
    this.#linkSpans = opts.linkSpans === true
    if (opts.linkedTraces !== undefined && opts.linkedTraces !== 'record' && opts.linkedTraces !== 'span') {
      throw new TypeError(`kafka-wire/kotel: linkedTraces must be 'record' or 'span', got ${JSON.stringify(opts.linkedTraces)}`)
    }
    this.#tracePerSpan = opts.linkedTraces === 'span'
    this.#receiveSpans = opts.receiveSpans !== false
    this.#pollSpans = opts.pollSpans === true && this.#new
    this.#recordException = opts.recordException !== false
    this.#recordBodySize = opts.recordBodySize === true
    this.#keyFormatter = opts.keyFormatter
    this.#producerHook = opts.producerHook
    this.#consumerHook = opts.consumerHook
    this.#info = new ClientInfo(opts.clientId, opts.consumerGroup)
  }

  /** semconv is the conventions flavour in use. */
  get semconv(): sc.SemconvFlavour {
    return this.#flavour
  }

  /** linkSpans tells whether consumer spans are new traces linked upstream (true) or children (false). */
  get linkSpans(): boolean {
    return this.#linkSpans
  }

  /** linkedTraces is the shape of the consumer's traces under linkSpans: 'record' or 'span' (franz-go's). */
  get linkedTraces(): 'record' | 'span' {
    return this.#tracePerSpan ? 'span' : 'record'
  }

  /** [LINK_METER] is called by Kotel: sends, polls and processing are then timed here and reported to the meter. */
  [LINK_METER](meter: Meter): void {
    this.#meter = meter
  }

  // ------------------------------------------------------------------------------------------ hooks

  /** onNewClient learns the client id, consumer group and cluster of the client. */
  onNewClient(client: Client): void {
    this.#info.attach(client)
  }

  /** onFetchBatchRead notes the broker each partition's records come from, for `server.address`. */
  onFetchBatchRead(meta: BrokerMetadata, topic: string, partition: number, _m: FetchBatchMetrics): void {
    this.#info.noteFetch(meta, topic, partition)
  }

  /**
   * onProduceRecordBuffered starts the send span. It runs on the caller's stack inside `produce()`, so
   * `context.active()` is the caller's context.
   */
  onProduceRecordBuffered(record: ProduceRecord): void {
    if (record === null || typeof record !== 'object') return // fails validation; nothing to trace
    const base = isContext(record.context) ? record.context : context.active()
    const topic = typeof record.topic === 'string' ? record.topic : ''
    // An application span that awaits the send lends it its clock, so the send ends inside it.
    const anchor = anchorOf(trace.getSpan(base)) ?? freshAnchor()
    const start = at(anchor, performance.now())
    const span = this.#tracer.startSpan(
      this.#new ? `send ${topic}` : `${topic} publish`,
      { kind: SpanKind.PRODUCER, attributes: this.#sendAttributes(record, topic), startTime: start },
      base,
    )
    rememberAnchor(span, anchor)
    const state: SendState = { span, anchor, start, ended: false }
    const ctx = trace.setSpan(base, span).setValue(SEND_STATE, state)
    this.#inject(ctx, record)
    record.context = ctx
    if (this.#producerHook !== undefined) this.#callHook('producerHook', () => this.#producerHook!(span, record))
  }

  /** onProduceRecordUnbuffered ends the send span with where the record landed, or why it failed. */
  onProduceRecordUnbuffered(record: ProduceRecord, err: Error | null): void {
    const ctx = record?.context
    if (!isContext(ctx)) return
    const state = ctx.getValue(SEND_STATE) as SendState | undefined
    if (state === undefined || state.ended) return
    state.ended = true
    const span = state.span
    const partition = typeof record.partition === 'number' && record.partition >= 0 ? record.partition : -1
    const offset = err === null && typeof record.offset === 'bigint' && record.offset >= 0n ? record.offset : -1n
    const attrs: Attributes = {}
    if (this.#new) {
      if (partition >= 0) attrs[sc.MESSAGING_DESTINATION_PARTITION_ID] = String(partition)
      if (offset >= 0n) attrs[sc.MESSAGING_KAFKA_OFFSET] = Number(offset)
      const leader = partition >= 0 ? this.#info.leader(record.topic, partition) : undefined
      if (leader !== undefined) {
        attrs[sc.SERVER_ADDRESS] = leader.host
        attrs[sc.SERVER_PORT] = leader.port
      }
      const cluster = this.#info.clusterId
      if (cluster !== undefined) attrs[sc.MESSAGING_KAFKA_CLUSTER_ID] = cluster
    }
    if (this.#old) {
      if (partition >= 0) attrs[sc.OLD_KAFKA_DESTINATION_PARTITION] = partition
      if (offset >= 0n) attrs[sc.OLD_KAFKA_MESSAGE_OFFSET] = Number(offset)
    }
    span.setAttributes(attrs)
    const end = at(state.anchor, performance.now())
    if (err !== null) this.#fail(span, err, end)
    span.end(end)
    this.#meter?.[RECORD_SEND](record, hrDurationMs(state.start, end), err)
  }

  /**
   * onFetchRecordBuffered starts the receive span of a fetched record. Its base is the record's own
   * context, never `context.active()`: the fetch loop runs in whatever context the consumer started in,
   * which has nothing to do with the record.
   */
  onFetchRecordBuffered(record: Record): void {
    const base = isContext(record.context) ? record.context : ROOT_CONTEXT
    const extracted = this.#extract(base, record)
    const creation = trace.getSpanContext(extracted)
    const valid = creation !== undefined && isSpanContextValid(creation)
    const ctx = valid ? extracted.setValue(CREATION_CONTEXT, creation) : extracted
    if (!this.#receiveSpans) {
      record.context = ctx
      return
    }
    // The fetch loop's context is not the record's: the receive span takes a clock of its own.
    const anchor = freshAnchor()
    const opts: SpanOptions = {
      kind: this.#new ? SpanKind.CLIENT : SpanKind.CONSUMER,
      attributes: this.#consumerAttributes('receive', record),
      startTime: at(anchor, anchor.perf),
    }
    if (this.#linkSpans) {
      // A new trace that keeps the extracted context's other values (baggage): `root` drops only its span.
      opts.root = true
      if (valid) opts.links = [{ context: creation }]
    }
    const span = this.#tracer.startSpan(this.#new ? `receive ${record.topic}` : `${record.topic} receive`, opts, extracted)
    rememberAnchor(span, anchor)
    record.context = trace.setSpan(ctx, span).setValue(RECEIVE_SPAN, span)
    if (this.#consumerHook !== undefined) this.#callHook('consumerHook', () => this.#consumerHook!(span, record))
  }

  /** onFetchRecordUnbuffered ends the receive span, whether the record was polled or dropped. */
  onFetchRecordUnbuffered(record: Record, polled: boolean): void {
    const ctx = record.context
    if (isContext(ctx)) {
      const span = ctx.getValue(RECEIVE_SPAN) as Span | undefined
      if (span !== undefined && span.isRecording()) {
        const anchor = ownAnchor(span)
        span.end(anchor !== undefined ? at(anchor, performance.now()) : undefined)
      }
    }
    if (!polled) return
    const p = this.#poll
    if (p === null) return
    p.records.push(record)
    if (!p.scheduled) {
      // The consumer hands out a poll's records in one synchronous pass and then returns them, so a
      // microtask queued by the first one runs once the poll is complete, before its caller resumes.
      p.scheduled = true
      queueMicrotask(() => this.#finishPoll(p))
    }
  }

  /**
   * onPollStart notes when a poll began and in which context, for its poll span and its duration. A
   * poll that returns nothing leaves no trace: no hook marks its end.
   */
  onPollStart(_signal: AbortSignal | undefined): void {
    if (!this.#pollSpans && this.#meter === undefined) return
    const ctx = context.active()
    // The poll span goes inside the span that awaits the poll, on its clock when that can be read.
    const anchor = anchorOf(trace.getSpan(ctx)) ?? freshAnchor()
    this.#poll = { anchor, startPerf: performance.now(), ctx, records: [], scheduled: false }
  }

  // ---------------------------------------------------------------------------------------- process

  /**
   * processSpan starts a process span for a consumed record; end it with `end()` when the processing
   * is done. Its place in the trace:
   *
   * - `parent` holding a valid span: a child of it, in any mode, linked to the producer's span (and,
   *   with linkSpans, to the receive span first);
   * - default mode: a child of the record's receive span (of the producer's span without receive spans);
   * - linkSpans (`linkedTraces: 'record'`): a child of the receive span, in the record's consumer trace,
   *   linked to the producer's span; without receive spans, a new trace linked to the producer's span;
   * - linkSpans with `linkedTraces: 'span'`: a new trace linked to the receive span and to the
   *   producer's span.
   *
   * Its times are the SDK's clock: inside a running `parent`, that span's clock, so it ends inside it;
   * otherwise its own, and it ends no earlier than the wall clock, so the spans the application starts
   * inside it stay inside it (it can outlast the work by up to the wall clock's millisecond).
   * `record.context` is left as it is.
   */
  processSpan(record: Record, opts: ProcessSpanOptions = {}): ProcessSpan {
    const rctx = isContext(record.context) ? record.context : ROOT_CONTEXT
    const receive = (rctx.getValue(RECEIVE_SPAN) as Span | undefined)?.spanContext()
    const creation = rctx.getValue(CREATION_CONTEXT) as SpanContext | undefined
    const parent = opts.parent
    const parentSpan = parent !== undefined ? trace.getSpanContext(parent) : undefined
    const links: Link[] = []
    const spanOpts: SpanOptions = { kind: SpanKind.CONSUMER, attributes: this.#consumerAttributes('process', record) }
    let base: Context
    if (parentSpan !== undefined && isSpanContextValid(parentSpan)) {
      base = parent!
      if (this.#linkSpans && receive !== undefined) links.push({ context: receive })
      if (creation !== undefined) links.push({ context: creation })
    } else if (!this.#linkSpans) {
      // The record's context holds the receive span (or, without receive spans, the producer's).
      const upstream = trace.getSpanContext(rctx)
      base = parent === undefined ? rctx : upstream !== undefined ? trace.setSpanContext(parent, upstream) : parent
    } else if (!this.#tracePerSpan && receive !== undefined) {
      // One consumer trace per record: the processing follows the wait, under the receive span.
      base = parent === undefined ? rctx : trace.setSpanContext(parent, receive)
      if (creation !== undefined) links.push({ context: creation })
    } else {
      spanOpts.root = true
      base = parent ?? rctx
      if (receive !== undefined) links.push({ context: receive })
      if (creation !== undefined) links.push({ context: creation })
    }
    if (links.length > 0) spanOpts.links = links
    // Inside a running span whose clock can be read (a poll loop's span that awaits the processing),
    // the process span takes that clock and ends inside it. Otherwise it has a clock of its own and,
    // because the application's spans run inside it, ends no earlier than the wall clock at its end.
    const inherited = spanOpts.root === true ? undefined : anchorOf(trace.getSpan(base))
    const anchor = inherited ?? freshAnchor()
    const startPerf = inherited !== undefined ? performance.now() : anchor.perf
    const start = at(anchor, startPerf)
    spanOpts.startTime = start
    const span = this.#tracer.startSpan(this.#new ? `process ${record.topic}` : `${record.topic} process`, spanOpts, base)
    rememberAnchor(span, anchor)
    if (this.#consumerHook !== undefined) this.#callHook('consumerHook', () => this.#consumerHook!(span, record))
    let ended = false
    return {
      span,
      context: trace.setSpan(base, span),
      end: (...args: unknown[]) => {
        if (ended) return
        ended = true
        const endPerf = performance.now()
        let end = at(anchor, endPerf)
        if (inherited === undefined) {
          const wall = wallUpperBound(startPerf, endPerf)
          if (compareHrTime(wall, end) > 0) end = wall
        }
        const failed = args.length > 0
        if (failed) this.#fail(span, args[0], end)
        span.end(end)
        this.#meter?.[RECORD_PROCESS](record, hrDurationMs(start, end), failed, args[0])
      },
    }
  }

  /**
   * process runs `fn` inside a process span (see processSpan): `fn` gets the span's context, which is
   * also the active context while it runs. A throw or rejection marks the span failed and is passed on
   * unchanged; `fn`'s result is returned.
   */
  async process<T>(record: Record, fn: (ctx: Context) => T | Promise<T>, opts: ProcessSpanOptions = {}): Promise<T> {
    const ps = this.processSpan(record, opts)
    let result: T
    try {
      result = await context.with(ps.context, fn, undefined, ps.context)
    } catch (err) {
      ps.end(err)
      throw err
    }
    ps.end()
    return result
  }

  // ---------------------------------------------------------------------------------------- helpers

  #finishPoll(p: PendingPoll): void {
    if (this.#poll === p) this.#poll = null
    const start = at(p.anchor, p.startPerf)
    const end = at(p.anchor, performance.now())
    if (this.#pollSpans) {
      const records = p.records
      const links: Link[] = []
      for (const r of records) {
        const creation = isContext(r.context) ? (r.context.getValue(CREATION_CONTEXT) as SpanContext | undefined) : undefined
        if (creation !== undefined) {
          links.push({ context: creation, attributes: { [sc.MESSAGING_DESTINATION_PARTITION_ID]: String(r.partition), [sc.MESSAGING_KAFKA_OFFSET]: Number(r.offset) } })
        }
      }
      // One topic names the span; a poll across topics is just "poll", as the conventions say.
      const topic = records.every((r) => r.topic === records[0]!.topic) ? records[0]!.topic : undefined
      const attrs: Attributes = {
        [sc.MESSAGING_SYSTEM]: 'kafka',
        [sc.MESSAGING_OPERATION_TYPE]: 'receive',
        [sc.MESSAGING_OPERATION_NAME]: 'poll',
        [sc.MESSAGING_BATCH_MESSAGE_COUNT]: records.length,
      }
      if (topic !== undefined) attrs[sc.MESSAGING_DESTINATION_NAME] = topic
      const group = this.#info.consumerGroup
      if (group !== undefined) attrs[sc.MESSAGING_CONSUMER_GROUP_NAME] = group
      const clientId = this.#info.clientId
      if (clientId !== undefined) attrs[sc.MESSAGING_CLIENT_ID] = clientId
      const cluster = this.#info.clusterId
      if (cluster !== undefined) attrs[sc.MESSAGING_KAFKA_CLUSTER_ID] = cluster
      const span = this.#tracer.startSpan(topic !== undefined ? `poll ${topic}` : 'poll', { kind: SpanKind.CLIENT, attributes: attrs, links, startTime: start }, p.ctx)
      span.end(end)
    }
    this.#meter?.[RECORD_POLL](p.records, hrDurationMs(start, end))
  }

  #inject(ctx: Context, record: ProduceRecord): void {
    const prop = this.#propagators.current()
    if (prop === null) return
    try {
      prop.inject(ctx, new RecordCarrier(record), RecordCarrier.setter)
    } catch (err) {
      diag.error('kafka-wire/kotel: the propagator failed to inject into record headers', err)
    }
  }

  #extract(base: Context, record: Record): Context {
    const prop = this.#propagators.current()
    if (prop === null) return base
    try {
      return prop.extract(base, new RecordCarrier(record), RecordCarrier.getter)
    } catch (err) {
      diag.error('kafka-wire/kotel: the propagator failed to extract from record headers', err)
      return base
    }
  }

  #sendAttributes(record: ProduceRecord, topic: string): Attributes {
    const a: Attributes = { [sc.MESSAGING_SYSTEM]: 'kafka', [sc.MESSAGING_DESTINATION_NAME]: topic }
    const key = this.#key(record)
    const tombstone = record.key !== null && record.key !== undefined && record.value === null
    const clientId = this.#info.clientId
    if (this.#new) {
      a[sc.MESSAGING_OPERATION_TYPE] = 'send'
      a[sc.MESSAGING_OPERATION_NAME] = 'send'
      // Sampling-relevant, so set at start when the caller fixed it; otherwise it is known at the end.
      if (typeof record.partition === 'number' && record.partition >= 0) a[sc.MESSAGING_DESTINATION_PARTITION_ID] = String(record.partition)
      if (key !== undefined) a[sc.MESSAGING_KAFKA_MESSAGE_KEY] = key
      if (tombstone) a[sc.MESSAGING_KAFKA_MESSAGE_TOMBSTONE] = true
      if (clientId !== undefined) a[sc.MESSAGING_CLIENT_ID] = clientId
      if (this.#recordBodySize) {
        const v = record.value
        if (v !== null && v !== undefined) a[sc.MESSAGING_MESSAGE_BODY_SIZE] = typeof v === 'string' ? Buffer.byteLength(v) : v.length
      }
    }
    if (this.#old) {
      a[sc.OLD_MESSAGING_DESTINATION_KIND] = 'topic'
      a[sc.OLD_MESSAGING_OPERATION] = 'publish'
      if (key !== undefined) a[sc.MESSAGING_KAFKA_MESSAGE_KEY] = key
      if (clientId !== undefined) a[sc.OLD_KAFKA_CLIENT_ID] = clientId
      if (tombstone) a[sc.MESSAGING_KAFKA_MESSAGE_TOMBSTONE] = true
    }
    return a
  }

  #consumerAttributes(op: 'receive' | 'process', record: Record): Attributes {
    const a: Attributes = { [sc.MESSAGING_SYSTEM]: 'kafka' }
    const key = this.#key(record)
    const tombstone = record.key !== null && record.key !== undefined && record.value === null
    const clientId = this.#info.clientId
    const group = this.#info.consumerGroup
    if (this.#new) {
      a[sc.MESSAGING_OPERATION_TYPE] = op
      a[sc.MESSAGING_OPERATION_NAME] = op
      a[sc.MESSAGING_DESTINATION_NAME] = record.topic
      a[sc.MESSAGING_DESTINATION_PARTITION_ID] = String(record.partition)
      a[sc.MESSAGING_KAFKA_OFFSET] = Number(record.offset)
      if (key !== undefined) a[sc.MESSAGING_KAFKA_MESSAGE_KEY] = key
      if (tombstone) a[sc.MESSAGING_KAFKA_MESSAGE_TOMBSTONE] = true
      if (group !== undefined) a[sc.MESSAGING_CONSUMER_GROUP_NAME] = group
      if (clientId !== undefined) a[sc.MESSAGING_CLIENT_ID] = clientId
      const cluster = this.#info.clusterId
      if (cluster !== undefined) a[sc.MESSAGING_KAFKA_CLUSTER_ID] = cluster
      const server = this.#info.source(record.topic, record.partition)
      if (server !== undefined) {
        a[sc.SERVER_ADDRESS] = server.host
        a[sc.SERVER_PORT] = server.port
      }
      if (this.#recordBodySize && record.value !== null) a[sc.MESSAGING_MESSAGE_BODY_SIZE] = record.value.length
    }
    if (this.#old) {
      a[sc.OLD_MESSAGING_SOURCE_KIND] = 'topic'
      a[sc.OLD_MESSAGING_SOURCE_NAME] = record.topic
      a[sc.OLD_MESSAGING_OPERATION] = op
      a[sc.OLD_KAFKA_SOURCE_PARTITION] = record.partition
      a[sc.OLD_KAFKA_MESSAGE_OFFSET] = Number(record.offset)
      if (key !== undefined) a[sc.MESSAGING_KAFKA_MESSAGE_KEY] = key
      if (clientId !== undefined) a[sc.OLD_KAFKA_CLIENT_ID] = clientId
      if (group !== undefined) a[sc.OLD_KAFKA_CONSUMER_GROUP] = group
      if (tombstone) a[sc.MESSAGING_KAFKA_MESSAGE_TOMBSTONE] = true
    }
    return a
  }

  /**
   * key renders a record key for the key attribute, as kotel does: nothing for a null key, the
   * keyFormatter's result when there is one, else the key as UTF-8, left out when it is not valid UTF-8.
   */
  #key(record: Record | ProduceRecord): string | undefined {
    const k = record.key
    if (k === null || k === undefined) return undefined
    if (this.#keyFormatter !== undefined) {
      try {
        const v = this.#keyFormatter(record)
        return typeof v === 'string' && (v as string & { isWellFormed(): boolean }).isWellFormed() ? v : undefined
      } catch (err) {
        diag.debug('kafka-wire/kotel: keyFormatter threw; the key attribute is left out', err)
        return undefined
      }
    }
    if (typeof k === 'string') return k
    try {
      return fatalUtf8.decode(k)
    } catch {
      return undefined
    }
  }

  /** fail marks a span failed; its exception event is at `time`, on the span's clock. */
  #fail(span: Span, err: unknown, time: HrTime): void {
    span.setStatus({ code: SpanStatusCode.ERROR, message: sc.errorMessage(err) })
    // franz-go's kotel sets no error.type (v1.18 has none); the 'old' flavour stays exactly kotel's.
    if (this.#new) span.setAttribute(sc.ERROR_TYPE, sc.errorType(err))
    if (this.#recordException) {
      if (err instanceof Error) span.recordException(err, time)
      else if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') span.recordException(err as { message: string }, time)
      else span.recordException(String(err), time)
    }
  }

  #callHook(name: string, fn: () => void): void {
    try {
      fn()
    } catch (err) {
      diag.error(`kafka-wire/kotel: ${name} threw; the span goes on without it`, err)
    }
  }
}

/** isContext tells an OpenTelemetry Context from whatever else may sit in a record's context slot. */
function isContext(v: unknown): v is Context {
  return v !== null && typeof v === 'object' && typeof (v as Context).getValue === 'function' && typeof (v as Context).setValue === 'function'
}
