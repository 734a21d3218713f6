/**
 * Record-batch compression: Kafka's four codecs behind one synchronous `compress` / `decompress` pair.
 *
 * The producer compresses a batch on its hot path and the consumer decompresses one per fetched batch,
 * so everything here is synchronous: a promise per batch would cost more than the fast codecs themselves
 * (lz4 decompresses a 1 MiB batch in well under a millisecond). Each codec's package is loaded on first
 * use, so a client that never sees zstd never loads its binary, and a platform without one of the
 * prebuilt binaries loses only that codec, with a CompressionError that names the package.
 *
 * Decompression is bounded: fetch limits bound only the compressed bytes on the wire, and a few
 * kilobytes of hostile (or corrupt) batch can claim gigabytes. Every codec checks its output against
 * `maxOutputBytes` before it allocates, not after.
 */
import { KafkaWireError } from '../errors.js'
import { constants as bufferConstants } from 'node:buffer'
import { createRequire } from 'node:module'
import { compressGzip, decompressGzip } from './gzip.js'
import { compressSnappy, compressSnappyInto, decompressSnappy } from './snappy.js'
import { compressLz4, compressLz4Into, decompressLz4 } from './lz4.js'
import type { Writer } from '../writer.js'
import { compressZstd, decompressZstd } from './zstd.js'

/** CompressionCodec is a codec id as Kafka writes it in a batch's attributes: 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
export type CompressionCodec = 1 | 2 | 3 | 4

/** CompressionCodecName names a codec as Kafka's `compression.type` config does. */
export type CompressionCodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd'

/**
 * DEFAULT_MAX_DECOMPRESSED_BYTES (256 MiB) is how large one batch may decompress to unless the caller
 * says otherwise. Real batches are a few MiB at most (Java's max.request.size defaults to 1 MiB, and
 * brokers' message.max.bytes to about 1 MiB of compressed data), so this leaves room for topics
 * configured for large messages at high compression ratios while keeping a bomb to a bounded, survivable
 * allocation. franz-go caps at 2 GiB (int32 max); we pick lower because a Node process usually runs with
 * a far smaller heap than a Go one.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024

/** CompressOptions tunes {@link compress}. */
export interface CompressOptions {
  /**
   * level is the codec's compression level: gzip 1–9 (default 6, zlib's default, which Java's -1 also
   * means), zstd 1–22 and negative fast levels (default 3, as Java's). Ignored by snappy and lz4, which
   * have no levels in the packages used (Java's lz4 default, level 9, is also its fast compressor).
   */
  level?: number
  /** compressor, when given, compresses instead of the built-in codecs (and `level` is its business). */
  compressor?: Compressor | null
}

/** DecompressOptions tunes {@link decompress}. */
export interface DecompressOptions {
  /**
   * maxOutputBytes bounds the decompressed size; a batch that would exceed it fails with a
   * CompressionError before the output is allocated. Default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}.
   */
  maxOutputBytes?: number
  /** decompressor, when given, decompresses instead of the built-in codecs; its output is checked against maxOutputBytes. */
  decompressor?: Decompressor | null
}

/**
 * CompressionError reports a batch that cannot be compressed or decompressed: corrupt or truncated
 * input, an unsupported variant of a format, output over `maxOutputBytes`, or a codec whose package
 * failed to load. Not retriable: the same bytes fail the same way.
 */
export class CompressionError extends KafkaWireError {
  /** codec is the codec that failed, when known. */
  readonly codec: CompressionCodecName | undefined

  constructor(message: string, options: { cause?: unknown; codec?: CompressionCodecName } = {}) {
    super(message, { code: 'COMPRESSION_ERROR', retriable: false, cause: options.cause })
    this.codec = options.codec
  }
}

const names = [undefined, 'gzip', 'snappy', 'lz4', 'zstd'] as const

/**
 * codecName returns the name of a codec id (0 is 'none'); it throws CompressionError for ids Kafka does
 * not define (the attributes field has room for 0–7).
 */
export function codecName(id: number): CompressionCodecName | 'none' {
  if (id === 0) return 'none'
  const name = names[id]
  if (name === undefined) throw new CompressionError(`unknown compression codec id ${id}`)
  return name
}

/** codecId returns the id Kafka writes in a batch's attributes for a codec name; 'none' is 0. */
export function codecId(name: CompressionCodecName | 'none'): 0 | CompressionCodec {
  switch (name) {
    case 'none': return 0
    case 'gzip': return 1
    case 'snappy': return 2
    case 'lz4': return 3
    case 'zstd': return 4
    default: throw new CompressionError(`unknown compression codec name ${JSON.stringify(name)}`)
  }
}

/**
 * compress compresses a batch's records section with a codec, in the format the Java client writes:
 * a gzip member, xerial-framed snappy in 32 KiB blocks, an LZ4 frame of independent 64 KiB blocks, or a
 * zstd frame. The result never shares memory with `data` (with a `compressor`, it is what that returned).
 */
export function compress(codec: CompressionCodec, data: Uint8Array, options?: CompressOptions): Buffer {
  const custom = options?.compressor
  if (custom) {
    const name = codecName(codec) as CompressionCodecName
    return hookOutput(custom.compress(data, name), 'compressor', name)
  }
  const level = options?.level
  switch (codec) {
    case 1: return compressGzip(data, level)
    case 2: return compressSnappy(data)
    case 3: return compressLz4(data)
    case 4: return compressZstd(data, level)
    default: throw new CompressionError(`cannot compress with codec id ${String(codec)}`)
  }
}

