// consumeExcludeTopics: how TopicPatterns picks the topics regex consuming takes, the option's
// checks at construction, and against a real broker each path that consumes by pattern (direct,
// classic group, KIP-848 group): excluded topics, there from the start or created later, are never
// consumed, while the other matching ones are.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Client, consumerOf } from '../../../src/client/client.js'
import { InvalidOptionError } from '../../../src/client/errors.js'
import type { ClientOptions } from '../../../src/client/options.js'
import type { TopicInfo } from '../../../src/client/metadata.js'
import { TopicPatterns } from '../../../src/client/consumer/topic-patterns.js'
import { decodeSubscription } from '../../../src/client/consumer/balancers/protocol.js'
import { DescribeGroups } from '../../../src/protocol/messages/describe-groups.js'
import { ConsumerGroupDescribe } from '../../../src/protocol/messages/consumer-group-describe.js'
import type { KafkaCluster } from '../../../src/testing/index.js'
import { broker, closeAll, createTopic, newClient, topicName, waitFor } from '../helpers.js'
import { keysOf, pollUntil, produceKeys } from './helpers.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

test('TopicPatterns: a topic is taken when an include pattern is found in its name and no exclude pattern is; added patterns count at once', () => {
  const p = new TopicPatterns(['^a-'], ['skip'])
  assert.equal(p.excludes, true)
  assert.equal(p.matches('a-1'), true)
  assert.equal(p.matches('a-skip-1'), false, 'excluded although included')
  assert.equal(p.matches('b-1'), false, 'not included')
  assert.equal(p.matches('xa-1'), false, 'the include pattern is anchored')
  p.add(['^b-'])
  assert.equal(p.matches('b-1'), true, 'a verdict given before the pattern was added is not kept')
  p.add(['^b-skip', 'skip$'])
  assert.equal(p.matches('b-skip'), false, 'an added include pattern does not override an exclude')
  assert.throws(() => p.add(['^c-', '(']), SyntaxError)
  assert.equal(p.matches('c-1'), false, 'nothing of a list with an invalid pattern was added')
  const topic = (name: string, isInternal = false) => [name, { isInternal } as TopicInfo] as const
  const md = new Map([topic('b-2'), topic('a-2'), topic('a-skip-2'), topic('__consumer_offsets', true), topic('a-1'), topic('c-1')])
  assert.deepEqual(p.matching(md), ['a-1', 'a-2', 'b-2'], 'sorted, excluded and unmatched topics left out')
  p.add(['consumer_offsets'])
  assert.deepEqual(p.matching(md), ['a-1', 'a-2', 'b-2'], 'internal topics are never taken')
  assert.equal(new TopicPatterns(['x'], []).excludes, false)
})

