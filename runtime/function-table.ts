// The functions that are live right now: for each name its active version, loaded and
// bound to its capabilities, plus the router that maps HTTP routes to them. Switching a
// version swaps one map entry and the router at once; requests already running keep the
// version (and instance) they started on.
import { join } from 'node:path';
import FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import { LOG_LEVELS, type LogLevel } from '../host/abi.ts';
import type { CallContext, GuestMessage, GuestRequest, GuestResponse, HostServices, OutputSource } from '../host/call-context.ts';
import { CapabilityError } from '../host/call-context.ts';
import { ModuleCache } from '../host/module-forms.ts';
import { L8Error } from '../host/errors.ts';
import { DEFAULT_TUNING, LoadedFunction, type FunctionLimits, type HostTuning } from '../host/loaded-function.ts';
import type { Manifest, Route } from '../functions/manifest.ts';
import type { FunctionRegistry, FunctionVersion } from '../functions/registry.ts';
import type { LogLine } from './logs.ts';
import { bindServices, type FunctionCaller } from './capabilities/index.ts';
import type { ComponentLookup } from './components.ts';
import type { DefaultLimits } from './config.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { newRequestId } from './request-id.ts';

/** Invoke chains deeper than this are refused: almost certainly a loop. */
export const MAX_INVOKE_DEPTH = 16;

export interface ActiveFunction {
  name: string;
  version: FunctionVersion;
  manifest: Manifest;
  loaded: LoadedFunction;
  services: HostServices;
  limits: FunctionLimits & { maxBodyBytes: number };
}

export interface RouteMatch {
  fn: ActiveFunction;
  route: Route;
  params: Record<string, string>;
}

interface RouteStore {
  fn: string;
  route: Route;
}

type Router = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Headers a caller may not set: L8 sets them, and functions trust them. */
export function isReservedHeader(name: string): boolean {
  return name.startsWith('l8-');
}

export interface FunctionTableOptions {
  /** Where module bytes come from (the registry, or its data dir in a worker lane). */
  registry: Pick<FunctionRegistry, 'readModule' | 'dataDir'>;
  components: ComponentLookup;
  logs: { write(line: LogLine): void; forget(fn: string): void };
  logger: Logger;
  defaults: DefaultLimits;
  tuning?: Partial<HostTuning>;
  metrics?: RuntimeMetrics;
}

export class FunctionTable implements FunctionCaller {
  private readonly active = new Map<string, ActiveFunction>();
  private router: Router = FindMyWay();
  private readonly modules: ModuleCache;
  private readonly options: FunctionTableOptions;
  private readonly tuning: HostTuning;
  private readonly listeners = new Set<() => void>();
  private readonly hostCalls: RuntimeMetrics['hostCalls'] | undefined;

  constructor(options: FunctionTableOptions) {
    this.options = options;
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    // Forms that transform modules expensively (components) cache their output here.
    // Registry modules were checked when they were uploaded.
    this.modules = new ModuleCache(join(options.registry.dataDir, 'cache'), { validated: true });
    this.hostCalls = options.metrics?.hostCalls;
  }

