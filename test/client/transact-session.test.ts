// GroupTransactSession against a real broker: a commit carries the produced records and the offsets
// after what was polled; a rebalance that takes a partition away during the transaction makes end()
// abort (resolving false), and the member then polls its remaining partitions again from their
// committed offsets, so no input is lost or processed twice.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Client, consumerOf } from '../../src/client/client.js'
import { GroupTransactSession } from '../../src/client/transact-session.js'
import { ApiKey } from '../../src/protocol/messages/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readAll, waitFor } from './helpers.js'

let k: KafkaCluster
let admin: Client
const sessions: GroupTransactSession[] = []

before(async () => {
  k = await broker()
  admin = newClient(k)
}, { timeout: 300_000 })

after(async () => {
  await Promise.all(sessions.map((s) => s.close().catch(() => {})))
  await closeAll()
})

const ownedCount = (c: Client) => [...(consumerOf(c).group?.owned.values() ?? [])].reduce((n, ps) => n + ps.size, 0)

test('end commits records and offsets together; a rebalance during the transaction makes it abort, and the member re-polls from the committed offsets', { timeout: 120_000 }, async () => {
  const input = await createTopic(admin, { partitions: 2 })
  const output = await createTopic(admin, { partitions: 1 })
  const group = `session-${randomUUID()}`
  await admin.produceSync(Array.from({ length: 20 }, (_, i) => ({ topic: input, key: `p${i % 2}-${i}`, value: String(i), partition: i % 2 })))
  const s = new GroupTransactSession({ seedBrokers: k.bootstrapServers, consumerGroup: group, consumeTopics: [input], transactionalId: `session-${randomUUID()}`, metadataMinAge: 100, retryBackoff: 100 })
  sessions.push(s)

  // A polls all 20 records and transforms them in a transaction.
  const polled: string[] = []
  await waitFor(async () => {
    const f = await s.pollFetches({ signal: AbortSignal.timeout(500) })
    f.eachRecord((r) => polled.push(String(r.key)))
    return polled.length >= 20
  }, 'the member to poll every input')
  assert.equal(polled.length, 20)
  s.begin()
  for (const key of polled) s.produce({ topic: output, key, value: 'first try' }, () => {})

  // B joins: the group takes one partition from A while A's transaction is open.
  const b = newClient(k, { consumerGroup: group, consumeTopics: [input], disableAutoCommit: true })
  let bPolling = true
  const bLoop = (async () => {
    while (bPolling) await b.pollFetches({ signal: AbortSignal.timeout(300) })
  })()
  await waitFor(() => ownedCount(b) === 1 && ownedCount(s.client) === 1, 'the group to give each member one partition', 60_000)

  assert.equal(await s.end('commit'), false, 'the transaction aborted: a partition was revoked during it')
  const none = await s.client.fetchCommittedOffsets({ [input]: [0, 1] })
  assert.deepEqual([0, 1].map((p) => none.get(input)?.get(p)?.offset ?? -1n), [-1n, -1n], 'no offsets were committed')

  // A polls its remaining partition again from its committed offset (the start), and commits.
  const [kept] = [...consumerOf(s.client).group!.owned.get(input)!]
  const again: string[] = []
  await waitFor(async () => {
    const f = await s.pollFetches({ signal: AbortSignal.timeout(500) })
    f.eachRecord((r) => again.push(String(r.key)))
    return again.length >= 10
  }, 'the member to poll its partition again')
  assert.deepEqual(again.sort(), polled.filter((key) => key.startsWith(`p${kept}-`)).sort(), 'the kept partition, from offset 0, each record once')
  s.begin()
  for (const key of again) s.produce({ topic: output, key, value: 'second try' }, () => {})
  assert.equal(await s.end('commit'), true)
  const committed = await s.client.fetchCommittedOffsets({ [input]: [kept!] })
  assert.equal(committed.get(input)?.get(kept!)?.offset, 10n, 'the offset after the last polled record, committed with the records')

  // What read_committed sees: the second try only. Everything was written; the first try was aborted.
  const stored = (await readAll(admin, output)).flat()
  assert.equal(stored.length, 30, 'both tries were written')
  const rc = newClient(k, { consumePartitions: { [output]: { 0: 'earliest' } }, isolationLevel: 'read_committed' })
  const got: string[] = []
  await waitFor(async () => {
    const f = await rc.pollFetches({ signal: AbortSignal.timeout(500) })
    f.eachRecord((r) => got.push(`${String(r.key)}=${String(r.value)}`))
    return (consumerOf(rc).cursor(output, 0)?.offset ?? -1n) >= BigInt(stored.length + 2)
  }, 'the read_committed reader to reach the end', 30_000)
  assert.deepEqual(got.sort(), again.map((key) => `${key}=second try`).sort())
  bPolling = false
  await bLoop
})

test('after an abort the member goes back to the offsets it knows were committed, without an OffsetFetch that would wait for the aborted transaction', { timeout: 60_000 }, async () => {
  const input = await createTopic(admin, { partitions: 1 })
  const output = await createTopic(admin, { partitions: 1 })
  await admin.produceSync(Array.from({ length: 10 }, (_, i) => ({ topic: input, key: `k${i}`, value: String(i), partition: 0 })))
  let offsetFetches = 0
  const s = new GroupTransactSession({
    seedBrokers: k.bootstrapServers,
    consumerGroup: `session-${randomUUID()}`,
    consumeTopics: [input],
    transactionalId: `session-${randomUUID()}`,
    metadataMinAge: 100,
    retryBackoff: 100,
    hooks: [{ onBrokerWrite: (_meta, key) => void (key === ApiKey.OffsetFetch && offsetFetches++) }],
  })
  sessions.push(s)
  const poll = async (max: number) => {
    const offsets: bigint[] = []
    await waitFor(async () => {
      const f = await s.pollRecords(max - offsets.length, { signal: AbortSignal.timeout(500) })
      f.eachRecord((r) => offsets.push(r.offset))
      return offsets.length >= max
    }, `the member to poll ${max} records`)
    return offsets
  }
  const transform = (offsets: bigint[]) => {
    s.begin()
    for (const o of offsets) s.produce({ topic: output, key: `k${o}`, value: 'out' }, () => {})
  }

  transform(await poll(4))
  assert.equal(await s.end('commit'), true)
  const second = await poll(6)
  assert.deepEqual(second, [4n, 5n, 6n, 7n, 8n, 9n])
  transform(second)
  const before = offsetFetches
  assert.equal(await s.end('abort'), false)
  assert.equal(offsetFetches, before, 'the abort sent no OffsetFetch: the member knows its committed offsets')
  assert.deepEqual(await poll(6), [4n, 5n, 6n, 7n, 8n, 9n], 'the aborted input is polled again, from the committed offset')
  transform([4n, 5n, 6n, 7n, 8n, 9n])
  assert.equal(await s.end('commit'), true)
  const committed = await s.client.fetchCommittedOffsets({ [input]: [0] })
  assert.equal(committed.get(input)?.get(0)?.offset, 10n)
})
