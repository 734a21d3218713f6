// Custom SASL mechanisms (`sasl: { mechanism, authenticationProvider }`, KafkaJS's
// CustomAuthenticationMechanism), as a differential program: the same authentication providers run
// by kafkajs@2.2.4 and by kafka-wire/kafkajs against the broker's SASL listener. A one-round PLAIN
// written as a provider, a two-round SCRAM-SHA-256 provider (driving kafka-wire's own SCRAM session
// through saslAuthenticate), a wrong password and a provider that throws must give the same outcomes
// and the same calls: KafkaJS's framing of the auth bytes (their int32 length first, both ways)
// included, and a provider's own error reaching the program as it is.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { scramSha256 } from '../../src/client/sasl/index.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { SaslAuthenticate, type SaslAuthenticateRequest } from '../../src/protocol/messages/sasl-authenticate.js'
import { SaslHandshake, type SaslHandshakeRequest } from '../../src/protocol/messages/sasl-handshake.js'
import { FakePeer, closePeers } from '../helpers/fake-peer.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker } from '../client/helpers.js'
import { errorShape, LIBS, neutralAdmin, type Lib } from './helpers.js'
import type { Admin } from '../../src/admin/index.js'
import type { Client } from '../../src/client/client.js'

let k: KafkaCluster
let servers: string[]
let neutral: { admin: Admin; client: Client }

before(async () => {
  k = await broker()
  servers = k.saslBootstrapServers ?? []
  assert.ok(servers.length > 0, 'the broker has a SASL_PLAINTEXT listener (under npm test it does)')
  neutral = neutralAdmin(k)
}, { timeout: 300_000 })
after(async () => {
  closePeers()
  await neutral?.client.close()
})

/** framed is what a KafkaJS request.encode() returns: the auth bytes with their int32 length first. */
function framed(bytes: Buffer): Buffer {
  const out = Buffer.alloc(4 + bytes.length)
  out.writeInt32BE(bytes.length, 0)
  bytes.copy(out, 4)
  return out
}
const unframed = (raw: Buffer) => raw.subarray(4, 4 + raw.readInt32BE(0))

/** Calls records what a provider saw: its arguments and each round's answer as `decode` got it. */
interface Calls {
  providers: Array<{ host: string; port: number; logger: boolean }>
  decoded: string[]
  parsed: unknown[]
}

/** plainProvider is PLAIN written as a KafkaJS custom mechanism: one round, the answer decoded and parsed. */
function plainProvider(user: string, pass: string, calls: Calls) {
  return ({ host, port, logger, saslAuthenticate }: any) => {
    calls.providers.push({ host, port, logger: typeof logger?.info === 'function' })
    return {
      async authenticate() {
        const parsed = await saslAuthenticate({
          request: { encode: async () => framed(Buffer.from(`\u0000${user}\u0000${pass}`)) },
          response: {
            decode: (raw: Buffer) => {
              calls.decoded.push(raw.toString('hex'))
              return unframed(raw)
            },
            parse: (data: Buffer) => `answer of ${data.length} bytes`,
          },
        })
        calls.parsed.push(parsed)
      },
    }
  }
}

/**
 * scramProvider is SCRAM-SHA-256 written as a KafkaJS custom mechanism: it drives kafka-wire's own SCRAM
 * session (any implementation would do), two saslAuthenticate rounds, the server's answers decoded
 * from KafkaJS's framing.
 */
function scramProvider(user: string, pass: string, calls: Calls) {
  return ({ host, port, saslAuthenticate }: any) => ({
    async authenticate() {
      calls.providers.push({ host, port, logger: true })
      const { session, clientFirst } = await scramSha256({ user, pass }).authenticate({ host, port })
      let out: Buffer | null = clientFirst
      while (out !== null) {
        const answer: Buffer = await saslAuthenticate({
          request: { encode: () => framed(out!) },
          response: { decode: (raw: Buffer) => unframed(raw), parse: (data: Buffer) => data },
        })
        calls.decoded.push(answer.toString().split(',')[0]!.slice(0, 2))
        const step = await session.step(answer)
        out = step.done ? null : step.response
      }
    },
  })
}

/** messages keeps each failed run's error message by library, apart from the compared shapes. */
const messages: Record<string, string[]> = { kafkajs: [], 'kafka-wire': [] }

