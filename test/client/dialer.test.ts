// The `dialer` option (franz-go's Dialer): every connection goes through the socket the dialer makes.
// A tiny forwarding proxy stands in for what users put there (a SOCKS proxy, a tunnel): the dialer
// connects to it and names the broker on a first line, the proxy connects on and copies bytes both
// ways and counts them. With `tls` set, TLS runs over the dialer's socket, so the proxy sees only
// ciphertext. A dialer that throws, rejects, hangs or returns no socket fails dials with typed errors.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, test } from 'node:test'
import { Client, coreOf } from '../../src/client/client.js'
import type { DialOptions, Dialer } from '../../src/client/connection.js'
import { InvalidOptionError } from '../../src/client/errors.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readAll, str } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

/** Proxy forwards each connection to the "host:port" its first line names, and records what passed. */
class Proxy {
  readonly server: net.Server
  /** targets are the addresses asked for, one per connection. */
  readonly targets: string[] = []
  /** toBroker is every byte clients sent through the proxy after the first line. */
  toBroker: Buffer[] = []
  readonly #sockets = new Set<net.Socket>()

  constructor() {
    this.server = net.createServer((client) => {
      this.#sockets.add(client)
      client.on('close', () => this.#sockets.delete(client))
      client.on('error', () => {})
      let head = Buffer.alloc(0)
      const onHead = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk])
        const nl = head.indexOf(10)
        if (nl < 0) return
        client.off('data', onHead)
        const target = head.subarray(0, nl).toString()
        this.targets.push(target)
        const rest = head.subarray(nl + 1)
        const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))]
        const upstream = net.connect({ host, port })
        this.#sockets.add(upstream)
        upstream.on('close', () => this.#sockets.delete(upstream))
        upstream.on('error', () => client.destroy())
        client.on('error', () => upstream.destroy())
        if (rest.length > 0) {
          this.toBroker.push(rest)
          upstream.write(rest)
        }
        client.on('data', (c: Buffer) => this.toBroker.push(c))
        client.pipe(upstream)
        upstream.pipe(client)
      }
      client.on('data', onHead)
    })
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return (this.server.address() as net.AddressInfo).port
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** proxyDialer dials `port` and names the broker on the first line; the socket is returned still connecting. */
function proxyDialer(port: number, calls: DialOptions[]): Dialer {
  return (opts) => {
    calls.push(opts)
    const s = net.connect({ host: '127.0.0.1', port })
    s.write(`${opts.host}:${opts.port}\n`)
    return s
  }
}

/** roundTrip creates a topic through `c`, produces records with a marker value and reads them back. */
async function roundTrip(c: Client, marker: string): Promise<void> {
  const topic = await createTopic(c, { partitions: 2 })
  await Promise.all(Array.from({ length: 50 }, (_, i) => c.produce({ topic, key: `k${i}`, value: `${marker}-${i}` })))
  const values = (await readAll(c, topic)).flat().map((r) => str(r.value)).sort()
  assert.deepEqual(values, Array.from({ length: 50 }, (_, i) => `${marker}-${i}`).sort())
}

test('a dialer carries every connection: seed and brokers dialed through it, records written and read back', { timeout: 60_000 }, async () => {
  const proxy = new Proxy()
  const port = await proxy.listen()
  const calls: DialOptions[] = []
  try {
    const c = newClient(k, { dialer: proxyDialer(port, calls) })
    await roundTrip(c, 'plain-through-proxy')
    // The seed was dialed (a negative node id), then the broker metadata named.
    assert.ok(calls.some((o) => o.nodeId < 0), `a seed dial: ${JSON.stringify(calls.map((o) => o.nodeId))}`)
    assert.ok(calls.some((o) => o.nodeId >= 0), `a broker dial: ${JSON.stringify(calls.map((o) => o.nodeId))}`)
    for (const o of calls) assert.ok(o.signal instanceof AbortSignal)
    assert.equal(proxy.targets.length, calls.length, 'every dial reached the proxy')
    // Nothing bypassed it: the records' values went through in the clear.
    assert.ok(Buffer.concat(proxy.toBroker).includes('plain-through-proxy-7'), 'produce requests went through the proxy')
    await c.close()
  } finally {
    await proxy.close()
  }
})

