// Helpers for consumer integration tests: producing numbered keys, polling until a condition holds,
// and waiting for a client's consumer to reach a state. Topic creation, the shared broker and client
// bookkeeping come from ../helpers.ts.
import type { Client } from '../../../src/client/client.js'
import type { Record } from '../../../src/client/record.js'

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
    const errs = f.errors().filter((e) => e.error.name !== 'AbortError' && !/abort/i.test(e.error.message))
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
    const cur = c.consumer.cursor(topic, p)
    return cur !== undefined && cur.pending === null && cur.offset >= 0n
  })
}
