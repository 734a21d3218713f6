/** SCOPE_NAME is the instrumentation scope of every span and metric kotel records. */
export const SCOPE_NAME = 'kafka-wire/kotel'

/** VERSION is the package version, the scope's version (read once from package.json by src/version.ts). */
export { VERSION } from '../version.js'
