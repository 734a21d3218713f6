/**
 * `kafka-wire cluster`: the cluster id, controller and brokers; finalized feature levels; the API
 * versions each broker supports beside the version kafka-wire uses. Over Admin.
 */
import { ADMIN_FLAGS_HELP, ADMIN_OPTIONS, action, errText, failed, json, printErrors, table, withAdmin } from './admin-common.js'
import { UsageError, int, parse } from './common.js'

/** CLUSTER_HELP is `kafka-wire cluster --help`. */
export const CLUSTER_HELP = `usage: kafka-wire cluster [ACTION] [options]

Describes the cluster. ACTION is one of:

  brokers                      the cluster id, the controller, and each broker with its address and
                               rack (the default)
  features                     finalized feature levels (metadata.version, …) and supported ranges
  api-versions                 per broker, each API's supported version range and the version
                               kafka-wire uses (-1: none in common)

Options:
${ADMIN_FLAGS_HELP}
      --broker N               api-versions: only broker N (repeatable)

Exit status: 0 on success, 1 when a broker's answer is an error, 2 for bad flags.`

const ACTIONS = ['brokers', 'features', 'api-versions'] as const

/** clusterCommand runs `kafka-wire cluster` and resolves with its exit status. */
export async function clusterCommand(argv: string[]): Promise<number> {
  const cmd = 'kafka-wire cluster'
  const { values, positionals } = parse(cmd, argv, { ...ADMIN_OPTIONS, broker: { type: 'string', multiple: true } }, true)
  if (values.help) {
    console.log(CLUSTER_HELP)
    return 0
  }
  const { act, args } = action(cmd, positionals, ACTIONS, 'brokers')
  if (args.length > 0) throw new UsageError(`${cmd} ${act}: unexpected argument ${args[0]}`)
  const asJson = values.json === true
  const brokers = ((values.broker as string[] | undefined) ?? []).map((b) => int(cmd, 'broker', b, 0))
  if (brokers.length > 0 && act !== 'api-versions') throw new UsageError(`${cmd} ${act}: --broker is for api-versions`)

  return withAdmin(cmd, values, async (admin) => {
    switch (act) {
      case 'brokers': {
        const d = await admin.describeCluster({ includeFenced: true })
        if (asJson) console.log(json(d))
        else {
          console.log(`Cluster ${d.clusterId}  controller ${d.controller}  brokers ${d.brokers.length}`)
          console.log(table(['ID', 'HOST', 'PORT', 'RACK', 'FENCED', 'CONTROLLER'], d.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack, b.fenced ? 'yes' : 'no', b.nodeId === d.controller ? 'yes' : 'no'])))
        }
        return 0
      }
      case 'features': {
        const f = await admin.describeFeatures()
        if (asJson) console.log(json(f))
        else {
          const names = [...new Set([...Object.keys(f.finalized), ...Object.keys(f.supported)])].sort()
          console.log(
            table(
              ['FEATURE', 'FINALIZED', 'SUPPORTED-MIN', 'SUPPORTED-MAX'],
              names.map((n) => [n, f.finalized[n]?.maxVersionLevel ?? null, f.supported[n]?.minVersion ?? null, f.supported[n]?.maxVersion ?? null]),
            ),
          )
        }
        return 0
      }
      default: {
        const vs = await admin.apiVersions(brokers.length > 0 ? brokers : undefined)
        if (asJson) console.log(json(vs))
        else {
          for (const b of vs) {
            console.log(`Broker ${b.nodeId}${b.error ? `  ${errText(b.error)}` : ''}`)
            if (!b.error) console.log(table(['KEY', 'API', 'MIN', 'MAX', 'USED'], b.apis.map((a) => [a.key, a.name, a.minVersion, a.maxVersion, a.version])))
          }
          printErrors(cmd, vs)
        }
        return failed(vs) ? 1 : 0
      }
    }
  })
}
