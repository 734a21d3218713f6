// The group callbacks autoCommitCallback, onOffsetsFetched and onPartitionsCallbackBlocked against a
// real broker, for the classic protocol and KIP-848: the callback sees every autocommit (the periodic
// one and the one at close) with what the group then has committed; onOffsetsFetched sees each
// assigned partition's committed offset, leader epoch and metadata before anything of it is fetched;
// and when it throws, the member gives the session up, reports a GroupSessionError and joins again;
// onPartitionsCallbackBlocked hears of each rebalance blockRebalanceOnPoll holds, and can allow it.
// The refused-commit case is in group-callbacks-fake.test.ts (a scripted broker refuses commits on
// demand).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { consumerOf } from '../../../src/client/client.js'
import type { AutoCommitResult, CommitOffsets } from '../../../src/client/types.js'
import { GroupSessionError } from '../../../src/client/errors.js'
import { Admin } from '../../../src/admin/index.js'
import type { Record } from '../../../src/protocol/record.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { LogLevel } from '../../../src/hooks/logger.js'
import { broker, closeAll, createTopic, newClient, topicName, waitFor } from '../helpers.js'
import { Member, partitionsCovered, pollUntil, produceKeys, PROTOCOLS } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)


/** flat turns CommitOffsets into { 'partition': offset } for one topic. */
function flat(offsets: CommitOffsets, topic: string): { [p: string]: bigint } {
  return Object.fromEntries([...(offsets.get(topic) ?? new Map())].map(([p, eo]) => [String(p), eo.offset]))
}

/** nextOffsets is, per partition, the offset after the last record polled (what an autocommit commits). */
function nextOffsets(records: Record[]): { [p: string]: bigint } {
  const out: { [p: string]: bigint } = {}
  for (const r of records) if ((out[r.partition] ?? -1n) < r.offset + 1n) out[r.partition] = r.offset + 1n
  return out
}

