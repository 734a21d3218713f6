import { TEST_USERS } from './cluster.js'

/**
 * testBrokerSettings are the server.properties entries every test cluster shares, whatever runs it
 * (JVM or container): replication sized to the cluster, small internal topics, fast groups.
 */
export function testBrokerSettings(brokers: number): Record<string, string> {
  const n = String(brokers)
  const minIsr = brokers >= 3 ? '2' : '1'
  const props: Record<string, string> = {
    'num.partitions': '1',
    'default.replication.factor': n,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': n,
    'transaction.state.log.replication.factor': n,
    'transaction.state.log.min.isr': minIsr,
    'share.coordinator.state.topic.replication.factor': n,
    'share.coordinator.state.topic.min.isr': minIsr,
    // Internal topics default to 50 partitions; creating 50 on the first FindCoordinator is what makes
    // a fresh broker's first group or transaction slow.
    'offsets.topic.num.partitions': '3',
    'transaction.state.log.num.partitions': '3',
    'share.coordinator.state.topic.num.partitions': '3',
    'group.initial.rebalance.delay.ms': '0',
    // A transaction past its timeout is aborted within a second instead of ten, for timeout tests.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': '1000',
    // KIP-848: short heartbeats and sessions so group tests see joins and leaves in seconds. The broker
    // requires min <= interval and interval < session timeout.
    'group.consumer.min.heartbeat.interval.ms': '100',
    'group.consumer.heartbeat.interval.ms': '500',
    'group.consumer.min.session.timeout.ms': '6000',
    'group.consumer.session.timeout.ms': '10000',
    // Share groups (KIP-932) the same.
    'group.share.min.heartbeat.interval.ms': '100',
    'group.share.heartbeat.interval.ms': '500',
    'group.share.min.session.timeout.ms': '6000',
    'group.share.session.timeout.ms': '10000',
    // Groups may set an acquisition lock down to 1 s (the broker's floor is 15 s by default), so that
    // tests of lock expiry and renewal take seconds.
    'group.share.min.record.lock.duration.ms': '1000',
    // Sized for a 2-core machine that runs the tests too.
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'auto.create.topics.enable': 'true',
    'delete.topic.enable': 'true',
  }
  // controlled.shutdown.enable stays at Kafka's default (true), a lone node included: it has no one to
  // hand leadership to, but the controlled shutdown (about 0.2 s) records it as shut down. Without
  // it, a restarted lone node replays metadata in which it still leads everything: for the broker
  // session timeout (9 s) its coordinators run on that stale view, while its listeners stay closed,
  // and when the controller then fences the old incarnation, the transaction markers queued
  // meanwhile find no leader and are dropped ("likely deleted"): hanging transactions, a stuck last
  // stable offset and offsets that stay UNSTABLE_OFFSET_COMMIT for good (seen in exactly-once.test.ts).
  return props
}

/**
 * saslSettings enable PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 on the named SASL listeners (lower case,
 * e.g. `sasl_plaintext`). PLAIN users live in the JAAS line; SCRAM users must be created separately
 * (StorageTool --add-scram, or ConfigCommand at run time).
 */
export function saslSettings(listeners: string[]): Record<string, string> {
  // The default is GSSAPI alone, which would refuse every test mechanism.
  const props: Record<string, string> = { 'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512' }
  const plainUsers = [TEST_USERS.admin, TEST_USERS.plain].map((u) => `user_${u.username}="${u.password}"`).join(' ')
  for (const l of listeners) {
    props[`listener.name.${l}.plain.sasl.jaas.config`] = `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`
    props[`listener.name.${l}.scram-sha-256.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
    props[`listener.name.${l}.scram-sha-512.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
  }
  return props
}

/** STANDARD_AUTHORIZER is the KRaft authorizer's class: ACLs kept in the cluster's metadata log. */
export const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'

/**
 * authorizerSettings turn ACL checks on (StandardAuthorizer, no access where no ACL allows it) with
 * `superUsers` as super users. `User:ANONYMOUS` is always one of them: it is the principal of the
 * PLAINTEXT and SSL listeners, which the nodes use between themselves and for their controller, so
 * only SASL logins are subject to ACLs.
 */
export function authorizerSettings(superUsers: readonly string[]): Record<string, string> {
  const users = ['User:ANONYMOUS', ...superUsers.filter((u) => u !== 'User:ANONYMOUS')]
  return { 'authorizer.class.name': STANDARD_AUTHORIZER, 'super.users': users.join(';'), 'allow.everyone.if.no.acl.found': 'false' }
}

/** superUsersOf returns the super users an `authorizer` option asks for (admin by default). */
export function superUsersOf(opt: boolean | { superUsers?: string[] } | undefined): string[] {
  if (opt === undefined || opt === false) return []
  return opt === true || opt.superUsers === undefined ? [`User:${TEST_USERS.admin.username}`] : opt.superUsers
}

/**
 * dockerEnvName spells a broker property as the apache/kafka image reads it from the environment:
 * `KAFKA_` + upper case, with `.` → `_`, `_` → `__` and `-` → `___` (the image's KafkaDockerWrapper).
 */
export function dockerEnvName(property: string): string {
  return 'KAFKA_' + property.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()
}
