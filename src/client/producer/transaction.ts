import { ErrorCode, kafkaErrorCodes } from '../../protocol/error-codes.js'
import { KafkaProtocolError, KafkaWireError } from '../../protocol/errors.js'
import type { ApiMessage } from '../../protocol/messages/api.js'
import { AddOffsetsToTxn } from '../../protocol/messages/add-offsets-to-txn.js'
import { AddPartitionsToTxn, type AddPartitionsToTxnRequest, type AddPartitionsToTxnResponse } from '../../protocol/messages/add-partitions-to-txn.js'
import { EndTxn, type EndTxnResponse } from '../../protocol/messages/end-txn.js'
import { InitProducerId } from '../../protocol/messages/init-producer-id.js'
import { Produce } from '../../protocol/messages/produce.js'
import { TxnOffsetCommit, type TxnOffsetCommitRequest } from '../../protocol/messages/txn-offset-commit.js'
import { ZERO_UUID } from '../../protocol/reader.js'
import type { BrokerConnection } from '../connection.js'
import { endsCall, type ClientCore } from '../core.js'
import {
  AbortError,
  BrokerConnectionError,
  NotInTransactionError,
  ProducerFencedError,
  RequestTimeoutError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionFatalError,
  TransactionStateError,
} from '../errors.js'
import { isCoordinatorError } from '../routing.js'
import type { CommitOffsets, CoordinatorType, GroupMetadata } from '../types.js'
import type { RecBuf } from './batch.js'
import type { Producer } from './producer.js'

/**
 * TxnState is where a transactional producer is:
 * - `ready`: no transaction open; producing fails with NotInTransactionError;
 * - `open`: between beginTransaction and endTransaction;
 * - `abortable`: open, but something failed: only endTransaction('abort') can end it;
 * - `committing` / `aborting`: endTransaction is under way, or failed with a retriable error after
 *   its EndTxn went out (`#endPending`) and must be called again the same way;
 * - `fatal`: fenced or refused for good; every call fails with `#fatal`.
 */
type TxnState = 'ready' | 'open' | 'abortable' | 'committing' | 'aborting' | 'fatal'

// Errors that end the producer for good: retrying with the same transactional id cannot succeed.
const FATAL = new Set<number>([
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_TRANSACTION_TIMEOUT,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
])
// The broker refused the producer's epoch. Either a newer producer took the transactional id over (the
// producer is fenced) or the coordinator aborted the transaction itself when transactionTimeout ran
// out and bumped the epoch (KIP-588; KIP-890 in transaction version 2). A transaction open for less
// than transactionTimeout cannot have timed out (the coordinator's clock starts after begin), so the
// refusal means a fence: fatal at once, as in Java's client. Past the timeout the transaction becomes
// abortable and the abort asks the coordinator: InitProducerId with the old id and epoch succeeds
// after a timeout and fails with PRODUCER_FENCED after a fence. (The coordinator checks only the
// producer id before it fences an open transaction, so that question, asked by a fenced producer,
// would abort the new owner's open transaction: hence asking only when a timeout is possible.)
const EPOCH_REFUSED = new Set<number>([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH])
// The coordinator does not know the producer id of the transactional id (expired, KIP-360): the abort
// cannot send EndTxn and initializes the id again instead.
const ID_UNKNOWN = new Set<number>([ErrorCode.INVALID_PRODUCER_ID_MAPPING, ErrorCode.UNKNOWN_PRODUCER_ID])
// TxnOffsetCommit errors that mean the consumer group moved on since the offsets were polled
// (KIP-447's zombie fencing): the transaction must abort so that no input is processed twice.
const GROUP_MOVED = new Set<number>([
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.FENCED_MEMBER_EPOCH,
  ErrorCode.STALE_MEMBER_EPOCH,
])

/** TXN_COORDINATOR and GROUP_COORDINATOR are FindCoordinator's key types. */
const TXN_COORDINATOR: CoordinatorType = 1
const GROUP_COORDINATOR: CoordinatorType = 0

/** The highest versions a client may use in transaction version 1: the next ones mean version 2 (KIP-890). */
const TV1_PRODUCE_MAX = 11
const TV1_END_TXN_MAX = 4
const TV1_TXN_OFFSET_COMMIT_MAX = 4
/** AddPartitionsToTxn v4+ is for brokers (batched transactions); clients send v3 and below. */
const ADD_PARTITIONS_CLIENT_MAX = 3

/**
 * Transactions is a transactional producer's state machine (KIP-98, with KIP-360's epoch bumps,
 * KIP-447's group-fenced offsets, KIP-588's recovery after a timeout and KIP-890's server-side
 * defense). It owns the producer id of a `transactionalId` (InitProducerId through the transaction
 * coordinator), decides per transaction between transaction version 1 (partitions added with
 * AddPartitionsToTxn before their first batch, batched per request) and version 2 (the partition
 * leader adds them on the first Produce v12+, and every EndTxn bumps the epoch), adds consumed
 * offsets (AddOffsetsToTxn, TxnOffsetCommit), and ends transactions with EndTxn.
 *
 * The producer asks it three things on its paths: whether a record may be produced now
 * (`produceError`), whether a partition's batch may be sent now (`maySend`), and it reports every
 * record that failed (`recordFailed`), which makes the open transaction abortable.
 */
