/**
 * The admin's translations between KafkaJS's shapes and kafka-wire's Admin: the numeric ACL and
 * config enums KafkaJS programs pass (AclResourceTypes.TOPIC, ConfigResourceTypes.BROKER, …) and
 * the names kafka-wire's Admin takes, KafkaJS's checks of ACL and config arguments (same messages,
 * same order), and the answers rebuilt in KafkaJS's field names and order.
 */
import type { AclBinding, AclFilter as WireAclFilter, AclOperation, AclPatternType, AclPermission, AclResourceType, ConfigResourceType, ConfigSource as WireConfigSource, DescribedAcl, DescribedConfigs } from '../admin/index.js'
import { OPERATIONS, PATTERN_TYPES, PERMISSIONS, RESOURCE_TYPES } from '../admin/acls.js'
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ConfigResourceTypes, ResourcePatternTypes } from './constants.js'
import { KafkaJSNonRetriableError } from './errors.js'
import type { AclEntry, AclFilter, ConfigEntries, DescribeAclResource, MatchingAcl } from './types.js'

// ---------------------------------------------------------------- enum tables

// The protocol's numbers (kafka-wire's Admin's tables) narrowed to the ones KafkaJS's tables have.
// KafkaJS's UNKNOWN (0) has no name: the protocol does not accept it anywhere (see `enumName`).
const narrowed = (table: { readonly [name: string]: number }, kafkajs: { readonly [name: string]: number }): { readonly [name: string]: number } =>
  Object.fromEntries(Object.entries(table).filter(([, n]) => n !== 0 && Object.values(kafkajs).includes(n)))
const ACL_RESOURCE = narrowed(RESOURCE_TYPES, AclResourceTypes)
const PATTERN = narrowed(PATTERN_TYPES, ResourcePatternTypes)
const OPERATION = narrowed(OPERATIONS, AclOperationTypes)
const PERMISSION = narrowed(PERMISSIONS, AclPermissionTypes)
const CONFIG_RESOURCE: { readonly [name: string]: number } = { topic: 2, broker: 4, brokerLogger: 8 }
// ConfigSource's numbers are the protocol's, which kafka-wire's Admin names in the same order.
const CONFIG_SOURCES: readonly WireConfigSource[] = ['unknown', 'dynamicTopic', 'dynamicBroker', 'dynamicDefaultBroker', 'staticBroker', 'default', 'dynamicBrokerLogger', 'clientMetrics', 'group']

const numberOf = (table: { readonly [name: string]: number }, name: string): number => table[name] ?? 0
const nameOf = (table: { readonly [name: string]: number }, n: number): string | undefined => Object.keys(table).find((k) => table[k] === n)

/**
 * enumName turns one of KafkaJS's enum numbers into kafka-wire's name, or fails: KafkaJS's checks let
 * UNKNOWN (0) through, and ANY or MATCH into createAcls, and the broker answers those with
 * UNKNOWN_SERVER_ERROR or closes the connection; here they fail before anything is sent (see
 * docs/kafkajs.md).
 */
function enumName(table: { readonly [name: string]: number }, n: number, what: string, allowed: readonly string[], entry: unknown): string {
  const name = nameOf(table, n)
  if (name === undefined || !allowed.includes(name)) throw new KafkaJSNonRetriableError(`Invalid ${what} ${n} for this request (kafka-wire/kafkajs refuses it before sending): ${JSON.stringify(entry)}`)
  return name
}

const BINDING_RESOURCES = ['topic', 'group', 'cluster', 'transactionalId', 'delegationToken']
const BINDING_OPERATIONS = Object.keys(OPERATION).filter((k) => k !== 'any')

// ---------------------------------------------------------------- ACL arguments

/**
 * checkAclEntries checks createAcls' entries as KafkaJS does (same messages, same order of checks):
 * principals, hosts and resource names are strings; operation, pattern, permission and resource
 * types are values of KafkaJS's tables.
 */
export function checkAclEntries(acl: unknown): AclEntry[] {
  if (!acl || !Array.isArray(acl)) throw new KafkaJSNonRetriableError(`Invalid ACL array ${String(acl)}`)
  if (acl.length === 0) throw new KafkaJSNonRetriableError('Empty ACL array')
  const entries = acl as AclEntry[]
  if (entries.some((a) => typeof a.principal !== 'string')) throw new KafkaJSNonRetriableError('Invalid ACL array, the principals have to be a valid string')
  if (entries.some((a) => typeof a.host !== 'string')) throw new KafkaJSNonRetriableError('Invalid ACL array, the hosts have to be a valid string')
  if (entries.some((a) => typeof a.resourceName !== 'string')) throw new KafkaJSNonRetriableError('Invalid ACL array, the resourceNames have to be a valid string')
  checkEnums(entries)
  return entries
}

