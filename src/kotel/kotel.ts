import type { Hook } from '../hooks/index.js'
import type { Meter } from './meter.js'
import { LINK_METER, TIMED_BY_TRACER } from './symbols.js'
import type { Tracer } from './tracer.js'

/** KotelOptions name the parts of a Kotel; either may be left out. */
export interface KotelOptions {
  tracer?: Tracer
  meter?: Meter
}

/**
 * Kotel bundles a Tracer and a Meter for a client (franz-go's kotel.Kotel):
 *
 * ```ts
 * const kotel = new Kotel({ tracer: new Tracer(), meter: new Meter() })
 * const client = new Client({ seedBrokers, hooks: kotel.hooks() })
 * ```
 *
 * With both, the tracer times sends, polls and processing once and the meter records those same
 * durations, so each duration metric equals its span's duration.
 */
export class Kotel {
  readonly tracer: Tracer | undefined
  readonly meter: Meter | undefined

  constructor(opts: KotelOptions = {}) {
    this.tracer = opts.tracer ?? undefined
    this.meter = opts.meter ?? undefined
    if (this.tracer !== undefined && this.meter !== undefined) {
      this.tracer[LINK_METER](this.meter)
      this.meter[TIMED_BY_TRACER]()
    }
  }

  /** hooks returns the hooks to give the client's `hooks` option: the tracer, then the meter, each when present. */
  hooks(): Hook[] {
    const out: Hook[] = []
    if (this.tracer !== undefined) out.push(this.tracer as Hook)
    if (this.meter !== undefined) out.push(this.meter as Hook)
    return out
  }
}
