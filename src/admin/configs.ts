/**
 * Configs of topics, brokers, broker loggers, groups and client-metrics subscriptions: describe them
 * with their sources and synonyms, alter them incrementally (set, delete, append, subtract: KIP-339), or
 * replace a resource's whole set (the older AlterConfigs). A named broker's (or its loggers') configs are
 * asked of that broker; the rest of any broker, which forwards changes to the controller.
 */
import { ErrorCode } from '../protocol/error-codes.js'
import { KafkaProtocolError, type KafkaWireError } from '../protocol/errors.js'
import type { ApiMessage } from '../protocol/messages/api.js'
import { AlterConfigs } from '../protocol/messages/alter-configs.js'
import { DescribeConfigs } from '../protocol/messages/describe-configs.js'
import { IncrementalAlterConfigs } from '../protocol/messages/incremental-alter-configs.js'
import type { ClientCore } from '../client/core.js'
import { InvalidArgumentError } from '../client/errors.js'
import { errorFor, groupBy, sendAny, sendTo, type AdminOptions } from './util.js'

/** ConfigResourceType is the kind of thing a config belongs to. */
export type ConfigResourceType = 'topic' | 'broker' | 'brokerLogger' | 'clientMetrics' | 'group'

const RESOURCE_TYPES: { readonly [K in ConfigResourceType]: number } = { topic: 2, broker: 4, brokerLogger: 8, clientMetrics: 16, group: 32 }
const resourceTypeName = (code: number): ConfigResourceType => (Object.keys(RESOURCE_TYPES) as ConfigResourceType[]).find((k) => RESOURCE_TYPES[k] === code) ?? 'topic'

/** ConfigSource says where a config's value comes from. */
export type ConfigSource = 'unknown' | 'dynamicTopic' | 'dynamicBroker' | 'dynamicDefaultBroker' | 'staticBroker' | 'default' | 'dynamicBrokerLogger' | 'clientMetrics' | 'group'
const SOURCES: readonly ConfigSource[] = ['unknown', 'dynamicTopic', 'dynamicBroker', 'dynamicDefaultBroker', 'staticBroker', 'default', 'dynamicBrokerLogger', 'clientMetrics', 'group']

/** ConfigType is a config's value type (DescribeConfigs v3+). */
export type ConfigType = 'unknown' | 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password'
const TYPES: readonly ConfigType[] = ['unknown', 'boolean', 'string', 'int', 'short', 'long', 'double', 'list', 'class', 'password']

/** ConfigResource names a resource: a topic, a broker by node id (as a string; '' for the cluster-wide default), … */
export interface ConfigResource {
  type: ConfigResourceType
  name: string
}

/** ConfigSynonym is one of the values a config could take, in order of precedence. */
export interface ConfigSynonym {
  name: string
  value: string | null
  source: ConfigSource
}

/** ConfigEntry is one config of a described resource. */
export interface ConfigEntry {
  name: string
  /** value is null for sensitive configs and configs without a value. */
  value: string | null
  source: ConfigSource
  readOnly: boolean
  sensitive: boolean
  /** type is the value's type ('unknown' before DescribeConfigs v3). */
  type: ConfigType
  /** documentation is the config's documentation, when asked for. */
  documentation: string | null
  /** synonyms are the values in order of precedence, when asked for (the first is the one in effect). */
  synonyms: ConfigSynonym[]
}

/** DescribedConfigs is one resource's configs. */
export interface DescribedConfigs extends ConfigResource {
  configs: ConfigEntry[]
  /** error is the resource's error (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED, …), null on success. */
  error: KafkaWireError | null
}

/** DescribeConfigsOptions tune describeConfigs. */
export interface DescribeConfigsOptions extends AdminOptions {
  /** names limits the answer to these configs. Default: all. */
  names?: string[]
  /** synonyms asks for every value a config could take, in order of precedence. Default false. */
  synonyms?: boolean
  /** documentation asks for each config's documentation. Default false. */
  documentation?: boolean
}

/** ConfigOp is an incremental change: set a value, delete it (back to the default), or append to / subtract from a list. */
export type ConfigOp = 'set' | 'delete' | 'append' | 'subtract'
const OPS: { readonly [K in ConfigOp]: number } = { set: 0, delete: 1, append: 2, subtract: 3 }