/** checkAclFilters checks deleteAcls' filters as KafkaJS does: strings where given, enums always. */
export function checkAclFilters(filters: unknown): AclFilter[] {
  if (!filters || !Array.isArray(filters)) throw new KafkaJSNonRetriableError(`Invalid ACL Filter array ${String(filters)}`)
  if (filters.length === 0) throw new KafkaJSNonRetriableError('Empty ACL Filter array')
  const fs = filters as AclFilter[]
  const optionalString = (v: unknown) => typeof v === 'string' || typeof v === 'undefined'
  if (!fs.every((f) => optionalString(f.principal))) throw new KafkaJSNonRetriableError('Invalid ACL Filter array, the principals have to be a valid string')
  if (!fs.every((f) => optionalString(f.host))) throw new KafkaJSNonRetriableError('Invalid ACL Filter array, the hosts have to be a valid string')
  if (!fs.every((f) => optionalString(f.resourceName))) throw new KafkaJSNonRetriableError('Invalid ACL Filter array, the resourceNames have to be a valid string')
  checkEnums(fs)
  return fs
}

/** checkAclFilter checks describeAcls' filter as KafkaJS does. */
export function checkAclFilter(f: AclFilter): AclFilter {
  const optionalString = (v: unknown) => typeof v === 'string' || typeof v === 'undefined'
  if (!optionalString(f?.principal)) throw new KafkaJSNonRetriableError('Invalid principal, the principal have to be a valid string')
  if (!optionalString(f.host)) throw new KafkaJSNonRetriableError('Invalid host, the host have to be a valid string')
  if (!optionalString(f.resourceName)) throw new KafkaJSNonRetriableError('Invalid resourceName, the resourceName have to be a valid string')
  if (!Object.values(AclOperationTypes).includes(f.operation)) throw new KafkaJSNonRetriableError(`Invalid operation type ${f.operation}`)
  if (!Object.values(ResourcePatternTypes).includes(f.resourcePatternType)) throw new KafkaJSNonRetriableError(`Invalid resource pattern filter type ${f.resourcePatternType}`)
  if (!Object.values(AclPermissionTypes).includes(f.permissionType)) throw new KafkaJSNonRetriableError(`Invalid permission type ${f.permissionType}`)
  if (!Object.values(AclResourceTypes).includes(f.resourceType)) throw new KafkaJSNonRetriableError(`Invalid resource type ${f.resourceType}`)
  return f
}

function checkEnums(entries: Array<AclEntry | AclFilter>): void {
  const find = (table: object, pick: (e: AclEntry | AclFilter) => number) => entries.find((e) => !Object.values(table).includes(pick(e)))
  let bad = find(AclOperationTypes, (e) => e.operation)
  if (bad) throw new KafkaJSNonRetriableError(`Invalid operation type ${bad.operation}: ${JSON.stringify(bad)}`)
  bad = find(ResourcePatternTypes, (e) => e.resourcePatternType)
  if (bad) throw new KafkaJSNonRetriableError(`Invalid resource pattern type ${bad.resourcePatternType}: ${JSON.stringify(bad)}`)
  bad = find(AclPermissionTypes, (e) => e.permissionType)
  if (bad) throw new KafkaJSNonRetriableError(`Invalid permission type ${bad.permissionType}: ${JSON.stringify(bad)}`)
  bad = find(AclResourceTypes, (e) => e.resourceType)
  if (bad) throw new KafkaJSNonRetriableError(`Invalid resource type ${bad.resourceType}: ${JSON.stringify(bad)}`)
}

/** aclBinding turns a KafkaJS ACL entry into kafka-wire's binding. */
export function aclBinding(a: AclEntry): AclBinding {
  return {
    resourceType: enumName(ACL_RESOURCE, a.resourceType, 'resource type', BINDING_RESOURCES, a) as AclResourceType,
    resourceName: a.resourceName,
    patternType: enumName(PATTERN, a.resourcePatternType, 'resource pattern type', ['literal', 'prefixed'], a) as AclPatternType,
    principal: a.principal,
    host: a.host,
    operation: enumName(OPERATION, a.operation, 'operation type', BINDING_OPERATIONS, a) as AclOperation,
    permission: enumName(PERMISSION, a.permissionType, 'permission type', ['allow', 'deny'], a) as AclPermission,
  }
}

