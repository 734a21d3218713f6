// BrokerConnection against a scripted fake peer: a net.createServer that reads request frames with the
// generated decodeRequest and answers with the generated encodeResponse, so each test controls exactly
// which bytes arrive and when — split frames, coalesced frames, hostile sizes, hang-ups, silence,
// throttles — and checks what the connection does with them.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import * as net from 'node:net'
import { after, test } from 'node:test'
import { BrokerConnection, recycleFrame, type BrokerConnectionOptions } from '../../src/client/connection.js'
import { FakePeer, closePeers, type Received } from '../helpers/fake-peer.js'
import { ProtocolDecodeError } from '../../src/protocol/errors.js'
import { ApiVersions, type ApiVersionsRequest, type ApiVersionsResponse } from '../../src/protocol/messages/api-versions.js'
import { apiByKey } from '../../src/protocol/messages/index.js'
import { Metadata, newMetadataResponseMetadataResponseTopic, type MetadataRequest, type MetadataResponse } from '../../src/protocol/messages/metadata.js'
import { Fetch, newFetchResponsePartitionData } from '../../src/protocol/messages/fetch.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { ZERO_UUID } from '../../src/protocol/reader.js'
import { AbortError, BrokerConnectionError, RequestTimeoutError, UnsupportedVersionError, ResponseTooLargeError } from '../../src/client/errors.js'

/** connect opens a BrokerConnection to a fake peer; every connection is closed after the file. */
function connect(peer: FakePeer, opts: Partial<BrokerConnectionOptions> = {}): Promise<BrokerConnection> {
  return BrokerConnection.connect({ host: '127.0.0.1', port: peer.port, connectTimeout: 5000, requestTimeout: 5000, ...opts }).then((c) => {
    conns.add(c)
    return c
  })
}

const conns = new Set<BrokerConnection>()
after(() => {
  for (const c of conns) c.close()
  closePeers()
})

/** metadataFor answers a Metadata request by echoing its topic names, so each answer is tied to its request. */
function metadataFor(req: Received, extra: Partial<MetadataResponse> = {}): MetadataResponse {
  const body = req.body as MetadataRequest
  return {
    ...Metadata.newResponse(),
    clusterId: `cluster-${req.correlationId}`,
    topics: (body.topics ?? []).map((t) => ({ ...newMetadataResponseMetadataResponseTopic(), name: t.name })),
    ...extra,
  }
}

function metadataRequest(...topics: string[]): MetadataRequest {
  const req = Metadata.newRequest()
  req.topics = topics.map((name) => ({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name, unknownTaggedFields: undefined }))
  return req
}

/**
 * readPast resolves once the connection has read more than `bytes` bytes in all (it reads into its
 * own buffers, so its socket emits no 'data' events to wait for), or rejects once it closed.
 */
async function readPast(conn: BrokerConnection, bytes: number): Promise<void> {
  while (conn.bytesRead <= bytes) {
    if (conn.closed) throw new Error(`the connection closed having read ${conn.bytesRead} bytes, waiting for more than ${bytes}`)
    await new Promise((r) => setImmediate(r))
  }
}

/** settle turns a promise into its outcome, so rejections can be asserted after the fact. */
function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
}

/**
 * spyAllocations records the size of every Buffer allocation made while `fn` runs (Buffer.alloc,
 * allocUnsafe, allocUnsafeSlow), to show that a hostile size prefix is refused before it is allocated.
 */
async function spyAllocations(fn: () => Promise<void>): Promise<number> {
  let largest = 0
  const B = Buffer as unknown as Record<string, (size: number, ...rest: unknown[]) => Buffer>
  const saved = { alloc: B.alloc!, allocUnsafe: B.allocUnsafe!, allocUnsafeSlow: B.allocUnsafeSlow! }
  for (const name of Object.keys(saved) as Array<keyof typeof saved>) {
    const orig = saved[name]
    B[name] = function (size: number, ...rest: unknown[]) {
      if (size > largest) largest = size
      return orig.call(Buffer, size, ...rest)
    }
  }
  try {
    await fn()
  } finally {
    Object.assign(B, saved)
  }
  return largest
}

// --- ApiVersions negotiation and versions ----------------------------------------------------------

