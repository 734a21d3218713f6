/**
 * CRC-32C (Castagnoli), the checksum of RecordBatch v2, and plain CRC-32 (IEEE) for the legacy message
 * sets v0/v1.
 *
 * `crc-32`'s pure-JS table implementation always works; when the optional `@node-rs/crc32` is installed
 * (SIMD / hardware CRC instructions behind a prebuilt N-API binary) it is used instead from 128 bytes
 * on, because batch checksums cover every produced and fetched byte and the native path is an order
 * of magnitude faster on batches; below that the call costs more than the table code.
 */
import { createRequire } from 'node:module'
import * as zlib from 'node:zlib'

interface NodeRsCrc32 {
  crc32c(input: Uint8Array, initialState?: number | null): number
}

interface CrcJs {
  buf(data: Uint8Array, seed?: number): number
}

const require = createRequire(import.meta.url)

// The optional package is probed once at load: a missing package (or a platform without a prebuilt
// binary) costs one failed require, and every later call goes straight to the chosen function.
let nodeRs: NodeRsCrc32 | undefined
try {
  nodeRs = require('@node-rs/crc32') as NodeRsCrc32
  // A binary that loads but computes garbage would corrupt every batch: check a known vector once.
  if (nodeRs.crc32c(Buffer.from('123456789')) !== 0xe3069283) nodeRs = undefined
} catch {
  nodeRs = undefined
}

const crc32cJs = require('crc-32/crc32c.js') as CrcJs
const crc32Js = require('crc-32') as CrcJs

// zlib.crc32 arrived in Node 20.15 / 22.2; engines allow older 20.x, so feature-detect it.
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32

/** crc32cImplementation names the code computing {@link crc32c}: the native `@node-rs/crc32` or pure-JS `crc-32`. */
export const crc32cImplementation: 'node-rs' | 'crc-32' = nodeRs ? 'node-rs' : 'crc-32'

// Both libraries take Uint8Array input; a view (subarray) shares memory, so no bytes are copied.
const view = (buf: Uint8Array, start: number, end: number): Uint8Array =>
  start === 0 && end === buf.length ? buf : buf.subarray(start, end)

/**
 * NATIVE_FROM is the input size from which the native CRC is used: a call into the addon costs about
 * 90 ns whatever the size, more than the table code spends on fewer than 128 bytes (the batch of one
 * small record). bench/micro/crc32c.ts, checksums/s: 60 B native 10.8 M, portable 22.1 M (Node 24;
 * 10.0 M and 19.3 M on Node 20); 128 B 10.4 M and 15.5 M (9.9 M and 10.0 M); 256 B 9.7 M and 8.1 M
 * (9.2 M and 5.2 M).
 */
const NATIVE_FROM = 128

/**
 * crc32c returns the CRC-32C (Castagnoli) of `buf[start, end)` as an unsigned 32-bit integer, the
 * value a RecordBatch v2 header stores.
 */
export const crc32c: (buf: Uint8Array, start?: number, end?: number) => number = nodeRs
  ? ((native: NodeRsCrc32) => (buf: Uint8Array, start = 0, end = buf.length): number =>
      end - start < NATIVE_FROM ? crc32cJs.buf(view(buf, start, end)) >>> 0 : native.crc32c(view(buf, start, end)))(nodeRs)
  : (buf: Uint8Array, start = 0, end = buf.length): number =>
      // crc-32 returns a signed int32; `>>> 0` gives the unsigned value the wire format compares.
      crc32cJs.buf(view(buf, start, end)) >>> 0

/** crc32 returns the plain CRC-32 (IEEE, as zlib) of `buf[start, end)` unsigned, for legacy message sets v0/v1. */
export const crc32: (buf: Uint8Array, start?: number, end?: number) => number = zlibCrc32
  ? (buf: Uint8Array, start = 0, end = buf.length): number => zlibCrc32(view(buf, start, end))
  : (buf: Uint8Array, start = 0, end = buf.length): number => crc32Js.buf(view(buf, start, end)) >>> 0

/** crc32cPortable is the pure-JS CRC-32C, exported so tests can check the native path against it. */
export function crc32cPortable(buf: Uint8Array, start = 0, end = buf.length): number {
  return crc32cJs.buf(view(buf, start, end)) >>> 0
}
