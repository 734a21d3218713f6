/**
 * The machinery every admin concern shares: sending a request whose fields depend on the negotiated
 * version to any broker, one broker or the controller; sending one request per broker; splitting items
 * per partition leader or per group/transaction coordinator, one request per broker, and retrying the
 * items whose error says that trying again can succeed (a coordinator loading or moved, a leader moved,
 * not the controller), and nothing else.
 */
import { ErrorCode, kafkaErrorCodes } from '../protocol/error-codes.js'
import { KafkaProtocolError, KafkaWireError } from '../protocol/errors.js'
import type { ApiMessage } from '../protocol/messages/api.js'
import { Metadata, type MetadataResponse } from '../protocol/messages/metadata.js'
import { ZERO_UUID } from '../protocol/reader.js'
import { endsCall, retriableThrown, retryItems, type ClientCore } from '../client/core.js'
import { IncompleteResponseError, InvalidArgumentError } from '../client/errors.js'
import type { CoordinatorType } from '../client/types.js'

// The rounds every retrying call shares live in the core; the admin modules take them from here.
export { retriableThrown, retryItems }

/** AdminOptions are what every Admin method takes: a signal that aborts it. */
export interface AdminOptions {
  signal?: AbortSignal
}

/** TimeoutOptions add the time the broker (or controller) may take for the operation, in ms. */
export interface TimeoutOptions extends AdminOptions {
  /** timeout is the request's own timeoutMs, how long the broker may take. Default 30,000. */
  timeout?: number
}

/** Build makes a request body for the negotiated version. */
export type Build<Req> = (version: number) => Req

/** ErrorScopeFor names what a per-item error concerns. */
export interface ItemScope {
  topic?: string
  partition?: number
  group?: string
  resource?: string
  broker?: number
  errorMessage?: string | null
}

/** errorFor returns null for error code 0, else a KafkaProtocolError naming what it concerns. */
export function errorFor(code: number, scope: ItemScope = {}): KafkaProtocolError | null {
  if (code === 0) return null
  const opts: ItemScope = {}
  for (const [k, v] of Object.entries(scope)) if (v !== undefined) (opts as Record<string, unknown>)[k] = v
  return new KafkaProtocolError(code, opts)
}

/** unanswered is the error of an item the broker's answer left out. */
export function unanswered(what: string, scope: ItemScope = {}): IncompleteResponseError {
  const s: { topic?: string; partition?: number; broker?: number } = {}
  if (scope.topic !== undefined) s.topic = scope.topic
  if (scope.partition !== undefined) s.partition = scope.partition
  if (scope.broker !== undefined) s.broker = scope.broker
  return new IncompleteResponseError(`the broker's answer left out ${what}`, s)
}

const sig = (opts: AdminOptions) => (opts.signal ? { signal: opts.signal } : {})

/** sendAny sends a request to any broker, retried as `ClientCore.request` retries. */
export function sendAny<Req, Res>(core: ClientCore, api: ApiMessage<Req, Res>, build: Build<Req>, opts: AdminOptions = {}): Promise<Res> {
  return core.retry(opts, api.key, (signal) => core.anyBroker().request(api, build, signal ? { signal } : {}))
}

/** sendTo sends a request to one broker, retried as `ClientCore.request` retries. */
export async function sendTo<Req, Res>(core: ClientCore, node: number, api: ApiMessage<Req, Res>, build: Build<Req>, opts: AdminOptions = {}): Promise<Res> {
  const b = await core.brokerAfterRefresh(node)
  return core.retry(opts, api.key, (signal) => b.request(api, build, signal ? { signal } : {}))
}

/** sendController sends a request to the active controller (as the cluster's metadata names it). */
export function sendController<Req, Res>(core: ClientCore, api: ApiMessage<Req, Res>, build: Build<Req>, opts: AdminOptions = {}): Promise<Res> {
  return core.retry(opts, api.key, async (signal) => {
    if (core.metadata.lastLoad === 0) await core.metadata.refresh(true)
    const b = core.broker(core.metadata.controllerId) ?? core.anyBroker()
    return b.request(api, build, signal ? { signal } : {})
  })
}

/**
 * loadMetadata asks any broker for the cluster's metadata: the named topics (none: brokers only;
 * null: every topic). It does not add the topics to those the client keeps metadata for.
 */
