import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { crc32, crc32c } from '../../src/protocol/crc32c.js'
import { compress, CompressionError } from '../../src/protocol/compression/index.js'
import { ProtocolDecodeError, ProtocolEncodeError } from '../../src/protocol/errors.js'
import {
  CorruptRecordBatchError,
  decodeRecordBatches,
  encodedRecordSize,
  encodeRecordBatch,
  encodeRecordBatchBuffer,
  forEachDeferredRecord,
  RECORD_BATCH_OVERHEAD,
  restampRecordBatch,
  scanRecordBatches,
  type BatchRecord,
  type RecordBatch,
  type RecordBatchInput,
  type RecordCompression,
  type RecordInput,
} from '../../src/protocol/records.js'
import { Writer } from '../../src/protocol/writer.js'
import { BASE_TS, SAMPLE_BATCHES, SAMPLE_RECORDS } from '../fixtures/records/sample.js'

const FIXTURES = new URL('../fixtures/records/', import.meta.url)
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES))

/** JavaBatch is how MakeFixtures.java describes a batch the Java client read. */
interface JavaBatch {
  baseOffset: string
  lastOffset: string
  sizeInBytes: number
  magic: number
  crc: number
  compression: number
  timestampType: 'CreateTime' | 'LogAppendTime' | 'NoTimestampType'
  maxTimestamp: number
  isTransactional: boolean
  isControl: boolean
  producerId: string
  producerEpoch: number
  baseSequence: number
  partitionLeaderEpoch: number
  records: {
    offset: string
    timestamp: number
    key: string | null
    value: string | null
    headers: { key: string; value: string | null }[]
    controlType?: number
    coordinatorEpoch?: number
  }[]
}

const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'))
const bytesOf = (v: Uint8Array | string | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v)

const CODECS: RecordCompression[] = [0, 1, 2, 3, 4]

/** assertMatchesJava checks that our reading of a batch is the Java client's reading of it. */
function assertMatchesJava(got: RecordBatch, want: JavaBatch, where: string): void {
  assert.equal(String(got.baseOffset), want.baseOffset, `${where} baseOffset`)
  assert.equal(String(got.baseOffset + BigInt(got.lastOffsetDelta)), want.lastOffset, `${where} lastOffset`)
  assert.equal(got.batchLength + 12, want.sizeInBytes, `${where} size`)
  assert.equal(got.magic, want.magic, `${where} magic`)
  assert.equal(got.crc, want.crc, `${where} crc`)
  assert.equal(got.compression, want.compression, `${where} compression`)
  const tt = { CreateTime: 'create', LogAppendTime: 'log-append', NoTimestampType: 'none' }[want.timestampType]
  assert.equal(got.timestampType, tt, `${where} timestampType`)
  assert.equal(got.maxTimestamp, want.maxTimestamp, `${where} maxTimestamp`)
  assert.equal(got.isTransactional, want.isTransactional, `${where} isTransactional`)
  assert.equal(got.isControl, want.isControl, `${where} isControl`)
  assert.equal(String(got.producerId), want.producerId, `${where} producerId`)
  assert.equal(got.producerEpoch, want.producerEpoch, `${where} producerEpoch`)
  assert.equal(got.baseSequence, want.baseSequence, `${where} baseSequence`)
  assert.equal(got.partitionLeaderEpoch, want.partitionLeaderEpoch, `${where} partitionLeaderEpoch`)
  assert.equal(got.records.length, want.records.length, `${where} record count`)
  want.records.forEach((w, i) => {
    const r = got.records[i]!
    assert.deepEqual(
      { offset: String(r.offset), timestamp: r.timestamp, key: hex(r.key), value: hex(r.value), headers: r.headers.map((h) => ({ key: h.key, value: hex(h.value) })) },
      { offset: w.offset, timestamp: w.timestamp, key: w.key, value: w.value, headers: w.headers },
      `${where} record ${i}`,
    )
  })
  if (want.isControl && want.records.length > 0) {
    const w = want.records[0]!
    const type = w.controlType === 0 ? 'abort' : w.controlType === 1 ? 'commit' : w.controlType
    assert.deepEqual(got.control, { type, coordinatorEpoch: w.coordinatorEpoch ?? -1 }, `${where} control`)
  } else {
    assert.equal(got.control, null, `${where} control`)
  }
}

/** assertRecordsEqual checks decoded records against the inputs they were encoded from. */
function assertRecordsEqual(got: BatchRecord[], want: readonly RecordInput[], baseOffset: bigint, where: string): void {
  assert.equal(got.length, want.length, `${where}: record count`)
  want.forEach((w, i) => {
    const r = got[i]!
    assert.equal(r.offset, baseOffset + BigInt(w.offsetDelta ?? i), `${where}: offset of ${i}`)
    assert.equal(r.timestamp, w.timestamp, `${where}: timestamp of ${i}`)
    assert.deepEqual(r.key, bytesOf(w.key), `${where}: key of ${i}`)
    assert.deepEqual(r.value, bytesOf(w.value), `${where}: value of ${i}`)
    assert.deepEqual(
      r.headers,
      // A header key goes through UTF-8, which turns lone surrogates into U+FFFD.
      (w.headers ?? []).map((h) => ({ key: Buffer.from(h.key).toString(), value: bytesOf(h.value) })),
      `${where}: headers of ${i}`,
    )
  })
}

/** fixCrc recomputes the CRC-32C of the v2 batch at `start` after a test edited it. */
function fixCrc(buf: Buffer, start = 0): void {
  const end = start + 12 + buf.readInt32BE(start + 8)
  buf.writeUInt32BE(crc32c(buf, start + 21, end), start + 17)
}

/** legacyMessage builds one magic 0 or 1 message (offset and size included) with a valid CRC-32. */
function legacyMessage(magic: 0 | 1, offset: bigint, attributes: number, timestamp: number, key: Buffer | null, value: Buffer | null): Buffer {
  const w = new Writer()
  w.int64(offset)
  const sizeAt = w.reserve(4)
  const crcAt = w.reserve(4)
  w.int8(magic)
  w.int8(attributes)
  if (magic === 1) w.int64(BigInt(timestamp))
  w.bytes(key)
  w.bytes(value)
  w.patchInt32(sizeAt, w.pos - 12)
  w.patchUint32(crcAt, crc32(w.buf.subarray(16, w.pos)))
  return w.finishCopy()
}

const batch = (records: RecordInput[], more: Partial<RecordBatchInput> = {}): RecordBatchInput => ({
  producerId: -1n,
  producerEpoch: -1,
  baseSequence: -1,
  compression: 0,
  records,
  ...more,
})

// ---------------------------------------------------------------------------------------------------
// Interop with the Java client

const javaExpected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Record<string, JavaBatch[]>

