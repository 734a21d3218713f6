import type { BrokerMetadata } from '../hooks/index.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { KafkaProtocolError } from '../protocol/errors.js'
import { ZERO_UUID } from '../protocol/reader.js'
import { MAX_TIMER_MS } from './wake-timer.js'

/** PartitionInfo is what the client knows of one partition from the last metadata load. */
export interface PartitionInfo {
  partition: number
  /** leader is the leader's node id, -1 when there is none. */
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offline: number[]
  /** errorCode is the partition's error in the last load (e.g. LEADER_NOT_AVAILABLE), 0 if none. */
  errorCode: number
}

/** TopicInfo is what the client knows of one topic from the last metadata load. */
export interface TopicInfo {
  name: string
  /** id is the topic's Uuid in base64url form (zero when the broker did not send one). */
  id: string
  isInternal: boolean
  partitions: PartitionInfo[]
  /** errorCode is the topic's error in the last load (e.g. UNKNOWN_TOPIC_OR_PARTITION), 0 if none. */
  errorCode: number
  /** loadedAt is when this entry was loaded (Date.now()). */
  loadedAt: number
}

/** ClusterMetadata is one metadata snapshot: brokers, topics, controller and cluster id. */
export interface ClusterMetadata {
  brokers: Map<number, BrokerMetadata>
  topics: Map<string, TopicInfo>
  controllerId: number
  clusterId: string | null
  loadedAt: number
}

/**
 * LeaderMove is a partition's new leader as a broker named it when it answered NOT_LEADER_OR_FOLLOWER
 * or FENCED_LEADER_EPOCH (KIP-951: produce v10+, fetch v16+), ahead of any metadata load.
 */
export interface LeaderMove {
  topic: string
  partition: number
  leader: number
  leaderEpoch: number
}

/**
 * MAX_EPOCH_REWINDS is how many loads in a row may name an older leader epoch for a partition than
 * the client knows before the client believes them (franz-go's maxEpochRewinds): a broker behind on
 * metadata is not believed, a cluster that really went back (an unclean election) is, in the end.
 */
const MAX_EPOCH_REWINDS = 5

/** GONE are the topic errors of a load that say the topic is not there (deleted, or not created yet). */
const GONE = new Set<number>([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_ID])

/**
 * topicDeletedError is what records and polls of a topic the client took as deleted are told
 * (considerMissingTopicDeletedAfter): UNKNOWN_TOPIC_OR_PARTITION, naming the topic and the wait.
 */
export function topicDeletedError(topic: string, after: number): KafkaProtocolError {
  return new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic, errorMessage: `topic ${topic} was deleted: metadata has lacked it for ${after} ms (considerMissingTopicDeletedAfter)` })
}

/**
 * MetadataLoader loads metadata for some topics (all topics when `topics` is null) from the cluster.
 * The client gives the cache one that sends a Metadata request to any live broker.
 */
export type MetadataLoader = (topics: string[] | null) => Promise<ClusterMetadata>

/**
 * MetadataCache keeps the latest metadata and refreshes it: on age (`maxAge`), and on demand after
 * errors such as NOT_LEADER_OR_FOLLOWER, never more often than once per `minAge` so that a burst of
 * errors cannot storm the cluster. Concurrent refresh requests share one load.
 */
export class MetadataCache {
  brokers: Map<number, BrokerMetadata> = new Map()
  topics: Map<string, TopicInfo> = new Map()
  controllerId = -1
  clusterId: string | null = null
  /** lastLoad is when the last load finished (0 before the first). */
  lastLoad = 0
  #names = new Map<string, string>()

  #loader: MetadataLoader
  #minAge: number
  #maxAge: number
  #interest = new Set<string>()
  #allTopics = false
  #inflight: Promise<void> | null = null
  #again = false
  #urgent = false
  #timer: NodeJS.Timeout | null = null
  #ageTimer: NodeJS.Timeout | null = null
  #waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
  #closed = false
  #onUpdate: Array<(m: MetadataCache) => void> = []
  #onMove: Array<(moves: LeaderMove[]) => void> = []
  /** rewinds counts, per partition (topic NUL partition), the loads in a row that named an older leader epoch. */
  #rewinds = new Map<string, number>()
  #onError: (err: Error) => void
  #hold: () => void
  #release: () => void
  #holding = false
  /** failures counts loads in a row that failed; failedAt is when the last one did. */
  #failures = 0
  #failedAt = 0
  /** known holds the topics a load has had without error; missingSince, of those, when loads began to lack them. */
  #known = new Set<string>()
  #missingSince = new Map<string, number>()
  #deleteAfter: number
  #deleteTimer: NodeJS.Timeout | null = null
  #onDelete: Array<(topics: string[]) => void> = []

