// A Redis of this test file's own, driven with the services library's own controls
// (scripts/services: startRedis / stopRedis) in a private services directory on a free
// port, so stopping it does not disturb the shared Redis other test files use.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../support/free-port.ts';

const servicesModule = pathToFileURL(resolve(import.meta.dirname, '../../scripts/services/index.ts')).href;


export interface PrivateRedisService {
  url: string;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPrivateRedisService(): Promise<PrivateRedisService> {
  const dir = mkdtempSync(join(tmpdir(), 'l8-private-services-'));
  const port = await freePort();
  const env = { ...process.env, L8_SERVICES_DIR: dir, L8_REDIS_PORT: String(port) };
  // The services library keeps a lock and pid files in its directory: run each control in a child.
  const call = (fn: 'startRedis' | 'stopRedis') =>
    new Promise<void>((resolveCall, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(servicesModule)}); await m.${fn}();`], { env, timeout: 60_000 }, (error, _stdout, stderr) =>
        error ? reject(new Error(`${fn} of the private Redis failed: ${stderr || error.message}`)) : resolveCall(),
      );
    });
  await call('startRedis');
  return {
    url: `redis://127.0.0.1:${port}`,
    stopRedis: () => call('stopRedis'),
    startRedis: () => call('startRedis'),
    dispose: async () => {
      await call('stopRedis').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
