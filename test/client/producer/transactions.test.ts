// Transactions against a real broker, in both transaction versions: version 2 (KIP-890's second part,
// what a Kafka 4 cluster finalizes: partitions join through Produce v12+, every EndTxn bumps the
// epoch) and version 1 (AddPartitionsToTxn before a partition's first batch; a client capped below
// EndTxn v5 negotiates it). What is checked is what the broker stored and what consumers see:
// committed and aborted transactions read back by read_committed and read_uncommitted consumers of
// kafka-wire and of the Java client (Kafka's console consumer from the broker's jars); a second
// producer with the same transactional id fencing the first; a transaction outliving its timeout,
// aborted by the broker, reported, and recovered from; offsets in a transaction fenced by the group
// generation (KIP-447); the onTransactionEnd hook and the Meter's transaction counter.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { Client, consumerOf, producerOf } from '../../../src/client/client.js'
import type { ClientOptions, IsolationLevel } from '../../../src/client/options.js'
import type { Record } from '../../../src/protocol/record.js'
import { ApiKey } from '../../../src/protocol/messages/index.js'
import { ListOffsets } from '../../../src/protocol/messages/list-offsets.js'
import { ErrorCode } from '../../../src/protocol/error-codes.js'
import { KafkaProtocolError } from '../../../src/protocol/errors.js'
import {
  NotInTransactionError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionFatalError,
  TransactionStateError,
} from '../../../src/client/errors.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, listOffsets, newClient, readAll, waitFor } from '../helpers.js'

let k: KafkaCluster
let admin: Client

before(async () => {
  k = await broker()
  admin = newClient(k)
}, { timeout: 300_000 })

after(closeAll)

/** The two transaction versions: version 1 is what a client without EndTxn v5 speaks. */
const VERSIONS = [
  { name: 'transaction version 2', version: 2, opts: {} },
  { name: 'transaction version 1', version: 1, opts: { maxVersions: { [ApiKey.EndTxn]: 4 } } },
] as const

/** Observed is what a hook saw of a client's requests and transactions. */
interface Observed {
  writes: Map<number, number>
  ends: Array<{ id: string; committed: boolean; err: Error | null }>
}

function txnClient(opts: Partial<ClientOptions<Client>> = {}): { c: Client; seen: Observed } {
  const seen: Observed = { writes: new Map(), ends: [] }
  const c = newClient(k, {
    transactionalId: `txn-${randomUUID()}`,
    linger: 5,
    hooks: {
      onBrokerWrite: (_m, key) => void seen.writes.set(key, (seen.writes.get(key) ?? 0) + 1),
      onTransactionEnd: (id, committed, err) => void seen.ends.push({ id, committed, err }),
    },
    ...opts,
  })
  return { c, seen }
}

/** produceAll produces records in the open transaction and resolves with each one's error (null when written). */
function produceAll(c: Client, topic: string, keys: string[], partitions: number): Promise<Array<Error | null>> {
  return Promise.all(keys.map((key, i) => c.produce({ topic, key, value: `v-${key}`, partition: i % partitions }).then(() => null, (err: Error) => err)))
}

/**
 * readBack consumes every partition of a topic from the start with kafka-wire, until each partition's
 * position reaches the log end as it is now, and returns the keys seen.
 */
async function readBack(topic: string, partitions: number, isolationLevel: IsolationLevel): Promise<Record[]> {
  const ends = await listOffsets(admin, topic, partitions)
  const ps: { [p: number]: 'earliest' } = {}
  for (let p = 0; p < partitions; p++) ps[p] = 'earliest'
  const c = newClient(k, { consumePartitions: { [topic]: ps }, isolationLevel })
  const got: Record[] = []
  await waitFor(async () => {
    for (const r of await c.pollFetches({ signal: AbortSignal.timeout(500) })) got.push(r)
    return ends.every((end, p) => (consumerOf(c).cursor(topic, p)?.offset ?? -1n) >= end)
  }, `${isolationLevel} consumer to reach the end of ${topic}`, 60_000)
  await c.close()
  return got
}

