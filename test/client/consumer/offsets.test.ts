// Group offsets against a real broker, for the classic protocol and KIP-848: commitRecords,
// commitOffsets with metadata, commitUncommittedOffsets, autocommit and disableAutoCommit,
// markCommitRecords with autoCommitMarks, the commit on revoke and on close, committed offsets
// picked up by the next owner of a partition, and what autocommit takes with and without
// greedyAutoCommit.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Client } from '../../../src/client/client.js'
import type { ClientOptions } from '../../../src/client/options.js'
import { Admin } from '../../../src/admin/index.js'
import type { Record } from '../../../src/protocol/record.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName, waitFor } from '../helpers.js'
import { keysOf, Member, partitionsCovered, pollUntil, produceKeys, PROTOCOLS } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)


/** committedOf reads a group's committed offsets of partitions 0 and 1 of a topic with the admin (-1 when none). */
async function committedOf(admin: Client, group: string, topic: string): Promise<bigint[]> {
  const got = await new Admin(admin).fetchOffsets(group, { [topic]: [0, 1] })
  return [0, 1].map((p) => got.find((o) => o.partition === p)?.offset ?? -1n)
}

/** pollExactly polls `n` records with pollRecords (every one already buffered) and checks their offsets. */
async function pollExactly(c: Client, n: number, from: bigint): Promise<Record[]> {
  const got = (await c.pollRecords(n)).records()
  assert.deepEqual(got.map((r) => r.offset), Array.from({ length: n }, (_, i) => from + BigInt(i)))
  return got
}

