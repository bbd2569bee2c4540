// The configuration contract: what every config store must do, as vitest tests.
//
//   configContract('file', async (initial) => storeOver(initial), { changeSource });
//
// `factory(initial)` returns a new, not yet initialised store whose source holds
// `initial` (flat keys to string values); the kit calls init() and close(). A store that is
// not writable must refuse set/delete with ComponentError('invalid'). `changeSource`, for
// stores whose source can change behind their back (a file edited by an operator, a
// config server), replaces the source's values; the store must then reload and notify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, rejectsWith } from '../contract-kit.ts';
import type { ConfigChange, ConfigStore } from './contract.ts';

export interface ConfigContractOptions {
  changeSource?: (store: ConfigStore, values: Record<string, string>) => Promise<void>;
  /** Bounds the wait for a reload after changeSource. */
  reloadTimeoutMs?: number;
}

const sortChanges = (changes: ConfigChange[]) => [...changes].sort((a, b) => a.key.localeCompare(b.key));

export function configContract(name: string, factory: (initial: Record<string, string>) => Promise<ConfigStore>, options: ConfigContractOptions = {}): void {
  describe(`config contract: ${name}`, () => {
    const initial = { 'app.greeting': 'hello', 'app.limit': '10', 'feature.x': 'on', empty: '' };
    let store: ConfigStore;
    const stores: ConfigStore[] = [];
    const fresh = async (values: Record<string, string> = initial) => {
      const s = await factory(values);
      await s.init();
      stores.push(s);
      return s;
    };

    beforeAll(async () => {
      store = await fresh();
    });
    afterAll(async () => {
      for (const s of stores) await s.close();
    });

    it('reports UP after init', async () => {
      expect(await store.health()).toMatchObject({ status: 'UP' });
    });

    it('gets every value it was given, and null for unknown keys', () => {
      for (const [key, value] of Object.entries(initial)) expect(store.get(key)).toBe(value);
      expect(store.get('no.such.key')).toBeNull();
    });

    it('lists all entries, as a copy the caller may change', () => {
      const entries = store.entries();
      expect(Object.fromEntries(entries)).toEqual(initial);
      entries.set('app.greeting', 'changed by caller');
      entries.delete('feature.x');
      expect(store.get('app.greeting')).toBe('hello');
      expect(store.get('feature.x')).toBe('on');
    });

    it('sets and deletes values when writable, telling watchers what changed', async () => {
      const s = await fresh();
      const seen: ConfigChange[][] = [];
      const stop = s.watch((changes) => seen.push(changes));
      if (!s.writable) {
        await rejectsWith(s.set({ 'app.greeting': 'bye' }), 'invalid');
        await rejectsWith(s.delete(['app.greeting']), 'invalid');
        expect(s.get('app.greeting')).toBe('hello');
        stop();
        return;
      }
      await s.set({ 'app.greeting': 'bye', 'app.new': 'fresh' });
      expect(s.get('app.greeting')).toBe('bye');
      expect(s.get('app.new')).toBe('fresh');
      await eventually(() => expect(seen.flat().length).toBeGreaterThanOrEqual(2), 3000);
      expect(sortChanges(seen.flat())).toEqual([
        { key: 'app.greeting', value: 'bye' },
        { key: 'app.new', value: 'fresh' },
      ]);

      seen.length = 0;
      await s.delete(['app.new', 'no.such.key']);
      expect(s.get('app.new')).toBeNull();
      expect(s.entries().has('app.new')).toBe(false);
      await eventually(() => expect(seen.flat()).toEqual([{ key: 'app.new', value: null }]), 3000);
      stop();
    });

    it('does not notify about a write that changes nothing', async () => {
      const s = await fresh();
      if (!s.writable) return void (await rejectsWith(s.set({ 'app.limit': '10' }), 'invalid'));
      const seen: ConfigChange[][] = [];
      const stop = s.watch((changes) => seen.push(changes));
      await s.set({ 'app.limit': '10' });
      await s.set({ 'app.limit': '11' });
      await eventually(() => expect(seen.flat()).toEqual([{ key: 'app.limit', value: '11' }]), 3000);
      stop();
    });

    it('stops notifying a watcher once it unsubscribed, and keeps notifying the others', async () => {
      const s = await fresh();
      const change = options.changeSource ?? (s.writable ? (st: ConfigStore, values: Record<string, string>) => st.set(values) : null);
      if (!change) return void (await rejectsWith(s.set({ a: 'b' }), 'invalid'));
      const stopped: ConfigChange[] = [];
      const kept: ConfigChange[] = [];
      const stop = s.watch((changes) => stopped.push(...changes));
      const stopKept = s.watch((changes) => kept.push(...changes));
      stop();
      await change(s, { ...initial, 'feature.x': 'off' });
      await eventually(() => expect(kept).toContainEqual({ key: 'feature.x', value: 'off' }), options.reloadTimeoutMs ?? 5000);
      expect(stopped).toEqual([]);
      stopKept();
    });

    if (options.changeSource) {
      it('reloads when its source changes, and tells watchers exactly what changed', async () => {
        const s = await fresh();
        const seen: ConfigChange[] = [];
        const stop = s.watch((changes) => seen.push(...changes));
        const next = { ...initial, 'app.greeting': 'reloaded', 'app.added': 'new' } as Record<string, string>;
        delete next['feature.x'];
        await options.changeSource!(s, next);
        await eventually(() => expect(s.get('app.greeting')).toBe('reloaded'), options.reloadTimeoutMs ?? 5000);
        expect(Object.fromEntries(s.entries())).toEqual(next);
        await eventually(
          () =>
            expect(sortChanges(seen)).toEqual([
              { key: 'app.added', value: 'new' },
              { key: 'app.greeting', value: 'reloaded' },
              { key: 'feature.x', value: null },
            ]),
          options.reloadTimeoutMs ?? 5000,
        );
        stop();
      });
    }
  });
}
