// Stage 3: one instance of a compiled module, reusable across requests. After
// `_initialize` the instance's memory and mutable globals are snapshotted; `reset()`
// puts them back so the next request sees exactly the state a fresh instance would,
// without paying for a new instantiation. When the module was instrumented with dirty
// tracking (large snapshots, see core-form.ts), only the 4 KiB pages the request wrote
// (the guest's stores and the host's writes both mark them) are copied back.
import { CapabilityError, type CallContext, type GuestMessage, type GuestRequest, type GuestResponse } from '../call-context.ts';
import type { GuestInstance, InitOutput, InstanceOptions } from '../guest-instance.ts';
import { AbiViolation, GuestMemory } from '../guest-memory.ts';
import { DIRTY_PAGE_SIZE } from '../instrument/index.ts';
import { WasiPreview1 } from '../wasi-preview1.ts';
import type { CoreCompiled } from './core-form.ts';
import { linkImports, type InstanceSlot } from './linker.ts';
import { TimeSlice, parkForever } from '../time-slice.ts';

/**
 * Fuel given to calls the host makes outside of a promising (JSPI) frame — `_initialize`,
 * `cabi_realloc`, `cabi_post_*`. Those cannot yield; if they loop this long, the
 * interruption check traps (JSPI refuses to suspend there), which bounds them.
 */
const UNSUSPENDABLE_FUEL = 50_000_000;

const duringInit = () => Promise.reject(new CapabilityError('invalid', 'host calls other than log are not available during initialisation (_initialize); make them while handling a request'));

/** The context of `_initialize`: logs go to the function's init output, host calls fail. */
function initContext(output: InitOutput): CallContext {
  return {
    requestId: 'init',
    functionName: '',
    deadline: Infinity,
    depth: 0,
    cancelled: false,
    log: (level, message) => output(level === 'error' || level === 'warn' ? 'stderr' : 'stdout', message),
    services: {
      stateGet: duringInit,
      stateSet: duringInit,
      stateDelete: duringInit,
      publish: duringInit,
      invoke: duringInit,
      tryLock: duringInit,
      unlock: duringInit,
      keepAlive: duringInit,
      nextId: duringInit,
      configGet: () => {
        throw new CapabilityError('invalid', 'config is not available during initialisation (_initialize); read it while handling a request');
      },
    },
  };
}

/** A promise that never settles: parks a guest whose request was abandoned until it is garbage. */

/** The unit of dirty tracking (4 KiB), not the 64 KiB wasm page. */
const PAGE = DIRTY_PAGE_SIZE;
const ZERO_PAGE = new Uint8Array(PAGE);

interface Snapshot {
  memory: Uint8Array;
  globals: unknown[];
  /** With dirty tracking: 1 for each page that is all zeros in the snapshot (restored with fill). */
  zeroPages: Uint8Array | null;
}

type Export = (...args: number[]) => number;

export class CoreInstance implements GuestInstance {
  readonly slot: InstanceSlot = { ctx: null, memory: null };
  /** Calls served by this instance. */
  uses = 0;
  private readonly wasi = new WasiPreview1();
  private readonly options: InstanceOptions;
  private readonly memory: GuestMemory;
  private readonly fuel: WebAssembly.Global | null;
  /** Set to 1 by the instrumented memory.grow wrapper when a grow fails; cleared before each call. */
  private readonly growFailed: WebAssembly.Global | null;
  private readonly globals: WebAssembly.Global[];
  private readonly handleExport: ((...args: number[]) => Promise<number>) | null;
  private readonly messageExport: ((...args: number[]) => Promise<number>) | null;
  private readonly postHandle: Export | null;
  private readonly postMessage: Export | null;
  private readonly exports: Record<string, unknown>;
  private readonly hasInitialize: boolean;
  /** The dirty map (one byte per page, 1 = written since the last reset); null without dirty tracking. */
  private readonly dirty: Uint8Array | null;
  /** The same map as words, to skip four clean pages at a time. */
  private readonly dirtyWords: Uint32Array | null;
  private snapshot: Snapshot | null = null;
  private readonly slice: TimeSlice;

  constructor(compiled: CoreCompiled, options: InstanceOptions) {
    this.options = options;
    this.slice = new TimeSlice(options.sliceMs, options.fuelQuantum);
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
    const { growFailedGlobal } = compiled.instrumented;
    this.growFailed = growFailedGlobal ? (exports[growFailedGlobal] as WebAssembly.Global) : null;
    this.globals = compiled.instrumented.globals.map((g) => exports[g.exportName] as WebAssembly.Global);
    const realloc = exports.cabi_realloc as Export;
    const { dirtyMemory } = compiled.instrumented;
    // The dirty map never grows (its maximum is its size), so views over its buffer stay valid.
    const dirtyBuffer = dirtyMemory ? (exports[dirtyMemory] as WebAssembly.Memory).buffer : null;
    this.dirty = dirtyBuffer ? new Uint8Array(dirtyBuffer) : null;
    this.dirtyWords = dirtyBuffer ? new Uint32Array(dirtyBuffer) : null;
    this.memory = new GuestMemory(exports.memory as WebAssembly.Memory, (a, b, c, d) => this.unsuspendable(() => realloc(a, b, c, d)), this.dirty);
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
    // During initialisation a guest may log (e.g. why it aborts), but has no request to
    // make host calls for.
    this.slot.ctx = initContext(output);
    try {
      if (this.hasInitialize) {
        const init = this.exports._initialize as () => void;
        this.unsuspendable(() => init());
      }
    } finally {
      this.wasi.endCall();
      this.slot.ctx = null;
    }
    if (!this.options.reuse) {
      const memory = this.memory.u8().slice();
      this.snapshot = { memory, globals: this.globals.map((g) => g.value), zeroPages: this.dirty ? zeroPages(memory) : null };
    }
    // Everything _initialize wrote is in the snapshot: from here on a mark means "differs".
    // Only the entries of the memory's pages: the rest of the map (1 MiB for 4 GiB) was
    // never written and, untouched, costs no RAM.
    this.dirty?.fill(0, 0, this.memory.size / PAGE);
  }

