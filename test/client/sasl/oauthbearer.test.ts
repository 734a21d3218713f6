import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaWireError } from '../../../src/protocol/errors.js'
import { oauthBearer } from '../../../src/client/sasl/oauthbearer.js'

const ctx = { host: 'broker.test' }
const JWT = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.'

test('OAUTHBEARER initial response: GS2 header, bearer token, no extensions', async () => {
  const mech = oauthBearer({ token: JWT })
  assert.equal(mech.name, 'OAUTHBEARER')
  const { clientFirst } = await mech.authenticate(ctx)
  assert.equal(clientFirst.toString(), `n,,\x01auth=Bearer ${JWT}\x01\x01`)
})

test('OAUTHBEARER initial response carries extensions sorted by key, and an escaped authzid', async () => {
  const mech = oauthBearer(async () => ({ token: 'abc.def-ghi_~+/==', zid: 'a,b', extensions: { logicalCluster: 'lkc-1', identityPoolId: 'pool-2' } }))
  const { clientFirst } = await mech.authenticate(ctx)
  assert.deepEqual(clientFirst, Buffer.from('n,a=a=2Cb,\x01auth=Bearer abc.def-ghi_~+/==\x01identityPoolId=pool-2\x01logicalCluster=lkc-1\x01\x01'))
})

test('OAUTHBEARER is done when the broker accepts the token', async () => {
  const { session } = await oauthBearer({ token: JWT }).authenticate(ctx)
  const step = await session.step(Buffer.alloc(0))
  assert.deepEqual(step, { done: true, response: Buffer.alloc(0) })
})

test('OAUTHBEARER answers an error challenge with a lone \\x01 and fails with the server JSON', async () => {
  const { session } = await oauthBearer({ token: JWT }).authenticate(ctx)
  const json = '{"status":"invalid_token","scope":"kafka"}'
  const step = await session.step(Buffer.from(json))
  assert.equal(step.done, true)
  assert.deepEqual(step.response, Buffer.from([0x01]))
  assert.ok(step.failure?.includes(json))
})

test('OAUTHBEARER asks the token provider again for every session', async () => {
  let n = 0
  const mech = oauthBearer(() => ({ token: `t${++n}` }))
  assert.match((await mech.authenticate(ctx)).clientFirst.toString(), /Bearer t1\x01/)
  assert.match((await mech.authenticate(ctx)).clientFirst.toString(), /Bearer t2\x01/)
})

test('OAUTHBEARER rejects tokens and extensions RFC 7628 does not allow', async () => {
  const invalid = (err: unknown): boolean => err instanceof KafkaWireError && err.code === 'INVALID_OPTION'
  assert.throws(() => oauthBearer({ token: '' }), invalid)
  assert.throws(() => oauthBearer({ token: 'has space' }), invalid)
  assert.throws(() => oauthBearer({ token: 'x\x01' }), invalid)
  assert.throws(() => oauthBearer({ token: 'x', extensions: { auth: 'y' } }), invalid)
  assert.throws(() => oauthBearer({ token: 'x', extensions: { 'bad-key': 'y' } }), invalid)
  assert.throws(() => oauthBearer({ token: 'x', extensions: { k: 'v\x01' } }), invalid)
  await assert.rejects(oauthBearer(() => ({ token: '' })).authenticate(ctx), invalid)
})
