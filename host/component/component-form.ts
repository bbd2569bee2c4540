// The component form: WebAssembly components (WASI 0.2) that target the l8:faas world or
// export wasi:http/incoming-handler. Compiling one means: check its imports and exports
// against what L8 provides, transpile it with jco (cached by sha256), instrument each of
// its core modules like a core-form module (interruption, exported globals, memory cap;
// also cached), compile them, and load the glue. Instances are made by
// component-instance.ts.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { L8Error } from '../errors.ts';
import type { CompiledFunction, CompileOptions, InitOutput, InstanceOptions, ModuleForm } from '../guest-instance.ts';
import { instrument, InstrumentError } from '../instrument/index.ts';
import { binaryKind } from '../wasm-sections.ts';
import { ComponentInstance } from './component-instance.ts';
import { loadGlue, transpileComponent, type GlueModule } from './transpile.ts';
import { checkComponent, type ComponentShape } from './world.ts';

export interface CoreModuleInfo {
  name: string;
  module: WebAssembly.Module;
  /** Export name of the injected fuel global; null when the module was left as it was. */
  fuelGlobal: string | null;
  /** Export names of its mutable globals. */
  globals: string[];
  /** Export name of the flag a refused memory.grow sets (null when it has no memory). */
  growFailedGlobal: string | null;
  /** Capped maximum of the memory it defines (0 when it defines none). */
  maximumPages: number;
}

interface InstrumentedEntry {
  fuelGlobal: string | null;
  globals: string[];
  growFailedGlobal: string | null;
  maximumPages: number;
}

let instrumenterDigest: string | undefined;

/**
 * A digest of the instrumenter's source: cached instrumented modules are only reused
 * when they were made by exactly this rewriter.
 */
function instrumenterVersion(): string {
  if (instrumenterDigest === undefined) {
    const dir = fileURLToPath(new URL('../instrument/', import.meta.url));
    const hash = createHash('sha256');
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts')).sort()) {
      hash.update(name).update(readFileSync(join(dir, name)));
    }
    instrumenterDigest = hash.digest('hex').slice(0, 16);
  }
  return instrumenterDigest;
}

/**
 * Instruments one core module for `maxMemoryPages`, or reads the result from the cache
 * folder of its component (the large modules of JavaScript engines take a second).
 */
async function instrumentCore(dir: string, name: string, maxMemoryPages: number): Promise<{ bytes: Uint8Array; entry: InstrumentedEntry }> {
  const cacheDir = join(dir, `instrumented-${instrumenterVersion()}-p${maxMemoryPages}`);
  try {
    const entry = JSON.parse(await readFile(join(cacheDir, `${name}.json`), 'utf8')) as InstrumentedEntry;
    return { bytes: await readFile(join(cacheDir, name)), entry };
  } catch {
    // not cached yet
  }
  const original = await readFile(join(dir, name));
  let result;
  try {
    result = instrument(original, { maxMemoryPages, sharedMemory: true, validate: false });
  } catch (error) {
    if (error instanceof InstrumentError) throw new L8Error('invalid_module', `core module ${name} of the component: ${error.message}`);
    throw error;
  }
  const entry: InstrumentedEntry = {
    fuelGlobal: result.fuelGlobal,
    globals: result.globals.map((g) => g.exportName),
    growFailedGlobal: result.growFailedGlobal,
    maximumPages: result.memory.maximumPages,
  };
  await mkdir(cacheDir, { recursive: true });
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  // The module first, its description last: a description always has its module.
  await writeFile(join(cacheDir, name + suffix), result.bytes);
  await rename(join(cacheDir, name + suffix), join(cacheDir, name));
  await writeFile(join(cacheDir, `${name}.json${suffix}`), JSON.stringify(entry));
  await rename(join(cacheDir, `${name}.json${suffix}`), join(cacheDir, `${name}.json`));
  return { bytes: result.bytes, entry };
}

export class ComponentCompiled implements CompiledFunction {
  readonly form = 'component';
  readonly sha256: string;
  readonly size: number;
  compileMillis = 0;
  /** Part of compileMillis spent in jco (0 when the transpiled output was cached). */
  transpileMillis = 0;
  readonly shape: ComponentShape;
  glue!: GlueModule;
  private readonly modules = new Map<string, CoreModuleInfo>();
  private readonly byModule = new WeakMap<WebAssembly.Module, CoreModuleInfo>();
  memoryLimitPages = 0;
  /** The snapshot memories of the first instance, shared by every instance whose memories are the same. */
  private sharedSnapshot: Uint8Array[] | null = null;

  private constructor(bytes: Uint8Array, options: CompileOptions, shape: ComponentShape) {
    this.sha256 = options.sha256;
    this.size = bytes.length;
    this.shape = shape;
  }

  static async compile(bytes: Uint8Array, options: CompileOptions): Promise<ComponentCompiled> {
    const started = performance.now();
    const compiled = new ComponentCompiled(bytes, options, checkComponent(bytes));
    const transpiled = await transpileComponent(bytes, { cacheDir: options.cacheDir, sha256: options.sha256 });
    compiled.transpileMillis = transpiled.transpileMillis;
    for (const name of transpiled.coreModules) {
      const { bytes: instrumented, entry } = await instrumentCore(transpiled.dir, name, options.maxMemoryPages);
      let module: WebAssembly.Module;
      try {
        // Asynchronous: compiling the megabytes of a JavaScript engine must not stall requests.
        module = await WebAssembly.compile(instrumented as Uint8Array<ArrayBuffer>);
      } catch (error) {
        throw new L8Error('invalid_module', `core module ${name} of the component does not compile: ${(error as Error).message}`, { cause: error });
      }
      const info: CoreModuleInfo = { name, module, ...entry };
      compiled.modules.set(name, info);
      compiled.byModule.set(module, info);
      compiled.memoryLimitPages = Math.max(compiled.memoryLimitPages, entry.maximumPages);
    }
    compiled.glue = await loadGlue(transpiled.dir);
    compiled.compileMillis = performance.now() - started;
    return compiled;
  }

  get hasHttpHandler(): boolean {
    return this.shape.http !== null;
  }

  get hasSubscriber(): boolean {
    return this.shape.subscriber;
  }

  coreModule(name: string): CoreModuleInfo {
    const info = this.modules.get(name);
    if (!info) throw new Error(`the transpiled glue asked for core module ${name}, which jco did not produce`);
    return info;
  }

  infoOf(module: WebAssembly.Module): CoreModuleInfo | undefined {
    return this.byModule.get(module);
  }

  /**
   * Instances usually start from byte-identical memories (a JavaScript engine's 9 MiB
   * among them): they then share one copy of the snapshot instead of keeping one each.
   * Returns the memories to keep.
   */
  shareSnapshot(memories: Uint8Array[]): Uint8Array[] {
    const shared = this.sharedSnapshot;
    if (!shared) {
      this.sharedSnapshot = memories;
      return memories;
    }
    const same =
      shared.length === memories.length &&
      shared.every((bytes, i) => Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.from(memories[i]!.buffer, memories[i]!.byteOffset, memories[i]!.byteLength)) === 0);
    return same ? shared : memories;
  }

  instantiate(options: InstanceOptions, initOutput: InitOutput): Promise<ComponentInstance> {
    return ComponentInstance.create(this, options, initOutput);
  }
}

export const componentForm: ModuleForm = {
  name: 'component',
  accepts: (bytes) => binaryKind(bytes) === 'component',
  check: (bytes) => {
    checkComponent(bytes);
  },
  compile: (bytes, options) => ComponentCompiled.compile(bytes, options),
};
