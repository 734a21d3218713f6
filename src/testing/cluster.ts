import type { JavaToolOptions, JavaToolResult } from './java.js'

/** SaslMechanism names the mechanisms the test listeners enable. */
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

/** SaslUser is one set of credentials a test can log in with. */
export interface SaslUser {
  mechanism: SaslMechanism
  username: string
  password: string
}

/**
 * KafkaUsers are the credentials every cluster from `startKafka` accepts on its SASL listeners: `alice`
 * for each mechanism, and `admin` (same password scheme) who also exists for all three.
 */
export interface KafkaUsers {
  plain: SaslUser
  scram256: SaslUser
  scram512: SaslUser
  admin: { username: string; password: string }
}

/** TEST_USERS are the fixed users of test clusters (and of docker-compose.yml). */
export const TEST_USERS: KafkaUsers = Object.freeze({
  plain: Object.freeze({ mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' }),
  scram256: Object.freeze({ mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'alice-secret' }),
  scram512: Object.freeze({ mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' }),
  admin: Object.freeze({ username: 'admin', password: 'admin-secret' }),
}) as KafkaUsers

/** StartKafkaOptions choose the cluster `startKafka` returns. */
export interface StartKafkaOptions {
  /** brokers is the number of nodes; 3 always gets a cluster whose nodes the test controls. Default 1. */
  brokers?: 1 | 3
  /** sasl adds a SASL_PLAINTEXT listener with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (see `users`). */
  sasl?: boolean
  /** tls adds an SSL listener (and SASL_SSL with `sasl`) whose certificate `ca` verifies. */
  tls?: boolean
  /**
   * authorizer turns ACLs on: the StandardAuthorizer, denying what no ACL allows, with super users
   * (default `User:admin`; `User:ANONYMOUS`, the PLAINTEXT and SSL listeners' principal, always is one).
   * SASL logins other than the super users, such as `alice`, then need ACLs. A cluster with an
   * authorizer is always started here, even when KAFKA_BOOTSTRAP names one.
   */
  authorizer?: boolean | { superUsers?: string[] }
  /** signal aborts a start in progress; what was started is stopped and removed. */
  signal?: AbortSignal
  /** version is the Apache Kafka release to run; default the pinned KAFKA_VERSION. */
  version?: string
  /**
   * brokerConfig entries are added to (and override) every node's server.properties. A caller that
   * needs its own broker settings gets its own broker, even when KAFKA_BOOTSTRAP names one.
   */
  brokerConfig?: Record<string, string>
  /**
   * jvmArgs are added to each broker JVM's options, after the defaults (so `-Xmx2g` wins over the
   * default heap of 768m for one node, 512m each for three). In a Docker cluster they go into
   * KAFKA_OPTS, so an argument cannot contain a space.
   */
  jvmArgs?: string[]
  /** readyTimeoutMs bounds the wait for every node to be ready; default 90 s (KAFKA_WIRE_READY_TIMEOUT_MS). */
  readyTimeoutMs?: number
  /** log receives progress lines (jar downloads, start); silent by default. */
  log?: (line: string) => void
}

/** KafkaCluster is a running cluster that tests, demos and benchmarks talk to. */
export interface KafkaCluster {
  /** kind says where the cluster came from: the environment, a container, or JVMs started here. */
  readonly kind: 'external' | 'docker' | 'jvm'
  /** version is the Kafka release, when known. */
  readonly version: string | undefined
  /** brokers is the number of nodes. */
  readonly brokers: number
  /** bootstrapServers are `host:port` of each node's PLAINTEXT listener, node 0 first. */
  readonly bootstrapServers: string[]
  /** saslBootstrapServers are the SASL_PLAINTEXT listeners, when requested. */
  readonly saslBootstrapServers?: string[]
  /** tlsBootstrapServers are the SSL listeners, when requested. */
  readonly tlsBootstrapServers?: string[]
  /** saslTlsBootstrapServers are the SASL_SSL listeners, when both sasl and tls were requested. */
  readonly saslTlsBootstrapServers?: string[]
  /** ca is the PEM of the CA that signed the TLS listeners' certificate. */
  readonly ca?: string
  /** caFile is the same CA on disk. */
  readonly caFile?: string
  /** users are the SASL credentials the cluster accepts. */
  readonly users: KafkaUsers
  /** javaClasspath is the jars folder glob (`<dir>/*`) for running Kafka's Java tools, when known. */
  readonly javaClasspath?: string
  /** dir is the cluster's temporary folder (data, configs, logs), for JVM clusters. */
  readonly dir?: string
  /**
   * containers are the Docker containers of the nodes (ids for a Docker cluster, KAFKA_CONTAINERS for
   * an external one), in bootstrapServers' order; e.g. for `docker logs`.
   */
  readonly containers?: string[]
  /**
   * runJavaTool runs a Kafka Java program, e.g. `org.apache.kafka.tools.TopicCommand`, against the
   * cluster's jars; it resolves with the exit code and output rather than rejecting on failure. A
   * Docker cluster runs it inside a node's container: bootstrap addresses in the arguments are mapped
   * to the cluster's network and host files named by absolute path are copied in (see docker.ts).
   */
  runJavaTool(mainClass: string, args: string[], opts?: JavaToolOptions): Promise<JavaToolResult>
  /** stopBroker stops node `index` (0-based, as in bootstrapServers) gracefully; its data is kept. */
  stopBroker(index: number): Promise<void>
  /** startBroker restarts a stopped node with its data and waits until it is ready again. */
  startBroker(index: number): Promise<void>
  /** stop stops every node and removes what the cluster wrote; a no-op for external clusters. */
  stop(): Promise<void>
}
