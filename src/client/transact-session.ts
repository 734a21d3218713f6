import type { ProduceRecord } from '../protocol/record.js'
import { Client, consumerOf, coreOf, producerOf } from './client.js'
import type { Fetches } from './consumer/fetches.js'
import type { GroupBase } from './consumer/group-base.js'
import { InvalidOptionError, TransactionAbortableError, TransactionStateError } from './errors.js'
import type { ClientOptions, PartitionsCallback } from './options.js'
import type { ProduceCallback, ProduceResult } from './producer/producer.js'
import type { Transactions } from './producer/transaction.js'

/**
 * GroupTransactSessionOptions are a Client's options; `consumerGroup`, `consumeTopics` and
 * `transactionalId` are required. The session sets `disableAutoCommit` (offsets are committed in
 * the transactions) and defaults `isolationLevel` to 'read_committed', so that a stage reading
 * another stage's output sees only committed transactions.
 */
export type GroupTransactSessionOptions = ClientOptions<Client> & { consumerGroup: string; transactionalId: string }

/**
 * GroupTransactSession is exactly-once consume-transform-produce (franz-go's GroupTransactSession):
 * one client that is a consumer group member and a transactional producer. Poll, `begin()`, produce
 * what the polled records become, then `end('commit')`: the produced records and the offsets after
 * the polled ones commit together in one transaction (KIP-98, offsets fenced by the member's
 * generation, KIP-447), or not at all.
 *
 * ```ts
 * const s = new GroupTransactSession({ seedBrokers, consumerGroup: 'etl', consumeTopics: ['in'], transactionalId: 'etl-1' })
 * for (;;) {
 *   const fetches = await s.pollFetches()
 *   s.begin()
 *   for (const r of fetches.records()) s.produce({ topic: 'out', key: r.key, value: transform(r.value) }, onError)
 *   await s.end('commit')   // false when it aborted: the records are polled again
 * }
 * ```
 *
 * If the group revokes (or loses) any partition of the member between two ends, the next `end`
 * aborts instead of committing: records polled from a partition another member now owns would
 * otherwise be processed twice. A revocation that comes while `end` runs waits for it to finish. After
 * any abort the member moves back to its committed offsets, so the aborted input is polled again.
 * PollFetches, begin and end are not to be called concurrently with each other.
 */
export class GroupTransactSession {
  /** client is the session's Client: for requests, flushes and group calls; leave transactions to the session. */
  readonly client: Client
  /** failed is set when a partition was revoked or lost since the last end: the next end aborts. */
  #failed = false
  #ending: Promise<boolean> | null = null
  #txn: Transactions
  #group: GroupBase

