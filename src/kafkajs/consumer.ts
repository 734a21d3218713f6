/**
 * The KafkaJS consumer over kafka-wire's Client: subscribe, then `run` with eachMessage or eachBatch.
 * The group, its heartbeats and the fetching are the client's; the runner here hands what each poll
 * returned to the application partition by partition, keeps KafkaJS's resolved offsets, commits them as
 * KafkaJS does, and retries, restarts or crashes on a failing handler as KafkaJS does.
 */
import { Client, coreOf, consumerOf } from '../client/client.js'
import type { ClientOptions, OffsetSpec } from '../client/options.js'
import type { BrokerE2E, BrokerMetadata, Hook } from '../hooks/index.js'
import { KafkaWireError } from '../protocol/errors.js'
import { ApiKey } from '../protocol/messages/api-key.js'
import { DescribeGroups } from '../protocol/messages/describe-groups.js'
import { Metadata, newMetadataRequestMetadataRequestTopic } from '../protocol/messages/metadata.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { Record } from '../protocol/record.js'
import { assignerBalancer, PartitionAssigners, type PartitionAssigner } from './assigners.js'
import { createErrorFromCode, isRebalancing, KafkaJSError, KafkaJSNonRetriableError, KafkaJSNotImplemented, KafkaJSNumberOfRetriesExceeded, retriesSpent, toKafkaJSError } from './errors.js'
import { CONSUMER_EVENTS, Instrumentation, networkHooks, type ConsumerEvents, type InstrumentationEvent, type RemoveInstrumentationEventListener } from './events.js'
import type { ConnectEvent, ConsumerCommitOffsetsEvent, ConsumerCrashEvent, ConsumerEndBatchProcessEvent, ConsumerFetchEvent, ConsumerFetchStartEvent, ConsumerGroupJoinEvent, ConsumerHeartbeatEvent, ConsumerRebalancingEvent, ConsumerReceivedUnsubcribedTopicsEvent, ConsumerStartBatchProcessEvent, DisconnectEvent, RequestEvent, RequestQueueSizeEvent, RequestTimeoutEvent, Cluster } from './types.js'
import { kafkaJSBackoff, type KafkaContext, type RetryOptions } from './context.js'
import type { Logger } from './logger.js'
import { partitionMetadataOf, type IHeaders, type PartitionMetadata } from './partitioners.js'

/** ConsumerConfig configures a consumer, as KafkaJS's; `groupProtocol` and `groupRemoteAssignor` are kafka-wire's additions. */
export interface ConsumerConfig {
  groupId: string
  /** partitionAssigners are the classic protocol's assigners, in preference order. Default [PartitionAssigners.roundRobin]. */
  partitionAssigners?: PartitionAssigner[]
  metadataMaxAge?: number
  /** sessionTimeout, in ms. Default 30,000. */
  sessionTimeout?: number
  /** rebalanceTimeout, in ms. Default 60,000. */
  rebalanceTimeout?: number
  /** heartbeatInterval, in ms. Default 3,000. Heartbeats are sent on their own timer, whatever the handlers do. */
  heartbeatInterval?: number
  /** maxBytesPerPartition bounds one partition in a fetch response. Default 1 MiB. */
  maxBytesPerPartition?: number
  /** minBytes is the least data a broker waits for before answering a fetch. Default 1. */
  minBytes?: number
  /** maxBytes bounds one fetch response. Default 10 MiB. */
  maxBytes?: number
  /** maxWaitTimeInMs is how long a broker may hold a fetch, in ms. Default 5,000. */
  maxWaitTimeInMs?: number
  /** retry bounds retries of a failing handler, then the consumer restarts (restartOnFailure decides) or crashes. */
  retry?: RetryOptions & { restartOnFailure?: (err: Error) => Promise<boolean> }
  allowAutoTopicCreation?: boolean
  /** maxInFlightRequests: accepted for compatibility; kafka-wire sends one fetch per broker at a time. */
  maxInFlightRequests?: number
  /** readUncommitted delivers messages of open and aborted transactions too. Default false. */
  readUncommitted?: boolean
  /** rackId fetches from the closest replica (KIP-392). */
  rackId?: string
  /**
   * groupProtocol: 'classic' (JoinGroup/SyncGroup, KafkaJS's) or 'consumer' (KIP-848: the coordinator
   * assigns, rebalances are incremental; partitionAssigners, sessionTimeout, rebalanceTimeout and
   * heartbeatInterval are then the broker's). Default 'classic'. A kafka-wire addition.
   */
  groupProtocol?: 'classic' | 'consumer'
  /** groupRemoteAssignor names the KIP-848 server-side assignor ('uniform' or 'range'). A kafka-wire addition. */
  groupRemoteAssignor?: string
}

/** KafkaMessage is a consumed message, as KafkaJS hands it out. */
export interface KafkaMessage {
  key: Buffer | null
  value: Buffer | null
  /** timestamp in ms since the epoch, as a string. */
  timestamp: string
  attributes: number
  /** offset as a string. */
  offset: string
  /** headers by key; a key sent several times maps to an array of its values. */
  headers: IHeaders
  size?: never
}

/** Batch is the messages of one partition from one fetch. */
export type Batch = {
  topic: string
  partition: number
  highWatermark: string
  messages: KafkaMessage[]
  isEmpty(): boolean
  firstOffset(): string | null
  lastOffset(): string
  offsetLag(): string
  offsetLagLow(): string
}

/** EachMessagePayload is what eachMessage receives. */
export interface EachMessagePayload {
  topic: string
  partition: number
  message: KafkaMessage
  /** heartbeat resolves at once: kafka-wire heartbeats on its own timer, whatever the handler does. */
  heartbeat(): Promise<void>
  /** pause pauses this partition after the current message and returns the function that resumes it. */
  pause(): () => void
}

/** PartitionOffset is a partition and an offset (a string). */
export interface PartitionOffset {
  partition: number
  offset: string
}

/** TopicOffsets are partitions' offsets of one topic. */
export interface TopicOffsets {
  topic: string
  partitions: PartitionOffset[]
}

/** Offsets are partitions' offsets per topic. */
export interface Offsets {
  topics: TopicOffsets[]
}

/** OffsetsByTopicPartition are partitions' offsets per topic. */
export interface OffsetsByTopicPartition {
  topics: TopicOffsets[]
}

/** EachBatchPayload is what eachBatch receives. */
export interface EachBatchPayload {
  batch: Batch
  /** resolveOffset marks a message processed: the next commit commits the offset after it. */
  resolveOffset(offset: string): void
  heartbeat(): Promise<void>
  pause(): () => void
  /** commitOffsetsIfNecessary commits `offsets`, or the resolved offsets when autoCommitInterval or autoCommitThreshold is reached. */
  commitOffsetsIfNecessary(offsets?: Offsets): Promise<void>
  uncommittedOffsets(): OffsetsByTopicPartition
  isRunning(): boolean
  /** isStale is true once the partition was sought elsewhere (or revoked) while the batch is being processed. */
  isStale(): boolean
}

/** EachBatchHandler processes a batch. */
export type EachBatchHandler = (payload: EachBatchPayload) => Promise<void>
/** EachMessageHandler processes a message. */
export type EachMessageHandler = (payload: EachMessagePayload) => Promise<void>

