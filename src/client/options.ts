import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { HookInput, Logger } from '../hooks/index.js'
import { partitionerFrom, type Partitioner } from './producer/partitioner.js'
import { produceRequestOverhead } from './producer/request-size.js'
import type { ProduceRecord } from '../protocol/record.js'
import type { Compressor, Decompressor } from '../protocol/compression/index.js'
import type { SaslConfig, Mechanism } from './sasl/index.js'
import { balancerByName, BALANCER_NAMES, type BalancerName, type GroupBalancer } from './consumer/balancers/index.js'
import { ApiKey } from '../protocol/messages/api-key.js'
import { InvalidOptionError } from './errors.js'
import { MAX_TIMER_MS } from './wake-timer.js'
import type { Dialer } from './connection.js'
import { topicNameProblem } from './topic-name.js'
import type { AutoCommitResult, CommitOffsets, ShareAckResult } from './types.js'

/** Acks is how many replicas must have a record before the broker answers: 0, 1 or 'all' (-1). */
export type Acks = 0 | 1 | -1 | 'all'

/** CompressionName names a record batch codec. */
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** PartitionerOption is a partitioner, a name of a built-in one, or a function of (record, partitions). */
export type PartitionerOption = 'default' | 'round-robin' | 'sticky' | 'sticky-key' | 'manual' | Partitioner | ((record: ProduceRecord, n: number) => number)

/**
 * OffsetSpec says where to start consuming a partition: 'earliest', 'latest', an exact offset, the
 * first offset at or after a timestamp (ms), or a position relative to the start or the end.
 */
export type OffsetSpec =
  | 'earliest'
  | 'latest'
  | { offset: bigint }
  | { timestamp: number }
  | { relative: number; from: 'earliest' | 'latest' }

/** IsolationLevel says whether consumers see records of open and aborted transactions. */
export type IsolationLevel = 'read_uncommitted' | 'read_committed'

/** PartitionsCallback receives partitions per topic in group rebalances (awaited before the rebalance goes on). */
export type PartitionsCallback = (partitions: Map<string, number[]>) => void | Promise<void>

/**
 * ClientOptions configures a Client. Every option is optional except `seedBrokers`. `C` is the type
 * hooks receive in onNewClient and onClientClosed: `Client` when given to the Client's constructor.
 */
export interface ClientOptions<C = unknown> {
  // ---- connection ----
  /** seedBrokers are the "host:port" addresses used to discover the cluster. Equivalent to Java's bootstrap.servers. */
  seedBrokers: string[]
  /** clientId is sent with every request. Default 'kafka-wire'. Equivalent to Java's client.id. */
  clientId?: string
  /** rack is this client's rack, for fetching from the closest replica (KIP-392). Equivalent to Java's client.rack. */
  rack?: string
  /** tls enables TLS to every broker; an object is passed to `tls.connect`. */
  tls?: boolean | TlsOptions
  /** sasl authenticates every connection: a config object or a mechanism. */
  sasl?: SaslConfig | Mechanism
  /**
   * dialer opens each broker connection in place of `net.connect` (franz-go's Dialer): through a proxy,
   * a tunnel or a Unix socket. It gets the broker's host, port and id and a signal that aborts when the
   * client stops waiting, and returns a net.Socket (connected or connecting) or a promise of one. With
   * `tls` set too, TLS runs over the socket it returns. Errors it throws are dial failures, retried as any.
   */
  dialer?: Dialer
  /** dialTimeout bounds connecting, ApiVersions and SASL, in ms. Default 10,000 (franz-go's DialTimeout). */
  dialTimeout?: number
  /**
   * requestTimeoutOverhead bounds the wait for each response, in ms: a request with a timeout of its
   * own (a produce's or CreateTopics' timeoutMs, a fetch's wait, a join's rebalance timeout) gets that
   * plus this, any other this alone. A response not in by then fails the request with
   * RequestTimeoutError (retriable) and closes its connection. At most 2^31 - 1 (Node's longest timer,
   * about 24.8 days: as good as no bound, which the KafkaJS facade's enforceRequestTimeout: false
   * uses); a sum past it sets no timer. Default 10,000 (franz-go's RequestTimeoutOverhead).
   */
  requestTimeoutOverhead?: number
  /** connIdleTimeout closes connections idle this long, in ms. Default 20,000 (franz-go's ConnIdleTimeout). */
  connIdleTimeout?: number
  /** brokerMaxReadBytes refuses larger responses before allocating them. Default 100 MiB (franz-go's BrokerMaxReadBytes). */
  brokerMaxReadBytes?: number
  /**
   * brokerMaxWriteBytes caps one produce request's size on the wire, size prefix included, in bytes:
   * a request takes its broker's partitions' batches while they fit, the others go in the next one.
   * Keep it at or under the brokers' socket.request.max.bytes (100 MiB by default), past which a
   * broker closes the connection. It must hold one full batch: at least producerBatchMaxBytes plus a
   * request's overhead (about 300 bytes, more with a long clientId or transactionalId); at most 1 GiB.
   * Default 100 MiB (franz-go's BrokerMaxWriteBytes; only produce requests come near it).
   */
  brokerMaxWriteBytes?: number
  /** maxVersions caps the version used per API key (franz-go's MaxVersions), e.g. { 0: 9 } for Produce v9. */
  maxVersions?: { [apiKey: number]: number }
  /** metadataMaxAge refreshes metadata at least this often, in ms. Default 300,000. Equivalent to Java's metadata.max.age.ms. */
  metadataMaxAge?: number
  /**
   * metadataMinAge is the least time between two refreshes that errors trigger, so they cannot storm
   * the broker, in ms. A partition's leader moving while it is fetched reloads at once, as in
   * franz-go. Default 5,000 (franz-go's MetadataMinAge).
   */
  metadataMinAge?: number
  /**
   * considerMissingTopicDeletedAfter is how long, in ms, a topic that metadata has had may then be
   * missing from it (left out, or answered UNKNOWN_TOPIC_OR_PARTITION) before the client takes it as
   * deleted; the client loads metadata again when the time is up. The producer then fails the topic's
   * records not yet sent with UNKNOWN_TOPIC_OR_PARTITION (records in flight learn their fate from
   * their answer) and forgets the topic: records produced to it later wait for it as for any new
   * topic (unknownTopicRetries). A direct consumer drops the topic's partitions and what it buffered
   * of them and reports the deletion in errors() (UNKNOWN_TOPIC_OR_PARTITION); a topic it consumes by
   * name or pattern is consumed again, from consumeResetOffset, if it is created again, while
   * partitions given by consumePartitions or addConsumePartitions are forgotten. A group member's
   * partitions follow the group's assignment. 0 takes a topic as deleted at the first load that
   * lacks it, Infinity never. Set low, a topic just created that a broker does not know yet may be
   * taken as deleted and then found again. Default 15,000 (franz-go's ConsiderMissingTopicDeletedAfter).
   */
  considerMissingTopicDeletedAfter?: number
  /**
   * retryBackoff gives the wait before retry `tries` (1-based), in ms. Default: exponential from 250 ms
   * to 2.5 s with jitter (franz-go's). A function's value that is not a non-negative number is replaced
   * by the default's, and one above 2^31 - 1 (Node's longest timer) by that.
   */
  retryBackoff?: number | ((tries: number) => number)
  /** requestRetries bounds retries of a retriable request error. Default 20 (franz-go's RequestRetries). */
  requestRetries?: number
  /**
   * retryTimeout bounds the time one request is tried and tried again after retriable failures, in
   * ms; 0 for no bound. A function gets the request's API key (franz-go's RetryTimeoutFn; -1 for an
   * admin call whose rounds span several requests) and returns the bound for it. Default: the
   * group's sessionTimeout for JoinGroup, SyncGroup and Heartbeat, 30,000 for others (franz-go's
   * RetryTimeout). Produce and Fetch have their own (recordDeliveryTimeout, the fetch loop). A try
   * is made only if its backoff ends within the bound.
   */
  retryTimeout?: number | ((apiKey: number) => number)
  /**
   * onRebootstrapRequired is called when a metadata answer says REBOOTSTRAP_REQUIRED (KIP-1102, Kafka
   * 4.0+): the client's metadata is too stale. The seeds it returns replace the client's
   * (`updateSeedBrokers`); then the client forgets the brokers it discovered (closing their
   * connections: requests on them fail and are retried) and loads metadata from the seeds, once per
   * load, and only from a cluster with the same id. What it throws fails that load. Without it, or
   * when it returns no seeds, the client rebootstraps from the seeds it has, as Java's client does
   * with metadata.recovery.strategy=rebootstrap (franz-go, without the option, reports the error).
   * After franz-go's OnRebootstrapRequired.
   */
  onRebootstrapRequired?: () => string[] | Promise<string[]>
  /** hooks are objects implementing any subset of the hook methods; nested arrays are flattened. */
  hooks?: HookInput<C>
  /** logger receives the client's log lines. Default: none. */
  logger?: Logger

