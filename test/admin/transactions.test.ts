// Admin's transaction methods against the real broker, with a transaction driven by raw requests
// (InitProducerId, AddPartitionsToTxn, a transactional Produce, EndTxn): listed and described at its
// coordinator while open, its producer described at the partition's leader, the last stable offset held
// back by it, and the transaction's end seen by all three; and an open transaction ended by an abort
// marker written with writeTxnMarkers, as a hanging one is cleared.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.js'
import type { Client } from '../../src/client/client.js'
import { InvalidArgumentError } from '../../src/client/errors.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { AddPartitionsToTxn } from '../../src/protocol/messages/add-partitions-to-txn.js'
import { EndTxn } from '../../src/protocol/messages/end-txn.js'
import { InitProducerId, type InitProducerIdResponse } from '../../src/protocol/messages/init-producer-id.js'
import { Produce } from '../../src/protocol/messages/produce.js'
import { encodeRecordBatchBuffer } from '../../src/protocol/records.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, newClient, topicName, waitFor } from '../client/helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

/**
 * openTransaction opens a transaction with raw requests (InitProducerId, AddPartitionsToTxn v3, a
 * transactional Produce of two records to partition 0, after one record written outside it) on a
 * new topic, and leaves it open.
 */
async function openTransaction(partitions: number): Promise<{ admin: Admin; c: Client; topic: string; txId: string; pid: InitProducerIdResponse; txStart: bigint }> {
  const admin = new Admin(newClient(k))
  const c = admin.client
  const topic = topicName()
  const txId = topicName('tx')
  await admin.createTopic({ name: topic, partitions })
  await c.produce({ topic, partition: 0, value: 'before' })
  const init = InitProducerId.newRequest()
  init.transactionalId = txId
  init.transactionTimeoutMs = 60_000
  const pid = await c.request(InitProducerId, init)
  assert.equal(pid.errorCode, 0)
  const add = AddPartitionsToTxn.newRequest()
  add.v3AndBelowTransactionalId = txId
  add.v3AndBelowProducerId = pid.producerId
  add.v3AndBelowProducerEpoch = pid.producerEpoch
  add.v3AndBelowTopics = [{ name: topic, partitions: [0] }]
  const added = await c.request(AddPartitionsToTxn, add, { version: 3 })
  assert.equal(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode, 0)
  const produce = Produce.newRequest()
  produce.transactionalId = txId
  produce.acks = -1
  produce.timeoutMs = 30_000
  const records = encodeRecordBatchBuffer({
    producerId: pid.producerId,
    producerEpoch: pid.producerEpoch,
    baseSequence: 0,
    isTransactional: true,
    compression: 0,
    records: [
      { value: 'in-txn-1', timestamp: Date.now() },
      { value: 'in-txn-2', timestamp: Date.now() },
    ],
  })
  produce.topicData = [{ ...Produce.newRequest().topicData[0]!, name: topic, partitionData: [{ index: 0, records }] }]
  const pres = await c.request(Produce, produce)
  const txStart = pres.responses[0]!.partitionResponses[0]!.baseOffset
  return { admin, c, topic, txId, pid, txStart }
}

/** abortByCoordinator ends the transaction the usual way: EndTxn (abort) at its coordinator. */
async function abortByCoordinator(c: Client, txId: string, pid: InitProducerIdResponse): Promise<void> {
  const end = EndTxn.newRequest()
  end.transactionalId = txId
  end.producerId = pid.producerId
  end.producerEpoch = pid.producerEpoch
  end.committed = false
  assert.equal((await c.request(EndTxn, end)).errorCode, 0)
}

