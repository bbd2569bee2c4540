// The HTTP/JSON runtime API, for apps without gRPC: the same operations as the gRPC
// server (RuntimeOperations), shaped like Dapr's HTTP API (/v1.0/state/<store>/<key>,
// /v1.0/publish/<pubsub>/<topic>, /v1.0/invoke/<id>/method/<path>, ...) so Dapr HTTP
// clients and habits carry over. Described by the OpenAPI document it serves at
// /openapi.json (openapi.ts). Errors: {"error": {"code": "<gRPC code>", "message", "requestId"}}.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConfigChange } from '../../components/config/contract.ts';
import { ApiError, toApiError } from './errors.ts';
import { OPENAPI } from './openapi.ts';
import { ttlFromMetadata, type Concurrency, type RuntimeOperations, type SaveItem, type TransactionItem } from './operations.ts';

export interface HttpApiOptions {
  ops: RuntimeOperations;
  maxBodyBytes: number;
  /** Called with every route registered, so tests can hold the OpenAPI document to it. */
  onRoute?: (method: string, url: string) => void;
}

type Params = Record<string, string>;
type Query = Record<string, string | string[] | undefined>;

function fail(reply: FastifyReply, request: FastifyRequest, error: unknown): FastifyReply {
  const e = toApiError(error);
  return reply.code(e.httpStatus).header('content-type', 'application/json').send({ error: { code: e.code, message: e.message, requestId: request.id } });
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function concurrency(value: unknown): Concurrency {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === 'first-write' || value === 'last-write') return value;
  throw new ApiError('INVALID_ARGUMENT', `concurrency must be "first-write" or "last-write", got ${JSON.stringify(value)}`);
}

/** A state value from JSON: `value` (any JSON, stored as its JSON text, as Dapr does) or `valueBase64` (raw bytes). */
function valueOf(item: Record<string, unknown>, where: string): Uint8Array {
  if (typeof item.valueBase64 === 'string') return Buffer.from(item.valueBase64, 'base64');
  if (!('value' in item)) throw new ApiError('INVALID_ARGUMENT', `${where}: give "value" (any JSON) or "valueBase64" (raw bytes)`);
  return Buffer.from(JSON.stringify(item.value));
}

function saveItemOf(raw: unknown, where: string): SaveItem {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ApiError('INVALID_ARGUMENT', `${where} must be an object with "key" and "value"`);
  const item = raw as Record<string, unknown>;
  if (typeof item.key !== 'string' || !item.key) throw new ApiError('INVALID_ARGUMENT', `${where}: "key" must be a non-empty string`);
  const options = (item.options ?? {}) as Record<string, unknown>;
  const out: SaveItem = { key: item.key, value: valueOf(item, where), concurrency: concurrency(options.concurrency) };
  if (typeof item.etag === 'string' && item.etag) out.etag = item.etag;
  const ttl = ttlFromMetadata(item.metadata as Record<string, string> | undefined);
  if (ttl !== undefined) out.ttlSeconds = ttl;
  return out;
}

/** Bytes as JSON when they are JSON (what Dapr clients expect), else base64. */
function dataField(value: Uint8Array): { data: unknown } | { dataBase64: string } {
  const text = Buffer.from(value).toString('utf8');
  try {
    return { data: JSON.parse(text) };
  } catch {
    return { dataBase64: Buffer.from(value).toString('base64') };
  }
}

const jsonBody = (request: FastifyRequest): unknown => {
  if (request.body === undefined || request.body === null) throw new ApiError('INVALID_ARGUMENT', 'the request needs a JSON body (Content-Type: application/json)');
  return request.body;
};