  constructor(options: GroupTransactSessionOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'an options object is required')
    if (typeof options.consumerGroup !== 'string' || options.consumerGroup === '') throw new InvalidOptionError('consumerGroup', 'a GroupTransactSession is a group member: consumerGroup is required')
    if (typeof options.transactionalId !== 'string' || options.transactionalId === '') throw new InvalidOptionError('transactionalId', 'a GroupTransactSession produces in transactions: transactionalId is required')
    if (options.disableAutoCommit === false) {
      throw new InvalidOptionError('disableAutoCommit', 'a GroupTransactSession commits offsets in its transactions; autocommitting them outside would lose exactly-once')
    }
    const userRevoked = options.onPartitionsRevoked
    const userLost = options.onPartitionsLost ?? userRevoked
    const revoked = (user: PartitionsCallback | undefined, lost: boolean): PartitionsCallback => async (parts) => {
      await this.#revoked(parts, lost)
      await user?.(parts)
    }
    this.client = new Client({
      isolationLevel: 'read_committed',
      ...options,
      disableAutoCommit: true,
      onPartitionsRevoked: revoked(userRevoked, false),
      onPartitionsLost: revoked(userLost, true),
    })
    this.#txn = producerOf(this.client).txn!
    this.#group = consumerOf(this.client).group!
  }

  /**
   * revoked marks the session failed when the group takes partitions away. An end under way finishes
   * first (franz-go holds the revocation the same way): its commit carries the member's current
   * generation, which the coordinator accepts until the partitions have a new owner, and they get one
   * only after this member gave them up, that is after this returns.
   */
  async #revoked(parts: Map<string, number[]>, lost: boolean): Promise<void> {
    if (this.#ending !== null) await this.#ending.catch(() => {})
    if (parts.size === 0) return
    this.#failed = true
    coreOf(this.client).log('info', `transact session: partitions ${lost ? 'lost' : 'revoked'}; the next end aborts`, 'transactionalId', this.#txn.id)
  }

  /** pollFetches polls records (Client.pollFetches). */
  pollFetches(opts: { signal?: AbortSignal } = {}): Promise<Fetches> {
    return this.client.pollFetches(opts)
  }

  /** pollRecords polls at most `max` records (Client.pollRecords). */
  pollRecords(max: number, opts: { signal?: AbortSignal } = {}): Promise<Fetches> {
    return this.client.pollRecords(max, opts)
  }

  /** produce produces a record in the open transaction (Client.produce). */
  produce(record: ProduceRecord): Promise<ProduceResult>
  produce(record: ProduceRecord, callback: ProduceCallback): void
  produce(record: ProduceRecord, callback?: ProduceCallback): Promise<ProduceResult> | void {
    if (callback === undefined) return this.client.produce(record)
    this.client.produce(record, callback)
  }

  /** begin opens a transaction (Client.beginTransaction). */
  begin(): void {
    if (this.#ending !== null) throw new TransactionStateError('begin: the previous end is still running', { transactionalId: this.#txn.id })
    this.client.beginTransaction()
  }

  /**
   * end ends the transaction and resolves with whether it committed. With 'commit' it commits the
   * records produced since `begin` together with the offsets after every record polled since the last
   * end, unless a partition was revoked or lost meanwhile, or the transaction cannot commit (a record
   * failed, the group moved on): then it aborts and resolves false. After an abort the member's
   * partitions move back to their committed offsets, so their records are polled again. It rejects
   * with the client's TransactionFatalError (ProducerFencedError, …) — close the session — and with a
   * retriable error when the coordinator could not be reached: call `end` again the same way.
   */
  end(end: 'commit' | 'abort', opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    if (end !== 'commit' && end !== 'abort') return Promise.reject(new InvalidOptionError('end', `${String(end)} is not 'commit' or 'abort'`))
    if (this.#ending !== null) return Promise.reject(new TransactionStateError('end is already running', { transactionalId: this.#txn.id }))
    const run = this.#end(end === 'commit', opts.signal)
    this.#ending = run
    const clear = () => {
      if (this.#ending === run) this.#ending = null
    }
    run.then(clear, clear)
    return run
  }

  async #end(commit: boolean, signal: AbortSignal | undefined): Promise<boolean> {
    const txn = this.#txn
    // A commit whose EndTxn went out with an unknown outcome can only be tried again, never aborted.
    if (commit && (!this.#failed || txn.state === 'committing')) {
      // The offsets after what was polled, of the partitions the member still owns.
      const offsets = this.#group.uncommitted()
      try {
        if (offsets.size > 0 && txn.state === 'open') await txn.sendOffsets(offsets, this.client.groupMetadata())
        await txn.end(true, signal)
        this.#group.noteCommitted(offsets)
        this.#failed = false
        return true
      } catch (err) {
        // Only a transaction that cannot commit turns into an abort; anything else is the caller's.
        if (!(err instanceof TransactionAbortableError)) throw err
        coreOf(this.client).log('info', 'transact session: aborting instead of committing', 'transactionalId', txn.id, 'err', err.message)
      }
    }
    await txn.end(false)
    this.#failed = false
    this.#group.resetToCommitted()
    return false
  }

  /** allowRebalance lets a rebalance held by blockRebalanceOnPoll go on (Client.allowRebalance). */
  allowRebalance(): void {
    this.client.allowRebalance()
  }

  /**
   * close waits for an end under way, then closes the client: an open transaction is aborted and the
   * member leaves the group.
   */
  async close(): Promise<void> {
    await this.#ending?.catch(() => {})
    await this.client.close()
  }
}
