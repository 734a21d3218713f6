// Consuming from a 3-broker cluster: a partition leader stops mid-run (leadership moves, the leader
// epoch goes up, the consumer refreshes metadata and carries on from the new leader without losing
// or repeating a record), and a consumer with a rack fetches from the replica in its rack (KIP-392)
// when the leader tells it to. The stopped broker comes back with `broker.rack=rack-b`, which is the
// replica the second test reads from.
import assert from 'node:assert/strict'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { Client, consumerOf, coreOf } from '../../../src/client/client.js'
import type { Record } from '../../../src/protocol/record.js'
import { Admin } from '../../../src/admin/index.js'
import { Fetch } from '../../../src/protocol/messages/fetch.js'
import { Metadata } from '../../../src/protocol/messages/metadata.js'
import { Produce } from '../../../src/protocol/messages/produce.js'
import { startKafka, type KafkaCluster } from '../../../src/testing/index.js'
import { closeAll, createTopic, newClient, topicName, waitFor } from '../helpers.js'
import { keysOf, pollUntil, produceKeys } from './helpers.js'

let k: KafkaCluster
let admin: Client
/** rackNode is the node id that came back with broker.rack=rack-b. */
let rackNode = -1

before(async () => {
  try {
    k = await startKafka({
      brokers: 3,
      brokerConfig: {
        // KIP-392: the leader picks a replica in the consumer's rack.
        'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector',
        // A stopped broker's leadership moves within seconds, not the default 9 s.
        'broker.session.timeout.ms': '6000',
        'broker.heartbeat.interval.ms': '1000',
      },
    })
  } catch (err) {
    throw new Error(`these tests need a 3-broker cluster and none could be started: ${err instanceof Error ? err.message : String(err)}`)
  }
  admin = newClient(k)
}, { timeout: 300_000 })

after(async () => {
  await closeAll()
  await k?.stop()
})

/** indexOf maps a node id to its index in bootstrapServers (what stopBroker takes). */
async function indexOf(nodeId: number): Promise<number> {
  await coreOf(admin).metadata.refresh(true)
  const b = coreOf(admin).metadata.brokers.get(nodeId)!
  return k.bootstrapServers.indexOf(`${b.host}:${b.port}`)
}

test('a leader stops mid-run: the consumer follows the partition to its new leader, with its new epoch, losing and repeating nothing', { timeout: 240_000 }, async (t) => {
  const began = performance.now()
  const topic = await createTopic(admin, { partitions: 2, replicationFactor: 3 })
  const p = newClient(k, { maxBufferedRecords: 50_000 })
  await produceKeys(p, topic, 20_000, { prefix: 'before-' })
  t.diagnostic(`topic made and 20,000 records produced in ${((performance.now() - began) / 1000).toFixed(1)} s`)
  const info = (await coreOf(admin).topic(topic, true))!
  const leader = info.partitions[0]!.leader
  const epochBefore = info.partitions[0]!.leaderEpoch
  const c = newClient(k, { consumeTopics: [topic], fetchMaxPartitionBytes: 64 * 1024, fetchMaxWait: 500 })
  const got: Record[] = await pollUntil(c, (rs) => rs.length >= 5_000, { max: 1_000 })
  assert.equal(consumerOf(c).cursor(topic, 0)!.source?.nodeId, leader)

  const index = await indexOf(leader)
  const stopped = performance.now()
  await k.stopBroker(index)
  // Keep producing through the move; the consumer keeps polling.
  const producing = produceKeys(p, topic, 20_000, { prefix: 'after-' })
  got.push(...(await pollUntil(c, (rs) => got.length + rs.length >= 40_000, { timeoutMs: 120_000, allowErrors: true, what: 'every record across the leader move' })))
  await producing
  t.diagnostic(`leader ${leader} stopped; consumed all 40,000 records ${((performance.now() - stopped) / 1000).toFixed(1)} s later`)

  const keys = keysOf(got)
  assert.equal(new Set(keys).size, 40_000, 'every record')
  assert.equal(keys.length, 40_000, 'none twice')
  for (const part of [0, 1]) {
    const offs = got.filter((r) => r.partition === part).map((r) => r.offset)
    offs.forEach((o, i) => assert.equal(o, BigInt(i), `partition ${part}: contiguous offsets across the move`))
  }
  const now = (await coreOf(admin).topic(topic, true))!.partitions[0]!
  assert.notEqual(now.leader, leader, 'leadership moved')
  assert.ok(now.leaderEpoch > epochBefore)
  const cur = consumerOf(c).cursor(topic, 0)!
  assert.equal(cur.source?.nodeId, now.leader, 'the cursor fetches from the new leader')
  assert.equal(cur.leaderEpoch, now.leaderEpoch, 'and sends its epoch (KIP-320)')
  assert.ok(got.filter((r) => r.partition === 0).at(-1)!.leaderEpoch > epochBefore, 'records written after the move carry the new epoch')

  // The stopped node comes back in rack-b (its configuration is read again at start).
  const dir = k.dir
  assert.ok(dir !== undefined, 'a JVM cluster started here')
  await appendFile(join(dir, `node${index + 1}`, 'server.properties'), '\nbroker.rack=rack-b\n')
  const restart = performance.now()
  await k.startBroker(index)
  t.diagnostic(`node ${leader} back in rack-b in ${((performance.now() - restart) / 1000).toFixed(1)} s`)
  rackNode = leader
})