  // ---- producer ----
  /** defaultProduceTopic is used for records with no topic. */
  defaultProduceTopic?: string
  /** requiredAcks: 0, 1 or 'all'. Default 'all'. Equivalent to Java's acks. */
  requiredAcks?: Acks
  /** disableIdempotentWrite turns off idempotent producing (on by default, as in franz-go and Java 3.0+). */
  disableIdempotentWrite?: boolean
  /**
   * linger waits this long for more records before sending a batch, in ms. Default 10. Equivalent to
   * Java's linger.ms. A full batch goes at once; a request to a broker takes the batches of all its
   * partitions, lingering or not.
   */
  linger?: number
  /** producerBatchMaxBytes caps one partition's batch, in bytes. Default 1,000,000 (franz-go's ProducerBatchMaxBytes). Equivalent to Java's batch.size (roughly). */
  producerBatchMaxBytes?: number
  /**
   * producerBatchCompression lists codecs in preference order, as franz-go's option does; batches are
   * compressed with the first. (franz-go moves down the list for a broker too old for a codec, zstd
   * before Kafka 2.1; kafka-wire does not.) Default ['none']. Equivalent to Java's compression.type.
   */
  producerBatchCompression?: CompressionName[]
  /**
   * compressor compresses produced batches instead of the built-in codecs (franz-go's
   * WithCompressor), with the codec producerBatchCompression names: another package, a level or
   * dictionary of your own. It is called once per batch, synchronously; a batch it throws for fails
   * its records with a ProtocolEncodeError (nothing of them is written). Default: the built-in codecs.
   */
  compressor?: Compressor
  /** maxBufferedRecords bounds records buffered and not yet acknowledged. Default 10,000 (franz-go's). */
  maxBufferedRecords?: number
  /**
   * maxBufferedBytes bounds the bytes of records buffered and not yet acknowledged (their size as
   * encoded, uncompressed), 0 for no bound. Default 32 MiB (Java's buffer.memory), so produce memory
   * stays flat whatever the records' size; a record larger than the bound is taken alone. The encoded
   * batches in flight take about as much again (compressed when compressed), and the producer keeps
   * up to 16 MiB of idle batch buffers for reuse. Equivalent to Java's buffer.memory.
   */
  maxBufferedBytes?: number
  /** maxProduceRequestsInflightPerBroker bounds produce requests in flight to one broker. Default 5 when idempotent, else 1. Equivalent to Java's max.in.flight.requests.per.connection. */
  maxProduceRequestsInflightPerBroker?: number
  /** produceRequestTimeout is the broker-side timeout sent in produce requests, in ms. Default 10,000 (franz-go's). Equivalent to Java's request.timeout.ms for produce. */
  produceRequestTimeout?: number
  /**
   * recordDeliveryTimeout bounds how long a record may take to settle after it was produced, in ms:
   * waiting for buffer room, for its topic's metadata, for a leader, and for answers and retries. A
   * record not sent by then fails with RecordTimeoutError (BrokersUnreachableError when no broker
   * could be reached at all); one whose request is in flight, or went unanswered, with
   * RecordFateUnknownError. 0 turns it off. Default 120,000, Java's delivery.timeout.ms (franz-go has
   * none by default); it should stay above produceRequestTimeout + requestTimeoutOverhead, or requests
   * in flight when it runs out leave their records' fate unknown.
   */
  recordDeliveryTimeout?: number
  /** recordRetries bounds retries of a batch, Infinity for no bound. Default Infinity (franz-go's). Equivalent to Java's retries. */
  recordRetries?: number
  /** unknownTopicRetries fails records of a topic that still does not exist after this many metadata loads. Default 4 (franz-go's UnknownTopicRetries). */
  unknownTopicRetries?: number
  /** partitioner picks partitions. Default: Java's default (murmur2 for keys, uniform sticky for keyless, KIP-794). */
  partitioner?: PartitionerOption
  /**
   * stopProducerOnDataLossDetected stops the producer for good once it detects data loss: a broker
   * answers OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID for a partition's oldest
   * unacknowledged batch after it acknowledged earlier batches of the same producer id and epoch,
   * and the partition's log start offset has not moved past them (records deleted by retention are
   * no loss). That batch, every record not in flight (of every partition) and every record produced
   * afterwards fail with DataLossError; records in flight learn their fate from their answers. A new
   * client is needed to produce again. Default false: the producer bumps its epoch (KIP-360), resends
   * the batch and calls producerOnDataLossDetected. Idempotent, non-transactional producers only (a
   * transactional producer fails the batch either way). franz-go's StopProducerOnDataLossDetected.
   */
  stopProducerOnDataLossDetected?: boolean
  /**
   * producerOnDataLossDetected is called with the topic and partition when the producer detects data
   * loss (as stopProducerOnDataLossDetected describes) and goes on producing. It is called apart from
   * the produce path (in a microtask), so it may produce; an error it throws is logged. Cannot be
   * combined with stopProducerOnDataLossDetected. franz-go's ProducerOnDataLossDetected.
   */
  producerOnDataLossDetected?: (topic: string, partition: number) => void
  // ---- transactions ----
  /**
   * transactionalId makes the producer transactional (KIP-98): records are produced between
   * `beginTransaction()` and `endTransaction()`, and a later producer with the same id fences this one.
   * Needs idempotent writes. Equivalent to Java's transactional.id (franz-go's TransactionalID).
   */
  transactionalId?: string
  /**
   * transactionTimeout is how long the broker lets a transaction stay open before it aborts it, in ms.
   * Default 40,000 (franz-go's; Java's default is 60,000). It must not exceed the broker's
   * transaction.max.timeout.ms. Equivalent to Java's transaction.timeout.ms.
   */
  transactionTimeout?: number
  /**
   * concurrentTransactionsBackoff is the wait, in ms, before a transactional request answered
   * CONCURRENT_TRANSACTIONS (the coordinator still ending the previous transaction) is sent again:
   * InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn. The wait does not
   * grow with each try, but a request stalled this way for over 1 s waits at least 200 ms, over
   * 2.5 s at least 500 ms, over 5 s at least 1 s; these retries end at retryTimeout, not
   * requestRetries. Default 20 (franz-go's ConcurrentTransactionsBackoff); must be positive.
   */
  concurrentTransactionsBackoff?: number
  // ---- consumer ----
  /** consumeTopics are the topics to consume (regular expressions with consumeRegex). */
  consumeTopics?: string[]
  /** consumeRegex treats consumeTopics as regular expressions matched against every topic. */
  consumeRegex?: boolean
  /**
   * consumeExcludeTopics are regular expressions of topics not to consume with consumeRegex: a topic
   * any of them matches is left out even when a consumeTopics pattern matches it. Only with
   * consumeRegex (an error otherwise, as franz-go's). A KIP-848 member (groupProtocol 'consumer') then
   * matches topics itself and subscribes by name, since the coordinator's regex has no exclude: new
   * matching topics are picked up at the next metadata load (metadataMaxAge), not by the coordinator.
   * Default none. Equivalent to franz-go's ConsumeExcludeTopics.
   */
  consumeExcludeTopics?: string[]
  /** consumePartitions consumes exact partitions from exact starts: { topic: { partition: OffsetSpec } } (no group). */
  consumePartitions?: { [topic: string]: { [partition: number]: OffsetSpec } }
  /** consumeResetOffset is where to start without a committed offset, and after OFFSET_OUT_OF_RANGE. Default 'earliest' (franz-go's). Equivalent to Java's auto.offset.reset. */
  consumeResetOffset?: OffsetSpec
  /** fetchMaxBytes bounds one fetch response, in bytes. Default 50 MiB (franz-go's). Equivalent to Java's fetch.max.bytes. */
  fetchMaxBytes?: number
  /** fetchMaxPartitionBytes bounds one partition in a fetch response. Default 1 MiB (franz-go's). Equivalent to Java's max.partition.fetch.bytes. */
  fetchMaxPartitionBytes?: number
  /** fetchMaxWait is how long a broker may hold a fetch waiting for fetchMinBytes, in ms. Default 5,000 (franz-go's). Equivalent to Java's fetch.max.wait.ms. */
  fetchMaxWait?: number
  /** fetchMinBytes is the least data a broker waits for before answering a fetch. Default 1. Equivalent to Java's fetch.min.bytes. */
  fetchMinBytes?: number
  /** maxConcurrentFetches bounds fetches in flight across brokers, 0 for no bound. Default 0 (franz-go's). */
  maxConcurrentFetches?: number
  /**
   * maxBufferedFetchRecords bounds prefetching by records: while fewer fetched records than this
   * wait to be polled, a broker's next fetch goes out before the application polls the last one.
   * Default 10,000; 0 turns prefetching off (a broker is fetched again only once its records were
   * polled). A broker with nothing buffered always fetches, so the bound is exceeded by at most one
   * response per broker.
   */
  maxBufferedFetchRecords?: number
  /**
   * maxBufferedFetchBytes bounds prefetching by bytes (fetch responses' record bytes as received,
   * compressed when compressed) as maxBufferedFetchRecords does by records. Default 8 MiB; 0 turns
   * prefetching off.
   */
  maxBufferedFetchBytes?: number
  /** isolationLevel: 'read_uncommitted' (default) or 'read_committed'. Equivalent to Java's isolation.level. */
  isolationLevel?: IsolationLevel
  /** disableFetchSessions turns off incremental fetch sessions (KIP-227). */
  disableFetchSessions?: boolean
  /**
   * disableFetchCRCValidation skips checking the CRC of fetched record batches (franz-go's
   * DisableFetchCRCValidation; Java's check.crcs=false), for the rare broker that does not compute
   * them properly. By default a batch whose CRC does not match is never handed out: the poll reports
   * it in errors() as a ProtocolDecodeError (a CorruptRecordBatchError naming its offset), and the
   * partition fetches it again after a backoff. With this option its records are handed out as
   * they are. Applies to share-group members too.
   */
  disableFetchCRCValidation?: boolean
  /**
   * recycleFetches lets the application hand each polled Fetches back with `fetches.recycle()` once
   * it is done with its records, so that the memory they view is read into again (as franz-go's
   * WithPools with Record.Recycle). With it, the keys, values and header values of uncompressed
   * records view the fetch response itself instead of a copy of their batch: a response's buffer is
   * read into again once every Fetches holding its records was recycled (and the rest of it dropped
   * or polled). A record, or any Buffer taken from one, must not be used after its Fetches was
   * recycled: copy what is to be kept. A Fetches never recycled is left to the garbage collector, as
   * without the option. Records of compressed batches view their own decompressed copy either way.
   * Share-group members ignore it. Default false.
   */
  recycleFetches?: boolean
  /**
   * decompressor decompresses fetched batches instead of the built-in codecs (franz-go's
   * WithDecompressor), for consuming and for share-group members. It gets the decompression bound
   * and must keep to it; its result must be new memory on every call, as the records view it. A
   * batch it throws for (or whose result is over the bound) is reported as corrupt, as a batch the
   * built-in codecs cannot read. Default: the built-in codecs.
   */
  decompressor?: Decompressor
  /**
   * keepControlRecords hands out control records (the commit and abort markers brokers write at the
   * end of each transaction) with the data records instead of dropping them (franz-go's
   * KeepControlRecords). A control record has `record.control` set, saying which marker it is; data
   * records never do. Offsets are as without it: a control record takes an offset, positions move
   * past it either way, and committing a polled control record commits the offset after it.
   * read_committed still hides aborted data records (their abort markers are handed out). Share-group
   * members hand out the control records of their acquired offsets, as franz-go's do. Default false.
   */
  keepControlRecords?: boolean
  /**
   * keepRetryableFetchErrors also hands polls the retryable errors fetched partitions come back with
   * (franz-go's KeepRetryableFetchErrors): NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH,
   * UNKNOWN_LEADER_EPOCH, LEADER_NOT_AVAILABLE, REPLICA_NOT_AVAILABLE, OFFSET_NOT_AVAILABLE,
   * KAFKA_STORAGE_ERROR, INCONSISTENT_TOPIC_ID, UNKNOWN_TOPIC_OR_PARTITION and UNKNOWN_TOPIC_ID. The
   * consumer handles them as without the option (it follows the leader, reloads metadata, backs off
   * and fetches again); the option only lets the application see them, in the next poll's errors(),
   * as a KafkaProtocolError naming the topic and partition (the newest of each error and partition
   * not yet polled), for instance to notice a topic it deleted. Applies to share-group members'
   * ShareFetch answers too. Default false: they are not shown.
   */
  keepRetryableFetchErrors?: boolean
  /**
   * recheckPreferredReplicaInterval is how long, in ms, a partition is fetched from the replica its
   * leader preferred (KIP-392, with `rack` set) before it is fetched from the leader again, which may
   * then name a better replica (franz-go's RecheckPreferredReplicaInterval). It is checked when a
   * fetch is built, so one more fetch may go to the replica after it ends. Default 1,800,000 (30
   * minutes, franz-go's); from 10 ms to 7 days.
   */
  recheckPreferredReplicaInterval?: number
  /** consumerGroup consumes consumeTopics as a member of this group. Equivalent to Java's group.id. */
  consumerGroup?: string
  /** groupProtocol: 'classic' (JoinGroup/SyncGroup, the default) or 'consumer' (KIP-848). Equivalent to Java's group.protocol. */
  groupProtocol?: 'classic' | 'consumer'
  /** balancers are the classic protocol's assignors, in preference order. Default ['cooperative-sticky'] (franz-go's). */
  balancers?: Array<BalancerName | GroupBalancer>
  /** groupRemoteAssignor names the KIP-848 server-side assignor ('uniform' or 'range'); the broker's default when unset. */
  groupRemoteAssignor?: string
  /** instanceId makes this member static (KIP-345). Equivalent to Java's group.instance.id. */
  instanceId?: string
  /** sessionTimeout, in ms. Default 45,000. Equivalent to Java's session.timeout.ms. */
  sessionTimeout?: number
  /** rebalanceTimeout, in ms. Default 60,000. Equivalent to Java's max.poll.interval.ms for the rebalance. */
  rebalanceTimeout?: number
  /** heartbeatInterval, in ms. Default 3,000. Equivalent to Java's heartbeat.interval.ms. */
  heartbeatInterval?: number
  /** onPartitionsAssigned runs (and is awaited) when partitions are assigned. */
  onPartitionsAssigned?: PartitionsCallback
  /** onPartitionsRevoked runs (and is awaited) before partitions are taken away in a rebalance. */
  onPartitionsRevoked?: PartitionsCallback
  /** onPartitionsLost runs when partitions were lost (session expired, fenced); defaults to onPartitionsRevoked. */
  onPartitionsLost?: PartitionsCallback
  /** blockRebalanceOnPoll holds rebalances between a poll and `allowRebalance()` (franz-go's BlockRebalanceOnPoll). */
  blockRebalanceOnPoll?: boolean
  /**
   * onPartitionsCallbackBlocked is called each time blockRebalanceOnPoll makes a rebalance (with its
   * onPartitionsAssigned, onPartitionsRevoked or onPartitionsLost) wait for `allowRebalance()`, as
   * the wait begins: a signal for the application to finish what it polled and allow the rebalance
   * before the group gives up on the member. It is called on a later microtask and never awaited; it
   * may call `allowRebalance()` itself. If it throws or its promise rejects, that is logged and the
   * rebalance still waits for allowRebalance. Never called without blockRebalanceOnPoll.
   * Equivalent to franz-go's OnPartitionsCallbackBlocked (which also passes the client and its context).
   */
  onPartitionsCallbackBlocked?: () => void | Promise<void>
  /** autoCommitInterval, in ms. Default 5,000. Equivalent to Java's auto.commit.interval.ms. */
  autoCommitInterval?: number
  /** disableAutoCommit turns off autocommitting. Equivalent to Java's enable.auto.commit=false. */
  disableAutoCommit?: boolean
  /** autoCommitMarks autocommits only records marked with markCommitRecords. */
  autoCommitMarks?: boolean
  /**
   * greedyAutoCommit says what the commits the client makes by itself (every autoCommitInterval, on
   * revoke, at close) take. false (the default, franz-go's): only what polls before the latest one
   * handed out; the latest poll's offsets become committable when the next poll begins, which says
   * the application is done with them, so records it is still processing are never committed
   * (at-least-once: after a crash, a revoke or a close, the next owner reads the latest poll's
   * records again; call commitUncommittedOffsets() once they are processed to avoid that). true:
   * everything polled, the latest poll's records included, which a crash mid-processing loses.
   * commitUncommittedOffsets commits everything polled either way, and a commit never moves back
   * behind it. No effect with autoCommitMarks or disableAutoCommit. franz-go's GreedyAutoCommit.
   */
  greedyAutoCommit?: boolean
  /**
   * autoCommitCallback is told the outcome of every commit the client makes by itself: the periodic
   * autocommit, and the commit of what was polled before partitions are revoked and before the
   * client closes (commits with nothing to commit are not sent and not reported). It replaces the
   * default, which logs failures and goes on. It is called without being awaited; if it throws or
   * its promise rejects, that is logged and consuming goes on. Not called with disableAutoCommit.
   * Equivalent to franz-go's AutoCommitCallback.
   */
  autoCommitCallback?: (result: AutoCommitResult) => void | Promise<void>
  /**
   * onOffsetsFetched runs (and is awaited) after a rebalance assigned partitions and their committed
   * offsets were fetched, before they are fetched from and before onPartitionsAssigned (franz-go
   * calls it after OnPartitionsAssigned): `offsets` has every newly assigned partition with its
   * committed offset (-1 when none), leader epoch and commit metadata. `signal` aborts when the member
   * closes or (classic protocol) a heartbeat ends the session meanwhile. If it throws or rejects, the
   * member gives up its session: the partitions it owns are lost (onPartitionsLost), a
   * GroupSessionError reaches the next poll and onGroupManageError, and after a backoff it joins the
   * group again (with its member id; KIP-848 at epoch 0), where the callback runs again.
   * Equivalent to franz-go's OnOffsetsFetched.
   */
  onOffsetsFetched?: (offsets: CommitOffsets, signal: AbortSignal) => void | Promise<void>
  /**
   * shareGroup consumes consumeTopics as a member of this share group (KIP-932, Kafka 4.2+): the
   * brokers hand each record to one member at a time, and each polled record is acknowledged
   * (`markAcks`; the next poll accepts what was left unmarked). Cannot be combined with consumerGroup,
   * consumePartitions or consumeRegex. Equivalent to Java's KafkaShareConsumer group.id.
   */
  shareGroup?: string
  /** shareMaxRecords caps the records one share fetch acquires (its MaxRecords and BatchSize). Default 500 (franz-go's). */
  shareMaxRecords?: number
  /**
   * shareMaxRecordsStrict makes shareMaxRecords a hard limit (KIP-1206's record-limit acquire mode,
   * Kafka 4.2+): the broker splits batches to acquire no more. By default it may acquire the whole
   * batches that hold the records, so a fetch can bring more. Default false (franz-go's
   * ShareMaxRecordsStrict; Java's share.acquire.mode=record_limit).
   */
  shareMaxRecordsStrict?: boolean
  /** shareAckCallback is told the brokers' answer to every acknowledgement the share consumer sends, per partition. */
  shareAckCallback?: (results: ShareAckResult[]) => void