/**
 * run connects a producer with the custom mechanism, sends one message to a topic made for it (by the
 * neutral admin, so no run waits on auto-creation) and disconnects; it returns what happened.
 */
async function run(lib: Lib, sasl: unknown, topic: string): Promise<unknown> {
  await neutral.admin.createTopic({ name: topic, partitions: 1, replicationFactor: 1 })
  const kafka = new lib.Kafka({ brokers: servers, sasl: sasl as never, logLevel: lib.logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50 } })
  const p = kafka.producer()
  try {
    await p.connect()
    const res = await p.send({ topic, messages: [{ value: 'x' }] })
    return { sent: res.length, error: null }
  } catch (err) {
    messages[lib === LIBS[0]!.lib ? 'kafkajs' : 'kafka-wire']!.push(String((err as Error).message))
    return { sent: 0, error: errorShape(lib, err) }
  } finally {
    await p.disconnect().catch(() => {})
  }
}

const fresh = (): Calls => ({ providers: [], decoded: [], parsed: [] })

test('a custom PLAIN provider authenticates alike: KafkaJS\'s framing both ways, its answer decoded and parsed', { timeout: 120_000 }, async () => {
  const seen: Record<string, unknown> = {}
  const calls: Record<string, Calls> = {}
  for (const { name, lib } of LIBS) {
    calls[name] = fresh()
    seen[name] = await run(lib, { mechanism: 'plain', authenticationProvider: plainProvider(k.users.plain.username, k.users.plain.password, calls[name]!) }, `custom-sasl-plain-${name}-${Date.now()}`)
  }
  assert.deepEqual(seen['kafka-wire'], { sent: 1, error: null })
  assert.deepEqual(seen['kafka-wire'], seen.kafkajs)
  const [host, port] = servers[0]!.split(':')
  for (const name of ['kafkajs', 'kafka-wire']) {
    const c = calls[name]!
    assert.ok(c.providers.length >= 1, `${name}: the provider was called`)
    assert.deepEqual(c.providers[0], { host, port: Number(port), logger: true }, `${name}: host, port and a logger`)
    // PLAIN's answer is empty: decode gets its int32 length (0) and nothing else.
    assert.ok(c.decoded.every((d) => d === '00000000'), `${name}: ${c.decoded.join(' ')}`)
    assert.ok(c.parsed.every((p) => p === 'answer of 0 bytes'), `${name}: ${JSON.stringify(c.parsed)}`)
  }
  assert.deepEqual(calls['kafka-wire']!.decoded.length, calls['kafka-wire']!.providers.length, 'one round per authentication')
})

test('a two-round SCRAM-SHA-256 provider authenticates alike; a wrong password and a throwing provider fail alike', { timeout: 120_000 }, async () => {
  const seen: Record<string, Record<string, unknown>> = {}
  const calls: Record<string, Calls> = {}
  for (const { name, lib } of LIBS) {
    const c = (calls[name] = fresh())
    const { username, password } = k.users.scram256
    seen[name] = {
      scram: await run(lib, { mechanism: 'SCRAM-SHA-256', authenticationProvider: scramProvider(username, password, c) }, `custom-sasl-scram-${name}-${Date.now()}`),
      wrong: await run(lib, { mechanism: 'plain', authenticationProvider: plainProvider(k.users.plain.username, 'not-the-password', fresh()) }, `custom-sasl-wrong-${name}-${Date.now()}`),
      throws: await run(
        lib,
        {
          mechanism: 'plain',
          authenticationProvider: () => ({
            async authenticate() {
              throw new Error('no credentials today')
            },
          }),
        },
        `custom-sasl-throws-${name}-${Date.now()}`,
      ),
    }
  }
  const wire = seen['kafka-wire']!
  assert.deepEqual(wire.scram, { sent: 1, error: null })
  // Both rounds' answers reached the provider: the server-first message (r=…) and the server-final one (v=…).
  assert.deepEqual(calls['kafka-wire']!.decoded.slice(0, 2), ['r=', 'v='])
  assert.deepEqual(calls['kafka-wire']!.decoded.slice(0, 2), calls.kafkajs!.decoded.slice(0, 2))
  // The broker's refusal reaches the provider as KafkaJS hands it, and what the provider rethrows is what connect() rejects with.
  assert.equal((wire.wrong as { error: { type: string } }).error.type, 'SASL_AUTHENTICATION_FAILED')
  for (const name of ['kafkajs', 'kafka-wire']) assert.match(messages[name]!.at(-1)!, /no credentials today/, `${name}: ${messages[name]!.join(' | ')}`)
  assert.equal((wire.throws as { error: { name: string } }).error.name, 'Error', 'the provider\'s own error, as it is')
  assert.deepEqual(wire, seen.kafkajs)
})

