// Declaration compatibility with KafkaJS: the typed programs of test/kafkajs/types/ are compiled twice,
// once with `kafkajs` resolving to kafkajs@2.2.4 (its types/index.d.ts) and once with `kafkajs`
// mapped to kafka-wire/kafkajs (src/kafkajs/index.ts), and both must compile without an error. A
// program with a mistake in it must fail both ways, so the check cannot pass by checking nothing.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'

const root = resolve(import.meta.dirname, '../..')
const corpusDir = join(root, 'test/kafkajs/types')
const corpus = readdirSync(corpusDir).filter((f) => f.endsWith('.ts')).map((f) => join(corpusDir, f))

const base: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  typeRoots: [join(root, 'node_modules/@types')],
}

type Target = 'kafkajs@2.2.4' | 'kafka-wire/kafkajs'

/** compile type-checks files with `kafkajs` resolved as the target says and returns the errors. */
function compile(files: string[], target: Target): string[] {
  const options: ts.CompilerOptions = { ...base, baseUrl: root }
  if (target === 'kafka-wire/kafkajs') options.paths = { kafkajs: ['src/kafkajs/index.ts'] }
  const program = ts.createProgram(files, options)
  // Which declarations `kafkajs` resolved to, so a mapping that silently fell back is caught.
  const resolved = program.getSourceFiles().map((f) => f.fileName)
  const expected = target === 'kafkajs@2.2.4' ? 'node_modules/kafkajs/types/index.d.ts' : 'src/kafkajs/index.ts'
  assert.ok(resolved.some((f) => f.endsWith(expected)), `${target}: kafkajs resolved to ${expected}`)
  if (target === 'kafka-wire/kafkajs') assert.ok(!resolved.some((f) => f.includes('node_modules/kafkajs/')), 'kafka-wire/kafkajs: kafkajs@2.2.4 stays out of the program')
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName.slice(root.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : ''
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

test('the corpus of typed KafkaJS programs', () => {
  assert.ok(corpus.length >= 3, `corpus files: ${corpus.length}`)
})

/** exportsOf lists the names a module exports (values and types), as the checker sees them. */
function exportsOf(file: string): Set<string> {
  const program = ts.createProgram([file], { ...base })
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  assert.ok(source !== undefined, file)
  return new Set(checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((s) => s.name))
}

test('kafka-wire/kafkajs exports every name kafkajs@2.2.4 declares', () => {
  // The names KafkaJS's declarations export explicitly (its file's unexported helpers, such as XOR or
  // ValueOf, are importable from a .d.ts too, but are not its API).
  const dts = readFileSync(join(root, 'node_modules/kafkajs/types/index.d.ts'), 'utf8')
  const theirs = new Set([...dts.matchAll(/^export (?:declare )?(?:class|type|interface|enum|const|var|function) (\w+)/gm)].map((m) => m[1]!))
  const ours = exportsOf(join(root, 'src/kafkajs/index.ts'))
  assert.ok(theirs.size >= 160, `kafkajs@2.2.4 declares ${theirs.size} names`)
  assert.deepEqual([...theirs].filter((n) => !ours.has(n)), [])
})

for (const target of ['kafkajs@2.2.4', 'kafka-wire/kafkajs'] as const) {
  test(`the typed KafkaJS programs compile against ${target}`, () => {
    assert.deepEqual(compile(corpus, target), [])
  })
}

test('a program with type mistakes fails against both', () => {
  // Inside the repository, so that `kafkajs` resolves from its node_modules.
  const dir = mkdtempSync(join(corpusDir, '..', '.types-scratch-'))
  try {
    const bad = join(dir, 'bad.ts')
    writeFileSync(
      bad,
      [
        "import { Kafka, CompressionTypes } from 'kafkajs'",
        "const kafka = new Kafka({ brokers: ['b:9092'] })",
        'export async function f() {',
        '  const p = kafka.producer()',
        "  await p.send({ topic: 1, messages: [{ value: 'x' }] })", // topic must be a string
        "  await p.send({ topic: 't', messages: [{ value: 'x' }], compression: 'gzip' })", // compression is an enum
        "  kafka.consumer({ groupid: 'g' })", // groupId is required
        '  const c = kafka.consumer({ groupId: "g" })',
        "  await c.run({ eachMessage: async ({ message }) => { const n: number = message.offset } })", // offsets are strings
        '  return CompressionTypes.Brotli', // no such codec
        '}',
      ].join('\n'),
    )
    for (const target of ['kafkajs@2.2.4', 'kafka-wire/kafkajs'] as const) {
      const errors = compile([bad], target)
      const lines = new Set(errors.map((e) => Number(/bad\.ts:(\d+)/.exec(e)?.[1])))
      assert.deepEqual([...lines].sort((a, b) => a - b), [5, 6, 7, 9, 10], `${target}: ${errors.join('\n')}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
