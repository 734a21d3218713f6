import { KafkaWireError } from '../protocol/errors.js'

/** KafkaHarnessErrorCode says why `startKafka` could not give a cluster. */
export type KafkaHarnessErrorCode =
  /** Neither path is possible: no usable Docker engine and no Java 17+ (or Maven). */
  | 'NO_RUNTIME'
  /** KAFKA_WIRE_HARNESS=docker, but no Docker engine answers at DOCKER_HOST or the usual sockets. */
  | 'DOCKER_UNAVAILABLE'
  /** The Docker path needs the testcontainers package, which is not installed. */
  | 'TESTCONTAINERS_MISSING'
  /** testcontainers is installed but failed to load or to reach the engine (the cause says why). */
  | 'TESTCONTAINERS_BROKEN'
  /** The Kafka image is neither on the Docker engine nor pullable. */
  | 'IMAGE_MISSING'
  /** KAFKA_WIRE_HARNESS holds a value other than jvm or docker. */
  | 'BAD_HARNESS'

/**
 * KafkaHarnessError is what `startKafka` throws when it cannot choose or prepare a way to run Kafka
 * (as opposed to a broker that started and then failed): `code` says which, the message says what to
 * install or set. Never retriable: each case needs something installed or configured first.
 */
export class KafkaHarnessError extends KafkaWireError {
  declare readonly code: KafkaHarnessErrorCode

  constructor(code: KafkaHarnessErrorCode, message: string, cause?: unknown) {
    super(message, { code, retriable: false, cause })
  }
}
