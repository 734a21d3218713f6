/**
 * `kafka-wire produce`: records from stdin or files, one per line (or per -D delimiter), as `kcat -P`.
 */
import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { CompressionName } from '../client/options.js'
import type { ProduceRecord, ProduceRecordHeader } from '../protocol/record.js'
import { BROKERS_OPTION, CliError, DEFAULT_BROKERS, UsageError, brokersFrom, int, newClient, num, parse, reach } from './common.js'

export const PRODUCE_HELP = `usage: kafka-wire produce -t TOPIC [options] [FILE...]

Produces one record per line of stdin (or of each FILE), like kcat -P.

  -b, --brokers HOST:PORT[,…]  seed brokers (default: $KAFKA_BOOTSTRAP, else ${DEFAULT_BROKERS[0]})
  -t, --topic TOPIC            topic to produce to (required)
  -p, --partition N            partition (default: the partitioner: murmur2 of the key, sticky without)
  -k, --key KEY                the same key for every record
  -K, --key-delimiter DELIM    split each line at the first DELIM into key and value (kcat -K)
  -H, --header KEY=VALUE       a header on every record (repeatable)
  -D, --delimiter DELIM        record delimiter (default: newline; \\n \\t \\0 understood)
  -z, --compression CODEC      none, gzip, snappy, lz4 or zstd (default none)
      --acks 0|1|all           required acks (default all; 0 and 1 turn idempotence off)
      --linger MS              linger before sending a batch (default 10)
      --timeout MS             give up when no broker answers within MS (default 10000)
  -q, --quiet                  no summary line
  -h, --help                   this help

Exit status: 0 when every record was acknowledged, 1 on a failure, 2 for bad flags.`

const CODECS = new Set(['none', 'gzip', 'snappy', 'lz4', 'zstd'])

export async function produceCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire produce'
  const { values, positionals } = parse(
    cmd,
    argv,
    {
      ...BROKERS_OPTION,
      topic: { type: 'string', short: 't' },
      partition: { type: 'string', short: 'p' },
      key: { type: 'string', short: 'k' },
      'key-delimiter': { type: 'string', short: 'K' },
      header: { type: 'string', short: 'H', multiple: true },
      delimiter: { type: 'string', short: 'D' },
      compression: { type: 'string', short: 'z' },
      acks: { type: 'string' },
      linger: { type: 'string' },
      timeout: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
    true,
  )
  if (values.help) {
    console.log(PRODUCE_HELP)
    return 0
  }
  const topic = values.topic as string | undefined
  if (!topic) throw new UsageError(`${cmd}: -t TOPIC is required`)
  const partition = values.partition === undefined ? undefined : int(cmd, 'partition', values.partition as string, 0)
  const compression = (values.compression as string | undefined) ?? 'none'
  if (!CODECS.has(compression)) throw new UsageError(`${cmd}: --compression must be none, gzip, snappy, lz4 or zstd, got ${JSON.stringify(compression)}`)
  const acksFlag = (values.acks as string | undefined) ?? 'all'
  if (!['0', '1', 'all', '-1'].includes(acksFlag)) throw new UsageError(`${cmd}: --acks must be 0, 1 or all, got ${JSON.stringify(acksFlag)}`)
  const acks = acksFlag === '0' ? 0 : acksFlag === '1' ? 1 : ('all' as const)
  const headers: ProduceRecordHeader[] = []
  for (const h of (values.header as string[] | undefined) ?? []) {
    const i = h.indexOf('=')
    if (i <= 0) throw new UsageError(`${cmd}: -H wants KEY=VALUE, got ${JSON.stringify(h)}`)
    headers.push({ key: h.slice(0, i), value: h.slice(i + 1) })
  }
  if (values.key !== undefined && values['key-delimiter'] !== undefined) throw new UsageError(`${cmd}: -k and -K cannot be used together`)
  const delimiter = unescape((values.delimiter as string | undefined) ?? '\n')
  if (delimiter === '') throw new UsageError(`${cmd}: -D must not be empty`)
  const keyDelimiter = values['key-delimiter'] === undefined ? undefined : unescape(values['key-delimiter'] as string)
  const linger = int(cmd, 'linger', values.linger as string | undefined, 10)
  const timeout = int(cmd, 'timeout', values.timeout as string | undefined, 10_000, 1)
  for (const f of positionals) {
    await access(f).catch(() => {
      throw new CliError(`${cmd}: cannot read ${f}: no such file`)
    })
  }

  const brokers = brokersFrom(values.brokers as string | undefined) ?? DEFAULT_BROKERS
  const client = newClient(cmd, {
    seedBrokers: brokers,
    dialTimeout: timeout,
    requiredAcks: acks,
    disableIdempotentWrite: acks !== 'all',
    linger,
    producerBatchCompression: [compression as CompressionName],
  })
  try {
    const partitions = await reach(client, brokers, topic, timeout)
    if (partitions === 0) throw new CliError(`${cmd}: topic ${topic} does not exist on ${brokers.join(',')} (create it first; kafka-wire does not create topics)`)
    if (partition !== undefined && partition >= partitions) throw new CliError(`${cmd}: topic ${topic} has ${partitions} partition${partitions === 1 ? '' : 's'}; there is no partition ${partition}`)
    let sent = 0
    let failed: Error | null = null
    let outstanding = 0
    let wake: (() => void) | null = null
    const cb = (_r: ProduceRecord, err: Error | null) => {
      if (err !== null) failed ??= err
      else sent++
      outstanding--
      if (wake !== null && outstanding < 5_000) {
        const w = wake
        wake = null
        w()
      }
    }
    const produceLine = async (line: string) => {
      if (failed) throw failed
      let key: string | undefined = values.key as string | undefined
      let value = line
      if (keyDelimiter !== undefined) {
        const i = line.indexOf(keyDelimiter)
        if (i >= 0) {
          key = line.slice(0, i)
          value = line.slice(i + keyDelimiter.length)
        }
      }
      const rec: ProduceRecord = { topic, value }
      if (key !== undefined) rec.key = key
      if (partition !== undefined) rec.partition = partition
      if (headers.length > 0) rec.headers = headers.map((h) => ({ ...h }))
      outstanding++
      client.produce(rec, cb)
      // Stay within the client's buffer so a large file streams through instead of piling up.
      if (outstanding >= 10_000) await new Promise<void>((r) => (wake = r))
    }
    const sources: Readable[] = positionals.length > 0 ? positionals.map((f) => createReadStream(f)) : [process.stdin]
    for (const src of sources) await splitStream(src, delimiter, produceLine)
    await client.flush()
    if (failed) throw new CliError(`${cmd}: ${(failed as Error).message}`)
    if (!values.quiet) process.stderr.write(`produced ${num(sent)} record${sent === 1 ? '' : 's'} to ${topic}\n`)
    return 0
  } finally {
    await client.close()
  }
}

/** splitStream calls `fn` for each delimited piece of a stream; a last piece without a delimiter counts, an empty one does not. */
async function splitStream(src: Readable, delimiter: string, fn: (piece: string) => Promise<void>): Promise<void> {
  src.setEncoding('utf8')
  let rest = ''
  for await (const chunk of src as AsyncIterable<string>) {
    rest += chunk
    let start = 0
    let i: number
    while ((i = rest.indexOf(delimiter, start)) >= 0) {
      await fn(rest.slice(start, i))
      start = i + delimiter.length
    }
    rest = rest.slice(start)
  }
  if (rest.length > 0) await fn(rest)
}

function unescape(s: string): string {
  return s.replace(/\\([ntr0\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\' })[c]!)
}
