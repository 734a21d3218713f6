/** Micro benchmark: Writer primitives (fixed ints, strings, bytes) and a realistic request header. */
import { Writer } from '../../src/protocol/writer.js'
import { measure } from './lib.js'

export function run(): void {
  const w = new Writer(1 << 16)
  const payload = Buffer.alloc(100, 7)
  const ops = 1000
  measure('writer', [
    {
      name: `int32 × ${ops}`,
      fn: (n) => {
        for (let i = 0; i < n; i++) {
          w.reset()
          for (let j = 0; j < ops; j++) w.int32(j)
        }
        return w.pos
      },
      bytesPerOp: 4 * ops,
    },
    {
      name: `int64 (bigint) × ${ops}`,
      fn: (n) => {
        for (let i = 0; i < n; i++) {
          w.reset()
          for (let j = 0; j < ops; j++) w.int64(BigInt(j))
        }
        return w.pos
      },
      bytesPerOp: 8 * ops,
    },
    {
      name: `string (12 chars) × ${ops}`,
      fn: (n) => {
        for (let i = 0; i < n; i++) {
          w.reset()
          for (let j = 0; j < ops; j++) w.string('orders-topic')
        }
        return w.pos
      },
      bytesPerOp: 14 * ops,
    },
    {
      name: `compactString (12 chars) × ${ops}`,
      fn: (n) => {
        for (let i = 0; i < n; i++) {
          w.reset()
          for (let j = 0; j < ops; j++) w.compactString('orders-topic')
        }
        return w.pos
      },
      bytesPerOp: 13 * ops,
    },
    {
      name: `bytes (100 B) × ${ops}`,
      fn: (n) => {
        for (let i = 0; i < n; i++) {
          w.reset()
          for (let j = 0; j < ops; j++) w.bytes(payload)
        }
        return w.pos
      },
      bytesPerOp: 104 * ops,
    },
    {
      name: 'request header v2 + finishCopy',
      fn: (n) => {
        let len = 0
        for (let i = 0; i < n; i++) {
          w.reset()
          const at = w.reserve(4)
          w.int16(0)
          w.int16(11)
          w.int32(i)
          w.string('kafka-wire')
          w.uvarint(0)
          w.patchInt32(at, w.pos - 4)
          len += w.finishCopy().length
        }
        return len
      },
    },
    // finishCopy of what the producer copies out per batch and per Produce request: 1 MiB and 64 KiB.
    ...[1 << 20, 64 << 10].map((size) => {
      const big = new Writer(size)
      big.raw(Buffer.alloc(size, 7))
      return {
        name: `finishCopy of ${size >> 10} KiB`,
        fn: (n: number) => {
          let len = 0
          for (let i = 0; i < n; i++) len += big.finishCopy().length
          return len
        },
        bytesPerOp: size,
      }
    }),
  ])
}
