// kafka-wire/kotel: OpenTelemetry tracing and metrics for kafka-wire clients, after franz-go's kotel.
// It needs the optional peer dependency @opentelemetry/api; the core package never imports this module.

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
