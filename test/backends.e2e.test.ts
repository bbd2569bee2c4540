// Issue "real backends", end to end through the runtime: the demo on Redis + Kafka with
// examples/config/redis-kafka.yaml, and the fault tests — Redis killed during a stream of
// requests, the Kafka broker restarted while messages flow, a subscriber that always fails.
// Fault tests use private servers (free ports) so the shared ones other files use stay up.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateKafka, type PrivateKafka } from '../components/kafka.test-support.ts';
import { startPrivateRedis, type PrivateRedis } from '../components/redis.test-support.ts';
import { ROOT, startRuntimeProcess, tempDataDir, type RuntimeProcess } from './support/runtime-process.ts';
import { describeWithService } from './support/services.ts';

const AS = (fn: string) => join(ROOT, 'examples/assemblyscript/build', `${fn}.wasm`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describeWithService('redis', 'the demo on Redis and Kafka (examples/config/redis-kafka.yaml)', (redis) => {
  describeWithService('kafka', 'with Kafka', (kafka) => {
    let runtime: RuntimeProcess;
    beforeAll(async () => {
      runtime = await startRuntimeProcess({
        args: ['--config', join(ROOT, 'examples/config/redis-kafka.yaml'), '--app', join(ROOT, 'examples/assemblyscript/l8.yaml')],
        env: { L8_REDIS_URL: redis.url, L8_KAFKA_BROKERS: kafka.brokers.join(','), L8_KAFKA_PARTITIONS: '1' },
        timeoutMs: 60_000,
      });
    });
    afterAll(() => runtime?.stop());

    it('gives the same answers as on embedded defaults', async () => {
      const count = String(1000 + Math.floor(Math.random() * 1000));
      const put = await fetch(`${runtime.httpUrl}/stock/book1`, { method: 'PUT', body: count });
      expect([put.status, await put.text()]).toEqual([200, count]);
      const id = put.headers.get('x-message-id')!;
      expect(id).toMatch(/^stock-changed-\d+-\d+$/); // a Kafka offset
      expect(await (await fetch(`${runtime.httpUrl}/inventory?name=book1`)).text()).toBe(`There are ${count} inventories for book1.`);
      const audit = await poll('the audit entry', 30_000, async () => {
        const text = await (await fetch(`${runtime.httpUrl}/audit`)).text();
        return text.includes(`${id} book1=${count}`) ? text : undefined;
      });
      expect(audit).toContain(`${id} book1=${count}`);
    });
  });
});

describeWithService('redis', 'Redis goes away during a stream of requests', () => {
  let redis: PrivateRedis;
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    redis = await startPrivateRedis(undefined, { durable: true });
    const dir = tempDataDir('l8-redis-fault-');
    writeFileSync(join(dir, 'runtime.yaml'), stringify({ components: { state: { default: { type: 'redis', url: redis.url, commandTimeoutMs: 1000, connectTimeoutMs: 500 } } } }));
    writeFileSync(join(dir, 'app.yaml'), stringify({ functions: { stock: { module: AS('stock'), routes: ['GET /stock/:name', 'PUT /stock/:name'], capabilities: { state: ['default'], publish: { default: ['stock-changed'] } } } } }));
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')] });
  });
  afterAll(async () => {
    await runtime?.stop();
    await redis?.dispose();
  });

  it('fails fast with 503, keeps serving, recovers within 5 s, and loses no acknowledged write', async () => {
    const acknowledged = new Map<string, string>();
    const failures: Array<{ status: number; ms: number; body: string }> = [];
    let stop = false;
    let sent = 0;
    const writer = async (lane: number) => {
      while (!stop) {
        const name = `item-${lane}-${sent++}`;
        const started = performance.now();
        const response = await fetch(`${runtime.httpUrl}/stock/${name}`, { method: 'PUT', body: String(sent) });
        const body = await response.text();
        if (response.status === 200) acknowledged.set(name, body);
        else failures.push({ status: response.status, ms: performance.now() - started, body });
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await sleep(1000);
    const beforeOutage = acknowledged.size;
    await redis.kill();
    await sleep(2500);
    const duringOutage = failures.length;
    await redis.start();
    const back = performance.now();
    await poll('a successful write after Redis returned', 5000, async () => (acknowledged.size > beforeOutage + 10 && failures.length >= duringOutage ? true : undefined));
    const recoveredAfter = performance.now() - back;
    await sleep(500);
    stop = true;
    await Promise.all(writers);

    expect(beforeOutage).toBeGreaterThan(10);
    expect(duringOutage).toBeGreaterThan(0);
    // Every failure was a clear 503, and none waited beyond the bounded timeout.
    for (const f of failures) {
      expect(f.status).toBe(503);
      expect(f.body).toMatch(/^unavailable: state store "default"/);
      expect(f.ms).toBeLessThan(3000);
    }
    expect(recoveredAfter).toBeLessThan(5000);
    // No write that was acknowledged is lost.
    const lost: string[] = [];
    for (const [name, value] of acknowledged) {
      const got = await fetch(`${runtime.httpUrl}/stock/${name}`);
      if (got.status !== 200 || (await got.text()) !== value) lost.push(name);
    }
    expect(lost).toEqual([]);
    // The runtime reports the outage in its metrics.
    const metrics = await (await fetch(`${runtime.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/l8_host_calls_total\{function="stock",call="state\.set",outcome="unavailable"\} [1-9]/);
  }, 60_000);
});

describeWithService('kafka', 'Kafka: broker restart and dead letters, through the runtime', () => {
  let kafka: PrivateKafka;
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    kafka = await startPrivateKafka();
    const dir = tempDataDir('l8-kafka-fault-');
    writeFileSync(join(dir, 'runtime.yaml'), stringify({
      components: { pubsub: { default: { type: 'kafka', brokers: kafka.brokers.join(','), partitions: 2, logLevel: 'nothing' } } },
      delivery: { maxAttempts: 3, backoffMs: 20, maxBackoffMs: 50 },
    }));
    const grants = { state: ['default'], publish: { default: ['conf-events'] } };
    writeFileSync(join(dir, 'app.yaml'), stringify({
      functions: { conformance: { module: AS('conformance'), routes: ['ANY /conf/*'], subscriptions: [{ broker: 'default', topic: 'conf-events' }], capabilities: grants } },
    }));
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')], timeoutMs: 60_000 });
  }, 300_000);
  afterAll(async () => {
    await runtime?.stop();
    await kafka?.dispose();
  });

  it('delivers every acknowledged message at least once across a broker restart', async () => {
    const acknowledged: string[] = [];
    let failed = 0;
    let stop = false;
    const publisher = async () => {
      for (let i = 0; !stop; i++) {
        const response = await fetch(`${runtime.httpUrl}/conf/publish/conf-events`, { method: 'POST', body: `m${i}` }).catch(() => null);
        if (response?.status === 200) acknowledged.push(await response.text());
        else failed++;
      }
    };
    const publishing = publisher();
    await sleep(1500);
    await kafka.restart();
    await sleep(1500);
    stop = true;
    await publishing;
    expect(acknowledged.length).toBeGreaterThan(20);
    const missing = await poll('every acknowledged message delivered', 90_000, async () => {
      const notYet: string[] = [];
      for (const id of acknowledged) {
        const got = await fetch(`${runtime.httpUrl}/conf/state/received/conf-events/${id}`);
        if (got.status !== 200) notYet.push(id);
      }
      return notYet.length === 0 ? notYet : undefined;
    });
    expect(missing).toEqual([]);
    console.log(`kafka restart: ${acknowledged.length} acknowledged, ${failed} publishes refused during the restart, all delivered`);
  }, 240_000);

  it('moves a message that always fails to the dead-letter topic, with the error', async () => {
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const consumer = client.consumer({ groupId: `dlq-check-${Date.now()}` });
    await consumer.connect();
    const seen: Array<{ value: string; headers: Record<string, string> }> = [];
    try {
      const published = await fetch(`${runtime.httpUrl}/conf/publish/conf-events`, { method: 'POST', body: 'doomed', headers: { 'x-meta-fail': 'always' } });
      const id = await published.text();
      // The runtime creates the dead-letter topic when it first needs it; its note in the
      // function's logs says it did.
      await poll('the dead-letter note in the logs', 60_000, async () => ((await runtime.cli(['logs', 'conformance'])).stdout.includes(`message ${id} of topic`) ? true : undefined));
      await consumer.subscribe({ topic: 'conf-events.dlq', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          seen.push({ value: String(message.value), headers });
        },
      });
      const entry = await poll('the dead letter', 60_000, async () => seen.find((m) => m.headers['l8.original-id'] === id));
      expect(entry.value).toBe('doomed');
      expect(entry.headers['l8.error']).toBe(`asked to fail: ${id}`);
      expect(entry.headers['l8.attempts']).toBe('3');
      expect(entry.headers['l8.function']).toBe('conformance');
      expect(entry.headers['l8.original-topic']).toBe('conf-events');
    } finally {
      await consumer.disconnect();
    }
  }, 120_000);
});
