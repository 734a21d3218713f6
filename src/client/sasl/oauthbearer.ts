// OAUTHBEARER (RFC 7628) as Kafka speaks it (KIP-255). The client sends one message:
//   n,[a=<authzid>],\x01auth=Bearer <token>\x01[<key>=<value>\x01]...\x01
// A broker that accepts the token answers with an empty challenge. One that refuses it answers with
// a JSON error document instead (RFC 7628 §3.2.2); the client must then send a lone \x01 so that the
// server can end the exchange, and the broker fails the request that carries it. The JSON is the only
// place the reason appears, so it goes into the error.

import {
  invalidSaslOption,
  resolveCredentials,
  saslName,
  type CredentialSource,
  type Mechanism,
  type SaslContext,
  type SaslSession,
  type SaslStart,
  type SaslStep,
} from './authenticate.js'

/** OAuthBearerToken is what an OAUTHBEARER token provider returns. */
export interface OAuthBearerToken {
  /** token is the bearer token, usually a JWT. */
  token: string
  /**
   * extensions are sent with the token (RFC 7628 §3.1); Kafka hands them to the broker's callback
   * handler, and some services require them (Confluent Cloud's logicalCluster, identityPoolId).
   */
  extensions?: Readonly<{ [key: string]: string }>
  /** zid is an authorization identity to put in the GS2 header. */
  zid?: string
}

// RFC 6750 b64token: what a bearer token may contain.
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
// RFC 7628 §3.1: keys are letters, values printable ASCII plus space and line whitespace.
const EXT_KEY = /^[A-Za-z]+$/
const EXT_VALUE = /^[\x21-\x7e \t\r\n]+$/

const KVSEP = Buffer.from([0x01])
const DONE: SaslStep = Object.freeze({ done: true, response: Buffer.alloc(0) })

const oauthSession: SaslSession = Object.freeze({
  step(challenge: Buffer): SaslStep {
    if (challenge.length === 0) return DONE
    // RFC 7628 §3.2.2: answer the error challenge with a single kvsep; the broker then fails the
    // exchange, and the error carries the server's document.
    return { done: true, response: KVSEP, failure: `OAUTHBEARER: the broker rejected the token: ${challenge.toString('utf8')}` }
  },
})

/**
 * oauthBearer returns the OAUTHBEARER mechanism. `tokenProvider` is called for every connection and
 * every re-authentication, so it should cache the token and refresh it before it expires; a fixed
 * token may be given instead of a function.
 */
export function oauthBearer(tokenProvider: CredentialSource<OAuthBearerToken>): Mechanism {
  if (typeof tokenProvider !== 'function') oauthMessage(tokenProvider)
  return {
    name: 'OAUTHBEARER',
    async authenticate(ctx: SaslContext): Promise<SaslStart> {
      return { session: oauthSession, clientFirst: oauthMessage(await resolveCredentials(tokenProvider, ctx)) }
    },
  }
}

function oauthMessage(t: OAuthBearerToken): Buffer {
  if (typeof t?.token !== 'string' || !TOKEN.test(t.token)) {
    throw invalidSaslOption('OAUTHBEARER token must be a non-empty bearer token (RFC 6750 characters)')
  }
  if (t.zid !== undefined && t.zid.includes('\x01')) throw invalidSaslOption('OAUTHBEARER zid must not contain \\x01')
  let msg = `n,${t.zid ? `a=${saslName(t.zid)}` : ''},\x01auth=Bearer ${t.token}\x01`
  // Sorted so that the same extensions always make the same bytes.
  for (const k of Object.keys(t.extensions ?? {}).sort()) {
    const v = t.extensions![k]!
    if (!EXT_KEY.test(k) || k === 'auth') throw invalidSaslOption(`OAUTHBEARER extension name ${JSON.stringify(k)} must be letters and not "auth"`)
    if (typeof v !== 'string' || !EXT_VALUE.test(v)) throw invalidSaslOption(`OAUTHBEARER extension ${k} has characters RFC 7628 does not allow`)
    msg += `${k}=${v}\x01`
  }
  return Buffer.from(msg + '\x01', 'utf8')
}
