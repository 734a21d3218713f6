/**
 * Micro benchmark for the record-batch codecs: compress and decompress throughput (MB/s of uncompressed
 * bytes) and ratio, per candidate package and per codec, over one realistic ~1 MiB batch of JSON orders.
 *
 * It is how the packages behind src/protocol/compression were chosen, and it keeps measuring our own
 * codecs (framing included) beside the raw packages, so a regression in the framing shows up as a gap.
 *
 * Candidates are loaded from a folder of their own (they are not the library's dependencies):
 *
 *   mkdir -p /tmp/cmp-bench && cd /tmp/cmp-bench && npm init -y && npm i lz4-napi lz4js lz4-wasm-nodejs \
 *     snappy snappyjs @mongodb-js/zstd@1.2.2 @toondepauw/node-zstd @bokuweb/zstd-wasm fzstd zstd-codec \
 *     @hpcc-js/wasm-zstd
 *   BENCH_MODULES=/tmp/cmp-bench node --import tsx bench/micro/compression.ts [--json out.json] [--seconds 1]
 *     [--rounds 5] [--only codec-or-name] [--size bytes] [--seed n] [--dump batch.bin (write the data and exit)]
 *
 * Results behind the choice (2026-11, Node 20.20.2, the project's 2-core machine while other sessions
 * kept its load average at 4–17, so MB/s are best and median over seven runs of best-of-rounds; ratios
 * between rows of one codec are the figures to trust, absolute numbers are low):
 *
 * | codec  | candidate                                | compress best / median | decompress best / median | ratio |
 * | gzip   | node:zlib (level 6)                      |                51 / 39 |                442 / 240 | 4.08 |
 * | gzip   | node:zlib (level 1)                      |               139 / 94 |                368 / 225 | 3.55 |
 * | gzip   | kafka-wire gzip                          |                29 / 26 |                352 / 196 | 4.08 |
 * | snappy | snappy (napi-rs) raw block               |              367 / 224 |                391 / 350 | 2.52 |
 * | snappy | snappyjs (pure JS) raw block             |               121 / 80 |                220 / 155 | 2.53 |
 * | snappy | kafka-wire snappy                        |              314 / 172 |                468 / 268 | 2.37 |
 * | lz4    | lz4-napi frame (sync)                    |              270 / 204 |                452 / 347 | 2.62 |
 * | lz4    | lz4-napi block (sync)                    |              396 / 291 |               1071 / 692 | 2.62 |
 * | lz4    | lz4js (pure JS) frame                    |               127 / 61 |                231 / 121 | 2.76 |
 * | lz4    | lz4-wasm-nodejs                          |              348 / 215 |               1121 / 393 | 2.59 |
 * | lz4    | kafka-wire lz4                           |              301 / 191 |               1074 / 501 | 2.50 |
 * | zstd   | @toondepauw/node-zstd (napi-rs, sync)    |              256 / 140 |                513 / 291 | 4.58 |
 * | zstd   | @mongodb-js/zstd@1.2.2 (napi-rs, async)  |              216 / 135 |                667 / 441 | 4.58 |
 * | zstd   | @bokuweb/zstd-wasm                       |               126 / 78 |                612 / 325 | 4.58 |
 * | zstd   | @hpcc-js/wasm-zstd                       |                40 / 18 |                   11 / 6 | 4.58 |
 * | zstd   | zstd-codec (emscripten)                  |               161 / 88 |                447 / 219 | 4.58 |
 * | zstd   | fzstd (pure JS, decompress only)         |              246 / 139 |                 128 / 71 | 4.58 |
 * | zstd   | kafka-wire zstd                          |              222 / 112 |                455 / 335 | 4.58 |
 *
 * Head to head, interleaved in one process: lz4-napi vs lz4-wasm-nodejs on 64 KiB blocks compress
 * 368 vs 361 MB/s, decompress 1475 vs 1009; node-zstd (sync) vs @mongodb-js/zstd 1.2.2 (async)
 * decompress 777 vs 561, compress 157 vs 154. Excluded by the install rule (prebuild-install or
 * node-gyp at install): @mongodb-js/zstd 2+ and zstd-napi.
 *
 * A candidate that fails to load is reported and skipped. Throughput always counts uncompressed bytes,
 * both ways, so compress and decompress figures compare directly. `--seconds` is each candidate's time
 * per direction, split over `--rounds` rounds; the fastest round counts (see measure).
 */
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { writeFileSync } from 'node:fs'
import { gzipSync, gunzipSync } from 'node:zlib'

