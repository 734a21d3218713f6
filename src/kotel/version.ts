/** SCOPE_NAME is the instrumentation scope of every span and metric kotel records. */
export const SCOPE_NAME = 'kafka-wire/kotel'

/**
 * VERSION is the package version, the scope's version. A test keeps it equal to package.json's; it is
 * a constant so that loading kotel reads no files.
 */
export const VERSION = '0.1.0'
