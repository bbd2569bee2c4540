// The instruction decoder and rewriter. Every instruction is decoded, because finding
// `loop` and function indices means skipping every other instruction's immediates
// exactly; an opcode that is not known here stops the rewrite with its name and offset
// rather than guess its length and emit a broken module.
//
// Most bytes are copied unchanged: the loop remembers where the pending unchanged run
// started (`copyFrom`) and copies it in one `set` when it reaches something to change
// (a function index that moves, a loop header that gets a check). The decoder reads the
// buffer directly with a local cursor; a byte read past the end of the input is
// `undefined`, which ends any LEB128 and is caught by the bounds check at the top of the
// loop, so the hot path has no per-byte bounds checks.
import { hex, type Writer } from './bytes.ts';
import { InstrumentError } from './errors.ts';

export interface CodeRewrite {
  /** Function indices at or above this are defined functions and move up by `shift`. */
  importedFuncs: number;
  /** 1 when the interrupt import is inserted before the defined functions, else 0. */
  shift: number;
  /** Bytes placed at each loop header; null: no checks (constant expressions, or interruption off). */
  check: Uint8Array | null;
  /**
   * Function that `memory.grow` on memory 0 is replaced with (a call, same signature
   * i32 -> i32); -1 leaves memory.grow alone (constant expressions, or the option off).
   */
  growFunc: number;
  /** memory.grow instructions replaced so far. */
  growCalls: number;
  /** Loop headers instrumented so far. */
  loops: number;
  /** Set when the last rewritten expression contained return_call / return_call_indirect / return_call_ref. */
  tailCall: boolean;
  /** Describes where the current expression is, for error messages ("function 12"). */
  where: string | number;
  /** Dirty-page tracking: every write to memory 0 also marks its pages. Null leaves writes alone. */
  dirty: DirtyTracking | null;
}

/**
 * Dirty pages are 4 KiB (the OS page size, a sixteenth of a wasm page): the map then has
 * 2^20 entries for a 4 GiB memory (16 wasm pages), and a request that writes a few
 * hundred bytes in many places costs far less to undo than with 64 KiB pages (Go hello
 * writes 22 such pages, 8 wasm pages; bench/reset.ts).
 */
export const DIRTY_PAGE_BITS = 12;

/**
 * State of dirty-page tracking while a function body is rewritten. A write of n bytes at
 * effective address e marks bytes e>>12 and (e+n-1)>>12 of the dirty-map memory (one
 * byte per 4 KiB page of memory 0), before it writes, so a write that straddles a page
 * boundary marks both pages and one that traps has marked at most a page too many.
 * Stores need their operands in locals to compute the address under the value: each
 * function gets the scratch locals it uses, appended to its locals.
 */
export interface DirtyTracking {
  /** Index of the dirty-map memory. */
  memory: number;
  /** Function (dest: i32, len: i32) -> () that marks the pages of [dest, dest+len). */
  markRange: number;
  /** Next free local index of the current function (parameters and declared locals before it). */
  nextLocal: number;
  /** Local index of each scratch kind (SCRATCH_TYPES) in the current function; -1 while unused. */
  scratch: Int32Array;
  /** Value types of the scratch locals added to the current function, in index order. */
  added: number[];
  /** Stores (plain, SIMD, atomic) instrumented so far. */
  stores: number;
  /** memory.fill / memory.copy / memory.init instrumented so far. */
  bulk: number;
}

// Scratch local kinds and their value types: the address, then the values a write needs
// set aside (two for cmpxchg, and for memory.init/copy/fill's source and length).
const ADDR = 0, I32 = 1, I32_2 = 2, I64 = 3, I64_2 = 4, F32 = 5, F64 = 6, V128 = 7;
export const SCRATCH_TYPES = [0x7f, 0x7f, 0x7f, 0x7e, 0x7e, 0x7d, 0x7c, 0x7b];

/** Value kind and width in bytes of the plain stores 0x36..0x3e. */
const STORE_KIND = [I32, I64, F32, F64, I32, I32, I64, I64, I64];
const STORE_SIZE = [4, 8, 4, 8, 1, 2, 1, 2, 4];
/**
 * Atomic stores (0xfe 0x17..0x1d) and each group of seven read-modify-write ops (add, sub,
 * and, or, xor, xchg, cmpxchg from 0xfe 0x1e) follow one pattern: i32, i64, i32 8-bit,
 * i32 16-bit, i64 8-bit, i64 16-bit, i64 32-bit.
 */
