// Integration tests of the single-broker harness: under `npm test` startKafka() returns the broker that
// scripts/run-tests.ts started; run alone, this file starts (and stops) its own.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { apiVersions, canConnect, externalClusterFromEnv, parseHostPort, startKafka, type KafkaCluster } from '../../src/testing/index.js'

let kafka: KafkaCluster

// A cluster named by the environment (e.g. docker-compose.yml) may lack SASL or TLS listeners; the
// tests for those then say so as skips. A broker started here always has all four listeners.
const external = Boolean(process.env.KAFKA_BOOTSTRAP)
const wantSasl = !external || Boolean(process.env.KAFKA_SASL_BOOTSTRAP)
const wantTls = !external || Boolean(process.env.KAFKA_TLS_BOOTSTRAP)
const noSasl = wantSasl ? false : 'KAFKA_BOOTSTRAP is set without KAFKA_SASL_BOOTSTRAP'
const noTls = wantTls ? false : 'KAFKA_BOOTSTRAP is set without KAFKA_TLS_BOOTSTRAP'
const noSaslTls = !external || process.env.KAFKA_SASL_TLS_BOOTSTRAP ? false : 'KAFKA_BOOTSTRAP is set without KAFKA_SASL_TLS_BOOTSTRAP'

before(async () => {
  kafka = await startKafka({ sasl: wantSasl, tls: wantTls })
}, { timeout: 300_000 })

after(async () => {
  await kafka?.stop()
})

test('the PLAINTEXT listener answers a raw ApiVersions v0 request', async () => {
  const { host, port } = parseHostPort(kafka.bootstrapServers[0] as string)
  const res = await apiVersions(host, port)
  assert.equal(res.errorCode, 0)
  const keys = new Map(res.apiKeys.map((k) => [k.apiKey, k]))
  assert.ok(keys.has(0), 'Produce is listed')
  assert.ok(keys.has(1), 'Fetch is listed')
  assert.ok((keys.get(18)?.maxVersion ?? -1) >= 3, 'ApiVersions v3+ is listed')
})

test('the SASL_PLAINTEXT listener offers PLAIN and SCRAM and accepts alice with PLAIN', { skip: noSasl }, async () => {
  assert.ok(kafka.saslBootstrapServers?.length, 'saslBootstrapServers is set')
  const { host, port } = parseHostPort(kafka.saslBootstrapServers[0] as string)
  const socket = await open(connect({ host, port }), 'connect')
  try {
    const conn = new RawConnection(socket)
    const hs = await conn.saslHandshake('PLAIN')
    assert.equal(hs.errorCode, 0)
    assert.deepEqual([...hs.mechanisms].sort(), ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])
    const { username, password } = kafka.users.plain
    assert.equal(await conn.saslAuthenticatePlain(username, password), 0)
  } finally {
    socket.destroy()
  }
})

test('PLAIN with a wrong password is refused', { skip: noSasl }, async () => {
  const { host, port } = parseHostPort(kafka.saslBootstrapServers?.[0] as string)
  const socket = await open(connect({ host, port }), 'connect')
  try {
    const conn = new RawConnection(socket)
    assert.equal((await conn.saslHandshake('PLAIN')).errorCode, 0)
    assert.equal(await conn.saslAuthenticatePlain(kafka.users.plain.username, 'not-the-password'), 58) // SASL_AUTHENTICATION_FAILED
  } finally {
    socket.destroy()
  }
})

test('the SSL listener completes a TLS handshake verified against the returned CA, and answers ApiVersions', { skip: noTls }, async () => {
  assert.ok(kafka.ca, 'ca is set')
  assert.match(kafka.ca, /-----BEGIN CERTIFICATE-----/)
  const { host, port } = parseHostPort(kafka.tlsBootstrapServers?.[0] as string)
  const socket = (await open(tlsConnect({ host, port, ca: kafka.ca }), 'secureConnect')) as TLSSocket
  try {
    assert.equal(socket.authorized, true, String(socket.authorizationError))
    const cert = socket.getPeerCertificate()
    assert.match(cert.subjectaltname ?? '', /IP Address:127\.0\.0\.1/)
  } finally {
    socket.destroy()
  }
  const res = await apiVersions(host, port, { tls: { ca: kafka.ca } })
  assert.equal(res.errorCode, 0)
})

test('the SSL listener is refused by a client that does not trust the CA', { skip: noTls }, async () => {
  const { host, port } = parseHostPort(kafka.tlsBootstrapServers?.[0] as string)
  await assert.rejects(open(tlsConnect({ host, port }), 'secureConnect'), /self[- ]signed|unable to (get|verify)/i)
})

test('the SASL_SSL listener does TLS and then SASL', { skip: noSaslTls }, async () => {
  assert.ok(kafka.saslTlsBootstrapServers, 'the cluster has no SASL_SSL listener')
  const { host, port } = parseHostPort(kafka.saslTlsBootstrapServers[0] as string)
  const socket = await open(tlsConnect({ host, port, ca: kafka.ca }), 'secureConnect')
  try {
    const conn = new RawConnection(socket)
    assert.equal((await conn.saslHandshake('PLAIN')).errorCode, 0)
    assert.equal(await conn.saslAuthenticatePlain(kafka.users.admin.username, kafka.users.admin.password), 0)
  } finally {
    socket.destroy()
  }
})

