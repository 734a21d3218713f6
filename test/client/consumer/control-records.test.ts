// keepControlRecords against a real broker: a transactional producer commits one transaction and
// aborts another on a new topic, and consumers read it back at both isolation levels, with and
// without the option. Without it only data records come (read_committed: the committed ones); with it
// the transaction markers come too, in offset order, each with `record.control` saying which marker
// it is, and nothing else changes: positions and committed offsets move past the markers, and
// read_committed still hides the aborted data records. A share-group member with the option gets the
// markers of its acquired offsets, and the broker takes their acknowledgements. The KafkaJS facade
// never hands out control records (test/kafkajs/transaction.test.ts passes the option to it).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Client, consumerOf } from '../../../src/client/client.js'
import type { IsolationLevel } from '../../../src/client/options.js'
import type { ShareAckResult } from '../../../src/client/types.js'
import type { Record } from '../../../src/protocol/record.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, waitFor } from '../helpers.js'
import { newShareMember, shareGroupFromStart } from './helpers.js'

let k: KafkaCluster
let admin: Client
let topic: string
/** END is the log end offset after the two transactions: 2 data records and a marker each. */
const END = 6n

before(async () => {
  k = await broker({})
  admin = newClient(k)
  topic = await createTopic(admin, { partitions: 1 })
  const p = newClient(k, { transactionalId: `control-${randomUUID()}`, linger: 0 })
  // Offsets 0, 1: committed data; 2: its commit marker. 3, 4: aborted data; 5: its abort marker.
  p.beginTransaction()
  await p.produceSync([{ topic, key: 'c-0', value: 'c-0' }, { topic, key: 'c-1', value: 'c-1' }])
  await p.endTransaction('commit')
  p.beginTransaction()
  await p.produceSync([{ topic, key: 'a-0', value: 'a-0' }, { topic, key: 'a-1', value: 'a-1' }])
  await p.endTransaction('abort')
  await p.close()
}, { timeout: 300_000 })

after(closeAll)

/** Seen is a record as these tests compare it: offset, key (or the marker's type) and whether it is control. */
type Seen = [offset: bigint, what: string]

const seen = (r: Record): Seen => [r.offset, r.control === undefined ? r.key!.toString() : `control:${String(r.control.type)}`]

/** readAll consumes the topic from the start until the position is past the last marker, and returns what came. */
async function readAll(c: Client): Promise<Record[]> {
  const got: Record[] = []
  await waitFor(async () => {
    const f = await c.pollFetches({ signal: AbortSignal.timeout(500) })
    for (const e of f.errors()) if (e.error.name !== 'AbortError') throw e.error
    got.push(...f.records())
    return (consumerOf(c).cursor(topic, 0)?.offset ?? -1n) >= END
  }, 'the consumer to reach the end of the topic', 30_000)
  // Nothing more comes after the end (the markers are not handed out twice).
  got.push(...(await c.pollFetches({ signal: AbortSignal.timeout(300) })).records())
  return got
}

const CASES: Array<{ iso: IsolationLevel; without: Seen[]; with: Seen[] }> = [
  {
    iso: 'read_uncommitted',
    without: [[0n, 'c-0'], [1n, 'c-1'], [3n, 'a-0'], [4n, 'a-1']],
    with: [[0n, 'c-0'], [1n, 'c-1'], [2n, 'control:commit'], [3n, 'a-0'], [4n, 'a-1'], [5n, 'control:abort']],
  },
  {
    // The aborted data records stay hidden; the abort marker itself is handed out (franz-go does the same).
    iso: 'read_committed',
    without: [[0n, 'c-0'], [1n, 'c-1']],
    with: [[0n, 'c-0'], [1n, 'c-1'], [2n, 'control:commit'], [5n, 'control:abort']],
  },
]