const ATOMIC_KIND = [I32, I64, I32, I32, I64, I64, I64];
const ATOMIC_SIZE = [4, 8, 1, 2, 1, 2, 4];

/** Decodes an unsigned LEB128 starting at `pos`; the position after it is left in `leb.next`. */
const leb = { next: 0 };
function u32(buf: Uint8Array, pos: number): number {
  let b = buf[pos++]!;
  if ((b & 0x80) === 0) {
    leb.next = pos;
    return b;
  }
  let result = b & 0x7f;
  let shift = 7;
  do {
    b = buf[pos++]!;
    if (shift === 28) {
      if (b & 0xf0) throw new InstrumentError(`malformed unsigned LEB128 integer at byte offset ${hex(pos - 5)}`, pos - 5);
      result = (result | (b << 28)) >>> 0;
      break;
    }
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  leb.next = pos;
  return result;
}

/** Skips a LEB128 (signed or unsigned, any width). */
function skip(buf: Uint8Array, pos: number): number {
  while (buf[pos++]! & 0x80) {
    // continuation bit set: keep going
  }
  return pos;
}

/**
 * What the current rewrite needs from the sub-decoders: whether memory indices other than
 * 0 are refused (dirty tracking adds memory 1, which the guest must not reach), and what
 * the instruction just decoded writes (`size` 0: nothing to mark).
 */
let oneMemory = false;
let current: CodeRewrite | null = null;
const write = { size: 0, offset: 0, kind: 0, kind2: -1, bulk: false };

/**
 * A memory index in the code must be 0: the module defines one memory. Only checked with
 * dirty tracking, where index 1 would otherwise reach the dirty map the rewrite adds.
 */
function memoryIndex(buf: Uint8Array, pos: number, at: number): number {
  const index = u32(buf, pos);
  if (index !== 0 && oneMemory) {
    const where = typeof current?.where === 'number' ? `function ${current.where}` : (current?.where ?? 'code');
    throw new InstrumentError(
      `memory index ${index} at byte offset ${hex(at)} (${where}), but the module defines only memory 0 (the module is malformed)`,
      at,
    );
  }
  return leb.next;
}

/** Skips a memarg: align (bit 6 set: a memory index follows, multi-memory), [memory], offset. */
function memarg(buf: Uint8Array, pos: number): number {
  const align = u32(buf, pos);
  pos = leb.next;
  if (align & 0x40) pos = oneMemory ? memoryIndex(buf, pos, pos) : skip(buf, pos);
  return skip(buf, pos);
}

/** Reads the memarg of a write that gets marked: leaves its offset in `write.offset`. */
function storeMemarg(buf: Uint8Array, pos: number): number {
  const align = u32(buf, pos);
  pos = leb.next;
  if (align & 0x40) pos = memoryIndex(buf, pos, pos);
  write.offset = u32(buf, pos);
  return leb.next;
}

/** Records that the instruction being decoded writes `size` bytes of `kind` (plus a second operand for cmpxchg). */
function stores(buf: Uint8Array, pos: number, kind: number, size: number, kind2 = -1): number {
  write.size = size;
  write.kind = kind;
  write.kind2 = kind2;
  return storeMemarg(buf, pos);
}

function scratch(d: DirtyTracking, kind: number): number {
  let index = d.scratch[kind]!;
  if (index < 0) {
    index = d.scratch[kind] = d.nextLocal++;
    d.added.push(SCRATCH_TYPES[kind]!);
  }
  return index;
}

// The emitters below write into the output buffer directly (after one `ensure`): there is
// one sequence per store, and Writer's per-byte calls made the dirty-tracking rewrite of
// the Go module 2.5 times slower than the plain one.

function putU32(buf: Uint8Array, at: number, v: number): number {
  v >>>= 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

function putS32(buf: Uint8Array, at: number, v: number): number {
  v |= 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      buf[at++] = b;
      return at;
    }
    buf[at++] = b | 0x80;
  }
}

/** An instruction with one u32 immediate (local.get/set/tee, call). */
function putOp(buf: Uint8Array, at: number, op: number, index: number): number {
  buf[at] = op;
  return putU32(buf, at + 1, index);
}

