/**
 * The message-spec model: Kafka's `common/message/*.json` files turned into messages, structs and fields
 * with their version ranges resolved, ready for the emitter. The semantics follow Kafka's own
 * MessageGenerator: versions are contiguous ranges, taggedVersions are open-ended, a field-level
 * flexibleVersions overrides the message's for strings and bytes, commonStructs are shared by name
 * within one spec file.
 */

/** MAX_VERSION stands for the open end of a range such as "3+". */
export const MAX_VERSION = 0x7fff

/** Range is an inclusive version range; null is the empty range ("none"). */
export type Range = readonly [lo: number, hi: number] | null

/** parseRange reads "none", "3", "3+" or "1-4". */
export function parseRange(s: string | undefined, fallback: Range = null): Range {
  if (s === undefined) return fallback
  const t = s.trim()
  if (t === 'none') return null
  let m = /^(\d+)\+$/.exec(t)
  if (m) return [Number(m[1]), MAX_VERSION]
  m = /^(\d+)-(\d+)$/.exec(t)
  if (m) {
    const lo = Number(m[1])
    const hi = Number(m[2])
    if (hi < lo) throw new Error(`invalid version range ${JSON.stringify(s)}`)
    return [lo, hi]
  }
  m = /^(\d+)$/.exec(t)
  if (m) return [Number(m[1]), Number(m[1])]
  throw new Error(`invalid version range ${JSON.stringify(s)}`)
}

export function intersect(a: Range, b: Range): Range {
  if (a === null || b === null) return null
  const lo = Math.max(a[0], b[0])
  const hi = Math.min(a[1], b[1])
  return lo <= hi ? [lo, hi] : null
}

export function rangeEquals(a: Range, b: Range): boolean {
  if (a === null || b === null) return a === b
  return a[0] === b[0] && a[1] === b[1]
}

/** subtractOpenEnded removes an open-ended range [t, MAX] from a; the result is still a range. */
export function subtractOpenEnded(a: Range, open: Range): Range {
  if (a === null || open === null) return a
  if (open[1] !== MAX_VERSION) throw new Error('subtractOpenEnded needs an open-ended range')
  return intersect(a, [0, open[0] - 1])
}

export function contains(a: Range, b: Range): boolean {
  return b === null || rangeEquals(intersect(a, b), b)
}

export type Primitive = 'bool' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'float64' | 'string' | 'bytes' | 'records' | 'uuid'

