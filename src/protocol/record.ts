/**
 * The record shapes of kafka-wire: what the client hands out (Record), what producing accepts
 * (ProduceRecord), and their headers. They live in the protocol layer, beside the codec that decodes
 * fetched records straight into the Record shape, so that the client, the hooks and kotel can all
 * import them downward. Types only: this module has no runtime code.
 */

/** RecordHeader is one record header; order and duplicate keys are kept. */
export interface RecordHeader {
  key: string
  /** value is a view of its batch's bytes on consumed records (as `Record.value` is), or null. */
  value: Buffer | null
}

/** ProduceRecordHeader is a header as accepted when producing: values may be strings. */
export interface ProduceRecordHeader {
  key: string
  value: Buffer | string | null
}

/**
 * RecordContext is an opaque slot that travels with a record through the client (franz-go's
 * Record.Context). kotel keeps an OpenTelemetry Context here; the core never looks inside.
 */
export type RecordContext = unknown

/** ControlMarker is what a control record says: the end of a transaction, or a type clients ignore. */
export interface ControlMarker {
  /**
   * type is 'commit' or 'abort' for transaction markers (control types 1 and 0); any other control
   * type (KRaft's, or a future one) is given as its number.
   */
  type: 'abort' | 'commit' | number
  /** coordinatorEpoch of the transaction coordinator that wrote a commit or abort marker; -1 otherwise. */
  coordinatorEpoch: number
}

/**
 * Record is a record as the client hands it out: consumed records, and produced records once they
 * settle. On consumed records, `key` and `value` are views (never copies of their own) into their
 * batch's bytes: its decompressed bytes, or a copy of an uncompressed batch, made in runs of whole
 * records of at most 64 KiB. A record kept alive keeps that memory alive, not the fetch response.
 */
export interface Record {
  topic: string
  /** partition is -1 until the record is partitioned. */
  partition: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
  /** timestamp in milliseconds since the epoch. */
  timestamp: number
  /** offset is -1n until the broker assigns one. */
  offset: bigint
  /** leaderEpoch of the batch the record came in, -1 when unknown. */
  leaderEpoch: number
  /** producerId, producerEpoch of the batch (consumed records); -1n/-1 otherwise. */
  producerId: bigint
  producerEpoch: number
  /** context carries per-record state for hooks (an OpenTelemetry Context for kotel). */
  context?: RecordContext
  /** deliveryCount is how many times a share group has handed this record out (1 the first time); set on share-group records only. */
  deliveryCount?: number
  /**
   * control is set on control records only: the transaction markers (commit, abort) that brokers
   * write into a partition. Consumers hand them out only with `keepControlRecords` (franz-go's
   * Record.Attrs.IsControl()); `record.control !== undefined` tells one apart, and `control.type`
   * says which marker it is. Their key and value are the marker's raw bytes.
   */
  control?: ControlMarker
}

/**
 * ProduceRecord is what `client.produce` accepts. The client fills `partition`, `offset` and
 * `timestamp` in place and hands the same object back, so producing allocates no result object.
 */
export interface ProduceRecord {
  topic: string
  /** partition, when set (>= 0), wins over the partitioner. */
  partition?: number
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: ProduceRecordHeader[]
  /** timestamp in ms; defaults to the time `produce` was called. */
  timestamp?: number
  offset?: bigint
  context?: RecordContext
}
