/**
 * Record batches: encoding RecordBatch v2 (what producers write) and decoding what a Fetch returns,
 * which is a concatenation of v2 batches and, on partitions whose oldest data predates Kafka 0.11,
 * legacy message sets (magic 0 and 1).
 *
 * RecordBatch v2 layout (every integer big-endian):
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 (2) | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records…
 *
 * batchLength counts the bytes after itself; the CRC-32C covers attributes through the end. When the
 * batch is compressed, only the records are, so the record count is always readable. A record is
 *
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value | headerCount varint |
 *   (headerKeyLength varint | headerKey | headerValueLength varint | headerValue)…
 *
 * with lengths of -1 for null. Decoding makes no copies: keys, values and header values are views of
 * the fetched buffer, or of the one buffer a compressed batch decompresses into.
 */
import { crc32, crc32c } from './crc32c.js'
import { compressInto, decompress, DEFAULT_MAX_DECOMPRESSED_BYTES, type CompressionCodec, type Compressor, type Decompressor } from './compression/index.js'
import { ProtocolDecodeError, ProtocolEncodeError } from './errors.js'
import { Reader } from './reader.js'
import { varintSize, Writer } from './writer.js'
import type { ControlMarker, RecordHeader } from './record.js'

export type { ControlMarker, RecordHeader } from './record.js'

/** RecordCompression is a batch's codec id: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
export type RecordCompression = 0 | CompressionCodec

/**
 * BatchRecord is one decoded record. Every record has this one shape, whatever the batch's magic.
 * (Named so as not to shadow TypeScript's `Record` or the client's `Record`.)
 */
export interface BatchRecord {
  /** offset is the record's absolute offset in its partition. */
  offset: bigint
  /**
   * timestamp in milliseconds: the producer's (create time) or, when the batch's timestampType is
   * 'log-append', the broker's append time. -1 when the record has none (magic 0).
   */
  timestamp: number
  /** key is a view of the fetched or decompressed bytes, or null. */
  key: Buffer | null
  /** value is a view of the fetched or decompressed bytes, or null (a tombstone). */
  value: Buffer | null
  /** headers in the order they were written; always empty for magic 0 and 1. */
  headers: RecordHeader[]
}

/**
 * RecordBatch is one decoded batch. A legacy (magic 0 or 1) message becomes a batch too: a plain
 * message is a batch of one record, a compressed wrapper message a batch of its inner messages; such
 * batches have no producer id (-1n), epoch, sequence or leader epoch (-1), and their baseTimestamp
 * and maxTimestamp are the (wrapper) message's timestamp.
 */
export interface RecordBatch {
  /** baseOffset is the offset of the batch's first record (as first written; compaction keeps it). */
  baseOffset: bigint
  /** batchLength is the length field: the batch occupies `batchLength + 12` bytes. */
  batchLength: number
  /** partitionLeaderEpoch is the leader epoch the batch was appended in, -1 when unknown. */
  partitionLeaderEpoch: number
  /** magic is the format version: 2, or 0 and 1 for legacy message sets. */
  magic: number
  /** crc is the checksum stored in the batch (CRC-32C for v2, CRC-32 of the wrapper for v0/v1). */
  crc: number
  /** attributes is the raw attributes field. */
  attributes: number
  /** compression is the codec the records were compressed with. */
  compression: RecordCompression
  /** timestampType says whose clock record timestamps are; 'none' only for magic 0, which has none. */
  timestampType: 'create' | 'log-append' | 'none'
  isTransactional: boolean
  /** isControl marks a batch written by the broker (transaction markers), not a producer. */
  isControl: boolean
  /** hasDeleteHorizon says compaction stored its delete horizon in baseTimestamp (KIP-534). */
  hasDeleteHorizon: boolean
  /** lastOffsetDelta: the batch ends at offset `baseOffset + lastOffsetDelta`, even if compaction removed it. */
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  /** producerId, producerEpoch and baseSequence of an idempotent or transactional producer; -1 otherwise. */
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  /**
   * records, in offset order. A control batch has its control records here too. Empty for a batch
   * decoded with `deferRecords`, whose records are in `deferred` instead.
   */
  records: BatchRecord[]
  /**
   * deferred holds the records of a v2 data batch decoded with `deferRecords`: checked, and kept as
   * bytes until forEachDeferredRecord makes them. Absent otherwise.
   */
  deferred?: DeferredRecords
  /** control is the marker of a control batch (from its first record); null for data batches. */
  control: ControlMarker | null
}

/**
 * DeferredRecords are the records of one v2 batch, every one checked as decoding would, kept as
 * bytes: the batch's decompressed bytes, the copies of an uncompressed batch (runs of whole records
 * of at most 64 KiB) with `copyUncompressed`, or its bytes in the input without.
 * forEachDeferredRecord makes the records, which view these bytes.
 */
export interface DeferredRecords {
  /** runs are the records' bytes, in order; each holds whole records. */
  readonly runs: Buffer[]
  /** count is the number of records (the batch's record count, which checking confirmed). */
  readonly count: number
  /** lastDelta is the offset delta of the last record present (compaction may have removed later ones); -1 with none. */
  readonly lastDelta: number
  /** minDelta is the smallest offset delta of a record present (the first one's, in a well-formed batch); 0 with none. */
  readonly minDelta: number
}

/**
 * DecodedRecordBatches is the result of decodeRecordBatches: the complete batches, in order, plus
 * `truncated`, true when the input ended inside a batch. Brokers cut the last batch of a fetch at the
 * size limit, so a partial trailing batch is normal: it is dropped, and fetched again from its offset
 * next time. `truncated` with no batches means the first batch is larger than the fetch allowed.
 */
export type DecodedRecordBatches = RecordBatch[] & {
  truncated: boolean
  /**
   * viewsInput is true when some decoded record (or deferred record) views the input buffer: one of
   * an uncompressed legacy message set, or of an uncompressed v2 batch decoded without
   * `copyUncompressed`. While false, the input may be overwritten once decodeRecordBatches returns.
   */
  viewsInput: boolean
}

