// The module-level rewrite: one pass over the sections in order, copying what does not
// change and rewriting what does. With interruption on, the interrupt import is appended
// to the function imports, so every defined function's index moves up by one and every
// use of one (call, return_call, ref.func, exports, start, element segments, constant
// expressions, the name section) is remapped. Everything else the rewrite adds — the new
// types, the fuel and grow-failed globals, the memory.grow wrapper and dirty-range
// functions, the dirty-map memory — is appended at the end of its index space, so no
// other index moves.
import { Reader, Writer, encodeU32, hex } from './bytes.ts';
import { DIRTY_PAGE_BITS, rewriteInstructions, type CodeRewrite, type DirtyTracking } from './code.ts';
import { InstrumentError } from './errors.ts';
import {
  INTERRUPT_MODULE,
  SECTION_NAMES,
  SECTION_RANK,
  countTypes,
  expectEnd,
  readImports,
  readLimits,
  readMemory,
  readSectionTable,
  readValtype,
  type ImportFacts,
  type MemoryFacts,
  type Section,
} from './module.ts';

export const INTERRUPT_NAME = 'interrupt';
const INTERRUPT_TYPE = [0x60, 0x00, 0x01, 0x7f]; // func [] -> [i32]
const GROW_TYPE = [0x60, 0x01, 0x7f, 0x01, 0x7f]; // func [i32] -> [i32], the type of memory.grow
const RANGE_TYPE = [0x60, 0x02, 0x7f, 0x7f, 0x00]; // func [i32 i32] -> [], the dirty-range marker
/** Names of the added functions in the name section (stack traces, profiles). */
const GROW_FUNC_NAME = `${INTERRUPT_MODULE}/memory.grow`;
const RANGE_FUNC_NAME = `${INTERRUPT_MODULE}/mark-dirty`;
/** Wasm pages of the dirty map: one byte for each dirty page of a 4 GiB memory. */
const DIRTY_MAP_PAGES = 2 ** (32 - DIRTY_PAGE_BITS) / 65536;
/** V8's limit on parameters plus locals of one function (kV8MaxWasmFunctionLocals). */
const MAX_LOCALS = 50_000;
const CONSTANT = 'a constant expression';

export interface RewriteOptions {
  maxMemoryPages: number;
  interruption: boolean;
  initialFuel: number;
  sharedMemory: boolean;
  trackGrowFailures: boolean;
  dirtyTracking: boolean;
}

export interface RewriteResult {
  bytes: Uint8Array;
  globals: Array<{ exportName: string; valueType: string; index: number }>;
  fuelGlobal: string | null;
  growFailedGlobal: string | null;
  dirtyMemory: string | null;
  memory: MemoryFacts;
  loops: number;
  growCalls: number;
  stores: number;
  bulkOps: number;
  functions: number;
  entryChecks: number;
}

/**
 * The wrapper every `memory.grow` on memory 0 is replaced with. Same signature and result
 * as the instruction; a failure also sets the flag global to 1 (it stays set until the
 * host clears it), so the host can tell "the guest trapped after memory.grow refused to
 * go past the limit" from any other trap, whatever size the memory had then:
 *   (func (param $delta i32) (result i32)
 *     (local.tee $delta (memory.grow (local.get $delta)))   ;; reuses the parameter
 *     (if (i32.eq (i32.const -1)) (then (global.set $failed (i32.const 1))))
 *     (local.get $delta))
 */
function growBody(flag: number): Uint8Array {
  return new Uint8Array([
    0x00, // no locals
    0x20, 0x00, 0x40, 0x00, 0x22, 0x00,
    0x41, 0x7f, 0x46,
    0x04, 0x40, 0x41, 0x01, 0x24, ...encodeU32(flag), 0x0b,
    0x20, 0x00,
    0x0b,
  ]);
}

/**
 * The function every memory.init / memory.copy / memory.fill calls after it wrote
 * [dest, dest+len) (so dest + len - 1 cannot wrap): marks the pages of that range in the
 * dirty map with one memory.fill on the map (B = DIRTY_PAGE_BITS).
 *   (func (param $d i32) (param $n i32)
 *     (if (local.get $n) (then
 *       (memory.fill $dirty
 *         (i32.shr_u (local.get $d) (i32.const B))
 *         (i32.const 1)
 *         (i32.add (i32.sub (i32.shr_u (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 1)) (i32.const B))
 *                           (i32.shr_u (local.get $d) (i32.const B)))
 *                  (i32.const 1))))))
 */
