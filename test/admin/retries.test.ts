// What Admin retries and what it does not, against a scripted fake broker (no real broker can be made
// to answer NOT_CONTROLLER or COORDINATOR_LOAD_IN_PROGRESS on demand): a topic whose creation met
// NOT_CONTROLLER is sent again and created, while TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR and
// POLICY_VIOLATION are answered once and are the topics' results; a group whose coordinator was loading
// or moved is asked again (the coordinator looked up again after NOT_COORDINATOR), while
// NON_EMPTY_GROUP is not.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Admin } from '../../src/admin/index.js'
import { Client } from '../../src/client/client.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { KafkaProtocolError } from '../../src/protocol/errors.js'
import { CreateTopics, newCreateTopicsResponseCreatableTopicResult } from '../../src/protocol/messages/create-topics.js'
import { DeleteGroups, newDeleteGroupsResponseDeletableGroupResult } from '../../src/protocol/messages/delete-groups.js'
import { FindCoordinator, newFindCoordinatorResponseCoordinator } from '../../src/protocol/messages/find-coordinator.js'
import { Metadata, newMetadataResponseMetadataResponseBroker } from '../../src/protocol/messages/metadata.js'
import { closePeers, FakePeer, type Received } from '../helpers/fake-peer.js'

after(closePeers)

/** cluster answers Metadata (itself as the one broker and the controller) and FindCoordinator (itself for every key). */
function cluster(peer: FakePeer, req: Received): boolean {
  if (req.api.key === Metadata.key) {
    peer.respond(req, { ...Metadata.newResponse(), clusterId: 'fake', controllerId: 1, brokers: [{ ...newMetadataResponseMetadataResponseBroker(), nodeId: 1, host: '127.0.0.1', port: peer.port }], topics: [] })
    return true
  }
  if (req.api.key === FindCoordinator.key) {
    const keys: string[] = req.body.coordinatorKeys
    peer.respond(req, { ...FindCoordinator.newResponse(), coordinators: keys.map((key) => ({ ...newFindCoordinatorResponseCoordinator(), key, nodeId: 1, host: '127.0.0.1', port: peer.port })) })
    return true
  }
  return false
}

test('createTopics: NOT_CONTROLLER is retried until the topic is created; errors that cannot succeed are answered once', async () => {
  const createdNames: string[][] = []
  let notController = 2
  const peer = await FakePeer.start((req, p) => {
    if (cluster(p, req)) return
    if (req.api.key !== CreateTopics.key) throw new Error(`unexpected ${req.api.name}`)
    const names = (req.body.topics as Array<{ name: string }>).map((t) => t.name)
    createdNames.push(names)
    const code = (name: string) =>
      name === 'moved' && notController-- > 0 ? ErrorCode.NOT_CONTROLLER : name === 'exists' ? ErrorCode.TOPIC_ALREADY_EXISTS : name === 'rf' ? ErrorCode.INVALID_REPLICATION_FACTOR : name === 'policy' ? ErrorCode.POLICY_VIOLATION : 0
    p.respond(req, {
      ...CreateTopics.newResponse(),
      topics: names.map((name) => {
        const errorCode = code(name)
        return { ...newCreateTopicsResponseCreatableTopicResult(), name, errorCode, errorMessage: errorCode === ErrorCode.POLICY_VIOLATION ? 'no topics named policy' : null, numPartitions: 1, replicationFactor: 1 }
      }),
    })
  })
  const admin = new Admin(new Client({ seedBrokers: [`127.0.0.1:${peer.port}`], retryBackoff: 10 }))
  try {
    const res = await admin.createTopics(['moved', 'exists', 'rf', 'policy'].map((name) => ({ name })), { waitReady: false })
    assert.deepEqual(
      res.map((r) => [r.name, r.error?.code ?? null]),
      [
        ['moved', null],
        ['exists', 'TOPIC_ALREADY_EXISTS'],
        ['rf', 'INVALID_REPLICATION_FACTOR'],
        ['policy', 'POLICY_VIOLATION'],
      ],
    )
    assert.ok(res[3]!.error instanceof KafkaProtocolError && res[3]!.error.topic === 'policy' && /no topics named policy/.test(res[3]!.error.message))
    // The first request carries all four; the retries carry only the topic that met NOT_CONTROLLER.
    assert.deepEqual(createdNames, [['moved', 'exists', 'rf', 'policy'], ['moved'], ['moved']])
    await assert.rejects(admin.createTopic({ name: 'policy' }, { waitReady: false }), (e: unknown) => e instanceof KafkaProtocolError && e.code === 'POLICY_VIOLATION' && e.topic === 'policy')
  } finally {
    await admin.client.close()
  }
})

test('deleteGroups: COORDINATOR_LOAD_IN_PROGRESS and NOT_COORDINATOR are retried (the coordinator looked up again); NON_EMPTY_GROUP is not', async () => {
  const asked: string[][] = []
  const answers: { [group: string]: number[] } = {
    loading: [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, 0],
    busy: [ErrorCode.NON_EMPTY_GROUP],
  }
  const peer = await FakePeer.start((req, p) => {
    if (cluster(p, req)) return
    if (req.api.key !== DeleteGroups.key) throw new Error(`unexpected ${req.api.name}`)
    const groups: string[] = req.body.groupsNames
    asked.push(groups)
    p.respond(req, { ...DeleteGroups.newResponse(), results: groups.map((groupId) => ({ ...newDeleteGroupsResponseDeletableGroupResult(), groupId, errorCode: answers[groupId]!.shift() ?? 0 })) })
  })
  const admin = new Admin(new Client({ seedBrokers: [`127.0.0.1:${peer.port}`], retryBackoff: 10 }))
  try {
    const res = await admin.deleteGroups(['loading', 'busy'])
    assert.deepEqual(
      res.map((r) => [r.group, r.error?.code ?? null, r.error?.group ?? null]),
      [
        ['loading', null, null],
        ['busy', 'NON_EMPTY_GROUP', 'busy'],
      ],
    )
    assert.deepEqual(asked, [['loading', 'busy'], ['loading'], ['loading']])
    const lookups = peer.of(FindCoordinator).map((b) => b.coordinatorKeys as string[])
    assert.ok(lookups.filter((ks) => ks.includes('loading')).length >= 2, `the coordinator of "loading" looked up again after NOT_COORDINATOR: ${JSON.stringify(lookups)}`)
  } finally {
    await admin.client.close()
  }
})