for (const [name, want] of Object.entries(javaExpected)) {
  test(`Java-made fixture ${name} decodes as the Java client reads it`, () => {
    const got = decodeRecordBatches(fixture(name))
    assert.equal(got.truncated, false)
    assert.equal(got.length, want.length)
    want.forEach((w, i) => assertMatchesJava(got[i]!, w, `${name} batch ${i}`))
  })
}

test('our uncompressed encoding is byte for byte what the Java client writes', () => {
  const ours = encodeRecordBatchBuffer({
    baseOffset: 1000n,
    partitionLeaderEpoch: 7,
    producerId: 4242n,
    producerEpoch: 3,
    baseSequence: 17,
    compression: 0,
    records: SAMPLE_RECORDS,
  })
  assert.deepEqual(ours, fixture('v2-none.bin'))
})

const readByJava = JSON.parse(readFileSync(new URL('ours-read-by-java.json', FIXTURES), 'utf8')) as Record<string, JavaBatch[]>

for (const [name, inputs] of SAMPLE_BATCHES) {
  test(`the Java client read our ${name} batches as we meant them`, () => {
    const bytes = fixture(`ours-${name}.bin`)
    const java = readByJava[`ours-${name}.bin`]!
    assert.equal(java.length, inputs.length)
    const ours = decodeRecordBatches(bytes)
    inputs.forEach((input, i) => {
      const j = java[i]!
      assert.equal(j.baseOffset, String(input.baseOffset ?? 0n))
      assert.equal(j.compression, input.compression)
      assert.equal(j.isTransactional, input.isTransactional ?? false)
      assert.equal(j.isControl, input.isControl ?? false)
      assert.equal(j.producerId, String(input.producerId))
      assert.equal(j.producerEpoch, input.producerEpoch)
      assert.equal(j.baseSequence, input.baseSequence)
      assert.deepEqual(
        j.records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers })),
        input.records.map((r, k) => ({
          offset: String((input.baseOffset ?? 0n) + BigInt(r.offsetDelta ?? k)),
          timestamp: r.timestamp,
          key: hex(bytesOf(r.key)),
          value: hex(bytesOf(r.value)),
          headers: (r.headers ?? []).map((h) => ({ key: h.key, value: hex(bytesOf(h.value)) })),
        })),
      )
      // Java validated the CRC we wrote; our decoder reads the same batch the same way.
      assertMatchesJava(ours[i]!, j, `ours-${name} batch ${i}`)
    })
  })
}

test('encoding the samples again gives the committed bytes (uncompressed ones exactly)', () => {
  for (const [name, inputs] of SAMPLE_BATCHES) {
    const w = new Writer()
    for (const b of inputs) encodeRecordBatch(w, b)
    const committed = fixture(`ours-${name}.bin`)
    if (inputs.every((b) => b.compression === 0)) assert.deepEqual(w.finish(), committed, name)
    const again = decodeRecordBatches(w.finish())
    const before = decodeRecordBatches(committed)
    assert.equal(again.length, before.length)
    again.forEach((b, i) => assertRecordsEqual(b.records, inputs[i]!.records, inputs[i]!.baseOffset ?? 0n, name))
  }
})

// ---------------------------------------------------------------------------------------------------
// Round trips

const dataArb = (maxLength: number): fc.Arbitrary<Uint8Array | string | null> =>
  fc.oneof(
    fc.constant(null),
    fc.uint8Array({ maxLength }).map((a) => Buffer.from(a)),
    fc.string({ unit: 'binary', maxLength: maxLength >> 1 }),
    fc.constant(''),
  )

const headersArb = fc.array(
  fc.record({
    key: fc.oneof(fc.constantFrom('dup', 'trace', ''), fc.string({ unit: 'binary', maxLength: 12 })),
    value: dataArb(16),
  }),
  { maxLength: 4 },
)

const batchArb = fc
  .record({
    baseOffset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
    partitionLeaderEpoch: fc.integer({ min: -1, max: 0x7fffffff }),
    producerId: fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }),
    producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
    baseSequence: fc.integer({ min: -1, max: 0x7fffffff }),
    isTransactional: fc.boolean(),
    compression: fc.constantFrom(...CODECS),
    timestampType: fc.constantFrom('create' as const, 'log-append' as const),
    baseTimestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    records: fc.array(
      fc.record({
        key: dataArb(40),
        value: dataArb(200),
        headers: headersArb,
        // Deltas mostly small, sometimes beyond int32 either way (the varlong path).
        tsDelta: fc.oneof(fc.integer({ min: -1000, max: 100_000 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
        gap: fc.integer({ min: 0, max: 3 }),
      }),
      { maxLength: 20 },
    ),
  })
  .map(({ records, baseTimestamp, ...rest }): RecordBatchInput => {
    let offsetDelta = -1
    return {
      ...rest,
      baseTimestamp,
      records: records.map(({ tsDelta, gap, ...r }) => {
        offsetDelta += 1 + gap
        return { ...r, timestamp: baseTimestamp + tsDelta, offsetDelta }
      }),
    }
  })

test('round trip: random batches of 0..20 records, every codec, in one buffer', () => {
  fc.assert(
    fc.property(fc.array(batchArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 64 }), (batches, prefix) => {
      // The writer already holds other bytes and starts small, so batches land mid-buffer and it regrows.
      const w = new Writer(16)
      for (let i = 0; i < prefix; i++) w.uint8(0xee)
      const sizes = batches.map((b) => encodeRecordBatch(w, b))
      const bytes = w.finish().subarray(prefix)
      assert.equal(bytes.length, sizes.reduce((a, b) => a + b, 0))
      const got = decodeRecordBatches(bytes)
      assert.equal(got.truncated, false)
      assert.equal(got.length, batches.length)
      batches.forEach((input, i) => {
        const b = got[i]!
        const n = input.records.length
        assert.equal(b.baseOffset, input.baseOffset)
        assert.equal(b.batchLength + 12, sizes[i])
        assert.equal(b.magic, 2)
        assert.equal(b.compression, input.compression)
        assert.equal(b.timestampType, input.timestampType)
        assert.equal(b.isTransactional, input.isTransactional)
        assert.equal(b.isControl, false)
        assert.equal(b.hasDeleteHorizon, false)
        assert.equal(b.partitionLeaderEpoch, input.partitionLeaderEpoch)
        assert.equal(b.producerId, input.producerId)
        assert.equal(b.producerEpoch, input.producerEpoch)
        assert.equal(b.baseSequence, input.baseSequence)
        assert.equal(b.lastOffsetDelta, n > 0 ? input.records[n - 1]!.offsetDelta : -1)
        assert.equal(b.baseTimestamp, n > 0 ? input.baseTimestamp : input.baseTimestamp)
        const maxTs = Math.max(input.baseTimestamp!, ...input.records.map((r) => r.timestamp!))
        assert.equal(b.maxTimestamp, maxTs)
        if (input.timestampType === 'log-append') {
          // Log-append batches give every record the batch's max timestamp, as brokers stamp them.
          assert.ok(b.records.every((r) => r.timestamp === maxTs), 'every record has the log-append time')
          assertRecordsEqual(b.records, input.records.map((r) => ({ ...r, timestamp: maxTs })), input.baseOffset!, `batch ${i}`)
        } else {
          assertRecordsEqual(b.records, input.records, input.baseOffset!, `batch ${i}`)
        }
        if (input.compression === 0) {
          let size = RECORD_BATCH_OVERHEAD
          input.records.forEach((r) => (size += encodedRecordSize(r, r.offsetDelta!, r.timestamp! - input.baseTimestamp!)))
          assert.equal(size, sizes[i], 'encodedRecordSize adds up to the batch')
        }
      })
    }),
    { numRuns: 150 },
  )
})

