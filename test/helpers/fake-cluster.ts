// Two scripted fake brokers (node ids 1 and 2) sharing one view of a cluster with one topic: Metadata
// is answered from `leaders` and `epoch`, every other request goes to `answer`. For tests of where a
// partition's requests go when its leader moves.
import { Metadata, newMetadataResponseMetadataResponsePartition, newMetadataResponseMetadataResponseTopic, type MetadataRequest } from '../../src/protocol/messages/metadata.js'
import { FakePeer, type Received } from './fake-peer.js'

/** FakeCluster is two fake brokers; metadata names `leaders` (partition → node; -1 for none) in leader epoch `epoch`. */
export class FakeCluster {
  peers: FakePeer[] = []
  leaders = [1, 2]
  epoch = 1
  /** metadataLoads counts the Metadata requests both brokers answered. */
  metadataLoads = 0
  answer: (node: number, req: Received, peer: FakePeer) => void = () => {}

  constructor(
    readonly topic: string,
    readonly topicId = 'AAAAAAAAAAAAAAAAAAAAAQ',
  ) {}

  async start(): Promise<this> {
    for (const node of [1, 2]) {
      this.peers.push(await FakePeer.start((req, peer) => this.#onRequest(node, req, peer)))
    }
    return this
  }

  /** endpoint is node `node` as brokers list it (Metadata's brokers, KIP-951's node endpoints). */
  endpoint(node: number): { nodeId: number; host: string; port: number; rack: string | null } {
    return { nodeId: node, host: '127.0.0.1', port: this.peers[node - 1]!.port, rack: null }
  }

  /** asked returns the requests of one API that node `node` received, in order. */
  asked<T>(node: number, api: { key: number }): T[] {
    return this.peers[node - 1]!.requests().filter((r) => r.api.key === api.key).map((r) => r.body as T)
  }

  #onRequest(node: number, req: Received, peer: FakePeer): void {
    if (req.api.key !== Metadata.key) return this.answer(node, req, peer)
    this.metadataLoads++
    const body = req.body as MetadataRequest
    const partitions = this.leaders.map((leaderId, partitionIndex) => ({ ...newMetadataResponseMetadataResponsePartition(), partitionIndex, leaderId, leaderEpoch: this.epoch, replicaNodes: [1, 2], isrNodes: [1, 2] }))
    const topics = (body.topics ?? [{ name: this.topic }]).map((t) => ({ ...newMetadataResponseMetadataResponseTopic(), name: t.name, topicId: this.topicId, partitions: t.name === this.topic ? partitions : [], errorCode: t.name === this.topic ? 0 : 3 }))
    const brokers = this.peers.map((_, i) => this.endpoint(i + 1))
    peer.respond(req, { ...Metadata.newResponse(), brokers, controllerId: 1, clusterId: 'fake', topics })
  }
}
