// SASL against a real broker: BrokerConnection.connect, then authenticate, on the SASL_PLAINTEXT
// listener of the broker startKafka() returns (under `npm test`, the one the run shares).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BrokerConnection } from '../../../src/client/connection.js'
import { authenticate, mechanismFrom, oauthBearer, reauthDelay, type Mechanism, type SaslConfig } from '../../../src/client/sasl/index.js'
import { Metadata } from '../../../src/protocol/messages/metadata.js'
import { parseHostPort, startKafka, type KafkaCluster } from '../../../src/testing/index.js'
import { SaslAuthenticationError, UnsupportedSaslMechanismError } from '../../../src/client/errors.js'

let kafka: KafkaCluster

// A cluster named by the environment may have no SASL listener; the tests then say so as skips.
const external = Boolean(process.env.KAFKA_BOOTSTRAP)
const noSasl = !external || process.env.KAFKA_SASL_BOOTSTRAP ? false : 'KAFKA_BOOTSTRAP is set without KAFKA_SASL_BOOTSTRAP'

before(async () => {
  if (noSasl) return
  kafka = await startKafka({ sasl: true })
}, { timeout: 300_000 })

after(async () => {
  await kafka?.stop()
})

async function connect(): Promise<BrokerConnection> {
  const { host, port } = parseHostPort(kafka.saslBootstrapServers![0]!)
  return BrokerConnection.connect({ host, port, connectTimeout: 10_000 })
}

// Authenticates a fresh connection, then proves it is usable with Metadata, which (unlike ApiVersions)
// a broker answers only on an authenticated connection.
async function loginAndUse(mechanism: Mechanism): Promise<void> {
  const conn = await connect()
  try {
    const res = await authenticate(conn, mechanism, { timeout: 10_000 })
    assert.equal(res.mechanism, mechanism.name)
    assert.ok(res.sessionLifetimeMs >= 0)
    const md = await conn.request(Metadata, Metadata.newRequest(), { timeout: 10_000 })
    assert.ok(md.brokers.length >= 1)
  } finally {
    conn.close()
  }
}

function config(mechanism: SaslConfig['mechanism'], user: string, pass: string): SaslConfig {
  return { mechanism, user, pass } as SaslConfig
}

for (const [label, pick] of [
  ['PLAIN', (k: KafkaCluster) => k.users.plain],
  ['SCRAM-SHA-256', (k: KafkaCluster) => k.users.scram256],
  ['SCRAM-SHA-512', (k: KafkaCluster) => k.users.scram512],
] as const) {
  test(`${label}: alice authenticates and the connection serves requests`, { skip: noSasl, timeout: 60_000 }, async () => {
    const u = pick(kafka)
    assert.equal(u.mechanism, label)
    await loginAndUse(mechanismFrom(config(u.mechanism, u.username, u.password)))
  })

  test(`${label}: admin authenticates too`, { skip: noSasl, timeout: 60_000 }, async () => {
    const { username, password } = kafka.users.admin
    await loginAndUse(mechanismFrom(config(label, username, password)))
  })

  test(`${label}: a wrong password fails with SaslAuthenticationError`, { skip: noSasl, timeout: 60_000 }, async () => {
    const u = pick(kafka)
    const conn = await connect()
    try {
      await assert.rejects(authenticate(conn, mechanismFrom(config(label, u.username, `${u.password}-wrong`)), { timeout: 10_000 }), (err: unknown) => {
        assert.ok(err instanceof SaslAuthenticationError, String(err))
        assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED')
        assert.equal(err.retriable, false)
        assert.match(err.message, new RegExp(label))
        return true
      })
    } finally {
      conn.close()
    }
  })
}

test('a mechanism the listener does not enable fails with the ones it does', { skip: noSasl, timeout: 60_000 }, async () => {
  const conn = await connect()
  try {
    await assert.rejects(authenticate(conn, oauthBearer({ token: 'unused' }), { timeout: 10_000 }), (err: unknown) => {
      assert.ok(err instanceof UnsupportedSaslMechanismError, String(err))
      assert.deepEqual([...err.enabled].sort(), ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])
      return true
    })
  } finally {
    conn.close()
  }
})

// KIP-368 needs a broker with connections.max.reauth.ms set, so this test starts its own (the shared
// broker sets no session limit). Its session lasts 3 s.
test('KIP-368: the broker announces the session lifetime, re-authentication in place renews it, expiry closes', { timeout: 300_000 }, async () => {
  const own = await startKafka({ sasl: true, brokerConfig: { 'connections.max.reauth.ms': '3000' } })
  try {
    const { host, port } = parseHostPort(own.saslBootstrapServers![0]!)
    const { username, password } = own.users.scram512
    const mech = mechanismFrom({ mechanism: 'SCRAM-SHA-512', user: username, pass: password })
    const conn = await BrokerConnection.connect({ host, port, connectTimeout: 10_000 })
    try {
      const first = await authenticate(conn, mech, { timeout: 10_000 })
      assert.equal(first.sessionLifetimeMs, 3000)
      const delay = reauthDelay(first.sessionLifetimeMs, { latencyMs: first.latencyMs })
      assert.ok(delay >= 1500 && delay <= 2000, String(delay))
      // Re-authenticate in place, as the client's timer does, then keep using the connection past the
      // first session's end: it survives only because the session was renewed.
      await new Promise((r) => setTimeout(r, delay))
      const again = await conn.exclusive(() => authenticate(conn, mech, { timeout: 10_000, exclusive: true }))
      assert.equal(again.sessionLifetimeMs, 3000)
      await new Promise((r) => setTimeout(r, 3000 - delay + 300))
      const md = await conn.request(Metadata, Metadata.newRequest(), { timeout: 10_000 })
      assert.ok(md.brokers.length >= 1)
      // Without renewal the broker closes the connection on the first request after expiry.
      await new Promise((r) => setTimeout(r, 3000))
      await assert.rejects(conn.request(Metadata, Metadata.newRequest(), { timeout: 10_000 }))
    } finally {
      conn.close()
    }
  } finally {
    await own.stop()
  }
})
