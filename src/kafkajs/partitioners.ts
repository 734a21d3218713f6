/**
 * KafkaJS's partitioners (`Partitioners.DefaultPartitioner`, `LegacyPartitioner` and the deprecated
 * `JavaCompatiblePartitioner`) with KafkaJS's signature, `createPartitioner` adapted to the client's
 * Partitioner interface, and the partition metadata KafkaJS partitioners receive.
 */
import { murmur2 as javaMurmur2, toPositive } from '../protocol/murmur2.js'
import type { ProduceRecord } from '../protocol/record.js'
import type { Partitioner, TopicPartitioner } from '../client/producer/partitioner.js'
import type { TopicInfo } from '../client/metadata.js'

/** PartitionMetadata describes one partition as KafkaJS partitioners and admin calls see it. */
export type PartitionMetadata = {
  partitionErrorCode: number
  partitionId: number
  leader: number
  replicas: number[]
  isr: number[]
  offlineReplicas?: number[]
}

/** IHeaders are KafkaJS message headers: a value, or an array of values for a repeated key. */
export interface IHeaders {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined
}

/** Message is a message to produce, as KafkaJS takes it. */
export interface Message {
  key?: Buffer | string | null
  value: Buffer | string | null
  partition?: number
  headers?: IHeaders
  /** timestamp in ms since the epoch, as a string (KafkaJS's type; numbers are accepted too). */
  timestamp?: string
}

/** PartitionerArgs is what a KafkaJS partitioner function receives. */
export interface PartitionerArgs {
  topic: string
  partitionMetadata: PartitionMetadata[]
  message: Message
}

/** PartitionerFn picks a message's partition: what an ICustomPartitioner makes. */
export type PartitionerFn = (args: PartitionerArgs) => number

/** ICustomPartitioner makes a partitioner function: KafkaJS's `createPartitioner` option. */
export type ICustomPartitioner = () => PartitionerFn
/** DefaultPartitioner is the type of `Partitioners.DefaultPartitioner`. */
export type DefaultPartitioner = ICustomPartitioner
/** LegacyPartitioner is the type of `Partitioners.LegacyPartitioner`. */
export type LegacyPartitioner = ICustomPartitioner

function keyBytes(key: Buffer | string): Buffer {
  return Buffer.isBuffer(key) ? key : Buffer.from(String(key))
}

/**
 * legacyMurmur2 is the hash KafkaJS 1.x partitioned keys with: murmur2 computed in floating-point
 * JavaScript numbers, which loses precision in the multiplications and so differs from Java's murmur2
 * for most keys. Kept bit for bit so that programs moving from LegacyPartitioner keep their
 * key-to-partition mapping.
 */
export function legacyMurmur2(key: Buffer | string): number {
  const data = keyBytes(key)
  const len = data.length
  const m = 0x5bd1e995
  let h = 0x9747b28c ^ len
  // KafkaJS 1.x loops while i < len / 4 without flooring, so a key whose length is not a multiple of
  // four gets one more word, its missing bytes read as 0, before the tail is mixed in as usual.
  const words = Math.ceil(len / 4)
  const at = (i: number) => (i < len ? data[i]! : 0)
  for (let i = 0; i < words; i++) {
    const o = i * 4
    // Sums, not ORs, and plain multiplications: the float arithmetic is the point.
    let k = at(o) + (at(o + 1) << 8) + (at(o + 2) << 16) + (at(o + 3) << 24)
    k *= m
    k ^= k >>> 24
    k *= m
    h *= m
    h ^= k
  }
  const tail = len & ~3
  const rest = len % 4
  if (rest === 3) h ^= data[tail + 2]! << 16
  if (rest >= 2) h ^= data[tail + 1]! << 8
  if (rest >= 1) {
    h ^= data[tail]!
    h *= m
  }
  h ^= h >>> 13
  h *= m
  h ^= h >>> 15
  return h
}

