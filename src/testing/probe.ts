import { connect, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { setTimeout as delay } from 'node:timers/promises'

/** HostPort is one listener address. */
export interface HostPort {
  host: string
  port: number
}

/** parseHostPort splits `host:port` (and `[v6]:port`), rejecting anything without a numeric port. */
export function parseHostPort(address: string): HostPort {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim())
  if (!m || !m[1]) throw new Error(`expected host:port, got ${JSON.stringify(address)}`)
  return { host: m[1], port: Number(m[2]) }
}

/** canConnect tells whether a TCP connection to host:port is accepted within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** WaitOptions bound a wait. */
export interface WaitOptions {
  /** deadline is a `Date.now()` value after which the wait fails. */
  deadline: number
  signal?: AbortSignal
  /** failed, when it returns an error, ends the wait early with it (e.g. the process behind the port died). */
  failed?: () => Error | undefined
}

/**
 * waitForPort resolves once host:port accepts a connection. A refused connection comes back at once,
 * so there is nothing to wait on but time: it retries every 100 ms until the deadline.
 */
export async function waitForPort(host: string, port: number, opts: WaitOptions): Promise<void> {
  for (;;) {
    opts.signal?.throwIfAborted()
    const err = opts.failed?.()
    if (err) throw err
    if (await canConnect(host, port, Math.max(100, Math.min(2000, opts.deadline - Date.now())))) return
    if (Date.now() >= opts.deadline) throw new Error(`${host}:${port} did not accept a connection in time`)
    await delay(100, undefined, { signal: opts.signal })
  }
}

/** ApiVersionsOptions tune one ApiVersions probe. */
export interface ApiVersionsOptions {
  /** timeoutMs bounds the whole exchange; default 5 s. */
  timeoutMs?: number
  /** tls, when given, speaks TLS with these options (e.g. `{ ca }`) to an SSL listener. */
  tls?: ConnectionOptions
}

/** ApiVersionsResult is a decoded ApiVersions v0 response. */
export interface ApiVersionsResult {
  errorCode: number
  apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }>
}

const API_VERSIONS_KEY = 18

/**
 * apiVersions sends one hand-encoded ApiVersions v0 request and decodes the response. It proves that a
 * Kafka broker (not just any listener) answers, without depending on the generated protocol code: v0
 * has an empty body and a v0 header (api key, version, correlation id, client id), and every broker
 * keeps answering v0 because clients use it to find out what else the broker speaks.
 */
export function apiVersions(host: string, port: number, opts: ApiVersionsOptions = {}): Promise<ApiVersionsResult> {
  const timeoutMs = opts.timeoutMs ?? 5000
  const correlationId = 0x6b77 // any value; checked on the way back
  const clientId = Buffer.from('kafka-wire-probe')
  const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length)
  let o = req.writeInt32BE(req.length - 4, 0)
  o = req.writeInt16BE(API_VERSIONS_KEY, o)
  o = req.writeInt16BE(0, o)
  o = req.writeInt32BE(correlationId, o)
  o = req.writeInt16BE(clientId.length, o)
  clientId.copy(req, o)

  return new Promise((resolve, reject) => {
    const socket: Socket = opts.tls ? tlsConnect({ ...opts.tls, host, port }) : connect({ host, port })
    let buf = Buffer.alloc(0)
    const fail = (err: Error) => {
      socket.destroy()
      reject(err)
    }
    socket.setTimeout(timeoutMs, () => fail(new Error(`ApiVersions to ${host}:${port} timed out after ${timeoutMs} ms`)))
    socket.once('error', fail)
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => socket.write(req))
    socket.once('end', () => fail(new Error(`${host}:${port} closed the connection before answering ApiVersions`)))
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 4) return
      const size = buf.readInt32BE(0)
      if (size < 10 || size > 1 << 20) return fail(new Error(`ApiVersions response from ${host}:${port} has an implausible size ${size}`))
      if (buf.length < 4 + size) return
      socket.destroy()
      try {
        resolve(decodeApiVersionsV0(buf.subarray(4, 4 + size), correlationId))
      } catch (err) {
        reject(err)
      }
    })
  })
}

function decodeApiVersionsV0(frame: Buffer, correlationId: number): ApiVersionsResult {
  if (frame.readInt32BE(0) !== correlationId) throw new Error(`ApiVersions response carries correlation id ${frame.readInt32BE(0)}, sent ${correlationId}`)
  const errorCode = frame.readInt16BE(4)
  const n = frame.readInt32BE(6)
  if (n < 0 || 10 + n * 6 > frame.length) throw new Error(`ApiVersions response lists ${n} keys in ${frame.length} bytes`)
  const apiKeys: ApiVersionsResult['apiKeys'] = []
  for (let i = 0, o = 10; i < n; i++, o += 6) {
    apiKeys.push({ apiKey: frame.readInt16BE(o), minVersion: frame.readInt16BE(o + 2), maxVersion: frame.readInt16BE(o + 4) })
  }
  return { errorCode, apiKeys }
}
