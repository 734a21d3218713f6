// Share groups (KIP-932) consumed through the ordinary Client (`shareGroup`), against a real broker:
// every record handed to one member at a time and exactly once when accepted; deliveryCount; marks
// (accept, release, reject) and the next poll accepting what was left unmarked; flushAcks and
// shareAckCallback; close releasing what was not acknowledged (polled or only buffered) and leaving
// the group; the option and operation errors; the fetch-record hooks; and a cross-check with Kafka's
// own Java share consumer.
//
// Broker facts these tests lean on (Kafka 4.4, checked against the broker):
// - a new share group starts at the LATEST offset (group config share.auto.offset.reset, 'earliest',
//   'latest' or 'by_duration:…'), so every test sets 'earliest' for its group before a member joins;
// - share.record.lock.duration.ms (the acquisition lock) accepts 1000 to 60000 for a group on the test
//   brokers (group.share.min/max.record.lock.duration.ms; settings.ts lowers the minimum from 15000;
//   the default lock is 30000): a test that must tell an explicit release from an expired lock sets
//   60000 and expects the record back far sooner; the renewal test sets 4000 to see locks expire;
// - members learn their assignment by heartbeat (every 500 ms on the test brokers, settings.ts; 5 s
//   by default), so joins and reassignments take a while: waits here are conditions with deadlines of
//   30 s or more.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Client } from '../../../src/client/client.js'
import type { ClientOptions } from '../../../src/client/options.js'
import type { ShareAckResult } from '../../../src/client/types.js'
import { AbortError, InvalidArgumentError, InvalidOperationError, InvalidOptionError } from '../../../src/client/errors.js'
import { ShareGroupDescribe } from '../../../src/protocol/messages/share-group-describe.js'
import { DescribeShareGroupOffsets } from '../../../src/protocol/messages/describe-share-group-offsets.js'
import type { Record } from '../../../src/protocol/record.js'
import { ApiKey } from '../../../src/protocol/messages/api-key.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, listOffsets, newClient, topicName, waitFor } from '../helpers.js'
import { keysOf, newShareMember, pollUntil, produceKeys, shareGroupFromStart, summary } from './helpers.js'
import { Kotel, Tracer } from '../../../src/kotel/index.js'
import { makeOtel } from '../../kotel/helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker({})
}, { timeout: 300_000 })

after(closeAll)

/** keyOf is a record's key as a string. */
const keyOf = (r: Record): string => (r.key === null ? '<null>' : r.key.toString())

/** range lists `${prefix}${from}` … `${prefix}${from + n - 1}`, sorted as strings. */
const range = (prefix: string, n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`).sort()

/** checkErrors fails on any poll error other than the AbortError of the poll's own deadline. */
function checkErrors(f: { errors(): Array<{ topic: string; partition: number; error: Error }> }): void {
  const errs = f.errors().filter((e) => !(e.error instanceof AbortError))
  if (errs.length > 0) throw new Error(`poll returned errors: ${errs.map((e) => `${e.topic}[${e.partition}] ${e.error.message}`).join('; ')}`)
}

/**
 * pollOnce polls until one poll hands out at least `min` records and returns that poll's records (the
 * records a following markAcks applies to). Smaller polls on the way are left to the next poll's
 * automatic accept, and returned in `before`.
 */
async function pollOnce(c: Client, min: number, timeoutMs = 30_000): Promise<{ records: Record[]; before: Record[] }> {
  const before: Record[] = []
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out waiting for a poll of at least ${min} records; earlier polls had ${before.length} (${summary(before)})`)
    const f = await c.pollFetches({ signal: AbortSignal.timeout(Math.min(left, 1_000)) })
    checkErrors(f)
    const rs = f.records()
    if (rs.length >= min) return { records: rs, before }
    before.push(...rs)
  }
}

/**
 * drainFor is a bounded negative check: it polls `c` for `ms` and returns whatever arrives. Each poll
 * waits at most the time left; an empty one resolves with just its AbortError (the AbortSignal
 * contract), any other error fails. The caller asserts what (usually nothing) was allowed to come.
 */
async function drainFor(c: Client, ms: number): Promise<Record[]> {
  const out: Record[] = []
  const deadline = Date.now() + ms
  for (let left = ms; left > 0; left = deadline - Date.now()) {
    const f = await c.pollFetches({ signal: AbortSignal.timeout(left) })
    checkErrors(f)
    out.push(...f.records())
  }
  return out
}

