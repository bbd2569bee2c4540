// The conformance function as a plain wasi:http component (a `fetch` event handler; it
// imports nothing of L8 and runs unchanged on Spin or `wasmtime serve`). It implements
// the routes of test/conformance/README.md that wasi:http can express — echo, unicode,
// big, status, stdout, trap, global, spin, grow and the 404 — plus
// `GET /conf/fetch?url=<u>`, an outgoing request through wasi:http/outgoing-handler.

const UNICODE = 'héllo wörld ✓ 日本語 🚀';
const TEXT_UTF8 = 'text/plain; charset=utf-8';

/** Module-level state for GET /conf/global: 0 in the snapshot, so it shows whether state was reset. */
let global = 0;

const text = (status, body, headers = {}) => new Response(body, { status, headers });

async function echo(request, url) {
  const body = new Uint8Array(await request.arrayBuffer());
  const headers = new Headers({
    'x-method': request.method,
    'x-path': url.pathname,
    'x-query': url.search.slice(1),
    'x-body-length': String(body.length),
    'content-type': request.headers.get('content-type') ?? 'application/octet-stream',
  });
  for (const [name, value] of request.headers) if (name.startsWith('x-test-')) headers.append(name, value);
  return new Response(body, { status: 200, headers });
}

function count(url, name) {
  const raw = url.searchParams.get(name) ?? '';
  if (!/^[0-9]+$/.test(raw)) return { error: text(400, `query parameter '${name}' must be a non-negative integer, got '${raw}'`) };
  return { value: Number(raw) };
}

function big(url) {
  const { value, error } = count(url, 'size');
  if (error) return error;
  const body = new Uint8Array(value);
  for (let i = 0; i < value; i++) body[i] = i % 251;
  return new Response(body, { status: 200 });
}

function grow(url) {
  const { value, error } = count(url, 'mb');
  if (error) return error;
  const block = new Uint8Array(value * (1 << 20));
  for (let offset = 0; offset < block.length; offset += 65536) block[offset] = 1;
  return text(200, `grew ${value}`);
}

async function upstream(url) {
  const target = url.searchParams.get('url');
  if (!target) return text(400, "missing query parameter 'url'");
  try {
    const answer = await fetch(target);
    return text(answer.status, await answer.text(), { 'x-upstream-status': String(answer.status) });
  } catch (error) {
    return text(502, `fetch failed: ${error?.message ?? error}`);
  }
}

async function handle(request) {
  const url = new URL(request.url);
  const route = `${request.method} ${url.pathname}`;
  if (url.pathname.startsWith('/conf/echo')) return echo(request, url);
  switch (route) {
    case 'GET /conf/unicode':
      return text(200, UNICODE, { 'content-type': TEXT_UTF8 });
    case 'POST /conf/unicode': {
      const body = await request.text();
      return text(200, `${[...body].length}:${body}`, { 'content-type': TEXT_UTF8 });
    }
    case 'GET /conf/stdout':
      console.log('conformance stdout line');
      console.error('conformance stderr line');
      return text(200, 'printed');
    case 'GET /conf/trap':
      // StarlingMonkey logs an exception that escapes the handler to stderr and returns
      // without finishing the response; L8 reports that as the guest trapping.
      throw new Error('conformance trap requested by GET /conf/trap');
    case 'GET /conf/big':
      return big(url);
    case 'GET /conf/global':
      global += 1;
      return text(200, String(global));
    case 'GET /conf/spin': {
      let turns = 0;
      for (;;) turns++;
    }
    case 'GET /conf/grow':
      return grow(url);
    case 'GET /conf/fetch':
      return upstream(url);
  }
  if (url.pathname.startsWith('/conf/status/') && request.method === 'GET') {
    const code = url.pathname.slice('/conf/status/'.length);
    if (/^[0-9]+$/.test(code)) return text(Number(code), `status ${Number(code)}`);
  }
  return text(404, `no route ${request.method} ${url.pathname}`);
}

addEventListener('fetch', (event) => event.respondWith(handle(event.request)));
