/**
 * BrokerMetadata identifies the broker a hook call concerns (franz-go's BrokerMetadata, which mirrors
 * a broker in a Metadata response). Seed brokers, known before any metadata arrives, carry the ids
 * made by `seedNodeId` and no rack.
 */
export interface BrokerMetadata {
  /** nodeId is the broker's id; seed brokers have very negative ids (see `seedNodeId`). */
  readonly nodeId: number
  readonly host: string
  readonly port: number
  /** rack is the broker's rack, null when it has none (always null for seed brokers). */
  readonly rack: string | null
}

const MIN_INT32 = -2147483648

/**
 * seedNodeId returns the node id of the i-th seed broker: the lowest int32 plus i, as franz-go does,
 * so seed ids never collide with real node ids and still sort in the order the seeds were given.
 */
export function seedNodeId(i: number): number {
  return MIN_INT32 + i
}

/** isSeedNode is true for the id of a seed broker (any id below -10; see `seedNodeId`). */
export function isSeedNode(id: number): boolean {
  return id < -10
}

/**
 * nodeName renders a node id for logs and metric labels: "seed_<i>" for seed brokers (any id below
 * -10), otherwise the id as a decimal string. Kafka never hands out negative ids, and the few small
 * negative numbers are kept readable as they are, as franz-go's NodeName does.
 */
export function nodeName(id: number): string {
  return isSeedNode(id) ? `seed_${id - MIN_INT32}` : String(id)
}

/** BrokerE2EInit is the plain-object form of `BrokerE2E`'s fields; every field is optional. */
export interface BrokerE2EInit {
  bytesWritten?: number
  bytesRead?: number
  writeWait?: number
  timeToWrite?: number
  readWait?: number
  timeToRead?: number
  writeErr?: Error | null
  readErr?: Error | null
}

/**
 * BrokerE2E describes one request written to a broker and the read of its response, as one event
 * (franz-go's BrokerE2E). Durations are milliseconds and may be fractional. A request that failed to
 * write has only the write fields set; a request with no response (Produce with acks 0) has no read
 * fields.
 */
export class BrokerE2E {
  /** bytesWritten may be short of the request's size when the write failed. */
  bytesWritten = 0
  /** bytesRead may be short of the response's size when the read failed; 0 when the write failed. */
  bytesRead = 0
  /**
   * writeWait runs from the request's creation to just before its write, including any time spent
   * held back by broker throttling. It is not part of `durationE2E()`.
   */
  writeWait = 0
  /** timeToWrite is how long writing the request to the socket took. */
  timeToWrite = 0
  /** readWait runs from the end of the write to the start of reading the response. */
  readWait = 0
  /** timeToRead is how long reading the response took, once its first bytes arrived. */
  timeToRead = 0
  /** writeErr is set when the write failed; no read is attempted then. */
  writeErr: Error | null = null
  /** readErr is set when reading the response failed. */
  readErr: Error | null = null

  constructor(init?: BrokerE2EInit) {
    if (init === undefined) return
    if (init.bytesWritten !== undefined) this.bytesWritten = init.bytesWritten
    if (init.bytesRead !== undefined) this.bytesRead = init.bytesRead
    if (init.writeWait !== undefined) this.writeWait = init.writeWait
    if (init.timeToWrite !== undefined) this.timeToWrite = init.timeToWrite
    if (init.readWait !== undefined) this.readWait = init.readWait
    if (init.timeToRead !== undefined) this.timeToRead = init.timeToRead
    if (init.writeErr !== undefined) this.writeErr = init.writeErr
    if (init.readErr !== undefined) this.readErr = init.readErr
  }

  /**
   * durationE2E is the time from the start of the write to the end of the read: timeToWrite +
   * readWait + timeToRead. writeWait is left out because it measures queueing in the client, not the
   * round trip.
   */
  durationE2E(): number {
    return this.timeToWrite + this.readWait + this.timeToRead
  }

  /** err returns the write error if there is one, else the read error, else null. */
  err(): Error | null {
    return this.writeErr ?? this.readErr
  }
}

/**
 * ProduceBatchMetrics describes one batch a broker acknowledged (franz-go's ProduceBatchMetrics).
 */
export interface ProduceBatchMetrics {
  /** numRecords is the number of records in the batch. */
  readonly numRecords: number
  /**
   * uncompressedBytes is the size of the records without the batch header; for legacy message sets
   * the per-message overhead is included.
   */
  readonly uncompressedBytes: number
  /** compressedBytes is the size sent; equal to uncompressedBytes when the batch is not compressed. */
  readonly compressedBytes: number
  /** compressionType is the codec as Kafka numbers it: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  readonly compressionType: number
}

/**
 * FetchBatchMetrics describes one batch read from a fetch response (franz-go's FetchBatchMetrics). The
 * fields mean what they mean in `ProduceBatchMetrics`, with two differences: `numRecords` counts
 * transaction control records too and is 0 for a batch that failed to decode, and `uncompressedBytes`
 * can exceed what was produced because brokers may return partial batches.
 */
export interface FetchBatchMetrics {
  readonly numRecords: number
  readonly uncompressedBytes: number
  readonly compressedBytes: number
  readonly compressionType: number
}
