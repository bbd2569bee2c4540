// The test-server helper, checked two ways: its rule (fail in CI, skip with a reason
// elsewhere) against a server that is not there, and its connection info against the real
// Redis, Kafka and kube-apiserver that `npm run services:up` starts.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import kafkajs from 'kafkajs';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../../scripts/services/paths.ts';
import { freePort } from './free-port.ts';
import { describeWithService, gate, probeServiceNow, requireService, ServiceUnavailableError } from './services.ts';

async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

function runFixture(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--config', join(import.meta.dirname, 'fixtures/vitest.config.ts')],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('the rule for a service that does not answer', () => {
  test('the probe says which server did not answer', async () => {
    const port = await freePort();
    const probe = await withEnv({ L8_REDIS_URL: `redis://127.0.0.1:${port}` }, () => probeServiceNow('redis'));
    expect(probe.ok).toBe(false);
    if (!probe.ok) expect(probe.reason).toContain(`127.0.0.1:${port}`);
  });

  test('requireService throws an error naming the service and npm run services:up', async () => {
    const port = await freePort();
    const error = await withEnv({ L8_KAFKA_BROKERS: `127.0.0.1:${port}` }, () => requireService('kafka')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).service).toBe('kafka');
    expect((error as Error).message).toMatch(/^Kafka is not available \(.+\)\. Start the test servers with `npm run services:up`/);
  });

  test('in CI the block fails; elsewhere it is skipped with the reason', () => {
    const down = { ok: false as const, reason: 'connect ECONNREFUSED 127.0.0.1:1' };
    const ci = gate('redis', down, true);
    const local = gate('redis', down, false);
    expect(ci.action).toBe('fail');
    expect(local.action).toBe('skip');
    for (const g of [ci, local]) {
      if (g.action === 'run') throw new Error('unexpected');
      expect(g.message).toContain('Redis is not available (connect ECONNREFUSED 127.0.0.1:1)');
      expect(g.message).toContain('npm run services:up');
    }
    const up = gate('redis', { ok: true, info: { url: 'redis://127.0.0.1:6379', host: '127.0.0.1', port: 6379 } }, true);
    expect(up).toEqual({ action: 'run', info: { url: 'redis://127.0.0.1:6379', host: '127.0.0.1', port: 6379 } });
  });

  test('a vitest run with CI=true fails, naming Redis and the command; without CI it skips and says why', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const ci = await runFixture({ ...process.env, CI: 'true', L8_REDIS_URL: url });
    expect(ci.code, ci.output).toBe(1);
    expect(ci.output).toContain('needs redis');
    expect(ci.output).toMatch(/Redis is not available \(.*ECONNREFUSED.*\)\. Start the test servers with `npm run services:up`/);

    const local = await runFixture({ ...process.env, CI: '', L8_REDIS_URL: url });
    expect(local.code, local.output).toBe(0);
    expect(local.output).toMatch(/\[services\] skipping "a block that needs Redis": Redis is not available/);
    expect(local.output).toMatch(/1 skipped/);
  }, 60_000);
});

describeWithService('redis', 'Redis from services:up', (redis) => {
  test('answers commands at the URL the helper returns', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      const key = `l8:services-test:${randomBytes(6).toString('hex')}`;
      expect(await client.set(key, 'value', 'EX', 60)).toBe('OK');
      expect(await client.get(key)).toBe('value');
      // Fault tests rely on this: every acknowledged write is in the fsynced append-only file.
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
      await client.del(key);
    } finally {
      client.disconnect();
    }
  });
});

