// A Jaeger (v2, in-memory storage) for tests and demos: where traces sent over OTLP can be read back
// through its query API, as users look at them.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { probeDockerEngine } from './docker.js'
import { kafkaCacheRoot, withLock } from './maven.js'
import { freePorts } from './ports.js'
import { killWatchdog, spawnWatchdog, trackDir, trackPid, untrackDir, untrackPid } from './watchdog.js'

/**
 * JAEGER_MODULE_VERSION is the version of the Go module github.com/jaegertracing/jaeger whose
 * `cmd/jaeger` (Jaeger v2's all-in-one program) the harness builds; Jaeger tags each release twice,
 * v1.75.0 being v2.12.0.
 */
export const JAEGER_MODULE_VERSION = 'v1.75.0'

/** JAEGER_IMAGE is the container image of the same release, which also serves Jaeger's web UI. */
export const JAEGER_IMAGE = 'jaegertracing/jaeger:2.12.0'

// Jaeger v1.75.0's go.mod asks for Go 1.24.6 or newer.
const MIN_GO: [number, number, number] = [1, 24, 6]

/** JaegerTraceV1 is a trace as Jaeger's v1 query API (`/api/traces/{id}`) returns it. */
export interface JaegerTraceV1 {
  traceID: string
  spans: JaegerSpanV1[]
  processes: { [id: string]: { serviceName: string; tags: JaegerTag[] } }
  warnings: string[] | null
}

/** JaegerSpanV1 is a span in Jaeger's v1 model: links are `FOLLOWS_FROM` references, times in microseconds. */
export interface JaegerSpanV1 {
  traceID: string
  spanID: string
  operationName: string
  references: Array<{ refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }>
  startTime: number
  duration: number
  tags: JaegerTag[]
  logs: Array<{ timestamp: number; fields: JaegerTag[] }>
  processID: string
  warnings: string[] | null
}

/** JaegerTag is a key/value in Jaeger's v1 model. */
export interface JaegerTag {
  key: string
  type: string
  value: unknown
}

/** OtlpTraceData is a trace as Jaeger's v3 query API (`/api/v3/traces/{id}`) returns it: OTLP JSON. */
export interface OtlpTraceData {
  resourceSpans: Array<{
    resource: { attributes?: OtlpKeyValue[] }
    scopeSpans: Array<{ scope: { name?: string; version?: string }; spans: OtlpSpan[] }>
  }>
}

/** OtlpSpan is a span in OTLP JSON (ids in hex here, times in nanoseconds as strings). */
export interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes?: OtlpKeyValue[]
  links?: Array<{ traceId: string; spanId: string; attributes?: OtlpKeyValue[] }>
  status?: { code?: number; message?: string }
}

/** OtlpKeyValue is an OTLP attribute. */
export interface OtlpKeyValue {
  key: string
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: unknown }
}

/** Jaeger is a running Jaeger: where to send OTLP and where to read traces back. */
export interface Jaeger {
  /** kind says what runs it: the Go build, a container, or an instance named by JAEGER_URL (nothing started). */
  readonly kind: 'binary' | 'docker' | 'external'
  /** otlpHttpUrl is the OTLP/HTTP receiver's base address; traces go to `${otlpHttpUrl}/v1/traces`. */
  readonly otlpHttpUrl: string
  /** otlpGrpcAddress is the OTLP/gRPC receiver's host:port (undefined for an external instance). */
  readonly otlpGrpcAddress: string | undefined
  /** queryUrl is the query service's base address: its HTTP APIs, and the web UI when `hasUi`. */
  readonly queryUrl: string
  /** hasUi tells whether the query address serves Jaeger's web UI (the container does; the Go build serves a placeholder page). */
  readonly hasUi: boolean
  /** traceUrl is where a browser shows a trace (meaningful when `hasUi`). */
  traceUrl(traceId: string): string
  /** traceV1 fetches a trace through the v1 API, or undefined while Jaeger has none by that id. */
  traceV1(traceId: string): Promise<JaegerTraceV1 | undefined>
  /** traceV3 fetches a trace through the v3 API (OTLP JSON, links with their attributes), or undefined. */
  traceV3(traceId: string): Promise<OtlpTraceData | undefined>
  /** stop ends what was started (nothing for an external instance). */
  stop(): Promise<void>
}

