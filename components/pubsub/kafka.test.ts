import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, eventually, rejectsWith, text, unique } from '../contract-kit.ts';
import { startPrivateKafka, type PrivateKafka } from '../kafka.test-support.ts';
import { pubsubContract } from './contract.test-kit.ts';
import { KafkaPubSub, kafkaPubSubFromSpec } from './kafka.ts';
import { describeWithService } from '../../test/support/services.ts';

describeWithService('kafka', 'kafka pubsub backend', (kafkaService) => {
  const brokers = kafkaService.brokers;

  pubsubContract('kafka', async () => new KafkaPubSub({ brokers, redeliverMs: 20, logLevel: 'error' }), { deliveryTimeoutMs: 30_000 });

  describe('kafka pubsub', () => {
    it('spreads keyed messages over the partitions it created, keeping each key on one partition', async () => {
      const broker = new KafkaPubSub({ brokers, partitions: 3, logLevel: 'error' });
      await broker.init();
      try {
        const topic = unique('partitions');
        const byKey = new Map<string, Set<string>>();
        for (let i = 0; i < 60; i++) {
          const key = `k${i % 6}`;
          const id = await broker.publish(topic, bytes(String(i)), { partitionKey: key });
          const partition = id.split('-').at(-2)!;
          if (!byKey.has(key)) byKey.set(key, new Set());
          byKey.get(key)!.add(partition);
        }
        for (const partitions of byKey.values()) expect(partitions.size).toBe(1);
        expect(new Set([...byKey.values()].flatMap((p) => [...p])).size).toBeGreaterThan(1);
      } finally {
        await broker.close();
      }
    });

    it('turns concurrent publishes into batches and gives each its own offset', async () => {
      const broker = new KafkaPubSub({ brokers, logLevel: 'error' });
      await broker.init();
      try {
        const topic = unique('concurrent');
        const ids = await Promise.all(Array.from({ length: 500 }, (_, i) => broker.publish(topic, bytes(String(i)))));
        expect(new Set(ids).size).toBe(500);
        const offsets = ids.map((id) => Number(id.split('-').at(-1))).sort((a, b) => a - b);
        expect(offsets).toEqual(Array.from({ length: 500 }, (_, i) => i));
        const received = new Map<string, string>();
        const sub = await broker.subscribe(topic, unique('g'), async (m) => void received.set(m.id, text(m.data)!));
        await sub.close();
        // The group started at the end: nothing published before subscribe() is replayed.
        expect(received.size).toBe(0);
      } finally {
        await broker.close();
      }
    });

    it('refuses topic names Kafka cannot hold, and fails init naming the brokers it could not reach', async () => {
      const broker = new KafkaPubSub({ brokers, logLevel: 'error' });
      await broker.init();
      await rejectsWith(broker.publish('has space', bytes('x')), 'invalid');
      // Too large for the broker: refused at once, not retried until the publish timeout.
      const started = Date.now();
      const tooLarge = await rejectsWith(broker.publish(unique('large'), new Uint8Array(2 * 1024 * 1024)), 'invalid');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(tooLarge.message).toMatch(/larger than the max message size/);
      // The producer works on after a refused message.
      expect(await broker.publish(unique('after-large'), bytes('ok'))).toMatch(/-0-0$/);
      await broker.close();
      const unreachable = new KafkaPubSub({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 300, logLevel: 'nothing' });
      const error = await rejectsWith(unreachable.init(), 'unavailable');
      expect(error.message).toContain('127.0.0.1:1');
    });

    it('reads its options from a runtime config spec', () => {
      const broker = kafkaPubSubFromSpec('events', { type: 'kafka', brokers: 'a:9092, b:9092', partitions: '6', replicationFactor: -1, logLevel: 'error' });
      expect(broker.options).toMatchObject({ brokers: ['a:9092', 'b:9092'], partitions: 6, replicationFactor: -1, logLevel: 'error' });
      expect(() => kafkaPubSubFromSpec('events', { type: 'kafka', brokers: 'nohostport' })).toThrow(/"brokers" must list host:port/);
      expect(() => kafkaPubSubFromSpec('events', { type: 'kafka', sasl: { mechanism: 'plain', username: 'u' } })).toThrow(/needs "username" and "password"/);
    });
  });

  describe('kafka pubsub across a broker restart', () => {
    let kafka: PrivateKafka;
    let broker: KafkaPubSub;
    beforeAll(async () => {
      kafka = await startPrivateKafka();
      broker = new KafkaPubSub({ brokers: kafka.brokers, partitions: 2, publishTimeoutMs: 60_000, logLevel: 'nothing', redeliverMs: 20 });
      await broker.init();
    }, 240_000);
    afterAll(async () => {
      await broker?.close();
      await kafka?.dispose();
    }, 120_000);

    it('delivers every acknowledged message at least once while the broker restarts under load', async () => {
      const topic = unique('restart');
      const delivered = new Map<string, number>();
      const sub = await broker.subscribe(topic, 'survivors', async (m) => {
        delivered.set(text(m.data)!, (delivered.get(text(m.data)!) ?? 0) + 1);
      });
      const acknowledged = new Set<string>();
      let failed = 0;
      const failures = new Set<string>();
      let sequence = 0;
      let publishing = true;
      const publisher = async () => {
        while (publishing) {
          const body = `m-${sequence++}`;
          try {
            await broker.publish(topic, bytes(body), { partitionKey: String(sequence % 7) });
            acknowledged.add(body);
          } catch (error) {
            failed += 1;
            failures.add((error as Error).message);
          }
        }
      };
      const publishers = Array.from({ length: 4 }, publisher);
      await eventually(() => expect(acknowledged.size).toBeGreaterThan(200), 30_000);
      const beforeRestart = acknowledged.size;
      await kafka.restart();
      const afterRestart = acknowledged.size;
      // Keep publishing until the restarted broker has confirmed a good number more.
      await eventually(() => expect(acknowledged.size).toBeGreaterThan(afterRestart + 200), 60_000);
      publishing = false;
      await Promise.all(publishers);

      await eventually(() => {
        const missing = [...acknowledged].filter((body) => !delivered.has(body));
        expect(missing, `${missing.length} acknowledged messages not delivered, e.g. ${missing.slice(0, 5).join(', ')}`).toEqual([]);
      }, 90_000, 200);
      await sub.close();
      const duplicates = [...delivered.values()].filter((n) => n > 1).length;
      console.log(
        `kafka restart: ${acknowledged.size} publishes acknowledged (${beforeRestart} before the restart began), ${failed} failed and were not counted; ` +
          `${delivered.size} distinct messages delivered, ${duplicates} more than once${failures.size ? `; publish errors: ${[...failures].join(' | ')}` : ''}`,
      );
      expect(acknowledged.size).toBeGreaterThan(afterRestart);
    }, 300_000);
  });
});