  /** allowAutoTopicCreation asks the broker to create unknown topics on metadata requests (if the broker allows it). Default false. */
  allowAutoTopicCreation?: boolean
}

/** Config is the resolved, validated and frozen form of ClientOptions. */
export interface Config {
  readonly seedBrokers: ReadonlyArray<{ host: string; port: number }>
  readonly clientId: string
  readonly rack: string | null
  readonly tls: boolean | TlsOptions
  readonly sasl: SaslConfig | Mechanism | null
  readonly dialer: Dialer | null
  readonly dialTimeout: number
  readonly requestTimeoutOverhead: number
  readonly connIdleTimeout: number
  readonly brokerMaxReadBytes: number
  readonly brokerMaxWriteBytes: number
  readonly maxVersions: ReadonlyMap<number, number>
  readonly metadataMaxAge: number
  readonly metadataMinAge: number
  readonly considerMissingTopicDeletedAfter: number
  readonly retryBackoff: (tries: number) => number
  readonly requestRetries: number
  /** retryTimeout gives the retry bound of a request by API key, in ms (Infinity for none). */
  readonly retryTimeout: (apiKey: number) => number
  readonly onRebootstrapRequired: (() => string[] | Promise<string[]>) | null
  readonly defaultProduceTopic: string | null
  readonly requiredAcks: 0 | 1 | -1
  readonly idempotent: boolean
  readonly linger: number
  readonly producerBatchMaxBytes: number
  readonly compression: ReadonlyArray<CompressionName>
  readonly compressor: Compressor | null
  readonly maxBufferedRecords: number
  readonly maxBufferedBytes: number
  readonly maxProduceRequestsInflightPerBroker: number
  readonly produceRequestTimeout: number
  readonly recordDeliveryTimeout: number
  readonly recordRetries: number
  readonly unknownTopicRetries: number
  readonly partitioner: PartitionerOption
  readonly stopProducerOnDataLossDetected: boolean
  readonly producerOnDataLossDetected: ((topic: string, partition: number) => void) | null
  readonly allowAutoTopicCreation: boolean
  readonly transactionalId: string | null
  readonly transactionTimeout: number
  readonly concurrentTransactionsBackoff: number
  readonly consumeTopics: ReadonlyArray<string>
  readonly consumeRegex: boolean
  readonly consumeExcludeTopics: ReadonlyArray<string>
  readonly consumePartitions: ReadonlyMap<string, ReadonlyMap<number, OffsetSpec>>
  readonly consumeResetOffset: OffsetSpec
  readonly fetchMaxBytes: number
  readonly fetchMaxPartitionBytes: number
  readonly fetchMaxWait: number
  readonly fetchMinBytes: number
  readonly maxConcurrentFetches: number
  readonly maxBufferedFetchRecords: number
  readonly maxBufferedFetchBytes: number
  readonly isolationLevel: 0 | 1
  readonly disableFetchSessions: boolean
  readonly disableFetchCRCValidation: boolean
  readonly recycleFetches: boolean
  readonly decompressor: Decompressor | null
  readonly keepControlRecords: boolean
  readonly keepRetryableFetchErrors: boolean
  readonly recheckPreferredReplicaInterval: number
  readonly consumerGroup: string | null
  readonly groupProtocol: 'classic' | 'consumer'
  readonly balancers: ReadonlyArray<BalancerName | GroupBalancer>
  readonly groupRemoteAssignor: string | null
  readonly instanceId: string | null
  readonly sessionTimeout: number
  readonly rebalanceTimeout: number
  readonly heartbeatInterval: number
  readonly onPartitionsAssigned: PartitionsCallback | null
  readonly onPartitionsRevoked: PartitionsCallback | null
  readonly onPartitionsLost: PartitionsCallback | null
  readonly blockRebalanceOnPoll: boolean
  readonly onPartitionsCallbackBlocked: (() => void | Promise<void>) | null
  readonly autoCommitInterval: number
  readonly disableAutoCommit: boolean
  readonly autoCommitMarks: boolean
  readonly greedyAutoCommit: boolean
  readonly autoCommitCallback: ((result: AutoCommitResult) => void | Promise<void>) | null
  readonly onOffsetsFetched: ((offsets: CommitOffsets, signal: AbortSignal) => void | Promise<void>) | null
  readonly shareGroup: string | null
  readonly shareMaxRecords: number
  readonly shareMaxRecordsStrict: boolean
  readonly shareAckCallback: ((results: ShareAckResult[]) => void) | null
}

