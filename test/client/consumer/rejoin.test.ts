// Close, then rejoin, round after round (issue 13): two members of a group consume and close; records
// are produced; the next round's members must be assigned at once and read them within 10 s. A member
// that closed without leaving (a LeaveGroup stuck behind a parked JoinGroup, a member id the
// coordinator holds as pending) would make the next round wait out a session or rebalance timeout.
// Classic (cooperative-sticky) and KIP-848, 20 rounds each.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Client } from '../../../src/client/client.js'
import type { ClientOptions } from '../../../src/client/options.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName } from '../helpers.js'
import { produceKeys } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

const ROUNDS = 20
const FIRST = 20_000
const PER_ROUND = 100

/** readUntil polls both members until every key of `want` was seen; it returns the keys read and how many were read that were not wanted. */
async function readUntil(members: Client[], want: Set<string>, ms: number): Promise<{ missing: string[]; extra: number }> {
  const seen = new Set<string>()
  let extra = 0
  // Stop both members' polls as soon as every record was seen (or the time is up): a member whose
  // partitions got nothing new would otherwise wait out the deadline.
  const done = new AbortController()
  const deadline = AbortSignal.timeout(ms)
  const signal = AbortSignal.any([deadline, done.signal])
  await Promise.all(
    members.map(async (m) => {
      while (!signal.aborted) {
        const f = await m.pollFetches({ signal })
        for (const e of f.errors()) if (!signal.aborted) throw e.error
        for (const r of f.records()) {
          const key = r.key!.toString()
          if (want.has(key)) seen.add(key)
          else extra++
        }
        if (seen.size === want.size) done.abort()
      }
    }),
  )
  return { missing: [...want].filter((key) => !seen.has(key)), extra }
}

const VARIANTS: Array<[string, Partial<ClientOptions>]> = [
  ['classic cooperative-sticky', { heartbeatInterval: 500 }],
  ['KIP-848', { groupProtocol: 'consumer' }],
]

for (const [name, opts] of VARIANTS) {
  test(`${name}: ${ROUNDS} rounds of two members that consume and close; each round's new members read what was produced after the close within 10 s`, { timeout: 600_000 }, async (t) => {
    const admin = newClient(k)
    const topic = await createTopic(admin, { partitions: 4 })
    const group = topicName('rejoin')
    await produceKeys(admin, topic, FIRST, { prefix: 'first-' })
    const member = () => newClient(k, { consumeTopics: [topic], consumerGroup: group, ...opts })
    let want = new Set(Array.from({ length: FIRST }, (_, i) => `first-${i}`))
    let rereads = 0
    const times: number[] = []
    for (let round = 0; round <= ROUNDS; round++) {
      const start = performance.now()
      const members = [member(), member()]
      const { missing, extra } = await readUntil(members, want, round === 0 ? 60_000 : 10_000)
      const ms = performance.now() - start
      assert.deepEqual(missing.slice(0, 5), [], `round ${round}: ${missing.length} of ${want.size} records not read within ${round === 0 ? 60 : 10} s`)
      if (round > 0) times.push(ms)
      rereads += extra
      await Promise.all(members.map((m) => m.close()))
      // Produced after the members closed: only the next round can read them.
      await produceKeys(admin, topic, PER_ROUND, { prefix: `r${round}-` })
      want = new Set(Array.from({ length: PER_ROUND }, (_, i) => `r${round}-${i}`))
    }
    times.sort((a, b) => a - b)
    t.diagnostic(`${ROUNDS} rounds: new members read the round's records in ${Math.round(times[0]!)}..${Math.round(times.at(-1)!)} ms (median ${Math.round(times[times.length >> 1]!)}); ${rereads} records read again (uncommitted at a close)`)
  })
}
