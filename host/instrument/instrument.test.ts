import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIRTY_PAGE_SIZE, instrument, InstrumentError, type InstrumentedModule } from './index.ts';
import { buildCorpus, guestImports, type CorpusModule } from './testdata/corpus.ts';
import { instantiate, runCalls, type Call } from './testdata/run.ts';

/** What each corpus module is asked to compute. Every WAT file must have an entry. */
const CALLS: Record<string, Call[]> = {
  assemblyscript: [
    ['bump'], ['bump'], ['sum', 200_000], ['sortChecksum', 3000, 7], ['strings', 400], ['floats', 20_000],
    ['spin', 100_000], ['stores', 100_000, 3], ['grow', 1], ['bump'],
  ],
  rust: [
    ['bump'], ['fmt_checksum', 300], ['sort_checksum', 5000, 9], ['maps', 3000], ['parse_floats', 400],
    ['sum', 200_000n], ['spin', 100_000], ['text', 80], ['stores', 100_000, 3], ['grow', 1], ['bump'],
  ],
  go: [
    ['bump'], ['fmt_checksum', 150], ['sort_checksum', 3000, 3], ['json_checksum', 60], ['maps', 2000],
    ['sum', 200_000n], ['spin', 100_000], ['stores', 100_000, 3], ['bump'],
  ],
  atomics: [['atomics', 1000]],
  bulk: [['mem', 50], ['tables', 3], ['externs', 'x'], ['externs', null], ['numeric', 1e10], ['numeric', -3.7], ['drop_data'], ['mem', 10], ['grow', 1], ['grow', 1]],
  exceptions: [['new_sum', 1000], ['new_rethrow', 100], ['old_sum', 1000], ['old_delegate', 100], ['old_rethrow', 100], ['uncaught']],
  funcref: [['apply', 1000, 1], ['count'], ['swap', 0], ['count'], ['apply', 10, 3], ['swap', 1], ['count']],
  gc: [['sum', 1000], ['casts', 1000]],
  multivalue: [['fib', 90], ['gcd', 1071, 462], ['gcd', 17, 0], ['pick', 0], ['pick', 1], ['swap_sum', 1001]],
  simd: [['dot', 1000], ['shuffle', 1000], ['lanes', 200]],
  tailcalls: [['even', 1_000_001], ['even_indirect', 1_000_000], ['even_ref', 999_999]],
};

/** Calls in CALLS that trap or throw on purpose (the instrumented module must fail alike). */
const EXPECTED_FAILURES: Record<string, number> = { bulk: 1, exceptions: 1 };

const here = path.dirname(fileURLToPath(import.meta.url));
const watFiles = readdirSync(path.join(here, 'testdata/wat')).filter((f) => f.endsWith('.wat')).map((f) => f.slice(0, -4));
const names = ['assemblyscript', 'rust', 'go', ...watFiles];

let corpus: Map<string, CorpusModule>;
const instrumented = new Map<string, InstrumentedModule>();
const module = (name: string) => corpus.get(name)!;
const inst = (name: string, dirtyTracking = false) => {
  const key = dirtyTracking ? `${name} (dirty tracking)` : name;
  let result = instrumented.get(key);
  if (!result) instrumented.set(key, (result = instrument(module(name).bytes, { maxMemoryPages: 16384, dirtyTracking })));
  return result;
};

beforeAll(async () => {
  corpus = new Map((await buildCorpus()).map((m) => [m.name, m]));
}, 600_000);

describe('the corpus', () => {
  it('has calls for every module', () => {
    for (const name of names) expect(CALLS[name], `CALLS has no entry for ${name}`).toBeDefined();
  });

  describe.each(names.flatMap((name) => [[name, ''], [name, ' with dirty tracking']]))('%s%s', (name, variant) => {
    const dirtyTracking = variant !== '';

    it('validates, gets checks, and computes what the original computes', async () => {
      const { language, bytes } = module(name);
      const result = inst(name, dirtyTracking);
      expect(WebAssembly.validate(result.bytes as Uint8Array<ArrayBuffer>)).toBe(true);
      expect(result.stats.loops + result.stats.entryChecks).toBeGreaterThan(0);
      expect(result.stats.functions).toBeGreaterThan(0);
      expect(result.growFailedGlobal).toMatch(/^__l8_grow_failed/);
      expect(result.dirtyMemory).toBe(dirtyTracking ? '__l8_dirty' : null);
      const calls = CALLS[name]!;
      const original = await runCalls(language, bytes, calls);
      // Traps and uncaught exceptions are outcomes too; only these calls are meant to fail.
      expect(original.outcomes.filter((o) => 'error' in o).length).toBe(EXPECTED_FAILURES[name] ?? 0);
      const plenty = await runCalls(language, result.bytes, calls, { instrumented: result, quantum: 1_000_000 });
      expect(plenty.outcomes).toEqual(original.outcomes);
      // Fuel 1: the interrupt import runs at every loop iteration / tail-calling entry.
      const starved = await runCalls(language, result.bytes, calls, { instrumented: result, quantum: 1 });
      expect(starved.outcomes).toEqual(original.outcomes);
      expect(starved.interrupts).toBeGreaterThan(calls.length);
    });

    it('computes the same through JSPI when every interrupt yields to the event loop', async () => {
      const { language, bytes } = module(name);
      const result = inst(name, dirtyTracking);
      const calls = CALLS[name]!;
      const original = await runCalls(language, bytes, calls);
      const yielding = await runCalls(language, result.bytes, calls, { instrumented: result, quantum: 10, mode: 'jspi' });
      expect(yielding.outcomes).toEqual(original.outcomes);
      expect(yielding.interrupts).toBeGreaterThan(0);
    });
  });
});