test('a consumer with a rack fetches from the in-sync replica in its rack when the leader says so (KIP-392); one without fetches from the leader', { timeout: 120_000 }, async () => {
  assert.ok(rackNode >= 0, 'the previous test brought a node back in rack-b')
  await waitFor(async () => {
    await coreOf(admin).metadata.refresh(true)
    return coreOf(admin).metadata.brokers.get(rackNode)?.rack === 'rack-b'
  }, 'the rack-b node to be registered', 60_000)
  const others = [...coreOf(admin).metadata.brokers.keys()].filter((id) => id !== rackNode)
  // One partition, led by another node, with the rack-b node as a follower.
  const topic = topicName('rack')
  await new Admin(admin).createTopic({ name: topic, assignments: { 0: [others[0]!, rackNode, others[1]!] } })
  await waitFor(async () => {
    const p0 = (await coreOf(admin).topic(topic, true))?.partitions[0]
    return p0 !== undefined && p0.leader === others[0] && p0.isr.includes(rackNode)
  }, 'the partition to be led by another node with the rack-b node in sync', 60_000)
  const p = newClient(k)
  await produceKeys(p, topic, 1_000)

  const readFrom = () => {
    const nodes = new Set<number>()
    return { nodes, hooks: [{ onFetchBatchRead: (meta: { nodeId: number }) => nodes.add(meta.nodeId) }] }
  }
  const inRack = readFrom()
  const near = newClient(k, { consumeTopics: [topic], rack: 'rack-b', hooks: inRack.hooks })
  const anywhere = readFrom()
  const plain = newClient(k, { consumeTopics: [topic], hooks: anywhere.hooks })
  const [a, b] = await Promise.all([pollUntil(near, (rs) => rs.length >= 1_000, { timeoutMs: 60_000 }), pollUntil(plain, (rs) => rs.length >= 1_000)])
  assert.equal(new Set(keysOf(a)).size, 1_000)
  assert.equal(new Set(keysOf(b)).size, 1_000)
  assert.deepEqual([...inRack.nodes], [rackNode], 'every batch came from the rack-b replica')
  assert.equal(consumerOf(near).cursor(topic, 0)!.source?.nodeId, rackNode)
  assert.deepEqual([...anywhere.nodes], [others[0]], 'without a rack: from the leader')
})

