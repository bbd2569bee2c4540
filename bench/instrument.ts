// Measures the load-time rewriter (host/instrument): how long the rewrite takes for real
// modules, what the injected loop checks cost at run time, and what one call of the
// interrupt import costs on each path (plain import, Suspending that returns at once,
// Suspending that yields to the event loop).
//
//   npx node bench/instrument.ts            (first run builds the corpus: ~15 s)
//
// Figures are the best of several runs, since other processes share the machine.
import { instrument, type InstrumentedModule } from '../host/instrument/index.ts';
import { buildAssemblyScript, buildGo, buildRust, guestImports, type Language } from '../host/instrument/testdata/corpus.ts';

const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

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

  console.log('\n## Rewrite time (ms; best / median of 15 runs after 3 warm-ups)\n');
  const rewriteRows = [];
  for (const [name, , bytes] of modules) {
    const rewrite: number[] = [];
    const validate: number[] = [];
    let last: InstrumentedModule | null = null;
    for (let i = 0; i < 18; i++) {
      const r = instrument(bytes, { maxMemoryPages: 16384 });
      if (i >= 3) {
        rewrite.push(r.stats.millis - r.stats.validateMillis);
        validate.push(r.stats.validateMillis);
      }
      last = r;
    }
    const compile: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      new WebAssembly.Module(last!.bytes as Uint8Array<ArrayBuffer>);
      compile.push(performance.now() - t);
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
    });
  }
  table(rewriteRows);

  console.log('\n## Run-time overhead of the loop checks (ms, best of 5; sync calls, plain interrupt import)\n');
  const overheadRows = [];
  const workloads: Array<[string, Language, Uint8Array, string, Array<number | bigint>]> = [
    ['AS sum 100M', 'assemblyscript', modules[0]![2], 'sum', [100_000_000]],
    ['Rust sum 100M', 'rust', modules[1]![2], 'sum', [100_000_000n]],
    ['Rust spin 100M', 'rust', modules[1]![2], 'spin', [100_000_000]],
    ['Rust sort 1M', 'rust', modules[1]![2], 'sort_checksum', [1_000_000, 7]],
    ['AS sort 300k', 'assemblyscript', modules[0]![2], 'sortChecksum', [300_000, 7]],
    ['Go sum 100M', 'go', modules[2]![2], 'sum', [100_000_000n]],
    ['Go sort 300k', 'go', modules[2]![2], 'sort_checksum', [300_000, 7]],
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
    overheadRows.push(row);
  }
  table(overheadRows);

  console.log('\n## Cost of one interrupt call (ns; a loop whose every iteration calls it, minus the same loop with fuel to spare)\n');
  table(await interruptCosts());

  console.log('\n## JSPI end to end: Rust spin 100M through WebAssembly.promising, Suspending interrupt (ms, best of 3)\n');
  table(await jspiEndToEnd(modules[1]![2]));
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
  for (let i = 0; i < 5; i++) {
    if (fuel) fuel.value = quantum;
    interrupts = 0;
    const t = performance.now();
    value = f(...args);
    times.push(performance.now() - t);
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
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    return (best(times) * 1e6) / iterations;
  };
  const plain = make(() => 1);
  const spare = await perIteration(() => {
    plain.fuel.value = 2 * n;
    return plain.loop(n);
  }, n);
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
    { path: 'loop iteration with its check, fuel to spare', 'ns/iteration': spare.toFixed(2), 'ns/interrupt': '-' },
    { path: 'plain JS function import (cannot yield)', 'ns/iteration': plainCost.toFixed(1), 'ns/interrupt': (plainCost - spare).toFixed(1) },
    { path: 'Suspending, returns a number (suspends anyway)', 'ns/iteration': immediateCost.toFixed(1), 'ns/interrupt': (immediateCost - spare).toFixed(1) },
    { path: 'Suspending, returns a resolved Promise', 'ns/iteration': resolvedCost.toFixed(1), 'ns/interrupt': (resolvedCost - spare).toFixed(1) },
    { path: 'Suspending, yields with setImmediate', 'ns/iteration': yieldingCost.toFixed(0), 'ns/interrupt': (yieldingCost - spare).toFixed(0) },
  ];
}

async function jspiEndToEnd(rust: Uint8Array): Promise<Array<Record<string, string | number>>> {
  const result = instrument(rust, { maxMemoryPages: 16384 });
  const rows = [];
  const limit = 100_000_000;
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
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        fuel.value = quantum;
        interrupts = 0;
        const t = performance.now();
        const v = await spin(limit);
        times.push(performance.now() - t);
        if (v !== limit) throw new Error(`spin returned ${v}`);
      }
      rows.push({ quantum, interrupt: yields ? 'yields (setImmediate)' : 'returns at once', ms: fmt(best(times)), interrupts });
    }
  }
  return rows;
}

await main();
