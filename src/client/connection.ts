import * as net from 'node:net'
import type * as tls from 'node:tls'
import { performance } from 'node:perf_hooks'
import { Writer } from '../protocol/writer.js'
import { Reader } from '../protocol/reader.js'
import { KafkaProtocolError } from '../protocol/errors.js'
import type { ApiMessage } from '../protocol/messages/api.js'
import { ApiVersions } from '../protocol/messages/api-versions.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { ApiKey } from '../protocol/messages/api-key.js'
import { BrokerE2E } from '../hooks/meta.js'
import { NAME, VERSION } from '../version.js'
import { MAX_TIMER_MS } from './wake-timer.js'
import { AbortError, BrokerConnectionError, RequestTimeoutError, UnsupportedVersionError, ResponseTooLargeError } from './errors.js'

/**
 * ConnectionObserver receives what happened on a connection, for hooks and metrics. Every method is
 * optional; a connection without an observer measures nothing.
 */
export interface ConnectionObserver {
  onWrite?(key: number, bytesWritten: number, writeWait: number, timeToWrite: number, err: Error | null): void
  onRead?(key: number, bytesRead: number, readWait: number, timeToRead: number, err: Error | null): void
  onE2E?(key: number, e2e: BrokerE2E): void
  onThrottle?(throttleMs: number, afterResponse: boolean): void
}

/** DialOptions is what a `dialer` is given for each connection it opens. */
export interface DialOptions {
  /** host and port are the broker's address, as metadata (or the seed list) gives it. */
  host: string
  port: number
  /** nodeId is the broker's id (negative for a seed broker). */
  nodeId: number
  /**
   * signal aborts when the client stops waiting for this dial (dialTimeout, or the client closing).
   * A socket resolved after that is destroyed.
   */
  signal: AbortSignal
}

/**
 * Dialer opens the connection to a broker in place of `net.connect` (franz-go's Dialer): through a
 * proxy, a tunnel, a Unix socket. It returns a socket, connected or still connecting (the client waits
 * for 'connect'), or a promise of one. With the `tls` option as well, the client runs TLS over the
 * socket it returns.
 */
export type Dialer = (opts: DialOptions) => net.Socket | Promise<net.Socket>

/** BrokerConnectionOptions configures one connection to one broker. */
export interface BrokerConnectionOptions {
  host: string
  port: number
  /** nodeId is the broker's id, carried on errors (negative for seed brokers). */
  nodeId?: number
  /** clientId is sent in every request header. Default 'kafka-wire'. */
  clientId?: string | null
  /** tls enables TLS; an object is passed to `tls.connect`. */
  tls?: boolean | tls.ConnectionOptions
  /** dialer opens the socket in place of `net.connect`; `tls` then runs over it. */
  dialer?: Dialer
  /** connectTimeout bounds dialing and the ApiVersions exchange, in ms. Default 10,000. */
  connectTimeout?: number
  /**
   * requestTimeout bounds each request not given a timeout of its own, in ms: this much, plus the
   * request's own timeout field (`timeoutMs`, as CreateTopics and Produce have) when it has one, as
   * franz-go bounds reads by RequestTimeoutOverhead. Default 30,000. A bound past Node's longest
   * timer (2^31 - 1 ms) is none.
   */
  requestTimeout?: number
  /** maxResponseBytes refuses larger responses before allocating them. Default 100 MiB (franz-go's BrokerMaxReadBytes). */
  maxResponseBytes?: number
  /** maxVersions caps the version used per API key (franz-go's MaxVersions). */
  maxVersions?: ReadonlyMap<number, number>
  /** softwareName and softwareVersion are announced in ApiVersions v3+ (KIP-511). */
  softwareName?: string
  softwareVersion?: string
  /** observer receives write/read/E2E/throttle events. */
  observer?: ConnectionObserver
  /** signal aborts connecting. */
  signal?: AbortSignal
  /** skipApiVersions connects without negotiating versions (for tests of raw exchanges). */
  skipApiVersions?: boolean
  /**
   * unref keeps the socket and the connection's timers from holding the process open. A Client sets
   * it: it holds the event loop itself while records or requests are pending, and only then. Default
   * false: a connection used on its own keeps the process alive like any socket.
   */
  unref?: boolean
}

/** RequestOptions are per-request settings. */
export interface RequestOptions {
  /** version forces a version instead of the highest both sides support. */
  version?: number
  /**
   * maxVersion caps the version below the highest both sides support, for requests whose newer
   * versions mean something else (a transactional Produce v12+ asks the broker to add the partition
   * to the transaction, KIP-890).
   */
  maxVersion?: number
  /** timeout in ms for this request (long polls add their own wait to it). */
  timeout?: number
  signal?: AbortSignal
  /** noResponse marks a request the broker will not answer (Produce with acks 0). */
  noResponse?: boolean
  /** exclusive marks a request sent from inside `exclusive()` (re-authentication), which must not wait for it. */
  exclusive?: boolean
  /**
   * wrote, when given, is set to `{ value: true }` once the request is handed to the socket: from then
   * on the broker may have received it, so a request that fails afterwards without an answer has an
   * unknown outcome (the producer reports such records' fate as unknown).
   */
  wrote?: { value: boolean }
  /**
   * flush writes the request at once rather than with the rest of this turn's requests, for a
   * request whose answer paces its caller (the consumer's fetch, sent before a response is decoded).
   */
  flush?: boolean
}

