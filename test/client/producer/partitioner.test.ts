import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import { customPartitioner, defaultPartitioner, javaPartitionForKey, manualPartitioner, partitionerFrom, roundRobinPartitioner, stickyKeyPartitioner, stickyPartitioner, uniformBytesPartitioner, DEFAULT_STICKY_BYTES, type Partitioner, type TopicPartitioner } from '../../../src/client/producer/partitioner.js'
import type { ProduceRecord } from '../../../src/protocol/record.js'
import { InvalidOptionError, PartitionerError } from '../../../src/client/errors.js'

// ---- helpers ------------------------------------------------------------------------------------

// seeded is mulberry32: a reproducible RandomSource, so distribution bounds are checked on fixed
// draws and a failure is a real regression, not bad luck.
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const keyless = (): ProduceRecord => ({ topic: 't', value: 'v' })
const keyed = (key: Buffer | string): ProduceRecord => ({ topic: 't', key, value: 'v' })

// javaUtf8 encodes as Java's String.getBytes(UTF_8): unpaired surrogates become '?'.
function javaUtf8(s: string): Buffer {
  const out: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out.push(...Buffer.from(s.slice(i, i + 2), 'utf8'))
      i++
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out.push(0x3f)
    } else {
      out.push(...Buffer.from(s[i]!, 'utf8'))
    }
  }
  return Buffer.from(out)
}

// Keys rebuilt with the rule documented in test/fixtures/partitioner/Gen.java.
function javaFixtureKeys(): Array<Buffer | string> {
  let x = 0x2545f491 | 0
  const next = (): number => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
  const keys: Array<Buffer | string> = []
  for (let i = 0; i < 10_000; i++) {
    if (i < 4000) {
      keys.push(`key-${i}`)
    } else if (i < 8000) {
      const b = Buffer.alloc(next() % 64)
      for (let j = 0; j < b.length; j++) b[j] = next() & 0xff
      keys.push(b)
    } else {
      const len = (next() % 16) + 1
      let s = ''
      for (let j = 0; j < len; j++) {
        const r = next() % 100
        if (r < 40) s += String.fromCodePoint(0x20 + (next() % 95))
        else if (r < 60) s += String.fromCodePoint(0xa0 + (next() % 0x400))
        else if (r < 80) s += String.fromCodePoint(0x4e00 + (next() % 0x5000))
        else if (r < 95) s += String.fromCodePoint(0x1f300 + (next() % 0x300))
        else s += String.fromCharCode(0xd800 + (next() % 0x800))
      }
      keys.push(s)
    }
  }
  return keys
}

// ---- Java compatibility ---------------------------------------------------------------------------

