// Module resolution hooks registered by self-import.mjs (they run on node's loader thread).
import { readFileSync } from 'node:fs'

const root = new URL('../../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))

/** source maps an `exports` entry's target (./dist/x/index.js) to the file it is built from (src/x/index.ts). */
function source(target) {
  const file = typeof target === 'string' ? target : target?.default
  if (typeof file !== 'string' || !file.startsWith('./dist/') || !file.endsWith('.js')) return undefined
  return new URL(`src/${file.slice('./dist/'.length, -'.js'.length)}.ts`, root).href
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === pkg.name || specifier.startsWith(`${pkg.name}/`)) {
    const url = source(pkg.exports[`.${specifier.slice(pkg.name.length)}`])
    // The file URL goes on through the next resolvers, so that tsx knows to load it as TypeScript.
    if (url !== undefined) return nextResolve(url, context)
    // Not exported: node's own resolution says so (ERR_PACKAGE_PATH_NOT_EXPORTED) from the repository.
    return nextResolve(specifier, { ...context, parentURL: new URL('package.json', root).href })
  }
  try {
    return await nextResolve(specifier, context)
  } catch (err) {
    const bare = !/^(\.|\/|[a-z]+:)/i.test(specifier)
    if (!bare || err?.code !== 'ERR_MODULE_NOT_FOUND') throw err
    return nextResolve(specifier, { ...context, parentURL: new URL('package.json', root).href })
  }
}
