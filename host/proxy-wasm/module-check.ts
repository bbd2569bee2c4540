// Checks a proxy-wasm module before it is accepted: what it imports must be something L8
// can link (proxy-wasm host functions, Layotto's extensions, WASI preview 1, the hooks
// AssemblyScript and Emscripten add), and what it exports must make it an HTTP function.
// A module that would fail at its first request fails at deploy time instead.
import type { CoreSignature } from '../abi.ts';
import { L8Error } from '../errors.ts';
import { WASI_MODULE, isWasiFunction } from '../wasi-preview1.ts';
import { binaryKind, formatSignature, functionSignatures, sameSignature } from '../wasm-sections.ts';
import { ABI_MARKERS, CALLBACKS, HTTP_CALLBACKS, IMPLEMENTED, TOOLCHAIN_IMPORTS } from './abi.ts';

export type ImportKind = 'host' | 'toolchain' | 'wasi' | 'unimplemented';

export interface ProxyImport {
  module: string;
  name: string;
  kind: ImportKind;
  signature: CoreSignature;
}

export interface CheckedProxyModule {
  form: 'proxy-wasm';
  /** ABI version the module announces, e.g. "0.2.0". */
  abiVersion: string;
  imports: ProxyImport[];
  /** Guest callbacks (see CALLBACKS) the module exports. */
  callbacks: Set<string>;
  /** The export the host allocates guest memory with. */
  allocator: 'malloc' | 'proxy_on_memory_allocate';
}

const DOCS = 'see docs/layotto.md for what L8 runs';
const invalid = (message: string) => new L8Error('invalid_module', `${message}; ${DOCS}`);

/**
 * Names in the export section, or null when the bytes are not a core module whose
 * sections can be walked. Cheap: no validation, no compilation.
 */
export function exportNames(bytes: Uint8Array): string[] | null {
  if (binaryKind(bytes) !== 'core') return null;
  let pos = 8;
  const u32 = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= bytes.length) throw new RangeError('end of module');
      const b = bytes[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new RangeError('malformed LEB128');
  };
  try {
    while (pos < bytes.length) {
      const id = bytes[pos++]!;
      const size = u32();
      const end = pos + size;
      if (end > bytes.length) return null;
      if (id === 7) {
        const names: string[] = [];
        const count = u32();
        const decoder = new TextDecoder();
        for (let i = 0; i < count; i++) {
          const length = u32();
          names.push(decoder.decode(bytes.subarray(pos, pos + length)));
          pos += length;
          pos++; // kind
          u32(); // index
        }
        return names;
      }
      pos = end;
    }
    return [];
  } catch {
    return null;
  }
}

/** The proxy-wasm ABI version a module announces by its marker export, or null. */
export function abiVersionOf(bytes: Uint8Array): string | null {
  const names = exportNames(bytes);
  if (!names) return null;
  for (const name of names) {
    const version = ABI_MARKERS[name];
    if (version) return version;
  }
  return null;
}

/** Validates a module and checks it against the part of proxy-wasm L8 implements. */
export function checkProxyModule(bytes: Uint8Array): CheckedProxyModule {
  const abiVersion = abiVersionOf(bytes);
  if (!abiVersion) throw invalid(`not a proxy-wasm module: it exports none of ${Object.keys(ABI_MARKERS).join(', ')}`);
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw invalid(`the proxy-wasm module is not a valid WebAssembly module: ${(error as Error).message}`);
  }
  let signatures;
  try {
    signatures = functionSignatures(bytes);
  } catch (error) {
    throw invalid(`could not read the module's function signatures: ${(error as Error).message}`);
  }

  const imports: ProxyImport[] = [];
  const problems: string[] = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    const where = `import "${imp.module}" "${imp.name}"`;
    if (imp.kind !== 'function') {
      problems.push(
        imp.kind === 'memory'
          ? `${where} is a memory; proxy-wasm modules must define and export their own memory`
          : `${where} is a ${imp.kind}; only functions can be imported`,
      );
      continue;
    }
    const signature = signatures.imports.get(`${imp.module}\0${imp.name}`) ?? { params: [], results: [] };
    const expect = (expected: CoreSignature) => {
      if (!sameSignature(signature, expected)) {
        problems.push(`${where} has signature ${formatSignature(signature)}, but L8 provides ${formatSignature(expected)}`);
      }
    };
    if (imp.module === WASI_MODULE) {
      if (!isWasiFunction(imp.name)) problems.push(`${where} is not a WASI preview 1 function`);
      imports.push({ module: imp.module, name: imp.name, kind: 'wasi', signature });
      continue;
    }
    if (imp.module !== 'env') {
      problems.push(`${where}: proxy-wasm modules import host functions from "env" (and WASI from "${WASI_MODULE}") only`);
      continue;
    }
    const host = IMPLEMENTED[imp.name];
    if (host) {
      expect(host.signature);
      imports.push({ module: imp.module, name: imp.name, kind: 'host', signature });
    } else if (TOOLCHAIN_IMPORTS[imp.name]) {
      expect(TOOLCHAIN_IMPORTS[imp.name]!);
      imports.push({ module: imp.module, name: imp.name, kind: 'toolchain', signature });
    } else if (imp.name.startsWith('proxy_')) {
      // Linked to a stub that answers Unimplemented and logs once: a module that merely
      // links a function it never calls on L8 (timers, HTTP calls, metrics) still runs.
      if (signature.results.length > 1) problems.push(`${where} returns ${signature.results.length} values; proxy-wasm host functions return one status`);
      imports.push({ module: imp.module, name: imp.name, kind: 'unimplemented', signature });
    } else {
      problems.push(`${where} is neither a proxy-wasm host function (proxy_*) nor one L8 provides for toolchains (${Object.keys(TOOLCHAIN_IMPORTS).join(', ')})`);
    }
  }

  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  const callbacks = new Set<string>();
  for (const [name, accepted] of Object.entries(CALLBACKS)) {
    const kind = exports.get(name);
    if (kind === undefined) continue;
    const actual = signatures.exports.get(name);
    if (kind !== 'function' || !actual || !accepted.some((s) => sameSignature(actual, s))) {
      // A `main` of another shape is some toolchain's own entry point, not proxy-wasm's: not called.
      if (name === 'main') continue;
      problems.push(`export "${name}" has ${actual ? `signature ${formatSignature(actual)}` : `kind ${kind}`}, but proxy-wasm says ${accepted.map(formatSignature).join(' or ')}`);
      continue;
    }
    callbacks.add(name);
  }
  if (exports.get('memory') !== 'memory') problems.push('the module must export its linear memory as "memory"');
  const allocator = callbacks.has('malloc') ? 'malloc' : callbacks.has('proxy_on_memory_allocate') ? 'proxy_on_memory_allocate' : null;
  if (!allocator) problems.push('the module exports neither "malloc" nor "proxy_on_memory_allocate", so the host cannot hand it request data');
  if (!HTTP_CALLBACKS.some((name) => callbacks.has(name))) {
    problems.push(`the module exports none of ${HTTP_CALLBACKS.join(', ')}; L8 runs proxy-wasm HTTP functions (not TCP filters or background services)`);
  }
  if (problems.length > 0) {
    throw invalid(`the proxy-wasm module (ABI ${abiVersion}) cannot run on L8: ${problems.join('; ')}`);
  }
  return { form: 'proxy-wasm', abiVersion, imports, callbacks, allocator: allocator! };
}