/** defaultRetryBackoff is franz-go's: exponential from 250 ms to 2.5 s, with up to 20% jitter. */
export function defaultRetryBackoff(tries: number): number {
  const base = Math.min(2500, 250 * 2 ** Math.max(0, tries - 1))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}

const CODECS = new Set<CompressionName>(['none', 'gzip', 'snappy', 'lz4', 'zstd'])
const KNOWN = new Set([
  'seedBrokers', 'clientId', 'rack', 'tls', 'sasl', 'dialer', 'dialTimeout', 'requestTimeoutOverhead', 'connIdleTimeout',
  'brokerMaxReadBytes', 'brokerMaxWriteBytes', 'maxVersions', 'metadataMaxAge', 'metadataMinAge', 'considerMissingTopicDeletedAfter', 'retryBackoff', 'requestRetries',
  'retryTimeout', 'onRebootstrapRequired', 'hooks', 'logger', 'defaultProduceTopic', 'requiredAcks', 'disableIdempotentWrite', 'linger',
  'producerBatchMaxBytes', 'producerBatchCompression', 'compressor', 'maxBufferedRecords', 'maxBufferedBytes',
  'maxProduceRequestsInflightPerBroker', 'produceRequestTimeout', 'recordDeliveryTimeout', 'recordRetries',
  'unknownTopicRetries', 'partitioner', 'stopProducerOnDataLossDetected', 'producerOnDataLossDetected', 'allowAutoTopicCreation', 'transactionalId', 'transactionTimeout', 'concurrentTransactionsBackoff',
  'consumeTopics', 'consumeRegex', 'consumeExcludeTopics', 'consumePartitions', 'consumeResetOffset', 'fetchMaxBytes', 'fetchMaxPartitionBytes',
  'fetchMaxWait', 'fetchMinBytes', 'maxConcurrentFetches', 'maxBufferedFetchRecords', 'maxBufferedFetchBytes', 'isolationLevel', 'disableFetchSessions', 'disableFetchCRCValidation', 'recycleFetches', 'decompressor', 'keepControlRecords', 'keepRetryableFetchErrors', 'recheckPreferredReplicaInterval', 'consumerGroup',
  'groupProtocol', 'balancers', 'groupRemoteAssignor', 'instanceId', 'sessionTimeout', 'rebalanceTimeout',
  'heartbeatInterval', 'onPartitionsAssigned', 'onPartitionsRevoked', 'onPartitionsLost', 'blockRebalanceOnPoll', 'onPartitionsCallbackBlocked',
  'autoCommitInterval', 'disableAutoCommit', 'autoCommitMarks', 'greedyAutoCommit', 'autoCommitCallback', 'onOffsetsFetched', 'shareGroup', 'shareMaxRecords', 'shareMaxRecordsStrict', 'shareAckCallback',
])

