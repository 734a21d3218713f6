/**
 * KafkaJS's `sasl` setting as kafka-wire mechanisms: the mechanisms KafkaJS names (plain, scram-sha-256,
 * scram-sha-512, oauthbearer, aws) and custom ones (`{ mechanism, authenticationProvider }`, KafkaJS's
 * CustomAuthenticationMechanism). A custom authenticator drives the exchange itself, calling
 * `saslAuthenticate({ request, response })` for each SaslAuthenticate round; kafka-wire's mechanisms
 * answer the broker one message at a time instead, so `providerMechanism` runs the authenticator
 * beside the exchange and hands messages across, in KafkaJS's framing (auth bytes with their int32
 * length first, both ways).
 */
import type { Mechanism as WireMechanism, SaslConfig, SaslContext, SaslSession, SaslStep } from '../client/sasl/index.js'
import { delay } from '../client/broker.js'
import { SaslAuthenticationError } from '../client/errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { createErrorFromCode, KafkaJSNonRetriableError, KafkaJSSASLAuthenticationError, programError, toKafkaJSError } from './errors.js'
import type { Logger } from './logger.js'
import type { AuthenticationProviderArgs, Authenticator, SaslAuthenticateArgs } from './types.js'

/** OauthbearerProviderResponse is what an OAUTHBEARER provider returns: the token. */
export interface OauthbearerProviderResponse {
  value: string
}

