/**
 * A minimal zip reader: enough to list a jar's central directory and inflate the entries we want.
 * Jars are plain zips (method 0 stored or 8 deflated); zip64 archives are refused, which no
 * kafka-clients jar needs.
 */
import { readFileSync } from 'node:fs'
import { inflateRawSync } from 'node:zlib'

/** ZipEntry is one file of an archive, read lazily. */
export interface ZipEntry {
  name: string
  read(): Buffer
}

const EOCD = 0x06054b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

/** readZip lists the entries of the zip archive at `path`. */
export function readZip(path: string): ZipEntry[] {
  const buf = readFileSync(path)
  let eocd = -1
  // The end-of-central-directory record is the last 22 bytes plus an optional comment of up to 64 KiB.
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i
      break
    }
  }
  if (eocd < 0) throw new Error(`${path}: not a zip archive (no end of central directory)`)
  const count = buf.readUInt16LE(eocd + 10)
  const cdOffset = buf.readUInt32LE(eocd + 16)
  if (count === 0xffff || cdOffset === 0xffffffff) throw new Error(`${path}: zip64 archives are not supported`)
  const entries: ZipEntry[] = []
  let p = cdOffset
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== CENTRAL) throw new Error(`${path}: bad central directory entry at ${p}`)
    const method = buf.readUInt16LE(p + 10)
    const compressedSize = buf.readUInt32LE(p + 20)
    const size = buf.readUInt32LE(p + 24)
    const nameLen = buf.readUInt16LE(p + 28)
    const extraLen = buf.readUInt16LE(p + 30)
    const commentLen = buf.readUInt16LE(p + 32)
    const localOffset = buf.readUInt32LE(p + 42)
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen)
    p += 46 + nameLen + extraLen + commentLen
    entries.push({
      name,
      read(): Buffer {
        if (buf.readUInt32LE(localOffset) !== LOCAL) throw new Error(`${path}: bad local header for ${name}`)
        const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28)
        const data = buf.subarray(start, start + compressedSize)
        if (method === 0) return data
        if (method === 8) {
          const out = inflateRawSync(data)
          if (out.length !== size) throw new Error(`${path}: ${name} inflated to ${out.length} bytes, want ${size}`)
          return out
        }
        throw new Error(`${path}: ${name} uses unsupported compression method ${method}`)
      },
    })
  }
  return entries
}
