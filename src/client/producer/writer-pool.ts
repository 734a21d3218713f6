import { Writer } from '../../protocol/writer.js'

/**
 * BATCH_POOL_BYTES bounds the idle batch buffers a producer keeps for reuse. Batches in flight hold
 * buffers of their own besides; the records they hold are bounded by maxBufferedRecords and
 * maxBufferedBytes.
 */
export const BATCH_POOL_BYTES = 16 << 20

/** The smallest buffer the pool hands out: batches of a few small records share one size class. */
const MIN_SIZE = 16 << 10

/**
 * WriterPool lends the writers that encoded record batches live in. A batch is encoded straight into
 * a pooled writer and sent as a view of it (nothing is copied out, and the connection writes that view
 * to the socket by reference); once the batch has settled and no request holds it, its writer goes
 * back here for the next batch. Sizes are rounded up to a power of two so that batches of similar
 * size reuse each other's buffers; idle writers are kept up to `maxBytes` in all, and beyond that
 * left to the garbage collector. The pool is synchronous and per producer: no locking is needed.
 */
export class WriterPool {
  readonly maxBytes: number
  #free: Writer[] = []
  #freeBytes = 0

  constructor(maxBytes = BATCH_POOL_BYTES) {
    this.maxBytes = maxBytes
  }

  /** idleBytes is the size of the writers waiting in the pool. */
  get idleBytes(): number {
    return this.#freeBytes
  }

  /** idleWriters is how many writers wait in the pool. */
  get idleWriters(): number {
    return this.#free.length
  }

  /**
   * get returns an empty writer whose buffer holds at least `size` bytes (it still grows if more are
   * written): the smallest idle one that is large enough, or a new one.
   */
  get(size: number): Writer {
    const free = this.#free
    let best = -1
    for (let i = 0; i < free.length; i++) {
      const n = free[i]!.buf.length
      if (n >= size && (best < 0 || n < free[best]!.buf.length)) best = i
    }
    if (best < 0) return new Writer(roundSize(size))
    const w = free[best]!
    free[best] = free[free.length - 1]!
    free.pop()
    this.#freeBytes -= w.buf.length
    return w.reset()
  }

  /**
   * put gives a writer back once nothing refers to its bytes any more (the batch settled, its
   * requests answered). A pool that is full keeps the larger writer of the two it would choose from.
   */
  put(w: Writer): void {
    const size = w.buf.length
    if (size > this.maxBytes) return
    const free = this.#free
    // Make room by dropping smaller idle writers: large batches are the ones worth not reallocating.
    while (this.#freeBytes + size > this.maxBytes && free.length > 0) {
      let smallest = 0
      for (let i = 1; i < free.length; i++) if (free[i]!.buf.length < free[smallest]!.buf.length) smallest = i
      if (free[smallest]!.buf.length >= size) return
      this.#freeBytes -= free[smallest]!.buf.length
      free[smallest] = free[free.length - 1]!
      free.pop()
    }
    free.push(w)
    this.#freeBytes += size
  }
}

/** roundSize rounds a buffer size up to a power of two, at least MIN_SIZE. */
function roundSize(size: number): number {
  let n = MIN_SIZE
  while (n < size) n *= 2
  return n
}