function rangeBody(dirtyMemory: number): Uint8Array {
  const B = DIRTY_PAGE_BITS;
  return new Uint8Array([
    0x00, // no locals
    0x20, 0x01, 0x04, 0x40,
    0x20, 0x00, 0x41, B, 0x76,
    0x41, 0x01,
    0x20, 0x00, 0x20, 0x01, 0x6a, 0x41, 0x01, 0x6b, 0x41, B, 0x76,
    0x20, 0x00, 0x41, B, 0x76, 0x6b, 0x41, 0x01, 0x6a,
    0xfc, 0x0b, ...encodeU32(dirtyMemory),
    0x0b,
    0x0b,
  ]);
}

/**
 * The check placed at loop headers. It leaves the operand stack as it found it (loop
 * parameters stay where they are) and uses no locals:
 *   global.set $fuel (i32.sub (global.get $fuel) (i32.const 1))
 *   if (i32.le_s (global.get $fuel) (i32.const 0)) (then (global.set $fuel (call $interrupt)))
 * In an empty loop it costs about one cycle per iteration (0.35 ns here). Keeping the
 * counter in a local (stored back to the global at calls) or testing before decrementing
 * measured the same, so the simplest form is used.
 */
function checkSequence(fuel: number, interrupt: number): Uint8Array {
  const f = encodeU32(fuel);
  return new Uint8Array([
    0x23, ...f, 0x41, 0x01, 0x6b, 0x24, ...f,
    0x23, ...f, 0x41, 0x00, 0x4c,
    0x04, 0x40, 0x10, ...encodeU32(interrupt), 0x24, ...f, 0x0b,
  ]);
}

export class ModuleRewriter {
  private readonly buf: Uint8Array;
  private readonly options: RewriteOptions;
  private readonly sections: Section[];
  private readonly out: Writer;
  private readonly typeCount: number;
  private readonly imports: ImportFacts;
  private readonly definedFuncs: number;
  private readonly memory: MemoryFacts;
  /** 1 when the interrupt import is added before the defined functions. */
  private readonly shift: number;
  private readonly fuelIndex: number;
  /** Whether memory.grow is wrapped (the option is on and the module has a memory). */
  private readonly grow: boolean;
  /** Index of the appended memory.grow wrapper function, its type, its flag global; -1 when not added. */
  private readonly growFunc: number;
  private readonly growType: number;
  private readonly growFlagIndex: number;
  /** Dirty-page tracking: the marker function, its type, the dirty-map memory; -1 when off. */
  private readonly dirty: DirtyTracking | null;
  private readonly rangeFunc: number;
  private readonly rangeType: number;
  private readonly dirtyMemoryIndex: number;
  /** Parameter count of each type (-1: not a function type) and type of each defined function; dirty tracking only. */
  private readonly paramCounts: number[] = [];
  private readonly funcTypes: Uint32Array = new Uint32Array(0);
  /** Reused to build a function's local declarations when scratch locals are added. */
  private readonly header = new Writer(64);
  /** Globals appended after the defined ones: fuel, then the grow-failed flag. */
  private readonly addedGlobals: number;
  private readonly check: Uint8Array | null;
  private readonly rw: CodeRewrite;
  private readonly mutableGlobals: Array<{ index: number; valueType: string }> = [];
  private readonly exported: RewriteResult['globals'] = [];
  private fuelGlobal: string | null = null;
  private growFailedGlobal: string | null = null;
  private dirtyMemory: string | null = null;
  private entryChecks = 0;