describe('interruption', () => {
  // spin(limit) counts up to limit; -1 (u32::MAX for Rust) is out of reach in practice.
  const spinners: Array<[string, Call]> = [
    ['assemblyscript', ['spin', -1]],
    ['rust', ['spin', -1]],
    ['go', ['spin', -1]],
    ['tailcalls', ['forever', 0]],
  ];

  it.each(spinners)('stops an endless %s guest when the interrupt import throws', async (name, [fn, ...args]) => {
    const result = inst(name);
    let calls = 0;
    // An interrupt that gives up on its 5th call, like the host at a request's deadline.
    const stop = new Error('deadline exceeded');
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>));
    expect(imports.some((i) => i.module === 'l8:internal' && i.name === 'interrupt' && i.kind === 'function')).toBe(true);
    const guest = instantiateWith(name, result, () => {
      if (++calls === 5) throw stop;
      return 10_000;
    });
    guest.refuelTo(10_000);
    expect(() => (guest.exports[fn] as (...a: unknown[]) => unknown)(...args)).toThrow(stop);
    expect(calls).toBe(5);
  });

  it('a Suspending interrupt that returns a plain number still suspends the guest (V8 / Node 24)', async () => {
    // Measured fact the design depends on: JSPI always suspends on a Suspending import,
    // even when the JS function returns a non-Promise (its result is awaited), so the
    // non-yielding path of the check costs a suspend/resume (see bench/instrument.ts).
    const result = inst('assemblyscript');
    const seen: boolean[] = [];
    let microtaskRan = false;
    const guest = instantiateWith('assemblyscript', result, new WebAssembly.Suspending(() => {
      seen.push(microtaskRan);
      microtaskRan = false;
      queueMicrotask(() => (microtaskRan = true));
      return 1;
    }));
    (guest.exports[result.fuelGlobal!] as WebAssembly.Global).value = 1;
    const spin = WebAssembly.promising(guest.exports.spin as (n: number) => number);
    expect(await spin(50)).toBe(50);
    expect(seen.length).toBeGreaterThan(40);
    // Between two interrupt calls the microtask queue ran: the guest was suspended.
    expect(seen.slice(1).every(Boolean)).toBe(true);

    // A plain function import never lets a microtask in.
    seen.length = 0;
    const plain = instantiateWith('assemblyscript', result, () => {
      seen.push(microtaskRan);
      microtaskRan = false;
      queueMicrotask(() => (microtaskRan = true));
      return 1;
    });
    (plain.exports[result.fuelGlobal!] as WebAssembly.Global).value = 1;
    expect((plain.exports.spin as (n: number) => number)(50)).toBe(50);
    expect(seen.slice(1).some(Boolean)).toBe(false);
  });

  it('serves the event loop while a guest spins, and the guest then finishes', async () => {
    const result = inst('rust');
    const quantum = 100_000;
    let interrupts = 0;
    const guest = instantiateWith('rust', result, new WebAssembly.Suspending(async () => {
      interrupts++;
      await new Promise((resolve) => setImmediate(resolve));
      return quantum;
    }));
    (guest.exports[result.fuelGlobal!] as WebAssembly.Global).value = quantum;
    const spin = WebAssembly.promising(guest.exports.spin as (n: number) => number);
    const started = performance.now();
    let timerFiredAt = 0;
    let ticks = 0;
    const interval = setInterval(() => ticks++, 1);
    setTimeout(() => (timerFiredAt = performance.now()), 5);
    const limit = 100_000_000;
    const value = await spin(limit);
    const finishedAt = performance.now();
    clearInterval(interval);
    expect(value).toBe(limit);
    expect(timerFiredAt).toBeGreaterThan(started);
    expect(timerFiredAt).toBeLessThan(finishedAt);
    expect(ticks).toBeGreaterThan(1);
    expect(interrupts).toBeGreaterThanOrEqual(Math.floor(limit / quantum) - 1);
  });

  it('a Suspending interrupt cannot run outside WebAssembly.promising (it traps); the start function runs on the initial fuel', async () => {
    const result = inst('assemblyscript');
    // The AssemblyScript module has a start function with loops (static Map and runtime
    // setup); instantiation must not reach the interrupt import.
    const guest = instantiateWith('assemblyscript', result, new WebAssembly.Suspending(() => 1));
    (guest.exports[result.fuelGlobal!] as WebAssembly.Global).value = 1;
    expect(() => (guest.exports.spin as (n: number) => number)(10)).toThrow(/promising/);
    // With fuel left, a direct call works.
    (guest.exports[result.fuelGlobal!] as WebAssembly.Global).value = 1_000_000;
    expect((guest.exports.spin as (n: number) => number)(10)).toBe(10);
  });

  it('puts a check at the entry of functions that tail-call, not elsewhere', async () => {
    const result = inst('tailcalls');
    expect(result.stats.loops).toBe(0);
    expect(result.stats.entryChecks).toBe(7);
    let interrupts = 0;
    const guest = instantiateWith('tailcalls', result, () => {
      interrupts++;
      return 1000;
    });
    (guest.exports[result.fuelGlobal!] as WebAssembly.Global).value = 1000;
    expect((guest.exports.even as (n: number) => number)(100_000)).toBe(1);
    expect(interrupts).toBe(100);
  });

  it('counts loop iterations exactly: the interrupt runs once per quantum', async () => {
    const bytes = await parseWat(`(module (memory 1)
      (func (export "loop") (param $n i32)
        (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`);
    const result = instrument(bytes, { maxMemoryPages: 1 });
    let interrupts = 0;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {
      'l8:internal': { interrupt: () => (interrupts++, 10) },
    });
    const fuel = instance.exports[result.fuelGlobal!] as WebAssembly.Global;
    fuel.value = 10;
    (instance.exports.loop as (n: number) => void)(1000);
    expect(interrupts).toBe(100);
    expect(fuel.value).toBe(10);
    fuel.value = 10;
    (instance.exports.loop as (n: number) => void)(5);
    expect(fuel.value).toBe(5);
  });
});