describe('Java compatibility of keyed partitioning', () => {
  const fixture = JSON.parse(readFileSync(new URL('../../fixtures/partitioner/java-partitions.json', import.meta.url), 'utf8')) as {
    keys: number
    keysCrc32: number
    partitions: Record<string, string>
  }
  const keys = javaFixtureKeys()

  test('the keys rebuilt here are byte for byte the keys Java hashed', () => {
    assert.equal(keys.length, fixture.keys)
    let crc = 0
    const len = Buffer.alloc(4)
    for (const k of keys) {
      const bytes = typeof k === 'string' ? javaUtf8(k) : k
      len.writeUInt32BE(bytes.length)
      crc = crc32(len, crc)
      crc = crc32(bytes, crc)
    }
    assert.equal(crc, fixture.keysCrc32)
    // The generator must have produced lone surrogates, or the '?' rule is untested.
    assert.ok(keys.some((k) => typeof k === 'string' && !(k as unknown as { isWellFormed(): boolean }).isWellFormed()))
  })

  for (const [count, digits] of Object.entries(fixture.partitions)) {
    const n = Number(count)
    test(`javaPartitionForKey matches BuiltInPartitioner.partitionForKey for ${fixture.keys} keys over ${n} partitions`, () => {
      assert.equal(digits.length, keys.length)
      let mismatches = 0
      let first = ''
      for (let i = 0; i < keys.length; i++) {
        const want = parseInt(digits[i]!, 36)
        const got = javaPartitionForKey(keys[i]!, n)
        if (got !== want) {
          if (mismatches++ === 0) first = `key ${i} (${JSON.stringify(keys[i])}): got ${got}, Java ${want}`
        }
      }
      assert.equal(mismatches, 0, first)
    })
  }

  test('the default and sticky-key partitioners place keyed records where Java does', () => {
    const digits = fixture.partitions['12']!
    for (const p of [defaultPartitioner(), stickyKeyPartitioner(), partitionerFrom('default'), partitionerFrom('sticky-key')]) {
      const tp = p.forTopic('t')
      for (let i = 0; i < keys.length; i++) {
        const r = keyed(keys[i]!)
        assert.equal(tp.requiresConsistency(r), true)
        assert.equal(tp.partition(r, 12), parseInt(digits[i]!, 36), `key ${i}`)
      }
    }
  })

  test('a string key and its Java UTF-8 bytes land on the same partition (any string, any length)', () => {
    const lone = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
    const str = fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), lone, fc.string({ unit: 'binary' })), { maxLength: 40 }).map((a) => a.join(''))
    fc.assert(fc.property(str, fc.integer({ min: 1, max: 1000 }), (s, n) => {
      assert.equal(javaPartitionForKey(s, n), javaPartitionForKey(javaUtf8(s), n))
    }), { numRuns: 2000 })
  })

  test('long string keys (scratch growth and the allocation fallback) hash like their bytes', () => {
    for (const len of [84, 86, 300, 5000, 21_845, 21_846, 100_000]) {
      const s = 'é'.repeat(len >> 1) + 'x'.repeat(len - (len >> 1))
      assert.equal(javaPartitionForKey(s, 31), javaPartitionForKey(Buffer.from(s, 'utf8'), 31), `length ${len}`)
    }
    // After a long key grew the scratch buffer, short keys still hash over exactly their own bytes.
    assert.equal(javaPartitionForKey('key-1', 7), javaPartitionForKey(Buffer.from('key-1'), 7))
    assert.equal(javaPartitionForKey('', 7), javaPartitionForKey(Buffer.alloc(0), 7))
  })

  test('an empty key is a key: hashed, not sticky', () => {
    const tp = defaultPartitioner().forTopic('t')
    assert.equal(tp.requiresConsistency(keyed('')), true)
    assert.equal(tp.partition(keyed(''), 31), javaPartitionForKey(Buffer.alloc(0), 31))
    assert.equal(tp.requiresConsistency({ topic: 't', key: null, value: 'v' }), false)
    assert.equal(tp.requiresConsistency(keyless()), false)
  })
})

// ---- uniform sticky (KIP-794) -------------------------------------------------------------------

// FakeProducer drives a TopicPartitioner as the producer does (see the TopicPartitioner contract):
// partition, onNewBatch and partition again when the record would start a new batch, onRecordAdded
// with the record's size and its batch's size. Batches close at `batchCap` bytes or on `linger()`.
class FakeProducer {
  readonly open = new Map<number, number>()
  constructor(readonly tp: TopicPartitioner, readonly n: number, readonly batchCap = Infinity) {}

  produce(bytes: number, record: ProduceRecord = keyless()): number {
    let p = this.tp.partition(record, this.n)
    if (this.tp.onNewBatch && this.#startsBatch(p, bytes)) {
      this.tp.onNewBatch()
      p = this.tp.partition(record, this.n)
    }
    const batch = (this.#startsBatch(p, bytes) ? 0 : this.open.get(p)!) + bytes
    this.open.set(p, batch)
    this.tp.onRecordAdded?.(bytes, batch)
    return p
  }

  linger(): void { this.open.clear() }

  #startsBatch(p: number, bytes: number): boolean {
    const b = this.open.get(p)
    return b === undefined || b + bytes > this.batchCap
  }
}

