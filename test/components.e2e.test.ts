// WebAssembly components in a real runtime process: what L8 refuses at deploy, what a
// component can reach (environment, files, outgoing HTTP — only what its manifest
// grants, separately for each function) and the limits (timeout, memory) on the
// component path for a JavaScript component, a wrapped Rust core module and a wasi:http
// component. The conformance suite (test/conformance/) checks their behaviour over HTTP
// routes; here functions are called by name through the admin API (`l8 invoke`), so
// several of them can answer the same paths in one runtime.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapCoreModule } from '../host/component/wrap.ts';
import { readAdminToken } from '../runtime/admin/token.ts';
import { requireBuild } from './support/languages.ts';
import { startRuntimeProcess, tempDataDir, type RuntimeProcess } from './support/runtime-process.ts';

const jco = (await import('@bytecodealliance/jco')) as unknown as {
  parse(wat: string): Promise<Uint8Array>;
  componentEmbed(opts: { binary: Uint8Array; witSource: string; world: string }): Promise<Uint8Array>;
  componentNew(bytes: Uint8Array): Promise<Uint8Array>;
};

interface Upstream {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

/** A local HTTP server that records the paths it was asked for. */
async function upstream(handler: (path: string) => { status: number; headers?: Record<string, string>; body: string }): Promise<Upstream> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const answer = handler(req.url ?? '');
    res.writeHead(answer.status, answer.headers).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface Invoked {
  status: number;
  body: string;
  /** The error code when the call failed (timeout, memory_limit, ...). */
  code?: string;
  message?: string;
}

/** Calls function `name` with `path` (and query, body) through the admin API. */
async function invoke(name: string, path: string, options: { query?: string; method?: string; body?: string } = {}): Promise<Invoked> {
  const token = readAdminToken(runtime.dataDir, {});
  const response = await fetch(`${runtime.adminUrl}/v1/functions/${name}/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ method: options.method ?? 'GET', path, query: options.query ?? '', body: options.body }),
  });
  const json = (await response.json()) as { status?: number; body?: string; bodyBase64?: string; error?: { code: string; message: string } };
  if (json.error) return { status: response.status, body: '', code: json.error.code, message: json.error.message };
  return { status: json.status!, body: json.body ?? Buffer.from(json.bodyBase64 ?? '', 'base64').toString() };
}

const answer = async (name: string, path: string, options: { query?: string; method?: string; body?: string } = {}): Promise<[number, string]> => {
  const result = await invoke(name, path, options);
  return [result.status, result.body];
};

let runtime: RuntimeProcess;
let dir: string;
let allowed: Upstream;
let forbidden: Upstream;
const HOST_SECRET = 'l8-host-secret-value';

beforeAll(async () => {
  dir = tempDataDir('l8-components-');
  forbidden = await upstream(() => ({ status: 200, body: 'you should not see this' }));
  allowed = await upstream((path) => (path === '/redirect' ? { status: 302, headers: { location: `${forbidden.url}/stolen` }, body: 'moved' } : { status: 200, body: `upstream saw ${path}` }));

  const probe = (await wrapCoreModule(await jco.parse(readFileSync(new URL('fixtures/wasi-probe.wat', import.meta.url), 'utf8')))).component;
  writeFileSync(join(dir, 'wasi-probe.wasm'), probe);
  const rust = (await wrapCoreModule(readFileSync(requireBuild('rust', 'conformance')))).component;
  writeFileSync(join(dir, 'rust-conformance.wasm'), rust);

  for (const sub of ['shared', 'readonly', 'other', 'outside']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'shared', 'greeting.txt'), 'hello from the host');
  writeFileSync(join(dir, 'readonly', 'fixed.txt'), 'unchanged');
  writeFileSync(join(dir, 'other', 'private.txt'), 'private to other');
  writeFileSync(join(dir, 'outside', 'secret.txt'), 'not granted');

  const limited = { timeoutMs: 1500, memoryMb: 48 };
  // Invoke-only functions (no routes): the tests call them by name.
  const app = {
    functions: {
      probe: {
        module: join(dir, 'wasi-probe.wasm'),
        config: { GREETING: 'hi', 'feature.flag': 'on' },
        capabilities: { files: [{ host: join(dir, 'shared'), guest: '/data', readOnly: false }] },
      },
      'probe-readonly': {
        module: join(dir, 'wasi-probe.wasm'),
        capabilities: { files: [{ host: join(dir, 'readonly'), guest: '/config' }] },
      },
      'probe-other': {
        module: join(dir, 'wasi-probe.wasm'),
        capabilities: { files: [{ host: join(dir, 'other'), guest: '/data', readOnly: false }] },
      },
      'probe-bare': { module: join(dir, 'wasi-probe.wasm') },
      fetcher: {
        module: requireBuild('javascript', 'conformance-http'),
        capabilities: { outboundHosts: [allowed.url] },
        limits: limited,
      },
      'fetcher-bare': { module: requireBuild('javascript', 'conformance-http'), limits: limited },
      js: { module: requireBuild('javascript', 'conformance'), limits: limited },
      rust: { module: join(dir, 'rust-conformance.wasm'), limits: { timeoutMs: 1500, memoryMb: 16 } },
    },
  };
  writeFileSync(join(dir, 'app.yaml'), stringify(app));
  runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--app', join(dir, 'app.yaml')], env: { L8_TEST_HOST_SECRET: HOST_SECRET }, timeoutMs: 90_000 });
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  await allowed?.close();
  await forbidden?.close();
});

describe('deploy', () => {
  it('refuses a component that imports what L8 does not provide, naming the import', async () => {
    const component = await jco.componentNew(
      await jco.componentEmbed({
        binary: await jco.parse(
          '(module (import "acme:kv/store@1.0.0" "get" (func (result i32))) (memory (export "memory") 1)' +
            ' (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 8) (func (export "run")))',
        ),
        witSource: 'package acme:kv@1.0.0;\ninterface store { get: func() -> u32; }\nworld w { import store; export run: func(); }',
        world: 'w',
      }),
    );
    writeFileSync(join(dir, 'foreign.wasm'), component);
    const result = await runtime.cli(['deploy', join(dir, 'foreign.wasm'), '--name', 'foreign', '--route', 'GET /foreign']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/imports "acme:kv\/store@1\.0\.0", which L8 does not provide/);
  });
});

describe('deploy of grants', () => {
  it('refuses a files grant of a directory that does not exist, naming it', async () => {
    const missing = join(dir, 'no-such-dir');
    writeFileSync(join(dir, 'missing-dir.yaml'), stringify({ name: 'missing-dir', module: join(dir, 'wasi-probe.wasm'), capabilities: { files: [{ host: missing, guest: '/data' }] } }));
    const result = await runtime.cli(['deploy', join(dir, 'missing-dir.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the granted directory ${missing} does not exist`);
  });

  it('refuses component grants on a core module', async () => {
    writeFileSync(join(dir, 'core-grants.yaml'), stringify({ name: 'core-grants', module: requireBuild('rust', 'conformance'), capabilities: { outboundHosts: ['example.com'] } }));
    const result = await runtime.cli(['deploy', join(dir, 'core-grants.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/grants capabilities.outboundHosts, which only WebAssembly components can use/);
  });
});

describe('isolation', () => {
  it('shows a component its config literals as environment variables, and nothing of the host', async () => {
    const [status, body] = await answer('probe', '/env');
    expect(status).toBe(200);
    expect(body.split('\n').filter(Boolean).sort()).toEqual(['GREETING=hi', 'feature.flag=on']);
    expect(body).not.toContain(HOST_SECRET);
    expect(await answer('probe-bare', '/env')).toEqual([200, '']);
  });

  it('reads and writes the directory its manifest grants', async () => {
    expect(await answer('probe', '/read', { query: 'greeting.txt' })).toEqual([200, 'hello from the host']);
    expect(await answer('probe', '/write', { query: 'made-by-guest.txt', method: 'PUT', body: 'written by a component' })).toEqual([204, '']);
    expect(readFileSync(join(dir, 'shared', 'made-by-guest.txt'), 'utf8')).toBe('written by a component');
  });

  it('cannot leave the granted directory, change a read-only grant, or see another function\'s files', async () => {
    for (const path of ['../outside/secret.txt', '/etc/passwd', '../other/private.txt']) {
      const [status, body] = await answer('probe', '/read', { query: path });
      expect([status, body], path).toEqual([500, expect.stringMatching(/^errno \d+$/)]);
    }
    expect(await answer('probe-readonly', '/read', { query: 'fixed.txt' })).toEqual([200, 'unchanged']);
    const [status, body] = await answer('probe-readonly', '/write', { query: 'fixed.txt', method: 'PUT', body: 'changed' });
    expect([status, body]).toEqual([500, expect.stringMatching(/^errno \d+$/)]);
    expect(readFileSync(join(dir, 'readonly', 'fixed.txt'), 'utf8')).toBe('unchanged');
    // Same module, same guest path, another function: its own directory only.
    expect(await answer('probe-other', '/read', { query: 'private.txt' })).toEqual([200, 'private to other']);
    expect((await answer('probe-other', '/read', { query: 'greeting.txt' }))[0]).toBe(500);
    expect((await answer('probe-bare', '/read', { query: 'greeting.txt' }))[0]).toBe(500);
  });

  it('sends outgoing HTTP only to allowed hosts, and does not follow redirects elsewhere', async () => {
    const fetchVia = (name: string, target: string) => answer(name, '/conf/fetch', { query: `url=${encodeURIComponent(target)}` });
    expect(await fetchVia('fetcher', `${allowed.url}/hello`)).toEqual([200, 'upstream saw /hello']);
    expect(allowed.hits).toContain('/hello');

    const [status, body] = await fetchVia('fetcher', `${forbidden.url}/direct`);
    expect([status, body]).toEqual([502, expect.stringMatching(/^fetch failed/)]);
    expect((await fetchVia('fetcher-bare', `${allowed.url}/bare`))[0]).toBe(502);
    expect(allowed.hits).not.toContain('/bare');

    const redirected = await fetchVia('fetcher', `${allowed.url}/redirect`);
    expect(redirected[0]).not.toBe(200);
    expect(forbidden.hits).toEqual([]);

    const logs = (await runtime.cli(['logs', 'fetcher', '--json'])).stdout;
    expect(logs).toContain(`outgoing HTTP request to http://${new URL(forbidden.url).host} was denied: add`);
  });
});

describe('limits on the component path', () => {
  const cases = [
    { form: 'JavaScript component', name: 'js', memoryMb: 48 },
    { form: 'wrapped Rust core module', name: 'rust', memoryMb: 16 },
    { form: 'wasi:http component', name: 'fetcher', memoryMb: 48 },
  ];

  for (const { form, name, memoryMb } of cases) {
    it(`${form}: a runaway guest is stopped at its timeout while other requests keep being served`, async () => {
      const started = performance.now();
      const runaway = invoke(name, '/conf/spin').then((result) => ({ ...result, at: performance.now() - started }));
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 3; i++) {
        const before = performance.now();
        expect(await answer(name, '/conf/status/200')).toEqual([200, 'status 200']);
        expect(performance.now() - before, 'served while the runaway spins').toBeLessThan(1000);
      }
      const stopped = await runaway;
      expect([stopped.status, stopped.code]).toEqual([504, 'timeout']);
      expect(stopped.at).toBeGreaterThanOrEqual(1400);
      expect(stopped.at).toBeLessThan(5000);
      expect(await answer(name, '/conf/global')).toEqual([200, '1']);
    });

    it(`${form}: running out of memory is a memory_limit error, then the function serves again`, async () => {
      const result = await invoke(name, '/conf/grow', { query: `mb=${memoryMb * 2}` });
      expect([result.status, result.code], result.message).toEqual([500, 'memory_limit']);
      expect(result.message).toContain(`${memoryMb} MiB limit`);
      expect(await answer(name, '/conf/grow', { query: 'mb=1' })).toEqual([200, 'grew 1']);
    });
  }
});
