// Measures the load-time rewriter (host/instrument): how long the rewrite takes for real
// modules (with and without dirty-page tracking), what the injected loop checks and store
// marking cost at run time, and what one call of the interrupt import costs on each path
// (plain import, Suspending that returns at once, Suspending that yields to the event loop).
//
//   npx node bench/instrument.ts            (first run builds the corpus: ~15 s)
//
// Run times are CPU time of this process (process.cpuUsage), best of several runs: on a
// shared machine wall time mostly measures the other processes.
import { instrument, type InstrumentedModule } from '../host/instrument/index.ts';
import { buildAssemblyScript, buildGo, buildRust, guestImports, type Language } from '../host/instrument/testdata/corpus.ts';

const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
/** CPU milliseconds spent by this process since `since`. */
const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

function table(rows: Array<Record<string, string | number>>): void {
  console.table(rows);
}

async function main(): Promise<void> {
  process.removeAllListeners('warning'); // node:wasi's ExperimentalWarning
  const modules: Array<[string, Language, Uint8Array]> = [
    ['assemblyscript', 'assemblyscript', await buildAssemblyScript()],
    ['rust', 'rust', await buildRust()],
    ['go', 'go', await buildGo()],
  ];

  console.log('\n## Rewrite time (CPU ms; best / median of 15 runs after 3 warm-ups)\n');
  const rewriteRows = [];
  for (const [name, , bytes] of modules) {
    const rewrite: number[] = [];
    const rewriteDirty: number[] = [];
    const validate: number[] = [];
    const compile: number[] = [];
    const compileDirty: number[] = [];
    let last: InstrumentedModule | null = null;
    let lastDirty: InstrumentedModule | null = null;
    for (let i = 0; i < 18; i++) {
      let t = process.cpuUsage();
      last = instrument(bytes, { maxMemoryPages: 16384, validate: false });
      const r = cpuMs(t);
      t = process.cpuUsage();
      lastDirty = instrument(bytes, { maxMemoryPages: 16384, validate: false, dirtyTracking: true });
      const rd = cpuMs(t);
      const freshDirty = uncached(lastDirty.bytes, i);
      t = process.cpuUsage();
      new WebAssembly.Module(freshDirty as Uint8Array<ArrayBuffer>);
      const cd = cpuMs(t);
      t = process.cpuUsage();
      if (!WebAssembly.validate(last.bytes as Uint8Array<ArrayBuffer>)) throw new Error(`${name}: invalid output`);
      const v = cpuMs(t);
      const fresh = uncached(last.bytes, i);
      t = process.cpuUsage();
      new WebAssembly.Module(fresh as Uint8Array<ArrayBuffer>);
      const c = cpuMs(t);
      if (i >= 3) {
        rewrite.push(r);
        validate.push(v);
        compile.push(c);
        rewriteDirty.push(rd);
        compileDirty.push(cd);
      }
    }
    const code = bytes.length;
    rewriteRows.push({
      module: name,
      'size KB': Math.round(code / 1024),
      functions: last!.stats.functions,
      loops: last!.stats.loops,
      'rewrite ms': `${fmt(best(rewrite))} / ${fmt(median(rewrite))}`,
      'MB/s': Math.round(code / 1e6 / (best(rewrite) / 1000)),
      'validate ms': `${fmt(best(validate))} / ${fmt(median(validate))}`,
      'new Module ms': fmt(best(compile)),
      'size +%': (((last!.bytes.length - code) / code) * 100).toFixed(1),
      'dirty: stores': lastDirty!.stats.stores,
      'dirty: rewrite ms': `${fmt(best(rewriteDirty))} / ${fmt(median(rewriteDirty))}`,
      'dirty: new Module ms': fmt(best(compileDirty)),
      'dirty: size +%': (((lastDirty!.bytes.length - code) / code) * 100).toFixed(1),
    });
  }
  table(rewriteRows);

  console.log('\n## Run-time overhead of the loop checks and of dirty tracking (CPU ms, best of 7; sync calls, plain interrupt import)\n');
  const overheadRows = [];
  const workloads: Array<[string, Language, Uint8Array, string, Array<number | bigint>]> = [
    ['AS sum 100M', 'assemblyscript', modules[0]![2], 'sum', [100_000_000]],
    ['Rust sum 100M', 'rust', modules[1]![2], 'sum', [100_000_000n]],
    ['Rust spin 100M', 'rust', modules[1]![2], 'spin', [100_000_000]],
    ['Rust sort 1M', 'rust', modules[1]![2], 'sort_checksum', [1_000_000, 7]],
    ['AS sort 300k', 'assemblyscript', modules[0]![2], 'sortChecksum', [300_000, 7]],
    ['Go sum 100M', 'go', modules[2]![2], 'sum', [100_000_000n]],
    ['Go sort 300k', 'go', modules[2]![2], 'sort_checksum', [300_000, 7]],
    // Store-heavy: one random 32-bit store per iteration, the worst case for dirty tracking.
    ['AS stores 20M', 'assemblyscript', modules[0]![2], 'stores', [20_000_000, 7]],
    ['Rust stores 20M', 'rust', modules[1]![2], 'stores', [20_000_000, 7]],
    ['Go stores 20M', 'go', modules[2]![2], 'stores', [20_000_000, 7]],
  ];
  for (const [label, language, bytes, fn, args] of workloads) {
    const base = timeCalls(language, bytes, null, fn, args, 0);
    const row: Record<string, string | number> = { workload: label, 'original ms': fmt(base.ms) };
    const result = instrument(bytes, { maxMemoryPages: 16384 });
    for (const quantum of [10_000, 100_000, 1_000_000]) {
      const t = timeCalls(language, result.bytes, result, fn, args, quantum);
      if (t.value !== base.value) throw new Error(`${label}: instrumented result ${t.value} != ${base.value}`);
      row[`q=${quantum / 1000}k ms`] = `${fmt(t.ms)} (+${(((t.ms - base.ms) / base.ms) * 100).toFixed(0)}%)`;
      if (quantum === 10_000) row['interrupts @10k'] = t.interrupts;
    }
    const tracked = instrument(bytes, { maxMemoryPages: 16384, dirtyTracking: true });
    const d = timeCalls(language, tracked.bytes, tracked, fn, args, 100_000);
    if (d.value !== base.value) throw new Error(`${label}: result with dirty tracking ${d.value} != ${base.value}`);
    row['+dirty q=100k ms'] = `${fmt(d.ms)} (+${(((d.ms - base.ms) / base.ms) * 100).toFixed(0)}%)`;
    overheadRows.push(row);
  }
  table(overheadRows);

  console.log('\n## Cost of one interrupt call (CPU ns; a loop whose every iteration calls it, minus the same loop with fuel to spare)\n');
  table(await interruptCosts());

  console.log('\n## JSPI end to end: Rust spin 100M through WebAssembly.promising, Suspending interrupt (best of 3)\n');
  table(await jspiEndToEnd(modules[1]![2]));
}

