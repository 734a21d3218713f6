// Each hook at its call point, one semantic per test (reference/franz-go.md §1.3): registration
// through the client, the producer's interceptor and mirror hooks, asynchronous batch reports, acks=0,
// records discarded by reassignment and close, poll starts, group management errors, and — against a
// scripted fake peer — throttles by response version and requests lost with their connection.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  BrokerConnection,
  Client,
  KafkaProtocolError,
  KafkaWireError,
  RecordTooLargeError,
  type BrokerE2E,
  type Hook,
  type ProduceRecord,
  type Record,
} from '../../src/index.js'
import { Metadata, type MetadataResponse } from '../../src/protocol/messages/metadata.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { FakePeer, type Received } from '../helpers/fake-peer.js'
import { broker, closeAll, createTopic, newClient, waitFor } from '../client/helpers.js'
import { producerOf } from '../../src/client/client.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

/** A seed nobody listens on: the tests that use it never connect. */
const NOWHERE = ['127.0.0.1:1']

test('registration: nested arrays flattened in order, every hook of an object called, an object implementing none refused', async () => {
  const calls: string[] = []
  const mk = (name: string): Hook<Client> => ({ onNewClient: () => calls.push(`${name}.new`), onClientClosed: () => calls.push(`${name}.closed`) })
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(mk)
  const client = new Client({ seedBrokers: NOWHERE, hooks: [[a, [b, [c]]], d] })
  assert.deepEqual(calls, ['a.new', 'b.new', 'c.new', 'd.new'], 'registration order, depth first')
  await client.close()
  assert.deepEqual(calls.slice(4), ['a.closed', 'b.closed', 'c.closed', 'd.closed'])

  // One object with several hooks gets each of them, never only the first that matches.
  const seen: string[] = []
  const many: Hook<Client> = {
    onNewClient: () => seen.push('new'),
    onProduceRecordBuffered: () => seen.push('buffered'),
    onProduceRecordUnbuffered: (_r, err) => seen.push(`unbuffered ${(err as KafkaWireError).code}`),
    onPollStart: () => seen.push('poll'),
    onClientClosed: () => seen.push('closed'),
  }
  const e = new Client({ seedBrokers: NOWHERE, hooks: many })
  producerOf(e) // the producer exists (nothing connects until a record is sent)
  await e.close()
  // A closed client still runs the producer hooks (once each) and the poll start.
  await assert.rejects(e.produce({ topic: 't', value: 'v' }), (err: KafkaWireError) => err.code === 'CLIENT_CLOSED')
  let settled = 0
  e.produce({ topic: 't', value: 'v' }, () => settled++)
  assert.equal(settled, 1, 'the callback ran once')
  const f = await e.pollFetches()
  assert.equal(f.errors()[0]!.error.message, 'the client is closed')
  assert.deepEqual(seen, ['new', 'closed', 'buffered', 'unbuffered CLIENT_CLOSED', 'buffered', 'unbuffered CLIENT_CLOSED', 'poll'])

  // Rejected at construction, naming the position and the hooks that exist.
  const refuse = (hooks: unknown, where: RegExp) =>
    assert.throws(
      () => new Client({ seedBrokers: NOWHERE, hooks: hooks as Hook }),
      (err: KafkaWireError) => err.code === 'INVALID_OPTION' && where.test(err.message) && /onBrokerConnect/.test(err.message),
    )
  refuse({}, /hooks: implements no hook/)
  refuse([a, [{ onNewClinet() {} }]], /hooks\[1\]\[0\]: implements no hook/)
  refuse([a, null], /hooks\[1\]: is null/)
  assert.throws(() => new Client({ seedBrokers: NOWHERE, hooks: { onNewClient: 'yes' } as unknown as Hook }), /hooks\.onNewClient: is string, not a function/)
})

