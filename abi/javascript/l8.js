// L8 functions in JavaScript: the l8:faas world with plain JavaScript types.
//
// A function is an ES module that exports `httpHandler` and/or `subscriber`:
//
//   import { http, state, Response } from 'l8';
//   export const httpHandler = http((req) => {
//     const count = state.getText('default', `count/${req.param('name')}`) ?? '0';
//     return Response.text(200, count);
//   });
//
// `l8 build fn.js` turns it into a WebAssembly component with componentize-js; the
// specifier 'l8' resolves to this file, and `l8:faas/<interface>` to the WIT imports of
// the ABI version in abi/wit/faas.wit. Host calls are synchronous for the guest (the
// runtime suspends the component, not the event loop, while it waits).
import * as configApi from 'l8:faas/config';
import * as invokeApi from 'l8:faas/invoke';
import * as lockApi from 'l8:faas/lock';
import * as logApi from 'l8:faas/log';
import * as pubsubApi from 'l8:faas/pubsub';
import * as sequencerApi from 'l8:faas/sequencer';
import * as stateApi from 'l8:faas/state';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** HTTP status for each host error code, as every L8 SDK answers them. */
const ERROR_STATUS = { denied: 403, 'not-found': 404, unavailable: 503, invalid: 400, conflict: 409, internal: 500 };

/** A host call failed: `code` is the WIT error-code (denied, not-found, unavailable, invalid, conflict, internal). */
export class HostError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'HostError';
    this.code = code;
  }

  /** The response every L8 SDK answers this error with: `<code>: <message>`, status by code, text/plain. */
  toResponse() {
    return Response.text(ERROR_STATUS[this.code] ?? 500, `${this.code}: ${this.message}`, 'text/plain');
  }
}

/** Runs a WIT import, turning its `err(error)` into a HostError. */
function host(call) {
  try {
    return call();
  } catch (error) {
    const payload = error && error.payload;
    if (payload && typeof payload.code === 'string') throw new HostError(payload.code, payload.message);
    throw error;
  }
}

function bytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value === undefined || value === null) return new Uint8Array(0);
  throw new TypeError(`expected a string or bytes, got ${typeof value}`);
}

function fields(value) {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(([name, v]) => [String(name), String(v)]);
  return Object.entries(value).map(([name, v]) => [name, String(v)]);
}

export const state = {
  /** The value of `key` in store `store`, or null when absent. */
  get: (store, key) => host(() => stateApi.get(store, key)) ?? null,
  /** The value as UTF-8 text, or null when absent. */
  getText(store, key) {
    const value = state.get(store, key);
    return value === null ? null : decoder.decode(value);
  },
  set: (store, key, value) => host(() => stateApi.set(store, key, bytes(value))),
  delete: (store, key) => host(() => stateApi.delete(store, key)),
};

export const pubsub = {
  /** Publishes `data` to `topic` on broker `broker`; returns the message id. */
  publish: (broker, topic, data, metadata) => host(() => pubsubApi.publish(broker, topic, bytes(data), fields(metadata))),
};

export const config = {
  /** The config value of `key`, or null when absent. */
  get: (key) => host(() => configApi.get(key)) ?? null,
};

export const invoke = {
  /**
   * Calls function `target` with { method, path, query, headers, body } (all optional);
   * returns its Response. A non-2xx status is a normal response, not an error.
   */
  call(target, request = {}) {
    const wire = {
      method: request.method ?? 'GET',
      path: request.path ?? '/',
      query: request.query ?? '',
      headers: fields(request.headers),
      body: bytes(request.body),
    };
    const answer = host(() => invokeApi.call(target, wire));
    return new Response(answer.status, answer.body, answer.headers);
  },
};

export const lock = {
  /** Takes `resource` for `expireSeconds` unless someone else holds it; true if taken. */
  tryLock: (store, resource, owner, expireSeconds) => host(() => lockApi.tryLock(store, resource, owner, expireSeconds)),
  /** 'success', 'lock-does-not-exist' or 'lock-belongs-to-others'. */
  unlock: (store, resource, owner) => host(() => lockApi.unlock(store, resource, owner)),
  keepAlive: (store, resource, owner, expireSeconds) => host(() => lockApi.keepAlive(store, resource, owner, expireSeconds)),
};

