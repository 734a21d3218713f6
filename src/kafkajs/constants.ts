/**
 * The constant tables KafkaJS exports: compression types and the codec registry, config and ACL
 * resource types, ACL operations and permissions, resource pattern types and config sources. Each is
 * a frozen object with a type of the same name, so `CompressionTypes.GZIP` and a variable typed
 * `CompressionTypes` both work as they do with KafkaJS's enums. The numbers are Kafka's.
 */

/** CompressionTypes names the record batch codecs: None 0, GZIP 1, Snappy 2, LZ4 3, ZSTD 4. */
export const CompressionTypes = Object.freeze({ None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const)
/** CompressionTypes is one of the numbers of the `CompressionTypes` table. */
export type CompressionTypes = (typeof CompressionTypes)[keyof typeof CompressionTypes]

/**
 * CompressionCodecs is KafkaJS's codec registry, kept so that programs registering codecs
 * (`CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec`) still run. kafka-wire compresses and
 * decompresses all four codecs itself, so what is registered here is never called.
 */
export const CompressionCodecs: { [type: number]: () => any } = {
  [CompressionTypes.GZIP]: () => ({}),
  [CompressionTypes.Snappy]: () => ({}),
  [CompressionTypes.LZ4]: () => ({}),
  [CompressionTypes.ZSTD]: () => ({}),
}

/** ConfigResourceTypes are the resource types of DescribeConfigs and AlterConfigs. */
export const ConfigResourceTypes = Object.freeze({ UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const)
/** ConfigResourceTypes is one of the numbers of the `ConfigResourceTypes` table. */
export type ConfigResourceTypes = (typeof ConfigResourceTypes)[keyof typeof ConfigResourceTypes]

/** AclResourceTypes are the resource types of ACLs. */
export const AclResourceTypes = Object.freeze({ UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6 } as const)
/** AclResourceTypes is one of the numbers of the `AclResourceTypes` table. */
export type AclResourceTypes = (typeof AclResourceTypes)[keyof typeof AclResourceTypes]

/** ResourceTypes is KafkaJS 1.x's name for AclResourceTypes, kept for programs written against it. */
export const ResourceTypes = AclResourceTypes
/** ResourceTypes is one of the numbers of the `AclResourceTypes` table. */
export type ResourceTypes = AclResourceTypes

/** AclOperationTypes are the operations an ACL allows or denies. */
export const AclOperationTypes = Object.freeze({
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
} as const)
/** AclOperationTypes is one of the numbers of the `AclOperationTypes` table. */
export type AclOperationTypes = (typeof AclOperationTypes)[keyof typeof AclOperationTypes]

/** AclPermissionTypes say whether an ACL allows or denies. */
export const AclPermissionTypes = Object.freeze({ UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const)
/** AclPermissionTypes is one of the numbers of the `AclPermissionTypes` table. */
export type AclPermissionTypes = (typeof AclPermissionTypes)[keyof typeof AclPermissionTypes]

/** ResourcePatternTypes say how an ACL's resource name matches. */
export const ResourcePatternTypes = Object.freeze({ UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const)
/** ResourcePatternTypes is one of the numbers of the `ResourcePatternTypes` table. */
export type ResourcePatternTypes = (typeof ResourcePatternTypes)[keyof typeof ResourcePatternTypes]

/** ConfigSource says where a config value comes from. */
export const ConfigSource = Object.freeze({
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const)
/** ConfigSource is one of the numbers of the `ConfigSource` table. */
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource]

/** codecName maps a CompressionTypes number to the kafka-wire codec name; undefined for an unknown number. */
export function codecName(type: number): 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd' | undefined {
  return (['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const)[type]
}
