// Resetting core instances page by page (dirty tracking): what a request wrote — the
// guest's stores, bulk memory operations, and the host's own writes — is put back exactly,
// and the host turns tracking on by snapshot size.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CallContext, HostServices } from '../call-context.ts';
import type { InstanceOptions } from '../guest-instance.ts';
import { LoadedFunction } from '../loaded-function.ts';
import { CoreCompiled, DIRTY_TRACKING_THRESHOLD_BYTES } from './core-form.ts';
import { hostServices } from '../../test/support/host-services.ts';

const { parse } = (await import('@bytecodealliance/jco')) as { parse: (wat: string) => Promise<Uint8Array> };

const PAGE = 65536;
const HANDLE = '"l8:faas/http-handler@0.1.0#handle"';
const HANDLE_PARAMS = '(param $mp i32) (param $ml i32) (param $pp i32) (param $pl i32) (param $qp i32) (param $ql i32) (param $hp i32) (param $hl i32) (param $bp i32) (param $bl i32) (result i32)';

/** A bump allocator from `heap`; traps rather than grow, so memory keeps the snapshot's size. */
const ALLOC = `
  (func $alloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const ${PAGE}))) (then unreachable))
    (local.get $p))`;

/**
 * Nine pages. Pages 1 and 6 hold data in the snapshot, 3, 4 and 8 are zeros. Every
 * request writes pages 0-7: an i64 store straddling pages 1|2, a memory.fill over 2-4, a
 * memory.copy into 6|7, and the host's writes: the request's strings and the state value
 * go through cabi_realloc to 0x5ff00 onwards, straddling 5|6 (the guest never stores
 * there), the state result into the return area on page 0. Page 8 is never written.
 * Answers its call count (a global) and the state value's length.
 */
const PAGES_WAT = `(module
  (import "l8:faas/state@0.1.0" "get" (func $state_get (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 9)
  (global $heap (mut i32) (i32.const 0x5ff00))
  (global $count (mut i32) (i32.const 0))
  (data (i32.const 16) "default")
  (data (i32.const 0x10000) "page one, and more bytes for the copy")
  (data (i32.const 0x60010) "page six")
  ${ALLOC}
  (func (export ${HANDLE}) ${HANDLE_PARAMS}
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i64.store (i32.const 0x1fffc) (i64.const -1))
    (memory.fill (i32.const 0x2fff8) (i32.const 0xab) (i32.const 0x10010))
    (memory.copy (i32.const 0x6fff0) (i32.const 0x10000) (i32.const 0x20))
    (call $state_get (i32.const 16) (i32.const 7) (local.get $bp) (local.get $bl) (i32.const 128))
    (i32.store8 (i32.const 512) (i32.add (global.get $count) (i32.const 48)))
    (i32.store8 (i32.const 513) (i32.add (i32.load (i32.const 140)) (i32.const 48)))
    (i32.store16 (i32.const 256) (i32.const 200))
    (i32.store (i32.const 260) (i32.const 0))
    (i32.store (i32.const 264) (i32.const 0))
    (i32.store (i32.const 268) (i32.const 512))
    (i32.store (i32.const 272) (i32.const 2))
    (i32.const 256)))`;

const VALUE = new Uint8Array(300).fill(0x5a);
const services = hostServices({ stateGet: async () => VALUE.subarray(0, 7) });
const ctx = (): CallContext => ({
  requestId: 'r',
  functionName: 'pages',
  deadline: performance.now() + 5000,
  depth: 0,
  services,
  cancelled: false,
  log: () => {},
});
const request = (body: string) => ({ method: 'POST', path: '/x', query: '', headers: [['x-a', 'b']] as Array<[string, string]>, body: new TextEncoder().encode(body) });
const OPTIONS: InstanceOptions = { reuse: false, fuelQuantum: 10_000, sliceMs: 2 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Offset of the first differing byte, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)) return -1;
  return a.findIndex((x, i) => x !== b[i]);
}

