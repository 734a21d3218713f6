// Helpers for the Admin tests: an admin over a client that counts the requests it writes per API and
// broker (through the onBrokerWrite hook), so tests can check that a call sent one request per
// coordinator or leader and was not retried.
import { Admin } from '../../src/admin/index.js'
import type { Client } from '../../src/client/client.js'
import type { ClientOptions } from '../../src/client/options.js'
import type { BrokerMetadata } from '../../src/hooks/index.js'
import { apiByKey } from '../../src/protocol/messages/index.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { newClient } from '../client/helpers.js'

/** Writes counts the requests a client wrote: per API name, the node ids they went to. */
export class Writes {
  readonly sent: Array<{ api: string; node: number }> = []
  onBrokerWrite(meta: BrokerMetadata, key: number): void {
    this.sent.push({ api: apiByKey(key)?.name ?? String(key), node: meta.nodeId })
  }
  /** of returns the node ids of the requests of one API written since `since`. */
  of(api: string, since = 0): number[] {
    return this.sent.slice(since).filter((s) => s.api === api).map((s) => s.node)
  }
  get mark(): number {
    return this.sent.length
  }
}

/** countingAdmin returns an admin over a new client of the cluster whose writes are counted. */
export function countingAdmin(k: KafkaCluster, opts: Partial<ClientOptions<Client>> = {}): { admin: Admin; writes: Writes; client: Client } {
  const writes = new Writes()
  const client = newClient(k, { hooks: [writes], ...opts })
  return { admin: new Admin(client), writes, client }
}