interface Pending {
  correlationId: number
  key: number
  version: number
  headerVersion: number
  decode: ((r: Reader, version: number) => unknown) | null
  resolve: (v: any) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout | null
  signal: AbortSignal | undefined
  onAbort: (() => void) | null
  created: number
  writeStart: number
  writeEnd: number
  readStart: number
  bytesWritten: number
  /** frame is the encoded request until it is handed to the socket (null when it went out as `chunks`). */
  frame: Buffer | null
  /**
   * chunks is the encoded request as a list, when large byte fields (record batches) were kept by
   * reference instead of copied into it: the request's own bytes around them. Null otherwise.
   */
  chunks: Uint8Array[] | null
  /** expectResponse is false for requests the broker does not answer (Produce with acks 0). */
  expectResponse: boolean
  /** aborted requests stay queued until their response arrives, which is then dropped. */
  abandoned: boolean
  /**
   * failure is the error the connection died of while this request's write had not completed; the
   * write's callback then reports the request to the observer, as no response will.
   */
  failure: Error | null
  /** wrote is the caller's flag set once the request is handed to the socket (RequestOptions.wrote). */
  wrote: { value: boolean } | null
}

const DEFAULT_MAX_RESPONSE = 100 << 20

/**
 * SPLICE_MIN is the size from which a request's byte fields (the record batches of a Produce request)
 * are written to the socket from where they are instead of being copied into the request's frame:
 * smaller ones are cheaper to copy than to hand to the socket as chunks of their own.
 */
const SPLICE_MIN = 8 << 10

/**
 * READ_BUFFER_BYTES is the size of the buffer each connection reads into between frames; a response
 * larger than SMALL_FRAME_BYTES goes to a buffer of its own (FrameSpare), read straight into when the
 * response is not all in the read buffer.
 */
const READ_BUFFER_BYTES = 64 << 10
const SMALL_FRAME_BYTES = 16 << 10

/** FRAME_GRAIN rounds the buffers of large responses up, so that one can be read into again (FrameSpare). */
const FRAME_GRAIN = 16 << 10

/**
 * FrameSpare holds a connection's spare buffer for large responses. A consumer's fetch source (or a
 * share-group member's) hands a response's buffer back (recycleFrame) when nothing it gave the
 * application views it (decodeRecordBatches' `viewsInput`, with `copyUncompressed`).
 * The connection's next large response is then read into it instead of into new memory, which V8
 * would count as external memory and reclaim only in a full collection. It keeps one buffer: none
 * once a small response came (the consumer has caught up, and the memory goes back) or the
 * connection closed.
 */
class FrameSpare {
  #spare: ArrayBuffer | null = null
  #closed = false

  /**
   * take returns a buffer of `size` bytes for a response: the spare when it is large enough and not
   * more than twice too large, else a new one with an eighth (at most 1 MiB) to spare, as responses'
   * sizes vary.
   */
  take(size: number): Buffer {
    const spare = this.#spare
    this.#spare = null
    if (spare !== null && spare.byteLength >= size && spare.byteLength <= 2 * size + FRAME_GRAIN) return Buffer.from(spare, 0, size)
    const b = Buffer.allocUnsafeSlow(Math.ceil((size + Math.min(size >>> 3, 1 << 20)) / FRAME_GRAIN) * FRAME_GRAIN)
    spares.set(b.buffer as ArrayBuffer, this)
    return b.subarray(0, size)
  }

  give(ab: ArrayBuffer): void {
    if (!this.#closed) this.#spare = ab
  }

  /** drop lets the spare go, when a small response says large ones have stopped for now. */
  drop(): void {
    this.#spare = null
  }

  close(): void {
    this.#closed = true
    this.#spare = null
  }
}

/** spares maps the buffer of each large response read to the spare holder of its connection. */
const spares = new WeakMap<ArrayBuffer, FrameSpare>()

/**
 * recycleFrame hands the buffer of a response back to the connection that read it, for its next large
 * response. `view` is any view of that response, such as a partition's records in a fetch response;
 * the caller guarantees that nothing reachable views any part of the response any more, and hands each
 * response back once. Small responses, which are not read into buffers of their own, are left alone.
 */
export function recycleFrame(view: Uint8Array): void {
  const ab = view.buffer as ArrayBuffer
  spares.get(ab)?.give(ab)
}

/**
 * THROTTLE_AFTER_RESPONSE gives, per API key, the first version whose throttle time the broker applies
 * after answering (KIP-219); keys not listed do so from version 0. Below it, the broker delayed the
 * response itself and the client holds nothing back. The versions are the Kafka protocol's (franz-go's
 * kmsg `Throttle()` methods list the same).
 */
const THROTTLE_AFTER_RESPONSE: { readonly [key: number]: number } = {
  [ApiKey.Produce]: 6, [ApiKey.Fetch]: 8, [ApiKey.ListOffsets]: 3, [ApiKey.Metadata]: 6, [ApiKey.OffsetCommit]: 4,
  [ApiKey.OffsetFetch]: 4, [ApiKey.FindCoordinator]: 2, [ApiKey.JoinGroup]: 3, [ApiKey.Heartbeat]: 2, [ApiKey.LeaveGroup]: 2,
  [ApiKey.SyncGroup]: 2, [ApiKey.DescribeGroups]: 2, [ApiKey.ListGroups]: 2, [ApiKey.ApiVersions]: 2, [ApiKey.CreateTopics]: 3,
  [ApiKey.DeleteTopics]: 2, [ApiKey.DeleteRecords]: 1, [ApiKey.InitProducerId]: 1, [ApiKey.AddPartitionsToTxn]: 1,
  [ApiKey.AddOffsetsToTxn]: 1, [ApiKey.EndTxn]: 1, [ApiKey.TxnOffsetCommit]: 1, [ApiKey.DescribeAcls]: 1, [ApiKey.CreateAcls]: 1,
  [ApiKey.DeleteAcls]: 1, [ApiKey.DescribeConfigs]: 2, [ApiKey.AlterConfigs]: 1, [ApiKey.AlterReplicaLogDirs]: 1,
  [ApiKey.DescribeLogDirs]: 1, [ApiKey.CreatePartitions]: 1, [ApiKey.CreateDelegationToken]: 1,
  [ApiKey.RenewDelegationToken]: 1, [ApiKey.ExpireDelegationToken]: 1, [ApiKey.DescribeDelegationToken]: 1,
  [ApiKey.DeleteGroups]: 1,
}

/**
 * BrokerConnection is one TCP or TLS connection to one broker: size-prefixed framing, correlation ids,
 * pipelined requests answered in order, and for each request the highest version that both kafka-wire
 * and the broker support (learned from ApiVersions when the connection opens).
 */
export class BrokerConnection {
  readonly host: string
  readonly port: number
  readonly nodeId: number
  /** versions maps an API key to the [min, max] versions the broker supports. */
  versions: Map<number, [number, number]> = new Map()
  /** apiVersionsVersion is the ApiVersions version the broker accepted. */
  apiVersionsVersion = -1
  /**
   * features maps each feature the cluster has finalized (ApiVersions v3+, KIP-584) to its level, such
   * as `transaction.version` → 2 on a Kafka 4 cluster with KIP-890's second part enabled.
   */
  features: ReadonlyMap<string, number> = new Map()

