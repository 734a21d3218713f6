// The public surface of the package entry: what Client offers (and nothing internal), what the entry
// exports (and no helper that is not API), and the error contract: every error class comes from one
// module, carries a code and retriable, and every failure of a closed client is a ClientClosedError.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as kw from '../../src/index.js'
import { Client, ClientClosedError, InvalidOperationError, InvalidOptionError, KafkaWireError } from '../../src/index.js'
import * as errors from '../../src/client/errors.js'
import { Metadata } from '../../src/protocol/messages/metadata.js'
import { coreOf } from '../../src/client/client.js'

const NOWHERE = ['127.0.0.1:1']

/** CLIENT_API is Client's documented surface (README and doc comments); a change here is an API change. */
const CLIENT_API = [
  'addConsumePartitions', 'addConsumeTopics', 'allowRebalance', 'beginTransaction', 'bufferedFetchBytes', 'bufferedFetchRecords',
  'bufferedProduceRecords', 'close', 'closed', 'clusterId', 'commitOffsets', 'commitRecords', 'commitUncommittedOffsets',
  'config', 'discoveredBrokers', 'endTransaction', 'fetchCommittedOffsets', 'fetches', 'flush', 'flushAcks', 'groupMetadata', 'markAcks', 'markCommitRecords',
  'partitionLeader', 'pauseFetchPartitions', 'pauseFetchTopics', 'pollFetches', 'pollRecords', 'produce', 'produceSync',
  'records', 'removeConsumePartitions', 'request', 'resumeFetchPartitions', 'resumeFetchTopics', 'sendOffsetsToTransaction', 'setOffsets', 'tryProduce',
  'updateSeedBrokers',
]

test('Client has exactly its documented members: no internal hub on the prototype or the instance', async () => {
  const proto = Object.getOwnPropertyNames(Client.prototype).filter((n) => n !== 'constructor').sort()
  assert.deepEqual(proto, [...CLIENT_API].sort())
  const c = new Client({ seedBrokers: NOWHERE })
  try {
    assert.deepEqual(Object.keys(c), [], 'no own enumerable state')
    for (const internal of ['broker', 'anyBroker', 'brokersKnown', 'leaderOf', 'coordinator', 'invalidateCoordinator', 'topic', 'log', 'producer', 'consumer', 'metadata', 'hooks', 'requestOn', 'retry']) {
      assert.equal(internal in c, false, `${internal} is not reachable`)
    }
  } finally {
    await c.close()
  }
})

test('the package entry exports the types users name and no internal helper', () => {
  for (const name of ['Client', 'GroupTransactSession', 'Fetches', 'BrokerConnection', 'HookRegistry', 'ErrorCode', 'defaultPartitioner', 'rangeBalancer', 'scramSha512', 'KafkaProtocolError']) {
    assert.ok(name in kw, `${name} is exported`)
  }
  for (const name of ['coreOf', 'ClientCore', 'Producer', 'Consumer', 'ShareConsumer', 'Transactions', 'MetadataCache', 'partitionerFrom', 'mechanismFrom', 'route', 'routeRule']) {
    assert.equal(name in kw, false, `${name} is not exported`)
  }
})

test('every error class of the client module is exported, extends KafkaWireError and has a code and retriable', () => {
  const classes = Object.entries(errors).filter(([, v]) => typeof v === 'function') as Array<[string, new (...a: any[]) => KafkaWireError]>
  assert.ok(classes.length >= 15, `${classes.length} error classes`)
  for (const [name, C] of classes) {
    assert.equal((kw as Record<string, unknown>)[name], C, `${name} is exported from the entry`)
    const e = new C('m', [], {})
    assert.ok(e instanceof KafkaWireError, name)
    assert.equal(typeof e.code, 'string', name)
    assert.ok(e.code.length > 0, name)
    assert.equal(typeof e.retriable, 'boolean', name)
    assert.equal(e.name, name)
  }
})

test('bad options are InvalidOptionError naming the option: sasl settings, hooks, balancers, unknown names', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ sasl: { mechanism: 'PLAIN', user: '', pass: 'x' } }, 'sasl'],
    [{ sasl: { mechanism: 'NOPE' } }, 'sasl'],
    [{ sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' } }, 'sasl'],
    [{ hooks: [{ onNewClint() {} }] }, 'hooks[0]'],
    [{ consumerGroup: 'g', consumeTopics: ['t'], balancers: ['fair'] }, 'balancers'],
    [{ consumerGroup: 'g', consumeTopics: ['t'], balancers: [{}] }, 'balancers'],
    [{ lingerMs: 5 }, 'lingerMs'],
    [{ transactionalId: '' }, 'transactionalId'],
    [{ transactionalId: 't', disableIdempotentWrite: true, requiredAcks: 1 }, 'disableIdempotentWrite'],
    [{ transactionalId: 't', transactionTimeout: 0 }, 'transactionTimeout'],
  ]
  for (const [opts, option] of cases) {
    assert.throws(
      () => new Client({ seedBrokers: NOWHERE, ...opts } as never),
      (err: unknown) => err instanceof InvalidOptionError && err.option === option && err.code === 'INVALID_OPTION' && !err.retriable,
      JSON.stringify(opts),
    )
  }
})

test('options documented to take Infinity (no bound) take it', async () => {
  for (const option of ['recordRetries', 'requestRetries', 'unknownTopicRetries']) {
    const c = new Client({ seedBrokers: NOWHERE, [option]: Infinity })
    assert.equal((coreOf(c).config as unknown as Record<string, number>)[option], Infinity, option)
    await c.close()
  }
})

test('every operation of a closed client fails with ClientClosedError', async () => {
  const c = new Client({ seedBrokers: NOWHERE })
  await c.close()
  await assert.rejects(c.produce({ topic: 't', value: 'v' }), ClientClosedError)
  const viaCallback = await new Promise<Error | null>((resolve) => c.produce({ topic: 't', value: 'v' }, (_r, err) => resolve(err)))
  assert.ok(viaCallback instanceof ClientClosedError)
  const f = await c.pollFetches()
  assert.equal(f.errors().length, 1)
  assert.ok(f.errors()[0]!.error instanceof ClientClosedError)
  await assert.rejects(c.request(Metadata, Metadata.newRequest()), ClientClosedError)
  assert.throws(() => c.addConsumeTopics('t'), ClientClosedError)
  assert.throws(() => c.beginTransaction(), ClientClosedError)
  await assert.rejects(c.endTransaction('commit'), ClientClosedError)
  await assert.rejects(c.sendOffsetsToTransaction({}, { groupId: 'g' }), ClientClosedError)
})

test('group methods without a consumerGroup are InvalidOperationError', async () => {
  const c = new Client({ seedBrokers: NOWHERE, consumeTopics: ['t'] })
  try {
    assert.throws(() => c.groupMetadata(), InvalidOperationError)
    assert.throws(() => c.markCommitRecords(), InvalidOperationError)
    const g = new Client({ seedBrokers: NOWHERE, consumerGroup: 'g', consumeTopics: ['t'] })
    try {
      assert.throws(() => g.addConsumePartitions({ t: { 0: 'earliest' } }), InvalidOperationError)
    } finally {
      await g.close()
    }
  } finally {
    await c.close()
  }
})
