import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TEST_USERS, type KafkaCluster, type StartKafkaOptions } from './cluster.js'
import { runKafkaJavaTool, type JavaToolOptions, type JavaToolResult } from './java.js'
import { KAFKA_VERSION } from './kafka-version.js'
import { resolveKafkaJars } from './maven.js'

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
  const refuse = (what: string) => async () => {
    throw new Error(`${what} is not possible on the cluster named by ${ENV.bootstrap} (${bootstrapServers.join(',')}): it was not started here; ask startKafka({ brokers: 3 }) for a cluster whose nodes the test controls`)
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
    async runJavaTool(mainClass: string, args: string[], toolOpts?: JavaToolOptions): Promise<JavaToolResult> {
      // Without KAFKA_JARS (e.g. a docker compose cluster) the tools come from the same Maven cache.
      const libs = jars ?? (await resolveKafkaJars(version))
      return runKafkaJavaTool(libs, mainClass, args, toolOpts)
    },
    stopBroker: refuse('stopBroker'),
    startBroker: refuse('startBroker'),
    async stop() {
      // Not ours to stop.
    },
  }
}
