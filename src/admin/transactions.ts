/**
 * Transactions and producers (KIP-664): list the transactions every transaction coordinator knows,
 * describe transactions at their coordinators, describe the producers writing to partitions at the
 * partitions' leaders (their open transactions, last sequences and epochs), and write transaction
 * markers at the leaders (ending a hanging transaction).
 */
import { KafkaProtocolError, type KafkaWireError } from '../protocol/errors.js'
import { DescribeProducers } from '../protocol/messages/describe-producers.js'
import { DescribeTransactions } from '../protocol/messages/describe-transactions.js'
import { ListTransactions } from '../protocol/messages/list-transactions.js'
import { WriteTxnMarkers } from '../protocol/messages/write-txn-markers.js'
import type { ClientCore } from '../client/core.js'
import { InvalidArgumentError, UnsupportedVersionError } from '../client/errors.js'
import { byTopicPartition, partitionsOf, type TopicPartitionsArg } from './offsets.js'
import { brokerIds, byCoordinator, byLeader, codeOfResult, errorFor, onNode, partitionKey, partitionMapOf, sendTo, type AdminOptions } from './util.js'

/** TransactionState is a transaction's state at its coordinator: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence. */
export type TransactionState = string

/** ListedTransaction is one transaction as its coordinator lists it. */
export interface ListedTransaction {
  transactionalId: string
  producerId: bigint
  state: TransactionState
  /** coordinator is the node id of the transaction's coordinator. */
  coordinator: number
}

/** ListTransactionsOptions filter listTransactions. */
export interface ListTransactionsOptions extends AdminOptions {
  /** states keeps transactions in these states. */
  states?: string[]
  /** producerIds keeps transactions of these producers. */
  producerIds?: bigint[]
  /** durationMs keeps transactions running for longer than this (ListTransactions v1+, KIP-994). */
  durationMs?: number
  /** pattern keeps transactional ids matching this regular expression, as Java's RE2J reads it (v2+, KIP-1152). */
  pattern?: string
}

/** TransactionDescription is one transaction as its coordinator describes it. */
export interface TransactionDescription {
  transactionalId: string
  coordinator: number
  state: TransactionState
  timeoutMs: number
  /** startTimestamp is when the ongoing transaction started (ms), -1 when none is ongoing. */
  startTimestamp: number
  producerId: bigint
  producerEpoch: number
  /** partitions are those the ongoing transaction wrote to. */
  partitions: Array<{ topic: string; partitions: number[] }>
  /** error is TRANSACTIONAL_ID_NOT_FOUND, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, … or null. */
  error: KafkaWireError | null
}

/** ProducerState is one active producer of a partition. */
export interface ProducerState {
  producerId: bigint
  producerEpoch: number
  /** lastSequence is the sequence number of the producer's last batch, -1 when not idempotent. */
  lastSequence: number
  /** lastTimestamp is the producer's last batch's timestamp (ms), -1 when unknown. */
  lastTimestamp: number
  coordinatorEpoch: number
  /** currentTxnStartOffset is the first offset of its open transaction, -1 when none is open. */
  currentTxnStartOffset: bigint
}

/** PartitionProducers is one partition's active producers. */
export interface PartitionProducers {
  topic: string
  partition: number
  producers: ProducerState[]
  error: KafkaWireError | null
}

/**
 * listTransactions asks every broker (each is the coordinator of some transactional ids) for its
 * transactions, filtered, sorted by transactional id. It throws when a broker cannot answer.
 */
export async function listTransactions(core: ClientCore, opts: ListTransactionsOptions = {}): Promise<ListedTransaction[]> {
  if (opts.producerIds !== undefined && (!Array.isArray(opts.producerIds) || opts.producerIds.some((p) => typeof p !== 'bigint'))) throw new InvalidArgumentError('producerIds', 'must be an array of bigint producer ids')
  const nodes = await brokerIds(core, opts)
  const all = await Promise.all(
    nodes.map(async (node) => {
      const res = await sendTo(
        core,
        node,
        ListTransactions,
        (version) => {
          const req = ListTransactions.newRequest()
          req.stateFilters = opts.states ?? []
          req.producerIdFilters = opts.producerIds ?? []
          if (opts.durationMs !== undefined) {
            if (version < 1) throw new UnsupportedVersionError(`broker ${node} speaks ListTransactions v${version}, which has no duration filter`, { broker: node })
            req.durationFilter = BigInt(opts.durationMs)
          }
          if (opts.pattern !== undefined) {
            if (version < 2) throw new UnsupportedVersionError(`broker ${node} speaks ListTransactions v${version}, which has no transactional id pattern`, { broker: node })
            req.transactionalIdPattern = opts.pattern
          }
          return req
        },
        opts,
      )
      if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { broker: node, resource: 'transactions' })
      return res.transactionStates.map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, state: t.transactionState, coordinator: node }))
    }),
  )
  return all.flat().sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0))
}