describe('memory', () => {
  it('caps memory.grow at maxMemoryPages (grow past the cap returns -1)', async () => {
    for (const name of ['assemblyscript', 'rust']) {
      const original = new WebAssembly.Module(module(name).bytes as Uint8Array<ArrayBuffer>);
      const declared = (instantiateOriginal(name, original).exports.memory as WebAssembly.Memory).buffer.byteLength / 65536;
      const result = instrument(module(name).bytes, { maxMemoryPages: declared + 2 });
      expect(result.memory).toEqual({ initialPages: declared, maximumPages: declared + 2 });
      const guest = instantiateWith(name, result, () => 1000);
      (guest.exports[result.fuelGlobal!] as WebAssembly.Global).value = 1_000_000;
      const grow = guest.exports.grow as (n: number) => number;
      expect(grow(3)).toBe(-1);
      expect(grow(2)).toBe(declared);
      expect(grow(1)).toBe(-1);
      expect(() => (guest.exports.memory as WebAssembly.Memory).grow(1)).toThrow(RangeError);
    }
  });

  it.each(['assemblyscript', 'rust', 'go', 'bulk'])('wraps every memory.grow of the %s module', (name) => {
    const result = inst(name);
    // Every corpus module grows its memory somewhere (allocator or a grow export).
    expect(result.stats.growCalls).toBeGreaterThan(0);
    const plain = instrument(module(name).bytes, { maxMemoryPages: 16384, trackGrowFailures: false });
    expect(plain.stats.growCalls).toBe(0);
    expect(plain.growFailedGlobal).toBeNull();
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(plain.bytes as Uint8Array<ArrayBuffer>));
    expect(exports.some((e) => e.name.startsWith('__l8_grow_failed'))).toBe(false);
  });

  it('a failed memory.grow returns -1 and sets the flag; a successful one returns the old size and leaves it 0', () => {
    for (const name of ['assemblyscript', 'rust', 'bulk']) {
      const initial = initialPages(name);
      const result = instrument(module(name).bytes, { maxMemoryPages: initial + 2 });
      const max = result.memory.maximumPages; // bulk declares a maximum of 2 pages itself
      expect(max, name).toBeGreaterThan(initial);
      const guest = instantiateWith(name, result, () => 1000);
      guest.refuelTo(1_000_000);
      const flag = guest.exports[result.growFailedGlobal!] as WebAssembly.Global;
      const grow = guest.exports.grow as (n: number) => number;
      expect(flag.value, name).toBe(0);
      expect(grow(1), name).toBe(initial);
      expect(flag.value, name).toBe(0);
      expect(grow(0), name).toBe(initial + 1);
      expect(flag.value, name).toBe(0);
      expect(grow(max - initial), name).toBe(-1);
      expect(flag.value, name).toBe(1);
      // The flag stays set (the host clears it before each call), also across a later success.
      expect(grow(0), name).toBe(initial + 1);
      expect(flag.value, name).toBe(1);
      flag.value = 0;
      expect(grow(max - initial), name).toBe(-1);
      expect(flag.value, name).toBe(1);
      expect((guest.exports.memory as WebAssembly.Memory).buffer.byteLength, name).toBe((initial + 1) * 65536);
    }
  });

  it('an allocation far above the limit sets the flag while memory is still small (Rust Vec)', () => {
    // sort_checksum(10M) collects 40 MB into one Vec: a single grow far above a limit of
    // one page more than the module starts with. Rust's allocator returns null and
    // handle_alloc_error aborts (a trap) while the memory is still at its initial size.
    const initial = initialPages('rust');
    const result = instrument(module('rust').bytes, { maxMemoryPages: initial + 1 });
    const guest = instantiateWith('rust', result, () => 1_000_000);
    guest.refuelTo(1_000_000);
    const flag = guest.exports[result.growFailedGlobal!] as WebAssembly.Global;
    const memory = guest.exports.memory as WebAssembly.Memory;
    expect(() => (guest.exports.sort_checksum as (n: number, s: number) => number)(10_000_000, 1)).toThrow(WebAssembly.RuntimeError);
    expect(flag.value).toBe(1);
    expect(memory.buffer.byteLength).toBeLessThanOrEqual((initial + 1) * 65536);
  });

  it('wraps memory.grow in modules with imports and interruption on or off, and names the wrapper', async () => {
    const bytes = await parseWat(`(module
      (import "h" "f" (func $f))
      (memory (export "memory") 1 3)
      (func $grow (export "grow") (param i32) (result i32) (call $f) (memory.grow (local.get 0)))
      (func (export "grow_twice") (param i32) (result i32)
        (drop (call $grow (local.get 0)))
        (memory.grow (local.get 0))))`);
    for (const interruption of [true, false]) {
      const result = instrument(bytes, { maxMemoryPages: 3, interruption });
      expect(result.stats.growCalls).toBe(2);
      expect(Buffer.from(result.bytes).includes('l8:internal/memory.grow')).toBe(true);
      const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {
        h: { f: () => {} },
        'l8:internal': { interrupt: () => 1000 },
      });
      const flag = instance.exports[result.growFailedGlobal!] as WebAssembly.Global;
      const growTwice = instance.exports.grow_twice as (n: number) => number;
      expect(growTwice(1)).toBe(2);
      expect(flag.value).toBe(0);
      expect(growTwice(1)).toBe(-1);
      expect(flag.value).toBe(1);
    }
  });

  it('adds the wrapper and flag to a module whose code never grows its memory (the host sees every module alike)', async () => {
    const bytes = await parseWat(`(module (memory (export "memory") 1) (func (export "size") (result i32) (memory.size)))`);
    const result = instrument(bytes, { maxMemoryPages: 1 });
    expect(result.stats.growCalls).toBe(0);
    expect(result.growFailedGlobal).toBe('__l8_grow_failed');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {
      'l8:internal': { interrupt: () => 1 },
    });
    expect((instance.exports.__l8_grow_failed as WebAssembly.Global).value).toBe(0);
    expect((instance.exports.size as () => number)()).toBe(1);
    // A module with only a memory gets the type, function, global, export and code sections it lacks.
    for (const interruption of [true, false]) {
      const bare = instrument(wasm([section(5, vec([[0x00, 0x01]]))]), { maxMemoryPages: 1, interruption });
      expect(bare.growFailedGlobal).toBe('__l8_grow_failed');
      expect(WebAssembly.validate(bare.bytes as Uint8Array<ArrayBuffer>)).toBe(true);
    }
  });

  it('rewrites a non-canonical memory index encoding of memory.grow', () => {
    // (memory.grow (i32.const 1)) with the memory index 0 written as two LEB128 bytes.
    const body = [0x00, 0x41, 0x01, 0x40, 0x80, 0x00, 0x0b];
    const bytes = wasm([
      section(1, vec([[0x60, 0x00, 0x01, 0x7f]])),
      section(3, vec([[0x00]])),
      section(5, vec([[0x01, 0x01, 0x01]])),
      section(7, vec([[...name('f'), 0x00, 0x00]])),
      section(10, vec([[...u32(body.length), ...body]])),
    ]);
    expect(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)).toBe(true);
    const result = instrument(bytes, { maxMemoryPages: 1, interruption: false });
    expect(result.stats.growCalls).toBe(1);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {});
    expect((instance.exports.f as () => number)()).toBe(-1);
    expect((instance.exports.__l8_grow_failed as WebAssembly.Global).value).toBe(1);
  });

  it('keeps a smaller declared maximum', async () => {
    const result = instrument(module('bulk').bytes, { maxMemoryPages: 100 });
    expect(result.memory).toEqual({ initialPages: 1, maximumPages: 2 });
    const capped = instrument(module('bulk').bytes, { maxMemoryPages: 1 });
    expect(capped.memory).toEqual({ initialPages: 1, maximumPages: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(capped.bytes as Uint8Array<ArrayBuffer>), {
      'l8:internal': { interrupt: () => 1000 },
    });
    expect((instance.exports.grow as (n: number) => number)(1)).toBe(-1);
  });

  it('rejects a module that needs more memory at start than the limit', () => {
    expectError(
      () => instrument(module('go').bytes, { maxMemoryPages: 16 }),
      /the module needs \d+ pages \([\d.]+ MiB\) of memory at start but the function's memory limit is 16 pages \(1 MiB\); raise limits.memoryMb/,
    );
  });
});

