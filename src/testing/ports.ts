import { createServer, type Server } from 'node:net'

/**
 * freePorts asks the kernel for `count` distinct free TCP ports on `host` by binding port 0. All the
 * sockets stay open until every port is known, so the kernel cannot hand out the same port twice; they
 * are closed before returning, which leaves a short window in which another process could take one.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ host, port: 0, exclusive: true }, resolve)
      })
      const addr = server.address()
      if (addr === null || typeof addr === 'string') throw new Error('listening socket has no port')
      ports.push(addr.port)
    }
    return ports
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))))
  }
}