describe('uniformBytesPartitioner', () => {
  test('keyless records stay on one partition until the byte threshold, then switch', () => {
    const producer = new FakeProducer(uniformBytesPartitioner(1000, { random: seeded(1) }).forTopic('t'), 31)
    const runs: number[] = []
    let current = -1
    let run = 0
    for (let i = 0; i < 10_000; i++) {
      const p = producer.produce(100)
      assert.ok(p >= 0 && p < 31)
      if (p !== current && current !== -1) {
        runs.push(run)
        run = 0
      }
      current = p
      run++
    }
    // A switch happens exactly after 10 records of 100 bytes; consecutive picks may repeat a partition
    // (Java's choice is uniform, not "different"), which shows as a run of 20 or 30.
    assert.ok(runs.length > 900, `${runs.length} switches`)
    for (const r of runs) assert.equal(r % 10, 0, `run of ${r} records`)
    assert.ok(runs.filter((r) => r === 10).length > runs.length * 0.9)
  })

  test('the record that reaches the threshold still goes to the current partition; the next one moves', () => {
    const producer = new FakeProducer(uniformBytesPartitioner(250, { random: seeded(2) }).forTopic('t'), 1000)
    const a = producer.produce(100)
    assert.equal(producer.produce(100), a)
    assert.equal(producer.produce(100), a) // 300 >= 250 after this one
    assert.notEqual(producer.produce(100), a)
  })

  test('bytes spread uniformly over partitions in the long run', () => {
    for (const n of [7, 12, 31]) {
      const producer = new FakeProducer(uniformBytesPartitioner(2048, { random: seeded(n) }).forTopic('t'), n, 3000)
      const perPartition = new Array<number>(n).fill(0)
      const rnd = seeded(100 + n)
      let total = 0
      for (let i = 0; i < 300_000; i++) {
        const size = 50 + Math.floor(rnd() * 500)
        perPartition[producer.produce(size)]! += size
        total += size
        if (i % 500 === 0) producer.linger()
      }
      const mean = total / n
      // About 30,000 switches, over 1,000 per partition at n = 31: each partition's share is within 15%
      // of the mean (about 5 standard deviations there; 60 other seeds stayed under 10%). A partitioner
      // that leaves a partition out, or favours low or high indexes, fails this.
      for (let p = 0; p < n; p++) {
        assert.ok(Math.abs(perPartition[p]! - mean) < 0.15 * mean, `n=${n} partition ${p}: ${perPartition[p]} bytes, mean ${mean}`)
      }
    }
  })

  test('while batches are smaller than the threshold, the switch waits for the next batch boundary', () => {
    // Batches close at 400 bytes (4 records). 1,000 bytes are reached by record 10, in the middle of
    // the third batch: records 11 and 12 still fill that batch, record 13 starts a batch elsewhere
    // instead of leaving a fractional one behind (KAFKA-14156's concern).
    const producer = new FakeProducer(uniformBytesPartitioner(1000, { random: seeded(3) }).forTopic('t'), 50, 400)
    const seen = Array.from({ length: 13 }, () => producer.produce(100))
    assert.deepEqual(seen.slice(0, 12), new Array(12).fill(seen[0]))
    assert.notEqual(seen[12], seen[0])
  })

  test('a batch sent early by linger is a boundary too', () => {
    const producer = new FakeProducer(uniformBytesPartitioner(1000, { random: seeded(4) }).forTopic('t'), 50)
    const a = producer.produce(600)
    producer.linger()
    assert.equal(producer.produce(300), a) // 900: below the threshold, a new batch on the same partition
    assert.equal(producer.produce(300), a) // 1,200, batch of 600: keep filling it
    producer.linger()
    assert.notEqual(producer.produce(100), a)
  })

  test('without batch boundaries, twice the threshold forces a switch', () => {
    const tp = uniformBytesPartitioner(1000, { random: seeded(5) }).forTopic('t')
    const a = tp.partition(keyless(), 50)
    for (let i = 0; i < 20; i++) {
      assert.equal(tp.partition(keyless(), 50), a, `record ${i}`)
      tp.onRecordAdded!(100, 100) // the batch never holds the threshold
    }
    assert.notEqual(tp.partition(keyless(), 50), a)
  })

  test('a batch holding the threshold switches at once (Java: the batch is full)', () => {
    const producer = new FakeProducer(uniformBytesPartitioner(1000, { random: seeded(6) }).forTopic('t'), 50)
    const a = producer.produce(500)
    assert.equal(producer.produce(500), a)
    assert.notEqual(producer.produce(500), a)
  })

  test('onNewBatch before the threshold keeps the partition', () => {
    const producer = new FakeProducer(uniformBytesPartitioner(1000, { random: seeded(6) }).forTopic('t'), 50, 100)
    const a = producer.produce(100)
    for (let i = 0; i < 8; i++) assert.equal(producer.produce(100), a) // every record is a new batch
  })

  test('keyed records neither count toward nor trigger the sticky switch', () => {
    const tp = uniformBytesPartitioner(1000, { random: seeded(7) }).forTopic('t')
    const producer = new FakeProducer(tp, 31)
    const a = producer.produce(500)
    for (let i = 0; i < 100; i++) {
      tp.partition(keyed(`k${i}`), 31)
      tp.onNewBatch!()
      tp.onRecordAdded!(10_000, 10_000)
    }
    assert.equal(producer.produce(400), a) // 900 bytes keyless so far
    assert.equal(producer.produce(100), a)
    assert.notEqual(producer.produce(100), a)
  })

  test('keys: false sticks keyed records too', () => {
    const tp = uniformBytesPartitioner(1000, { keys: false, random: seeded(8) }).forTopic('t')
    const r = keyed('same')
    assert.equal(tp.requiresConsistency(r), false)
    const ps = new Set<number>()
    for (let i = 0; i < 100; i++) {
      ps.add(tp.partition(r, 31))
      tp.onRecordAdded!(100)
    }
    assert.ok(ps.size > 5)
  })

  test('a shrunk partition count moves the sticky partition into range', () => {
    const tp = uniformBytesPartitioner(1_000_000, { random: () => 0.99 }).forTopic('t')
    assert.equal(tp.partition(keyless(), 100), 99)
    assert.equal(tp.partition(keyless(), 100), 99)
    assert.equal(tp.partition(keyless(), 10), 9)
    assert.equal(tp.partition(keyless(), 100), 9) // growing keeps it
  })

  test('adaptive: the next partition is weighted by max backlog + 1 - backlog (KIP-794)', () => {
    const backlogs = [0, 10, 10, 10]
    const counts = [0, 0, 0, 0]
    const tp = uniformBytesPartitioner(1, { random: seeded(9) }).forTopic('t')
    const draws = 20_000
    for (let i = 0; i < draws; i++) {
      counts[tp.partition(keyless(), 4, (j) => backlogs[j]!)]!++
      tp.onRecordAdded!(1)
    }
    // Weights 11, 1, 1, 1 of 14.
    assert.ok(Math.abs(counts[0]! / draws - 11 / 14) < 0.02, `partition 0 share ${counts[0]! / draws}`)
    for (let j = 1; j < 4; j++) assert.ok(Math.abs(counts[j]! / draws - 1 / 14) < 0.01, `partition ${j} share ${counts[j]! / draws}`)
  })

  test('adaptive with equal backlogs, and non-adaptive with any backlog, pick uniformly', () => {
    for (const [adaptive, backlogs] of [[true, [5, 5, 5, 5]], [false, [0, 100, 100, 100]]] as const) {
      const counts = [0, 0, 0, 0]
      const tp = uniformBytesPartitioner(1, { adaptive, random: seeded(10) }).forTopic('t')
      for (let i = 0; i < 20_000; i++) {
        counts[tp.partition(keyless(), 4, (j) => backlogs[j]!)]!++
        tp.onRecordAdded!(1)
      }
      for (const c of counts) assert.ok(Math.abs(c / 20_000 - 0.25) < 0.02, `adaptive=${adaptive}: ${counts}`)
    }
  })

  test('the byte threshold must be a positive integer; the default partitioner uses DEFAULT_STICKY_BYTES', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => uniformBytesPartitioner(bad), (e: unknown) => e instanceof InvalidOptionError && e.option === 'partitioner')
    }
    const producer = new FakeProducer(defaultPartitioner({ random: seeded(11) }).forTopic('t'), 1000)
    const a = producer.produce(DEFAULT_STICKY_BYTES - 1)
    assert.equal(producer.produce(1), a)
    assert.notEqual(producer.produce(1), a)
  })
})

