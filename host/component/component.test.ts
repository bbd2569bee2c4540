// The component path on its own: the hand-written ABI module of the host tests
// (test/fixtures/probe.wat) wrapped into a component with standard tooling, then run
// through transpile -> instrument -> instance pool -> calls, with the capabilities
// replaced by plain functions. Limits and fresh state must behave as for the core form.
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../call-context.ts';
import { L8Error } from '../errors.ts';
import { LoadedFunction, type FunctionLimits } from '../loaded-function.ts';
import { ComponentCompiled, componentForm } from './component-form.ts';
import { NodeFilesystemAdapter } from './node-filesystem.ts';
import { WasiHost } from './wasi-host.ts';
import { checkComponent } from './world.ts';
import { describeCoreModule, wrapCoreModule } from './wrap.ts';
import { hostServices, probeStateGet, testLimits as limits } from '../../test/support/host-services.ts';

const jco = (await import('@bytecodealliance/jco')) as unknown as {
  parse(wat: string): Promise<Uint8Array>;
  componentEmbed(opts: { binary: Uint8Array; witSource: string; world: string }): Promise<Uint8Array>;
  componentNew(bytes: Uint8Array, adapters?: Array<[string, Uint8Array]>): Promise<Uint8Array>;
};
const probeWat = readFileSync(new URL('../../test/fixtures/probe.wat', import.meta.url), 'utf8');
const tuning = { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 };

const services = hostServices({ stateGet: probeStateGet() });

const logs: Array<{ level: string; message: string; source: string; requestId: string }> = [];
let requests = 0;
function ctx(timeoutMs = 2000): CallContext {
  const requestId = `req-${++requests}`;
  return {
    requestId,
    functionName: 'probe',
    deadline: performance.now() + timeoutMs,
    depth: 0,
    services,
    cancelled: false,
    log: (level, message, source) => logs.push({ level, message, source, requestId }),
  };
}

const request = (path: string, body = '') => ({
  method: 'POST',
  path,
  query: 'a=1',
  headers: [['x-test', 'yes']] as Array<[string, string]>,
  body: new TextEncoder().encode(body),
});
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** What `run` threw (WASI errors are thrown as their error-code strings). */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return 'nothing thrown';
}

let component: Uint8Array;
let cacheDir: string;
let compiled: ComponentCompiled;
const load = (over: Partial<FunctionLimits> = {}) => LoadedFunction.load('probe', 1, compiled, limits(over), tuning, () => {});

beforeAll(async () => {
  const core = await jco.parse(probeWat);
  component = (await wrapCoreModule(core)).component;
  cacheDir = mkdtempSync(join(tmpdir(), 'l8-component-test-'));
  compiled = (await componentForm.compile(component, { maxMemoryPages: 64, sha256: 'probe-component', cacheDir })) as ComponentCompiled;
});

describe('wrapping a core module', () => {
  it('finds the world, ABI version and WASI use of the probe', async () => {
    expect(describeCoreModule(await jco.parse(probeWat))).toEqual({ world: 'http-function', version: '0.1.0', wasi: true });
  });

  it('gives a component that imports l8:faas and WASI 0.2 and exports the handler', () => {
    const shape = checkComponent(component);
    expect(shape.http).toBe('l8');
    expect(shape.subscriber).toBe(false);
    expect(shape.imports).toContain('l8:faas/state@0.1.0');
    expect(shape.imports.some((i) => i.startsWith('wasi:cli/stdout@0.2.'))).toBe(true);
    expect(shape.exports).toEqual(['l8:faas/http-handler@0.1.0']);
  });
});

describe('deploy-time check', () => {
  const component = async (wit: string, wat: string, world: string) =>
    jco.componentNew(await jco.componentEmbed({ binary: await jco.parse(wat), witSource: wit, world }));

  it('names every import L8 does not provide', async () => {
    const foreign = await component(
      'package acme:kv@1.0.0;\ninterface store { get: func(key: string) -> u32; }\nworld w { import store; export run: func(); }',
      '(module (import "acme:kv/store@1.0.0" "get" (func (param i32 i32) (result i32))) (memory (export "memory") 1)' +
        ' (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 8) (func (export "run")))',
      'w',
    );
    expect(() => checkComponent(foreign)).toThrow(/the component imports "acme:kv\/store@1.0.0", which L8 does not provide/);
    expect(() => componentForm.check(foreign)).toThrow(L8Error);
  });

  it('refuses a component without an entry point L8 calls', async () => {
    const command = await component('package acme:cmd@1.0.0;\nworld w { export run: func(); }', '(module (memory (export "memory") 1) (func (export "run")))', 'w');
    expect(() => checkComponent(command)).toThrow(/the component exports "run", but L8 calls l8:faas\/http-handler \(handle\)/);
  });
});

