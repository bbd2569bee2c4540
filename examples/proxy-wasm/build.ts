// Builds the proxy-wasm (Layotto-style) test functions into build/<name>.wasm (BuildTarget
// of scripts/build-examples.ts):
//
//   rust-client.wasm  (id "id_1")       rust/client.rs  — invokes a function by id
//   rust-server.wasm  (id "id_2")       rust/server.rs  — reads state store "state_demo"
//   rust-probe.wasm   (id "probe")      rust/probe.rs   — one behaviour per path, for tests
//   as-client.wasm    (id "as_client")  assemblyscript/client.ts
//   as-server.wasm    (id "as_server")  assemblyscript/server.ts
//
// No crates and no SDK packages: Rust is compiled by rustc alone (Debian's 1.63 works:
// apt-get install rustc libstd-rust-dev-wasm32), AssemblyScript with the asc API of the
// project's `assemblyscript` dependency.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from '../../scripts/build-examples.ts';
import { exists, runner } from '../../scripts/build-support.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = runner(here);
const buildDir = path.join(here, 'build');

const RUST = ['client', 'server', 'probe'] as const;
const ASSEMBLYSCRIPT = ['client', 'server'] as const;
/** WASI preview 1 target names, preferred first (rustc renamed wasm32-wasi in 1.78). */
const WASI_TARGETS = ['wasm32-wasip1', 'wasm32-wasi'] as const;



interface Rustc {
  rustc: string;
  version: string;
  target: string;
}

let found: Promise<Rustc | string> | undefined;

/** The first rustc with a WASI standard library: $RUSTC, Debian's /usr/bin/rustc, or rustc on PATH. */
function findRustc(): Promise<Rustc | string> {
  found ??= (async () => {
    const candidates = process.env.RUSTC ? [process.env.RUSTC] : ['/usr/bin/rustc', 'rustc'];
    const refused: string[] = [];
    for (const rustc of candidates) {
      let version: string;
      let sysroot: string;
      try {
        version = (await run(rustc, ['--version'])).stdout.trim();
        sysroot = (await run(rustc, ['--print', 'sysroot'])).stdout.trim();
      } catch {
        refused.push(`${rustc}: not installed`);
        continue;
      }
      for (const target of WASI_TARGETS) {
        if (await exists(path.join(sysroot, 'lib', 'rustlib', target, 'lib'))) return { rustc, version, target };
      }
      refused.push(`${rustc} (${version}) has neither the wasm32-wasip1 nor the wasm32-wasi standard library`);
    }
    return `needs a Rust compiler with the WASI standard library (${refused.join('; ')}). Install Debian's: apt-get install rustc libstd-rust-dev-wasm32; or with rustup: rustup target add wasm32-wasip1`;
  })();
  return found;
}

export async function missingToolchain(): Promise<string | null> {
  try {
    import.meta.resolve('assemblyscript/asc');
  } catch {
    return 'the AssemblyScript compiler is not installed; run `npm install` in the repository root';
  }
  const rustc = await findRustc();
  return typeof rustc === 'string' ? rustc : null;
}

/** Checks that a build is a proxy-wasm module exporting what the host calls. */
async function verify(file: string, options: BuildOptions, started: number): Promise<void> {
  const bytes = new Uint8Array(await readFile(file));
  const exports = new Set(WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name));
  const missing = ['proxy_abi_version_0_2_0', 'proxy_get_id', 'proxy_on_request_body', 'memory'].filter((name) => !exports.has(name));
  if (!exports.has('malloc') && !exports.has('proxy_on_memory_allocate')) missing.push('malloc or proxy_on_memory_allocate');
  if (missing.length) throw new Error(`build/${path.basename(file)} does not export ${missing.join(', ')}`);
  options.log(`${path.basename(file, '.wasm')}: ${bytes.length} bytes in ${Math.round(performance.now() - started)} ms`);
}

async function buildRust(rustc: Rustc, name: string, options: BuildOptions): Promise<void> {
  const started = performance.now();
  const output = path.join(buildDir, `rust-${name}.wasm`);
  const args = [
    '--edition', '2021',
    '--crate-type', 'cdylib',
    '--target', rustc.target,
    '-C', 'opt-level=s',
    // A 64 KiB stack instead of 1 MiB keeps the memory every request snapshot restores small.
    '-C', 'link-arg=-zstack-size=65536',
    '-C', 'strip=symbols',
    '-o', output,
    path.join('rust', `${name}.rs`),
  ];
  try {
    await run(rustc.rustc, args);
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`\`${rustc.rustc} ${args.join(' ')}\` in examples/proxy-wasm failed:\n${(e.stderr || e.message).trim()}`);
  }
  await verify(output, options, started);
}

async function buildAssemblyScript(name: string, options: BuildOptions): Promise<void> {
  const started = performance.now();
  const asc = (await import('assemblyscript/asc')).default;
  const output = path.join(buildDir, `as-${name}.wasm`);
  const source = path.join(here, 'assemblyscript', `${name}.ts`);
  const { error, stderr } = await asc.main([source, '--outFile', output, '--optimizeLevel', '2', '--shrinkLevel', '1', '--runtime', 'incremental', '--noColors']);
  if (error) throw new Error(`asc ${path.relative(here, source)} failed: ${error.message}\n${stderr.toString().trim()}`);
  await verify(output, options, started);
}

export async function build(options: BuildOptions): Promise<void> {
  const rustc = await findRustc();
  if (typeof rustc === 'string') throw new Error(rustc);
  options.log(`using ${rustc.version} (${rustc.rustc}), target ${rustc.target}`);
  await mkdir(buildDir, { recursive: true });
  const results = await Promise.allSettled([
    ...RUST.map((name) => buildRust(rustc, name, options)),
    ...ASSEMBLYSCRIPT.map((name) => buildAssemblyScript(name, options)),
  ]);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as Error).message);
  if (failures.length) throw new Error(failures.join('\n'));
}
