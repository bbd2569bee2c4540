// Issue "Runtime API for apps", Done-when 1: a client generated from Layotto's protos
// drives the real `l8 serve` through state, publish/subscribe (SubscribeTopicEvents
// streams and the app's AppCallback), configuration subscribe, lock, sequencer, secrets
// and InvokeService into wasm functions (the AssemblyScript examples) and another app —
// once on the embedded defaults and once with every backend on Redis.
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listServices } from '../../components/pluggable/discovery.ts';
import { deleteKeys } from '../../components/redis.test-support.ts';
import { stateContract } from '../../components/state/contract.test-kit.ts';
import { unique } from '../../components/contract-kit.ts';
import { ROOT, startRuntimeProcess, tempDataDir, type RuntimeProcess } from '../support/runtime-process.ts';
import { describeWithService } from '../support/services.ts';
import { GrpcStateStore, grpcFails, LayottoClient, type Msg } from './layotto-client.ts';
import { readinessBecomes, startAppCallback, subscribeStream, type EventStatus } from './support.ts';

const AS_BUILD = join(ROOT, 'examples/assemblyscript/build');

/** The AssemblyScript example functions these tests call (examples/README.md), as an app file of their own. */
function writeApp(dir: string): string {
  const path = join(dir, 'app.yaml');
  writeFileSync(
    path,
    [
      'functions:',
      '  stock:',
      `    module: ${join(AS_BUILD, 'stock.wasm')}`,
      '    routes: [GET /stock/:name, PUT /stock/:name]',
      '    capabilities: { state: [default], publish: { default: [stock-changed] } }',
      '  inventory:',
      `    module: ${join(AS_BUILD, 'inventory.wasm')}`,
      '    routes: [GET /inventory]',
      '    capabilities: { invoke: [stock] }',
      '  greeting:',
      `    module: ${join(AS_BUILD, 'greeting.wasm')}`,
      '    routes: [GET /greeting]',
      '    capabilities: { config: [greeting] }',
      '',
    ].join('\n'),
  );
  return path;
}
const text = (b: Buffer | Uint8Array) => Buffer.from(b).toString('utf8');
const until = async <T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

interface Backend {
  label: string;
  /** The components section of the runtime config (YAML), besides config and secrets. */
  components: string;
}

