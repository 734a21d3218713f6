// The default partitioner agrees with the Java client's on the real broker: the Java client
// (test/fixtures/producer/KeyedProducer.java) produces 10,000 keyed records to topics of 7, 12 and
// 31 partitions, kafka-wire produces the same keys to the same topics, and every key's two records
// must sit in the partition Java chose.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, readAll } from '../helpers.js'

const JAVA_PRODUCER = fileURLToPath(new URL('../../fixtures/producer/KeyedProducer.java', import.meta.url))

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

/** keys returns 10,000 distinct keys: empty, ASCII, random bytes, non-ASCII text, and long ones. */
function keys(): Array<Buffer | string> {
  let x = 0x9e3779b9 | 0
  const rnd = (n: number): number => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) % n
  }
  const out: Array<Buffer | string> = [Buffer.alloc(0)]
  const seen = new Set<string>([''])
  const add = (key: Buffer | string) => {
    const hex = Buffer.from(key).toString('hex')
    if (seen.has(hex)) return
    seen.add(hex)
    out.push(key)
  }
  for (let i = 0; out.length < 3_000; i++) add(`key-${i}`)
  while (out.length < 6_000) add(Buffer.from(Array.from({ length: 1 + rnd(64) }, () => rnd(256))))
  const alphabets = [[0x20, 95], [0xa0, 0x400], [0x4e00, 0x5000], [0x1f300, 0x300]] as const
  while (out.length < 9_000) {
    let s = ''
    for (let j = 1 + rnd(16); j > 0; j--) {
      const [base, span] = alphabets[rnd(alphabets.length)]!
      s += String.fromCodePoint(base + rnd(span))
    }
    add(s)
  }
  while (out.length < 10_000) add(Buffer.from(Array.from({ length: 100 + rnd(900) }, () => rnd(256))))
  return out
}

test('the default partitioner puts 10,000 keys where the Java client does, over 7, 12 and 31 partitions', { timeout: 180_000 }, async (t) => {
  const c = newClient(k, { linger: 5 })
  const counts = [7, 12, 31]
  const topics = await Promise.all(counts.map((partitions) => createTopic(c, { partitions })))
  const ks = keys()
  assert.equal(ks.length, 10_000)

  // The Java client first.
  const input = ks.map((key) => `k:${Buffer.from(key).toString('hex')}`).join('\n') + '\n'
  const started = performance.now()
  const res = await k.runJavaTool(JAVA_PRODUCER, [k.bootstrapServers.join(','), ...topics], { input, timeoutMs: 150_000 })
  assert.equal(res.code, 0, `the Java producer failed (exit ${res.code}):\n${res.stderr.slice(-3000)}`)
  t.diagnostic(`Java produced ${3 * ks.length} records in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  const javaPartition = new Map<string, Int32Array>(topics.map((topic) => [topic, new Int32Array(ks.length).fill(-1)]))
  for (const line of res.stdout.trim().split('\n')) {
    const [topic, i, partition] = line.split(' ')
    javaPartition.get(topic!)![Number(i)] = Number(partition)
  }
  for (const [ti, topic] of topics.entries()) {
    const parts = javaPartition.get(topic)!
    assert.ok(parts.every((p) => p >= 0 && p < counts[ti]!), `Java reported a partition for every key of ${topic}`)
    // Sanity: the keys spread over every partition, so agreement is not luck.
    assert.equal(new Set(parts).size, counts[ti], `Java used all ${counts[ti]} partitions`)
  }

  // Then kafka-wire, with the same keys (strings as strings, bytes as Buffers).
  for (const [ti, topic] of topics.entries()) {
    const parts = javaPartition.get(topic)!
    const results = await Promise.all(ks.map((key, i) => c.produce({ topic, key, value: `wire-${i}` })))
    const disagree = results.map((r, i) => (r.partition === parts[i] ? null : i)).filter((i) => i !== null)
    assert.deepEqual(disagree.slice(0, 10), [], `${disagree.length} of ${ks.length} keys went elsewhere than Java's choice over ${counts[ti]} partitions`)
  }

  // What the broker holds: each key twice, in Java's partition, once from each client.
  for (const [ti, topic] of topics.entries()) {
    const parts = javaPartition.get(topic)!
    const stored = await readAll(c, topic)
    const where = new Map<string, number[]>()
    let total = 0
    for (const recs of stored) {
      for (const r of recs) {
        total++
        const who = r.value!.toString()
        const i = Number(who.slice(5))
        assert.ok(/^(java|wire)-\d+$/.test(who), who)
        assert.deepEqual(r.key, Buffer.from(ks[i]!), `${who}: key`)
        const w = where.get(who) ?? []
        w.push(r.partition)
        where.set(who, w)
      }
    }
    assert.equal(total, 2 * ks.length, `${topic} holds both clients' records once`)
    for (let i = 0; i < ks.length; i++) {
      assert.deepEqual(where.get(`java-${i}`), [parts[i]], `${counts[ti]} partitions: Java's record ${i}`)
      assert.deepEqual(where.get(`wire-${i}`), [parts[i]], `${counts[ti]} partitions: kafka-wire's record ${i}`)
    }
  }
})