  constructor(buf: Uint8Array, options: RewriteOptions) {
    this.buf = buf;
    this.options = options;
    this.sections = readSectionTable(buf);
    // Facts needed before anything is written: what the module imports and defines.
    const type = this.find(1);
    this.typeCount = 0;
    if (type) {
      const r = this.reader(type);
      this.typeCount = countTypes(r, options.dirtyTracking ? this.paramCounts : undefined);
      expectEnd(r);
    }
    const imports = this.find(2);
    this.imports = readImports(imports ? this.reader(imports) : null, options.sharedMemory);
    const functions = this.find(3);
    this.definedFuncs = functions ? this.reader(functions).u32() : 0;
    if (options.dirtyTracking && functions) {
      // Each function's parameter count places the scratch locals after its own.
      const r = this.reader(functions);
      r.u32();
      this.funcTypes = new Uint32Array(this.definedFuncs);
      for (let i = 0; i < this.definedFuncs; i++) this.funcTypes[i] = r.u32();
      expectEnd(r);
    }
    const globals = this.find(6);
    const definedGlobals = globals ? this.reader(globals).u32() : 0;
    const memory = this.find(5);
    const definesMemory = memory ? this.reader(memory).u32() > 0 : false;
    this.memory = readMemory(memory ? this.reader(memory) : null, options.maxMemoryPages, options.sharedMemory);
    if (this.definedFuncs > 0 && !this.find(10)) {
      throw new InstrumentError(`the function section declares ${this.definedFuncs} functions but the module has no code section`);
    }

    this.shift = options.interruption ? 1 : 0;
    // The wrapper is added even when the code has no memory.grow: whether it does is only
    // known after the code section, and the type, function and global sections that
    // declare the wrapper come before it. It costs ~40 bytes and keeps the host's view
    // uniform (every module with a memory has the flag). A module without a memory (a
    // component's shim under sharedMemory) cannot contain memory.grow.
    this.grow = options.trackGrowFailures && (definesMemory || this.imports.memories > 0);
    let nextGlobal = this.imports.globals + definedGlobals;
    this.fuelIndex = options.interruption ? nextGlobal++ : -1;
    this.growFlagIndex = this.grow ? nextGlobal++ : -1;
    this.addedGlobals = nextGlobal - this.imports.globals - definedGlobals;
    if (options.dirtyTracking && (options.sharedMemory || !definesMemory)) {
      throw new InstrumentError('dirty tracking needs a module that defines its memory; it cannot be combined with sharedMemory');
    }
    let nextType = this.typeCount + (options.interruption ? 1 : 0);
    this.growType = this.grow ? nextType++ : -1;
    this.rangeType = options.dirtyTracking ? nextType++ : -1;
    let nextFunc = this.imports.funcs + this.shift + this.definedFuncs;
    this.growFunc = this.grow ? nextFunc++ : -1;
    this.rangeFunc = options.dirtyTracking ? nextFunc++ : -1;
    // The dirty map is the second memory: the module's own memory is index 0.
    this.dirtyMemoryIndex = options.dirtyTracking ? 1 : -1;
    this.dirty = options.dirtyTracking
      ? { memory: this.dirtyMemoryIndex, markRange: this.rangeFunc, nextLocal: 0, scratch: new Int32Array(8), added: [], stores: 0, bulk: 0 }
      : null;
    // The interrupt import is appended after the existing function imports.
    this.check = options.interruption ? checkSequence(this.fuelIndex, this.imports.funcs) : null;
    this.rw = {
      importedFuncs: this.imports.funcs,
      shift: this.shift,
      check: null,
      growFunc: -1,
      growCalls: 0,
      loops: 0,
      tailCall: false,
      where: CONSTANT,
      dirty: null,
    };
    this.out = new Writer(buf.length + (buf.length >> 3) + 256);
  }

  run(): RewriteResult {
    const { out, buf, options } = this;
    out.copy(buf, 0, 8);
    // Sections the rewrite needs that the module may lack; each is written where the
    // section order puts it.
    const missing = new Set<number>([7]);
    if (options.interruption) for (const id of [1, 2, 6]) missing.add(id);
    if (this.grow) for (const id of [1, 3, 6, 10]) missing.add(id);
    if (this.dirty) for (const id of [1, 3, 10]) missing.add(id);
    for (const s of this.sections) missing.delete(s.id);
    const emitMissingBefore = (rank: number) => {
      for (const id of [...missing].sort((x, y) => SECTION_RANK[x]! - SECTION_RANK[y]!)) {
        if (SECTION_RANK[id]! < rank) {
          missing.delete(id);
          this.section(id, null);
        }
      }
    };
    for (const s of this.sections) {
      if (s.id === 0) {
        this.custom(s);
        continue;
      }
      emitMissingBefore(SECTION_RANK[s.id]!);
      this.section(s.id, s);
    }
    emitMissingBefore(Infinity);
    return {
      bytes: out.result(),
      globals: this.exported,
      fuelGlobal: this.fuelGlobal,
      growFailedGlobal: this.growFailedGlobal,
      dirtyMemory: this.dirtyMemory,
      memory: this.memory,
      loops: this.rw.loops,
      growCalls: this.rw.growCalls,
      stores: this.dirty?.stores ?? 0,
      bulkOps: this.dirty?.bulk ?? 0,
      functions: this.definedFuncs,
      entryChecks: this.entryChecks,
    };
  }