test('header keys: interned short ASCII keys, colliding keys, non-ASCII and long keys all decode as written', () => {
  // 600 distinct short keys cannot share 256 intern slots: many collide and each must still decode
  // to itself, repeated keys to the same string, and keys the interning leaves out (non-ASCII, over
  // 32 bytes, an empty one) as UTF-8.
  const keys = Array.from({ length: 600 }, (_, i) => `k${i}`)
  keys.push('', 'traceparent', 'x'.repeat(32), 'y'.repeat(33), 'z'.repeat(70), 'é', '日本', 'a\u007f')
  const records: RecordInput[] = []
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < keys.length; i += 3) {
      records.push({ value: null, timestamp: BASE_TS, headers: keys.slice(i, i + 3).map((key, j) => ({ key, value: j === 0 ? null : `${round}` })) })
    }
  }
  const [b] = decodeRecordBatches(encodeRecordBatchBuffer(batch(records)))
  assertRecordsEqual(b!.records, records, 0n, 'interned keys')
  // A key decoded again is the same string (interning hands out one), whatever came in between.
  const last = b!.records.length - 1
  assert.equal(b!.records[last]!.headers[0]!.key, records[last]!.headers![0]!.key)
})

test('offsets: deltas inside and beyond the precomputed small ones, over a large base offset', () => {
  const deltas = [0, 1, 4094, 4095, 4096, 4097, 65_536, 2 ** 31 - 1]
  const records: RecordInput[] = deltas.map((offsetDelta) => ({ value: `${offsetDelta}`, timestamp: BASE_TS, offsetDelta }))
  const base = 2n ** 62n
  const [b] = decodeRecordBatches(encodeRecordBatchBuffer(batch(records, { baseOffset: base })))
  assert.deepEqual(b!.records.map((r) => r.offset), deltas.map((d) => base + BigInt(d)))
})

test('a record whose timestamp delta needs a 64-bit varint, written where the writer must regrow', () => {
  // The writer holds exactly the batch's bytes, so the 10 bytes the varlong path ensures make it
  // regrow in the middle of the last record; what follows the timestamp must land in the new buffer.
  const records: RecordInput[] = [
    { value: null, timestamp: BASE_TS },
    { value: null, timestamp: BASE_TS + 2 ** 32 },
  ]
  const exact = encodeRecordBatchBuffer(batch(records)).length
  for (let prefix = 0; prefix < 4; prefix++) {
    const w = new Writer(prefix + exact)
    for (let i = 0; i < prefix; i++) w.uint8(0xee)
    encodeRecordBatch(w, batch(records))
    assert.ok(w.buf.length > prefix + exact, 'the writer regrew')
    const [b] = decodeRecordBatches(w.finish().subarray(prefix))
    assertRecordsEqual(b!.records, records, 0n, `prefix ${prefix}`)
  }
})

test('decoded records are views of the fetched (or decompressed) bytes, one shape for every magic', () => {
  for (const codec of CODECS) {
    const bytes = encodeRecordBatchBuffer(batch(SAMPLE_RECORDS, { compression: codec }))
    const [b] = decodeRecordBatches(bytes)
    const backing = b!.records[0]!.key!.buffer
    if (codec === 0) assert.equal(backing, bytes.buffer)
    for (const r of b!.records) {
      for (const v of [r.key, r.value, ...r.headers.map((h) => h.value)]) if (v !== null) assert.equal(v.buffer, backing)
    }
  }
  const shapes = new Set<string>()
  for (const name of Object.keys(javaExpected)) {
    for (const b of decodeRecordBatches(fixture(name))) {
      shapes.add(Object.keys(b).join())
      for (const r of b.records) shapes.add(Object.keys(r).join())
    }
  }
  assert.deepEqual([...shapes].sort(), [
    'baseOffset,batchLength,partitionLeaderEpoch,magic,crc,attributes,compression,timestampType,isTransactional,isControl,hasDeleteHorizon,lastOffsetDelta,baseTimestamp,maxTimestamp,producerId,producerEpoch,baseSequence,records,control',
    'offset,timestamp,key,value,headers',
  ])
})

test('copyUncompressed: uncompressed v2 records view one copy of their batch, so the input can be overwritten; legacy ones still view it', () => {
  const a = encodeRecordBatchBuffer(batch(SAMPLE_RECORDS, { baseOffset: 0n }))
  const b = encodeRecordBatchBuffer(batch(SAMPLE_RECORDS, { baseOffset: BigInt(SAMPLE_RECORDS.length), compression: 3 }))
  // Its own memory (not a slice of Node's Buffer pool, where the copies of small batches come from).
  const joined = Buffer.concat([a, b, fixture('v0-none.bin')])
  const input = Buffer.allocUnsafeSlow(joined.length)
  joined.copy(input)
  const want = decodeRecordBatches(Buffer.from(input))
  const got = decodeRecordBatches(input, { copyUncompressed: true })
  assert.equal(got.length, want.length)
  const copy = got[0]!.records[0]!.value!.buffer
  assert.notEqual(copy, input.buffer)
  for (const r of got[0]!.records) for (const v of [r.key, r.value, ...r.headers.map((h) => h.value)]) if (v !== null) assert.equal(v.buffer, copy, 'one copy per batch')
  assert.notEqual(got[1]!.records[0]!.value!.buffer, input.buffer, 'a compressed batch views its decompressed bytes')
  const legacy = got.slice(2).flatMap((x) => x.records).filter((r) => r.value !== null)
  assert.ok(legacy.length > 0)
  for (const r of legacy) assert.equal(r.value!.buffer, input.buffer, 'a legacy message set is decoded as before, viewing the input')
  assert.deepEqual(got, want)
  input.fill(0xee, 0, a.length + b.length)
  for (let i = 0; i < 2; i++) assert.deepEqual(got[i]!.records, want[i]!.records, `batch ${i} unchanged after its input was overwritten`)
})

