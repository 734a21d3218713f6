import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, type NetConnectOpts } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { certShellScript, DEFAULT_SANS, KEYSTORE_PASSWORD } from './certs.js'
import { TEST_USERS, type KafkaCluster, type StartKafkaOptions } from './cluster.js'
import { KafkaHarnessError } from './errors.js'
import type { JavaToolOptions, JavaToolResult } from './java.js'
import { DEFAULT_READY_TIMEOUT_MS, kafkaClusterId } from './jvm.js'
import { KAFKA_VERSION } from './kafka-version.js'
import { freePorts } from './ports.js'
import { apiVersions, canConnect } from './probe.js'
import { authorizerSettings, dockerEnvName, saslSettings, superUsersOf, testBrokerSettings } from './settings.js'
import { trackDir, untrackDir } from './watchdog.js'

/** officialKafkaImage is the apache/kafka image of a Kafka release, as published on Docker Hub. */
export function officialKafkaImage(version: string = KAFKA_VERSION): string {
  return `apache/kafka:${version}`
}

/** localKafkaImage is the image docker/kafka/build.sh builds on machines without a registry. */
export function localKafkaImage(version: string = KAFKA_VERSION): string {
  return `kafka-wire/kafka:${version}`
}

/** BUILD_IMAGE_COMMAND builds the local image (docker/kafka/build.sh); test:containers also installs Docker first. */
export const BUILD_IMAGE_COMMAND = 'bash docker/kafka/build.sh (or npm run test:containers, which also installs and starts Docker)'

/** DockerEngineProbe says whether a Docker engine answered and where the harness looked. */
export interface DockerEngineProbe {
  /** ok is true when an engine answered `GET /_ping` (or DOCKER_HOST uses TLS, which only testcontainers can check). */
  ok: boolean
  /** where names what was tried: DOCKER_HOST's value or the socket paths. */
  where: string
  /** reason says why none answered, when ok is false. */
  reason?: string
}

/**
 * probeDockerEngine asks, within `timeoutMs` per address, whether a Docker engine answers `GET /_ping`
 * on DOCKER_HOST or on the usual sockets. A machine without the sockets pays only a few `stat`s, so the
 * JVM path is not slowed down by the check.
 */
export async function probeDockerEngine(timeoutMs = 1000, env: NodeJS.ProcessEnv = process.env): Promise<DockerEngineProbe> {
  const dockerHost = env.DOCKER_HOST
  if (dockerHost) {
    const where = `DOCKER_HOST=${dockerHost}`
    let url: URL
    try {
      url = new URL(dockerHost)
    } catch {
      return { ok: false, where, reason: 'DOCKER_HOST is not a URL (expected unix:///path or tcp://host:port)' }
    }
    if (url.protocol === 'tcp:' && env.DOCKER_TLS_VERIFY) return { ok: true, where } // TLS: left to testcontainers
    let target: NetConnectOpts
    if (url.protocol === 'unix:') target = { path: url.pathname }
    else if (url.protocol === 'tcp:' || url.protocol === 'http:') target = { host: url.hostname, port: Number(url.port || 2375) }
    else return { ok: false, where, reason: `the ${url.protocol} scheme is not supported here (unix: or tcp:)` }
    const res = await ping(target, timeoutMs)
    return res === true ? { ok: true, where } : { ok: false, where, reason: res }
  }
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')]
  if (env.XDG_RUNTIME_DIR) sockets.push(join(env.XDG_RUNTIME_DIR, 'docker.sock')) // rootless
  const where = `DOCKER_HOST unset; sockets ${sockets.join(', ')}`
  const reasons: string[] = []
  for (const path of sockets) {
    if (!existsSync(path)) continue
    const res = await ping({ path }, timeoutMs)
    if (res === true) return { ok: true, where: path }
    reasons.push(`${path}: ${res}`)
  }
  return { ok: false, where, reason: reasons.length ? reasons.join('; ') : 'none of these sockets exists' }
}

