// Distributed locks through the `l8:faas/lock` import (ABI 0.2.0): a lock on a resource
// is held by one owner until it is unlocked or its lease expires. Which lock stores a
// function may use is granted in its manifest (capabilities.lock).
import { RET_AREA, lowerString, releaseRetained } from "./abi";
import { ErrorCode, HostError, Result, liftError } from "./error";

// @ts-ignore: decorator
@external("l8:faas/lock@0.2.0", "try-lock")
declare function lock_try_lock(
  storePtr: usize, storeLen: usize,
  resourcePtr: usize, resourceLen: usize,
  ownerPtr: usize, ownerLen: usize,
  expireSeconds: u32,
  retptr: usize,
): void;
// @ts-ignore: decorator
@external("l8:faas/lock@0.2.0", "unlock")
declare function lock_unlock(
  storePtr: usize, storeLen: usize,
  resourcePtr: usize, resourceLen: usize,
  ownerPtr: usize, ownerLen: usize,
  retptr: usize,
): void;
// @ts-ignore: decorator
@external("l8:faas/lock@0.2.0", "keep-alive")
declare function lock_keep_alive(
  storePtr: usize, storeLen: usize,
  resourcePtr: usize, resourceLen: usize,
  ownerPtr: usize, ownerLen: usize,
  expireSeconds: u32,
  retptr: usize,
): void;

/** What `lock.unlock` found (the WIT `lock.unlock-status`). */
export enum UnlockStatus {
  /** The owner held the lock; it is released. */
  Success = 0,
  /** Nobody holds the lock (never taken, already unlocked, or its lease expired). */
  LockDoesNotExist = 1,
  /** Someone else holds the lock; it is left alone. */
  LockBelongsToOthers = 2,
}

/** The status as spelled in the WIT: "success", "lock-does-not-exist", "lock-belongs-to-others". */
export function unlockStatusName(status: UnlockStatus): string {
  switch (status) {
    case UnlockStatus.Success: return "success";
    case UnlockStatus.LockDoesNotExist: return "lock-does-not-exist";
    case UnlockStatus.LockBelongsToOthers: return "lock-belongs-to-others";
    default: return "unlock-status-" + (<i32>status).toString();
  }
}

// Store, resource and owner are lowered into this scratch area as (ptr, len) pairs.
const ARGS: usize = memory.data(24, 4);

function lowerArgs(store: string, resource: string, owner: string): void {
  lowerString(store, ARGS);
  lowerString(resource, ARGS + 8);
  lowerString(owner, ARGS + 16);
}

/** Reads a `result<bool, error>` from RET_AREA: the bool is the byte at offset 4. */
function boolResult(): Result<bool> {
  if (load<u8>(RET_AREA) != 0) return Result.err<bool>(liftError(RET_AREA));
  return Result.ok<bool>(load<u8>(RET_AREA, 4) != 0);
}

export namespace lock {
  /**
   * Takes the lock on `resource` in `store` for `owner`, for `expireSeconds` (at least 1),
   * unless someone holds it: true if taken, false if it is held by anyone, `owner`
   * included (locks are not reentrant).
   */
  export function tryLock(store: string, resource: string, owner: string, expireSeconds: u32): Result<bool> {
    lowerArgs(store, resource, owner);
    lock_try_lock(load<usize>(ARGS), load<usize>(ARGS, 4), load<usize>(ARGS, 8), load<usize>(ARGS, 12), load<usize>(ARGS, 16), load<usize>(ARGS, 20), expireSeconds, RET_AREA);
    releaseRetained();
    return boolResult();
  }

  /** Releases the lock on `resource` if `owner` holds it; the status says what was found. */
  export function unlock(store: string, resource: string, owner: string): Result<UnlockStatus> {
    lowerArgs(store, resource, owner);
    lock_unlock(load<usize>(ARGS), load<usize>(ARGS, 4), load<usize>(ARGS, 8), load<usize>(ARGS, 12), load<usize>(ARGS, 16), load<usize>(ARGS, 20), RET_AREA);
    releaseRetained();
    if (load<u8>(RET_AREA) != 0) return Result.err<UnlockStatus>(liftError(RET_AREA));
    const status = <i32>load<u8>(RET_AREA, 4);
    if (status > UnlockStatus.LockBelongsToOthers) {
      // Unlike an unknown error code, an unknown status has no safe reading (the lock may
      // or may not be released).
      return Result.err<UnlockStatus>(new HostError(ErrorCode.Internal,
        `the host answered unlock status ${status}, which this SDK does not know (it knows 0-2); update the L8 AssemblyScript SDK`));
    }
    return Result.ok<UnlockStatus>(<UnlockStatus>status);
  }

  /** Extends the lease `owner` holds on `resource` to `expireSeconds` from now: false if it does not hold the lock any more. */
  export function keepAlive(store: string, resource: string, owner: string, expireSeconds: u32): Result<bool> {
    lowerArgs(store, resource, owner);
    lock_keep_alive(load<usize>(ARGS), load<usize>(ARGS, 4), load<usize>(ARGS, 8), load<usize>(ARGS, 12), load<usize>(ARGS, 16), load<usize>(ARGS, 20), expireSeconds, RET_AREA);
    releaseRetained();
    return boolResult();
  }
}
