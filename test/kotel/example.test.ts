// The trace trees of `kafka-wire demo` and examples/kotel-trace-trees.ts (src/cli/trace-trees.ts) against
// the shared broker: the run completes, and the trees are the three shapes', line for line once
// durations and trace ids are masked.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kotelTraceTrees } from '../../src/cli/trace-trees.js'
import { broker } from '../client/helpers.js'
import { LINK_MODE_TREES, maskTrees } from './helpers.js'

test('the kotel trace-trees example prints each mode: one trace in default mode, a trace per record in link mode, a trace per span in franz-go\'s link shape', { timeout: 180_000 }, async () => {
  const k = await broker({})
  const trees = await kotelTraceTrees({ seedBrokers: k.bootstrapServers, records: 2 })
  assert.equal(
    maskTrees(trees.default),
    [
      'trace 1 (…)',
      '└─ checkout [INTERNAL] N ms',
      '   ├─ send orders @0 [PRODUCER] N ms',
      '   │  └─ receive orders @0 [CLIENT] N ms',
      '   │     └─ process orders @0 [CONSUMER] N ms',
      '   │        └─ charge card [INTERNAL] N ms',
      '   └─ send orders @1 [PRODUCER] N ms',
      '      └─ receive orders @1 [CLIENT] N ms',
      '         └─ process orders @1 [CONSUMER] N ms',
      '            └─ charge card [INTERNAL] N ms',
    ].join('\n'),
  )
  assert.equal(
    maskTrees(trees.link),
    LINK_MODE_TREES,
  )
  assert.equal(
    maskTrees(trees.linkPerSpan),
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
      '   └─ charge card [INTERNAL] N ms',
      '',
      'trace 5 (…)',
      '└─ process orders @1 [CONSUMER] N ms  ⇢ receive orders @1, send orders @1',
      '   └─ charge card [INTERNAL] N ms',
    ].join('\n'),
  )
  // The trace ids name the producer's trace and the ones holding consumer spans.
  assert.deepEqual(trees.traces.default.consumer, [trees.traces.default.producer])
  assert.equal(trees.traces.link.consumer.length, 2)
  assert.equal(trees.traces.linkPerSpan.consumer.length, 4)
  assert.ok(!trees.traces.link.consumer.includes(trees.traces.link.producer))
  const lines = trees.sideBySide.split('\n')
  assert.match(lines[0]!, /^default mode \(linkSpans: false\) +link mode \(linkSpans: true\)$/)
})
