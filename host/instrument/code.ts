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
}

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

/** Skips a memarg: align (bit 6 set: a memory index follows, multi-memory), [memory], offset. */
function memarg(buf: Uint8Array, pos: number): number {
  const align = u32(buf, pos);
  pos = leb.next;
  if (align & 0x40) pos = skip(buf, pos);
  return skip(buf, pos);
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
  const { importedFuncs, shift, check, growFunc } = rw;
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
      case 0x3f: // memory.size mem
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
      case 0x40: {
        // memory.grow mem: becomes `call $grow`, which grows and records a failure
        const mem = u32(buf, pos);
        const next = leb.next;
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
      case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37:
      case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3c: case 0x3d: case 0x3e:
        pos = memarg(buf, pos); // loads and stores
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
        break;
      case 0xfd:
        pos = simd(buf, pos, at, rw);
        break;
      case 0xfe:
        pos = atomic(buf, pos, at, rw);
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
    case 9: // data.drop d
    case 11: // memory.fill mem
    case 13: // elem.drop e
    case 15: // table.grow t
    case 16: // table.size t
    case 17: // table.fill t
      return skip(buf, pos);
    case 8: // memory.init d mem
    case 10: // memory.copy mem mem
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
  if (sub <= 11) return memarg(buf, pos); // v128.load*, v128.store
  if (sub === 12 || sub === 13) return pos + 16; // v128.const, i8x16.shuffle
  if (sub <= 20) return pos; // swizzle, splats
  if (sub <= 34) return pos + 1; // extract_lane / replace_lane: lane index
  if (sub <= 83) return pos; // comparisons, bitwise, any_true
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
  if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) return memarg(buf, pos); // notify, wait, loads, stores, rmw
  if (sub === 3) return pos + 1; // atomic.fence 0x00
  return unknown(rw, at, `0xfe ${sub} (${hex(sub)}, atomics)`, 'the threads proposal (0xfe 0..3, 0x10..0x4e)');
}
