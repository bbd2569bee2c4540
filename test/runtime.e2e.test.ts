// Issue "deploy a function and call it over HTTP", end to end: the real `l8 serve`
// process with the AssemblyScript examples, the real CLI, and the bad inputs a user
// will eventually send.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, startRuntimeProcess, tempDataDir, type RuntimeProcess } from './support/runtime-process.ts';

const { parse } = (await import('@bytecodealliance/jco')) as { parse: (wat: string) => Promise<Uint8Array> };
const AS_APP = join(ROOT, 'examples/assemblyscript/l8.yaml');
const AS_BUILD = join(ROOT, 'examples/assemblyscript/build');

describe('quick start: the AssemblyScript demo on embedded defaults', () => {
  const dataDir = tempDataDir();
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    runtime = await startRuntimeProcess({ dataDir, args: ['--app', AS_APP] });
  });
  afterAll(() => runtime?.stop());

  it('stores stock, answers inventory through invoke, and audits the event', async () => {
    const put = await fetch(`${runtime.httpUrl}/stock/book1`, { method: 'PUT', body: '100' });
    expect(put.status).toBe(200);
    expect(put.headers.get('x-message-id')).toMatch(/\S+/);
    const inventory = await fetch(`${runtime.httpUrl}/inventory?name=book1`);
    expect(await inventory.text()).toBe('There are 100 inventories for book1.');
    let audit = '';
    for (let i = 0; i < 50 && !audit.includes('book1=100'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      audit = await (await fetch(`${runtime.httpUrl}/audit`)).text();
    }
    expect(audit).toContain(`${put.headers.get('x-message-id')} book1=100`);
  });

  it('gives the same answer after a restart (state is persisted in the data dir)', async () => {
    await runtime.stop();
    runtime = await startRuntimeProcess({ dataDir, args: ['--app', AS_APP] });
    const inventory = await fetch(`${runtime.httpUrl}/inventory?name=book1`);
    expect(await inventory.text()).toBe('There are 100 inventories for book1.');
    // The app file was deployed again at start, but nothing changed: still v1.
    const list = await runtime.cli(['list', '--json']);
    const stock = (JSON.parse(list.stdout) as Array<{ name: string; version: number }>).find((f) => f.name === 'stock');
    expect(stock?.version).toBe(1);
  });

  it('answers an unknown route with 404 and a JSON error naming the request id', async () => {
    const response = await fetch(`${runtime.httpUrl}/nowhere`, { headers: { 'x-request-id': 'my-request-1' } });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'route_not_found', message: expect.stringContaining('no function serves GET /nowhere'), requestId: 'my-request-1' },
    });
  });

  it('exposes Prometheus metrics: requests, errors by kind, latency, instances, host calls', async () => {
    await fetch(`${runtime.httpUrl}/stock/book2`, { method: 'PUT', body: '5' });
    for (let i = 0; i < 50 && !(await (await fetch(`${runtime.httpUrl}/audit`)).text()).includes('book2=5'); i++) await new Promise((r) => setTimeout(r, 100));
    await fetch(`${runtime.httpUrl}/inventory?name=book1`);
    await fetch(`${runtime.httpUrl}/nowhere`);
    const text = await (await fetch(`${runtime.adminUrl}/metrics`)).text();
    expect(text).toMatch(/l8_function_requests_total\{function="inventory",code="2xx"\} [1-9]/);
    expect(text).toMatch(/l8_function_errors_total\{function="\(none\)",kind="other"\} [1-9]/);
    expect(text).toMatch(/l8_function_duration_seconds_bucket\{le="0\.1",function="inventory"\} [1-9]/);
    expect(text).toMatch(/l8_function_instances\{function="stock",state="live"\} [1-9]/);
    expect(text).toMatch(/l8_host_calls_total\{function="stock",call="state\.get",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/l8_pubsub_deliveries_total\{function="audit",topic="stock-changed",outcome="delivered"\} [1-9]/);
  });

  it('logs one structured line per request, with the request id', async () => {
    await fetch(`${runtime.httpUrl}/inventory?name=book1`, { headers: { 'x-request-id': 'trace-me-42' } });
    await new Promise((r) => setTimeout(r, 100));
    const line = runtime.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === 'trace-me-42' && l.msg === 'request');
    expect(line).toMatchObject({ fn: 'inventory', method: 'GET', path: '/inventory', status: 200 });
  });

  it('refuses a caller that forges the headers L8 sets', async () => {
    const response = await fetch(`${runtime.httpUrl}/stock/book1`, { headers: { 'l8-param-name': 'forged' } });
    expect(await response.text()).toBe('100');
  });
});

