/**
 * Groups, classic and KIP-848 consumer groups: list, describe (members and their assignments decoded),
 * delete, remove members, and their offsets: fetch, commit, delete, reset (as kafka-consumer-groups
 * resets them, refused while the group has members) and lag. Every request about a group goes to the
 * group's coordinator, one request per coordinator for many groups where the API carries many.
 */
import { ErrorCode } from '../protocol/error-codes.js'
import { KafkaProtocolError, type KafkaWireError } from '../protocol/errors.js'
import { ConsumerGroupDescribe } from '../protocol/messages/consumer-group-describe.js'
import { DeleteGroups } from '../protocol/messages/delete-groups.js'
import { DescribeGroups } from '../protocol/messages/describe-groups.js'
import { LeaveGroup } from '../protocol/messages/leave-group.js'
import { ListGroups, type ListGroupsResponse } from '../protocol/messages/list-groups.js'
import { OffsetCommit } from '../protocol/messages/offset-commit.js'
import { OffsetDelete } from '../protocol/messages/offset-delete.js'
import { OffsetFetch, type OffsetFetchRequest } from '../protocol/messages/offset-fetch.js'
import { ZERO_UUID } from '../protocol/reader.js'
import type { ClientCore } from '../client/core.js'
import { GroupNotEmptyError, InvalidArgumentError, UnsupportedVersionError } from '../client/errors.js'
import { decodeAssignment, decodeSubscription } from '../client/consumer/balancers/protocol.js'
import { authorizedOperationsOf, type AclOperation } from './acls.js'
import { byTopicPartition, listEndOffsets, listOffsetsAfterMilli, listStartOffsets, partitionsOf, type TopicPartitionsArg } from './offsets.js'
import {
  brokerIds,
  byCoordinator,
  errorFor,
  groupCall,
  onNode,
  partitionKey,
  retryItems,
  topicIds,
  topicNames,
  versionOn,
  type AdminOptions,
} from './util.js'

/** TopicPartitionList lists partitions grouped by topic. */
export type TopicPartitionList = Array<{ topic: string; partitions: number[] }>

/** ListedGroup is one group as a broker lists it. */
export interface ListedGroup {
  group: string
  /** protocolType is 'consumer' for consumer groups, '' for groups that only commit offsets, or another protocol (connect, …). */
  protocolType: string
  /** state is Empty, Stable, PreparingRebalance, CompletingRebalance, Assigning, Reconciling, Dead, … ('' before ListGroups v4). */
  state: string
  /** type is 'classic', 'consumer' (KIP-848), 'share' or 'streams' ('' before ListGroups v5). */
  type: string
  /** coordinator is the node id of the broker coordinating the group. */
  coordinator: number
}

/** ListGroupsOptions filter listGroups. */
export interface ListGroupsOptions extends AdminOptions {
  /** states keeps groups in these states (case-insensitive), e.g. ['Stable', 'Empty']. */
  states?: string[]
  /** types keeps groups of these types, e.g. ['consumer']. */
  types?: string[]
}

/** GroupMemberDescription is one member of a described group. */
export interface GroupMemberDescription {
  memberId: string
  /** instanceId is the static member's group.instance.id (KIP-345), or null. */
  instanceId: string | null
  clientId: string
  clientHost: string
  /** rackId is the member's rack (KIP-848 groups), null when it has none or the group is classic. */
  rackId: string | null
  /** subscribedTopics are the topics the member subscribes to, as its subscription says; null when not decodable. */
  subscribedTopics: string[] | null
  /** subscribedRegex is the member's subscription regex (KIP-848 groups), null when none. */
  subscribedRegex: string | null
  /** assignment is the partitions the member owns (decoded), [] for a group that is not a consumer group. */
  assignment: TopicPartitionList
  /** targetAssignment is what the member is moving to (KIP-848 groups); null for classic groups. */
  targetAssignment: TopicPartitionList | null
  /** memberEpoch is the member's epoch (KIP-848), -1 for classic groups. */
  memberEpoch: number
  /** metadata and assignmentBytes are a classic member's raw protocol bytes (empty for KIP-848 groups). */
  metadata: Buffer
  assignmentBytes: Buffer
}

/** GroupDescription is one group described by its coordinator. */
export interface GroupDescription {
  group: string
  /** coordinator is the node id of the group's coordinator (-1 when it could not be found). */
  coordinator: number
  /** state is Empty, Stable, PreparingRebalance, CompletingRebalance, Dead (classic); Empty, Assigning, Reconciling, Stable, Dead (consumer). */
  state: string
  /** type is 'classic' or 'consumer' (KIP-848). */
  type: 'classic' | 'consumer'
  /** protocolType is 'consumer' for consumer groups ('' for groups that only commit offsets). */
  protocolType: string
  /** protocol is the classic group's chosen protocol (its assignor, e.g. 'cooperative-sticky'), or a KIP-848 group's server assignor. */
  protocol: string
  /** groupEpoch and assignmentEpoch are a KIP-848 group's epochs, -1 for classic groups. */
  groupEpoch: number
  assignmentEpoch: number
  members: GroupMemberDescription[]
  /** authorizedOperations are what this client may do with the group; null when not known. */
  authorizedOperations: AclOperation[] | null
  /** error is the group's error (GROUP_ID_NOT_FOUND for a group that does not exist, GROUP_AUTHORIZATION_FAILED, …), null on success. */
  error: KafkaWireError | null
}

