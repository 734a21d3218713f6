// The fault suite of issue 13, against the real broker: every record's fate is told truly.
//
// - close() at many points of a 200,000-record produce, each in a child process of its own (two at a
//   time): the records reported written are exactly the ones the topic holds, those reported never sent
//   (ClientClosedError) are not there, those reported unknown (RecordFateUnknownError) may be either,
//   nothing is written twice, every callback runs once, and the process exits by itself.
// - an unreachable seed (a refused port, and a port that accepts and never answers): the record fails
//   within recordDeliveryTimeout with BrokersUnreachableError naming the broker and the last connection
//   error, each failed connection is logged, and the process (ES module and CommonJS) neither exits
//   before the record settled nor stays after.
// - authentication: no SASL against a SASL listener, a wrong password (producer and consumer), a
//   mechanism the broker lacks: the typed error within 10 s, and no reconnect storm.
// - an invalid topic name: InvalidTopicError in well under a second, nothing sent.
// - a consumer of a topic that does not exist: UNKNOWN_TOPIC_OR_PARTITION in errors() after a bounded
//   wait, then the records once the topic is created.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'

import { InvalidOptionError, InvalidTopicError, SaslAuthenticationError, UnsupportedSaslMechanismError } from '../../src/client/errors.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readAll, topicName } from './helpers.js'

let k: KafkaCluster
const tmp = mkdtempSync(join(tmpdir(), 'kafka-wire-faults-'))

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(async () => {
  await closeAll()
  rmSync(tmp, { recursive: true, force: true })
})

interface ChildResult {
  /** exitedAt is Date.now() when the process exited. */
  exitedAt: number
  code: number | null
  signal: NodeJS.Signals | null
  out: string
  err: string
  ms: number
}

/** child runs a fixture under tsx and resolves when it exits (killed after `killAfter` ms: a hang is a failure). */
function child(file: string, args: string[], killAfter = 120_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args], {
      env: { ...process.env, KAFKA_BOOTSTRAP: k.bootstrapServers.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    p.stdout.on('data', (b: Buffer) => (out += b.toString()))
    p.stderr.on('data', (b: Buffer) => (err += b.toString()))
    const killer = setTimeout(() => p.kill('SIGKILL'), killAfter)
    p.on('error', reject)
    p.on('exit', (code, signal) => {
      clearTimeout(killer)
      resolve({ exitedAt: Date.now(), code, signal, out, err, ms: performance.now() - start })
    })
  })
}

const lastJson = (out: string): any => JSON.parse(out.trim().split('\n').at(-1)!)

// ---------------------------------------------------------------- close points

const N = 200_000

/**
 * CLOSE_POINTS are [acknowledgements before close, close timeout]: at the start, in the middle and at
 * the end of the stream; with no time at all (whatever is not answered fails), a little time (some of
 * it gets through), and no timeout (everything is delivered).
 */
const CLOSE_POINTS: Array<[number, number | 'none']> = [
  [0, 0],
  [1, 0],
  [5_000, 2],
  [20_000, 0],
  [100_000, 0],
  [100_000, 30],
  [120_000, 100],
  [150_000, 5],
  [199_000, 0],
  [60_000, 'none'],
]