test('viewsInput says whether a decoded record views the input: uncompressed v2 in place and uncompressed legacy sets do, copies and decompressed batches do not', () => {
  const plain = encodeRecordBatchBuffer(batch(SAMPLE_RECORDS))
  const lz4 = encodeRecordBatchBuffer(batch(SAMPLE_RECORDS, { compression: 3 }))
  const legacy = fixture('v0-none.bin')
  const views = (input: Buffer, copyUncompressed: boolean) => decodeRecordBatches(input, { copyUncompressed }).viewsInput
  assert.deepEqual([views(plain, false), views(plain, true), views(lz4, false), views(lz4, true)], [true, false, false, false])
  assert.deepEqual([views(legacy, false), views(legacy, true), views(fixture('v0-gzip.bin'), true)], [true, true, false])
  assert.equal(views(Buffer.concat([lz4, plain]), true), false)
  assert.equal(views(Buffer.concat([lz4, plain, legacy]), true), true)
  assert.equal(views(encodeRecordBatchBuffer(batch([])), false), false, 'a batch without records views nothing')
})

test('copyUncompressed: a batch over 64 KiB is copied in runs of whole records of at most 64 KiB; a larger record is a run of its own', () => {
  const values = Array.from({ length: 300 }, (_, i) => Buffer.alloc(i === 150 ? 100_000 : 1000 + (i % 7), i & 0xff))
  const bytes = encodeRecordBatchBuffer(batch(values.map((value, i) => ({ key: `k${i}`, value, headers: [{ key: 'h', value: String(i) }], timestamp: BASE_TS + i }))))
  const input = Buffer.allocUnsafeSlow(bytes.length)
  bytes.copy(input)
  const want = decodeRecordBatches(Buffer.from(bytes))[0]!.records
  const got = decodeRecordBatches(input, { copyUncompressed: true })[0]!.records
  assert.deepEqual(got, want)
  const runs = new Set(got.map((r) => r.value!.buffer))
  assert.ok(runs.size >= 6, `${runs.size} runs`)
  for (const r of got) {
    assert.notEqual(r.value!.buffer, input.buffer)
    for (const v of [r.key, ...r.headers.map((h) => h.value)]) assert.equal(v!.buffer, r.value!.buffer, 'a record lies within one run')
    if (r.value!.length < 100_000) assert.ok(r.value!.buffer.byteLength <= 64 << 10, `a run of at most 64 KiB (${r.value!.buffer.byteLength})`)
  }
  const big = got[150]!.value!
  assert.ok(got.every((r, i) => i === 150 || r.value!.buffer !== big.buffer), 'the 100,000-byte record is a run of its own')
  input.fill(0)
  assert.deepEqual(got, want, 'nothing views the input')
})

test('copyUncompressed: a corrupt record in a run is reported as when decoding in place, at the same byte of the records', () => {
  const bytes = encodeRecordBatchBuffer(batch(Array.from({ length: 200 }, (_, i) => ({ key: null, value: Buffer.alloc(1000, i), timestamp: BASE_TS }))))
  // Record 120's length prefix (a 2-byte varint) made to claim 8,191 bytes: decoding must fail there.
  const first = decodeRecordBatches(Buffer.from(bytes))[0]!.records
  // Record 120 starts after record 119's value and its header count (one byte: none).
  const p = first[119]!.value!.byteOffset - bytes.byteOffset + 1000 + 1
  assert.ok(p < first[120]!.value!.byteOffset - bytes.byteOffset)
  const messages = [false, true].map((copyUncompressed) => {
    const b = Buffer.from(bytes)
    b[p] = 0xfe
    b[p + 1] = 0x7f
    try {
      decodeRecordBatches(b, { verifyCrc: false, copyUncompressed })
      return 'decoded'
    } catch (err) {
      assert.ok(err instanceof CorruptRecordBatchError)
      return (err as Error).message
    }
  })
  assert.match(messages[0]!, /record 120: .* at byte \d+ of the records/)
  assert.equal(messages[1], messages[0])
})

/** deferredRecords makes the records of a batch decoded with deferRecords, with the client's fields. */
function deferredRecords(b: RecordBatch, from: bigint | null = null): BatchRecord[] {
  const out: BatchRecord[] = []
  forEachDeferredRecord(b, { topic: 't', partition: 3 }, from, (r) => out.push(r))
  return out
}

/** decodeOutcome decodes `bytes` and gives what came out: the batches with their records made, or the error's message. */
function decodeOutcome(bytes: Buffer, deferRecords: boolean): string | RecordBatch[] {
  try {
    const got = decodeRecordBatches(bytes, { verifyCrc: false, maxDecompressedBytes: 4 * 1024 * 1024, recordFields: { topic: 't', partition: 3 }, copyUncompressed: true, deferRecords })
    return got.map((b) => {
      const { deferred, ...rest } = b
      return deferred === undefined ? rest : { ...rest, records: deferredRecords(b) }
    })
  } catch (err) {
    if (!(err instanceof ProtocolDecodeError)) throw err
    return err.message
  }
}

test('deferRecords: data batches keep their records as bytes; made later they equal the records decoded at once, in every codec', () => {
  fc.assert(
    fc.property(fc.array(batchArb, { minLength: 1, maxLength: 4 }), (batches) => {
      const w = new Writer(16)
      for (const b of batches) encodeRecordBatch(w, b)
      const bytes = w.finish()
      const at = decodeRecordBatches(Buffer.from(bytes), { recordFields: { topic: 't', partition: 3 } })
      const input = Buffer.from(bytes)
      const later = decodeRecordBatches(input, { recordFields: { topic: 't', partition: 3 }, copyUncompressed: true, deferRecords: true })
      assert.equal(later.viewsInput, false)
      // Without copyUncompressed, uncompressed batches' deferred records view the input (and say so).
      const viewing = decodeRecordBatches(Buffer.from(bytes), { recordFields: { topic: 't', partition: 3 }, deferRecords: true })
      const uncompressedRecords = viewing.some((b) => b.compression === 0 && b.deferred !== undefined && b.deferred.count > 0)
      assert.equal(viewing.viewsInput, uncompressedRecords)
      viewing.forEach((b, i) => assert.deepEqual(deferredRecords(b), at[i]!.records, `batch ${i}: made from the input itself`))
      input.fill(0)
      assert.equal(later.length, at.length)
      later.forEach((b, i) => {
        assert.deepEqual(b.records, [], 'no record is made while decoding')
        assert.equal(b.deferred!.count, at[i]!.records.length)
        const rs = at[i]!.records
        assert.equal(b.deferred!.lastDelta, rs.length > 0 ? Number(rs[rs.length - 1]!.offset - b.baseOffset) : -1)
        assert.equal(b.deferred!.minDelta, rs.length > 0 ? Number(rs[0]!.offset - b.baseOffset) : 0)
        assert.deepEqual(deferredRecords(b), rs, `batch ${i}: the records made from the bytes`)
        if (rs.length > 1) assert.deepEqual(deferredRecords(b, rs[1]!.offset), rs.slice(1), 'from leaves out the records before it')
      })
    }),
    { numRuns: 150 },
  )
})

