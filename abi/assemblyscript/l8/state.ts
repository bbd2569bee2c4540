// Key/value state through the `l8:faas/state` import. Which stores a function may use
// is granted in its manifest (capabilities.state).
import { RET_AREA, liftBytes, liftString, lowerData, lowerString, releaseRetained } from "./abi";
import { HostError, Result, liftError } from "./error";

// @ts-ignore: decorator
@external("l8:faas/state@0.2.0", "get")
declare function state_get(storePtr: usize, storeLen: usize, keyPtr: usize, keyLen: usize, retptr: usize): void;
// @ts-ignore: decorator
@external("l8:faas/state@0.2.0", "set")
declare function state_set(storePtr: usize, storeLen: usize, keyPtr: usize, keyLen: usize, valuePtr: usize, valueLen: usize, retptr: usize): void;
// @ts-ignore: decorator
@external("l8:faas/state@0.2.0", "delete")
declare function state_delete(storePtr: usize, storeLen: usize, keyPtr: usize, keyLen: usize, retptr: usize): void;

// Parameters are lowered into this scratch area as (ptr, len) pairs.
const ARGS: usize = memory.data(24, 4);

/** Calls `get`, leaving its `result<option<list<u8>>, error>` in RET_AREA. */
function callGet(store: string, key: string): void {
  lowerString(store, ARGS);
  lowerString(key, ARGS + 8);
  state_get(load<usize>(ARGS), load<usize>(ARGS, 4), load<usize>(ARGS, 8), load<usize>(ARGS, 12), RET_AREA);
  releaseRetained();
}

/** Reads a `result<_, error>` from RET_AREA. */
function unitResult(): HostError | null {
  return load<u8>(RET_AREA) == 0 ? null : liftError(RET_AREA);
}

/**
 * Key/value state. Values are bytes; a missing key (null) is distinct from an empty value.
 * (A class with static methods rather than a namespace, so that `state.delete` can be
 * spelled: `delete` is a reserved word for functions but not for methods.)
 */
export class state {
  private constructor() {}

  /** The value of `key` in `store`, or null when the key is absent. */
  static get(store: string, key: string): Result<Uint8Array | null> {
    callGet(store, key);
    if (load<u8>(RET_AREA) != 0) return Result.err<Uint8Array | null>(liftError(RET_AREA));
    if (load<u8>(RET_AREA, 4) == 0) return Result.ok<Uint8Array | null>(null);
    return Result.ok<Uint8Array | null>(liftBytes(load<usize>(RET_AREA, 8), load<usize>(RET_AREA, 12)));
  }

  /** The value of `key` decoded as UTF-8, or null when the key is absent. */
  static getText(store: string, key: string): Result<string | null> {
    callGet(store, key);
    if (load<u8>(RET_AREA) != 0) return Result.err<string | null>(liftError(RET_AREA));
    if (load<u8>(RET_AREA, 4) == 0) return Result.ok<string | null>(null);
    return Result.ok<string | null>(liftString(load<usize>(RET_AREA, 8), load<usize>(RET_AREA, 12)));
  }

  /** Stores `value` (a string, stored as UTF-8, a Uint8Array or an ArrayBuffer). Null on success. */
  static set<T>(store: string, key: string, value: T): HostError | null {
    lowerString(store, ARGS);
    lowerString(key, ARGS + 8);
    lowerData<T>(value, ARGS + 16);
    state_set(load<usize>(ARGS), load<usize>(ARGS, 4), load<usize>(ARGS, 8), load<usize>(ARGS, 12), load<usize>(ARGS, 16), load<usize>(ARGS, 20), RET_AREA);
    releaseRetained();
    return unitResult();
  }

  /** Deletes `key`. Null on success. */
  static delete(store: string, key: string): HostError | null {
    lowerString(store, ARGS);
    lowerString(key, ARGS + 8);
    state_delete(load<usize>(ARGS), load<usize>(ARGS, 4), load<usize>(ARGS, 8), load<usize>(ARGS, 12), RET_AREA);
    releaseRetained();
    return unitResult();
  }
}
