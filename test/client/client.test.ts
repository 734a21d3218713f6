// Client lifecycle against a real broker: options validated at construction with errors that name
// the option; close() leaves nothing behind (a child process must exit by itself); requests and
// records survive dead seeds, dropped connections and retriable broker errors.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { Client } from '../../src/client/client.js'
import { type ClientOptions } from '../../src/client/options.js'
import { KafkaProtocolError, KafkaWireError } from '../../src/protocol/errors.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { LogLevel, type Logger } from '../../src/hooks/index.js'
import { FaultProxy } from '../fixtures/producer/fault-proxy.js'
import { broker, closeAll, createTopic, newClient, readAll, str } from './helpers.js'
import { InvalidOptionError, RecordTimeoutError } from '../../src/client/errors.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

// ---------------------------------------------------------------- options

test('invalid options fail at construction with an error naming the option', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['seedBrokers', { seedBrokers: undefined }],
    ['seedBrokers', { seedBrokers: [] }],
    ['seedBrokers', { seedBrokers: ['127.0.0.1:notaport'] }],
    ['seedBrokers', { seedBrokers: ['127.0.0.1:70000'] }],
    ['seedBrokers', { seedBrokers: [42] }],
    ['clientId', { clientId: 5 }],
    ['requiredAcks', { requiredAcks: 2 }],
    ['requiredAcks', { requiredAcks: 1 }], // idempotence needs acks all
    ['linger', { linger: -1 }],
    ['linger', { linger: 'soon' }],
    ['producerBatchCompression', { producerBatchCompression: ['brotli'] }],
    ['producerBatchCompression', { producerBatchCompression: [] }],
    ['producerBatchMaxBytes', { producerBatchMaxBytes: 0 }],
    ['maxBufferedRecords', { maxBufferedRecords: 0 }],
    ['maxProduceRequestsInflightPerBroker', { maxProduceRequestsInflightPerBroker: 6 }],
    ['retryBackoff', { retryBackoff: 'fast' }],
    ['retryBackoff', { retryBackoff: -5 }],
    ['partitioner', { partitioner: 'nope' }],
    ['tls', { tls: 'yes' }],
    ['sasl', { sasl: 'PLAIN' }],
    ['metadataMaxAge', { metadataMaxAge: Number.NaN }],
    ['recordDeliveryTimeout', { recordDeliveryTimeout: -1 }],
    ['lingerMs', { lingerMs: 5 }], // unknown options are named too
    ['defaultProduceTopic', { defaultProduceTopic: 7 }],
    ['onPartitionsCallbackBlocked', { onPartitionsCallbackBlocked: 'hurry' }],
    ['greedyAutoCommit', { greedyAutoCommit: 'yes' }],
  ]
  for (const [option, extra] of cases) {
    const opts = { seedBrokers: ['127.0.0.1:9092'], ...extra } as unknown as ClientOptions
    assert.throws(
      () => new Client(opts),
      (err: unknown) => {
        assert.ok(err instanceof InvalidOptionError, `${JSON.stringify(extra)}: ${String(err)}`)
        assert.equal(err.option, option, JSON.stringify(extra))
        assert.equal(err.code, 'INVALID_OPTION')
        assert.ok(err.message.includes(option), `the message names ${option}: ${err.message}`)
        return true
      },
      `${JSON.stringify(extra)} is refused`,
    )
  }
  // Hooks are validated too: an object implementing no hook is refused, naming the hooks option.
  assert.throws(() => new Client({ seedBrokers: ['127.0.0.1:9092'], hooks: [{ onProduceRecordBufered: () => {} }] as never }), (err: unknown) => {
    assert.equal((err as KafkaWireError).code, 'INVALID_OPTION')
    assert.match((err as Error).message, /hooks/)
    return true
  })
  // Good options, including the ones disabling idempotence for acks 0 and 1, construct a client
  // that dials nothing until used.
  for (const acks of [0, 1] as const) new Client({ seedBrokers: ['127.0.0.1:1'], requiredAcks: acks, disableIdempotentWrite: true })
})