describe('globals', () => {
  it('exports every defined mutable global, readable and writable from JS', async () => {
    const result = inst('assemblyscript');
    expect(result.globals.length).toBeGreaterThan(0);
    expect(result.globals.every((g) => g.exportName.startsWith('__l8_global_'))).toBe(true);
    const guest = instantiateWith('assemblyscript', result, () => 1_000_000);
    guest.refuelTo(1_000_000);
    const globals = result.globals.map((g) => guest.exports[g.exportName] as WebAssembly.Global);
    const before = globals.map((g) => g.value);
    expect((guest.exports.bump as () => number)()).toBe(1);
    const changed = globals.filter((g, i) => g.value !== before[i]);
    expect(changed.length).toBe(1);
    const counter = changed[0]!;
    expect(counter.value).toBe(1);
    counter.value = 41;
    expect((guest.exports.bump as () => number)()).toBe(42);
    const info = result.globals[globals.indexOf(counter)]!;
    expect(info.valueType).toBe('i32');
  });

  it.each(['assemblyscript', 'rust', 'go'])('restoring globals and memory bytes resets a %s instance', async (name) => {
    const result = inst(name);
    const guest = instantiateWith(name, result, () => 1_000_000);
    const memory = guest.exports.memory as WebAssembly.Memory;
    const globals = result.globals.map((g) => guest.exports[g.exportName] as WebAssembly.Global);
    const snapshot = { bytes: new Uint8Array(memory.buffer).slice(), globals: globals.map((g) => g.value) };
    const work: Call = name === 'go' ? ['sort_checksum', 500, 1] : name === 'rust' ? ['sort_checksum', 500, 1] : ['sortChecksum', 500, 1];
    const call = (fn: string, ...args: unknown[]) => {
      guest.refuelTo(1_000_000);
      return (guest.exports[fn] as (...a: unknown[]) => unknown)(...args);
    };
    const first = call(work[0], ...work.slice(1));
    expect([call('bump'), call('bump'), call('bump')]).toEqual([1, 2, 3]);
    const restore = () => {
      expect(memory.buffer.byteLength).toBe(snapshot.bytes.length); // no growth, else a fresh instance is needed
      new Uint8Array(memory.buffer).set(snapshot.bytes);
      globals.forEach((g, i) => (g.value = snapshot.globals[i]));
    };
    restore();
    expect(call('bump')).toBe(1);
    expect(call(work[0], ...work.slice(1))).toBe(first);
    restore();
    expect(call('bump')).toBe(1);
  });

  it('never clashes with existing export names', async () => {
    const bytes = await parseWat(`(module (memory (export "memory") 1)
      (global $a (export "__l8_global_0") (mut i32) (i32.const 1))
      (global $b (mut i64) (i64.const 2))
      (global $c i32 (i32.const 3))
      (func (export "__l8_fuel") (result i32) (global.get $a)))`);
    const result = instrument(bytes, { maxMemoryPages: 1 });
    expect(result.globals).toEqual([
      { exportName: '__l8_global_0_1', valueType: 'i32', index: 0 },
      { exportName: '__l8_global_1', valueType: 'i64', index: 1 },
    ]);
    expect(result.fuelGlobal).toBe('__l8_fuel_1');
    expect(result.growFailedGlobal).toBe('__l8_grow_failed');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {
      'l8:internal': { interrupt: () => 1 },
    });
    expect((instance.exports.__l8_fuel as () => number)()).toBe(1);
    expect((instance.exports.__l8_global_1 as WebAssembly.Global).value).toBe(2n);
    expect((instance.exports.__l8_fuel_1 as WebAssembly.Global).value).toBe(50_000_000);
  });

  it('without interruption: no import, no fuel, code unchanged; globals still exported and memory capped', async () => {
    const result = instrument(module('rust').bytes, { maxMemoryPages: 100, interruption: false });
    expect(result.interruptImport).toBeNull();
    expect(result.fuelGlobal).toBeNull();
    expect(result.stats.loops).toBe(0);
    const mod = new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.imports(mod).some((i) => i.module === 'l8:internal')).toBe(false);
    expect(WebAssembly.Module.exports(mod).filter((e) => e.name.startsWith('__l8_global_')).length).toBe(result.globals.length);
    const original = await runCalls('rust', module('rust').bytes, CALLS.rust!);
    const rewritten = await runCalls('rust', result.bytes, CALLS.rust!, { instrumented: result });
    expect(rewritten.outcomes).toEqual(original.outcomes);
  });
});

