import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'

// Everything a crash must not leave behind: JVM pids and temporary folders of live clusters.
const livePids = new Set<number>()
const liveDirs = new Set<string>()
let hooked = false

/** trackPid registers a child that must be SIGKILLed if this process exits before stopping it. */
export function trackPid(pid: number): void {
  hookProcess()
  livePids.add(pid)
}

/** untrackPid forgets a child that has exited or been stopped. */
export function untrackPid(pid: number): void {
  livePids.delete(pid)
}

/** trackDir registers a temporary folder to remove if this process exits before its cluster stops. */
export function trackDir(dir: string): void {
  hookProcess()
  liveDirs.add(dir)
}

/** untrackDir forgets a folder that its owner has removed. */
export function untrackDir(dir: string): void {
  liveDirs.delete(dir)
}

/**
 * killAllSync SIGKILLs every tracked child and removes every tracked folder, synchronously: it runs from
 * `process.on('exit')`, where no further event-loop turn happens.
 */
export function killAllSync(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  livePids.clear()
  for (const dir of liveDirs) {
    try {
      // A JVM killed a moment ago may still be closing files in it, hence the retries.
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 })
    } catch {
      // best effort: the watchdogs try again
    }
  }
  liveDirs.clear()
}

function hookProcess(): void {
  if (hooked) return
  hooked = true
  // 'exit' also runs after an uncaught exception or process.exit(), so it is the one place that cleans.
  process.on('exit', killAllSync)
  // A listener on SIGINT/SIGTERM replaces Node's default of dying, so ours only acts when nobody else
  // listens: then it cleans up and re-raises the signal so the process still ends the way it was told.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      if (process.listenerCount(sig) > 1) return // the program handles it (e.g. scripts/broker.ts stops gracefully)
      killAllSync()
      process.removeListener(sig, onSignal)
      process.kill(process.pid, sig)
    }
    process.on(sig, onSignal)
  }
  // The monitor variant observes without changing Node's crash behaviour; 'exit' follows it.
  process.on('uncaughtExceptionMonitor', killAllSync)
}

/**
 * spawnWatchdog starts a tiny detached `sh` that SIGKILLs `pid` (and removes `dir`) once this Node
 * process is gone, however it died, SIGKILL included, when no 'exit' handler runs. It needs no polling:
 * the shell blocks reading a pipe whose only writer is this process, and the kernel closes that pipe
 * when we die, so `read` returns. Kill the watchdog (SIGKILL) before stopping `pid` on purpose.
 */
export function spawnWatchdog(pid: number, dir?: string): ChildProcess {
  const script = [
    'read -r _',
    'kill -KILL "$1" 2>/dev/null',
    // Wait (bounded) for the JVM to be gone so it does not write into the folder being removed.
    'i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
    '[ -n "$2" ] && rm -rf "$2"',
  ].join('; ')
  const dog = spawn('sh', ['-c', script, 'kafka-wire-watchdog', String(pid), dir ?? ''], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true, // its own process group: a Ctrl-C to ours must not kill it before it is needed
  })
  dog.on('error', () => {}) // without sh there is no watchdog; the exit hooks still cover normal exits
  dog.stdin?.on('error', () => {})
  dog.unref()
  // The pipe is a handle of its own: unref it too, or it would keep the event loop alive forever.
  ;(dog.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  return dog
}

/** killWatchdog ends a watchdog without letting it fire (it must not kill what we stop on purpose). */
export function killWatchdog(dog: ChildProcess | undefined): void {
  if (!dog || dog.exitCode !== null || dog.signalCode !== null) return
  try {
    dog.kill('SIGKILL')
  } catch {
    // already gone
  }
}
