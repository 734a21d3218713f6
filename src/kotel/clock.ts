// kotel's clock: the OpenTelemetry SDK's own, so that kotel's spans and the application's nest.
//
// The SDK times a span from two readings taken when it starts: the wall clock (`Date.now()`, whole
// milliseconds) and the monotonic clock (`performance.now()`). The span starts at that wall-clock
// millisecond and every later time of the span (its end, its events) is that start plus the monotonic
// time elapsed since. Each span therefore carries its own "anchor" between the two clocks.
//
// Timing kotel's spans from `performance.timeOrigin + performance.now()` instead, as kotel once did,
// puts them on a third clock: the monotonic clock drifts away from the wall clock as a process runs
// (milliseconds after hours), and it has no millisecond floor. A send span then ended after the
// application span that awaited it, and the application's spans started before the process span that
// ran them.
//
// Here every kotel span gets an anchor:
// - inside a live local parent whose anchor can be read (an SDK span the application started with the
//   SDK's own clock, or a span of kotel's), the parent's anchor: the child's times are the parent's
//   clock, so a span its parent awaited ends no later than the parent, exactly;
// - otherwise a fresh anchor read as the SDK reads one (wall clock, then monotonic clock).
// A span that runs application code (a process span) with a fresh anchor also ends no earlier than the
// wall clock says (an upper bound kept from the readings kotel takes anyway): the SDK anchors each of the
// application's spans at its own wall-clock millisecond, so one that started after a millisecond tick
// would otherwise overhang the end of the span that ran it by up to a millisecond.
import type { HrTime, Span } from '@opentelemetry/api'

/**
 * Anchor ties the monotonic clock to the wall clock for one span: at monotonic reading `perf` the wall
 * clock read `base`. A time of the span is `base + (reading - perf)`, computed as the SDK computes it.
 */
export interface Anchor {
  readonly base: HrTime
  readonly perf: number
}

const NS_PER_S = 1e9

/** toHrTime splits milliseconds into [seconds, nanoseconds] as the SDK's millisToHrTime does. */
function toHrTime(ms: number): HrTime {
  return [Math.trunc(ms / 1000), Math.round((ms % 1000) * 1e6)]
}

/** addHrTimes adds two times as the SDK does, also normalising negative nanoseconds. */
function addHrTimes(a: HrTime, b: HrTime): HrTime {
  let s = a[0] + b[0]
  let ns = a[1] + b[1]
  if (ns >= NS_PER_S) {
    ns -= NS_PER_S
    s += 1
  } else if (ns < 0) {
    ns += NS_PER_S
    s -= 1
  }
  return [s, ns]
}

/** at is the time of monotonic reading `perf` on an anchor's clock. */
export function at(anchor: Anchor, perf: number): HrTime {
  return addHrTimes(anchor.base, toHrTime(perf - anchor.perf))
}

/** compareHrTime orders two times. */
export function compareHrTime(a: HrTime, b: HrTime): number {
  return a[0] - b[0] || a[1] - b[1]
}

/** hrDurationMs is `end - start` in milliseconds. */
export function hrDurationMs(start: HrTime, end: HrTime): number {
  return (end[0] - start[0]) * 1000 + (end[1] - start[1]) / 1e6
}

// ------------------------------------------------------------------------------- the wall clock's bound

// upper bounds (wall clock − monotonic clock), in milliseconds after EPOCH, from above, as of monotonic
// reading upperPerf. Every pair of readings kotel takes tightens it: a wall clock that reads n
// milliseconds is below n + 1, so wall − monotonic < n + 1 − (a monotonic reading taken before it). The
// two clocks drift apart slowly; DRIFT widens an old bound by the most they are expected to move apart
// per millisecond (NTP slews a clock by at most 500 ppm; 100 ppm covers an ordinary machine's
// corrections). A wall clock stepped forward (a reading above the bound) starts the bound afresh.
// Numbers are kept relative to EPOCH, a whole millisecond, so that they stay small and exact.
const EPOCH = Date.now()
const EPOCH_HR = toHrTime(EPOCH)
let upper = Infinity
let upperPerf = 0
const DRIFT = 1e-4

/** note takes one reading of the wall clock between two of the monotonic clock into the bound. */
function note(before: number, wall: number, after: number): void {
  const w = wall - EPOCH
  const bound = w + 1 - before
  const limit = upper + DRIFT * Math.abs(before - upperPerf)
  // w - after is a lower bound of the same difference: above the upper one, the wall clock jumped.
  if (bound <= limit || w - after > limit) {
    upper = bound
    upperPerf = before
  }
}

/** freshAnchor reads the two clocks as the SDK does for a new span: the wall clock, then the monotonic clock. */
export function freshAnchor(): Anchor {
  const before = performance.now()
  const wall = Date.now()
  const perf = performance.now()
  note(before, wall, perf)
  return { base: toHrTime(wall), perf }
}

/**
 * wallUpperBound returns a time no earlier than the wall clock's at any monotonic reading from `since`
 * to `perf` (both taken already), and at most about a millisecond later, usually much less: the
 * tightest bound the readings taken so far give, widened for drift.
 */
export function wallUpperBound(since: number, perf: number): HrTime {
  const before = performance.now()
  const wall = Date.now()
  note(before, wall, performance.now())
  const drift = DRIFT * Math.max(Math.abs(perf - upperPerf), Math.abs(since - upperPerf))
  return addHrTimes(EPOCH_HR, toHrTime(perf + upper + drift))
}

// ------------------------------------------------------------------------------ anchors of known spans

// Anchors of spans kotel started: kotel passes their times explicitly, so the SDK's own readings on
// those span objects do not describe their clock.
const kotelAnchors = new WeakMap<object, Anchor>()

/** rememberAnchor records the anchor of a span kotel started, for spans started inside it. */
export function rememberAnchor(span: Span, anchor: Anchor): void {
  kotelAnchors.set(span, anchor)
}

/** ownAnchor is the anchor of a span kotel started (running or ended). */
export function ownAnchor(span: Span): Anchor | undefined {
  return kotelAnchors.get(span)
}

// What the SDK keeps on its span objects (sdk-trace-base 1.x and 2.x, sdk-trace 2.x and 3.x): the
// wall-clock start and the monotonic reading it was anchored at, and whether the caller chose the start
// time (then the SDK ends the span at Date.now(), on no anchor at all).
interface SdkSpanClock {
  readonly startTime?: unknown
  readonly _performanceStartTime?: unknown
  readonly _startTimeProvided?: unknown
}

/**
 * anchorOf returns the clock of a span that is still running here, when it can be known: kotel's own
 * spans, and the SDK's spans started on its default clock. A span that has ended, comes from another
 * process, or is of another implementation has none (undefined).
 */
export function anchorOf(span: Span | undefined): Anchor | undefined {
  if (span === undefined || !span.isRecording()) return undefined
  const mine = kotelAnchors.get(span)
  if (mine !== undefined) return mine
  const s = span as unknown as SdkSpanClock
  if (s._startTimeProvided !== false) return undefined
  const start = s.startTime
  const perf = s._performanceStartTime
  if (!Array.isArray(start) || start.length !== 2 || typeof start[0] !== 'number' || typeof start[1] !== 'number' || typeof perf !== 'number' || !Number.isFinite(perf)) {
    return undefined
  }
  return { base: [start[0], start[1]], perf }
}
