// The HTTP/JSON runtime API and the actuator of an in-process runtime on the embedded
// defaults, plus the check that the served OpenAPI document describes exactly the routes.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../config.ts';
import { startRuntime, type Runtime } from '../runtime.ts';
import { actuatorRoutes, Actuator } from './actuator.ts';
import { httpApi } from './http-api.ts';
import { OPENAPI } from './openapi.ts';
import { RuntimeOperations } from './operations.ts';
import { parseApiSettings } from './settings.ts';

const HELLO = resolve(import.meta.dirname, '../../examples/assemblyscript/build/hello.wasm');

let runtime: Runtime;
let api: string;
let dir: string;
let echo: Server;
const json = async (path: string, init?: RequestInit) => {
  const response = await fetch(`${api}${path}`, init);
  const body = await response.text();
  return { status: response.status, headers: response.headers, body: body ? JSON.parse(body) : undefined };
};
const post = (path: string, body: unknown) => json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'l8-http-api-'));
  echo = createServer((req, res) => res.writeHead(201, { 'x-echo': req.url! }).end(`${req.method} ${req.url}`));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  writeFileSync(join(dir, 'app.yaml'), `functions:\n  hello:\n    module: ${HELLO}\n    routes: [GET /hello]\n`);
  const config = loadRuntimeConfig(undefined, { host: '127.0.0.1', port: 0, adminHost: '127.0.0.1', adminPort: 0, dataDir: join(dir, 'data'), logLevel: 'warn' }, {});
  config.extensions.runtimeApi = { apps: { echo: `http://127.0.0.1:${(echo.address() as { port: number }).port}` } };
  process.env.L8_SECRET_HTTP_TEST = 'shh';
  runtime = await startRuntime(config, { apps: [join(dir, 'app.yaml')] });
  api = runtime.urls.api!;
}, 60_000);

