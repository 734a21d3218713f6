// Consumer groups against a real broker, for the classic protocol (cooperative-sticky and eager
// range) and KIP-848 (server-side uniform and range): members joining and leaving, the callbacks and
// their order, cooperative rebalances that never revoke what stays, leaving on close, static
// membership, slow application code, blockRebalanceOnPoll, and the group-management error hook.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Client, consumerOf } from '../../../src/client/client.js'
import type { ClientOptions } from '../../../src/client/options.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName, waitFor } from '../helpers.js'
import { Member, describeGroup, keysOf, partitionsCovered, pollUntil, produceKeys } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

interface Variant {
  name: string
  protocol: 'classic' | 'consumer'
  cooperative: boolean
  opts: Partial<ClientOptions>
  /**
   * sticky is true when the assignor keeps what a member has where balance allows. KIP-848's
   * server-side range assignor is not sticky: it orders members by their (random) ids, so a partition
   * may leave a member in one rebalance and come back in the next.
   */
  sticky: boolean
}

const VARIANTS: Variant[] = [
  { name: 'classic cooperative-sticky', protocol: 'classic', cooperative: true, sticky: true, opts: { heartbeatInterval: 500 } },
  { name: 'classic range (eager)', protocol: 'classic', cooperative: false, sticky: false, opts: { heartbeatInterval: 500, balancers: ['range'] } },
  { name: 'KIP-848 uniform', protocol: 'consumer', cooperative: true, sticky: true, opts: { groupProtocol: 'consumer', groupRemoteAssignor: 'uniform' } },
  { name: 'KIP-848 range', protocol: 'consumer', cooperative: true, sticky: false, opts: { groupProtocol: 'consumer', groupRemoteAssignor: 'range' } },
]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const v of VARIANTS) {
  test(`${v.name}: members join and leave; every partition owned once; callbacks awaited in order; ${v.cooperative ? 'nothing kept is revoked' : 'eager revokes all'}; close leaves at once`, { timeout: 120_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 6 })
    const group = topicName('g')
    // Revoking is slow application code: the partitions' next owner must wait for it.
    const revokeDone = new Map<string, Map<number, number>>()
    const make = (name: string) => {
      const done = new Map<number, number>()
      revokeDone.set(name, done)
      return new Member(name, (o) => newClient(k, o), {
        ...v.opts,
        consumeTopics: [topic],
        consumerGroup: group,
        onPartitionsRevoked: async (parts) => {
          await sleep(300)
          for (const p of parts.get(topic) ?? []) done.set(p, Date.now())
        },
      })
    }
    const a = make('a')
    await waitFor(() => a.owned.size === 6, 'the first member to own every partition')
    const b = make('b')
    await waitFor(() => partitionsCovered([a, b], 6) && b.owned.size > 0 && a.owned.size > 0, 'two members to share the partitions')
    const c = make('c')
    await waitFor(() => partitionsCovered([a, b, c], 6) && [a, b, c].every((m) => m.owned.size === 2), 'three members to own two partitions each')

    for (const m of [a, b, c]) {
      assert.deepEqual(m.of('lost'), [], `${m.name} lost nothing`)
      // A revoked partition reached its next owner only after the revoke callback finished.
      for (const other of [a, b, c]) {
        if (other === m) continue
        for (const e of other.events.filter((x) => x.kind === 'assigned')) {
          for (const p of e.partitions) {
            const revokedAt = revokeDone.get(m.name)!.get(p)
            if (revokedAt !== undefined && m.events.some((x) => x.kind === 'revoked' && x.partitions.includes(p) && x.at <= e.at)) {
              assert.ok(e.at >= revokedAt, `${other.name} got ${p} at ${e.at}, after ${m.name} finished revoking it at ${revokedAt}`)
            }
          }
        }
      }
    }
    if (v.cooperative && !v.sticky) {
      // Incremental but not sticky: every revoke happened while the member owned the partition, and
      // the final owners split the six partitions two each (checked above).
      for (const m of [a, b, c]) assert.ok(m.of('revoked').flat().every((p) => p >= 0 && p < 6), `${m.name} revoked only partitions of the topic`)
    } else if (v.cooperative) {
      // Incremental: a partition is revoked only to move; what a member keeps is never revoked.
      for (const m of [a, b, c]) {
        const revoked = m.of('revoked').flat()
        for (const p of m.owned) assert.ok(!revoked.includes(p), `${m.name} kept ${p} and never had it revoked`)
      }
      assert.equal(a.of('revoked').flat().length, 4, 'the first member gave up exactly the 4 partitions that moved')
    } else {
      // Eager: every rebalance revokes everything first.
      assert.deepEqual(a.of('revoked')[0], [0, 1, 2, 3, 4, 5])
    }

    const gm = a.client.groupMetadata()
    assert.ok(gm.memberId !== '' && gm.generation > 0)
    // Closing leaves the group: the others take over long before the 45 s session timeout would.
    const closedAt = Date.now()
    await c.client.close()
    assert.deepEqual(c.owned, new Set(), 'close revokes what the member held')
    await waitFor(() => partitionsCovered([a, b], 6), 'the two remaining members to take over', 20_000)
    assert.ok(Date.now() - closedAt < 20_000)
    await waitFor(async () => (await describeGroup(admin, group, v.protocol)).members.length === 2, 'the group to have two members')
  })
}

