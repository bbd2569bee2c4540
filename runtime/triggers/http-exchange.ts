// What every HTTP entry point into a function shares (the HTTP trigger, Layotto's
// function listener): reading the body under the function's own limit, mapping request
// headers to guest fields, checking and sending what the guest answered, and the JSON
// error body. One place, so both entry points reject the same input the same way.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { L8Error } from '../../host/errors.ts';
import type { GuestResponse } from '../../host/call-context.ts';

/** Headers that describe one connection, not the message; never forwarded from a guest. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[\r\n\0]/;

export const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Bodies are read by the handler after routing (see readBody); Fastify must not parse them. */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
}

export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

function readStream(stream: Readable, limit: number, fn: string): Promise<Buffer> {
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

/**
 * The request body, refused with 413 as soon as it exceeds the function's limit: at once
 * when Content-Length says so, otherwise while it streams in.
 */
export async function readBody(request: FastifyRequest, limit: number, fn: string): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    throw new L8Error('payload_too_large', `request body (${declared} bytes) is larger than function "${fn}" accepts (${limit} bytes); send less or raise limits.maxBodyBytes`);
  }
  return request.body ? readStream(request.body as Readable, limit, fn) : Buffer.alloc(0);
}

/** Node's raw [name, value, name, value, …] list as lower-case pairs, repeats kept. */
export function headerPairs(raw: string[]): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return headers;
}

/**
 * Sends what a guest answered after checking it: a body over the function's limit or a
 * header that is not valid HTTP is the function's fault, never the client's.
 */
export function sendGuestResponse(reply: FastifyReply, response: GuestResponse, isHead: boolean, fn: string, limit: number): FastifyReply {
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

export function sendError(reply: FastifyReply, error: L8Error, requestId: string): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  // A 413 leaves unread bytes on the connection; closing it is the only safe answer.
  if (error.code === 'payload_too_large') reply.header('connection', 'close');
  return reply.code(error.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(error.toJSON(requestId)));
}
