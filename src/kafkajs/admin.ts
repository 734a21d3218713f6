/**
 * KafkaJS's admin client over kafka-wire's Admin (kafka-wire/admin) and the client's routed requests.
 */
import { Client, coreOf } from '../client/client.js'
import { Admin as WireAdmin } from '../admin/admin.js'
import { ListOffsets } from '../protocol/messages/list-offsets.js'
import { OffsetFetch } from '../protocol/messages/offset-fetch.js'
import { ListGroups } from '../protocol/messages/list-groups.js'
import { DescribeGroups } from '../protocol/messages/describe-groups.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { createErrorFromCode, KafkaJSNonRetriableError, KafkaJSNotImplemented, toKafkaJSError } from './errors.js'
import { ADMIN_EVENTS, Instrumentation, networkHooks, type AdminEvents, type InstrumentationEvent, type RemoveInstrumentationEventListener } from './events.js'
import type { ConnectEvent, DisconnectEvent, RequestEvent, RequestQueueSizeEvent, RequestTimeoutEvent } from './types.js'
import type { KafkaContext, RetryOptions } from './kafka.js'
import type { Logger } from './logger.js'
import { partitionMetadataOf, type PartitionMetadata } from './partitioners.js'
import type { GroupDescription } from './consumer.js'

/** AdminConfig configures an admin client. */
export interface AdminConfig {
  retry?: RetryOptions
}

/** ITopicConfig describes a topic to create. */
export interface ITopicConfig {
  topic: string
  numPartitions?: number
  replicationFactor?: number
  replicaAssignment?: Array<{ partition: number; replicas: number[] }>
  configEntries?: Array<{ name: string; value: string }>
}

/** ITopicMetadata is a topic's metadata as fetchTopicMetadata returns it. */
export interface ITopicMetadata {
  name: string
  partitions: PartitionMetadata[]
}

/** SeekEntry is a partition and an offset (a string). */
export type SeekEntry = { partition: number; offset: string }

/** GroupOverview is a group as listGroups returns it. */
export type GroupOverview = { groupId: string; protocolType: string }

/**
 * Admin is KafkaJS's admin client: topics, offsets, groups and the cluster. It connects through a
 * kafka-wire Client of its own (without automatic topic creation, as KafkaJS's admin).
 */
export class Admin {
  readonly #ctx: KafkaContext
  readonly #config: AdminConfig
  readonly #logger: Logger
  readonly #events: Instrumentation
  #client: Client | null = null
  #admin: WireAdmin | null = null

  /** events are the names of the events `on` accepts. */
  readonly events: AdminEvents = ADMIN_EVENTS

  constructor(ctx: KafkaContext, config: AdminConfig = {}) {
    this.#ctx = ctx
    this.#config = config
    this.#logger = ctx.logger.namespace('Admin')
    this.#events = new Instrumentation('admin', ADMIN_EVENTS, this.#logger)
  }

  /** connect reaches the cluster and emits CONNECT. */
  async connect(): Promise<void> {
    if (this.#client === null) {
      const brokers = await this.#ctx.brokers()
      this.#client = new Client({ ...this.#ctx.clientOptions(brokers, [networkHooks(this.#events, ADMIN_EVENTS, this.#ctx.clientId)], this.#config.retry), allowAutoTopicCreation: false })
      this.#admin = new WireAdmin(this.#client)
    }
    await this.#wrap(() => coreOf(this.#client!).metadata.refresh(true))
    this.#events.emit(ADMIN_EVENTS.CONNECT)
  }

  /** disconnect closes the admin's connections and emits DISCONNECT. */
  async disconnect(): Promise<void> {
    const c = this.#client
    this.#client = null
    this.#admin = null
    await c?.close()
    this.#events.emit(ADMIN_EVENTS.DISCONNECT)
  }

  /** logger returns the admin's logger. */
  logger(): Logger {
    return this.#logger
  }

