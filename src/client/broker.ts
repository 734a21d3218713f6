import { performance } from 'node:perf_hooks'
import type { Socket } from 'node:net'
import { isSeedNode, type BrokerMetadata } from '../hooks/index.js'
import type { ConnectionKind } from './types.js'
import type { ApiMessage } from '../protocol/messages/api.js'
import { BrokerConnection, type ConnectionObserver, type RequestOptions } from './connection.js'
import type { Config } from './options.js'
import { authenticate, mechanismFrom, reauthDelay, type Mechanism } from './sasl/index.js'
import { BrokerConnectionError, SaslAuthenticationError } from './errors.js'

/** BrokerEvents is how the cluster reports connection events to the client's hooks. */
export interface BrokerEvents {
  connect(meta: BrokerMetadata, initDuration: number, socket: Socket | null, err: Error | null): void
  disconnect(meta: BrokerMetadata, socket: Socket): void
  /** observer returns the write/read/E2E/throttle observer for a broker, or undefined when no hook listens. */
  observer(meta: BrokerMetadata): ConnectionObserver | undefined
  log(level: 'error' | 'warn' | 'info' | 'debug', msg: string, ...keyvals: unknown[]): void
  /**
   * hold and release keep the event loop open while a request other than a fetch or a background one
   * is pending (a fetch is background work: the consumer holds while a poll waits; a metadata load is
   * held by the cache while someone awaits it), so a caller awaiting any request, an Admin call say, is
   * never left with a promise the process abandoned.
   */
  hold?(): void
  release?(): void
}

/** Dialed is one connection of a kind: the dial in progress, then the connection once it is up. */
interface Dialed {
  promise: Promise<BrokerConnection>
  conn: BrokerConnection | null
}

/**
 * Broker is one node of the cluster as the client sees it: its address and its connections, one
 * per ConnectionKind, opened lazily, authenticated with SASL when configured, and re-authenticated
 * before the broker's session lifetime runs out (KIP-368).
 */
export class Broker {
  meta: BrokerMetadata
  #cfg: Config
  #events: BrokerEvents
  #mechanism: Mechanism | null
  #conns = new Map<ConnectionKind, Dialed>()
  #live = new Set<BrokerConnection>()
  #closed = false
  /** failures counts consecutive failed dials, for backoff between attempts. */
  #failures = 0
  #nextDialAt = 0
  #idleTimer: NodeJS.Timeout | null = null
  /**
   * cutAfterFirstRequest counts connections in a row that the broker closed right after the first
   * request following ApiVersions, unanswered: what a SASL listener does to a client that does not
   * authenticate. After two, the next dial fails at once with a SaslAuthenticationError instead of
   * reconnecting again and again (franz-go's "is SASL missing?" diagnosis).
   */
  #cutAfterFirstRequest = 0
  #suspectUntil = 0

  constructor(meta: BrokerMetadata, cfg: Config, events: BrokerEvents) {
    this.meta = meta
    this.#cfg = cfg
    this.#events = events
    this.#mechanism = cfg.sasl === null ? null : mechanismFrom(cfg.sasl)
  }

