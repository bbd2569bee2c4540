// One instance of a proxy-wasm function. It starts like a proxy-wasm host starts a plugin
// (_initialize/_start, Layotto's proxy_get_id, the root context, proxy_on_vm_start,
// proxy_on_configure), takes a snapshot of memory and globals, and serves each request as
// one HTTP stream context: proxy_on_context_create, proxy_on_request_headers/body/trailers,
// then proxy_on_done, proxy_on_log and proxy_on_delete. The response is what the guest
// put in the response headers and body buffer, or what it sent with
// proxy_send_local_response. reset() puts the snapshot back, so the next request sees a
// freshly started plugin (unless the function asked for reuse).
//
// Every guest entry point is called through WebAssembly.promising, so the host functions
// that wait for I/O (Layotto's proxy_get_state and proxy_invoke_service, the interruption
// check) can suspend the guest without blocking the event loop. The guest's allocator is
// the only guest code the host calls from inside a host function; it runs with enough fuel
// that it never reaches the (suspending) interruption check.
import type { CallContext, GuestMessage, GuestRequest, GuestResponse } from '../call-context.ts';
import { CallCancelled, CapabilityError } from '../call-context.ts';
import { L8Error } from '../errors.ts';
import type { GuestInstance, InitOutput, InstanceOptions } from '../guest-instance.ts';
import { AbiViolation, GuestMemory, type Fields } from '../guest-memory.ts';
import { ProcExit, WASI_MODULE, WasiPreview1 } from '../wasi-preview1.ts';
import { Action, BufferType, IMPLEMENTED, LOG_LEVEL_NAMES, MapType, ROOT_CONTEXT_ID, Status } from './abi.ts';
import { HeaderMap, MapFormatError, parseFields } from './fields.ts';
import type { ProxyWasmCompiled } from './form.ts';
import { FunctionIdError, functionNameForId } from './function-id.ts';
import { TimeSlice, parkForever } from '../time-slice.ts';

/** Fuel for guest code the host runs from inside a host function (the allocator); see CoreInstance. */
const UNSUSPENDABLE_FUEL = 50_000_000;

/** How long a plugin's start (_start, proxy_on_vm_start, proxy_on_configure, ...) may run. */
export const STARTUP_TIMEOUT_MS = 10_000;

/** Request trailers, when the caller has them (the Layotto listener passes them along). */
export type ProxyWasmRequest = GuestRequest & { trailers?: Fields };

const textDecoder = new TextDecoder();
const lenientText = (bytes: Uint8Array) => textDecoder.decode(bytes);

/** A growable byte buffer a guest edits with proxy_set_buffer_bytes. */
class Buffer8 {
  data: Uint8Array;
  constructor(data: Uint8Array = new Uint8Array(0)) {
    this.data = data;
  }
  /** Replaces `size` bytes at `start` with `value` (start past the end appends). */
  replace(start: number, size: number, value: Uint8Array): void {
    const length = this.data.length;
    const from = Math.min(start, length);
    const to = Math.min(length, from + size);
    const next = new Uint8Array(from + value.length + (length - to));
    next.set(this.data.subarray(0, from), 0);
    next.set(value, from);
    next.set(this.data.subarray(to), from + value.length);
    this.data = next;
  }
}

/** One HTTP request being handled: what the guest can read and what it answers. */
interface Stream {
  ctx: CallContext;
  contextId: number;
  request: ProxyWasmRequest;
  requestHeaders: HeaderMap;
  requestTrailers: HeaderMap;
  requestBody: Buffer8;
  responseHeaders: HeaderMap;
  responseTrailers: HeaderMap;
  responseBody: Buffer8;
  local: GuestResponse | null;
}

/** The guest's start ran longer than STARTUP_TIMEOUT_MS. */
export class StartupTimeout extends Error {
  constructor() {
    super(`its start (_start/_initialize, proxy_get_id, proxy_on_vm_start, proxy_on_configure) ran longer than ${STARTUP_TIMEOUT_MS} ms and was stopped`);
    this.name = 'StartupTimeout';
  }
}

