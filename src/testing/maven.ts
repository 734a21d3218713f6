import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { KAFKA_VERSION, LOG4J2_VERSION } from './kafka-version.js'

/** SLF4J_VERSION is the slf4j-api line every Kafka 4.x release logs through (the log4j binding is for 1.x). */
export const SLF4J_VERSION = '1.7.36'

// The dependency plugin is named with its version so Maven 3.8 does not pick one of its own.
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1'

// log4j2 releases that each Kafka release line was built with (its gradle/dependencies.gradle). The
// binding must match the log4j-api that kafka-server pulls in, or log4j prints a version warning.
const LOG4J2_BY_KAFKA: Array<[RegExp, string]> = [
  [/^4\.0\.[01]$/, '2.24.3'],
  [/^4\.1\.[01]$/, '2.24.3'],
  [/^4\.0\.\d+$/, '2.25.3'],
  [/^4\.1\.\d+$/, '2.25.3'],
  [/^4\.2\.0$/, '2.25.3'],
]

/** log4j2VersionFor returns the log4j2 version to run a Kafka release with; newer releases get the pinned one. */
export function log4j2VersionFor(version: string): string {
  if (version === KAFKA_VERSION) return LOG4J2_VERSION
  for (const [re, v] of LOG4J2_BY_KAFKA) if (re.test(version)) return v
  return LOG4J2_VERSION
}

/**
 * kafkaCacheRoot is where resolved jars live, outside the repository so that clones and CI runs on the
 * same machine share one download: `$KAFKA_WIRE_CACHE`, else `$XDG_CACHE_HOME/kafka-wire`, else
 * `~/.cache/kafka-wire`.
 */
export function kafkaCacheRoot(): string {
  if (process.env.KAFKA_WIRE_CACHE) return process.env.KAFKA_WIRE_CACHE
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kafka-wire')
}

/** kafkaVersionDir is the cache folder of one Kafka version (its pom, lock, `libs/` and `clients/`). */
export function kafkaVersionDir(version: string = KAFKA_VERSION): string {
  return join(kafkaCacheRoot(), `kafka-${version}`)
}

/** kafkaLibsDir is the folder that holds every jar a broker and Kafka's Java tools need, once resolved. */
export function kafkaLibsDir(version: string = KAFKA_VERSION): string {
  return join(kafkaVersionDir(version), 'libs')
}

/** isKafkaResolved tells whether the full jar set of a version is already cached (its marker was written last). */
export function isKafkaResolved(version: string = KAFKA_VERSION): boolean {
  return existsSync(join(kafkaLibsDir(version), '.complete'))
}

/** ResolveOptions tune a jar resolution. */
export interface ResolveOptions {
  /** signal aborts the Maven run (the lock is released and nothing is marked complete). */
  signal?: AbortSignal
  /** log receives one line when a download starts, so callers can say why they are slow. */
  log?: (line: string) => void
}

/**
 * resolveKafkaJars makes sure the broker, tools and logging jars of `version` are in the cache and
 * returns that folder (use `<dir>/*` as the Java classpath). A warm cache costs one `stat`. A cold one
 * runs `mvn copy-dependencies` over a throwaway pom into a temporary folder that is renamed into place,
 * then writes `.complete`, all under a lock, so a crash or a concurrent run never leaves a half set.
 */
export async function resolveKafkaJars(version: string = KAFKA_VERSION, opts: ResolveOptions = {}): Promise<string> {
  const libs = kafkaLibsDir(version)
  if (isKafkaResolved(version)) return libs
  const dir = kafkaVersionDir(version)
  await mkdir(dir, { recursive: true })
  return withLock(dir, opts.signal, async () => {
    if (isKafkaResolved(version)) return libs // another process finished while we waited for the lock
    opts.log?.(`resolving Apache Kafka ${version} jars with Maven into ${libs}`)
    const pom = join(dir, 'pom.xml')
    await writeFile(pom, throwawayPom(version, log4j2VersionFor(version)))
    const tmp = join(dir, `libs.tmp-${process.pid}`)
    await rm(tmp, { recursive: true, force: true })
    await runMaven(
      [
        '-f', pom,
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        '-DincludeScope=runtime',
        '-Dmdep.prependGroupId=true',
        `-DoutputDirectory=${tmp}`,
      ],
      dir,
      opts.signal,
    )
    const jars = (await readdir(tmp)).filter((f) => f.endsWith('.jar'))
    const must = [`org.apache.kafka.kafka_2.13-${version}.jar`, `org.apache.kafka.kafka-tools-${version}.jar`, `org.apache.kafka.kafka-clients-${version}.jar`]
    for (const m of must) {
      if (!jars.includes(m)) throw new Error(`Maven resolved Kafka ${version} without ${m} (got ${jars.length} jars in ${tmp})`)
    }
    await rm(libs, { recursive: true, force: true })
    await rename(tmp, libs)
    // The marker goes last: its presence is the only thing readers trust.
    await writeFile(join(libs, '.complete'), `${new Date().toISOString()} ${jars.length} jars\n`)
    return libs
  })
}