/** AlterConfig is one incremental change to a config. */
export interface AlterConfig {
  name: string
  /** op defaults to 'set'. */
  op?: ConfigOp
  /** value for set, append and subtract (a list value's element); ignored for delete. */
  value?: string | null
}

/** AlterConfigsResource is one resource and its changes. */
export interface AlterConfigsResource extends ConfigResource {
  configs: AlterConfig[]
}

/** ReplaceConfigsResource is one resource and the whole set of its configs (AlterConfigs, non-incremental). */
export interface ReplaceConfigsResource extends ConfigResource {
  configs: { [name: string]: string | null }
}

/** AlteredConfigs is one resource's result of an alter. */
export interface AlteredConfigs extends ConfigResource {
  error: KafkaWireError | null
}

/** AlterConfigsOptions tune the alters. */
export interface AlterConfigsOptions extends AdminOptions {
  /** validateOnly checks the changes without applying them. */
  validateOnly?: boolean
}

function checkResources<T extends ConfigResource>(rs: T[], what: string): T[] {
  if (!Array.isArray(rs)) throw new InvalidArgumentError(what, 'must be an array of { type, name }')
  rs.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || !(r.type in RESOURCE_TYPES)) throw new InvalidArgumentError(`${what}[${i}].type`, `must be one of ${Object.keys(RESOURCE_TYPES).join(', ')}, got ${JSON.stringify(r?.type)}`)
    if (typeof r.name !== 'string') throw new InvalidArgumentError(`${what}[${i}].name`, 'must be a string')
    if (r.name === '' && r.type !== 'broker') throw new InvalidArgumentError(`${what}[${i}].name`, `must name the ${r.type} (only broker configs have a cluster-wide default, '')`)
    if ((r.type === 'broker' || r.type === 'brokerLogger') && r.name !== '' && !/^\d+$/.test(r.name)) throw new InvalidArgumentError(`${what}[${i}].name`, `must be a broker's node id, got ${JSON.stringify(r.name)}`)
  })
  return rs
}

const resourceLabel = (r: ConfigResource) => `${r.type === 'brokerLogger' ? 'broker logger' : r.type} config ${r.name === '' ? '(cluster default)' : r.name}`
const keyOf = (type: number, name: string) => `${type}\u0000${name}`

/**
 * perTarget splits resources by the broker that must answer for them: a named broker's configs (and
 * its loggers') go to that broker, the rest to any one (-1).
 */
function perTarget<T extends ConfigResource>(rs: T[]): Map<number, T[]> {
  return groupBy(rs, (r) => ((r.type === 'broker' || r.type === 'brokerLogger') && r.name !== '' ? Number(r.name) : -1))
}

function send<Req, Res>(core: ClientCore, target: number, api: ApiMessage<Req, Res>, build: (v: number) => Req, opts: AdminOptions): Promise<Res> {
  return target < 0 ? sendAny(core, api, build, opts) : sendTo(core, target, api, build, opts)
}

/** describeConfigs describes resources' configs, one result per resource in the order given. */
export async function describeConfigs(core: ClientCore, resources: ConfigResource[], opts: DescribeConfigsOptions = {}): Promise<DescribedConfigs[]> {
  checkResources(resources, 'resources')
  const found = new Map<string, DescribedConfigs>()
  await Promise.all(
    [...perTarget(resources)].map(async ([target, rs]) => {
      const res = await send(
        core,
        target,
        DescribeConfigs,
        (version) => {
          const req = DescribeConfigs.newRequest()
          req.resources = rs.map((r) => ({ resourceType: RESOURCE_TYPES[r.type], resourceName: r.name, configurationKeys: opts.names ?? null }))
          req.includeSynonyms = opts.synonyms === true
          if (version >= 3) req.includeDocumentation = opts.documentation === true
          return req
        },
        opts,
      )
      for (const r of res.results) {
        const type = resourceTypeName(r.resourceType)
        found.set(keyOf(r.resourceType, r.resourceName), {
          type,
          name: r.resourceName,
          error: errorFor(r.errorCode, { resource: resourceLabel({ type, name: r.resourceName }), errorMessage: r.errorMessage, ...(type === 'topic' ? { topic: r.resourceName } : {}) }),
          configs: r.configs
            .map((c) => ({
              name: c.name,
              value: c.value,
              source: SOURCES[c.configSource] ?? 'unknown',
              readOnly: c.readOnly,
              sensitive: c.isSensitive,
              type: TYPES[c.configType] ?? 'unknown',
              documentation: c.documentation,
              synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: SOURCES[s.source] ?? 'unknown' })),
            }))
            .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        })
      }
    }),
  )
  return resources.map(
    (r) =>
      found.get(keyOf(RESOURCE_TYPES[r.type], r.name)) ?? { ...r, configs: [], error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { resource: resourceLabel(r), errorMessage: 'the broker did not answer for this resource' }) },
  )
}