/** Pages of `now` that differ from `then`. */
function changedPages(now: Uint8Array, then: Uint8Array): number[] {
  const pages = [];
  for (let p = 0; p < then.length / PAGE; p++) {
    if (firstDifference(now.subarray(p * PAGE, (p + 1) * PAGE), then.subarray(p * PAGE, (p + 1) * PAGE)) >= 0) pages.push(p);
  }
  return pages;
}

describe('reset with dirty tracking', () => {
  it('restores every page a request wrote, byte for byte, request after request', async () => {
    const compiled = new CoreCompiled(await parse(PAGES_WAT), { maxMemoryPages: 16, sha256: 'pages', dirtyTracking: true });
    expect(compiled.instrumented.dirtyMemory).toBe('__l8_dirty');
    const instance = compiled.instantiate(OPTIONS, () => {});
    expect(instance.tracksDirtyPages).toBe(true);
    const memory = instance.slot.memory!;
    const snapshot = memory.u8().slice();
    for (let i = 0; i < 3; i++) {
      // A 300-byte body allocated at 0x5ff00 onwards straddles pages 5 and 6.
      const response = await instance.handleHttp(ctx(), request('b'.repeat(300)));
      expect(text(response.body)).toBe('17'); // call 1 every time, a 7-byte value
      expect(changedPages(memory.u8(), snapshot)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(instance.reset()).toBe(true);
      expect(firstDifference(memory.u8(), snapshot)).toBe(-1);
    }
  });

  it('copies back only marked pages: what bypasses marking stays, what the host writes through GuestMemory does not', async () => {
    const compiled = new CoreCompiled(await parse(PAGES_WAT), { maxMemoryPages: 16, sha256: 'pages', dirtyTracking: true });
    const instance = compiled.instantiate(OPTIONS, () => {});
    const memory = instance.slot.memory!;
    const snapshot = memory.u8().slice();
    await instance.handleHttp(ctx(), request('x'));
    memory.u8()[8 * PAGE + 5] = 7; // behind the map's back
    memory.writeU32(8 * PAGE + 100, 0xdeadbeef); // marks page 8
    memory.u8()[8 * PAGE + 6] = 9;
    expect(instance.reset()).toBe(true);
    // writeU32 marked the 4 KiB dirty page these bytes share: all of it came back, including the unmarked writes.
    expect(firstDifference(memory.u8(), snapshot)).toBe(-1);
    memory.u8()[8 * PAGE + 5] = 7;
    expect(instance.reset()).toBe(true);
    expect(memory.u8()[8 * PAGE + 5]).toBe(7); // not marked: not restored
  });

  it('the probe keeps fresh state with tracking forced on, through host calls, traps and growth', async () => {
    const probe = await parse(readFileSync(new URL('../../test/fixtures/probe.wat', import.meta.url), 'utf8'));
    const compiled = new CoreCompiled(probe, { maxMemoryPages: 64, sha256: 'probe', dirtyTracking: true });
    const limits = { timeoutMs: 2000, memoryPages: 64, maxConcurrency: 1, maxQueue: 4, reuse: false };
    const fn = await LoadedFunction.load('probe', 1, compiled, limits, { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 1 }, () => {});
    const stateful: HostServices = { ...services, stateGet: async () => new TextEncoder().encode('100') };
    const call = (path: string, body = '') =>
      fn.handleHttp({ ...ctx(), services: stateful }, { ...request(body), path });
    for (let i = 0; i < 3; i++) {
      expect(text((await call('/count')).body)).toBe('1');
      expect(text((await call('/state', 'book1')).body)).toBe('100');
      expect(text((await call('/echo', 'x'.repeat(70_000))).body)).toBe('x'.repeat(70_000)); // grows memory: discarded
      expect(text((await call('/count')).body)).toBe('1');
    }
    await expect(call('/trap')).rejects.toMatchObject({ code: 'trap' });
    expect(text((await call('/count')).body)).toBe('1');
  });
});

describe('when tracking is on', () => {
  const withMemory = (pages: number, init = '') => `(module
    (import "l8:faas/log@0.1.0" "write" (func $log (param i32 i32 i32)))
    (memory (export "memory") ${pages})
    (global $heap (mut i32) (i32.const 1024))
    (data (i32.const 16) "ready")
    ${ALLOC}
    (func (export "_initialize") ${init} (call $log (i32.const 2) (i32.const 16) (i32.const 5)))
    (func (export ${HANDLE}) ${HANDLE_PARAMS}
      (i32.store16 (i32.const 256) (i32.const 204))
      (i32.const 256)))`;
  // The mechanism, with a threshold of 4 pages (production tracks everything: 0).
  const threshold = 4;
  const thresholdOptions = { dirtyThresholdBytes: threshold * PAGE };
  it('tracks every reset instance by default', async () => {
    expect(DIRTY_TRACKING_THRESHOLD_BYTES).toBe(0);
    const compiled = new CoreCompiled(await parse(withMemory(1)), { maxMemoryPages: 256, sha256: 'd' });
    expect(compiled.instantiate(OPTIONS, () => {}).tracksDirtyPages).toBe(true);
  });


  it('is chosen by snapshot size: off at or below the threshold, on above it', async () => {
    const small = new CoreCompiled(await parse(withMemory(threshold)), { maxMemoryPages: 256, sha256: 's', ...thresholdOptions });
    expect(small.instrumented.dirtyMemory).toBeNull();
    expect(small.instantiate(OPTIONS, () => {}).tracksDirtyPages).toBe(false);
    const large = new CoreCompiled(await parse(withMemory(threshold + 1)), { maxMemoryPages: 256, sha256: 'l', ...thresholdOptions });
    expect(large.instrumented.dirtyMemory).toBe('__l8_dirty');
    expect(large.instantiate(OPTIONS, () => {}).tracksDirtyPages).toBe(true);
  });

  it('a module that grows past the threshold in _initialize is instrumented again, logging once', async () => {
    // Declares `threshold` pages (not tracked by that guess), grows one past it.
    const bytes = await parse(withMemory(threshold, `(drop (memory.grow (i32.const 1)))`));
    const compiled = new CoreCompiled(bytes, { maxMemoryPages: 256, sha256: 'g', ...thresholdOptions });
    expect(compiled.instrumented.dirtyMemory).toBeNull();
    const lines: string[] = [];
    const first = compiled.instantiate(OPTIONS, (_, line) => lines.push(line));
    expect(first.tracksDirtyPages).toBe(true);
    expect(first.snapshotBytes).toBe((threshold + 1) * PAGE);
    expect(compiled.instrumented.dirtyMemory).toBe('__l8_dirty');
    expect(lines).toEqual(['ready']);
    // Later instances come from the tracked module directly.
    expect(compiled.instantiate(OPTIONS, (_, line) => lines.push(line)).tracksDirtyPages).toBe(true);
    expect(lines).toEqual(['ready', 'ready']);
  });

  it('is off in reuse mode, which restores nothing', async () => {
    const compiled = new CoreCompiled(await parse(withMemory(threshold + 4)), { maxMemoryPages: 256, sha256: 'r', ...thresholdOptions });
    expect(compiled.instrumented.dirtyMemory).toBe('__l8_dirty'); // the guess from the declared size
    const instance = compiled.instantiate({ ...OPTIONS, reuse: true }, () => {});
    expect(instance.tracksDirtyPages).toBe(false);
    expect(compiled.instrumented.dirtyMemory).toBeNull();
  });

  it('can be forced off for a large module', async () => {
    const compiled = new CoreCompiled(await parse(withMemory(threshold + 4)), { maxMemoryPages: 256, sha256: 'f', dirtyTracking: false });
    expect(compiled.instantiate(OPTIONS, () => {}).tracksDirtyPages).toBe(false);
  });
});
