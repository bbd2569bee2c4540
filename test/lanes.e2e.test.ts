// All cores: with `--workers N` the runtime serves function traffic from N worker
// threads plus the main thread on one port. Every lane must see the same functions and
// the same state, a deploy must reach all of them before it returns, and /metrics must
// count the requests of every lane.
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startRuntimeProcess, type RuntimeProcess } from './support/runtime-process.ts';

const AS_BUILD = join(ROOT, 'examples/assemblyscript/build');

/** A fresh connection per request, so the kernel spreads requests over the lanes. */
function fresh(url: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('worker lanes', () => {
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    runtime = await startRuntimeProcess({ args: ['--workers', '2', '--app', join(ROOT, 'examples/assemblyscript/l8.yaml')] });
  });
  afterAll(() => runtime?.stop());

  it('serves from every lane with one shared state', async () => {
    await fresh(`${runtime.httpUrl}/stock/lanes`, { method: 'PUT', body: '7' });
    const answers = new Set<string>();
    for (let i = 0; i < 30; i++) answers.add((await fresh(`${runtime.httpUrl}/inventory?name=lanes`)).text);
    expect([...answers]).toEqual(['There are 7 inventories for lanes.']);
    const counts = [];
    for (let i = 0; i < 12; i++) counts.push(Number((await fresh(`${runtime.httpUrl}/counter/shared`, { method: 'POST' })).text));
    expect(counts).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const lanes = new Set(runtime.logs.map((l) => JSON.parse(l) as { msg?: string; lane?: number }).filter((l) => l.msg === 'request').map((l) => l.lane ?? 'main'));
    expect(lanes.size).toBeGreaterThanOrEqual(2);
  });

  it('has a new version in every lane once deploy returns', async () => {
    const hello = join(AS_BUILD, 'hello.wasm');
    expect((await runtime.cli(['deploy', hello, '--name', 'switch', '--route', 'GET /switch-a'])).code).toBe(0);
    for (let i = 0; i < 10; i++) expect((await fresh(`${runtime.httpUrl}/switch-a`)).status).toBe(200);
    expect((await runtime.cli(['deploy', hello, '--name', 'switch', '--route', 'GET /switch-b'])).code).toBe(0);
    for (let i = 0; i < 20; i++) {
      expect((await fresh(`${runtime.httpUrl}/switch-a`)).status).toBe(404);
      expect((await fresh(`${runtime.httpUrl}/switch-b`)).status).toBe(200);
    }
  });

  it('counts the requests of every lane in /metrics', async () => {
    const before = await counter();
    for (let i = 0; i < 20; i++) await fresh(`${runtime.httpUrl}/hello`);
    expect((await counter()) - before).toBe(20);
  });

  async function counter(): Promise<number> {
    const text = await (await fetch(`${runtime.adminUrl}/metrics`)).text();
    return Number(/l8_function_requests_total\{function="hello",code="2xx"\} (\d+)/.exec(text)?.[1] ?? 0);
  }
});
