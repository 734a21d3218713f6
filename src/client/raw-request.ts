/**
 * What `client.request` does with a body a user wrote before it goes out (franz-go's kmsg requests are
 * typed by the compiler; ours are plain objects, so they are checked at run time instead):
 *
 * - the fields the router reads (the topics and partitions of a request split per leader) are checked
 *   first, so a malformed body fails with InvalidRequestError naming the field, not a TypeError;
 * - topic ids and names are filled from each other: versions that name topics by id (OffsetCommit and
 *   OffsetFetch v10, Fetch v13+, DeleteTopics v6) get the id of a named topic, versions that name them
 *   by name get the name of an id, from the client's metadata cache or one Metadata request; the
 *   response gets the names of the ids it carries;
 * - a body written in the shape of older versions is moved into the shape of the version negotiated
 *   (OffsetFetch's `groupId`/`topics` into `groups`, DeleteTopics' `topicNames` into `topics`,
 *   LeaveGroup's `memberId` into `members`) and back, and the response is given both shapes;
 * - once the version is known, the body is checked against that version's schema (checkRequest).
 *
 * None of this runs for the client's own requests (produce, fetch, groups, admin), which it builds
 * correctly: the hot paths pay nothing.
 */
import { InvalidRequestError } from '../protocol/errors.js'
import type { ApiMessage, FieldSchema, StructSchema } from '../protocol/messages/api.js'
import { ApiKey } from '../protocol/messages/api-key.js'
import { Metadata, type MetadataRequest } from '../protocol/messages/metadata.js'
import { checkRequest, isUuid, uuidToBase64 } from '../protocol/validate.js'
import { ZERO_UUID } from '../protocol/reader.js'
import type { ClientCore } from './core.js'
import { routeRule } from './routing.js'
import type { ClientRequestOptions } from './types.js'

type Obj = { [k: string]: unknown }

/** TopicIds maps topic names to ids (base64url) and back, for one request. */
interface TopicIds {
  idOf: Map<string, string>
  nameOf: Map<string, string>
}

/**
 * userRequest sends a request body given by a user: checked, adapted to the negotiated version, with
 * topic ids and names filled (see the top of this file), routed as `ClientCore.request` routes.
 */
export async function userRequest<Req, Res>(core: ClientCore, api: ApiMessage<Req, Res>, body: Req, opts: ClientRequestOptions = {}): Promise<Res> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError(api.name, -1, api.requestSchema.name, `must be an object (${api.requestSchema.name}); ${api.name}.newRequest() returns one with every field at its default`)
  }
  const shape = SHAPES[api.key]
  const wanted = { names: new Set<string>(), ids: new Set<string>() }
  collect(api.requestSchema, body as Obj, wanted)
  shape?.collect?.(body as Obj, wanted)
  const ids = await resolve(core, wanted, opts.signal)
  // A request split per leader is routed by topic name: names of ids are filled before routing.
  const split = routeRule(api).kind === 'leaders'
  const routed = (split ? fill(api.requestSchema, body as Obj, ids) : body) as Req
  checkSplit(api, routed)
  const res = await core.request(api, routed, {
    ...opts,
    prepare: (version: number, b: Obj) => {
      let v = shape?.toVersion?.(version, b, ids) ?? b
      v = toVersion(api.requestSchema, v, version, ids)
      return checkRequest(api, version, v)
    },
  })
  const out = res as Obj
  // Responses of versions that name topics by id get the names too (and the other way round).
  const seen = { names: new Set<string>(), ids: new Set<string>() }
  collect(api.responseSchema, out, seen)
  const more = { names: new Set([...seen.names].filter((n) => !ids.idOf.has(n))), ids: new Set([...seen.ids].filter((i) => !ids.nameOf.has(i))) }
  if (more.ids.size > 0) {
    const found = await resolve(core, { names: new Set(), ids: more.ids }, opts.signal).catch(() => null)
    if (found !== null) for (const [id, name] of found.nameOf) learn(ids, name, id)
  }
  for (const n of more.names) {
    const t = core.metadata.topics.get(n)
    if (t !== undefined) learn(ids, n, t.id)
  }
  fill(api.responseSchema, out, ids, true)
  shape?.fromVersion?.(body as Obj, out, ids)
  return res
}

function learn(ids: TopicIds, name: string, id: string): void {
  if (id === ZERO_UUID || name === '') return
  ids.idOf.set(name, id)
  ids.nameOf.set(id, name)
}

// ---------------------------------------------------------------- topic ids and names

