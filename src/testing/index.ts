import type { KafkaCluster, StartKafkaOptions } from './cluster.js'
import { dockerEngineAvailable, startDockerKafka } from './docker.js'
import { externalClusterFromEnv } from './external.js'
import { startJvmCluster } from './jvm.js'

export type { KafkaCluster, KafkaUsers, SaslMechanism, SaslUser, StartKafkaOptions } from './cluster.js'
export { TEST_USERS } from './cluster.js'
export type { JavaRuntime, JavaToolOptions, JavaToolResult } from './java.js'
export { findJava, runKafkaJavaTool } from './java.js'
export { KAFKA_VERSION, LOG4J2_VERSION } from './kafka-version.js'
export { isKafkaResolved, kafkaCacheRoot, kafkaLibsDir, resolveKafkaClientsJar, resolveKafkaJars } from './maven.js'
export { ENV, externalClusterFromEnv } from './external.js'
export { kafkaClusterId } from './jvm.js'
export { apiVersions, canConnect, parseHostPort, type ApiVersionsOptions, type ApiVersionsResult } from './probe.js'
export { freePorts } from './ports.js'
export {
  buildJaeger,
  isJaegerBuilt,
  JAEGER_IMAGE,
  JAEGER_MODULE_VERSION,
  jaegerBinaryPath,
  jaegerCacheDir,
  startJaeger,
  startJaegerBinary,
  startJaegerContainer,
} from './jaeger.js'
export type { BuildJaegerOptions, Jaeger, JaegerSpanV1, JaegerTag, JaegerTraceV1, OtlpKeyValue, OtlpSpan, OtlpTraceData, StartJaegerOptions } from './jaeger.js'

/**
 * startKafka returns a real Kafka cluster for tests, demos and benchmarks, choosing in order:
 *
 * 1. the cluster named by `KAFKA_BOOTSTRAP` (and KAFKA_SASL_BOOTSTRAP, KAFKA_TLS_BOOTSTRAP,
 *    KAFKA_TLS_CA_FILE, KAFKA_JARS, KAFKA_BROKERS): nothing is started and `stop()` does nothing, unless
 *    the caller needs more brokers than it has or its own `brokerConfig`;
 * 2. a Docker engine with the optional `testcontainers` package installed: one `apache/kafka` container
 *    (single broker, no TLS);
 * 3. Apache Kafka's jars from Maven Central, run with the machine's Java (17+) in KRaft mode.
 *
 * `KAFKA_WIRE_HARNESS=jvm` skips the Docker check; `KAFKA_WIRE_HARNESS=docker` makes a missing Docker
 * path an error instead of a fallback.
 */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const external = externalClusterFromEnv(opts)
  if (external) return external
  const harness = process.env.KAFKA_WIRE_HARNESS
  if (harness !== 'jvm' && (await dockerEngineAvailable())) {
    const cluster = await startDockerKafka(opts)
    if (cluster) return cluster
    if (harness === 'docker') throw new Error('KAFKA_WIRE_HARNESS=docker, but the Docker path cannot serve this request: it needs the testcontainers package and supports one broker without TLS')
  } else if (harness === 'docker') {
    throw new Error('KAFKA_WIRE_HARNESS=docker, but no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)')
  }
  return startJvmCluster(opts)
}