type GuestExport = (...args: number[]) => unknown;
type Promising = (...args: number[]) => Promise<unknown>;

export class ProxyWasmInstance implements GuestInstance {
  uses = 0;
  /** The id the guest reported through proxy_get_id (CallData), or null. */
  proxyId: string | null = null;
  private readonly compiled: ProxyWasmCompiled;
  private readonly options: InstanceOptions;
  private readonly wasi = new WasiPreview1();
  private readonly memory: GuestMemory;
  private readonly exports: Record<string, unknown>;
  private readonly promising = new Map<string, Promising>();
  private readonly fuel: WebAssembly.Global | null;
  /** Set by the instrumented memory.grow when a grow failed: the next trap is out-of-memory. */
  private readonly growFailed: WebAssembly.Global | null;
  private readonly globals: WebAssembly.Global[];
  private readonly memoryLimitBytes: number;
  private readonly allocator: GuestExport;
  private stream: Stream | null = null;
  private initOutput: InitOutput = () => {};
  private startupDeadline = 0;
  private readonly callData = new Buffer8();
  private snapshot: { memory: Uint8Array; globals: unknown[]; callData: Uint8Array } | null = null;
  private readonly slice: TimeSlice;
  private nextContextId = ROOT_CONTEXT_ID + 1;

  constructor(compiled: ProxyWasmCompiled, options: InstanceOptions) {
    this.compiled = compiled;
    this.options = options;
    this.slice = new TimeSlice(options.sliceMs, options.fuelQuantum);
    this.memoryLimitBytes = compiled.instrumented.memory.maximumPages * 65536;
    const instance = new WebAssembly.Instance(compiled.module, this.link());
    const exports = instance.exports as Record<string, unknown>;
    this.exports = exports;
    this.fuel = compiled.instrumented.fuelGlobal ? (exports[compiled.instrumented.fuelGlobal] as WebAssembly.Global) : null;
    const { growFailedGlobal } = compiled.instrumented;
    this.growFailed = growFailedGlobal ? (exports[growFailedGlobal] as WebAssembly.Global) : null;
    this.globals = compiled.instrumented.globals.map((g) => exports[g.exportName] as WebAssembly.Global);
    this.allocator = exports[compiled.checked.allocator] as GuestExport;
    this.memory = new GuestMemory(exports.memory as WebAssembly.Memory, (_oldPtr, _oldSize, _align, size) => this.allocate(size));
    this.wasi.bind(this.memory);
    for (const name of compiled.checked.callbacks) {
      if (name !== 'malloc' && name !== 'proxy_on_memory_allocate') {
        this.promising.set(name, WebAssembly.promising(exports[name] as GuestExport));
      }
    }
  }

  // ---- lifecycle ----------------------------------------------------------------

  /** Starts the plugin as a proxy-wasm host would, then takes the fresh-state snapshot. */
  async initialize(output: InitOutput): Promise<void> {
    this.initOutput = output;
    this.wasi.beginCall(output);
    this.startupDeadline = performance.now() + STARTUP_TIMEOUT_MS;
    const has = (name: string) => this.promising.has(name);
    try {
      if (has('_initialize')) {
        await this.enter('_initialize');
        if (has('main')) await this.enter('main', 0, 0);
      } else if (has('_start')) {
        try {
          await this.enter('_start');
        } catch (error) {
          // TinyGo's and AssemblyScript's WASI start may end with proc_exit(0): a finished start.
          if (!(error instanceof ProcExit && error.exitCode === 0)) throw error;
        }
      }
      if (has('proxy_get_id')) {
        await this.enter('proxy_get_id');
        const id = new TextDecoder().decode(this.callData.data);
        this.proxyId = id || null;
        this.callData.data = new Uint8Array(0);
      }
      if (has('proxy_on_context_create')) await this.enter('proxy_on_context_create', ROOT_CONTEXT_ID, 0);
      if (has('proxy_on_vm_start') && (await this.enter('proxy_on_vm_start', ROOT_CONTEXT_ID, 0)) === 0) {
        throw new Error('proxy_on_vm_start returned false: the plugin refused to start (see its log lines)');
      }
      if (has('proxy_on_configure') && (await this.enter('proxy_on_configure', ROOT_CONTEXT_ID, 0)) === 0) {
        throw new Error('proxy_on_configure returned false: the plugin rejected its (empty) configuration (see its log lines)');
      }
    } finally {
      this.wasi.endCall();
      this.initOutput = () => {};
    }
    if (!this.options.reuse) {
      this.snapshot = { memory: this.memory.u8().slice(), globals: this.globals.map((g) => g.value), callData: this.callData.data };
    }
  }