/** ConsumerRunConfig configures `run`. */
export type ConsumerRunConfig = {
  /** autoCommit commits resolved offsets after each batch (and per interval or threshold). Default true. */
  autoCommit?: boolean
  autoCommitInterval?: number | null
  autoCommitThreshold?: number | null
  /** eachBatchAutoResolve resolves a batch's last offset when eachBatch returns. Default true. */
  eachBatchAutoResolve?: boolean
  /** partitionsConsumedConcurrently is how many partitions' batches are processed at once. Default 1. */
  partitionsConsumedConcurrently?: number
  eachBatch?: EachBatchHandler
  eachMessage?: EachMessageHandler
}

/** ConsumerSubscribeTopics subscribes to topics (names or regular expressions matched when subscribing). */
export type ConsumerSubscribeTopics = { topics: (string | RegExp)[]; fromBeginning?: boolean }
/** @deprecated Replaced by ConsumerSubscribeTopics. */
export type ConsumerSubscribeTopic = { topic: string | RegExp; fromBeginning?: boolean }

/** TopicPartitionOffsetAndMetadata is an offset to commit, with optional metadata. */
export type TopicPartitionOffsetAndMetadata = { topic: string; partition: number; offset: string; metadata?: string | null }

/** MemberDescription is a group member as describeGroup reports it. */
export type MemberDescription = { clientHost: string; clientId: string; memberId: string; memberAssignment: Buffer; memberMetadata: Buffer }

/** GroupDescription is a group as describeGroup reports it. */
export type GroupDescription = { groupId: string; members: MemberDescription[]; protocol: string; protocolType: string; state: string }

/** TopicPartitions are partitions of a topic. */
export type TopicPartitions = { topic: string; partitions: number[] }

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

/** SUBSCRIBE_ERRORS are the topic errors KafkaJS's subscribe fails with (from its metadata request). */
const SUBSCRIBE_ERRORS = new Set<number>([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.TOPIC_AUTHORIZATION_FAILED])

function parseOffset(offset: unknown, what: string): bigint {
  try {
    if (typeof offset === 'bigint') return offset
    if (typeof offset === 'number' && Number.isInteger(offset)) return BigInt(offset)
    if (typeof offset === 'string' && /^-?\d+$/.test(offset.trim())) return BigInt(offset.trim())
  } catch {
    // fall through
  }
  throw new KafkaJSNonRetriableError(`Invalid ${what}, expected a long received ${String(offset)}`)
}

/** findTracer returns a hook with kotel's processSpan (the Tracer), for running eachMessage in a process span. */
function findTracer(hooks: unknown): ProcessTracer | null {
  if (Array.isArray(hooks)) {
    for (const h of hooks) {
      const t = findTracer(h)
      if (t !== null) return t
    }
    return null
  }
  if (hooks !== null && typeof hooks === 'object' && typeof (hooks as ProcessTracer).process === 'function' && typeof (hooks as ProcessTracer).processSpan === 'function') return hooks as ProcessTracer
  return null
}

/** ProcessTracer is the part of kotel's Tracer the consumer uses: a process span around each message. */
interface ProcessTracer {
  process<T>(record: Record, fn: () => T | Promise<T>): Promise<T>
  processSpan(record: Record): unknown
}

/**
 * Consumer is KafkaJS's consumer: `connect`, `subscribe`, `run({ eachMessage | eachBatch })`, `stop`,
 * `disconnect`, offsets (`commitOffsets`, `seek`), `pause`/`resume`/`paused`, `describeGroup` and
 * instrumentation events. `run` makes a kafka-wire group client; `stop` closes it (leaving the group).
 */
export class Consumer {
  readonly #ctx: KafkaContext
  readonly #config: ConsumerConfig
  readonly #logger: Logger
  readonly #events: Instrumentation
  readonly #groupId: string
  #control: Client | null = null
  #brokers: string[] | null = null
  /** subscriptions: topic → fromBeginning, in subscription order. */
  #subscriptions = new Map<string, boolean>()
  #runner: Runner | null = null
  #restartTimer: NodeJS.Timeout | null = null
  #stopping: Promise<void> | null = null

  /** events are the names of the events `on` accepts. */
  readonly events: ConsumerEvents = CONSUMER_EVENTS

  constructor(ctx: KafkaContext, config: ConsumerConfig) {
    if (config === null || typeof config !== 'object' || typeof config.groupId !== 'string' || config.groupId === '') {
      throw new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.')
    }
    const session = config.sessionTimeout ?? 30_000
    const heartbeat = config.heartbeatInterval ?? 3_000
    if (heartbeat >= session) {
      throw new KafkaJSNonRetriableError(`Consumer heartbeatInterval (${heartbeat}) must be lower than sessionTimeout (${session}). It is recommended to set heartbeatInterval to approximately a third of the sessionTimeout.`)
    }
    if (config.groupProtocol !== undefined && config.groupProtocol !== 'classic' && config.groupProtocol !== 'consumer') {
      throw new KafkaJSNonRetriableError(`groupProtocol must be 'classic' or 'consumer', got ${String(config.groupProtocol)}`)
    }
    this.#ctx = ctx
    this.#config = { ...config }
    this.#groupId = config.groupId
    this.#logger = ctx.logger.namespace('Consumer')
    this.#events = new Instrumentation('consumer', CONSUMER_EVENTS, this.#logger)
  }

  // ---------------------------------------------------------------- lifecycle

