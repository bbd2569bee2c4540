// Config values from a YAML or JSON file, reloaded when the file changes, so a new value
// reaches running functions without a restart. A file that fails to parse keeps the last
// good values in force and is reported in health.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { ConfigListener, ConfigStore } from './contract.ts';
import { ConfigValues, flatten } from './values.ts';

export interface FileConfigOptions {
  path: string;
  /** Debounce for bursts of file events (editors write several times). */
  reloadDelayMs?: number;
}

export class FileConfigStore implements ConfigStore {
  readonly kind = 'file';
  readonly writable = true;
  private readonly values = new ConfigValues();
  private readonly options: FileConfigOptions;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private onReload: ((error: string | null) => void) | null = null;

  constructor(options: FileConfigOptions) {
    this.options = options;
  }

  async init(): Promise<void> {
    try {
      await this.load();
    } catch (error) {
      throw new ComponentError('unavailable', `config file ${this.options.path}: ${(error as Error).message}`, { cause: error });
    }
    // Watch the directory, not the file: editors and `mv` replace the file's inode.
    const name = basename(this.options.path);
    this.watcher = watch(dirname(this.options.path), (_event, file) => {
      if (file !== null && file !== name) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), this.options.reloadDelayMs ?? 50);
    });
    this.watcher.unref();
  }

  private async load(): Promise<void> {
    const text = await readFile(this.options.path, 'utf8');
    const parsed = text.trim() === '' ? {} : (parse(text) as unknown);
    this.values.replace(flatten(parsed, `config file ${this.options.path}`));
  }

  private async reload(): Promise<void> {
    try {
      await this.load();
      this.lastError = null;
    } catch (error) {
      this.lastError = `last reload failed (${(error as Error).message}); the previous values stay in force`;
    }
    this.onReload?.(this.lastError);
  }

  /** Test hook: called after each reload attempt with its error, if any. */
  afterReload(callback: (error: string | null) => void): void {
    this.onReload = callback;
  }

  async health(): Promise<ComponentHealth> {
    return this.lastError ? { status: 'UP', reason: this.lastError } : { status: 'UP' };
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
  }

  get(key: string): string | null {
    return this.values.get(key);
  }
  entries(): Map<string, string> {
    return this.values.entries();
  }
  watch(listener: ConfigListener): () => void {
    return this.values.watch(listener);
  }

  /** Writes through to the file; the watcher then reloads it. */
  async set(items: Record<string, string>): Promise<void> {
    const next = this.values.entries();
    for (const [key, value] of Object.entries(items)) next.set(key, value);
    await this.persist(next);
  }

  async delete(keys: string[]): Promise<void> {
    const next = this.values.entries();
    for (const key of keys) next.delete(key);
    await this.persist(next);
  }

  private async persist(next: Map<string, string>): Promise<void> {
    await writeFile(this.options.path, stringify(Object.fromEntries(next)));
    this.values.replace(next);
  }
}