type SASLMechanismOptionsMap = {
  plain: { username: string; password: string }
  'scram-sha-256': { username: string; password: string }
  'scram-sha-512': { username: string; password: string }
  aws: { authorizationIdentity: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  oauthbearer: { oauthBearerProvider: () => Promise<OauthbearerProviderResponse> }
}

/** SASLMechanism names the SASL mechanisms KafkaJS configures by name. */
export type SASLMechanism = keyof SASLMechanismOptionsMap
type SASLMechanismOptions<T> = T extends SASLMechanism ? { mechanism: T } & SASLMechanismOptionsMap[T] : never
/** SASLOptions configure SASL authentication. */
export type SASLOptions = SASLMechanismOptions<SASLMechanism>

/**
 * Mechanism is a custom SASL mechanism as KafkaJS describes it: `mechanism` is the name asked for in
 * SaslHandshake, `authenticationProvider` is called for every connection (and re-authentication).
 */
export interface Mechanism {
  mechanism: string
  authenticationProvider: (args: AuthenticationProviderArgs) => Authenticator
}

/**
 * saslOf turns KafkaJS's `sasl` setting into the client's `sasl` option, failing with KafkaJS's errors
 * on a setting that cannot work.
 */
export function saslOf(sasl: SASLOptions | Mechanism | undefined | null, logger: Logger): SaslConfig | WireMechanism | undefined {
  if (sasl === undefined || sasl === null) return undefined
  if (typeof sasl !== 'object') throw new KafkaJSNonRetriableError('sasl must be an object')
  if ('authenticationProvider' in sasl) {
    if (typeof sasl.authenticationProvider !== 'function') throw new KafkaJSNonRetriableError('sasl.authenticationProvider must be a function')
    if (typeof sasl.mechanism !== 'string' || sasl.mechanism === '') throw new KafkaJSNonRetriableError('a custom SASL mechanism needs a name (sasl.mechanism)')
    return providerMechanism(sasl.mechanism, sasl.authenticationProvider, logger)
  }
  const mech = String(sasl.mechanism).toLowerCase()
  switch (mech) {
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512': {
      const s = sasl as { username: string; password: string }
      const name = mech === 'plain' ? 'PLAIN' : mech === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512'
      return { mechanism: name, user: s.username, pass: s.password } as SaslConfig
    }
    case 'oauthbearer': {
      const provider = (sasl as { oauthBearerProvider: () => Promise<OauthbearerProviderResponse> }).oauthBearerProvider
      if (typeof provider !== 'function') throw new KafkaJSNonRetriableError('oauthbearer needs an oauthBearerProvider function')
      return { mechanism: 'OAUTHBEARER', tokenProvider: () => oauthToken(provider) }
    }
    case 'aws':
      return providerMechanism('AWS', awsProvider(sasl as SASLMechanismOptionsMap['aws']), logger)
    default:
      throw new KafkaJSNonRetriableError(`SASL ${String(sasl.mechanism)} mechanism is not supported`)
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * oauthToken asks KafkaJS's oauthBearerProvider for a token, as KafkaJS does: what the provider throws
 * reaches the program as it is, and a token without a value is a KafkaJSSASLAuthenticationError.
 */
async function oauthToken(provider: () => Promise<OauthbearerProviderResponse>): Promise<{ token: string }> {
  let got: OauthbearerProviderResponse
  try {
    got = await provider()
  } catch (err) {
    throw err instanceof Error ? programError(err) : err
  }
  if (got?.value == null) throw new KafkaJSSASLAuthenticationError('SASL OAUTHBEARER: Invalid OAuth bearer token')
  return { token: got.value }
}

/** PROVIDER_SETTLE_MS bounds the wait for a provider's authenticate() after the broker refused it. */
const PROVIDER_SETTLE_MS = 5_000

/**
 * awsProvider is KafkaJS's `aws` mechanism (for brokers with an "AWS" SASL plugin): one message,
 * authorizationIdentity, accessKeyId, secretAccessKey and sessionToken joined by NUL characters, with
 * an int32 length before it, as KafkaJS sends it.
 */
function awsProvider(sasl: SASLMechanismOptionsMap['aws']): Mechanism['authenticationProvider'] {
  return ({ saslAuthenticate }) => ({
    async authenticate() {
      for (const k of ['authorizationIdentity', 'accessKeyId', 'secretAccessKey'] as const) {
        if (!sasl[k]) throw new KafkaJSSASLAuthenticationError(`SASL AWS-IAM: Missing ${k}`)
      }
      const bytes = frame(Buffer.from([sasl.authorizationIdentity, sasl.accessKeyId, sasl.secretAccessKey, sasl.sessionToken ?? ''].join('\u0000')))
      await saslAuthenticate({ request: { encode: () => bytes } })
    },
  })
}

/** Turn is what the authenticator did next: sent a message, or finished (with an error or not). */
type Turn = { bytes: Buffer } | { done: true } | { error: unknown }

/** Handoff passes values one at a time from a producer to one waiting consumer: `next` gets the one `give` gave, or waits for it. */
class Handoff<T> {
  #waiting: ((v: T) => void) | null = null
  #early: { v: T } | null = null

  give(v: T): void {
    const w = this.#waiting
    if (w === null) {
      this.#early = { v }
      return
    }
    this.#waiting = null
    w(v)
  }

  next(): Promise<T> {
    const e = this.#early
    if (e !== null) {
      this.#early = null
      return Promise.resolve(e.v)
    }
    return new Promise<T>((resolve) => (this.#waiting = resolve))
  }
}

/**
 * providerMechanism runs a KafkaJS authentication provider as a kafka-wire mechanism. For each
 * connection the provider's `authenticate()` runs beside the exchange: each `saslAuthenticate` call
 * becomes the exchange's next message (the first one its first), the broker's answer to it is what
 * that call resolves with (decoded and parsed by `response`), and `authenticate()` resolving ends the
 * exchange. A broker refusal or a broken connection rejects the pending `saslAuthenticate`, so the
 * provider's `authenticate()` always settles. The name is sent upper case, as KafkaJS sends it.
 */
function providerMechanism(name: string, provider: Mechanism['authenticationProvider'], logger: Logger): WireMechanism {
  const mechanism = name.toUpperCase()
  return {
    name: mechanism,
    async authenticate(ctx: SaslContext) {
      // The provider's turns go to the exchange one at a time; the broker's answers come back to it.
      const turns = new Handoff<Turn>()
      let answer: { resolve: (b: Buffer) => void; reject: (e: unknown) => void } | null = null
      let ended = false
      const saslAuthenticate = async <R>({ request, response }: SaslAuthenticateArgs<R>): Promise<R | void> => {
        if (ended) throw new KafkaJSSASLAuthenticationError(`SASL ${mechanism}: saslAuthenticate called after the exchange ended`)
        if (answer !== null) throw new KafkaJSSASLAuthenticationError(`SASL ${mechanism}: saslAuthenticate called again before the broker answered the previous call`)
        const bytes = unframe(await request.encode(), mechanism)
        const got = await new Promise<Buffer>((resolve, reject) => {
          answer = { resolve, reject }
          turns.give({ bytes })
        })
        if (response === undefined) return
        return response.parse(await response.decode(frame(got)))
      }
      const broker = `${ctx.host}:${ctx.port ?? ''}`
      let authenticator: Authenticator
      try {
        authenticator = provider({ host: ctx.host, port: ctx.port ?? 0, logger: logger.namespace(`SaslAuthenticator-${mechanism}`), saslAuthenticate })
      } catch (err) {
        throw asSaslError(err, mechanism, broker)
      }
      Promise.resolve()
        .then(() => authenticator.authenticate())
        .then(
          () => turns.give({ done: true }),
          (error: unknown) => turns.give({ error }),
        )
      const turn = (t: Turn): SaslStep => {
        if ('bytes' in t) return { done: false, response: t.bytes }
        if ('done' in t) return { done: true, response: EMPTY }
        throw asSaslError(t.error, mechanism, broker)
      }
      const first = await turns.next()
      if (!('bytes' in first)) {
        ended = true
        if ('error' in first) throw asSaslError(first.error, mechanism, broker)
        throw new KafkaJSSASLAuthenticationError(`SASL ${mechanism} authentication with ${broker}: the authentication provider finished without calling saslAuthenticate`)
      }
      const session: SaslSession = {
        async step(challenge: Buffer) {
          const a = answer
          answer = null
          a?.resolve(challenge)
          return turn(await turns.next())
        },
        async end(error: Error | null) {
          ended = true
          const a = answer
          answer = null
          if (a === null || error === null) return
          // The provider waits on the broker's answer: it gets the error as KafkaJS would hand it
          // (the broker's refusal as a KafkaJSProtocolError), and what its authenticate() then fails
          // with is what the connection fails with, as in KafkaJS.
          a.reject(error instanceof SaslAuthenticationError ? createErrorFromCode(ErrorCode.SASL_AUTHENTICATION_FAILED, { message: error.errorMessage ?? error.message, cause: error }) : toKafkaJSError(error))
          const t = await Promise.race([turns.next(), delay(PROVIDER_SETTLE_MS, undefined, true)])
          if (t !== undefined && 'error' in t) return asSaslError(t.error, mechanism, broker)
        },
      }
      return { clientFirst: first.bytes, session }
    },
  }
}

/**
 * unframe takes the auth bytes out of what a KafkaJS `request.encode()` returns: KafkaJS writes that
 * buffer into the SaslAuthenticate request as the auth bytes field itself, so it holds their int32
 * length first (-1 for none), then the bytes.
 */
function unframe(encoded: unknown, mechanism: string): Buffer {
  if (!Buffer.isBuffer(encoded)) throw new KafkaJSSASLAuthenticationError(`SASL ${mechanism}: request.encode() must return a Buffer`)
  const n = encoded.length >= 4 ? encoded.readInt32BE(0) : -2
  if (n === -1 && encoded.length === 4) return EMPTY
  if (n !== encoded.length - 4) {
    throw new KafkaJSSASLAuthenticationError(`SASL ${mechanism}: request.encode() must return the auth bytes with their int32 length first, as KafkaJS sends them (got ${encoded.length} bytes${n >= -1 ? ` announcing ${n}` : ''})`)
  }
  return encoded.subarray(4)
}

/** frame puts auth bytes in KafkaJS's framing, their int32 length first: the broker's for `response.decode`, aws's message. */
function frame(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + bytes.length)
  out.writeInt32BE(bytes.length, 0)
  bytes.copy(out, 4)
  return out
}

/**
 * asSaslError is what a provider failed with: an Error as it is, marked to reach the program so
 * (programError), anything else thrown wrapped in a KafkaJSSASLAuthenticationError.
 */
function asSaslError(err: unknown, mechanism: string, broker: string): Error {
  if (err instanceof Error) return programError(err)
  return new KafkaJSSASLAuthenticationError(`SASL ${mechanism} authentication with ${broker} failed: ${String(err)}`)
}
