// Admin's ACL and SCRAM-user methods against a broker of this file's own, started with the
// StandardAuthorizer (no access where no ACL allows it) and `admin` as super user: ACLs created,
// described with filters, seen to grant access to a SASL user who had none, refused to a user who is no
// super user, and deleted again; SCRAM credentials created, described, used to log in, changed (the old
// password refused) and deleted (the login refused).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin, type AclBinding } from '../../src/admin/index.js'
import { InvalidArgumentError, SaslAuthenticationError } from '../../src/client/errors.js'
import type { SaslConfig } from '../../src/client/sasl/index.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { startKafka, type KafkaCluster } from '../../src/testing/index.js'
import { closeAll, newClient, topicName, waitFor } from '../client/helpers.js'
import { countingAdmin } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await startKafka({ sasl: true, authorizer: true }).catch((err: unknown) => {
    throw new Error(`the ACL tests need a broker with an authorizer and none could be started: ${err instanceof Error ? err.message : String(err)}`)
  })
}, { timeout: 300_000 })

after(async () => {
  await closeAll()
  await k?.stop()
})

/** asUser is an admin over the SASL listener, logged in with `sasl`. */
function asUser(sasl: SaslConfig): Admin {
  return new Admin(newClient({ ...k, bootstrapServers: k.saslBootstrapServers! }, { sasl }))
}

const alice = (): Admin => asUser({ mechanism: 'SCRAM-SHA-256', user: k.users.scram256.username, pass: k.users.scram256.password })
const superAdmin = (): Admin => asUser({ mechanism: 'PLAIN', user: k.users.admin.username, pass: k.users.admin.password })

test('ACLs: created, described with filters, granting a user access it did not have, deleted, and access gone again', { timeout: 120_000 }, async () => {
  const admin = superAdmin()
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 1 })
  const user = alice()
  const [before] = await user.describeTopics([topic])
  assert.equal(before!.error?.code, 'TOPIC_AUTHORIZATION_FAILED', 'no ACL: alice may not see the topic')

  const bindings: AclBinding[] = [
    { resourceType: 'topic', resourceName: topic, principal: 'User:alice', operation: 'describe', permission: 'allow' },
    { resourceType: 'topic', resourceName: topic, principal: 'User:alice', operation: 'write', permission: 'allow' },
    { resourceType: 'group', resourceName: `${topic}-`, patternType: 'prefixed', principal: 'User:alice', host: '*', operation: 'read', permission: 'allow' },
    // The cluster resource has one name only: this one is refused on its own.
    { resourceType: 'cluster', resourceName: 'not-the-cluster', principal: 'User:alice', operation: 'alter', permission: 'allow' },
  ]
  const created = await admin.createAcls(bindings)
  assert.deepEqual(
    created.map((c) => c.error?.code ?? null),
    [null, null, null, 'INVALID_REQUEST'],
  )
  assert.ok(created[3]!.error instanceof KafkaProtocolError)
  assert.match(created[3]!.error.message, /acl allow User:alice alter on cluster literal not-the-cluster/)

  await waitFor(async () => (await user.describeTopics([topic]))[0]!.error === null, 'the describe ACL to let alice see the topic')
  const [p] = await user.client.produceSync([{ topic, value: 'from alice' }])
  assert.equal(p!.error, null, 'the write ACL lets alice produce')
  assert.equal((await admin.listEndOffsets([topic]))[0]!.offset, 1n)

  // Filters: by resource, by principal and operation, by the prefixed pattern and by what matches a group name.
  const onTopic = await admin.describeAcls({ resourceType: 'topic', resourceName: topic })
  assert.deepEqual(onTopic.map((a) => a.operation).sort(), ['describe', 'write'])
  assert.deepEqual(onTopic[0], { ...onTopic[0], resourceType: 'topic', resourceName: topic, patternType: 'literal', principal: 'User:alice', host: '*', permission: 'allow' })
  assert.deepEqual(
    (await admin.describeAcls({ principal: 'User:alice', operation: 'write' })).map((a) => a.resourceName),
    [topic],
  )
  assert.deepEqual(
    (await admin.describeAcls({ resourceType: 'group', patternType: 'match', resourceName: `${topic}-billing` })).map((a) => [a.resourceName, a.patternType, a.operation]),
    [[`${topic}-`, 'prefixed', 'read']],
  )
  assert.deepEqual(await admin.describeAcls({ resourceType: 'group', patternType: 'literal', resourceName: `${topic}-` }), [])

  // A user who is no super user may neither list nor create ACLs.
  await assert.rejects(user.describeAcls(), (e: unknown) => e instanceof KafkaProtocolError && e.code === 'CLUSTER_AUTHORIZATION_FAILED')
  const [refused] = await user.createAcls([{ resourceType: 'topic', resourceName: topic, principal: 'User:alice', operation: 'all', permission: 'allow' }])
  assert.equal(refused!.error?.code, 'CLUSTER_AUTHORIZATION_FAILED')

  const deleted = await admin.deleteAcls([{ resourceType: 'topic', resourceName: topic, operation: 'write' }, { resourceType: 'group', resourceName: `${topic}-`, patternType: 'prefixed' }, { resourceType: 'topic', resourceName: `${topic}-none` }])
  assert.deepEqual(
    deleted.map((d) => [d.error, d.deleted.map((a) => [a.resourceName, a.operation, a.error])]),
    [
      [null, [[topic, 'write', null]]],
      [null, [[`${topic}-`, 'read', null]]],
      [null, []],
    ],
  )
  await waitFor(async () => (await admin.describeAcls({ resourceType: 'topic', resourceName: topic })).length === 1, 'the deletions to apply')
  await admin.deleteAcls([{ principal: 'User:alice' }])
  await waitFor(async () => (await user.describeTopics([topic]))[0]!.error?.code === 'TOPIC_AUTHORIZATION_FAILED', 'access gone with the ACLs')
  assert.deepEqual(await admin.describeAcls({ principal: 'User:alice' }), [])
})

