// The operations of the runtime API, independent of the transport: the gRPC server
// (Layotto's spec.proto.runtime.v1.Runtime) and the HTTP/JSON API both call these, so an
// app sees the same behaviour, limits and errors whichever it uses. Everything goes
// through the runtime's own component set and function table, the ones functions use.
import type { ConfigChange } from '../../components/config/contract.ts';
import type { StateItem, StateOperation } from '../../components/state/contract.ts';
import type { CallContext, GuestRequest, GuestResponse, HostServices } from '../../host/call-context.ts';
import type { CapabilityKind } from '../config.ts';
import type { ComponentTypes } from '../components.ts';
import { FunctionTable } from '../function-table.ts';
import type { Runtime } from '../runtime.ts';
import { ApiError, toApiError } from './errors.ts';
import type { ApiSettings } from './settings.ts';

/** Longest state key, as for functions. */
const MAX_KEY_BYTES = 4096;

/** How a write treats its ETag: Dapr's and Layotto's StateOptions.StateConcurrency. */
export type Concurrency = 'first-write' | 'last-write' | undefined;

export interface SaveItem {
  key: string;
  value: Uint8Array;
  etag?: string;
  concurrency?: Concurrency;
  /** From the item's metadata "ttlInSeconds" (Dapr's name). */
  ttlSeconds?: number;
}

export interface DeleteItem {
  key: string;
  etag?: string;
  concurrency?: Concurrency;
}

export type TransactionItem = ({ operation: 'upsert' } & SaveItem) | ({ operation: 'delete' } & DeleteItem);

export interface InvokeRequest {
  /** Path inside the target, e.g. "/orders/1" ("orders/1" is taken as "/orders/1"). */
  method: string;
  verb: string;
  query: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

export type UnlockResult = 'SUCCESS' | 'LOCK_UNEXIST' | 'LOCK_BELONG_TO_OTHERS' | 'INTERNAL_ERROR';

/** Reads "ttlInSeconds" from request metadata (Dapr's convention); undefined when absent or -1 (never). */
export function ttlFromMetadata(metadata: Record<string, string> | undefined): number | undefined {
  const raw = metadata?.ttlInSeconds;
  if (raw === undefined || raw === '' || raw === '-1') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ApiError('INVALID_ARGUMENT', `metadata ttlInSeconds must be a positive whole number of seconds (or -1 for none), got "${raw}"`);
  return n;
}

/** The store name a request gives, "default" when empty. */
const storeName = (name: string | undefined) => (name && name.length > 0 ? name : 'default');

export class RuntimeOperations {
  private readonly runtime: Runtime;
  readonly settings: ApiSettings;

  constructor(runtime: Runtime, settings: ApiSettings) {
    this.runtime = runtime;
    this.settings = settings;
  }

  /** The named component, or INVALID_ARGUMENT listing what is configured (as Dapr answers an unknown store). */
  component<K extends CapabilityKind>(kind: K, name: string | undefined): ComponentTypes[K] {
    const resolved = storeName(name);
    const found = this.runtime.components.get(kind, resolved);
    if (found) return found;
    const known = this.runtime.components.names(kind);
    throw new ApiError('INVALID_ARGUMENT', `no ${kind} component named "${resolved}" is configured${known.length ? ` (configured: ${known.join(', ')})` : ''}; add it under components.${kind} in the runtime config`);
  }

