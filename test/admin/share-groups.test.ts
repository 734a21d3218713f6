// Admin's share-group methods (KIP-932) against the real broker: describe a group with a kafka-wire
// share member (state, member, client id, subscription, assignment by topic name) and groups that are
// not share groups; describe offsets (start offset and lag) after a member accepted part of a
// partition; alter the start offset of an empty group and see a new member start there (and the
// broker refuse while a member is in the group); reset it (dry run, an offset, a shift, a time; refused
// with members); delete a topic's state and see it uninitialized (and delivered from the start
// again); argument errors.
//
// Broker facts these tests lean on (Kafka 4.4, checked against the broker):
// - a new share group starts at the LATEST offset unless its config share.auto.offset.reset is
//   'earliest', so every test sets that before a member joins;
// - ShareGroupDescribe answers GROUP_ID_NOT_FOUND both for a group that does not exist and for a
//   group of another type (the message says "is not a share group");
// - AlterShareGroupOffsets and DeleteShareGroupOffsets answer NON_EMPTY_GROUP (68) at the group level
//   while the group has members;
// - DescribeShareGroupOffsets reports startOffset -1 and lag -1 for a partition the group holds no
//   state for (never fetched, or deleted), and lists no such partition when no topics are named; its
//   lag is exact as soon as acknowledgements are answered, while the start offset can stay at an
//   earlier batch boundary for a while, so the tests wait on lag and only bound the start offset.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin, type ShareGroupOffset } from '../../src/admin/index.js'
import type { Client } from '../../src/client/client.js'
import { GroupNotEmptyError, InvalidArgumentError } from '../../src/client/errors.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import type { Record } from '../../src/protocol/record.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, newClient, topicName, waitFor } from '../client/helpers.js'
import { pollUntil, produceKeys, newShareMember, shareGroupFromStart } from '../client/consumer/helpers.js'
import { countingAdmin } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker({})
}, { timeout: 300_000 })

after(closeAll)

/** offsetOf is one partition's entry of a share group's offsets, described now. */
async function offsetOf(admin: Admin, group: string, topic: string, partition: number): Promise<ShareGroupOffset> {
  const [r] = await admin.describeShareGroupOffsets([group], { [topic]: [partition] })
  assert.equal(r!.error, null)
  const o = r!.offsets.find((x) => x.topic === topic && x.partition === partition)
  assert.ok(o !== undefined, `${topic}[${partition}] in ${JSON.stringify(r!.offsets.map((x) => `${x.topic}[${x.partition}]`))}`)
  return o
}

/** emptied waits until the share group has no members (a member that closed has left). */
async function emptied(admin: Admin, group: string): Promise<void> {
  await waitFor(async () => {
    const d = await admin.describeShareGroup(group)
    return d.state === 'Empty' && d.members.length === 0
  }, `share group ${group} to be empty`)
}

/** shareTopic makes a 1-partition topic of `n` records and a share group (no member yet) that reads it from the start. */
async function shareTopic(n: number): Promise<{ admin: Admin; topic: string; group: string }> {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  const group = topicName('sg')
  await admin.createTopic({ name: topic, partitions: 1 })
  await shareGroupFromStart(admin.client, group)
  await produceKeys(admin.client, topic, n, { partition: 0 })
  return { admin, topic, group }
}

/** groupWithMember is shareTopic(10) with a member that holds some of the records. */
async function groupWithMember(): Promise<{ admin: Admin; topic: string; group: string; member: Client }> {
  const { admin, topic, group } = await shareTopic(10)
  const member = newShareMember(k, topic, group)
  await pollUntil(member, (all) => all.length > 0, { what: 'a first record' })
  return { admin, topic, group, member }
}

/** leave closes the member, releasing what it holds, and waits until the group is empty. */
async function leave(admin: Admin, group: string, member: Client): Promise<void> {
  member.markAcks('release')
  await member.close()
  await emptied(admin, group)
}

const isCode = (code: string, group?: string) => (e: unknown) => e instanceof KafkaProtocolError && e.code === code && (group === undefined || e.group === group)
const offsets = (rs: Record[]) => rs.map((r) => Number(r.offset))