/** codecHook checks a compressor or decompressor option: absent, or an object with the method named. */
function codecHook<T extends object>(v: T | undefined, option: string, method: string): T | null {
  if (v === undefined || v === null) return null
  if (typeof (v as { [m: string]: unknown })[method] !== 'function') throw new InvalidOptionError(option, `want an object with a ${method}() method`)
  return v
}

/** validateOffsetSpec checks an OffsetSpec and names the option when it is wrong. */
export function validateOffsetSpec(v: unknown, option: string): OffsetSpec {
  if (v === 'earliest' || v === 'latest') return v
  if (v !== null && typeof v === 'object') {
    const o = v as { [k: string]: unknown }
    if (typeof o.offset === 'bigint' && o.offset >= 0n) return { offset: o.offset }
    if (typeof o.offset === 'number' && Number.isInteger(o.offset) && o.offset >= 0) return { offset: BigInt(o.offset) }
    if (typeof o.timestamp === 'number' && Number.isFinite(o.timestamp)) return { timestamp: o.timestamp }
    if (typeof o.relative === 'number' && Number.isInteger(o.relative) && (o.from === 'earliest' || o.from === 'latest')) {
      return { relative: o.relative, from: o.from }
    }
  }
  throw new InvalidOptionError(option, `${String(v)} is not 'earliest', 'latest', { offset }, { timestamp } or { relative, from }`)
}

