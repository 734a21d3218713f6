// The produce request size arithmetic brokerMaxWriteBytes relies on (request-size.ts): its bounds hold for
// every Produce version the client speaks, flexible or not, with topic names or ids.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PRODUCE_PARTITION_BYTES, produceRequestBaseBytes, produceRequestOverhead, produceTopicBytes } from '../../../src/client/producer/request-size.js'
import { Produce, type ProduceRequest } from '../../../src/protocol/messages/produce.js'
import { Writer } from '../../../src/protocol/writer.js'

/** wireSize encodes a request as the connection frames it (size prefix, header, body) and returns its bytes. */
function wireSize(version: number, clientId: string, req: ProduceRequest): number {
  const w = new Writer(1024)
  w.reserve(4)
  const headerVersion = Produce.requestHeaderVersion(version)
  w.int16(Produce.key)
  w.int16(version)
  w.int32(1)
  w.string(clientId)
  if (headerVersion >= 2) w.uvarint(0)
  Produce.encodeRequest(w, version, req)
  return w.length
}

test('the produce request size bounds hold for every Produce version, topic name length, partition count and batch size', () => {
  let cases = 0
  for (let version = Produce.minVersion; version <= Produce.maxVersion; version++) {
    for (const clientId of ['kafka-wire', 'c'.repeat(300)]) {
      for (const transactionalId of [null, 't', 'x'.repeat(200)]) {
        for (const topics of [['t'], ['n'.repeat(249)], ['a', 'b'.repeat(100), 'c'.repeat(249)]]) {
          for (const partitions of [1, 3, 130]) {
            for (const batchBytes of [70, 300, 20_000]) {
              const req: ProduceRequest = { ...Produce.newRequest(), transactionalId, acks: -1, timeoutMs: 10_000 }
              let bound = produceRequestBaseBytes(clientId, transactionalId)
              for (const name of topics) {
                req.topicData.push({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records: Buffer.alloc(batchBytes) })) })
                bound += produceTopicBytes(name.length) + partitions * (PRODUCE_PARTITION_BYTES + batchBytes)
              }
              const size = wireSize(version, clientId, req)
              const what = `v${version}, client id of ${clientId.length}, ${transactionalId === null ? 'no' : `a ${transactionalId.length}-character`} transactional id, ${topics.length} topics x ${partitions} partitions x ${batchBytes} bytes`
              assert.ok(size <= bound, `${what}: ${size} bytes on the wire, bounded by ${bound}`)
              cases++
            }
          }
        }
      }
    }
  }
  assert.ok(cases > 1000, `${cases} cases`)
})

test('produceRequestOverhead bounds a request of one batch of any topic, less the batch', () => {
  for (let version = Produce.minVersion; version <= Produce.maxVersion; version++) {
    const req: ProduceRequest = { ...Produce.newRequest(), transactionalId: 'tx', acks: -1, timeoutMs: 10_000 }
    req.topicData.push({ name: 'n'.repeat(249), topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionData: [{ index: 0, records: Buffer.alloc(1_000) }] })
    const size = wireSize(version, 'kafka-wire', req)
    const overhead = produceRequestOverhead('kafka-wire', 'tx')
    assert.ok(size - 1_000 <= overhead, `v${version}: ${size - 1_000} bytes besides the batch, bounded by ${overhead}`)
    // A bound, not a guess: within a few bytes of the real overhead (v13 names the topic by its id, shorter).
    if (version < 13) assert.ok(overhead - (size - 1_000) <= 16, `v${version}: ${overhead} is close to ${size - 1_000}`)
  }
})
