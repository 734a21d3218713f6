// A typed KafkaJS producer program (compiled against kafkajs@2.2.4's types and kafka-wire/kafkajs's by
// test/kafkajs/types.test.ts; never run).
import {
  CompressionCodecs,
  CompressionTypes,
  Kafka,
  Partitioners,
  logLevel,
  type ICustomPartitioner,
  type IHeaders,
  type Message,
  type PartitionerArgs,
  type Producer,
  type ProducerBatch,
  type ProducerConfig,
  type ProducerRecord,
  type RecordMetadata,
  type TopicMessages,
  type Transaction,
} from 'kafkajs'

const kafka = new Kafka({
  clientId: 'orders',
  brokers: ['localhost:9092'],
  connectionTimeout: 3000,
  requestTimeout: 30000,
  logLevel: logLevel.WARN,
  retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 30000, factor: 0.2, multiplier: 2 },
})

// A custom partitioner with KafkaJS's signature: () => ({ topic, partitionMetadata, message }) => number.
const byRegion: ICustomPartitioner = () => {
  return ({ topic, partitionMetadata, message }: PartitionerArgs) => {
    const region = message.headers?.region
    const n = partitionMetadata.length
    if (topic.startsWith('eu-') || region === 'eu') return 0
    return message.key === null || message.key === undefined ? n - 1 : Number(message.key.length % n)
  }
}

const config: ProducerConfig = {
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
  idempotent: true,
  maxInFlightRequests: 1,
  transactionTimeout: 60000,
  retry: { retries: 3 },
}
const producer: Producer = kafka.producer(config)
const legacy = kafka.producer({ createPartitioner: Partitioners.LegacyPartitioner })
const java = kafka.producer({ createPartitioner: Partitioners.JavaCompatiblePartitioner })
const custom = kafka.producer({ createPartitioner: byRegion })
const transactional = kafka.producer({ transactionalId: 'orders-tx', idempotent: true, maxInFlightRequests: 1 })

function describe(results: RecordMetadata[]): string[] {
  return results.map((r) => `${r.topicName}/${r.partition} @${r.baseOffset ?? r.offset} e${r.errorCode} t${r.logAppendTime ?? ''} ${r.logStartOffset ?? ''} ${r.timestamp ?? ''}`)
}

export async function main(): Promise<void> {
  producer.on(producer.events.CONNECT, (e) => console.log(e.type, e.timestamp))
  const remove = producer.on(producer.events.REQUEST, (e) => console.log(e.payload.apiName, e.payload.duration, e.payload.broker))
  producer.on(producer.events.REQUEST_TIMEOUT, (e) => console.log(e.payload.apiKey, e.payload.pendingDuration))
  producer.on(producer.events.REQUEST_QUEUE_SIZE, (e) => console.log(e.payload.queueSize))
  producer.on(producer.events.DISCONNECT, () => remove())
  await producer.connect()
  console.log(producer.isIdempotent(), producer.logger().info('connected', { at: Date.now() }))

  const headers: IHeaders = { region: 'eu', trace: Buffer.from('x'), many: ['a', 'b'], none: undefined }
  const messages: Message[] = [
    { key: 'k1', value: 'v1', headers },
    { key: Buffer.from('k2'), value: Buffer.from('v2'), partition: 1, timestamp: String(Date.now()) },
    { value: null },
  ]
  const record: ProducerRecord = { topic: 'orders', messages, acks: -1, timeout: 30000, compression: CompressionTypes.GZIP }
  const first: RecordMetadata[] = await producer.send(record)
  console.log(describe(first))

  const topicMessages: TopicMessages[] = [
    { topic: 'orders', messages: [{ key: 'a', value: '1' }] },
    { topic: 'audit', messages: [{ value: JSON.stringify({ ok: true }) }] },
  ]
  const batch: ProducerBatch = { topicMessages, acks: 1, timeout: 1000, compression: CompressionTypes.None }
  console.log(describe(await producer.sendBatch(batch)))

  // Codecs are registered by assignment, as the kafkajs-snappy/-lz4 packages do.
  const codec = CompressionCodecs[CompressionTypes.Snappy]
  console.log(typeof codec, CompressionTypes.LZ4, CompressionTypes.ZSTD)

  await transactional.connect()
  const tx: Transaction = await transactional.transaction()
  try {
    await tx.send({ topic: 'orders', messages: [{ value: 'in a transaction' }] })
    await tx.sendBatch({ topicMessages: [{ topic: 'audit', messages: [{ value: 'x' }] }] })
    await tx.sendOffsets({ consumerGroupId: 'orders-app', topics: [{ topic: 'incoming', partitions: [{ partition: 0, offset: '42' }] }] })
    if (tx.isActive()) await tx.commit()
  } catch (e) {
    await tx.abort()
    throw e
  }
  await Promise.all([producer.disconnect(), legacy.disconnect(), java.disconnect(), custom.disconnect(), transactional.disconnect()])
}