/** DecodeRecordBatchesOptions tunes decodeRecordBatches. */
export interface DecodeRecordBatchesOptions {
  /** verifyCrc checks every batch's checksum (Java's check.crcs). Default true. */
  verifyCrc?: boolean
  /**
   * maxDecompressedBytes bounds the bytes that all compressed batches of one call may decompress to,
   * together; a batch that would go over fails with a ProtocolDecodeError before its output is
   * allocated. Default DEFAULT_MAX_DECOMPRESSED_BYTES (256 MiB) of the compression module.
   */
  maxDecompressedBytes?: number
  /**
   * recordFields, when given, are set on every decoded record together with the batch's
   * `leaderEpoch`, `producerId` and `producerEpoch`, so each record is made once in the shape the
   * client hands out instead of being decoded and then copied into a second object per record.
   */
  recordFields?: { topic: string; partition: number }
  /**
   * copyUncompressed decodes the records of each uncompressed v2 batch from a copy of the batch's
   * bytes (of a batch over 64 KiB, from copies of runs of whole records of at most 64 KiB), as those
   * of a compressed batch come from its decompressed copy: then no record of a v2 batch views `buf`,
   * which may be read into again once this returns, and a record kept alive keeps only its own
   * batch's (or run's) bytes alive. Records of legacy message sets (magic 0 and 1) still view `buf`.
   */
  copyUncompressed?: boolean
  /**
   * deferRecords checks every record of each v2 data batch (control batches are decoded as usual) but
   * makes no record objects: the batch's `records` stay empty, and `deferred` keeps the records'
   * bytes (an uncompressed batch's copied with copyUncompressed, viewed in `buf` without) for
   * forEachDeferredRecord. A consumer that hands records out later, or to a callback one at a time,
   * makes each record only then.
   */
  deferRecords?: boolean
  /** decompressor decompresses compressed batches instead of the built-in codecs (the client's `decompressor` option). */
  decompressor?: Decompressor | null
}

/**
 * ClientRecordFields are what a record decoded with `recordFields` carries besides BatchRecord's.
 */
export interface ClientRecordFields {
  topic: string
  partition: number
  leaderEpoch: number
  producerId: bigint
  producerEpoch: number
}

/**
 * CorruptRecordBatchError is the ProtocolDecodeError decodeRecordBatches throws for a corrupt batch.
 * It keeps the complete batches before the corrupt one, so a consumer can hand those out and report
 * the error at `offset`, as the Java consumer does.
 */
export class CorruptRecordBatchError extends ProtocolDecodeError {
  /** offset is the base offset field of the corrupt batch or message (-1n when not even that is there). */
  readonly offset: bigint
  /** decoded holds the batches before the corrupt one, complete and in order. */
  decoded: RecordBatch[] = []

  constructor(message: string, offset: bigint, cause?: unknown) {
    super(message, cause)
    this.offset = offset
  }
}

/** RecordHeaderInput is a header to encode; a string value is written as UTF-8. */
export interface RecordHeaderInput {
  key: string
  value: Uint8Array | string | null
}

/**
 * RecordInput is a record to encode. Strings are written as UTF-8 straight into the batch. The
 * producer's records fit this shape as they are.
 */
export interface RecordInput {
  /** key; undefined is the same as null. */
  key?: Uint8Array | string | null
  value: Uint8Array | string | null
  headers?: readonly RecordHeaderInput[]
  /** timestamp in milliseconds; required (optional in the type only so producer records fit). */
  timestamp?: number
  /** offsetDelta from the batch's base offset; defaults to the record's index. */
  offsetDelta?: number
}

/** RecordBatchInput describes a RecordBatch v2 to encode. */
export interface RecordBatchInput {
  /** baseOffset; producers send 0 (the default), the broker assigns the real one. */
  baseOffset?: bigint
  /** partitionLeaderEpoch; producers send -1 (the default). */
  partitionLeaderEpoch?: number
  /** producerId, producerEpoch and baseSequence: -1n, -1, -1 unless idempotent or transactional. */
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  isTransactional?: boolean
  isControl?: boolean
  compression: RecordCompression
  /** compressor compresses the records instead of the built-in codec (the client's `compressor` option). */
  compressor?: Compressor | null
  /** timestampType; producers write 'create' (the default). */
  timestampType?: 'create' | 'log-append'
  /** baseTimestamp; defaults to the first record's timestamp, as the Java client does (-1 when empty). */
  baseTimestamp?: number
  /** maxTimestamp; defaults to the largest record timestamp (baseTimestamp when empty). */
  maxTimestamp?: number
  records: readonly RecordInput[]
}

/** RECORD_BATCH_OVERHEAD is the size of a v2 batch header, including the record count: 61 bytes. */
export const RECORD_BATCH_OVERHEAD = 61

// Byte positions within a v2 batch.
const LENGTH_OFFSET = 8
const PARTITION_LEADER_EPOCH_OFFSET = 12
const MAGIC_OFFSET = 16
const CRC_OFFSET = 17
const ATTRIBUTES_OFFSET = 21
const LAST_OFFSET_DELTA_OFFSET = 23
const BASE_TIMESTAMP_OFFSET = 27
const MAX_TIMESTAMP_OFFSET = 35
const PRODUCER_ID_OFFSET = 43
const PRODUCER_EPOCH_OFFSET = 51
const BASE_SEQUENCE_OFFSET = 53
const RECORDS_COUNT_OFFSET = 57

// Attribute bits.
const COMPRESSION_MASK = 0x07
const TIMESTAMP_TYPE_FLAG = 0x08
const TRANSACTIONAL_FLAG = 0x10
const CONTROL_FLAG = 0x20
const DELETE_HORIZON_FLAG = 0x40

/** LOG_OVERHEAD is the offset and length fields every batch and legacy message starts with. */
const LOG_OVERHEAD = 12
/** The smallest legacy message (magic 0, null key and value), below which a size field is corrupt. */
const LEGACY_MIN_SIZE_V0 = 14
const LEGACY_MIN_SIZE_V1 = 22
/** The smallest encoded record: a length byte and six one-byte fields (attributes, two deltas, two null lengths, no headers). */
const MIN_RECORD_SIZE = 7

const TWO_POW_32 = 4294967296

// ---------------------------------------------------------------------------------------------------
// Encoding

/**
 * headerLengths holds the UTF-8 lengths of one record's header keys and values, and keyLength and
 * valueLength its key's and value's (-1 for null), between sizing and writing, so no string is
 * measured twice.
 */
let headerLengths = new Int32Array(32)
let keyLength = -1
let valueLength = -1

/**
 * scratch holds a compressed batch's records before compression; one per process, reused. A writer
 * that grew past SCRATCH_KEEP_BYTES for an unusually large batch is dropped afterwards, not kept.
 */
let scratch: Writer | null = null
const SCRATCH_KEEP_BYTES = 8 * 1024 * 1024

/**
 * encodeRecordBatch writes one RecordBatch v2 into `w` in a single pass and returns its size in bytes.
 * Each record's size is worked out arithmetically first so its length prefix is written before it and
 * nothing is encoded twice. Uncompressed records go straight into `w`; compressed ones go into a reused
 * scratch writer, are compressed, and the result is copied in once. The batch length and CRC-32C are
 * reserved, then patched in place. Throws ProtocolEncodeError for a record without an integer timestamp
 * or a header without a key, and whatever `compress` throws.
 */
