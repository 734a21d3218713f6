/** Topic housekeeping for run.ts, through kafka-wire's own requests (CreateTopics, DeleteTopics). */
import { Client } from '../../src/index.js'
import { Admin as KafkaAdmin } from '../../src/admin/index.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'

/** Admin creates and deletes the benchmark's topics. */
export class Admin {
  readonly client: Client
  constructor(bootstrap: string[]) {
    this.client = new Client({ seedBrokers: bootstrap, clientId: 'bench-admin', metadataMinAge: 50, retryBackoff: 100 })
  }

  /** createTopic creates a topic and waits until every broker knows it and every partition has a leader. */
  async createTopic(name: string, partitions: number): Promise<void> {
    await new KafkaAdmin(this.client).createTopic({ name, partitions })
  }

  /** deleteTopics deletes topics (to give the disk back between runs); errors are ignored. */
  async deleteTopics(names: string[]): Promise<void> {
    if (names.length > 0) await new KafkaAdmin(this.client).deleteTopics(names).catch(() => {})
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