/** The bytes plus a custom section, so V8's cache of compiled modules (keyed by the bytes) misses. */
function uncached(bytes: Uint8Array, n: number): Uint8Array {
  const name = new TextEncoder().encode(`bench-${n}`);
  const out = new Uint8Array(bytes.length + 3 + name.length);
  out.set(bytes);
  out.set([0, name.length + 1, name.length, ...name], bytes.length);
  return out;
}

function timeCalls(
  language: Language,
  bytes: Uint8Array,
  result: InstrumentedModule | null,
  fn: string,
  args: Array<number | bigint>,
  quantum: number,
): { ms: number; value: unknown; interrupts: number } {
  const { imports, init } = guestImports(language);
  let interrupts = 0;
  if (result?.interruptImport) {
    imports[result.interruptImport.module] = { [result.interruptImport.name]: () => (interrupts++, quantum) };
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), imports);
  init(instance);
  const exports = instance.exports as Record<string, unknown>;
  const fuel = result?.fuelGlobal ? (exports[result.fuelGlobal] as WebAssembly.Global) : null;
  const f = exports[fn] as (...a: unknown[]) => unknown;
  const times: number[] = [];
  let value: unknown;
  for (let i = 0; i < 7; i++) {
    if (fuel) fuel.value = quantum;
    interrupts = 0;
    const t = process.cpuUsage();
    value = f(...args);
    times.push(cpuMs(t));
  }
  return { ms: best(times), value, interrupts };
}

const LOOP_WAT = `(module (memory (export "memory") 1)
  (func (export "loop") (param $n i32) (result i32)
    (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $n)))`;

