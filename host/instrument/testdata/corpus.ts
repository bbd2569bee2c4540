// Builds the modules the instrumentation tests and bench/instrument.ts run, from the
// sources beside this file, with the real toolchains: AssemblyScript (npm), Rust
// (Debian rustc with the wasm32-wasi std), Go (GOOS=wasip1) and WAT (jco's parser).
// Outputs are cached in build/instrument-corpus/ (gitignored) by a hash of the source
// and the command, so only the first run pays for the compilers.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WASI } from 'node:wasi';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const cacheDir = path.join(repo, 'build', 'instrument-corpus');

export type Language = 'assemblyscript' | 'rust' | 'go' | 'wat';

export interface CorpusModule {
  name: string;
  language: Language;
  bytes: Uint8Array;
}

async function cached(key: string, build: (outFile: string) => Promise<void>): Promise<Uint8Array> {
  const file = path.join(cacheDir, `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.wasm`);
  if (existsSync(file)) return new Uint8Array(await readFile(file));
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await build(tmp);
  await rename(tmp, file); // atomic: parallel test files may build the same module
  return new Uint8Array(await readFile(file));
}

export async function buildAssemblyScript(): Promise<Uint8Array> {
  const source = await readFile(path.join(here, 'assembly/corpus.ts'), 'utf8');
  const options = { optimizeLevel: 3, shrinkLevel: 0, runtime: 'incremental', noAssert: false } as const;
  return cached(`asc ${JSON.stringify(options)}\n${source}`, async (outFile) => {
    const asc = (await import('assemblyscript/asc')).default;
    const result = await asc.compileString({ 'corpus.ts': source }, options);
    if (result.error || !result.binary) {
      throw new Error(`AssemblyScript build of testdata/assembly/corpus.ts failed: ${result.error?.message}\n${result.stderr.toString()}`);
    }
    await writeFile(outFile, result.binary);
  });
}

const RUSTC = '/usr/bin/rustc';

export async function buildRust(): Promise<Uint8Array> {
  const sourceFile = path.join(here, 'rust/corpus.rs');
  const source = await readFile(sourceFile, 'utf8');
  const args = ['--target', 'wasm32-wasi', '--crate-type', 'cdylib', '-O', '-C', 'strip=debuginfo', '--edition', '2021'];
  let version = RUSTC;
  try {
    version = (await run(RUSTC, ['--version'])).stdout.trim();
  } catch {
    // Reported by the build below, with how to install it.
  }
  return cached(`${version} ${args.join(' ')}\n${source}`, async (outFile) => {
    try {
      await run(RUSTC, [...args, '-o', outFile, sourceFile], { maxBuffer: 16 << 20 });
    } catch (error) {
      throw new Error(
        `Rust build of testdata/rust/corpus.rs failed (needs Debian's rustc with the wasm32-wasi std: ` +
          `apt-get install rustc libstd-rust-dev-wasm32): ${(error as Error).message}`,
      );
    }
  });
}

export async function buildGo(): Promise<Uint8Array> {
  const dir = path.join(here, 'go');
  const source = await readFile(path.join(dir, 'main.go'), 'utf8');
  let version = 'go';
  try {
    version = (await run('go', ['version'])).stdout.trim();
  } catch {
    throw new Error('Go build of testdata/go/main.go needs Go >= 1.24 on PATH (GOOS=wasip1 with //go:wasmexport)');
  }
  return cached(`${version} wasip1 c-shared\n${source}`, async (outFile) => {
    try {
      await run('go', ['build', '-buildmode=c-shared', '-o', outFile, 'main.go'], {
        cwd: dir,
        env: { ...process.env, GOOS: 'wasip1', GOARCH: 'wasm', GOTOOLCHAIN: 'local', GOFLAGS: '' },
        maxBuffer: 16 << 20,
      });
    } catch (error) {
      throw new Error(`Go build of testdata/go/main.go failed: ${(error as Error).message}`);
    }
  });
}

export async function buildWat(name: string): Promise<Uint8Array> {
  const { parse } = await import('@bytecodealliance/jco');
  const text = await readFile(path.join(here, 'wat', `${name}.wat`), 'utf8');
  return parse(text);
}

export async function watNames(): Promise<string[]> {
  return (await readdir(path.join(here, 'wat'))).filter((f) => f.endsWith('.wat')).map((f) => f.slice(0, -4)).sort();
}

export async function buildCorpus(): Promise<CorpusModule[]> {
  const [as, rust, go] = await Promise.all([buildAssemblyScript(), buildRust(), buildGo()]);
  const modules: CorpusModule[] = [
    { name: 'assemblyscript', language: 'assemblyscript', bytes: as },
    { name: 'rust', language: 'rust', bytes: rust },
    { name: 'go', language: 'go', bytes: go },
  ];
  for (const name of await watNames()) modules.push({ name, language: 'wat', bytes: await buildWat(name) });
  return modules;
}

/**
 * The imports a corpus module needs besides the interrupt import: a real WASI preview 1
 * (node:wasi) for Rust and Go, AssemblyScript's abort. `init` runs `_initialize` when
 * the module is a reactor (and binds WASI to the instance's memory).
 */
export function guestImports(language: Language): { imports: WebAssembly.Imports; init: (instance: WebAssembly.Instance) => void } {
  if (language === 'rust' || language === 'go') {
    const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
    return {
      imports: wasi.getImportObject() as WebAssembly.Imports,
      init: (instance) => {
        wasi.initialize(instance);
      },
    };
  }
  if (language === 'assemblyscript') {
    return {
      imports: {
        env: {
          abort: (message: number, file: number, line: number, column: number) => {
            throw new Error(`AssemblyScript abort at ${line}:${column} (message ${message}, file ${file})`);
          },
        },
      },
      init: () => {},
    };
  }
  return { imports: {}, init: () => {} };
}
