/**
 * KafkaJS's instrumentation events: the event names of producers, consumers and admins, the
 * `{ id, type, timestamp, payload }` events listeners receive, and the emitter behind `on()`, plus the
 * hook that turns the client's request hooks into the `*.network.request*` events.
 */
import { ApiKey } from '../protocol/messages/api-key.js'
import type { BrokerE2E, BrokerMetadata, Hook } from '../hooks/index.js'
import { RequestTimeoutError } from '../client/errors.js'
import { KafkaJSNonRetriableError } from './errors.js'
import type { Logger } from './logger.js'

/** InstrumentationEvent is what an event listener receives. */
export interface InstrumentationEvent<T> {
  /** id increases by one per event emitted in the process (a number, as KafkaJS emits it). */
  id: string
  type: string
  /** timestamp is Date.now() when the event was emitted. */
  timestamp: number
  payload: T
}

/** RemoveInstrumentationEventListener removes the listener `on()` added. */
export type RemoveInstrumentationEventListener<T> = () => void

const network = { REQUEST: 'network.request', REQUEST_TIMEOUT: 'network.request_timeout', REQUEST_QUEUE_SIZE: 'network.request_queue_size' } as const

/** ProducerEvents are the names of the events a producer emits. */
export type ProducerEvents = {
  CONNECT: 'producer.connect'
  DISCONNECT: 'producer.disconnect'
  REQUEST: 'producer.network.request'
  REQUEST_TIMEOUT: 'producer.network.request_timeout'
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size'
}

/** ConsumerEvents are the names of the events a consumer emits. */
export type ConsumerEvents = {
  HEARTBEAT: 'consumer.heartbeat'
  COMMIT_OFFSETS: 'consumer.commit_offsets'
  GROUP_JOIN: 'consumer.group_join'
  FETCH_START: 'consumer.fetch_start'
  FETCH: 'consumer.fetch'
  START_BATCH_PROCESS: 'consumer.start_batch_process'
  END_BATCH_PROCESS: 'consumer.end_batch_process'
  CONNECT: 'consumer.connect'
  DISCONNECT: 'consumer.disconnect'
  STOP: 'consumer.stop'
  CRASH: 'consumer.crash'
  REBALANCING: 'consumer.rebalancing'
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics'
  REQUEST: 'consumer.network.request'
  REQUEST_TIMEOUT: 'consumer.network.request_timeout'
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size'
}

/** AdminEvents are the names of the events an admin client emits. */
export type AdminEvents = {
  CONNECT: 'admin.connect'
  DISCONNECT: 'admin.disconnect'
  REQUEST: 'admin.network.request'
  REQUEST_TIMEOUT: 'admin.network.request_timeout'
  REQUEST_QUEUE_SIZE: 'admin.network.request_queue_size'
}

/** PRODUCER_EVENTS is `producer.events`. */
export const PRODUCER_EVENTS: Readonly<ProducerEvents> = Object.freeze({
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: `producer.${network.REQUEST}`,
  REQUEST_TIMEOUT: `producer.${network.REQUEST_TIMEOUT}`,
  REQUEST_QUEUE_SIZE: `producer.${network.REQUEST_QUEUE_SIZE}`,
})

/** CONSUMER_EVENTS is `consumer.events`. */
export const CONSUMER_EVENTS: Readonly<ConsumerEvents> = Object.freeze({
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: `consumer.${network.REQUEST}`,
  REQUEST_TIMEOUT: `consumer.${network.REQUEST_TIMEOUT}`,
  REQUEST_QUEUE_SIZE: `consumer.${network.REQUEST_QUEUE_SIZE}`,
})

/** ADMIN_EVENTS is `admin.events`. */
export const ADMIN_EVENTS: Readonly<AdminEvents> = Object.freeze({
  CONNECT: 'admin.connect',
  DISCONNECT: 'admin.disconnect',
  REQUEST: `admin.${network.REQUEST}`,
  REQUEST_TIMEOUT: `admin.${network.REQUEST_TIMEOUT}`,
  REQUEST_QUEUE_SIZE: `admin.${network.REQUEST_QUEUE_SIZE}`,
})

let nextId = 0

/**
 * Instrumentation is one producer's, consumer's or admin's event emitter. Events are built only when
 * a listener is registered; listeners run synchronously, and a listener that throws or rejects is
 * logged and does not disturb the client, as in KafkaJS.
 */
export class Instrumentation {
  readonly #names: ReadonlySet<string>
  readonly #kind: string
  readonly #logger: Logger
  readonly #listeners = new Map<string, Array<(e: InstrumentationEvent<unknown>) => unknown>>()

  constructor(kind: 'producer' | 'consumer' | 'admin', events: object, logger: Logger) {
    this.#kind = kind
    this.#names = new Set(Object.values(events) as string[])
    this.#logger = logger
  }

