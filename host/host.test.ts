// The host on its own: a hand-written ABI module (test/fixtures/probe.wat) run through
// compile -> instance pool -> calls, with the capability layer replaced by plain functions.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallContext } from './call-context.ts';
import { CoreCompiled } from './core/core-form.ts';
import { checkModule } from './core/module-check.ts';
import { L8Error } from './errors.ts';
import { LoadedFunction } from './loaded-function.ts';
import { hostServices, probeStateGet, testLimits as limits } from '../test/support/host-services.ts';

const { parse } = (await import('@bytecodealliance/jco')) as { parse: (wat: string) => Promise<Uint8Array> };
const probeWat = readFileSync(new URL('../test/fixtures/probe.wat', import.meta.url), 'utf8');

const services = hostServices({ stateGet: probeStateGet() });

const logs: Array<{ level: string; message: string; source: string }> = [];
function ctx(timeoutMs = 2000): CallContext {
  return {
    requestId: 'req-1',
    functionName: 'probe',
    deadline: performance.now() + timeoutMs,
    depth: 0,
    services,
    cancelled: false,
    log: (level, message, source) => logs.push({ level, message, source }),
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

let compiled: CoreCompiled;
let bytes: Uint8Array;
beforeAll(async () => {
  bytes = await parse(probeWat);
  compiled = new CoreCompiled(bytes, { maxMemoryPages: 64, sha256: 'probe' });
});

describe('module check', () => {
  it('accepts the probe and finds its exports', () => {
    const checked = checkModule(bytes);
    expect(checked.handle?.name).toBe('l8:faas/http-handler@0.1.0#handle');
    expect(checked.onMessage).toBeNull();
  });

  it('rejects a foreign import, naming it', async () => {
    const foreign = await parse(probeWat.replace('(import "l8:faas/log@0.1.0" "write"', '(import "env" "abort"'));
    expect(() => checkModule(foreign)).toThrow(/import "env" "abort" is not part of the L8 ABI/);
  });

  it('rejects an ABI import with the wrong signature', async () => {
    const wrong = await parse(probeWat.replace('(func $log (param i32 i32 i32))', '(func $log (param i32 i32))').replace('(call $log (i32.const 2) (local.get $bp) (local.get $bl))', '(call $log (local.get $bp) (local.get $bl))'));
    expect(() => checkModule(wrong)).toThrow(/core signature \(i32, i32\) -> \(\), but the ABI says \(i32, i32, i32\) -> \(\)/);
  });

  it('rejects bytes that are not wasm', () => {
    expect(() => checkModule(new TextEncoder().encode('(module)'))).toThrow(/not a WebAssembly binary/);
  });
});

describe('calls', () => {
  it('echoes headers and body', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits(), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    const res = await fn.handleHttp(ctx(), request('/echo', 'héllo'));
    expect(res.status).toBe(200);
    expect(res.headers).toEqual([['x-test', 'yes']]);
    expect(text(res.body)).toBe('héllo');
  });

  it('starts every request from fresh state, or keeps it in reuse mode', async () => {
    const fresh = await LoadedFunction.load('probe', 1, compiled, limits(), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    for (let i = 0; i < 3; i++) expect(text((await fresh.handleHttp(ctx(), request('/count'))).body)).toBe('1');
    const warm = await LoadedFunction.load('probe', 1, compiled, limits({ reuse: true }), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(text((await warm.handleHttp(ctx(), request('/count'))).body));
    expect(answers).toEqual(['1', '2', '3']);
  });

  it('suspends on async host calls and writes option/result values', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits(), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    const [hit, miss, broken] = await Promise.all([
      fn.handleHttp(ctx(), request('/state', 'book1')),
      fn.handleHttp(ctx(), request('/state', 'nothing')),
      fn.handleHttp(ctx(), request('/state', 'broken')),
    ]);
    expect([hit.status, text(hit.body)]).toEqual([200, '100']);
    expect(miss.status).toBe(404);
    expect([broken.status, text(broken.body)]).toEqual([500, 'backend down']);
  });

  it('turns a trap into an L8Error and keeps serving', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits(), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    await expect(fn.handleHttp(ctx(), request('/trap'))).rejects.toMatchObject({ code: 'trap' });
    expect((await fn.handleHttp(ctx(), request('/echo', 'ok'))).status).toBe(200);
    expect(fn.pool.discarded).toBe(1);
  });

  it('stops a runaway loop at its deadline while other calls keep running', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits(), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    const started = performance.now();
    let runawayEnded = Infinity;
    const runaway = fn.handleHttp(ctx(1000), request('/loop')).finally(() => (runawayEnded = performance.now()));
    // While the runaway spins, other calls are served (it yields every slice), so they
    // all finish long before its deadline.
    for (let i = 0; i < 5; i++) expect((await fn.handleHttp(ctx(), request('/echo', 'x'))).status).toBe(200);
    const othersDone = performance.now();
    await expect(runaway).rejects.toMatchObject({ code: 'timeout' });
    expect(othersDone).toBeLessThan(runawayEnded);
    expect(othersDone - started).toBeLessThan(700);
    expect(runawayEnded - started).toBeGreaterThanOrEqual(1000);
    expect(runawayEnded - started).toBeLessThan(1500);
  });

  it('reports running out of memory as a memory limit error', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits({ memoryPages: 64 }), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    const error = await fn.handleHttp(ctx(), request('/grow')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(L8Error);
    expect((error as L8Error).code).toBe('memory_limit');
    expect((error as L8Error).message).toMatch(/4 MiB limit/);
  });

  it('reports one allocation far above the limit as a memory limit error while memory is still small', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits({ memoryPages: 64 }), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    // 100 MiB asked at once: memory.grow is refused at 1 page (64 KiB) of a 4 MiB limit.
    const error = await fn.handleHttp(ctx(), request('/big')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(L8Error);
    expect((error as L8Error).code).toBe('memory_limit');
    expect((error as L8Error).message).toMatch(/function "probe" ran out of memory: .*4 MiB limit/);
    expect((error as L8Error).message).toMatch(/raise limits\.memoryMb/);
    expect(fn.pool.discarded).toBe(1);
  });

  it('reports an exit after a refused grow (Go runtime style) as a memory limit error', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits({ memoryPages: 64 }), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    const error = await fn.handleHttp(ctx(), request('/xit')).catch((e: unknown) => e);
    expect((error as L8Error).code).toBe('memory_limit');
    expect((error as L8Error).message).toMatch(/4 MiB limit and exited \(the function called proc_exit\(2\)/);
  });

  it('a trap near the memory limit without a refused grow stays a trap', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits({ memoryPages: 64 }), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    // A 3.5 MiB body grows memory to ~3.6 of 4 MiB before the guest traps on its own.
    const error = await fn.handleHttp(ctx(), request('/trap', 'x'.repeat(3.5 * 2 ** 20))).catch((e: unknown) => e);
    expect((error as L8Error).code).toBe('trap');
  });

  it('a refused grow the guest recovered from in an earlier call does not make a later trap a memory limit error', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits({ memoryPages: 64, reuse: true, maxConcurrency: 1 }), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    expect((await fn.handleHttp(ctx(), request('/attempt'))).status).toBe(200);
    // Same instance (reuse, one at a time): the flag set by the refused grow is cleared.
    await expect(fn.handleHttp(ctx(), request('/trap'))).rejects.toMatchObject({ code: 'trap' });
    expect(fn.pool.discarded).toBe(1);
  });

  it('captures stdout and the log import as log lines', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits(), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    logs.length = 0;
    await fn.handleHttp(ctx(), request('/print', 'line one\nline two'));
    await fn.handleHttp(ctx(), request('/write', 'from log'));
    expect(logs).toEqual([
      { level: 'info', message: 'line one', source: 'stdout' },
      { level: 'info', message: 'line two', source: 'stdout' },
      { level: 'info', message: 'from log', source: 'log' },
    ]);
  });

  it('queues beyond maxConcurrency and refuses beyond the queue', async () => {
    const fn = await LoadedFunction.load('probe', 1, compiled, limits({ maxConcurrency: 1, maxQueue: 1 }), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    const calls = [0, 1, 2].map(() => fn.handleHttp(ctx(), request('/state', 'book1')).then((r) => r.status, (e: L8Error) => e.code));
    expect(await Promise.all(calls)).toEqual([200, 200, 'overloaded']);
  });

  it('lets _initialize log, and refuses other host calls there with a clear error', async () => {
    const wat = `(module
      (import "l8:faas/log@0.1.0" "write" (func $log (param i32 i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "starting up")
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "_initialize") (call $log (i32.const 4) (i32.const 16) (i32.const 11)))
      (func (export "l8:faas/http-handler@0.1.0#handle") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
        (i32.store16 (i32.const 256) (i32.const 204)) (i32.const 256)))`;
    const module = new CoreCompiled(await parse(wat), { maxMemoryPages: 16, sha256: 'init' });
    const lines: string[] = [];
    const fn = await LoadedFunction.load('init', 1, module, limits(), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, (stream, line) => lines.push(`${stream}: ${line}`));
    expect(lines).toEqual(['stderr: starting up']);
    expect((await fn.handleHttp(ctx(), request('/x'))).status).toBe(204);
  });

  it('lays out ABI 0.2 lock and sequencer results as the canonical ABI says', async () => {
    const wat = `(module
      (import "l8:faas/sequencer@0.2.0" "next-id" (func $next (param i32 i32 i32 i32 i32)))
      (import "l8:faas/lock@0.2.0" "try-lock" (func $lock (param i32 i32 i32 i32 i32 i32 i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "default")
      (data (i32.const 32) "owner")
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 2048))
      (func (export "l8:faas/http-handler@0.2.0#handle") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
        (call $next (i32.const 16) (i32.const 7) (local.get 8) (local.get 9) (i32.const 128))
        (call $lock (i32.const 16) (i32.const 7) (local.get 8) (local.get 9) (i32.const 32) (i32.const 5) (i32.const 30) (i32.const 160))
        ;; body: 24 bytes of the next-id result area, then the 16 bytes of try-lock's
        (memory.copy (i32.const 512) (i32.const 128) (i32.const 24))
        (memory.copy (i32.const 536) (i32.const 160) (i32.const 16))
        (i32.store16 (i32.const 256) (i32.const 200))
        (i32.store (i32.const 268) (i32.const 512))
        (i32.store (i32.const 272) (i32.const 40))
        (i32.const 256)))`;
    const module = new CoreCompiled(await parse(wat), { maxMemoryPages: 16, sha256: 'v02' });
    const fn = await LoadedFunction.load('v02', 1, module, limits(), { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 }, () => {});
    const seen: unknown[] = [];
    const v02 = { ...ctx(), services: { ...services, nextId: async (_c: unknown, store: string, key: string) => (seen.push([store, key]), 2n ** 40n + 7n), tryLock: async (_c: unknown, ...args: unknown[]) => (seen.push(args), true) } } as CallContext;
    const body = Buffer.from((await fn.handleHttp(v02, request('/x', 'queue'))).body);
    expect(seen).toEqual([['default', 'queue'], ['default', 'queue', 'owner', 30]]);
    expect(body[0]).toBe(0); // ok
    expect(body.readBigUInt64LE(8)).toBe(2n ** 40n + 7n); // u64 payload at offset 8
    expect([body[24], body[28]]).toEqual([0, 1]); // try-lock: ok, true
  });
});