/** javaRead reads a topic with Kafka's console consumer at an isolation level and returns the keys. */
async function javaRead(topic: string, isolation: IsolationLevel, expected: number): Promise<string[]> {
  const res = await k.runJavaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server', k.bootstrapServers.join(','), '--topic', topic, '--from-beginning', '--isolation-level', isolation,
    '--max-messages', String(expected), '--timeout-ms', '20000', '--formatter-property', 'print.key=true', '--formatter-property', 'print.value=false',
  ], { timeoutMs: 90_000 })
  assert.ok(res.code === 0 || /Processed a total of/.test(res.stderr), `the console consumer failed (exit ${res.code}):\n${res.stderr.slice(-2000)}`)
  return res.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '')
}

/** lastStableOffset is partition 0's last stable offset: ListOffsets(latest) at read_committed. */
async function lastStableOffset(topic: string): Promise<bigint> {
  const req = ListOffsets.newRequest()
  req.replicaId = -1
  req.isolationLevel = 1
  req.topics = [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }]
  const p = (await admin.request(ListOffsets, req)).topics[0]!.partitions[0]!
  if (p.errorCode !== 0) throw new KafkaProtocolError(p.errorCode, { topic, partition: 0 })
  return p.offset
}

const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
const sorted = (a: Iterable<string>) => [...a].sort()

