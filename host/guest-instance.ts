// What every module form (L8 core modules, proxy-wasm modules, components) provides to
// the rest of the host: a compiled function that makes instances, and instances that
// serve calls and can be put back to their fresh state. The pool, limits and error
// mapping in LoadedFunction work the same for all forms.
import type { CallContext, GuestMessage, GuestRequest, GuestResponse } from './call-context.ts';

/**
 * What a function may reach besides its capabilities, from its manifest. Used by forms
 * that give guests WASI 0.2 (components); core modules have no filesystem, environment
 * or outgoing HTTP.
 */
export interface Sandbox {
  /** The environment variables the guest sees: the function's config literals, nothing of the host's. */
  env: Record<string, string>;
  /** Host directories preopened for the guest. */
  files: ReadonlyArray<{ host: string; guest: string; readOnly: boolean }>;
  /** Allowed destinations of outgoing HTTP (functions/outbound-hosts.ts). */
  outboundHosts: readonly string[];
}

export const EMPTY_SANDBOX: Sandbox = { env: {}, files: [], outboundHosts: [] };

export interface InstanceOptions {
  /** Keep guest state between calls instead of restoring the snapshot. */
  reuse: boolean;
  /** Loop iterations between interruption checks. */
  fuelQuantum: number;
  /** A guest that runs longer than this without waiting lets other requests run. */
  sliceMs: number;
  /** The function's sandbox grants (EMPTY_SANDBOX when absent). */
  sandbox?: Sandbox;
}

/** Output of a guest before any request (during initialisation). */
export type InitOutput = (stream: 'stdout' | 'stderr', line: string) => void;

export interface GuestInstance {
  /** Calls served by this instance. */
  uses: number;
  handleHttp(ctx: CallContext, request: GuestRequest): Promise<GuestResponse>;
  /** Resolves to null when the subscriber succeeded, or to its error text. */
  deliver(ctx: CallContext, message: GuestMessage): Promise<string | null>;
  /** Puts the instance back to its fresh state; false when impossible (then it is discarded). */
  reset(): boolean;
  /** Whether a trap now most likely means the guest ran out of memory. */
  nearMemoryLimit(): boolean;
  readonly memoryBytes: number;
}

export interface CompiledFunction {
  /** Which module form this is, e.g. "l8-core", "proxy-wasm", "component". */
  form: string;
  sha256: string;
  /** Size of the deployed bytes. */
  size: number;
  /** Milliseconds spent checking, transforming and compiling. */
  compileMillis: number;
  hasHttpHandler: boolean;
  hasSubscriber: boolean;
  memoryLimitPages: number;
  /** Makes one initialised instance (its fresh-state snapshot taken). */
  instantiate(options: InstanceOptions, initOutput: InitOutput): GuestInstance | Promise<GuestInstance>;
}

export interface CompileOptions {
  maxMemoryPages: number;
  sha256: string;
  /** A folder where a form may cache expensive artefacts by sha256 (e.g. transpiled components). */
  cacheDir?: string;
  /** The bytes passed the form's check already (registry modules are checked at upload). */
  validated?: boolean;
}

/** A binary format L8 can run. Forms are tried in registration order, newest first. */
export interface ModuleForm {
  name: string;
  /** Cheap check of the bytes (header, exports) — true if this form should handle them. */
  accepts(bytes: Uint8Array): boolean;
  /** Checks the module against this form's contract without compiling it fully; throws L8Error('invalid_module'). */
  check(bytes: Uint8Array): void | Promise<void>;
  compile(bytes: Uint8Array, options: CompileOptions): CompiledFunction | Promise<CompiledFunction>;
}
