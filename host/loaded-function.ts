// A function version ready to run: its compiled module, its instance pool and its
// limits. Every call gets a deadline; traps, timeouts and out-of-memory become L8Errors
// that name the function and say what to change, and the instance involved is discarded.
import { CallCancelled, type CallContext, type GuestMessage, type GuestRequest, type GuestResponse } from './call-context.ts';
import { withDeadline } from './deadlines.ts';
import { L8Error, toL8Error } from './errors.ts';
import type { CompiledFunction, GuestInstance, InitOutput, InstanceOptions, Sandbox } from './guest-instance.ts';
import { AbiViolation } from './guest-memory.ts';
import { InstancePool } from './instance-pool.ts';
import { ProcExit } from './wasi-preview1.ts';

export interface FunctionLimits {
  timeoutMs: number;
  memoryPages: number;
  maxConcurrency: number;
  maxQueue: number;
  reuse: boolean;
}

export interface HostTuning {
  fuelQuantum: number;
  sliceMs: number;
  maxIdle: number;
}

export const DEFAULT_TUNING: HostTuning = { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 8 };

export class LoadedFunction {
  readonly name: string;
  readonly version: number;
  readonly compiled: CompiledFunction;
  readonly limits: FunctionLimits;
  readonly pool: InstancePool;
  /** Milliseconds the first instantiation (with initialisation) took. */
  instantiateMillis = 0;

  /** Use LoadedFunction.load(), which also makes the first instance. */
  private constructor(name: string, version: number, compiled: CompiledFunction, limits: FunctionLimits, tuning: HostTuning, initOutput: InitOutput, sandbox?: Sandbox) {
    this.name = name;
    this.version = version;
    this.compiled = compiled;
    this.limits = limits;
    const options: InstanceOptions = { reuse: limits.reuse, fuelQuantum: tuning.fuelQuantum, sliceMs: tuning.sliceMs, sandbox };
    const create = () => compiled.instantiate(options, initOutput);
    this.pool = new InstancePool(create, {
      maxInstances: limits.maxConcurrency,
      maxQueue: limits.maxQueue,
      maxIdle: limits.reuse ? limits.maxConcurrency : tuning.maxIdle,
    }, `function "${name}"`);
  }

  /**
   * Loads a compiled function and instantiates it once, so a module whose
   * initialisation fails is refused at deploy time and the first request does not pay.
   */
  static async load(name: string, version: number, compiled: CompiledFunction, limits: FunctionLimits, tuning: HostTuning, initOutput: InitOutput, sandbox?: Sandbox): Promise<LoadedFunction> {
    const fn = new LoadedFunction(name, version, compiled, limits, tuning, initOutput, sandbox);
    const started = performance.now();
    let first: GuestInstance;
    try {
      first = await fn.pool.acquire(performance.now() + 30_000);
    } catch (error) {
      throw new L8Error('invalid_module', `function "${name}" failed to initialise: ${(error as Error).message}`, { cause: error });
    }
    fn.instantiateMillis = performance.now() - started;
    fn.pool.release(first, true);
    return fn;
  }

  get hasHttpHandler(): boolean {
    return this.compiled.hasHttpHandler;
  }

  get hasSubscriber(): boolean {
    return this.compiled.hasSubscriber;
  }

  handleHttp(ctx: CallContext, request: GuestRequest): Promise<GuestResponse> {
    return this.run(ctx, (instance) => instance.handleHttp(ctx, request));
  }

  /** Resolves to null when the subscriber succeeded, or to its error text. */
  deliver(ctx: CallContext, message: GuestMessage): Promise<string | null> {
    return this.run(ctx, (instance) => instance.deliver(ctx, message));
  }

  private async run<T>(ctx: CallContext, call: (instance: GuestInstance) => Promise<T>): Promise<T> {
    const instance = await this.pool.acquire(ctx.deadline);
    let healthy = false;
    const guest = call(instance);
    try {
      const result = await withDeadline(guest, ctx.deadline, () => {
        ctx.cancelled = true;
        return new L8Error('timeout', `function "${this.name}" did not finish within its ${this.limits.timeoutMs} ms timeout and was stopped; make it faster or raise limits.timeoutMs`);
      });
      healthy = true;
      return result;
    } catch (error) {
      guest.catch(() => {}); // an abandoned guest may still reject later
      throw this.classify(error, instance);
    } finally {
      this.pool.release(instance, healthy);
    }
  }

  private classify(error: unknown, instance: GuestInstance): L8Error {
    if (error instanceof L8Error) return error;
    const fn = `function "${this.name}"`;
    if (error instanceof CallCancelled) {
      return new L8Error('timeout', `${fn} did not finish within its ${this.limits.timeoutMs} ms timeout and was stopped`);
    }
    const isTrap =
      error instanceof WebAssembly.RuntimeError ||
      error instanceof RangeError ||
      (typeof WebAssembly.SuspendError === 'function' && error instanceof WebAssembly.SuspendError);
    if (!isTrap && !(error instanceof ProcExit) && !(error instanceof AbiViolation)) return toL8Error(error);
    const message = (error as Error).message;
    // After a refused memory.grow, a trap (allocator's unreachable, Rust's abort), an exit
    // (Go's runtime exits with "fatal error: out of memory") or a broken result (a null
    // pointer from an allocator that gave up) is the guest running out of memory.
    if (instance.nearMemoryLimit()) {
      const mib = (this.limits.memoryPages * 65536) / (1 << 20);
      const how = error instanceof ProcExit ? 'exited' : error instanceof AbiViolation ? 'broke the ABI' : 'trapped';
      return new L8Error('memory_limit', `${fn} ran out of memory: it needed more than its ${mib} MiB limit and ${how} (${message}); use less memory or raise limits.memoryMb`, { cause: error });
    }
    if (error instanceof AbiViolation) return new L8Error('trap', `${fn} broke the ABI: ${message}`, { cause: error });
    return new L8Error('trap', `${fn} trapped: ${message}`, { cause: error });
  }

  /** Stops new calls; calls in flight finish on their instances. */
  close(): void {
    this.pool.close();
  }
}
