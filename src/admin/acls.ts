/**
 * ACLs: create, describe and delete access control entries (KIP-140's CreateAcls, DescribeAcls,
 * DeleteAcls), with the protocol's numeric enums as camelCase names. Against a KRaft cluster the
 * brokers forward creations and deletions to the controller, so they go to any broker.
 */
import { ErrorCode } from '../protocol/error-codes.js'
import { KafkaProtocolError, type KafkaWireError } from '../protocol/errors.js'
import { CreateAcls } from '../protocol/messages/create-acls.js'
import { DeleteAcls } from '../protocol/messages/delete-acls.js'
import { DescribeAcls } from '../protocol/messages/describe-acls.js'
import type { ClientCore } from '../client/core.js'
import { InvalidArgumentError } from '../client/errors.js'
import { errorFor, sendAny, type AdminOptions } from './util.js'

/** AclResourceType is the kind of resource an ACL protects. */
export type AclResourceType = 'topic' | 'group' | 'cluster' | 'transactionalId' | 'delegationToken' | 'user'
/** AclPatternType says how an ACL's resource name matches: the exact name, or every name with it as a prefix. */
export type AclPatternType = 'literal' | 'prefixed'
/** AclOperation is what an ACL allows or denies. */
export type AclOperation =
  | 'all'
  | 'read'
  | 'write'
  | 'create'
  | 'delete'
  | 'alter'
  | 'describe'
  | 'clusterAction'
  | 'describeConfigs'
  | 'alterConfigs'
  | 'idempotentWrite'
  | 'createTokens'
  | 'describeTokens'
  | 'twoPhaseCommit'
/** AclPermission says whether an ACL allows or denies. */
export type AclPermission = 'allow' | 'deny'

// The protocol's numbers for the ACL enums, by kafka-wire's names (the KafkaJS facade maps its tables
// through these too).
export const RESOURCE_TYPES: { readonly [k: string]: number } = { any: 1, topic: 2, group: 3, cluster: 4, transactionalId: 5, delegationToken: 6, user: 7 }
export const PATTERN_TYPES: { readonly [k: string]: number } = { any: 1, match: 2, literal: 3, prefixed: 4 }
export const OPERATIONS: { readonly [k: string]: number } = {
  any: 1,
  all: 2,
  read: 3,
  write: 4,
  create: 5,
  delete: 6,
  alter: 7,
  describe: 8,
  clusterAction: 9,
  describeConfigs: 10,
  alterConfigs: 11,
  idempotentWrite: 12,
  createTokens: 13,
  describeTokens: 14,
  twoPhaseCommit: 15,
}
export const PERMISSIONS: { readonly [k: string]: number } = { any: 1, deny: 2, allow: 3 }

const nameOf = (table: { readonly [k: string]: number }, code: number): string => Object.keys(table).find((k) => table[k] === code) ?? 'unknown'

/** AclBinding is one access control entry: who (principal, host) may or may not do what on which resources. */
export interface AclBinding {
  resourceType: AclResourceType
  /** resourceName is the topic, group, transactional id or user name, or `kafka-cluster` for the cluster; `*` is every one. */
  resourceName: string
  /** patternType is 'literal' (the default) or 'prefixed'. */
  patternType?: AclPatternType
  /** principal is `User:name` (or `User:*` for everyone). */
  principal: string
  /** host is the client's address, or `*` (the default) for any. */
  host?: string
  operation: AclOperation
  permission: AclPermission
}

/** DescribedAcl is an ACL as the cluster lists it: every field set. */
export type DescribedAcl = Required<AclBinding>

/**
 * AclFilter selects ACLs: each field left out (or 'any') matches everything; `patternType: 'match'`
 * matches every ACL that applies to `resourceName` (literal, prefixed and wildcard ones).
 */
export interface AclFilter {
  resourceType?: AclResourceType | 'any'
  resourceName?: string | null
  patternType?: AclPatternType | 'any' | 'match'
  principal?: string | null
  host?: string | null
  operation?: AclOperation | 'any'
  permission?: AclPermission | 'any'
}

/** CreatedAcl is one ACL's result of createAcls. */
export interface CreatedAcl {
  acl: AclBinding
  /** error is the ACL's error (INVALID_REQUEST, SECURITY_DISABLED, CLUSTER_AUTHORIZATION_FAILED, …), null on success. */
  error: KafkaWireError | null
}

/** DeletedAcls is one filter's result of deleteAcls: the ACLs it deleted, each with its own error. */
export interface DeletedAcls {
  filter: AclFilter
  deleted: Array<DescribedAcl & { error: KafkaWireError | null }>
  /** error is the filter's error, null on success. */
  error: KafkaWireError | null
}

function code(table: { readonly [k: string]: number }, what: string, v: string | undefined, def: string, allowed: readonly string[]): number {
  const name = v ?? def
  const c = table[name]
  if (c === undefined || !allowed.includes(name)) throw new InvalidArgumentError(what, `${JSON.stringify(v)} is not one of ${allowed.join(', ')}`)
  return c
}

const BINDING_TYPES = ['topic', 'group', 'cluster', 'transactionalId', 'delegationToken', 'user'] as const
const FILTER_TYPES = ['any', ...BINDING_TYPES] as const
const OPERATION_NAMES = Object.keys(OPERATIONS).filter((k) => k !== 'any')

function describeAcl(a: AclBinding): string {
  return `acl ${a.permission} ${a.principal} ${a.operation} on ${a.resourceType} ${a.patternType ?? 'literal'} ${a.resourceName}`
}

/**
 * authorizedOperationsOf decodes an authorized-operations bit field (Metadata, DescribeGroups,
 * DescribeCluster): null when the broker was not asked or did not say.
 */