for (const v of [VARIANTS[0]!, VARIANTS[2]!]) {
  test(`${v.name}: a static member (instanceId) that restarts gets its partitions back and the other member sees no rebalance`, { timeout: 120_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 4 })
    const group = topicName('g')
    const opts = { ...v.opts, consumeTopics: [topic], consumerGroup: group, sessionTimeout: 30_000 }
    const a = new Member('a', (o) => newClient(k, o), { ...opts, instanceId: 'a-static' })
    const b = new Member('b', (o) => newClient(k, o), { ...opts, instanceId: 'b-static' })
    await waitFor(() => partitionsCovered([a, b], 4) && a.owned.size === 2, 'two static members to share the partitions')
    const held = a.ownedList()
    const bEvents = b.events.length
    const generation = b.client.groupMetadata().generation
    await a.client.close()
    // The static member did not leave: the group still counts it (its session runs on).
    const d = await describeGroup(admin, group, v.protocol)
    assert.deepEqual(d.members.map((m) => m.instanceId).sort(), ['a-static', 'b-static'])
    const a2 = new Member('a2', (o) => newClient(k, o), { ...opts, instanceId: 'a-static' })
    await waitFor(() => a2.owned.size === 2, 'the restarted member to get its partitions')
    assert.deepEqual(a2.ownedList(), held, 'the same partitions as before the restart')
    assert.equal(b.events.length, bEvents, 'the other member had no callback: no rebalance')
    assert.equal(b.client.groupMetadata().generation, generation, "the other member's generation or epoch did not change")
  })
}

test('a member whose code holds a record for longer than the session timeout keeps its membership (classic and KIP-848)', { timeout: 120_000 }, async (t) => {
  const admin = newClient(k)
  // Classic: sessionTimeout 6 s (the broker minimum); KIP-848: the broker's group.consumer.session.timeout.ms (10 s in tests).
  const cases = [
    { protocol: 'classic' as const, opts: { sessionTimeout: 6_000, heartbeatInterval: 1_000 }, hold: 9_000 },
    { protocol: 'consumer' as const, opts: { groupProtocol: 'consumer' as const }, hold: 13_000 },
  ]
  await Promise.all(
    cases.map(async ({ protocol, opts, hold }) => {
      const topic = await createTopic(admin, { partitions: 2 })
      const group = topicName('g')
      await produceKeys(admin, topic, 4)
      const m = new Member(protocol, (o) => newClient(k, o), { ...opts, consumeTopics: [topic], consumerGroup: group, disableAutoCommit: true, blockRebalanceOnPoll: true })
      const [first] = await pollUntil(m.client, (rs) => rs.length >= 1)
      const before = m.client.groupMetadata()
      // Synchronous work blocks the event loop itself; the heartbeat must survive that too, so
      // hold the record partly with a busy loop and partly asleep.
      const busyUntil = Date.now() + 2_000
      while (Date.now() < busyUntil) {
        // busy
      }
      await sleep(hold - 2_000)
      await m.client.commitRecords(first!)
      m.client.allowRebalance()
      const after = m.client.groupMetadata()
      assert.deepEqual(after, before, `${protocol}: same member id and generation after holding a record ${hold} ms`)
      assert.deepEqual(m.of('lost'), [], `${protocol}: nothing lost`)
      assert.deepEqual(m.of('revoked'), [], `${protocol}: nothing revoked`)
      const d = await describeGroup(admin, group, protocol)
      assert.deepEqual(d.members.map((x) => x.memberId), [before.memberId])
      const committed = await m.client.fetchCommittedOffsets({ [topic]: [first!.partition] })
      assert.equal(committed.get(topic)!.get(first!.partition)!.offset, first!.offset + 1n)
      t.diagnostic(`${protocol}: held a record ${hold} ms, membership kept`)
    }),
  )
})