/**
 * resolveKafkaClientsJar returns the path of `org.apache.kafka.kafka-clients-<version>.jar`, whose
 * `common/message/*.json` the protocol generator reads. It costs nothing when the full set is cached;
 * otherwise it fetches that one artifact (`dependency:copy`, no transitive jars) into `clients/`.
 */
export async function resolveKafkaClientsJar(version: string = KAFKA_VERSION, opts: ResolveOptions = {}): Promise<string> {
  const name = `org.apache.kafka.kafka-clients-${version}.jar`
  if (isKafkaResolved(version)) return join(kafkaLibsDir(version), name)
  const dir = kafkaVersionDir(version)
  const clients = join(dir, 'clients')
  const jar = join(clients, name)
  if (existsSync(join(clients, '.complete'))) return jar
  await mkdir(dir, { recursive: true })
  return withLock(dir, opts.signal, async () => {
    if (isKafkaResolved(version)) return join(kafkaLibsDir(version), name)
    if (existsSync(join(clients, '.complete'))) return jar
    opts.log?.(`resolving org.apache.kafka:kafka-clients:${version} with Maven into ${clients}`)
    const tmp = join(dir, `clients.tmp-${process.pid}`)
    await rm(tmp, { recursive: true, force: true })
    await runMaven(
      [`${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=org.apache.kafka:kafka-clients:${version}`, `-DoutputDirectory=${tmp}`],
      dir,
      opts.signal,
    )
    // dependency:copy names the file without its group id; use the same name as the full set.
    await rename(join(tmp, `kafka-clients-${version}.jar`), join(tmp, name))
    await rm(clients, { recursive: true, force: true })
    await rename(tmp, clients)
    await writeFile(join(clients, '.complete'), `${new Date().toISOString()}\n`)
    return jar
  })
}

/** folderSize adds up the sizes of the files directly inside a folder (for reporting the jar set's weight). */
export async function folderSize(dir: string): Promise<number> {
  let total = 0
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size
  return total
}

function throwawayPom(version: string, log4j2: string): string {
  const dep = (g: string, a: string, v: string) =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by kafka-wire's src/testing/maven.ts to resolve a broker classpath; safe to delete. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-wire</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
${dep('org.apache.kafka', 'kafka_2.13', version)}
${dep('org.apache.kafka', 'kafka-tools', version)}
    <!-- No Kafka POM publishes the slf4j binding; without it the broker logs nothing and its
         "Kafka Server started" line never comes. -->
${dep('org.apache.logging.log4j', 'log4j-api', log4j2)}
${dep('org.apache.logging.log4j', 'log4j-core', log4j2)}
${dep('org.apache.logging.log4j', 'log4j-slf4j-impl', log4j2)}
    <!-- slf4j 2.x would ignore the 1.x binding above. -->
${dep('org.slf4j', 'slf4j-api', SLF4J_VERSION)}
  </dependencies>
</project>
`
}

function runMaven(args: string[], cwd: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', ['-B', '-q', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], signal })
    let out = ''
    const keep = (b: Buffer) => {
      out = (out + b.toString()).slice(-8000) // mvn -q prints only errors; keep the tail for the message
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new Error('kafka-wire/testing needs Maven (`mvn` on PATH) to fetch the Kafka jars; install it (e.g. apt-get install maven) or set KAFKA_BOOTSTRAP to use a running cluster'))
      } else reject(err)
    })
    child.on('close', (code, sig) => {
      if (code === 0) resolve()
      else reject(new Error(`mvn ${args.find((a) => a.includes(':copy')) ?? ''} failed (${sig ?? `exit ${code}`}):\n${out.trim()}`))
    })
  })
}

// A lock is a directory (mkdir is atomic) holding the owner's pid. A lock whose owner is gone is
// taken over, so a resolver killed mid-download does not block every later run.
/** withLock runs `fn` holding a lock on `dir` (a `.lock` folder with the owner's pid; a dead owner's lock is taken over). */
export async function withLock<T>(dir: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  const lock = join(dir, '.lock')
  for (;;) {
    signal?.throwIfAborted()
    try {
      await mkdir(lock)
      await writeFile(join(lock, 'pid'), String(process.pid))
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (await lockIsStale(lock)) {
        await rm(lock, { recursive: true, force: true })
        continue
      }
      // Another process is downloading; there is no event to wait on across processes, so poll.
      await delay(250, undefined, { signal })
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  let pid: number
  try {
    pid = Number(await readFile(join(lock, 'pid'), 'utf8'))
  } catch {
    // No pid file yet: either its owner is between mkdir and writeFile, or it died there.
    try {
      return Date.now() - (await stat(lock)).mtimeMs > 10_000
    } catch {
      return true
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return true
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
