// Increasing ids through the `l8:faas/sequencer` import (ABI 0.2.0): every id a
// sequencer returns for a key is greater than all it returned before for that key.
// Which sequencers a function may use is granted in its manifest (capabilities.sequencer).
import { RET_AREA, lowerString, releaseRetained } from "./abi";
import { Result, liftError } from "./error";

// @ts-ignore: decorator
@external("l8:faas/sequencer@0.2.0", "next-id")
declare function sequencer_next_id(storePtr: usize, storeLen: usize, keyPtr: usize, keyLen: usize, retptr: usize): void;

const ARGS: usize = memory.data(16, 4);

export namespace sequencer {
  /** The next id of `key` from the sequencer `store`. */
  export function nextId(store: string, key: string): Result<u64> {
    lowerString(store, ARGS);
    lowerString(key, ARGS + 8);
    // RET_AREA is 8-byte aligned, as result<u64, error> requires.
    sequencer_next_id(load<usize>(ARGS), load<usize>(ARGS, 4), load<usize>(ARGS, 8), load<usize>(ARGS, 12), RET_AREA);
    releaseRetained();
    // The payload is aligned to the u64: the id, or the error record, starts at offset 8.
    if (load<u8>(RET_AREA) != 0) return Result.err<u64>(liftError(RET_AREA, 8));
    return Result.ok<u64>(load<u64>(RET_AREA, 8));
  }
}