test('classic: a member whose new partition waits longer than its session for a transaction that commits its offsets (UNSTABLE_OFFSET_COMMIT) keeps its membership, then starts at the committed offset', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 1 })
  const group = topicName('g')
  await produceKeys(admin, topic, 10)
  // An open transaction commits offset 4 for the group: until it ends, an OffsetFetch that requires
  // stable offsets (KIP-447) is answered UNSTABLE_OFFSET_COMMIT, and the member cannot start the partition.
  const txn = newClient(k, { transactionalId: topicName('txn'), transactionTimeout: 60_000 })
  txn.beginTransaction()
  await txn.sendOffsetsToTransaction({ [topic]: { 0: { offset: 4n } } }, { groupId: group })
  const m = new Member('classic', (o) => newClient(k, o), { consumeTopics: [topic], consumerGroup: group, disableAutoCommit: true, sessionTimeout: 6_000, heartbeatInterval: 500 })
  const early = pollUntil(m.client, () => false, { timeoutMs: 9_500 }).catch(() => [])
  await waitFor(() => m.client.groupMetadata().generation > 0, 'the member to join')
  const before = m.client.groupMetadata()
  // Past the 6 s session: heartbeats went on while the committed offset was unstable.
  assert.deepEqual(await early, [], 'nothing polled while the offsets are unstable')
  const d = await describeGroup(admin, group, 'classic')
  assert.deepEqual([d.state, d.members.map((x) => x.memberId)], ['Stable', [before.memberId]], 'the coordinator still holds the member after 9 s')
  await txn.endTransaction('commit')
  const rs = await pollUntil(m.client, (all) => all.length >= 6)
  assert.equal(rs[0]!.offset, 4n, 'the member starts at the offset the transaction committed')
  // A few heartbeats later: no session was lost meanwhile (a lost one shows up at the next heartbeat).
  await sleep(1_500)
  assert.deepEqual(m.client.groupMetadata(), before, 'same member id and generation')
  assert.deepEqual(m.events.map((e) => e.kind), ['assigned'], 'assigned once, nothing lost')
})

test('a member holding a record past the session timeout while a rebalance waits for it (blockRebalanceOnPoll) keeps its membership (classic and KIP-848)', { timeout: 120_000 }, async (t) => {
  const admin = newClient(k)
  const cases = [
    { protocol: 'classic' as const, opts: { sessionTimeout: 6_000, heartbeatInterval: 1_000 }, hold: 9_000 },
    { protocol: 'consumer' as const, opts: { groupProtocol: 'consumer' as const }, hold: 13_000 },
  ]
  await Promise.all(
    cases.map(async ({ protocol, opts, hold }) => {
      const topic = await createTopic(admin, { partitions: 4 })
      const group = topicName('g')
      await produceKeys(admin, topic, 40)
      const mopts = { ...opts, consumeTopics: [topic], consumerGroup: group, blockRebalanceOnPoll: true }
      const a = new Member('a', (o) => newClient(k, o), mopts)
      await waitFor(() => a.owned.size === 4, 'the first member to own every partition')
      await pollUntil(a.client, (rs) => rs.length >= 1)
      const { memberId } = a.client.groupMetadata()
      // A second member joins while the first holds its poll: the rebalance needs the first member,
      // which only heartbeats until it is allowed to go on.
      const b = new Member('b', (o) => newClient(k, o), mopts)
      await waitFor(async () => (await describeGroup(admin, group, protocol)).members.length === 2, 'the second member to join')
      await sleep(hold)
      assert.deepEqual(a.of('lost'), [], `${protocol}: nothing lost while holding ${hold} ms`)
      assert.equal(a.client.groupMetadata().memberId, memberId)
      a.client.allowRebalance()
      await waitFor(() => partitionsCovered([a, b], 4) && b.owned.size === 2, `${protocol}: the rebalance to finish once allowed`)
      assert.deepEqual(a.of('lost'), [])
      assert.equal(a.client.groupMetadata().memberId, memberId, `${protocol}: the same member`)
      assert.deepEqual((await describeGroup(admin, group, protocol)).members.map((m) => m.memberId).sort(), [memberId, b.client.groupMetadata().memberId].sort())
      t.diagnostic(`${protocol}: held a poll ${hold} ms with a rebalance waiting; membership kept`)
    }),
  )
})

