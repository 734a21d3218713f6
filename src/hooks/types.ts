// The hook set, the moments each hook runs and their order are franz-go's (pkg/kgo/hooks.go); the
// names are its names in camelCase, with "Hook" moved to the end. Hooks run synchronously on the path
// that triggers them, so they must be fast: a hook with slow work should copy what it needs and do
// that work later. A hook may call back into the client.
//
// The client's type is a type parameter, `C`, so this module never imports the client: the client
// imports hooks, not the other way round.

import type { Socket } from 'node:net'
import type { ProduceRecord, Record } from '../protocol/record.js'
import type { BrokerE2E, BrokerMetadata, FetchBatchMetrics, ProduceBatchMetrics } from './meta.js'

/**
 * NewClientHook runs once, when a client has been built and before it starts any background work:
 * the place for last setup, such as registering gauges that read from the client.
 */
export interface NewClientHook<C = unknown> {
  onNewClient(client: C): void
}

/** ClientClosedHook runs once, at the end of `client.close()`, after all internal cleanup. */
export interface ClientClosedHook<C = unknown> {
  onClientClosed(client: C): void
}

/**
 * BrokerConnectHook runs after every attempt to open a connection to a broker, retries included, so a
 * broker that refuses connections produces one call per attempt with `err` set. `initDuration` is in
 * milliseconds and covers dialing, TLS, the ApiVersions exchange and SASL; a SASL failure is reported
 * here. `socket` is null when the attempt failed before a socket existed.
 */
export interface BrokerConnectHook {
  onBrokerConnect(meta: BrokerMetadata, initDuration: number, socket: Socket | null, err: Error | null): void
}

/**
 * BrokerDisconnectHook runs once per connection that was reported to BrokerConnectHook without an
 * error, when that connection closes for any reason (the client closing, an idle timeout, a broker
 * hanging up). franz-go calls it just before closing the socket; here the socket has just been
 * destroyed, so it can be told apart but no longer used.
 */
export interface BrokerDisconnectHook {
  onBrokerDisconnect(meta: BrokerMetadata, socket: Socket): void
}

/**
 * BrokerWriteHook runs after every request written to a broker. `key` is the request's API key
 * (0 Produce, 1 Fetch, …). `writeWait` runs from the request's creation to the start of the write
 * (throttle waits included), `timeToWrite` is the write itself; both in milliseconds. TLS overhead is
 * not counted in `bytesWritten`.
 */
export interface BrokerWriteHook {
  onBrokerWrite(meta: BrokerMetadata, key: number, bytesWritten: number, writeWait: number, timeToWrite: number, err: Error | null): void
}

/**
 * BrokerReadHook runs after every response read from a broker. `readWait` runs from the end of the
 * request's write to the start of the read, `timeToRead` is the read itself; both in milliseconds.
 */
export interface BrokerReadHook {
  onBrokerRead(meta: BrokerMetadata, key: number, bytesRead: number, readWait: number, timeToRead: number, err: Error | null): void
}

/**
 * BrokerE2EHook runs once per request with the write and the read described together; it can replace
 * both BrokerWriteHook and BrokerReadHook. It also runs when the write failed, for requests that get
 * no response (Produce with acks 0), and when a connection dies with the response still pending; the
 * read fields are empty then.
 */
export interface BrokerE2EHook {
  onBrokerE2E(meta: BrokerMetadata, key: number, e2e: BrokerE2E): void
}

/**
 * BrokerThrottleHook runs after a response that reports a throttle time above zero, in milliseconds.
 * `throttledAfterResponse` is true for brokers that answer first and expect the client to hold back
 * (Kafka 2.0 and later, KIP-219); the client then delays its next write on that connection. It is
 * false for older brokers, which delayed the response itself.
 */
export interface BrokerThrottleHook {
  onBrokerThrottle(meta: BrokerMetadata, throttleInterval: number, throttledAfterResponse: boolean): void
}

/**
 * GroupManageErrorHook runs after every error that makes group management leave its loop and back
 * off, right after partitions are reported lost. Use it to notice fatal group errors, such as a
 * missing authorization or a full group.
 */
export interface GroupManageErrorHook {
  onGroupManageError(err: Error): void
}

/**
 * ProduceBatchWrittenHook runs for each batch a broker acknowledged. It is not ordered against the
 * records' own callbacks and promises.
 */
export interface ProduceBatchWrittenHook {
  onProduceBatchWritten(meta: BrokerMetadata, topic: string, partition: number, m: ProduceBatchMetrics): void
}

/**
 * FetchBatchReadHook runs for each batch as a fetch response is processed. In rare cases the batch is
 * still discarded afterwards.
 */
export interface FetchBatchReadHook {
  onFetchBatchRead(meta: BrokerMetadata, topic: string, partition: number, m: FetchBatchMetrics): void
}

/**
 * ProduceRecordBufferedHook runs inside `produce`, on the caller's stack, before the record is
 * validated; a record that then fails at once still gets this call, followed by
 * ProduceRecordUnbufferedHook with the error. The hook may change the record's key, value and
 * headers, which makes it the interceptor point of KIP-42. It slows high-volume producing a little.
 */
