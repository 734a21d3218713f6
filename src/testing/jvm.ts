import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync } from 'node:fs'
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { generateCerts, KEYSTORE_PASSWORD, type BrokerCerts } from './certs.js'
import { TEST_USERS, type KafkaCluster, type StartKafkaOptions } from './cluster.js'
import { findJava, runKafkaJavaTool, type JavaRuntime, type JavaToolOptions, type JavaToolResult } from './java.js'
import { KAFKA_VERSION } from './kafka-version.js'
import { resolveKafkaJars } from './maven.js'
import { authorizerSettings, saslSettings, superUsersOf, testBrokerSettings } from './settings.js'
import { freePorts } from './ports.js'
import { apiVersions, waitForPort } from './probe.js'
import { killWatchdog, spawnWatchdog, trackDir, trackPid, untrackDir, untrackPid } from './watchdog.js'

const HOST = '127.0.0.1'
/** DEFAULT_READY_TIMEOUT_MS bounds how long a node may take from spawn to ready. */
export const DEFAULT_READY_TIMEOUT_MS = 90_000
const STOP_NODE_GRACE_MS = 15_000
const STOP_CLUSTER_GRACE_MS = 20_000
// KafkaRaftServer.startup() logs this last, after unfencing and after every acceptor has started.
const STARTED_LINE = /\] Kafka Server started \(kafka\.server\.KafkaRaftServer\)/

/** kafkaClusterId returns a fresh Kafka Uuid: base64url of 16 random bytes, re-rolled if it starts with '-' as Uuid.randomUuid() does. */
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

interface NodePorts {
  plaintext: number
  controller: number
  sasl?: number
  ssl?: number
  saslSsl?: number
}

interface JvmNode {
  id: number
  dir: string
  config: string
  log: string
  ports: NodePorts
  proc?: ChildProcess
  exited?: Promise<void>
  exit?: { code: number | null; signal: NodeJS.Signals | null; error?: Error }
  watchdog?: ChildProcess
}

/**
 * startJvmCluster runs Apache Kafka from its Maven jars with the machine's Java: KRaft, combined
 * broker+controller nodes on 127.0.0.1 with a static quorum, storage formatted in a fresh temporary
 * folder, and resolves once every node answers ApiVersions. On any failure it stops what it started.
 */
export async function startJvmCluster(opts: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const version = opts.version ?? KAFKA_VERSION
  const count = opts.brokers ?? 1
  const { signal } = opts
  const [java, libs] = await Promise.all([findJava(), resolveKafkaJars(version, { signal, log: opts.log })])
  signal?.throwIfAborted()

  const dir = await mkdtemp(join(tmpdir(), 'kafka-wire-'))
  trackDir(dir)
  const cluster = new JvmCluster(dir, version, libs, java, opts)
  try {
    let t = performance.now()
    await cluster.init()
    opts.log?.(`formatted ${count} node${count > 1 ? 's' : ''}${opts.tls ? ' and made TLS certificates' : ''} in ${seconds(t)}`)
    t = performance.now()
    await cluster.startAll()
    opts.log?.(`started ${count} node${count > 1 ? 's' : ''} in ${seconds(t)}`)
    return cluster
  } catch (err) {
    await cluster.stop()
    // A child killed by the abort reports only its exit; the abort is the reason worth showing.
    if (signal?.aborted) throw signal.reason
    throw err
  }
}

class JvmCluster implements KafkaCluster {
  readonly kind = 'jvm' as const
  readonly version: string
  readonly brokers: number
  readonly users = TEST_USERS
  readonly dir: string
  readonly javaClasspath: string
  bootstrapServers: string[] = []
  saslBootstrapServers?: string[]
  tlsBootstrapServers?: string[]
  saslTlsBootstrapServers?: string[]
  ca?: string
  caFile?: string

  #libs: string
  #java: JavaRuntime
  #opts: StartKafkaOptions
  #nodes: JvmNode[] = []
  #stopped = false

  constructor(dir: string, version: string, libs: string, java: JavaRuntime, opts: StartKafkaOptions) {
    this.dir = dir
    this.version = version
    this.brokers = opts.brokers ?? 1
    this.#libs = libs
    this.javaClasspath = join(libs, '*')
    this.#java = java
    this.#opts = opts
  }

