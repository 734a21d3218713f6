import { ZERO_UUID } from '../protocol/reader.js'
import { KafkaWireError, KafkaProtocolError } from '../protocol/errors.js'
import type { ApiMessage } from '../protocol/messages/api.js'
import { Metadata } from '../protocol/messages/metadata.js'
import { FindCoordinator } from '../protocol/messages/find-coordinator.js'
import { HookRegistry, BrokerE2E, type BrokerMetadata, type Logger } from '../hooks/index.js'
import { type ConnectionObserver, type RequestOptions } from './connection.js'
import { Broker, SEED_BASE, delay, type BrokerEvents, type ConnectionKind } from './broker.js'
import { MetadataCache, type ClusterMetadata, type TopicInfo } from './metadata.js'
import { resolveConfig, type ClientOptions, type Config } from './options.js'
import { Producer, type ProduceCallback, type ProduceResult } from './producer/producer.js'
import { route, splitByLeader, COORDINATOR_ERRORS } from './routing.js'
import type { ProduceRecord, Record } from '../protocol/record.js'
import { Consumer } from './consumer/consumer.js'
import { Fetches } from './consumer/fetches.js'
import type { OffsetSpec } from './options.js'
import { ClientClosedError, AbortError, BrokerConnectionError } from './errors.js'
import { InvalidOperationError } from './errors.js'

/** ClientRequestOptions are per-call options of `client.request`. */
export interface ClientRequestOptions {
  signal?: AbortSignal
  /** broker sends the request to this node id instead of routing it. */
  broker?: number
  /** version forces a request version. */
  version?: number
  /** timeout bounds one attempt, in ms. */
  timeout?: number
}

/** CoordinatorType is 0 for a group coordinator and 1 for a transaction coordinator (FindCoordinator KeyType). */
export type CoordinatorType = 0 | 1

/**
 * Client is a Kafka client for producing, consuming and admin requests, after franz-go's kgo.Client.
 * It connects lazily: nothing is dialed until the first request. Every long-lived resource is
 * closed by `close()`, after which the process can exit by itself.
 */
export class Client {
  /** config is the resolved, frozen form of the options given to the constructor. */
  readonly config: Config
  /** hooks is the registry of the hooks given in the options. */
  readonly hooks: HookRegistry
  /** metadata is the cache of brokers, topics and partitions. */
  readonly metadata: MetadataCache

  #brokers = new Map<number, Broker>()
  #seeds: Broker[] = []
  #nextAny = 0
  #events: BrokerEvents
  #coordinators = new Map<string, Promise<number>>()
  #closed = false
  /** shutdown is set once close() has stopped the consumer and producer: internal requests stop too. */
  #shutdown = false
  #closing: Promise<void> | null = null
  #producer: Producer | null = null
  #consumer: Consumer | null = null
  #logger: Logger | undefined

  constructor(options: ClientOptions) {
    this.config = resolveConfig(options)
    this.#logger = options.logger
    this.hooks = new HookRegistry(options.hooks as never, options.logger ? { logger: options.logger } : {})
    this.#events = this.#makeEvents()
    this.#seeds = this.config.seedBrokers.map((s, i) => new Broker({ nodeId: SEED_BASE + i, host: s.host, port: s.port, rack: null }, this.config, this.#events))
    this.metadata = new MetadataCache((topics) => this.#loadMetadata(topics), {
      minAge: this.config.metadataMinAge,
      maxAge: this.config.metadataMaxAge,
      onError: (err) => {
        this.log('warn', 'metadata load failed', 'err', err.message)
        this.#producer?.onMetadataError(err)
      },
    })
    this.metadata.onUpdate((m) => this.#onMetadata(m))
    const c = this.config
    if (c.consumeTopics.length > 0 || c.consumePartitions.size > 0 || c.consumerGroup !== null) {
      this.#consumer = new Consumer(this)
    }
    this.hooks.newClient(this)
    // Consuming starts once the hooks had their say (franz-go starts its goroutines after OnNewClient).
    if (this.#consumer !== null) queueMicrotask(() => this.#consumer?.start())
  }

  /** closed is true once `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /** log writes through the configured logger, if any. */
  log(level: 'error' | 'warn' | 'info' | 'debug', msg: string, ...keyvals: unknown[]): void {
    const l = this.#logger
    if (l === undefined) return
    const n = level === 'error' ? 1 : level === 'warn' ? 2 : level === 'info' ? 3 : 4
    if (l.level() >= n) l.log(n, msg, ...keyvals)
  }

  #makeEvents(): BrokerEvents {
    const hooks = this.hooks
    const hasIO = hooks.onBrokerWrite.length + hooks.onBrokerRead.length + hooks.onBrokerE2E.length + hooks.onBrokerThrottle.length > 0
    return {
      connect: (meta, dur, socket, err) => hooks.brokerConnect(meta, dur, socket, err),
      disconnect: (meta, socket) => hooks.brokerDisconnect(meta, socket),
      observer: (meta): ConnectionObserver | undefined =>
        hasIO
          ? {
              onWrite: (key, n, writeWait, timeToWrite, err) => hooks.brokerWrite(meta, key, n, writeWait, timeToWrite, err),
              onRead: (key, n, readWait, timeToRead, err) => hooks.brokerRead(meta, key, n, readWait, timeToRead, err),
              onE2E: (key, e2e) => hooks.brokerE2E(meta, key, new BrokerE2E(e2e)),
              onThrottle: (ms, after) => hooks.brokerThrottle(meta, ms, after),
            }
          : undefined,
      log: (level, msg, ...kv) => this.log(level, msg, ...kv),
    }
  }