  reset(): boolean {
    if (this.options.reuse) return true;
    const snapshot = this.snapshot;
    if (!snapshot) return false;
    const bytes = this.memory.u8();
    if (bytes.length !== snapshot.memory.length) return false;
    bytes.set(snapshot.memory);
    for (let i = 0; i < this.globals.length; i++) this.globals[i]!.value = snapshot.globals[i];
    this.callData.data = snapshot.callData;
    this.nextContextId = ROOT_CONTEXT_ID + 1;
    return true;
  }

  nearMemoryLimit(): boolean {
    if (this.growFailed) return this.growFailed.value === 1;
    const slack = Math.max(2 << 20, this.memoryLimitBytes / 10);
    return this.memory.size + slack >= this.memoryLimitBytes;
  }

  get memoryBytes(): number {
    return this.memory.size;
  }

  // ---- calling the guest --------------------------------------------------------

  /** Runs a guest callback through JSPI with a fresh fuel quantum; resolves to its i32 result (0 when none). */
  private async enter(name: string, ...args: number[]): Promise<number> {
    const fn = this.promising.get(name);
    if (!fn) throw new Error(`internal: ${name} is not exported`);
    if (this.fuel) this.fuel.value = this.options.fuelQuantum;
    this.slice.begin();
    try {
      const result = await fn(...args);
      return typeof result === 'number' ? result >>> 0 : 0;
    } finally {
      if (this.fuel) this.fuel.value = UNSUSPENDABLE_FUEL;
    }
  }

  /** The injected loop check: stop a guest past its deadline, let others run every slice. */
  private interrupt(): number | Promise<number> {
    const now = performance.now();
    const stream = this.stream;
    if (stream) {
      if (stream.ctx.cancelled || now >= stream.ctx.deadline) {
        // The caller's deadline timer answers 504; the guest never runs again.
        stream.ctx.cancelled = true;
        return parkForever();
      }
    } else if (now >= this.startupDeadline) {
      throw new StartupTimeout();
    }
    return this.slice.next(now);
  }

  /** Calls the guest's allocator from inside a host function (never suspends). */
  private allocate(size: number): number {
    const saved = this.fuel ? (this.fuel.value as number) : 0;
    if (this.fuel) this.fuel.value = UNSUSPENDABLE_FUEL;
    let ptr: number;
    try {
      ptr = (this.allocator(size) as number) >>> 0;
    } finally {
      if (this.fuel) this.fuel.value = saved;
    }
    if (ptr === 0) throw new AbiViolation(`${this.compiled.checked.allocator}(${size}) returned 0: the guest could not allocate memory`);
    return ptr;
  }

  // ---- requests -----------------------------------------------------------------