  /** init picks ports, writes every node's configuration, and formats storage (and makes certificates) side by side. */
  async init(): Promise<void> {
    const { sasl = false, tls = false, signal } = this.#opts
    const perNode = 2 + (sasl ? 1 : 0) + (tls ? 1 : 0) + (sasl && tls ? 1 : 0)
    const ports = await freePorts(perNode * this.brokers)
    for (let i = 0; i < this.brokers; i++) {
      const take = () => ports.shift() as number
      const p: NodePorts = { plaintext: take(), controller: take() }
      if (sasl) p.sasl = take()
      if (tls) p.ssl = take()
      if (sasl && tls) p.saslSsl = take()
      const nodeDir = join(this.dir, `node${i + 1}`)
      this.#nodes.push({ id: i + 1, dir: nodeDir, config: join(nodeDir, 'server.properties'), log: join(nodeDir, 'stdout.log'), ports: p })
    }
    const addrs = (pick: (p: NodePorts) => number | undefined) => this.#nodes.map((n) => `${HOST}:${pick(n.ports)}`)
    this.bootstrapServers = addrs((p) => p.plaintext)
    if (sasl) this.saslBootstrapServers = addrs((p) => p.sasl)
    if (tls) this.tlsBootstrapServers = addrs((p) => p.ssl)
    if (sasl && tls) this.saslTlsBootstrapServers = addrs((p) => p.saslSsl)

    const certsDir = join(this.dir, 'certs')
    const keystore = join(certsDir, 'broker.p12')
    await writeFile(join(this.dir, 'log4j2.properties'), BROKER_LOG4J2)
    for (const node of this.#nodes) {
      await mkdir(node.dir, { recursive: true })
      await writeFile(node.config, this.#serverProperties(node, keystore))
    }

    const clusterId = kafkaClusterId()
    const scram = sasl
      ? [TEST_USERS.plain, TEST_USERS.admin].flatMap(({ username, password }) =>
          ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${username},password=${password}]`]),
        )
      : []
    // Formatting is a JVM start per node and certificates a few keytool starts: none depends on another.
    const [certs] = await Promise.all([
      tls ? generateCerts(certsDir, this.#java.keytool, signal) : Promise.resolve(undefined as BrokerCerts | undefined),
      ...this.#nodes.map(async (node) => {
        const res = await runKafkaJavaTool(this.#libs, 'kafka.tools.StorageTool', ['format', '--config', node.config, '--cluster-id', clusterId, ...scram], {
          heap: '256m',
          signal,
          timeoutMs: 60_000,
        })
        if (res.code !== 0) throw new Error(`formatting storage of Kafka node ${node.id} failed (exit ${res.code}):\n${(res.stderr + res.stdout).trim().slice(-3000)}`)
      }),
    ])
    if (certs) {
      this.ca = certs.caPem
      this.caFile = certs.caFile
    }
  }

  #serverProperties(node: JvmNode, keystore: string): string {
    const n = this.brokers
    const p = node.ports
    const listeners: Array<[string, number]> = [['PLAINTEXT', p.plaintext]]
    if (p.sasl) listeners.push(['SASL_PLAINTEXT', p.sasl])
    if (p.ssl) listeners.push(['SSL', p.ssl])
    if (p.saslSsl) listeners.push(['SASL_SSL', p.saslSsl])
    const url = ([name, port]: [string, number]) => `${name}://${HOST}:${port}`
    const props: Record<string, string> = {
      'process.roles': 'broker,controller',
      'node.id': String(node.id),
      'controller.quorum.voters': this.#nodes.map((o) => `${o.id}@${HOST}:${o.ports.controller}`).join(','),
      'controller.listener.names': 'CONTROLLER',
      listeners: [...listeners.map(url), `CONTROLLER://${HOST}:${p.controller}`].join(','),
      'advertised.listeners': listeners.map(url).join(','),
      // Replication and the controller stay on PLAINTEXT: tests exercise the client's security, not the broker's.
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
      'log.dirs': join(node.dir, 'data'),
      ...testBrokerSettings(n),
      ...(p.sasl || p.saslSsl ? saslSettings(['sasl_plaintext', 'sasl_ssl']) : {}),
      ...(this.#opts.authorizer ? authorizerSettings(superUsersOf(this.#opts.authorizer)) : {}),
    }
    if (p.ssl || p.saslSsl) {
      props['ssl.keystore.type'] = 'PKCS12'
      props['ssl.keystore.location'] = keystore
      props['ssl.keystore.password'] = KEYSTORE_PASSWORD
      props['ssl.key.password'] = KEYSTORE_PASSWORD
    }
    Object.assign(props, this.#opts.brokerConfig)
    return (
      `# Written by kafka-wire's src/testing/jvm.ts for node ${node.id} of a throwaway test cluster.\n` +
      Object.entries(props)
        .map(([k, v]) => `${k}=${escapeProperty(v)}`)
        .join('\n') +
      '\n'
    )
  }

  /** startAll starts every node at once (a node waits for a quorum of its peers) and waits until all are ready. */
  async startAll(): Promise<void> {
    await Promise.all(this.#nodes.map((node) => this.#startNode(node)))
  }

  async #startNode(node: JvmNode): Promise<void> {
    const timeout = this.#opts.readyTimeoutMs ?? (Number(process.env.KAFKA_WIRE_READY_TIMEOUT_MS) || DEFAULT_READY_TIMEOUT_MS)
    const deadline = Date.now() + timeout
    const heap = this.brokers >= 3 ? '512m' : '768m'
    const args = [
      `-Xmx${heap}`,
      // Kafka's own performance flags (kafka-run-class.sh).
      '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent',
      '-XX:MaxInlineLevel=15', '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${join(node.dir, 'logs')}`,
      ...(this.#opts.jvmArgs ?? []),
      '-cp', this.javaClasspath,
      'kafka.Kafka', node.config,
    ]
    // Appending keeps a restarted node's earlier life in the same file; readiness only reads what is new.
    const logStart = await fileSize(node.log)
    const fd = openSync(node.log, 'a')
    let proc: ChildProcess
    try {
      // detached: its own process group, so a terminal's Ctrl-C reaches only us and we stop nodes in order.
      proc = spawn(this.#java.java, args, { cwd: node.dir, stdio: ['ignore', fd, fd], detached: true })
    } finally {
      closeSync(fd)
    }
    node.exit = undefined
    node.proc = proc
    node.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, sig) => {
        node.exit = { code, signal: sig }
        if (proc.pid) untrackPid(proc.pid)
        killWatchdog(node.watchdog)
        resolve()
      })
      proc.once('error', (err) => {
        // Only a failed spawn lands here (we never signal a process that is gone).
        node.exit = { code: null, signal: null, error: err }
        resolve()
      })
    })
    proc.unref()
    if (proc.pid) {
      trackPid(proc.pid)
      node.watchdog = spawnWatchdog(proc.pid, this.dir)
    }
    try {
      await this.#waitReady(node, logStart, deadline, timeout)
    } catch (err) {
      await this.#stopNode(node, 0)
      throw err
    }
  }

  async #waitReady(node: JvmNode, logStart: number, deadline: number, timeout: number): Promise<void> {
    const signal = this.#opts.signal
    const failed = () => {
      const x = node.exit
      if (!x) return undefined
      return new Error(`Kafka node ${node.id} ${x.error ? `could not start: ${x.error.message}` : `exited (${x.signal ?? `code ${x.code}`}) before it was ready`}`)
    }
    const withTail = async (err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err)
      if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error(msg)
      const errors = await errorLines(node.log, logStart, 5)
      const first = errors ? `\n--- first errors in ${node.log} ---\n${errors}` : ''
      return new Error(`${msg}${first}\n--- last lines of ${node.log} ---\n${await tail(node.log, 30)}`)
    }
    try {
      await waitForLine(node.log, logStart, STARTED_LINE, { deadline, signal, failed })
      // The acceptors open after unfencing and before the log line, so these should answer at once.
      for (const port of Object.values(node.ports)) {
        if (port === node.ports.controller) continue
        await waitForPort(HOST, port, { deadline, signal, failed })
      }
      // Proof that a Kafka broker, not just a socket, is there.
      for (;;) {
        const err = failed()
        if (err) throw err
        const res = await apiVersions(HOST, node.ports.plaintext, { timeoutMs: Math.max(1000, deadline - Date.now()) }).catch((e: Error) => e)
        if (!(res instanceof Error) && res.errorCode === 0 && res.apiKeys.length > 0) return
        if (Date.now() >= deadline) throw new Error(`Kafka node ${node.id} does not answer ApiVersions: ${res instanceof Error ? res.message : `error code ${res.errorCode}`}`)
        await delay(100, undefined, { signal })
      }
    } catch (err) {
      const e = err instanceof Error && /in time|timed out/.test(err.message) ? new Error(`Kafka node ${node.id} was not ready within ${timeout} ms (${err.message})`) : err
      throw await withTail(e)
    }
  }

  async #stopNode(node: JvmNode, graceMs: number): Promise<void> {
    const proc = node.proc
    killWatchdog(node.watchdog)
    if (!proc || node.exit || !node.exited) return
    // kafka.Kafka installs a shutdown hook: SIGTERM is the clean stop. SIGKILL only when it takes too long.
    if (graceMs > 0) {
      proc.kill('SIGTERM')
      if (await settles(node.exited, graceMs)) return
    }
    proc.kill('SIGKILL')
    await settles(node.exited, 10_000)
  }

  #node(index: number): JvmNode {
    const node = this.#nodes[index]
    if (!Number.isInteger(index) || !node) throw new RangeError(`broker index ${index} is out of range: this cluster has brokers 0..${this.#nodes.length - 1}`)
    if (this.#stopped) throw new Error('the cluster has been stopped')
    return node
  }

  async stopBroker(index: number): Promise<void> {
    await this.#stopNode(this.#node(index), STOP_NODE_GRACE_MS)
  }

  async startBroker(index: number): Promise<void> {
    const node = this.#node(index)
    if (node.proc && !node.exit) throw new Error(`broker ${index} (node ${node.id}) is already running`)
    await this.#startNode(node)
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await Promise.all(this.#nodes.map((node) => this.#stopNode(node, STOP_CLUSTER_GRACE_MS)))
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 })
    untrackDir(this.dir)
  }

  runJavaTool(mainClass: string, args: string[], opts?: JavaToolOptions): Promise<JavaToolResult> {
    return runKafkaJavaTool(this.#libs, mainClass, args, opts)
  }
}

