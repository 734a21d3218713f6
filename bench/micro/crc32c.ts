/**
 * Micro benchmark: CRC-32C, as the producer checksums every batch and the consumer verifies every
 * fetched one: the implementation in use (native @node-rs/crc32 when installed) against the portable
 * one, over a 60-byte header-sized block, 128 and 256 bytes (one small record's batch), 16 KiB (a Java-default batch) and 1 MiB.
 */
import { crc32c, crc32cImplementation, crc32cPortable } from '../../src/protocol/crc32c.js'
import { measure } from './lib.js'

export function run(): void {
  const sizes = [60, 128, 256, 16 * 1024, 1024 * 1024]
  const list = []
  for (const size of sizes) {
    const buf = Buffer.alloc(size)
    for (let i = 0; i < size; i++) buf[i] = (i * 131) & 0xff
    list.push(
      { name: `crc32c as used (${crc32cImplementation}${crc32cImplementation === 'node-rs' ? ' from 128 B' : ''}), ${size} B`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s ^= crc32c(buf); return s }, bytesPerOp: size },
      { name: `crc32c (portable), ${size} B`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s ^= crc32cPortable(buf); return s }, bytesPerOp: size },
    )
  }
  measure('crc32c', list)
}