/** StartJaegerOptions tune startJaeger. */
export interface StartJaegerOptions {
  /**
   * prefer picks the first way to try when both exist: 'binary' (default: the cached Go build, which
   * starts in well under a second; built when missing) or 'docker' (the image through Testcontainers,
   * which has the web UI). The other is the fallback.
   */
  prefer?: 'binary' | 'docker'
  /** log receives a line when something slow starts (a build, an image pull), so callers can say why they wait. */
  log?: (line: string) => void
  /** signal aborts a build or a start. */
  signal?: AbortSignal
  /** readyTimeoutMs bounds the wait for a started Jaeger to answer (default 30 s, 180 s for a container). */
  readyTimeoutMs?: number
  /** image is the container image to run (default JAEGER_IMAGE; e.g. the same image from a registry mirror). */
  image?: string
}

/**
 * startJaeger returns a running Jaeger v2 with in-memory storage, choosing in order:
 *
 * 1. the instance named by `JAEGER_URL` (query service) and `JAEGER_OTLP_URL` (OTLP/HTTP receiver), for
 *    example the `jaeger` service of docker-compose.yml: nothing is started;
 * 2. per `prefer`, Jaeger's Go program built from the Go module proxy (github.com/jaegertracing/jaeger
 *    /cmd/jaeger at JAEGER_MODULE_VERSION, cached outside the repository next to the Kafka jars; the
 *    first build takes several minutes), run with every port on 127.0.0.1; or the `JAEGER_IMAGE`
 *    container through Testcontainers (`npm i -D testcontainers`), which has the web UI;
 * 3. the other of the two.
 *
 * It fails with a message that says what is missing when neither can run.
 */
export async function startJaeger(opts: StartJaegerOptions = {}): Promise<Jaeger> {
  const external = externalJaeger()
  if (external) return external
  const order: Array<'binary' | 'docker'> = opts.prefer === 'docker' ? ['docker', 'binary'] : ['binary', 'docker']
  const reasons: string[] = []
  for (const way of order) {
    if (way === 'binary') {
      const why = await binaryUnavailable()
      if (why !== undefined) {
        reasons.push(why)
        continue
      }
      return startJaegerBinary(opts)
    }
    const why = await dockerUnavailable()
    if (why !== undefined) {
      reasons.push(why)
      continue
    }
    try {
      return await startJaegerContainer(opts)
    } catch (err) {
      // A Docker engine that cannot pull the image (no access to the registry) is no reason to fail
      // when the other way works.
      const why = `the ${opts.image ?? JAEGER_IMAGE} container did not start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`
      opts.log?.(`${why}; trying the other way`)
      reasons.push(why)
    }
  }
  throw new Error(`cannot start Jaeger for kafka-wire's tracing tests and demo:\n- ${reasons.join('\n- ')}\n(or set JAEGER_URL and JAEGER_OTLP_URL to a running Jaeger, e.g. \`docker compose up -d jaeger\`)`)
}

function externalJaeger(): Jaeger | undefined {
  const query = process.env.JAEGER_URL
  const otlp = process.env.JAEGER_OTLP_URL
  if (!query && !otlp) return undefined
  if (!query || !otlp) throw new Error('JAEGER_URL (the query service, e.g. http://127.0.0.1:16686) and JAEGER_OTLP_URL (the OTLP/HTTP receiver, e.g. http://127.0.0.1:4318) go together')
  return jaegerAt('external', trimSlash(otlp), undefined, trimSlash(query), true, async () => {})
}

// ---------------------------------------------------------------------------------------- the Go build

/** jaegerCacheDir is where the Go build of JAEGER_MODULE_VERSION is kept: beside the Kafka jars. */
export function jaegerCacheDir(): string {
  return join(kafkaCacheRoot(), `jaeger-${JAEGER_MODULE_VERSION.replace(/^v/, '')}`)
}

/** jaegerBinaryPath is the cached program (present once built). */
export function jaegerBinaryPath(): string {
  return join(jaegerCacheDir(), 'jaeger')
}