  private find(id: number): Section | undefined {
    return this.sections.find((s) => s.id === id);
  }

  private reader(s: Section): Reader {
    return new Reader(this.buf, s.content, s.end, SECTION_NAMES[s.id]!);
  }

  private func(index: number): number {
    return index >= this.imports.funcs ? index + this.shift : index;
  }

  private section(id: number, s: Section | null): void {
    const { out, buf } = this;
    const interruption = this.options.interruption;
    const grow = this.grow;
    const dirty = this.dirty !== null;
    const codeChanges = interruption || grow || dirty;
    const r = s ? this.reader(s) : null;
    const sized = (body: () => void) => {
      out.byte(id);
      const at = out.beginSized();
      body();
      out.endSized(at);
    };
    switch (id) {
      case 1: // type: append () -> i32 for the interrupt import, i32 -> i32 for the grow wrapper, (i32 i32) -> () for the range marker
        if (!codeChanges) return out.copy(buf, s!.start, s!.end);
        return sized(() => {
          out.u32((r ? r.u32() : 0) + (interruption ? 1 : 0) + (grow ? 1 : 0) + (dirty ? 1 : 0));
          if (r) out.copy(buf, r.pos, r.end);
          if (interruption) out.bytes(new Uint8Array(INTERRUPT_TYPE));
          if (grow) out.bytes(new Uint8Array(GROW_TYPE));
          if (dirty) out.bytes(new Uint8Array(RANGE_TYPE));
        });
      case 2: // import: append the interrupt import after the existing ones
        if (!interruption) return out.copy(buf, s!.start, s!.end);
        return sized(() => {
          out.u32((r ? r.u32() : 0) + 1);
          if (r) out.copy(buf, r.pos, r.end);
          out.name(INTERRUPT_MODULE);
          out.name(INTERRUPT_NAME);
          out.byte(0x00);
          out.u32(this.typeCount);
        });
      case 3: // function: declare the grow wrapper and the range marker last
        if (!grow && !dirty) return out.copy(buf, s!.start, s!.end);
        return sized(() => {
          out.u32(this.definedFuncs + (grow ? 1 : 0) + (dirty ? 1 : 0));
          if (r) {
            r.u32();
            out.copy(buf, r.pos, r.end);
          }
          if (grow) out.u32(this.growType);
          if (dirty) out.u32(this.rangeType);
        });
      case 4:
        return sized(() => this.tables(r!));
      case 5: // the one memory, with its maximum capped; then the dirty map
        return sized(() => {
          out.u32(dirty ? 2 : 1);
          out.byte(0x01);
          out.u32(this.memory.initialPages);
          out.u32(this.memory.maximumPages);
          // One byte per dirty page of a 4 GiB memory, fixed size (never grown), so every
          // page index a store can compute is inside it.
          if (dirty) {
            out.byte(0x01);
            out.u32(DIRTY_MAP_PAGES);
            out.u32(DIRTY_MAP_PAGES);
          }
        });
      case 6:
        return sized(() => this.globals(r));
      case 7:
        return sized(() => this.exports(r));
      case 8:
        return sized(() => out.u32(this.func(r!.u32())));
      case 9:
        return sized(() => this.elements(r!));
      case 10:
        if (!codeChanges) return out.copy(buf, s!.start, s!.end);
        return sized(() => this.code(r));
      default:
        // function, tag, data count, data: nothing in them changes.
        out.copy(buf, s!.start, s!.end);
    }
  }

