// Reading a module's structure: the preamble, the section table, and the facts the
// rewrite needs before it writes anything (how many types and imported functions and
// globals there are, the one memory and its limits).
import { Reader, hex } from './bytes.ts';
import { InstrumentError } from './errors.ts';

export const INTERRUPT_MODULE = 'l8:internal';
export const MAX_PAGES_32 = 65536;

export const SECTION_NAMES: Record<number, string> = {
  0: 'custom section',
  1: 'type section',
  2: 'import section',
  3: 'function section',
  4: 'table section',
  5: 'memory section',
  6: 'global section',
  7: 'export section',
  8: 'start section',
  9: 'element section',
  10: 'code section',
  11: 'data section',
  12: 'data count section',
  13: 'tag section',
};

// Position of each known section in the order the binary format requires.
export const SECTION_RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

export interface Section {
  id: number;
  /** Offset of the section id byte. */
  start: number;
  /** Offset of the first content byte. */
  content: number;
  end: number;
  /** For custom sections. */
  name?: string;
}

const ABSTRACT_HEAP: Record<number, string> = {
  0x70: 'func', 0x6f: 'extern', 0x6e: 'any', 0x6d: 'eq', 0x6c: 'i31', 0x6b: 'struct', 0x6a: 'array', 0x69: 'exn',
  0x71: 'none', 0x72: 'noextern', 0x73: 'nofunc', 0x74: 'noexn',
};
const VALTYPE_NAMES: Record<number, string> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128',
  0x70: 'funcref', 0x6f: 'externref', 0x6e: 'anyref', 0x6d: 'eqref', 0x6c: 'i31ref', 0x6b: 'structref',
  0x6a: 'arrayref', 0x69: 'exnref', 0x71: 'nullref', 0x72: 'nullexternref', 0x73: 'nullfuncref', 0x74: 'nullexnref',
};

/** Reads a value type and names it ('i32', 'funcref', '(ref null 3)', '(ref any)'). */
export function readValtype(r: Reader): string {
  const at = r.pos;
  const b = r.u8();
  if (b === 0x63 || b === 0x64) {
    const ht = r.s33();
    const heap = ht < 0 ? ABSTRACT_HEAP[ht + 128] : String(ht);
    if (heap === undefined) r.fail(`unknown heap type ${ht}`, at + 1);
    return b === 0x63 ? `(ref null ${heap})` : `(ref ${heap})`;
  }
  const name = VALTYPE_NAMES[b];
  if (name === undefined) r.fail(`unknown value type ${hex(b)}`, at);
  return name;
}

/** Skips a storage type (value type or packed i8/i16). */
function skipStorageType(r: Reader): void {
  const b = r.buf[r.pos];
  if (b === 0x78 || b === 0x77) r.pos++;
  else readValtype(r);
}

/**
 * Skips one composite type (func, struct, array) whose form byte was read. Returns the
 * number of parameters of a function type, -1 for the others.
 */
function skipCompositeType(r: Reader, form: number, at: number): number {
  if (form === 0x60) {
    const params = r.u32();
    for (let n = params; n > 0; n--) readValtype(r);
    for (let n = r.u32(); n > 0; n--) readValtype(r);
    return params;
  } else if (form === 0x5f) {
    for (let n = r.u32(); n > 0; n--) {
      skipStorageType(r);
      r.u8();
    }
  } else if (form === 0x5e) {
    skipStorageType(r);
    r.u8();
  } else {
    r.fail(`unknown type form ${hex(form)}`, at);
  }
  return -1;
}

/** Skips one subtype (optionally `sub`/`sub final` with supertypes); returns what skipCompositeType does. */
function skipSubType(r: Reader): number {
  const at = r.pos;
  const form = r.u8();
  if (form === 0x50 || form === 0x4f) {
    for (let n = r.u32(); n > 0; n--) r.u32();
    const inner = r.pos;
    return skipCompositeType(r, r.u8(), inner);
  }
  return skipCompositeType(r, form, at);
}

/**
 * Number of types (not rec groups) the type section defines. With `params`, also pushes
 * each type's parameter count (-1 for struct and array types), in type index order.
 */
export function countTypes(r: Reader, params?: number[]): number {
  let types = 0;
  for (let groups = r.u32(); groups > 0; groups--) {
    if (r.buf[r.pos] === 0x4e) {
      r.pos++;
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const p = skipSubType(r);
        params?.push(p);
      }
      types += n;
    } else {
      const p = skipSubType(r);
      params?.push(p);
      types++;
    }
  }
  return types;
}

export interface Limits {
  flags: number;
  min: number;
  max: number | null;
}

export function readLimits(r: Reader): Limits {
  const flags = r.u8();
  if (flags & 0x04) {
    // 64-bit index type: min/max are u64. Skipped here, rejected by the caller for memories.
    r.skipLeb();
    if (flags & 1) r.skipLeb();
    return { flags, min: 0, max: null };
  }
  const min = r.u32();
  const max = flags & 1 ? r.u32() : null;
  if (flags & 0x08) r.u32(); // custom page size (log2), rejected by the caller
  return { flags, min, max };
}

function mib(pages: number): string {
  const m = (pages * 65536) / (1024 * 1024);
  return `${Number.isInteger(m) ? m : m.toFixed(2)} MiB`;
}

export function expectEnd(r: Reader): void {
  if (r.pos !== r.end) r.fail(`${r.end - r.pos} unexpected bytes at the end`);
}