  async handleHttp(ctx: CallContext, request: ProxyWasmRequest): Promise<GuestResponse> {
    this.uses++;
    const contextId = this.nextContextId++;
    const authority = request.headers.find(([k]) => k.toLowerCase() === 'host')?.[1] ?? 'localhost';
    const pathWithQuery = request.query ? `${request.path}?${request.query}` : request.path;
    // Layotto's rule: a request without a body hands its query string to the function as the body.
    const body = request.body.length > 0 || !request.query ? request.body : new TextEncoder().encode(request.query);
    const stream: Stream = {
      ctx,
      contextId,
      request,
      requestHeaders: new HeaderMap([[':method', request.method], [':path', pathWithQuery], [':authority', authority], [':scheme', 'http'], ...request.headers]),
      requestTrailers: new HeaderMap(request.trailers ?? []),
      requestBody: new Buffer8(body),
      responseHeaders: new HeaderMap(),
      responseTrailers: new HeaderMap(),
      responseBody: new Buffer8(),
      local: null,
    };
    this.stream = stream;
    if (this.growFailed) this.growFailed.value = 0;
    this.wasi.beginCall((s, line) => ctx.log(s === 'stdout' ? 'info' : 'warn', line, s));
    try {
      const has = (name: string) => this.promising.has(name);
      if (has('proxy_on_context_create')) await this.enter('proxy_on_context_create', contextId, ROOT_CONTEXT_ID);
      const hasBody = stream.requestBody.data.length > 0;
      const hasTrailers = stream.requestTrailers.fields.length > 0;
      // As in Envoy, a callback that pauses does not stop the next ones (the body still
      // arrives); the stream ends paused when the last callback called paused it. Only a
      // local response ends the request early.
      let paused: string | null = null;
      const step = async (callback: string, ...args: number[]) => {
        if (stream.local || !has(callback)) return;
        const action = await this.enter(callback, contextId, ...args);
        paused = action !== Action.Continue && !stream.local ? callback : null;
      };
      await step('proxy_on_request_headers', stream.requestHeaders.fields.length, hasBody || hasTrailers ? 0 : 1);
      if (hasBody) await step('proxy_on_request_body', stream.requestBody.data.length, hasTrailers ? 0 : 1);
      if (hasTrailers) await step('proxy_on_request_trailers', stream.requestTrailers.fields.length);
      await this.finishContext(contextId);
      if (stream.local) return stream.local;
      if (paused) {
        throw new L8Error(
          'bad_gateway',
          `function "${ctx.functionName}" paused the request in ${paused} without sending a response; L8 does not resume paused proxy-wasm streams, so return Continue or call proxy_send_local_response (its log lines may say why it paused)`,
        );
      }
      return this.response(stream);
    } finally {
      this.stream = null;
      this.wasi.endCall();
    }
  }

  /** proxy_on_done, then proxy_on_log and proxy_on_delete, as a host finishing a stream. */
  private async finishContext(contextId: number): Promise<void> {
    const has = (name: string) => this.promising.has(name);
    if (has('proxy_on_done') && (await this.enter('proxy_on_done', contextId)) === 0) {
      this.unimplemented('proxy_on_done returning false (deferred proxy_done)');
    }
    if (has('proxy_on_log')) await this.enter('proxy_on_log', contextId);
    if (has('proxy_on_delete')) await this.enter('proxy_on_delete', contextId);
  }

  private response(stream: Stream): GuestResponse {
    let status = 200;
    const given = stream.responseHeaders.get(':status');
    if (given !== undefined) {
      status = Number(given);
      if (!Number.isInteger(status) || status < 100 || status > 599) {
        throw new AbiViolation(`the function set response header ":status" to ${JSON.stringify(given)}; it must be an HTTP status from 100 to 599`);
      }
    }
    return {
      status,
      headers: stream.responseHeaders.fields.filter(([k]) => !k.startsWith(':')),
      body: stream.responseBody.data,
    };
  }

  deliver(_ctx: CallContext, _message: GuestMessage): Promise<string | null> {
    return Promise.reject(new AbiViolation('proxy-wasm functions have no message subscriber; they are HTTP functions'));
  }

  // ---- host functions -----------------------------------------------------------