/**
 * alterConfigs changes resources' configs incrementally (IncrementalAlterConfigs, KIP-339), one
 * result per resource in the order given; configs not named keep their values.
 */
export async function alterConfigs(core: ClientCore, resources: AlterConfigsResource[], opts: AlterConfigsOptions = {}): Promise<AlteredConfigs[]> {
  checkResources(resources, 'resources')
  resources.forEach((r, i) => {
    if (!Array.isArray(r.configs)) throw new InvalidArgumentError(`resources[${i}].configs`, 'must be an array of { name, op, value }')
    r.configs.forEach((c, j) => {
      if (typeof c?.name !== 'string' || c.name === '') throw new InvalidArgumentError(`resources[${i}].configs[${j}].name`, 'must be a config name')
      if (c.op !== undefined && !(c.op in OPS)) throw new InvalidArgumentError(`resources[${i}].configs[${j}].op`, `must be one of set, delete, append, subtract, got ${JSON.stringify(c.op)}`)
      if ((c.op ?? 'set') !== 'delete' && typeof c.value !== 'string') throw new InvalidArgumentError(`resources[${i}].configs[${j}].value`, `must be a string for ${c.op ?? 'set'}`)
    })
  })
  return alter(resources, (target, rs) =>
    send(
      core,
      target,
      IncrementalAlterConfigs,
      () => {
        const req = IncrementalAlterConfigs.newRequest()
        req.validateOnly = opts.validateOnly === true
        req.resources = rs.map((r) => ({ resourceType: RESOURCE_TYPES[r.type], resourceName: r.name, configs: r.configs.map((c) => ({ name: c.name, configOperation: OPS[c.op ?? 'set'], value: (c.op ?? 'set') === 'delete' ? null : (c.value ?? null) })) }))
        return req
      },
      opts,
    ),
  )
}

/**
 * alterConfigsState replaces resources' dynamic configs with the given set (AlterConfigs): configs
 * left out go back to their defaults. Prefer alterConfigs, which changes only what it names.
 */
export async function alterConfigsState(core: ClientCore, resources: ReplaceConfigsResource[], opts: AlterConfigsOptions = {}): Promise<AlteredConfigs[]> {
  checkResources(resources, 'resources')
  resources.forEach((r, i) => {
    if (typeof r.configs !== 'object' || r.configs === null || Array.isArray(r.configs)) throw new InvalidArgumentError(`resources[${i}].configs`, 'must be an object of name: value')
  })
  return alter(resources, (target, rs) =>
    send(
      core,
      target,
      AlterConfigs,
      () => {
        const req = AlterConfigs.newRequest()
        req.validateOnly = opts.validateOnly === true
        req.resources = rs.map((r) => ({ resourceType: RESOURCE_TYPES[r.type], resourceName: r.name, configs: Object.entries(r.configs).map(([name, value]) => ({ name, value })) }))
        return req
      },
      opts,
    ),
  )
}

async function alter<T extends ConfigResource>(
  resources: T[],
  run: (target: number, rs: T[]) => Promise<{ responses: Array<{ resourceType: number; resourceName: string; errorCode: number; errorMessage: string | null }> }>,
): Promise<AlteredConfigs[]> {
  const found = new Map<string, AlteredConfigs>()
  await Promise.all(
    [...perTarget(resources)].map(async ([target, rs]) => {
      const res = await run(target, rs)
      for (const r of res.responses) {
        const type = resourceTypeName(r.resourceType)
        found.set(keyOf(r.resourceType, r.resourceName), { type, name: r.resourceName, error: errorFor(r.errorCode, { resource: resourceLabel({ type, name: r.resourceName }), errorMessage: r.errorMessage, ...(type === 'topic' ? { topic: r.resourceName } : {}) }) })
      }
    }),
  )
  return resources.map(
    (r) => found.get(keyOf(RESOURCE_TYPES[r.type], r.name)) ?? { type: r.type, name: r.name, error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { resource: resourceLabel(r), errorMessage: 'the broker did not answer for this resource' }) },
  )
}