function ping(target: NetConnectOpts, timeoutMs: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = connect(target)
    let reply = ''
    const done = (res: true | string) => {
      socket.destroy()
      resolve(res)
    }
    socket.setTimeout(timeoutMs, () => done(`no answer to /_ping within ${timeoutMs} ms`))
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ? `${err.code} (${err.message})` : err.message))
    socket.once('connect', () => socket.write('GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n'))
    socket.on('data', (b: Buffer) => {
      reply += b.toString()
      if (/^HTTP\/1\.[01] 200/.test(reply)) done(true)
      else if (reply.includes('\r\n')) done(`answered ${reply.split('\r\n')[0]} to /_ping`)
    })
    socket.once('end', () => done(/^HTTP\/1\.[01] 200/.test(reply) ? true : 'closed the connection without answering /_ping'))
  })
}

// --- the parts of testcontainers used here, typed locally: the package is an optional devDependency ---

interface ExecResult {
  output: string
  stdout: string
  stderr: string
  exitCode: number
}
interface StartedContainer {
  getId(): string
  stop(opts?: { timeout?: number; remove?: boolean; removeVolumes?: boolean }): Promise<unknown>
  exec(cmd: string[], opts?: { env?: Record<string, string>; user?: string }): Promise<ExecResult>
  copyFilesToContainer(files: Array<{ source: string; target: string; mode?: number }>): Promise<void>
  copyContentToContainer(contents: Array<{ content: string | Buffer; target: string; mode?: number }>): Promise<void>
  copyArchiveFromContainer(path: string): Promise<NodeJS.ReadableStream>
  logs(opts?: { since?: number; tail?: number }): Promise<NodeJS.ReadableStream>
}
interface ContainerBuilder {
  withEnvironment(env: Record<string, string>): ContainerBuilder
  withExposedPorts(...ports: Array<{ container: number; host: number }>): ContainerBuilder
  withNetwork(network: StartedNetwork): ContainerBuilder
  withNetworkAliases(...aliases: string[]): ContainerBuilder
  withHostname(name: string): ContainerBuilder
  withLabels(labels: Record<string, string>): ContainerBuilder
  withEntrypoint(cmd: string[]): ContainerBuilder
  withCommand(cmd: string[]): ContainerBuilder
  withCopyContentToContainer(contents: Array<{ content: string | Buffer; target: string; mode?: number }>): ContainerBuilder
  withWaitStrategy(strategy: unknown): ContainerBuilder
  withStartupTimeout(ms: number): ContainerBuilder
  start(): Promise<StartedContainer>
}
interface StartedNetwork {
  getId(): string
  getName(): string
  stop(): Promise<unknown>
}
interface DockerodeContainer {
  inspect(): Promise<{ State: { Running: boolean; Status: string; ExitCode: number } }>
}
interface RuntimeClient {
  info: { containerRuntime: { host: string } }
  container: {
    dockerode: { modem: { socketPath?: string; host?: string; port?: number | string; protocol?: string } }
    getById(id: string): DockerodeContainer
    stop(c: DockerodeContainer, opts?: { timeout: number }): Promise<void>
    start(c: DockerodeContainer): Promise<void>
  }
  image: {
    exists(name: unknown): Promise<boolean>
    pull(name: unknown): Promise<void>
  }
}
interface Testcontainers {
  GenericContainer: new (image: string) => ContainerBuilder
  Network: new () => { start(): Promise<StartedNetwork> }
  Wait: { forLogMessage(re: RegExp): unknown }
  ImageName: { fromString(name: string): unknown }
  getContainerRuntimeClient(): Promise<RuntimeClient>
}

/**
 * loadTestcontainers imports the optional `testcontainers` package. A missing package and a package
 * that fails to load are told apart, and the second keeps its cause: hiding it would leave a user
 * wondering why the Docker path was not taken.
 */
