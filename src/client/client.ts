import type { ApiMessage } from '../protocol/messages/api.js'
import type { ProduceRecord, Record } from '../protocol/record.js'
import type { BrokerMetadata } from '../hooks/index.js'
import { ClientCore, endsCall } from './core.js'
import { ClientClosedError, InvalidOperationError, InvalidOptionError, TransactionStateError } from './errors.js'
import { checkTopicName } from './topic-name.js'
import type { ClientOptions, Config, OffsetSpec } from './options.js'
import { Producer, type ProduceCallback, type ProduceResult } from './producer/producer.js'
import { Consumer } from './consumer/consumer.js'
import { ShareConsumer } from './consumer/share.js'
import { Fetches } from './consumer/fetches.js'
import { userRequest } from './raw-request.js'
import type { AckStatus, ClientRequestOptions, CommitOffsets, GroupMetadata } from './types.js'
import type { Transactions } from './producer/transaction.js'

const cores = new WeakMap<Client, ClientCore>()
let consumerSide: (c: Client) => Consumer
let producerSide: (c: Client) => Producer

/**
 * coreOf returns a client's internal core, for the layers built on the client (admin, transactions,
 * the KafkaJS facade) and for tests. It is not exported from the package.
 */
export function coreOf(client: Client): ClientCore {
  const c = cores.get(client)
  if (c === undefined) throw new TypeError('not a kafka-wire Client')
  return c
}

/** consumerOf returns a client's consumer (made on first use), for tests; not exported from the package. */
export function consumerOf(client: Client): Consumer {
  return consumerSide(client)
}

/** producerOf returns a client's producer (made on first use), for tests and transactions; not exported from the package. */
export function producerOf(client: Client): Producer {
  return producerSide(client)
}

/**
 * Client is a Kafka client for producing, consuming and admin requests, after franz-go's kgo.Client.
 * It connects lazily: nothing is dialed until the first request. Every long-lived resource is
 * closed by `close()`, after which the process can exit by itself.
 */
export class Client {
  #core: ClientCore
  #producer: Producer | null = null
  #consumer: Consumer | null = null
  #share: ShareConsumer | null = null
  #closing: Promise<void> | null = null

  static {
    consumerSide = (c) => c.#consumeSide
    producerSide = (c) => c.#produceSide
  }

