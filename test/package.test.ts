// The built package as users get it: `npm run build` into a temporary folder, `npm pack` of that, the
// tarball unpacked into a fresh project's node_modules, then loaded from child processes with `import`
// and with `require()` (require of ESM, on by default since Node 20.19), and type-checked by tsc the
// way a TypeScript user's project would resolve it; its source maps checked; and the tarball installed
// with `npm install` into a folder of its own, where `npx kafka-wire demo` runs against the test broker.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { TRACE_TREES_PACKAGES } from '../src/cli/demo.js'
import { broker } from './client/helpers.js'

const run = promisify(execFile)
const repo = join(import.meta.dirname, '..')
const tmp = mkdtempSync(join(tmpdir(), 'kafka-wire-package-'))
const built = join(tmp, 'built') // package.json + dist, as `npm pack` sees the repo after a build
const app = join(tmp, 'app') // a user's project
const installed = join(app, 'node_modules', 'kafka-wire')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

after(() => rmSync(tmp, { recursive: true, force: true }))

before(async () => {
  mkdirSync(built, { recursive: true })
  // The build script itself, run in a copy of the repository's package (package.json, tsconfigs, src,
  // README, CHANGELOG) so the working tree's dist/ is left alone and the source maps' relative paths
  // are the ones a real build writes.
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'CHANGELOG.md']) if (existsSync(join(repo, f))) cpSync(join(repo, f), join(built, f))
  cpSync(join(repo, 'src'), join(built, 'src'), { recursive: true })
  symlinkSync(join(repo, 'node_modules'), join(built, 'node_modules'), 'dir')
  try {
    await run(npm, ['run', 'build'], { cwd: built, maxBuffer: 64 << 20 })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(`npm run build failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim())
  }
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', tmp], { cwd: built })
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
  packedFiles = packed!.files.map((f) => f.path)
  tarball = packed!.filename
  mkdirSync(installed, { recursive: true })
  await run('tar', ['-xzf', join(tmp, packed!.filename), '-C', installed, '--strip-components=1'])
  // The package's own dependencies (crc-32, snappy, lz4-napi, zstd) come from the repo's install.
  symlinkSync(join(repo, 'node_modules'), join(installed, 'node_modules'), 'dir')
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
}, { timeout: 600_000 })

let packedFiles: string[] = []
let tarball = ''

async function node(args: string[]): Promise<{ out: unknown; stderr: string }> {
  const { stdout, stderr } = await run(process.execPath, args, { cwd: app, env: { ...process.env, NODE_OPTIONS: '' } })
  return { out: JSON.parse(stdout.trim().split('\n').at(-1)!), stderr }
}

const describe = `({
  Client: typeof m.Client,
  BrokerConnection: typeof m.BrokerConnection,
  apis: Array.isArray(p.apis) ? p.apis.length : typeof p.apis,
  Produce: p.Produce?.name,
  startKafka: typeof t.startKafka,
})`
const expected = { Client: 'function', BrokerConnection: 'function', apis: 'many', Produce: 'Produce', startKafka: 'function' }
const normalize = (o: any) => ({ ...o, apis: typeof o.apis === 'number' && o.apis > 50 ? 'many' : o.apis })

test('npm pack ships the compiled JavaScript and its .d.ts declarations for every entry point', () => {
  for (const entry of ['index', 'protocol/index', 'admin/index', 'kotel/index', 'testing/index']) {
    assert.ok(packedFiles.includes(`dist/${entry}.js`), `dist/${entry}.js is packed`)
    assert.ok(packedFiles.includes(`dist/${entry}.d.ts`), `dist/${entry}.d.ts is packed`)
  }
  assert.ok(!packedFiles.some((f) => f.startsWith('test/')), 'tests stay out of the tarball')
  const dts = readFileSync(join(installed, 'dist/index.d.ts'), 'utf8')
  assert.match(dts, /\bClient\b/)
  assert.match(readFileSync(join(installed, 'dist/client/connection.d.ts'), 'utf8'), /declare class BrokerConnection/)
})

test('import(): kafka-wire, kafka-wire/protocol and kafka-wire/testing load as ES modules', async () => {
  const { out } = await node([
    '--input-type=module',
    '-e',
    `const m = await import('kafka-wire'); const p = await import('kafka-wire/protocol'); const t = await import('kafka-wire/testing');
     console.log(JSON.stringify(${describe}))`,
  ])
  assert.deepEqual(normalize(out), expected)
})

test('require(): the same entry points load from CommonJS (require of ESM, Node >= 20.19), as the same module instances', async (t) => {
  const { out, stderr } = await node([
    '-e',
    `const m = require('kafka-wire'); const p = require('kafka-wire/protocol'); const t = require('kafka-wire/testing');
     import('kafka-wire').then((esm) => console.log(JSON.stringify({ ...${describe}, requireModule: process.features.require_module, same: esm === m })))`,
  ])
  assert.deepEqual(normalize(out), { ...expected, requireModule: true, same: true })
  // Node 20 may warn that require(esm) is experimental; anything else on stderr is a problem.
  const lines = stderr.split('\n').filter((l) => l.trim())
  for (const l of lines) t.diagnostic(`stderr: ${l}`)
  const other = lines.filter((l) => !/ExperimentalWarning|--trace-warnings/.test(l))
  assert.deepEqual(other, [])
})

// A user's program importing every subpath package.json exports, as each of TypeScript's module
// resolution modes finds them: node16/nodenext and bundler through `exports`, node10 (no `exports`)
// through `typesVersions` and `types`. The subpaths come from package.json, so one added there and
// missing from typesVersions fails here.
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; typesVersions: { '*': Record<string, string[]> }; devDependencies: Record<string, string> }
const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'kafka-wire' : `kafka-wire/${k.slice(2)}`))

test('typesVersions lists every subpath of exports (moduleResolution node10 reads only typesVersions)', () => {
  const listed = Object.keys(pkg.typesVersions['*']).map((k) => `kafka-wire/${k}`)
  assert.deepEqual([...listed].sort(), subpaths.filter((s) => s !== 'kafka-wire').sort())
})

const program = `import { Client, BrokerConnection, type ClientOptions } from 'kafka-wire'
import { apis, Produce, type ApiMessage } from 'kafka-wire/protocol'
import { startKafka, type KafkaCluster } from 'kafka-wire/testing'
import { Admin } from 'kafka-wire/admin'
import { Kotel, Tracer } from 'kafka-wire/kotel'
import { Kafka, logLevel } from 'kafka-wire/kafkajs'
${subpaths.map((s, i) => `import * as ns${i} from '${s}'`).join('\n')}
type IsAny<T> = 0 extends 1 & T ? true : false
// Each subpath's namespace is a real module type, not \`any\` from a declaration that did not resolve.
const notAny: [${subpaths.map(() => 'false').join(', ')}] = [${subpaths.map((_, i) => `false as IsAny<typeof ns${i}>`).join(', ')}]
const options: ClientOptions = { seedBrokers: ['127.0.0.1:9092'] }
const api: ApiMessage = apis[0]!
const key: number = Produce.key
const start: () => Promise<KafkaCluster> = startKafka
const kafka = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING })
const tracer: Tracer = new Tracer()
// @ts-expect-error: the declarations are real types, not any
const wrong: string = Produce.key
export { Client, BrokerConnection, Admin, Kotel, kafka, tracer, notAny, options, api, key, start, wrong }
`

const modes: Array<{ name: string; file: string; compilerOptions: Record<string, unknown> }> = [
  { name: 'nodenext', file: 'check-nodenext.mts', compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } },
  { name: 'node16', file: 'check-node16.mts', compilerOptions: { module: 'Node16', moduleResolution: 'Node16' } },
  { name: 'bundler', file: 'check-bundler.ts', compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler' } },
  { name: 'node10', file: 'check-node10.ts', compilerOptions: { module: 'CommonJS', moduleResolution: 'node10', esModuleInterop: true, ignoreDeprecations: '5.0' } },
]

test(`TypeScript type-checks a program importing every subpath (${subpaths.join(', ')}) under moduleResolution ${modes.map((m) => m.name).join(', ')}`, async () => {
  const failures = await Promise.all(
    modes.map(async (m) => {
      writeFileSync(join(app, m.file), program)
      const config = `tsconfig.${m.name}.json`
      writeFileSync(join(app, config), JSON.stringify({ compilerOptions: { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(repo, 'node_modules/@types')], ...m.compilerOptions }, files: [m.file] }))
      try {
        await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: app })
        return null
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string }
        return `moduleResolution ${m.name}:\n${e.stdout ?? ''}${e.stderr ?? ''}`
      }
    }),
  )
  assert.deepEqual(failures.filter((f) => f !== null), [], "tsc could not type-check a user's import of the package")
})

test('every sourceMappingURL in the package names a source map the package contains', () => {
  const js = packedFiles.filter((f) => f.endsWith('.js'))
  assert.ok(js.length > 50, `${js.length} JavaScript files packed`)
  const missing: string[] = []
  for (const f of js) {
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(installed, f), 'utf8'))?.[1]
    if (url === undefined) {
      missing.push(`${f}: no sourceMappingURL`)
      continue
    }
    const target = join(installed, f, '..', url).slice(installed.length + 1).split('\\').join('/')
    if (!packedFiles.includes(target)) missing.push(`${f} -> ${url}`)
  }
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} JavaScript files name a source map outside the package`)
})

