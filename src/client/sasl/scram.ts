// SCRAM (RFC 5802) with SHA-256 or SHA-512 (RFC 7677), as Kafka speaks it: no channel binding, the
// client speaks first, and Kafka's one extension to the client-first message (tokenauth, KIP-48).
//
// The exchange is four messages, two in each direction:
//   client-first  n,,n=<user>,r=<client nonce>
//   server-first  r=<client nonce + server nonce>,s=<salt>,i=<iterations>
//   client-final  c=<base64 gs2 header>,r=<full nonce>,p=<proof>
//   server-final  v=<server signature>     (or e=<error>)
// The client proves it knows the password without sending it, and the server signature proves the
// server holds the same salted password: a broker, or anything between, that does not know it cannot
// forge the signature, so a mismatch ends authentication.

import type * as crypto from 'node:crypto'
import { promisify } from 'node:util'
import { invalidSaslOption, resolveCredentials, saslName, type CredentialSource, type Mechanism, type SaslContext, type SaslSession, type SaslStart, type SaslStep } from './authenticate.js'
import { SaslAuthenticationError } from '../errors.js'

let cryptoModule: { crypto: typeof crypto; pbkdf2: (password: Buffer, salt: Buffer, iterations: number, keylen: number, digest: string) => Promise<Buffer> } | undefined

/** loadCrypto loads node:crypto when a SCRAM exchange first needs it: a client that never authenticates with SCRAM does not pay its memory. */
function loadCrypto(): NonNullable<typeof cryptoModule> {
  if (cryptoModule === undefined) {
    const c = process.getBuiltinModule('node:crypto')
    cryptoModule = { crypto: c, pbkdf2: promisify(c.pbkdf2) }
  }
  return cryptoModule
}

/** ScramAuth holds the credentials of a SCRAM session. */
export interface ScramAuth {
  /** user is the user name; ',' and '=' in it are escaped on the wire as RFC 5802 requires. */
  user: string
  /**
   * pass is the password, used as its UTF-8 bytes. It is not SASLprep-normalized (neither Kafka's
   * Java client nor franz-go normalizes), so a password must be typed the way it was registered.
   */
  pass: string
  /** zid is an authorization identity; Kafka accepts only the user's own name here. */
  zid?: string
  /**
   * nonce replaces the random client nonce; for tests only. It must be printable ASCII without ','.
   * Default: 24 random bytes in base64.
   */
  nonce?: string
  /**
   * extensions are extra attributes for the client-first message, such as `{ tokenauth: 'true' }` to
   * authenticate with a delegation token (KIP-48: user is then the token id, pass its HMAC).
   */
  extensions?: Readonly<{ [key: string]: string }>
}

/** ScramHash names the hash a SCRAM mechanism uses. */
export type ScramHash = 'sha256' | 'sha512'

// RFC 7677 asks servers for at least 4096 iterations, and Kafka refuses to store fewer. Iterations are
// chosen by the server, so a hostile server could ask for billions and stall the client in PBKDF2;
// Kafka's own ceiling is 16,384, and the cap below leaves room for other brokers that use more.
const MIN_ITERATIONS = 4096
const MAX_ITERATIONS = 1_000_000

/**
 * scramSha256 returns the SCRAM-SHA-256 mechanism. Credentials given as a function are fetched again
 * for every connection and re-authentication.
 */
export function scramSha256(auth: CredentialSource<ScramAuth>): Mechanism {
  return scram('SCRAM-SHA-256', 'sha256', auth)
}

/**
 * scramSha512 returns the SCRAM-SHA-512 mechanism. Credentials given as a function are fetched again
 * for every connection and re-authentication.
 */
export function scramSha512(auth: CredentialSource<ScramAuth>): Mechanism {
  return scram('SCRAM-SHA-512', 'sha512', auth)
}

function scram(name: string, hash: ScramHash, auth: CredentialSource<ScramAuth>): Mechanism {
  if (typeof auth !== 'function') checkAuth(name, auth)
  return {
    name,
    async authenticate(ctx: SaslContext): Promise<SaslStart> {
      const a = await resolveCredentials(auth, ctx)
      checkAuth(name, a)
      return startScram(name, hash, a)
    },
  }
}

function checkAuth(name: string, a: ScramAuth): void {
  if (typeof a?.user !== 'string' || typeof a.pass !== 'string' || a.user === '' || a.pass === '') {
    throw invalidSaslOption(`${name} needs a non-empty user and pass`)
  }
  if (a.nonce !== undefined && !/^[\x21-\x2b\x2d-\x7e]+$/.test(a.nonce)) {
    throw invalidSaslOption(`${name} nonce must be printable ASCII without ','`)
  }
  for (const [k, v] of Object.entries(a.extensions ?? {})) {
    // A single letter would collide with SCRAM's own attributes; Kafka's extensions are words.
    if (!/^[A-Za-z]{2,}$/.test(k)) throw invalidSaslOption(`${name} extension name ${JSON.stringify(k)} must be two or more letters`)
    if (typeof v !== 'string' || v.includes(',')) throw invalidSaslOption(`${name} extension ${k} must be a string without ','`)
  }
}