export const sequencer = {
  /** An id (a BigInt) greater than every id returned before for `key`. */
  nextId: (store, key) => host(() => sequencerApi.nextId(store, key)),
};

export const log = {
  trace: (message) => logApi.write('trace', String(message)),
  debug: (message) => logApi.write('debug', String(message)),
  info: (message) => logApi.write('info', String(message)),
  warn: (message) => logApi.write('warn', String(message)),
  error: (message) => logApi.write('error', String(message)),
};

function findHeader(headers, name) {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return null;
}

/** An HTTP request as the host delivers it. Header names are lower-case. */
export class Request {
  constructor(wire) {
    this.method = wire.method;
    this.path = wire.path;
    this.query = wire.query;
    this.headers = wire.headers;
    this.body = wire.body;
  }

  /** The first value of header `name`, or null. */
  header(name) {
    return findHeader(this.headers, name);
  }

  /** The id the host gave this request (header `l8-request-id`), unique per request. */
  requestId() {
    return this.header('l8-request-id');
  }

  /** Route parameter `name` (`/stock/:name`), or null. */
  param(name) {
    return this.header(`l8-param-${name}`);
  }

  /** Query parameter `name` (form-decoded), or null. */
  queryParam(name) {
    return new URLSearchParams(this.query).get(name);
  }

  text() {
    return decoder.decode(this.body);
  }

  json() {
    return JSON.parse(this.text());
  }
}

/** An HTTP response. `body` is a string or bytes; `headers` a list of pairs or an object. */
export class Response {
  constructor(status = 200, body, headers) {
    this.status = status;
    this.body = bytes(body);
    this.headers = fields(headers);
  }

  static text(status, text, contentType = 'text/plain; charset=utf-8') {
    return new Response(status, text, [['content-type', contentType]]);
  }

  static json(status, value) {
    return new Response(status, JSON.stringify(value), [['content-type', 'application/json']]);
  }

  /** The first value of header `name`, or null. */
  header(name) {
    return findHeader(this.headers, name);
  }

  text() {
    return decoder.decode(this.body);
  }

  withHeader(name, value) {
    this.headers.push([name, String(value)]);
    return this;
  }
}

function toWire(response) {
  if (!(response instanceof Response)) {
    throw new TypeError('an HTTP handler must return a Response (from the l8 module)');
  }
  return { status: response.status, headers: response.headers, body: response.body };
}

/**
 * The `httpHandler` export for `handler(request) -> Response` (or a Promise of one). A
 * HostError the handler does not catch becomes its `<code>: <message>` response; any
 * other exception traps the instance, which answers 500.
 */
export function http(handler) {
  return {
    handle(wire) {
      const request = new Request(wire);
      const settle = (response) => toWire(response);
      const failed = (error) => {
        if (error instanceof HostError) return toWire(error.toResponse());
        throw error;
      };
      try {
        const result = handler(request);
        return result && typeof result.then === 'function' ? result.then(settle, failed) : settle(result);
      } catch (error) {
        return failed(error);
      }
    },
  };
}

/**
 * The `subscriber` export for `handler(message)`. Returning (or resolving) means done;
 * throwing (or rejecting) makes the host retry the message and finally dead-letter it
 * with the error's message. `message.data` is bytes; `message.text()` decodes it.
 */
export function subscriber(handler) {
  return {
    onMessage(wire) {
      const message = {
        ...wire,
        text: () => decoder.decode(wire.data),
        metadata: wire.metadata,
        meta: (name) => findHeader(wire.metadata, name),
      };
      // The component's `err(string)`: a thrown value with the text as payload.
      const failed = (error) => {
        throw { payload: error instanceof Error ? error.message : String(error) };
      };
      try {
        const result = handler(message);
        return result && typeof result.then === 'function' ? result.then(() => undefined, failed) : undefined;
      } catch (error) {
        return failed(error);
      }
    },
  };
}
