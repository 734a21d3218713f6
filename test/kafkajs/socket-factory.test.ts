// KafkaJS's `socketFactory`, as a differential program: one KafkaJS program, run with kafkajs@2.2.4
// and with kafka-wire/kafkajs against the same broker, passes a factory of KafkaJS's own shape (TLS
// when `ssl` is given, onConnect once connected) and observes what the factory was asked for and what
// went through it. Both libraries must make every connection through the factory, hand it `ssl`, and
// fail a factory whose socket never connects after connectionTimeout, with KafkaJSNumberOfRetriesExceeded
// caused by KafkaJSConnectionError.
import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import { after, before, test } from 'node:test'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker } from '../client/helpers.js'
import { createTopicNamed, errorShape, LIBS, Names, neutralAdmin, type Lib } from './helpers.js'

let k: KafkaCluster
let neutral: ReturnType<typeof neutralAdmin>

before(async () => {
  k = await broker()
  neutral = neutralAdmin(k)
}, { timeout: 300_000 })

after(async () => {
  await neutral?.client.close()
})

type FactoryArgs = { host: string; port: number; ssl: tls.ConnectionOptions; onConnect: () => void }

/** counting is KafkaJS's default socket factory that also records its calls and the bytes it sent. */
function counting(): { factory: (a: FactoryArgs) => net.Socket; calls: FactoryArgs[]; written: () => number } {
  const calls: FactoryArgs[] = []
  const sockets: net.Socket[] = []
  return {
    calls,
    written: () => sockets.reduce((n, s) => n + s.bytesWritten, 0),
    factory: (a) => {
      calls.push(a)
      const s = a.ssl
        ? tls.connect({ host: a.host, port: a.port, ...(net.isIP(a.host) ? {} : { servername: a.host }), ...a.ssl }, a.onConnect)
        : net.connect({ host: a.host, port: a.port }, a.onConnect)
      sockets.push(s)
      return s
    },
  }
}

async function program(lib: Lib, name: string): Promise<unknown> {
  const servers = k.tlsBootstrapServers
  assert.ok(servers !== undefined && servers.length > 0 && k.ca, 'the broker has an SSL listener and a CA (under npm test it does)')
  const names = new Names(name)
  const topic = await createTopicNamed(neutral.admin, names, 0, 1)
  const f = counting()
  const ssl = { ca: k.ca }
  const kafka = new lib.Kafka({ brokers: servers, clientId: 'socket-factory', ssl, socketFactory: f.factory as never, logLevel: lib.logLevel.NOTHING, retry: { initialRetryTime: 100, retries: 3 } })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const sent = await producer.send({ topic, messages: [{ key: 'k', value: 'through the factory' }] })
  await producer.disconnect()
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()

  // A factory whose socket never connects: the connection times out.
  const silent = new net.Server()
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
  let stuck: net.Socket | null = null
  const hanging = new lib.Kafka({
    brokers: [`127.0.0.1:${(silent.address() as net.AddressInfo).port}`],
    connectionTimeout: 300,
    logLevel: lib.logLevel.NOTHING,
    retry: { retries: 0 },
    // Connected at TCP level, but onConnect is never called.
    socketFactory: ((a: FactoryArgs) => (stuck = net.connect({ host: a.host, port: a.port }))) as never,
  })
  const p2 = hanging.producer()
  let failed: unknown = null
  await p2.connect().catch((err: unknown) => (failed = err))
  await p2.disconnect().catch(() => {})
  ;(stuck as net.Socket | null)?.destroy()
  silent.close()

  return {
    sent: sent.map((m) => ({ partition: m.partition, errorCode: m.errorCode, baseOffset: m.baseOffset })),
    offsets: offsets.map((o) => ({ partition: o.partition, high: o.high })),
    everyCallHadSsl: f.calls.every((c) => c.ssl === ssl),
    everyCallToTheBroker: f.calls.every((c) => servers.includes(`${c.host}:${c.port}`)),
    factoryCalled: f.calls.length > 0,
    bytesThroughFactory: f.written() > 0,
    hangingFailed: errorShape(lib, failed),
  }
}

test('socketFactory: every connection is the factory\'s, with ssl handed to it; a socket that never connects times out', { timeout: 120_000 }, async () => {
  const seen: Record<string, unknown> = {}
  for (const { name, lib } of LIBS) seen[name] = await program(lib, name)
  const wire = seen['kafka-wire'] as { factoryCalled: boolean; bytesThroughFactory: boolean; everyCallHadSsl: boolean; hangingFailed: { name?: string; cause?: { name?: string } } }
  // What the facade must do on its own terms, so that an equal observation is not two failures alike.
  assert.equal(wire.factoryCalled, true)
  assert.equal(wire.bytesThroughFactory, true)
  assert.equal(wire.everyCallHadSsl, true)
  assert.equal(wire.hangingFailed.name, 'KafkaJSNumberOfRetriesExceeded', JSON.stringify(wire.hangingFailed))
  assert.equal(wire.hangingFailed.cause?.name, 'KafkaJSConnectionError', JSON.stringify(wire.hangingFailed))
  assert.deepEqual(seen['kafka-wire'], seen.kafkajs)
})
