import {
  createTraceState,
  diag,
  isSpanContextValid,
  propagation,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api'

const TRACEPARENT = 'traceparent'
const TRACESTATE = 'tracestate'

// version-traceid-parentid-flags, lowercase hex only (W3C Trace Context, section 3.2). Later versions
// may append fields after a dash, version 00 may not. One space either side is tolerated, as
// @opentelemetry/core's propagator does, so both read the same headers the same way.
const TRACEPARENT_RE = /^\s?([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?\s?$/

/**
 * W3CTraceContextPropagator writes and reads the W3C `traceparent` and `tracestate` headers. kotel
 * falls back to it when no global propagator is registered, so that traces connect across Kafka with
 * no setup (franz-go #624 is what happens without one). It is kotel's own rather than
 * @opentelemetry/core's, whose release lines each pin a narrow range of @opentelemetry/api versions.
 */
export class W3CTraceContextPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(ctx)
    if (sc === undefined || !isSpanContextValid(sc)) return
    const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0')
    setter.set(carrier, TRACEPARENT, `00-${sc.traceId}-${sc.spanId}-${flags}`)
    const state = sc.traceState?.serialize()
    if (state) setter.set(carrier, TRACESTATE, state)
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const sc = parseTraceparent(first(getter.get(carrier, TRACEPARENT)))
    if (sc === undefined) return ctx
    const state = first(getter.get(carrier, TRACESTATE))
    if (state) sc.traceState = createTraceState(state)
    return trace.setSpanContext(ctx, sc)
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE]
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/** parseTraceparent reads a `traceparent` value; undefined when it is missing or invalid. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (typeof value !== 'string') return undefined
  const m = TRACEPARENT_RE.exec(value)
  if (m === null) return undefined
  const [, version, traceId, spanId, flags, rest] = m
  if (version === 'ff') return undefined
  if (version === '00' && rest !== undefined) return undefined
  const sc: SpanContext = { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16), isRemote: true }
  // All-zero ids are invalid; isSpanContextValid checks both.
  return isSpanContextValid(sc) ? sc : undefined
}

/** builtinPropagator is the one W3C propagator kotel falls back to. */
export const builtinPropagator = new W3CTraceContextPropagator()

let warned = false

/**
 * PropagatorChoice holds a tracer's propagator option: a propagator, null for none, or undefined for
 * "the global one if set, else W3C".
 */
export class PropagatorChoice {
  readonly #explicit: TextMapPropagator | null | undefined
  readonly #disabledByEnv: boolean

  constructor(explicit: TextMapPropagator | null | undefined, env: string | undefined = process.env.OTEL_PROPAGATORS) {
    this.#explicit = explicit
    this.#disabledByEnv = env !== undefined && env.trim().toLowerCase() === 'none'
  }

  /**
   * current returns the propagator to use now. It is decided per call because applications often set
   * up the OpenTelemetry SDK after building their Kafka client: the explicit option, else nothing when
   * OTEL_PROPAGATORS=none, else the global propagator when one is registered (the API's default
   * global is a no-op that lists no fields), else the built-in W3C one.
   */
  current(): TextMapPropagator | null {
    if (this.#explicit !== undefined) return this.#explicit
    if (this.#disabledByEnv) return null
    if (propagation.fields().length > 0) return propagation
    if (!warned) {
      warned = true
      diag.warn('kafka-wire/kotel: no global propagator is registered; using W3C trace context (traceparent, tracestate) on record headers')
    }
    return builtinPropagator
  }
}
