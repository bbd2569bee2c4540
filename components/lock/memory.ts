// Locks in process memory: correct within one runtime process only.
import type { ComponentHealth } from '../errors.ts';
import { checkLockArguments, type LockStore, type UnlockStatus } from './contract.ts';

export class MemoryLockStore implements LockStore {
  readonly kind = 'memory';
  private readonly locks = new Map<string, { owner: string; expiresAt: number }>();

  async init(): Promise<void> {}
  async health(): Promise<ComponentHealth> {
    return { status: 'UP' };
  }
  async close(): Promise<void> {
    this.locks.clear();
  }

  private holder(resourceId: string): { owner: string; expiresAt: number } | undefined {
    const lock = this.locks.get(resourceId);
    if (lock && lock.expiresAt <= Date.now()) {
      this.locks.delete(resourceId);
      return undefined;
    }
    return lock;
  }

  async tryLock(resourceId: string, owner: string, expireSeconds: number): Promise<boolean> {
    checkLockArguments(resourceId, owner, expireSeconds);
    if (this.holder(resourceId)) return false;
    this.locks.set(resourceId, { owner, expiresAt: Date.now() + expireSeconds * 1000 });
    return true;
  }

  async unlock(resourceId: string, owner: string): Promise<UnlockStatus> {
    const lock = this.holder(resourceId);
    if (!lock) return 'lock-does-not-exist';
    if (lock.owner !== owner) return 'lock-belongs-to-others';
    this.locks.delete(resourceId);
    return 'success';
  }

  async keepAlive(resourceId: string, owner: string, expireSeconds: number): Promise<boolean> {
    checkLockArguments(resourceId, owner, expireSeconds);
    const lock = this.holder(resourceId);
    if (!lock || lock.owner !== owner) return false;
    lock.expiresAt = Date.now() + expireSeconds * 1000;
    return true;
  }
}
