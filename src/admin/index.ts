// kafka-wire/admin: typed cluster administration over a Client (franz-go's kadm).

export { Admin } from './admin.js'
export type { CreatedTopic, CreateTopicsOptions, DeletedTopic, MetadataView, NewTopic, PartitionDescription, TopicDescription, WaitForTopicsOptions } from './admin.js'
