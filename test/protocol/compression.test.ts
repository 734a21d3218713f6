import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import {
  codecId,
  codecName,
  compress,
  compressInto,
  CompressionError,
  decompress,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type CompressionCodec,
} from '../../src/protocol/compression/index.js'
import { xxh32 } from '../../src/protocol/compression/lz4.js'
import { Writer } from '../../src/protocol/writer.js'

const require = createRequire(import.meta.url)
const snappyPkg = require('snappy') as { compressSync(b: Uint8Array): Buffer }
const lz4Pkg = require('lz4-napi') as { compressSync(b: Buffer): Buffer }

const fixtures = fileURLToPath(new URL('../fixtures/compression/', import.meta.url))
const fixture = (name: string): Buffer => readFileSync(join(fixtures, name))
const payload = fixture('payload.bin')

const codecs: Array<[string, CompressionCodec]> = [['gzip', 1], ['snappy', 2], ['lz4', 3], ['zstd', 4]]

function isCompressionError(pattern?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof CompressionError, `expected CompressionError, got ${String(err)}`)
    assert.equal(err.code, 'COMPRESSION_ERROR')
    assert.equal(err.retriable, false)
    if (pattern) assert.match(err.message, pattern)
    return true
  }
}

/** A buffer whose bytes sit at a non-zero offset inside a larger ArrayBuffer, as a fetch response's do. */
function offsetCopy(bytes: Uint8Array, pad = 13): Buffer {
  const backing = Buffer.alloc(bytes.length + 2 * pad, 0xee)
  backing.set(bytes, pad)
  return backing.subarray(pad, pad + bytes.length)
}

/**
 * overlaps is true when two views share bytes. Not sharing an ArrayBuffer is too strict a test: small
 * Buffers come from Node's pool (8 KiB on Node 20, 64 KiB on Node 24), so unrelated ones share one.
 */
function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength
}