/**
 * Compressor compresses produced batches in place of the built-in codecs (franz-go's WithCompressor):
 * another package, a level or dictionary of your own, your own memory. The codec is still the one
 * `producerBatchCompression` names; the output must be what Kafka's readers expect of it (a gzip
 * member, xerial-framed or raw snappy, an LZ4 frame, a zstd frame).
 */
export interface Compressor {
  /**
   * compress returns `data` (a batch's records, encoded) compressed with `codec`. It runs on the
   * producer's hot path, once per batch, synchronously. The result is copied into the request before
   * the next call, so it may be a buffer the compressor reuses. Throwing fails the batch's records.
   */
  compress(data: Uint8Array, codec: CompressionCodecName): Uint8Array
}

/**
 * Decompressor decompresses fetched batches in place of the built-in codecs (franz-go's
 * WithDecompressor).
 */
export interface Decompressor {
  /**
   * decompress returns `data` (a batch's compressed records) decompressed. It must not produce more
   * than `maxOutputBytes` (throw instead: the bound is what keeps a hostile batch from taking the
   * process's memory); a longer result is refused as corrupt anyway. The records made from the result
   * view it for as long as the application keeps them, so it must be new memory on every call, not
   * a buffer reused. Throwing marks the batch corrupt, with the error as the cause.
   */
  decompress(data: Uint8Array, codec: CompressionCodecName, maxOutputBytes: number): Uint8Array
}

/**
 * compressInto writes what `compress` returns at `w`'s position. Snappy and LZ4 write their frames
 * straight into `w`; gzip's and zstd's output (one buffer from their packages) is copied in.
 */
export function compressInto(codec: CompressionCodec, data: Uint8Array, w: Writer, options?: CompressOptions): void {
  if (options?.compressor) w.raw(compress(codec, data, options))
  else if (codec === 3) compressLz4Into(data, w)
  else if (codec === 2) compressSnappyInto(data, w)
  else w.raw(compress(codec, data, options))
}

/**
 * decompress decompresses a batch's records section. It accepts what any Kafka client writes: gzip
 * (concatenated members too), snappy raw or xerial-framed, LZ4 frames (including the pre-KIP-57 header
 * checksum of old clients), and zstd frames with or without a content size. The result is a fresh
 * Buffer. Throws CompressionError for corrupt input or output over `maxOutputBytes`.
 */
export function decompress(codec: CompressionCodec, data: Uint8Array, options?: DecompressOptions): Buffer {
  const max = maxOutput(options?.maxOutputBytes)
  const custom = options?.decompressor
  if (custom) {
    const name = codecName(codec) as CompressionCodecName
    const out = hookOutput(custom.decompress(data, name, max), 'decompressor', name)
    if (out.length > max) throw new CompressionError(`${name}: the decompressor returned ${out.length} bytes, over maxOutputBytes (${max})`, { codec: name })
    if (out.buffer === data.buffer && out.byteOffset < data.byteOffset + data.byteLength && data.byteOffset < out.byteOffset + out.byteLength) {
      throw new CompressionError(`${name}: the decompressor returned memory shared with its input`, { codec: name })
    }
    return out
  }
  switch (codec) {
    case 1: return decompressGzip(data, max)
    case 2: return decompressSnappy(data, max)
    case 3: return decompressLz4(data, max)
    case 4: return decompressZstd(data, max)
    default: throw new CompressionError(`cannot decompress codec id ${String(codec)}`)
  }
}

/** codecImplementation describes what carries out a codec (package and framing), for benchmarks and logs. */
export function codecImplementation(codec: CompressionCodec): string {
  switch (codec) {
    case 1: return 'node:zlib'
    case 2: return 'snappy (napi-rs), xerial framing, 32 KiB blocks'
    case 3: return 'lz4-napi blocks in our LZ4 frame, 64 KiB independent blocks'
    case 4: return '@toondepauw/node-zstd (napi-rs)'
    default: throw new CompressionError(`unknown compression codec id ${String(codec)}`)
  }
}

function maxOutput(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_DECOMPRESSED_BYTES
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${String(value)}`)
  }
  // No Buffer can be larger than this anyway; clamping keeps the codecs' arithmetic in range.
  return Math.min(value, bufferConstants.MAX_LENGTH)
}

const require = createRequire(import.meta.url)

/**
 * loadCodecPackage requires a codec's package on first use (internal to the codec modules). A failure
 * becomes a CompressionError naming the package, e.g. on a platform none of its prebuilt binaries fit.
 */
export function loadCodecPackage<T>(pkg: string, codec: CompressionCodecName): T {
  try {
    return require(pkg) as T
  } catch (cause) {
    throw new CompressionError(`${codec} needs the package ${pkg}, which failed to load: ${(cause as Error).message}`, {
      cause,
      codec,
    })
  }
}

/** hookOutput checks what an application's compressor or decompressor returned, and views it as a Buffer. */
function hookOutput(out: unknown, hook: 'compressor' | 'decompressor', codec: CompressionCodecName): Buffer {
  if (!(out instanceof Uint8Array)) throw new CompressionError(`the ${hook} returned ${typeof out}, not a Uint8Array`, { codec })
  return asBuffer(out)
}

/** asBuffer views a Uint8Array as a Buffer over the same memory (internal: the N-API packages want Buffers). */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}
