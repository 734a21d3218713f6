import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ProtocolDecodeError } from '../../src/protocol/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

function bytes(...b: number[]): Buffer {
  return Buffer.from(b)
}

/** fails runs `read` over `buf` and expects complete() to throw ProtocolDecodeError matching `why`. */
function fails(buf: Buffer, read: (r: Reader) => unknown, why?: RegExp): void {
  const r = new Reader(buf)
  read(r)
  assert.throws(
    () => r.complete(),
    (e: unknown) => e instanceof ProtocolDecodeError && (why === undefined || why.test(e.message)),
  )
}

const READS: [string, (r: Reader) => unknown][] = [
  ['bool', (r) => r.bool()],
  ['int8', (r) => r.int8()],
  ['uint8', (r) => r.uint8()],
  ['int16', (r) => r.int16()],
  ['uint16', (r) => r.uint16()],
  ['int32', (r) => r.int32()],
  ['uint32', (r) => r.uint32()],
  ['int64', (r) => r.int64()],
  ['float64', (r) => r.float64()],
  ['uvarint', (r) => r.uvarint()],
  ['varint', (r) => r.varint()],
  ['varlong', (r) => r.varlong()],
  ['string', (r) => r.string()],
  ['compactString', (r) => r.compactString()],
  ['nonNullString', (r) => r.nonNullString()],
  ['nonNullCompactString', (r) => r.nonNullCompactString()],
  ['varintString', (r) => r.varintString()],
  ['bytes', (r) => r.bytes()],
  ['compactBytes', (r) => r.compactBytes()],
  ['nonNullBytes', (r) => r.nonNullBytes()],
  ['nonNullCompactBytes', (r) => r.nonNullCompactBytes()],
  ['varintBytes', (r) => r.varintBytes()],
  ['uuid', (r) => r.uuid()],
  ['arrayLength', (r) => r.arrayLength(4)],
  ['compactArrayLength', (r) => r.compactArrayLength(4)],
  ['taggedFields', (r) => r.taggedFields()],
  ['unknownTaggedFields', (r) => r.unknownTaggedFields()],
  ['skipTaggedFields', (r) => r.skipTaggedFields()],
]

test('truncated input: every primitive fails on an empty reader, and the failure is sticky', () => {
  for (const [name, read] of READS) {
    const r = new Reader(Buffer.alloc(0))
    read(r)
    // Reads that can legitimately consume nothing from nothing do not exist here: all need a byte.
    assert.equal(r.ok, false, `${name} on empty input`)
    assert.equal(r.int32(), 0)
    assert.throws(() => r.complete(), ProtocolDecodeError, name)
  }
})

test('truncated input: every prefix of a valid encoding fails', () => {
  const w = new Writer()
  w.int64(-5n)
  w.compactString('héllo')
  w.bytes(Buffer.from([1, 2, 3]))
  w.varlong(-(2n ** 62n))
  w.uuid('AAECAwQFBgcICQoLDA0ODw')
  w.taggedFields([{ tag: 3, data: Buffer.from([9]) }])
  const full = w.finishCopy()
  const read = (r: Reader): void => {
    r.int64()
    r.compactString()
    r.bytes()
    r.varlong()
    r.uuid()
    r.taggedFields()
  }
  const ok = new Reader(full)
  read(ok)
  ok.complete()
  for (let n = 0; n < full.length; n++) fails(full.subarray(0, n), read)
})

test('oversized lengths fail without allocating', () => {
  fails(bytes(0x7f, 0xff, 1, 2), (r) => r.string(), /need 32767 bytes/)
  fails(bytes(0x7f, 0xff, 0xff, 0xff, 1), (r) => r.bytes(), /need 2147483647 bytes/)
  fails(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), (r) => r.compactBytes())
  fails(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), (r) => r.compactString())
  fails(bytes(0x7f, 0xff, 0xff, 0xff), (r) => r.arrayLength(1), /cannot fit/)
  fails(bytes(0xff, 0xff, 0xff, 0xff, 0x07), (r) => r.compactArrayLength(1), /cannot fit/)
  // 3 elements of at least 4 bytes cannot fit in 8.
  fails(Buffer.concat([bytes(0, 0, 0, 3), Buffer.alloc(8)]), (r) => r.arrayLength(4), /cannot fit/)
  fails(bytes(0x7f, 1, 2), (r) => r.taggedFields(), /cannot fit/)
  fails(bytes(0x7f, 1, 2), (r) => r.taggedCount(), /cannot fit/)
  fails(bytes(1, 0, 0x7f, 1), (r) => r.taggedFields(), /need 127 bytes/)
  fails(bytes(0x7f), (r) => r.raw(1000))
})

test('negative lengths and counts fail', () => {
  fails(bytes(0xff, 0xfe), (r) => r.string(), /invalid string length -2/)
  fails(bytes(0xff, 0xff, 0xff, 0xfb), (r) => r.bytes(), /invalid bytes length -5/)
  fails(bytes(0xff, 0xff, 0xff, 0xfe), (r) => r.arrayLength(), /invalid array length -2/)
  fails(bytes(0x03), (r) => r.varintBytes(), /invalid bytes length -2/)
  fails(bytes(0x03), (r) => r.varintString(), /invalid string length -2/)
  fails(bytes(), (r) => r.raw(-1), /invalid length/)
  const r = new Reader(bytes(0xff, 0xff, 0xff, 0xff))
  assert.equal(r.arrayLength(), -1, '-1 is a null array')
  r.complete()
})

