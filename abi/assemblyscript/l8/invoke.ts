// Calling another deployed function through the `l8:faas/invoke` import, without going
// through the network. Which functions may be called is granted in the manifest
// (capabilities.invoke).
import { RET_AREA, liftBytes, liftFields, lowerFields, lowerString, releaseRetained, retainBytes } from "./abi";
import { Result, liftError } from "./error";
import { Request, Response } from "./http";

// @ts-ignore: decorator
@external("l8:faas/invoke@0.2.0", "call")
declare function invoke_call(
  targetPtr: usize, targetLen: usize,
  methodPtr: usize, methodLen: usize,
  pathPtr: usize, pathLen: usize,
  queryPtr: usize, queryLen: usize,
  headersPtr: usize, headersLen: usize,
  bodyPtr: usize, bodyLen: usize,
  retptr: usize,
): void;

const ARGS: usize = memory.data(48, 4);

export namespace invoke {
  /**
   * Calls function `target` with `request`; its routes are matched against
   * `request.method` and `request.path`. A non-2xx status is a normal response, not an error.
   */
  export function call(target: string, request: Request): Result<Response> {
    lowerString(target, ARGS);
    lowerString(request.method, ARGS + 8);
    lowerString(request.path, ARGS + 16);
    lowerString(request.queryString, ARGS + 24);
    lowerFields(request.headers, ARGS + 32);
    store<usize>(ARGS, retainBytes(request.body), 40);
    store<usize>(ARGS, <usize>request.body.byteLength, 44);
    invoke_call(
      load<usize>(ARGS), load<usize>(ARGS, 4),
      load<usize>(ARGS, 8), load<usize>(ARGS, 12),
      load<usize>(ARGS, 16), load<usize>(ARGS, 20),
      load<usize>(ARGS, 24), load<usize>(ARGS, 28),
      load<usize>(ARGS, 32), load<usize>(ARGS, 36),
      load<usize>(ARGS, 40), load<usize>(ARGS, 44),
      RET_AREA,
    );
    releaseRetained();
    if (load<u8>(RET_AREA) != 0) return Result.err<Response>(liftError(RET_AREA));
    const status = <i32>load<u16>(RET_AREA, 4);
    const headers = liftFields(load<usize>(RET_AREA, 8), load<usize>(RET_AREA, 12));
    const body = liftBytes(load<usize>(RET_AREA, 16), load<usize>(RET_AREA, 20));
    return Result.ok<Response>(new Response(status, body, headers));
  }
}