/** describeTransactions describes transactions at their coordinators, one result per id in the order given. */
export async function describeTransactions(core: ClientCore, transactionalIds: string[], opts: AdminOptions = {}): Promise<TransactionDescription[]> {
  if (!Array.isArray(transactionalIds)) throw new InvalidArgumentError('transactionalIds', 'must be an array of transactional ids')
  transactionalIds.forEach((id, i) => {
    if (typeof id !== 'string' || id === '') throw new InvalidArgumentError(`transactionalIds[${i}]`, `must be a transactional id, got ${JSON.stringify(id)}`)
  })
  const empty = (transactionalId: string, coordinator: number, error: KafkaWireError | null): TransactionDescription => ({ transactionalId, coordinator, state: '', timeoutMs: -1, startTimestamp: -1, producerId: -1n, producerEpoch: -1, partitions: [], error })
  const results = await byCoordinator(
    core,
    1,
    transactionalIds,
    async (node, keys, signal) => {
      const res = await onNode(core, node, 'group', DescribeTransactions, () => ({ ...DescribeTransactions.newRequest(), transactionalIds: keys }), signal)
      return new Map(
        res.transactionStates.map((t): [string, TransactionDescription] => [
          t.transactionalId,
          t.errorCode !== 0
            ? empty(t.transactionalId, node, errorFor(t.errorCode, { resource: `transactional id ${t.transactionalId}`, broker: node }))
            : {
                transactionalId: t.transactionalId,
                coordinator: node,
                state: t.transactionState,
                timeoutMs: t.transactionTimeoutMs,
                startTimestamp: Number(t.transactionStartTimeMs),
                producerId: t.producerId,
                producerEpoch: t.producerEpoch,
                partitions: t.topics.map((x) => ({ topic: x.topic, partitions: [...x.partitions].sort((a, b) => a - b) })).sort((a, b) => (a.topic < b.topic ? -1 : 1)),
                error: null,
              },
        ]),
      )
    },
    (r) => (r.error instanceof KafkaProtocolError ? r.error.errorCode : 0),
    (id, err) => empty(id, -1, err as KafkaWireError),
    opts,
  )
  return transactionalIds.map((id) => results.get(id)!)
}

/** describeProducers describes the active producers of partitions at their leaders, one result per partition, sorted. */
export async function describeProducers(core: ClientCore, partitions: TopicPartitionsArg, opts: AdminOptions = {}): Promise<PartitionProducers[]> {
  const { parts, missing } = await partitionsOf(core, partitions, opts)
  const results = await byLeader(
    core,
    parts,
    async (node, mine, signal) => {
      const res = await onNode(core, node, 'other', DescribeProducers, () => ({ ...DescribeProducers.newRequest(), topics: [...mine].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) }), signal)
      const out = new Map<string, PartitionProducers>()
      for (const t of res.topics) {
        for (const p of t.partitions) {
          out.set(partitionKey(t.name, p.partitionIndex), {
            topic: t.name,
            partition: p.partitionIndex,
            error: errorFor(p.errorCode, { topic: t.name, partition: p.partitionIndex, broker: node, errorMessage: p.errorMessage }),
            producers: p.activeProducers.map((a) => ({ producerId: a.producerId, producerEpoch: a.producerEpoch, lastSequence: a.lastSequence, lastTimestamp: Number(a.lastTimestamp), coordinatorEpoch: a.coordinatorEpoch, currentTxnStartOffset: a.currentTxnStartOffset })),
          })
        }
      }
      return out
    },
    codeOfResult,
    (topic, partition, err) => ({ topic, partition, producers: [], error: err as KafkaWireError }),
    opts,
  )
  const out = [...results.values()]
  for (const [topic, error] of missing) out.push({ topic, partition: -1, producers: [], error })
  return out.sort(byTopicPartition)
}

/** TxnMarkers is one producer's transaction to end on some partitions (kadm's TxnMarkers). */
export interface TxnMarkers {
  producerId: bigint
  producerEpoch: number
  /** commit writes commit markers; false writes abort markers (what clearing a hanging transaction takes). */
  commit: boolean
  /** coordinatorEpoch is the producer's coordinatorEpoch as describeProducers reports it (-1: the leader has seen no marker of it yet). */
  coordinatorEpoch: number
  /** topics names the partitions: { topic: [partitions] }. */
  topics: { [topic: string]: number[] } | Map<string, number[]>
}

