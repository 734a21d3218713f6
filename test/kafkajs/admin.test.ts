// The admin operations of the KafkaJS facade, differentially: every scenario is one KafkaJS program
// run once with kafkajs@2.2.4 and once with kafka-wire/kafkajs against the same broker (names of its
// own each time), and what it observes (returned values, what the cluster holds afterwards, error
// classes, `type`s and the fields KafkaJS's admin errors carry) must be equal. Parts that differ on
// purpose are kept under `differs` and checked against what docs/kafkajs.md says. The ACL scenarios
// run against a broker of this file's own, started with an authorizer (PLAINTEXT is a super user).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startKafka, type KafkaCluster } from '../../src/testing/index.js'
import { broker } from '../client/helpers.js'
import { caught, errorShape, LIBS, Names, neutralAdmin, until, createTopicNamed, type Lib, type Scenario as SharedScenario } from './helpers.js'

let k: KafkaCluster
let neutral: ReturnType<typeof neutralAdmin>
let withAcls: Promise<KafkaCluster> | undefined

before(async () => {
  k = await broker({ sasl: true })
  neutral = neutralAdmin(k)
})

after(async () => {
  await neutral?.client.close()
  if (withAcls) await (await withAcls).stop()
})

/** aclBroker is a broker with the StandardAuthorizer, started on first use. */
function aclBroker(): Promise<KafkaCluster> {
  withAcls ??= startKafka({ authorizer: true })
  return withAcls
}

type Kafka = InstanceType<Lib['Kafka']>
type KafkaAdmin = ReturnType<Kafka['admin']>

interface Run {
  lib: Lib
  name: 'kafkajs' | 'kafka-wire'
  names: Names
  kafka: Kafka
  admin: KafkaAdmin
}

interface Scenario extends SharedScenario<Run> {
  /** acls runs the scenario against the broker with an authorizer instead of the shared one. */
  acls?: boolean
}

const topic = (names: Names, i: number, partitions: number, configs: { [k: string]: string } = {}) => createTopicNamed(neutral.admin, names, i, partitions, configs)

/** fill writes `counts[p]` records to each partition p of a topic. */
async function fill(t: string, counts: number[]): Promise<void> {
  const records = counts.flatMap((n, partition) => Array.from({ length: n }, (_, i) => ({ topic: t, partition, value: Buffer.from(`p${partition}-${i}`) })))
  const results = await neutral.client.produceSync(records)
  assert.deepEqual(results.filter((r) => r.error !== null), [])
}

/** eventually polls an async condition until it holds. */
async function eventually(cond: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** committed is a group's committed offsets of one topic, by partition. */
async function committed(r: Run, groupId: string, t: string): Promise<string[]> {
  const [res] = await r.admin.fetchOffsets({ groupId, topics: [t] })
  return res!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)
}

/** lows are a topic's log start offsets, by partition. */
async function lows(r: Run, t: string): Promise<string[]> {
  return (await r.admin.fetchTopicOffsets(t)).sort((a, b) => a.partition - b.partition).map((o) => o.low)
}

/** joined starts a consumer of the run's library in `groupId` and resolves once it has joined (it reads nothing). */
async function joined(r: Run, groupId: string, t: string) {
  const c = r.kafka.consumer({ groupId, heartbeatInterval: 500, sessionTimeout: 10_000 })
  let join = false
  c.on(c.events.GROUP_JOIN, () => void (join = true))
  await c.connect()
  await c.subscribe({ topics: [t], fromBeginning: true })
  await c.run({ eachMessage: async () => {} })
  await until(() => join, `${r.name}'s consumer to join ${groupId}`)
  return c
}

/**
 * fail is what a program observes of an error: errorShape, the message where it is KafkaJS's own
 * wording, and the fields KafkaJS's admin errors carry (groups, partitions, errors), each error in
 * them by class, type and retriability.
 */
