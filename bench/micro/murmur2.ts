/** Micro benchmark: murmur2, the default partitioner's hash of every keyed record, on typical key sizes. */
import { murmur2 } from '../../src/protocol/murmur2.js'
import { measure } from './lib.js'

export function run(): void {
  const keys = [8, 36, 256].map((size) => {
    const b = Buffer.alloc(size)
    for (let i = 0; i < size; i++) b[i] = 97 + (i % 26)
    return b
  })
  const str = 'user-1234567'
  measure('murmur2', [
    ...keys.map((k) => ({ name: `murmur2, ${k.length}-byte key`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s ^= murmur2(k); return s }, bytesPerOp: k.length })),
    { name: 'murmur2 of a 12-char string key (Buffer.from first)', fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s ^= murmur2(Buffer.from(str)); return s } },
  ])
}
