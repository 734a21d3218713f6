/**
 * The cluster: its id, controller and brokers (DescribeCluster), each broker's API versions, the
 * finalized feature levels, log directories, leader elections, partition reassignments and client
 * quotas.
 */
import { ErrorCode } from '../protocol/error-codes.js'
import { KafkaProtocolError, KafkaWireError } from '../protocol/errors.js'
import { AlterClientQuotas } from '../protocol/messages/alter-client-quotas.js'
import { AlterPartitionReassignments } from '../protocol/messages/alter-partition-reassignments.js'
import { ApiVersions } from '../protocol/messages/api-versions.js'
import { DescribeClientQuotas } from '../protocol/messages/describe-client-quotas.js'
import { DescribeCluster } from '../protocol/messages/describe-cluster.js'
import { DescribeLogDirs } from '../protocol/messages/describe-log-dirs.js'
import { ElectLeaders } from '../protocol/messages/elect-leaders.js'
import { ListPartitionReassignments } from '../protocol/messages/list-partition-reassignments.js'
import { endsCall, type ClientCore } from '../client/core.js'
import { InvalidArgumentError, UnsupportedVersionError } from '../client/errors.js'
import { NAME, VERSION } from '../version.js'
import { authorizedOperationsOf, type AclOperation } from './acls.js'
import { byTopicPartition, partitionsOf, type TopicPartitionsArg } from './offsets.js'
import { brokerIds, CONTROLLER_RETRY, errorFor, loadMetadata, retryItems, sendAny, sendController, sendTo, type AdminOptions, type TimeoutOptions } from './util.js'

/** ClusterBroker is one broker of a described cluster. */
export interface ClusterBroker {
  nodeId: number
  host: string
  port: number
  rack: string | null
  /** fenced is true for a broker the controller fenced (asked for with includeFenced; DescribeCluster v2+). */
  fenced: boolean
}

/** ClusterDescription is what describeCluster returns. */
export interface ClusterDescription {
  clusterId: string
  /** controller is the node id the cluster names as its controller (-1 when none). */
  controller: number
  brokers: ClusterBroker[]
  /** authorizedOperations are what this client may do with the cluster, when asked for; null otherwise. */
  authorizedOperations: AclOperation[] | null
}

/** DescribeClusterOptions tune describeCluster. */
export interface DescribeClusterOptions extends AdminOptions {
  /** includeFenced lists fenced brokers too (DescribeCluster v2+). */
  includeFenced?: boolean
  /** authorizedOperations asks what this client may do with the cluster. */
  authorizedOperations?: boolean
}

/** BrokerApiVersions is one broker's API versions, beside kafka-wire's. */
export interface BrokerApiVersions {
  nodeId: number
  apis: Array<{
    key: number
    /** name is the API's name, or `Unknown(N)` for a key kafka-wire does not know. */
    name: string
    minVersion: number
    maxVersion: number
    /** version is the version kafka-wire uses with this broker (the highest both know), -1 when none. */
    version: number
  }>
  error: KafkaWireError | null
}

/** Features are the cluster's feature levels (KIP-584), as one broker reports them. */
export interface Features {
  /** epoch of the finalized levels, -1 when the broker reported none. */
  epoch: bigint
  /** finalized are the levels in effect, by feature name. */
  finalized: { [feature: string]: { minVersionLevel: number; maxVersionLevel: number } }
  /** supported are the ranges the broker supports, by feature name. */
  supported: { [feature: string]: { minVersion: number; maxVersion: number } }
}

/** LogDirPartition is one partition replica in a log directory. */
export interface LogDirPartition {
  topic: string
  partition: number
  /** size in bytes. */
  size: bigint
  /** offsetLag is how far the replica is behind the log end (a future replica being moved here). */
  offsetLag: bigint
  /** future is true for a replica being moved into this directory. */
  future: boolean
}

