/**
 * The fallback source of the message specs: the kafka-clients `sources` jar, for a release whose main
 * jar ever lacks `common/message/*.json` (src/testing/maven.ts resolves the main jar). It is copied by
 * Maven into the same cache, `$KAFKA_WIRE_CACHE` or `~/.cache/kafka-wire`, beside the other Kafka jars.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { kafkaVersionDir } from '../../src/testing/maven.js'

/** resolveKafkaClientsSourcesJar returns the path of `kafka-clients-<version>-sources.jar`, copying it on first use. */
export function resolveKafkaClientsSourcesJar(version: string): string {
  const dir = join(kafkaVersionDir(version), 'clients-sources')
  const file = `kafka-clients-${version}-sources.jar`
  const path = join(dir, file)
  if (existsSync(path)) return path
  mkdirSync(dir, { recursive: true })
  // Copy into a scratch folder first so an interrupted download never leaves a half-written jar behind.
  const scratch = mkdtempSync(join(dir, '.tmp-'))
  const artifact = `org.apache.kafka:kafka-clients:${version}:jar:sources`
  try {
    execFileSync(
      'mvn',
      ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${scratch}`],
      { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    )
    renameSync(join(scratch, file), path)
    return path
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string; message: string }
    if (e.code === 'ENOENT') throw new Error(`cannot resolve ${artifact}: mvn is not installed (Maven 3 and Java are needed)`)
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n')
    throw new Error(`cannot resolve ${artifact} with mvn: ${e.message}\n${out}`)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}
