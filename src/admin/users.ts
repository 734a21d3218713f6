/**
 * SCRAM users (KIP-554): describe the credentials users have, and create, change or delete them. The
 * password never leaves this process: the salted password (RFC 5802's Hi, PBKDF2 over the mechanism's
 * hash) is computed here, from a random salt, and sent to the controller.
 */
import { pbkdf2, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { ErrorCode } from '../protocol/error-codes.js'
import { KafkaProtocolError, type KafkaWireError } from '../protocol/errors.js'
import { AlterUserScramCredentials } from '../protocol/messages/alter-user-scram-credentials.js'
import { DescribeUserScramCredentials } from '../protocol/messages/describe-user-scram-credentials.js'
import type { ClientCore } from '../client/core.js'
import { InvalidArgumentError } from '../client/errors.js'
import { CONTROLLER_RETRY, errorFor, retryItems, sendAny, sendController, type AdminOptions } from './util.js'

const pbkdf2Async = promisify(pbkdf2)

/** ScramMechanism is a SCRAM mechanism Kafka stores credentials for. */
export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
const MECHANISMS: { readonly [K in ScramMechanism]: { code: number; hash: 'sha256' | 'sha512'; bytes: number } } = {
  'SCRAM-SHA-256': { code: 1, hash: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { code: 2, hash: 'sha512', bytes: 64 },
}
const mechanismName = (code: number): ScramMechanism | 'unknown' => (Object.keys(MECHANISMS) as ScramMechanism[]).find((m) => MECHANISMS[m].code === code) ?? 'unknown'

/** DEFAULT_SCRAM_ITERATIONS is the iteration count of new credentials (Kafka accepts 4096 to 16384). */
export const DEFAULT_SCRAM_ITERATIONS = 8192

/** DescribedUser is one user's SCRAM credentials. */
export interface DescribedUser {
  user: string
  credentials: Array<{ mechanism: ScramMechanism | 'unknown'; iterations: number }>
  /** error is RESOURCE_NOT_FOUND for a user without credentials, null on success. */
  error: KafkaWireError | null
}

/** ScramUpsert creates or replaces one credential of a user. */
export interface ScramUpsert {
  user: string
  mechanism: ScramMechanism
  password: string
  /** iterations default to DEFAULT_SCRAM_ITERATIONS; Kafka takes 4096 to 16384. */
  iterations?: number
  /** salt defaults to 32 random bytes. */
  salt?: Buffer
}

/** ScramDeletion deletes one credential of a user. */
export interface ScramDeletion {
  user: string
  mechanism: ScramMechanism
}

/** AlteredUser is one user's result of alterUserScrams. */
export interface AlteredUser {
  user: string
  error: KafkaWireError | null
}

/**
 * describeUserScrams describes the SCRAM credentials of users (every user with credentials
 * when none is named), one result per user (in the order given when named).
 */
export async function describeUserScrams(core: ClientCore, users?: string[], opts: AdminOptions = {}): Promise<DescribedUser[]> {
  if (users !== undefined) {
    if (!Array.isArray(users)) throw new InvalidArgumentError('users', 'must be an array of user names')
    users.forEach((u, i) => {
      if (typeof u !== 'string' || u === '') throw new InvalidArgumentError(`users[${i}]`, `must be a user name, got ${JSON.stringify(u)}`)
    })
    if (users.length === 0) return []
  }
  const res = await sendAny(core, DescribeUserScramCredentials, () => ({ ...DescribeUserScramCredentials.newRequest(), users: users === undefined ? null : users.map((name) => ({ name })) }), opts)
  if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, { errorMessage: res.errorMessage, resource: 'scram users' })
  const out = res.results.map((r) => ({
    user: r.user,
    credentials: r.credentialInfos.map((c) => ({ mechanism: mechanismName(c.mechanism), iterations: c.iterations })),
    error: errorFor(r.errorCode, { resource: `user ${r.user}`, errorMessage: r.errorMessage }),
  }))
  if (users === undefined) return out.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
  const byUser = new Map(out.map((r) => [r.user, r]))
  return users.map((u) => byUser.get(u) ?? { user: u, credentials: [], error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { resource: `user ${u}`, errorMessage: 'the broker did not answer for this user' }) })
}

/**
 * alterUserScrams creates or replaces (upserts) and deletes SCRAM credentials, one result
 * per user named (in the order first named). The controller takes one change per user and request, so
 * a user's several changes go in successive requests, in the order given (upserts first); the first
 * change that fails is the user's error and the user's later changes are not sent.
 */
