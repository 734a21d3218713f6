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

/** DEFAULT_SANS are the names every broker certificate is valid for: the loopback listeners of a test cluster. */
export const DEFAULT_SANS = ['dns:localhost', 'ip:127.0.0.1']

/**
 * CertRecipe is the keytool recipe for one CA and one broker keystore it signs, as argument lists, so
 * that the JVM harness (keytool on this machine) and the Docker harness (keytool inside the image) make
 * the same certificates. `first` holds two chains of steps that may run side by side.
 */
export interface CertRecipe {
  first: [string[][], string[][]]
  sign: string[]
  /** chain names the files to concatenate (signed certificate, then the CA) into `chain.out`. */
  chain: { signed: string; ca: string; out: string }
  importChain: string[]
  files: { keystore: string; caFile: string }
}

/**
 * certRecipe lays out the keytool steps that make, in `dir`, a CA and a broker certificate for
 * CN=localhost valid for `sans` (keytool's `dns:`/`ip:` form), both 30 days, EC P-256.
 */
export function certRecipe(dir: string, sans: string[] = DEFAULT_SANS): CertRecipe {
  const ca = join(dir, 'ca.p12')
  const keystore = join(dir, 'broker.p12')
  const caFile = join(dir, 'ca.pem')
  const csr = join(dir, 'broker.csr')
  const signed = join(dir, 'broker-signed.pem')
  const chain = join(dir, 'broker-chain.pem')
  const store = (file: string) => ['-keystore', file, '-storetype', 'PKCS12', '-storepass', PASSWORD]
  const key = ['-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '30']
  return {
    first: [
      [
        ['-genkeypair', '-alias', 'ca', ...key, '-dname', 'CN=kafka-wire test CA', '-ext', 'bc:c', ...store(ca)],
        ['-exportcert', '-rfc', '-alias', 'ca', ...store(ca), '-file', caFile],
      ],
      [
        ['-genkeypair', '-alias', 'broker', ...key, '-dname', 'CN=localhost', ...store(keystore)],
        ['-certreq', '-alias', 'broker', ...store(keystore), '-file', csr],
      ],
    ],
    sign: [
      '-gencert', '-rfc', '-alias', 'ca', ...store(ca), '-infile', csr, '-outfile', signed, '-validity', '30',
      '-ext', `SAN=${[...new Set(sans)].join(',')}`, '-ext', 'KU=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth,clientAuth',
    ],
    // Importing the signed certificate together with its CA as one chain replaces the key entry's
    // self-signed certificate in one step; the CA does not need to be a trusted entry first.
    chain: { signed, ca: caFile, out: chain },
    importChain: ['-importcert', '-noprompt', '-alias', 'broker', '-file', chain, ...store(keystore)],
    files: { keystore, caFile },
  }
}

/** certShellScript is the same recipe as one POSIX shell script, for a container that has `keytool` on its PATH. */
export function certShellScript(dir: string, sans?: string[]): string {
  const r = certRecipe(dir, sans)
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  const keytool = (args: string[]) => ['keytool', ...args, ...FAST].map(q).join(' ')
  return [
    'set -e',
    `mkdir -p ${q(dir)}`,
    ...r.first.flat().map(keytool),
    keytool(r.sign),
    `cat ${q(r.chain.signed)} ${q(r.chain.ca)} > ${q(r.chain.out)}`,
    keytool(r.importChain),
  ].join('\n')
}

// A short-lived JVM starts faster with the C1 compiler only.
const FAST = ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC']

/**
 * generateCerts makes a CA and a broker certificate for `localhost` / `127.0.0.1` with the JDK's keytool,
 * fresh for every run (a cached CA would be one more thing to expire). keytool is a JVM start per step,
 * so the two key pairs and their first steps run side by side and only the signing and import wait.
 */
export async function generateCerts(dir: string, keytool: string, signal?: AbortSignal): Promise<BrokerCerts> {
  await mkdir(dir, { recursive: true })
  const r = certRecipe(dir)
  const run = async (args: string[]) => {
    const res = await runProgram(keytool, [...args, ...FAST], { signal, timeoutMs: 60_000 })
    if (res.code !== 0) throw new Error(`keytool ${args[0]} failed (exit ${res.code}): ${(res.stderr || res.stdout).trim()}`)
  }
  await Promise.all(
    r.first.map(async (steps) => {
      for (const step of steps) await run(step)
    }),
  )
  await run(r.sign)
  const caPem = await readFile(r.files.caFile, 'utf8')
  await writeFile(r.chain.out, (await readFile(r.chain.signed, 'utf8')) + caPem)
  await run(r.importChain)
  return { keystore: r.files.keystore, password: PASSWORD, caPem, caFile: r.files.caFile }
}