test(`close() at ${CLOSE_POINTS.length} points of a ${N.toLocaleString('en-US')}-record produce: the records reported written are exactly the ones on the broker`, { timeout: 600_000 }, async (t) => {
  const admin = newClient(k)
  const runs: Array<{ point: [number, number | 'none']; topic: string; file: string; res?: ChildResult }> = []
  for (const point of CLOSE_POINTS) runs.push({ point, topic: await createTopic(admin, { partitions: 3 }), file: join(tmp, `fates-${runs.length}`) })
  // Two producer processes at a time: the machine has two cores.
  let next = 0
  await Promise.all(
    [0, 1].map(async () => {
      while (next < runs.length) {
        const r = runs[next++]!
        r.res = await child('../fixtures/producer/close-point.ts', [r.topic, String(N), String(r.point[0]), String(r.point[1]), r.file])
      }
    }),
  )
  let mismatches = 0
  const table: string[] = []
  for (const r of runs) {
    const res = r.res!
    const label = `close at ${r.point[0]} acks, timeout ${r.point[1]}`
    assert.equal(res.code, 0, `${label}: the producer process exited with ${res.code ?? res.signal}\n${res.err.slice(-3000)}`)
    const s = lastJson(res.out)
    assert.equal(s.unsettled, 0, `${label}: ${s.unsettled} records never settled`)
    assert.equal(s.twice, 0, `${label}: ${s.twice} records settled twice`)
    assert.equal(s.settled, N, `${label}: every callback ran once`)
    assert.equal(s.other, 0, `${label}: unexpected errors: ${s.others.join('; ')}`)
    const fates = readFileSync(r.file)
    const stored = (await readAll(admin, r.topic)).flat()
    const seen = new Uint8Array(N)
    let doubled = 0
    for (const rec of stored) {
      const i = rec.key!.readUInt32BE(0)
      if (seen[i]++ > 0) doubled++
    }
    let writtenMissing = 0
    let closedPresent = 0
    let unknownPresent = 0
    for (let i = 0; i < N; i++) {
      if (fates[i] === 1 && seen[i] === 0) writtenMissing++
      if (fates[i] === 2 && seen[i] > 0) closedPresent++
      if (fates[i] === 3 && seen[i] > 0) unknownPresent++
    }
    mismatches += writtenMissing + closedPresent + doubled
    const line = `${label}: ${s.written} written, ${s.closed} never sent, ${s.unknown} unknown (${unknownPresent} of them on the broker); ${stored.length} on the broker; close took ${s.closeMs} ms; mismatches ${writtenMissing + closedPresent + doubled}`
    table.push(line)
    t.diagnostic(line)
    assert.equal(writtenMissing, 0, `${label}: ${writtenMissing} records reported written are not on the broker`)
    assert.equal(closedPresent, 0, `${label}: ${closedPresent} records reported never sent are on the broker`)
    assert.equal(doubled, 0, `${label}: ${doubled} records are on the broker twice`)
    assert.equal(stored.length, s.written + unknownPresent, `${label}: the broker holds the written records and some of the unknown ones, nothing else`)
    if (r.point[1] === 'none') assert.equal(s.written, N, `${label}: without a timeout close delivers everything`)
    if (r.point[0] >= 1) assert.ok(s.written >= r.point[0], `${label}: at least the records acknowledged before close are written`)
  }
  t.diagnostic(`${runs.length} close points, ${mismatches} mismatches`)
  assert.equal(mismatches, 0)
  // The points did exercise every fate: some records never sent, some unknown, most written.
  const all = runs.map((r) => lastJson(r.res!.out))
  assert.ok(all.some((s) => s.closed > 0), `some close point failed unsent records: ${table.join('\n')}`)
})

// ---------------------------------------------------------------- unreachable clusters

/** freePort returns a port nothing listens on (a refused connection). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** silentServer accepts connections and never answers a byte: a black hole after the handshake. */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, port: (server.address() as { port: number }).port, sockets }
}

const DELIVERY = 3_000