/**
 * retryTimeoutOf resolves the retryTimeout option into a bound by API key: a number for every key, a
 * function's answer (checked at each call), or franz-go's default. 0 is no bound.
 */
function retryTimeoutOf(o: { [k: string]: unknown }, sessionTimeout: number): (apiKey: number) => number {
  const v = o.retryTimeout
  const bound = (ms: number) => (ms === 0 ? Infinity : ms)
  if (typeof v === 'function') {
    const f = v as (apiKey: number) => number
    return (key) => {
      const ms = f(key)
      if (!(ms >= 0)) throw new InvalidOptionError('retryTimeout', `the function returned ${String(ms)} for API key ${key}: it must return a number of ms, 0 for no bound`)
      return bound(ms)
    }
  }
  if (v !== undefined) {
    const ms = num(o, 'retryTimeout', 30_000, 0)
    return () => bound(ms)
  }
  return (key) => (key === ApiKey.JoinGroup || key === ApiKey.SyncGroup || key === ApiKey.Heartbeat ? sessionTimeout : 30_000)
}

function fn<T>(o: { [k: string]: unknown }, name: string): T | null {
  const v = o[name]
  if (v === undefined) return null
  if (typeof v !== 'function') throw new InvalidOptionError(name, 'must be a function')
  return v as T
}

/** parseHostPort parses "host:port", "[v6]:port" or "host" (port 9092). */
export function parseHostPort(s: string, option = 'seedBrokers'): { host: string; port: number } {
  if (typeof s !== 'string' || s.length === 0) throw new InvalidOptionError(option, `${JSON.stringify(s)} is not a "host:port" string`)
  let host = s
  let port = 9092
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s)
  if (v6) {
    host = v6[1]!
    if (v6[2] !== undefined) port = Number(v6[2])
  } else {
    const i = s.lastIndexOf(':')
    if (i >= 0) {
      host = s.slice(0, i)
      port = Number(s.slice(i + 1))
    }
  }
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new InvalidOptionError(option, `${JSON.stringify(s)} is not a valid "host:port"`)
  }
  return { host, port }
}

function num(o: Record<string, unknown>, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER, allowInf = false): number {
  const v = o[name]
  if (v === undefined) return def
  if (typeof v !== 'number' || Number.isNaN(v) || (!allowInf && !Number.isFinite(v)) || v < min || (v > max && !(allowInf && v === Infinity))) {
    throw new InvalidOptionError(name, `${String(v)} is not a number in [${min}, ${max === Number.MAX_SAFE_INTEGER ? (allowInf ? 'Infinity' : 'max') : max}]`)
  }
  return v
}

/** positiveMs reads a wait in ms that must be above zero (and finite). */
function positiveMs(o: Record<string, unknown>, name: string, def: number): number {
  const v = o[name]
  if (v === undefined) return def
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new InvalidOptionError(name, `${String(v)} is not a positive number of ms`)
  return v
}

/** topicOption checks a topic name given in an option against Kafka's rules. */
function topicOption(option: string, name: string): void {
  const why = topicNameProblem(name)
  if (why !== null) throw new InvalidOptionError(option, `${JSON.stringify(name)} is not a valid topic name: ${why}`)
}

