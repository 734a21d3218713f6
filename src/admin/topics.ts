/**
 * Topics: the cluster's metadata, listing and describing topics, creating and deleting them (by name or
 * id), adding partitions, and waiting until topics are usable on every broker.
 */
import { ErrorCode } from '../protocol/error-codes.js'
import { KafkaProtocolError, type KafkaWireError } from '../protocol/errors.js'
import { CreatePartitions } from '../protocol/messages/create-partitions.js'
import { CreateTopics, type CreateTopicsRequest } from '../protocol/messages/create-topics.js'
import { DeleteTopics } from '../protocol/messages/delete-topics.js'
import { Metadata, type MetadataResponse } from '../protocol/messages/metadata.js'
import { isUuid, uuidToBase64 } from '../protocol/validate.js'
import { ZERO_UUID } from '../protocol/reader.js'
import { delay } from '../client/broker.js'
import type { ClientCore } from '../client/core.js'
import { AbortError, InvalidArgumentError, WaitTimeoutError } from '../client/errors.js'
import type { PartitionInfo } from '../client/metadata.js'
import type { BrokerMetadata } from '../hooks/index.js'
import { authorizedOperationsOf, type AclOperation } from './acls.js'
import { CONTROLLER_RETRY, errorFor, loadMetadata, retryItems, sendController, type AdminOptions, type TimeoutOptions } from './util.js'

/** NewTopic describes a topic to create. */
export interface NewTopic {
  name: string
  /** partitions is the partition count; -1 (the default) takes the broker's num.partitions. */
  partitions?: number
  /** replicationFactor; -1 (the default) takes the broker's default.replication.factor. */
  replicationFactor?: number
  /** assignments places each partition's replicas explicitly: { partition: [broker ids] } (then leave partitions and replicationFactor out). */
  assignments?: { [partition: number]: number[] }
  /** configs are topic configs, such as { 'cleanup.policy': 'compact' }. */
  configs?: { [name: string]: string | null }
}

/** CreateTopicsOptions tune createTopics. */
export interface CreateTopicsOptions extends TimeoutOptions {
  /** validateOnly asks the controller to check the request without creating anything. */
  validateOnly?: boolean
  /** waitReady waits until every broker knows each created topic and every partition has a leader (see waitForTopics). Default true. */
  waitReady?: boolean
}

/** CreatedTopic is one topic's result of createTopics: what the controller made, or the error. */
export interface CreatedTopic {
  name: string
  /** topicId in base64url form; the zero id when the broker did not say (or on error). */
  topicId: string
  partitions: number
  replicationFactor: number
  /** configs are the topic's configs as created (CreateTopics v5+), by name. */
  configs: { [name: string]: string | null }
  /** error is the topic's error (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, …), null on success. */
  error: KafkaWireError | null
}

/** DeletedTopic is one topic's result of deleteTopics. */
export interface DeletedTopic {
  /** name is the topic's name (for a topic deleted by id, as the broker gave it; '' when it did not). */
  name: string
  topicId: string
  error: KafkaWireError | null
}

/** TopicRef names a topic to delete: by name, or by id (base64url or dashed). */
export type TopicRef = string | { topicId: string }

/** PartitionDescription is one partition as the cluster's metadata describes it: leader, epoch, replicas, ISR, offline replicas. */
export interface PartitionDescription extends Omit<PartitionInfo, 'errorCode'> {
  /** error is the partition's error (LEADER_NOT_AVAILABLE, …), null when none. */
  error: KafkaWireError | null
}

/** TopicDescription is one topic as the cluster's metadata describes it. */
export interface TopicDescription {
  name: string
  /** topicId in base64url form. */
  topicId: string
  internal: boolean
  partitions: PartitionDescription[]
  /** authorizedOperations are what this client may do with the topic, when asked for (describeTopics); null otherwise. */
  authorizedOperations: AclOperation[] | null
  /** error is the topic's error (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED, …), null when none. */
  error: KafkaWireError | null
}

/** MetadataView is one answer of the cluster's metadata (franz-go's kadm.Metadata). */
export interface MetadataView {
  clusterId: string | null
  /** controller is the node id of the active controller, -1 when unknown. */
  controller: number
  brokers: BrokerMetadata[]
  /** topics asked for (or every topic when none was named), by name. */
  topics: Map<string, TopicDescription>
}