export function loadMetadata(core: ClientCore, topics: string[] | null, opts: AdminOptions & { authorizedOperations?: boolean } = {}): Promise<MetadataResponse> {
  return sendAny(
    core,
    Metadata,
    (version) => {
      const req = Metadata.newRequest()
      req.topics = topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name }))
      req.allowAutoTopicCreation = false
      if (opts.authorizedOperations && version >= 8) req.includeTopicAuthorizedOperations = true
      return req
    },
    opts,
  )
}

/** brokerIds lists the node ids of the cluster's brokers, from fresh metadata. */
export async function brokerIds(core: ClientCore, opts: AdminOptions = {}): Promise<number[]> {
  const md = await loadMetadata(core, [], opts)
  return md.brokers.map((b) => b.nodeId).sort((a, b) => a - b)
}

/** COORDINATOR_RETRY are the per-item codes after which a group's or transaction's coordinator is looked up again. */
export const COORDINATOR_RETRY = new Set<number>([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR])

/** CONTROLLER_RETRY are the per-item codes of controller requests worth another round: the controller moved. */
export const CONTROLLER_RETRY = new Set<number>([ErrorCode.NOT_CONTROLLER])

/** leaderRetry is true for a per-partition code of a leader request worth another round (Kafka's retriable codes). */
export function leaderRetry(code: number): boolean {
  return code !== 0 && kafkaErrorCodes.get(code)?.retriable === true
}

/**
 * thrownAgain is true for a result made from a thrown error that another round may get past: a
 * connection that died, a request that timed out, an answer that left the item out. The broker's own
 * error codes are judged by each caller's set instead.
 */
export function thrownAgain(r: unknown): boolean {
  const e = (r as { error?: unknown } | null)?.error
  return e instanceof KafkaWireError && !(e instanceof KafkaProtocolError) && retriableThrown(e)
}

/**
 * byCoordinator sends requests about groups (type 0) or transactional ids (type 1) to their
 * coordinators: the keys are grouped per coordinator and `send` makes one request per coordinator.
 * Keys answered with a coordinator error (loading, moved, not available) or whose request failed on
 * the connection are looked up again and sent in another round; the rest keep their first answer. A
 * key whose coordinator cannot be found (FindCoordinator retries on its own) keeps that error.
 */
export async function byCoordinator<R>(
  core: ClientCore,
  type: CoordinatorType,
  keys: string[],
  send: (node: number, keys: string[], signal: AbortSignal | undefined) => Promise<Map<string, R>>,
  codeOf: (r: R) => number,
  failed: (key: string, err: unknown) => R,
  opts: AdminOptions = {},
): Promise<Map<string, R>> {
  const unique = [...new Set(keys)]
  const final = new Set<string>()
  return retryItems(
    core,
    unique,
    async (pending, signal) => {
      const out = new Map<string, R>()
      const byNode = new Map<number, string[]>()
      await Promise.all(
        pending.map(async (k) => {
          try {
            const node = await core.coordinator(type, k, signal)
            let ks = byNode.get(node)
            if (ks === undefined) byNode.set(node, (ks = []))
            ks.push(k)
          } catch (err) {
            if (endsCall(err)) throw err
            final.add(k)
            out.set(k, failed(k, err))
          }
        }),
      )
      await Promise.all(
        [...byNode].map(async ([node, ks]) => {
          try {
            const res = await send(node, ks, signal)
            for (const k of ks) {
              const r = res.get(k)
              out.set(k, r ?? failed(k, unanswered(type === 0 ? `group ${k}` : `transactional id ${k}`, { broker: node })))
              if (r !== undefined && COORDINATOR_RETRY.has(codeOf(r))) core.invalidateCoordinator(type, k)
            }
          } catch (err) {
            if (endsCall(err)) throw err
            for (const k of ks) {
              if (retriableThrown(err)) core.invalidateCoordinator(type, k)
              out.set(k, failed(k, err))
            }
          }
        }),
      )
      return out
    },
    (r, k) => !final.has(k) && (COORDINATOR_RETRY.has(codeOf(r)) || thrownAgain(r)),
    failed,
    opts,
  )
}

