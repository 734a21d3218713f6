// Where requests go: the rule of each API, worked out from its key and schema when first routed, and
// the rule that only the protocol's own entry point loads the table of every API (so a process loads
// the codecs of the APIs it uses, not all 91).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { route, routeRule } from '../../src/client/routing.js'
import { ApiKey } from '../../src/protocol/messages/api-key.js'
import { apis, apiByKey } from '../../src/protocol/messages/index.js'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

test('routeRule: partition requests go to leaders, keyed ones to their coordinator, admin ones to the controller, the rest anywhere', () => {
  const kind = (key: number) => routeRule(apiByKey(key)!).kind
  for (const key of [ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.DeleteRecords, ApiKey.OffsetForLeaderEpoch]) assert.equal(kind(key), 'leaders')
  for (const key of [ApiKey.CreateTopics, ApiKey.DeleteTopics, ApiKey.CreatePartitions, ApiKey.ElectLeaders]) assert.equal(kind(key), 'controller')
  for (const key of [ApiKey.Metadata, ApiKey.ApiVersions, ApiKey.DescribeConfigs, ApiKey.ShareFetch, ApiKey.ShareAcknowledge]) assert.equal(kind(key), 'any')
  const coord = (key: number) => {
    const r = routeRule(apiByKey(key)!)
    assert.equal(r.kind, 'coordinator', apiByKey(key)!.name)
    return r as Extract<typeof r, { kind: 'coordinator' }>
  }
  assert.equal(coord(ApiKey.OffsetCommit).coordinatorType, 0)
  assert.equal(coord(ApiKey.JoinGroup).coordinatorType, 0)
  assert.equal(coord(ApiKey.EndTxn).coordinatorType, 1)
  // Both ids named: KIP-98 settles which coordinator answers.
  assert.equal(coord(ApiKey.AddOffsetsToTxn).coordinatorType, 1)
  assert.equal(coord(ApiKey.TxnOffsetCommit).coordinatorType, 0)
  // OffsetFetch v8+ names its groups in an array of structs.
  assert.deepEqual(coord(ApiKey.OffsetFetch).keys, [
    { field: 'groupId', list: false, keyField: null },
    { field: 'groups', list: true, keyField: 'groupId' },
  ])
  // Every API has a rule, and asking again gives the same one.
  for (const api of apis) assert.equal(routeRule(api), routeRule(api), api.name)
})

test('route resolves a coordinator rule against the body: the first place holding a key wins', () => {
  const offsetFetch = apiByKey(ApiKey.OffsetFetch)!
  assert.deepEqual(route(offsetFetch, { groupId: '', groups: [{ groupId: 'g1', topics: null }] }), { kind: 'coordinator', coordinatorType: 0, key: 'g1' })
  assert.deepEqual(route(offsetFetch, { groupId: 'g0', groups: [] }), { kind: 'coordinator', coordinatorType: 0, key: 'g0' })
  // Several groups in one request: no one coordinator, so any broker (callers send one per group).
  assert.deepEqual(route(offsetFetch, { groupId: '', groups: [{ groupId: 'a' }, { groupId: 'b' }] }), { kind: 'any' })
})

test('only the protocol entry point and Admin.apiVersions (loaded when called) reach the table of every API', () => {
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
  const importers: string[] = []
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8')
    if (/^\s*(import|export)\b[^;]*?from\s+'[./]*(protocol\/)?messages\/index\.js'/m.test(text) || /^\s*(import|export)\b[^;]*?from\s+'\.\/messages\/index\.js'/m.test(text)) importers.push(relative(SRC, f))
  }
  assert.deepEqual(importers.sort(), ['protocol/index.ts'])
  // The admin client loads it on demand only.
  assert.match(readFileSync(join(SRC, 'admin/cluster.ts'), 'utf8'), /await import\('\.\.\/protocol\/messages\/index\.js'\)/)
})
