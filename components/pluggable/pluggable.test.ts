// The pluggable component layer against a real component written in Go
// (examples/pluggable/memstore), through the runtime's component set: discovery by
// reflection, the state and pub/sub contract kits, and what happens when it goes away.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentSet } from '../../runtime/components.ts';
import { loadRuntimeConfig, type RuntimeConfig } from '../../runtime/config.ts';
import { bytes, rejectsWith, text, unique } from '../contract-kit.ts';
import { pubsubContract } from '../pubsub/contract.test-kit.ts';
import type { PubSub } from '../pubsub/contract.ts';
import { stateContract } from '../state/contract.test-kit.ts';
import type { StateStore } from '../state/contract.ts';
import { discover } from './discovery.ts';
import { socketsFolder } from './index.ts';
import { startMemstore, type Memstore } from './memstore.test-support.ts';

let memstore: Memstore;
let config: RuntimeConfig;
let set: ComponentSet;

beforeAll(async () => {
  memstore = await startMemstore();
  config = loadRuntimeConfig(undefined, {}, {});
  config.componentsSocketsFolder = memstore.folder;
  config.components.state.plugged = { type: 'memstore' };
  config.components.pubsub.plugged = { type: 'memstore' };
  set = await ComponentSet.start(config);
}, 300_000);

afterAll(async () => {
  await set?.close();
  await memstore?.dispose();
});

describe('discovery', () => {
  it('finds the socket, names the type after it, and lists its services through reflection', async () => {
    const found = await discover(memstore.folder);
    expect(found.found).toEqual([
      {
        type: 'memstore',
        socket: memstore.socket,
        services: expect.arrayContaining(['dapr.proto.components.v1.StateStore', 'dapr.proto.components.v1.TransactionalStateStore', 'dapr.proto.components.v1.PubSub']),
      },
    ]);
  });

  it('skips files that are not sockets, reports a socket nobody listens on, and treats a missing folder as empty', async () => {
    writeFileSync(join(memstore.folder, 'notes.txt'), 'not a socket');
    // A socket file whose process died: the file stays, nobody listens.
    const deadSocket = join(memstore.folder, 'dead.sock');
    const owner = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(deadSocket)}, () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(owner.stdout!, 'data');
    owner.kill('SIGKILL');
    await once(owner, 'exit');
    expect(existsSync(deadSocket)).toBe(true);
    const found = await discover(memstore.folder, 500);
    expect(found.found.map((s) => s.type)).toEqual(['memstore']);
    expect(found.failed.get('dead')).toMatch(/dead\.sock did not answer gRPC reflection/);
    expect((await discover(join(memstore.folder, 'missing'))).found).toEqual([]);
  });

  it('reads the folder from L8_COMPONENTS_SOCKETS_FOLDER, then the config, then Dapr\'s variable and default', () => {
    expect(socketsFolder({ L8_COMPONENTS_SOCKETS_FOLDER: '/a', DAPR_COMPONENTS_SOCKETS_FOLDER: '/c' }, '/b')).toBe('/a');
    expect(socketsFolder({ DAPR_COMPONENTS_SOCKETS_FOLDER: '/c' }, '/b')).toBe('/b');
    expect(socketsFolder({ DAPR_COMPONENTS_SOCKETS_FOLDER: '/c' })).toBe('/c');
    expect(socketsFolder({})).toBe('/tmp/dapr-components-sockets');
  });

  it('says which pluggable types exist when a config names an unknown type', async () => {
    await expect(set.create('state', 'x', { type: 'memstor' }, config)).rejects.toThrow(/unknown type "memstor".*pluggable components found in .*: memstore \(pubsub, state\)/);
    await expect(set.create('lock', 'x', { type: 'memstore' }, config)).rejects.toThrow(/components\.lock\.x: the pluggable component at .*memstore\.sock does not implement a lock service/);
  });
});

// The kits get fresh, uninitialised components built the way the runtime builds them.
stateContract('pluggable Go component (memstore) through the component set', async () => (await set.create('state', unique('kit'), { type: 'memstore' }, config)) as StateStore, { shared: true });
pubsubContract('pluggable Go component (memstore) through the component set', async () => (await set.create('pubsub', unique('kit'), { type: 'memstore' }, config)) as PubSub);

describe('a pluggable component that goes away', () => {
  it('is used by the runtime like a built-in component', async () => {
    const store = set.require('state', 'plugged');
    const etag = await store.set('k', bytes('v'));
    expect(await store.get('k')).toEqual({ value: bytes('v'), etag });
    expect((await set.status()).find((s) => s.id === 'state/plugged')).toMatchObject({ type: 'memstore', health: { status: 'UP' } });
  });

  it('fails fast with a clear error while it is down, is reported DOWN, and works again (re-initialised) when it is back', async () => {
    const store = set.require('state', 'plugged');
    await memstore.kill();
    const started = Date.now();
    const error = await rejectsWith(store.get('k'), 'unavailable');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.message).toContain('pluggable state component "plugged" (type memstore');
    expect(error.message).toContain(memstore.socket);
    expect(error.message).toMatch(/reconnects/);
    const health = (await set.status()).find((s) => s.id === 'state/plugged')!;
    expect(health.health).toMatchObject({ status: 'DOWN', reason: expect.stringContaining(memstore.socket) });

    await memstore.start();
    // The restarted process lost its data and its Init; the runtime runs Init again on reconnect.
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await store.set('k', bytes('after restart'));
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(text((await store.get('k'))?.value)).toBe('after restart');
    expect((await set.status()).find((s) => s.id === 'state/plugged')!.health).toEqual({ status: 'UP' });
  });

  it('gives a deadline error, not a hang, when the component hangs', async () => {
    const component = (await set.create('state', unique('hang'), { type: 'memstore', timeoutMs: 300 }, config)) as StateStore;
    await component.init();
    await memstore.pause();
    try {
      const started = Date.now();
      const error = await rejectsWith(component.get('k'), 'unavailable');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(error.message).toMatch(/did not answer Get of key "k" within 300 ms/);
    } finally {
      memstore.resume();
      await component.close();
    }
  });

  it('keeps a subscription: messages published after the component came back are delivered', async () => {
    const broker = set.require('pubsub', 'plugged');
    const topic = unique('comeback');
    const received: string[] = [];
    const subscription = await broker.subscribe(topic, 'g', async (m) => void received.push(text(m.data)!));
    try {
      await broker.publish(topic, bytes('one'));
      await expect.poll(() => received, { timeout: 5000 }).toEqual(['one']);
      await memstore.kill();
      await rejectsWith(broker.publish(topic, bytes('lost')), 'unavailable');
      await memstore.start();
      // The stream is reopened on its own (the restarted broker lost its groups, so the
      // group is created again by the new stream); then publishing works again.
      await expect.poll(async () => {
        await broker.publish(topic, bytes('two'));
        return received.includes('two');
      }, { timeout: 10_000, interval: 300 }).toBe(true);
    } finally {
      await subscription.close();
    }
  });
});
