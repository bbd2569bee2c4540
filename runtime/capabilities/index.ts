// The capabilities a function can import, each bound to its manifest's grants.
// One file per capability; adding one never touches the others.
import type { Manifest } from '../../functions/manifest.ts';
import type { HostServices } from '../../host/call-context.ts';
import type { ComponentLookup } from '../components.ts';
import { bindConfig } from './config.ts';
import { bindInvoke, type FunctionCaller } from './invoke.ts';
import { bindLock } from './lock.ts';
import { bindSequencer } from './sequencer.ts';
import { bindPubsub } from './pubsub.ts';
import { bindState } from './state.ts';

export type { FunctionCaller } from './invoke.ts';

export function bindServices(manifest: Manifest, components: ComponentLookup, caller: FunctionCaller): HostServices {
  return {
    ...bindState(manifest, components),
    ...bindPubsub(manifest, components),
    ...bindConfig(manifest, components),
    ...bindInvoke(manifest, caller),
    ...bindLock(manifest, components),
    ...bindSequencer(manifest, components),
  };
}
