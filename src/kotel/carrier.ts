import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api'
import type { ProduceRecord, ProduceRecordHeader, Record, RecordHeader } from '../protocol/record.js'

type AnyRecord = Record | ProduceRecord
type AnyHeader = RecordHeader | ProduceRecordHeader

const decoder = new TextDecoder()

/**
 * RecordCarrier lets an OpenTelemetry propagator read and write a record's headers (franz-go kotel's
 * RecordCarrier). Use it with its `getter` and `setter`:
 *
 * ```ts
 * propagation.inject(ctx, new RecordCarrier(record), RecordCarrier.setter)
 * const ctx = propagation.extract(ROOT_CONTEXT, new RecordCarrier(record), RecordCarrier.getter)
 * ```
 *
 * `set` replaces a header of the same key instead of adding one, so a record that is consumed and
 * produced again never carries two `traceparent` headers.
 */
export class RecordCarrier {
  /** record is the record whose headers are read and written. */
  readonly record: AnyRecord

  constructor(record: AnyRecord) {
    this.record = record
  }

  /**
   * get returns the UTF-8 text of the first header named `key`, or undefined when there is none or
   * its value is null. A header whose name matches only when case is ignored is used when no exact
   * match exists, since some producers spell `Traceparent` or `TRACEPARENT`.
   */
  get(key: string): string | undefined {
    const hs = this.record.headers as AnyHeader[] | undefined
    if (!Array.isArray(hs)) return undefined
    let hit: AnyHeader | undefined
    for (const h of hs) {
      if (h?.key === key) {
        hit = h
        break
      }
    }
    if (hit === undefined) {
      const lower = key.toLowerCase()
      for (const h of hs) {
        if (typeof h?.key === 'string' && h.key.toLowerCase() === lower) {
          hit = h
          break
        }
      }
    }
    const v = hit?.value
    if (v === null || v === undefined) return undefined
    return typeof v === 'string' ? v : decoder.decode(v)
  }

  /**
   * set writes a header: the first header named `key` gets the new value in place and any later ones of
   * that name are removed; without one, the header is appended.
   */
  set(key: string, value: string): void {
    const r = this.record as { headers?: AnyHeader[] }
    const bytes = Buffer.from(value, 'utf8')
    if (!Array.isArray(r.headers)) {
      r.headers = [{ key, value: bytes }]
      return
    }
    const hs = r.headers
    const first = hs.findIndex((h) => h?.key === key)
    if (first < 0) {
      hs.push({ key, value: bytes })
      return
    }
    hs[first] = { key, value: bytes }
    for (let i = hs.length - 1; i > first; i--) if (hs[i]?.key === key) hs.splice(i, 1)
  }

  /** keys lists every header name in order, duplicates included. */
  keys(): string[] {
    const hs = this.record.headers as AnyHeader[] | undefined
    return Array.isArray(hs) ? hs.map((h) => h.key) : []
  }

  /** getter is the TextMapGetter for a RecordCarrier. */
  static readonly getter: TextMapGetter<RecordCarrier> = Object.freeze({
    get: (c: RecordCarrier, key: string) => c.get(key),
    keys: (c: RecordCarrier) => c.keys(),
  })

  /** setter is the TextMapSetter for a RecordCarrier. */
  static readonly setter: TextMapSetter<RecordCarrier> = Object.freeze({
    set: (c: RecordCarrier, key: string, value: string) => c.set(key, value),
  })
}