test('connect negotiates ApiVersions at the newest version, announcing the client id and software (KIP-511)', async () => {
  const peer = await FakePeer.start()
  peer.apiVersions = [
    { apiKey: ApiVersions.key, minVersion: 0, maxVersion: 4, unknownTaggedFields: undefined },
    { apiKey: Metadata.key, minVersion: 0, maxVersion: 12, unknownTaggedFields: undefined },
  ]
  const conn = await connect(peer, { clientId: 'orders', softwareName: 'sw', softwareVersion: '9.9' })
  assert.equal(peer.received.length, 1)
  const av = peer.received[0]!
  assert.equal(av.api.key, ApiVersions.key)
  assert.equal(av.version, ApiVersions.maxVersion)
  assert.equal(av.clientId, 'orders')
  assert.equal((av.body as ApiVersionsRequest).clientSoftwareName, 'sw')
  assert.equal((av.body as ApiVersionsRequest).clientSoftwareVersion, '9.9')
  assert.equal(conn.apiVersionsVersion, ApiVersions.maxVersion)
  assert.deepEqual([...conn.versions], [
    [ApiVersions.key, [0, 4]],
    [Metadata.key, [0, 12]],
  ])
  conn.close()
})

test('ApiVersions: UNSUPPORTED_VERSION in a v0 body listing ApiVersions 0..2 makes the client retry at v2', async () => {
  const peer = await FakePeer.start()
  peer.onApiVersions = (req, p) => {
    if (req.version > 2) {
      // What a broker does for a version it does not know: a v0 header and a v0 body, whatever was
      // asked, with error 35 and (KIP-511) its own ApiVersions range.
      const res: ApiVersionsResponse = { ...ApiVersions.newResponse(), errorCode: 35, apiKeys: [{ apiKey: ApiVersions.key, minVersion: 0, maxVersion: 2, unknownTaggedFields: undefined }] }
      req.socket.write(p.frame(req, res, 0))
      return
    }
    const res: ApiVersionsResponse = {
      ...ApiVersions.newResponse(),
      apiKeys: [
        { apiKey: ApiVersions.key, minVersion: 0, maxVersion: 2, unknownTaggedFields: undefined },
        { apiKey: Metadata.key, minVersion: 1, maxVersion: 7, unknownTaggedFields: undefined },
      ],
    }
    p.respond(req, res)
  }
  const conn = await connect(peer)
  assert.deepEqual(peer.received.map((r) => r.version), [ApiVersions.maxVersion, 2])
  assert.equal(conn.apiVersionsVersion, 2)
  assert.deepEqual(conn.versions.get(Metadata.key), [1, 7])
  assert.equal(conn.versionFor(Metadata), 7)
  conn.close()
})

test('ApiVersions: UNSUPPORTED_VERSION without its own range (brokers before 2.4) retries at v0', async () => {
  const peer = await FakePeer.start()
  peer.onApiVersions = (req, p) => {
    if (req.version > 0) {
      req.socket.write(p.frame(req, { ...ApiVersions.newResponse(), errorCode: 35 }, 0))
      return
    }
    p.respond(req, { ...ApiVersions.newResponse(), apiKeys: [{ apiKey: Metadata.key, minVersion: 0, maxVersion: 5, unknownTaggedFields: undefined }] })
  }
  const conn = await connect(peer)
  assert.deepEqual(peer.received.map((r) => r.version), [ApiVersions.maxVersion, 0])
  assert.equal(conn.apiVersionsVersion, 0)
  assert.equal(conn.versionFor(Metadata), 5)
  conn.close()
})

test('ApiVersions: a broker that keeps refusing fails connect with UnsupportedVersionError and closes', async () => {
  const peer = await FakePeer.start()
  peer.onApiVersions = (req, p) => req.socket.write(p.frame(req, { ...ApiVersions.newResponse(), errorCode: 35, apiKeys: [{ apiKey: ApiVersions.key, minVersion: 0, maxVersion: 1, unknownTaggedFields: undefined }] }, 0))
  await assert.rejects(connect(peer), UnsupportedVersionError)
  // v5 refused with a range up to 1, v1 refused again: no lower version is offered, so it gives up.
  assert.deepEqual(peer.received.map((r) => r.version), [ApiVersions.maxVersion, 1])
  await once(peer.sockets[0]!, 'close')
})