/** TxnMarkerResult is the outcome of one marker on one partition. */
export interface TxnMarkerResult {
  producerId: bigint
  topic: string
  partition: number
  /** error is the partition's (UNKNOWN_TOPIC_OR_PARTITION, CLUSTER_AUTHORIZATION_FAILED, a fenced coordinator epoch, ...) or null. */
  error: KafkaWireError | null
}

/**
 * writeTxnMarkers ends transactions on partitions by having each partition's leader write the commit
 * or abort marker (KIP-664; kadm's WriteTxnMarkers, Java's Admin.abortTransaction and
 * `kafka-transactions.sh abort`). It is the way to clear a hanging transaction, one its coordinator
 * no longer completes, which holds the partition's last stable offset (and read_committed consumers)
 * back: take the producer's id and epochs from describeProducers (a producer whose
 * `currentTxnStartOffset` is not -1) and write an abort marker. It needs ClusterAction on the cluster.
 * One result per marker and partition, in the order of the markers, each marker's partitions sorted.
 */
export async function writeTxnMarkers(core: ClientCore, markers: TxnMarkers[], opts: AdminOptions = {}): Promise<TxnMarkerResult[]> {
  if (!Array.isArray(markers)) throw new InvalidArgumentError('markers', 'must be an array of TxnMarkers')
  const checked = markers.map((m, i) => checkMarker(m, `markers[${i}]`))
  const all = await Promise.all(
    checked.map(async ({ marker, parts }) => {
      const { producerId, producerEpoch, commit } = marker
      // A leader that has seen no marker of the producer reports -1; any epoch from 0 is then accepted.
      const coordinatorEpoch = Math.max(0, marker.coordinatorEpoch)
      const results = await byLeader(
        core,
        parts,
        async (node, mine, signal) => {
          const topics = [...mine].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
          const res = await onNode(core, node, 'other', WriteTxnMarkers, () => ({ ...WriteTxnMarkers.newRequest(), markers: [{ producerId, producerEpoch, transactionResult: commit, coordinatorEpoch, transactionVersion: 0, topics }] }), signal)
          const out = new Map<string, TxnMarkerResult>()
          for (const m of res.markers) {
            for (const t of m.topics) {
              for (const p of t.partitions) {
                out.set(partitionKey(t.name, p.partitionIndex), { producerId, topic: t.name, partition: p.partitionIndex, error: errorFor(p.errorCode, { topic: t.name, partition: p.partitionIndex, broker: node }) })
              }
            }
          }
          return out
        },
        codeOfResult,
        (topic, partition, err) => ({ producerId, topic, partition, error: err as KafkaWireError }),
        opts,
      )
      return [...results.values()].sort(byTopicPartition)
    }),
  )
  return all.flat()
}

/** checkMarker validates one TxnMarkers before anything is sent. */
function checkMarker(m: TxnMarkers, at: string): { marker: TxnMarkers; parts: Map<string, number[]> } {
  const s = m as Partial<TxnMarkers> | null
  if (s === null || typeof s !== 'object') throw new InvalidArgumentError(at, 'must name producerId, producerEpoch, commit, coordinatorEpoch and topics')
  if (typeof s.producerId !== 'bigint' || s.producerId < 0n) throw new InvalidArgumentError(`${at}.producerId`, `must be a bigint producer id, got ${String(s.producerId)}`)
  if (!Number.isInteger(s.producerEpoch) || s.producerEpoch! < 0 || s.producerEpoch! > 0x7fff) throw new InvalidArgumentError(`${at}.producerEpoch`, `must be a producer epoch, got ${String(s.producerEpoch)}`)
  if (typeof s.commit !== 'boolean') throw new InvalidArgumentError(`${at}.commit`, `must be true (commit) or false (abort), got ${String(s.commit)}`)
  if (!Number.isInteger(s.coordinatorEpoch) || s.coordinatorEpoch! < -1) throw new InvalidArgumentError(`${at}.coordinatorEpoch`, `must be a coordinator epoch, got ${String(s.coordinatorEpoch)}`)
  const topics = s.topics
  if (topics === null || typeof topics !== 'object' || Array.isArray(topics)) throw new InvalidArgumentError(`${at}.topics`, 'must map topics to partitions: { topic: [partitions] }')
  const parts = partitionMapOf(topics, `${at}.topics`)
  if (parts.size === 0) throw new InvalidArgumentError(`${at}.topics`, 'must name at least one partition')
  return { marker: m, parts }
}
