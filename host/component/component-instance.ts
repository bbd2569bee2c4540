// One instance of a component: its core module instances (instantiated by L8 through
// the transpiled glue), its WASI and l8:faas imports, and the snapshot it returns to
// after every request.
//
// Limits, the same as for core modules:
// - Interruption: every core module is instrumented (host/instrument) and gets the
//   `l8:internal.interrupt` import. Inside a request the guest runs in the
//   WebAssembly.promising frame of the export, so the check can yield to the event loop
//   (every sliceMs) or park the guest for good (deadline passed). The glue also calls
//   core exports directly from JavaScript (cabi_realloc while lowering values, post-
//   return functions): there JSPI cannot suspend, so L8 hands the glue wrappers of those
//   exports that raise every module's fuel for the duration of the call (like the core
//   form's unsuspendable calls), and a check that fires there after the deadline throws.
// - Memory: the module that defines the memory has its maximum capped at the limit, and
//   a refused memory.grow is flagged, so the trap or exit that follows is memory_limit.
// - Fresh state: after instantiation L8 snapshots every defined memory, every mutable
//   global (exported by the instrumentation) and the glue's resource tables (which
//   handle stands for which host object: streams, pollables, HTTP messages). reset()
//   restores all three, and disposes host objects a request created and did not drop —
//   JavaScript engines often leave that to a garbage collection that never comes,
//   because their memory is reset first. An instance that grew its memory, or dropped a
//   resource it owned before the request, cannot be restored and is discarded.
import type { CallContext, GuestMessage, GuestRequest, GuestResponse } from '../call-context.ts';
import { CallCancelled } from '../call-context.ts';
import type { GuestInstance, InitOutput, InstanceOptions } from '../guest-instance.ts';
import { AbiViolation, type Fields } from '../guest-memory.ts';
import { INTERRUPT_MODULE, INTERRUPT_NAME } from '../instrument/index.ts';
import { ProcExit } from '../wasi-preview1.ts';
import type { ComponentCompiled, CoreModuleInfo } from './component-form.ts';
import { l8Imports, type CallSlot } from './l8-imports.ts';
import { shim } from './preview2-shim.ts';
import { GLUE_HOOK } from './transpile.ts';
import { WasiHost } from './wasi-host.ts';
import { HTTP_HANDLER, INCOMING_HANDLER, SUBSCRIBER } from './world.ts';
import { TimeSlice, parkForever } from '../time-slice.ts';

