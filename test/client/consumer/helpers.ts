// Helpers for consumer integration tests: producing numbered keys, polling until a condition holds,
// and waiting for a client's consumer to reach a state. Topic creation, the shared broker and client
// bookkeeping come from ../helpers.ts.
import { Client, consumerOf } from '../../../src/client/client.js'
import type { ClientOptions, PartitionsCallback } from '../../../src/client/options.js'
import type { Record } from '../../../src/protocol/record.js'
import { ConsumerGroupDescribe } from '../../../src/protocol/messages/consumer-group-describe.js'
import { DescribeGroups } from '../../../src/protocol/messages/describe-groups.js'
import { AbortError } from '../../../src/client/errors.js'
import { Admin } from '../../../src/admin/index.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { newClient } from '../helpers.js'

/** PROTOCOLS are the two group protocols, for tests that run once per protocol (classic heartbeats every 500 ms). */
export const PROTOCOLS: ReadonlyArray<{ name: string; opts: Partial<ClientOptions> }> = [
  { name: 'classic', opts: { heartbeatInterval: 500 } },
  { name: 'KIP-848', opts: { groupProtocol: 'consumer' } },
]

/**
 * produceKeys produces `n` records `${prefix}${i}` (key and value alike) and resolves when every one
 * was acknowledged; it throws on the first failure. `partition` pins the partition, `timestamp` gives
 * each record's timestamp, `valueSize` pads values to a size.
 */
export async function produceKeys(
  c: Client,
  topic: string,
  n: number,
  opts: { prefix?: string; from?: number; partition?: number; timestamp?: (i: number) => number; valueSize?: number } = {},
): Promise<void> {
  const prefix = opts.prefix ?? 'k'
  const from = opts.from ?? 0
  const res = await c.produceSync(
    Array.from({ length: n }, (_, j) => {
      const i = from + j
      const key = `${prefix}${i}`
      return {
        topic,
        key,
        value: opts.valueSize === undefined ? key : padded(key, opts.valueSize),
        ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
        ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp(i) } : {}),
      }
    }),
  )
  const failed = res.find((r) => r.error !== null)
  if (failed) throw failed.error
}

/** padded is `key:` followed by 'v's, `size` bytes long (or just `key:` when that is longer). */
function padded(key: string, size: number): Buffer {
  const b = Buffer.alloc(Math.max(size, key.length + 1), 'v')
  b.write(key + ':')
  return b
}

/** newShareMember makes a share-group member of `topic`, with a short fetch wait so that polls and close do not wait on a ShareFetch parked on the broker for long. */
export function newShareMember(k: KafkaCluster, topic: string, group: string, opts: Partial<ClientOptions<Client>> = {}): Client {
  return newClient(k, { shareGroup: group, consumeTopics: [topic], fetchMaxWait: 1_000, ...opts })
}

/**
 * shareGroupFromStart sets a share group's configs before any member joins: share.auto.offset.reset
 * 'earliest' (a new share group starts at the latest offsets otherwise) and whatever `extra` adds.
 */
export async function shareGroupFromStart(c: Client, group: string, extra: { [name: string]: string } = {}): Promise<void> {
  const configs = Object.entries({ 'share.auto.offset.reset': 'earliest', ...extra }).map(([name, value]) => ({ name, value }))
  const [res] = await new Admin(c).alterConfigs([{ type: 'group', name: group, configs }])
  if (res!.error !== null) throw new Error(`setting ${JSON.stringify(configs)} on share group ${group}: ${res!.error.message}`)
}

/**
 * pollUntil polls `c` (pollFetches, or pollRecords when `max` is set) and collects records until
 * `done(records)` holds, failing after `timeoutMs` with what it had. Fetch errors fail at once unless
 * `allowErrors` is set.
 */
