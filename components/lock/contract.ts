// The distributed lock building block (Layotto's TryLock/Unlock/LockKeepAlive).
// A lock is held by one owner until it is unlocked or its lease expires.
import { ComponentError, type Component } from '../errors.ts';

export type UnlockStatus = 'success' | 'lock-does-not-exist' | 'lock-belongs-to-others';

export interface LockStore extends Component {
  /** Takes the lock for `expireSeconds` if nobody holds it; false if someone else does. */
  tryLock(resourceId: string, owner: string, expireSeconds: number): Promise<boolean>;
  unlock(resourceId: string, owner: string): Promise<UnlockStatus>;
  /** Extends the lease of a lock `owner` holds; false if it does not hold it any more. */
  keepAlive(resourceId: string, owner: string, expireSeconds: number): Promise<boolean>;
}

/** What every lock backend checks before it asks its store. */
export function checkLockArguments(resourceId: string, owner: string, expireSeconds: number): void {
  if (!resourceId || !owner) throw new ComponentError('invalid', 'lock resource id and owner must not be empty');
  if (typeof expireSeconds !== 'number' || !(expireSeconds > 0) || !Number.isFinite(expireSeconds)) {
    throw new ComponentError('invalid', `lock expiry must be a positive number of seconds, got ${String(expireSeconds)}`);
  }
}