// ---------------------------------------------------------------- close

const FIXTURE = fileURLToPath(new URL('../fixtures/producer/produce-and-close.ts', import.meta.url))

/** runChild runs the fixture and resolves with its output and how long it took to exit after "closed". */
function runChild(scenario: string, topic: string): Promise<{ code: number | null; out: string; err: string; exitAfterClose: number }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KAFKA_BOOTSTRAP: k.bootstrapServers.join(','),
      ...(k.saslTlsBootstrapServers ? { KAFKA_SASL_TLS_BOOTSTRAP: k.saslTlsBootstrapServers.join(',') } : {}),
      ...(k.caFile ? { KAFKA_TLS_CA_FILE: k.caFile } : {}),
    }
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, scenario, topic], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let closedAt = 0
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString()
      if (closedAt === 0 && out.includes('closed')) closedAt = performance.now()
    })
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    // A child that does not exit by itself is the failure this test looks for: kill it after 60 s.
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, out, err, exitAfterClose: closedAt === 0 ? Infinity : performance.now() - closedAt })
    })
  })
}

test('close() leaves no socket or timer: a process that produced and closed exits by itself', { timeout: 120_000 }, async () => {
  const c = newClient(k)
  const topic = await createTopic(c)
  const scenarios = ['produce', 'buffered', 'missing-topic', 'dead-seed', 'unused', 'group-unstarted', ...(k.saslTlsBootstrapServers && k.caFile ? ['sasl-tls'] : [])]
  const runs = await Promise.all(scenarios.map((s) => runChild(s, topic)))
  runs.forEach((r, i) => {
    const s = scenarios[i]!
    assert.equal(r.code, 0, `${s}: exit code ${r.code}\n${r.err.slice(-2000)}`)
    const left = /closed (.*)/.exec(r.out)?.[1]
    assert.equal(left, '[]', `${s}: still open after close(): ${left}`)
    assert.ok(r.exitAfterClose < 3_000, `${s}: the process exited ${r.exitAfterClose.toFixed(0)} ms after close()`)
    // Records that could not be delivered before close({ timeout }) ran out were never sent: ClientClosedError.
    const fates = /fates (.*)/.exec(r.out)?.[1]
    if (s === 'missing-topic' || s === 'dead-seed') assert.deepEqual(JSON.parse(fates ?? '[]'), Array((s === 'dead-seed' ? 1 : 10)).fill('CLIENT_CLOSED'), `${s}: ${fates}`)
  })
  if (!scenarios.includes('sasl-tls')) throw new Error('the SASL_SSL scenario needs KAFKA_SASL_TLS_BOOTSTRAP and KAFKA_TLS_CA_FILE')
})

// ---------------------------------------------------------------- retries and reconnects

test('a dead seed is skipped: requests go to the live one', { timeout: 60_000 }, async () => {
  const c = newClient(k, { seedBrokers: ['127.0.0.1:1', ...k.bootstrapServers] })
  for (let i = 0; i < 4; i++) {
    const md = await c.request(Metadata, Metadata.newRequest())
    assert.ok(md.brokers.length >= 1)
  }
  const topic = await createTopic(c)
  const r = await c.produce({ topic, value: 'through the live seed' })
  assert.equal(r.offset, 0n)
})

test('with only dead seeds, request() fails with a retriable connection error after its retries', { timeout: 60_000 }, async () => {
  let dials = 0
  const c = newClient(k, { seedBrokers: ['127.0.0.1:1'], requestRetries: 3, retryBackoff: 50, hooks: { onBrokerConnect: () => void dials++ } })
  await assert.rejects(c.request(Metadata, Metadata.newRequest()), (err: unknown) => {
    assert.equal((err as KafkaWireError).code, 'BROKER_CONNECTION', String(err))
    assert.equal((err as KafkaWireError).retriable, true)
    return true
  })
  assert.ok(dials >= 4, `dialed ${dials} times: once and three retries`)
})