export async function loadTestcontainers(moduleName = 'testcontainers'): Promise<Testcontainers> {
  // The harness removes its containers itself (the watchdog below), so Ryuk, whose image needs a
  // registry, is off unless the user turns it on; a local engine is reached on localhost.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'
  if ((process.env.DOCKER_HOST ?? 'unix://').startsWith('unix://')) process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost'
  try {
    return (await import(moduleName)) as Testcontainers
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const missing = (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && new RegExp(`['"]${moduleName}['"]`).test(e.message)
    if (missing) {
      throw new KafkaHarnessError('TESTCONTAINERS_MISSING', `the Docker path needs the ${moduleName} package, which is not installed (Node 20: npm i -D testcontainers@11)`, err)
    }
    throw new KafkaHarnessError('TESTCONTAINERS_BROKEN', `the ${moduleName} package is installed but failed to load: ${e.message}`, err)
  }
}

/**
 * chooseKafkaImage picks the image a Docker cluster runs, without pulling when one is already there:
 * KAFKA_WIRE_IMAGE when set; else the official `apache/kafka:<version>` if the engine has it; else the
 * local build `kafka-wire/kafka:<version>` if it has that; else it pulls the official image (a
 * machine with a registry). The official image comes first because it is the reference the local
 * build imitates.
 */
export async function chooseKafkaImage(tc: Testcontainers, client: RuntimeClient, version: string, log?: (line: string) => void): Promise<string> {
  const explicit = process.env.KAFKA_WIRE_IMAGE
  const candidates = explicit ? [explicit] : [officialKafkaImage(version), localKafkaImage(version)]
  for (const name of candidates) if (await client.image.exists(tc.ImageName.fromString(name))) return name
  const wanted = explicit ?? officialKafkaImage(version)
  log?.(`pulling ${wanted}`)
  try {
    await client.image.pull(tc.ImageName.fromString(wanted))
    return wanted
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
    const alt = explicit ? '' : ` nor ${localKafkaImage(version)}`
    throw new KafkaHarnessError(
      'IMAGE_MISSING',
      `the Kafka image ${wanted} is not on the Docker engine${alt}, and pulling it failed (${why}); build ${localKafkaImage(version)} with ${BUILD_IMAGE_COMMAND}, or name another image in KAFKA_WIRE_IMAGE`,
      err,
    )
  }
}

// Listener layout of every node. Host-facing listeners use a free host port as both the container port
// and the published port, so the advertised <host>:<port> is right for the tests and survives a
// container restart. Internal listeners (fixed ports, the node's network alias) carry replication, the
// controller quorum, and the Java tools run inside the containers.
const INTERNAL = { PLAINTEXT: ['BROKER', 9092], SASL_PLAINTEXT: ['BROKER_SASL', 9094], SSL: ['BROKER_SSL', 9095], SASL_SSL: ['BROKER_SASL_SSL', 9096] } as const
const CONTROLLER_PORT = 9093
const PROTOCOL_MAP = [
  'CONTROLLER:PLAINTEXT',
  ...Object.entries(INTERNAL).flatMap(([protocol, [name]]) => [`${protocol}:${protocol}`, `${name}:${protocol}`]),
].join(',')
const SECRETS = '/etc/kafka/secrets'
const STARTED_LINE = /Kafka Server started/
const STOP_NODE_GRACE_S = 15
const STOP_CLUSTER_GRACE_S = 20

type Protocol = keyof typeof INTERNAL

interface DockerNode {
  id: number
  alias: string
  /** host-facing port per listener kind */
  ports: Partial<Record<Protocol, number>>
  container?: StartedContainer
  running: boolean
}

/**
 * startDockerCluster runs a Kafka cluster in containers through Testcontainers: one container per node
 * (combined broker and controller, KRaft), on a network of its own, with the same listeners, test
 * settings, SASL users and TLS certificates as the JVM path. The image is chosen by `chooseKafkaImage`.
 * On any failure it removes what it started.
 */
export async function startDockerCluster(opts: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const tc = await loadTestcontainers()
  let client: RuntimeClient
  try {
    client = await tc.getContainerRuntimeClient()
  } catch (err) {
    const probe = await probeDockerEngine()
    throw new KafkaHarnessError(
      'TESTCONTAINERS_BROKEN',
      `testcontainers could not use the Docker engine (${probe.where}${probe.reason ? `: ${probe.reason}` : ''}): ${err instanceof Error ? err.message : String(err)}`,
      err,
    )
  }
  const version = opts.version ?? KAFKA_VERSION
  const image = await chooseKafkaImage(tc, client, version, opts.log)
  opts.signal?.throwIfAborted()
  const cluster = new DockerCluster(tc, client, image, version, opts)
  try {
    await cluster.start()
    return cluster
  } catch (err) {
    await cluster.stop().catch(() => {})
    if (opts.signal?.aborted) throw opts.signal.reason
    throw err
  }
}

class DockerCluster implements KafkaCluster {
  readonly kind = 'docker' as const
  readonly version: string
  readonly brokers: number
  readonly users = TEST_USERS
  /** image is the Docker image the nodes run. */
  readonly image: string
  bootstrapServers: string[] = []
  saslBootstrapServers?: string[]
  tlsBootstrapServers?: string[]
  saslTlsBootstrapServers?: string[]
  ca?: string
  caFile?: string

  get containers(): string[] {
    return this.#nodes.flatMap((n) => (n.container ? [n.container.getId()] : []))
  }

  #tc: Testcontainers
  #client: RuntimeClient
  #opts: StartKafkaOptions
  #host: string
  #nodes: DockerNode[] = []
  #network?: StartedNetwork
  #dir?: string
  #watchdog?: ChildProcess
  #stopped = false
  #toolRuns = 0
  /** host-facing address → the same listener's internal address, for tools run inside a container */
  #internal = new Map<string, string>()

  constructor(tc: Testcontainers, client: RuntimeClient, image: string, version: string, opts: StartKafkaOptions) {
    this.#tc = tc
    this.#client = client
    this.#opts = opts
    this.image = image
    this.version = version
    this.brokers = opts.brokers ?? 1
    // Advertise what the tests connect to. A local engine publishes on every interface, and the loopback
    // address is the one that never leaves the machine.
    const host = client.info.containerRuntime.host
    this.#host = host === 'localhost' || host === '::1' || host.startsWith('127.') ? '127.0.0.1' : host
  }

  async start(): Promise<void> {
    const { sasl = false, tls = false, signal, log } = this.#opts
    const kinds: Protocol[] = ['PLAINTEXT', ...(sasl ? ['SASL_PLAINTEXT' as const] : []), ...(tls ? ['SSL' as const] : []), ...(sasl && tls ? ['SASL_SSL' as const] : [])]
    const ports = await freePorts(kinds.length * this.brokers)
    for (let i = 0; i < this.brokers; i++) {
      const node: DockerNode = { id: i + 1, alias: `kafka-${i + 1}`, ports: {}, running: false }
      for (const k of kinds) node.ports[k] = ports.shift() as number
      this.#nodes.push(node)
      for (const k of kinds) {
        const internal = `${node.alias}:${INTERNAL[k][1]}`
        for (const h of new Set([this.#host, '127.0.0.1', 'localhost'])) this.#internal.set(`${h}:${node.ports[k]}`, internal)
      }
    }
    const addrs = (k: Protocol) => this.#nodes.map((n) => `${this.#host}:${n.ports[k]}`)
    this.bootstrapServers = addrs('PLAINTEXT')
    if (sasl) this.saslBootstrapServers = addrs('SASL_PLAINTEXT')
    if (tls) this.tlsBootstrapServers = addrs('SSL')
    if (sasl && tls) this.saslTlsBootstrapServers = addrs('SASL_SSL')

    this.#startWatchdog()
    let t = performance.now()
    const [network, keystore] = await Promise.all([new this.#tc.Network().start(), tls ? this.#makeCerts() : Promise.resolve(undefined)])
    this.#network = network
    this.#watch('n', network.getId())
    if (tls) log?.(`made TLS certificates in a container in ${seconds(t)}`)
    signal?.throwIfAborted()

    t = performance.now()
    const clusterId = kafkaClusterId()
    const timeout = this.#opts.readyTimeoutMs ?? (Number(process.env.KAFKA_WIRE_READY_TIMEOUT_MS) || DEFAULT_READY_TIMEOUT_MS)
    const builders = this.#nodes.map((node) => {
      let b = new this.#tc.GenericContainer(this.image)
        .withNetwork(network)
        .withNetworkAliases(node.alias)
        .withHostname(node.alias)
        .withEnvironment(this.#environment(node, clusterId, kinds))
        .withExposedPorts(...kinds.map((k) => ({ container: node.ports[k] as number, host: node.ports[k] as number })))
        .withLabels({ 'org.kafka-wire.cluster': clusterId, 'org.kafka-wire.node': String(node.id) })
        .withWaitStrategy(this.#tc.Wait.forLogMessage(STARTED_LINE))
        .withStartupTimeout(timeout)
      if (keystore) {
        b = b.withCopyContentToContainer([
          { content: keystore, target: `${SECRETS}/broker.p12`, mode: 0o644 },
          { content: KEYSTORE_PASSWORD, target: `${SECRETS}/keystore-creds`, mode: 0o644 },
          { content: KEYSTORE_PASSWORD, target: `${SECRETS}/key-creds`, mode: 0o644 },
        ])
      }
      return { node, b }
    })
    // Every node at once: each waits for a quorum of its peers before it logs that it started.
    const results = await Promise.allSettled(
      builders.map(async ({ node, b }) => {
        const c = await b.start()
        node.container = c
        node.running = true
        this.#watch('c', c.getId())
      }),
    )
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw new Error(`a Kafka container (${this.image}) did not start: ${describe(failed.reason)}`)
    signal?.throwIfAborted()
    const deadline = Date.now() + timeout
    await Promise.all(this.#nodes.map((n) => this.#waitReady(n, deadline)))
    log?.(`started ${this.brokers} container${this.brokers > 1 ? 's' : ''} (${this.image}) in ${seconds(t)}`)

    if (sasl) {
      t = performance.now()
      await this.#createScramUsers()
      log?.(`created SCRAM users in ${seconds(t)}`)
    }
  }

  #environment(node: DockerNode, clusterId: string, kinds: Protocol[]): Record<string, string> {
    const { sasl = false, tls = false } = this.#opts
    const listeners = kinds.flatMap((k) => [`${k}://0.0.0.0:${node.ports[k]}`, `${INTERNAL[k][0]}://0.0.0.0:${INTERNAL[k][1]}`])
    const advertised = kinds.flatMap((k) => [`${k}://${this.#host}:${node.ports[k]}`, `${INTERNAL[k][0]}://${node.alias}:${INTERNAL[k][1]}`])
    const saslListeners = kinds.filter((k) => k.startsWith('SASL')).flatMap((k) => [k.toLowerCase(), INTERNAL[k][0].toLowerCase()])
    const props: Record<string, string> = {
      'node.id': String(node.id),
      'process.roles': 'broker,controller',
      'controller.quorum.voters': this.#nodes.map((n) => `${n.id}@${n.alias}:${CONTROLLER_PORT}`).join(','),
      'controller.listener.names': 'CONTROLLER',
      listeners: [...listeners, `CONTROLLER://0.0.0.0:${CONTROLLER_PORT}`].join(','),
      'advertised.listeners': advertised.join(','),
      'inter.broker.listener.name': INTERNAL.PLAINTEXT[0],
      'listener.security.protocol.map': PROTOCOL_MAP,
      // The image's data volume: kept across a stop and start of the container.
      'log.dirs': '/var/lib/kafka/data',
      ...testBrokerSettings(this.brokers),
      ...(sasl ? saslSettings(saslListeners) : {}),
      ...(this.#opts.authorizer ? authorizerSettings(superUsersOf(this.#opts.authorizer)) : {}),
      ...(tls ? { 'ssl.keystore.type': 'PKCS12' } : {}),
      ...this.#opts.brokerConfig,
    }
    const env: Record<string, string> = { CLUSTER_ID: clusterId, KAFKA_HEAP_OPTS: `-Xmx${this.brokers >= 3 ? '512m' : '768m'}` }
    for (const [k, v] of Object.entries(props)) env[dockerEnvName(k)] = v
    // The image refuses a SASL listener without KAFKA_OPTS (where a JAAS file is usually named); the
    // listener-scoped JAAS settings need none, so a harmless property satisfies the check.
    const kafkaOpts = [...(sasl ? ['-Dkafka-wire.jaas=listener-scoped'] : []), ...(this.#opts.jvmArgs ?? [])]
    if (kafkaOpts.length) env.KAFKA_OPTS = kafkaOpts.join(' ')
    if (tls) {
      // The image's convention: a keystore and files holding its passwords, named relative to /etc/kafka/secrets.
      env.KAFKA_SSL_KEYSTORE_FILENAME = 'broker.p12'
      env.KAFKA_SSL_KEYSTORE_CREDENTIALS = 'keystore-creds'
      env.KAFKA_SSL_KEY_CREDENTIALS = 'key-creds'
    }
    return env
  }

  /**
   * makeCerts runs the keytool recipe of certs.ts in a throwaway container of the same image (so the
   * host needs no Java), one CA for every node, and brings back the keystore and the CA's PEM.
   */
  async #makeCerts(): Promise<Buffer> {
    const dir = '/tmp/kafka-wire-certs'
    const sans = [...DEFAULT_SANS, ...(this.#host === '127.0.0.1' ? [] : [isIp(this.#host) ? `ip:${this.#host}` : `dns:${this.#host}`]), ...this.#nodes.map((n) => `dns:${n.alias}`)]
    const c = await new this.#tc.GenericContainer(this.image)
      .withEntrypoint(['/bin/sh', '-c', 'sleep 600'])
      .withLabels({ 'org.kafka-wire.role': 'certificates' })
      .start()
    this.#watch('c', c.getId())
    try {
      const res = await c.exec(['/bin/sh', '-c', certShellScript(dir, sans)])
      if (res.exitCode !== 0) throw new Error(`making TLS certificates with keytool in ${this.image} failed (exit ${res.exitCode}): ${(res.stderr || res.output).trim().slice(-2000)}`)
      const files = await readTar(await c.copyArchiveFromContainer(dir))
      const keystore = files.get('kafka-wire-certs/broker.p12')
      const ca = files.get('kafka-wire-certs/ca.pem')
      if (!keystore || !ca) throw new Error(`keytool left no broker.p12 or ca.pem in ${dir} (found ${[...files.keys()].join(', ')})`)
      this.ca = ca.toString('utf8')
      this.#dir = await mkdtemp(join(tmpdir(), 'kafka-wire-docker-'))
      trackDir(this.#dir)
      this.caFile = join(this.#dir, 'ca.pem')
      await writeFile(this.caFile, this.ca)
      return keystore
    } finally {
      await c.stop({ timeout: 0 }).catch(() => {})
    }
  }

  async #createScramUsers(): Promise<void> {
    // One mechanism per call: Kafka 4.x refuses two credentials of one user in one request
    // (DuplicateResourceException). Users are independent, so they are made side by side.
    const bootstrap = `${this.#nodes[0]?.alias}:${INTERNAL.PLAINTEXT[1]}`
    await Promise.all(
      [TEST_USERS.plain, TEST_USERS.admin].map(async ({ username, password }) => {
        for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
          const res = await this.runJavaTool('org.apache.kafka.tools.ConfigCommand', [
            '--bootstrap-server', bootstrap, '--alter', '--entity-type', 'users', '--entity-name', username,
            '--add-config', `${mechanism}=[password=${password}]`,
          ], { timeoutMs: 60_000, heap: '256m' })
          if (res.code !== 0) throw new Error(`creating the ${mechanism} credential of ${username} failed (exit ${res.code}): ${(res.stderr || res.stdout).trim().slice(-2000)}`)
        }
      }),
    )
  }

  /** waitReady resolves once every host-facing listener of `node` answers, failing early if its container stops. */
  async #waitReady(node: DockerNode, deadline: number): Promise<void> {
    const { signal } = this.#opts
    const c = this.#dockerode(node)
    for (;;) {
      signal?.throwIfAborted()
      const state = (await c.inspect()).State
      if (!state.Running) throw new Error(`Kafka node ${node.id} (container ${node.container?.getId().slice(0, 12)}) ${state.Status} with exit code ${state.ExitCode} before it was ready\n${await this.#logTail(node)}`)
      // Docker's proxy accepts a connection on a published port before anything listens behind it: only
      // an ApiVersions answer proves a broker is there.
      const res = await apiVersions(this.#host, node.ports.PLAINTEXT as number, { timeoutMs: 2000 }).catch((e: Error) => e)
      if (!(res instanceof Error) && res.errorCode === 0) {
        let all = true
        for (const p of Object.values(node.ports)) if (!(await canConnect(this.#host, p))) all = false
        if (all) return
      }
      if (Date.now() >= deadline) throw new Error(`Kafka node ${node.id} did not answer ApiVersions on ${this.#host}:${node.ports.PLAINTEXT} in time (${res instanceof Error ? res.message : `error code ${res.errorCode}`})\n${await this.#logTail(node)}`)
      await delay(200, undefined, { signal })
    }
  }

  async #logTail(node: DockerNode): Promise<string> {
    if (!node.container) return ''
    try {
      const stream = await node.container.logs({ tail: 40 })
      const text = await new Promise<string>((resolve) => {
        let s = ''
        stream.on('data', (b: Buffer) => (s += b.toString()))
        stream.on('end', () => resolve(s))
        stream.on('error', () => resolve(s))
        setTimeout(() => resolve(s), 2000).unref()
      })
      return `--- last lines of the container's log ---\n${text.trimEnd()}`
    } catch {
      return ''
    }
  }

  #dockerode(node: DockerNode): DockerodeContainer {
    if (!node.container) throw new Error(`Kafka node ${node.id} has no container`)
    return this.#client.container.getById(node.container.getId())
  }

  #node(index: number): DockerNode {
    const node = this.#nodes[index]
    if (!Number.isInteger(index) || !node) throw new RangeError(`broker index ${index} is out of range: this cluster has brokers 0..${this.#nodes.length - 1}`)
    if (this.#stopped) throw new Error('the cluster has been stopped')
    return node
  }

  async stopBroker(index: number): Promise<void> {
    const node = this.#node(index)
    if (!node.running) return
    // docker stop: SIGTERM to the JVM (PID 1 of the container), SIGKILL after the grace period.
    await this.#client.container.stop(this.#dockerode(node), { timeout: STOP_NODE_GRACE_S })
    node.running = false
  }

  async startBroker(index: number): Promise<void> {
    const node = this.#node(index)
    if (node.running) throw new Error(`broker ${index} (node ${node.id}) is already running`)
    const timeout = this.#opts.readyTimeoutMs ?? (Number(process.env.KAFKA_WIRE_READY_TIMEOUT_MS) || DEFAULT_READY_TIMEOUT_MS)
    await this.#client.container.start(this.#dockerode(node))
    node.running = true
    await this.#waitReady(node, Date.now() + timeout)
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    const errors: unknown[] = []
    await Promise.all(
      this.#nodes.map(async (n) => {
        if (!n.container) return
        await n.container.stop({ timeout: STOP_CLUSTER_GRACE_S, remove: true, removeVolumes: true }).catch((e: unknown) => errors.push(e))
        n.running = false
      }),
    )
    if (this.#network) await this.#network.stop().catch((e: unknown) => errors.push(e))
    if (this.#dir) {
      await rm(this.#dir, { recursive: true, force: true })
      untrackDir(this.#dir)
    }
    // Everything is gone (or reported below): the watchdog must not fire on our exit.
    this.#watchdog?.kill('SIGKILL')
    if (errors.length) throw new Error(`stopping the Docker cluster left something behind: ${errors.map(describe).join('; ')}`)
  }

  /**
   * runJavaTool runs a Kafka Java program inside a running node's container (the image's Java and jars;
   * the host needs neither). Arguments are adapted so the call reads as it would on the host: an
   * address from bootstrapServers (or its SASL/TLS siblings) becomes the same listener's address on the
   * cluster's network, and an absolute path to a file on the host is copied into the container at the
   * same path first. Files a tool writes stay in the container.
   */
  async runJavaTool(mainClass: string, args: string[], opts: JavaToolOptions = {}): Promise<JavaToolResult> {
    const node = this.#nodes.find((n) => n.running && n.container)
    if (!node?.container) throw new Error('runJavaTool: no node of this Docker cluster is running')
    const c = node.container
    const files = [mainClass, ...args].filter((a) => isAbsolute(a) && existsSync(a) && statSync(a).isFile())
    if (files.length) await c.copyFilesToContainer(files.map((f) => ({ source: f, target: f, mode: 0o644 })))
    const run = ++this.#toolRuns
    const pidFile = `/tmp/kafka-wire-tool-${run}.pid`
    let stdin = '/dev/null'
    if (opts.input !== undefined) {
      stdin = `/tmp/kafka-wire-tool-${run}.in`
      await c.copyContentToContainer([{ content: opts.input, target: stdin, mode: 0o644 }])
    }
    const env: Record<string, string> = {
      KAFKA_HEAP_OPTS: `-Xmx${opts.heap ?? '512m'}`,
      // Tools live for seconds: the C1 compiler and the serial collector start faster.
      KAFKA_JVM_PERFORMANCE_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true',
      KAFKA_OPTS: (opts.jvmArgs ?? []).join(' '),
      KAFKA_LOG4J_OPTS: '-Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.yaml',
    }
    for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v
    // `exec` keeps one process from the shell to the JVM, so the pid written first is the JVM's.
    const script = `echo $$ > ${pidFile}; exec "$@" < ${stdin}`
    const cmd = ['/bin/sh', '-c', script, 'kafka-wire-tool', '/opt/kafka/bin/kafka-run-class.sh', mainClass, ...args.map((a) => this.#internalize(a))]
    const exec = c.exec(cmd, { env })
    let killedBy: string | undefined
    const kill = (why: string) => {
      killedBy = why
      void c.exec(['/bin/sh', '-c', `kill -KILL "$(cat ${pidFile})" 2>/dev/null`]).catch(() => {})
    }
    const timer = setTimeout(() => kill('timeout'), opts.timeoutMs ?? 120_000)
    const onAbort = () => kill('abort')
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const res = await exec
      return { code: killedBy ? null : res.exitCode, stdout: res.stdout, stderr: res.stderr }
    } finally {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      void c.exec(['rm', '-f', pidFile, ...(opts.input !== undefined ? [stdin] : [])]).catch(() => {})
    }
  }

  #internalize(arg: string): string {
    return arg.replace(/[A-Za-z0-9.[\]:-]+:\d+/g, (addr) => this.#internal.get(addr) ?? addr)
  }

  // --- crash cleanup: Ryuk is often unavailable (TESTCONTAINERS_RYUK_DISABLED), so a small detached
  // process removes our containers and network if this one dies without stopping the cluster.

  #startWatchdog(): void {
    const modem = this.#client.container.dockerode.modem
    const target = modem.socketPath ? { socketPath: modem.socketPath } : modem.protocol === 'http' && modem.host ? { host: modem.host, port: Number(modem.port ?? 2375) } : undefined
    if (!target) return // TLS or SSH: only Ryuk can clean up there
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    const dog = spawn(process.execPath, ['-e', WATCHDOG, JSON.stringify(target)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env })
    dog.on('error', () => {})
    dog.stdin?.on('error', () => {})
    dog.unref()
    ;(dog.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    this.#watchdog = dog
  }

  #watch(kind: 'c' | 'n', id: string): void {
    this.#watchdog?.stdin?.write(`${kind} ${id}\n`)
  }
}

// Reads "c <id>" / "n <id>" lines until stdin closes (this process died or let go), then force-removes
// the containers (with their volumes) and the networks through the Docker API. Plain CommonJS for `node -e`.
const WATCHDOG = `
const http = require('http')
const target = JSON.parse(process.argv[1])
const ids = { c: [], n: [] }
let buf = ''
process.stdin.on('data', (d) => {
  buf += d
  let i
  while ((i = buf.indexOf('\\n')) >= 0) {
    const [k, id] = buf.slice(0, i).split(' ')
    buf = buf.slice(i + 1)
    if (ids[k] && /^[0-9a-f]+$/.test(id)) ids[k].push(id)
  }
})
const del = (path) => new Promise((resolve) => {
  const req = http.request({ ...target, method: 'DELETE', path }, (res) => { res.resume(); res.on('end', resolve) })
  req.on('error', resolve)
  req.setTimeout(30000, () => { req.destroy(); resolve() })
  req.end()
})
process.stdin.on('end', async () => {
  await Promise.all(ids.c.map((id) => del('/containers/' + id + '?force=true&v=true')))
  for (const id of ids.n) await del('/networks/' + id)
})
`

/** readTar reads the regular files of an uncompressed tar stream (what the Docker API's archive endpoint returns). */
export async function readTar(stream: NodeJS.ReadableStream): Promise<Map<string, Buffer>> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
  const tar = Buffer.concat(chunks)
  const files = new Map<string, Buffer>()
  let longName: string | undefined
  for (let o = 0; o + 512 <= tar.length; ) {
    const header = tar.subarray(o, o + 512)
    if (header.every((b) => b === 0)) break
    const field = (start: number, len: number) => header.toString('utf8', start, start + len).replace(/\0.*$/s, '')
    const size = parseInt(field(124, 12).trim() || '0', 8)
    const type = String.fromCharCode(header[156] ?? 0)
    const prefix = field(345, 155)
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100))
    longName = undefined
    const data = tar.subarray(o + 512, o + 512 + size)
    if (type === 'L') longName = data.toString('utf8').replace(/\0.*$/s, '')
    else if (type === '0' || type === '\0') files.set(name, Buffer.from(data))
    o += 512 + Math.ceil(size / 512) * 512
  }
  return files
}

function isIp(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':')
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`
}
