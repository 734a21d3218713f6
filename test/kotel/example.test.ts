// The runnable example (examples/kotel-trace-trees.ts) against the shared broker: it completes, and the
// trees it prints are the two modes' shapes, line for line once durations and trace ids are masked.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kotelTraceTrees } from '../../examples/kotel-trace-trees.js'
import { broker } from '../client/helpers.js'

const mask = (s: string) => s.replace(/ \d+\.\d ms/g, ' N ms').replace(/\([0-9a-f]{8}…\)/g, '(…)')

test('the kotel trace-trees example prints both modes: one trace in default mode, new traces linked upstream in link mode', { timeout: 120_000 }, async () => {
  const k = await broker({})
  const trees = await kotelTraceTrees({ seedBrokers: k.bootstrapServers, records: 2 })
  assert.equal(
    mask(trees.default),
    [
      'trace 1 (…)',
      '└─ checkout [INTERNAL] N ms',
      '   ├─ send orders @0 [PRODUCER] N ms',
      '   │  └─ receive orders @0 [CLIENT] N ms',
      '   │     └─ process orders @0 [CONSUMER] N ms',
      '   └─ send orders @1 [PRODUCER] N ms',
      '      └─ receive orders @1 [CLIENT] N ms',
      '         └─ process orders @1 [CONSUMER] N ms',
    ].join('\n'),
  )
  assert.equal(
    mask(trees.link),
    [
      'trace 1 (…)',
      '└─ checkout [INTERNAL] N ms',
      '   ├─ send orders @0 [PRODUCER] N ms',
      '   └─ send orders @1 [PRODUCER] N ms',
      '',
      'trace 2 (…)',
      '└─ receive orders @0 [CLIENT] N ms  ⇢ send orders @0',
      '',
      'trace 3 (…)',
      '└─ receive orders @1 [CLIENT] N ms  ⇢ send orders @1',
      '',
      'trace 4 (…)',
      '└─ process orders @0 [CONSUMER] N ms  ⇢ receive orders @0, send orders @0',
      '',
      'trace 5 (…)',
      '└─ process orders @1 [CONSUMER] N ms  ⇢ receive orders @1, send orders @1',
    ].join('\n'),
  )
  const lines = trees.sideBySide.split('\n')
  assert.match(lines[0]!, /^default mode \(linkSpans: false\) +link mode \(linkSpans: true\)$/)
})
