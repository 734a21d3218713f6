// kafka-wire/kotel: OpenTelemetry tracing and metrics for kafka-wire clients, after franz-go's kotel.
// It needs the optional peer dependency @opentelemetry/api (1.9 or later); the core package never
// imports this module.
//
//   const kotel = new Kotel({ tracer: new Tracer(), meter: new Meter() })
//   const client = new Client({ seedBrokers, hooks: kotel.hooks() })
//   for (const record of (await client.pollFetches()).records()) {
//     await kotel.tracer!.process(record, () => handle(record))
//   }
//
// Where it parts from the OpenTelemetry messaging conventions (v1.44), on purpose:
// - receive spans are per record and start when a fetched record enters the client's buffer, as
//   franz-go's kotel does; the conventions say receive spans MUST NOT be made for prefetched records.
//   `receiveSpans: false` turns them off, and `pollSpans: true` adds the conventions' poll span;
// - the send span replaces a `traceparent` (or whatever the propagator writes) already in the headers,
//   where the conventions say a creation context set by the user SHOULD NOT be modified: a record that
//   is consumed and produced again never carries two;
// - the default flavour is 'new' even without OTEL_SEMCONV_STABILITY_OPT_IN: kotel for Node has no
//   older output to stay compatible with;
// - byte counters use the UCUM unit `By` where franz-go's kotel writes `by`.
// A poll that returns no records leaves no poll span and no poll duration: no hook marks its end.
//
// Spans are timed on the OpenTelemetry SDK's clock (clock.ts), so that they nest with the application's;
// docs/kotel.md shows the trace shapes (default, linkSpans with a trace per record, and franz-go's trace
// per span with `linkedTraces: 'span'`) as a tracing backend draws them.

export { Kotel } from './kotel.js'
export type { KotelOptions } from './kotel.js'
export { Tracer } from './tracer.js'
export type { TracerOptions, ProcessSpan, ProcessSpanOptions } from './tracer.js'
export { Meter } from './meter.js'
export type { MeterOptions } from './meter.js'
export { RecordCarrier } from './carrier.js'
export { W3CTraceContextPropagator } from './propagator.js'
export type { SemconvFlavour } from './semconv.js'
export { SCOPE_NAME, VERSION } from './version.js'