test('onProduceRecordBuffered runs on the caller\'s stack before validation and may change the record; onProduceRecordUnbuffered mirrors the outcome', { timeout: 60_000 }, async () => {
  let producing = false
  const buffered: Array<{ record: ProduceRecord; value: unknown; topic: string; onCallerStack: boolean }> = []
  const unbuffered: Array<{ record: ProduceRecord; err: Error | null }> = []
  const hooks: Hook<Client> = {
    onProduceRecordBuffered(r) {
      buffered.push({ record: r, value: r.value, topic: r.topic, onCallerStack: producing })
      // An interceptor: records may arrive without a topic and have it filled in here.
      const route = r.headers?.find((h) => h.key === 'route-to')
      if (route !== undefined) r.topic = String(route.value)
      if (typeof r.value === 'string') {
        r.value = r.value.toUpperCase()
        r.headers = [...(r.headers ?? []), { key: 'intercepted', value: 'yes' }]
      }
    },
    onProduceRecordUnbuffered(r, err) {
      unbuffered.push({ record: r, err })
    },
  }
  const c = newClient(k, { hooks, producerBatchMaxBytes: 16_384 })
  const topic = await createTopic(c)

  producing = true
  const routed: ProduceRecord = { topic: '', value: 'make me loud', headers: [{ key: 'route-to', value: topic }] }
  const p = c.produce(routed)
  producing = false
  assert.equal(buffered.length, 1, 'the hook ran before produce returned')
  assert.equal(buffered[0]!.onCallerStack, true)
  assert.equal(buffered[0]!.topic, '', 'the hook saw the record before validation')
  const res = await p
  assert.equal(res.topic, topic)
  assert.equal(unbuffered.length, 1)
  assert.equal(unbuffered[0]!.err, null)

  // What the broker stored is what the interceptor made of the record.
  const reader = newClient(k, { consumePartitions: { [topic]: { 0: 'earliest' } } })
  const got: Record[] = []
  await waitFor(async () => {
    for (const r of await reader.pollFetches({ signal: AbortSignal.timeout(1_000) })) got.push(r)
    return got.length > 0
  }, 'the record to be consumed')
  assert.equal(got[0]!.value!.toString(), 'MAKE ME LOUD')
  assert.deepEqual(got[0]!.headers.map((h) => [h.key, h.value?.toString()]), [['route-to', topic], ['intercepted', 'yes']])

  // A record that fails at once is buffered (before validation), then unbuffered with the very
  // error its promise rejects with, before the promise settles.
  const bad = { topic, value: 42 } as unknown as ProduceRecord
  const rejected = await c.produce(bad).then(
    () => null,
    (err: Error) => ({ err, unbufferedBefore: unbuffered.some((u) => u.record === bad) }),
  )
  assert.ok(rejected !== null)
  assert.equal(buffered.at(-1)!.record, bad)
  assert.equal(buffered.at(-1)!.value, 42, 'the hook saw the invalid value')
  assert.equal(rejected.unbufferedBefore, true)
  assert.equal(unbuffered.filter((u) => u.record === bad).length, 1)
  assert.equal(unbuffered.find((u) => u.record === bad)!.err, rejected.err, 'the same error object')

  // The callback form: unbuffered runs just before the callback, with the same error.
  const big: ProduceRecord = { topic, value: Buffer.alloc(20_000) }
  const cbErr = await new Promise<{ err: Error | null; unbufferedBefore: boolean }>((resolve) =>
    c.produce(big, (_r, err) => resolve({ err, unbufferedBefore: unbuffered.some((u) => u.record === big) })),
  )
  assert.ok(cbErr.err instanceof RecordTooLargeError)
  assert.equal(cbErr.unbufferedBefore, true)
  assert.equal(unbuffered.find((u) => u.record === big)!.err, cbErr.err)
  assert.equal(buffered.filter((b) => b.record === big).length, 1)
})

test('acks=0: batches are reported written, apart from the callbacks; E2E carries the write only', { timeout: 60_000 }, async () => {
  const N = 300
  const written: Array<{ partition: number; numRecords: number }> = []
  const e2e: BrokerE2E[] = []
  const produceWrites: number[] = []
  const produceReads: number[] = []
  const hooks: Hook<Client> = {
    onProduceBatchWritten: (_m, _t, partition, m) => written.push({ partition, numRecords: m.numRecords }),
    onBrokerE2E: (_m, key, x) => key === 0 && e2e.push(x),
    onBrokerWrite: (_m, key, n) => key === 0 && produceWrites.push(n),
    onBrokerRead: (_m, key, n) => key === 0 && produceReads.push(n),
  }
  const c = newClient(k, { hooks, requiredAcks: 0, disableIdempotentWrite: true, linger: 20 })
  const topic = await createTopic(c, { partitions: 3 })
  const seenByCallbacks: number[] = []
  let microtaskSaw = -1
  await new Promise<void>((resolve) => {
    let left = N
    for (let i = 0; i < N; i++) {
      c.produce({ topic, key: `k${i}`, value: `v${i}` }, (_r, err) => {
        assert.equal(err, null)
        seenByCallbacks.push(written.length)
        if (--left === 0) {
          queueMicrotask(() => {
            microtaskSaw = written.length
            resolve()
          })
        }
      })
    }
  })
  // No batch report ran inside the produce path: not before the callbacks, not in their microtasks.
  assert.ok(seenByCallbacks.every((n) => n === 0), 'callbacks ran before any onProduceBatchWritten')
  assert.equal(microtaskSaw, 0)
  await waitFor(() => written.reduce((a, w) => a + w.numRecords, 0) === N, 'acks=0 batches to be reported written')
  assert.ok(e2e.length > 0)
  for (const x of e2e) {
    assert.ok(x.bytesWritten > 0)
    assert.deepEqual([x.bytesRead, x.readWait, x.timeToRead, x.readErr, x.err()], [0, 0, 0, null, null], 'no read fields for a request without a response')
  }
  assert.equal(produceReads.length, 0, 'no response read for acks=0')
  assert.equal(produceWrites.reduce((a, b) => a + b, 0), e2e.reduce((a, x) => a + x.bytesWritten, 0))
})

