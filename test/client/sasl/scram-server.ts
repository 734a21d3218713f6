// A small SCRAM server (RFC 5802, server side) for tests: it checks the client's proof against the
// password it was given, as a broker checks it against its stored credential, and can be told to
// misbehave in the ways a client must notice.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'

export interface ScramServerOptions {
  hash: 'sha256' | 'sha512'
  /** users maps an unescaped user name to its password. */
  users: { [user: string]: string }
  iterations?: number
  /** tamper changes what the server sends, to test the client's checks. */
  tamper?: 'signature' | 'nonce-replaced' | 'nonce-not-extended'
}

/** ScramServerExchange is one server-side exchange; `first` and `final` answer the client's messages. */
export class ScramServerExchange {
  user = ''
  extensions = new Map<string, string>()
  gs2Header = ''
  #opts: ScramServerOptions
  #clientFirstBare = ''
  #serverFirst = ''
  #nonce = ''
  #salted: Buffer = Buffer.alloc(0)

  constructor(opts: ScramServerOptions) {
    this.#opts = opts
  }

  first(clientFirst: Buffer): Buffer {
    const msg = clientFirst.toString('utf8')
    // gs2-header is "n," [authzid] ","; the bare message follows.
    const second = msg.indexOf(',', msg.indexOf(',') + 1)
    this.gs2Header = msg.slice(0, second + 1)
    this.#clientFirstBare = msg.slice(second + 1)
    const attrs = this.#clientFirstBare.split(',')
    if (!attrs[0]!.startsWith('n=') || !attrs[1]!.startsWith('r=')) throw new Error('bad client-first')
    this.user = attrs[0]!.slice(2).replace(/=2C/g, ',').replace(/=3D/g, '=')
    const clientNonce = attrs[1]!.slice(2)
    for (const a of attrs.slice(2)) {
      const eq = a.indexOf('=')
      this.extensions.set(a.slice(0, eq), a.slice(eq + 1))
    }
    const pass = this.#opts.users[this.user]
    if (pass === undefined) throw new Error(`unknown user ${this.user}`)
    const salt = randomBytes(16)
    const iterations = this.#opts.iterations ?? 4096
    this.#salted = pbkdf2Sync(pass, salt, iterations, this.#opts.hash === 'sha256' ? 32 : 64, this.#opts.hash)
    const serverPart = randomBytes(18).toString('base64')
    this.#nonce =
      this.#opts.tamper === 'nonce-replaced' ? serverPart + serverPart : this.#opts.tamper === 'nonce-not-extended' ? clientNonce : clientNonce + serverPart
    this.#serverFirst = `r=${this.#nonce},s=${salt.toString('base64')},i=${iterations}`
    return Buffer.from(this.#serverFirst)
  }

  final(clientFinal: Buffer): Buffer {
    const msg = clientFinal.toString('utf8')
    const proofAt = msg.lastIndexOf(',p=')
    const withoutProof = msg.slice(0, proofAt)
    const proof = Buffer.from(msg.slice(proofAt + 3), 'base64')
    const [c, r] = withoutProof.split(',')
    if (c !== `c=${Buffer.from(this.gs2Header).toString('base64')}`) return Buffer.from('e=channel-bindings-dont-match')
    if (r !== `r=${this.#nonce}`) return Buffer.from('e=other-error')
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`
    const hmac = (key: Buffer, data: string): Buffer => createHmac(this.#opts.hash, key).update(data).digest()
    const storedKey = createHash(this.#opts.hash).update(hmac(this.#salted, 'Client Key')).digest()
    const clientSignature = hmac(storedKey, authMessage)
    const clientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!))
    const computedStored = createHash(this.#opts.hash).update(clientKey).digest()
    if (computedStored.length !== storedKey.length || !timingSafeEqual(computedStored, storedKey)) return Buffer.from('e=invalid-proof')
    const signature = hmac(hmac(this.#salted, 'Server Key'), authMessage)
    if (this.#opts.tamper === 'signature') signature[0]! ^= 1
    return Buffer.from(`v=${signature.toString('base64')}`)
  }
}
