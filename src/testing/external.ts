import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TEST_USERS, type KafkaCluster, type StartKafkaOptions } from './cluster.js'
import { setTimeout as delay } from 'node:timers/promises'
import { containerRunning, startContainer, stopContainer } from './docker-api.js'
import { runKafkaJavaTool, type JavaToolOptions, type JavaToolResult } from './java.js'
import { DEFAULT_READY_TIMEOUT_MS } from './jvm.js'
import { KAFKA_VERSION } from './kafka-version.js'
import { resolveKafkaJars } from './maven.js'
import { apiVersions, parseHostPort } from './probe.js'

/**
 * ENV names the variables that describe a cluster started elsewhere (by `npm test`, docker compose or a
 * developer): only KAFKA_BOOTSTRAP is required.
 */
export const ENV = Object.freeze({
  /** Comma-separated host:port of the PLAINTEXT listeners. */
  bootstrap: 'KAFKA_BOOTSTRAP',
  /** Comma-separated host:port of the SASL_PLAINTEXT listeners (PLAIN and SCRAM users of TEST_USERS). */
  saslBootstrap: 'KAFKA_SASL_BOOTSTRAP',
  /** Comma-separated host:port of the SSL listeners. */
  tlsBootstrap: 'KAFKA_TLS_BOOTSTRAP',
  /** Comma-separated host:port of the SASL_SSL listeners. */
  saslTlsBootstrap: 'KAFKA_SASL_TLS_BOOTSTRAP',
  /** Path of the PEM CA that verifies the TLS listeners. */
  tlsCaFile: 'KAFKA_TLS_CA_FILE',
  /** Folder of Kafka's jars, for the Java tools (resolved through Maven when unset). */
  jars: 'KAFKA_JARS',
  /** Number of brokers in the cluster; default 1. */
  brokers: 'KAFKA_BROKERS',
  /** The cluster's Kafka version, when it is not the pinned one. */
  version: 'KAFKA_CLUSTER_VERSION',
  /**
   * Comma-separated Docker container names (or ids) of the nodes, in KAFKA_BOOTSTRAP's order: with it,
   * stopBroker and startBroker stop and start those containers (e.g. docker-compose.yml's cluster).
   */
  containers: 'KAFKA_CONTAINERS',
})

const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined)

/**
 * externalClusterFromEnv describes the cluster named by KAFKA_BOOTSTRAP and its companions, or returns
 * undefined when the environment names none or cannot serve the request: a caller that wants three
 * brokers (and the env has fewer), or its own broker settings, needs a cluster it controls. It throws
 * when the caller asks for a listener kind that the environment does not describe, rather than let a
 * SASL or TLS test run against the wrong port.
 */
export function externalClusterFromEnv(opts: StartKafkaOptions = {}, env: NodeJS.ProcessEnv = process.env): KafkaCluster | undefined {
  const bootstrapServers = list(env[ENV.bootstrap])
  if (!bootstrapServers?.length) return undefined
  const brokers = Number(env[ENV.brokers]) || 1
  if ((opts.brokers ?? 1) > brokers) return undefined
  if (opts.brokerConfig && Object.keys(opts.brokerConfig).length > 0) return undefined
  if (opts.authorizer) return undefined
  const saslBootstrapServers = list(env[ENV.saslBootstrap])
  const tlsBootstrapServers = list(env[ENV.tlsBootstrap])
  const saslTlsBootstrapServers = list(env[ENV.saslTlsBootstrap])
  if (opts.sasl && !saslBootstrapServers) {
    throw new Error(`startKafka({ sasl: true }): ${ENV.bootstrap} is set but ${ENV.saslBootstrap} is not; set it to the cluster's SASL_PLAINTEXT listeners, or unset ${ENV.bootstrap} to start a broker here`)
  }
  if (opts.tls && !tlsBootstrapServers) {
    throw new Error(`startKafka({ tls: true }): ${ENV.bootstrap} is set but ${ENV.tlsBootstrap} is not; set it (and ${ENV.tlsCaFile}), or unset ${ENV.bootstrap} to start a broker here`)
  }
  const caFile = env[ENV.tlsCaFile]
  const ca = caFile ? readFileSync(caFile, 'utf8') : undefined
  const jars = env[ENV.jars]
  const version = env[ENV.version] || KAFKA_VERSION
  const containers = list(env[ENV.containers])
  if (containers && containers.length !== bootstrapServers.length) {
    throw new Error(`${ENV.containers} names ${containers.length} containers but ${ENV.bootstrap} ${bootstrapServers.length} brokers: give one container per broker, in the same order`)
  }
  const refuse = (what: string) => async () => {
    throw new Error(`${what} is not possible on the cluster named by ${ENV.bootstrap} (${bootstrapServers.join(',')}): it was not started here; set ${ENV.containers} to its Docker containers, or ask startKafka({ brokers: 3 }) without ${ENV.bootstrap} for a cluster whose nodes the test controls`)
  }
  const container = (index: number): string => {
    const name = containers?.[index]
    if (!Number.isInteger(index) || name === undefined) throw new RangeError(`broker index ${index} is out of range: this cluster has brokers 0..${bootstrapServers.length - 1}`)
    return name
  }
  return {
    kind: 'external',
    version,
    brokers,
    bootstrapServers,
    saslBootstrapServers,
    tlsBootstrapServers,
    saslTlsBootstrapServers,
    ca,
    caFile,
    users: TEST_USERS,
    javaClasspath: jars ? join(jars, '*') : undefined,
    containers,
    async runJavaTool(mainClass: string, args: string[], toolOpts?: JavaToolOptions): Promise<JavaToolResult> {
      // Without KAFKA_JARS (e.g. a docker compose cluster) the tools come from the same Maven cache.
      const libs = jars ?? (await resolveKafkaJars(version))
      return runKafkaJavaTool(libs, mainClass, args, toolOpts)
    },
    stopBroker: containers
      ? async (index: number) => {
          await stopContainer(container(index), 15)
        }
      : refuse('stopBroker'),
    startBroker: containers
      ? async (index: number) => {
          const name = container(index)
          if (await containerRunning(name)) throw new Error(`broker ${index} (container ${name}) is already running`)
          await startContainer(name)
          await waitForApiVersions(bootstrapServers[index] as string, name)
        }
      : refuse('startBroker'),
    async stop() {
      // Not ours to stop.
    },
  }
}

/** waitForApiVersions waits (within KAFKA_WIRE_READY_TIMEOUT_MS, default 90 s) until a restarted container's broker answers. */
async function waitForApiVersions(address: string, name: string): Promise<void> {
  const { host, port } = parseHostPort(address)
  const deadline = Date.now() + (Number(process.env.KAFKA_WIRE_READY_TIMEOUT_MS) || DEFAULT_READY_TIMEOUT_MS)
  for (;;) {
    const res = await apiVersions(host, port, { timeoutMs: 2000 }).catch((e: Error) => e)
    if (!(res instanceof Error) && res.errorCode === 0) return
    if (!(await containerRunning(name))) throw new Error(`container ${name} stopped before its broker at ${address} was ready`)
    if (Date.now() >= deadline) throw new Error(`the broker of container ${name} did not answer ApiVersions at ${address} in time (${res instanceof Error ? res.message : `error code ${res.errorCode}`})`)
    await delay(200)
  }
}
