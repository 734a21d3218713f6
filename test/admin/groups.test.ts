// Admin's group methods against the real broker, classic and KIP-848 groups: list with filters,
// describe with decoded assignments, lag that matches what kafka-consumer-groups --describe prints
// (run through the harness), reset offsets (refused while the group has members, then a consumer that
// starts where the reset says), commit, fetch, delete offsets and groups, remove a static member, and
// one request per coordinator for many groups.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin, type GroupLag } from '../../src/admin/index.js'
import type { Client } from '../../src/client/client.js'
import { GroupNotEmptyError, InvalidArgumentError } from '../../src/client/errors.js'
import type { ClientOptions } from '../../src/client/options.js'
import { javaPartitionForKey } from '../../src/client/producer/partitioner.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import type { KafkaCluster } from '../../src/testing/index.js'
import { broker, closeAll, newClient, topicName, waitFor } from '../client/helpers.js'
import { pollUntil, produceKeys } from '../client/consumer/helpers.js'
import { countingAdmin } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

interface ToolRow {
  topic: string
  partition: number
  current: string
  end: string
  lag: string
  consumer: string
}

/** describeWithJava runs kafka-consumer-groups --describe --group and parses its table. */
async function describeWithJava(group: string): Promise<ToolRow[]> {
  const res = await k.runJavaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', k.bootstrapServers[0]!, '--describe', '--group', group], { timeoutMs: 120_000 })
  assert.equal(res.code, 0, `kafka-consumer-groups failed:\n${res.stderr}\n${res.stdout}`)
  const lines = res.stdout.split('\n')
  const header = lines.findIndex((l) => /^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID/.test(l))
  assert.ok(header >= 0, `no table in:\n${res.stdout}`)
  return lines
    .slice(header + 1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 7 && f[0] === group)
    .map((f) => ({ topic: f[1]!, partition: Number(f[2]), current: f[3]!, end: f[4]!, lag: f[5]!, consumer: f[6]! }))
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
}

/** sameAsJava asserts that a GroupLag says what the Java tool's table says, partition by partition. */
function sameAsJava(lag: GroupLag, rows: ToolRow[]): void {
  assert.equal(lag.partitions.length, rows.length, `partitions: ours ${lag.partitions.map((p) => `${p.topic}[${p.partition}]`)}, Java's ${rows.map((r) => `${r.topic}[${r.partition}]`)}`)
  lag.partitions.forEach((p, i) => {
    const r = rows[i]!
    const where = `${p.topic}[${p.partition}]`
    assert.equal(p.topic, r.topic, where)
    assert.equal(p.partition, r.partition, where)
    assert.equal(p.committed === null ? '-' : String(p.committed), r.current, `${where} CURRENT-OFFSET`)
    assert.equal(String(p.end), r.end, `${where} LOG-END-OFFSET`)
    assert.equal(p.committed === null ? '-' : String(p.lag), r.lag, `${where} LAG`)
    assert.equal(p.memberId ?? '-', r.consumer, `${where} CONSUMER-ID`)
  })
}

/** member starts a group member of the topic and waits until it owns `partitions` partitions. */
async function member(group: string, topic: string, partitions: number, opts: Partial<ClientOptions<Client>> = {}): Promise<Client> {
  const c = newClient(k, { consumeTopics: [topic], consumerGroup: group, disableAutoCommit: true, ...opts })
  const admin = new Admin(newClient(k))
  await waitFor(
    async () => {
      await c.pollFetches({ signal: AbortSignal.timeout(200) })
      const [d] = await admin.describeGroups([group])
      return d!.state === 'Stable' && d!.members.length === 1 && d!.members[0]!.assignment.reduce((n, a) => n + a.partitions.length, 0) === partitions
    },
    `group ${group} stable with ${partitions} partitions assigned`,
    60_000,
  )
  return c
}

