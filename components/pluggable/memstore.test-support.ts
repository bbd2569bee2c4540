// Test support: builds and runs the Go pluggable component of examples/pluggable
// (memstore: a Dapr StateStore, TransactionalStateStore and PubSub) on a socket in a
// folder of the test's own, and takes it away and back for fault tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPluggable } from '../../examples/pluggable/build.ts';
import { listServices } from './discovery.ts';

export interface Memstore {
  folder: string;
  socket: string;
  /** Starts it (again) and waits until its socket answers reflection. */
  start(): Promise<void>;
  /** SIGKILL: the process vanishes as in a crash; its socket file stays behind, dead. */
  kill(): Promise<void>;
  /** SIGSTOP (resolves once the process is stopped) / SIGCONT: it hangs with its connections open. */
  pause(): Promise<void>;
  resume(): void;
  dispose(): Promise<void>;
}

export async function startMemstore(folder = mkdtempSync(join(tmpdir(), 'l8-sockets-'))): Promise<Memstore> {
  const binary = await buildPluggable();
  const socket = join(folder, 'memstore.sock');
  let child: ChildProcess | null = null;
  let output = '';

  const start = async () => {
    const proc = spawn(binary, ['-socket', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`memstore exited with code ${proc.exitCode}: ${output}`);
      if (existsSync(socket)) {
        try {
          await listServices(socket, 500);
          return;
        } catch {
          // not listening yet (or the old socket file of a killed process)
        }
      }
      if (Date.now() > deadline) throw new Error(`memstore did not listen on ${socket} within 15 s: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const kill = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGCONT');
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    folder,
    socket,
    start,
    kill,
    pause: async () => {
      const proc = child as ChildProcess | null;
      if (!proc?.pid) return;
      proc.kill('SIGSTOP');
      // The signal is asynchronous: wait until the kernel shows the process stopped ("T").
      const deadline = Date.now() + 5000;
      while (!/^\d+ \(.*\) T/.test(readFileSync(`/proc/${proc.pid}/stat`, 'utf8'))) {
        if (Date.now() > deadline) throw new Error('memstore did not stop on SIGSTOP');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    resume: () => void (child as ChildProcess | null)?.kill('SIGCONT'),
    dispose: async () => {
      await kill();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