/** LogDir is one log directory of a broker. */
export interface LogDir {
  dir: string
  /** totalBytes and usableBytes of the directory's volume, -1 when not reported (DescribeLogDirs v4+). */
  totalBytes: bigint
  usableBytes: bigint
  partitions: LogDirPartition[]
  error: KafkaWireError | null
}

/** BrokerLogDirs is one broker's log directories. */
export interface BrokerLogDirs {
  nodeId: number
  dirs: LogDir[]
  error: KafkaWireError | null
}

/** ElectionType is 'preferred' (back to the first replica) or 'unclean' (any replica, even out of sync). */
export type ElectionType = 'preferred' | 'unclean'

/** ElectedLeader is one partition's result of electLeaders. */
export interface ElectedLeader {
  topic: string
  partition: number
  /** error is ELECTION_NOT_NEEDED when the leader already is the preferred one, PREFERRED_LEADER_NOT_AVAILABLE, …; null on success. */
  error: KafkaWireError | null
}

/** PartitionReassignment is one partition being reassigned. */
export interface PartitionReassignment {
  topic: string
  partition: number
  replicas: number[]
  adding: number[]
  removing: number[]
}

/** ReassignedPartition is one partition's result of alterPartitionAssignments. */
export interface ReassignedPartition {
  topic: string
  partition: number
  error: KafkaWireError | null
}

/** QuotaEntity names what a quota applies to: { user?, clientId?, ip? }; null for the default entity of that type. */
export type QuotaEntity = { [entityType: string]: string | null }

/** QuotaFilter selects quota entities: per entity type, an exact name, the default (null) or any ('any'). */
export interface QuotaFilter {
  components: Array<{ entityType: string; match?: string | null | 'any' }>
  /** strict matches only entities with exactly these entity types. */
  strict?: boolean
}

/** DescribedQuota is one entity's quotas. */
export interface DescribedQuota {
  entity: QuotaEntity
  values: { [key: string]: number }
}

/** QuotaAlteration sets (a number) or removes (null) quotas of one entity. */
export interface QuotaAlteration {
  entity: QuotaEntity
  ops: { [key: string]: number | null }
}

/** AlteredQuota is one entity's result of alterClientQuotas. */
export interface AlteredQuota {
  entity: QuotaEntity
  error: KafkaWireError | null
}

/** describeCluster describes the cluster (DescribeCluster, KIP-700; Metadata on brokers without it). */
export async function describeCluster(core: ClientCore, opts: DescribeClusterOptions = {}): Promise<ClusterDescription> {
  try {
    const res = await sendAny(
      core,
      DescribeCluster,
      (version) => {
        const req = DescribeCluster.newRequest()
        req.includeClusterAuthorizedOperations = opts.authorizedOperations === true
        if (version >= 2) req.includeFencedBrokers = opts.includeFenced === true
        return req
      },
      opts,
    )
    if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage, resource: 'cluster' })
    return {
      clusterId: res.clusterId,
      controller: res.controllerId,
      brokers: res.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack, fenced: b.isFenced })).sort((a, b) => a.nodeId - b.nodeId),
      authorizedOperations: authorizedOperationsOf(res.clusterAuthorizedOperations),
    }
  } catch (err) {
    if (!(err instanceof UnsupportedVersionError)) throw err
    const md = await loadMetadata(core, [], opts)
    return {
      clusterId: md.clusterId ?? '',
      controller: md.controllerId,
      brokers: md.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack, fenced: false })).sort((a, b) => a.nodeId - b.nodeId),
      authorizedOperations: null,
    }
  }
}

function apiVersionsRequest(version: number) {
  const req = ApiVersions.newRequest()
  if (version >= 3) {
    req.clientSoftwareName = NAME
    req.clientSoftwareVersion = VERSION
  }
  return req
}