  /** Called after every change of the active set (subscriptions follow it). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(name: string): ActiveFunction | undefined {
    return this.active.get(name);
  }

  list(): ActiveFunction[] {
    return [...this.active.values()];
  }

  limitsFor(manifest: Manifest): ActiveFunction['limits'] {
    const d = this.options.defaults;
    const l = manifest.limits;
    return {
      timeoutMs: l.timeoutMs ?? d.timeoutMs,
      memoryPages: Math.ceil(((l.memoryMb ?? d.memoryMb) * (1 << 20)) / 65536),
      maxConcurrency: l.maxConcurrency ?? d.maxConcurrency,
      maxQueue: d.maxQueue,
      maxBodyBytes: l.maxBodyBytes ?? d.maxBodyBytes,
      reuse: manifest.reuse,
    };
  }

  /**
   * Makes `version` the live version of `name` (null removes it). The new version is
   * compiled, instantiated and routed before anything changes; on any error the old
   * version stays live.
   */
  activate = async (name: string, version: FunctionVersion | null): Promise<void> => {
    const previous = this.active.get(name);
    if (version === null) {
      this.active.delete(name);
      this.router = this.buildRouter();
      previous?.loaded.close();
      this.options.logs.forget(name);
      this.emit();
      return;
    }
    const bytes = await this.options.registry.readModule(version.sha256);
    const limits = this.limitsFor(version.manifest);
    const compiled = await this.modules.get(bytes, limits.memoryPages, version.sha256);
    const manifest = version.manifest;
    if (manifest.routes.length > 0 && !compiled.hasHttpHandler) {
      throw new L8Error('invalid_module', `function "${name}" declares routes but its module exports no HTTP handler (l8:faas/http-handler#handle)`);
    }
    if (manifest.subscriptions.length > 0 && !compiled.hasSubscriber) {
      throw new L8Error('invalid_module', `function "${name}" declares subscriptions but its module exports no subscriber (l8:faas/subscriber#on-message)`);
    }
    const { files, outboundHosts } = manifest.capabilities;
    if (compiled.form !== 'component' && (files.length > 0 || outboundHosts.length > 0)) {
      throw new L8Error('invalid_manifest', `function "${name}" grants capabilities.${files.length > 0 ? 'files' : 'outboundHosts'}, which only WebAssembly components can use (through WASI 0.2); its module is a core module (${compiled.form}), which has no filesystem or outgoing HTTP`);
    }
    const sandbox = { env: manifest.config, files, outboundHosts };
    const loaded = await LoadedFunction.load(name, version.version, compiled, limits, this.tuning, (stream, line) =>
      this.log(name, 'init', stream === 'stdout' ? 'info' : 'warn', line, stream),
    sandbox);
    const next: ActiveFunction = {
      name,
      version,
      manifest,
      loaded,
      services: bindServices(manifest, this.options.components, this),
      limits,
    };
    const candidate = new Map(this.active);
    candidate.set(name, next);
    let router: Router;
    try {
      router = this.buildRouter(candidate);
    } catch (error) {
      loaded.close();
      throw error;
    }
    this.active.set(name, next);
    this.router = router;
    previous?.loaded.close();
    this.emit();
  };

  private emit(): void {
    for (const listener of this.listeners) listener();
    this.modules.retain(new Set([...this.active.values()].map((f) => f.version.sha256)));
  }

