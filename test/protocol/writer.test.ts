import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ProtocolEncodeError } from '../../src/protocol/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer, uvarintSize, varintSize } from '../../src/protocol/writer.js'

const RUNS = 200

/** roundTrip writes with `write` into a deliberately tiny Writer (so it must grow), reads back with `read`. */
function roundTrip<T>(arb: fc.Arbitrary<T>, write: (w: Writer, v: T) => void, read: (r: Reader) => T): void {
  fc.assert(
    fc.property(arb, (v) => {
      const w = new Writer(1)
      write(w, v)
      write(w, v)
      const r = new Reader(w.finishCopy())
      assert.deepStrictEqual(read(r), v)
      assert.deepStrictEqual(read(r), v)
      r.complete()
    }),
    { numRuns: RUNS },
  )
}

const U32_EDGES = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff, 0x10000000, 0x7fffffff, 0x80000000, 0xffffffff]
const I32_EDGES = [0, 1, -1, 63, -64, 64, -65, 0x7fffffff, -0x80000000, 0x3fffffff, -0x40000000, 0x40000000, -0x40000001]
const I64_EDGES = [
  0n, 1n, -1n, 63n, -64n, 64n, -65n,
  0x3fffffffn, -0x40000000n, 0x40000000n, -0x40000001n,
  2n ** 31n - 1n, -(2n ** 31n), 2n ** 31n, 2n ** 35n, -(2n ** 35n),
  2n ** 62n - 1n, -(2n ** 62n), 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n),
]

test('fixed-width integers, floats and bools round-trip', () => {
  roundTrip(fc.boolean(), (w, v) => w.bool(v), (r) => r.bool())
  roundTrip(fc.integer({ min: -128, max: 127 }), (w, v) => w.int8(v), (r) => r.int8())
  roundTrip(fc.integer({ min: 0, max: 255 }), (w, v) => w.uint8(v), (r) => r.uint8())
  roundTrip(fc.integer({ min: -32768, max: 32767 }), (w, v) => w.int16(v), (r) => r.int16())
  roundTrip(fc.integer({ min: 0, max: 65535 }), (w, v) => w.uint16(v), (r) => r.uint16())
  roundTrip(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (w, v) => w.int32(v), (r) => r.int32())
  roundTrip(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (w, v) => w.uint32(v), (r) => r.uint32())
  roundTrip(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (w, v) => w.int64(v), (r) => r.int64())
  roundTrip(fc.double(), (w, v) => w.float64(v), (r) => r.float64())
})

test('big-endian layouts', () => {
  const w = new Writer()
  w.int16(0x0102)
  w.int32(0x03040506)
  w.int64(0x0708090a0b0c0d0en)
  w.uint32(0xfffffffe)
  assert.deepStrictEqual(w.finishCopy(), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff, 0xff, 0xff, 0xfe]))
})

test('uvarint round-trips and sizes, edge values included', () => {
  const arb = fc.oneof(fc.constantFrom(...U32_EDGES), fc.integer({ min: 0, max: 2 ** 32 - 1 }))
  roundTrip(arb, (w, v) => w.uvarint(v), (r) => r.uvarint())
  fc.assert(
    fc.property(arb, (v) => {
      const w = new Writer(1)
      w.uvarint(v)
      assert.equal(w.pos, uvarintSize(v))
    }),
  )
  const w = new Writer()
  w.uvarint(300)
  assert.deepStrictEqual(w.finishCopy(), Buffer.from([0xac, 0x02]))
})

test('varint (zigzag) round-trips and sizes, edge values included', () => {
  const arb = fc.oneof(fc.constantFrom(...I32_EDGES), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }))
  roundTrip(arb, (w, v) => w.varint(v), (r) => r.varint())
  fc.assert(
    fc.property(arb, (v) => {
      const w = new Writer(1)
      w.varint(v)
      assert.equal(w.pos, varintSize(v))
    }),
  )
  const w = new Writer()
  for (const v of [0, -1, 1, -2, 2147483647, -2147483648]) w.varint(v)
  assert.deepStrictEqual(w.finishCopy(), Buffer.from([0, 1, 2, 3, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f]))
})

test('varlong (zigzag) round-trips, edge values included', () => {
  const arb = fc.oneof(fc.constantFrom(...I64_EDGES), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }))
  roundTrip(arb, (w, v) => w.varlong(v), (r) => r.varlong())
  const w = new Writer()
  w.varlong(-(2n ** 63n))
  assert.deepStrictEqual(w.finishCopy(), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
  // The number and bigint paths agree where they meet.
  for (const v of [0x3fffffffn, -0x40000000n, 0x40000000n, -0x40000001n]) {
    const a = new Writer()
    a.varlong(v)
    const r = new Reader(a.finishCopy())
    assert.equal(r.varlong(), v)
    r.complete()
  }
})

const str = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 10 }))
const nullableStr = fc.option(str, { nil: null })
const bytes: fc.Arbitrary<Buffer> = fc.uint8Array({ maxLength: 300 }).map((b): Buffer => Buffer.from(b))
const nullableBytes: fc.Arbitrary<Buffer | null> = fc.option(bytes, { nil: null })