function fail(lib: Lib, e: unknown, opts: { message?: boolean } = {}): unknown {
  const x = e as { message?: string; groups?: any[]; partitions?: any[]; errors?: any[]; cause?: { partitions?: any[]; name?: string } }
  const inner = (v: any) => (v == null ? v : { name: v.name, type: v.type, code: v.code, retriable: v.retriable, ...(v.topic !== undefined && v.name === 'KafkaJSAlterPartitionReassignmentsError' ? { topic: v.topic, partition: v.partition } : {}) })
  const partitionsOf = (ps: any[] | undefined) => ps?.map((p) => ({ partition: p.partition, offset: p.offset, error: inner(p.error) })).sort((a, b) => a.partition - b.partition)
  return {
    ...(errorShape(lib, e) as object),
    ...(opts.message ? { message: x?.message } : {}),
    ...(x?.groups ? { groups: x.groups.map((g) => ({ groupId: g.groupId, errorCode: g.errorCode, error: inner(g.error) })) } : {}),
    ...(x?.partitions ? { partitions: partitionsOf(x.partitions) } : {}),
    ...(x?.errors ? { errors: x.errors.map(inner) } : {}),
    ...(x?.cause?.partitions ? { causePartitions: partitionsOf(x.cause.partitions) } : {}),
  }
}

const ACL_PRINCIPAL = (names: Names) => `User:${names.group(9)}`

