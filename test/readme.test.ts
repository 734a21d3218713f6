// README.md is executable: every TypeScript and JavaScript code block in it runs, as pasted, against
// the test broker, each in a child process of its own with kafka-wire resolved to this checkout
// (test/helpers/self-import.mjs) and nothing created beforehand, so a block must make the topics it
// uses. Two substitutions make a pasted block point at the test cluster:
//   - the README's bootstrap address, '127.0.0.1:9092', becomes the test broker's address(es);
//   - the names the README uses for topics, groups and transactional ids (NAMES) become fresh ones per
//     block, so blocks do not see each other's records or groups.
// A block fails the test with its line in README.md when it throws, rejects, leaves its top-level
// await unsettled (node exits 13) or does not exit within BLOCK_TIMEOUT (a client left open keeps it
// alive). A block meant only as a fragment is marked in its info string (```ts fragment), which
// renderers do not show; it is counted, not run.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, test } from 'node:test'
import { broker } from './client/helpers.js'

const repo = join(import.meta.dirname, '..')
const README_ADDRESS = '127.0.0.1:9092'
const NAMES = ['orders', 'billing', 'orders-etl-1']
const BLOCK_TIMEOUT = 60_000
const EXTENSIONS: { [lang: string]: string } = { ts: '.mts', typescript: '.mts', mts: '.mts', js: '.mjs', javascript: '.mjs', mjs: '.mjs' }

/** Block is a fenced code block of the README: the line of its opening fence, its language, its code. */
interface Block {
  line: number
  lang: string
  fragment: boolean
  code: string
}

/** codeBlocks returns the README's fenced blocks whose language is TypeScript or JavaScript. */
function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!)
    if (open === null) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
    const lang = open[1]!.toLowerCase()
    if (EXTENSIONS[lang] === undefined) continue
    blocks.push({ line: start + 1, lang, fragment: open[2]!.split(/\s+/).includes('fragment'), code: body.join('\n') + '\n' })
  }
  return blocks
}

const blocks = codeBlocks(readFileSync(join(repo, 'README.md'), 'utf8'))
const dir = mkdtempSync(join(tmpdir(), 'kafka-wire-readme-'))
// Other packages a block imports (the OpenTelemetry API in the tracing blocks) resolve as in a user's
// project that installed them.
symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir')
after(() => rmSync(dir, { recursive: true, force: true }))
const ran: number[] = []

/** runBlock runs one block's program and resolves with how it ended. */
function runBlock(file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--import', import.meta.resolve('./helpers/self-import.mjs'), file], {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (b: Buffer) => (output += b.toString()))
    child.stderr.on('data', (b: Buffer) => (output += b.toString()))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, BLOCK_TIMEOUT)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output, timedOut })
    })
  })
}

for (const block of blocks) {
  const where = `README.md:${block.line}`
  test(`${where} (\`\`\`${block.lang}) runs as pasted`, { skip: block.fragment && 'marked as a fragment', timeout: BLOCK_TIMEOUT + 10_000 }, async (t) => {
    const k = await broker({})
    const suffix = randomBytes(4).toString('hex')
    const code = block.code
      .split(`'${README_ADDRESS}'`)
      .join(k.bootstrapServers.map((a) => `'${a}'`).join(', '))
      .replace(new RegExp(`'(${NAMES.join('|')})'`, 'g'), `'$1-${suffix}'`)
    const name = `readme-L${block.line}${EXTENSIONS[block.lang]}`
    const file = join(dir, name)
    writeFileSync(file, code)
    const started = performance.now()
    const r = await runBlock(file)
    t.diagnostic(`${where}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
    // Positions in the block's file are README positions: line n of the file is line block.line + n.
    const output = r.output.split(pathToFileURL(file).href).join('README.md').split(file).join('README.md').replace(/README\.md:(\d+)/g, (_, n: string) => `README.md:${block.line + Number(n)}`)
    const why = r.timedOut
      ? `did not exit within ${BLOCK_TIMEOUT / 1000} s (a client left open, a poll that never returns?)`
      : r.code === 13
        ? 'left its top-level await unsettled (exit 13)'
        : r.code !== 0
          ? `exited with ${r.code ?? r.signal}`
          : null
    if (why !== null) assert.fail(`the block at ${where} ${why}:\n${output.trim()}`)
    for (const line of output.trim().split('\n').slice(0, 20)) if (line) t.diagnostic(`  ${line}`)
    ran.push(block.line)
  })
}

// The TypeScript blocks type-check too, as a user's strict project would see them (kafka-wire's
// declarations being its sources here): a block that runs but misnames a type is still wrong.
test('every TypeScript block of README.md type-checks (strict), fragments included', { timeout: 120_000 }, async () => {
  const ts = blocks.filter((b) => EXTENSIONS[b.lang] === '.mts')
  const files = ts.map((b) => {
    const name = `check-L${b.line}.mts`
    // A block is a module of its own (its top-level names do not clash with the other blocks').
    writeFileSync(join(dir, name), `${b.code}export {}\n`)
    return name
  })
  const paths: { [k: string]: string[] } = {}
  for (const [sub, target] of Object.entries(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).exports as { [k: string]: { default?: string } })) {
    const file = target.default
    if (file?.startsWith('./dist/')) paths[`kafka-wire${sub.slice(1)}`] = [join(repo, 'src', file.slice('./dist/'.length).replace(/\.js$/, '.ts'))]
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(repo, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: '/', paths, typeRoots: [join(repo, 'node_modules/@types')] }, include: [], files }))
  const out = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (b: Buffer) => (output += b.toString()))
    child.stderr.on('data', (b: Buffer) => (output += b.toString()))
    child.on('exit', (code) => resolve({ code, output }))
  })
  // check-L27.mts(5,3) → README.md:32:3
  const output = out.output.replace(/check-L(\d+)\.mts\((\d+),(\d+)\)/g, (_, l: string, n: string, c: string) => `README.md:${Number(l) + Number(n)}:${c}`)
  assert.equal(out.code, 0, `tsc found errors in README.md's blocks:\n${output}`)
})

test('every TypeScript and JavaScript block of README.md ran, but those marked as fragments', () => {
  const fragments = blocks.filter((b) => b.fragment).length
  console.log(`# README.md: ${blocks.length} blocks, ${ran.length} ran, ${fragments} marked as fragments`)
  assert.ok(blocks.length > 0, 'README.md has code blocks')
  assert.ok(ran.length >= blocks.length - fragments, `${ran.length} of ${blocks.length - fragments} runnable blocks ran (lines ${blocks.filter((b) => !b.fragment && !ran.includes(b.line)).map((b) => b.line).join(', ')} did not)`)
})
