// Load-time rewriter for core WebAssembly modules. It makes a guest interruptible and
// resettable without changing what it computes:
//
// - Interruption (like Wasmtime's epoch interruption): an import `l8:internal`
//   `interrupt: () -> i32` and an exported i32 "fuel" global are added; every loop header
//   (and the entry of every function that makes tail calls, since tail recursion never
//   overflows the stack) decrements the fuel and, when it reaches zero, calls the import
//   and stores the fuel it returns. The host wraps the import in
//   `WebAssembly.Suspending` and calls the guest through `WebAssembly.promising`, so the
//   import can return at once, yield to the event loop (return a Promise), or throw to
//   stop the guest.
// - Reset: every defined mutable global (shadow stack pointer, heap top, ...) is
//   exported under a generated name, so the host can snapshot and restore them together
//   with the memory bytes.
// - Memory cap: the one defined memory's maximum becomes min(declared, limit).
// - Out-of-memory detection: every `memory.grow` becomes a call to an appended function
//   that grows and, when the grow fails, sets an exported i32 flag global to 1. A guest
//   that traps after a refused grow (an allocator's `unreachable`, Rust's abort) is then
//   known to have run out of memory, even when it asked for one allocation far above
//   the limit while its memory was still small.
// - Dirty pages (option `dirtyTracking`): a second, exported memory holds one byte per
//   4 KiB page (DIRTY_PAGE_SIZE) of the module's memory, and every write to that memory —
//   plain, SIMD and atomic stores, read-modify-write and cmpxchg, memory.fill, memory.copy
//   and memory.init (destination) — first sets the bytes of the pages it touches, both of
//   them when it straddles a page boundary. The host then restores only marked pages from
//   its snapshot. A separate memory because the guest owns all of its own (a map inside
//   it could be overwritten) and a byte map because marking is then one store, no
//   read-modify-write (a bitmap measured twice as slow); V8 runs multi-memory since 12.0.
//
// Written as a single streaming pass over the binary in plain TypeScript, with no
// WebAssembly toolkit, for deploy-time speed. Measured on the 2-core dev box
// (bench/instrument.ts, CPU time): the 3.5 MB Go test module is rewritten in ~15 ms
// (plus ~14 ms for WebAssembly.validate), the 230 KB Rust one in ~1.3 ms (with dirty
// tracking ~21 ms and ~2.2 ms, the output 60% and 39% larger: ~36 bytes per store); binaryen.js
// (already in node_modules through AssemblyScript) took 5-9 s and 0.4-2.5 s of wall time
// on the same, busy box only to read and re-emit those modules, since it builds its
// whole IR first. Copying unchanged byte runs also keeps everything the rewrite does not
// need to understand exactly as the toolchain wrote it.
import { InstrumentError } from './errors.ts';
import { Reader } from './bytes.ts';
import { DIRTY_PAGE_BITS } from './code.ts';
import { INTERRUPT_MODULE, MAX_PAGES_32, checkPreamble, readLimits, readSectionTable } from './module.ts';
import { INTERRUPT_NAME, ModuleRewriter } from './rewrite.ts';

export { InstrumentError } from './errors.ts';

export interface InstrumentOptions {
  /** Cap linear memory at this many 64 KiB pages (rewrites the defined memory's maximum). */
  maxMemoryPages: number;
  /** Insert interruption checks (default true). */
  interruption?: boolean;
  /**
   * Initial value of the fuel global (default 50,000,000). Matters only for code that
   * runs before the host first sets the fuel: the start function, which runs during
   * instantiation, outside any `WebAssembly.promising` frame, where a Suspending import
   * cannot be called at all. A start function that runs this many loop iterations
   * reaches the interrupt import there.
   */
  initialFuel?: number;
  /**
   * Check the result with `WebAssembly.validate` before returning it (default true), so
   * a module the rewriter got wrong fails here with an InstrumentError instead of later.
   * It costs about as much as the rewrite itself (see bench/instrument.ts). A caller
   * that compiles the result at once may turn it off: `new WebAssembly.Module`
   * validates too, but reports a CompileError instead of an InstrumentError.
   */
  validate?: boolean;
  /**
   * Accept a module that imports its memory or has none (default false). The core
   * modules inside a component share the main module's memory: the adapter and shim
   * modules still need interruption checks and exported globals, and the memory cap is
   * applied to the module that defines the memory. `memory` is then 0/0 pages.
   */
  sharedMemory?: boolean;
  /**
   * Replace `memory.grow` with a call that also records failures in an exported flag
   * global (default true); see `growFailedGlobal`. Added to every module that has a
   * memory, whether or not its code grows it.
   */
  trackGrowFailures?: boolean;
  /**
   * Mark every 4 KiB page the guest writes in an exported "dirty map" memory
   * (`dirtyMemory`), so a reset can copy back only the pages a request touched (default
   * false). Costs 0.5-1.5 ns per store executed (bench/instrument.ts: a loop that only
   * stores runs 15-40% slower than with interruption checks alone); worth it when the
   * memory to restore is large. Needs a module that defines its memory (not `sharedMemory`).
   */
  dirtyTracking?: boolean;
}