test('with tls set, TLS runs over the dialer\'s socket: the proxy forwards only ciphertext', { timeout: 60_000 }, async () => {
  const servers = k.tlsBootstrapServers
  assert.ok(servers !== undefined && servers.length > 0 && k.ca, 'the broker has an SSL listener and a CA (under npm test it does)')
  const proxy = new Proxy()
  const port = await proxy.listen()
  const calls: DialOptions[] = []
  try {
    const c = newClient({ ...k, bootstrapServers: servers }, { dialer: proxyDialer(port, calls), tls: { ca: k.ca } })
    await roundTrip(c, 'secret-through-proxy')
    const seen = Buffer.concat(proxy.toBroker)
    assert.ok(seen.length > 1000, `bytes went through the proxy: ${seen.length}`)
    // A TLS handshake record (content type 22, version 3.x) starts the stream.
    assert.equal(seen[0], 22, 'the first byte through the proxy is a TLS handshake record')
    assert.ok(!seen.includes('secret-through-proxy'), 'no record value crossed the proxy in the clear')
    await c.close()
  } finally {
    await proxy.close()
  }
})

test('a dialer that throws, rejects or returns no socket fails the dial with a typed error naming why', { timeout: 60_000 }, async () => {
  const cases: Array<[string, Dialer, RegExp]> = [
    ['throws', () => { throw new Error('no route to the moon') }, /no route to the moon/],
    ['rejects', () => Promise.reject(new Error('proxy said 403')), /proxy said 403/],
    ['returns no socket', () => ({}) as net.Socket, /not a net\.Socket/],
  ]
  for (const [label, dialer, why] of cases) {
    const c = newClient(k, { dialer, requestRetries: 1, retryTimeout: 2000 })
    await assert.rejects(coreOf(c).topic('anything', true), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'BROKERS_UNREACHABLE', `${label}: ${String(err)}`)
      const cause = (err as Error).cause as { code?: string } | undefined
      assert.equal(cause?.code, 'BROKER_CONNECTION', `${label}: ${String(err)}`)
      assert.match(String((cause as Error).message), why, label)
      return true
    })
    await c.close()
  }
})

test('a dialer that never connects is given up on at dialTimeout: its signal aborts, and a late socket is closed', { timeout: 60_000 }, async () => {
  const proxy = new Proxy()
  const port = await proxy.listen()
  let signal: AbortSignal | null = null
  let late: net.Socket | null = null
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  try {
    const c = newClient(k, {
      dialTimeout: 300,
      requestRetries: 0,
      retryTimeout: 1000,
      dialer: async (o) => {
        signal = o.signal
        await released
        late = net.connect({ host: '127.0.0.1', port })
        return late
      },
    })
    await assert.rejects(coreOf(c).topic('anything', true), (err: unknown) => {
      const cause = (err as Error).cause as Error & { code?: string }
      assert.equal(cause?.code, 'BROKER_CONNECTION', String(err))
      assert.match(cause.message, /timed out after 300 ms/)
      return true
    })
    assert.ok(signal !== null && (signal as AbortSignal).aborted, 'the dialer was told to give up')
    release()
    // The socket the dialer made after the client gave up is destroyed, not leaked.
    await new Promise<void>((resolve) => {
      const check = () => (late !== null && (late as net.Socket).destroyed ? resolve() : setImmediate(check))
      check()
    })
    await c.close()
  } finally {
    await proxy.close()
  }
})

test('dialer must be a function', () => {
  assert.throws(() => new Client({ seedBrokers: ['127.0.0.1:9'], dialer: 'socks5://x' as unknown as Dialer }), (err: unknown) => {
    assert.ok(err instanceof InvalidOptionError)
    assert.match((err as Error).message, /dialer/)
    return true
  })
})
