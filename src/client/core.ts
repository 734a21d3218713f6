import { KafkaProtocolError, KafkaWireError } from '../protocol/errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { ApiMessage } from '../protocol/messages/api.js'
import { ApiKey } from '../protocol/messages/api-key.js'
import { FindCoordinator } from '../protocol/messages/find-coordinator.js'
import { Metadata } from '../protocol/messages/metadata.js'
import { ZERO_UUID } from '../protocol/reader.js'
import { HookRegistry, LogLevel, isSeedNode, seedNodeId, type BrokerMetadata, type Logger } from '../hooks/index.js'
import { Broker, delay, type BrokerEvents } from './broker.js'
import type { ConnectionObserver, RequestOptions } from './connection.js'
import { AbortError, BrokerConnectionError, BrokersUnreachableError, ClientClosedError, InvalidOptionError, RequestTimeoutError, UnknownLeaderError } from './errors.js'
import { MetadataCache, type ClusterMetadata, type LeaderMove, type TopicInfo } from './metadata.js'
import { parseHostPort, resolveConfig, type ClientOptions, type Config } from './options.js'
import { isCoordinatorError, route, type SplitSpec } from './routing.js'
import type { ClientRequestOptions, ConnectionKind, CoordinatorType, CoreListener, CoreRequestOptions } from './types.js'

/** LogLevelName is a level the core logs at. */
export type LogLevelName = 'error' | 'warn' | 'info' | 'debug'

const LEVELS: { readonly [L in LogLevelName]: LogLevel } = { error: LogLevel.Error, warn: LogLevel.Warn, info: LogLevel.Info, debug: LogLevel.Debug }

/**
 * ClientCore is the client's internal hub, shared by the producer, the consumer and its groups, and
 * the layers above the client (admin, transactions, the KafkaJS facade): the resolved options, the
 * hooks, the logger, the brokers and their connections, the metadata cache, request routing and
 * retries, and the coordinators. `Client` is a thin facade over it; nothing here is public API.
 */
export class ClientCore {
  /** config is the resolved, frozen form of the options. */
  readonly config: Config
  /** hooks is the registry of the hooks given in the options. */
  readonly hooks: HookRegistry
  /** metadata is the cache of brokers, topics and partitions. */
  readonly metadata: MetadataCache

  #brokers = new Map<number, Broker>()
  #seeds: Broker[]
  #nextAny = 0
  #events: BrokerEvents
  #coordinators = new Map<string, Promise<number>>()
  #listeners: CoreListener[] = []
  #logger: Logger | undefined
  #closing = false
  #shutdown = false
  /** holds counts what keeps the event loop open (records, requests, polls, close); see hold(). */
  #holds = 0
  #holdTimer: NodeJS.Timeout | null = null
  /**
   * unreachable is the error of the last metadata load when no broker at all could be reached, null
   * once a load succeeds: records that time out meanwhile fail with it.
   */
  unreachable: BrokersUnreachableError | null = null

