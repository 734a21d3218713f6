import { KafkaWireError } from '../protocol/errors.js'
import type { ApiMessage } from '../protocol/messages/api.js'
import type { Client, ClientRequestOptions, CoordinatorType } from './client.js'
import { UnknownLeaderError } from './errors.js'

/** Route says where a request goes. */
export type Route =
  | { kind: 'any' }
  | { kind: 'controller' }
  | { kind: 'coordinator'; coordinatorType: CoordinatorType; key: string }
  | { kind: 'leaders'; spec: SplitSpec }

/**
 * SplitSpec describes a request whose partitions must each go to their leader: where the topics
 * array is, what the topic name and partition index fields are called, and the same for the
 * response so answers can be merged.
 */
export interface SplitSpec {
  topics: string
  topicName: string
  partitions: string
  partitionIndex: string
  responseTopics: string
  responseTopicName: string
  responsePartitions: string
}

const SPLITS: { [key: number]: SplitSpec } = {
  // Produce
  0: { topics: 'topicData', topicName: 'name', partitions: 'partitionData', partitionIndex: 'index', responseTopics: 'responses', responseTopicName: 'name', responsePartitions: 'partitionResponses' },
  // Fetch (by name; topic-id versions are split by the consumer, which knows the ids)
  1: { topics: 'topics', topicName: 'topic', partitions: 'partitions', partitionIndex: 'partition', responseTopics: 'responses', responseTopicName: 'topic', responsePartitions: 'partitions' },
  // ListOffsets
  2: { topics: 'topics', topicName: 'name', partitions: 'partitions', partitionIndex: 'partitionIndex', responseTopics: 'topics', responseTopicName: 'name', responsePartitions: 'partitions' },
  // DeleteRecords
  21: { topics: 'topics', topicName: 'name', partitions: 'partitions', partitionIndex: 'partitionIndex', responseTopics: 'topics', responseTopicName: 'name', responsePartitions: 'partitions' },
  // OffsetForLeaderEpoch
  23: { topics: 'topics', topicName: 'topic', partitions: 'partitions', partitionIndex: 'partition', responseTopics: 'topics', responseTopicName: 'topic', responsePartitions: 'partitions' },
}

// Group-coordinated requests with one group id field.
const GROUP_KEYED: { [key: number]: string } = {
  8: 'groupId', // OffsetCommit
  11: 'groupId', // JoinGroup
  12: 'groupId', // Heartbeat
  13: 'groupId', // LeaveGroup
  14: 'groupId', // SyncGroup
  28: 'groupId', // TxnOffsetCommit
  47: 'groupId', // OffsetDelete
  68: 'groupId', // ConsumerGroupHeartbeat
}

// Transaction-coordinated requests with one transactional id field.
const TXN_KEYED: { [key: number]: string } = {
  25: 'transactionalId', // AddOffsetsToTxn
  26: 'transactionalId', // EndTxn
}

// Requests the controller must answer (brokers forward them in KRaft, but the controller is direct).
const CONTROLLER = new Set([19, 20, 37, 43, 45, 46, 57, 51])

/** COORDINATOR_ERRORS are the error codes that mean "find the coordinator again". */
export const COORDINATOR_ERRORS = new Set([14 /* COORDINATOR_LOAD_IN_PROGRESS */, 15 /* COORDINATOR_NOT_AVAILABLE */, 16 /* NOT_COORDINATOR */])

