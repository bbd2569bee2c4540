// The sequencer contract: what every sequencer backend must do, as vitest tests.
//
//   sequencerContract('redis', async () => new RedisSequencer(settings), { shared: true });
//
// `factory` returns a new component that is not initialised yet; the kit calls init() and
// close(). With `shared`, components from the factory draw from the same sequences, and
// a component created after another was closed continues above its ids (restarts and
// several runtimes never hand out an id twice).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectsWith, unique } from '../contract-kit.ts';
import type { Sequencer } from './contract.ts';

export interface SequencerContractOptions {
  shared?: boolean;
}

function expectStrictlyIncreasing(ids: bigint[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (!(ids[i]! > ids[i - 1]!)) throw new Error(`id ${ids[i]} at position ${i} is not greater than ${ids[i - 1]} before it: ${ids.join(', ')}`);
  }
}

export function sequencerContract(name: string, factory: () => Promise<Sequencer>, options: SequencerContractOptions = {}): void {
  describe(`sequencer contract: ${name}`, () => {
    let sequencer: Sequencer;
    const key = (label: string) => unique(`contract-${label}`);

    beforeAll(async () => {
      sequencer = await factory();
      await sequencer.init();
    });
    afterAll(async () => {
      await sequencer?.close();
    });

    it('reports UP after init', async () => {
      expect(await sequencer.health()).toMatchObject({ status: 'UP' });
    });

    it('returns positive bigint ids, strictly increasing per key', async () => {
      const k = key('increasing');
      const ids: bigint[] = [];
      for (let i = 0; i < 50; i++) ids.push(await sequencer.nextId(k));
      expect(typeof ids[0]).toBe('bigint');
      expect(ids[0]! > 0n).toBe(true);
      expectStrictlyIncreasing(ids);
    });

    it('keeps the sequences of different keys apart', async () => {
      const [a, b] = [key('a'), key('b')];
      const idsA: bigint[] = [];
      const idsB: bigint[] = [];
      for (let i = 0; i < 10; i++) {
        idsA.push(await sequencer.nextId(a));
        idsB.push(await sequencer.nextId(b));
      }
      expectStrictlyIncreasing(idsA);
      expectStrictlyIncreasing(idsB);
      // A fresh key does not continue another key's sequence.
      expect(idsB[0]! <= idsA[idsA.length - 1]!).toBe(true);
    });

    it('gives concurrent callers distinct ids, all above the ids handed out before', async () => {
      const k = key('concurrent');
      const before = await sequencer.nextId(k);
      const ids = await Promise.all(Array.from({ length: 200 }, () => sequencer.nextId(k)));
      expect(new Set(ids.map(String)).size).toBe(ids.length);
      for (const id of ids) expect(id > before).toBe(true);
      const after = await sequencer.nextId(k);
      for (const id of ids) expect(after > id).toBe(true);
    });

    it('refuses an empty key', async () => {
      await rejectsWith(sequencer.nextId(''), 'invalid');
    });

    if (options.shared) {
      it('shares its sequences with a second component, concurrently and after a restart', async () => {
        const k = key('shared');
        const first = await sequencer.nextId(k);
        const other = await factory();
        await other.init();
        try {
          const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? other : sequencer).nextId(k)));
          expect(new Set(ids.map(String)).size).toBe(ids.length);
          for (const id of ids) expect(id > first).toBe(true);
        } finally {
          await other.close();
        }
        const max = await sequencer.nextId(k);
        const restarted = await factory();
        await restarted.init();
        try {
          expect((await restarted.nextId(k)) > max).toBe(true);
        } finally {
          await restarted.close();
        }
      });
    }
  });
}