  /** Runs one component call, bounded by the caller's deadline (ms from now) or the default. */
  async call<T>(what: string, work: () => Promise<T>, timeoutMs?: number): Promise<T> {
    const budget = Math.max(1, Math.min(timeoutMs ?? this.settings.timeoutMs, this.settings.timeoutMs * 6));
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ApiError('DEADLINE_EXCEEDED', `${what} did not finish within ${Math.round(budget)} ms`)), budget);
        }),
      ]);
    } catch (error) {
      throw toApiError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  private static checkKey(key: string): void {
    if (!key) throw new ApiError('INVALID_ARGUMENT', 'state key must not be empty');
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new ApiError('INVALID_ARGUMENT', `state key is longer than ${MAX_KEY_BYTES} bytes`);
  }

  /** An ETag is checked unless last-write-wins was asked for explicitly (Dapr's rule). */
  private static etagOf(item: { etag?: string; concurrency?: Concurrency }): string | undefined {
    if (!item.etag) return undefined;
    return item.concurrency === 'last-write' ? undefined : item.etag;
  }

  // --- state ---

  getState(store: string, key: string, timeoutMs?: number): Promise<StateItem | null> {
    RuntimeOperations.checkKey(key);
    const s = this.component('state', store);
    return this.call(`state store "${storeName(store)}"`, () => s.get(key), timeoutMs);
  }

  getBulkState(store: string, keys: string[], timeoutMs?: number): Promise<Array<StateItem | null>> {
    keys.forEach(RuntimeOperations.checkKey);
    const s = this.component('state', store);
    return this.call(`state store "${storeName(store)}"`, () => s.bulkGet(keys), timeoutMs);
  }

  /** Writes every item (not atomically: ExecuteStateTransaction is); returns their new ETags. */
  saveState(store: string, items: SaveItem[], timeoutMs?: number): Promise<string[]> {
    for (const item of items) RuntimeOperations.checkKey(item.key);
    const s = this.component('state', store);
    const writes = items.map((item) => {
      const options: { etag?: string; ttlSeconds?: number } = {};
      const etag = RuntimeOperations.etagOf(item);
      if (etag !== undefined) options.etag = etag;
      if (item.ttlSeconds !== undefined) options.ttlSeconds = item.ttlSeconds;
      return { key: item.key, value: item.value, options };
    });
    return this.call(`state store "${storeName(store)}"`, () => (writes.length === 1 ? s.set(writes[0]!.key, writes[0]!.value, writes[0]!.options).then((e) => [e]) : s.bulkSet(writes)), timeoutMs);
  }

  deleteState(store: string, items: DeleteItem[], timeoutMs?: number): Promise<void> {
    for (const item of items) RuntimeOperations.checkKey(item.key);
    const s = this.component('state', store);
    return this.call(`state store "${storeName(store)}"`, async () => {
      for (const item of items) {
        const etag = RuntimeOperations.etagOf(item);
        await s.delete(item.key, etag === undefined ? undefined : { etag });
      }
    }, timeoutMs);
  }

  transact(store: string, items: TransactionItem[], timeoutMs?: number): Promise<void> {
    const operations: StateOperation[] = items.map((item) => {
      RuntimeOperations.checkKey(item.key);
      const etag = RuntimeOperations.etagOf(item);
      if (item.operation === 'upsert') {
        const options: { etag?: string; ttlSeconds?: number } = {};
        if (etag !== undefined) options.etag = etag;
        if (item.ttlSeconds !== undefined) options.ttlSeconds = item.ttlSeconds;
        return { op: 'set', key: item.key, value: item.value, options };
      }
      return etag === undefined ? { op: 'delete', key: item.key } : { op: 'delete', key: item.key, options: { etag } };
    });
    const s = this.component('state', store);
    return this.call(`state store "${storeName(store)}"`, () => s.transact(operations), timeoutMs);
  }

  // --- pub/sub ---

  publish(pubsub: string, topic: string, data: Uint8Array, contentType: string, metadata: Record<string, string>, timeoutMs?: number): Promise<string> {
    if (!topic) throw new ApiError('INVALID_ARGUMENT', 'topic must not be empty');
    const broker = this.component('pubsub', pubsub);
    const meta = { ...metadata };
    if (contentType) meta['content-type'] = contentType;
    return this.call(`pub/sub "${storeName(pubsub)}"`, () => broker.publish(topic, data, meta), timeoutMs);
  }

  // --- configuration ---

  /** Values of `keys` (every key when empty) that exist. */
  getConfiguration(store: string, keys: string[]): Array<{ key: string; value: string }> {
    const s = this.component('config', store);
    if (keys.length === 0) return [...s.entries()].map(([key, value]) => ({ key, value }));
    return keys.flatMap((key) => {
      const value = s.get(key);
      return value === null ? [] : [{ key, value }];
    });
  }

  /** Sets values; an empty value deletes the key (Layotto's SaveConfiguration rule). */
  async saveConfiguration(store: string, items: Array<{ key: string; value: string }>, timeoutMs?: number): Promise<void> {
    const s = this.component('config', store);
    if (!s.writable) throw new ApiError('FAILED_PRECONDITION', `config store "${storeName(store)}" (${s.kind}) is read-only`);
    const set: Record<string, string> = {};
    const remove: string[] = [];
    for (const { key, value } of items) {
      if (!key) throw new ApiError('INVALID_ARGUMENT', 'configuration key must not be empty');
      if (value === '') remove.push(key);
      else set[key] = value;
    }
    await this.call(`config store "${storeName(store)}"`, async () => {
      if (Object.keys(set).length) await s.set(set);
      if (remove.length) await s.delete(remove);
    }, timeoutMs);
  }

  async deleteConfiguration(store: string, keys: string[], timeoutMs?: number): Promise<void> {
    const s = this.component('config', store);
    if (!s.writable) throw new ApiError('FAILED_PRECONDITION', `config store "${storeName(store)}" (${s.kind}) is read-only`);
    if (keys.length === 0) throw new ApiError('INVALID_ARGUMENT', 'name the configuration keys to delete');
    await this.call(`config store "${storeName(store)}"`, () => s.delete(keys), timeoutMs);
  }

  /** Calls `listener` with the changes of `keys` (all keys when empty); returns the function that stops it. */
  watchConfiguration(store: string, keys: string[], listener: (changes: ConfigChange[]) => void): () => void {
    const s = this.component('config', store);
    const wanted = new Set(keys);
    return s.watch((changes) => {
      const mine = wanted.size === 0 ? changes : changes.filter((c) => wanted.has(c.key));
      if (mine.length) listener(mine);
    });
  }

  // --- lock and sequencer ---

  tryLock(store: string, resourceId: string, owner: string, expireSeconds: number, timeoutMs?: number): Promise<boolean> {
    const s = this.component('lock', store);
    return this.call(`lock store "${storeName(store)}"`, () => s.tryLock(resourceId, owner, expireSeconds), timeoutMs);
  }

  async unlock(store: string, resourceId: string, owner: string, timeoutMs?: number): Promise<UnlockResult> {
    const s = this.component('lock', store);
    const status = await this.call(`lock store "${storeName(store)}"`, () => s.unlock(resourceId, owner), timeoutMs);
    return status === 'success' ? 'SUCCESS' : status === 'lock-does-not-exist' ? 'LOCK_UNEXIST' : 'LOCK_BELONG_TO_OTHERS';
  }

  /** True when `owner` still held the lock and its lease was extended. */
  keepAlive(store: string, resourceId: string, owner: string, expireSeconds: number, timeoutMs?: number): Promise<boolean> {
    const s = this.component('lock', store);
    return this.call(`lock store "${storeName(store)}"`, () => s.keepAlive(resourceId, owner, expireSeconds), timeoutMs);
  }

  nextId(store: string, key: string, timeoutMs?: number): Promise<bigint> {
    if (!key) throw new ApiError('INVALID_ARGUMENT', 'sequencer key must not be empty');
    const s = this.component('sequencer', store);
    return this.call(`sequencer "${storeName(store)}"`, () => s.nextId(key), timeoutMs);
  }

  // --- secrets ---

  async getSecret(store: string, key: string, timeoutMs?: number): Promise<Record<string, string>> {
    if (!key) throw new ApiError('INVALID_ARGUMENT', 'secret name must not be empty');
    const s = this.component('secrets', store);
    const found = await this.call(`secret store "${storeName(store)}"`, () => s.get(key), timeoutMs);
    if (!found) throw new ApiError('NOT_FOUND', `secret store "${storeName(store)}" has no secret named "${key}"`);
    return found;
  }

  getBulkSecret(store: string, timeoutMs?: number): Promise<Record<string, Record<string, string>>> {
    const s = this.component('secrets', store);
    return this.call(`secret store "${storeName(store)}"`, () => s.bulkGet(), timeoutMs);
  }

  // --- invoke ---

  /**
   * Calls `id`: an app named in runtimeApi.apps (over HTTP, to its base URL + method), else
   * a deployed function (in-process, as another function would invoke it).
   */
  async invoke(id: string, request: InvokeRequest, timeoutMs?: number): Promise<GuestResponse> {
    if (!id) throw new ApiError('INVALID_ARGUMENT', 'name the app or function to invoke (id)');
    const path = request.method.startsWith('/') ? request.method : `/${request.method}`;
    const budget = Math.min(timeoutMs ?? this.settings.timeoutMs * 3, this.settings.timeoutMs * 6);
    const app = this.settings.apps[id];
    if (app) return this.invokeApp(id, app, { ...request, method: path }, budget);
    const { table } = this.runtime;
    if (!table.get(id)) {
      const apps = Object.keys(this.settings.apps);
      throw new ApiError('NOT_FOUND', `no function or app named "${id}": deployed functions are ${table.list().map((f) => f.name).join(', ') || 'none'}${apps.length ? `; apps are ${apps.join(', ')}` : ''} (apps are listed under runtimeApi.apps)`);
    }
    const requestId = FunctionTable.newRequestId();
    const ctx: CallContext = {
      requestId,
      functionName: `app:${this.settings.appId}`,
      deadline: performance.now() + budget,
      depth: 0,
      // The caller is an app, not a function: it has no capabilities of its own to pass on.
      services: {} as HostServices,
      cancelled: false,
      log: () => {},
    };
    const guest: GuestRequest = { method: request.verb, path, query: request.query, headers: request.headers, body: request.body };
    try {
      return await table.invoke(ctx, id, guest);
    } catch (error) {
      throw toApiError(error);
    }
  }

  private async invokeApp(id: string, base: string, request: InvokeRequest, budget: number): Promise<GuestResponse> {
    const url = new URL(base.replace(/\/$/, '') + request.method + (request.query ? `?${request.query.replace(/^\?/, '')}` : ''));
    const headers = new Headers();
    for (const [name, value] of request.headers) if (!/^(host|connection|content-length|transfer-encoding)$/i.test(name)) headers.append(name, value);
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.verb,
        headers,
        body: request.verb === 'GET' || request.verb === 'HEAD' ? undefined : Buffer.from(request.body),
        signal: AbortSignal.timeout(budget),
        redirect: 'manual',
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new ApiError(timedOut ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE', timedOut ? `app "${id}" at ${base} did not answer within ${budget} ms` : `app "${id}" at ${base} is unreachable: ${(error as Error).message}`);
    }
    const responseHeaders: Array<[string, string]> = [];
    response.headers.forEach((value, name) => responseHeaders.push([name, value]));
    return { status: response.status, headers: responseHeaders, body: new Uint8Array(await response.arrayBuffer()) };
  }

  /** Component health for actuator and info. */
  status() {
    return this.runtime.components.status();
  }

  get components(): Runtime['components'] {
    return this.runtime.components;
  }
}

