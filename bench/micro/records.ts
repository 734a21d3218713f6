/**
 * Micro benchmark: RecordBatch v2 encode and decode, the producer's and the consumer's main work, for
 * the benchmark's two shapes: 100 small records with two headers (the peer methodology's records) and
 * 100 records of 1 KiB, uncompressed and lz4. Figures are batches per second and MB/s of record bytes.
 * The consumer's two passes over a fetched partition (scanRecordBatches for the next offset and the
 * checksums, then decoding without checking them again, from each batch's own copy as the source
 * decodes) are measured against one checked decode, on the 100 × 1 KiB batch and on a tiny fetch's
 * 23 one-record batches; and the way the source decodes without fetch hooks: records checked and
 * kept as bytes (deferRecords), then made one at a time as eachRecord makes them.
 */
import { decodeRecordBatches, encodeRecordBatch, forEachDeferredRecord, scanRecordBatches, type BatchRecord, type RecordInput } from '../../src/protocol/records.js'
import { Writer } from '../../src/protocol/writer.js'
import { measure } from './lib.js'

export function run(): void {
  const now = Date.now()
  const small: RecordInput[] = Array.from({ length: 100 }, (_, i) => ({ key: `111-${i}`, value: '222', headers: [{ key: 'a', value: '123' }, { key: 'b', value: '456' }], timestamp: now }))
  const value = Buffer.alloc(1024)
  for (let i = 0; i < value.length; i++) value[i] = 65 + ((i * 7919 + (i >> 3)) % 26)
  const large: RecordInput[] = Array.from({ length: 100 }, () => ({ value, timestamp: now }))
  const w = new Writer(1 << 20)
  const recordFields = { topic: 'bench', partition: 0 }
  const encode = (records: RecordInput[], compression: 0 | 3) => {
    w.reset()
    encodeRecordBatch(w, { producerId: 1n, producerEpoch: 0, baseSequence: 0, compression, records })
    return w.finishCopy()
  }
  const list = []
  for (const [label, records, compression, bytes] of [
    ['100 × 3 B + 2 headers', small, 0, 100 * 3],
    ['100 × 1 KiB', large, 0, 100 * 1024],
    ['100 × 1 KiB, lz4', large, 3, 100 * 1024],
  ] as const) {
    const encoded = encode(records as RecordInput[], compression)
    list.push(
      { name: `encode ${label}`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) { w.reset(); s += encodeRecordBatch(w, { producerId: 1n, producerEpoch: 0, baseSequence: 0, compression, records: records as RecordInput[] }) } return s }, bytesPerOp: bytes },
      { name: `decode ${label} (CRC checked)`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s += decodeRecordBatches(encoded)[0]!.records.length; return s }, bytesPerOp: bytes },
      // As the consumer decodes: straight into the client's Record shape.
      { name: `decode ${label}, client records`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s += decodeRecordBatches(encoded, { recordFields })[0]!.records.length; return s }, bytesPerOp: bytes },
    )
  }
  const tiny = Buffer.concat(Array.from({ length: 23 }, (_, i) => {
    w.reset()
    encodeRecordBatch(w, { baseOffset: BigInt(i), producerId: 1n, producerEpoch: 0, baseSequence: i, compression: 0, records: [small[0]!] })
    return w.finishCopy()
  }))
  for (const [label, fetched, bytes] of [['23 one-record batches', tiny, 23 * 3], ['100 × 1 KiB', encode(large, 0), 100 * 1024]] as const) {
    list.push(
      { name: `fetched ${label}: checked decode`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s += decodeRecordBatches(fetched, { recordFields }).length; return s }, bytesPerOp: bytes },
      { name: `fetched ${label}: scan, then decode unchecked`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) { s += scanRecordBatches(fetched, 0n).records; s += decodeRecordBatches(fetched, { recordFields, verifyCrc: false }).length } return s }, bytesPerOp: bytes },
      // As the consumer's source decodes: each uncompressed batch from a copy of its own.
      { name: `fetched ${label}: scan, then decode unchecked from copies`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) { s += scanRecordBatches(fetched, 0n).records; s += decodeRecordBatches(fetched, { recordFields, verifyCrc: false, copyUncompressed: true }).length } return s }, bytesPerOp: bytes },
      // As the source decodes with no fetch hooks: checked and kept as bytes, the records made as eachRecord reads them.
      { name: `fetched ${label}: scan, then deferred decode, then records made one by one`, fn: (n: number) => { let s = 0; const count = (r: BatchRecord) => { s += r.value === null ? 0 : 1 }; for (let i = 0; i < n; i++) { s += scanRecordBatches(fetched, 0n).records; for (const b of decodeRecordBatches(fetched, { recordFields, verifyCrc: false, copyUncompressed: true, deferRecords: true })) forEachDeferredRecord(b, recordFields, null, count) } return s }, bytesPerOp: bytes },
      { name: `fetched ${label}: scan alone`, fn: (n: number) => { let s = 0; for (let i = 0; i < n; i++) s += scanRecordBatches(fetched, 0n).records; return s }, bytesPerOp: bytes },
    )
  }
  measure('record batch', list)
}
