// kafka-wire/kotel's place in the package: the core never imports it or OpenTelemetry (the CLI's demo
// loads its tracing on demand), and the package exports it as its own entry point with
// @opentelemetry/api as an optional peer.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'

const repo = join(import.meta.dirname, '..', '..')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

// The CLI is the top layer: its demo draws kotel's trace trees (src/cli/trace-trees.ts), which it
// imports on demand, so the other commands and every layer below run without OpenTelemetry installed.
const ON_DEMAND = join('src', 'cli', 'trace-trees.ts')

test('no module outside src/kotel imports kotel or @opentelemetry, but the CLI demo on demand', () => {
  const offenders: string[] = []
  for (const file of sources(join(repo, 'src'))) {
    const rel = relative(repo, file)
    if (rel.startsWith(join('src', 'kotel')) || rel === ON_DEMAND) continue
    const text = readFileSync(file, 'utf8')
    const dynamicOk = rel.startsWith(join('src', 'cli'))
    for (const m of text.matchAll(/(?:from|import)\s*(\(?)\s*['"]([^'"]+)['"]/g)) {
      const spec = m[2]!
      const tracing = spec.startsWith('@opentelemetry/') || /(^|\/)kotel(\/|\.js$|$)/.test(spec) || spec === './trace-trees.js'
      if (tracing && !(dynamicOk && m[1] === '(')) offenders.push(`${rel} imports ${spec}${m[1] === '(' ? ' (on demand)' : ''}`)
    }
  }
  assert.deepEqual(offenders, [])
})

test('kotel imports only @opentelemetry/api at run time, and only type-level things from the client', () => {
  const runtime = new Set<string>()
  for (const file of sources(join(repo, 'src', 'kotel'))) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/^import\s+(type\s+)?[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      if (m[1] !== undefined) continue
      const spec = m[2]!
      if (spec.startsWith('./')) continue
      runtime.add(spec)
    }
  }
  // The hooks module holds types and small helpers (nodeName) and imports nothing from the client.
  assert.deepEqual([...runtime].sort(), ['../hooks/index.js', '@opentelemetry/api'])
})

test('package.json: a ./kotel entry with types and default, @opentelemetry/api an optional peer and a pinned dev dependency', () => {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
  assert.deepEqual(pkg.exports['./kotel'], { types: './dist/kotel/index.d.ts', default: './dist/kotel/index.js' })
  assert.match(pkg.peerDependencies['@opentelemetry/api'], /^\^1\.9\./)
  assert.deepEqual(pkg.peerDependenciesMeta['@opentelemetry/api'], { optional: true })
  assert.match(pkg.devDependencies['@opentelemetry/api'], /^1\.9\.\d+$/, 'the SDK 2.x line wants api below 1.10')
  assert.equal(pkg.dependencies['@opentelemetry/api'], undefined)
})
