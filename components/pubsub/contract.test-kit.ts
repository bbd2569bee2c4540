// The pub/sub contract: what every pub/sub backend must do, as vitest tests.
//
//   pubsubContract('kafka', async () => new KafkaPubSub(options));
//
// `factory` returns a new component that is not initialised yet; the kit calls init() and
// close(). Every test uses topics and groups of its own, so the kit runs against brokers
// that keep data between runs. `deliveryTimeoutMs` bounds each wait for a delivery (brokers
// whose groups take seconds to join need more than the default).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allBytes, bytes, eventually, rejectsWith, sleep, text, unique } from '../contract-kit.ts';
import { PARTITION_KEY, type Message, type PubSub, type Subscription } from './contract.ts';

export interface PubsubContractOptions {
  deliveryTimeoutMs?: number;
}

/** Collects deliveries; `handle` is the handler to subscribe with. */
function collector(behaviour: (message: Message, attempt: number) => Promise<void> = async () => {}) {
  const received: Message[] = [];
  const attempts = new Map<string, number>();
  return {
    received,
    attempts,
    handle: async (message: Message) => {
      const attempt = (attempts.get(message.id) ?? 0) + 1;
      attempts.set(message.id, attempt);
      await behaviour(message, attempt);
      received.push(message);
    },
    ids: () => received.map((m) => m.id),
    texts: () => received.map((m) => text(m.data)),
  };
}

