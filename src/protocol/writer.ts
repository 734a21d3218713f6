import { ProtocolEncodeError } from './errors.js'
import type { TaggedField } from './reader.js'

/** UUID_BASE64 matches Kafka's printed form of a Uuid: 22 base64url characters. */
export const UUID_BASE64 = /^[A-Za-z0-9_-]{22}$/
/** UUID_DASHED matches the canonical dashed form of a Uuid, 8-4-4-4-12 hex digits. */
export const UUID_DASHED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/**
 * Writer is a growable byte buffer with a cursor. Every encoder in kafka-wire writes into one Writer:
 * no buffer per field and no concatenation per request. Size prefixes and CRCs are reserved first and
 * patched in place once the bytes they cover are known, as franz-go fills its size prefix last.
 *
 * A writer can also splice: with `spliceMin` set, raw bytes of at least that length (the record
 * batches of a Produce request) are not copied in but kept by reference at their place, and
 * `finishChunks()` returns the message as a list of chunks, the writer's own bytes around the spliced
 * ones, for a vectored socket write (`socket.cork()`, `write()` per chunk, `uncork()`). `length`
 * counts spliced bytes; `pos` does not.
 */
export class Writer {
  /** buf is the backing store; only bytes before `pos` are meaningful. */
  buf: Buffer
  /** pos is the next byte to write into `buf` (spliced chunks take no room there). */
  pos = 0
  /**
   * spliceMin is the size from which `raw` (and so `bytes`, `compactBytes`, `varintBytes`) keeps
   * bytes by reference instead of copying them. Infinity (the default) never splices. A spliced
   * Buffer must not change until the message has been written out.
   */
  spliceMin = Infinity
  /** splicedAt[i] is the position in `buf` where spliced[i] belongs; both are in order. */
  #splicedAt: number[] = []
  #spliced: Uint8Array[] = []
  #splicedBytes = 0

  constructor(initialSize = 512) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  /** reset rewinds the cursor so the backing store can be reused for the next message, and drops spliced chunks. */
  reset(): this {
    this.pos = 0
    if (this.#spliced.length > 0) {
      this.#splicedAt = []
      this.#spliced = []
      this.#splicedBytes = 0
    }
    return this
  }

  /** length is the size of the message written so far: the bytes in `buf` and the spliced chunks. */
  get length(): number {
    return this.pos + this.#splicedBytes
  }

  /** spliceCount is how many chunks are spliced in (0 for a writer that copies everything). */
  get spliceCount(): number {
    return this.#spliced.length
  }

  /** ensure grows the backing store so that `n` more bytes fit. */
  ensure(n: number): void {
    const need = this.pos + n
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < need) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** finish returns a view of the bytes written so far (not a copy: the next write may overwrite it). */
  finish(): Buffer {
    this.#notSpliced('finish')
    return this.buf.subarray(0, this.pos)
  }

  /** finishCopy returns a copy of the bytes written so far, safe to keep after the writer is reused. */
  finishCopy(): Buffer {
    this.#notSpliced('finishCopy')
    return Buffer.from(this.buf.subarray(0, this.pos))
  }

  /**
   * finishChunks returns the message as chunks in order: the writer's own bytes between the spliced
   * chunks, and the spliced chunks themselves (empty chunks left out). With `copy` the writer's own
   * bytes are first copied out (one allocation for all of them, a few hundred bytes for a Produce
   * request), so the chunks stay valid after the writer is reused; without it they are views of
   * `buf`, valid until the next write.
   */
  finishChunks(copy = false): Uint8Array[] {
    const own = copy ? Buffer.from(this.buf.subarray(0, this.pos)) : this.buf.subarray(0, this.pos)
    const out: Uint8Array[] = []
    let from = 0
    for (let i = 0; i < this.#spliced.length; i++) {
      const at = this.#splicedAt[i]!
      if (at > from) out.push(own.subarray(from, at))
      out.push(this.#spliced[i]!)
      from = at
    }
    if (this.pos > from || out.length === 0) out.push(own.subarray(from, this.pos))
    return out
  }

  #notSpliced(method: string): void {
    if (this.#spliced.length > 0) throw new ProtocolEncodeError(`Writer.${method} on a writer holding ${this.#spliced.length} spliced chunks: use finishChunks`)
  }

  bool(v: boolean): void {
    this.ensure(1)
    this.buf[this.pos++] = v ? 1 : 0
  }

  int8(v: number): void {
    this.ensure(1)
    this.buf.writeInt8(v, this.pos)
    this.pos += 1
  }

  uint8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v & 0xff
  }

