// The built package as users get it: `npm run build` into a temporary folder, `npm pack` of that, the
// tarball unpacked into a fresh project's node_modules, then loaded from child processes with `import`
// and with `require()` (require of ESM, on by default since Node 20.19), and type-checked by tsc the
// way a TypeScript user's project would resolve it.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'

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
  mkdirSync(installed, { recursive: true })
  await run('tar', ['-xzf', join(tmp, packed!.filename), '-C', installed, '--strip-components=1'])
  // The package's own dependencies (crc-32, snappy, lz4-napi, zstd) come from the repo's install.
  symlinkSync(join(repo, 'node_modules'), join(installed, 'node_modules'), 'dir')
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
}, { timeout: 600_000 })

let packedFiles: string[] = []

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

test('TypeScript resolves the declarations through package.json exports (module NodeNext)', async () => {
  writeFileSync(
    join(app, 'check.mts'),
    `import { Client, BrokerConnection, type ClientOptions } from 'kafka-wire'
import { apis, Produce, type ApiMessage } from 'kafka-wire/protocol'
import { startKafka, type KafkaCluster } from 'kafka-wire/testing'
const options: ClientOptions = { seedBrokers: ['127.0.0.1:9092'] }
const api: ApiMessage = apis[0]!
const key: number = Produce.key
const start: () => Promise<KafkaCluster> = startKafka
// @ts-expect-error: the declarations are real types, not any
const wrong: string = Produce.key
export { Client, BrokerConnection, options, api, key, start, wrong }
`,
  )
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(repo, 'node_modules/@types')] }, files: ['check.mts'] }))
  try {
    await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string }
    assert.fail(`tsc could not type-check a user's import of the package:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
})

test('TypeScript resolves every subpath\'s declarations under moduleResolution node10 too (typesVersions)', async () => {
  writeFileSync(
    join(app, 'check10.ts'),
    `import { Client, type ClientOptions } from 'kafka-wire'
import { Produce } from 'kafka-wire/protocol'
import { Admin } from 'kafka-wire/admin'
import { startKafka } from 'kafka-wire/testing'
import { Kotel } from 'kafka-wire/kotel'
const options: ClientOptions = { seedBrokers: ['127.0.0.1:9092'] }
const key: number = Produce.key
// @ts-expect-error: the declarations are real types, not any
const wrong: string = Produce.key
export { Client, Admin, startKafka, Kotel, options, key, wrong }
`,
  )
  writeFileSync(join(app, 'tsconfig.node10.json'), JSON.stringify({ compilerOptions: { module: 'CommonJS', moduleResolution: 'node10', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, types: ['node'], typeRoots: [join(repo, 'node_modules/@types')], ignoreDeprecations: '5.0' }, files: ['check10.ts'] }))
  try {
    await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.node10.json'], { cwd: app })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string }
    assert.fail(`tsc (moduleResolution node10) could not type-check a user's import of the package:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
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