for (const { name, opts } of PROTOCOLS) {
  test(`${name}: autoCommitCallback sees each autocommit, periodic and at close, with the offsets the group then has committed`, { timeout: 60_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 2 })
    await produceKeys(admin, topic, 5, { partition: 0 })
    await produceKeys(admin, topic, 7, { partition: 1 })
    const [g1, g2] = [topicName('g'), topicName('g')]

    // Periodic: what the callbacks report, merged, reaches what was polled, and is what the group has.
    const periodic: AutoCommitResult[] = []
    const c = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: g1, autoCommitInterval: 100, autoCommitCallback: (r) => void periodic.push(r) })
    const polled = await pollUntil(c, (rs) => rs.length >= 12)
    // The next poll says the records are processed: only then may autocommit take them (at-least-once).
    await c.pollFetches({ signal: AbortSignal.timeout(50) })
    const want = nextOffsets(polled)
    assert.deepEqual(want, { 0: 5n, 1: 7n })
    const reported = () => {
      const m: { [p: string]: bigint } = {}
      for (const r of periodic) Object.assign(m, flat(r.offsets, topic))
      return m
    }
    await waitFor(() => reported()['0'] === 5n && reported()['1'] === 7n, 'the autocommits of everything polled to be reported')
    for (const r of periodic) {
      assert.equal(r.error, null)
      assert.deepEqual(r.partitionErrors, [])
    }
    const committed = await c.fetchCommittedOffsets({ [topic]: [0, 1] })
    assert.deepEqual(flat(committed, topic), want, 'the group committed what the callback was told')
    const last = polled.filter((r) => r.partition === 0).at(-1)!
    const reportedP0 = periodic.map((r) => r.offsets.get(topic)?.get(0)).filter((eo) => eo !== undefined).at(-1)!
    assert.equal(reportedP0.leaderEpoch, last.leaderEpoch, 'with the leader epoch of the last record polled')
    assert.equal(committed.get(topic)!.get(0)!.leaderEpoch, last.leaderEpoch)

    // At close: the interval never comes round; close commits what was polled and reports it.
    const atClose: AutoCommitResult[] = []
    const d = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: g2, autoCommitInterval: 600_000, autoCommitCallback: (r) => void atClose.push(r) })
    await pollUntil(d, (rs) => rs.length >= 12)
    await d.pollFetches({ signal: AbortSignal.timeout(50) })
    assert.equal(atClose.length, 0, 'nothing committed before close')
    await d.close()
    assert.equal(atClose.length, 1, 'one commit at close, reported before close resolves')
    assert.deepEqual(flat(atClose[0]!.offsets, topic), { 0: 5n, 1: 7n })
    assert.equal(atClose[0]!.error, null)
    const reader = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: g2, disableAutoCommit: true })
    assert.deepEqual(flat(await reader.fetchCommittedOffsets({ [topic]: [0, 1] }), topic), { 0: 5n, 1: 7n }, 'the group committed what the callback was told')
  })

  test(`${name}: onOffsetsFetched gets each assigned partition's committed offset, leader epoch and metadata, and nothing is fetched until it resolves`, { timeout: 60_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 3 })
    for (let p = 0; p < 3; p++) await produceKeys(admin, topic, 10, { partition: p, prefix: `p${p}-` })
    const group = topicName('g')
    const res = await new Admin(admin).commitOffsets(group, [
      { topic, partition: 0, offset: 3n, leaderEpoch: 0, metadata: 'zero' },
      { topic, partition: 1, offset: 7n, metadata: 'one' },
    ])
    assert.ok(res.every((r) => r.error === null))

    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const calls: Array<{ offsets: CommitOffsets; signal: AbortSignal }> = []
    const assigned: number[][] = []
    const c = newClient(k, {
      ...opts,
      consumeTopics: [topic],
      consumerGroup: group,
      onOffsetsFetched: async (offsets, signal) => {
        calls.push({ offsets, signal })
        await gate
      },
      onPartitionsAssigned: (parts) => void assigned.push(parts.get(topic) ?? []),
    })
    // Polls run while the callback waits: they must get nothing.
    let released = false
    let polledEarly = false
    const early = pollUntil(c, (rs) => rs.length > 0, { timeoutMs: 600_000 }).then((rs) => {
      polledEarly = !released
      return rs
    })
    await waitFor(() => calls.length === 1, 'onOffsetsFetched')
    const got = calls[0]!.offsets.get(topic)!
    assert.deepEqual([...got.keys()].sort(), [0, 1, 2], 'every assigned partition')
    assert.deepEqual(got.get(0), { offset: 3n, leaderEpoch: 0, metadata: 'zero' })
    assert.deepEqual(got.get(1), { offset: 7n, leaderEpoch: -1, metadata: 'one' })
    assert.equal(got.get(2)!.offset, -1n, 'no commit')
    assert.equal(calls[0]!.signal.aborted, false)
    assert.deepEqual(assigned, [], 'onPartitionsAssigned comes after')
    for (let p = 0; p < 3; p++) assert.equal(consumerOf(c).cursor(topic, p), undefined, `partition ${p} is not fetched yet`)
    // A poll that waits a while meanwhile still gets nothing (nothing of the topic is fetched).
    const none = await c.pollFetches({ signal: AbortSignal.timeout(1_500) })
    assert.equal(none.numRecords(), 0)
    assert.equal(polledEarly, false)
    released = true
    release()
    const first = await early
    assert.equal(polledEarly, false, 'no record was polled before onOffsetsFetched resolved')
    const all = [...first, ...(await pollUntil(c, (rs) => rs.length + first.length >= 20))]
    const byPartition = (p: number) => all.filter((r) => r.partition === p).map((r) => r.offset)
    assert.equal(byPartition(0)[0], 3n, 'partition 0 starts at its committed offset')
    assert.equal(byPartition(1)[0], 7n, 'partition 1 starts at its committed offset')
    assert.equal(byPartition(2)[0], 0n, 'partition 2 starts at consumeResetOffset')
    assert.equal(all.length, 20)
    assert.deepEqual(assigned, [[0, 1, 2]])
    assert.equal(calls.length, 1)
  })

  test(`${name}: onOffsetsFetched that throws gives the session up (GroupSessionError to polls and onGroupManageError) and the member joins again`, { timeout: 90_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 2 })
    for (let p = 0; p < 2; p++) await produceKeys(admin, topic, 4, { partition: p })
    const group = topicName('g')
    await new Admin(admin).commitOffsets(group, { [topic]: { 0: 1n, 1: 2n } })
    const boom = new Error('not ready for these partitions')
    const calls: CommitOffsets[] = []
    const hooked: Error[] = []
    const assigned: number[][] = []
    const c = newClient(k, {
      ...opts,
      consumeTopics: [topic],
      consumerGroup: group,
      hooks: [{ onGroupManageError: (err: Error) => void hooked.push(err) }],
      onPartitionsAssigned: (parts) => void assigned.push(parts.get(topic) ?? []),
      onOffsetsFetched: async (offsets) => {
        calls.push(offsets)
        if (calls.length === 1) throw boom
      },
    })
    const errors: Error[] = []
    const records: Record[] = []
    await waitFor(async () => {
      const f = await c.pollFetches({ signal: AbortSignal.timeout(500) })
      for (const e of f.errors()) if (e.error instanceof GroupSessionError) errors.push(e.error)
      records.push(...f.records())
      return records.length >= 5
    }, 'the records after the rejoin', 60_000)
    assert.equal(calls.length, 2, 'the callback ran again in the next session')
    assert.deepEqual(flat(calls[1]!, topic), { 0: 1n, 1: 2n })
    assert.equal(errors.length, 1, 'the poll reported the session given up')
    assert.equal(errors[0]!.cause, boom)
    assert.equal((errors[0] as GroupSessionError).group, group)
    assert.equal((errors[0] as GroupSessionError).retriable, true)
    assert.ok(hooked.includes(errors[0]!), 'onGroupManageError heard of it')
    assert.deepEqual(assigned, [[0, 1]], 'the partitions were handed out once, after the callback succeeded')
    assert.deepEqual(nextOffsets(records), { 0: 4n, 1: 4n })
    assert.deepEqual(records.map((r) => `${r.partition}:${r.offset}`).sort(), ['0:1', '0:2', '0:3', '1:2', '1:3'])
  })

  test(`${name}: onOffsetsFetched that throws for a partition added later loses the partitions the member owned, and the next session gets them all`, { timeout: 90_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 1 })
    const group = topicName('g')
    const events: string[] = []
    const parts = (m: Map<string, number[]>) => (m.get(topic) ?? []).join(',')
    let failed = false
    const c = newClient(k, {
      ...opts,
      consumeTopics: [topic],
      consumerGroup: group,
      metadataMaxAge: 500,
      hooks: [{ onGroupManageError: (err: Error) => void events.push(`error ${(err as GroupSessionError).code}`) }],
      onPartitionsAssigned: (m) => void events.push(`assigned ${parts(m)}`),
      onPartitionsRevoked: (m) => void events.push(`revoked ${parts(m)}`),
      onPartitionsLost: (m) => void events.push(`lost ${parts(m)}`),
      onOffsetsFetched: (offsets) => {
        events.push(`fetched ${[...(offsets.get(topic)?.keys() ?? [])].join(',')}`)
        // The first time partition 1 comes, alone, the callback fails.
        if (!failed && offsets.get(topic)?.size === 1 && offsets.get(topic)!.has(1)) {
          failed = true
          throw new Error('not ready for partition 1')
        }
      },
    })
    await waitFor(() => events.includes('assigned 0'), 'the first partition')
    await new Admin(admin).createPartitions(1, [topic])
    await waitFor(() => events.at(-1) === 'assigned 0,1', 'both partitions, after the failed session', 60_000)
    assert.deepEqual(events, ['fetched 0', 'assigned 0', 'fetched 1', 'lost 0', 'error GROUP_SESSION', 'fetched 0,1', 'assigned 0,1'])
    await c.close()
  })

  test(`${name}: onPartitionsCallbackBlocked is called once as blockRebalanceOnPoll holds a rebalance, before anything is revoked, and its allowRebalance() lets the rebalance finish`, { timeout: 90_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 4 })
    for (let p = 0; p < 4; p++) await produceKeys(admin, topic, 5, { partition: p })
    const mopts = { ...opts, consumeTopics: [topic], consumerGroup: topicName('g') }
    // What the first member owned each time it was told, and the second: the rebalance had not moved yet.
    const seen: string[] = []
    let b: Member | undefined
    const a: Member = new Member('a', (o) => newClient(k, o), {
      ...mopts,
      blockRebalanceOnPoll: true,
      onPartitionsCallbackBlocked: () => {
        seen.push(`a ${a.ownedList().join(',')} b ${b?.ownedList().join(',') ?? '-'}`)
        a.client.allowRebalance()
      },
    })
    await waitFor(() => a.owned.size === 4, 'the first member to own every partition')
    await pollUntil(a.client, (rs) => rs.length >= 1)
    assert.deepEqual(seen, [], 'no rebalance yet: nothing blocked')
    // The poll holds the next rebalance: only the callback's allowRebalance lets it go on.
    b = new Member('b', (o) => newClient(k, o), mopts)
    await waitFor(() => partitionsCovered([a, b], 4) && b!.owned.size === 2, 'the rebalance the callback allowed to finish')
    assert.deepEqual(seen, ['a 0,1,2,3 b '], 'called once, while the first member still owned everything')
    assert.equal(a.of('revoked').flat().length, 2)
  })

  test(`${name}: onPartitionsCallbackBlocked that throws or rejects is logged and the rebalance waits for allowRebalance(); without blockRebalanceOnPoll it is never called`, { timeout: 90_000 }, async () => {
    const admin = newClient(k)
    // Six partitions: when a third member comes, each of the two gives one up (a KIP-848 member
    // whose assignment stays is not held).
    const topic = await createTopic(admin, { partitions: 6 })
    for (let p = 0; p < 6; p++) await produceKeys(admin, topic, 5, { partition: p })
    const logged: string[] = []
    const logger = { level: () => LogLevel.Error, log: (_level: LogLevel, msg: string, ...kv: unknown[]) => void logged.push(`${msg} ${kv.join(' ')}`) }

    // Two members hold a rebalance; one's callback throws, the other's rejects.
    const held = { ...opts, consumeTopics: [topic], consumerGroup: topicName('g') }
    let calls = 0
    const a = new Member('a', (o) => newClient(k, o), {
      ...held,
      blockRebalanceOnPoll: true,
      logger,
      onPartitionsCallbackBlocked: () => {
        calls++
        throw new Error('thrown by the callback')
      },
    })
    await waitFor(() => a.owned.size === 6, 'the first member to own every partition')
    const a2 = new Member('a2', (o) => newClient(k, o), {
      ...held,
      blockRebalanceOnPoll: true,
      logger,
      onPartitionsCallbackBlocked: async () => {
        calls++
        throw new Error('rejected by the callback')
      },
    })
    await waitFor(() => partitionsCovered([a, a2], 6) && a2.owned.size === 3, 'the two members to share the partitions')
    assert.equal(calls, 0, 'nothing had polled: nothing was held')
    await Promise.all([a, a2].map((m) => pollUntil(m.client, (rs) => rs.length >= 1)))
    const revokes = () => a.of('revoked').length + a2.of('revoked').length
    const revokedBefore = revokes()
    const b = new Member('b', (o) => newClient(k, o), held)
    await waitFor(() => calls === 2, 'both callbacks to be called')
    await waitFor(() => logged.filter((l) => l.includes('onPartitionsCallbackBlocked threw')).length === 2, 'both failures to be logged')
    assert.ok(logged.some((l) => l.includes('thrown by the callback')), logged.join('; '))
    assert.ok(logged.some((l) => l.includes('rejected by the callback')), logged.join('; '))
    assert.equal(b.owned.size, 0, 'the rebalance still waits')
    assert.equal(revokes(), revokedBefore, 'nothing revoked')
    a.client.allowRebalance()
    a2.client.allowRebalance()
    await waitFor(() => partitionsCovered([a, a2, b], 6) && [a, a2, b].every((m) => m.owned.size === 2), 'the rebalance to finish once allowed')
    assert.equal(calls, 2)

    // Without blockRebalanceOnPoll a rebalance after a poll does not wait, and nobody is told.
    const free = { ...opts, consumeTopics: [topic], consumerGroup: topicName('g') }
    let freeCalls = 0
    const c = new Member('c', (o) => newClient(k, o), { ...free, onPartitionsCallbackBlocked: () => void freeCalls++ })
    await waitFor(() => c.owned.size === 6, 'the member to own every partition')
    await pollUntil(c.client, (rs) => rs.length >= 1)
    const d = new Member('d', (o) => newClient(k, o), free)
    await waitFor(() => partitionsCovered([c, d], 6) && d.owned.size === 3, 'the rebalance to finish')
    assert.equal(freeCalls, 0)
  })
}