/** pairOf finds, in a struct, a topic-name string field and a `topicId` uuid field, if it has both. */
const pairs = new WeakMap<StructSchema, { name: FieldSchema; id: FieldSchema } | null>()
function pairOf(s: StructSchema): { name: FieldSchema; id: FieldSchema } | null {
  let p = pairs.get(s)
  if (p === undefined) {
    const name = s.fields.find((f) => f.entityType === 'topicName' && f.type === 'string')
    const id = s.fields.find((f) => f.type === 'uuid' && f.name === 'topicId')
    p = name !== undefined && id !== undefined ? { name, id } : null
    pairs.set(s, p)
  }
  return p
}

/** collect gathers the topic names and ids named in a body's name/id pairs. */
function collect(s: StructSchema, v: Obj, out: { names: Set<string>; ids: Set<string> }): void {
  const p = pairOf(s)
  if (p !== null) {
    const name = v[p.name.name]
    const id = v[p.id.name]
    if (typeof name === 'string' && name !== '') out.names.add(name)
    if (isUuid(id) && uuidToBase64(id) !== ZERO_UUID) out.ids.add(uuidToBase64(id))
  }
  for (const f of s.fields) {
    if (f.struct === undefined) continue
    const x = v[f.name]
    if (f.type === 'struct' && typeof x === 'object' && x !== null) collect(f.struct, x as Obj, out)
    else if (Array.isArray(x)) for (const e of x) if (typeof e === 'object' && e !== null) collect(f.struct, e as Obj, out)
  }
}

/**
 * resolve finds the ids of the names and the names of the ids: from the metadata cache, then with one
 * Metadata request for the rest (which does not add them to the topics the client follows). Topics
 * that do not exist stay unresolved; the broker answers for them (UNKNOWN_TOPIC_ID, ...).
 */
async function resolve(core: ClientCore, wanted: { names: Set<string>; ids: Set<string> }, signal: AbortSignal | undefined): Promise<TopicIds> {
  const ids: TopicIds = { idOf: new Map(), nameOf: new Map() }
  if (wanted.names.size === 0 && wanted.ids.size === 0) return ids
  const md = core.metadata
  for (const n of wanted.names) {
    const t = md.topics.get(n)
    if (t !== undefined) learn(ids, n, t.id)
  }
  for (const id of wanted.ids) {
    const n = md.topicName(id)
    if (n !== undefined) learn(ids, n, id)
  }
  const names = [...wanted.names].filter((n) => !ids.idOf.has(n))
  const unknownIds = [...wanted.ids].filter((id) => !ids.nameOf.has(id))
  if (names.length === 0 && unknownIds.length === 0) return ids
  const ask = async (topics: MetadataRequest['topics']) => {
    const req = Metadata.newRequest()
    req.topics = topics
    req.allowAutoTopicCreation = false
    const res = await core.request(Metadata, req, signal ? { signal } : {})
    for (const t of res.topics) if (t.errorCode === 0 && t.name !== null) learn(ids, t.name, t.topicId)
  }
  // A Metadata request names topics by name or by id, not both in one request.
  if (names.length > 0) await ask(names.map((name) => ({ topicId: ZERO_UUID, name })))
  if (unknownIds.length > 0) await ask(unknownIds.map((topicId) => ({ topicId, name: null }))).catch(() => {})
  return ids
}

/**
 * fill sets, in every name/id pair of `v`, a missing name from its id and a missing id from its name.
 * A request is copied where it changes (the user's object is left alone); a response (`inPlace`) is
 * changed in place.
 */
function fill(s: StructSchema, v: Obj, ids: TopicIds, inPlace = false): Obj {
  if (ids.idOf.size === 0 && ids.nameOf.size === 0) return v
  let out: Obj | null = inPlace ? v : null
  const set = (k: string, x: unknown) => {
    ;(out ??= { ...v })[k] = x
  }
  const p = pairOf(s)
  if (p !== null) {
    const name = v[p.name.name]
    const rawId = v[p.id.name]
    const id = isUuid(rawId) ? uuidToBase64(rawId) : rawId
    if ((name === '' || name === null || name === undefined) && typeof id === 'string' && ids.nameOf.has(id)) set(p.name.name, ids.nameOf.get(id))
    else if ((id === ZERO_UUID || id === undefined) && typeof name === 'string' && ids.idOf.has(name)) set(p.id.name, ids.idOf.get(name))
  }
  for (const f of s.fields) {
    if (f.struct === undefined) continue
    const x = v[f.name]
    if (f.type === 'struct' && typeof x === 'object' && x !== null) {
      const y = fill(f.struct, x as Obj, ids, inPlace)
      if (y !== x) set(f.name, y)
    } else if (Array.isArray(x)) {
      let arr: unknown[] | null = null
      for (let i = 0; i < x.length; i++) {
        const e = x[i]
        if (typeof e !== 'object' || e === null) continue
        const y = fill(f.struct, e as Obj, ids, inPlace)
        if (y !== e) (arr ??= [...x])[i] = y
      }
      if (arr !== null) set(f.name, arr)
    }
  }
  return out ?? v
}