export function checkPreamble(buf: Uint8Array): void {
  if (buf.length < 8 || buf[0] !== 0x00 || buf[1] !== 0x61 || buf[2] !== 0x73 || buf[3] !== 0x6d) {
    const head = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('') || 'nothing';
    throw new InstrumentError(
      `not a WebAssembly binary: it starts with 0x${head}, not "\\0asm"; deploy the compiled .wasm file, not its source or text format`,
      0,
    );
  }
  const version = buf[4]! | (buf[5]! << 8);
  const layer = buf[6]! | (buf[7]! << 8);
  if (layer === 1) {
    throw new InstrumentError('this is a WebAssembly component, not a core module; only core modules are instrumented', 4);
  }
  if (version !== 1 || layer !== 0) {
    throw new InstrumentError(`unsupported WebAssembly binary version ${version} (layer ${layer}); expected a version 1 core module`, 4);
  }
}

export function readSectionTable(buf: Uint8Array): Section[] {
  const sections: Section[] = [];
  const r = new Reader(buf, 8, buf.length, 'module');
  let lastRank = 0;
  while (r.pos < buf.length) {
    const start = r.pos;
    const id = r.u8();
    const size = r.u32();
    const content = r.pos;
    const end = content + size;
    if (end > buf.length) {
      r.fail(`the ${SECTION_NAMES[id] ?? `section ${id}`} declares ${size} bytes but only ${buf.length - content} remain (truncated module)`, start);
    }
    if (id === 0) {
      r.what = 'custom section';
      const name = r.name();
      if (r.pos > end) r.fail('custom section name runs past the section', content);
      sections.push({ id, start, content, end, name });
    } else {
      const rank =
        SECTION_RANK[id] ?? r.fail(`unknown section id ${id}; the module may use a WebAssembly proposal L8 does not support`, start);
      if (rank <= lastRank) {
        r.fail(`the ${SECTION_NAMES[id]} is duplicated or out of order (the module is malformed)`, start);
      }
      lastRank = rank;
      sections.push({ id, start, content, end });
    }
    r.what = 'module';
    r.pos = end;
  }
  return sections;
}

export interface ImportFacts {
  funcs: number;
  globals: number;
  memories: number;
}

/** `sharedMemory`: the module may import its memory (a component's adapter modules do). */
export function readImports(r: Reader | null, sharedMemory = false): ImportFacts {
  const facts: ImportFacts = { funcs: 0, globals: 0, memories: 0 };
  if (!r) return facts;
  for (let n = r.u32(); n > 0; n--) {
    const entryAt = r.pos;
    const module = r.name();
    const name = r.name();
    const kind = r.u8();
    if (module === INTERRUPT_MODULE) {
      r.fail(`the module imports "${module}" "${name}"; the "${INTERRUPT_MODULE}" namespace is reserved for the host`, entryAt);
    }
    switch (kind) {
      case 0:
        r.u32();
        facts.funcs++;
        break;
      case 1:
        readValtype(r);
        readLimits(r);
        break;
      case 2:
        if (sharedMemory) {
          readLimits(r);
          facts.memories++;
          break;
        }
        throw new InstrumentError(
          `the module imports its memory ("${module}" "${name}"); L8 functions must define and export their memory: ` +
            'build without --import-memory (or the equivalent linker option)',
          entryAt,
        );
      case 3:
        readValtype(r);
        r.u8();
        facts.globals++;
        break;
      case 4:
        r.u8();
        r.u32();
        break;
      default:
        r.fail(`unknown import kind ${hex(kind)}`, r.pos - 1);
    }
  }
  expectEnd(r);
  return facts;
}

export interface MemoryFacts {
  initialPages: number;
  maximumPages: number;
}

/**
 * `sharedMemory`: a module without a memory of its own is accepted (its facts are then
 * 0/0 pages); the module that defines the memory it uses is capped instead.
 */
export function readMemory(r: Reader | null, maxMemoryPages: number, sharedMemory = false): MemoryFacts {
  const count = r ? r.u32() : 0;
  if (count === 0 && sharedMemory) return { initialPages: 0, maximumPages: 0 };
  if (count === 0) {
    throw new InstrumentError('the module defines no memory; L8 functions must define and export one linear memory');
  }
  if (count > 1) {
    throw new InstrumentError(`the module defines ${count} memories; L8 functions must define exactly one (multi-memory is not supported)`);
  }
  const at = r!.pos;
  const limits = readLimits(r!);
  expectEnd(r!);
  if (limits.flags & 0x04) {
    throw new InstrumentError('the module uses a 64-bit memory (memory64); L8 supports 32-bit memories only: build for wasm32', at);
  }
  if (limits.flags & 0x02) {
    throw new InstrumentError(
      'the module uses shared memory (threads); L8 runs each instance on one thread and snapshots its memory between requests: ' +
        'build without shared memory (no +atomics/+bulk-memory shared-memory linker flags, no -pthread)',
      at,
    );
  }
  if (limits.flags & ~0x01) {
    throw new InstrumentError(
      `the module's memory has limits flags ${hex(limits.flags)}` +
        (limits.flags & 0x08 ? ' (custom page sizes)' : '') +
        '; L8 supports plain 32-bit memories with 64 KiB pages',
      at,
    );
  }
  if (limits.min > maxMemoryPages) {
    throw new InstrumentError(
      `the module needs ${limits.min} pages (${mib(limits.min)}) of memory at start but the function's memory limit is ` +
        `${maxMemoryPages} pages (${mib(maxMemoryPages)}); raise limits.memoryMb or make the module start smaller`,
      at,
    );
  }
  const declared = limits.max ?? MAX_PAGES_32;
  return { initialPages: limits.min, maximumPages: Math.min(declared, maxMemoryPages) };
}
