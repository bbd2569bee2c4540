// Just enough of the component binary format to list a component's own imports and
// exports by name, without transpiling it: the deploy-time check that names any import
// L8 does not provide runs on every upload and must be cheap. Nested components, core
// modules and type definitions are skipped by their section sizes.
import { binaryKind } from '../wasm-sections.ts';

export interface ComponentInterfaces {
  /** Import names as written, e.g. "wasi:io/streams@0.2.10" or "l8:faas/state@0.1.0". */
  imports: string[];
  exports: string[];
}

const IMPORT_SECTION = 10;
const EXPORT_SECTION = 11;

class Reader {
  pos: number;
  private readonly bytes: Uint8Array;
  readonly end: number;
  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }
  byte(): number {
    if (this.pos >= this.end) throw new Error('unexpected end of a section');
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error('malformed LEB128 number');
  }
  string(): string {
    const len = this.u32();
    if (this.pos + len > this.end) throw new Error('a name runs past the end of its section');
    const text = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return text;
  }
  /** importname' / exportname': 0x00 name, or 0x01 name versionsuffix. */
  externName(): string {
    const kind = this.byte();
    if (kind === 0x00) return this.string();
    if (kind === 0x01) {
      const name = this.string();
      return `${name}${this.string()}`;
    }
    throw new Error(`unknown extern name encoding 0x${kind.toString(16)}`);
  }
  /** externdesc: a sort, then what it refers to. */
  externDesc(): void {
    const sort = this.byte();
    switch (sort) {
      case 0x00: // core module: 0x11 type index
        this.byte();
        this.u32();
        return;
      case 0x01: // func
      case 0x04: // component
      case 0x05: // instance
        this.u32();
        return;
      case 0x02: // value: 0x00 index | 0x01 valtype
        if (this.byte() === 0x00) this.u32();
        else this.valType();
        return;
      case 0x03: // type: 0x00 index (eq) | 0x01 (sub resource)
        if (this.byte() === 0x00) this.u32();
        return;
      default:
        throw new Error(`unknown extern sort 0x${sort.toString(16)}`);
    }
  }
  valType(): void {
    const b = this.byte();
    // Primitive value types are single bytes 0x73..0x7f; anything else is a type index.
    if (b >= 0x73 && b <= 0x7f) return;
    this.pos--;
    this.u32();
  }
}

/** The names a component imports and exports at its top level. Throws on a malformed binary. */
export function componentInterfaces(bytes: Uint8Array): ComponentInterfaces {
  if (binaryKind(bytes) !== 'component') throw new Error('not a WebAssembly component (wrong preamble)');
  const imports: string[] = [];
  const exports: string[] = [];
  const top = new Reader(bytes, 8, bytes.length);
  while (top.pos < bytes.length) {
    const id = top.byte();
    const size = top.u32();
    const end = top.pos + size;
    if (end > bytes.length) throw new Error(`section ${id} runs past the end of the binary`);
    if (id === IMPORT_SECTION || id === EXPORT_SECTION) {
      const r = new Reader(bytes, top.pos, end);
      for (let n = r.u32(); n > 0; n--) {
        const name = r.externName();
        if (id === IMPORT_SECTION) {
          r.externDesc();
          imports.push(name);
        } else {
          // export: name, sortidx (sort, core sort when the sort is 0x00, index), optional externdesc.
          if (r.byte() === 0x00) r.byte();
          r.u32();
          if (r.byte() === 0x01) r.externDesc();
          exports.push(name);
        }
      }
    }
    top.pos = end;
  }
  return { imports, exports };
}
