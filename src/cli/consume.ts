/**
 * `kafka-wire consume`: prints records with a kcat -f format string, from a start offset or as a
 * member of a group, as `kcat -C` / `kcat -G`, or as a member of a share group.
 */
import type { Client } from '../client/client.js'
import type { OffsetSpec } from '../client/options.js'
import { ListOffsets } from '../protocol/messages/list-offsets.js'
import { KafkaProtocolError } from '../protocol/errors.js'
import { AbortError } from '../client/errors.js'
import { BROKERS_OPTION, CliError, DEFAULT_BROKERS, UsageError, brokersFrom, int, newClient, num, onInterrupt, parse, reach } from './common.js'
import { DEFAULT_FORMAT, compileFormat } from './format.js'

export const CONSUME_HELP = `usage: kafka-wire consume -t TOPIC [options]
       kafka-wire consume -G GROUP -t TOPIC [-t TOPIC…] [options]
       kafka-wire consume --share-group GROUP -t TOPIC [-t TOPIC…] [options]

Prints records, like kcat -C (or kcat -G with a group).

  -b, --brokers HOST:PORT[,…]  seed brokers (default: $KAFKA_BOOTSTRAP, else ${DEFAULT_BROKERS[0]})
  -t, --topic TOPIC            topic to consume (repeatable with -G)
  -p, --partition N            only this partition (repeatable; default all)
  -o, --offset OFFSET          where to start: beginning (default), end, N, -N (N before the end:
                               write -o-N or --offset=-N),
                               s@MS (first record at or after the timestamp); with -G, where to
                               start without a committed offset
  -G, --group GROUP            consume as a member of GROUP, committing offsets
      --share-group GROUP      consume as a member of share group GROUP (KIP-932): each record
                               printed is accepted; records fetched and not printed are released
  -c, --count N                exit after N records
  -e, --exit                   exit at the end of every partition (as it was when consuming began)
  -f, --format FMT             output format (default '${DEFAULT_FORMAT}'): %t topic, %p partition,
                               %o offset, %T timestamp, %k key, %K key length, %s value, %S value
                               length, %h headers (k=v,…), %% percent; escapes \\n \\t \\r \\\\
      --timeout MS             give up when no broker answers within MS (default 10000)
  -q, --quiet                  no summary line on stderr
  -h, --help                   this help

Exit status: 0 after -c, -e or Ctrl-C; 1 on a failure; 2 for bad flags.`