export interface ProduceRecordBufferedHook {
  onProduceRecordBuffered(record: ProduceRecord): void
}

/**
 * ProduceRecordPartitionedHook runs when a record has joined a partition's batch; `record.partition`
 * and `record.timestamp` are final by then. `leaderNodeId` is the partition leader's node id. It slows
 * high-volume producing noticeably; use it for debugging.
 */
export interface ProduceRecordPartitionedHook {
  onProduceRecordPartitioned(record: ProduceRecord, leaderNodeId: number): void
}

/**
 * ProduceRecordUnbufferedHook runs just before a record's callback or promise settles, with the same
 * error (null on success, with partition and offset filled in), so it mirrors the record's outcome.
 */
export interface ProduceRecordUnbufferedHook {
  onProduceRecordUnbuffered(record: ProduceRecord, err: Error | null): void
}

/**
 * FetchRecordBufferedHook runs once per fetched record, after its fetch response is processed and
 * before the record can be polled. The hook may change the record before the application sees it.
 */
export interface FetchRecordBufferedHook {
  onFetchRecordBuffered(record: Record): void
}

/**
 * FetchRecordUnbufferedHook runs when a fetched record leaves the client's buffer. `polled` is true
 * when a poll handed it out, in which case the hook runs before that poll returns; it is false when
 * the record was dropped instead (for example because its partition was revoked).
 */
export interface FetchRecordUnbufferedHook {
  onFetchRecordUnbuffered(record: Record, polled: boolean): void
}

/**
 * PollStartHook runs first thing in every `pollFetches` and `pollRecords`, with the caller's signal,
 * before any record is drained and before that poll's FetchRecordUnbufferedHook calls. A tracer that
 * opens a span per polled record can end the previous poll's spans here.
 */
export interface PollStartHook {
  onPollStart(signal: AbortSignal | undefined): void
}

/**
 * TransactionEndHook runs when `endTransaction` (or a GroupTransactSession's `end`) finishes, once
 * per call that tried to end a transaction: `committed` says which end was asked (true: commit, false:
 * abort); `err` is the error the call failed with, null when the transaction committed or aborted. A
 * call refused before it did anything (no transaction open, another end running, the producer fenced
 * already) does not run it. A kafka-wire addition: franz-go has no
 * transaction hook. kotel's Meter counts these (`messaging.kafka.transactions.count`).
 */
export interface TransactionEndHook {
  onTransactionEnd(transactionalId: string, committed: boolean, err: Error | null): void
}

/**
 * AllHooks is an object implementing every hook; `Hook` is any part of it. Useful for a class that
 * implements many hooks: `class Metrics implements Pick<AllHooks, 'onBrokerWrite' | 'onBrokerRead'>`.
 */
export type AllHooks<C = unknown> = NewClientHook<C> &
  ClientClosedHook<C> &
  BrokerConnectHook &
  BrokerDisconnectHook &
  BrokerWriteHook &
  BrokerReadHook &
  BrokerE2EHook &
  BrokerThrottleHook &
  GroupManageErrorHook &
  ProduceBatchWrittenHook &
  FetchBatchReadHook &
  ProduceRecordBufferedHook &
  ProduceRecordPartitionedHook &
  ProduceRecordUnbufferedHook &
  FetchRecordBufferedHook &
  FetchRecordUnbufferedHook &
  PollStartHook &
  TransactionEndHook

/**
 * Hook is an object implementing any subset of the hook methods. Only the methods it has are called;
 * new hooks can be added later without breaking existing ones. An object that implements none is
 * rejected when the client is built.
 */
export type Hook<C = unknown> = Partial<AllHooks<C>>

/** AnyHook is another name for `Hook`. */
export type AnyHook<C = unknown> = Hook<C>

/**
 * HookInput is what the `hooks` option accepts: hooks and arrays of them, nested to any depth, so a
 * plugin can hand back an array of hooks to pass straight through.
 */
export type HookInput<C = unknown> = Hook<C> | ReadonlyArray<HookInput<C>>

/** HookName is the name of one hook method, such as 'onBrokerWrite'. */
export type HookName = keyof AllHooks

// Every hook name once; `satisfies` makes the compiler refuse this table if a hook is added to
// AllHooks and not here, or the other way round.
const HOOK_TABLE = {
  onNewClient: true,
  onClientClosed: true,
  onBrokerConnect: true,
  onBrokerDisconnect: true,
  onBrokerWrite: true,
  onBrokerRead: true,
  onBrokerE2E: true,
  onBrokerThrottle: true,
  onGroupManageError: true,
  onProduceBatchWritten: true,
  onFetchBatchRead: true,
  onProduceRecordBuffered: true,
  onProduceRecordPartitioned: true,
  onProduceRecordUnbuffered: true,
  onFetchRecordBuffered: true,
  onFetchRecordUnbuffered: true,
  onPollStart: true,
  onTransactionEnd: true,
} as const satisfies { readonly [K in HookName]: true }

/** hookNames lists every hook method, in the order the hooks are documented. */
export const hookNames: ReadonlyArray<HookName> = Object.freeze(Object.keys(HOOK_TABLE) as HookName[])
