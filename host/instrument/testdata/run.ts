// Runs corpus modules, original or instrumented, and records what each call returned,
// so tests and the benchmark can compare the two.
import type { InstrumentedModule } from '../index.ts';
import { guestImports, type Language } from './corpus.ts';

export type Arg = number | bigint | string | null;
export type Call = [exportName: string, ...args: Arg[]];
export type Outcome = { value: unknown } | { error: string };

export interface RunOptions {
  /** The instrumentation result when `bytes` is instrumented. */
  instrumented?: InstrumentedModule;
  /** Fuel before each call, and what the interrupt import returns. */
  quantum?: number;
  /**
   * 'sync': exports are called directly and the interrupt is a plain function.
   * 'jspi': exports go through WebAssembly.promising and the interrupt is a
   * WebAssembly.Suspending async function that yields to the event loop every time.
   */
  mode?: 'sync' | 'jspi';
  /** Changes the imports before instantiation (e.g. wraps WASI functions to watch what they write). */
  wrapImports?: (imports: WebAssembly.Imports) => void;
}

export interface RunResult {
  outcomes: Outcome[];
  interrupts: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface Guest {
  instance: WebAssembly.Instance;
  exports: Record<string, unknown>;
  interrupts: () => number;
  /** Sets the fuel global (instrumented modules). */
  refuel: () => void;
  call: (name: string, args: Arg[]) => Promise<unknown>;
}

export function instantiate(language: Language, bytes: Uint8Array, options: RunOptions = {}): Guest {
  const { instrumented, quantum = 10_000, mode = 'sync' } = options;
  const { imports, init } = guestImports(language);
  options.wrapImports?.(imports);
  let interrupts = 0;
  if (instrumented?.interruptImport) {
    const { module, name } = instrumented.interruptImport;
    const fn =
      mode === 'jspi'
        ? new WebAssembly.Suspending(async () => {
            interrupts++;
            await yieldToEventLoop();
            return quantum;
          })
        : () => {
            interrupts++;
            return quantum;
          };
    imports[module] = { [name]: fn as WebAssembly.ImportValue };
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), imports);
  init(instance);
  const exports = instance.exports as Record<string, unknown>;
  const fuel = instrumented?.fuelGlobal ? (exports[instrumented.fuelGlobal] as WebAssembly.Global) : null;
  const refuel = () => {
    if (fuel) fuel.value = quantum;
  };
  const promising = new Map<string, (...args: Arg[]) => Promise<unknown>>();
  const call = async (name: string, args: Arg[]): Promise<unknown> => {
    const fn = exports[name] as ((...args: Arg[]) => unknown) | undefined;
    if (typeof fn !== 'function') throw new Error(`the module has no export ${name}`);
    refuel();
    if (mode === 'sync') return fn(...args);
    let p = promising.get(name);
    if (!p) promising.set(name, (p = WebAssembly.promising(fn) as (...args: Arg[]) => Promise<unknown>));
    return p(...args);
  };
  return { instance, exports, interrupts: () => interrupts, refuel, call };
}

export async function runCalls(language: Language, bytes: Uint8Array, calls: Call[], options: RunOptions = {}): Promise<RunResult> {
  const guest = instantiate(language, bytes, options);
  const outcomes: Outcome[] = [];
  for (const [name, ...args] of calls) {
    try {
      outcomes.push({ value: await guest.call(name, args) });
    } catch (error) {
      outcomes.push({ error: `${(error as Error)?.constructor?.name}: ${(error as Error)?.message}` });
    }
  }
  return { outcomes, interrupts: guest.interrupts() };
}
