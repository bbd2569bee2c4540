// A worker lane's view of the main thread's components. Every component call is
// forwarded to the main thread, which owns the backends (a memory store must be one
// store, whichever thread the request landed on); config stores are replicated, because
// functions read config synchronously.
import type { ConfigChange, ConfigListener, ConfigStore } from '../../components/config/contract.ts';
import { ComponentError, type ComponentErrorCode } from '../../components/errors.ts';
import type { CapabilityKind } from '../config.ts';
import type { ComponentLookup, ComponentTypes } from '../components.ts';
import { RemoteError, type Rpc } from './rpc.ts';

export interface ComponentCall {
  kind: CapabilityKind;
  name: string;
  method: string;
  args: unknown[];
}

/** Config values as the main thread knows them: store name -> entries. */
export type ConfigSnapshot = Record<string, Array<[string, string]>>;

class ConfigReplica implements ConfigStore {
  readonly kind = 'replica';
  readonly writable = false;
  private values: Map<string, string>;
  private readonly listeners = new Set<ConfigListener>();
  constructor(entries: Array<[string, string]>) {
    this.values = new Map(entries);
  }
  replace(entries: Array<[string, string]>): void {
    const next = new Map(entries);
    const changes: ConfigChange[] = [];
    for (const [k, v] of next) if (this.values.get(k) !== v) changes.push({ key: k, value: v });
    for (const k of this.values.keys()) if (!next.has(k)) changes.push({ key: k, value: null });
    this.values = next;
    if (changes.length) for (const l of this.listeners) l(changes);
  }
  async init(): Promise<void> {}
  async health() {
    return { status: 'UP' as const };
  }
  async close(): Promise<void> {}
  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  entries(): Map<string, string> {
    return new Map(this.values);
  }
  watch(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async set(): Promise<void> {
    throw new ComponentError('invalid', 'config is read-only inside a worker lane');
  }
  async delete(): Promise<void> {
    throw new ComponentError('invalid', 'config is read-only inside a worker lane');
  }
}

export class RemoteComponents implements ComponentLookup {
  private readonly rpc: Rpc;
  private readonly names: Record<CapabilityKind, Set<string>>;
  private readonly proxies = new Map<string, unknown>();
  private readonly configs = new Map<string, ConfigReplica>();

  constructor(rpc: Rpc, names: Record<CapabilityKind, string[]>, config: ConfigSnapshot) {
    this.rpc = rpc;
    this.names = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, new Set(v)])) as Record<CapabilityKind, Set<string>>;
    for (const [name, entries] of Object.entries(config)) this.configs.set(name, new ConfigReplica(entries));
  }

  /** Applies config values pushed by the main thread. */
  updateConfig(snapshot: ConfigSnapshot): void {
    for (const [name, entries] of Object.entries(snapshot)) {
      const replica = this.configs.get(name);
      if (replica) replica.replace(entries);
      else this.configs.set(name, new ConfigReplica(entries));
    }
  }

  get<K extends CapabilityKind>(kind: K, name: string): ComponentTypes[K] | undefined {
    if (kind === 'config') return this.configs.get(name) as ComponentTypes[K] | undefined;
    if (!this.names[kind]?.has(name)) return undefined;
    const key = `${kind}/${name}`;
    let proxy = this.proxies.get(key);
    if (!proxy) {
      const rpc = this.rpc;
      proxy = new Proxy({}, {
        get: (_target, method) => {
          if (method === 'then') return undefined; // not a thenable
          return async (...args: unknown[]) => {
            try {
              return await rpc.call('component', { kind, name, method: String(method), args } satisfies ComponentCall);
            } catch (error) {
              if (error instanceof RemoteError && error.name === 'ComponentError') throw new ComponentError(error.code as ComponentErrorCode, error.message);
              throw error;
            }
          };
        },
      });
      this.proxies.set(key, proxy);
    }
    return proxy as ComponentTypes[K];
  }

  require<K extends CapabilityKind>(kind: K, name: string): ComponentTypes[K] {
    const component = this.get(kind, name);
    if (!component) {
      const known = [...(this.names[kind] ?? [])];
      throw new ComponentError('not-found', `no ${kind} component named "${name}" is configured${known.length ? ` (configured: ${known.join(', ')})` : ''}; add it under components.${kind} in the runtime config`);
    }
    return component;
  }
}