// ---- sticky (KIP-480) ---------------------------------------------------------------------------

describe('stickyKeyPartitioner and stickyPartitioner', () => {
  test('keyless records stay put until a new batch, then move to a different partition', () => {
    const tp = stickyKeyPartitioner({ random: seeded(12) }).forTopic('t')
    const counts = new Array<number>(7).fill(0)
    let prev = tp.partition(keyless(), 7)
    for (let batch = 0; batch < 7000; batch++) {
      for (let i = 0; i < 5; i++) assert.equal(tp.partition(keyless(), 7), prev)
      tp.onNewBatch!()
      const next = tp.partition(keyless(), 7)
      assert.notEqual(next, prev)
      counts[next]!++
      prev = next
    }
    for (const c of counts) assert.ok(Math.abs(c - 1000) < 150, `${counts}`)
  })

  test('a new batch for a keyed record does not move the keyless records', () => {
    const tp = stickyKeyPartitioner({ random: seeded(13) }).forTopic('t')
    const a = tp.partition(keyless(), 31)
    tp.partition(keyed('k'), 31)
    tp.onNewBatch!()
    assert.equal(tp.partition(keyless(), 31), a)
  })

  test('onRecordAdded is not needed: byte counts do not move a KIP-480 sticky partitioner', () => {
    const tp = stickyKeyPartitioner({ random: seeded(14) }).forTopic('t')
    assert.equal(tp.onRecordAdded, undefined)
  })

  test('stickyPartitioner ignores keys', () => {
    const tp = stickyPartitioner({ random: seeded(15) }).forTopic('t')
    const r = keyed('k')
    assert.equal(tp.requiresConsistency(r), false)
    const a = tp.partition(r, 31)
    assert.equal(tp.partition(keyed('other'), 31), a)
    tp.onNewBatch!()
    assert.notEqual(tp.partition(r, 31), a)
  })

  test('one partition: the sticky choice stays on it', () => {
    const tp = stickyPartitioner().forTopic('t')
    for (let i = 0; i < 10; i++) {
      assert.equal(tp.partition(keyless(), 1), 0)
      tp.onNewBatch!()
    }
  })
})

