import type { Socket } from 'node:net'
import { KafkaWireError } from '../protocol/errors.js'
import type { ProduceRecord, Record } from '../protocol/record.js'
import { LogLevel, nopLogger, type Logger } from './logger.js'
import type { BrokerE2E, BrokerMetadata, FetchBatchMetrics, ProduceBatchMetrics } from './meta.js'
import {
  hookNames,
  type AllHooks,
  type BrokerConnectHook,
  type BrokerDisconnectHook,
  type BrokerE2EHook,
  type BrokerReadHook,
  type BrokerThrottleHook,
  type BrokerWriteHook,
  type ClientClosedHook,
  type FetchBatchReadHook,
  type FetchRecordBufferedHook,
  type FetchRecordUnbufferedHook,
  type GroupManageErrorHook,
  type Hook,
  type HookInput,
  type HookName,
  type NewClientHook,
  type PollStartHook,
  type ProduceBatchWrittenHook,
  type ProduceRecordBufferedHook,
  type ProduceRecordPartitionedHook,
  type ProduceRecordUnbufferedHook,
  type TransactionEndHook,
} from './types.js'

/** HookRegistryOptions configures a `HookRegistry`. */
export interface HookRegistryOptions {
  /** logger receives the errors hooks throw. Default: `nopLogger`. */
  logger?: Logger
  /**
   * invalid makes the error for a hooks value that is not a hook, given the path of the offending
   * value (`hooks[1][0]`) and what is wrong with it. The client passes one that makes its
   * InvalidOptionError. Default: a KafkaWireError with code INVALID_OPTION.
   */
  invalid?: (path: string, message: string) => Error
}

const EMPTY: readonly never[] = Object.freeze([])

/**
 * HookRegistry holds a client's hooks, checked and sorted once when the client is built (franz-go's
 * producer does the same with its hook slices). Each hook event has a bucket: a frozen array of the
 * hooks that implement it, in registration order, empty when nobody listens. A hot path reads its
 * bucket once and loops over it, so a client without hooks pays for one length check:
 *
 * ```ts
 * const hs = registry.onProduceRecordBuffered
 * if (hs.length !== 0) registry.produceRecordBuffered(record)
 * ```
 *
 * The dispatch methods (`brokerWrite`, `produceRecordBuffered`, …) call every hook in the bucket with
 * typed arguments and no rest-argument array. A hook that throws, or returns a promise that rejects, is
 * reported to `logger` at error level and the next hook still runs; the client path that dispatched
 * never sees the error. The buckets never change after construction and dispatch keeps no state, so a
 * hook may call back into the client, even into code that dispatches the same event again.
 */
export class HookRegistry<C = unknown> {
  /** logger receives the errors hooks throw. */
  readonly logger: Logger
  /** hooks is every registered hook, flattened, in registration order. */
  readonly hooks: ReadonlyArray<Hook<C>>

  readonly onNewClient: ReadonlyArray<NewClientHook<C>>
  readonly onClientClosed: ReadonlyArray<ClientClosedHook<C>>
  readonly onBrokerConnect: ReadonlyArray<BrokerConnectHook>
  readonly onBrokerDisconnect: ReadonlyArray<BrokerDisconnectHook>
  readonly onBrokerWrite: ReadonlyArray<BrokerWriteHook>
  readonly onBrokerRead: ReadonlyArray<BrokerReadHook>
  readonly onBrokerE2E: ReadonlyArray<BrokerE2EHook>
  readonly onBrokerThrottle: ReadonlyArray<BrokerThrottleHook>
  readonly onGroupManageError: ReadonlyArray<GroupManageErrorHook>
  readonly onProduceBatchWritten: ReadonlyArray<ProduceBatchWrittenHook>
  readonly onFetchBatchRead: ReadonlyArray<FetchBatchReadHook>
  readonly onProduceRecordBuffered: ReadonlyArray<ProduceRecordBufferedHook>
  readonly onProduceRecordPartitioned: ReadonlyArray<ProduceRecordPartitionedHook>
  readonly onProduceRecordUnbuffered: ReadonlyArray<ProduceRecordUnbufferedHook>
  readonly onFetchRecordBuffered: ReadonlyArray<FetchRecordBufferedHook>
  readonly onFetchRecordUnbuffered: ReadonlyArray<FetchRecordUnbufferedHook>
  readonly onPollStart: ReadonlyArray<PollStartHook>
  readonly onTransactionEnd: ReadonlyArray<TransactionEndHook>