export class Transactions {
  /** id is the transactional id. */
  readonly id: string
  readonly #producer: Producer
  readonly #core: ClientCore
  #state: TxnState = 'ready'
  #fatal: TransactionFatalError | null = null
  /** abortable is the error commits fail with once the open transaction cannot commit. */
  #abortable: TransactionAbortableError | null = null
  /** lastCode is the broker error code that made the transaction abortable, 0 for other causes. */
  #lastCode = 0
  /** tv2 says whether this transaction uses transaction version 2; null until it first needs the broker. */
  #tv2: boolean | null = null
  #preparing: Promise<void> | null = null
  #pidLoading: Promise<void> | null = null
  /** started is set once the coordinator may hold the transaction open (a partition or offsets were, or may have been, added). */
  #started = false
  /** endDone is set once the ending transaction's EndTxn succeeded, for an abort retried after its bump failed. */
  #endDone = false
  /** endPending is the end whose EndTxn went out and failed with a retriable error: its outcome is unknown. */
  #endPending: 'commit' | 'abort' | null = null
  #ending: Promise<void> | null = null
  /** needBump is set when a batch with sequence numbers failed: the epoch must be bumped before the next transaction (KIP-360). */
  #needBump = false
  /** beganAt is when the open transaction began (performance.now()), to tell a fence from a timeout. */
  #beganAt = 0
  // Transaction version 1: partitions added to the transaction, waiting for the next AddPartitionsToTxn, and held from sending.
  #added = new Set<RecBuf>()
  #pendingAdd = new Set<RecBuf>()
  #held = new Set<RecBuf>()
  #adding = false
  #addScheduled = false
  /** groupsAdded are the groups whose offsets are in the transaction (AddOffsetsToTxn, version 1). */
  #groupsAdded = new Set<string>()
  /** offsetsChain serializes sendOffsetsToTransaction calls; endTransaction waits for it. */
  #offsetsChain: Promise<unknown> = Promise.resolve()

  constructor(producer: Producer, id: string) {
    this.#producer = producer
    this.#core = producer.core
    this.id = id
  }

  /** state is the transaction state (for tests and the session). */
  get state(): TxnState {
    return this.#state
  }

  /** inTransaction is true between beginTransaction and the end of endTransaction. */
  get inTransaction(): boolean {
    return this.#state !== 'ready' && this.#state !== 'fatal'
  }

  /** transactionVersion is 1 or 2 once the open transaction has talked to the broker, else 0. */
  get transactionVersion(): number {
    return this.#tv2 === null ? 0 : this.#tv2 ? 2 : 1
  }

  /** produceMaxVersion caps Produce requests: version 1 must not send v12+, which would ask for version 2's implicit add. */
  get produceMaxVersion(): number | undefined {
    return this.#tv2 === false ? TV1_PRODUCE_MAX : undefined
  }

  // ---------------------------------------------------------------- begin

  /** begin opens a transaction; see Client.beginTransaction. */
  begin(): void {
    if (this.#fatal !== null) throw this.#fatal
    if (this.#state !== 'ready') {
      const why =
        this.#state === 'committing' || this.#state === 'aborting'
          ? this.#ending !== null
            ? 'the previous transaction is still ending: wait for endTransaction()'
            : `the previous endTransaction('${this.#state === 'committing' ? 'commit' : 'abort'}') failed and must be called again`
          : 'a transaction is already open: end it with endTransaction() first'
      throw new TransactionStateError(`beginTransaction: ${why}`, { transactionalId: this.id })
    }
    this.#state = 'open'
    this.#beganAt = performance.now()
    this.#abortable = null
    this.#lastCode = 0
    this.#tv2 = null
    this.#started = false
    this.#endDone = false
    this.#added.clear()
    this.#pendingAdd.clear()
    this.#groupsAdded.clear()
    // Initialize the producer id now, as Java's initTransactions does: a producer that restarted
    // fences the one it replaces (and aborts its open transaction) before it produces anything.
    this.#prepare().catch(() => {})
  }

  // ---------------------------------------------------------------- the producer's questions

  /**
   * produceError is null when a record may be produced now, else the error it fails with. Records
   * refused here do not make the transaction abortable.
   */
  produceError(): Error | null {
    switch (this.#state) {
      case 'open':
        return null
      case 'ready':
        return new NotInTransactionError(undefined, { transactionalId: this.id })
      case 'abortable':
        return this.#abortable
      case 'fatal':
        return this.#fatal
      default:
        return new TransactionStateError(`the transaction is ${this.#state === 'committing' ? 'committing' : 'aborting'}: produce after endTransaction() resolved and beginTransaction()`, { transactionalId: this.id })
    }
  }

  /**
   * recordFailed is told about every record that failed while the client is transactional.
   * `sequenced` says its batch carried sequence numbers, which leaves a gap only an epoch bump
   * closes. Any failure makes the open transaction abortable: committing the rest would lose the
   * record.
   */
  recordFailed(err: Error, sequenced: boolean): void {
    if (sequenced) this.#needBump = true
    // Refusals (not in a transaction, already abortable, fenced) and records dropped by an abort
    // say nothing new about the transaction.
    if (err instanceof TransactionStateError || err instanceof TransactionAbortableError || err instanceof TransactionFatalError || err instanceof TransactionAbortedError) return
    this.#poison(err)
  }

  /**
   * maySend is asked by a sink before it sends a partition's batch: true to send now. A partition that
   * must wait (the transaction version is not decided yet, version 1's AddPartitionsToTxn is not done,
   * an abort is under way) is held, its backoff set to Infinity so that the sink neither sends it nor
   * arms a timer for it, until the transaction releases it.
   */
  maySend(rb: RecBuf): boolean {
    const s = this.#state
    if (s === 'ready' || s === 'fatal') return true
    if (s === 'aborting') {
      this.#hold(rb)
      return false
    }
    if (this.#tv2 === null) {
      this.#hold(rb)
      this.#prepare().catch(() => {})
      return false
    }
    if (this.#tv2) {
      // KIP-890: the leader adds the partition to the transaction when it takes this Produce.
      this.#started = true
      return true
    }
    if (this.#added.has(rb)) return true
    this.#hold(rb)
    if (!this.#pendingAdd.has(rb)) {
      this.#pendingAdd.add(rb)
      this.#addSoon()
    }
    return false
  }

  #hold(rb: RecBuf): void {
    rb.backoffUntil = Infinity
    this.#held.add(rb)
  }

  #release(rbs: Iterable<RecBuf>): void {
    for (const rb of rbs) {
      if (rb.backoffUntil === Infinity) rb.backoffUntil = 0
      this.#held.delete(rb)
      rb.sink?.wake(true)
    }
  }