const scenarios: Scenario[] = [
  // ------------------------------------------------------------ createPartitions
  {
    name: 'createPartitions: grows topics, validateOnly changes nothing, errors by topic name, KafkaJS-checked arguments',
    async run(r) {
      const a = await topic(r.names, 0, 1)
      const b = await topic(r.names, 1, 2)
      const result = await r.admin.createPartitions({ topicPartitions: [{ topic: a, count: 3 }, { topic: b, count: 4 }] })
      const count = async (t: string) => (await r.admin.fetchTopicMetadata({ topics: [t] })).topics[0]!.partitions.length
      // KafkaJS resolves once the controller accepted; the new partitions reach the metadata soon after.
      await eventually(async () => (await count(a)) === 3 && (await count(b)) === 4, `${r.name}: the new partitions`)
      const validated = await r.admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: a, count: 10 }] })
      const afterValidate = await count(a)
      const c = r.names.topic(2) // never created
      return {
        counts: [await count(a), await count(b)],
        afterValidate,
        fewer: fail(r.lib, await caught(() => r.admin.createPartitions({ topicPartitions: [{ topic: a, count: 2 }] }))),
        same: fail(r.lib, await caught(() => r.admin.createPartitions({ topicPartitions: [{ topic: b, count: 4 }] }))),
        zero: fail(r.lib, await caught(() => r.admin.createPartitions({ topicPartitions: [{ topic: a, count: 0 }] }))),
        unknown: fail(r.lib, await caught(() => r.admin.createPartitions({ topicPartitions: [{ topic: c, count: 2 }] }))),
        // b (INVALID_PARTITIONS) is listed first, c (unknown) sorts first by name: KafkaJS reports c's error.
        firstByName: fail(r.lib, await caught(() => r.admin.createPartitions({ topicPartitions: [{ topic: b, count: 1 }, { topic: c, count: 2 }] }))),
        stillFour: await count(b),
        empty: fail(r.lib, await caught(() => r.admin.createPartitions({ topicPartitions: [] })), { message: true }),
        twice: fail(r.lib, await caught(() => r.admin.createPartitions({ topicPartitions: [{ topic: a, count: 5 }, { topic: a, count: 6 }] })), { message: true }),
        differs: { result, validated },
      }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: KafkaJS resolves undefined although its declarations say Promise<boolean>.
      assert.deepEqual(kjs, {})
      assert.deepEqual(kw, { result: true, validated: true })
    },
  },
  // ------------------------------------------------------------ setOffsets, resetOffsets
  {
    name: 'setOffsets: commits offsets (past the end too), skips partitions the topic lacks; a consumer starts there',
    async run(r) {
      const t = await topic(r.names, 0, 3)
      await fill(t, [5, 2, 1])
      const g = r.names.group(0)
      await r.admin.setOffsets({ groupId: g, topic: t, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '50' }, { partition: 7, offset: '1' }] })
      const first = await committed(r, g, t)
      await r.admin.setOffsets({ groupId: g, topic: t, partitions: [{ partition: 1, offset: '1' }] })
      const second = await committed(r, g, t)
      // A consumer of the group starts where the offsets say: p0 at 3, p1 at 1, p2 (none) from the beginning.
      const c = r.kafka.consumer({ groupId: g, heartbeatInterval: 500, sessionTimeout: 10_000 })
      const got: string[] = []
      await c.connect()
      await c.subscribe({ topics: [t], fromBeginning: true })
      await c.run({ eachMessage: async ({ message }) => void got.push(String(message.value)) })
      await until(() => got.length >= 4, `${r.name}: 4 messages (got ${got.length})`)
      await c.disconnect()
      const groups = (await r.admin.listGroups()).groups.filter((x) => x.groupId === g)
      // fetchOffsets of every topic of the group, and with resolveOffsets for a group with partitions never committed.
      const all = (await r.admin.fetchOffsets({ groupId: g })).map((x) => ({ ...x, partitions: [...x.partitions].sort((a, b) => a.partition - b.partition) }))
      const g1 = r.names.group(1)
      await r.admin.setOffsets({ groupId: g1, topic: t, partitions: [{ partition: 0, offset: '1' }] })
      const resolved = (await r.admin.fetchOffsets({ groupId: g1, topics: [t], resolveOffsets: true }))[0]!.partitions.sort((a, b) => a.partition - b.partition)
      return {
        first,
        second,
        consumed: got.sort(),
        listed: groups,
        all,
        resolved,
        unknownTopic: fail(r.lib, await caught(() => r.admin.fetchOffsets({ groupId: g, topics: [r.names.topic(1)] }))),
        differs: await committed(r, g1, t),
      }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: KafkaJS commits the offsets resolveOffsets resolved; kafka-wire only reads.
      assert.deepEqual(kjs, ['1', '2', '1'])
      assert.deepEqual(kw, ['1', '-1', '-1'])
    },
  },
  {
    name: 'setOffsets and resetOffsets: unknown topic, a group with running members, bad arguments',
    async run(r) {
      const t = await topic(r.names, 0, 2)
      await fill(t, [2, 2])
      const g = r.names.group(0)
      const missing = r.names.topic(1)
      const unknownTopic = fail(r.lib, await caught(() => r.admin.setOffsets({ groupId: g, topic: missing, partitions: [{ partition: 0, offset: '0' }] })))
      const resetUnknownTopic = fail(r.lib, await caught(() => r.admin.resetOffsets({ groupId: g, topic: missing, earliest: true })))
      const c = await joined(r, g, t)
      const running = fail(r.lib, await caught(() => r.admin.setOffsets({ groupId: g, topic: t, partitions: [{ partition: 0, offset: '1' }] })), { message: true })
      const resetRunning = fail(r.lib, await caught(() => r.admin.resetOffsets({ groupId: g, topic: t, earliest: false })), { message: true })
      await c.disconnect()
      return {
        unknownTopic,
        resetUnknownTopic,
        running,
        resetRunning,
        noGroup: fail(r.lib, await caught(() => r.admin.setOffsets({ groupId: '', topic: t, partitions: [{ partition: 0, offset: '1' }] })), { message: true }),
        noPartitions: fail(r.lib, await caught(() => r.admin.setOffsets({ groupId: g, topic: t, partitions: [] })), { message: true }),
        resetNoTopic: fail(r.lib, await caught(() => r.admin.resetOffsets({ groupId: g, topic: '', earliest: true })), { message: true }),
      }
    },
  },
  {
    name: "resetOffsets: earliest and latest (KafkaJS commits -2/-1, kafka-wire the partitions' offsets; a consumer not from the beginning then starts where it should)",
    async run(r) {
      const t = await topic(r.names, 0, 2)
      await fill(t, [3, 1])
      const g = r.names.group(0)
      await r.admin.resetOffsets({ groupId: g, topic: t, earliest: false })
      const latest = await committed(r, g, t)
      // An offset of its own on p1, then earliest for every partition.
      await r.admin.setOffsets({ groupId: g, topic: t, partitions: [{ partition: 1, offset: '1' }] })
      await r.admin.resetOffsets({ groupId: g, topic: t, earliest: true })
      const earliest = await committed(r, g, t)
      // fetchOffsets with resolveOffsets reads the special offsets as the log's start and end.
      const resolved = (await r.admin.fetchOffsets({ groupId: g, topics: [t], resolveOffsets: true }))[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)
      // Earliest again, then a consumer that would start at the end when it had no offsets.
      await r.admin.resetOffsets({ groupId: g, topic: t, earliest: true })
      const c = r.kafka.consumer({ groupId: g, heartbeatInterval: 500, sessionTimeout: 10_000, maxWaitTimeInMs: 100 })
      const got: string[] = []
      let fetched = false
      c.on(c.events.FETCH, () => void (fetched = true))
      await c.connect()
      await c.subscribe({ topics: [t], fromBeginning: false })
      await c.run({ eachMessage: async ({ partition, message }) => void got.push(`${partition}:${String(message.value)}`) })
      await until(() => fetched, `${r.name}: a first fetch`)
      const marker = await neutral.client.produceSync([{ topic: t, partition: 0, value: Buffer.from('marker') }])
      assert.equal(marker[0]!.error, null)
      await until(() => got.includes('0:marker'), `${r.name}: the marker`)
      await c.disconnect()
      // setOffsets with the special offsets themselves.
      await r.admin.setOffsets({ groupId: g, topic: t, partitions: [{ partition: 0, offset: '-1' }, { partition: 1, offset: '-2' }] })
      const special = await committed(r, g, t)
      return { resolved, differs: { latest, earliest, consumed: got.sort(), special } }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: KafkaJS commits the special offsets themselves, which every consumer reads
      // as "no committed offset": its own consumer then starts from its fromBeginning (here the end),
      // so the reset to earliest does not take; kafka-wire commits the log's start and end.
      assert.deepEqual(kjs.latest, ['-1', '-1'])
      assert.deepEqual(kw.latest, ['3', '1'])
      assert.deepEqual(kjs.earliest, ['-2', '-2'])
      assert.deepEqual(kw.earliest, ['0', '0'])
      assert.deepEqual(kjs.consumed, ['0:marker'])
      assert.deepEqual(kw.consumed, ['0:marker', '0:p0-0', '0:p0-1', '0:p0-2', '1:p1-0'])
      assert.deepEqual(kjs.special, ['-1', '-2'])
      assert.deepEqual(kw.special, ['4', '0'])
    },
  },
  // ------------------------------------------------------------ configs
  {
    name: 'describeConfigs: topic configs by name with and without synonyms, all of them, a broker and its loggers; errors',
    async run(r) {
      const t = await topic(r.names, 0, 1, { 'retention.ms': '123456', 'cleanup.policy': 'compact' })
      const { TOPIC, BROKER, BROKER_LOGGER } = r.lib.ConfigResourceTypes
      const nodeId = String((await r.admin.describeCluster()).brokers[0]!.nodeId)
      const names = ['cleanup.policy', 'retention.ms', 'max.message.bytes']
      const plain = await r.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: t, configNames: names }] })
      const synonyms = await r.admin.describeConfigs({ includeSynonyms: true, resources: [{ type: TOPIC, name: t, configNames: names }] })
      const all = await r.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: t }] })
      const mixed = await r.admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: TOPIC, name: t, configNames: ['retention.ms'] },
          { type: BROKER, name: nodeId, configNames: ['log.retention.hours', 'num.io.threads'] },
          { type: BROKER_LOGGER, name: nodeId, configNames: ['root'] },
        ],
      })
      // Config entries come in the broker's order with KafkaJS, by name with kafka-wire (docs/kafkajs.md).
      const entries = (res: typeof plain) => res.resources.map(({ errorMessage, configEntries, ...rest }) => ({ ...rest, configEntries: [...configEntries].sort((x, y) => x.configName.localeCompare(y.configName)) }))
      const missing = r.names.topic(1)
      return {
        plain: entries(plain),
        synonyms: entries(synonyms),
        all: all.resources[0]!.configEntries.map((c) => c.configName).sort(),
        allRetention: all.resources[0]!.configEntries.find((c) => c.configName === 'retention.ms'),
        mixed: entries(mixed),
        keys: Object.keys(plain).sort(),
        unknownTopic: fail(r.lib, await caught(() => r.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: missing }] }))),
        // The first resource's error, whatever the others.
        secondUnknown: fail(r.lib, await caught(() => r.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: t }, { type: TOPIC, name: missing }] }))),
        badType: fail(r.lib, await caught(() => r.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 99 as never, name: t }] })), { message: true }),
        empty: fail(r.lib, await caught(() => r.admin.describeConfigs({ includeSynonyms: false, resources: [] })), { message: true }),
        badNames: fail(r.lib, await caught(() => r.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: t, configNames: 'retention.ms' as never }] })), { message: true }),
        differs: plain.resources.map((x) => x.errorMessage),
      }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: a resource described without error has errorMessage null (the broker sends '').
      assert.deepEqual(kjs, [''])
      assert.deepEqual(kw, [null])
    },
  },
  {
    name: 'alterConfigs: sets configs, replaces the dynamic set (left-out configs back to default), validateOnly; errors',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      const { TOPIC } = r.lib.ConfigResourceTypes
      const read = async () => {
        const res = await r.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: t, configNames: ['retention.ms', 'cleanup.policy'] }] })
        return res.resources[0]!.configEntries.map((c) => ({ name: c.configName, value: c.configValue, isDefault: c.isDefault, source: c.configSource })).sort((a, b) => a.name.localeCompare(b.name))
      }
      // The controller answers an alteration once it is committed; the broker that describes configs
      // applies it from the metadata log a moment later, for either library. Read once it shows.
      const readShowing = async (values: { [name: string]: string }) => {
        let got = await read()
        const deadline = Date.now() + 10_000
        while (!got.every((c) => values[c.name] === undefined || c.value === values[c.name]) && Date.now() < deadline) {
          await new Promise((res) => setTimeout(res, 50))
          got = await read()
        }
        return got
      }
      const set = await r.admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: t, configEntries: [{ name: 'retention.ms', value: '654321' }, { name: 'cleanup.policy', value: 'compact' }] }] })
      const afterSet = await readShowing({ 'retention.ms': '654321', 'cleanup.policy': 'compact' })
      const replaced = await r.admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: t, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }] })
      const afterReplace = await readShowing({ 'retention.ms': '604800000', 'cleanup.policy': 'delete' })
      const validated = await r.admin.alterConfigs({ validateOnly: true, resources: [{ type: TOPIC, name: t, configEntries: [{ name: 'retention.ms', value: '1' }] }] })
      const afterValidate = await read()
      const alter = (configEntries: Array<{ name: string; value: string }>, name = t) => caught(() => r.admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name, configEntries }] }))
      return {
        set,
        afterSet,
        replaced,
        afterReplace,
        validated,
        afterValidate,
        badValue: fail(r.lib, await alter([{ name: 'retention.ms', value: 'soon' }])),
        badName: fail(r.lib, await alter([{ name: 'no.such.config', value: '1' }])),
        unknownTopic: fail(r.lib, await alter([{ name: 'retention.ms', value: '1000' }], r.names.topic(1))),
        notString: fail(r.lib, await alter([{ name: 'retention.ms', value: 1000 as never }]), { message: true }),
        noEntries: fail(r.lib, await caught(() => r.admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: t } as never] })), { message: true }),
        unchanged: await read(),
      }
    },
  },
  // ------------------------------------------------------------ deleteGroups
  {
    name: 'deleteGroups: deletes empty groups with their offsets; unknown and running groups fail with KafkaJSDeleteGroupsError',
    async run(r) {
      const t = await topic(r.names, 0, 1)
      await fill(t, [2])
      const [g0, g1, g2, g3] = [r.names.group(0), r.names.group(1), r.names.group(2), r.names.group(3)]
      for (const g of [g0, g1, g3]) await neutral.admin.commitOffsets(g, { [t]: { 0: 1n } })
      const deleted = await r.admin.deleteGroups([g0, g1])
      const offsetsAfter = await committed(r, g0, t)
      const unknown = fail(r.lib, await caught(() => r.admin.deleteGroups([g2])))
      // g3 is deleted, the unknown one is reported.
      const mixed = fail(r.lib, await caught(() => r.admin.deleteGroups([g3, r.names.group(4)])))
      const g3After = await committed(r, g3, t)
      const c = await joined(r, g2, t)
      const running = fail(r.lib, await caught(() => r.admin.deleteGroups([g2])))
      await c.disconnect()
      return {
        // In the order given with kafka-wire; the broker's order with KafkaJS (docs/kafkajs.md).
        deleted: [...deleted].sort((a, b) => a.groupId.localeCompare(b.groupId)),
        offsetsAfter,
        unknown,
        mixed,
        g3After,
        running,
        none: await r.admin.deleteGroups([]),
        notArray: fail(r.lib, await caught(() => r.admin.deleteGroups(g0 as never)), { message: true }),
        notString: fail(r.lib, await caught(() => r.admin.deleteGroups([g0, 7 as never])), { message: true }),
        differs: deleted.map((d) => d.groupId),
      }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: kafka-wire answers in the order of the groupIds given; KafkaJS in the
      // broker's, which Kafka 4's group coordinator groups by __consumer_offsets partition.
      assert.deepEqual(kw, ['<group0>', '<group1>'])
      assert.deepEqual([...kjs].sort(), ['<group0>', '<group1>'])
    },
  },
  // ------------------------------------------------------------ deleteTopicRecords
  {
    name: 'deleteTopicRecords: deletes before offsets (-1: all); unknown topic, missing partition, offset past the end',
    async run(r) {
      const t = await topic(r.names, 0, 2)
      await fill(t, [5, 3])
      // First thing after connect: KafkaJS has no topic metadata yet and fails (docs/kafkajs.md).
      const fresh = await caught(() => r.admin.deleteTopicRecords({ topic: t, partitions: [{ partition: 0, offset: '0' }] }))
      await r.admin.fetchTopicMetadata({ topics: [t] })
      const result = await r.admin.deleteTopicRecords({ topic: t, partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '-1' }] })
      const afterDelete = await lows(r, t)
      // Below the log start: nothing more is deleted.
      await r.admin.deleteTopicRecords({ topic: t, partitions: [{ partition: 0, offset: '1' }] })
      const afterBelow = await lows(r, t)
      const missing = r.names.topic(1)
      return {
        result: result === undefined,
        afterDelete,
        afterBelow,
        unknownTopic: fail(r.lib, await caught(() => r.admin.deleteTopicRecords({ topic: missing, partitions: [{ partition: 0, offset: '1' }] }))),
        fetchUnknownTopic: fail(r.lib, await caught(() => r.admin.fetchTopicOffsets(missing))),
        missingPartition: fail(r.lib, await caught(() => r.admin.deleteTopicRecords({ topic: t, partitions: [{ partition: 0, offset: '3' }, { partition: 9, offset: '0' }] }))),
        afterMissing: await lows(r, t),
        // p0 is deleted up to 4, p1's offset is past its end.
        pastEnd: fail(r.lib, await caught(() => r.admin.deleteTopicRecords({ topic: t, partitions: [{ partition: 0, offset: '4' }, { partition: 1, offset: '99' }] }))),
        afterPastEnd: await lows(r, t),
        negative: fail(r.lib, await caught(() => r.admin.deleteTopicRecords({ topic: t, partitions: [{ partition: 1, offset: '-5' }] }))),
        noPartitions: fail(r.lib, await caught(() => r.admin.deleteTopicRecords({ topic: t, partitions: [] })), { message: true }),
        noTopic: fail(r.lib, await caught(() => r.admin.deleteTopicRecords({ topic: 7 as never, partitions: [{ partition: 0, offset: '1' }] })), { message: true }),
        differs: { fresh: (fresh as Error).name },
      }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: KafkaJS looks the partitions' leaders up in metadata that connect() does not load.
      assert.deepEqual(kjs, { fresh: 'KafkaJSTopicMetadataNotLoaded' })
      assert.deepEqual(kw, { fresh: 'Error' }) // caught()'s "did not fail"
    },
  },
  // ------------------------------------------------------------ partition reassignments
  {
    name: 'alterPartitionReassignments and listPartitionReassignments: a move onto the same broker, nothing in progress; refused moves',
    async run(r) {
      const t = await topic(r.names, 0, 2)
      const nodeId = (await r.admin.describeCluster()).brokers[0]!.nodeId
      const moved = await r.admin.alterPartitionReassignments({ topics: [{ topic: t, partitionAssignment: [{ partition: 0, replicas: [nodeId] }, { partition: 1, replicas: [nodeId] }] }] })
      const listAll = await r.admin.listPartitionReassignments({})
      const listOne = await r.admin.listPartitionReassignments({ topics: [{ topic: t, partitions: [0, 1] }] })
      const listUnknown = await r.admin.listPartitionReassignments({ topics: [{ topic: r.names.topic(1), partitions: [0] }] })
      const alter = (topics: unknown) => caught(() => r.admin.alterPartitionReassignments({ topics: topics as never }))
      return {
        moved: moved === undefined,
        listAll: listAll.topics.filter((x: any) => x.name === t || x.topic === t),
        listOne,
        listUnknown,
        noSuchBroker: fail(r.lib, await alter([{ topic: t, partitionAssignment: [{ partition: 0, replicas: [nodeId + 41] }] }])),
        unknownTopic: fail(r.lib, await alter([{ topic: r.names.topic(1), partitionAssignment: [{ partition: 0, replicas: [nodeId] }] }])),
        unknownPartition: fail(r.lib, await alter([{ topic: t, partitionAssignment: [{ partition: 5, replicas: [nodeId] }] }])),
        negativeReplica: fail(r.lib, await alter([{ topic: t, partitionAssignment: [{ partition: 0, replicas: [-1] }] }]), { message: true }),
        twice: fail(r.lib, await alter([{ topic: t, partitionAssignment: [] }, { topic: t, partitionAssignment: [] }]), { message: true }),
        listBad: fail(r.lib, await caught(() => r.admin.listPartitionReassignments({ topics: [{ topic: t, partitions: [-1] }] })), { message: true }),
      }
    },
  },
  // ------------------------------------------------------------ ACLs
  {
    name: 'ACLs on a broker without an authorizer: SECURITY_DISABLED',
    async run(r) {
      const { AclResourceTypes: R, AclOperationTypes: O, AclPermissionTypes: P, ResourcePatternTypes: RP } = r.lib
      const acl = { resourceType: R.TOPIC, resourceName: r.names.topic(0), resourcePatternType: RP.LITERAL, principal: ACL_PRINCIPAL(r.names), host: '*', operation: O.READ, permissionType: P.ALLOW }
      const filter = { resourceType: R.ANY, resourcePatternType: RP.ANY, operation: O.ANY, permissionType: P.ANY }
      return {
        create: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [acl] }))),
        describe: fail(r.lib, await caught(() => r.admin.describeAcls(filter))),
        delete: fail(r.lib, await caught(() => r.admin.deleteAcls({ filters: [filter] }))),
      }
    },
  },
  {
    name: 'createAcls, describeAcls, deleteAcls: created (literal and prefixed), described by filters, deleted per filter; refused ACLs',
    acls: true,
    async run(r) {
      const { AclResourceTypes: R, AclOperationTypes: O, AclPermissionTypes: P, ResourcePatternTypes: RP } = r.lib
      const principal = ACL_PRINCIPAL(r.names)
      const t = r.names.topic(0)
      const g = r.names.group(0)
      const base = { resourceType: R.TOPIC, resourceName: t, resourcePatternType: RP.LITERAL, principal, host: '*', operation: O.READ, permissionType: P.ALLOW }
      const created = await r.admin.createAcls({
        acl: [base, { ...base, operation: O.WRITE, permissionType: P.DENY }, { ...base, resourceType: R.GROUP, resourceName: `${g}-`, resourcePatternType: RP.PREFIXED, host: '10.0.0.1' }],
      })
      const any = { resourceType: R.ANY, resourcePatternType: RP.ANY, operation: O.ANY, permissionType: P.ANY }
      // Resources and their ACLs come in the broker's order, which differs between two runs' names.
      const sorted = (res: { resources: Array<{ resourceName: string; acls: Array<{ operation: number }> }> }) =>
        [...res.resources].sort((a, b) => a.resourceName.localeCompare(b.resourceName)).map((x) => ({ ...x, acls: [...x.acls].sort((a, b) => a.operation - b.operation) }))
      await eventually(async () => (await r.admin.describeAcls({ ...any, principal })).resources.length === 2, `${r.name}: the ACLs`)
      const byPrincipal = await r.admin.describeAcls({ ...any, principal })
      const onTopic = await r.admin.describeAcls({ ...any, resourceType: R.TOPIC, resourceName: t, resourcePatternType: RP.LITERAL })
      const matching = await r.admin.describeAcls({ ...any, resourceType: R.GROUP, resourceName: `${g}-billing`, resourcePatternType: RP.MATCH })
      const denies = await r.admin.describeAcls({ ...any, principal, permissionType: P.DENY })
      const deleted = await r.admin.deleteAcls({
        filters: [
          { ...any, resourceType: R.TOPIC, resourceName: t, resourcePatternType: RP.LITERAL, operation: O.WRITE },
          { ...any, resourceType: R.TOPIC, resourceName: `${t}-none`, resourcePatternType: RP.LITERAL },
          { ...any, principal },
        ],
      })
      const sortedMatches = deleted.filterResponses.map((f) => ({ ...f, matchingAcls: [...f.matchingAcls].sort((a, b) => a.resourceName.localeCompare(b.resourceName) || a.operation - b.operation) }))
      await eventually(async () => (await r.admin.describeAcls({ ...any, principal })).resources.length === 0, `${r.name}: the ACLs gone`)
      return {
        created,
        byPrincipal: sorted(byPrincipal),
        keys: Object.keys(byPrincipal),
        onTopic: sorted(onTopic),
        matching: sorted(matching),
        denies: sorted(denies),
        deleted: sortedMatches,
        deletedKeys: Object.keys(deleted),
        // A principal without its type, an empty name and the cluster under another name: the broker's INVALID_REQUEST.
        noPrincipalType: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [{ ...base, principal: 'alice' }] }))),
        emptyName: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [{ ...base, resourceName: '' }] }))),
        clusterName: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [{ ...base, resourceType: R.CLUSTER, resourceName: 'not-the-cluster' }] }))),
        // A refused ACL does not stop the others.
        partly: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [{ ...base, operation: O.DESCRIBE }, { ...base, principal: 'alice' }] }))),
        partlyCreated: sorted(await (async () => {
          await eventually(async () => (await r.admin.describeAcls({ ...any, principal })).resources.length === 1, `${r.name}: the ACL created`)
          const res = await r.admin.describeAcls({ ...any, principal })
          await r.admin.deleteAcls({ filters: [{ ...any, principal }] })
          return res
        })()),
        badOperation: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [{ ...base, operation: 99 as never }] })), { message: true }),
        noHost: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [{ ...base, host: undefined as never }] })), { message: true }),
        emptyAcls: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [] })), { message: true }),
        badFilter: fail(r.lib, await caught(() => r.admin.describeAcls({ ...any, permissionType: 7 as never })), { message: true }),
        badFilters: fail(r.lib, await caught(() => r.admin.deleteAcls({ filters: [{ ...any, principal: 5 as never }] })), { message: true }),
        differs: fail(r.lib, await caught(() => r.admin.createAcls({ acl: [{ ...base, resourceType: R.ANY }] }))),
      }
    },
    differs(kjs, kw) {
      // docs/kafkajs.md: ANY (or UNKNOWN, MATCH) where an ACL binding needs a concrete value is refused
      // before sending; KafkaJS sends it and gets the broker's UNKNOWN_SERVER_ERROR.
      assert.equal(kjs.name, 'KafkaJSProtocolError')
      assert.equal(kjs.type, 'UNKNOWN')
      assert.equal(kw.name, 'KafkaJSNonRetriableError')
      assert.equal(kw.isNonRetriable, true)
    },
  },
]

describe('KafkaJS admin differential: the same programs on kafkajs@2.2.4 and kafka-wire/kafkajs', () => {
  for (const s of scenarios) {
    test(s.name, { timeout: 180_000 }, async () => {
      const cluster = s.acls ? await aclBroker() : k
      const runs = await Promise.all(
        LIBS.map(async ({ name, lib }) => {
          const names = new Names(name)
          const kafka = new lib.Kafka({ brokers: cluster.bootstrapServers, clientId: `admin-${name}`, logLevel: lib.logLevel.NOTHING, retry: { initialRetryTime: 100, retries: 3 } })
          const admin = kafka.admin()
          await admin.connect()
          try {
            return names.normalize(await s.run({ lib, name, names, kafka, admin })) as { differs?: unknown }
          } finally {
            await admin.disconnect()
          }
        }),
      )
      const [kjs, kw] = runs as [any, any]
      const strip = (o: any) => (o !== null && typeof o === 'object' && !Array.isArray(o) && 'differs' in o ? { ...o, differs: undefined } : o)
      assert.deepEqual(strip(kw), strip(kjs), 'kafka-wire/kafkajs observed what kafkajs@2.2.4 observed')
      if (s.differs) s.differs(kjs.differs, kw.differs)
    })
  }
})