afterAll(async () => {
  delete process.env.L8_SECRET_HTTP_TEST;
  await runtime?.close();
  echo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the OpenAPI document', () => {
  it('is served and describes exactly the routes the server has', async () => {
    const served = await json('/openapi.json');
    expect(served.body).toEqual(JSON.parse(JSON.stringify(OPENAPI)));

    const app = Fastify();
    const routes = new Set<string>();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') routes.add(`${method.toLowerCase()} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\*$/, '{path}')}`);
    });
    const settings = parseApiSettings(undefined, {}, {}, 0)!;
    await app.register(actuatorRoutes, { actuator: new Actuator({ runtime, appId: 'app', urls: () => ({}) }) });
    await app.register(httpApi, { ops: new RuntimeOperations(runtime, settings), maxBodyBytes: 1 << 20 });
    await app.ready();
    const documented = new Set(Object.entries(OPENAPI.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`)));
    // The invoke route accepts every method; the document lists the usual ones.
    const served2 = [...routes].filter((r) => !r.includes('/v1.0/invoke/') || documented.has(r));
    expect(served2.sort()).toEqual([...documented].sort());
    await app.close();
  });
});

describe('state over HTTP', () => {
  it('puts raw bytes with ETags, refuses a stale If-Match with 409, and deletes', async () => {
    const put = await fetch(`${api}/v1.0/state/default/raw`, { method: 'PUT', body: Buffer.from([0, 1, 2, 255]) });
    expect(put.status).toBe(204);
    const etag = put.headers.get('etag')!;
    const get = await fetch(`${api}/v1.0/state/default/raw`);
    expect(get.headers.get('etag')).toBe(etag);
    expect([...new Uint8Array(await get.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    await fetch(`${api}/v1.0/state/default/raw`, { method: 'PUT', headers: { 'if-match': etag }, body: 'next' });
    const stale = await json('/v1.0/state/default/raw', { method: 'PUT', headers: { 'if-match': etag }, body: 'stale' });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'ABORTED', message: expect.stringContaining('raw'), requestId: expect.any(String) });
    expect((await fetch(`${api}/v1.0/state/default/raw`, { method: 'DELETE', headers: { 'if-match': etag } })).status).toBe(409);
    expect((await fetch(`${api}/v1.0/state/default/raw`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${api}/v1.0/state/default/raw`)).status).toBe(204);
  });

  it('takes keys with slashes and other characters when they are URL-encoded', async () => {
    const key = 'stock/pl ums?ä';
    expect((await fetch(`${api}/v1.0/state/default/${encodeURIComponent(key)}`, { method: 'PUT', body: 'v' })).status).toBe(204);
    expect((await post('/v1.0/state/default/bulk', { keys: [key] })).body).toEqual([{ key, dataBase64: Buffer.from('v').toString('base64'), etag: expect.any(String) }]);
    expect(await (await fetch(`${api}/v1.0/state/default/${encodeURIComponent(key)}`)).text()).toBe('v');
  });

  it('saves JSON items as Dapr does, reads them in bulk, and runs transactions', async () => {
    expect((await post('/v1.0/state/default', [{ key: 'j1', value: { a: 1 } }, { key: 'j2', valueBase64: Buffer.from([255]).toString('base64') }])).status).toBe(204);
    const one = await fetch(`${api}/v1.0/state/default/j1`);
    expect(one.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await one.json()).toEqual({ a: 1 });
    const bulk = await post('/v1.0/state/default/bulk', { keys: ['j1', 'j2', 'nope'] });
    expect(bulk.body).toEqual([
      { key: 'j1', data: { a: 1 }, etag: expect.any(String) },
      { key: 'j2', dataBase64: '/w==', etag: expect.any(String) },
      { key: 'nope' },
    ]);
    const tx = await post('/v1.0/state/default/transaction', { operations: [{ operation: 'upsert', request: { key: 'j3', value: 'three' } }, { operation: 'delete', request: { key: 'j1', etag: 'stale' } }] });
    expect(tx.status).toBe(409);
    expect((await fetch(`${api}/v1.0/state/default/j3`)).status).toBe(204);
    expect((await post('/v1.0/state/default/transaction', { operations: [{ operation: 'upsert', request: { key: 'j3', value: 'three' } }, { operation: 'delete', request: { key: 'j1' } }] })).status).toBe(204);
    expect(await (await fetch(`${api}/v1.0/state/default/j3`)).text()).toBe('"three"');
  });

  it('says what is wrong with a bad request', async () => {
    expect((await post('/v1.0/state/default', { key: 'x' })).body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('JSON array') });
    expect((await post('/v1.0/state/default', [{ key: 'x' }])).body.error.message).toBe('item 0: give "value" (any JSON) or "valueBase64" (raw bytes)');
    const unknown = await json('/v1.0/state/nope/x');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/no state component named "nope" is configured \(configured: default\)/);
    expect((await post('/v1.0/state/default', [{ key: 'x', value: 1, options: { concurrency: 'sometimes' } }])).body.error.message).toMatch(/concurrency must be "first-write" or "last-write"/);
  });
});

