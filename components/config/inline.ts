// Config values written in the runtime config file itself; writable at run time
// (changes are kept in memory only).
import type { ComponentHealth } from '../errors.ts';
import type { ConfigListener, ConfigStore } from './contract.ts';
import { ConfigValues, flatten } from './values.ts';

export class InlineConfigStore implements ConfigStore {
  readonly kind = 'inline';
  readonly writable = true;
  private readonly values = new ConfigValues();

  constructor(values: unknown) {
    this.values.replace(flatten(values, 'inline config values'));
  }

  async init(): Promise<void> {}
  async health(): Promise<ComponentHealth> {
    return { status: 'UP' };
  }
  async close(): Promise<void> {}

  get(key: string): string | null {
    return this.values.get(key);
  }
  entries(): Map<string, string> {
    return this.values.entries();
  }
  watch(listener: ConfigListener): () => void {
    return this.values.watch(listener);
  }
  async set(items: Record<string, string>): Promise<void> {
    this.values.update(Object.entries(items).map(([key, value]) => ({ key, value })));
  }
  async delete(keys: string[]): Promise<void> {
    this.values.update(keys.map((key) => ({ key, value: null })));
  }
}