test('sasl aws: the same handshake and auth bytes as KafkaJS (authorizationIdentity, accessKeyId, secretAccessKey, sessionToken joined by NUL)', { timeout: 60_000 }, async () => {
  const seen: Record<string, { mechanisms: string[]; authBytes: string[] }> = {}
  for (const { name, lib } of LIBS) {
    const got = (seen[name] = { mechanisms: [] as string[], authBytes: [] as string[] })
    // A broker with an "AWS" SASL plugin, scripted: it accepts any credentials and has no topics.
    const peer = await FakePeer.start((req, p) => {
      if (req.api.key === SaslHandshake.key) {
        got.mechanisms.push((req.body as SaslHandshakeRequest).mechanism)
        p.respond(req, { ...SaslHandshake.newResponse(), errorCode: 0, mechanisms: ['AWS'] })
      } else if (req.api.key === SaslAuthenticate.key) {
        got.authBytes.push(Buffer.from((req.body as SaslAuthenticateRequest).authBytes).toString())
        p.respond(req, { ...SaslAuthenticate.newResponse(), errorCode: 0, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n })
      } else if (req.api.key === Metadata.key) {
        p.respond(req, { ...Metadata.newResponse(), brokers: [{ nodeId: 1, host: '127.0.0.1', port: p.port, rack: null }], controllerId: 1, clusterId: 'fake', topics: [] })
      }
    })
    const kafka = new lib.Kafka({
      brokers: [`127.0.0.1:${peer.port}`],
      sasl: { mechanism: 'aws', authorizationIdentity: 'AIDAEXAMPLE', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
      logLevel: lib.logLevel.NOTHING,
      retry: { retries: 0 },
    })
    const admin = kafka.admin()
    await admin.connect()
    await admin.disconnect()
  }
  assert.deepEqual(seen['kafka-wire']!.mechanisms.slice(0, 1), ['AWS'])
  assert.deepEqual(seen['kafka-wire']!.authBytes.slice(0, 1), ['AIDAEXAMPLE\u0000AKIAEXAMPLE\u0000secret\u0000token'])
  assert.deepEqual(seen['kafka-wire']!.mechanisms.slice(0, 1), seen.kafkajs!.mechanisms.slice(0, 1))
  assert.deepEqual(seen['kafka-wire']!.authBytes.slice(0, 1), seen.kafkajs!.authBytes.slice(0, 1))
})

test('sasl oauthbearer: a provider that throws, or gives no token, fails connect() as in KafkaJS', { timeout: 60_000 }, async () => {
  const seen: Record<string, unknown[]> = {}
  for (const { name, lib } of LIBS) {
    const got: unknown[] = (seen[name] = [])
    // A broker that enables OAUTHBEARER, scripted: no exchange is reached, the provider fails first.
    const peer = await FakePeer.start((req, p) => {
      if (req.api.key === SaslHandshake.key) p.respond(req, { ...SaslHandshake.newResponse(), errorCode: 0, mechanisms: ['OAUTHBEARER'] })
    })
    for (const provider of [
      async () => {
        throw new Error('the token service is down')
      },
      async () => ({ value: undefined }),
    ]) {
      const kafka = new lib.Kafka({ brokers: [`127.0.0.1:${peer.port}`], sasl: { mechanism: 'oauthbearer', oauthBearerProvider: provider as never }, logLevel: lib.logLevel.NOTHING, retry: { retries: 0 } })
      const admin = kafka.admin()
      let error: unknown = null
      await admin.connect().catch((e: unknown) => (error = e))
      await admin.disconnect().catch(() => {})
      got.push({ ...(errorShape(lib, error) as object), message: (error as Error | null)?.message })
    }
    assert.equal(peer.of(SaslAuthenticate).length, 0, `${name}: no SaslAuthenticate was sent`)
  }
  assert.deepEqual(seen['kafka-wire']!.map((e) => (e as { name: string }).name), ['Error', 'KafkaJSSASLAuthenticationError'])
  assert.deepEqual(seen['kafka-wire'], seen.kafkajs)
})
