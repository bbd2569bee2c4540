// Builds every Rust example into build/<function>.wasm (BuildTarget of
// scripts/build-examples.ts). One cargo workspace, one cdylib crate per function, all
// depending on the SDK in abi/rust by path, so nothing is downloaded.
//
// The compiler is, in this order: $RUSTC (with $CARGO or `cargo`) when set, Debian's
// /usr/bin/rustc 1.63 (`apt-get install rustc cargo libstd-rust-dev-wasm32`), or the
// `rustc` on PATH; it must have the WASI standard library, which Rust calls
// wasm32-wasi up to 1.83 and wasm32-wasip1 from 1.78 on (both names from 1.78 to 1.83).
//
// Besides the functions, the conformance function is also built for
// wasm32-unknown-unknown (build/conformance-unknown.wasm) when the compiler has that
// target, to prove the SDK works without WASI.
//
// Every module's import and export names are checked against the ABI before the build
// counts as done (the runtime checks the core signatures too, at deploy time).
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from '../../scripts/build-examples.ts';
import { exists, runner } from '../../scripts/build-support.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = runner(here);
const targetDir = path.join(here, 'target');
const buildDir = path.join(here, 'build');

/** WASI preview 1 target names, preferred first. */
const WASI_TARGETS = ['wasm32-wasip1', 'wasm32-wasi'] as const;
const UNKNOWN_TARGET = 'wasm32-unknown-unknown';

interface Toolchain {
  rustc: string;
  cargo: string;
  version: string;
  wasiTarget: string;
  hasUnknownTarget: boolean;
}



/** Checks one rustc/cargo pair; returns the toolchain or why it cannot build the examples. */
async function probe(rustc: string, cargo: string): Promise<Toolchain | string> {
  let version: string;
  let sysroot: string;
  try {
    version = (await run(rustc, ['--version'])).stdout.trim();
    sysroot = (await run(rustc, ['--print', 'sysroot'])).stdout.trim();
  } catch {
    return `${rustc}: not installed`;
  }
  const hasTarget = (target: string) => exists(path.join(sysroot, 'lib', 'rustlib', target, 'lib'));
  let wasiTarget: string | undefined;
  for (const target of WASI_TARGETS) {
    if (await hasTarget(target)) {
      wasiTarget = target;
      break;
    }
  }
  if (!wasiTarget) return `${rustc} (${version}) has neither the wasm32-wasip1 nor the wasm32-wasi standard library`;
  try {
    await run(cargo, ['--version']);
  } catch {
    return `${rustc} (${version}) has ${wasiTarget}, but its cargo (${cargo}) does not run`;
  }
  return { rustc, cargo, version, wasiTarget, hasUnknownTarget: await hasTarget(UNKNOWN_TARGET) };
}

let found: Promise<Toolchain | string> | undefined;

/** The first usable toolchain, or the reasons every candidate was refused. */
function findToolchain(): Promise<Toolchain | string> {
  found ??= (async () => {
    const candidates = process.env.RUSTC
      ? [{ rustc: process.env.RUSTC, cargo: process.env.CARGO ?? 'cargo' }]
      : [
          { rustc: '/usr/bin/rustc', cargo: '/usr/bin/cargo' },
          { rustc: 'rustc', cargo: 'cargo' },
        ];
    const refused: string[] = [];
    for (const { rustc, cargo } of candidates) {
      const result = await probe(rustc, cargo);
      if (typeof result !== 'string') return result;
      refused.push(result);
    }
    return (
      `needs a Rust compiler with the WASI standard library (${refused.join('; ')}). ` +
      'Install Debian\'s: apt-get install rustc cargo libstd-rust-dev-wasm32; or with rustup: rustup target add wasm32-wasip1'
    );
  })();
  return found;
}

export async function missingToolchain(): Promise<string | null> {
  const toolchain = await findToolchain();
  return typeof toolchain === 'string' ? toolchain : null;
}

/** Function name → crate name, from the workspace members (one directory per function). */
export async function functions(): Promise<Map<string, string>> {
  const workspace = await readFile(path.join(here, 'Cargo.toml'), 'utf8');
  const members = /^members\s*=\s*\[([^\]]*)\]/m.exec(workspace);
  if (!members) throw new Error('examples/rust/Cargo.toml has no [workspace] members list');
  const result = new Map<string, string>();
  for (const quoted of members[1]!.matchAll(/"([^"]+)"/g)) {
    const dir = quoted[1]!;
    const manifest = await readFile(path.join(here, dir, 'Cargo.toml'), 'utf8');
    const name = /^name\s*=\s*"([^"]+)"/m.exec(manifest);
    if (!name) throw new Error(`examples/rust/${dir}/Cargo.toml has no package name`);
    result.set(path.basename(dir), name[1]!);
  }
  return result;
}

async function cargoBuild(toolchain: Toolchain, target: string, packages: string[], options: BuildOptions): Promise<void> {
  const args = ['build', '--release', '--offline', '--target', target, '--target-dir', targetDir];
  for (const name of packages) args.push('-p', name);
  const started = performance.now();
  try {
    // cwd is examples/rust: cargo reads .cargo/config.toml (the small stack) from there.
    await run(toolchain.cargo, args, { ...process.env, RUSTC: toolchain.rustc });
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`\`RUSTC=${toolchain.rustc} ${toolchain.cargo} ${args.join(' ')}\` in examples/rust failed:\n${(e.stderr || e.message).trim()}`);
  }
  options.log(`cargo build --target ${target} (${packages.length} crates) took ${Math.round(performance.now() - started)} ms`);
}