for (const v of [VARIANTS[0]!, VARIANTS[2]!]) {
  test(`${v.name}: blockRebalanceOnPoll holds a revocation until allowRebalance()`, { timeout: 120_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 4 })
    const group = topicName('g')
    await produceKeys(admin, topic, 40)
    const opts = { ...v.opts, consumeTopics: [topic], consumerGroup: group, blockRebalanceOnPoll: true }
    const a = new Member('a', (o) => newClient(k, o), opts)
    await waitFor(() => a.owned.size === 4, 'the first member to own every partition')
    await pollUntil(a.client, (rs) => rs.length >= 1)
    // Polled and not allowed: a second member joins, but nothing is taken from the first.
    const b = new Member('b', (o) => newClient(k, o), opts)
    await waitFor(async () => (await describeGroup(admin, group, v.protocol)).members.length === 2, 'the second member to join')
    // The rebalance reached the first member: a classic group waits for its JoinGroup (held, as in
    // franz-go, until allowed); a KIP-848 member was given a smaller target assignment. Then it gets
    // several heartbeats' time.
    const gen = a.client.groupMetadata().generation
    const memberId = a.client.groupMetadata().memberId
    if (v.protocol === 'classic') await waitFor(async () => (await describeGroup(admin, group, 'classic')).state === 'PreparingRebalance', 'the group to wait for the first member to rejoin')
    else await waitFor(async () => (await describeGroup(admin, group, 'consumer')).members.find((m) => m.memberId === memberId)?.target === 2, 'the first member to get a smaller target')
    await sleep(1_500)
    assert.deepEqual(a.of('revoked'), [], 'nothing revoked while the poll is not allowed')
    assert.equal(a.owned.size, 4)
    assert.equal(b.owned.size, 0)
    if (v.protocol === 'classic') assert.equal(a.client.groupMetadata().generation, gen, 'the classic member has not rejoined')
    a.client.allowRebalance()
    await waitFor(() => partitionsCovered([a, b], 4) && b.owned.size === 2, 'the rebalance to finish once allowed')
    assert.equal(a.of('revoked').flat().length, 2)
  })
}

for (const v of [VARIANTS[0]!, VARIANTS[2]!]) {
  test(`${v.name}: addConsumeTopics adds topics to the subscription; consumeRegex subscribes to matching topics, one created later too`, { timeout: 120_000 }, async (t) => {
    const admin = newClient(k)
    const first = await createTopic(admin, { partitions: 2 })
    const second = await createTopic(admin, { partitions: 2 })
    await produceKeys(admin, first, 4, { prefix: 'first-' })
    await produceKeys(admin, second, 4, { prefix: 'second-' })
    const c = newClient(k, { ...v.opts, consumeTopics: [first], consumerGroup: topicName('g') })
    const got = await pollUntil(c, (rs) => rs.length >= 4)
    let t0 = Date.now()
    c.addConsumeTopics(second)
    got.push(...(await pollUntil(c, (rs) => rs.length >= 4, { what: 'the added topic' })))
    assert.deepEqual(keysOf(got).sort(), ['first-0', 'first-1', 'first-2', 'first-3', 'second-0', 'second-1', 'second-2', 'second-3'])
    assert.deepEqual(consumerOf(c).assigned(), new Map([[first, [0, 1]], [second, [0, 1]]]), 'assigned by the group, not consumed directly')
    const addedIn = Date.now() - t0

    const prefix = topicName('re')
    const a = await createTopic(admin, { name: `${prefix}-a`, partitions: 2 })
    await createTopic(admin, { name: `x${prefix}-other` })
    await produceKeys(admin, a, 4, { prefix: 'a-' })
    const r = newClient(k, { ...v.opts, consumeTopics: [`^${prefix}-`], consumeRegex: true, consumerGroup: topicName('g'), metadataMaxAge: 1_000 })
    const rgot = await pollUntil(r, (rs) => rs.length >= 4, { what: 'the matching topic' })
    const late = await createTopic(admin, { name: `${prefix}-late` })
    await produceKeys(admin, late, 3, { prefix: 'late-' })
    t0 = Date.now()
    rgot.push(...(await pollUntil(r, (rs) => rs.length >= 3, { what: 'the matching topic created later' })))
    t.diagnostic(`${v.name}: an added topic's records came ${addedIn} ms after addConsumeTopics; a topic created later ${Date.now() - t0} ms after its records were produced`)
    assert.deepEqual(keysOf(rgot).sort(), ['a-0', 'a-1', 'a-2', 'a-3', 'late-0', 'late-1', 'late-2'])
    assert.deepEqual([...consumerOf(r).assigned().keys()].sort(), [a, late].sort())
  })
}

