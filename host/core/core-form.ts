// The L8 core-module form: a core module in the canonical-ABI lowering of the l8:faas
// world. Compiling it means: check it against the ABI, instrument it (interruption,
// resettable globals, memory cap), compile the result once for all its instances.
import { L8Error } from '../errors.ts';
import type { CompiledFunction, CompileOptions, InitOutput, InstanceOptions, ModuleForm } from '../guest-instance.ts';
import { instrument, InstrumentError, type InstrumentedModule } from '../instrument/index.ts';
import { binaryKind } from '../wasm-sections.ts';
import { CoreInstance } from './core-instance.ts';
import { checkModule, type CheckedModule } from './module-check.ts';

export class CoreCompiled implements CompiledFunction {
  readonly form = 'l8-core';
  readonly sha256: string;
  readonly size: number;
  readonly compileMillis: number;
  readonly checked: CheckedModule;
  /** The instrumented module that instances are made from. */
  readonly module: WebAssembly.Module;
  readonly instrumented: InstrumentedModule;

  constructor(bytes: Uint8Array, options: CompileOptions) {
    const started = performance.now();
    this.checked = checkModule(bytes);
    try {
      // `new WebAssembly.Module` below validates the result anyway.
      this.instrumented = instrument(bytes, { maxMemoryPages: options.maxMemoryPages, validate: false });
    } catch (error) {
      if (error instanceof InstrumentError) throw new L8Error('invalid_module', error.message);
      throw error;
    }
    try {
      this.module = new WebAssembly.Module(this.instrumented.bytes as Uint8Array<ArrayBuffer>);
    } catch (error) {
      throw new L8Error('internal', `the instrumented module failed to compile (${(error as Error).message}); please report this with the module`, { cause: error });
    }
    this.sha256 = options.sha256;
    this.size = bytes.length;
    this.compileMillis = performance.now() - started;
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
    const instance = new CoreInstance(this, options);
    instance.initialize(initOutput);
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
