import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEFAULT_OUT, generate, loadSpecs, writeFiles } from '../../scripts/gen-protocol.js'
import { HEADER } from '../../scripts/gen/emit.js'
import { KAFKA_VERSION } from '../../src/testing/kafka-version.js'

// No skip: when the kafka-clients jar cannot be resolved (no Maven, no network, no cache) this fails and
// says why, so a drifted src/protocol/messages can never pass unnoticed.
test(`the generator reproduces src/protocol/messages byte for byte from Kafka ${KAFKA_VERSION}`, async (t) => {
  let specs: Map<string, string>
  try {
    specs = await loadSpecs(KAFKA_VERSION)
  } catch (err) {
    assert.fail(`cannot resolve the kafka-clients ${KAFKA_VERSION} jar to regenerate the protocol: ${(err as Error).message}`)
  }
  const started = performance.now()
  const files = generate(specs, KAFKA_VERSION)
  t.diagnostic(`generated ${files.size} files from ${specs.size} specs in ${(performance.now() - started).toFixed(0)} ms`)

  const dir = mkdtempSync(join(tmpdir(), 'kafka-wire-gen-'))
  try {
    writeFiles(dir, files, KAFKA_VERSION)
    const generated = readdirSync(dir).sort()
    const prefix = HEADER(KAFKA_VERSION).split(' from Kafka ')[0]!
    const committed = readdirSync(DEFAULT_OUT)
      .filter((f) => f.endsWith('.ts') && readFileSync(join(DEFAULT_OUT, f), 'utf8').startsWith(prefix))
      .sort()
    assert.deepStrictEqual(committed, generated, 'the set of generated files differs: run `npm run gen:protocol`')
    const drifted = generated.filter((f) => !readFileSync(join(dir, f)).equals(readFileSync(join(DEFAULT_OUT, f))))
    assert.deepStrictEqual(drifted, [], 'committed generated files differ from the generator output: run `npm run gen:protocol`')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the generator is deterministic', async () => {
  const specs = await loadSpecs(KAFKA_VERSION)
  const a = generate(specs, KAFKA_VERSION)
  // Feed the specs in reverse order: the output must not depend on it.
  const b = generate(new Map([...specs].reverse()), KAFKA_VERSION)
  assert.deepStrictEqual([...a.keys()].sort(), [...b.keys()].sort())
  for (const [name, text] of a) assert.equal(b.get(name), text, name)
})

test('every generated file starts with the generated header and holds no spec prose', () => {
  const header = HEADER(KAFKA_VERSION)
  for (const f of readdirSync(DEFAULT_OUT)) {
    if (f === 'api.ts') continue
    const text = readFileSync(join(DEFAULT_OUT, f), 'utf8')
    assert.ok(text.startsWith(`${header}\n`), `${f} lacks the generated header`)
    assert.ok(!/\babout\b/i.test(text), `${f} mentions "about"`)
  }
})