/**
 * toVersion fits every name/id pair of a request to a version: where the version carries only the
 * id, a named topic's id is filled and the name left at its default; where it carries only the name,
 * the other way round. Where it carries both (Metadata v10+, DeleteTopics v6), the pair is left as
 * given, since naming a topic both ways is itself an error there. The body is copied where it changes.
 */
function toVersion(s: StructSchema, v: Obj, version: number, ids: TopicIds): Obj {
  if (typeof v !== 'object' || v === null) return v
  let out: Obj | null = null
  const set = (k: string, x: unknown) => {
    ;(out ??= { ...v })[k] = x
  }
  const p = pairOf(s)
  if (p !== null) {
    const has = (f: FieldSchema) => version >= f.versions[0] && version <= f.versions[1]
    const name = v[p.name.name]
    const rawId = v[p.id.name]
    const id = isUuid(rawId) ? uuidToBase64(rawId) : rawId
    if (!has(p.name) && has(p.id)) {
      if ((id === undefined || id === ZERO_UUID) && typeof name === 'string' && ids.idOf.has(name)) set(p.id.name, ids.idOf.get(name))
      if (name !== undefined) set(p.name.name, p.name.default === null ? null : '')
    } else if (!has(p.id) && has(p.name)) {
      if ((name === undefined || name === '' || name === null) && typeof id === 'string' && ids.nameOf.has(id)) set(p.name.name, ids.nameOf.get(id))
      if (id !== undefined) set(p.id.name, ZERO_UUID)
    }
  }
  for (const f of s.fields) {
    if (f.struct === undefined) continue
    const x = v[f.name]
    if (f.type === 'struct' && typeof x === 'object' && x !== null) {
      const y = toVersion(f.struct, x as Obj, version, ids)
      if (y !== x) set(f.name, y)
    } else if (Array.isArray(x)) {
      let arr: unknown[] | null = null
      for (let i = 0; i < x.length; i++) {
        const e = x[i]
        if (typeof e !== 'object' || e === null) continue
        const y = toVersion(f.struct, e as Obj, version, ids)
        if (y !== e) (arr ??= [...x])[i] = y
      }
      if (arr !== null) set(f.name, arr)
    }
  }
  return out ?? v
}

// ---------------------------------------------------------------- the router's fields

/** checkSplit checks the fields a request split per leader is routed by, before it is split. */
function checkSplit(api: ApiMessage, body: unknown): void {
  const rule = routeRule(api)
  if (rule.kind !== 'leaders') return
  const s = rule.spec
  const root = api.requestSchema.name
  const fail = (path: string, problem: string) => {
    throw new InvalidRequestError(api.name, -1, path, problem)
  }
  const topics = (body as Obj)[s.topics]
  if (!Array.isArray(topics)) fail(`${root}.${s.topics}`, `must be an array of topics, got ${topics === undefined ? 'nothing' : typeof topics}`)
  ;(topics as unknown[]).forEach((t, i) => {
    const tp = `${root}.${s.topics}[${i}]`
    if (typeof t !== 'object' || t === null) fail(tp, 'must be an object')
    const name = (t as Obj)[s.topicName]
    if (typeof name !== 'string' || name === '') fail(`${tp}.${s.topicName}`, `must name the topic (a non-empty string, or a known topicId to fill it from), got ${JSON.stringify(name)}`)
    const parts = (t as Obj)[s.partitions]
    if (!Array.isArray(parts)) fail(`${tp}.${s.partitions}`, `must be an array of partitions, got ${parts === undefined ? 'nothing' : typeof parts}`)
    ;(parts as unknown[]).forEach((p, j) => {
      const idx = typeof p === 'object' && p !== null ? (p as Obj)[s.partitionIndex] : undefined
      if (!Number.isInteger(idx) || (idx as number) < 0) fail(`${tp}.${s.partitions}[${j}].${s.partitionIndex}`, `must be a partition number, got ${JSON.stringify(idx)}`)
    })
  })
}

// ---------------------------------------------------------------- shapes that changed between versions