  /** connect reaches the cluster (metadata through the seed brokers, with SASL when configured) and emits CONNECT. */
  async connect(): Promise<void> {
    this.#brokers = await this.#ctx.brokers()
    if (this.#control === null) {
      this.#control = new Client({ ...this.#ctx.clientOptions(this.#brokers, [], this.#config.retry), allowAutoTopicCreation: false, metadataMaxAge: this.#config.metadataMaxAge ?? 300_000 })
    }
    const control = this.#control
    try {
      await coreOf(control).metadata.refresh(true)
    } catch (err) {
      throw retriesSpent(toKafkaJSError(err, brokerAddress(control)), { ...this.#ctx.retry, ...this.#config.retry })
    }
    this.#events.emit(CONSUMER_EVENTS.CONNECT)
  }

  /** disconnect stops the consumer (see stop), closes its connections and emits DISCONNECT. */
  async disconnect(): Promise<void> {
    await this.stop()
    const control = this.#control
    this.#control = null
    await control?.close()
    this.#events.emit(CONSUMER_EVENTS.DISCONNECT)
  }

  /**
   * stop stops consuming: the batch being processed finishes, resolved offsets are committed (with
   * autoCommit), the member leaves the group and STOP is emitted. `run` may be called again later.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      try {
        if (this.#restartTimer !== null) clearTimeout(this.#restartTimer)
        this.#restartTimer = null
        const r = this.#runner
        if (r !== null) {
          this.#runner = null
          await r.stop()
          this.#events.emit(CONSUMER_EVENTS.STOP)
        }
        this.#logger.info('Stopped', { groupId: this.#groupId })
      } finally {
        this.#stopping = null
      }
    })()
    return this.#stopping
  }

  /** logger returns the consumer's logger. */
  logger(): Logger {
    return this.#logger
  }

  /** on listens to one of `consumer.events`; it returns the function that removes the listener. */
  on(eventName: ConsumerEvents['HEARTBEAT'], listener: (event: ConsumerHeartbeatEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['COMMIT_OFFSETS'], listener: (event: ConsumerCommitOffsetsEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['GROUP_JOIN'], listener: (event: ConsumerGroupJoinEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['FETCH_START'], listener: (event: ConsumerFetchStartEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['FETCH'], listener: (event: ConsumerFetchEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['START_BATCH_PROCESS'], listener: (event: ConsumerStartBatchProcessEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['END_BATCH_PROCESS'], listener: (event: ConsumerEndBatchProcessEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['STOP'], listener: (event: InstrumentationEvent<null>) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['CRASH'], listener: (event: ConsumerCrashEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['REBALANCING'], listener: (event: ConsumerRebalancingEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['RECEIVED_UNSUBSCRIBED_TOPICS'], listener: (event: ConsumerReceivedUnsubcribedTopicsEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['REQUEST'], listener: (event: RequestEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['REQUEST_TIMEOUT'], listener: (event: RequestTimeoutEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['REQUEST_QUEUE_SIZE'], listener: (event: RequestQueueSizeEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['CONNECT'], listener: (event: ConnectEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents['DISCONNECT'], listener: (event: DisconnectEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents[keyof ConsumerEvents], listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: ConsumerEvents[keyof ConsumerEvents], listener: (event: InstrumentationEvent<any>) => void): () => void {
    return this.#events.on(eventName, listener)
  }

  // ---------------------------------------------------------------- subscribing and running

  /**
   * subscribe adds topics to consume from the next `run`: names, or regular expressions matched
   * against the cluster's topics now (as KafkaJS does). `fromBeginning` says where partitions without a
   * committed offset start: the earliest offset (true) or the latest (false, the default).
   */
  async subscribe(subscription: ConsumerSubscribeTopics | ConsumerSubscribeTopic): Promise<void> {
    if (this.#runner !== null) throw new KafkaJSNonRetriableError('Cannot subscribe to topic while consumer is running')
    const s = subscription as Partial<ConsumerSubscribeTopics & ConsumerSubscribeTopic>
    if (s === null || typeof s !== 'object' || (!s.topic && !s.topics)) throw new KafkaJSNonRetriableError('Missing required argument "topics"')
    if (s.topics != null && !Array.isArray(s.topics)) throw new KafkaJSNonRetriableError('Argument "topics" must be an array')
    const subs = s.topics ?? [s.topic!]
    for (const t of subs) {
      if (typeof t !== 'string' && !(t instanceof RegExp)) {
        throw new KafkaJSNonRetriableError(`Invalid topic ${String(t)} (${typeof t}), the topic name has to be a String or a RegExp`)
      }
    }
    let all: string[] | null = null
    if (subs.some((t) => t instanceof RegExp)) all = await this.#allTopics()
    await this.#checkTopics(subs.filter((t): t is string => typeof t === 'string'))
    const fromBeginning = s.fromBeginning === true
    for (const t of subs) {
      if (typeof t === 'string') this.#subscriptions.set(t, fromBeginning)
      else for (const name of all!.filter((n) => t.test(n))) this.#subscriptions.set(name, fromBeginning)
    }
  }

  async #allTopics(): Promise<string[]> {
    const control = this.#controlClient()
    const req = Metadata.newRequest()
    req.topics = null
    req.allowAutoTopicCreation = false
    try {
      const res = await control.request(Metadata, req)
      return res.topics.filter((t) => t.name !== null && !t.isInternal).map((t) => t.name!)
    } catch (err) {
      throw toKafkaJSError(err, brokerAddress(control))
    }
  }

  /**
   * checkTopics asks the cluster about the topics named (creating them if allowAutoTopicCreation and
   * the broker allow it), as KafkaJS's subscribe does, and fails as it does when one does not exist,
   * is invalid or is not authorized. A leader not elected yet is no failure.
   */
  async #checkTopics(topics: string[]): Promise<void> {
    if (topics.length === 0) return
    const control = this.#controlClient()
    const req = Metadata.newRequest()
    req.topics = topics.map((name) => ({ ...newMetadataRequestMetadataRequestTopic(), name }))
    req.allowAutoTopicCreation = this.#config.allowAutoTopicCreation !== false
    let res
    try {
      res = await control.request(Metadata, req)
    } catch (err) {
      throw toKafkaJSError(err, brokerAddress(control))
    }
    for (const t of res.topics) {
      if (SUBSCRIBE_ERRORS.has(t.errorCode)) throw createErrorFromCode(t.errorCode, { topic: t.name ?? undefined })
    }
  }

  #controlClient(): Client {
    if (this.#control === null) throw new KafkaJSNonRetriableError('The consumer is not connected: call connect() first')
    return this.#control
  }

  /**
   * run joins the group with the subscribed topics and hands their messages to eachMessage or
   * eachBatch until stop or disconnect. It resolves once consuming has started.
   */
  async run(config: ConsumerRunConfig = {}): Promise<void> {
    if (this.#runner !== null) {
      this.#logger.warn('consumer#run was called, but the consumer is already running', { groupId: this.#groupId })
      return
    }
    if (this.#brokers === null) this.#brokers = await this.#ctx.brokers()
    if (config.eachMessage === undefined && config.eachBatch === undefined) {
      throw new KafkaJSNonRetriableError('Consumer#run needs eachMessage or eachBatch')
    }
    this.#start(config)
  }

  #start(config: ConsumerRunConfig): void {
    this.#logger.info('Starting', { groupId: this.#groupId })
    const runner = new Runner(this.#ctx, this.#config, config, [...this.#subscriptions], this.#brokers!, this.#events, this.#logger, (err) => this.#onCrash(err, config))
    this.#runner = runner
    runner.start()
  }

  async #onCrash(e: KafkaJSError | Error, config: ConsumerRunConfig): Promise<void> {
    this.#logger.error(`Crash: ${e.name}: ${e.message}`, { groupId: this.#groupId, retryCount: (e as { retryCount?: number }).retryCount, stack: e.stack })
    const runner = this.#runner
    this.#runner = null
    await runner?.stop().catch(() => {})
    const original = (err: unknown): unknown => ((err as { cause?: unknown })?.cause !== undefined ? original((err as { cause?: unknown }).cause) : err)
    const retriable = e.name === 'KafkaJSNumberOfRetriesExceeded' || (original(e) as { retriable?: boolean })?.retriable === true
    const restartOnFailure = this.#config.retry?.restartOnFailure
    let restart = retriable
    if (retriable && restartOnFailure !== undefined) {
      restart = await restartOnFailure(e).catch((err: Error) => {
        this.#logger.error('Caught error when invoking user-provided "restartOnFailure" callback. Defaulting to restarting.', { error: err?.message ?? err, cause: e.message, groupId: this.#groupId })
        return true
      })
    }
    this.#events.emit(CONSUMER_EVENTS.CRASH, { error: e, groupId: this.#groupId, restart })
    if (restart) {
      const retryTime = (e as { retryTime?: number }).retryTime || this.#config.retry?.initialRetryTime || 300
      this.#logger.error(`Restarting the consumer in ${retryTime}ms`, { retryCount: (e as { retryCount?: number }).retryCount, retryTime, groupId: this.#groupId })
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = null
        if (this.#runner === null) this.#start(config)
      }, retryTime)
    } else {
      // KafkaJS disconnects a consumer that will not restart.
      const control = this.#control
      this.#control = null
      await control?.close()
      this.#events.emit(CONSUMER_EVENTS.DISCONNECT)
    }
  }

  // ---------------------------------------------------------------- offsets

  /** commitOffsets commits offsets for the group (the offset of the next message to consume, per partition). */
  async commitOffsets(topicPartitions: TopicPartitionOffsetAndMetadata[] = []): Promise<void> {
    const commits = new Map<string, Map<number, { offset: bigint; metadata: string | null }>>()
    for (const { topic, partition, offset, metadata = null } of topicPartitions) {
      if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`)
      if (typeof partition !== 'number' || Number.isNaN(partition)) throw new KafkaJSNonRetriableError(`Invalid partition, expected a number received ${String(partition)}`)
      const o = parseOffset(offset, 'offset')
      if (o < 0n) throw new KafkaJSNonRetriableError('Offset must not be a negative number')
      if (metadata !== null && typeof metadata !== 'string') throw new KafkaJSNonRetriableError(`Invalid offset metadata, expected string or null, received ${String(metadata)}`)
      let m = commits.get(topic)
      if (m === undefined) commits.set(topic, (m = new Map()))
      m.set(partition, { offset: o, metadata })
    }
    const r = this.#runner
    if (r === null) throw new KafkaJSNonRetriableError('Consumer group was not initialized, consumer#run must be called first')
    await r.commitExact(commits)
  }

  /**
   * seek moves a partition to an offset ('-2' earliest, '-1' latest): messages still to be processed of
   * the partition are dropped and consuming goes on from there. With autoCommit the offset is committed.
   */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void {
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`)
    if (typeof partition !== 'number' || Number.isNaN(partition)) throw new KafkaJSNonRetriableError(`Invalid partition, expected a number received ${String(partition)}`)
    const o = parseOffset(offset, 'offset')
    if (o < 0n && o !== -1n && o !== -2n) throw new KafkaJSNonRetriableError('Offset must not be a negative number')
    const r = this.#runner
    if (r === null) throw new KafkaJSNonRetriableError('Consumer group was not initialized, consumer#run must be called first')
    r.seek(topic, partition, o)
  }

  /** describeGroup describes the consumer's group: state, protocol and members. */
  async describeGroup(): Promise<GroupDescription> {
    const control = this.#controlClient()
    const req = DescribeGroups.newRequest()
    req.groups = [this.#groupId]
    try {
      const res = await control.request(DescribeGroups, req)
      const g = res.groups.find((x) => x.groupId === this.#groupId)
      if (g === undefined) throw new KafkaJSNonRetriableError(`the coordinator did not describe group ${this.#groupId}`)
      if (g.errorCode !== 0) throw createErrorFromCode(g.errorCode, { message: g.errorMessage })
      return {
        groupId: g.groupId,
        state: g.groupState,
        protocol: g.protocolData,
        protocolType: g.protocolType,
        members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, memberMetadata: m.memberMetadata, memberAssignment: m.memberAssignment })),
      }
    } catch (err) {
      throw toKafkaJSError(err, brokerAddress(control))
    }
  }

  // ---------------------------------------------------------------- pausing

  /** pause stops fetching topics (all their partitions) or some partitions of them, after the message being processed. */
  pause(topicPartitions: Array<{ topic: string; partitions?: number[] }> = []): void {
    validatePartitions(topicPartitions, 'pause')
    const r = this.#runner
    if (r === null) throw new KafkaJSNonRetriableError('Consumer group was not initialized, consumer#run must be called first')
    r.pause(topicPartitions)
  }

  /** resume fetches paused topics or partitions again. */
  resume(topicPartitions: Array<{ topic: string; partitions?: number[] }> = []): void {
    validatePartitions(topicPartitions, 'resume')
    const r = this.#runner
    if (r === null) throw new KafkaJSNonRetriableError('Consumer group was not initialized, consumer#run must be called first')
    r.resume(topicPartitions)
  }

  /** paused lists the paused partitions, per topic. */
  paused(): TopicPartitions[] {
    return this.#runner?.paused() ?? []
  }
}

function validatePartitions(tps: Array<{ topic: string; partitions?: number[] }>, what: string): void {
  for (const tp of tps) {
    if (!tp || !tp.topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String((tp && tp.topic) || tp)}`)
    if (tp.partitions !== undefined && (!Array.isArray(tp.partitions) || tp.partitions.some((p) => typeof p !== 'number' || Number.isNaN(p)))) {
      throw new KafkaJSNonRetriableError(`Array of valid partitions required to ${what} specific partitions instead of ${String(tp.partitions)}`)
    }
  }
}

function brokerAddress(client: Client): (id: number) => string | undefined {
  return (id) => {
    const b = coreOf(client).metadata.brokers.get(id)
    return b === undefined ? undefined : `${b.host}:${b.port}`
  }
}

/** PartitionState is KafkaJS's offset bookkeeping for one assigned partition. */
interface PartitionState {
  topic: string
  partition: number
  /** resolved is the offset after the last processed message (what a commit commits), -1n for none yet. */
  resolved: bigint
  /** committed is the last offset committed (or found committed), -1n for none. */
  committed: bigint
  /** epoch increases on every seek and revocation, so a batch being processed can tell it went stale. */
  epoch: number
}

/**
 * Runner consumes for one `run`: a kafka-wire group client (rebalances held while a poll's messages
 * are processed, so handing partitions over never races processing), a loop that polls and hands each
 * partition's messages to the handlers, KafkaJS's offset bookkeeping, and its retry-then-crash rule.
 */
class Runner {
  readonly #config: ConsumerConfig
  readonly #run: ConsumerRunConfig
  readonly #events: Instrumentation
  readonly #logger: Logger
  readonly #groupId: string
  readonly #topics: string[]
  readonly #onCrash: (err: Error) => Promise<void>
  readonly #client: Client
  readonly #retry: RetryOptions
  readonly #backoff: (tries: number) => number
  readonly #autoCommit: boolean
  readonly #tracer: ProcessTracer | null
  #running = false
  #loopDone: Promise<void> = Promise.resolve()
  #abort = new AbortController()
  #states = new Map<string, PartitionState>()
  #pendingSeeks = new Map<string, bigint>()
  #pausedTopics = new Set<string>()
  #pausedPartitions = new Set<string>()
  #lastCommit = Date.now()
  // GROUP_JOIN bookkeeping.
  #joinStart = 0
  #ledGeneration = false
  #leadProtocol = ''
  #joinAnnounced = true
  #generationSeen = -1

  constructor(ctx: KafkaContext, config: ConsumerConfig, run: ConsumerRunConfig, subscriptions: Array<[string, boolean]>, brokers: string[], events: Instrumentation, logger: Logger, onCrash: (err: Error) => Promise<void>) {
    this.#config = config
    this.#run = run
    this.#events = events
    this.#logger = logger
    this.#groupId = config.groupId
    this.#topics = subscriptions.map(([t]) => t)
    this.#onCrash = onCrash
    this.#autoCommit = run.autoCommit !== false
    this.#retry = { retries: 5, ...ctx.retry, ...config.retry }
    this.#backoff = kafkaJSBackoff(this.#retry)
    this.#tracer = findTracer(ctx.hooks)
    const fromBeginning = new Map(subscriptions)
    const anyFromBeginning = subscriptions.some(([, f]) => f)
    const mixed = anyFromBeginning && subscriptions.some(([, f]) => !f)
    const classic = config.groupProtocol !== 'consumer'
    let client: Client | null = null
    const cluster = makeCluster(() => client)
    const assigners = (config.partitionAssigners ?? [PartitionAssigners.roundRobin]).map((make) =>
      assignerBalancer(make({ cluster, groupId: config.groupId, logger: logger.namespace('Assigner') }), () => this.#topics, (protocol) => {
        this.#ledGeneration = true
        this.#leadProtocol = protocol
      }),
    )
    const hooks: Hook[] = [
      networkHooks(events, CONSUMER_EVENTS, ctx.clientId, {
        start: (meta) => events.emit(CONSUMER_EVENTS.FETCH_START, { nodeId: meta.nodeId }),
        done: (meta, duration) => events.emit(CONSUMER_EVENTS.FETCH, { numberOfBatches: this.#batchesRead.get(meta.nodeId) ?? 0, duration, nodeId: meta.nodeId }),
      }),
      {
        onFetchBatchRead: (meta: BrokerMetadata) => {
          this.#batchesRead.set(meta.nodeId, (this.#batchesRead.get(meta.nodeId) ?? 0) + 1)
        },
        onBrokerWrite: (meta: BrokerMetadata, key: number, _b: number, _w: number, _t: number, err: Error | null) => {
          if (err !== null) return
          if (key === ApiKey.Fetch) this.#batchesRead.set(meta.nodeId, 0)
          if (key === ApiKey.JoinGroup) this.#onJoinWrite()
        },
        onBrokerE2E: (_meta: BrokerMetadata, key: number, e2e: BrokerE2E) => {
          if (e2e.err() !== null) return
          if (key === ApiKey.SyncGroup) this.#joinAnnounced = false
          if (key === ApiKey.Heartbeat || key === ApiKey.ConsumerGroupHeartbeat) this.#onHeartbeat()
        },
      },
    ]
    const opts: ClientOptions<Client> = {
      ...ctx.clientOptions(brokers, hooks, config.retry),
      consumerGroup: config.groupId,
      consumeTopics: this.#topics,
      groupProtocol: config.groupProtocol ?? 'classic',
      ...(config.groupRemoteAssignor !== undefined ? { groupRemoteAssignor: config.groupRemoteAssignor } : {}),
      ...(classic
        ? {
            balancers: assigners,
            sessionTimeout: config.sessionTimeout ?? 30_000,
            rebalanceTimeout: config.rebalanceTimeout ?? 60_000,
            heartbeatInterval: config.heartbeatInterval ?? 3_000,
          }
        : {}),
      fetchMaxPartitionBytes: config.maxBytesPerPartition ?? 1_048_576,
      fetchMinBytes: config.minBytes ?? 1,
      fetchMaxBytes: config.maxBytes ?? 10_485_760,
      fetchMaxWait: config.maxWaitTimeInMs ?? 5_000,
      isolationLevel: config.readUncommitted === true ? 'read_uncommitted' : 'read_committed',
      // KafkaJS never hands out control records (transaction markers), whatever its config says:
      // neither does the facade, which passes no option of its caller's through to the Client.
      keepControlRecords: false,
      metadataMaxAge: config.metadataMaxAge ?? 300_000,
      allowAutoTopicCreation: config.allowAutoTopicCreation !== false,
      // Where partitions without a committed offset start; with mixed fromBeginning settings the
      // earliest, and topics subscribed without fromBeginning are moved to their end on assignment.
      consumeResetOffset: anyFromBeginning ? 'earliest' : 'latest',
      disableAutoCommit: true,
      blockRebalanceOnPoll: true,
      onPartitionsAssigned: (parts) => this.#assigned(parts, mixed ? fromBeginning : null),
      onPartitionsRevoked: (parts) => this.#revoked(parts, true),
      onPartitionsLost: (parts) => this.#revoked(parts, false),
    }
    if (config.rackId) opts.rack = config.rackId
    client = new Client(opts)
    this.#client = client
  }

  #batchesRead = new Map<number, number>()

  get #member(): { memberId: string; generation: number } {
    try {
      return this.#client.groupMetadata()
    } catch {
      return { memberId: '', generation: -1 }
    }
  }

  // ---------------------------------------------------------------- group events

  #onJoinWrite(): void {
    this.#joinStart = Date.now()
    this.#ledGeneration = false
    if (this.#generationSeen >= 0) this.#events.emit(CONSUMER_EVENTS.REBALANCING, { groupId: this.#groupId, memberId: this.#member.memberId })
  }

  #onHeartbeat(): void {
    const m = this.#member
    // A member given nothing has no onPartitionsAssigned: its first heartbeat announces the join.
    if (!this.#joinAnnounced && this.#config.groupProtocol !== 'consumer') this.#announceJoin(new Map())
    this.#events.emit(CONSUMER_EVENTS.HEARTBEAT, { groupId: this.#groupId, memberId: m.memberId, groupGenerationId: m.generation })
  }

  #announceJoin(assigned: Map<string, number[]>): void {
    this.#joinAnnounced = true
    const m = this.#member
    this.#generationSeen = m.generation
    const memberAssignment: { [topic: string]: number[] } = {}
    for (const s of this.#states.values()) (memberAssignment[s.topic] ??= []).push(s.partition)
    for (const [t, ps] of assigned) for (const p of ps) if (!memberAssignment[t]?.includes(p)) (memberAssignment[t] ??= []).push(p)
    for (const ps of Object.values(memberAssignment)) ps.sort((a, b) => a - b)
    const classic = this.#config.groupProtocol !== 'consumer'
    const protocols = (this.#config.partitionAssigners ?? [PartitionAssigners.roundRobin])
    const protocol = !classic ? 'consumer' : this.#ledGeneration ? this.#leadProtocol : protocols.length === 1 ? this.#assignerName() : ''
    const payload = {
      duration: this.#joinStart > 0 ? Date.now() - this.#joinStart : 0,
      groupId: this.#groupId,
      isLeader: classic && this.#ledGeneration,
      leaderId: classic && this.#ledGeneration ? m.memberId : '',
      groupProtocol: protocol,
      memberId: m.memberId,
      memberAssignment,
    }
    this.#events.emit(CONSUMER_EVENTS.GROUP_JOIN, payload)
    this.#logger.info('Consumer has joined the group', payload)
    const unsubscribed = Object.keys(memberAssignment).filter((t) => !this.#topics.includes(t))
    if (unsubscribed.length > 0) {
      this.#events.emit(CONSUMER_EVENTS.RECEIVED_UNSUBSCRIBED_TOPICS, {
        groupId: this.#groupId,
        generationId: m.generation,
        memberId: m.memberId,
        assignedTopics: Object.keys(memberAssignment),
        topicsSubscribed: this.#topics,
        topicsNotSubscribed: unsubscribed,
      })
    }
  }

  #assignerName(): string {
    return this.#client.config.balancers.map((b) => (typeof b === 'string' ? b : b.name))[0] ?? ''
  }

  /** assigned sets up offset bookkeeping for new partitions, applies pending seeks and announces the join. */
  async #assigned(parts: Map<string, number[]>, fromBeginning: Map<string, boolean> | null): Promise<void> {
    const committed = await this.#client.fetchCommittedOffsets(Object.fromEntries(parts)).catch(() => null)
    const moveToEnd: { [t: string]: { [p: number]: OffsetSpec } } = {}
    for (const [topic, ps] of parts) {
      for (const partition of ps) {
        const c = committed?.get(topic)?.get(partition)?.offset ?? -1n
        const key = tpKey(topic, partition)
        const prev = this.#states.get(key)
        this.#states.set(key, { topic, partition, resolved: c, committed: c, epoch: (prev?.epoch ?? 0) + 1 })
        if (fromBeginning !== null && fromBeginning.get(topic) === false && c < 0n) (moveToEnd[topic] ??= {})[partition] = 'latest'
      }
    }
    if (Object.keys(moveToEnd).length > 0) this.#setOffsets(moveToEnd)
    for (const [key, offset] of [...this.#pendingSeeks]) {
      const s = this.#states.get(key)
      if (s !== undefined) {
        this.#pendingSeeks.delete(key)
        this.seek(s.topic, s.partition, offset)
      }
    }
    if (this.#config.groupProtocol === 'consumer' || !this.#joinAnnounced || this.#generationSeen !== this.#member.generation) this.#announceJoin(parts)
  }

  /** revoked commits what was processed of partitions being taken away (unless lost) and forgets them. */
  async #revoked(parts: Map<string, number[]>, commit: boolean): Promise<void> {
    if (commit && this.#autoCommit) {
      const only = new Set<string>()
      for (const [t, ps] of parts) for (const p of ps) only.add(tpKey(t, p))
      await this.#commitResolved(only).catch((err: Error) => this.#logger.warn('committing revoked partitions failed', { groupId: this.#groupId, error: err.message }))
    }
    for (const [t, ps] of parts) {
      for (const p of ps) {
        const key = tpKey(t, p)
        this.#states.delete(key)
        this.#pausedPartitions.delete(key)
      }
    }
  }

  // ---------------------------------------------------------------- running

  start(): void {
    // KafkaJS's consumer group connects when a run starts, and emits CONNECT again then.
    this.#events.emit(CONSUMER_EVENTS.CONNECT)
    this.#running = true
    this.#loopDone = this.#loop()
  }

  async stop(): Promise<void> {
    if (!this.#running) {
      await this.#loopDone
      return
    }
    this.#running = false
    this.#abort.abort(new Error('consumer stopped'))
    await this.#loopDone
    if (this.#autoCommit) await this.#commitResolved().catch((err: Error) => this.#logger.warn('commit on stop failed', { groupId: this.#groupId, error: err.message }))
    await this.#client.close()
  }

  async #loop(): Promise<void> {
    let failures = 0
    const signal = this.#abort.signal
    while (this.#running) {
      const fetches = await this.#client.pollFetches({ signal })
      if (!this.#running) break
      try {
        for (const fe of fetches.errors()) {
          if (fe.partition < 0) continue
          const err = fe.error
          if (err instanceof KafkaWireError && err.retriable) {
            this.#logger.warn('fetch failed; retrying', { topic: fe.topic, partition: fe.partition, error: err.message })
            continue
          }
          throw toKafkaJSError(err, brokerAddress(this.#client))
        }
        await this.#process(fetches.partitions)
        if (this.#autoCommit) await this.#commitResolved()
        failures = 0
      } catch (err) {
        if (!this.#running) break
        if (isRebalancing(err as { type?: string })) {
          this.#logger.warn('The group is rebalancing, re-joining', { groupId: this.#groupId, error: (err as Error).message })
          failures = 0
        } else {
          // KafkaJS commits what was processed before handling the failure.
          if (this.#autoCommit) await this.#commitResolved().catch(() => {})
          const unrecoverable = err instanceof Error && ['RangeError', 'ReferenceError', 'SyntaxError', 'TypeError'].includes(err.name)
          const retriable = !unrecoverable && (err as { retriable?: unknown }).retriable !== false
          const retries = this.#retry.retries ?? 5
          if (!retriable || failures >= retries) {
            const retryTime = this.#backoff(failures + 1)
            const crash = retriable ? new KafkaJSNumberOfRetriesExceeded(err as Error, { retryCount: failures, retryTime }) : err instanceof KafkaJSError ? err : new KafkaJSNonRetriableError(err as Error, { cause: err })
            this.#running = false
            this.#client.allowRebalance()
            void this.#onCrash(crash)
            return
          }
          failures++
          this.#logger.debug('Error while consuming, trying again...', { groupId: this.#groupId, error: (err as Error).message, retryCount: failures })
          await sleep(this.#backoff(failures), signal)
        }
      } finally {
        this.#client.allowRebalance()
      }
    }
  }

  /** process hands each partition's messages to the handlers, partitionsConsumedConcurrently at a time. */
  async #process(partitions: ReadonlyArray<{ topic: string; partition: number; highWatermark: bigint; records: Record[] }>): Promise<void> {
    const work = partitions.filter((p) => p.records.length > 0)
    if (work.length === 0) return
    const concurrency = Math.max(1, this.#run.partitionsConsumedConcurrently ?? 1)
    let failure: unknown = null
    let next = 0
    const worker = async () => {
      while (failure === null && this.#running && next < work.length) {
        const p = work[next++]!
        try {
          await this.#batch(p)
        } catch (err) {
          failure ??= err
        }
      }
    }
    if (concurrency === 1 || work.length === 1) await worker()
    else await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker))
    if (failure !== null) {
      // What was not processed is fetched again from the resolved offsets.
      for (const p of work) this.#rewind(p.topic, p.partition, p.records[0]!.offset)
      throw failure
    }
  }

  /**
   * rewind moves a partition back to its first unprocessed message (the resolved offset, or the first
   * message of the batch when nothing of it was resolved), so what was not processed is fetched again.
   */
  #rewind(topic: string, partition: number, batchStart: bigint): void {
    const s = this.#states.get(tpKey(topic, partition))
    if (s === undefined) return
    const at = s.resolved > batchStart ? s.resolved : batchStart
    this.#setOffsets({ [topic]: { [partition]: { offset: at } } })
  }

  async #batch(p: { topic: string; partition: number; highWatermark: bigint; records: Record[] }): Promise<void> {
    const { topic, partition } = p
    const key = tpKey(topic, partition)
    const state = this.#states.get(key)
    if (state === undefined) return // revoked meanwhile
    const epoch = state.epoch
    const records = p.records
    const batch = makeBatch(topic, partition, p.highWatermark, records)
    const started = Date.now()
    const eventPayload = this.#events.listening(CONSUMER_EVENTS.START_BATCH_PROCESS) || this.#events.listening(CONSUMER_EVENTS.END_BATCH_PROCESS)
      ? { topic, partition, highWatermark: batch.highWatermark, offsetLag: batch.offsetLag(), offsetLagLow: batch.offsetLagLow(), batchSize: records.length, firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() }
      : null
    if (eventPayload !== null) this.#events.emit(CONSUMER_EVENTS.START_BATCH_PROCESS, eventPayload)
    const pause = () => {
      this.pause([{ topic, partitions: [partition] }])
      return () => this.resume([{ topic, partitions: [partition] }])
    }
    const stale = () => this.#states.get(key)?.epoch !== epoch
    if (this.#run.eachMessage !== undefined) {
      const each = this.#run.eachMessage
      const heartbeat = () => Promise.resolve()
      for (let i = 0; i < records.length; i++) {
        if (!this.#running || stale()) return
        const rec = records[i]!
        const payload: EachMessagePayload = { topic, partition, message: batch.messages[i]!, heartbeat, pause }
        if (this.#tracer !== null) await this.#tracer.process(rec, () => each(payload))
        else await each(payload)
        if (stale()) return
        state.resolved = rec.offset + 1n
        if (this.#autoCommit) await this.#commitIfNecessary()
        if (this.#isPaused(topic, partition)) {
          if (i + 1 < records.length) this.#rewind(topic, partition, records[0]!.offset)
          break
        }
      }
    } else {
      const lastOffset = records[records.length - 1]!.offset
      await this.#run.eachBatch!({
        batch,
        resolveOffset: (offset: string) => {
          if (stale()) return
          const o = parseOffset(offset, 'offset')
          state.resolved = o + 1n
        },
        heartbeat: () => Promise.resolve(),
        pause,
        commitOffsetsIfNecessary: async (offsets?: Offsets) => {
          if (offsets !== undefined) await this.commitExact(offsetsMap(offsets))
          else if (this.#autoCommit) await this.#commitIfNecessary()
        },
        uncommittedOffsets: () => this.#uncommitted(),
        isRunning: () => this.#running,
        isStale: stale,
      })
      if (!stale() && this.#run.eachBatchAutoResolve !== false) state.resolved = lastOffset + 1n
      if (!stale() && this.#isPaused(topic, partition) && state.resolved <= lastOffset) this.#rewind(topic, partition, records[0]!.offset)
    }
    if (eventPayload !== null) this.#events.emit(CONSUMER_EVENTS.END_BATCH_PROCESS, { ...eventPayload, duration: Date.now() - started })
  }

  // ---------------------------------------------------------------- commits

  #uncommitted(only?: Set<string>): OffsetsByTopicPartition {
    const byTopic = new Map<string, PartitionOffset[]>()
    for (const [key, s] of this.#states) {
      if (only !== undefined && !only.has(key)) continue
      if (s.resolved < 0n || s.resolved === s.committed) continue
      let ps = byTopic.get(s.topic)
      if (ps === undefined) byTopic.set(s.topic, (ps = []))
      // KafkaJS reads these partitions from object keys: strings, whatever its types say.
      ps.push({ partition: String(s.partition) as unknown as number, offset: String(s.resolved) })
    }
    return { topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) }
  }

  async #commitIfNecessary(): Promise<void> {
    const interval = this.#run.autoCommitInterval
    const threshold = this.#run.autoCommitThreshold
    const timeUp = interval != null && Date.now() >= this.#lastCommit + interval
    let thresholdUp = false
    if (threshold != null) {
      let n = 0n
      for (const s of this.#states.values()) if (s.resolved >= 0n) n += s.committed >= 0n ? s.resolved - s.committed : s.resolved
      thresholdUp = n >= BigInt(threshold)
    }
    if (timeUp || thresholdUp) await this.#commitResolved()
  }

  /** commitResolved commits every resolved offset not committed yet (or those of `only`). */
  async #commitResolved(only?: Set<string>): Promise<void> {
    const { topics } = this.#uncommitted(only)
    if (topics.length === 0) {
      this.#lastCommit = Date.now()
      return
    }
    const m = new Map<string, Map<number, { offset: bigint; metadata: string | null }>>()
    for (const t of topics) m.set(t.topic, new Map(t.partitions.map((p) => [Number(p.partition), { offset: BigInt(p.offset), metadata: null }])))
    await this.commitExact(m, true)
  }

  /** commitExact commits offsets, records them as committed and emits COMMIT_OFFSETS. */
  async commitExact(offsets: Map<string, Map<number, { offset: bigint; metadata: string | null }>>, resolved = false): Promise<void> {
    if (offsets.size === 0) return
    const arg: { [t: string]: { [p: number]: { offset: bigint; metadata: string | null } } } = {}
    for (const [t, ps] of offsets) arg[t] = Object.fromEntries(ps)
    const m = this.#member
    try {
      await this.#client.commitOffsets(arg)
    } catch (err) {
      throw toKafkaJSError(err, brokerAddress(this.#client))
    }
    this.#lastCommit = Date.now()
    const topics: TopicOffsets[] = []
    for (const [t, ps] of offsets) {
      const partitions: PartitionOffset[] = []
      for (const [p, o] of ps) {
        const s = this.#states.get(tpKey(t, p))
        if (s !== undefined) s.committed = o.offset
        // Commits of resolved offsets name partitions as strings in the event, as KafkaJS's do.
        partitions.push({ partition: resolved ? (String(p) as unknown as number) : p, offset: String(o.offset) })
      }
      topics.push({ topic: t, partitions })
    }
    this.#events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS, { groupId: this.#groupId, memberId: m.memberId, groupGenerationId: m.generation, topics })
  }

  // ---------------------------------------------------------------- seek and pause

  #setOffsets(offsets: { [topic: string]: { [partition: number]: OffsetSpec } }): void {
    // The client's consumer repositions partitions it consumes; buffered messages of theirs are dropped.
    const consumer = consumerOf(this.#client)
    const m = new Map<string, Map<number, OffsetSpec>>()
    for (const [t, ps] of Object.entries(offsets)) {
      for (const [p, spec] of Object.entries(ps)) {
        if (consumer.cursor(t, Number(p)) === undefined) continue
        let tm = m.get(t)
        if (tm === undefined) m.set(t, (tm = new Map()))
        tm.set(Number(p), spec)
      }
    }
    if (m.size > 0) consumer.assign(m)
  }

  seek(topic: string, partition: number, offset: bigint): void {
    const key = tpKey(topic, partition)
    const s = this.#states.get(key)
    if (s === undefined) {
      // Not assigned (yet): applied when it is, as KafkaJS applies seeks at the partition's next fetch.
      this.#pendingSeeks.set(key, offset)
      return
    }
    s.epoch++
    const spec: OffsetSpec = offset === -1n ? 'latest' : offset === -2n ? 'earliest' : { offset }
    this.#setOffsets({ [topic]: { [partition]: spec } })
    if (offset < 0n) return
    if (this.#autoCommit) {
      s.resolved = offset
      this.commitExact(new Map([[topic, new Map([[partition, { offset, metadata: null }]])]])).catch((err: Error) => this.#logger.warn('committing the sought offset failed', { topic, partition, error: err.message }))
    } else {
      s.resolved = offset
    }
  }

  pause(tps: Array<{ topic: string; partitions?: number[] }>): void {
    for (const { topic, partitions } of tps) {
      if (partitions === undefined) {
        this.#pausedTopics.add(topic)
        this.#client.pauseFetchTopics(topic)
      } else {
        for (const p of partitions) this.#pausedPartitions.add(tpKey(topic, p))
        this.#client.pauseFetchPartitions({ [topic]: partitions })
      }
    }
  }

  resume(tps: Array<{ topic: string; partitions?: number[] }>): void {
    for (const { topic, partitions } of tps) {
      if (partitions === undefined) {
        this.#pausedTopics.delete(topic)
        for (const k of [...this.#pausedPartitions]) if (k.startsWith(`${topic}\u0000`)) this.#pausedPartitions.delete(k)
        this.#client.resumeFetchTopics(topic)
        const all = [...this.#states.values()].filter((s) => s.topic === topic).map((s) => s.partition)
        if (all.length > 0) this.#client.resumeFetchPartitions({ [topic]: all })
      } else {
        for (const p of partitions) this.#pausedPartitions.delete(tpKey(topic, p))
        if (!this.#pausedTopics.has(topic)) this.#client.resumeFetchPartitions({ [topic]: partitions })
      }
    }
  }

  #isPaused(topic: string, partition: number): boolean {
    return this.#pausedTopics.has(topic) || this.#pausedPartitions.has(tpKey(topic, partition))
  }

  paused(): TopicPartitions[] {
    const out = new Map<string, number[]>()
    for (const s of this.#states.values()) {
      if (!this.#isPaused(s.topic, s.partition)) continue
      let ps = out.get(s.topic)
      if (ps === undefined) out.set(s.topic, (ps = []))
      ps.push(s.partition)
    }
    for (const k of this.#pausedPartitions) {
      const i = k.indexOf('\u0000')
      const t = k.slice(0, i)
      const p = Number(k.slice(i + 1))
      let ps = out.get(t)
      if (ps === undefined) out.set(t, (ps = []))
      if (!ps.includes(p)) ps.push(p)
    }
    return [...out].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }))
  }
}

function offsetsMap(offsets: Offsets): Map<string, Map<number, { offset: bigint; metadata: string | null }>> {
  const m = new Map<string, Map<number, { offset: bigint; metadata: string | null }>>()
  for (const t of offsets.topics ?? []) {
    let tm = m.get(t.topic)
    if (tm === undefined) m.set(t.topic, (tm = new Map()))
    for (const p of t.partitions) tm.set(p.partition, { offset: parseOffset(p.offset, 'offset'), metadata: null })
  }
  return m
}

/** kafkaMessage renders a consumed record as KafkaJS's message. */
function kafkaMessage(r: Record): KafkaMessage {
  let headers: IHeaders = {}
  const hs = r.headers
  if (hs.length > 0) {
    headers = {}
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i]!
      const cur = headers[h.key]
      const v = h.value as Buffer
      headers[h.key] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v]
    }
  }
  return { key: r.key, value: r.value, timestamp: String(r.timestamp), attributes: 0, offset: r.offset.toString(), headers } as KafkaMessage
}

/** makeBatch renders one partition's records of a poll as KafkaJS's Batch. */
function makeBatch(topic: string, partition: number, highWatermark: bigint, records: Record[]): Batch {
  const messages = new Array<KafkaMessage>(records.length)
  for (let i = 0; i < records.length; i++) messages[i] = kafkaMessage(records[i]!)
  const hw = String(highWatermark)
  const first = records.length > 0 ? records[0]!.offset : null
  const last = records.length > 0 ? records[records.length - 1]!.offset : highWatermark - 1n
  return {
    topic,
    partition,
    highWatermark: hw,
    messages,
    isEmpty: () => messages.length === 0,
    firstOffset: () => (first === null ? null : String(first)),
    lastOffset: () => String(last),
    offsetLag: () => String(highWatermark - 1n - last),
    offsetLagLow: () => (first === null ? '0' : String(highWatermark - 1n - first)),
  }
}

/**
 * makeCluster gives assigners KafkaJS's Cluster over the group client's metadata: what assigners use
 * (node ids, topic and partition metadata, leaders, metadata refreshes) works; the calls that hand out
 * KafkaJS's per-broker connection objects, or connect and disconnect the cluster under the consumer,
 * throw KafkaJSNotImplemented (docs/kafkajs.md).
 */
function makeCluster(client: () => Client | null): Cluster {
  const md = () => {
    const c = client()
    if (c === null) throw new KafkaJSNonRetriableError('the consumer is not running')
    return coreOf(c).metadata
  }
  const notHere = (what: string) => () => {
    throw new KafkaJSNotImplemented(`cluster.${what}() is not available to assigners in kafka-wire/kafkajs (docs/kafkajs.md)`)
  }
  const notHereAsync = (what: string) => async () => notHere(what)()
  return {
    getNodeIds: () => [...md().brokers.keys()],
    isConnected: () => client() !== null,
    findTopicPartitionMetadata: (topic: string): PartitionMetadata[] => {
      const info = md().topics.get(topic)
      return info === undefined ? [] : partitionMetadataOf(info)
    },
    findLeaderForPartitions: (topic: string, partitions: number[]) => {
      const out: { [leader: string]: number[] } = {}
      const wanted = new Set(partitions)
      for (const p of md().topics.get(topic) === undefined ? [] : partitionMetadataOf(md().topics.get(topic)!)) {
        if (wanted.has(p.partitionId)) (out[String(p.leader)] ??= []).push(p.partitionId)
      }
      return out
    },
    metadata: async () => {
      const m = md()
      return {
        brokers: [...m.brokers.values()].map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, ...(b.rack !== null ? { rack: b.rack } : {}) })),
        topicMetadata: [...m.topics.values()].map((t) => ({ topicErrorCode: t.errorCode, topic: t.name, partitionMetadata: partitionMetadataOf(t) })),
      }
    },
    refreshMetadata: async () => {
      await md().refresh(true)
    },
    refreshMetadataIfNecessary: async () => {
      await md().refresh(false)
    },
    // The group client follows the subscription's topics itself; a refresh makes new ones known.
    addTargetTopic: async () => {
      await md().refresh(false)
    },
    addMultipleTargetTopics: async () => {
      await md().refresh(false)
    },
    // KafkaJS's default offsets: -2 (earliest) from the beginning, -1 (latest) otherwise.
    defaultOffset: ({ fromBeginning }) => (fromBeginning ? -2 : -1),
    removeBroker: notHere('removeBroker'),
    connect: notHereAsync('connect'),
    disconnect: notHereAsync('disconnect'),
    findBroker: notHereAsync('findBroker'),
    findControllerBroker: notHereAsync('findControllerBroker'),
    findGroupCoordinator: notHereAsync('findGroupCoordinator'),
    findGroupCoordinatorMetadata: notHereAsync('findGroupCoordinatorMetadata'),
    fetchTopicsOffset: notHereAsync('fetchTopicsOffset'),
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