/** aclFilter turns a KafkaJS ACL filter into kafka-wire's (strings left out match everything, as null does on the wire). */
export function aclFilter(f: AclFilter): WireAclFilter {
  return {
    resourceType: enumName(ACL_RESOURCE, f.resourceType, 'resource type', Object.keys(ACL_RESOURCE), f) as AclResourceType | 'any',
    resourceName: f.resourceName ?? null,
    patternType: enumName(PATTERN, f.resourcePatternType, 'resource pattern type', Object.keys(PATTERN), f) as AclPatternType | 'any' | 'match',
    principal: f.principal ?? null,
    host: f.host ?? null,
    operation: enumName(OPERATION, f.operation, 'operation type', Object.keys(OPERATION), f) as AclOperation | 'any',
    permission: enumName(PERMISSION, f.permissionType, 'permission type', Object.keys(PERMISSION), f) as AclPermission | 'any',
  }
}

/**
 * describedAclResources groups described ACLs by resource, as the broker's answer (and so KafkaJS's)
 * does: kafka-wire's Admin lists them one by one in the broker's order, so consecutive ACLs of one
 * resource belong together.
 */
export function describedAclResources(acls: DescribedAcl[]): DescribeAclResource[] {
  const out: DescribeAclResource[] = []
  let last: DescribeAclResource | undefined
  for (const a of acls) {
    const resourceType = numberOf(ACL_RESOURCE, a.resourceType) as AclResourceTypes
    const resourcePatternType = numberOf(PATTERN, a.patternType) as ResourcePatternTypes
    if (last === undefined || last.resourceType !== resourceType || last.resourceName !== a.resourceName || last.resourcePatternType !== resourcePatternType) {
      last = { resourceType, resourceName: a.resourceName, resourcePatternType, acls: [] }
      out.push(last)
    }
    last.acls.push({ principal: a.principal, host: a.host, operation: numberOf(OPERATION, a.operation) as AclOperationTypes, permissionType: numberOf(PERMISSION, a.permission) as AclPermissionTypes })
  }
  return out
}

/** matchingAcl is a deleted ACL in KafkaJS's shape. */
export function matchingAcl(a: DescribedAcl, errorCode: number, errorMessage: string | null): MatchingAcl {
  return {
    errorCode,
    errorMessage: errorMessage as string,
    resourceType: numberOf(ACL_RESOURCE, a.resourceType) as AclResourceTypes,
    resourceName: a.resourceName,
    resourcePatternType: numberOf(PATTERN, a.patternType) as ResourcePatternTypes,
    principal: a.principal,
    host: a.host,
    operation: numberOf(OPERATION, a.operation) as AclOperationTypes,
    permissionType: numberOf(PERMISSION, a.permission) as AclPermissionTypes,
  }
}

// ---------------------------------------------------------------- config arguments

/** checkConfigResources checks describeConfigs' and alterConfigs' resources as KafkaJS does. */
export function checkConfigResources<T extends { type: number; name: string }>(resources: unknown): T[] {
  if (!resources || !Array.isArray(resources)) throw new KafkaJSNonRetriableError(`Invalid resources array ${String(resources)}`)
  if (resources.length === 0) throw new KafkaJSNonRetriableError('Resources array cannot be empty')
  const rs = resources as T[]
  const badType = rs.find((r) => !Object.values(ConfigResourceTypes).includes(r.type as ConfigResourceTypes))
  if (badType) throw new KafkaJSNonRetriableError(`Invalid resource type ${badType.type}: ${JSON.stringify(badType)}`)
  const badName = rs.find((r) => !r.name || typeof r.name !== 'string')
  if (badName) throw new KafkaJSNonRetriableError(`Invalid resource name ${badName.name}: ${JSON.stringify(badName)}`)
  return rs
}

/** configResourceType turns ConfigResourceTypes' number into kafka-wire's name (UNKNOWN fails, see enumName). */
export function configResourceType(r: { type: number }): ConfigResourceType {
  return enumName(CONFIG_RESOURCE, r.type, 'resource type', Object.keys(CONFIG_RESOURCE), r) as ConfigResourceType
}

/** configResourceNumber turns kafka-wire's resource type name back into ConfigResourceTypes' number. */
export function configResourceNumber(type: ConfigResourceType): ConfigResourceTypes {
  return numberOf(CONFIG_RESOURCE, type) as ConfigResourceTypes
}

const sourceNumber = (s: WireConfigSource) => Math.max(0, CONFIG_SOURCES.indexOf(s))

/** configEntries are a described resource's configs in KafkaJS's shape. */
export function configEntries(d: DescribedConfigs): ConfigEntries[] {
  return d.configs.map((c) => ({
    configName: c.name,
    configValue: c.value as string,
    readOnly: c.readOnly,
    isDefault: c.source === 'default',
    configSource: sourceNumber(c.source) as ConfigEntries['configSource'],
    isSensitive: c.sensitive,
    configSynonyms: c.synonyms.map((s) => ({ configName: s.name, configValue: s.value as string, configSource: sourceNumber(s.source) as ConfigEntries['configSource'] })),
  }))
}
