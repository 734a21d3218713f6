import { createRequire } from 'node:module'

// The package's own package.json, one folder up from this file in the source tree (src/) and in the
// build (dist/) alike, read once when the package loads.
const pkg = createRequire(import.meta.url)('../package.json') as { name: string; version: string }

/** NAME is the package's name, announced to brokers in ApiVersions (KIP-511). */
export const NAME: string = pkg.name

/** VERSION is the package's version, from its package.json. */
export const VERSION: string = pkg.version
