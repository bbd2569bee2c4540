// Just enough of the WebAssembly binary format to know the core signatures of a module's
// imported and exported functions, which the JS API does not reveal. Full decoding and
// rewriting of code lives in host/instrument/.
import type { CoreSignature, CoreType } from './abi.ts';

const VALTYPES: Record<number, CoreType | string> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref',
};

export type BinaryKind = 'core' | 'component' | 'not-wasm';

/** Tells a core module from a component by the preamble (magic, version, layer). */
export function binaryKind(bytes: Uint8Array): BinaryKind {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    return 'not-wasm';
  }
  // Core modules: version 1, layer 0. Components: layer 1 (bytes 6..7 = 01 00).
  return bytes[6] === 1 && bytes[7] === 0 ? 'component' : 'core';
}

class Reader {
  pos: number;
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('unexpected end of module');
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 35) throw new Error('malformed LEB128');
    }
  }
  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.pos += len;
    return new TextDecoder().decode(this.bytes.subarray(start, this.pos));
  }
  valtype(): CoreType | string {
    const b = this.byte();
    if (b === 0x63 || b === 0x64) {
      this.u32(); // (ref null? ht): heap type index, signed LEB in practice small
      return 'ref';
    }
    return VALTYPES[b] ?? `0x${b.toString(16)}`;
  }
  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
const KINDS: ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

export interface FunctionSignatures {
  imports: Map<string, CoreSignature>; // key: module + "\0" + name
  exports: Map<string, CoreSignature>;
  /** Every import and export, in order, as WebAssembly.Module.imports/exports list them. */
  importList: Array<{ module: string; name: string; kind: ExternKind }>;
  exportList: Array<{ name: string; kind: ExternKind }>;
}

/** Core signatures of imported and exported functions. The module must already be valid. */
export function functionSignatures(bytes: Uint8Array): FunctionSignatures {
  const r = new Reader(bytes, 8);
  const types: CoreSignature[] = [];
  const funcTypes: number[] = []; // type index per function index (imports first)
  const imports = new Map<string, CoreSignature>();
  const exportFuncs: Array<[string, number]> = [];
  const importList: FunctionSignatures['importList'] = [];
  const exportList: FunctionSignatures['exportList'] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 1) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const form = r.byte();
        if (form !== 0x60) {
          throw new Error(`type section form 0x${form.toString(16)} (GC types) is not supported for L8 functions`);
        }
        const params = Array.from({ length: r.u32() }, () => r.valtype() as CoreType);
        const results = Array.from({ length: r.u32() }, () => r.valtype() as CoreType);
        types.push({ params, results });
      }
    } else if (id === 2) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        importList.push({ module, name, kind: KINDS[kind] ?? 'tag' });
        if (kind === 0) {
          const t = r.u32();
          funcTypes.push(t);
          imports.set(`${module}\0${name}`, types[t] ?? { params: [], results: [] });
        } else if (kind === 1) {
          r.valtype();
          r.limits();
        } else if (kind === 2) {
          r.limits();
        } else if (kind === 3) {
          r.valtype();
          r.byte();
        } else {
          r.u32(); // tag
          r.u32();
        }
      }
    } else if (id === 3) {
      const count = r.u32();
      for (let i = 0; i < count; i++) funcTypes.push(r.u32());
    } else if (id === 7) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const name = r.name();
        const kind = r.byte();
        const index = r.u32();
        exportList.push({ name, kind: KINDS[kind] ?? 'tag' });
        if (kind === 0) exportFuncs.push([name, index]);
      }
    }
    r.pos = end;
  }
  const exports = new Map<string, CoreSignature>();
  for (const [name, index] of exportFuncs) {
    const t = funcTypes[index];
    if (t !== undefined && types[t]) exports.set(name, types[t]);
  }
  return { imports, exports, importList, exportList };
}

export function formatSignature(sig: CoreSignature): string {
  return `(${sig.params.join(', ')}) -> (${sig.results.join(', ')})`;
}

export function sameSignature(a: CoreSignature, b: CoreSignature): boolean {
  return a.params.join() === b.params.join() && a.results.join() === b.results.join();
}