for (const kind of ['refused', 'never answering'] as const) {
  test(`an unreachable seed (${kind}): the record fails within recordDeliveryTimeout with BrokersUnreachableError, and the process waits for it, then exits`, { timeout: 60_000 }, async (t) => {
    const silent = kind === 'refused' ? null : await silentServer()
    try {
      const seed = `127.0.0.1:${silent?.port ?? (await freePort())}`
      const [esm, cjs, esmNoClose] = await Promise.all([
        child('../fixtures/client/unreachable.ts', [seed, String(DELIVERY), 'close'], 30_000),
        child('../fixtures/client/unreachable.cjs', [seed, String(DELIVERY)], 30_000),
        child('../fixtures/client/unreachable.ts', [seed, String(DELIVERY)], 30_000),
      ])
      for (const [name, r] of [['ES module', esm], ['CommonJS', cjs], ['ES module without close()', esmNoClose]] as const) {
        // Exit code 13 would be Node ending an ES module whose top-level await never settled; no output
        // from CommonJS would be the process exiting with the record pending.
        assert.equal(r.code, 0, `${name}: exit code ${r.code ?? r.signal}\n${r.out}${r.err}`)
        const o = lastJson(r.out)
        assert.equal(o.outcome, 'failed', `${name}: ${r.out}`)
        assert.equal(o.name, 'BrokersUnreachableError', `${name}: ${o.message}`)
        assert.equal(o.code, 'BROKERS_UNREACHABLE')
        assert.deepEqual(o.brokers, [seed])
        assert.match(o.message, kind === 'refused' ? /ECONNREFUSED/ : /timed out/, name)
        assert.ok(o.ms >= DELIVERY - 50 && o.ms < DELIVERY + 2_000, `${name}: settled after ${o.ms} ms (recordDeliveryTimeout ${DELIVERY} ms)`)
        // Nothing holds the process once the record settled.
        const lived = r.exitedAt - o.at
        assert.ok(lived < 1_500, `${name}: the process lived ${lived} ms after the record settled`)
        t.diagnostic(`${kind}, ${name}: ${o.code} after ${o.ms} ms; the process exited ${lived} ms later`)
      }
      const esmOut = lastJson(esm.out)
      assert.ok(esmOut.connectFailures >= 2, `failed connections reached the hooks: ${esmOut.connectFailures}`)
      const logged = esm.out.split('\n').filter((l) => l.includes('"log":"connecting to a broker failed"'))
      assert.ok(logged.length >= 2, `each failed connection is logged (${logged.length} lines)`)
      assert.ok(logged.length <= 20, `no reconnect storm: ${logged.length} failed connections in ${DELIVERY} ms`)
    } finally {
      for (const s of silent?.sockets ?? []) s.destroy()
      silent?.server.close()
    }
  })
}

// ---------------------------------------------------------------- authentication

/** saslServers returns the SASL_PLAINTEXT listener's addresses, failing the test when the broker has none. */
function saslServers(): string[] {
  if (!k.saslBootstrapServers) throw new Error('these tests need the broker\'s SASL_PLAINTEXT listener (startKafka({ sasl: true }) or KAFKA_SASL_BOOTSTRAP)')
  return k.saslBootstrapServers
}

test('no SASL against a SASL listener: records fail with SaslAuthenticationError within 10 s, and the client does not reconnect in a storm', { timeout: 60_000 }, async (t) => {
  let dials = 0
  const c = newClient(k, { seedBrokers: saslServers(), metadataMinAge: 5_000, retryBackoff: undefined, hooks: { onBrokerConnect: () => void dials++ } })
  const start = performance.now()
  const err = await c.produce({ topic: topicName(), value: 'v' }).then(() => null, (e: unknown) => e)
  const ms = performance.now() - start
  assert.ok(err instanceof SaslAuthenticationError, String(err))
  assert.match((err as Error).message, /SASL/)
  assert.ok(ms < 10_000, `failed after ${Math.round(ms)} ms`)
  t.diagnostic(`no SASL: ${(err as SaslAuthenticationError).code} after ${Math.round(ms)} ms, ${dials} connection attempts`)
  // Another record meets the same answer at once, without a burst of new connections.
  const before = dials
  const again = performance.now()
  await assert.rejects(c.produce({ topic: topicName(), value: 'v' }), SaslAuthenticationError)
  assert.ok(performance.now() - again < 10_000)
  assert.ok(dials - before <= 4, `${dials - before} connection attempts for the second record`)
  assert.ok(dials <= 10, `${dials} connection attempts in all`)
})

