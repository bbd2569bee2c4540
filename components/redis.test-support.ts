// Test support for the Redis backends: cleaning up after a run on the shared server, and
// a private redis-server for fault tests (each test file that stops and restarts Redis
// gets its own server on a free port, so the shared server other tests use stays up).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../test/support/free-port.ts';


export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL: the server vanishes as in a crash; connections are reset. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server hangs with its connections open (a stuck host or network). */
  pause(): void;
  resume(): void;
  /** Stops it for good and removes its files. */
  dispose(): Promise<void>;
}

export async function startPrivateRedis(binary = process.env.L8_REDIS_SERVER ?? 'redis-server', options: { durable?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'l8-private-redis-'));
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;

  const start = async (): Promise<void> => {
    // durable: every acknowledged write is fsynced to the append-only file, so it survives a
    // kill (what "no acknowledged write is lost" needs).
    const persistence = options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const spawnError = new Promise<never>((_, reject) => proc.once('error', (e) => reject(new Error(`cannot start ${binary}: ${e.message}; install redis-server or set L8_REDIS_SERVER`))));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await Promise.race([probe.connect().then(() => probe.ping()), spawnError]);
        probe.disconnect();
        return;
      } catch (error) {
        probe.disconnect();
        if ((error as Error).message.startsWith('cannot start')) throw error;
        if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start: ${stderr || (error as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url,
    port,
    kill,
    start,
    pause: () => void (child as ChildProcess | null)?.kill('SIGSTOP'),
    resume: () => void (child as ChildProcess | null)?.kill('SIGCONT'),
    dispose: async () => {
      (child as ChildProcess | null)?.kill('SIGCONT');
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Removes what a test run wrote under its key prefix from the shared Redis server. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
