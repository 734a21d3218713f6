/** Topic housekeeping and checks for run.ts, through kafka-wire's own requests (CreateTopics, DeleteTopics, ListOffsets, DescribeTransactions). */
import { Client } from '../../src/index.js'
import { Admin as KafkaAdmin } from '../../src/admin/index.js'
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'

/** Admin creates, warms and deletes the benchmark's topics. */
export class Admin {
  readonly client: Client
  readonly #bootstrap: string[]
  constructor(bootstrap: string[]) {
    this.#bootstrap = bootstrap
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

  /**
   * partitionEnds lists each partition's end offset: the high watermark (read_uncommitted) or the last
   * stable offset (read_committed), which stops at the first record of a transaction still open.
   */
  async partitionEnds(topic: string, partitions: number, isolation: 'read_uncommitted' | 'read_committed'): Promise<bigint[]> {
    const req = ListOffsets.newRequest()
    req.replicaId = -1
    req.isolationLevel = isolation === 'read_committed' ? 1 : 0
    req.topics = [{ name: topic, partitions: Array.from({ length: partitions }, (_, i) => ({ partitionIndex: i, currentLeaderEpoch: -1, timestamp: -1n })) }]
    const res = await this.client.request(ListOffsets, req)
    const ends = new Array<bigint>(partitions).fill(-1n)
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw new KafkaProtocolError(p.errorCode, { topic, partition: p.partitionIndex })
        ends[p.partitionIndex] = p.offset
      }
    }
    return ends
  }

  /**
   * transactionEpoch is a transactional id's producer epoch and state at its coordinator. Under
   * transaction version 2 (KIP-890, what a Kafka 4 cluster finalizes) every EndTxn bumps the epoch
   * from 0, so after a producer's first InitProducerId the epoch counts its ended transactions.
   */
  async transactionEpoch(transactionalId: string): Promise<{ epoch: number; state: string }> {
    const [d] = await new KafkaAdmin(this.client).describeTransactions([transactionalId])
    if (!d || d.error) throw d?.error ?? new Error(`no description of transactional id ${transactionalId}`)
    return { epoch: d.producerEpoch, state: d.state }
  }

  /**
   * readOnce reads a topic's first `n` records, untimed and through a client of its own, so that the
   * first client of the first repetition does not meet a broker that has just written the topic
   * (cold fetch paths, segments being flushed) when the others do not.
   */
  async readOnce(topic: string, n: number): Promise<void> {
    const reader = new Client({ seedBrokers: this.#bootstrap, clientId: 'bench-warm-up', consumeTopics: [topic], consumeResetOffset: 'earliest' })
    let seen = 0
    try {
      while (seen < n) {
        const f = await reader.pollFetches({ signal: AbortSignal.timeout(60_000) })
        const errs = f.errors()
        if (errs.length > 0) throw errs[0]!.error
        seen += f.numRecords()
      }
    } finally {
      await reader.close()
    }
  }

  close(): Promise<void> {
    return this.client.close()
  }
}
