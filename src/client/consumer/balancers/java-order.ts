/**
 * Java's HashMap iteration order, reproduced. The sticky assignors of the Java client walk HashMaps and
 * HashSets in places where the walk decides the result: which member keeps its extra partition when
 * more members own partitions than there are extra slots, which claim wins when two members of one
 * generation report the same partition, and which partition the sticky core moves back to where it came
 * from. To give the assignment Java gives for the same JoinGroup response, those walks must visit
 * entries in the order java.util.HashMap would.
 *
 * That order is fully determined by the keys' hash codes and the order of insertions and removals: a
 * HashMap is an array of bins (a power of two, 16 at first, doubled when the size exceeds 3/4 of it),
 * an entry goes to bin `(h ^ (h >>> 16)) & (capacity - 1)`, a bin keeps its entries in insertion order,
 * and a resize splits every bin in two without reordering. Iteration visits bins in index order. The one
 * thing not reproduced is a bin that becomes a red-black tree (nine entries in one bin of a table of 64
 * or more), whose iteration order depends on the tree's shape; with Kafka member ids and partitions that
 * needs deliberately colliding hashes.
 */

/** javaStringHash is Java's String.hashCode: s[0]·31^(n−1) + … + s[n−1] over UTF-16 code units, in int32. */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/** javaTopicPartitionHash is Kafka's TopicPartition.hashCode for a topic whose String hash is `topicHash`. */
export function javaTopicPartitionHash(topicHash: number, partition: number): number {
  return (Math.imul(31, 31 + partition) + topicHash) | 0
}

// Java's HashMap constants: a bin that reaches TREEIFY_THRESHOLD + 1 entries is turned into a tree, or,
// while the table is smaller than MIN_TREEIFY_CAPACITY, the table is doubled instead.
const TREEIFY_THRESHOLD = 8
const MIN_TREEIFY_CAPACITY = 64

/**
 * JavaHashOrder tracks a java.util.HashSet (or a HashMap's key set) through additions and removals and
 * answers the order in which Java would iterate it. Keys are small integers chosen by the caller (member
 * or partition numbers) with the Java hash code given at insertion. The first element is found in
 * O(size); the sets the sticky core asks about are small.
 */
export class JavaHashOrder {
  #capacity = 0
  #size = 0
  #seq = 0
  #binCounts: Int32Array = new Int32Array(0)
  /** key → [spread hash, insertion sequence]; a bin lists its entries by insertion sequence. */
  readonly #entries = new Map<number, [spread: number, seq: number]>()

  /** size is the number of keys. */
  get size(): number {
    return this.#size
  }

  /** has reports whether the key is present. */
  has(key: number): boolean {
    return this.#entries.has(key)
  }

  /** add inserts a key with its Java hash code; adding a present key changes nothing, as in Java. */
  add(key: number, hash: number): void {
    if (this.#entries.has(key)) return
    if (this.#capacity === 0) this.#resize(16)
    const spread = hash ^ (hash >>> 16)
    this.#entries.set(key, [spread, this.#seq++])
    const bin = spread & (this.#capacity - 1)
    // Java appends to the bin, then treeifies a bin of nine; a small table is doubled instead.
    if (++this.#binCounts[bin]! > TREEIFY_THRESHOLD && this.#capacity < MIN_TREEIFY_CAPACITY) this.#resize(this.#capacity * 2)
    if (++this.#size > this.#capacity * 0.75) this.#resize(this.#capacity * 2)
  }

  /** delete removes a key; Java never shrinks a table, so neither does this. */
  delete(key: number): boolean {
    const e = this.#entries.get(key)
    if (e === undefined) return false
    this.#entries.delete(key)
    this.#binCounts[e[0] & (this.#capacity - 1)]!--
    this.#size--
    return true
  }

  /** first returns the key Java's iterator would return first, or undefined when empty. */
  first(): number | undefined {
    const mask = this.#capacity - 1
    let best: number | undefined
    let bestBin = Infinity
    let bestSeq = Infinity
    for (const [key, [spread, seq]] of this.#entries) {
      const bin = spread & mask
      if (bin < bestBin || (bin === bestBin && seq < bestSeq)) {
        best = key
        bestBin = bin
        bestSeq = seq
      }
    }
    return best
  }

  /** keys returns every key in Java's iteration order. */
  keys(): number[] {
    const mask = this.#capacity - 1
    const all = [...this.#entries]
    all.sort((a, b) => (a[1][0] & mask) - (b[1][0] & mask) || a[1][1] - b[1][1])
    return all.map((e) => e[0])
  }

  #resize(capacity: number): void {
    this.#capacity = capacity
    this.#binCounts = new Int32Array(capacity)
    for (const [spread] of this.#entries.values()) this.#binCounts[spread & (capacity - 1)]!++
  }
}

/**
 * javaHashMapOrder returns the indexes of `keys` in the order a `new HashMap<>()` filled by putting them
 * in the given order would iterate them: the order in which the Java client's group leader, which
 * collects the JoinGroup members into a HashMap keyed by member id, visits the members.
 */
export function javaHashMapOrder(keys: readonly string[]): number[] {
  const order = new JavaHashOrder()
  for (let i = 0; i < keys.length; i++) order.add(i, javaStringHash(keys[i]!))
  return order.keys()
}
