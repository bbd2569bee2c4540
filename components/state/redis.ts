// State in Redis, shared by every runtime that points at the same server and key prefix.
// Each key is a hash { data, etag } under `<keyPrefix><key>`. Writes run as Lua scripts,
// so an ETag check and the write it guards are one atomic step on the server, and a
// transaction checks every ETag before it applies any write.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import { asBuffer, RedisConnection, redisSettingsFor, type RedisSettings } from '../redis.ts';
import type { DeleteOptions, SetOptions, StateItem, StateOperation, StateStore } from './contract.ts';

// KEYS[1] key. ARGV: value, new etag, expected etag ('' = none), ttl ms ('0' = none).
// Returns {1} or {0, current etag ('' when the key is missing)}.
const SET_SCRIPT = `
if ARGV[3] ~= '' then
  local current = redis.call('HGET', KEYS[1], 'etag')
  if current ~= ARGV[3] then return {0, current or ''} end
end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'etag', ARGV[2])
if ARGV[4] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) else redis.call('PERSIST', KEYS[1]) end
return {1}
`;

// KEYS[1] key. ARGV: expected etag. Returns {1} or {0, current etag}.
const DELETE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'etag')
if current ~= ARGV[1] then return {0, current or ''} end
redis.call('DEL', KEYS[1])
return {1}
`;

// KEYS: one per operation. ARGV: five per operation: kind ('s' or 'd'), expected etag
// ('' = none), new etag, ttl ms ('0' = none), value. Checks every expected ETag before
// writing anything. Returns {1} or {0, index of the failing operation (1-based), current}.
const TRANSACT_SCRIPT = `
for i = 1, #KEYS do
  local expected = ARGV[(i - 1) * 5 + 2]
  if expected ~= '' then
    local current = redis.call('HGET', KEYS[i], 'etag')
    if current ~= expected then return {0, i, current or ''} end
  end
end
for i = 1, #KEYS do
  local base = (i - 1) * 5
  if ARGV[base + 1] == 's' then
    redis.call('HSET', KEYS[i], 'data', ARGV[base + 5], 'etag', ARGV[base + 3])
    if ARGV[base + 4] ~= '0' then redis.call('PEXPIRE', KEYS[i], ARGV[base + 4]) else redis.call('PERSIST', KEYS[i]) end
  else
    redis.call('DEL', KEYS[i])
  end
