/**
 * `kafka-wire groups`: list consumer and share groups, describe them with a lag table (the columns of
 * kafka-consumer-groups --describe), reset their offsets (a dry run unless --execute, as the Java tools
 * do) and delete them, over Admin.
 */
import type { OffsetResetSpec } from '../admin/groups.js'
import { ADMIN_FLAGS_HELP, ADMIN_OPTIONS, action, errText, failed, json, printErrors, table, withAdmin } from './admin-common.js'
import { UsageError, parse } from './common.js'

/** GROUPS_HELP is `kafka-wire groups --help`. */
export const GROUPS_HELP = `usage: kafka-wire groups [ACTION] [GROUP...] [options]

Administers consumer groups (classic and KIP-848) and share groups (KIP-932). ACTION is one of:

  list                         every group with its type, state and coordinator (the default)
  describe GROUP...            state, protocol, members, and per partition the committed offset, log
                               end offset, lag and owning member (as kafka-consumer-groups --describe);
                               for a share group, per partition its start offset and lag
  reset-offsets GROUP          move the group's committed offsets (a share group's start offsets);
                               the group must have no members. Prints the plan; applies it only
                               with --execute
  delete GROUP...              delete empty groups and their committed offsets

Options:
${ADMIN_FLAGS_HELP}
      --state STATE            list: only groups in STATE (Stable, Empty, …; repeatable)
      --type TYPE              list: only groups of TYPE (classic, consumer, share; repeatable)
      --members                describe: also print the members table
      --to-earliest            reset-offsets: to each partition's log start
      --to-latest              reset-offsets: to each partition's log end
      --to-datetime T          reset-offsets: to the first offset at or after T (ISO 8601 or epoch ms)
      --to-offset N            reset-offsets: to offset N (kept inside each log)
      --shift-by N             reset-offsets: move the offsets by N (back: --shift-by=-N)
  -t, --topic TOPIC[:P,P…]     reset-offsets: only this topic (or these partitions; repeatable;
                               default: the topics the group has offsets for)
      --execute                reset-offsets: apply the new offsets (without it: a dry run)

Exit status: 0 on success, 1 when a group's answer is an error, 2 for bad flags.`

const ACTIONS = ['list', 'describe', 'reset-offsets', 'delete'] as const

function resetSpec(cmd: string, values: { [k: string]: unknown }): OffsetResetSpec {
  const given = ['to-earliest', 'to-latest', 'to-datetime', 'to-offset', 'shift-by'].filter((f) => values[f] !== undefined)
  if (given.length !== 1) throw new UsageError(`${cmd} reset-offsets: give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by${given.length > 1 ? ` (got ${given.map((g) => `--${g}`).join(', ')})` : ''}`)
  const integer = (flag: string, v: string): bigint => {
    if (!/^-?\d+$/.test(v)) throw new UsageError(`${cmd} reset-offsets: --${flag} must be an integer, got ${JSON.stringify(v)}`)
    return BigInt(v)
  }
  switch (given[0]) {
    case 'to-earliest':
      return 'earliest'
    case 'to-latest':
      return 'latest'
    case 'to-datetime': {
      const v = values['to-datetime'] as string
      const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v)
      if (!Number.isFinite(ms)) throw new UsageError(`${cmd} reset-offsets: --to-datetime must be ISO 8601 or epoch milliseconds, got ${JSON.stringify(v)}`)
      return { timestamp: ms }
    }
    case 'to-offset': {
      const n = integer('to-offset', values['to-offset'] as string)
      if (n < 0n) throw new UsageError(`${cmd} reset-offsets: --to-offset must be >= 0`)
      return { offset: n }
    }
    default:
      return { shiftBy: Number(integer('shift-by', values['shift-by'] as string)) }
  }
}