// Kafka's log pattern, to stdout (redirected to the node's stdout.log). The request loggers are noisy at INFO.
const BROKER_LOG4J2 = `status = warn
name = kafka-wire-broker
appender.console.type = Console
appender.console.name = STDOUT
appender.console.target = SYSTEM_OUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.req.name = kafka.request.logger
logger.req.level = WARN
logger.reqch.name = kafka.network.RequestChannel$
logger.reqch.level = WARN
`

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`
}

function escapeProperty(value: string): string {
  // java.util.Properties treats a backslash as an escape; nothing else in our values is special.
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

async function fileSize(file: string): Promise<number> {
  try {
    const fh = await open(file, 'r')
    try {
      return (await fh.stat()).size
    } finally {
      await fh.close()
    }
  } catch {
    return 0
  }
}

/**
 * waitForLine resolves when a line matching `re` appears in `file` after byte `from`. The JVM writes
 * the file directly (no pipe through us, so it keeps logging if we are busy), which leaves reading
 * what is new every 100 ms as the way to notice.
 */
async function waitForLine(file: string, from: number, re: RegExp, opts: { deadline: number; signal?: AbortSignal; failed: () => Error | undefined }): Promise<void> {
  let pos = from
  let carry = ''
  const fh = await open(file, 'r')
  try {
    for (;;) {
      opts.signal?.throwIfAborted()
      const buf = Buffer.alloc(64 * 1024)
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos)
        if (bytesRead === 0) break
        pos += bytesRead
        const text = carry + buf.toString('utf8', 0, bytesRead)
        if (re.test(text)) return
        carry = text.slice(-512) // a match split across two reads
      }
      const err = opts.failed()
      if (err) throw err
      if (Date.now() >= opts.deadline) throw new Error(`no "Kafka Server started" line in time`)
      await delay(100, undefined, { signal: opts.signal })
    }
  } finally {
    await fh.close()
  }
}

/** errorLines returns the first `max` ERROR/FATAL lines logged after byte `from`: the cause, before the shutdown noise that follows it. */
async function errorLines(file: string, from: number, max: number): Promise<string> {
  try {
    const fh = await open(file, 'r')
    try {
      const { size } = await fh.stat()
      const len = Math.min(size - from, 4 * 1024 * 1024)
      if (len <= 0) return ''
      const buf = Buffer.alloc(len)
      await fh.read(buf, 0, len, from)
      const found = buf.toString('utf8').split('\n').filter((l) => /^\[[^\]]+\] (ERROR|FATAL) /.test(l))
      return found.slice(0, max).map((l) => (l.length > 2000 ? `${l.slice(0, 2000)}…` : l)).join('\n')
    } finally {
      await fh.close()
    }
  } catch {
    return ''
  }
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    const fh = await open(file, 'r')
    try {
      const { size } = await fh.stat()
      const len = Math.min(size, 64 * 1024)
      const buf = Buffer.alloc(len)
      await fh.read(buf, 0, len, size - len)
      return buf.toString('utf8').split('\n').slice(-lines - 1).join('\n').trimEnd()
    } finally {
      await fh.close()
    }
  } catch (err) {
    return `(no log: ${(err as Error).message})`
  }
}

async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController()
  try {
    return await Promise.race([p.then(() => true), delay(ms, false, { signal: ac.signal })])
  } finally {
    ac.abort() // do not keep a timer (and the event loop) alive after the process exited
  }
}
