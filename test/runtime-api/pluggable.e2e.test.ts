// Issue "Runtime API for apps", Done-when 3: the pluggable state store written in Go
// (examples/pluggable/memstore) passes the state contract through the runtime — Layotto
// client -> L8's gRPC API -> pluggable component over its Unix socket — serves wasm
// functions like a built-in store, and when it is stopped mid-test calls fail fast with a
// clear error (no hangs), health says which component is down, and it is used again once
// it is back.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMemstore, type Memstore } from '../../components/pluggable/memstore.test-support.ts';
import { stateContract } from '../../components/state/contract.test-kit.ts';
import { ROOT, startRuntimeProcess, tempDataDir, type RuntimeProcess } from '../support/runtime-process.ts';
import { GrpcStateStore, grpcFails, LayottoClient } from './layotto-client.ts';
import { readinessBecomes, subscribeStream } from './support.ts';

const STOCK = join(ROOT, 'examples/assemblyscript/build/stock.wasm');

describe('a pluggable state store in Go, through the runtime', () => {
  let memstore: Memstore;
  let runtime: RuntimeProcess;
  let client: LayottoClient;
  let grpcAddress: string;

  beforeAll(async () => {
    memstore = await startMemstore();
    const dir = tempDataDir('l8-pluggable-');
    writeFileSync(
      join(dir, 'runtime.yaml'),
      ['components:', '  state:', '    default: { type: memstore, timeoutMs: 1000 }', '  pubsub:', '    events: { type: memstore }', ''].join('\n'),
    );
    writeFileSync(
      join(dir, 'app.yaml'),
      ['functions:', '  stock:', `    module: ${STOCK}`, '    routes: [GET /stock/:name, PUT /stock/:name]', '    capabilities: { state: [default], publish: { default: [stock-changed] } }', ''].join('\n'),
    );
    runtime = await startRuntimeProcess({
      dataDir: join(dir, 'data'),
      args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')],
      env: { L8_COMPONENTS_SOCKETS_FOLDER: memstore.folder },
      timeoutMs: 60_000,
    });
    grpcAddress = runtime.urls.grpc!.replace('grpc://', '');
    client = new LayottoClient(grpcAddress);
  }, 300_000);

  afterAll(async () => {
    client?.close();
    await runtime?.stop();
    await memstore?.dispose();
  });

  it('is discovered at start and listed with its services', async () => {
    const info = (await (await fetch(`${runtime.urls.api}/actuator/info`)).json()) as Record<string, any>;
    expect(info.pluggableComponents).toMatchObject({ folder: memstore.folder, found: [{ type: 'memstore', socket: memstore.socket, kinds: ['pubsub', 'state'] }] });
    expect(info.components).toEqual(expect.arrayContaining([{ id: 'state/default', kind: 'state', name: 'default', type: 'memstore' }]));
    expect((await readinessBecomes(runtime.urls.api!, 'UP')).components['state/default']).toMatchObject({ status: 'UP', details: { type: 'memstore' } });
  });

  stateContract('pluggable Go component through the gRPC API', async () => new GrpcStateStore(grpcAddress, 'default'), { shared: true });

  it('serves wasm functions and apps alike, and carries pub/sub', async () => {
    const put = await fetch(`${runtime.httpUrl}/stock/plums`, { method: 'PUT', body: '3' });
    expect({ status: put.status, body: await put.text() }).toEqual({ status: 200, body: '3' });
    expect(Buffer.from((await client.unary('GetState', { store_name: 'default', key: 'stock/plums' })).data).toString()).toBe('3');
    const stream = await subscribeStream(client, { pubsub_name: 'events', topic: 'pluggable-topic' }, () => 'SUCCESS');
    try {
      await client.unary('PublishEvent', { pubsub_name: 'events', topic: 'pluggable-topic', data: Buffer.from('via go') });
      await expect.poll(() => stream.events.map((e) => Buffer.from(e.data).toString()), { timeout: 10_000 }).toEqual(['via go']);
    } finally {
      stream.close();
    }
  });

  it('fails fast with an error naming the component and its socket while it is stopped, and recovers when it is back', async () => {
    await memstore.kill();
    try {
      await stoppedComponent();
    } finally {
      await memstore.start();
    }
    await readinessBecomes(runtime.urls.api!, 'UP', 20_000);
    // The restarted process started empty (it keeps data in memory) and was initialised again.
    await client.unary('SaveState', { store_name: 'default', states: [{ key: 'after', value: Buffer.from('restart') }] });
    expect(Buffer.from((await client.unary('GetState', { store_name: 'default', key: 'after' })).data).toString()).toBe('restart');
  });

  async function stoppedComponent(): Promise<void> {
    const started = Date.now();
    const e = await grpcFails(client.unary('GetState', { store_name: 'default', key: 'stock/plums' }), grpc.status.UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(e.details).toContain('pluggable state component "default" (type memstore');
    expect(e.details).toContain(memstore.socket);
    expect(e.details).toMatch(/is unreachable \(Get of key "stock\/plums"\): .*check that its process is running/);
    // A wasm function using the store gets the same error, just as fast
    const fn = await fetch(`${runtime.httpUrl}/stock/plums`);
    expect(fn.status).toBeGreaterThanOrEqual(500);
    expect(await fn.text()).toContain('unavailable: state store "default": pluggable state component "default" (type memstore');
    const down = await readinessBecomes(runtime.urls.api!, 'DOWN');
    expect(down.components['state/default']).toMatchObject({ status: 'DOWN', details: { type: 'memstore', reason: expect.stringContaining(memstore.socket) } });
    expect(down.components['pubsub/events']!.status).toBe('DOWN');
  }

  it('answers DEADLINE-bounded UNAVAILABLE, not a hang, when the component hangs', async () => {
    await memstore.pause();
    try {
      const started = Date.now();
      const e = await grpcFails(client.unary('GetState', { store_name: 'default', key: 'after' }), grpc.status.UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(e.details).toMatch(/did not answer Get of key "after" within 1000 ms/);
    } finally {
      memstore.resume();
    }
    expect(Buffer.from((await client.unary('GetState', { store_name: 'default', key: 'after' })).data).toString()).toBe('restart');
  });
});
