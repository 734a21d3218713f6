// REBOOTSTRAP_REQUIRED (KIP-1102) and updateSeedBrokers (KIP-899), against scripted fake brokers: a
// metadata answer of REBOOTSTRAP_REQUIRED makes the client forget the brokers it discovered and load
// metadata from its seeds (onRebootstrapRequired's, when it gives some), once per load, and only from
// a cluster with the id it knew.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Client, coreOf } from '../../src/client/client.js'
import { InvalidOptionError } from '../../src/client/errors.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { FakePeer, closePeers } from '../helpers/fake-peer.js'

const clients: Client[] = []
after(async () => {
  for (const c of clients) await c.close()
  closePeers()
})

/**
 * Broker is a fake broker whose metadata answers name `brokers` (node id → peer) in cluster
 * `cluster`, or carry `error` at the top level (Metadata v13's errorCode).
 */
class Broker {
  brokers: Array<[number, FakePeer]> = []
  cluster = 'one'
  error = 0
  closedConnections = 0
  /** answered runs after each metadata answer, with the error it carried. */
  answered: (error: number) => void = () => {}
  constructor(readonly peer: FakePeer) {}

  static async start(): Promise<Broker> {
    let b: Broker | undefined
    const peer = await FakePeer.start((req, p) => {
      if (req.api.key !== Metadata.key) return
      req.socket.once('close', () => b!.closedConnections++)
      p.respond(req, { ...Metadata.newResponse(), errorCode: b!.error, clusterId: b!.cluster, controllerId: -1, brokers: b!.brokers.map(([nodeId, q]) => ({ nodeId, host: '127.0.0.1', port: q.port, rack: null })), topics: [] })
      b!.answered(b!.error)
    })
    b = new Broker(peer)
    return b
  }

  get addr(): string {
    return `127.0.0.1:${this.peer.port}`
  }

  /** loads counts the metadata requests this broker answered. */
  get loads(): number {
    return this.peer.of(Metadata).length
  }
}

function client(seed: Broker, opts: { onRebootstrapRequired?: () => string[] | Promise<string[]> } = {}): Client {
  const c = new Client({ seedBrokers: [seed.addr], retryBackoff: 20, metadataMinAge: 0, ...opts })
  clients.push(c)
  return c
}

const load = (c: Client) => coreOf(c).metadata.refresh(true)
const discovered = (c: Client) => c.discoveredBrokers().map((b) => `${b.nodeId}@${b.port}`)

/**
 * loadsUntilAsked loads metadata until `b` answered a load (the client spreads loads over the brokers
 * it knows and its seeds) and returns that load's outcome; at most 4 loads.
 */
async function loadsUntilAsked(c: Client, b: Broker): Promise<{ error: unknown }> {
  for (let i = 0; i < 4; i++) {
    const before = b.loads
    let error: unknown = null
    await load(c).catch((err: unknown) => (error = err))
    if (b.loads > before) return { error }
  }
  throw new Error(`${b.addr} was not asked in 4 loads`)
}

