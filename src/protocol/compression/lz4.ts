/**
 * lz4 (codec 3): the LZ4 frame format (magic 0x184D2204) around blocks compressed by `lz4-napi`
 * (napi-rs over lz4_flex, prebuilt). The frame is ours, the blocks are the package's: its own frame
 * functions write 4 MiB blocks, cannot bound their output, and decoded a 1 MiB batch at under half the
 * speed of this frame around its blocks (bench/micro/compression.ts).
 *
 * What we write is what Java's Lz4BlockOutputStream writes: FLG 0x60 (version 1, independent blocks, no
 * checksums, no content size), BD 0x40 (64 KiB blocks), the header checksum, blocks stored raw when
 * compressing would grow them, and the end mark. Java's reader supports only independent blocks, so
 * that flag is not a choice. We read any frame Java reads, plus content checksums, block checksums,
 * content sizes, concatenated and skippable frames, and the header checksum of pre-KIP-57 clients.
 */
import { asBuffer, CompressionError, loadCodecPackage } from './index.js'
import { Writer } from '../writer.js'

interface Lz4Package {
  /** compressSync returns a raw LZ4 block behind a 4-byte little-endian uncompressed length. */
  compressSync(data: Buffer): Buffer
  /** uncompressSync decodes such a block; the length prefix is the output capacity, not checked as exact. */
  uncompressSync(data: Uint8Array): Buffer
}

let pkg: Lz4Package | undefined
const lz4 = (): Lz4Package => (pkg ??= loadCodecPackage<Lz4Package>('lz4-napi', 'lz4'))

const P1 = 0x9e3779b1
const P2 = 0x85ebca77
const P3 = 0xc2b2ae3d
const P4 = 0x27d4eb2f
const P5 = 0x165667b1

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))
const read32 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)

/**
 * xxh32 is XXH32 (seed 0 by default) of `data[start, end)`, unsigned: the hash behind the LZ4 frame's
 * header and block checksums.
 */
export function xxh32(data: Uint8Array, start = 0, end = data.length, seed = 0): number {
  const length = end - start
  let i = start
  let acc: number
  if (length >= 16) {
    let v1 = (seed + P1 + P2) | 0
    let v2 = (seed + P2) | 0
    let v3 = seed | 0
    let v4 = (seed - P1) | 0
    const limit = end - 16
    while (i <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(read32(data, i), P2)) | 0, 13), P1)
      v2 = Math.imul(rotl((v2 + Math.imul(read32(data, i + 4), P2)) | 0, 13), P1)
      v3 = Math.imul(rotl((v3 + Math.imul(read32(data, i + 8), P2)) | 0, 13), P1)
      v4 = Math.imul(rotl((v4 + Math.imul(read32(data, i + 12), P2)) | 0, 13), P1)
      i += 16
    }
    acc = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    acc = (seed + P5) | 0
  }
  acc = (acc + length) | 0
  while (i + 4 <= end) {
    acc = Math.imul(rotl((acc + Math.imul(read32(data, i), P3)) | 0, 17), P4)
    i += 4
  }
  while (i < end) {
    acc = Math.imul(rotl((acc + Math.imul(data[i]!, P5)) | 0, 11), P1)
    i++
  }
  acc ^= acc >>> 15
  acc = Math.imul(acc, P2)
  acc ^= acc >>> 13
  acc = Math.imul(acc, P3)
  acc ^= acc >>> 16
  return acc >>> 0
}

const MAGIC = 0x184d2204
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const UNCOMPRESSED_BIT = 0x80000000
const WRITE_BLOCK = 64 * 1024
const FLG_WRITTEN = 0x60 // version 01, block independence; no checksums, no content size, no dictionary
const BD_WRITTEN = 0x40 // block maximum size code 4: 64 KiB
// The header checksum is the second byte of xxh32 over FLG and BD; for the constant header we write,
// it is computed once.
const HEADER_WRITTEN = (() => {
  const descriptor = Uint8Array.of(FLG_WRITTEN, BD_WRITTEN)
  const header = Buffer.alloc(7)
  header.writeUInt32LE(MAGIC, 0)
  header[4] = FLG_WRITTEN
  header[5] = BD_WRITTEN
  header[6] = (xxh32(descriptor, 0, 2) >>> 8) & 0xff
  return header
})()

/** compressLz4 returns `data` as one LZ4 frame of independent 64 KiB blocks, the layout Java's producer writes. */
export function compressLz4(data: Uint8Array): Buffer {
  const w = new Writer(HEADER_WRITTEN.length + 8 + (data.length >>> 1))
  compressLz4Into(data, w)
  return w.finish()
}

