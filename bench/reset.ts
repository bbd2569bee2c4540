// What fresh state costs per request: Go, Rust and AssemblyScript hello through the host's
// own call path (LoadedFunction: pool, arguments, guest, reset), with the whole memory
// copied back after every request (what the host did before dirty tracking), with only
// the written pages copied back, with the host's default choice, and without any reset
// (reuse mode: the floor). Also the reset alone, pages written per request, and what a
// 4 KiB dirty page and a whole memory cost to copy back, from which the threshold in
// host/core/core-form.ts was chosen.
//
//   npx node bench/reset.ts            (needs the examples: npm run build:examples)
//
// CPU time of this process (process.cpuUsage), best of several rounds, the variants taking
// turns round by round: the machines are shared and noisy, and wall time mostly measures
// the other processes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallContext, GuestRequest, HostServices } from '../host/call-context.ts';
import { CoreCompiled, DIRTY_TRACKING_THRESHOLD_BYTES, type CoreCompileOptions } from '../host/core/core-form.ts';
import type { CoreInstance } from '../host/core/core-instance.ts';
import type { InstanceOptions } from '../host/guest-instance.ts';
import { DIRTY_PAGE_SIZE } from '../host/instrument/index.ts';
import { DEFAULT_TUNING, LoadedFunction } from '../host/loaded-function.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODULES: Array<[label: string, path: string]> = [
  ['Go hello', 'examples/tinygo/build/hello.wasm'],
  ['Rust hello', 'examples/rust/build/hello.wasm'],
  ['AssemblyScript hello', 'examples/assemblyscript/build/hello.wasm'],
];
const VARIANTS: Array<[label: string, dirtyTracking: CoreCompileOptions['dirtyTracking'], reuse: boolean]> = [
  ['whole memory (before)', false, false],
  ['dirty pages', true, false],
  ['default (auto)', 'auto', false],
  ['reuse, no reset (floor)', false, true],
];
const REQUESTS = 400;
const ROUNDS = 15;
const WASM_PAGE = 65536;

const refuse = () => Promise.reject(new Error('not used by hello'));
const services: HostServices = {
  stateGet: refuse,
  stateSet: refuse,
  stateDelete: refuse,
  publish: refuse,
  configGet: () => null,
  invoke: refuse,
  tryLock: refuse,
  unlock: refuse,
  keepAlive: refuse,
  nextId: refuse,
};
const ctx = (): CallContext => ({
  requestId: 'bench',
  functionName: 'hello',
  deadline: performance.now() + 10_000,
  depth: 0,
  services,
  cancelled: false,
  log: () => {},
});
const request: GuestRequest = {
  method: 'GET',
  path: '/hello',
  query: '',
  headers: [['accept', '*/*'], ['user-agent', 'bench']],
  body: new Uint8Array(0),
};

const cpuMicros = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return u.user + u.system;
};
const best = (xs: number[]) => Math.min(...xs);
const fmt = (us: number) => (us < 10 ? us.toFixed(2) : us.toFixed(1));

/** CPU µs per request through LoadedFunction for each variant, best round; the variants take turns. */
async function perRequest(bytes: Uint8Array): Promise<Array<{ us: number; tracked: boolean }>> {
  const fns = [];
  for (const [, dirtyTracking, reuse] of VARIANTS) {
    const compiled = new CoreCompiled(bytes, { maxMemoryPages: 16384, sha256: 'bench', dirtyTracking });
    const limits = { timeoutMs: 10_000, memoryPages: 16384, maxConcurrency: 1, maxQueue: 16, reuse };
    const fn = await LoadedFunction.load('hello', 1, compiled, limits, DEFAULT_TUNING, () => {});
    for (let i = 0; i < REQUESTS; i++) await fn.handleHttp(ctx(), request); // JIT warm-up
    fns.push({ fn, compiled, rounds: [] as number[] });
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const { fn, rounds } of fns) {
      const t = process.cpuUsage();
      for (let i = 0; i < REQUESTS; i++) {
        const response = await fn.handleHttp(ctx(), request);
        if (response.status !== 200) throw new Error(`hello answered ${response.status}`);
      }
      rounds.push(cpuMicros(t) / REQUESTS);
    }
  }
  return fns.map(({ fn, compiled, rounds }) => {
    fn.close();
    return { us: best(rounds), tracked: compiled.instrumented.dirtyMemory !== null };
  });
}