test('connections cut under load reconnect, and every record is written exactly once, in order', { timeout: 120_000 }, async () => {
  const sockets = new Set<Socket>()
  let connects = 0
  let disconnects = 0
  // A cut is armed per wave of records and fires just after the wave's first produce request is
  // written, so a request is in flight when its connection dies.
  let armed = false
  let writes = 0
  let cuts = 0
  let retried = 0
  const c = newClient(k, {
    linger: 2,
    logger: { level: () => LogLevel.Debug, log: (_l, msg) => void (msg === 'retrying produce batch' && retried++) },
    hooks: {
      onBrokerConnect: (_m, _d, socket, err) => {
        if (err === null && socket !== null) {
          connects++
          sockets.add(socket)
        }
      },
      onBrokerDisconnect: (_m, socket) => {
        disconnects++
        sockets.delete(socket)
      },
      onBrokerWrite: (_m, key) => {
        if (key !== 0 || !armed || ++writes < 1) return
        armed = false
        setImmediate(() => {
          for (const s of sockets) s.destroy()
          cuts++
        })
      },
    },
  })
  const topic = await createTopic(c, { partitions: 3 })
  const waves = 6
  const perWave = 6_000
  const n = waves * perWave
  const calls = new Uint8Array(n)
  const errors: string[] = []
  for (let w = 0; w < waves; w++) {
    armed = true
    writes = 0
    await new Promise<void>((resolve) => {
      let left = perWave
      for (let j = 0; j < perWave; j++) {
        const i = w * perWave + j
        c.produce({ topic, partition: i % 3, value: String(i) }, (_r, err) => {
          calls[i]!++
          if (err) errors.push(err.message)
          if (--left === 0) resolve()
        })
      }
    })
    // The cut runs on the turn after the wave's first write; a wave whose answers arrived in the same
    // turn as that write's completion can settle first, so wait for the cut before the next wave.
    await new Promise((r) => setImmediate(r))
  }
  assert.deepEqual(errors.slice(0, 5), [], `${errors.length} records failed`)
  assert.ok(calls.every((x) => x === 1), 'every callback ran once')
  assert.equal(cuts, waves, 'every wave had its connections cut')
  assert.ok(retried >= waves, `batches in flight on the cut connections were retried (${retried} retries)`)
  assert.ok(connects > waves, `reconnected after each cut (${connects} connections)`)
  assert.ok(disconnects >= waves, `onBrokerDisconnect ran for the cut connections (${disconnects})`)
  const stored = await readAll(c, topic)
  for (let p = 0; p < 3; p++) {
    const values = stored[p]!.map((r) => Number(str(r.value)))
    assert.equal(values.length, n / 3, `partition ${p}: no record lost or doubled`)
    values.forEach((v, j) => assert.equal(v, j * 3 + p, `partition ${p}, offset ${j}`))
  }
})

// The fault proxy breaks produce requests on cue (test/fixtures/producer/fault-proxy.ts): a real
// single broker does not return retriable produce errors on demand.