export function encodeRecordBatch(w: Writer, batch: RecordBatchInput): number {
  if (w.spliceMin !== Infinity) {
    // The CRC is computed over the writer's buffer: a compressed batch spliced in would be left out.
    throw new ProtocolEncodeError('encodeRecordBatch needs a writer that copies (spliceMin Infinity)')
  }
  const records = batch.records
  const count = records.length
  const compression = batch.compression
  if (!(compression >= 0 && compression <= 4 && Number.isInteger(compression))) {
    throw new ProtocolEncodeError(`invalid compression codec id ${String(compression)}`)
  }

  let baseTimestamp = batch.baseTimestamp ?? (count > 0 ? recordTimestamp(records[0]!, 0) : -1)
  let maxTimestamp = batch.maxTimestamp
  if (maxTimestamp === undefined) {
    maxTimestamp = baseTimestamp
    for (let i = 0; i < count; i++) {
      const ts = recordTimestamp(records[i]!, i)
      if (ts > maxTimestamp) maxTimestamp = ts
    }
  }
  if (!Number.isSafeInteger(baseTimestamp) || !Number.isSafeInteger(maxTimestamp)) {
    throw new ProtocolEncodeError(`batch timestamps must be integers, got ${baseTimestamp} and ${maxTimestamp}`)
  }
  const lastOffsetDelta = count > 0 ? (records[count - 1]!.offsetDelta ?? count - 1) : -1
  let attributes = compression
  if (batch.timestampType === 'log-append') attributes |= TIMESTAMP_TYPE_FLAG
  if (batch.isTransactional) attributes |= TRANSACTIONAL_FLAG
  if (batch.isControl) attributes |= CONTROL_FLAG

  const start = w.pos
  w.ensure(RECORD_BATCH_OVERHEAD)
  w.int64(batch.baseOffset ?? 0n)
  const lengthAt = w.reserve(4)
  w.int32(batch.partitionLeaderEpoch ?? -1)
  w.int8(2)
  const crcAt = w.reserve(4)
  w.int16(attributes)
  w.int32(lastOffsetDelta)
  int64Number(w, baseTimestamp)
  int64Number(w, maxTimestamp)
  w.int64(batch.producerId)
  w.int16(batch.producerEpoch)
  w.int32(batch.baseSequence)
  w.int32(count)

  if (compression === 0) {
    for (let i = 0; i < count; i++) writeRecord(w, records[i]!, i, baseTimestamp)
  } else {
    const s = (scratch ??= new Writer(64 * 1024)).reset()
    for (let i = 0; i < count; i++) writeRecord(s, records[i]!, i, baseTimestamp)
    compressInto(compression, s.finish(), w, batch.compressor ? { compressor: batch.compressor } : undefined)
    if (s.buf.length > SCRATCH_KEEP_BYTES) scratch = null
  }

  w.patchInt32(lengthAt, w.pos - lengthAt - 4)
  w.patchUint32(crcAt, crc32c(w.buf, start + ATTRIBUTES_OFFSET, w.pos))
  return w.pos - start
}

/**
 * encodeRecordBatchBuffer encodes one RecordBatch v2 into a Buffer of its own (a view of a buffer no
 * one else holds).
 */
export function encodeRecordBatchBuffer(batch: RecordBatchInput): Buffer {
  let estimate = RECORD_BATCH_OVERHEAD
  const records = batch.records
  // A cheap guess (exact for Buffers without headers) so most batches need no regrowth.
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    estimate += 24 + dataLength(r.key) + dataLength(r.value)
  }
  const w = new Writer(Math.max(64, batch.compression === 0 ? estimate : (estimate >>> 1) + 64))
  encodeRecordBatch(w, batch)
  return w.finish()
}

/**
 * encodedRecordSize returns how many bytes a record takes inside a batch (its length prefix included)
 * at the given offset and timestamp deltas: the sum the producer keeps to decide when a batch is full.
 */
export function encodedRecordSize(record: RecordInput, offsetDelta: number, timestampDelta: number): number {
  const body = recordBodySize(record, offsetDelta, timestampDelta)
  return varintSize(body) + body
}

/**
 * restampRecordBatch rewrites the producer id, epoch and base sequence of an encoded v2 batch in place
 * and recomputes its CRC, so a batch encoded once can be sent again under a new epoch (after an epoch
 * bump) without encoding its records again. `batch` is exactly one encoded batch.
 */
export function restampRecordBatch(batch: Buffer, producerId: bigint, producerEpoch: number, baseSequence: number): void {
  if (batch.length < RECORD_BATCH_OVERHEAD || batch[MAGIC_OFFSET] !== 2) {
    throw new ProtocolEncodeError('restampRecordBatch needs one encoded RecordBatch v2')
  }
  batch.writeBigInt64BE(producerId, PRODUCER_ID_OFFSET)
  batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET)
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET)
  batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_OFFSET, batch.length), CRC_OFFSET)
}

function dataLength(v: Uint8Array | string | null | undefined): number {
  if (v === null || v === undefined) return 0
  return typeof v === 'string' ? v.length * 3 : v.length
}

function recordTimestamp(r: RecordInput, i: number): number {
  const ts = r.timestamp
  if (ts === undefined || !Number.isSafeInteger(ts)) {
    throw new ProtocolEncodeError(`record ${i} has no integer timestamp (got ${String(ts)})`)
  }
  return ts
}

/** byteLengthOf is the encoded length of a key, value or header value: -1 for null. */
function byteLengthOf(v: Uint8Array | string | null | undefined): number {
  if (v === null || v === undefined) return -1
  return typeof v === 'string' ? utf8Length(v) : v.length
}

/**
 * SHORT_STRING is the length up to which strings are measured and written in JavaScript: for the
 * short keys, values and header fields of typical records, a loop over char codes is several times
 * cheaper than a call into Buffer.byteLength or buf.write, which costs the same at any length.
 */
const SHORT_STRING = 64

/** utf8Length is Buffer.byteLength(s, 'utf8'), without the native call for short ASCII strings. */
function utf8Length(s: string): number {
  const n = s.length
  if (n > SHORT_STRING) return Buffer.byteLength(s, 'utf8')
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8')
  return n
}

/**
 * recordBodySize is a record's size after its length prefix. It leaves the key, value and header
 * lengths in `keyLength`, `valueLength` and `headerLengths` for writeRecord.
 */
