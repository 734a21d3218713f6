/**
 * `new Kafka(config)`: KafkaJS's entry point. It holds the connection settings and the logger, and
 * makes producers, consumers and admin clients, each over kafka-wire clients of its own (as each
 * KafkaJS producer, consumer and admin has a cluster connection of its own).
 */
import { Socket } from 'node:net'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { Client } from '../client/client.js'
import type { Dialer } from '../client/connection.js'
import type { ClientOptions } from '../client/options.js'
import type { HookInput } from '../hooks/index.js'
import { KafkaJSNonRetriableError } from './errors.js'
import { createLogger, logLevel, wireLogger, type logCreator, type Logger } from './logger.js'
import { Producer, type ProducerConfig } from './producer.js'
import { Consumer, type ConsumerConfig } from './consumer.js'
import { Admin, type AdminConfig } from './admin.js'
import { kafkaJSBackoff, type KafkaContext, type RetryOptions } from './context.js'
import type { ISocketFactoryArgs } from './types.js'
import { saslOf, type Mechanism, type SASLOptions } from './sasl.js'

export type { RetryOptions }
export type { Mechanism, OauthbearerProviderResponse, SASLMechanism, SASLOptions } from './sasl.js'

/** BrokersFunction returns the seed brokers, once per connect. */
export type BrokersFunction = () => string[] | Promise<string[]>

/**
 * ISocketFactory makes the socket of each broker connection, as KafkaJS's: it connects to host:port
 * (with TLS when `ssl` is set, the Kafka's `ssl` as given) and calls `onConnect` once connected.
 */
export type ISocketFactory = (args: ISocketFactoryArgs) => Socket

/** KafkaConfig configures `new Kafka()`, as KafkaJS's; `hooks` is kafka-wire's addition. */
export interface KafkaConfig {
  brokers: string[] | BrokersFunction
  ssl?: TlsOptions | boolean
  sasl?: SASLOptions | Mechanism
  clientId?: string
  /** connectionTimeout bounds connecting to a broker, in ms. Default 1,000. */
  connectionTimeout?: number
  /** authenticationTimeout bounds SASL authentication, in ms. Default 10,000. */
  authenticationTimeout?: number
  /** reauthenticationThreshold: kafka-wire re-authenticates before the session expires by itself; accepted and unused. */
  reauthenticationThreshold?: number
  /** requestTimeout bounds each request, in ms (added to a fetch's wait). Default 30,000. */
  requestTimeout?: number
  /** enforceRequestTimeout: false lets requests wait without a bound. Default true. */
  enforceRequestTimeout?: boolean
  retry?: RetryOptions
  socketFactory?: ISocketFactory
  logLevel?: logLevel
  logCreator?: logCreator
  /**
   * hooks are kafka-wire hooks given to every client this Kafka makes: `hooks: kotel.hooks()` traces
   * every send, receive and eachMessage (kafka-wire's addition).
   */
  hooks?: HookInput<Client>
}

/**
 * Kafka is KafkaJS's entry point: `new Kafka({ brokers, clientId, ssl, sasl, retry, logLevel,
 * logCreator })`, then `producer()`, `consumer({ groupId })` and `admin()`. Settings are checked here,
 * with KafkaJS's errors; nothing connects until a producer, consumer or admin does.
 */
export class Kafka {
  readonly #ctx: KafkaContext
  readonly #logger: Logger