test('describeShareGroups: a group with a kafka-wire member (Stable, client id, subscription, assignment by topic name); groups that do not exist or are not share groups give GROUP_ID_NOT_FOUND; one request per coordinator', { timeout: 120_000 }, async () => {
  const { admin, writes } = countingAdmin(k)
  const topic = topicName()
  const group = topicName('sg')
  const missing = topicName('sg')
  const consumerGroup = topicName('cg')
  await admin.createTopic({ name: topic, partitions: 3 })
  await shareGroupFromStart(admin.client, group)
  newShareMember(k, topic, group, { clientId: 'share-describe' })
  await waitFor(async () => {
    const [d] = await admin.describeShareGroups([group])
    return d!.state === 'Stable' && d!.members.length === 1 && d!.members[0]!.assignment.length === 1 && d!.members[0]!.assignment[0]!.partitions.length === 3
  }, 'the member to be assigned the 3 partitions', 60_000)

  const mark = writes.mark
  const [d, gone] = await admin.describeShareGroups([group, missing], { authorizedOperations: true })
  assert.deepEqual(writes.of('ShareGroupDescribe', mark), [1], 'both groups in one request to their coordinator')
  assert.equal(d!.error, null)
  assert.equal(d!.group, group)
  assert.equal(d!.coordinator, 1)
  assert.equal(d!.state, 'Stable')
  assert.equal(d!.assignor, 'simple')
  assert.ok(d!.groupEpoch >= 1 && d!.assignmentEpoch >= 1, `epochs ${d!.groupEpoch}, ${d!.assignmentEpoch}`)
  assert.ok(d!.authorizedOperations?.includes('describe') && d!.authorizedOperations.includes('read'), `operations ${d!.authorizedOperations}`)
  const m = d!.members[0]!
  assert.equal(m.clientId, 'share-describe')
  assert.ok(m.memberId !== '' && m.clientHost !== '')
  assert.ok(m.memberEpoch >= 1)
  assert.equal(m.rackId, null)
  assert.deepEqual(m.subscribedTopics, [topic])
  assert.deepEqual(m.assignment, [{ topic, partitions: [0, 1, 2] }])

  assert.deepEqual([gone!.group, gone!.state, gone!.coordinator, gone!.members], [missing, 'Dead', 1, []])
  assert.ok(isCode('GROUP_ID_NOT_FOUND', missing)(gone!.error), String(gone!.error))
  await assert.rejects(admin.describeShareGroup(missing), isCode('GROUP_ID_NOT_FOUND', missing))
  assert.equal((await admin.describeShareGroup(group)).members.length, 1)

  // A consumer group is not a share group: the broker answers GROUP_ID_NOT_FOUND ("… is not a share group").
  const c = newClient(k, { consumerGroup, consumeTopics: [topic] })
  await waitFor(async () => {
    await c.pollFetches({ signal: AbortSignal.timeout(200) })
    return (await admin.describeGroup(consumerGroup)).state === 'Stable'
  }, 'the consumer group to be stable', 60_000)
  const [cg] = await admin.describeShareGroups([consumerGroup])
  assert.ok(isCode('GROUP_ID_NOT_FOUND', consumerGroup)(cg!.error), String(cg!.error))
  assert.match(cg!.error!.message, /not a share group/)
  assert.deepEqual(await admin.describeShareGroups([]), [])
})

test('describeShareGroupOffsets: -1 before the group fetched a partition; after a member accepts 8 of 20 records, lag is the 12 left (released ones count), also once it closed', { timeout: 120_000 }, async () => {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  const group = topicName('sg')
  await admin.createTopic({ name: topic, partitions: 2 })
  await shareGroupFromStart(admin.client, group)
  await produceKeys(admin.client, topic, 20, { partition: 0 })

  // No member has fetched yet: the group holds no state for the partitions (the broker answers
  // startOffset -1, lag -1; named topics are listed, nothing is listed when none is named).
  const [before] = await admin.describeShareGroupOffsets([group], [topic])
  assert.equal(before!.error, null)
  assert.deepEqual(before!.offsets.map((o) => [o.topic, o.partition, o.startOffset, o.lag, o.error]), [[topic, 0, -1n, -1n, null], [topic, 1, -1n, -1n, null]])

  // Accept offsets 0-7, release the rest; every record seen is marked, so no poll accepts more.
  const m = newShareMember(k, topic, group)
  const accepted = new Set<number>()
  await waitFor(async () => {
    const f = await m.pollFetches({ signal: AbortSignal.timeout(1_000) })
    const rs = f.records()
    const acc = rs.filter((r) => r.offset < 8n)
    if (acc.length > 0) m.markAcks('accept', ...acc)
    if (rs.length > acc.length) m.markAcks('release', ...rs.filter((r) => r.offset >= 8n))
    for (const r of acc) accepted.add(Number(r.offset))
    return accepted.size === 8
  }, 'offsets 0-7 to be delivered and accepted', 60_000)
  await m.flushAcks()
  // Records the member holds again (fetched after their release) count as much as available ones.
  await waitFor(async () => (await offsetOf(admin, group, topic, 0)).lag === 12n, 'lag 12 on partition 0')
  await m.close()
  const o = await offsetOf(admin, group, topic, 0)
  assert.equal(o.lag, 12n, 'close released what the member held: still 12 left')
  // The start offset is at or before the first record not acknowledged (it can stay at an earlier batch boundary).
  assert.ok(o.startOffset >= 0n && o.startOffset <= 8n, `startOffset ${o.startOffset}`)
  assert.equal(o.error, null)

  // With no topic named, the group's initialized partitions are listed.
  const [all] = await admin.describeShareGroupOffsets([group])
  assert.ok(all!.offsets.some((x) => x.topic === topic && x.partition === 0 && x.lag === 12n))
  // A named topic that does not exist is its own entry, partition -1.
  const nope = topicName('missing')
  const [withMissing] = await admin.describeShareGroupOffsets([group], [nope])
  assert.deepEqual(withMissing!.offsets.map((x) => [x.topic, x.partition]), [[nope, -1]])
  assert.ok(isCode('UNKNOWN_TOPIC_OR_PARTITION')(withMissing!.offsets[0]!.error))
})