function recordBodySize(r: RecordInput, offsetDelta: number, timestampDelta: number): number {
  const keyLen = (keyLength = byteLengthOf(r.key))
  const valueLen = (valueLength = byteLengthOf(r.value))
  let size = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta)
  size += varintSize(keyLen) + (keyLen > 0 ? keyLen : 0)
  size += varintSize(valueLen) + (valueLen > 0 ? valueLen : 0)
  const headers = r.headers
  const n = headers === undefined ? 0 : headers.length
  size += varintSize(n)
  if (n > 0) {
    if (headerLengths.length < 2 * n) headerLengths = new Int32Array(2 * n)
    for (let i = 0; i < n; i++) {
      const h = headers![i]!
      if (typeof h.key !== 'string') throw new ProtocolEncodeError(`header ${i} has no string key`)
      const kl = utf8Length(h.key)
      const vl = byteLengthOf(h.value)
      headerLengths[2 * i] = kl
      headerLengths[2 * i + 1] = vl
      size += varintSize(kl) + kl + varintSize(vl) + (vl > 0 ? vl : 0)
    }
  }
  return size
}

/**
 * writeRecord writes one record straight into the writer's buffer: the space for the whole record is
 * ensured once (its size is known exactly), then every varint and byte goes in through a local cursor,
 * with no call per field that would check and store the writer's position again.
 */
function writeRecord(w: Writer, r: RecordInput, index: number, baseTimestamp: number): void {
  const timestampDelta = recordTimestamp(r, index) - baseTimestamp
  const offsetDelta = r.offsetDelta ?? index
  const body = recordBodySize(r, offsetDelta, timestampDelta)
  w.ensure(varintSize(body) + body)
  let buf = w.buf
  let pos = putVarint(buf, w.pos, body)
  buf[pos++] = 0 // record attributes: unused
  if (timestampDelta >= -0x80000000 && timestampDelta <= 0x7fffffff) pos = putVarint(buf, pos, timestampDelta)
  else {
    // A delta beyond int32 (records weeks apart in one batch) needs the 64-bit varint; rare. The
    // writer may regrow (it ensures 10 bytes, the record may need fewer): take its buffer again.
    w.pos = pos
    w.varlong(BigInt(timestampDelta))
    buf = w.buf
    pos = w.pos
  }
  pos = putVarint(buf, pos, offsetDelta)
  pos = putData(buf, pos, r.key, keyLength)
  pos = putData(buf, pos, r.value, valueLength)
  const headers = r.headers
  const n = headers === undefined ? 0 : headers.length
  pos = putVarint(buf, pos, n)
  for (let i = 0; i < n; i++) {
    const h = headers![i]!
    pos = putData(buf, pos, h.key, headerLengths[2 * i]!)
    pos = putData(buf, pos, h.value, headerLengths[2 * i + 1]!)
  }
  w.pos = pos
}

/** putVarint writes a zigzag varint at `pos` and returns the position after it; space was ensured. */
function putVarint(buf: Buffer, pos: number, v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0
  while (u > 0x7f) {
    buf[pos++] = (u & 0x7f) | 0x80
    u >>>= 7
  }
  buf[pos++] = u
  return pos
}

/** putData writes a varint length and the bytes at `pos`, returning the position after them. */
function putData(buf: Buffer, pos: number, v: Uint8Array | string | null | undefined, len: number): number {
  pos = putVarint(buf, pos, len)
  if (len <= 0) return pos
  if (typeof v === 'string') {
    if (len === v.length && len <= SHORT_STRING) {
      // ASCII (one byte per char, as its UTF-8 length says): copy the char codes.
      for (let i = 0; i < len; i++) buf[pos + i] = v.charCodeAt(i)
      return pos + len
    }
    return pos + buf.write(v, pos, len, 'utf8')
  }
  buf.set(v!, pos)
  return pos + len
}

/** varlongSize is how many bytes a zigzag varlong of the safe integer `v` takes. */
function varlongSize(v: number): number {
  if (v >= -0x80000000 && v <= 0x7fffffff) return varintSize(v)
  let z = v >= 0 ? v * 2 : -v * 2 - 1
  let n = 1
  while (z >= 128) {
    z = Math.floor(z / 128)
    n++
  }
  return n
}

/** int64Number writes a safe integer as an int64 without making a bigint. */
function int64Number(w: Writer, v: number): void {
  w.int32(Math.floor(v / TWO_POW_32))
  w.uint32(v >>> 0)
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/** DecodeState is what one decodeRecordBatches call carries from batch to batch. */
interface DecodeState {
  verifyCrc: boolean
  /** budget is how many more bytes compressed batches may decompress to. */
  budget: number
  /** fields makes records in the client's shape (DecodeRecordBatchesOptions.recordFields), or null. */
  fields: { topic: string; partition: number } | null
  /** copyUncompressed is DecodeRecordBatchesOptions.copyUncompressed. */
  copyUncompressed: boolean
  /** defer is DecodeRecordBatchesOptions.deferRecords. */
  defer: boolean
  /** decompressor is DecodeRecordBatchesOptions.decompressor, or null for the built-in codecs. */
  decompressor: Decompressor | null
}

/**
 * decodeRecordBatches decodes the records of one partition of a Fetch response: v2 batches and legacy
 * message sets, in any mix. A partial trailing batch ends decoding cleanly (`truncated` is set). A
 * corrupt batch — wrong CRC, lengths that do not add up, a record count larger than its bytes could
 * hold, bad control records, or output over `maxDecompressedBytes` — throws CorruptRecordBatchError
 * (a ProtocolDecodeError) naming the batch's offset and carrying the complete batches before it.
 * Nothing is allocated from a length before the length is checked.
 */
export function decodeRecordBatches(buf: Buffer, opts?: DecodeRecordBatchesOptions): DecodedRecordBatches {
  const maxDecompressed = opts?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES
  if (!Number.isSafeInteger(maxDecompressed) || maxDecompressed < 0) {
    throw new RangeError(`maxDecompressedBytes must be a non-negative integer, got ${String(maxDecompressed)}`)
  }
  const state: DecodeState = { verifyCrc: opts?.verifyCrc ?? true, budget: maxDecompressed, fields: opts?.recordFields ?? null, copyUncompressed: opts?.copyUncompressed === true, defer: opts?.deferRecords === true, decompressor: opts?.decompressor ?? null }
  const out = [] as unknown as DecodedRecordBatches
  out.truncated = false
  out.viewsInput = false
  try {
    decodeAll(buf, state, out)
  } catch (err) {
    if (err instanceof CorruptRecordBatchError) err.decoded = out.slice()
    throw err
  }
  return out
}

/** BatchesScan is what the headers and checksums of fetched v2 record batches tell without decoding them (scanRecordBatches). */
export interface BatchesScan {
  /** next is one past the last offset of the whole batches ending at or after `from`; `from` when none do. */
  next: bigint
  /** leaderEpoch is the partition leader epoch of the last such batch, -1 with none. */
  leaderEpoch: number
  /** records counts the records those batches declare (control records, and any before `from`, included). */
  records: number
  /**
   * exact is false when the scan met something only decoding can judge (a legacy message set, a size
   * too small for a v2 batch): `next` then stops short, before it, and no checksum after it was checked.
   */
  exact: boolean
  /** corrupt is true when the scan stopped at a batch whose CRC-32C does not match: `next` is that batch's. */
  corrupt: boolean
}

/**
 * scanRecordBatches reads the headers of the record batches in `buf` (as a fetch returns them,
 * possibly ending in a partial batch) and checks each whole batch's CRC-32C, and says where the next
 * fetch starts: what decodeRecordBatches would make of the offsets, without decompressing or
 * decoding records. When it is exact and not corrupt, every whole batch's checksum matched, and
 * decoding need not check them again (`verifyCrc: false`). With `verifyCrc` false no checksum is
 * checked and `corrupt` is never set (a consumer's disableFetchCRCValidation).
 */
export function scanRecordBatches(buf: Buffer, from: bigint, verifyCrc = true): BatchesScan {
  const end = buf.length
  let next = from
  let leaderEpoch = -1
  let records = 0
  let pos = 0
  while (end - pos >= RECORD_BATCH_OVERHEAD) {
    const size = buf.readInt32BE(pos + LENGTH_OFFSET)
    if (buf[pos + MAGIC_OFFSET] !== 2 || size < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) return { next, leaderEpoch, records, exact: false, corrupt: false }
    if (size > end - pos - LOG_OVERHEAD) break
    const batchEnd = pos + LOG_OVERHEAD + size
    if (verifyCrc && crc32c(buf, pos + ATTRIBUTES_OFFSET, batchEnd) !== buf.readUInt32BE(pos + CRC_OFFSET)) return { next, leaderEpoch, records, exact: true, corrupt: true }
    const last = buf.readBigInt64BE(pos) + BigInt(buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET))
    if (last >= next) {
      next = last + 1n
      const epoch = buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET)
      if (epoch >= 0) leaderEpoch = epoch
      records += Math.max(0, buf.readInt32BE(pos + RECORDS_COUNT_OFFSET))
    }
    pos = batchEnd
  }
  return { next, leaderEpoch, records, exact: true, corrupt: false }
}