test('versionFor picks the highest version both sides support, honours maxVersions, and refuses when none is shared', async () => {
  const peer = await FakePeer.start((req, p) => p.respond(req, metadataFor(req)))
  peer.apiVersions = [
    { apiKey: ApiVersions.key, minVersion: 0, maxVersion: 4, unknownTaggedFields: undefined },
    // Broker newer than us: our max wins.
    { apiKey: Metadata.key, minVersion: 0, maxVersion: Metadata.maxVersion + 5, unknownTaggedFields: undefined },
    // Broker older than us: its max wins.
    { apiKey: Produce.key, minVersion: 3, maxVersion: 9, unknownTaggedFields: undefined },
  ]
  const conn = await connect(peer)
  assert.equal(conn.versionFor(Metadata), Metadata.maxVersion)
  assert.equal(conn.versionFor(Produce), 9)
  assert.equal(conn.versionFor(Produce, 7), 7)
  assert.throws(() => conn.versionFor(Produce, 10), UnsupportedVersionError)
  // An API the broker did not list.
  const fetchApi = apiByKey(1)!
  assert.throws(() => conn.versionFor(fetchApi), (err: unknown) => err instanceof UnsupportedVersionError && /does not support Fetch/.test(err.message))

  // The request goes out at the version versionFor picked.
  await conn.request(Metadata, metadataRequest('a'))
  assert.equal(peer.requests().at(-1)!.version, Metadata.maxVersion)
  // A request with no shared version is refused before anything is written.
  const before = peer.received.length
  await assert.rejects(conn.request(fetchApi, fetchApi.newRequest()), UnsupportedVersionError)
  await assert.rejects(conn.request(Metadata, metadataRequest('a'), { version: Metadata.maxVersion + 1 }), UnsupportedVersionError)
  await conn.request(Metadata, metadataRequest('b'), { version: 4 })
  assert.equal(peer.received.length, before + 1, 'only the valid request reached the broker')
  assert.equal(peer.requests().at(-1)!.version, 4)
  conn.close()

  // A broker whose range lies wholly above ours; and a cap from maxVersions.
  peer.apiVersions = [{ apiKey: Metadata.key, minVersion: Metadata.maxVersion + 1, maxVersion: Metadata.maxVersion + 3, unknownTaggedFields: undefined }, { apiKey: Produce.key, minVersion: 3, maxVersion: 13, unknownTaggedFields: undefined }]
  const capped = await connect(peer, { maxVersions: new Map([[Produce.key, 8]]) })
  assert.throws(() => capped.versionFor(Metadata), (err: unknown) => err instanceof UnsupportedVersionError && /no version of Metadata/.test(err.message))
  assert.equal(capped.versionFor(Produce), 8)
  capped.close()
})

// --- Framing ---------------------------------------------------------------------------------------

test('a response split into 1-byte chunks is reassembled, size prefix included', async () => {
  let conn!: BrokerConnection
  const chunks: number[] = []
  const peer = await FakePeer.start(async (req, p) => {
    const frame = p.frame(req, metadataFor(req))
    // One byte per write, and the next only after the client has read it: every byte is its own chunk.
    for (let i = 0; i < frame.length; i++) {
      const before = conn.bytesRead
      req.socket.write(frame.subarray(i, i + 1))
      await readPast(conn, before)
      chunks.push(conn.bytesRead - before)
    }
  })
  conn = await connect(peer)
  const res = await conn.request(Metadata, metadataRequest('one-byte-at-a-time'))
  assert.equal(res.clusterId, `cluster-${peer.requests()[0]!.correlationId}`)
  assert.deepEqual(res.topics.map((t) => t.name), ['one-byte-at-a-time'])
  assert.ok(chunks.length > 20 && chunks.every((n) => n === 1), `expected 1-byte chunks, got ${chunks.length} chunks`)
  // The connection is still in step: the next response decodes.
  peer.handler = (req, p) => p.respond(req, metadataFor(req))
  assert.deepEqual((await conn.request(Metadata, metadataRequest('next'))).topics.map((t) => t.name), ['next'])
  conn.close()
})