/** Marks the page of local `addr` + `offset` in the dirty map: map[(addr + offset) >> 12] = 1. At most 27 bytes. */
function putMark(buf: Uint8Array, at: number, memory: number, addr: number, offset: number): number {
  at = putOp(buf, at, 0x20, addr); // local.get $addr
  if (offset !== 0) {
    buf[at++] = 0x41; // i32.const offset
    at = putS32(buf, at, offset);
    buf[at++] = 0x6a; // i32.add
  }
  buf[at++] = 0x41; // i32.const DIRTY_PAGE_BITS
  buf[at++] = DIRTY_PAGE_BITS;
  buf[at++] = 0x76; // i32.shr_u
  buf[at++] = 0x41; // i32.const 1
  buf[at++] = 0x01;
  buf[at++] = 0x3a; // i32.store8, align 0 with the memory-index flag, the map, offset 0
  buf[at++] = 0x40;
  at = putU32(buf, at, memory);
  buf[at++] = 0x00;
  return at;
}

/**
 * Placed before a store (or read-modify-write) whose operands are on the stack:
 *   local.set $v (local.set $v2 first for cmpxchg), local.tee $addr,
 *   mark(addr + offset), mark(addr + offset + size - 1) when size > 1, local.get $v ($v2).
 * The address stays on the stack from the tee, so the original instruction follows
 * unchanged. An address + offset past 4 GiB wraps here, marks a wrong page, and the
 * store then traps; the instance is discarded after a trap.
 */
function markStore(out: Writer, d: DirtyTracking): void {
  const { kind, kind2, offset, size } = write;
  const v2 = kind2 >= 0 ? scratch(d, kind2) : -1;
  const v = scratch(d, kind);
  const addr = scratch(d, ADDR);
  out.ensure(96); // 5 local instructions of at most 6 bytes and two marks of at most 27
  const buf = out.buf;
  let at = out.len;
  if (v2 >= 0) at = putOp(buf, at, 0x21, v2); // local.set $v2
  at = putOp(buf, at, 0x21, v); // local.set $v
  at = putOp(buf, at, 0x22, addr); // local.tee $addr
  at = putMark(buf, at, d.memory, addr, offset);
  if (size > 1) at = putMark(buf, at, d.memory, addr, (offset + size - 1) | 0);
  at = putOp(buf, at, 0x20, v); // local.get $v
  if (v2 >= 0) at = putOp(buf, at, 0x20, v2);
  out.len = at;
  d.stores++;
}

/**
 * memory.init / memory.copy / memory.fill take [dest, source or value, length]: the
 * operands are set aside, the instruction runs as written (it traps before writing
 * anything when out of bounds, so afterwards dest + length cannot wrap), then the
 * destination range is marked by a call: `before` comes before the original
 * instruction, `after` after it.
 */
function bulkBefore(out: Writer, d: DirtyTracking): void {
  const n = scratch(d, I32_2);
  const x = scratch(d, I32);
  const dest = scratch(d, ADDR);
  out.ensure(30);
  const buf = out.buf;
  let at = out.len;
  at = putOp(buf, at, 0x21, n); // local.set $n
  at = putOp(buf, at, 0x21, x); // local.set $x
  at = putOp(buf, at, 0x22, dest); // local.tee $dest
  at = putOp(buf, at, 0x20, x);
  at = putOp(buf, at, 0x20, n);
  out.len = at;
}

function bulkAfter(out: Writer, d: DirtyTracking): void {
  out.ensure(18);
  const buf = out.buf;
  let at = out.len;
  at = putOp(buf, at, 0x20, d.scratch[ADDR]!); // local.get $dest
  at = putOp(buf, at, 0x20, d.scratch[I32_2]!); // local.get $n
  at = putOp(buf, at, 0x10, d.markRange); // call $markRange
  out.len = at;
  d.bulk++;
}

/** Skips a value type: one byte, or 0x63/0x64 (ref null / ref) followed by a heap type. */
function valtype(buf: Uint8Array, pos: number): number {
  const b = buf[pos++]!;
  return b === 0x63 || b === 0x64 ? skip(buf, pos) : pos;
}

/**
 * Skips a block type: 0x40 (empty), a value type (one negative s33 byte, or 0x63/0x64 +
 * heap type), or a non-negative s33 type index (multi-value blocks).
 */
function blocktype(buf: Uint8Array, pos: number): number {
  const b = buf[pos]!;
  if (b === 0x63 || b === 0x64) return skip(buf, pos + 1);
  return skip(buf, pos);
}