function decodeAll(buf: Buffer, state: DecodeState, out: DecodedRecordBatches): void {
  const end = buf.length
  let pos = 0
  while (pos < end) {
    const remaining = end - pos
    if (remaining < LOG_OVERHEAD) {
      out.truncated = true
      break
    }
    const size = buf.readInt32BE(pos + LENGTH_OFFSET)
    if (size < LEGACY_MIN_SIZE_V0) {
      throw corrupt(buf, pos, `size ${size} is smaller than any batch or message`)
    }
    if (remaining < MAGIC_OFFSET + 1) {
      out.truncated = true
      break
    }
    const magic = buf.readInt8(pos + MAGIC_OFFSET)
    if (magic < 0 || magic > 2) throw corrupt(buf, pos, `unknown magic ${magic}`)
    if (size > remaining - LOG_OVERHEAD) {
      out.truncated = true
      break
    }
    const batchEnd = pos + LOG_OVERHEAD + size
    const b = magic === 2 ? decodeBatchV2(buf, pos, batchEnd, state) : decodeLegacy(buf, pos, batchEnd, magic, state)
    // Records view `buf` where they were not decoded from a copy: decodeBatchV2 and decodeLegacy.
    if (b.compression === 0 && (magic < 2 || !state.copyUncompressed) && (b.records.length > 0 || (b.deferred?.count ?? 0) > 0)) out.viewsInput = true
    out.push(b)
    pos = batchEnd
  }
}

function corrupt(buf: Buffer, start: number, why: string, cause?: unknown): CorruptRecordBatchError {
  const offset = buf.length - start >= 8 ? buf.readBigInt64BE(start) : -1n
  return new CorruptRecordBatchError(`corrupt record batch at offset ${offset} (byte ${start} of the fetched records): ${why}`, offset, cause)
}

/**
 * readProducerId reads a batch's producer id, giving the one bigint -1n for the batches of producers
 * that are neither idempotent nor transactional instead of a new bigint per batch.
 */
function readProducerId(buf: Buffer, at: number): bigint {
  return buf.readInt32BE(at) === -1 && buf.readInt32BE(at + 4) === -1 ? -1n : buf.readBigInt64BE(at)
}

/** readInt64Number reads an int64 as a number (exact up to 2^53 in magnitude: timestamps). */
function readInt64Number(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4)
}

