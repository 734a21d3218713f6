import type { KafkaCluster, StartKafkaOptions } from './cluster.js'
import { BUILD_IMAGE_COMMAND, probeDockerEngine, startDockerCluster } from './docker.js'
import { KafkaHarnessError } from './errors.js'
import { externalClusterFromEnv } from './external.js'
import { findJava } from './java.js'
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
export { KafkaHarnessError, type KafkaHarnessErrorCode } from './errors.js'
export { localKafkaImage, officialKafkaImage, probeDockerEngine, type DockerEngineProbe } from './docker.js'

/** HARNESS_ENV names the variable that pins startKafka to one path: `jvm` or `docker`. */
export const HARNESS_ENV = 'KAFKA_WIRE_HARNESS'
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
 * 2. a Docker engine, through the `testcontainers` package (an optional dependency): one container per
 *    node of `apache/kafka:<version>`, or of the local build `kafka-wire/kafka:<version>`
 *    (docker/kafka/build.sh), with the same listeners, users and TLS as the JVM path;
 * 3. Apache Kafka's jars from Maven Central, run with the machine's Java (17+) in KRaft mode.
 *
 * `KAFKA_WIRE_HARNESS=jvm` or `=docker` pins one path: its failure is then the error, with no
 * fallback. Unpinned, a Docker engine whose path cannot be prepared (testcontainers not installed,
 * image missing) falls back to the JVM path when Java is there; when neither path is possible the
 * error says what each one lacked and what to install. Errors of choosing are `KafkaHarnessError`s.
 */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const external = externalClusterFromEnv(opts)
  if (external) return external
  const harness = process.env[HARNESS_ENV] || undefined
  if (harness !== undefined && harness !== 'jvm' && harness !== 'docker') {
    throw new KafkaHarnessError('BAD_HARNESS', `${HARNESS_ENV}=${harness} is not a harness: use jvm, docker, or leave it unset to choose automatically`)
  }
  if (harness === 'jvm') return startJvmCluster(opts)

  const engine = await probeDockerEngine()
  if (harness === 'docker') {
    if (!engine.ok) {
      throw new KafkaHarnessError(
        'DOCKER_UNAVAILABLE',
        `${HARNESS_ENV}=docker, but no Docker engine answers (${engine.where}: ${engine.reason}); start dockerd, or point DOCKER_HOST at a running engine (npm run test:containers installs and starts one on Debian)`,
      )
    }
    return startDockerCluster(opts)
  }

  let dockerWhyNot: string
  if (engine.ok) {
    try {
      return await startDockerCluster(opts)
    } catch (err) {
      // Only a path that could not be prepared falls back; a broker that started and failed is the answer.
      if (!(err instanceof KafkaHarnessError)) throw err
      dockerWhyNot = err.message
      opts.log?.(`not using Docker: ${dockerWhyNot}`)
    }
  } else {
    dockerWhyNot = `no Docker engine answers (${engine.where}: ${engine.reason})`
  }
  try {
    await findJava()
  } catch (err) {
    throw new KafkaHarnessError(
      'NO_RUNTIME',
      `kafka-wire/testing cannot run Kafka here. Docker: ${dockerWhyNot}. JVM: ${(err as Error).message}. ` +
        `Install one of them: Docker (e.g. apt-get install docker.io, or npm run test:containers, which installs it, starts it and builds the image with ${BUILD_IMAGE_COMMAND.split(' (')[0]}) ` +
        `plus npm i -D testcontainers@11; or Java 17+ and Maven (apt-get install openjdk-17-jdk-headless maven). Or set KAFKA_BOOTSTRAP to a running cluster.`,
      err,
    )
  }
  return startJvmCluster(opts)
}
