/**
 * KafkaJS transactions (`producer.transaction()`) over the client's transactions. The producer keeps
 * one transactional Client (its `transactionalId`); a Transaction is the stretch of that client
 * between `beginTransaction()` and `endTransaction()`, and only what goes through the Transaction is
 * part of it (the producer's own `send` goes through its other, non-transactional clients, as in
 * KafkaJS, where it uses a separate producer id).
 */
import assert from 'node:assert'
import { producerOf, type Client } from '../client/client.js'
import { TransactionFatalError } from '../client/errors.js'
import type { Transactions } from '../client/producer/transaction.js'
import { KafkaJSNonRetriableError, type KafkaJSError } from './errors.js'
import { sendOn, type ProducerBatch, type ProducerRecord, type RecordMetadata, type Sender } from './producer.js'

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

/**
 * beginTransaction begins a transaction on a transactional client and resolves once the producer id
 * is known. As in KafkaJS, the first transaction of a producer initializes the id (InitProducerId),
 * which fences every older producer of the same transactionalId and aborts its open transaction
 * before `transaction()` resolves. A client that cannot begin (fenced, or a previous end that must be
 * called again) is refused with KafkaJSNonRetriableError, KafkaJS's class for its state exceptions.
 */
export async function beginTransaction(client: Client, parts: TransactionParts): Promise<Transaction> {
  const producer = producerOf(client)
  try {
    client.beginTransaction()
  } catch (err) {
    throw new KafkaJSNonRetriableError(`Transaction state exception: ${(err as Error).message}`, { cause: err })
  }
  try {
    await producer.ensureProducerId()
  } catch (err) {
    // Nothing reached the coordinator in this transaction: the abort only closes it on the client.
    await client.endTransaction('abort').catch(() => {})
    throw parts.error(err)
  }
  return new KafkaJSTransaction(client, producer.txn!, parts)
}

/** Phase is where a Transaction object is: open, ending (commit or abort under way), or ended. */
type Phase = 'open' | 'ending' | 'ended'

/**
 * KafkaJSTransaction is KafkaJS's Transaction object. Every method refuses once the transaction is
 * not active (ended, or ending) with KafkaJS's KafkaJSNonRetriableError.
 *
 * A commit or abort that fails with anything but a fatal error (a fence) leaves the transaction
 * active: a commit refused because a message of the transaction failed is followed by `abort()`, and
 * one that failed with a retriable error can be called again (docs/kafkajs.md; KafkaJS leaves the
 * transaction inactive and its producer unable to begin another).
 */
class KafkaJSTransaction implements Transaction {
  readonly #client: Client
  readonly #txn: Transactions
  readonly #parts: TransactionParts
  #phase: Phase = 'open'

  constructor(client: Client, txn: Transactions, parts: TransactionParts) {
    this.#client = client
    this.#txn = txn
    this.#parts = parts
  }

  /**
   * isActive is true until commit or abort begins, and again after one that failed and can be tried
   * again. A producer fenced meanwhile still has an active transaction (it learns of the fence from
   * its next request, as KafkaJS does); one whose client was closed by disconnect has none.
   */
  isActive(): boolean {
    return this.#phase === 'open' && this.#txn.state !== 'ready'
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (!this.isActive()) return Promise.reject(ended())
    if (record === null || typeof record !== 'object') return Promise.reject(new KafkaJSNonRetriableError('Invalid topic'))
    return this.sendBatch({ acks: record.acks, timeout: record.timeout, compression: record.compression, topicMessages: [{ topic: record.topic, messages: record.messages }] })
  }

  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    if (!this.isActive()) return Promise.reject(ended())
    let client: Client
    try {
      client = this.#parts.validate(batch)
    } catch (err) {
      return Promise.reject(err)
    }
    return sendOn(client, batch, this.#parts.hasPartitioner, this.#parts.sendError)
  }

  /**
   * sendOffsets puts a consumer group's offsets into the transaction: they are committed with it or
   * not at all. As KafkaJS does, it commits them for the group id alone, without a member's
   * generation (so no KIP-447 check).
   */
  async sendOffsets({ consumerGroupId, topics }: Offsets & { consumerGroupId: string }): Promise<void> {
    if (!this.isActive()) throw ended()
    // KafkaJS checks its arguments with node's assert, and programs see an AssertionError.
    assert(consumerGroupId, 'Missing consumerGroupId')
    assert(topics, 'Missing offset topics')
    const offsets: { [topic: string]: { [partition: number]: { offset: bigint } } } = {}
    for (const { topic, partitions } of topics) {
      const ps = (offsets[topic] ??= {})
      for (const { partition, offset } of partitions) ps[partition] = { offset: toOffset(topic, partition, offset) }
    }
    try {
      await this.#client.sendOffsetsToTransaction(offsets, { groupId: consumerGroupId })
    } catch (err) {
      throw this.#parts.error(err)
    }
  }

  /** commit sends the transaction's messages still buffered, then commits it. */
  commit(): Promise<void> {
    return this.#end('commit')
  }

  /** abort aborts the transaction: messages not sent yet are dropped (their sends reject), the rest are aborted. */
  abort(): Promise<void> {
    return this.#end('abort')
  }

  async #end(how: 'commit' | 'abort'): Promise<void> {
    if (!this.isActive()) throw ended()
    this.#phase = 'ending'
    try {
      await this.#client.endTransaction(how)
    } catch (err) {
      if (err instanceof TransactionFatalError) this.#finish()
      else this.#phase = 'open'
      throw this.#parts.error(err)
    }
    this.#finish()
  }

  #finish(): void {
    this.#phase = 'ended'
    this.#parts.ended()
  }
}

function ended(): KafkaJSNonRetriableError {
  return new KafkaJSNonRetriableError('Cannot continue to use transaction once ended')
}

/** toOffset reads an offset of sendOffsets: a string (or number) holding a non-negative integer. */
function toOffset(topic: string, partition: number, offset: unknown): bigint {
  if ((typeof offset === 'string' && /^\d+$/.test(offset)) || (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0)) return BigInt(offset)
  throw new KafkaJSNonRetriableError(`Invalid offset ${String(offset)} for topic "${topic}" partition ${partition}`)
}

export type { RecordMetadata }