function startScram(name: string, hash: ScramHash, a: ScramAuth): SaslStart {
  const nonce = a.nonce ?? loadCrypto().crypto.randomBytes(24).toString('base64')
  let bare = `n=${saslName(a.user)},r=${nonce}`
  for (const [k, v] of Object.entries(a.extensions ?? {})) bare += `,${k}=${v}`
  const gs2Header = `n,${a.zid ? `a=${saslName(a.zid)}` : ''},`
  const session = new ScramSession(name, hash, a.pass, nonce, bare, gs2Header)
  return { session, clientFirst: Buffer.from(gs2Header + bare, 'utf8') }
}

class ScramSession implements SaslSession {
  #name: string
  #hash: ScramHash
  #pass: string
  #nonce: string
  #clientFirstBare: string
  #gs2Header: string
  #expectedServerSignature: Buffer | null = null
  #state: 'server-first' | 'server-final' | 'done' = 'server-first'

  constructor(name: string, hash: ScramHash, pass: string, nonce: string, clientFirstBare: string, gs2Header: string) {
    this.#name = name
    this.#hash = hash
    this.#pass = pass
    this.#nonce = nonce
    this.#clientFirstBare = clientFirstBare
    this.#gs2Header = gs2Header
  }

  async step(challenge: Buffer): Promise<SaslStep> {
    switch (this.#state) {
      case 'server-first': {
        // The state moves first, so a second call while PBKDF2 runs cannot start a second proof.
        this.#state = 'server-final'
        return { done: false, response: await this.#clientFinal(challenge.toString('utf8')) }
      }
      case 'server-final':
        this.#state = 'done'
        this.#verifyServerFinal(challenge.toString('utf8'))
        return { done: true, response: Buffer.alloc(0) }
      case 'done':
        throw this.#fail('the server sent a challenge after the exchange had finished')
    }
  }

  async #clientFinal(serverFirst: string): Promise<Buffer> {
    const attrs = serverFirst.split(',')
    if (attrs[0]?.startsWith('m=')) throw this.#fail('the server requires an extension this client does not know (m=)')
    if (attrs[0]?.startsWith('e=')) throw this.#fail(`the server refused: ${attrs[0].slice(2)}`)
    const [r, s, i] = attrs
    if (attrs.length < 3 || !r?.startsWith('r=') || !s?.startsWith('s=') || !i?.startsWith('i=')) {
      throw this.#fail(`malformed server-first message ${JSON.stringify(serverFirst)}`)
    }
    const nonce = r.slice(2)
    // The server must extend our nonce, not replace it: a reply that does not start with our nonce
    // answers some other exchange (or replays an old one).
    if (!nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length) {
      throw this.#fail('the server nonce does not extend the client nonce')
    }
    const salt = Buffer.from(s.slice(2), 'base64')
    if (salt.length === 0) throw this.#fail('the server sent an empty salt')
    const iterStr = i.slice(2)
    const iterations = /^[0-9]{1,9}$/.test(iterStr) ? Number(iterStr) : NaN
    if (!(iterations >= MIN_ITERATIONS && iterations <= MAX_ITERATIONS)) {
      throw this.#fail(`the server asked for ${iterStr} iterations; accepted are ${MIN_ITERATIONS} to ${MAX_ITERATIONS}`)
    }

    const hashLen = this.#hash === 'sha256' ? 32 : 64
    // Asynchronous: tens of milliseconds of hashing should not block the event loop.
    const salted = await loadCrypto().pbkdf2(Buffer.from(this.#pass, 'utf8'), salt, iterations, hashLen, this.#hash)
    const clientKey = this.#hmac(salted, 'Client Key')
    const storedKey = loadCrypto().crypto.createHash(this.#hash).update(clientKey).digest()
    const withoutProof = `c=${Buffer.from(this.#gs2Header, 'utf8').toString('base64')},r=${nonce}`
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`
    const proof = this.#hmac(storedKey, authMessage)
    for (let k = 0; k < proof.length; k++) proof[k]! ^= clientKey[k]!
    this.#expectedServerSignature = this.#hmac(this.#hmac(salted, 'Server Key'), authMessage)
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8')
  }

  #verifyServerFinal(serverFinal: string): void {
    const first = serverFinal.split(',')[0] ?? ''
    if (first.startsWith('e=')) throw this.#fail(`the server refused: ${first.slice(2)}`)
    if (!first.startsWith('v=')) throw this.#fail(`malformed server-final message ${JSON.stringify(serverFinal)}`)
    const got = Buffer.from(first.slice(2), 'base64')
    const want = this.#expectedServerSignature!
    if (got.length !== want.length || !loadCrypto().crypto.timingSafeEqual(got, want)) {
      throw this.#fail('the server signature does not match: the server does not hold this password, or the exchange was altered')
    }
  }

  #hmac(key: Buffer, data: string): Buffer {
    return loadCrypto().crypto.createHmac(this.#hash, key).update(data, 'utf8').digest()
  }

  #fail(reason: string): SaslAuthenticationError {
    return new SaslAuthenticationError(`${this.#name}: ${reason}`)
  }
}
