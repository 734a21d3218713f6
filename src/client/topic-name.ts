/**
 * Kafka's rules for topic names, checked locally so that a name the broker would refuse fails at once
 * instead of after metadata round trips: at most 249 characters of ASCII letters, digits, `.`, `_` and
 * `-`, not empty, and not `.` or `..`. (The broker checks the same; 249 leaves room for the partition
 * suffix of log folder names within a file system's 255.)
 */
import { InvalidTopicError } from './errors.js'

/** MAX_TOPIC_NAME_LENGTH is the longest topic name Kafka accepts. */
export const MAX_TOPIC_NAME_LENGTH = 249

/**
 * topicNameProblem returns why `name` is not a legal topic name, or null when it is. The loop over
 * char codes allocates nothing, so the producer can call it for every record.
 */
export function topicNameProblem(name: string): string | null {
  const n = name.length
  if (n === 0) return 'it is empty'
  if (n > MAX_TOPIC_NAME_LENGTH) return `it has ${n} characters; the most Kafka allows is ${MAX_TOPIC_NAME_LENGTH}`
  if (name === '.' || name === '..') return `"${name}" is reserved`
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i)
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 45
    if (!ok) return `${JSON.stringify(name[i])} at position ${i} is not allowed (only ASCII letters, digits, '.', '_' and '-')`
  }
  return null
}

/** checkTopicName returns an InvalidTopicError for an illegal name, or null. */
export function checkTopicName(name: string): InvalidTopicError | null {
  const why = topicNameProblem(name)
  return why === null ? null : new InvalidTopicError(name, why)
}