  /**
   * connection returns the open connection of a kind, dialing it first if needed. A caller waits for
   * the dial, so the client holds the event loop meanwhile: a program awaiting it (an Admin call
   * learning a version) does not end with its promise unsettled.
   */
  connection(kind: ConnectionKind, signal?: AbortSignal): Promise<BrokerConnection> {
    const p = this.#connection(kind, signal)
    const open = this.#conns.get(kind)?.conn
    if ((open != null && !open.closed) || this.#events.hold === undefined) return p
    this.#events.hold()
    return p.finally(() => this.#events.release?.())
  }

  /** #connection is connection() without the hold: for background work (fetches) and held requests. */
  #connection(kind: ConnectionKind, signal?: AbortSignal): Promise<BrokerConnection> {
    if (this.#closed) return Promise.reject(new BrokerConnectionError(`broker ${this.#name()} is closed`, { broker: this.meta.nodeId }))
    let d = this.#conns.get(kind)
    if (d === undefined) {
      const entry = { conn: null } as Dialed
      entry.promise = this.#dial(kind, entry, signal)
      entry.promise.catch(() => {
        if (this.#conns.get(kind) === entry) this.#conns.delete(kind)
      })
      this.#conns.set(kind, (d = entry))
    }
    return d.promise
  }

  /**
   * request sends one request on the connection of the given kind; unless it is a fetch or marked
   * `background`, the client holds the event loop open until it is answered.
   */
  request<Req, Res>(api: ApiMessage<Req, Res>, req: Req | ((version: number) => Req), opts: RequestOptions & { kind?: ConnectionKind; background?: boolean } = {}): Promise<Res> {
    const kind = opts.kind ?? 'other'
    if (kind === 'fetch' || opts.background === true || this.#events.hold === undefined) {
      // An open connection takes the request now, not a turn later (the consumer's fetch is paced by it).
      const open = this.#conns.get(kind)?.conn
      if (open != null && !open.closed) return open.request(api, req, opts)
      return this.#connection(kind, opts.signal).then((conn) => conn.request(api, req, opts))
    }
    return this.#heldRequest(kind, api, req, opts)
  }

  async #heldRequest<Req, Res>(kind: ConnectionKind, api: ApiMessage<Req, Res>, req: Req | ((version: number) => Req), opts: RequestOptions): Promise<Res> {
    this.#events.hold!()
    try {
      const conn = await this.#connection(kind, opts.signal)
      return await conn.request(api, req, opts)
    } finally {
      this.#events.release?.()
    }
  }

  async #dial(kind: ConnectionKind, entry: Dialed, signal?: AbortSignal): Promise<BrokerConnection> {
    // After failed dials, wait before the next one so a down broker is not hammered.
    const wait = this.#nextDialAt - Date.now()
    if (wait > 0) await delay(wait, signal, true)
    const start = performance.now()
    if (this.#mechanism === null && this.#cutAfterFirstRequest >= 2) {
      // Dials fail at once for a while (SASL_SUSPECT_MS), then one real dial looks again: a broker
      // that answers it clears the suspicion, one that cuts it off starts another while.
      if (this.#suspectUntil === 0) this.#suspectUntil = Date.now() + SASL_SUSPECT_MS
      if (Date.now() < this.#suspectUntil) {
        const err = new SaslAuthenticationError(
          `broker ${this.#name()} closed the connection right after the first request, twice in a row, without answering: its listener most likely requires SASL authentication, and this client has no sasl option`,
          { broker: this.meta.nodeId },
        )
        this.#failures++
        this.#nextDialAt = Date.now() + this.#cfg.retryBackoff(this.#failures)
        this.#events.connect(this.meta, 0, null, err)
        throw err
      }
      this.#suspectUntil = 0
    }
    let conn: BrokerConnection | null = null
    try {
      conn = await BrokerConnection.connect({
        host: this.meta.host,
        port: this.meta.port,
        nodeId: this.meta.nodeId,
        clientId: this.#cfg.clientId,
        tls: this.#cfg.tls,
        dialer: this.#cfg.dialer ?? undefined,
        connectTimeout: this.#cfg.dialTimeout,
        requestTimeout: this.#cfg.requestTimeoutOverhead,
        maxResponseBytes: this.#cfg.brokerMaxReadBytes,
        maxVersions: this.#cfg.maxVersions,
        observer: this.#events.observer(this.meta),
        signal,
        // The client holds the event loop open while records or requests are pending (ClientCore.hold),
        // and only then: an idle connection does not keep the process alive.
        unref: true,
      })
      if (this.#mechanism !== null) {
        const { sessionLifetimeMs } = await authenticate(conn, this.#mechanism, { host: this.meta.host, timeout: this.#cfg.dialTimeout })
        if (sessionLifetimeMs > 0) this.#scheduleReauth(conn, sessionLifetimeMs)
      }
    } catch (err) {
      conn?.close()
      this.#failures++
      this.#nextDialAt = Date.now() + this.#cfg.retryBackoff(this.#failures)
      this.#events.connect(this.meta, performance.now() - start, null, err as Error)
      throw err
    }
    this.#failures = 0
    this.#nextDialAt = 0
    this.#events.connect(this.meta, performance.now() - start, conn.socket, null)
    if (this.#closed) {
      // Every connection that was reported connected is reported disconnected once.
      this.#events.disconnect(this.meta, conn.socket)
      conn.close()
      throw new BrokerConnectionError(`broker ${this.#name()} is closed`, { broker: this.meta.nodeId })
    }
    this.#live.add(conn)
    entry.conn = conn
    this.#armIdle()
    const c = conn
    const socket = conn.socket
    conn.onClose((err) => {
      this.#live.delete(c)
      // Only forget the connection if it is still the one registered for its kind.
      if (this.#conns.get(kind) === entry) this.#conns.delete(kind)
      this.#events.disconnect(this.meta, socket)
      if (this.#mechanism === null && !this.#closed) {
        // ApiVersions answered, the next request cut off unanswered by the broker (see cutAfterFirstRequest).
        if (c.closedByPeer && c.responsesAfterSetup === 0 && c.requestsAfterSetup > 0) this.#cutAfterFirstRequest++
        else if (c.responsesAfterSetup > 0) this.#cutAfterFirstRequest = 0
      }
      if (err && !this.#closed) this.#events.log('debug', 'connection closed', 'broker', this.#name(), 'kind', kind, 'err', err.message)
    })
    return conn
  }

  #scheduleReauth(conn: BrokerConnection, lifetimeMs: number): void {
    const timer = setTimeout(() => {
      if (conn.closed || this.#closed) return
      conn.exclusive(async () => {
        const start = performance.now()
        try {
          const { sessionLifetimeMs } = await authenticate(conn, this.#mechanism!, { host: this.meta.host, timeout: this.#cfg.dialTimeout, exclusive: true })
          this.#events.log('debug', 'reauthenticated', 'broker', this.#name(), 'ms', performance.now() - start)
          if (sessionLifetimeMs > 0) this.#scheduleReauth(conn, sessionLifetimeMs)
        } catch (err) {
          this.#events.log('warn', 'reauthentication failed; closing the connection', 'broker', this.#name(), 'err', (err as Error).message)
          conn.close()
        }
      })
    }, reauthDelay(lifetimeMs))
    timer.unref()
    conn.onClose(() => clearTimeout(timer))
  }

  /**
   * armIdle closes connections with nothing in flight and no traffic for `connIdleTimeout` ms
   * (franz-go's ConnIdleTimeout); they reopen on the next request. The timer never keeps the
   * process alive.
   */
  #armIdle(): void {
    const idle = this.#cfg.connIdleTimeout
    if (idle <= 0 || this.#idleTimer !== null) return
    this.#idleTimer = setInterval(() => {
      const now = Date.now()
      for (const c of this.#live) {
        if (c.inflight === 0 && now - c.lastActivity >= idle) {
          this.#events.log('debug', 'closing an idle connection', 'broker', this.#name())
          c.close() // its onClose handler forgets it, so the next request dials again
        }
      }
      if (this.#live.size === 0 && this.#idleTimer !== null) {
        clearInterval(this.#idleTimer)
        this.#idleTimer = null
      }
    }, Math.max(100, Math.floor(idle / 2)))
    this.#idleTimer.unref()
  }

  /** closeConnections closes every connection (they reopen on the next request). */
  closeConnections(): void {
    this.#conns.clear()
    for (const c of this.#live) c.close()
  }

  /** close closes every connection and refuses new ones. */
  close(): void {
    this.#closed = true
    if (this.#idleTimer !== null) clearInterval(this.#idleTimer)
    this.#idleTimer = null
    this.closeConnections()
  }

  #name(): string {
    return isSeedNode(this.meta.nodeId) ? `seed ${this.meta.host}:${this.meta.port}` : `${this.meta.nodeId} (${this.meta.host}:${this.meta.port})`
  }
}

/** SASL_SUSPECT_MS is how long dials fail at once after a broker cut two connections off as a SASL listener does. */
const SASL_SUSPECT_MS = 5_000

/**
 * delay waits `ms`, rejecting early if the signal aborts. `unref` waits without keeping the process
 * alive: for the client's background work, whose callers hold the event loop themselves when
 * something is pending (ClientCore.hold).
 */
export function delay(ms: number, signal?: AbortSignal, unref = false): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    if (unref) t.unref()
    const onAbort = () => {
      clearTimeout(t)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
