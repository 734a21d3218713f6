// A scripted fake Kafka peer for tests: a net.createServer that reads request frames with the generated
// decodeRequest and answers with the generated encodeResponse, so a test controls exactly which bytes
// arrive and when (split or coalesced frames, hostile sizes, hang-ups, silence, throttles).
import { once } from 'node:events'
import * as net from 'node:net'
import type { ApiMessage } from '../../src/protocol/messages/api.js'
import { ApiVersions } from '../../src/protocol/messages/api-versions.js'
import { RequestHeader, ResponseHeader } from '../../src/protocol/messages/headers.js'
import { apiByKey, apis } from '../../src/protocol/messages/index.js'
import { Reader } from '../../src/protocol/reader.js'
import { encodeRecordBatchBuffer } from '../../src/protocol/records.js'
import { Writer } from '../../src/protocol/writer.js'

/** Received is one request as the fake peer decoded it. */
export interface Received {
  api: ApiMessage<any, any>
  version: number
  correlationId: number
  clientId: string | null
  body: any
  /** at is performance.now() when the peer decoded the request. */
  at: number
  /** size is the request's bytes on the wire, its size prefix included. */
  size: number
  socket: net.Socket
}

/** Handler answers (or not) one request. */
export type Handler = (req: Received, peer: FakePeer) => void

/** ourVersions is what the fake peer advertises by default: every API at every version kafka-wire has. */
export const ourVersions = apis.map((a) => ({ apiKey: a.key, minVersion: a.minVersion, maxVersion: a.maxVersion, unknownTaggedFields: undefined }))

const started = new Set<FakePeer>()

/** closePeers closes every peer started so far (call it from the test file's `after`). */
export function closePeers(): void {
  for (const p of started) p.close()
  started.clear()
}

/**
 * FakePeer accepts connections and decodes each request frame. ApiVersions is answered from
 * `apiVersions` unless `onApiVersions` is set; everything else goes to `handler`, which answers (or
 * not) by calling `respond`, `frame` and a raw write, or nothing at all.
 */
export class FakePeer {
  readonly server: net.Server
  readonly sockets: net.Socket[] = []
  readonly received: Received[] = []
  apiVersions = ourVersions
  onApiVersions: Handler | null = null
  handler: Handler = () => {}
  #waiters: Array<{ n: number; resolve: () => void }> = []

  private constructor() {
    this.server = net.createServer((socket) => this.#accept(socket))
  }

  /** start listens on a free port of 127.0.0.1. */
  static async start(handler?: Handler): Promise<FakePeer> {
    const b = new FakePeer()
    if (handler) b.handler = handler
    b.server.listen(0, '127.0.0.1')
    await once(b.server, 'listening')
    started.add(b)
    return b
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port
  }

  /** requests returns the non-ApiVersions requests received so far. */
  requests(): Received[] {
    return this.received.filter((r) => r.api.key !== ApiVersions.key)
  }

  /** of returns the bodies of one API's requests, in order. */
  of<T>(api: ApiMessage<T, any>): T[] {
    return this.received.filter((r) => r.api.key === api.key).map((r) => r.body as T)
  }

  /** waitFor resolves once `n` non-ApiVersions requests have been received. */
  waitFor(n: number): Promise<void> {
    if (this.requests().length >= n) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ n, resolve }))
  }

  /** frame encodes a whole response frame (size, header, body) answering `req`. */
  frame(req: Received, res: unknown, version = req.version): Buffer {
    const w = new Writer(256)
    const at = w.reserve(4)
    ResponseHeader.encode(w, req.api.responseHeaderVersion(version), { correlationId: req.correlationId, unknownTaggedFields: undefined })
    req.api.encodeResponse(w, version, res)
    w.patchInt32(at, w.pos - 4)
    return w.finishCopy()
  }

  /** respond answers a request (nothing happens once its connection is gone). */
  respond(req: Received, res: unknown): void {
    if (!req.socket.destroyed) req.socket.write(this.frame(req, res))
  }

  close(): void {
    for (const s of this.sockets) s.destroy()
    this.server.close()
    started.delete(this)
  }

  #accept(socket: net.Socket): void {
    this.sockets.push(socket)
    socket.setNoDelay(true)
    socket.on('error', () => {})
    let buf = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const size = buf.readInt32BE(0)
        const frame = buf.subarray(4, 4 + size)
        buf = buf.subarray(4 + size)
        this.#onRequest(socket, frame)
      }
    })
  }

  #onRequest(socket: net.Socket, frame: Buffer): void {
    const key = frame.readInt16BE(0)
    const version = frame.readInt16BE(2)
    const api = apiByKey(key)
    if (api === undefined) throw new Error(`fake peer: unknown api key ${key}`)
    const r = new Reader(frame)
    const header = RequestHeader.decode(r, api.requestHeaderVersion(version))
    const body = api.decodeRequest(r, version)
    r.complete(`${api.name} v${version} request`)
    const req: Received = { api, version, correlationId: header.correlationId, clientId: header.clientId, body, at: performance.now(), size: 4 + frame.length, socket }
    this.received.push(req)
    if (api.key === ApiVersions.key) {
      if (this.onApiVersions) this.onApiVersions(req, this)
      else this.respond(req, { ...ApiVersions.newResponse(), apiKeys: this.apiVersions })
      return
    }
    this.handler(req, this)
    const n = this.requests().length
    this.#waiters = this.#waiters.filter((w) => (w.n <= n ? (w.resolve(), false) : true))
  }
}

/**
 * keyedBatch encodes records `from`..`from+n-1` with keys "r<offset>" and value "v", written in leader
 * epoch `epoch`: a record batch for a fake peer's fetch answers.
 */
export function keyedBatch(from: bigint, n: number, epoch: number): Buffer {
  return encodeRecordBatchBuffer({
    baseOffset: from,
    partitionLeaderEpoch: epoch,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    compression: 0,
    records: Array.from({ length: n }, (_, i) => ({ key: `r${from + BigInt(i)}`, value: 'v', timestamp: 1_700_000_000_000 })),
  })
}
