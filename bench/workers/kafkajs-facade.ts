/**
 * The KafkaJS worker with its import switched: workers/kafkajs.ts, unchanged, with `kafkajs` resolving
 * to kafka-wire/kafkajs (../dist/kafkajs, as built) instead of kafkajs@2.2.4. The program, its options and its
 * batching (1,000 messages per send(), 5 sends in flight) are KafkaJS's worker's; only the library under
 * it changes, which is what a KafkaJS user who changes one import gets. The result line is relabelled
 * `kafkajs-facade` with kafka-wire's version. Where the facade throws KafkaJSNotImplemented
 * (producer.transaction() until its transactions land), the worker reports the workload not applicable.
 */
import { readFileSync } from 'node:fs'
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'

const facade = new URL('../../dist/kafkajs/index.js', import.meta.url).href
// A resolve hook: the specifier 'kafkajs' (and only it) goes to the facade; the next hooks (tsx's)
// resolve and load that TypeScript file.
register(
  'data:text/javascript,' +
    encodeURIComponent(`export async function resolve(specifier, context, next) {
      if (specifier === 'kafkajs') return next(${JSON.stringify(facade)}, context)
      return next(specifier, context)
    }`),
  pathToFileURL('./'),
)

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
const write = process.stdout.write.bind(process.stdout)
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  if (typeof chunk === 'string' && chunk.startsWith('@@RESULT ')) {
    const r = JSON.parse(chunk.slice('@@RESULT '.length)) as { client: string; clientVersion: string }
    r.client = 'kafkajs-facade'
    r.clientVersion = version
    chunk = `@@RESULT ${JSON.stringify(r)}\n`
  }
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
}) as typeof process.stdout.write

await import('./kafkajs.js')