describe('decoding', () => {
  it('keeps function names (the name section is remapped)', async () => {
    const bytes = await parseWat(`(module (import "h" "f" (func $imported)) (memory 1)
      (func $inner (loop $l) unreachable)
      (func $outer (export "outer") (call $inner)))`);
    const result = instrument(bytes, { maxMemoryPages: 1 });
    const stack = (b: Uint8Array) => {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(b as Uint8Array<ArrayBuffer>), {
        h: { f: () => {} },
        'l8:internal': { interrupt: () => 1 },
      });
      try {
        (instance.exports.outer as () => void)();
      } catch (error) {
        return (error as Error).stack!.split('\n').filter((l) => l.includes('wasm-function')).map((l) => l.trim().split(' ')[1]);
      }
      return [];
    };
    expect(stack(bytes)).toEqual(['inner', 'outer']);
    expect(stack(result.bytes)).toEqual(['inner', 'outer']);
  });

  it('decodes a memarg with an explicit memory index (multi-memory encoding)', () => {
    // i32.load with align flag bit 6 set and memory index 0, and i32.store likewise.
    const body = [0x00, 0x03, 0x40, 0x0b, 0x41, 0x00, 0x28, 0x42, 0x00, 0x04, 0x41, 0x08, 0x41, 0x07, 0x36, 0x42, 0x00, 0x00, 0x0b];
    const bytes = wasm([
      section(1, vec([[0x60, 0x00, 0x01, 0x7f]])),
      section(3, vec([[0x00]])),
      section(5, vec([[0x00, 0x01]])),
      section(7, vec([[...name('f'), 0x00, 0x00]])),
      section(10, vec([[...u32(body.length), ...body]])),
    ]);
    expect(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)).toBe(true);
    const result = instrument(bytes, { maxMemoryPages: 1 });
    expect(result.stats.loops).toBe(1);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {
      'l8:internal': { interrupt: () => 1 },
    });
    expect((instance.exports.f as () => number)()).toBe(0);
  });

  it('remaps function indices beyond one LEB128 byte', async () => {
    // 130 functions: indices 127 -> 128 grow from one byte to two.
    const funcs = Array.from({ length: 130 }, (_, i) => `(func $f${i} (result i32) (i32.const ${i}))`).join('\n');
    const bytes = await parseWat(`(module (import "h" "g" (func $g)) (memory 1) ${funcs}
      (table 130 funcref) (elem (i32.const 0) func ${Array.from({ length: 130 }, (_, i) => `$f${i}`).join(' ')})
      (func (export "sum") (result i32) (local $i i32) (local $s i32)
        (loop $l
          (local.set $s (i32.add (local.get $s) (call_indirect (result i32) (local.get $i))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 130))))
        (i32.add (local.get $s) (i32.add (call $f126) (call $f127))))
      (start $f129x) (func $f129x (drop (call $f128))))`);
    const result = instrument(bytes, { maxMemoryPages: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {
      h: { g: () => {} },
      'l8:internal': { interrupt: () => 1 },
    });
    expect((instance.exports.sum as () => number)()).toBe((129 * 130) / 2 + 126 + 127);
  });

  it('names an opcode it cannot decode, with its offset', () => {
    const body = [0x00, 0x41, 0x00, 0xfc, 0x13, 0x0b]; // 0xfc 19 (wide arithmetic) is not supported
    const bytes = wasm([
      section(1, vec([[0x60, 0x00, 0x00]])),
      section(3, vec([[0x00]])),
      section(5, vec([[0x00, 0x01]])),
      section(10, vec([[...u32(body.length), ...body]])),
    ]);
    expectError(() => instrument(bytes, { maxMemoryPages: 1 }), /unknown or unsupported instruction 0xfc 19 at byte offset 0x[0-9a-f]+ \(function 0\)/);
    const reserved = [0x00, 0x27, 0x0b];
    const other = wasm([
      section(1, vec([[0x60, 0x00, 0x00]])),
      section(3, vec([[0x00]])),
      section(5, vec([[0x00, 0x01]])),
      section(10, vec([[...u32(reserved.length), ...reserved]])),
    ]);
    const error = expectError(() => instrument(other, { maxMemoryPages: 1 }), /unknown or unsupported instruction opcode 0x27 at byte offset 0x/);
    expect(error.offset).toBe(other.length - 2);
  });
});