test('consumeExcludeTopics is checked at construction, naming the option: it needs consumeRegex, and valid regular expressions', async () => {
  const seed = ['127.0.0.1:1']
  const bad: Array<[string, Partial<ClientOptions>, RegExp]> = [
    ['without consumeRegex', { consumeTopics: ['t'], consumeExcludeTopics: ['skip'] }, /needs consumeRegex/],
    ['an invalid regular expression', { consumeTopics: ['^a-'], consumeRegex: true, consumeExcludeTopics: ['ok', 'skip('] }, /"skip\(" is not a regular expression/],
    ['not a list', { consumeTopics: ['^a-'], consumeRegex: true, consumeExcludeTopics: 'skip' as never }, /list of regular expressions/],
    ['an empty pattern', { consumeTopics: ['^a-'], consumeRegex: true, consumeExcludeTopics: [''] }, /list of regular expressions/],
    ['a number', { consumeTopics: ['^a-'], consumeRegex: true, consumeExcludeTopics: [5] as never }, /list of regular expressions/],
  ]
  for (const [what, opts, message] of bad) {
    assert.throws(() => new Client({ seedBrokers: seed, ...opts }), (err: unknown) => {
      assert.ok(err instanceof InvalidOptionError, `${what}: ${String(err)}`)
      assert.equal(err.option, 'consumeExcludeTopics', what)
      assert.match(err.message, /consumeExcludeTopics/, what)
      assert.match(err.message, message, what)
      return true
    })
  }
  // A share group takes no consumeRegex, so it takes no excludes either.
  assert.throws(() => new Client({ seedBrokers: seed, shareGroup: 'g', consumeTopics: ['t'], consumeExcludeTopics: ['skip'] }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'consumeExcludeTopics')
  const ok = new Client({ seedBrokers: seed, consumeTopics: ['^a-'], consumeRegex: true, consumeExcludeTopics: ['skip', '-tmp$'] })
  assert.deepEqual(ok.config.consumeExcludeTopics, ['skip', '-tmp$'])
  const none = new Client({ seedBrokers: seed, consumeTopics: ['t'], consumeExcludeTopics: [] })
  assert.deepEqual(none.config.consumeExcludeTopics, [], 'an empty list needs no consumeRegex; none is the default')
  await Promise.all([ok.close(), none.close()])
})

/**
 * excludes runs the scenario for one way of consuming: topics a-1, a-2 and a-skip-1 with
 * consumeTopics ['^a-'] and consumeExcludeTopics ['skip'], then a-skip-late and a-late created
 * after the consumer started. The excluded topics' records are always produced first: were they
 * consumed, they would arrive no later than the others'. A last record of a-1 is waited for at the
 * end, so that whatever was fetched of an excluded topic alongside a-late would have arrived.
 */
async function excludes(opts: Partial<ClientOptions>): Promise<{ client: Client; topics: string[] }> {
  const admin = newClient(k)
  const prefix = topicName('ex')
  const a1 = await createTopic(admin, { name: `${prefix}-a-1`, partitions: 2 })
  const a2 = await createTopic(admin, { name: `${prefix}-a-2` })
  const skip1 = await createTopic(admin, { name: `${prefix}-a-skip-1`, partitions: 2 })
  await produceKeys(admin, skip1, 5, { prefix: 'skip1-' })
  await produceKeys(admin, a1, 5, { prefix: 'a1-' })
  await produceKeys(admin, a2, 5, { prefix: 'a2-' })
  const c = newClient(k, { ...opts, consumeTopics: [`^${prefix}-a-`], consumeRegex: true, consumeExcludeTopics: ['skip'], metadataMaxAge: 1_000 })
  const of = (topic: string) => (rs: { topic: string }[]) => rs.filter((r) => r.topic === topic).length
  const got = await pollUntil(c, (rs) => of(a1)(rs) >= 5 && of(a2)(rs) >= 5, { what: 'the matching topics' })

  const lateSkip = await createTopic(admin, { name: `${prefix}-a-skip-late` })
  const late = await createTopic(admin, { name: `${prefix}-a-late` })
  await produceKeys(admin, lateSkip, 5, { prefix: 'late-skip-' })
  await produceKeys(admin, late, 5, { prefix: 'late-' })
  got.push(...(await pollUntil(c, (rs) => of(late)(rs) >= 5, { what: 'the matching topic created later' })))
  await produceKeys(admin, a1, 1, { prefix: 'last-', partition: 0 })
  got.push(...(await pollUntil(c, (rs) => keysOf(rs).includes('last-0'), { what: 'the last record' })))

  assert.deepEqual(got.filter((r) => r.topic.includes('skip')).map((r) => r.topic), [], 'nothing of an excluded topic')
  assert.deepEqual(keysOf(got).sort(), [...['a1-', 'a2-', 'late-'].flatMap((p) => [0, 1, 2, 3, 4].map((i) => p + i)), 'last-0'].sort())
  const topics = [a1, a2, late].sort()
  assert.deepEqual([...consumerOf(c).assigned().keys()].sort(), topics, 'the excluded topics are not assigned')
  return { client: c, topics }
}

test('consumeExcludeTopics, direct consuming: excluded topics, there at the start or created later, are not consumed', { timeout: 120_000 }, async () => {
  await excludes({})
})

test('consumeExcludeTopics, classic group: the JoinGroup subscription leaves excluded topics out, a topic created later included', { timeout: 120_000 }, async () => {
  const group = topicName('g')
  const { client, topics } = await excludes({ consumerGroup: group, heartbeatInterval: 500 })
  const req = DescribeGroups.newRequest()
  req.groups = [group]
  // A classic group describes its members' subscriptions only while Stable; the consumer may still be
  // rejoining (its metadata found the late topic), so wait for that first.
  let described = (await client.request(DescribeGroups, req)).groups[0]!
  await waitFor(async () => (described = (await client.request(DescribeGroups, req)).groups[0]!).groupState === 'Stable', `group ${group} to be Stable`)
  const members = described.members
  assert.equal(members.length, 1)
  assert.deepEqual(decodeSubscription(members[0]!.memberMetadata).topics, topics, 'the member joined with the matching topics only')
})

test('consumeExcludeTopics, KIP-848 group: the member matches topics itself and subscribes by name, a topic created later included', { timeout: 120_000 }, async () => {
  const group = topicName('g')
  const { client, topics } = await excludes({ consumerGroup: group, groupProtocol: 'consumer' })
  const req = ConsumerGroupDescribe.newRequest()
  req.groupIds = [group]
  const res = await client.request(ConsumerGroupDescribe, req)
  const members = res.groups[0]!.members
  assert.equal(members.length, 1)
  // The coordinator describes a member without a regex with an empty one.
  assert.ok(members[0]!.subscribedTopicRegex === null || members[0]!.subscribedTopicRegex === '', `the member has no regex: ${members[0]!.subscribedTopicRegex}`)
  assert.deepEqual([...members[0]!.subscribedTopicNames].sort(), topics)
})
