// The fault-test controls (stopRedis/startRedis, restartKafka) and up/down/status,
// exercised on a private set of servers: their own .services folder and free ports, so
// the shared servers other test files use at the same time are never stopped.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { down, readServicesEnv, redisPing, restartKafka, startKafka, startRedis, status, stopRedis, up } from './index.ts';
import { kafkaPid } from './kafka.ts';
import { redisPid } from './redis.ts';
import { freePort } from '../../test/support/free-port.ts';


const vars = ['L8_SERVICES_DIR', 'L8_REDIS_PORT', 'L8_KAFKA_PORT', 'L8_KAFKA_CONTROLLER_PORT'] as const;
const saved = Object.fromEntries(vars.map((v) => [v, process.env[v]]));
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'l8-services-test-'));
  process.env.L8_SERVICES_DIR = dir;
  process.env.L8_REDIS_PORT = String(await freePort());
  process.env.L8_KAFKA_PORT = String(await freePort());
  process.env.L8_KAFKA_CONTROLLER_PORT = String(await freePort());
});

afterAll(async () => {
  try {
    await down(['redis', 'kafka']);
  } finally {
    for (const v of vars) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('services on private ports', () => {
  test('up is idempotent and records the connection info; status reports healthy', async () => {
    const first = await up(['redis']);
    expect(first.map((r) => [r.service, r.ok, r.message])).toEqual([['redis', true, `redis://127.0.0.1:${process.env.L8_REDIS_PORT}`]]);
    const pid = redisPid();
    expect(pid).toBeGreaterThan(0);
    const second = await up(['redis']);
    expect(second[0]!.ok).toBe(true);
    expect(redisPid()).toBe(pid);
    expect(readServicesEnv().redis?.url).toBe(`redis://127.0.0.1:${process.env.L8_REDIS_PORT}`);
    expect(JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')).redis.port).toBe(Number(process.env.L8_REDIS_PORT));
    const [row] = await status(['redis']);
    expect(row).toMatchObject({ service: 'redis', healthy: true, pid });
  });

  test('up refuses a port another program holds, and says which variable moves it', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const saved = process.env.L8_KAFKA_PORT;
    try {
      process.env.L8_KAFKA_PORT = String((busy.address() as { port: number }).port);
      const [r] = await up(['kafka']);
      expect(r!.ok).toBe(false);
      expect(r!.message).toMatch(/port 127\.0\.0\.1:\d+ is already in use .*L8_KAFKA_PORT/);
    } finally {
      process.env.L8_KAFKA_PORT = saved;
      busy.close();
    }
  });

  test('stopRedis takes Redis away; startRedis brings it back on the same port with every acknowledged write', async () => {
    const { url, port } = await startRedis();
    const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    for (let i = 0; i < 200; i++) await client.set(`k${i}`, `v${i}`);
    await client.incrby('counter', 7);
    client.disconnect();

    expect(await stopRedis()).toBe(true);
    expect(redisPid()).toBeUndefined();
    await expect(redisPing(port)).rejects.toThrow(/ECONNREFUSED/);
    expect(await stopRedis()).toBe(false);

    const again = await startRedis();
    expect(again.port).toBe(port);
    const after = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      expect(await after.get('k0')).toBe('v0');
      expect(await after.get('k199')).toBe('v199');
      expect(await after.get('counter')).toBe('7');
      expect(await after.dbsize()).toBe(201);
    } finally {
      after.disconnect();
    }
  });

  test('restartKafka stops the broker and starts it on the same data: topics, messages and committed offsets survive', async () => {
    const env = await startKafka();
    const kafka = new kafkajs.Kafka({ clientId: 'services-fault-test', brokers: env.brokers, logLevel: kafkajs.logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', acks: -1, messages: [{ value: 'before-1' }, { value: 'before-2' }] });
    await producer.disconnect();
    await admin.setOffsets({ groupId: 'billing', topic: 'orders', partitions: [{ partition: 0, offset: '1' }] });
    await admin.disconnect();

    const pidBefore = kafkaPid();
    await restartKafka();
    const pidAfter = kafkaPid();
    expect(pidAfter).toBeGreaterThan(0);
    expect(pidAfter).not.toBe(pidBefore);

    const admin2 = kafka.admin();
    await admin2.connect();
    try {
      expect(await admin2.listTopics()).toContain('orders');
      const offsets = await admin2.fetchOffsets({ groupId: 'billing', topics: ['orders'] });
      expect(offsets[0]!.partitions[0]!.offset).toBe('1');
      const [partition] = await admin2.fetchTopicOffsets('orders');
      expect(partition!.high).toBe('2');
    } finally {
      await admin2.disconnect();
    }
    // The group resumes after its committed offset: only the second message is new to it.
    const consumer = kafka.consumer({ groupId: 'billing' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders' });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 20 s after the restart')), 20_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message.value!.toString());
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(first).toBe('before-2');
  }, 180_000);

  test('down stops everything it started', async () => {
    const results = await down(['redis', 'kafka']);
    expect(results.map((r) => [r.service, r.ok, r.message])).toEqual([
      ['redis', true, 'stopped'],
      ['kafka', true, 'stopped'],
    ]);
    expect(redisPid()).toBeUndefined();
    expect(kafkaPid()).toBeUndefined();
    const rows = await status(['redis', 'kafka']);
    expect(rows.map((r) => [r.service, r.healthy, r.detail])).toEqual([
      ['redis', false, 'not running'],
      ['kafka', false, 'not running'],
    ]);
  }, 60_000);
});