export function pubsubContract(name: string, factory: () => Promise<PubSub>, options: PubsubContractOptions = {}): void {
  const wait = options.deliveryTimeoutMs ?? 10_000;
  // Room for a test's waits, so a slow broker fails on the wait that says what was missing.
  const timeout = wait * 2 + 10_000;

  describe(`pubsub contract: ${name}`, () => {
    let broker: PubSub;
    const open: Subscription[] = [];
    const topic = (label: string) => unique(`contract-${label}`);
    const group = (label: string) => unique(`group-${label}`);
    const subscribe = async (t: string, g: string, handler: (m: Message) => Promise<void>) => {
      const subscription = await broker.subscribe(t, g, handler);
      open.push(subscription);
      return subscription;
    };

    beforeAll(async () => {
      broker = await factory();
      await broker.init();
    });
    afterAll(async () => {
      for (const s of open) await s.close().catch(() => {});
      await broker?.close();
    });

    it('reports UP after init', async () => {
      expect(await broker.health()).toMatchObject({ status: 'UP' });
    }, timeout);

    it('returns a distinct, non-empty id for every publish', async () => {
      const t = topic('ids');
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await broker.publish(t, bytes(`m${i}`)));
      for (const id of ids) expect(typeof id === 'string' && id.length > 0).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
    }, timeout);

    it('refuses an empty topic name', async () => {
      await rejectsWith(broker.publish('', bytes('x')), 'invalid');
    }, timeout);

    it('delivers a message with its id, topic, bytes and metadata', async () => {
      const t = topic('deliver');
      const c = collector();
      await subscribe(t, group('deliver'), c.handle);
      const data = allBytes();
      const id = await broker.publish(t, data, { 'content-type': 'application/octet-stream', 'l8.trace': 'abc 123 ä' });
      const message = await eventually(() => {
        expect(c.received).toHaveLength(1);
        return c.received[0]!;
      }, wait);
      expect(message.id).toBe(id);
      expect(message.topic).toBe(t);
      expect(Array.from(message.data)).toEqual(Array.from(data));
      expect(message.metadata).toMatchObject({ 'content-type': 'application/octet-stream', 'l8.trace': 'abc 123 ä' });
    }, timeout);

    it('delivers empty and 256 KiB messages', async () => {
      const t = topic('sizes');
      const c = collector();
      await subscribe(t, group('sizes'), c.handle);
      const big = new Uint8Array(256 * 1024).map((_, i) => (i * 31) & 0xff);
      await broker.publish(t, new Uint8Array(0));
      await broker.publish(t, big);
      await eventually(() => expect(c.received).toHaveLength(2), wait);
      const sizes = c.received.map((m) => m.data.byteLength).sort((a, b) => a - b);
      expect(sizes).toEqual([0, big.byteLength]);
      const back = c.received.find((m) => m.data.byteLength === big.byteLength)!.data;
      expect(Buffer.from(back).equals(Buffer.from(big))).toBe(true);
    }, timeout);

    it('keeps topics apart', async () => {
      const [a, b] = [topic('apart-a'), topic('apart-b')];
      const ca = collector();
      const cb = collector();
      await subscribe(a, group('apart'), ca.handle);
      await subscribe(b, group('apart'), cb.handle);
      await broker.publish(a, bytes('to a'));
      await broker.publish(b, bytes('to b'));
      await eventually(() => {
        expect(ca.texts()).toEqual(['to a']);
        expect(cb.texts()).toEqual(['to b']);
      }, wait);
    }, timeout);

    it('gives every message to each of two groups', async () => {
      const t = topic('groups');
      const one = collector();
      const two = collector();
      await subscribe(t, group('one'), one.handle);
      await subscribe(t, group('two'), two.handle);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await broker.publish(t, bytes(`m${i}`)));
      await eventually(() => {
        expect(new Set(one.ids())).toEqual(new Set(ids));
        expect(new Set(two.ids())).toEqual(new Set(ids));
      }, wait);
    }, timeout);

    it('delivers a message again after its handler rejected', async () => {
      const t = topic('redeliver');
      const c = collector(async (_m, attempt) => {
        if (attempt < 3) throw new Error(`failing attempt ${attempt} on purpose`);
      });
      await subscribe(t, group('redeliver'), c.handle);
      const id = await broker.publish(t, bytes('again'), { k: 'v' });
      await eventually(() => expect(c.ids()).toEqual([id]), wait);
      expect(c.attempts.get(id)).toBe(3);
      expect(c.received[0]).toMatchObject({ id, topic: t, metadata: { k: 'v' } });
      expect(text(c.received[0]!.data)).toBe('again');
    }, timeout);

    it('keeps the order of messages with the same partition key, a redelivery included', async () => {
      const t = topic('order');
      let failedOnce = false;
      const c = collector(async (m) => {
        if (text(m.data) === 'a-5' && !failedOnce) {
          failedOnce = true;
          throw new Error('fail a-5 once on purpose');
        }
      });
      await subscribe(t, group('order'), c.handle);
      for (let i = 0; i < 15; i++) {
        await broker.publish(t, bytes(`a-${i}`), { [PARTITION_KEY]: 'a' });
        await broker.publish(t, bytes(`b-${i}`), { [PARTITION_KEY]: 'b' });
      }
      await eventually(() => expect(c.received).toHaveLength(30), wait);
      const expected = (k: string) => Array.from({ length: 15 }, (_, i) => `${k}-${i}`);
      expect(c.texts().filter((s) => s!.startsWith('a-'))).toEqual(expected('a'));
      expect(c.texts().filter((s) => s!.startsWith('b-'))).toEqual(expected('b'));
      expect(failedOnce).toBe(true);
    }, timeout);

    it('stops delivering on close; a new subscriber of the group gets what was published meanwhile', async () => {
      const t = topic('resume');
      const g = group('resume');
      const first = collector();
      const sub = await subscribe(t, g, first.handle);
      const before = await broker.publish(t, bytes('before'));
      await eventually(() => expect(first.ids()).toEqual([before]), wait);
      await sub.close();

      const during: string[] = [];
      for (let i = 0; i < 5; i++) during.push(await broker.publish(t, bytes(`during-${i}`)));
      await sleep(500);
      expect(first.ids()).toEqual([before]);

      const second = collector();
      await subscribe(t, g, second.handle);
      const after = await broker.publish(t, bytes('after'));
      await eventually(() => expect(second.ids()).toEqual(expect.arrayContaining([...during, after])), wait);
      // What the first subscriber acknowledged is not delivered again.
      expect(second.ids()).not.toContain(before);
      expect(first.ids()).toEqual([before]);
    }, timeout);

    it('acknowledges nothing before the handler resolved: a message in flight at close goes to the next subscriber', async () => {
      const t = topic('inflight');
      const g = group('inflight');
      let release!: (error: Error) => void;
      let markStarted!: (message: Message) => void;
      const started = new Promise<Message>((resolve) => (markStarted = resolve));
      const firstSub = await subscribe(t, g, (m) => {
        markStarted(m);
        return new Promise<void>((_resolve, reject) => (release = reject));
      });
      const id = await broker.publish(t, bytes('in flight'));
      const inFlight = await Promise.race([started, sleep(wait).then(() => null)]);
      expect(inFlight?.id).toBe(id);

      const closing = firstSub.close();
      release(new Error('handler gave up during shutdown'));
      await closing;

      const second = collector();
      await subscribe(t, g, second.handle);
      await eventually(() => expect(second.ids()).toContain(id), wait);
      expect(text(second.received.find((m) => m.id === id)!.data)).toBe('in flight');
    }, timeout);

    it('lets an unsubscribed topic be published to, and does not replay it to a group created later', async () => {
      const t = topic('late-group');
      const early = await broker.publish(t, bytes('before any group'));
      const c = collector();
      await subscribe(t, group('late'), c.handle);
      const late = await broker.publish(t, bytes('after the group'));
      await eventually(() => expect(c.ids()).toContain(late), wait);
      expect(c.ids()).not.toContain(early);
    }, timeout);
  });
}