  constructor(loader: MetadataLoader, opts: { minAge: number; maxAge: number; deleteAfter?: number; onError?: (err: Error) => void; hold?: () => void; release?: () => void }) {
    this.#loader = loader
    this.#minAge = opts.minAge
    this.#maxAge = opts.maxAge
    this.#deleteAfter = opts.deleteAfter ?? Infinity
    this.#onError = opts.onError ?? (() => {})
    this.#hold = opts.hold ?? (() => {})
    this.#release = opts.release ?? (() => {})
  }

  /** failures is the number of loads in a row that failed (0 after a load that worked). */
  get failures(): number {
    return this.#failures
  }

  /** #held holds the event loop while someone waits for a load, and releases it once nobody does. */
  #held(): void {
    const want = this.#waiters.length > 0
    if (want === this.#holding) return
    this.#holding = want
    if (want) this.#hold()
    else this.#release()
  }

  /** interest adds topics to every future load. */
  interest(topics: Iterable<string>): void {
    for (const t of topics) this.#interest.add(t)
  }

  /** forget removes topics from future loads (and stops watching whether they were deleted). */
  forget(topics: Iterable<string>): void {
    for (const t of topics) {
      this.#interest.delete(t)
      this.#known.delete(t)
      this.#missingSince.delete(t)
    }
  }

  /** interestAll makes loads ask for every topic (regex consuming). */
  interestAll(on: boolean): void {
    this.#allTopics = on
  }

  /** topicName returns the name of the topic with a Uuid (base64url), or undefined when unknown. */
  topicName(id: string): string | undefined {
    return this.#names.get(id)
  }

  /** onUpdate registers a callback run after every successful load. */
  onUpdate(fn: (m: MetadataCache) => void): void {
    this.#onUpdate.push(fn)
  }

  /**
   * onDelete registers a callback told of the topics a load found deleted (see #judgeMissing), run
   * before that load's onUpdate callbacks.
   */
  onDelete(fn: (topics: string[]) => void): void {
    this.#onDelete.push(fn)
  }

  /** onMove registers a callback run after moveLeaders applied moves. */
  onMove(fn: (moves: LeaderMove[]) => void): void {
    this.#onMove.push(fn)
  }

  /**
   * moveLeaders applies leaders that brokers named in their answers (KIP-951) before a load says so,
   * and adds or replaces the brokers the answer listed (no other broker is dropped). A move applies
   * over an older leader epoch, or the same epoch naming another leader (as franz-go's), and only to
   * a leader the client can reach; the onMove callbacks get the moves applied. It returns the moves
   * the metadata now follows (applied now, or known already): the others are left to a load.
   */
  moveLeaders(moves: readonly LeaderMove[], brokers: ReadonlyArray<Readonly<BrokerMetadata>>): LeaderMove[] {
    if (this.#closed || moves.length === 0) return []
    let known = this.brokers
    for (const b of brokers) {
      const had = known.get(b.nodeId)
      if (had !== undefined && had.host === b.host && had.port === b.port && had.rack === b.rack) continue
      if (known === this.brokers) known = new Map(known)
      // A copy: the answer's struct carries wire fields that hooks must not see.
      known.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })
    }
    const applied: LeaderMove[] = []
    const followed: LeaderMove[] = []
    let topics = this.topics
    for (const m of moves) {
      const t = topics.get(m.topic)
      const p = t?.partitions[m.partition]
      if (t === undefined || p === undefined || p.partition !== m.partition || !known.has(m.leader)) continue
      if (p.leaderEpoch > m.leaderEpoch || (p.leaderEpoch === m.leaderEpoch && p.leader === m.leader)) {
        if (p.leader === m.leader) followed.push(m)
        continue
      }
      const partitions = t.partitions.slice()
      partitions[m.partition] = { ...p, leader: m.leader, leaderEpoch: m.leaderEpoch, errorCode: 0 }
      if (topics === this.topics) topics = new Map(topics)
      topics.set(m.topic, { ...t, partitions })
      this.#rewinds.delete(`${m.topic}\u0000${m.partition}`)
      applied.push(m)
      followed.push(m)
    }
    if (applied.length === 0) return followed
    this.brokers = known
    this.topics = topics
    for (const fn of this.#onMove) fn(applied)
    return followed
  }

