/**
 * Micro benchmarks of the hot helpers: writer, reader, varint, crc32c, murmur2, record batch encode
 * and decode (compression.ts, the codec comparison, runs on its own).
 *
 *   cd bench && node --import tsx micro/index.ts [--seconds 1] [--rounds 5] [--only crc32c] [--json out.json]
 */
import { finish } from './lib.js'
import { run as writer } from './writer.js'
import { run as reader } from './reader.js'
import { run as varint } from './varint.js'
import { run as crc32c } from './crc32c.js'
import { run as murmur2 } from './murmur2.js'
import { run as records } from './records.js'

console.log(`kafka-wire micro benchmarks, Node ${process.version}`)
for (const run of [writer, reader, varint, crc32c, murmur2, records]) run()
finish()
