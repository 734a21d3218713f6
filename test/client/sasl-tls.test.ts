// The client produces over every secured listener of a real broker: TLS alone, and PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER over SASL_PLAINTEXT and over SASL_SSL. Each client
// creates a topic, produces, and reads its records back over the same listener. Bad credentials
// fail the records with a typed error instead of leaving them waiting.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Client, coreOf } from '../../src/client/client.js'
import type { ClientOptions } from '../../src/client/options.js'
import { type SaslConfig } from '../../src/client/sasl/index.js'
import { startKafka, type KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readAll, str } from './helpers.js'
import { SaslAuthenticationError } from '../../src/client/errors.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

function need(list: string[] | undefined, what: string): string[] {
  if (list === undefined || list.length === 0) throw new Error(`the broker has no ${what} listener (under npm test it has one; with KAFKA_BOOTSTRAP set, set ${what === 'SASL_PLAINTEXT' ? 'KAFKA_SASL_BOOTSTRAP' : what === 'SSL' ? 'KAFKA_TLS_BOOTSTRAP' : 'KAFKA_SASL_TLS_BOOTSTRAP'} too)`)
  return list
}

/** roundTrip creates a topic through `c`, produces 100 records and reads them back through `c`. */
async function roundTrip(c: Client): Promise<void> {
  const topic = await createTopic(c, { partitions: 2 })
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => c.produce({ topic, key: `k${i}`, value: `v${i}` })))
  assert.equal(results.length, 100)
  const stored = await readAll(c, topic)
  const values = stored.flat().map((r) => str(r.value)).sort()
  assert.deepEqual(values, Array.from({ length: 100 }, (_, i) => `v${i}`).sort())
}

/** viaListener makes a client of `servers` that reads and writes only through that listener. */
function viaListener(servers: string[], opts: Partial<ClientOptions>): Client {
  return newClient({ ...k, bootstrapServers: servers }, opts)
}

test('TLS: produce and read back over the SSL listener, verified with the test CA', { timeout: 60_000 }, async () => {
  const servers = need(k.tlsBootstrapServers, 'SSL')
  assert.ok(k.ca, 'the cluster hands out its CA')
  await roundTrip(viaListener(servers, { tls: { ca: k.ca } }))
})

test('TLS: a client that does not trust the CA fails with a typed connection error', { timeout: 60_000 }, async () => {
  const servers = need(k.tlsBootstrapServers, 'SSL')
  const c = viaListener(servers, { tls: true, requestRetries: 1 })
  await assert.rejects(coreOf(c).topic('anything', true), (err: unknown) => {
    // The only seed failed: no broker could be reached, the last (TLS) connection error says why.
    assert.equal((err as { code?: string }).code, 'BROKERS_UNREACHABLE', String(err))
    assert.equal(((err as Error).cause as { code?: string }).code, 'BROKER_CONNECTION', String(err))
    assert.match(String(err), /certificate/i)
    return true
  })
})

const mechanisms = (cluster: KafkaCluster): Array<[string, SaslConfig]> => [
  ['PLAIN', { mechanism: 'PLAIN', user: cluster.users.plain.username, pass: cluster.users.plain.password }],
  ['SCRAM-SHA-256', { mechanism: 'SCRAM-SHA-256', user: cluster.users.scram256.username, pass: cluster.users.scram256.password }],
  ['SCRAM-SHA-512', { mechanism: 'SCRAM-SHA-512', user: cluster.users.scram512.username, pass: cluster.users.scram512.password }],
]

for (const [label, overTls] of [['SASL_PLAINTEXT', false], ['SASL_SSL', true]] as const) {
  for (const name of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    test(`${name} over ${label}: produce and read back`, { timeout: 60_000 }, async () => {
      const servers = need(overTls ? k.saslTlsBootstrapServers : k.saslBootstrapServers, label)
      const sasl = mechanisms(k).find(([n]) => n === name)![1]
      await roundTrip(viaListener(servers, { sasl, ...(overTls ? { tls: { ca: k.ca! } } : {}) }))
    })
  }

  test(`a wrong password over ${label} fails produce with SaslAuthenticationError, not a hang`, { timeout: 60_000 }, async () => {
    const servers = need(overTls ? k.saslTlsBootstrapServers : k.saslBootstrapServers, label)
    const c = viaListener(servers, { sasl: { mechanism: 'SCRAM-SHA-512', user: 'alice', pass: 'not-her-password' }, ...(overTls ? { tls: { ca: k.ca! } } : {}) })
    await assert.rejects(c.produce({ topic: 'never-created', value: 'v' }), (err: unknown) => {
      assert.ok(err instanceof SaslAuthenticationError, String(err))
      assert.equal(err.retriable, false)
      return true
    })
    assert.equal(c.bufferedProduceRecords, 0)
  })
}

// OAUTHBEARER needs a broker that enables it, which the shared broker does not (the SASL tests
// check its exact mechanism list), so this one starts its own, with Kafka's unsecured-JWT validator.
test('OAUTHBEARER over SASL_PLAINTEXT and SASL_SSL: produce and read back; an expired token fails', { timeout: 300_000 }, async () => {
  const jaas = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="admin";'
  const own = await startKafka({
    sasl: true,
    tls: true,
    brokerConfig: {
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
      'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config': jaas,
      'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config': jaas,
    },
  }).catch((err: unknown) => {
    throw new Error(`the OAUTHBEARER test needs its own broker and none could be started: ${err instanceof Error ? err.message : String(err)}`)
  })
  try {
    const now = Math.floor(Date.now() / 1000)
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    // An unsecured JWT (RFC 7519 §6): alg "none" and an empty signature.
    const jwt = (exp: number) => `${b64({ alg: 'none' })}.${b64({ sub: 'alice', iat: now - 60, exp })}.`
    let provided = 0
    const tokenProvider = async () => {
      provided++
      return { token: jwt(now + 3600) }
    }
    await roundTrip(newClient({ ...own, bootstrapServers: own.saslBootstrapServers! }, { sasl: { mechanism: 'OAUTHBEARER', tokenProvider } }))
    await roundTrip(newClient({ ...own, bootstrapServers: own.saslTlsBootstrapServers! }, { sasl: { mechanism: 'OAUTHBEARER', token: jwt(now + 3600) }, tls: { ca: own.ca! } }))
    assert.ok(provided >= 1, 'the token provider was asked')
    const expired = newClient({ ...own, bootstrapServers: own.saslBootstrapServers! }, { sasl: { mechanism: 'OAUTHBEARER', token: jwt(now - 10) } })
    await assert.rejects(expired.produce({ topic: 'never-created', value: 'v' }), (err: unknown) => {
      assert.ok(err instanceof SaslAuthenticationError, String(err))
      return true
    })
  } finally {
    await closeAll()
    await own.stop()
  }
})