  #socket: net.Socket
  #opts: BrokerConnectionOptions
  #clientId: string | null
  #writer = new Writer(4096)
  #correlationId = 0
  #queue: Pending[] = []
  #queueHead = 0
  #closed = false
  #closeError: Error | null = null
  #onClose: Array<(err: Error | null) => void> = []
  // Reading (see #readTarget): the response being read straight into its own buffer, and the bytes
  // of the read buffer not yet framed, from readStart to readEnd.
  #frame: Buffer | null = null
  #frameHave = 0
  #spare = new FrameSpare()
  #readBuf: Buffer
  #readStart = 0
  #readEnd = 0
  #readIntoFrame = false
  #bytesRead = 0
  #throttleUntil = 0
  #throttleTimer: NodeJS.Timeout | null = null
  #throttled: Array<() => void> = []
  #exclusive = false
  #held: Array<() => void> = []
  #drained: (() => void) | null = null
  /** out holds requests encoded and not yet handed to the socket, oldest first from outHead. */
  #out: Pending[] = []
  #outHead = 0
  #flushQueued = false
  /** blocked is set while the socket's buffer is full, until 'drain'. */
  #blocked = false
  #closedByPeer = false
  /** responses counts the responses read. */
  #responses = 0
  /** setupRequests and setupResponses are the counts once the connection was set up (ApiVersions). */
  #setupRequests = 0
  #setupResponses = 0

