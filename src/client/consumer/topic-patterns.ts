import type { TopicInfo } from '../metadata.js'

/**
 * TopicPatterns decides which topics regex consuming (consumeRegex) takes, for direct consuming and
 * both group protocols alike: a topic is taken when one of the include patterns (consumeTopics, and
 * what addConsumeTopics adds) is found in its name and none of the exclude patterns
 * (consumeExcludeTopics) is. Patterns are searched for (RegExp.test), as franz-go's MatchString does.
 * A topic's verdict is kept until the patterns change, as franz-go evaluates each topic once.
 */
export class TopicPatterns {
  readonly #include: RegExp[] = []
  readonly #sources = new Set<string>()
  readonly #exclude: RegExp[]
  #verdicts = new Map<string, boolean>()

  /** The patterns were checked when the options were resolved (addConsumeTopics' throw here). */
  constructor(include: Iterable<string>, exclude: Iterable<string>) {
    this.#exclude = [...exclude].map((e) => new RegExp(e))
    this.add(include)
  }

  /** excludes is true when consumeExcludeTopics is set. */
  get excludes(): boolean {
    return this.#exclude.length > 0
  }

  /** empty is true while there is no include pattern (nothing is consumed). */
  get empty(): boolean {
    return this.#include.length === 0
  }

  /** add adds include patterns (those already there are skipped). */
  add(patterns: Iterable<string>): void {
    // Every pattern compiles before any is added: an invalid one throws and adds nothing.
    const fresh = [...new Set(patterns)].filter((p) => !this.#sources.has(p)).map((p) => [p, new RegExp(p)] as const)
    if (fresh.length === 0) return
    for (const [p, re] of fresh) {
      this.#include.push(re)
      this.#sources.add(p)
    }
    // A topic not matched so far may match a new pattern.
    this.#verdicts.clear()
  }

  /** matches is true when `topic` is consumed: an include pattern matches it and no exclude pattern does. */
  matches(topic: string): boolean {
    let v = this.#verdicts.get(topic)
    if (v === undefined) {
      v = this.#include.some((r) => r.test(topic)) && !this.#exclude.some((r) => r.test(topic))
      this.#verdicts.set(topic, v)
    }
    return v
  }

  /**
   * matching lists, sorted, the topics of `topics` (metadata's) that are consumed. Internal topics
   * are left out: a pattern that happens to match __consumer_offsets does not consume it.
   */
  matching(topics: ReadonlyMap<string, TopicInfo>): string[] {
    const out: string[] = []
    for (const [name, info] of topics) if (!info.isInternal && this.matches(name)) out.push(name)
    return out.sort()
  }
}