test('classic group: describe, list, lag as kafka-consumer-groups shows it, and what an active group refuses', { timeout: 180_000 }, async () => {
  const { admin, writes } = countingAdmin(k)
  const topic = topicName()
  const group = topicName('g')
  await admin.createTopic({ name: topic, partitions: 4 })
  await produceKeys(admin.client, topic, 40)
  const m = await member(group, topic, 4, { clientId: 'lag-test' })
  await m.commitOffsets({ [topic]: { 0: { offset: 3n }, 1: { offset: 7n } } })

  const d = await admin.describeGroup(group, { authorizedOperations: true })
  assert.equal(d.type, 'classic')
  assert.equal(d.state, 'Stable')
  assert.equal(d.protocolType, 'consumer')
  assert.equal(d.protocol, 'cooperative-sticky')
  assert.equal(d.coordinator, 1)
  assert.ok(d.authorizedOperations?.includes('read'))
  assert.equal(d.members.length, 1)
  const mem = d.members[0]!
  assert.equal(mem.clientId, 'lag-test')
  assert.deepEqual(mem.subscribedTopics, [topic])
  assert.deepEqual(mem.assignment, [{ topic, partitions: [0, 1, 2, 3] }])
  assert.equal(mem.memberEpoch, -1)
  assert.ok(mem.metadata.length > 0 && mem.assignmentBytes.length > 0)

  const listed = await admin.listGroups({ states: ['Stable'], types: ['classic'] })
  assert.ok(listed.some((g) => g.group === group && g.state === 'Stable' && g.type === 'classic' && g.protocolType === 'consumer' && g.coordinator === 1))
  assert.ok(!(await admin.listGroups({ types: ['consumer'] })).some((g) => g.group === group))
  assert.ok(!(await admin.listGroups({ states: ['Empty'] })).some((g) => g.group === group))

  // Lag of an active group: committed partitions and assigned ones without a commit (keys spread
  // the 40 records unevenly, so each partition's end comes from the log).
  const ends = (await admin.listEndOffsets([topic])).map((o) => o.offset)
  const [lag] = await admin.lag([group])
  assert.equal(lag!.error, null)
  assert.equal(lag!.members, 1)
  assert.deepEqual(
    lag!.partitions.map((p) => [p.partition, p.committed, p.end, p.lag, p.memberId === mem.memberId, p.clientId]),
    [
      [0, 3n, ends[0], ends[0]! - 3n, true, 'lag-test'],
      [1, 7n, ends[1], ends[1]! - 7n, true, 'lag-test'],
      [2, null, ends[2], ends[2], true, 'lag-test'],
      [3, null, ends[3], ends[3], true, 'lag-test'],
    ],
  )
  assert.equal(lag!.total, 40n - 10n)
  assert.deepEqual(lag!.topics, { [topic]: 30n })
  sameAsJava(lag!, await describeWithJava(group))

  // What kafka-consumer-groups refuses, and what the broker refuses, while the group has a member.
  const mark = writes.mark
  await assert.rejects(admin.resetOffsets(group, 'earliest'), (e: unknown) => e instanceof GroupNotEmptyError && e.group === group && e.state === 'Stable' && e.members === 1 && !e.retriable)
  assert.equal(writes.of('OffsetCommit', mark).length, 0, 'a refused reset commits nothing')
  const [del] = await admin.deleteGroups([group])
  assert.equal(del!.error?.code, 'NON_EMPTY_GROUP')
  assert.equal(del!.error?.group, group)
  const subscribed = await admin.deleteOffsets(group, { [topic]: [0] })
  assert.equal(subscribed[0]!.error?.code, 'GROUP_SUBSCRIBED_TO_TOPIC')
  const outside = await admin.commitOffsets(group, [{ topic, partition: 0, offset: 1n }])
  assert.ok(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION'].includes(outside[0]!.error?.code ?? ''), `got ${outside[0]!.error?.code}`)
  assert.equal(writes.of('OffsetCommit', mark).length, 1, 'a commit refused by the group is not retried')

  // Empty group: the committed partitions only, no consumer.
  await m.close()
  await waitFor(async () => (await admin.describeGroup(group)).state === 'Empty', 'the group to be empty')
  const [emptyLag] = await admin.lag([group])
  assert.deepEqual(
    emptyLag!.partitions.map((p) => [p.partition, p.committed, p.lag, p.memberId]),
    [
      [0, 3n, ends[0]! - 3n, null],
      [1, 7n, ends[1]! - 7n, null],
    ],
  )
  sameAsJava(emptyLag!, await describeWithJava(group))
})

test('resetOffsets: dry run, earliest, latest, shift, timestamp, explicit offsets; then a consumer starts where the reset says', { timeout: 180_000 }, async () => {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  const group = topicName('g')
  await admin.createTopic({ name: topic, partitions: 3 })
  const T0 = 1_700_000_000_000
  await produceKeys(admin.client, topic, 30, { timestamp: (i) => T0 + 1000 * Math.floor(i / 3) })
  const parts = (await admin.listEndOffsets([topic])).map((o) => o.offset)
  assert.equal(
    parts.reduce((a, b) => a + b, 0n),
    30n,
  )
  await admin.commitOffsets(group, { [topic]: { 0: 2n, 1: 2n } })

  // Default topics: those with committed offsets; dry run commits nothing.
  const dry = await admin.resetOffsets(group, 'earliest', { dryRun: true })
  assert.deepEqual(
    dry.map((r) => [r.partition, r.previous, r.offset, r.error]),
    [
      [0, 2n, 0n, null],
      [1, 2n, 0n, null],
    ],
  )
  assert.deepEqual(
    (await admin.fetchOffsets(group)).map((o) => o.offset),
    [2n, 2n],
  )
  const latest = await admin.resetOffsets(group, 'latest', { topics: [topic] })
  assert.deepEqual(
    latest.map((r) => [r.partition, r.previous, r.offset]),
    parts.map((end, p) => [p, p < 2 ? 2n : null, end]),
  )
  // Shift back by 3 from the end; beyond the start it stops at the start.
  const shifted = await admin.resetOffsets(group, { shiftBy: -3 })
  assert.deepEqual(
    shifted.map((r) => r.offset),
    parts.map((end) => end - 3n),
  )
  const far = await admin.resetOffsets(group, { shiftBy: -1000 })
  assert.deepEqual(
    far.map((r) => r.offset),
    [0n, 0n, 0n],
  )
  // By timestamp: records k15.. are stamped T0 + 5 s and later, so each partition's offset is the
  // number of its records among k0..k14 (keys are placed as Java places them).
  const byTime = await admin.resetOffsets(group, { timestamp: T0 + 4500 })
  const before = [0, 1, 2].map((p) => BigInt(Array.from({ length: 15 }, (_, i) => javaPartitionForKey(`k${i}`, 3)).filter((q) => q === p).length))
  assert.deepEqual(
    byTime.map((r) => r.offset),
    before,
  )
  // Explicit offsets are kept inside the log.
  const explicit = await admin.resetOffsets(group, { offsets: { [topic]: { 0: 1n, 2: 10_000n } } })
  assert.deepEqual(
    explicit.map((r) => [r.partition, r.offset]),
    [
      [0, 1n],
      [2, parts[2]!],
    ],
  )
  // To one offset everywhere; then a member of the group starts exactly there.
  const to = await admin.resetOffsets(group, { offset: 4n }, { topics: [topic] })
  assert.ok(to.every((r) => r.offset === (parts[r.partition]! < 4n ? parts[r.partition]! : 4n) && r.error === null))
  const c = newClient(k, { consumeTopics: [topic], consumerGroup: group, disableAutoCommit: true })
  const recs = await pollUntil(c, (all) => new Set(all.map((r) => r.partition)).size === 3, { what: 'records of every partition' })
  for (let p = 0; p < 3; p++) {
    const first = recs.filter((r) => r.partition === p).map((r) => r.offset)
    assert.equal(first[0], 4n, `partition ${p} starts at the reset offset`)
  }
  await c.close()
  // Bad specs fail fast.
  await assert.rejects(admin.resetOffsets(group, 'beginning' as never), InvalidArgumentError)
  await assert.rejects(admin.resetOffsets(group, { offset: -1n }), InvalidArgumentError)
})

test('fetch, commit and delete offsets; delete a group; many groups take one request per coordinator', async () => {
  const { admin, writes } = countingAdmin(k)
  const topic = topicName()
  await admin.createTopic({ name: topic, partitions: 2 })
  const groups = [topicName('g'), topicName('g'), topicName('g')]
  for (const [i, g] of groups.entries()) {
    const res = await admin.commitOffsets(g, [
      { topic, partition: 0, offset: BigInt(i + 1), metadata: `m${i}` },
      { topic, partition: 1, offset: 10n, leaderEpoch: 0 },
    ])
    assert.deepEqual(
      res.map((r) => [r.partition, r.offset, r.error]),
      [
        [0, BigInt(i + 1), null],
        [1, 10n, null],
      ],
    )
  }
  let mark = writes.mark
  const many = await admin.fetchManyOffsets([...groups, topicName('none')])
  assert.equal(writes.of('OffsetFetch', mark).length, 1, 'one OffsetFetch for the one coordinator')
  assert.deepEqual(
    many.map((m) => m.offsets.map((o) => [o.partition, o.offset, o.leaderEpoch, o.metadata])),
    [
      [
        [0, 1n, -1, 'm0'],
        [1, 10n, 0, ''],
      ],
      [
        [0, 2n, -1, 'm1'],
        [1, 10n, 0, ''],
      ],
      [
        [0, 3n, -1, 'm2'],
        [1, 10n, 0, ''],
      ],
      [],
    ],
  )
  // Named partitions without a commit read -1.
  const some = await admin.fetchOffsets(groups[0]!, { [topic]: [1, 0] })
  assert.deepEqual(
    some.map((o) => [o.partition, o.offset]),
    [
      [0, 1n],
      [1, 10n],
    ],
  )
  mark = writes.mark
  const descs = await admin.describeGroups(groups)
  assert.equal(writes.of('ConsumerGroupDescribe', mark).length, 1)
  assert.equal(writes.of('DescribeGroups', mark).length, 1)
  assert.deepEqual(
    descs.map((d) => [d.group, d.state, d.members.length]),
    groups.map((g) => [g, 'Empty', 0]),
  )

  const deleted = await admin.deleteOffsets(groups[0]!, { [topic]: [0] })
  assert.deepEqual(
    deleted.map((r) => [r.partition, r.error]),
    [[0, null]],
  )
  assert.deepEqual(
    (await admin.fetchOffsets(groups[0]!)).map((o) => o.partition),
    [1],
  )
  mark = writes.mark
  const gone = await admin.deleteGroups([groups[1]!, groups[2]!, topicName('none')])
  assert.equal(writes.of('DeleteGroups', mark).length, 1)
  assert.deepEqual(
    gone.map((g) => g.error?.code ?? null),
    [null, null, 'GROUP_ID_NOT_FOUND'],
  )
  const [dead] = await admin.describeGroups([groups[1]!])
  assert.equal(dead!.state, 'Dead')
  assert.equal(dead!.error?.code, 'GROUP_ID_NOT_FOUND')
  await assert.rejects(admin.describeGroup(groups[1]!), (e: unknown) => e instanceof KafkaProtocolError && e.code === 'GROUP_ID_NOT_FOUND' && e.group === groups[1])
  await assert.rejects(admin.deleteGroup(groups[1]!), (e: unknown) => e instanceof KafkaProtocolError && e.code === 'GROUP_ID_NOT_FOUND')
  await assert.rejects(admin.commitOffsets(groups[0]!, [{ topic, partition: 0, offset: 5 as never }]), InvalidArgumentError)
  await assert.rejects(admin.fetchOffsets(''), InvalidArgumentError)
})

test('KIP-848 consumer group: described with ConsumerGroupDescribe (epochs, assignor, assignment by name), listed by type, lag as kafka-consumer-groups shows it', { timeout: 180_000 }, async () => {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  const group = topicName('g')
  await admin.createTopic({ name: topic, partitions: 2 })
  await produceKeys(admin.client, topic, 20)
  const m = await member(group, topic, 2, { groupProtocol: 'consumer', groupRemoteAssignor: 'uniform' })
  await m.commitOffsets({ [topic]: { 1: { offset: 4n } } })
  const d = await admin.describeGroup(group)
  assert.equal(d.type, 'consumer')
  assert.equal(d.state, 'Stable')
  assert.equal(d.protocol, 'uniform')
  assert.ok(d.groupEpoch > 0 && d.assignmentEpoch > 0)
  const mem = d.members[0]!
  assert.ok(mem.memberEpoch > 0)
  assert.deepEqual(mem.assignment, [{ topic, partitions: [0, 1] }])
  assert.deepEqual(mem.targetAssignment, [{ topic, partitions: [0, 1] }])
  assert.deepEqual(mem.subscribedTopics, [topic])
  assert.ok((await admin.listGroups({ types: ['consumer'] })).some((g) => g.group === group && g.type === 'consumer'))
  const [lag] = await admin.lag([group])
  sameAsJava(lag!, await describeWithJava(group))
  await assert.rejects(admin.resetOffsets(group, 'latest'), GroupNotEmptyError)
  await m.close()
})

test('leaveGroup removes a static member by instance id; an unknown member is its own error', { timeout: 120_000 }, async () => {
  const admin = new Admin(newClient(k))
  const topic = topicName()
  const group = topicName('g')
  await admin.createTopic({ name: topic, partitions: 1 })
  const m = await member(group, topic, 1, { instanceId: 'static-1', sessionTimeout: 30_000 })
  const before = (await admin.describeGroup(group)).members[0]!
  assert.equal(before.instanceId, 'static-1')
  const res = await admin.leaveGroup(group, [{ instanceId: 'static-1' }, { instanceId: 'nobody' }], { reason: 'test' })
  assert.equal(res.length, 2)
  assert.equal(res[0]!.instanceId, 'static-1')
  assert.equal(res[0]!.error, null)
  assert.equal(res[1]!.error?.code, 'UNKNOWN_MEMBER_ID')
  assert.equal(res[1]!.error?.group, group)
  // The member is out: it was fenced and joins again with a new member id.
  await waitFor(
    async () => {
      await m.pollFetches({ signal: AbortSignal.timeout(200) })
      const now = (await admin.describeGroup(group)).members
      return now.length === 0 || now[0]!.memberId !== before.memberId
    },
    'the static member to be removed',
    60_000,
  )
  await assert.rejects(admin.leaveGroup(group, []), InvalidArgumentError)
  await m.close()
})