  int16(v: number): void {
    this.ensure(2)
    this.buf.writeInt16BE(v, this.pos)
    this.pos += 2
  }

  uint16(v: number): void {
    this.ensure(2)
    this.buf.writeUInt16BE(v, this.pos)
    this.pos += 2
  }

  int32(v: number): void {
    this.ensure(4)
    this.buf.writeInt32BE(v, this.pos)
    this.pos += 4
  }

  uint32(v: number): void {
    this.ensure(4)
    this.buf.writeUInt32BE(v >>> 0, this.pos)
    this.pos += 4
  }

  int64(v: bigint): void {
    this.ensure(8)
    this.buf.writeBigInt64BE(v, this.pos)
    this.pos += 8
  }

  float64(v: number): void {
    this.ensure(8)
    this.buf.writeDoubleBE(v, this.pos)
    this.pos += 8
  }

  /** uvarint writes an unsigned 32-bit varint (protobuf style, 7 bits a byte). */
  uvarint(v: number): void {
    this.ensure(5)
    const buf = this.buf
    let pos = this.pos
    v >>>= 0
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[pos++] = v
    this.pos = pos
  }

  /** varint writes a zigzag-encoded signed 32-bit varint. */
  varint(v: number): void {
    this.uvarint((v << 1) ^ (v >> 31))
  }