type Bytes = Uint8Array

interface Impl {
  compress(data: Bytes): Bytes | Promise<Bytes>
  decompress(data: Bytes): Bytes | Promise<Bytes>
  /** async is true when the package only offers promises (each call goes through the libuv pool). */
  async?: boolean
  note?: string
}

interface Candidate {
  codec: 'gzip' | 'snappy' | 'lz4' | 'zstd'
  name: string
  load(): Promise<Impl>
}

/** Row is one measured candidate. */
interface Row {
  codec: string
  name: string
  compressMBs: number
  decompressMBs: number
  ratio: number
  async: boolean
  note: string
}

const args = process.argv.slice(2)
const argValue = (flag: string): string | undefined => {
  const i = args.indexOf(flag)
  return i >= 0 ? args[i + 1] : undefined
}
const seconds = Number(argValue('--seconds') ?? 1)
const jsonOut = argValue('--json')
const only = argValue('--only')
const modulesDir = resolve(process.env.BENCH_MODULES ?? join(import.meta.dirname, '..'))
const requireFrom = createRequire(join(modulesDir, 'package.json'))

// Some candidates are ESM-only: resolve through the candidates' folder, then import by URL.
async function load<T = any>(name: string): Promise<T> {
  try {
    return requireFrom(name) as T
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw err
    return (await import(pathToFileURL(requireFrom.resolve(name)).href)) as T
  }
}

// --- data ------------------------------------------------------------------------------------------

// mulberry32: a seeded PRNG so every run compresses the same bytes.
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * orderBatch builds about `target` bytes laid out like a RecordBatch v2 body: per record a varint
 * length, attributes, timestamp and offset deltas, a key (the order id) and a JSON value of 200–1000
 * bytes. Values mix vocabulary words (which real payloads repeat) with ids, prices, timestamps and
 * free text (which they do not), so ratios land where production JSON lands rather than at the
 * extremes of repeated strings or random bytes.
 */
