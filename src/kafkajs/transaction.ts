/**
 * KafkaJS transactions (`producer.transaction()`) over the client's transactions.
 */
import type { Client } from '../client/client.js'
import { KafkaJSNotImplemented, type KafkaJSError } from './errors.js'
import type { ProducerBatch, RecordMetadata, Sender } from './producer.js'

/** Offsets are partitions' offsets per topic, as sendOffsets takes them. */
export interface Offsets {
  topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>
}

/** Transaction is an open transaction: send, sendBatch, sendOffsets, then commit or abort. */
export type Transaction = Sender & {
  sendOffsets(offsets: Offsets & { consumerGroupId: string }): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
  isActive(): boolean
}

/** TransactionParts is what the producer lends a transaction. */
export interface TransactionParts {
  validate(batch: ProducerBatch): Client
  hasPartitioner: boolean
  sendError(err: unknown): Error
  error(err: unknown): KafkaJSError
  ended(): void
}

/** beginTransaction begins a transaction on a transactional client. */
export async function beginTransaction(_client: Client, _parts: TransactionParts): Promise<Transaction> {
  throw new KafkaJSNotImplemented('transactions are not available yet in this build of kafka-wire/kafkajs')
}

export type { RecordMetadata }