/** describeShare is ShareGroupDescribe's view of a group: its state and each member's assigned partitions (GROUP_ID_NOT_FOUND: 'Dead', no members). */
async function describeShare(c: Client, group: string): Promise<{ state: string; members: Array<{ memberId: string; partitions: number[] }> }> {
  const req = ShareGroupDescribe.newRequest()
  req.groupIds = [group]
  const res = await c.request(ShareGroupDescribe, req)
  const g = res.groups[0]!
  if (g.errorCode === 69) return { state: 'Dead', members: [] }
  assert.equal(g.errorCode, 0, `ShareGroupDescribe of ${group}: ${g.errorMessage}`)
  return {
    state: g.groupState,
    members: g.members.map((m) => ({ memberId: m.memberId, partitions: m.assignment.topicPartitions.flatMap((tp) => tp.partitions).sort((a, b) => a - b) })),
  }
}

/**
 * shareLag is DescribeShareGroupOffsets' lag of each partition for the group: the records from the
 * group's start offset to the high watermark not yet acknowledged (accepted, or rejected and so
 * archived); acquired records count until acknowledged. -1 while the group holds no state for the
 * partition. (The start offset it also reports is not this: it stays at an older batch boundary
 * for a while after everything was acknowledged; the lag is exact at once.)
 */
async function shareLag(c: Client, group: string, topic: string, partitions: number): Promise<bigint[]> {
  const req = DescribeShareGroupOffsets.newRequest()
  req.groups = [{ groupId: group, topics: [{ topicName: topic, partitions: Array.from({ length: partitions }, (_, p) => p) }] }]
  const res = await c.request(DescribeShareGroupOffsets, req)
  const g = res.groups[0]!
  assert.equal(g.errorCode, 0, `DescribeShareGroupOffsets of ${group}: ${g.errorMessage}`)
  const out = new Array<bigint>(partitions).fill(-1n)
  for (const t of g.topics) for (const p of t.partitions) if (p.errorCode === 0) out[p.partitionIndex] = p.lag
  return out
}

/** allAcknowledged is true once the group's lag is 0 on every partition: every record acknowledged. */
async function allAcknowledged(c: Client, group: string, topic: string, partitions: number): Promise<boolean> {
  return (await shareLag(c, group, topic, partitions)).every((l) => l === 0n)
}

/** dupes lists the keys that occur more than once. */
function dupes(keys: string[]): string[] {
  const seen = new Set<string>()
  return [...new Set(keys.filter((x) => (seen.has(x) ? true : (seen.add(x), false))))]
}

test('one member: every record of a 3-partition topic delivered exactly once with deliveryCount 1; once accepted and the member closed, a new member of the group gets none of them but gets later records', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 3 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group)
  await produceKeys(admin, topic, 60)

  const a = newShareMember(k, topic, group)
  const got = await pollUntil(a, (all) => all.length >= 60, { what: 'the 60 records' })
  assert.deepEqual(dupes(keysOf(got)), [], 'no record handed out twice')
  assert.deepEqual(keysOf(got).sort(), range('k', 60))
  assert.deepEqual([...new Set(got.map((r) => r.partition))].sort(), [0, 1, 2], 'records of every partition')
  for (const r of got) {
    assert.equal(r.topic, topic)
    assert.equal(r.deliveryCount, 1, `${keyOf(r)} is on its first delivery`)
  }
  // Bounded: the next polls accept the last poll's records (nothing was marked); none of the 60 may
  // come again. 2 s is far below the 30 s lock, so this checks for duplicates, not expiry.
  assert.deepEqual(keysOf(await drainFor(a, 2_000)), [], 'nothing more after the 60')
  await a.close()
  assert.deepEqual((await describeShare(admin, group)).members, [], 'the closed member left the group')
  // The broker's own account: every offset of every partition is acknowledged for the group.
  await waitFor(() => allAcknowledged(admin, group, topic, 3), "the group's start offsets to reach the partitions' ends", 15_000)

  const b = newShareMember(k, topic, group)
  await waitFor(async () => {
    const d = await describeShare(admin, group)
    return d.members.length === 1 && d.members[0]!.partitions.length === 3
  }, 'the new member to be assigned the 3 partitions')
  await produceKeys(admin, topic, 9, { prefix: 'n' })
  const later = await pollUntil(b, (all) => all.length >= 9, { what: 'the 9 records produced after the new member joined' })
  // Bounded: any of the 60 still available would have come in the same fetches as the 9 (they sit
  // before them in every partition); 2 s more of polling catches stragglers of another fetch.
  later.push(...(await drainFor(b, 2_000)))
  assert.deepEqual(keysOf(later).sort(), range('n', 9), 'only the later records, none of the accepted 60')
  for (const r of later) assert.equal(r.deliveryCount, 1)
  // The AbortSignal contract holds for a share member: nothing buffered and the signal aborted, the
  // poll resolves at once with no records and the one AbortError entry carrying the reason.
  const reason = new Error('stop')
  const f = await b.pollFetches({ signal: AbortSignal.abort(reason) })
  assert.equal(f.numRecords(), 0)
  assert.deepEqual(f.errors().map((e) => [e.topic, e.partition, e.error instanceof AbortError, e.error.cause]), [['', -1, true, reason]])
})

