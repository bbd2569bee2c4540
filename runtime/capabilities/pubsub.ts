// pubsub: publish to topics the manifest grants, per broker.
import { AllowList } from '../../functions/allow-list.ts';
import type { Manifest } from '../../functions/manifest.ts';
import { CapabilityError, type HostServices } from '../../host/call-context.ts';
import type { ComponentLookup } from '../components.ts';
import { asCapabilityError, denied, hostCall } from './capability.ts';

export function bindPubsub(manifest: Manifest, components: ComponentLookup): Pick<HostServices, 'publish'> {
  const grants = new Map(Object.entries(manifest.capabilities.publish).map(([broker, topics]) => [broker, new AllowList(topics)]));
  return {
    async publish(ctx, broker, topic, data, metadata) {
      if (!grants.get(broker)?.allows(topic)) {
        throw denied(manifest.name, `publishing to topic "${topic}" on broker "${broker}"`, `capabilities.publish.${broker}`);
      }
      if (topic.length === 0) throw new CapabilityError('invalid', 'topic must not be empty');
      let component;
      try {
        component = components.require('pubsub', broker);
      } catch (error) {
        throw asCapabilityError(`broker "${broker}"`, error);
      }
      const meta: Record<string, string> = {};
      for (const [key, value] of metadata) meta[key] = value;
      return hostCall(ctx, 'pubsub.publish', `broker "${broker}"`, () => component.publish(topic, data, meta));
    },
  };
}