function runtimeApiSuite(backend: Backend): void {
  describe(`the gRPC runtime API on ${backend.label}`, () => {
    const dir = tempDataDir('l8-rtapi-');
    const configFile = join(dir, 'app-config.yaml');
    const run = unique('run');
    const appTopic = `${run}-app-events`;
    let runtime: RuntimeProcess;
    let client: LayottoClient;
    let grpcAddress: string;
    let echo: Server;
    const echoed: Array<{ method: string; url: string; body: string }> = [];
    let appBehaviour: (event: Msg) => EventStatus = () => 'SUCCESS';
    let app: Awaited<ReturnType<typeof startAppCallback>>;

    beforeAll(async () => {
      writeFileSync(configFile, 'greeting: Hi\nfeature.flag: "on"\n');
      writeFileSync(join(dir, 'vault.json'), JSON.stringify({ 'db-password': 'from-file' }));
      echo = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          echoed.push({ method: req.method!, url: req.url!, body });
          res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'text/plain' }).end(`echo ${req.method} ${req.url} ${body}`);
        });
      });
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      const echoUrl = `http://127.0.0.1:${(echo.address() as { port: number }).port}`;
      app = await startAppCallback([{ pubsub_name: 'default', topic: appTopic }], (event) => appBehaviour(event));
      writeFileSync(
        join(dir, 'runtime.yaml'),
        [
          'delivery: { maxAttempts: 3, backoffMs: 50, maxBackoffMs: 200 }',
          'runtimeApi:',
          `  apps: { echo: "${echoUrl}" }`,
          '  deliveryTimeoutMs: 5000',
          'components:',
          backend.components,
          '  config:',
          `    default: { type: file, path: ${configFile} }`,
          '  secrets:',
          `    vault: { type: file, path: ${join(dir, 'vault.json')} }`,
          '',
        ].join('\n'),
      );
      runtime = await startRuntimeProcess({
        dataDir: join(dir, 'data'),
        args: ['--config', join(dir, 'runtime.yaml'), '--app', writeApp(dir), '--app-callback', app.address, '--app-id', 'shop'],
        env: { L8_SECRET_DB_PASSWORD: 's3cret', L8_ADMIN_TOKEN: 'admin-token-that-must-stay-private' },
        timeoutMs: 60_000,
      });
      grpcAddress = runtime.urls.grpc!.replace('grpc://', '');
      client = new LayottoClient(grpcAddress);
      // The app callback has been asked for its subscriptions once readiness is UP.
      await readinessBecomes(runtime.urls.api!, 'UP');
    }, 120_000);

    afterAll(async () => {
      client?.close();
      await runtime?.stop();
      await app?.stop();
      echo?.close();
    });

    describe('service', () => {
      it('serves spec.proto.runtime.v1.Runtime with server reflection on', async () => {
        expect(await listServices(grpcAddress)).toContain('spec.proto.runtime.v1.Runtime');
      });

      it('answers SayHello', async () => {
        expect(await client.unary('SayHello', { service_name: 'helloworld', name: 'layotto' })).toMatchObject({ hello: 'greetings, layotto' });
      });

      it('answers File and Binding methods with UNIMPLEMENTED and says why', async () => {
        const e = await grpcFails(client.unary('ListFile', { request: { store_name: 'x', name: '/' } }), grpc.status.UNIMPLEMENTED);
        expect(e.details).toMatch(/ListFile is not implemented by L8: there is no file building block yet/);
        const b = await grpcFails(client.unary('InvokeBinding', { name: 'x', data: Buffer.from('') }), grpc.status.UNIMPLEMENTED);
        expect(b.details).toMatch(/no binding building block/);
      });
    });

    describe('state', () => {
      const store = 'default';
      const key = (k: string) => `${run}-${k}`;

      it('saves and reads values with ETags; a stale ETag is ABORTED and says what to do', async () => {
        const { headers } = await client.call('SaveState', { store_name: store, states: [{ key: key('a'), value: Buffer.from('one') }] });
        const [etag] = JSON.parse(String(headers.get('l8-etags')[0])) as string[];
        const got = await client.unary('GetState', { store_name: store, key: key('a') });
        expect({ data: text(got.data), etag: got.etag }).toEqual({ data: 'one', etag });
        await client.unary('SaveState', { store_name: store, states: [{ key: key('a'), value: Buffer.from('two'), etag: { value: etag } }] });
        const stale = await grpcFails(client.unary('SaveState', { store_name: store, states: [{ key: key('a'), value: Buffer.from('three'), etag: { value: etag } }] }), grpc.status.ABORTED);
        expect(stale.details).toContain(key('a'));
        expect(text((await client.unary('GetState', { store_name: store, key: key('a') })).data)).toBe('two');
        // Last-write-wins concurrency ignores the ETag, as in Dapr and Layotto.
        await client.unary('SaveState', { store_name: store, states: [{ key: key('a'), value: Buffer.from('forced'), etag: { value: etag }, options: { concurrency: 'CONCURRENCY_LAST_WRITE' } }] });
        expect(text((await client.unary('GetState', { store_name: store, key: key('a') })).data)).toBe('forced');
      });

      it('answers a missing key with empty data and no ETag', async () => {
        expect(await client.unary('GetState', { store_name: store, key: key('never') })).toMatchObject({ etag: '' });
      });

      it('gets and deletes in bulk, and deletes with an ETag', async () => {
        await client.unary('SaveState', { store_name: store, states: ['b1', 'b2', 'b3'].map((k) => ({ key: key(k), value: Buffer.from(k) })) });
        const bulk = await client.unary('GetBulkState', { store_name: store, keys: [key('b1'), key('nope'), key('b3')] });
        expect(bulk.items.map((i: Msg) => [i.key, text(i.data), i.etag !== ''])).toEqual([[key('b1'), 'b1', true], [key('nope'), '', false], [key('b3'), 'b3', true]]);
        const b2 = await client.unary('GetState', { store_name: store, key: key('b2') });
        await grpcFails(client.unary('DeleteState', { store_name: store, key: key('b2'), etag: { value: 'stale' } }), grpc.status.ABORTED);
        await client.unary('DeleteState', { store_name: store, key: key('b2'), etag: { value: b2.etag } });
        await client.unary('DeleteBulkState', { store_name: store, states: [{ key: key('b1') }, { key: key('b3') }] });
        const after = await client.unary('GetBulkState', { store_name: store, keys: [key('b1'), key('b2'), key('b3')] });
        expect(after.items.map((i: Msg) => i.etag)).toEqual(['', '', '']);
      });

      it('executes a transaction all or nothing', async () => {
        const { headers } = await client.call('SaveState', { store_name: store, states: [{ key: key('t1'), value: Buffer.from('t1') }] });
        const [etag] = JSON.parse(String(headers.get('l8-etags')[0])) as string[];
        await grpcFails(
          client.unary('ExecuteStateTransaction', {
            storeName: store,
            operations: [
              { operationType: 'upsert', request: { key: key('t2'), value: Buffer.from('t2') } },
              { operationType: 'delete', request: { key: key('t1'), etag: { value: 'stale' } } },
            ],
          }),
          grpc.status.ABORTED,
        );
        expect((await client.unary('GetState', { store_name: store, key: key('t2') })).etag).toBe('');
        await client.unary('ExecuteStateTransaction', {
          storeName: store,
          operations: [
            { operationType: 'upsert', request: { key: key('t2'), value: Buffer.from('t2') } },
            { operationType: 'delete', request: { key: key('t1'), etag: { value: etag } } },
          ],
        });
        const after = await client.unary('GetBulkState', { store_name: store, keys: [key('t1'), key('t2')] });
        expect(after.items.map((i: Msg) => text(i.data))).toEqual(['', 't2']);
        await grpcFails(client.unary('ExecuteStateTransaction', { storeName: store, operations: [{ operationType: 'merge', request: { key: key('x') } }] }), grpc.status.INVALID_ARGUMENT);
      });

      it('expires a key after metadata ttlInSeconds', async () => {
        await client.unary('SaveState', { store_name: store, states: [{ key: key('ttl'), value: Buffer.from('x'), metadata: { ttlInSeconds: '1' } }] });
        expect(text((await client.unary('GetState', { store_name: store, key: key('ttl') })).data)).toBe('x');
        await new Promise((r) => setTimeout(r, 1500));
        expect((await client.unary('GetState', { store_name: store, key: key('ttl') })).etag).toBe('');
      });

      it('names the configured stores when asked for an unknown one', async () => {
        const e = await grpcFails(client.unary('GetState', { store_name: 'nope', key: 'k' }), grpc.status.INVALID_ARGUMENT);
        expect(e.details).toBe('no state component named "nope" is configured (configured: default); add it under components.state in the runtime config');
      });

      it('shares the store with wasm functions: what a function wrote, the app reads', async () => {
        const put = await fetch(`${runtime.httpUrl}/stock/${run}`, { method: 'PUT', body: '42' });
        expect(put.status).toBe(200);
        expect(text((await client.unary('GetState', { store_name: store, key: `stock/${run}` })).data)).toBe('42');
      });

      // The state contract, through the whole path: Layotto client -> gRPC -> component.
      stateContract(`gRPC API on ${backend.label}`, async () => new GrpcStateStore(grpcAddress, 'default'), { shared: true });
    });

    describe('publish and subscribe', () => {
      it('publishes (the message id is the l8-message-id header) and delivers to a SubscribeTopicEvents stream', async () => {
        const topic = `${run}-stream`;
        const stream = await subscribeStream(client, { pubsub_name: 'default', topic }, () => 'SUCCESS');
        try {
          const { headers } = await client.call('PublishEvent', { pubsub_name: 'default', topic, data: Buffer.from('{"n":1}'), data_content_type: 'application/json', metadata: { trace: 't-1' } });
          const id = String(headers.get('l8-message-id')[0]);
          expect(id.length).toBeGreaterThan(0);
          const event = await until(() => stream.events[0], 'the event');
          expect(event).toMatchObject({ id, topic, pubsub_name: 'default', data_content_type: 'application/json', spec_version: '1.0', metadata: { trace: 't-1' } });
          expect(text(event.data)).toBe('{"n":1}');
        } finally {
          stream.close();
        }
      });

      it('redelivers after RETRY, and moves a message the app DROPs to the dead-letter topic', async () => {
        const topic = `${run}-retry`;
        const deadLetters = await subscribeStream(client, { pubsub_name: 'default', topic: `${topic}-dead` }, () => 'SUCCESS');
        const attempts = new Map<string, number>();
        const stream = await subscribeStream(client, { pubsub_name: 'default', topic, dead_letter_topic: `${topic}-dead` }, (event) => {
          const n = (attempts.get(text(event.data)) ?? 0) + 1;
          attempts.set(text(event.data), n);
          if (text(event.data) === 'drop me') return 'DROP';
          return n < 2 ? 'RETRY' : 'SUCCESS';
        });
        try {
          await client.unary('PublishEvent', { pubsub_name: 'default', topic, data: Buffer.from('retry me') });
          await until(() => attempts.get('retry me') === 2, 'the redelivery');
          const { headers } = await client.call('PublishEvent', { pubsub_name: 'default', topic, data: Buffer.from('drop me') });
          const dead = await until(() => deadLetters.events[0], 'the dead letter');
          expect(text(dead.data)).toBe('drop me');
          expect(dead.metadata).toMatchObject({ 'l8.app': 'shop', 'l8.original-topic': topic, 'l8.original-id': String(headers.get('l8-message-id')[0]), 'l8.error': expect.stringContaining('DROP') });
          expect(attempts.get('drop me')).toBe(1);
        } finally {
          stream.close();
          deadLetters.close();
        }
      });

      it('refuses a stream whose first message is not the initial request', async () => {
        const call = client.raw.SubscribeTopicEvents() as grpc.ClientDuplexStream<Msg, Msg>;
        call.on('error', () => {});
        const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
        call.write({ event_processed: { id: 'x', status: { status: 'SUCCESS' } } });
        const s = await status;
        expect(s.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(s.details).toMatch(/first message of SubscribeTopicEvents must be an initial_request/);
      });

      it('delivers through the app\'s AppCallback: RETRY is retried, SUCCESS acknowledges', async () => {
        let calls = 0;
        appBehaviour = (event) => (text(event.data) === 'cb-retry' && ++calls < 2 ? 'RETRY' : 'SUCCESS');
        const { headers } = await client.call('PublishEvent', { pubsub_name: 'default', topic: appTopic, data: Buffer.from('cb-retry'), metadata: { k: 'v' } });
        const id = String(headers.get('l8-message-id')[0]);
        await until(() => app.received.filter((e) => e.id === id).length === 2, 'two OnTopicEvent calls');
        expect(app.received.find((e) => e.id === id)).toMatchObject({ topic: appTopic, pubsub_name: 'default', metadata: { k: 'v' } });
        await new Promise((r) => setTimeout(r, 300));
        expect(app.received.filter((e) => e.id === id)).toHaveLength(2);
      });

      it('sends what the app\'s AppCallback DROPs to the dead-letter topic <topic>.dlq', async () => {
        const deadLetters = await subscribeStream(client, { pubsub_name: 'default', topic: `${appTopic}.dlq` }, () => 'SUCCESS');
        try {
          appBehaviour = (event) => (text(event.data) === 'cb-drop' ? 'DROP' : 'SUCCESS');
          await client.unary('PublishEvent', { pubsub_name: 'default', topic: appTopic, data: Buffer.from('cb-drop') });
          const dead = await until(() => deadLetters.events[0], 'the dead letter');
          expect(text(dead.data)).toBe('cb-drop');
          expect(dead.metadata['l8.app']).toBe('shop');
        } finally {
          deadLetters.close();
        }
      });

      it('delivers what a wasm function publishes to the app', async () => {
        const stream = await subscribeStream(client, { pubsub_name: 'default', topic: 'stock-changed', metadata: { consumerGroup: run } }, () => 'SUCCESS');
        try {
          const put = await fetch(`${runtime.httpUrl}/stock/${run}-pears`, { method: 'PUT', body: '5' });
          const id = put.headers.get('x-message-id');
          const event = await until(() => stream.events.find((e) => e.id === id), 'the function\'s message');
          expect(text(event.data)).toBe(`${run}-pears=5`);
        } finally {
          stream.close();
        }
      });
    });

    describe('configuration', () => {
      it('gets values, and pushes saves, deletes and file edits to a subscription', async () => {
        expect((await client.unary('GetConfiguration', { store_name: 'default', keys: ['greeting', 'missing'] })).items).toEqual([
          expect.objectContaining({ key: 'greeting', content: 'Hi' }),
        ]);
        const call = client.raw.SubscribeConfiguration() as grpc.ClientDuplexStream<Msg, Msg>;
        call.on('error', () => {});
        const pushed: Msg[] = [];
        call.on('data', (m: Msg) => pushed.push(...m.items));
        call.write({ store_name: 'default', keys: ['greeting', 'feature.flag'] });
        try {
          // The watch is in place once a change reaches the stream (the request is asynchronous).
          for (let i = 0; !pushed.some((p) => p.key === 'feature.flag'); i++) {
            if (i > 100) throw new Error('the configuration subscription never received a change');
            await client.unary('SaveConfiguration', { store_name: 'default', items: [{ key: 'feature.flag', content: `probe-${i}` }] });
            await new Promise((r) => setTimeout(r, 50));
          }
          await client.unary('SaveConfiguration', { store_name: 'default', items: [{ key: 'greeting', content: 'Howdy' }, { key: 'other', content: 'x' }] });
          await until(() => pushed.find((i) => i.key === 'greeting' && i.content === 'Howdy'), 'the saved value');
          // Functions read the same store: the greeting function answers with the new value.
          const invoked = await client.unary('InvokeService', { id: 'greeting', message: { method: 'greeting', http_extension: { verb: 'GET', querystring: 'name=L8' } } });
          expect(text(invoked.data.value)).toBe('Howdy, L8!');
          // An edit of the file itself (config reload) reaches the subscriber too.
          writeFileSync(configFile, 'greeting: Hello again\nfeature.flag: "on"\nother: x\n');
          await until(() => pushed.find((i) => i.key === 'greeting' && i.content === 'Hello again'), 'the reloaded value');
          await client.unary('DeleteConfiguration', { store_name: 'default', keys: ['feature.flag'] });
          await until(() => pushed.find((i) => i.key === 'feature.flag' && i.content === ''), 'the deletion');
          expect(pushed.some((i) => i.key === 'other')).toBe(false);
        } finally {
          call.cancel();
        }
      });
    });

    describe('lock and sequencer', () => {
      it('takes, refuses, extends and releases a lock', async () => {
        const lock = (method: string, owner: string) => client.unary(method, { store_name: 'default', resource_id: `${run}-res`, lock_owner: owner, expire: 10 });
        expect(await lock('TryLock', 'a')).toEqual({ success: true });
        expect(await lock('TryLock', 'b')).toEqual({ success: false });
        expect(await lock('LockKeepAlive', 'a')).toEqual({ status: 'SUCCESS' });
        expect(await lock('LockKeepAlive', 'b')).toEqual({ status: 'LOCK_UNEXIST' });
        expect(await lock('Unlock', 'b')).toEqual({ status: 'LOCK_BELONG_TO_OTHERS' });
        expect(await lock('Unlock', 'a')).toEqual({ status: 'SUCCESS' });
        expect(await lock('Unlock', 'a')).toEqual({ status: 'LOCK_UNEXIST' });
        expect(await lock('TryLock', 'b')).toEqual({ success: true });
        await grpcFails(client.unary('TryLock', { store_name: 'default', resource_id: '', lock_owner: 'a', expire: 1 }), grpc.status.INVALID_ARGUMENT);
      });

      it('hands out increasing ids per key', async () => {
        const ids: bigint[] = [];
        for (let i = 0; i < 5; i++) ids.push(BigInt((await client.unary('GetNextId', { store_name: 'default', key: `${run}-seq` })).next_id));
        for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
      });
    });

    describe('invoke', () => {
      it('calls wasm functions with the verb, path, query and body given', async () => {
        const put = await client.unary('InvokeService', { id: 'stock', message: { method: `stock/${run}-apples`, data: { value: Buffer.from('7') }, content_type: 'text/plain', http_extension: { verb: 'PUT' } } });
        expect(text(put.data.value)).toBe('7');
        const inventory = await client.unary('InvokeService', { id: 'inventory', message: { method: '/inventory', http_extension: { verb: 'GET', querystring: `name=${run}-apples` } } });
        expect(text(inventory.data.value)).toBe(`There are 7 inventories for ${run}-apples.`);
      });

      it('turns an error answer into a gRPC status with its body, and names what exists for an unknown id', async () => {
        const missing = await grpcFails(client.unary('InvokeService', { id: 'stock', message: { method: `stock/${run}-none`, http_extension: { verb: 'GET' } } }), grpc.status.NOT_FOUND);
        expect(missing.details).toContain(`no stock recorded for ${run}-none`);
        const unknown = await grpcFails(client.unary('InvokeService', { id: 'nobody', message: { method: 'x' } }), grpc.status.NOT_FOUND);
        expect(unknown.details).toMatch(/no function or app named "nobody": deployed functions are .*stock.*; apps are echo/);
      });

      it('calls another app by id over HTTP', async () => {
        const r = await client.unary('InvokeService', { id: 'echo', message: { method: 'orders/1', data: { value: Buffer.from('hi') }, http_extension: { verb: 'POST', querystring: 'a=b' } } });
        expect(text(r.data.value)).toBe('echo POST /orders/1?a=b hi');
        expect(r.content_type).toMatch(/^text\/plain/);
        await grpcFails(client.unary('InvokeService', { id: 'echo', message: { method: 'missing' } }), grpc.status.NOT_FOUND);
      });
    });

    describe('secrets', () => {
      it('reads L8_SECRET_* variables from the default store, and nothing else of the environment', async () => {
        expect(await client.unary('GetSecret', { store_name: 'default', key: 'DB_PASSWORD' })).toEqual({ data: { DB_PASSWORD: 's3cret' } });
        await grpcFails(client.unary('GetSecret', { store_name: 'default', key: 'L8_ADMIN_TOKEN' }), grpc.status.NOT_FOUND);
        const bulk = await client.unary('GetBulkSecret', { store_name: 'default' });
        expect(bulk.data).toEqual({ DB_PASSWORD: { secrets: { DB_PASSWORD: 's3cret' } } });
      });

      it('reads a file store', async () => {
        expect(await client.unary('GetSecret', { store_name: 'vault', key: 'db-password' })).toEqual({ data: { 'db-password': 'from-file' } });
      });
    });
  });
}

runtimeApiSuite({
  label: 'the embedded defaults',
  components: '',
});

describeWithService('redis', 'the gRPC runtime API on Redis', (redis) => {
  const prefix = `${unique('l8-rtapi')}:`;
  afterAll(() => deleteKeys(redis.url, prefix));
  const spec = (kind: string) => `    default: { type: redis, url: "${redis.url}", keyPrefix: "${prefix}${kind}:" }`;
  runtimeApiSuite({
    label: 'Redis',
    components: ['  state:', spec('state'), '  pubsub:', spec('pubsub'), '  lock:', spec('lock'), '  sequencer:', spec('sequencer')].join('\n'),
  });
});