/** resolveConfig validates ClientOptions and returns the frozen Config; errors name the option. */
export function resolveConfig(options: ClientOptions): Config {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'an options object is required')
  const o = options as unknown as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k)) throw new InvalidOptionError(k, 'unknown option')
  }
  if (!Array.isArray(options.seedBrokers) || options.seedBrokers.length === 0) {
    throw new InvalidOptionError('seedBrokers', 'at least one "host:port" is required')
  }
  const seedBrokers = options.seedBrokers.map((s) => parseHostPort(s))
  const clientId = options.clientId ?? 'kafka-wire'
  if (typeof clientId !== 'string') throw new InvalidOptionError('clientId', 'must be a string')
  let requiredAcks: 0 | 1 | -1 = -1
  if (options.requiredAcks !== undefined) {
    const a = options.requiredAcks
    if (a === 'all' || a === -1) requiredAcks = -1
    else if (a === 0 || a === 1) requiredAcks = a
    else throw new InvalidOptionError('requiredAcks', `${String(a)} is not 0, 1 or 'all'`)
  }
  const idempotent = options.disableIdempotentWrite !== true
  if (idempotent && requiredAcks !== -1) {
    // Java and franz-go refuse this too: idempotence needs every in-sync replica to have the batch.
    throw new InvalidOptionError('requiredAcks', `idempotent writes need requiredAcks 'all'; set disableIdempotentWrite: true to use ${requiredAcks}`)
  }
  const compression = options.producerBatchCompression ?? ['none']
  if (!Array.isArray(compression) || compression.length === 0 || compression.some((c) => !CODECS.has(c))) {
    throw new InvalidOptionError('producerBatchCompression', `want a list of 'none', 'gzip', 'snappy', 'lz4', 'zstd'; got ${JSON.stringify(compression)}`)
  }
  let retryBackoff: (tries: number) => number = defaultRetryBackoff
  if (options.retryBackoff !== undefined) {
    const rb = options.retryBackoff
    if (typeof rb === 'number') {
      if (!(rb >= 0) || rb > MAX_TIMER_MS) throw new InvalidOptionError('retryBackoff', `must be a number of ms in [0, ${MAX_TIMER_MS}] or a function`)
      retryBackoff = () => rb
    } else if (typeof rb === 'function') {
      // A wait becomes a Node timer: what is not a number of ms falls back to the default's wait, and
      // one past the longest timer (which would fire at once) is cut to it.
      retryBackoff = (tries) => {
        const ms = rb(tries)
        return ms >= 0 ? Math.min(ms, MAX_TIMER_MS) : defaultRetryBackoff(tries)
      }
    }
    else throw new InvalidOptionError('retryBackoff', 'must be a number of ms or a function of the try number')
  }
  const maxVersions = new Map<number, number>()
  for (const [k, v] of Object.entries(options.maxVersions ?? {})) {
    if (!/^\d+$/.test(k) || !Number.isInteger(v) || v < 0) throw new InvalidOptionError('maxVersions', `${k}: ${String(v)} is not an API key and a version`)
    maxVersions.set(Number(k), v)
  }
  if (options.defaultProduceTopic !== undefined && typeof options.defaultProduceTopic !== 'string') {
    throw new InvalidOptionError('defaultProduceTopic', 'must be a string')
  }
  if (options.defaultProduceTopic !== undefined) topicOption('defaultProduceTopic', options.defaultProduceTopic)
  const p = options.partitioner ?? 'default'
  partitionerFrom(p) // throws InvalidOptionError('partitioner', …) for anything it does not know
  if (options.sasl !== undefined && (options.sasl === null || typeof options.sasl !== 'object')) {
    throw new InvalidOptionError('sasl', 'must be a SASL config object or mechanism')
  }
  if (options.tls !== undefined && typeof options.tls !== 'boolean' && (options.tls === null || typeof options.tls !== 'object')) {
    throw new InvalidOptionError('tls', 'must be a boolean or tls.connect options')
  }
  if (options.dialer !== undefined && typeof options.dialer !== 'function') throw new InvalidOptionError('dialer', 'must be a function returning a net.Socket')
  if (options.rack !== undefined && typeof options.rack !== 'string') throw new InvalidOptionError('rack', 'must be a string')
  const transactionalId = options.transactionalId ?? null
  if (transactionalId !== null) {
    if (typeof transactionalId !== 'string' || transactionalId === '') throw new InvalidOptionError('transactionalId', 'must be a non-empty string')
    // Java and franz-go refuse this too: a transaction's records are idempotent batches of its producer id.
    if (!idempotent) throw new InvalidOptionError('disableIdempotentWrite', 'a transactionalId needs idempotent writes')
  }
  const maxInflightDefault = idempotent ? 5 : 1
  const maxInflight = num(o, 'maxProduceRequestsInflightPerBroker', maxInflightDefault, 1, 1_000)
  if (idempotent && maxInflight > 5) {
    // Brokers keep the state of the last five batches per producer and partition; more in flight
    // could make a retried batch look out of order.
    throw new InvalidOptionError('maxProduceRequestsInflightPerBroker', 'at most 5 with idempotent writes')
  }
  const stopOnDataLoss = options.stopProducerOnDataLossDetected ?? false
  if (typeof stopOnDataLoss !== 'boolean') throw new InvalidOptionError('stopProducerOnDataLossDetected', 'must be a boolean')
  const onDataLoss = fn<(topic: string, partition: number) => void>(o, 'producerOnDataLossDetected')
  if (stopOnDataLoss && onDataLoss !== null) {
    // franz-go's two options are exclusive too: the callback is for a producer that goes on.
    throw new InvalidOptionError('producerOnDataLossDetected', 'cannot be combined with stopProducerOnDataLossDetected (the callback is called when the producer goes on after data loss)')
  }
  const producerBatchMaxBytes = num(o, 'producerBatchMaxBytes', 1_000_000, 64, 2 ** 30)
  const brokerMaxWriteBytes = num(o, 'brokerMaxWriteBytes', 100 << 20, 1024, 2 ** 30)
  if (!Number.isInteger(brokerMaxWriteBytes)) throw new InvalidOptionError('brokerMaxWriteBytes', `${brokerMaxWriteBytes} is not a whole number of bytes`)
  const overhead = produceRequestOverhead(clientId, transactionalId)
  if (brokerMaxWriteBytes < producerBatchMaxBytes + overhead) {
    // franz-go refuses this too. Name the option the caller set: a large producerBatchMaxBytes alone
    // is refused against the default brokerMaxWriteBytes.
    const named = o.brokerMaxWriteBytes === undefined ? 'producerBatchMaxBytes' : 'brokerMaxWriteBytes'
    throw new InvalidOptionError(named, `a produce request of brokerMaxWriteBytes (${brokerMaxWriteBytes}) cannot hold a full batch: it must be at least producerBatchMaxBytes (${producerBatchMaxBytes}) plus ${overhead} bytes of request overhead, ${producerBatchMaxBytes + overhead}; raise brokerMaxWriteBytes (up to the brokers' socket.request.max.bytes) or lower producerBatchMaxBytes`)
  }
  const consumer = consumerConfig(options, o)
  const cfg: Config = {
    seedBrokers,
    clientId,
    rack: options.rack ?? null,
    tls: options.tls ?? false,
    sasl: options.sasl ?? null,
    dialer: options.dialer ?? null,
    dialTimeout: num(o, 'dialTimeout', 10_000, 1, MAX_TIMER_MS),
    requestTimeoutOverhead: num(o, 'requestTimeoutOverhead', 10_000, 100, MAX_TIMER_MS),
    connIdleTimeout: num(o, 'connIdleTimeout', 20_000, 0, MAX_TIMER_MS),
    brokerMaxReadBytes: num(o, 'brokerMaxReadBytes', 100 << 20, 1024, 2 ** 31 - 1),
    brokerMaxWriteBytes,
    maxVersions,
    metadataMaxAge: num(o, 'metadataMaxAge', 300_000, 100, MAX_TIMER_MS),
    metadataMinAge: num(o, 'metadataMinAge', 5_000, 0, MAX_TIMER_MS),
    considerMissingTopicDeletedAfter: num(o, 'considerMissingTopicDeletedAfter', 15_000, 0, Number.MAX_SAFE_INTEGER, true),
    retryBackoff,
    requestRetries: num(o, 'requestRetries', 20, 0, Number.MAX_SAFE_INTEGER, true),
    retryTimeout: retryTimeoutOf(o, consumer.sessionTimeout),
    onRebootstrapRequired: fn<() => string[] | Promise<string[]>>(o, 'onRebootstrapRequired'),
    defaultProduceTopic: options.defaultProduceTopic ?? null,
    requiredAcks,
    idempotent,
    linger: num(o, 'linger', 10, 0, 60_000),
    producerBatchMaxBytes,
    compression: Object.freeze([...compression]),
    compressor: codecHook(options.compressor, 'compressor', 'compress'),
    maxBufferedRecords: num(o, 'maxBufferedRecords', 10_000, 1),
    maxBufferedBytes: num(o, 'maxBufferedBytes', 32 << 20, 0),
    maxProduceRequestsInflightPerBroker: maxInflight,
    produceRequestTimeout: num(o, 'produceRequestTimeout', 10_000, 1, 2 ** 31 - 1),
    recordDeliveryTimeout: num(o, 'recordDeliveryTimeout', 120_000, 0),
    recordRetries: num(o, 'recordRetries', Infinity, 0, Number.MAX_SAFE_INTEGER, true),
    unknownTopicRetries: num(o, 'unknownTopicRetries', 4, 0, Number.MAX_SAFE_INTEGER, true),
    partitioner: p,
    stopProducerOnDataLossDetected: stopOnDataLoss,
    producerOnDataLossDetected: onDataLoss,
    allowAutoTopicCreation: options.allowAutoTopicCreation === true,
    transactionalId,
    transactionTimeout: num(o, 'transactionTimeout', 40_000, 1, 2 ** 31 - 1),
    concurrentTransactionsBackoff: positiveMs(o, 'concurrentTransactionsBackoff', 20),
    ...consumer,
  }
  return Object.freeze(cfg)
}

