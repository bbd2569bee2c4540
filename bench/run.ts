// `npm run bench`: builds what it needs, starts the runtime and a bare Fastify server with
// the same number of threads, drives both with the same load tool (autocannon) in the same
// run, and prints ratios. Machines are noisy: only ratios measured side by side mean much.
//
//   npm run bench                      every case
//   npm run bench -- --cases hello,state --duration 5 --workers 2
//   npm run bench -- --write           also record the table in docs/benchmarks.md
import autocannon from 'autocannon';
import { execSync as execSyncRaw, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ROOT, startRuntimeProcess, tempDataDir, type RuntimeProcess } from '../test/support/runtime-process.ts';
import { buildBenchFunctions, BENCH_BUILD } from './functions/build.ts';
import { coldStartModules } from './cold-start-modules.ts';
import { freePort } from '../test/support/free-port.ts';

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string' },
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    workers: { type: 'string', default: '0' },
    density: { type: 'string', default: '1000' },
    write: { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const WORKERS = Number(args.workers);
const ALL_CASES = ['hello', 'state', 'invoke', 'echo', 'hostcall', 'cold', 'runaway', 'density'];
const CASES = args.cases ? args.cases.split(',') : ALL_CASES;

interface Load {
  rps: number;
  /** CPU time (user + system, all threads) the server spent per request. */
  cpuUs: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** CPU time of a process so far, in µs (Linux: utime + stime of /proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function load(url: string, options: { method?: string; body?: Buffer | string; duration?: number; pid: number }): Promise<Load> {
  // A short warm-up first: JIT, pools and connections.
  const request = { url, connections: CONNECTIONS, method: (options.method ?? 'GET') as 'GET', ...(options.body ? { body: options.body } : {}) };
  await autocannon({ ...request, duration: 1 });
  const cpuBefore = cpuMicros(options.pid);
  const result = await autocannon({ ...request, duration: options.duration ?? DURATION });
  const cpu = cpuMicros(options.pid) - cpuBefore;
  return {
    rps: result.requests.average,
    cpuUs: cpu / Math.max(1, result.requests.total),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}


async function startBaseline(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bench/baseline-server.ts')], {
    env: { ...process.env, PORT: String(port), THREADS: String(WORKERS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (l) => l.includes('baseline is serving') && resolve()));
  return { url: `http://127.0.0.1:${port}`, child };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface Row {
  case: string;
  baseline: string;
  runtime: string;
  ratio: string;
  note: string;
}
const rows: Row[] = [];

function throughputRow(name: string, base: Load, run: Load, note = ''): void {
  const errors = run.errors + run.non2xx + base.errors + base.non2xx;
  rows.push({
    case: name,
    baseline: `${fmt(base.rps)} req/s, p50 ${base.p50} ms, p99 ${base.p99} ms, ${fmt(base.cpuUs)} µs CPU/req`,
    runtime: `${fmt(run.rps)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ${fmt(run.cpuUs)} µs CPU/req`,
    ratio: `${fmt(run.rps / base.rps, 2)}x throughput, ${fmt(base.cpuUs / run.cpuUs, 2)}x CPU efficiency (added p50 ${fmt(run.p50 - base.p50, 1)} ms, p99 ${fmt(run.p99 - base.p99, 1)} ms)`,
    note: errors ? `${note} ERRORS: ${errors}`.trim() : note,
  });
  console.log(`${name}: ${rows.at(-1)!.ratio} ${rows.at(-1)!.note}`);
}

async function main(): Promise<void> {
  console.log(`bench: ${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}, workers ${WORKERS}, ${CONNECTIONS} connections, ${DURATION} s per run`);
  execSync('node scripts/build-examples.ts --if-stale');
  await buildBenchFunctions();

  const dir = tempDataDir('l8-bench-');
  const as = (fn: string) => join(ROOT, 'examples/assemblyscript/build', `${fn}.wasm`);
  const functions: Record<string, unknown> = {
    'hello-as': { module: as('hello'), routes: ['GET /hello'] },
    'hello-rust': { module: join(ROOT, 'examples/rust/build/hello.wasm'), routes: ['GET /hello/rust'] },
    'hello-go': { module: join(ROOT, 'examples/tinygo/build/hello.wasm'), routes: ['GET /hello/go'] },
    counter: { module: as('counter'), routes: ['POST /counter/:name'], capabilities: { state: ['default'] } },
    chain: { module: join(BENCH_BUILD, 'chain.wasm'), routes: ['GET /chain/:n'], capabilities: { invoke: ['chain'] } },
    hostcalls: { module: join(BENCH_BUILD, 'hostcalls.wasm'), routes: ['GET /hostcalls'], capabilities: { state: ['default'] } },
    conf: { module: as('conformance'), routes: ['ANY /conf/*'] },
    runaway: { module: as('conformance'), routes: ['GET /conf/spin'], limits: { timeoutMs: 100 } },
  };
  writeFileSync(join(dir, 'app.yaml'), stringify({ functions }));
  writeFileSync(join(dir, 'runtime.yaml'), stringify({ logLevel: 'warn', workers: WORKERS, components: { state: { default: { type: 'memory' } } } }));

  const baseline = await startBaseline();
  const runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')], timeoutMs: 60_000 });
  try {
    let helloBase: Load | null = null;
    if (CASES.includes('hello') || CASES.includes('runaway')) {
      helloBase = await load(`${baseline.url}/hello`, { pid: baseline.child.pid! });
    }
    if (CASES.includes('hello')) {
      throughputRow('hello (AssemblyScript), fresh state per request', helloBase!, await load(`${runtime.httpUrl}/hello`, { pid: runtime.child.pid! }));
      throughputRow('hello (Rust), fresh state per request', helloBase!, await load(`${runtime.httpUrl}/hello/rust`, { pid: runtime.child.pid! }));
      throughputRow('hello (Go), fresh state per request', helloBase!, await load(`${runtime.httpUrl}/hello/go`, { pid: runtime.child.pid! }));
    }
    if (CASES.includes('state')) {
      throughputRow('state get+set round trip (memory store)', await load(`${baseline.url}/counter/a`, { pid: baseline.child.pid!, method: 'POST' }), await load(`${runtime.httpUrl}/counter/a`, { pid: runtime.child.pid!, method: 'POST' }));
    }
    if (CASES.includes('invoke')) {
      throughputRow('invoke chain of 3 functions', await load(`${baseline.url}/chain/2`, { pid: baseline.child.pid! }), await load(`${runtime.httpUrl}/chain/2`, { pid: runtime.child.pid! }), 'baseline answers directly');
    }
    if (CASES.includes('echo')) {
      const body = Buffer.alloc(1 << 20, 7);
      throughputRow('1 MB body echo', await load(`${baseline.url}/conf/echo`, { pid: baseline.child.pid!, method: 'POST', body }), await load(`${runtime.httpUrl}/conf/echo`, { pid: runtime.child.pid!, method: 'POST', body }));
    }
    if (CASES.includes('hostcall')) await hostCall(runtime);
    if (CASES.includes('cold')) await coldStart(runtime);
    if (CASES.includes('runaway')) await runaway(runtime, helloBase!);
    if (CASES.includes('density')) await density(runtime, Number(args.density));
  } finally {
    baseline.child.kill();
    await runtime.stop();
  }
  report();
}

function execSync(command: string): void {
  execSyncRaw(command, { cwd: ROOT, stdio: 'inherit', env: process.env });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function hostCall(runtime: RuntimeProcess): Promise<void> {
  await fetch(`${runtime.httpUrl}/conf/echo`); // warm the connection
  const N = 20_000;
  const best = async (n: number) => {
    let min = Infinity;
    for (let i = 0; i < 15; i++) min = Math.min(min, await timed(async () => (await fetch(`${runtime.httpUrl}/hostcalls?n=${n}`)).text()));
    return min;
  };
  const empty = await best(0);
  const full = await best(N);
  const perCall = ((full - empty) * 1000) / N;
  rows.push({ case: 'host call state.get (memory), guest->host->guest', baseline: '-', runtime: `${fmt(perCall, 2)} µs per call`, ratio: '-', note: `${N} calls in one request, minus an empty request, best of 15` });
  console.log(`host call: ${fmt(perCall, 2)} µs`);
}

async function coldStart(runtime: RuntimeProcess): Promise<void> {
  const token = readFileSync(join(runtime.dataDir, 'admin-token'), 'utf8').trim();
  const auth = { authorization: `Bearer ${token}` };
  for (const { label, bytes } of await coldStartModules()) {
    const samples: number[] = [];
    // The first deploy of a runtime also warms up its deploy path (JIT): measured apart.
    for (let i = -1; i < 7; i++) {
      // A different name and route each time, and bytes not seen before (a custom
      // section with a counter), so nothing is cached: upload + deploy + first answer.
      const unique = withCustomSection(bytes, `cold-${Date.now()}-${i}`);
      const name = `cold-${label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${i}`;
      const took = await timed(async () => {
        const up = await fetch(`${runtime.adminUrl}/v1/modules`, { method: 'POST', headers: { ...auth, 'content-type': 'application/wasm' }, body: unique as Uint8Array<ArrayBuffer> });
        const { sha256 } = (await up.json()) as { sha256: string };
        const deployed = await fetch(`${runtime.adminUrl}/v1/functions/${name}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ module: sha256, routes: [`GET /${name}`] }) });
        if (!deployed.ok) throw new Error(`deploy failed: ${await deployed.text()}`);
        const first = await fetch(`${runtime.httpUrl}/${name}`);
        await first.text();
      });
      if (i >= 0) samples.push(took);
      await fetch(`${runtime.adminUrl}/v1/functions/${name}`, { method: 'DELETE', headers: auth });
    }
    samples.sort((a, b) => a - b);
    rows.push({ case: `cold start, ${label}`, baseline: '-', runtime: `median ${fmt(samples[3]!, 1)} ms (min ${fmt(samples[0]!, 1)}, max ${fmt(samples[6]!, 1)})`, ratio: '-', note: 'upload + deploy + first response through the admin API, 7 runs after one warm-up deploy' });
    console.log(`cold start ${label}: ${fmt(samples[3]!, 1)} ms`);
  }
}

/** Appends a custom section so the bytes (and their sha256) are new. */
function withCustomSection(bytes: Uint8Array, text: string): Uint8Array {
  const name = Buffer.from('l8-bench');
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(text)]);
  const size: number[] = [];
  let n = payload.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    size.push(b);
  } while (n);
  return Buffer.concat([bytes, Buffer.from([0, ...size]), payload]);
}

async function runaway(runtime: RuntimeProcess, helloBase: Load): Promise<void> {
  const stop = { value: false };
  const runawayLatencies: number[] = [];
  const statuses = new Set<number>();
  const firing = (async () => {
    while (!stop.value) {
      const started = performance.now();
      const response = await fetch(`${runtime.httpUrl}/conf/spin`);
      await response.text();
      statuses.add(response.status);
      runawayLatencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const under = await load(`${runtime.httpUrl}/hello`, { pid: runtime.child.pid! });
  stop.value = true;
  await firing;
  runawayLatencies.sort((a, b) => a - b);
  const helloAlone = await load(`${runtime.httpUrl}/hello`, { pid: runtime.child.pid! });
  rows.push({
    case: 'runaway guest (100 ms timeout) while hello is under load',
    baseline: `hello alone: p99 ${helloAlone.p99} ms`,
    runtime: `504 after median ${fmt(runawayLatencies[Math.floor(runawayLatencies.length / 2)]!, 0)} ms, max ${fmt(runawayLatencies.at(-1)!, 0)} ms (${runawayLatencies.length} runaways, statuses ${[...statuses].join(',')}); hello p99 ${under.p99} ms, ${fmt(under.rps)} req/s`,
    ratio: `hello p99 ${fmt(under.p99 / Math.max(helloAlone.p99, 1), 2)}x its baseline`,
    note: `bare Fastify hello p99 ${helloBase.p99} ms`,
  });
  console.log(`runaway: ${rows.at(-1)!.runtime}`);
}

async function density(runtime: RuntimeProcess, count: number): Promise<void> {
  const token = readFileSync(join(runtime.dataDir, 'admin-token'), 'utf8').trim();
  const auth = { authorization: `Bearer ${token}` };
  const bytes = readFileSync(join(ROOT, 'examples/assemblyscript/build/hello.wasm'));
  const up = await fetch(`${runtime.adminUrl}/v1/modules`, { method: 'POST', headers: { ...auth, 'content-type': 'application/wasm' }, body: bytes });
  const { sha256 } = (await up.json()) as { sha256: string };
  const before = rssMiB(runtime.child.pid!);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${runtime.adminUrl}/v1/functions/d-${i}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ module: sha256, routes: [`GET /d/${i}`] }) });
    if (!response.ok) throw new Error(`deploy d-${i}: ${await response.text()}`);
  }
  const deployMs = performance.now() - started;
  let answered = 0;
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${runtime.httpUrl}/d/${i}`);
    if ((await response.text()).startsWith('Hello from')) answered++;
  }
  const after = rssMiB(runtime.child.pid!);
  rows.push({
    case: `density: ${count} functions deployed`,
    baseline: `RSS before ${fmt(before)} MiB`,
    runtime: `RSS after ${fmt(after)} MiB, ${answered}/${count} answered`,
    ratio: `${fmt(((after - before) * 1024) / count, 0)} KiB per function`,
    note: `deploying took ${fmt(deployMs / count, 1)} ms per function`,
  });
  console.log(`density: ${rows.at(-1)!.runtime}, ${rows.at(-1)!.ratio}`);
}

function report(): void {
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores, ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`;
  const table = [
    `| case | bare Fastify | L8 | ratio | note |`,
    `|---|---|---|---|---|`,
    ...rows.map((r) => `| ${r.case} | ${r.baseline} | ${r.runtime} | ${r.ratio} | ${r.note} |`),
  ].join('\n');
  console.log(`\n${table}\n`);
  if (!args.write) return;
  const file = join(ROOT, 'docs/benchmarks.md');
  let doc = '';
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  const section = `## Runtime vs bare Fastify (npm run bench), ${date}\n\n${machine}; load from autocannon in a third process, ${CONNECTIONS} connections, ${DURATION} s per run; runtime workers: ${WORKERS}.\n\n${table}\n`;
  writeFileSync(file, `${doc.trimEnd()}\n\n${section}`);
  console.log(`recorded in ${file}`);
}

await main();
