import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaProtocolError, KafkaWireError } from '../../../src/protocol/errors.js'
import type { ApiMessage } from '../../../src/protocol/messages/api.js'
import { SaslAuthenticate, type SaslAuthenticateRequest, type SaslAuthenticateResponse } from '../../../src/protocol/messages/sasl-authenticate.js'
import { SaslHandshake, type SaslHandshakeRequest, type SaslHandshakeResponse } from '../../../src/protocol/messages/sasl-handshake.js'
import { authenticate, mechanismFrom, oauthBearer, plain, reauthDelay, scramSha256, scramSha512, type Mechanism, type SaslConnection, type SaslRequestOptions } from '../../../src/client/sasl/index.js'
import { ScramServerExchange } from './scram-server.js'
import { SaslAuthenticationError, UnsupportedSaslMechanismError } from '../../../src/client/errors.js'

interface Sent {
  api: string
  req: unknown
  opts: SaslRequestOptions | undefined
}

// FakeConnection answers SaslHandshake and SaslAuthenticate from scripts, as a broker would.
class FakeConnection implements SaslConnection {
  readonly host = 'broker.test'
  readonly port = 9093
  readonly nodeId = 3
  sent: Sent[] = []
  enabled = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']
  handshakeError = 0
  onAuth: (bytes: Buffer, round: number) => Partial<SaslAuthenticateResponse> = () => ({})
  #round = 0