async function interruptCosts(): Promise<Array<Record<string, string | number>>> {
  const { parse } = await import('@bytecodealliance/jco');
  const result = instrument(await parse(LOOP_WAT), { maxMemoryPages: 1 });
  const make = (interrupt: unknown) => {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), {
      'l8:internal': { interrupt: interrupt as WebAssembly.ImportValue },
    });
    return {
      loop: instance.exports.loop as (n: number) => number,
      fuel: instance.exports[result.fuelGlobal!] as WebAssembly.Global,
    };
  };
  const n = 1_000_000;
  const perIteration = async (run: () => unknown, iterations: number) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.cpuUsage();
      await run();
      times.push(cpuMs(t));
    }
    return (best(times) * 1e6) / iterations;
  };
  const bare = new WebAssembly.Instance(new WebAssembly.Module((await parse(LOOP_WAT)) as Uint8Array<ArrayBuffer>));
  const bareLoop = bare.exports.loop as (n: number) => number;
  const uninstrumented = await perIteration(() => bareLoop(n * 10), n * 10);
  const plain = make(() => 1);
  const spare = await perIteration(() => {
    plain.fuel.value = 20 * n;
    return plain.loop(n * 10);
  }, n * 10);
  const plainCost = await perIteration(() => {
    plain.fuel.value = 1;
    return plain.loop(n);
  }, n);
  const immediate = make(new WebAssembly.Suspending(() => 1));
  const immediateLoop = WebAssembly.promising(immediate.loop);
  const immediateCost = await perIteration(() => {
    immediate.fuel.value = 1;
    return immediateLoop(n);
  }, n);
  const resolved = make(new WebAssembly.Suspending(() => Promise.resolve(1)));
  const resolvedLoop = WebAssembly.promising(resolved.loop);
  const resolvedCost = await perIteration(() => {
    resolved.fuel.value = 1;
    return resolvedLoop(n);
  }, n);
  const yielding = make(new WebAssembly.Suspending(() => new Promise((r) => setImmediate(() => r(1)))));
  const yieldingLoop = WebAssembly.promising(yielding.loop);
  const m = 20_000;
  const yieldingCost = await perIteration(() => {
    yielding.fuel.value = 1;
    return yieldingLoop(m);
  }, m);
  return [
    { path: 'loop iteration, not instrumented', 'ns/iteration': uninstrumented.toFixed(2), 'ns/interrupt': '-' },
    { path: 'loop iteration with its check, fuel to spare', 'ns/iteration': spare.toFixed(2), 'ns/interrupt': '-' },
    { path: 'plain JS function import (cannot yield)', 'ns/iteration': plainCost.toFixed(1), 'ns/interrupt': (plainCost - spare).toFixed(1) },
    { path: 'Suspending, returns a number (suspends anyway)', 'ns/iteration': immediateCost.toFixed(1), 'ns/interrupt': (immediateCost - spare).toFixed(1) },
    { path: 'Suspending, returns a resolved Promise', 'ns/iteration': resolvedCost.toFixed(1), 'ns/interrupt': (resolvedCost - spare).toFixed(1) },
    { path: 'Suspending, yields with setImmediate', 'ns/iteration': yieldingCost.toFixed(0), 'ns/interrupt': (yieldingCost - spare).toFixed(0) },
  ];
}

async function jspiEndToEnd(rust: Uint8Array): Promise<Array<Record<string, string | number>>> {
  const result = instrument(rust, { maxMemoryPages: 16384 });
  const rows: Array<Record<string, string | number>> = [];
  const limit = 100_000_000;
  {
    const { imports, init } = guestImports('rust');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(rust as Uint8Array<ArrayBuffer>), imports);
    init(instance);
    const spin = instance.exports.spin as (n: number) => number;
    const cpu: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = process.cpuUsage();
      spin(limit);
      cpu.push(cpuMs(c));
    }
    rows.push({ quantum: '-', interrupt: 'original module, direct call', 'CPU ms': fmt(best(cpu)), 'wall ms': '-', interrupts: 0 });
  }
  for (const quantum of [10_000, 100_000, 1_000_000]) {
    for (const yields of [false, true]) {
      const { imports, init } = guestImports('rust');
      let interrupts = 0;
      imports['l8:internal'] = {
        interrupt: new WebAssembly.Suspending(
          yields
            ? () => new Promise<number>((r) => setImmediate(() => (interrupts++, r(quantum))))
            : () => (interrupts++, quantum),
        ) as WebAssembly.ImportValue,
      };
      const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes as Uint8Array<ArrayBuffer>), imports);
      init(instance);
      const exports = instance.exports as Record<string, unknown>;
      const fuel = exports[result.fuelGlobal!] as WebAssembly.Global;
      const spin = WebAssembly.promising(exports.spin as (n: number) => number);
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < 3; i++) {
        fuel.value = quantum;
        interrupts = 0;
        const t = performance.now();
        const c = process.cpuUsage();
        const v = await spin(limit);
        cpu.push(cpuMs(c));
        wall.push(performance.now() - t);
        if (v !== limit) throw new Error(`spin returned ${v}`);
      }
      rows.push({
        quantum,
        interrupt: yields ? 'yields (setImmediate)' : 'returns at once',
        'CPU ms': fmt(best(cpu)),
        'wall ms': fmt(best(wall)),
        interrupts,
      });
    }
  }
  return rows;
}

await main();
