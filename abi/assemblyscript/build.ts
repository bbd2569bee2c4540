// Compiles an AssemblyScript source file that uses the L8 SDK into an L8 function
// module. Used by examples/assemblyscript/build.ts and the `l8 build` command; the asc
// options it passes are explained in README.md.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
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
 * The asc arguments every L8 function needs, besides the entry file and outputs. The
 * runtime is `minimal`: the SDK collects garbage itself between requests, and only for
 * instances kept with `reuse: true` (README.md explains the measurements behind it).
 */
export function ascArguments(options: BuildFunctionOptions = {}): string[] {
  const optimize = options.optimize ?? true;
  return [
    '--path', SDK_DIR,
    '--runtime', 'minimal',
    '--exportStart', '_initialize',
    '--use', 'abort=~lib/l8/runtime/l8Abort',
    '--use', 'trace=~lib/l8/runtime/l8Trace',
    '--use', 'seed=~lib/l8/runtime/l8Seed',
    '--use', 'console=~lib/l8/io/console',
    ...(optimize ? ['--optimizeLevel', '3', '--shrinkLevel', '1'] : []),
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
  const diagnostics = stderr.toString().trim();
  if (error) {
    const relative = path.relative(process.cwd(), source) || source;
    throw new Error(`AssemblyScript build of ${relative} failed: ${error.message}${diagnostics ? `\n${diagnostics}` : ''}`);
  }
  if (!binary) throw new Error(`AssemblyScript build of ${sourceFile} produced no module`);
  return { outFile: target, size: (binary as Uint8Array).length, ms: performance.now() - started, warnings: diagnostics };
}