test('two members of one group, 4 partitions: every record delivered exactly once across both (none twice, none missing), both get some, both close cleanly and leave', { timeout: 180_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 4 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group)
  const a = newShareMember(k, topic, group, { shareMaxRecords: 20 })
  const b = newShareMember(k, topic, group, { shareMaxRecords: 20 })
  await waitFor(async () => {
    const d = await describeShare(admin, group)
    return d.members.length === 2 && d.members.every((m) => m.partitions.length > 0) && new Set(d.members.flatMap((m) => m.partitions)).size === 4
  }, 'both members to be assigned partitions covering all 4', 60_000)

  // a polls with pollFetches, b iterates records(); both run until stopped.
  const got = { a: [] as Record[], b: [] as Record[] }
  const stop = new AbortController()
  const runA = (async () => {
    while (!stop.signal.aborted) {
      const f = await a.pollFetches({ signal: AbortSignal.any([stop.signal, AbortSignal.timeout(1_000)]) })
      checkErrors(f)
      got.a.push(...f.records())
    }
  })()
  const runB = (async () => {
    for await (const r of b.records({ signal: stop.signal })) got.b.push(r)
  })()
  const failed = Promise.race([runA, runB]).then(() => {
    if (!stop.signal.aborted) throw new Error('a consumer loop ended early')
  })
  failed.catch(() => {})

  // Members learn a reassignment at their next heartbeat (every 5 s), so the first member may hold
  // every partition for a while: produce in steps of 10, each once the previous step was all
  // delivered, until 200 are out and both members have had records (at most 600).
  let produced = 0
  const total = () => got.a.length + got.b.length
  while (produced < 200 || got.a.length === 0 || got.b.length === 0) {
    assert.ok(produced < 600, `after ${produced} records, a had ${got.a.length} and b ${got.b.length}: one member never got any`)
    await produceKeys(admin, topic, 10, { from: produced })
    produced += 10
    const all = waitFor(() => total() >= produced, `the ${produced} records produced so far`, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; a has ${got.a.length}, b ${got.b.length}`)
    })
    await Promise.race([all, failed])
  }
  // Bounded: 2 s more of consuming, in which a duplicate of anything would have to show.
  await Promise.race([new Promise((r) => setTimeout(r, 2_000)), failed])
  stop.abort()
  await Promise.all([runA, runB])

  const keys = [...keysOf(got.a), ...keysOf(got.b)]
  assert.deepEqual(dupes(keys), [], `no record went to both members or twice to one (a: ${summary(got.a)}; b: ${summary(got.b)})`)
  assert.deepEqual(keys.sort(), range('k', produced), 'every produced record delivered')
  for (const r of [...got.a, ...got.b]) assert.equal(r.deliveryCount, 1, `${keyOf(r)} delivered once`)
  assert.ok(got.a.length > 0 && got.b.length > 0, `both members got records (a ${got.a.length}, b ${got.b.length})`)

  for (const c of [a, b]) {
    c.markAcks('accept')
    await c.flushAcks()
  }
  await Promise.all([a.close(), b.close()])
  const d = await describeShare(admin, group)
  assert.deepEqual([d.state, d.members], ['Empty', []], 'both members left the group')
  await waitFor(() => allAcknowledged(admin, group, topic, 4), 'every record to be acknowledged for the group', 15_000)
})

test('release, reject, accept: the released record comes back with deliveryCount 2 long before its lock would expire; the rejected and the accepted ones never come back; a record keeps its first mark', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 2 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group, { 'share.record.lock.duration.ms': '60000' })
  await produceKeys(admin, topic, 20)
  const results: ShareAckResult[] = []
  const c = newShareMember(k, topic, group, { shareAckCallback: (rs) => void results.push(...rs) })

  const { records, before: earlier } = await pollOnce(c, 3)
  const [released, rejected] = records
  c.markAcks('release', released!)
  c.markAcks('reject', rejected!)
  // Marked already: the second mark does not change the first.
  c.markAcks('accept', released!, rejected!)
  c.markAcks('accept')
  const flushedAt = Date.now()
  await c.flushAcks()
  const errors = results.filter((r) => r.error !== null)
  assert.deepEqual(errors.map((r) => `${r.partition}: ${r.error!.message}`), [], 'the brokers applied every acknowledgement')

  // The released record is the next delivery of its offset; what the first poll did not hold comes on its first delivery.
  const later = await pollUntil(c, (all) => all.some((r) => keyOf(r) === keyOf(released!)), { what: `${keyOf(released!)} again` })
  const back = later.filter((r) => keyOf(r) === keyOf(released!))
  assert.equal(back.length, 1, 'the released record came back once')
  assert.equal(back[0]!.deliveryCount, 2, 'released once: delivery 2')
  assert.equal(back[0]!.offset, released!.offset)
  assert.equal(back[0]!.partition, released!.partition)
  assert.ok(Date.now() - flushedAt < 20_000, `redelivered ${Date.now() - flushedAt} ms after the release: a release, not the 60 s lock expiring`)

  // More records after the release; once they are here, 2 s more of polling: neither the rejected
  // record nor any accepted one may appear in all of it (they would precede the new records).
  await produceKeys(admin, topic, 10, { prefix: 'n' })
  later.push(...(await pollUntil(c, (all) => all.filter((r) => keyOf(r).startsWith('n')).length >= 10, { what: 'the 10 later records' })))
  later.push(...(await drainFor(c, 2_000)))
  const firstRound = [...earlier, ...records]
  const accepted = new Set(firstRound.filter((r) => r !== released && r !== rejected).map(keyOf))
  assert.ok(!later.some((r) => keyOf(r) === keyOf(rejected!)), `the rejected ${keyOf(rejected!)} never came back`)
  assert.deepEqual(later.filter((r) => accepted.has(keyOf(r))).map(keyOf), [], 'no accepted record came back')
  assert.deepEqual(dupes(keysOf(later)), [])
  const expected = [...range('k', 20).filter((x) => !accepted.has(x) && x !== keyOf(rejected!)), ...range('n', 10)].sort()
  assert.deepEqual(keysOf(later).sort(), expected, 'after the release: the released record, the rest of the 20, the later 10')
  for (const r of later) if (r !== back[0]) assert.equal(r.deliveryCount, 1, `${keyOf(r)} on its first delivery`)

  c.markAcks('accept')
  await c.flushAcks()
  // The broker counts the rejected record acknowledged (archived) too: nothing of either partition is left for the group.
  await waitFor(() => allAcknowledged(admin, group, topic, 2), 'every record, the rejected one included, to be acknowledged for the group', 15_000)
})

test('close releases what was not acknowledged, polled or only buffered: the next member gets all of it at once (deliveryCount 2 for what was polled), not after the 60 s lock', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 2 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group, { 'share.record.lock.duration.ms': '60000' })
  await produceKeys(admin, topic, 20)

  const a = newShareMember(k, topic, group)
  // pollRecords(3): three records handed out, the rest of the fetch stays buffered (acquired, never polled).
  let polled: Record[] = []
  await waitFor(async () => {
    const f = await a.pollRecords(3, { signal: AbortSignal.timeout(1_000) })
    checkErrors(f)
    polled = f.records()
    return polled.length > 0
  }, 'a poll of the first member to hand out records')
  assert.ok(polled.length <= 3, `pollRecords(3) handed out ${polled.length}`)
  for (const r of polled) assert.equal(r.deliveryCount, 1)
  const closedAt = Date.now()
  await a.close()
  assert.deepEqual((await describeShare(admin, group)).members, [], 'the closed member left the group')

  const b = newShareMember(k, topic, group)
  const got = await pollUntil(b, (all) => all.length >= 20, { what: 'all 20 records at the second member', timeoutMs: 20_000 })
  const took = Date.now() - closedAt
  assert.ok(took < 20_000, `all 20 at the second member ${took} ms after the close: released, not the 60 s lock expiring`)
  assert.deepEqual(dupes(keysOf(got)), [])
  assert.deepEqual(keysOf(got).sort(), range('k', 20))
  const byKey = new Map(got.map((r) => [keyOf(r), r]))
  for (const r of polled) assert.equal(byKey.get(keyOf(r))!.deliveryCount, 2, `${keyOf(r)}, polled by the closed member and released: delivery 2`)
  for (const r of got) assert.ok(r.deliveryCount === 1 || r.deliveryCount === 2, `${keyOf(r)}: delivery ${r.deliveryCount} (1 if never fetched, 2 if released)`)
  // The first member's fetch acquired more than the 3 it handed out (20 records were waiting): those
  // were released at close as well, so more than the polled ones come on their second delivery.
  const second = got.filter((r) => r.deliveryCount === 2).length
  assert.ok(second > polled.length, `${second} records on their second delivery: the ${polled.length} polled and those only buffered`)
})

test('flushAcks resolves after shareAckCallback reported the acknowledged partitions, with error null and record counts summing to the records marked', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 2 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group, { 'share.record.lock.duration.ms': '60000' })
  await produceKeys(admin, topic, 30)
  const log: string[] = []
  const results: ShareAckResult[] = []
  const c = newShareMember(k, topic, group, {
    shareAckCallback: (rs) => {
      log.push('callback')
      results.push(...rs)
    },
  })
  // The first poll with records: nothing was polled before it, so no acknowledgement is pending
  // anywhere and every callback result belongs to this poll's marks.
  const { records, before: earlier } = await pollOnce(c, 1)
  assert.deepEqual(earlier, [])
  assert.equal(results.length, 0, 'no acknowledgement before anything was marked')
  c.markAcks('accept')
  await c.flushAcks()
  log.push('flushed')
  assert.ok(log.indexOf('callback') >= 0 && log.indexOf('callback') < log.indexOf('flushed'), `the callback ran before flushAcks resolved: ${log.join(', ')}`)
  assert.deepEqual(results.filter((r) => r.error !== null).map((r) => `${r.partition}: ${r.error!.message}`), [], 'every answer without error')
  for (const r of results) assert.equal(r.topic, topic)
  assert.equal(results.reduce((n, r) => n + r.records, 0), records.length, `the answers count the ${records.length} records marked (${JSON.stringify(results.map((r) => [r.partition, r.records]))})`)
  assert.deepEqual([...new Set(results.filter((r) => r.records > 0).map((r) => r.partition))].sort(), [...new Set(records.map((r) => r.partition))].sort(), 'one answer per partition the records came from')
  // The broker applied them: the lag of each partition the poll held records of is its records less
  // those accepted (nothing else was acknowledged; acquired records still count). A partition not
  // fetched yet has no state for the group (lag -1) and is left out.
  const ends = await listOffsets(admin, topic, 2)
  const polledFrom = [...new Set(records.map((r) => r.partition))].sort()
  const want = polledFrom.map((p) => ends[p]! - BigInt(records.filter((r) => r.partition === p).length))
  let lag: bigint[] = []
  const lagNow = async () => {
    const all = await shareLag(admin, group, topic, 2)
    return (lag = polledFrom.map((p) => all[p]!))
  }
  await waitFor(async () => String(await lagNow()) === String(want), `the group's lag of partitions ${polledFrom} to be ${want}`, 10_000).catch((err: Error) => {
    throw new Error(`${err.message}; it is ${lag} (the poll held ${summary(records)})`)
  })

  // flushAcks with nothing marked has nothing to report; then a second round with a mix of marks.
  const before = results.length
  await c.flushAcks()
  assert.equal(results.length, before, 'flushAcks with nothing marked reports nothing')
  await produceKeys(admin, topic, 10, { prefix: 'n', partition: 0 })
  const second = await pollOnce(c, 1)
  c.markAcks('reject', second.records[0]!)
  c.markAcks('release')
  await c.flushAcks()
  const round = results.slice(before)
  assert.deepEqual(round.filter((r) => r.error !== null).map((r) => `${r.partition}: ${r.error!.message}`), [])
  assert.equal(round.reduce((n, r) => n + r.records, 0), second.records.length, "the second round's answers count its poll's marks")
})