/** apiVersions asks each broker (every broker when none is named) for its API versions. */
export async function apiVersions(core: ClientCore, brokers?: number[], opts: AdminOptions = {}): Promise<BrokerApiVersions[]> {
  const nodes = brokers ?? (await brokerIds(core, opts))
  // The table of every API is loaded here, when asked for, not with the admin client: a process
  // loads only the codecs of the APIs it uses.
  const { apiByKey } = await import('../protocol/messages/index.js')
  return Promise.all(
    nodes.map(async (nodeId): Promise<BrokerApiVersions> => {
      try {
        const res = await sendTo(core, nodeId, ApiVersions, apiVersionsRequest, opts)
        if (res.errorCode !== 0) return { nodeId, apis: [], error: errorFor(res.errorCode, { broker: nodeId }) }
        return {
          nodeId,
          error: null,
          apis: res.apiKeys
            .map((k) => {
              const ours = apiByKey(k.apiKey)
              const hi = ours === undefined ? -1 : Math.min(ours.maxVersion, k.maxVersion)
              const lo = ours === undefined ? 0 : Math.max(ours.minVersion, k.minVersion)
              return { key: k.apiKey, name: ours?.name ?? `Unknown(${k.apiKey})`, minVersion: k.minVersion, maxVersion: k.maxVersion, version: hi >= lo ? hi : -1 }
            })
            .sort((a, b) => a.key - b.key),
        }
      } catch (err) {
        if (err instanceof KafkaWireError && !endsCall(err)) return { nodeId, apis: [], error: err }
        throw err
      }
    }),
  )
}

/** describeFeatures reports the cluster's finalized feature levels and what a broker supports (from ApiVersions). */
export async function describeFeatures(core: ClientCore, opts: AdminOptions = {}): Promise<Features> {
  const res = await sendAny(core, ApiVersions, apiVersionsRequest, opts)
  if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { resource: 'features' })
  const finalized: Features['finalized'] = {}
  for (const f of res.finalizedFeatures) finalized[f.name] = { minVersionLevel: f.minVersionLevel, maxVersionLevel: f.maxVersionLevel }
  const supported: Features['supported'] = {}
  for (const f of res.supportedFeatures) supported[f.name] = { minVersion: f.minVersion, maxVersion: f.maxVersion }
  return { epoch: res.finalizedFeaturesEpoch, finalized, supported }
}

/**
 * describeLogDirs describes the log directories of brokers (every broker when none is named), with the
 * replicas of `topics` in them (every replica when none is named).
 */
export async function describeLogDirs(core: ClientCore, opts: AdminOptions & { brokers?: number[]; topics?: TopicPartitionsArg } = {}): Promise<BrokerLogDirs[]> {
  const nodes = opts.brokers ?? (await brokerIds(core, opts))
  const parts = opts.topics === undefined ? null : (await partitionsOf(core, opts.topics, opts)).parts
  return Promise.all(
    nodes.map(async (nodeId): Promise<BrokerLogDirs> => {
      try {
        const res = await sendTo(core, nodeId, DescribeLogDirs, () => ({ ...DescribeLogDirs.newRequest(), topics: parts === null ? null : [...parts].map(([topic, partitions]) => ({ topic, partitions })) }), opts)
        if (res.errorCode !== 0) return { nodeId, dirs: [], error: errorFor(res.errorCode, { broker: nodeId }) }
        return {
          nodeId,
          error: null,
          dirs: res.results.map((d) => ({
            dir: d.logDir,
            totalBytes: d.totalBytes,
            usableBytes: d.usableBytes,
            error: errorFor(d.errorCode, { broker: nodeId, resource: `log dir ${d.logDir}` }),
            partitions: d.topics
              .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, size: p.partitionSize, offsetLag: p.offsetLag, future: p.isFutureKey })))
              .sort(byTopicPartition),
          })),
        }
      } catch (err) {
        if (err instanceof KafkaWireError && !endsCall(err)) return { nodeId, dirs: [], error: err }
        throw err
      }
    }),
  )
}

