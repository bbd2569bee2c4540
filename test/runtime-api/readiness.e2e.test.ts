// Issue "Runtime API for apps", Done-when 2: readiness goes INIT -> UP at start, DOWN
// naming Redis when Redis is stopped, and UP again once it is back; liveness stays UP.
// Redis is stopped and started with the services library (stopRedis/startRedis).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntimeProcess, tempDataDir, type RuntimeProcess } from '../support/runtime-process.ts';
import { grpcFails, LayottoClient } from './layotto-client.ts';
import { startPrivateRedisService, type PrivateRedisService } from './private-redis.ts';
import { readinessBecomes, startAppCallback } from './support.ts';

describe('actuator health with Redis going away and coming back', () => {
  let redis: PrivateRedisService;
  let runtime: RuntimeProcess;
  let app: Awaited<ReturnType<typeof startAppCallback>>;
  let releaseApp: () => void;
  let client: LayottoClient;
  const health = async (path: string) => {
    const response = await fetch(`${runtime.urls.api}/actuator/health/${path}`);
    return { code: response.status, body: (await response.json()) as { status: string; components: Record<string, { status: string; details: Record<string, unknown> }> } };
  };

  beforeAll(async () => {
    redis = await startPrivateRedisService();
    app = await startAppCallback([{ pubsub_name: 'default', topic: 'orders' }], () => 'SUCCESS');
    // The app is "still starting": it answers ListTopicSubscriptions only when released.
    releaseApp = app.holdList();
    const dir = tempDataDir('l8-readiness-');
    writeFileSync(
      join(dir, 'runtime.yaml'),
      [
        'components:',
        '  state:',
        `    default: { type: redis, url: "${redis.url}", connectTimeoutMs: 500, commandTimeoutMs: 500 }`,
        '  lock:',
        `    default: { type: redis, url: "${redis.url}", connectTimeoutMs: 500, commandTimeoutMs: 500 }`,
        '',
      ].join('\n'),
    );
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app-callback', app.address] });
    client = new LayottoClient(runtime.urls.grpc!.replace('grpc://', ''));
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await runtime?.stop();
    await app?.stop();
    await redis?.dispose();
  });

  it('is INIT while starting (the app has not told its subscriptions yet), then UP', async () => {
    const init = await health('readiness');
    expect(init.code).toBe(503);
    expect(init.body.status).toBe('INIT');
    expect(init.body.components.appCallback).toMatchObject({ status: 'INIT', details: { reason: expect.stringContaining(app.address) } });
    expect(init.body.components['state/default']).toMatchObject({ status: 'UP', details: { type: 'redis' } });
    // Meanwhile the API already serves.
    expect(await client.unary('SayHello', { name: 'x' })).toMatchObject({ hello: 'greetings, x' });
    expect(app.listRequests()).toBeGreaterThan(0);

    releaseApp();
    const up = await readinessBecomes(runtime.urls.api!, 'UP');
    expect(Object.values(up.components).every((c) => c.status === 'UP')).toBe(true);
    expect((await health('readiness')).code).toBe(200);
    expect(await health('liveness')).toEqual({ code: 200, body: { status: 'UP', components: { livenessProbe: { status: 'UP', details: {} } } } });
  });

  it('is DOWN naming the Redis components while Redis is stopped, and calls fail fast', async () => {
    await redis.stopRedis();
    const down = await readinessBecomes(runtime.urls.api!, 'DOWN');
    for (const id of ['state/default', 'lock/default']) {
      expect(down.components[id]).toMatchObject({ status: 'DOWN', details: { type: 'redis', reason: expect.stringContaining(`Redis at ${redis.url}`) } });
    }
    expect(down.components.runtime!.status).toBe('UP');
    expect((await health('readiness')).code).toBe(503);
    // Restarting L8 would not bring Redis back: liveness stays UP.
    expect((await health('liveness')).code).toBe(200);
    const started = Date.now();
    const e = await grpcFails(client.unary('GetState', { store_name: 'default', key: 'k' }), grpc.status.UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(e.details).toContain(redis.url);
  });

  it('is UP again once Redis is back, and the components work again', async () => {
    await redis.startRedis();
    await readinessBecomes(runtime.urls.api!, 'UP', 20_000);
    await client.unary('SaveState', { store_name: 'default', states: [{ key: 'k', value: Buffer.from('back') }] });
    expect(Buffer.from((await client.unary('GetState', { store_name: 'default', key: 'k' })).data).toString()).toBe('back');
  });

  it('reports version, components and functions at /actuator/info', async () => {
    const info = (await (await fetch(`${runtime.urls.api}/actuator/info`)).json()) as Record<string, any>;
    expect(info.app).toMatchObject({ name: 'L8', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(info.components).toEqual(expect.arrayContaining([{ id: 'state/default', kind: 'state', name: 'default', type: 'redis' }, { id: 'secrets/default', kind: 'secrets', name: 'default', type: 'env' }]));
    expect(info.functions).toEqual([]);
    expect(info.urls).toMatchObject({ grpc: runtime.urls.grpc, api: runtime.urls.api });
  });
});
