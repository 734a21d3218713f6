/**
 * gen-protocol generates src/protocol/messages/ from Apache Kafka's official message specs
 * (`common/message/*.json` in the kafka-clients jar of the pinned KAFKA_VERSION): one file per API key
 * with its request and response in every valid version, one file per other spec (headers, consumer
 * protocol, control records), and index.ts with the API table.
 *
 *   npm run gen:protocol                 regenerate into src/protocol/messages
 *   npm run gen:protocol -- --out DIR    write somewhere else (the drift test uses this)
 *   npm run gen:protocol -- --jar PATH   read the specs from a given jar instead of resolving one
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import JSON5 from 'json5'
import { KAFKA_VERSION } from '../src/testing/kafka-version.js'
import { HEADER, emitApiFile, emitDataFile, kebab } from './gen/emit.js'
import { resolveKafkaClientsJar } from '../src/testing/maven.js'
import { resolveKafkaClientsSourcesJar } from './gen/maven.js'
import { buildMessage, type MessageModel } from './gen/model.js'
import { readZip } from './gen/zip.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** DEFAULT_OUT is where the generated files are committed. */
export const DEFAULT_OUT = join(ROOT, 'src', 'protocol', 'messages')

const SPEC_DIR = 'common/message/'

/** readSpecs returns every `common/message/*.json` of a jar as file name → text. */
export function readSpecs(jar: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const e of readZip(jar)) {
    if (e.name.startsWith(SPEC_DIR) && e.name.endsWith('.json') && !e.name.slice(SPEC_DIR.length).includes('/')) {
      out.set(e.name.slice(SPEC_DIR.length), e.read().toString('utf8'))
    }
  }
  return out
}

/** loadSpecs resolves the kafka-clients jar (or its sources jar when the main jar lacks the specs). */
export async function loadSpecs(version: string, jar?: string): Promise<Map<string, string>> {
  if (jar !== undefined) return readSpecs(jar)
  let specs = readSpecs(await resolveKafkaClientsJar(version))
  if (specs.size === 0) specs = readSpecs(resolveKafkaClientsSourcesJar(version))
  if (specs.size === 0) throw new Error(`kafka-clients ${version} holds no ${SPEC_DIR}*.json, in its jar or its sources jar`)
  return specs
}

/** HEADER_SPECS go to headers.ts; every other non-API spec gets a file of its own. */
const HEADER_SPECS = ['RequestHeader', 'ResponseHeader']

/** generate renders every output file: file name → contents. */
export function generate(specs: Map<string, string>, kafkaVersion: string): Map<string, string> {
  const messages: MessageModel[] = []
  for (const file of [...specs.keys()].sort()) {
    let raw: unknown
    try {
      raw = JSON5.parse(specs.get(file)!)
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`)
    }
    try {
      messages.push(buildMessage(raw as Parameters<typeof buildMessage>[0]))
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`)
    }
  }
  const files = new Map<string, string>()
  const requests = new Map<number, MessageModel>()
  const responses = new Map<number, MessageModel>()
  const data: MessageModel[] = []
  for (const m of messages) {
    if (m.specType === 'request') requests.set(m.apiKey!, m)
    else if (m.specType === 'response') responses.set(m.apiKey!, m)
    else data.push(m)
  }
  const apis: { key: number; name: string; file: string }[] = []
  for (const [key, req] of [...requests].sort((a, b) => a[0] - b[0])) {
    const res = responses.get(key)
    if (res === undefined) throw new Error(`API key ${key} has a request spec but no response spec`)
    if (!req.specName.endsWith('Request') || res.specName !== `${req.specName.slice(0, -'Request'.length)}Response`) {
      throw new Error(`API key ${key}: unexpected spec names ${req.specName} / ${res.specName}`)
    }
    // APIs removed from Kafka (validVersions "none", e.g. LeaderAndIsr in 4.0) have nothing to encode.
    if (req.valid === null) continue
    const name = req.specName.slice(0, -'Request'.length)
    const file = `${kebab(name)}.ts`
    files.set(file, emitApiFile(kafkaVersion, name, req, res))
    apis.push({ key, name, file })
  }
  for (const key of responses.keys()) if (!requests.has(key)) throw new Error(`API key ${key} has a response spec but no request spec`)

  const headers = data.filter((m) => HEADER_SPECS.includes(m.specName)).sort((a, b) => a.specName.localeCompare(b.specName))
  const dataFiles: string[] = []
  if (headers.length > 0) {
    files.set('headers.ts', emitDataFile(kafkaVersion, headers))
    dataFiles.push('headers.ts')
  }
  for (const m of data.filter((x) => !HEADER_SPECS.includes(x.specName) && x.valid !== null).sort((a, b) => a.specName.localeCompare(b.specName))) {
    const file = `${kebab(m.specName)}.ts`
    if (files.has(file)) throw new Error(`two specs map to ${file}`)
    files.set(file, emitDataFile(kafkaVersion, [m]))
    dataFiles.push(file)
  }
  checkUniqueExports(files)
  files.set('api-key.ts', emitApiKeys(kafkaVersion, apis))
  files.set('index.ts', emitIndex(kafkaVersion, apis, dataFiles))
  return files
}

