import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { crc32, crc32c, crc32cImplementation, crc32cPortable } from '../../src/protocol/crc32c.js'

// RFC 3720 (iSCSI) appendix B.4 vectors plus the customary check string.
const vectors: Array<[string, Uint8Array, number]> = [
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
  ['32 0xff bytes', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['0..31 ascending', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ['31..0 descending', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ['empty', new Uint8Array(0), 0],
]

test('crc32c: known vectors, both implementations', () => {
  for (const [name, input, want] of vectors) {
    assert.equal(crc32c(input), want, `${crc32cImplementation}: ${name}`)
    assert.equal(crc32cPortable(input), want, `crc-32: ${name}`)
  }
})

test('crc32c: inputs either side of the native cut-over (128 bytes) agree with the portable code', () => {
  for (let n = 100; n <= 160; n++) {
    const bytes = Uint8Array.from({ length: n + 7 }, (_, i) => (i * 131 + n) & 0xff)
    assert.equal(crc32c(bytes, 7), crc32cPortable(bytes, 7), `${n} bytes`)
    assert.equal(crc32c(bytes.subarray(0, n)), crc32cPortable(bytes.subarray(0, n)), `${n} bytes from 0`)
  }
})

test('crc32c: result is unsigned', () => {
  // 0xe3069283 has the top bit set: crc-32 alone would return it negative.
  assert.ok(crc32c(Buffer.from('123456789')) > 0)
  assert.ok(crc32cPortable(Buffer.from('123456789')) > 0)
})

test('crc32c: implementations agree on random input', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
      assert.equal(crc32c(bytes), crc32cPortable(bytes))
    }),
    { numRuns: 500 },
  )
})

test('crc32c: start/end select a range of a view without changing the answer', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2048 }),
      fc.nat(64),
      fc.nat(),
      fc.nat(),
      (bytes, pad, a, b) => {
        // Lay the bytes inside a larger ArrayBuffer so byteOffset is non-zero, as for a fetch response.
        const backing = new Uint8Array(bytes.length + 2 * pad)
        backing.fill(0xa5)
        backing.set(bytes, pad)
        const viewed = backing.subarray(pad, pad + bytes.length)
        const lo = bytes.length === 0 ? 0 : a % (bytes.length + 1)
        const hi = lo + (bytes.length - lo === 0 ? 0 : b % (bytes.length - lo + 1))
        const want = crc32cPortable(bytes.slice(lo, hi))
        assert.equal(crc32c(viewed, lo, hi), want)
        assert.equal(crc32c(Buffer.from(viewed.buffer, viewed.byteOffset, viewed.length), lo, hi), want)
        assert.equal(crc32cPortable(viewed, lo, hi), want)
        assert.equal(crc32c(viewed), crc32cPortable(bytes))
      },
    ),
    { numRuns: 300 },
  )
})

test('crc32c: does not modify its input', () => {
  const input = Buffer.from('123456789')
  const copy = Buffer.from(input)
  crc32c(input, 1, 8)
  assert.deepEqual(input, copy)
})

test('crc32: IEEE vectors for legacy message sets', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926)
  assert.equal(crc32(new Uint8Array(0)), 0)
  assert.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339)
  const padded = Buffer.from('xx123456789yy')
  assert.equal(crc32(padded, 2, 11), 0xcbf43926)
})

test('crc32c: falls back to crc-32 when @node-rs/crc32 cannot be loaded', () => {
  // A child process whose CommonJS resolver refuses the optional package, as on a platform without its
  // prebuilt binary. The module must still load and compute the same vectors. The prefix match is
  // because tsx retries a failed request with extensions and /index appended.
  const hide = `const M = require('node:module'); const orig = M._resolveFilename;
M._resolveFilename = function (req, ...rest) {
  if (String(req).startsWith('@node-rs/crc32')) { const e = new Error('hidden by test'); e.code = 'MODULE_NOT_FOUND'; throw e }
  return orig.call(this, req, ...rest)
}`
  const src = fileURLToPath(new URL('../../src/protocol/crc32c.ts', import.meta.url))
  const script = `import { crc32c, crc32cImplementation } from ${JSON.stringify(src)}
console.log(JSON.stringify([crc32cImplementation, crc32c(Buffer.from('123456789')), crc32c(Buffer.from('xx123456789'), 2)]))`
  const dir = mkdtempSync(join(tmpdir(), 'crc32c-test-'))
  try {
    const hook = join(dir, 'hide.cjs')
    writeFileSync(hook, hide)
    const out = execFileSync(process.execPath, ['--require', hook, '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    })
    assert.deepEqual(JSON.parse(out), ['crc-32', 0xe3069283, 0xe3069283])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
