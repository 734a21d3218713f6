import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaWireError } from '../../src/protocol/errors.js'
import type { ProduceRecord, Record } from '../../src/protocol/record.js'
import {
  BrokerE2E,
  HookRegistry,
  LogLevel,
  hookNames,
  nodeName,
  seedNodeId,
  type BrokerMetadata,
  type Hook,
  type Logger,
} from '../../src/hooks/index.js'

const meta: BrokerMetadata = { nodeId: 1, host: '127.0.0.1', port: 9092, rack: null }

function recordingLogger(): Logger & { lines: unknown[][] } {
  const lines: unknown[][] = []
  return { lines, level: () => LogLevel.Debug, log: (level, msg, ...kv) => void lines.push([level, msg, ...kv]) }
}

test('an empty registry has empty buckets and dispatch does nothing', () => {
  const reg = new HookRegistry()
  assert.equal(reg.size, 0)
  for (const name of hookNames) assert.equal(reg[name].length, 0, name)
  reg.produceRecordBuffered({ topic: 't', value: null })
  reg.brokerWrite(meta, 0, 10, 1, 1, null)
})

test('hooks are called in registration order', () => {
  const calls: string[] = []
  const mk = (name: string): Hook => ({ onBrokerThrottle: () => void calls.push(name) })
  const reg = new HookRegistry([mk('a'), mk('b'), mk('c')])
  reg.brokerThrottle(meta, 5, true)
  assert.deepEqual(calls, ['a', 'b', 'c'])
})

test('nested arrays are flattened depth first, at any depth', () => {
  const calls: string[] = []
  const mk = (name: string): Hook => ({ onPollStart: () => void calls.push(name) })
  const reg = new HookRegistry([mk('a'), [mk('b'), [[mk('c')], mk('d')]], [], mk('e')])
  assert.equal(reg.size, 5)
  reg.pollStart(undefined)
  assert.deepEqual(calls, ['a', 'b', 'c', 'd', 'e'])
})

test('a single hook object is accepted without an array', () => {
  let n = 0
  const reg = new HookRegistry({ onGroupManageError: () => void n++ })
  reg.groupManageError(new Error('x'))
  assert.equal(n, 1)
})

test('an object implementing no hook is rejected with its position and the known hook names', () => {
  const ok: Hook = { onNewClient() {} }
  assert.throws(
    () => new HookRegistry([ok, [ok, { onBrokerWrites() {} } as unknown as Hook]]),
    (err: unknown) => {
      assert.ok(err instanceof KafkaWireError)
      assert.equal(err.code, 'INVALID_OPTION')
      assert.equal(err.retriable, false)
      assert.match(err.message, /hooks\[1\]\[1\]/)
      for (const name of hookNames) assert.ok(err.message.includes(name), name)
      return true
    },
  )
  assert.throws(() => new HookRegistry([ok, null as unknown as Hook]), /hooks\[1\]: is null/)
  assert.throws(() => new HookRegistry([42 as unknown as Hook]), /hooks\[0\]: is number/)
  assert.throws(() => new HookRegistry({} as Hook), /hooks: implements no hook/)
})

test('a hook name bound to something other than a function is rejected', () => {
  assert.throws(
    () => new HookRegistry([{ onNewClient() {}, onPollStart: true } as unknown as Hook]),
    /hooks\[0\]\.onPollStart: is boolean, not a function/,
  )
})

test('an array that contains itself is rejected rather than recursed forever', () => {
  const a: unknown[] = [{ onNewClient() {} }]
  a.push(a)
  assert.throws(() => new HookRegistry(a as Hook[]), /hooks\[1\]: contains itself/)
})

test('the same array twice is not a cycle', () => {
  const shared = [{ onNewClient() {} }]
  assert.equal(new HookRegistry([shared, shared]).size, 2)
})

test('an object implementing several hooks lands in every bucket it implements', () => {
  const seen: string[] = []
  class Multi {
    onBrokerWrite(): void {
      seen.push('write')
    }
    onBrokerRead(): void {
      seen.push('read')
    }
    onProduceRecordBuffered(r: ProduceRecord): void {
      seen.push(`buffered:${r.topic}`)
    }
  }
  const multi = new Multi()
  const other: Hook = { onBrokerRead: () => void seen.push('other-read') }
  const reg = new HookRegistry([multi, other])
  assert.deepEqual(reg.onBrokerWrite, [multi])
  assert.deepEqual(reg.onBrokerRead, [multi, other])
  assert.deepEqual(reg.onProduceRecordBuffered, [multi])
  assert.equal(reg.onPollStart.length, 0)
  reg.brokerWrite(meta, 0, 100, 0, 1, null)
  reg.brokerRead(meta, 0, 50, 2, 1, null)
  reg.produceRecordBuffered({ topic: 'orders', value: 'v' })
  assert.deepEqual(seen, ['write', 'read', 'other-read', 'buffered:orders'])
})