test('a leader moved by a preferred election: a producer and a consumer each follow the old leader’s answers to the new one (KIP-951), with no metadata load', { timeout: 180_000 }, async (t) => {
  const topic = await createTopic(admin, { partitions: 1, replicationFactor: 3 })
  const before = (await coreOf(admin).topic(topic, true))!.partitions[0]!
  const next = before.replicas.find((r) => r !== before.leader)!
  // Metadata is loaded at the start and then not for two minutes: only the brokers' answers can move the partition.
  // Each client's requests, in order: 'M' for a metadata load, 'F<node>' and 'P<node>' for fetches and produces.
  const counted = (opts: object) => {
    const sent: string[] = []
    const tag: { [key: number]: string } = { [Metadata.key]: 'M', [Fetch.key]: 'F', [Produce.key]: 'P' }
    const c = newClient(k, { metadataMinAge: 120_000, metadataMaxAge: 120_000, hooks: [{ onBrokerWrite: (m: { nodeId: number }, key: number) => void (tag[key] !== undefined && sent.push(key === Metadata.key ? 'M' : `${tag[key]}${m.nodeId}`)) }], ...opts })
    return { c, sent }
  }
  const p = counted({})
  const c = counted({ consumeTopics: [topic], fetchMaxWait: 200 })
  await produceKeys(p.c, topic, 5, { prefix: 'before-' })
  const got = await pollUntil(c.c, (rs) => rs.length >= 5)
  assert.deepEqual([coreOf(p.c).leaderOf(topic, 0), consumerOf(c.c).cursor(topic, 0)!.source?.nodeId], [before.leader, before.leader])
  const sentBefore = [p.sent.length, c.sent.length]

  // Node `next` becomes the preferred replica, then the leader.
  const a = new Admin(admin)
  await a.alterPartitionAssignments({ [topic]: { 0: [next, ...before.replicas.filter((r) => r !== next)] } })
  await waitFor(async () => (await a.listPartitionReassignments({ [topic]: [0] })).length === 0, 'the reassignment to finish', 60_000)
  const moved = performance.now()
  const elected = await a.electLeaders('preferred', { [topic]: [0] })
  assert.equal(elected[0]!.error, null)
  await waitFor(async () => (await coreOf(admin).topic(topic, true))!.partitions[0]!.leader === next, 'the election to take effect', 60_000)
  const after = (await coreOf(admin).topic(topic, true))!.partitions[0]!
  assert.equal(coreOf(p.c).leaderOf(topic, 0), before.leader, 'the producer has not heard of the move yet')

  await produceKeys(p.c, topic, 5, { prefix: 'after-' })
  got.push(...(await pollUntil(c.c, (rs) => got.length + rs.length >= 10, { allowErrors: true, what: 'the records written after the move' })))
  t.diagnostic(`leader ${before.leader} -> ${next}; produced and consumed through the move in ${((performance.now() - moved) / 1000).toFixed(1)} s`)
  assert.deepEqual(keysOf(got), [0, 1, 2, 3, 4].map((i) => `before-${i}`).concat([0, 1, 2, 3, 4].map((i) => `after-${i}`)), 'every record once, in order')
  const pSent = p.sent.slice(sentBefore[0])
  const cSent = c.sent.slice(sentBefore[1])
  t.diagnostic(`producer sent ${pSent.join(' ')}; consumer sent ${compress(cSent)}`)
  assert.deepEqual(pSent.filter((x) => x !== 'M'), [`P${before.leader}`, `P${next}`], 'the producer asked the old leader once, then the new one')
  assert.ok(!pSent.includes('M'), 'the producer loaded no metadata: the old leader named the new one')
  // The consumer may load metadata after the move: a new leader that has not caught up with its own
  // election answers UNKNOWN_LEADER_EPOCH, which reloads, as franz-go does. It must not need one to move.
  const firstNew = cSent.indexOf(`F${next}`)
  assert.ok(firstNew >= 0 && !cSent.slice(0, firstNew).includes('M'), 'the consumer fetched from the new leader before any metadata load')
  assert.equal(coreOf(p.c).leaderOf(topic, 0), next, 'the producer writes to the new leader')
  const cur = consumerOf(c.c).cursor(topic, 0)!
  assert.deepEqual([cur.source?.nodeId, cur.leaderEpoch], [next, after.leaderEpoch], 'the consumer fetches from the new leader, in its epoch')
})

/** compress writes runs of the same request as one, with a count: "F1×12 M F3×4". */
function compress(xs: string[]): string {
  const out: string[] = []
  for (let i = 0; i < xs.length; ) {
    let j = i
    while (j < xs.length && xs[j] === xs[i]) j++
    out.push(j - i > 1 ? `${xs[i]}×${j - i}` : xs[i]!)
    i = j
  }
  return out.join(' ')
}
