// The lock contract: what every lock backend must do, as vitest tests.
//
//   lockContract('redis', async () => new RedisLockStore(settings), { shared: true });
//
// `factory` returns a new component that is not initialised yet; the kit calls init() and
// close(). With `shared`, two components from the factory exclude each other (as two
// runtimes on one Redis must).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, rejectsWith, sleep, unique } from '../contract-kit.ts';
import type { LockStore } from './contract.ts';

export interface LockContractOptions {
  shared?: boolean;
}

export function lockContract(name: string, factory: () => Promise<LockStore>, options: LockContractOptions = {}): void {
  describe(`lock contract: ${name}`, () => {
    let locks: LockStore;
    const resource = (label: string) => unique(`contract-${label}`);

    beforeAll(async () => {
      locks = await factory();
      await locks.init();
    });
    afterAll(async () => {
      await locks?.close();
    });

    it('reports UP after init', async () => {
      expect(await locks.health()).toMatchObject({ status: 'UP' });
    });

    it('gives a free lock to the first owner and refuses everyone else, the owner included', async () => {
      const r = resource('exclusive');
      expect(await locks.tryLock(r, 'alice', 10)).toBe(true);
      expect(await locks.tryLock(r, 'bob', 10)).toBe(false);
      expect(await locks.tryLock(r, 'alice', 10)).toBe(false);
    });

    it('keeps resources apart', async () => {
      expect(await locks.tryLock(resource('one'), 'alice', 10)).toBe(true);
      expect(await locks.tryLock(resource('two'), 'bob', 10)).toBe(true);
    });

    it('lets exactly one of many concurrent callers take a lock', async () => {
      const r = resource('race');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => locks.tryLock(r, `owner-${i}`, 10)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('is released by its owner, and can then be taken by another', async () => {
      const r = resource('unlock');
      await locks.tryLock(r, 'alice', 10);
      expect(await locks.unlock(r, 'alice')).toBe('success');
      expect(await locks.tryLock(r, 'bob', 10)).toBe(true);
    });

    it('is not released by anyone but its owner', async () => {
      const r = resource('not-owner');
      await locks.tryLock(r, 'alice', 10);
      expect(await locks.unlock(r, 'mallory')).toBe('lock-belongs-to-others');
      expect(await locks.tryLock(r, 'bob', 10)).toBe(false);
      expect(await locks.unlock(r, 'alice')).toBe('success');
    });

    it('says when there is nothing to unlock', async () => {
      expect(await locks.unlock(resource('never'), 'alice')).toBe('lock-does-not-exist');
      const r = resource('twice');
      await locks.tryLock(r, 'alice', 10);
      await locks.unlock(r, 'alice');
      expect(await locks.unlock(r, 'alice')).toBe('lock-does-not-exist');
    });

    it('expires after its lease, and the old owner cannot unlock the lock of the new owner', async () => {
      const r = resource('expiry');
      expect(await locks.tryLock(r, 'alice', 1)).toBe(true);
      expect(await locks.tryLock(r, 'bob', 1)).toBe(false);
      await sleep(900);
      await eventually(async () => expect(await locks.tryLock(r, 'bob', 10)).toBe(true), 3000, 50);
      expect(await locks.unlock(r, 'alice')).toBe('lock-belongs-to-others');
      expect(await locks.unlock(r, 'bob')).toBe('success');
    });

    it('reports an expired lock as gone', async () => {
      const r = resource('expired');
      await locks.tryLock(r, 'alice', 1);
      // One check after the lease, not a poll: an unlock before expiry would succeed.
      await sleep(1300);
      expect(await locks.unlock(r, 'alice')).toBe('lock-does-not-exist');
    });

    it('keeps a lock alive for its owner only', async () => {
      const r = resource('keepalive');
      expect(await locks.tryLock(r, 'alice', 1)).toBe(true);
      await sleep(600);
      expect(await locks.keepAlive(r, 'alice', 3)).toBe(true);
      expect(await locks.keepAlive(r, 'bob', 3)).toBe(false);
      await sleep(900); // past the first lease
      expect(await locks.tryLock(r, 'bob', 10)).toBe(false);
      expect(await locks.unlock(r, 'alice')).toBe('success');
    });

    it('does not revive an expired lock', async () => {
      const r = resource('keepalive-late');
      await locks.tryLock(r, 'alice', 1);
      // One check after the lease, not a poll: a keepalive before expiry would extend it.
      await sleep(1300);
      expect(await locks.keepAlive(r, 'alice', 10)).toBe(false);
      expect(await locks.tryLock(r, 'bob', 10)).toBe(true);
    });

    it('refuses empty names and non-positive leases', async () => {
      await rejectsWith(locks.tryLock('', 'alice', 10), 'invalid');
      await rejectsWith(locks.tryLock(resource('bad'), '', 10), 'invalid');
      await rejectsWith(locks.tryLock(resource('bad'), 'alice', 0), 'invalid');
      await rejectsWith(locks.tryLock(resource('bad'), 'alice', -1), 'invalid');
      await rejectsWith(locks.keepAlive(resource('bad'), 'alice', 0), 'invalid');
    });

    if (options.shared) {
      it('excludes a second component on the same backend', async () => {
        const other = await factory();
        await other.init();
        try {
          const r = resource('shared');
          expect(await locks.tryLock(r, 'alice', 10)).toBe(true);
          expect(await other.tryLock(r, 'bob', 10)).toBe(false);
          expect(await other.unlock(r, 'bob')).toBe('lock-belongs-to-others');
          expect(await other.unlock(r, 'alice')).toBe('success');
        } finally {
          await other.close();
        }
      });
    }
  });
}