  constructor(options: ClientOptions<any>) {
    this.config = resolveConfig(options)
    this.#logger = options.logger
    this.hooks = new HookRegistry(options.hooks as never, {
      ...(options.logger ? { logger: options.logger } : {}),
      invalid: (path, message) => new InvalidOptionError(path, message),
    })
    this.#events = this.#makeEvents()
    this.#seeds = this.#seedBrokers(this.config.seedBrokers)
    this.metadata = new MetadataCache((topics) => this.#loadMetadata(topics), {
      minAge: this.config.metadataMinAge,
      maxAge: this.config.metadataMaxAge,
      deleteAfter: this.config.considerMissingTopicDeletedAfter,
      onError: (err) => {
        this.log('warn', 'metadata load failed', 'err', err.message)
        for (const l of this.#listeners) l.onMetadataError?.(err)
      },
      // Someone awaits a load (a produce waiting for its topic, a commit, an admin call): the process
      // stays up until it is done.
      hold: () => this.hold(),
      release: () => this.release(),
    })
    this.metadata.onDelete((topics) => this.#onTopicsDeleted(topics))
    this.metadata.onUpdate((m) => this.#onMetadata(m))
    this.metadata.onMove((moves) => this.#onLeadersMoved(moves))
  }

  /** listen registers a part of the client for metadata updates and topic-interest questions. */
  listen(l: CoreListener): void {
    this.#listeners.push(l)
  }

  /** log writes through the configured logger, if any. */
  log(level: LogLevelName, msg: string, ...keyvals: unknown[]): void {
    const l = this.#logger
    if (l === undefined) return
    const n = LEVELS[level]
    if (l.level() >= n) l.log(n, msg, ...keyvals)
  }

  #makeEvents(): BrokerEvents {
    const hooks = this.hooks
    const hasIO = hooks.onBrokerWrite.length + hooks.onBrokerRead.length + hooks.onBrokerE2E.length + hooks.onBrokerThrottle.length > 0
    return {
      connect: (meta, dur, socket, err) => {
        // Every failed connection is told, so a cluster that cannot be reached is not silent.
        if (err !== null && !this.#shutdown) this.log('warn', 'connecting to a broker failed', 'broker', `${meta.host}:${meta.port}`, 'err', err.message)
        hooks.brokerConnect(meta, dur, socket, err)
      },
      disconnect: (meta, socket) => hooks.brokerDisconnect(meta, socket),
      hold: () => this.hold(),
      release: () => this.release(),
      observer: (meta): ConnectionObserver | undefined =>
        hasIO
          ? {
              onWrite: (key, n, writeWait, timeToWrite, err) => hooks.brokerWrite(meta, key, n, writeWait, timeToWrite, err),
              onRead: (key, n, readWait, timeToRead, err) => hooks.brokerRead(meta, key, n, readWait, timeToRead, err),
              onE2E: (key, e2e) => hooks.brokerE2E(meta, key, e2e),
              onThrottle: (ms, after) => hooks.brokerThrottle(meta, ms, after),
            }
          : undefined,
      log: (level, msg, ...kv) => this.log(level, msg, ...kv),
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** closing is true once the client's close() began: no new work is accepted, work under way finishes. */
  get closing(): boolean {
    return this.#closing
  }

  /** startClosing marks the client closing; from now on `checkOpen` throws. */
  startClosing(): void {
    this.#closing = true
  }

  /** checkOpen throws ClientClosedError once close() began. */
  checkOpen(): void {
    if (this.#closing) throw new ClientClosedError()
  }

  /** checkRunning throws ClientClosedError once the core shut down: internal requests stop too. */
  checkRunning(): void {
    if (this.#shutdown) throw new ClientClosedError()
  }

  /**
   * hold keeps the event loop open until the matching release(): the client does so while records,
   * requests, polls or a close are pending, and only then (its sockets and timers are unref'd), so a
   * program never ends with one of its promises unsettled, and an idle client never keeps it running.
   * One interval, ref'd while anything is held.
   */
  hold(): void {
    if (this.#holds++ > 0) return
    if (this.#holdTimer === null) this.#holdTimer = setInterval(noop, 1 << 30)
    this.#holdTimer.ref()
  }

  /** release ends one hold(). */
  release(): void {
    if (--this.#holds > 0) return
    if (this.#holds < 0) this.#holds = 0
    this.#holdTimer?.unref()
  }

  /** shutdown closes every connection and timer of the core. */
  shutdown(): void {
    this.#closing = true
    this.#shutdown = true
    if (this.#holdTimer !== null) clearInterval(this.#holdTimer)
    this.#holdTimer = null
    this.#holds = 0
    this.metadata.close()
    for (const b of this.#brokers.values()) b.close()
    for (const b of this.#seeds) b.close()
  }

  // ---------------------------------------------------------------- brokers and metadata

  /** broker returns the Broker for a node id known from metadata (or a seed's id), or undefined. */
  broker(nodeId: number): Broker | undefined {
    if (isSeedNode(nodeId)) return this.#seeds[nodeId - seedNodeId(0)]
    return this.#brokers.get(nodeId)
  }

  /** anyBroker picks a broker to send a request that any broker can answer: known ones first, else a seed. */
  anyBroker(): Broker {
    const known = [...this.#brokers.values()]
    const pool = known.length > 0 ? known : this.#seeds
    return pool[this.#nextAny++ % pool.length]!
  }

  /** brokerAfterRefresh returns a broker, loading metadata first when it is not known yet. */
  async brokerAfterRefresh(nodeId: number): Promise<Broker> {
    const known = this.broker(nodeId)
    if (known !== undefined) return known
    await this.metadata.refresh(true)
    const b = this.broker(nodeId)
    if (b === undefined) throw new BrokerConnectionError(`unknown broker ${nodeId}`, { broker: nodeId })
    return b
  }

  /** discoveredBrokers lists the brokers of the last metadata. */
  discoveredBrokers(): BrokerMetadata[] {
    return [...this.metadata.brokers.values()]
  }

  #onMetadata(m: MetadataCache): void {
    this.#syncBrokers()
    for (const [id, b] of this.#brokers) {
      if (!m.brokers.has(id)) {
        b.close()
        this.#brokers.delete(id)
      }
    }
    for (const l of this.#listeners) l.onMetadata?.()
  }

  /**
   * onTopicsDeleted tells the producer and consumer of topics metadata has lacked for
   * considerMissingTopicDeletedAfter, then stops loading those that no part wants any more.
   */
  #onTopicsDeleted(topics: string[]): void {
    this.log('info', 'topics missing from metadata for considerMissingTopicDeletedAfter are taken as deleted', 'topics', topics.join(', '), 'after', this.config.considerMissingTopicDeletedAfter)
    for (const l of this.#listeners) l.onTopicsDeleted?.(topics)
    this.forgetTopics(topics)
  }

  /**
   * forgetTopics leaves topics out of future metadata loads, except those the producer or consumer
   * still wants: their loads tell when the topic is deleted, or made again under a new id.
   */
  forgetTopics(topics: readonly string[]): void {
    this.metadata.forget(topics.filter((t) => !this.#listeners.some((l) => l.wants?.(t) === true)))
  }

  /** syncBrokers opens the brokers metadata names that the client does not have yet, or has at another address. */
  #syncBrokers(): void {
    for (const [id, meta] of this.metadata.brokers) {
      const b = this.#brokers.get(id)
      if (b === undefined) this.#brokers.set(id, new Broker(meta, this.config, this.#events))
      else if (b.meta.host !== meta.host || b.meta.port !== meta.port) {
        // The node moved: its old connections point at the wrong address.
        b.close()
        this.#brokers.set(id, new Broker(meta, this.config, this.#events))
      } else b.meta = meta
    }
  }

  /** onLeadersMoved follows leaders that brokers named in their answers (KIP-951; MetadataCache.moveLeaders, which the sinks and sources call). */
  #onLeadersMoved(moves: LeaderMove[]): void {
    this.#syncBrokers()
    this.log('info', 'partition leaders moved, as brokers answered', 'moves', moves.map((m) => `${m.topic}[${m.partition}] -> ${m.leader} (epoch ${m.leaderEpoch})`).join(', '))
    for (const l of this.#listeners) l.onLeadersMoved?.(moves)
  }

  async #loadMetadata(topics: string[] | null): Promise<ClusterMetadata> {
    const req = Metadata.newRequest()
    req.topics = topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name }))
    req.allowAutoTopicCreation = this.config.allowAutoTopicCreation
    // Try the known brokers, then the seeds, before giving up on this load; after a rebootstrap
    // (REBOOTSTRAP_REQUIRED, at most once a load) the seeds alone.
    let rebootstrapped = false
    let candidates = [...this.#brokers.values(), ...this.#seeds]
    let start = this.#nextAny++ % candidates.length
    let lastErr: Error | null = null
    let fatal: Error | null = null
    let reached = false
    const tried: string[] = []
    for (let i = 0; i < candidates.length; i++) {
      const b = candidates[(start + i) % candidates.length]!
      const addr = `${b.meta.host}:${b.meta.port}`
      if (!tried.includes(addr)) tried.push(addr)
      let got: ClusterMetadata | typeof REBOOTSTRAP
      try {
        got = await this.#metadataFrom(b, req, addr, rebootstrapped)
      } catch (err) {
        lastErr = err as Error
        if (!isConnectionError(lastErr)) reached = true
        // An error retrying cannot fix (failed authentication) is what the load reports.
        if (fatal === null && lastErr instanceof KafkaWireError && !lastErr.retriable && !(lastErr instanceof AbortError)) fatal = lastErr
        continue
      }
      if (got === REBOOTSTRAP) {
        // What onRebootstrapRequired throws fails the load as it is.
        await this.#rebootstrap(addr)
        rebootstrapped = true
        candidates = [...this.#seeds]
        start = 0
        i = -1
        continue
      }
      this.unreachable = null
      return got
    }
    if (fatal !== null) throw fatal
    if (!reached && !this.#shutdown) {
      // Nothing answered at all: say which addresses were tried and why the last one failed.
      throw (this.unreachable = new BrokersUnreachableError(tried, lastErr))
    }
    throw lastErr ?? new BrokerConnectionError('no broker to load metadata from')
  }

  /**
   * metadataFrom asks one broker for metadata: the cluster it describes, or REBOOTSTRAP when it
   * answered REBOOTSTRAP_REQUIRED and this load has not rebootstrapped yet.
   */
  async #metadataFrom(b: Broker, req: ReturnType<typeof Metadata.newRequest>, addr: string, rebootstrapped: boolean): Promise<ClusterMetadata | typeof REBOOTSTRAP> {
    const res = await b.request(Metadata, req, { timeout: this.config.requestTimeoutOverhead + 5_000, background: true })
    if (res.errorCode === ErrorCode.REBOOTSTRAP_REQUIRED && !rebootstrapped) return REBOOTSTRAP
    if (res.errorCode) throw new KafkaProtocolError(res.errorCode, { broker: b.meta.nodeId })
    const known = this.metadata.clusterId
    if (rebootstrapped && known !== null && res.clusterId !== known) {
      // KIP-899: a rebootstrap must find the same cluster, not carry on against another one.
      throw new KafkaProtocolError(ErrorCode.INCONSISTENT_CLUSTER_ID, { broker: b.meta.nodeId, errorMessage: `after REBOOTSTRAP_REQUIRED, seed ${addr} answered for cluster ${res.clusterId ?? '(none)'}, not ${known}` })
    }
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
  }

  /**
   * rebootstrap answers REBOOTSTRAP_REQUIRED (KIP-1102): the seeds onRebootstrapRequired gives (if
   * any) replace the client's, and the brokers discovered so far are forgotten, their connections
   * closed, so that the load goes on from the seeds.
   */
  async #rebootstrap(from: string): Promise<void> {
    const fn = this.config.onRebootstrapRequired
    const seeds = fn === null ? [] : await fn()
    if (!Array.isArray(seeds)) throw new InvalidOptionError('onRebootstrapRequired', 'must return a list of "host:port" seeds (or an empty list for the current ones)')
    if (seeds.length > 0) this.updateSeedBrokers(seeds)
    this.log('warn', 'a broker answered REBOOTSTRAP_REQUIRED: the discovered brokers are forgotten and metadata is loaded from the seeds', 'broker', from, 'seeds', this.#seeds.map((b) => `${b.meta.host}:${b.meta.port}`).join(','))
    for (const b of this.#brokers.values()) b.close()
    this.#brokers.clear()
  }

  /**
   * updateSeedBrokers replaces the seed brokers (franz-go's UpdateSeedBrokers); the old seeds'
   * connections are closed. An empty list changes nothing. Throws InvalidOptionError for an address
   * that is not "host:port", before changing anything.
   */
  updateSeedBrokers(addrs: readonly string[]): void {
    if (!Array.isArray(addrs)) throw new InvalidOptionError('updateSeedBrokers', 'takes a list of "host:port" addresses')
    if (addrs.length === 0) return
    const parsed = addrs.map((a) => parseHostPort(a, 'updateSeedBrokers'))
    this.checkRunning()
    const old = this.#seeds
    this.#seeds = this.#seedBrokers(parsed)
    for (const b of old) b.close()
  }

  /** seedBrokers makes the Brokers of seed addresses, numbered as seeds (seedNodeId). */
  #seedBrokers(addrs: ReadonlyArray<{ host: string; port: number }>): Broker[] {
    return addrs.map((s, i) => new Broker({ nodeId: seedNodeId(i), host: s.host, port: s.port, rack: null }, this.config, this.#events))
  }

  /**
   * topic returns what the client knows of a topic, loading metadata first when it knows nothing
   * or `refresh` is set. Returns undefined when the topic does not exist.
   */
  async topic(name: string, refresh = false): Promise<TopicInfo | undefined> {
    this.checkRunning()
    this.metadata.interest([name])
    if (refresh || !this.metadata.topics.has(name)) await this.metadata.refresh(true)
    const t = this.metadata.topics.get(name)
    if (t === undefined || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
      // Asked once; a topic that does not exist is not looked for again on every refresh.
      this.forgetTopics([name])
      return undefined
    }
    return t
  }

  /** leaderOf returns the node id leading a partition per the cached metadata, or -1. */
  leaderOf(topic: string, partition: number): number {
    return this.metadata.topics.get(topic)?.partitions[partition]?.leader ?? -1
  }

  // ---------------------------------------------------------------- requests

  /**
   * request sends any generated request to the right broker (franz-go's cl.Request), as the routing
   * table says: partition requests are split per leader and the answers merged; group and
   * transaction requests go to their coordinator; controller requests to the controller; the rest
   * to any broker. Retriable failures are retried within `requestRetries` and `retryTimeout`.
   */
  async request<Req, Res>(api: ApiMessage<Req, Res>, body: Req, opts: CoreRequestOptions = {}): Promise<Res> {
    this.checkRunning()
    const send = prepared(body, opts.prepare)
    if (opts.broker !== undefined) {
      const b = await this.brokerAfterRefresh(opts.broker)
      return this.retry(opts, api.key, (signal) => b.request(api, send, attemptOptions(opts, signal)))
    }
    const r = route(api, body)
    switch (r.kind) {
      case 'leaders':
        return this.#splitByLeader(api, body, r.spec, opts)
      case 'coordinator':
        return this.coordinatorRequest(r.coordinatorType, r.key, api, send, opts)
      case 'controller':
        return this.retry(opts, api.key, async (signal) => {
          if (this.metadata.lastLoad === 0) await this.metadata.refresh(true)
          const b = this.broker(this.metadata.controllerId) ?? this.anyBroker()
          return b.request(api, send, attemptOptions(opts, signal))
        })
      default:
        return this.retry(opts, api.key, (signal) => this.anyBroker().request(api, send, attemptOptions(opts, signal)))
    }
  }

  /** requestOn sends a request on a broker's connection of the given kind, without retries. */
  requestOn<Req, Res>(nodeId: number, kind: ConnectionKind, api: ApiMessage<Req, Res>, body: Req | ((version: number) => Req), opts: RequestOptions = {}): Promise<Res> {
    const b = this.broker(nodeId)
    if (b === undefined) return Promise.reject(new BrokerConnectionError(`unknown broker ${nodeId}`, { broker: nodeId }))
    return b.request(api, body, { ...opts, kind })
  }

  /**
   * retry runs `attempt` until it succeeds or fails with a non-retriable error, waiting
   * `retryBackoff` between tries, for at most `requestRetries` tries and the `retryTimeout` of the
   * request's API key (`key`; -1, the default bound, when the attempt is not one request).
   * `waitFor` may give an error a wait of its own, which does not count as a try (the transactional
   * producer's CONCURRENT_TRANSACTIONS); it gets the error and the ms since the call started.
   */
  async retry<T>(opts: { signal?: AbortSignal }, key: number, attempt: (signal?: AbortSignal) => Promise<T>, waitFor?: (err: unknown, elapsed: number) => number | undefined): Promise<T> {
    this.hold()
    try {
      const retries = new Retries(this, key)
      for (;;) {
        if (opts.signal?.aborted) throw new AbortError(opts.signal.reason)
        this.checkRunning()
        try {
          return await attempt(opts.signal)
        } catch (err) {
          if (!retriableThrown(err) || !(await retries.next(opts.signal, waitFor?.(err, retries.elapsed)))) throw err
          this.log('debug', 'retrying request', 'apiKey', key, 'err', (err as Error).message)
        }
      }
    } finally {
      this.release()
    }
  }

  /**
   * #splitByLeader sends each partition of a request to its leader (one request per leader, in
   * parallel) and merges the answers into one response of the same shape, in rounds (`retryItems`)
   * with a metadata load between them: a partition whose leader's request failed retriably (its
   * broker went away, say) or that has no leader for now is sent again to the leader the loaded
   * metadata names. With `askAgain` (ListOffsets, DeleteRecords, OffsetForLeaderEpoch), a partition
   * answering NOT_LEADER_OR_FOLLOWER is asked again of its new leader, and one answering
   * UNKNOWN_TOPIC_OR_PARTITION too when the metadata it was routed by was over a second old (as
   * franz-go's sharders do). When the rounds run out, a partition keeps its last answer; one never
   * answered fails the call. A topic or partition the metadata does not know fails it at once.
   */
  async #splitByLeader<Req, Res>(api: ApiMessage<Req, Res>, body: Req, s: SplitSpec, opts: CoreRequestOptions): Promise<Res> {
    const b = body as Struct
    const topics = b[s.topics] as Struct[]
    const missing = topics.map((t) => t[s.topicName] as string).filter((n) => !this.metadata.topics.has(n))
    if (missing.length > 0) {
      this.metadata.interest(missing)
      await this.metadata.refresh(true)
    }
    const askAgain = s.askAgain && opts.askAgain !== false
    const items: Item[] = []
    for (const t of topics) {
      const name = t[s.topicName] as string
      for (const p of t[s.partitions] as Struct[]) {
        const idx = p[s.partitionIndex] as number
        // A caller that retries on its own (askAgain false) gets a partition without a leader at once.
        if (this.metadata.topics.get(name)?.partitions[idx] === undefined || (opts.askAgain === false && this.leaderOf(name, idx) < 0)) throw new UnknownLeaderError(name, idx)
        items.push({ topic: t, partition: p })
      }
    }
    // The consumer's long-polling fetch connection is its own; a Fetch sent here must not queue behind it.
    const kind: ConnectionKind = api.key === ApiKey.Produce ? 'produce' : 'other'
    const responses: Res[] = []
    // The response topic struct answering each request topic (the first one seen), for the merge.
    const answering = new Map<Struct, Struct>()
    let routedAt = 0
    const round = async (pending: Item[], signal: AbortSignal | undefined): Promise<Map<Item, Struct | Error>> => {
      routedAt = this.metadata.lastLoad
      const out = new Map<Item, Struct | Error>()
      const byLeader = new Map<number, Item[]>()
      for (const it of pending) {
        const name = it.topic[s.topicName] as string
        const idx = it.partition[s.partitionIndex] as number
        const leader = this.leaderOf(name, idx)
        if (leader < 0) {
          out.set(it, new UnknownLeaderError(name, idx))
          continue
        }
        let mine = byLeader.get(leader)
        if (mine === undefined) byLeader.set(leader, (mine = []))
        mine.push(it)
      }
      await Promise.all(
        [...byLeader].map(async ([leader, mine]) => {
          try {
            const res = await this.requestOn(leader, kind, api, prepared({ ...b, [s.topics]: requestTopics(mine, s) } as Req, opts.prepare), attemptOptions(opts, signal))
            responses.push(res)
            answers(res, mine, s, out, answering)
          } catch (err) {
            if (endsCall(err)) throw err
            for (const it of mine) out.set(it, err as Error)
          }
        }),
      )
      return out
    }
    this.hold()
    let results: Map<Item, Struct | Error>
    try {
      results = await retryItems(
        this,
        items,
        round,
        (r) => (r instanceof Error ? retriableThrown(r) : askAgain && movedAnswer(r.errorCode as number, routedAt, this.config.metadataMinAge)),
        (_it, err) => err as Error,
        { signal: opts.signal, between: () => this.metadata.refresh(true).catch(() => {}), key: api.key },
      )
    } finally {
      this.release()
    }
    for (const r of results.values()) if (r instanceof Error) throw r
    if (responses.length === 1) return responses[0]!
    if (responses.length === 0) return api.newResponse()
    // Merge: each request topic once, with the last answer of each of its partitions, in request order.
    const merged = new Map<Struct, Struct>()
    for (const it of items) {
      const r = results.get(it) as Struct | undefined
      if (r === undefined) continue
      let t = merged.get(it.topic)
      if (t === undefined) merged.set(it.topic, (t = { ...answering.get(it.topic)!, [s.responsePartitions]: [] }))
      ;(t[s.responsePartitions] as Struct[]).push(r)
    }
    let throttle = -1
    for (const r of responses) throttle = Math.max(throttle, (r as { throttleTimeMs?: number }).throttleTimeMs ?? -1)
    const out: Struct = { ...(responses[0] as Struct), [s.responseTopics]: [...merged.values()] }
    if (throttle >= 0) out.throttleTimeMs = throttle
    return out as Res
  }

  // ---------------------------------------------------------------- coordinators

  /**
   * coordinator returns the node id coordinating a group (type 0) or transactional id (type 1),
   * asking FindCoordinator once and caching the answer until `invalidateCoordinator`.
   */
  coordinator(type: CoordinatorType, key: string, signal?: AbortSignal): Promise<number> {
    const cacheKey = `${type}:${key}`
    let p = this.#coordinators.get(cacheKey)
    if (p === undefined) {
      p = this.retry({ signal }, FindCoordinator.key, async (sig) => {
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

  /**
   * coordinatorRequest sends a request to the coordinator of a group or transactional id on the
   * broker's group connection, finding the coordinator again and retrying when the answer says it
   * moved or is loading (a top-level error code, the first group's for OffsetFetch v8+, or the first
   * partition's for OffsetCommit and TxnOffsetCommit, which have no other). `body` may
   * be a function of the negotiated version, for requests whose fields differ between versions.
   */
  coordinatorRequest<Req, Res>(type: CoordinatorType, key: string, api: ApiMessage<Req, Res>, body: Req | ((version: number) => Req), opts: ClientRequestOptions = {}): Promise<Res> {
    return this.retry(opts, api.key, async (signal) => {
      const node = await this.coordinator(type, key, signal)
      const res = await this.requestOn(node, 'group', api, body, attemptOptions(opts, signal))
      const r = res as { errorCode?: number; groups?: Array<{ errorCode?: number }>; topics?: Array<{ partitions?: Array<{ errorCode?: number }> }> }
      const code = r.errorCode || r.groups?.[0]?.errorCode || r.topics?.[0]?.partitions?.[0]?.errorCode || 0
      if (isCoordinatorError(code)) {
        this.invalidateCoordinator(type, key)
        throw new KafkaProtocolError(code, { broker: node })
      }
      return res
    })
  }
}

function noop(): void {}

/**
 * endsCall is true for an abort or a closed client: errors that end a whole call or poll rather than
 * report on one of the things it asked about.
 */
export function endsCall(err: unknown): boolean {
  return err instanceof AbortError || err instanceof ClientClosedError
}

/** REBOOTSTRAP is what #metadataFrom returns for an answer of REBOOTSTRAP_REQUIRED (KIP-1102). */
const REBOOTSTRAP = Symbol('rebootstrap')

/** isConnectionError is true for errors that mean a broker could not be reached or did not answer. */
export function isConnectionError(err: unknown): boolean {
  return err instanceof BrokerConnectionError || err instanceof RequestTimeoutError
}

/** prepared is the body to hand a connection: the body itself, or a function of the version that prepares it. */
function prepared<Req>(body: Req, prepare: CoreRequestOptions['prepare']): Req | ((version: number) => Req) {
  return prepare === undefined ? body : (version: number) => prepare(version, body) as Req
}

/** attemptOptions are the per-attempt request options of a routed call. */
function attemptOptions(opts: ClientRequestOptions, signal: AbortSignal | undefined): RequestOptions {
  const o: RequestOptions = {}
  if (opts.version !== undefined) o.version = opts.version
  if (opts.timeout !== undefined) o.timeout = opts.timeout
  if (signal !== undefined) o.signal = signal
  return o
}

type Struct = { [k: string]: unknown }

/** Item is one partition of a partition request: the request's topic struct and partition struct. */
interface Item {
  topic: Struct
  partition: Struct
}

/** requestTopics groups items into the request's topics array, each topic once, in item order. */
function requestTopics(items: Item[], s: SplitSpec): Struct[] {
  const byTopic = new Map<Struct, Struct>()
  for (const it of items) {
    let t = byTopic.get(it.topic)
    if (t === undefined) byTopic.set(it.topic, (t = { ...it.topic, [s.partitions]: [] }))
    ;(t[s.partitions] as Struct[]).push(it.partition)
  }
  return [...byTopic.values()]
}

/**
 * answers sets, in `out`, each asked item's answer from a response, and in `answering` the response
 * topic struct of each request topic. Versions that name topics by id answer with the id alone (the
 * caller fills the names), so topics are matched by name or by id.
 */
function answers(res: unknown, asked: Item[], s: SplitSpec, out: Map<Item, Struct | Error>, answering: Map<Struct, Struct>): void {
  const byKey = new Map<string, Item>()
  for (const it of asked) {
    const idx = it.partition[s.partitionIndex] as number
    byKey.set(`${it.topic[s.topicName] as string}\u0000${idx}`, it)
    if (typeof it.topic.topicId === 'string') byKey.set(`${it.topic.topicId}\u0000${idx}`, it)
  }
  for (const rt of (res as Struct)[s.responseTopics] as Struct[]) {
    const topic = (rt[s.responseTopicName] as string) || (rt.topicId as string)
    for (const rp of rt[s.responsePartitions] as Struct[]) {
      const it = byKey.get(`${topic}\u0000${rp[s.responsePartitionIndex] as number}`)
      if (it === undefined) continue
      out.set(it, rp)
      if (!answering.has(it.topic)) answering.set(it.topic, rt)
    }
  }
}

/**
 * movedAnswer is true for a partition's answer that its leader moved: NOT_LEADER_OR_FOLLOWER, or
 * UNKNOWN_TOPIC_OR_PARTITION when the metadata the request was routed by (loaded at `routedAt`) was
 * over a second (or metadataMinAge) old; fresher, the topic most likely does not exist.
 */
function movedAnswer(code: number, routedAt: number, minAge: number): boolean {
  if (code === ErrorCode.NOT_LEADER_OR_FOLLOWER) return true
  return code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && Date.now() - routedAt > Math.min(1_000, minAge)
}

/**
 * Retries counts the rounds of one call: at most `requestRetries` rounds within `retryTimeout` for
 * the call's API key (-1 when it has none: the default bound), waiting `retryBackoff` between rounds
 * (the client's own retry settings).
 */
class Retries {
  #core: ClientCore
  #tries = 0
  #start = Date.now()
  #timeout: number
  constructor(core: ClientCore, key: number) {
    this.#core = core
    this.#timeout = core.config.retryTimeout(key)
  }

  /** elapsed is how long ago the call started, in ms. */
  get elapsed(): number {
    return Date.now() - this.#start
  }

  /**
   * next waits before the next round and resolves false, at once, when the budget is spent: a round
   * past requestRetries, or one whose wait would end past retryTimeout (franz-go's test). A `wait`
   * the caller chooses does not count as a round but must still end within retryTimeout.
   */
  async next(signal: AbortSignal | undefined, wait?: number): Promise<boolean> {
    const cfg = this.#core.config
    if (wait === undefined && ++this.#tries > cfg.requestRetries) return false
    const ms = wait ?? cfg.retryBackoff(this.#tries)
    if (this.elapsed + ms > this.#timeout) return false
    await delay(ms, signal).catch((reason) => {
      throw new AbortError(reason)
    })
    this.#core.checkRunning()
    return true
  }
}

/** retriableThrown is true for a thrown error that a new round may get past (a connection that died, a timeout). */
export function retriableThrown(err: unknown): boolean {
  return err instanceof KafkaWireError && err.retriable && !endsCall(err)
}

/**
 * retryItems runs `round` over the items still pending until none is left or the retry budget is
 * spent. A round returns each item's result; items for which `again` says so go into the next round,
 * after `between` (a metadata refresh, say). A round that throws a retriable error puts all its items
 * back; the last result (or error, through `failed`) of an item is what it gets.
 */
export async function retryItems<K, R>(
  core: ClientCore,
  items: K[],
  round: (items: K[], signal: AbortSignal | undefined) => Promise<Map<K, R>>,
  again: (r: R, item: K) => boolean,
  failed: (item: K, err: unknown) => R,
  opts: { signal?: AbortSignal; between?: () => Promise<void>; key?: number } = {},
): Promise<Map<K, R>> {
  const out = new Map<K, R>()
  const retries = new Retries(core, opts.key ?? -1)
  let pending = items
  while (pending.length > 0) {
    let next: K[] = []
    try {
      const res = await round(pending, opts.signal)
      for (const k of pending) {
        const r = res.get(k)
        if (r === undefined) continue
        out.set(k, r)
        if (again(r, k)) next.push(k)
      }
    } catch (err) {
      if (endsCall(err)) throw err
      for (const k of pending) out.set(k, failed(k, err))
      if (!retriableThrown(err)) break
      next = pending
    }
    if (next.length === 0 || !(await retries.next(opts.signal))) break
    core.log('debug', 'retrying items', 'count', next.length)
    await opts.between?.()
    pending = next
  }
  return out
}
