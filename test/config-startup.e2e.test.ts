// Runtime config end to end: a config file change reaches a running function without a
// restart, and a wrong or unreachable backend stops the start with an error naming it.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { L8_BIN, ROOT, startRuntimeProcess, tempDataDir, type RuntimeProcess } from './support/runtime-process.ts';

describe('config from a file, reloaded live', () => {
  const dir = tempDataDir('l8-config-');
  const values = join(dir, 'values.yaml');
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    writeFileSync(values, 'greeting: Hi\n');
    writeFileSync(join(dir, 'runtime.yaml'), stringify({ components: { config: { default: { type: 'file', path: values } } } }));
    writeFileSync(join(dir, 'app.yaml'), stringify({
      functions: { greeting: { module: join(ROOT, 'examples/assemblyscript/build/greeting.wasm'), routes: ['GET /greeting'], capabilities: { config: ['greeting'] } } },
    }));
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')] });
  });
  afterAll(() => runtime?.stop());

  it('answers with the new value after the file changes, without a restart', async () => {
    expect(await (await fetch(`${runtime.httpUrl}/greeting?name=Ada`)).text()).toBe('Hi, Ada!');
    writeFileSync(values, 'greeting: Howdy\n');
    let answer = '';
    for (let i = 0; i < 50 && answer !== 'Howdy, Ada!'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await (await fetch(`${runtime.httpUrl}/greeting?name=Ada`)).text();
    }
    expect(answer).toBe('Howdy, Ada!');
  });
});

function serveAndFail(config: object): Promise<{ code: number | null; stderr: string }> {
  const dir = tempDataDir('l8-bad-');
  writeFileSync(join(dir, 'runtime.yaml'), stringify(config));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [L8_BIN, 'serve', '--config', join(dir, 'runtime.yaml'), '--data-dir', join(dir, 'data'), '--port', '0', '--admin-port', '0'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a backend that cannot start', () => {
  it('stops the start with an error naming the unreachable component', async () => {
    const { code, stderr } = await serveAndFail({ components: { state: { default: { type: 'redis', url: 'redis://127.0.0.1:1', connectTimeoutMs: 500 } } } });
    expect(code).toBe(1);
    expect(stderr).toMatch(/component state\/default \(redis\) failed to start: .*127\.0\.0\.1:1/);
  });

  it('stops the start with an error naming an unknown backend type and the known ones', async () => {
    const { code, stderr } = await serveAndFail({ components: { pubsub: { orders: { type: 'rabbitmq' } } } });
    expect(code).toBe(1);
    expect(stderr).toMatch(/component pubsub\/orders: unknown type "rabbitmq"; pubsub backends are: memory, .*kafka/);
  });
});