test('option and operation errors: shareGroup with consumerGroup, consumePartitions or consumeRegex; markAcks without shareGroup or with an unknown status; offset-commit methods on a share client', { timeout: 60_000 }, async () => {
  const topic = await createTopic(newClient(k))
  const group = topicName('sg')
  const conflicts: Array<[string, Partial<ClientOptions<Client>>]> = [
    ['consumerGroup', { consumerGroup: 'g' }],
    ['consumePartitions', { consumePartitions: { [topic]: { 0: { offset: 0n } } } }],
    ['consumeRegex', { consumeRegex: true }],
  ]
  for (const [option, extra] of conflicts) {
    assert.throws(
      () => new Client({ seedBrokers: k.bootstrapServers, shareGroup: group, consumeTopics: [topic], ...extra }),
      (err: unknown) => err instanceof InvalidOptionError && err.option === option,
      `shareGroup with ${option}`,
    )
  }

  const plain = newClient(k, { consumeTopics: [topic], consumerGroup: topicName('g') })
  assert.throws(() => plain.markAcks('accept'), InvalidOperationError, 'markAcks on a consumer-group client')
  const none = newClient(k)
  assert.throws(() => none.markAcks('release'), InvalidOperationError, 'markAcks on a client that consumes nothing')

  const share = newShareMember(k, topic, group)
  assert.throws(() => share.markAcks('bogus' as never), InvalidArgumentError)
  /** fails is null when `f` throws InvalidOperationError or returns a promise rejecting with it, else what happened. */
  const fails = async (what: string, f: () => unknown): Promise<string | null> => {
    try {
      await f()
    } catch (e) {
      return e instanceof InvalidOperationError ? null : `${what}: ${String(e)}`
    }
    return `${what}: no error`
  }
  const wrong = [
    await fails('commitRecords', () => share.commitRecords()),
    await fails('commitUncommittedOffsets', () => share.commitUncommittedOffsets()),
    await fails('commitOffsets', () => share.commitOffsets({ [topic]: { 0: { offset: 0n } } })),
    await fails('setOffsets', () => share.setOffsets({ [topic]: { 0: { offset: 0n } } })),
    await fails('addConsumePartitions', () => share.addConsumePartitions({ [topic]: { 0: { offset: 0n } } })),
    await fails('markCommitRecords', () => share.markCommitRecords()),
  ].filter((x) => x !== null)
  assert.deepEqual(wrong, [], 'every offset-commit method throws InvalidOperationError on a share client')
})

