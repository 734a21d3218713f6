import { KafkaProtocolError, type KafkaWireError } from '../protocol/errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { CreateTopics, type CreateTopicsRequest } from '../protocol/messages/create-topics.js'
import { DeleteTopics } from '../protocol/messages/delete-topics.js'
import { Metadata } from '../protocol/messages/metadata.js'
import { ZERO_UUID } from '../protocol/reader.js'
import { Client, coreOf } from '../client/client.js'
import type { ClientCore } from '../client/core.js'
import { delay } from '../client/broker.js'
import { AbortError, InvalidOptionError, WaitTimeoutError } from '../client/errors.js'
import type { PartitionInfo } from '../client/metadata.js'
import type { ClientOptions } from '../client/options.js'
import type { BrokerMetadata } from '../hooks/index.js'

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
export interface CreateTopicsOptions {
  /** validateOnly asks the controller to check the request without creating anything. */
  validateOnly?: boolean
  /** timeout is how long the controller may take, in ms. Default 30,000. */
  timeout?: number
  /** waitReady waits until every broker knows each created topic and every partition has a leader (see waitForTopics). Default true. */
  waitReady?: boolean
  signal?: AbortSignal
}

/** CreatedTopic is one topic's result of createTopics: what the controller made, or the error. */
export interface CreatedTopic {
  name: string
  /** topicId in base64url form; the zero id when the broker did not say (or on error). */
  topicId: string
  partitions: number
  replicationFactor: number
  /** error is the topic's error (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, …), null on success. */
  error: KafkaWireError | null
}

/** DeletedTopic is one topic's result of deleteTopics. */
export interface DeletedTopic {
  name: string
  topicId: string
  error: KafkaWireError | null
}

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

/** WaitForTopicsOptions tune waitForTopics. */
export interface WaitForTopicsOptions {
  /** timeout gives up after this many ms with WaitTimeoutError. Default 30,000. */
  timeout?: number
  signal?: AbortSignal
}

/**
 * Admin administers a Kafka cluster (franz-go's kadm): typed methods over the client's requests,
 * routed to the right broker and retried where retrying can help. Built over an existing Client (it
 * shares its connections and metadata, and `close()` leaves the client open) or from client options
 * (it owns a client of its own, closed by `close()`).
 */
export class Admin {
  #client: Client
  #core: ClientCore
  #owned: boolean

  constructor(clientOrOptions: Client | ClientOptions<Client>) {
    if (clientOrOptions instanceof Client) {
      this.#client = clientOrOptions
      this.#owned = false
    } else {
      this.#client = new Client(clientOrOptions)
      this.#owned = true
    }
    this.#core = coreOf(this.#client)
  }

  /** client is the client this admin sends its requests through. */
  get client(): Client {
    return this.#client
  }

  // ---------------------------------------------------------------- metadata

