// Stage 3: one instance of a compiled module, reusable across requests. After
// `_initialize` the instance's memory and mutable globals are snapshotted; `reset()`
// puts them back so the next request sees exactly the state a fresh instance would,
// without paying for a new instantiation.
import type { CallContext, GuestMessage, GuestRequest, GuestResponse } from '../call-context.ts';
import type { GuestInstance, InitOutput, InstanceOptions } from '../guest-instance.ts';
import { AbiViolation, GuestMemory } from '../guest-memory.ts';
import { WasiPreview1 } from '../wasi-preview1.ts';
import type { CoreCompiled } from './core-form.ts';
import { linkImports, type InstanceSlot } from './linker.ts';

/**
 * Fuel given to calls the host makes outside of a promising (JSPI) frame — `_initialize`,
 * `cabi_realloc`, `cabi_post_*`. Those cannot yield; if they loop this long, the
 * interruption check traps (JSPI refuses to suspend there), which bounds them.
 */
const UNSUSPENDABLE_FUEL = 50_000_000;

/** A promise that never settles: parks a guest whose request was abandoned until it is garbage. */
const parkForever = () => new Promise<number>(() => {});

type Export = (...args: number[]) => number;

export class CoreInstance implements GuestInstance {
  readonly slot: InstanceSlot = { ctx: null, memory: null };
  /** Calls served by this instance. */
  uses = 0;
  private readonly wasi = new WasiPreview1();
  private readonly options: InstanceOptions;
  private readonly memoryLimitBytes: number;
  private readonly memory: GuestMemory;
  private readonly fuel: WebAssembly.Global | null;
  private readonly globals: WebAssembly.Global[];
  private readonly handleExport: ((...args: number[]) => Promise<number>) | null;
  private readonly messageExport: ((...args: number[]) => Promise<number>) | null;
  private readonly postHandle: Export | null;
  private readonly postMessage: Export | null;
  private readonly exports: Record<string, unknown>;
  private readonly hasInitialize: boolean;
  private snapshot: { memory: Uint8Array; globals: unknown[] } | null = null;
  private sliceStart = 0;

  constructor(compiled: CoreCompiled, options: InstanceOptions) {
    this.options = options;
    this.memoryLimitBytes = compiled.instrumented.memory.maximumPages * 65536;
    const { interruptImport } = compiled.instrumented;
    const internal = interruptImport
      ? { [interruptImport.module]: { [interruptImport.name]: new WebAssembly.Suspending(() => this.interrupt()) } }
      : {};
    const imports = linkImports(compiled.checked, this.slot, { wasi: this.wasi, internal });
    const instance = new WebAssembly.Instance(compiled.module, imports);
    const exports = instance.exports as Record<string, unknown>;
    this.exports = exports;
    this.hasInitialize = compiled.checked.hasInitialize;
    this.fuel = compiled.instrumented.fuelGlobal ? (exports[compiled.instrumented.fuelGlobal] as WebAssembly.Global) : null;
    this.globals = compiled.instrumented.globals.map((g) => exports[g.exportName] as WebAssembly.Global);
    const realloc = exports.cabi_realloc as Export;
    this.memory = new GuestMemory(exports.memory as WebAssembly.Memory, (a, b, c, d) => this.unsuspendable(() => realloc(a, b, c, d)));
    this.slot.memory = this.memory;
    this.wasi.bind(this.memory);
    const { handle, onMessage } = compiled.checked;
    this.handleExport = handle ? WebAssembly.promising(exports[handle.name] as Export) : null;
    this.postHandle = handle?.postReturn ? (exports[handle.postReturn] as Export) : null;
    this.messageExport = onMessage ? WebAssembly.promising(exports[onMessage.name] as Export) : null;
    this.postMessage = onMessage?.postReturn ? (exports[onMessage.postReturn] as Export) : null;
  }

  /** Runs `_initialize` (when exported) and takes the snapshot every request starts from. */
  initialize(output: InitOutput): void {
    this.wasi.beginCall(output);
    try {
      if (this.hasInitialize) {
        const init = this.exports._initialize as () => void;
        this.unsuspendable(() => init());
      }
    } finally {
      this.wasi.endCall();
    }
    if (!this.options.reuse) {
      this.snapshot = { memory: this.memory.u8().slice(), globals: this.globals.map((g) => g.value) };
    }
  }

  /** Calls into the guest with enough fuel that it never needs to suspend. */
  private unsuspendable<T>(call: () => T): T {
    if (!this.fuel) return call();
    const saved = this.fuel.value as number;
    this.fuel.value = UNSUSPENDABLE_FUEL;
    try {
      return call();
    } finally {
      this.fuel.value = saved;
    }
  }