test("Kafka's Java tools run against the cluster: create a topic in PLAINTEXT, describe it over SCRAM-SHA-512", { timeout: 120_000, skip: noSasl }, async () => {
  const topic = `kw-harness-${randomUUID()}`
  const created = await kafka.runJavaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server', kafka.bootstrapServers.join(','), '--create', '--topic', topic, '--partitions', '2', '--replication-factor', '1',
  ])
  assert.equal(created.code, 0, created.stderr)
  assert.match(created.stdout, new RegExp(`Created topic ${topic}`))

  const dir = await mkdtemp(join(tmpdir(), 'kw-test-'))
  try {
    const { username, password } = kafka.users.scram512
    const config = join(dir, 'scram.properties')
    await writeFile(
      config,
      [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-512',
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${username}" password="${password}";`,
      ].join('\n'),
    )
    const described = await kafka.runJavaTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', (kafka.saslBootstrapServers as string[]).join(','), '--command-config', config, '--describe', '--topic', topic,
    ])
    assert.equal(described.code, 0, described.stderr)
    assert.match(described.stdout, new RegExp(`Topic: ${topic}\\s.*PartitionCount: 2`))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('an external cluster refuses stopBroker and startBroker with a clear error', async () => {
  // The running broker seen as an external cluster (as KAFKA_BOOTSTRAP describes it), whichever way
  // this run started it.
  const external = externalClusterFromEnv({}, { KAFKA_BOOTSTRAP: kafka.bootstrapServers.join(',') })
  assert.ok(external !== undefined && external.kind === 'external')
  await assert.rejects(external.stopBroker(0), /not possible on the cluster named by KAFKA_BOOTSTRAP/)
  await assert.rejects(external.startBroker(0), /not possible on the cluster named by KAFKA_BOOTSTRAP/)
  const { host, port } = parseHostPort(kafka.bootstrapServers[0] as string)
  assert.equal(await canConnect(host, port), true, 'the broker is still up')
})

function open<T extends Socket>(socket: T, event: 'connect' | 'secureConnect'): Promise<T> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.once(event, () => {
      socket.off('error', reject)
      resolve(socket)
    })
  })
}

/**
 * RawConnection speaks just enough of the protocol, by hand, to check the SASL listeners' setup without
 * the client under construction: SaslHandshake v1 and SaslAuthenticate v0 with a PLAIN token.
 */
class RawConnection {
  #socket: Socket
  #buf = Buffer.alloc(0)
  #waiting: Array<(frame: Buffer) => void> = []
  #correlationId = 1

  constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk])
      while (this.#buf.length >= 4 && this.#buf.length >= 4 + this.#buf.readInt32BE(0)) {
        const size = this.#buf.readInt32BE(0)
        const frame = this.#buf.subarray(4, 4 + size)
        this.#buf = this.#buf.subarray(4 + size)
        this.#waiting.shift()?.(frame)
      }
    })
  }

  async #request(apiKey: number, version: number, body: Buffer): Promise<Buffer> {
    const clientId = Buffer.from('kafka-wire-test')
    const header = Buffer.alloc(2 + 2 + 4 + 2)
    const id = this.#correlationId++
    header.writeInt16BE(apiKey, 0)
    header.writeInt16BE(version, 2)
    header.writeInt32BE(id, 4)
    header.writeInt16BE(clientId.length, 8)
    const size = Buffer.alloc(4)
    size.writeInt32BE(header.length + clientId.length + body.length)
    const frame = await new Promise<Buffer>((resolve, reject) => {
      this.#waiting.push(resolve)
      this.#socket.once('error', reject)
      this.#socket.write(Buffer.concat([size, header, clientId, body]))
    })
    assert.equal(frame.readInt32BE(0), id, 'correlation id')
    return frame.subarray(4)
  }

  async saslHandshake(mechanism: string): Promise<{ errorCode: number; mechanisms: string[] }> {
    const m = Buffer.from(mechanism)
    const body = Buffer.concat([int16(m.length), m])
    const res = await this.#request(17, 1, body)
    const errorCode = res.readInt16BE(0)
    const n = res.readInt32BE(2)
    const mechanisms: string[] = []
    for (let i = 0, o = 6; i < n; i++) {
      const len = res.readInt16BE(o)
      mechanisms.push(res.toString('utf8', o + 2, o + 2 + len))
      o += 2 + len
    }
    return { errorCode, mechanisms }
  }

  async saslAuthenticatePlain(username: string, password: string): Promise<number> {
    const token = Buffer.from(`\0${username}\0${password}`)
    const len = Buffer.alloc(4)
    len.writeInt32BE(token.length)
    const res = await this.#request(36, 0, Buffer.concat([len, token]))
    return res.readInt16BE(0)
  }
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeInt16BE(n)
  return b
}