/** The reset alone (wall µs, sync, best round's mean), and what one request leaves to restore. */
async function resetOnly(bytes: Uint8Array, dirtyTracking: boolean) {
  const compiled = new CoreCompiled(bytes, { maxMemoryPages: 16384, sha256: 'bench', dirtyTracking });
  const options: InstanceOptions = { reuse: false, fuelQuantum: DEFAULT_TUNING.fuelQuantum, sliceMs: DEFAULT_TUNING.sliceMs };
  const instance = compiled.instantiate(options, () => {}) as CoreInstance;
  const memory = instance.slot.memory!.u8();
  let zeroPages = 0;
  const G = DIRTY_PAGE_SIZE;
  for (let p = 0; p < memory.length / G; p++) if (memory.subarray(p * G, (p + 1) * G).every((b) => b === 0)) zeroPages++;
  const rounds: number[] = [];
  let dirtyPages = 0;
  for (let r = 0; r < ROUNDS + 2; r++) {
    let total = 0n;
    for (let i = 0; i < REQUESTS / 4; i++) {
      await instance.handleHttp(ctx(), request);
      dirtyPages = instance.dirtyPageCount();
      const t = process.hrtime.bigint();
      if (!instance.reset()) throw new Error('reset refused');
      total += process.hrtime.bigint() - t;
    }
    if (r >= 2) rounds.push(Number(total) / 1000 / (REQUESTS / 4));
  }
  return { us: best(rounds), dirtyPages, snapshotKiB: instance.snapshotBytes / 1024, zeroPages };
}

/** µs to copy back / zero one dirty page, and to copy back whole memories. */
function pageCosts(): Array<Record<string, string>> {
  const G = DIRTY_PAGE_SIZE;
  const pages = 1024; // 4 MiB: larger than the caches a request's pages would be in
  const memory = new Uint8Array(pages * G);
  const snapshot = new Uint8Array(pages * G).fill(7);
  const time = (fn: () => void, n: number) => {
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn();
      rounds.push(Number(process.hrtime.bigint() - t) / 1000 / n);
    }
    return best(rounds);
  };
  let p = 0;
  const copyOne = time(() => {
    p = (p + 17) % pages; // not the same page every time: a request's pages are not in cache either
    memory.set(snapshot.subarray(p * G, (p + 1) * G), p * G);
  }, 5000);
  const zeroOne = time(() => {
    p = (p + 17) % pages;
    memory.fill(0, p * G, (p + 1) * G);
  }, 5000);
  const copyAll = (n: number) => time(() => memory.subarray(0, n * WASM_PAGE).set(snapshot.subarray(0, n * WASM_PAGE)), 200);
  return [
    { what: `copy back one ${G / 1024} KiB dirty page (set)`, 'µs': fmt(copyOne) },
    { what: `zero one ${G / 1024} KiB dirty page (fill 0)`, 'µs': fmt(zeroOne) },
    { what: 'copy back a whole memory of 1 / 2 / 4 / 8 / 37 wasm pages', 'µs': [1, 2, 4, 8, 37].map((n) => fmt(copyAll(n))).join(' / ') },
  ];
}

async function main(): Promise<void> {
  process.removeAllListeners('warning');
  const rows: Array<Record<string, string | number>> = [];
  const resets: Array<Record<string, string | number>> = [];
  for (const [label, path] of MODULES) {
    const file = join(ROOT, path);
    if (!existsSync(file)) {
      console.warn(`${label}: ${path} is missing, skipped (npm run build:examples)`);
      continue;
    }
    const bytes = new Uint8Array(readFileSync(file));
    const row: Record<string, string | number> = { module: `${label} (${Math.round(bytes.length / 1024)} KB)` };
    const results = new Map<string, number>();
    const measured = await perRequest(bytes);
    VARIANTS.forEach(([variant, dirtyTracking], i) => {
      const { us, tracked } = measured[i]!;
      results.set(variant, us);
      row[`${variant} µs`] = dirtyTracking === 'auto' ? `${fmt(us)} (${tracked ? 'pages' : 'whole'})` : fmt(us);
    });
    const before = results.get('whole memory (before)')!;
    const after = results.get('default (auto)')!;
    row['before / after'] = (before / after).toFixed(2);
    rows.push(row);
    for (const tracked of [false, true]) {
      const r = await resetOnly(bytes, tracked);
      resets.push({
        module: label,
        reset: tracked ? 'dirty pages' : 'whole memory',
        'snapshot KiB': r.snapshotKiB,
        'zero dirty pages': r.zeroPages,
        'dirty pages written': tracked ? r.dirtyPages : '-',
        'reset µs': fmt(r.us),
      });
    }
  }
  console.log(`\n## Per request, fresh state (CPU µs, best of ${ROUNDS} rounds of ${REQUESTS} sequential requests)\n`);
  console.table(rows);
  console.log(`\n## reset() alone after one request (wall µs, mean of the best round)\n`);
  console.table(resets);
  console.log(`\n## Page costs (wall µs, best round); tracking is on above ${DIRTY_TRACKING_THRESHOLD_BYTES / 1024} KiB\n`);
  console.table(pageCosts());
}

await main();
