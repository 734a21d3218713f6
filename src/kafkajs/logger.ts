/**
 * KafkaJS's logging: the `logLevel` table, `logCreator`, the namespaced Logger programs get from
 * `kafka.logger()`, and the bridge that hands the kafka-wire client's own log lines to it.
 */
import { LogLevel, type Logger as WireLogger } from '../hooks/index.js'

/** logLevel is KafkaJS's table of log levels: NOTHING 0, ERROR 1, WARN 2, INFO 4, DEBUG 5. */
export const logLevel = Object.freeze({
  NOTHING: 0,
  ERROR: 1,
  WARN: 2,
  INFO: 4,
  DEBUG: 5,
} as const)

/** logLevel is one of the numbers of the `logLevel` table. */
export type logLevel = (typeof logLevel)[keyof typeof logLevel]

/** LoggerEntryContent is a log line's content: timestamp, message and any extra fields. */
export interface LoggerEntryContent {
  readonly timestamp: string
  readonly message: string
  [key: string]: any
}

/** LogEntry is what a log function made by a logCreator receives. */
export interface LogEntry {
  namespace: string
  level: logLevel
  label: string
  log: LoggerEntryContent
}

/** logCreator makes the function that writes log entries, given the configured level. */
export type logCreator = (logLevel: logLevel) => (entry: LogEntry) => void

/** Logger is KafkaJS's logger: a function per level, `namespace` for a child logger and `setLogLevel`. */
export interface Logger {
  info: (message: string, extra?: object) => void
  error: (message: string, extra?: object) => void
  warn: (message: string, extra?: object) => void
  debug: (message: string, extra?: object) => void
  namespace: (namespace: string, logLevel?: logLevel) => Logger
  setLogLevel: (logLevel: logLevel) => void
}

const LABELS: { readonly [n: number]: string } = { 1: 'ERROR', 2: 'WARN', 4: 'INFO', 5: 'DEBUG' }

/**
 * consoleLogCreator is KafkaJS's default log creator: one JSON line per entry on the console, the
 * namespace in brackets before the message.
 */
export const consoleLogCreator: logCreator = () => ({ namespace, level, label, log }) => {
  const line = JSON.stringify({ level: label, ...log, message: namespace ? `[${namespace}] ${log.message}` : log.message })
  switch (level) {
    case logLevel.ERROR:
      return console.error(line)
    case logLevel.WARN:
      return console.warn(line)
    case logLevel.INFO:
      return console.info(line)
    case logLevel.DEBUG:
      return console.log(line)
  }
}

/** envLevel applies KAFKAJS_LOG_LEVEL (NOTHING, ERROR, WARN, INFO, DEBUG), which wins over the configured level, as in KafkaJS. */
function envLevel(level: logLevel | null): logLevel | null {
  const name = (process.env.KAFKAJS_LOG_LEVEL ?? '').toUpperCase() as keyof typeof logLevel
  return Object.hasOwn(logLevel, name) ? logLevel[name] : level
}

/** createLogger builds a root Logger at `level` (default INFO) writing through `logCreator` (default the console). */
export function createLogger(opts: { level?: logLevel; logCreator?: logCreator } = {}): Logger {
  let rootLevel = envLevel(opts.level ?? logLevel.INFO) ?? logLevel.INFO
  const write = (opts.logCreator ?? consoleLogCreator)(rootLevel)
  const make = (namespace: string, own: logLevel | null): Logger => {
    const current = () => own ?? rootLevel
    const at = (level: logLevel) => (message: string, extra: object = {}) => {
      if (level > current()) return
      write({ namespace, level, label: LABELS[level]!, log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...extra } })
    }
    return {
      error: at(logLevel.ERROR),
      warn: at(logLevel.WARN),
      info: at(logLevel.INFO),
      debug: at(logLevel.DEBUG),
      namespace: (ns: string, level?: logLevel) => make(ns, envLevel(level ?? null)),
      setLogLevel: (level: logLevel) => {
        rootLevel = level
      },
    }
  }
  return make('', null)
}

const TO_WIRE: { readonly [n: number]: LogLevel } = { 0: LogLevel.None, 1: LogLevel.Error, 2: LogLevel.Warn, 4: LogLevel.Info, 5: LogLevel.Debug }
const FROM_WIRE: { readonly [n: number]: 'error' | 'warn' | 'info' | 'debug' } = { 1: 'error', 2: 'warn', 3: 'info', 4: 'debug' }

/**
 * wireLogger adapts a KafkaJS Logger for the kafka-wire client underneath: the client's lines go to
 * it at the matching level, their key-value pairs as extra fields (errors by their message).
 * `level` reads the KafkaJS level each time, so setLogLevel takes effect at once.
 */
export function wireLogger(logger: Logger, level: () => logLevel): WireLogger {
  return {
    level: () => TO_WIRE[level()] ?? LogLevel.Info,
    log: (lvl, msg, ...keyvals) => {
      const method = FROM_WIRE[lvl]
      if (method === undefined) return
      const extra: { [k: string]: unknown } = {}
      for (let i = 0; i + 1 < keyvals.length; i += 2) {
        const v = keyvals[i + 1]
        extra[String(keyvals[i])] = v instanceof Error ? v.message : v
      }
      logger[method](msg, extra)
    },
  }
}
