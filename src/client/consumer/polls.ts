/**
 * What a consumer's polls wait on, shared by the consumer (direct and groups) and the share-group
 * member: the polls parked until records or errors come, the errors the next poll reports, and the
 * result of a poll that ends with nothing.
 */
import { AbortError, ClientClosedError } from '../errors.js'
import { Fetches, type FetchError } from './fetches.js'

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
 * endedPoll is the result of a poll that ends without records: the errors still pending, then a
 * ClientClosedError when the consumer closed, else an AbortError whose cause is the signal's reason.
 */
export function endedPoll(closed: boolean, signal: AbortSignal | undefined, errors: PollErrors | null): Fetches {
  const f = new Fetches()
  errors?.takeInto(f)
  f.addError(closed ? new ClientClosedError() : new AbortError(signal?.reason))
  return f
}
