/**
 * KAFKA_VERSION is the one pinned Apache Kafka release that the protocol generator reads its message
 * specs from and that the test harness runs as a broker. Change it here and nowhere else.
 * 4.4.0 is the newest release on Maven Central; it resolved and ran here (KRaft, Java 17).
 */
export const KAFKA_VERSION = '4.4.0'

/**
 * LOG4J2_VERSION matches the log4j2 release that KAFKA_VERSION ships with (its broker needs a binding):
 * kafka-server 4.4.0's POM depends on log4j-api/log4j-core 2.25.5.
 */
export const LOG4J2_VERSION = '2.25.5'
