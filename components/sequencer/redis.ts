// Ids from Redis: INCR on `<keyPrefix><key>`, atomic on the server, so every runtime on
// the same server and prefix draws from one sequence. Counters never expire. Ids are read
// as strings and returned as bigint: Redis counts to 2^63-1, beyond JavaScript numbers.
import type { ComponentHealth } from '../errors.ts';
import { ComponentError } from '../errors.ts';
import { RedisConnection, redisSettingsFor, type RedisSettings } from '../redis.ts';
import type { Sequencer } from './contract.ts';

export class RedisSequencer implements Sequencer {
  readonly kind = 'redis';
  private readonly connection: RedisConnection;
  private readonly prefix: string;

  constructor(settings: RedisSettings) {
    this.connection = new RedisConnection(settings, 'redis sequencer', { connectionName: 'l8-sequencer', stringNumbers: true });
    this.prefix = settings.keyPrefix;
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

  async nextId(key: string): Promise<bigint> {
    if (!key) throw new ComponentError('invalid', 'sequencer key must not be empty');
    const reply = await this.connection.run(`next id for "${key}"`, (c) => c.incr(this.prefix + key));
    return BigInt(reply);
  }
}

/** Builds the backend from a runtime config spec (`components.sequencer.<name>`, type redis). */
export function redisSequencerFromSpec(name: string, spec: Record<string, unknown>): RedisSequencer {
  return new RedisSequencer(redisSettingsFor('sequencer', name, spec));
}