  constructor(options: ClientOptions<Client>) {
    const core = new ClientCore(options)
    this.#core = core
    cores.set(this, core)
    const c = core.config
    if (c.shareGroup !== null) this.#share = new ShareConsumer(core)
    else if (c.consumeTopics.length > 0 || c.consumePartitions.size > 0 || c.consumerGroup !== null) this.#consumer = new Consumer(core)
    core.hooks.newClient(this)
    // Consuming starts once the hooks had their say (franz-go starts its goroutines after OnNewClient).
    if (this.#consumer !== null) queueMicrotask(() => this.#consumer?.start())
    if (this.#share !== null) queueMicrotask(() => this.#share?.start())
  }

  /** config is the resolved, frozen form of the options given to the constructor. */
  get config(): Config {
    return this.#core.config
  }

  /** closed is true once `close()` was called. */
  get closed(): boolean {
    return this.#core.closing
  }

  /** discoveredBrokers lists the brokers of the last metadata load (franz-go's DiscoveredBrokers). */
  discoveredBrokers(): BrokerMetadata[] {
    return this.#core.discoveredBrokers()
  }

  /**
   * updateSeedBrokers replaces the "host:port" seeds the client loads metadata from when the brokers
   * it discovered do not answer (and after REBOOTSTRAP_REQUIRED): for a long-lived client whose
   * original seeds were replaced (franz-go's UpdateSeedBrokers). The old seeds' connections are
   * closed; an empty list changes nothing. Throws InvalidOptionError for an address that is not
   * "host:port", changing nothing.
   */
  updateSeedBrokers(addrs: string[]): void {
    this.#core.updateSeedBrokers(addrs)
  }

  /**
   * partitionLeader returns the broker leading a partition per the client's cached metadata, or
   * undefined when the client knows no leader for it (franz-go's PartitionLeader).
   */
  partitionLeader(topic: string, partition: number): BrokerMetadata | undefined {
    const id = this.#core.leaderOf(topic, partition)
    return id < 0 ? undefined : this.#core.metadata.brokers.get(id)
  }

  /** clusterId is the cluster id of the last metadata load, null before the first. */
  get clusterId(): string | null {
    return this.#core.metadata.clusterId
  }

  // ---------------------------------------------------------------- requests

  /**
   * request sends any generated request to the right broker (franz-go's cl.Request): partition
   * requests (ListOffsets, DeleteRecords, OffsetForLeaderEpoch, Produce, Fetch) are split per
   * leader and the answers merged; group and transaction requests go to their coordinator; admin
   * requests go to the controller; the rest to any broker. Connection failures and coordinator
   * moves are retried with backoff within `requestRetries` and `retryTimeout`, a partition request's
   * parts going to the leaders the reloaded metadata names; ListOffsets, DeleteRecords and
   * OffsetForLeaderEpoch partitions answering NOT_LEADER_OR_FOLLOWER are asked again of their new
   * leader (franz-go's sharded requests). Other errors inside an answer come back as sent.
   *
   * Start from `X.newRequest()` (every field at its default). The body is checked against the
   * negotiated version before anything is sent: a missing field, a wrong type or a malformed Uuid
   * (base64url or dashed are accepted) fails with InvalidRequestError naming the field's path. Topic
   * ids and names are filled from each other where a version needs the other, and bodies written in an
   * older version's shape (OffsetFetch `groupId`/`topics`, DeleteTopics `topicNames`, LeaveGroup
   * `memberId`) are moved into the negotiated version's, their responses given both shapes.
   *
   * ```ts
   * const req = DeleteRecords.newRequest()
   * req.topics = [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: 100n }] }]
   * const res = await client.request(DeleteRecords, req)
   * ```
   */
  request<Req, Res>(api: ApiMessage<Req, Res>, body: Req, opts: ClientRequestOptions = {}): Promise<Res> {
    return userRequest(this.#core, api, body, opts)
  }

  // ---------------------------------------------------------------- producing

  /** #produceSide is the client's producer, created on first use. */
  get #produceSide(): Producer {
    this.#core.checkOpen()
    return (this.#producer ??= new Producer(this.#core))
  }

  /**
   * produce buffers a record for sending. Without a callback it returns a promise of the record
   * with partition, offset and timestamp set; with a callback it returns nothing and allocates no
   * promise. Every record settles exactly once. When `maxBufferedRecords` or `maxBufferedBytes` is
   * reached, produce waits for room (use `tryProduce` to fail at once instead).
   */
  produce(record: ProduceRecord): Promise<ProduceResult>
  produce(record: ProduceRecord, callback: ProduceCallback): void
  produce(record: ProduceRecord, callback?: ProduceCallback): Promise<ProduceResult> | void {
    if (callback !== undefined) {
      if (this.#core.closing) {
        // Settled once, with ClientClosedError, and its buffered/unbuffered hooks once, as the other
        // forms of produce do.
        failAfterClose(this.#core, record, callback)
        return
      }
      this.#produceSide.produce(record, callback, false)
      return
    }
    return new Promise<ProduceResult>((resolve, reject) => {
      const cb: ProduceCallback = (r, err) => (err ? reject(err) : resolve(r as ProduceResult))
      if (this.#core.closing) failAfterClose(this.#core, record, cb)
      else this.#produceSide.produce(record, cb, false)
    })
  }

  /** tryProduce is produce that fails at once with MaxBufferedError instead of waiting for room. */
  tryProduce(record: ProduceRecord, callback: ProduceCallback): void {
    if (this.#core.closing) failAfterClose(this.#core, record, callback)
    else this.#produceSide.produce(record, callback, true)
  }

  /** produceSync produces records and resolves when all settled, with each record's result or error. */
  produceSync(records: ProduceRecord[]): Promise<Array<{ record: ProduceRecord; error: Error | null }>> {
    return new Promise((resolve) => {
      const results = new Array<{ record: ProduceRecord; error: Error | null }>(records.length)
      let left = records.length
      if (left === 0) resolve(results)
      records.forEach((rec, i) => {
        this.produce(rec, (r, err) => {
          results[i] = { record: r, error: err }
          if (--left === 0) resolve(results)
        })
      })
      this.#producer?.flushSoon()
    })
  }

  /** flush sends every buffered record now and resolves when all of them have settled. */
  flush(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#producer === null) return Promise.resolve()
    return this.#producer.flush(opts.signal)
  }

  /** bufferedProduceRecords is the number of records produced and not yet settled. */
  get bufferedProduceRecords(): number {
    return this.#producer?.bufferedRecords ?? 0
  }

  // ---------------------------------------------------------------- consuming

  /** #consumeSide is the client's consumer, created on first use (or at construction when consume options are set). */
  get #consumeSide(): Consumer {
    this.#core.checkOpen()
    if (this.#share !== null) throw new InvalidOperationError(SHARE_REFUSES)
    if (this.#consumer === null) {
      this.#consumer = new Consumer(this.#core)
      this.#consumer.start()
    }
    return this.#consumer
  }

  /** bufferedFetchRecords is the number of fetched records waiting to be polled (franz-go's BufferedFetchRecords). */
  get bufferedFetchRecords(): number {
    return this.#consumer?.bufferedRecords ?? this.#share?.bufferedRecords ?? 0
  }

  /** bufferedFetchBytes is the wire size of the fetch responses whose records wait to be polled (franz-go's BufferedFetchBytes). */
  get bufferedFetchBytes(): number {
    return this.#consumer?.bufferedBytes ?? this.#share?.bufferedBytes ?? 0
  }

  /**
   * pollFetches waits for fetched records and returns all that are buffered.
   *
   * The AbortSignal contract (pollRecords, records() and fetches() too; README, Consuming):
   * - With records or errors buffered, a poll returns them at once, whether or not `signal` has
   *   aborted (franz-go's PollFetches takes buffered fetches before it looks at its context).
   * - With nothing buffered it waits. When `signal` aborts, or has aborted already, it resolves (it
   *   never rejects for an abort) with no records and one `errors()` entry: topic '', partition -1,
   *   an AbortError whose `cause` is `signal.reason`. The consumer goes on; the next poll gets what
   *   came since. While the group rebalances nothing is handed out, so an abort then resolves the
   *   same way and the buffered records wait for the next poll.
   * A closed client's poll resolves the same way with a ClientClosedError.
   */
  pollFetches(opts: { signal?: AbortSignal } = {}): Promise<Fetches> {
    if (this.#core.closing) return Promise.resolve(closedFetches(this.#core, opts.signal))
    if (this.#share !== null) return this.#share.poll(0, opts.signal)
    return this.#consumeSide.poll(0, opts.signal)
  }

  /** pollRecords is pollFetches returning at most `max` records (the rest stay buffered), under the same AbortSignal contract. */
  pollRecords(max: number, opts: { signal?: AbortSignal } = {}): Promise<Fetches> {
    if (this.#core.closing) return Promise.resolve(closedFetches(this.#core, opts.signal))
    if (this.#share !== null) return this.#share.poll(max, opts.signal)
    return this.#consumeSide.poll(max, opts.signal)
  }

  /**
   * markAcks marks share-group records of the last poll (shareGroup): 'accept' (processed), 'release'
   * (handed out again, to any member, its deliveryCount raised) or 'reject' (never handed out again).
   * Without records it marks every record of the last poll not marked yet. A record keeps its first
   * mark. Marks are sent with the next fetch, by flushAcks, or at close; the next poll accepts the
   * records of this one left unmarked, and close releases them (franz-go's MarkAcks).
   * 'renew' (Kafka 4.2+) goes out without waiting for a poll (after a fetch parked on the broker,
   * fetchMaxWait at most) and starts the records' acquisition locks over without marking them; it
   * throws UnsupportedVersionError on an older broker.
   */
  markAcks(status: AckStatus, ...records: Record[]): void {
    if (this.#share === null) throw new InvalidOperationError('markAcks needs a shareGroup')
    this.#share.markAcks(status, records)
  }

  /**
   * flushAcks sends every mark made so far (markAcks) and resolves once the brokers answered them;
   * their answers went to shareAckCallback by then. A fetch waiting on a broker is answered first
   * (at most fetchMaxWait). It rejects with an AbortError if `signal` aborts first.
   */
  flushAcks(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#share === null) return Promise.reject(new InvalidOperationError('flushAcks needs a shareGroup'))
    return this.#share.flushAcks(opts.signal)
  }

  /**
   * records iterates over consumed records until `signal` aborts or the client closes, then ends
   * without throwing. An error retrying will not mend (`retriable` false: failed authentication, a
   * topic not authorized, a corrupt batch) ends it: it throws that error after the records of the
   * poll that held it. Retriable errors (a cluster out of reach, a topic not created yet) the
   * consumer retries by itself; fetches() shows them.
   */
  async *records(opts: { signal?: AbortSignal } = {}): AsyncGenerator<Record> {
    for await (const f of this.fetches(opts)) {
      yield* f
      const err = lastingError(f)
      if (err !== null) throw err
    }
  }

  /**
   * fetches iterates over polls until `signal` aborts or the client closes, then ends without
   * throwing. It yields every poll that holds records or errors, but not the poll holding only the
   * abort's (or the close's) topic '' entry.
   */
  async *fetches(opts: { signal?: AbortSignal } = {}): AsyncGenerator<Fetches> {
    while (!this.#core.closing && !opts.signal?.aborted) {
      const f = await this.pollFetches(opts)
      if (f.numRecords() > 0 || f.errors().some((e) => !endsCall(e.error))) yield f
    }
  }

  /**
   * pauseFetchTopics stops fetching topics until resumed. Their records fetched and not yet polled are
   * not returned: they are fetched again after resume (a share member releases them to its group).
   */
  pauseFetchTopics(...topics: string[]): void {
    this.#pauseSide.pause(topics)
  }

  /** resumeFetchTopics resumes topics paused with pauseFetchTopics. */
  resumeFetchTopics(...topics: string[]): void {
    this.#pauseSide.resume(topics)
  }

  /** pauseFetchPartitions stops fetching some partitions, { topic: [partitions] }, as pauseFetchTopics does topics. */
  pauseFetchPartitions(partitions: { [topic: string]: number[] }): void {
    this.#pauseSide.pause(new Map(Object.entries(partitions)))
  }

  /** resumeFetchPartitions resumes partitions paused with pauseFetchPartitions. */
  resumeFetchPartitions(partitions: { [topic: string]: number[] }): void {
    this.#pauseSide.resume(new Map(Object.entries(partitions)))
  }

  /** #pauseSide is what pausing acts on: the share consumer of a share member, the consumer otherwise. */
  get #pauseSide(): Consumer | ShareConsumer {
    this.#core.checkOpen()
    return this.#share ?? this.#consumeSide
  }

  /** addConsumePartitions consumes more partitions directly: { topic: { partition: OffsetSpec } }. */
  addConsumePartitions(partitions: { [topic: string]: { [partition: number]: OffsetSpec } }): void {
    if (this.#core.config.consumerGroup !== null) throw new InvalidOperationError('addConsumePartitions cannot be used with a consumer group')
    const m = new Map<string, Map<number, OffsetSpec>>()
    for (const [t, ps] of Object.entries(partitions)) {
      const bad = checkTopicName(t)
      if (bad !== null) throw bad
      m.set(t, new Map(Object.entries(ps).map(([p, s]) => [Number(p), s])))
    }
    this.#consumeSide.assign(m)
  }

  /** removeConsumePartitions stops consuming partitions: { topic: [partitions] }. */
  removeConsumePartitions(partitions: { [topic: string]: number[] }): void {
    this.#consumeSide.unassign(new Map(Object.entries(partitions)))
  }

  /**
   * addConsumeTopics consumes more topics (directly, or in the group's next rebalance). A name that
   * breaks Kafka's rules throws InvalidTopicError (unless consumeRegex makes them patterns).
   */
  addConsumeTopics(...topics: string[]): void {
    if (!this.#core.config.consumeRegex) {
      for (const t of topics) {
        const bad = typeof t === 'string' ? checkTopicName(t) : new InvalidOperationError(`addConsumeTopics takes topic names, not ${typeof t}`)
        if (bad !== null) throw bad
      }
    }
    this.#consumeSide.addTopics(topics)
  }

  // ---------------------------------------------------------------- group offsets

  #group(what: string) {
    const g = this.#consumeSide.group
    if (g === null) throw new InvalidOperationError(`${what} needs a consumerGroup`)
    return g
  }

  /** commitRecords commits the offsets after the given records (the highest per partition). */
  commitRecords(...records: Record[]): Promise<void> {
    const g = this.#group('commitRecords')
    const offsets = new Map<string, Map<number, { offset: bigint; leaderEpoch: number }>>()
    for (const r of records) {
      let m = offsets.get(r.topic)
      if (m === undefined) offsets.set(r.topic, (m = new Map()))
      const cur = m.get(r.partition)
      if (cur === undefined || cur.offset <= r.offset) m.set(r.partition, { offset: r.offset + 1n, leaderEpoch: r.leaderEpoch })
    }
    return g.commit(offsets)
  }

  /** commitUncommittedOffsets commits every polled (or, with autoCommitMarks, marked) offset not yet committed. */
  commitUncommittedOffsets(): Promise<void> {
    return this.#group('commitUncommittedOffsets').commitUncommitted()
  }

  /** commitOffsets commits exact offsets: { topic: { partition: { offset, leaderEpoch?, metadata? } } }. */
  commitOffsets(offsets: { [topic: string]: { [partition: number]: { offset: bigint; leaderEpoch?: number; metadata?: string | null } } }): Promise<void> {
    const g = this.#group('commitOffsets')
    const m = new Map<string, Map<number, { offset: bigint; leaderEpoch: number; metadata?: string | null }>>()
    for (const [t, ps] of Object.entries(offsets)) {
      m.set(t, new Map(Object.entries(ps).map(([p, o]) => [Number(p), { offset: o.offset, leaderEpoch: o.leaderEpoch ?? -1, metadata: o.metadata ?? null }])))
    }
    return g.commit(m)
  }

  /** markCommitRecords marks records as processed; with autoCommitMarks only marked records are committed. */
  markCommitRecords(...records: Record[]): void {
    this.#group('markCommitRecords').mark(records)
  }

  /**
   * fetchCommittedOffsets returns the group's committed offsets for partitions: { topic: [partitions] }.
   * Offsets a transaction is committing are waited for (KIP-447), the process held open meanwhile.
   */
  fetchCommittedOffsets(partitions: { [topic: string]: number[] }) {
    const pending = this.#group('fetchCommittedOffsets').fetchCommitted(new Map(Object.entries(partitions)))
    this.#core.hold()
    return pending.finally(() => this.#core.release())
  }

  /**
   * setOffsets moves consumed partitions to exact offsets, in a group (classic or KIP-848) or not
   * (franz-go's SetOffsets): `{ topic: { partition: { offset, leaderEpoch? } } }`. The next poll
   * returns records from there: records of those partitions buffered or being fetched are dropped.
   * Partitions this client does not consume right now (not assigned to this member) are left alone.
   * In a group the new position counts as polled: the next commit (or autocommit) commits it, as
   * Java's commitSync commits the position a seek set. Nothing is committed by this call itself.
   */
  setOffsets(offsets: { [topic: string]: { [partition: number]: { offset: bigint; leaderEpoch?: number } } }): void {
    const m = new Map<string, Map<number, { offset: bigint; leaderEpoch: number }>>()
    if (offsets === null || typeof offsets !== 'object') throw new InvalidOperationError('setOffsets takes { topic: { partition: { offset } } }')
    for (const [t, ps] of Object.entries(offsets)) {
      const pm = new Map<number, { offset: bigint; leaderEpoch: number }>()
      for (const [p, o] of Object.entries(ps ?? {})) {
        const partition = Number(p)
        if (!Number.isInteger(partition) || partition < 0) throw new InvalidOperationError(`setOffsets: ${t}: ${p} is not a partition number`, { topic: t })
        if (o === null || typeof o !== 'object' || typeof o.offset !== 'bigint' || o.offset < 0n) {
          throw new InvalidOperationError(`setOffsets: ${t}[${p}]: offset must be a bigint >= 0`, { topic: t, partition })
        }
        if (o.leaderEpoch !== undefined && !Number.isInteger(o.leaderEpoch)) throw new InvalidOperationError(`setOffsets: ${t}[${p}]: leaderEpoch must be an integer`, { topic: t, partition })
        pm.set(partition, { offset: o.offset, leaderEpoch: o.leaderEpoch ?? -1 })
      }
      m.set(t, pm)
    }
    this.#core.checkOpen()
    if (this.#share !== null) throw new InvalidOperationError(SHARE_REFUSES)
    // A client that consumes nothing has no position to move.
    this.#consumer?.setOffsets(m)
  }

  /** allowRebalance lets a rebalance held by blockRebalanceOnPoll go on. */
  allowRebalance(): void {
    this.#consumeSide.group?.allowRebalance()
  }

  /**
   * groupMetadata returns the group id, member id, generation (or KIP-848 member epoch) and static
   * instance id of this member: what `sendOffsetsToTransaction` takes (Java's groupMetadata()).
   */
  groupMetadata(): { groupId: string; memberId: string; generation: number; instanceId: string | null } {
    const g = this.#group('groupMetadata')
    return { groupId: g.group, memberId: g.memberId, generation: g.generation, instanceId: this.#core.config.instanceId }
  }

  // ---------------------------------------------------------------- transactions

  #txn(what: string): Transactions {
    const txn = this.#produceSide.txn
    if (txn === null) throw new TransactionStateError(`${what} needs a client with a transactionalId`)
    return txn
  }

  /**
   * beginTransaction opens a transaction on a client with a `transactionalId` (franz-go's
   * BeginTransaction, Java's beginTransaction): the records produced until `endTransaction` are
   * committed or aborted together, with plain `produce`. The first transaction initializes the
   * producer id, which fences any older producer of the same transactionalId and aborts its open
   * transaction. Throws TransactionStateError when a transaction is already open (or the client has
   * no transactionalId), and the client's TransactionFatalError (ProducerFencedError, …) once it has one.
   */
  beginTransaction(): void {
    this.#txn('beginTransaction').begin()
    // A transactional client keeps the process alive from its first transaction until close(), as
    // Java's producer thread does: transactions end with requests the caller may not be awaiting yet.
    if (!this.#txnHeld) {
      this.#txnHeld = true
      this.#core.hold()
    }
  }

  #txnHeld = false

  /**
   * endTransaction ends the open transaction (franz-go's EndTransaction, Java's commitTransaction and
   * abortTransaction). 'commit' sends every buffered record first and waits for them and for the
   * offsets given to sendOffsetsToTransaction, then commits; 'abort' fails the records not yet sent
   * with TransactionAbortedError, waits for those in flight, then aborts. It rejects with:
   * - TransactionAbortableError when the transaction cannot commit (a record failed, the group moved
   *   on, the broker aborted it for its timeout): call `endTransaction('abort')` and try again;
   * - a TransactionFatalError (ProducerFencedError when another producer took the transactionalId
   *   over): the client refuses everything transactional from then on; close it;
   * - a retriable error (`err.retriable`) when the coordinator could not be reached in time: call
   *   endTransaction again the same way (after a commit's EndTxn went out, only a commit, since it
   *   may have committed);
   * - AbortError when `signal` aborts before anything was ended (the transaction stays open).
   * onTransactionEnd hooks run once per call.
   */
  endTransaction(end: 'commit' | 'abort', opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      if (end !== 'commit' && end !== 'abort') throw new InvalidOptionError('end', `${String(end)} is not 'commit' or 'abort'`)
      return this.#txn('endTransaction').end(end === 'commit', opts.signal)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * sendOffsetsToTransaction puts a consumer group's offsets into the open transaction, so that they
   * commit with its records or not at all (Java's sendOffsetsToTransaction; AddOffsetsToTxn, then
   * TxnOffsetCommit through the group's coordinator). `offsets` are the next offsets to consume:
   * { topic: { partition: { offset, leaderEpoch?, metadata? } } }. `group` is the consuming member's
   * `groupMetadata()`: with its member id and generation the coordinator refuses the offsets once
   * the group has moved on (KIP-447), so a zombie cannot commit; a plain { groupId } skips that check.
   * Rejects with TransactionAbortableError when the offsets cannot join the transaction (the
   * transaction must then be aborted).
   */
  sendOffsetsToTransaction(
    offsets: { [topic: string]: { [partition: number]: { offset: bigint; leaderEpoch?: number; metadata?: string | null } } },
    group: GroupMetadata,
  ): Promise<void> {
    try {
      const txn = this.#txn('sendOffsetsToTransaction')
      if (group === null || typeof group !== 'object' || typeof group.groupId !== 'string' || group.groupId === '') {
        throw new InvalidOptionError('group', 'must be a group metadata object with a non-empty groupId (client.groupMetadata())')
      }
      return txn.sendOffsets(toCommitOffsets(offsets), group)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * close ends the client, keeping every promise it made, as Java's close() does: it refuses new
   * records at once, sends every buffered record without waiting for linger, waits for every answer,
   * commits what the application is done with (when autocommitting: what polls before the latest
   * handed out, or everything polled with greedyAutoCommit) and leaves the group, then closes every connection
   * and timer and runs the onClientClosed hooks last. `timeout` (ms) bounds the wait; records still
   * unsent when it runs out fail with ClientClosedError, and records whose produce request is in flight
   * (or went unanswered) with RecordFateUnknownError: the client cannot know whether they were
   * written. Without a timeout close waits until every record settled, which recordDeliveryTimeout
   * bounds. Calling close again returns the same promise.
   */
  close(opts: { timeout?: number } = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing
    const timeout = opts?.timeout ?? Infinity
    if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
      return Promise.reject(new InvalidOptionError('timeout', `close({ timeout }) takes a number of ms >= 0, not ${String(timeout)}`))
    }
    const core = this.#core
    core.startClosing()
    // The process stays up until close is done, whatever else is pending.
    core.hold()
    const deadline = Date.now() + timeout
    this.#closing = (async () => {
      try {
        await Promise.all([
          this.#consumer?.close(deadline),
          this.#share?.close(deadline),
          (async () => {
            // An open transaction is aborted rather than left for the broker's transactionTimeout, which
            // would hold read_committed consumers back until then; within close's timeout.
            await this.#producer?.txn?.abortOnClose(Math.min(core.config.requestTimeoutOverhead, Math.max(0, deadline - Date.now())))
            await this.#producer?.close(Math.max(0, deadline - Date.now()))
          })(),
        ])
      } finally {
        core.shutdown()
        core.hooks.clientClosed(this)
      }
    })()
    return this.#closing
  }
}

/** SHARE_REFUSES is why consumer-group and positioning methods throw on a share-group member. */
const SHARE_REFUSES = 'a share group member cannot do this: the share group assigns partitions and tracks what was consumed (acknowledge records with markAcks)'

/** lastingError is a poll's first error that retrying will not mend (records() throws it), or null. */
function lastingError(f: Fetches): Error | null {
  for (const e of f.errors()) {
    if (!endsCall(e.error) && (e.error as { retriable?: boolean }).retriable !== true) return e.error
  }
  return null
}

function closedFetches(core: ClientCore, signal: AbortSignal | undefined): Fetches {
  // onPollStart is the first thing every poll does, a poll of a closed client included.
  if (core.hooks.onPollStart.length !== 0) core.hooks.pollStart(signal)
  const f = new Fetches()
  f.addError(new ClientClosedError())
  return f
}

function failAfterClose(core: ClientCore, record: ProduceRecord, cb: ProduceCallback): void {
  const err = new ClientClosedError()
  core.hooks.produceRecordBuffered(record)
  core.hooks.produceRecordUnbuffered(record, err)
  cb(record, err)
}

/** toCommitOffsets checks and converts { topic: { partition: { offset, … } } } (the argument named `offsets`). */
function toCommitOffsets(offsets: { [topic: string]: { [partition: number]: { offset: bigint; leaderEpoch?: number; metadata?: string | null } } }): CommitOffsets {
  if (offsets === null || typeof offsets !== 'object') throw new InvalidOptionError('offsets', 'must be { topic: { partition: { offset } } }')
  const out: CommitOffsets = new Map()
  for (const [t, ps] of Object.entries(offsets)) {
    if (ps === null || typeof ps !== 'object') throw new InvalidOptionError('offsets', `${t}: must be { partition: { offset } }`)
    const m = new Map<number, { offset: bigint; leaderEpoch: number; metadata: string | null }>()
    for (const [p, o] of Object.entries(ps)) {
      const partition = Number(p)
      if (!Number.isInteger(partition) || partition < 0) throw new InvalidOptionError('offsets', `${t}: ${p} is not a partition number`)
      if (o === null || typeof o !== 'object' || typeof o.offset !== 'bigint' || o.offset < 0n) throw new InvalidOptionError('offsets', `${t}[${p}]: offset must be a non-negative bigint`)
      m.set(partition, { offset: o.offset, leaderEpoch: o.leaderEpoch ?? -1, metadata: o.metadata ?? null })
    }
    if (m.size > 0) out.set(t, m)
  }
  return out
}