export function orderBatch(target = 1 << 20, seed = 42): Buffer {
  const rnd = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1))
  const hex = (n: number): string => {
    let s = ''
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rnd() * 16)]
    return s
  }
  const syl = ['ka', 'lo', 'mi', 'ren', 'sa', 'to', 'vel', 'an', 'dor', 'ish', 'ma', 'qu', 'el', 'zo', 'ber', 'tin']
  const word = (): string => {
    let s = ''
    for (let i = int(2, 4); i > 0; i--) s += pick(syl)
    return s
  }
  const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1)
  const statuses = ['created', 'paid', 'packed', 'shipped', 'delivered', 'cancelled', 'refunded'] as const
  const currencies = ['EUR', 'USD', 'GBP', 'JPY', 'CHF', 'SEK'] as const
  const countries = ['DE', 'FR', 'US', 'GB', 'JP', 'NL', 'SE', 'IT', 'ES', 'PL'] as const
  const tiers = ['free', 'silver', 'gold', 'platinum'] as const
  const channels = ['web', 'ios', 'android', 'pos', 'partner-api'] as const
  const products = Array.from({ length: 400 }, () => ({
    sku: `${pick(['AP', 'EL', 'HO', 'SP', 'BK', 'TY'])}-${int(10000, 99999)}`,
    name: `${cap(word())} ${pick(['Jacket', 'Lamp', 'Kettle', 'Sneaker', 'Novel', 'Headphones', 'Backpack', 'Mug'])}`,
    price: int(199, 49999) / 100,
  }))
  const base = Date.UTC(2025, 0, 1)

  const out = Buffer.allocUnsafe(target + 4096)
  let pos = 0
  const varint = (v: number): void => {
    let z = (v << 1) ^ (v >> 31)
    while (z > 0x7f) {
      out[pos++] = (z & 0x7f) | 0x80
      z >>>= 7
    }
    out[pos++] = z
  }
  let n = 0
  while (pos < target) {
    const id = `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`
    const items = Array.from({ length: int(1, 6) }, () => {
      const p = pick(products)
      return { sku: p.sku, name: p.name, qty: int(1, 5), unitPrice: p.price }
    })
    const subtotal = Math.round(items.reduce((s, it) => s + it.qty * it.unitPrice, 0) * 100) / 100
    const order: Record<string, unknown> = {
      orderId: id,
      createdAt: new Date(base + n * 1337 + int(0, 999)).toISOString(),
      status: pick(statuses),
      channel: pick(channels),
      customer: {
        id: `cus_${hex(10)}`,
        name: `${cap(word())} ${cap(word())}`,
        email: `${word()}.${word()}@${pick(['example.com', 'mail.test', 'corp.invalid'])}`,
        tier: pick(tiers),
      },
      currency: pick(currencies),
      items,
      subtotal,
      tax: Math.round(subtotal * 19) / 100,
      shipping: {
        street: `${int(1, 400)} ${cap(word())} ${pick(['Street', 'Road', 'Allee', 'Way'])}`,
        city: cap(word()),
        zip: String(int(10000, 99999)),
        country: pick(countries),
        express: rnd() < 0.2,
      },
    }
    if (rnd() < 0.4) order.note = Array.from({ length: int(3, 20) }, word).join(' ')
    if (rnd() < 0.5) order.tags = Array.from({ length: int(1, 4) }, word)
    if (rnd() < 0.3) order.coupon = hex(6).toUpperCase()
    const value = Buffer.from(JSON.stringify(order))
    const key = Buffer.from(id)
    const start = pos
    pos += 5 // room for the record length, patched below (a real batch writes it first too)
    out[pos++] = 0 // attributes
    varint(n * 3) // timestampDelta
    varint(n) // offsetDelta
    varint(key.length)
    pos += key.copy(out, pos)
    varint(value.length)
    pos += value.copy(out, pos)
    varint(0) // headers
    const len = pos - start - 5
    // Shift the body left over unused length bytes so the record is laid out exactly as on the wire.
    const tmp = Buffer.from(out.subarray(start + 5, pos))
    pos = start
    varint(len)
    pos += tmp.copy(out, pos)
    n++
  }
  return Buffer.from(out.subarray(0, pos))
}

// --- candidates ------------------------------------------------------------------------------------

