// Isolation levels against records written by the Java client's transactional producer
// (test/fixtures/consumer/TxnProducer.java, run from the broker's own jars): read_committed hides
// aborted transactions and stops at the last stable offset while a transaction is open;
// read_uncommitted shows everything; neither ever surfaces a control batch.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { findJava, resolveKafkaJars, type KafkaCluster } from '../../../src/testing/index.js'
import { toolsLog4jConfig } from '../../../src/testing/java.js'
import { broker, closeAll, createTopic, newClient, waitFor } from '../helpers.js'
import { keysOf, pollUntil } from './helpers.js'
import { consumerOf } from '../../../src/client/client.js'

let k: KafkaCluster

before(async () => {
  k = await broker()
}, { timeout: 300_000 })

after(closeAll)

const TRANSACTIONS = 6 // 3 committed, 3 aborted

test('read_committed hides aborted and open transactions of the Java producer; read_uncommitted shows them; no control record surfaces', { timeout: 180_000 }, async () => {
  const admin = newClient(k)
  const topic = await createTopic(admin, { partitions: 2 })
  const [{ java }, log4j] = await Promise.all([findJava(), toolsLog4jConfig()])
  const libs = k.javaClasspath ?? join(await resolveKafkaJars(k.version), '*')
  const child = spawn(java, [`-Dlog4j2.configurationFile=${log4j}`, '-cp', libs, join('test', 'fixtures', 'consumer', 'TxnProducer.java'), k.bootstrapServers.join(','), topic, String(TRANSACTIONS)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  try {
    await waitFor(() => stdout.includes('open') || child.exitCode !== null, 'the Java producer to write its transactions', 120_000)
    assert.ok(stdout.includes('open'), `TxnProducer failed (exit ${child.exitCode}):\n${stderr.slice(-3000)}`)

    const committed = newClient(k, { consumeTopics: [topic], isolationLevel: 'read_committed' })
    const uncommitted = newClient(k, { consumeTopics: [topic], isolationLevel: 'read_uncommitted' })

    // read_uncommitted: every data record, including aborted and still-open transactions.
    const all = await pollUntil(uncommitted, (rs) => rs.length >= 56, { what: 'every record, read_uncommitted' })
    const allKeys = keysOf(all)
    const count = (prefix: string, keys: string[]) => keys.filter((key) => key.startsWith(prefix)).length
    assert.equal(count('commit-', allKeys), 18)
    assert.equal(count('abort-', allKeys), 18)
    assert.equal(count('plain-', allKeys), 12)
    assert.equal(count('open-', allKeys), 6)
    assert.equal(count('after-', allKeys), 2)
    assert.equal(all.length, 56, 'no control record is handed out')
    assert.ok(all.every((r) => r.key !== null && r.value !== null && r.key.equals(r.value)), 'each record is a data record written by the producer')

    // read_committed: committed and plain records up to the last stable offset, which the open
    // transaction holds back.
    const seen = await pollUntil(committed, (rs) => rs.length >= 30, { what: 'committed records' })
    await waitFor(() => [0, 1].every((p) => {
      const cur = consumerOf(committed).cursor(topic, p)!
      return cur.lastStableOffset >= 0n && cur.offset === cur.lastStableOffset && cur.lastStableOffset < cur.highWatermark
    }), 'read_committed to reach the last stable offset of both partitions')
    // Anything polled meanwhile is checked too.
    seen.push(...(await committed.pollFetches({ signal: AbortSignal.timeout(300) })).records())
    const keys = keysOf(seen)
    assert.equal(count('abort-', keys), 0, 'aborted transactions are hidden')
    assert.equal(count('open-', keys), 0, 'an open transaction is not read')
    assert.equal(count('after-', keys), 0, 'records after an open transaction wait for it (last stable offset)')
    assert.equal(count('commit-', keys), 18)
    assert.equal(count('plain-', keys), 12)
    assert.equal(seen.length, 30)
    for (let t = 0; t < TRANSACTIONS; t += 2) {
      for (let p = 0; p < 2; p++) {
        const mine = seen.filter((r) => r.partition === p).map((r) => r.key!.toString()).filter((key) => key.startsWith(`commit-${t}-`) || key === `plain-${t}-${p}`)
        assert.deepEqual(mine, [`commit-${t}-${p}-0`, `commit-${t}-${p}-1`, `commit-${t}-${p}-2`, `plain-${t}-${p}`], `partition ${p}, transaction ${t}: in order`)
      }
    }

    // Commit the open transaction: its records and the ones behind it appear.
    child.stdin.write('commit\n')
    await waitFor(() => stdout.includes('done') || child.exitCode !== null, 'the open transaction to commit', 60_000)
    assert.ok(stdout.includes('done'), stderr.slice(-3000))
    const rest = await pollUntil(committed, (rs) => rs.length >= 8, { what: 'the committed open transaction' })
    assert.deepEqual(keysOf(rest).sort(), ['after-0', 'after-1', 'open-0-0', 'open-0-1', 'open-0-2', 'open-1-0', 'open-1-1', 'open-1-2'])
    for (const p of [0, 1]) {
      const ks = rest.filter((r) => r.partition === p).map((r) => r.key!.toString())
      assert.deepEqual(ks, [`open-${p}-0`, `open-${p}-1`, `open-${p}-2`, `after-${p}`], `partition ${p}: in offset order`)
    }
    // read_uncommitted saw the open records already; after the commit marker nothing new surfaces.
    const more = await uncommitted.pollFetches({ signal: AbortSignal.timeout(500) })
    assert.equal(more.numRecords(), 0, 'the commit marker is not a record')
    assert.equal(await exited, 0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
