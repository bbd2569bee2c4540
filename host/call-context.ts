// What the host knows about one guest call (Wasmtime would call it the store data):
// who is calling, until when, and the capability implementations granted to it.
import type { ErrorCode, LogLevel, UnlockStatus } from './abi.ts';
import type { Fields } from './guest-memory.ts';

export interface GuestRequest {
  method: string;
  path: string;
  query: string;
  headers: Fields;
  body: Uint8Array;
}

export interface GuestResponse {
  status: number;
  headers: Fields;
  body: Uint8Array;
}

export interface GuestMessage {
  id: string;
  broker: string;
  topic: string;
  data: Uint8Array;
  metadata: Fields;
}

/** A host call failed in a way the guest sees as `error { code, message }`. */
export class CapabilityError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'CapabilityError';
    this.code = code;
  }
}

/**
 * Capability implementations for one function, already bound to its manifest's grants.
 * Each method throws CapabilityError for anything the guest should see as an error.
 */
export interface HostServices {
  stateGet(ctx: CallContext, store: string, key: string): Promise<Uint8Array | null>;
  stateSet(ctx: CallContext, store: string, key: string, value: Uint8Array): Promise<void>;
  stateDelete(ctx: CallContext, store: string, key: string): Promise<void>;
  publish(ctx: CallContext, broker: string, topic: string, data: Uint8Array, metadata: Fields): Promise<string>;
  configGet(ctx: CallContext, key: string): string | null;
  invoke(ctx: CallContext, target: string, request: GuestRequest): Promise<GuestResponse>;
  /** ABI 0.2: true when the lock was taken. */
  tryLock(ctx: CallContext, store: string, resource: string, owner: string, expireSeconds: number): Promise<boolean>;
  unlock(ctx: CallContext, store: string, resource: string, owner: string): Promise<UnlockStatus>;
  keepAlive(ctx: CallContext, store: string, resource: string, owner: string, expireSeconds: number): Promise<boolean>;
  nextId(ctx: CallContext, store: string, key: string): Promise<bigint>;
}

/** Where a function's log line came from; 'runtime' is the host reporting on the call (e.g. a refused request). */
export type OutputSource = 'stdout' | 'stderr' | 'log' | 'runtime';

export interface CallContext {
  readonly requestId: string;
  readonly functionName: string;
  /** Deadline on the performance.now() clock. */
  readonly deadline: number;
  /** How many invoke hops led here (0 for a trigger). */
  readonly depth: number;
  readonly services: HostServices;
  /** A guest's log line (log import, stdout or stderr). */
  log(level: LogLevel, message: string, source: OutputSource): void;
  /** Set when the call was abandoned (timeout): the guest is unwound at its next host call. */
  cancelled: boolean;
  /** Counts host calls (for metrics): call is e.g. "state.get", outcome "ok" or an error code. */
  observeHostCall?(call: string, outcome: string): void;
}

/** Thrown into a guest whose request was abandoned, to unwind it at its next host call. */
export class CallCancelled extends Error {
  constructor() {
    super('the request was abandoned (timed out) while the function was waiting for a host call');
    this.name = 'CallCancelled';
  }
}
