/**
 * murmur2 hashes bytes exactly as the Java client's `Utils.murmur2` does (32-bit MurmurHash2, seed
 * 0x9747b28c, four bytes at a time read little-endian), returning the same signed 32-bit result, so a
 * key lands on the same partition whichever client produced it. `start` and `end` hash a range of
 * `data` without making a view of it. String keys: murmur2String.
 */
export function murmur2(data: Uint8Array, start = 0, end = data.length): number {
  const length = end - start
  const m = 0x5bd1e995
  let h = 0x9747b28c ^ length
  const whole = start + (length & ~3)
  for (let i = start; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  // The last one to three bytes, highest first (Java's switch falls through from case 3 to case 1).
  const rest = length & 3
  if (rest >= 3) h ^= data[whole + 2]! << 16
  if (rest >= 2) h ^= data[whole + 1]! << 8
  if (rest >= 1) h = Math.imul(h ^ data[whole]!, m)
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/**
 * scratch receives a string key's UTF-8 bytes for murmur2String; it grows to the longest key seen
 * (a key needs at most 3 bytes per UTF-16 code unit) and is reused: hashing is synchronous.
 */
let scratch = new Uint8Array(256)

/**
 * murmur2String hashes a string key as the Java client hashes the bytes of `String.getBytes(UTF_8)`
 * (what StringSerializer makes): UTF-8, with an unpaired surrogate written as '?', as Java writes it
 * (Node's encoder would write U+FFFD). The bytes go into a reused scratch array in JavaScript, with no
 * Buffer and no call into Node's encoder, so after warm-up a key hashes with no allocation.
 */
export function murmur2String(key: string): number {
  const n = key.length
  // ASCII keys, the usual ones, are hashed straight from their char codes: one byte each.
  const m = 0x5bd1e995
  let h = 0x9747b28c ^ n
  const whole = n & ~3
  let i = 0
  for (; i < whole; i += 4) {
    const c0 = key.charCodeAt(i)
    const c1 = key.charCodeAt(i + 1)
    const c2 = key.charCodeAt(i + 2)
    const c3 = key.charCodeAt(i + 3)
    if ((c0 | c1 | c2 | c3) >= 0x80) break
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  if (i === whole) {
    const rest = n & 3
    const t0 = rest >= 1 ? key.charCodeAt(whole) : 0
    const t1 = rest >= 2 ? key.charCodeAt(whole + 1) : 0
    const t2 = rest >= 3 ? key.charCodeAt(whole + 2) : 0
    if ((t0 | t1 | t2) < 0x80) {
      if (rest >= 3) h ^= t2 << 16
      if (rest >= 2) h ^= t1 << 8
      if (rest >= 1) h = Math.imul(h ^ t0, m)
      h ^= h >>> 13
      h = Math.imul(h, m)
      h ^= h >>> 15
      return h | 0
    }
  }
  return murmur2Utf8(key)
}

/** murmur2Utf8 is murmur2String's path for keys with non-ASCII characters. */
function murmur2Utf8(key: string): number {
  const n = key.length
  if (scratch.length < n * 3) scratch = new Uint8Array(Math.max(n * 3, scratch.length * 2))
  const b = scratch
  let p = 0
  for (let i = 0; i < n; i++) {
    let c = key.charCodeAt(i)
    if (c < 0x80) b[p++] = c
    else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6)
      b[p++] = 0x80 | (c & 0x3f)
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? key.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
        b[p++] = 0xf0 | (c >> 18)
        b[p++] = 0x80 | ((c >> 12) & 0x3f)
        b[p++] = 0x80 | ((c >> 6) & 0x3f)
        b[p++] = 0x80 | (c & 0x3f)
      } else b[p++] = 0x3f // '?'
    } else {
      b[p++] = 0xe0 | (c >> 12)
      b[p++] = 0x80 | ((c >> 6) & 0x3f)
      b[p++] = 0x80 | (c & 0x3f)
    }
  }
  return murmur2(b, 0, p)
}

/**
 * toPositive clears the sign bit, as Java's `Utils.toPositive` does: the default partitioner takes
 * `toPositive(murmur2(key)) % numPartitions`.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}
