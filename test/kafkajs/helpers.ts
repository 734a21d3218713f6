// Helpers for the KafkaJS facade's tests: the two libraries side by side, unique names per run, a
// neutral admin (kafka-wire's own) to create topics, and waits that fail with a message.
import { randomUUID } from 'node:crypto'
import kafkajs from 'kafkajs'
import * as facade from '../../src/kafkajs/index.js'
import { Client } from '../../src/client/client.js'
import { Admin } from '../../src/admin/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'

/** Lib is the module a scenario runs against: real KafkaJS 2.2.4 or kafka-wire/kafkajs, typed as KafkaJS. */
export type Lib = typeof kafkajs

/** LIBS are the two libraries, real KafkaJS first. */
export const LIBS: ReadonlyArray<{ name: 'kafkajs' | 'kafka-wire'; lib: Lib }> = [
  { name: 'kafkajs', lib: kafkajs },
  // The facade's types are KafkaJS's (test/kafkajs/types proves it for programs); here one object serves both.
  { name: 'kafka-wire', lib: facade as unknown as Lib },
]

/**
 * Scenario is one program of a differential suite, run on KafkaJS and on kafka-wire/kafkajs. `run`
 * returns what the program observed; `differs`, when given, checks the documented differences
 * between the two observations (which `run` keeps under a `differs` key, left out of the equality check).
 */
export interface Scenario<R> {
  name: string
  run(r: R): Promise<unknown>
  differs?(kafkajs: any, kafkaWire: any): void
}

/** Names hands out unique topic and group names for one run of a scenario and maps them back to placeholders. */
export class Names {
  readonly #made = new Map<string, string>()
  readonly #prefix: string

  constructor(lib: string) {
    this.#prefix = `${lib}-${randomUUID().slice(0, 8)}`
  }

  /** topic returns the run's name for placeholder topic `i`. */
  topic(i = 0): string {
    return this.#name(`topic${i}`)
  }

  /** group returns the run's name for placeholder group `i`. */
  group(i = 0): string {
    return this.#name(`group${i}`)
  }

  /** transactionalId returns the run's name for placeholder transactional id `i`. */
  transactionalId(i = 0): string {
    return this.#name(`txn${i}`)
  }

  #name(placeholder: string): string {
    for (const [real, p] of this.#made) if (p === placeholder) return real
    const real = `kjs-${this.#prefix}-${placeholder}`
    this.#made.set(real, `<${placeholder}>`)
    return real
  }

  /** normalize turns a scenario's observation into plain JSON with the run's names replaced by placeholders. */
  normalize(v: unknown): unknown {
    const json = JSON.stringify(v, (_k, x) => {
      if (typeof x === 'bigint') return `${x}n`
      if (x !== null && typeof x === 'object' && x.type === 'Buffer' && Array.isArray(x.data)) return `buf:${Buffer.from(x.data).toString('utf8')}`
      return x
    })
    let out = json ?? 'undefined'
    for (const [real, p] of this.#made) out = out.split(real).join(p)
    return JSON.parse(out)
  }
}

/** neutralAdmin is kafka-wire's own Admin over a client of the cluster, for setting scenarios up. */
export function neutralAdmin(k: KafkaCluster): { admin: Admin; client: Client } {
  const client = new Client({ seedBrokers: k.bootstrapServers, metadataMinAge: 100, retryBackoff: 100 })
  return { admin: new Admin(client), client }
}

/** createTopicNamed creates the run's topic `i` (`names.topic(i)`) through the neutral admin and returns its name. */
export async function createTopicNamed(admin: Admin, names: Names, i: number, partitions: number, configs: { [k: string]: string } = {}): Promise<string> {
  const name = names.topic(i)
  await admin.createTopic({ name, partitions, replicationFactor: 1, configs })
  return name
}

/** kafkaFor is a Kafka of `lib` on the cluster: quiet, and with short retries so that scenarios fail fast. */
export function kafkaFor(k: KafkaCluster, lib: Lib, clientId: string): InstanceType<Lib['Kafka']> {
  return new lib.Kafka({ brokers: k.bootstrapServers, clientId, logLevel: lib.logLevel.NOTHING, retry: { initialRetryTime: 100, retries: 3 } })
}

/** committedOffsets reads a group's committed offsets through `kafka`'s own admin, partitions in order per topic. */
export async function committedOffsets(kafka: InstanceType<Lib['Kafka']>, groupId: string, topics: string[]): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const res = await admin.fetchOffsets({ groupId, topics })
    return res.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })).sort((a, b) => a.partition - b.partition) }))
  } finally {
    await admin.disconnect()
  }
}

/** until waits for `cond`, checking every 20 ms, and fails naming `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** untilAsync waits for an asynchronous `cond`, checking every 50 ms, and fails naming `what` after `ms`. */
export async function untilAsync(cond: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** errorShape is what a program can observe of an error: class name, message, KafkaJS fields, instanceof checks. */
export function errorShape(lib: Lib, err: unknown): unknown {
  const e = err as { name?: string; message?: string; retriable?: boolean; type?: string; code?: unknown; cause?: unknown }
  const cause = e?.cause as { name?: string; type?: string; retriable?: boolean } | undefined
  return {
    name: e?.name,
    retriable: e?.retriable,
    type: e?.type,
    code: typeof e?.code === 'number' ? e.code : undefined,
    isKafkaJSError: err instanceof lib.KafkaJSError,
    isProtocolError: err instanceof lib.KafkaJSProtocolError,
    isNonRetriable: err instanceof lib.KafkaJSNonRetriableError,
    // kafka-wire/kafkajs keeps kafka-wire's own error as the cause of errors KafkaJS gives none (an
    // addition); causes that are KafkaJS errors are compared.
    cause: cause === undefined || !String(cause.name).startsWith('KafkaJS') ? undefined : { name: cause.name, type: cause.type, retriable: cause.retriable },
  }
}

/** caught runs `fn` and returns the error it threw or rejected with (or a marker when it did not fail). */
export async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  return new Error('did not fail')
}