  /**
   * Builds the registry from the `hooks` option. Nested arrays are flattened depth first; every other
   * value must be an object with at least one hook method, or construction fails with an
   * INVALID_OPTION error naming its position (`hooks[1][0]`). One object implementing several hooks
   * lands in each of their buckets.
   */
  constructor(hooks?: HookInput<C> | null, opts: HookRegistryOptions = {}) {
    this.logger = opts.logger ?? nopLogger
    const flat: Hook<C>[] = []
    if (hooks !== undefined && hooks !== null) flatten(hooks, 'hooks', flat, new Set(), opts.invalid ?? invalid)
    this.hooks = Object.freeze(flat)

    this.onNewClient = bucket(flat, 'onNewClient')
    this.onClientClosed = bucket(flat, 'onClientClosed')
    this.onBrokerConnect = bucket(flat, 'onBrokerConnect')
    this.onBrokerDisconnect = bucket(flat, 'onBrokerDisconnect')
    this.onBrokerWrite = bucket(flat, 'onBrokerWrite')
    this.onBrokerRead = bucket(flat, 'onBrokerRead')
    this.onBrokerE2E = bucket(flat, 'onBrokerE2E')
    this.onBrokerThrottle = bucket(flat, 'onBrokerThrottle')
    this.onGroupManageError = bucket(flat, 'onGroupManageError')
    this.onProduceBatchWritten = bucket(flat, 'onProduceBatchWritten')
    this.onFetchBatchRead = bucket(flat, 'onFetchBatchRead')
    this.onProduceRecordBuffered = bucket(flat, 'onProduceRecordBuffered')
    this.onProduceRecordPartitioned = bucket(flat, 'onProduceRecordPartitioned')
    this.onProduceRecordUnbuffered = bucket(flat, 'onProduceRecordUnbuffered')
    this.onFetchRecordBuffered = bucket(flat, 'onFetchRecordBuffered')
    this.onFetchRecordUnbuffered = bucket(flat, 'onFetchRecordUnbuffered')
    this.onPollStart = bucket(flat, 'onPollStart')
    this.onTransactionEnd = bucket(flat, 'onTransactionEnd')
  }

  /** size is the number of registered hooks. */
  get size(): number {
    return this.hooks.length
  }

