// invoke: call another deployed function in-process, if the manifest grants it.
import { AllowList } from '../../functions/allow-list.ts';
import type { Manifest } from '../../functions/manifest.ts';
import type { CallContext, GuestRequest, GuestResponse, HostServices } from '../../host/call-context.ts';
import { denied } from './capability.ts';

/** Implemented by the function table: runs `target` for a call coming from `ctx`. */
export interface FunctionCaller {
  invoke(ctx: CallContext, target: string, request: GuestRequest): Promise<GuestResponse>;
}

export function bindInvoke(manifest: Manifest, caller: FunctionCaller): Pick<HostServices, 'invoke'> {
  const grants = new AllowList(manifest.capabilities.invoke);
  return {
    invoke(ctx, target, request) {
      if (!grants.allows(target)) return Promise.reject(denied(manifest.name, `invoking function "${target}"`, 'capabilities.invoke'));
      return caller.invoke(ctx, target, request);
    },
  };
}
