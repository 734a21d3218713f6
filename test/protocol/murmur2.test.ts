import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { murmur2, murmur2String, toPositive } from '../../src/protocol/murmur2.js'

// Expected values were computed with the Java client (kafka-clients 4.4.0): for each input,
// `Utils.murmur2(bytes)` and `Utils.toPositive(Utils.murmur2(bytes)) % 12`. Strings are hashed as their
// UTF-8 bytes; the byte inputs came from a 64-bit LCG (x = x * 6364136223846793005 + 1442695040888963407,
// seed 42, top byte of each step) so every tail length (0..3) and a long input are covered.
const STRINGS: [string, number, number][] = [
  ['', 275646681, 9],
  ['a', -1563381124, 4],
  ['ab', 316155434, 2],
  ['abc', 479470107, 3],
  ['abcd', -1323649548, 8],
  ['abcde', 461995741, 1],
  ['hello world', 1221641059, 7],
  ['21', -973932308, 0],
  ['foobar', -790332482, 6],
  ['kafka-wire', -1160557046, 6],
  ['order-12345', -1747359319, 1],
  ['héllo ☃ 🎉', 1260561295, 7],
  ['The quick brown fox jumps over the lazy dog', 495243318, 6],
]
const BYTES: [string, number, number][] = [
  ['91', 2074567662, 6],
  ['3969', 978921034, 10],
  ['a1ae06', -1169790350, 6],
  ['05277906', 663071409, 9],
  ['5b87eb53cb', -2088354523, 1],
  ['64c9116bb557', 17413619, 11],
  ['6d69586386887c', -1362268276, 4],
  ['6a9eeeb569a406a1', 1678824857, 5],
  ['2e5beea626f6ddef63d56405371f80', -900646211, 9],
  ['732782086f51c00c437200dac16a2efc', 1819256697, 9],
  ['f04234ddde05e1665519a85df98572985b', 124041743, 11],
  ['bd9881e3b4a4e6a81ae7031eda54bb3b00d5df5d924e7d6ba50cea9455aba9', -986884407, 5],
  ['c0f469edcec974ad1d26a43eef5780b48b2e9fe1a807c6091170183afc85eb89bd3662bd976705ab9b5adfcc9a8784bc21f14b621ca18e530950e57ffbe2d783', 1382999636, 8],
  ['0789f2683c0310eecee37c96826076e47f52ed02881b1e95de89e9b7d395fca7640fbb74c5e28a196a5e25dd11a721121a41ba36c005eff384afcfc0ebb66838f6ffafd7b843a1ec73f6abd79606f1498d3da3bc302d1c74dea2e82bed94155f9c1065b4134f415ade524c6b04c36b7ae052a381c8cf9e8575a49bc2368d59293e7512008ab998e2cd6bd413b71f39b8e5a8c027c1e4058caa8e41e96ed5cefb28b220ee8b2681116ceda9f5155446b3d3cddcd93dc93b38071b78d19424e8c771fb9c840cee9e29bb53d7415a5672c3d9b5fcb221470f947e8c19c017d4d49cef35c2a8341f9a6e6fc3b141bac356fad76ec8c46138431c0f2507ed4cf962', 927403450, 10],
  ['ffffffffffffff', -71293549, 7],
  ['000000000000000000', 1714106139, 3],
]

test('murmur2 matches Java on strings', () => {
  for (const [s, hash, partition] of STRINGS) {
    const h = murmur2(Buffer.from(s, 'utf8'))
    assert.equal(h, hash, JSON.stringify(s))
    assert.equal(toPositive(h) % 12, partition, JSON.stringify(s))
  }
})

test('murmur2 matches Java on bytes', () => {
  for (const [hex, hash, partition] of BYTES) {
    const h = murmur2(Buffer.from(hex, 'hex'))
    assert.equal(h, hash, hex)
    assert.equal(toPositive(h) % 12, partition, hex)
  }
})

test('murmur2 reads only the view it is given', () => {
  const backing = Buffer.from('xxhello worldyy')
  assert.equal(murmur2(backing.subarray(2, 13)), 1221641059)
  assert.equal(murmur2(new Uint8Array(Buffer.from('hello world'))), 1221641059)
})

test('murmur2 returns a signed 32-bit integer; toPositive a non-negative one', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const h = murmur2(bytes)
      assert.ok(Number.isInteger(h) && h >= -0x80000000 && h <= 0x7fffffff)
      const p = toPositive(h)
      assert.ok(p >= 0 && p <= 0x7fffffff)
      assert.equal(p, h & 0x7fffffff)
    }),
  )
  assert.equal(toPositive(-1), 0x7fffffff)
  assert.equal(toPositive(-0x80000000), 0)
})

test('murmur2String hashes a string as the Java client hashes its UTF-8 bytes', () => {
  for (const [s, hash] of STRINGS) assert.equal(murmur2String(s), hash, JSON.stringify(s))
  // Longer keys than the scratch first holds, and back to short ones.
  for (const s of ['k'.repeat(300), 'é'.repeat(500), '🎉'.repeat(400), 'abc']) assert.equal(murmur2String(s), murmur2(Buffer.from(s, 'utf8')))
})

test('murmur2String writes an unpaired surrogate as "?", as Java\'s String.getBytes(UTF_8) does', () => {
  // What Java's StringSerializer sends: lone surrogates become '?', pairs their code point.
  const javaBytes = (s: string) => Buffer.from(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '?'), 'utf8')
  assert.equal(murmur2String('a\uD800b'), murmur2(Buffer.from('a?b')))
  assert.equal(murmur2String('\uDC00\uD800'), murmur2(Buffer.from('??')))
  const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 })
  fc.assert(fc.property(fc.oneof(codeUnits, fc.string({ unit: 'binary', maxLength: 40 })), (s) => murmur2String(s) === murmur2(javaBytes(s))), { numRuns: 500 })
})

test('murmur2 over a range is murmur2 of that slice', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(), (a, x, y) => {
      const start = a.length === 0 ? 0 : x % (a.length + 1)
      const end = start + (a.length - start === 0 ? 0 : y % (a.length - start + 1))
      return murmur2(a, start, end) === murmur2(a.slice(start, end))
    }),
    { numRuns: 500 },
  )
})