const PRIMITIVES = new Set<string>(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid'])

/** FieldType is a primitive, a struct, or an array of either. */
export type FieldType =
  | { kind: 'primitive'; name: Primitive }
  | { kind: 'struct'; struct: StructModel }
  | { kind: 'array'; element: { kind: 'primitive'; name: Primitive } | { kind: 'struct'; struct: StructModel } }

export interface FieldModel {
  /** specName is the field's name in the spec (PascalCase). */
  specName: string
  /** prop is the TypeScript property name (camelCase). */
  prop: string
  type: FieldType
  versions: Range
  nullable: Range
  tagged: Range
  tag: number | null
  ignorable: boolean
  /** defaultSpec is the spec's "default" as a string ('' when none). */
  defaultSpec: string
  /** entityType is what the field names (a group id, a transactional id, a topic name, …), '' when nothing. */
  entityType: string
  /** flexible is the field's effective flexible versions (the message's, or the field's override). */
  flexible: Range
}

export interface StructModel {
  /** specName is the struct's name in the spec (e.g. TopicProduceData); for the top level, the message name. */
  specName: string
  /** tsName is the exported TypeScript name: the message name, then the struct name. */
  tsName: string
  fields: FieldModel[]
  /** possible is every version in which this struct may be encoded. */
  possible: Range
  /** hasUnknownTags is true when the message has flexible versions, so the struct carries unknownTaggedFields. */
  hasUnknownTags: boolean
}

export interface MessageModel {
  /** specName is the spec's name (e.g. ProduceRequest). */
  specName: string
  specType: 'request' | 'response' | 'header' | 'data'
  apiKey: number | null
  valid: Range
  flexible: Range
  listeners: string[]
  latestVersionUnstable: boolean
  top: StructModel
  /** structs is every struct of the message, the top level first, in a stable order. */
  structs: StructModel[]
}

interface RawField {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number
  ignorable?: boolean
  entityType?: string
  default?: string | number | boolean
  flexibleVersions?: string
  fields?: RawField[]
}

interface RawSpec {
  apiKey?: number
  type: string
  name: string
  validVersions: string
  flexibleVersions?: string
  listeners?: string[]
  latestVersionUnstable?: boolean
  fields?: RawField[]
  commonStructs?: { name: string; versions: string; fields: RawField[] }[]
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

/** buildMessage resolves one parsed spec file into a MessageModel. */
export function buildMessage(raw: RawSpec): MessageModel {
  const where = raw.name
  if (!['request', 'response', 'header', 'data'].includes(raw.type)) throw new Error(`${where}: unknown spec type ${raw.type}`)
  const valid = parseRange(raw.validVersions)
  const flexible = parseRange(raw.flexibleVersions ?? 'none')
  const hasUnknownTags = flexible !== null && intersect(flexible, valid) !== null
  const structs: StructModel[] = []
  const byName = new Map<string, StructModel>()

  // Common structs are declared first so that fields can refer to them; their fields are filled in below.
  const common = new Map<string, { raw: { name: string; versions: string; fields: RawField[] }; model: StructModel }>()
  for (const cs of raw.commonStructs ?? []) {
    if (common.has(cs.name)) throw new Error(`${where}: common struct ${cs.name} declared twice`)
    const model: StructModel = {
      specName: cs.name,
      tsName: raw.name + cs.name,
      fields: [],
      possible: intersect(valid, parseRange(cs.versions)),
      hasUnknownTags,
    }
    common.set(cs.name, { raw: cs, model })
  }

  function buildFields(fields: RawField[], possible: Range, path: string): FieldModel[] {
    const seenTags = new Set<number>()
    const seenNames = new Set<string>()
    return fields.map((f) => {
      const fwhere = `${path}.${f.name}`
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(f.name)) throw new Error(`${fwhere}: invalid field name`)
      const prop = lowerFirst(f.name)
      if (seenNames.has(prop)) throw new Error(`${fwhere}: duplicate field name`)
      seenNames.add(prop)
      const tagged = parseRange(f.taggedVersions)
      const versions = parseRange(f.versions, tagged)
      if (versions === null && f.versions === undefined) throw new Error(`${fwhere}: no versions`)
      const nullable = parseRange(f.nullableVersions)
      const tag = f.tag ?? null
      if (tag !== null) {
        if (tagged === null) throw new Error(`${fwhere}: tag without taggedVersions`)
        if (tagged[1] !== MAX_VERSION) throw new Error(`${fwhere}: taggedVersions must be open-ended`)
        if (!contains(versions, tagged)) throw new Error(`${fwhere}: taggedVersions not within versions`)
        if (seenTags.has(tag)) throw new Error(`${fwhere}: tag ${tag} used twice`)
        seenTags.add(tag)
      } else if (tagged !== null) {
        throw new Error(`${fwhere}: taggedVersions without tag`)
      }
      let fieldFlexible = flexible
      if (f.flexibleVersions !== undefined) {
        fieldFlexible = parseRange(f.flexibleVersions)
        if (!contains(flexible, fieldFlexible)) throw new Error(`${fwhere}: flexibleVersions outside the message's`)
      }
      if (tagged !== null && !contains(fieldFlexible, tagged)) throw new Error(`${fwhere}: tagged versions must be flexible`)
      const fieldPossible = intersect(possible, versions)
      const type = resolveType(f, fieldPossible, fwhere)
      if (f.flexibleVersions !== undefined && !(type.kind === 'primitive' && (type.name === 'string' || type.name === 'bytes'))) {
        throw new Error(`${fwhere}: only string and bytes fields may override flexibleVersions`)
      }
      if (nullable !== null) {
        const canBeNull = type.kind !== 'primitive' || ['string', 'bytes', 'records'].includes(type.name)
        if (!canBeNull) throw new Error(`${fwhere}: type ${f.type} cannot be nullable`)
      }
      if (tagged !== null && type.kind === 'primitive' && type.name === 'records') throw new Error(`${fwhere}: records cannot be tagged`)
      const defaultSpec = f.default === undefined ? '' : String(f.default)
      if (defaultSpec === 'null' && !contains(nullable, versions)) throw new Error(`${fwhere}: null default but not nullable in every version`)
      return {
        specName: f.name,
        prop,
        type,
        versions,
        nullable,
        tagged,
        tag,
        ignorable: f.ignorable === true,
        defaultSpec,
        entityType: f.entityType ?? '',
        flexible: fieldFlexible,
      }
    })
  }

  function structFor(name: string, f: RawField, possible: Range, fwhere: string): StructModel {
    const c = common.get(name)
    if (c !== undefined) {
      if (f.fields !== undefined && f.fields.length > 0) throw new Error(`${fwhere}: common struct ${name} re-specified inline`)
      return c.model
    }
    if (byName.has(name)) throw new Error(`${fwhere}: struct ${name} specified twice`)
    if (f.fields === undefined) throw new Error(`${fwhere}: struct ${name} has no fields`)
    const model: StructModel = { specName: name, tsName: raw.name + name, fields: [], possible, hasUnknownTags }
    byName.set(name, model)
    structs.push(model)
    model.fields = buildFields(f.fields, possible, `${raw.name}.${name}`)
    return model
  }

  function resolveType(f: RawField, possible: Range, fwhere: string): FieldType {
    const t = f.type
    if (t.startsWith('[]')) {
      const el = t.slice(2)
      if (PRIMITIVES.has(el)) {
        if (el === 'records') throw new Error(`${fwhere}: arrays of records are not supported`)
        if (f.fields !== undefined && f.fields.length > 0) throw new Error(`${fwhere}: primitive array with fields`)
        return { kind: 'array', element: { kind: 'primitive', name: el as Primitive } }
      }
      if (el.startsWith('[]')) throw new Error(`${fwhere}: nested arrays are not supported`)
      return { kind: 'array', element: { kind: 'struct', struct: structFor(el, f, possible, fwhere) } }
    }
    if (PRIMITIVES.has(t)) return { kind: 'primitive', name: t as Primitive }
    if (!/^[A-Z]/.test(t)) throw new Error(`${fwhere}: unknown type ${t}`)
    return { kind: 'struct', struct: structFor(t, f, possible, fwhere) }
  }

  const top: StructModel = { specName: raw.name, tsName: raw.name, fields: [], possible: valid, hasUnknownTags }
  structs.push(top)
  top.fields = buildFields(raw.fields ?? [], valid, raw.name)
  for (const { raw: cs, model } of [...common.values()].sort((a, b) => a.raw.name.localeCompare(b.raw.name))) {
    if (byName.has(cs.name)) throw new Error(`${where}: common struct ${cs.name} also declared inline`)
    byName.set(cs.name, model)
    model.fields = buildFields(cs.fields, model.possible, `${raw.name}.${cs.name}`)
    structs.push(model)
  }

  return {
    specName: raw.name,
    specType: raw.type as MessageModel['specType'],
    apiKey: raw.apiKey ?? null,
    valid,
    flexible: intersect(flexible, valid) === null ? null : flexible,
    listeners: raw.listeners ?? [],
    latestVersionUnstable: raw.latestVersionUnstable === true,
    top,
    structs,
  }
}