  /** Bytes of memory the snapshot holds (0 in reuse mode, which takes none). */
  get snapshotBytes(): number {
    return this.snapshot?.memory.length ?? 0;
  }

  /** Whether this instance restores only written pages. */
  get tracksDirtyPages(): boolean {
    return this.dirty !== null;
  }

  /** Pages marked written since the last reset (-1 without dirty tracking); for benchmarks and diagnostics. */
  dirtyPageCount(): number {
    if (!this.dirty) return -1;
    const pages = this.memory.size / PAGE;
    let count = 0;
    for (let page = 0; page < pages; page++) count += this.dirty[page]!;
    return count;
  }

  /** True while a promising call into the guest is running (and may be suspended). */
  private inGuest = false;

  /**
   * Calls into the guest with enough fuel that it never needs to suspend. Between calls
   * the fuel is already that high (enterGuest leaves it so), so only calls made while
   * the guest is running — cabi_realloc for a host call's results — save and restore it.
   */
  private unsuspendable<T>(call: () => T): T {
    if (!this.fuel || !this.inGuest) return call();
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
    return this.slice.next(now);
  }

  private begin(ctx: CallContext): void {
    this.uses++;
    this.slot.ctx = ctx;
    // Cleared here, before the arguments are written (cabi_realloc may grow), and not
    // through the snapshot: the flag is not among the snapshotted globals, and reuse
    // mode restores nothing. A refusal the guest recovered from in an earlier call, or
    // during _initialize, must not turn this call's unrelated trap into memory_limit.
    if (this.growFailed) this.growFailed.value = 0;
    this.wasi.beginCall((stream, line) => ctx.log(stream === 'stdout' ? 'info' : 'warn', line, stream));
  }

  private end(): void {
    this.wasi.endCall();
    this.slot.ctx = null;
  }

  private async enterGuest(fn: (...args: number[]) => Promise<number>, args: number[]): Promise<number> {
    if (this.fuel) this.fuel.value = this.options.fuelQuantum;
    this.slice.begin();
    this.inGuest = true;
    let result: number;
    try {
      result = await fn(...args);
    } finally {
      this.inGuest = false;
      if (this.fuel) this.fuel.value = UNSUSPENDABLE_FUEL;
    }
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
   * Whether a memory.grow failed during this call (the instrumented wrapper sets the
   * flag): a trap after that is the guest's reaction to running out of memory
   * (allocators trap or abort when the grow they need is refused), whatever size the
   * memory had — a single allocation far above the limit fails while memory is small.
   * No guess from the memory size: the guest's memory.grow is the only way its memory
   * grows (the host never grows it), and a genuine trap near the limit is a trap.
   */
  nearMemoryLimit(): boolean {
    return this.growFailed !== null && this.growFailed.value === 1;
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
    if (this.dirty) this.restoreDirtyPages(bytes, snapshot);
    else bytes.set(snapshot.memory);
    for (let i = 0; i < this.globals.length; i++) this.globals[i]!.value = snapshot.globals[i];
    return true;
  }

  /**
   * Copies back the pages marked in the dirty map and clears their marks. Runs of
   * neighbouring pages are restored with one copy; pages that are all zeros in the
   * snapshot with a fill, which only writes. Marks past the snapshot's end cannot be
   * left by a healthy call: the guest marks before it stores, a store past the end
   * traps, and a trapped instance is discarded, not reset.
   */
  private restoreDirtyPages(bytes: Uint8Array, snapshot: Snapshot): void {
    const dirty = this.dirty!;
    const words = this.dirtyWords!;
    const zero = snapshot.zeroPages!;
    const source = snapshot.memory;
    const pages = bytes.length / PAGE;
    let page = 0;
    while (page < pages) {
      if ((page & 3) === 0 && words[page >>> 2] === 0) {
        page += 4;
        continue;
      }
      if (dirty[page] === 0) {
        page++;
        continue;
      }
      const isZero = zero[page];
      let end = page + 1;
      while (end < pages && dirty[end] !== 0 && zero[end] === isZero) end++;
      const from = page * PAGE;
      const to = end * PAGE;
      if (isZero) bytes.fill(0, from, to);
      else bytes.set(source.subarray(from, to), from);
      dirty.fill(0, page, end);
      page = end;
    }
  }
}

/** One byte per page of `memory`: 1 when the page is all zeros. */
function zeroPages(memory: Uint8Array): Uint8Array {
  const pages = memory.length / PAGE;
  const zero = new Uint8Array(pages);
  const view = Buffer.from(memory.buffer, memory.byteOffset, memory.byteLength);
  for (let page = 0; page < pages; page++) {
    if (view.subarray(page * PAGE, (page + 1) * PAGE).equals(ZERO_PAGE)) zero[page] = 1;
  }
  return zero;
}