export async function consumeCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire consume'
  const { values } = parse(cmd, argv, {
    ...BROKERS_OPTION,
    topic: { type: 'string', short: 't', multiple: true },
    partition: { type: 'string', short: 'p', multiple: true },
    offset: { type: 'string', short: 'o' },
    group: { type: 'string', short: 'G' },
    'share-group': { type: 'string' },
    count: { type: 'string', short: 'c' },
    exit: { type: 'boolean', short: 'e' },
    format: { type: 'string', short: 'f' },
    timeout: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  })
  if (values.help) {
    console.log(CONSUME_HELP)
    return 0
  }
  const topics = (values.topic as string[] | undefined) ?? []
  if (topics.length === 0) throw new UsageError(`${cmd}: -t TOPIC is required`)
  const group = values.group as string | undefined
  const share = values['share-group'] as string | undefined
  if (share !== undefined) {
    if (group !== undefined) throw new UsageError(`${cmd}: -G and --share-group cannot be used together`)
    for (const [flag, set] of [['-p', values.partition !== undefined], ['-o', values.offset !== undefined], ['-e', values.exit === true]] as const) {
      if (set) throw new UsageError(`${cmd}: ${flag} cannot be used with --share-group (the share group hands out records; where it starts is its share.auto.offset.reset config)`)
    }
  }
  if (group === undefined && share === undefined && topics.length > 1) throw new UsageError(`${cmd}: several topics need a group (-G); without one, consume one topic`)
  const partitionsFlag = ((values.partition as string[] | undefined) ?? []).map((p) => int(cmd, 'partition', p, 0))
  if (group !== undefined && partitionsFlag.length > 0) throw new UsageError(`${cmd}: -p and -G cannot be used together (the group assigns partitions)`)
  if (group !== undefined && values.exit) throw new UsageError(`${cmd}: -e needs partitions read directly; with -G use -c or Ctrl-C`)
  const start = parseOffset(cmd, (values.offset as string | undefined) ?? 'beginning')
  const count = values.count === undefined ? Infinity : int(cmd, 'count', values.count as string, 1)
  const format = compileFormat((values.format as string | undefined) ?? DEFAULT_FORMAT, cmd)
  const timeout = int(cmd, 'timeout', values.timeout as string | undefined, 10_000, 1)
  const topic = topics[0]!

  const brokers = brokersFrom(values.brokers as string | undefined) ?? DEFAULT_BROKERS
  // Reach the cluster and check the topics with a plain client before consuming starts.
  const probe = newClient(cmd, { seedBrokers: brokers, dialTimeout: timeout })
  const partitionCounts = new Map<string, number>()
  try {
    for (const t of topics) {
      const n = await reach(probe, brokers, t, timeout)
      if (n === 0) throw new CliError(`${cmd}: topic ${t} does not exist on ${brokers.join(',')}`)
      partitionCounts.set(t, n)
    }
  } finally {
    await probe.close()
  }
  const partitions = partitionsFlag.length > 0 ? partitionsFlag : Array.from({ length: partitionCounts.get(topic)! }, (_, i) => i)
  for (const p of partitions) {
    if (p >= partitionCounts.get(topic)!) throw new CliError(`${cmd}: topic ${topic} has ${partitionCounts.get(topic)} partition(s); there is no partition ${p}`)
  }

  const spec: OffsetSpec = start === 'stored' ? 'earliest' : start
  if (start === 'stored' && group === undefined) throw new UsageError(`${cmd}: -o stored needs a group (-G)`)
  const client = share !== undefined
    ? newClient(cmd, { seedBrokers: brokers, dialTimeout: timeout, consumeTopics: topics, shareGroup: share })
    : group !== undefined
      ? newClient(cmd, { seedBrokers: brokers, dialTimeout: timeout, consumeTopics: topics, consumerGroup: group, consumeResetOffset: spec, autoCommitInterval: 1000 })
      : newClient(cmd, { seedBrokers: brokers, dialTimeout: timeout, consumePartitions: { [topic]: Object.fromEntries(partitions.map((p) => [p, spec])) } })

  // -e: the end of each partition as consuming begins; a partition is done once a record at or past
  // end - 1 was printed, or at once when nothing lies between its start and its end.
  let ends: Map<number, bigint> | null = null
  const done = new Set<number>()
  if (values.exit) {
    ends = await listOffsets(client, topic, partitions, -1n)
    const starts = typeof spec === 'object' && 'timestamp' in spec ? await listOffsets(client, topic, partitions, BigInt(spec.timestamp)) : spec === 'earliest' ? await listOffsets(client, topic, partitions, -2n) : null
    for (const p of partitions) {
      const end = ends.get(p) ?? 0n
      let from: bigint | null = starts?.get(p) ?? null
      if (spec === 'latest') from = end
      else if (typeof spec === 'object' && 'offset' in spec) from = spec.offset
      else if (typeof spec === 'object' && 'relative' in spec) from = end + BigInt(spec.relative) < 0n ? 0n : end + BigInt(spec.relative)
      if (from !== null && (from < 0n || from >= end)) done.add(p)
    }
  }

  let printed = 0
  let stopping = false
  const ac = new AbortController()
  onInterrupt(() => {
    stopping = true
    ac.abort(new Error('interrupted'))
  })
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // A reader that went away (`| head`) ends the command quietly.
    if (err.code === 'EPIPE') {
      stopping = true
      ac.abort(err)
    }
  })
  try {
    while (!stopping && printed < count && !(ends !== null && done.size >= partitions.length)) {
      const f = await client.pollFetches({ signal: ac.signal })
      for (const e of f.errors()) {
        // Our own abort (Ctrl-C, a closed pipe): the poll holds an AbortError whose cause is the reason.
        if (e.error instanceof AbortError && ac.signal.aborted && e.error.cause === ac.signal.reason) continue
        throw new CliError(`${cmd}: ${e.topic ? `${e.topic}[${e.partition}]: ` : ''}${e.error.message}`)
      }
      let out = ''
      const records = f.records()
      let i = 0
      for (; i < records.length; i++) {
        const r = records[i]!
        if (printed >= count) break
        out += format(r)
        printed++
        if (ends !== null && r.offset >= (ends.get(r.partition) ?? 0n) - 1n) done.add(r.partition)
      }
      if (out.length > 0 && !process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r))
      if (share !== undefined) {
        // Printed records are done with; those past -c go back to the group for other members.
        if (i < records.length) client.markAcks('release', ...records.slice(i))
        client.markAcks('accept')
      }
    }
    if (group !== undefined) await client.commitUncommittedOffsets().catch(() => {})
    if (share !== undefined) await client.flushAcks().catch(() => {})
  } finally {
    await client.close()
  }
  if (!values.quiet) process.stderr.write(`consumed ${num(printed)} record${printed === 1 ? '' : 's'} from ${topics.join(',')}\n`)
  return 0
}

type Start = OffsetSpec | 'stored'

function parseOffset(cmd: string, v: string): Start {
  if (v === 'beginning' || v === 'earliest') return 'earliest'
  if (v === 'end' || v === 'latest') return 'latest'
  if (v === 'stored') return 'stored'
  if (/^\d+$/.test(v)) return { offset: BigInt(v) }
  if (/^-\d+$/.test(v)) return { relative: Number(v), from: 'latest' }
  const ts = /^s@(\d+)$/.exec(v)
  if (ts) return { timestamp: Number(ts[1]) }
  throw new UsageError(`${cmd}: -o must be beginning, end, stored, N, -N or s@TIMESTAMP_MS, got ${JSON.stringify(v)}`)
}

/** listOffsets asks each partition's offset for a timestamp: -1n the end, -2n the start. */
async function listOffsets(client: Client, topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, bigint>> {
  const req = ListOffsets.newRequest()
  req.replicaId = -1
  req.topics = [{ name: topic, partitions: partitions.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp })) }]
  const res = await client.request(ListOffsets, req)
  const out = new Map<number, bigint>()
  for (const t of res.topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== 0) throw new KafkaProtocolError(p.errorCode, { topic, partition: p.partitionIndex })
      // A timestamp after the last record answers -1: that partition starts at its end.
      out.set(p.partitionIndex, p.offset)
    }
  }
  if (timestamp >= 0n) {
    const ends = await listOffsets(client, topic, partitions, -1n)
    for (const [p, o] of out) if (o < 0n) out.set(p, ends.get(p) ?? 0n)
  }
  return out
}
