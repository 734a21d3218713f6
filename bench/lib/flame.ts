/**
 * Flame graphs and self-time tables from V8 CPU profiles (.cpuprofile, as `node --cpu-prof` and
 * run.ts --profile write them), with no dependency: the profile is already a call tree, so a flame
 * graph is that tree with identical frames merged among siblings, each frame as wide as the time
 * spent in it and below it.
 *
 *   node --import tsx lib/flame.ts some.cpuprofile [--min 0.1]   (writes some.svg and some.top.md)
 *
 * Time per sample is the gap to the next sample (the last one gets the mean), as Chrome's DevTools
 * counts it, so samples delayed by a busy machine weigh what they cost.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** CpuProfile is the JSON V8's profiler writes (Profiler.Profile in the DevTools protocol). */
export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId?: string | number }
  hitCount?: number
  children?: number[]
}

/** Frame is one merged frame of the flame graph, times in microseconds. */
export interface Frame {
  name: string
  /** where is "file:line" or "file@column", shortened (repository-relative, or node:internal/…), '' for V8's own entries. */
  where: string
  self: number
  total: number
  children: Frame[]
}

/** SelfEntry is one line of the self-time table. */
export interface SelfEntry {
  name: string
  where: string
  micros: number
  share: number
}

/** ProfileSummary is what summarizeProfile returns. */
export interface ProfileSummary {
  root: Frame
  totalMicros: number
  samples: number
  /** byFunction: self time per function (name and file:line), largest first. */
  byFunction: SelfEntry[]
  /** byFile: self time per script file (or V8 entry such as "(garbage collector)"), largest first. */
  byFile: SelfEntry[]
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** shortUrl makes a script URL readable: relative to the repository, or the node_modules package path. */
export function shortUrl(url: string): string {
  if (url === '') return ''
  let u = url.startsWith('file://') ? fileURLToPath(url) : url
  const nm = u.lastIndexOf('/node_modules/')
  if (nm >= 0) return u.slice(nm + 1)
  if (u.startsWith(repoRoot + '/')) u = u.slice(repoRoot.length + 1)
  return u
}

function frameName(cf: ProfileNode['callFrame']): string {
  return cf.functionName === '' ? (cf.url === '' ? '(root)' : '(anonymous)') : cf.functionName
}

/** summarizeProfile builds the merged call tree and the self-time tables. */
export function summarizeProfile(p: CpuProfile): ProfileSummary {
  const byId = new Map<number, ProfileNode>()
  for (const n of p.nodes) byId.set(n.id, n)
  const selfById = new Map<number, number>()
  const samples = p.samples ?? []
  const deltas = p.timeDeltas ?? []
  if (samples.length > 0 && deltas.length === samples.length) {
    // deltas[i] is the time from sample i-1 to sample i: sample i lasted until sample i+1.
    const mean = (p.endTime - p.startTime) / samples.length
    for (let i = 0; i < samples.length; i++) {
      const d = i + 1 < samples.length ? Math.max(0, deltas[i + 1]!) : mean
      selfById.set(samples[i]!, (selfById.get(samples[i]!) ?? 0) + d)
    }
  } else {
    // A profile without samples still has hit counts: weigh them evenly.
    const total = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0)
    const per = total > 0 ? (p.endTime - p.startTime) / total : 0
    for (const n of p.nodes) selfById.set(n.id, (n.hitCount ?? 0) * per)
  }
  const rootNode = p.nodes[0]!
  const build = (n: ProfileNode): Frame => {
    const f: Frame = { name: frameName(n.callFrame), where: where(n.callFrame), self: selfById.get(n.id) ?? 0, total: 0, children: [] }
    const merged = new Map<string, Frame>()
    for (const id of n.children ?? []) {
      const child = build(byId.get(id)!)
      const key = `${child.name}\u0000${child.where}`
      const same = merged.get(key)
      if (same === undefined) {
        merged.set(key, child)
        f.children.push(child)
      } else mergeInto(same, child)
    }
    f.total = f.self + f.children.reduce((a, c) => a + c.total, 0)
    return f
  }
  const root = build(rootNode)
  root.children.sort((a, b) => b.total - a.total)

  const fn = new Map<string, SelfEntry>()
  const file = new Map<string, SelfEntry>()
  for (const n of p.nodes) {
    const self = selfById.get(n.id) ?? 0
    if (self === 0) continue
    const name = frameName(n.callFrame)
    const w = where(n.callFrame)
    const k = `${name}\u0000${w}`
    const e = fn.get(k) ?? fn.set(k, { name, where: w, micros: 0, share: 0 }).get(k)!
    e.micros += self
    const fk = n.callFrame.url === '' ? name : shortUrl(n.callFrame.url)
    const fe = file.get(fk) ?? file.set(fk, { name: fk, where: '', micros: 0, share: 0 }).get(fk)!
    fe.micros += self
  }
  const total = root.total
  const finish = (m: Map<string, SelfEntry>) => [...m.values()].map((e) => ({ ...e, share: total > 0 ? e.micros / total : 0 })).sort((a, b) => b.micros - a.micros)
  return { root, totalMicros: total, samples: samples.length, byFunction: finish(fn), byFile: finish(file) }
}

/**
 * where names a frame's place: "file:line", or "file@column" when the script is on one line (tsx
 * transpiles TypeScript into one-line modules, so only the column tells two functions apart).
 */
function where(cf: ProfileNode['callFrame']): string {
  if (cf.url === '') return ''
  return cf.lineNumber > 0 ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : `${shortUrl(cf.url)}@${cf.columnNumber}`
}