  /** newClient dispatches onNewClient. */
  newClient(client: C): void {
    const hs = this.onNewClient
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onNewClient', hs[i]!, hs[i]!.onNewClient(client))
      } catch (err) {
        reportHookError(this, 'onNewClient', hs[i]!, err)
      }
    }
  }

  /** clientClosed dispatches onClientClosed. */
  clientClosed(client: C): void {
    const hs = this.onClientClosed
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onClientClosed', hs[i]!, hs[i]!.onClientClosed(client))
      } catch (err) {
        reportHookError(this, 'onClientClosed', hs[i]!, err)
      }
    }
  }

  /** brokerConnect dispatches onBrokerConnect. */
  brokerConnect(meta: BrokerMetadata, initDuration: number, socket: Socket | null, err: Error | null): void {
    const hs = this.onBrokerConnect
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onBrokerConnect', hs[i]!, hs[i]!.onBrokerConnect(meta, initDuration, socket, err))
      } catch (e) {
        reportHookError(this, 'onBrokerConnect', hs[i]!, e)
      }
    }
  }

  /** brokerDisconnect dispatches onBrokerDisconnect. */
  brokerDisconnect(meta: BrokerMetadata, socket: Socket): void {
    const hs = this.onBrokerDisconnect
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onBrokerDisconnect', hs[i]!, hs[i]!.onBrokerDisconnect(meta, socket))
      } catch (err) {
        reportHookError(this, 'onBrokerDisconnect', hs[i]!, err)
      }
    }
  }

  /** brokerWrite dispatches onBrokerWrite. */
  brokerWrite(meta: BrokerMetadata, key: number, bytesWritten: number, writeWait: number, timeToWrite: number, err: Error | null): void {
    const hs = this.onBrokerWrite
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onBrokerWrite', hs[i]!, hs[i]!.onBrokerWrite(meta, key, bytesWritten, writeWait, timeToWrite, err))
      } catch (e) {
        reportHookError(this, 'onBrokerWrite', hs[i]!, e)
      }
    }
  }

  /** brokerRead dispatches onBrokerRead. */
  brokerRead(meta: BrokerMetadata, key: number, bytesRead: number, readWait: number, timeToRead: number, err: Error | null): void {
    const hs = this.onBrokerRead
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onBrokerRead', hs[i]!, hs[i]!.onBrokerRead(meta, key, bytesRead, readWait, timeToRead, err))
      } catch (e) {
        reportHookError(this, 'onBrokerRead', hs[i]!, e)
      }
    }
  }

  /** brokerE2E dispatches onBrokerE2E. */
  brokerE2E(meta: BrokerMetadata, key: number, e2e: BrokerE2E): void {
    const hs = this.onBrokerE2E
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onBrokerE2E', hs[i]!, hs[i]!.onBrokerE2E(meta, key, e2e))
      } catch (err) {
        reportHookError(this, 'onBrokerE2E', hs[i]!, err)
      }
    }
  }

  /** brokerThrottle dispatches onBrokerThrottle. */
  brokerThrottle(meta: BrokerMetadata, throttleInterval: number, throttledAfterResponse: boolean): void {
    const hs = this.onBrokerThrottle
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onBrokerThrottle', hs[i]!, hs[i]!.onBrokerThrottle(meta, throttleInterval, throttledAfterResponse))
      } catch (err) {
        reportHookError(this, 'onBrokerThrottle', hs[i]!, err)
      }
    }
  }

  /** groupManageError dispatches onGroupManageError. */
  groupManageError(err: Error): void {
    const hs = this.onGroupManageError
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onGroupManageError', hs[i]!, hs[i]!.onGroupManageError(err))
      } catch (e) {
        reportHookError(this, 'onGroupManageError', hs[i]!, e)
      }
    }
  }

  /** produceBatchWritten dispatches onProduceBatchWritten. */
  produceBatchWritten(meta: BrokerMetadata, topic: string, partition: number, m: ProduceBatchMetrics): void {
    const hs = this.onProduceBatchWritten
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onProduceBatchWritten', hs[i]!, hs[i]!.onProduceBatchWritten(meta, topic, partition, m))
      } catch (err) {
        reportHookError(this, 'onProduceBatchWritten', hs[i]!, err)
      }
    }
  }

  /** fetchBatchRead dispatches onFetchBatchRead. */
  fetchBatchRead(meta: BrokerMetadata, topic: string, partition: number, m: FetchBatchMetrics): void {
    const hs = this.onFetchBatchRead
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onFetchBatchRead', hs[i]!, hs[i]!.onFetchBatchRead(meta, topic, partition, m))
      } catch (err) {
        reportHookError(this, 'onFetchBatchRead', hs[i]!, err)
      }
    }
  }

  /** produceRecordBuffered dispatches onProduceRecordBuffered. */
  produceRecordBuffered(record: ProduceRecord): void {
    const hs = this.onProduceRecordBuffered
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onProduceRecordBuffered', hs[i]!, hs[i]!.onProduceRecordBuffered(record))
      } catch (err) {
        reportHookError(this, 'onProduceRecordBuffered', hs[i]!, err)
      }
    }
  }

  /** produceRecordPartitioned dispatches onProduceRecordPartitioned. */
  produceRecordPartitioned(record: ProduceRecord, leaderNodeId: number): void {
    const hs = this.onProduceRecordPartitioned
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onProduceRecordPartitioned', hs[i]!, hs[i]!.onProduceRecordPartitioned(record, leaderNodeId))
      } catch (err) {
        reportHookError(this, 'onProduceRecordPartitioned', hs[i]!, err)
      }
    }
  }

  /** produceRecordUnbuffered dispatches onProduceRecordUnbuffered. */
  produceRecordUnbuffered(record: ProduceRecord, err: Error | null): void {
    const hs = this.onProduceRecordUnbuffered
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onProduceRecordUnbuffered', hs[i]!, hs[i]!.onProduceRecordUnbuffered(record, err))
      } catch (e) {
        reportHookError(this, 'onProduceRecordUnbuffered', hs[i]!, e)
      }
    }
  }

  /** fetchRecordBuffered dispatches onFetchRecordBuffered. */
  fetchRecordBuffered(record: Record): void {
    const hs = this.onFetchRecordBuffered
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onFetchRecordBuffered', hs[i]!, hs[i]!.onFetchRecordBuffered(record))
      } catch (err) {
        reportHookError(this, 'onFetchRecordBuffered', hs[i]!, err)
      }
    }
  }

  /**
   * fetchRecordsBuffered dispatches onFetchRecordBuffered for each record of a batch in one walk:
   * every hook sees a record before any hook sees the next one.
   */
  fetchRecordsBuffered(records: ReadonlyArray<Record>): void {
    if (this.onFetchRecordBuffered.length === 0) return
    for (let r = 0; r < records.length; r++) this.fetchRecordBuffered(records[r]!)
  }

  /** fetchRecordUnbuffered dispatches onFetchRecordUnbuffered. */
  fetchRecordUnbuffered(record: Record, polled: boolean): void {
    const hs = this.onFetchRecordUnbuffered
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onFetchRecordUnbuffered', hs[i]!, hs[i]!.onFetchRecordUnbuffered(record, polled))
      } catch (err) {
        reportHookError(this, 'onFetchRecordUnbuffered', hs[i]!, err)
      }
    }
  }

  /**
   * fetchRecordsUnbuffered dispatches onFetchRecordUnbuffered for each record in one walk, as
   * `fetchRecordsBuffered` does.
   */
  fetchRecordsUnbuffered(records: ReadonlyArray<Record>, polled: boolean): void {
    if (this.onFetchRecordUnbuffered.length === 0) return
    for (let r = 0; r < records.length; r++) this.fetchRecordUnbuffered(records[r]!, polled)
  }

  /** pollStart dispatches onPollStart. */
  pollStart(signal: AbortSignal | undefined): void {
    const hs = this.onPollStart
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onPollStart', hs[i]!, hs[i]!.onPollStart(signal))
      } catch (err) {
        reportHookError(this, 'onPollStart', hs[i]!, err)
      }
    }
  }

  /** transactionEnd dispatches onTransactionEnd. */
  transactionEnd(transactionalId: string, committed: boolean, err: Error | null): void {
    const hs = this.onTransactionEnd
    for (let i = 0; i < hs.length; i++) {
      try {
        settle(this, 'onTransactionEnd', hs[i]!, hs[i]!.onTransactionEnd(transactionalId, committed, err))
      } catch (e) {
        reportHookError(this, 'onTransactionEnd', hs[i]!, e)
      }
    }
  }

}

