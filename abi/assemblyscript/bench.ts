// Measures what the choice of AssemblyScript runtime costs an L8 function: module size,
// memory, and time per request through the real host (snapshot restore by default,
// `reuse: true` keeping the instance). README.md reports the numbers.
//
//   npx node abi/assemblyscript/bench.ts [requests]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CallContext, type GuestRequest } from '../../host/call-context.ts';
import { DEFAULT_TUNING, LoadedFunction } from '../../host/loaded-function.ts';
import { compileFunction, sha256 } from '../../host/module-forms.ts';
import { hostServices } from '../../test/support/host-services.ts';
import { ascArguments } from './build.ts';
import L8Transform from './transform.js';

const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../examples/assemblyscript');

// A function that keeps a large live heap, where collection cost shows.
const CACHE_SOURCE = `
import { http, Request, Response } from "l8";
const cache = new Map<string, string>();
for (let i = 0; i < 10000; i++) cache.set("key" + i.toString(), "value " + i.toString());
http.handle((req: Request): Response => {
  const key = req.query("key");
  if (key !== null && cache.has(key)) return Response.text(200, cache.get(key));
  return Response.text(200, "none");
});
`;

// A request that builds a 10,000-character string one character at a time: ~100 MB of
// short-lived garbage, more than the default 64 MiB memory limit unless collected.
const CONCAT_SOURCE = `
import { http, Request, Response } from "l8";
http.handle((req: Request): Response => {
  let s = "";
  for (let i = 0; i < 10000; i++) s += String.fromCharCode(97 + i % 26);
  return Response.text(200, s.length.toString());
});
`;

interface Case {
  name: string;
  source: string;
  request: GuestRequest;
}

const enc = new TextEncoder();
/** asc runtime arguments compared (the build helper uses the last one). */
const runtimes: Record<string, string[]> = {
  stub: ['--runtime', 'stub'],
  minimal: ['--runtime', 'minimal'],
  'incremental, 32 KiB stack': ['--runtime', 'incremental', '--stackSize', '32768'],
  'incremental, 16 KiB stack': ['--runtime', 'incremental', '--stackSize', '16384'],
};

async function compile(source: string, runtime: string[]): Promise<Uint8Array> {
  const asc = (await import('assemblyscript/asc')).default;
  // The build helper's arguments with its runtime choice replaced.
  const args = ascArguments();
  for (const flag of ['--runtime', '--stackSize']) {
    const at = args.indexOf(flag);
    if (at >= 0) args.splice(at, 2);
  }
  args.push(...runtime);
  let binary: Uint8Array | null = null;
  const { error, stderr } = await asc.main([path.basename(source), '--baseDir', path.dirname(source), '--outFile', 'out.wasm', ...args], {
    readFile: async (name: string, dir: string) => readFile(path.resolve(dir, name), 'utf8').catch(() => null),
    writeFile: (_name: string, contents: string | Uint8Array) => {
      if (contents instanceof Uint8Array) binary = contents;
    },
    transforms: [L8Transform as never],
  });
  if (error || !binary) throw new Error(`${source} (${runtime}): ${error?.message}\n${stderr.toString()}`);
  return binary;
}

/** Initial memory pages, from the memory section. */
function initialPages(bytes: Uint8Array): number {
  const memories = WebAssembly.Module.exports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).filter((e) => e.kind === 'memory');
  if (memories.length !== 1) throw new Error('expected one exported memory');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), stubImports(bytes));
  return (instance.exports.memory as WebAssembly.Memory).buffer.byteLength / 65536;
}

function stubImports(bytes: Uint8Array): WebAssembly.Imports {
  const imports: Record<string, Record<string, () => number>> = {};
  for (const imp of WebAssembly.Module.imports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>))) {
    (imports[imp.module] ??= {})[imp.name] = () => 0;
  }
  return imports;
}

const services = hostServices();

function context(): CallContext {
  return { requestId: 'bench', functionName: 'bench', deadline: performance.now() + 10_000, depth: 0, services, cancelled: false, log: () => {} };
}

async function measure(bytes: Uint8Array, request: GuestRequest, reuse: boolean, requests: number): Promise<{ us: number; pages: number } | string> {
  // 1024 pages: the default 64 MiB limit.
  const compiled = await compileFunction(bytes, { maxMemoryPages: 1024, sha256: sha256(bytes) });
  const fn = await LoadedFunction.load('bench', 1, compiled, { timeoutMs: 10_000, memoryPages: 1024, maxConcurrency: 1, maxQueue: 1, reuse }, DEFAULT_TUNING, () => {});
  try {
    await fn.handleHttp(context(), request);
  } catch (error) {
    fn.close();
    return (error as { code?: string }).code ?? 'failed';
  }
  for (let i = 0; i < Math.min(200, requests); i++) await fn.handleHttp(context(), request);
  // CPU time of this process, not wall time: the number that matters on a shared box.
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = process.cpuUsage();
    for (let i = 0; i < requests; i++) await fn.handleHttp(context(), request);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / requests);
  }
  // The pool keeps the one instance; its memory size shows growth (and leaks in reuse mode).
  const instance = await fn.pool.acquire(performance.now() + 1000);
  const pages = instance.memoryBytes / 65536;
  fn.pool.release(instance, true);
  fn.close();
  return { us: best, pages };
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 2000);
  const dir = await mkdtemp(path.join(tmpdir(), 'l8-as-bench-'));
  try {
    const cacheSource = path.join(dir, 'cache.ts');
    await writeFile(cacheSource, CACHE_SOURCE);
    const concatSource = path.join(dir, 'concat.ts');
    await writeFile(concatSource, CONCAT_SOURCE);
    const cases: Case[] = [
      { name: 'hello', source: path.join(examples, 'hello/index.ts'), request: { method: 'GET', path: '/hello', query: '', headers: [['accept', '*/*']], body: new Uint8Array() } },
      {
        name: 'echo 1 KiB',
        source: path.join(examples, 'conformance/index.ts'),
        request: {
          method: 'POST',
          path: '/conf/echo',
          query: 'a=1&b=two',
          headers: [['content-type', 'text/plain'], ['x-test-a', '1'], ['x-test-b', '2'], ['user-agent', 'bench']],
          body: enc.encode('x'.repeat(1024)),
        },
      },
      { name: 'cache (10k live entries)', source: cacheSource, request: { method: 'GET', path: '/', query: 'key=key42', headers: [], body: new Uint8Array() } },
      { name: 'concat (100 MB garbage)', source: concatSource, request: { method: 'GET', path: '/', query: '', headers: [], body: new Uint8Array() } },
    ];
    console.log(`${requests} sequential requests per measurement, CPU time, best of 5, through host/LoadedFunction`);
    console.log('| function | runtime | size (bytes) | initial pages | fresh: µs/req | fresh: pages | reuse: µs/req | reuse: pages after |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const c of cases) {
      for (const [runtime, args] of Object.entries(runtimes)) {
        const bytes = await compile(c.source, args);
        const n = c.name.startsWith('concat') ? Math.ceil(requests / 100) : requests;
        const fresh = await measure(bytes, c.request, false, n);
        const reuse = await measure(bytes, c.request, true, n);
        const show = (m: { us: number; pages: number } | string) => (typeof m === 'string' ? [`fails: ${m}`, '-'] : [m.us.toFixed(1), String(m.pages)]);
        console.log(`| ${c.name} | ${runtime} | ${bytes.length} | ${initialPages(bytes)} | ${show(fresh).join(' | ')} | ${show(reuse).join(' | ')} |`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
