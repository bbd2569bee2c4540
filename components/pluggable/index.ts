// Pluggable components: backends in any language, served over gRPC on Unix sockets with
// Dapr's pluggable component protocol. The runtime's component set asks this catalog for
// a backend type it does not know built in; a type is the name of a socket found at start.
import { ComponentError, type Component } from '../errors.ts';
import { specNumber, type Spec } from '../spec.ts';
import { PluggableConnection } from './connection.ts';
import { discover, type DiscoveredSocket, type Discovery } from './discovery.ts';
import { SERVICES } from './protocol.ts';
import { PluggablePubSub } from './pubsub.ts';
import { PluggableStateStore } from './state.ts';

export { DEFAULT_SOCKETS_FOLDER, socketsFolder } from './discovery.ts';
export type { DiscoveredSocket } from './discovery.ts';

/** Which L8 capability each Dapr component service provides. */
const SERVICE_KINDS: Record<string, string> = {
  [SERVICES.state]: 'state',
  [SERVICES.pubsub]: 'pubsub',
};

/** Options L8 reads itself; every other option of the component spec goes to the component's Init. */
const L8_OPTIONS = ['timeoutMs'];
const DEFAULT_TIMEOUT_MS = 5000;

export interface PluggableSpec {
  kind: string;
  name: string;
  spec: Spec;
}

export class PluggableCatalog {
  readonly discovery: Discovery;

  private constructor(discovery: Discovery) {
    this.discovery = discovery;
  }

  static async discover(folder: string): Promise<PluggableCatalog> {
    return new PluggableCatalog(await discover(folder));
  }

  static empty(folder: string): PluggableCatalog {
    return new PluggableCatalog({ folder, found: [], failed: new Map() });
  }

  get found(): DiscoveredSocket[] {
    return this.discovery.found;
  }

  /** The capabilities a discovered socket offers ("state", "pubsub"). */
  static kindsOf(socket: DiscoveredSocket): string[] {
    return [...new Set(socket.services.flatMap((s) => (SERVICE_KINDS[s] ? [SERVICE_KINDS[s]] : [])))].sort();
  }

  /** Builds the component for `kind`/`name` of pluggable type `spec.type`, or undefined when no socket has that name. */
  create(target: PluggableSpec): Component | undefined {
    const socket = this.discovery.found.find((s) => s.type === target.spec.type);
    if (!socket) return undefined;
    const where = `components.${target.kind}.${target.name}`;
    const kinds = PluggableCatalog.kindsOf(socket);
    if (!kinds.includes(target.kind)) {
      throw new ComponentError('invalid', `${where}: the pluggable component at ${socket.socket} does not implement a ${target.kind} service (it offers: ${socket.services.join(', ') || 'nothing'}); L8 speaks ${Object.keys(SERVICE_KINDS).join(' and ')}`);
    }
    const timeoutMs = specNumber(target.spec, 'timeoutMs', where, { min: 1 }) ?? DEFAULT_TIMEOUT_MS;
    const properties: Record<string, string> = {};
    for (const [key, value] of Object.entries(target.spec)) {
      if (key === 'type' || L8_OPTIONS.includes(key) || value === undefined || value === null) continue;
      properties[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    const connection = new PluggableConnection({ kind: target.kind, name: target.name, type: socket.type, socket: socket.socket, timeoutMs });
    if (target.kind === 'state') return new PluggableStateStore({ connection, properties, transactional: socket.services.includes(SERVICES.transactional) });
    return new PluggablePubSub({ connection, properties });
  }

  /** Why `type` is not a usable pluggable type, for the "unknown type" error; '' when there is nothing to add. */
  explain(type: string): string {
    const failure = this.discovery.failed.get(type);
    if (failure) return `; a pluggable component socket of that name exists but ${failure}`;
    const found = this.discovery.found.map((s) => `${s.type} (${PluggableCatalog.kindsOf(s).join(', ') || 'no known service'})`);
    return found.length
      ? `; pluggable components found in ${this.discovery.folder}: ${found.join(', ')}`
      : `; no pluggable component sockets were found in ${this.discovery.folder} (set L8_COMPONENTS_SOCKETS_FOLDER to where they are)`;
  }
}