/**
 * groupCall sends one request about `group` to its coordinator (with byCoordinator's retries of
 * coordinator errors and lost connections) and returns what `send` read from the answer; the group's
 * own error (`error`) is thrown.
 */
export async function groupCall<T>(
  core: ClientCore,
  group: string,
  send: (node: number, signal: AbortSignal | undefined) => Promise<{ res: T; error: KafkaWireError | null }>,
  opts: AdminOptions = {},
): Promise<T> {
  type R = { res: T | null; error: KafkaWireError | null }
  const results = await byCoordinator<R>(
    core,
    0,
    [group],
    async (node, _keys, signal) => new Map([[group, await send(node, signal)]]),
    codeOfResult,
    (_, err) => ({ res: null, error: err as KafkaWireError }),
    opts,
  )
  const r = results.get(group)!
  if (r.error !== null || r.res === null) throw r.error
  return r.res
}

/** partitionKey is the map key of a topic's partition. */
export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

/**
 * byLeader sends requests about partitions to their leaders: one request per leader, as `send` makes
 * it from the topics and partitions that broker leads. Partitions of topics that do not exist fail
 * with UNKNOWN_TOPIC_OR_PARTITION without a request; partitions whose answer carries a retriable code
 * (leader moved, not available, offset not yet available, ...) go into another round after fresh
 * metadata. The results are keyed by `partitionKey`.
 */
export async function byLeader<R>(
  core: ClientCore,
  partitions: Map<string, number[]>,
  send: (node: number, parts: Map<string, number[]>, signal: AbortSignal | undefined) => Promise<Map<string, R>>,
  codeOf: (r: R) => number,
  failed: (topic: string, partition: number, err: unknown) => R,
  opts: AdminOptions = {},
): Promise<Map<string, R>> {
  const items: Array<[string, number]> = []
  for (const [t, ps] of partitions) for (const p of new Set(ps)) items.push([t, p])
  const keyed = new Map(items.map((it) => [partitionKey(it[0], it[1]), it]))
  const fail = (k: string, err: unknown) => failed(keyed.get(k)![0], keyed.get(k)![1], err)
  // Partitions of topics that the metadata does not list are not asked about again.
  const final = new Set<string>()
  return retryItems(
    core,
    [...keyed.keys()],
    async (pending, signal) => {
      const out = new Map<string, R>()
      const topics = [...new Set(pending.map((k) => keyed.get(k)![0]))]
      const md = await loadMetadata(core, topics, { signal })
      const info = new Map(md.topics.map((t) => [t.name ?? '', t]))
      const byNode = new Map<number, Map<string, number[]>>()
      for (const k of pending) {
        const [t, p] = keyed.get(k)!
        const ti = info.get(t)
        if (ti === undefined || ti.errorCode !== 0) {
          final.add(k)
          out.set(k, failed(t, p, errorFor(ti?.errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: t, partition: p })))
          continue
        }
        const pi = ti.partitions.find((x) => x.partitionIndex === p)
        if (pi === undefined) {
          final.add(k)
          out.set(k, failed(t, p, errorFor(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: t, partition: p, errorMessage: `${t} has ${ti.partitions.length} partitions` })))
          continue
        }
        if (pi.leaderId < 0) {
          out.set(k, failed(t, p, errorFor(ErrorCode.LEADER_NOT_AVAILABLE, { topic: t, partition: p })))
          continue
        }
        let m = byNode.get(pi.leaderId)
        if (m === undefined) byNode.set(pi.leaderId, (m = new Map()))
        let ps = m.get(t)
        if (ps === undefined) m.set(t, (ps = []))
        ps.push(p)
      }
      await Promise.all(
        [...byNode].map(async ([node, parts]) => {
          const mine = [...parts].flatMap(([t, ps]) => ps.map((p) => partitionKey(t, p)))
          try {
            const res = await send(node, parts, signal)
            for (const k of mine) out.set(k, res.get(k) ?? fail(k, unanswered(`partition ${keyed.get(k)![0]}[${keyed.get(k)![1]}]`, { broker: node })))
          } catch (err) {
            if (endsCall(err)) throw err
            for (const k of mine) out.set(k, fail(k, err))
          }
        }),
      )
      return out
    },
    (r, k) => !final.has(k) && (leaderRetry(codeOf(r)) || thrownAgain(r)),
    fail,
    opts,
  )
}