  /**
   * metadata asks the cluster for its brokers, controller and topics: the named topics, or every
   * topic when none is named. A named topic that does not exist comes back with its error.
   */
  async metadata(topics?: string[], opts: { signal?: AbortSignal } = {}): Promise<MetadataView> {
    const req = Metadata.newRequest()
    req.topics = topics === undefined ? null : topics.map((name) => ({ topicId: ZERO_UUID, name }))
    req.allowAutoTopicCreation = false
    const res = await this.#core.request(Metadata, req, opts.signal ? { signal: opts.signal } : {})
    const out: MetadataView = {
      clusterId: res.clusterId,
      controller: res.controllerId,
      brokers: res.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      topics: new Map(),
    }
    for (const t of res.topics) {
      if (t.name === null) continue
      out.topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        internal: t.isInternal,
        error: t.errorCode === 0 ? null : new KafkaProtocolError(t.errorCode, { topic: t.name }),
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offline: p.offlineReplicas,
            error: p.errorCode === 0 ? null : new KafkaProtocolError(p.errorCode, { topic: t.name!, partition: p.partitionIndex }),
          }))
          .sort((a, b) => a.partition - b.partition),
      })
    }
    return out
  }

  // ---------------------------------------------------------------- topics

  /**
   * createTopics creates topics and returns one result per topic, in the order given; a topic that
   * could not be created carries its error (nothing throws for one topic's failure). With `waitReady`
   * (the default) it returns once every broker knows each created topic and every partition has a
   * leader, so producing to it right away works.
   */
  async createTopics(topics: NewTopic[], opts: CreateTopicsOptions = {}): Promise<CreatedTopic[]> {
    const req: CreateTopicsRequest = CreateTopics.newRequest()
    req.timeoutMs = opts.timeout ?? 30_000
    req.validateOnly = opts.validateOnly === true
    req.topics = topics.map((t) => {
      if (t === null || typeof t !== 'object' || typeof t.name !== 'string' || t.name === '') throw new InvalidOptionError('topics', 'each topic needs a name')
      const explicit = t.assignments !== undefined
      return {
        name: t.name,
        numPartitions: explicit ? -1 : (t.partitions ?? -1),
        replicationFactor: explicit ? -1 : (t.replicationFactor ?? -1),
        assignments: explicit ? Object.entries(t.assignments!).map(([p, brokerIds]) => ({ partitionIndex: Number(p), brokerIds })) : [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      }
    })
    const res = await this.#core.request(CreateTopics, req, opts.signal ? { signal: opts.signal } : {})
    const byName = new Map(res.topics.map((r) => [r.name, r]))
    const out = topics.map((t): CreatedTopic => {
      const r = byName.get(t.name)
      if (r === undefined) return { name: t.name, topicId: ZERO_UUID, partitions: -1, replicationFactor: -1, error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { topic: t.name, errorMessage: 'the controller did not answer for this topic' }) }
      const error = r.errorCode === 0 ? null : new KafkaProtocolError(r.errorCode, { topic: t.name, errorMessage: r.errorMessage })
      return { name: t.name, topicId: r.topicId, partitions: r.numPartitions, replicationFactor: r.replicationFactor, error }
    })
    if (opts.waitReady !== false && !req.validateOnly) {
      const created = out.filter((t) => t.error === null).map((t) => t.name)
      if (created.length > 0) await this.waitForTopics(created, { timeout: opts.timeout ?? 30_000, ...(opts.signal ? { signal: opts.signal } : {}) })
    }
    return out
  }

  /** createTopic creates one topic and throws its error, if any (see createTopics). */
  async createTopic(topic: NewTopic, opts: CreateTopicsOptions = {}): Promise<CreatedTopic> {
    const [r] = await this.createTopics([topic], opts)
    if (r!.error !== null) throw r!.error
    return r!
  }

  /** deleteTopics deletes topics by name and returns one result per topic, in the order given. */
  async deleteTopics(names: string[], opts: { timeout?: number; signal?: AbortSignal } = {}): Promise<DeletedTopic[]> {
    const req = DeleteTopics.newRequest()
    req.timeoutMs = opts.timeout ?? 30_000
    req.topicNames = names
    req.topics = names.map((name) => ({ name, topicId: ZERO_UUID }))
    const res = await this.#core.request(DeleteTopics, req, opts.signal ? { signal: opts.signal } : {})
    const byName = new Map(res.responses.map((r) => [r.name, r]))
    this.#core.metadata.forget(names)
    return names.map((name) => {
      const r = byName.get(name)
      const error = r === undefined ? new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { topic: name, errorMessage: 'the controller did not answer for this topic' }) : r.errorCode === 0 ? null : new KafkaProtocolError(r.errorCode, { topic: name, errorMessage: r.errorMessage })
      return { name, topicId: r?.topicId ?? ZERO_UUID, error }
    })
  }

  /**
   * waitForTopics resolves once every broker of the cluster answers metadata for each topic with a
   * leader for every partition: a topic just created is usable then from any broker the client may
   * reach. It fails with WaitTimeoutError after `timeout` ms, naming the topics not ready.
   */
  async waitForTopics(names: string[], opts: WaitForTopicsOptions = {}): Promise<void> {
    const core = this.#core
    const deadline = Date.now() + (opts.timeout ?? 30_000)
    const req = Metadata.newRequest()
    req.topics = names.map((name) => ({ topicId: ZERO_UUID, name }))
    req.allowAutoTopicCreation = false
    core.metadata.interest(names)
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
          if (t === undefined || t.errorCode !== 0 || t.partitions.length === 0 || t.partitions.some((p) => p.leaderId < 0 || p.errorCode !== 0)) missing.add(n)
        }
      }
      notReady = [...missing]
      if (notReady.length === 0 && brokers.length > 0) {
        // The client's own cache must know them too, for producing right away.
        await core.metadata.refresh(true)
        return
      }
      if (Date.now() >= deadline) throw new WaitTimeoutError(`topics not usable on every broker within ${opts.timeout ?? 30_000} ms: ${notReady.join(', ')}`, notReady.length === 1 ? { topic: notReady[0]! } : {})
      await delay(Math.min(50 * tries, 500), opts.signal).catch((reason) => {
        throw new AbortError(reason)
      })
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** close closes the admin's own client; an admin built over a Client leaves that client open. */
  async close(): Promise<void> {
    if (this.#owned) await this.#client.close()
  }
}
