/**
 * LogLevel orders how much a `Logger` wants to hear, from nothing to everything (franz-go's log
 * levels). A message is worth building only when its level is at most `logger.level()`.
 */
export const LogLevel = Object.freeze({
  None: 0,
  Error: 1,
  Warn: 2,
  Info: 3,
  Debug: 4,
} as const)

/** LogLevel is one of the numbers in the `LogLevel` table. */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel]

/**
 * Logger receives the client's log messages (franz-go's Logger). `keyvals` alternate keys and values:
 * `log(LogLevel.Warn, 'connection died', 'broker', 'seed_0', 'err', err)`. The client checks `level()`
 * before it builds a message, so a quiet logger costs a call and a comparison.
 */
export interface Logger {
  level(): LogLevel
  log(level: LogLevel, msg: string, ...keyvals: unknown[]): void
}

/** nopLogger discards everything; it is the default when no logger is configured. */
export const nopLogger: Logger = Object.freeze({
  level: (): LogLevel => LogLevel.None,
  log: (): void => {},
})