function decodeBatchV2(buf: Buffer, start: number, end: number, state: DecodeState): RecordBatch {
  if (end - start < RECORD_BATCH_OVERHEAD) {
    throw corrupt(buf, start, `${end - start} bytes cannot hold a v2 batch header (${RECORD_BATCH_OVERHEAD})`)
  }
  const crc = buf.readUInt32BE(start + CRC_OFFSET)
  if (state.verifyCrc) {
    const computed = crc32c(buf, start + ATTRIBUTES_OFFSET, end)
    if (computed !== crc) throw corrupt(buf, start, `CRC-32C mismatch: stored ${crc}, computed ${computed}`)
  }
  const baseOffset = buf.readBigInt64BE(start)
  const attributes = buf.readInt16BE(start + ATTRIBUTES_OFFSET)
  const compression = attributes & COMPRESSION_MASK
  if (compression > 4) throw corrupt(buf, start, `unknown compression codec ${compression}`)
  const isLogAppend = (attributes & TIMESTAMP_TYPE_FLAG) !== 0
  const isControl = (attributes & CONTROL_FLAG) !== 0
  const baseTimestamp = readInt64Number(buf, start + BASE_TIMESTAMP_OFFSET)
  const maxTimestamp = readInt64Number(buf, start + MAX_TIMESTAMP_OFFSET)
  const count = buf.readInt32BE(start + RECORDS_COUNT_OFFSET)
  if (count < 0) throw corrupt(buf, start, `negative record count ${count}`)

  let data = buf
  let dataStart = start + RECORD_BATCH_OVERHEAD
  let dataEnd = end
  // copyFrom..copyEnd is what is still to be copied of a batch copied in runs (copyUncompressed).
  let copyFrom = -1
  let copyEnd = -1
  if (compression === 0) {
    if (count * MIN_RECORD_SIZE > dataEnd - dataStart) {
      throw corrupt(buf, start, `${count} records cannot fit in ${dataEnd - dataStart} bytes`)
    }
    if (state.copyUncompressed) {
      // The records are copied in runs (the whole batch when it is small), each as the loop below
      // reaches it, and decoded from the copies.
      copyFrom = dataStart
      copyEnd = dataEnd
      data = EMPTY_BUFFER
      dataStart = 0
      dataEnd = 0
    }
  } else if (count > 0 || dataEnd > dataStart) {
    // A count that could not fit in the budget fails before anything is decompressed.
    if (count * MIN_RECORD_SIZE > state.budget) {
      throw corrupt(buf, start, `${count} records would exceed maxDecompressedBytes (${state.budget} bytes left)`)
    }
    data = decompressRecords(buf, start, compression as CompressionCodec, buf.subarray(dataStart, dataEnd), state)
    dataStart = 0
    dataEnd = data.length
    if (count * MIN_RECORD_SIZE > dataEnd) {
      throw corrupt(buf, start, `${count} records cannot fit in ${dataEnd} decompressed bytes`)
    }
  }

  const partitionLeaderEpoch = buf.readInt32BE(start + PARTITION_LEADER_EPOCH_OFFSET)
  const producerId = readProducerId(buf, start + PRODUCER_ID_OFFSET)
  const producerEpoch = buf.readInt16BE(start + PRODUCER_EPOCH_OFFSET)
  // Every record is checked first (checkRecord), while its bytes are gathered in runs: the copies of
  // an uncompressed batch, or the one range it or its decompressed bytes hold. The records are then
  // made from the runs (makeRecords), or, deferred, kept as the runs.
  const runs: Buffer[] = []
  let lastDelta = -1
  let minDelta = count > 0 ? 0x7fffffff : 0
  if (copyFrom < 0 && dataEnd > dataStart) runs.push(data === buf ? buf.subarray(dataStart, dataEnd) : data)
  const r = new Reader(data, dataStart, dataEnd)
  // runBase turns the reader's positions into bytes from the start of the records: negative while it
  // reads `buf` itself, the bytes before the run being read when the batch is copied in runs.
  let runBase = data === buf ? -(start + RECORD_BATCH_OVERHEAD) : 0
  for (let i = 0; i < count; i++) {
    if (copyFrom >= 0 && r.pos === r.end) {
      const to = copyRunEnd(buf, copyFrom, copyEnd)
      // Runs under 4 KiB come from Node's Buffer pool.
      const run = Buffer.allocUnsafe(to - copyFrom)
      buf.copy(run, 0, copyFrom, to)
      runBase = copyFrom - (start + RECORD_BATCH_OVERHEAD)
      r.buf = run
      r.pos = 0
      r.end = run.length
      copyFrom = to
      runs.push(run)
    }
    lastDelta = checkRecord(r)
    if (lastDelta < minDelta) minDelta = lastDelta
    if (r.failure !== null) {
      // Bytes from the start of the (decompressed) records, not Kafka offsets.
      throw corrupt(buf, start, `record ${i}: ${r.failure.replace(/ at offset (\d+)$/, (_, at: string) => ` at byte ${Number(at) + runBase} of the records`)}`)
    }
  }
  const left = copyFrom >= 0 ? copyEnd - copyFrom + r.end - r.pos : dataEnd - r.pos
  if (left !== 0) throw corrupt(buf, start, `${left} bytes left after ${count} records`)

  const defer = state.defer && !isControl
  const records: BatchRecord[] = []
  if (!defer) makeRecords(runs, baseOffset, baseTimestamp, isLogAppend, maxTimestamp, state.fields, partitionLeaderEpoch, producerId, producerEpoch, null, (rec) => records.push(rec))
  const batch: RecordBatch = {
    baseOffset,
    batchLength: end - start - LOG_OVERHEAD,
    partitionLeaderEpoch,
    magic: 2,
    crc,
    attributes,
    compression: compression as RecordCompression,
    timestampType: isLogAppend ? 'log-append' : 'create',
    isTransactional: (attributes & TRANSACTIONAL_FLAG) !== 0,
    isControl,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG) !== 0,
    lastOffsetDelta: buf.readInt32BE(start + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    baseSequence: buf.readInt32BE(start + BASE_SEQUENCE_OFFSET),
    records,
    control: isControl && records.length > 0 ? controlMarker(buf, start, records[0]!) : null,
  }
  if (defer) batch.deferred = { runs, count, lastDelta, minDelta }
  return batch
}

/**
 * COPY_CHUNK bounds the copies decoding with copyUncompressed makes: a batch of more bytes is copied
 * in runs of whole records of at most this many (a record larger than it is a run of its own), so a
 * record kept alive keeps little else alive, and the copies stay small enough for V8 to free them
 * in its young-generation collections.
 */
const COPY_CHUNK = 64 << 10

const EMPTY_BUFFER = Buffer.alloc(0)

/**
 * copyRunEnd returns where the run of whole records starting at `from` ends: `end` when the rest fits
 * in COPY_CHUNK bytes, else after as many records as fit (at least one), read by their length
 * prefixes alone. A length that is malformed or runs past `end` ends the walk at `end`, leaving
 * decoding to report it.
 */
function copyRunEnd(buf: Buffer, from: number, end: number): number {
  if (end - from <= COPY_CHUNK) return end
  let p = from
  while (p < end) {
    let u = 0
    let shift = 0
    let q = p
    let b: number
    do {
      if (q >= end || shift > 28) return end
      b = buf[q++]!
      u |= (b & 0x7f) << shift
      shift += 7
    } while ((b & 0x80) !== 0)
    const len = (u >>> 1) ^ -(u & 1)
    if (len < 0 || len > end - q) return end
    const next = q + len
    if (next - from > COPY_CHUNK && p > from) return p
    p = next
  }
  return end
}

function decompressRecords(buf: Buffer, start: number, codec: CompressionCodec, compressed: Buffer, state: DecodeState): Buffer {
  let data: Buffer
  try {
    data = decompress(codec, compressed, { maxOutputBytes: state.budget, decompressor: state.decompressor })
  } catch (err) {
    throw corrupt(buf, start, `cannot decompress (codec ${codec}): ${(err as Error).message}`, err)
  }
  state.budget -= data.length
  return data
}

/**
 * checkRecord checks one v2 record, failing the reader with what is wrong at the byte where it is
 * found, and makes nothing (no views, no strings, no object); it returns the record's offset delta.
 * The reader's end is narrowed to the record's declared length while its fields are read, so a record
 * can never read into the next one. Every record is checked before makeRecords makes it.
 */