/** DeletedGroup is one group's result of deleteGroups. */
export interface DeletedGroup {
  group: string
  /** error is NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, … or null on success. */
  error: KafkaWireError | null
}

/** MemberToRemove names a member to remove from a group: a static member by instance id, or any member by id. */
export type MemberToRemove = { instanceId: string; memberId?: string } | { memberId: string; instanceId?: undefined }

/** RemovedMember is one member's result of leaveGroup. */
export interface RemovedMember {
  memberId: string
  instanceId: string | null
  error: KafkaWireError | null
}

/** CommittedOffset is one partition's committed offset. */
export interface CommittedOffset {
  topic: string
  partition: number
  /** offset is the committed offset, -1 when the group has committed none for the partition. */
  offset: bigint
  /** leaderEpoch is the leader epoch committed with the offset, -1 when unknown. */
  leaderEpoch: number
  /** metadata is the commit's metadata string. */
  metadata: string | null
  error: KafkaWireError | null
}

/** FetchedOffsets is one group's committed offsets. */
export interface FetchedOffsets {
  group: string
  offsets: CommittedOffset[]
  /** error is the group's error (GROUP_AUTHORIZATION_FAILED, …), null on success. */
  error: KafkaWireError | null
}

/** FetchOffsetsOptions tune fetchOffsets. */
export interface FetchOffsetsOptions extends AdminOptions {
  /** requireStable waits for offsets that pending transactions are committing (KIP-447) instead of failing with UNSTABLE_OFFSET_COMMIT. Default true. */
  requireStable?: boolean
}

/** OffsetToCommit is one partition's offset to commit. */
export interface OffsetToCommit {
  topic: string
  partition: number
  offset: bigint
  /** leaderEpoch of the record before `offset`, -1 (the default) when unknown. */
  leaderEpoch?: number
  metadata?: string | null
}

/** CommittedResult is one partition's result of commitOffsets or deleteOffsets. */
export interface CommittedResult {
  topic: string
  partition: number
  /** offset is the offset committed (-1 for deleteOffsets). */
  offset: bigint
  error: KafkaWireError | null
}

/**
 * OffsetResetSpec says where resetOffsets moves a group, as kafka-consumer-groups' --to-earliest,
 * --to-latest, --to-datetime, --to-offset, --shift-by and --from-file do: offsets outside a
 * partition's log are moved to its start or end.
 */
export type OffsetResetSpec =
  | 'earliest'
  | 'latest'
  | { timestamp: number }
  | { offset: bigint }
  | { shiftBy: number }
  | { offsets: { [topic: string]: { [partition: number]: bigint } } }

/** ResetOffsetsOptions tune resetOffsets. */
export interface ResetOffsetsOptions extends AdminOptions {
  /** topics to reset: names (all their partitions) or `{ topic: [partitions] }`. Default: every topic the group has committed offsets for. */
  topics?: TopicPartitionsArg
  /** dryRun computes the new offsets without committing them (kafka-consumer-groups --dry-run). */
  dryRun?: boolean
}

/** ResetOffset is one partition's result of resetOffsets. */
export interface ResetOffset {
  topic: string
  partition: number
  /** previous is the offset committed before, null when there was none. */
  previous: bigint | null
  /** offset is the new offset (committed unless dryRun). */
  offset: bigint
  error: KafkaWireError | null
}

/** PartitionLag is one partition of a group's lag, as kafka-consumer-groups --describe shows it. */
export interface PartitionLag {
  topic: string
  partition: number
  /** committed is the group's committed offset, null when it has none ("-" in kafka-consumer-groups). */
  committed: bigint | null
  /** start and end are the partition's log start offset and high watermark. */
  start: bigint
  end: bigint
  /**
   * lag is end minus committed; with no commit, end minus start (every record is unread), as kadm
   * computes it. kafka-consumer-groups prints "-" there; `committed === null` tells the two apart.
   */
  lag: bigint
  /** memberId, instanceId, clientId and host are the member the partition is assigned to, null when none. */
  memberId: string | null
  instanceId: string | null
  clientId: string | null
  host: string | null
  /** error is the partition's error (from its commit or its offsets), null when none. */
  error: KafkaWireError | null
}

/** GroupLag is one group's lag: per partition, per topic and in total. */
export interface GroupLag {
  group: string
  state: string
  type: 'classic' | 'consumer'
  coordinator: number
  members: number
  /** partitions assigned to a member or with a committed offset, sorted by topic and partition. */
  partitions: PartitionLag[]
  /** topics sums the lag of each topic. */
  topics: { [topic: string]: bigint }
  /** total sums every partition's lag. */
  total: bigint
  /** error is the group's error (it could not be described or its offsets not fetched), null when none. */
  error: KafkaWireError | null
}

// ---------------------------------------------------------------- list

/**
 * listGroups asks every broker for the groups it coordinates and returns them all, sorted by name,
 * filtered by state and type (by the brokers where they support it, here too). It throws when a broker
 * cannot answer: a partial list would look complete.
 */
