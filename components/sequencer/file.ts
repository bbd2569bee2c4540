// Ids persisted in the data directory (SQLite), so they keep increasing across restarts.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { Sequencer } from './contract.ts';

export class FileSequencer implements Sequencer {
  readonly kind = 'file';
  private db: DatabaseSync | null = null;
  private next!: StatementSync;
  private readonly path: string;

  constructor(options: { path: string }) {
    this.path = options.path;
  }

  async init(): Promise<void> {
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const db = new DatabaseSync(this.path);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      db.exec('CREATE TABLE IF NOT EXISTS sequences (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
      this.next = db.prepare(
        'INSERT INTO sequences (key, value) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET value = sequences.value + 1 RETURNING value',
      );
      this.next.setReadBigInts(true);
      this.db = db;
    } catch (error) {
      throw new ComponentError('unavailable', `cannot open sequencer file ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  async health(): Promise<ComponentHealth> {
    return this.db ? { status: 'UP' } : { status: 'DOWN', reason: `sequencer file ${this.path} is not open` };
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
  }

  async nextId(key: string): Promise<bigint> {
    if (!key) throw new ComponentError('invalid', 'sequencer key must not be empty');
    if (!this.db) throw new ComponentError('unavailable', `sequencer file ${this.path} is closed`);
    const row = this.next.get(key) as { value: bigint };
    return row.value;
  }
}
