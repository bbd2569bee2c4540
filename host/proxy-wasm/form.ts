// The proxy-wasm module form: Layotto's (and Envoy's) WebAssembly functions, recognised by
// their `proxy_abi_version_*` export. Compiling one means: check it (module-check.ts),
// instrument it like every L8 module (interruption, resettable globals, memory cap),
// compile the result once, and start one instance to learn the id the module names itself
// with (Layotto's proxy_get_id), which routing and invoking by id need before deploy.
import { L8Error } from '../errors.ts';
import type { CompiledFunction, CompileOptions, InitOutput, InstanceOptions, ModuleForm } from '../guest-instance.ts';
import { instrument, InstrumentError, type InstrumentedModule } from '../instrument/index.ts';
import { DEFAULT_TUNING } from '../loaded-function.ts';
import { abiVersionOf, checkProxyModule, type CheckedProxyModule } from './module-check.ts';
import { ProxyWasmInstance } from './instance.ts';

export const PROXY_WASM_FORM = 'proxy-wasm';

export class ProxyWasmCompiled implements CompiledFunction {
  readonly form = PROXY_WASM_FORM;
  readonly sha256: string;
  readonly size: number;
  compileMillis: number;
  readonly checked: CheckedProxyModule;
  readonly module: WebAssembly.Module;
  readonly instrumented: InstrumentedModule;
  /** The id the module reports through proxy_get_id (Layotto routes by it), or null. */
  proxyId: string | null = null;
  /** Unsupported host functions already logged for this module (each is logged once). */
  readonly unimplementedSeen = new Set<string>();

  constructor(bytes: Uint8Array, options: CompileOptions) {
    const started = performance.now();
    this.checked = checkProxyModule(bytes);
    try {
      this.instrumented = instrument(bytes, { maxMemoryPages: options.maxMemoryPages, validate: false });
    } catch (error) {
      if (error instanceof InstrumentError) throw new L8Error('invalid_module', error.message);
      throw error;
    }
    try {
      this.module = new WebAssembly.Module(this.instrumented.bytes as Uint8Array<ArrayBuffer>);
    } catch (error) {
      throw new L8Error('internal', `the instrumented proxy-wasm module failed to compile (${(error as Error).message}); please report this with the module`, { cause: error });
    }
    this.sha256 = options.sha256;
    this.size = bytes.length;
    this.compileMillis = performance.now() - started;
  }

  get hasHttpHandler(): boolean {
    return true; // module-check refuses modules without HTTP callbacks
  }

  get hasSubscriber(): boolean {
    return false;
  }

  get memoryLimitPages(): number {
    return this.instrumented.memory.maximumPages;
  }

  async instantiate(options: InstanceOptions, initOutput: InitOutput): Promise<ProxyWasmInstance> {
    const instance = new ProxyWasmInstance(this, options);
    await instance.initialize(initOutput);
    return instance;
  }

  /** Starts one throwaway instance to read the module's id; a start that fails is a deploy error. */
  async probe(): Promise<void> {
    const started = performance.now();
    const output: string[] = [];
    let instance: ProxyWasmInstance;
    try {
      instance = await this.instantiate({ reuse: true, fuelQuantum: DEFAULT_TUNING.fuelQuantum, sliceMs: DEFAULT_TUNING.sliceMs }, (stream, line) => {
        if (output.length < 20) output.push(`${stream}: ${line}`);
      });
    } catch (error) {
      const lines = output.length ? ` (its output: ${output.join(' | ')})` : '';
      throw new L8Error('invalid_module', `the proxy-wasm module failed to start: ${(error as Error).message}${lines}`, { cause: error });
    }
    this.proxyId = instance.proxyId;
    this.compileMillis += performance.now() - started;
  }
}

export const proxyWasmForm: ModuleForm = {
  name: PROXY_WASM_FORM,
  accepts: (bytes) => abiVersionOf(bytes) !== null,
  check: (bytes) => {
    checkProxyModule(bytes);
  },
  compile: async (bytes, options) => {
    const compiled = new ProxyWasmCompiled(bytes, options);
    await compiled.probe();
    return compiled;
  },
};

export function isProxyWasm(compiled: CompiledFunction): compiled is ProxyWasmCompiled {
  return compiled.form === PROXY_WASM_FORM;
}
