// A share-group member through a restart of its broker (coordinator and partition leader at once),
// against a broker of its own: the member's session and membership are lost under it, and it goes on
// by itself. Records it acknowledged before the restart are never delivered again (the broker
// persisted their state) and nothing is lost. Records it had acquired and not acknowledged may come
// again, and may keep their delivery count: the broker does not persist acquisitions (a run of this
// test saw k0 delivered twice, both times with deliveryCount 1). The broker here is this file's own,
// since the test stops it.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../../src/admin/index.js'
import { Client } from '../../../src/client/client.js'
import type { Record } from '../../../src/protocol/record.js'
import { startKafka, type KafkaCluster } from '../../../src/testing/index.js'
import { closeAll, createTopic, newClient, topicName, waitFor } from '../helpers.js'
import { keysOf, newShareMember, pollUntil, produceKeys, shareGroupFromStart } from './helpers.js'

let k: KafkaCluster | undefined

before(async () => {
  try {
    // A broker of its own (a brokerConfig asks for one): the shortest acquisition lock a group may
    // have, so that records acquired when the broker went down, if any stay locked, come back soon.
    k = await startKafka({ brokerConfig: { 'group.share.record.lock.duration.ms': '15000' } })
  } catch (err) {
    throw new Error(`the share-group restart test needs a Kafka broker of its own (it restarts it) and none could be started: ${err instanceof Error ? err.message : String(err)}`)
  }
}, { timeout: 300_000 })

after(async () => {
  await closeAll()
  await k?.stop()
})

test('a share member goes on through a restart of its broker: nothing acknowledged comes back, nothing is lost', { timeout: 240_000 }, async () => {
  const cluster = k!
  const admin = newClient(cluster)
  const topic = await createTopic(admin, { partitions: 3 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group)
  await produceKeys(admin, topic, 60)

  const m: Client = newShareMember(cluster, topic, group)
  // Before: at least 20 records polled, accepted and flushed (the broker answered for them).
  const before = await pollUntil(m, (all) => all.length >= 20, { what: '20 records before the restart' })
  m.markAcks('accept')
  await m.flushAcks()
  const accepted = new Set(keysOf(before))

  await cluster.stopBroker(0)
  await cluster.startBroker(0)
  await produceKeys(admin, topic, 60, { prefix: 'm' })

  // After: every record not accepted before comes, the 60 older ones and the 60 produced after the
  // restart. Errors on the way (the broker away) are the member's to ride out.
  const want = new Set([...Array.from({ length: 60 }, (_, i) => `k${i}`), ...Array.from({ length: 60 }, (_, i) => `m${i}`)].filter((x) => !accepted.has(x)))
  const seen = new Map<string, Record[]>()
  await pollUntil(
    m,
    (all) => {
      for (const r of all.splice(0)) {
        const key = r.key!.toString()
        seen.set(key, [...(seen.get(key) ?? []), r])
      }
      return [...want].every((x) => seen.has(x))
    },
    { what: 'every record not accepted before the restart', timeoutMs: 120_000, allowErrors: true },
  )
  m.markAcks('accept')
  await m.flushAcks()
  const again = [...seen.keys()].filter((x) => accepted.has(x))
  assert.deepEqual(again, [], 'no record accepted before the restart was delivered again')
  for (const [key, rs] of seen) for (const r of rs) assert.ok(r.deliveryCount! >= 1, `${key} has a delivery count`)
  // Once everything was accepted, the broker's own account agrees: no lag on any partition.
  await m.close()
  await waitFor(async () => {
    const [o] = await new Admin(admin).describeShareGroupOffsets([group])
    return o!.offsets.length === 3 && o!.offsets.every((p) => p.lag === 0n)
  }, 'the group to have no lag left', 30_000)
})
