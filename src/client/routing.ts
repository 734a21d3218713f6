import { ErrorCode } from '../protocol/error-codes.js'
import type { ApiMessage, EntityType, FieldSchema } from '../protocol/messages/api.js'
import { ApiKey } from '../protocol/messages/api-key.js'
import type { CoordinatorType } from './types.js'

/**
 * SplitSpec describes a request whose partitions must each go to their leader: where the topics
 * array is, what the topic name and partition index fields are called, and the same for the
 * response so answers can be merged. `askAgain` is set for requests whose partitions answering that
 * their leader moved are asked again of the new one (franz-go's sharders of ListOffsets,
 * DeleteRecords and OffsetForLeaderEpoch do so; Produce and Fetch answers are the caller's).
 */
export interface SplitSpec {
  topics: string
  topicName: string
  partitions: string
  partitionIndex: string
  responseTopics: string
  responseTopicName: string
  responsePartitions: string
  responsePartitionIndex: string
  askAgain: boolean
}

/**
 * RouteRule says where every request of one API goes:
 * - `leaders`: each partition to its leader, the answers merged (SplitSpec);
 * - `coordinator`: to the coordinator of the group or transactional id found at the first of `keys`
 *   that holds one in the request;
 * - `controller`: to the active controller;
 * - `any`: to any broker.
 */
export type RouteRule =
  | { kind: 'any' }
  | { kind: 'controller' }
  | { kind: 'leaders'; spec: SplitSpec }
  | { kind: 'coordinator'; coordinatorType: CoordinatorType; keys: readonly KeyPlace[] }

/**
 * KeyPlace is where a request carries its coordinator key: the string field `field`, or, with `list`,
 * the array `field` of strings (or of structs whose `keyField` holds one).
 */
export interface KeyPlace {
  field: string
  list: boolean
  keyField: string | null
}

/** Route is where one request goes: its rule resolved against its body. */
export type Route =
  | { kind: 'any' }
  | { kind: 'controller' }
  | { kind: 'leaders'; spec: SplitSpec }
  | { kind: 'coordinator'; coordinatorType: CoordinatorType; key: string }

// ---------------------------------------------------------------- the hand-kept part

// Partition requests: one request per leader. Fetch by name only: topic-id versions are split by the
// consumer, which knows the ids.
const SPLITS: { readonly [key: number]: SplitSpec } = {
  [ApiKey.Produce]: { topics: 'topicData', topicName: 'name', partitions: 'partitionData', partitionIndex: 'index', responseTopics: 'responses', responseTopicName: 'name', responsePartitions: 'partitionResponses', responsePartitionIndex: 'index', askAgain: false },
  [ApiKey.Fetch]: { topics: 'topics', topicName: 'topic', partitions: 'partitions', partitionIndex: 'partition', responseTopics: 'responses', responseTopicName: 'topic', responsePartitions: 'partitions', responsePartitionIndex: 'partitionIndex', askAgain: false },
  [ApiKey.ListOffsets]: { topics: 'topics', topicName: 'name', partitions: 'partitions', partitionIndex: 'partitionIndex', responseTopics: 'topics', responseTopicName: 'name', responsePartitions: 'partitions', responsePartitionIndex: 'partitionIndex', askAgain: true },
  [ApiKey.DeleteRecords]: { topics: 'topics', topicName: 'name', partitions: 'partitions', partitionIndex: 'partitionIndex', responseTopics: 'topics', responseTopicName: 'name', responsePartitions: 'partitions', responsePartitionIndex: 'partitionIndex', askAgain: true },
  [ApiKey.OffsetForLeaderEpoch]: { topics: 'topics', topicName: 'topic', partitions: 'partitions', partitionIndex: 'partition', responseTopics: 'topics', responseTopicName: 'topic', responsePartitions: 'partitions', responsePartitionIndex: 'partition', askAgain: true },
}

// Requests that name both a group and a transactional id go to one coordinator (KIP-98):
// AddOffsetsToTxn to the transaction's, TxnOffsetCommit to the group's.
const COORDINATED_BY: { readonly [key: number]: EntityType } = {
  [ApiKey.AddOffsetsToTxn]: 'transactionalId',
  [ApiKey.TxnOffsetCommit]: 'groupId',
}

