// Locks in Redis, shared by every runtime on the same server and key prefix. A lock is a
// key `<keyPrefix><resource>` holding its owner, with the lease as the key's expiry:
// SET NX PX takes it; unlock and keepalive compare the owner and act in one Lua script,
// so a lock that expired and was taken by someone else is never released or extended by
// its previous owner.
import type { Redis } from 'ioredis';
import type { ComponentHealth } from '../errors.ts';
import { RedisConnection, redisSettingsFor, type RedisSettings } from '../redis.ts';
import { checkLockArguments, type LockStore, type UnlockStatus } from './contract.ts';

// Returns 1 released, 0 missing, -1 held by someone else.
const UNLOCK_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if not owner then return 0 end
if owner ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
return 1
`;

// Returns 1 extended, 0 not held by this owner.
const KEEPALIVE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

interface ScriptedRedis extends Redis {
  l8Unlock(key: string, owner: string): Promise<number>;
  l8KeepAlive(key: string, owner: string, ms: number): Promise<number>;
}

const leaseMs = (seconds: number) => Math.max(1, Math.ceil(seconds * 1000));

export class RedisLockStore implements LockStore {
  readonly kind = 'redis';
  private readonly connection: RedisConnection;
  private readonly prefix: string;

  constructor(settings: RedisSettings) {
    this.connection = new RedisConnection(settings, 'redis lock store', { connectionName: 'l8-lock' });
    this.prefix = settings.keyPrefix;
    this.connection.client.defineCommand('l8Unlock', { numberOfKeys: 1, lua: UNLOCK_SCRIPT });
    this.connection.client.defineCommand('l8KeepAlive', { numberOfKeys: 1, lua: KEEPALIVE_SCRIPT });
  }

  private get client(): ScriptedRedis {
    return this.connection.client as ScriptedRedis;
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

  async tryLock(resourceId: string, owner: string, expireSeconds: number): Promise<boolean> {
    checkLockArguments(resourceId, owner, expireSeconds);
    const reply = await this.connection.run(`lock "${resourceId}"`, (c) => c.set(this.prefix + resourceId, owner, 'PX', leaseMs(expireSeconds), 'NX'));
    return reply === 'OK';
  }

  async unlock(resourceId: string, owner: string): Promise<UnlockStatus> {
    const reply = await this.connection.run(`unlock "${resourceId}"`, () => this.client.l8Unlock(this.prefix + resourceId, owner));
    return reply === 1 ? 'success' : reply === 0 ? 'lock-does-not-exist' : 'lock-belongs-to-others';
  }

  async keepAlive(resourceId: string, owner: string, expireSeconds: number): Promise<boolean> {
    checkLockArguments(resourceId, owner, expireSeconds);
    const reply = await this.connection.run(`keep lock "${resourceId}" alive`, () => this.client.l8KeepAlive(this.prefix + resourceId, owner, leaseMs(expireSeconds)));
    return reply === 1;
  }
}

/** Builds the backend from a runtime config spec (`components.lock.<name>`, type redis). */
export function redisLockFromSpec(name: string, spec: Record<string, unknown>): RedisLockStore {
  return new RedisLockStore(redisSettingsFor('lock', name, spec));
}
