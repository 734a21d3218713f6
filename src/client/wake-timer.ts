/**
 * MAX_TIMER_MS is the longest delay a Node timer takes (about 24.8 days): setTimeout fires almost at
 * once for anything larger, so a longer wait is either capped at it or means no timer at all.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * WakeTimer calls its `wake` function once, at the earliest of the times asked for since it last
 * fired: a producer sink waiting for a batch to finish lingering, a fetch source waiting out a
 * backoff. It does not hold the process (what waits on it holds it, if anything).
 */
export class WakeTimer {
  #timer: NodeJS.Timeout | null = null
  #at = Infinity
  readonly #wake: () => void

  constructor(wake: () => void) {
    this.#wake = wake
  }

  /** at asks for a wake at `at` (Date.now() milliseconds; Infinity asks nothing); an earlier one asked for already stands. */
  at(at: number): void {
    if (at === Infinity) return
    if (this.#timer !== null) {
      if (this.#at <= at) return
      clearTimeout(this.#timer)
    }
    this.#at = at
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#at = Infinity
      this.#wake()
    }, Math.max(0, at - Date.now()))
    this.#timer.unref()
  }

  /** stop cancels the wake asked for, if any. */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#at = Infinity
  }
}