function topicsFlag(cmd: string, vs: unknown): { [topic: string]: number[] } | string[] | undefined {
  const list = (vs as string[] | undefined) ?? []
  if (list.length === 0) return undefined
  if (list.every((t) => !t.includes(':'))) return list
  const out: { [topic: string]: number[] } = {}
  for (const t of list) {
    const i = t.lastIndexOf(':')
    if (i < 0) throw new UsageError(`${cmd} reset-offsets: mix of -t TOPIC and -t TOPIC:P,P; give partitions for every topic or none`)
    const ps = t.slice(i + 1).split(',').map((p) => Number(p))
    if (i === 0 || ps.some((p) => !Number.isInteger(p) || p < 0)) throw new UsageError(`${cmd} reset-offsets: -t wants TOPIC or TOPIC:P,P…, got ${JSON.stringify(t)}`)
    out[t.slice(0, i)] = ps
  }
  return out
}

/** groupsCommand runs `kafka-wire groups` and resolves with its exit status. */
export async function groupsCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire groups'
  const { values, positionals } = parse(
    cmd,
    argv,
    {
      ...ADMIN_OPTIONS,
      state: { type: 'string', multiple: true },
      type: { type: 'string', multiple: true },
      members: { type: 'boolean' },
      'to-earliest': { type: 'boolean' },
      'to-latest': { type: 'boolean' },
      'to-datetime': { type: 'string' },
      'to-offset': { type: 'string' },
      'shift-by': { type: 'string' },
      topic: { type: 'string', short: 't', multiple: true },
      execute: { type: 'boolean' },
    },
    true,
  )
  if (values.help) {
    console.log(GROUPS_HELP)
    return 0
  }
  const { act, args } = action(cmd, positionals, ACTIONS, 'list')
  const asJson = values.json === true
  if (act !== 'list' && args.length === 0) throw new UsageError(`${cmd} ${act}: name at least one GROUP`)
  if (act === 'list' && args.length > 0) throw new UsageError(`${cmd} list: takes no group names (use describe)`)
  if (act === 'reset-offsets' && args.length > 1) throw new UsageError(`${cmd} reset-offsets: one GROUP at a time`)

  switch (act) {
    case 'list':
      return withAdmin(cmd, values, async (admin) => {
        const gs = await admin.listGroups({
          ...(values.state ? { states: values.state as string[] } : {}),
          ...(values.type ? { types: values.type as string[] } : {}),
        })
        console.log(asJson ? json(gs) : table(['GROUP', 'TYPE', 'STATE', 'PROTOCOL-TYPE', 'COORDINATOR'], gs.map((g) => [g.group, g.type, g.state, g.protocolType || null, g.coordinator])))
        return 0
      })
    case 'describe':
      return withAdmin(cmd, values, async (admin) => {
        const [ds, lags] = await Promise.all([admin.describeGroups(args), admin.lag(args)])
        // Groups that are not consumer groups may be share groups: described apart, with their own lag.
        const notFound = ds.filter((d) => d.error?.code === 'GROUP_ID_NOT_FOUND').map((d) => d.group)
        const [shares, shareOffsets] = notFound.length === 0 ? [[], []] : await Promise.all([admin.describeShareGroups(notFound), admin.describeShareGroupOffsets(notFound)])
        const shared = new Map(shares.map((d, i) => [d.group, { ...d, offsets: shareOffsets[i]! }] as const).filter(([, d]) => d.error === null))
        const out = ds.filter((d) => !shared.has(d.group)).map((d) => ({ ...d, lag: lags[args.indexOf(d.group)]! }))
        if (asJson) {
          console.log(
            json([
              ...out.map(({ members, lag, ...d }) => ({ ...d, members: members.map(({ metadata: _m, assignmentBytes: _a, ...m }) => m), lag: { total: lag.total, topics: lag.topics, partitions: lag.partitions, error: lag.error } })),
              ...[...shared.values()].map(({ offsets, ...d }) => ({ ...d, type: 'share', offsets: offsets.offsets, offsetsError: offsets.error })),
            ]),
          )
        } else {
          for (const g of shared.values()) {
            const total = g.offsets.offsets.reduce((n, o) => (o.lag >= 0n ? n + o.lag : n), 0n)
            console.log(`Group ${g.group}  type share  state ${g.state}  coordinator ${g.coordinator}  members ${g.members.length}  total lag ${g.offsets.error ? '-' : total}`)
            console.log(table(['GROUP', 'TOPIC', 'PARTITION', 'START-OFFSET', 'LAG'], g.offsets.offsets.map((o) => [g.group, o.topic, o.partition, o.startOffset < 0n ? null : o.startOffset, o.lag < 0n ? null : o.lag])))
            if (values.members && g.members.length === 0) console.log('(no members)')
            else if (values.members) console.log(table(['MEMBER-ID', 'CLIENT-ID', 'HOST', 'ASSIGNMENT'], g.members.map((m) => [m.memberId, m.clientId, m.clientHost, m.assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || null])))
            if (g.offsets.error) process.stderr.write(`${cmd}: ${g.offsets.error.message}\n`)
          }
          for (const g of out) {
            if (g.error) continue
            console.log(`Group ${g.group}  type ${g.type}  state ${g.state}  protocol ${g.protocol || '-'}  coordinator ${g.coordinator}  members ${g.members.length}  total lag ${g.lag.error ? '-' : g.lag.total}`)
            console.log(
              table(
                ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
                g.lag.partitions.map((p) => [g.group, p.topic, p.partition, p.committed, p.end, p.committed === null ? null : p.lag, p.memberId, p.host, p.clientId]),
              ),
            )
            if (values.members && g.members.length === 0) console.log('(no members)')
            else if (values.members)
              console.log(
                table(
                  ['MEMBER-ID', 'INSTANCE-ID', 'CLIENT-ID', 'HOST', 'ASSIGNMENT'],
                  g.members.map((m) => [m.memberId, m.instanceId, m.clientId, m.clientHost, m.assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || null]),
                ),
              )
          }
          for (const g of out) {
            const e = g.error ?? g.lag.error
            if (e) process.stderr.write(`${cmd}: ${e.message}\n`)
          }
        }
        return failed(out) || failed(out.map((d) => d.lag)) || [...shared.values()].some((g) => g.offsets.error !== null) ? 1 : 0
      })
    case 'reset-offsets': {
      const to = resetSpec(cmd, values)
      const topics = topicsFlag(cmd, values.topic)
      const execute = values.execute === true
      return withAdmin(cmd, values, async (admin) => {
        // A share group (the group describes as one) has start offsets, not committed offsets.
        const [sd] = await admin.describeShareGroups([args[0]!])
        const share = sd!.error === null
        const opts = { dryRun: !execute, ...(topics ? { topics } : {}) }
        const res = share ? await admin.resetShareGroupOffsets(args[0]!, to, opts) : await admin.resetOffsets(args[0]!, to, opts)
        if (asJson) console.log(json({ group: args[0], type: share ? 'share' : 'consumer', executed: execute, offsets: res }))
        else {
          const [prev, next] = share ? ['PREVIOUS-START-OFFSET', 'NEW-START-OFFSET'] : ['PREVIOUS-OFFSET', 'NEW-OFFSET']
          console.log(table(['GROUP', 'TOPIC', 'PARTITION', prev, next, 'ERROR'], res.map((r) => [args[0]!, r.topic, r.partition, r.previous, r.offset, errText(r.error)])))
          if (!execute) process.stderr.write(`${cmd}: dry run; add --execute to ${share ? 'set these start offsets' : 'commit these offsets'}\n`)
          printErrors(cmd, res)
        }
        return failed(res) ? 1 : 0
      })
    }
    case 'delete':
      return withAdmin(cmd, values, async (admin) => {
        const res = await admin.deleteGroups(args)
        if (asJson) console.log(json(res))
        else {
          console.log(table(['GROUP', 'RESULT'], res.map((r) => [r.group, r.error ? r.error.code : 'deleted'])))
          printErrors(cmd, res)
        }
        return failed(res) ? 1 : 0
      })
  }
  return 2
}