// Share-group data requests name their group but go to partition leaders; the caller picks the broker.
const NOT_COORDINATED = new Set<number>([ApiKey.ShareFetch, ApiKey.ShareAcknowledge])

// Requests the active controller answers (brokers would forward them in KRaft; the controller is direct).
const CONTROLLER = new Set<number>([
  ApiKey.CreateTopics,
  ApiKey.DeleteTopics,
  ApiKey.CreatePartitions,
  ApiKey.ElectLeaders,
  ApiKey.AlterPartitionReassignments,
  ApiKey.ListPartitionReassignments,
  ApiKey.AlterUserScramCredentials,
  ApiKey.UpdateFeatures,
])

/** COORDINATOR_ERRORS are the error codes that mean "find the coordinator again". */
const COORDINATOR_ERRORS = new Set<number>([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR])

/** isCoordinatorError is true for an error code after which the coordinator must be looked up again. */
export function isCoordinatorError(code: number): boolean {
  return COORDINATOR_ERRORS.has(code)
}

// ---------------------------------------------------------------- the generated part

const COORDINATOR_TYPE: { readonly [E in EntityType]?: CoordinatorType } = { groupId: 0, transactionalId: 1 }

/**
 * coordinatorRule reads from a request's schema which fields name its coordinator: top-level fields
 * the spec marks as a group id or transactional id (a string, or a list of strings), then arrays of
 * structs with such a field (OffsetFetch v8+ and AddPartitionsToTxn v4+ moved their key there). A
 * request with fields of both kinds is settled by COORDINATED_BY.
 */
function coordinatorRule(api: ApiMessage): RouteRule | null {
  if (NOT_COORDINATED.has(api.key)) return null
  const want = COORDINATED_BY[api.key]
  const keyed = (f: FieldSchema) => f.entityType !== undefined && COORDINATOR_TYPE[f.entityType] !== undefined && (want === undefined || f.entityType === want)
  let type: CoordinatorType | undefined
  const keys: KeyPlace[] = []
  for (const f of api.requestSchema.fields) {
    if (keyed(f) && (f.type === 'string' || f.type === '[]string')) {
      type ??= COORDINATOR_TYPE[f.entityType!]
      keys.push({ field: f.name, list: f.type === '[]string', keyField: null })
    }
  }
  for (const f of api.requestSchema.fields) {
    const inner = f.type === '[]struct' ? f.struct?.fields.find((g) => keyed(g) && g.type === 'string') : undefined
    if (inner !== undefined) {
      type ??= COORDINATOR_TYPE[inner.entityType!]
      keys.push({ field: f.name, list: true, keyField: inner.name })
    }
  }
  return type === undefined ? null : { kind: 'coordinator', coordinatorType: type, keys }
}

const RULES = new Map<number, RouteRule>()

/**
 * routeRule is the one rule of where an API's requests go, worked out from the API (its key and
 * request schema) the first time one of its requests is routed: the client loads only the APIs it
 * uses, so there is no table of all of them to build up front.
 */
export function routeRule(api: ApiMessage): RouteRule {
  let rule = RULES.get(api.key)
  if (rule === undefined) {
    const split = SPLITS[api.key]
    rule = split !== undefined ? { kind: 'leaders', spec: split } : coordinatorRule(api) ?? (CONTROLLER.has(api.key) ? { kind: 'controller' } : ANY)
    RULES.set(api.key, rule)
  }
  return rule
}

/**
 * route decides where one request goes from its API's rule and its body. A coordinator request goes
 * to the coordinator of its key. One without a key (an InitProducerId of an idempotent producer, an
 * AddPartitionsToTxn v4+ from a broker) or whose list holds several keys goes to any broker: callers
 * send one request per group or transactional id.
 */
export function route(api: ApiMessage, body: unknown): Route {
  const rule = routeRule(api)
  if (rule.kind !== 'coordinator') return rule
  const b = body as { [k: string]: unknown }
  for (const k of rule.keys) {
    const v = b[k.field]
    let key: unknown = v
    if (k.list) {
      if (!Array.isArray(v) || v.length !== 1) continue
      key = k.keyField === null ? v[0] : (v[0] as { [f: string]: unknown } | null)?.[k.keyField]
    }
    if (typeof key === 'string' && key !== '') return { kind: 'coordinator', coordinatorType: rule.coordinatorType, key }
  }
  return ANY
}

const ANY = { kind: 'any' } as const
