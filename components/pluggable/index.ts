// Pluggable components: backends in any language, served over gRPC on Unix sockets with
// Dapr's pluggable component protocol. The runtime's component set asks this catalog for
// a backend type it does not know built in; a type is the name of a socket found at start.
//
// gRPC is loaded only when the folder holds sockets, so a runtime (or an `l8` command)
// without pluggable components does not pay for it.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ComponentError, type Component } from '../errors.ts';
import { specNumber, type Spec } from '../spec.ts';
import type { createPluggable } from './create.ts';
import type { DiscoveredSocket, Discovery } from './discovery.ts';
import { SERVICE_KINDS } from './services.ts';

export type { DiscoveredSocket } from './discovery.ts';

/** Where pluggable components put their sockets; Dapr's default folder, so existing components are found as they are. */
export const DEFAULT_SOCKETS_FOLDER = '/tmp/dapr-components-sockets';

/** The sockets folder: L8_COMPONENTS_SOCKETS_FOLDER, else the runtime config's, else Dapr's variable, else Dapr's default. */
export function socketsFolder(env: NodeJS.ProcessEnv = process.env, configured?: string): string {
  return env.L8_COMPONENTS_SOCKETS_FOLDER || configured || env.DAPR_COMPONENTS_SOCKETS_FOLDER || DEFAULT_SOCKETS_FOLDER;
}

async function hasSockets(folder: string): Promise<boolean> {
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) if ((await stat(join(folder, name)).catch(() => null))?.isSocket()) return true;
  return false;
}

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
  private readonly factory: typeof createPluggable | null;

  private constructor(discovery: Discovery, factory: typeof createPluggable | null) {
    this.discovery = discovery;
    this.factory = factory;
  }

  static async discover(folder: string): Promise<PluggableCatalog> {
    if (!(await hasSockets(folder))) return PluggableCatalog.empty(folder);
    const [{ discover }, { createPluggable }] = await Promise.all([import('./discovery.ts'), import('./create.ts')]);
    return new PluggableCatalog(await discover(folder), createPluggable);
  }

  static empty(folder: string): PluggableCatalog {
    return new PluggableCatalog({ folder, found: [], failed: new Map() }, null);
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
    if (!socket || !this.factory) return undefined;
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
    return this.factory({ kind: target.kind, name: target.name, type: socket.type, socket: socket.socket, services: socket.services, timeoutMs, properties });
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
