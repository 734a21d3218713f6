/**
 * KafkaJS's admin client over kafka-wire's Admin (kafka-wire/admin) and the client's routed requests.
 */
import { Client, coreOf } from '../client/client.js'
import { GroupNotEmptyError } from '../client/errors.js'
import { Admin as WireAdmin, type DescribedConfigs } from '../admin/index.js'
import { ListOffsets } from '../protocol/messages/list-offsets.js'
import { DescribeGroups } from '../protocol/messages/describe-groups.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { KafkaProtocolError } from '../protocol/errors.js'
import {
  createErrorFromCode,
  KafkaJSAggregateError,
  KafkaJSCreateTopicError,
  KafkaJSAlterPartitionReassignmentsError,
  KafkaJSBrokerNotFound,
  KafkaJSDeleteGroupsError,
  KafkaJSDeleteTopicRecordsError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  retriesSpent,
  toKafkaJSError,
} from './errors.js'
import { ADMIN_EVENTS, Instrumentation, networkHooks, type AdminEvents, type InstrumentationEvent, type RemoveInstrumentationEventListener } from './events.js'
import type {
  AclEntry,
  AclFilter,
  ConnectEvent,
  DeleteAclResponse,
  DeleteGroupsResult,
  DescribeAclResponse,
  DescribeConfigResponse,
  DisconnectEvent,
  IResourceConfig,
  ITopicPartitionConfig,
  ListPartitionReassignmentsResponse,
  OngoingTopicReassignment,
  PartitionReassignment,
  RequestEvent,
  RequestQueueSizeEvent,
  RequestTimeoutEvent,
  ResourceConfigQuery,
} from './types.js'
import { kafkaJSBackoff, type KafkaContext, type RetryOptions } from './context.js'
import type { Logger } from './logger.js'
import { partitionMetadataOf, type PartitionMetadata } from './partitioners.js'
import type { GroupDescription, TopicPartitions } from './consumer.js'
import {
  aclBinding,
  aclFilter,
  checkAclEntries,
  checkAclFilter,
  checkAclFilters,
  checkConfigResources,
  configEntries,
  configResourceNumber,
  configResourceType,
  describedAclResources,
  matchingAcl,
} from './admin-shapes.js'

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
    try {
      await coreOf(this.#client!).metadata.refresh(true)
    } catch (err) {
      throw retriesSpent(this.#convert(err), this.#retry())
    }
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
      throw this.#convert(err)
    }
  }

  /** convert turns an error of the client into the KafkaJS error a KafkaJS program would see. */
  #convert(err: unknown): KafkaJSError {
    const c = this.#client
    return toKafkaJSError(err, (id) => {
      const b = c === null ? undefined : coreOf(c).metadata.brokers.get(id)
      return b === undefined ? undefined : `${b.host}:${b.port}`
    })
  }

  /** retry is this admin's retry options over the Kafka's, as KafkaJS merges them. */
  #retry(): RetryOptions {
    return { ...this.#ctx.retry, ...this.#config.retry }
  }

  /**
   * retrying runs `fn` as KafkaJS's retrier does where KafkaJS retries an error that kafka-wire's Admin
   * reports at once (an unknown topic): up to `retry.retries` more tries with KafkaJS's backoff, then
   * KafkaJSNumberOfRetriesExceeded with the last error as its cause.
   */
  async #retrying<T>(fn: () => Promise<T>, retriable: (e: KafkaJSError) => boolean): Promise<T> {
    const retry = this.#retry()
    const retries = retry.retries ?? 5
    const backoff = kafkaJSBackoff(retry)
    for (let tries = 0; ; tries++) {
      try {
        return await this.#wrap(fn)
      } catch (err) {
        if (!(err instanceof KafkaJSError) || !retriable(err)) throw err
        const wait = backoff(tries + 1)
        if (tries >= retries) throw new KafkaJSNumberOfRetriesExceeded(err, { retryCount: tries, retryTime: wait })
        await new Promise((r) => setTimeout(r, wait))
      }
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
    // As KafkaJS: false when the only errors are topics that exist already, else every topic's error
    // (those that exist included) in one KafkaJSAggregateError.
    const failed = results.filter((r) => r.error !== null)
    if (failed.every((r) => r.error!.code === 'TOPIC_ALREADY_EXISTS')) return failed.length === 0
    const other = failed.find((r) => !(r.error instanceof KafkaProtocolError))
    if (other !== undefined) throw this.#convert(other.error)
    throw new KafkaJSAggregateError('Topic creation errors', failed.map((r) => new KafkaJSCreateTopicError(toKafkaJSError(r.error) as KafkaJSProtocolError, r.name)))
  }

  /** deleteTopics deletes topics. */
  async deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void> {
    const { admin } = this.#parts()
    if (!options || !Array.isArray(options.topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${String(options?.topics)}`)
    // KafkaJS retries a retriable answer (an unknown topic among them) before giving up.
    await this.#retrying(async () => {
      const results = await admin.deleteTopics(options.topics, { timeout: options.timeout ?? 5_000 })
      const failed = results.find((r) => r.error !== null)
      if (failed !== undefined) throw failed.error
    }, (e) => e.retriable)
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

  /**
   * fetchTopicOffsets returns each partition's high watermark (`offset`, `high`) and log start (`low`).
   * A topic that does not exist is looked for again with KafkaJS's retries (it may be new to the
   * cluster's metadata), then fails with KafkaJSNumberOfRetriesExceeded, as with KafkaJS.
   */
  async fetchTopicOffsets(topic: string): Promise<Array<SeekEntry & { high: string; low: string }>> {
    if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
    return this.#retrying(
      async () => {
        const high = await this.#listOffsets(topic, -1n)
        const low = await this.#listOffsets(topic, -2n)
        return [...high.keys()].sort((a, b) => a - b).map((p) => ({ partition: p, offset: String(high.get(p)), high: String(high.get(p)), low: String(low.get(p) ?? 0n) }))
      },
      (e) => (e as KafkaJSProtocolError).type === 'UNKNOWN_TOPIC_OR_PARTITION',
    )
  }

  /** fetchTopicOffsetsByTimestamp returns each partition's first offset at or after `timestamp` (the high watermark when none). */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<SeekEntry[]> {
    // An unknown topic is retried, then KafkaJSNumberOfRetriesExceeded, as fetchTopicOffsets.
    return this.#retrying(
      async () => {
        const high = await this.#listOffsets(topic, -1n)
        if (timestamp === undefined) return [...high].sort((a, b) => a[0] - b[0]).map(([partition, o]) => ({ partition, offset: String(o) }))
        const at = await this.#listOffsets(topic, BigInt(timestamp))
        return [...high.keys()].sort((a, b) => a - b).map((p) => {
          const o = at.get(p) ?? -1n
          return { partition: p, offset: String(o < 0n ? high.get(p)! : o) }
        })
      },
      (e) => (e as KafkaJSProtocolError).type === 'UNKNOWN_TOPIC_OR_PARTITION',
    )
  }

  /**
   * fetchOffsets returns a group's committed offsets ('-1' for none) per topic: of the topics named
   * (all their partitions, in the order named; a topic that does not exist fails), or of every topic
   * the group has committed offsets for. `resolveOffsets` turns the special offsets '-1' and '-2' into
   * the partition's end and start, as KafkaJS does, without committing them (KafkaJS commits them with
   * setOffsets, which fails while the group has running members: see docs/kafkajs.md).
   */
  async fetchOffsets(options: { groupId: string; topics?: string[]; resolveOffsets?: boolean }): Promise<Array<{ topic: string; partitions: Array<SeekEntry & { metadata: string | null }> }>> {
    const { admin } = this.#parts()
    if (!options || !options.groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${String(options?.groupId)}`)
    const topics = options.topics ?? []
    if (!Array.isArray(topics)) throw new KafkaJSNonRetriableError('Expected topics array to be set')
    const asked: { [topic: string]: number[] } = {}
    for (const t of topics) asked[t] = await this.#topicPartitions(t)
    const committed = await this.#wrap(() => admin.fetchOffsets(options.groupId, topics.length > 0 ? asked : undefined))
    const byTopic = new Map<string, Array<SeekEntry & { metadata: string | null }>>(topics.map((t) => [t, []]))
    for (const c of committed) {
      if (c.error !== null) throw this.#convert(c.error)
      let ps = byTopic.get(c.topic)
      if (ps === undefined) byTopic.set(c.topic, (ps = []))
      ps.push({ partition: c.partition, offset: String(c.offset), metadata: c.metadata || null })
    }
    const out = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
    if (options.resolveOffsets) {
      for (const t of out) {
        if (!t.partitions.some((p) => p.offset === '-1' || p.offset === '-2')) continue
        const ends = await this.#listOffsets(t.topic, -1n)
        const starts = await this.#listOffsets(t.topic, -2n)
        for (const p of t.partitions) {
          if (p.offset === '-1') p.offset = String(ends.get(p.partition) ?? -1n)
          else if (p.offset === '-2') p.offset = String(starts.get(p.partition) ?? -2n)
        }
      }
    }
    return out
  }

  // ---------------------------------------------------------------- groups

  /** listGroups lists the groups of every broker of the cluster. */
  async listGroups(): Promise<{ groups: GroupOverview[] }> {
    const { admin } = this.#parts()
    const groups = await this.#wrap(() => admin.listGroups())
    return { groups: groups.map((g) => ({ groupId: g.group, protocolType: g.protocolType })) }
  }

  /** describeGroups describes groups. */
  async describeGroups(groupIds: string[]): Promise<{ groups: GroupDescription[] }> {
    const { client } = this.#parts()
    return this.#wrap(async () => {
      // errorCode is not in KafkaJS's declarations, but its runtime gives it (0).
      const groups: Array<GroupDescription & { errorCode: number }> = []
      for (const id of groupIds) {
        const req = DescribeGroups.newRequest()
        req.groups = [id]
        const res = await client.request(DescribeGroups, req)
        for (const g of res.groups) {
          // Kafka 4 answers an unknown group with GROUP_ID_NOT_FOUND (DescribeGroups v6); the versions
          // KafkaJS sends get it as an empty group in state Dead, which KafkaJS hands back.
          if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) {
            groups.push({ errorCode: 0, groupId: g.groupId, state: 'Dead', protocolType: '', protocol: '', members: [] })
            continue
          }
          if (g.errorCode !== 0) throw createErrorFromCode(g.errorCode, { message: g.errorMessage })
          groups.push({ errorCode: 0, groupId: g.groupId, state: g.groupState, protocolType: g.protocolType, protocol: g.protocolData, members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, memberMetadata: m.memberMetadata, memberAssignment: m.memberAssignment })) })
        }
      }
      return { groups }
    })
  }

  /** deleteGroups deletes groups with no members; when some cannot be, KafkaJSDeleteGroupsError lists those with their errors. */
  async deleteGroups(groupIds: string[]): Promise<DeleteGroupsResult[]> {
    const { admin } = this.#parts()
    if (!groupIds || !Array.isArray(groupIds)) throw new KafkaJSNonRetriableError(`Invalid groupIds array ${String(groupIds)}`)
    // KafkaJS's message shows the result of its check (true), not the group id.
    if (groupIds.some((g) => typeof g !== 'string')) throw new KafkaJSNonRetriableError('Invalid groupId name: true')
    if (groupIds.length === 0) return []
    const results = await this.#wrap(() => admin.deleteGroups(groupIds))
    const failed = results.filter((r) => r.error !== null)
    // An error that is not the broker's answer for a group (the coordinator cannot be reached) is the call's.
    const other = failed.find((r) => !(r.error instanceof KafkaProtocolError))
    if (other !== undefined) throw this.#convert(other.error)
    if (failed.length > 0) {
      throw new KafkaJSDeleteGroupsError(
        'Error in DeleteGroups',
        failed.map((r) => {
          const error = protocolError(r.error as KafkaProtocolError)
          return { groupId: r.group, errorCode: error.code, error }
        }),
      )
    }
    return results.map((r) => ({ groupId: r.group, errorCode: 0 }))
  }

  // ---------------------------------------------------------------- group offsets

  /**
   * setOffsets commits offsets for a group that has no running members (KafkaJS's message and
   * KafkaJSNonRetriableError otherwise). Partitions the topic does not have are skipped, as KafkaJS
   * skips them. Unlike KafkaJS, which joins the group with a consumer that seeks and commits, the
   * offsets are committed from outside the group (as kafka-consumer-groups does), and the special
   * offsets '-2' and '-1' are committed as the partition's log start and end: see docs/kafkajs.md.
   */
  async setOffsets(options: { groupId: string; topic: string; partitions: SeekEntry[] }): Promise<void> {
    const { admin } = this.#parts()
    const { groupId, topic, partitions } = options ?? ({} as typeof options)
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${groupId}`)
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions')
    const existing = new Set(await this.#topicPartitions(topic))
    await this.#checkNoMembers(groupId)
    const wanted = new Map<number, bigint>()
    for (const p of partitions) {
      const partition = Number(p.partition)
      if (Number.isNaN(partition)) throw new KafkaJSNonRetriableError(`Invalid partition, expected a number received ${p.partition}`)
      const offset = parseOffset(p.offset)
      if (offset < -2n) throw new KafkaJSNonRetriableError('Offset must not be a negative number')
      if (existing.has(partition)) wanted.set(partition, offset)
    }
    if (wanted.size === 0) return
    // The special offsets become real ones: a committed -1 or -2 reads as "no committed offset" to
    // every consumer (KafkaJS's own falls back to its fromBeginning), so KafkaJS's literal commit of
    // them does not move the group where it says.
    const special = (o: bigint) => [...wanted].filter(([, x]) => x === o).map(([p]) => p)
    await this.#wrap(async () => {
      for (const [sentinel, list] of [
        [-2n, (ps: number[]) => admin.listStartOffsets({ [topic]: ps })],
        [-1n, (ps: number[]) => admin.listEndOffsets({ [topic]: ps })],
      ] as const) {
        const ps = special(sentinel)
        if (ps.length === 0) continue
        for (const o of await list(ps)) {
          if (o.error !== null) throw o.error
          wanted.set(o.partition, o.offset)
        }
      }
      const results = await admin.commitOffsets(groupId, { [topic]: Object.fromEntries(wanted) })
      const failed = results.find((r) => r.error !== null)
      if (failed !== undefined) throw failed.error
    })
  }

  /**
   * resetOffsets moves a group with no running members to the earliest or (the default) latest
   * offset of every partition of a topic. The partitions' actual offsets are committed, where KafkaJS
   * commits the special offsets -2 and -1: see setOffsets and docs/kafkajs.md.
   */
  async resetOffsets(options: { groupId: string; topic: string; earliest: boolean }): Promise<void> {
    const { admin } = this.#parts()
    const { groupId, topic, earliest = false } = options ?? ({} as typeof options)
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${groupId}`)
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
    await this.#topicPartitions(topic)
    await this.#checkNoMembers(groupId)
    let results
    try {
      results = await admin.resetOffsets(groupId, earliest ? 'earliest' : 'latest', { topics: [topic] })
    } catch (err) {
      // A consumer that joined since the check above.
      throw err instanceof GroupNotEmptyError ? groupRunning(err.state) : this.#convert(err)
    }
    const failed = results.find((r) => r.error !== null)
    if (failed !== undefined) throw this.#convert(failed.error)
  }

  /** topicPartitions returns a topic's partitions, failing with UNKNOWN_TOPIC_OR_PARTITION (retriable, as KafkaJS's) for a topic that does not exist. */
  async #topicPartitions(topic: string): Promise<number[]> {
    const { admin } = this.#parts()
    return this.#wrap(async () => {
      const t = (await admin.metadata([topic])).topics.get(topic)
      if (t === undefined) throw createErrorFromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic })
      if (t.error !== null) throw t.error
      return t.partitions.map((p) => p.partition)
    })
  }

  /** checkNoMembers fails as KafkaJS does unless the group is Empty or Dead (a group that does not exist is Dead). */
  async #checkNoMembers(groupId: string): Promise<void> {
    const { admin } = this.#parts()
    const [d] = await this.#wrap(() => admin.describeGroups([groupId]))
    const notFound = d!.error instanceof KafkaProtocolError && d!.error.errorCode === ErrorCode.GROUP_ID_NOT_FOUND
    if (d!.error !== null && !notFound) throw this.#convert(d!.error)
    if (d!.state !== 'Empty' && d!.state !== 'Dead') throw groupRunning(d!.state)
  }

  // ---------------------------------------------------------------- topics: partitions, records, reassignments

  /**
   * createPartitions grows topics to `count` partitions each (placing the new replicas when
   * `assignments` says where) and resolves true once every new partition has a leader. A failure
   * rejects with the first failed topic's error, by topic name, as KafkaJS reports it. KafkaJS
   * resolves undefined although its declarations say boolean: see docs/kafkajs.md.
   */
  async createPartitions(options: { validateOnly?: boolean; timeout?: number; topicPartitions: ITopicPartitionConfig[] }): Promise<boolean> {
    const { admin } = this.#parts()
    const tps = options?.topicPartitions
    if (!tps || !Array.isArray(tps)) throw new KafkaJSNonRetriableError(`Invalid topic partitions array ${String(tps)}`)
    if (tps.length === 0) throw new KafkaJSNonRetriableError('Empty topic partitions array')
    if (tps.some((t) => typeof t?.topic !== 'string')) throw new KafkaJSNonRetriableError('Invalid topic partitions array, the topic names have to be a valid string')
    if (new Set(tps.map((t) => t.topic)).size < tps.length) throw new KafkaJSNonRetriableError('Invalid topic partitions array, it cannot have multiple entries for the same topic')
    const failures: Array<[string, KafkaJSError]> = []
    // kafka-wire's Admin refuses a count below one before sending; the controller refuses it with
    // INVALID_PARTITIONS, which is what KafkaJS reports, so that is the answer here too.
    const asked = tps.filter((t) => {
      if (Number.isInteger(t.count) && t.count >= 1) return true
      failures.push([t.topic, createErrorFromCode(ErrorCode.INVALID_PARTITIONS, { topic: t.topic, message: `Number of partitions must be at least 1, got ${String(t.count)}` })])
      return false
    })
    if (asked.length > 0) {
      const validateOnly = options.validateOnly === true
      const results = await this.#wrap(() =>
        admin.updatePartitions(
          Object.fromEntries(asked.map((t) => [t.topic, t.count])),
          asked.map((t) => t.topic),
          { validateOnly, timeout: options.timeout ?? 5_000, waitReady: !validateOnly, assignments: Object.fromEntries(asked.filter((t) => t.assignments !== undefined).map((t) => [t.topic, t.assignments!])) },
        ),
      )
      for (const r of results) if (r.error !== null) failures.push([r.topic, this.#convert(r.error)])
    }
    if (failures.length > 0) throw failures.sort((a, b) => a[0].localeCompare(b[0]))[0]![1]
    return true
  }

  /**
   * deleteTopicRecords deletes a topic's records before the given offsets ('-1': all of them). As
   * KafkaJS: a topic that does not exist fails after KafkaJS's retries; a partition the topic lacks
   * fails the call before anything is deleted (KafkaJSDeleteTopicRecordsError with
   * KafkaJSBrokerNotFound); partitions the broker refuses (an offset past the end) fail it as
   * KafkaJSNonRetriableError whose cause is the KafkaJSDeleteTopicRecordsError listing them.
   */
  async deleteTopicRecords(options: { topic: string; partitions: SeekEntry[] }): Promise<void> {
    const { admin } = this.#parts()
    const { topic, partitions } = options ?? ({} as typeof options)
    if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError(`Invalid topic "${String(topic)}"`)
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions')
    const offsets = await this.fetchTopicOffsets(topic)
    const missing = partitions.filter((p) => !offsets.some((o) => o.partition === p.partition))
    if (missing.length > 0) {
      throw new KafkaJSDeleteTopicRecordsError({ topic, partitions: missing.map((p) => ({ partition: p.partition, offset: p.offset, error: new KafkaJSBrokerNotFound('Could not find the leader for the partition', { retriable: false }) })) })
    }
    const before = new Map<number, bigint>()
    for (const p of partitions) {
      const offset = parseOffset(p.offset)
      const low = BigInt(offsets.find((o) => o.partition === p.partition)!.low)
      if (offset < low && offset !== -1n) this.#logger.warn('The requested offset is before the earliest offset maintained on the partition - no records will be deleted from this partition', { topic, partition: p.partition, offset: p.offset })
      before.set(p.partition, offset)
    }
    // The broker refuses an offset below -1 as out of range; kafka-wire's Admin refuses it before
    // sending, so it is answered here as the broker would.
    const refused = [...before].filter(([, o]) => o < -1n).map(([partition]) => ({ partition, error: createErrorFromCode(ErrorCode.OFFSET_OUT_OF_RANGE) as KafkaJSError }))
    for (const r of refused) before.delete(r.partition)
    const results = before.size === 0 ? [] : await this.#wrap(() => admin.deleteRecords(new Map([[topic, before]]), { timeout: 5_000 }))
    const failed = [...refused, ...results.filter((r) => r.error !== null).map((r) => ({ partition: r.partition, error: r.error instanceof KafkaProtocolError ? protocolError(r.error) : this.#convert(r.error) }))]
    if (failed.length === 0) return
    const asked = (partition: number) => partitions.find((p) => p.partition === partition)!.offset
    const err = new KafkaJSDeleteTopicRecordsError({ topic, partitions: failed.map((f) => ({ partition: f.partition, offset: asked(f.partition), error: f.error })) })
    // KafkaJS retries while every partition's error is retriable (kafka-wire's Admin has retried
    // those already) and wraps what is left, as its retrier does.
    if (err.retriable) {
      const retry = this.#retry()
      throw new KafkaJSNumberOfRetriesExceeded(err, { retryCount: retry.retries ?? 5, retryTime: retry.maxRetryTime ?? 30_000 })
    }
    throw new KafkaJSNonRetriableError(err, { cause: err })
  }

  /**
   * alterPartitionReassignments moves partitions to the given replicas. A refusal of the whole request
   * rejects with KafkaJSAlterPartitionReassignmentsError; partitions refused one by one reject with
   * KafkaJSAggregateError holding one KafkaJSAlterPartitionReassignmentsError per partition.
   */
  async alterPartitionReassignments(request: { topics: PartitionReassignment[]; timeout?: number }): Promise<void> {
    const { admin } = this.#parts()
    const topics = request?.topics
    if (!topics || !Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${String(topics)}`)
    if (topics.some((t) => typeof t?.topic !== 'string')) throw new KafkaJSNonRetriableError('Invalid topics array, the topic names have to be a valid string')
    if (new Set(topics.map((t) => t.topic)).size < topics.length) throw new KafkaJSNonRetriableError('Invalid topics array, it cannot have multiple entries for the same topic')
    const moves: { [topic: string]: { [partition: number]: number[] } } = {}
    for (const { topic, partitionAssignment } of topics) {
      if (!partitionAssignment || !Array.isArray(partitionAssignment)) throw new KafkaJSNonRetriableError(`Invalid partitions array: ${String(partitionAssignment)} for topic: ${topic}`)
      moves[topic] = {}
      for (const { partition, replicas } of partitionAssignment) {
        if (typeof partition !== 'number' || partition < 0) throw new KafkaJSNonRetriableError(`Invalid partitions index: ${partition} for topic: ${topic}`)
        if (!replicas || !Array.isArray(replicas)) throw new KafkaJSNonRetriableError(`Invalid replica assignment: ${String(replicas)} for topic: ${topic} on partition: ${partition}`)
        if (replicas.some((r) => typeof r !== 'number' || r < 0)) throw new KafkaJSNonRetriableError(`Invalid replica assignment: ${replicas} for topic: ${topic} on partition: ${partition}. Replicas must be a non negative number`)
        moves[topic]![partition] = replicas
      }
    }
    let results
    try {
      results = await admin.alterPartitionAssignments(moves, { timeout: request.timeout ?? 5_000 })
    } catch (err) {
      throw err instanceof KafkaProtocolError ? new KafkaJSAlterPartitionReassignmentsError(protocolError(err)) : this.#convert(err)
    }
    const failed = results.filter((r) => r.error !== null)
    if (failed.length > 0) {
      throw new KafkaJSAggregateError(
        'Errors altering partition reassignments',
        failed.map((r) => new KafkaJSAlterPartitionReassignmentsError(r.error instanceof KafkaProtocolError ? protocolError(r.error) : this.#convert(r.error), r.topic, r.partition)),
      )
    }
  }

  /**
   * listPartitionReassignments lists the reassignments in progress (of the partitions named, or all).
   * Each topic and partition carries both KafkaJS's runtime names (`name`, `partition`) and those its
   * declarations give (`topic`, `partitionIndex`): see docs/kafkajs.md.
   */
  async listPartitionReassignments(request: { topics?: TopicPartitions[]; timeout?: number }): Promise<ListPartitionReassignmentsResponse> {
    const { admin } = this.#parts()
    const topics = request?.topics ?? null
    if (topics) {
      if (!Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${String(topics)}`)
      if (topics.some((t) => typeof t?.topic !== 'string')) throw new KafkaJSNonRetriableError('Invalid topics array, the topic names have to be a valid string')
      if (new Set(topics.map((t) => t.topic)).size < topics.length) throw new KafkaJSNonRetriableError('Invalid topics array, it cannot have multiple entries for the same topic')
      for (const { topic, partitions } of topics) {
        if (!partitions || !Array.isArray(partitions)) throw new KafkaJSNonRetriableError(`Invalid partition array: ${String(partitions)} for topic: ${topic}`)
        if (partitions.some((p) => typeof p !== 'number' || p < 0)) throw new KafkaJSNonRetriableError(`Invalid partition array: ${partitions} for topic: ${topic}. The partition indices have to be a valid number greater than 0.`)
      }
    }
    const list = await this.#wrap(() => admin.listPartitionReassignments(topics === null ? undefined : Object.fromEntries(topics.map((t) => [t.topic, t.partitions])), { timeout: request?.timeout ?? 5_000 }))
    const out: OngoingTopicReassignment[] = []
    for (const r of list) {
      let t = out[out.length - 1]
      if (t === undefined || t.name !== r.topic) out.push((t = { name: r.topic, topic: r.topic, partitions: [] }))
      t.partitions.push({ partition: r.partition, partitionIndex: r.partition, replicas: r.replicas, addingReplicas: r.adding, removingReplicas: r.removing })
    }
    return { topics: out }
  }

  // ---------------------------------------------------------------- configs

  /**
   * describeConfigs describes resources' configs (all of them, or the `configNames` asked), in the
   * order the resources are given; the first resource's error rejects the call, as with KafkaJS.
   */
  async describeConfigs(configs: { resources: ResourceConfigQuery[]; includeSynonyms: boolean }): Promise<DescribeConfigResponse> {
    const { admin } = this.#parts()
    const resources = checkConfigResources<ResourceConfigQuery>(configs?.resources)
    const badNames = resources.find((r) => !Array.isArray(r.configNames) && r.configNames != null)
    if (badNames) throw new KafkaJSNonRetriableError(`Invalid resource configNames ${String(badNames.configNames)}: ${JSON.stringify(badNames)}`)
    const wire = resources.map((r) => ({ type: configResourceType(r), name: r.name }))
    // kafka-wire's Admin takes one list of names per call where KafkaJS's resources each have their
    // own (none, or an empty list, for every config): one call per distinct list.
    const byNames = new Map<string, number[]>()
    resources.forEach((r, i) => {
      const key = JSON.stringify(r.configNames !== undefined && r.configNames !== null && r.configNames.length > 0 ? r.configNames : null)
      byNames.set(key, [...(byNames.get(key) ?? []), i])
    })
    const described: DescribedConfigs[] = []
    await this.#wrap(() =>
      Promise.all(
        [...byNames].map(async ([key, idx]) => {
          const names = JSON.parse(key) as string[] | null
          const res = await admin.describeConfigs(idx.map((i) => wire[i]!), { synonyms: configs.includeSynonyms === true, ...(names !== null ? { names } : {}) })
          res.forEach((d, j) => void (described[idx[j]!] = d))
        }),
      ),
    )
    const failed = described.find((d) => d.error !== null)
    if (failed !== undefined) throw this.#convert(failed.error)
    // KafkaJS resolves with the resources only; its declarations also name a throttleTime it does not
    // return. errorMessage is null: kafka-wire's Admin keeps a message only with an error.
    return { resources: described.map((d) => ({ errorCode: 0, errorMessage: null as unknown as string, resourceType: configResourceNumber(d.type), resourceName: d.name, configEntries: configEntries(d) })) } as DescribeConfigResponse
  }

  /**
   * alterConfigs sets resources' configs with AlterConfigs, as KafkaJS does: the entries given replace
   * the resource's dynamic configs, and those left out go back to their defaults.
   */
  async alterConfigs(configs: { validateOnly: boolean; resources: IResourceConfig[] }): Promise<any> {
    const { admin } = this.#parts()
    const resources = checkConfigResources<IResourceConfig>(configs?.resources)
    const badEntries = resources.find((r) => !Array.isArray(r.configEntries))
    if (badEntries) throw new KafkaJSNonRetriableError(`Invalid resource configEntries ${String(badEntries.configEntries)}: ${JSON.stringify(badEntries)}`)
    const badValue = resources.find((r) => r.configEntries.some((e) => typeof e.name !== 'string' || typeof e.value !== 'string'))
    if (badValue) throw new KafkaJSNonRetriableError(`Invalid resource config value: ${JSON.stringify(badValue)}`)
    const wire = resources.map((r) => ({ type: configResourceType(r), name: r.name, configs: Object.fromEntries(r.configEntries.map((e) => [e.name, e.value])) }))
    const results = await this.#wrap(() => admin.alterConfigsState(wire, { validateOnly: configs.validateOnly === true }))
    const failed = results.find((r) => r.error !== null)
    if (failed !== undefined) throw this.#convert(failed.error)
    return { resources: results.map((r) => ({ errorCode: 0, errorMessage: null, resourceType: configResourceNumber(r.type), resourceName: r.name })) }
  }

  // ---------------------------------------------------------------- ACLs

  /** createAcls creates ACLs and resolves true; the first refused one rejects the call (the others are created, as with KafkaJS). */
  async createAcls(options: { acl: AclEntry[] }): Promise<boolean> {
    const { admin } = this.#parts()
    const bindings = checkAclEntries(options?.acl).map(aclBinding)
    // The broker refuses an empty resource name or a principal without its type (User:) with
    // INVALID_REQUEST and creates the rest; kafka-wire's Admin refuses them before sending, so they
    // are answered here and the rest sent.
    const refused = bindings.map((b) => b.resourceName === '' || !b.principal.includes(':'))
    const sent = bindings.filter((_, i) => !refused[i])
    const results = sent.length === 0 ? [] : await this.#wrap(() => admin.createAcls(sent))
    let next = 0
    for (let i = 0; i < bindings.length; i++) {
      if (refused[i]) throw createErrorFromCode(ErrorCode.INVALID_REQUEST, { message: `Invalid ACL: resource name ${JSON.stringify(bindings[i]!.resourceName)}, principal ${JSON.stringify(bindings[i]!.principal)}` })
      const r = results[next++]!
      if (r.error !== null) throw this.#convert(r.error)
    }
    return true
  }

  /** describeAcls lists the ACLs a filter matches, grouped by resource as the broker answers. */
  async describeAcls(options: AclFilter): Promise<DescribeAclResponse> {
    const { admin } = this.#parts()
    const filter = aclFilter(checkAclFilter(options))
    const acls = await this.#wrap(() => admin.describeAcls(filter))
    // KafkaJS resolves with the resources only; its declarations also name throttleTime and errorCode.
    return { resources: describedAclResources(acls) } as DescribeAclResponse
  }

  /** deleteAcls deletes the ACLs each filter matches and returns them per filter; the first error rejects the call. */
  async deleteAcls(options: { filters: AclFilter[] }): Promise<DeleteAclResponse> {
    const { admin } = this.#parts()
    const filters = checkAclFilters(options?.filters).map(aclFilter)
    const results = await this.#wrap(() => admin.deleteAcls(filters))
    const failed = results.find((r) => r.error !== null)
    if (failed !== undefined) throw this.#convert(failed.error)
    for (const r of results) {
      const m = r.deleted.find((d) => d.error !== null)
      if (m !== undefined) throw this.#convert(m.error)
    }
    // KafkaJS resolves with the filter responses only; its declarations also name a throttleTime.
    return { filterResponses: results.map((r) => ({ errorCode: 0, errorMessage: null as unknown as string, matchingAcls: r.deleted.map((d) => matchingAcl(d, 0, null)) })) } as DeleteAclResponse
  }
}

/** groupRunning is KafkaJS's refusal to move the offsets of a group with running members. */
function groupRunning(state: string): KafkaJSNonRetriableError {
  return new KafkaJSNonRetriableError(`The consumer group must have no running instances, current state: ${state}`)
}

/**
 * protocolError is a broker's error code as KafkaJS's createErrorFromCode makes it: always a
 * KafkaJSProtocolError (OFFSET_OUT_OF_RANGE included), with the broker's message and, as kafka-wire's
 * addition, the topic and partition it concerns.
 */
function protocolError(err: KafkaProtocolError): KafkaJSProtocolError {
  const out = createErrorFromCode(err.errorCode, { message: err.errorMessage, cause: err })
  if (err.topic !== undefined) out.topic = err.topic
  if (err.partition !== undefined) out.partition = err.partition
  return out
}

/** parseOffset reads an offset given as a string (or number), failing as KafkaJS's seek does. */
function parseOffset(offset: unknown): bigint {
  try {
    if ((typeof offset === 'string' && /^-?\d+$/.test(offset.trim())) || (typeof offset === 'number' && Number.isInteger(offset)) || typeof offset === 'bigint') return BigInt(typeof offset === 'string' ? offset.trim() : offset)
  } catch {
    // falls through to the error below
  }
  throw new KafkaJSNonRetriableError(`Invalid offset, expected a long received ${String(offset)}`)
}