export async function listGroups(core: ClientCore, opts: ListGroupsOptions = {}): Promise<ListedGroup[]> {
  const states = opts.states?.map((s) => s.toLowerCase())
  const types = opts.types?.map((s) => s.toLowerCase())
  const nodes = await brokerIds(core, opts)
  type R = { r: ListGroupsResponse | null; error: KafkaWireError | null }
  const perBroker = await Promise.all(
    nodes.map(async (node): Promise<ListedGroup[]> => {
      const res = await retryItems<number, R>(
        core,
        [node],
        async (_, signal) => {
          const r = await onNode(
            core,
            node,
            'other',
            ListGroups,
            (version) => {
              const req = ListGroups.newRequest()
              if (version >= 4 && opts.states !== undefined) req.statesFilter = opts.states
              if (version >= 5 && opts.types !== undefined) req.typesFilter = opts.types
              return req
            },
            signal,
          )
          return new Map([[node, { r, error: errorFor(r.errorCode, { broker: node }) }]])
        },
        (x) => x.error instanceof KafkaProtocolError && x.error.retriable,
        (_, err) => ({ r: null, error: err as KafkaWireError }),
        opts,
      )
      const x = res.get(node)!
      if (x.error !== null || x.r === null) throw x.error
      return x.r.groups.map((g) => ({ group: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType, coordinator: node }))
    }),
  )
  return perBroker
    .flat()
    .filter((g) => (states === undefined || g.state === '' || states.includes(g.state.toLowerCase())) && (types === undefined || g.type === '' || types.includes(g.type.toLowerCase())))
    .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
}

// ---------------------------------------------------------------- describe

/** checkGroups checks an array of group ids, InvalidArgumentError naming `what` otherwise. */
export function checkGroups(groups: unknown, what = 'groups'): string[] {
  if (!Array.isArray(groups)) throw new InvalidArgumentError(what, 'must be an array of group ids')
  groups.forEach((g, i) => {
    if (typeof g !== 'string' || g === '') throw new InvalidArgumentError(`${what}[${i}]`, `must be a group id, got ${JSON.stringify(g)}`)
  })
  return groups as string[]
}

/** checkGroup checks one group id, InvalidArgumentError naming `group` otherwise. */
export function checkGroup(group: unknown): string {
  if (typeof group !== 'string' || group === '') throw new InvalidArgumentError('group', `must be a group id, got ${JSON.stringify(group)}`)
  return group
}

const deadGroup = (group: string, coordinator: number, error: KafkaWireError | null): GroupDescription => ({
  group,
  coordinator,
  state: 'Dead',
  type: 'classic',
  protocolType: '',
  protocol: '',
  groupEpoch: -1,
  assignmentEpoch: -1,
  members: [],
  authorizedOperations: null,
  error,
})

/** partitionsList sorts topics' partitions into a TopicPartitionList (by topic name, then partition). */
export function partitionsList(tps: Array<{ topic?: string; topicName?: string; partitions: number[] }>): TopicPartitionList {
  return tps
    .map((t) => ({ topic: t.topic ?? t.topicName ?? '', partitions: [...t.partitions].sort((a, b) => a - b) }))
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
}

/**
 * describeGroups describes groups, one result per group in the order given. Each coordinator gets one
 * ConsumerGroupDescribe for its groups (KIP-848 consumer groups), then one DescribeGroups for those
 * that are classic (or do not exist: state Dead, error GROUP_ID_NOT_FOUND).
 */
