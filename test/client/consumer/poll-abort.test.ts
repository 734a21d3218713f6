// The AbortSignal contract of a poll (Client.pollFetches / pollRecords / records() / fetches(), the
// doc comment of pollFetches and README's Consuming section say the same), against the real broker:
// - with records or errors buffered, a poll returns them at once, its signal aborted or not;
// - with nothing buffered it waits, and when its signal aborts (during the wait, while a fetch is
//   pending at the broker, or before the poll began) it resolves, never rejects, with no records and
//   one errors() entry: topic '', partition -1, an AbortError whose cause is the signal's reason;
// - the consumer goes on afterwards: the next poll gets what was produced since;
// - records() and fetches() end without throwing when their signal aborts.
// `kafka-wire consume` relies on it to exit 0 on SIGINT (test/cli/cli.test.ts sends a real one).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { AbortError } from '../../../src/client/errors.js'
import type { Fetches } from '../../../src/client/consumer/fetches.js'
import { ApiKey } from '../../../src/protocol/messages/index.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, waitFor } from '../helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker({})
}, { timeout: 300_000 })

after(closeAll)

/** assertAborted checks a poll's result is the abort's: no records and the one AbortError entry. */
function assertAborted(f: Fetches, reason: unknown): void {
  assert.equal(f.numRecords(), 0)
  const errs = f.errors()
  assert.equal(errs.length, 1, `one error entry, got ${errs.map((e) => e.error.message).join('; ')}`)
  assert.equal(errs[0]!.topic, '')
  assert.equal(errs[0]!.partition, -1)
  assert.ok(errs[0]!.error instanceof AbortError, `an AbortError, got ${errs[0]!.error.name}`)
  assert.equal(errs[0]!.error.cause, reason)
}

test('an abort during a poll, with a fetch pending at the broker, resolves the poll at once: no records, an AbortError caused by the reason at topic \'\' partition -1; the next poll gets later records', { timeout: 60_000 }, async () => {
  const topic = await createTopic(newClient(k))
  let fetchesInFlight = 0
  const c = newClient(k, {
    consumeTopics: [topic],
    fetchMaxWait: 20_000, // the broker holds an empty fetch this long: an abort must not wait for it
    hooks: [
      {
        onBrokerWrite(_m: unknown, key: number, _b: number, _w: number, _t: number, err: Error | null) {
          if (key === ApiKey.Fetch && err === null) fetchesInFlight++
        },
        onBrokerRead(_m: unknown, key: number) {
          if (key === ApiKey.Fetch) fetchesInFlight--
        },
      },
    ],
  })
  const ac = new AbortController()
  const reason = new Error('enough')
  const poll = c.pollFetches({ signal: ac.signal })
  await waitFor(() => fetchesInFlight > 0, 'a fetch written to the broker')
  await new Promise((r) => setTimeout(r, 200))
  assert.ok(fetchesInFlight > 0, 'the fetch is still pending at the broker')
  const t = performance.now()
  ac.abort(reason)
  const f = await poll
  const ms = performance.now() - t
  assert.ok(ms < 1_000, `the poll resolved ${ms.toFixed(0)} ms after the abort`)
  assertAborted(f, reason)

  // The consumer is unharmed: what is produced now comes to the next poll.
  await newClient(k).produce({ topic, value: 'after the abort' })
  const next = await c.pollFetches({ signal: AbortSignal.timeout(30_000) })
  assert.deepEqual(next.records().map((r) => r.value?.toString()), ['after the abort'])
  assert.deepEqual(next.errors(), [])
})

test('a signal aborted before the poll, with nothing buffered, resolves at once the same way (pollFetches and pollRecords)', { timeout: 60_000 }, async () => {
  const c = newClient(k, { consumeTopics: [await createTopic(newClient(k))] })
  const reason = new Error('already')
  for (const poll of [() => c.pollFetches({ signal: AbortSignal.abort(reason) }), () => c.pollRecords(5, { signal: AbortSignal.abort(reason) })]) {
    const t = performance.now()
    const f = await poll()
    assert.ok(performance.now() - t < 500, 'resolved at once')
    assertAborted(f, reason)
  }
  // With no reason given, the cause is the signal's default reason (a DOMException named AbortError).
  const signal = AbortSignal.abort()
  const f = await c.pollFetches({ signal })
  assertAborted(f, signal.reason)
  assert.equal((signal.reason as Error).name, 'AbortError')
})

test('a signal aborted before the poll, with records buffered, does not hide them: the poll returns them and no AbortError', { timeout: 60_000 }, async () => {
  const topic = await createTopic(newClient(k))
  await newClient(k).produceSync(['a', 'b', 'c'].map((value) => ({ topic, value })))
  const c = newClient(k, { consumeTopics: [topic] })
  // Start fetching, then wait until all three are buffered.
  const first = await c.pollRecords(1, { signal: AbortSignal.timeout(30_000) })
  assert.deepEqual(first.records().map((r) => r.value?.toString()), ['a'])
  await waitFor(() => c.bufferedFetchRecords >= 2, 'two records buffered')
  const aborted = AbortSignal.abort(new Error('late'))
  const one = await c.pollRecords(1, { signal: aborted })
  assert.deepEqual(one.records().map((r) => r.value?.toString()), ['b'])
  assert.deepEqual(one.errors(), [])
  const rest = await c.pollFetches({ signal: aborted })
  assert.deepEqual(rest.records().map((r) => r.value?.toString()), ['c'])
  assert.deepEqual(rest.errors(), [])
  // Now nothing is buffered: the abort shows.
  assertAborted(await c.pollFetches({ signal: aborted }), aborted.reason)
})

test('records() and fetches() end, without throwing, when their signal aborts', { timeout: 60_000 }, async () => {
  const topic = await createTopic(newClient(k))
  await newClient(k).produceSync(['a', 'b'].map((value) => ({ topic, value })))
  const c = newClient(k, { consumeTopics: [topic] })
  const ac = new AbortController()
  const seen: string[] = []
  for await (const r of c.records({ signal: ac.signal })) {
    seen.push(r.value!.toString())
    if (seen.length === 2) setTimeout(() => ac.abort(new Error('done')), 100) // the loop is then parked in a poll
  }
  assert.deepEqual(seen, ['a', 'b'])
  let polls = 0
  for await (const f of c.fetches({ signal: AbortSignal.timeout(300) })) polls += f.numRecords() + 1
  assert.equal(polls, 0, 'nothing yielded: the abort entry is not a fetch')
})
