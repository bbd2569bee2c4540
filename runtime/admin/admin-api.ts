// The admin API (loopback by default, bearer token): upload modules, deploy versions,
// roll back, remove, invoke directly, read logs. The `l8` CLI is a thin client of it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { L8Error, toL8Error } from '../../host/errors.ts';
import { FUNCTION_NAME, parseManifest } from '../../functions/manifest.ts';
import type { FunctionRegistry } from '../../functions/registry.ts';
import type { Deployer } from '../deployer.ts';
import { FunctionTable } from '../function-table.ts';
import type { FunctionLogs, LogLine } from '../logs.ts';
import { tokenMatches } from './token.ts';

export interface AdminApiOptions {
  token: string;
  registry: FunctionRegistry;
  deployer: Deployer;
  table: FunctionTable;
  logs: FunctionLogs;
  /** Largest module accepted by upload. */
  maxModuleBytes?: number;
}

function fail(reply: FastifyReply, request: FastifyRequest, error: unknown): FastifyReply {
  const e = toL8Error(error);
  if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
  return reply.code(e.status).send(e.toJSON(request.id));
}

function fnName(request: FastifyRequest): string {
  const name = (request.params as { name: string }).name;
  if (!FUNCTION_NAME.test(name)) throw new L8Error('bad_request', `"${name}" is not a valid function name`);
  return name;
}

export async function adminApi(app: FastifyInstance, options: AdminApiOptions): Promise<void> {
  const { token, registry, deployer, table, logs } = options;

  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!presented) {
      return fail(reply, request, new L8Error('unauthorized', 'missing admin token: send "Authorization: Bearer <token>" (the token is in <data dir>/admin-token or L8_ADMIN_TOKEN)'));
    }
    if (!tokenMatches(token, presented)) {
      return fail(reply, request, new L8Error('unauthorized', 'wrong admin token: use the one in <data dir>/admin-token or L8_ADMIN_TOKEN of the running runtime'));
    }
  });
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) return fail(reply, request, new L8Error('payload_too_large', `upload is larger than ${options.maxModuleBytes ?? 0} bytes`));
    if (status && status < 500) return fail(reply, request, new L8Error('bad_request', (error as Error).message));
    return fail(reply, request, error);
  });
  app.addContentTypeParser(['application/wasm', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: options.maxModuleBytes ?? 256 << 20 }, (_r, body, done) => done(null, body));

  const summary = (name: string) => {
    const record = registry.get(name)!;
    const active = record.versions.find((v) => v.version === record.active)!;
    const live = table.get(name);
    return {
      name,
      version: record.active,
      sha256: active.sha256,
      deployedAt: active.deployedAt,
      routes: active.manifest.routes.map((r) => `${r.method} ${r.path}`),
      subscriptions: active.manifest.subscriptions,
      versions: record.versions.map((v) => v.version),
      loaded: live?.version.version === record.active,
      instances: live?.loaded.pool.stats ?? null,
    };
  };

  app.post('/v1/modules', async (request, reply) => {
    try {
      const body = request.body;
      if (!Buffer.isBuffer(body)) throw new L8Error('bad_request', 'send the module bytes with content-type application/wasm');
      const sha256 = await deployer.upload(new Uint8Array(body));
      return reply.code(201).send({ sha256, size: body.length });
    } catch (error) {
      return fail(reply, request, error);
    }
  });

  app.put('/v1/functions/:name', async (request, reply) => {
    try {
      const name = fnName(request);
      const input = request.body as Record<string, unknown> | undefined;
      if (!input || typeof input !== 'object') throw new L8Error('bad_request', 'send the manifest as JSON: { "module": "<sha256>", "routes": [...], ... }');
      const { module, ...rest } = input;
      if (typeof module !== 'string') throw new L8Error('invalid_manifest', '"module" must be the sha256 of an uploaded module (POST /v1/modules)');
      const manifest = parseManifest({ ...rest, name }, name);
      const result = await deployer.deploy(manifest, module);
      return reply.code(result.changed ? 201 : 200).send(result);
    } catch (error) {
      return fail(reply, request, error);
    }
  });

  app.get('/v1/functions', async () => ({ functions: registry.list().map((r) => summary(r.name)) }));

  app.get('/v1/functions/:name', async (request, reply) => {
    try {
      const name = fnName(request);
      const record = registry.get(name);
      if (!record) throw new L8Error('not_found', `no function named "${name}" is deployed`);
      return { ...summary(name), history: record.versions };
    } catch (error) {
      return fail(reply, request, error);
    }
  });

  app.post('/v1/functions/:name/rollback', async (request, reply) => {
    try {
      const version = await deployer.rollback(fnName(request));
      return { name: fnName(request), version: version.version, sha256: version.sha256 };
    } catch (error) {
      return fail(reply, request, error);
    }
  });

  app.delete('/v1/functions/:name', async (request, reply) => {
    try {
      await deployer.remove(fnName(request));
      return reply.code(204).send();
    } catch (error) {
      return fail(reply, request, error);
    }
  });

  app.post('/v1/functions/:name/invoke', async (request, reply) => {
    try {
      const name = fnName(request);
      const fn = table.get(name);
      if (!fn) throw new L8Error('not_found', `no function named "${name}" is deployed`);
      const input = (request.body ?? {}) as { method?: string; path?: string; query?: string; headers?: Record<string, string>; body?: string; bodyBase64?: string };
      const body = input.bodyBase64 !== undefined ? Buffer.from(input.bodyBase64, 'base64') : Buffer.from(input.body ?? '');
      const path = input.path ?? fn.manifest.routes[0]?.path.replace(/\/\*$/, '/') ?? '/';
      const method = (input.method ?? fn.manifest.routes[0]?.method ?? 'GET').replace('ANY', 'GET').toUpperCase();
      const match = table.match(method, path);
      const requestId = request.id;
      const headers = FunctionTable.routedHeaders(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]), requestId, match?.fn.name === name ? match : null);
      const ctx = table.context(fn, requestId, 0);
      const response = await fn.loaded.handleHttp(ctx, { method, path, query: input.query ?? '', headers, body });
      const text = Buffer.from(response.body);
      const utf8 = text.toString('utf8');
      const isText = Buffer.from(utf8, 'utf8').equals(text);
      return {
        requestId,
        status: response.status,
        headers: response.headers,
        ...(isText ? { body: utf8 } : { bodyBase64: text.toString('base64') }),
      };
    } catch (error) {
      return fail(reply, request, error);
    }
  });

  app.get('/v1/functions/:name/logs', async (request, reply) => {
    let name: string;
    try {
      name = fnName(request);
      if (!registry.get(name)) throw new L8Error('not_found', `no function named "${name}" is deployed`);
    } catch (error) {
      return fail(reply, request, error);
    }
    const query = request.query as { tail?: string; follow?: string };
    const tail = Math.min(1000, Math.max(0, Number(query.tail ?? 100) || 0));
    const follow = query.follow === 'true' || query.follow === '1';
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const show = (line: LogLine) => `${JSON.stringify({ ...line, time: new Date(line.time).toISOString() })}\n`;
    for (const line of logs.tail(name, tail)) reply.raw.write(show(line));
    if (!follow) {
      reply.raw.end();
      return reply;
    }
    const stop = logs.follow(name, (line) => reply.raw.write(show(line)));
    request.raw.on('close', stop);
    return reply;
  });
}
