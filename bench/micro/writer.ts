/** Micro benchmark: Writer primitives (fixed ints, strings, bytes) and a realistic request header. */
import { Produce } from '../../src/protocol/messages/produce.js'
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
    // A Produce request carrying one batch for each of 6 partitions, framed for the socket: batches
    // copied into the request and the frame copied out (finishCopy), against batches spliced in by
    // reference and only the request's own bytes copied (finishChunks).
    ...[1 << 20, 16 << 10].flatMap((size) => {
      const req = Produce.newRequest()
      req.transactionalId = null
      req.acks = -1
      req.timeoutMs = 30_000
      req.topicData = [{ name: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: Array.from({ length: 6 }, (_, index) => ({ index, records: Buffer.alloc(size, index) })) }]
      const frame = (rw: Writer) => {
        rw.reset()
        const at = rw.reserve(4)
        rw.int16(0)
        rw.int16(11)
        rw.int32(1)
        rw.string('kafka-wire')
        Produce.encodeRequest(rw, 11, req)
        rw.patchInt32(at, rw.length - 4)
      }
      const copying = new Writer(1 << 16)
      const splicing = new Writer(1 << 16)
      splicing.spliceMin = 1024
      return [
        { name: `Produce request, 6 × ${size >> 10} KiB, copied (finishCopy)`, fn: (n: number) => { let len = 0; for (let i = 0; i < n; i++) { frame(copying); len += copying.finishCopy().length } return len }, bytesPerOp: 6 * size },
        { name: `Produce request, 6 × ${size >> 10} KiB, spliced (finishChunks)`, fn: (n: number) => { let len = 0; for (let i = 0; i < n; i++) { frame(splicing); len += splicing.finishChunks(true).length } return len }, bytesPerOp: 6 * size },
      ]
    }),
  ])
}
