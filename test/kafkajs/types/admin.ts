// A typed KafkaJS program using every admin operation (compiled against kafkajs@2.2.4's types and
// kafka-wire/kafkajs's by test/kafkajs/types.test.ts; never run).
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ConfigResourceTypes,
  ConfigSource,
  Kafka,
  ResourcePatternTypes,
  type AclEntry,
  type AclFilter,
  type Admin,
  type ConfigEntries,
  type DeleteAclResponse,
  type DeleteGroupsResult,
  type DescribeAclResponse,
  type DescribeConfigResponse,
  type IResourceConfig,
  type ITopicConfig,
  type ITopicPartitionConfig,
  type ListPartitionReassignmentsResponse,
  type PartitionReassignment,
  type ResourceConfigQuery,
  type SeekEntry,
} from 'kafkajs'

const kafka = new Kafka({ clientId: 'ops', brokers: ['b1:9092'] })
const admin: Admin = kafka.admin({ retry: { retries: 2 } })

export async function topics(): Promise<number> {
  await admin.connect()
  const config: ITopicConfig = { topic: 'orders', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }
  const created: boolean = await admin.createTopics({ topics: [config], waitForLeaders: true })
  const grow: ITopicPartitionConfig[] = [{ topic: 'orders', count: 6 }, { topic: 'audit', count: 4, assignments: [[1], [2]] }]
  const grown: boolean = await admin.createPartitions({ topicPartitions: grow, validateOnly: false, timeout: 5000 })
  const names: string[] = await admin.listTopics()
  const { topics } = await admin.fetchTopicMetadata({ topics: names })
  const offsets = await admin.fetchTopicOffsets('orders')
  const byTime: SeekEntry[] = await admin.fetchTopicOffsetsByTimestamp('orders', Date.now() - 60_000)
  await admin.deleteTopicRecords({ topic: 'orders', partitions: offsets.map(({ partition, high }) => ({ partition, offset: high })) })
  await admin.deleteTopics({ topics: ['scratch'], timeout: 5000 })
  const { brokers, controller, clusterId } = await admin.describeCluster()
  return [created, grown].filter(Boolean).length + topics.length + byTime.length + brokers.length + (controller ?? 0) + clusterId.length
}

export async function groups(groupId: string): Promise<string[]> {
  const { groups } = await admin.listGroups()
  const described = await admin.describeGroups(groups.map((g) => g.groupId))
  const committed = await admin.fetchOffsets({ groupId, topics: ['orders'], resolveOffsets: false })
  const seek: SeekEntry[] = committed.flatMap((t) => t.partitions.map(({ partition }) => ({ partition, offset: '0' })))
  await admin.setOffsets({ groupId, topic: 'orders', partitions: seek })
  await admin.resetOffsets({ groupId, topic: 'orders', earliest: true })
  const deleted: DeleteGroupsResult[] = await admin.deleteGroups([groupId])
  return [...described.groups.map((g) => `${g.groupId}:${g.state}`), ...deleted.map((d) => `${d.groupId}:${d.errorCode ?? 0}`)]
}

export async function configs(): Promise<ConfigEntries[]> {
  const query: ResourceConfigQuery[] = [
    { type: ConfigResourceTypes.TOPIC, name: 'orders', configNames: ['retention.ms'] },
    { type: ConfigResourceTypes.BROKER, name: '1' },
  ]
  const described: DescribeConfigResponse = await admin.describeConfigs({ resources: query, includeSynonyms: true })
  const change: IResourceConfig[] = [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configEntries: [{ name: 'retention.ms', value: '86400000' }] }]
  await admin.alterConfigs({ validateOnly: false, resources: change })
  const entries = described.resources.flatMap((r) => r.configEntries)
  return entries.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG || e.configSynonyms.some((s) => s.configSource === ConfigSource.DEFAULT_CONFIG))
}

export async function acls(): Promise<number> {
  const acl: AclEntry = {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: 'orders',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:billing',
    host: '*',
    operation: AclOperationTypes.READ,
    permissionType: AclPermissionTypes.ALLOW,
  }
  const created: boolean = await admin.createAcls({ acl: [acl] })
  const filter: AclFilter = { resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY, principal: 'User:billing' }
  const described: DescribeAclResponse = await admin.describeAcls(filter)
  const deleted: DeleteAclResponse = await admin.deleteAcls({ filters: [filter] })
  return Number(created) + described.resources.flatMap((r) => r.acls).length + deleted.filterResponses.flatMap((f) => f.matchingAcls).filter((m) => m.operation === AclOperationTypes.READ).length
}

export async function reassignments(): Promise<number[]> {
  const moves: PartitionReassignment[] = [{ topic: 'orders', partitionAssignment: [{ partition: 0, replicas: [2, 3] }] }]
  await admin.alterPartitionReassignments({ topics: moves, timeout: 5000 })
  const listed: ListPartitionReassignmentsResponse = await admin.listPartitionReassignments({ topics: [{ topic: 'orders', partitions: [0] }] })
  await admin.disconnect()
  return listed.topics.flatMap((t) => t.partitions.map((p) => p.partitionIndex + p.replicas.length + (p.addingReplicas?.length ?? 0)))
}
