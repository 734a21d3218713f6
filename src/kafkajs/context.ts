/**
 * What a Kafka shares with the producers, consumers and admins it makes: its context, and KafkaJS's
 * retry settings and backoff. A module of its own, so that they need not import kafka.ts, which makes them.
 */
import type { Client } from '../client/client.js'
import type { ClientOptions } from '../client/options.js'
import type { HookInput } from '../hooks/index.js'
import type { Logger } from './logger.js'

/** RetryOptions are KafkaJS's retry settings. */
export interface RetryOptions {
  /** maxRetryTime caps one wait between retries, in ms. Default 30,000. */
  maxRetryTime?: number
  /** initialRetryTime is the first wait, in ms. Default 300. */
  initialRetryTime?: number
  /** factor is the randomization of each wait (±factor). Default 0.2. */
  factor?: number
  /** multiplier grows each wait. Default 2. */
  multiplier?: number
  /** retries bounds the number of retries. Default 5. */
  retries?: number
  /** restartOnFailure decides, for a consumer that crashed on a retriable error, whether it restarts. Default: restart. */
  restartOnFailure?: (e: Error) => Promise<boolean>
}

/** KafkaContext is what a Kafka shares with the producers, consumers and admins it makes (internal). */
export interface KafkaContext {
  readonly logger: Logger
  readonly clientId: string
  readonly retry: RetryOptions
  readonly hooks: HookInput<Client> | undefined
  /** brokers resolves the seed brokers (calling a BrokersFunction). */
  brokers(): Promise<string[]>
  /** clientOptions are the connection options of a kafka-wire Client for these seeds, with extra hooks. */
  clientOptions(seeds: string[], hooks: HookInput<Client>[], retry?: RetryOptions): ClientOptions<Client>
}

/**
 * kafkaJSBackoff returns KafkaJS's retry wait for a try: initialRetryTime, times multiplier per
 * retry, randomized by ±factor, capped at maxRetryTime.
 */
export function kafkaJSBackoff(retry: RetryOptions): (tries: number) => number {
  const initial = retry.initialRetryTime ?? 300
  const factor = retry.factor ?? 0.2
  const multiplier = retry.multiplier ?? 2
  const max = retry.maxRetryTime ?? 30_000
  return (tries) => {
    const base = Math.min(initial * multiplier ** Math.max(0, tries - 1), max)
    return Math.min(Math.ceil(base * (1 - factor + Math.random() * 2 * factor)), max)
  }
}