/** ListTopicsOptions tune listTopics. */
export interface ListTopicsOptions extends AdminOptions {
  /** internal includes internal topics (__consumer_offsets, __transaction_state, …). Default false. */
  internal?: boolean
}

/** WaitForTopicsOptions tune waitForTopics. */
export interface WaitForTopicsOptions extends AdminOptions {
  /** timeout gives up after this many ms with WaitTimeoutError. Default 30,000. */
  timeout?: number
}

/** CreatePartitionsOptions tune createPartitions and updatePartitions. */
export interface CreatePartitionsOptions extends TimeoutOptions {
  /** validateOnly asks the controller to check the request without adding anything. */
  validateOnly?: boolean
  /**
   * assignments place the new partitions' replicas: per topic, one list of broker ids per new
   * partition, in order. Default: the controller places them.
   */
  assignments?: { [topic: string]: number[][] }
  /** waitReady waits until every broker knows the new partitions and each has a leader. Default true. */
  waitReady?: boolean
}

/** CreatedPartitions is one topic's result of createPartitions or updatePartitions. */
export interface CreatedPartitions {
  topic: string
  /** partitions is the topic's partition count asked for (-1 when the topic's count could not be read). */
  partitions: number
  /** error is INVALID_PARTITIONS (fewer than now), UNKNOWN_TOPIC_OR_PARTITION, … or null on success. */
  error: KafkaWireError | null
}

/** describeMetadata turns a Metadata answer into a MetadataView. */
export function describeMetadata(res: MetadataResponse): MetadataView {
  const out: MetadataView = {
    clusterId: res.clusterId,
    controller: res.controllerId,
    brokers: res.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId),
    topics: new Map(),
  }
  for (const t of res.topics) {
    if (t.name === null) continue
    out.topics.set(t.name, {
      name: t.name,
      topicId: t.topicId,
      internal: t.isInternal,
      authorizedOperations: authorizedOperationsOf(t.topicAuthorizedOperations),
      error: errorFor(t.errorCode, { topic: t.name }),
      partitions: t.partitions
        .map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offline: p.offlineReplicas,
          error: errorFor(p.errorCode, { topic: t.name!, partition: p.partitionIndex }),
        }))
        .sort((a, b) => a.partition - b.partition),
    })
  }
  return out
}

function checkNames(names: unknown, what: string): string[] {
  if (!Array.isArray(names)) throw new InvalidArgumentError(what, 'must be an array of topic names')
  names.forEach((n, i) => {
    if (typeof n !== 'string' || n === '') throw new InvalidArgumentError(`${what}[${i}]`, `must be a topic name, got ${JSON.stringify(n)}`)
  })
  return names as string[]
}

/** metadata asks for brokers, controller and the named topics (every topic when none is named). */
export async function metadata(core: ClientCore, topics: string[] | undefined, opts: AdminOptions = {}): Promise<MetadataView> {
  if (topics !== undefined) checkNames(topics, 'topics')
  return describeMetadata(await loadMetadata(core, topics ?? null, opts))
}

/** listTopics describes every topic of the cluster (internal ones with `internal`), sorted by name. */
export async function listTopics(core: ClientCore, opts: ListTopicsOptions = {}): Promise<TopicDescription[]> {
  const md = describeMetadata(await loadMetadata(core, null, opts))
  return [...md.topics.values()].filter((t) => opts.internal === true || !t.internal).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * describeTopics describes topics (partitions, leaders, replicas, ISR, offline replicas, id,
 * authorized operations), one result per name in the order given; a topic that does not exist carries
 * UNKNOWN_TOPIC_OR_PARTITION.
 */
export async function describeTopics(core: ClientCore, names: string[], opts: AdminOptions = {}): Promise<TopicDescription[]> {
  checkNames(names, 'topics')
  if (names.length === 0) return []
  const md = describeMetadata(await loadMetadata(core, names, { ...opts, authorizedOperations: true }))
  return names.map(
    (name) =>
      md.topics.get(name) ?? { name, topicId: ZERO_UUID, internal: false, partitions: [], authorizedOperations: null, error: errorFor(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: name }) },
  )
}

