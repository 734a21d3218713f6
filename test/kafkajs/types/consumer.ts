// A typed KafkaJS consumer program with a custom assigner (compiled against kafkajs@2.2.4's types and
// kafka-wire/kafkajs's by test/kafkajs/types.test.ts; never run).
import {
  AssignerProtocol,
  Kafka,
  PartitionAssigners,
  type Assigner,
  type Assignment,
  type Batch,
  type Consumer,
  type ConsumerConfig,
  type ConsumerCrashEvent,
  type ConsumerEachBatchPayload,
  type ConsumerEachMessagePayload,
  type ConsumerGroupJoinEvent,
  type ConsumerRunConfig,
  type ConsumerSubscribeTopic,
  type ConsumerSubscribeTopics,
  type EachBatchHandler,
  type EachBatchPayload,
  type EachMessageHandler,
  type EachMessagePayload,
  type GroupDescription,
  type GroupMember,
  type GroupMemberAssignment,
  type GroupState,
  type KafkaMessage,
  type MemberAssignment,
  type MemberMetadata,
  type Offsets,
  type OffsetsByTopicPartition,
  type PartitionAssigner,
  type TopicPartitionOffsetAndMetadata,
  type TopicPartitions,
} from 'kafkajs'

const kafka = new Kafka({ clientId: 'billing', brokers: async () => ['localhost:9092'], ssl: false })

// A sticky-to-the-first-member assigner written the way KafkaJS's docs describe custom assigners.
const firstTakesAll: PartitionAssigner = ({ cluster, groupId, logger }) => {
  const assigner: Assigner = {
    name: 'FirstTakesAll',
    version: 1,
    async assign({ members, topics }: { members: GroupMember[]; topics: string[] }): Promise<GroupMemberAssignment[]> {
      logger.info('assigning', { groupId, members: members.length })
      const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId))
      const assignment: Assignment = {}
      for (const topic of topics) assignment[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId)
      return sorted.map((m, i) => {
        const meta: MemberMetadata | null = AssignerProtocol.MemberMetadata.decode(m.memberMetadata)
        const value: MemberAssignment = { version: this_version(), assignment: i === 0 ? assignment : {}, userData: meta?.userData ?? Buffer.alloc(0) }
        return { memberId: m.memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode(value) }
      })
    },
    protocol({ topics }: { topics: string[] }): GroupState {
      return { name: 'FirstTakesAll', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from('v1') }) }
    },
  }
  return assigner
}
const this_version = () => 1

const config: ConsumerConfig = {
  groupId: 'billing',
  partitionAssigners: [firstTakesAll, PartitionAssigners.roundRobin],
  sessionTimeout: 30000,
  rebalanceTimeout: 60000,
  heartbeatInterval: 3000,
  maxBytesPerPartition: 1048576,
  minBytes: 1,
  maxBytes: 10485760,
  maxWaitTimeInMs: 5000,
  retry: { retries: 5, restartOnFailure: async (e: Error) => !e.message.includes('fatal') },
  allowAutoTopicCreation: false,
  maxInFlightRequests: 5,
  readUncommitted: false,
  rackId: 'rack-a',
}
const consumer: Consumer = kafka.consumer(config)

function print(topic: string, partition: number, m: KafkaMessage): void {
  const headers = Object.entries(m.headers ?? {}).map(([k, v]) => `${k}=${String(v)}`)
  console.log(topic, partition, m.offset, m.timestamp, m.key?.toString(), m.value?.toString(), m.attributes, m.size, headers)
}

const eachMessage: EachMessageHandler = async ({ topic, partition, message, heartbeat, pause }: EachMessagePayload) => {
  print(topic, partition, message)
  if (message.value === null) {
    const resume = pause()
    setTimeout(resume, 1000)
  }
  await heartbeat()
}

