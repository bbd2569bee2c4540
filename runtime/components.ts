// Builds the named components the config asks for and owns their lifecycle. Each
// capability kind has a table of backend factories; adding a backend means adding one
// line here and one file in components/<kind>/.
import { join, resolve } from 'node:path';
import { FileConfigStore } from '../components/config/file.ts';
import { InlineConfigStore } from '../components/config/inline.ts';
import type { ConfigStore } from '../components/config/contract.ts';
import { ComponentError, type Component, type ComponentHealth } from '../components/errors.ts';
import type { LockStore } from '../components/lock/contract.ts';
import { MemoryLockStore } from '../components/lock/memory.ts';
import { redisLockFromSpec } from '../components/lock/redis.ts';
import type { PubSub } from '../components/pubsub/contract.ts';
import { kafkaPubSubFromSpec } from '../components/pubsub/kafka.ts';
import { MemoryPubSub } from '../components/pubsub/memory.ts';
import { redisPubSubFromSpec } from '../components/pubsub/redis.ts';
import { PluggableCatalog, socketsFolder } from '../components/pluggable/index.ts';
import type { SecretStore } from '../components/secrets/contract.ts';
import { envSecretsFromSpec } from '../components/secrets/env.ts';
import { fileSecretsFromSpec } from '../components/secrets/file.ts';
import type { Sequencer } from '../components/sequencer/contract.ts';
import { FileSequencer } from '../components/sequencer/file.ts';
import { MemorySequencer } from '../components/sequencer/memory.ts';
import { redisSequencerFromSpec } from '../components/sequencer/redis.ts';
import type { StateStore } from '../components/state/contract.ts';
import { FileStateStore } from '../components/state/file.ts';
import { MemoryStateStore } from '../components/state/memory.ts';
import { redisStateFromSpec } from '../components/state/redis.ts';
import { L8Error } from '../host/errors.ts';
import type { CapabilityKind, ComponentSpec, RuntimeConfig } from './config.ts';

export interface ComponentTypes {
  state: StateStore;
  pubsub: PubSub;
  config: ConfigStore;
  lock: LockStore;
  sequencer: Sequencer;
  secrets: SecretStore;
}

export interface FactoryContext {
  /** "state/default" */
  id: string;
  name: string;
  spec: ComponentSpec;
  config: RuntimeConfig;
  /** Resolves a path from the config file's folder. */
  path(value: unknown, fallback: string): string;
}

type Factory<T> = (ctx: FactoryContext) => T | Promise<T>;

/** Backends by capability and type. Later modules add theirs with registerBackend(). */
const FACTORIES: { [K in CapabilityKind]: Record<string, Factory<ComponentTypes[K]>> } = {
  state: {
    memory: () => new MemoryStateStore(),
    file: (ctx) => new FileStateStore({ path: ctx.path(ctx.spec.path, join(ctx.config.dataDir, 'state', `${ctx.name}.sqlite`)), sync: ctx.spec.sync === 'full' ? 'full' : 'normal' }),
    redis: (ctx) => redisStateFromSpec(ctx.name, ctx.spec),
  },
  pubsub: {
    memory: (ctx) => new MemoryPubSub({ maxPending: ctx.spec.maxPending as number | undefined }),
    redis: (ctx) => redisPubSubFromSpec(ctx.name, ctx.spec),
    kafka: (ctx) => kafkaPubSubFromSpec(ctx.name, ctx.spec),
  },
  config: {
    inline: (ctx) => new InlineConfigStore(ctx.spec.values ?? {}),
    file: (ctx) => {
      if (typeof ctx.spec.path !== 'string') throw new L8Error('bad_request', `config component "${ctx.name}" of type file needs a "path"`);
      return new FileConfigStore({ path: ctx.path(ctx.spec.path, '') });
    },
  },
  lock: {
    memory: () => new MemoryLockStore(),
    redis: (ctx) => redisLockFromSpec(ctx.name, ctx.spec),
  },
  sequencer: {
    memory: () => new MemorySequencer(),
    file: (ctx) => new FileSequencer({ path: ctx.path(ctx.spec.path, join(ctx.config.dataDir, 'sequencer', `${ctx.name}.sqlite`)) }),
    redis: (ctx) => redisSequencerFromSpec(ctx.name, ctx.spec),
  },
  secrets: {
    env: (ctx) => envSecretsFromSpec(ctx.name, ctx.spec),
    file: (ctx) => fileSecretsFromSpec(ctx.name, ctx.spec, (value) => ctx.path(value, '')),
  },
};

export function registerBackend<K extends CapabilityKind>(kind: K, type: string, factory: Factory<ComponentTypes[K]>): void {
  (FACTORIES[kind] as Record<string, Factory<ComponentTypes[K]>>)[type] = factory;
}

