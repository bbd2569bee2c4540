// A Layotto runtime API client for tests, generated at run time from Layotto's own .proto
// files (proto/spec/proto/runtime/v1, copied from mosn/layotto) with proto-loader — not
// from L8's server code — so the tests check the wire contract a Layotto SDK relies on.
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ComponentError } from '../../components/errors.ts';
import type { DeleteOptions, SetOptions, StateItem, StateOperation, StateStore } from '../../components/state/contract.ts';

const PROTO_ROOT = resolve(import.meta.dirname, '../../proto');

// Layotto's JS SDK loads the protos the same way: field names as written, longs as strings.
export const definition = protoLoader.loadSync('spec/proto/runtime/v1/runtime.proto', {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
});

const v1 = (grpc.loadPackageDefinition(definition) as any).spec.proto.runtime.v1;
export const RuntimeClient: typeof grpc.Client = v1.Runtime;
export const AppCallbackService: grpc.ServiceDefinition = v1.AppCallback.service;

export type Msg = Record<string, any>;

export interface Reply {
  response: Msg;
  /** Response headers (e.g. l8-message-id, l8-etags). */
  headers: grpc.Metadata;
}

/** A Runtime client with promise-returning unary calls. */
export class LayottoClient {
  readonly raw: grpc.Client & Record<string, any>;

  constructor(address: string) {
    this.raw = new RuntimeClient(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
  }

  /** Calls a unary method; rejects with the grpc.ServiceError. */
  call(method: string, request: Msg, options: { deadlineMs?: number } = {}): Promise<Reply> {
    return new Promise((resolveCall, reject) => {
      let headers = new grpc.Metadata();
      const call = this.raw[method](request, new grpc.Metadata(), { deadline: Date.now() + (options.deadlineMs ?? 15_000) }, (error: grpc.ServiceError | null, response: Msg) =>
        error ? reject(error) : resolveCall({ response, headers }),
      );
      call.on('metadata', (m: grpc.Metadata) => (headers = m));
    });
  }

  async unary(method: string, request: Msg, options?: { deadlineMs?: number }): Promise<Msg> {
    return (await this.call(method, request, options)).response;
  }

  close(): void {
    this.raw.close();
  }
}

/** Rejects unless `promise` fails with gRPC status `code`; returns the error. */
export async function grpcFails(promise: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    const e = error as grpc.ServiceError;
    if (e.code !== code) throw new Error(`expected gRPC status ${grpc.status[code]}, got ${grpc.status[e.code] ?? e.code}: ${e.details ?? e.message}`);
    return e;
  }
  throw new Error(`expected gRPC status ${grpc.status[code]}, but the call succeeded`);
}

const TO_COMPONENT: Partial<Record<grpc.status, ComponentError['code']>> = {
  [grpc.status.ABORTED]: 'conflict',
  [grpc.status.INVALID_ARGUMENT]: 'invalid',
  [grpc.status.NOT_FOUND]: 'not-found',
  [grpc.status.UNAVAILABLE]: 'unavailable',
  [grpc.status.DEADLINE_EXCEEDED]: 'unavailable',
};

/**
 * L8's StateStore contract on top of the gRPC API of a running runtime, so the state
 * contract kit can run through the whole path: Layotto client → L8 gRPC server → component.
 */
export class GrpcStateStore implements StateStore {
  readonly kind = 'layotto-grpc';
  readonly features = { etag: true, ttl: true, transactions: true };
  private readonly client: LayottoClient;
  private readonly store: string;

  constructor(address: string, store: string) {
    this.client = new LayottoClient(address);
    this.store = store;
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const e = error as grpc.ServiceError;
      if (typeof e.code !== 'number') throw error;
      throw new ComponentError(TO_COMPONENT[e.code as grpc.status] ?? 'internal', e.details ?? e.message, { cause: error });
    }
  }

  async init(): Promise<void> {
    await this.client.unary('SayHello', { name: 'contract' });
  }
  async health() {
    await this.client.unary('SayHello', {});
    return { status: 'UP' as const };
  }
  async close(): Promise<void> {
    this.client.close();
  }

  private static item(key: string, value: Uint8Array, options?: SetOptions): Msg {
    return {
      key,
      value: Buffer.from(value),
      etag: options?.etag !== undefined ? { value: options.etag } : null,
      metadata: options?.ttlSeconds !== undefined ? { ttlInSeconds: String(options.ttlSeconds) } : {},
      options: options?.etag !== undefined ? { concurrency: 'CONCURRENCY_FIRST_WRITE' } : null,
    };
  }

  get(key: string): Promise<StateItem | null> {
    return this.run(async () => {
      const r = await this.client.unary('GetState', { store_name: this.store, key });
      return r.etag === '' ? null : { value: new Uint8Array(r.data), etag: r.etag };
    });
  }

  set(key: string, value: Uint8Array, options?: SetOptions): Promise<string> {
    return this.run(async () => {
      const { headers } = await this.client.call('SaveState', { store_name: this.store, states: [GrpcStateStore.item(key, value, options)] });
      return (JSON.parse(String(headers.get('l8-etags')[0])) as string[])[0]!;
    });
  }

  delete(key: string, options?: DeleteOptions): Promise<void> {
    return this.run(async () => {
      await this.client.unary('DeleteState', { store_name: this.store, key, etag: options?.etag !== undefined ? { value: options.etag } : null });
    });
  }

  bulkGet(keys: string[]): Promise<Array<StateItem | null>> {
    return this.run(async () => {
      const r = await this.client.unary('GetBulkState', { store_name: this.store, keys });
      return (r.items as Msg[]).map((i) => (i.etag === '' ? null : { value: new Uint8Array(i.data), etag: i.etag }));
    });
  }

  bulkSet(items: Array<{ key: string; value: Uint8Array; options?: SetOptions }>): Promise<string[]> {
    return this.run(async () => {
      if (items.length === 0) return [];
      const { headers } = await this.client.call('SaveState', { store_name: this.store, states: items.map((i) => GrpcStateStore.item(i.key, i.value, i.options)) });
      return JSON.parse(String(headers.get('l8-etags')[0])) as string[];
    });
  }

  transact(operations: StateOperation[]): Promise<void> {
    return this.run(async () => {
      await this.client.unary('ExecuteStateTransaction', {
        storeName: this.store,
        operations: operations.map((op) => ({
          operationType: op.op === 'set' ? 'upsert' : 'delete',
          request: op.op === 'set' ? GrpcStateStore.item(op.key, op.value, op.options) : { key: op.key, etag: op.options?.etag !== undefined ? { value: op.options.etag } : null },
        })),
      });
    });
  }
}