test('deferRecords: a large uncompressed batch is kept in runs of at most 64 KiB; control batches are decoded at once', () => {
  const values = Array.from({ length: 300 }, (_, i) => Buffer.alloc(i === 150 ? 100_000 : 1000 + (i % 7), i & 0xff))
  const bytes = encodeRecordBatchBuffer(batch(values.map((value, i) => ({ key: `k${i}`, value, headers: [{ key: 'h', value: String(i) }], timestamp: BASE_TS + i }))))
  const b = decodeRecordBatches(Buffer.from(bytes), { copyUncompressed: true, deferRecords: true })[0]!
  assert.ok(b.deferred!.runs.length >= 6, `${b.deferred!.runs.length} runs`)
  for (const run of b.deferred!.runs) assert.ok(run.length <= 64 << 10 || run.length > 100_000, `run of ${run.length} bytes`)
  const want = decodeRecordBatches(Buffer.from(bytes))[0]!.records
  const out: BatchRecord[] = []
  forEachDeferredRecord(b, null, null, (r) => out.push(r))
  assert.deepEqual(out, want)
  const marker = batch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 7]), timestamp: BASE_TS }], { isTransactional: true, isControl: true, producerId: 5n, producerEpoch: 1 })
  const control = decodeRecordBatches(encodeRecordBatchBuffer(marker), { deferRecords: true })[0]!
  assert.equal(control.isControl, true)
  assert.equal(control.deferred, undefined)
  assert.equal(control.records.length, 1)
  assert.deepEqual(control.control, { type: 'commit', coordinatorEpoch: 7 })
})