for (const { iso, without, with: withControl } of CASES) {
  test(`${iso}: without keepControlRecords only data records come; with it the commit and abort markers too, marked as control`, { timeout: 60_000 }, async () => {
    const plain = newClient(k, { consumePartitions: { [topic]: { 0: 'earliest' } }, isolationLevel: iso })
    const kept = newClient(k, { consumePartitions: { [topic]: { 0: 'earliest' } }, isolationLevel: iso, keepControlRecords: true })
    const a = await readAll(plain)
    const b = await readAll(kept)
    assert.deepEqual(a.map(seen), without)
    assert.deepEqual(b.map(seen), withControl)
    // Data records never carry the property (their shape is the decoder's); markers carry their type
    // and the coordinator epoch, the transaction's producer id, and their raw key.
    for (const r of [...a, ...b.filter((r) => r.control === undefined)]) assert.equal('control' in r, false, `record ${r.offset} has no control property`)
    const markers = b.filter((r) => r.control !== undefined)
    const producerId = a[0]!.producerId
    assert.ok(producerId >= 0n)
    for (const m of markers) {
      assert.ok(Number.isInteger(m.control!.coordinatorEpoch) && m.control!.coordinatorEpoch >= 0, `coordinator epoch ${m.control!.coordinatorEpoch}`)
      assert.equal(m.producerId, producerId)
      assert.equal(m.topic, topic)
      assert.equal(m.partition, 0)
      assert.deepEqual([...m.key!], [0, 0, 0, m.control!.type === 'commit' ? 1 : 0], 'the key is the marker\'s: version 0, type')
    }
    // Positions are the same either way: past the last marker.
    assert.equal(consumerOf(plain).cursor(topic, 0)!.offset, END)
    assert.equal(consumerOf(kept).cursor(topic, 0)!.offset, END)
  })
}

test('a group member with keepControlRecords commits past the last marker it polled; without, after the last data record, as before', { timeout: 90_000 }, async () => {
  const committed: { [mode: string]: bigint } = {}
  for (const keep of [false, true]) {
    const group = `control-${randomUUID()}`
    const c = newClient(k, { consumerGroup: group, consumeTopics: [topic], isolationLevel: 'read_committed', disableAutoCommit: true, keepControlRecords: keep })
    const got: Record[] = []
    await waitFor(async () => {
      got.push(...(await c.pollFetches({ signal: AbortSignal.timeout(500) })).records())
      return got.length >= (keep ? 4 : 2) && (consumerOf(c).cursor(topic, 0)?.offset ?? -1n) >= END
    }, 'the member to poll the topic', 60_000)
    await c.commitUncommittedOffsets()
    const offsets = await c.fetchCommittedOffsets({ [topic]: [0] })
    committed[String(keep)] = offsets.get(topic)!.get(0)!.offset
    await c.close()
  }
  assert.equal(committed.false, 2n, 'without the option: after the last committed data record (offset 1)')
  assert.equal(committed.true, END, 'with it: after the abort marker (offset 5)')
})

test('a share-group member with keepControlRecords gets the markers of its acquired offsets and accepts them; without, they are gaps', { timeout: 120_000 }, async () => {
  for (const keep of [false, true]) {
    const group = `control-share-${randomUUID()}`
    await shareGroupFromStart(admin, group)
    const results: ShareAckResult[] = []
    const m = newShareMember(k, topic, group, { keepControlRecords: keep, shareAckCallback: (r) => results.push(...r) })
    const got: Record[] = []
    await waitFor(async () => {
      got.push(...(await m.pollFetches({ signal: AbortSignal.timeout(1_000) })).records())
      return got.length >= (keep ? 6 : 4)
    }, `the share member to get the records (${got.map((r) => seen(r).join(' ')).join(', ')})`, 90_000)
    m.markAcks('accept')
    await m.flushAcks()
    assert.deepEqual(got.map(seen).sort((x, y) => Number(x[0] - y[0])), keep ? CASES[0]!.with : CASES[0]!.without)
    assert.ok(results.length > 0 && results.every((r) => r.error === null), `acknowledgements answered without error: ${results.map((r) => String(r.error)).join(', ')}`)
    await m.close()
  }
})
