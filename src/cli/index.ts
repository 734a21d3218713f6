#!/usr/bin/env node
/**
 * The `kafka-wire` command: one subcommand per file beside this one. Usage mistakes exit 2 with a
 * pointer to --help, failures (an unreachable broker, a missing topic) exit 1 with one clear line,
 * and unexpected errors print their stack.
 */
import { readFileSync } from 'node:fs'
import { BENCH_HELP, benchCommand } from './bench.js'
import { BROKER_HELP, brokerCommand } from './broker.js'
import { CliError, UsageError } from './common.js'
import { CLUSTER_HELP, clusterCommand } from './cluster.js'
import { CONSUME_HELP, consumeCommand } from './consume.js'
import { DEMO_HELP, demoCommand } from './demo.js'
import { GROUPS_HELP, groupsCommand } from './groups.js'
import { PRODUCE_HELP, produceCommand } from './produce.js'
import { TOPICS_HELP, topicsCommand } from './topics.js'
import { KafkaWireError } from '../protocol/errors.js'

const COMMANDS: { [name: string]: { run: (argv: string[]) => Promise<number>; help: string; summary: string } } = {
  broker: { run: brokerCommand, help: BROKER_HELP, summary: 'start a local Kafka broker in the foreground and print its address' },
  produce: { run: produceCommand, help: PRODUCE_HELP, summary: 'produce records from stdin or files (like kcat -P)' },
  consume: { run: consumeCommand, help: CONSUME_HELP, summary: 'print records from an offset or in a group (like kcat -C/-G)' },
  bench: { run: benchCommand, help: BENCH_HELP, summary: 'produce and consume a workload with a progress line' },
  demo: { run: demoCommand, help: DEMO_HELP, summary: 'broker, produce and consume with kotel tracing, trace trees and throughput' },
  topics: { run: topicsCommand, help: TOPICS_HELP, summary: 'list, create, describe and delete topics; alter their configs' },
  groups: { run: groupsCommand, help: GROUPS_HELP, summary: 'list and describe consumer groups with lag; reset offsets; delete' },
  cluster: { run: clusterCommand, help: CLUSTER_HELP, summary: 'brokers and controller, feature levels, API versions' },
}

const USAGE = `usage: kafka-wire <command> [options]

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

kafka-wire <command> --help shows a command's options. Commands that talk to Kafka take -b host:port
(default: $KAFKA_BOOTSTRAP, else 127.0.0.1:9092).`

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined && COMMANDS[rest[0]]) console.log(COMMANDS[rest[0]]!.help)
    else console.log(USAGE)
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v') {
    console.log(version())
    return 0
  }
  const cmd = COMMANDS[name]
  if (cmd === undefined) throw new UsageError(`kafka-wire: unknown command ${JSON.stringify(name)}; commands: ${Object.keys(COMMANDS).join(', ')}`)
  return cmd.run(rest)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      const sub = /^kafka-wire (\w+)/.exec(err.message)?.[1]
      process.stderr.write(`${err.message}\n(see kafka-wire ${sub ? `${sub} ` : ''}--help)\n`)
      process.exitCode = 2
    } else if (err instanceof CliError || err instanceof KafkaWireError) {
      process.stderr.write(`${err.message.startsWith('kafka-wire') ? '' : 'kafka-wire: '}${err.message}\n`)
      process.exitCode = 1
    } else {
      process.stderr.write(`kafka-wire: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exitCode = 1
    }
  },
)