// ---- round robin, manual, custom ----------------------------------------------------------------

describe('roundRobinPartitioner', () => {
  test('cycles through every partition in order, keys or not', () => {
    const tp = roundRobinPartitioner().forTopic('t')
    const got = Array.from({ length: 15 }, (_, i) => tp.partition(i % 2 ? keyed('k') : keyless(), 5))
    assert.deepEqual(got, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    assert.equal(tp.requiresConsistency(keyed('k')), false)
  })

  test('wraps when the partition count shrinks; topics cycle independently', () => {
    const p = roundRobinPartitioner()
    const a = p.forTopic('a')
    const b = p.forTopic('b')
    for (let i = 0; i < 4; i++) a.partition(keyless(), 10)
    assert.equal(b.partition(keyless(), 10), 0)
    assert.equal(a.partition(keyless(), 3), 0)
    assert.equal(a.partition(keyless(), 3), 1)
  })
})

describe('manualPartitioner', () => {
  test('uses record.partition and asks for all partitions', () => {
    const tp = manualPartitioner().forTopic('t')
    const r: ProduceRecord = { topic: 't', partition: 4, value: 'v' }
    assert.equal(tp.requiresConsistency(r), true)
    assert.equal(tp.partition(r, 12), 4)
    assert.equal(tp.partition({ topic: 't', partition: 0, value: 'v' }, 12), 0)
  })

  test('a record without a partition fails with a PartitionerError', () => {
    const tp = manualPartitioner().forTopic('orders')
    for (const partition of [undefined, -1, 1.5]) {
      assert.throws(() => tp.partition({ topic: 'orders', partition, value: 'v' } as ProduceRecord, 12), (e: unknown) => {
        assert.ok(e instanceof PartitionerError)
        assert.equal(e.code, 'PARTITIONER')
        assert.equal(e.topic, 'orders')
        assert.match(e.message, /no partition/)
        return true
      })
    }
  })
})

describe('customPartitioner', () => {
  test('returns what the function returns, given the record and the partition count', () => {
    const seen: Array<[string, number]> = []
    const tp = customPartitioner((r, n) => {
      seen.push([r.topic, n])
      return n - 1
    }).forTopic('t')
    assert.equal(tp.requiresConsistency(keyless()), true)
    assert.equal(tp.partition(keyless(), 9), 8)
    assert.deepEqual(seen, [['t', 9]])
  })

  test('a result outside [0, n) or not an integer fails the record', () => {
    for (const bad of [-1, 9, 10, 1.5, Number.NaN, '1' as unknown as number, undefined as unknown as number]) {
      const tp = customPartitioner(() => bad).forTopic('t')
      assert.throws(() => tp.partition(keyless(), 9), (e: unknown) => {
        assert.ok(e instanceof PartitionerError)
        assert.match(e.message, /not a partition in \[0, 9\)/)
        return true
      })
    }
  })

  test('property: any in-range result passes through, any other throws', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: -20_000, max: 20_000 }), (n, p) => {
      const tp = customPartitioner(() => p).forTopic('t')
      if (p >= 0 && p < n) assert.equal(tp.partition(keyless(), n), p)
      else assert.throws(() => tp.partition(keyless(), n), PartitionerError)
    }))
  })
})

