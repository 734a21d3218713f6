// retryTimeout as a number, as a function of the API key (franz-go's RetryTimeoutFn) and by default
// (the session timeout for JoinGroup, SyncGroup and Heartbeat, 30 s for the rest); 0 is no bound.
// Checked on the resolved options, and on the tries a scripted broker sees when it never answers.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Client } from '../../src/client/client.js'
import { InvalidOptionError, RequestTimeoutError } from '../../src/client/errors.js'
import { resolveConfig } from '../../src/client/options.js'
import { ApiKey } from '../../src/protocol/messages/api-key.js'
import { DescribeCluster } from '../../src/protocol/messages/describe-cluster.js'
import { ListGroups } from '../../src/protocol/messages/list-groups.js'
import { FakePeer, closePeers } from '../helpers/fake-peer.js'

const SEEDS = ['127.0.0.1:1']
const clients: Client[] = []
after(async () => {
  for (const c of clients) await c.close()
  closePeers()
})

test('retryTimeout resolves to a bound by API key: franz-go\'s default, one number, a function; 0 is no bound', () => {
  const byDefault = resolveConfig({ seedBrokers: SEEDS }).retryTimeout
  assert.equal(byDefault(ApiKey.JoinGroup), 45_000)
  assert.equal(byDefault(ApiKey.SyncGroup), 45_000)
  assert.equal(byDefault(ApiKey.Heartbeat), 45_000)
  assert.equal(byDefault(ApiKey.Metadata), 30_000)
  assert.equal(byDefault(-1), 30_000)
  assert.equal(resolveConfig({ seedBrokers: SEEDS, sessionTimeout: 10_000 }).retryTimeout(ApiKey.Heartbeat), 10_000, 'the default follows sessionTimeout')

  const one = resolveConfig({ seedBrokers: SEEDS, retryTimeout: 1_500 }).retryTimeout
  assert.deepEqual([one(ApiKey.JoinGroup), one(ApiKey.Produce)], [1_500, 1_500])
  assert.equal(resolveConfig({ seedBrokers: SEEDS, retryTimeout: 0 }).retryTimeout(ApiKey.Metadata), Infinity)

  const asked: number[] = []
  const fn = resolveConfig({ seedBrokers: SEEDS, retryTimeout: (key) => (asked.push(key), key === ApiKey.FindCoordinator ? 0 : 5_000) }).retryTimeout
  assert.deepEqual([fn(ApiKey.FindCoordinator), fn(ApiKey.ListOffsets)], [Infinity, 5_000])
  assert.deepEqual(asked, [ApiKey.FindCoordinator, ApiKey.ListOffsets])

  for (const bad of [-1, Number.NaN, '1000', {}]) {
    assert.throws(() => resolveConfig({ seedBrokers: SEEDS, retryTimeout: bad as never }), (err: unknown) => err instanceof InvalidOptionError && /retryTimeout/.test(err.message), String(bad))
  }
  const wrong = resolveConfig({ seedBrokers: SEEDS, retryTimeout: () => -5 }).retryTimeout
  assert.throws(() => wrong(ApiKey.Metadata), (err: unknown) => err instanceof InvalidOptionError && /returned -5 for API key 3/.test(err.message))
})

test('a retryTimeout function bounds each request by its API key: one try where it allows none, requestRetries where it allows plenty', { timeout: 30_000 }, async () => {
  // The broker never answers DescribeCluster or ListGroups: each try times out after 100 ms (retriable).
  const peer = await FakePeer.start(() => {})
  const c = new Client({
    seedBrokers: [`127.0.0.1:${peer.port}`],
    requestRetries: 3,
    retryBackoff: 5,
    retryTimeout: (key) => (key === DescribeCluster.key ? 1 : 60_000),
  })
  clients.push(c)
  await assert.rejects(c.request(DescribeCluster, DescribeCluster.newRequest(), { timeout: 100 }), RequestTimeoutError)
  assert.equal(peer.of(DescribeCluster).length, 1, 'a 1 ms bound leaves no time for a second try')
  await assert.rejects(c.request(ListGroups, ListGroups.newRequest(), { timeout: 100 }), RequestTimeoutError)
  assert.equal(peer.of(ListGroups).length, 4, 'the first try and requestRetries (3) more')
})

test('requestTimeoutOverhead alone bounds a try of a request without a timeout field (franz-go\'s default read deadline)', async () => {
  const peer = await FakePeer.start(() => {})
  const c = new Client({ seedBrokers: [`127.0.0.1:${peer.port}`], requestTimeoutOverhead: 300, requestRetries: 0 })
  clients.push(c)
  const start = performance.now()
  await assert.rejects(c.request(ListGroups, ListGroups.newRequest()), RequestTimeoutError)
  const elapsed = performance.now() - start
  assert.equal(peer.of(ListGroups).length, 1)
  // Before, every such request waited requestTimeoutOverhead + 30 s.
  assert.ok(elapsed >= 290 && elapsed < 15_000, `the try failed after ${elapsed} ms, not about 300`)
})
