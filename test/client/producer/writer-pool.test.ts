import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WriterPool } from '../../../src/client/producer/writer-pool.js'
import { Writer } from '../../../src/protocol/writer.js'

test('get hands out an empty writer of at least the size asked, rounded up to a power of two from 16 KiB', () => {
  const pool = new WriterPool()
  const small = pool.get(100)
  assert.equal(small.pos, 0)
  assert.equal(small.buf.length, 16 << 10)
  const big = pool.get(100_000)
  assert.equal(big.buf.length, 128 << 10)
  assert.equal(pool.idleWriters, 0)
})

test('a writer given back is reset and reused for a batch it fits; the smallest that fits is chosen', () => {
  const pool = new WriterPool()
  const a = pool.get(20_000) // 32 KiB
  const b = pool.get(200_000) // 256 KiB
  a.int32(7)
  pool.put(a)
  pool.put(b)
  assert.equal(pool.idleWriters, 2)
  assert.equal(pool.idleBytes, (32 << 10) + (256 << 10))
  const again = pool.get(30_000)
  assert.equal(again, a)
  assert.equal(again.pos, 0)
  // Too large for `a`'s size class: `b` serves it.
  assert.equal(pool.get(40_000), b)
  assert.equal(pool.idleWriters, 0)
  assert.equal(pool.idleBytes, 0)
  // Nothing idle fits: a new writer.
  const c = pool.get(10)
  assert.notEqual(c, a)
  assert.notEqual(c, b)
})

test('the pool keeps at most maxBytes idle, preferring large writers, and never keeps one larger than the bound', () => {
  const pool = new WriterPool(64 << 10)
  const w16a = new Writer(16 << 10)
  const w16b = new Writer(16 << 10)
  const w32 = new Writer(32 << 10)
  const w128 = new Writer(128 << 10)
  pool.put(w16a)
  pool.put(w16b)
  pool.put(w32)
  assert.equal(pool.idleBytes, 64 << 10)
  // Full: a 16 KiB writer does not displace anything of its size or larger.
  pool.put(new Writer(16 << 10))
  assert.equal(pool.idleBytes, 64 << 10)
  assert.equal(pool.idleWriters, 3)
  // Larger than the whole bound: dropped.
  pool.put(w128)
  assert.equal(pool.idleWriters, 3)
  // A 32 KiB writer displaces the two 16 KiB ones.
  const w32b = new Writer(32 << 10)
  pool.put(w32b)
  assert.equal(pool.idleBytes, 64 << 10)
  assert.equal(pool.idleWriters, 2)
  const kept = new Set([pool.get(1), pool.get(1)])
  assert.deepEqual(kept, new Set([w32, w32b]))
})