export interface InstrumentedModule {
  bytes: Uint8Array;
  /** Exported names added for every defined mutable global. */
  globals: Array<{ exportName: string; valueType: string; index: number }>;
  /** Export name of the injected fuel counter global (i32) the host sets before each call. */
  fuelGlobal: string | null;
  /**
   * Export name of the injected i32 flag global that a failed `memory.grow` sets to 1. The
   * guest never clears it; the host sets it to 0 before each call and reads it after a
   * trap. Null when tracking is off or the module has no memory.
   */
  growFailedGlobal: string | null;
  /**
   * Export name of the dirty map, a memory of 1 MiB (one byte per 4 KiB of a 4 GiB
   * memory) whose byte p is set to 1 before the guest writes to bytes p*DIRTY_PAGE_SIZE ..
   * (p+1)*DIRTY_PAGE_SIZE-1 of its memory. The guest never clears it; the host clears
   * what it restored. Null unless `dirtyTracking`.
   */
  dirtyMemory: string | null;
  /** The injected import the guest calls when fuel reaches 0: () -> i32 returning the new fuel. */
  interruptImport: { module: string; name: string } | null;
  memory: { initialPages: number; maximumPages: number };
  stats: {
    /** Loop headers that got a check. */
    loops: number;
    /** Functions defined by the module. */
    functions: number;
    /** Functions that make tail calls and got a check at entry. */
    entryChecks: number;
    /** memory.grow instructions replaced with a call to the grow wrapper. */
    growCalls: number;
    /** Stores, read-modify-writes and cmpxchgs that mark their pages (dirty tracking). */
    stores: number;
    /** memory.fill / memory.copy / memory.init that mark their destination (dirty tracking). */
    bulkOps: number;
    /** Time the rewrite took, including validating the result. */
    millis: number;
    /** Part of `millis` spent validating the result. */
    validateMillis: number;
  };
}

export { INTERRUPT_MODULE } from './module.ts';
export { DIRTY_PAGE_BITS } from './code.ts';
/** Bytes of guest memory per entry of the dirty map. */
export const DIRTY_PAGE_SIZE = 2 ** DIRTY_PAGE_BITS;
export { INTERRUPT_NAME } from './rewrite.ts';
export const DEFAULT_INITIAL_FUEL = 50_000_000;

/** Rewrites the module so it can be interrupted, reset (optionally page by page) and capped. See the file comment. */
export function instrument(bytes: Uint8Array, options: InstrumentOptions): InstrumentedModule {
  const started = performance.now();
  const { maxMemoryPages } = options;
  const interruption = options.interruption ?? true;
  const initialFuel = options.initialFuel ?? DEFAULT_INITIAL_FUEL;
  if (!Number.isInteger(maxMemoryPages) || maxMemoryPages < 0 || maxMemoryPages > MAX_PAGES_32) {
    throw new InstrumentError(`maxMemoryPages must be a whole number of 64 KiB pages from 0 to ${MAX_PAGES_32} (4 GiB), got ${maxMemoryPages}`);
  }
  if (!Number.isInteger(initialFuel) || initialFuel < 1 || initialFuel > 0x7fffffff) {
    throw new InstrumentError(`initialFuel must be a whole number from 1 to 2147483647, got ${initialFuel}`);
  }
  // A plain view: Node Buffers make every subarray() allocate a Buffer object.
  const buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkPreamble(buf);
  const result = new ModuleRewriter(buf, {
    maxMemoryPages,
    interruption,
    initialFuel,
    sharedMemory: options.sharedMemory ?? false,
    trackGrowFailures: options.trackGrowFailures ?? true,
    dirtyTracking: options.dirtyTracking ?? false,
  }).run();

  const validateStarted = performance.now();
  if (options.validate !== false && !WebAssembly.validate(result.bytes as Uint8Array<ArrayBuffer>)) {
    if (!WebAssembly.validate(buf as Uint8Array<ArrayBuffer>)) {
      throw new InstrumentError(`not a valid WebAssembly module: ${compileError(buf)}`);
    }
    throw new InstrumentError(
      `internal error: the instrumented module does not validate (${compileError(result.bytes)}) although the original does; please report this with the module`,
    );
  }
  const finished = performance.now();
  return {
    bytes: result.bytes,
    globals: result.globals,
    fuelGlobal: result.fuelGlobal,
    growFailedGlobal: result.growFailedGlobal,
    dirtyMemory: result.dirtyMemory,
    interruptImport: interruption ? { module: INTERRUPT_MODULE, name: INTERRUPT_NAME } : null,
    memory: result.memory,
    stats: {
      loops: result.loops,
      functions: result.functions,
      entryChecks: result.entryChecks,
      growCalls: result.growCalls,
      stores: result.stores,
      bulkOps: result.bulkOps,
      millis: finished - started,
      validateMillis: finished - validateStarted,
    },
  };
}

/**
 * Pages the module's memory starts with (its declared minimum), read from the memory
 * section without rewriting anything; 0 when it defines none. Throws an InstrumentError
 * for what `instrument` would reject the same way (malformed sections, no memory).
 */
export function initialMemoryPages(bytes: Uint8Array): number {
  const buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkPreamble(buf);
  const section = readSectionTable(buf).find((s) => s.id === 5);
  if (!section) return 0;
  const r = new Reader(buf, section.content, section.end, 'memory section');
  if (r.u32() === 0) return 0;
  return readLimits(r).min;
}

function compileError(bytes: Uint8Array): string {
  try {
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    return 'no error reported by the engine';
  } catch (error) {
    return (error as Error).message;
  }
}