test('hooks: onFetchRecordBuffered sees every record a share member is handed, before the poll that hands it out', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 3 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group)
  await produceKeys(admin, topic, 45)
  const buffered = new Set<Record>()
  let calls = 0
  const c = newShareMember(k, topic, group, {
    hooks: {
      onFetchRecordBuffered: (r: Record) => {
        calls++
        buffered.add(r)
      },
    },
  })
  const got: Record[] = []
  const deadline = Date.now() + 30_000
  while (got.length < 45) {
    assert.ok(Date.now() < deadline, `timed out: ${got.length} of 45 polled`)
    const f = await c.pollFetches({ signal: AbortSignal.timeout(1_000) })
    checkErrors(f)
    for (const r of f.records()) {
      assert.ok(buffered.has(r), `${keyOf(r)} went through onFetchRecordBuffered before it was polled`)
      got.push(r)
    }
  }
  got.push(...(await drainFor(c, 2_000)))
  assert.deepEqual(keysOf(got).sort(), range('k', 45))
  assert.equal(calls, 45, 'one hook call per delivered record')
  assert.equal(buffered.size, 45)
})

test("Kafka's Java share consumer in the same group gets exactly what kafka-wire released on close (delivery 2), none of what it accepted or rejected", { timeout: 180_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 1 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group, { 'share.record.lock.duration.ms': '60000' })
  await produceKeys(admin, topic, 12)

  const c = newShareMember(k, topic, group)
  const { records, before: earlier } = await pollOnce(c, 6)
  // Of this poll: two accepted, two rejected, the rest left unmarked, which close releases.
  c.markAcks('accept', records[0]!, records[1]!)
  c.markAcks('reject', records[2]!, records[3]!)
  const unmarked = records.slice(4)
  await c.close()

  const settled = new Set([...earlier, ...records.slice(0, 4)].map(keyOf))
  const expected = range('k', 12).filter((x) => !settled.has(x))
  // --timeout-ms: the Java consumer exits 10 s after its last record (or after joining, with none).
  const res = await k.runJavaTool(
    'org.apache.kafka.tools.consumer.ConsoleShareConsumer',
    [
      '--bootstrap-server', k.bootstrapServers[0]!, '--topic', topic, '--group', group, '--timeout-ms', '10000',
      '--formatter-property', 'print.key=true', '--formatter-property', 'print.delivery=true', '--formatter-property', 'print.offset=true',
    ],
    { timeoutMs: 120_000 },
  )
  assert.equal(res.code, 0, `ConsoleShareConsumer exited ${res.code}: ${res.stderr.slice(-2000)}`)
  // Lines are `Offset:<o>\tDelivery:<n>\t<key>\t<value>`.
  const lines = res.stdout.split('\n').filter((l) => l.startsWith('Offset:'))
  const java = lines.map((l) => {
    const m = /^Offset:(\d+)\tDelivery:(\d+)\t([^\t]*)\t/.exec(l)
    assert.ok(m, `a line of the Java consumer: ${JSON.stringify(l)}`)
    return { offset: BigInt(m[1]!), delivery: Number(m[2]), key: m[3]! }
  })
  assert.deepEqual(java.map((r) => r.key).sort(), expected, `the Java member got the released and never-polled records only (stdout: ${res.stdout.slice(0, 1000)})`)
  for (const r of unmarked) assert.equal(java.find((j) => j.key === keyOf(r))!.delivery, 2, `${keyOf(r)}: polled by kafka-wire, released at close, delivery 2`)
})

