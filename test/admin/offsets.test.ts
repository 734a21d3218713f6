// Admin's record and offset methods against the real broker: start, end, by-timestamp and
// max-timestamp offsets with leader epochs, deleting records before an offset (and all of them), and the
// per-partition errors of partitions and topics that do not exist.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.js'
import { InvalidArgumentError } from '../../src/client/errors.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { Fetch } from '../../src/protocol/messages/fetch.js'
import { ZERO_UUID } from '../../src/protocol/reader.js'
import { decodeRecordBatches } from '../../src/protocol/records.js'
import { broker, closeAll, newClient, topicName } from '../client/helpers.js'
import { countingAdmin } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

const T0 = 1_700_000_000_000

/** fill produces `n` records to each partition with timestamps T0 + 1000·i (record i of the partition). */
async function fill(admin: Admin, topic: string, partitions: number, n: number): Promise<void> {
  const res = await admin.client.produceSync(
    Array.from({ length: partitions * n }, (_, j) => ({ topic, partition: j % partitions, value: `v${j}`, timestamp: T0 + 1000 * Math.floor(j / partitions) })),
  )
  for (const r of res) assert.equal(r.error, null)
}

test('start, end, last stable, by-timestamp and max-timestamp offsets of every partition, sorted', async () => {
  const { admin, writes } = countingAdmin(k)
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 3 })
  await fill(admin, topic, 3, 10)
  const mark = writes.mark
  const ends = await admin.listEndOffsets([topic])
  assert.equal(writes.of('ListOffsets', mark).length, 1, 'one ListOffsets for the one leader')
  assert.deepEqual(
    ends.map((o) => [o.topic, o.partition, o.offset, o.leaderEpoch, o.error]),
    [0, 1, 2].map((p) => [topic, p, 10n, 0, null]),
  )
  const starts = await admin.listStartOffsets({ [topic]: [2, 0] })
  assert.deepEqual(
    starts.map((o) => [o.partition, o.offset]),
    [
      [0, 0n],
      [2, 0n],
    ],
  )
  // No transaction is open: the last stable offset is the high watermark.
  assert.deepEqual(
    (await admin.listCommittedOffsets([topic])).map((o) => o.offset),
    [10n, 10n, 10n],
  )
  const after4 = await admin.listOffsetsAfterMilli(T0 + 3500, [topic])
  assert.deepEqual(
    after4.map((o) => [o.partition, o.offset, o.timestamp]),
    [0, 1, 2].map((p) => [p, 4n, T0 + 4000]),
  )
  // After every record: the end offset, where a consumer would start.
  const later = await admin.listOffsetsAfterMilli(T0 + 60_000, [topic])
  assert.deepEqual(
    later.map((o) => [o.offset, o.timestamp]),
    [0, 1, 2].map(() => [10n, -1]),
  )
  const max = await admin.listMaxTimestampOffsets([topic])
  assert.deepEqual(
    max.map((o) => [o.offset, o.timestamp]),
    [0, 1, 2].map(() => [9n, T0 + 9000]),
  )
  // Every topic when none is named includes this one.
  assert.ok((await admin.listEndOffsets()).some((o) => o.topic === topic && o.partition === 2 && o.offset === 10n))
})

test('offsets of partitions and topics that do not exist are per-partition errors, not retried; bad arguments throw', async () => {
  const { admin, writes } = countingAdmin(k)
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 1 })
  // The new topic's leader is known before counting: a metadata load for a leader not elected yet is
  // not a missing partition looked for again.
  assert.equal((await admin.listEndOffsets({ [topic]: [0] }))[0]!.error, null)
  const mark = writes.mark
  const res = await admin.listEndOffsets({ [topic]: [0, 5], [`${topic}-missing`]: [0] })
  assert.deepEqual(
    res.map((o) => [o.topic, o.partition, o.error?.code ?? null]),
    [
      [topic, 0, null],
      [topic, 5, 'UNKNOWN_TOPIC_OR_PARTITION'],
      [`${topic}-missing`, 0, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ],
  )
  assert.equal(res[1]!.error?.partition, 5)
  assert.ok(writes.of('Metadata', mark).length <= 1, `missing partitions are not looked for again (${writes.of('Metadata', mark).length} metadata loads)`)
  const byName = await admin.listStartOffsets([`${topic}-missing`])
  assert.deepEqual(
    byName.map((o) => [o.topic, o.partition, o.error?.code]),
    [[`${topic}-missing`, -1, 'UNKNOWN_TOPIC_OR_PARTITION']],
  )
  await assert.rejects(admin.listOffsetsAfterMilli(-5, [topic]), InvalidArgumentError)
  await assert.rejects(admin.listEndOffsets({ [topic]: [-1] }), InvalidArgumentError)
  await assert.rejects(admin.deleteRecords({ [topic]: { 0: 3 as never } }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === `offsets.${topic}.0`)
})

test('deleteRecords moves each start offset; -1n deletes every record; the records before are gone when read back', async () => {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 2 })
  await fill(admin, topic, 2, 10)
  const res = await admin.deleteRecords({ [topic]: { 0: 4n, 1: -1n, 9: 1n } })
  assert.deepEqual(
    res.map((r) => [r.partition, r.lowWatermark, r.error?.code ?? null]),
    [
      [0, 4n, null],
      [1, 10n, null],
      [9, -1n, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ],
  )
  assert.deepEqual(
    (await admin.listStartOffsets([topic])).map((o) => o.offset),
    [4n, 10n],
  )
  // Reading from 0 is out of range now; the first record is at 4.
  const fetchAt = async (offset: bigint) => {
    const f = Fetch.newRequest()
    f.maxWaitMs = 0
    f.topics = [{ ...f.topics[0], topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO_UUID, highWatermark: -1n }] }]
    return (await admin.client.request(Fetch, f)).responses[0]!.partitions[0]!
  }
  assert.equal((await fetchAt(0n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE)
  const at4 = await fetchAt(4n)
  assert.equal(at4.logStartOffset, 4n)
  // (The batch holding offset 4 may start earlier; a consumer skips what is before its offset.)
  const rec4 = decodeRecordBatches(at4.records!).flatMap((b) => b.records).find((r) => r.offset === 4n)
  assert.equal(rec4?.value?.toString(), 'v8')
  // Before the start offset: OFFSET_OUT_OF_RANGE is the partition's error.
  const [beyond] = await admin.deleteRecords({ [topic]: { 0: 50n } })
  assert.equal(beyond!.error?.code, 'OFFSET_OUT_OF_RANGE')
})
