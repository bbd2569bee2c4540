// The HTTP trigger: a Fastify plugin that routes every request to the function whose
// manifest claims its method and path, maps request and response both ways, and turns
// every failure into a JSON error naming the request id. The body is read only after
// routing, so each function's own body limit applies (413) before bytes pile up.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { L8Error, toL8Error } from '../../host/errors.ts';
import type { GuestRequest, GuestResponse } from '../../host/call-context.ts';
import type { FunctionTable, RouteMatch } from '../function-table.ts';

/** Headers that describe one connection, not the message; never forwarded from a guest. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface HttpTriggerOptions {
  table: FunctionTable;
  /** Called once per finished request, for metrics. */
  observe?: (event: { fn: string | null; status: number; errorCode: string | null; seconds: number; requestId: string; method: string; path: string }) => void;
}

function readBody(stream: Readable, limit: number, fn: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.off('data', onData);
        stream.resume(); // drain the rest so the connection can answer
        reject(new L8Error('payload_too_large', `request body is larger than function "${fn}" accepts (${limit} bytes); send less or raise limits.maxBodyBytes`));
        return;
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    stream.once('error', reject);
  });
}

function requestHeaders(raw: string[]): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return headers;
}

function sendError(reply: FastifyReply, error: L8Error, requestId: string): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  return reply.code(error.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(error.toJSON(requestId)));
}

const INVALID_VALUE = /[\r\n\0]/;

function sendResponse(reply: FastifyReply, response: GuestResponse, isHead: boolean, fn: string, limit: number): FastifyReply {
  if (response.body.length > limit) {
    throw new L8Error('internal', `function "${fn}" answered ${response.body.length} bytes, more than its limit of ${limit}; raise limits.maxBodyBytes`);
  }
  // Headers go to Fastify as one object; a name the guest repeats becomes a list.
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if (!TOKEN.test(name) || INVALID_VALUE.test(value)) {
      throw new L8Error('trap', `function "${fn}" returned an invalid header ${JSON.stringify(name)}: ${JSON.stringify(value)}`);
    }
    const seen = headers[lower];
    headers[lower] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  reply.headers(headers).code(response.status);
  return reply.send(isHead ? undefined : Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength));
}

export async function httpTrigger(app: FastifyInstance, options: HttpTriggerOptions): Promise<void> {
  const { table, observe } = options;
  // Bodies are read by the handler after routing (see readBody); Fastify must not parse them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const method = request.method;
    reply.header('l8-request-id', request.id);
    let match: RouteMatch | null = null;
    try {
      match = table.match(method, path);
      if (!match) {
        throw new L8Error('route_not_found', `no function serves ${method} ${path}; see the routes of deployed functions with "l8 list"`);
      }
      const limit = match.fn.limits.maxBodyBytes;
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > limit) {
        throw new L8Error('payload_too_large', `request body (${declared} bytes) is larger than function "${match.fn.name}" accepts (${limit} bytes); send less or raise limits.maxBodyBytes`);
      }
      const body = request.body ? await readBody(request.body as Readable, limit, match.fn.name) : Buffer.alloc(0);
      const guestRequest: GuestRequest = { method, path, query, headers: requestHeaders(request.raw.rawHeaders), body };
      const response = await table.handleHttp(match, guestRequest, request.id);
      sendResponse(reply, response, method === 'HEAD', match.fn.name, limit);
      observe?.({ fn: match.fn.name, status: response.status, errorCode: null, seconds: (performance.now() - started) / 1000, requestId: request.id, method, path });
    } catch (caught) {
      const error = toL8Error(caught);
      if (error.status >= 500) {
        request.log.warn({ requestId: request.id, fn: match?.fn.name, code: error.code }, error.message);
      }
      if (error.code === 'payload_too_large') reply.header('connection', 'close');
      sendError(reply, error, request.id);
      observe?.({ fn: match?.fn.name ?? null, status: error.status, errorCode: error.code, seconds: (performance.now() - started) / 1000, requestId: request.id, method, path });
    }
    return reply;
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], url: '/*', handler });
}