/** isJaegerBuilt tells whether the program is in the cache (it is renamed into place only once complete). */
export function isJaegerBuilt(): boolean {
  return existsSync(jaegerBinaryPath())
}

async function binaryUnavailable(): Promise<string | undefined> {
  if (isJaegerBuilt()) return undefined
  const go = await goVersion()
  if (go === undefined) return `Jaeger is not built yet (${jaegerBinaryPath()}) and building it needs Go ${MIN_GO.join('.')} or newer (\`go\` on PATH)`
  if (compareVersions(go, MIN_GO) < 0) return `Jaeger is not built yet and Go ${go.join('.')} is older than the ${MIN_GO.join('.')} that Jaeger ${JAEGER_MODULE_VERSION} needs`
  return undefined
}

/** BuildJaegerOptions tune buildJaeger. */
export interface BuildJaegerOptions {
  log?: (line: string) => void
  signal?: AbortSignal
}

/**
 * buildJaeger makes sure the Go build of Jaeger is cached and returns its path. A cached program costs
 * one `stat`. Otherwise, under a lock (so concurrent test files build once), it runs in a scratch
 * module `go get -tool github.com/jaegertracing/jaeger/cmd/jaeger@JAEGER_MODULE_VERSION` and
 * `go build` (static, unoptimised: see below), and renames the result into place. Go's own caches (modules,
 * build) are the user's, so a rebuild after the cache folder is removed is quick.
 */
export async function buildJaeger(opts: BuildJaegerOptions = {}): Promise<string> {
  const bin = jaegerBinaryPath()
  if (isJaegerBuilt()) return bin
  const dir = jaegerCacheDir()
  await mkdir(dir, { recursive: true })
  return withLock(dir, opts.signal, async () => {
    if (isJaegerBuilt()) return bin // another process built it while we waited for the lock
    const why = await binaryUnavailable()
    if (why !== undefined) throw new Error(why)
    opts.log?.(`building Jaeger ${JAEGER_MODULE_VERSION} (cmd/jaeger) with Go into ${bin}: several minutes, once per machine`)
    const work = join(dir, `build-${process.pid}`)
    await rm(work, { recursive: true, force: true })
    await mkdir(work, { recursive: true })
    try {
      await writeFile(join(work, 'go.mod'), 'module kafka-wire.local/jaeger-build\n\ngo 1.24\n')
      // GOTOOLCHAIN=local: never fetch another Go toolchain; GOFLAGS=-mod=mod lets `go get` write go.mod.
      const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false', CGO_ENABLED: '0' }
      await run('go', ['get', '-tool', `github.com/jaegertracing/jaeger/cmd/jaeger@${JAEGER_MODULE_VERSION}`], work, env, opts.signal)
      const tmp = join(dir, `jaeger.tmp-${process.pid}`)
      // Optimisations and inlining off (-N -l): the build is for tests and demos, where Jaeger's own
      // speed does not matter, and it compiles with about a third less CPU (248 s against 364 s of
      // CPU, cold build cache, on this project's 2-core machines); -s -w and -trimpath make the link
      // and the program smaller; CGO_ENABLED=0 needs no C compiler and gives a static program.
      await run('go', ['build', '-trimpath', '-ldflags=-s -w', '-gcflags=all=-N -l', '-o', tmp, 'github.com/jaegertracing/jaeger/cmd/jaeger'], work, env, opts.signal)
      await chmod(tmp, 0o755)
      await rename(tmp, bin)
    } finally {
      await rm(work, { recursive: true, force: true })
    }
    return bin
  })
}

/**
 * startJaegerBinary runs the cached Go build (building it first when missing) with a configuration
 * of its own: OTLP gRPC and HTTP receivers, the query service (HTTP and gRPC) and a health check, each
 * on a free port of 127.0.0.1 (Jaeger's defaults listen on every interface), in-memory storage, no
 * batching (spans are queryable as soon as they arrive) and no telemetry server.
 */
export async function startJaegerBinary(opts: StartJaegerOptions = {}): Promise<Jaeger> {
  const bin = await buildJaeger(opts)
  // Ports are free when picked and bound a moment later; another process can take one in between, so
  // a start that fails on a taken port is tried again with new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await runBinary(bin, opts)
    } catch (err) {
      if (attempt < 3 && err instanceof Error && /address already in use/i.test(err.message)) continue
      throw err
    }
  }
}