describe('malformed or unsupported input', () => {
  const minimal = () => wasm([section(5, vec([[0x00, 0x01]]))]);

  it('accepts a minimal module', () => {
    const result = instrument(minimal(), { maxMemoryPages: 1 });
    expect(result.memory).toEqual({ initialPages: 1, maximumPages: 1 });
    expect(WebAssembly.validate(result.bytes as Uint8Array<ArrayBuffer>)).toBe(true);
  });

  it.each([
    ['not wasm', new TextEncoder().encode('export function handle() {}'), /not a WebAssembly binary: it starts with 0x6578706f/],
    ['empty', new Uint8Array(0), /not a WebAssembly binary/],
    ['a component', new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]), /WebAssembly component, not a core module/],
    ['version 2', new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), /unsupported WebAssembly binary version 2/],
    ['no memory', wasm([]), /defines no memory; L8 functions must define and export one linear memory/],
    ['two memories', wasm([section(5, vec([[0x00, 0x01], [0x00, 0x01]]))]), /defines 2 memories/],
    ['memory64', wasm([section(5, vec([[0x04, 0x01]]))]), /64-bit memory \(memory64\)/],
    ['shared memory', wasm([section(5, vec([[0x03, 0x01, 0x02]]))]), /shared memory \(threads\)/],
    ['custom page size', wasm([section(5, vec([[0x08, 0x01, 0x00]]))]), /custom page sizes/],
    [
      'imported memory',
      wasm([section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]]))]),
      /imports its memory \("env" "memory"\); L8 functions must define and export their memory/,
    ],
    [
      'reserved import namespace',
      wasm([section(1, vec([[0x60, 0x00, 0x01, 0x7f]])), section(2, vec([[...name('l8:internal'), ...name('interrupt'), 0x00, 0x00]])), section(5, vec([[0x00, 0x01]]))]),
      /"l8:internal" namespace is reserved for the host/,
    ],
    ['unknown section', wasm([section(5, vec([[0x00, 0x01]])), section(42, [])]), /unknown section id 42/],
    ['sections out of order', wasm([section(5, vec([[0x00, 0x01]])), section(1, vec([]))]), /type section is duplicated or out of order/],
    ['section past the end', new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 10, 1, 0]), /declares 10 bytes but only 2 remain/],
  ])('%s', (_, bytes, message) => {
    expectError(() => instrument(bytes, { maxMemoryPages: 1 }), message);
  });

  it('rejects a bad memory limit option', () => {
    expectError(() => instrument(minimal(), { maxMemoryPages: 1.5 }), /maxMemoryPages must be a whole number/);
    expectError(() => instrument(minimal(), { maxMemoryPages: 65537 }), /maxMemoryPages must be a whole number/);
  });

  it('every truncation of a real module is an InstrumentError, never a broken module', () => {
    const bytes = module('multivalue').bytes;
    let rejected = 0;
    for (let n = 0; n < bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      try {
        const result = instrument(prefix, { maxMemoryPages: 1, dirtyTracking: n % 2 === 1 });
        // Cut at a section boundary: the prefix is itself a valid module.
        expect(WebAssembly.validate(prefix as Uint8Array<ArrayBuffer>), `prefix of ${n} bytes`).toBe(true);
        expect(WebAssembly.validate(result.bytes as Uint8Array<ArrayBuffer>), `prefix of ${n} bytes`).toBe(true);
      } catch (error) {
        expect(error, `prefix of ${n} bytes`).toBeInstanceOf(InstrumentError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(bytes.length - 10);
  });

  it('corrupted modules give an InstrumentError or a module that validates', () => {
    const bytes = module('simd').bytes;
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const copy = bytes.slice();
      const at = 8 + Math.floor(random() * (copy.length - 8));
      copy[at] = Math.floor(random() * 256);
      try {
        // Every other module with dirty tracking, which rewrites stores and bulk memory ops too.
        const result = instrument(copy, { maxMemoryPages: 4, dirtyTracking: i % 2 === 1 });
        expect(WebAssembly.validate(result.bytes as Uint8Array<ArrayBuffer>)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(InstrumentError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});

describe('dirty tracking', () => {
  const PAGE = 65536; // a wasm page
  const G = DIRTY_PAGE_SIZE; // what one byte of the map stands for
  const VALUE: Record<string, string> = {
    i32: '(i32.const -1)',
    i64: '(i64.const -1)',
    f32: '(f32.const -1)',
    f64: '(f64.const -1)',
    v128: '(v128.const i64x2 -1 -1)',
  };
  // [instruction, bytes written]
  const plainStores: Array<[string, number]> = [
    ['i32.store', 4], ['i64.store', 8], ['f32.store', 4], ['f64.store', 8], ['i32.store8', 1], ['i32.store16', 2],
    ['i64.store8', 1], ['i64.store16', 2], ['i64.store32', 4], ['v128.store', 16],
    ['v128.store8_lane', 1], ['v128.store16_lane', 2], ['v128.store32_lane', 4], ['v128.store64_lane', 8],
  ];
  const atomicWrites: Array<[string, number]> = [
    ['i32.atomic.store', 4], ['i64.atomic.store', 8], ['i32.atomic.store8', 1], ['i32.atomic.store16', 2], ['i64.atomic.store32', 4],
    ['i32.atomic.rmw.add', 4], ['i64.atomic.rmw8.or_u', 1], ['i64.atomic.rmw.xchg', 8], ['i32.atomic.rmw16.sub_u', 2],
    ['i32.atomic.rmw16.cmpxchg_u', 2], ['i64.atomic.rmw.cmpxchg', 8], ['i64.atomic.rmw32.cmpxchg_u', 4],
  ];
  const type = (op: string) => op.slice(0, op.indexOf('.'));
  const storeFunc = (op: string) => {
    const value = VALUE[type(op)]!;
    const zero = VALUE[type(op)]!.replace('-1', '0');
    const body = op.endsWith('_lane')
      ? `(${op} 0 (local.get $a) ${value})`
      : op.includes('cmpxchg')
        ? `(drop (${op} (local.get $a) ${zero} ${value}))`
        : op.includes('.rmw')
          ? `(drop (${op} (local.get $a) ${value}))`
          : `(${op} (local.get $a) ${value})`;
    return `(func (export "${op}") (param $a i32) ${body})`;
  };
  const KINDS = `(module
    (memory (export "memory") 4)
    (data $d "0123456789abcdef")
    ${[...plainStores, ...atomicWrites].map(([op]) => storeFunc(op)).join('\n')}
    (func (export "offset") (param $a i32) (i64.store offset=65536 (local.get $a) (i64.const -1)))
    (func (export "fill") (param $a i32) (param $n i32) (memory.fill (local.get $a) (i32.const 9) (local.get $n)))
    (func (export "copy") (param $a i32) (param $n i32) (memory.copy (local.get $a) (i32.const 0x30000) (local.get $n)))
    (func (export "init") (param $a i32) (param $n i32) (memory.init $d (local.get $a) (i32.const 0) (local.get $n)))
    ;; Scratch locals come after parameters and locals of every type, which keep their values.
    (func (export "locals") (param $a i32) (param $b i64) (result f64)
      (local $c f32) (local $d f64) (local $e v128)
      (local.set $c (f32.const 1.5)) (local.set $d (f64.const 2.25)) (local.set $e (v128.const f64x2 4 8))
      (f32.store (local.get $a) (local.get $c))
      (i64.store offset=8 (local.get $a) (local.get $b))
      (v128.store offset=16 (local.get $a) (local.get $e))
      (f64.store offset=32 (local.get $a) (local.get $d))
      (f64.add (f64.add (f64.promote_f32 (local.get $c)) (local.get $d))
        (f64.add (f64.convert_i64_s (local.get $b)) (f64x2.extract_lane 1 (local.get $e))))))`;

  let guest: { exports: Record<string, unknown>; bytes: Uint8Array; dirty: Uint8Array; result: InstrumentedModule };
  beforeAll(async () => {
    const result = instrument(await parseWat(KINDS), { maxMemoryPages: 4, dirtyTracking: true });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {
      'l8:internal': { interrupt: () => 1000 },
    });
    const exports = instance.exports as Record<string, unknown>;
    guest = {
      exports,
      bytes: new Uint8Array((exports.memory as WebAssembly.Memory).buffer),
      dirty: new Uint8Array((exports[result.dirtyMemory!] as WebAssembly.Memory).buffer),
      result,
    };
  });

  /** Dirty pages marked in the map (the memory has 4 wasm pages: 4 * PAGE / G entries). */
  const marked = () => [...guest.dirty.subarray(0, (4 * PAGE) / G + 4)].flatMap((m, page) => (m ? [page] : []));
  /** Runs one write on zeroed memory and a clear map; returns the marked pages. */
  const marksOf = (fn: string, ...args: number[]) => {
    guest.bytes.fill(0);
    guest.dirty.fill(0);
    (guest.exports[fn] as (...a: number[]) => void)(...args);
    return marked();
  };
  /** The dirty pages [from, from + length) touches. */
  const pages = (from: number, length: number) => {
    const list = [];
    for (let p = Math.floor(from / G); p <= Math.floor((from + length - 1) / G) && length > 0; p++) list.push(p);
    return list;
  };
  /** The write landed where it should: nothing outside [from, from + length) changed. */
  const wroteOnly = (from: number, length: number) => {
    const outside = guest.bytes.findIndex((b, i) => b !== 0 && (i < from || i >= from + length));
    expect(outside, `a byte at ${outside} outside ${from}..${from + length} changed`).toBe(-1);
    expect(guest.bytes.subarray(from, from + length).some((b) => b !== 0)).toBe(true);
  };

  it('exports a dirty map of one byte per dirty page of 4 GiB and counts what it instruments', () => {
    const { result } = guest;
    expect(result.dirtyMemory).toBe('__l8_dirty');
    expect(result.stats.stores).toBe(plainStores.length + atomicWrites.length + 1 + 4);
    expect(result.stats.bulkOps).toBe(3);
    const map = guest.exports.__l8_dirty as WebAssembly.Memory;
    expect(G).toBe(4096);
    expect(map.buffer.byteLength).toBe(2 ** 32 / G);
    expect(() => map.grow(1)).toThrow(RangeError);
    expect(Buffer.from(result.bytes).includes('l8:internal/mark-dirty')).toBe(false); // no name section in the input
    expect(instrument(module('rust').bytes, { maxMemoryPages: 16384, dirtyTracking: true }).bytes).toSatisfy(
      (b: Uint8Array) => Buffer.from(b).includes('l8:internal/mark-dirty'),
    );
  });

  it.each(plainStores)('%s (%i bytes) marks its page, both pages when it straddles a boundary', (op, size) => {
    for (const address of [0, G - size, G - 1, PAGE - 3, 3 * PAGE - 1, 4 * PAGE - size]) {
      expect(marksOf(op, address), `${op} at ${address}`).toEqual(pages(address, size));
      wroteOnly(address, size);
    }
  });

  it.each(atomicWrites)('%s (%i bytes) marks its page', (op, size) => {
    // Atomic accesses must be aligned, so they never straddle.
    for (const address of [0, G - size, G, PAGE - size, 2 * PAGE + 8 * size, 4 * PAGE - size]) {
      expect(marksOf(op, address), `${op} at ${address}`).toEqual(pages(address, size));
      wroteOnly(address, size);
    }
  });

  it('includes the memarg offset (65536) in the address', () => {
    for (const address of [0, G - 4, PAGE - 4, 3 * PAGE - 8]) {
      expect(marksOf('offset', address), `at ${address}`).toEqual(pages(address + PAGE, 8));
      wroteOnly(address + PAGE, 8);
    }
  });

  it.each([
    ['fill', 9],
    ['copy', 0xee],
  ])('memory.%s marks its destination range and writes what it did', (fn, value) => {
    const cases: Array<[number, number]> = [[0xfff0, 0x20], [G - 1, 2], [0x1234, 0x10], [0x2ffff, 1], [0x8000, 0x10000], [PAGE, 0]];
    for (const [address, length] of cases) {
      guest.bytes.fill(0);
      guest.dirty.fill(0);
      guest.bytes.fill(0xee, 0x30000); // copy's source
      (guest.exports[fn] as (a: number, n: number) => void)(address, length);
      expect(marked(), `${fn}(${address}, ${length})`).toEqual(pages(address, length));
      expect(guest.bytes.subarray(address, address + length).every((b) => b === value)).toBe(true);
    }
    // Out of bounds: traps before writing, marks nothing.
    guest.dirty.fill(0);
    expect(() => (guest.exports[fn] as (a: number, n: number) => void)(4 * PAGE - 8, 16)).toThrow(WebAssembly.RuntimeError);
    expect(guest.dirty.every((m) => m === 0)).toBe(true);
  });

  it('memory.init marks its destination range', () => {
    const data = new TextEncoder().encode('0123456789abcdef');
    for (const [address, length] of [[PAGE - 8, 16], [G - 1, 2], [2 * PAGE, 0], [3 * PAGE + 100, 16]] as Array<[number, number]>) {
      expect(marksOf('init', address, length)).toEqual(pages(address, length));
      expect([...guest.bytes.subarray(address, address + length)]).toEqual([...data.subarray(0, length)]);
    }
    guest.dirty.fill(0);
    expect(() => (guest.exports.init as (a: number, n: number) => void)(4 * PAGE - 8, 16)).toThrow(WebAssembly.RuntimeError);
    expect(guest.dirty.every((m) => m === 0)).toBe(true);
  });

  it('keeps parameters and locals of every type intact around the scratch locals', () => {
    guest.dirty.fill(0);
    expect((guest.exports.locals as (a: number, b: bigint) => number)(PAGE - 20, 1000n)).toBe(1.5 + 2.25 + 1000 + 8);
    expect(marked()).toEqual(pages(PAGE - 20, 60));
    const view = new DataView(guest.bytes.buffer);
    expect(view.getFloat32(PAGE - 20, true)).toBe(1.5);
    expect(view.getBigInt64(PAGE - 12, true)).toBe(1000n);
    expect(view.getFloat64(PAGE - 4, true)).toBe(4);
    expect(view.getFloat64(PAGE + 12, true)).toBe(2.25);
  });

  it.each(['assemblyscript', 'rust', 'go', ...watFiles])('%s: every page the calls changed is marked', async (name) => {
    const { language } = module(name);
    const result = inst(name, true);
    let memory: WebAssembly.Memory | null = null;
    let dirty: Uint8Array | null = null;
    const guest = instantiate(language, result.bytes, {
      instrumented: result,
      quantum: 1_000_000,
      // node:wasi writes into guest memory without marking (L8's own WASI marks through
      // GuestMemory): mark the pages a WASI call changed, so only the guest's writes are tested.
      wrapImports: (imports) => {
        const wasi = imports.wasi_snapshot_preview1 as Record<string, (...args: unknown[]) => unknown> | undefined;
        for (const [fn, impl] of Object.entries(wasi ?? {})) {
          wasi![fn] = (...args: unknown[]) => {
            if (!memory) return impl(...args);
            const before = new Uint8Array(memory.buffer).slice();
            try {
              return impl(...args);
            } finally {
              const after = Buffer.from(memory.buffer);
              for (let p = 0; p < before.length / G; p++) {
                if (!after.subarray(p * G, (p + 1) * G).equals(before.subarray(p * G, (p + 1) * G))) dirty![p] = 1;
              }
            }
          };
        }
      },
    });
    memory = guest.exports.memory as WebAssembly.Memory;
    dirty = new Uint8Array((guest.exports[result.dirtyMemory!] as WebAssembly.Memory).buffer);
    const snapshot = new Uint8Array(memory.buffer).slice();
    dirty.fill(0);
    for (const [fn, ...args] of CALLS[name]!) {
      try {
        await guest.call(fn, args);
      } catch {
        // The expected failures (EXPECTED_FAILURES) trap; what they wrote before must be marked too.
      }
    }
    const now = Buffer.from(memory.buffer);
    const changed = [];
    const unmarked = [];
    for (let p = 0; p < snapshot.length / G; p++) {
      if (now.subarray(p * G, (p + 1) * G).equals(snapshot.subarray(p * G, (p + 1) * G))) continue;
      changed.push(p);
      if (!dirty[p]) unmarked.push(p);
    }
    expect(unmarked, `pages changed but not marked (of ${changed.length} changed)`).toEqual([]);
    if (['assemblyscript', 'rust', 'go', 'atomics', 'bulk', 'simd'].includes(name)) expect(changed.length).toBeGreaterThan(0);
  });

  it('refuses code that names a memory other than 0 (it would reach the dirty map)', () => {
    const module = (body: number[]) =>
      wasm([
        section(1, vec([[0x60, 0x00, 0x00]])),
        section(3, vec([[0x00]])),
        section(5, vec([[0x00, 0x01]])),
        section(10, vec([[...u32(body.length + 1), 0x00, ...body]])),
      ]);
    const cases: Array<[string, number[]]> = [
      ['i32.store', [0x41, 0x00, 0x41, 0x07, 0x36, 0x42, 0x01, 0x00, 0x0b]],
      ['i32.load', [0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x1a, 0x0b]],
      ['memory.size', [0x3f, 0x01, 0x1a, 0x0b]],
      ['memory.grow', [0x41, 0x00, 0x40, 0x01, 0x1a, 0x0b]],
      ['memory.fill', [0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0b, 0x01, 0x0b]],
      ['memory.copy', [0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0a, 0x00, 0x01, 0x0b]],
    ];
    for (const [what, body] of cases) {
      expectError(
        () => instrument(module(body), { maxMemoryPages: 1, dirtyTracking: true }),
        /memory index 1 at byte offset 0x[0-9a-f]+ \(function 0\), but the module defines only memory 0/,
      );
      expect(() => instrument(module(body), { maxMemoryPages: 1 }), what).toThrow(InstrumentError);
    }
  });

  it('needs a module that defines its memory', () => {
    expectError(
      () => instrument(module('multivalue').bytes, { maxMemoryPages: 1, dirtyTracking: true, sharedMemory: true }),
      /dirty tracking needs a module that defines its memory; it cannot be combined with sharedMemory/,
    );
  });
});

// --- helpers ---------------------------------------------------------------------------

interface Instantiated {
  exports: Record<string, unknown>;
  refuelTo: (fuel: number) => void;
}

/** Instantiates an instrumented corpus module with the given interrupt import. */
function instantiateWith(name: string, result: InstrumentedModule, interrupt: unknown): Instantiated {
  const { imports, init } = guestImports(module(name).language);
  imports['l8:internal'] = { interrupt: interrupt as WebAssembly.ImportValue };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), imports);
  init(instance);
  const exports = instance.exports as Record<string, unknown>;
  return {
    exports,
    refuelTo: (fuel) => {
      (exports[result.fuelGlobal!] as WebAssembly.Global).value = fuel;
    },
  };
}

/** Pages the original corpus module has after instantiation (its declared minimum). */
function initialPages(name: string): number {
  const original = new WebAssembly.Module(module(name).bytes as Uint8Array<ArrayBuffer>);
  return (instantiateOriginal(name, original).exports.memory as WebAssembly.Memory).buffer.byteLength / 65536;
}

function instantiateOriginal(name: string, mod: WebAssembly.Module): WebAssembly.Instance {
  const { imports, init } = guestImports(module(name).language);
  const instance = new WebAssembly.Instance(mod, imports);
  init(instance);
  return instance;
}

async function parseWat(text: string): Promise<Uint8Array> {
  const { parse } = await import('@bytecodealliance/jco');
  return parse(text);
}

function expectError(fn: () => unknown, message: RegExp): InstrumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InstrumentError);
    expect((error as Error).message).toMatch(message);
    return error as InstrumentError;
  }
  throw new Error(`expected an InstrumentError matching ${message}`);
}

// A few lines of binary encoding for modules the text format cannot express (explicit
// memory indices) or must not (malformed input).
function u32(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...u32(b.length), ...b];
}
function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}
function section(id: number, content: number[]): number[] {
  return [id, ...u32(content.length), ...content];
}
function wasm(sections: number[][]): Uint8Array {
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()]);
}