  /** The import object: env (proxy-wasm + Layotto), WASI preview 1, and the interruption check. */
  private link(): WebAssembly.Imports {
    const env: Record<string, unknown> = {};
    const wasiNamespace: Record<string, unknown> = {};
    const wasi = this.wasi.imports();
    const hosts = this.hostFunctions();
    for (const imp of this.compiled.checked.imports) {
      if (imp.kind === 'wasi') {
        wasiNamespace[imp.name] = wasi[imp.name];
      } else if (imp.kind === 'host') {
        const fn = hosts[imp.name]!;
        env[imp.name] = IMPLEMENTED[imp.name]!.async ? new WebAssembly.Suspending(fn as (...args: number[]) => Promise<number>) : fn;
      } else if (imp.kind === 'toolchain') {
        env[imp.name] = this.toolchainFunction(imp.name);
      } else {
        const result = imp.signature.results[0];
        const unimplemented = result === 'i64' ? BigInt(Status.Unimplemented) : result === undefined ? undefined : Status.Unimplemented;
        env[imp.name] = () => {
          this.checkCancelled();
          this.unimplemented(imp.name);
          return unimplemented;
        };
      }
    }
    const imports: Record<string, Record<string, unknown>> = { env, [WASI_MODULE]: wasiNamespace };
    const interrupt = this.compiled.instrumented.interruptImport;
    if (interrupt) imports[interrupt.module] = { [interrupt.name]: new WebAssembly.Suspending(() => this.interrupt()) };
    return imports as WebAssembly.Imports;
  }

  /** Logs the first use of each unsupported host function by a function (not every call). */
  private unimplemented(what: string): void {
    if (this.compiled.unimplementedSeen.has(what)) return;
    this.compiled.unimplementedSeen.add(what);
    this.log('warn', `[l8] ${what} is not supported by L8's proxy-wasm host; the call answered Unimplemented (12). See docs/layotto.md`);
  }

  /** A line in the function's log (during a request) or in its start-up output. */
  private log(level: (typeof LOG_LEVEL_NAMES)[number], message: string, source: 'log' | 'stderr' = 'stderr'): void {
    const stream = this.stream;
    if (stream) stream.ctx.log(level, message, source);
    else this.initOutput(level === 'warn' || level === 'error' ? 'stderr' : 'stdout', message);
  }

  private checkCancelled(): void {
    if (this.stream?.ctx.cancelled) throw new CallCancelled();
  }

  /** Copies bytes into a fresh guest allocation and stores (pointer, size) at the two return pointers. */
  private writeResult(data: Uint8Array, ptrPtr: number, sizePtr: number): number {
    const m = this.memory;
    const [ptr, size] = data.length === 0 ? [0, 0] : m.writeBytes(data);
    m.writeU32(ptrPtr >>> 0, ptr);
    m.writeU32(sizePtr >>> 0, size);
    return Status.Ok;
  }

  /**
   * Wraps a host function: a guest pointer outside its memory (or a failed allocation)
   * answers InvalidMemoryAccess and is logged, as a proxy-wasm host would, instead of trapping.
   */
  private guarded<A extends number[]>(name: string, fn: (...args: A) => number): (...args: A) => number {
    return (...args: A) => {
      this.checkCancelled();
      try {
        return fn(...args);
      } catch (error) {
        if (error instanceof AbiViolation) {
          this.log('warn', `[l8] ${name}: ${error.message}`);
          return Status.InvalidMemoryAccess;
        }
        throw error;
      }
    };
  }

  private guardedAsync<A extends number[]>(name: string, fn: (...args: A) => Promise<number>): (...args: A) => Promise<number> {
    return async (...args: A) => {
      this.checkCancelled();
      try {
        return await fn(...args);
      } catch (error) {
        if (error instanceof AbiViolation) {
          this.log('warn', `[l8] ${name}: ${error.message}`);
          return Status.InvalidMemoryAccess;
        }
        throw error;
      }
    };
  }

  private buffer(type: number): Buffer8 | number {
    if (type === BufferType.CallData) return this.callData;
    if (type === BufferType.VmConfiguration || type === BufferType.PluginConfiguration) return new Buffer8();
    if (type > BufferType.CallData) return Status.BadArgument;
    const stream = this.stream;
    if (!stream) return Status.NotFound;
    if (type === BufferType.HttpRequestBody) return stream.requestBody;
    if (type === BufferType.HttpResponseBody) return stream.responseBody;
    return Status.NotFound; // TCP data, HTTP/gRPC call responses: not part of an L8 HTTP function
  }

