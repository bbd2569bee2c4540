// Wraps an L8 core module into a WebAssembly component with standard tooling (jco's
// `componentEmbed` + `componentNew`, i.e. wasm-tools): the core form is the canonical-ABI
// lowering of abi/wit/faas.wit, so embedding that WIT and running `component new` must
// give a component that behaves exactly like the module (the conformance suite checks
// it). A module that imports WASI preview 1 gets jco's preview1 reactor adapter, which
// maps those imports onto WASI 0.2.
import { readFile } from 'node:fs/promises';
import { L8Error } from '../errors.ts';

const FAAS_WIT = new URL('../../abi/wit/faas.wit', import.meta.url);

export interface WrapResult {
  component: Uint8Array;
  /** The world the module was embedded with. */
  world: string;
  /** The l8:faas version its imports and exports use. */
  version: string;
  adapter: boolean;
}

/** Which world and ABI version a core module was built for, from its import and export names. */
export function describeCoreModule(bytes: Uint8Array): { world: string; version: string; wasi: boolean } {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  const names = [...WebAssembly.Module.imports(module).map((i) => i.module), ...WebAssembly.Module.exports(module).map((e) => e.name)];
  const version = names.map((n) => /^(?:cabi_post_)?l8:faas\/[a-z-]+@([0-9][^#]*)/.exec(n)?.[1]).find((v) => v !== undefined);
  if (!version) throw new L8Error('invalid_module', 'the module neither imports nor exports anything of l8:faas; it is not an L8 core module');
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  const http = exports.some((e) => e.startsWith('l8:faas/http-handler@'));
  const sub = exports.some((e) => e.startsWith('l8:faas/subscriber@'));
  const world = http && sub ? 'function' : http ? 'http-function' : sub ? 'subscriber-function' : null;
  if (!world) throw new L8Error('invalid_module', 'the module exports neither l8:faas/http-handler#handle nor l8:faas/subscriber#on-message');
  const wasi = WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1');
  return { world, version, wasi };
}

/** The component of an L8 core module. */
export async function wrapCoreModule(bytes: Uint8Array): Promise<WrapResult> {
  const { world, version, wasi } = describeCoreModule(bytes);
  // The WIT file carries the newest ABI version; a module built against an older minor
  // version is embedded with the same interfaces under its own version (what it
  // imports exists there unchanged: minor versions only add).
  const wit = (await readFile(FAAS_WIT, 'utf8')).replace(/^package\s+l8:faas@[^;\s]+\s*;/m, `package l8:faas@${version};`);
  const { componentEmbed, componentNew, preview1AdapterReactorPath } = await import('@bytecodealliance/jco');
  const embedded = await componentEmbed({ binary: bytes, witSource: wit, world });
  const adapters: Array<[string, Uint8Array]> = wasi ? [['wasi_snapshot_preview1', new Uint8Array(await readFile(preview1AdapterReactorPath()))]] : [];
  const component = await componentNew(embedded, adapters);
  return { component, world, version, adapter: wasi };
}