for (const v of VERSIONS) {
  describe(v.name, () => {
    test('commit and abort: read_committed sees committed transactions only, read_uncommitted sees both; kafka-wire and Java agree', { timeout: 180_000 }, async () => {
      const topic = await createTopic(admin, { partitions: 3 })
      const { c, seen } = txnClient(v.opts)

      // Outside a transaction, producing is refused at once and changes nothing; so is ending.
      await assert.rejects(c.produce({ topic, value: 'outside' }), NotInTransactionError)
      await assert.rejects(c.endTransaction('commit'), (err: unknown) => err instanceof TransactionStateError && /no transaction is open/.test(err.message))

      c.beginTransaction()
      assert.throws(() => c.beginTransaction(), (err: unknown) => err instanceof TransactionStateError && /already open/.test(err.message))
      assert.deepEqual((await produceAll(c, topic, keys('c1', 60), 3)).filter((e) => e !== null), [])
      assert.equal(producerOf(c).txn!.transactionVersion, v.version, `the transaction negotiated version ${v.version}`)
      await c.endTransaction('commit')

      // An aborted transaction: its records were written (their promises resolved) and are then aborted.
      c.beginTransaction()
      assert.deepEqual((await produceAll(c, topic, keys('a1', 60), 3)).filter((e) => e !== null), [])
      await c.endTransaction('abort')

      // Records still buffered when the abort starts are never sent: they fail with TransactionAbortedError.
      c.beginTransaction()
      const unsent = produceAll(c, topic, keys('u1', 30), 3)
      await c.endTransaction('abort')
      const outcomes = await unsent
      assert.ok(outcomes.every((e) => e === null || e instanceof TransactionAbortedError), outcomes.map(String).join(', '))

      c.beginTransaction()
      assert.deepEqual((await produceAll(c, topic, keys('c2', 60), 3)).filter((e) => e !== null), [])
      await c.endTransaction('commit')

      const committed = keys('c1', 60).concat(keys('c2', 60))
      const written = committed.concat(keys('a1', 60))
      const rc = await readBack(topic, 3, 'read_committed')
      assert.deepEqual(sorted(rc.map((r) => String(r.key))), sorted(committed), 'read_committed: the committed transactions, each record once')
      const ru = (await readBack(topic, 3, 'read_uncommitted')).map((r) => String(r.key))
      assert.deepEqual(sorted(ru.filter((key) => !key.startsWith('u1-'))), sorted(written), 'read_uncommitted: committed and aborted records, each once')

      // What the broker stored: every batch transactional, one producer id, and the epochs each
      // version uses (version 2 bumps the epoch at every EndTxn; the third transaction's abort sends
      // none when none of its records went out).
      const stored = (await readAll(admin, topic)).flat()
      assert.equal(new Set(stored.map((r) => r.producerId)).size, 1)
      const epochOf = (prefix: string) => new Set(stored.filter((r) => String(r.key).startsWith(prefix)).map((r) => r.producerEpoch))
      const [e1, e2, e3] = [epochOf('c1-'), epochOf('a1-'), epochOf('c2-')]
      assert.ok(e1.size === 1 && e2.size === 1 && e3.size === 1)
      const [first, second, fourth] = [[...e1][0]!, [...e2][0]!, [...e3][0]!]
      const endTxns = seen.writes.get(ApiKey.EndTxn) ?? 0
      assert.ok(endTxns === 3 || endTxns === 4, `EndTxn requests: ${endTxns}`)
      if (v.version === 2) assert.deepEqual([second - first, fourth - first], [1, endTxns - 1], 'version 2: a new epoch per EndTxn')
      else assert.deepEqual([second, fourth], [first, first], 'version 1: one epoch throughout')

      // Version 1 added partitions with AddPartitionsToTxn; version 2 never sends it.
      const adds = seen.writes.get(ApiKey.AddPartitionsToTxn) ?? 0
      if (v.version === 1) assert.ok(adds >= 3 && adds <= 9, `AddPartitionsToTxn requests: ${adds}`)
      else assert.equal(adds, 0)
      assert.deepEqual(seen.ends.map((e) => [e.committed, e.err === null]), [[true, true], [false, true], [false, true], [true, true]], 'onTransactionEnd once per end')

      // The Java client reads the same.
      assert.deepEqual(sorted(await javaRead(topic, 'read_committed', committed.length)), sorted(committed))
      const javaAll = await javaRead(topic, 'read_uncommitted', written.length)
      assert.deepEqual(sorted(javaAll.filter((key) => !key.startsWith('u1-'))), sorted(written))
      await c.close()
    })

    test('a second producer with the same transactionalId fences the first: it fails with ProducerFencedError and refuses further work; the second commits', { timeout: 120_000 }, async () => {
      const topic = await createTopic(admin, { partitions: 2 })
      const id = `fenced-${randomUUID()}`
      const { c: a, seen } = txnClient({ ...v.opts, transactionalId: id })
      a.beginTransaction()
      assert.deepEqual((await produceAll(a, topic, keys('zombie', 10), 2)).filter((e) => e !== null), [])

      // B initializes the same id: the coordinator aborts A's transaction and bumps the epoch.
      const { c: b } = txnClient({ ...v.opts, transactionalId: id })
      b.beginTransaction()
      assert.deepEqual((await produceAll(b, topic, keys('live', 10), 2)).filter((e) => e !== null), [])

      // A's next records are refused by the partition leaders (the epoch is old); the transaction is
      // younger than transactionTimeout, so the broker cannot have aborted it: A is fenced, for good.
      // A record whose request was in flight then gets its own leader's answer; one not sent yet fails
      // with the fencing itself. None is of unknown fate: every request was answered.
      const late = await produceAll(a, topic, keys('late', 4), 2)
      const refused = (e: unknown) => e instanceof KafkaProtocolError && (e.errorCode === ErrorCode.INVALID_PRODUCER_EPOCH || e.errorCode === ErrorCode.PRODUCER_FENCED)
      assert.ok(late.some(refused) && late.every((e) => refused(e) || e instanceof ProducerFencedError), late.map(String).join(', '))
      const fenced = await a.endTransaction('commit').then(() => null, (err: Error) => err)
      assert.ok(fenced instanceof ProducerFencedError && fenced instanceof TransactionFatalError, String(fenced))
      assert.equal((fenced as ProducerFencedError).transactionalId, id)
      assert.equal(fenced.code, 'PRODUCER_FENCED')
      // From now on A refuses everything transactional with that same error, without asking the broker.
      const TXN_APIS = [ApiKey.Produce, ApiKey.InitProducerId, ApiKey.AddPartitionsToTxn, ApiKey.AddOffsetsToTxn, ApiKey.TxnOffsetCommit, ApiKey.EndTxn]
      const txnWrites = () => TXN_APIS.map((key) => seen.writes.get(key) ?? 0)
      const writes = txnWrites()
      assert.throws(() => a.beginTransaction(), (err: unknown) => err === fenced)
      await assert.rejects(a.produce({ topic, value: 'x' }), (err: unknown) => err === fenced)
      await assert.rejects(a.endTransaction('abort'), (err: unknown) => err === fenced)
      await assert.rejects(a.sendOffsetsToTransaction({ [topic]: { 0: { offset: 1n } } }, { groupId: 'g' }), (err: unknown) => err === fenced)
      assert.deepEqual(txnWrites(), writes, 'a fenced producer sends nothing more')
      // The failed records made A fatal before it asked to commit: no end was tried, the hook heard of none.
      assert.deepEqual(seen.ends, [])

      await b.endTransaction('commit')
      const rc = await readBack(topic, 2, 'read_committed')
      assert.deepEqual(sorted(rc.map((r) => String(r.key))), sorted(keys('live', 10)), "only B's transaction is committed")
      await Promise.all([a.close(), b.close()])
    })

    test('a transaction that outlives transactionTimeout is aborted by the broker; the producer reports it, aborts, and the next transaction commits', { timeout: 120_000 }, async () => {
      const topic = await createTopic(admin, { partitions: 1 })
      const { c, seen } = txnClient({ ...v.opts, transactionTimeout: 1_500 })
      c.beginTransaction()
      assert.deepEqual((await produceAll(c, topic, keys('expired', 5), 1)).filter((e) => e !== null), [])
      // The broker aborts it: its abort marker lets the last stable offset reach the log end.
      await waitFor(async () => {
        const [end] = await listOffsets(admin, topic, 1)
        return (await lastStableOffset(topic)) === end
      }, 'the broker to abort the expired transaction', 60_000)
      // The producer learns it from its next request: the late record fails, the commit is refused.
      const late = await produceAll(c, topic, ['too-late'], 1)
      assert.ok(late[0] instanceof KafkaProtocolError && late[0].errorCode === ErrorCode.INVALID_PRODUCER_EPOCH, String(late[0]))
      const commit = await c.endTransaction('commit').then(() => null, (err: Error) => err)
      assert.ok(commit instanceof TransactionAbortableError, String(commit))
      assert.match(commit.message, /transactionTimeout/)
      // Aborting recovers the producer (KIP-588, KIP-890): the next transaction commits.
      await c.endTransaction('abort')
      c.beginTransaction()
      assert.deepEqual((await produceAll(c, topic, keys('after', 5), 1)).filter((e) => e !== null), [])
      await c.endTransaction('commit')
      const rc = await readBack(topic, 1, 'read_committed')
      assert.deepEqual(sorted(rc.map((r) => String(r.key))), sorted(keys('after', 5)))
      // The refused commit ended nothing; the abort and the next commit did.
      assert.deepEqual(seen.ends.map((e) => [e.committed, e.err?.constructor.name ?? null]), [[false, null], [true, null]])
      // The recovery kept the producer id and bumped the epoch (KIP-588), rather than starting over.
      const stored = (await readAll(admin, topic)).flat()
      assert.equal(new Set(stored.map((r) => r.producerId)).size, 1)
      await c.close()
    })

    test('offsets in a transaction: committed with the records, refused for a stale generation (KIP-447), and a plain group id skips the check', { timeout: 120_000 }, async () => {
      const input = await createTopic(admin, { partitions: 2 })
      const output = await createTopic(admin, { partitions: 1 })
      const group = `txn-group-${randomUUID()}`
      await admin.produceSync(Array.from({ length: 20 }, (_, i) => ({ topic: input, key: `in-${i}`, value: `${i}`, partition: i % 2 })))
      const member = newClient(k, { consumerGroup: group, consumeTopics: [input], disableAutoCommit: true })
      await waitFor(async () => (await member.pollFetches({ signal: AbortSignal.timeout(500) })).numRecords() > 0 || consumerOf(member).group!.owned.size > 0, 'the member to join')
      const stale = member.groupMetadata()
      assert.equal(stale.groupId, group)
      // A second member joins: the group moves to a new generation and the first member's old one is stale.
      const other = newClient(k, { consumerGroup: group, consumeTopics: [input], disableAutoCommit: true })
      void other.pollFetches({ signal: AbortSignal.timeout(20_000) })
      await waitFor(() => member.groupMetadata().generation > stale.generation, 'a new generation', 60_000)

      const { c } = txnClient(v.opts)
      c.beginTransaction()
      await c.produce({ topic: output, value: 'zombie output' })
      const offsets = { [input]: { 0: { offset: 10n }, 1: { offset: 10n } } }
      const refused = await c.sendOffsetsToTransaction(offsets, stale).then(() => null, (err: Error) => err)
      assert.ok(refused instanceof TransactionAbortableError, String(refused))
      const cause = refused.cause as KafkaProtocolError
      assert.ok(cause instanceof KafkaProtocolError && (cause.errorCode === ErrorCode.ILLEGAL_GENERATION || cause.errorCode === ErrorCode.UNKNOWN_MEMBER_ID), String(cause))
      await assert.rejects(c.endTransaction('commit'), TransactionAbortableError)
      await c.endTransaction('abort')

      // With the member's current generation the offsets commit with the records.
      c.beginTransaction()
      await c.produce({ topic: output, value: 'live output' })
      await c.sendOffsetsToTransaction({ [input]: { 0: { offset: 7n, metadata: 'm' } } }, member.groupMetadata())
      await c.endTransaction('commit')
      const got = await member.fetchCommittedOffsets({ [input]: [0, 1] })
      assert.equal(got.get(input)?.get(0)?.offset, 7n)
      assert.equal(got.get(input)?.get(0)?.metadata, 'm')
      assert.equal(got.get(input)?.get(1)?.offset ?? -1n, -1n, 'the aborted transaction committed nothing')

      // An aborted transaction's offsets are not committed.
      c.beginTransaction()
      await c.sendOffsetsToTransaction({ [input]: { 0: { offset: 9n } } }, { groupId: group })
      await c.endTransaction('abort')
      assert.equal((await member.fetchCommittedOffsets({ [input]: [0] })).get(input)?.get(0)?.offset, 7n)

      // A plain group id (no member, generation -1) commits without the generation check.
      c.beginTransaction()
      await c.sendOffsetsToTransaction({ [input]: { 1: { offset: 3n } } }, { groupId: group })
      await c.endTransaction('commit')
      assert.equal((await member.fetchCommittedOffsets({ [input]: [1] })).get(input)?.get(1)?.offset, 3n)
      assert.deepEqual((await readBack(output, 1, 'read_committed')).map((r) => String(r.value)), ['live output'])
      await Promise.all([c.close(), member.close(), other.close()])
    })
  })
}

