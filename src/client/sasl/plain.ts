import { invalidSaslOption, resolveCredentials, type CredentialSource, type Mechanism, type SaslContext, type SaslSession, type SaslStart, type SaslStep } from './authenticate.js'

/** PlainAuth holds the credentials of a SASL/PLAIN session. */
export interface PlainAuth {
  user: string
  pass: string
  /** authzid is the identity to act as; empty or absent means the user itself (Kafka's default). */
  authzid?: string
}

const DONE: SaslStep = Object.freeze({ done: true, response: Buffer.alloc(0) })

// PLAIN has one message and nothing to check in the broker's empty answer: the broker's error code
// says whether the credentials were accepted.
const plainSession: SaslSession = Object.freeze({ step: (): SaslStep => DONE })

/**
 * plain returns the PLAIN mechanism (RFC 4616): one message carrying the user name and password in
 * clear text, `authzid NUL user NUL pass` in UTF-8. Use it over TLS or on a trusted network only.
 * Fixed credentials are checked here; credentials from a function are checked each time it is called.
 */
export function plain(auth: CredentialSource<PlainAuth>): Mechanism {
  if (typeof auth !== 'function') plainMessage(auth)
  return {
    name: 'PLAIN',
    async authenticate(ctx: SaslContext): Promise<SaslStart> {
      return { session: plainSession, clientFirst: plainMessage(await resolveCredentials(auth, ctx)) }
    },
  }
}

function plainMessage(a: PlainAuth): Buffer {
  if (typeof a?.user !== 'string' || typeof a.pass !== 'string' || a.user === '' || a.pass === '') {
    throw invalidSaslOption('PLAIN needs a non-empty user and pass')
  }
  const authzid = a.authzid ?? ''
  // NUL separates the fields, so none may contain one.
  if (a.user.includes('\0') || a.pass.includes('\0') || authzid.includes('\0')) {
    throw invalidSaslOption('PLAIN user, pass and authzid must not contain NUL characters')
  }
  return Buffer.from(`${authzid}\0${a.user}\0${a.pass}`, 'utf8')
}