test('several responses in one write, and responses cut at arbitrary points across frames, all decode in order', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  // Three answers in a single write.
  const three = ['a', 'b', 'c'].map((t) => conn.request(Metadata, metadataRequest(t)))
  await peer.waitFor(3)
  const frames = peer.requests().map((r) => peer.frame(r, metadataFor(r)))
  peer.requests()[0]!.socket.write(Buffer.concat(frames))
  assert.deepEqual((await Promise.all(three)).map((r) => r.topics[0]!.name), ['a', 'b', 'c'])

  // Twenty answers cut into pieces whose edges fall inside size prefixes, headers and bodies.
  const names = Array.from({ length: 20 }, (_, i) => `topic-${i}-${'x'.repeat(i * 7)}`)
  const twenty = names.map((t) => conn.request(Metadata, metadataRequest(t)))
  await peer.waitFor(23)
  const all = Buffer.concat(peer.requests().slice(3).map((r) => peer.frame(r, metadataFor(r))))
  const socket = peer.requests()[0]!.socket
  let seed = 7
  for (let off = 0; off < all.length; ) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    const n = 1 + (seed % 97)
    const piece = all.subarray(off, off + n)
    const before = conn.bytesRead
    socket.write(piece)
    await readPast(conn, before + piece.length - 1)
    off += n
  }
  assert.deepEqual((await Promise.all(twenty)).map((r) => r.topics[0]!.name), names)
  conn.close()
})

test('50 pipelined requests are all in flight at once and are answered in order', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  const names = Array.from({ length: 50 }, (_, i) => `pipelined-${i}`)
  const pending = names.map((t) => conn.request(Metadata, metadataRequest(t)))
  // The peer holds every answer until all 50 requests have arrived: they were written without
  // waiting for earlier responses.
  await peer.waitFor(50)
  assert.equal(conn.inflight, 50)
  const reqs = peer.requests()
  assert.deepEqual(reqs.map((r) => (r.body as MetadataRequest).topics![0]!.name), names)
  const ids = reqs.map((r) => r.correlationId)
  assert.equal(new Set(ids).size, 50, 'correlation ids are distinct')
  assert.ok(ids.every((id, i) => i === 0 || id === ids[i - 1]! + 1), 'correlation ids increase by one')
  for (const r of reqs) peer.respond(r, metadataFor(r))
  const res = await Promise.all(pending)
  assert.deepEqual(res.map((r) => r.topics[0]!.name), names)
  assert.deepEqual(res.map((r) => r.clusterId), ids.map((id) => `cluster-${id}`))
  assert.equal(conn.inflight, 0)
  conn.close()
})

// --- Hostile and broken peers ----------------------------------------------------------------------

test('a response with the wrong correlation id fails the connection and every request in flight', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  const closed = new Promise<Error | null>((resolve) => conn.onClose(resolve))
  const a = settle(conn.request(Metadata, metadataRequest('a')))
  const b = settle(conn.request(Metadata, metadataRequest('b')))
  await peer.waitFor(2)
  const [ra, rb] = peer.requests()
  // Answer the second request first: Kafka answers in order, so this is a broken stream.
  ra!.socket.write(peer.frame({ ...ra!, correlationId: rb!.correlationId }, metadataFor(ra!)))
  for (const r of [await a, await b]) {
    assert.equal(r.ok, false)
    assert.ok(!r.ok && r.error instanceof BrokerConnectionError, String(!r.ok && r.error))
    assert.match((r as { error: Error }).error.message, new RegExp(`answered correlation id ${rb!.correlationId}, expected ${ra!.correlationId}`))
  }
  assert.ok((await closed) instanceof BrokerConnectionError)
  assert.equal(conn.closed, true)
  await assert.rejects(conn.request(Metadata, metadataRequest('c')), BrokerConnectionError)
})

test('an unsolicited response fails the connection', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  const closed = new Promise<Error | null>((resolve) => conn.onClose(resolve))
  const av = peer.received[0]!
  av.socket.write(peer.frame(av, { ...ApiVersions.newResponse() }))
  const err = await closed
  assert.ok(err instanceof BrokerConnectionError)
  assert.match(err.message, /nobody asked for/)
})