/** noise returns `n` bytes from a seeded xorshift32: incompressible, so lz4 stores them raw. */
function noise(n: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(n)
  let x = seed | 0
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

// Records like a producer's: JSON objects with repeated keys and varied values.
const jsonRecords = fc
  .array(
    fc.record({
      id: fc.uuid(),
      user: fc.string({ maxLength: 24 }),
      amount: fc.double({ noNaN: true, noDefaultInfinity: true }),
      qty: fc.integer(),
      tags: fc.array(fc.constantFrom('new', 'vip', 'gift', 'express', 'returned'), { maxLength: 4 }),
      note: fc.option(fc.lorem({ maxCount: 20 })),
    }),
    { maxLength: 400 },
  )
  .map((records) => Buffer.from(records.map((r) => JSON.stringify(r)).join('\n')))

describe('codec ids and names', () => {
  test('map both ways', () => {
    for (const [name, id] of codecs) {
      assert.equal(codecName(id), name)
      assert.equal(codecId(name as 'gzip'), id)
    }
    assert.equal(codecName(0), 'none')
    assert.equal(codecId('none'), 0)
  })

  test('unknown ids and names are CompressionErrors', () => {
    for (const id of [5, 6, 7, -1, 1.5]) assert.throws(() => codecName(id), isCompressionError(/unknown/))
    assert.throws(() => codecId('brotli' as 'gzip'), isCompressionError(/unknown/))
    assert.throws(() => compress(5 as CompressionCodec, payload), isCompressionError())
    assert.throws(() => decompress(0 as CompressionCodec, payload), isCompressionError())
  })
})

describe('round trips', () => {
  for (const [name, id] of codecs) {
    test(`${name}: random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 150_000 }), (data) => {
          assert.deepEqual(decompress(id, compress(id, data)), Buffer.from(data))
        }),
        { numRuns: 60 },
      )
    })

    test(`${name}: JSON records`, () => {
      fc.assert(
        fc.property(jsonRecords, (data) => {
          const packed = compress(id, data)
          assert.deepEqual(decompress(id, packed), data)
          // And from a view at an offset, as a fetched batch arrives.
          assert.deepEqual(decompress(id, offsetCopy(packed)), data)
        }),
        { numRuns: 40 },
      )
    })

    test(`${name}: empty input`, () => {
      const packed = compress(id, new Uint8Array(0))
      assert.ok(packed.length > 0, 'an empty batch still gets a valid header')
      assert.equal(decompress(id, packed).length, 0)
    })

    test(`${name}: the payload fixture, from a view, at every block-boundary-ish size`, () => {
      for (const size of [1, 31, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 64 * 1024, 64 * 1024 + 1, payload.length]) {
        const data = offsetCopy(payload.subarray(0, size))
        assert.deepEqual(decompress(id, compress(id, data)), payload.subarray(0, size), `size ${size}`)
      }
    })

    test(`${name}: neither input nor output is shared or modified`, () => {
      // Random bytes make lz4 store blocks raw: the one case where output could alias input. The consumer
      // relies on fresh output: it reads later responses into the buffer of one whose batches were all
      // compressed (recycleFrame), which would change records that viewed it.
      for (const data of [noise(5000), payload]) {
        const input = offsetCopy(data)
        const before = Buffer.from(input)
        const packed = compress(id, input)
        assert.deepEqual(input, before)
        assert.equal(overlaps(packed, input), false, 'compressed output shares bytes with the input')
        const packedCopy = Buffer.from(packed)
        const out = decompress(id, packed)
        assert.deepEqual(packed, packedCopy)
        assert.equal(overlaps(out, packed), false, 'decompressed output shares bytes with the input')
      }
    })
  }

  test('gzip and zstd honour the level option', () => {
    const fast = compress(1, payload, { level: 1 })
    const best = compress(1, payload, { level: 9 })
    assert.ok(best.length < fast.length)
    assert.deepEqual(decompress(1, fast), payload)
    const z1 = compress(4, payload, { level: 1 })
    const z19 = compress(4, payload, { level: 19 })
    assert.ok(z19.length < z1.length)
    assert.deepEqual(decompress(4, z19), payload)
  })
})

describe('what we write', () => {
  test('snappy is byte for byte what the Java client writes', () => {
    assert.deepEqual(compress(2, payload), fixture('java-snappy.bin'))
  })

  test('snappy: xerial header, then 32 KiB blocks each behind a big-endian length', () => {
    const packed = compress(2, payload)
    assert.deepEqual(packed.subarray(0, 16), Buffer.from('82534e41505059000000000100000001', 'hex'))
    let at = 16
    let blocks = 0
    while (at < packed.length) {
      at += 4 + packed.readUInt32BE(at)
      blocks++
    }
    assert.equal(at, packed.length)
    assert.equal(blocks, Math.ceil(payload.length / (32 * 1024)))
  })

  test('lz4: the Java client frame header, 64 KiB independent blocks, an end mark', () => {
    const packed = compress(3, payload)
    assert.deepEqual(packed.subarray(0, 7), fixture('java-lz4.bin').subarray(0, 7))
    assert.deepEqual(packed.subarray(0, 6), Buffer.from('04224d186040', 'hex'))
    let at = 7
    let blocks = 0
    for (;;) {
      const word = packed.readUInt32LE(at)
      at += 4
      if (word === 0) break
      assert.ok((word & 0x7fffffff) <= 64 * 1024)
      at += word & 0x7fffffff
      blocks++
    }
    assert.equal(at, packed.length)
    assert.equal(blocks, Math.ceil(payload.length / (64 * 1024)))
  })

  test('lz4: incompressible blocks are stored raw with the high bit set', () => {
    const random = noise(1000)
    const packed = compress(3, random)
    assert.equal(packed.readUInt32LE(7), (0x80000000 | random.length) >>> 0)
    assert.deepEqual(packed.subarray(11, 11 + random.length), random)
    assert.deepEqual(decompress(3, packed), random)
  })

  test('compressInto writes at the writer\'s position what compress returns, for every codec, mixed and incompressible blocks', () => {
    // 64 KiB of text then 64 KiB of noise then a tail: lz4 compresses one block and stores the next raw.
    const text = Buffer.from('order 42 shipped to warehouse 7; '.repeat(2000)).subarray(0, 65536)
    const data = Buffer.concat([text, noise(65536), Buffer.from('tail')])
    for (const codec of [1, 2, 3, 4] as const) {
      const w = new Writer(16)
      w.raw(Buffer.from('prefix'))
      compressInto(codec, data, w)
      const out = w.finish()
      assert.equal(out.subarray(0, 6).toString(), 'prefix')
      const packed = out.subarray(6)
      assert.deepEqual(packed, compress(codec, data), `codec ${codec}`)
      assert.deepEqual(decompress(codec, packed), data, `codec ${codec}`)
    }
  })

  test('xxh32 vectors', () => {
    assert.equal(xxh32(new Uint8Array(0)), 0x02cc5d05)
    assert.equal(xxh32(Buffer.from('a')), 0x550d7456)
    assert.equal(xxh32(Buffer.from('abc')), 0x32d153ff)
    assert.equal(xxh32(Buffer.from('0123456789abcdef')), 0xc2c45b69)
    assert.equal(xxh32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f)
    assert.equal(xxh32(Buffer.from('xx0123456789abcdefghijklmnopqrstuvwxyzxx'), 2, 38), 0x9aa38e7e)
  })
})

describe("the Java client's bytes (fixtures made with kafka-clients 4.3.1)", () => {
  for (const [name, id] of codecs) {
    test(`${name}`, () => {
      assert.deepEqual(decompress(id, fixture(`java-${name}.bin`)), payload)
      assert.deepEqual(decompress(id, offsetCopy(fixture(`java-${name}.bin`))), payload)
      assert.deepEqual(decompress(id, new Uint8Array(fixture(`java-${name}.bin`))), payload) // not a Buffer
    })
  }

  test('lz4 with the pre-KIP-57 header checksum (magic v0 message sets)', () => {
    const old = fixture('java-lz4-magic0.bin')
    assert.notEqual(old[6], fixture('java-lz4.bin')[6], 'the fixture really has the old checksum')
    assert.deepEqual(decompress(3, old), payload)
  })

  test('zstd without a content size in the frame header, as zstd-jni streams write', () => {
    const frame = fixture('java-zstd.bin')
    assert.equal(frame[4]! >>> 6, 0, 'no Frame_Content_Size flag')
    assert.equal(frame[4]! & 0x20, 0, 'not single-segment')
    assert.deepEqual(decompress(4, frame), payload)
  })
})

describe('other valid layouts', () => {
  const a = Buffer.from('first part, '.repeat(50))
  const b = Buffer.from('and the second part'.repeat(40))
  const ab = Buffer.concat([a, b])

  test('gzip: concatenated members', () => {
    assert.deepEqual(decompress(1, Buffer.concat([gzipSync(a), gzipSync(b)])), ab)
  })

  test('snappy: a raw block without framing (librdkafka, franz-go one-shot)', () => {
    assert.deepEqual(decompress(2, snappyPkg.compressSync(payload)), payload)
    assert.deepEqual(decompress(2, Buffer.from([0])), Buffer.alloc(0))
  })

  test('snappy: concatenated xerial streams and header-only streams', () => {
    const header = compress(2, new Uint8Array(0))
    assert.deepEqual(decompress(2, Buffer.concat([compress(2, a), compress(2, b)])), ab)
    assert.deepEqual(decompress(2, Buffer.concat([header, compress(2, a), header])), a)
    assert.deepEqual(decompress(2, Buffer.concat([header, header])), Buffer.alloc(0))
  })

  test('lz4: concatenated and skippable frames', () => {
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3])
    assert.deepEqual(decompress(3, Buffer.concat([compress(3, a), skippable, compress(3, b)])), ab)
  })

  test('lz4: content size, block checksums, content checksum, 4 MiB blocks', () => {
    // FLG 0x7c: version 1, independent, block checksums, content size, content checksum; BD 0x70: 4 MiB.
    const block = lz4Pkg.compressSync(payload).subarray(4)
    const descriptor = Buffer.alloc(10)
    descriptor[0] = 0x7c
    descriptor[1] = 0x70
    descriptor.writeBigUInt64LE(BigInt(payload.length), 2)
    const hc = (xxh32(descriptor) >>> 8) & 0xff
    const size = Buffer.alloc(4)
    size.writeUInt32LE(block.length)
    const blockSum = Buffer.alloc(4)
    blockSum.writeUInt32LE(xxh32(block))
    const contentSum = Buffer.alloc(4)
    contentSum.writeUInt32LE(xxh32(payload))
    const magic = Buffer.from('04224d18', 'hex')
    const frame = Buffer.concat([magic, descriptor, Buffer.from([hc]), size, block, blockSum, Buffer.alloc(4), contentSum])
    assert.deepEqual(decompress(3, frame), payload)

    const badBlockSum = Buffer.from(frame)
    badBlockSum[15 + 4 + block.length] ^= 1
    assert.throws(() => decompress(3, badBlockSum), isCompressionError(/block checksum/))
    const wrongSize = Buffer.from(frame)
    wrongSize.writeBigUInt64LE(BigInt(payload.length - 1), 6)
    wrongSize[14] = (xxh32(wrongSize, 4, 14) >>> 8) & 0xff
    assert.throws(() => decompress(3, wrongSize), isCompressionError(/content/))
  })

  test('zstd: concatenated and skippable frames', () => {
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9])
    assert.deepEqual(decompress(4, Buffer.concat([compress(4, a), skippable, compress(4, b)])), ab)
  })

  test('zstd: a frame built by hand from RLE blocks decodes (the bomb tests below use the same shape)', () => {
    assert.deepEqual(decompress(4, rleZstdFrame(3)), Buffer.alloc(3 * 128 * 1024, 0x61))
  })
})

/** rleZstdFrame is a valid zstd frame of `blocks` RLE blocks of 128 KiB of 'a', with no content size: ~4 bytes a block. */
function rleZstdFrame(blocks: number): Buffer {
  const out = Buffer.alloc(6 + 4 * blocks)
  out.writeUInt32LE(0xfd2fb528, 0)
  out[4] = 0x00 // no content size, not single-segment, no checksum, no dictionary
  out[5] = 0x58 // window 2 MiB
  for (let i = 0; i < blocks; i++) {
    const header = ((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0)
    out.writeUIntLE(header, 6 + 4 * i, 3)
    out[6 + 4 * i + 3] = 0x61
  }
  return out
}

/** lz4Frame wraps raw LZ4 blocks in a frame with the given block-size code (4 = 64 KiB … 7 = 4 MiB). */
function lz4Frame(blocks: Buffer[], sizeCode: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, sizeCode << 4, 0])]
  parts[0]![6] = (xxh32(parts[0]!, 4, 6) >>> 8) & 0xff
  for (const block of blocks) {
    const size = Buffer.alloc(4)
    size.writeUInt32LE(block.length)
    parts.push(size, block)
  }
  parts.push(Buffer.alloc(4))
  return Buffer.concat(parts)
}

describe('hostile input', () => {
  test('every truncation is a CompressionError (or, for xerial snappy cut between blocks, a prefix)', () => {
    const sample = payload.subarray(0, 70 * 1024) // two lz4 blocks, three snappy blocks
    for (const [name, id] of codecs) {
      const packed = compress(id, sample)
      const step = Math.max(1, Math.floor(packed.length / 700))
      for (let cut = 0; cut < packed.length; cut += cut < 64 || packed.length - cut < 64 ? 1 : step) {
        let out: Buffer
        try {
          out = decompress(id, packed.subarray(0, cut))
        } catch (err) {
          isCompressionError()(err)
          continue
        }
        // xerial framing has no end mark: a cut exactly between blocks is a shorter valid stream.
        assert.equal(name, 'snappy', `${name} accepted a stream cut at ${cut} of ${packed.length}`)
        assert.ok(out.length < sample.length && sample.subarray(0, out.length).equals(out), `${name} cut ${cut}`)
      }
    }
  })

  test('wrong magic', () => {
    const junk = Buffer.from('this is not compressed at all, not even a little bit')
    for (const id of [1, 3, 4] as const) assert.throws(() => decompress(id, junk), isCompressionError())
    assert.throws(() => decompress(2, junk), isCompressionError()) // not a valid raw snappy block either
    assert.throws(() => decompress(3, Buffer.from([0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0])), isCompressionError(/magic/)) // legacy lz4
    for (const id of [1, 2, 3, 4] as const) assert.throws(() => decompress(id, Buffer.alloc(0)), isCompressionError())
  })

  test('damaged headers', () => {
    const lz4 = compress(3, payload)
    const badChecksum = Buffer.from(lz4)
    badChecksum[6] ^= 0xff
    assert.throws(() => decompress(3, badChecksum), isCompressionError(/checksum/))
    const dependent = Buffer.from(lz4)
    dependent[4] = 0x40
    dependent[6] = (xxh32(dependent, 4, 6) >>> 8) & 0xff
    assert.throws(() => decompress(3, dependent), isCompressionError(/dependent/))
    const bigBlock = Buffer.from(lz4)
    bigBlock.writeUInt32LE(64 * 1024 + 1, 7)
    assert.throws(() => decompress(3, bigBlock), isCompressionError(/over the frame/))
    const trailing = Buffer.concat([lz4, Buffer.from('junk')])
    assert.throws(() => decompress(3, trailing), isCompressionError())

    const zstd = compress(4, payload)
    const reserved = Buffer.from(zstd)
    reserved[4]! |= 0x08
    assert.throws(() => decompress(4, reserved), isCompressionError(/reserved/))
    assert.throws(() => decompress(4, Buffer.concat([zstd, Buffer.from('junk')])), isCompressionError(/magic/))
    const corrupted = Buffer.from(zstd)
    for (let i = 40; i < corrupted.length - 40; i += 97) corrupted[i] ^= 0x5a
    assert.throws(() => decompress(4, corrupted), isCompressionError())

    const snappy = compress(2, payload)
    const longChunk = Buffer.from(snappy)
    longChunk.writeUInt32BE(0x7fffffff, 16)
    assert.throws(() => decompress(2, longChunk), isCompressionError(/remain/))
    const corruptedSnappy = Buffer.from(snappy)
    for (let i = 40; i < corruptedSnappy.length; i += 89) corruptedSnappy[i] ^= 0xa5
    assert.throws(() => decompress(2, corruptedSnappy), isCompressionError())
  })

  test('random bytes, alone or behind a valid magic, never escape as anything but CompressionError', () => {
    const magics: Record<number, Buffer> = {
      1: Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
      2: Buffer.from('82534e41505059000000000100000001', 'hex'),
      3: Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]),
      4: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
    }
    for (const [, id] of codecs) {
      fc.assert(
        fc.property(fc.boolean(), fc.uint8Array({ maxLength: 2000 }), (withMagic, bytes) => {
          const input = withMagic ? Buffer.concat([magics[id]!, bytes]) : bytes
          try {
            const out = decompress(id, input, { maxOutputBytes: 1 << 20 })
            assert.ok(out.length <= 1 << 20)
          } catch (err) {
            isCompressionError()(err)
          }
        }),
        { numRuns: 300 },
      )
    }
  })

  describe('bombs', () => {
    const zeros = Buffer.alloc(16 * 1024 * 1024)

    test('every codec stops at maxOutputBytes: exactly the size passes, one byte less fails', () => {
      for (const [name, id] of codecs) {
        if (name === 'zstd') continue // see the zstd cases below: its bound comes from headers
        const packed = compress(id, payload)
        assert.equal(decompress(id, packed, { maxOutputBytes: payload.length }).length, payload.length)
        assert.throws(() => decompress(id, packed, { maxOutputBytes: payload.length - 1 }), isCompressionError(/maxOutputBytes/), name)
      }
    })

    test('gzip: 16 MiB of zeros in ~16 KB', () => {
      const bomb = gzipSync(zeros, { level: 9 })
      assert.ok(bomb.length < 64 * 1024)
      assert.throws(() => decompress(1, bomb, { maxOutputBytes: 1 << 20 }), isCompressionError(/maxOutputBytes/))
    })

    test('snappy: a raw block claiming 4 GiB from a few bytes is refused before allocation', () => {
      const liar = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61])
      assert.throws(() => decompress(2, liar), isCompressionError(/claims/))
      const liarSmall = Buffer.from([0x80, 0x80, 0x04, 0x00, 0x61]) // claims 64 KiB from 2 bytes
      assert.throws(() => decompress(2, liarSmall), isCompressionError(/claims/))
    })

    test('snappy: xerial chunks adding up past the limit are refused before decoding', () => {
      const chunk = snappyPkg.compressSync(zeros) // ~770 KB claiming 16 MiB
      const frame = (n: number): Buffer => {
        const size = Buffer.alloc(4)
        size.writeUInt32BE(chunk.length)
        return Buffer.concat([compress(2, new Uint8Array(0)), ...Array.from({ length: n }, () => [size, chunk]).flat()])
      }
      assert.throws(() => decompress(2, frame(2), { maxOutputBytes: 20 * 1024 * 1024 }), isCompressionError(/maxOutputBytes/))
      // Past the default limit too: 17 × 16 MiB = 272 MiB.
      assert.throws(() => decompress(2, frame(17)), isCompressionError(/maxOutputBytes/))
      assert.equal(decompress(2, frame(1)).length, zeros.length)
    })

    test('lz4: our frame of 16 MiB of zeros, and 4 MiB blocks of zeros, stop at the limit', () => {
      const packed = compress(3, zeros)
      assert.ok(packed.length < 128 * 1024)
      assert.throws(() => decompress(3, packed, { maxOutputBytes: 1 << 20 }), isCompressionError(/maxOutputBytes/))
      const fourMiB = lz4Pkg.compressSync(zeros.subarray(0, 4 << 20)).subarray(4)
      const frame = lz4Frame(Array.from({ length: 5 }, () => fourMiB), 7) // 20 MiB in ~80 KB
      assert.throws(() => decompress(3, frame, { maxOutputBytes: 18 * 1024 * 1024 }), isCompressionError(/maxOutputBytes/))
      assert.equal(decompress(3, frame, { maxOutputBytes: 20 * 1024 * 1024 }).length, 20 * 1024 * 1024)
    })

    test('zstd: 262 MiB of RLE blocks in 8 KB is refused from its headers under the default limit', () => {
      const bomb = rleZstdFrame(2100)
      assert.ok(bomb.length < 9000)
      assert.ok(2100 * 128 * 1024 > DEFAULT_MAX_DECOMPRESSED_BYTES)
      assert.throws(() => decompress(4, bomb), isCompressionError(/maxOutputBytes/))
      assert.throws(() => decompress(4, rleZstdFrame(9), { maxOutputBytes: 8 * 128 * 1024 }), isCompressionError(/maxOutputBytes/))
      assert.equal(decompress(4, rleZstdFrame(8), { maxOutputBytes: 8 * 128 * 1024 }).length, 8 * 128 * 1024)
    })

    test('zstd: a declared content size over the limit is refused', () => {
      // Single-segment frame, 8-byte content size of 1 TiB, one raw block of 1 byte.
      const frame = Buffer.alloc(4 + 1 + 8 + 3 + 1)
      frame.writeUInt32LE(0xfd2fb528, 0)
      frame[4] = 0xe0 // FCS flag 3 (8 bytes), single segment
      frame.writeBigUInt64LE(1n << 40n, 5)
      frame.writeUIntLE((1 << 3) | 1, 13, 3) // last raw block of 1 byte
      assert.throws(() => decompress(4, frame), isCompressionError(/maxOutputBytes/))
    })

    test('zstd: a frame with a content size is held to exactly that size', () => {
      // zstd frames that declare their size: the bound is the declared size, exact.
      const frame = Buffer.alloc(4 + 1 + 4 + 3 + 100)
      frame.writeUInt32LE(0xfd2fb528, 0)
      frame[4] = 0xa0 // FCS flag 2 (4 bytes), single segment
      frame.writeUInt32LE(100, 5)
      frame.writeUIntLE((100 << 3) | 1, 9, 3) // last raw block of 100 bytes
      frame.fill(0x62, 12)
      assert.deepEqual(decompress(4, frame, { maxOutputBytes: 100 }), Buffer.alloc(100, 0x62))
      assert.throws(() => decompress(4, frame, { maxOutputBytes: 99 }), isCompressionError(/maxOutputBytes/))
    })

    test('maxOutputBytes must be a non-negative integer', () => {
      assert.throws(() => decompress(1, gzipSync(payload), { maxOutputBytes: -1 }), RangeError)
      assert.throws(() => decompress(1, gzipSync(payload), { maxOutputBytes: 1.5 }), RangeError)
      assert.equal(decompress(1, gzipSync(Buffer.alloc(0)), { maxOutputBytes: 0 }).length, 0)
    })
  })
})

describe('CompressionError', () => {
  test('carries code, retriable, codec and the underlying cause', () => {
    try {
      decompress(1, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
      assert.fail('expected an error')
    } catch (err) {
      assert.ok(err instanceof CompressionError)
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'CompressionError')
      assert.equal(err.code, 'COMPRESSION_ERROR')
      assert.equal(err.retriable, false)
      assert.equal(err.codec, 'gzip')
      assert.ok(err.cause instanceof Error)
    }
  })

  test("a codec whose package cannot load fails with its package's name; the others still work", () => {
    // A child process whose CommonJS resolver refuses lz4-napi, as on a platform none of its prebuilt
    // binaries fit. Prefix match: tsx retries a failed request with extensions appended.
    const hide = `const M = require('node:module'); const orig = M._resolveFilename;
M._resolveFilename = function (req, ...rest) {
  if (String(req).startsWith('lz4-napi')) { const e = new Error('hidden by test'); e.code = 'MODULE_NOT_FOUND'; throw e }
  return orig.call(this, req, ...rest)
}`
    const src = fileURLToPath(new URL('../../src/protocol/compression/index.ts', import.meta.url))
    const script = `import { compress, decompress, CompressionError } from ${JSON.stringify(src)}
const data = Buffer.from('hello hello hello')
const out = { gzip: decompress(1, compress(1, data)).toString() }
try { compress(3, data) } catch (e) { out.lz4 = [e instanceof CompressionError, e.codec, e.message] }
console.log(JSON.stringify(out))`
    const dir = mkdtempSync(join(tmpdir(), 'compression-test-'))
    try {
      const hook = join(dir, 'hide.cjs')
      writeFileSync(hook, hide)
      const out = execFileSync(process.execPath, ['--require', hook, '--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      })
      const result = JSON.parse(out) as { gzip: string; lz4: [boolean, string, string] }
      assert.equal(result.gzip, 'hello hello hello')
      assert.equal(result.lz4[0], true)
      assert.equal(result.lz4[1], 'lz4')
      assert.match(result.lz4[2], /lz4-napi/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('a decompressor of the application', () => {
  const packed = gzipSync(payload)
  test('replaces the built-in codec, gets the codec name and the bound, and its result is handed back as a Buffer', () => {
    const seen: Array<[string, number]> = []
    const out = decompress(1, packed, { maxOutputBytes: 1 << 20, decompressor: { decompress: (d, codec, max) => (seen.push([codec, max]), new Uint8Array(Buffer.from('custom'))) } })
    assert.ok(Buffer.isBuffer(out))
    assert.equal(out.toString(), 'custom')
    assert.deepEqual(seen, [['gzip', 1 << 20]])
  })
  test('a result over maxOutputBytes, memory shared with the input, or no Uint8Array is a CompressionError', () => {
    const over = { decompress: (_d: Uint8Array, _c: string, max: number) => Buffer.alloc(max + 1) }
    assert.throws(() => decompress(4, packed, { maxOutputBytes: 100, decompressor: over }), (e: unknown) => e instanceof CompressionError && /101 bytes, over maxOutputBytes \(100\)/.test(e.message) && e.codec === 'zstd')
    const shared = { decompress: (d: Uint8Array) => d.subarray(1, 5) }
    assert.throws(() => decompress(1, packed, { decompressor: shared }), (e: unknown) => e instanceof CompressionError && /shared with its input/.test(e.message))
    const notBytes = { decompress: () => 'text' as unknown as Uint8Array }
    assert.throws(() => decompress(1, packed, { decompressor: notBytes }), (e: unknown) => e instanceof CompressionError && /returned string/.test(e.message))
  })
})

describe('a compressor of the application', () => {
  test('writes its output in place of the built-in codec\'s, asked with the codec name', () => {
    const w = new Writer(64)
    const asked: string[] = []
    compressInto(3, payload, w, { compressor: { compress: (_d, codec) => (asked.push(codec), Buffer.from('lz4-ish')) } })
    assert.equal(Buffer.from(w.finish()).toString(), 'lz4-ish')
    assert.deepEqual(asked, ['lz4'])
    assert.throws(() => compressInto(1, payload, new Writer(64), { compressor: { compress: () => null as unknown as Uint8Array } }), (e: unknown) => e instanceof CompressionError && /returned object/.test(e.message))
  })
})