test('bad ACL bindings and filters fail fast with InvalidArgumentError naming the field, nothing sent', async () => {
  const { admin, writes } = countingAdmin(k)
  const mark = writes.mark
  const ok: AclBinding = { resourceType: 'topic', resourceName: 't', principal: 'User:x', operation: 'read', permission: 'allow' }
  const cases: Array<[() => Promise<unknown>, string]> = [
    [() => admin.createAcls([{ ...ok, resourceType: 'table' as never }]), 'acls[0].resourceType'],
    [() => admin.createAcls([ok, { ...ok, principal: 'x' }]), 'acls[1].principal'],
    [() => admin.createAcls([{ ...ok, operation: 'any' as never }]), 'acls[0].operation'],
    [() => admin.createAcls([{ ...ok, patternType: 'match' as never }]), 'acls[0].patternType'],
    [() => admin.createAcls([{ ...ok, permission: 'maybe' as never }]), 'acls[0].permission'],
    [() => admin.createAcls([{ ...ok, resourceName: '' }]), 'acls[0].resourceName'],
    [() => admin.describeAcls({ operation: 'peek' as never }), 'filter.operation'],
    [() => admin.deleteAcls([{}, { permission: 'both' as never }]), 'filters[1].permission'],
  ]
  for (const [f, argument] of cases) await assert.rejects(f(), (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument, argument)
  assert.equal(writes.mark, mark)
})

/** login reports whether `user` can log in with `mechanism` and `pass` (a Metadata request over SASL); any error but a refused login fails. */
async function login(mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', user: string, pass: string): Promise<boolean> {
  const a = asUser({ mechanism, user, pass })
  try {
    await a.metadata([], { signal: AbortSignal.timeout(20_000) })
    return true
  } catch (err) {
    if (err instanceof SaslAuthenticationError) return false
    throw err
  } finally {
    await a.client.close()
  }
}

test('SCRAM users: created, described, logged in with; the password changed (the old one refused); deleted (the login refused)', { timeout: 120_000 }, async () => {
  const admin = superAdmin()
  const bob = topicName('bob')
  const carol = topicName('carol')
  const created = await admin.alterUserScrams({
    upserts: [
      { user: bob, mechanism: 'SCRAM-SHA-256', password: 'bob-1' },
      { user: bob, mechanism: 'SCRAM-SHA-512', password: 'bob-1', iterations: 4096 },
      { user: carol, mechanism: 'SCRAM-SHA-512', password: 'carol-1', iterations: 100 },
    ],
  })
  // Kafka takes 4096 to 16384 iterations: carol's credential is refused on its own.
  assert.deepEqual(
    created.map((c) => [c.user, c.error?.code ?? null]),
    [
      [bob, null],
      [carol, 'UNACCEPTABLE_CREDENTIAL'],
    ],
  )
  assert.match(created[1]!.error!.message, new RegExp(`user ${carol}`))

  // The controller answers once the change is committed; the broker that describes applies it from
  // the metadata log a moment later. Read once both of bob's credentials show.
  await waitFor(async () => (await admin.describeUserScrams([bob]))[0]!.credentials.length === 2, 'both of bob\'s credentials to be described')
  const [d, none] = await admin.describeUserScrams([bob, carol])
  assert.equal(d!.error, null)
  assert.deepEqual(
    d!.credentials.map((c) => [c.mechanism, c.iterations]).sort(),
    [
      ['SCRAM-SHA-256', 8192],
      ['SCRAM-SHA-512', 4096],
    ],
  )
  assert.equal(none!.error?.code, 'RESOURCE_NOT_FOUND')
  assert.ok((await admin.describeUserScrams()).some((u) => u.user === bob), 'listed among every user')

  await waitFor(() => login('SCRAM-SHA-256', bob, 'bob-1'), 'bob to log in with SCRAM-SHA-256')
  assert.equal(await login('SCRAM-SHA-512', bob, 'bob-1'), true)
  assert.equal(await login('SCRAM-SHA-512', bob, 'wrong'), false)

  const [changed] = await admin.alterUserScrams({ upserts: [{ user: bob, mechanism: 'SCRAM-SHA-512', password: 'bob-2' }], deletions: [{ user: bob, mechanism: 'SCRAM-SHA-256' }] })
  assert.equal(changed!.error, null)
  await waitFor(async () => !(await login('SCRAM-SHA-512', bob, 'bob-1')), 'the old password to be refused')
  assert.equal(await login('SCRAM-SHA-512', bob, 'bob-2'), true)
  assert.equal(await login('SCRAM-SHA-256', bob, 'bob-1'), false, 'the deleted mechanism')
  assert.deepEqual(
    (await admin.describeUserScrams([bob]))[0]!.credentials.map((c) => c.mechanism),
    ['SCRAM-SHA-512'],
  )

  const [gone] = await admin.alterUserScrams({ deletions: [{ user: bob, mechanism: 'SCRAM-SHA-512' }] })
  assert.equal(gone!.error, null)
  await waitFor(async () => !(await login('SCRAM-SHA-512', bob, 'bob-2')), 'the login to be refused')
  const [missing] = await admin.alterUserScrams({ deletions: [{ user: bob, mechanism: 'SCRAM-SHA-512' }] })
  assert.equal(missing!.error?.code, 'RESOURCE_NOT_FOUND')

  // A user who is no super user may not change credentials.
  const [refused] = await alice().alterUserScrams({ upserts: [{ user: 'alice', mechanism: 'SCRAM-SHA-256', password: 'mine' }] })
  assert.equal(refused!.error?.code, 'CLUSTER_AUTHORIZATION_FAILED')
})

test('bad SCRAM changes fail fast with InvalidArgumentError naming the field', async () => {
  const admin = new Admin(newClient(k))
  await assert.rejects(admin.alterUserScrams({ upserts: [{ user: 'u', mechanism: 'SCRAM-SHA-1' as never, password: 'p' }] }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'upserts[0].mechanism')
  await assert.rejects(admin.alterUserScrams({ upserts: [{ user: 'u', mechanism: 'SCRAM-SHA-256', password: '' }] }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'upserts[0].password')
  await assert.rejects(admin.alterUserScrams({ deletions: [{ user: '', mechanism: 'SCRAM-SHA-256' }] }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'deletions[0].user')
  await assert.rejects(admin.describeUserScrams(['']), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'users[0]')
})
