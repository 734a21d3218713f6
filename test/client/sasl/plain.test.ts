import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaWireError } from '../../../src/protocol/errors.js'
import { plain } from '../../../src/client/sasl/plain.js'

const ctx = { host: 'broker.test' }

test('PLAIN sends authzid NUL user NUL pass in UTF-8 and is done after one round', async () => {
  const mech = plain({ user: 'alice', pass: 'alice-secret' })
  assert.equal(mech.name, 'PLAIN')
  const { session, clientFirst } = await mech.authenticate(ctx)
  assert.deepEqual(clientFirst, Buffer.from('\0alice\0alice-secret'))
  const step = await session.step(Buffer.alloc(0))
  assert.equal(step.done, true)
  assert.equal(step.response.length, 0)
})

test('PLAIN puts an authorization id first and encodes non-ASCII as UTF-8', async () => {
  const { clientFirst } = await plain({ user: 'jörg', pass: 'pässwort', authzid: 'admin' }).authenticate(ctx)
  assert.deepEqual(clientFirst, Buffer.concat([Buffer.from('admin'), Buffer.from([0]), Buffer.from('jörg', 'utf8'), Buffer.from([0]), Buffer.from('pässwort', 'utf8')]))
})

test('PLAIN rejects empty credentials and NUL characters when the mechanism is made', () => {
  const invalid = (err: unknown): boolean => err instanceof KafkaWireError && err.code === 'INVALID_OPTION'
  assert.throws(() => plain({ user: '', pass: 'p' }), invalid)
  assert.throws(() => plain({ user: 'u', pass: '' }), invalid)
  assert.throws(() => plain({ user: 'u\0x', pass: 'p' }), invalid)
  assert.throws(() => plain({ user: 'u', pass: 'p', authzid: 'a\0' }), invalid)
})

test('PLAIN calls a credential function for every session', async () => {
  let n = 0
  const mech = plain(() => ({ user: `u${++n}`, pass: 'p' }))
  assert.deepEqual((await mech.authenticate(ctx)).clientFirst, Buffer.from('\0u1\0p'))
  assert.deepEqual((await mech.authenticate(ctx)).clientFirst, Buffer.from('\0u2\0p'))
})