test('alterShareGroupOffsets: refused with NON_EMPTY_GROUP while a member is in the group (deleteShareGroupOffsets too); once empty, a start offset of 6 makes a new member get offsets 6-9 and none before', { timeout: 120_000 }, async () => {
  const { admin, topic, group, member: a } = await groupWithMember()
  await assert.rejects(admin.alterShareGroupOffsets(group, { [topic]: { 0: 6n } }), (e: unknown) => isCode('NON_EMPTY_GROUP', group)(e) && (e as KafkaProtocolError).errorCode === 68 && !(e as KafkaProtocolError).retriable)
  await assert.rejects(admin.deleteShareGroupOffsets(group, [topic]), isCode('NON_EMPTY_GROUP', group))
  await leave(admin, group, a)

  const nope = topicName('missing')
  const res = await admin.alterShareGroupOffsets(group, { [topic]: { 0: 6n }, [nope]: { 0: 1n } })
  assert.deepEqual(
    res.map((r) => [r.topic, r.partition, r.startOffset, r.error === null ? null : (r.error as KafkaProtocolError).code]),
    [[nope, 0, 1n, 'UNKNOWN_TOPIC_OR_PARTITION'], [topic, 0, 6n, null]].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
  )
  const o = await offsetOf(admin, group, topic, 0)
  assert.deepEqual([o.startOffset, o.lag], [6n, 4n])

  // Bounded: a share member gets every available record; 6-9 are all there is after the new start.
  const b = newShareMember(k, topic, group)
  const got = await pollUntil(b, (all) => new Set(offsets(all)).size >= 4, { what: 'offsets 6-9' })
  assert.deepEqual([...new Set(offsets(got))].sort((x, y) => x - y), [6, 7, 8, 9], 'from the new start offset on, none before')
  // Bounded negative check: 2 s more of polling brings nothing (none before 6 turns up late).
  const late: Record[] = []
  for (const deadline = Date.now() + 2_000; Date.now() < deadline; ) late.push(...(await b.pollFetches({ signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) })).records())
  assert.deepEqual(offsets(late), [])
})

test('deleteShareGroupOffsets: with the group empty, a topic\'s state is deleted (then described as uninitialized, -1) and a new member gets its records from the start again; an unknown topic is its own error', { timeout: 120_000 }, async () => {
  const { admin, topic, group } = await shareTopic(5)
  const a = newShareMember(k, topic, group)
  const first = await pollUntil(a, (all) => all.length >= 5, { what: 'the 5 records' })
  assert.deepEqual(offsets(first).sort(), [0, 1, 2, 3, 4])
  a.markAcks('accept')
  await a.flushAcks()
  await waitFor(async () => (await offsetOf(admin, group, topic, 0)).lag === 0n, 'every record acknowledged (lag 0)')
  await a.close()
  await emptied(admin, group)

  const nope = topicName('missing')
  const res = await admin.deleteShareGroupOffsets(group, [topic, nope])
  assert.deepEqual(res.map((r) => [r.topic, r.error === null ? null : (r.error as KafkaProtocolError).code]), [[topic, null], [nope, 'UNKNOWN_TOPIC_OR_PARTITION']])
  // The broker keeps no state for the topic any more: named, its partition is described as the
  // partition of a group that never fetched it (startOffset -1, lag -1); unnamed, it is not listed.
  const o = await offsetOf(admin, group, topic, 0)
  assert.deepEqual([o.startOffset, o.lag, o.error], [-1n, -1n, null])
  const [all] = await admin.describeShareGroupOffsets([group])
  assert.deepEqual(all!.offsets.filter((x) => x.topic === topic), [])
  // And so the group starts over where share.auto.offset.reset says (earliest): the accepted
  // records are delivered again, as first deliveries.
  const b = newShareMember(k, topic, group)
  const again = await pollUntil(b, (all) => all.length >= 5, { what: 'the 5 records again' })
  assert.deepEqual(offsets(again).sort(), [0, 1, 2, 3, 4])
  for (const r of again) assert.equal(r.deliveryCount, 1)
})

