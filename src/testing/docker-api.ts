import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** DockerTarget is where the Docker engine's API listens: a unix socket, or plain HTTP on host:port. */
export type DockerTarget = { socketPath: string } | { host: string; port: number }

/**
 * dockerTarget finds the engine's API the way the docker CLI does: DOCKER_HOST (unix:// or tcp://
 * without TLS), else /var/run/docker.sock, else the rootless sockets. Undefined when none is usable.
 */
export function dockerTarget(env: NodeJS.ProcessEnv = process.env): DockerTarget | undefined {
  if (env.DOCKER_HOST) {
    try {
      const url = new URL(env.DOCKER_HOST)
      if (url.protocol === 'unix:') return { socketPath: url.pathname }
      if ((url.protocol === 'tcp:' || url.protocol === 'http:') && !env.DOCKER_TLS_VERIFY) return { host: url.hostname, port: Number(url.port || 2375) }
    } catch {
      // not a URL: nothing usable
    }
    return undefined
  }
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')]
  if (env.XDG_RUNTIME_DIR) sockets.push(join(env.XDG_RUNTIME_DIR, 'docker.sock'))
  const found = sockets.find((s) => existsSync(s))
  return found ? { socketPath: found } : undefined
}

/**
 * dockerApi sends one request to the engine and resolves with the status and body; it rejects only
 * when the engine cannot be reached. `timeoutMs` bounds the whole exchange.
 */
export function dockerApi(method: string, path: string, opts: { target?: DockerTarget; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  const target = opts.target ?? dockerTarget()
  if (!target) return Promise.reject(new Error('no Docker engine to ask: DOCKER_HOST is unset (or uses TLS) and no Docker socket exists'))
  const timeoutMs = opts.timeoutMs ?? 60_000
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, headers: { Host: 'docker' } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (s: string) => (body += s))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`the Docker engine did not answer ${method} ${path} within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** stopContainer stops a container by name or id (SIGTERM, SIGKILL after `graceS`); a stopped one is left as it is. */
export async function stopContainer(name: string, graceS: number): Promise<void> {
  const res = await dockerApi('POST', `/containers/${encodeURIComponent(name)}/stop?t=${graceS}`, { timeoutMs: (graceS + 30) * 1000 })
  if (res.status !== 204 && res.status !== 304) throw new Error(`docker stop ${name}: ${res.status} ${res.body.trim()}`)
}

/** startContainer starts a stopped container by name or id; one already running is an error. */
export async function startContainer(name: string): Promise<void> {
  const res = await dockerApi('POST', `/containers/${encodeURIComponent(name)}/start`)
  if (res.status === 304) throw new Error(`container ${name} is already running`)
  if (res.status !== 204) throw new Error(`docker start ${name}: ${res.status} ${res.body.trim()}`)
}

/** containerRunning tells whether a container exists and runs. */
export async function containerRunning(name: string): Promise<boolean> {
  const res = await dockerApi('GET', `/containers/${encodeURIComponent(name)}/json`, { timeoutMs: 10_000 })
  if (res.status === 404) return false
  if (res.status !== 200) throw new Error(`docker inspect ${name}: ${res.status} ${res.body.trim()}`)
  return (JSON.parse(res.body) as { State?: { Running?: boolean } }).State?.Running === true
}
