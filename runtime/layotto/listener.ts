// Layotto's function listener: every request names its function in the `id` header
// (`curl -H 'id: id_1' 'localhost:2045?name=book1'`), whatever its path. The request runs
// through the function's LoadedFunction like any L8 request (limits, pool, timeouts, error
// mapping), and a proxy-wasm function sees the query string as its body when the request
// has none, as in Layotto.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Fields } from '../../host/guest-memory.ts';
import { L8Error, toL8Error } from '../../host/errors.ts';
import { FunctionIdError, functionNameForId } from '../../host/proxy-wasm/function-id.ts';
import type { ProxyWasmRequest } from '../../host/proxy-wasm/instance.ts';
import { FunctionTable } from '../function-table.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface LayottoListenerOptions {
  table: FunctionTable;
  /** Called once per finished request (metrics and the request log line, as for the HTTP trigger). */
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
        stream.resume();
        reject(new L8Error('payload_too_large', `request body is larger than function "${fn}" accepts (${limit} bytes); send less or raise limits.maxBodyBytes`));
        return;
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(Buffer.concat(chunks, size)));
    stream.once('error', reject);
  });
}

function pairs(raw: string[]): Fields {
  const out: Fields = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

function sendError(reply: FastifyReply, error: L8Error, requestId: string): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  return reply.code(error.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(error.toJSON(requestId)));
}

export async function layottoListener(app: FastifyInstance, options: LayottoListenerOptions): Promise<void> {
  const { table, observe } = options;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    reply.header('l8-request-id', request.id);
    let fnName: string | null = null;
    const done = (status: number, errorCode: string | null) =>
      observe?.({ fn: fnName && table.get(fnName) ? fnName : null, status, errorCode, seconds: (performance.now() - started) / 1000, requestId: request.id, method: request.method, path });
    try {
      const id = request.headers.id;
      if (typeof id !== 'string' || id.trim() === '') {
        throw new L8Error('bad_request', 'missing "id" header: the Layotto listener routes each request to the function whose id it names, e.g. curl -H "id: id_1" "localhost:2045?name=book1"');
      }
      try {
        fnName = functionNameForId(id.trim());
      } catch (error) {
        if (error instanceof FunctionIdError) throw new L8Error('bad_request', error.message);
        throw error;
      }
      const fn = table.get(fnName);
      if (!fn) {
        throw new L8Error('not_found', `no function with id "${id}" (L8 function "${fnName}") is installed; install it with POST /wasm/install on the Layotto admin port, or see "l8 list"`);
      }
      const limit = fn.limits.maxBodyBytes;
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > limit) {
        throw new L8Error('payload_too_large', `request body (${declared} bytes) is larger than function "${fn.name}" accepts (${limit} bytes); send less or raise limits.maxBodyBytes`);
      }
      const body = request.body ? await readBody(request.body as Readable, limit, fn.name) : Buffer.alloc(0);
      const headers = FunctionTable.routedHeaders(pairs(request.raw.rawHeaders), request.id, null);
      const guest: ProxyWasmRequest = { method: request.method, path, query, headers, body, trailers: pairs(request.raw.rawTrailers) };
      const response = await fn.loaded.handleHttp(table.context(fn, request.id, 0), guest);
      if (response.body.length > limit) {
        throw new L8Error('internal', `function "${fn.name}" answered ${response.body.length} bytes, more than its limit of ${limit}; raise limits.maxBodyBytes`);
      }
      const grouped = new Map<string, string[]>();
      for (const [name, value] of response.headers) {
        const lower = name.toLowerCase();
        if (HOP_BY_HOP.has(lower)) continue;
        if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
          throw new L8Error('trap', `function "${fn.name}" returned an invalid header ${JSON.stringify(name)}: ${JSON.stringify(value)}`);
        }
        const list = grouped.get(lower);
        if (list) list.push(value);
        else grouped.set(lower, [value]);
      }
      for (const [name, values] of grouped) reply.header(name, values.length === 1 ? values[0] : values);
      reply.code(response.status);
      done(response.status, null);
      return reply.send(request.method === 'HEAD' ? undefined : Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength));
    } catch (caught) {
      const error = toL8Error(caught);
      if (error.status >= 500) request.log.warn({ requestId: request.id, fn: fnName, code: error.code }, error.message);
      if (error.code === 'payload_too_large') reply.header('connection', 'close');
      done(error.status, error.code);
      return sendError(reply, error, request.id);
    }
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], url: '/*', handler });
}
