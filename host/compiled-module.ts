// Stage 1 of running a function: bytes -> checked, instrumented, compiled module.
// Compilation happens once per (sha256, memory limit) and is shared by every instance
// and every version that uses the same bytes.
import { createHash } from 'node:crypto';
import { L8Error } from './errors.ts';
import { instrument, InstrumentError, type InstrumentedModule } from './instrument/index.ts';
import { checkModule, type CheckedModule } from './module-check.ts';

export const WASM_PAGE = 65536;

export interface CompiledModule {
  sha256: string;
  checked: CheckedModule;
  /** The instrumented module that instances are made from. */
  module: WebAssembly.Module;
  instrumented: InstrumentedModule;
  /** Bytes of the original module (what was deployed). */
  size: number;
  /** Milliseconds spent checking, instrumenting and compiling. */
  compileMillis: number;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Checks, instruments and compiles. Throws L8Error('invalid_module') with the reason. */
export function compileModule(bytes: Uint8Array, maxMemoryPages: number, digest = sha256(bytes)): CompiledModule {
  const started = performance.now();
  const checked = checkModule(bytes);
  let instrumented: InstrumentedModule;
  try {
    instrumented = instrument(bytes, { maxMemoryPages });
  } catch (error) {
    if (error instanceof InstrumentError) throw new L8Error('invalid_module', error.message);
    throw error;
  }
  const module = new WebAssembly.Module(instrumented.bytes as Uint8Array<ArrayBuffer>);
  return {
    sha256: digest,
    checked,
    module,
    instrumented,
    size: bytes.length,
    compileMillis: performance.now() - started,
  };
}

/** Compiled modules by sha256 and memory limit. */
export class ModuleCache {
  private readonly entries = new Map<string, CompiledModule>();

  get(bytes: Uint8Array, maxMemoryPages: number, digest = sha256(bytes)): CompiledModule {
    const key = `${digest}:${maxMemoryPages}`;
    let compiled = this.entries.get(key);
    if (!compiled) {
      compiled = compileModule(bytes, maxMemoryPages, digest);
      this.entries.set(key, compiled);
    }
    return compiled;
  }

  /** Drops modules no deployed version uses any more. */
  retain(digests: Set<string>): void {
    for (const [key, compiled] of this.entries) {
      if (!digests.has(compiled.sha256)) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