/** Fuel for wasm entered from JavaScript outside a promising frame (cannot yield there). */
const UNSUSPENDABLE_FUEL = 50_000_000;
/** Instantiation (core start functions, glue set-up) must finish within this. */
const INSTANTIATE_LIMIT_MS = 30_000;
/** Core exports the glue runs in a WebAssembly.promising frame: the entry points. */
const ENTRY_EXPORT = /^(?:l8:faas\/(?:http-handler|subscriber)|wasi:http\/incoming-handler)@[^#]*#(?:handle|on-message)$/;

const symbolDispose: symbol = Symbol.dispose ?? Symbol.for('dispose');

/** A glue handle table: [free list head, 0, (scope, rep | T_FLAG)...], plus bookkeeping. */
type HandleTable = number[] & { _createdReps?: Set<number> };

interface GlueState {
  handleTables: HandleTable[];
  captureTables: Array<Map<number, unknown>>;
}

interface Snapshot {
  memories: Uint8Array[];
  globals: unknown[];
  handleTables: Array<{ entries: number[]; createdReps: Set<number> | undefined }>;
  captureTables: Array<Map<number, unknown>>;
  /** Host objects the instance held at the snapshot (never disposed by a reset). */
  objects: Set<unknown>;
}

type Entry = Record<string, (...args: unknown[]) => Promise<unknown>>;


export class ComponentInstance implements GuestInstance {
  uses = 0;
  private readonly compiled: ComponentCompiled;
  private readonly options: InstanceOptions;
  private readonly slot: CallSlot = { ctx: null };
  private readonly wasi: WasiHost;
  private readonly glue: GlueState = { handleTables: [], captureTables: [] };
  private readonly fuels: WebAssembly.Global[] = [];
  /** Flags the instrumentation sets when the guest's memory.grow was refused (the limit). */
  private readonly growFailed: WebAssembly.Global[] = [];
  private readonly globals: WebAssembly.Global[] = [];
  private readonly memories: WebAssembly.Memory[] = [];
  /** Wrapped export -> the wasm function, so exports passed between core instances stay wasm. */
  private readonly unwrapped = new WeakMap<object, unknown>();
  private readonly interruptImport: WebAssembly.Suspending;
  private initOutput: InitOutput;
  /** JavaScript -> wasm calls outside a promising frame in progress. */
  private depth = 0;
  private instantiateDeadline = Infinity;
  private readonly slice: TimeSlice;
  private snapshot: Snapshot | null = null;
  private exports: Record<string, Entry> = {};

  private constructor(compiled: ComponentCompiled, options: InstanceOptions, initOutput: InitOutput) {
    this.compiled = compiled;
    this.options = options;
    this.slice = new TimeSlice(options.sliceMs, options.fuelQuantum);
    this.initOutput = initOutput;
    this.wasi = new WasiHost({
      sandbox: options.sandbox,
      output: (stream, line) => {
        const ctx = this.slot.ctx;
        if (ctx) ctx.log(stream === 'stdout' ? 'info' : 'warn', line, stream);
        else this.initOutput(stream, line);
      },
      warn: (message) => {
        const ctx = this.slot.ctx;
        if (ctx) ctx.log('warn', message, 'runtime');
        else this.initOutput('stderr', message);
      },
      remainingMs: () => (this.slot.ctx ? this.slot.ctx.deadline - performance.now() : Infinity),
    });
    this.interruptImport = new WebAssembly.Suspending(() => this.interrupt());
  }

  /** Instantiates the component and takes the snapshot every request starts from. */
  static async create(compiled: ComponentCompiled, options: InstanceOptions, initOutput: InitOutput): Promise<ComponentInstance> {
    const instance = new ComponentInstance(compiled, options, initOutput);
    await instance.instantiate();
    return instance;
  }

  private async instantiate(): Promise<void> {
    const imports: Record<string, unknown> = { ...this.wasi.imports(), ...l8Imports(this.slot), [GLUE_HOOK]: this.glue };
    this.instantiateDeadline = performance.now() + INSTANTIATE_LIMIT_MS;
    this.depth++;
    try {
      this.exports = (await this.compiled.glue.instantiate(
        (name) => this.compiled.coreModule(name).module,
        imports,
        async (module, moduleImports) => this.instantiateCore(module, moduleImports ?? {}),
      )) as Record<string, Entry>;
    } finally {
      this.depth--;
      this.instantiateDeadline = Infinity;
      this.wasi.endCall();
    }
    for (const fuel of this.fuels) fuel.value = UNSUSPENDABLE_FUEL;
    if (!this.options.reuse) this.snapshot = this.takeSnapshot();
  }

  /** Instantiates one core module for the glue, with the interrupt import and wrapped exports. */
  private instantiateCore(module: WebAssembly.Module, imports: WebAssembly.Imports): { exports: WebAssembly.Exports } {
    const info: CoreModuleInfo | undefined = this.compiled.infoOf(module);
    const linked: Record<string, Record<string, unknown>> = {};
    for (const [namespace, members] of Object.entries(imports)) {
      const copy: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(members as Record<string, unknown>)) {
        copy[name] = (typeof value === 'function' && this.unwrapped.get(value)) || value;
      }
      linked[namespace] = copy;
    }
    if (info?.fuelGlobal) linked[INTERRUPT_MODULE] = { [INTERRUPT_NAME]: this.interruptImport };
    const instance = new WebAssembly.Instance(module, linked as WebAssembly.Imports);
    const raw = instance.exports as Record<string, unknown>;
    if (info?.fuelGlobal) {
      const fuel = raw[info.fuelGlobal] as WebAssembly.Global;
      fuel.value = UNSUSPENDABLE_FUEL;
      this.fuels.push(fuel);
    }
    for (const name of info?.globals ?? []) this.globals.push(raw[name] as WebAssembly.Global);
    if (info?.growFailedGlobal) this.growFailed.push(raw[info.growFailedGlobal] as WebAssembly.Global);
    const exports: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (value instanceof WebAssembly.Memory && !this.memories.includes(value)) this.memories.push(value);
      if (typeof value === 'function' && !ENTRY_EXPORT.test(name)) {
        const wrapped = this.unsuspendable(value as (...args: unknown[]) => unknown);
        this.unwrapped.set(wrapped, value);
        exports[name] = wrapped;
      } else {
        exports[name] = value;
      }
    }
    return { exports: exports as WebAssembly.Exports };
  }

  /** A wrapper for calls from JavaScript into wasm outside a promising frame. */
  private unsuspendable(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    return (...args: unknown[]) => {
      const fuels = this.fuels;
      const saved = fuels.map((f) => f.value as number);
      for (const f of fuels) f.value = UNSUSPENDABLE_FUEL;
      this.depth++;
      try {
        return fn(...args);
      } finally {
        this.depth--;
        for (let i = 0; i < saved.length; i++) fuels[i]!.value = saved[i];
      }
    };
  }

  /** The interruption check injected into loops: stop, yield, or carry on. */
  private interrupt(): number | Promise<number> {
    const ctx = this.slot.ctx;
    const now = performance.now();
    if (this.depth > 0 || !ctx) {
      // JSPI cannot suspend here: carry on, unless time is up.
      if (now >= this.instantiateDeadline) {
        throw new Error(`the component did not finish instantiating within ${INSTANTIATE_LIMIT_MS / 1000} s`);
      }
      if (ctx && (ctx.cancelled || now >= ctx.deadline)) {
        ctx.cancelled = true;
        throw new CallCancelled();
      }
      return UNSUSPENDABLE_FUEL;
    }
    if (ctx.cancelled || now >= ctx.deadline) {
      // The caller's deadline timer answers 504; the guest never runs again.
      ctx.cancelled = true;
      return parkForever();
    }
    return this.slice.next(now);
  }

  private takeSnapshot(): Snapshot {
    return {
      memories: this.compiled.shareSnapshot(this.memories.map((m) => new Uint8Array(m.buffer).slice())),
      globals: this.globals.map((g) => g.value),
      handleTables: this.glue.handleTables.map((t) => ({ entries: [...t], createdReps: t._createdReps ? new Set(t._createdReps) : undefined })),
      captureTables: this.glue.captureTables.map((m) => new Map(m)),
      objects: new Set(this.glue.captureTables.flatMap((m) => [...m.values()])),
    };
  }

  /** Runs an entry point in its promising frame with the request's fuel and time slice. */
  private async enter<T>(ctx: CallContext, call: () => Promise<T>): Promise<T> {
    this.uses++;
    this.slot.ctx = ctx;
    for (const flag of this.growFailed) flag.value = 0;
    for (const fuel of this.fuels) fuel.value = this.options.fuelQuantum;
    this.slice.begin();
    try {
      return await call();
    } catch (error) {
      throw asTrap(error);
    } finally {
      for (const fuel of this.fuels) fuel.value = UNSUSPENDABLE_FUEL;
      this.wasi.endCall();
      this.slot.ctx = null;
    }
  }

  private entry(iface: string): Entry | null {
    const name = this.compiled.shape.exports.find((e) => e === iface || e.startsWith(`${iface}@`));
    return name ? (this.exports[name] ?? null) : null;
  }

  async handleHttp(ctx: CallContext, request: GuestRequest): Promise<GuestResponse> {
    if (this.compiled.shape.http === 'wasi') return this.handleWasiHttp(ctx, request);
    const handler = this.entry(HTTP_HANDLER);
    if (!handler) throw new AbiViolation('the component does not export an HTTP handler');
    const response = (await this.enter(ctx, () => handler.handle!({ ...request, body: request.body }))) as GuestResponse;
    if (!Number.isInteger(response.status) || response.status < 100 || response.status > 599) {
      throw new AbiViolation(`the handler returned HTTP status ${response.status}; statuses must be 100-599`);
    }
    return { status: response.status, headers: response.headers, body: response.body };
  }

  /** Serves a request through wasi:http/incoming-handler (buffered both ways). */
  private async handleWasiHttp(ctx: CallContext, request: GuestRequest): Promise<GuestResponse> {
    const handler = this.entry(INCOMING_HANDLER);
    if (!handler) throw new AbiViolation('the component does not export wasi:http/incoming-handler');
    const headers = new Headers();
    let host = 'localhost';
    for (const [name, value] of request.headers) {
      if (name === 'host') host = value;
      headers.append(name, value);
    }
    const url = `http://${host}${request.path}${request.query ? `?${request.query}` : ''}`;
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    let webRequest: Request;
    try {
      webRequest = new Request(url, { method: request.method, headers, body: hasBody ? (request.body as Uint8Array<ArrayBuffer>) : undefined });
    } catch (error) {
      throw new AbiViolation(`the request cannot be expressed in wasi:http: ${(error as Error).message}`);
    }
    const response = await this.enter(ctx, async () => {
      // preview2-shim resolves the response once the guest finishes its body. A guest that
      // returns from `handle` without finishing it (StarlingMonkey does so after an
      // uncaught exception in a fetch handler) would leave it pending until the timeout:
      // that is a failed call, as when wasmtime sees the body dropped unfinished.
      let handlerReturned = () => {};
      const unfinished = new Promise<never>((_, reject) => {
        handlerReturned = () =>
          setImmediate(() => reject(new WebAssembly.RuntimeError('the wasi:http handler returned without finishing its response body (see the function\'s stderr for why)')));
      });
      unfinished.catch(() => {});
      const pending = shim.http.handleIncomingRequest(webRequest, async (incoming, responseOut) => {
        await handler.handle!(incoming, responseOut);
        handlerReturned();
      });
      const answer = await Promise.race([pending, unfinished]);
      return { status: answer.status, headers: answer.headers, body: new Uint8Array(await answer.arrayBuffer()) };
    });
    const fields: Fields = [];
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') fields.push([name, value]);
    });
    for (const cookie of response.headers.getSetCookie()) fields.push(['set-cookie', cookie]);
    return { status: response.status, headers: fields, body: response.body };
  }

  async deliver(ctx: CallContext, message: GuestMessage): Promise<string | null> {
    const subscriber = this.entry(SUBSCRIBER);
    if (!subscriber) throw new AbiViolation('the component does not export a message subscriber');
    try {
      await this.enter(ctx, () => subscriber.onMessage!({ ...message }));
      return null;
    } catch (error) {
      // jco throws a `result` error of an export as an Error with the value in `payload`.
      const payload = (error as { payload?: unknown } | null)?.payload;
      if (typeof payload === 'string') return payload;
      throw error;
    }
  }

  nearMemoryLimit(): boolean {
    if (this.growFailed.some((flag) => flag.value === 1)) return true;
    const limit = this.compiled.memoryLimitPages * 65536;
    const slack = Math.max(2 << 20, limit / 10);
    return this.memories.some((m) => m.buffer.byteLength + slack >= limit);
  }

  get memoryBytes(): number {
    return this.memories.reduce((sum, m) => sum + m.buffer.byteLength, 0);
  }

  reset(): boolean {
    if (this.options.reuse) return true;
    const snapshot = this.snapshot;
    if (!snapshot) return false;
    for (let i = 0; i < this.memories.length; i++) {
      if (this.memories[i]!.buffer.byteLength !== snapshot.memories[i]!.length) return false;
    }
    // A resource the instance owned before the request and dropped during it is gone
    // (its host object was disposed): the restored memory would still refer to it.
    for (let i = 0; i < this.glue.captureTables.length; i++) {
      const current = this.glue.captureTables[i]!;
      for (const [rep, object] of snapshot.captureTables[i]!) {
        if (current.get(rep) !== object) return false;
      }
    }
    for (let i = 0; i < this.glue.captureTables.length; i++) {
      const current = this.glue.captureTables[i]!;
      const before = snapshot.captureTables[i]!;
      for (const [rep, object] of current) {
        if (before.has(rep)) continue;
        current.delete(rep);
        if (!snapshot.objects.has(object)) disposeQuietly(object);
      }
    }
    for (let i = 0; i < this.glue.handleTables.length; i++) {
      const table = this.glue.handleTables[i]!;
      const saved = snapshot.handleTables[i]!;
      table.length = 0;
      for (const value of saved.entries) table.push(value);
      if (saved.createdReps) table._createdReps = new Set(saved.createdReps);
    }
    for (let i = 0; i < this.memories.length; i++) new Uint8Array(this.memories[i]!.buffer).set(snapshot.memories[i]!);
    for (let i = 0; i < this.globals.length; i++) this.globals[i]!.value = snapshot.globals[i];
    return true;
  }
}