test('resetShareGroupOffsets: refused with GroupNotEmptyError while a member is in; a dry run changes nothing; earliest, a shift and a time move the start offset, kept inside the log; a new member starts there', { timeout: 120_000 }, async () => {
  const { admin, topic, group, member: a } = await groupWithMember()
  await assert.rejects(admin.resetShareGroupOffsets(group, 'earliest'), (e: unknown) => e instanceof GroupNotEmptyError && e.members === 1 && e.group === group)
  await leave(admin, group, a)

  const dry = await admin.resetShareGroupOffsets(group, { offset: 4n }, { dryRun: true })
  assert.deepEqual(dry.map((r) => [r.topic, r.partition, r.offset, r.error]), [[topic, 0, 4n, null]])
  assert.equal((await offsetOf(admin, group, topic, 0)).lag, 10n, 'the dry run changed nothing')
  const moved = await admin.resetShareGroupOffsets(group, { offset: 4n })
  assert.deepEqual(moved.map((r) => [r.partition, r.previous, r.offset, r.error]), [[0, 0n, 4n, null]])
  assert.deepEqual([(await offsetOf(admin, group, topic, 0)).startOffset, (await offsetOf(admin, group, topic, 0)).lag], [4n, 6n])
  // A shift counts from the start offset; one past the log end is kept at the end.
  const shifted = await admin.resetShareGroupOffsets(group, { shiftBy: 3 })
  assert.deepEqual(shifted.map((r) => [r.previous, r.offset]), [[4n, 7n]])
  assert.deepEqual((await admin.resetShareGroupOffsets(group, { shiftBy: 100 })).map((r) => r.offset), [10n])
  // A time: the first record at or after it (produceKeys stamps every record with now; far back is offset 0).
  assert.deepEqual((await admin.resetShareGroupOffsets(group, { timestamp: 0 })).map((r) => r.offset), [0n])
  await admin.resetShareGroupOffsets(group, { offset: 8n }, { topics: [topic] })
  const b = newShareMember(k, topic, group)
  const got = await pollUntil(b, (all) => new Set(offsets(all)).size >= 2, { what: 'offsets 8-9' })
  assert.deepEqual([...new Set(offsets(got))].sort((x, y) => x - y), [8, 9], 'a new member starts at the reset start offset')
})

test('argument errors: InvalidArgumentError naming the argument, before anything is sent', async () => {
  const { admin, writes } = countingAdmin(k)
  const mark = writes.mark
  const named = (path: string) => (e: unknown) => e instanceof InvalidArgumentError && e.argument === path
  await assert.rejects(admin.describeShareGroups([''] as string[]), named('groups[0]'))
  await assert.rejects(admin.describeShareGroups('g' as never), named('groups'))
  await assert.rejects(admin.describeShareGroup(''), named('groups[0]'))
  await assert.rejects(admin.describeShareGroupOffsets([7 as never]), named('groups[0]'))
  await assert.rejects(admin.describeShareGroupOffsets(['g'], { t: [-1] }), named('topics.t'))
  await assert.rejects(admin.alterShareGroupOffsets('', { t: { 0: 1n } }), named('group'))
  await assert.rejects(admin.alterShareGroupOffsets('g', { t: { 0: 5 as never } }), named('offsets[0].offset'))
  await assert.rejects(admin.alterShareGroupOffsets('g', { t: { 0: -2n } }), named('offsets[0].offset'))
  await assert.rejects(admin.alterShareGroupOffsets('g', { t: { x: 1n } as never }), named('offsets[0].partition'))
  await assert.rejects(admin.alterShareGroupOffsets('g', null as never), named('offsets'))
  await assert.rejects(admin.deleteShareGroupOffsets('', ['t']), named('group'))
  await assert.rejects(admin.deleteShareGroupOffsets('g', 't' as never), named('topics'))
  await assert.rejects(admin.deleteShareGroupOffsets('g', ['t', '']), named('topics[1]'))
  await assert.rejects(admin.resetShareGroupOffsets('', 'earliest'), named('group'))
  await assert.rejects(admin.resetShareGroupOffsets('g', 'soon' as never), named('to'))
  assert.equal(writes.mark, mark, 'nothing was sent')
  // Nothing to do is not an error, and sends nothing.
  assert.deepEqual(await admin.alterShareGroupOffsets('g', {}), [])
  assert.deepEqual(await admin.deleteShareGroupOffsets('g', []), [])
  assert.equal(writes.mark, mark)
})