  /**
   * refresh asks for a load and resolves when one that started after this call has finished.
   * `urgent` skips the min-age wait (first load, explicit calls); triggered refreshes after errors
   * are not urgent.
   */
  refresh(urgent = false): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('client closed'))
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
      this.#held()
      this.#schedule(urgent)
    })
  }

  /** trigger asks for a refresh and does not wait for it (after a leader error, for example). */
  trigger(): void {
    if (this.#closed) return
    this.#schedule(false)
  }

  #schedule(urgent: boolean): void {
    if (urgent) this.#urgent = true
    if (this.#inflight !== null) {
      // A load in flight may have been built before this call's topics were of interest: load again.
      this.#again = true
      return
    }
    // After failed loads, the next waits a backoff (up to minAge) even when urgent, so that a cluster
    // that cannot be reached, or refuses this client, is not asked again and again in a tight loop.
    const backoff = this.#failures === 0 ? 0 : Math.max(0, this.#failedAt + Math.min(this.#minAge, 250 * 2 ** Math.min(this.#failures - 1, 4)) - Date.now())
    const wait = Math.max(backoff, this.#urgent ? 0 : Math.max(0, this.lastLoad + this.#minAge - Date.now()))
    if (wait === 0) {
      if (this.#timer !== null) {
        clearTimeout(this.#timer)
        this.#timer = null
      }
      this.#load()
      return
    }
    if (this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null
        this.#load()
      }, wait)
      // Waiters hold the event loop themselves (#held); a refresh nobody awaits does not.
      this.#timer.unref()
    }
  }

  #load(): void {
    const waiters = this.#waiters
    this.#waiters = []
    this.#again = false
    this.#urgent = false
    const topics = this.#allTopics ? null : [...this.#interest]
    this.#inflight = this.#loader(topics).then(
      (m) => {
        this.#failures = 0
        this.#apply(m, topics)
        for (const w of waiters) w.resolve()
      },
      (err: Error) => {
        this.#failures++
        this.#failedAt = Date.now()
        this.#onError(err)
        for (const w of waiters) w.reject(err)
      },
    ).finally(() => {
      this.#inflight = null
      this.#held()
      if (this.#closed) return
      if (this.#again || this.#waiters.length > 0) this.#schedule(false)
      this.#armAgeTimer()
    })
  }

  #apply(m: ClusterMetadata, asked: string[] | null): void {
    this.brokers = m.brokers
    this.controllerId = m.controllerId
    this.clusterId = m.clusterId
    this.lastLoad = m.loadedAt
    const kept = this.#keepNewerEpochs(m.topics, m.brokers)
    const loaded = kept ?? m.topics
    if (kept !== null) this.trigger()
    if (asked === null) {
      this.topics = loaded
    } else {
      const next = new Map(this.topics)
      for (const [name, t] of loaded) next.set(name, t)
      // Topics we asked for and the broker did not mention are gone.
      for (const name of asked) if (!m.topics.has(name)) next.delete(name)
      this.topics = next
    }
    this.#names = new Map([...this.topics.values()].map((t) => [t.id, t.name]))
    const deleted = this.#judgeMissing(m.topics, asked)
    if (deleted.length > 0) for (const fn of this.#onDelete) fn(deleted)
    for (const fn of this.#onUpdate) fn(this)
  }

  /**
   * judgeMissing returns the topics this load finds deleted (franz-go's ConsiderMissingTopicDeletedAfter):
   * topics an earlier load had without error that loads have lacked (left out of an answer that
   * was to name them, or answered UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID) since a load at
   * least `deleteAfter` ms ago. A topic is judged by the loads that ask for it (or for all topics);
   * one that comes back before its time is up starts over. A deleted topic is no longer known: made
   * again, it is a new topic, and taken as deleted only once a load has had it.
   */
  #judgeMissing(loaded: ReadonlyMap<string, TopicInfo>, asked: string[] | null): string[] {
    const now = Date.now()
    const deleted: string[] = []
    for (const name of asked ?? [...this.#known]) {
      if (!this.#known.has(name)) continue
      const t = loaded.get(name)
      if (t !== undefined && !GONE.has(t.errorCode)) {
        this.#missingSince.delete(name)
        continue
      }
      const since = this.#missingSince.get(name) ?? now
      if (now - since >= this.#deleteAfter) {
        this.#known.delete(name)
        this.#missingSince.delete(name)
        deleted.push(name)
      } else this.#missingSince.set(name, since)
    }
    for (const [name, t] of loaded) if (t.errorCode === 0) this.#known.add(name)
    this.#armDeleteTimer()
    return deleted
  }

  /**
   * armDeleteTimer asks for a load when the first missing topic's time is up, so that a deletion is
   * noticed then even when nothing else loads metadata.
   */
  #armDeleteTimer(): void {
    if (this.#deleteTimer !== null) clearTimeout(this.#deleteTimer)
    this.#deleteTimer = null
    let at = Infinity
    for (const [name, since] of this.#missingSince) {
      if (this.#allTopics || this.#interest.has(name)) at = Math.min(at, since + this.#deleteAfter)
    }
    if (!Number.isFinite(at)) return
    // Capped at Node's longest timer (a longer one would fire at once); waking early only loads metadata.
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now()))
    this.#deleteTimer = setTimeout(() => {
      this.#deleteTimer = null
      this.trigger()
    }, wait)
    this.#deleteTimer.unref()
  }

  /**
   * keepNewerEpochs keeps what the client knows of a partition when a load names an older leader
   * epoch for it (the broker asked is behind, or a leader move learned from an answer is newer than
   * the load), up to MAX_EPOCH_REWINDS loads in a row, as franz-go does, while the load still lists
   * the leader the client knows. It returns the loaded topics with those partitions kept, or null
   * when it kept none.
   */
  #keepNewerEpochs(loaded: ReadonlyMap<string, TopicInfo>, brokers: ReadonlyMap<number, BrokerMetadata>): Map<string, TopicInfo> | null {
    let out: Map<string, TopicInfo> | null = null
    for (const [name, t] of loaded) {
      const held = this.topics.get(name)
      if (held === undefined || (held.id !== t.id && held.id !== ZERO_UUID && t.id !== ZERO_UUID)) continue
      let partitions: PartitionInfo[] | null = null
      for (let i = 0; i < t.partitions.length; i++) {
        const p = t.partitions[i]!
        const h = held.partitions[i]
        const key = `${name}\u0000${p.partition}`
        if (h === undefined || h.partition !== p.partition || p.leaderEpoch < 0 || h.leaderEpoch <= p.leaderEpoch || !brokers.has(h.leader)) {
          this.#rewinds.delete(key)
          continue
        }
        const n = (this.#rewinds.get(key) ?? 0) + 1
        if (n > MAX_EPOCH_REWINDS) {
          this.#rewinds.delete(key)
          continue
        }
        this.#rewinds.set(key, n)
        partitions ??= t.partitions.slice()
        partitions[i] = h
      }
      if (partitions === null) continue
      out ??= new Map(loaded)
      out.set(name, { ...t, partitions })
    }
    return out
  }

  #armAgeTimer(): void {
    if (this.#ageTimer !== null) clearTimeout(this.#ageTimer)
    this.#ageTimer = setTimeout(() => {
      this.#ageTimer = null
      this.trigger()
    }, this.#maxAge)
    this.#ageTimer.unref()
  }

  /** close stops timers; pending refreshes fail. */
  close(): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    if (this.#ageTimer !== null) clearTimeout(this.#ageTimer)
    if (this.#deleteTimer !== null) clearTimeout(this.#deleteTimer)
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.reject(new Error('client closed'))
    this.#held()
  }
}