const candidates: Candidate[] = [
  {
    codec: 'gzip', name: 'node:zlib (level 6)', load: async () => ({
      compress: (d) => gzipSync(d), decompress: (d) => gunzipSync(d),
    }),
  },
  {
    codec: 'gzip', name: 'node:zlib (level 1)', load: async () => ({
      compress: (d) => gzipSync(d, { level: 1 }), decompress: (d) => gunzipSync(d),
    }),
  },
  {
    codec: 'snappy', name: 'snappy (napi-rs) raw block', load: async () => {
      const s = await load('snappy')
      return {
        compress: (d) => s.compressSync(d),
        decompress: (d) => s.uncompressSync(d, { asBuffer: true }),
      }
    },
  },
  {
    codec: 'snappy', name: 'snappyjs (pure JS) raw block', load: async () => {
      const s = await load('snappyjs')
      return { compress: (d) => s.compress(d), decompress: (d) => s.uncompress(d) }
    },
  },
  {
    codec: 'lz4', name: 'lz4-napi frame (sync)', load: async () => {
      const l = await load('lz4-napi')
      return {
        compress: (d) => l.compressFrameSync(d),
        decompress: (d) => l.decompressFrameSync(d),
        note: 'lz4_flex frame: 4 MiB blocks, independent',
      }
    },
  },
  {
    codec: 'lz4', name: 'lz4-napi block (sync)', load: async () => {
      const l = await load('lz4-napi')
      return {
        compress: (d) => l.compressSync(d),
        decompress: (d) => l.uncompressSync(d),
        note: 'one block, size-prefixed (not a frame)',
      }
    },
  },
  {
    codec: 'lz4', name: 'lz4js (pure JS) frame', load: async () => {
      const l = await load('lz4js')
      return { compress: (d) => l.compress(d), decompress: (d) => l.decompress(d) }
    },
  },
  {
    codec: 'lz4', name: 'lz4-wasm-nodejs', load: async () => {
      const l = await load('lz4-wasm-nodejs')
      return {
        compress: (d) => l.compress(d), decompress: (d) => l.decompress(d),
        note: 'size-prefixed block, not a frame',
      }
    },
  },
  {
    codec: 'zstd', name: '@toondepauw/node-zstd (napi-rs, sync)', load: async () => {
      const z = await load('@toondepauw/node-zstd')
      const enc = new z.Encoder(3)
      const dec = new z.Decoder()
      const asBuf = (d: Bytes): Buffer => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength))
      return { compress: (d) => enc.encodeSync(asBuf(d)), decompress: (d) => dec.decodeSync(asBuf(d)) }
    },
  },
  {
    codec: 'zstd', name: '@mongodb-js/zstd@1.2.2 (napi-rs, async)', load: async () => {
      const z = await load('@mongodb-js/zstd')
      const asBuf = (d: Bytes): Buffer => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength))
      return { compress: (d) => z.compress(asBuf(d), 3), decompress: (d) => z.decompress(asBuf(d)), async: true }
    },
  },
  {
    codec: 'zstd', name: '@bokuweb/zstd-wasm', load: async () => {
      const z = await load('@bokuweb/zstd-wasm')
      await z.init()
      return {
        compress: (d) => z.compress(d, 3),
        decompress: (d) => z.decompress(d, { defaultHeapSize: 4 << 20 }),
        note: 'decompress needs the output size up front',
      }
    },
  },
  {
    codec: 'zstd', name: '@hpcc-js/wasm-zstd', load: async () => {
      const { Zstd } = await load('@hpcc-js/wasm-zstd')
      const z = await Zstd.load()
      return { compress: (d) => z.compress(d, 3), decompress: (d) => z.decompress(d) }
    },
  },
  {
    codec: 'zstd', name: 'zstd-codec (emscripten)', load: async () => {
      const { ZstdCodec } = await load('zstd-codec')
      const zstd: any = await new Promise((res) => ZstdCodec.run(res))
      const simple = new zstd.Simple()
      return { compress: (d) => simple.compress(d, 3), decompress: (d) => simple.decompress(d) }
    },
  },
  {
    codec: 'zstd', name: 'fzstd (pure JS, decompress only)', load: async () => {
      const f = await load('fzstd')
      const z = await load('@toondepauw/node-zstd')
      const enc = new z.Encoder(3)
      return {
        compress: (d) => enc.encodeSync(Buffer.from(d)),
        decompress: (d) => f.decompress(d),
        note: 'compress column is node-zstd (fzstd cannot compress)',
      }
    },
  },
]

// Our own codecs, framing included, when the module is there to import.
async function ownCandidates(): Promise<Candidate[]> {
  let mod: any
  try {
    mod = await import('../../src/protocol/compression/index.js')
  } catch (err) {
    console.error(`kafka-wire codecs not loaded: ${(err as Error).message}`)
    return []
  }
  const codecs = [['gzip', 1], ['snappy', 2], ['lz4', 3], ['zstd', 4]] as const
  return codecs.map(([codec, id]) => ({
    codec,
    name: `kafka-wire ${codec}`,
    load: async () => {
      await mod.ready?.()
      return {
        compress: (d: Bytes) => mod.compress(id, d),
        decompress: (d: Bytes) => mod.decompress(id, d),
        note: mod.codecImplementation?.(id) ?? '',
      }
    },
  }))
}