end
return {1}
`;

type ScriptReply = [number, ...Array<string | number>];

interface ScriptedRedis extends Redis {
  l8StateSet(key: string, value: Buffer, etag: string, expected: string, ttlMs: string): Promise<ScriptReply>;
  l8StateDelete(key: string, expected: string): Promise<ScriptReply>;
  l8StateTransact(...args: Array<string | Buffer | number>): Promise<ScriptReply>;
}

function conflict(key: string, expected: string, current: string | number | undefined): ComponentError {
  const now = current === '' || current === undefined ? 'none (key missing)' : String(current);
  return new ComponentError('conflict', `ETag mismatch for key "${key}": expected ${expected}, current ${now}; read the key again and retry with its current ETag`);
}

function ttlMs(key: string, options: SetOptions | undefined): string {
  const ttl = options?.ttlSeconds;
  if (ttl === undefined || ttl === 0) return '0';
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
    throw new ComponentError('invalid', `TTL for key "${key}" must be a positive number of seconds, got ${String(ttl)}`);
  }
  return String(Math.max(1, Math.ceil(ttl * 1000)));
}

export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  readonly features = { etag: true, ttl: true, transactions: true };
  private readonly connection: RedisConnection;
  private readonly prefix: string;
  /** ETags are this process's random tag plus a counter: unique without a server round trip. */
  private readonly etagTag = randomBytes(6).toString('base64url');
  private etagCounter = 0;

  constructor(settings: RedisSettings) {
    this.connection = new RedisConnection(settings, 'redis state store', { connectionName: 'l8-state' });
    this.prefix = settings.keyPrefix;
    this.client.defineCommand('l8StateSet', { numberOfKeys: 1, lua: SET_SCRIPT });
    this.client.defineCommand('l8StateDelete', { numberOfKeys: 1, lua: DELETE_SCRIPT });
    this.client.defineCommand('l8StateTransact', { lua: TRANSACT_SCRIPT });
  }

  private get client(): ScriptedRedis {
    return this.connection.client as ScriptedRedis;
  }

  private nextEtag(): string {
    this.etagCounter += 1;
    return `${this.etagTag}.${this.etagCounter.toString(36)}`;
  }

  async init(): Promise<void> {
    await this.connection.connect();
  }

  async health(): Promise<ComponentHealth> {
    return this.connection.health();
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  async get(key: string): Promise<StateItem | null> {
    const [data, etag] = await this.connection.run(`get "${key}"`, (c) => c.hmgetBuffer(this.prefix + key, 'data', 'etag'));
    return data && etag ? { value: new Uint8Array(data), etag: etag.toString() } : null;
  }

  async set(key: string, value: Uint8Array, options?: SetOptions): Promise<string> {
    const etag = this.nextEtag();
    const ttl = ttlMs(key, options);
    const reply = await this.connection.run(`set "${key}"`, () =>
      this.client.l8StateSet(this.prefix + key, asBuffer(value), etag, options?.etag ?? '', ttl),
    );
    if (reply[0] !== 1) throw conflict(key, options?.etag ?? '', reply[1]);
    return etag;
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    if (options?.etag === undefined) {
      await this.connection.run(`delete "${key}"`, (c) => c.del(this.prefix + key));
      return;
    }
    const expected = options.etag;
    const reply = await this.connection.run(`delete "${key}"`, () => this.client.l8StateDelete(this.prefix + key, expected));
    if (reply[0] !== 1) throw conflict(key, expected, reply[1]);
  }

  async bulkGet(keys: string[]): Promise<Array<StateItem | null>> {
    if (keys.length === 0) return [];
    const results = await this.connection.run(`bulk get of ${keys.length} keys`, (c) => {
      const pipeline = c.pipeline();
      for (const key of keys) pipeline.hmgetBuffer(this.prefix + key, 'data', 'etag');
      return pipeline.exec();
    });
    return keys.map((key, i) => {
      const [error, reply] = results?.[i] ?? [new Error('no reply')];
      if (error) throw this.connection.error(error, `bulk get of "${key}"`);
      const [data, etag] = reply as [Buffer | null, Buffer | null];
      return data && etag ? { value: new Uint8Array(data), etag: etag.toString() } : null;
    });
  }

  /**
   * Writes every item in one round trip. Not atomic (use transact for that): items whose
   * ETag matches are written even when another item's ETag does not, and the first
   * conflict is then reported.
   */
  async bulkSet(items: Array<{ key: string; value: Uint8Array; options?: SetOptions }>): Promise<string[]> {
    if (items.length === 0) return [];
    const prepared = items.map((item) => ({ ...item, etag: this.nextEtag(), ttl: ttlMs(item.key, item.options) }));
    const results = await this.connection.run(`bulk set of ${items.length} keys`, (c) => {
      const pipeline = c.pipeline() as unknown as { l8StateSet(...args: unknown[]): unknown; exec(): Promise<Array<[Error | null, unknown]> | null> };
      for (const item of prepared) pipeline.l8StateSet(this.prefix + item.key, asBuffer(item.value), item.etag, item.options?.etag ?? '', item.ttl);
      return pipeline.exec();
    });
    const conflicts: string[] = [];
    let firstConflict: ComponentError | null = null;
    prepared.forEach((item, i) => {
      const [error, reply] = results?.[i] ?? [new Error('no reply')];
      if (error) throw this.connection.error(error, `bulk set of "${item.key}"`);
      const r = reply as ScriptReply;
      if (r[0] !== 1) {
        conflicts.push(item.key);
        firstConflict ??= conflict(item.key, item.options?.etag ?? '', r[1]);
      }
    });
    if (firstConflict) {
      const others = conflicts.length > 1 ? ` (${conflicts.length} keys conflicted: ${conflicts.join(', ')}; the other items were written)` : ' (the other items were written)';
      throw new ComponentError('conflict', (firstConflict as ComponentError).message + others);
    }
    return prepared.map((item) => item.etag);
  }

  async transact(operations: StateOperation[]): Promise<void> {
    if (operations.length === 0) return;
    const keys: string[] = [];
    const args: Array<string | Buffer> = [];
    for (const op of operations) {
      keys.push(this.prefix + op.key);
      if (op.op === 'set') args.push('s', op.options?.etag ?? '', this.nextEtag(), ttlMs(op.key, op.options), asBuffer(op.value));
      else if (op.op === 'delete') args.push('d', op.options?.etag ?? '', '', '0', '');
      else throw new ComponentError('invalid', `unknown transaction operation ${JSON.stringify((op as { op: unknown }).op)}; use "set" or "delete"`);
    }
    const reply = await this.connection.run(`transaction of ${operations.length} operations`, () =>
      this.client.l8StateTransact(keys.length, ...keys, ...args),
    );
    if (reply[0] !== 1) {
      const op = operations[Number(reply[1]) - 1]!;
      const error = conflict(op.key, op.options?.etag ?? '', reply[2]);
      throw new ComponentError('conflict', `${error.message} (transaction not applied: no operation was written)`);
    }
  }
}

/** Builds the backend from a runtime config spec (`components.state.<name>`, type redis). */
export function redisStateFromSpec(name: string, spec: Record<string, unknown>): RedisStateStore {
  return new RedisStateStore(redisSettingsFor('state', name, spec));
}