/** route decides where a request goes from its API key and body. */
export function route(key: number, body: unknown): Route {
  const b = body as { [k: string]: unknown }
  const split = SPLITS[key]
  if (split !== undefined) return { kind: 'leaders', spec: split }
  const g = GROUP_KEYED[key]
  if (g !== undefined && typeof b[g] === 'string') return { kind: 'coordinator', coordinatorType: 0, key: b[g] as string }
  const t = TXN_KEYED[key]
  if (t !== undefined && typeof b[t] === 'string') return { kind: 'coordinator', coordinatorType: 1, key: b[t] as string }
  // InitProducerId with a transactional id goes to its transaction coordinator; without, anywhere.
  if (key === 22 && typeof b.transactionalId === 'string') return { kind: 'coordinator', coordinatorType: 1, key: b.transactionalId }
  // AddPartitionsToTxn v0-3 carries one transactional id.
  if (key === 24 && typeof b.v3AndBelowTransactionalId === 'string' && b.v3AndBelowTransactionalId !== '') {
    return { kind: 'coordinator', coordinatorType: 1, key: b.v3AndBelowTransactionalId }
  }
  // OffsetFetch up to v7 has one group id; v8+ a list of groups (sent to the first group's coordinator
  // when there is one group; callers with several groups should send one request per group).
  if (key === 9) {
    if (typeof b.groupId === 'string' && b.groupId !== '') return { kind: 'coordinator', coordinatorType: 0, key: b.groupId }
    const groups = b.groups as Array<{ groupId: string }> | undefined
    if (groups && groups.length === 1) return { kind: 'coordinator', coordinatorType: 0, key: groups[0]!.groupId }
  }
  if (CONTROLLER.has(key)) return { kind: 'controller' }
  return { kind: 'any' }
}

/**
 * splitByLeader sends each partition of a request to its leader (one request per leader, in
 * parallel) and merges the answers into one response of the same shape. Partitions whose leader is
 * unknown after a metadata refresh fail the call with UnknownLeaderError.
 */
export async function splitByLeader<Req, Res>(client: Client, api: ApiMessage<Req, Res>, body: Req, r: { spec: SplitSpec }, opts: ClientRequestOptions): Promise<Res> {
  const s = r.spec
  const b = body as { [k: string]: unknown }
  const topics = b[s.topics] as Array<{ [k: string]: unknown }>
  const names = topics.map((t) => t[s.topicName] as string)
  const missing = names.filter((n) => !client.metadata.topics.has(n))
  if (missing.length > 0) {
    client.metadata.interest(missing)
    await client.metadata.refresh(true)
  }
  const byLeader = new Map<number, Array<{ [k: string]: unknown }>>()
  for (const t of topics) {
    const name = t[s.topicName] as string
    for (const p of t[s.partitions] as Array<{ [k: string]: unknown }>) {
      const idx = p[s.partitionIndex] as number
      const leader = client.leaderOf(name, idx)
      if (leader < 0) throw new UnknownLeaderError(name, idx)
      let ts = byLeader.get(leader)
      if (ts === undefined) byLeader.set(leader, (ts = []))
      let tt = ts.find((x) => x[s.topicName] === name)
      if (tt === undefined) ts.push((tt = { ...t, [s.partitions]: [] }))
      ;(tt[s.partitions] as unknown[]).push(p)
    }
  }
  // The consumer's long-polling fetch connection is its own; a Fetch sent here must not queue behind it.
  const kind = api.key === 0 ? 'produce' : 'other'
  const parts = await Promise.all(
    [...byLeader].map(([leader, ts]) =>
      client.retry(opts, (signal) =>
        client.requestOn(leader, kind, api, { ...b, [s.topics]: ts } as Req, {
          ...(opts.version !== undefined ? { version: opts.version } : {}),
          ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
          ...(signal ? { signal } : {}),
        }),
      ),
    ),
  )
  if (parts.length === 1) return parts[0]!
  if (parts.length === 0) return api.newResponse()
  // Merge: topics of every answer in one list (a topic split across leaders appears once).
  const merged = { ...(parts[0] as { [k: string]: unknown }) }
  const all: Array<{ [k: string]: unknown }> = []
  for (const part of parts) {
    for (const t of (part as { [k: string]: unknown })[s.responseTopics] as Array<{ [k: string]: unknown }>) {
      const same = all.find((x) => x[s.responseTopicName] === t[s.responseTopicName])
      if (same === undefined) all.push({ ...t, [s.responsePartitions]: [...(t[s.responsePartitions] as unknown[])] })
      else (same[s.responsePartitions] as unknown[]).push(...(t[s.responsePartitions] as unknown[]))
    }
    const thr = (part as { throttleTimeMs?: number }).throttleTimeMs
    if (thr !== undefined && thr > ((merged.throttleTimeMs as number) ?? 0)) merged.throttleTimeMs = thr
  }
  merged[s.responseTopics] = all
  return merged as Res
}