for (const split of [false, true]) {
  test(`a 2 GiB size prefix is refused with ResponseTooLargeError before anything is allocated${split ? ' (prefix split across chunks)' : ''}`, async () => {
    let conn!: BrokerConnection
    const peer = await FakePeer.start(async (req) => {
      const announce = Buffer.alloc(12)
      announce.writeInt32BE(0x7fffffff, 0) // 2 GiB - 1, the largest size an int32 prefix can announce
      announce.writeInt32BE(req.correlationId, 4)
      if (split) {
        const before = conn.bytesRead
        req.socket.write(announce.subarray(0, 2))
        await readPast(conn, before + 1)
        req.socket.write(announce.subarray(2))
      } else {
        req.socket.write(announce)
      }
    })
    conn = await connect(peer) // default maxResponseBytes: 100 MiB
    let outcome!: Awaited<ReturnType<typeof settle>>
    const largest = await spyAllocations(async () => {
      outcome = await settle(conn.request(Metadata, metadataRequest('huge')))
    })
    assert.equal(outcome.ok, false)
    const err = (outcome as { error: Error }).error
    assert.ok(err instanceof ResponseTooLargeError, String(err))
    assert.match(err.message, /2147483647-byte response, over the 104857600-byte limit/)
    assert.equal(conn.closed, true)
    assert.ok(largest < 1 << 20, `the connection allocated ${largest} bytes for a refused response`)
  })
}

test('maxResponseBytes is the largest frame accepted: a frame of exactly that size decodes, one byte more is refused', async () => {
  const peer = await FakePeer.start((req, p) => p.respond(req, metadataFor(req)))
  const probe = await connect(peer)
  await probe.request(Metadata, metadataRequest('sized'))
  const r0 = peer.requests()[0]!
  const size = peer.frame(r0, metadataFor(r0)).length - 4
  probe.close()

  // The same answer on a fresh connection has the same size (only the correlation id's value differs).
  // ApiVersions is skipped: its answer is larger than the one under test.
  const exact = await connect(peer, { maxResponseBytes: size, skipApiVersions: true })
  assert.deepEqual((await exact.request(Metadata, metadataRequest('sized'))).topics.map((t) => t.name), ['sized'])
  exact.close()

  const under = await connect(peer, { maxResponseBytes: size - 1, skipApiVersions: true })
  await assert.rejects(under.request(Metadata, metadataRequest('sized')), (err: unknown) => err instanceof ResponseTooLargeError && err.message.includes(`${size}-byte response, over the ${size - 1}-byte limit`))
  assert.equal(under.closed, true)
})

for (const size of [-1, 0, 3]) {
  test(`a size prefix of ${size} (too small to hold a correlation id) fails the connection`, async () => {
    const peer = await FakePeer.start((req) => {
      const b = Buffer.alloc(8)
      b.writeInt32BE(size, 0)
      req.socket.write(b)
    })
    const conn = await connect(peer)
    await assert.rejects(conn.request(Metadata, metadataRequest('x')), (err: unknown) => err instanceof BrokerConnectionError && err.message.includes(`invalid response size ${size}`))
  })
}

test('a response body that does not decode rejects that request only; the stream stays in step', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  const bad = conn.request(Metadata, metadataRequest('bad'))
  const good = conn.request(Metadata, metadataRequest('good'))
  await peer.waitFor(2)
  const [r1, r2] = peer.requests()
  // A well-framed response whose body claims an array of 1,000,000 brokers in 8 bytes.
  const garbage = Buffer.alloc(16)
  garbage.writeInt32BE(12, 0)
  garbage.writeInt32BE(r1!.correlationId, 4)
  garbage.writeInt8(0, 8) // header tagged fields (Metadata v13 is flexible)
  garbage.writeInt32BE(0, 9) // throttleTimeMs
  // brokers: a compact array length of 1,007,679 elements with no bytes left to hold them
  garbage.writeUInt8(0xc0, 13)
  garbage.writeUInt8(0xc0, 14)
  garbage.writeUInt8(0x3d, 15)
  r1!.socket.write(Buffer.concat([garbage, peer.frame(r2!, metadataFor(r2!))]))
  await assert.rejects(bad, ProtocolDecodeError)
  assert.deepEqual((await good).topics.map((t) => t.name), ['good'])
  assert.equal(conn.closed, false)
  conn.close()
})

test('the peer hanging up mid-response fails every request in flight with a retriable BrokerConnectionError', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  const closed = new Promise<Error | null>((resolve) => conn.onClose(resolve))
  const pending = ['a', 'b', 'c'].map((t) => settle(conn.request(Metadata, metadataRequest(t))))
  await peer.waitFor(3)
  const r = peer.requests()[0]!
  const frame = peer.frame(r, metadataFor(r))
  r.socket.write(frame.subarray(0, Math.floor(frame.length / 2)), () => r.socket.destroy())
  for (const p of await Promise.all(pending)) {
    assert.equal(p.ok, false)
    const err = (p as { error: unknown }).error
    assert.ok(err instanceof BrokerConnectionError, String(err))
    assert.equal(err.retriable, true)
  }
  assert.ok((await closed) instanceof BrokerConnectionError)
  assert.equal(conn.inflight, 0)
})