test('null where a version does not allow it fails', () => {
  fails(bytes(0xff, 0xff), (r) => r.nonNullString(), /non-nullable/)
  fails(bytes(0), (r) => r.nonNullCompactString(), /non-nullable/)
  fails(bytes(0xff, 0xff, 0xff, 0xff), (r) => r.nonNullBytes(), /non-nullable/)
  fails(bytes(0), (r) => r.nonNullCompactBytes(), /non-nullable/)
})

test('varint and varlong overflow fails', () => {
  fails(bytes(0xff, 0xff, 0xff, 0xff, 0x10), (r) => r.uvarint(), /overflows 32 bits/)
  fails(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), (r) => r.uvarint())
  fails(bytes(0xff, 0xff, 0xff, 0xff, 0x1f), (r) => r.varint(), /overflows/)
  fails(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), (r) => r.varlong(), /overflows 64 bits/)
  fails(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), (r) => r.varlong(), /overflows|too long/)
  fails(bytes(0x80), (r) => r.uvarint(), /truncated/)
  fails(bytes(0x80, 0x80, 0x80, 0x80, 0x80), (r) => r.varlong(), /truncated/)
  // The largest values still decode.
  const r = new Reader(bytes(0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))
  assert.equal(r.uvarint(), 0xffffffff)
  assert.equal(r.varlong(), -(2n ** 63n))
  r.complete()
})

test('tagged fields out of order or repeated fail', () => {
  fails(bytes(2, 1, 0, 0, 0), (r) => r.taggedFields(), /out of order: 0 after 1/)
  fails(bytes(2, 1, 0, 1, 0), (r) => r.taggedFields(), /out of order/)
  const loop = (r: Reader): void => {
    for (let i = 0, n = r.taggedCount(), last = -1; i < n && r.failure === null; i++) {
      const tag = r.uvarint()
      const end = r.beginTaggedField(tag, last)
      last = tag
      r.unknownTag(undefined, tag)
      r.endTaggedField(end)
    }
  }
  fails(bytes(2, 5, 1, 9, 3, 1, 9), loop, /out of order: 3 after 5/)
  fails(bytes(2, 5, 0, 5, 0), loop, /out of order/)
  fails(bytes(1, 5, 9, 1), loop, /need 9 bytes/)
})

test('a known tagged field must be read to its end, and no further', () => {
  // One field, tag 0, 3 bytes, of which the decoder reads only an int16.
  fails(bytes(1, 0, 3, 0, 1, 2), (r) => {
    const n = r.taggedCount()
    for (let i = 0; i < n; i++) {
      const tag = r.uvarint()
      const end = r.beginTaggedField(tag, -1)
      r.int16()
      r.endTaggedField(end)
    }
  }, /left over/)
  // A read past the field's size fails even though the buffer has more bytes.
  fails(bytes(1, 0, 1, 7, 8, 9, 10), (r) => {
    r.taggedCount()
    const tag = r.uvarint()
    const end = r.beginTaggedField(tag, -1)
    r.int32()
    r.endTaggedField(end)
    r.raw(r.remaining())
  })
  // And a well-formed field reads cleanly, unknown ones kept as views.
  const buf = bytes(2, 0, 2, 0, 42, 7, 1, 0xee)
  const r = new Reader(buf)
  let unknown
  for (let i = 0, n = r.taggedCount(), last = -1; i < n; i++) {
    const tag = r.uvarint()
    const end = r.beginTaggedField(tag, last)
    last = tag
    if (tag === 0) assert.equal(r.int16(), 42)
    else unknown = r.unknownTag(unknown, tag)
    r.endTaggedField(end)
  }
  r.complete()
  assert.deepStrictEqual(unknown, [{ tag: 7, data: bytes(0xee) }])
  assert.equal(unknown![0]!.data.buffer, buf.buffer, 'a view, not a copy')
})

test('bytes come out as views, not copies', () => {
  const buf = bytes(0, 0, 0, 2, 5, 6, 3, 7, 8)
  const r = new Reader(buf)
  const a = r.bytes()!
  const b = r.compactBytes()!
  r.complete()
  assert.equal(a.buffer, buf.buffer)
  assert.equal(b.buffer, buf.buffer)
  buf[4] = 99
  assert.equal(a[0], 99)
})

test('bytes left over fail complete()', () => {
  fails(bytes(0, 0, 0, 1, 9), (r) => r.int32(), /1 bytes left over/)
})

test('random reads over random bytes never throw before complete(), and never allocate beyond the input', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat({ max: READS.length - 1 }), { maxLength: 20 }), (raw, ops) => {
      const r = new Reader(Buffer.from(raw))
      for (const op of ops) {
        const v = READS[op]![1](r)
        if (Buffer.isBuffer(v)) assert.ok(v.length <= raw.length)
        if (typeof v === 'string' && READS[op]![0] !== 'uuid') assert.ok(Buffer.byteLength(v) <= raw.length * 3)
        if (Array.isArray(v)) assert.ok(v.length <= raw.length)
      }
      try {
        r.complete()
      } catch (err) {
        assert.ok(err instanceof ProtocolDecodeError)
      }
    }),
    { numRuns: 2000 },
  )
})