  async request<Req, Res>(api: ApiMessage<Req, Res>, req: Req, opts?: SaslRequestOptions): Promise<Res> {
    this.sent.push({ api: api.name, req, opts })
    if (api.key === SaslHandshake.key) {
      const r = req as SaslHandshakeRequest
      const res: SaslHandshakeResponse = SaslHandshake.newResponse()
      res.mechanisms = this.enabled
      res.errorCode = this.handshakeError || (this.enabled.includes(r.mechanism) ? 0 : 33)
      return res as Res
    }
    if (api.key === SaslAuthenticate.key) {
      const res: SaslAuthenticateResponse = { ...SaslAuthenticate.newResponse(), errorMessage: null, ...this.onAuth((req as SaslAuthenticateRequest).authBytes, this.#round++) }
      return res as Res
    }
    throw new Error(`unexpected ${api.name}`)
  }
}

test('PLAIN: handshake v1 naming the mechanism, one SaslAuthenticate, the session lifetime returned', async () => {
  const conn = new FakeConnection()
  conn.onAuth = (bytes) => {
    assert.deepEqual(bytes, Buffer.from('\0alice\0alice-secret'))
    return { sessionLifetimeMs: 3_600_000n }
  }
  const res = await authenticate(conn, plain({ user: 'alice', pass: 'alice-secret' }), { timeout: 5000, exclusive: true })
  assert.equal(res.mechanism, 'PLAIN')
  assert.equal(res.sessionLifetimeMs, 3_600_000)
  assert.ok(res.latencyMs >= 0)
  assert.deepEqual(conn.sent.map((s) => s.api), ['SaslHandshake', 'SaslAuthenticate'])
  assert.equal((conn.sent[0]!.req as SaslHandshakeRequest).mechanism, 'PLAIN')
  assert.equal(conn.sent[0]!.opts?.version, 1)
  for (const s of conn.sent) {
    assert.equal(s.opts?.timeout, 5000)
    assert.equal(s.opts?.exclusive, true)
  }
})

test('a broker without a session limit reports lifetime 0', async () => {
  const conn = new FakeConnection()
  const res = await authenticate(conn, plain({ user: 'u', pass: 'p' }))
  assert.equal(res.sessionLifetimeMs, 0)
})

test('SCRAM-SHA-512 runs both rounds through SaslAuthenticate', async () => {
  const conn = new FakeConnection()
  const srv = new ScramServerExchange({ hash: 'sha512', users: { admin: 'admin-secret' } })
  conn.onAuth = (bytes, round) => {
    if (round === 0) return { authBytes: srv.first(bytes) }
    if (round === 1) return { authBytes: srv.final(bytes), sessionLifetimeMs: 60_000n }
    throw new Error('too many rounds')
  }
  const res = await authenticate(conn, scramSha512({ user: 'admin', pass: 'admin-secret' }))
  assert.equal(res.sessionLifetimeMs, 60_000)
  assert.deepEqual(conn.sent.map((s) => s.api), ['SaslHandshake', 'SaslAuthenticate', 'SaslAuthenticate'])
})

test('an unsupported mechanism fails with the mechanisms the broker enables', async () => {
  const conn = new FakeConnection()
  conn.enabled = ['PLAIN', 'SCRAM-SHA-512']
  await assert.rejects(authenticate(conn, scramSha256({ user: 'u', pass: 'p' })), (err: unknown) => {
    assert.ok(err instanceof UnsupportedSaslMechanismError)
    assert.equal(err.code, 'UNSUPPORTED_SASL_MECHANISM')
    assert.equal(err.retriable, false)
    assert.deepEqual(err.enabled, ['PLAIN', 'SCRAM-SHA-512'])
    assert.match(err.message, /SCRAM-SHA-256/)
    assert.match(err.message, /PLAIN, SCRAM-SHA-512/)
    assert.match(err.message, /broker\.test:9093/)
    return true
  })
  assert.equal(conn.sent.length, 1)
})

test('SASL_AUTHENTICATION_FAILED becomes SaslAuthenticationError carrying the broker message', async () => {
  const conn = new FakeConnection()
  conn.onAuth = () => ({ errorCode: 58, errorMessage: 'Authentication failed: Invalid username or password' })
  await assert.rejects(authenticate(conn, plain({ user: 'u', pass: 'bad' })), (err: unknown) => {
    assert.ok(err instanceof SaslAuthenticationError)
    assert.ok(err instanceof KafkaWireError)
    assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED')
    assert.equal(err.retriable, false)
    assert.equal(err.broker, 3)
    assert.equal(err.errorMessage, 'Authentication failed: Invalid username or password')
    assert.match(err.message, /PLAIN.*broker\.test:9093.*Invalid username or password/)
    return true
  })
})

test('SaslSession.end: called once with null after success, with the error after a failure, and what it returns replaces that error', async () => {
  const ends: Array<Error | null> = []
  let replace: Error | undefined
  const mech: Mechanism = {
    name: 'PLAIN',
    async authenticate() {
      return {
        clientFirst: Buffer.from('\u0000u\u0000p'),
        session: { step: () => ({ done: true, response: Buffer.alloc(0) }), end: async (e: Error | null) => (ends.push(e), replace) },
      }
    },
  }
  const ok = new FakeConnection()
  await authenticate(ok, mech)
  assert.deepEqual(ends, [null])

  const refused = new FakeConnection()
  refused.onAuth = () => ({ errorCode: 58, errorMessage: 'no' })
  await assert.rejects(authenticate(refused, mech), SaslAuthenticationError)
  assert.equal(ends.length, 2)
  assert.ok((ends[1] as unknown) instanceof SaslAuthenticationError, 'end saw the refusal')

  replace = new Error('the mechanism\'s own account')
  await assert.rejects(authenticate(refused, mech), (err) => err === replace)
  assert.equal(ends.length, 3)
})

test('ILLEGAL_SASL_STATE, from either request, is an authentication failure', async () => {
  const conn = new FakeConnection()
  conn.onAuth = () => ({ errorCode: 34, errorMessage: null })
  await assert.rejects(authenticate(conn, plain({ user: 'u', pass: 'p' })), (err: unknown) => err instanceof SaslAuthenticationError && /ILLEGAL_SASL_STATE/.test(err.message))
  const conn2 = new FakeConnection()
  conn2.handshakeError = 34
  await assert.rejects(authenticate(conn2, plain({ user: 'u', pass: 'p' })), SaslAuthenticationError)
})

test('other error codes surface as KafkaProtocolError', async () => {
  const conn = new FakeConnection()
  conn.onAuth = () => ({ errorCode: -1, errorMessage: 'boom' })
  await assert.rejects(authenticate(conn, plain({ user: 'u', pass: 'p' })), (err: unknown) => err instanceof KafkaProtocolError && !(err instanceof SaslAuthenticationError))
})

test('OAUTHBEARER error challenge: \\x01 is sent and the failure carries the JSON and the broker message', async () => {
  const conn = new FakeConnection()
  const json = '{"status":"invalid_token"}'
  conn.onAuth = (bytes, round) => {
    if (round === 0) return { authBytes: Buffer.from(json) }
    assert.deepEqual(bytes, Buffer.from([0x01]))
    return { errorCode: 58, errorMessage: 'Authentication failed during authentication due to invalid credentials' }
  }
  await assert.rejects(authenticate(conn, oauthBearer({ token: 'tok' })), (err: unknown) => {
    assert.ok(err instanceof SaslAuthenticationError)
    assert.ok(err.message.includes(json), err.message)
    assert.match(err.message, /invalid credentials/)
    return true
  })
  assert.equal(conn.sent.length, 3)
})

test('OAUTHBEARER error challenge fails even if the broker then accepts the \\x01', async () => {
  const conn = new FakeConnection()
  conn.onAuth = (_bytes, round) => (round === 0 ? { authBytes: Buffer.from('{"status":"invalid_token"}') } : {})
  await assert.rejects(authenticate(conn, oauthBearer({ token: 'tok' })), /invalid_token/)
})

test('a client-side check failing mid-exchange rejects without further requests', async () => {
  const conn = new FakeConnection()
  const srv = new ScramServerExchange({ hash: 'sha256', users: { u: 'p' }, tamper: 'signature' })
  conn.onAuth = (bytes, round) => (round === 0 ? { authBytes: srv.first(bytes) } : { authBytes: srv.final(bytes) })
  await assert.rejects(authenticate(conn, scramSha256({ user: 'u', pass: 'p' })), /server signature/)
  assert.equal(conn.sent.length, 3)
})

test('a mechanism that never finishes is cut off', async () => {
  const conn = new FakeConnection()
  const endless: Mechanism = {
    name: 'PLAIN',
    authenticate: async () => ({ clientFirst: Buffer.from('x'), session: { step: () => ({ done: false, response: Buffer.from('again') }) } }),
  }
  await assert.rejects(authenticate(conn, endless), /no result after 16 rounds/)
})

test('mechanismFrom builds each mechanism from its config and passes Mechanism objects through', async () => {
  assert.equal(mechanismFrom({ mechanism: 'PLAIN', user: 'u', pass: 'p' }).name, 'PLAIN')
  assert.equal(mechanismFrom({ mechanism: 'SCRAM-SHA-256', user: 'u', pass: 'p' }).name, 'SCRAM-SHA-256')
  assert.equal(mechanismFrom({ mechanism: 'SCRAM-SHA-512', user: 'u', pass: 'p' }).name, 'SCRAM-SHA-512')
  assert.equal(mechanismFrom({ mechanism: 'scram-sha-512', user: 'u', pass: 'p' } as never).name, 'SCRAM-SHA-512')
  const fixed = mechanismFrom({ mechanism: 'OAUTHBEARER', token: 'tok', extensions: { k: 'v' } })
  assert.equal((await fixed.authenticate({ host: 'h' })).clientFirst.toString(), 'n,,\x01auth=Bearer tok\x01k=v\x01\x01')
  const provided = mechanismFrom({ mechanism: 'OAUTHBEARER', tokenProvider: async () => ({ token: 'fresh' }) })
  assert.match((await provided.authenticate({ host: 'h' })).clientFirst.toString(), /Bearer fresh/)
  const scramNonce = mechanismFrom({ mechanism: 'SCRAM-SHA-256', user: 'u', pass: 'p', nonce: 'abc' })
  assert.equal((await scramNonce.authenticate({ host: 'h' })).clientFirst.toString(), 'n,,n=u,r=abc')
  const custom = plain({ user: 'u', pass: 'p' })
  assert.equal(mechanismFrom(custom), custom)
})

test('mechanismFrom rejects unknown mechanisms and bad credentials with INVALID_OPTION', () => {
  const invalid = (err: unknown): boolean => err instanceof KafkaWireError && err.code === 'INVALID_OPTION'
  assert.throws(() => mechanismFrom({ mechanism: 'GSSAPI' } as never), (err: unknown) => invalid(err) && /GSSAPI.*PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER/.test((err as Error).message))
  assert.throws(() => mechanismFrom({ mechanism: 'PLAIN', user: 'u', pass: '' }), invalid)
  assert.throws(() => mechanismFrom(null as never), invalid)
  assert.throws(() => mechanismFrom({ name: '', authenticate: async () => ({}) } as never), invalid)
})

test('reauthDelay: a random 2-5% of the lifetime, at least 1 s or 1.1 x latency early, never before half', () => {
  const h12 = 12 * 3600 * 1000
  assert.ok(Math.abs(reauthDelay(h12, { random: 0 }) - h12 * 0.95) < 1)
  assert.ok(Math.abs(reauthDelay(h12, { random: 0.999999 }) - h12 * 0.98) < 2)
  for (let i = 0; i < 100; i++) {
    const d = reauthDelay(h12)
    assert.ok(d >= h12 * 0.95 - 1 && d <= h12 * 0.98 + 1, String(d))
  }
  assert.equal(reauthDelay(10_000, { random: 0 }), 9_000) // 5% is 500 ms: the 1 s floor wins
  assert.equal(reauthDelay(60_000, { random: 0, latencyMs: 5_000 }), 60_000 - 5_500) // latency wins
  assert.equal(reauthDelay(1_500, { random: 0 }), 750) // never earlier than half the lifetime
  assert.equal(reauthDelay(0), 0)
  assert.equal(reauthDelay(-5), 0)
  assert.equal(reauthDelay(Number.MAX_SAFE_INTEGER), 2 ** 31 - 1) // setTimeout's limit
})