  // ---------------------------------------------------------------- brokers

  /** broker returns the Broker for a node id known from metadata, or undefined. */
  broker(nodeId: number): Broker | undefined {
    if (nodeId < -10) return this.#seeds[nodeId - SEED_BASE]
    return this.#brokers.get(nodeId)
  }

  /** brokersKnown lists the node ids in the last metadata. */
  brokersKnown(): BrokerMetadata[] {
    return [...this.metadata.brokers.values()]
  }

  #onMetadata(m: MetadataCache): void {
    for (const [id, meta] of m.brokers) {
      const b = this.#brokers.get(id)
      if (b === undefined) this.#brokers.set(id, new Broker(meta, this.config, this.#events))
      else if (b.meta.host !== meta.host || b.meta.port !== meta.port) {
        // The node moved: its old connections point at the wrong address.
        b.close()
        this.#brokers.set(id, new Broker(meta, this.config, this.#events))
      } else b.meta = meta
    }
    for (const [id, b] of this.#brokers) {
      if (!m.brokers.has(id)) {
        b.close()
        this.#brokers.delete(id)
      }
    }
    this.#producer?.onMetadata()
    this.#consumer?.onMetadata()
  }

  /** anyBroker picks a broker to send a request that any broker can answer. */
  anyBroker(): Broker {
    const known = [...this.#brokers.values()]
    const pool = known.length > 0 ? known : this.#seeds
    const b = pool[this.#nextAny++ % pool.length]!
    return b
  }

  async #loadMetadata(topics: string[] | null): Promise<ClusterMetadata> {
    const req = Metadata.newRequest()
    req.topics = topics === null ? null : topics.map((name) => ({ ...Metadata.newRequest().topics?.[0], topicId: ZERO_UUID, name }))
    req.allowAutoTopicCreation = this.config.allowAutoTopicCreation
    // Try the known brokers, then the seeds, before giving up on this load.
    const candidates = [...this.#brokers.values(), ...this.#seeds]
    const start = this.#nextAny++ % candidates.length
    let lastErr: Error | null = null
    for (let i = 0; i < candidates.length; i++) {
      const b = candidates[(start + i) % candidates.length]!
      try {
        const res = await b.request(Metadata, req, { timeout: this.config.requestTimeoutOverhead + 5_000 })
        if (res.errorCode) throw new KafkaProtocolError(res.errorCode, { broker: b.meta.nodeId })
        const brokers = new Map<number, BrokerMetadata>()
        for (const br of res.brokers) brokers.set(br.nodeId, { nodeId: br.nodeId, host: br.host, port: br.port, rack: br.rack })
        const now = Date.now()
        const topicMap = new Map<string, TopicInfo>()
        for (const t of res.topics) {
          if (t.name === null) continue
          const partitions = t.partitions
            .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes, offline: p.offlineReplicas, errorCode: p.errorCode }))
            .sort((a, b) => a.partition - b.partition)
          topicMap.set(t.name, { name: t.name, id: t.topicId, isInternal: t.isInternal, partitions, errorCode: t.errorCode, loadedAt: now })
        }
        return { brokers, topics: topicMap, controllerId: res.controllerId, clusterId: res.clusterId, loadedAt: now }
      } catch (err) {
        lastErr = err as Error
      }
    }
    throw lastErr ?? new BrokerConnectionError('no broker to load metadata from')
  }

  /**
   * topic returns what the client knows of a topic, loading metadata first when it knows nothing
   * or `refresh` is set. Returns undefined when the topic does not exist.
   */
  async topic(name: string, refresh = false): Promise<TopicInfo | undefined> {
    this.#checkOpen()
    this.metadata.interest([name])
    if (refresh || !this.metadata.topics.has(name)) await this.metadata.refresh(true)
    const t = this.metadata.topics.get(name)
    if (t === undefined || t.errorCode === 3 /* UNKNOWN_TOPIC_OR_PARTITION */) {
      // Asked once; a topic that does not exist is not looked for again on every refresh.
      if (!this.#producer?.wants(name) && !this.#consumer?.wants(name)) this.metadata.forget([name])
      return undefined
    }
    return t
  }

  /** leaderOf returns the node id leading a partition per the cached metadata, or -1. */
  leaderOf(topic: string, partition: number): number {
    const t = this.metadata.topics.get(topic)
    return t?.partitions[partition]?.leader ?? -1
  }

  // ---------------------------------------------------------------- requests

  /**
   * request sends any generated request to the right broker (franz-go's cl.Request): partition
   * requests (ListOffsets, DeleteRecords, OffsetForLeaderEpoch, Produce, Fetch) are split per
   * leader and the answers merged; group and transaction requests go to their coordinator; admin
   * requests go to the controller; the rest to any broker. Connection failures and coordinator
   * moves are retried with backoff within `requestRetries` and `retryTimeout`.
   */
  async request<Req, Res>(api: ApiMessage<Req, Res>, body: Req, opts: ClientRequestOptions = {}): Promise<Res> {
    this.#checkRunning()
    if (opts.broker !== undefined) {
      const b = this.broker(opts.broker) ?? (await this.#brokerAfterRefresh(opts.broker))
      return this.#retrying(opts, (signal) => b.request(api, body, { ...this.#reqOpts(opts), signal }))
    }
    const r = route(api.key, body)
    switch (r.kind) {
      case 'leaders':
        return splitByLeader(this, api, body, r, opts)
      case 'coordinator':
        return this.#coordinatorRequest(api, body, r.coordinatorType, r.key, opts)
      case 'controller':
        return this.#retrying(opts, async (signal) => {
          if (this.metadata.lastLoad === 0) await this.metadata.refresh(true)
          const b = this.broker(this.metadata.controllerId) ?? this.anyBroker()
          return b.request(api, body, { ...this.#reqOpts(opts), signal })
        })
      default:
        return this.#retrying(opts, (signal) => this.anyBroker().request(api, body, { ...this.#reqOpts(opts), signal }))
    }
  }

  /** requestOn sends a request on a broker's connection of the given kind, without retries. */
  requestOn<Req, Res>(nodeId: number, kind: ConnectionKind, api: ApiMessage<Req, Res>, body: Req | ((version: number) => Req), opts: RequestOptions = {}): Promise<Res> {
    const b = this.broker(nodeId)
    if (b === undefined) return Promise.reject(new BrokerConnectionError(`unknown broker ${nodeId}`, { broker: nodeId }))
    return b.request(api, body, { ...opts, kind })
  }

  #reqOpts(opts: ClientRequestOptions): RequestOptions {
    const o: RequestOptions = {}
    if (opts.version !== undefined) o.version = opts.version
    if (opts.timeout !== undefined) o.timeout = opts.timeout
    return o
  }

  async #brokerAfterRefresh(nodeId: number): Promise<Broker> {
    await this.metadata.refresh(true)
    const b = this.broker(nodeId)
    if (b === undefined) throw new BrokerConnectionError(`unknown broker ${nodeId}`, { broker: nodeId })
    return b
  }

  /**
   * retrying runs `attempt` until it succeeds or fails with a non-retriable error, waiting
   * `retryBackoff` between tries, for at most `requestRetries` tries and `retryTimeout` ms.
   */
  async #retrying<T>(opts: { signal?: AbortSignal }, attempt: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    const start = Date.now()
    for (let tries = 1; ; tries++) {
      if (opts.signal?.aborted) throw new AbortError(opts.signal.reason)
      this.#checkRunning()
      try {
        return await attempt(opts.signal)
      } catch (err) {
        const e = err as Error & { retriable?: boolean }
        if (!(e instanceof KafkaWireError) || !e.retriable || e instanceof AbortError) throw err
        if (tries > this.config.requestRetries || Date.now() - start > this.config.retryTimeout) throw err
        this.log('debug', 'retrying request', 'try', tries, 'err', e.message)
        await delay(this.config.retryBackoff(tries), opts.signal).catch((reason) => {
          throw new AbortError(reason)
        })
      }
    }
  }

  /** retrying is the client's retry loop, for other parts of the client. */
  retry<T>(opts: { signal?: AbortSignal }, attempt: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    return this.#retrying(opts, attempt)
  }

  /**
   * coordinator returns the node id coordinating a group (type 0) or transactional id (type 1),
   * asking FindCoordinator once and caching the answer until `invalidateCoordinator`.
   */
  coordinator(type: CoordinatorType, key: string, signal?: AbortSignal): Promise<number> {
    const cacheKey = `${type}:${key}`
    let p = this.#coordinators.get(cacheKey)
    if (p === undefined) {
      p = this.#retrying({ signal }, async (sig) => {
        const conn = await this.anyBroker().connection('other', sig)
        const version = conn.versionFor(FindCoordinator)
        const req = FindCoordinator.newRequest()
        // v4+ (KIP-699) batches keys; older versions carry one key.
        if (version >= 4) req.coordinatorKeys = [key]
        else req.key = key
        req.keyType = type
        const res = await conn.request(FindCoordinator, req, { version, ...(sig ? { signal: sig } : {}) })
        const c = res.coordinators.length > 0 ? res.coordinators[0]! : { nodeId: res.nodeId, host: res.host, port: res.port, errorCode: res.errorCode, errorMessage: res.errorMessage }
        if (c.errorCode !== 0) throw new KafkaProtocolError(c.errorCode, { errorMessage: c.errorMessage })
        if (!this.#brokers.has(c.nodeId)) {
          this.#brokers.set(c.nodeId, new Broker({ nodeId: c.nodeId, host: c.host, port: c.port, rack: null }, this.config, this.#events))
        }
        return c.nodeId
      })
      this.#coordinators.set(cacheKey, p)
      p.catch(() => {
        if (this.#coordinators.get(cacheKey) === p) this.#coordinators.delete(cacheKey)
      })
    }
    return p
  }

  /** invalidateCoordinator forgets a cached coordinator (after NOT_COORDINATOR and similar errors). */
  invalidateCoordinator(type: CoordinatorType, key: string): void {
    this.#coordinators.delete(`${type}:${key}`)
  }

  async #coordinatorRequest<Req, Res>(api: ApiMessage<Req, Res>, body: Req, type: CoordinatorType, key: string, opts: ClientRequestOptions): Promise<Res> {
    return this.#retrying(opts, async (signal) => {
      const node = await this.coordinator(type, key, signal)
      const b = this.broker(node)!
      const res = await b.request(api, body, { ...this.#reqOpts(opts), kind: 'group', ...(signal ? { signal } : {}) })
      const code = (res as { errorCode?: number }).errorCode
      if (code !== undefined && COORDINATOR_ERRORS.has(code)) {
        // The coordinator moved or is loading: find it again and retry.
        this.invalidateCoordinator(type, key)
        throw new KafkaProtocolError(code, { broker: node })
      }
      return res
    })
  }

  // ---------------------------------------------------------------- producing

  /** producer is the client's producer, created on first use. */
  get producer(): Producer {
    this.#checkOpen()
    return (this.#producer ??= new Producer(this))
  }

  /**
   * produce buffers a record for sending. Without a callback it returns a promise of the record
   * with partition, offset and timestamp set; with a callback it returns nothing and allocates no
   * promise. Every record settles exactly once. When `maxBufferedRecords` or `maxBufferedBytes` is
   * reached, produce waits for room (use `tryProduce` to fail at once instead).
   */
  produce(record: ProduceRecord): Promise<ProduceResult>
  produce(record: ProduceRecord, callback: ProduceCallback): void
  produce(record: ProduceRecord, callback?: ProduceCallback): Promise<ProduceResult> | void {
    if (callback !== undefined) {
      if (this.#closed) {
        // Settled once, with ClientClosedError, and its buffered/unbuffered hooks once, as the other
        // forms of produce do.
        failAfterClose(this, record, callback)
        return
      }
      this.producer.produce(record, callback, false)
      return
    }
    return new Promise<ProduceResult>((resolve, reject) => {
      const cb: ProduceCallback = (r, err) => (err ? reject(err) : resolve(r as ProduceResult))
      if (this.#closed) failAfterClose(this, record, cb)
      else this.producer.produce(record, cb, false)
    })
  }

  /** tryProduce is produce that fails at once with MaxBufferedError instead of waiting for room. */
  tryProduce(record: ProduceRecord, callback: ProduceCallback): void {
    if (this.#closed) failAfterClose(this, record, callback)
    else this.producer.produce(record, callback, true)
  }

  /** produceSync produces records and resolves when all settled, with each record's result or error. */
  produceSync(records: ProduceRecord[]): Promise<Array<{ record: ProduceRecord; error: Error | null }>> {
    return new Promise((resolve) => {
      const results = new Array<{ record: ProduceRecord; error: Error | null }>(records.length)
      let left = records.length
      if (left === 0) resolve(results)
      records.forEach((rec, i) => {
        this.produce(rec, (r, err) => {
          results[i] = { record: r, error: err }
          if (--left === 0) resolve(results)
        })
      })
      this.#producer?.flushSoon()
    })
  }

  /** flush sends every buffered record now and resolves when all of them have settled. */
  flush(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#producer === null) return Promise.resolve()
    return this.#producer.flush(opts.signal)
  }

  /** bufferedProduceRecords is the number of records produced and not yet settled. */
  get bufferedProduceRecords(): number {
    return this.#producer?.bufferedRecords ?? 0
  }

  // ---------------------------------------------------------------- consuming

  /** consumer is the client's consumer, created on first use (or at construction when consume options are set). */
  get consumer(): Consumer {
    this.#checkOpen()
    if (this.#consumer === null) {
      this.#consumer = new Consumer(this)
      this.#consumer.start()
    }
    return this.#consumer
  }

  /**
   * pollFetches waits for fetched records and returns all that are buffered. When `signal` aborts,
   * it returns what it has with the abort reason in `errors()` (it does not reject), as franz-go
   * returns on a cancelled context.
   */
  pollFetches(opts: { signal?: AbortSignal } = {}): Promise<Fetches> {
    if (this.#closed) return Promise.resolve(closedFetches(this, opts.signal))
    return this.consumer.poll(0, opts.signal)
  }

  /** pollRecords is pollFetches returning at most `max` records (the rest stay buffered). */
  pollRecords(max: number, opts: { signal?: AbortSignal } = {}): Promise<Fetches> {
    if (this.#closed) return Promise.resolve(closedFetches(this, opts.signal))
    return this.consumer.poll(max, opts.signal)
  }

  /** records iterates over consumed records until the signal aborts or the client closes. */
  async *records(opts: { signal?: AbortSignal } = {}): AsyncGenerator<Record> {
    for await (const f of this.fetches(opts)) yield* f
  }

  /** fetches iterates over polls until the signal aborts or the client closes. */
  async *fetches(opts: { signal?: AbortSignal } = {}): AsyncGenerator<Fetches> {
    while (!this.#closed && !opts.signal?.aborted) {
      const f = await this.pollFetches(opts)
      if (f.numRecords() > 0 || f.errors().some((e) => e.partition >= 0)) yield f
    }
  }

  /** pauseFetchTopics stops fetching topics until resumed; buffered records stay pollable. */
  pauseFetchTopics(...topics: string[]): void {
    this.consumer.pause(topics)
  }

  /** resumeFetchTopics resumes topics paused with pauseFetchTopics. */
  resumeFetchTopics(...topics: string[]): void {
    this.consumer.resume(topics)
  }

  /** pauseFetchPartitions stops fetching some partitions: { topic: [partitions] }. */
  pauseFetchPartitions(partitions: { [topic: string]: number[] }): void {
    this.consumer.pause(new Map(Object.entries(partitions)))
  }

  /** resumeFetchPartitions resumes partitions paused with pauseFetchPartitions. */
  resumeFetchPartitions(partitions: { [topic: string]: number[] }): void {
    this.consumer.resume(new Map(Object.entries(partitions)))
  }

  /** addConsumePartitions consumes more partitions directly: { topic: { partition: OffsetSpec } }. */
  addConsumePartitions(partitions: { [topic: string]: { [partition: number]: OffsetSpec } }): void {
    if (this.config.consumerGroup !== null) throw new InvalidOperationError('addConsumePartitions cannot be used with a consumer group')
    const m = new Map<string, Map<number, OffsetSpec>>()
    for (const [t, ps] of Object.entries(partitions)) m.set(t, new Map(Object.entries(ps).map(([p, s]) => [Number(p), s])))
    this.consumer.assign(m)
  }

  /** removeConsumePartitions stops consuming partitions: { topic: [partitions] }. */
  removeConsumePartitions(partitions: { [topic: string]: number[] }): void {
    this.consumer.unassign(new Map(Object.entries(partitions)))
  }

  /** addConsumeTopics consumes more topics (directly, or in the group's next rebalance). */
  addConsumeTopics(...topics: string[]): void {
    this.consumer.addTopics(topics)
  }

  // ---------------------------------------------------------------- group offsets

  #group(what: string) {
    const g = this.consumer.group
    if (g === null) throw new InvalidOperationError(`${what} needs a consumerGroup`)
    return g
  }

  /** commitRecords commits the offsets after the given records (the highest per partition). */
  commitRecords(...records: Record[]): Promise<void> {
    const g = this.#group('commitRecords')
    const offsets = new Map<string, Map<number, { offset: bigint; leaderEpoch: number }>>()
    for (const r of records) {
      let m = offsets.get(r.topic)
      if (m === undefined) offsets.set(r.topic, (m = new Map()))
      const cur = m.get(r.partition)
      if (cur === undefined || cur.offset <= r.offset) m.set(r.partition, { offset: r.offset + 1n, leaderEpoch: r.leaderEpoch })
    }
    return g.commit(offsets)
  }

  /** commitUncommittedOffsets commits every polled (or, with autoCommitMarks, marked) offset not yet committed. */
  commitUncommittedOffsets(): Promise<void> {
    return this.#group('commitUncommittedOffsets').commitUncommitted()
  }

  /** commitOffsets commits exact offsets: { topic: { partition: { offset, leaderEpoch?, metadata? } } }. */
  commitOffsets(offsets: { [topic: string]: { [partition: number]: { offset: bigint; leaderEpoch?: number; metadata?: string | null } } }): Promise<void> {
    const g = this.#group('commitOffsets')
    const m = new Map<string, Map<number, { offset: bigint; leaderEpoch: number; metadata?: string | null }>>()
    for (const [t, ps] of Object.entries(offsets)) {
      m.set(t, new Map(Object.entries(ps).map(([p, o]) => [Number(p), { offset: o.offset, leaderEpoch: o.leaderEpoch ?? -1, metadata: o.metadata ?? null }])))
    }
    return g.commit(m)
  }

  /** markCommitRecords marks records as processed; with autoCommitMarks only marked records are committed. */
  markCommitRecords(...records: Record[]): void {
    this.#group('markCommitRecords').mark(records)
  }

  /** fetchCommittedOffsets returns the group's committed offsets for partitions: { topic: [partitions] }. */
  fetchCommittedOffsets(partitions: { [topic: string]: number[] }) {
    return this.#group('fetchCommittedOffsets').fetchCommitted(new Map(Object.entries(partitions)))
  }

  /** allowRebalance lets a rebalance held by blockRebalanceOnPoll go on. */
  allowRebalance(): void {
    this.consumer.group?.allowRebalance()
  }

  /** groupMetadata returns the member id and generation (or KIP-848 member epoch). */
  groupMetadata(): { memberId: string; generation: number } {
    const g = this.#group('groupMetadata')
    return { memberId: g.memberId, generation: g.generation }
  }

  // ---------------------------------------------------------------- lifecycle

  #checkOpen(): void {
    if (this.#closed) throw new ClientClosedError()
  }

  #checkRunning(): void {
    if (this.#shutdown) throw new ClientClosedError()
  }

  /**
   * close flushes nothing: it fails every record still buffered with ClientClosedError (call
   * `flush()` first to deliver them), closes every connection and timer, and runs the
   * onClientClosed hooks last.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing
    this.#closed = true
    this.#closing = (async () => {
      try {
        await this.#consumer?.close()
        await this.#producer?.close()
      } finally {
        this.#shutdown = true
        this.metadata.close()
        for (const b of this.#brokers.values()) b.close()
        for (const b of this.#seeds) b.close()
        this.hooks.clientClosed(this)
      }
    })()
    return this.#closing
  }
}


function closedFetches(client: Client, signal: AbortSignal | undefined): Fetches {
  // onPollStart is the first thing every poll does, a poll of a closed client included.
  if (client.hooks.onPollStart.length !== 0) client.hooks.pollStart(signal)
  const f = new Fetches()
  f.addError(new ClientClosedError())
  return f
}

function failAfterClose(client: Client, record: ProduceRecord, cb: ProduceCallback): void {
  const err = new ClientClosedError()
  client.hooks.produceRecordBuffered(record)
  client.hooks.produceRecordUnbuffered(record, err)
  cb(record, err)
}
