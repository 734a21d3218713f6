/**
 * HeartbeatLoop sends a group member's heartbeats (ConsumerGroupHeartbeat, ShareGroupHeartbeat) one at
 * a time: concurrent heartbeats of one member confuse the coordinator (KAFKA-19222). Asked for one at
 * once while one is in flight, the next goes as soon as that one is answered. Membership is background
 * work: an idle member does not keep the process alive by itself.
 */
export class HeartbeatLoop {
  #timer: NodeJS.Timeout | null = null
  #inflight: Promise<void> | null = null
  #soon = false
  readonly #beat: () => Promise<number | null>
  readonly #active: () => boolean

  /**
   * `beat` sends one heartbeat and resolves with when to send the next (null: no more); it must not
   * reject. Nothing is scheduled while `active` is false (the member closing or leaving).
   */
  constructor(beat: () => Promise<number | null>, active: () => boolean) {
    this.#beat = beat
    this.#active = active
  }

  /** schedule sends the next heartbeat in `ms` milliseconds (0 while one is in flight: right after it). */
  schedule(ms: number): void {
    if (!this.#active()) return
    if (this.#inflight !== null) {
      if (ms === 0) this.#soon = true
      return
    }
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#inflight = this.#beat().then((next) => {
        this.#inflight = null
        const soon = this.#soon
        this.#soon = false
        if (next !== null) this.schedule(soon ? 0 : next)
      })
    }, ms)
    this.#timer.unref()
  }

  /** stop cancels the heartbeat scheduled and resolves once the one in flight, if any, has ended. */
  stop(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    return this.#inflight ?? Promise.resolve()
  }
}
