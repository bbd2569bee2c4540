// The gRPC server: Layotto's spec.proto.runtime.v1.Runtime, so an unmodified Layotto SDK
// (Go, Java, .NET, JavaScript) works against L8, with server reflection for grpcurl and
// friends. Handlers translate messages and call RuntimeOperations; errors carry gRPC codes
// (an ETag mismatch is ABORTED, an unknown store INVALID_ARGUMENT, a component that is
// down UNAVAILABLE) and messages that say what to do.
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import type { Subscription } from '../../components/pubsub/contract.ts';
import { AppEvents, type EventStatus, type TopicEvent } from './app-events.ts';
import { ApiError, toApiError, toGrpcError } from './errors.ts';
import { ttlFromMetadata, type Concurrency, type DeleteItem, type RuntimeOperations, type SaveItem, type TransactionItem } from './operations.ts';
import { RUNTIME_SERVICE, runtimeDefinition, service } from './protos.ts';

type Msg = Record<string, any>;
type Unary = grpc.handleUnaryCall<Msg, Msg>;
type Bidi = grpc.handleBidiStreamingCall<Msg, Msg>;

const HTTP_VERBS = ['NONE', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** Milliseconds left before the client's deadline, or undefined when it set none. */
function remaining(call: grpc.ServerUnaryCall<Msg, Msg> | grpc.ServerDuplexStream<Msg, Msg>): number | undefined {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(1, at - Date.now()) : undefined;
}

function concurrency(options: Msg | null | undefined): Concurrency {
  if (options?.concurrency === 'CONCURRENCY_FIRST_WRITE') return 'first-write';
  if (options?.concurrency === 'CONCURRENCY_LAST_WRITE') return 'last-write';
  return undefined;
}

function saveItem(item: Msg): SaveItem {
  const out: SaveItem = { key: item.key, value: item.value ?? Buffer.alloc(0), concurrency: concurrency(item.options) };
  if (item.etag?.value) out.etag = item.etag.value;
  const ttl = ttlFromMetadata(item.metadata);
  if (ttl !== undefined) out.ttlSeconds = ttl;
  return out;
}

function deleteItem(key: string, etag: Msg | null | undefined, options: Msg | null | undefined): DeleteItem {
  const out: DeleteItem = { key, concurrency: concurrency(options) };
  if (etag?.value) out.etag = etag.value;
  return out;
}

export interface GrpcApi {
  server: grpc.Server;
  port: number;
  /** Ends streams and stops the server (forcefully after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export async function startGrpcApi(ops: RuntimeOperations, events: AppEvents, options: { host: string; port: number; logger: Logger; maxMessageBytes: number }): Promise<GrpcApi> {
  const { logger } = options;
  const streams = new Set<() => void>();

  /** Wraps an async unary handler: result or a gRPC status with the error's message. */
  const unary = (name: string, work: (request: Msg, call: grpc.ServerUnaryCall<Msg, Msg>) => Promise<Msg>): Unary => (call, callback) => {
    work(call.request, call).then(
      (response) => callback(null, response),
      (error) => {
        const e = toApiError(error);
        if (e.code === 'INTERNAL') logger.warn({ method: name, err: error }, `gRPC ${name} failed: ${e.message}`);
        callback(toGrpcError(e));
      },
    );
  };

  const unimplemented = (name: string, what: string) => {
    const details = `${name} is not implemented by L8: there is no ${what} building block yet. Use a state store for small files, or talk to the storage service directly`;
    return { code: grpc.status.UNIMPLEMENTED, details };
  };

  const implementation: grpc.UntypedServiceImplementation = {
    SayHello: unary('SayHello', async (r) => ({ hello: r.name ? `greetings, ${r.name}` : 'greetings', data: r.data })),

    InvokeService: unary('InvokeService', async (r, call) => {
      const message = r.message ?? {};
      const verb = HTTP_VERBS[HTTP_VERBS.indexOf(message.http_extension?.verb ?? 'NONE')] ?? 'NONE';
      const headers: Array<[string, string]> = [];
      if (message.content_type) headers.push(['content-type', message.content_type]);
      for (const [name, values] of Object.entries(call.metadata.getMap())) {
        if (!name.startsWith(':') && !name.startsWith('grpc-') && typeof values === 'string' && name !== 'content-type' && name !== 'user-agent') headers.push([name, values]);
      }
      const response = await ops.invoke(r.id, {
        method: message.method ?? '',
        verb: verb === 'NONE' ? 'POST' : verb,
        query: message.http_extension?.querystring ?? '',
        headers,
        body: message.data?.value ?? Buffer.alloc(0),
      }, remaining(call));
      const contentType = response.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? '';
      if (response.status >= 400) {
        const body = Buffer.from(response.body).toString('utf8').slice(0, 1000);
        const code = response.status === 404 ? 'NOT_FOUND' : response.status === 400 || response.status === 422 ? 'INVALID_ARGUMENT' : response.status === 403 || response.status === 401 ? 'PERMISSION_DENIED' : response.status === 409 ? 'ABORTED' : response.status === 429 ? 'RESOURCE_EXHAUSTED' : response.status === 503 ? 'UNAVAILABLE' : response.status === 504 ? 'DEADLINE_EXCEEDED' : 'INTERNAL';
        throw new ApiError(code, `"${r.id}" answered HTTP ${response.status}: ${body}`);
      }
      return { data: { type_url: '', value: Buffer.from(response.body) }, content_type: contentType };
    }),

    GetConfiguration: unary('GetConfiguration', async (r) => ({
      items: ops.getConfiguration(r.store_name, r.keys).map(({ key, value }) => ({ key, content: value, group: r.group, label: r.label, tags: {}, metadata: {} })),
    })),
    SaveConfiguration: unary('SaveConfiguration', async (r, call) => {
      await ops.saveConfiguration(r.store_name, (r.items as Msg[]).map((i) => ({ key: i.key, value: i.content ?? '' })), remaining(call));
      return {};
    }),
    DeleteConfiguration: unary('DeleteConfiguration', async (r, call) => {
      await ops.deleteConfiguration(r.store_name, r.keys, remaining(call));
      return {};
    }),
    SubscribeConfiguration: ((call: grpc.ServerDuplexStream<Msg, Msg>) => {
      const stops: Array<() => void> = [];
      const stop = () => {
        for (const s of stops.splice(0)) s();
        streams.delete(end);
      };
      const end = () => {
        stop();
        call.end();
      };
      streams.add(end);
      call.on('data', (r: Msg) => {
        try {
          stops.push(
            ops.watchConfiguration(r.store_name, r.keys, (changes) => {
              call.write({ store_name: r.store_name, app_id: r.app_id, items: changes.map((c) => ({ key: c.key, content: c.value ?? '', group: r.group, label: r.label, tags: {}, metadata: {} })) });
            }),
          );
        } catch (error) {
          stop();
          call.emit('error', toGrpcError(error));
        }
      });
      call.on('end', end);
      call.on('cancelled', stop);
      call.on('error', stop);
    }) as Bidi,

    TryLock: unary('TryLock', async (r, call) => ({ success: await ops.tryLock(r.store_name, r.resource_id, r.lock_owner, r.expire, remaining(call)) })),
    Unlock: unary('Unlock', async (r, call) => ({ status: await ops.unlock(r.store_name, r.resource_id, r.lock_owner, remaining(call)) })),
    // L8's lock contract says only whether the owner still held it, so a lost lease is LOCK_UNEXIST.
    LockKeepAlive: unary('LockKeepAlive', async (r, call) => ({ status: (await ops.keepAlive(r.store_name, r.resource_id, r.lock_owner, r.expire, remaining(call))) ? 'SUCCESS' : 'LOCK_UNEXIST' })),
    GetNextId: unary('GetNextId', async (r, call) => ({ next_id: String(await ops.nextId(r.store_name, r.key, remaining(call))) })),

    GetState: unary('GetState', async (r, call) => {
      const item = await ops.getState(r.store_name, r.key, remaining(call));
      return item ? { data: Buffer.from(item.value), etag: item.etag, metadata: {} } : { data: Buffer.alloc(0), etag: '', metadata: {} };
    }),
    GetBulkState: unary('GetBulkState', async (r, call) => {
      const keys = r.keys as string[];
      const items = await ops.getBulkState(r.store_name, keys, remaining(call));
      return { items: keys.map((key, i) => ({ key, data: Buffer.from(items[i]?.value ?? []), etag: items[i]?.etag ?? '', error: '', metadata: {} })) };
    }),
    SaveState: unary('SaveState', async (r, call) => {
      const etags = await ops.saveState(r.store_name, (r.states as Msg[]).map(saveItem), remaining(call));
      // SaveState returns Empty in Layotto's API; the new ETags (in order) travel as a response header.
      const metadata = new grpc.Metadata();
      metadata.set('l8-etags', JSON.stringify(etags));
      call.sendMetadata(metadata);
      return {};
    }),
    DeleteState: unary('DeleteState', async (r, call) => {
      await ops.deleteState(r.store_name, [deleteItem(r.key, r.etag, r.options)], remaining(call));
      return {};
    }),
    DeleteBulkState: unary('DeleteBulkState', async (r, call) => {
      await ops.deleteState(r.store_name, (r.states as Msg[]).map((s) => deleteItem(s.key, s.etag, s.options)), remaining(call));
      return {};
    }),
    ExecuteStateTransaction: unary('ExecuteStateTransaction', async (r, call) => {
      const items: TransactionItem[] = (r.operations as Msg[]).map((op, i) => {
        const type = String(op.operationType ?? '').toLowerCase();
        const request = op.request ?? {};
        if (type === 'upsert') return { operation: 'upsert', ...saveItem(request) };
        if (type === 'delete') return { operation: 'delete', ...deleteItem(request.key, request.etag, request.options) };
        throw new ApiError('INVALID_ARGUMENT', `operation ${i}: operationType must be "upsert" or "delete", got "${op.operationType}"`);
      });
      await ops.transact(r.storeName, items, remaining(call));
      return {};
    }),

    PublishEvent: unary('PublishEvent', async (r, call) => {
      const id = await ops.publish(r.pubsub_name, r.topic, r.data ?? Buffer.alloc(0), r.data_content_type, r.metadata, remaining(call));
      // PublishEvent returns Empty in Layotto's API; the message id travels as a response header.
      const metadata = new grpc.Metadata();
      metadata.set('l8-message-id', id);
      call.sendMetadata(metadata);
      return {};
    }),

    SubscribeTopicEvents: ((call: grpc.ServerDuplexStream<Msg, Msg>) => {
      let subscription: Subscription | null = null;
      let subscribing = false;
      const pending = new Map<string, Array<(status: EventStatus) => void>>();
      let ended = false;
      const finish = () => {
        if (ended) return;
        ended = true;
        streams.delete(end);
        for (const waiters of pending.values()) for (const w of waiters) w('RETRY');
        pending.clear();
        void subscription?.close();
      };
      const end = () => {
        finish();
        call.end();
      };
      streams.add(end);
      const fail = (error: unknown) => {
        finish();
        call.emit('error', toGrpcError(error));
      };
      const send = (event: TopicEvent): Promise<EventStatus> => {
        if (ended) return Promise.reject(new Error('the subscription stream has ended'));
        return new Promise<EventStatus>((resolve, reject) => {
          const timer = setTimeout(() => {
            const waiters = pending.get(event.id)?.filter((w) => w !== answer);
            if (waiters?.length) pending.set(event.id, waiters);
            else pending.delete(event.id);
            reject(new Error(`the app did not answer message ${event.id} within ${ops.settings.deliveryTimeoutMs} ms`));
          }, ops.settings.deliveryTimeoutMs);
          const answer = (status: EventStatus) => {
            clearTimeout(timer);
            if (ended) reject(new Error('the subscription stream ended before the app answered'));
            else resolve(status);
          };
          pending.set(event.id, [...(pending.get(event.id) ?? []), answer]);
          call.write({ event_message: event });
        });
      };
      call.on('data', (r: Msg) => {
        if (r.initial_request) {
          if (subscription || subscribing) return fail(new ApiError('INVALID_ARGUMENT', 'the subscription is already set up; send event_processed messages after the initial request'));
          subscribing = true;
          const initial = r.initial_request as Msg;
          events
            .subscribe({ pubsub: initial.pubsub_name, topic: initial.topic, metadata: initial.metadata ?? {}, deadLetterTopic: initial.dead_letter_topic || undefined, via: 'SubscribeTopicEvents stream', send })
            .then((s) => {
              if (ended) return void s.close();
              subscription = s;
              call.write({ initial_response: {} });
            }, fail);
          return;
        }
        if (r.event_processed) {
          if (!subscription) return fail(new ApiError('INVALID_ARGUMENT', 'the first message of SubscribeTopicEvents must be an initial_request naming pubsub_name and topic'));
          const { id, status } = r.event_processed as Msg;
          const waiters = pending.get(id);
          const waiter = waiters?.shift();
          if (waiters && waiters.length === 0) pending.delete(id);
          waiter?.((status?.status ?? 'SUCCESS') as EventStatus);
          return;
        }
        fail(new ApiError('INVALID_ARGUMENT', 'a SubscribeTopicEvents message must hold initial_request or event_processed'));
      });
      call.on('end', end);
      call.on('cancelled', finish);
      call.on('error', finish);
    }) as Bidi,

    GetFile: ((call: grpc.ServerWritableStream<Msg, Msg>) => call.emit('error', unimplemented('GetFile', 'file'))) as grpc.handleServerStreamingCall<Msg, Msg>,
    PutFile: ((_call: grpc.ServerReadableStream<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => callback(unimplemented('PutFile', 'file'))) as grpc.handleClientStreamingCall<Msg, Msg>,
    ListFile: ((_call: unknown, callback: grpc.sendUnaryData<Msg>) => callback(unimplemented('ListFile', 'file'))) as Unary,
    DelFile: ((_call: unknown, callback: grpc.sendUnaryData<Msg>) => callback(unimplemented('DelFile', 'file'))) as Unary,
    GetFileMeta: ((_call: unknown, callback: grpc.sendUnaryData<Msg>) => callback(unimplemented('GetFileMeta', 'file'))) as Unary,
    InvokeBinding: ((_call: unknown, callback: grpc.sendUnaryData<Msg>) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'InvokeBinding is not implemented by L8: there is no binding building block yet. Publish to a topic, or call the service directly' })) as Unary,

    GetSecret: unary('GetSecret', async (r, call) => ({ data: await ops.getSecret(r.store_name, r.key, remaining(call)) })),
    GetBulkSecret: unary('GetBulkSecret', async (r, call) => {
      const all = await ops.getBulkSecret(r.store_name, remaining(call));
      return { data: Object.fromEntries(Object.entries(all).map(([name, secrets]) => [name, { secrets }])) };
    }),
  };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  });
  server.addService(service(RUNTIME_SERVICE) as unknown as grpc.ServiceDefinition, implementation);
  new ReflectionService(runtimeDefinition(), { services: [RUNTIME_SERVICE] }).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(new Error(`cannot listen for gRPC on ${options.host}:${options.port}: ${error.message}; set another port with --grpc-port or L8_GRPC_PORT (0 picks a free one)`));
      else resolve(bound);
    });
  });
  return {
    server,
    port,
    async stop(graceMs = 2000) {
      for (const end of [...streams]) end();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