describeWithService('kafka', 'Kafka from services:up', (kafka) => {
  test('kafkajs creates a topic, produces, consumes in a group and commits', async () => {
    expect(kafka.brokers.length).toBeGreaterThan(0);
    const client = new kafkajs.Kafka({ clientId: 'services-test', brokers: kafka.brokers, logLevel: kafkajs.logLevel.NOTHING });
    const suffix = randomBytes(6).toString('hex');
    const topic = `l8-services-test-${suffix}`;
    const groupId = `l8-services-test-${suffix}`;
    const admin = client.admin();
    const producer = client.producer();
    const consumer = client.consumer({ groupId });
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: ['a', 'b', 'c'].map((v) => ({ key: v, value: v })) });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`consumed only ${JSON.stringify(seen)} in 20 s`)), 20_000);
        consumer
          .run({
            eachMessage: async ({ message }) => {
              seen.push(message.value!.toString());
              if (seen.length === 3) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
      expect(seen.sort()).toEqual(['a', 'b', 'c']);
      await consumer.stop(); // commits what was consumed
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = offsets[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
      expect(committed).toBe(3);
      // Auto-creation is off: producing to a topic nobody created must fail, as it would in production.
      const strict = client.producer({ allowAutoTopicCreation: true, retry: { retries: 0 } });
      await strict.connect();
      try {
        await expect(strict.send({ topic: `${topic}-never-created`, messages: [{ value: 'x' }] })).rejects.toThrow(
          /does not host this topic-partition|UNKNOWN_TOPIC/i,
        );
      } finally {
        await strict.disconnect();
      }
    } finally {
      await consumer.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  }, 60_000);
});

describeWithService('k8s', 'Kubernetes apiserver from services:up', (k8s) => {
  test('client-node creates a namespace, a CRD and its object, a Pod, and patches the Pod status', async () => {
    expect(k8s.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(k8s.token.length).toBeGreaterThan(20);
    const kc = new KubeConfig();
    kc.loadFromFile(k8s.kubeconfig);
    expect(kc.getCurrentCluster()?.server).toBe(k8s.server);
    const core = kc.makeApiClient(CoreV1Api);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);

    const suffix = randomBytes(4).toString('hex');
    const namespace = `l8-services-test-${suffix}`;
    const group = `t${suffix}.services-test.l8.dev`;
    const plural = 'widgets';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    try {
      await ext.createCustomResourceDefinition({
        body: {
          metadata: { name: `${plural}.${group}` },
          spec: {
            group,
            scope: 'Namespaced',
            names: { plural, singular: 'widget', kind: 'Widget' },
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } },
              },
            ],
          },
        },
      });
      // The CRD's REST endpoint exists once the apiserver marks it Established.
      for (let i = 0; ; i++) {
        const crd = await ext.readCustomResourceDefinition({ name: `${plural}.${group}` });
        if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (i > 100) throw new Error('CRD never became Established');
        await new Promise((r) => setTimeout(r, 100));
      }
      await custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural,
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } },
      });
      const widget = (await custom.getNamespacedCustomObject({ group, version: 'v1', namespace, plural, name: 'w1' })) as { spec: { size: number } };
      expect(widget.spec.size).toBe(3);

      // No kubelet runs: the Pod stays Pending until a test (or L8's operator tests) patches its status.
      await core.createNamespacedPod({
        namespace,
        body: { metadata: { name: 'p1', labels: { app: 'l8' } }, spec: { containers: [{ name: 'runtime', image: 'l8/runtime:test' }] } },
      });
      const patched: V1Pod = await core.patchNamespacedPodStatus(
        {
          name: 'p1',
          namespace,
          body: { status: { phase: 'Running', podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      expect(patched.status?.phase).toBe('Running');
      const read = await core.readNamespacedPod({ name: 'p1', namespace });
      expect(read.status?.podIP).toBe('127.0.0.1');
      expect(read.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    } finally {
      await core.deleteNamespacedPod({ name: 'p1', namespace }).catch(() => {});
      await ext.deleteCustomResourceDefinition({ name: `${plural}.${group}` }).catch(() => {});
      // Without a controller-manager the namespace stays Terminating; it holds nothing by then.
      await core.deleteNamespace({ name: namespace }).catch(() => {});
    }
  });
});
