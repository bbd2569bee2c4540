// The ABI conformance function (test/conformance/README.md): every guest language
// implements these routes identically, and one test suite checks them all.
import {
  config, http, invoke, lock, log, pubsub, sequencer, state, subscriber, unlockStatusName,
  Field, HostError, Message, Request, Response,
} from "l8";

/** A host error as the suite expects it: mapped status, body `<code>: <message>`, text/plain. */
function failed(error: HostError): Response {
  return Response.fromError(error);
}

function text(status: i32, body: string): Response {
  return Response.text(status, body);
}

function noRoute(req: Request): Response {
  return text(404, `no route ${req.method} ${req.path}`);
}

/** `name` from the query, or `fallback`. */
function queryOr(req: Request, name: string, fallback: string): string {
  const value = req.query(name);
  return value === null ? fallback : value;
}

function startsWithTestPrefix(name: string): bool {
  return name.startsWith("x-test-");
}

function echo(req: Request): Response {
  const res = new Response(200, req.body)
    .header("x-method", req.method)
    .header("x-path", req.path)
    .header("x-query", req.queryString)
    .header("x-body-length", req.body.byteLength.toString());
  for (let i = 0; i < req.headers.length; i++) {
    const h = req.headers[i];
    if (startsWithTestPrefix(h.name)) res.header(h.name, h.value);
  }
  const contentType = req.header("content-type");
  return res.header("content-type", contentType !== null ? contentType : "application/octet-stream");
}

/** Number of Unicode code points: a surrogate pair is one. */
function codePoints(s: string): i32 {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xDC00 && d <= 0xDFFF) i++;
    }
    n++;
  }
  return n;
}

function unicode(req: Request): Response {
  if (req.method == "GET") return text(200, "héllo wörld ✓ 日本語 🚀");
  if (req.method == "POST") {
    const body = req.text();
    return text(200, `${codePoints(body)}:${body}`);
  }
  return noRoute(req);
}

function stateRoute(req: Request, key: string): Response {
  const store = queryOr(req, "store", "default");
  if (req.method == "GET") {
    const got = state.get(store, key);
    if (!got.ok) return failed(got.error!);
    const value = got.value;
    if (value === null) return text(404, "missing");
    return Response.bytes(200, value);
  }
  if (req.method == "PUT") {
    const error = state.set(store, key, req.body);
    if (error) return failed(error);
    return Response.status(204);
  }
  if (req.method == "DELETE") {
    const error = state.delete(store, key);
    if (error) return failed(error);
    return Response.status(204);
  }
  return noRoute(req);
}

function configRoute(req: Request, key: string): Response {
  if (req.method != "GET") return noRoute(req);
  const got = config.get(key);
  if (!got.ok) return failed(got.error!);
  const value = got.value;
  return value === null ? text(404, "absent") : text(200, value);
}

function publishRoute(req: Request, topic: string): Response {
  if (req.method != "POST") return noRoute(req);
  const metadata = new Array<Field>();
  for (let i = 0; i < req.headers.length; i++) {
    const h = req.headers[i];
    if (h.name.startsWith("x-meta-")) metadata.push(new Field(h.name.substring(7), h.value));
  }
  const published = pubsub.publish(queryOr(req, "broker", "default"), topic, req.body, metadata);
  if (!published.ok) return failed(published.error!);
  return text(200, published.value);
}

function invokeRoute(req: Request, target: string): Response {
  const headers = new Array<Field>();
  for (let i = 0; i < req.headers.length; i++) {
    const h = req.headers[i];
    if (startsWithTestPrefix(h.name)) headers.push(h);
  }
  const call = new Request(queryOr(req, "method", req.method), queryOr(req, "path", "/"), "", headers, req.body);
  const answered = invoke.call(target, call);
  if (!answered.ok) return failed(answered.error!);
  const answer = answered.value;
  const res = new Response(answer.status, answer.body);
  for (let i = 0; i < answer.headers.length; i++) {
    const h = answer.headers[i];
    if (startsWithTestPrefix(h.name)) res.header(h.name, h.value);
  }
  return res.header("x-invoked", target);
}

/**
 * A u32 query parameter written as decimal digits only, or -1 when it is not one;
 * `fallback` when absent. Digits only, so every language accepts the same strings.
 */
