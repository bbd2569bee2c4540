// Isolation and limits through the real runtime: fresh state per request or reuse,
// a runaway guest stopped while others are served, and each limit's documented error.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startRuntimeProcess, tempDataDir, type RuntimeProcess } from './support/runtime-process.ts';

const CONFORMANCE = join(ROOT, 'examples/assemblyscript/build/conformance.wasm');

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

describe('isolation and limits', () => {
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    const dir = tempDataDir('l8-limits-');
    const fn = (extra: Record<string, unknown>) => ({ module: CONFORMANCE, ...extra });
    writeFileSync(join(dir, 'app.yaml'), stringify({
      functions: {
        fresh: fn({ routes: ['GET /conf/global'] }),
        // Invoke-only (no routes): called through `l8 invoke` with the path it understands.
        warm: fn({ reuse: true }),
        runaway: fn({ routes: ['GET /conf/spin'], limits: { timeoutMs: 300 } }),
        echo: fn({ routes: ['ANY /conf/echo'] }),
        hungry: fn({ routes: ['GET /conf/grow'], limits: { memoryMb: 16 } }),
        traps: fn({ routes: ['GET /conf/trap'] }),
      },
    }));
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--app', join(dir, 'app.yaml')] });
  });
  afterAll(() => runtime?.stop());

  it('gives every request fresh guest state by default', async () => {
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await (await fetch(`${runtime.httpUrl}/conf/global`)).text());
    expect(answers).toEqual(['1', '1', '1', '1', '1']);
  });

  it('keeps guest state between requests in reuse mode', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await runtime.cli(['invoke', 'warm', '--path', '/conf/global'])).stdout.trim());
    expect(answers).toEqual(['1', '2', '3']);
  });

  it('stops a runaway guest with 504 while other requests keep being served', async () => {
    const started = performance.now();
    const runaway = fetch(`${runtime.httpUrl}/conf/spin`);
    const others: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      expect((await fetch(`${runtime.httpUrl}/conf/echo`, { method: 'POST', body: 'x' })).status).toBe(200);
      others.push(performance.now() - t);
    }
    const response = await runaway;
    const took = performance.now() - started;
    expect(response.status).toBe(504);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('timeout');
    expect(body.error.message).toMatch(/function "runaway" did not finish within its 300 ms timeout/);
    expect(took).toBeLessThan(1500);
    // Served while the runaway spun, not after it.
    expect(others.reduce((a, b) => a + b, 0)).toBeLessThan(took);
  });

  it('answers 500 memory_limit when a guest outgrows its memory', async () => {
    const response = await fetch(`${runtime.httpUrl}/conf/grow?mb=64`);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('memory_limit');
    expect(body.error.message).toMatch(/16 MiB limit/);
    expect((await fetch(`${runtime.httpUrl}/conf/grow?mb=1`)).status).toBe(200);
  });

  it('survives 1,000 trapping requests in a row without growing memory without bound', async () => {
    const hit = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await fetch(`${runtime.httpUrl}/conf/trap`)).status).toBe(500);
    };
    await hit(200); // warm up: JIT, pools, allocator
    const before = rssMiB(runtime.child.pid!);
    await hit(1000);
    const after = rssMiB(runtime.child.pid!);
    expect(after - before).toBeLessThan(64);
    expect((await fetch(`${runtime.httpUrl}/conf/echo`, { method: 'POST', body: 'still here' })).status).toBe(200);
  }, 120_000);
});

describe('the concurrency limit', () => {
  let single: RuntimeProcess;

  beforeAll(async () => {
    const dir = tempDataDir('l8-single-');
    writeFileSync(join(dir, 'app.yaml'), stringify({ functions: { single: { module: CONFORMANCE, routes: ['GET /conf/spin'], limits: { maxConcurrency: 1, timeoutMs: 1500 } } } }));
    writeFileSync(join(dir, 'runtime.yaml'), stringify({ limits: { maxQueue: 1 } }));
    single = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')] });
  });
  afterAll(() => single?.stop());

  it('queues beyond maxConcurrency, then answers 503 with Retry-After', async () => {
    const spin = () => fetch(`${single.httpUrl}/conf/spin`);
    const first = spin();
    await new Promise((r) => setTimeout(r, 100));
    const queued = spin();
    await new Promise((r) => setTimeout(r, 100));
    const refused = await spin();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string; message: string } }).error.message).toMatch(/function "single" is at its concurrency limit \(1 running, 1 waiting\)/);
    expect((await first).status).toBe(504);
    expect((await queued).status).toBe(504);
  });
});