test('a request that is not answered in time fails with RequestTimeoutError and closes the connection', async () => {
  const peer = await FakePeer.start() // never answers
  const conn = await connect(peer, { requestTimeout: 60_000 })
  const start = performance.now()
  const slow = settle(conn.request(Metadata, metadataRequest('silence'), { timeout: 150 }))
  const other = settle(conn.request(Metadata, metadataRequest('behind'))) // 60 s of its own
  const r = await slow
  const elapsed = performance.now() - start
  assert.ok(!r.ok && r.error instanceof RequestTimeoutError, String(!r.ok && r.error))
  assert.equal((r as { error: RequestTimeoutError }).error.retriable, true)
  assert.ok(elapsed >= 140 && elapsed < 5000, `timed out after ${elapsed} ms`)
  // The stream is unusable once a response is missing, so the request behind it fails too, at once.
  const o = await other
  assert.ok(!o.ok && o.error instanceof RequestTimeoutError)
  assert.equal(conn.closed, true)
  await once(peer.sockets[0]!, 'close')
})

test('a request without a timeout of its own is bounded by requestTimeout; one with a timeoutMs field by requestTimeout plus that (franz-go\'s read deadlines)', async () => {
  const peer = await FakePeer.start() // never answers
  // Each on a connection of its own: a missing response fails everything behind it on its connection.
  const plain = await connect(peer, { requestTimeout: 150 })
  const withField = await connect(peer, { requestTimeout: 150 })
  const start = performance.now()
  const a = settle(plain.request(Metadata, metadataRequest('silence')))
  const b = settle(withField.request(CreateTopics, { ...CreateTopics.newRequest(), timeoutMs: 1_500 }))
  const first = await a
  const plainAfter = performance.now() - start
  const second = await b
  const fieldAfter = performance.now() - start
  assert.ok(!first.ok && first.error instanceof RequestTimeoutError, String(!first.ok && first.error))
  assert.ok(!second.ok && second.error instanceof RequestTimeoutError, String(!second.ok && second.error))
  assert.ok(plainAfter >= 140 && plainAfter < 1_400, `the request without a timeout field failed after ${plainAfter} ms, not about 150`)
  assert.ok(fieldAfter >= 1_640, `CreateTopics with timeoutMs 1,500 failed after ${fieldAfter} ms, before 150 + 1,500`)
})

test('KIP-219: a response with throttleTimeMs holds the next write until the throttle has passed', async () => {
  const THROTTLE = 300
  // answered holds when the throttled response was written: the client cannot have started its
  // throttle earlier than that, so measuring from it is conservative.
  const answered: number[] = []
  const peer = await FakePeer.start((req, p) => {
    const first = p.requests().length === 1
    if (first) answered.push(performance.now())
    p.respond(req, metadataFor(req, { throttleTimeMs: first ? THROTTLE : 0 }))
  })
  const throttles: Array<[number, boolean]> = []
  const conn = await connect(peer, { observer: { onThrottle: (ms, after) => throttles.push([ms, after]) } })
  const first = await conn.request(Metadata, metadataRequest('throttled'))
  assert.equal(first.throttleTimeMs, THROTTLE)
  assert.deepEqual(throttles, [[THROTTLE, true]])
  // Sent at once by the caller; the connection must hold it.
  const second = await conn.request(Metadata, metadataRequest('after'))
  assert.deepEqual(second.topics.map((t) => t.name), ['after'])
  const [r1, r2] = peer.requests()
  const gap = r2!.at - answered[0]!
  // The connection times the throttle with Date.now() and a timer, which may fire a millisecond or
  // so early by performance.now(): 20 ms of slack below, a generous bound above.
  assert.ok(gap >= THROTTLE - 20, `second request reached the broker ${gap.toFixed(1)} ms after the throttled response`)
  assert.ok(gap < THROTTLE + 5000, `second request was held ${gap.toFixed(1)} ms`)
  assert.ok(r2!.at - r1!.at >= THROTTLE - 20)
  // Without a throttle, the next request is not held.
  const t = performance.now()
  await conn.request(Metadata, metadataRequest('unthrottled'))
  assert.ok(peer.requests()[2]!.at - t < THROTTLE, 'an unthrottled request was held')
  conn.close()
})