  private buildRouter(functions: Map<string, ActiveFunction> = this.active): Router {
    const router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false });
    const owners = new Map<string, string>();
    const noop = () => {};
    for (const fn of functions.values()) {
      for (const route of fn.manifest.routes) {
        const methods = route.method === 'ANY' ? [...HTTP_METHODS] : route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
        const shape = route.path.replace(/:[^/]+/g, ':');
        for (const method of methods) {
          const key = `${method} ${shape}`;
          const owner = owners.get(key);
          if (owner !== undefined) {
            // GET's implicit HEAD yields to an explicit HEAD route of the same function.
            if (owner === fn.name && method === 'HEAD') continue;
            throw new L8Error('conflict', `route ${route.method} ${route.path} of function "${fn.name}" is already served by function "${owner}"; remove it from one of them`);
          }
          owners.set(key, fn.name);
          try {
            router.on(method as FindMyWay.HTTPMethod, route.path, noop, { fn: fn.name, route } satisfies RouteStore);
          } catch (error) {
            throw new L8Error('conflict', `route ${route.method} ${route.path} of function "${fn.name}" conflicts with another route: ${(error as Error).message}`);
          }
        }
      }
    }
    return router;
  }

  /** Finds the function serving `method` + `path` (path without query string). */
  match(method: string, path: string): RouteMatch | null {
    const found = this.router.find(method as FindMyWay.HTTPMethod, path);
    if (!found) return null;
    const store = found.store as RouteStore;
    const fn = this.active.get(store.fn);
    if (!fn) return null;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(found.params)) if (v !== undefined) params[k] = v;
    return { fn, route: store.route, params };
  }

  log(fn: string, requestId: string, level: LogLevel, message: string, source: OutputSource | 'runtime'): void {
    this.options.logs.write({ time: Date.now(), function: fn, requestId, level, source, message });
  }

  /** The per-call context (store data) for one call of `fn`. */
  context(fn: ActiveFunction, requestId: string, depth: number, parentDeadline = Infinity): CallContext {
    return {
      requestId,
      functionName: fn.name,
      deadline: Math.min(parentDeadline, performance.now() + fn.limits.timeoutMs),
      depth,
      services: fn.services,
      cancelled: false,
      log: (level, message, source) => this.log(fn.name, requestId, level, message, source),
      observeHostCall: this.hostCalls ? (call, outcome) => this.hostCalls!.inc({ function: fn.name, call, outcome }) : undefined,
    };
  }

  /** Adds the headers L8 promises functions: request id, matched route, route params. */
  static routedHeaders(headers: GuestRequest['headers'], requestId: string, match: { route: Route; params: Record<string, string> } | null, extra: Array<[string, string]> = []): GuestRequest['headers'] {
    const out = headers.filter(([name]) => !isReservedHeader(name));
    out.push(['l8-request-id', requestId]);
    if (match) {
      out.push(['l8-route', `${match.route.method} ${match.route.path}`]);
      for (const [k, v] of Object.entries(match.params)) out.push([`l8-param-${k.toLowerCase()}`, v]);
    }
    out.push(...extra);
    return out;
  }

  /** FunctionCaller: invoke from a guest, in-process, with the caller's request id and deadline. */
  async invoke(ctx: CallContext, target: string, request: GuestRequest): Promise<GuestResponse> {
    if (ctx.depth + 1 > MAX_INVOKE_DEPTH) {
      throw new CapabilityError('invalid', `invoke chain is deeper than ${MAX_INVOKE_DEPTH} calls (${ctx.functionName} -> ${target}); is there a loop?`);
    }
    const fn = this.active.get(target);
    if (!fn) throw new CapabilityError('not-found', `no function named "${target}" is deployed`);
    if (!fn.loaded.hasHttpHandler) throw new CapabilityError('invalid', `function "${target}" has no HTTP handler to invoke`);
    let match: RouteMatch | null = null;
    if (fn.manifest.routes.length > 0) {
      const path = request.path || '/';
      const found = this.match(request.method, path);
      if (!found || found.fn.name !== target) {
        return {
          status: 404,
          headers: [['content-type', 'application/json']],
          body: Buffer.from(JSON.stringify(new L8Error('route_not_found', `no route of function "${target}" matches ${request.method} ${path}`).toJSON(ctx.requestId))),
        };
      }
      match = found;
    }
    const child = this.context(fn, ctx.requestId, ctx.depth + 1, ctx.deadline);
    const headers = FunctionTable.routedHeaders(request.headers, ctx.requestId, match, [['l8-invoked-by', ctx.functionName]]);
    try {
      return await fn.loaded.handleHttp(child, { ...request, path: request.path || '/', headers });
    } catch (error) {
      const failure = error instanceof L8Error ? error : new L8Error('internal', (error as Error).message);
      const code = failure.code === 'timeout' || failure.code === 'overloaded' || failure.code === 'unavailable' ? 'unavailable' : 'internal';
      throw new CapabilityError(code, failure.message);
    }
  }

  /** Runs an HTTP request through its matched function. */
  handleHttp(match: RouteMatch, request: GuestRequest, requestId: string): Promise<GuestResponse> {
    const ctx = this.context(match.fn, requestId, 0);
    const headers = FunctionTable.routedHeaders(request.headers, requestId, match);
    return match.fn.loaded.handleHttp(ctx, { ...request, headers });
  }

  /** Delivers a message to the live version of `name`; null = success, else the error text. */
  async deliver(name: string, message: GuestMessage, requestId: string): Promise<string | null> {
    const fn = this.active.get(name);
    if (!fn) throw new L8Error('not_found', `function "${name}" is not deployed any more`);
    return fn.loaded.deliver(this.context(fn, requestId, 0), message);
  }

  static newRequestId(): string {
    return newRequestId();
  }

  static isLogLevel(value: string): value is LogLevel {
    return (LOG_LEVELS as readonly string[]).includes(value);
  }

  /** Instance counts per function, for the metrics gauge. */
  instanceStats(): Array<{ fn: string; live: number; idle: number; busy: number }> {
    return this.list().map((f) => ({ fn: f.name, ...f.loaded.pool.stats }));
  }

  close(): void {
    for (const fn of this.active.values()) fn.loaded.close();
    this.active.clear();
  }
}