test('strings and bytes, plain, compact and varint-prefixed, with null', () => {
  roundTrip(nullableStr, (w, v) => w.string(v), (r) => r.string())
  roundTrip(nullableStr, (w, v) => w.compactString(v), (r) => r.compactString())
  roundTrip(nullableStr, (w, v) => w.varintString(v), (r) => r.varintString())
  roundTrip(str, (w, v) => w.string(v), (r) => r.nonNullString())
  roundTrip(str, (w, v) => w.compactString(v), (r) => r.nonNullCompactString())
  roundTrip(nullableBytes, (w, v) => w.bytes(v), (r) => r.bytes())
  roundTrip(nullableBytes, (w, v) => w.compactBytes(v), (r) => r.compactBytes())
  roundTrip(nullableBytes, (w, v) => w.varintBytes(v), (r) => r.varintBytes())
  roundTrip(bytes, (w, v) => w.bytes(v), (r) => r.nonNullBytes())
  roundTrip(bytes, (w, v) => w.compactBytes(v), (r) => r.nonNullCompactBytes())
  const w = new Writer()
  w.string(null)
  w.compactString(null)
  w.bytes(null)
  w.compactBytes(null)
  w.string('é')
  w.compactString('ab')
  assert.deepStrictEqual(w.finishCopy(), Buffer.from([0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 2, 0xc3, 0xa9, 3, 0x61, 0x62]))
})

test('uuids round-trip in base64url form; a malformed one is refused', () => {
  const uuid = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'))
  roundTrip(uuid, (w, v) => w.uuid(v), (r) => r.uuid())
  assert.throws(() => new Writer().uuid('short'))
})

test('array lengths, plain and compact, with null', () => {
  const arb = fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null })
  fc.assert(
    fc.property(arb, (n) => {
      const w = new Writer(1)
      w.arrayLength(n)
      w.compactArrayLength(n)
      w.raw(Buffer.alloc(n ?? 0))
      const r = new Reader(w.finishCopy())
      assert.equal(r.arrayLength(0), n ?? -1)
      assert.equal(r.compactArrayLength(1), n ?? -1)
      r.raw(n ?? 0)
      r.complete()
    }),
  )
})

test('reserve and patch fill a size prefix last', () => {
  const w = new Writer(2)
  const at = w.reserve(4)
  w.string('hello, world')
  w.patchInt32(at, w.pos - at - 4)
  const r = new Reader(w.finishCopy())
  assert.equal(r.int32(), 14)
  assert.equal(r.string(), 'hello, world')
  r.complete()
})

test('beginUvarintSize/endUvarintSize size any value, moving it when the prefix needs more than a byte', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 20000 }), fc.uint8Array({ maxLength: 5 }), (body, before) => {
      const w = new Writer(1)
      w.raw(before)
      const at = w.beginUvarintSize()
      w.raw(body)
      w.endUvarintSize(at)
      w.int8(7)
      const r = new Reader(w.finishCopy())
      assert.deepStrictEqual(r.raw(before.length), Buffer.from(before))
      assert.equal(r.uvarint(), body.length)
      assert.deepStrictEqual(r.raw(body.length), Buffer.from(body))
      assert.equal(r.int8(), 7)
      r.complete()
    }),
    { numRuns: 100 },
  )
  for (const n of [0, 127, 128, 16383, 16384]) {
    const w = new Writer(1)
    const at = w.beginUvarintSize()
    w.raw(Buffer.alloc(n, 1))
    w.endUvarintSize(at)
    assert.equal(w.pos, uvarintSize(n) + n)
  }
})

test('raw tagged fields are written in order and refused out of order or on a known tag', () => {
  const fields = [
    { tag: 1, data: Buffer.from([1]) },
    { tag: 4, data: Buffer.from([4, 4]) },
    { tag: 9, data: Buffer.alloc(0) },
  ]
  const w = new Writer()
  w.uvarint(3)
  let u = w.rawTaggedFields(fields, 0, 3)
  assert.equal(u, 1)
  u = w.rawTaggedFields(fields, u, 5)
  assert.equal(u, 2)
  w.rawTaggedFields(fields, u, Infinity)
  const r = new Reader(w.finishCopy())
  assert.deepStrictEqual(r.taggedFields(), fields)
  r.complete()

  const all = new Writer()
  all.taggedFields(fields)
  all.taggedFields(undefined)
  all.taggedFields([])
  const r2 = new Reader(all.finishCopy())
  assert.deepStrictEqual(r2.unknownTaggedFields(), fields)
  assert.equal(r2.unknownTaggedFields(), undefined)
  assert.equal(r2.unknownTaggedFields(), undefined)
  r2.complete()

  assert.throws(() => new Writer().rawTaggedFields(fields, 0, 4), ProtocolEncodeError)
  assert.throws(() => new Writer().taggedFields([fields[1]!, fields[0]!]), ProtocolEncodeError)
  assert.throws(() => new Writer().taggedFields([fields[0]!, fields[0]!]), ProtocolEncodeError)
})