function disposeQuietly(object: unknown): void {
  const dispose = (object as Record<symbol, unknown> | null)?.[symbolDispose];
  if (typeof dispose !== 'function') return;
  try {
    dispose.call(object);
  } catch {
    // A host object that fails to clean up must not fail the next request.
  }
}

/**
 * What a failed call becomes for LoadedFunction's error mapping: engine traps and L8's
 * own errors pass through; anything else the glue or the guest threw (an exit, a value
 * the glue could not lower) is a trap of the guest.
 */
function asTrap(error: unknown): unknown {
  if (
    error instanceof WebAssembly.RuntimeError ||
    error instanceof RangeError ||
    error instanceof CallCancelled ||
    error instanceof AbiViolation ||
    (typeof WebAssembly.SuspendError === 'function' && error instanceof WebAssembly.SuspendError)
  ) {
    return error;
  }
  const exit = error as { exitError?: unknown; code?: unknown } | null;
  if (exit && exit.exitError === true && typeof exit.code === 'number') {
    // wasi:cli/exit (preview2-shim throws to end the guest): as a core module's proc_exit.
    return new ProcExit(exit.code);
  }
  if (error && typeof error === 'object' && 'payload' in error) {
    // A `result` error returned by an export (the subscriber's err): not a trap.
    return error;
  }
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  const trap = new WebAssembly.RuntimeError(message);
  (trap as { cause?: unknown }).cause = error;
  return trap;
}
