// config: the function's own literal values, then granted keys of the runtime's
// `default` config store (read live, so file reloads reach functions at once).
import { AllowList } from '../../functions/allow-list.ts';
import type { Manifest } from '../../functions/manifest.ts';
import type { HostServices } from '../../host/call-context.ts';
import type { ComponentLookup } from '../components.ts';
import { asCapabilityError, denied } from './capability.ts';

export function bindConfig(manifest: Manifest, components: ComponentLookup): Pick<HostServices, 'configGet'> {
  const grants = new AllowList(manifest.capabilities.config);
  const own = new Map(Object.entries(manifest.config));
  return {
    configGet(_ctx, key) {
      const literal = own.get(key);
      if (literal !== undefined) return literal;
      if (!grants.allows(key)) throw denied(manifest.name, `config key "${key}"`, 'capabilities.config (or set it under config)');
      const store = components.get('config', 'default');
      if (!store) return null;
      try {
        return store.get(key);
      } catch (error) {
        throw asCapabilityError('config store "default"', error);
      }
    },
  };
}