/**
 * compressLz4Into writes the frame of compressLz4 at `w`'s position, each block copied once from the
 * package's output straight into `w` (a record batch's writer), with no frame-sized buffer between.
 */
export function compressLz4Into(data: Uint8Array, w: Writer): void {
  const l = lz4()
  const input = asBuffer(data)
  w.raw(HEADER_WRITTEN)
  // Each package block comes back as [uncompressed length][block]: overwriting that prefix with the
  // frame's block size turns it into a frame block in place. An incompressible block is written raw,
  // flagged, as Java does, rather than grow it.
  for (let at = 0; at < input.length; at += WRITE_BLOCK) {
    const plain = input.subarray(at, Math.min(at + WRITE_BLOCK, input.length))
    const packed = l.compressSync(plain)
    const packedLength = packed.length - 4
    if (packedLength < plain.length) {
      packed.writeUInt32LE(packedLength, 0)
      w.raw(packed)
    } else {
      w.ensure(4)
      w.buf.writeUInt32LE((plain.length | UNCOMPRESSED_BIT) >>> 0, w.pos)
      w.pos += 4
      w.raw(plain)
    }
  }
  w.uint32(0) // end mark (zero reads the same in either byte order)
}

// Block decoding goes through a scratch buffer holding [capacity][block]: the package wants its length
// prefix right before the block, and writing it into the caller's buffer (where the frame's block size
// sits) would modify input we do not own. Reused across calls; it grows to at most 4 MiB + 4.
let scratch = Buffer.allocUnsafe(4 + WRITE_BLOCK)

/**
 * decompressLz4 decodes one or more LZ4 frames. Each block is decoded with a capacity of the smaller of
 * the frame's block size and what is left of `maxOutputBytes`, so no block can write past the limit
 * whatever its bytes say: a bomb stops at the limit, having allocated no more than that.
 */
export function decompressLz4(data: Uint8Array, maxOutputBytes: number): Buffer {
  const input = asBuffer(data)
  const l = lz4()
  const parts: Buffer[] = []
  let produced = 0
  let views = false
  walk(input, (stored, at, length, maxBlock) => {
    const room = maxOutputBytes - produced
    let part: Buffer
    if (stored) {
      if (length > room) throw tooLarge()
      part = input.subarray(at, at + length)
      views = true
    } else {
      part = decodeBlock(l, input, at, length, Math.min(maxBlock, room), maxBlock)
    }
    parts.push(part)
    produced += part.length
    return part.length
  })

  // One part from the decoder is the result as it stands (a view of the input is not: the result must
  // not share memory with it); otherwise the parts are copied together once.
  if (parts.length === 1 && !views) return parts[0]!
  const out = Buffer.allocUnsafe(produced)
  let pos = 0
  for (const part of parts) {
    out.set(part, pos)
    pos += part.length
  }
  return out
}

type OnBlock = (stored: boolean, at: number, length: number, maxBlock: number) => number

/**
 * walk parses every frame in `input`, validating descriptors, checksums and bounds, and hands each data
 * block to `onBlock`, which returns how many bytes the block decoded to (checked against a declared
 * content size). Skippable frames are skipped; anything else after a frame is an error.
 */
function walk(input: Buffer, onBlock: OnBlock): void {
  let at = 0
  let frames = 0
  while (at < input.length || frames === 0) {
    if (input.length - at < 4) throw corrupt('truncated frame magic')
    const magic = input.readUInt32LE(at)
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (input.length - at < 8) throw corrupt('truncated skippable frame')
      const skip = input.readUInt32LE(at + 4)
      if (skip > input.length - at - 8) throw corrupt('truncated skippable frame')
      at += 8 + skip
      continue
    }
    if (magic !== MAGIC) throw corrupt(`bad magic 0x${magic.toString(16)}`)
    at = walkFrame(input, at, onBlock)
    frames++
  }
}

