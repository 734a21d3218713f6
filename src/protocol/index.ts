/**
 * kafka-wire/protocol: the bytes of the Kafka protocol, with no sockets, timers or client state.
 * Writer and Reader are the primitives; messages/ holds every generated request, response and header.
 */
export { Writer, UUID_BASE64, UUID_DASHED, uvarintSize, varintSize } from './writer.js'
export { Reader, ZERO_UUID, type TaggedField } from './reader.js'
export { KafkaWireError, ProtocolDecodeError, ProtocolEncodeError, KafkaProtocolError, InvalidRequestError, errorForCode } from './errors.js'
export { checkRequest, isUuid, uuidToBase64, uuidToDashed } from './validate.js'
export * from './messages/index.js'
