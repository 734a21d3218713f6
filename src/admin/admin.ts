import { Client, coreOf } from '../client/client.js'
import type { ClientCore } from '../client/core.js'
import { InvalidArgumentError } from '../client/errors.js'
import type { ClientOptions } from '../client/options.js'
import type { KafkaWireError } from '../protocol/errors.js'
import type { BrokerMetadata } from '../hooks/index.js'
import * as acls from './acls.js'
import * as cluster from './cluster.js'
import * as configs from './configs.js'
import * as groups from './groups.js'
import * as offsets from './offsets.js'
import * as share from './share-groups.js'
import * as topics from './topics.js'
import * as txns from './transactions.js'
import * as users from './users.js'
import { loadMetadata, type AdminOptions, type TimeoutOptions } from './util.js'

/**
 * Admin administers a Kafka cluster (franz-go's kadm): typed methods over the client's requests,
 * version-negotiated, routed to the right broker (partition leaders, group and transaction
 * coordinators, the controller, every broker) and retried only where retrying can succeed (a
 * coordinator loading or moved, a leader moved, NOT_CONTROLLER). Methods that act on many items return
 * one result per item with its typed error; the single-item forms (createTopic, deleteTopic,
 * describeGroup, fetchOffsets, …) throw it.
 *
 * Built over an existing Client it shares the client's connections and metadata, and `close()` leaves
 * the client open; built from client options it owns a client of its own, closed by `close()`.
 *
 * ```ts
 * const admin = new Admin({ seedBrokers: ['127.0.0.1:9092'] })
 * await admin.createTopic({ name: 'orders', partitions: 6 })
 * const [lag] = await admin.lag(['billing'])
 * await admin.close()
 * ```
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

  // ---------------------------------------------------------------- cluster and metadata

  /**
   * metadata asks the cluster for its brokers, controller and topics: the named topics, or every
   * topic when none is named. A named topic that does not exist comes back with its error.
   */
  async metadata(topicNames?: string[], opts: AdminOptions = {}): Promise<topics.MetadataView> {
    return topics.metadata(this.#core, topicNames, opts)
  }

  /** describeCluster returns the cluster's id, controller and brokers with their racks (DescribeCluster). */
  async describeCluster(opts: cluster.DescribeClusterOptions = {}): Promise<cluster.ClusterDescription> {
    return cluster.describeCluster(this.#core, opts)
  }

  /** listBrokers lists the cluster's brokers, sorted by node id (kadm's ListBrokers). */
  async listBrokers(opts: AdminOptions = {}): Promise<BrokerMetadata[]> {
    return topics.describeMetadata(await loadMetadata(this.#core, [], opts)).brokers
  }

  /** apiVersions asks brokers (every broker when none is named) for the API versions they support, with the version kafka-wire uses. */
  async apiVersions(brokers?: number[], opts: AdminOptions = {}): Promise<cluster.BrokerApiVersions[]> {
    return cluster.apiVersions(this.#core, brokers, opts)
  }

  /** describeFeatures returns the cluster's finalized feature levels (metadata.version, …) and the ranges a broker supports (KIP-584). */
  async describeFeatures(opts: AdminOptions = {}): Promise<cluster.Features> {
    return cluster.describeFeatures(this.#core, opts)
  }

  /** describeAllLogDirs describes every broker's log directories, with the replicas of `topicPartitions` (all when not given). */
  async describeAllLogDirs(topicPartitions?: offsets.TopicPartitionsArg, opts: AdminOptions = {}): Promise<cluster.BrokerLogDirs[]> {
    return cluster.describeLogDirs(this.#core, { ...opts, ...(topicPartitions !== undefined ? { topics: topicPartitions } : {}) })
  }

  /** describeBrokerLogDirs describes one broker's log directories; it throws the broker's error. */
  async describeBrokerLogDirs(broker: number, topicPartitions?: offsets.TopicPartitionsArg, opts: AdminOptions = {}): Promise<cluster.LogDir[]> {
    if (!Number.isInteger(broker) || broker < 0) throw new InvalidArgumentError('broker', `must be a broker's node id, got ${broker}`)
    const [r] = await cluster.describeLogDirs(this.#core, { ...opts, brokers: [broker], ...(topicPartitions !== undefined ? { topics: topicPartitions } : {}) })
    if (r!.error !== null) throw r!.error
    return r!.dirs
  }

  /** electLeaders elects 'preferred' or 'unclean' leaders of partitions (every partition when none is named). */
  async electLeaders(type: cluster.ElectionType, partitions?: offsets.TopicPartitionsArg, opts: TimeoutOptions = {}): Promise<cluster.ElectedLeader[]> {
    return cluster.electLeaders(this.#core, type, partitions, opts)
  }

  /** listPartitionReassignments lists the partition reassignments in progress. */
  async listPartitionReassignments(partitions?: offsets.TopicPartitionsArg, opts: TimeoutOptions = {}): Promise<cluster.PartitionReassignment[]> {
    return cluster.listPartitionReassignments(this.#core, partitions, opts)
  }

  /** alterPartitionAssignments moves partitions to new replicas, or cancels a move in progress (null). */
  async alterPartitionAssignments(reassignments: { [topic: string]: { [partition: number]: number[] | null } }, opts: TimeoutOptions = {}): Promise<cluster.ReassignedPartition[]> {
    return cluster.alterPartitionAssignments(this.#core, reassignments, opts)
  }

  /** describeClientQuotas lists the client quotas of the entities a filter matches (KIP-546). */
  async describeClientQuotas(filter: cluster.QuotaFilter, opts: AdminOptions = {}): Promise<cluster.DescribedQuota[]> {
    return cluster.describeClientQuotas(this.#core, filter, opts)
  }

  /** alterClientQuotas sets or removes client quotas, one result per entity. */
  async alterClientQuotas(alterations: cluster.QuotaAlteration[], opts: AdminOptions & { validateOnly?: boolean } = {}): Promise<cluster.AlteredQuota[]> {
    return cluster.alterClientQuotas(this.#core, alterations, opts)
  }

  // ---------------------------------------------------------------- topics

  /** listTopics describes every topic of the cluster, sorted by name; internal topics only with `internal`. */
  async listTopics(opts: topics.ListTopicsOptions = {}): Promise<topics.TopicDescription[]> {
    return topics.listTopics(this.#core, opts)
  }

  /**
   * describeTopics describes topics (partitions, leaders, replicas, ISR, offline replicas, topic id,
   * authorized operations), one result per name; a missing topic carries UNKNOWN_TOPIC_OR_PARTITION.
   */
  async describeTopics(topicNames: string[], opts: AdminOptions = {}): Promise<topics.TopicDescription[]> {
    return topics.describeTopics(this.#core, topicNames, opts)
  }

  /** describeTopic describes one topic and throws its error. */
  async describeTopic(topic: string, opts: AdminOptions = {}): Promise<topics.TopicDescription> {
    const [d] = await topics.describeTopics(this.#core, [topic], opts)
    if (d!.error !== null) throw d!.error
    return d!
  }

  /**
   * createTopics creates topics and returns one result per topic, in the order given; a topic that
   * could not be created carries its error (nothing throws for one topic's failure). With `waitReady`
   * (the default) it returns once every broker knows each created topic and every partition has a
   * leader, so producing to it right away works.
   */
  async createTopics(newTopics: topics.NewTopic[], opts: topics.CreateTopicsOptions = {}): Promise<topics.CreatedTopic[]> {
    return topics.createTopics(this.#core, newTopics, opts)
  }

  /** createTopic creates one topic and throws its error, if any (see createTopics). */
  async createTopic(topic: topics.NewTopic, opts: topics.CreateTopicsOptions = {}): Promise<topics.CreatedTopic> {
    const [r] = await topics.createTopics(this.#core, [topic], opts)
    if (r!.error !== null) throw r!.error
    return r!
  }

  /** deleteTopics deletes topics, by name or `{ topicId }`, and returns one result per topic, in the order given. */
  async deleteTopics(topicRefs: topics.TopicRef[], opts: TimeoutOptions = {}): Promise<topics.DeletedTopic[]> {
    return topics.deleteTopics(this.#core, topicRefs, opts)
  }

  /** deleteTopic deletes one topic and throws its error. */
  async deleteTopic(topic: topics.TopicRef, opts: TimeoutOptions = {}): Promise<topics.DeletedTopic> {
    const [r] = await topics.deleteTopics(this.#core, [topic], opts)
    if (r!.error !== null) throw r!.error
    return r!
  }

  /** createPartitions adds `add` partitions to each topic (kadm's CreatePartitions), one result per topic. */
  async createPartitions(add: number, topicNames: string[], opts: topics.CreatePartitionsOptions = {}): Promise<topics.CreatedPartitions[]> {
    return topics.createPartitions(this.#core, add, topicNames, opts)
  }

  /**
   * updatePartitions sets each topic's partition count to `count` (one number, or one per topic), which
   * can only grow; optionally placing the new partitions' replicas (`assignments`). One result per topic.
   */
  async updatePartitions(count: number | { [topic: string]: number }, topicNames: string[], opts: topics.CreatePartitionsOptions = {}): Promise<topics.CreatedPartitions[]> {
    return topics.updatePartitions(this.#core, count, topicNames, opts)
  }

  /**
   * waitForTopics resolves once every broker of the cluster answers metadata for each topic with a
   * leader for every partition: a topic just created is usable then from any broker the client may
   * reach. It fails with WaitTimeoutError after `timeout` ms, naming the topics not ready.
   */
  async waitForTopics(topicNames: string[], opts: topics.WaitForTopicsOptions = {}): Promise<void> {
    return topics.waitForTopics(this.#core, topicNames, opts)
  }

  // ---------------------------------------------------------------- records and offsets

  /**
   * deleteRecords deletes each partition's records before an offset (`{ topic: { partition: offset } }`;
   * -1n for all of them) and returns each partition's new start offset, with its error.
   */
  async deleteRecords(before: { [topic: string]: { [partition: number]: bigint } } | Map<string, Map<number, bigint>>, opts: TimeoutOptions = {}): Promise<offsets.DeletedRecords[]> {
    return offsets.deleteRecords(this.#core, before, opts)
  }

  /** listStartOffsets lists the log start offset of partitions (topic names for all their partitions; every topic when none is named). */
  async listStartOffsets(topicPartitions?: offsets.TopicPartitionsArg, opts: AdminOptions = {}): Promise<offsets.ListedOffset[]> {
    return offsets.listStartOffsets(this.#core, topicPartitions, opts)
  }

  /** listEndOffsets lists the end offset (high watermark; last stable offset with read_committed) of partitions, with its leader epoch. */
  async listEndOffsets(topicPartitions?: offsets.TopicPartitionsArg, opts: offsets.ListOffsetsOptions = {}): Promise<offsets.ListedOffset[]> {
    return offsets.listEndOffsets(this.#core, topicPartitions, opts)
  }

  /** listCommittedOffsets lists the last stable offset of partitions: the end a read_committed consumer sees (kadm's ListCommittedOffsets). */
  async listCommittedOffsets(topicPartitions?: offsets.TopicPartitionsArg, opts: AdminOptions = {}): Promise<offsets.ListedOffset[]> {
    return offsets.listCommittedOffsets(this.#core, topicPartitions, opts)
  }

  /**
   * listOffsetsAfterMilli lists, per partition, the first offset whose timestamp is at or after
   * `millis`, with that record's timestamp; where every record is older, the end offset.
   */
  async listOffsetsAfterMilli(millis: number, topicPartitions?: offsets.TopicPartitionsArg, opts: offsets.ListOffsetsOptions = {}): Promise<offsets.ListedOffset[]> {
    return offsets.listOffsetsAfterMilli(this.#core, millis, topicPartitions, opts)
  }

  /** listMaxTimestampOffsets lists, per partition, the offset and timestamp of the record with the largest timestamp (KIP-734). */
  async listMaxTimestampOffsets(topicPartitions?: offsets.TopicPartitionsArg, opts: AdminOptions = {}): Promise<offsets.ListedOffset[]> {
    return offsets.listMaxTimestampOffsets(this.#core, topicPartitions, opts)
  }

  // ---------------------------------------------------------------- groups

  /** listGroups lists the groups of every broker, filtered by `states` and `types`, sorted by id. */
  async listGroups(opts: groups.ListGroupsOptions = {}): Promise<groups.ListedGroup[]> {
    return groups.listGroups(this.#core, opts)
  }

  /**
   * describeGroups describes classic and KIP-848 consumer groups: state, protocol, members with their
   * subscriptions and assignments decoded. One result per group; a group that does not exist has state
   * Dead and GROUP_ID_NOT_FOUND.
   */
  async describeGroups(groupIds: string[], opts: AdminOptions & { authorizedOperations?: boolean } = {}): Promise<groups.GroupDescription[]> {
    return groups.describeGroups(this.#core, groupIds, opts)
  }

  /** describeGroup describes one group and throws its error (GROUP_ID_NOT_FOUND for a group that does not exist). */
  async describeGroup(group: string, opts: AdminOptions & { authorizedOperations?: boolean } = {}): Promise<groups.GroupDescription> {
    const [d] = await groups.describeGroups(this.#core, [group], opts)
    if (d!.error !== null) throw d!.error
    return d!
  }

  /** deleteGroups deletes empty groups and their committed offsets, one result per group. */
  async deleteGroups(groupIds: string[], opts: AdminOptions = {}): Promise<groups.DeletedGroup[]> {
    return groups.deleteGroups(this.#core, groupIds, opts)
  }

  /** deleteGroup deletes one group and throws its error (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, …). */
  async deleteGroup(group: string, opts: AdminOptions = {}): Promise<void> {
    const [r] = await groups.deleteGroups(this.#core, [group], opts)
    if (r!.error !== null) throw r!.error
  }

  /** leaveGroup removes members from a group, static ones by `instanceId`, one result per member. */
  async leaveGroup(group: string, members: groups.MemberToRemove[], opts: AdminOptions & { reason?: string } = {}): Promise<groups.RemovedMember[]> {
    return groups.leaveGroup(this.#core, group, members, opts)
  }

  /** fetchOffsets returns a group's committed offsets (of every topic, or of `topicPartitions`); it throws the group's error. */
  async fetchOffsets(group: string, topicPartitions?: offsets.TopicPartitionsArg, opts: groups.FetchOffsetsOptions = {}): Promise<groups.CommittedOffset[]> {
    return groups.fetchOffsets(this.#core, group, topicPartitions, opts)
  }

  /** fetchManyOffsets returns the committed offsets of many groups, one result per group with its error. */
  async fetchManyOffsets(groupIds: string[], topicPartitions?: offsets.TopicPartitionsArg, opts: groups.FetchOffsetsOptions = {}): Promise<groups.FetchedOffsets[]> {
    return groups.fetchManyOffsets(this.#core, groupIds, topicPartitions, opts)
  }

  /** commitOffsets commits offsets for a group from outside it, one result per partition (a group with members refuses them). */
  async commitOffsets(group: string, toCommit: groups.OffsetToCommit[] | { [topic: string]: { [partition: number]: bigint } }, opts: AdminOptions = {}): Promise<groups.CommittedResult[]> {
    return groups.commitOffsets(this.#core, group, toCommit, opts)
  }

  /** deleteOffsets deletes a group's committed offsets of partitions it no longer subscribes to, one result per partition. */
  async deleteOffsets(group: string, topicPartitions: offsets.TopicPartitionsArg, opts: AdminOptions = {}): Promise<groups.CommittedResult[]> {
    return groups.deleteOffsets(this.#core, group, topicPartitions, opts)
  }

  /**
   * resetOffsets moves a group's committed offsets to the earliest or latest offsets, a time, an
   * offset, a shift from the committed ones, or explicit offsets, as kafka-consumer-groups
   * --reset-offsets does: refused (GroupNotEmptyError) while the group has members, offsets kept inside
   * each log, `dryRun` to only compute them. One result per partition with the previous offset.
   */
  async resetOffsets(group: string, to: groups.OffsetResetSpec, opts: groups.ResetOffsetsOptions = {}): Promise<groups.ResetOffset[]> {
    return groups.resetOffsets(this.#core, group, to, opts)
  }

  /**
   * lag computes groups' lag as kafka-consumer-groups --describe shows it: per partition (committed
   * offset, log end offset, lag, owning member), per topic and in total; one result per group.
   */
  async lag(groupIds: string[], opts: AdminOptions = {}): Promise<groups.GroupLag[]> {
    return groups.lag(this.#core, groupIds, opts)
  }

  /**
   * describeShareGroups describes share groups (KIP-932): state, epochs, assignor, members with their
   * subscriptions and assigned partitions. One result per group; a group that does not exist has state
   * Dead and GROUP_ID_NOT_FOUND.
   */
  async describeShareGroups(groupIds: string[], opts: AdminOptions & { authorizedOperations?: boolean } = {}): Promise<share.ShareGroupDescription[]> {
    return share.describeShareGroups(this.#core, groupIds, opts)
  }

  /** describeShareGroup describes one share group and throws its error (GROUP_ID_NOT_FOUND for a group that does not exist). */
  async describeShareGroup(group: string, opts: AdminOptions & { authorizedOperations?: boolean } = {}): Promise<share.ShareGroupDescription> {
    const [d] = await share.describeShareGroups(this.#core, [group], opts)
    if (d!.error !== null) throw d!.error
    return d!
  }

  /**
   * describeShareGroupOffsets returns share groups' start offsets and lag per partition (of every
   * topic the group holds state for, or of `topicPartitions`), one result per group with its error.
   */
  async describeShareGroupOffsets(groupIds: string[], topicPartitions?: offsets.TopicPartitionsArg, opts: AdminOptions = {}): Promise<share.ShareGroupOffsets[]> {
    return share.describeShareGroupOffsets(this.#core, groupIds, topicPartitions, opts)
  }

  /** alterShareGroupOffsets sets a share group's start offsets, one result per partition; it throws the group's error (NON_EMPTY_GROUP while it has members). */
  async alterShareGroupOffsets(group: string, startOffsets: { [topic: string]: { [partition: number]: bigint } }, opts: AdminOptions = {}): Promise<share.AlteredShareGroupOffset[]> {
    return share.alterShareGroupOffsets(this.#core, group, startOffsets, opts)
  }

  /**
   * resetShareGroupOffsets moves a share group's start offsets as resetOffsets moves a consumer group's
   * committed ones: only while it has no members, to the earliest or latest offsets, a time, an
   * offset, a shift or explicit offsets, kept inside each log; `dryRun` changes nothing.
   */
  async resetShareGroupOffsets(group: string, to: groups.OffsetResetSpec, opts: groups.ResetOffsetsOptions = {}): Promise<groups.ResetOffset[]> {
    return share.resetShareGroupOffsets(this.#core, group, to, opts)
  }

  /** deleteShareGroupOffsets deletes a share group's state for topics, one result per topic; it throws the group's error. */
  async deleteShareGroupOffsets(group: string, topicNames: string[], opts: AdminOptions = {}): Promise<share.DeletedShareGroupOffsets[]> {
    return share.deleteShareGroupOffsets(this.#core, group, topicNames, opts)
  }

  /** findGroupCoordinators returns the node id coordinating each group (kadm's FindGroupCoordinators). */
  async findGroupCoordinators(groupIds: string[], opts: AdminOptions = {}): Promise<Array<{ group: string; coordinator: number; error: KafkaWireError | null }>> {
    return (await this.#find(0, groupIds, opts)).map((r) => ({ group: r.key, coordinator: r.coordinator, error: r.error }))
  }

  /** findTxnCoordinators returns the node id coordinating each transactional id (kadm's FindTxnCoordinators). */
  async findTxnCoordinators(transactionalIds: string[], opts: AdminOptions = {}): Promise<Array<{ transactionalId: string; coordinator: number; error: KafkaWireError | null }>> {
    return (await this.#find(1, transactionalIds, opts)).map((r) => ({ transactionalId: r.key, coordinator: r.coordinator, error: r.error }))
  }

  async #find(type: 0 | 1, keys: string[], opts: AdminOptions): Promise<Array<{ key: string; coordinator: number; error: KafkaWireError | null }>> {
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k === '')) throw new InvalidArgumentError(type === 0 ? 'groupIds' : 'transactionalIds', 'must be an array of non-empty strings')
    return Promise.all(
      keys.map((key) =>
        this.#core.coordinator(type, key, opts.signal).then(
          (coordinator) => ({ key, coordinator, error: null }),
          (err: KafkaWireError) => ({ key, coordinator: -1, error: err }),
        ),
      ),
    )
  }

  // ---------------------------------------------------------------- configs

  /** describeConfigs describes configs of topics, brokers, broker loggers, groups or client-metrics resources, with sources (and synonyms, documentation when asked). */
  async describeConfigs(resources: configs.ConfigResource[], opts: configs.DescribeConfigsOptions = {}): Promise<configs.DescribedConfigs[]> {
    return configs.describeConfigs(this.#core, resources, opts)
  }

  /** describeTopicConfigs describes topics' configs, one result per topic. */
  async describeTopicConfigs(topicNames: string[], opts: configs.DescribeConfigsOptions = {}): Promise<configs.DescribedConfigs[]> {
    return configs.describeConfigs(this.#core, toResources('topic', topicNames), opts)
  }

  /** describeBrokerConfigs describes brokers' configs (no broker named: the cluster-wide dynamic defaults), one result per broker. */
  async describeBrokerConfigs(brokers: number[] = [], opts: configs.DescribeConfigsOptions = {}): Promise<configs.DescribedConfigs[]> {
    return configs.describeConfigs(this.#core, brokerResources(brokers), opts)
  }

  /** alterConfigs changes configs incrementally (set, delete, append, subtract; KIP-339), one result per resource. */
  async alterConfigs(resources: configs.AlterConfigsResource[], opts: configs.AlterConfigsOptions = {}): Promise<configs.AlteredConfigs[]> {
    return configs.alterConfigs(this.#core, resources, opts)
  }

  /** alterTopicConfigs applies the same incremental changes to topics, one result per topic. */
  async alterTopicConfigs(changes: configs.AlterConfig[], topicNames: string[], opts: configs.AlterConfigsOptions = {}): Promise<configs.AlteredConfigs[]> {
    return configs.alterConfigs(this.#core, toResources('topic', topicNames).map((r) => ({ ...r, configs: changes })), opts)
  }

  /** alterBrokerConfigs applies the same incremental changes to brokers (none named: the cluster-wide default), one result per broker. */
  async alterBrokerConfigs(changes: configs.AlterConfig[], brokers: number[] = [], opts: configs.AlterConfigsOptions = {}): Promise<configs.AlteredConfigs[]> {
    return configs.alterConfigs(this.#core, brokerResources(brokers).map((r) => ({ ...r, configs: changes })), opts)
  }

  /** alterConfigsState replaces resources' dynamic configs with the given set (AlterConfigs): configs left out go back to their defaults. */
  async alterConfigsState(resources: configs.ReplaceConfigsResource[], opts: configs.AlterConfigsOptions = {}): Promise<configs.AlteredConfigs[]> {
    return configs.alterConfigsState(this.#core, resources, opts)
  }

  // ---------------------------------------------------------------- ACLs and users

  /** createAcls creates ACLs, one result per ACL. */
  async createAcls(bindings: acls.AclBinding[], opts: AdminOptions = {}): Promise<acls.CreatedAcl[]> {
    return acls.createAcls(this.#core, bindings, opts)
  }

  /** describeAcls lists the ACLs a filter matches (every ACL for an empty filter). */
  async describeAcls(filter: acls.AclFilter = {}, opts: AdminOptions = {}): Promise<acls.DescribedAcl[]> {
    return acls.describeAcls(this.#core, filter, opts)
  }

  /** deleteAcls deletes the ACLs each filter matches and returns, per filter, the ACLs deleted. */
  async deleteAcls(filters: acls.AclFilter[], opts: AdminOptions = {}): Promise<acls.DeletedAcls[]> {
    return acls.deleteAcls(this.#core, filters, opts)
  }

  /** describeUserScrams describes users' SCRAM credentials (every user's when none is named), one result per user. */
  async describeUserScrams(userNames?: string[], opts: AdminOptions = {}): Promise<users.DescribedUser[]> {
    return users.describeUserScrams(this.#core, userNames, opts)
  }

  /**
   * alterUserScrams creates or replaces (`upserts`) and deletes (`deletions`) SCRAM credentials, one
   * result per user (a user's several changes go in successive requests, as the controller takes one per
   * user and request); passwords are salted and hashed here and never sent.
   */
  async alterUserScrams(changes: { upserts?: users.ScramUpsert[]; deletions?: users.ScramDeletion[] }, opts: AdminOptions = {}): Promise<users.AlteredUser[]> {
    return users.alterUserScrams(this.#core, changes, opts)
  }

  // ---------------------------------------------------------------- transactions

  /** listTransactions lists the transactions every coordinator knows, filtered by state, producer id, duration or id pattern. */
  async listTransactions(opts: txns.ListTransactionsOptions = {}): Promise<txns.ListedTransaction[]> {
    return txns.listTransactions(this.#core, opts)
  }

  /** describeTransactions describes transactions at their coordinators, one result per transactional id. */
  async describeTransactions(transactionalIds: string[], opts: AdminOptions = {}): Promise<txns.TransactionDescription[]> {
    return txns.describeTransactions(this.#core, transactionalIds, opts)
  }

  /** describeProducers describes the active producers of partitions (open transactions, sequences, epochs), one result per partition. */
  async describeProducers(topicPartitions: offsets.TopicPartitionsArg, opts: AdminOptions = {}): Promise<txns.PartitionProducers[]> {
    return txns.describeProducers(this.#core, topicPartitions, opts)
  }

  /**
   * writeTxnMarkers has partition leaders write commit or abort markers for producers' transactions:
   * an abort marker clears a hanging transaction (producer id and epochs from describeProducers).
   * Needs ClusterAction; one result per marker and partition.
   */
  async writeTxnMarkers(markers: txns.TxnMarkers[], opts: AdminOptions = {}): Promise<txns.TxnMarkerResult[]> {
    return txns.writeTxnMarkers(this.#core, markers, opts)
  }

  // ---------------------------------------------------------------- lifecycle

  /** close closes the admin's own client; an admin built over a Client leaves that client open. */
  async close(): Promise<void> {
    if (this.#owned) await this.#client.close()
  }
}

function brokerResources(brokers: number[]): configs.ConfigResource[] {
  if (!Array.isArray(brokers) || brokers.some((b) => !Number.isInteger(b) || b < 0)) throw new InvalidArgumentError('brokers', `must be an array of broker node ids, got ${JSON.stringify(brokers)}`)
  return brokers.length === 0 ? [{ type: 'broker', name: '' }] : brokers.map((b) => ({ type: 'broker', name: String(b) }))
}

function toResources(type: 'topic', names: string[]): configs.ConfigResource[] {
  if (!Array.isArray(names)) throw new InvalidArgumentError('topics', 'must be an array of topic names')
  return names.map((name) => ({ type, name }))
}
