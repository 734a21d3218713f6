/**
 * Micro benchmark: murmur2, the default partitioner's hash of every keyed record, on typical key
 * sizes; and string keys through the partitioner (javaPartitionForKey, which hashes them with
 * murmur2String) against murmur2String alone: the difference is the partitioner's own overhead.
 */
import { javaPartitionForKey } from '../../src/client/producer/partitioner.js'
import { murmur2, murmur2String, toPositive } from '../../src/protocol/murmur2.js'
import { measure } from './lib.js'

export function run(): void {
  const keys = [8, 36, 256].map((size) => {
    const b = Buffer.alloc(size)
    for (let i = 0; i < size; i++) b[i] = 97 + (i % 26)
    return b
  })
  const strs = ['user-1234567', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'clé-été-☃']
  measure('murmur2', [
    ...keys.map((k) => ({ name: `murmur2, ${k.length}-byte key`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s ^= murmur2(k); return s }, bytesPerOp: k.length })),
    { name: 'murmur2 of a 12-char string key (Buffer.from first)', fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s ^= murmur2(Buffer.from(strs[0]!)); return s } },
    ...strs.flatMap((str) => [
      { name: `partition of "${str.slice(0, 14)}…" (${str.length} chars), javaPartitionForKey`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s += javaPartitionForKey(str, 12); return s } },
      { name: `partition of "${str.slice(0, 14)}…" (${str.length} chars), murmur2String`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s += toPositive(murmur2String(str)) % 12; return s } },
    ]),
  ])
}