export async function describeGroups(core: ClientCore, groups: string[], opts: AdminOptions & { authorizedOperations?: boolean } = {}): Promise<GroupDescription[]> {
  checkGroups(groups)
  const withOps = opts.authorizedOperations === true
  const results = await byCoordinator(
    core,
    0,
    groups,
    async (node, keys, signal) => {
      const out = new Map<string, GroupDescription>()
      let classic = keys
      let cgd = null
      try {
        cgd = await onNode(core, node, 'group', ConsumerGroupDescribe, () => ({ ...ConsumerGroupDescribe.newRequest(), groupIds: keys, includeAuthorizedOperations: withOps }), signal)
      } catch (err) {
        // A broker without KIP-848 describes every group with DescribeGroups.
        if (!(err instanceof UnsupportedVersionError)) throw err
      }
      if (cgd !== null) {
        classic = []
        for (const g of cgd.groups) {
          if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND || g.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
            classic.push(g.groupId)
            continue
          }
          out.set(g.groupId, {
            group: g.groupId,
            coordinator: node,
            state: g.groupState,
            type: 'consumer',
            protocolType: 'consumer',
            protocol: g.assignorName,
            groupEpoch: g.groupEpoch,
            assignmentEpoch: g.assignmentEpoch,
            authorizedOperations: authorizedOperationsOf(g.authorizedOperations),
            error: errorFor(g.errorCode, { group: g.groupId, broker: node, errorMessage: g.errorMessage }),
            members: g.members.map((m) => ({
              memberId: m.memberId,
              instanceId: m.instanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              rackId: m.rackId,
              subscribedTopics: m.subscribedTopicNames,
              subscribedRegex: m.subscribedTopicRegex === '' ? null : m.subscribedTopicRegex,
              assignment: partitionsList(m.assignment.topicPartitions),
              targetAssignment: partitionsList(m.targetAssignment.topicPartitions),
              memberEpoch: m.memberEpoch,
              metadata: Buffer.alloc(0),
              assignmentBytes: Buffer.alloc(0),
            })),
          })
        }
        for (const k of keys) if (!out.has(k) && !classic.includes(k)) classic.push(k)
      }
      if (classic.length > 0) {
        const dg = await onNode(core, node, 'group', DescribeGroups, (version) => ({ ...DescribeGroups.newRequest(), groups: classic, includeAuthorizedOperations: withOps && version >= 3 }), signal)
        for (const g of dg.groups) {
          const error = errorFor(g.errorCode, { group: g.groupId, broker: node, errorMessage: g.errorMessage })
          if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND || (g.errorCode === 0 && g.groupState === 'Dead')) {
            out.set(g.groupId, deadGroup(g.groupId, node, error ?? errorFor(ErrorCode.GROUP_ID_NOT_FOUND, { group: g.groupId, broker: node })))
            continue
          }
          const isConsumer = g.protocolType === 'consumer'
          out.set(g.groupId, {
            group: g.groupId,
            coordinator: node,
            state: g.groupState,
            type: 'classic',
            protocolType: g.protocolType,
            protocol: g.protocolData,
            groupEpoch: -1,
            assignmentEpoch: -1,
            authorizedOperations: authorizedOperationsOf(g.authorizedOperations),
            error,
            members: g.members.map((m) => {
              let subscribedTopics: string[] | null = null
              let assignment: TopicPartitionList = []
              if (isConsumer) {
                try {
                  if (m.memberMetadata.length > 0) subscribedTopics = decodeSubscription(m.memberMetadata).topics
                } catch {
                  subscribedTopics = null
                }
                try {
                  if (m.memberAssignment.length > 0) assignment = partitionsList(decodeAssignment(m.memberAssignment).assignedPartitions)
                } catch {
                  assignment = []
                }
              }
              return {
                memberId: m.memberId,
                instanceId: m.groupInstanceId,
                clientId: m.clientId,
                clientHost: m.clientHost,
                rackId: null,
                subscribedTopics,
                subscribedRegex: null,
                assignment,
                targetAssignment: null,
                memberEpoch: -1,
                metadata: m.memberMetadata,
                assignmentBytes: m.memberAssignment,
              }
            }),
          })
        }
      }
      return out
    },
    (d) => (d.error instanceof KafkaProtocolError ? d.error.errorCode : 0),
    (group, err) => deadGroup(group, -1, err as KafkaWireError),
    opts,
  )
  return groups.map((g) => results.get(g)!)
}

// ---------------------------------------------------------------- delete, leave

/** deleteGroups deletes groups (which must be empty), one result per group in the order given. */
export async function deleteGroups(core: ClientCore, groups: string[], opts: AdminOptions = {}): Promise<DeletedGroup[]> {
  checkGroups(groups)
  const results = await byCoordinator(
    core,
    0,
    groups,
    async (node, keys, signal) => {
      const res = await onNode(core, node, 'group', DeleteGroups, () => ({ ...DeleteGroups.newRequest(), groupsNames: keys }), signal)
      return new Map(res.results.map((r): [string, DeletedGroup] => [r.groupId, { group: r.groupId, error: errorFor(r.errorCode, { group: r.groupId, broker: node, errorMessage: r.errorMessage }) }]))
    },
    (d) => (d.error instanceof KafkaProtocolError ? d.error.errorCode : 0),
    (group, err) => ({ group, error: err as KafkaWireError }),
    opts,
  )
  return groups.map((g) => results.get(g)!)
}

/**
 * leaveGroup removes members from a group (KIP-345's LeaveGroup v3+): static members by instance id,
 * others by member id. It returns one result per member and throws the group's own error.
 */
export async function leaveGroup(core: ClientCore, group: string, members: MemberToRemove[], opts: AdminOptions & { reason?: string } = {}): Promise<RemovedMember[]> {
  checkGroup(group)
  if (!Array.isArray(members) || members.length === 0) throw new InvalidArgumentError('members', 'must list at least one member, by { instanceId } or { memberId }')
  const ms = members.map((m, i) => {
    const instanceId = typeof m?.instanceId === 'string' && m.instanceId !== '' ? m.instanceId : null
    const memberId = typeof m?.memberId === 'string' ? m.memberId : ''
    if (instanceId === null && memberId === '') throw new InvalidArgumentError(`members[${i}]`, 'needs an instanceId or a memberId')
    return { memberId, groupInstanceId: instanceId, reason: opts.reason ?? null }
  })
  return groupCall(
    core,
    group,
    async (node, signal) => {
      const res = await onNode(
        core,
        node,
        'group',
        LeaveGroup,
        (version) => {
          if (version < 3) throw new UnsupportedVersionError(`the coordinator of group ${group} speaks LeaveGroup v${version}, which cannot remove other members (v3+ can)`, { broker: node })
          return { ...LeaveGroup.newRequest(), groupId: group, members: ms.map((m) => ({ ...m, reason: version >= 5 ? m.reason : null })) }
        },
        signal,
      )
      return {
        error: errorFor(res.errorCode, { group, broker: node }),
        res: res.members.map((m) => ({ memberId: m.memberId, instanceId: m.groupInstanceId, error: errorFor(m.errorCode, { group, broker: node, resource: `member ${m.groupInstanceId ?? m.memberId}` }) })),
      }
    },
    opts,
  )
}