describe('transpile cache', () => {
  it('transpiles once per component: a restart reads jco output and instrumented modules from the cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l8-component-cache-'));
    const first = (await componentForm.compile(component, { maxMemoryPages: 64, sha256: 'cache-test', cacheDir: dir })) as ComponentCompiled;
    expect(first.transpileMillis).toBeGreaterThan(0);
    // A new compile, as after a restart: nothing is kept in memory between the two.
    const second = (await componentForm.compile(component, { maxMemoryPages: 64, sha256: 'cache-test', cacheDir: dir })) as ComponentCompiled;
    expect(second.transpileMillis).toBe(0);
    const fn = await LoadedFunction.load('probe', 1, second, limits(), tuning, () => {});
    expect(text((await fn.handleHttp(ctx(), request('/echo', 'cached'))).body)).toBe('cached');
  });
});

describe('calls', () => {
  it('echoes headers and body', async () => {
    const fn = await load();
    const res = await fn.handleHttp(ctx(), request('/echo', 'héllo'));
    expect(res.status).toBe(200);
    expect(res.headers).toEqual([['x-test', 'yes']]);
    expect(text(res.body)).toBe('héllo');
  });

  it('starts every request from fresh state, or keeps it in reuse mode', async () => {
    const fresh = await load();
    for (let i = 0; i < 3; i++) expect(text((await fresh.handleHttp(ctx(), request('/count'))).body)).toBe('1');
    expect(fresh.pool.created).toBe(1);
    const warm = await load({ reuse: true });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(text((await warm.handleHttp(ctx(), request('/count'))).body));
    expect(answers).toEqual(['1', '2', '3']);
  });

  it('suspends on async host calls and lowers option/result values', async () => {
    const fn = await load();
    const [hit, miss, broken] = await Promise.all([
      fn.handleHttp(ctx(), request('/state', 'book1')),
      fn.handleHttp(ctx(), request('/state', 'nothing')),
      fn.handleHttp(ctx(), request('/state', 'broken')),
    ]);
    expect([hit.status, text(hit.body)]).toEqual([200, '100']);
    expect(miss.status).toBe(404);
    expect([broken.status, text(broken.body)]).toEqual([500, 'backend down']);
  });

  it('writes log lines and stdout (through the preview1 adapter and wasi:cli) under the request id', async () => {
    const fn = await load();
    const logCtx = ctx();
    await fn.handleHttp(logCtx, request('/write', 'a log line'));
    const printCtx = ctx();
    await fn.handleHttp(printCtx, request('/print', 'first line\nsecond line without newline'));
    expect(logs).toContainEqual({ level: 'info', message: 'a log line', source: 'log', requestId: logCtx.requestId });
    expect(logs).toContainEqual({ level: 'info', message: 'first line', source: 'stdout', requestId: printCtx.requestId });
    // A last line without newline is still logged, under the request that printed it.
    expect(logs).toContainEqual({ level: 'info', message: 'second line without newline', source: 'stdout', requestId: printCtx.requestId });
  });

  it('turns a trap into an L8Error and keeps serving', async () => {
    const fn = await load();
    await expect(fn.handleHttp(ctx(), request('/trap'))).rejects.toMatchObject({ code: 'trap' });
    expect((await fn.handleHttp(ctx(), request('/echo', 'ok'))).status).toBe(200);
    expect(fn.pool.discarded).toBe(1);
  });

  it('stops a runaway loop at its deadline while other calls keep running', async () => {
    const fn = await load();
    const started = performance.now();
    let runawayEnded = Infinity;
    const runaway = fn.handleHttp(ctx(1000), request('/loop')).finally(() => (runawayEnded = performance.now()));
    for (let i = 0; i < 5; i++) expect((await fn.handleHttp(ctx(), request('/echo', 'x'))).status).toBe(200);
    const othersDone = performance.now();
    await expect(runaway).rejects.toMatchObject({ code: 'timeout' });
    expect(othersDone).toBeLessThan(runawayEnded);
    expect(othersDone - started).toBeLessThan(700);
    expect(runawayEnded - started).toBeGreaterThanOrEqual(1000);
    expect(runawayEnded - started).toBeLessThan(1500);
    // The stopped instance was discarded; the next call gets a fresh one.
    expect(text((await fn.handleHttp(ctx(), request('/count'))).body)).toBe('1');
  });

  it('reports running out of memory as a memory limit error', async () => {
    const fn = await load({ memoryPages: 64 });
    const error = await fn.handleHttp(ctx(), request('/grow')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(L8Error);
    expect((error as L8Error).code).toBe('memory_limit');
    expect((error as L8Error).message).toMatch(/4 MiB limit/);
  });

  it('reports one allocation far above the limit as a memory limit error while memory is still small', async () => {
    const fn = await load({ memoryPages: 64 });
    const error = await fn.handleHttp(ctx(), request('/big')).catch((e: unknown) => e);
    expect((error as L8Error).code).toBe('memory_limit');
    expect((error as L8Error).message).toMatch(/function "probe" ran out of memory: .*4 MiB limit/);
  });

  it('reports an exit (wasi:cli/exit through the adapter) after a refused grow as a memory limit error', async () => {
    const fn = await load({ memoryPages: 64 });
    const error = await fn.handleHttp(ctx(), request('/xit')).catch((e: unknown) => e);
    expect((error as L8Error).code).toBe('memory_limit');
    expect((error as L8Error).message).toMatch(/exited \(the function called proc_exit\(1\)/);
  });

  it('refuses a component whose memory starts above the limit, at load', async () => {
    await expect(componentForm.compile(component, { maxMemoryPages: 0, sha256: 'too-small', cacheDir })).rejects.toThrow(/needs 1 pages .* memory limit is 0 pages/);
  });
});

describe('WASI isolation', () => {
  const host = (sandbox: ConstructorParameters<typeof WasiHost>[0]['sandbox']) =>
    new WasiHost({ sandbox, output: () => {}, warn: () => {}, remainingMs: () => Infinity }).imports();

  it('shows a guest its config literals as the environment, nothing of the host', () => {
    process.env.L8_TEST_HOST_SECRET = 'must not leak';
    const env = host({ env: { GREETING: 'hi' }, files: [], outboundHosts: [] })['wasi:cli/environment'] as { getEnvironment(): Array<[string, string]>; getArguments(): string[] };
    expect(env.getEnvironment()).toEqual([['GREETING', 'hi']]);
    expect(env.getArguments()).toEqual([]);
  });

  it('preopens only granted directories, each instance its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l8-preopen-'));
    const preopens = (imports: ReturnType<typeof host>) =>
      (imports['wasi:filesystem/preopens'] as { getDirectories(): Array<[unknown, string]> }).getDirectories().map(([, path]) => path);
    expect(preopens(host({ env: {}, files: [{ host: dir, guest: '/data', readOnly: true }], outboundHosts: [] }))).toEqual(['/data']);
    expect(preopens(host({ env: {}, files: [], outboundHosts: [] }))).toEqual([]);
  });

  it('keeps file access inside the grant and read-only grants unchanged', () => {
    const root = mkdtempSync(join(tmpdir(), 'l8-files-'));
    mkdirSync(join(root, 'granted'));
    writeFileSync(join(root, 'granted', 'inside.txt'), 'inside');
    writeFileSync(join(root, 'outside.txt'), 'outside');
    symlinkSync(join(root, 'outside.txt'), join(root, 'granted', 'escape'));
    symlinkSync('inside.txt', join(root, 'granted', 'alias'));
    const adapter = new NodeFilesystemAdapter();
    const rw = adapter.getRoot({ host: join(root, 'granted'), readOnly: false });
    const ro = adapter.getRoot({ host: join(root, 'granted'), readOnly: true });
    const read = (dir: typeof rw, path: string) => {
      const file = dir.openAt({ symlinkFollow: true }, path, {}, { read: true });
      return text(file.read(100n, 0n)[0]);
    };
    expect(read(rw, 'inside.txt')).toBe('inside');
    expect(read(rw, 'alias')).toBe('inside');
    for (const path of ['../outside.txt', 'escape', '/etc/passwd', 'sub/../../outside.txt']) {
      expect(thrown(() => read(rw, path)), path).toBe('not-permitted');
    }
    const created = rw.openAt({}, 'new.txt', { create: true }, { write: true });
    created.write(new TextEncoder().encode('written'), 0n);
    expect(readFileSync(join(root, 'granted', 'new.txt'), 'utf8')).toBe('written');
    expect(thrown(() => ro.openAt({}, 'other.txt', { create: true }, { write: true }))).toBe('read-only');
    expect(thrown(() => ro.unlinkFileAt('inside.txt'))).toBe('read-only');
    expect(thrown(() => ro.createDirectoryAt('made'))).toBe('read-only');
    expect(readFileSync(join(root, 'granted', 'inside.txt'), 'utf8')).toBe('inside');
  });
});