function consumerConfig(options: ClientOptions, o: Record<string, unknown>) {
  const topics = options.consumeTopics ?? []
  if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || t === '')) {
    throw new InvalidOptionError('consumeTopics', 'must be a list of topic names')
  }
  if (!options.consumeRegex) for (const t of topics) topicOption('consumeTopics', t)
  if (options.consumeRegex) {
    for (const t of topics) {
      try {
        new RegExp(t)
      } catch (err) {
        throw new InvalidOptionError('consumeTopics', `${JSON.stringify(t)} is not a regular expression: ${(err as Error).message}`)
      }
    }
  }
  const exclude = options.consumeExcludeTopics ?? []
  if (!Array.isArray(exclude) || exclude.some((t) => typeof t !== 'string' || t === '')) {
    throw new InvalidOptionError('consumeExcludeTopics', 'must be a list of regular expressions')
  }
  if (exclude.length > 0 && !options.consumeRegex) throw new InvalidOptionError('consumeExcludeTopics', 'needs consumeRegex (it leaves out topics that consumeTopics patterns match)')
  for (const t of exclude) {
    try {
      new RegExp(t)
    } catch (err) {
      throw new InvalidOptionError('consumeExcludeTopics', `${JSON.stringify(t)} is not a regular expression: ${(err as Error).message}`)
    }
  }
  const partitions = new Map<string, Map<number, OffsetSpec>>()
  for (const [topic, ps] of Object.entries(options.consumePartitions ?? {})) {
    topicOption('consumePartitions', topic)
    const m = new Map<number, OffsetSpec>()
    for (const [p, spec] of Object.entries(ps ?? {})) {
      if (!/^\d+$/.test(p)) throw new InvalidOptionError('consumePartitions', `${topic}: ${p} is not a partition number`)
      m.set(Number(p), validateOffsetSpec(spec, `consumePartitions.${topic}.${p}`))
    }
    partitions.set(topic, m)
  }
  const group = options.consumerGroup ?? null
  if (group !== null && (typeof group !== 'string' || group === '')) throw new InvalidOptionError('consumerGroup', 'must be a non-empty string')
  if (group !== null && partitions.size > 0) throw new InvalidOptionError('consumePartitions', 'cannot be used with consumerGroup (a group assigns partitions)')
  const share = options.shareGroup ?? null
  if (share !== null) {
    if (typeof share !== 'string' || share === '') throw new InvalidOptionError('shareGroup', 'must be a non-empty string')
    if (group !== null) throw new InvalidOptionError('consumerGroup', 'cannot be used with shareGroup (a member is in one group)')
    if (partitions.size > 0) throw new InvalidOptionError('consumePartitions', 'cannot be used with shareGroup (the share group hands out records)')
    if (options.consumeRegex) throw new InvalidOptionError('consumeRegex', 'cannot be used with shareGroup (share groups subscribe to topic names)')
    if (topics.length === 0) throw new InvalidOptionError('consumeTopics', 'shareGroup needs the topics to consume')
  }
  const protocol = options.groupProtocol ?? 'classic'
  if (protocol !== 'classic' && protocol !== 'consumer') throw new InvalidOptionError('groupProtocol', `${String(protocol)} is not 'classic' or 'consumer'`)
  const iso = options.isolationLevel ?? 'read_uncommitted'
  if (iso !== 'read_uncommitted' && iso !== 'read_committed') throw new InvalidOptionError('isolationLevel', `${String(iso)} is not 'read_uncommitted' or 'read_committed'`)
  const balancers = options.balancers ?? ['cooperative-sticky']
  if (!Array.isArray(balancers) || balancers.length === 0) throw new InvalidOptionError('balancers', 'must be a non-empty list')
  for (const b of balancers) {
    if (typeof b === 'string' ? balancerByName(b) === undefined : b === null || typeof b !== 'object' || typeof b.name !== 'string' || typeof b.balance !== 'function') {
      throw new InvalidOptionError('balancers', `${typeof b === 'string' ? JSON.stringify(b) : 'an object'} is not a balancer: use ${BALANCER_NAMES.join(', ')} or an object with name and balance()`)
    }
  }
  const greedyAutoCommit = options.greedyAutoCommit ?? false
  if (typeof greedyAutoCommit !== 'boolean') throw new InvalidOptionError('greedyAutoCommit', 'must be a boolean')
  const sessionTimeout = num(o, 'sessionTimeout', 45_000, 1_000, MAX_TIMER_MS)
  const heartbeatInterval = num(o, 'heartbeatInterval', 3_000, 10, MAX_TIMER_MS)
  if (heartbeatInterval >= sessionTimeout) throw new InvalidOptionError('heartbeatInterval', 'must be below sessionTimeout')
  if (options.instanceId !== undefined && (typeof options.instanceId !== 'string' || options.instanceId === '')) {
    throw new InvalidOptionError('instanceId', 'must be a non-empty string')
  }
  const keepRetryableFetchErrors = options.keepRetryableFetchErrors ?? false
  if (typeof keepRetryableFetchErrors !== 'boolean') throw new InvalidOptionError('keepRetryableFetchErrors', 'must be a boolean')
  return {
    consumeTopics: Object.freeze([...topics]),
    consumeRegex: options.consumeRegex === true,
    consumeExcludeTopics: Object.freeze([...exclude]),
    consumePartitions: partitions,
    consumeResetOffset: options.consumeResetOffset === undefined ? ('earliest' as const) : validateOffsetSpec(options.consumeResetOffset, 'consumeResetOffset'),
    fetchMaxBytes: num(o, 'fetchMaxBytes', 50 << 20, 1, 2 ** 31 - 1),
    fetchMaxPartitionBytes: num(o, 'fetchMaxPartitionBytes', 1 << 20, 1, 2 ** 31 - 1),
    fetchMaxWait: num(o, 'fetchMaxWait', 5_000, 0, 2 ** 31 - 1),
    fetchMinBytes: num(o, 'fetchMinBytes', 1, 0, 2 ** 31 - 1),
    maxConcurrentFetches: num(o, 'maxConcurrentFetches', 0, 0, 10_000),
    maxBufferedFetchRecords: num(o, 'maxBufferedFetchRecords', 10_000, 0, 2 ** 31 - 1),
    maxBufferedFetchBytes: num(o, 'maxBufferedFetchBytes', 8 << 20, 0, 2 ** 31 - 1),
    isolationLevel: iso === 'read_committed' ? (1 as const) : (0 as const),
    disableFetchSessions: options.disableFetchSessions === true,
    disableFetchCRCValidation: options.disableFetchCRCValidation === true,
    recycleFetches: options.recycleFetches === true,
    decompressor: codecHook(options.decompressor, 'decompressor', 'decompress'),
    keepControlRecords: options.keepControlRecords === true,
    keepRetryableFetchErrors,
    recheckPreferredReplicaInterval: num(o, 'recheckPreferredReplicaInterval', 30 * 60_000, 10, 7 * 24 * 3_600_000),
    consumerGroup: group,
    groupProtocol: protocol,
    balancers: Object.freeze([...balancers]),
    groupRemoteAssignor: options.groupRemoteAssignor ?? null,
    instanceId: options.instanceId ?? null,
    sessionTimeout,
    rebalanceTimeout: num(o, 'rebalanceTimeout', 60_000, 1_000, MAX_TIMER_MS),
    heartbeatInterval,
    onPartitionsAssigned: fn<PartitionsCallback>(o, 'onPartitionsAssigned'),
    onPartitionsRevoked: fn<PartitionsCallback>(o, 'onPartitionsRevoked'),
    onPartitionsLost: fn<PartitionsCallback>(o, 'onPartitionsLost'),
    blockRebalanceOnPoll: options.blockRebalanceOnPoll === true,
    onPartitionsCallbackBlocked: fn<() => void | Promise<void>>(o, 'onPartitionsCallbackBlocked'),
    autoCommitInterval: num(o, 'autoCommitInterval', 5_000, 10, MAX_TIMER_MS),
    disableAutoCommit: options.disableAutoCommit === true,
    autoCommitMarks: options.autoCommitMarks === true,
    greedyAutoCommit,
    autoCommitCallback: fn<(result: AutoCommitResult) => void | Promise<void>>(o, 'autoCommitCallback'),
    onOffsetsFetched: fn<(offsets: CommitOffsets, signal: AbortSignal) => void | Promise<void>>(o, 'onOffsetsFetched'),
    shareGroup: share,
    shareMaxRecords: num(o, 'shareMaxRecords', 500, 1, 2 ** 31 - 1),
    shareMaxRecordsStrict: options.shareMaxRecordsStrict === true,
    shareAckCallback: fn<(results: ShareAckResult[]) => void>(o, 'shareAckCallback'),
  }
}
