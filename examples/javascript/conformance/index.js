// The ABI conformance function (test/conformance/README.md) in JavaScript: every route
// exercises one part of the l8:faas world, with the same answers as every other language.
import { config, http, invoke, lock, log, pubsub, Response, sequencer, state, subscriber as onMessage } from 'l8';

const UNICODE = 'héllo wörld ✓ 日本語 🚀';
const TEXT_UTF8 = 'text/plain; charset=utf-8';

/** Module-level state for GET /conf/global: 0 in the snapshot, so it shows whether state was reset. */
let global = 0;

const text = (status, body) => new Response(status, body);
const isTestHeader = (name) => name.startsWith('x-test-');

function echo(req) {
  const response = new Response(200, req.body)
    .withHeader('x-method', req.method)
    .withHeader('x-path', req.path)
    .withHeader('x-query', req.query)
    .withHeader('x-body-length', req.body.length);
  for (const [name, value] of req.headers) if (isTestHeader(name)) response.withHeader(name, value);
  return response.withHeader('content-type', req.header('content-type') ?? 'application/octet-stream');
}

/** A non-negative integer query parameter, or the 400 response saying it is not one. */
function count(req, name) {
  const raw = req.queryParam(name) ?? '';
  if (!/^[0-9]+$/.test(raw)) {
    return { error: text(400, `query parameter '${name}' must be a non-negative integer, got '${raw}'`) };
  }
  return { value: Number(raw) };
}

function big(req) {
  const { value, error } = count(req, 'size');
  if (error) return error;
  const body = new Uint8Array(value);
  for (let i = 0; i < value; i++) body[i] = i % 251;
  return new Response(200, body);
}

function grow(req) {
  const { value, error } = count(req, 'mb');
  if (error) return error;
  // Touch one byte per 64 KiB so the memory is really used; an allocation the memory
  // limit refuses ends the request like any out-of-memory.
  const block = new Uint8Array(value * (1 << 20));
  for (let offset = 0; offset < block.length; offset += 65536) block[offset] = 1;
  return text(200, `grew ${value}`);
}

function spin() {
  // A runaway guest: no host calls, no end. The host has to interrupt it.
  let turns = 0;
  for (;;) turns++;
}

/**
 * A u32 query parameter written as decimal digits only (`fallback` when absent), or the
 * 400 response saying it is not one (the same strings every language accepts).
 */
function seconds(req, name, fallback) {
  const raw = req.queryParam(name);
  if (raw === null) return { value: fallback };
  if (!/^[0-9]+$/.test(raw) || Number(raw) > 4294967295) {
    return { error: text(400, `query parameter '${name}' must be an integer from 0 to 4294967295, got '${raw}'`) };
  }
  return { value: Number(raw) };
}

/** POST try-lock, PUT keep-alive, DELETE unlock; null for other methods. */
function lockRoute(method, resource, req) {
  const store = req.queryParam('store') ?? 'default';
  const owner = req.queryParam('owner') ?? '';
  if (method === 'POST' || method === 'PUT') {
    const { value: expire, error } = seconds(req, 'expire', 10);
    if (error) return error;
    if (method === 'POST') return lock.tryLock(store, resource, owner, expire) ? text(200, 'taken') : text(409, 'busy');
    return lock.keepAlive(store, resource, owner, expire) ? text(200, 'alive') : text(409, 'lost');
  }
  if (method === 'DELETE') return text(200, lock.unlock(store, resource, owner));
  return null;
}

function invokeTarget(target, req) {
  const answer = invoke.call(target, {
    method: req.queryParam('method') ?? req.method,
    path: req.queryParam('path') ?? '/',
    headers: req.headers.filter(([name]) => isTestHeader(name)),
    body: req.body,
  });
  const response = new Response(answer.status, answer.body, answer.headers.filter(([name]) => isTestHeader(name)));
  return response.withHeader('x-invoked', target);
}

function handle(req) {
  const { method, path } = req;
  if (path.startsWith('/conf/echo')) return echo(req);
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /conf/unicode':
      return Response.text(200, UNICODE, TEXT_UTF8);
    case 'POST /conf/unicode': {
      const body = req.text();
      return Response.text(200, `${[...body].length}:${body}`, TEXT_UTF8);
    }
    case 'GET /conf/trap':
      throw new Error('conformance trap requested by GET /conf/trap');
    case 'GET /conf/stdout':
      console.log('conformance stdout line');
      console.error('conformance stderr line');
      return text(200, 'printed');
    case 'GET /conf/log':
      log.info('conformance log line');
      return text(200, 'logged');
    case 'GET /conf/big':
      return big(req);
    case 'GET /conf/global':
      global += 1;
      return text(200, String(global));
    case 'GET /conf/spin':
      return spin();
    case 'GET /conf/grow':
      return grow(req);
  }
  if (path.startsWith('/conf/state/')) {
    const key = path.slice('/conf/state/'.length);
    const store = req.queryParam('store') ?? 'default';
    if (method === 'GET') {
      const value = state.get(store, key);
      return value === null ? text(404, 'missing') : new Response(200, value, [['content-type', 'application/octet-stream']]);
    }
    if (method === 'PUT') {
      state.set(store, key, req.body);
      return new Response(204);
    }
    if (method === 'DELETE') {
      state.delete(store, key);
      return new Response(204);
    }
  }
  if (path.startsWith('/conf/config/') && method === 'GET') {
    const value = config.get(path.slice('/conf/config/'.length));
    return value === null ? text(404, 'absent') : text(200, value);
  }
  if (path.startsWith('/conf/publish/') && method === 'POST') {
    const broker = req.queryParam('broker') ?? 'default';
    const metadata = req.headers.filter(([name]) => name.startsWith('x-meta-')).map(([name, value]) => [name.slice('x-meta-'.length), value]);
    return text(200, pubsub.publish(broker, path.slice('/conf/publish/'.length), req.body, metadata));
  }
  if (path.startsWith('/conf/invoke/')) return invokeTarget(path.slice('/conf/invoke/'.length), req);
  if (path.startsWith('/conf/lock/')) {
    const response = lockRoute(method, path.slice('/conf/lock/'.length), req);
    if (response) return response;
  }
  if (path.startsWith('/conf/sequence/') && method === 'POST') {
    const store = req.queryParam('store') ?? 'default';
    return text(200, String(sequencer.nextId(store, path.slice('/conf/sequence/'.length))));
  }
  if (path.startsWith('/conf/status/') && method === 'GET') {
    const code = path.slice('/conf/status/'.length);
    if (/^[0-9]+$/.test(code)) return text(Number(code), `status ${Number(code)}`);
  }
  return text(404, `no route ${method} ${path}`);
}

export const httpHandler = http(handle);

export const subscriber = onMessage((msg) => {
  if (msg.meta('fail') === 'always') throw new Error(`asked to fail: ${msg.id}`);
  state.set('default', `received/${msg.topic}/${msg.id}`, msg.data);
});