/** closes resolves once `b` saw `n` connections close (the client forgot it). */
async function closes(b: Broker, n: number): Promise<void> {
  const until = Date.now() + 5_000
  while (b.closedConnections < n) {
    if (Date.now() > until) throw new Error(`broker ${b.addr} saw ${b.closedConnections} connections close, expected ${n}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('REBOOTSTRAP_REQUIRED: the discovered brokers are forgotten and metadata is loaded from the seeds again', { timeout: 30_000 }, async () => {
  const seed = await Broker.start()
  const old = await Broker.start()
  const fresh = await Broker.start()
  seed.brokers = [[1, old.peer]]
  old.brokers = [[1, old.peer]]
  const c = client(seed)
  await load(c)
  assert.deepEqual(discovered(c), [`1@${old.peer.port}`])

  // The discovered broker says REBOOTSTRAP_REQUIRED; from then on the seed names another one.
  old.error = ErrorCode.REBOOTSTRAP_REQUIRED
  let seedLoadsAtRebootstrap = -1
  old.answered = (error) => {
    if (error !== 0) (seedLoadsAtRebootstrap = seed.loads), (seed.brokers = [[2, fresh.peer]])
  }
  const { error } = await loadsUntilAsked(c, old)
  assert.equal(error, null, 'the load succeeded')
  assert.equal(seed.loads, seedLoadsAtRebootstrap + 1, 'the same load went on to the seed')
  assert.deepEqual(discovered(c), [`2@${fresh.peer.port}`])
  await closes(old, 1)
  fresh.brokers = [[2, fresh.peer]]
  const asked = old.loads
  for (let i = 0; i < 3; i++) await load(c)
  assert.equal(old.loads, asked, 'the forgotten broker is not asked again')
  assert.ok(fresh.loads >= 1, 'the broker found after the rebootstrap answers loads')
})

test('onRebootstrapRequired: its seeds replace the client\'s, the old seeds are closed, and a cluster of another id is refused', { timeout: 30_000 }, async () => {
  const seed = await Broker.start()
  const stale = await Broker.start()
  const next = await Broker.start()
  seed.brokers = [[1, stale.peer]]
  let calls = 0
  let give: () => string[] = () => [next.addr]
  const c = client(seed, { onRebootstrapRequired: () => (calls++, give()) })
  await load(c)
  const cluster = c.clusterId
  assert.equal(cluster, 'one')

  stale.error = ErrorCode.REBOOTSTRAP_REQUIRED
  next.brokers = [[3, next.peer]]
  assert.equal((await loadsUntilAsked(c, stale)).error, null)
  assert.equal(calls, 1)
  assert.equal(next.loads, 1, 'the new seed answered the load')
  assert.deepEqual(discovered(c), [`3@${next.peer.port}`])
  await closes(seed, 1)
  await closes(stale, 1)

  // A seed of another cluster: the load fails with INCONSISTENT_CLUSTER_ID and the metadata stays.
  const other = await Broker.start()
  other.cluster = 'two'
  other.brokers = [[9, other.peer]]
  next.error = ErrorCode.REBOOTSTRAP_REQUIRED
  give = () => [other.addr]
  await assert.rejects(load(c), (err: unknown) => err instanceof KafkaProtocolError && err.code === 'INCONSISTENT_CLUSTER_ID' && /cluster two, not one/.test(err.message))
  assert.equal(calls, 2)
  assert.equal(c.clusterId, 'one')
  assert.deepEqual(discovered(c), [`3@${next.peer.port}`], 'the last good metadata is kept')
})

test('onRebootstrapRequired: what it throws fails the load; a seed answering REBOOTSTRAP_REQUIRED again fails it too, without a loop', { timeout: 30_000 }, async () => {
  const seed = await Broker.start()
  const known = await Broker.start()
  seed.brokers = [[1, known.peer]]
  const boom = new Error('no seeds to give')
  let mode: 'throw' | 'same' = 'throw'
  let calls = 0
  const c = client(seed, {
    onRebootstrapRequired: async () => {
      calls++
      if (mode === 'throw') throw boom
      return []
    },
  })
  await load(c)
  known.error = ErrorCode.REBOOTSTRAP_REQUIRED
  let seedLoads = -1
  known.answered = () => (seedLoads = seed.loads)
  assert.equal((await loadsUntilAsked(c, known)).error, boom)
  assert.equal(calls, 1)
  assert.equal(seed.loads, seedLoads, 'the seeds were not asked after: the function failed the load')
  assert.deepEqual(discovered(c), [`1@${known.peer.port}`], 'nothing was forgotten')

  // An empty list rebootstraps from the seeds the client has; a seed that answers
  // REBOOTSTRAP_REQUIRED as well fails that load (one rebootstrap a load), and the next starts over.
  mode = 'same'
  seed.error = ErrorCode.REBOOTSTRAP_REQUIRED
  await assert.rejects(load(c), (err: unknown) => err instanceof KafkaProtocolError && err.code === 'REBOOTSTRAP_REQUIRED')
  assert.equal(calls, 2, 'one rebootstrap a load')
  seed.error = 0
  seed.brokers = [[1, known.peer]]
  known.error = 0
  await load(c)
  assert.deepEqual(discovered(c), [`1@${known.peer.port}`])
})

test('updateSeedBrokers: checks every address before changing anything; an empty list changes nothing; the new seeds are used', { timeout: 30_000 }, async () => {
  const seed = await Broker.start()
  const replacement = await Broker.start()
  seed.brokers = []
  replacement.brokers = [[5, replacement.peer]]
  const c = client(seed)
  await load(c)
  assert.throws(() => c.updateSeedBrokers([replacement.addr, 'no-port:']), (err: unknown) => err instanceof InvalidOptionError && /updateSeedBrokers/.test(err.message))
  assert.throws(() => c.updateSeedBrokers('127.0.0.1:1' as unknown as string[]), InvalidOptionError)
  c.updateSeedBrokers([])
  await load(c)
  assert.equal(seed.loads, 2, 'the seed is still the seed (no broker was discovered)')
  c.updateSeedBrokers([replacement.addr])
  await load(c)
  assert.equal(replacement.loads, 1)
  assert.deepEqual(discovered(c), [`5@${replacement.peer.port}`])
  await closes(seed, 1)
})