export async function pollUntil(
  c: Client,
  done: (all: Record[]) => boolean,
  opts: { timeoutMs?: number; max?: number; allowErrors?: boolean; what?: string } = {},
): Promise<Record[]> {
  const all: Record[] = []
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  while (!done(all)) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out waiting for ${opts.what ?? 'records'}: have ${all.length} (${summary(all)})`)
    const signal = AbortSignal.timeout(Math.min(left, 1_000))
    const f = opts.max !== undefined ? await c.pollRecords(opts.max, { signal }) : await c.pollFetches({ signal })
    const errs = f.errors().filter((e) => !(e.error instanceof AbortError))
    if (errs.length > 0 && !opts.allowErrors) throw new Error(`poll returned errors: ${errs.map((e) => `${e.topic}[${e.partition}] ${e.error.message}`).join('; ')}`)
    for (const r of f.records()) all.push(r)
  }
  return all
}

/** keysOf returns the records' keys as strings. */
export function keysOf(records: Record[]): string[] {
  return records.map((r) => (r.key === null ? '<null>' : r.key.toString()))
}

/** summary describes records per topic-partition as offset ranges, for failure messages. */
export function summary(records: Record[]): string {
  const by = new Map<string, bigint[]>()
  for (const r of records) {
    const k = `${r.topic.slice(0, 12)}[${r.partition}]`
    let a = by.get(k)
    if (a === undefined) by.set(k, (a = []))
    a.push(r.offset)
  }
  return [...by].map(([k, os]) => `${k}: ${os.length} from ${os[0]} to ${os[os.length - 1]}`).join(', ') || 'none'
}

/** resolved is true once every consumed partition of `topic` has a start offset (ListOffsets answered). */
export function resolved(c: Client, topic: string, partitions: number[]): boolean {
  return partitions.every((p) => {
    const cur = consumerOf(c).cursor(topic, p)
    return cur !== undefined && cur.pending === null && cur.offset >= 0n
  })
}

/** GroupEvent is one call of a member's partition callbacks. */
export interface GroupEvent {
  kind: 'assigned' | 'revoked' | 'lost'
  partitions: number[]
  at: number
}

/**
 * Member is a group member of one topic that records its partition callbacks: `owned` is what the
 * callbacks say it holds, `events` every call in order. Callbacks given in `opts` still run, after
 * the bookkeeping (and are awaited, so a test can hold a rebalance).
 */
export class Member {
  readonly client: Client
  readonly owned = new Set<number>()
  readonly events: GroupEvent[] = []
  readonly name: string

  constructor(name: string, make: (opts: Partial<ClientOptions>) => Client, opts: Partial<ClientOptions>) {
    this.name = name
    const wrap = (kind: GroupEvent['kind'], user?: PartitionsCallback | undefined): PartitionsCallback => async (parts) => {
      const ps = [...parts.values()].flat().sort((a, b) => a - b)
      this.events.push({ kind, partitions: ps, at: Date.now() })
      for (const p of ps) kind === 'assigned' ? this.owned.add(p) : this.owned.delete(p)
      await user?.(parts)
    }
    this.client = make({
      ...opts,
      onPartitionsAssigned: wrap('assigned', opts.onPartitionsAssigned),
      onPartitionsRevoked: wrap('revoked', opts.onPartitionsRevoked),
      onPartitionsLost: wrap('lost', opts.onPartitionsLost),
    })
  }

  /** ownedList is the owned partitions in order. */
  ownedList(): number[] {
    return [...this.owned].sort((a, b) => a - b)
  }

  /** of returns the partitions of every event of a kind, in order. */
  of(kind: GroupEvent['kind']): number[][] {
    return this.events.filter((e) => e.kind === kind).map((e) => e.partitions)
  }
}

/** describeGroup returns a group's state and its members' ids (DescribeGroups, or ConsumerGroupDescribe for KIP-848 groups). */
export async function describeGroup(
  c: Client,
  group: string,
  protocol: 'classic' | 'consumer',
): Promise<{ state: string; members: Array<{ memberId: string; instanceId: string | null; memberEpoch?: number; assigned?: number; target?: number }> }> {
  if (protocol === 'classic') {
    const req = DescribeGroups.newRequest()
    req.groups = [group]
    const res = await c.request(DescribeGroups, req)
    const g = res.groups[0]!
    return { state: g.groupState, members: g.members.map((m) => ({ memberId: m.memberId, instanceId: m.groupInstanceId })) }
  }
  const req = ConsumerGroupDescribe.newRequest()
  req.groupIds = [group]
  const res = await c.request(ConsumerGroupDescribe, req)
  const g = res.groups[0]!
  const count = (a: { topicPartitions: Array<{ partitions: number[] }> }) => a.topicPartitions.reduce((n, tp) => n + tp.partitions.length, 0)
  return {
    state: g.groupState,
    members: g.members.map((m) => ({ memberId: m.memberId, instanceId: m.instanceId, memberEpoch: m.memberEpoch, assigned: count(m.assignment), target: count(m.targetAssignment) })),
  }
}

/** partitionsCovered is true when members own `n` partitions between them, each exactly once. */
export function partitionsCovered(members: Member[], n: number): boolean {
  const all = members.flatMap((m) => m.ownedList())
  return all.length === n && new Set(all).size === n
}
