import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaWireError } from '../../../src/protocol/errors.js'
import { saslName, type Mechanism } from '../../../src/client/sasl/authenticate.js'
import { scramSha256, scramSha512 } from '../../../src/client/sasl/scram.js'
import { ScramServerExchange, type ScramServerOptions } from './scram-server.js'
import { SaslAuthenticationError } from '../../../src/client/errors.js'

const ctx = { host: 'broker.test', port: 9092 }

// Runs a whole exchange against the in-test server; returns the server side for inspection.
async function exchange(mech: Mechanism, server: ScramServerOptions): Promise<ScramServerExchange> {
  const srv = new ScramServerExchange(server)
  const { session, clientFirst } = await mech.authenticate(ctx)
  const s1 = await session.step(srv.first(clientFirst))
  assert.equal(s1.done, false)
  const s2 = await session.step(srv.final(s1.response))
  assert.equal(s2.done, true)
  assert.equal(s2.response.length, 0)
  return srv
}

test('SCRAM-SHA-256 matches the RFC 7677 test vector', async () => {
  const mech = scramSha256({ user: 'user', pass: 'pencil', nonce: 'rOprNGfwEbeRWgbNEkqO' })
  assert.equal(mech.name, 'SCRAM-SHA-256')
  const { session, clientFirst } = await mech.authenticate(ctx)
  assert.equal(clientFirst.toString(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO')
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'
  const step1 = await session.step(Buffer.from(serverFirst))
  assert.equal(step1.done, false)
  assert.equal(
    step1.response.toString(),
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  )
  const step2 = await session.step(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))
  assert.deepEqual(step2, { done: true, response: Buffer.alloc(0) })
})

test('SCRAM-SHA-256 rejects a wrong server signature on the RFC 7677 exchange', async () => {
  const { session } = await scramSha256({ user: 'user', pass: 'pencil', nonce: 'rOprNGfwEbeRWgbNEkqO' }).authenticate(ctx)
  await session.step(Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'))
  await assert.rejects(
    Promise.resolve(session.step(Buffer.from('v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))),
    (err: unknown) => err instanceof SaslAuthenticationError && err.code === 'SASL_AUTHENTICATION_FAILED' && !err.retriable && /server signature/.test(err.message),
  )
})

test('SCRAM-SHA-512 round trip against a SCRAM server, with a random nonce', async () => {
  const srv = await exchange(scramSha512({ user: 'alice', pass: 'alice-secret' }), { hash: 'sha512', users: { alice: 'alice-secret' } })
  assert.equal(srv.user, 'alice')
  assert.equal(srv.gs2Header, 'n,,')
})

test('SCRAM-SHA-256 round trip against a SCRAM server with more iterations', async () => {
  await exchange(scramSha256({ user: 'bob', pass: 'pässwörd' }), { hash: 'sha256', users: { bob: 'pässwörd' }, iterations: 8192 })
})

test('the client nonce is fresh for every session', async () => {
  const mech = scramSha256({ user: 'u', pass: 'p' })
  const a = (await mech.authenticate(ctx)).clientFirst.toString()
  const b = (await mech.authenticate(ctx)).clientFirst.toString()
  assert.notEqual(a, b)
  assert.match(a, /^n,,n=u,r=[A-Za-z0-9+/]{32}$/)
})

test('user names escape "," and "=" and the server sees the original name', async () => {
  assert.equal(saslName('a,b=c,,=='), 'a=2Cb=3Dc=2C=2C=3D=3D')
  const user = 'team=blue,admin'
  const mech = scramSha512({ user, pass: 'secret', nonce: 'fixednonce' })
  const { clientFirst } = await mech.authenticate(ctx)
  assert.equal(clientFirst.toString(), 'n,,n=team=3Dblue=2Cadmin,r=fixednonce')
  const srv = await exchange(mech, { hash: 'sha512', users: { [user]: 'secret' } })
  assert.equal(srv.user, user)
})

test('an authorization id goes into the GS2 header and the channel binding', async () => {
  const mech = scramSha256({ user: 'alice', pass: 'pw', zid: 'alice', nonce: 'n0nce' })
  const { clientFirst } = await mech.authenticate(ctx)
  assert.equal(clientFirst.toString(), 'n,a=alice,n=alice,r=n0nce')
  // The server checks c= against base64 of the header it received.
  const srv = await exchange(mech, { hash: 'sha256', users: { alice: 'pw' } })
  assert.equal(srv.gs2Header, 'n,a=alice,')
})

test('extensions such as tokenauth are appended to the client-first message', async () => {
  const mech = scramSha256({ user: 'tokenid', pass: 'hmac', nonce: 'abc', extensions: { tokenauth: 'true' } })
  const { clientFirst } = await mech.authenticate(ctx)
  assert.equal(clientFirst.toString(), 'n,,n=tokenid,r=abc,tokenauth=true')
  const srv = await exchange(mech, { hash: 'sha256', users: { tokenid: 'hmac' } })
  assert.equal(srv.extensions.get('tokenauth'), 'true')
})

test('a server signature that does not match is rejected', async () => {
  const mech = scramSha512({ user: 'alice', pass: 'alice-secret' })
  const srv = new ScramServerExchange({ hash: 'sha512', users: { alice: 'alice-secret' }, tamper: 'signature' })
  const { session, clientFirst } = await mech.authenticate(ctx)
  const s1 = await session.step(srv.first(clientFirst))
  await assert.rejects(Promise.resolve(session.step(srv.final(s1.response))), SaslAuthenticationError)
})

test('a server nonce that does not extend the client nonce is rejected', async () => {
  for (const tamper of ['nonce-replaced', 'nonce-not-extended'] as const) {
    const srv = new ScramServerExchange({ hash: 'sha256', users: { u: 'p' }, tamper })
    const { session, clientFirst } = await scramSha256({ user: 'u', pass: 'p' }).authenticate(ctx)
    await assert.rejects(Promise.resolve(session.step(srv.first(clientFirst))), (err: unknown) => {
      assert.ok(err instanceof SaslAuthenticationError, tamper)
      assert.match(err.message, /nonce/)
      return true
    })
  }
})

test('a wrong password makes the server refuse, and its e= reason reaches the error', async () => {
  const srv = new ScramServerExchange({ hash: 'sha256', users: { u: 'right' } })
  const { session, clientFirst } = await scramSha256({ user: 'u', pass: 'wrong' }).authenticate(ctx)
  const s1 = await session.step(srv.first(clientFirst))
  await assert.rejects(Promise.resolve(session.step(srv.final(s1.response))), /the server refused: invalid-proof/)
})

test('malformed or hostile server-first messages are rejected before any hashing', async () => {
  const cases: Array<[string, RegExp]> = [
    ['m=ext,r=abcdef,s=c2FsdA==,i=4096', /extension/],
    ['r=abcdef,s=c2FsdA==', /malformed/],
    ['s=c2FsdA==,r=abcdef,i=4096', /malformed/],
    ['r=abcdef,s=,i=4096', /empty salt/],
    ['r=abcdef,s=c2FsdA==,i=4095', /iterations/],
    ['r=abcdef,s=c2FsdA==,i=999999999', /iterations/],
    ['r=abcdef,s=c2FsdA==,i=4096x', /iterations/],
    ['e=unknown-user', /refused: unknown-user/],
  ]
  for (const [serverFirst, want] of cases) {
    const { session } = await scramSha256({ user: 'u', pass: 'p', nonce: 'abc' }).authenticate(ctx)
    await assert.rejects(Promise.resolve(session.step(Buffer.from(serverFirst))), (err: unknown) => {
      assert.ok(err instanceof SaslAuthenticationError, serverFirst)
      assert.match(err.message, want, serverFirst)
      return true
    })
  }
})

test('a challenge after the exchange finished is rejected', async () => {
  const srv = new ScramServerExchange({ hash: 'sha256', users: { u: 'p' } })
  const { session, clientFirst } = await scramSha256({ user: 'u', pass: 'p' }).authenticate(ctx)
  const s1 = await session.step(srv.first(clientFirst))
  await session.step(srv.final(s1.response))
  await assert.rejects(Promise.resolve(session.step(Buffer.from('v=x'))), /after the exchange had finished/)
})

test('invalid credentials and settings fail when the mechanism is made', () => {
  const invalid = (err: unknown): boolean => err instanceof KafkaWireError && err.code === 'INVALID_OPTION'
  assert.throws(() => scramSha256({ user: '', pass: 'p' }), invalid)
  assert.throws(() => scramSha512({ user: 'u', pass: '' }), invalid)
  assert.throws(() => scramSha256({ user: 'u', pass: 'p', nonce: 'has,comma' }), invalid)
  assert.throws(() => scramSha256({ user: 'u', pass: 'p', nonce: 'has space' }), invalid)
  assert.throws(() => scramSha256({ user: 'u', pass: 'p', extensions: { r: 'x' } }), invalid)
  assert.throws(() => scramSha256({ user: 'u', pass: 'p', extensions: { tokenauth: 'a,b' } }), invalid)
})

test('credentials from a function are fetched for every session', async () => {
  let calls = 0
  const mech = scramSha256(async (c) => {
    calls++
    assert.equal(c.host, 'broker.test')
    return { user: 'u', pass: 'p' }
  })
  await exchange(mech, { hash: 'sha256', users: { u: 'p' } })
  await exchange(mech, { hash: 'sha256', users: { u: 'p' } })
  assert.equal(calls, 2)
  await assert.rejects(scramSha256(() => ({ user: '', pass: 'p' })).authenticate(ctx), /non-empty user/)
})
