// The state contract: what every state backend must do, as vitest tests. A backend is
// done when this kit is green for it. Run it from a *.test.ts file:
//
//   stateContract('redis', async () => new RedisStateStore(settings), { shared: true });
//
// `factory` returns a new component that is not initialised yet; the kit calls init() and
// close(). With `shared`, two components from the factory must see the same data (as two
// runtimes on one Redis do).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allBytes, bytes, eventually, rejectsWith, sleep, text, unique } from '../contract-kit.ts';
import type { StateStore } from './contract.ts';

export interface StateContractOptions {
  shared?: boolean;
}

export function stateContract(name: string, factory: () => Promise<StateStore>, options: StateContractOptions = {}): void {
  describe(`state contract: ${name}`, () => {
    let store: StateStore;
    const key = (label: string) => unique(`contract-${label}`);
    // A backend without a feature must refuse the option, never ignore it silently.
    const refusesEtag = async () => void (await rejectsWith(store.set(key('no-etag'), bytes('x'), { etag: '1' }), 'invalid'));
    const refusesTtl = async () => void (await rejectsWith(store.set(key('no-ttl'), bytes('x'), { ttlSeconds: 1 }), 'invalid'));
    const refusesTransactions = async () => void (await rejectsWith(store.transact([{ op: 'set', key: key('no-tx'), value: bytes('x') }]), 'invalid'));

    beforeAll(async () => {
      store = await factory();
      await store.init();
    });
    afterAll(async () => {
      await store?.close();
    });

    describe('lifecycle', () => {
      it('names its kind and reports UP after init', async () => {
        expect(typeof store.kind).toBe('string');
        expect(store.kind.length).toBeGreaterThan(0);
        expect(await store.health()).toMatchObject({ status: 'UP' });
      });
    });

    describe('get and set', () => {
      it('returns null for a key that was never written', async () => {
        expect(await store.get(key('missing'))).toBeNull();
      });

      it('returns what was written, with the ETag set returned', async () => {
        const k = key('roundtrip');
        const etag = await store.set(k, bytes('hello'));
        expect(typeof etag).toBe('string');
        expect(etag.length).toBeGreaterThan(0);
        const item = await store.get(k);
        expect(text(item?.value)).toBe('hello');
        expect(item?.etag).toBe(etag);
      });

      it('keeps an empty value apart from a missing key', async () => {
        const k = key('empty');
        await store.set(k, new Uint8Array(0));
        const item = await store.get(k);
        expect(item).not.toBeNull();
        expect(item!.value).toBeInstanceOf(Uint8Array);
        expect(item!.value.byteLength).toBe(0);
      });

      it('stores binary values byte for byte (zeros, invalid UTF-8, 1 MiB)', async () => {
        const k = key('binary');
        const value = allBytes();
        await store.set(k, value);
        expect(Array.from((await store.get(k))!.value)).toEqual(Array.from(value));

        const big = new Uint8Array(1 << 20);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
        const kBig = key('big');
        await store.set(kBig, big);
        const back = (await store.get(kBig))!.value;
        expect(back.byteLength).toBe(big.byteLength);
        expect(Buffer.from(back).equals(Buffer.from(big))).toBe(true);
      });

      it('does not change the stored value when the caller reuses its buffer', async () => {
        const k = key('copy');
        const value = bytes('original');
        await store.set(k, value);
        value.fill(0);
        expect(text((await store.get(k))!.value)).toBe('original');
        const read = (await store.get(k))!.value;
        read.fill(0);
        expect(text((await store.get(k))!.value)).toBe('original');
      });

      it('overwrites a value and gives it a new ETag', async () => {
        const k = key('overwrite');
        const first = await store.set(k, bytes('one'));
        const second = await store.set(k, bytes('two'));
        expect(second).not.toBe(first);
        expect(await store.get(k)).toEqual({ value: bytes('two'), etag: second });
      });

      it('keeps keys apart, whatever characters they contain', async () => {
        const base = key('chars');
        const names = [`${base}:a`, `${base}/a`, `${base} a`, `${base}:ä-日本`, `${base}*`, `${base}\n`];
        for (const [i, k] of names.entries()) await store.set(k, bytes(String(i)));
        for (const [i, k] of names.entries()) expect(text((await store.get(k))?.value)).toBe(String(i));
      });
    });

    describe('delete', () => {
      it('removes a key', async () => {
        const k = key('delete');
        await store.set(k, bytes('x'));
        await store.delete(k);
        expect(await store.get(k)).toBeNull();
      });

      it('succeeds for a key that does not exist', async () => {
        await expect(store.delete(key('delete-missing'))).resolves.toBeUndefined();
      });

      it('lets a deleted key be written again', async () => {
        const k = key('recreate');
        await store.set(k, bytes('a'));
        await store.delete(k);
        const etag = await store.set(k, bytes('b'));
        expect(await store.get(k)).toEqual({ value: bytes('b'), etag });
      });
    });

    describe('ETags (optimistic concurrency)', () => {
      it('writes when the ETag is current and returns a new one', async () => {
        if (!store.features.etag) {
          await rejectsWith(store.set(key('no-etag'), bytes('x'), { etag: '1' }), 'invalid');
          return;
        }
        const k = key('etag-ok');
        const etag = await store.set(k, bytes('a'));
        const next = await store.set(k, bytes('b'), { etag });
        expect(next).not.toBe(etag);
        expect(await store.get(k)).toEqual({ value: bytes('b'), etag: next });
      });

      it('refuses a stale ETag with a conflict that names the key and says what to do', async () => {
        if (!store.features.etag) return refusesEtag();
        const k = key('etag-stale');
        const stale = await store.set(k, bytes('a'));
        const current = await store.set(k, bytes('b'));
        const error = await rejectsWith(store.set(k, bytes('c'), { etag: stale }), 'conflict');
        expect(error.message).toContain(k);
        expect(error.message).toMatch(/etag/i);
        expect(error.message).toMatch(/read .*again|retry/i);
        expect(await store.get(k)).toEqual({ value: bytes('b'), etag: current });
      });

      it('refuses an ETag for a key that does not exist', async () => {
        if (!store.features.etag) return refusesEtag();
        const k = key('etag-missing');
        await rejectsWith(store.set(k, bytes('a'), { etag: 'no-such-etag' }), 'conflict');
        expect(await store.get(k)).toBeNull();
      });

      it('does not accept an ETag of the value a key had before it was deleted', async () => {
        if (!store.features.etag) return refusesEtag();
        const k = key('etag-aba');
        const old = await store.set(k, bytes('a'));
        await store.delete(k);
        await store.set(k, bytes('b'));
        await rejectsWith(store.set(k, bytes('c'), { etag: old }), 'conflict');
      });

      it('deletes with the current ETag and refuses a stale one', async () => {
        if (!store.features.etag) {
          await rejectsWith(store.delete(key('no-etag'), { etag: '1' }), 'invalid');
          return;
        }
        const k = key('etag-delete');
        const stale = await store.set(k, bytes('a'));
        const current = await store.set(k, bytes('b'));
        const error = await rejectsWith(store.delete(k, { etag: stale }), 'conflict');
        expect(error.message).toContain(k);
        expect(await store.get(k)).toEqual({ value: bytes('b'), etag: current });
        await store.delete(k, { etag: current });
        expect(await store.get(k)).toBeNull();
        await rejectsWith(store.delete(k, { etag: current }), 'conflict');
      });

      it('lets exactly one of several concurrent writers with the same ETag win', async () => {
        if (!store.features.etag) return refusesEtag();
        const k = key('etag-race');
        const etag = await store.set(k, bytes('start'));
        const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.set(k, bytes(`writer-${i}`), { etag })));
        const winners = outcomes.filter((o) => o.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as { code?: string }).code).toBe('conflict');
        const item = await store.get(k);
        expect(item?.etag).toBe((winners[0] as PromiseFulfilledResult<string>).value);
      });
    });

    describe('TTL', () => {
      it('expires a key after its TTL', async () => {
        const k = key('ttl');
        if (!store.features.ttl) {
          await rejectsWith(store.set(k, bytes('x'), { ttlSeconds: 1 }), 'invalid');
          return;
        }
        await store.set(k, bytes('x'), { ttlSeconds: 1 });
        expect(text((await store.get(k))?.value)).toBe('x');
        await sleep(900);
        await eventually(async () => expect(await store.get(k)).toBeNull(), 3000);
      });

      it('removes the expiry when a key is overwritten without a TTL', async () => {
        if (!store.features.ttl) return refusesTtl();
        const k = key('ttl-cleared');
        await store.set(k, bytes('x'), { ttlSeconds: 1 });
        await store.set(k, bytes('y'));
        await sleep(1300);
        expect(text((await store.get(k))?.value)).toBe('y');
      });

      it('keeps a key without a TTL', async () => {
        const k = key('no-ttl');
        await store.set(k, bytes('x'));
        await sleep(1100);
        expect(text((await store.get(k))?.value)).toBe('x');
      });
    });

    describe('bulk operations', () => {
      it('bulk get returns items in the order asked, null for missing keys', async () => {
        const [a, b, missing] = [key('bulk-a'), key('bulk-b'), key('bulk-missing')];
        const etagA = await store.set(a, bytes('A'));
        const etagB = await store.set(b, new Uint8Array(0));
        const items = await store.bulkGet([b, missing, a]);
        expect(items).toHaveLength(3);
        expect(items[0]).toEqual({ value: new Uint8Array(0), etag: etagB });
        expect(items[1]).toBeNull();
        expect(items[2]).toEqual({ value: bytes('A'), etag: etagA });
        expect(await store.bulkGet([])).toEqual([]);
      });

      it('bulk set writes every item and returns their ETags in order', async () => {
        const keys = Array.from({ length: 20 }, (_, i) => key(`bulkset-${i}`));
        const etags = await store.bulkSet(keys.map((k, i) => ({ key: k, value: bytes(`v${i}`) })));
        expect(etags).toHaveLength(keys.length);
        const items = await store.bulkGet(keys);
        items.forEach((item, i) => expect(item).toEqual({ value: bytes(`v${i}`), etag: etags[i] }));
        expect(await store.bulkSet([])).toEqual([]);
      });

      it('bulk set reports a stale ETag as a conflict and leaves that key unchanged', async () => {
        if (!store.features.etag) return refusesEtag();
        const [a, b] = [key('bulk-stale-a'), key('bulk-stale-b')];
        const stale = await store.set(a, bytes('a1'));
        const current = await store.set(a, bytes('a2'));
        const error = await rejectsWith(store.bulkSet([{ key: b, value: bytes('b') }, { key: a, value: bytes('a3'), options: { etag: stale } }]), 'conflict');
        expect(error.message).toContain(a);
        expect(await store.get(a)).toEqual({ value: bytes('a2'), etag: current });
      });

      it('bulk set applies per-item TTLs', async () => {
        if (!store.features.ttl) return refusesTtl();
        const [short, long] = [key('bulk-ttl-short'), key('bulk-ttl-long')];
        await store.bulkSet([{ key: short, value: bytes('s'), options: { ttlSeconds: 1 } }, { key: long, value: bytes('l') }]);
        await sleep(900);
        await eventually(async () => expect(await store.get(short)).toBeNull(), 3000);
        expect(text((await store.get(long))?.value)).toBe('l');
      });
    });

    describe('transactions', () => {
      it('applies sets and deletes together', async () => {
        const [a, b, c] = [key('tx-a'), key('tx-b'), key('tx-c')];
        await store.set(c, bytes('to delete'));
        if (!store.features.transactions) {
          await rejectsWith(store.transact([{ op: 'set', key: a, value: bytes('A') }]), 'invalid');
          return;
        }
        await store.transact([
          { op: 'set', key: a, value: bytes('A') },
          { op: 'set', key: b, value: bytes('B') },
          { op: 'delete', key: c },
        ]);
        expect(text((await store.get(a))?.value)).toBe('A');
        expect(text((await store.get(b))?.value)).toBe('B');
        expect(await store.get(c)).toBeNull();
      });

      it('applies nothing when any ETag is stale, and says so', async () => {
        if (!store.features.transactions) return refusesTransactions();
        const [a, b, c] = [key('tx-all-a'), key('tx-all-b'), key('tx-all-c')];
        const etagA = await store.set(a, bytes('a1'));
        const staleB = await store.set(b, bytes('b1'));
        const etagB = await store.set(b, bytes('b2'));
        const etagC = await store.set(c, bytes('c1'));
        const error = await rejectsWith(
          store.transact([
            { op: 'set', key: a, value: bytes('a2'), options: { etag: etagA } },
            { op: 'delete', key: c },
            { op: 'set', key: b, value: bytes('b3'), options: { etag: staleB } },
          ]),
          'conflict',
        );
        expect(error.message).toContain(b);
        expect(await store.get(a)).toEqual({ value: bytes('a1'), etag: etagA });
        expect(await store.get(b)).toEqual({ value: bytes('b2'), etag: etagB });
        expect(await store.get(c)).toEqual({ value: bytes('c1'), etag: etagC });
      });

      it('checks ETags of deletes too, and applies when every ETag is current', async () => {
        if (!store.features.transactions) return refusesTransactions();
        const [a, b] = [key('tx-del-a'), key('tx-del-b')];
        const etagA = await store.set(a, bytes('a'));
        const etagB = await store.set(b, bytes('b'));
        await rejectsWith(
          store.transact([
            { op: 'set', key: a, value: bytes('a2') },
            { op: 'delete', key: b, options: { etag: 'stale' } },
          ]),
          'conflict',
        );
        expect(await store.get(a)).toEqual({ value: bytes('a'), etag: etagA });
        await store.transact([
          { op: 'set', key: a, value: bytes('a2'), options: { etag: etagA } },
          { op: 'delete', key: b, options: { etag: etagB } },
        ]);
        expect(text((await store.get(a))?.value)).toBe('a2');
        expect(await store.get(b)).toBeNull();
      });

      it('accepts an empty transaction', async () => {
        if (!store.features.transactions) return refusesTransactions();
        await expect(store.transact([])).resolves.toBeUndefined();
      });
    });

    if (options.shared) {
      describe('shared backend', () => {
        it('a second component on the same backend sees the same data and ETags', async () => {
          const other = await factory();
          await other.init();
          try {
            const k = key('shared');
            const etag = await store.set(k, bytes('from first'));
            expect(await other.get(k)).toEqual({ value: bytes('from first'), etag });
            if (store.features.etag) {
              const next = await other.set(k, bytes('from second'), { etag });
              await rejectsWith(store.set(k, bytes('stale'), { etag }), 'conflict');
              expect(await store.get(k)).toEqual({ value: bytes('from second'), etag: next });
            }
          } finally {
            await other.close();
          }
        });
      });
    }

    describe('close', () => {
      it('can be called twice', async () => {
        const other = await factory();
        await other.init();
        await other.close();
        await expect(other.close()).resolves.toBeUndefined();
      });
    });
  });
}
