import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, eventually, rejectsWith, text, unique } from '../contract-kit.ts';
import { redisSettings, redisSettingsFor } from '../redis.ts';
import { deleteKeys, startPrivateRedis, type PrivateRedis } from '../redis.test-support.ts';
import { RedisStateStore } from './redis.ts';
import { stateContract } from './contract.test-kit.ts';
import { describeWithService } from '../../test/support/services.ts';

describeWithService('redis', 'redis state backend', (redis) => {
  const url = redis.url;
  const prefix = `${unique('l8-test')}:`;
  const store = (spec: Record<string, unknown>) => new RedisStateStore(redisSettings({ url, keyPrefix: prefix, ...spec }, 'test', 'unused'));

  // Keys without a TTL would stay in the shared server after the run.
  afterAll(() => deleteKeys(url, prefix));

  stateContract('redis', async () => store({}), { shared: true });

  describe('redis state store', () => {
    it('keeps its data under its key prefix, apart from other prefixes', async () => {
      const a = store({ keyPrefix: `${prefix}a:` });
      const b = store({ keyPrefix: `${prefix}b:` });
      await a.init();
      await b.init();
      try {
        await a.set('same-key', bytes('from a'));
        expect(await b.get('same-key')).toBeNull();
        const raw = new Redis(url);
        expect((await raw.hgetBuffer(`${prefix}a:same-key`, 'data'))?.toString()).toBe('from a');
        raw.disconnect();
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('fails init with a message naming the URL (without its password) when Redis is unreachable', async () => {
      const unreachable = new RedisStateStore(redisSettings({ url: 'redis://:s3cret@127.0.0.1:1', connectTimeoutMs: 500 }, 'test', 'p:'));
      const started = Date.now();
      const error = await rejectsWith(unreachable.init(), 'unavailable');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(error.message).toContain('redis://:***@127.0.0.1:1');
      expect(error.message).not.toContain('s3cret');
      await unreachable.close();
    });

    it('rejects bad connection settings with a message saying what is expected', () => {
      expect(() => redisSettings({ url: 'http://x' }, 'components.state.cache', 'p:')).toThrow(/components\.state\.cache: "url" must look like redis:\/\//);
      expect(() => redisSettings({ commandTimeoutMs: -1 }, 'components.state.cache', 'p:')).toThrow(/"commandTimeoutMs" must be at least 1/);
      expect(() => redisSettings({ db: 'one' }, 'components.state.cache', 'p:')).toThrow(/"db" must be a number/);
      expect(() => redisSettingsFor('state', 'cache', { type: 'redis', keyprefix: 'x' })).toThrow(/components\.state\.cache: unknown option "keyprefix" \(known: url, .*keyPrefix\)/);
    });

    it('reads numbers given as strings (from environment references) and derives the key prefix from the name', () => {
      const settings = redisSettingsFor('state', 'cache', { type: 'redis', url: 'redis://h:1/2', commandTimeoutMs: '750', db: '3', password: 'pw' });
      expect(settings).toEqual({ url: 'redis://h:1/2', commandTimeoutMs: 750, connectTimeoutMs: 2000, db: 3, password: 'pw', keyPrefix: 'l8:state:cache:' });
    });
  });

  describe('redis state store under faults', () => {
    let server: PrivateRedis;
    let faulty: RedisStateStore;

    beforeAll(async () => {
      server = await startPrivateRedis();
      faulty = new RedisStateStore(redisSettings({ url: server.url, commandTimeoutMs: 500, connectTimeoutMs: 500 }, 'test', 'fault:'));
      await faulty.init();
    });
    afterAll(async () => {
      await faulty?.close();
      await server?.dispose();
    });

    it('fails fast with "unavailable" while Redis is down, and recovers within 5 s of its return', async () => {
      await faulty.set('k', bytes('before'));
      await server.kill();

      // Every call fails quickly instead of queueing until Redis returns.
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const error = await rejectsWith(faulty.get('k'), 'unavailable');
        expect(Date.now() - started).toBeLessThan(600);
        expect(error.message).toContain(server.url);
        await rejectsWith(faulty.set('k', bytes('during')), 'unavailable');
      }
      const health = await faulty.health();
      expect(health.status).toBe('DOWN');
      expect(health.reason).toContain(server.url);

      await server.start();
      const back = Date.now();
      // The private server starts empty (no persistence): a write then a read proves recovery.
      await eventually(async () => {
        await faulty.set('k', bytes('after'));
        expect(text((await faulty.get('k'))?.value)).toBe('after');
      }, 5000, 50);
      expect(Date.now() - back).toBeLessThan(5000);
      expect(await faulty.health()).toEqual({ status: 'UP' });
    });

    it('times a call out with "unavailable" when Redis hangs, and recovers when it answers again', async () => {
      await faulty.set('h', bytes('x'));
      server.pause();
      try {
        const started = Date.now();
        const error = await rejectsWith(faulty.get('h'), 'unavailable');
        const took = Date.now() - started;
        expect(took).toBeGreaterThanOrEqual(400);
        expect(took).toBeLessThan(1500);
        expect(error.message).toMatch(/timed out/i);
      } finally {
        server.resume();
      }
      await eventually(async () => expect(text((await faulty.get('h'))?.value)).toBe('x'), 5000, 50);
    });
  });
});
