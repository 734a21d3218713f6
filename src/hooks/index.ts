// The hooks module: hook interfaces, the metadata hooks receive, the registry the client dispatches
// through, and the logger interface hook errors are reported to. It holds types and the registry only
// and imports nothing from the client at runtime, so the client and kotel can both depend on it.

export type {
  AllHooks,
  AnyHook,
  BrokerConnectHook,
  BrokerDisconnectHook,
  BrokerE2EHook,
  BrokerReadHook,
  BrokerThrottleHook,
  BrokerWriteHook,
  ClientClosedHook,
  FetchBatchReadHook,
  FetchRecordBufferedHook,
  FetchRecordUnbufferedHook,
  GroupManageErrorHook,
  Hook,
  HookInput,
  HookName,
  NewClientHook,
  PollStartHook,
  ProduceBatchWrittenHook,
  ProduceRecordBufferedHook,
  ProduceRecordPartitionedHook,
  ProduceRecordUnbufferedHook,
  TransactionEndHook,
} from './types.js'
export { hookNames } from './types.js'
export { BrokerE2E, isSeedNode, nodeName, seedNodeId } from './meta.js'
export type { BrokerE2EInit, BrokerMetadata, FetchBatchMetrics, ProduceBatchMetrics } from './meta.js'
export { HookRegistry } from './registry.js'
export type { HookRegistryOptions } from './registry.js'
export { LogLevel, nopLogger } from './logger.js'
export type { Logger } from './logger.js'