test('group defaults are franz-go\'s: session 45 s, rebalance 60 s, heartbeat 3 s, cooperative-sticky, autocommit every 5 s, classic protocol', () => {
  const c = new Client({ seedBrokers: ['127.0.0.1:1'] })
  const cfg = c.config
  assert.equal(cfg.sessionTimeout, 45_000)
  assert.equal(cfg.rebalanceTimeout, 60_000)
  assert.equal(cfg.heartbeatInterval, 3_000)
  assert.deepEqual(cfg.balancers, ['cooperative-sticky'])
  assert.equal(cfg.autoCommitInterval, 5_000)
  assert.equal(cfg.disableAutoCommit, false)
  assert.equal(cfg.groupProtocol, 'classic')
  assert.equal(cfg.consumeResetOffset, 'earliest')
  assert.equal(cfg.isolationLevel, 0)
  void c.close()
})

test('onGroupManageError reports a join the broker refuses (session timeout below group.min.session.timeout.ms; unknown KIP-848 assignor)', { timeout: 60_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin)
  const errors: Array<{ protocol: string; err: Error }> = []
  const hook = (protocol: string) => ({ onGroupManageError: (err: Error) => errors.push({ protocol, err }) })
  newClient(k, { consumeTopics: [topic], consumerGroup: topicName('g'), sessionTimeout: 1_000, heartbeatInterval: 100, hooks: [hook('classic')] })
  newClient(k, { consumeTopics: [topic], consumerGroup: topicName('g'), groupProtocol: 'consumer', groupRemoteAssignor: 'no-such-assignor', hooks: [hook('consumer')] })
  await waitFor(() => errors.some((e) => e.protocol === 'classic') && errors.some((e) => e.protocol === 'consumer'), 'both errors')
  assert.match(errors.find((e) => e.protocol === 'classic')!.err.message, /INVALID_SESSION_TIMEOUT/)
  assert.match(errors.find((e) => e.protocol === 'consumer')!.err.message, /UNSUPPORTED_ASSIGNOR/)
})

test('classic: a second member with the same instanceId fences the first, whose partitions are lost; the first does not fight back', { timeout: 60_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 2 })
  const group = topicName('g')
  const errors: Error[] = []
  const opts = { consumeTopics: [topic], consumerGroup: group, instanceId: 'same', heartbeatInterval: 300, hooks: [{ onGroupManageError: (e: Error) => errors.push(e) }] }
  const a = new Member('a', (o) => newClient(k, o), opts)
  await waitFor(() => a.owned.size === 2, 'the first member to own the partitions')
  const b = new Member('b', (o) => newClient(k, o), opts)
  await waitFor(() => b.owned.size === 2, 'the second member to take the instance over')
  await waitFor(() => a.of('lost').length > 0, 'the first member to learn it was fenced')
  assert.deepEqual(a.of('lost'), [[0, 1]])
  assert.ok(errors.some((e) => /FENCED_INSTANCE_ID/.test(e.message)), errors.map((e) => e.message).join('; '))
  // The fenced member stops: the new one keeps its partitions over several heartbeats.
  const bEvents = b.events.length
  await sleep(2_000)
  assert.equal(b.events.length, bEvents, 'no further rebalance: the fenced member did not rejoin')
  assert.equal(b.owned.size, 2)
  assert.equal(a.owned.size, 0)
})

