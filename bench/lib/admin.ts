/** Topic housekeeping for run.ts, through kafka-wire's own requests (CreateTopics, DeleteTopics). */
import { Client } from '../../src/index.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { CreateTopics } from '../../src/protocol/messages/create-topics.js'
import { DeleteTopics } from '../../src/protocol/messages/delete-topics.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'

/** Admin creates and deletes the benchmark's topics. */
export class Admin {
  readonly client: Client
  constructor(bootstrap: string[]) {
    this.client = new Client({ seedBrokers: bootstrap, clientId: 'bench-admin', metadataMinAge: 50, retryBackoff: 100 })
  }

  /** createTopic creates a topic and waits until every partition has a leader. */
  async createTopic(name: string, partitions: number): Promise<void> {
    const req = CreateTopics.newRequest()
    req.timeoutMs = 30_000
    req.topics = [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }]
    const res = await this.client.request(CreateTopics, req)
    const t = res.topics[0]!
    if (t.errorCode !== 0) throw new KafkaProtocolError(t.errorCode, { topic: name, errorMessage: t.errorMessage })
    const until = Date.now() + 30_000
    for (;;) {
      const info = await this.client.topic(name, true)
      if (info !== undefined && info.partitions.length === partitions && info.partitions.every((p) => p.leader >= 0)) return
      if (Date.now() > until) throw new Error(`topic ${name} has no leader for every partition after 30 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** deleteTopics deletes topics (to give the disk back between runs); errors are ignored. */
  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return
    const req = DeleteTopics.newRequest()
    req.timeoutMs = 30_000
    req.topicNames = names
    req.topics = names.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }))
    await this.client.request(DeleteTopics, req).catch(() => {})
  }

  /** endOffsets sums the end offsets (high watermarks) of a topic's partitions. */
  async endOffsets(topic: string, partitions: number): Promise<bigint> {
    const req = ListOffsets.newRequest()
    req.replicaId = -1
    req.topics = [{ name: topic, partitions: Array.from({ length: partitions }, (_, i) => ({ partitionIndex: i, currentLeaderEpoch: -1, timestamp: -1n })) }]
    const res = await this.client.request(ListOffsets, req)
    let sum = 0n
    for (const t of res.topics) for (const p of t.partitions) sum += p.offset
    return sum
  }

  close(): Promise<void> {
    return this.client.close()
  }
}