// ---------------------------------------------------------------- offsets

/**
 * fetchManyOffsets fetches the committed offsets of groups (every topic, or only `topics`), one
 * result per group in the order given: one OffsetFetch per coordinator where the coordinator speaks
 * v8+ (KIP-709), one per group before. Offsets are sorted by topic and partition.
 */
export async function fetchManyOffsets(core: ClientCore, groups: string[], topics: TopicPartitionsArg | undefined, opts: FetchOffsetsOptions = {}): Promise<FetchedOffsets[]> {
  checkGroups(groups)
  // Topic names asked for become partitions (OffsetFetch lists partitions) and, for v10, ids.
  let parts: Map<string, number[]> | null = null
  if (topics !== undefined) parts = (await partitionsOf(core, topics, opts)).parts
  const ids = parts === null ? new Map<string, string>() : await topicIds(core, parts.keys(), opts.signal)
  const requireStable = opts.requireStable !== false
  const results = await byCoordinator(
    core,
    0,
    groups,
    async (node, keys, signal) => {
      const version = await versionOn(core, node, 'group', OffsetFetch, signal)
      const batches = version >= 8 ? [keys] : keys.map((k) => [k])
      const out = new Map<string, FetchedOffsets>()
      await Promise.all(
        batches.map(async (batch) => {
          const res = await onNode(
            core,
            node,
            'group',
            OffsetFetch,
            (v): OffsetFetchRequest => {
              const req = OffsetFetch.newRequest()
              if (v >= 7) req.requireStable = requireStable
              const ts = parts === null ? null : [...parts]
              if (v <= 7) {
                req.groupId = batch[0]!
                req.topics = ts === null ? null : ts.map(([name, ps]) => ({ name, partitionIndexes: ps }))
              } else {
                req.groups = batch.map((groupId) => ({
                  groupId,
                  memberId: null,
                  memberEpoch: -1,
                  topics: ts === null ? null : ts.map(([name, ps]) => (v >= 10 ? { name: '', topicId: ids.get(name) ?? ZERO_UUID, partitionIndexes: ps } : { name, topicId: ZERO_UUID, partitionIndexes: ps })),
                }))
              }
              return req
            },
            signal,
          )
          const answered = res.groups.length > 0 ? res.groups : [{ groupId: batch[0]!, errorCode: res.errorCode, topics: res.topics.map((t) => ({ ...t, topicId: ZERO_UUID })) }]
          const unnamed = answered.flatMap((g) => g.topics.filter((t) => t.name === '').map((t) => t.topicId))
          const names = unnamed.length > 0 ? await topicNames(core, unnamed, signal) : new Map<string, string>()
          for (const g of answered) {
            const offsets: CommittedOffset[] = []
            for (const t of g.topics) {
              const topic = t.name || names.get(t.topicId) || t.topicId
              for (const p of t.partitions) {
                offsets.push({ topic, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata, error: errorFor(p.errorCode, { group: g.groupId, topic, partition: p.partitionIndex }) })
              }
            }
            out.set(g.groupId, { group: g.groupId, offsets: offsets.sort(byTopicPartition), error: errorFor(g.errorCode, { group: g.groupId, broker: node }) })
          }
        }),
      )
      return out
    },
    (r) => (r.error instanceof KafkaProtocolError ? r.error.errorCode : 0),
    (group, err) => ({ group, offsets: [], error: err as KafkaWireError }),
    opts,
  )
  return groups.map((g) => results.get(g)!)
}

/**
 * fetchOffsets fetches a group's committed offsets (every topic, or only `topics`), sorted by topic
 * and partition; it throws the group's error. Partitions asked about without a commit have offset -1.
 */
export async function fetchOffsets(core: ClientCore, group: string, topics?: TopicPartitionsArg, opts: FetchOffsetsOptions = {}): Promise<CommittedOffset[]> {
  checkGroup(group)
  const [r] = await fetchManyOffsets(core, [group], topics, opts)
  if (r!.error !== null) throw r!.error
  return r!.offsets
}

/** offsetsList flattens offsets given as a list or as `{ topic: { partition: offset } }`, checking each. */
export function offsetsList(offsets: OffsetToCommit[] | { [topic: string]: { [partition: number]: bigint } }): OffsetToCommit[] {
  const list: OffsetToCommit[] = Array.isArray(offsets)
    ? offsets
    : Object.entries(offsets).flatMap(([topic, ps]) => Object.entries(ps).map(([p, offset]) => ({ topic, partition: Number(p), offset })))
  list.forEach((o, i) => {
    if (typeof o !== 'object' || o === null || typeof o.topic !== 'string' || o.topic === '') throw new InvalidArgumentError(`offsets[${i}].topic`, 'must be a topic name')
    if (!Number.isInteger(o.partition) || o.partition < 0) throw new InvalidArgumentError(`offsets[${i}].partition`, `must be a partition number, got ${o.partition}`)
    if (typeof o.offset !== 'bigint' || o.offset < 0n) throw new InvalidArgumentError(`offsets[${i}].offset`, `must be an offset as a non-negative bigint, got ${typeof o.offset === 'bigint' ? `${o.offset}n` : JSON.stringify(o.offset)}`)
  })
  return list
}

