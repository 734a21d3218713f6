// Hooks are user code running inside the client: one that throws must be reported and change
// nothing else, and one that calls back into the client — producing from a fetch hook, flushing from
// a poll start, producing from a produce hook — must not deadlock it. Both against a real broker.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Client, LogLevel, hookNames, type AllHooks, type HookName, type Logger, type ProduceRecord, type Record } from '../../src/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, waitFor } from '../client/helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

/** counting returns an object implementing every hook that counts its calls, then runs `then`. */
function counting(then: (name: HookName) => unknown = () => undefined): { hook: AllHooks<Client>; counts: Map<HookName, number> } {
  const counts = new Map<HookName, number>()
  const hook = {} as { [K in HookName]: (...args: unknown[]) => unknown }
  for (const name of hookNames) {
    hook[name] = () => {
      counts.set(name, (counts.get(name) ?? 0) + 1)
      return then(name)
    }
  }
  return { hook: hook as unknown as AllHooks<Client>, counts }
}

/** readValues consumes a topic's partition 0..n-1 from the start until `want` records arrived. */
async function readValues(topic: string, partitions: number, want: number): Promise<Record[]> {
  const ps: { [p: number]: 'earliest' } = {}
  for (let p = 0; p < partitions; p++) ps[p] = 'earliest'
  const c = newClient(k, { consumePartitions: { [topic]: ps } })
  const got: Record[] = []
  await waitFor(async () => {
    for (const r of await c.pollFetches({ signal: AbortSignal.timeout(1_000) })) got.push(r)
    return got.length >= want
  }, `${want} records of ${topic}`)
  await c.close()
  return got
}

test('a hook that throws (or rejects) in every hook is logged with its name; the next hook runs and no record is lost or stalled', { timeout: 120_000 }, async () => {
  const N = 2_000
  const logged: Array<{ hook: HookName; err: unknown }> = []
  const logger: Logger = {
    level: () => LogLevel.Error,
    log: (level, msg, ...kv) => {
      if (level !== LogLevel.Error || !msg.startsWith('hook failed')) return
      logged.push({ hook: kv[kv.indexOf('hook') + 1] as HookName, err: kv[kv.indexOf('err') + 1] })
    },
  }
  // Half the hooks throw, the other half return a promise that rejects (an async hook method).
  const asyncOnes = new Set(hookNames.filter((_, i) => i % 2 === 1))
  const thrower = counting((name) => {
    if (asyncOnes.has(name)) return Promise.reject(new Error(`async boom in ${name}`))
    throw new Error(`boom in ${name}`)
  })
  const witness = counting()
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 3 })
  const c = newClient(k, { hooks: [thrower.hook, witness.hook], logger, consumerGroup: `throwing-${randomUUID()}`, consumeTopics: [topic], producerBatchCompression: ['snappy'] })

  const results = await c.produceSync(Array.from({ length: N }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })))
  assert.deepEqual(results.filter((r) => r.error !== null).map((r) => r.error!.message), [], 'every record was produced')
  const keys = new Set<string>()
  let polled = 0
  await waitFor(async () => {
    for (const r of await c.pollFetches({ signal: AbortSignal.timeout(1_000) })) {
      keys.add(String(r.key))
      polled++
    }
    return polled >= N
  }, 'every record to be consumed', 60_000)
  assert.equal(polled, N, 'no record twice')
  assert.equal(keys.size, N)
  await c.close()
  // Rejections are reported when they settle.
  await new Promise((r) => setImmediate(r))

  // The hook after the failing one saw exactly the same calls.
  assert.deepEqual(witness.counts, thrower.counts)
  const called = [...thrower.counts.keys()]
  for (const name of ['onNewClient', 'onClientClosed', 'onBrokerConnect', 'onBrokerWrite', 'onBrokerE2E', 'onProduceRecordBuffered', 'onProduceRecordUnbuffered', 'onProduceBatchWritten', 'onFetchBatchRead', 'onFetchRecordBuffered', 'onFetchRecordUnbuffered', 'onPollStart'] as const) {
    assert.ok(called.includes(name), `${name} was called`)
  }
  // One error log per failed call, naming the hook, carrying what it threw.
  const total = [...thrower.counts.values()].reduce((a, b) => a + b, 0)
  assert.equal(logged.length, total)
  for (const name of called) {
    const mine = logged.filter((l) => l.hook === name)
    assert.equal(mine.length, thrower.counts.get(name), `${name}: one log per call`)
    assert.match(String((mine[0]!.err as Error).message), asyncOnes.has(name) ? /^async boom in / : /^boom in /)
  }
})