  private custom(s: Section): void {
    const codeChanges = this.options.interruption || this.grow || this.dirty !== null;
    if (codeChanges && s.name === 'name') {
      // The name section gives stack traces and profiles their function names, so it is
      // kept and its function indices are moved like every other use. If it cannot be
      // read it is dropped: names are optional, and engines ignore a malformed one too.
      const mark = this.out.len;
      try {
        this.names(s);
      } catch (error) {
        if (!(error instanceof InstrumentError)) throw error;
        this.out.len = mark;
      }
    } else if (codeChanges && s.name!.startsWith('metadata.code.')) {
      // Code metadata (branch hints) names functions and instruction offsets, which the
      // rewrite moves; it only guides optimisation, so it is dropped rather than remapped.
    } else {
      // Everything else (producers, target_features, component-type, DWARF) is kept as
      // is. DWARF code offsets go stale: debug the original module, not this one.
      this.out.copy(this.buf, s.start, s.end);
    }
  }

  /** Rewrites a constant expression at r.pos (ref.func indices move). */
  private constExpr(r: Reader): void {
    this.rw.where = `${CONSTANT} in the ${r.what}`;
    r.pos = rewriteInstructions(this.buf, r.pos, r.end, this.out, this.rw);
  }

  private tables(r: Reader): void {
    const { out, buf } = this;
    const count = r.u32();
    out.u32(count);
    for (let i = 0; i < count; i++) {
      const mark = r.pos;
      const withInit = buf[r.pos] === 0x40; // typed function references: table with initializer
      if (withInit) {
        r.pos++;
        if (r.u8() !== 0x00) r.fail('malformed table with initializer (expected 0x40 0x00)');
      }
      readValtype(r);
      readLimits(r);
      out.copy(buf, mark, r.pos);
      if (withInit) this.constExpr(r);
    }
    expectEnd(r);
  }

  private globals(r: Reader | null): void {
    const { out, buf } = this;
    const count = r ? r.u32() : 0;
    out.u32(count + this.addedGlobals);
    for (let i = 0; i < count; i++) {
      const mark = r!.pos;
      const valueType = readValtype(r!);
      const mutability = r!.u8();
      if (mutability > 1) r!.fail(`unknown global mutability ${hex(mutability)}`, r!.pos - 1);
      if (mutability === 1) this.mutableGlobals.push({ index: this.imports.globals + i, valueType });
      out.copy(buf, mark, r!.pos);
      this.constExpr(r!);
    }
    if (r) expectEnd(r);
    if (this.options.interruption) {
      out.byte(0x7f); // i32
      out.byte(0x01); // mutable
      out.byte(0x41); // i32.const
      out.s32(this.options.initialFuel);
      out.byte(0x0b);
    }
    if (this.grow) {
      out.bytes(new Uint8Array([0x7f, 0x01, 0x41, 0x00, 0x0b])); // (mut i32) (i32.const 0)
    }
  }

  private exports(r: Reader | null): void {
    const { out, buf } = this;
    const names = new Set<string>();
    const count = r ? r.u32() : 0;
    const entries = new Writer(r ? r.end - r.pos + 16 : 16);
    for (let i = 0; i < count; i++) {
      const mark = r!.pos;
      names.add(r!.name());
      const kind = r!.u8();
      const indexAt = r!.pos;
      const index = r!.u32();
      if (kind > 4) r!.fail(`unknown export kind ${hex(kind)}`, indexAt - 1);
      entries.copy(buf, mark, indexAt);
      entries.u32(kind === 0 ? this.func(index) : index);
    }
    if (r) expectEnd(r);
    const unique = (base: string) => {
      let name = base;
      for (let n = 1; names.has(name); n++) name = `${base}_${n}`;
      names.add(name);
      return name;
    };
    const added: Array<{ name: string; index: number }> = [];
    for (const g of this.mutableGlobals) {
      const name = unique(`__l8_global_${g.index}`);
      this.exported.push({ exportName: name, valueType: g.valueType, index: g.index });
      added.push({ name, index: g.index });
    }
    if (this.options.interruption) {
      this.fuelGlobal = unique('__l8_fuel');
      added.push({ name: this.fuelGlobal, index: this.fuelIndex });
    }
    if (this.grow) {
      this.growFailedGlobal = unique('__l8_grow_failed');
      added.push({ name: this.growFailedGlobal, index: this.growFlagIndex });
    }
    if (this.dirty) this.dirtyMemory = unique('__l8_dirty');
    out.u32(count + added.length + (this.dirty ? 1 : 0));
    out.copy(entries.buf, 0, entries.len);
    for (const a of added) {
      out.name(a.name);
      out.byte(0x03);
      out.u32(a.index);
    }
    if (this.dirty) {
      out.name(this.dirtyMemory!);
      out.byte(0x02);
      out.u32(this.dirtyMemoryIndex);
    }
  }