  private headerMap(type: number): HeaderMap | number {
    if (type < 0 || type > MapType.HttpCallResponseTrailers) return Status.BadArgument;
    const stream = this.stream;
    if (!stream) return Status.NotFound;
    switch (type) {
      case MapType.HttpRequestHeaders:
        return stream.requestHeaders;
      case MapType.HttpRequestTrailers:
        return stream.requestTrailers;
      case MapType.HttpResponseHeaders:
        return stream.responseHeaders;
      case MapType.HttpResponseTrailers:
        return stream.responseTrailers;
      default:
        return Status.NotFound;
    }
  }

  private property(path: string): string | undefined {
    const stream = this.stream;
    switch (path) {
      case 'plugin_name':
      case 'plugin_vm_id':
        return stream?.ctx.functionName;
      case 'plugin_root_id':
        return '';
    }
    if (!stream) return undefined;
    const r = stream.request;
    switch (path) {
      case 'request.path':
        return r.query ? `${r.path}?${r.query}` : r.path;
      case 'request.url_path':
        return r.path;
      case 'request.query':
        return r.query;
      case 'request.method':
        return r.method;
      case 'request.host':
        return stream.requestHeaders.get(':authority');
      case 'request.scheme':
        return 'http';
      case 'request.protocol':
        return 'HTTP/1.1';
      case 'request.id':
        return stream.ctx.requestId;
      default:
        return undefined;
    }
  }

