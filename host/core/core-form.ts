// The L8 core-module form: a core module in the canonical-ABI lowering of the l8:faas
// world. Compiling it means: check it against the ABI, instrument it (interruption,
// resettable globals, memory cap, dirty-page tracking when its snapshot is large),
// compile the result once for all its instances.
import { L8Error } from '../errors.ts';
import type { CompiledFunction, CompileOptions, InitOutput, InstanceOptions, ModuleForm } from '../guest-instance.ts';
import { initialMemoryPages, instrument, InstrumentError, type InstrumentedModule } from '../instrument/index.ts';
import { binaryKind } from '../wasm-sections.ts';
import { CoreInstance } from './core-instance.ts';
import { checkModule, type CheckedModule } from './module-check.ts';

/**
 * Snapshots above this size are restored page by page: the module is instrumented with
 * dirty tracking and a reset copies back only the 4 KiB pages a request wrote. Measured
 * on the 2-core box (bench/reset.ts, bench/instrument.ts): copying a whole memory back
 * costs ~1.8 µs per 64 KiB wasm page in a tight loop (Go hello, 2.3 MiB: ~200 µs); a
 * tracked reset ~0.5 µs plus ~0.2 µs per written 4 KiB page; marking costs 0.5-1.5 ns per
 * store the guest executes (a loop that only stores runs 15-40% slower). Inside a real
 * HTTP server the whole copy also evicts the caches the rest of the request needs:
 * with tracking, AssemblyScript hello (64 KiB) and Rust hello (128 KiB) took ~6 µs less
 * server CPU per request (bench/.exp measurements, 2026-11-22). So every reset function
 * is tracked; compute-heavy functions that store a lot pay a few percent instead.
 */
export const DIRTY_TRACKING_THRESHOLD_BYTES = 0;

export interface CoreCompileOptions extends CompileOptions {
  /**
   * 'auto' (default): dirty tracking when the snapshot is larger than
   * DIRTY_TRACKING_THRESHOLD_BYTES and instances are reset (not in reuse mode).
   * true / false force it, for tests and benchmarks.
   */
  dirtyTracking?: boolean | 'auto';
  /** The 'auto' threshold (default DIRTY_TRACKING_THRESHOLD_BYTES); tests set others. */
  dirtyThresholdBytes?: number;
}

export class CoreCompiled implements CompiledFunction {
  readonly form = 'l8-core';
  readonly sha256: string;
  readonly size: number;
  compileMillis: number;
  readonly checked: CheckedModule;
  /** The instrumented module that instances are made from. */
  module: WebAssembly.Module;
  instrumented: InstrumentedModule;
  private readonly maxMemoryPages: number;
  private readonly dirtyThreshold: number;
  /**
   * In 'auto' mode, the deployed bytes until the first instance has shown how large the
   * snapshot is and whether instances are reset; then null. The first guess comes from
   * the memory's declared minimum; a module that grows past the threshold in
   * `_initialize`, or a reuse-mode function, is instrumented again then.
   */
  private undecided: Uint8Array | null;

  constructor(bytes: Uint8Array, options: CoreCompileOptions) {
    const started = performance.now();
    this.checked = checkModule(bytes, { validated: options.validated });
    this.maxMemoryPages = options.maxMemoryPages;
    this.dirtyThreshold = options.dirtyThresholdBytes ?? DIRTY_TRACKING_THRESHOLD_BYTES;
    const mode = options.dirtyTracking ?? 'auto';
    let tracked: boolean;
    try {
      tracked = mode === 'auto' ? initialMemoryPages(bytes) * 65536 > this.dirtyThreshold : mode;
    } catch (error) {
      if (error instanceof InstrumentError) throw new L8Error('invalid_module', error.message);
      throw error;
    }
    ({ instrumented: this.instrumented, module: this.module } = this.build(bytes, tracked));
    this.undecided = mode === 'auto' ? bytes : null;
    this.sha256 = options.sha256;
    this.size = bytes.length;
    this.compileMillis = performance.now() - started;
  }

  private build(bytes: Uint8Array, dirtyTracking: boolean): { instrumented: InstrumentedModule; module: WebAssembly.Module } {
    let instrumented: InstrumentedModule;
    try {
      // `new WebAssembly.Module` below validates the result anyway.
      instrumented = instrument(bytes, { maxMemoryPages: this.maxMemoryPages, validate: false, dirtyTracking });
    } catch (error) {
      if (error instanceof InstrumentError) throw new L8Error('invalid_module', error.message);
      throw error;
    }
    try {
      return { instrumented, module: new WebAssembly.Module(instrumented.bytes as Uint8Array<ArrayBuffer>) };
    } catch (error) {
      throw new L8Error('internal', `the instrumented module failed to compile (${(error as Error).message}); please report this with the module`, { cause: error });
    }
  }

  get hasHttpHandler(): boolean {
    return this.checked.handle !== null;
  }

  get hasSubscriber(): boolean {
    return this.checked.onMessage !== null;
  }

  get memoryLimitPages(): number {
    return this.instrumented.memory.maximumPages;
  }

  instantiate(options: InstanceOptions, initOutput: InitOutput): CoreInstance {
    const bytes = this.undecided;
    if (!bytes) {
      const instance = new CoreInstance(this, options);
      instance.initialize(initOutput);
      return instance;
    }
    // The first instance decides. Its initialisation output is held back, so that a
    // guest's _initialize does not log twice when the instance is made again.
    const held: Array<[stream: 'stdout' | 'stderr', line: string]> = [];
    const first = new CoreInstance(this, options);
    try {
      first.initialize((stream, line) => held.push([stream, line]));
    } finally {
      for (const [stream, line] of held) initOutput(stream, line);
    }
    this.undecided = null;
    const wanted = !options.reuse && first.snapshotBytes > this.dirtyThreshold;
    if (wanted === first.tracksDirtyPages) return first;
    const started = performance.now();
    ({ instrumented: this.instrumented, module: this.module } = this.build(bytes, wanted));
    this.compileMillis += performance.now() - started;
    const instance = new CoreInstance(this, options);
    instance.initialize(() => {});
    return instance;
  }
}

/** Every core module that is not claimed by a more specific form (proxy-wasm, ...). */
export const coreForm: ModuleForm = {
  name: 'l8-core',
  accepts: (bytes) => binaryKind(bytes) !== 'component',
  check: (bytes) => {
    checkModule(bytes);
  },
  compile: (bytes, options) => new CoreCompiled(bytes, options),
};
