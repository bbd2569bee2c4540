import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, eventually, rejectsWith, text, unique } from '../contract-kit.ts';
import { redisSettings } from '../redis.ts';
import { deleteKeys, startPrivateRedis, type PrivateRedis } from '../redis.test-support.ts';
import { RedisPubSub } from './redis.ts';
import { pubsubContract } from './contract.test-kit.ts';
import { describeWithService } from '../../test/support/services.ts';

describeWithService('redis', 'redis streams pubsub backend', (redis) => {
  const url = redis.url;
  const prefix = `${unique('l8-test')}:`;
  afterAll(() => deleteKeys(url, prefix));

  pubsubContract('redis streams', async () => new RedisPubSub(redisSettings({ url, keyPrefix: prefix }, 'test', 'unused'), { redeliverMs: 20 }));

  describe('redis streams pubsub', () => {
    let broker: RedisPubSub;
    beforeAll(async () => {
      broker = new RedisPubSub(redisSettings({ url, keyPrefix: prefix }, 'test', 'unused'), { redeliverMs: 20, claimIdleMs: 300, maxLen: 50 });
      await broker.init();
    });
    afterAll(async () => broker?.close());

    it('claims the messages a crashed member of the group read but never acknowledged', async () => {
      const topic = unique('crashed');
      const stream = prefix + topic;
      const raw = new Redis(url);
      try {
        await raw.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
        const ids = [await broker.publish(topic, bytes('one')), await broker.publish(topic, bytes('two'))];
        // A member reads both, then dies without acknowledging.
        await raw.xreadgroup('GROUP', 'g', 'crashed-member', 'COUNT', 10, 'STREAMS', stream, '>');
        const received: string[] = [];
        const sub = await broker.subscribe(topic, 'g', async (m) => void received.push(m.id));
        try {
          await eventually(() => expect(received).toEqual(ids), 5000);
          await eventually(async () => expect((await raw.xpending(stream, 'g'))[0]).toBe(0), 2000);
        } finally {
          await sub.close();
        }
      } finally {
        raw.disconnect();
      }
    });

    it('shares the messages of one group between its members, each message once', async () => {
      const topic = unique('members');
      const a: string[] = [];
      const b: string[] = [];
      const subA = await broker.subscribe(topic, 'g', async (m) => void a.push(m.id));
      const subB = await broker.subscribe(topic, 'g', async (m) => void b.push(m.id));
      try {
        const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => broker.publish(topic, bytes(String(i)))));
        await eventually(() => expect([...a, ...b].sort()).toEqual([...ids].sort()), 5000);
      } finally {
        await subA.close();
        await subB.close();
      }
    });

    it('trims each stream to about maxLen entries', async () => {
      const topic = unique('trim');
      for (let i = 0; i < 500; i++) await broker.publish(topic, bytes(String(i)));
      const raw = new Redis(url);
      const length = await raw.xlen(prefix + topic);
      raw.disconnect();
      // MAXLEN ~ trims whole macro nodes (100 entries by default), never below maxLen.
      expect(length).toBeGreaterThanOrEqual(50);
      expect(length).toBeLessThan(500);
    });
  });

  describe('redis streams pubsub under faults', () => {
    let server: PrivateRedis;
    let broker: RedisPubSub;
    beforeAll(async () => {
      server = await startPrivateRedis();
      broker = new RedisPubSub(redisSettings({ url: server.url, commandTimeoutMs: 500, connectTimeoutMs: 500 }, 'test', 'fault:'), { redeliverMs: 20, blockMs: 500 });
      await broker.init();
    });
    afterAll(async () => {
      await broker?.close();
      await server?.dispose();
    });

    it('fails publishes fast while Redis is down, reports DOWN, and delivers again once it is back', async () => {
      const received: string[] = [];
      const sub = await broker.subscribe('orders', 'g', async (m) => void received.push(text(m.data)!));
      try {
        await broker.publish('orders', bytes('before'));
        await eventually(() => expect(received).toEqual(['before']), 5000);

        await server.kill();
        const started = Date.now();
        const error = await rejectsWith(broker.publish('orders', bytes('lost')), 'unavailable');
        expect(Date.now() - started).toBeLessThan(600);
        expect(error.message).toContain(server.url);
        await eventually(async () => expect((await broker.health()).status).toBe('DOWN'), 3000);

        await server.start();
        const back = Date.now();
        // The private server keeps no data: the group is recreated and new messages flow.
        await eventually(() => broker.publish('orders', bytes('after')), 5000, 50);
        await eventually(() => expect(received).toContain('after'), 5000, 50);
        expect(Date.now() - back).toBeLessThan(6000);
        await eventually(async () => expect(await broker.health()).toEqual({ status: 'UP' }), 3000);
      } finally {
        await sub.close();
      }
    });
  });
});
