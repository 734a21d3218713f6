// Symbols shared between kotel's modules and never exported from the package: the Kotel that holds a
// tracer and a meter connects them, so that a metric and the span it describes share one pair of
// timestamps (the conventions ask for a duration metric equal to its span's duration).

/** LINK_METER is the Tracer method that takes the Meter it reports durations to. */
export const LINK_METER = Symbol('kotel.linkMeter')
/** TIMED_BY_TRACER is the Meter method that tells it a tracer now times sends, polls and processing. */
export const TIMED_BY_TRACER = Symbol('kotel.timedByTracer')
/** RECORD_SEND, RECORD_POLL and RECORD_PROCESS are the Meter methods a linked tracer calls. */
export const RECORD_SEND = Symbol('kotel.recordSend')
export const RECORD_POLL = Symbol('kotel.recordPoll')
export const RECORD_PROCESS = Symbol('kotel.recordProcess')
