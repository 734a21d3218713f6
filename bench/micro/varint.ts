/** Micro benchmark: zigzag varints and unsigned varints, written and read, at 1, 2, 3 and 5 bytes. */
import { Reader } from '../../src/protocol/reader.js'
import { Writer, varintSize } from '../../src/protocol/writer.js'
import { measure } from './lib.js'

export function run(): void {
  const ops = 1000
  const w = new Writer(8 * ops)
  const cases = [
    ['1 byte', 42],
    ['2 bytes', 5_000],
    ['3 bytes', 500_000],
    ['5 bytes', -2_000_000_000],
  ] as const
  const list = []
  for (const [label, v] of cases) {
    const enc = new Writer(8 * ops)
    for (let j = 0; j < ops; j++) enc.varint(v)
    const buf = enc.finishCopy()
    list.push(
      {
        name: `varint write, ${label} × ${ops}`,
        fn: (n: number) => {
          for (let i = 0; i < n; i++) {
            w.reset()
            for (let j = 0; j < ops; j++) w.varint(v)
          }
          return w.pos
        },
      },
      {
        name: `varint read, ${label} × ${ops}`,
        fn: (n: number) => {
          let s = 0
          for (let i = 0; i < n; i++) {
            const r = new Reader(buf)
            for (let j = 0; j < ops; j++) s += r.varint()
          }
          return s
        },
      },
    )
  }
  list.push({
    name: `varintSize × ${ops}`,
    fn: (n: number) => {
      let s = 0
      for (let i = 0; i < n; i++) for (let j = 0; j < ops; j++) s += varintSize(j * 977)
      return s
    },
  })
  list.push({
    name: `varlong write (bigint, 9 bytes) × ${ops}`,
    fn: (n: number) => {
      for (let i = 0; i < n; i++) {
        w.reset()
        for (let j = 0; j < ops; j++) w.varlong(1_700_000_000_000n)
      }
      return w.pos
    },
  })
  measure('varint', list)
}