  // ---------------------------------------------------------------- producer id and version

  /** ensureProducerId resolves once the transactional producer id is known (Producer.ensureProducerId). */
  ensureProducerId(): Promise<void> {
    if (this.#fatal !== null) return Promise.reject(this.#fatal)
    if (this.#producer.producerId >= 0n) return Promise.resolve()
    return (this.#pidLoading ??= this.#initProducerId(-1n, -1).finally(() => {
      this.#pidLoading = null
    }))
  }

  /**
   * prepare readies the open transaction: the producer id, then the transaction version, decided once
   * per transaction from what the coordinator's connection negotiated (a transaction keeps the version
   * it started with even if the cluster's feature level changes meanwhile, as Java's client does).
   */
  #prepare(): Promise<void> {
    return (this.#preparing ??= (async () => {
      try {
        await this.ensureProducerId()
        if (this.#tv2 === null && this.#state !== 'ready') {
          const conn = await this.#coordinatorConnection()
          this.#tv2 = supportsTransactionV2(conn)
          this.#core.log('debug', 'transaction version decided', 'transactionalId', this.id, 'version', this.#tv2 ? 2 : 1)
        }
        this.#release([...this.#held])
      } catch (err) {
        // Fatal failures were recorded where they happened; a retriable one is tried again soon, so
        // that held partitions are not forgotten.
        if (this.#fatal === null && this.#state !== 'ready') {
          this.#core.log('warn', 'preparing the transaction failed; retrying', 'transactionalId', this.id, 'err', (err as Error).message)
          setTimeout(() => {
            if (this.#held.size > 0 && this.#state !== 'ready') this.#prepare().catch(() => {})
          }, this.#core.config.retryBackoff(1)).unref()
        }
        throw err
      } finally {
        this.#preparing = null
      }
    })())
  }

  async #coordinatorConnection(): Promise<BrokerConnection> {
    const node = await this.#core.coordinator(TXN_COORDINATOR, this.id)
    const b = await this.#core.brokerAfterRefresh(node)
    return b.connection('group')
  }

  /**
   * initProducerId gets the producer id and epoch of the transactional id. With the current id and
   * epoch it bumps the epoch (KIP-360), which fails with PRODUCER_FENCED when another producer owns the
   * id now. A new id (-1) fences every older producer of the id and aborts its open transaction.
   */
  async #initProducerId(id: bigint, epoch: number): Promise<void> {
    const cfg = this.#core.config
    const res = await this.#txnRequest(InitProducerId, () => {
      const req = InitProducerId.newRequest()
      req.transactionalId = this.id
      req.transactionTimeoutMs = cfg.transactionTimeout
      req.producerId = id
      req.producerEpoch = epoch
      return req
    })
    const code = res.errorCode
    if (code === 0) {
      this.#producer.setProducerId(res.producerId, res.producerEpoch)
      this.#needBump = false
      this.#core.log('info', 'transactional producer id initialized', 'transactionalId', this.id, 'producerId', String(res.producerId), 'epoch', res.producerEpoch)
      return
    }
    if (id >= 0n && ID_UNKNOWN.has(code)) {
      // The coordinator forgot the id (transactional.id.expiration.ms): start over with a new one.
      return this.#initProducerId(-1n, -1)
    }
    const err = new KafkaProtocolError(code, { broker: -1 })
    if (EPOCH_REFUSED.has(code)) throw this.#fail(new ProducerFencedError(undefined, { transactionalId: this.id, cause: err }))
    if (code === ErrorCode.INVALID_TRANSACTION_TIMEOUT) {
      throw this.#fail(new TransactionFatalError(`the broker refuses transactionTimeout ${cfg.transactionTimeout} ms (above its transaction.max.timeout.ms): lower it`, { transactionalId: this.id, cause: err }))
    }
    throw this.#fail(new TransactionFatalError(`initializing transactional id ${this.id} failed: ${err.message}`, { transactionalId: this.id, cause: err }))
  }

  // ---------------------------------------------------------------- version 1: AddPartitionsToTxn

  #addSoon(): void {
    if (this.#adding || this.#addScheduled) return
    this.#addScheduled = true
    // The partitions that get their first batch in this turn go out in one request.
    setImmediate(() => {
      this.#addScheduled = false
      this.#addNext()
    })
  }

  #addNext(): void {
    if (this.#adding || this.#pendingAdd.size === 0) return
    if (this.#state !== 'open' && this.#state !== 'committing' && this.#state !== 'abortable') {
      this.#pendingAdd.clear()
      return
    }
    const rbs = [...this.#pendingAdd]
    this.#pendingAdd.clear()
    this.#adding = true
    this.#addPartitions(rbs)
      .catch((err: Error) => {
        this.#poison(err)
        // The partitions cannot be written in this transaction: their records fail.
        this.#producer.failUnsent(err, new Set(rbs))
        this.#release(rbs)
      })
      .finally(() => {
        this.#adding = false
        this.#addNext()
      })
  }

  /**
   * addPartitions adds partitions to the transaction with one AddPartitionsToTxn (v3 and below, the
   * client versions), asking again for those the coordinator did not take yet (CONCURRENT_TRANSACTIONS
   * right after the previous transaction ended, OPERATION_NOT_ATTEMPTED beside a failed one, a
   * coordinator that moved), and releases each partition as it is added.
   */
  async #addPartitions(rbs: RecBuf[]): Promise<void> {
    let todo = rbs
    const producer = this.#producer
    await this.#retrying(AddPartitionsToTxn.key, async () => {
      const req = AddPartitionsToTxn.newRequest() as AddPartitionsToTxnRequest
      req.v3AndBelowTransactionalId = this.id
      req.v3AndBelowProducerId = producer.producerId
      req.v3AndBelowProducerEpoch = producer.producerEpoch
      const byTopic = new Map<string, number[]>()
      for (const rb of todo) {
        let ps = byTopic.get(rb.topic)
        if (ps === undefined) byTopic.set(rb.topic, (ps = []))
        ps.push(rb.partition)
      }
      req.v3AndBelowTopics = [...byTopic].map(([name, partitions]) => ({ name, partitions }))
      // Sent, the outcome may be unknown: the coordinator may hold the transaction open from now on.
      this.#started = true
      const res: AddPartitionsToTxnResponse = await this.#onCoordinator(TXN_COORDINATOR, this.id, AddPartitionsToTxn, req, ADD_PARTITIONS_CLIENT_MAX)
      if (res.errorCode !== 0) this.#raise(res.errorCode)
      const codes = new Map<string, number>()
      for (const t of res.resultsByTopicV3AndBelow) for (const p of t.resultsByPartition) codes.set(`${t.name}\u0000${p.partitionIndex}`, p.partitionErrorCode)
      const added: RecBuf[] = []
      const again: RecBuf[] = []
      let retryCode = 0
      let fatalCode = 0
      let failCode = 0
      let failed: RecBuf | null = null
      for (const rb of todo) {
        const code = codes.get(`${rb.topic}\u0000${rb.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR
        if (code === 0) added.push(rb)
        else if (code === ErrorCode.OPERATION_NOT_ATTEMPTED || isRetriable(code)) {
          again.push(rb)
          if (code !== ErrorCode.OPERATION_NOT_ATTEMPTED) retryCode = code
          if (isCoordinatorError(code)) this.#core.invalidateCoordinator(TXN_COORDINATOR, this.id)
        } else if (FATAL.has(code)) fatalCode = code
        else if (failCode === 0) {
          failCode = code
          failed = rb
        }
      }
      for (const rb of added) this.#added.add(rb)
      this.#release(added)
      if (fatalCode !== 0) this.#raise(fatalCode)
      if (failCode !== 0) this.#raise(failCode, failed!.topic, failed!.partition)
      todo = again
      // Only OPERATION_NOT_ATTEMPTED left means another partition failed, which raised above.
      if (todo.length > 0) throw new KafkaProtocolError(retryCode || ErrorCode.CONCURRENT_TRANSACTIONS)
    })
  }

  // ---------------------------------------------------------------- offsets (KIP-447)

  /** sendOffsets adds a consumer group's offsets to the open transaction; see Client.sendOffsetsToTransaction. */
  sendOffsets(offsets: CommitOffsets, group: GroupMetadata): Promise<void> {
    const refused = this.#refuseUnlessOpen('sendOffsetsToTransaction')
    if (refused !== null) return Promise.reject(refused)
    const run = this.#offsetsChain.then(() => this.#sendOffsetsNow(offsets, group))
    this.#offsetsChain = run.catch(() => {})
    return run
  }

  #refuseUnlessOpen(what: string): Error | null {
    if (this.#state === 'open') return null
    if (this.#state === 'fatal') return this.#fatal
    if (this.#state === 'abortable') return this.#abortable
    if (this.#state === 'ready') return new TransactionStateError(`${what}: no transaction is open: call beginTransaction() first`, { transactionalId: this.id })
    return new TransactionStateError(`${what}: the transaction is ending`, { transactionalId: this.id })
  }

  async #sendOffsetsNow(offsets: CommitOffsets, group: GroupMetadata): Promise<void> {
    const refused = this.#refuseUnlessOpen('sendOffsetsToTransaction')
    if (refused !== null) throw refused
    if (offsets.size === 0) return
    try {
      await this.#prepare()
      const producer = this.#producer
      if (!this.#tv2 && !this.#groupsAdded.has(group.groupId)) {
        // Version 1: the group's offsets partition joins the transaction first.
        this.#started = true
        const res = await this.#txnRequest(AddOffsetsToTxn, () => {
          const req = AddOffsetsToTxn.newRequest()
          req.transactionalId = this.id
          req.producerId = producer.producerId
          req.producerEpoch = producer.producerEpoch
          req.groupId = group.groupId
          return req
        })
        if (res.errorCode !== 0) this.#raise(res.errorCode)
        this.#groupsAdded.add(group.groupId)
      }
      // Version 2: TxnOffsetCommit v5+ adds the group to the transaction itself.
      this.#started = true
      await this.#txnOffsetCommit(offsets, group)
    } catch (err) {
      if (err instanceof TransactionStateError) throw err
      // Offsets that may or may not be in the transaction make it uncommittable either way.
      this.#poison(err as Error)
      throw this.#fatal ?? this.#abortable ?? err
    }
  }

  /**
   * txnOffsetCommit commits offsets in the transaction through the group's coordinator, with the
   * member's id and generation (KIP-447): a member the group has moved on from is refused, so a
   * zombie cannot commit. Partitions answered with a retriable error are sent again.
   */
  async #txnOffsetCommit(offsets: CommitOffsets, group: GroupMetadata): Promise<void> {
    const md = this.#core.metadata
    const missing = [...offsets.keys()].filter((t) => !md.topics.has(t))
    if (missing.length > 0) {
      // TxnOffsetCommit v6 names topics by id.
      md.interest(missing)
      await md.refresh(true)
    }
    let todo = offsets
    const producer = this.#producer
    await this.#retrying(TxnOffsetCommit.key, async () => {
      const req = (version: number): TxnOffsetCommitRequest => {
        const r = TxnOffsetCommit.newRequest()
        r.transactionalId = this.id
        r.groupId = group.groupId
        r.producerId = producer.producerId
        r.producerEpoch = producer.producerEpoch
        r.generationIdOrMemberEpoch = group.generation ?? -1
        r.memberId = group.memberId ?? ''
        r.groupInstanceId = group.instanceId ?? null
        for (const [t, ps] of todo) {
          r.topics.push({
            name: t,
            topicId: version >= 6 ? (md.topics.get(t)?.id ?? ZERO_UUID) : ZERO_UUID,
            partitions: [...ps].map(([p, o]) => ({ partitionIndex: p, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, committedMetadata: o.metadata ?? null })),
          })
        }
        return r
      }
      const res = await this.#onCoordinator(GROUP_COORDINATOR, group.groupId, TxnOffsetCommit, req, this.#tv2 ? undefined : TV1_TXN_OFFSET_COMMIT_MAX)
      const again: CommitOffsets = new Map()
      let retryCode = 0
      for (const t of res.topics) {
        const name = t.name || md.topicName(t.topicId) || ''
        for (const p of t.partitions) {
          const code = p.errorCode
          if (code === 0) continue
          if (isRetriable(code)) {
            const o = todo.get(name)?.get(p.partitionIndex)
            if (o !== undefined) {
              let m = again.get(name)
              if (m === undefined) again.set(name, (m = new Map()))
              m.set(p.partitionIndex, o)
            }
            retryCode = code
            if (isCoordinatorError(code)) this.#core.invalidateCoordinator(GROUP_COORDINATOR, group.groupId)
            continue
          }
          if (GROUP_MOVED.has(code)) {
            throw this.#abortableFrom(new KafkaProtocolError(code, { topic: name, partition: p.partitionIndex }), `the consumer group ${group.groupId} moved on since the offsets were polled (KIP-447): abort the transaction; its input is polled again`)
          }
          this.#raise(code, name, p.partitionIndex)
        }
      }
      todo = again
      if (todo.size > 0) throw new KafkaProtocolError(retryCode)
    })
  }

  // ---------------------------------------------------------------- end

  /**
   * end ends the open transaction: a commit flushes every buffered record first, waits for the
   * offsets sent to the transaction, then sends EndTxn(commit); an abort fails the records not sent
   * yet (TransactionAbortedError), waits for those in flight, then sends EndTxn(abort) and, when
   * needed, bumps the epoch so that the next transaction starts clean. See Client.endTransaction.
   */
  async end(commit: boolean, signal?: AbortSignal): Promise<void> {
    // A call refused here ends nothing, and the hook does not hear of it.
    if (this.#ending !== null) throw new TransactionStateError('endTransaction is already running', { transactionalId: this.id })
    this.#checkEnd(commit)
    let err: Error | null = null
    try {
      this.#ending = commit ? this.#commit(signal) : this.#abort()
      await this.#ending
    } catch (e) {
      err = e as Error
      throw e
    } finally {
      this.#ending = null
      const hooks = this.#core.hooks
      if (hooks.onTransactionEnd.length !== 0) hooks.transactionEnd(this.id, commit, err)
    }
  }

  #checkEnd(commit: boolean): void {
    const want = commit ? 'commit' : 'abort'
    switch (this.#state) {
      case 'fatal':
        throw this.#fatal!
      case 'ready':
        throw new TransactionStateError(`endTransaction('${want}'): no transaction is open`, { transactionalId: this.id })
      case 'abortable':
        if (commit) throw this.#abortable!
        return
      case 'committing':
        // A commit whose EndTxn went out and failed with a retriable error may have committed: only
        // the same commit may be tried again, as Java's commitTransaction insists.
        if (!commit && this.#endPending === 'commit') throw new TransactionStateError("endTransaction('abort'): the previous endTransaction('commit') sent EndTxn and failed with a retriable error, so the transaction may have committed: call endTransaction('commit') again", { transactionalId: this.id })
        return
      case 'aborting':
        if (commit && this.#endPending === 'abort') throw new TransactionStateError("endTransaction('commit'): the transaction is aborting: call endTransaction('abort') again", { transactionalId: this.id })
        return
      default:
        return
    }
  }

  async #commit(signal?: AbortSignal): Promise<void> {
    this.#state = 'committing'
    if (this.#endPending === null) {
      await this.#flush(signal)
      // Offsets sent to the transaction must be in it before it commits; a failure made it abortable.
      await this.#offsetsChain
      if (this.#fatal !== null) throw this.#fatal
      if (this.#abortable !== null) {
        this.#state = 'abortable'
        throw this.#abortable
      }
      if (!this.#started) {
        // Nothing reached the coordinator: there is nothing to commit (and EndTxn would be refused).
        this.#finish()
        return
      }
    }
    const res = await this.#endTxn(true)
    const code = res.errorCode
    if (code !== 0) {
      // The coordinator refused the commit (the broker aborted the transaction for its timeout:
      // INVALID_TXN_STATE in version 2, PRODUCER_FENCED in version 1; or the producer is fenced): the
      // transaction must be aborted, and the abort finds out which.
      this.#poison(new KafkaProtocolError(code))
      throw this.#fatal ?? this.#abortable!
    }
    this.#afterEndTxn(res)
    this.#finish()
  }

  /**
   * flush waits for every buffered record to settle, at most transactionTimeout: after that the broker
   * has aborted the transaction anyway, so the commit gives up and the transaction becomes abortable.
   * An aborted signal leaves the transaction open (nothing was ended).
   */
  async #flush(signal?: AbortSignal): Promise<void> {
    const ms = this.#core.config.transactionTimeout
    const ac = new AbortController()
    const timer = setTimeout(() => ac.abort(new RequestTimeoutError(`records not delivered within transactionTimeout (${ms} ms)`)), ms)
    const onAbort = () => ac.abort(signal!.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      if (signal?.aborted) throw new AbortError(signal.reason)
      await this.#producer.flush(ac.signal)
    } catch (err) {
      if (signal?.aborted) {
        this.#state = this.#abortable !== null ? 'abortable' : 'open'
        throw new AbortError(signal.reason)
      }
      this.#poison(err as Error)
      this.#state = 'abortable'
      throw this.#abortable!
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  async #abort(): Promise<void> {
    this.#state = 'aborting'
    if (this.#endPending === null && !this.#endDone) {
      await this.#producer.abortBuffered(new TransactionAbortedError(undefined))
      // An offsets call under way finishes (or fails) before the transaction ends.
      await this.#offsetsChain
      if (this.#fatal !== null) throw this.#fatal
    }
    let probe = false
    if (this.#started && !this.#endDone) {
      if (ID_UNKNOWN.has(this.#lastCode) || EPOCH_REFUSED.has(this.#lastCode)) {
        // KIP-360: the coordinator does not know the producer id; EndTxn would be refused. A refused
        // epoch: EndTxn with it must not reach the coordinator, which (transaction version 2) may take
        // an abort with an older epoch as a fence and abort the transaction of the id's new owner.
        probe = true
      } else {
        const res = await this.#endTxn(false)
        const code = res.errorCode
        if (code === 0) this.#afterEndTxn(res)
        else if (code === ErrorCode.INVALID_TXN_STATE) {
          // Nothing is open on the coordinator: it aborted the transaction itself, or nothing reached it.
          this.#core.log('info', 'abort: the coordinator holds no open transaction', 'transactionalId', this.id)
        } else if (EPOCH_REFUSED.has(code) || ID_UNKNOWN.has(code)) probe = true
        else {
          const err = new KafkaProtocolError(code)
          throw this.#fail(new TransactionFatalError(`endTransaction('abort') failed: ${err.message}`, { transactionalId: this.id, cause: err }))
        }
      }
      this.#endDone = true
    }
    // KIP-588: after the broker aborted the transaction for its timeout it bumped the epoch, and the
    // old epoch is refused; InitProducerId with the old id and epoch recovers, unless another producer
    // owns the id now (PRODUCER_FENCED: fatal). KIP-360: a batch that failed with sequence numbers
    // left a gap; a new epoch restarts every sequence (version 2's EndTxn bumped it already).
    if (probe || this.#needBump) {
      const p = this.#producer
      if (p.producerId >= 0n) await this.#initProducerId(p.producerId, p.producerEpoch)
    }
    this.#finish()
  }

  /** afterEndTxn takes the new producer id and epoch transaction version 2 hands out with every EndTxn (KIP-890). */
  #afterEndTxn(res: EndTxnResponse): void {
    if (this.#tv2 && res.producerEpoch >= 0 && res.producerId >= 0n) {
      this.#producer.setProducerId(res.producerId, res.producerEpoch)
      this.#needBump = false
    }
  }

  #finish(): void {
    this.#state = 'ready'
    this.#endPending = null
    this.#endDone = false
    this.#abortable = null
    this.#lastCode = 0
    this.#tv2 = null
    this.#started = false
    this.#added.clear()
    this.#pendingAdd.clear()
    this.#groupsAdded.clear()
    // A partition held when the transaction ended (its batches failed) must send in the next one.
    this.#release([...this.#held])
  }

  /**
   * endTxn sends EndTxn. A retriable failure after it may have reached the coordinator leaves the
   * outcome unknown: `endPending` stays set, and only the same end may be tried again.
   */
  async #endTxn(commit: boolean): Promise<EndTxnResponse> {
    const p = this.#producer
    this.#endPending = commit ? 'commit' : 'abort'
    let res: EndTxnResponse
    try {
      res = await this.#txnRequest(
        EndTxn,
        () => {
          const req = EndTxn.newRequest()
          req.transactionalId = this.id
          req.producerId = p.producerId
          req.producerEpoch = p.producerEpoch
          req.committed = commit
          return req
        },
        this.#tv2 ? undefined : TV1_END_TXN_MAX,
      )
    } catch (err) {
      if ((err as { retriable?: boolean }).retriable === true) throw err
      this.#endPending = null
      if (err instanceof KafkaWireError && !endsCall(err)) {
        // The broker cannot end transactions of this client (an unsupported version, say).
        throw this.#fail(new TransactionFatalError(`EndTxn failed: ${err.message}`, { transactionalId: this.id, cause: err }))
      }
      throw err
    }
    this.#endPending = null
    return res
  }

  /**
   * abortOnClose aborts an open transaction while the client closes, so that read_committed
   * consumers need not wait for the broker's transaction timeout; bounded by `ms`.
   */
  async abortOnClose(ms: number): Promise<void> {
    const state = () => this.#state as TxnState
    if (state() === 'ready' || state() === 'fatal') return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
    try {
      if (this.#ending !== null) await Promise.race([this.#ending.catch(() => {}), timeout])
      // A commit whose outcome is unknown cannot be aborted; one under way is left to finish.
      if (state() === 'ready' || state() === 'fatal' || this.#ending !== null || this.#endPending === 'commit') return
      await Promise.race([this.end(false).catch((err: Error) => this.#core.log('warn', 'aborting the open transaction on close failed', 'transactionalId', this.id, 'err', err.message)), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  // ---------------------------------------------------------------- errors

  /**
   * poison records why the open transaction cannot commit. Broker errors that no retry can fix make
   * the producer fatal; everything else makes the transaction abortable.
   */
  #poison(err: Error): void {
    if (this.#fatal !== null) return
    if (err instanceof TransactionFatalError) {
      this.#fail(err)
      return
    }
    const code = err instanceof KafkaProtocolError ? err.errorCode : 0
    if (FATAL.has(code)) {
      this.#fail(new TransactionFatalError(`the transactional producer cannot go on: ${err.message}`, { transactionalId: this.id, cause: err }))
      return
    }
    if (this.#state === 'ready' || this.#state === 'aborting') return
    if (EPOCH_REFUSED.has(code) && performance.now() - this.#beganAt < this.#core.config.transactionTimeout) {
      // Too early for the broker to have aborted the transaction for its timeout: a newer producer owns the id.
      this.#fail(new ProducerFencedError(undefined, { transactionalId: this.id, cause: err }))
      return
    }
    if (this.#abortable === null) {
      this.#lastCode = code
      this.#abortable = err instanceof TransactionAbortableError ? err : this.#abortableFrom(err)
    }
    if (this.#state === 'open' || this.#state === 'committing') this.#state = 'abortable'
  }

  #abortableFrom(err: Error, why?: string): TransactionAbortableError {
    const e = err as KafkaWireError
    let reason = why
    if (reason === undefined) {
      const code = err instanceof KafkaProtocolError ? err.errorCode : 0
      reason = EPOCH_REFUSED.has(code)
        ? `the broker refused the producer's epoch (${e.code}) after the transaction was open longer than transactionTimeout (${this.#core.config.transactionTimeout} ms): the broker aborted it, or another producer took the transactionalId over; abort with endTransaction('abort'), which fails with ProducerFencedError in the second case`
        : `the transaction cannot commit (${err.message}): abort it with endTransaction('abort') and retry`
    }
    return new TransactionAbortableError(reason, { transactionalId: this.id, cause: err, broker: e.broker, topic: e.topic, partition: e.partition })
  }

  /** fail makes the producer fatal with `err`: buffered records fail with it, and so does every later call. */
  #fail(err: TransactionFatalError): TransactionFatalError {
    if (this.#fatal !== null) return this.#fatal
    this.#fatal = err
    this.#state = 'fatal'
    this.#core.log('error', 'the transactional producer failed for good', 'transactionalId', this.id, 'err', err.message)
    this.#release([...this.#held])
    // Not on the path that found the error, which may be settling a batch itself.
    queueMicrotask(() => this.#producer.failFatal(err))
    return err
  }

  /** raise throws the error a broker code means for the transaction (fatal, or abortable). */
  #raise(code: number, topic?: string, partition?: number): never {
    const err = new KafkaProtocolError(code, { ...(topic !== undefined ? { topic } : {}), ...(partition !== undefined ? { partition } : {}) })
    if (FATAL.has(code)) throw this.#fail(new TransactionFatalError(`the transactional producer cannot go on: ${err.message}`, { transactionalId: this.id, cause: err }))
    throw this.#abortableFrom(err)
  }

  // ---------------------------------------------------------------- requests

  /**
   * txnRequest sends a request to the transaction coordinator, retrying what is retriable
   * (CONCURRENT_TRANSACTIONS while the previous transaction's markers are written, a coordinator that
   * moved or is loading, a broken connection); other error codes are returned for the caller to map.
   */
  #txnRequest<Req, Res extends { errorCode: number }>(api: ApiMessage<Req, Res>, build: () => Req, maxVersion?: number): Promise<Res> {
    return this.#retrying(api.key, async () => {
      const res = await this.#onCoordinator(TXN_COORDINATOR, this.id, api, build(), maxVersion)
      if (res.errorCode !== 0 && isRetriable(res.errorCode)) {
        if (isCoordinatorError(res.errorCode)) this.#core.invalidateCoordinator(TXN_COORDINATOR, this.id)
        throw new KafkaProtocolError(res.errorCode)
      }
      return res
    })
  }

  /** onCoordinator sends one request to a coordinator; a connection failure makes it look the coordinator up again. */
  async #onCoordinator<Req, Res>(type: CoordinatorType, key: string, api: ApiMessage<Req, Res>, body: Req | ((version: number) => Req), maxVersion?: number): Promise<Res> {
    const core = this.#core
    const node = await core.coordinator(type, key)
    try {
      return await core.requestOn(node, 'group', api, body, maxVersion === undefined ? {} : { maxVersion })
    } catch (err) {
      if (err instanceof BrokerConnectionError || err instanceof RequestTimeoutError) core.invalidateCoordinator(type, key)
      throw err
    }
  }

  /**
   * retrying runs `attempt` as the core retries any call (`ClientCore.retry`), within the retryTimeout
   * of API key `key`. CONCURRENT_TRANSACTIONS (the coordinator still writing the previous
   * transaction's markers, which takes milliseconds) is tried again after
   * concurrentTransactionsBackoff, or the longer wait concurrentBackoff gives a request stalled for
   * long (franz-go's schedule), and does not count against requestRetries: it may last as long as the
   * markers take. Other retriable errors wait retryBackoff and count.
   */
  #retrying<T>(key: number, attempt: () => Promise<T>): Promise<T> {
    const base = this.#core.config.concurrentTransactionsBackoff
    return this.#core.retry({}, key, attempt, (err, elapsed) => (err instanceof KafkaProtocolError && err.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS ? concurrentBackoff(base, elapsed) : undefined))
  }
}