test('a consumer without SASL on a SASL listener, or with a wrong password, gets the authentication error in errors() within 10 s', { timeout: 60_000 }, async (t) => {
  const cases: Array<[string, Parameters<typeof newClient>[1]]> = [
    ['no SASL', {}],
    ['wrong password', { sasl: { mechanism: 'SCRAM-SHA-256', user: k.users.scram256.username, pass: 'not-the-password' } }],
    ['wrong password, PLAIN, group', { sasl: { mechanism: 'PLAIN', user: k.users.plain.username, pass: 'nope' }, consumerGroup: topicName('g') }],
  ]
  for (const [name, opts] of cases) {
    const c = newClient(k, { seedBrokers: saslServers(), consumeTopics: [topicName()], retryBackoff: undefined, metadataMinAge: 5_000, ...opts })
    const start = performance.now()
    const deadline = AbortSignal.timeout(10_000)
    let found: Error | undefined
    while (found === undefined && !deadline.aborted) {
      const f = await c.pollFetches({ signal: deadline })
      found = f.errors().find((e) => e.error instanceof SaslAuthenticationError)?.error
    }
    const ms = performance.now() - start
    assert.ok(found instanceof SaslAuthenticationError, `${name}: no SaslAuthenticationError within 10 s`)
    t.diagnostic(`consumer, ${name}: ${found.message.slice(0, 100)}… after ${Math.round(ms)} ms`)
    await c.close()
  }
})

test('records() throws an error retrying will not mend (a wrong password) instead of waiting for ever; fetches() yields it', { timeout: 60_000 }, async () => {
  const sasl = { mechanism: 'SCRAM-SHA-256' as const, user: k.users.scram256.username, pass: 'not-the-password' }
  const c = newClient(k, { seedBrokers: saslServers(), consumeTopics: [topicName()], sasl })
  let n = 0
  await assert.rejects(
    (async () => {
      for await (const _ of c.records({ signal: AbortSignal.timeout(20_000) })) n++
    })(),
    (err: unknown) => {
      assert.ok(err instanceof SaslAuthenticationError, String(err))
      assert.equal(err.retriable, false)
      return true
    },
  )
  assert.equal(n, 0)
  // fetches() yields the poll holding it (a poll with errors and no records), and goes on.
  let held: Error | undefined
  for await (const f of c.fetches({ signal: AbortSignal.timeout(20_000) })) {
    assert.equal(f.numRecords(), 0)
    held = f.errors().find((e) => e.error instanceof SaslAuthenticationError)?.error
    if (held !== undefined) break
  }
  assert.ok(held instanceof SaslAuthenticationError, 'fetches() yielded the authentication error')
})

test('records() goes on through retriable errors (a topic not created yet), which fetches() yields as they come', { timeout: 60_000 }, async () => {
  const topic = topicName('missing')
  // Reported on every metadata load while missing (unknownTopicRetries 0), a load at most every 200 ms.
  const c = newClient(k, { consumeTopics: [topic], metadataMinAge: 200, unknownTopicRetries: 0 })
  let reported = 0
  for await (const f of c.fetches({ signal: AbortSignal.timeout(3_000) })) {
    const e = f.errors().find((x) => x.topic === topic)?.error
    assert.ok(e instanceof KafkaProtocolError && e.code === 'UNKNOWN_TOPIC_OR_PARTITION', String(e))
    reported++
  }
  assert.ok(reported >= 2, `fetches() yielded ${reported} polls reporting the missing topic in 3 s`)
  // The same errors come to records() while it runs; it ends at its signal without throwing.
  let n = 0
  for await (const _ of c.records({ signal: AbortSignal.timeout(3_000) })) n++
  assert.equal(n, 0)
})

test('a mechanism the broker does not enable fails with UnsupportedSaslMechanismError naming the enabled ones, within 10 s', { timeout: 60_000 }, async (t) => {
  const c = newClient(k, { seedBrokers: saslServers(), sasl: { mechanism: 'OAUTHBEARER', token: 'x.y.z' } })
  const start = performance.now()
  await assert.rejects(c.produce({ topic: topicName(), value: 'v' }), (err: unknown) => {
    assert.ok(err instanceof UnsupportedSaslMechanismError, String(err))
    assert.ok(err.enabled.includes('PLAIN'), err.message)
    return true
  })
  const ms = performance.now() - start
  assert.ok(ms < 10_000, `${Math.round(ms)} ms`)
  t.diagnostic(`unsupported mechanism: failed after ${Math.round(ms)} ms`)
})