function checkRecord(r: Reader): number {
  const length = r.varint()
  const outerEnd = r.end
  if (r.failure !== null) return -1
  if (length < MIN_RECORD_SIZE - 1) {
    r.fail(`record length ${length} is below the minimum of ${MIN_RECORD_SIZE - 1}`)
    return -1
  }
  if (length > outerEnd - r.pos) {
    r.fail(`record length ${length} does not fit in the ${outerEnd - r.pos} bytes left`)
    return -1
  }
  const recordEnd = r.pos + length
  r.end = recordEnd
  r.int8() // attributes: unused
  r.varlongNumber() // timestampDelta
  const offsetDelta = r.varint()
  r.skipVarintBytes() // key
  r.skipVarintBytes() // value
  const n = r.varint()
  if (n < 0 || n * 2 > r.remaining()) {
    r.fail(`${n} headers cannot fit in ${r.remaining()} bytes`)
  } else {
    for (let i = 0; i < n; i++) {
      const keyLength = r.skipVarintBytes('string')
      r.skipVarintBytes()
      if (keyLength === -1) r.fail('null header key')
      if (r.failure !== null) break
    }
  }
  if (r.failure === null && r.pos !== recordEnd) r.fail(`record declares ${length} bytes but uses ${length - (recordEnd - r.pos)}`)
  r.end = outerEnd
  if (r.failure !== null) r.pos = outerEnd
  return offsetDelta
}

/**
 * makeRecords makes the records in `runs` (whole records that checkRecord passed, so nothing is
 * checked again: each is read field by field and the reader left at its end), in order, and calls
 * `fn` with each whose offset is at least `from` (every one with null); one before `from` is stepped
 * over before anything of it is made. A log-append-time batch gives every record its `maxTimestamp`.
 */
function makeRecords(
  runs: readonly Buffer[],
  baseOffset: bigint,
  baseTimestamp: number,
  isLogAppend: boolean,
  maxTimestamp: number,
  fields: { topic: string; partition: number } | null,
  leaderEpoch: number,
  producerId: bigint,
  producerEpoch: number,
  from: bigint | null,
  fn: (r: BatchRecord) => void,
): void {
  for (let k = 0; k < runs.length; k++) {
    const r = new Reader(runs[k]!)
    while (r.pos < r.end) {
      const length = r.varint()
      const recordEnd = r.pos + length
      r.pos++ // attributes: unused
      const timestampDelta = r.varlongNumber()
      const offsetDelta = r.varint()
      const offset = baseOffset + (offsetDelta >= 0 && offsetDelta < SMALL_BIGINTS.length ? SMALL_BIGINTS[offsetDelta]! : BigInt(offsetDelta))
      if (from !== null && offset < from) {
        r.pos = recordEnd
        continue
      }
      const key = r.varintBytes()
      const value = r.varintBytes()
      const n = r.varint()
      const headers: RecordHeader[] = []
      for (let i = 0; i < n; i++) headers.push({ key: headerKey(r)!, value: r.varintBytes() })
      r.pos = recordEnd
      const timestamp = isLogAppend ? maxTimestamp : baseTimestamp + timestampDelta
      if (fields !== null) {
        // The client's Record, property for property in the order the client makes them elsewhere,
        // so every record object shares one hidden class.
        const rec: BatchRecord & ClientRecordFields = { topic: fields.topic, partition: fields.partition, key, value, headers, timestamp, offset, leaderEpoch, producerId, producerEpoch }
        fn(rec)
      } else fn({ offset, timestamp, key, value, headers })
    }
  }
}

/**
 * forEachDeferredRecord makes the records of a batch decoded with `deferRecords` (nothing for any
 * other batch), in offset order, and calls `fn` with each (each whose offset is at least `from`, if given). `fields`
 * shapes them as DecodeRecordBatchesOptions.recordFields does. Decoding checked every record already.
 */
export function forEachDeferredRecord(b: RecordBatch, fields: { topic: string; partition: number } | null, from: bigint | null, fn: (r: BatchRecord) => void): void {
  const d = b.deferred
  if (d === undefined) return
  makeRecords(d.runs, b.baseOffset, b.baseTimestamp, b.timestampType === 'log-append', b.maxTimestamp, fields, b.partitionLeaderEpoch, b.producerId, b.producerEpoch, from, fn)
}

/** SMALL_BIGINTS are the offset deltas of most batches as bigints, made once instead of per record. */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i))

/**
 * Header keys repeat from record to record (`traceparent`, an application's few names), so short
 * ASCII keys are interned: a key's bytes are hashed and compared with the string last decoded into
 * its slot, and a match returns that string, with no native call and no new string per record. A
 * slot holds the latest key hashed to it; a collision only costs a decode.
 */
const KEY_SLOTS = 256
const MAX_INTERNED_KEY = 32
const internedKeys: Array<string | undefined> = new Array<string | undefined>(KEY_SLOTS).fill(undefined)

/** headerKey reads a header key (a varint-length string, never null in a valid record). */
function headerKey(r: Reader): string | null {
  const buf = r.buf
  const at = r.pos
  // The usual case: a one-byte length (a key under 64 bytes) and the key's bytes all present.
  const lb = at < r.end ? buf[at]! : 0x80
  const len = lb >>> 1
  if (lb >= 0x80 || (lb & 1) !== 0 || len > MAX_INTERNED_KEY || len > r.end - at - 1) return r.varintString()
  const start = at + 1
  const end = start + len
  let h = len
  for (let i = start; i < end; i++) {
    const c = buf[i]!
    if (c >= 0x80) return r.varintString()
    h = (Math.imul(h, 31) + c) | 0
  }
  const slot = (h ^ (h >>> 16)) & (KEY_SLOTS - 1)
  const cached = internedKeys[slot]
  r.pos = end
  if (cached !== undefined && cached.length === len) {
    let same = true
    for (let i = 0; i < len; i++) {
      if (cached.charCodeAt(i) !== buf[start + i]) {
        same = false
        break
      }
    }
    if (same) return cached
  }
  const key = buf.toString('latin1', start, end)
  internedKeys[slot] = key
  return key
}


/**
 * controlMarker reads a control record: its key is a version (int16) and a type (int16); the value of
 * a commit or abort marker is a version (int16) and the coordinator epoch (int32). Versions above the
 * known 0 are read as 0, as the Java client does.
 */
function controlMarker(buf: Buffer, start: number, rec: BatchRecord): ControlMarker {
  const key = rec.key
  if (key === null || key.length < 4) throw corrupt(buf, start, `control record key has ${key?.length ?? 'no'} bytes, need 4`)
  if (key.readInt16BE(0) < 0) throw corrupt(buf, start, `control record key version ${key.readInt16BE(0)}`)
  const typeId = key.readInt16BE(2)
  if (typeId !== 0 && typeId !== 1) return { type: typeId, coordinatorEpoch: -1 }
  const value = rec.value
  if (value === null || value.length < 6) throw corrupt(buf, start, `transaction marker value has ${value?.length ?? 'no'} bytes, need 6`)
  if (value.readInt16BE(0) < 0) throw corrupt(buf, start, `transaction marker version ${value.readInt16BE(0)}`)
  return { type: typeId === 0 ? 'abort' : 'commit', coordinatorEpoch: value.readInt32BE(2) }
}

