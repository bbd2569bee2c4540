// Read-only configuration through the `l8:faas/config` import: the function's literal
// `config` values and the runtime's config keys its manifest grants (capabilities.config).
import { RET_AREA, liftString, lowerString, releaseRetained } from "./abi";
import { Result, liftError } from "./error";

// @ts-ignore: decorator
@external("l8:faas/config@0.2.0", "get")
declare function config_get(keyPtr: usize, keyLen: usize, retptr: usize): void;

const ARGS: usize = memory.data(8, 4);

export namespace config {
  /** The value of `key`, or null when it is not set. */
  export function get(key: string): Result<string | null> {
    lowerString(key, ARGS);
    config_get(load<usize>(ARGS), load<usize>(ARGS, 4), RET_AREA);
    releaseRetained();
    if (load<u8>(RET_AREA) != 0) return Result.err<string | null>(liftError(RET_AREA));
    if (load<u8>(RET_AREA, 4) == 0) return Result.ok<string | null>(null);
    return Result.ok<string | null>(liftString(load<usize>(RET_AREA, 8), load<usize>(RET_AREA, 12)));
  }
}