// ---- partitionerFrom ----------------------------------------------------------------------------

describe('partitionerFrom', () => {
  test('maps every name to its partitioner', () => {
    const r = keyed('k')
    assert.equal(partitionerFrom('default').forTopic('t').partition(r, 12), javaPartitionForKey('k', 12))
    assert.equal(partitionerFrom(undefined).forTopic('t').partition(r, 12), javaPartitionForKey('k', 12))
    assert.equal(partitionerFrom('sticky-key').forTopic('t').requiresConsistency(r), true)
    assert.equal(partitionerFrom('sticky').forTopic('t').requiresConsistency(r), false)
    const rr = partitionerFrom('round-robin').forTopic('t')
    assert.deepEqual([rr.partition(r, 3), rr.partition(r, 3), rr.partition(r, 3), rr.partition(r, 3)], [0, 1, 2, 0])
    assert.equal(partitionerFrom('manual').forTopic('t').partition({ topic: 't', partition: 2, value: 'v' }, 3), 2)
    // 'default' has the uniform-sticky byte hooks, 'sticky-key' the batch hook only.
    assert.equal(typeof partitionerFrom('default').forTopic('t').onRecordAdded, 'function')
    assert.equal(partitionerFrom('sticky-key').forTopic('t').onRecordAdded, undefined)
  })

  test('a function becomes a validated custom partitioner', () => {
    const tp = partitionerFrom((_r, n) => n).forTopic('t')
    assert.throws(() => tp.partition(keyless(), 4), PartitionerError)
  })

  test('a Partitioner object is used as is, its topic partitioners checked once per topic', () => {
    const mine: TopicPartitioner = { requiresConsistency: () => false, partition: () => 3 }
    const p: Partitioner = { forTopic: () => mine }
    assert.equal(partitionerFrom(p).forTopic('t'), mine)
    const broken = partitionerFrom({ forTopic: () => ({ partition: () => 0 }) } as unknown as Partitioner)
    assert.throws(() => broken.forTopic('orders'), (e: unknown) => {
      assert.ok(e instanceof InvalidOptionError)
      assert.equal(e.option, 'partitioner')
      assert.match(e.message, /invalid option partitioner: forTopic\("orders"\)/)
      return true
    })
  })

  test('anything else is an error naming the option', () => {
    for (const bad of ['bogus', 'Default', 42, null, {}, [], true, Symbol('x'), 1n]) {
      assert.throws(() => partitionerFrom(bad as never), (e: unknown) => {
        assert.ok(e instanceof InvalidOptionError, String(e))
        assert.equal(e.option, 'partitioner')
        assert.match(e.message, /^invalid option partitioner: .* is not a partitioner/)
        return true
      })
    }
    assert.throws(() => customPartitioner('x' as never), (e: unknown) => e instanceof InvalidOptionError && e.option === 'partitioner')
  })
})
