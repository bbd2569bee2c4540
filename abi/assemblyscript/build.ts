// Compiles an AssemblyScript source file that uses the L8 SDK into an L8 function
// module. Used by examples/assemblyscript/build.ts and the `l8 build` command; the asc
// options it passes are explained in README.md.
import { fork } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import L8Transform from './transform.js';

/** The folder that holds the SDK package `l8/` (what `import ... from "l8"` resolves to). */
export const SDK_DIR = path.dirname(fileURLToPath(import.meta.url));

export interface BuildFunctionOptions {
  /** Optimize (default true). Unoptimized builds compile faster and are ~3x larger. */
  optimize?: boolean;
  /** Also write the WebAssembly text format here. */
  textFile?: string;
  /** Keep names and debug information in the binary. */
  debug?: boolean;
}

export interface BuildFunctionResult {
  outFile: string;
  /** Size of the module in bytes. */
  size: number;
  /** Compile time in milliseconds. */
  ms: number;
  /** Warnings the compiler printed (empty when there were none). */
  warnings: string;
}

/**
 * The asc arguments every L8 function needs, besides the entry file and outputs.
 * Runtime `incremental` with a 16 KiB shadow stack: README.md ("Runtime") explains the
 * measurements behind it. Optimization `-O1s`: for these modules it gives the same size
 * and speed as -O3s at half the compile time.
 */
export function ascArguments(options: BuildFunctionOptions = {}): string[] {
  const optimize = options.optimize ?? true;
  return [
    '--path', SDK_DIR,
    '--runtime', 'incremental',
    '--stackSize', '16384',
    '--exportStart', '_initialize',
    '--use', 'abort=~lib/l8/runtime/l8Abort',
    '--use', 'trace=~lib/l8/runtime/l8Trace',
    '--use', 'seed=~lib/l8/runtime/l8Seed',
    '--use', 'console=~lib/l8/io/console',
    ...(optimize ? ['--optimizeLevel', '1', '--shrinkLevel', '1'] : []),
    ...(options.debug ? ['--debug'] : []),
    '--noColors',
  ];
}

let ascModule: Promise<typeof import('assemblyscript/asc')> | null = null;

/** Loads the compiler once per process (it takes ~150 ms). */
function loadAsc(): Promise<typeof import('assemblyscript/asc')> {
  ascModule ??= import('assemblyscript/asc');
  return ascModule;
}

/**
 * Compiles `sourceFile` (the function's entry file, which calls `http.handle` and/or
 * `subscriber.handle`) into `outFile`. Rejects with the compiler's diagnostics when the
 * program does not compile or cannot be an L8 function.
 */
export async function buildFunction(sourceFile: string, outFile: string, options: BuildFunctionOptions = {}): Promise<BuildFunctionResult> {
  const started = performance.now();
  const source = path.resolve(sourceFile);
  const baseDir = path.dirname(source);
  const target = path.resolve(outFile);
  if (!(await stat(source).catch(() => null))?.isFile()) {
    throw new Error(`AssemblyScript source ${sourceFile} does not exist; pass the function's entry file (the one that calls http.handle or subscriber.handle)`);
  }
  const asc = (await loadAsc()).default;

  let binary: Uint8Array | null = null;
  const outputs: Array<Promise<void>> = [];
  const args = [path.basename(source), '--baseDir', baseDir, '--outFile', target, ...ascArguments(options)];
  if (options.textFile) args.push('--textFile', path.resolve(options.textFile));

  const { error, stderr } = await asc.main(args, {
    readFile: async (name: string, dir: string) => {
      try {
        return await readFile(path.resolve(dir, name), 'utf8');
      } catch {
        return null;
      }
    },
    writeFile: async (name: string, contents: string | Uint8Array, dir: string) => {
      const file = path.resolve(dir, name);
      if (file === target && contents instanceof Uint8Array) binary = contents;
      outputs.push(mkdir(path.dirname(file), { recursive: true }).then(() => writeFile(file, contents)));
    },
    listFiles: async (dir: string, base: string) => {
      try {
        return (await readdir(path.resolve(base, dir))).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
      } catch {
        return null;
      }
    },
    // asc instantiates transform classes after giving their prototype `binaryen`, `program`, ...
    transforms: [L8Transform as never],
  });
  await Promise.all(outputs);
  // asc ends its output with "FAILURE <the error and its stack>", which `error` already says.
  const diagnostics = stderr.toString().split(/^FAILURE /m)[0]!.trim();
  if (error) {
    const relative = path.relative(process.cwd(), source);
    const shown = relative && !relative.startsWith('..') ? relative : source;
    throw new Error(`AssemblyScript build of ${shown} failed: ${error.message}${diagnostics ? `\n${diagnostics}` : ''}`);
  }
  if (!binary) throw new Error(`AssemblyScript build of ${sourceFile} produced no module`);
  return { outFile: target, size: (binary as Uint8Array).length, ms: performance.now() - started, warnings: diagnostics };
}

export interface BuildJob {
  sourceFile: string;
  outFile: string;
  options?: BuildFunctionOptions;
}

/**
 * Builds several functions, up to `concurrency` at a time in child processes (default:
 * one per CPU, at most 4). Resolves to one result or error per job, in order; never
 * rejects because one function fails to compile.
 */
export async function buildFunctions(
  jobs: BuildJob[],
  { concurrency = Math.min(4, availableParallelism()), onBuilt }: { concurrency?: number; onBuilt?: (job: BuildJob, outcome: BuildFunctionResult | Error) => void } = {},
): Promise<Array<BuildFunctionResult | Error>> {
  const outcomes: Array<BuildFunctionResult | Error> = new Array(jobs.length);
  const record = (index: number, outcome: BuildFunctionResult | Error) => {
    outcomes[index] = outcome;
    onBuilt?.(jobs[index]!, outcome);
  };
  const workers = Math.max(1, Math.min(concurrency, jobs.length));
  if (workers === 1) {
    for (const [index, job] of jobs.entries()) {
      record(index, await buildFunction(job.sourceFile, job.outFile, job.options).catch((error: Error) => error));
    }
    return outcomes;
  }
  let next = 0;
  const worker = async () => {
    // A process per worker takes job after job. Its first module is the slowest: V8
    // compiles Binaryen's 10 MB of wasm and tiers hot functions up; for the few modules a
    // worker builds, skipping the optimizing tier (--liftoff-only) costs less CPU in total
    // (measured: 8 examples 10.9 -> 9.3 CPU seconds).
    const child = fork(fileURLToPath(new URL('./build-worker.ts', import.meta.url)), [], {
      execArgv: ['--liftoff-only'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`the AssemblyScript build process exited (${signal ?? `code ${code}`})`)));
      child.once('error', reject);
    });
    exited.catch(() => {}); // the normal exit after disconnect() is no error
    try {
      while (next < jobs.length) {
        const index = next++;
        const job = jobs[index]!;
        const reply = new Promise<{ result?: BuildFunctionResult; error?: string }>((resolve) => child.once('message', resolve as never));
        child.send({ id: index, sourceFile: job.sourceFile, outFile: job.outFile, options: job.options ?? {} });
        try {
          const message = await Promise.race([reply, exited]);
          record(index, message.error !== undefined ? new Error(message.error) : message.result!);
        } catch (error) {
          record(index, error as Error);
          return;
        }
      }
    } finally {
      child.disconnect();
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  // Jobs a crashed worker never took: build them here rather than lose them.
  for (const [index, job] of jobs.entries()) {
    if (!(index in outcomes)) record(index, await buildFunction(job.sourceFile, job.outFile, job.options).catch((error: Error) => error));
  }
  return outcomes;
}
