/**
 * The TypeScript emitter: turns MessageModels into the source of src/protocol/messages/*.ts. Encoders and
 * decoders are straight-line code with `version` comparisons, as Kafka's Java generator writes them:
 * every condition is simplified against the versions a struct can be encoded in, so a field present in
 * every version gets no test at all.
 */
import {
  MAX_VERSION,
  intersect,
  rangeEquals,
  subtractOpenEnded,
  type FieldModel,
  type MessageModel,
  type Primitive,
  type Range,
  type StructModel,
} from './model.js'

/** Code accumulates indented lines. */
class Code {
  lines: string[] = []
  #indent = 0

  line(s = ''): this {
    this.lines.push(s === '' ? '' : '  '.repeat(this.#indent) + s)
    return this
  }

  open(s: string): this {
    this.line(s)
    this.#indent++
    return this
  }

  close(s = '}'): this {
    this.#indent--
    return this.line(s)
  }

  /** mid emits a line such as `} else {` one level out, staying inside the block. */
  mid(s: string): this {
    this.#indent--
    this.line(s)
    this.#indent++
    return this
  }

  append(other: Code): this {
    for (const l of other.lines) this.line(l)
    return this
  }

  toString(): string {
    return this.lines.join('\n')
  }
}

// ---------------------------------------------------------------------------------------------------------
// Version conditions

/** cond is a JavaScript condition for "version is in p", given that version is known to be in c. */
function cond(p: Range, c: Range): string {
  const i = intersect(p, c)
  if (i === null || c === null) return 'false'
  if (rangeEquals(i, c)) return 'true'
  const parts: string[] = []
  if (i[0] > c[0]) parts.push(`version >= ${i[0]}`)
  if (i[1] < c[1]) parts.push(`version <= ${i[1]}`)
  return parts.join(' && ')
}

/** notCond is a JavaScript condition for "version is not in p", given that version is known to be in c. */
function notCond(p: Range, c: Range): string {
  const i = intersect(p, c)
  if (c === null) return 'false'
  if (i === null) return 'true'
  if (rangeEquals(i, c)) return 'false'
  const parts: string[] = []
  if (i[0] > c[0]) parts.push(`version < ${i[0]}`)
  if (i[1] < c[1]) parts.push(`version > ${i[1]}`)
  return parts.join(' || ')
}

function and(a: string, b: string): string {
  if (a === 'true') return b
  if (b === 'true') return a
  if (a === 'false' || b === 'false') return 'false'
  const pa = a.includes('||') ? `(${a})` : a
  const pb = b.includes('||') ? `(${b})` : b
  return `${pa} && ${pb}`
}

interface Segment<T> {
  lo: number
  hi: number
  value: T
}

/** segments splits c at the edges of the given ranges and labels each piece; equal neighbours merge. */
function segments<T>(c: Range, ranges: Range[], label: (version: number) => T, key: (v: T) => string = String): Segment<T>[] {
  if (c === null) return []
  const cuts = new Set<number>([c[0]])
  for (const r of ranges) {
    if (r === null) continue
    if (r[0] > c[0] && r[0] <= c[1]) cuts.add(r[0])
    if (r[1] + 1 > c[0] && r[1] + 1 <= c[1]) cuts.add(r[1] + 1)
  }
  const starts = [...cuts].sort((a, b) => a - b)
  const out: Segment<T>[] = []
  for (let k = 0; k < starts.length; k++) {
    const lo = starts[k]!
    const hi = k + 1 < starts.length ? starts[k + 1]! - 1 : c[1]
    const value = label(lo)
    const prev = out[out.length - 1]
    if (prev !== undefined && key(prev.value) === key(value)) prev.hi = hi
    else out.push({ lo, hi, value })
  }
  return out
}

/** dispatchExpr chooses an expression by version: `version >= 9 ? a : b`. */
function dispatchExpr(segs: Segment<string>[]): string {
  let expr = segs[0]!.value
  for (let k = 1; k < segs.length; k++) expr = `version >= ${segs[k]!.lo} ? ${segs[k]!.value} : ${expr}`
  return expr
}

/** dispatchStatements emits if/else-if/else by version over segments of statements. */
function dispatchStatements(c: Code, segs: Segment<Code>[]): void {
  if (segs.length === 1) {
    c.append(segs[0]!.value)
    return
  }
  // One statement a version: no braces (unless a statement is itself an if or a loop, where an else
  // would bind to the wrong if).
  if (segs.every((s) => s.value.lines.length === 1 && !/^(if|for) /.test(s.value.lines[0]!))) {
    for (let k = segs.length - 1; k >= 0; k--) {
      const s = segs[k]!
      const head = k === segs.length - 1 ? `if (version >= ${s.lo}) ` : k === 0 ? 'else ' : `else if (version >= ${s.lo}) `
      c.line(head + s.value.lines[0]!)
    }
    return
  }
  for (let k = segs.length - 1; k >= 0; k--) {
    const s = segs[k]!
    if (k === segs.length - 1) c.open(`if (version >= ${s.lo}) {`)
    else c.mid(k === 0 ? '} else {' : `} else if (version >= ${s.lo}) {`)
    c.append(s.value)
  }
  c.close()
}

function inRange(r: Range, v: number): boolean {
  return r !== null && v >= r[0] && v <= r[1]
}

function fmtRange(r: Range): string {
  if (r === null) return 'none'
  if (r[1] === MAX_VERSION) return `${r[0]}+`
  if (r[0] === r[1]) return `${r[0]}`
  return `${r[0]}-${r[1]}`
}

function schemaRange(r: Range): string {
  return r === null ? 'null' : `[${r[0]}, ${r[1]}]`
}

// ---------------------------------------------------------------------------------------------------------
// Names, literals, types

const RESERVED = new Set([
  'r', 'w', 'v', 'version', 'n', 'i', 'a', 'at', 'u', 'tag', 'tags', 'end', 'last', 'unknown', 'unknownTaggedFields',
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null',
  'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield',
  'let', 'static', 'implements', 'interface', 'package', 'private', 'protected', 'public', 'await', 'arguments', 'eval',
])

function local(f: FieldModel): string {
  return RESERVED.has(f.prop) ? `${f.prop}_` : f.prop
}

export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`
}

const FIXED_SIZE: Partial<Record<Primitive, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
}

const TS_PRIMITIVE: Record<Primitive, string> = {
  bool: 'boolean',
  int8: 'number',
  int16: 'number',
  uint16: 'number',
  int32: 'number',
  uint32: 'number',
  int64: 'bigint',
  float64: 'number',
  string: 'string',
  bytes: 'Buffer',
  records: 'Buffer',
  uuid: 'string',
}

/** MessageEmitter emits one message (request, response, header or data) into a file's parts. */
class MessageEmitter {
  readonly m: MessageModel
  /** imports collects the names used from ./api.js and ../reader.js. */
  readonly apiImports: Set<string>
  readonly readerImports: Set<string>
  /** isDefaultNeeded collects structs that need an isDefault function. */
  readonly isDefaultNeeded = new Set<StructModel>()
  readonly #minSizeMemo = new Map<StructModel, Map<number, number>>()

  constructor(m: MessageModel, apiImports: Set<string>, readerImports: Set<string>) {
    this.m = m
    this.apiImports = apiImports
    this.readerImports = readerImports
  }

  /** tsNullable is true when the field's TypeScript type includes null. */
  tsNullable(f: FieldModel, s: StructModel): boolean {
    if (f.type.kind === 'primitive' && f.type.name === 'records') return true
    return intersect(f.nullable, intersect(f.versions, s.possible)) !== null || f.defaultSpec === 'null'
  }

  tsType(f: FieldModel, s: StructModel): string {
    const t = f.type
    let base: string
    if (t.kind === 'primitive') base = TS_PRIMITIVE[t.name]
    else if (t.kind === 'struct') base = t.struct.tsName
    else base = `${t.element.kind === 'primitive' ? TS_PRIMITIVE[t.element.name] : t.element.struct.tsName}[]`
    return this.tsNullable(f, s) ? `${base} | null` : base
  }

  /** defaultExpr is the field's default as a TypeScript expression. */
  defaultExpr(f: FieldModel): string {
    const d = f.defaultSpec
    const t = f.type
    if (t.kind === 'array') {
      if (d === 'null') return 'null'
      if (d !== '') throw new Error(`${f.specName}: invalid array default ${d}`)
      return '[]'
    }
    if (t.kind === 'struct') {
      if (d === 'null') return 'null'
      if (d !== '') throw new Error(`${f.specName}: invalid struct default ${d}`)
      return `new${t.struct.tsName}()`
    }
    const v = defaultValue(f)
    switch (t.name) {
      case 'bytes':
        if (v === null) return 'null'
        this.apiImports.add('EMPTY_BYTES')
        return 'EMPTY_BYTES'
      case 'records':
        return 'null'
      case 'uuid':
        if (v === ZERO_UUID) {
          this.readerImports.add('ZERO_UUID')
          return 'ZERO_UUID'
        }
        return quote(v as string)
      default:
        return literal(v)
    }
  }

  /** nonDefault is a condition that is true when `x` is not the field's default (Java's non-default check). */
  nonDefault(f: FieldModel, s: StructModel, x: string, assumeNotNull = false): string {
    const t = f.type
    const d = f.defaultSpec
    const nullable = this.tsNullable(f, s) && !assumeNotNull
    if (t.kind === 'array' || (t.kind === 'primitive' && (t.name === 'bytes' || t.name === 'records'))) {
      if (d === 'null' || (t.kind === 'primitive' && t.name === 'records')) return `${x} !== null`
      return nullable ? `(${x} === null || ${x}.length !== 0)` : `${x}.length !== 0`
    }
    if (t.kind === 'struct') {
      if (d === 'null') return `${x} !== null`
      this.isDefaultNeeded.add(t.struct)
      return nullable ? `(${x} === null || !isDefault${t.struct.tsName}(${x}))` : `!isDefault${t.struct.tsName}(${x})`
    }
    if (t.name === 'bool') return defaultValue(f) === true ? `!${x}` : x
    return `${x} !== ${this.defaultExpr(f)}`
  }

  // -------------------------------------------------------------------------------------------------------
  // Sizes

  /** minSize is the fewest bytes an encoded struct takes in any version of `range` (at least 1). */
  minSize(s: StructModel, range: Range): number {
    const r = intersect(range, s.possible)
    if (r === null) return 1
    let min = Infinity
    for (let v = r[0]; v <= r[1]; v++) min = Math.min(min, this.minSizeAt(s, v))
    return Math.max(1, min)
  }

  minSizeAt(s: StructModel, v: number): number {
    let memo = this.#minSizeMemo.get(s)
    if (memo === undefined) this.#minSizeMemo.set(s, (memo = new Map()))
    const hit = memo.get(v)
    if (hit !== undefined) return hit
    let size = inRange(this.m.flexible, v) ? 1 : 0
    for (const f of s.fields) {
      if (!inRange(f.versions, v) || inRange(f.tagged, v)) continue
      const compact = inRange(f.flexible, v)
      const t = f.type
      if (t.kind === 'primitive') {
        const fixed = FIXED_SIZE[t.name]
        if (fixed !== undefined) size += fixed
        else if (t.name === 'string') size += compact ? 1 : 2
        else size += compact ? 1 : 4
      } else if (t.kind === 'array') size += compact ? 1 : 4
      else size += inRange(f.nullable, v) ? 1 : this.minSizeAt(t.struct, v)
    }
    memo.set(v, size)
    return size
  }

  elementMinSize(f: FieldModel, range: Range, compact: boolean): number {
    const t = f.type
    if (t.kind !== 'array') throw new Error('not an array')
    const e = t.element
    if (e.kind === 'struct') return this.minSize(e.struct, range)
    const fixed = FIXED_SIZE[e.name]
    if (fixed !== undefined) return fixed
    if (e.name === 'string') return compact ? 1 : 2
    return compact ? 1 : 4
  }

  // -------------------------------------------------------------------------------------------------------
  // Encoding

  /** encodeStruct emits `function encodeX(w, version, v)`. */
  encodeStruct(s: StructModel): Code {
    const c = new Code()
    c.open(`function encode${s.tsName}(w: Writer, version: number, v: ${s.tsName}): void {`)
    for (const f of s.fields) this.encodeField(c, s, f)
    this.encodeTags(c, s)
    c.close()
    return c
  }

  encodeField(c: Code, s: StructModel, f: FieldModel): void {
    const C = s.possible
    const present = intersect(f.versions, C)
    const mandatory = subtractOpenEnded(present, f.tagged)
    const condP = cond(present, C)
    const condM = cond(mandatory, C)
    const x = `v.${f.prop}`
    const write = new Code()
    if (condM !== 'false') this.encodeValue(write, s, f, mandatory, x)
    let absent: string | null = null
    if (!f.ignorable && condP !== 'true') {
      this.apiImports.add('absentFieldError')
      absent = `throw absentFieldError(${quote(`${s.tsName}.${f.prop}`)}, version)`
    }
    if (condM === 'true') {
      c.append(write)
    } else if (condM !== 'false' && condM === condP) {
      c.open(`if (${condM}) {`).append(write)
      if (absent !== null) c.mid(`} else if (${this.nonDefault(f, s, x)}) {`).line(absent)
      c.close()
    } else {
      if (condM !== 'false') c.open(`if (${condM}) {`).append(write).close()
      if (absent !== null) c.line(`if (${and(notCond(present, C), this.nonDefault(f, s, x))}) ${absent}`)
    }
  }

  /** nullCheck throws when x is null in a version (of m) where the field is not nullable. */
  nullCheck(c: Code, s: StructModel, f: FieldModel, m: Range, x: string): void {
    const nc = notCond(f.nullable, m)
    if (nc === 'false') return
    this.apiImports.add('nullFieldError')
    c.line(`if (${and(`${x} === null`, nc)}) throw nullFieldError(${quote(`${s.tsName}.${f.prop}`)}, version)`)
  }

  encodeValue(c: Code, s: StructModel, f: FieldModel, m: Range, x: string): void {
    const t = f.type
    if (t.kind === 'primitive') {
      const fixed = FIXED_SIZE[t.name]
      if (fixed !== undefined) {
        c.line(`w.${t.name}(${x})`)
        return
      }
      this.nullCheck(c, s, f, m, x)
      const fn = t.name === 'string' ? 'string' : 'bytes'
      const segs = segments(m, [f.flexible], (v) => (inRange(f.flexible, v) ? `w.compact${cap(fn)}(${x})` : `w.${fn}(${x})`))
      dispatchStatements(c, segs.map((sg) => ({ ...sg, value: new Code().line(sg.value) })))
      return
    }
    if (t.kind === 'struct') {
      this.nullCheck(c, s, f, m, x)
      const segs = segments(m, [f.nullable], (v) => inRange(f.nullable, v))
      dispatchStatements(
        c,
        segs.map((sg) => {
          const b = new Code()
          if (sg.value) {
            b.open(`if (${x} === null) {`).line('w.int8(-1)').mid('} else {')
            b.line('w.int8(1)').line(`encode${t.struct.tsName}(w, version, ${x})`).close()
          } else {
            b.line(`encode${t.struct.tsName}(w, version, ${x})`)
          }
          return { ...sg, value: b }
        }),
      )
      return
    }
    // Arrays.
    this.nullCheck(c, s, f, m, x)
    const canBeNull = intersect(f.nullable, m) !== null
    c.open('{').line(`const a = ${x}`)
    const lengthSegs = segments(m, [f.flexible], (v) => inRange(f.flexible, v))
    if (canBeNull) {
      c.open('if (a === null) {')
      dispatchStatements(c, lengthSegs.map((sg) => ({ ...sg, value: new Code().line(sg.value ? 'w.uvarint(0)' : 'w.int32(-1)') })))
      c.mid('} else {')
    }
    const e = t.element
    const length = (compact: boolean): string => (compact ? 'w.compactArrayLength(a.length)' : 'w.arrayLength(a.length)')
    if (e.kind === 'struct' || FIXED_SIZE[e.name] !== undefined) {
      dispatchStatements(c, lengthSegs.map((sg) => ({ ...sg, value: new Code().line(length(sg.value)) })))
      const each = e.kind === 'struct' ? `encode${e.struct.tsName}(w, version, a[i]!)` : `w.${e.name}(a[i]!)`
      c.line(`for (let i = 0; i < a.length; i++) ${each}`)
    } else {
      // Strings and bytes are encoded differently in flexible versions: one loop per encoding.
      const fn = e.name === 'string' ? 'String' : 'Bytes'
      dispatchStatements(
        c,
        lengthSegs.map((sg) => {
          const each = sg.value ? `w.compact${fn}(a[i]!)` : `w.${fn.toLowerCase()}(a[i]!)`
          return { ...sg, value: new Code().line(length(sg.value)).line(`for (let i = 0; i < a.length; i++) ${each}`) }
        }),
      )
    }
    if (canBeNull) c.close()
    c.close()
  }

  /** encodeTags emits the tagged-field section of a struct. */
  encodeTags(c: Code, s: StructModel): void {
    if (!s.hasUnknownTags) return
    const C = s.possible
    const F = intersect(this.m.flexible, C)
    const condF = cond(F, C)
    const tagged = s.fields.filter((f) => f.tag !== null && intersect(intersect(f.tagged, f.versions), F) !== null).sort((a, b) => a.tag! - b.tag!)
    const body = new Code()
    if (tagged.length === 0) {
      body.line('w.taggedFields(v.unknownTaggedFields)')
    } else {
      body.line('const unknown = v.unknownTaggedFields')
      body.line('let tags = unknown === undefined ? 0 : unknown.length')
      for (const f of tagged) {
        const tp = intersect(intersect(f.tagged, f.versions), F)
        const reference = f.type.kind !== 'primitive' || FIXED_SIZE[f.type.name] === undefined
        if (reference && intersect(f.nullable, tp) === null) {
          this.apiImports.add('nullFieldError')
          body.line(`if (${and(cond(tp, F), `v.${f.prop} === null`)}) throw nullFieldError(${quote(`${s.tsName}.${f.prop}`)}, version)`)
        }
        const nd = f.defaultSpec === 'null' ? `v.${f.prop} !== null` : this.nonDefault(f, s, `v.${f.prop}`)
        body.line(`if (${and(cond(tp, F), nd)}) tags++`)
      }
      body.line('w.uvarint(tags)')
      body.line('let u = 0')
      for (const f of tagged) {
        const tp = intersect(intersect(f.tagged, f.versions), F)
        body.line(`u = w.rawTaggedFields(unknown, u, ${f.tag})`)
        const ct = cond(tp, F)
        const inner = new Code()
        this.encodeTaggedValue(inner, s, f, tp)
        if (ct === 'true') body.append(inner)
        else body.open(`if (${ct}) {`).append(inner).close()
      }
      body.line('w.rawTaggedFields(unknown, u, Infinity)')
    }
    if (condF === 'true') {
      c.append(body)
      return
    }
    this.apiImports.add('taggedFieldsError')
    const unknownSet = 'v.unknownTaggedFields !== undefined && v.unknownTaggedFields.length !== 0'
    const thrown = `throw taggedFieldsError(${quote(s.tsName)}, version)`
    if (condF === 'false') {
      c.line(`if (${unknownSet}) ${thrown}`)
      return
    }
    c.open(`if (${condF}) {`).append(body).mid(`} else if (${unknownSet}) {`).line(thrown).close()
  }

  encodeTaggedValue(c: Code, s: StructModel, f: FieldModel, tp: Range): void {
    const x = `v.${f.prop}`
    const t = f.type
    const nullable = intersect(f.nullable, tp) !== null
    const write = new Code().line(`w.uvarint(${f.tag})`)
    if (t.kind === 'primitive' && FIXED_SIZE[t.name] !== undefined) {
      write.line(`w.uvarint(${FIXED_SIZE[t.name]})`).line(`w.${t.name}(${x})`)
    } else {
      write.line('const at = w.beginUvarintSize()')
      if (t.kind === 'primitive') {
        write.line(`w.compact${t.name === 'string' ? 'String' : 'Bytes'}(${x})`)
      } else if (t.kind === 'struct') {
        if (nullable) write.line('w.uvarint(1)')
        write.line(`encode${t.struct.tsName}(w, version, ${x})`)
      } else {
        write.line(`w.compactArrayLength(${x}.length)`)
        const e = t.element
        if (e.kind === 'struct') write.line(`for (let i = 0; i < ${x}.length; i++) encode${e.struct.tsName}(w, version, ${x}[i]!)`)
        else if (FIXED_SIZE[e.name] !== undefined) write.line(`for (let i = 0; i < ${x}.length; i++) w.${e.name}(${x}[i]!)`)
        else write.line(`for (let i = 0; i < ${x}.length; i++) w.compact${e.name === 'string' ? 'String' : 'Bytes'}(${x}[i]!)`)
      }
      write.line('w.endUvarintSize(at)')
    }
    if (f.defaultSpec === 'null') {
      c.open(`if (${x} !== null) {`).append(write).close()
    } else if (nullable) {
      // A null that is not the default is written as a compact null: size 1, then 0.
      c.open(`if (${x} === null) {`).line(`w.uvarint(${f.tag})`).line('w.uvarint(1)').line('w.uvarint(0)')
      c.mid(`} else if (${this.nonDefault(f, s, x, true)}) {`).append(write).close()
    } else {
      c.open(`if (${this.nonDefault(f, s, x)}) {`).append(write).close()
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Decoding

  decodeStruct(s: StructModel): Code {
    const c = new Code()
    c.open(`function decode${s.tsName}(r: Reader, version: number): ${s.tsName} {`)
    for (const f of s.fields) this.decodeField(c, s, f)
    if (s.hasUnknownTags) this.decodeTags(c, s)
    const props = s.fields.map((f) => (local(f) === f.prop ? f.prop : `${f.prop}: ${local(f)}`))
    if (s.hasUnknownTags) props.push('unknownTaggedFields')
    c.line(`return { ${props.join(', ')} }`)
    c.close()
    return c
  }

  isTaggedIn(f: FieldModel, s: StructModel): boolean {
    return intersect(intersect(f.tagged, f.versions), intersect(this.m.flexible, s.possible)) !== null
  }

  decodeField(c: Code, s: StructModel, f: FieldModel): void {
    const C = s.possible
    const present = intersect(f.versions, C)
    const mandatory = subtractOpenEnded(present, f.tagged)
    const condM = cond(mandatory, C)
    const name = local(f)
    const tagged = this.isTaggedIn(f, s)
    const t = f.type
    if (t.kind === 'array') {
      c.line(`let ${name}: ${this.tsType(f, s)} = ${this.defaultExpr(f)}`)
      if (condM === 'false') return
      const body = new Code()
      this.decodeArray(body, s, f, mandatory, name, false)
      if (condM === 'true') c.open('{').append(body).close()
      else c.open(`if (${condM}) {`).append(body).close()
      return
    }
    const read = condM === 'false' ? '' : this.readExpr(s, f, mandatory)
    let init: string
    if (condM === 'true') init = unparen(read)
    else if (condM === 'false') init = this.defaultExpr(f)
    else init = `${condM} ? ${read} : ${this.defaultExpr(f)}`
    if (tagged) c.line(`let ${name}: ${this.tsType(f, s)} = ${init}`)
    else c.line(`const ${name} = ${init}`)
  }

  /** readExpr reads a non-array field in the versions of m. */
  readExpr(s: StructModel, f: FieldModel, m: Range): string {
    const t = f.type
    if (t.kind === 'primitive') {
      const fixed = FIXED_SIZE[t.name]
      if (fixed !== undefined) return `r.${t.name}()`
      const fn = t.name === 'string' ? 'String' : 'Bytes'
      const segs = segments(m, [f.flexible, f.nullable], (v) => {
        const compact = inRange(f.flexible, v)
        const nullable = inRange(f.nullable, v)
        const base = compact ? `compact${fn}` : fn.toLowerCase()
        return nullable ? `r.${base}()` : `r.nonNull${cap(base)}()`
      })
      return paren(dispatchExpr(segs))
    }
    if (t.kind === 'struct') {
      const dec = `decode${t.struct.tsName}(r, version)`
      const segs = segments(m, [f.nullable], (v) => (inRange(f.nullable, v) ? `(r.int8() < 0 ? null : ${dec})` : dec))
      return paren(dispatchExpr(segs))
    }
    throw new Error('arrays are read with decodeArray')
  }

  /** decodeArray reads an array into `target`; `compactOnly` is for tagged fields (always compact). */
  decodeArray(c: Code, s: StructModel, f: FieldModel, m: Range, target: string, compactOnly: boolean): void {
    const t = f.type
    if (t.kind !== 'array') throw new Error('not an array')
    const flexible = compactOnly ? m : f.flexible
    const lengthSegs = segments(m, [flexible], (v) => inRange(flexible, v))
    const lengthExpr = dispatchExpr(
      lengthSegs.map((sg) => {
        const range = intersect(m, [sg.lo, sg.hi])
        const min = this.elementMinSize(f, range, sg.value)
        return { ...sg, value: sg.value ? `r.compactArrayLength(${min})` : `r.arrayLength(${min})` }
      }),
    )
    const e = t.element
    let elem: string
    let elemType: string
    if (e.kind === 'struct') {
      elem = `decode${e.struct.tsName}(r, version)`
      elemType = e.struct.tsName
    } else {
      elemType = TS_PRIMITIVE[e.name]
      if (FIXED_SIZE[e.name] !== undefined) elem = `r.${e.name}()`
      else {
        const fn = e.name === 'string' ? 'String' : 'Bytes'
        elem = dispatchExpr(lengthSegs.map((sg) => ({ ...sg, value: sg.value ? `r.nonNullCompact${fn}()` : `r.nonNull${fn}()` })))
      }
    }
    const nullSegs = segments(m, [f.nullable], (v) => inRange(f.nullable, v))
    c.line(`const n = ${lengthExpr}`)
    c.open('if (n >= 0) {')
    c.line(`const a: ${elemType}[] = []`)
    c.line(`for (let i = 0; i < n && r.failure === null; i++) a.push(${elem})`)
    c.line(`${target} = a`)
    const nullFail = `r.fail(${quote(`non-nullable field ${s.tsName}.${f.prop} was serialized as null`)})`
    if (nullSegs.length === 1) {
      c.mid('} else {').line(nullSegs[0]!.value ? `${target} = null` : nullFail).close()
    } else {
      c.mid(`} else if (${cond(intersect(f.nullable, m), m)}) {`).line(`${target} = null`)
      c.mid('} else {').line(nullFail).close()
    }
  }

  decodeTags(c: Code, s: StructModel): void {
    const C = s.possible
    const F = intersect(this.m.flexible, C)
    const condF = cond(F, C)
    this.readerImports.add('TaggedField')
    const tagged = s.fields.filter((f) => this.isTaggedIn(f, s)).sort((a, b) => a.tag! - b.tag!)
    if (tagged.length === 0) {
      const read = condF === 'true' ? 'r.unknownTaggedFields()' : condF === 'false' ? 'undefined' : `${condF} ? r.unknownTaggedFields() : undefined`
      c.line(`const unknownTaggedFields: TaggedField[] | undefined = ${read}`)
      return
    }
    c.line('let unknownTaggedFields: TaggedField[] | undefined')
    const body = new Code()
    {
      body.open('for (let i = 0, n = r.taggedCount(), last = -1; i < n && r.failure === null; i++) {')
      body.line('const tag = r.uvarint()')
      body.line('const end = r.beginTaggedField(tag, last)')
      body.line('last = tag')
      body.open('switch (tag) {')
      for (const f of tagged) {
        const tp = intersect(intersect(f.tagged, f.versions), F)
        const ct = cond(tp, F)
        body.open(`case ${f.tag}: {`)
        const read = new Code()
        this.decodeTaggedValue(read, s, f, tp)
        if (ct === 'true') body.append(read)
        else {
          body.open(`if (${ct}) {`).append(read).mid('} else {')
          body.line(`r.fail(\`tag ${f.tag} is not valid in version \${version} of ${s.tsName}\`)`).close()
        }
        body.line('break')
        body.close()
      }
      body.line('default:')
      body.line('  unknownTaggedFields = r.unknownTag(unknownTaggedFields, tag)')
      body.close()
      body.line('r.endTaggedField(end)')
      body.close()
    }
    if (condF === 'true') c.append(body)
    else c.open(`if (${condF}) {`).append(body).close()
  }

  decodeTaggedValue(c: Code, s: StructModel, f: FieldModel, tp: Range): void {
    const name = local(f)
    const t = f.type
    const nullable = intersect(f.nullable, tp) !== null
    if (t.kind === 'primitive') {
      const fixed = FIXED_SIZE[t.name]
      if (fixed !== undefined) c.line(`${name} = r.${t.name}()`)
      else {
        const fn = t.name === 'string' ? 'String' : 'Bytes'
        c.line(`${name} = r.${nullable ? 'compact' : 'nonNullCompact'}${fn}()`)
      }
    } else if (t.kind === 'struct') {
      const dec = `decode${t.struct.tsName}(r, version)`
      c.line(nullable ? `${name} = r.uvarint() === 0 ? null : ${dec}` : `${name} = ${dec}`)
    } else {
      this.decodeArray(c, s, f, tp, name, true)
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Types, defaults, schema

  interfaceFor(s: StructModel, doc: string): Code {
    const c = new Code()
    c.line(`/** ${doc} */`)
    c.open(`export interface ${s.tsName} {`)
    for (const f of s.fields) {
      c.line(`/** ${this.fieldDoc(f)} */`)
      c.line(`${f.prop}: ${this.tsType(f, s)}`)
    }
    if (s.hasUnknownTags) {
      c.line('/** Tagged fields this version of kafka-wire does not know, kept to be written back. */')
      c.line('unknownTaggedFields?: TaggedField[]')
      this.readerImports.add('TaggedField')
    }
    c.close()
    return c
  }

  fieldDoc(f: FieldModel): string {
    const parts = [`Versions ${fmtRange(f.versions)}`]
    if (f.nullable !== null) parts.push(`nullable ${fmtRange(f.nullable)}`)
    if (f.tag !== null) parts.push(`tag ${f.tag} in ${fmtRange(f.tagged)}`)
    if (f.ignorable) parts.push('ignorable')
    if (f.defaultSpec !== '') parts.push(`default ${f.defaultSpec}`)
    return `${parts.join(', ')}.`
  }

  newFunction(s: StructModel): Code {
    const c = new Code()
    c.line(`/** new${s.tsName} returns a ${s.tsName} with every field at its default. */`)
    c.open(`export function new${s.tsName}(): ${s.tsName} {`)
    const props = s.fields.map((f) => `${f.prop}: ${this.defaultExpr(f)}`)
    if (s.hasUnknownTags) props.push('unknownTaggedFields: undefined')
    const one = `return { ${props.join(', ')} }`
    if (one.length <= 110) c.line(one)
    else {
      c.open('return {')
      for (const p of props) c.line(`${p},`)
      c.close()
    }
    c.close()
    return c
  }

  isDefaultFunction(s: StructModel): Code {
    const c = new Code()
    c.open(`function isDefault${s.tsName}(v: ${s.tsName}): boolean {`)
    const conds = s.fields.map((f) => this.nonDefault(f, s, `v.${f.prop}`))
    if (s.hasUnknownTags) conds.push('(v.unknownTaggedFields !== undefined && v.unknownTaggedFields.length !== 0)')
    if (conds.length === 0) c.line('return true')
    else {
      c.open('return !(')
      conds.forEach((x, k) => c.line(`${x}${k < conds.length - 1 ? ' ||' : ''}`))
      c.close(')')
    }
    c.close()
    return c
  }

  schemaFor(s: StructModel, top: boolean): Code {
    const c = new Code()
    this.apiImports.add(top ? 'MessageSchema' : 'StructSchema')
    c.open(`const ${s.tsName}Schema: ${top ? 'MessageSchema' : 'StructSchema'} = {`)
    c.line(`name: ${quote(s.tsName)},`)
    if (top) {
      c.line(`versions: ${schemaRange(this.m.valid)},`)
      c.line(`flexible: ${schemaRange(this.m.flexible)},`)
    }
    c.open('fields: [')
    for (const f of s.fields) {
      const t = f.type
      const type = t.kind === 'primitive' ? t.name : t.kind === 'struct' ? 'struct' : t.element.kind === 'struct' ? '[]struct' : `[]${t.element.name}`
      const parts = [`name: ${quote(f.prop)}`, `type: ${quote(type)}`, `versions: ${schemaRange(f.versions)}`]
      if (f.nullable !== null) parts.push(`nullable: ${schemaRange(f.nullable)}`)
      if (f.tag !== null) parts.push(`tag: ${f.tag}`, `tagged: ${schemaRange(f.tagged)}`)
      if (!rangeEquals(f.flexible, this.m.flexible)) parts.push(`flexible: ${schemaRange(f.flexible)}`)
      if (f.ignorable) parts.push('ignorable: true')
      if (f.entityType !== '') parts.push(`entityType: ${quote(f.entityType)}`)
      if (f.defaultSpec !== '') {
        const struct = t.kind !== 'primitive'
        parts.push(`default: ${struct ? 'null' : literal(defaultValue(f))}`)
      }
      const st = t.kind === 'struct' ? t.struct : t.kind === 'array' && t.element.kind === 'struct' ? t.element.struct : null
      if (st !== null) parts.push(`struct: ${st.tsName}Schema`)
      c.line(`{ ${parts.join(', ')} },`)
    }
    c.close('],')
    c.close()
    return c
  }
}

function unparen(expr: string): string {
  return expr.startsWith('(') && expr.endsWith(')') && expr.includes(' ? ') && !expr.startsWith('(r.') ? expr.slice(1, -1) : expr
}

function paren(expr: string): string {
  return expr.includes(' ? ') ? `(${expr})` : expr
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

/** defaultValue parses a field's default into a JavaScript value. */
export function defaultValue(f: FieldModel): number | bigint | boolean | string | null {
  const d = f.defaultSpec
  const t = f.type
  if (t.kind !== 'primitive') return null
  switch (t.name) {
    case 'bool':
      if (d === '' || d.toLowerCase() === 'false') return false
      if (d.toLowerCase() === 'true') return true
      throw new Error(`${f.specName}: invalid bool default ${d}`)
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32': {
      if (d === '') return 0
      const n = parseInteger(d)
      const [lo, hi] = {
        int8: [-128n, 127n],
        int16: [-32768n, 32767n],
        uint16: [0n, 65535n],
        int32: [-2147483648n, 2147483647n],
        uint32: [0n, 4294967295n],
      }[t.name]
      if (n < lo! || n > hi!) throw new Error(`${f.specName}: default ${d} out of range for ${t.name}`)
      return Number(n)
    }
    case 'int64': {
      if (d === '') return 0n
      const n = parseInteger(d)
      if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new Error(`${f.specName}: default ${d} out of range for int64`)
      return n
    }
    case 'float64':
      if (d === '') return 0
      if (Number.isNaN(Number(d))) throw new Error(`${f.specName}: invalid float64 default ${d}`)
      return Number(d)
    case 'string':
      return d === 'null' ? null : d
    case 'bytes':
      if (d === 'null') return null
      if (d !== '') throw new Error(`${f.specName}: bytes default must be empty or null`)
      return ''
    case 'records':
      return null
    case 'uuid':
      if (d === '') return ZERO_UUID
      if (Buffer.from(d, 'base64url').length !== 16) throw new Error(`${f.specName}: invalid uuid default ${d}`)
      return d
  }
}

function parseInteger(d: string): bigint {
  const neg = d.startsWith('-')
  const body = neg ? d.slice(1) : d
  let n: bigint
  if (/^0x[0-9a-fA-F]+$/.test(body)) n = BigInt(body)
  else if (/^[0-9]+$/.test(body)) n = BigInt(body)
  else throw new Error(`invalid integer default ${d}`)
  return neg ? -n : n
}

function literal(v: number | bigint | boolean | string | null): string {
  if (v === null) return 'null'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'string') return quote(v)
  if (typeof v === 'number' && Object.is(v, -0)) return '-0'
  return String(v)
}

// ---------------------------------------------------------------------------------------------------------
// Files

export const HEADER = (kafkaVersion: string): string =>
  `// Generated by scripts/gen-protocol.ts from Kafka ${kafkaVersion} message specs. Do not edit.`

/** postOrder is every struct of a message, children before the structs that use them (for schemas). */
function postOrder(m: MessageModel): StructModel[] {
  const out: StructModel[] = []
  const seen = new Set<StructModel>()
  const visit = (s: StructModel): void => {
    if (seen.has(s)) return
    seen.add(s)
    for (const f of s.fields) {
      const t = f.type
      if (t.kind === 'struct') visit(t.struct)
      else if (t.kind === 'array' && t.element.kind === 'struct') visit(t.element.struct)
    }
    out.push(s)
  }
  visit(m.top)
  for (const s of m.structs) visit(s)
  return out
}

interface MessageParts {
  types: Code
  schemas: Code
  functions: Code
}

function emitMessage(m: MessageModel, apiImports: Set<string>, readerImports: Set<string>, structDoc: (s: StructModel) => string): MessageParts {
  const e = new MessageEmitter(m, apiImports, readerImports)
  const types = new Code()
  for (const s of m.structs) {
    if (types.lines.length > 0) types.line()
    types.append(e.interfaceFor(s, structDoc(s)))
  }
  const functions = new Code()
  for (const s of m.structs) {
    if (functions.lines.length > 0) functions.line()
    functions.append(e.newFunction(s))
  }
  for (const s of m.structs) functions.line().append(e.encodeStruct(s))
  for (const s of m.structs) functions.line().append(e.decodeStruct(s))
  // isDefault functions are found while emitting encoders; nested ones are found while emitting them.
  const done = new Set<StructModel>()
  for (;;) {
    const next = m.structs.find((s) => e.isDefaultNeeded.has(s) && !done.has(s))
    if (next === undefined) break
    done.add(next)
    functions.line().append(e.isDefaultFunction(next))
  }
  const schemas = new Code()
  for (const s of postOrder(m)) {
    if (schemas.lines.length > 0) schemas.line()
    schemas.append(e.schemaFor(s, s === m.top))
  }
  return { types, schemas, functions }
}

function structDocFor(m: MessageModel, what: string): (s: StructModel) => string {
  return (s) => (s === m.top ? `${s.tsName} is ${what}.` : `${s.tsName} is the ${s.specName} struct of ${m.specName}.`)
}

function imports(apiImports: Set<string>, readerImports: Set<string>): string[] {
  const out: string[] = []
  const readerTypes = [...readerImports].filter((n) => n === 'TaggedField' || n === 'Reader')
  const readerValues = [...readerImports].filter((n) => n !== 'TaggedField' && n !== 'Reader')
  const typeOnly = new Set(['ApiMessage', 'DataMessage', 'MessageSchema', 'StructSchema'])
  const apiNames = [...apiImports].sort().map((n) => (typeOnly.has(n) ? `type ${n}` : n))
  if (apiNames.length > 0) out.push(`import { ${apiNames.join(', ')} } from './api.js'`)
  const rnames = [...readerTypes.map((n) => `type ${n}`), ...readerValues].sort((a, b) => a.replace('type ', '').localeCompare(b.replace('type ', '')))
  out.push(`import { type Reader${rnames.length ? ', ' : ''}${rnames.filter((n) => n !== 'type Reader').join(', ')} } from '../reader.js'`)
  out.push(`import type { Writer } from '../writer.js'`)
  return out
}

/** ApiFile is one generated file for an API key: its request and response. */
export function emitApiFile(kafkaVersion: string, name: string, req: MessageModel, res: MessageModel): string {
  if (req.apiKey === null || req.apiKey !== res.apiKey) throw new Error(`${name}: request and response api keys differ`)
  if (!rangeEquals(req.valid, res.valid)) throw new Error(`${name}: request and response versions differ`)
  if (!rangeEquals(req.flexible, res.flexible)) throw new Error(`${name}: request and response flexible versions differ`)
  const apiImports = new Set<string>(['ApiMessage', 'encodeVersionError', 'decodeVersionError'])
  const readerImports = new Set<string>()
  const key = req.apiKey
  const valid = req.valid!
  const rq = emitMessage(req, apiImports, readerImports, structDocFor(req, `the request of ${name} (API key ${key}), versions ${fmtRange(valid)}`))
  const rs = emitMessage(res, apiImports, readerImports, structDocFor(res, `the response of ${name} (API key ${key}), versions ${fmtRange(valid)}`))
  const flex = req.flexible === null ? null : req.flexible[0]
  const c = new Code()
  c.line(HEADER(kafkaVersion)).line()
  for (const l of imports(apiImports, readerImports)) c.line(l)
  c.line().append(rq.types).line().append(rs.types).line()
  c.append(rq.schemas).line().append(rs.schemas).line()
  const versionCheck = (kind: 'encode' | 'decode', what: string): string =>
    `if (version < ${valid[0]} || version > ${valid[1]}) throw ${kind}VersionError(${quote(what)}, version, ${valid[0]}, ${valid[1]})`
  c.line(`/** ${name} is API key ${key}: its requests and responses in versions ${fmtRange(valid)}. */`)
  c.open(`export const ${name}: ApiMessage<${req.specName}, ${res.specName}> = {`)
  c.line(`key: ${key},`)
  c.line(`name: ${quote(name)},`)
  c.line(`minVersion: ${valid[0]},`)
  c.line(`maxVersion: ${valid[1]},`)
  c.line(`flexibleVersion: ${flex === null ? 'null' : flex},`)
  c.line(`latestVersionUnstable: ${req.latestVersionUnstable},`)
  c.line(`listeners: [${req.listeners.map(quote).join(', ')}],`)
  c.line(`requestSchema: ${req.specName}Schema,`)
  c.line(`responseSchema: ${res.specName}Schema,`)
  c.line(flex === null ? 'requestHeaderVersion: () => 1,' : `requestHeaderVersion: (version) => (version >= ${flex} ? 2 : 1),`)
  if (name === 'ApiVersions') {
    c.line('// KIP-511: ApiVersions responses always carry a v0 header, so a client that sent too new a version')
    c.line('// can still read the error.')
    c.line('responseHeaderVersion: () => 0,')
  } else {
    c.line(flex === null ? 'responseHeaderVersion: () => 0,' : `responseHeaderVersion: (version) => (version >= ${flex} ? 1 : 0),`)
  }
  c.open('encodeRequest(w, version, v) {').line(versionCheck('encode', req.specName)).line(`encode${req.specName}(w, version, v)`).close('},')
  c.open('decodeRequest(r, version) {').line(versionCheck('decode', req.specName)).line(`return decode${req.specName}(r, version)`).close('},')
  c.open('encodeResponse(w, version, v) {').line(versionCheck('encode', res.specName)).line(`encode${res.specName}(w, version, v)`).close('},')
  c.open('decodeResponse(r, version) {').line(versionCheck('decode', res.specName)).line(`return decode${res.specName}(r, version)`).close('},')
  c.line(`newRequest: new${req.specName},`)
  c.line(`newResponse: new${res.specName},`)
  c.close()
  c.line().append(rq.functions).line().append(rs.functions)
  return `${c.toString()}\n`
}

/** emitDataFile is one generated file for non-API specs (headers, consumer protocol, control records). */
export function emitDataFile(kafkaVersion: string, messages: MessageModel[]): string {
  const apiImports = new Set<string>(['DataMessage', 'encodeVersionError', 'decodeVersionError'])
  const readerImports = new Set<string>()
  const parts = messages.map((m) => emitMessage(m, apiImports, readerImports, structDocFor(m, `the ${m.specType === 'header' ? 'header' : 'data'} ${m.specName}, versions ${fmtRange(m.valid)}`)))
  const c = new Code()
  c.line(HEADER(kafkaVersion)).line()
  for (const l of imports(apiImports, readerImports)) c.line(l)
  for (const p of parts) c.line().append(p.types)
  for (const p of parts) c.line().append(p.schemas)
  for (const m of messages) {
    const valid = m.valid!
    const flex = m.flexible === null ? null : m.flexible[0]
    const versionCheck = (kind: 'encode' | 'decode'): string =>
      `if (version < ${valid[0]} || version > ${valid[1]}) throw ${kind}VersionError(${quote(m.specName)}, version, ${valid[0]}, ${valid[1]})`
    c.line()
    c.line(`/** ${m.specName} encodes and decodes the ${m.specName} ${m.specType} in versions ${fmtRange(valid)}. */`)
    c.open(`export const ${m.specName}: DataMessage<${m.specName}> = {`)
    c.line(`name: ${quote(m.specName)},`)
    c.line(`minVersion: ${valid[0]},`)
    c.line(`maxVersion: ${valid[1]},`)
    c.line(`flexibleVersion: ${flex === null ? 'null' : flex},`)
    c.line(`schema: ${m.specName}Schema,`)
    c.open('encode(w, version, v) {').line(versionCheck('encode')).line(`encode${m.specName}(w, version, v)`).close('},')
    c.open('decode(r, version) {').line(versionCheck('decode')).line(`return decode${m.specName}(r, version)`).close('},')
    c.line(`newValue: new${m.specName},`)
    c.close()
  }
  for (const p of parts) c.line().append(p.functions)
  return `${c.toString()}\n`
}

/** kebab turns a PascalCase name into a file name: ConsumerGroupHeartbeat → consumer-group-heartbeat. */
export function kebab(name: string): string {
  return name
    .replace(/KRaft/g, 'Kraft')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()
}