  /** on adds a listener and returns the function that removes it; unknown names throw KafkaJSNonRetriableError. */
  on(name: string, listener: (e: InstrumentationEvent<any>) => unknown): () => void {
    if (!this.#names.has(name)) {
      const keys = Object.keys(this.#kind === 'producer' ? PRODUCER_EVENTS : this.#kind === 'consumer' ? CONSUMER_EVENTS : ADMIN_EVENTS)
      throw new KafkaJSNonRetriableError(`Event name should be one of ${keys.map((k) => `${this.#kind}.events.${k}`).join(', ')}`)
    }
    let ls = this.#listeners.get(name)
    if (ls === undefined) this.#listeners.set(name, (ls = []))
    ls.push(listener)
    return () => {
      const cur = this.#listeners.get(name)
      const i = cur?.indexOf(listener) ?? -1
      if (i >= 0) cur!.splice(i, 1)
    }
  }

  /** listening is true when some listener waits for the event, so callers can skip building payloads. */
  listening(name: string): boolean {
    const ls = this.#listeners.get(name)
    return ls !== undefined && ls.length > 0
  }

  /** emit sends an event to its listeners. */
  emit(name: string, payload: unknown = null): void {
    const ls = this.#listeners.get(name)
    if (ls === undefined || ls.length === 0) return
    const event = { id: nextId++ as unknown as string, type: name, timestamp: Date.now(), payload }
    for (const l of [...ls]) {
      try {
        const r = l(event)
        if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') {
          ;(r as Promise<unknown>).then(undefined, (err: Error) => this.#logger.error(`Failed to execute listener: ${err?.message}`, { eventName: name, stack: err?.stack }))
        }
      } catch (err) {
        this.#logger.error(`Failed to execute listener: ${(err as Error)?.message}`, { eventName: name, stack: (err as Error)?.stack })
      }
    }
  }
}

// apiNames gives KafkaJS's name for an API key (its request modules' names): ApiKey's names, first letter lower-cased.
const API_NAMES = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key as number, name]))

/** apiName returns the API's name for the `*.network.request` events, such as 'Produce' or 'Fetch'. */
export function apiName(key: number): string {
  return API_NAMES.get(key) ?? `Unknown(${key})`
}

/**
 * networkHooks returns the client hooks that turn every request written and answered into KafkaJS's
 * network events: REQUEST for an answered request, REQUEST_TIMEOUT for one that timed out, and
 * REQUEST_QUEUE_SIZE with the number of requests written to a broker and not yet answered. `onFetch`
 * hears about Fetch requests as they are written and answered (the consumer's FETCH_START and FETCH).
 */
export function networkHooks(
  emitter: Instrumentation,
  events: { REQUEST: string; REQUEST_TIMEOUT: string; REQUEST_QUEUE_SIZE: string },
  clientId: string,
  onFetch?: { start(meta: BrokerMetadata): void; done(meta: BrokerMetadata, duration: number): void },
): Hook {
  const inflight = new Map<number, number>()
  const queue = (meta: BrokerMetadata, delta: number) => {
    const n = Math.max(0, (inflight.get(meta.nodeId) ?? 0) + delta)
    inflight.set(meta.nodeId, n)
    if (emitter.listening(events.REQUEST_QUEUE_SIZE)) emitter.emit(events.REQUEST_QUEUE_SIZE, { broker: `${meta.host}:${meta.port}`, clientId, queueSize: n })
  }
  return {
    onBrokerWrite(meta: BrokerMetadata, key: number, _bytes: number, _writeWait: number, _timeToWrite: number, err: Error | null) {
      if (err !== null) return
      queue(meta, +1)
      if (key === ApiKey.Fetch) onFetch?.start(meta)
    },
    onBrokerE2E(meta: BrokerMetadata, key: number, e2e: BrokerE2E) {
      if (e2e.writeErr !== null) return
      queue(meta, -1)
      const now = Date.now()
      const duration = e2e.durationE2E()
      if (key === ApiKey.Fetch && e2e.readErr === null) onFetch?.done(meta, Math.round(duration))
      const broker = `${meta.host}:${meta.port}`
      const sentAt = Math.round(now - duration)
      const createdAt = Math.round(sentAt - e2e.writeWait)
      if (e2e.readErr instanceof RequestTimeoutError) {
        if (emitter.listening(events.REQUEST_TIMEOUT)) {
          emitter.emit(events.REQUEST_TIMEOUT, { apiKey: key, apiName: apiName(key), apiVersion: -1, broker, clientId, correlationId: -1, createdAt, pendingDuration: Math.round(e2e.writeWait), sentAt })
        }
        return
      }
      if (e2e.readErr !== null || !emitter.listening(events.REQUEST)) return
      emitter.emit(events.REQUEST, {
        apiKey: key,
        apiName: apiName(key),
        apiVersion: -1,
        broker,
        clientId,
        correlationId: -1,
        createdAt,
        duration: Math.round(duration),
        pendingDuration: Math.round(e2e.writeWait),
        sentAt,
        size: e2e.bytesRead,
      })
    },
  }
}