  /** on listens to one of `admin.events`; it returns the function that removes the listener. */
  on(eventName: AdminEvents['REQUEST'], listener: (event: RequestEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: AdminEvents['REQUEST_TIMEOUT'], listener: (event: RequestTimeoutEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: AdminEvents['REQUEST_QUEUE_SIZE'], listener: (event: RequestQueueSizeEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: AdminEvents['CONNECT'], listener: (event: ConnectEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: AdminEvents['DISCONNECT'], listener: (event: DisconnectEvent) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: AdminEvents[keyof AdminEvents], listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener<typeof eventName>
  on(eventName: AdminEvents[keyof AdminEvents], listener: (event: InstrumentationEvent<any>) => void): () => void {
    return this.#events.on(eventName, listener)
  }

  #parts(): { client: Client; admin: WireAdmin } {
    if (this.#client === null || this.#admin === null) throw new KafkaJSNonRetriableError('The admin client is not connected: call connect() first')
    return { client: this.#client, admin: this.#admin }
  }

  async #wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      const c = this.#client
      throw toKafkaJSError(err, (id) => {
        const b = c === null ? undefined : coreOf(c).metadata.brokers.get(id)
        return b === undefined ? undefined : `${b.host}:${b.port}`
      })
    }
  }

  // ---------------------------------------------------------------- topics

  /** listTopics lists the cluster's topics (internal ones included, as KafkaJS does). */
  async listTopics(): Promise<string[]> {
    const { admin } = this.#parts()
    return this.#wrap(async () => [...(await admin.metadata()).topics.keys()])
  }

  /**
   * createTopics creates topics and resolves true when all were created, false when they all
   * existed already; other failures reject. `waitForLeaders` (default true) waits until every
   * partition has a leader.
   */
  async createTopics(options: { validateOnly?: boolean; waitForLeaders?: boolean; timeout?: number; topics: ITopicConfig[] }): Promise<boolean> {
    const { admin } = this.#parts()
    if (!options || !Array.isArray(options.topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${String(options?.topics)}`)
    if (options.topics.some((t) => typeof t?.topic !== 'string' || t.topic === '')) throw new KafkaJSNonRetriableError('Invalid topics array, the topic names have to be a valid string')
    const names = options.topics.map((t) => t.topic)
    if (new Set(names).size !== names.length) throw new KafkaJSNonRetriableError('Invalid topics array, it cannot have multiple entries for the same topic')
    const results = await this.#wrap(() =>
      admin.createTopics(
        options.topics.map((t) => ({
          name: t.topic,
          partitions: t.numPartitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
          ...(t.replicaAssignment !== undefined && t.replicaAssignment.length > 0 ? { assignments: Object.fromEntries(t.replicaAssignment.map((a) => [a.partition, a.replicas])), partitions: -1, replicationFactor: -1 } : {}),
          configs: Object.fromEntries((t.configEntries ?? []).map((c) => [c.name, c.value])),
        })),
        { validateOnly: options.validateOnly === true, timeout: options.timeout ?? 5_000, waitReady: options.waitForLeaders !== false && options.validateOnly !== true },
      ),
    )
    const failed = results.filter((r) => r.error !== null && r.error.code !== 'TOPIC_ALREADY_EXISTS')
    if (failed.length > 0) throw toKafkaJSError(failed[0]!.error)
    return results.some((r) => r.error === null)
  }

  /** deleteTopics deletes topics. */
  async deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void> {
    const { admin } = this.#parts()
    if (!options || !Array.isArray(options.topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${String(options?.topics)}`)
    const results = await this.#wrap(() => admin.deleteTopics(options.topics, { timeout: options.timeout ?? 5_000 }))
    const failed = results.find((r) => r.error !== null)
    if (failed !== undefined) throw toKafkaJSError(failed.error)
  }

  /** fetchTopicMetadata describes topics (all when none are named). */
  async fetchTopicMetadata(options?: { topics: string[] }): Promise<{ topics: ITopicMetadata[] }> {
    const { admin } = this.#parts()
    const view = await this.#wrap(() => admin.metadata(options?.topics))
    const topics: ITopicMetadata[] = []
    for (const t of view.topics.values()) {
      if (t.error !== null) throw toKafkaJSError(t.error)
      topics.push({ name: t.name, partitions: t.partitions.map((p) => ({ partitionErrorCode: p.error === null ? 0 : (p.error as { errorCode?: number }).errorCode ?? -1, partitionId: p.partition, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr], offlineReplicas: [...p.offline] })) })
    }
    return { topics }
  }

  /** describeCluster returns the brokers, the controller and the cluster id. */
  async describeCluster(): Promise<{ brokers: Array<{ nodeId: number; host: string; port: number }>; controller: number | null; clusterId: string }> {
    const { admin } = this.#parts()
    const view = await this.#wrap(() => admin.metadata([]))
    return { brokers: view.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })), controller: view.controller < 0 ? null : view.controller, clusterId: view.clusterId ?? '' }
  }

  // ---------------------------------------------------------------- offsets

  async #listOffsets(topic: string, timestamp: bigint): Promise<Map<number, bigint>> {
    const { client } = this.#parts()
    return this.#wrap(async () => {
      const info = await coreOf(client).topic(topic, true)
      if (info === undefined) throw createErrorFromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic })
      const req = ListOffsets.newRequest()
      req.replicaId = -1
      req.topics = [{ name: topic, partitions: partitionMetadataOf(info).map((p) => ({ partitionIndex: p.partitionId, currentLeaderEpoch: -1, timestamp })) }]
      const res = await client.request(ListOffsets, req)
      const out = new Map<number, bigint>()
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) throw createErrorFromCode(p.errorCode, { topic, partition: p.partitionIndex })
          out.set(p.partitionIndex, p.offset)
        }
      }
      return out
    })
  }

  /** fetchTopicOffsets returns each partition's high watermark (`offset`, `high`) and log start (`low`). */
  async fetchTopicOffsets(topic: string): Promise<Array<SeekEntry & { high: string; low: string }>> {
    const high = await this.#listOffsets(topic, -1n)
    const low = await this.#listOffsets(topic, -2n)
    return [...high.keys()].sort((a, b) => a - b).map((p) => ({ partition: p, offset: String(high.get(p)), high: String(high.get(p)), low: String(low.get(p) ?? 0n) }))
  }

  /** fetchTopicOffsetsByTimestamp returns each partition's first offset at or after `timestamp` (the high watermark when none). */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<SeekEntry[]> {
    const high = await this.#listOffsets(topic, -1n)
    if (timestamp === undefined) return [...high].sort((a, b) => a[0] - b[0]).map(([partition, o]) => ({ partition, offset: String(o) }))
    const at = await this.#listOffsets(topic, BigInt(timestamp))
    return [...high.keys()].sort((a, b) => a - b).map((p) => {
      const o = at.get(p) ?? -1n
      return { partition: p, offset: String(o < 0n ? high.get(p)! : o) }
    })
  }

  /** fetchOffsets returns a group's committed offsets ('-1' for none) per topic; `resolveOffsets` turns '-1' into where the group would start. */
  async fetchOffsets(options: { groupId: string; topics?: string[]; resolveOffsets?: boolean }): Promise<Array<{ topic: string; partitions: Array<SeekEntry & { metadata: string | null }> }>> {
    const { client } = this.#parts()
    if (!options || !options.groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${String(options?.groupId)}`)
    return this.#wrap(async () => {
      const core = coreOf(client)
      const req = OffsetFetch.newRequest()
      req.requireStable = true
      let topics: Array<{ name: string; partitionIndexes: number[] }> | null = null
      if (options.topics !== undefined) {
        topics = []
        for (const t of options.topics) {
          const info = await core.topic(t, true)
          if (info === undefined) throw createErrorFromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: t })
          topics.push({ name: t, partitionIndexes: info.partitions.map((p) => p.partition) })
        }
      }
      const res = await core.coordinatorRequest(0, options.groupId, OffsetFetch, (version) => {
        if (version <= 7) {
          req.groupId = options.groupId
          req.topics = topics
        } else {
          req.groups = [{ groupId: options.groupId, memberId: null, memberEpoch: -1, topics: topics === null ? null : topics.map((t) => ({ ...t, topicId: core.metadata.topics.get(t.name)?.id ?? '' })) }]
        }
        return req
      })
      const g = res.groups.length > 0 ? res.groups[0]! : null
      const code = g !== null ? g.errorCode : res.errorCode
      if (code !== 0) throw createErrorFromCode(code)
      const rtopics: Array<{ name: string; topicId?: string; partitions: Array<{ partitionIndex: number; committedOffset: bigint; metadata: string | null; errorCode: number }> }> = g !== null ? g.topics : res.topics
      const out = rtopics.map((t) => ({
        topic: t.name || core.metadata.topicName(t.topicId ?? '') || '',
        partitions: t.partitions.map((p) => {
          if (p.errorCode !== 0) throw createErrorFromCode(p.errorCode, { topic: t.name, partition: p.partitionIndex })
          return { partition: p.partitionIndex, offset: String(p.committedOffset), metadata: p.metadata }
        }),
      }))
      if (options.resolveOffsets) {
        for (const t of out) {
          if (!t.partitions.some((p) => p.offset === '-1')) continue
          const ends = await this.#listOffsets(t.topic, -1n)
          for (const p of t.partitions) if (p.offset === '-1') p.offset = String(ends.get(p.partition) ?? -1n)
        }
      }
      return out
    })
  }

  // ---------------------------------------------------------------- groups

  /** listGroups lists the cluster's groups. */
  async listGroups(): Promise<{ groups: GroupOverview[] }> {
    const { client } = this.#parts()
    return this.#wrap(async () => {
      const core = coreOf(client)
      await core.metadata.refresh(true)
      const groups: GroupOverview[] = []
      for (const b of core.metadata.brokers.values()) {
        const res = await client.request(ListGroups, ListGroups.newRequest(), { broker: b.nodeId })
        if (res.errorCode !== 0) throw createErrorFromCode(res.errorCode)
        for (const g of res.groups) groups.push({ groupId: g.groupId, protocolType: g.protocolType })
      }
      return { groups }
    })
  }

  /** describeGroups describes groups. */
  async describeGroups(groupIds: string[]): Promise<{ groups: GroupDescription[] }> {
    const { client } = this.#parts()
    return this.#wrap(async () => {
      const groups: GroupDescription[] = []
      for (const id of groupIds) {
        const req = DescribeGroups.newRequest()
        req.groups = [id]
        const res = await client.request(DescribeGroups, req)
        for (const g of res.groups) {
          if (g.errorCode !== 0) throw createErrorFromCode(g.errorCode, { message: g.errorMessage })
          groups.push({ groupId: g.groupId, state: g.groupState, protocol: g.protocolData, protocolType: g.protocolType, members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, memberMetadata: m.memberMetadata, memberAssignment: m.memberAssignment })) })
        }
      }
      return { groups }
    })
  }

  /** notYet is the answer of the admin methods that wait for kafka-wire's Admin to grow them. */
  #notYet(name: string): never {
    throw new KafkaJSNotImplemented(`admin.${name} is not available yet in kafka-wire/kafkajs`)
  }

  /** setOffsets commits offsets for a group that has no active members. */
  async setOffsets(_options: { groupId: string; topic: string; partitions: SeekEntry[] }): Promise<void> {
    this.#notYet('setOffsets')
  }
}