/**
 * electLeaders elects leaders of partitions (every partition when none is named): 'preferred' moves
 * leadership back to each partition's first replica, 'unclean' lets an out-of-sync replica lead a
 * partition without a leader. One result per partition, sorted.
 */
export async function electLeaders(core: ClientCore, type: ElectionType, partitions?: TopicPartitionsArg, opts: TimeoutOptions = {}): Promise<ElectedLeader[]> {
  if (type !== 'preferred' && type !== 'unclean') throw new InvalidArgumentError('type', `must be 'preferred' or 'unclean', got ${JSON.stringify(type)}`)
  const parts = partitions === undefined ? null : (await partitionsOf(core, partitions, opts)).parts
  type R = { out: ElectedLeader[]; code: number; thrown?: unknown }
  const results = await retryItems<number, R>(
    core,
    [0],
    async (_, signal) => {
      const res = await sendController(
        core,
        ElectLeaders,
        (version) => {
          if (version < 1 && type === 'unclean') throw new UnsupportedVersionError(`the controller speaks ElectLeaders v${version}, which only elects preferred leaders`)
          const req = ElectLeaders.newRequest()
          req.electionType = type === 'preferred' ? 0 : 1
          req.timeoutMs = opts.timeout ?? 30_000
          req.topicPartitions = parts === null ? null : [...parts].map(([topic, ps]) => ({ topic, partitions: ps }))
          return req
        },
        signal ? { signal } : {},
      )
      if (res.errorCode !== 0) return new Map([[0, { out: [], code: res.errorCode }]])
      const out = res.replicaElectionResults.flatMap((t) => t.partitionResult.map((p) => ({ topic: t.topic, partition: p.partitionId, error: errorFor(p.errorCode, { topic: t.topic, partition: p.partitionId, errorMessage: p.errorMessage }) })))
      return new Map([[0, { out, code: 0 }]])
    },
    (r) => CONTROLLER_RETRY.has(r.code),
    (_, err) => ({ out: [], code: err instanceof KafkaProtocolError ? err.errorCode : -1, thrown: err }),
    { ...opts, between: () => core.metadata.refresh(true) },
  )
  const r = results.get(0)!
  if (r.thrown !== undefined) throw r.thrown
  if (r.code !== 0) throw new KafkaProtocolError(r.code, { resource: 'leader election' })
  return r.out.sort(byTopicPartition)
}

/** listPartitionReassignments lists the reassignments in progress (of `partitions`, or all), sorted. */
export async function listPartitionReassignments(core: ClientCore, partitions?: TopicPartitionsArg, opts: TimeoutOptions = {}): Promise<PartitionReassignment[]> {
  const parts = partitions === undefined ? null : (await partitionsOf(core, partitions, opts)).parts
  const res = await sendController(
    core,
    ListPartitionReassignments,
    () => ({ ...ListPartitionReassignments.newRequest(), timeoutMs: opts.timeout ?? 30_000, topics: parts === null ? null : [...parts].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) }),
    opts,
  )
  if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage, resource: 'partition reassignments' })
  return res.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas, adding: p.addingReplicas, removing: p.removingReplicas }))).sort(byTopicPartition)
}

/**
 * alterPartitionAssignments moves partitions to new replicas (`{ topic: { partition: [broker ids] } }`),
 * or cancels a reassignment in progress (null). One result per partition, sorted.
 */
