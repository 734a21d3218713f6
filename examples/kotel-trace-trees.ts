// kotel's trace shapes, side by side.
//
//   npx tsx examples/kotel-trace-trees.ts            (starts a Kafka broker, or uses KAFKA_BOOTSTRAP)
//
// Prints the span trees of kotel's three modes from a real produce → consume → process run. The code
// that runs the modes and draws the trees is src/cli/trace-trees.ts, which `kafka-wire demo` runs too
// (so the installed package's demo prints the same trees); read it as the example of wiring kotel to
// the OpenTelemetry SDK.
import { kotelTraceTrees } from '../src/cli/trace-trees.js'

const trees = await kotelTraceTrees()
console.log(trees.sideBySide)
console.log(`\nlink mode with linkedTraces: 'span' (franz-go kotel's LinkSpans shape)\n\n${trees.linkPerSpan}`)