/** checkUniqueExports fails when two generated files export the same name (index.ts re-exports them all). */
function checkUniqueExports(files: Map<string, string>): void {
  const owner = new Map<string, string>()
  for (const [file, text] of files) {
    const names = new Set<string>()
    for (const m of text.matchAll(/^export (?:interface|const|function) ([A-Za-z0-9_]+)/gm)) names.add(m[1]!)
    for (const n of names) {
      const other = owner.get(n)
      if (other !== undefined) throw new Error(`${file} and ${other} both export ${n}`)
      owner.set(n, file)
    }
  }
}

function emitIndex(kafkaVersion: string, apis: { key: number; name: string; file: string }[], dataFiles: string[]): string {
  const lines = [HEADER(kafkaVersion), '', "import type { ApiMessage } from './api.js'"]
  for (const a of [...apis].sort((x, y) => x.file.localeCompare(y.file))) lines.push(`import { ${a.name} } from './${a.file.replace(/\.ts$/, '.js')}'`)
  lines.push('', "export * from './api.js'")
  const all = [...apis.map((a) => a.file), ...dataFiles, 'api-key.ts'].sort()
  for (const f of all) lines.push(`export * from './${f.replace(/\.ts$/, '.js')}'`)
  lines.push('', `/** apis is every API of Kafka ${kafkaVersion} that has versions, sorted by key. */`)
  lines.push('export const apis: readonly ApiMessage[] = [')
  for (const a of apis) lines.push(`  ${a.name},`)
  lines.push(']', '')
  lines.push('const byKey: (ApiMessage | undefined)[] = []')
  lines.push('for (const api of apis) byKey[api.key] = api')
  lines.push('')
  lines.push('/** apiByKey returns the API with the given key, or undefined for a key kafka-wire does not know. */')
  lines.push('export function apiByKey(key: number): ApiMessage | undefined {')
  lines.push('  return byKey[key]')
  lines.push('}')
  return `${lines.join('\n')}\n`
}

/**
 * emitApiKeys writes api-key.ts: the API keys by name, apart from index.ts so that code needing only a
 * key (the client's connection, router and facade) does not load every API's codec.
 */
function emitApiKeys(kafkaVersion: string, apis: { key: number; name: string }[]): string {
  const lines = [HEADER(kafkaVersion), '']
  lines.push(`/** ApiKey holds every API key of Kafka ${kafkaVersion} by its name, so code says \`ApiKey.Produce\` instead of a bare 0. */`)
  lines.push('export const ApiKey = {')
  for (const a of apis) lines.push(`  ${a.name}: ${a.key},`)
  lines.push('} as const', '')
  lines.push('/** ApiKeyName is the name of any API key, such as \'Produce\'. */')
  lines.push('export type ApiKeyName = keyof typeof ApiKey')
  return `${lines.join('\n')}\n`
}

/**
 * writeFiles writes the generated files into `out` and removes generated files that are no longer
 * produced (hand-written files such as api.ts do not start with the generated header and are kept).
 */
export function writeFiles(out: string, files: Map<string, string>, kafkaVersion: string): void {
  mkdirSync(out, { recursive: true })
  const prefix = HEADER(kafkaVersion).split(' from Kafka ')[0]!
  for (const name of readdirSync(out)) {
    if (!name.endsWith('.ts') || files.has(name)) continue
    const path = join(out, name)
    if (readFileSync(path, 'utf8').startsWith(prefix)) rmSync(path)
  }
  for (const [name, text] of files) {
    const path = join(out, name)
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue
    writeFileSync(path, text)
  }
}

async function main(argv: string[]): Promise<void> {
  let out = DEFAULT_OUT
  let jar: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--out') out = resolve(argv[++i] ?? '')
    else if (a === '--jar') jar = resolve(argv[++i] ?? '')
    else throw new Error(`unknown argument ${a}`)
  }
  const started = performance.now()
  const specs = await loadSpecs(KAFKA_VERSION, jar)
  const loaded = performance.now()
  const files = generate(specs, KAFKA_VERSION)
  writeFiles(out, files, KAFKA_VERSION)
  const done = performance.now()
  const apiCount = (files.get('index.ts')!.match(/^ {2}[A-Za-z]+,$/gm) ?? []).length
  console.log(
    `gen-protocol: Kafka ${KAFKA_VERSION}: ${specs.size} specs → ${files.size} files (${apiCount} APIs) in ${out} ` +
      `(specs ${(loaded - started).toFixed(0)} ms, generate+write ${(done - loaded).toFixed(0)} ms)`,
  )
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(`gen-protocol: ${err.message}`)
    process.exit(1)
  })
}