async function runBinary(bin: string, opts: StartJaegerOptions): Promise<Jaeger> {
  const [otlpGrpc, otlpHttp, queryHttp, queryGrpc, health] = await freePorts(5)
  const dir = await mkdtemp(join(tmpdir(), 'kafka-wire-jaeger-'))
  trackDir(dir)
  const config = join(dir, 'jaeger.yaml')
  await writeFile(config, binaryConfig({ otlpGrpc: otlpGrpc!, otlpHttp: otlpHttp!, queryHttp: queryHttp!, queryGrpc: queryGrpc!, health: health! }))
  const child = spawn(bin, ['--config', `file:${config}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-8000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not run ${bin}: ${err.message}`))
    child.once('exit', (code, sig) => resolve(`Jaeger exited (${sig ?? `code ${code}`}) before it was ready:\n${out.trim()}`))
  })
  let dog: ChildProcess | undefined
  if (child.pid !== undefined) {
    trackPid(child.pid)
    dog = spawnWatchdog(child.pid, dir)
  }
  const stop = async () => {
    killWatchdog(dog)
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const killed = await Promise.race([gone.then(() => true), delay(5000, false)])
      if (!killed) {
        child.kill('SIGKILL')
        await gone
      }
    }
    if (child.pid !== undefined) untrackPid(child.pid)
    await rm(dir, { recursive: true, force: true })
    untrackDir(dir)
  }
  try {
    const ready = await Promise.race([waitHealthy(`http://127.0.0.1:${health}/status`, opts.readyTimeoutMs ?? 30_000, opts.signal), exited])
    if (ready !== true) throw new Error(ready)
  } catch (err) {
    await stop()
    throw err
  }
  child.stdout!.removeListener('data', keep)
  child.stderr!.removeListener('data', keep)
  child.stdout!.resume()
  child.stderr!.resume()
  return jaegerAt('binary', `http://127.0.0.1:${otlpHttp}`, `127.0.0.1:${otlpGrpc}`, `http://127.0.0.1:${queryHttp}`, false, stop)
}

function binaryConfig(p: { otlpGrpc: number; otlpHttp: number; queryHttp: number; queryGrpc: number; health: number }): string {
  return `# Written by kafka-wire's src/testing/jaeger.ts; removed when Jaeger stops.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: []
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${p.health}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${p.queryHttp}
    grpc:
      endpoint: 127.0.0.1:${p.queryGrpc}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${p.otlpGrpc}
      http:
        endpoint: 127.0.0.1:${p.otlpHttp}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`
}

// ------------------------------------------------------------------------------------------ the image

// The parts of testcontainers this module uses, typed here because the package is optional.
interface StartedJaegerContainer {
  getHost(): string
  getMappedPort(port: number): number
  stop(): Promise<unknown>
}
interface JaegerTestcontainers {
  GenericContainer: new (image: string) => {
    withExposedPorts(...ports: number[]): any
  }
  Wait: { forHttp(path: string, port: number): { forStatusCode(code: number): unknown } }
}

async function loadTestcontainers(): Promise<JaegerTestcontainers | undefined> {
  const name = 'testcontainers' // a variable, so TypeScript does not require the package
  const tc = (await import(name).catch(() => undefined)) as JaegerTestcontainers | undefined
  return tc?.GenericContainer ? tc : undefined
}

async function dockerUnavailable(): Promise<string | undefined> {
  const engine = await probeDockerEngine()
  if (!engine.ok) return `no Docker engine answers at ${engine.where} for the Jaeger image${engine.reason ? `: ${engine.reason}` : ''}`
  if ((await loadTestcontainers()) === undefined) return 'the Jaeger image needs the testcontainers package (`npm i -D testcontainers`)'
  return undefined
}

/**
 * startJaegerContainer runs JAEGER_IMAGE through Testcontainers with its own all-in-one configuration
 * (in-memory storage, the web UI) and returns its mapped OTLP and query ports.
 */
