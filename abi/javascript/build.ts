// Builds a JavaScript or TypeScript function into a WebAssembly component with
// componentize-js (used by `l8 build` and by examples/javascript/build.ts).
//
// The sources are first staged into a temporary folder, mirroring their absolute paths
// so relative imports keep working, under a small entry module at the folder's root
// (componentize-js only lets a module load files below the entry's directory):
// TypeScript is stripped of its types (Node's
// `stripTypeScriptTypes`: erasable syntax only), the bare specifier 'l8' is pointed at
// the SDK (l8.js beside this file), and the SDK's `l8:faas/<interface>` imports get the
// ABI version of abi/wit/faas.wit. componentize-js does not bundle npm packages; a
// function that needs one is bundled first (esbuild, rollup) and built from the bundle.
//
// Worlds: `http-function`, `subscriber-function` and `function` (abi/wit/faas.wit), chosen
// from the module's exports (`httpHandler`, `subscriber`), or `wasi-http` for a module
// that handles `fetch` events (exports wasi:http/incoming-handler, imports nothing of
// L8: it runs unchanged on Spin or `wasmtime serve`).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SDK = join(here, 'l8.js');
const FAAS_WIT = join(here, '..', 'wit', 'faas.wit');
/**
 * The wasi:http version the StarlingMonkey engine in componentize-js 0.23 was built
 * against; its fetch-event handler only attaches to an export of exactly this version.
 */
export const STARLINGMONKEY_WASI_HTTP = '0.2.10';

export const WORLDS = ['http-function', 'subscriber-function', 'function', 'wasi-http'] as const;
export type World = (typeof WORLDS)[number];

export interface JsBuildOptions {
  /** The function's entry module (.js, .mjs, .ts, .mts). */
  entry: string;
  /** Where to write the component. */
  out: string;
  /** Default: chosen from the entry module's exports. */
  world?: World;
}

export interface JsBuildResult {
  out: string;
  world: World;
  bytes: number;
  millis: number;
}

const RELATIVE_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+|l8)\2/g;
const BARE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'".][^'"]*)\1/g;

/** The package version of abi/wit/faas.wit, e.g. "0.2.0". */
async function abiVersion(): Promise<string> {
  const wit = await readFile(FAAS_WIT, 'utf8');
  const match = /^package\s+l8:faas@([0-9][^;\s]*)\s*;/m.exec(wit);
  if (!match) throw new Error(`${FAAS_WIT} has no "package l8:faas@<version>;" line`);
  return match[1]!;
}

/** Runs `run` without Node's "stripTypeScriptTypes is an experimental feature" warning. */
function quietly<T>(run: () => T): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('stripTypeScriptTypes')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return run();
  } finally {
    process.emitWarning = emitWarning;
  }
}

function isTypeScript(file: string): boolean {
  return ['.ts', '.mts'].includes(extname(file));
}

/** Where a source file goes in the staging folder. */
function stagedPath(staging: string, file: string): string {
  const path = isTypeScript(file) ? file.slice(0, -extname(file).length) + (extname(file) === '.mts' ? '.mjs' : '.js') : file;
  return join(staging, 'src', resolve(path));
}

/** Copies the module graph of `entry` into `staging`, transformed as the file comment says. */
async function stage(entry: string, staging: string, version: string): Promise<string> {
  const sdkStaged = join(staging, 'src', '__l8_sdk', 'l8.js');
  const sdk = (await readFile(SDK, 'utf8')).replace(/(['"])l8:faas\/([a-z-]+)\1/g, (_m, q: string, iface: string) => `${q}l8:faas/${iface}@${version}${q}`);
  await mkdir(dirname(sdkStaged), { recursive: true });
  await writeFile(sdkStaged, sdk);

  const seen = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let source: string;
    try {
      source = await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as Error).message}`);
    }
    if (isTypeScript(file)) {
      try {
        source = quietly(() => stripTypeScriptTypes(source, { mode: 'strip' }));
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message} (l8 build strips TypeScript types; use erasable syntax only: no enums, namespaces or parameter properties)`);
      }
    }
    for (const match of source.matchAll(BARE_IMPORT)) {
      const specifier = match[2]!;
      if (specifier === 'l8' || /^(l8|wasi):/.test(specifier)) continue;
      throw new Error(
        `${file} imports "${specifier}": l8 build does not bundle packages; bundle the function first (e.g. esbuild --bundle --format=esm) and build the bundle`,
      );
    }
    const target = stagedPath(staging, file);
    source = source.replace(RELATIVE_IMPORT, (_m, prefix: string, quote: string, specifier: string) => {
      if (specifier === 'l8') {
        let path = relative(dirname(target), sdkStaged).split(sep).join('/');
        if (!path.startsWith('.')) path = `./${path}`;
        return `${prefix}${quote}${path}${quote}`;
      }
      const imported = resolve(dirname(file), specifier);
      queue.push(imported);
      const rewritten = isTypeScript(imported) ? specifier.slice(0, -extname(specifier).length) + (extname(specifier) === '.mts' ? '.mjs' : '.js') : specifier;
      return `${prefix}${quote}${rewritten}${quote}`;
    });
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, source);
  }
  const root = join(staging, 'src');
  const shim = join(root, '__l8_entry.js');
  const target = relative(root, stagedPath(staging, resolve(entry))).split(sep).join('/');
  await writeFile(shim, `export * from './${target}';\n`);
  return shim;
}

