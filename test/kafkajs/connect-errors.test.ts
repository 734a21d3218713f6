// connect() that cannot connect, as a differential program: the same KafkaJS program run with
// kafkajs@2.2.4 and with kafka-wire/kafkajs. A producer, a consumer and an admin of a closed port, and
// of the SASL listener with a wrong password, must reject with the same error classes, retriability and
// causes, so that a program's `catch` takes the same branch with either library.
import assert from 'node:assert/strict'
import net from 'node:net'
import { before, test } from 'node:test'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker } from '../client/helpers.js'
import { errorShape, LIBS, type Lib } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

/** closedPort is a loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function connectAll(lib: Lib, config: Record<string, unknown>): Promise<unknown> {
  const kafka = new lib.Kafka({ logLevel: lib.logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50 }, ...config } as never)
  const out: Record<string, unknown> = {}
  for (const [what, make] of [
    ['producer', () => kafka.producer()],
    ['consumer', () => kafka.consumer({ groupId: 'connect-errors' })],
    ['admin', () => kafka.admin()],
  ] as const) {
    const c = make()
    let err: unknown = null
    await c.connect().catch((e: unknown) => (err = e))
    await c.disconnect().catch(() => {})
    out[what] = errorShape(lib, err)
  }
  return out
}

test('connect() to a closed port rejects alike: KafkaJSNumberOfRetriesExceeded caused by KafkaJSConnectionError', { timeout: 60_000 }, async () => {
  const port = await closedPort()
  const seen: Record<string, any> = {}
  for (const { name, lib } of LIBS) seen[name] = await connectAll(lib, { brokers: [`127.0.0.1:${port}`] })
  for (const what of ['producer', 'consumer', 'admin']) {
    assert.equal(seen['kafka-wire'][what].name, 'KafkaJSNumberOfRetriesExceeded', `${what}: ${JSON.stringify(seen['kafka-wire'][what])}`)
    assert.equal(seen['kafka-wire'][what].cause?.name, 'KafkaJSConnectionError', `${what}: ${JSON.stringify(seen['kafka-wire'][what])}`)
  }
  assert.deepEqual(seen['kafka-wire'], seen.kafkajs)
})

test('connect() with a wrong SASL password rejects alike: KafkaJSSASLAuthenticationError, not retried', { timeout: 60_000 }, async () => {
  const servers = k.saslBootstrapServers
  assert.ok(servers !== undefined && servers.length > 0, 'the broker has a SASL_PLAINTEXT listener (under npm test it does)')
  const seen: Record<string, any> = {}
  // A config object of its own per library: KafkaJS writes its authenticator into the sasl object.
  for (const { name, lib } of LIBS) seen[name] = await connectAll(lib, { brokers: servers, sasl: { mechanism: 'plain', username: k.users.plain.username, password: 'not-the-password' } })
  for (const what of ['producer', 'consumer', 'admin']) assert.equal(seen['kafka-wire'][what].name, 'KafkaJSSASLAuthenticationError', `${what}: ${JSON.stringify(seen['kafka-wire'][what])}`)
  assert.deepEqual(seen['kafka-wire'], seen.kafkajs)
})

test('enforceRequestTimeout: false: requests wait without a bound and work, as with KafkaJS (no timer overflows into an instant timeout)', { timeout: 60_000 }, async () => {
  const warnings: string[] = []
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`)
  process.on('warning', onWarning)
  try {
    for (const { name, lib } of LIBS) {
      const topic = `enforce-off-${name}-${Date.now()}`
      const kafka = new lib.Kafka({ brokers: k.bootstrapServers, logLevel: lib.logLevel.NOTHING, enforceRequestTimeout: false })
      const admin = kafka.admin()
      const producer = kafka.producer()
      try {
        await admin.connect()
        assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }), true, name)
        await producer.connect()
        const [meta] = await producer.send({ topic, messages: [{ value: 'unbounded' }] })
        assert.equal(meta!.errorCode, 0, name)
        assert.ok((await admin.listTopics()).includes(topic), `${name}: listTopics has ${topic}`)
      } finally {
        await producer.disconnect().catch(() => {})
        await admin.disconnect().catch(() => {})
      }
    }
  } finally {
    process.off('warning', onWarning)
  }
  assert.deepEqual(warnings.filter((w) => w.startsWith('TimeoutOverflowWarning')), [])
})