const eachBatch: EachBatchHandler = async (payload: EachBatchPayload) => {
  const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale, pause } = payload
  const b: Batch = batch
  console.log(b.topic, b.partition, b.highWatermark, b.isEmpty(), b.firstOffset(), b.lastOffset(), b.offsetLag(), b.offsetLagLow())
  for (const message of b.messages) {
    if (!isRunning() || isStale()) break
    print(b.topic, b.partition, message)
    resolveOffset(message.offset)
    await heartbeat()
  }
  const pending: OffsetsByTopicPartition = uncommittedOffsets()
  const offsets: Offsets = { topics: pending.topics }
  await commitOffsetsIfNecessary(offsets)
  await commitOffsetsIfNecessary()
  if (b.messages.length === 0) pause()
}

const legacyAlias = async (p: ConsumerEachMessagePayload) => print(p.topic, p.partition, p.message)
const legacyBatchAlias = async (p: ConsumerEachBatchPayload) => console.log(p.batch.messages.length)

export async function main(): Promise<void> {
  consumer.on(consumer.events.GROUP_JOIN, (e: ConsumerGroupJoinEvent) => {
    const { groupId, memberId, leaderId, isLeader, memberAssignment, groupProtocol, duration } = e.payload
    console.log(groupId, memberId, leaderId, isLeader, memberAssignment, groupProtocol, duration)
  })
  consumer.on(consumer.events.CRASH, (e: ConsumerCrashEvent) => console.error(e.payload.error, e.payload.groupId, e.payload.restart))
  consumer.on(consumer.events.HEARTBEAT, (e) => console.log(e.payload.groupId, e.payload.memberId, e.payload.groupGenerationId))
  consumer.on(consumer.events.COMMIT_OFFSETS, (e) => console.log(e.payload.topics.map((t) => t.partitions.map((p) => p.offset))))
  consumer.on(consumer.events.FETCH_START, (e) => console.log(e.payload.nodeId))
  consumer.on(consumer.events.FETCH, (e) => console.log(e.payload.numberOfBatches, e.payload.duration))
  consumer.on(consumer.events.START_BATCH_PROCESS, (e) => console.log(e.payload.topic, e.payload.partition, e.payload.offsetLag))
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => console.log(e.payload.batchSize, e.payload.duration))
  consumer.on(consumer.events.REBALANCING, (e) => console.log(e.payload.groupId, e.payload.memberId))
  consumer.on(consumer.events.STOP, () => console.log('stopped'))
  consumer.on(consumer.events.CONNECT, () => console.log('connected'))
  const off = consumer.on(consumer.events.DISCONNECT, () => console.log('disconnected'))
  consumer.on(consumer.events.RECEIVED_UNSUBSCRIBED_TOPICS, (e) => console.log(e.payload.topicsNotSubscribed))
  consumer.on(consumer.events.REQUEST, (e) => console.log(e.payload.size))

  await consumer.connect()
  const one: ConsumerSubscribeTopic = { topic: /^invoices-.*/, fromBeginning: true }
  const many: ConsumerSubscribeTopics = { topics: ['payments', /^refunds\./] }
  await consumer.subscribe(one)
  await consumer.subscribe(many)
  const run: ConsumerRunConfig = { autoCommit: true, autoCommitInterval: 5000, autoCommitThreshold: 100, partitionsConsumedConcurrently: 3, eachMessage }
  await consumer.run(run)
  await consumer.run({ eachBatchAutoResolve: false, autoCommitInterval: null, eachBatch })
  await consumer.run({ eachMessage: legacyAlias })
  await consumer.run({ eachBatch: legacyBatchAlias })

  consumer.seek({ topic: 'payments', partition: 0, offset: '100' })
  consumer.pause([{ topic: 'payments' }, { topic: 'refunds.eu', partitions: [0, 1] }])
  const paused: TopicPartitions[] = consumer.paused()
  consumer.resume(paused)
  const commits: TopicPartitionOffsetAndMetadata[] = [{ topic: 'payments', partition: 0, offset: '101', metadata: 'note' }]
  await consumer.commitOffsets(commits)
  const group: GroupDescription = await consumer.describeGroup()
  console.log(group.groupId, group.state, group.protocol, group.protocolType, group.members.map((m) => [m.memberId, m.clientId, m.clientHost, m.memberAssignment.length, m.memberMetadata.length]))
  consumer.logger().debug('done', {})
  off()
  await consumer.stop()
  await consumer.disconnect()
}