/** The world a module is written for, from its exports. */
export function detectWorld(source: string, entry: string): World {
  const exported = (name: string) =>
    new RegExp(`\\bexport\\s+(?:const|let|var|function|class)\\s+${name}\\b`).test(source) ||
    new RegExp(`\\bexport\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`).test(source);
  const http = exported('httpHandler');
  const sub = exported('subscriber');
  if (http && sub) return 'function';
  if (http) return 'http-function';
  if (sub) return 'subscriber-function';
  if (/\baddEventListener\s*\(\s*['"]fetch['"]/.test(source) || exported('incomingHandler')) return 'wasi-http';
  throw new Error(
    `${entry} exports neither "httpHandler" nor "subscriber" and handles no "fetch" event; export one of them (see abi/javascript/README.md) or pass --world`,
  );
}

/** A WIT folder with a world exporting wasi:http/incoming-handler, from the WASI WIT jco ships. */
async function wasiHttpWit(staging: string): Promise<string> {
  const dir = join(staging, 'wit');
  const builtin = new URL('../lib/wit/builtin/0.2.12/', import.meta.resolve('@bytecodealliance/jco'));
  for (const pkg of ['wasi-http', 'wasi-io', 'wasi-clocks', 'wasi-random', 'wasi-cli', 'wasi-filesystem', 'wasi-sockets']) {
    const text = await readFile(new URL(`${pkg}/package.wit`, builtin), 'utf8');
    await mkdir(join(dir, 'deps', pkg), { recursive: true });
    await writeFile(join(dir, 'deps', pkg, 'package.wit'), text.replaceAll('@0.2.12', `@${STARLINGMONKEY_WASI_HTTP}`));
  }
  await writeFile(join(dir, 'world.wit'), `package l8:function;\n\nworld wasi-http {\n  export wasi:http/incoming-handler@${STARLINGMONKEY_WASI_HTTP};\n}\n`);
  return dir;
}

/** Builds one function; throws an Error that says what to fix. */
export async function buildJavaScript(options: JsBuildOptions): Promise<JsBuildResult> {
  const started = performance.now();
  const staging = await mkdtemp(join(tmpdir(), 'l8-build-'));
  try {
    const version = await abiVersion();
    const entry = await stage(options.entry, staging, version);
    const world = options.world ?? detectWorld(await readFile(stagedPath(staging, resolve(options.entry)), 'utf8'), options.entry);
    let witPath: string;
    if (world === 'wasi-http') {
      witPath = await wasiHttpWit(staging);
    } else {
      witPath = join(staging, 'faas.wit');
      await cp(FAAS_WIT, witPath);
    }
    // componentize-js reads its inputs through preview2-shim's Node filesystem, which
    // starts with no preopened directories (DESIGN.md): open the whole file system to it.
    const { _setPreopens } = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as { _setPreopens(map: Record<string, string>): void };
    _setPreopens({ '/': '/' });
    const { componentize } = await import('@bytecodealliance/componentize-js');
    let component: Uint8Array;
    try {
      ({ component } = await componentize({ sourcePath: entry, witPath, worldName: world }));
    } catch (error) {
      throw new Error(`componentize-js failed for ${options.entry} (world ${world}): ${(error as Error).message}`);
    }
    await mkdir(dirname(resolve(options.out)), { recursive: true });
    await writeFile(options.out, component);
    return { out: options.out, world, bytes: component.length, millis: performance.now() - started };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