test('every source map in the package points at files the package contains', () => {
  const maps = packedFiles.filter((f) => f.endsWith('.js.map'))
  assert.ok(maps.length > 50, `${maps.length} source maps packed`)
  const missing: string[] = []
  for (const m of maps) {
    const map = JSON.parse(readFileSync(join(installed, m), 'utf8')) as { sources: string[]; sourceRoot?: string }
    for (const s of map.sources) {
      const target = join(installed, m, '..', map.sourceRoot ?? '', s)
      const rel = target.slice(installed.length + 1).split('\\').join('/')
      if (!packedFiles.includes(rel)) missing.push(`${m} -> ${s}`)
    }
  }
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} source map entries point outside the package`)
})

// `npx kafka-wire demo` as a user runs it: the tarball installed with npm into a fresh folder (its
// dependencies from the npm cache; --prefer-offline asks the registry only for what the cache lacks),
// against the test broker (-b) so that it starts none. Without the OpenTelemetry SDK the demo prints
// the command that installs it; with it, the trace trees: the default mode's one trace, and link
// mode's producer trace with a consumer trace per record linked to it.
test('npx kafka-wire demo, from the tarball installed with npm, prints the install line without OpenTelemetry and both trace trees with it', { timeout: 240_000 }, async (t) => {
  const bootstrap = process.env.KAFKA_BOOTSTRAP ?? (await broker({})).bootstrapServers.join(',')
  const dir = join(tmp, 'demo-app')
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'demo-app', private: true }))
  const env = { ...process.env, NODE_OPTIONS: '' }
  const npmInstall = (specs: string[]) => run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs], { cwd: dir, env })
  const demo = async () => {
    const started = performance.now()
    try {
      const { stdout } = await run('npx', ['--no', 'kafka-wire', 'demo', '-b', bootstrap, '-n', '100'], { cwd: dir, env, maxBuffer: 16 << 20 })
      t.diagnostic(`demo ran in ${((performance.now() - started) / 1000).toFixed(1)} s`)
      return stdout
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string }
      assert.fail(`npx kafka-wire demo exited with ${e.code}:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    }
  }
  let started = performance.now()
  await npmInstall([join(tmp, tarball)])
  t.diagnostic(`npm install of the tarball: ${((performance.now() - started) / 1000).toFixed(1)} s`)

  const bare = await demo()
  assert.match(bare, /^throughput: produced 100 records/m)
  assert.match(bare, new RegExp(`trace trees: skipped — .*\`npm install ${TRACE_TREES_PACKAGES.join(' ')}\``))

  // The SDK packages the demo names, at the versions this repository tests with (so the npm cache has them).
  const specs = TRACE_TREES_PACKAGES.map((p) => p.replace(/@\d+$/, '')).map((name) => `${name}@${pkg.devDependencies[name]}`)
  started = performance.now()
  await npmInstall(specs)
  t.diagnostic(`npm install ${specs.join(' ')}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
  const out = (await demo()).replace(/ \d+\.\d ms/g, ' N ms').replace(/\([0-9a-f]{8}…\)/g, '(…)')
  assert.match(out, /^throughput: produced 100 records/m)
  assert.match(out, /default mode \(linkSpans: false\) +link mode \(linkSpans: true\)/)
  // Default mode: the receive and process spans are children of the send span, in the producer's trace.
  assert.match(out, /├─ send orders @0 \[PRODUCER\] N ms +├─ send orders @0 \[PRODUCER\] N ms\n *│  └─ receive orders @0 \[CLIENT\] N ms/)
  assert.match(out, /│     └─ process orders @0 \[CONSUMER\] N ms/)
  // Link mode: the producer's trace holds only the sends; each record's consumer trace links to its send.
  assert.match(out, /trace 2 \(…\)\n.*└─ receive orders @0 \[CLIENT\] N ms  ⇢ send orders @0\n.*└─ process orders @0 \[CONSUMER\] N ms  ⇢ send orders @0/)
  assert.match(out, /trace 3 \(…\)\n.*└─ receive orders @1 \[CLIENT\] N ms  ⇢ send orders @1/)
  assert.doesNotMatch(out, /skipped/)
})