  /** The interruption check injected into loops: stop, yield, or carry on. */
  private interrupt(): number | Promise<number> {
    const ctx = this.slot.ctx;
    if (!ctx) return this.options.fuelQuantum;
    const now = performance.now();
    if (ctx.cancelled || now >= ctx.deadline) {
      // The caller's deadline timer answers 504; the guest never runs again, so it cannot
      // catch an exception and carry on.
      ctx.cancelled = true;
      return parkForever();
    }
    if (now - this.sliceStart >= this.options.sliceMs) {
      return new Promise((resolve) =>
        setImmediate(() => {
          this.sliceStart = performance.now();
          resolve(this.options.fuelQuantum);
        }),
      );
    }
    return this.options.fuelQuantum;
  }

  private begin(ctx: CallContext): void {
    this.uses++;
    this.slot.ctx = ctx;
    this.wasi.beginCall((stream, line) => ctx.log(stream === 'stdout' ? 'info' : 'warn', line, stream));
  }

  private end(): void {
    this.wasi.endCall();
    this.slot.ctx = null;
  }

  private async enterGuest(fn: (...args: number[]) => Promise<number>, args: number[]): Promise<number> {
    if (this.fuel) this.fuel.value = this.options.fuelQuantum;
    this.sliceStart = performance.now();
    const result = await fn(...args);
    if (this.fuel) this.fuel.value = UNSUSPENDABLE_FUEL;
    return result >>> 0;
  }

  get hasHttpHandler(): boolean {
    return this.handleExport !== null;
  }

  get hasSubscriber(): boolean {
    return this.messageExport !== null;
  }

  async handleHttp(ctx: CallContext, request: GuestRequest): Promise<GuestResponse> {
    if (!this.handleExport) throw new AbiViolation('the function does not export an HTTP handler');
    this.begin(ctx);
    try {
      const m = this.memory;
      const args = [
        ...m.writeString(request.method),
        ...m.writeString(request.path),
        ...m.writeString(request.query),
        ...m.writeFields(request.headers),
        ...m.writeBytes(request.body),
      ];
      const ptr = await this.enterGuest(this.handleExport, args);
      const status = m.readU16(ptr);
      if (status < 100 || status > 599) {
        throw new AbiViolation(`the handler returned HTTP status ${status}; statuses must be 100-599`);
      }
      const response: GuestResponse = {
        status,
        headers: m.readFields(m.readU32(ptr + 4), m.readU32(ptr + 8), 'response headers'),
        body: m.readBytes(m.readU32(ptr + 12), m.readU32(ptr + 16), 'response body'),
      };
      if (this.postHandle) this.unsuspendable(() => this.postHandle!(ptr));
      return response;
    } finally {
      this.end();
    }
  }

  /** Delivers a message; returns null on success or the guest's error text. */
  async deliver(ctx: CallContext, message: GuestMessage): Promise<string | null> {
    if (!this.messageExport) throw new AbiViolation('the function does not export a message subscriber');
    this.begin(ctx);
    try {
      const m = this.memory;
      const args = [
        ...m.writeString(message.id),
        ...m.writeString(message.broker),
        ...m.writeString(message.topic),
        ...m.writeBytes(message.data),
        ...m.writeFields(message.metadata),
      ];
      const ptr = await this.enterGuest(this.messageExport, args);
      const disc = m.readU8(ptr);
      const result = disc === 0 ? null : m.readString(m.readU32(ptr + 4), m.readU32(ptr + 8), 'subscriber error');
      if (disc > 1) throw new AbiViolation(`on-message returned result discriminant ${disc}; expected 0 (ok) or 1 (err)`);
      if (this.postMessage) this.unsuspendable(() => this.postMessage!(ptr));
      return result;
    } finally {
      this.end();
    }
  }

  /**
   * Whether the guest's memory is close enough to its limit that a trap now is most
   * likely an allocation that memory.grow refused (allocators grow in chunks of up to a
   * few MiB, then trap when the grow fails).
   */
  nearMemoryLimit(): boolean {
    const slack = Math.max(2 << 20, this.memoryLimitBytes / 10);
    return this.memory.size + slack >= this.memoryLimitBytes;
  }

  get memoryBytes(): number {
    return this.memory.size;
  }

  /** Puts the instance back to its snapshot. False when that is impossible (memory grew). */
  reset(): boolean {
    if (this.options.reuse) return true;
    const snapshot = this.snapshot;
    if (!snapshot) return false;
    const bytes = this.memory.u8();
    if (bytes.length !== snapshot.memory.length) return false;
    bytes.set(snapshot.memory);
    for (let i = 0; i < this.globals.length; i++) this.globals[i]!.value = snapshot.globals[i];
    return true;
  }
}