export function authorizedOperationsOf(bits: number): AclOperation[] | null {
  if (bits === -2147483648) return null
  const out: AclOperation[] = []
  for (const [name, c] of Object.entries(OPERATIONS)) if (c >= 2 && (bits & (1 << c)) !== 0) out.push(name as AclOperation)
  return out
}

/** createAcls creates ACLs and returns one result per ACL, in the order given. */
export async function createAcls(core: ClientCore, acls: AclBinding[], opts: AdminOptions = {}): Promise<CreatedAcl[]> {
  if (!Array.isArray(acls)) throw new InvalidArgumentError('acls', 'must be an array of ACL bindings')
  const creations = acls.map((a, i) => {
    if (typeof a !== 'object' || a === null) throw new InvalidArgumentError(`acls[${i}]`, 'must be an ACL binding')
    if (typeof a.resourceName !== 'string' || a.resourceName === '') throw new InvalidArgumentError(`acls[${i}].resourceName`, 'must be a non-empty string')
    if (typeof a.principal !== 'string' || !a.principal.includes(':')) throw new InvalidArgumentError(`acls[${i}].principal`, `must be a principal such as User:alice, got ${JSON.stringify(a.principal)}`)
    return {
      resourceType: code(RESOURCE_TYPES, `acls[${i}].resourceType`, a.resourceType, '', BINDING_TYPES),
      resourceName: a.resourceName,
      resourcePatternType: code(PATTERN_TYPES, `acls[${i}].patternType`, a.patternType, 'literal', ['literal', 'prefixed']),
      principal: a.principal,
      host: a.host ?? '*',
      operation: code(OPERATIONS, `acls[${i}].operation`, a.operation, '', OPERATION_NAMES),
      permissionType: code(PERMISSIONS, `acls[${i}].permission`, a.permission, '', ['allow', 'deny']),
    }
  })
  if (creations.length === 0) return []
  const res = await sendAny(
    core,
    CreateAcls,
    () => {
      const req = CreateAcls.newRequest()
      req.creations = creations
      return req
    },
    opts,
  )
  return acls.map((acl, i) => {
    const r = res.results[i]
    const error = r === undefined ? new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { resource: describeAcl(acl), errorMessage: 'the broker did not answer for this ACL' }) : errorFor(r.errorCode, { resource: describeAcl(acl), errorMessage: r.errorMessage })
    return { acl, error }
  })
}

function filterFields(f: AclFilter, path: string) {
  if (typeof f !== 'object' || f === null) throw new InvalidArgumentError(path, 'must be an ACL filter object')
  return {
    resourceTypeFilter: code(RESOURCE_TYPES, `${path}.resourceType`, f.resourceType, 'any', FILTER_TYPES),
    resourceNameFilter: f.resourceName ?? null,
    patternTypeFilter: code(PATTERN_TYPES, `${path}.patternType`, f.patternType, 'any', ['any', 'match', 'literal', 'prefixed']),
    principalFilter: f.principal ?? null,
    hostFilter: f.host ?? null,
    operation: code(OPERATIONS, `${path}.operation`, f.operation, 'any', Object.keys(OPERATIONS)),
    permissionType: code(PERMISSIONS, `${path}.permission`, f.permission, 'any', ['any', 'allow', 'deny']),
  }
}

function bindingOf(r: { resourceType: number; resourceName: string; patternType: number }, a: { principal: string; host: string; operation: number; permissionType: number }): DescribedAcl {
  return {
    resourceType: nameOf(RESOURCE_TYPES, r.resourceType) as AclResourceType,
    resourceName: r.resourceName,
    patternType: nameOf(PATTERN_TYPES, r.patternType) as AclPatternType,
    principal: a.principal,
    host: a.host,
    operation: nameOf(OPERATIONS, a.operation) as AclOperation,
    permission: nameOf(PERMISSIONS, a.permissionType) as AclPermission,
  }
}

/** describeAcls lists the ACLs a filter matches (every ACL for an empty filter); it throws the broker's error. */
export async function describeAcls(core: ClientCore, filter: AclFilter = {}, opts: AdminOptions = {}): Promise<DescribedAcl[]> {
  const f = filterFields(filter, 'filter')
  const res = await sendAny(core, DescribeAcls, () => ({ ...DescribeAcls.newRequest(), ...f }), opts)
  if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage, resource: 'acls' })
  return res.resources.flatMap((r) => r.acls.map((a) => bindingOf(r, a)))
}

/** deleteAcls deletes the ACLs each filter matches and returns, per filter, what it deleted. */
export async function deleteAcls(core: ClientCore, filters: AclFilter[], opts: AdminOptions = {}): Promise<DeletedAcls[]> {
  if (!Array.isArray(filters)) throw new InvalidArgumentError('filters', 'must be an array of ACL filters')
  const fs = filters.map((f, i) => filterFields(f, `filters[${i}]`))
  if (fs.length === 0) return []
  const res = await sendAny(
    core,
    DeleteAcls,
    () => {
      const req = DeleteAcls.newRequest()
      req.filters = fs
      return req
    },
    opts,
  )
  return filters.map((filter, i) => {
    const r = res.filterResults[i]
    if (r === undefined) return { filter, deleted: [], error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { resource: 'acl filter', errorMessage: 'the broker did not answer for this filter' }) }
    return {
      filter,
      error: errorFor(r.errorCode, { resource: 'acl filter', errorMessage: r.errorMessage }),
      deleted: r.matchingAcls.map((m) => {
        const acl = bindingOf(m, m)
        return { ...acl, error: errorFor(m.errorCode, { resource: describeAcl(acl), errorMessage: m.errorMessage }) }
      }),
    }
  })
}
