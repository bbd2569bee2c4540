// sequencer (ABI 0.2): increasing ids from the sequencers the manifest grants.
import { AllowList } from '../../functions/allow-list.ts';
import type { Manifest } from '../../functions/manifest.ts';
import { CapabilityError, type HostServices } from '../../host/call-context.ts';
import type { ComponentLookup } from '../components.ts';
import { asCapabilityError, denied, hostCall } from './capability.ts';

export function bindSequencer(manifest: Manifest, components: ComponentLookup): Pick<HostServices, 'nextId'> {
  const grants = new AllowList(manifest.capabilities.sequencer);
  return {
    async nextId(ctx, name, key) {
      if (!grants.allows(name)) throw denied(manifest.name, `sequencer "${name}"`, 'capabilities.sequencer');
      if (!key) throw new CapabilityError('invalid', 'sequencer key must not be empty');
      let sequencer;
      try {
        sequencer = components.require('sequencer', name);
      } catch (error) {
        throw asCapabilityError(`sequencer "${name}"`, error);
      }
      return hostCall(ctx, 'sequencer.next-id', `sequencer "${name}"`, () => sequencer.nextId(key));
    },
  };
}
