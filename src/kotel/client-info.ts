import type { Client } from '../client/client.js'
import type { BrokerMetadata } from '../hooks/index.js'

/**
 * ClientInfo is what a tracer or meter learns about the client it is plugged into (through
 * onNewClient): its client id and consumer group, the cluster id, and the broker a partition's records
 * were last fetched from. An option given by hand always wins. When one tracer serves several clients
 * whose ids or groups differ, the filled-in value would be a guess, so it is left out instead.
 */
export class ClientInfo {
  readonly #clientIdOption: string | undefined
  readonly #groupOption: string | undefined
  #client: Client | undefined
  #clientId: string | undefined
  #group: string | undefined
  #clients = 0
  /** sources maps "topic\0partition" to the broker of its last fetched batch (onFetchBatchRead). */
  readonly #sources = new Map<string, BrokerMetadata>()

  constructor(clientId: string | undefined, consumerGroup: string | undefined) {
    this.#clientIdOption = clientId
    this.#groupOption = consumerGroup
  }

  /** attach is called from onNewClient. */
  attach(client: Client): void {
    const id = client.config?.clientId ?? undefined
    const group = client.config?.consumerGroup ?? client.config?.shareGroup ?? undefined
    if (this.#clients === 0) {
      this.#clientId = id
      this.#group = group
    } else {
      if (this.#clientId !== id) this.#clientId = undefined
      if (this.#group !== group) this.#group = undefined
    }
    this.#clients++
    this.#client = client
  }

  get clientId(): string | undefined {
    return this.#clientIdOption ?? this.#clientId
  }

  get consumerGroup(): string | undefined {
    return this.#groupOption ?? this.#group
  }

  /** clusterId is the cluster id from the client's last metadata, once it has loaded some. */
  get clusterId(): string | undefined {
    return this.#client?.clusterId ?? undefined
  }

  /** leader is the broker leading a partition per the client's metadata. */
  leader(topic: string, partition: number): BrokerMetadata | undefined {
    if (this.#client === undefined || partition < 0) return undefined
    return this.#client.partitionLeader(topic, partition)
  }

  /** noteFetch remembers which broker served a partition's latest batch (called from onFetchBatchRead). */
  noteFetch(meta: BrokerMetadata, topic: string, partition: number): void {
    this.#sources.set(`${topic}\u0000${partition}`, meta)
  }

  /**
   * source is the broker a partition's records were fetched from: the one noted by the fetch that
   * delivered them (a follower, with KIP-392 rack-aware fetching), else the partition's leader.
   */
  source(topic: string, partition: number): BrokerMetadata | undefined {
    return this.#sources.get(`${topic}\u0000${partition}`) ?? this.leader(topic, partition)
  }
}