test("kotel: a share member's records get receive spans naming the share group as the consumer group", { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 1 })
  const group = topicName('sg')
  await shareGroupFromStart(admin, group)
  await produceKeys(admin, topic, 5)
  const otel = makeOtel()
  const c = newShareMember(k, topic, group, { hooks: new Kotel({ tracer: new Tracer({ tracerProvider: otel.tracerProvider }) }).hooks() })
  const got: Record[] = []
  const deadline = Date.now() + 30_000
  while (got.length < 5) {
    assert.ok(Date.now() < deadline, `timed out: ${got.length} of 5 polled`)
    const f = await c.pollFetches({ signal: AbortSignal.timeout(1_000) })
    checkErrors(f)
    got.push(...f.records())
  }
  const receive = (await otel.spans()).filter((s) => s.attributes['messaging.operation.type'] === 'receive' && s.attributes['messaging.destination.name'] === topic && s.attributes['messaging.kafka.offset'] !== undefined)
  assert.equal(receive.length, 5, 'one receive span per record')
  for (const s of receive) assert.equal(s.attributes['messaging.consumer.group.name'], group)
})

test('renew keeps a record acquired past its lock while a record not renewed expires to the other member; accepted at last, it never reaches the other member', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin)
  const group = topicName('sg')
  const LOCK = 4_000
  await shareGroupFromStart(admin, group, { 'share.record.lock.duration.ms': String(LOCK) })
  await produceKeys(admin, topic, 2)
  const results: ShareAckResult[] = []
  // A renewal waits for the member's fetch parked on the broker (one request at a time per session):
  // a short fetchMaxWait keeps renewals about a second apart, well inside the lock, under load too.
  const a = newShareMember(k, topic, group, { fetchMaxWait: 200, shareAckCallback: (rs) => void results.push(...rs) })
  const { records } = await pollOnce(a, 2)
  const held = records.find((r) => keyOf(r) === 'k0')!
  const acquiredAt = Date.now()
  // A second member polls meanwhile: k1's lock runs out and it is handed over; k0 is renewed every
  // second by the first member, which does not poll (a poll would accept its records).
  const b = newShareMember(k, topic, group)
  const other: Record[] = []
  let renewals = 0
  const renewing = (async () => {
    while (Date.now() - acquiredAt < 3 * LOCK) {
      a.markAcks('renew', held)
      renewals++
      await a.flushAcks()
      await new Promise((r) => setTimeout(r, 1_000))
    }
  })()
  while (Date.now() - acquiredAt < 3 * LOCK) {
    const f = await b.pollFetches({ signal: AbortSignal.timeout(1_000) })
    checkErrors(f)
    other.push(...f.records())
  }
  await renewing
  // k1 comes back with a raised delivery count: 2, or more when the first member's background fetch
  // acquired it again meanwhile (to be handed out at its next poll) and that lock ran out too.
  assert.deepEqual(other.map(keyOf), ['k1'], `in ${3 * LOCK} ms the other member got only k1, once its ${LOCK} ms lock ran out`)
  assert.ok(other[0]!.deliveryCount! >= 2, `k1 delivery ${other[0]!.deliveryCount}`)
  const failed = results.filter((r) => r.error !== null)
  assert.deepEqual(failed.map((r) => r.error!.message), [], 'every renewal applied')
  assert.equal(results.reduce((n, r) => n + r.renewed, 0), renewals, 'each renewal was answered, one record each')
  a.markAcks('accept', held)
  await a.flushAcks()
  assert.deepEqual(results.filter((r) => r.error !== null).map((r) => r.error!.message), [], 'the accept applied after the renewals')
  b.markAcks('accept')
  await b.flushAcks()
  assert.deepEqual((await drainFor(b, 1_000)).map(keyOf), [], 'k0 never reached the other member')
  await waitFor(() => allAcknowledged(admin, group, topic, 1), 'both records to be acknowledged for the group', 15_000)
})

