// Layotto's function listener: every request names its function in the `id` header
// (`curl -H 'id: id_1' 'localhost:2045?name=book1'`), whatever its path. The request runs
// through the function's LoadedFunction like any L8 request (limits, pool, timeouts, error
// mapping), and a proxy-wasm function sees the query string as its body when the request
// has none, as in Layotto.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { L8Error, toL8Error } from '../../host/errors.ts';
import { FunctionIdError, functionNameForId } from '../../host/proxy-wasm/function-id.ts';
import type { ProxyWasmRequest } from '../../host/proxy-wasm/instance.ts';
import { FunctionTable } from '../function-table.ts';
import { ALL_METHODS, acceptRawBodies, headerPairs, readBody, sendError, sendGuestResponse, splitUrl } from '../triggers/http-exchange.ts';

export interface LayottoListenerOptions {
  table: FunctionTable;
  /** Called once per finished request (metrics and the request log line, as for the HTTP trigger). */
  observe?: (event: { fn: string | null; status: number; errorCode: string | null; seconds: number; requestId: string; method: string; path: string }) => void;
}

export async function layottoListener(app: FastifyInstance, options: LayottoListenerOptions): Promise<void> {
  const { table, observe } = options;
  acceptRawBodies(app);

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const { path, query } = splitUrl(request.raw.url ?? '/');
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
      const body = await readBody(request, limit, fn.name);
      const headers = FunctionTable.routedHeaders(headerPairs(request.raw.rawHeaders), request.id, null);
      const guest: ProxyWasmRequest = { method: request.method, path, query, headers, body, trailers: headerPairs(request.raw.rawTrailers) };
      const response = await fn.loaded.handleHttp(table.context(fn, request.id, 0), guest);
      sendGuestResponse(reply, response, request.method === 'HEAD', fn.name, limit);
      done(response.status, null);
      return reply;
    } catch (caught) {
      const error = toL8Error(caught);
      if (error.status >= 500) request.log.warn({ requestId: request.id, fn: fnName, code: error.code }, error.message);
      done(error.status, error.code);
      return sendError(reply, error, request.id);
    }
  };
  app.route({ method: ALL_METHODS, url: '/*', handler });
}
