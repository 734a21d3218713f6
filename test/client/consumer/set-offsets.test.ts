// setOffsets in a consumer group (issue 13), classic and KIP-848: it moves an assigned partition's
// position, the next polls start there (records buffered from before are dropped), and the new
// position counts as polled, so a commit right after it commits it and the group's next member starts
// there.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Record } from '../../../src/protocol/record.js'
import type { ClientOptions } from '../../../src/client/options.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName, waitFor } from '../helpers.js'
import { pollUntil, produceKeys } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

const N = 50

/** byPartition groups records' offsets by partition, in the order they came. */
function byPartition(records: Record[]): Map<number, bigint[]> {
  const m = new Map<number, bigint[]>()
  for (const r of records) {
    let a = m.get(r.partition)
    if (a === undefined) m.set(r.partition, (a = []))
    a.push(r.offset)
  }
  return m
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => BigInt(from + i))

const VARIANTS: Array<[string, Partial<ClientOptions>]> = [
  ['classic', { groupProtocol: 'classic', heartbeatInterval: 500 }],
  ['KIP-848', { groupProtocol: 'consumer' }],
]

for (const [name, opts] of VARIANTS) {
  test(`${name} group: setOffsets moves assigned partitions, the next poll starts there, and a commit right after commits the new position`, { timeout: 120_000 }, async () => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 2 })
    await produceKeys(admin, topic, N, { prefix: 'a', partition: 0 })
    await produceKeys(admin, topic, N, { prefix: 'b', partition: 1 })
    const group = topicName('seek')
    const member = () => newClient(k, { consumeTopics: [topic], consumerGroup: group, disableAutoCommit: true, ...opts })

    const m = member()
    const first = await pollUntil(m, (all) => all.length >= 2 * N, { timeoutMs: 60_000, what: 'the first pass' })
    assert.equal(first.length, 2 * N)

    // Backwards on partition 0, to near the end on partition 1.
    m.setOffsets({ [topic]: { 0: { offset: 10n }, 1: { offset: 45n } } })
    const again = byPartition(await pollUntil(m, (all) => all.length >= N - 10 + (N - 45), { timeoutMs: 30_000, what: 'records after setOffsets' }))
    assert.deepEqual(again.get(0), range(10, N), 'partition 0 restarts at 10')
    assert.deepEqual(again.get(1), range(45, N), 'partition 1 restarts at 45')

    // A partition this member does not consume, and a topic it does not know, are left alone.
    m.setOffsets({ [topic]: { 7: { offset: 1n } }, [topicName('other')]: { 0: { offset: 1n } } })

    // The new position counts as polled: commit it right away, close, and the next member starts there.
    m.setOffsets({ [topic]: { 0: { offset: 20n }, 1: { offset: 30n } } })
    await m.commitUncommittedOffsets()
    await m.close()
    const next = member()
    const resumed = byPartition(await pollUntil(next, (all) => all.length >= N - 20 + (N - 30), { timeoutMs: 60_000, what: 'the next member\'s records' }))
    assert.deepEqual(resumed.get(0), range(20, N), 'the next member starts partition 0 at the committed 20')
    assert.deepEqual(resumed.get(1), range(30, N), 'the next member starts partition 1 at the committed 30')
    await next.close()
  })
}

test('setOffsets refuses malformed offsets with InvalidOperationError', () => {
  const c = newClient(k, { consumeTopics: ['t'], consumerGroup: topicName('g') })
  assert.throws(() => c.setOffsets({ t: { 0: { offset: 5 as unknown as bigint } } }), /offset must be a bigint >= 0/)
  assert.throws(() => c.setOffsets({ t: { 0: { offset: -1n } } }), /offset must be a bigint >= 0/)
  assert.throws(() => c.setOffsets({ t: { ['x' as unknown as number]: { offset: 1n } } }), /not a partition number/)
})

test('a partition moved while a long poll for it is in flight (setOffsets, addConsumePartitions again) is fetched from its new position at once, not after fetchMaxWait', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 1 })
  await produceKeys(admin, topic, 20, { prefix: 'a', partition: 0 })
  // A 60 s long poll: a position change that waited for it would miss the 20 s polls below.
  let fetches = 0
  const c = newClient(k, { consumePartitions: { [topic]: { 0: { offset: 0n } } }, fetchMaxWait: 60_000, hooks: [{ onBrokerWrite: (_m: unknown, key: number) => key === 1 && fetches++ }] })
  const first = await pollUntil(c, (all) => all.length >= 20, { what: 'the first pass' })
  assert.deepEqual(first.map((r) => r.offset), range(0, 20))
  // Once every record is in, the consumer's next fetch (from offset 20) waits at the broker.
  const inFlight = async (what: string) => {
    const seen = fetches
    await waitFor(() => fetches > seen, what)
  }
  await inFlight('the long poll after the first pass')
  c.setOffsets({ [topic]: { 0: { offset: 5n } } })
  const again = await pollUntil(c, (all) => all.length >= 15, { timeoutMs: 20_000, what: 'records after setOffsets' })
  assert.deepEqual(again.map((r) => r.offset), range(5, 20))
  await inFlight('the long poll after setOffsets')
  c.addConsumePartitions({ [topic]: { 0: { offset: 12n } } })
  const third = await pollUntil(c, (all) => all.length >= 8, { timeoutMs: 20_000, what: 'records after addConsumePartitions' })
  assert.deepEqual(third.map((r) => r.offset), range(12, 20))
})
