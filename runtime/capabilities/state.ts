// state: get/set/delete on the named stores the manifest grants.
import { AllowList } from '../../functions/allow-list.ts';
import type { Manifest } from '../../functions/manifest.ts';
import { CapabilityError, type HostServices } from '../../host/call-context.ts';
import type { ComponentLookup } from '../components.ts';
import { asCapabilityError, denied, hostCall } from './capability.ts';

const MAX_KEY_BYTES = 4096;

export function bindState(manifest: Manifest, components: ComponentLookup): Pick<HostServices, 'stateGet' | 'stateSet' | 'stateDelete'> {
  const grants = new AllowList(manifest.capabilities.state);
  const store = (name: string, key: string) => {
    if (!grants.allows(name)) throw denied(manifest.name, `state store "${name}"`, 'capabilities.state');
    if (key.length === 0) throw new CapabilityError('invalid', 'state key must not be empty');
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new CapabilityError('invalid', `state key is longer than ${MAX_KEY_BYTES} bytes`);
    try {
      return components.require('state', name);
    } catch (error) {
      throw asCapabilityError(`state store "${name}"`, error);
    }
  };
  return {
    async stateGet(ctx, name, key) {
      const s = store(name, key);
      const item = await hostCall(ctx, 'state.get', `state store "${name}"`, () => s.get(key));
      return item ? item.value : null;
    },
    async stateSet(ctx, name, key, value) {
      const s = store(name, key);
      await hostCall(ctx, 'state.set', `state store "${name}"`, () => s.set(key, value));
    },
    async stateDelete(ctx, name, key) {
      const s = store(name, key);
      await hostCall(ctx, 'state.delete', `state store "${name}"`, () => s.delete(key));
    },
  };
}