const deadlineOf = (request: FastifyRequest): number | undefined => {
  const raw = request.headers['l8-timeout-ms'];
  const n = typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

function configItems(entries: Array<{ key: string; value: string | null }>): Record<string, { value: string; version: string; metadata: Record<string, string> }> {
  return Object.fromEntries(entries.map(({ key, value }) => [key, { value: value ?? '', version: '', metadata: {} }]));
}

export async function httpApi(app: FastifyInstance, options: HttpApiOptions): Promise<void> {
  const { ops } = options;
  if (options.onRoute) app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') options.onRoute!(method, route.url);
  });
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) return fail(reply, request, new ApiError('RESOURCE_EXHAUSTED', `request body is larger than ${options.maxBodyBytes} bytes`));
    if (status && status < 500 && !(error instanceof ApiError)) return fail(reply, request, new ApiError('INVALID_ARGUMENT', (error as Error).message));
    return fail(reply, request, error);
  });

  app.get('/openapi.json', async () => OPENAPI);

  // --- state ---
  app.get('/v1.0/state/:store/:key', async (request, reply) => {
    const { store, key } = request.params as Params;
    const item = await ops.getState(store!, key!, deadlineOf(request));
    if (!item) return reply.code(204).send();
    const isJson = (() => {
      try {
        JSON.parse(Buffer.from(item.value).toString('utf8'));
        return true;
      } catch {
        return false;
      }
    })();
    return reply.header('etag', item.etag).header('content-type', isJson ? 'application/json' : 'application/octet-stream').send(Buffer.from(item.value));
  });
  app.post('/v1.0/state/:store', async (request, reply) => {
    const { store } = request.params as Params;
    const body = jsonBody(request);
    if (!Array.isArray(body)) throw new ApiError('INVALID_ARGUMENT', 'the body must be a JSON array of {"key", "value", "etag"?, "options"?, "metadata"?}');
    await ops.saveState(store!, body.map((item, i) => saveItemOf(item, `item ${i}`)), deadlineOf(request));
    return reply.code(204).send();
  });
  app.post('/v1.0/state/:store/bulk', async (request) => {
    const { store } = request.params as Params;
    const body = jsonBody(request) as { keys?: unknown };
    if (!Array.isArray(body.keys) || !body.keys.every((k) => typeof k === 'string')) throw new ApiError('INVALID_ARGUMENT', 'the body must be {"keys": ["key", ...]}');
    const keys = body.keys as string[];
    const items = await ops.getBulkState(store!, keys, deadlineOf(request));
    return keys.map((key, i) => {
      const item = items[i];
      return item ? { key, ...dataField(item.value), etag: item.etag } : { key };
    });
  });
  app.post('/v1.0/state/:store/transaction', async (request, reply) => {
    const { store } = request.params as Params;
    const body = jsonBody(request) as { operations?: unknown };
    if (!Array.isArray(body.operations)) throw new ApiError('INVALID_ARGUMENT', 'the body must be {"operations": [{"operation": "upsert"|"delete", "request": {...}}]}');
    const items: TransactionItem[] = body.operations.map((raw, i) => {
      const op = (raw ?? {}) as { operation?: unknown; request?: Record<string, unknown> };
      const where = `operation ${i}`;
      if (op.operation === 'upsert') return { operation: 'upsert', ...saveItemOf(op.request, where) };
      if (op.operation === 'delete') {
        const r = op.request ?? {};
        if (typeof r.key !== 'string' || !r.key) throw new ApiError('INVALID_ARGUMENT', `${where}: "key" must be a non-empty string`);
        const options = (r.options ?? {}) as Record<string, unknown>;
        return { operation: 'delete', key: r.key, etag: typeof r.etag === 'string' && r.etag ? r.etag : undefined, concurrency: concurrency(options.concurrency) };
      }
      throw new ApiError('INVALID_ARGUMENT', `${where}: "operation" must be "upsert" or "delete", got ${JSON.stringify(op.operation)}`);
    });
    await ops.transact(store!, items, deadlineOf(request));
    return reply.code(204).send();
  });
  app.delete('/v1.0/state/:store/:key', async (request, reply) => {
    const { store, key } = request.params as Params;
    const query = request.query as Query;
    const etag = request.headers['if-match'];
    await ops.deleteState(store!, [{ key: key!, etag: typeof etag === 'string' && etag ? etag : undefined, concurrency: concurrency(query.concurrency) }], deadlineOf(request));
    return reply.code(204).send();
  });

  // --- configuration ---
  app.get('/v1.0/configuration/:store', async (request) => {
    const { store } = request.params as Params;
    return configItems(ops.getConfiguration(store!, list((request.query as Query).key)));
  });
  app.put('/v1.0/configuration/:store', async (request, reply) => {
    const { store } = request.params as Params;
    const body = jsonBody(request);
    if (typeof body !== 'object' || Array.isArray(body) || !Object.values(body as object).every((v) => typeof v === 'string')) {
      throw new ApiError('INVALID_ARGUMENT', 'the body must be a JSON object of keys to string values ("" deletes a key)');
    }
    await ops.saveConfiguration(store!, Object.entries(body as Record<string, string>).map(([key, value]) => ({ key, value })), deadlineOf(request));
    return reply.code(204).send();
  });
  app.delete('/v1.0/configuration/:store', async (request, reply) => {
    const { store } = request.params as Params;
    await ops.deleteConfiguration(store!, list((request.query as Query).key), deadlineOf(request));
    return reply.code(204).send();
  });
  // Server-sent events: one `data:` line of {"items": {...}} per change, until the client goes away.
  app.get('/v1.0/configuration/:store/subscribe', (request, reply) => {
    const { store } = request.params as Params;
    try {
      ops.component('config', store); // an unknown store is a plain JSON error, before the stream starts
    } catch (error) {
      return fail(reply, request, error);
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': request.id });
    reply.raw.write(': subscribed\n\n');
    const stop = ops.watchConfiguration(store!, list((request.query as Query).key), (changes: ConfigChange[]) => {
      reply.raw.write(`data: ${JSON.stringify({ items: configItems(changes) })}\n\n`);
    });
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      stop();
    });
  });

  // --- lock and sequencer ---
  const lockBody = (request: FastifyRequest, needsExpiry: boolean) => {
    const body = jsonBody(request) as Record<string, unknown>;
    if (typeof body.resourceId !== 'string' || typeof body.lockOwner !== 'string') throw new ApiError('INVALID_ARGUMENT', 'the body needs "resourceId" and "lockOwner" strings');
    const expiry = Number(body.expiryInSeconds);
    if (needsExpiry && !(expiry > 0)) throw new ApiError('INVALID_ARGUMENT', '"expiryInSeconds" must be a positive number');
    return { resourceId: body.resourceId, owner: body.lockOwner, expiry };
  };
  app.post('/v1.0-alpha1/lock/:store', async (request) => {
    const { resourceId, owner, expiry } = lockBody(request, true);
    return { success: await ops.tryLock((request.params as Params).store!, resourceId, owner, expiry, deadlineOf(request)) };
  });
  app.post('/v1.0-alpha1/lock/:store/keepalive', async (request) => {
    const { resourceId, owner, expiry } = lockBody(request, true);
    const held = await ops.keepAlive((request.params as Params).store!, resourceId, owner, expiry, deadlineOf(request));
    return { status: held ? 0 : 1 };
  });
  app.post('/v1.0-alpha1/unlock/:store', async (request) => {
    const { resourceId, owner } = lockBody(request, false);
    const status = await ops.unlock((request.params as Params).store!, resourceId, owner, deadlineOf(request));
    // Dapr's numbering: 0 success, 1 lock does not exist, 2 held by someone else, 3 internal error.
    return { status: ['SUCCESS', 'LOCK_UNEXIST', 'LOCK_BELONG_TO_OTHERS', 'INTERNAL_ERROR'].indexOf(status) };
  });
  app.post('/v1.0-alpha1/sequencer/:store/:key', async (request) => {
    const { store, key } = request.params as Params;
    return { nextId: String(await ops.nextId(store!, key!, deadlineOf(request))) };
  });

  // --- secrets ---
  app.get('/v1.0/secrets/:store/bulk', async (request) => ops.getBulkSecret((request.params as Params).store!, deadlineOf(request)));
  app.get('/v1.0/secrets/:store/:key', async (request) => {
    const { store, key } = request.params as Params;
    return ops.getSecret(store!, key!, deadlineOf(request));
  });

  // --- raw bodies: state values, published messages, invocations ---
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.maxBodyBytes }, (_request, body, done) => done(null, body));

    raw.put('/v1.0/state/:store/:key', async (request, reply) => {
      const { store, key } = request.params as Params;
      const query = request.query as Query;
      const ifMatch = request.headers['if-match'];
      const item: SaveItem = { key: key!, value: (request.body as Buffer | undefined) ?? Buffer.alloc(0), concurrency: concurrency(query.concurrency) };
      if (typeof ifMatch === 'string' && ifMatch) item.etag = ifMatch;
      const ttl = ttlFromMetadata(typeof query.ttlInSeconds === 'string' ? { ttlInSeconds: query.ttlInSeconds } : undefined);
      if (ttl !== undefined) item.ttlSeconds = ttl;
      const [etag] = await ops.saveState(store!, [item], deadlineOf(request));
      return reply.code(204).header('etag', etag ?? '').send();
    });

    raw.post('/v1.0/publish/:pubsub/:topic', async (request) => {
      const { pubsub, topic } = request.params as Params;
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.query as Query)) {
        if (name.startsWith('metadata.') && typeof value === 'string') metadata[name.slice('metadata.'.length)] = value;
      }
      const contentType = request.headers['content-type'] ?? '';
      const id = await ops.publish(pubsub!, topic!, (request.body as Buffer | undefined) ?? Buffer.alloc(0), contentType, metadata, deadlineOf(request));
      return { id };
    });

    raw.all('/v1.0/invoke/:id/method/*', async (request, reply) => {
      const { id } = request.params as Params;
      const path = `/${(request.params as Params)['*'] ?? ''}`;
      const at = request.url.indexOf('?');
      const headers: Array<[string, string]> = [];
      for (const [name, value] of Object.entries(request.headers)) {
        if (name === 'host' || name === 'content-length' || name === 'connection') continue;
        for (const v of [value].flat()) if (typeof v === 'string') headers.push([name, v]);
      }
      const response = await ops.invoke(id!, {
        method: path,
        verb: request.method,
        query: at === -1 ? '' : request.url.slice(at + 1),
        headers,
        body: (request.body as Buffer | undefined) ?? Buffer.alloc(0),
      }, deadlineOf(request));
      reply.code(response.status);
      for (const [name, value] of response.headers) if (!/^(content-length|transfer-encoding|connection)$/i.test(name)) reply.header(name, value);
      return reply.send(Buffer.from(response.body));
    });
  });
}
