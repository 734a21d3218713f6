// Unit tests of how startKafka reads a cluster from the environment; no broker needed.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { externalClusterFromEnv } from '../../src/testing/external.js'
import { dockerEnvName } from '../../src/testing/settings.js'

test('no KAFKA_BOOTSTRAP means no external cluster', () => {
  assert.equal(externalClusterFromEnv({}, {}), undefined)
  assert.equal(externalClusterFromEnv({}, { KAFKA_BOOTSTRAP: ' ' }), undefined)
})

test('KAFKA_BOOTSTRAP and its companions describe the cluster', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-ext-'))
  try {
    const caFile = join(dir, 'ca.pem')
    await writeFile(caFile, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n')
    const env = {
      KAFKA_BOOTSTRAP: '127.0.0.1:9092, 127.0.0.1:9093',
      KAFKA_SASL_BOOTSTRAP: '127.0.0.1:9094',
      KAFKA_TLS_BOOTSTRAP: '127.0.0.1:9095',
      KAFKA_TLS_CA_FILE: caFile,
      KAFKA_JARS: '/opt/kafka/libs',
    }
    const c = externalClusterFromEnv({ sasl: true, tls: true }, env)
    assert.ok(c)
    assert.equal(c.kind, 'external')
    assert.deepEqual(c.bootstrapServers, ['127.0.0.1:9092', '127.0.0.1:9093'])
    assert.deepEqual(c.saslBootstrapServers, ['127.0.0.1:9094'])
    assert.deepEqual(c.tlsBootstrapServers, ['127.0.0.1:9095'])
    assert.match(c.ca ?? '', /BEGIN CERTIFICATE/)
    assert.equal(c.javaClasspath, join('/opt/kafka/libs', '*'))
    assert.equal(c.brokers, 1, 'KAFKA_BROKERS defaults to 1')
    await c.stop() // a no-op
    await assert.rejects(c.stopBroker(0), /KAFKA_BOOTSTRAP/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a caller needing more brokers than KAFKA_BROKERS, or its own broker settings, gets no external cluster', () => {
  const env = { KAFKA_BOOTSTRAP: '127.0.0.1:9092' }
  assert.equal(externalClusterFromEnv({ brokers: 3 }, env), undefined)
  assert.equal(externalClusterFromEnv({ brokerConfig: { 'log.retention.ms': '1000' } }, env), undefined)
  assert.ok(externalClusterFromEnv({ brokers: 3 }, { ...env, KAFKA_BROKERS: '3' }))
})

test('asking for SASL or TLS from an environment that lacks those listeners is an error, not a silent downgrade', () => {
  const env = { KAFKA_BOOTSTRAP: '127.0.0.1:9092' }
  assert.throws(() => externalClusterFromEnv({ sasl: true }, env), /KAFKA_SASL_BOOTSTRAP/)
  assert.throws(() => externalClusterFromEnv({ tls: true }, env), /KAFKA_TLS_BOOTSTRAP/)
})

test('broker properties are spelled as the apache/kafka image reads them from the environment', () => {
  assert.equal(dockerEnvName('offsets.topic.replication.factor'), 'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR')
  assert.equal(dockerEnvName('listener.name.sasl_plaintext.plain.sasl.jaas.config'), 'KAFKA_LISTENER_NAME_SASL__PLAINTEXT_PLAIN_SASL_JAAS_CONFIG')
  assert.equal(dockerEnvName('listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config'), 'KAFKA_LISTENER_NAME_SASL__PLAINTEXT_SCRAM___SHA___256_SASL_JAAS_CONFIG')
})