  private funcIndexVector(r: Reader): void {
    const n = r.u32();
    this.out.u32(n);
    for (let i = 0; i < n; i++) this.out.u32(this.func(r.u32()));
  }

  private exprVector(r: Reader): void {
    const n = r.u32();
    this.out.u32(n);
    for (let i = 0; i < n; i++) this.constExpr(r);
  }

  private refType(r: Reader): void {
    const mark = r.pos;
    readValtype(r);
    this.out.copy(this.buf, mark, r.pos);
  }

  private elements(r: Reader): void {
    const { out } = this;
    const count = r.u32();
    out.u32(count);
    for (let i = 0; i < count; i++) {
      const flagsAt = r.pos;
      const flags = r.u32();
      out.u32(flags);
      switch (flags) {
        case 0: // active, table 0, offset, vec(funcidx)
          this.constExpr(r);
          this.funcIndexVector(r);
          break;
        case 1: // passive, elemkind, vec(funcidx)
        case 3: // declarative, elemkind, vec(funcidx)
          out.byte(r.u8());
          this.funcIndexVector(r);
          break;
        case 2: // active, table, offset, elemkind, vec(funcidx)
          out.u32(r.u32());
          this.constExpr(r);
          out.byte(r.u8());
          this.funcIndexVector(r);
          break;
        case 4: // active, table 0, offset, vec(expr)
          this.constExpr(r);
          this.exprVector(r);
          break;
        case 5: // passive, reftype, vec(expr)
        case 7: // declarative, reftype, vec(expr)
          this.refType(r);
          this.exprVector(r);
          break;
        case 6: // active, table, offset, reftype, vec(expr)
          out.u32(r.u32());
          this.constExpr(r);
          this.refType(r);
          this.exprVector(r);
          break;
        default:
          r.fail(`unknown element segment kind ${flags}`, flagsAt);
      }
    }
    expectEnd(r);
  }

  /** `r` is null when the module has no code section and only the added functions are written. */
  private code(r: Reader | null): void {
    const { out, buf, rw, check, dirty } = this;
    const count = r ? r.u32() : 0;
    if (count !== this.definedFuncs) {
      r!.fail(`the code section has ${count} function bodies but the function section declares ${this.definedFuncs}`);
    }
    out.u32(count + (this.grow ? 1 : 0) + (dirty ? 1 : 0));
    if (!r) return this.addedFunctions();
    const sectionEnd = r.end;
    rw.check = check;
    rw.growFunc = this.growFunc;
    rw.dirty = dirty;
    for (let i = 0; i < count; i++) {
      const index = this.imports.funcs + i;
      const size = r.u32();
      const bodyStart = r.pos;
      const bodyEnd = bodyStart + size;
      if (bodyEnd > sectionEnd) r.fail(`function ${index}'s body runs past the end of the code section`, bodyStart);
      const sizeAt = out.beginSized();
      // Locals are copied unchanged; dirty tracking appends the scratch locals it used below.
      r.end = bodyEnd;
      let declared = 0;
      const groups = r.u32();
      const groupsAt = r.pos;
      for (let g = groups; g > 0; g--) {
        declared += r.u32();
        readValtype(r);
      }
      out.copy(buf, bodyStart, r.pos);
      const instructionsAt = out.len;
      if (dirty) {
        const params = this.paramCounts[this.funcTypes[i]!] ?? -1;
        if (params < 0) r.fail(`function ${index} has type ${this.funcTypes[i]}, which is not a function type`, bodyStart);
        dirty.nextLocal = params + declared;
        dirty.scratch.fill(-1);
        dirty.added.length = 0;
      }
      rw.where = index;
      rw.tailCall = false;
      const end = rewriteInstructions(buf, r.pos, bodyEnd, out, rw);
      if (end !== bodyEnd) r.fail(`function ${index} has ${bodyEnd - end} bytes after its final "end"`, end);
      if (rw.tailCall && check) {
        // Tail calls can loop forever without a loop and without growing the stack.
        out.insert(instructionsAt, check);
        this.entryChecks++;
      }
      if (dirty && dirty.added.length > 0) {
        if (dirty.nextLocal > MAX_LOCALS) {
          r.fail(`function ${index} has ${dirty.nextLocal - dirty.added.length} parameters and locals; dirty tracking needs ${dirty.added.length} more, past the engine's limit of ${MAX_LOCALS}`, bodyStart);
        }
        // The declarations are only complete now: rewrite them with one group per scratch local.
        const h = this.header;
        h.len = 0;
        h.u32(groups + dirty.added.length);
        h.copy(buf, groupsAt, r.pos);
        for (const type of dirty.added) {
          h.byte(0x01);
          h.byte(type);
        }
        out.splice(sizeAt, instructionsAt - sizeAt, h.buf.subarray(0, h.len));
      }
      out.endSized(sizeAt);
      r.pos = bodyEnd;
      r.end = sectionEnd;
    }
    expectEnd(r);
    rw.check = null;
    rw.growFunc = -1;
    rw.dirty = null;
    this.addedFunctions();
  }

