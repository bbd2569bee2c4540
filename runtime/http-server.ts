// The one way L8 creates a Fastify server, so every listener (function traffic, admin,
// runtime API, actuator) logs, names requests and shuts down alike.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { newRequestId } from './request-id.ts';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's x-request-id when it is sane, so ids carry across services. */
export function genReqId(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : newRequestId();
}

export function createServer(logger: Logger, component: string, options: FastifyServerOptions = {}): FastifyInstance {
  return Fastify({
    loggerInstance: logger.child({ component }) as FastifyBaseLogger,
    // Requests are logged by L8 itself (one line with function, status and time).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId,
    return503OnClosing: true,
    // Function traffic logs its own request line with the request id; a pino child per
    // request would only cost time there.
    ...(component === 'http' ? { childLoggerFactory: (logger: FastifyBaseLogger) => logger } : {}),
    ...options,
  }) as unknown as FastifyInstance;
}

/** The URL a client on this machine can use to reach `app`. */
export function urlOf(app: FastifyInstance, host: string): string {
  const address = app.server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown}:${address.port}`;
}