function mergeInto(into: Frame, from: Frame): void {
  into.self += from.self
  into.total += from.total
  for (const c of from.children) {
    const same = into.children.find((x) => x.name === c.name && x.where === c.where)
    if (same === undefined) into.children.push(c)
    else mergeInto(same, c)
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function color(f: Frame): string {
  const w = f.where
  // A stable shade from the name, so neighbouring frames differ.
  let h = 0
  for (let i = 0; i < f.name.length; i++) h = (h * 31 + f.name.charCodeAt(i)) | 0
  const j = Math.abs(h) % 20
  if (w === '') return f.name === '(garbage collector)' ? '#dc2626' : f.name === '(idle)' ? '#d4d4d4' : `hsl(0, 0%, ${60 + j}%)`
  if (w.startsWith('src/')) return `hsl(${210 + j}, 75%, ${62 + (j % 10)}%)`
  if (w.startsWith('node_modules/')) return `hsl(${28 + j}, 85%, ${60 + (j % 10)}%)`
  if (w.startsWith('node:')) return `hsl(${95 + j}, 45%, ${60 + (j % 10)}%)`
  return `hsl(${45 + j}, 70%, ${65 + (j % 10)}%)`
}

/**
 * flameSvg renders the summary as a flame graph (callers below, callees above), `minShare` the
 * narrowest frame drawn as a share of the total (0.001: 0.1 %). Each frame's tooltip gives its
 * total and self time. Colours: blue kafka-wire's src/, orange node_modules, green Node's internals,
 * grey and red V8's own entries ((program), (garbage collector)), yellow anything else (bench/).
 */
export function flameSvg(s: ProfileSummary, title: string, minShare = 0.001): string {
  const width = 1400
  const rowH = 17
  const pad = 10
  const total = s.root.total || 1
  const px = (width - 2 * pad) / total
  let depthMax = 0
  // Frames are placed first: the height (and so each y) is known only once the depth is.
  const placed: Array<[Frame, number, number]> = []
  const walk = (f: Frame, x: number, depth: number) => {
    if (f.total / total < minShare) return
    depthMax = Math.max(depthMax, depth)
    placed.push([f, x, depth])
    let cx = x
    for (const c of [...f.children].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      walk(c, cx, depth + 1)
      cx += c.total
    }
  }
  walk(s.root, 0, 0)
  const top = 46
  const height = top + (depthMax + 1) * rowH + pad + 20
  const ms = (us: number) => `${(us / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })} ms`
  const pct = (us: number) => `${((us / total) * 100).toFixed(1)} %`
  const out: string[] = []
  for (const [f, x, depth] of placed) {
    const rx = pad + x * px
    const rw = f.total * px
    const y = height - pad - 20 - (depth + 1) * rowH
    const label = f.name === '(root)' ? `all (${ms(total)}, ${s.samples.toLocaleString('en-US')} samples)` : f.name
    const tip = `${f.name}${f.where ? ` ${f.where}` : ''} — total ${ms(f.total)} (${pct(f.total)}), self ${ms(f.self)} (${pct(f.self)})`
    const chars = Math.floor((rw - 4) / 6.6)
    const text = chars >= 3 ? (label.length <= chars ? label : `${label.slice(0, chars - 1)}…`) : ''
    out.push(`<g><title>${esc(tip)}</title><rect x="${rx.toFixed(2)}" y="${y}" width="${Math.max(0.5, rw - 0.5).toFixed(2)}" height="${rowH - 1}" rx="2" fill="${color(f)}"/>${text ? `<text x="${(rx + 3).toFixed(2)}" y="${y + 12}">${esc(text)}</text>` : ''}</g>`)
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="${pad}" y="20" font-family="sans-serif" font-size="15" font-weight="bold">${esc(title)}</text>
<text x="${pad}" y="38" font-family="sans-serif" font-size="12" fill="#555">width: time in a frame and its callees; hover for times. Blue: kafka-wire src/; orange: node_modules; green: Node internals; grey/red: V8 (program, garbage collector).</text>
${out.join('\n')}
</svg>
`
}

/** topMarkdown renders the self-time tables: the top `n` functions and the top files. */
export function topMarkdown(s: ProfileSummary, title: string, n = 30): string {
  const ms = (us: number) => (us / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`
  const lines = [`# ${title}`, '', `${s.samples.toLocaleString('en-US')} samples over ${ms(s.totalMicros)} ms.`, '', '## Self time by function', '', '| self ms | share | function | where |', '|--:|--:|---|---|']
  for (const e of s.byFunction.slice(0, n)) lines.push(`| ${ms(e.micros)} | ${pct(e.share)} | ${e.name.replace(/\|/g, '\\|')} | ${e.where} |`)
  lines.push('', '## Self time by file', '', '| self ms | share | file |', '|--:|--:|---|')
  for (const e of s.byFile.slice(0, n)) lines.push(`| ${ms(e.micros)} | ${pct(e.share)} | ${e.name} |`)
  return lines.join('\n') + '\n'
}

/**
 * renderProfile reads a .cpuprofile and writes `<name>.svg` (flame graph) and `<name>.top.md`
 * (self-time tables) beside it; returns the summary.
 */
export function renderProfile(file: string, title = basename(file), minShare = 0.001): ProfileSummary {
  const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile)
  const stem = join(dirname(file), basename(file).replace(/\.cpuprofile$/, ''))
  writeFileSync(`${stem}.svg`, flameSvg(s, title, minShare))
  writeFileSync(`${stem}.top.md`, topMarkdown(s, title))
  return s
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node --import tsx lib/flame.ts <file.cpuprofile> [--min 0.1]')
    process.exit(2)
  }
  const minAt = process.argv.indexOf('--min')
  const s = renderProfile(file, basename(file), minAt > 0 ? Number(process.argv[minAt + 1]) / 100 : 0.001)
  console.log(topMarkdown(s, basename(file), 15))
}