test('buckets are frozen', () => {
  const reg = new HookRegistry([{ onNewClient() {} }])
  assert.ok(Object.isFrozen(reg.onNewClient))
  assert.ok(Object.isFrozen(reg.onPollStart))
  assert.ok(Object.isFrozen(reg.hooks))
})

test('every dispatch method passes its arguments through and keeps `this`', () => {
  const got: { [k: string]: unknown[] } = {}
  const hook = {} as { [k: string]: (...args: unknown[]) => void }
  for (const name of hookNames) {
    hook[name] = function (this: unknown, ...args: unknown[]) {
      assert.equal(this, hook)
      got[name] = args
    }
  }
  const reg = new HookRegistry<string>(hook as Hook<string>)
  const rec: Record = { topic: 't', partition: 0, key: null, value: null, headers: [], timestamp: 0, offset: 0n, leaderEpoch: -1, producerId: -1n, producerEpoch: -1 }
  const prec: ProduceRecord = { topic: 't', value: 'x' }
  const e2e = new BrokerE2E({ bytesWritten: 1 })
  const m = { numRecords: 1, uncompressedBytes: 2, compressedBytes: 2, compressionType: 0 }
  const err = new Error('e')
  const ac = new AbortController()
  reg.newClient('client')
  reg.clientClosed('client')
  reg.brokerConnect(meta, 12.5, null, err)
  reg.brokerDisconnect(meta, null as never)
  reg.brokerWrite(meta, 0, 10, 1, 2, null)
  reg.brokerRead(meta, 1, 20, 3, 4, err)
  reg.brokerE2E(meta, 3, e2e)
  reg.brokerThrottle(meta, 100, false)
  reg.groupManageError(err)
  reg.produceBatchWritten(meta, 't', 2, m)
  reg.fetchBatchRead(meta, 't', 3, m)
  reg.produceRecordBuffered(prec)
  reg.produceRecordPartitioned(prec, 7)
  reg.produceRecordUnbuffered(prec, null)
  reg.fetchRecordBuffered(rec)
  reg.fetchRecordUnbuffered(rec, true)
  reg.pollStart(ac.signal)
  reg.transactionEnd('txn-1', true, err)
  assert.deepEqual(got, {
    onNewClient: ['client'],
    onClientClosed: ['client'],
    onBrokerConnect: [meta, 12.5, null, err],
    onBrokerDisconnect: [meta, null],
    onBrokerWrite: [meta, 0, 10, 1, 2, null],
    onBrokerRead: [meta, 1, 20, 3, 4, err],
    onBrokerE2E: [meta, 3, e2e],
    onBrokerThrottle: [meta, 100, false],
    onGroupManageError: [err],
    onProduceBatchWritten: [meta, 't', 2, m],
    onFetchBatchRead: [meta, 't', 3, m],
    onProduceRecordBuffered: [prec],
    onProduceRecordPartitioned: [prec, 7],
    onProduceRecordUnbuffered: [prec, null],
    onFetchRecordBuffered: [rec],
    onFetchRecordUnbuffered: [rec, true],
    onPollStart: [ac.signal],
    onTransactionEnd: ['txn-1', true, err],
  })
})

test('a throwing hook is logged and the next hook still runs', () => {
  const logger = recordingLogger()
  const calls: string[] = []
  const boom = new Error('boom')
  const reg = new HookRegistry(
    [
      { onProduceRecordUnbuffered: () => void calls.push('first') },
      {
        onProduceRecordUnbuffered: () => {
          throw boom
        },
      },
      { onProduceRecordUnbuffered: () => void calls.push('third') },
    ],
    { logger },
  )
  reg.produceRecordUnbuffered({ topic: 't', value: null }, null)
  assert.deepEqual(calls, ['first', 'third'])
  assert.equal(logger.lines.length, 1)
  const [level, msg, ...kv] = logger.lines[0]!
  assert.equal(level, LogLevel.Error)
  assert.equal(typeof msg, 'string')
  assert.deepEqual(kv, ['hook', 'onProduceRecordUnbuffered', 'index', 1, 'err', boom])
})