/**
 * createTopics creates topics and returns one result per topic, in the order given. NOT_CONTROLLER is
 * retried; other errors (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, POLICY_VIOLATION, …) are
 * the topic's result. With `waitReady` (the default) it returns once every broker knows each created
 * topic and every partition has a leader.
 */
export async function createTopics(core: ClientCore, topics: NewTopic[], opts: CreateTopicsOptions = {}): Promise<CreatedTopic[]> {
  if (!Array.isArray(topics)) throw new InvalidArgumentError('topics', 'must be an array of topics to create')
  const specs = topics.map((t, i) => {
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string' || t.name === '') throw new InvalidArgumentError(`topics[${i}].name`, 'each topic needs a name')
    const explicit = t.assignments !== undefined
    if (explicit && (t.partitions !== undefined || t.replicationFactor !== undefined)) {
      throw new InvalidArgumentError(`topics[${i}]`, 'give either assignments or partitions and replicationFactor, not both')
    }
    for (const [k, v] of [['partitions', t.partitions], ['replicationFactor', t.replicationFactor]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || (v < 1 && v !== -1))) throw new InvalidArgumentError(`topics[${i}].${k}`, `must be a positive integer or -1 (the broker's default), got ${v}`)
    }
    return {
      name: t.name,
      numPartitions: explicit ? -1 : (t.partitions ?? -1),
      replicationFactor: explicit ? -1 : (t.replicationFactor ?? -1),
      assignments: explicit ? Object.entries(t.assignments!).map(([p, brokerIds]) => ({ partitionIndex: Number(p), brokerIds })) : [],
      configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    }
  })
  const results = await retryItems(
    core,
    specs.map((s) => s.name),
    async (names, signal) => {
      const res = await sendController(
        core,
        CreateTopics,
        (): CreateTopicsRequest => {
          const req = CreateTopics.newRequest()
          req.timeoutMs = opts.timeout ?? 30_000
          req.validateOnly = opts.validateOnly === true
          req.topics = specs.filter((s) => names.includes(s.name))
          return req
        },
        signal ? { signal } : {},
      )
      const out = new Map<string, CreatedTopic>()
      for (const r of res.topics) {
        const configs: { [name: string]: string | null } = {}
        for (const c of r.configs ?? []) configs[c.name] = c.value
        out.set(r.name, { name: r.name, topicId: r.topicId, partitions: r.numPartitions, replicationFactor: r.replicationFactor, configs, error: errorFor(r.errorCode, { topic: r.name, errorMessage: r.errorMessage }) })
      }
      return out
    },
    (r) => r.error instanceof KafkaProtocolError && CONTROLLER_RETRY.has(r.error.errorCode),
    (name, err) => ({ name, topicId: ZERO_UUID, partitions: -1, replicationFactor: -1, configs: {}, error: err as KafkaWireError }),
    { ...opts, between: () => core.metadata.refresh(true) },
  )
  const out = specs.map(
    (s): CreatedTopic =>
      results.get(s.name) ?? { name: s.name, topicId: ZERO_UUID, partitions: -1, replicationFactor: -1, configs: {}, error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { topic: s.name, errorMessage: 'the controller did not answer for this topic' }) },
  )
  if (opts.waitReady !== false && opts.validateOnly !== true) {
    const created = out.filter((t) => t.error === null).map((t) => t.name)
    if (created.length > 0) await waitForTopics(core, created, { timeout: opts.timeout ?? 30_000, ...(opts.signal ? { signal: opts.signal } : {}) })
  }
  return out
}

/**
 * deleteTopics deletes topics, named or by id (base64url or dashed), and returns one result per topic
 * in the order given. Ids need DeleteTopics v6 (Kafka 2.8+).
 */
