/**
 * What every `kafka-wire` subcommand shares: flag parsing with errors that say what is wrong and where
 * the help is, the broker address, a first contact with the cluster that fails clearly when nothing
 * answers, and the small formatting helpers of the progress and summary lines.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { Client, coreOf } from '../client/client.js'
import type { ClientOptions } from '../client/options.js'
import { KafkaWireError } from '../protocol/errors.js'
import { Admin } from '../admin/admin.js'

/** UsageError is a mistake on the command line: the command prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** CliError is a failure that is not a usage mistake (an unreachable broker, a missing topic): exit 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CliError'
  }
}

/** Options is a subcommand's parseArgs option table. */
export type Options = NonNullable<ParseArgsConfig['options']>

/** Parsed is what parse returns: flag values by name (each command casts its own) and positionals. */
export interface Parsed {
  values: { [name: string]: string | boolean | Array<string | boolean> | undefined }
  positionals: string[]
}

/**
 * parse parses a subcommand's arguments strictly. parseArgs' own messages are turned into UsageErrors
 * that name the command, e.g. "kafka-wire produce: unknown option --tpoic".
 */
export function parse(command: string, argv: string[], options: Options, allowPositionals = false): Parsed {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true }) as Parsed
  } catch (err) {
    const e = err as Error & { code?: string }
    if (e.code?.startsWith('ERR_PARSE_ARGS')) {
      const msg = e.message
        .replace(/^Unknown option '([^']+)'.*$/s, 'unknown option $1')
        .replace(/^Option '([^']+)' argument missing$/, 'option $1 needs a value')
        .replace(/^Unexpected argument '([^']+)'.*$/s, 'unexpected argument $1')
        .replace(/^Option '(.+?)' does not take an argument$/, 'option $1 takes no value')
      throw new UsageError(`${command}: ${msg}`)
    }
    throw err
  }
}

/** BROKERS_OPTION is the -b flag every command that talks to a cluster takes. */
export const BROKERS_OPTION = { brokers: { type: 'string', short: 'b' } } as const

/** brokersFrom returns the seed brokers: -b, else KAFKA_BOOTSTRAP, else undefined. */
export function brokersFrom(flag: string | undefined): string[] | undefined {
  const v = flag ?? process.env.KAFKA_BOOTSTRAP
  if (v === undefined || v.trim() === '') return undefined
  return v.split(',').map((s) => s.trim()).filter(Boolean)
}

/** DEFAULT_BROKERS is where commands look when neither -b nor KAFKA_BOOTSTRAP says. */
export const DEFAULT_BROKERS = ['127.0.0.1:9092']

/** int parses an integer flag, with an error naming it. */
export function int(command: string, flag: string, v: string | undefined, def: number, min = 0): number {
  if (v === undefined) return def
  const n = Number(v.replace(/_/g, ''))
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${command}: --${flag} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  return n
}

/** newClient makes a client, turning option errors (a malformed broker address) into usage errors. */
export function newClient(command: string, opts: ClientOptions): Client {
  try {
    return new Client({ clientId: 'kafka-wire-cli', ...opts })
  } catch (err) {
    if (err instanceof KafkaWireError && err.code === 'INVALID_OPTION') {
      const msg = err.message.replace(/^invalid option seedBrokers/, 'invalid broker address (-b)')
      throw new UsageError(`${command}: ${msg}`)
    }
    throw err
  }
}

/**
 * reach loads metadata once (for `topic` when given) and fails with a message that names the
 * addresses tried when no broker answers within `timeoutMs`. Returns the topic's partition count
 * (0 when the topic does not exist, or when no topic was asked).
 */
export async function reach(client: Client, brokers: string[], topic: string | undefined, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(`no answer from the broker at ${brokers.join(',')} within ${timeoutMs / 1000} s`)), timeoutMs)
  })
  try {
    // One metadata load through the core, with no retries: an unreachable broker fails at once with
    // its connection error, which this command reports.
    const core = coreOf(client)
    const work = topic === undefined ? core.metadata.refresh(true).then(() => 0) : core.topic(topic, true).then((t) => t?.partitions.length ?? 0)
    return await Promise.race([work, timeout])
  } catch (err) {
    if (err instanceof CliError) throw new CliError(`cannot reach Kafka: ${err.message}. Is a broker running there? Give its address with -b host:port or KAFKA_BOOTSTRAP (\`kafka-wire broker\` starts one).`)
    const why = err instanceof Error ? err.message : String(err)
    throw new CliError(`cannot reach Kafka at ${brokers.join(',')}: ${why}. Is a broker running there? Give its address with -b host:port or KAFKA_BOOTSTRAP (\`kafka-wire broker\` starts one).`)
  } finally {
    clearTimeout(timer)
  }
}

/** num formats a count with thousands separators. */
export const num = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/**
 * Progress draws one status line on stderr, redrawn in place at most every 200 ms when stderr is a
 * terminal; elsewhere (pipes, CI logs) it prints a line every few seconds instead.
 */
export class Progress {
  #last = 0
  #tty = process.stderr.isTTY === true
  #drawn = false
  #every: number
  constructor(everyMs?: number) {
    this.#every = everyMs ?? (this.#tty ? 200 : 5000)
  }
  update(line: () => string, force = false): void {
    const now = Date.now()
    if (!force && now - this.#last < this.#every) return
    this.#last = now
    if (this.#tty) {
      process.stderr.write(`\r\x1b[2K${line()}`)
      this.#drawn = true
    } else process.stderr.write(`${line()}\n`)
  }
  done(): void {
    if (this.#drawn) process.stderr.write('\n')
    this.#drawn = false
  }
}

/** onInterrupt runs `fn` on the first Ctrl-C or SIGTERM; a second one exits at once. */
export function onInterrupt(fn: () => void): void {
  let seen = false
  const handler = () => {
    if (seen) process.exit(130)
    seen = true
    fn()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

/** createTopic creates a topic and waits until every broker knows it and each partition has a leader. */
export async function createTopic(client: Client, name: string, partitions: number): Promise<void> {
  await new Admin(client).createTopic({ name, partitions })
}

/** deleteTopic deletes a topic the command created; a failure is not the command's failure. */
export async function deleteTopic(client: Client, name: string): Promise<void> {
  await new Admin(client).deleteTopics([name]).catch(() => {})
}
