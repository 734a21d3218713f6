import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { kafkaCacheRoot } from './maven.js'

/** JavaRuntime is the JDK the harness runs brokers, tools and keytool with. */
export interface JavaRuntime {
  /** java is the path of the `java` launcher. */
  java: string
  /** keytool is the path of the JDK's `keytool`, from the same Java home. */
  keytool: string
  /** home is the JDK's `java.home`. */
  home: string
  /** major is the feature release (17, 21, …). */
  major: number
}

/** JavaToolResult is what a finished Java program left behind. */
export interface JavaToolResult {
  /** code is the exit code, or null when a signal (or the timeout) ended the program. */
  code: number | null
  stdout: string
  stderr: string
}

/** JavaToolOptions tune one run of a Java program. */
export interface JavaToolOptions {
  /** timeoutMs kills the program (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number
  /** input is written to the program's stdin, which is then closed (stdin is empty by default). */
  input?: string | Buffer
  /** signal kills the program when aborted. */
  signal?: AbortSignal
  /** heap is the -Xmx value; default `512m`, as Kafka's perf and console scripts use. */
  heap?: string
  /** jvmArgs are extra JVM options placed before the main class (e.g. `-Dfoo=bar`). */
  jvmArgs?: string[]
  /** env is merged over the parent's environment. */
  env?: NodeJS.ProcessEnv
}

/** MIN_JAVA is the oldest Java that Kafka 4.x brokers run on. */
export const MIN_JAVA = 17

let found: Promise<JavaRuntime> | undefined

/**
 * findJava locates Java (`$JAVA_HOME/bin/java`, else `java` on PATH) and checks it is 17 or newer; the
 * answer is kept for the life of the process, since asking costs a JVM start.
 */
export function findJava(): Promise<JavaRuntime> {
  found ??= probeJava().catch((err) => {
    found = undefined // let a later call retry, e.g. after the user fixed PATH
    throw err
  })
  return found
}

async function probeJava(): Promise<JavaRuntime> {
  const home = process.env.JAVA_HOME
  const java = home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java'
  // -XshowSettings:properties prints java.home and the spec version in one start, on stderr.
  const res = await runProgram(java, ['-XshowSettings:properties', '-version'], { timeoutMs: 30_000 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new Error(`kafka-wire/testing needs Java ${MIN_JAVA}+ to run a Kafka broker, and found none (set JAVA_HOME or put java on PATH; Debian: apt-get install openjdk-17-jdk-headless), or set KAFKA_BOOTSTRAP to use a running cluster`)
    }
    throw err
  })
  const spec = /java\.specification\.version = (\S+)/.exec(res.stderr)?.[1]
  const javaHome = /java\.home = (.+)/.exec(res.stderr)?.[1]?.trim()
  if (res.code !== 0 || !spec || !javaHome) {
    throw new Error(`could not read the version of ${java} (exit ${res.code}):\n${res.stderr.slice(-2000)}`)
  }
  const major = spec.startsWith('1.') ? Number(spec.slice(2)) : Number(spec)
  if (!(major >= MIN_JAVA)) {
    throw new Error(`Kafka brokers need Java ${MIN_JAVA} or newer, but ${java} is Java ${spec} (from ${javaHome}); set JAVA_HOME to a newer JDK`)
  }
  const keytool = join(javaHome, 'bin', 'keytool')
  return { java: join(javaHome, 'bin', 'java'), keytool: existsSync(keytool) ? keytool : 'keytool', home: javaHome, major }
}

/**
 * runProgram runs a program to completion and collects its output; it rejects only when the program
 * could not be started at all, so callers decide what a non-zero exit means.
 */
export function runProgram(cmd: string, args: string[], opts: JavaToolOptions = {}): Promise<JavaToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      signal: opts.signal,
      killSignal: 'SIGKILL',
      timeout: opts.timeoutMs ?? 120_000,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.stdin.on('error', () => {}) // a program that exits without reading its input is not our error
    child.stdin.end(opts.input ?? '')
    let started = false
    child.on('spawn', () => {
      started = true
    })
    child.on('error', (e) => {
      if (!started) reject(e)
    })
    child.on('close', (code) => {
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() })
    })
  })
}

// Tools log warnings to stderr only, so their stdout stays parseable (Kafka's tools-log4j2.yaml does the same).
const TOOLS_LOG4J2 = `status = warn
name = kafka-wire-tools
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
`

let toolsConfig: Promise<string> | undefined

/** toolsLog4jConfig returns the path of a log4j2 file for Kafka's command-line tools, written once into the cache. */
export function toolsLog4jConfig(): Promise<string> {
  toolsConfig ??= (async () => {
    const root = kafkaCacheRoot()
    const file = join(root, 'tools-log4j2.properties')
    const current = await readFile(file, 'utf8').catch(() => '')
    if (current !== TOOLS_LOG4J2) {
      await mkdir(root, { recursive: true })
      // Write-then-rename: a tool starting in another process never reads half a file.
      const tmp = `${file}.${process.pid}.tmp`
      await writeFile(tmp, TOOLS_LOG4J2)
      await rename(tmp, file)
    }
    return file
  })()
  return toolsConfig
}

/**
 * runKafkaJavaTool runs one of Kafka's Java programs (e.g. `org.apache.kafka.tools.TopicCommand`) with
 * the jars in `libs` on the classpath, the way `bin/kafka-run-class.sh` would, and collects its output.
 */
export async function runKafkaJavaTool(libs: string, mainClass: string, args: string[], opts: JavaToolOptions = {}): Promise<JavaToolResult> {
  const [{ java }, log4j] = await Promise.all([findJava(), toolsLog4jConfig()])
  const jvm = [
    `-Xmx${opts.heap ?? '512m'}`,
    // Tools live for seconds: the C1 compiler and the serial collector start faster than the defaults.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    ...(opts.jvmArgs ?? []),
    '-cp',
    join(libs, '*'),
    mainClass,
  ]
  return runProgram(java, [...jvm, ...args], opts)
}