test('onFetchRecordUnbuffered(polled = false) runs asynchronously for buffered records dropped by reassignment and by close', { timeout: 60_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 2 })
  await admin.produceSync(Array.from({ length: 200 }, (_, i) => ({ topic, partition: i % 2, value: `v${i}` })))

  const run = async (drop: (c: Client) => void | Promise<void>, what: string) => {
    const buffered = new Set<Record>()
    const unbuffered = new Map<Record, boolean[]>()
    const c = newClient(k, {
      consumePartitions: { [topic]: { 0: 'earliest', 1: 'earliest' } },
      hooks: {
        onFetchRecordBuffered: (r) => void buffered.add(r),
        onFetchRecordUnbuffered: (r, polled) => void unbuffered.set(r, [...(unbuffered.get(r) ?? []), polled]),
      },
    })
    // Never polled: what was fetched stays buffered until it is dropped.
    await waitFor(() => buffered.size > 0, `${what}: records to be buffered`)
    const n = buffered.size
    const dropping = drop(c)
    const duringDrop = unbuffered.size
    await dropping
    await waitFor(() => unbuffered.size === n, `${what}: every buffered record to be unbuffered`)
    for (const r of buffered) assert.deepEqual(unbuffered.get(r), [false], `${what}: ${r.partition}@${r.offset} unbuffered once, not polled`)
    return { c, duringDrop }
  }

  const { c, duringDrop } = await run((c) => c.removeConsumePartitions({ [topic]: [0, 1] }), 'reassignment')
  // The unbuffered calls did not run inside removeConsumePartitions: franz-go makes them from a
  // goroutine of their own.
  assert.equal(duringDrop, 0)
  const f = await c.pollFetches({ signal: AbortSignal.timeout(300) })
  assert.equal(f.numRecords(), 0, 'dropped records are not polled later')
  await run((c) => c.close(), 'close')
})

test('onPollStart: first in every poll, with the caller\'s signal, before that poll\'s unbuffered calls', { timeout: 60_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin)
  await admin.produceSync(Array.from({ length: 20 }, (_, i) => ({ topic, partition: 0, value: `v${i}` })))
  const events: Array<[string, unknown]> = []
  const c = newClient(k, {
    consumePartitions: { [topic]: { 0: 'earliest' } },
    hooks: {
      onPollStart: (signal) => events.push(['start', signal]),
      onFetchRecordUnbuffered: (r, polled) => events.push([polled ? 'polled' : 'dropped', r.offset]),
    },
  })
  await waitFor(() => c.bufferedFetchRecords === 20, 'the records to be buffered')
  const poll = async (signal: AbortSignal | undefined, max: number) => {
    events.length = 0
    const f = await c.pollRecords(max, signal === undefined ? {} : { signal })
    assert.deepEqual(events[0], ['start', signal], 'the poll started first, with its signal')
    assert.deepEqual(events.slice(1), f.records().map((r) => ['polled', r.offset]), 'then the records it returned, before it returned')
    return f.numRecords()
  }
  assert.equal(await poll(AbortSignal.timeout(5_000), 5), 5)
  // An aborted signal still starts the poll (and returns what is buffered, as franz-go does).
  const aborted = AbortSignal.abort(new Error('not now'))
  await poll(aborted, 5)
  assert.ok((await poll(undefined, 0)) > 0)
})

test('onGroupManageError: a JoinGroup the broker refuses reports the error each time the group backs off', { timeout: 60_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin)
  const errors: Error[] = []
  const lost: number[] = []
  // The broker's group.min.session.timeout.ms is 6 s: a 1 s session is refused with INVALID_SESSION_TIMEOUT.
  newClient(k, {
    consumerGroup: `bad-session-${Date.now()}`,
    consumeTopics: [topic],
    sessionTimeout: 1_000,
    heartbeatInterval: 300,
    onPartitionsLost: async () => void lost.push(errors.length),
    hooks: { onGroupManageError: (err) => void errors.push(err) },
  })
  await waitFor(() => errors.length >= 2, 'two group management errors')
  for (const err of errors) {
    assert.ok(err instanceof KafkaProtocolError, String(err))
    assert.equal(err.errorCode, 26, err.message)
  }
  assert.deepEqual(lost, [], 'a member that never joined has no partitions to lose')
})

