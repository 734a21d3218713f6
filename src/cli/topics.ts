/**
 * `kafka-wire topics`: list, create, describe and delete topics and change their configs, over Admin.
 * Tables for people, `--json` for scripts; exit 1 when any topic's answer carries an error.
 */
import type { AlterConfig } from '../admin/configs.js'
import { ADMIN_FLAGS_HELP, ADMIN_OPTIONS, action, errText, failed, json, keyValues, printErrors, table, withAdmin } from './admin-common.js'
import { UsageError, int, parse } from './common.js'

/** TOPICS_HELP is `kafka-wire topics --help`. */
export const TOPICS_HELP = `usage: kafka-wire topics [ACTION] [TOPIC...] [options]

Administers topics. ACTION is one of:

  list                         every topic with its partition count and replication (the default)
  create TOPIC...              create topics (-p, -r, -c, --dry-run)
  describe TOPIC...            partitions with leader, replicas, ISR and offline replicas, the topic id,
                               and the configs set on the topic (all with --all-configs)
  delete TOPIC...              delete topics
  alter-configs TOPIC...       change configs: --set K=V, --delete K, --append K=V, --subtract K=V

Options:
${ADMIN_FLAGS_HELP}
      --internal               list: include internal topics (__consumer_offsets, …)
  -p, --partitions N           create: partition count (default: the broker's num.partitions)
  -r, --replication-factor N   create: replicas per partition (default: the broker's default)
  -c, --config K=V             create: a topic config (repeatable)
      --all-configs            describe: every config, not only those set on the topic
      --set K=V                alter-configs: set a config (repeatable)
      --delete K               alter-configs: return a config to its default (repeatable)
      --append K=V             alter-configs: add a value to a list config (repeatable)
      --subtract K=V           alter-configs: remove a value from a list config (repeatable)
      --dry-run                create, alter-configs: let the broker validate only

Exit status: 0 on success, 1 when a topic's answer is an error, 2 for bad flags.`

const ACTIONS = ['list', 'create', 'describe', 'delete', 'alter-configs'] as const

/** topicsCommand runs `kafka-wire topics` and resolves with its exit status. */
export async function topicsCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire topics'
  const { values, positionals } = parse(
    cmd,
    argv,
    {
      ...ADMIN_OPTIONS,
      internal: { type: 'boolean' },
      partitions: { type: 'string', short: 'p' },
      'replication-factor': { type: 'string', short: 'r' },
      config: { type: 'string', short: 'c', multiple: true },
      'all-configs': { type: 'boolean' },
      set: { type: 'string', multiple: true },
      delete: { type: 'string', multiple: true },
      append: { type: 'string', multiple: true },
      subtract: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
    },
    true,
  )
  if (values.help) {
    console.log(TOPICS_HELP)
    return 0
  }
  const { act, args } = action(cmd, positionals, ACTIONS, 'list')
  const asJson = values.json === true
  if (act !== 'list' && args.length === 0) throw new UsageError(`${cmd} ${act}: name at least one TOPIC`)
  if (act === 'list' && args.length > 0) throw new UsageError(`${cmd} list: takes no topic names (use describe)`)

  switch (act) {
    case 'list':
      return withAdmin(cmd, values, async (admin) => {
        const ts = await admin.listTopics({ internal: values.internal === true })
        const rows = ts.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0, internal: t.internal }))
        console.log(asJson ? json(rows) : table(['TOPIC', 'PARTITIONS', 'REPLICAS', 'TOPIC-ID'], rows.map((r) => [r.name, r.partitions, r.replicationFactor, r.topicId])))
        return 0
      })
    case 'create': {
      const partitions = values.partitions === undefined ? -1 : int(cmd, 'partitions', values.partitions as string, 1, 1)
      const replicationFactor = values['replication-factor'] === undefined ? -1 : int(cmd, 'replication-factor', values['replication-factor'] as string, 1, 1)
      const configs = Object.fromEntries(keyValues(cmd, '-c', values.config))
      return withAdmin(cmd, values, async (admin) => {
        const res = await admin.createTopics(
          args.map((name) => ({ name, partitions, replicationFactor, configs })),
          { validateOnly: values['dry-run'] === true },
        )
        if (asJson) console.log(json(res))
        else {
          console.log(table(['TOPIC', 'PARTITIONS', 'REPLICAS', 'TOPIC-ID', 'ERROR'], res.map((r) => [r.name, r.error ? null : r.partitions, r.error ? null : r.replicationFactor, r.error ? null : r.topicId, errText(r.error)])))
          printErrors(cmd, res)
        }
        return failed(res) ? 1 : 0
      })
    }
    case 'describe':
      return withAdmin(cmd, values, async (admin) => {
        const [ds, cs] = await Promise.all([admin.describeTopics(args), admin.describeTopicConfigs(args)])
        const all = values['all-configs'] === true
        const out = ds.map((d, i) => ({
          ...d,
          configs: Object.fromEntries((cs[i]?.configs ?? []).filter((c) => all || c.source === 'dynamicTopic').map((c) => [c.name, c.sensitive ? null : c.value])),
        }))
        if (asJson) console.log(json(out))
        else {
          for (const t of out) {
            if (t.error) continue
            console.log(`Topic ${t.name}  id ${t.topicId}  partitions ${t.partitions.length}${t.internal ? '  internal' : ''}`)
            const cfg = Object.entries(t.configs)
            if (cfg.length > 0) console.log(`  configs: ${cfg.map(([k, v]) => `${k}=${v ?? '(sensitive)'}`).join(', ')}`)
            console.log(
              table(
                ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'OFFLINE', 'ERROR'],
                t.partitions.map((p) => [p.partition, p.leader, p.leaderEpoch, p.replicas.join(','), p.isr.join(','), p.offline.join(',') || null, errText(p.error)]),
              ),
            )
          }
          printErrors(cmd, out)
        }
        return failed(out) ? 1 : 0
      })
    case 'delete':
      return withAdmin(cmd, values, async (admin) => {
        const res = await admin.deleteTopics(args)
        if (asJson) console.log(json(res))
        else {
          console.log(table(['TOPIC', 'TOPIC-ID', 'ERROR'], res.map((r) => [r.name, r.error ? null : r.topicId, errText(r.error)])))
          printErrors(cmd, res)
        }
        return failed(res) ? 1 : 0
      })
    case 'alter-configs': {
      const changes: AlterConfig[] = [
        ...keyValues(cmd, '--set', values.set).map(([name, value]) => ({ name, op: 'set' as const, value })),
        ...((values.delete as string[] | undefined) ?? []).map((name) => ({ name, op: 'delete' as const })),
        ...keyValues(cmd, '--append', values.append).map(([name, value]) => ({ name, op: 'append' as const, value })),
        ...keyValues(cmd, '--subtract', values.subtract).map(([name, value]) => ({ name, op: 'subtract' as const, value })),
      ]
      if (changes.length === 0) throw new UsageError(`${cmd} alter-configs: give at least one --set, --delete, --append or --subtract`)
      return withAdmin(cmd, values, async (admin) => {
        const res = await admin.alterTopicConfigs(changes, args, { validateOnly: values['dry-run'] === true })
        if (asJson) console.log(json(res))
        else {
          console.log(table(['TOPIC', 'RESULT'], res.map((r) => [r.name, r.error ? r.error.code : values['dry-run'] ? 'valid' : 'altered'])))
          printErrors(cmd, res)
        }
        return failed(res) ? 1 : 0
      })
    }
  }
  return 2
}
