// State persisted in the data directory (SQLite from node:sqlite, WAL mode): the
// embedded default, so a laptop keeps its state across restarts with no server.
// `sync: full` fsyncs every commit (survives power loss); the default `normal` survives
// a process crash, which is what a laptop needs.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { DeleteOptions, SetOptions, StateItem, StateOperation, StateStore } from './contract.ts';

export interface FileStateOptions {
  path: string;
  sync?: 'normal' | 'full';
}

export class FileStateStore implements StateStore {
  readonly kind = 'file';
  readonly features = { etag: true, ttl: true, transactions: true };
  private db: DatabaseSync | null = null;
  private statements!: {
    get: StatementSync;
    upsert: StatementSync;
    nextEtag: StatementSync;
    remove: StatementSync;
    expire: StatementSync;
  };
  private readonly options: FileStateOptions;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(options: FileStateOptions) {
    this.options = options;
  }

  async init(): Promise<void> {
    try {
      mkdirSync(dirname(this.options.path), { recursive: true });
      const db = new DatabaseSync(this.options.path);
      db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${this.options.sync === 'full' ? 'FULL' : 'NORMAL'}; PRAGMA busy_timeout = 5000;`);
      db.exec('CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL, etag INTEGER NOT NULL, expires_at INTEGER)');
      // ETags come from one counter for the whole file, not per key: a key that is deleted
      // and written again must not get back an ETag it had before (a writer holding the old
      // one would otherwise overwrite the new value). Seeded from existing rows on upgrade.
      db.exec('CREATE TABLE IF NOT EXISTS etag_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)');
      db.exec('INSERT OR IGNORE INTO etag_counter (id, value) SELECT 1, COALESCE(MAX(etag), 0) FROM state');
      this.db = db;
    } catch (error) {
      throw new ComponentError('unavailable', `cannot open state file ${this.options.path}: ${(error as Error).message}`, { cause: error });
    }
    const db = this.db;
    this.statements = {
      get: db.prepare('SELECT value, etag FROM state WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
      upsert: db.prepare(
        'INSERT INTO state (key, value, etag, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires_at = excluded.expires_at',
      ),
      nextEtag: db.prepare('UPDATE etag_counter SET value = value + 1 WHERE id = 1 RETURNING value'),
      remove: db.prepare('DELETE FROM state WHERE key = ?'),
      expire: db.prepare('DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    };
    this.sweeper = setInterval(() => this.statements.expire.run(Date.now()), 60_000).unref();
  }

  async health(): Promise<ComponentHealth> {
    if (!this.db) return { status: 'DOWN', reason: `state file ${this.options.path} is not open` };
    try {
      this.db.prepare('SELECT 1').get();
      return { status: 'UP' };
    } catch (error) {
      return { status: 'DOWN', reason: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.db?.close();
    this.db = null;
  }

  private open(): DatabaseSync {
    if (!this.db) throw new ComponentError('unavailable', `state file ${this.options.path} is closed`);
    return this.db;
  }

  private current(key: string): { value: Uint8Array; etag: number } | undefined {
    return this.statements.get.get(key, Date.now()) as { value: Uint8Array; etag: number } | undefined;
  }

  private checkEtag(key: string, etag: string | undefined): void {
    if (etag === undefined) return;
    const row = this.current(key);
    if (!row || String(row.etag) !== etag) {
      throw new ComponentError('conflict', `ETag mismatch for key "${key}": expected ${etag}, current ${row ? row.etag : 'none (key missing)'}; read the key again and retry`);
    }
  }

  /** Call inside atomically(): the counter bump and the write commit together. */
  private write(key: string, value: Uint8Array, options?: SetOptions): string {
    const expires = options?.ttlSeconds ? Date.now() + options.ttlSeconds * 1000 : null;
    const { value: etag } = this.statements.nextEtag.get() as { value: number };
    this.statements.upsert.run(key, value, etag, expires);
    return String(etag);
  }

  /** Runs `work` in one SQLite transaction. */
  private atomically<T>(work: () => T): T {
    const db = this.open();
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  private guard<T>(work: () => T): T {
    this.open();
    try {
      return work();
    } catch (error) {
      if (error instanceof ComponentError) throw error;
      throw new ComponentError('unavailable', `state file ${this.options.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  async get(key: string): Promise<StateItem | null> {
    return this.guard(() => {
      const row = this.current(key);
      return row ? { value: new Uint8Array(row.value), etag: String(row.etag) } : null;
    });
  }

  async set(key: string, value: Uint8Array, options?: SetOptions): Promise<string> {
    return this.guard(() =>
      this.atomically(() => {
        this.checkEtag(key, options?.etag);
        return this.write(key, value, options);
      }),
    );
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.guard(() =>
      this.atomically(() => {
        this.checkEtag(key, options?.etag);
        this.statements.remove.run(key);
      }),
    );
  }

  async bulkGet(keys: string[]): Promise<Array<StateItem | null>> {
    return Promise.all(keys.map((k) => this.get(k)));
  }

  async bulkSet(items: Array<{ key: string; value: Uint8Array; options?: SetOptions }>): Promise<string[]> {
    return this.guard(() =>
      this.atomically(() =>
        items.map((item) => {
          this.checkEtag(item.key, item.options?.etag);
          return this.write(item.key, item.value, item.options);
        }),
      ),
    );
  }

  async transact(operations: StateOperation[]): Promise<void> {
    this.guard(() =>
      this.atomically(() => {
        for (const op of operations) {
          this.checkEtag(op.key, op.options?.etag);
          if (op.op === 'set') this.write(op.key, op.value, op.options);
          else this.statements.remove.run(op.key);
        }
      }),
    );
  }
}