test('deferRecords: mutated batches fail with the same message as decoding at once, or give the same records', () => {
  const sources = [...Object.keys(javaExpected).map(fixture), ...SAMPLE_BATCHES.map(([n]) => fixture(`ours-${n}.bin`))]
  let failed = 0
  fc.assert(
    fc.property(fc.nat({ max: sources.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (which, flips) => {
      const bytes = Buffer.from(sources[which]!)
      // Past the batch header, where records are: the checks that differ between the two paths.
      for (const [at, x] of flips) bytes[RECORD_BATCH_OVERHEAD + (at % Math.max(1, bytes.length - RECORD_BATCH_OVERHEAD))] ^= x
      const now = decodeOutcome(Buffer.from(bytes), false)
      if (typeof now === 'string') failed++
      assert.deepEqual(decodeOutcome(Buffer.from(bytes), true), now)
    }),
    { numRuns: 2000 },
  )
  assert.ok(failed > 100, `${failed} of 2,000 mutations failed to decode`)
})

test('control batches: commit, abort, and types clients do not act on', () => {
  const marker = (type: number, epoch: number): RecordBatchInput =>
    batch(
      [{ key: Buffer.from([0, 0, 0, type]), value: Buffer.from([0, 0, 0, 0, 0, epoch]), timestamp: BASE_TS }],
      { baseOffset: 10n, isTransactional: true, isControl: true, producerId: 5n, producerEpoch: 1 },
    )
  const bytes = Buffer.concat([marker(1, 7), marker(0, 8), marker(5, 9)].map(encodeRecordBatchBuffer))
  const got = decodeRecordBatches(bytes)
  assert.deepEqual(got.map((b) => b.control), [
    { type: 'commit', coordinatorEpoch: 7 },
    { type: 'abort', coordinatorEpoch: 8 },
    { type: 5, coordinatorEpoch: -1 },
  ])
  assert.ok(got.every((b) => b.isControl && b.isTransactional && b.records.length === 1), 'transactional control batches of one record')

  // Later versions of the key and value are read as version 0, as Java does; negative ones are corrupt.
  const v1 = batch([{ key: Buffer.from([0, 1, 0, 1]), value: Buffer.from([0, 1, 0, 0, 1, 0, 0xff]), timestamp: 1 }], { isControl: true })
  assert.deepEqual(decodeRecordBatches(encodeRecordBatchBuffer(v1))[0]!.control, { type: 'commit', coordinatorEpoch: 256 })
  for (const [key, value] of [
    [Buffer.from([0, 0, 1]), Buffer.alloc(6)],
    [Buffer.from([0xff, 0xff, 0, 1]), Buffer.alloc(6)],
    [null, Buffer.alloc(6)],
    [Buffer.from([0, 0, 0, 1]), Buffer.alloc(5)],
    [Buffer.from([0, 0, 0, 0]), null],
    [Buffer.from([0, 0, 0, 0]), Buffer.from([0x80, 0, 0, 0, 0, 0])],
  ] as const) {
    const b = encodeRecordBatchBuffer(batch([{ key, value, timestamp: 1 }], { baseOffset: 33n, isControl: true }))
    assert.throws(() => decodeRecordBatches(b), (e: unknown) => e instanceof ProtocolDecodeError && /offset 33/.test(e.message))
  }
  // A control batch emptied by compaction has no marker left to read.
  assert.equal(decodeRecordBatches(encodeRecordBatchBuffer(batch([], { isControl: true })))[0]!.control, null)
})

test('the delete horizon flag (KIP-534) is reported and timestamps still count from baseTimestamp', () => {
  const bytes = encodeRecordBatchBuffer(batch([{ key: 'k', value: 'v', timestamp: BASE_TS + 5 }], { baseTimestamp: BASE_TS }))
  bytes.writeInt16BE(bytes.readInt16BE(21) | 0x40, 21)
  fixCrc(bytes)
  const [b] = decodeRecordBatches(bytes)
  assert.equal(b!.hasDeleteHorizon, true)
  assert.equal(b!.records[0]!.timestamp, BASE_TS + 5)
})

test('restampRecordBatch rewrites producer id, epoch and sequence with a valid CRC', () => {
  for (const codec of CODECS) {
    const bytes = encodeRecordBatchBuffer(batch(SAMPLE_RECORDS, { compression: codec, producerId: 1n, producerEpoch: 0, baseSequence: 0 }))
    restampRecordBatch(bytes, 77n, 4, 1234)
    const [b] = decodeRecordBatches(bytes)
    assert.deepEqual([b!.producerId, b!.producerEpoch, b!.baseSequence], [77n, 4, 1234])
    assertRecordsEqual(b!.records, SAMPLE_RECORDS, 0n, `codec ${codec}`)
  }
  assert.throws(() => restampRecordBatch(Buffer.alloc(10), 1n, 1, 1), ProtocolEncodeError)
})

test('strings are written as UTF-8; a missing key or headers are null and none', () => {
  const inputs: RecordInput[] = [
    { value: 'no key at all', timestamp: 1 },
    { key: '\ud800 lone surrogate', value: 'x\udfff', headers: [{ key: '\udc00', value: 'é' }], timestamp: 2 },
    { key: new Uint8Array([1, 2, 3]), value: 'ü'.repeat(1000), timestamp: 3 },
  ]
  for (const codec of CODECS) {
    const [b] = decodeRecordBatches(encodeRecordBatchBuffer(batch(inputs, { compression: codec })))
    assertRecordsEqual(b!.records, inputs, 0n, `codec ${codec}`)
    assert.equal(b!.records[1]!.key!.subarray(0, 3).toString('hex'), 'efbfbd')
    assert.equal(b!.records[1]!.headers[0]!.key, '\ufffd')
  }
})

test('encoding rejects what cannot be written', () => {
  assert.throws(() => encodeRecordBatchBuffer(batch([{ key: null, value: 'v' }])), ProtocolEncodeError)
  assert.throws(() => encodeRecordBatchBuffer(batch([{ key: null, value: 'v', timestamp: 1.5 }])), ProtocolEncodeError)
  assert.throws(() => encodeRecordBatchBuffer(batch([], { compression: 7 as RecordCompression })), ProtocolEncodeError)
  assert.throws(
    () => encodeRecordBatchBuffer(batch([{ key: null, value: 'v', timestamp: 1, headers: [{ key: null as unknown as string, value: 'x' }] }])),
    ProtocolEncodeError,
  )
})

// ---------------------------------------------------------------------------------------------------
// Legacy message sets built by hand (their edge cases)

test('legacy v1 wrappers: relative inner offsets, the librdkafka zero offset, log-append time', () => {
  const inner = Buffer.concat([
    legacyMessage(1, 0n, 0, 111, Buffer.from('a'), Buffer.from('1')),
    legacyMessage(1, 1n, 0, 222, null, Buffer.from('2')),
    legacyMessage(1, 2n, 0, 333, Buffer.from('c'), null),
  ])
  const wrapper = (offset: bigint, attributes: number, ts: number) => legacyMessage(1, offset, attributes, ts, null, compress(1, inner))
  const [b] = decodeRecordBatches(wrapper(52n, 1, 333))
  assert.deepEqual(b!.records.map((r) => [r.offset, r.timestamp]), [[50n, 111], [51n, 222], [52n, 333]])
  assert.equal(b!.baseOffset, 50n)
  assert.equal(b!.lastOffsetDelta, 2)
  assert.deepEqual(b!.records.map((r) => [hex(r.key), hex(r.value)]), [['61', '31'], [null, '32'], ['63', null]])

  const [zero] = decodeRecordBatches(wrapper(0n, 1, 333))
  assert.deepEqual(zero!.records.map((r) => r.offset), [0n, 1n, 2n])

  const [lat] = decodeRecordBatches(wrapper(52n, 1 | 0x08, 999))
  assert.equal(lat!.timestampType, 'log-append')
  assert.deepEqual(lat!.records.map((r) => r.timestamp), [999, 999, 999])

  assert.throws(() => decodeRecordBatches(wrapper(1n, 1, 0)), /wrapper offset 1 is below the last inner offset 2/)
})

test('legacy wrappers that are corrupt fail with ProtocolDecodeError', () => {
  const one = legacyMessage(0, 5n, 0, -1, null, Buffer.from('x'))
  const cases: [RegExp, Buffer][] = [
    [/inner messages must not be compressed/, legacyMessage(0, 9n, 1, -1, null, compress(1, legacyMessage(0, 9n, 1, -1, null, compress(1, one))))],
    [/inner message magic 0 differs from the wrapper's 1/, legacyMessage(1, 9n, 1, 0, null, compress(1, one))],
    [/holds no inner messages/, legacyMessage(0, 9n, 1, -1, null, compress(1, Buffer.alloc(0)))],
    [/ends with 5 stray bytes/, legacyMessage(0, 9n, 1, -1, null, compress(1, Buffer.concat([one, Buffer.alloc(5)])))],
    [/inner message size 15 does not fit/, legacyMessage(0, 9n, 1, -1, null, compress(1, one.subarray(0, one.length - 1)))],
    [/null value/, legacyMessage(0, 9n, 1, -1, null, null)],
    [/codec 4 is not valid in a magic 1 message/, legacyMessage(1, 9n, 4, 0, null, compress(4, one))],
    [/cannot decompress/, legacyMessage(0, 9n, 2, -1, null, Buffer.from('not snappy at all'))],
  ]
  for (const [reason, bytes] of cases) {
    assert.throws(() => decodeRecordBatches(bytes), (e: unknown) => e instanceof ProtocolDecodeError && /offset 9 /.test(e.message) && reason.test(e.message), String(reason))
  }
  const badCrc = Buffer.from(one)
  badCrc[badCrc.length - 1] ^= 1
  assert.throws(() => decodeRecordBatches(badCrc), /offset 5 .*CRC-32 mismatch/)
  assert.equal(decodeRecordBatches(badCrc, { verifyCrc: false })[0]!.records[0]!.value!.toString(), 'y')
  // A key length running past the message.
  const longKey = Buffer.from(one)
  longKey.writeInt32BE(1000, 18)
  longKey.writeUInt32BE(crc32(longKey.subarray(16)), 12)
  assert.throws(() => decodeRecordBatches(longKey), ProtocolDecodeError)
})

// ---------------------------------------------------------------------------------------------------
// Truncation, corruption, hostile input

test('a batch cut anywhere ends decoding cleanly with the complete batches before it', () => {
  const bytes = fixture('mixed.bin')
  const all = decodeRecordBatches(bytes)
  const ends: number[] = []
  let end = 0
  for (const b of all) ends.push((end += b.batchLength + 12))
  for (let cut = 0; cut <= bytes.length; cut++) {
    const got = decodeRecordBatches(bytes.subarray(0, cut))
    const complete = ends.filter((e) => e <= cut).length
    assert.equal(got.length, complete, `cut at ${cut}`)
    assert.equal(got.truncated, cut !== 0 && !ends.includes(cut), `cut at ${cut}`)
  }
})

/** expectScan is what a consumer makes of decoded batches from offset `from`: where it fetches next, the last epoch, the records. */
function expectScan(batches: readonly RecordBatch[], from: bigint): { next: bigint; leaderEpoch: number; records: number } {
  let next = from
  let leaderEpoch = -1
  let records = 0
  for (const b of batches) {
    const last = b.baseOffset + BigInt(b.lastOffsetDelta)
    if (last < next) continue
    next = last + 1n
    if (b.partitionLeaderEpoch >= 0) leaderEpoch = b.partitionLeaderEpoch
    records += b.records.length
  }
  return { next, leaderEpoch, records }
}

test('scanRecordBatches: the headers say what decoding says of offsets, epochs and counts, cut anywhere, from any offset', () => {
  fc.assert(
    fc.property(fc.array(batchArb, { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat(), (batches, cutSeed, fromSeed) => {
      const bytes = Buffer.concat(batches.map((b) => encodeRecordBatchBuffer(b)))
      const cut = bytes.subarray(0, cutSeed % (bytes.length + 1))
      const decoded = decodeRecordBatches(cut)
      const offsets = decoded.flatMap((b) => b.records.map((r) => r.offset))
      const from = offsets.length > 0 && fromSeed % 3 !== 0 ? offsets[fromSeed % offsets.length]! : 0n
      const scan = scanRecordBatches(cut, from)
      assert.deepEqual({ next: scan.next, leaderEpoch: scan.leaderEpoch, records: scan.records }, expectScan(decoded, from))
      assert.equal(scan.exact, true)
      assert.equal(scan.corrupt, false)
    }),
    { numRuns: 150 },
  )
})

test('scanRecordBatches stops at a batch whose CRC does not match, and leaves legacy message sets to decoding', () => {
  const good = (offset: bigint) => encodeRecordBatchBuffer(batch([{ key: 'k', value: 'v', timestamp: 1 }, { key: 'k', value: 'w', timestamp: 2 }], { baseOffset: offset, partitionLeaderEpoch: 7 }))
  const bad = good(14n)
  bad[bad.length - 1] ^= 1
  assert.deepEqual(scanRecordBatches(Buffer.concat([good(10n), good(12n), bad, good(16n)]), 10n), { next: 14n, leaderEpoch: 7, records: 4, exact: true, corrupt: true })
  assert.deepEqual(scanRecordBatches(bad, 14n), { next: 14n, leaderEpoch: -1, records: 0, exact: true, corrupt: true })
  // verifyCrc false (a consumer's disableFetchCRCValidation): no checksum is checked, the scan goes on past it.
  assert.deepEqual(scanRecordBatches(Buffer.concat([good(10n), good(12n), bad, good(16n)]), 10n, false), { next: 18n, leaderEpoch: 7, records: 8, exact: true, corrupt: false })
  // A magic 1 message set (v1-none.bin) is not a v2 batch: the scan says so and checks nothing after it.
  const legacy = fixture('v1-none.bin')
  assert.deepEqual(scanRecordBatches(Buffer.concat([good(10n), legacy]), 10n), { next: 12n, leaderEpoch: 7, records: 2, exact: false, corrupt: false })
  // A size field below a v2 header's is corrupt in a way only decoding can name.
  const small = good(10n)
  small.writeInt32BE(20, 8)
  assert.equal(scanRecordBatches(small, 10n).exact, false)
})

test('a corrupted CRC is a ProtocolDecodeError naming the batch offset', () => {
  for (const codec of CODECS) {
    const bytes = encodeRecordBatchBuffer(batch(SAMPLE_RECORDS, { compression: codec, baseOffset: 4321n }))
    bytes[bytes.length - 3] ^= 0x10
    assert.throws(
      () => decodeRecordBatches(bytes),
      (e: unknown) => e instanceof ProtocolDecodeError && /offset 4321 .*CRC-32C mismatch/.test(e.message),
    )
  }
  // Without verification, a flipped value byte reads through.
  const plain = encodeRecordBatchBuffer(batch([{ key: null, value: 'abc', timestamp: 1 }]))
  plain[plain.length - 2] ^= 0x01
  assert.equal(decodeRecordBatches(plain, { verifyCrc: false })[0]!.records[0]!.value!.toString(), 'abb')
})

test('a corrupt batch after good ones: the error carries the good ones and the bad offset', () => {
  const good = (offset: bigint) => encodeRecordBatchBuffer(batch([{ key: 'k', value: 'v', timestamp: 1 }], { baseOffset: offset }))
  const bad = good(12n)
  bad[bad.length - 1] ^= 1
  try {
    decodeRecordBatches(Buffer.concat([good(10n), good(11n), bad, good(13n)]))
    assert.fail('decoded a corrupt batch')
  } catch (e) {
    assert.ok(e instanceof CorruptRecordBatchError, 'a CorruptRecordBatchError')
    assert.ok(e instanceof ProtocolDecodeError, 'which is a ProtocolDecodeError')
    assert.equal(e.code, 'PROTOCOL_DECODE')
    assert.equal(e.offset, 12n)
    assert.deepEqual(e.decoded.map((b) => b.baseOffset), [10n, 11n])
  }
})

/** hostile builds a v2 batch from a records section and a record count, with a valid CRC. */
function hostile(count: number, records: Buffer, compression: RecordCompression = 0): Buffer {
  const bytes = encodeRecordBatchBuffer(batch([], { compression: 0, baseOffset: 99n }))
  const out = Buffer.concat([bytes, records])
  out.writeInt32BE(out.length - 12, 8)
  out.writeInt16BE(compression, 21)
  out.writeInt32BE(count, 57)
  fixCrc(out)
  return out
}

/** assertFailsFast checks a decode fails with ProtocolDecodeError, quickly and without a large allocation. */
function assertFailsFast(bytes: Buffer, what: string, reason?: RegExp, opts?: { maxDecompressedBytes?: number }): void {
  const before = process.memoryUsage()
  const t0 = process.hrtime.bigint()
  assert.throws(() => decodeRecordBatches(bytes, opts), (e: unknown) => e instanceof ProtocolDecodeError && (reason === undefined || reason.test(e.message)), what)
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  const after = process.memoryUsage()
  // Generous for a loaded CI machine; a loop over a hostile count or an allocation from it takes far longer.
  assert.ok(ms < 1000, `${what}: took ${ms} ms`)
  assert.ok(after.arrayBuffers - before.arrayBuffers < 16 * 1024 * 1024, `${what}: allocated ${after.arrayBuffers - before.arrayBuffers} bytes`)
  assert.ok(after.heapUsed - before.heapUsed < 32 * 1024 * 1024, `${what}: heap grew by ${after.heapUsed - before.heapUsed} bytes`)
}

test('hostile counts and lengths fail fast, before allocating', () => {
  const oneRecord = encodeRecordBatchBuffer(batch([{ key: 'k', value: 'v', timestamp: 0 }])).subarray(61)
  assertFailsFast(hostile(2 ** 31 - 1, Buffer.alloc(9)), '2^31-1 records in a 70-byte batch', /2147483647 records cannot fit in 9 bytes/)
  assertFailsFast(hostile(-5, Buffer.alloc(0)), 'negative record count', /negative record count/)
  assertFailsFast(hostile(2 ** 31 - 1, compress(4, Buffer.alloc(9)), 4), '2^31-1 compressed records', /would exceed maxDecompressedBytes/)
  assertFailsFast(hostile(1000, compress(1, oneRecord), 1), '1000 records claimed, one decompressed', /1000 records cannot fit in 9 decompressed bytes/)
  assertFailsFast(hostile(2, oneRecord), 'count larger than the records present')
  assertFailsFast(hostile(1, Buffer.concat([oneRecord, Buffer.alloc(3)])), 'bytes left over after the records', /3 bytes left after 1 records/)

  // Record-level lengths: record length, key length, value length, header count, header key length.
  const zig = (n: number): number[] => {
    const out: number[] = []
    let u = ((n << 1) ^ (n >> 31)) >>> 0
    while (u > 0x7f) {
      out.push((u & 0x7f) | 0x80)
      u >>>= 7
    }
    out.push(u)
    return out
  }
  const rec = (...fields: number[][]): Buffer => {
    const body = fields.flat()
    return Buffer.from([...zig(body.length), ...body])
  }
  const cases: [string, Buffer][] = [
    ['record length beyond the batch', Buffer.from([...zig(2 ** 30), 0, 0, 0, 1, 1, 0])],
    ['record length too small', Buffer.from([...zig(2), 0, 0, 0, 0, 0, 0])],
    ['negative record length', Buffer.from([...zig(-7), 0, 0, 0, 1, 1, 0, 0])],
    ['key length beyond the record', rec([0], [0], [0], zig(2 ** 30), [1], [0])],
    ['key length -2', rec([0], [0], [0], zig(-2), [1], [0])],
    ['value length beyond the record', rec([0], [0], [0], [1], zig(1000), [0])],
    ['2^30 headers', rec([0], [0], [0], [1], [1], zig(2 ** 30))],
    ['negative header count', rec([0], [0], [0], [1], [1], zig(-3))],
    ['null header key', rec([0], [0], [0], [1], [1], [2], [1], [1])],
    ['header key beyond the record', rec([0], [0], [0], [1], [1], [2], zig(5000), [1])],
    ['record shorter than declared', Buffer.from([...zig(9), 0, 0, 0, 1, 1, 0, 0, 0, 0])],
    ['varint that never ends', Buffer.from([0x0c, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ['timestamp delta beyond 2^52', rec([0], [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], [0], [1], [1], [0])],
  ]
  for (const [what, records] of cases) assertFailsFast(hostile(1, records), what)

  // Batch-level sizes: below any message, below a v2 header, unknown magic, unknown codec.
  const good = encodeRecordBatchBuffer(batch([{ key: 'k', value: 'v', timestamp: 0 }]))
  const edit = (f: (b: Buffer) => void, crc = true): Buffer => {
    const b = Buffer.from(good)
    f(b)
    if (crc) fixCrc(b)
    return b
  }
  assertFailsFast(edit((b) => b.writeInt32BE(13, 8), false), 'size 13')
  assertFailsFast(edit((b) => b.writeInt32BE(-1, 8), false), 'negative size')
  assertFailsFast(Buffer.concat([edit((b) => b.writeInt32BE(40, 8), false).subarray(0, 52)]), 'v2 batch shorter than its header')
  assertFailsFast(edit((b) => (b[16] = 3), false), 'magic 3', /unknown magic 3/)
  assertFailsFast(edit((b) => (b[16] = 0xff), false), 'magic -1')
  assertFailsFast(edit((b) => b.writeInt16BE(5, 21)), 'codec 5', /unknown compression codec 5/)
})

test('a size larger than the bytes present is a truncated batch, not an error', () => {
  const good = encodeRecordBatchBuffer(batch([{ key: 'k', value: 'v', timestamp: 0 }]))
  const huge = Buffer.from(good)
  huge.writeInt32BE(0x7fffffff, 8)
  const got = decodeRecordBatches(Buffer.concat([good, huge]))
  assert.equal(got.length, 1)
  assert.equal(got.truncated, true)
})

test('decompression is bounded by maxDecompressedBytes, over the whole call', () => {
  const value = Buffer.alloc(600 * 1024, 0x61)
  const one = (codec: RecordCompression) => encodeRecordBatchBuffer(batch([{ key: null, value, timestamp: 0 }], { compression: codec }))
  for (const codec of [1, 2, 3, 4] as const) {
    const bytes = one(codec)
    assert.ok(bytes.length < 64 * 1024, 'the sample compresses well')
    assert.equal(decodeRecordBatches(bytes, { maxDecompressedBytes: 1024 * 1024 }).length, 1)
    assert.throws(
      () => decodeRecordBatches(bytes, { maxDecompressedBytes: 512 * 1024 }),
      (e: unknown) => e instanceof ProtocolDecodeError && e.cause instanceof CompressionError,
      `codec ${codec}`,
    )
    // Two batches of 600 KiB each go over a 1 MiB budget together.
    assert.throws(() => decodeRecordBatches(Buffer.concat([bytes, bytes]), { maxDecompressedBytes: 1024 * 1024 }), ProtocolDecodeError)
  }
  // A 64 MiB zstd bomb in a few kilobytes fails without allocating its output.
  const bomb = hostile(1, compress(4, Buffer.alloc(64 * 1024 * 1024)), 4)
  assert.ok(bomb.length < 64 * 1024, 'the bomb is small')
  assertFailsFast(bomb, 'zstd bomb', /cannot decompress/, { maxDecompressedBytes: 8 * 1024 * 1024 })
  assert.throws(() => decodeRecordBatches(bomb, { maxDecompressedBytes: -1 }), RangeError)
})

test('mutated batches either decode or throw ProtocolDecodeError, never anything else', () => {
  const sources = [...Object.keys(javaExpected).map(fixture), ...SAMPLE_BATCHES.map(([n]) => fixture(`ours-${n}.bin`))]
  fc.assert(
    fc.property(
      fc.nat({ max: sources.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      (which, flips, verifyCrc) => {
        const bytes = Buffer.from(sources[which]!)
        for (const [at, x] of flips) bytes[at % bytes.length] ^= x
        try {
          decodeRecordBatches(bytes, { verifyCrc, maxDecompressedBytes: 4 * 1024 * 1024 })
        } catch (e) {
          if (!(e instanceof ProtocolDecodeError)) throw e
        }
      },
    ),
    { numRuns: 2000 },
  )
})
