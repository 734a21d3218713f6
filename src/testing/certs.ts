import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runProgram } from './java.js'

/** BrokerCerts are the TLS files one test run uses: a throwaway CA and a broker keystore it signed. */
export interface BrokerCerts {
  /** keystore is the broker's PKCS12 keystore (key, certificate and CA chain). */
  keystore: string
  /** password protects both the keystore and its key. */
  password: string
  /** caPem is the CA certificate in PEM, for Node's `tls.connect({ ca })`. */
  caPem: string
  /** caFile is the same PEM on disk, for clients that want a path. */
  caFile: string
}

/** KEYSTORE_PASSWORD protects the generated keystores and keys (they live for one run in a temporary folder). */
export const KEYSTORE_PASSWORD = 'kafka-wire'
const PASSWORD = KEYSTORE_PASSWORD

/**
 * generateCerts makes a CA and a broker certificate for `localhost` / `127.0.0.1` with the JDK's keytool,
 * fresh for every run (a cached CA would be one more thing to expire). keytool is a JVM start per step,
 * so the two key pairs and their first steps run side by side and only the signing and import wait.
 */
export async function generateCerts(dir: string, keytool: string, signal?: AbortSignal): Promise<BrokerCerts> {
  await mkdir(dir, { recursive: true })
  const ca = join(dir, 'ca.p12')
  const keystore = join(dir, 'broker.p12')
  const caFile = join(dir, 'ca.pem')
  const csr = join(dir, 'broker.csr')
  const signed = join(dir, 'broker-signed.pem')
  const chain = join(dir, 'broker-chain.pem')
  const store = (file: string) => ['-keystore', file, '-storetype', 'PKCS12', '-storepass', PASSWORD]
  // A short-lived JVM starts faster with the C1 compiler only.
  const fast = ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC']
  const run = async (args: string[]) => {
    const res = await runProgram(keytool, [...args, ...fast], { signal, timeoutMs: 60_000 })
    if (res.code !== 0) throw new Error(`keytool ${args[0]} failed (exit ${res.code}): ${(res.stderr || res.stdout).trim()}`)
  }
  const key = ['-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '30']

  await Promise.all([
    (async () => {
      await run(['-genkeypair', '-alias', 'ca', ...key, '-dname', 'CN=kafka-wire test CA', '-ext', 'bc:c', ...store(ca)])
      await run(['-exportcert', '-rfc', '-alias', 'ca', ...store(ca), '-file', caFile])
    })(),
    (async () => {
      await run(['-genkeypair', '-alias', 'broker', ...key, '-dname', 'CN=localhost', ...store(keystore)])
      await run(['-certreq', '-alias', 'broker', ...store(keystore), '-file', csr])
    })(),
  ])
  await run([
    '-gencert', '-rfc', '-alias', 'ca', ...store(ca), '-infile', csr, '-outfile', signed, '-validity', '30',
    '-ext', 'SAN=dns:localhost,ip:127.0.0.1', '-ext', 'KU=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth,clientAuth',
  ])
  const caPem = await readFile(caFile, 'utf8')
  // Importing the signed certificate together with its CA as one chain replaces the key entry's
  // self-signed certificate in one step; the CA does not need to be a trusted entry first.
  await writeFile(chain, (await readFile(signed, 'utf8')) + caPem)
  await run(['-importcert', '-noprompt', '-alias', 'broker', '-file', chain, ...store(keystore)])
  return { keystore, password: PASSWORD, caPem, caFile }
}
