// The SASL exchange and its contract: what a mechanism is, the session it opens, the errors
// authentication ends with, and `authenticate`, which runs a mechanism over a broker connection
// (KIP-152: SaslHandshake, then SaslAuthenticate rounds), plus the KIP-368 re-authentication timing.
// The mechanisms (plain.ts, scram.ts, oauthbearer.ts) import their contract from here.

import { performance } from 'node:perf_hooks'
import { KafkaProtocolError } from '../../protocol/errors.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import type { ApiMessage } from '../../protocol/messages/api.js'
import { SaslAuthenticate } from '../../protocol/messages/sasl-authenticate.js'
import { SaslHandshake } from '../../protocol/messages/sasl-handshake.js'
import { SaslAuthenticationError, UnsupportedSaslMechanismError } from '../errors.js'
import { InvalidOptionError } from '../errors.js'
import { MAX_TIMER_MS } from '../wake-timer.js'

/** SaslContext tells a mechanism which broker a session is for. */
export interface SaslContext {
  /** host is the broker's host name or address, as dialed. */
  host: string
  /** port is the broker's port. */
  port?: number
  /** signal aborts the session's setup, such as a token fetch. */
  signal?: AbortSignal
}

/**
 * SaslStep is a session's answer to one server challenge. `response` is the next message to send;
 * empty means there is nothing to send. When `done` is true the session expects no further challenge:
 * a non-empty `response` is still sent, and the broker's answer to it is read but not given to the
 * session.
 */
export interface SaslStep {
  done: boolean
  response: Buffer
  /**
   * failure, when set, ends authentication with this reason once `response` has been sent and
   * answered. A mechanism whose failure the server reports inside the exchange uses it: RFC 7628
   * OAUTHBEARER sends an error in a challenge and needs one last client message before the server
   * gives up.
   */
  failure?: string
}

/**
 * SaslSession is one authentication exchange (franz-go's sasl.Session). `step` receives each server
 * challenge in turn and returns the client's answer. It may throw, ending authentication; a session
 * that rejects what the server sent throws a SaslAuthenticationError.
 */
export interface SaslSession {
  step(challenge: Buffer): SaslStep | Promise<SaslStep>
  /**
   * end, when present, is called once the exchange is over: with null when it succeeded, else with
   * the error it ended with (the broker's refusal, a timeout, a closed connection, a step that threw).
   * A session that waits on something of its own (a callback-driven mechanism) settles it here, and
   * may return the error authentication fails with instead, when that code reports the outcome itself
   * (the KafkaJS facade's custom mechanisms).
   */
  end?(error: Error | null): void | Error | Promise<void | Error>
}

/** SaslStart is how a session begins: the session and the client's first message. */
export interface SaslStart {
  session: SaslSession
  /** clientFirst is the first message to send; every mechanism kafka-wire ships speaks first. */
  clientFirst: Buffer
}

/**
 * Mechanism is a SASL mechanism (franz-go's sasl.Mechanism). `name` is what the client asks the broker
 * for in SaslHandshake ('PLAIN', 'SCRAM-SHA-256', …). `authenticate` is called for every connection
 * and every re-authentication, so a mechanism that reads credentials from a provider gets fresh ones
 * each time.
 */
export interface Mechanism {
  readonly name: string
  authenticate(ctx: SaslContext): Promise<SaslStart>
}

/**
 * saslName escapes a name for a GS2 header or a SCRAM message (RFC 5802 §5.1): '=' becomes '=3D' and
 * ',' becomes '=2C', because ',' separates attributes and '=' starts an escape.
 */
