// A state store served by a pluggable component (Dapr's StateStore and, when the socket
// offers it, TransactionalStateStore), behind L8's StateStore contract.
//
// Where the protocols differ: Dapr's Set returns no ETag, while L8's set() returns the new
// one, so after a write the adapter reads the key back (under concurrent writers that may
// be a later writer's ETag, which is still a current one). Dapr answers a missing key with
// an empty response; a key that exists has an ETag, which is how an empty value is told
// apart from a missing key (for stores without the ETAG feature an empty value reads as missing).
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { DeleteOptions, SetOptions, StateFeatures, StateItem, StateOperation, StateStore } from '../state/contract.ts';
import type { PluggableConnection } from './connection.ts';
import { method, type Message } from './protocol.ts';

const m = {
  init: method('state', 'Init'),
  features: method('state', 'Features'),
  ping: method('state', 'Ping'),
  get: method('state', 'Get'),
  set: method('state', 'Set'),
  del: method('state', 'Delete'),
  bulkGet: method('state', 'BulkGet'),
  bulkSet: method('state', 'BulkSet'),
  transact: method('transactional', 'Transact'),
};

export interface PluggableStateOptions {
  connection: PluggableConnection;
  /** Sent to the component's Init as its metadata properties (Dapr's component metadata). */
  properties: Record<string, string>;
  /** The socket also serves TransactionalStateStore. */
  transactional: boolean;
}

export class PluggableStateStore implements StateStore {
  readonly kind: string;
  private readonly options: PluggableStateOptions;
  private readonly connection: PluggableConnection;
  private featureList: string[] = [];

  constructor(options: PluggableStateOptions) {
    this.options = options;
    this.connection = options.connection;
    this.kind = options.connection.options.type;
  }

  get features(): StateFeatures {
    return {
      etag: this.featureList.includes('ETAG'),
      ttl: this.featureList.includes('TTL'),
      transactions: this.options.transactional && this.featureList.includes('TRANSACTIONAL'),
    };
  }

  async init(): Promise<void> {
    await this.connection.init(async () => {
      await this.connection.rawUnary(m.init, { metadata: { properties: this.options.properties } }, 'Init');
      const response = await this.connection.rawUnary(m.features, {}, 'Features');
      this.featureList = (response.features ?? []) as string[];
    });
  }

  health(): Promise<ComponentHealth> {
    return this.connection.health(m.ping);
  }

  async close(): Promise<void> {
    this.connection.close();
  }

  private checkOptions(key: string, options: SetOptions | DeleteOptions | undefined): void {
    if (!key) throw new ComponentError('invalid', 'state key must not be empty');
    if (options?.etag !== undefined && !this.features.etag) {
      throw new ComponentError('invalid', `${this.connection.what} does not support ETags (its Features do not list ETAG)`);
    }
    const ttl = (options as SetOptions | undefined)?.ttlSeconds;
    if (ttl !== undefined) {
      if (!this.features.ttl) throw new ComponentError('invalid', `${this.connection.what} does not support TTLs (its Features do not list TTL)`);
      if (!Number.isInteger(ttl) || ttl <= 0) throw new ComponentError('invalid', `ttlSeconds must be a positive whole number, got ${ttl}`);
    }
  }

  private setRequest(key: string, value: Uint8Array, options?: SetOptions): Message {
    const request: Message = { key, value: Buffer.from(value), metadata: {} };
    if (options?.ttlSeconds !== undefined) request.metadata.ttlInSeconds = String(options.ttlSeconds);
    if (options?.etag !== undefined) {
      request.etag = { value: options.etag };
      request.options = { concurrency: 'CONCURRENCY_FIRST_WRITE' };
    }
    return request;
  }

  private deleteRequest(key: string, options?: DeleteOptions): Message {
    const request: Message = { key, metadata: {} };
    if (options?.etag !== undefined) {
      request.etag = { value: options.etag };
      request.options = { concurrency: 'CONCURRENCY_FIRST_WRITE' };
    }
    return request;
  }

  private static item(response: Message): StateItem | null {
    const data: Buffer | undefined = response?.data;
    const etag: string | undefined = response?.etag?.value;
    if (etag === undefined && (!data || data.length === 0)) return null;
    return { value: new Uint8Array(data ?? []), etag: etag ?? '' };
  }

  async get(key: string): Promise<StateItem | null> {
    if (!key) throw new ComponentError('invalid', 'state key must not be empty');
    return PluggableStateStore.item(await this.connection.unary(m.get, { key, metadata: {} }, `Get of key "${key}"`));
  }

  /** The ETag a key has now (after a write), '' if the store does not report one. */
  private async etagOf(key: string): Promise<string> {
    return (await this.get(key))?.etag ?? '';
  }

  async set(key: string, value: Uint8Array, options?: SetOptions): Promise<string> {
    this.checkOptions(key, options);
    await this.connection.unary(m.set, this.setRequest(key, value, options), `Set of key "${key}"`);
    return this.etagOf(key);
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.checkOptions(key, options);
    await this.connection.unary(m.del, this.deleteRequest(key, options), `Delete of key "${key}"`);
  }

  async bulkGet(keys: string[]): Promise<Array<StateItem | null>> {
    if (keys.length === 0) return [];
    for (const key of keys) if (!key) throw new ComponentError('invalid', 'state key must not be empty');
    const response = await this.connection.unary(m.bulkGet, { items: keys.map((key) => ({ key, metadata: {} })) }, `BulkGet of ${keys.length} keys`);
    const byKey = new Map<string, Message>();
    for (const item of (response.items ?? []) as Message[]) {
      if (item.error) throw new ComponentError('internal', `${this.connection.what} could not read key "${item.key}": ${item.error}`);
      byKey.set(item.key, item);
    }
    return keys.map((key) => PluggableStateStore.item(byKey.get(key)));
  }

  async bulkSet(items: Array<{ key: string; value: Uint8Array; options?: SetOptions }>): Promise<string[]> {
    if (items.length === 0) return [];
    for (const item of items) this.checkOptions(item.key, item.options);
    await this.connection.unary(m.bulkSet, { items: items.map((i) => this.setRequest(i.key, i.value, i.options)) }, `BulkSet of ${items.length} keys`);
    return (await this.bulkGet(items.map((i) => i.key))).map((item) => item?.etag ?? '');
  }

  async transact(operations: StateOperation[]): Promise<void> {
    if (!this.features.transactions) {
      throw new ComponentError('invalid', `${this.connection.what} does not support transactions (its socket does not serve TransactionalStateStore, or its Features do not list TRANSACTIONAL)`);
    }
    for (const op of operations) this.checkOptions(op.key, op.options);
    if (operations.length === 0) return;
    const request = {
      operations: operations.map((op) => (op.op === 'set' ? { set: this.setRequest(op.key, op.value, op.options) } : { delete: this.deleteRequest(op.key, op.options) })),
      metadata: {},
    };
    await this.connection.unary(m.transact, request, `Transact of ${operations.length} operations`);
  }
}
