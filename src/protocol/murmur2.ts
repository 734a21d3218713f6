/**
 * murmur2 hashes bytes exactly as the Java client's `Utils.murmur2` does (32-bit MurmurHash2, seed
 * 0x9747b28c, four bytes at a time read little-endian), returning the same signed 32-bit result, so a
 * key lands on the same partition whichever client produced it. Strings are hashed as their UTF-8 bytes.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  const m = 0x5bd1e995
  let h = 0x9747b28c ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
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
 * toPositive clears the sign bit, as Java's `Utils.toPositive` does: the default partitioner takes
 * `toPositive(murmur2(key)) % numPartitions`.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}