/** What capability bindings need from a component set (a worker lane has a remote one). */
export interface ComponentLookup {
  get<K extends CapabilityKind>(kind: K, name: string): ComponentTypes[K] | undefined;
  require<K extends CapabilityKind>(kind: K, name: string): ComponentTypes[K];
}

export interface ComponentStatus {
  id: string;
  kind: CapabilityKind;
  name: string;
  type: string;
  health: ComponentHealth;
}

export class ComponentSet implements ComponentLookup {
  private readonly byKind = new Map<CapabilityKind, Map<string, Component>>();
  private readonly specs = new Map<string, ComponentSpec>();
  /** Pluggable components (gRPC on Unix sockets) found at start: more backend types, named after their sockets. */
  pluggable: PluggableCatalog = PluggableCatalog.empty('');

  /** Creates and initialises every configured component. Fails naming the first that cannot start. */
  static async start(config: RuntimeConfig): Promise<ComponentSet> {
    const set = new ComponentSet();
    try {
      set.pluggable = await PluggableCatalog.discover(socketsFolder(process.env, config.componentsSocketsFolder));
      for (const [kind, named] of Object.entries(config.components) as Array<[CapabilityKind, Record<string, ComponentSpec>]>) {
        for (const [name, spec] of Object.entries(named)) {
          await set.add(kind, name, spec, config);
        }
      }
    } catch (error) {
      await set.close();
      throw error;
    }
    return set;
  }

  /** Builds (does not initialise) the component a spec describes: a built-in backend, else a pluggable one. */
  async create(kind: CapabilityKind, name: string, spec: ComponentSpec, config: RuntimeConfig): Promise<Component> {
    const id = `${kind}/${name}`;
    const factory = FACTORIES[kind][spec.type] as Factory<Component> | undefined;
    if (!factory) {
      const pluggable = this.pluggable.create({ kind, name, spec });
      if (pluggable) return pluggable;
      const known = Object.keys(FACTORIES[kind]);
      throw new L8Error('bad_request', `component ${id}: unknown type "${spec.type}"; ${kind} backends are: ${known.join(', ') || 'none yet'}${this.pluggable.explain(spec.type)}`);
    }
    const ctx: FactoryContext = {
      id,
      name,
      spec,
      config,
      path: (value, fallback) => (typeof value === 'string' && value ? resolve(config.baseDir, value) : fallback),
    };
    return factory(ctx);
  }

  private async add(kind: CapabilityKind, name: string, spec: ComponentSpec, config: RuntimeConfig): Promise<void> {
    const id = `${kind}/${name}`;
    const component = await this.create(kind, name, spec, config);
    try {
      await component.init();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new L8Error('unavailable', `component ${id} (${spec.type}) failed to start: ${reason}`, { cause: error });
    }
    let named = this.byKind.get(kind);
    if (!named) this.byKind.set(kind, (named = new Map()));
    named.set(name, component);
    this.specs.set(id, spec);
  }

  /**
   * Adds a component after start unless one of that kind and name exists; true when added.
   * For extensions that learn of components late (the state stores a Layotto config names).
   */
  async addIfMissing(kind: CapabilityKind, name: string, spec: ComponentSpec, config: RuntimeConfig): Promise<boolean> {
    if (this.get(kind, name)) return false;
    await this.add(kind, name, spec, config);
    return true;
  }

  get<K extends CapabilityKind>(kind: K, name: string): ComponentTypes[K] | undefined {
    return this.byKind.get(kind)?.get(name) as ComponentTypes[K] | undefined;
  }

  /** The component, or a ComponentError('not-found') that lists what exists. */
  require<K extends CapabilityKind>(kind: K, name: string): ComponentTypes[K] {
    const component = this.get(kind, name);
    if (!component) {
      const known = this.names(kind);
      throw new ComponentError('not-found', `no ${kind} component named "${name}" is configured${known.length ? ` (configured: ${known.join(', ')})` : ''}; add it under components.${kind} in the runtime config`);
    }
    return component;
  }

  names(kind: CapabilityKind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])];
  }

  async status(): Promise<ComponentStatus[]> {
    const out: ComponentStatus[] = [];
    for (const [kind, named] of this.byKind) {
      for (const [name, component] of named) {
        let health: ComponentHealth;
        try {
          health = await Promise.race([
            component.health(),
            new Promise<ComponentHealth>((r) => setTimeout(() => r({ status: 'DOWN', reason: 'health check did not answer within 2 s' }), 2000).unref()),
          ]);
        } catch (error) {
          health = { status: 'DOWN', reason: (error as Error).message };
        }
        out.push({ id: `${kind}/${name}`, kind, name, type: component.kind, health });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const named of this.byKind.values()) {
      for (const component of named.values()) await component.close().catch(() => {});
    }
    this.byKind.clear();
  }
}