test('closing a client with an open transaction aborts it: read_committed consumers are not held back until the timeout', { timeout: 60_000 }, async () => {
  const topic = await createTopic(admin, { partitions: 1 })
  const { c, seen } = txnClient({ transactionTimeout: 60_000 })
  c.beginTransaction()
  await c.produce({ topic, value: 'never committed' })
  await c.close()
  assert.deepEqual(seen.ends.map((e) => [e.committed, e.err]), [[false, null]])
  // The coordinator writes the abort marker after it answers EndTxn; it lands well before the 60 s timeout.
  // Offset 0 is the record, offset 1 the marker: the last stable offset reaches 2 once the marker is written.
  await waitFor(async () => (await lastStableOffset(topic)) === 2n, 'the abort marker to release the last stable offset', 20_000)
  assert.deepEqual(await listOffsets(admin, topic, 1), [2n])
})

test('bad arguments fail fast with typed errors naming them; a client without transactionalId refuses transactions', async () => {
  const plain = newClient(k)
  assert.throws(() => plain.beginTransaction(), (err: unknown) => err instanceof TransactionStateError && /transactionalId/.test(err.message))
  await assert.rejects(plain.endTransaction('commit'), TransactionStateError)
  const { c } = txnClient()
  await assert.rejects(c.endTransaction('maybe' as never), (err: unknown) => (err as { option?: string }).option === 'end')
  c.beginTransaction()
  await assert.rejects(c.sendOffsetsToTransaction({ t: { 0: { offset: 1 as never } } }, { groupId: 'g' }), (err: unknown) => (err as { option?: string }).option === 'offsets')
  await assert.rejects(c.sendOffsetsToTransaction({}, { groupId: '' }), (err: unknown) => (err as { option?: string }).option === 'group')
  // Nothing was produced: ending sends no EndTxn (the coordinator would refuse an empty one).
  await c.endTransaction('commit')
  await c.close()
})
