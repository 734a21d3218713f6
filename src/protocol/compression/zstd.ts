/**
 * zstd (codec 4) through `@toondepauw/node-zstd` (napi-rs over libzstd, prebuilt, synchronous).
 *
 * The package decodes frames with or without a content size in the header (Java's zstd-jni streaming
 * output has none) and concatenated frames, but takes no output limit. So before decoding, the frame
 * headers and block headers are walked — a few bytes per 128 KiB block — to get an upper bound on the
 * output that no bytes can exceed; a bound over `maxOutputBytes` is refused before the decoder runs.
 */
import { asBuffer, CompressionError, loadCodecPackage } from './index.js'

interface ZstdPackage {
  Encoder: new (level: number) => { encodeSync(data: Buffer): Buffer }
  Decoder: new () => { decodeSync(data: Buffer): Buffer }
}

type Encoder = InstanceType<ZstdPackage['Encoder']>
type Decoder = InstanceType<ZstdPackage['Decoder']>

let pkg: ZstdPackage | undefined
const zstd = (): ZstdPackage => (pkg ??= loadCodecPackage<ZstdPackage>('@toondepauw/node-zstd', 'zstd'))

/** DEFAULT_LEVEL is zstd's and Java's default level. */
const DEFAULT_LEVEL = 3
// Contexts are reused: creating one allocates the codec's tables, which costs more than a small batch.
const encoders = new Map<number, Encoder>()
let decoder: Decoder | undefined

const FRAME_MAGIC = 0xfd2fb528
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const BLOCK_MAX = 128 * 1024

/** compressZstd writes `data` as one zstd frame at `level` (default 3). */
export function compressZstd(data: Uint8Array, level = DEFAULT_LEVEL): Buffer {
  const z = zstd()
  let encoder = encoders.get(level)
  if (encoder === undefined) {
    try {
      encoder = new z.Encoder(level)
    } catch (cause) {
      throw new CompressionError(`zstd: cannot compress at level ${level}: ${(cause as Error).message}`, { cause, codec: 'zstd' })
    }
    encoders.set(level, encoder)
  }
  try {
    return encoder.encodeSync(asBuffer(data))
  } catch (cause) {
    throw new CompressionError(`zstd: ${(cause as Error).message}`, { cause, codec: 'zstd' })
  }
}

/** decompressZstd decodes every frame in `data`, refusing input whose output could exceed `maxOutputBytes`. */
export function decompressZstd(data: Uint8Array, maxOutputBytes: number): Buffer {
  const input = asBuffer(data)
  if (outputBound(input, maxOutputBytes) > maxOutputBytes) throw tooLarge(maxOutputBytes)
  let out: Buffer
  try {
    decoder ??= new (zstd().Decoder)()
    out = decoder.decodeSync(input)
  } catch (cause) {
    if (cause instanceof CompressionError) throw cause
    throw corrupt((cause as Error).message, cause)
  }
  // The bound makes this impossible; it stays as a guard should the walk and the decoder disagree.
  if (out.length > maxOutputBytes) throw tooLarge(maxOutputBytes)
  return out
}

/**
 * outputBound walks the frames (RFC 8878 §3.1) and returns an upper bound on what decoding them can
 * produce, stopping early once it passes `limit`. A frame that declares its content size counts that
 * size: libzstd fails a frame as soon as its output passes the declared size. A frame that does not
 * (Java's zstd-jni streams, franz-go's flushed streams) counts its blocks: raw and RLE blocks their
 * exact size, a compressed block the block maximum (the window size, capped at 128 KiB). Encoders fill
 * blocks to the maximum unless flushed, so the bound is tight for what Java writes; for a stream
 * flushed every few KiB it can run several times the real size, and such a batch within that factor of
 * `limit` is refused although it would fit: the price of a decoder that takes no output limit.
 * Structural damage found on the way (truncation, a reserved block type) is reported here.
 */
function outputBound(input: Buffer, limit: number): number {
  let bound = 0
  let at = 0
  let frames = 0
  while (at < input.length || frames === 0) {
    if (input.length - at < 4) throw corrupt('truncated frame magic')
    const magic = input.readUInt32LE(at)
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (input.length - at < 8) throw corrupt('truncated skippable frame')
      const size = input.readUInt32LE(at + 4)
      if (size > input.length - at - 8) throw corrupt('truncated skippable frame')
      at += 8 + size
      continue
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad magic 0x${magic.toString(16)}`)
    at += 4
    if (at >= input.length) throw corrupt('truncated frame header')
    const descriptor = input[at++]!
    const contentSizeFlag = descriptor >>> 6
    const singleSegment = (descriptor & 0x20) !== 0
    if ((descriptor & 0x08) !== 0) throw corrupt('reserved frame header bit set')
    const hasChecksum = (descriptor & 0x04) !== 0
    const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 0x03]!
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag]!
    let windowSize = Infinity
    if (!singleSegment) {
      if (at >= input.length) throw corrupt('truncated frame header')
      const window = input[at++]!
      const base = 2 ** (10 + (window >>> 3))
      windowSize = base + (base / 8) * (window & 0x07)
    }
    at += dictionaryIdBytes
    if (input.length - at < contentSizeBytes) throw corrupt('truncated frame header')
    let contentSize = -1
    if (contentSizeBytes === 1) contentSize = input[at]!
    else if (contentSizeBytes === 2) contentSize = input.readUInt16LE(at) + 256
    else if (contentSizeBytes === 4) contentSize = input.readUInt32LE(at)
    else if (contentSizeBytes === 8) contentSize = Number(input.readBigUInt64LE(at))
    at += contentSizeBytes
    // A declared size over the limit is refused outright: a decoder may allocate it up front.
    if (contentSize > limit - bound) return Infinity
    if (singleSegment) windowSize = contentSize
    const blockMax = Math.min(windowSize, BLOCK_MAX)
    let blocks = 0

    for (let last = false; !last; ) {
      if (input.length - at < 3) throw corrupt('truncated block header')
      const header = input[at]! | (input[at + 1]! << 8) | (input[at + 2]! << 16)
      at += 3
      last = (header & 1) !== 0
      const type = (header >>> 1) & 0x03
      const size = header >>> 3
      switch (type) {
        case 0: // raw
          blocks += size
          at += size
          break
        case 1: // RLE: one byte repeated `size` times
          blocks += size
          at += 1
          break
        case 2: // compressed
          blocks += blockMax
          at += size
          break
        default:
          throw corrupt('reserved block type')
      }
      if (at > input.length) throw corrupt('truncated block')
      if (contentSize < 0 && bound + blocks > limit) return bound + blocks
    }
    if (hasChecksum) at += 4
    if (at > input.length) throw corrupt('truncated frame checksum')
    bound += contentSize >= 0 ? contentSize : blocks
    frames++
  }
  return bound
}

function corrupt(detail: string, cause?: unknown): CompressionError {
  return new CompressionError(`zstd: corrupt input: ${detail}`, { cause, codec: 'zstd' })
}

function tooLarge(max: number): CompressionError {
  return new CompressionError(`zstd: decompressed data exceeds maxOutputBytes (${max})`, { codec: 'zstd' })
}