/**
 * codeOfResult is the Kafka error code an item's result carries in its `error` (0 for none or for an
 * error that is not the broker's); the retry helpers decide by it.
 */
export function codeOfResult(r: { error: Error | null }): number {
  return r.error instanceof KafkaProtocolError ? r.error.errorCode : 0
}

/** groupBy groups values by a key, keeping their order. */
export function groupBy<T, K>(xs: Iterable<T>, key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>()
  for (const x of xs) {
    const k = key(x)
    let a = m.get(k)
    if (a === undefined) m.set(k, (a = []))
    a.push(x)
  }
  return m
}

/**
 * partitionMapOf turns `{ topic: [partitions] }` (or a Map) into a Map, checking that it names topics
 * and partition numbers; `path` names the argument in the InvalidArgumentError.
 */
export function partitionMapOf(p: { [topic: string]: number[] } | Map<string, number[]>, path: string): Map<string, number[]> {
  const m = p instanceof Map ? p : new Map(Object.entries(p))
  for (const [t, ps] of m) {
    if (typeof t !== 'string' || t === '') throw new InvalidArgumentError(path, `must name topics, got ${JSON.stringify(t)}`)
    if (!Array.isArray(ps) || ps.some((x) => !Number.isInteger(x) || x < 0)) throw new InvalidArgumentError(`${path}.${t}`, `must be a list of partition numbers, got ${JSON.stringify(ps)}`)
  }
  return m
}

/** signalOf is the request options of an admin call's signal. */
export const signalOf = sig

/**
 * onNode sends one request to a node on its connection of `kind` (group requests on the group
 * connection), building the body for the version negotiated there, without retries (the callers retry
 * per item). `pick` sees the version first, for requests that must be split when a version cannot
 * carry everything (OffsetFetch before v8 asks about one group).
 */
export async function onNode<Req, Res>(core: ClientCore, node: number, kind: 'group' | 'other', api: ApiMessage<Req, Res>, build: Build<Req>, signal: AbortSignal | undefined): Promise<Res> {
  const b = await core.brokerAfterRefresh(node)
  return b.request(api, build, { kind, ...(signal ? { signal } : {}) })
}

/** versionOn returns the version of `api` that a node's connection of `kind` negotiated. */
export async function versionOn(core: ClientCore, node: number, kind: 'group' | 'other', api: ApiMessage, signal: AbortSignal | undefined): Promise<number> {
  const b = await core.brokerAfterRefresh(node)
  const conn = await b.connection(kind, signal)
  return conn.versionFor(api)
}

/**
 * topicIds returns the ids of topics (for versions that name topics by id): from the client's metadata
 * cache, else from one Metadata request. Topics that do not exist are left out.
 */
export async function topicIds(core: ClientCore, names: Iterable<string>, signal: AbortSignal | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const ask: string[] = []
  for (const n of new Set(names)) {
    const id = core.metadata.topics.get(n)?.id
    if (id !== undefined && id !== ZERO_UUID) out.set(n, id)
    else ask.push(n)
  }
  if (ask.length > 0) {
    const md = await loadMetadata(core, ask, signal ? { signal } : {})
    for (const t of md.topics) if (t.name !== null && t.errorCode === 0 && t.topicId !== ZERO_UUID) out.set(t.name, t.topicId)
  }
  return out
}

/** topicNames returns the names of topic ids: from the client's metadata cache, else from one Metadata request. */
export async function topicNames(core: ClientCore, ids: Iterable<string>, signal: AbortSignal | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const ask: string[] = []
  for (const id of new Set(ids)) {
    if (id === ZERO_UUID) continue
    const n = core.metadata.topicName(id)
    if (n !== undefined) out.set(id, n)
    else ask.push(id)
  }
  if (ask.length > 0) {
    const md = await sendAny(
      core,
      Metadata,
      () => {
        const req = Metadata.newRequest()
        req.topics = ask.map((topicId) => ({ topicId, name: null }))
        req.allowAutoTopicCreation = false
        return req
      },
      signal ? { signal } : {},
    )
    for (const t of md.topics) if (t.name !== null && t.errorCode === 0) out.set(t.topicId, t.name)
  }
  return out
}