export async function alterUserScrams(core: ClientCore, changes: { upserts?: ScramUpsert[]; deletions?: ScramDeletion[] }, opts: AdminOptions = {}): Promise<AlteredUser[]> {
  const upserts = changes.upserts ?? []
  const deletions = changes.deletions ?? []
  if (!Array.isArray(upserts) || !Array.isArray(deletions)) throw new InvalidArgumentError('changes', 'upserts and deletions must be arrays')
  const check = (x: { user: string; mechanism: string }, path: string) => {
    if (typeof x?.user !== 'string' || x.user === '') throw new InvalidArgumentError(`${path}.user`, 'must be a user name')
    if (!(x.mechanism in MECHANISMS)) throw new InvalidArgumentError(`${path}.mechanism`, `must be SCRAM-SHA-256 or SCRAM-SHA-512, got ${JSON.stringify(x.mechanism)}`)
  }
  upserts.forEach((u, i) => {
    check(u, `upserts[${i}]`)
    if (typeof u.password !== 'string' || u.password === '') throw new InvalidArgumentError(`upserts[${i}].password`, 'must be a non-empty string')
    if (u.iterations !== undefined && (!Number.isInteger(u.iterations) || u.iterations < 1)) throw new InvalidArgumentError(`upserts[${i}].iterations`, `must be a positive integer, got ${u.iterations}`)
  })
  deletions.forEach((d, i) => check(d, `deletions[${i}]`))
  const users = [...new Set([...upserts.map((u) => u.user), ...deletions.map((d) => d.user)])]
  if (users.length === 0) return []
  const upsertions = await Promise.all(
    upserts.map(async (u) => {
      const m = MECHANISMS[u.mechanism]
      const iterations = u.iterations ?? DEFAULT_SCRAM_ITERATIONS
      const salt = u.salt ?? randomBytes(32)
      const saltedPassword = await pbkdf2Async(Buffer.from(u.password, 'utf8'), salt, iterations, m.bytes, m.hash)
      return { name: u.user, mechanism: m.code, iterations, salt, saltedPassword }
    }),
  )
  const dels = deletions.map((d) => ({ name: d.user, mechanism: MECHANISMS[d.mechanism].code }))
  // The controller refuses a second change of one user in one request (DUPLICATE_RESOURCE), so the
  // changes go in rounds: round r carries each user's r-th change; a user whose change failed stops.
  const perUser = new Map<string, Array<{ upsertion?: (typeof upsertions)[number]; deletion?: (typeof dels)[number] }>>()
  for (const u of upsertions) perUser.set(u.name, [...(perUser.get(u.name) ?? []), { upsertion: u }])
  for (const d of dels) perUser.set(d.name, [...(perUser.get(d.name) ?? []), { deletion: d }])
  const results = new Map<string, AlteredUser>()
  for (let round = 0; ; round++) {
    const inRound = users.filter((u) => (perUser.get(u)?.length ?? 0) > round && (results.get(u)?.error ?? null) === null)
    if (inRound.length === 0) break
    const changesOf = (pending: string[]) => pending.map((u) => perUser.get(u)![round]!)
    const got = await retryItems(
      core,
      inRound,
      async (pending, signal) => {
        const cs = changesOf(pending)
        const res = await sendController(
          core,
          AlterUserScramCredentials,
          () => ({ ...AlterUserScramCredentials.newRequest(), upsertions: cs.flatMap((c) => (c.upsertion ? [c.upsertion] : [])), deletions: cs.flatMap((c) => (c.deletion ? [c.deletion] : [])) }),
          signal ? { signal } : {},
        )
        return new Map(res.results.map((r): [string, AlteredUser] => [r.user, { user: r.user, error: errorFor(r.errorCode, { resource: `user ${r.user}`, errorMessage: r.errorMessage }) }]))
      },
      (r) => r.error instanceof KafkaProtocolError && CONTROLLER_RETRY.has(r.error.errorCode),
      (user, err) => ({ user, error: err as KafkaWireError }),
      { ...opts, between: () => core.metadata.refresh(true) },
    )
    for (const u of inRound) results.set(u, got.get(u) ?? { user: u, error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { resource: `user ${u}`, errorMessage: 'the controller did not answer for this user' }) })
  }
  return users.map((u) => results.get(u) ?? { user: u, error: new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { resource: `user ${u}`, errorMessage: 'the controller did not answer for this user' }) })
}
