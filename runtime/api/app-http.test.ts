// Pub/sub delivery to an HTTP app, Dapr-style: GET /dapr/subscribe at start (readiness INIT
// until it answers), then CloudEvents POSTed to each route, with the delivery policy.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../config.ts';
import { startRuntime, type Runtime } from '../runtime.ts';

let runtime: Runtime;
let app: Server;
let dir: string;
let releaseSubscribe!: () => void;
const posts: Array<{ url: string; contentType: string; body: Record<string, any> }> = [];
let ordersFailures = 1;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'l8-app-http-'));
  const subscribeAnswered = new Promise<void>((r) => (releaseSubscribe = r));
  app = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      if (req.url === '/dapr/subscribe') {
        await subscribeAnswered;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify([
            { pubsubname: 'default', topic: 'orders', route: '/orders' },
            { pubsubname: 'default', topic: 'drops', route: 'drops', deadLetterTopic: 'drops-dead' },
            { pubsubname: 'default', topic: 'retries', route: '/retries' },
          ]),
        );
        return;
      }
      posts.push({ url: req.url!, contentType: String(req.headers['content-type']), body: JSON.parse(body) });
      if (req.url === '/orders' && ordersFailures-- > 0) return void res.writeHead(500).end('not yet');
      if (req.url === '/drops') return void res.writeHead(404).end();
      if (req.url === '/retries') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'RETRY' }));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const config = loadRuntimeConfig(undefined, { host: '127.0.0.1', port: 0, adminHost: '127.0.0.1', adminPort: 0, dataDir: join(dir, 'data'), logLevel: 'silent' }, {});
  config.delivery = { ...config.delivery, maxAttempts: 3, backoffMs: 20, maxBackoffMs: 50 };
  config.extensions.runtimeApi = { appHttp: `http://127.0.0.1:${(app.address() as { port: number }).port}` };
  runtime = await startRuntime(config);
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const readiness = async () => (await (await fetch(`${runtime.urls.api}/actuator/health/readiness`)).json()) as { status: string; components: Record<string, { status: string; details: { reason?: string } }> };

describe('an HTTP app as a subscriber', () => {
  it('keeps readiness INIT until the app answered GET /dapr/subscribe, then UP', async () => {
    const init = await readiness();
    expect(init.status).toBe('INIT');
    expect(init.components.appHttp).toMatchObject({ status: 'INIT', details: { reason: expect.stringContaining('/dapr/subscribe') } });
    releaseSubscribe();
    await expect.poll(async () => (await readiness()).status, { timeout: 10_000 }).toBe('UP');
  });

  it('posts each message as a CloudEvent and retries a failed answer', async () => {
    const broker = runtime.components.require('pubsub', 'default');
    const id = await broker.publish('orders', Buffer.from('{"order":1}'), { 'content-type': 'application/json', trace: 't' });
    await expect.poll(() => posts.filter((p) => p.url === '/orders').length, { timeout: 10_000 }).toBe(2);
    expect(posts.find((p) => p.url === '/orders')).toEqual({
      url: '/orders',
      contentType: 'application/cloudevents+json',
      body: { specversion: '1.0', id, source: 'l8/default', type: 'l8.message', datacontenttype: 'application/json', topic: 'orders', pubsubname: 'default', metadata: { 'content-type': 'application/json', trace: 't' }, data: { order: 1 } },
    });
    await broker.publish('orders', Buffer.from([0xff, 0x00]));
    await expect.poll(() => posts.find((p) => p.url === '/orders' && p.body.data_base64)?.body.data_base64, { timeout: 10_000 }).toBe('/wA=');
  });

  it('dead-letters a message the app answers 404 (DROP) or keeps asking to RETRY', async () => {
    const broker = runtime.components.require('pubsub', 'default');
    const dead: Array<{ topic: string; metadata: Record<string, string> }> = [];
    const subs = [await broker.subscribe('drops-dead', 'test', async (m) => void dead.push(m)), await broker.subscribe('retries.dlq', 'test', async (m) => void dead.push(m))];
    try {
      await broker.publish('drops', Buffer.from('x'));
      await broker.publish('retries', Buffer.from('y'));
      await expect.poll(() => dead.map((d) => d.topic).sort(), { timeout: 10_000 }).toEqual(['drops-dead', 'retries.dlq']);
      expect(dead.find((d) => d.topic === 'drops-dead')!.metadata).toMatchObject({ 'l8.app': 'app', 'l8.attempts': '1', 'l8.error': expect.stringContaining('DROP') });
      expect(dead.find((d) => d.topic === 'retries.dlq')!.metadata).toMatchObject({ 'l8.attempts': '3', 'l8.error': expect.stringContaining('RETRY') });
      expect(posts.filter((p) => p.url === '/drops')).toHaveLength(1);
      expect(posts.filter((p) => p.url === '/retries')).toHaveLength(3);
    } finally {
      for (const s of subs) await s.close();
    }
  });
});