// SIMD opcodes in 0x5e..0xff that are reserved (unassigned) in the final SIMD proposal.
const SIMD_RESERVED = new Set([
  0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2,
  0xee,
]);

function unknown(rw: CodeRewrite, at: number, name: string, proposal: string): never {
  const where = typeof rw.where === 'number' ? `function ${rw.where}` : rw.where;
  throw new InstrumentError(
    `unknown or unsupported instruction ${name} at byte offset ${hex(at)} (${where}); ` +
      `L8 decodes ${proposal}. Rebuild the module without newer WebAssembly proposals, or report the opcode`,
    at,
  );
}

const SUPPORTED =
  'MVP, sign-extension, saturating conversions, bulk memory, reference types, multi-value, SIMD and relaxed SIMD, ' +
  'threads, tail calls, exceptions (legacy and exnref), typed function references, multi-memory and GC';

/**
 * Rewrites the instruction sequence starting at `pos` up to and including the `end` that
 * closes it (the function body or constant expression), into `out`. Returns the position
 * after that `end`. Throws if the sequence runs past `limit`.
 */
export function rewriteInstructions(buf: Uint8Array, pos: number, limit: number, out: Writer, rw: CodeRewrite): number {
  const { importedFuncs, shift, check, growFunc, dirty } = rw;
  oneMemory = dirty !== null;
  current = rw;
  write.size = 0; // an earlier rewrite may have thrown half-way through an instruction
  write.bulk = false;
  let copyFrom = pos;
  let depth = 1;
  for (;;) {
    if (pos >= limit) {
      const where = typeof rw.where === 'number' ? `function ${rw.where}` : rw.where;
      throw new InstrumentError(
        `${where} runs past its end at byte offset ${hex(limit)} without a closing "end" (the module is malformed or an instruction was decoded wrongly)`,
        limit,
      );
    }
    const at = pos;
    const op = buf[pos++]!;
    switch (op) {
      case 0x0b: // end
        if (--depth === 0) {
          out.copy(buf, copyFrom, pos);
          return pos;
        }
        break;
      case 0x02: // block
      case 0x04: // if
      case 0x06: // try (legacy exceptions)
        depth++;
        pos = blocktype(buf, pos);
        break;
      case 0x03: // loop: the check goes right after the header, so every iteration runs it
        depth++;
        pos = blocktype(buf, pos);
        if (check !== null) {
          out.copy(buf, copyFrom, pos);
          out.bytes(check);
          copyFrom = pos;
          rw.loops++;
        }
        break;
      case 0x1f: {
        // try_table bt vec(catch)
        depth++;
        pos = blocktype(buf, pos);
        let n = u32(buf, pos);
        pos = leb.next;
        while (n-- > 0 && pos < limit) {
          const kind = buf[pos++]!;
          if (kind === 0x00 || kind === 0x01) pos = skip(buf, skip(buf, pos)); // catch / catch_ref: tag, label
          else if (kind === 0x02 || kind === 0x03) pos = skip(buf, pos); // catch_all / catch_all_ref: label
          else unknown(rw, pos - 1, `try_table catch clause kind ${hex(kind)}`, SUPPORTED);
        }
        break;
      }
      case 0x18: // delegate l: ends a legacy try block
        if (--depth === 0) unknown(rw, at, 'delegate closing the function body', SUPPORTED);
        pos = skip(buf, pos);
        break;
      case 0x00: // unreachable
      case 0x01: // nop
      case 0x05: // else
      case 0x0a: // throw_ref
      case 0x0f: // return
      case 0x19: // catch_all
      case 0x1a: // drop
      case 0x1b: // select
      case 0xd1: // ref.is_null
      case 0xd3: // ref.eq
      case 0xd4: // ref.as_non_null
        break;
      case 0x07: // catch tag
      case 0x08: // throw tag
      case 0x09: // rethrow l
      case 0x0c: // br l
      case 0x0d: // br_if l
      case 0x14: // call_ref typeidx
      case 0x20: // local.get
      case 0x21: // local.set
      case 0x22: // local.tee
      case 0x23: // global.get
      case 0x24: // global.set
      case 0x25: // table.get
      case 0x26: // table.set
      case 0x41: // i32.const
      case 0x42: // i64.const
      case 0xd0: // ref.null heaptype
      case 0xd5: // br_on_null l
      case 0xd6: // br_on_non_null l
        pos = skip(buf, pos);
        break;
      case 0x10: // call f
      case 0x12: // return_call f
      case 0xd2: {
        // ref.func f
        const idx = u32(buf, pos);
        const next = leb.next;
        if (shift !== 0 && idx >= importedFuncs) {
          out.copy(buf, copyFrom, pos);
          out.u32(idx + shift);
          copyFrom = next;
        }
        pos = next;
        if (op === 0x12) rw.tailCall = true;
        break;
      }
      case 0x3f: // memory.size mem
        pos = oneMemory ? memoryIndex(buf, pos, at) : skip(buf, pos);
        break;
      case 0x40: {
        // memory.grow mem: becomes `call $grow`, which grows and records a failure
        const mem = u32(buf, pos);
        const next = leb.next;
        if (mem !== 0) memoryIndex(buf, pos, at);
        if (growFunc >= 0 && mem === 0) {
          out.copy(buf, copyFrom, at);
          out.byte(0x10);
          out.u32(growFunc);
          copyFrom = next;
          rw.growCalls++;
        }
        pos = next;
        break;
      }
      case 0x11: // call_indirect typeidx tableidx
        pos = skip(buf, skip(buf, pos));
        break;
      case 0x13: // return_call_indirect typeidx tableidx
        pos = skip(buf, skip(buf, pos));
        rw.tailCall = true;
        break;
      case 0x15: // return_call_ref typeidx
        pos = skip(buf, pos);
        rw.tailCall = true;
        break;
      case 0x0e: {
        // br_table vec(l) l
        let n = u32(buf, pos);
        pos = leb.next;
        for (; n >= 0 && pos < limit; n--) pos = skip(buf, pos);
        break;
      }
      case 0x1c: {
        // select t*
        let n = u32(buf, pos);
        pos = leb.next;
        while (n-- > 0 && pos < limit) pos = valtype(buf, pos);
        break;
      }
      case 0x28: case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: case 0x2f:
      case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35:
        pos = memarg(buf, pos); // loads
        break;
      case 0x36: case 0x37: case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3c: case 0x3d: case 0x3e:
        // stores
        if (dirty === null) {
          pos = memarg(buf, pos);
        } else {
          pos = stores(buf, pos, STORE_KIND[op - 0x36]!, STORE_SIZE[op - 0x36]!);
          out.copy(buf, copyFrom, at);
          markStore(out, dirty);
          copyFrom = at; // the store itself is copied with the next run
          write.size = 0;
        }
        break;
      case 0x43: // f32.const
        pos += 4;
        break;
      case 0x44: // f64.const
        pos += 8;
        break;
      case 0xfb:
        pos = gc(buf, pos, at, rw);
        break;
      case 0xfc:
        pos = misc(buf, pos, at, rw);
        if (write.bulk) {
          write.bulk = false;
          out.copy(buf, copyFrom, at);
          bulkBefore(out, dirty!);
          out.copy(buf, at, pos);
          bulkAfter(out, dirty!);
          copyFrom = pos;
        }
        break;
      case 0xfd:
      case 0xfe:
        pos = op === 0xfd ? simd(buf, pos, at, rw) : atomic(buf, pos, at, rw);
        if (write.size !== 0) {
          out.copy(buf, copyFrom, at);
          markStore(out, dirty!);
          copyFrom = at;
          write.size = 0;
        }
        break;
      default:
        // 0x45..0xc4: numeric instructions without immediates (MVP and sign-extension).
        if (op < 0x45 || op > 0xc4) unknown(rw, at, `opcode ${hex(op)}`, SUPPORTED);
    }
  }
}

