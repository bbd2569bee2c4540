// `npm run bench:wasm-components`: the same function as a core module and as a
// WebAssembly component, in one run — what a new instance costs and what a request costs
// with fresh state (the instance is restored from its snapshot after every call), plus a
// JavaScript component (componentize-js) and the hand-written probe module for scale.
//
//   npm run build:examples -- rust javascript
//   npm run bench:wasm-components
//   npm run bench:wasm-components -- --requests 2000 --instances 20 --write
//
// `--write` also records the table in docs/benchmarks.md. Machines are noisy: only numbers
// from the same run compare.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CallContext } from '../host/call-context.ts';
import type { CompiledFunction, GuestInstance, InstanceOptions } from '../host/guest-instance.ts';
import { DEFAULT_TUNING, LoadedFunction } from '../host/loaded-function.ts';
import { compileFunction, sha256 } from '../host/module-forms.ts';
import { wrapCoreModule } from '../host/component/wrap.ts';
import { hostServices } from '../test/support/host-services.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    instances: { type: 'string', default: '10' },
    write: { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(args.requests);
const INSTANCES = Number(args.instances);
const ROOT = resolve(import.meta.dirname, '..');
const MEMORY_PAGES = 2048; // 128 MiB, the runtime's default limit

const services = hostServices();

function ctx(): CallContext {
  return { requestId: 'bench', functionName: 'bench', deadline: performance.now() + 30_000, depth: 0, services, cancelled: false, log: () => {} };
}

interface Subject {
  name: string;
  form: string;
  bytes: Uint8Array;
  /** A request it answers 200 without host calls. */
  path: string;
}

interface Row {
  subject: Subject;
  size: number;
  compileMs: number;
  instantiateMs: number;
  /** Instance-level: one call, then one reset, on a warm instance. */
  callUs: number;
  resetUs: number;
  /** Through LoadedFunction (pool, deadline, reset), one request at a time. */
  requestUs: number;
  memoryMiB: number;
}

const options: InstanceOptions = { reuse: false, fuelQuantum: DEFAULT_TUNING.fuelQuantum, sliceMs: DEFAULT_TUNING.sliceMs };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(subject: Subject, cacheDir: string): Promise<Row> {
  let started = performance.now();
  const compiled: CompiledFunction = await compileFunction(subject.bytes, { maxMemoryPages: MEMORY_PAGES, sha256: sha256(subject.bytes), cacheDir });
  const compileMs = performance.now() - started;
  const request = { method: 'GET', path: subject.path, query: '', headers: [] as Array<[string, string]>, body: new Uint8Array() };

  // A new instance: what a host without snapshots pays on every request.
  const times: number[] = [];
  let instance: GuestInstance | null = null;
  for (let i = 0; i <= INSTANCES; i++) {
    started = performance.now();
    instance = await compiled.instantiate(options, () => {});
    if (i > 0) times.push(performance.now() - started); // the first one also compiles lazily
  }
  const warm = instance!;
  const fn = await LoadedFunction.load('bench', 1, compiled, { timeoutMs: 30_000, memoryPages: MEMORY_PAGES, maxConcurrency: 1, maxQueue: 16, reuse: false }, DEFAULT_TUNING, () => {});

  /** One call and one reset on the warm instance, timed separately. */
  const direct = async (n: number) => {
    let call = 0;
    let reset = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const response = await warm.handleHttp(ctx(), request);
      const t1 = performance.now();
      if (response.status !== 200) throw new Error(`${subject.name} answered ${response.status} to ${subject.path}`);
      if (!warm.reset()) throw new Error(`${subject.name}: reset failed (memory grew during ${subject.path})`);
      reset += performance.now() - t1;
      call += t1 - t0;
    }
    return { call: (call / n) * 1000, reset: (reset / n) * 1000 };
  };
  /** Requests through the pool (acquire, deadline, call, reset, release). */
  const pooled = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn.handleHttp(ctx(), request);
    return ((performance.now() - t0) / n) * 1000;
  };
  // Warm both paths (JIT, wasm tier-up), then alternate batches so both see the same
  // machine; each figure is the median of the batch means.
  await direct(200);
  await pooled(200);
  const ROUNDS = 5;
  const batch = Math.max(1, Math.round(REQUESTS / ROUNDS));
  const calls: number[] = [];
  const resets: number[] = [];
  const requests: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const d = await direct(batch);
    calls.push(d.call);
    resets.push(d.reset);
    requests.push(await pooled(batch));
  }
  fn.close();
  const callUs = median(calls);
  const resetUs = median(resets);
  const requestUs = median(requests);
  return {
    subject,
    size: subject.bytes.length,
    compileMs,
    instantiateMs: median(times),
    callUs,
    resetUs,
    requestUs,
    memoryMiB: warm.memoryBytes / (1 << 20),
  };
}