interface Shape {
  /** collect adds topic names and ids that the old shape carries outside name/id pairs. */
  collect?(body: Obj, out: { names: Set<string>; ids: Set<string> }): void
  /** toVersion moves a body into the shape of `version`, or returns undefined to keep it. */
  toVersion?(version: number, body: Obj, ids: TopicIds): Obj | undefined
  /** fromVersion gives the response the shape the body was written in, too. */
  fromVersion?(body: Obj, res: Obj, ids: TopicIds): void
}

const isEmpty = (x: unknown) => x === undefined || (Array.isArray(x) && x.length === 0)

const SHAPES: { readonly [key: number]: Shape } = {
  // KIP-709: v8 moved the group id and topics into `groups`, so one request can ask for many groups;
  // v10 (KIP-848) names topics by id.
  [ApiKey.OffsetFetch]: {
    toVersion(version, b) {
      const legacy = typeof b.groupId === 'string' && b.groupId !== '' && isEmpty(b.groups)
      if (version >= 8 && legacy) {
        const topics = b.topics as Array<{ name: string; partitionIndexes: number[] }> | null | undefined
        return {
          ...b,
          groupId: '',
          topics: [],
          groups: [{ groupId: b.groupId, memberId: null, memberEpoch: -1, topics: topics == null ? null : topics.map((t) => ({ name: t.name, topicId: ZERO_UUID, partitionIndexes: t.partitionIndexes })) }],
        }
      }
      const groups = b.groups as Array<{ groupId: string; topics: Array<{ name: string; partitionIndexes: number[] }> | null }> | undefined
      if (version <= 7 && groups?.length === 1 && (b.groupId === '' || b.groupId === undefined)) {
        const g = groups[0]!
        return { ...b, groupId: g.groupId, groups: [], topics: g.topics === null ? null : g.topics.map((t) => ({ name: t.name, partitionIndexes: t.partitionIndexes })) }
      }
      if (version <= 7 && (groups?.length ?? 0) > 1) {
        throw new InvalidRequestError('OffsetFetch', version, 'OffsetFetchRequest.groups', `holds ${groups!.length} groups, but the coordinator speaks version ${version}, which asks for one group per request`)
      }
      return undefined
    },
    fromVersion(_body, res) {
      const groups = res.groups as Array<{ groupId: string; errorCode: number; topics: unknown[] }>
      if (groups.length === 1 && isEmpty(res.topics) && !res.errorCode) {
        res.topics = groups[0]!.topics
        res.errorCode = groups[0]!.errorCode
      } else if (groups.length === 0 && _body.groupId === undefined) {
        const gs = _body.groups as Array<{ groupId: string }> | undefined
        if (gs?.length === 1) res.groups = [{ groupId: gs[0]!.groupId, topics: res.topics, errorCode: res.errorCode }]
      }
    },
  },
  // KIP-516: v6 deletes topics by name or id.
  [ApiKey.DeleteTopics]: {
    toVersion(version, b, ids) {
      const names = (b.topicNames ?? []) as string[]
      const topics = (b.topics ?? []) as Array<{ name: string | null; topicId: string }>
      if (version >= 6 && names.length > 0 && topics.length === 0) return { ...b, topicNames: [], topics: names.map((name) => ({ name, topicId: ZERO_UUID })) }
      if (version <= 5 && topics.length > 0 && names.length === 0) {
        return {
          ...b,
          topics: [],
          topicNames: topics.map((t, i) => {
            const name = t.name ?? ids.nameOf.get(isUuid(t.topicId) ? uuidToBase64(t.topicId) : '')
            if (name === undefined) throw new InvalidRequestError('DeleteTopics', version, `DeleteTopicsRequest.topics[${i}]`, `names topic id ${t.topicId}, which no broker knows, and version ${version} deletes by name only`)
            return name
          }),
        }
      }
      return undefined
    },
  },
  // KIP-345: v3 removes many members, static ones by instance id.
  [ApiKey.LeaveGroup]: {
    toVersion(version, b) {
      const members = (b.members ?? []) as Array<{ memberId: string }>
      if (version >= 3 && typeof b.memberId === 'string' && b.memberId !== '' && members.length === 0) {
        return { ...b, memberId: '', members: [{ memberId: b.memberId, groupInstanceId: null, reason: null }] }
      }
      if (version <= 2 && members.length === 1 && (b.memberId === '' || b.memberId === undefined)) return { ...b, memberId: members[0]!.memberId, members: [] }
      return undefined
    },
    fromVersion(body, res) {
      const members = res.members as Array<{ errorCode: number }>
      if (typeof body.memberId === 'string' && body.memberId !== '' && members.length === 1 && !res.errorCode) res.errorCode = members[0]!.errorCode
    },
  },
}