describe('pub/sub, configuration, lock, sequencer, secrets and invoke over HTTP', () => {
  it('publishes the raw body with its content type and metadata, and returns the message id', async () => {
    const received: Array<{ id: string; data: string; metadata: Record<string, string> }> = [];
    const sub = await runtime.components.require('pubsub', 'default').subscribe('http-topic', 'test', async (m) => void received.push({ id: m.id, data: Buffer.from(m.data).toString(), metadata: m.metadata }));
    try {
      const r = await json('/v1.0/publish/default/http-topic?metadata.trace=abc', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(r.status).toBe(200);
      await expect.poll(() => received).toEqual([{ id: r.body.id, data: 'hello', metadata: { trace: 'abc', 'content-type': 'text/plain' } }]);
    } finally {
      await sub.close();
    }
  });

  it('gets, sets and deletes configuration, and streams changes as server-sent events', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${api}/v1.0/configuration/default/subscribe?key=color`, { signal: controller.signal });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();
    let seen = '';
    const events = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen += Buffer.from(value).toString();
      }
    })().catch(() => {});
    try {
      expect((await json('/v1.0/configuration/default', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ color: 'blue', size: 'L' }) })).status).toBe(204);
      expect((await json('/v1.0/configuration/default?key=color&key=size&key=none')).body).toEqual({ color: { value: 'blue', version: '', metadata: {} }, size: { value: 'L', version: '', metadata: {} } });
      await expect.poll(() => seen).toContain('data: {"items":{"color":{"value":"blue","version":"","metadata":{}}}}');
      expect((await json('/v1.0/configuration/default?key=color', { method: 'DELETE' })).status).toBe(204);
      await expect.poll(() => seen).toContain('data: {"items":{"color":{"value":"","version":"","metadata":{}}}}');
      expect(seen).not.toContain('"size"');
      expect((await json('/v1.0/configuration/nope/subscribe')).body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('no config component named "nope"') });
    } finally {
      controller.abort();
      await events;
    }
  });

  it('locks, extends, unlocks and hands out ids', async () => {
    const lock = { resourceId: 'r', lockOwner: 'a', expiryInSeconds: 5 };
    expect((await post('/v1.0-alpha1/lock/default', lock)).body).toEqual({ success: true });
    expect((await post('/v1.0-alpha1/lock/default', { ...lock, lockOwner: 'b' })).body).toEqual({ success: false });
    expect((await post('/v1.0-alpha1/lock/default/keepalive', lock)).body).toEqual({ status: 0 });
    expect((await post('/v1.0-alpha1/unlock/default', { resourceId: 'r', lockOwner: 'b' })).body).toEqual({ status: 2 });
    expect((await post('/v1.0-alpha1/unlock/default', { resourceId: 'r', lockOwner: 'a' })).body).toEqual({ status: 0 });
    expect((await post('/v1.0-alpha1/unlock/default', { resourceId: 'r', lockOwner: 'a' })).body).toEqual({ status: 1 });
    const first = BigInt((await json('/v1.0-alpha1/sequencer/default/orders', { method: 'POST' })).body.nextId);
    const second = BigInt((await json('/v1.0-alpha1/sequencer/default/orders', { method: 'POST' })).body.nextId);
    expect(second > first).toBe(true);
  });

  it('reads secrets', async () => {
    expect((await json('/v1.0/secrets/default/HTTP_TEST')).body).toEqual({ HTTP_TEST: 'shh' });
    expect((await json('/v1.0/secrets/default/bulk')).body).toMatchObject({ HTTP_TEST: { HTTP_TEST: 'shh' } });
    expect((await json('/v1.0/secrets/default/NOPE')).status).toBe(404);
  });

  it('invokes a wasm function and another app, passing status, headers and body through', async () => {
    const fn = await fetch(`${api}/v1.0/invoke/hello/method/hello`);
    expect({ status: fn.status, body: await fn.text() }).toEqual({ status: 200, body: 'Hello from AssemblyScript!' });
    const app = await fetch(`${api}/v1.0/invoke/echo/method/a/b?c=d`, { method: 'PUT', body: 'x' });
    expect({ status: app.status, header: app.headers.get('x-echo'), body: await app.text() }).toEqual({ status: 201, header: '/a/b?c=d', body: 'PUT /a/b?c=d' });
    expect((await json('/v1.0/invoke/nobody/method/x')).status).toBe(404);
  });
});

describe('actuator', () => {
  it('answers liveness, readiness (every component UP) and info', async () => {
    expect((await json('/actuator/health/liveness')).body).toEqual({ status: 'UP', components: { livenessProbe: { status: 'UP', details: {} } } });
    const ready = await json('/actuator/health/readiness');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.components).sort()).toEqual(['config/default', 'lock/default', 'pubsub/default', 'runtime', 'secrets/default', 'sequencer/default', 'state/default']);
    const info = (await json('/actuator/info')).body;
    expect(info.functions).toEqual([expect.objectContaining({ name: 'hello', version: 1, routes: ['GET /hello'] })]);
  });
});
