/**
 * What a consumer's polls wait on, shared by the consumer (direct and groups) and the share-group
 * member: the polls parked until records or errors come, the errors the next poll reports, and the
 * result of a poll that ends with nothing.
 */
import { ErrorCode, kafkaErrorCodes } from '../../protocol/error-codes.js'
import { KafkaProtocolError, KafkaWireError } from '../../protocol/errors.js'
import { AbortError, BrokersUnreachableError, ClientClosedError } from '../errors.js'
import type { MetadataCache } from '../metadata.js'
import { Fetches, type FetchError, type FetchPartition } from './fetches.js'

/** PollWaiters parks polls until `wakeAll`, or until a poll's own signal aborts. */
export class PollWaiters {
  #waiters: Array<() => void> = []

  /** wait resolves at the next wakeAll, or when `signal` aborts. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done)
        const i = this.#waiters.indexOf(done)
        if (i >= 0) this.#waiters.splice(i, 1)
        resolve()
      }
      this.#waiters.push(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  wakeAll(): void {
    const ws = this.#waiters
    this.#waiters = []
    for (const w of ws) w()
  }
}

/**
 * PollErrors are what the next poll reports besides records (failed authentication, an unreachable
 * cluster, a topic that does not exist): one per kind and place, the newest, so that a poll loop that
 * meets the same failure again and again is not flooded.
 */
export class PollErrors {
  #errors = new Map<string, FetchError>()

  get size(): number {
    return this.#errors.size
  }

  /** add keeps `error` for the next poll; `key` names its kind and place (a newer one of the same key replaces it). */
  add(error: Error, topic = '', partition = -1, key = `${(error as { code?: string }).code ?? error.name}\u0000${topic}\u0000${partition}`): void {
    this.#errors.delete(key)
    this.#errors.set(key, { topic, partition, error })
  }

  delete(key: string): void {
    this.#errors.delete(key)
  }

  clear(): void {
    this.#errors.clear()
  }

  /** takeInto moves the errors into a poll's result and returns how many. */
  takeInto(f: Fetches): number {
    const n = this.#errors.size
    if (n === 0) return 0
    for (const e of this.#errors.values()) f.addError(e.error, e.topic, e.partition)
    this.#errors.clear()
    return n
  }
}

/**
 * takeRoundRobin fills one poll's `out` from the sources with records buffered (`ready`, oldest
 * first): each gives its oldest buffered response (`take`, up to the records left; `max` <= 0 takes
 * all), then goes to the back of the line if it has more. One poll has a partition once per broker,
 * and a busy broker does not starve the others. `extra` is handed to each take.
 */
export function takeRoundRobin<T, S extends { readonly hasBuffered: boolean; take(max: number, out: FetchPartition[], extra: T): number }>(ready: S[], max: number, out: FetchPartition[], extra: T): void {
  let left = max > 0 ? max : Infinity
  for (let k = ready.length; k > 0 && ready.length > 0 && left > 0; k--) {
    const s = ready.shift()!
    left -= s.take(left, out, extra)
    if (s.hasBuffered) ready.push(s)
  }
}

/**
 * endedPoll is the result of a poll that ends without records: the errors still pending, then a
 * ClientClosedError when the consumer closed, else an AbortError whose cause is the signal's reason.
 */
export function endedPoll(closed: boolean, signal: AbortSignal | undefined, errors: PollErrors | null): Fetches {
  const f = new Fetches()
  errors?.takeInto(f)
  f.addError(closed ? new ClientClosedError() : new AbortError(signal?.reason))
  return f
}

/**
 * reportsMetadataError is true when polls are to hear of a failed metadata load: at once for an error
 * retrying cannot fix (failed authentication), after three failed loads in a row (`failures`) for a
 * cluster that cannot be reached.
 */
export function reportsMetadataError(err: Error, failures: number): boolean {
  return (err instanceof KafkaWireError && !err.retriable) || (err instanceof BrokersUnreachableError && failures >= 3)
}

/**
 * MissingTopics tells polls about consumed topics that metadata lacks. A topic missing from more than
 * unknownTopicRetries loads in a row is reported as UNKNOWN_TOPIC_OR_PARTITION (and again every as
 * many loads while it stays missing); an error retrying cannot fix (TOPIC_AUTHORIZATION_FAILED, ...)
 * at once. The report is withdrawn when the topic appears. Consuming goes on meanwhile.
 */
export class MissingTopics {
  #misses = new Map<string, number>()

  /**
   * check runs after each metadata load with the topics consumed, adding reports to `errors` or
   * withdrawing them; it returns true while some topic is missing (metadata is to be loaded again).
   */
  check(topics: ReadonlySet<string>, md: MetadataCache, unknownTopicRetries: number, errors: PollErrors): boolean {
    for (const t of this.#misses.keys()) if (!topics.has(t)) this.#misses.delete(t)
    const every = unknownTopicRetries + 1
    let missing = false
    for (const t of topics) {
      const info = md.topics.get(t)
      const code = info === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : info.errorCode
      const key = `topic\u0000${t}`
      if (code === 0) {
        if (this.#misses.delete(t)) errors.delete(key)
        continue
      }
      missing = true
      const misses = (this.#misses.get(t) ?? 0) + 1
      this.#misses.set(t, misses)
      const retriable = kafkaErrorCodes.get(code)?.retriable === true
      if (!retriable || (Number.isFinite(every) && misses % every === 0)) {
        const why = code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? `topic ${t} does not exist (missing from ${misses} metadata loads in a row); consuming starts when it is created` : null
        errors.add(new KafkaProtocolError(code, { topic: t, errorMessage: why }), t, -1, key)
      }
    }
    return missing
  }
}
