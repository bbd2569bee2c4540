// The Go SDK and the Go examples: the SDK's Go tests (natively and as wasm under
// WASI), the examples' modules against the ABI, and the demo end to end through a
// real runtime. Needs Go >= 1.24 on PATH (CI installs it).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, functions } from '../../examples/tinygo/build.ts';
import { checkModule } from '../../host/core/module-check.ts';
import { loadRuntimeConfig } from '../../runtime/config.ts';
import { startRuntime, type Runtime } from '../../runtime/runtime.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const examples = path.join(here, '../../examples/tinygo');

function go(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('go', args, { cwd: here, env: { ...process.env, GOTOOLCHAIN: 'local', GOWORK: 'off', ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`go ${args.join(' ')} failed:\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('Go SDK', () => {
  it('passes its Go tests natively (requests, query decoding, UTF-8, errors)', async () => {
    expect(await go(['test', '-count=1', './...'])).toMatch(/^ok\s+l8\.dev\/l8/m);
  });

  it('passes its Go tests as a wasip1 module (cabi_realloc, GC safety, lifting, exports)', async () => {
    const exec = `"${process.execPath}" "${path.join(here, 'testdata/wasip1_exec.mjs')}"`;
    expect(await go(['test', '-count=1', '-exec', exec, './...'], { GOOS: 'wasip1', GOARCH: 'wasm' })).toMatch(/^ok\s+l8\.dev\/l8/m);
  });
});

const WASI_IMPORTS = [
  'args_get', 'args_sizes_get', 'clock_time_get', 'environ_get', 'environ_sizes_get', 'fd_write',
  'poll_oneoff', 'proc_exit', 'random_get', 'sched_yield',
];
// fmt and os (used by conformance for stdout/stderr) add the stdio file calls.
const WASI_IMPORTS_WITH_OS = [...WASI_IMPORTS, 'fd_close', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_prestat_dir_name', 'fd_prestat_get'];
const state = ['l8:faas/state@0.2.0 get', 'l8:faas/state@0.2.0 set'];
const EXPECTED_L8_IMPORTS: Record<string, string[]> = {
  hello: ['l8:faas/log@0.2.0 write'],
  stock: [...state, 'l8:faas/pubsub@0.2.0 publish'],
  inventory: ['l8:faas/invoke@0.2.0 call'],
  audit: state,
  counter: state,
  greeting: ['l8:faas/config@0.2.0 get'],
  notify: ['l8:faas/pubsub@0.2.0 publish'],
  ticket: ['l8:faas/lock@0.2.0 try-lock', 'l8:faas/lock@0.2.0 unlock', 'l8:faas/sequencer@0.2.0 next-id'],
  conformance: [
    ...state, 'l8:faas/state@0.2.0 delete', 'l8:faas/pubsub@0.2.0 publish', 'l8:faas/config@0.2.0 get',
    'l8:faas/invoke@0.2.0 call', 'l8:faas/log@0.2.0 write', 'l8:faas/lock@0.2.0 try-lock', 'l8:faas/lock@0.2.0 unlock',
    'l8:faas/lock@0.2.0 keep-alive', 'l8:faas/sequencer@0.2.0 next-id',
  ],
};
const EXPORTS = [
  '_initialize', 'cabi_post_l8:faas/http-handler@0.2.0#handle', 'cabi_post_l8:faas/subscriber@0.2.0#on-message',
  'cabi_realloc', 'l8:faas/http-handler@0.2.0#handle', 'l8:faas/subscriber@0.2.0#on-message', 'memory',
];

describe('Go examples', () => {
  let runtime: Runtime;
  let dataDir: string;

  beforeAll(async () => {
    await build({ log: () => {} });
    dataDir = mkdtempSync(path.join(tmpdir(), 'l8-go-'));
    // The conformance module with reuse: true and a small memory limit, to show
    // that the SDK frees what it allocates per call (a leak would hit the limit).
    copyFileSync(path.join(examples, 'build/conformance.wasm'), path.join(dataDir, 'conformance.wasm'));
    writeFileSync(
      path.join(dataDir, 'reuse.yaml'),
      [
        'functions:',
        '  go-conformance-reuse:',
        '    module: conformance.wasm',
        '    routes: [ANY /conf/*]',
        '    reuse: true',
        '    limits: { memoryMb: 16 }',
        '    capabilities: { lock: [default] }',
        '',
      ].join('\n'),
    );
    const config = loadRuntimeConfig(undefined, { host: '127.0.0.1', port: 0, adminHost: '127.0.0.1', adminPort: 0, dataDir, logLevel: 'warn' });
    runtime = await startRuntime(config, { apps: [path.join(examples, 'l8.yaml'), path.join(dataDir, 'reuse.yaml')] });
  });

  afterAll(async () => {
    await runtime?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('builds one module per function folder', async () => {
    expect(await functions()).toEqual(Object.keys(EXPECTED_L8_IMPORTS).sort());
  });

  it.each(Object.keys(EXPECTED_L8_IMPORTS))('%s imports and exports exactly what abi/README.md lists', (name) => {
    const bytes = readFileSync(path.join(examples, `build/${name}.wasm`));
    const checked = checkModule(bytes); // the host's own deploy-time check, signatures included
    expect(checked.hasInitialize).toBe(true);
    const module = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module} ${i.name}`);
    expect(imports.filter((i) => !i.startsWith('wasi_snapshot_preview1 ')).sort()).toEqual([...EXPECTED_L8_IMPORTS[name]!].sort());
    // Go's runtime and package syscall both import fd_write; duplicates are allowed.
    const wasi = [...new Set(imports.filter((i) => i.startsWith('wasi_snapshot_preview1 ')).map((i) => i.split(' ')[1]))];
    expect(wasi.sort()).toEqual([...(name === 'conformance' ? WASI_IMPORTS_WITH_OS : WASI_IMPORTS)].sort());
    expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(EXPORTS);
  });

  const get = async (url: string, init?: RequestInit) => {
    const res = await fetch(`${runtime.httpUrl}${url}`, init);
    return { status: res.status, headers: res.headers, body: await res.text() };
  };

  it('hello logs and greets', async () => {
    expect(await get('/hello')).toMatchObject({ status: 200, body: 'Hello from Go!' });
    const logs = await fetch(`${runtime.adminUrl}/v1/functions/hello/logs`, { headers: { authorization: `Bearer ${runtime.adminToken}` } });
    const lines = (await logs.text()).trim().split('\n').map((l) => JSON.parse(l) as { level: string; source: string; message: string });
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', source: 'log', message: 'hello called' }));
  });

  it('runs the demo: stock, inventory, audit', async () => {
    const put = await get('/stock/go-book', { method: 'PUT', body: '42' });
    expect(put).toMatchObject({ status: 200, body: '42' });
    const messageId = put.headers.get('x-message-id');
    expect(messageId).toMatch(/\S/);
    expect(await get('/stock/go-book', { method: 'PUT', body: '-1' })).toEqual(
      expect.objectContaining({ status: 400, body: "stock count must be a non-negative integer, got '-1'" }),
    );
    expect(await get('/stock/go-book')).toMatchObject({ status: 200, body: '42' });
    expect(await get('/stock/go-none')).toMatchObject({ status: 404, body: 'no stock recorded for go-none' });
    expect(await get('/inventory?name=go-book')).toMatchObject({ status: 200, body: 'There are 42 inventories for go-book.' });
    expect(await get('/inventory?name=go-none')).toMatchObject({ status: 404, body: 'There is no inventory for go-none.' });
    expect(await get('/inventory')).toMatchObject({ status: 400, body: "missing query parameter 'name'" });
    // audit hears about the change through pub/sub, asynchronously.
    const deadline = Date.now() + 10_000;
    let audit = '';
    while (Date.now() < deadline && !audit.includes(`${messageId} go-book=42\n`)) {
      audit = (await get('/audit')).body;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(audit).toContain(`${messageId} go-book=42\n`);
  });

  it('runs ticket (lock + sequencer): increasing tickets, 409 while the queue is locked', async () => {
    const first = await get('/ticket/go-q', { method: 'POST' });
    expect(first).toMatchObject({ status: 200, body: expect.stringMatching(/^ticket \d+$/) });
    const second = await get('/ticket/go-q', { method: 'POST' });
    expect(Number(second.body.slice(7))).toBeGreaterThan(Number(first.body.slice(7)));
    // Someone else (the conformance function) holds the queue: busy until it lets go.
    expect(await get('/conf/lock/queue/go-q?owner=someone-else', { method: 'POST' })).toMatchObject({ status: 200, body: 'taken' });
    const busy = await get('/ticket/go-q', { method: 'POST' });
    expect(busy).toMatchObject({ status: 409, body: 'queue go-q is busy' });
    expect(busy.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await get('/conf/lock/queue/go-q?owner=someone-else', { method: 'DELETE' })).toMatchObject({ status: 200, body: 'success' });
    expect(await get('/ticket/go-q', { method: 'POST' })).toMatchObject({ status: 200, body: `ticket ${Number(second.body.slice(7)) + 1}` });
  });

  it('runs one function per capability: counter, greeting, notify', async () => {
    expect(await get('/counter/go-c', { method: 'POST' })).toMatchObject({ status: 200, body: '1' });
    expect(await get('/counter/go-c', { method: 'POST' })).toMatchObject({ status: 200, body: '2' });
    expect(await get('/greeting?name=J%C3%BCrgen+M')).toMatchObject({ status: 200, body: 'Hello, Jürgen M!' });
    expect(await get('/greeting')).toMatchObject({ status: 200, body: 'Hello, world!' });
    const notified = await get('/notify/go-topic', { method: 'POST', body: 'hi' });
    expect(notified.status).toBe(202);
    expect(notified.body).toMatch(/\S/);
  });

  it('keeps guest state with reuse: true without leaking per call', async () => {
    expect(await get('/conf/global')).toMatchObject({ status: 200, body: '1' });
    expect(await get('/conf/global')).toMatchObject({ status: 200, body: '2' });
    // 40 MiB of request bodies and thousands of header strings through a 16 MiB
    // memory: only works if arguments and results are released after each call.
    const body = new Uint8Array(1 << 20).map((_, i) => i % 251);
    const headers: Record<string, string> = {};
    for (let i = 0; i < 50; i++) headers[`x-test-h${i}`] = `value ${i}`;
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${runtime.httpUrl}/conf/echo/${i}`, { method: 'POST', body, headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-test-h49')).toBe('value 49');
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
    }
    expect(await get('/conf/global')).toMatchObject({ status: 200, body: '3' });
  });
});
