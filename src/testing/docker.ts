import { existsSync } from 'node:fs'
import { connect, type NetConnectOpts } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { TEST_USERS, type KafkaCluster, type StartKafkaOptions } from './cluster.js'
import type { JavaToolOptions, JavaToolResult } from './java.js'
import { kafkaClusterId } from './jvm.js'
import { KAFKA_VERSION } from './kafka-version.js'
import { freePorts } from './ports.js'
import { dockerEnvName, saslSettings, testBrokerSettings } from './settings.js'

/**
 * dockerEngineAvailable tells, within `timeoutMs`, whether a Docker engine answers `GET /_ping` on
 * DOCKER_HOST or on the usual sockets. A machine without the sockets pays only a few `stat`s, so the
 * JVM path is not slowed down by the check.
 */
export async function dockerEngineAvailable(timeoutMs = 500): Promise<boolean> {
  const targets: NetConnectOpts[] = []
  const dockerHost = process.env.DOCKER_HOST
  if (dockerHost) {
    const url = new URL(dockerHost)
    if (url.protocol === 'unix:') targets.push({ path: url.pathname })
    else if (url.protocol === 'tcp:') targets.push({ host: url.hostname, port: Number(url.port || 2375) })
  } else {
    const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')]
    if (process.env.XDG_RUNTIME_DIR) sockets.push(join(process.env.XDG_RUNTIME_DIR, 'docker.sock')) // rootless
    for (const path of sockets) if (existsSync(path)) targets.push({ path })
  }
  for (const target of targets) if (await pings(target, timeoutMs)) return true
  return false
}

function pings(target: NetConnectOpts, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target)
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n'))
    socket.on('data', (b: Buffer) => {
      reply += b.toString()
      if (/^HTTP\/1\.[01] 200/.test(reply)) done(true)
      else if (reply.includes('\r\n')) done(false)
    })
    socket.once('end', () => done(/^HTTP\/1\.[01] 200/.test(reply)))
  })
}

// The parts of testcontainers this module uses, typed here because the package is optional.
interface StartedContainer {
  stop(): Promise<unknown>
  exec(cmd: string[]): Promise<{ exitCode: number; output: string; stdout?: string; stderr?: string }>
}
interface Testcontainers {
  GenericContainer: new (image: string) => {
    withEnvironment(env: Record<string, string>): any
  }
  Wait: { forLogMessage(re: RegExp): unknown }
}

/**
 * startDockerKafka runs one `apache/kafka:<version>` container through Testcontainers, when that
 * package is installed (it is not a dependency: `npm i -D testcontainers` opts in). It returns
 * undefined when it cannot serve the request (package missing, TLS, or more than one broker), and the
 * caller falls back to the JVM. The container listens on the same port numbers it publishes, so the
 * advertised 127.0.0.1:<port> is right both inside (inter-broker) and outside (tests).
 */
export async function startDockerKafka(opts: StartKafkaOptions = {}): Promise<KafkaCluster | undefined> {
  if (opts.tls || (opts.brokers ?? 1) !== 1) return undefined
  const moduleName = 'testcontainers' // a variable, so TypeScript does not require the package
  const tc = (await import(moduleName).catch(() => undefined)) as Testcontainers | undefined
  if (!tc?.GenericContainer) return undefined

  const version = opts.version ?? KAFKA_VERSION
  const [plaintext, sasl] = await freePorts(2)
  const listeners = [`PLAINTEXT://0.0.0.0:${plaintext}`]
  const advertised = [`PLAINTEXT://127.0.0.1:${plaintext}`]
  if (opts.sasl) {
    listeners.push(`SASL_PLAINTEXT://0.0.0.0:${sasl}`)
    advertised.push(`SASL_PLAINTEXT://127.0.0.1:${sasl}`)
  }
  const props: Record<string, string> = {
    'node.id': '1',
    'process.roles': 'broker,controller',
    'controller.quorum.voters': '1@localhost:9093',
    'controller.listener.names': 'CONTROLLER',
    listeners: [...listeners, 'CONTROLLER://localhost:9093'].join(','),
    'advertised.listeners': advertised.join(','),
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    ...testBrokerSettings(1),
    ...(opts.sasl ? saslSettings(['sasl_plaintext']) : {}),
    ...opts.brokerConfig,
  }
  const env: Record<string, string> = { CLUSTER_ID: kafkaClusterId() }
  for (const [k, v] of Object.entries(props)) env[dockerEnvName(k)] = v
  // The image refuses to start a SASL listener without KAFKA_OPTS (it expects a JAAS file there); the
  // listener-scoped JAAS settings above make a file unnecessary, so any harmless option will do.
  if (opts.sasl) env.KAFKA_OPTS = '-Dkafka-wire.jaas=listener-scoped'
  const ports = [plaintext, ...(opts.sasl ? [sasl] : [])].map((p) => ({ container: p, host: p }))
  const container: StartedContainer = await new tc.GenericContainer(`apache/kafka:${version}`)
    .withEnvironment(env)
    .withExposedPorts(...ports)
    .withWaitStrategy(tc.Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(opts.readyTimeoutMs ?? 180_000)
    .start()
  const bootstrap = `127.0.0.1:${plaintext}`
  const runJavaTool = async (mainClass: string, args: string[], toolOpts?: JavaToolOptions): Promise<JavaToolResult> => {
    if (toolOpts?.input !== undefined) throw new Error('runJavaTool: stdin input is not supported for a Docker cluster')
    const res = await container.exec(['/opt/kafka/bin/kafka-run-class.sh', mainClass, ...args])
    return { code: res.exitCode, stdout: res.stdout ?? res.output, stderr: res.stderr ?? '' }
  }
  try {
    if (opts.sasl) {
      // The image formats storage itself, so SCRAM users cannot be added at format time: add them now.
      for (const { username, password } of [TEST_USERS.plain, TEST_USERS.admin]) {
        const res = await runJavaTool('kafka.admin.ConfigCommand', [
          '--bootstrap-server', bootstrap, '--alter', '--entity-type', 'users', '--entity-name', username,
          '--add-config', `SCRAM-SHA-256=[password=${password}],SCRAM-SHA-512=[password=${password}]`,
        ])
        if (res.code !== 0) throw new Error(`creating SCRAM user ${username} failed: ${res.stderr || res.stdout}`)
      }
    }
  } catch (err) {
    await container.stop()
    throw err
  }
  const unsupported = async () => {
    throw new Error('stopBroker/startBroker are not supported for a Docker cluster; ask startKafka({ brokers: 3 }) for nodes the test controls')
  }
  return {
    kind: 'docker',
    version,
    brokers: 1,
    bootstrapServers: [bootstrap],
    saslBootstrapServers: opts.sasl ? [`127.0.0.1:${sasl}`] : undefined,
    users: TEST_USERS,
    runJavaTool,
    stopBroker: unsupported,
    startBroker: unsupported,
    async stop() {
      await container.stop()
    },
  }
}
