// The configuration building block. Reads are synchronous (every store keeps the
// current values in memory) because functions read config in the middle of a request;
// changes are pushed to watchers, which is how live reload reaches functions and apps.
import type { Component } from '../errors.ts';

export interface ConfigChange {
  key: string;
  /** null when the key was deleted. */
  value: string | null;
}

export type ConfigListener = (changes: ConfigChange[]) => void;

export interface ConfigStore extends Component {
  readonly writable: boolean;
  get(key: string): string | null;
  /** All current values. */
  entries(): Map<string, string>;
  /** Calls `listener` after every change; returns the function that stops it. */
  watch(listener: ConfigListener): () => void;
  /** Writable stores only. */
  set(items: Record<string, string>): Promise<void>;
  delete(keys: string[]): Promise<void>;
}