test('a hook error is not logged when the logger does not want errors', () => {
  const lines: unknown[] = []
  const logger: Logger = { level: () => LogLevel.None, log: (...a) => void lines.push(a) }
  const reg = new HookRegistry([{ onPollStart: () => { throw new Error('x') } }], { logger })
  reg.pollStart(undefined)
  assert.equal(lines.length, 0)
})

test('a throwing logger does not escape into the dispatching path', () => {
  const logger: Logger = { level: () => LogLevel.Debug, log: () => { throw new Error('logger broke') } }
  let after = 0
  const reg = new HookRegistry([{ onPollStart: () => { throw new Error('x') } }, { onPollStart: () => void after++ }], { logger })
  reg.pollStart(undefined)
  assert.equal(after, 1)
})

test('a hook returning a rejected promise is logged, not left unhandled', async () => {
  const logger = recordingLogger()
  const reg = new HookRegistry([{ onNewClient: async () => { throw new Error('async boom') } }], { logger })
  reg.newClient(undefined)
  await new Promise((r) => setImmediate(r))
  assert.equal(logger.lines.length, 1)
  assert.match(String((logger.lines[0]!.at(-1) as Error).message), /async boom/)
})

test('a hook may re-enter the registry while it is being dispatched', () => {
  const calls: string[] = []
  let depth = 0
  const reg: HookRegistry = new HookRegistry([
    {
      onFetchRecordUnbuffered: (_r, polled) => {
        calls.push(`a:${polled}`)
        // A hook that polls again from inside a poll's dispatch.
        if (depth++ === 0) reg.fetchRecordUnbuffered(rec, false)
      },
    },
    { onFetchRecordUnbuffered: (_r, polled) => void calls.push(`b:${polled}`) },
  ])
  const rec: Record = { topic: 't', partition: 0, key: null, value: null, headers: [], timestamp: 0, offset: 0n, leaderEpoch: -1, producerId: -1n, producerEpoch: -1 }
  reg.fetchRecordUnbuffered(rec, true)
  assert.deepEqual(calls, ['a:true', 'a:false', 'b:false', 'b:true'])
})

test('batch dispatch walks records once, every hook per record', () => {
  const calls: string[] = []
  const reg = new HookRegistry([
    { onFetchRecordBuffered: (r) => void calls.push(`a${r.offset}`) },
    { onFetchRecordBuffered: (r) => void calls.push(`b${r.offset}`) },
  ])
  const mk = (o: bigint): Record => ({ topic: 't', partition: 0, key: null, value: null, headers: [], timestamp: 0, offset: o, leaderEpoch: -1, producerId: -1n, producerEpoch: -1 })
  reg.fetchRecordsBuffered([mk(0n), mk(1n)])
  assert.deepEqual(calls, ['a0', 'b0', 'a1', 'b1'])
})

test('BrokerE2E: durationE2E leaves out writeWait, err prefers the write error', () => {
  const e = new BrokerE2E({ writeWait: 100, timeToWrite: 1.5, readWait: 2.25, timeToRead: 3 })
  assert.equal(e.durationE2E(), 6.75)
  assert.equal(e.err(), null)
  const w = new Error('write')
  const r = new Error('read')
  assert.equal(new BrokerE2E({ readErr: r }).err(), r)
  assert.equal(new BrokerE2E({ writeErr: w, readErr: r }).err(), w)
  const blank = new BrokerE2E()
  assert.deepEqual(
    [blank.bytesWritten, blank.bytesRead, blank.writeWait, blank.timeToWrite, blank.readWait, blank.timeToRead, blank.writeErr, blank.readErr],
    [0, 0, 0, 0, 0, 0, null, null],
  )
})

test('nodeName renders seed brokers as seed_<i> and other ids as numbers', () => {
  assert.equal(seedNodeId(0), -2147483648)
  assert.equal(nodeName(seedNodeId(0)), 'seed_0')
  assert.equal(nodeName(seedNodeId(3)), 'seed_3')
  assert.equal(nodeName(0), '0')
  assert.equal(nodeName(42), '42')
  assert.equal(nodeName(-1), '-1')
  assert.equal(nodeName(-10), '-10')
  assert.equal(nodeName(-11), `seed_${-11 + 2147483648}`)
})
