// Redis: Debian's redis-server on 127.0.0.1, with an append-only file fsynced on every
// write so that the fault tests ("no acknowledged write is lost across a restart") test
// L8 and not a lossy server setting.

import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { envPort, readServicesEnv, serviceDir, servicesDir, updateServicesEnv, type RedisEnv } from './paths.ts';
import { assertPortFree, runningPid, startDaemon, stopDaemon, waitFor, withLock } from './proc.ts';

const NAME = 'redis';
const MARKER = 'redis-server';
export const redisLog = () => join(servicesDir(), 'logs', 'redis.log');

function redisBinary(): string {
  const bin = process.env.L8_REDIS_SERVER || '/usr/bin/redis-server';
  if (!existsSync(bin)) {
    throw new Error(`redis: ${bin} not found. Install it with \`apt-get install -y redis-server\` (or set L8_REDIS_SERVER to a redis-server binary).`);
  }
  return bin;
}

export function redisEnv(): RedisEnv {
  const port = envPort('L8_REDIS_PORT', readServicesEnv().redis?.port, 6379);
  return { url: `redis://127.0.0.1:${port}`, host: '127.0.0.1', port };
}

/** Sends PING and resolves when the server answers PONG (not LOADING or an error). */
export function redisPing(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    const fail = (msg: string) => {
      socket.destroy();
      reject(new Error(msg));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer to PING from ${host}:${port} within ${timeoutMs} ms`));
    socket.once('error', (err) => fail(`${host}:${port}: ${err.message}`));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      socket.destroy();
      if (reply.startsWith('+PONG')) resolve();
      else reject(new Error(`PING to ${host}:${port} answered ${JSON.stringify(reply.trim())}`));
    });
  });
}

function writeConfig(port: number): string {
  const dir = serviceDir(NAME);
  const dataDir = join(dir, 'data');
  serviceDir(join(NAME, 'data'));
  const conf = join(dir, 'redis.conf');
  writeFileSync(
    conf,
    [
      '# Written by scripts/services/redis.ts; rewritten on every start.',
      'bind 127.0.0.1',
      `port ${port}`,
      'daemonize no',
      'logfile ""',
      `dir ${dataDir}`,
      // No RDB snapshots: the AOF alone is the durable copy, fsynced before each reply.
      'save ""',
      'appendonly yes',
      'appendfsync always',
      // Tests write little; keep the AOF from being rewritten in the middle of a fault test.
      'auto-aof-rewrite-percentage 0',
      '',
    ].join('\n'),
  );
  return conf;
}

export function redisPid(): number | undefined {
  return runningPid(NAME, MARKER);
}

/** Starts Redis unless ours is running; resolves once it answers PING. */
export async function startRedis(): Promise<RedisEnv> {
  return withLock(async () => {
    const env = redisEnv();
    if (redisPid() === undefined) {
      await assertPortFree(env.port, 'redis', 'L8_REDIS_PORT');
      const conf = writeConfig(env.port);
      const pid = startDaemon({
        name: NAME,
        command: redisBinary(),
        args: [conf],
        cwd: serviceDir(NAME),
        logFile: redisLog(),
        marker: MARKER,
      });
      await waitFor(`redis on 127.0.0.1:${env.port}`, 30_000, async () => (await redisPing(env.port), true), {
        alive: () => redisPid() === pid,
        logFile: redisLog(),
      });
    } else {
      await redisPing(env.port);
    }
    updateServicesEnv('redis', env);
    return env;
  });
}

/** Stops our Redis (SIGTERM lets it finish the AOF; acknowledged writes are already fsynced). */
export async function stopRedis(): Promise<boolean> {
  return withLock(() => stopDaemon(NAME, MARKER, 15_000));
}

export async function redisStatus(): Promise<{ pid?: number; healthy: boolean; detail: string }> {
  const env = redisEnv();
  const pid = redisPid();
  try {
    await redisPing(env.port);
    return { pid, healthy: pid !== undefined, detail: pid !== undefined ? env.url : `${env.url} answers, but was not started by services:up` };
  } catch (err) {
    return { pid, healthy: false, detail: pid !== undefined ? `running but not answering: ${(err as Error).message}` : 'not running' };
  }
}