export async function deleteTopics(core: ClientCore, topics: TopicRef[], opts: TimeoutOptions = {}): Promise<DeletedTopic[]> {
  if (!Array.isArray(topics)) throw new InvalidArgumentError('topics', 'must be an array of topic names or { topicId }')
  const refs = topics.map((t, i) => {
    if (typeof t === 'string' && t !== '') return { key: t, name: t, topicId: ZERO_UUID }
    if (typeof t === 'object' && t !== null && isUuid(t.topicId)) {
      const id = uuidToBase64(t.topicId)
      return { key: id, name: null, topicId: id }
    }
    throw new InvalidArgumentError(`topics[${i}]`, `must be a topic name or { topicId } with a Uuid (base64url or dashed), got ${JSON.stringify(t)}`)
  })
  if (refs.length === 0) return []
  const results = await retryItems(
    core,
    refs.map((r) => r.key),
    async (keys, signal) => {
      const mine = refs.filter((r) => keys.includes(r.key))
      const res = await sendController(
        core,
        DeleteTopics,
        (version) => {
          const req = DeleteTopics.newRequest()
          req.timeoutMs = opts.timeout ?? 30_000
          if (version >= 6) req.topics = mine.map((r) => ({ name: r.name, topicId: r.topicId }))
          else {
            const byId = mine.find((r) => r.name === null)
            if (byId !== undefined) throw new InvalidArgumentError('topics', `the controller speaks DeleteTopics v${version}, which deletes by name only (topic id ${byId.topicId})`)
            req.topicNames = mine.map((r) => r.name!)
          }
          return req
        },
        signal ? { signal } : {},
      )
      const out = new Map<string, DeletedTopic>()
      for (const r of res.responses) {
        const ref = mine.find((x) => (x.name !== null && x.name === r.name) || (x.name === null && x.topicId === r.topicId))
        if (ref === undefined) continue
        out.set(ref.key, { name: r.name ?? '', topicId: r.topicId, error: errorFor(r.errorCode, { topic: r.name ?? ref.topicId, errorMessage: r.errorMessage }) })
      }
      return out
    },
    (r) => r.error instanceof KafkaProtocolError && CONTROLLER_RETRY.has(r.error.errorCode),
    (key, err) => {
      const ref = refs.find((r) => r.key === key)!
      return { name: ref.name ?? '', topicId: ref.topicId, error: err as KafkaWireError }
    },
    { ...opts, between: () => core.metadata.refresh(true) },
  )
  const deletedNames = [...results.values()].filter((r) => r.error === null && r.name !== '').map((r) => r.name)
  // Topics the client's own producer or consumer use stay in its loads: they tell them of the deletion.
  core.forgetTopics(deletedNames)
  return refs.map(
    (r) => results.get(r.key) ?? { name: r.name ?? '', topicId: r.topicId, error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { topic: r.name ?? r.topicId, errorMessage: 'the controller did not answer for this topic' }) },
  )
}

/**
 * updatePartitions sets the partition count of topics to `count` (it can only grow), one result per
 * topic (kadm's UpdatePartitions; KafkaJS's createPartitions).
 */
export async function updatePartitions(core: ClientCore, count: number | { [topic: string]: number }, topics: string[], opts: CreatePartitionsOptions = {}): Promise<CreatedPartitions[]> {
  checkNames(topics, 'topics')
  const countOf = (t: string) => (typeof count === 'number' ? count : count[t])
  topics.forEach((t, i) => {
    const c = countOf(t)
    if (c === undefined || !Number.isInteger(c) || c < 1) throw new InvalidArgumentError(`count${typeof count === 'number' ? '' : `.${t}`}`, `must be a partition count of at least 1 for topics[${i}] (${t}), got ${c}`)
  })
  if (topics.length === 0) return []
  const results = await retryItems(
    core,
    topics,
    async (names, signal) => {
      const res = await sendController(
        core,
        CreatePartitions,
        () => {
          const req = CreatePartitions.newRequest()
          req.timeoutMs = opts.timeout ?? 30_000
          req.validateOnly = opts.validateOnly === true
          req.topics = names.map((name) => ({ name, count: countOf(name)!, assignments: opts.assignments?.[name]?.map((brokerIds) => ({ brokerIds })) ?? null }))
          return req
        },
        signal ? { signal } : {},
      )
      return new Map(res.results.map((r): [string, CreatedPartitions] => [r.name, { topic: r.name, partitions: countOf(r.name) ?? -1, error: errorFor(r.errorCode, { topic: r.name, errorMessage: r.errorMessage }) }]))
    },
    (r) => r.error instanceof KafkaProtocolError && CONTROLLER_RETRY.has(r.error.errorCode),
    (topic, err) => ({ topic, partitions: countOf(topic) ?? -1, error: err as KafkaWireError }),
    { ...opts, between: () => core.metadata.refresh(true) },
  )
  const out = topics.map((t): CreatedPartitions => results.get(t) ?? { topic: t, partitions: countOf(t) ?? -1, error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { topic: t, errorMessage: 'the controller did not answer for this topic' }) })
  if (opts.waitReady !== false && opts.validateOnly !== true) {
    const grown = out.filter((r) => r.error === null)
    if (grown.length > 0) await waitForTopics(core, grown.map((r) => r.topic), { timeout: opts.timeout ?? 30_000, ...(opts.signal ? { signal: opts.signal } : {}), partitions: new Map(grown.map((r) => [r.topic, r.partitions])) })
  }
  return out
}