  private hostFunctions(): Record<string, (...args: number[]) => number | Promise<number>> {
    // The memory exists only after instantiation, which needs these functions: read it lazily.
    const mem = () => this.memory;
    const text = (ptr: number, len: number, what: string) => mem().readString(ptr, len, what);
    const bytes = (ptr: number, len: number, what: string) => mem().readBytes(ptr, len, what);
    return {
      proxy_log: this.guarded('proxy_log', (level, ptr, len) => {
        const name = LOG_LEVEL_NAMES[level];
        if (name === undefined) return Status.BadArgument;
        this.log(name, lenientText(bytes(ptr, len, 'log message')), 'log');
        return Status.Ok;
      }),
      proxy_get_log_level: this.guarded('proxy_get_log_level', (ptr) => {
        // L8 keeps every level in the function's log; readers filter.
        mem().writeU32(ptr >>> 0, 0);
        return Status.Ok;
      }),
      proxy_get_current_time_nanoseconds: this.guarded('proxy_get_current_time_nanoseconds', (ptr) => {
        const now = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
        mem().writeU32(ptr >>> 0, Number(now & 0xffffffffn));
        mem().writeU32((ptr >>> 0) + 4, Number(now >> 32n));
        return Status.Ok;
      }),
      proxy_set_effective_context: this.guarded('proxy_set_effective_context', (id) => {
        return id === ROOT_CONTEXT_ID || id === this.stream?.contextId ? Status.Ok : Status.BadArgument;
      }),
      proxy_done: this.guarded('proxy_done', () => Status.NotFound),
      proxy_get_configuration: this.guarded('proxy_get_configuration', (ptrPtr, sizePtr) => this.writeResult(new Uint8Array(0), ptrPtr, sizePtr)),
      proxy_get_buffer_bytes: this.guarded('proxy_get_buffer_bytes', (type, start, maxSize, ptrPtr, sizePtr) => {
        const buffer = this.buffer(type);
        if (typeof buffer === 'number') return buffer;
        const from = start >>> 0;
        if (from > buffer.data.length) return Status.BadArgument;
        const to = Math.min(buffer.data.length, from + (maxSize >>> 0));
        return this.writeResult(buffer.data.slice(from, to), ptrPtr, sizePtr);
      }),
      proxy_set_buffer_bytes: this.guarded('proxy_set_buffer_bytes', (type, start, size, ptr, len) => {
        if (type === BufferType.VmConfiguration || type === BufferType.PluginConfiguration) return Status.BadArgument;
        const buffer = this.buffer(type);
        if (typeof buffer === 'number') return buffer;
        buffer.replace(start >>> 0, size >>> 0, bytes(ptr, len, 'buffer data'));
        return Status.Ok;
      }),
      proxy_get_buffer_status: this.guarded('proxy_get_buffer_status', (type, sizePtr, flagsPtr) => {
        const buffer = this.buffer(type);
        if (typeof buffer === 'number') return buffer;
        mem().writeU32(sizePtr >>> 0, buffer.data.length);
        mem().writeU32(flagsPtr >>> 0, 0);
        return Status.Ok;
      }),
      proxy_get_header_map_size: this.guarded('proxy_get_header_map_size', (type, sizePtr) => {
        const map = this.headerMap(type);
        if (typeof map === 'number') return map;
        mem().writeU32(sizePtr >>> 0, map.serialized().length);
        return Status.Ok;
      }),
      proxy_get_header_map_pairs: this.guarded('proxy_get_header_map_pairs', (type, ptrPtr, sizePtr) => {
        const map = this.headerMap(type);
        if (typeof map === 'number') return map;
        return this.writeResult(map.serialized(), ptrPtr, sizePtr);
      }),
      proxy_set_header_map_pairs: this.guarded('proxy_set_header_map_pairs', (type, ptr, len) => {
        const map = this.headerMap(type);
        if (typeof map === 'number') return map;
        try {
          map.set(parseFields(bytes(ptr, len, 'serialized header map')));
        } catch (error) {
          if (!(error instanceof MapFormatError)) throw error;
          this.log('warn', `[l8] proxy_set_header_map_pairs: ${error.message}`);
          return Status.BadArgument;
        }
        return Status.Ok;
      }),
      proxy_get_header_map_value: this.guarded('proxy_get_header_map_value', (type, kp, kl, ptrPtr, sizePtr) => {
        const map = this.headerMap(type);
        if (typeof map === 'number') return map;
        const value = map.get(text(kp, kl, 'header name'));
        if (value === undefined) return Status.NotFound;
        return this.writeResult(new TextEncoder().encode(value), ptrPtr, sizePtr);
      }),
      proxy_add_header_map_value: this.guarded('proxy_add_header_map_value', (type, kp, kl, vp, vl) => {
        const map = this.headerMap(type);
        if (typeof map === 'number') return map;
        map.add(text(kp, kl, 'header name'), text(vp, vl, 'header value'));
        return Status.Ok;
      }),
      proxy_replace_header_map_value: this.guarded('proxy_replace_header_map_value', (type, kp, kl, vp, vl) => {
        const map = this.headerMap(type);
        if (typeof map === 'number') return map;
        map.replace(text(kp, kl, 'header name'), text(vp, vl, 'header value'));
        return Status.Ok;
      }),
      proxy_remove_header_map_value: this.guarded('proxy_remove_header_map_value', (type, kp, kl) => {
        const map = this.headerMap(type);
        if (typeof map === 'number') return map;
        map.remove(text(kp, kl, 'header name'));
        return Status.Ok;
      }),
      proxy_send_local_response: this.guarded('proxy_send_local_response', (status, _dp, _dl, bp, bl, hp, hl) => {
        const stream = this.stream;
        if (!stream) return Status.NotFound;
        if (status < 100 || status > 599) {
          this.log('warn', `[l8] proxy_send_local_response: ${status} is not an HTTP status (100-599)`);
          return Status.BadArgument;
        }
        let headers: Fields;
        try {
          headers = parseFields(bytes(hp, hl, 'serialized response headers'));
        } catch (error) {
          if (!(error instanceof MapFormatError)) throw error;
          this.log('warn', `[l8] proxy_send_local_response: ${error.message}`);
          return Status.BadArgument;
        }
        stream.local = { status, headers: headers.filter(([k]) => !k.startsWith(':')), body: bytes(bp, bl, 'response body') };
        return Status.Ok;
      }),
      proxy_get_property: this.guarded('proxy_get_property', (pp, pl, ptrPtr, sizePtr) => {
        // A property path is its segments separated by NUL bytes ("request\0path").
        const path = lenientText(bytes(pp, pl, 'property path')).split('\0').filter(Boolean).join('.');
        const value = this.property(path);
        if (value === undefined) return Status.NotFound;
        return this.writeResult(new TextEncoder().encode(value), ptrPtr, sizePtr);
      }),
      proxy_get_state: this.guardedAsync('proxy_get_state', async (sp, sl, kp, kl, ptrPtr, sizePtr) => {
        const store = text(sp, sl, 'state store name');
        const key = text(kp, kl, 'state key');
        const call = `proxy_get_state(${JSON.stringify(store)}, ${JSON.stringify(key)})`;
        const stream = this.stream;
        if (!stream) {
          this.log('warn', `[l8] ${call} was called during the plugin's start; state is available only while handling a request`);
          return Status.InternalFailure;
        }
        let value: Uint8Array | null;
        try {
          value = await stream.ctx.services.stateGet(stream.ctx, store, key);
        } catch (error) {
          if (error instanceof CallCancelled) throw error;
          this.log('warn', `[l8] ${call} failed: ${(error as Error).message}`);
          return Status.InternalFailure;
        }
        this.checkCancelled();
        // Layotto answers a missing key with an empty value, not an error.
        return this.writeResult(value ?? new Uint8Array(0), ptrPtr, sizePtr);
      }),
      proxy_invoke_service: this.guardedAsync('proxy_invoke_service', async (ip, il, mp, ml, pp, pl, ptrPtr, sizePtr) => {
        const id = text(ip, il, 'function id');
        const method = text(mp, ml, 'method');
        const param = bytes(pp, pl, 'parameter');
        const call = `proxy_invoke_service(${JSON.stringify(id)}, ${JSON.stringify(method)})`;
        const stream = this.stream;
        if (!stream) {
          this.log('warn', `[l8] ${call} was called during the plugin's start; invoking is possible only while handling a request`);
          return Status.InternalFailure;
        }
        let target: string;
        try {
          target = functionNameForId(id);
        } catch (error) {
          if (!(error instanceof FunctionIdError)) throw error;
          this.log('warn', `[l8] ${call} failed: ${error.message}`);
          return Status.InternalFailure;
        }
        // Layotto sends the method as the request URI of a GET, the parameter as its body,
        // and the target id in the "id" header.
        const q = method.indexOf('?');
        const rawPath = q === -1 ? method : method.slice(0, q);
        const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
        const query = q === -1 ? '' : method.slice(q + 1);
        let response: GuestResponse;
        try {
          response = await stream.ctx.services.invoke(stream.ctx, target, { method: 'GET', path, query, headers: [['id', id]], body: param });
        } catch (error) {
          if (error instanceof CallCancelled) throw error;
          const message = error instanceof CapabilityError ? `${error.code}: ${error.message}` : (error as Error).message;
          this.log('warn', `[l8] ${call} failed: ${message}`);
          return Status.InternalFailure;
        }
        this.checkCancelled();
        if (response.status !== 200) {
          const excerpt = lenientText(response.body.subarray(0, 300));
          this.log('warn', `[l8] ${call}: function "${target}" answered HTTP ${response.status} (${excerpt}); like Layotto, only 200 counts as success`);
          return Status.InternalFailure;
        }
        return this.writeResult(response.body, ptrPtr, sizePtr);
      }),
    };
  }

  /** AssemblyScript's and Emscripten's own imports from "env". */
  private toolchainFunction(name: string): (...args: number[]) => unknown {
    const asString = (ptr: number): string => {
      if (!ptr) return '';
      try {
        const length = this.memory.readU32((ptr >>> 0) - 4);
        return Buffer.from(this.memory.readBytes(ptr, length, 'AssemblyScript string')).toString('utf16le');
      } catch {
        return '(unreadable)';
      }
    };
    switch (name) {
      case 'abort':
        return (message, file, line, column) => {
          throw new WebAssembly.RuntimeError(`abort: ${asString(message!) || 'no message'} at ${asString(file!) || 'unknown file'}:${line}:${column}`);
        };
      case 'trace':
        return (message, count, ...values) => {
          this.log('info', `trace: ${asString(message!)}${count ? ` ${values.slice(0, count).join(', ')}` : ''}`, 'log');
        };
      case 'seed':
        return () => Math.random() * Number.MAX_SAFE_INTEGER;
      default:
        return () => {}; // emscripten_notify_memory_growth: GuestMemory notices growth itself
    }
  }
}
