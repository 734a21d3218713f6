/**
 * Share groups (KIP-932): describe them (members and the partitions assigned to each), and their
 * offsets: describe (start offset and lag per partition), alter (refused by the broker while the group
 * has members), reset (to the earliest or latest offsets, a time, …) and delete (per topic). Every request goes to the group's coordinator, as the other
 * group requests do (byCoordinator: one request per coordinator, retried where it moved or loads).
 */
import type { KafkaWireError } from '../protocol/errors.js'
import { AlterShareGroupOffsets } from '../protocol/messages/alter-share-group-offsets.js'
import { DeleteShareGroupOffsets } from '../protocol/messages/delete-share-group-offsets.js'
import { DescribeShareGroupOffsets } from '../protocol/messages/describe-share-group-offsets.js'
import { ShareGroupDescribe } from '../protocol/messages/share-group-describe.js'
import type { ClientCore } from '../client/core.js'
import { InvalidArgumentError } from '../client/errors.js'
import { authorizedOperationsOf, type AclOperation } from './acls.js'
import { applyReset, checkGroup, checkGroups, checkResettable, checkSpec, isGroupNotFound, offsetsList, partitionsList, type OffsetResetSpec, type ResetOffset, type ResetOffsetsOptions, type TopicPartitionList } from './groups.js'
import { byTopicPartition, partitionsOf, type TopicPartitionsArg } from './offsets.js'
import { byCoordinator, codeOfResult, errorFor, groupBy, groupCall, onNode, unanswered, type AdminOptions } from './util.js'

/** ShareGroupMemberDescription is one member of a described share group. */
export interface ShareGroupMemberDescription {
  memberId: string
  /** rackId is the member's rack, null when it has none. */
  rackId: string | null
  /** memberEpoch is the member's epoch. */
  memberEpoch: number
  clientId: string
  clientHost: string
  /** subscribedTopics are the topics the member subscribes to. */
  subscribedTopics: string[]
  /** assignment is the partitions assigned to the member (other members may be assigned the same ones), sorted. */
  assignment: TopicPartitionList
}

/** ShareGroupDescription is one share group described by its coordinator. */
export interface ShareGroupDescription {
  group: string
  /** coordinator is the node id of the group's coordinator (-1 when it could not be found). */
  coordinator: number
  /** state is Empty, Stable or Dead ('Dead' for a group that does not exist). */
  state: string
  /** groupEpoch and assignmentEpoch are the group's epochs, -1 when it could not be described. */
  groupEpoch: number
  assignmentEpoch: number
  /** assignor is the name of the broker's share-group assignor ('simple'). */
  assignor: string
  members: ShareGroupMemberDescription[]
  /** authorizedOperations are what this client may do with the group; null when not asked or not known. */
  authorizedOperations: AclOperation[] | null
  /** error is the group's error (GROUP_ID_NOT_FOUND for a group that does not exist, GROUP_AUTHORIZATION_FAILED, …), null on success. */
  error: KafkaWireError | null
}

/** ShareGroupOffset is one partition's state in a share group. */
export interface ShareGroupOffset {
  topic: string
  /** partition is -1 for a topic that does not exist (its error says so). */
  partition: number
  /**
   * startOffset is the share-partition start offset: records before it are all acknowledged (it can
   * stay at an earlier batch boundary for a while after they were); -1 when the group holds no state
   * for the partition (it never fetched it, or its offsets were deleted).
   */
  startOffset: bigint
  /** leaderEpoch is the partition's leader epoch the broker reports with the start offset. */
  leaderEpoch: number
  /**
   * lag is the records from the start offset to the high watermark not yet acknowledged (acquired ones
   * count), exact as soon as acknowledgements are answered; -1 when unknown (no state, or a broker
   * before v1). As the broker computes it: negative for a start offset set past the high watermark.
   */
  lag: bigint
  error: KafkaWireError | null
}

/** ShareGroupOffsets is one share group's offsets. */
export interface ShareGroupOffsets {
  group: string
  /** offsets are sorted by topic and partition. */
  offsets: ShareGroupOffset[]
  /** error is the group's error (GROUP_ID_NOT_FOUND, GROUP_AUTHORIZATION_FAILED, …), null on success. */
  error: KafkaWireError | null
}

/** AlteredShareGroupOffset is one partition's result of alterShareGroupOffsets. */
export interface AlteredShareGroupOffset {
  topic: string
  partition: number
  /** startOffset is the start offset asked for. */
  startOffset: bigint
  error: KafkaWireError | null
}

/** DeletedShareGroupOffsets is one topic's result of deleteShareGroupOffsets. */
export interface DeletedShareGroupOffsets {
  topic: string
  error: KafkaWireError | null
}