export function saslName(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

/**
 * CredentialSource is credentials, or a function returning them. The function is called again for
 * every connection and every re-authentication, so rotated credentials are picked up without
 * rebuilding the client.
 */
export type CredentialSource<A> = A | ((ctx: SaslContext) => A | Promise<A>)

/** invalidSaslOption is the error for SASL credentials or settings that cannot work: an InvalidOptionError naming `sasl`. */
export function invalidSaslOption(message: string): InvalidOptionError {
  return new InvalidOptionError('sasl', message)
}

/** resolveCredentials returns the credentials a CredentialSource holds or produces. */
export async function resolveCredentials<A extends object>(source: CredentialSource<A>, ctx: SaslContext): Promise<A> {
  return typeof source === 'function' ? await source(ctx) : source
}

/** SaslRequestOptions are the per-request settings `authenticate` passes to the connection. */
export interface SaslRequestOptions {
  version?: number
  timeout?: number
  signal?: AbortSignal
  exclusive?: boolean
}

/**
 * SaslConnection is what `authenticate` needs of a connection: BrokerConnection provides it. Versions
 * must already be negotiated (ApiVersions), as KIP-152 orders.
 */
export interface SaslConnection {
  readonly host: string
  readonly port?: number
  readonly nodeId?: number
  request<Req, Res>(api: ApiMessage<Req, Res>, req: Req, opts?: SaslRequestOptions): Promise<Res>
}

/** AuthenticateOptions configures one run of `authenticate`. */
export interface AuthenticateOptions {
  /** host names the broker to the mechanism and in errors. Default: the connection's host. */
  host?: string
  /** timeout bounds each request of the exchange, in ms. Default: the connection's request timeout. */
  timeout?: number
  /** signal aborts the exchange. */
  signal?: AbortSignal
  /**
   * exclusive marks the requests as sent from inside `BrokerConnection.exclusive()`, as a
   * re-authentication on a live connection is (KIP-368): other requests wait until it ends, so none
   * interleave with the exchange.
   */
  exclusive?: boolean
}

/** AuthenticateResult is what a successful authentication reports. */
export interface AuthenticateResult {
  /** mechanism is the mechanism's name. */
  mechanism: string
  /**
   * sessionLifetimeMs is how long the broker keeps the session valid, counted from its answer to the
   * last SaslAuthenticate request; 0 when the broker sets no limit (connections.max.reauth.ms unset,
   * or a broker before Kafka 2.2). Schedule re-authentication with `reauthDelay`.
   */
  sessionLifetimeMs: number
  /** latencyMs is the round trip of the last SaslAuthenticate request, for `reauthDelay`. */
  latencyMs: number
}

// A mechanism decides when the exchange ends; this bound only stops a broken mechanism or a broker
// that keeps challenging from looping forever. SCRAM, the longest, needs two rounds.
const MAX_ROUNDS = 16

const EMPTY = Buffer.alloc(0)

/**
 * authenticate runs SASL on a connection whose versions are negotiated: SaslHandshake v1 naming the
 * mechanism, then SaslAuthenticate rounds carrying the mechanism's messages until the mechanism is
 * done (KIP-152). The same call re-authenticates a live connection (KIP-368). It throws
 * UnsupportedSaslMechanismError when the broker does not enable the mechanism, SaslAuthenticationError
 * when the credentials are refused or the exchange fails its checks, and the connection's own errors
 * (timeouts, a closed socket) as they are. The caller closes the connection on failure.
 */
export async function authenticate(conn: SaslConnection, mechanism: Mechanism, opts: AuthenticateOptions = {}): Promise<AuthenticateResult> {
  const host = opts.host ?? conn.host
  const broker = conn.nodeId
  const where = `${host}${conn.port !== undefined ? `:${conn.port}` : ''}`
  const reqOpts: SaslRequestOptions = { timeout: opts.timeout, signal: opts.signal, exclusive: opts.exclusive }

  // v0 would mean raw SASL frames after the handshake; v1 wraps them in SaslAuthenticate requests,
  // which every broker since Kafka 1.0 speaks (KIP-152) and which the connection can frame and time.
  const hs = SaslHandshake.newRequest()
  hs.mechanism = mechanism.name
  const hsRes = await conn.request(SaslHandshake, hs, { ...reqOpts, version: 1 })
  if (hsRes.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
    throw new UnsupportedSaslMechanismError(mechanism.name, hsRes.mechanisms ?? [], { broker, host: where })
  }
  if (hsRes.errorCode === ErrorCode.ILLEGAL_SASL_STATE) {
    throw new SaslAuthenticationError(`SASL ${mechanism.name} with broker ${where}: the broker refused the handshake (ILLEGAL_SASL_STATE)`, { broker })
  }
  if (hsRes.errorCode !== 0) throw new KafkaProtocolError(hsRes.errorCode, { broker })

  const { session, clientFirst } = await mechanism.authenticate({ host, port: conn.port, signal: opts.signal })
  let result: AuthenticateResult
  try {
    result = await exchange(conn, mechanism.name, session, clientFirst, where, broker, reqOpts)
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    throw (await session.end?.(e)) ?? e
  }
  await session.end?.(null)
  return result
}

/** exchange runs the SaslAuthenticate rounds of `authenticate`, from the mechanism's first message on. */
async function exchange(conn: SaslConnection, name: string, session: SaslSession, clientFirst: Buffer, where: string, broker: number | undefined, reqOpts: SaslRequestOptions): Promise<AuthenticateResult> {
  let out: Buffer | null = clientFirst
  let done = false
  let failure: string | undefined
  let lifetimeMs = 0
  let latencyMs = 0
  for (let round = 0; out !== null; round++) {
    if (round === MAX_ROUNDS) {
      throw new SaslAuthenticationError(`SASL ${name} with broker ${where}: no result after ${MAX_ROUNDS} rounds`, { broker })
    }
    const req = SaslAuthenticate.newRequest()
    req.authBytes = out
    const sent = performance.now()
    const res = await conn.request(SaslAuthenticate, req, reqOpts)
    latencyMs = performance.now() - sent
    if (res.errorCode !== 0) throw authError(res.errorCode, res.errorMessage ?? null, name, where, failure, broker)
    // The mechanism found the exchange failed and only sent its last message so the broker could end
    // it cleanly; the broker accepting that message changes nothing.
    if (failure !== undefined) throw new SaslAuthenticationError(`SASL ${name} with broker ${where} failed: ${failure}`, { broker })
    // sessionLifetimeMs exists from v1 on; a v0 response leaves it at its default, 0.
    const lifetime = Number(res.sessionLifetimeMs)
    lifetimeMs = lifetime > 0 ? lifetime : 0
    if (done) break
    const step = await session.step(res.authBytes ?? EMPTY)
    done = step.done
    failure = step.failure
    // Once done, a non-empty response is a last message whose answer is read but not stepped.
    out = !done || step.response.length > 0 ? step.response : null
    if (out === null && failure !== undefined) {
      throw new SaslAuthenticationError(`SASL ${name} with broker ${where} failed: ${failure}`, { broker })
    }
  }
  return { mechanism: name, sessionLifetimeMs: lifetimeMs, latencyMs }
}

function authError(code: number, errorMessage: string | null, mech: string, where: string, failure: string | undefined, broker: number | undefined): Error {
  if (code !== ErrorCode.SASL_AUTHENTICATION_FAILED && code !== ErrorCode.ILLEGAL_SASL_STATE) {
    return new KafkaProtocolError(code, { errorMessage, broker })
  }
  const name = code === ErrorCode.ILLEGAL_SASL_STATE ? 'ILLEGAL_SASL_STATE' : 'SASL_AUTHENTICATION_FAILED'
  let msg = `SASL ${mech} authentication with broker ${where} failed: ${errorMessage || name}`
  if (failure !== undefined) msg += `; ${failure}`
  return new SaslAuthenticationError(msg, { errorMessage, broker })
}


/** ReauthDelayOptions refines `reauthDelay`. */
export interface ReauthDelayOptions {
  /** latencyMs is the SASL round trip (`AuthenticateResult.latencyMs`). Default 0. */
  latencyMs?: number
  /** random is a number in [0, 1) choosing where in its window the delay falls. Default Math.random(). */
  random?: number
}

/**
 * reauthDelay returns how many milliseconds after authenticating to re-authenticate (KIP-368), given
 * the session lifetime the broker announced. The rule is franz-go's: re-authenticate a margin before
 * the session ends, the margin being the largest of one second, 1.1 × the SASL round trip, and a
 * random 2–5% of the lifetime. A 12-hour session is renewed 14.4 to 36 minutes early; a 10-second one
 * one second early. The randomness spreads the re-authentications of many connections opened
 * together. Kafka's Java client instead picks a random point between 85% and 95% of the lifetime;
 * franz-go's tighter window re-authenticates less often on long sessions while the one-second floor
 * still covers clock drift and latency on short ones.
 *
 * franz-go re-authenticates lazily, before the first request after the deadline, so a deadline in the
 * past costs it one extra exchange. A timer would instead fire again and again, so the delay here is
 * never less than half the lifetime: with a lifetime shorter than the margin (a nearly expired OAuth
 * token, say) the connection re-authenticates twice per lifetime rather than continuously.
 * The result is at most 2^31-1 ms, the longest delay setTimeout accepts. A lifetime of 0 or less means
 * the session does not expire; the result is then 0, and callers should schedule nothing.
 */
export function reauthDelay(lifetimeMs: number, opts: ReauthDelayOptions = {}): number {
  if (!(lifetimeMs > 0)) return 0
  const random = opts.random ?? Math.random()
  const margin = Math.max(1000, 1.1 * (opts.latencyMs ?? 0), lifetimeMs * (0.05 - 0.03 * random))
  // Capped at Node's longest timer: a larger delay would fire at once and turn a very long session (or
  // a broker announcing an absurd lifetime) into re-authentication in a loop; renewing early costs one exchange.
  return Math.min(Math.max(lifetimeMs - margin, lifetimeMs / 2), MAX_TIMER_MS)
}