// ---------------------------------------------------------------------------------------------------
// A scripted fake peer (test/helpers/fake-peer.ts): it answers ApiVersions with every version
// kafka-wire knows and hands every other request to the test.

const metadataResponse = (throttleTimeMs: number): MetadataResponse => ({ ...Metadata.newResponse(), throttleTimeMs })

test('fake peer: onBrokerThrottle says whether the throttle comes after the response (KIP-219, by version); only then is the next write held, and writeWait shows it', { timeout: 30_000 }, async () => {
  const THROTTLE = 300
  const received: Received[] = []
  const peer = await FakePeer.start((req, p) => {
    received.push(req)
    p.respond(req, metadataResponse(received.length % 2 === 1 ? THROTTLE : 0))
  })
  try {
    for (const [maxVersion, afterResponse] of [[5, false], [Metadata.maxVersion, true]] as const) {
      received.length = 0
      const throttles: Array<[number, boolean]> = []
      const writes: Array<{ writeWait: number }> = []
      const conn = await BrokerConnection.connect({
        host: '127.0.0.1',
        port: peer.port,
        maxVersions: new Map([[Metadata.key, maxVersion]]),
        observer: { onThrottle: (ms, after) => throttles.push([ms, after]), onWrite: (key, _n, writeWait) => key === Metadata.key && writes.push({ writeWait }) },
      })
      try {
        await conn.request(Metadata, Metadata.newRequest())
        const answered = performance.now()
        assert.deepEqual(throttles, [[THROTTLE, afterResponse]], `Metadata v${received[0]!.version}`)
        await conn.request(Metadata, Metadata.newRequest())
        const gap = received[1]!.at - answered
        if (afterResponse) {
          // The client waited out the throttle before writing, and the write's writeWait includes it.
          assert.ok(gap >= THROTTLE - 20, `v${received[1]!.version}: the next request came ${gap.toFixed(0)} ms after the throttled answer`)
          assert.ok(writes[1]!.writeWait >= THROTTLE - 20, `writeWait ${writes[1]!.writeWait.toFixed(0)} ms`)
        } else {
          // The broker already delayed its answer: the client holds nothing back.
          assert.ok(gap < THROTTLE / 2, `v${received[1]!.version}: the next request was held ${gap.toFixed(0)} ms`)
          assert.ok(writes[1]!.writeWait < THROTTLE / 2)
        }
      } finally {
        conn.close()
      }
    }
  } finally {
    peer.close()
  }
})

test('fake peer: a request whose connection dies unanswered gets onBrokerRead and onBrokerE2E with the error', { timeout: 30_000 }, async () => {
  const peer = await FakePeer.start((req) => {
    // Never answer: hang up once the request has arrived.
    setTimeout(() => req.socket.destroy(), 20)
  })
  const reads: Array<{ key: number; bytes: number; err: Error | null }> = []
  const e2es: Array<{ key: number; e2e: { bytesWritten: number; bytesRead: number; readErr: Error | null; writeErr: Error | null } }> = []
  const writes: number[] = []
  try {
    const conn = await BrokerConnection.connect({
      host: '127.0.0.1',
      port: peer.port,
      observer: {
        onWrite: (key, n) => key === Metadata.key && writes.push(n),
        onRead: (key, bytes, _w, _t, err) => key === Metadata.key && reads.push({ key, bytes, err }),
        onE2E: (key, e2e) => key === Metadata.key && e2es.push({ key, e2e }),
      },
    })
    const err = await conn.request(Metadata, Metadata.newRequest()).then(
      () => null,
      (e: Error) => e,
    )
    assert.ok(err !== null, 'the request failed with its connection')
    assert.equal(reads.length, 1)
    assert.equal(reads[0]!.bytes, 0)
    assert.equal(reads[0]!.err, err)
    assert.equal(e2es.length, 1)
    assert.equal(e2es[0]!.e2e.readErr, err)
    assert.equal(e2es[0]!.e2e.writeErr, null)
    assert.equal(e2es[0]!.e2e.bytesRead, 0)
    assert.equal(e2es[0]!.e2e.bytesWritten, writes[0])
  } finally {
    peer.close()
  }
})