test('an AbortSignal rejects a pending request at once; its late response is dropped and the next request gets its own', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  const ac = new AbortController()
  const aborted = conn.request(Metadata, metadataRequest('aborted'), { signal: ac.signal })
  await peer.waitFor(1)
  const reason = new Error('caller gave up')
  ac.abort(reason)
  await assert.rejects(aborted, (err: unknown) => err instanceof AbortError && err.cause === reason)
  // The broker answers the abandoned request after all, then the next one.
  const next = conn.request(Metadata, metadataRequest('next'))
  await peer.waitFor(2)
  for (const r of peer.requests()) peer.respond(r, metadataFor(r))
  assert.deepEqual((await next).topics.map((t) => t.name), ['next'])
  assert.equal(conn.closed, false)
  assert.equal(conn.inflight, 0)

  // An already aborted signal rejects without writing anything.
  const before = peer.received.length
  await assert.rejects(conn.request(Metadata, metadataRequest('never'), { signal: AbortSignal.abort() }), AbortError)
  const check = conn.request(Metadata, metadataRequest('check'))
  await peer.waitFor(3)
  peer.respond(peer.requests()[2]!, metadataFor(peer.requests()[2]!))
  await check
  assert.equal(peer.received.length, before + 1)
  conn.close()
})

test('an AbortSignal rejects a request held back by a KIP-219 throttle at once, without waiting for the throttle to end', { timeout: 10_000 }, async () => {
  const THROTTLE = 30_000
  const peer = await FakePeer.start((req, p) => p.respond(req, metadataFor(req, { throttleTimeMs: THROTTLE })))
  const conn = await connect(peer)
  await conn.request(Metadata, metadataRequest('throttled'))
  const ac = new AbortController()
  const held = conn.request(Metadata, metadataRequest('held'), { signal: ac.signal })
  const start = performance.now()
  ac.abort(new Error('stop waiting'))
  await assert.rejects(held, (err: unknown) => err instanceof AbortError && (err.cause as Error).message === 'stop waiting')
  assert.ok(performance.now() - start < THROTTLE / 3, 'rejected long before the throttle ended')
  assert.equal(peer.requests().length, 1, 'the aborted request was never written')
  conn.close()
})

test('an AbortSignal rejects a request held back by exclusive() at once; the others go out when it ends', { timeout: 5000 }, async () => {
  const peer = await FakePeer.start((req, p) => p.respond(req, metadataFor(req)))
  const conn = await connect(peer)
  let release!: () => void
  const section = conn.exclusive(() => new Promise<void>((resolve) => (release = resolve)))
  const ac = new AbortController()
  const aborted = conn.request(Metadata, metadataRequest('aborted'), { signal: ac.signal })
  const kept = conn.request(Metadata, metadataRequest('kept'), { signal: new AbortController().signal })
  ac.abort()
  await assert.rejects(aborted, AbortError)
  assert.equal(peer.requests().length, 0, 'nothing is written during the exclusive section')
  release()
  await section
  assert.deepEqual((await kept).topics.map((t) => t.name), ['kept'])
  assert.deepEqual(peer.requests().map((r) => (r.body as MetadataRequest).topics![0]!.name), ['kept'])
  conn.close()
})

test('noResponse requests (Produce acks=0) resolve once written and are not waited on', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  const req = Produce.newRequest()
  req.acks = 0
  req.timeoutMs = 1000
  req.topicData = []
  assert.equal(await conn.request(Produce, req, { noResponse: true }), undefined)
  assert.equal(conn.inflight, 0)
  await peer.waitFor(1)
  assert.equal(peer.requests()[0]!.api.key, Produce.key)
  assert.equal((peer.requests()[0]!.body as { acks: number }).acks, 0)
  conn.close()
})

test('close() fails requests in flight and later requests with BrokerConnectionError', async () => {
  const peer = await FakePeer.start()
  const conn = await connect(peer)
  const pending = settle(conn.request(Metadata, metadataRequest('x')))
  await peer.waitFor(1)
  conn.close()
  const r = await pending
  assert.ok(!r.ok && r.error instanceof BrokerConnectionError && /closed by the client/.test(r.error.message))
  await assert.rejects(conn.request(Metadata, metadataRequest('y')), BrokerConnectionError)
  await once(peer.sockets[0]!, 'close')
})

