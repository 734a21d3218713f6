// The group callback autoCommitCallback against a real broker, for the classic protocol and KIP-848:
// the callback sees every autocommit (the periodic one and the one at close) with what the group
// then has committed. The refused-commit case is in group-callbacks-fake.test.ts (a scripted broker
// refuses commits on demand).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { ClientOptions } from '../../../src/client/options.js'
import type { AutoCommitResult, CommitOffsets } from '../../../src/client/types.js'
import type { Record } from '../../../src/protocol/record.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName, waitFor } from '../helpers.js'
import { pollUntil, produceKeys } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

const PROTOCOLS: Array<{ name: string; opts: Partial<ClientOptions> }> = [
  { name: 'classic', opts: { heartbeatInterval: 500 } },
  { name: 'KIP-848', opts: { groupProtocol: 'consumer' } },
]

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
    assert.equal(atClose.length, 0, 'nothing committed before close')
    await d.close()
    assert.equal(atClose.length, 1, 'one commit at close, reported before close resolves')
    assert.deepEqual(flat(atClose[0]!.offsets, topic), { 0: 5n, 1: 7n })
    assert.equal(atClose[0]!.error, null)
    const reader = newClient(k, { ...opts, consumeTopics: [topic], consumerGroup: g2, disableAutoCommit: true })
    assert.deepEqual(flat(await reader.fetchCommittedOffsets({ [topic]: [0, 1] }), topic), { 0: 5n, 1: 7n }, 'the group committed what the callback was told')
  })
}
