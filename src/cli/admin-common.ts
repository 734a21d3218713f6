/**
 * What the admin commands (`kafka-wire topics`, `groups`, `cluster`) share: an Admin reached with a
 * clear failure when no broker answers, aligned tables for people, exact JSON for scripts (offsets as
 * JSON numbers with every digit, errors as `{ code, message }`), and the exit status rule: 1 when any
 * item of the answer carries an error.
 */
import { Admin } from '../admin/admin.js'
import { KafkaWireError } from '../protocol/errors.js'
import { BROKERS_OPTION, DEFAULT_BROKERS, UsageError, brokersFrom, int, newClient, reach, type Parsed } from './common.js'

/** ADMIN_OPTIONS are the flags every admin command takes. */
export const ADMIN_OPTIONS = {
  ...BROKERS_OPTION,
  json: { type: 'boolean' },
  timeout: { type: 'string' },
} as const

/** ADMIN_FLAGS_HELP documents ADMIN_OPTIONS in each command's help. */
export const ADMIN_FLAGS_HELP = `  -b, --brokers HOST:PORT[,…]  seed brokers (default: $KAFKA_BOOTSTRAP, else ${DEFAULT_BROKERS[0]})
      --json                   print the answer as JSON (one document) for scripts
      --timeout MS             give up when no broker answers within MS (default 10000)
  -h, --help                   this help`

/** withAdmin reaches the cluster, runs `fn` with an Admin that owns its client, and closes it. */
export async function withAdmin<T>(cmd: string, values: Parsed['values'], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const brokers = brokersFrom(values.brokers as string | undefined) ?? DEFAULT_BROKERS
  const timeout = int(cmd, 'timeout', values.timeout as string | undefined, 10_000, 1)
  const client = newClient(cmd, { seedBrokers: brokers, dialTimeout: timeout })
  const admin = new Admin(client)
  try {
    await reach(client, brokers, undefined, timeout)
    return await fn(admin)
  } finally {
    await admin.client.close()
  }
}

/** Cell is what a table cell may hold; null prints as `-`. */
export type Cell = string | number | bigint | boolean | null | undefined

/** table formats rows under headers in columns padded to their widest cell, numbers right-aligned. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]?.length ?? 0)))
  const isNum = (c: Cell) => typeof c === 'number' || typeof c === 'bigint'
  // A column of numbers (with gaps) is right-aligned; a column of gaps only is not.
  const right = headers.map((_, i) => rows.some((r) => isNum(r[i])) && rows.every((r) => isNum(r[i]) || r[i] === null || r[i] === undefined))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 && !right[i] ? c : right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...text.map(line)].join('\n')
}

const BIG = '\u0000bigint:'

/**
 * json renders a value for scripts: bigints as JSON numbers with all their digits, errors as
 * `{ code, message }` (with the topic, partition, group or resource they name), Buffers as base64.
 */
export function json(value: unknown): string {
  const s = JSON.stringify(
    value,
    function (this: unknown, key, v: unknown) {
      const raw = (this as { [k: string]: unknown })[key]
      if (typeof v === 'bigint') return `${BIG}${v}`
      if (raw instanceof KafkaWireError) {
        const e: { [k: string]: unknown } = { code: raw.code, message: raw.message }
        for (const f of ['topic', 'partition', 'group', 'resource', 'broker'] as const) if (raw[f] !== undefined) e[f] = raw[f]
        return e
      }
      if (Buffer.isBuffer(raw)) return raw.toString('base64')
      if (raw instanceof Map) return Object.fromEntries(raw)
      return v
    },
    2,
  )
  // JSON.stringify writes the marker's NUL as \u0000.
  return s.replace(/"\\u0000bigint:(-?\d+)"/g, '$1')
}

/** errText is an item's error for a table: its code, or `-`. */
export const errText = (e: KafkaWireError | null | undefined): string | null => (e ? e.code : null)

/** failed reports whether any of the items carries an error (the command then exits 1). */
export const failed = (items: Array<{ error: KafkaWireError | null }>): boolean => items.some((i) => i.error !== null)

/** printErrors writes one line per item error on stderr. */
export function printErrors(cmd: string, items: Array<{ error: KafkaWireError | null }>): void {
  for (const i of items) if (i.error) process.stderr.write(`${cmd}: ${i.error.message}\n`)
}

/** keyValues parses repeated KEY=VALUE flags into a record, with a usage error naming the flag. */
export function keyValues(cmd: string, flag: string, vs: unknown): Array<[string, string]> {
  return ((vs as string[] | undefined) ?? []).map((kv) => {
    const i = kv.indexOf('=')
    if (i <= 0) throw new UsageError(`${cmd}: ${flag} wants KEY=VALUE, got ${JSON.stringify(kv)}`)
    return [kv.slice(0, i), kv.slice(i + 1)]
  })
}

/** action splits `cmd ACTION args…` into the action (default `def`) and the rest, refusing unknown actions. */
export function action(cmd: string, positionals: string[], actions: readonly string[], def: string): { act: string; args: string[] } {
  const [first, ...rest] = positionals
  if (first === undefined) return { act: def, args: [] }
  if (!actions.includes(first)) throw new UsageError(`${cmd}: unknown action ${JSON.stringify(first)}; actions: ${actions.join(', ')}`)
  return { act: first, args: rest }
}