  /** Bodies of the functions appended after the module's own: the grow wrapper, the range marker. */
  private addedFunctions(): void {
    const bodies: Uint8Array[] = [];
    if (this.grow) bodies.push(growBody(this.growFlagIndex));
    if (this.dirty) bodies.push(rangeBody(this.dirtyMemoryIndex));
    for (const body of bodies) {
      this.out.u32(body.length);
      this.out.bytes(body);
    }
  }

  private names(s: Section): void {
    const { out, buf } = this;
    const interrupt = this.options.interruption ? this.imports.funcs : -1;
    const r = new Reader(buf, s.content, s.end, 'name section');
    out.byte(0);
    const at = out.beginSized();
    out.name('name');
    r.name();
    while (r.pos < s.end) {
      const subStart = r.pos;
      const id = r.u8();
      const subEnd = r.u32() + r.pos;
      if (subEnd > s.end) r.truncated();
      const sub = new Reader(buf, r.pos, subEnd, 'name section');
      if (id === 1) {
        // Function names: (index, name) sorted by index; the interrupt import and the
        // grow wrapper (the last function) get one.
        out.byte(1);
        const subAt = out.beginSized();
        const n = sub.u32();
        out.u32(n + (interrupt >= 0 ? 1 : 0) + (this.grow ? 1 : 0) + (this.dirty ? 1 : 0));
        let inserted = interrupt < 0;
        for (let i = 0; i < n; i++) {
          const index = sub.u32();
          const nameAt = sub.pos;
          sub.skip(sub.u32());
          if (!inserted && index >= interrupt) {
            out.u32(interrupt);
            out.name(`${INTERRUPT_MODULE}/${INTERRUPT_NAME}`);
            inserted = true;
          }
          out.u32(this.func(index));
          out.copy(buf, nameAt, sub.pos);
        }
        if (!inserted) {
          out.u32(interrupt);
          out.name(`${INTERRUPT_MODULE}/${INTERRUPT_NAME}`);
        }
        if (this.grow) {
          out.u32(this.growFunc);
          out.name(GROW_FUNC_NAME);
        }
        if (this.dirty) {
          out.u32(this.rangeFunc);
          out.name(RANGE_FUNC_NAME);
        }
        expectEnd(sub);
        out.endSized(subAt);
      } else if (id === 2 || id === 3) {
        // Local names and label names: per function index, a map of local/label names.
        out.byte(id);
        const subAt = out.beginSized();
        const n = sub.u32();
        out.u32(n);
        for (let i = 0; i < n; i++) {
          out.u32(this.func(sub.u32()));
          const mapAt = sub.pos;
          for (let m = sub.u32(); m > 0; m--) {
            sub.u32();
            sub.skip(sub.u32());
          }
          out.copy(buf, mapAt, sub.pos);
        }
        expectEnd(sub);
        out.endSized(subAt);
      } else {
        // Module, type, table, memory, global, segment, field and tag names: unchanged.
        out.copy(buf, subStart, subEnd);
      }
      r.pos = subEnd;
    }
    out.endSized(at);
  }
}
