// State in process memory: fast, gone at exit. For tests, caches and single-process dev.
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { DeleteOptions, SetOptions, StateItem, StateOperation, StateStore } from './contract.ts';

interface Entry {
  value: Uint8Array;
  etag: number;
  expiresAt: number | null;
}

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  readonly features = { etag: true, ttl: true, transactions: true };
  private readonly entries = new Map<string, Entry>();
  private nextEtag = 1;
  private sweeper: NodeJS.Timeout | null = null;

  async init(): Promise<void> {
    this.sweeper = setInterval(() => this.sweep(), 10_000).unref();
  }

  async health(): Promise<ComponentHealth> {
    return { status: 'UP' };
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.entries.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.entries.delete(key);
    }
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private checkEtag(key: string, etag: string | undefined): void {
    if (etag === undefined) return;
    const entry = this.live(key);
    if (!entry || String(entry.etag) !== etag) {
      throw new ComponentError('conflict', `ETag mismatch for key "${key}": expected ${etag}, current ${entry ? entry.etag : 'none (key missing)'}; read the key again and retry`);
    }
  }

  private write(key: string, value: Uint8Array, options?: SetOptions): string {
    const etag = this.nextEtag++;
    const ttl = options?.ttlSeconds;
    this.entries.set(key, { value: value.slice(), etag, expiresAt: ttl ? Date.now() + ttl * 1000 : null });
    return String(etag);
  }

  async get(key: string): Promise<StateItem | null> {
    const entry = this.live(key);
    return entry ? { value: entry.value.slice(), etag: String(entry.etag) } : null;
  }

  async set(key: string, value: Uint8Array, options?: SetOptions): Promise<string> {
    this.checkEtag(key, options?.etag);
    return this.write(key, value, options);
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.checkEtag(key, options?.etag);
    this.entries.delete(key);
  }

  async bulkGet(keys: string[]): Promise<Array<StateItem | null>> {
    return Promise.all(keys.map((k) => this.get(k)));
  }

  async bulkSet(items: Array<{ key: string; value: Uint8Array; options?: SetOptions }>): Promise<string[]> {
    const etags: string[] = [];
    for (const item of items) etags.push(await this.set(item.key, item.value, item.options));
    return etags;
  }

  async transact(operations: StateOperation[]): Promise<void> {
    // Check every precondition first; then apply. Nothing awaits in between.
    for (const op of operations) this.checkEtag(op.key, op.options?.etag);
    for (const op of operations) {
      if (op.op === 'set') this.write(op.key, op.value, op.options);
      else this.entries.delete(op.key);
    }
  }
}