test('hooks may call back into the client: produce from onNewClient, a fetch hook and a produce hook, flush from onPollStart', { timeout: 120_000 }, async () => {
  const N = 500
  const admin = newClient(k)
  const [source, copies, receipts] = [await createTopic(admin, { partitions: 2 }), await createTopic(admin), await createTopic(admin)]
  const pending: Array<Promise<unknown>> = []
  let flushes = 0
  const c: Client = newClient(k, {
    consumePartitions: { [source]: { 0: 'earliest', 1: 'earliest' } },
    hooks: {
      // Before the client has started anything.
      onNewClient: (client) => void pending.push(client.produce({ topic: source, partition: 0, key: 'hello', value: 'from onNewClient' })),
      // On the fetch path, before the record can be polled: copy it.
      onFetchRecordBuffered: (r) => void pending.push(c.produce({ topic: copies, key: r.key, value: r.value })),
      // On the produce path, while a batch's records are being settled: acknowledge each copy.
      onProduceRecordUnbuffered: (r, err) => {
        if (r.topic === copies && err === null) pending.push(c.produce({ topic: receipts, value: `${String(r.key)}@${r.offset}` }))
      },
      // At the start of a poll: push out what the hooks produced.
      onPollStart: () => {
        flushes++
        pending.push(c.flush())
      },
      onFetchRecordUnbuffered: () => void c.bufferedProduceRecords,
    },
  })
  await admin.produceSync(Array.from({ length: N }, (_, i) => ({ topic: source, partition: i % 2, key: `k${i}`, value: `v${i}` })))
  let polled = 0
  await waitFor(async () => {
    polled += (await c.pollFetches({ signal: AbortSignal.timeout(1_000) })).numRecords()
    return polled >= N + 1
  }, 'the source records to be consumed')
  assert.ok(flushes > 0)
  // Everything the hooks started completes.
  await waitFor(() => pending.length >= 2 * (N + 1) + 1 + flushes, 'every copy and receipt to be produced')
  const settled = await Promise.allSettled(pending)
  assert.deepEqual(settled.filter((s) => s.status === 'rejected'), [])
  const copied = await readValues(copies, 1, N + 1)
  assert.deepEqual(new Set(copied.map((r) => String(r.key))), new Set(['hello', ...Array.from({ length: N }, (_, i) => `k${i}`)]))
  const acked = await readValues(receipts, 1, N + 1)
  assert.equal(new Set(acked.map((r) => String(r.value))).size, N + 1, 'one receipt per copy')
  await c.close()
})

test('hooks that only watch the producer leave its records untouched', { timeout: 60_000 }, async () => {
  // A control for the interceptor test: a hook that reads a record without changing it must not
  // change what is stored (the client hands hooks the caller's own object).
  const seen: ProduceRecord[] = []
  const c = newClient(k, { hooks: { onProduceRecordBuffered: (r) => void seen.push(r), onProduceRecordPartitioned: (r) => void seen.push(r) } })
  const topic = await createTopic(c)
  const r: ProduceRecord = { topic, key: 'same', value: Buffer.from([1, 2, 3]), headers: [{ key: 'h', value: 'v' }] }
  const res = await c.produce(r)
  assert.equal(res, r)
  assert.deepEqual(seen, [r, r], 'the hooks got the caller\'s record object')
  const [got] = await readValues(topic, 1, 1)
  assert.deepEqual([got!.key?.toString(), [...got!.value!], got!.headers.map((h) => [h.key, h.value?.toString()])], ['same', [1, 2, 3], [['h', 'v']]])
})