  private constructor(socket: net.Socket, reader: ReadTarget, opts: BrokerConnectionOptions) {
    this.#socket = socket
    this.#opts = opts
    this.host = opts.host
    this.port = opts.port
    this.nodeId = opts.nodeId ?? -1
    this.#clientId = opts.clientId === undefined ? 'kafka-wire' : opts.clientId
    if (opts.unref === true) socket.unref()
    this.#writer.spliceMin = SPLICE_MIN
    this.#readBuf = reader.buffer
    this.#readEnd = this.#bytesRead = reader.early
    reader.conn = this
    if (reader.early > 0) queueMicrotask(() => this.#frameReadBuffer())
    socket.on('drain', () => this.#onDrain())
    socket.on('error', (err) => {
      if (!this.#closed) this.#closedByPeer = true
      this.#fail(new BrokerConnectionError(`connection to ${this.#addr()} failed: ${err.message}`, { cause: err, broker: this.nodeId }))
    })
    socket.on('close', () => {
      if (!this.#closed) this.#closedByPeer = true
      this.#fail(new BrokerConnectionError(`connection to ${this.#addr()} closed`, { broker: this.nodeId }))
    })
  }

  /** connect dials a broker and negotiates API versions; it rejects with a typed error on failure. */
  static async connect(opts: BrokerConnectionOptions): Promise<BrokerConnection> {
    const timeout = opts.connectTimeout ?? 10_000
    // The socket reads into buffers the connection chooses (onread), so it is set up before dialing.
    // Until the connection exists (it does before any response can arrive), reads fill the read buffer.
    const reader: ReadTarget = { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), early: 0, conn: null }
    const socket = await dial(opts, timeout, {
      buffer: () => (reader.conn !== null ? reader.conn.#readTarget() : reader.buffer.subarray(reader.early)),
      callback: (n) => {
        if (reader.conn !== null) reader.conn.#onRead(n)
        else reader.early += n
        return true
      },
    })
    const conn = new BrokerConnection(socket, reader, opts)
    if (opts.skipApiVersions) return conn
    try {
      await conn.#negotiate(timeout)
    } catch (err) {
      conn.close()
      throw err
    }
    conn.#setupRequests = conn.#correlationId
    conn.#setupResponses = conn.#responses
    return conn
  }

  /** closed is true once the connection is closed or has failed. */
  get closed(): boolean {
    return this.#closed
  }

  /** closedByPeer is true when the broker (or the network) ended the connection, not this side. */
  get closedByPeer(): boolean {
    return this.#closedByPeer
  }

  /** requestsAfterSetup counts the requests sent after the ApiVersions exchange. */
  get requestsAfterSetup(): number {
    return this.#correlationId - this.#setupRequests
  }

  /** responsesAfterSetup counts the responses read after the ApiVersions exchange. */
  get responsesAfterSetup(): number {
    return this.#responses - this.#setupResponses
  }

  /** inflight is the number of requests written or queued and not yet answered. */
  /** lastActivity is when a request was last written or a response last read (Date.now()). */
  lastActivity = Date.now()

  get inflight(): number {
    return this.#queue.length - this.#queueHead
  }

  /** bytesRead counts the bytes read from the socket so far. */
  get bytesRead(): number {
    return this.#bytesRead
  }

  /**
   * socket is the underlying socket (for hooks that want it). The connection reads it into buffers of
   * its own (`onread`), so the socket emits no 'data' events, unless a `dialer` made it.
   */
  get socket(): net.Socket {
    return this.#socket
  }

  /** onClose registers a callback that runs once when the connection closes or fails. */
  onClose(fn: (err: Error | null) => void): void {
    if (this.#closed) queueMicrotask(() => fn(this.#closeError))
    else this.#onClose.push(fn)
  }

  /**
   * versionFor returns the highest version of `api` both sides support, or throws
   * UnsupportedVersionError. `want` forces a version, which must be in range.
   */
  versionFor(api: ApiMessage<any, any>, want?: number, maxVersion?: number): number {
    const broker = this.versions.get(api.key)
    let max = api.maxVersion
    let min = api.minVersion
    const cap = this.#opts.maxVersions?.get(api.key)
    if (cap !== undefined) max = Math.min(max, cap)
    if (maxVersion !== undefined) max = Math.min(max, maxVersion)
    if (broker !== undefined) {
      min = Math.max(min, broker[0])
      max = Math.min(max, broker[1])
    } else if (this.versions.size > 0) {
      throw new UnsupportedVersionError(`broker ${this.#addr()} does not support ${api.name} (key ${api.key})`, { broker: this.nodeId })
    }
    if (want !== undefined) {
      if (want < min || want > max) {
        throw new UnsupportedVersionError(`${api.name} v${want} is outside the versions both sides support (${min}..${max}) on ${this.#addr()}`, { broker: this.nodeId })
      }
      return want
    }
    if (max < min) {
      throw new UnsupportedVersionError(`no version of ${api.name} is supported by both kafka-wire (${api.minVersion}..${api.maxVersion}) and broker ${this.#addr()} (${broker?.[0]}..${broker?.[1]})`, { broker: this.nodeId })
    }
    return max
  }

  /**
   * request sends one request and resolves with its decoded response. Requests are pipelined: many
   * may be in flight, and Kafka answers them in order on one connection. `req` may be a function of
   * the negotiated version, for requests whose fields differ between versions. Byte fields of 8 KiB
   * or more (record batches) are written to the socket from where they are, not copied: they must not
   * change until the request has settled.
   */
  request<Req, Res>(api: ApiMessage<Req, Res>, req: Req | ((version: number) => Req), opts: RequestOptions = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      let version: number
      try {
        version = this.versionFor(api, opts.version, opts.maxVersion)
      } catch (err) {
        reject(err as Error)
        return
      }
      this.#send(api, version, req, opts, resolve, reject)
    })
  }

  // `created` is when the request was first handed to the connection; a request held back (exclusive
  // section, KIP-219 throttle) keeps it, so writeWait includes the time it was held.
  #send<Req, Res>(api: ApiMessage<Req, Res>, version: number, req: Req | ((version: number) => Req), opts: RequestOptions, resolve: (v: Res) => void, reject: (e: Error) => void, created = -1): void {
    if (this.#closed) {
      reject(this.#closeError ?? new BrokerConnectionError(`connection to ${this.#addr()} is closed`, { broker: this.nodeId }))
      return
    }
    if (opts.signal?.aborted) {
      reject(new AbortError(opts.signal.reason))
      return
    }
    const observed = this.#opts.observer !== undefined
    if (observed && created < 0) created = performance.now()
    if (this.#exclusive && !opts.exclusive) {
      this.#hold(this.#held, () => this.#send(api, version, req, opts, resolve, reject, created), opts.signal, reject)
      return
    }
    // KIP-219: after a throttled response the client holds its next write until the throttle ends.
    if (this.#throttleUntil > Date.now()) {
      this.#hold(this.#throttled, () => this.#send(api, version, req, opts, resolve, reject, created), opts.signal, reject)
      this.#armThrottleTimer()
      return
    }
    const correlationId = this.#correlationId
    this.#correlationId = (this.#correlationId + 1) | 0
    const w = this.#writer.reset()
    const sizeAt = w.reserve(4)
    const headerVersion = api.requestHeaderVersion(version)
    w.int16(api.key)
    w.int16(version)
    w.int32(correlationId)
    if (headerVersion >= 1) w.string(this.#clientId)
    if (headerVersion >= 2) w.uvarint(0) // no tagged fields in the request header
    let body: Req
    try {
      // A builder gets the negotiated version, for requests whose fields differ between versions.
      body = typeof req === 'function' ? (req as (v: number) => Req)(version) : req
      api.encodeRequest(w, version, body)
    } catch (err) {
      reject(err as Error)
      return
    }
    const size = w.length
    w.patchInt32(sizeAt, size - 4)
    // The writer is reused for the next request, so the socket gets a copy of its bytes; byte fields
    // spliced in by reference (record batches) go out from where they are, between those bytes.
    let frame: Buffer | null = null
    let chunks: Uint8Array[] | null = null
    if (w.spliceCount === 0) frame = w.finishCopy()
    else chunks = w.finishChunks(true)
    const expectResponse = !opts.noResponse
    const p: Pending = {
      correlationId,
      key: api.key,
      version,
      headerVersion: api.responseHeaderVersion(version),
      decode: expectResponse ? (api.decodeResponse as (r: Reader, v: number) => unknown) : null,
      resolve,
      reject,
      timer: null,
      signal: opts.signal,
      onAbort: null,
      created,
      writeStart: 0,
      writeEnd: 0,
      readStart: 0,
      bytesWritten: size,
      frame,
      chunks,
      expectResponse,
      abandoned: false,
      failure: null,
      wrote: opts.wrote ?? null,
    }
    if (expectResponse) {
      this.#queue.push(p)
      const timeout = opts.timeout ?? (this.#opts.requestTimeout ?? 30_000) + ownTimeout(body)
      // A bound past Node's longest timer is no bound (a timer that long would fire at once).
      if (timeout > 0 && timeout <= MAX_TIMER_MS) {
        p.timer = setTimeout(() => this.#timeout(p, timeout), timeout)
        if (this.#opts.unref === true) p.timer.unref()
      }
      if (opts.signal) {
        p.onAbort = () => {
          // The response will still arrive in order; we drop it then and reject now.
          if (p.abandoned) return
          p.abandoned = true
          this.#settle(p)
          reject(new AbortError(opts.signal!.reason))
        }
        opts.signal.addEventListener('abort', p.onAbort, { once: true })
      }
    }
    this.#out.push(p)
    if (!this.#flushQueued && !this.#blocked) {
      if (opts.flush === true) this.#flushOut()
      else {
        this.#flushQueued = true
        queueMicrotask(this.#flushOut)
      }
    }
  }

  /**
   * #flushOut writes the queued requests: every request sent in one turn of the event loop goes out
   * corked, as one burst of writes, and once the socket's buffer is full (`write` returns false) the
   * rest wait for 'drain'. So a broker that reads slowly holds requests in this queue, bounded by what
   * the callers have in flight, instead of in an ever-growing socket buffer.
   */
  #flushOut = (): void => {
    this.#flushQueued = false
    if (this.#closed || this.#blocked) return
    const socket = this.#socket
    const out = this.#out
    const observed = this.#opts.observer !== undefined
    socket.cork()
    while (this.#outHead < out.length) {
      const p = out[this.#outHead]!
      out[this.#outHead++] = undefined as unknown as Pending
      if (observed) p.writeStart = performance.now()
      if (p.wrote !== null) p.wrote.value = true
      const done = (err?: Error | null) => this.#written(p, err ?? null)
      let room: boolean
      const chunks = p.chunks
      if (chunks === null) {
        const frame = p.frame!
        p.frame = null
        room = socket.write(frame, done)
      } else {
        // One request's chunks go out together, whatever the socket's buffer says in between.
        p.chunks = null
        const last = chunks.length - 1
        for (let i = 0; i < last; i++) socket.write(chunks[i]!)
        room = socket.write(chunks[last]!, done)
      }
      if (!room) {
        this.#blocked = true
        break
      }
    }
    socket.uncork()
    this.lastActivity = Date.now()
    if (this.#outHead === out.length) {
      this.#out = []
      this.#outHead = 0
    }
  }

  #onDrain(): void {
    this.#blocked = false
    this.#flushOut()
  }

  /** #written runs when the socket has written (or failed to write) a request. */
  #written(p: Pending, err: Error | null): void {
    const obs = this.#opts.observer
    if (obs !== undefined) {
      p.writeEnd = performance.now()
      obs.onWrite?.(p.key, err ? 0 : p.bytesWritten, p.writeStart - p.created, p.writeEnd - p.writeStart, err)
      // The connection died before this write completed: no response will come, so the read is
      // reported failed here (#fail left this request to us).
      const readErr = err === null && p.expectResponse ? p.failure : null
      if (readErr !== null) obs.onRead?.(p.key, 0, 0, 0, readErr)
      if (err || !p.expectResponse || readErr !== null) this.#reportE2E(p, 0, 0, 0, err, readErr)
    }
    if (!p.expectResponse) {
      if (err) p.reject(new BrokerConnectionError(`write to ${this.#addr()} failed: ${err.message}`, { cause: err, broker: this.nodeId }))
      else p.resolve(undefined)
    }
  }

  /** #reportE2E tells the observer about one request's write and read (franz-go's BrokerE2E). */
  #reportE2E(p: Pending, bytesRead: number, readWait: number, timeToRead: number, writeErr: Error | null, readErr: Error | null): void {
    const e2e = new BrokerE2E()
    e2e.bytesWritten = writeErr ? 0 : p.bytesWritten
    e2e.bytesRead = bytesRead
    e2e.writeWait = p.writeStart - p.created
    e2e.timeToWrite = p.writeEnd - p.writeStart
    e2e.readWait = readWait
    e2e.timeToRead = timeToRead
    e2e.writeErr = writeErr
    e2e.readErr = readErr
    this.#opts.observer!.onE2E?.(p.key, e2e)
  }

  /**
   * #hold queues a request until a throttle or an exclusive section ends. Its AbortSignal works while
   * it waits: an abort rejects it at once, and its place in the queue becomes a no-op. (Without this,
   * a request aborted during a long throttle would only be rejected when the throttle ended.)
   */
  #hold(queue: Array<() => void>, send: () => void, signal: AbortSignal | undefined, reject: (e: Error) => void): void {
    if (signal === undefined) {
      queue.push(send)
      return
    }
    let waiting = true
    const onAbort = () => {
      if (!waiting) return
      waiting = false
      reject(new AbortError(signal.reason))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    queue.push(() => {
      signal.removeEventListener('abort', onAbort)
      if (!waiting) return
      waiting = false
      send()
    })
  }

  #settle(p: Pending): void {
    if (p.timer !== null) {
      clearTimeout(p.timer)
      p.timer = null
    }
    if (p.onAbort !== null && p.signal !== undefined) {
      p.signal.removeEventListener('abort', p.onAbort)
      p.onAbort = null
    }
  }

  #timeout(p: Pending, ms: number): void {
    p.timer = null
    if (p.abandoned) return
    // Responses arrive in order: a request that timed out leaves the stream unusable for the ones
    // behind it, so the connection is closed (franz-go does the same) and they fail as retriable.
    this.#fail(new RequestTimeoutError(`request key ${p.key} v${p.version} to ${this.#addr()} timed out after ${ms} ms`, { broker: this.nodeId }))
  }

  #armThrottleTimer(): void {
    if (this.#throttleTimer !== null) return
    const wait = Math.max(0, this.#throttleUntil - Date.now())
    this.#throttleTimer = setTimeout(() => {
      this.#throttleTimer = null
      const waiting = this.#throttled
      this.#throttled = []
      for (const fn of waiting) fn()
    }, wait)
    if (this.#opts.unref === true) this.#throttleTimer.unref()
  }

  /**
   * readTarget gives the socket the buffer its next read goes into (onread's buffer function, called
   * after each read): the rest of a large response being read straight into its own buffer, or the
   * connection's read buffer, whose unframed bytes first move to its start. So a large response (a
   * fetch) is read without being copied, and small ones, copied out of the read buffer, cost no
   * allocation per read.
   */
  #readTarget(): Uint8Array {
    const f = this.#frame
    if (f !== null) {
      this.#readIntoFrame = true
      return f.subarray(this.#frameHave)
    }
    this.#readIntoFrame = false
    const start = this.#readStart
    if (start > 0) {
      if (start < this.#readEnd) this.#readBuf.copyWithin(0, start, this.#readEnd)
      this.#readEnd -= start
      this.#readStart = 0
    }
    // Unframed bytes are a size prefix or a small response (SMALL_FRAME_BYTES), so room is left.
    return this.#readBuf.subarray(this.#readEnd)
  }

  /** onRead takes `n` bytes just read into the target #readTarget gave. */
  #onRead(n: number): void {
    this.#bytesRead += n
    if (this.#closed) return
    if (this.#readIntoFrame) {
      this.#frameHave += n
      const f = this.#frame!
      if (this.#frameHave === f.length) {
        this.#frame = null
        this.#onFrame(f)
      }
      return
    }
    this.#readEnd += n
    this.#frameReadBuffer()
  }

  /**
   * frameReadBuffer hands out every whole response in the read buffer (each copied into a buffer of
   * its own, since the read buffer is reused and decoded records are views of their response). A
   * response cut short stays there while it is small; a larger one moves to a buffer of its full size,
   * which the following reads fill directly.
   */
  #frameReadBuffer(): void {
    const b = this.#readBuf
    while (!this.#closed) {
      const start = this.#readStart
      const avail = this.#readEnd - start
      if (avail < 4) break
      const size = b.readInt32BE(start)
      if (!this.#checkSize(size)) return
      this.#markReadStart()
      if (avail - 4 >= size) {
        let f: Buffer
        if (size > SMALL_FRAME_BYTES) f = this.#spare.take(size)
        else {
          f = Buffer.allocUnsafe(size)
          this.#spare.drop()
        }
        b.copy(f, 0, start + 4, start + 4 + size)
        this.#readStart = start + 4 + size
        this.#onFrame(f)
        continue
      }
      if (size <= SMALL_FRAME_BYTES) break
      const f = this.#spare.take(size)
      b.copy(f, 0, start + 4, this.#readEnd)
      this.#frame = f
      this.#frameHave = avail - 4
      this.#readStart = this.#readEnd = 0
      break
    }
    if (this.#readStart === this.#readEnd) this.#readStart = this.#readEnd = 0
  }

  #markReadStart(): void {
    if (this.#opts.observer === undefined) return
    const p = this.#queue[this.#queueHead]
    if (p !== undefined && p.readStart === 0) p.readStart = performance.now()
  }

  #checkSize(size: number): boolean {
    const max = this.#opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE
    if (size < 4) {
      this.#fail(new BrokerConnectionError(`broker ${this.#addr()} sent an invalid response size ${size}`, { broker: this.nodeId }))
      return false
    }
    if (size > max) {
      this.#fail(new ResponseTooLargeError(`broker ${this.#addr()} announced a ${size}-byte response, over the ${max}-byte limit (maxResponseBytes); the connection is closed`, { broker: this.nodeId }))
      return false
    }
    return true
  }

  #onFrame(frame: Buffer): void {
    this.lastActivity = Date.now()
    const p = this.#queue[this.#queueHead]
    if (p === undefined) {
      this.#fail(new BrokerConnectionError(`broker ${this.#addr()} sent a response nobody asked for`, { broker: this.nodeId }))
      return
    }
    const correlationId = frame.readInt32BE(0)
    if (correlationId !== p.correlationId) {
      this.#fail(new BrokerConnectionError(`broker ${this.#addr()} answered correlation id ${correlationId}, expected ${p.correlationId}`, { broker: this.nodeId }))
      return
    }
    this.#queue[this.#queueHead++] = undefined as unknown as Pending
    this.#responses++
    if (this.#queueHead > 64 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead)
      this.#queueHead = 0
    }
    this.#settle(p)
    const obs = this.#opts.observer
    let readEnd = 0
    if (obs !== undefined) {
      readEnd = performance.now()
      if (p.readStart === 0) p.readStart = readEnd
    }
    let result: unknown
    let error: Error | null = null
    // KIP-511: a broker that does not know the ApiVersions version we sent answers UNSUPPORTED_VERSION
    // in the v0 body format, whatever version was asked, so that body is read as v0 (as Java's
    // ApiVersionsResponse.parse and franz-go do). ApiVersions responses always have a v0 header.
    const version = p.key === ApiVersions.key && frame.length >= 6 && frame.readInt16BE(4) === ErrorCode.UNSUPPORTED_VERSION ? 0 : p.version
    try {
      const r = new Reader(frame, 4)
      if (p.headerVersion >= 1) r.skipTaggedFields()
      result = p.decode!(r, version)
      r.complete(`response key ${p.key} v${version}`)
    } catch (err) {
      error = err as Error
    }
    if (obs !== undefined) {
      obs.onRead?.(p.key, frame.length + 4, p.readStart - p.writeEnd, readEnd - p.readStart, error)
      this.#reportE2E(p, frame.length + 4, p.readStart - p.writeEnd, readEnd - p.readStart, null, error)
    }
    if (error === null) this.#noteThrottle(p, result)
    if (this.#drained !== null && this.inflight === 0) this.#drained()
    if (p.abandoned) return
    if (error !== null) p.reject(error)
    else p.resolve(result)
  }

  #noteThrottle(p: Pending, result: unknown): void {
    const ms = (result as { throttleTimeMs?: unknown }).throttleTimeMs
    if (typeof ms !== 'number' || ms <= 0) return
    // KIP-219 (Kafka 2.0): from these versions on, brokers answer first and expect the client to
    // wait before its next request; older versions were delayed by the broker itself.
    const afterResponse = p.version >= (THROTTLE_AFTER_RESPONSE[p.key] ?? 0)
    if (afterResponse) {
      const until = Date.now() + ms
      if (until > this.#throttleUntil) this.#throttleUntil = until
    }
    this.#opts.observer?.onThrottle?.(ms, afterResponse)
  }

  #fail(err: Error): void {
    if (this.#closed) return
    this.#closed = true
    this.#closeError = err
    this.#spare.close()
    this.#socket.destroy()
    if (this.#throttleTimer !== null) clearTimeout(this.#throttleTimer)
    const pending = this.#queue.slice(this.#queueHead)
    this.#queue = []
    this.#queueHead = 0
    const unwritten = this.#out.slice(this.#outHead)
    this.#out = []
    this.#outHead = 0
    const obs = this.#opts.observer
    const now = obs !== undefined ? performance.now() : 0
    // Requests never handed to the socket failed to write.
    for (const p of unwritten) {
      p.frame = null
      p.chunks = null
      if (obs !== undefined) {
        p.writeStart = p.writeEnd = now
        obs.onWrite?.(p.key, 0, now - p.created, 0, err)
        this.#reportE2E(p, 0, 0, 0, err, null)
      }
      if (!p.expectResponse) p.reject(err)
    }
    for (const p of pending) {
      this.#settle(p)
      if (obs !== undefined && !unwritten.includes(p)) {
        if (p.writeEnd !== 0) {
          // The response will never be read: the read fails, as franz-go reports it (read and E2E).
          const readWait = now - p.writeEnd
          obs.onRead?.(p.key, 0, readWait, 0, err)
          this.#reportE2E(p, 0, readWait, 0, null, err)
        } else p.failure = err
      }
      if (!p.abandoned) p.reject(err)
    }
    // Requests held back by a throttle or an exclusive section fail the same way when they try to send.
    const waiting = this.#throttled.concat(this.#held)
    this.#throttled = []
    this.#held = []
    this.#exclusive = false
    for (const fn of waiting) fn()
    const cbs = this.#onClose
    this.#onClose = []
    for (const fn of cbs) fn(err)
  }

  /**
   * exclusive runs `fn` alone on the connection: new requests are held, requests in flight are
   * answered first, then `fn` runs (its requests pass `exclusive: true`), then held requests go out.
   * KIP-368 re-authentication needs this: no other request may be in flight while it runs.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#exclusive) throw new Error('exclusive() does not nest')
    this.#exclusive = true
    try {
      if (this.inflight > 0 && !this.#closed) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve
          this.onClose(() => resolve())
        })
        this.#drained = null
      }
      return await fn()
    } finally {
      this.#exclusive = false
      const held = this.#held
      this.#held = []
      for (const send of held) send()
    }
  }

  /** close closes the connection; requests in flight fail with a retriable BrokerConnectionError. */
  close(): void {
    this.#fail(new BrokerConnectionError(`connection to ${this.#addr()} was closed by the client`, { broker: this.nodeId }))
  }

  #addr(): string {
    return `${this.host}:${this.port}${this.nodeId >= 0 ? ` (node ${this.nodeId})` : ''}`
  }

  async #negotiate(timeout: number): Promise<void> {
    // Start at our newest ApiVersions. A broker that does not know it answers UNSUPPORTED_VERSION in a
    // v0 response listing what it supports (KIP-511), and we retry with the newest it knows.
    let version = ApiVersions.maxVersion
    for (let attempt = 0; attempt < 3; attempt++) {
      const req = ApiVersions.newRequest()
      req.clientSoftwareName = this.#opts.softwareName ?? NAME
      req.clientSoftwareVersion = this.#opts.softwareVersion ?? VERSION
      const res = await this.request(ApiVersions, req, { version, timeout, signal: this.#opts.signal })
      if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        const own = res.apiKeys.find((k) => k.apiKey === ApiVersions.key)
        const next = own ? Math.min(own.maxVersion, ApiVersions.maxVersion) : 0
        if (next >= version) break
        version = next
        continue
      }
      if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { broker: this.nodeId })
      this.versions = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion] as [number, number]]))
      this.apiVersionsVersion = version
      this.features = new Map(res.finalizedFeatures.map((f) => [f.name, f.maxVersionLevel]))
      return
    }
    throw new UnsupportedVersionError(`broker ${this.#addr()} accepts no ApiVersions version kafka-wire knows`, { broker: this.nodeId })
  }
}

/**
 * ReadTarget is what the socket's onread functions reach: the connection's read buffer, and the
 * connection once it exists (bytes read before, `early`, wait at the start of the buffer).
 */
interface ReadTarget {
  buffer: Buffer
  early: number
  conn: BrokerConnection | null
}

/** loadTls loads node:tls when a connection first needs it: a client that never dials TLS does not pay its memory. */
function loadTls(): typeof tls {
  return process.getBuiltinModule('node:tls')
}

/**
 * ownTimeout is the timeout a request body carries for the broker's side of the work (`timeoutMs`:
 * CreateTopics, DeleteRecords, Produce and others), 0 for a body without one: the broker may take
 * that long before it answers.
 */
function ownTimeout(body: unknown): number {
  const t = (body as { timeoutMs?: unknown } | null)?.timeoutMs
  return typeof t === 'number' && t > 0 ? t : 0
}

/** OnRead is net.connect's `onread` option: the socket reads into the buffers `buffer` returns. */
interface OnRead {
  buffer: () => Uint8Array
  callback: (n: number, buf: Uint8Array) => boolean
}

function dial(opts: BrokerConnectionOptions, timeout: number, onread: OnRead): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const signal = opts.signal
    if (signal?.aborted) {
      reject(new AbortError(signal.reason))
      return
    }
    const addr = `${opts.host}:${opts.port}`
    const useTls = opts.tls !== undefined && opts.tls !== false
    const tlsOpts = typeof opts.tls === 'object' ? opts.tls : {}
    const servername = net.isIP(opts.host) ? undefined : opts.host
    let socket: net.Socket | null = null
    let done = false
    // A dialer is told to give up through its own signal, which aborts on the timeout too.
    const dialAbort = opts.dialer !== undefined ? new AbortController() : null
    const finish = (err: Error | null) => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket?.off('error', onError)
      if (err) {
        dialAbort?.abort(err)
        socket?.destroy()
        reject(err)
      } else resolve(socket!)
    }
    const onError = (err: Error) => finish(new BrokerConnectionError(`cannot connect to ${addr}: ${err.message}`, { cause: err, broker: opts.nodeId }))
    const onAbort = () => finish(new AbortError(signal!.reason))
    const timer = setTimeout(() => finish(new BrokerConnectionError(`connecting to ${addr} timed out after ${timeout} ms`, { broker: opts.nodeId })), Math.min(timeout, MAX_TIMER_MS))
    if (opts.unref === true) timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
    // watch waits for the socket to be ready: connected, and with TLS, past the handshake.
    const watch = (s: net.Socket, event: 'connect' | 'secureConnect' | null) => {
      socket = s
      s.setNoDelay(true)
      if (opts.unref === true) s.unref()
      s.once('error', onError)
      if (event === null) finish(null)
      else s.once(event, () => finish(null))
    }
    if (opts.dialer === undefined) {
      if (useTls) watch(loadTls().connect({ host: opts.host, port: opts.port, servername, ...tlsOpts, onread } as tls.ConnectionOptions), 'secureConnect')
      else watch(net.connect({ host: opts.host, port: opts.port, onread }), 'connect')
      return
    }
    let made: net.Socket | Promise<net.Socket>
    try {
      made = opts.dialer({ host: opts.host, port: opts.port, nodeId: opts.nodeId ?? -1, signal: dialAbort!.signal })
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)))
      return
    }
    Promise.resolve(made).then(
      (raw) => {
        if (!(raw instanceof net.Socket)) {
          finish(new BrokerConnectionError(`the dialer for ${addr} gave ${raw === null ? 'null' : typeof raw}, not a net.Socket`, { broker: opts.nodeId }))
          return
        }
        if (done || raw.destroyed) {
          raw.destroy()
          if (!done) finish(new BrokerConnectionError(`the dialer for ${addr} gave a closed socket`, { broker: opts.nodeId }))
          return
        }
        // A socket made elsewhere (or TLS over one: tls.connect takes `onread` only for a socket of its
        // own) reads in 'data' chunks, copied into the buffers the connection gives, as a read into
        // them would have been.
        let s = raw
        if (useTls) {
          raw.on('error', onError)
          s = loadTls().connect({ socket: raw, servername, ...tlsOpts } as tls.ConnectionOptions)
        }
        s.on('data', (chunk: Buffer) => feed(onread, chunk, s))
        watch(s, useTls ? 'secureConnect' : raw.connecting ? 'connect' : null)
      },
      (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))),
    )
  })
}

/** feed hands `chunk` to onread's functions, in as many pieces as the buffers they give need. */
function feed(onread: OnRead, chunk: Buffer, socket: net.Socket): void {
  let off = 0
  while (off < chunk.length) {
    const target = onread.buffer()
    const n = Math.min(target.length, chunk.length - off)
    if (n === 0) {
      // The connection always leaves room (see readTarget); if it ever did not, fail rather than spin.
      socket.destroy(new Error('no room left to read the response into'))
      return
    }
    target.set(chunk.subarray(off, off + n))
    off += n
    onread.callback(n, target)
  }
}
