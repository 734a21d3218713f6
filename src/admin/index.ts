// kafka-wire/admin: typed cluster administration over a Client (franz-go's kadm).

export { Admin } from './admin.js'
export { DEFAULT_SCRAM_ITERATIONS } from './users.js'
export type { AclBinding, AclFilter, AclOperation, AclPatternType, AclPermission, AclResourceType, CreatedAcl, DeletedAcls, DescribedAcl } from './acls.js'
export type {
  AlteredQuota,
  BrokerApiVersions,
  BrokerLogDirs,
  ClusterBroker,
  ClusterDescription,
  DescribeClusterOptions,
  DescribedQuota,
  ElectedLeader,
  ElectionType,
  Features,
  LogDir,
  LogDirPartition,
  PartitionReassignment,
  QuotaAlteration,
  QuotaEntity,
  QuotaFilter,
  ReassignedPartition,
} from './cluster.js'
export type {
  AlterConfig,
  AlterConfigsOptions,
  AlterConfigsResource,
  AlteredConfigs,
  ConfigEntry,
  ConfigOp,
  ConfigResource,
  ConfigResourceType,
  ConfigSource,
  ConfigSynonym,
  ConfigType,
  DescribeConfigsOptions,
  DescribedConfigs,
  ReplaceConfigsResource,
} from './configs.js'
export type {
  CommittedOffset,
  CommittedResult,
  DeletedGroup,
  FetchedOffsets,
  FetchOffsetsOptions,
  GroupDescription,
  GroupLag,
  GroupMemberDescription,
  ListedGroup,
  ListGroupsOptions,
  MemberToRemove,
  OffsetResetSpec,
  OffsetToCommit,
  PartitionLag,
  RemovedMember,
  ResetOffset,
  ResetOffsetsOptions,
  TopicPartitionList,
} from './groups.js'
export type { DeletedRecords, ListedOffset, ListOffsetsOptions, TopicPartitionsArg } from './offsets.js'
export type {
  CreatedPartitions,
  CreatedTopic,
  CreatePartitionsOptions,
  CreateTopicsOptions,
  DeletedTopic,
  ListTopicsOptions,
  MetadataView,
  NewTopic,
  PartitionDescription,
  TopicDescription,
  TopicRef,
  WaitForTopicsOptions,
} from './topics.js'
export type { AlteredShareGroupOffset, DeletedShareGroupOffsets, ShareGroupDescription, ShareGroupMemberDescription, ShareGroupOffset, ShareGroupOffsets } from './share-groups.js'
export type { ListedTransaction, ListTransactionsOptions, PartitionProducers, ProducerState, TransactionDescription, TransactionState, TxnMarkerResult, TxnMarkers } from './transactions.js'
export type { AlteredUser, DescribedUser, ScramDeletion, ScramMechanism, ScramUpsert } from './users.js'
export type { AdminOptions, TimeoutOptions } from './util.js'