async function subjects(): Promise<Subject[]> {
  const list: Subject[] = [];
  const rust = join(ROOT, 'examples/rust/build/conformance.wasm');
  if (existsSync(rust)) {
    const core = new Uint8Array(readFileSync(rust));
    list.push({ name: 'Rust conformance', form: 'core module', bytes: core, path: '/conf/status/200' });
    list.push({ name: 'Rust conformance', form: 'component (wrapped core module + preview1 adapter)', bytes: (await wrapCoreModule(core)).component, path: '/conf/status/200' });
  } else {
    console.warn(`no ${rust}: build it with npm run build:examples -- rust`);
  }
  const { parse } = (await import('@bytecodealliance/jco')) as unknown as { parse(wat: string): Promise<Uint8Array> };
  const probe = await parse(readFileSync(join(ROOT, 'test/fixtures/probe.wat'), 'utf8'));
  list.push({ name: 'probe.wat (hand-written)', form: 'core module', bytes: probe, path: '/count' });
  list.push({ name: 'probe.wat (hand-written)', form: 'component (wrapped core module + preview1 adapter)', bytes: (await wrapCoreModule(probe)).component, path: '/count' });
  const js = join(ROOT, 'examples/javascript/build/conformance.wasm');
  if (existsSync(js)) {
    list.push({ name: 'JavaScript conformance', form: 'component (componentize-js)', bytes: new Uint8Array(readFileSync(js)), path: '/conf/status/200' });
  } else {
    console.warn(`no ${js}: build it with npm run build:examples -- javascript`);
  }
  return list;
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'l8-bench-components-'));
  const rows: Row[] = [];
  for (const subject of await subjects()) {
    console.error(`measuring ${subject.name}, ${subject.form}...`);
    rows.push(await measure(subject, cacheDir));
  }
  const date = new Date().toISOString().slice(0, 10);
  const load = loadavg().map((l) => l.toFixed(1)).join(' / ');
  const lines = [
    `## WebAssembly components vs core modules`,
    '',
    `Measured ${date} with \`npm run bench:wasm-components -- --requests ${REQUESTS} --instances ${INSTANCES}\` on ${cpus().length} × ${cpus()[0]?.model.trim()}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}; load average ${load} (1/5/15 min). All rows in one run, in one process, ` +
      'host calls answered by plain functions. *instantiate*: a new instance, initialisation included (median of ' +
      `${INSTANCES}) — what a host pays per request without snapshots. *call* and *reset*: one request on a warm instance and ` +
      'restoring its snapshot afterwards (memory, globals and, for components, the glue\'s resource tables). *request*: the whole path through the ' +
      'instance pool with fresh state, one request at a time. Per-request figures are medians of 5 batches, after a warm-up. ' +
      '*compile*: check, transpile (components, cold cache), instrument and compile.',
    '',
    '| function | form | size | compile ms | instantiate ms | call µs | reset µs | request µs | memory MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.subject.name} | ${r.subject.form} | ${fmt(r.size / 1024, 0)} KiB | ${fmt(r.compileMs, 0)} | ${fmt(r.instantiateMs, 2)} | ${fmt(r.callUs)} | ${fmt(r.resetUs)} | ${fmt(r.requestUs)} | ${fmt(r.memoryMiB)} |`,
    ),
  ];
  // What the table says, in the numbers of this run.
  const notes: string[] = [];
  const byName = new Map<string, Row[]>();
  for (const row of rows) byName.set(row.subject.name, [...(byName.get(row.subject.name) ?? []), row]);
  for (const [name, pair] of byName) {
    const core = pair.find((r) => r.subject.form === 'core module');
    const component = pair.find((r) => r.subject.form !== 'core module');
    if (core && component) {
      notes.push(
        `- ${name}: as a component a request costs ${fmt(component.requestUs / core.requestUs)}× the core module's (${fmt(component.requestUs, 0)} vs ${fmt(core.requestUs, 0)} µs) ` +
          `and a new instance ${fmt(component.instantiateMs / core.instantiateMs)}×; the difference is jco's glue (lifting and lowering in JavaScript, its task bookkeeping) and the preview1 adapter.`,
      );
    }
  }
  for (const row of rows.filter((r) => r.subject.form.includes('componentize-js'))) {
    notes.push(
      `- ${row.subject.name}: a new instance per request would cost ${fmt(row.instantiateMs, 1)} ms of CPU; with the snapshot a request costs ${fmt(row.requestUs / 1000, 2)} ms, ` +
        `${fmt(row.resetUs / 1000, 2)} ms of it restoring the ${fmt(row.memoryMiB)} MiB memory (a full copy).`,
    );
  }
  lines.push('', ...notes);
  const table = lines.join('\n');
  console.log(table);
  if (args.write) {
    const doc = join(ROOT, 'docs/benchmarks.md');
    const text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
    const start = text.indexOf('## WebAssembly components vs core modules');
    const next = start === -1 ? -1 : text.indexOf('\n## ', start + 1);
    const updated = start === -1 ? `${text.trimEnd()}\n\n${table}\n` : `${text.slice(0, start)}${table}\n${next === -1 ? '' : text.slice(next)}`;
    writeFileSync(doc, updated);
    console.error(`written to ${doc}`);
  }
}

await main();
