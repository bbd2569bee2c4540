// lock (ABI 0.2): distributed locks on the lock stores the manifest grants.
import { AllowList } from '../../functions/allow-list.ts';
import type { Manifest } from '../../functions/manifest.ts';
import { CapabilityError, type HostServices } from '../../host/call-context.ts';
import type { ComponentLookup } from '../components.ts';
import { asCapabilityError, denied, hostCall } from './capability.ts';

export function bindLock(manifest: Manifest, components: ComponentLookup): Pick<HostServices, 'tryLock' | 'unlock' | 'keepAlive'> {
  const grants = new AllowList(manifest.capabilities.lock);
  const store = (name: string, resource: string, owner: string) => {
    if (!grants.allows(name)) throw denied(manifest.name, `lock store "${name}"`, 'capabilities.lock');
    if (!resource || !owner) throw new CapabilityError('invalid', 'lock resource and owner must not be empty');
    try {
      return components.require('lock', name);
    } catch (error) {
      throw asCapabilityError(`lock store "${name}"`, error);
    }
  };
  return {
    async tryLock(ctx, name, resource, owner, expireSeconds) {
      if (expireSeconds <= 0) throw new CapabilityError('invalid', 'expire-seconds must be at least 1');
      const s = store(name, resource, owner);
      return hostCall(ctx, 'lock.try-lock', `lock store "${name}"`, () => s.tryLock(resource, owner, expireSeconds));
    },
    async unlock(ctx, name, resource, owner) {
      const s = store(name, resource, owner);
      return hostCall(ctx, 'lock.unlock', `lock store "${name}"`, () => s.unlock(resource, owner));
    },
    async keepAlive(ctx, name, resource, owner, expireSeconds) {
      if (expireSeconds <= 0) throw new CapabilityError('invalid', 'expire-seconds must be at least 1');
      const s = store(name, resource, owner);
      return hostCall(ctx, 'lock.keep-alive', `lock store "${name}"`, () => s.keepAlive(resource, owner, expireSeconds));
    },
  };
}