/** unknownGroup is the description of a group that could not be described: state Dead, with its error. */
const unknownGroup = (group: string, coordinator: number, error: KafkaWireError | null): ShareGroupDescription => ({
  group,
  coordinator,
  state: 'Dead',
  groupEpoch: -1,
  assignmentEpoch: -1,
  assignor: '',
  members: [],
  authorizedOperations: null,
  error,
})

/**
 * describeShareGroups describes share groups, one result per group in the order given: one
 * ShareGroupDescribe per coordinator. A group that does not exist has state Dead and its error
 * (GROUP_ID_NOT_FOUND); so has a group of another type (the broker's message says it is not a share
 * group).
 */
export async function describeShareGroups(core: ClientCore, groups: string[], opts: AdminOptions & { authorizedOperations?: boolean } = {}): Promise<ShareGroupDescription[]> {
  checkGroups(groups)
  const results = await byCoordinator(
    core,
    0,
    groups,
    async (node, keys, signal) => {
      const res = await onNode(core, node, 'group', ShareGroupDescribe, () => ({ ...ShareGroupDescribe.newRequest(), groupIds: keys, includeAuthorizedOperations: opts.authorizedOperations === true }), signal)
      const out = new Map<string, ShareGroupDescription>()
      for (const g of res.groups) {
        const error = errorFor(g.errorCode, { group: g.groupId, broker: node, errorMessage: g.errorMessage })
        if (error !== null) {
          out.set(g.groupId, unknownGroup(g.groupId, node, error))
          continue
        }
        out.set(g.groupId, {
          group: g.groupId,
          coordinator: node,
          state: g.groupState,
          groupEpoch: g.groupEpoch,
          assignmentEpoch: g.assignmentEpoch,
          assignor: g.assignorName,
          authorizedOperations: authorizedOperationsOf(g.authorizedOperations),
          error: null,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopics: [...m.subscribedTopicNames].sort(),
            assignment: partitionsList(m.assignment.topicPartitions),
          })),
        })
      }
      return out
    },
    codeOfResult,
    (group, err) => unknownGroup(group, -1, err as KafkaWireError),
    opts,
  )
  return groups.map((g) => results.get(g)!)
}

/**
 * describeShareGroupOffsets describes share groups' offsets (of every topic the group holds state
 * for, or of `topics`), one result per group in the order given: one DescribeShareGroupOffsets per
 * coordinator. A named topic that does not exist is reported with partition -1 and its error.
 */
export async function describeShareGroupOffsets(core: ClientCore, groups: string[], topics?: TopicPartitionsArg, opts: AdminOptions = {}): Promise<ShareGroupOffsets[]> {
  checkGroups(groups)
  let parts: Map<string, number[]> | null = null
  let missing: ShareGroupOffset[] = []
  if (topics !== undefined) {
    const r = await partitionsOf(core, topics, opts)
    parts = r.parts
    missing = [...r.missing].map(([topic, error]) => ({ topic, partition: -1, startOffset: -1n, leaderEpoch: -1, lag: -1n, error }))
  }
  const results = await byCoordinator(
    core,
    0,
    groups,
    async (node, keys, signal) => {
      const res = await onNode(
        core,
        node,
        'group',
        DescribeShareGroupOffsets,
        () => ({
          ...DescribeShareGroupOffsets.newRequest(),
          groups: keys.map((groupId) => ({ groupId, topics: parts === null ? null : [...parts].map(([topicName, partitions]) => ({ topicName, partitions })) })),
        }),
        signal,
      )
      return new Map(
        res.groups.map((g): [string, ShareGroupOffsets] => {
          const offsets = g.topics.flatMap((t) =>
            t.partitions.map((p) => ({
              topic: t.topicName,
              partition: p.partitionIndex,
              startOffset: p.startOffset,
              leaderEpoch: p.leaderEpoch,
              lag: p.lag,
              error: errorFor(p.errorCode, { group: g.groupId, topic: t.topicName, partition: p.partitionIndex, broker: node, errorMessage: p.errorMessage }),
            })),
          )
          return [g.groupId, { group: g.groupId, offsets: [...offsets, ...missing].sort(byTopicPartition), error: errorFor(g.errorCode, { group: g.groupId, broker: node, errorMessage: g.errorMessage }) }]
        }),
      )
    },
    codeOfResult,
    (group, err) => ({ group, offsets: [], error: err as KafkaWireError }),
    opts,
  )
  return groups.map((g) => results.get(g)!)
}

/**
 * alterShareGroupOffsets sets a share group's start offsets (`{ topic: { partition: offset } }`): the
 * group delivers each partition's records from there on. One result per partition, sorted by topic
 * and partition (an unknown topic is its partitions' UNKNOWN_TOPIC_OR_PARTITION). A group that does not
 * exist yet is created, empty. The broker refuses while the group has members; that, like any group
 * error, is thrown (a KafkaProtocolError: NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND for a group of another
 * type, …).
 */