/**
 * createPartitions adds `add` partitions to each topic (kadm's CreatePartitions): it reads each
 * topic's count first; a topic that does not exist carries UNKNOWN_TOPIC_OR_PARTITION.
 */
export async function createPartitions(core: ClientCore, add: number, topics: string[], opts: CreatePartitionsOptions = {}): Promise<CreatedPartitions[]> {
  checkNames(topics, 'topics')
  if (!Number.isInteger(add) || add < 1) throw new InvalidArgumentError('add', `must be a number of partitions to add, at least 1, got ${add}`)
  if (topics.length === 0) return []
  const md = describeMetadata(await loadMetadata(core, topics, opts))
  const counts: { [topic: string]: number } = {}
  const missing = new Map<string, CreatedPartitions>()
  for (const t of topics) {
    const d = md.topics.get(t)
    if (d === undefined || d.error !== null) missing.set(t, { topic: t, partitions: -1, error: d?.error ?? errorFor(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: t }) })
    else counts[t] = d.partitions.length + add
  }
  const asked = topics.filter((t) => !missing.has(t))
  const done = asked.length > 0 ? await updatePartitions(core, counts, asked, opts) : []
  const byTopic = new Map(done.map((r) => [r.topic, r]))
  return topics.map((t) => missing.get(t) ?? byTopic.get(t)!)
}

/**
 * waitForTopics resolves once every broker of the cluster answers metadata for each topic with a
 * leader for every partition (and, with `partitions`, at least that many partitions): a topic just
 * created is usable then from any broker the client may reach. It fails with WaitTimeoutError after
 * `timeout` ms, naming the topics not ready.
 */
export async function waitForTopics(core: ClientCore, names: string[], opts: WaitForTopicsOptions & { partitions?: Map<string, number> } = {}): Promise<void> {
  checkNames(names, 'topics')
  const deadline = Date.now() + (opts.timeout ?? 30_000)
  const req = Metadata.newRequest()
  req.topics = names.map((name) => ({ topicId: ZERO_UUID, name }))
  req.allowAutoTopicCreation = false
  let notReady = names
  for (let tries = 1; ; tries++) {
    if (opts.signal?.aborted) throw new AbortError(opts.signal.reason)
    await core.metadata.refresh(true)
    const brokers = core.discoveredBrokers()
    const answers = await Promise.all(brokers.map((b) => core.request(Metadata, req, { broker: b.nodeId, ...(opts.signal ? { signal: opts.signal } : {}) }).catch(() => null)))
    const missing = new Set<string>()
    for (const res of answers) {
      if (res === null) {
        for (const n of names) missing.add(n)
        continue
      }
      for (const n of names) {
        const t = res.topics.find((x) => x.name === n)
        const want = opts.partitions?.get(n) ?? 1
        if (t === undefined || t.errorCode !== 0 || t.partitions.length < want || t.partitions.some((p) => p.leaderId < 0 || p.errorCode !== 0)) missing.add(n)
      }
    }
    notReady = [...missing]
    if (notReady.length === 0 && brokers.length > 0) {
      // The client's own cache must know them too, for producing right away (when it follows them).
      await core.metadata.refresh(true)
      return
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(`topics not usable on every broker within ${opts.timeout ?? 30_000} ms: ${notReady.join(', ')}`, notReady.length === 1 ? { topic: notReady[0]! } : {})
    await delay(Math.min(50 * tries, 500), opts.signal).catch((reason) => {
      throw new AbortError(reason)
    })
  }
}