test('an open transaction: listed, described with its partitions, its producer at the leader, the last stable offset behind it; then aborted', async () => {
  const { admin, c, topic, txId, pid, txStart } = await openTransaction(2)
  assert.equal(txStart, 1n)

  const listed = await admin.listTransactions({ states: ['Ongoing'] })
  assert.ok(listed.some((t) => t.transactionalId === txId && t.producerId === pid.producerId && t.state === 'Ongoing' && t.coordinator === 1))
  assert.ok((await admin.listTransactions({ producerIds: [pid.producerId] })).every((t) => t.producerId === pid.producerId))
  assert.ok((await admin.listTransactions({ durationMs: 0 })).some((t) => t.transactionalId === txId), 'running for longer than 0 ms')

  const [d, missing] = await admin.describeTransactions([txId, topicName('none')])
  assert.equal(d!.error, null)
  assert.deepEqual([d!.state, d!.timeoutMs, d!.producerId, d!.producerEpoch, d!.coordinator], ['Ongoing', 60_000, pid.producerId, pid.producerEpoch, 1])
  assert.ok(d!.startTimestamp > 0)
  assert.deepEqual(d!.partitions, [{ topic, partitions: [0] }])
  assert.equal(missing!.error?.code, 'TRANSACTIONAL_ID_NOT_FOUND')
  assert.match(missing!.error!.message, /transactional id/)

  const producers = await admin.describeProducers([topic])
  assert.deepEqual(
    producers.map((p) => [p.partition, p.error]),
    [
      [0, null],
      [1, null],
    ],
  )
  const mine = producers[0]!.producers.find((p) => p.producerId === pid.producerId)!
  assert.deepEqual([mine.producerEpoch, mine.lastSequence, mine.currentTxnStartOffset], [pid.producerEpoch, 1, txStart])
  assert.deepEqual(producers[1]!.producers, [])

  // The open transaction holds the last stable offset at its first record.
  assert.deepEqual(
    (await admin.listCommittedOffsets({ [topic]: [0] })).map((o) => o.offset),
    [txStart],
  )
  assert.deepEqual(
    (await admin.listEndOffsets({ [topic]: [0] })).map((o) => o.offset),
    [3n],
  )

  await abortByCoordinator(c, txId, pid)
  await waitFor(async () => (await admin.describeTransactions([txId]))[0]!.state === 'CompleteAbort', 'the abort to complete')
  await waitFor(async () => (await admin.listCommittedOffsets({ [topic]: [0] }))[0]!.offset === 4n, 'the last stable offset past the abort marker')
  assert.ok(!(await admin.listTransactions({ states: ['Ongoing'] })).some((t) => t.transactionalId === txId))
  assert.equal((await admin.describeProducers({ [topic]: [0] }))[0]!.producers.find((p) => p.producerId === pid.producerId)?.currentTxnStartOffset, -1n)
})

test('writeTxnMarkers: an abort marker ends a transaction left open on a partition, with the epochs describeProducers gives', async () => {
  const { admin, c, topic, txId, pid, txStart } = await openTransaction(1)
  const [described] = await admin.describeProducers({ [topic]: [0] })
  const open = described!.producers.find((p) => p.producerId === pid.producerId)!
  assert.equal(open.currentTxnStartOffset, txStart)
  const marker = { producerId: pid.producerId, producerEpoch: open.producerEpoch, commit: false, coordinatorEpoch: open.coordinatorEpoch }

  // A partition the topic does not have gets its own error; the transaction stays open.
  const [missing] = await admin.writeTxnMarkers([{ ...marker, topics: { [topic]: [5] } }])
  assert.ok(missing!.error instanceof KafkaProtocolError, String(missing!.error))
  assert.deepEqual([missing!.producerId, missing!.topic, missing!.partition, missing!.error.code], [pid.producerId, topic, 5, 'UNKNOWN_TOPIC_OR_PARTITION'])
  assert.deepEqual((await admin.listCommittedOffsets({ [topic]: [0] })).map((o) => o.offset), [txStart])

  assert.deepEqual(await admin.writeTxnMarkers([{ ...marker, topics: { [topic]: [0] } }]), [{ producerId: pid.producerId, topic, partition: 0, error: null }])
  // The abort marker follows the two records: the last stable offset is the end again, and nothing
  // of the transaction is readable by read_committed consumers.
  assert.deepEqual((await admin.listCommittedOffsets({ [topic]: [0] })).map((o) => o.offset), [4n])
  assert.equal((await admin.describeProducers({ [topic]: [0] }))[0]!.producers.find((p) => p.producerId === pid.producerId)?.currentTxnStartOffset, -1n)
  const reader = newClient(k, { consumePartitions: { [topic]: { 0: { offset: 0n } } }, isolationLevel: 'read_committed' })
  const seen: string[] = []
  await waitFor(async () => {
    for (const r of (await reader.pollFetches({ signal: AbortSignal.timeout(500) })).records()) seen.push(r.value!.toString())
    return seen.length > 0
  }, 'the committed record')
  assert.deepEqual(seen, ['before'])

  // The coordinator still counts the transaction as ongoing; its producer ends it as usual.
  await abortByCoordinator(c, txId, pid)
})

test('bad arguments fail fast', async () => {
  const admin = new Admin(newClient(k))
  await assert.rejects(admin.describeTransactions(['']), InvalidArgumentError)
  await assert.rejects(admin.listTransactions({ producerIds: [1 as never] }), InvalidArgumentError)
  await assert.rejects(admin.describeProducers({ t: [-1] }), InvalidArgumentError)
  const marker = { producerId: 1n, producerEpoch: 0, commit: false, coordinatorEpoch: 0, topics: { t: [0] } }
  await assert.rejects(admin.writeTxnMarkers([{ ...marker, producerId: 1 as never }]), InvalidArgumentError)
  await assert.rejects(admin.writeTxnMarkers([{ ...marker, commit: 'no' as never }]), InvalidArgumentError)
  await assert.rejects(admin.writeTxnMarkers([{ ...marker, topics: {} }]), InvalidArgumentError)
  await assert.rejects(admin.writeTxnMarkers([{ ...marker, topics: { t: [-1] } }]), /markers\[0\]\.topics\.t/)
})