/**
 * commitOffsets commits offsets for a group from outside it (generation -1, no member id): one result
 * per partition, sorted by topic and partition. A group with members refuses such commits
 * (UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION per partition); resetOffsets checks that first.
 */
export async function commitOffsets(core: ClientCore, group: string, offsets: OffsetToCommit[] | { [topic: string]: { [partition: number]: bigint } }, opts: AdminOptions = {}): Promise<CommittedResult[]> {
  checkGroup(group)
  const list = offsetsList(offsets)
  if (list.length === 0) return []
  const ids = await topicIds(core, list.map((o) => o.topic), opts.signal)
  const byTopic = new Map<string, OffsetToCommit[]>()
  for (const o of list) {
    let a = byTopic.get(o.topic)
    if (a === undefined) byTopic.set(o.topic, (a = []))
    a.push(o)
  }
  type R = { res: CommittedResult[]; code: number }
  const results = await byCoordinator<R>(
    core,
    0,
    [group],
    async (node, _keys, signal) => {
      const res = await onNode(
        core,
        node,
        'group',
        OffsetCommit,
        (version) => {
          const req = OffsetCommit.newRequest()
          req.groupId = group
          req.generationIdOrMemberEpoch = -1
          req.memberId = ''
          req.topics = [...byTopic].map(([name, os]) => ({
            name: version >= 10 ? '' : name,
            topicId: version >= 10 ? (ids.get(name) ?? ZERO_UUID) : ZERO_UUID,
            partitions: os.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch ?? -1, committedMetadata: o.metadata ?? null })),
          }))
          return req
        },
        signal,
      )
      const nameOf = new Map([...ids].map(([n, id]) => [id, n]))
      const out: CommittedResult[] = []
      let code = 0
      for (const t of res.topics) {
        const topic = t.name || nameOf.get(t.topicId) || t.topicId
        for (const p of t.partitions) {
          if (code === 0 && p.errorCode !== 0) code = p.errorCode
          const o = byTopic.get(topic)?.find((x) => x.partition === p.partitionIndex)
          out.push({ topic, partition: p.partitionIndex, offset: o?.offset ?? -1n, error: errorFor(p.errorCode, { group, topic, partition: p.partitionIndex, broker: node }) })
        }
      }
      return new Map([[group, { res: out, code }]])
    },
    (r) => r.code,
    (_, err) => ({ res: list.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, error: err as KafkaWireError })), code: err instanceof KafkaProtocolError ? err.errorCode : 0 }),
    opts,
  )
  return results.get(group)!.res.sort(byTopicPartition)
}

/**
 * deleteOffsets deletes a group's committed offsets of partitions (KIP-496), one result per partition;
 * the broker refuses partitions of topics the group is subscribed to (GROUP_SUBSCRIBED_TO_TOPIC). It
 * throws the group's error (GROUP_ID_NOT_FOUND, …).
 */
export async function deleteOffsets(core: ClientCore, group: string, partitions: TopicPartitionsArg, opts: AdminOptions = {}): Promise<CommittedResult[]> {
  checkGroup(group)
  const { parts } = await partitionsOf(core, partitions, opts)
  if (parts.size === 0) return []
  const res = await groupCall(
    core,
    group,
    async (node, signal) => {
      const res = await onNode(core, node, 'group', OffsetDelete, () => ({ ...OffsetDelete.newRequest(), groupId: group, topics: [...parts].map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex })) })) }), signal)
      const out = res.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: -1n, error: errorFor(p.errorCode, { group, topic: t.name, partition: p.partitionIndex, broker: node }) })))
      return { res: out, error: errorFor(res.errorCode, { group, broker: node }) }
    },
    opts,
  )
  return res.sort(byTopicPartition)
}

/**
 * resetOffsets moves a group's committed offsets as kafka-consumer-groups --reset-offsets --execute
 * does: only while the group has no members (GroupNotEmptyError otherwise; a group that does not exist
 * yet is created by the commit), for `topics` (default: the topics it has committed offsets for), to
 * `to`; offsets outside a partition's log are moved to its start or end. With `dryRun` nothing is
 * committed. One result per partition, sorted by topic and partition.
 */
export async function resetOffsets(core: ClientCore, group: string, to: OffsetResetSpec, opts: ResetOffsetsOptions = {}): Promise<ResetOffset[]> {
  checkGroup(group)
  const spec = checkSpec(to)
  const [d] = await describeGroups(core, [group], opts)
  checkResettable(group, d!)
  const committed = await fetchOffsets(core, group, undefined, opts)
  const now = committed.filter((c) => c.error === null && c.offset >= 0n)
  return applyReset(core, group, spec, now, opts, (todo) => commitOffsets(core, group, todo, opts))
}

