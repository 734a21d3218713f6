import { ProtocolDecodeError } from './errors.js'

/** TaggedField is a tagged field this version of kafka-wire does not know, kept to be written back. */
export interface TaggedField {
  tag: number
  data: Buffer
}

/**
 * Reader decodes one Buffer from an offset. A short or malformed read sets a sticky failure and returns
 * a zero value, so decoders run straight through without a check per field; `complete()` (or `check()`)
 * then throws one ProtocolDecodeError (franz-go's kbin.Reader works the same way). Every length read
 * from the wire is checked against the bytes that remain before anything is allocated, so a hostile
 * length can never cause a large allocation. Bytes come out as subarray views, never copies.
 */
export class Reader {
  buf: Buffer
  pos: number
  end: number
  /** failure describes the first failed read; null while every read has succeeded. */
  failure: string | null = null

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf
    this.pos = start
    this.end = end
  }

  /** remaining is the number of unread bytes. */
  remaining(): number {
    return this.end - this.pos
  }

  /** ok is true while no read has failed. */
  get ok(): boolean {
    return this.failure === null
  }

  /** fail records the first failure and exhausts the reader so later reads fail too. */
  fail(why: string): void {
    if (this.failure === null) this.failure = `${why} at offset ${this.pos}`
    this.pos = this.end
  }

  /** check throws the sticky failure, if any. */
  check(what = 'message'): void {
    if (this.failure !== null) throw new ProtocolDecodeError(`cannot decode ${what}: ${this.failure}`)
  }

  /** complete checks for a failure and for bytes left over after a whole message was read. */
  complete(what = 'message'): void {
    this.check(what)
    if (this.pos !== this.end) throw new ProtocolDecodeError(`cannot decode ${what}: ${this.end - this.pos} bytes left over`)
  }

  #need(n: number): boolean {
    if (this.end - this.pos >= n) return true
    this.fail(`need ${n} bytes, have ${this.end - this.pos}`)
    return false
  }

  bool(): boolean {
    return this.int8() !== 0
  }

  int8(): number {
    if (!this.#need(1)) return 0
    return this.buf.readInt8(this.pos++)
  }

  uint8(): number {
    if (!this.#need(1)) return 0
    return this.buf[this.pos++]!
  }

  int16(): number {
    if (!this.#need(2)) return 0
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  uint16(): number {
    if (!this.#need(2)) return 0
    const v = this.buf.readUInt16BE(this.pos)
    this.pos += 2
    return v
  }

  int32(): number {
    if (!this.#need(4)) return 0
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  uint32(): number {
    if (!this.#need(4)) return 0
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }

  int64(): bigint {
    if (!this.#need(8)) return 0n
    const v = this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }

  float64(): number {
    if (!this.#need(8)) return 0
    const v = this.buf.readDoubleBE(this.pos)
    this.pos += 8
    return v
  }

  /** uvarint reads an unsigned varint of at most 5 bytes (32 bits). */
  uvarint(): number {
    const buf = this.buf
    let pos = this.pos
    let v = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= this.end) {
        this.fail('truncated varint')
        return 0
      }
      const b = buf[pos++]!
      if (shift === 28 && b > 0x0f) {
        this.fail('varint overflows 32 bits')
        return 0
      }
      v |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = pos
        return v >>> 0
      }
    }
    this.fail('varint too long')
    return 0
  }

  /** varint reads a zigzag-encoded signed 32-bit varint. */
  varint(): number {
    const u = this.uvarint()
    return (u >>> 1) ^ -(u & 1)
  }

  /** varlong reads a zigzag-encoded signed 64-bit varint of at most 10 bytes. */
  varlong(): bigint {
    const buf = this.buf
    let pos = this.pos
    // Fast path: up to 4 bytes (28 bits) accumulate in a number.
    let small = 0
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= this.end) {
        this.fail('truncated varlong')
        return 0n
      }
      const b = buf[pos++]!
      small |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = pos
        return BigInt((small >>> 1) ^ -(small & 1))
      }
    }
    let v = BigInt(small >>> 0)
    for (let shift = 28n; shift < 70n; shift += 7n) {
      if (pos >= this.end) {
        this.fail('truncated varlong')
        return 0n
      }
      const b = buf[pos++]!
      if (shift === 63n && b > 1) {
        this.fail('varlong overflows 64 bits')
        return 0n
      }
      v |= BigInt(b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = pos
        return BigInt.asIntN(64, (v >> 1n) ^ -(v & 1n))
      }
    }
    this.fail('varlong too long')
    return 0n
  }

  /**
   * varlongNumber reads a zigzag-encoded signed 64-bit varint as a number, for values that are
   * milliseconds (record timestamp deltas): no bigint is made. A value whose magnitude needs more than
   * 52 bits fails, so every value returned is exact.
   */
  varlongNumber(): number {
    const buf = this.buf
    let pos = this.pos
    if (pos < this.end && buf[pos]! < 0x80) {
      const b = buf[pos]!
      this.pos = pos + 1
      return (b >>> 1) ^ -(b & 1)
    }
    // z accumulates the unsigned zigzag value; products stay exact while z is below 2^53.
    let z = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) {
        this.fail('truncated varlong')
        return 0
      }
      const b = buf[pos++]!
      z += (b & 0x7f) * scale
      if (b < 0x80) {
        if (z > Number.MAX_SAFE_INTEGER) {
          this.fail('varlong exceeds 2^52 in magnitude')
          return 0
        }
        this.pos = pos
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2
      }
      scale *= 128
    }
    this.fail('varlong too long')
    return 0
  }

  #utf8(len: number): string {
    if (!this.#need(len)) return ''
    const s = this.buf.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return s
  }

  #view(len: number): Buffer {
    if (!this.#need(len)) return EMPTY
    const b = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return b
  }

  /** string reads an int16-length-prefixed string; -1 is null. */
  string(): string | null {
    const len = this.int16()
    if (len < 0) {
      if (len !== -1) this.fail(`invalid string length ${len}`)
      return null
    }
    return this.#utf8(len)
  }

  /** compactString reads a uvarint(length + 1)-prefixed string; 0 is null. */
  compactString(): string | null {
    const len = this.uvarint()
    if (len === 0) return null
    return this.#utf8(len - 1)
  }

  /** bytes reads int32-length-prefixed bytes as a view; -1 is null. */
  bytes(): Buffer | null {
    const len = this.int32()
    if (len < 0) {
      if (len !== -1) this.fail(`invalid bytes length ${len}`)
      return null
    }
    return this.#view(len)
  }

  /** compactBytes reads uvarint(length + 1)-prefixed bytes as a view; 0 is null. */
  compactBytes(): Buffer | null {
    const len = this.uvarint()
    if (len === 0) return null
    return this.#view(len - 1)
  }

  /** varintBytes reads zigzag-varint-length-prefixed bytes as a view; -1 is null (record keys, values). */
  varintBytes(): Buffer | null {
    const len = this.varint()
    if (len < 0) {
      if (len !== -1) this.fail(`invalid bytes length ${len}`)
      return null
    }
    return this.#view(len)
  }

  /**
   * skipVarintBytes checks and steps over what varintBytes (or, with `what` 'string', varintString)
   * would read, failing as it would, and makes nothing; it returns the length, -1 for null.
   */
  skipVarintBytes(what: 'bytes' | 'string' = 'bytes'): number {
    const len = this.varint()
    if (len < 0) {
      if (len !== -1) this.fail(`invalid ${what} length ${len}`)
      return -1
    }
    if (this.#need(len)) this.pos += len
    return len
  }

  /** varintString reads a zigzag-varint-length-prefixed string; -1 is null (record header keys). */
  varintString(): string | null {
    const len = this.varint()
    if (len < 0) {
      if (len !== -1) this.fail(`invalid string length ${len}`)
      return null
    }
    return this.#utf8(len)
  }

  /** nonNullString reads a string in a version where null is not allowed: null fails the read. */
  nonNullString(): string {
    const s = this.string()
    if (s !== null) return s
    this.fail('non-nullable string was null')
    return ''
  }

  /** nonNullCompactString reads a compact string in a version where null is not allowed. */
  nonNullCompactString(): string {
    const s = this.compactString()
    if (s !== null) return s
    this.fail('non-nullable string was null')
    return ''
  }

  /** nonNullBytes reads bytes (a view) in a version where null is not allowed. */
  nonNullBytes(): Buffer {
    const b = this.bytes()
    if (b !== null) return b
    this.fail('non-nullable bytes were null')
    return EMPTY
  }

  /** nonNullCompactBytes reads compact bytes (a view) in a version where null is not allowed. */
  nonNullCompactBytes(): Buffer {
    const b = this.compactBytes()
    if (b !== null) return b
    this.fail('non-nullable bytes were null')
    return EMPTY
  }

  /** uuid reads 16 bytes and returns them in Kafka's base64url form. */
  uuid(): string {
    if (!this.#need(16)) return ZERO_UUID
    const s = this.buf.toString('base64url', this.pos, this.pos + 16)
    this.pos += 16
    return s
  }

  /** raw returns a view of the next `n` bytes. */
  raw(n: number): Buffer {
    if (n < 0) {
      this.fail(`invalid length ${n}`)
      return EMPTY
    }
    return this.#view(n)
  }

  /**
   * arrayLength reads an int32 element count; -1 means null. The count is checked against the bytes
   * that remain, at `minElementSize` bytes an element, so a hostile count cannot make the caller
   * allocate a huge array.
   */
  arrayLength(minElementSize = 1): number {
    return this.#checkCount(this.int32(), minElementSize)
  }

  /** compactArrayLength reads uvarint(count + 1); returns -1 for null. Checked like arrayLength. */
  compactArrayLength(minElementSize = 1): number {
    return this.#checkCount(this.uvarint() - 1, minElementSize)
  }

  #checkCount(n: number, minElementSize: number): number {
    if (n < -1) {
      this.fail(`invalid array length ${n}`)
      return 0
    }
    if (n > 0 && n * minElementSize > this.end - this.pos) {
      this.fail(`array of ${n} elements cannot fit in ${this.end - this.pos} bytes`)
      return 0
    }
    return n
  }

  /**
   * taggedFields reads a flexible version's tagged field section. `known(tag, r)` decodes a tag the
   * caller knows and returns true; every other tag is returned (as views) so it can be written back.
   * Returns null when there are no unknown tags, so the common case allocates nothing.
   */
  taggedFields(known?: (tag: number, r: Reader, size: number) => boolean): TaggedField[] | null {
    const n = this.uvarint()
    if (n === 0) return null
    if (n * 2 > this.end - this.pos) {
      this.fail(`${n} tagged fields cannot fit in ${this.end - this.pos} bytes`)
      return null
    }
    let unknown: TaggedField[] | null = null
    let last = -1
    for (let i = 0; i < n && this.failure === null; i++) {
      const tag = this.uvarint()
      const size = this.uvarint()
      if (tag <= last && i > 0) {
        this.fail(`tagged fields out of order: ${tag} after ${last}`)
        return null
      }
      last = tag
      if (!this.#need(size)) return null
      const end = this.pos + size
      if (known !== undefined) {
        const saved = this.end
        this.end = end
        const handled = known(tag, this, size)
        if (handled) {
          if (this.failure === null && this.pos !== end) this.fail(`tagged field ${tag}: ${end - this.pos} bytes left over`)
          this.end = saved
          continue
        }
        this.end = saved
      }
      ;(unknown ??= []).push({ tag, data: this.buf.subarray(this.pos, end) })
      this.pos = end
    }
    return unknown
  }

  /**
   * taggedCount reads the number of fields of a tagged field section, checked against the bytes left
   * (each field takes at least two). Generated decoders then loop over beginTaggedField / endTaggedField.
   */
  taggedCount(): number {
    const n = this.uvarint()
    if (n * 2 > this.end - this.pos) {
      this.fail(`${n} tagged fields cannot fit in ${this.end - this.pos} bytes`)
      return 0
    }
    return n
  }

  /**
   * beginTaggedField reads a tagged field's size after its tag, checks that tags ascend and that the
   * field fits, and narrows the reader to the field. It returns the outer end for endTaggedField.
   */
  beginTaggedField(tag: number, last: number): number {
    const outer = this.end
    const size = this.uvarint()
    if (this.failure !== null) return outer
    if (tag <= last) {
      this.fail(`tagged fields out of order: ${tag} after ${last}`)
      return outer
    }
    if (!this.#need(size)) return outer
    this.end = this.pos + size
    return outer
  }

  /** endTaggedField checks that the field was read to its end and widens the reader back to `outer`. */
  endTaggedField(outer: number): void {
    if (this.failure === null && this.pos !== this.end) this.fail(`tagged field has ${this.end - this.pos} bytes left over`)
    if (this.failure !== null) {
      this.end = outer
      this.pos = outer
      return
    }
    this.end = outer
  }

  /** unknownTag keeps the rest of the current tagged field (a view) in `list`, creating it on first use. */
  unknownTag(list: TaggedField[] | undefined, tag: number): TaggedField[] {
    const data = this.buf.subarray(this.pos, this.end)
    this.pos = this.end
    if (list === undefined) return [{ tag, data }]
    list.push({ tag, data })
    return list
  }

  /** unknownTaggedFields reads a tagged field section of a struct that knows no tags. */
  unknownTaggedFields(): TaggedField[] | undefined {
    return this.taggedFields() ?? undefined
  }

  /** skipTaggedFields reads and drops a tagged field section. */
  skipTaggedFields(): void {
    const n = this.uvarint()
    for (let i = 0; i < n && this.failure === null; i++) {
      this.uvarint()
      const size = this.uvarint()
      this.raw(size)
    }
  }
}

const EMPTY = Buffer.alloc(0)

/** ZERO_UUID is Kafka's all-zero Uuid in base64url form. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
