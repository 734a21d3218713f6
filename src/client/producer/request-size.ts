// Bounds on a Produce request's size on the wire, for brokerMaxWriteBytes: what a request adds around
// its batches, per request, per topic and per partition, for every Produce version. A leaf module:
// options.ts checks the option with it, and the sink sizes its requests with it.

/** MAX_TOPIC_NAME_LENGTH is the longest topic name Kafka allows. */
const MAX_TOPIC_NAME_LENGTH = 249

/**
 * PRODUCE_PARTITION_BYTES bounds what one partition adds to a Produce request besides its batch: its
 * index, the batch's length prefix (a varint of up to 5 bytes in flexible versions) and its tags.
 */
export const PRODUCE_PARTITION_BYTES = 4 + 5 + 1

/**
 * produceTopicBytes bounds what one topic adds to a Produce request besides its partitions: its name
 * of `nameLength` characters (ASCII, as Kafka's rules want; its 16-byte id from v13), its partition
 * array's length and its tags.
 */
export function produceTopicBytes(nameLength: number): number {
  return Math.max(2 + nameLength, 16) + 5 + 1
}

/**
 * produceRequestBaseBytes bounds a Produce request without topics, as it goes on the wire: the size
 * prefix, the header (client id, tags), the transactional id, acks, timeout, the topic array's
 * length and the tags. Counted for the larger of the flexible and the older encodings.
 */
export function produceRequestBaseBytes(clientId: string, transactionalId: string | null): number {
  const txn = transactionalId === null ? 2 : 5 + Buffer.byteLength(transactionalId)
  return 4 + 8 + 2 + Buffer.byteLength(clientId) + 1 + txn + 2 + 4 + 5 + 1
}

/**
 * produceRequestOverhead bounds a Produce request carrying one batch, less the batch: what
 * brokerMaxWriteBytes must hold beyond producerBatchMaxBytes for any batch to fit.
 */
export function produceRequestOverhead(clientId: string, transactionalId: string | null): number {
  return produceRequestBaseBytes(clientId, transactionalId) + produceTopicBytes(MAX_TOPIC_NAME_LENGTH) + PRODUCE_PARTITION_BYTES
}