// --- measuring -------------------------------------------------------------------------------------

/**
 * measure returns the milliseconds one call takes, as the fastest of `rounds` rounds: others share this
 * machine's two cores, so the least disturbed round says what the code costs, where a mean would
 * mostly measure the neighbours. Candidates take turns round by round (see main) so a busy spell hits
 * them all alike instead of whichever ran during it.
 */
async function measure(fn: () => unknown, isAsync: boolean, budgetMs: number): Promise<number> {
  let iters = 0
  const start = performance.now()
  let elapsed = 0
  do {
    if (isAsync) await fn()
    else fn()
    iters++
    elapsed = performance.now() - start
  } while (elapsed < budgetMs || iters < 3)
  return elapsed / iters
}

function equal(a: Bytes, b: Bytes): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0
}

async function main(): Promise<void> {
  const data = orderBatch(Number(argValue('--size') ?? 1 << 20), Number(argValue('--seed') ?? 42))
  const dump = argValue('--dump')
  if (dump) {
    writeFileSync(dump, data)
    return
  }
  const mb = data.length / 1e6
  console.log(`data: ${data.length} bytes of RecordBatch-like JSON orders; node ${process.version}; modules from ${modulesDir}`)
  const rounds = Number(argValue('--rounds') ?? 5)
  const all = [...candidates, ...(await ownCandidates())].filter((c) => !only || c.codec === only || c.name.includes(only))
  interface Loaded { c: Candidate; impl: Impl; compressed: Bytes; cMs: number; dMs: number }
  const loaded: Loaded[] = []
  for (const c of all) {
    let impl: Impl
    try {
      impl = await c.load()
    } catch (err) {
      console.error(`skip ${c.name}: ${(err as Error).message.split('\n')[0]}`)
      continue
    }
    const compressed = await impl.compress(data)
    if (!equal(await impl.decompress(compressed), data)) {
      console.error(`skip ${c.name}: round trip differs`)
      continue
    }
    // Warm up (JIT, WASM tier-up, native allocators) before any clock starts.
    for (let i = 0; i < 3; i++) await impl.decompress(await impl.compress(data))
    loaded.push({ c, impl, compressed, cMs: Infinity, dMs: Infinity })
  }
  const slice = (seconds * 1000) / rounds
  for (let r = 0; r < rounds; r++) {
    for (const l of loaded) {
      const isAsync = l.impl.async ?? false
      l.cMs = Math.min(l.cMs, await measure(() => l.impl.compress(data), isAsync, slice))
      l.dMs = Math.min(l.dMs, await measure(() => l.impl.decompress(l.compressed), isAsync, slice))
    }
    console.error(`round ${r + 1}/${rounds} done`)
  }
  const rows: Row[] = loaded.map((l) => ({
    codec: l.c.codec,
    name: l.c.name,
    compressMBs: mb / (l.cMs / 1000),
    decompressMBs: mb / (l.dMs / 1000),
    ratio: data.length / l.compressed.length,
    async: l.impl.async ?? false,
    note: l.impl.note ?? '',
  }))
  const order = ['gzip', 'snappy', 'lz4', 'zstd']
  rows.sort((a, b) => order.indexOf(a.codec) - order.indexOf(b.codec)) // stable: ours last in each group
  console.log('\n| codec | candidate | compress MB/s | decompress MB/s | ratio | note |')
  console.log('| --- | --- | ---: | ---: | ---: | --- |')
  for (const r of rows) {
    const note = [r.async ? 'async only' : '', r.note].filter(Boolean).join('; ')
    console.log(`| ${r.codec} | ${r.name} | ${r.compressMBs.toFixed(0)} | ${r.decompressMBs.toFixed(0)} | ${r.ratio.toFixed(2)} | ${note} |`)
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ bytes: data.length, node: process.version, rows }, null, 2))
}

await main()