export async function alterPartitionAssignments(core: ClientCore, reassignments: { [topic: string]: { [partition: number]: number[] | null } }, opts: TimeoutOptions = {}): Promise<ReassignedPartition[]> {
  if (typeof reassignments !== 'object' || reassignments === null) throw new InvalidArgumentError('reassignments', 'must be { topic: { partition: [broker ids] | null } }')
  const topics = Object.entries(reassignments).map(([name, ps]) => ({
    name,
    partitions: Object.entries(ps).map(([p, replicas]) => {
      if (replicas !== null && (!Array.isArray(replicas) || replicas.some((r) => !Number.isInteger(r)))) throw new InvalidArgumentError(`reassignments.${name}.${p}`, 'must be a list of broker ids, or null to cancel')
      return { partitionIndex: Number(p), replicas }
    }),
  }))
  const res = await sendController(core, AlterPartitionReassignments, () => ({ ...AlterPartitionReassignments.newRequest(), timeoutMs: opts.timeout ?? 30_000, topics }), opts)
  if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage, resource: 'partition reassignments' })
  return res.responses.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, error: errorFor(p.errorCode, { topic: t.name, partition: p.partitionIndex, errorMessage: p.errorMessage }) }))).sort(byTopicPartition)
}

const MATCH_EXACT = 0
const MATCH_DEFAULT = 1
const MATCH_ANY = 2

/** describeClientQuotas lists the quotas of the entities a filter matches (KIP-546). */
export async function describeClientQuotas(core: ClientCore, filter: QuotaFilter, opts: AdminOptions = {}): Promise<DescribedQuota[]> {
  if (typeof filter !== 'object' || filter === null || !Array.isArray(filter.components)) throw new InvalidArgumentError('filter', 'must be { components: [{ entityType, match }] }')
  const res = await sendAny(
    core,
    DescribeClientQuotas,
    () => ({
      ...DescribeClientQuotas.newRequest(),
      strict: filter.strict === true,
      components: filter.components.map((c) => ({ entityType: c.entityType, matchType: c.match === 'any' || c.match === undefined ? MATCH_ANY : c.match === null ? MATCH_DEFAULT : MATCH_EXACT, match: c.match === 'any' || c.match === undefined ? null : c.match })),
    }),
    opts,
  )
  if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage, resource: 'client quotas' })
  return (res.entries ?? []).map((e) => ({ entity: Object.fromEntries(e.entity.map((x) => [x.entityType, x.entityName])), values: Object.fromEntries(e.values.map((v) => [v.key, v.value])) }))
}

/** alterClientQuotas sets or removes quotas of entities (KIP-546), one result per entity in the order given. */
export async function alterClientQuotas(core: ClientCore, alterations: QuotaAlteration[], opts: AdminOptions & { validateOnly?: boolean } = {}): Promise<AlteredQuota[]> {
  if (!Array.isArray(alterations)) throw new InvalidArgumentError('alterations', 'must be an array of { entity, ops }')
  const entries = alterations.map((a, i) => {
    if (typeof a?.entity !== 'object' || a.entity === null || Object.keys(a.entity).length === 0) throw new InvalidArgumentError(`alterations[${i}].entity`, 'must name at least one entity type, e.g. { user: "alice" }')
    return {
      entity: Object.entries(a.entity).map(([entityType, entityName]) => ({ entityType, entityName })),
      ops: Object.entries(a.ops ?? {}).map(([key, value]) => {
        if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) throw new InvalidArgumentError(`alterations[${i}].ops.${key}`, 'must be a number, or null to remove the quota')
        return { key, value: value ?? 0, remove: value === null }
      }),
    }
  })
  if (entries.length === 0) return []
  const res = await sendAny(core, AlterClientQuotas, () => ({ ...AlterClientQuotas.newRequest(), validateOnly: opts.validateOnly === true, entries }), opts)
  const key = (e: Array<{ entityType: string; entityName: string | null }>) =>
    e
      .map((x) => `${x.entityType}=${x.entityName ?? '<default>'}`)
      .sort()
      .join(',')
  const byKey = new Map(res.entries.map((e) => [key(e.entity), e]))
  return alterations.map((a, i) => {
    const e = byKey.get(key(entries[i]!.entity))
    const label = `quota ${key(entries[i]!.entity)}`
    return { entity: a.entity, error: e === undefined ? new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { resource: label, errorMessage: 'the broker did not answer for this entity' }) : errorFor(e.errorCode, { resource: label, errorMessage: e.errorMessage }) }
  })
}