describe('the CLI against a running runtime', () => {
  let runtime: RuntimeProcess;
  const work = tempDataDir('l8-cli-');

  beforeAll(async () => {
    runtime = await startRuntimeProcess();
    const conformance = ['deploy', join(AS_BUILD, 'conformance.wasm'), '--name', 'conformance', '--route', 'ANY /conf/*', '--state', 'default', '--max-body-bytes', '4096'];
    const deployed = await runtime.cli(conformance);
    expect(deployed.stderr).toBe('');
    expect(deployed.stdout).toMatch(/deployed conformance v1/);
  });
  afterAll(() => runtime?.stop());

  it('deploys a bare module with routes from flags, lists, rolls back and removes it', async () => {
    const hello = join(AS_BUILD, 'hello.wasm');
    expect((await runtime.cli(['deploy', hello, '--name', 'hi', '--route', 'GET /hi'])).code).toBe(0);
    expect(await (await fetch(`${runtime.httpUrl}/hi`)).text()).toBe('Hello from AssemblyScript!');

    expect((await runtime.cli(['deploy', hello, '--name', 'hi', '--route', 'GET /hi2'])).stdout).toMatch(/deployed hi v2/);
    expect((await fetch(`${runtime.httpUrl}/hi`)).status).toBe(404);
    expect((await fetch(`${runtime.httpUrl}/hi2`)).status).toBe(200);

    const list = await runtime.cli(['list']);
    expect(list.stdout).toMatch(/^hi\s+v2\s+[0-9a-f]{12}\s+GET \/hi2$/m);

    expect((await runtime.cli(['rollback', 'hi'])).stdout).toMatch(/hi is back at v1/);
    expect((await fetch(`${runtime.httpUrl}/hi`)).status).toBe(200);
    expect((await fetch(`${runtime.httpUrl}/hi2`)).status).toBe(404);

    const tooFar = await runtime.cli(['rollback', 'hi']);
    expect(tooFar.code).toBe(1);
    expect(tooFar.stderr).toMatch(/no version before v1/);

    expect((await runtime.cli(['rm', 'hi'])).code).toBe(0);
    expect((await fetch(`${runtime.httpUrl}/hi`)).status).toBe(404);
  });

  it('invokes a function directly and shows its logs', async () => {
    await runtime.cli(['deploy', join(AS_BUILD, 'hello.wasm'), '--name', 'hello', '--route', 'GET /hello']);
    const invoked = await runtime.cli(['invoke', 'hello']);
    expect(invoked.stdout.trim()).toBe('Hello from AssemblyScript!');
    const logs = await runtime.cli(['logs', 'hello']);
    expect(logs.stdout).toMatch(/INFO\s+\[log\] \S+ hello called/);
  });

  it('rejects a file that is not WebAssembly, and keeps serving', async () => {
    const file = join(work, 'not.wasm');
    writeFileSync(file, 'fn main() {}');
    const result = await runtime.cli(['deploy', file, '--name', 'bad', '--route', 'GET /bad']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not a WebAssembly binary/);
    expect((await fetch(`${runtime.httpUrl}/conf/echo`)).status).toBe(200);
  });

  it('rejects a module with a foreign import, naming the import', async () => {
    const wat = readFileSync(join(ROOT, 'test/fixtures/probe.wat'), 'utf8').replace('(import "l8:faas/log@0.1.0" "write"', '(import "env" "abort"');
    const file = join(work, 'foreign.wasm');
    writeFileSync(file, await parse(wat));
    const result = await runtime.cli(['deploy', file, '--name', 'foreign', '--route', 'GET /foreign']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/import "env" "abort" is not part of the L8 ABI/);
  });

  it('answers a trap with 500 and a JSON body naming the request id', async () => {
    const response = await fetch(`${runtime.httpUrl}/conf/trap`);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe('trap');
    expect(body.error.message).toMatch(/function "conformance" trapped/);
    expect(body.error.requestId).toBe(response.headers.get('l8-request-id'));
    expect((await fetch(`${runtime.httpUrl}/conf/echo`)).status).toBe(200);
  });

  it('answers an oversized body with 413', async () => {
    const response = await fetch(`${runtime.httpUrl}/conf/echo`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/larger than function "conformance" accepts \(4096 bytes\)/);
  });

  it('denies a store the function did not declare', async () => {
    const response = await fetch(`${runtime.httpUrl}/conf/state/k?store=other-allowed`);
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/^denied: state store "other-allowed" is not granted to function "conformance"; add it to capabilities.state/);
  });

  it('refuses admin calls without the token or with a wrong one', async () => {
    const missing = await fetch(`${runtime.adminUrl}/v1/functions`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/missing admin token/);
    const wrong = await runCli(['list'], { L8_ADMIN_URL: runtime.adminUrl, L8_ADMIN_TOKEN: 'not-the-token' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong admin token/);
  });
});