export async function startJaegerContainer(opts: StartJaegerOptions = {}): Promise<Jaeger> {
  const tc = await loadTestcontainers()
  if (tc === undefined) throw new Error('the Jaeger image needs the testcontainers package (`npm i -D testcontainers`)')
  const image = opts.image ?? JAEGER_IMAGE
  opts.log?.(`starting ${image} with Testcontainers (the first run pulls the image)`)
  const container: StartedJaegerContainer = await new tc.GenericContainer(image)
    .withExposedPorts(4317, 4318, 16686, 13133)
    .withWaitStrategy(tc.Wait.forHttp('/status', 13133).forStatusCode(200))
    .withStartupTimeout(opts.readyTimeoutMs ?? 180_000)
    .start()
  const host = container.getHost()
  const url = (port: number) => `http://${host}:${container.getMappedPort(port)}`
  return jaegerAt('docker', url(4318), `${host}:${container.getMappedPort(4317)}`, url(16686), true, async () => {
    await container.stop()
  })
}

// -------------------------------------------------------------------------------------------- helpers

function jaegerAt(kind: Jaeger['kind'], otlpHttpUrl: string, otlpGrpcAddress: string | undefined, queryUrl: string, hasUi: boolean, stop: () => Promise<void>): Jaeger {
  let stopped: Promise<void> | undefined
  return {
    kind,
    otlpHttpUrl,
    otlpGrpcAddress,
    queryUrl,
    hasUi,
    traceUrl: (traceId) => `${queryUrl}/trace/${traceId}`,
    async traceV1(traceId) {
      const body = await getJson(`${queryUrl}/api/traces/${traceId}`)
      const data = (body as { data?: JaegerTraceV1[] } | undefined)?.data
      return data !== undefined && data !== null && data.length > 0 ? data[0] : undefined
    },
    async traceV3(traceId) {
      const body = await getJson(`${queryUrl}/api/v3/traces/${traceId}`)
      const result = (body as { result?: OtlpTraceData } | undefined)?.result
      return result !== undefined && result.resourceSpans?.length > 0 ? result : undefined
    },
    stop() {
      stopped ??= stop()
      return stopped
    },
  }
}

/** getJson GETs a query API address: its JSON body, or undefined for a 404 (no such trace yet). */
async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (res.status === 404) return undefined
  const text = await res.text()
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${text.slice(0, 500)}`)
  return JSON.parse(text) as unknown
}

/** waitHealthy resolves true once the health endpoint answers 200, polling it; it fails after `timeoutMs`. */
async function waitHealthy(url: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<true> {
  const deadline = performance.now() + timeoutMs
  let last = ''
  for (;;) {
    signal?.throwIfAborted()
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (res.ok) return true
      last = `HTTP ${res.status}`
    } catch (err) {
      last = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)
    }
    if (performance.now() > deadline) throw new Error(`Jaeger did not become healthy within ${timeoutMs} ms (${url}: ${last})`)
    // Nothing to wait on but the port: poll it, briefly (Jaeger is ready in a fraction of a second).
    await delay(25, undefined, { signal })
  }
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal })
    let out = ''
    const keep = (b: Buffer) => {
      out = (out + b.toString()).slice(-8000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new Error(`${cmd} is not on PATH`) : err))
    child.on('close', (code, sig) => {
      if (code === 0) resolve()
      else reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed (${sig ?? `exit ${code}`}):\n${out.trim()}`))
    })
  })
}

let goVersionCache: Promise<[number, number, number] | undefined> | undefined

/** goVersion is the local Go's version, or undefined without Go. */
function goVersion(): Promise<[number, number, number] | undefined> {
  goVersionCache ??= new Promise((resolve) => {
    const child = spawn('go', ['env', 'GOVERSION'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, GOTOOLCHAIN: 'local' } })
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.on('error', () => resolve(undefined))
    child.on('close', (code) => {
      const m = /go(\d+)\.(\d+)(?:\.(\d+))?/.exec(out)
      resolve(code === 0 && m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined)
    })
  })
  return goVersionCache
}

function compareVersions(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '')
}

/** jaegerBinarySize is the cached program's size in bytes (for reporting), or undefined when not built. */
export async function jaegerBinarySize(): Promise<number | undefined> {
  try {
    return (await stat(jaegerBinaryPath())).size
  } catch {
    return undefined
  }
}
