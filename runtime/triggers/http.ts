// The HTTP trigger: a Fastify plugin that routes every request to the function whose
// manifest claims its method and path, maps request and response both ways, and turns
// every failure into a JSON error naming the request id. The body is read only after
// routing, so each function's own body limit applies (413) before bytes pile up.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { L8Error, toL8Error } from '../../host/errors.ts';
import type { GuestRequest } from '../../host/call-context.ts';
import type { FunctionTable, RouteMatch } from '../function-table.ts';
import { ALL_METHODS, acceptRawBodies, headerPairs, readBody, sendError, sendGuestResponse, splitUrl } from './http-exchange.ts';

export interface HttpTriggerOptions {
  table: FunctionTable;
  /** Called once per finished request, for metrics. */
  observe?: (event: { fn: string | null; status: number; errorCode: string | null; seconds: number; requestId: string; method: string; path: string }) => void;
}

export async function httpTrigger(app: FastifyInstance, options: HttpTriggerOptions): Promise<void> {
  const { table, observe } = options;
  acceptRawBodies(app);

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const { path, query } = splitUrl(request.raw.url ?? '/');
    const method = request.method;
    reply.header('l8-request-id', request.id);
    let match: RouteMatch | null = null;
    try {
      match = table.match(method, path);
      if (!match) {
        throw new L8Error('route_not_found', `no function serves ${method} ${path}; see the routes of deployed functions with "l8 list"`);
      }
      const limit = match.fn.limits.maxBodyBytes;
      const body = await readBody(request, limit, match.fn.name);
      const guestRequest: GuestRequest = { method, path, query, headers: headerPairs(request.raw.rawHeaders), body };
      const response = await table.handleHttp(match, guestRequest, request.id);
      sendGuestResponse(reply, response, method === 'HEAD', match.fn.name, limit);
      observe?.({ fn: match.fn.name, status: response.status, errorCode: null, seconds: (performance.now() - started) / 1000, requestId: request.id, method, path });
    } catch (caught) {
      const error = toL8Error(caught);
      if (error.status >= 500) {
        request.log.warn({ requestId: request.id, fn: match?.fn.name, code: error.code }, error.message);
      }
      sendError(reply, error, request.id);
      observe?.({ fn: match?.fn.name ?? null, status: error.status, errorCode: error.code, seconds: (performance.now() - started) / 1000, requestId: request.id, method, path });
    }
    return reply;
  };
  app.route({ method: ALL_METHODS, url: '/*', handler });
}