test('retriable produce errors are retried: rejected requests, lost acknowledgements, cut and slow connections; each record is stored once, in order', { timeout: 120_000 }, async () => {
  const proxy = await FaultProxy.start(k.bootstrapServers[0]!)
  try {
    let retries = 0
    const logger: Logger = { level: () => LogLevel.Debug, log: (_l, msg) => void (msg === 'retrying produce batch' && retries++) }
    const c = newClient(k, { seedBrokers: [proxy.address], linger: 5, produceRequestTimeout: 1_000, requestTimeoutOverhead: 1_000, logger })
    const topic = await createTopic(c, { partitions: 2 })
    proxy.faults.push(
      { kind: 'reject', code: 6 }, // NOT_LEADER_OR_FOLLOWER: nothing written
      { kind: 'reject', code: 19 }, // NOT_ENOUGH_REPLICAS: nothing written
      { kind: 'lose-ack', code: 20 }, // NOT_ENOUGH_REPLICAS_AFTER_APPEND: written, answered with an error
      { kind: 'lose-ack', code: 7 }, // REQUEST_TIMED_OUT: written, answered with an error
      { kind: 'cut' }, // written, connection cut before the answer
      { kind: 'delay', ms: 4_000 }, // written, answered after the client gave up (2 s)
      { kind: 'reject', code: 6 },
    )
    const n = 4_000
    const results: Array<{ partition: number; offset: bigint }> = []
    // Produced in waves so that faults hit batches in the middle of the stream, not only the first.
    for (let wave = 0; wave < 8; wave++) {
      const rs = await Promise.all(Array.from({ length: n / 8 }, (_, j) => c.produce({ topic, partition: j % 2, value: String(wave * (n / 8) + j) })))
      results.push(...rs.map((r) => ({ partition: r.partition, offset: r.offset })))
    }
    assert.equal(proxy.faulted, 7, 'every fault was applied')
    assert.ok(retries >= 7, `${retries} retries`)
    const stored = await readAll(c, topic)
    for (let p = 0; p < 2; p++) {
      const values = stored[p]!.map((r) => Number(str(r.value)))
      assert.deepEqual(values, Array.from({ length: n / 2 }, (_, j) => 2 * j + p), `partition ${p}: every record once, in order`)
    }
    // Each record's promise reported where it is.
    results.forEach((r, i) => {
      assert.equal(r.partition, i % 2)
      assert.equal(r.offset, BigInt(Math.floor(i / 2)), `record ${i}`)
    })
  } finally {
    await closeAll()
    await proxy.close()
  }
})

test('without idempotence a lost acknowledgement is written twice: the fault proxy really loses it', { timeout: 60_000 }, async () => {
  const proxy = await FaultProxy.start(k.bootstrapServers[0]!)
  try {
    const c = newClient(k, { seedBrokers: [proxy.address], disableIdempotentWrite: true })
    const topic = await createTopic(c)
    proxy.faults.push({ kind: 'lose-ack', code: 20 })
    const r = await c.produce({ topic, value: 'once?' })
    const [stored] = await readAll(c, topic)
    assert.deepEqual(stored!.map((x) => str(x.value)), ['once?', 'once?'])
    assert.equal(r.offset, 1n, 'the retry is what the record reports')
  } finally {
    await closeAll()
    await proxy.close()
  }
})

test('a batch refused on one partition next to a lost acknowledgement on another: the gap is closed without an epoch bump, nothing is written twice', { timeout: 60_000 }, async () => {
  const proxy = await FaultProxy.start(k.bootstrapServers[0]!)
  try {
    const c = newClient(k, { seedBrokers: [proxy.address], linger: 50 })
    const topic = await createTopic(c, { partitions: 2, configs: { 'max.message.bytes': '20000' } })
    await c.produce({ topic, partition: 0, value: 'first' })
    // Partition 0's batch is written but answered with a retriable error; partition 1's batch, in
    // the same request, is refused by the broker as too large. Were the producer to bump its epoch
    // for the refused batch, partition 0's retry would restart at sequence 0 of the new epoch and
    // the broker would write it a second time.
    proxy.faults.push({ kind: 'lose-ack', code: 20, partitions: [0] })
    const results = await Promise.allSettled([
      c.produce({ topic, partition: 0, value: 'a' }),
      c.produce({ topic, partition: 1, value: Buffer.alloc(50_000) }),
      c.produce({ topic, partition: 0, value: 'b' }),
      c.produce({ topic, partition: 1, value: 'c' }),
    ])
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    assert.equal(((results[1] as PromiseRejectedResult).reason as KafkaWireError).code, 'MESSAGE_TOO_LARGE')
    const after = await c.produce({ topic, partition: 1, value: 'd' })
    assert.equal(after.offset, 1n)
    const stored = await readAll(c, topic)
    assert.deepEqual(stored[0]!.map((r) => str(r.value)), ['first', 'a', 'b'])
    assert.deepEqual(stored[1]!.map((r) => str(r.value)), ['c', 'd'])
    // One producer id and epoch throughout; partition 1's sequences have no hole where the refused batch was.
    const ids = new Set(stored.flat().map((r) => `${r.producerId}/${r.producerEpoch}`))
    assert.equal(ids.size, 1, `one producer id and epoch: ${[...ids].join(', ')}`)
    assert.deepEqual(stored[1]!.map((r) => r.sequence), [0, 1])
  } finally {
    await closeAll()
    await proxy.close()
  }
})