/** javaMurmur2 hashes a key as the Java client does (KafkaJS's DefaultPartitioner since 2.0). */
function javaHash(key: Buffer | string): number {
  return javaMurmur2(keyBytes(key))
}

function partitionerWith(hash: (key: Buffer | string) => number): ICustomPartitioner {
  return () => {
    const counters = new Map<string, number>()
    return ({ topic, partitionMetadata, message }) => {
      let counter = counters.get(topic)
      if (counter === undefined) counter = Math.floor(Math.random() * 0x100000000)
      if (message.partition !== null && message.partition !== undefined) return message.partition
      const n = partitionMetadata.length
      if (message.key !== null && message.key !== undefined) return toPositive(hash(message.key)) % n
      // Keyless: round robin over the partitions with a leader, from a random start per topic.
      counter = (counter + 1) >>> 0
      counters.set(topic, counter)
      const available = partitionMetadata.filter((p) => p.leader >= 0)
      if (available.length > 0) return available[toPositive(counter) % available.length]!.partitionId
      return toPositive(counter) % n
    }
  }
}

/**
 * Partitioners are KafkaJS's built-in partitioners. DefaultPartitioner hashes keys with Java's murmur2
 * (the same partitions as the Java client and KafkaJS 2.x); LegacyPartitioner with KafkaJS 1.x's
 * hash. Given as `createPartitioner`, DefaultPartitioner becomes the client's own Java-compatible
 * partitioner: keys land where KafkaJS puts them, keyless messages stick to a partition per batch
 * (KIP-794) instead of going round robin message by message (see docs/kafkajs.md).
 */
export const Partitioners: {
  DefaultPartitioner: DefaultPartitioner
  LegacyPartitioner: LegacyPartitioner
  /** @deprecated Use DefaultPartitioner instead: JavaCompatiblePartitioner was renamed DefaultPartitioner in KafkaJS 2.0. */
  JavaCompatiblePartitioner: DefaultPartitioner
} = (() => {
  const DefaultPartitioner = partitionerWith(javaHash)
  return Object.freeze({ DefaultPartitioner, LegacyPartitioner: partitionerWith(legacyMurmur2), JavaCompatiblePartitioner: DefaultPartitioner })
})()

/** MESSAGE is where a produced record keeps the KafkaJS message it was made from, for KafkaJS partitioners. */
export const MESSAGE = Symbol('kafka-wire/kafkajs message')

/** RecordWithMessage is a ProduceRecord made from a KafkaJS message. */
export type RecordWithMessage = ProduceRecord & { [MESSAGE]?: Message }

const metadataCache = new WeakMap<TopicInfo, PartitionMetadata[]>()

/** partitionMetadataOf renders a topic's partitions as KafkaJS's PartitionMetadata, once per metadata load. */
export function partitionMetadataOf(info: TopicInfo): PartitionMetadata[] {
  let out = metadataCache.get(info)
  if (out === undefined) {
    out = info.partitions.map((p) => ({ partitionErrorCode: p.errorCode, partitionId: p.partition, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr], offlineReplicas: [...p.offline] }))
    metadataCache.set(info, out)
  }
  return out
}

/**
 * kafkaJSPartitioner adapts the function a KafkaJS `createPartitioner` made for the client: it is
 * called with the topic's partition metadata and the message for every message without a partition,
 * and its answer is the partition (always the partition id among all partitions, as in KafkaJS).
 */
export function kafkaJSPartitioner(fn: PartitionerFn, metadata: (topic: string) => TopicInfo | undefined): Partitioner {
  return {
    forTopic(topic: string): TopicPartitioner {
      return {
        requiresConsistency: () => true,
        partition(record: ProduceRecord): number {
          const info = metadata(topic)
          const partitionMetadata = info === undefined ? [] : partitionMetadataOf(info)
          const message = (record as RecordWithMessage)[MESSAGE] ?? { key: record.key, value: record.value }
          return fn({ topic, partitionMetadata, message })
        },
      }
    },
  }
}