// ---------------------------------------------------------------- bad topics

test('invalid topic names fail at once with InvalidTopicError, before anything is sent', { timeout: 30_000 }, async (t) => {
  let writes = 0
  const c = newClient(k, { hooks: { onBrokerWrite: () => void writes++ } })
  for (const name of ['bad topic!', 'x'.repeat(300), '.', '..', 'tab\there', 'ünïcode']) {
    const start = performance.now()
    const err = await c.produce({ topic: name, value: 'v' }).then(() => null, (e: unknown) => e)
    const ms = performance.now() - start
    assert.ok(err instanceof InvalidTopicError, `${JSON.stringify(name)}: ${String(err)}`)
    assert.equal(err.code, 'INVALID_TOPIC_EXCEPTION')
    assert.equal(err.retriable, false)
    assert.equal(err.topic, name)
    assert.ok(ms < 1_000, `${JSON.stringify(name)}: ${ms.toFixed(1)} ms`)
    t.diagnostic(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}…(${name.length})` : name)}: ${err.message.slice(0, 90)} in ${ms.toFixed(2)} ms`)
  }
  assert.equal(writes, 0, 'nothing was sent to the broker')
  // The longest legal name and every legal character are accepted.
  const ok = `${'a'.repeat(240)}.B_-9${Date.now() % 1000}`.slice(0, 249)
  assert.equal(c.produce({ topic: ok, value: 'v' }, () => {}), undefined)
  await c.close({ timeout: 0 })
  // Consuming an invalid name is refused at construction, naming the option.
  assert.throws(() => newClient(k, { consumeTopics: ['bad topic!'] }), (err: unknown) => err instanceof InvalidOptionError && err.option === 'consumeTopics')
  assert.throws(() => newClient(k, { consumeTopics: ['ok'] }).addConsumeTopics('no/slashes'), InvalidTopicError)
})

// ---------------------------------------------------------------- missing topics

for (const mode of ['direct', 'classic group', 'KIP-848 group'] as const) {
  test(`a ${mode} consumer of a topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION in errors(), then the records once it is created`, { timeout: 90_000 }, async (t) => {
    const topic = topicName('missing')
    const group = mode === 'direct' ? {} : { consumerGroup: topicName('g'), groupProtocol: mode === 'classic group' ? ('classic' as const) : ('consumer' as const), heartbeatInterval: 500 }
    const c = newClient(k, { consumeTopics: [topic], metadataMinAge: 200, unknownTopicRetries: 4, ...group })
    const start = performance.now()
    const deadline = AbortSignal.timeout(20_000)
    let err: Error | undefined
    while (err === undefined && !deadline.aborted) {
      const f = await c.pollFetches({ signal: deadline })
      err = f.errors().find((e) => e.topic === topic)?.error
    }
    const ms = performance.now() - start
    assert.ok(err instanceof KafkaProtocolError, `no error for the missing topic within 20 s`)
    assert.equal(err.code, 'UNKNOWN_TOPIC_OR_PARTITION')
    assert.equal(err.topic, topic)
    t.diagnostic(`${mode}: ${err.message} after ${Math.round(ms)} ms`)
    // The consumer goes on: once the topic exists, its records arrive.
    const p = newClient(k)
    await createTopic(p, { name: topic, partitions: 2 })
    await Promise.all(Array.from({ length: 10 }, (_, i) => p.produce({ topic, key: String(i), value: String(i) })))
    const got = new Set<string>()
    const until = AbortSignal.timeout(30_000)
    while (got.size < 10 && !until.aborted) {
      const f = await c.pollFetches({ signal: until })
      for (const r of f.records()) got.add(r.value!.toString())
    }
    assert.equal(got.size, 10, `${got.size} of 10 records after the topic was created`)
  })
}