  /** varlong writes a zigzag-encoded signed 64-bit varint. */
  varlong(v: bigint): void {
    // Most values fit in 31 bits; take the number path for them to avoid bigint arithmetic.
    if (v >= -0x40000000n && v < 0x40000000n) {
      this.varint(Number(v))
      return
    }
    this.ensure(10)
    let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))
    const buf = this.buf
    let pos = this.pos
    while (z > 0x7fn) {
      buf[pos++] = Number(z & 0x7fn) | 0x80
      z >>= 7n
    }
    buf[pos++] = Number(z)
    this.pos = pos
  }

  /** string writes an int16-length-prefixed UTF-8 string; null is written as length -1. */
  string(v: string | null): void {
    if (v === null) {
      this.int16(-1)
      return
    }
    const len = Buffer.byteLength(v, 'utf8')
    this.ensure(2 + len)
    this.buf.writeInt16BE(len, this.pos)
    this.pos += 2
    this.pos += this.buf.write(v, this.pos, len, 'utf8')
  }

  /** compactString writes a uvarint(length + 1)-prefixed UTF-8 string; null is written as 0. */
  compactString(v: string | null): void {
    if (v === null) {
      this.uvarint(0)
      return
    }
    const len = Buffer.byteLength(v, 'utf8')
    this.uvarint(len + 1)
    this.ensure(len)
    this.pos += this.buf.write(v, this.pos, len, 'utf8')
  }

  /** bytes writes int32-length-prefixed bytes; null is written as length -1. */
  bytes(v: Uint8Array | null): void {
    if (v === null) {
      this.int32(-1)
      return
    }
    this.int32(v.length)
    this.raw(v)
  }

  /** compactBytes writes uvarint(length + 1)-prefixed bytes; null is written as 0. */
  compactBytes(v: Uint8Array | null): void {
    if (v === null) {
      this.uvarint(0)
      return
    }
    this.uvarint(v.length + 1)
    this.raw(v)
  }

  /** varintBytes writes zigzag-varint-length-prefixed bytes, as records do; null is length -1. */
  varintBytes(v: Uint8Array | null): void {
    if (v === null) {
      this.varint(-1)
      return
    }
    this.varint(v.length)
    this.raw(v)
  }

  /** varintString writes a zigzag-varint-length-prefixed UTF-8 string, as record header keys do. */
  varintString(v: string | null): void {
    if (v === null) {
      this.varint(-1)
      return
    }
    const len = Buffer.byteLength(v, 'utf8')
    this.varint(len)
    this.ensure(len)
    this.pos += this.buf.write(v, this.pos, len, 'utf8')
  }

  /**
   * uuid writes a Kafka Uuid given in its base64url form (22 characters, as Kafka prints it) or in the
   * canonical dashed form (8-4-4-4-12 hex digits). Anything else throws ProtocolEncodeError: a dashed
   * Uuid read as base64url would otherwise become 16 bytes of garbage, since `-` is a base64url digit.
   */
  uuid(v: string): void {
    this.ensure(16)
    if (v.length === 22 && UUID_BASE64.test(v)) {
      this.buf.write(v, this.pos, 16, 'base64url')
    } else if (v.length === 36 && UUID_DASHED.test(v)) {
      this.buf.write(v.replace(/-/g, ''), this.pos, 16, 'hex')
    } else {
      throw new ProtocolEncodeError(`invalid Kafka Uuid ${JSON.stringify(typeof v === 'string' && v.length > 60 ? `${v.slice(0, 60)}…` : v)}: want 22 base64url characters or the dashed form 8-4-4-4-12`)
    }
    this.pos += 16
  }

  /** raw copies bytes in as they are, or splices them in by reference when they are at least `spliceMin` long. */
  raw(v: Uint8Array): void {
    if (v.length >= this.spliceMin && v.length > 0) {
      this.#splicedAt.push(this.pos)
      this.#spliced.push(v)
      this.#splicedBytes += v.length
      return
    }
    this.ensure(v.length)
    this.buf.set(v, this.pos)
    this.pos += v.length
  }

  /** arrayLength writes an int32 element count; null is -1. */
  arrayLength(n: number | null): void {
    this.int32(n === null ? -1 : n)
  }

  /** compactArrayLength writes uvarint(count + 1); null is 0. */
  compactArrayLength(n: number | null): void {
    this.uvarint(n === null ? 0 : n + 1)
  }

  /** reserve skips `n` bytes to be patched later and returns their offset. */
  reserve(n: number): number {
    this.ensure(n)
    const at = this.pos
    this.pos += n
    return at
  }

  /** patchInt32 writes a big-endian int32 at an offset reserved earlier. */
  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at)
  }

  /** patchUint32 writes a big-endian uint32 at an offset reserved earlier (CRCs). */
  patchUint32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at)
  }

  /**
   * beginUvarintSize starts a value whose uvarint size prefix is not known yet (a tagged field's): it
   * reserves one byte and returns its offset for endUvarintSize.
   */
  beginUvarintSize(): number {
    this.ensure(1)
    return this.pos++
  }

  /**
   * endUvarintSize writes the size of everything written since beginUvarintSize(at) as a uvarint at
   * `at`, moving the value along when the size needs more than the one byte reserved (128 bytes or more).
   */
  endUvarintSize(at: number): void {
    // Chunks spliced after `at` are part of the value: they count in its size and move along with it.
    let spliced = 0
    let first = this.#spliced.length
    while (first > 0 && this.#splicedAt[first - 1]! > at) {
      first--
      spliced += this.#spliced[first]!.length
    }
    const size = this.pos - at - 1 + spliced
    const n = uvarintSize(size)
    if (n > 1) {
      this.ensure(n - 1)
      this.buf.copyWithin(at + n, at + 1, this.pos)
      this.pos += n - 1
      for (let i = first; i < this.#splicedAt.length; i++) this.#splicedAt[i]! += n - 1
    }
    // The n bytes at `at` are already in place: write the prefix directly (uvarint() would ensure room
    // after `at` and could drop the value on growing).
    const buf = this.buf
    let v = size
    let p = at
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[p] = v
  }

  /**
   * rawTaggedFields writes tagged fields kept from a decode (tag, size, bytes), from index `from` while
   * their tag is below `below`, and returns the index of the first one not written. Encoders call it
   * before each known tag, so known and kept fields go out sorted by tag together.
   */
  rawTaggedFields(fields: readonly TaggedField[] | undefined, from: number, below: number): number {
    if (fields === undefined) return 0
    let i = from
    for (; i < fields.length; i++) {
      const f = fields[i]!
      if (f.tag >= below) {
        if (f.tag === below) throw new ProtocolEncodeError(`unknown tagged field ${f.tag} has the tag of a known field`)
        break
      }
      if (i > 0 && f.tag <= fields[i - 1]!.tag) throw new ProtocolEncodeError(`unknown tagged fields are not sorted by tag: ${f.tag} after ${fields[i - 1]!.tag}`)
      this.uvarint(f.tag)
      this.uvarint(f.data.length)
      this.raw(f.data)
    }
    return i
  }

  /** taggedFields writes a tagged field section holding only fields kept from a decode (or none). */
  taggedFields(fields: readonly TaggedField[] | undefined): void {
    if (fields === undefined || fields.length === 0) {
      this.uvarint(0)
      return
    }
    this.uvarint(fields.length)
    this.rawTaggedFields(fields, 0, Infinity)
  }
}

/** uvarintSize returns how many bytes uvarint(v) takes, for sizing before writing. */
export function uvarintSize(v: number): number {
  v >>>= 0
  let n = 1
  while (v > 0x7f) {
    v >>>= 7
    n++
  }
  return n
}

/** varintSize returns how many bytes varint(v) (zigzag) takes. */
export function varintSize(v: number): number {
  return uvarintSize((v << 1) ^ (v >> 31))
}
