// The state building block: one interface every backend implements (memory, file,
// redis, pluggable), checked by one contract test kit (contract.test-kit.ts).
import type { Component } from '../errors.ts';

export interface StateItem {
  value: Uint8Array;
  /** Opaque version of the value; changes on every write. */
  etag: string;
}

export interface SetOptions {
  /** Write only if the current ETag matches (optimistic concurrency); conflict otherwise. */
  etag?: string;
  /** Expire the key after this many seconds. */
  ttlSeconds?: number;
}

export interface DeleteOptions {
  etag?: string;
}

export interface StateFeatures {
  etag: boolean;
  ttl: boolean;
  /** Multi-key transactions (all writes apply or none). */
  transactions: boolean;
}

export type StateOperation =
  | { op: 'set'; key: string; value: Uint8Array; options?: SetOptions }
  | { op: 'delete'; key: string; options?: DeleteOptions };

export interface StateStore extends Component {
  readonly features: StateFeatures;
  /** null when the key does not exist (an empty value is a value). */
  get(key: string): Promise<StateItem | null>;
  /** Returns the new ETag. Throws ComponentError('conflict') on an ETag mismatch. */
  set(key: string, value: Uint8Array, options?: SetOptions): Promise<string>;
  /** Deleting a missing key succeeds (unless an ETag was given). */
  delete(key: string, options?: DeleteOptions): Promise<void>;
  bulkGet(keys: string[]): Promise<Array<StateItem | null>>;
  bulkSet(items: Array<{ key: string; value: Uint8Array; options?: SetOptions }>): Promise<string[]>;
  /** Applies all operations or none (only when features.transactions). */
  transact(operations: StateOperation[]): Promise<void>;
}