/** 0xFB: GC (structs, arrays, casts, i31). */
function gc(buf: Uint8Array, pos: number, at: number, rw: CodeRewrite): number {
  const sub = u32(buf, pos);
  pos = leb.next;
  switch (sub) {
    case 15: // array.len
    case 26: // any.convert_extern
    case 27: // extern.convert_any
    case 28: // ref.i31
    case 29: // i31.get_s
    case 30: // i31.get_u
      return pos;
    case 0: // struct.new t
    case 1: // struct.new_default t
    case 6: // array.new t
    case 7: // array.new_default t
    case 11: // array.get t
    case 12: // array.get_s t
    case 13: // array.get_u t
    case 14: // array.set t
    case 16: // array.fill t
    case 20: // ref.test ht
    case 21: // ref.test null ht
    case 22: // ref.cast ht
    case 23: // ref.cast null ht
      return skip(buf, pos);
    case 2: // struct.get t f
    case 3: // struct.get_s t f
    case 4: // struct.get_u t f
    case 5: // struct.set t f
    case 8: // array.new_fixed t n
    case 9: // array.new_data t data
    case 10: // array.new_elem t elem
    case 17: // array.copy t t
    case 18: // array.init_data t data
    case 19: // array.init_elem t elem
      return skip(buf, skip(buf, pos));
    case 24: // br_on_cast flags l ht ht
    case 25: // br_on_cast_fail flags l ht ht
      return skip(buf, skip(buf, skip(buf, pos + 1)));
    default:
      return unknown(rw, at, `0xfb ${sub} (GC)`, 'the GC proposal as standardised (0xfb 0..30)');
  }
}