/**
 * decodeLegacy reads one magic 0 or 1 message: offset int64 | size int32 | crc uint32 | magic int8 |
 * attributes int8 | [timestamp int64, magic 1] | key bytes | value bytes, with a CRC-32 over magic
 * through value. A compressed message is a wrapper whose value is a compressed message set; with
 * magic 1 the inner offsets are relative and the wrapper carries the offset of the last one.
 */
function decodeLegacy(buf: Buffer, start: number, end: number, magic: number, state: DecodeState): RecordBatch {
  const offset = buf.readBigInt64BE(start)
  const msg = readLegacyMessage(buf, start, end, magic, state.verifyCrc)
  if (typeof msg === 'string') throw corrupt(buf, start, msg)
  const compression = msg.attributes & COMPRESSION_MASK
  const timestampType = magic === 0 ? 'none' : (msg.attributes & TIMESTAMP_TYPE_FLAG) !== 0 ? 'log-append' : 'create'
  let records: BatchRecord[]
  if (compression === 0) {
    records = [{ offset, timestamp: msg.timestamp, key: msg.key, value: msg.value, headers: [] }]
  } else {
    if (compression > 3) throw corrupt(buf, start, `compression codec ${compression} is not valid in a magic ${magic} message`)
    if (msg.value === null) throw corrupt(buf, start, 'compressed message has a null value')
    const inner = decompressRecords(buf, start, compression as CompressionCodec, msg.value, state)
    records = readInnerMessages(buf, start, inner, magic, state.verifyCrc, timestampType === 'log-append' ? msg.timestamp : -1)
    if (magic === 1) {
      // Inner offsets are relative: the wrapper holds the absolute offset of the last inner message.
      // A wrapper offset of 0 comes from some librdkafka versions' produce requests; Java reads those
      // as relative to 0, and so do we.
      const lastInner = records[records.length - 1]!.offset
      if (offset !== 0n && offset < lastInner) {
        throw corrupt(buf, start, `wrapper offset ${offset} is below the last inner offset ${lastInner}`)
      }
      const base = offset === 0n ? 0n : offset - lastInner
      for (let i = 0; i < records.length; i++) records[i]!.offset += base
    }
  }
  // Legacy sets are rare (data older than Kafka 0.11): their records get the client's shape by a copy.
  const fields = state.fields
  if (fields !== null) {
    records = records.map((br) => {
      const rec: BatchRecord & ClientRecordFields = { topic: fields.topic, partition: fields.partition, key: br.key, value: br.value, headers: br.headers, timestamp: br.timestamp, offset: br.offset, leaderEpoch: -1, producerId: -1n, producerEpoch: -1 }
      return rec
    })
  }
  const first = records[0]!.offset
  return {
    baseOffset: first,
    batchLength: end - start - LOG_OVERHEAD,
    partitionLeaderEpoch: -1,
    magic,
    crc: msg.crc,
    attributes: msg.attributes,
    compression: compression as RecordCompression,
    timestampType,
    isTransactional: false,
    isControl: false,
    hasDeleteHorizon: false,
    lastOffsetDelta: Number(records[records.length - 1]!.offset - first),
    baseTimestamp: msg.timestamp,
    maxTimestamp: msg.timestamp,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    records,
    control: null,
  }
}

interface LegacyMessage {
  crc: number
  attributes: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
}

/** readLegacyMessage reads the message in `buf[start, end)` (offset and size included); a string is the reason it is corrupt. */
function readLegacyMessage(buf: Buffer, start: number, end: number, magic: number, verifyCrc: boolean): LegacyMessage | string {
  const size = end - start - LOG_OVERHEAD
  if (size < (magic === 0 ? LEGACY_MIN_SIZE_V0 : LEGACY_MIN_SIZE_V1)) return `message size ${size} is below the magic ${magic} minimum`
  const crc = buf.readUInt32BE(start + LOG_OVERHEAD)
  if (verifyCrc) {
    const computed = crc32(buf, start + MAGIC_OFFSET, end)
    if (computed !== crc) return `CRC-32 mismatch: stored ${crc}, computed ${computed}`
  }
  // The size check above guarantees the fixed fields are there; the reader checks key and value.
  const attributes = buf.readInt8(start + MAGIC_OFFSET + 1)
  const timestamp = magic === 0 ? -1 : readInt64Number(buf, start + MAGIC_OFFSET + 2)
  const r = new Reader(buf, start + MAGIC_OFFSET + (magic === 0 ? 2 : 10), end)
  const key = r.bytes()
  const value = r.bytes()
  if (r.failure !== null) return r.failure
  if (r.pos !== end) return `${end - r.pos} bytes left after the message value`
  return { crc, attributes, timestamp, key, value }
}

/**
 * readInnerMessages reads the message set inside a legacy wrapper. Inner messages must have the
 * wrapper's magic and no compression of their own. `logAppendTime` (>= 0) replaces their timestamps.
 */
function readInnerMessages(buf: Buffer, start: number, inner: Buffer, magic: number, verifyCrc: boolean, logAppendTime: number): BatchRecord[] {
  const records: BatchRecord[] = []
  const end = inner.length
  let pos = 0
  while (pos < end) {
    if (end - pos < LOG_OVERHEAD + 5) throw corrupt(buf, start, `inner message set ends with ${end - pos} stray bytes`)
    const size = inner.readInt32BE(pos + LENGTH_OFFSET)
    if (size < LEGACY_MIN_SIZE_V0 || size > end - pos - LOG_OVERHEAD) {
      throw corrupt(buf, start, `inner message size ${size} does not fit in ${end - pos - LOG_OVERHEAD} bytes`)
    }
    const innerMagic = inner.readInt8(pos + MAGIC_OFFSET)
    if (innerMagic !== magic) throw corrupt(buf, start, `inner message magic ${innerMagic} differs from the wrapper's ${magic}`)
    const msgEnd = pos + LOG_OVERHEAD + size
    const msg = readLegacyMessage(inner, pos, msgEnd, magic, verifyCrc)
    if (typeof msg === 'string') throw corrupt(buf, start, `inner message ${records.length}: ${msg}`)
    if ((msg.attributes & COMPRESSION_MASK) !== 0) throw corrupt(buf, start, 'inner messages must not be compressed')
    records.push({
      offset: inner.readBigInt64BE(pos),
      timestamp: logAppendTime >= 0 ? logAppendTime : msg.timestamp,
      key: msg.key,
      value: msg.value,
      headers: [],
    })
    pos = msgEnd
  }
  if (records.length === 0) throw corrupt(buf, start, 'compressed message holds no inner messages')
  return records
}