  constructor(config: KafkaConfig) {
    if (config === null || typeof config !== 'object') throw new KafkaJSNonRetriableError('new Kafka() needs a config object')
    const brokers = config.brokers
    if (!Array.isArray(brokers) && typeof brokers !== 'function') {
      throw new KafkaJSNonRetriableError(`Failed to connect: expected brokers array and got ${String(brokers)}`)
    }
    if (config.socketFactory !== undefined && typeof config.socketFactory !== 'function') throw new KafkaJSNonRetriableError('socketFactory must be a function')
    const dialer = config.socketFactory === undefined ? undefined : socketDialer(config.socketFactory, config.ssl)
    let level: logLevel = config.logLevel ?? logLevel.INFO
    const root = createLogger({ level, logCreator: config.logCreator })
    this.#logger = {
      ...root,
      setLogLevel: (l: logLevel) => {
        level = l
        root.setLogLevel(l)
      },
    }
    const envLevel = (process.env.KAFKAJS_LOG_LEVEL ?? '').toUpperCase() as keyof typeof logLevel
    const currentLevel = () => (Object.hasOwn(logLevel, envLevel) ? logLevel[envLevel] : level)
    const sasl = saslOf(config.sasl, root)
    const clientId = config.clientId ?? 'kafkajs'
    const retry = config.retry ?? {}
    const connectionTimeout = config.connectionTimeout ?? 1000
    const authenticationTimeout = config.authenticationTimeout ?? 10_000
    const requestTimeout = config.requestTimeout ?? 30_000
    const wire = wireLogger(root.namespace('kafka-wire'), currentLevel)
    this.#ctx = {
      logger: this.#logger,
      clientId,
      retry,
      hooks: config.hooks,
      async brokers() {
        const list = typeof brokers === 'function' ? await brokers() : brokers
        if (!Array.isArray(list) || list.length === 0) throw new KafkaJSNonRetriableError(`Failed to connect: brokers should not be empty, got ${JSON.stringify(list)}`)
        return list
      },
      clientOptions(seeds, hooks, ownRetry) {
        const r = { ...retry, ...ownRetry }
        const opts: ClientOptions<Client> = {
          seedBrokers: seeds,
          clientId,
          dialTimeout: connectionTimeout + (sasl !== undefined ? authenticationTimeout : 0),
          requestTimeoutOverhead: config.enforceRequestTimeout === false ? 2 ** 31 - 1 : requestTimeout,
          retryBackoff: kafkaJSBackoff(r),
          requestRetries: r.retries ?? 5,
          retryTimeout: r.maxRetryTime ?? 30_000,
          logger: wire,
          hooks: config.hooks === undefined ? hooks : [config.hooks, ...hooks],
        }
        // A socket factory does TLS itself (KafkaJS hands it `ssl`), so the client must not add its own.
        if (dialer !== undefined) opts.dialer = dialer
        else if (config.ssl !== undefined && config.ssl !== false) opts.tls = config.ssl
        if (sasl !== undefined) opts.sasl = sasl
        return opts
      },
    }
  }

  /** producer makes a producer; nothing connects until its `connect()`. */
  producer(config: ProducerConfig = {}): Producer {
    return new Producer(this.#ctx, config)
  }

  /** consumer makes a consumer of a group; nothing connects until its `connect()`. */
  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(this.#ctx, config)
  }

  /** admin makes an admin client; nothing connects until its `connect()`. */
  admin(config: AdminConfig = {}): Admin {
    return new Admin(this.#ctx, config)
  }

  /** logger returns the root logger. */
  logger(): Logger {
    return this.#logger
  }
}

/**
 * socketDialer makes a KafkaJS socket factory kafka-wire's dialer: the socket is ready once the factory
 * calls onConnect, and an error before that fails the dial.
 */
function socketDialer(factory: ISocketFactory, ssl: KafkaConfig['ssl']): Dialer {
  return ({ host, port, signal }) =>
    new Promise<Socket>((resolve, reject) => {
      let socket: Socket | null = null
      let connected = false
      const settle = (err: Error | null) => {
        signal.removeEventListener('abort', onAbort)
        socket?.off('error', onError)
        if (err === null) resolve(socket!)
        else reject(err)
      }
      const onError = (err: Error) => settle(err)
      // The client gave up (connectionTimeout): a socket still connecting is closed.
      const onAbort = () => {
        socket?.destroy()
        settle(signal.reason instanceof Error ? signal.reason : new Error('dial aborted'))
      }
      const onConnect = () => {
        connected = true
        if (socket !== null) settle(null) // else called from inside the factory: settled once it returns
      }
      const made = factory({ host, port, ssl: ssl as TlsOptions, onConnect })
      if (!(made instanceof Socket)) {
        reject(new KafkaJSNonRetriableError(`socketFactory returned ${made === null ? 'null' : typeof made}, not a net.Socket`))
        return
      }
      socket = made
      if (connected) return settle(null)
      made.once('error', onError)
      signal.addEventListener('abort', onAbort, { once: true })
    })
}