// walkFrame walks the frame whose magic is at `start` and returns where it ends.
function walkFrame(input: Buffer, start: number, onBlock: OnBlock): number {
  let at = start + 4
  if (input.length - at < 3) throw corrupt('truncated frame descriptor')
  const flg = input[at]!
  const bd = input[at + 1]!
  if (flg >>> 6 !== 1) throw corrupt(`unsupported frame version ${flg >>> 6}`)
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw corrupt('reserved descriptor bits set')
  if ((flg & 0x20) === 0) throw unsupported('dependent blocks (the Java client rejects them too)')
  if ((flg & 0x01) !== 0) throw unsupported('a dictionary id')
  const blockChecksum = (flg & 0x10) !== 0
  const hasContentSize = (flg & 0x08) !== 0
  const contentChecksum = (flg & 0x04) !== 0
  const sizeCode = (bd >>> 4) & 0x07
  if (sizeCode < 4) throw corrupt(`invalid block maximum size code ${sizeCode}`)
  const maxBlock = 1 << (2 * sizeCode + 8) // 64 KiB, 256 KiB, 1 MiB, 4 MiB

  const descriptorEnd = at + 2 + (hasContentSize ? 8 : 0)
  if (input.length - descriptorEnd < 1) throw corrupt('truncated frame descriptor')
  const contentSize = hasContentSize ? input.readBigUInt64LE(at + 2) : -1n
  const checksum = input[descriptorEnd]!
  if (checksum !== ((xxh32(input, at, descriptorEnd) >>> 8) & 0xff)) {
    // KIP-57: Kafka clients before 0.10 hashed the magic too. Java still reads those for magic v0
    // message sets; accepting it always costs one more hash on a path that is already an error.
    if (checksum !== ((xxh32(input, start, descriptorEnd) >>> 8) & 0xff)) throw corrupt('frame header checksum mismatch')
  }
  at = descriptorEnd + 1

  let produced = 0
  for (;;) {
    if (input.length - at < 4) throw corrupt('truncated block size')
    const word = input.readUInt32LE(at)
    at += 4
    if (word === 0) break // end mark
    const stored = (word & UNCOMPRESSED_BIT) !== 0
    const length = word & 0x7fffffff
    if (length > maxBlock) throw corrupt(`block of ${length} bytes over the frame's ${maxBlock}`)
    if (length > input.length - at - (blockChecksum ? 4 : 0)) throw corrupt('truncated block')
    if (blockChecksum && xxh32(input, at, at + length) !== input.readUInt32LE(at + length)) {
      throw corrupt('block checksum mismatch')
    }
    produced += onBlock(stored, at, length, maxBlock)
    at += length + (blockChecksum ? 4 : 0)
  }
  // The content checksum is skipped, not verified, as Java's reader does: the batch's CRC-32C already
  // covers every compressed byte, and hashing all output in JS would halve decoding speed.
  if (contentChecksum) {
    if (input.length - at < 4) throw corrupt('truncated content checksum')
    at += 4
  }
  if (contentSize >= 0n && contentSize !== BigInt(produced)) {
    throw corrupt(`frame says ${contentSize} bytes of content but holds ${produced}`)
  }
  return at
}

/**
 * decodeBlock decodes the compressed block `input[at, at + length)` into at most `capacity` bytes.
 * The package reads the capacity from a length prefix, so the block is copied behind one in a scratch
 * buffer. When the capacity was cut below the frame's block size to fit maxOutputBytes and decoding
 * fails, it is tried once more at full size (bounded by the block size, at most 4 MiB) to tell a batch
 * over the limit from a corrupt one.
 */
function decodeBlock(l: Lz4Package, input: Buffer, at: number, length: number, capacity: number, maxBlock: number): Buffer {
  if (scratch.length < 4 + length) {
    scratch = Buffer.allocUnsafe(4 + Math.min(4 << 20, Math.max(length, 2 * (scratch.length - 4))))
  }
  input.copy(scratch, 4, at, at + length)
  const block = scratch.subarray(0, 4 + length)
  block.writeUInt32LE(capacity, 0)
  try {
    return l.uncompressSync(block)
  } catch (cause) {
    if (capacity < maxBlock) {
      block.writeUInt32LE(maxBlock, 0)
      try {
        l.uncompressSync(block)
      } catch {
        throw corrupt((cause as Error).message, cause)
      }
      throw tooLarge()
    }
    throw corrupt((cause as Error).message, cause)
  }
}

function corrupt(detail: string, cause?: unknown): CompressionError {
  return new CompressionError(`lz4: corrupt input: ${detail}`, { cause, codec: 'lz4' })
}

function unsupported(what: string): CompressionError {
  return new CompressionError(`lz4: frames with ${what} are not supported`, { codec: 'lz4' })
}

function tooLarge(cause?: unknown): CompressionError {
  return new CompressionError('lz4: decompressed data exceeds maxOutputBytes', { cause, codec: 'lz4' })
}