/** 0xFC: saturating conversions, bulk memory, table instructions. */
function misc(buf: Uint8Array, pos: number, at: number, rw: CodeRewrite): number {
  const sub = u32(buf, pos);
  pos = leb.next;
  if (sub <= 7) return pos; // trunc_sat
  switch (sub) {
    case 8: // memory.init d mem
      if (!oneMemory) return skip(buf, skip(buf, pos));
      write.bulk = true;
      return memoryIndex(buf, skip(buf, pos), at);
    case 10: // memory.copy mem mem
      if (!oneMemory) return skip(buf, skip(buf, pos));
      write.bulk = true;
      return memoryIndex(buf, memoryIndex(buf, pos, at), at);
    case 11: // memory.fill mem
      if (!oneMemory) return skip(buf, pos);
      write.bulk = true;
      return memoryIndex(buf, pos, at);
    case 9: // data.drop d
    case 13: // elem.drop e
    case 15: // table.grow t
    case 16: // table.size t
    case 17: // table.fill t
      return skip(buf, pos);
    case 12: // table.init e t
    case 14: // table.copy t t
      return skip(buf, skip(buf, pos));
    default:
      return unknown(rw, at, `0xfc ${sub}`, 'saturating conversions, bulk memory and table instructions (0xfc 0..17)');
  }
}

/** 0xFD: SIMD and relaxed SIMD. */
function simd(buf: Uint8Array, pos: number, at: number, rw: CodeRewrite): number {
  const sub = u32(buf, pos);
  pos = leb.next;
  if (sub === 11 && oneMemory) return stores(buf, pos, V128, 16); // v128.store
  if (sub <= 11) return memarg(buf, pos); // v128.load*, v128.store
  if (sub === 12 || sub === 13) return pos + 16; // v128.const, i8x16.shuffle
  if (sub <= 20) return pos; // swizzle, splats
  if (sub <= 34) return pos + 1; // extract_lane / replace_lane: lane index
  if (sub <= 83) return pos; // comparisons, bitwise, any_true
  if (sub >= 88 && sub <= 91 && oneMemory) return stores(buf, pos, V128, 1 << (sub - 88)) + 1; // v128.store*_lane
  if (sub <= 91) return memarg(buf, pos) + 1; // v128.load*_lane / store*_lane: memarg, lane
  if (sub <= 93) return memarg(buf, pos); // v128.load32_zero / load64_zero
  if (sub <= 0xff && !SIMD_RESERVED.has(sub)) return pos;
  if (sub >= 0x100 && sub <= 0x113) return pos; // relaxed SIMD
  return unknown(rw, at, `0xfd ${sub} (${hex(sub)}, SIMD)`, 'SIMD and relaxed SIMD (0xfd 0..0x113)');
}

/** 0xFE: threads (atomics). */
function atomic(buf: Uint8Array, pos: number, at: number, rw: CodeRewrite): number {
  const sub = u32(buf, pos);
  pos = leb.next;
  if (sub >= 0x17 && sub <= 0x4e && oneMemory) {
    // stores (0x17..0x1d), read-modify-write (0x1e..0x47), cmpxchg (0x48..0x4e)
    const i = (sub - 0x17) % 7;
    return stores(buf, pos, ATOMIC_KIND[i]!, ATOMIC_SIZE[i]!, sub >= 0x48 ? ATOMIC_KIND[i]! + 1 : -1);
  }
  if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) return memarg(buf, pos); // notify, wait, loads, stores, rmw
  if (sub === 3) return pos + 1; // atomic.fence 0x00
  return unknown(rw, at, `0xfe ${sub} (${hex(sub)}, atomics)`, 'the threads proposal (0xfe 0..3, 0x10..0x4e)');
}