for (const { name, opts } of PROTOCOLS) {
  test(`${name}: commitRecords, commitOffsets with metadata and commitUncommittedOffsets, read back with fetchCommittedOffsets`, { timeout: 60_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 2 })
    await produceKeys(admin, topic, 10, { partition: 0 })
    await produceKeys(admin, topic, 10, { partition: 1 })
    const group = topicName('g')
    const c = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: group, disableAutoCommit: true })
    const got = await pollUntil(c, (rs) => rs.length >= 20)
    const p0 = got.filter((r) => r.partition === 0)
    await c.commitRecords(p0[2]!, p0[4]!, p0[3]!)
    let committed = await c.fetchCommittedOffsets({ [topic]: [0, 1] })
    assert.equal(committed.get(topic)!.get(0)!.offset, 5n, 'the highest record per partition, plus one')
    assert.equal(committed.get(topic)!.get(0)!.leaderEpoch, p0[4]!.leaderEpoch, 'with its leader epoch (KIP-320)')
    assert.equal(committed.get(topic)!.get(1)!.offset, -1n, 'nothing committed for the other partition')

    await c.commitOffsets({ [topic]: { 1: { offset: 7n, metadata: 'from the test' } } })
    committed = await c.fetchCommittedOffsets({ [topic]: [0, 1] })
    assert.equal(committed.get(topic)!.get(1)!.offset, 7n)
    assert.equal(committed.get(topic)!.get(1)!.metadata, 'from the test')

    await c.commitUncommittedOffsets()
    committed = await c.fetchCommittedOffsets({ [topic]: [0, 1] })
    assert.equal(committed.get(topic)!.get(0)!.offset, 10n, 'everything polled')
    assert.equal(committed.get(topic)!.get(1)!.offset, 10n)
  })

  test(`${name}: autocommit every autoCommitInterval; disableAutoCommit commits nothing, not even on close; autocommit commits on close`, { timeout: 60_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin)
    await produceKeys(admin, topic, 10)
    const [g1, g2, g3] = [topicName('g'), topicName('g'), topicName('g')]
    const auto = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: g1, autoCommitInterval: 200 })
    const off = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: g2, disableAutoCommit: true, autoCommitInterval: 100 })
    const onClose = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: g3, autoCommitInterval: 600_000 })
    await Promise.all([auto, off, onClose].map((c) => pollUntil(c, (rs) => rs.length >= 10)))
    // The next poll says the records are processed: only then may autocommit take them (at-least-once).
    await Promise.all([auto, off, onClose].map((c) => c.pollFetches({ signal: AbortSignal.timeout(50) })))
    await waitFor(async () => (await auto.fetchCommittedOffsets({ [topic]: [0] })).get(topic)!.get(0)!.offset === 10n, 'the autocommit')
    // A few intervals of the disabled autocommit go by: still nothing.
    await new Promise((r) => setTimeout(r, 600))
    assert.equal((await off.fetchCommittedOffsets({ [topic]: [0] })).get(topic)!.get(0)!.offset, -1n)
    assert.equal((await onClose.fetchCommittedOffsets({ [topic]: [0] })).get(topic)!.get(0)!.offset, -1n, 'the long interval has not come round')
    await Promise.all([off.close(), onClose.close()])
    const check = newClient(k)
    const fetchCommitted = async (group: string) => {
      const c = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: group, disableAutoCommit: true })
      const r = await c.fetchCommittedOffsets({ [topic]: [0] })
      await c.close()
      return r.get(topic)!.get(0)!.offset
    }
    assert.equal(await fetchCommitted(g2), -1n, 'disableAutoCommit: close commits nothing')
    assert.equal(await fetchCommitted(g3), 10n, 'close committed what was polled')
    await check.close()
  })

  test(`${name}: markCommitRecords with autoCommitMarks commits only what was marked`, { timeout: 60_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin)
    await produceKeys(admin, topic, 10)
    const c = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: topicName('g'), autoCommitMarks: true, autoCommitInterval: 100 })
    const got = await pollUntil(c, (rs) => rs.length >= 10)
    c.markCommitRecords(got[0]!, got[3]!, got[1]!)
    await waitFor(async () => (await c.fetchCommittedOffsets({ [topic]: [0] })).get(topic)!.get(0)!.offset === 4n, 'the marks to be autocommitted')
    // Unmarked polled records stay uncommitted over several intervals, and commitUncommittedOffsets
    // too commits only marks.
    await new Promise((r) => setTimeout(r, 500))
    await c.commitUncommittedOffsets()
    assert.equal((await c.fetchCommittedOffsets({ [topic]: [0] })).get(topic)!.get(0)!.offset, 4n)
    c.markCommitRecords(got[9]!)
    await c.commitUncommittedOffsets()
    assert.equal((await c.fetchCommittedOffsets({ [topic]: [0] })).get(topic)!.get(0)!.offset, 10n)
  })

  test(`${name}: committed offsets are where a partition's next owner starts; with greedyAutoCommit a revoke commits what was polled`, { timeout: 90_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 4 })
    for (let p = 0; p < 4; p++) await produceKeys(admin, topic, 20, { partition: p, prefix: `p${p}-` })
    const group = topicName('g')
    const mopts = { ...opts, consumeTopics: [topic], consumerGroup: group, autoCommitInterval: 600_000, greedyAutoCommit: true }
    // The first member polls 10 records of each partition (pollRecords keeps the rest buffered),
    // commits nothing by itself, and has the revoke commit for it when the second member arrives.
    const a = new Member('a', (o) => newClient(k, o), mopts)
    await waitFor(() => a.owned.size === 4, 'the first member to own every partition')
    await waitFor(() => a.client.bufferedFetchRecords === 80, 'every record to be buffered')
    const first = await pollUntil(a.client, (rs) => rs.length >= 40, { max: 40 })
    const polledUpTo = new Map<number, bigint>()
    for (const r of first) if ((polledUpTo.get(r.partition) ?? -1n) < r.offset + 1n) polledUpTo.set(r.partition, r.offset + 1n)
    const b = new Member('b', (o) => newClient(k, o), mopts)
    await waitFor(() => partitionsCovered([a, b], 4) && b.owned.size === 2, 'the second member to get two partitions')
    // b starts each of its partitions right after what a had polled: nothing a saw is seen again.
    const bGot = await pollUntil(b.client, (rs) => [...b.owned].every((p) => rs.some((r) => r.partition === p && r.offset === 19n)))
    for (const p of b.owned) {
      const mine = bGot.filter((r) => r.partition === p)
      assert.equal(mine[0]!.offset, polledUpTo.get(p) ?? 0n, `partition ${p}: starts at the committed offset`)
      assert.equal(mine.length, Number(20n - (polledUpTo.get(p) ?? 0n)))
    }
    // Both drain what they own and close; the next member of the group finds nothing left but new records.
    await pollUntil(a.client, (rs) => [...a.owned].every((p) => [...first, ...rs].some((r) => r.partition === p && r.offset === 19n)))
    await a.client.close()
    await b.client.close()
    const c = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: group })
    await produceKeys(admin, topic, 1, { partition: 0, prefix: 'late-' })
    const cGot = await pollUntil(c, (rs) => rs.length >= 1)
    assert.deepEqual(keysOf(cGot), ['late-0'], 'the closed members committed everything they polled')
  })

  test(`${name}: autocommit after one poll and after a second: by default only what the polls before the latest handed out, at close too; with greedyAutoCommit everything polled`, { timeout: 60_000 }, async () => {
    const admin = newClient(k)
    // Partition 0 holds the records; partition 1 stays empty, and moving its position (setOffsets)
    // makes the next autocommit commit it: a sign that an autocommit ran after that point.
    const topic = await createTopic(admin, { partitions: 2 })
    await produceKeys(admin, topic, 10, { partition: 0 })
    const run = async (greedy: boolean) => {
      const group = topicName('g')
      const c = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: group, autoCommitInterval: 100, ...(greedy ? { greedyAutoCommit: true } : {}) })
      await waitFor(() => c.bufferedFetchRecords === 10, 'every record to be buffered')
      await pollExactly(c, 4, 0n)
      c.setOffsets({ [topic]: { 1: { offset: 0n } } })
      await waitFor(async () => (await committedOf(admin, group, topic))[1] === 0n, 'an autocommit after the first poll')
      const afterOne = (await committedOf(admin, group, topic))[0]
      await pollExactly(c, 3, 4n)
      await waitFor(async () => (await committedOf(admin, group, topic))[0] === (greedy ? 7n : 4n), 'the autocommit after the second poll')
      await c.close()
      return { afterOne, afterClose: (await committedOf(admin, group, topic))[0] }
    }
    const [greedy, lagging] = await Promise.all([run(true), run(false)])
    assert.deepEqual(greedy, { afterOne: 4n, afterClose: 7n }, 'greedyAutoCommit: each poll is committed at once, and close commits what was polled')
    assert.deepEqual(lagging, { afterOne: -1n, afterClose: 4n }, 'the default (franz-go\'s): a poll is committed once the next poll begins, and close commits no more')
  })

  test(`${name}: by default, commitUncommittedOffsets commits everything polled and autocommit never moves it back; after a single poll close commits nothing; autoCommitMarks commit marks as before`, { timeout: 60_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 2 })
    await produceKeys(admin, topic, 10, { partition: 0 })
    const member = async (group: string, extra: Partial<ClientOptions>) => {
      const c = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: group, ...extra })
      await waitFor(() => c.bufferedFetchRecords === 10, 'every record to be buffered')
      return c
    }
    const manual = async () => {
      const group = topicName('g')
      const c = await member(group, { autoCommitInterval: 600_000 })
      await pollExactly(c, 4, 0n)
      await pollExactly(c, 3, 4n)
      await c.commitUncommittedOffsets()
      const committed = (await committedOf(admin, group, topic))[0]
      // close commits what the polls before the latest handed out (4), which must not undo the 7.
      await c.close()
      return [committed, (await committedOf(admin, group, topic))[0]]
    }
    const single = async () => {
      const group = topicName('g')
      const c = await member(group, { autoCommitInterval: 600_000 })
      await pollExactly(c, 4, 0n)
      await c.close()
      return (await committedOf(admin, group, topic))[0]
    }
    const marks = async () => {
      const group = topicName('g')
      const c = await member(group, { autoCommitMarks: true, autoCommitInterval: 100 })
      const got = await pollExactly(c, 4, 0n)
      c.markCommitRecords(got[1]!)
      // Marked records are committed without another poll, and only they, at close too.
      await waitFor(async () => (await committedOf(admin, group, topic))[0] === 2n, 'the mark to be autocommitted')
      await c.close()
      return (await committedOf(admin, group, topic))[0]
    }
    const [m, s, mk] = await Promise.all([manual(), single(), marks()])
    assert.deepEqual(m, [7n, 7n], 'commitUncommittedOffsets committed both polls, and close did not move the offset back')
    assert.equal(s, -1n, 'close after a single poll commits none of it')
    assert.equal(mk, 2n, 'autoCommitMarks: the mark, not the polls')
  })
}
