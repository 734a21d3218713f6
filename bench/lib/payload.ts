/**
 * The 1 KiB values of the realistic and latency workloads: 1,000 distinct lines of random capital
 * letters (ProducerPerformance's alphabet), from a fixed seed, in a file that every client reads —
 * ProducerPerformance through --payload-file, the Node workers with loadPayloads. Distinct values keep
 * lz4 honest: a single repeated value (ProducerPerformance's default) compresses to almost nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs'

export const PAYLOAD_COUNT = 1000
export const PAYLOAD_SIZE = 1024

/** writePayloadFile writes the payload file (newline-separated) and returns its path. */
export function writePayloadFile(path: string, count = PAYLOAD_COUNT, size = PAYLOAD_SIZE, seed = 0x5eed): string {
  let s = seed >>> 0
  const rand = () => {
    // xorshift32: deterministic across runs and machines.
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
  const lines: string[] = []
  for (let i = 0; i < count; i++) {
    let line = ''
    for (let j = 0; j < size; j++) line += String.fromCharCode(65 + (rand() % 26))
    lines.push(line)
  }
  writeFileSync(path, lines.join('\n'))
  return path
}

/** loadPayloads reads the payload file into Buffers. */
export function loadPayloads(path: string): Buffer[] {
  return readFileSync(path, 'latin1')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => Buffer.from(l, 'latin1'))
}
