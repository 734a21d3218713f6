/** Micro benchmark: Reader primitives over one buffer (ints, strings, byte views). */
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import { measure } from './lib.js'

export function run(): void {
  const ops = 1000
  const ints = new Writer(4 * ops)
  for (let j = 0; j < ops; j++) ints.int32(j)
  const intBuf = ints.finishCopy()
  const longs = new Writer(8 * ops)
  for (let j = 0; j < ops; j++) longs.int64(BigInt(j))
  const longBuf = longs.finishCopy()
  const strs = new Writer(14 * ops)
  for (let j = 0; j < ops; j++) strs.string('orders-topic')
  const strBuf = strs.finishCopy()
  const byts = new Writer(104 * ops)
  const payload = Buffer.alloc(100, 7)
  for (let j = 0; j < ops; j++) byts.bytes(payload)
  const bytesBuf = byts.finishCopy()
  measure('reader', [
    {
      name: `int32 × ${ops}`,
      fn: (n) => {
        let s = 0
        for (let i = 0; i < n; i++) {
          const r = new Reader(intBuf)
          for (let j = 0; j < ops; j++) s += r.int32()
        }
        return s
      },
      bytesPerOp: 4 * ops,
    },
    {
      name: `int64 (bigint) × ${ops}`,
      fn: (n) => {
        let s = 0n
        for (let i = 0; i < n; i++) {
          const r = new Reader(longBuf)
          for (let j = 0; j < ops; j++) s += r.int64()
        }
        return s
      },
      bytesPerOp: 8 * ops,
    },
    {
      name: `string (12 chars) × ${ops}`,
      fn: (n) => {
        let s = 0
        for (let i = 0; i < n; i++) {
          const r = new Reader(strBuf)
          for (let j = 0; j < ops; j++) s += r.string()!.length
        }
        return s
      },
      bytesPerOp: 14 * ops,
    },
    {
      name: `bytes (100 B view) × ${ops}`,
      fn: (n) => {
        let s = 0
        for (let i = 0; i < n; i++) {
          const r = new Reader(bytesBuf)
          for (let j = 0; j < ops; j++) s += r.bytes()!.length
        }
        return s
      },
      bytesPerOp: 104 * ops,
    },
  ])
}