/** Initial size of the module's own memory in 64 KiB pages (what the host snapshots). */
function initialMemoryPages(bytes: Uint8Array): number | null {
  let offset = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[offset++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  };
  while (offset < bytes.length) {
    const id = bytes[offset++]!;
    const size = leb();
    const end = offset + size;
    if (id === 5 && leb() > 0) {
      leb(); // limits flags
      return leb();
    }
    offset = end;
  }
  return null;
}

/** The ABI version the SDK in abi/rust builds; every import and export carries it. */
const ABI_VERSION = '0.2.0';
const ABI_IMPORTS: Record<string, string[]> = {
  state: ['get', 'set', 'delete'],
  pubsub: ['publish'],
  config: ['get'],
  invoke: ['call'],
  log: ['write'],
  lock: ['try-lock', 'unlock', 'keep-alive'],
  sequencer: ['next-id'],
};
const HANDLE = `l8:faas/http-handler@${ABI_VERSION}#handle`;
const ON_MESSAGE = `l8:faas/subscriber@${ABI_VERSION}#on-message`;

/**
 * The reasons a module does not look like an L8 function built by this SDK: imports
 * outside l8:faas and WASI preview 1, missing memory/cabi_realloc/handler exports, or a
 * _start export (a command, not a library). Empty when it is fine.
 */
function abiProblems(module: WebAssembly.Module): string[] {
  const problems: string[] = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === 'wasi_snapshot_preview1' && imp.kind === 'function') continue;
    const match = /^l8:faas\/([a-z-]+)@(.+)$/.exec(imp.module);
    const known = match && match[2] === ABI_VERSION && ABI_IMPORTS[match[1]!]?.includes(imp.name);
    if (!known || imp.kind !== 'function') problems.push(`imports ${imp.kind} "${imp.module}" "${imp.name}", which is not in the L8 ABI ${ABI_VERSION}`);
  }
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  if (exports.get('memory') !== 'memory') problems.push('does not export "memory"');
  if (exports.get('cabi_realloc') !== 'function') problems.push('does not export "cabi_realloc"');
  if (exports.has('_start')) problems.push('exports "_start" (build a cdylib, not a binary)');
  const handlers = [HANDLE, ON_MESSAGE].filter((name) => exports.get(name) === 'function');
  if (handlers.length === 0) problems.push(`exports neither "${HANDLE}" nor "${ON_MESSAGE}" (use l8::http_handler! or l8::subscriber!)`);
  for (const name of handlers) {
    if (exports.get(`cabi_post_${name}`) !== 'function') problems.push(`exports "${name}" without "cabi_post_${name}"`);
  }
  return problems;
}

/** Copies one module to build/ and checks its imports and exports against the ABI. */
async function publish(from: string, name: string, options: BuildOptions): Promise<void> {
  const output = path.join(buildDir, `${name}.wasm`);
  await copyFile(from, output);
  const bytes = new Uint8Array(await readFile(output));
  const module = new WebAssembly.Module(bytes);
  const problems = abiProblems(module);
  if (problems.length) throw new Error(`build/${name}.wasm is not a valid L8 function: it ${problems.join('; it ')}`);
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  const kinds = [exports.includes(HANDLE) && 'handle', exports.includes(ON_MESSAGE) && 'on-message'].filter(Boolean).join(' + ');
  options.log(`${name}: ${bytes.length} bytes, initial memory ${initialMemoryPages(bytes)} pages, exports ${kinds}`);
}

export async function build(options: BuildOptions): Promise<void> {
  const toolchain = await findToolchain();
  if (typeof toolchain === 'string') throw new Error(toolchain);
  options.log(`using ${toolchain.version} (${toolchain.rustc}), target ${toolchain.wasiTarget}`);
  if (process.env.RUSTFLAGS || process.env.CARGO_ENCODED_RUSTFLAGS) {
    options.log('warning: RUSTFLAGS is set and replaces the flags in examples/rust/.cargo/config.toml (64 KiB stack); modules will have a larger initial memory');
  }
  const fns = await functions();
  await mkdir(buildDir, { recursive: true });
  await cargoBuild(toolchain, toolchain.wasiTarget, [...fns.values()], options);
  for (const [name, crate] of fns) {
    await publish(path.join(targetDir, toolchain.wasiTarget, 'release', `${crate.replaceAll('-', '_')}.wasm`), name, options);
  }
  const conformance = fns.get('conformance');
  if (!conformance) return;
  if (!toolchain.hasUnknownTarget) {
    options.log(`conformance-unknown: skipped, ${toolchain.rustc} has no ${UNKNOWN_TARGET} standard library`);
    return;
  }
  await cargoBuild(toolchain, UNKNOWN_TARGET, [conformance], options);
  await publish(path.join(targetDir, UNKNOWN_TARGET, 'release', `${conformance.replaceAll('-', '_')}.wasm`), 'conformance-unknown', options);
}