export async function alterShareGroupOffsets(core: ClientCore, group: string, offsets: { [topic: string]: { [partition: number]: bigint } }, opts: AdminOptions = {}): Promise<AlteredShareGroupOffset[]> {
  checkGroup(group)
  if (typeof offsets !== 'object' || offsets === null || Array.isArray(offsets)) throw new InvalidArgumentError('offsets', 'must be { topic: { partition: offset } }')
  const list = offsetsList(offsets)
  if (list.length === 0) return []
  const byTopic = groupBy(list, (o) => o.topic)
  const res = await groupCall(
    core,
    group,
    async (node, signal) => {
      const res = await onNode(
        core,
        node,
        'group',
        AlterShareGroupOffsets,
        () => ({ ...AlterShareGroupOffsets.newRequest(), groupId: group, topics: [...byTopic].map(([topicName, os]) => ({ topicName, partitions: os.map((o) => ({ partitionIndex: o.partition, startOffset: o.offset })) })) }),
        signal,
      )
      const out = res.responses.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.topicName,
          partition: p.partitionIndex,
          startOffset: byTopic.get(t.topicName)?.find((o) => o.partition === p.partitionIndex)?.offset ?? -1n,
          error: errorFor(p.errorCode, { group, topic: t.topicName, partition: p.partitionIndex, broker: node, errorMessage: p.errorMessage }),
        })),
      )
      return { res: out, error: errorFor(res.errorCode, { group, broker: node, errorMessage: res.errorMessage }) }
    },
    opts,
  )
  return res.sort(byTopicPartition)
}

/**
 * resetShareGroupOffsets moves a share group's start offsets as resetOffsets moves a consumer group's
 * committed ones (kafka-share-groups --reset-offsets): only while the group has no members
 * (GroupNotEmptyError otherwise; a group that does not exist yet is created), for `topics` (default:
 * the topics the group holds state for), to `to`, kept inside each partition's log; with `dryRun`
 * nothing is changed. One result per partition (`previous` is the start offset before), sorted by
 * topic and partition.
 */
export async function resetShareGroupOffsets(core: ClientCore, group: string, to: OffsetResetSpec, opts: ResetOffsetsOptions = {}): Promise<ResetOffset[]> {
  checkGroup(group)
  const spec = checkSpec(to)
  const [d] = await describeShareGroups(core, [group], opts)
  checkResettable(group, d!)
  const [o] = await describeShareGroupOffsets(core, [group], undefined, opts)
  if (o!.error !== null && !isGroupNotFound(o!.error)) throw o!.error
  const now = o!.offsets.filter((x) => x.error === null && x.startOffset >= 0n).map((x) => ({ topic: x.topic, partition: x.partition, offset: x.startOffset }))
  return applyReset(core, group, spec, now, opts, (todo) => {
    const offsets: { [topic: string]: { [partition: number]: bigint } } = {}
    for (const t of todo) (offsets[t.topic] ??= {})[t.partition] = t.offset
    return alterShareGroupOffsets(core, group, offsets, opts)
  })
}

/**
 * deleteShareGroupOffsets deletes a share group's state for topics: the group holds none for their
 * partitions afterwards, as if it had never fetched them. One result per topic, in the order given.
 * The broker refuses while the group has members; that, like any group error, is thrown.
 */
export async function deleteShareGroupOffsets(core: ClientCore, group: string, topics: string[], opts: AdminOptions = {}): Promise<DeletedShareGroupOffsets[]> {
  checkGroup(group)
  if (!Array.isArray(topics)) throw new InvalidArgumentError('topics', 'must be an array of topic names')
  topics.forEach((t, i) => {
    if (typeof t !== 'string' || t === '') throw new InvalidArgumentError(`topics[${i}]`, `must be a topic name, got ${JSON.stringify(t)}`)
  })
  const names = [...new Set(topics)]
  if (names.length === 0) return []
  const res = await groupCall(
    core,
    group,
    async (node, signal) => {
      const res = await onNode(core, node, 'group', DeleteShareGroupOffsets, () => ({ ...DeleteShareGroupOffsets.newRequest(), groupId: group, topics: names.map((topicName) => ({ topicName })) }), signal)
      const out = res.responses.map((t) => ({ topic: t.topicName, error: errorFor(t.errorCode, { group, topic: t.topicName, broker: node, errorMessage: t.errorMessage }) }))
      return { res: out, error: errorFor(res.errorCode, { group, broker: node, errorMessage: res.errorMessage }) }
    },
    opts,
  )
  const byName = new Map(res.map((t) => [t.topic, t]))
  return names.map((topic) => byName.get(topic) ?? { topic, error: unanswered(`topic ${topic}`, { topic }) })
}

