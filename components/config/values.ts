// The part every config store shares: the in-memory values and change notification.
import { ComponentError } from '../errors.ts';
import type { ConfigChange, ConfigListener } from './contract.ts';

export class ConfigValues {
  private values = new Map<string, string>();
  private readonly listeners = new Set<ConfigListener>();

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  entries(): Map<string, string> {
    return new Map(this.values);
  }

  watch(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces all values and notifies watchers of what changed. */
  replace(next: Map<string, string>): ConfigChange[] {
    const changes: ConfigChange[] = [];
    for (const [key, value] of next) if (this.values.get(key) !== value) changes.push({ key, value });
    for (const key of this.values.keys()) if (!next.has(key)) changes.push({ key, value: null });
    this.values = next;
    if (changes.length) for (const listener of this.listeners) listener(changes);
    return changes;
  }

  update(changes: ConfigChange[]): void {
    const next = new Map(this.values);
    for (const { key, value } of changes) {
      if (value === null) next.delete(key);
      else next.set(key, value);
    }
    this.replace(next);
  }
}

/** Flattens nested objects into dotted keys: { db: { host: x } } -> "db.host" = "x". */
export function flatten(input: unknown, where: string, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (input === null || input === undefined) return out;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ComponentError('invalid', `${where}: expected a map of keys to values`);
  }
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value, where, name, out);
    else if (Array.isArray(value)) out.set(name, JSON.stringify(value));
    else out.set(name, String(value));
  }
  return out;
}