test('connecting to a port nobody listens on fails with BrokerConnectionError', async () => {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await assert.rejects(BrokerConnection.connect({ host: '127.0.0.1', port, connectTimeout: 5000 }), (err: unknown) => err instanceof BrokerConnectionError && err.retriable && /cannot connect/.test(err.message))
})

test('a peer that stops reading holds requests in the connection, not in the socket buffer; they all go out once it reads again', { timeout: 30_000 }, async () => {
  const peer = await FakePeer.start((req, p) => p.respond(req, { ...Produce.newResponse(), responses: [] }))
  const conn = await connect(peer, { requestTimeout: 20_000 })
  await peer.waitFor(0)
  for (const s of peer.sockets) s.pause()
  const frameBytes = 256 << 10
  const n = 400 // 100 MiB in all: far more than the kernel's buffers take
  const req = Produce.newRequest()
  req.acks = -1
  req.timeoutMs = 1000
  req.topicData = [{ name: 't', topicId: ZERO_UUID, partitionData: [{ index: 0, records: Buffer.alloc(frameBytes, 1) }] }]
  const answers = Array.from({ length: n }, () => conn.request(Produce, req, { version: 9 }))
  // Give the writes every chance to pile up in Node's buffer, turn after turn.
  let most = 0
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setImmediate(r))
    most = Math.max(most, conn.socket.writableLength)
  }
  assert.ok(most > 0, 'the socket buffer filled')
  assert.ok(most <= 2 * (frameBytes + 1024), `at most about one request waits in the socket's own buffer (${most} bytes); the rest stay queued`)
  for (const s of peer.sockets) s.resume()
  const done = await Promise.all(answers)
  assert.equal(done.length, n)
  assert.equal(peer.requests().length, n, 'every request reached the peer once')
  conn.close()
})

// --- response buffers handed back (recycleFrame) ----------------------------------------------------

test('recycleFrame: a large response handed back is read into again when the next fits it; one not handed back, too small or far too large is not, nor one after a small response', async () => {
  // Each answer is a Fetch response whose one partition carries `size` bytes, all set to the answer's index.
  const sizes = [200_000, 190_000, 210_000, 150_000, 50_000, 8_000, 60_000]
  let n = 0
  const peer = await FakePeer.start((req, p) => {
    const i = n++
    const pd = { ...newFetchResponsePartitionData(), partitionIndex: 0, records: Buffer.alloc(sizes[i]!, i) }
    p.respond(req, { ...Fetch.newResponse(), responses: [{ topic: 't', topicId: ZERO_UUID, partitions: [pd], unknownTaggedFields: undefined }] })
  })
  const conn = await connect(peer)
  const fetch = async (): Promise<Buffer> => {
    const i = n
    const records = (await conn.request(Fetch, Fetch.newRequest())).responses[0]!.partitions[0]!.records!
    assert.ok(records.equals(Buffer.alloc(sizes[i]!, i)), `answer ${i} arrives intact`)
    return records
  }
  const a = await fetch()
  recycleFrame(a)
  const b = await fetch()
  assert.equal(b.buffer, a.buffer, 'a smaller response is read into the buffer handed back')
  const c = await fetch()
  assert.notEqual(c.buffer, b.buffer, 'a buffer not handed back is not read into again')
  recycleFrame(c)
  const d = await fetch()
  assert.equal(d.buffer, c.buffer, '150,000 bytes go into the buffer of 210,000')
  recycleFrame(d)
  const e = await fetch()
  assert.notEqual(e.buffer, d.buffer, '50,000 bytes do not take a buffer more than twice as large')
  recycleFrame(e)
  const f = await fetch()
  recycleFrame(f)
  const g = await fetch()
  assert.notEqual(g.buffer, e.buffer, 'a small response lets the spare go: 60,000 bytes would have fit the buffer of 50,000')
  assert.notEqual(g.buffer, f.buffer, 'a small response (read whole and copied out of the read buffer) is not recycled')
  assert.ok(a.subarray(0, sizes[1]).equals(Buffer.alloc(sizes[1]!, 1)), 'the first view now shows the second answer: it was read into the same memory')
  conn.close()
  recycleFrame(g)
})