test('OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID on the oldest batch bump the epoch (KIP-360) and the records go through once, in order', { timeout: 60_000 }, async () => {
  const proxy = await FaultProxy.start(k.bootstrapServers[0]!)
  try {
    let bumps = 0
    const logger: Logger = { level: () => LogLevel.Info, log: (_l, msg) => void (msg === 'producer epoch bumped' && bumps++) }
    const c = newClient(k, { seedBrokers: [proxy.address], linger: 5, logger })
    const topic = await createTopic(c, { partitions: 2 })
    await Promise.all([0, 1].map((p) => c.produce({ topic, partition: p, value: 'first' })))
    for (const code of [45, 59]) {
      proxy.faults.push({ kind: 'reject', code })
      await Promise.all(Array.from({ length: 200 }, (_, i) => c.produce({ topic, partition: i % 2, value: `${code}-${i}` })))
    }
    assert.equal(proxy.faulted, 2)
    assert.ok(bumps >= 2, `${bumps} epoch bumps`)
    const stored = await readAll(c, topic)
    for (let p = 0; p < 2; p++) {
      const want = ['first', ...[45, 59].flatMap((code) => Array.from({ length: 100 }, (_, j) => `${code}-${2 * j + p}`))]
      assert.deepEqual(stored[p]!.map((r) => str(r.value)), want, `partition ${p}`)
    }
    // The records after each bump carry a newer epoch (or a new producer id).
    const stamps = [...new Set(stored[0]!.map((r) => `${r.producerId}/${r.producerEpoch}`))]
    assert.ok(stamps.length >= 2, `stamps: ${stamps.join(', ')}`)
  } finally {
    await closeAll()
    await proxy.close()
  }
})

test('recordRetries and recordDeliveryTimeout bound the retries of a batch', { timeout: 60_000 }, async () => {
  const proxy = await FaultProxy.start(k.bootstrapServers[0]!)
  try {
    const admin = newClient(k)
    const topic = await createTopic(admin)
    for (let i = 0; i < 1_000; i++) proxy.faults.push({ kind: 'reject', code: 19 })
    const bounded = newClient(k, { seedBrokers: [proxy.address], recordRetries: 2, retryBackoff: 50 })
    const before = proxy.produceRequests
    await assert.rejects(bounded.produce({ topic, value: 'v' }), (err: unknown) => {
      assert.ok(err instanceof KafkaProtocolError, String(err))
      assert.equal(err.code, 'NOT_ENOUGH_REPLICAS')
      return true
    })
    assert.equal(proxy.produceRequests - before, 3, 'one try and two retries')
    const timed = newClient(k, { seedBrokers: [proxy.address], recordDeliveryTimeout: 1_500, retryBackoff: 100 })
    const start = Date.now()
    await assert.rejects(timed.produce({ topic, value: 'v' }), (err: unknown) => {
      assert.ok(err instanceof RecordTimeoutError, String(err))
      assert.match(err.message, /NOT_ENOUGH_REPLICAS/)
      return true
    })
    const took = Date.now() - start
    assert.ok(took >= 1_400 && took < 10_000, `timed out after ${took} ms`)
    // The records failed; nothing reached the broker.
    const [stored] = await readAll(admin, topic)
    assert.equal(stored!.length, 0)
  } finally {
    await closeAll()
    await proxy.close()
  }
})