/**
 * checkResettable throws, before an offsets reset, the described group's error (GROUP_ID_NOT_FOUND
 * aside: the reset creates the group) or GroupNotEmptyError while the group has members.
 */
export function checkResettable(group: string, d: { error: KafkaWireError | null; state: string; members: readonly unknown[] }): void {
  if (d.error !== null && !isGroupNotFound(d.error)) throw d.error
  if (d.members.length > 0 || (d.state !== 'Empty' && d.state !== 'Dead')) throw new GroupNotEmptyError(group, d.state, d.members.length)
}

/** isGroupNotFound is true for GROUP_ID_NOT_FOUND: a group that does not exist (or, for some requests, is of another type). */
export function isGroupNotFound(err: KafkaWireError | null): boolean {
  return err instanceof KafkaProtocolError && err.errorCode === ErrorCode.GROUP_ID_NOT_FOUND
}

/**
 * applyReset is the part of an offsets reset that is the same for every kind of group: it picks the
 * partitions (`opts.topics`, the explicit offsets, or those with an offset now, `current`), works out each one's target for `spec` inside its log, as the Java tools do, and,
 * unless `opts.dryRun`, hands the targets to `write` (a commit, an AlterShareGroupOffsets). One
 * result per partition, sorted by topic and partition.
 */
export async function applyReset(
  core: ClientCore,
  group: string,
  spec: OffsetResetSpec,
  current: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>,
  opts: ResetOffsetsOptions,
  write: (todo: Array<{ topic: string; partition: number; offset: bigint }>) => Promise<Array<{ topic: string; partition: number; error: KafkaWireError | null }>>,
): Promise<ResetOffset[]> {
  const previous = new Map(current.map((c) => [partitionKey(c.topic, c.partition), c.offset]))
  let parts: Map<string, number[]>
  const errors: ResetOffset[] = []
  if ('offsets' in (typeof spec === 'object' ? spec : {}) && opts.topics === undefined) {
    const explicit = (spec as { offsets: { [t: string]: { [p: number]: bigint } } }).offsets
    parts = new Map(Object.entries(explicit).map(([t, ps]) => [t, Object.keys(ps).map(Number)]))
  } else if (opts.topics !== undefined) {
    const r = await partitionsOf(core, opts.topics, opts)
    parts = r.parts
    for (const [topic, error] of r.missing) errors.push({ topic, partition: -1, previous: null, offset: -1n, error })
  } else {
    parts = new Map()
    for (const c of current) {
      let ps = parts.get(c.topic)
      if (ps === undefined) parts.set(c.topic, (ps = []))
      ps.push(c.partition)
    }
  }
  if (parts.size === 0) return errors

  // Every target is kept inside the partition's log, as the Java tool does.
  const [starts, ends] = await Promise.all([listStartOffsets(core, parts, opts), listEndOffsets(core, parts, opts)])
  const startOf = new Map(starts.map((o) => [partitionKey(o.topic, o.partition), o]))
  const endOf = new Map(ends.map((o) => [partitionKey(o.topic, o.partition), o]))
  let byTime: Map<string, { offset: bigint; error: KafkaWireError | null }> | null = null
  if (typeof spec === 'object' && 'timestamp' in spec) {
    const found = await listOffsetsAfterMilli(core, spec.timestamp, parts, opts)
    byTime = new Map(found.map((o) => [partitionKey(o.topic, o.partition), o]))
  }
  const plan: ResetOffset[] = []
  for (const [topic, ps] of parts) {
    for (const partition of ps) {
      const k = partitionKey(topic, partition)
      const prev = previous.get(k) ?? null
      const start = startOf.get(k)
      const end = endOf.get(k)
      const failed = start?.error ?? end?.error ?? byTime?.get(k)?.error ?? null
      if (start === undefined || end === undefined || failed !== null) {
        plan.push({ topic, partition, previous: prev, offset: -1n, error: failed ?? errorFor(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic, partition }) })
        continue
      }
      let target: bigint
      if (spec === 'earliest') target = start.offset
      else if (spec === 'latest') target = end.offset
      else if ('timestamp' in spec) target = byTime!.get(k)!.offset
      else if ('offset' in spec) target = spec.offset
      else if ('shiftBy' in spec) {
        if (prev === null) {
          plan.push({ topic, partition, previous: prev, offset: -1n, error: new InvalidArgumentError('to.shiftBy', `group ${group} has no offset for ${topic}[${partition}] to shift`) })
          continue
        }
        target = prev + BigInt(spec.shiftBy)
      } else {
        const t = spec.offsets[topic]?.[partition]
        if (t === undefined) continue
        target = t
      }
      if (target < start.offset) target = start.offset
      if (target > end.offset) target = end.offset
      plan.push({ topic, partition, previous: prev, offset: target, error: null })
    }
  }
  const todo = plan.filter((p) => p.error === null)
  if (opts.dryRun === true || todo.length === 0) return [...errors, ...plan].sort(byTopicPartition)
  const res = await write(todo.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })))
  const resOf = new Map(res.map((r) => [partitionKey(r.topic, r.partition), r]))
  return [...errors, ...plan.map((p) => (p.error === null ? { ...p, error: resOf.get(partitionKey(p.topic, p.partition))?.error ?? null } : p))].sort(byTopicPartition)
}