test('finish returns a view, finishCopy a copy; reset reuses the buffer', () => {
  const w = new Writer(4)
  w.int32(1)
  const view = w.finish()
  const copy = w.finishCopy()
  w.reset().int32(2)
  assert.equal(view.readInt32BE(0), 2)
  assert.equal(copy.readInt32BE(0), 1)
})

// ---------------------------------------------------------------------------------------------------
// Splicing: large raw bytes kept by reference, for vectored writes of Produce requests

const concat = (chunks: Uint8Array[]) => Buffer.concat(chunks)

test('a Produce request written with splicing is, chunk after chunk, the bytes a copying writer writes', async () => {
  const { Produce } = await import('../../src/protocol/messages/produce.js')
  const fill = (n: number, b: number) => Buffer.alloc(n, b)
  const batches = [fill(10, 1), fill(4096, 2), null, fill(100_000, 3), fill(1023, 4), fill(1024, 5)]
  for (let version = Produce.minVersion; version <= Produce.maxVersion; version++) {
    const req = Produce.newRequest()
    req.transactionalId = null
    req.acks = -1
    req.timeoutMs = 30_000
    req.topicData = [
      { name: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: batches.slice(0, 3).map((records, index) => ({ index, records })) },
      { name: 'b', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionData: batches.slice(3).map((records, index) => ({ index, records })) },
    ]
    const plain = new Writer(16)
    Produce.encodeRequest(plain, version, req)
    const want = plain.finishCopy()
    const w = new Writer(16)
    w.spliceMin = 1024
    Produce.encodeRequest(w, version, req)
    assert.equal(w.length, want.length, `v${version}: length counts spliced bytes`)
    assert.equal(w.spliceCount, 3, `v${version}: the 4 KiB, 100 KB and 1024-byte batches are spliced`)
    const chunks = w.finishChunks()
    assert.deepEqual(concat(chunks), want, `v${version}: same bytes`)
    for (const b of [batches[1], batches[3], batches[5]]) assert.ok(chunks.includes(b!), `v${version}: a spliced batch is the caller's Buffer, not a copy`)
    assert.ok(!chunks.includes(batches[0]!) && !chunks.includes(batches[4]!), `v${version}: batches under spliceMin are copied`)
    // With copy, the chunks survive the writer's reuse.
    const kept = w.finishChunks(true)
    w.reset()
    w.raw(fill(300, 0xee))
    assert.deepEqual(concat(kept), want, `v${version}: copied chunks outlive the writer's next message`)
    assert.equal(w.spliceCount, 0, 'reset drops spliced chunks')
  }
})

test('a uvarint size around spliced chunks counts them and moves them with the value', () => {
  const arb = fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('raw' as const), n: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ op: fc.constant('int32' as const), n: fc.integer() }),
      fc.record({ op: fc.constant('sized' as const), n: fc.integer({ min: 0, max: 300 }), m: fc.integer({ min: 0, max: 3 }) }),
    ),
    { maxLength: 12 },
  )
  fc.assert(
    fc.property(arb, fc.integer({ min: 1, max: 200 }), (ops, spliceMin) => {
      const write = (w: Writer) => {
        let byte = 0
        const bytes = (n: number) => Buffer.alloc(n, ++byte)
        for (const o of ops) {
          if (o.op === 'raw') w.raw(bytes(o.n))
          else if (o.op === 'int32') w.int32(o.n)
          else {
            // A tagged field's value: its size prefix is written after it, and may need 1-3 bytes.
            const at = w.beginUvarintSize()
            w.int16(7)
            for (let i = 0; i < o.m; i++) w.raw(bytes(o.n))
            w.endUvarintSize(at)
          }
        }
      }
      const plain = new Writer(1)
      write(plain)
      const w = new Writer(1)
      w.spliceMin = spliceMin
      write(w)
      assert.equal(w.length, plain.pos)
      assert.deepEqual(concat(w.finishChunks()), plain.finish())
    }),
    { numRuns: RUNS },
  )
})

test('a splicing writer refuses finish and finishCopy, and record batches, which a CRC covers', async () => {
  const { encodeRecordBatch } = await import('../../src/protocol/records.js')
  const w = new Writer(16)
  w.spliceMin = 8
  w.raw(Buffer.alloc(4))
  assert.deepEqual(w.finishCopy(), Buffer.alloc(4), 'nothing spliced yet: finishCopy works')
  w.raw(Buffer.alloc(8))
  assert.throws(() => w.finish(), ProtocolEncodeError)
  assert.throws(() => w.finishCopy(), ProtocolEncodeError)
  assert.throws(() => encodeRecordBatch(w, { producerId: -1n, producerEpoch: -1, baseSequence: -1, compression: 0, records: [] }), ProtocolEncodeError)
  w.reset()
  assert.equal(w.length, 0)
  assert.deepEqual(w.finishChunks(), [Buffer.alloc(0)], 'an empty message is one empty chunk')
})
