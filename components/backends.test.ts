// The server backends as the runtime builds them: from the example runtime config, with
// ${ENV} references, through runtime/components.ts's factory table.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentSet } from '../runtime/components.ts';
import { loadRuntimeConfig } from '../runtime/config.ts';
import { bytes, eventually, text, unique } from './contract-kit.ts';
import { deleteKeys } from './redis.test-support.ts';
import { describeWithService } from '../test/support/services.ts';

const example = resolve(import.meta.dirname, '../examples/config/redis-kafka.yaml');

describeWithService('redis', 'server backends from the example config (redis)', (redis) => {
  describeWithService('kafka', 'server backends from the example config (kafka)', (kafka) => {
    describe('examples/config/redis-kafka.yaml', () => {
      const redisUrl = redis.url;
      const kafkaBrokers = kafka.brokers.join(',');
      let set: ComponentSet;
      beforeAll(async () => {
        const config = loadRuntimeConfig(example, {}, { L8_REDIS_URL: redisUrl, L8_KAFKA_BROKERS: kafkaBrokers, L8_KAFKA_PARTITIONS: '2' });
        set = await ComponentSet.start(config);
      });
      afterAll(async () => set?.close());

      it('builds redis state, lock and sequencer and kafka pubsub, all UP', async () => {
        const byId = Object.fromEntries((await set.status()).map((s) => [s.id, s]));
        expect(byId['state/default']).toMatchObject({ type: 'redis', health: { status: 'UP' } });
        expect(byId['pubsub/default']).toMatchObject({ type: 'kafka', health: { status: 'UP' } });
        expect(byId['lock/default']).toMatchObject({ type: 'redis', health: { status: 'UP' } });
        expect(byId['sequencer/default']).toMatchObject({ type: 'redis', health: { status: 'UP' } });
      });

      const key = unique('backends');
      // The sequencer's counter has no TTL: do not leave it in the shared server.
      afterAll(() => deleteKeys(redisUrl, `l8:sequencer:default:${key}`));

      it('serves every building block', async () => {
        const state = set.require('state', 'default');
        await state.set(key, bytes('v'));
        expect(text((await state.get(key))?.value)).toBe('v');
        await state.delete(key);

        const lock = set.require('lock', 'default');
        expect(await lock.tryLock(key, 'me', 5)).toBe(true);
        expect(await lock.unlock(key, 'me')).toBe('success');

        const sequencer = set.require('sequencer', 'default');
        const first = await sequencer.nextId(key);
        expect(await sequencer.nextId(key)).toBe(first + 1n);

        const pubsub = set.require('pubsub', 'default');
        const received: string[] = [];
        const subscription = await pubsub.subscribe(key, 'backends-test', async (m) => void received.push(text(m.data)!));
        const id = await pubsub.publish(key, bytes('hello'), { partitionKey: 'k' });
        expect(id).toMatch(new RegExp(`^${key}-[01]-0$`));
        await eventually(() => expect(received).toEqual(['hello']), 30_000);
        await subscription.close();
      });
    });
  });
});

describe('server backends in the runtime config', () => {
  it('fail to start naming the component and the unreachable URL', async () => {
    const config = loadRuntimeConfig(undefined, {}, {});
    config.components.state = { cache: { type: 'redis', url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 } };
    await expect(ComponentSet.start(config)).rejects.toThrow(/component state\/cache \(redis\) failed to start: .*redis:\/\/127\.0\.0\.1:1/);
  });

  it('refuse unknown options and bad values with the option named', async () => {
    const config = loadRuntimeConfig(undefined, {}, {});
    config.components.pubsub = { events: { type: 'kafka', brokers: '127.0.0.1:9092', partitons: 3 } };
    await expect(ComponentSet.start(config)).rejects.toThrow(/components\.pubsub\.events: unknown option "partitons"/);
    config.components.pubsub = { events: { type: 'redis', maxLen: 'lots' } };
    await expect(ComponentSet.start(config)).rejects.toThrow(/components\.pubsub\.events: "maxLen" must be a number/);
  });
});