/** checkSpec checks an offsets reset's target and returns it. */
export function checkSpec(to: OffsetResetSpec): OffsetResetSpec {
  if (to === 'earliest' || to === 'latest') return to
  if (typeof to === 'object' && to !== null) {
    if ('timestamp' in to && Number.isFinite(to.timestamp)) return to
    if ('offset' in to && typeof to.offset === 'bigint' && to.offset >= 0n) return to
    if ('shiftBy' in to && Number.isInteger(to.shiftBy)) return to
    if ('offsets' in to && typeof to.offsets === 'object' && to.offsets !== null) {
      for (const [t, ps] of Object.entries(to.offsets)) for (const [p, o] of Object.entries(ps)) if (typeof o !== 'bigint' || o < 0n) throw new InvalidArgumentError(`to.offsets.${t}.${p}`, `must be an offset as a non-negative bigint, got ${JSON.stringify(String(o))}`)
      return to
    }
  }
  throw new InvalidArgumentError('to', `must be 'earliest', 'latest', { timestamp }, { offset: bigint }, { shiftBy } or { offsets }, got ${JSON.stringify(to, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`)
}

// ---------------------------------------------------------------- lag

/**
 * lag computes groups' lag as kafka-consumer-groups --describe shows it: for every partition assigned
 * to a member or with a committed offset, the committed offset, the log end offset (high watermark)
 * and their difference, with the member that owns the partition. One result per group, in the order
 * given; a group that cannot be described or whose offsets cannot be fetched carries the error.
 */
export async function lag(core: ClientCore, groups: string[], opts: AdminOptions = {}): Promise<GroupLag[]> {
  checkGroups(groups)
  if (groups.length === 0) return []
  const [descs, fetched] = await Promise.all([describeGroups(core, groups, opts), fetchManyOffsets(core, groups, undefined, opts)])
  // Every partition of every group, for one ListOffsets round of each kind.
  const parts = new Map<string, Set<number>>()
  const add = (t: string, p: number) => {
    let s = parts.get(t)
    if (s === undefined) parts.set(t, (s = new Set()))
    s.add(p)
  }
  for (const d of descs) for (const m of d.members) for (const a of m.assignment) for (const p of a.partitions) add(a.topic, p)
  for (const f of fetched) for (const o of f.offsets) if (o.offset >= 0n) add(o.topic, o.partition)
  const asked = new Map([...parts].map(([t, s]) => [t, [...s]]))
  const [starts, ends] = asked.size === 0 ? [[], []] : await Promise.all([listStartOffsets(core, asked, opts), listEndOffsets(core, asked, opts)])
  const startOf = new Map(starts.map((o) => [partitionKey(o.topic, o.partition), o]))
  const endOf = new Map(ends.map((o) => [partitionKey(o.topic, o.partition), o]))
  return groups.map((group, i): GroupLag => {
    const d = descs[i]!
    const f = fetched[i]!
    const groupError = d.error !== null && !(d.error instanceof KafkaProtocolError && d.error.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) ? d.error : f.error
    const owner = new Map<string, GroupMemberDescription>()
    for (const m of d.members) for (const a of m.assignment) for (const p of a.partitions) owner.set(partitionKey(a.topic, p), m)
    const keys = new Map<string, { topic: string; partition: number }>()
    for (const m of d.members) for (const a of m.assignment) for (const p of a.partitions) keys.set(partitionKey(a.topic, p), { topic: a.topic, partition: p })
    const commitOf = new Map<string, (typeof f.offsets)[number]>()
    for (const o of f.offsets) {
      if (o.offset < 0n && o.error === null) continue
      commitOf.set(partitionKey(o.topic, o.partition), o)
      keys.set(partitionKey(o.topic, o.partition), { topic: o.topic, partition: o.partition })
    }
    const partitions: PartitionLag[] = []
    const topics: { [topic: string]: bigint } = {}
    let total = 0n
    for (const [k, { topic, partition }] of keys) {
      const c = commitOf.get(k)
      const s = startOf.get(k)
      const e = endOf.get(k)
      const m = owner.get(k)
      const committed = c !== undefined && c.offset >= 0n ? c.offset : null
      const start = s?.error === null ? s.offset : -1n
      const end = e?.error === null ? e.offset : -1n
      const error = c?.error ?? s?.error ?? e?.error ?? null
      let l = 0n
      if (end >= 0n) l = committed !== null ? end - committed : start >= 0n ? end - start : 0n
      if (l < 0n) l = 0n
      partitions.push({ topic, partition, committed, start, end, lag: l, memberId: m?.memberId ?? null, instanceId: m?.instanceId ?? null, clientId: m?.clientId ?? null, host: m?.clientHost ?? null, error })
      topics[topic] = (topics[topic] ?? 0n) + l
      total += l
    }
    return { group, state: d.state, type: d.type, coordinator: d.coordinator, members: d.members.length, partitions: partitions.sort(byTopicPartition), topics, total, error: groupError }
  })
}