function secondsParam(req: Request, name: string, fallback: u32): i64 {
  const raw = req.query(name);
  if (raw === null) return fallback;
  if (raw.length == 0) return -1;
  let value: i64 = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
    if (value > <i64>U32.MAX_VALUE) return -1;
  }
  return value;
}

/** POST try-lock, PUT keep-alive, DELETE unlock on /conf/lock/<resource>. */
function lockRoute(req: Request, resource: string): Response {
  const store = queryOr(req, "store", "default");
  const owner = queryOr(req, "owner", "");
  if (req.method == "POST" || req.method == "PUT") {
    const expire = secondsParam(req, "expire", 10);
    if (expire < 0) {
      return text(400, `query parameter 'expire' must be an integer from 0 to 4294967295, got '${queryOr(req, "expire", "")}'`);
    }
    if (req.method == "POST") {
      const taken = lock.tryLock(store, resource, owner, <u32>expire);
      if (!taken.ok) return failed(taken.error!);
      return taken.value ? text(200, "taken") : text(409, "busy");
    }
    const alive = lock.keepAlive(store, resource, owner, <u32>expire);
    if (!alive.ok) return failed(alive.error!);
    return alive.value ? text(200, "alive") : text(409, "lost");
  }
  if (req.method == "DELETE") {
    const unlocked = lock.unlock(store, resource, owner);
    if (!unlocked.ok) return failed(unlocked.error!);
    return text(200, unlockStatusName(unlocked.value));
  }
  return noRoute(req);
}

function sequenceRoute(req: Request, key: string): Response {
  if (req.method != "POST") return noRoute(req);
  const next = sequencer.nextId(queryOr(req, "store", "default"), key);
  if (!next.ok) return failed(next.error!);
  return text(200, next.value.toString());
}

function big(req: Request): Response {
  const size = I32.parseInt(queryOr(req, "size", "0"));
  const body = new Uint8Array(size > 0 ? size : 0);
  for (let i = 0; i < body.length; i++) body[i] = <u8>(i % 251);
  return Response.bytes(200, body);
}

let counter = 0;

function spin(): void {
  // A runaway guest: no host calls, no end. The host must stop it.
  while (true) {}
}

function grow(req: Request): Response {
  const mb = I32.parseInt(queryOr(req, "mb", "0"));
  const block = new Uint8Array(mb << 20);
  // new Uint8Array zero-fills, but touch every page explicitly: that is the point.
  for (let i = 0; i < block.length; i += 4096) block[i] = 1;
  return text(200, `grew ${mb}`);
}

http.handle((req: Request): Response => {
  const path = req.path;
  if (path.startsWith("/conf/echo")) return echo(req);
  if (path == "/conf/unicode") return unicode(req);
  if (path.startsWith("/conf/state/")) return stateRoute(req, path.substring(12));
  if (path.startsWith("/conf/config/")) return configRoute(req, path.substring(13));
  if (path.startsWith("/conf/publish/")) return publishRoute(req, path.substring(14));
  if (path.startsWith("/conf/invoke/")) return invokeRoute(req, path.substring(13));
  if (path.startsWith("/conf/lock/")) return lockRoute(req, path.substring(11));
  if (path.startsWith("/conf/sequence/")) return sequenceRoute(req, path.substring(15));
  if (path.startsWith("/conf/status/") && req.method == "GET") {
    const code = path.substring(13);
    return text(I32.parseInt(code), `status ${code}`);
  }
  if (req.method != "GET") return noRoute(req);
  if (path == "/conf/trap") {
    abort("conformance trap requested");
    return noRoute(req);
  }
  if (path == "/conf/stdout") {
    console.log("conformance stdout line");
    console.error("conformance stderr line");
    return text(200, "printed");
  }
  if (path == "/conf/log") {
    log.info("conformance log line");
    return text(200, "logged");
  }
  if (path == "/conf/big") return big(req);
  if (path == "/conf/global") {
    counter++;
    return text(200, counter.toString());
  }
  if (path == "/conf/spin") {
    spin();
    return noRoute(req);
  }
  if (path == "/conf/grow") return grow(req);
  return noRoute(req);
});

subscriber.handle((msg: Message): string | null => {
  if (msg.meta("fail") == "always") return `asked to fail: ${msg.id}`;
  const error = state.set("default", `received/${msg.topic}/${msg.id}`, msg.data);
  return error ? error.toString() : null;
});