// settle deals with what a hook returned. Hook methods are typed to return nothing, but an async
// method fits that type too, and its rejection would otherwise surface as an unhandled rejection,
// which by default ends the process. The common case, undefined, costs one comparison.
function settle(reg: HookRegistry<any>, hook: HookName, obj: object, ret: unknown): void {
  if (ret === undefined) return
  if (typeof (ret as PromiseLike<unknown> | null)?.then === 'function') {
    ;(ret as PromiseLike<unknown>).then(undefined, (err: unknown) => reportHookError(reg, hook, obj, err))
  }
}

function reportHookError(reg: HookRegistry<any>, hook: HookName, obj: object, err: unknown): void {
  // The logger is user code too; if it throws, the error stops here rather than in the client path
  // that dispatched the hook.
  try {
    const logger = reg.logger
    if (logger.level() >= LogLevel.Error) {
      // The position in the flattened `hooks` option tells the user which of their hooks failed.
      const index = reg.hooks.indexOf(obj as Hook<any>)
      logger.log(LogLevel.Error, 'hook failed; the client carries on', 'hook', hook, 'index', index, 'err', err)
    }
  } catch {
    // Nothing better to do: a broken logger has nowhere to report to.
  }
}

function flatten<C>(v: HookInput<C>, path: string, out: Hook<C>[], seen: Set<unknown>, invalid: (path: string, message: string) => Error): void {
  if (Array.isArray(v)) {
    // An array that contains itself would recurse forever.
    if (seen.has(v)) throw invalid(path, 'contains itself')
    seen.add(v)
    for (let i = 0; i < v.length; i++) flatten(v[i] as HookInput<C>, `${path}[${i}]`, out, seen, invalid)
    seen.delete(v)
    return
  }
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) {
    throw invalid(path, `is ${v === null ? 'null' : typeof v}, not a hook: a hook is an object with at least one of ${hookNames.join(', ')}`)
  }
  let implemented = 0
  for (const name of hookNames) {
    const m = (v as { [k: string]: unknown })[name]
    if (m === undefined) continue
    if (typeof m !== 'function') throw invalid(`${path}.${name}`, `is ${m === null ? 'null' : typeof m}, not a function`)
    implemented++
  }
  if (implemented === 0) {
    throw invalid(path, `implements no hook: a hook is an object with at least one of ${hookNames.join(', ')}`)
  }
  out.push(v as Hook<C>)
}

function bucket<C, K extends HookName>(hooks: ReadonlyArray<Hook<C>>, name: K): ReadonlyArray<Pick<AllHooks<C>, K>> {
  const out = hooks.filter((h): h is Hook<C> & Pick<AllHooks<C>, K> => typeof h[name] === 'function')
  return out.length === 0 ? EMPTY : Object.freeze(out)
}

function invalid(path: string, message: string): KafkaWireError {
  return new KafkaWireError(`invalid option ${path}: ${message}`, { code: 'INVALID_OPTION', retriable: false })
}
