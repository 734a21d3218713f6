/**
 * kcat's -f output format for `kafka-wire consume`: a string with %-tokens for a record's fields and
 * backslash escapes, compiled once into a function so printing a record does no parsing.
 *
 *   %t topic        %p partition    %o offset       %T timestamp (ms)
 *   %k key          %K key length   %s value        %S value length
 *   %h headers as k=v,k=v           %% a percent sign
 *   \n \r \t \\     escapes
 *
 * Lengths are -1 for a null key or value, as kcat prints them.
 */
import type { Record as KafkaRecord } from '../protocol/record.js'
import { UsageError } from './common.js'

/** DEFAULT_FORMAT prints each value on its own line, as kcat does. */
export const DEFAULT_FORMAT = '%s\\n'

type Part = string | ((r: KafkaRecord) => string)

const TOKENS: { [c: string]: (r: KafkaRecord) => string } = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => String(r.offset),
  T: (r) => String(r.timestamp),
  k: (r) => (r.key === null ? '' : r.key.toString('utf8')),
  K: (r) => String(r.key === null ? -1 : r.key.length),
  s: (r) => (r.value === null ? '' : r.value.toString('utf8')),
  S: (r) => String(r.value === null ? -1 : r.value.length),
  h: (r) => r.headers.map((h) => `${h.key}=${h.value === null ? '' : h.value.toString('utf8')}`).join(','),
}

/** compileFormat turns a format string into a function of a record; unknown tokens are usage errors. */
export function compileFormat(format: string, command = 'kafka-wire consume'): (r: KafkaRecord) => string {
  const parts: Part[] = []
  let lit = ''
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!
    if (c === '\\' && i + 1 < format.length) {
      const n = format[++i]!
      lit += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === '\\' ? '\\' : `\\${n}`
    } else if (c === '%') {
      const n = format[++i]
      if (n === '%') lit += '%'
      else if (n !== undefined && TOKENS[n] !== undefined) {
        if (lit) parts.push(lit)
        lit = ''
        parts.push(TOKENS[n]!)
      } else {
        throw new UsageError(`${command}: unknown format token %${n ?? ''} in -f ${JSON.stringify(format)} (known: ${Object.keys(TOKENS).map((t) => `%${t}`).join(' ')} %%)`)
      }
    } else lit += c
  }
  if (lit) parts.push(lit)
  return (r) => {
    let out = ''
    for (const p of parts) out += typeof p === 'string' ? p : p(r)
    return out
  }
}