/**
 * concurrentBackoff is the wait before a request answered CONCURRENT_TRANSACTIONS goes again, once it
 * has been stalled `stalled` ms: concurrentTransactionsBackoff (`base`), raised to at least 200 ms
 * after a second, 500 ms after 2.5 s and 1 s after 5 s, as franz-go's doWithConcurrentTransactions
 * does, so a coordinator that stays busy is not asked every few milliseconds.
 */
export function concurrentBackoff(base: number, stalled: number): number {
  const floor = stalled > 5_000 ? 1_000 : stalled > 2_500 ? 500 : stalled > 1_000 ? 200 : 0
  return Math.max(base, floor)
}

/** isRetriable is Kafka's own verdict on an error code (CONCURRENT_TRANSACTIONS, NOT_COORDINATOR, …). */
function isRetriable(code: number): boolean {
  return kafkaErrorCodes.get(code)?.retriable === true
}

/**
 * supportsTransactionV2 is true when the cluster finalized transaction.version 2 (KIP-890 part 2) and
 * the connection can speak the versions that ask for it: EndTxn v5, Produce v12, TxnOffsetCommit v5.
 * `maxVersions` below those keeps a client on version 1.
 */
function supportsTransactionV2(conn: BrokerConnection): boolean {
  if ((conn.features.get('transaction.version') ?? 0) < 2) return false
  const v = (api: ApiMessage<any, any>) => {
    try {
      return conn.versionFor(api)
    } catch {
      return -1
    }
  }
  return v(EndTxn) >= 5 && v(Produce) >= 12 && v(TxnOffsetCommit) >= 5
}
