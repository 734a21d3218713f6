// SASL for broker connections: the mechanisms kafka-wire ships (PLAIN, SCRAM-SHA-256/512,
// OAUTHBEARER), the config-object form the client's `sasl` option takes, and the exchange itself.

import { invalidSaslOption, type CredentialSource, type Mechanism } from './authenticate.js'
import { oauthBearer, type OAuthBearerToken } from './oauthbearer.js'
import { plain, type PlainAuth } from './plain.js'
import { scramSha256, scramSha512, type ScramAuth } from './scram.js'

export { authenticate, reauthDelay, saslName, type AuthenticateOptions, type AuthenticateResult, type CredentialSource, type Mechanism, type ReauthDelayOptions, type SaslConnection, type SaslContext, type SaslRequestOptions, type SaslSession, type SaslStart, type SaslStep } from './authenticate.js'
export { oauthBearer, type OAuthBearerToken } from './oauthbearer.js'
export { plain, type PlainAuth } from './plain.js'
export { scramSha256, scramSha512, type ScramAuth, type ScramHash } from './scram.js'

/** PlainConfig is the config form of `plain(...)`. */
export interface PlainConfig extends PlainAuth {
  mechanism: 'PLAIN'
}

/** ScramConfig is the config form of `scramSha256(...)` and `scramSha512(...)`. */
export interface ScramConfig extends ScramAuth {
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
}

/**
 * OAuthBearerConfig is the config form of `oauthBearer(...)`: a fixed token, or `tokenProvider`, called
 * for every connection and re-authentication.
 */
export type OAuthBearerConfig =
  | ({ mechanism: 'OAUTHBEARER'; tokenProvider?: undefined } & OAuthBearerToken)
  | { mechanism: 'OAUTHBEARER'; tokenProvider: CredentialSource<OAuthBearerToken> }

/**
 * SaslConfig is a SASL mechanism described as data, as the client's `sasl` option accepts it:
 * `{ mechanism: 'SCRAM-SHA-512', user: 'alice', pass: 'alice-secret' }`. Mechanism names are Kafka's
 * (sasl.mechanism in the Java client); lower case is accepted too.
 */
export type SaslConfig = PlainConfig | ScramConfig | OAuthBearerConfig

const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const

/**
 * mechanismFrom turns the client's `sasl` option into a Mechanism: a SaslConfig is built into the
 * mechanism it names, and an object that already is a Mechanism (a `name` and an `authenticate`
 * method) is returned as it is, so custom mechanisms plug in the same way. Invalid settings fail here,
 * with an INVALID_OPTION error, rather than on the first connection.
 */
export function mechanismFrom(config: SaslConfig | Mechanism): Mechanism {
  if (typeof config !== 'object' || config === null) throw invalidSaslOption('sasl must be a SASL config object or a mechanism')
  if ('authenticate' in config && typeof config.authenticate === 'function') {
    if (typeof config.name !== 'string' || config.name === '') throw invalidSaslOption('a custom SASL mechanism needs a non-empty name')
    return config
  }
  const c = config as SaslConfig
  const raw: unknown = c.mechanism
  const name = typeof raw === 'string' ? raw.toUpperCase() : raw
  switch (name) {
    case 'PLAIN':
      return plain({ user: (c as PlainConfig).user, pass: (c as PlainConfig).pass, authzid: (c as PlainConfig).authzid })
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512': {
      const { mechanism: _, ...auth } = c as ScramConfig
      return name === 'SCRAM-SHA-256' ? scramSha256(auth) : scramSha512(auth)
    }
    case 'OAUTHBEARER': {
      const o = c as OAuthBearerConfig
      if (o.tokenProvider !== undefined) {
        if (typeof o.tokenProvider !== 'function' && typeof o.tokenProvider !== 'object') {
          throw invalidSaslOption('OAUTHBEARER tokenProvider must be a function or a token object')
        }
        return oauthBearer(o.tokenProvider)
      }
      const { mechanism: _, tokenProvider: __, ...token } = o
      return oauthBearer(token)
    }
    default:
      throw invalidSaslOption(`unknown mechanism ${JSON.stringify(raw)}; kafka-wire knows ${MECHANISMS.join(', ')}, or pass a Mechanism object`)
  }
}