test('shareMaxRecordsStrict: one fetch acquires at most shareMaxRecords, splitting a batch; without it the broker hands out the whole batch', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin)
  await produceKeys(admin, topic, 10)
  const firstPolls = async (strict: boolean): Promise<number[]> => {
    const group = topicName('sg')
    await shareGroupFromStart(admin, group)
    const c = newShareMember(k, topic, group, { shareMaxRecords: 3, shareMaxRecordsStrict: strict })
    const sizes: number[] = []
    const deadline = Date.now() + 30_000
    for (let got = 0; got < 10; ) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the 10 records; polls so far: ${sizes.join(', ')}`)
      const f = await c.pollFetches({ signal: AbortSignal.timeout(1_000) })
      checkErrors(f)
      if (f.numRecords() > 0) sizes.push(f.numRecords())
      got += f.numRecords()
    }
    await c.close()
    return sizes
  }
  const strict = await firstPolls(true)
  assert.ok(strict.every((n) => n <= 3), `every strict poll held at most 3 records: ${strict.join(', ')}`)
  assert.equal(strict.reduce((a, b) => a + b, 0), 10)
  const whole = await firstPolls(false)
  assert.ok(whole[0]! > 3, `without it the first poll holds the whole batch: ${whole.join(', ')}`)
})

test('records kept from earlier polls stay intact while later share fetches are read into the same buffers, over uncompressed and lz4 batches', { timeout: 120_000 }, async (t) => {
  // A large response is read into a buffer of its own (Buffer.allocUnsafeSlow in the connection) or
  // into one handed back. Records view their batches' copies, so every share fetch response is
  // handed back, and a record kept must never change when the next response is read into it.
  const admin = newClient(k)
  const topic = await createTopic(admin)
  const group = topicName('sg')
  await shareGroupFromStart(admin, group)
  // Incompressible values: every response, lz4 or not, is large enough to be read into a buffer of its own.
  const values = Array.from({ length: 1_200 }, () => randomBytes(1024))
  const value = (i: number) => values[i]!
  const writers = [newClient(k, { producerBatchMaxBytes: 16_384 }), newClient(k, { producerBatchMaxBytes: 16_384, producerBatchCompression: ['lz4'] })]
  const n = 1_200
  for (let i = 0; i < n; i += 100) {
    const res = await writers[(i / 100) % 2]!.produceSync(Array.from({ length: 100 }, (_, j) => ({ topic, key: String(i + j), value: value(i + j) })))
    assert.equal(res.filter((r) => r.error !== null).length, 0)
  }
  let large = 0
  const c = newShareMember(k, topic, group, {
    shareMaxRecords: 40,
    shareMaxRecordsStrict: true,
    hooks: [{ onBrokerRead: (_m: unknown, key: number, bytes: number) => void (key === ApiKey.ShareFetch && bytes > 20_000 && large++) }],
  })
  const slow = Buffer.allocUnsafeSlow
  let allocated = 0
  Buffer.allocUnsafeSlow = (size: number) => {
    if (size > 20_000) allocated++
    return slow(size)
  }
  let got: Record[]
  try {
    got = await pollUntil(c, (all) => all.length >= n, { what: `the ${n} records` })
  } finally {
    Buffer.allocUnsafeSlow = slow
  }
  assert.equal(new Set(got.map(keyOf)).size, n)
  for (const r of got) assert.ok(r.value!.equals(value(Number(keyOf(r)))), `record ${keyOf(r)} changed after it was polled`)
  t.diagnostic(`${allocated} buffers allocated for ${large} large share fetch responses`)
  assert.ok(large >= 10, `at least 10 large share fetch responses (${large})`)
  assert.ok(allocated <= large / 4, `${allocated} buffers allocated for ${large} large responses: they are read into again`)
})

test('pause: a member that pauses the topic releases what it fetched and did not poll, and another member gets it at once, not after the 60 s lock; resumed, the member gets new records', { timeout: 120_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin)
  const group = topicName('sg')
  await shareGroupFromStart(admin, group, { 'share.record.lock.duration.ms': '60000' })
  await produceKeys(admin, topic, 10)
  const a = newShareMember(k, topic, group)
  await waitFor(() => a.bufferedFetchRecords === 10, 'the first member to fetch the 10 records (not polled)')
  a.pauseFetchTopics(topic)
  const pausedAt = Date.now()
  assert.equal(a.bufferedFetchRecords, 0)
  const b = newShareMember(k, topic, group)
  const got = await pollUntil(b, (all) => all.length >= 10, { what: 'the released records at the second member' })
  assert.deepEqual(keysOf(got).sort(), range('k', 10))
  assert.ok(got.every((r) => r.deliveryCount === 2), 'delivered once before, to the paused member')
  assert.ok(Date.now() - pausedAt < 20_000, `${Date.now() - pausedAt} ms after the pause: released, not the 60 s lock expiring`)
  assert.deepEqual((await drainFor(a, 1_000)).map(keyOf), [], 'the paused member polls nothing')
  b.markAcks('accept')
  await b.close()
  a.resumeFetchTopics(topic)
  await produceKeys(admin, topic, 3, { prefix: 'n' })
  const later = await pollUntil(a, (all) => all.length >= 3, { what: 'the new records at the resumed member' })
  assert.deepEqual(keysOf(later), ['n0', 'n1', 'n2'])
})
