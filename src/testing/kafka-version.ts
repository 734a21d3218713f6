/**
 * KAFKA_VERSION is the one pinned Apache Kafka release that the protocol generator reads its message
 * specs from and that the test harness runs as a broker. Change it here and nowhere else.
 */
export const KAFKA_VERSION = '4.3.1'

/** LOG4J2_VERSION matches the log4j2 release that KAFKA_VERSION ships with (its broker needs a binding). */
export const LOG4J2_VERSION = '2.25.4'
