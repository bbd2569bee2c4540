// The proxy-wasm form on its own: hand-written proxy-wasm modules (WAT, one template with a
// callback body per test) run through compile -> LoadedFunction -> calls, with the
// capability layer replaced by plain functions. Covers what a well-behaved SDK never
// does too: bad pointers, unknown imports, traps, runaway loops, memory exhaustion.
import { describe, expect, it } from 'vitest';
import { CapabilityError, type CallContext, type GuestRequest, type GuestResponse, type HostServices } from '../call-context.ts';
import { L8Error } from '../errors.ts';
import { LoadedFunction, type FunctionLimits } from '../loaded-function.ts';
import { checkBinary, formFor } from '../module-forms.ts';
import { serializeFields, parseFields } from './fields.ts';
import { ProxyWasmCompiled, proxyWasmForm } from './form.ts';
import { functionNameForId } from './function-id.ts';

const { parse } = (await import('@bytecodealliance/jco')) as { parse: (wat: string) => Promise<Uint8Array> };

// ---- a proxy-wasm module template -----------------------------------------------------

/** Constant strings in the module's memory: name -> [address, text]. */
const STRINGS: Record<string, [number, string]> = {
  id: [100, 'wat_probe'],
  store: [120, 'state_demo'],
  book: [140, 'book1'],
  missing: [150, 'nobody'],
  secret: [160, 'secret'],
  target: [170, 'id_2'],
  method: [180, '/stock/book1?unit=pieces'],
  param: [210, 'the-param'],
  hdr: [230, 'x-probe'],
  status: [240, ':status'],
  code: [250, '201'],
  path: [260, ':path'],
  local: [270, 'short and stout'],
  start: [290, 'start'],
  vmstart: [300, 'vm_start'],
  configure: [310, 'configure'],
  create: [320, 'create'],
  headers: [330, 'headers'],
  body: [340, 'body'],
  done: [350, 'done'],
  log: [360, 'log'],
  delete: [370, 'delete'],
};
const s = (name: string) => {
  const [at, text] = STRINGS[name]!;
  return `(i32.const ${at}) (i32.const ${Buffer.byteLength(text)})`;
};
const trace = (name: string) => `(drop (call $log (i32.const 2) ${s(name)}))`;

interface Template {
  headers?: string;
  body?: string;
  vmStart?: string;
  imports?: string;
  exports?: string;
  version?: string;
  memory?: string;
  lifecycleLogs?: boolean;
}

function wat(t: Template = {}): string {
  const data = Object.values(STRINGS).map(([at, text]) => `(data (i32.const ${at}) "${text}")`).join('\n  ');
  const lc = (name: string) => (t.lifecycleLogs ? trace(name) : '');
  return `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func $set_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $get_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_header_map_pairs" (func $set_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $local (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_state" (func $get_state (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_invoke_service" (func $invoke (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  ${t.imports ?? ''}
  ${t.memory ?? '(memory (export "memory") 1)'}
  (global $heap (mut i32) (i32.const 8192))
  (global $calls (mut i32) (i32.const 0))
  ${data}
  ;; A bump allocator: request data lives until the snapshot is restored.
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  ;; The response body becomes the bytes the host returned at (16, 20).
  (func $answer_returned
    (drop (call $set_buffer (i32.const 1) (i32.const 0) (i32.const 0) (i32.load (i32.const 16)) (i32.load (i32.const 20)))))
  ;; The response body becomes $v in decimal.
  (func $answer_number (param $v i32) (local $p i32)
    (local.set $p (i32.const 96))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $v)))
    (drop (call $set_buffer (i32.const 1) (i32.const 0) (i32.const 0) (local.get $p) (i32.sub (i32.const 96) (local.get $p)))))
  (func (export "${t.version ?? 'proxy_abi_version_0_2_0'}"))
  (func (export "_start") ${lc('start')})
  (func (export "proxy_get_id") (drop (call $set_buffer (i32.const 8) (i32.const 0) (i32.const 0) ${s('id')})))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) ${lc('vmstart')} ${t.vmStart ?? ''} (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) ${lc('configure')} (i32.const 1))
  (func (export "proxy_on_context_create") (param i32 i32) ${lc('create')})
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32) ${lc('headers')} ${t.headers ?? '(i32.const 0)'})
  (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32) ${lc('body')} ${t.body ?? '(i32.const 0)'})
  (func (export "proxy_on_done") (param i32) (result i32) ${lc('done')} (i32.const 1))
  (func (export "proxy_on_log") (param i32) ${lc('log')})
  (func (export "proxy_on_delete") (param i32) ${lc('delete')})
  ${t.exports ?? ''}
)`;
}

/** Answers the request body (the query string when there is none). */
const ECHO_BODY = `(drop (call $get_buffer (i32.const 0) (i32.const 0) (local.get $size) (i32.const 16) (i32.const 20))) (call $answer_returned) (i32.const 0)`;

// ---- running modules --------------------------------------------------------------------

const limits = (over: Partial<FunctionLimits> = {}): FunctionLimits => ({ timeoutMs: 2000, memoryPages: 64, maxConcurrency: 2, maxQueue: 4, reuse: false, ...over });
const tuning = { fuelQuantum: 10_000, sliceMs: 2, maxIdle: 2 };
const encode = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface Harness {
  fn: LoadedFunction;
  compiled: ProxyWasmCompiled;
  logs: Array<{ level: string; message: string; source: string }>;
  init: string[];
  invokes: Array<{ target: string; request: GuestRequest }>;
  call(request?: Partial<GuestRequest>, timeoutMs?: number): Promise<GuestResponse>;
}

const state = new Map([['book1', encode('100')]]);
const services = (invokes: Harness['invokes'], invokeAnswer: () => GuestResponse): HostServices => ({
  async stateGet(_ctx, store, key) {
    if (store !== 'state_demo') throw new CapabilityError('denied', `state store "${store}" is not granted to function "probe"; add it to capabilities.state in its manifest`);
    await new Promise((r) => setTimeout(r, 1)); // a real wait: the guest suspends
    return state.get(key) ?? null;
  },
  stateSet: async () => {},
  stateDelete: async () => {},
  publish: async () => 'id',
  configGet: () => null,
  tryLock: async () => true,
  unlock: async () => 'success',
  keepAlive: async () => true,
  nextId: async () => 1n,
  async invoke(_ctx, target, request) {
    invokes.push({ target, request });
    if (target === 'missing') throw new CapabilityError('not-found', 'no function named "missing" is deployed');
    return invokeAnswer();
  },
});

async function load(template: Template | Uint8Array, over: Partial<FunctionLimits> = {}, invokeAnswer = (): GuestResponse => ({ status: 200, headers: [], body: encode('42') })): Promise<Harness> {
  const bytes = template instanceof Uint8Array ? template : await parse(wat(template));
  const lim = limits(over);
  const compiled = (await proxyWasmForm.compile(bytes, { maxMemoryPages: lim.memoryPages, sha256: 'test' })) as ProxyWasmCompiled;
  const init: string[] = [];
  const fn = await LoadedFunction.load('probe', 1, compiled, lim, tuning, (stream, line) => init.push(`${stream}: ${line}`));
  const logs: Harness['logs'] = [];
  const invokes: Harness['invokes'] = [];
  const svc = services(invokes, invokeAnswer);
  const call = (request: Partial<GuestRequest> = {}, timeoutMs = lim.timeoutMs) => {
    const ctx: CallContext = {
      requestId: 'req-1',
      functionName: 'probe',
      deadline: performance.now() + timeoutMs,
      depth: 0,
      services: svc,
      cancelled: false,
      log: (level, message, source) => logs.push({ level, message, source }),
    };
    return fn.handleHttp(ctx, { method: 'GET', path: '/', query: '', headers: [], body: new Uint8Array(0), ...request });
  };
  return { fn, compiled, logs, init, invokes, call };
}

async function rejection(promise: Promise<unknown>): Promise<L8Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(L8Error);
    return error as L8Error;
  }
  throw new Error('expected a rejection');
}

// ---- tests --------------------------------------------------------------------------------

describe('recognising and checking proxy-wasm modules', () => {
  it('takes modules exporting proxy_abi_version_0_2_0, 0_2_1 or 0_1_0, and leaves others to the core form', async () => {
    for (const version of ['proxy_abi_version_0_2_0', 'proxy_abi_version_0_2_1', 'proxy_abi_version_0_1_0']) {
      const bytes = await parse(wat({ version }));
      expect(formFor(bytes).name).toBe('proxy-wasm');
      expect(await checkBinary(bytes)).toBe('proxy-wasm');
    }
    const plain = await parse('(module (memory (export "memory") 1) (func (export "f")))');
    expect(formFor(plain).name).toBe('l8-core');
  });

  const refused: Array<[string, () => Promise<Uint8Array>, RegExp]> = [
    ['an env import that is no proxy-wasm function', () => parse(wat({ imports: '(import "env" "getrandom" (func (param i32) (result i32)))' })), /import "env" "getrandom" is neither a proxy-wasm host function/],
    ['an import from another module', () => parse(wat({ imports: '(import "other" "thing" (func))' })), /import "other" "thing": proxy-wasm modules import host functions from "env"/],
    ['a host function imported with the wrong signature', () => parse(wat().replace('(func $get_state (param i32 i32 i32 i32 i32 i32)', '(func $get_state (param i32 i32 i32 i32 i32)')), /import "env" "proxy_get_state" has signature \(i32, i32, i32, i32, i32\) -> \(i32\), but L8 provides \(i32, i32, i32, i32, i32, i32\) -> \(i32\)/],
    ['an imported memory', () => parse(wat({ memory: '(import "env" "memory" (memory 1)) (export "memory" (memory 0))' })), /import "env" "memory" is a memory; proxy-wasm modules must define and export their own memory/],
    ['no memory export', () => parse(wat({ memory: '(memory 1)' })), /must export its linear memory as "memory"/],
    ['no allocator', () => parse(wat().replace('(export "malloc")', '')), /exports neither "malloc" nor "proxy_on_memory_allocate"/],
    ['no HTTP callbacks', () => parse(wat().replace('(export "proxy_on_request_headers")', '').replace('(export "proxy_on_request_body")', '')), /exports none of proxy_on_request_headers, proxy_on_request_body, proxy_on_request_trailers/],
    ['a callback with the wrong signature', () => parse(wat().replace('(func (export "proxy_on_done") (param i32) (result i32)  (i32.const 1))', '(func (export "proxy_on_done") (param i32))')), /export "proxy_on_done" has signature \(i32\) -> \(\), but proxy-wasm says \(i32\) -> \(i32\)/],
  ];
  for (const [what, make, message] of refused) {
    it(`refuses ${what}, saying what is wrong`, async () => {
      const bytes = await make();
      const error = await rejection(Promise.resolve().then(() => checkBinary(bytes)));
      expect(error.code).toBe('invalid_module');
      expect(error.message).toMatch(message);
    });
  }

  it('refuses a malformed module that announces proxy-wasm, with the engine\'s reason', async () => {
    const bytes = await parse(wat());
    const broken = bytes.slice(0, bytes.length - 7); // cut into the last section
    expect(formFor(broken).name).toBe('proxy-wasm');
    const error = await rejection(Promise.resolve().then(() => checkBinary(broken)));
    expect(error.code).toBe('invalid_module');
    expect(error.message).toMatch(/the proxy-wasm module is not a valid WebAssembly module: /);
  });

  it('reads the id the module names itself with (proxy_get_id, CallData buffer 8)', async () => {
    const { compiled } = await load({});
    expect(compiled.proxyId).toBe('wat_probe');
    const anonymous = await load(await parse(wat().replace('(export "proxy_get_id")', '')));
    expect(anonymous.compiled.proxyId).toBeNull();
  });

  it('maps Layotto ids to L8 function names', () => {
    expect(functionNameForId('id_1')).toBe('id-1');
    expect(functionNameForId('stock')).toBe('stock');
    expect(functionNameForId('Book.Store__v2')).toBe('book-store-v2');
    expect(() => functionNameForId('__')).toThrow(/has no letters or digits/);
  });

  it('serializes header maps as the spec says', () => {
    const bytes = serializeFields([['a', '1'], ['b', '22']]);
    expect([...bytes]).toEqual([2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x61, 0, 0x31, 0, 0x62, 0, 0x32, 0x32, 0]);
    expect(parseFields(bytes)).toEqual([['a', '1'], ['b', '22']]);
    expect(parseFields(new Uint8Array([0]))).toEqual([]);
    expect(() => parseFields(new Uint8Array([9, 0, 0, 0]))).toThrow(/says it has 9 entries/);
  });
});

describe('running a proxy-wasm HTTP function', () => {
  it('starts the plugin and runs each request as a stream context, in the order proxy-wasm hosts do', async () => {
    const h = await load({ lifecycleLogs: true, body: ECHO_BODY });
    expect(h.init.map((l) => l.replace('stdout: ', ''))).toEqual(['start', 'create', 'vm_start', 'configure']);
    const response = await h.call({ method: 'POST', body: encode('hello') });
    expect(text(response.body)).toBe('hello');
    expect(h.logs.filter((l) => l.source === 'log').map((l) => l.message)).toEqual(['create', 'headers', 'body', 'done', 'log', 'delete']);
  });

  it('starts a reactor with _initialize then main, and does not call _start then', async () => {
    const h = await load({
      lifecycleLogs: true,
      exports: `(func (export "_initialize") ${trace('configure')}) (func (export "main") (param i32 i32) (result i32) ${trace('create')} (i32.const 0))`,
    });
    expect(h.init.map((l) => l.replace('stdout: ', ''))).toEqual(['configure', 'create', 'create', 'vm_start', 'configure']);
    // A `main` of another shape belongs to some toolchain; it is not proxy-wasm's and is not called.
    const other = await load({ lifecycleLogs: true, exports: `(func (export "_initialize")) (func (export "main") ${trace('body')})` });
    expect(other.init.map((l) => l.replace('stdout: ', ''))).toEqual(['create', 'vm_start', 'configure']);
  });

  it('hands the query string to the function as its body when the request has none (Layotto)', async () => {
    const h = await load({ body: ECHO_BODY });
    expect(text((await h.call({ query: 'name=book1' })).body)).toBe('name=book1');
    expect(text((await h.call({ query: 'name=book1', body: encode('real body') })).body)).toBe('real body');
  });

  it('does not call proxy_on_request_body for a request without body or query, and answers 200 with an empty body', async () => {
    const h = await load({ lifecycleLogs: true, body: ECHO_BODY });
    const response = await h.call();
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(0);
    expect(h.logs.map((l) => l.message)).not.toContain('body');
  });

  it('gives request headers with :method and :path, and takes response headers and :status', async () => {
    const h = await load({
      headers: `
        (drop (call $get_header (i32.const 0) ${s('hdr')} (i32.const 16) (i32.const 20)))
        (drop (call $add_header (i32.const 2) ${s('hdr')} (i32.load (i32.const 16)) (i32.load (i32.const 20))))
        (drop (call $add_header (i32.const 2) ${s('status')} ${s('code')}))
        (drop (call $get_pairs (i32.const 0) (i32.const 16) (i32.const 20)))
        (call $answer_returned) (i32.const 0)`,
    });
    const response = await h.call({ method: 'PUT', path: '/a', query: 'b=1', headers: [['X-Probe', 'yes'], ['host', 'example.test']] });
    expect(response.status).toBe(201);
    expect(response.headers).toEqual([['x-probe', 'yes']]);
    expect(parseFields(response.body)).toEqual([[':method', 'PUT'], [':path', '/a?b=1'], [':authority', 'example.test'], [':scheme', 'http'], ['x-probe', 'yes'], ['host', 'example.test']]);
  });

  it('calls proxy_on_request_trailers with the request trailers when there are some', async () => {
    const h = await load({
      exports: `(func (export "proxy_on_request_trailers") (param $ctx i32) (param $n i32) (result i32)
        (drop (call $get_header (i32.const 1) ${s('hdr')} (i32.const 16) (i32.const 20))) (call $answer_returned) (i32.const 0))`,
    });
    const response = await h.call({ method: 'POST', body: encode('b'), trailers: [['X-Probe', 'from the trailer']] } as Partial<GuestRequest>);
    expect(text(response.body)).toBe('from the trailer');
  });

  it('answers with proxy_send_local_response and stops calling request callbacks', async () => {
    const headers = serializeFields([['x-local', 'yes']]);
    const bytes = await parse(
      wat({
        lifecycleLogs: true,
        headers: `(drop (call $local (i32.const 418) (i32.const 0) (i32.const 0) ${s('local')} (i32.const 1024) (i32.const ${headers.length}) (i32.const -1))) (i32.const 1)`,
        body: ECHO_BODY,
      }).replace('(global $heap', `(data (i32.const 1024) "${[...headers].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('')}")\n  (global $heap`),
    );
    const h = await load(bytes);
    const response = await h.call({ query: 'a=1' });
    expect(response.status).toBe(418);
    expect(response.headers).toEqual([['x-local', 'yes']]);
    expect(text(response.body)).toBe('short and stout');
    expect(h.logs.map((l) => l.message)).toEqual(['create', 'headers', 'done', 'log', 'delete']);
  });

  it('says clearly when a function pauses without answering, and keeps serving', async () => {
    const h = await load({ body: `(i32.const 1)` });
    const error = await rejection(h.call({ query: 'x=1' }));
    expect(error.code).toBe('bad_gateway');
    expect(error.message).toMatch(/function "probe" paused the request in proxy_on_request_body without sending a response/);
    expect((await h.call()).status).toBe(200);
  });

  it('still calls proxy_on_request_body after proxy_on_request_headers paused, as Envoy does; the last callback decides', async () => {
    const h = await load({ headers: '(i32.const 1)', body: ECHO_BODY });
    const response = await h.call({ body: encode('resumed by the body callback') });
    expect(text(response.body)).toBe('resumed by the body callback');
    const error = await rejection(h.call());
    expect(error.message).toMatch(/paused the request in proxy_on_request_headers/);
  });

  it('runs a 0.1.0 module, whose proxy_on_request_headers has no end_of_stream', async () => {
    const bytes = await parse(wat({ version: 'proxy_abi_version_0_1_0', body: ECHO_BODY }).replace('(param $ctx i32) (param $n i32) (param $eos i32) (result i32)  (i32.const 0)', '(param $ctx i32) (param $n i32) (result i32) (i32.const 0)'));
    const h = await load(bytes);
    expect(text((await h.call({ query: 'v=010' })).body)).toBe('v=010');
  });
});

describe("Layotto's extensions", () => {
  const getState = (key: string, store = 'store') => `(call $answer_number (call $get_state ${s(store)} ${s(key)} (i32.const 16) (i32.const 20)))`;

  it('proxy_get_state reads the store through the state capability and copies the value in with malloc', async () => {
    const h = await load({ headers: `(drop (call $get_state ${s('store')} ${s('book')} (i32.const 16) (i32.const 20))) (call $answer_returned) (i32.const 0)` });
    expect(text((await h.call()).body)).toBe('100');
  });

  it('proxy_get_state answers a missing key with Ok and an empty value, as Layotto does', async () => {
    const h = await load({ headers: `${getState('missing')} (i32.const 0)` });
    expect(text((await h.call()).body)).toBe('0');
  });

  it('proxy_get_state answers InternalFailure (10) when the capability refuses, and logs why', async () => {
    const h = await load({ headers: `${getState('book', 'secret')} (i32.const 0)` });
    expect(text((await h.call()).body)).toBe('10');
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/proxy_get_state\("secret", "book1"\) failed: state store "secret" is not granted/) }));
  });

  it('proxy_get_state during start answers InternalFailure instead of trapping', async () => {
    const h = await load({ vmStart: `(drop (call $get_state ${s('store')} ${s('book')} (i32.const 16) (i32.const 20)))` });
    expect(h.init.join('\n')).toMatch(/proxy_get_state\("state_demo", "book1"\) was called during the plugin's start/);
  });

  it('proxy_invoke_service invokes the L8 function the id maps to: GET <method>, body = param, header id', async () => {
    const h = await load({ headers: `(drop (call $invoke ${s('target')} ${s('method')} ${s('param')} (i32.const 16) (i32.const 20))) (call $answer_returned) (i32.const 0)` });
    expect(text((await h.call()).body)).toBe('42');
    expect(h.invokes).toHaveLength(1);
    const { target, request } = h.invokes[0]!;
    expect(target).toBe('id-2');
    expect(request).toEqual({ method: 'GET', path: '/stock/book1', query: 'unit=pieces', headers: [['id', 'id_2']], body: encode('the-param') });
  });

  it('proxy_invoke_service answers InternalFailure when the target answers other than 200, as Layotto does', async () => {
    const h = await load({ headers: `(call $answer_number (call $invoke ${s('target')} ${s('method')} ${s('param')} (i32.const 16) (i32.const 20))) (i32.const 0)` }, {}, () => ({ status: 404, headers: [], body: encode('no such book') }));
    expect(text((await h.call()).body)).toBe('10');
    expect(h.logs).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/function "id-2" answered HTTP 404 \(no such book\)/) }));
  });
});

describe('failures are clear and the function keeps serving', () => {
  it('an unimplemented host function answers Unimplemented (12) and is logged once per function', async () => {
    const h = await load({ headers: `(call $answer_number (call $http_call (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 16))) (i32.const 0)` });
    expect(text((await h.call()).body)).toBe('12');
    expect(text((await h.call()).body)).toBe('12');
    const lines = h.logs.filter((l) => l.message.includes('proxy_http_call'));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toMatch(/proxy_http_call is not supported by L8's proxy-wasm host; the call answered Unimplemented \(12\)/);
  });

  it('a pointer outside guest memory answers InvalidMemoryAccess (6) and is logged', async () => {
    const h = await load({ headers: `(call $answer_number (call $get_buffer (i32.const 8) (i32.const 0) (i32.const 100) (i32.const 1000000) (i32.const 20))) (i32.const 0)` });
    expect(text((await h.call()).body)).toBe('6');
    expect(h.logs).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/proxy_get_buffer_bytes: .* is outside the guest's/) }));
  });

  it('a trap becomes a trap error, and the next request gets a fresh instance', async () => {
    const h = await load({ headers: `(if (i32.eq (i32.load8_u (i32.const 8192)) (i32.const 0)) (then)) (drop (call $get_buffer (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 20))) (if (i32.eq (i32.load8_u (i32.load (i32.const 16))) (i32.const 116)) (then unreachable)) (i32.const 0)` });
    const error = await rejection(h.call({ body: encode('trap') }));
    expect(error.code).toBe('trap');
    expect(error.message).toMatch(/function "probe" trapped: unreachable/);
    expect((await h.call({ body: encode('fine') })).status).toBe(200);
  });

  it("AssemblyScript's abort becomes a trap that carries its message", async () => {
    // "boom" as an AssemblyScript string: UTF-16 with its byte length just before it.
    const bytes = await parse(wat({ imports: '(import "env" "abort" (func $abort (param i32 i32 i32 i32)))', headers: '(call $abort (i32.const 2052) (i32.const 0) (i32.const 7) (i32.const 3)) (i32.const 0)' }).replace('(global $heap', '(data (i32.const 2048) "\\08\\00\\00\\00b\\00o\\00o\\00m\\00")\n  (global $heap'));
    const h = await load(bytes);
    const error = await rejection(h.call());
    expect(error.code).toBe('trap');
    expect(error.message).toMatch(/abort: boom at unknown file:7:3/);
  });

  it('a runaway guest is stopped at its timeout, and other requests are served meanwhile', async () => {
    // Requests with a body spin forever; requests without one answer at once.
    const h = await load({ headers: `(if (i32.eqz (local.get $eos)) (then (loop $forever (br $forever)))) (i32.const 0)` }, { timeoutMs: 300 });
    const started = performance.now();
    const runaway = rejection(h.call({ body: encode('spin') }));
    // The second instance answers while the first spins (interruption checks yield).
    const other = await h.call({}, 2000);
    expect(other.status).toBe(200);
    const error = await runaway;
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/did not finish within its 300 ms timeout/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a guest that outgrows its memory limit gets a memory_limit error', async () => {
    const h = await load(
      {
        headers: `(loop $more (if (i32.ne (memory.grow (i32.const 16)) (i32.const -1)) (then (br $more)))) unreachable`,
      },
      { memoryPages: 32 },
    );
    const error = await rejection(h.call());
    expect(error.code).toBe('memory_limit');
    expect(error.message).toMatch(/ran out of memory: .*its 2 MiB limit/);
  });

  it('a plugin that refuses to start fails the deploy, naming the callback', async () => {
    const bytes = await parse(wat().replace('(func (export "proxy_on_vm_start") (param i32 i32) (result i32)   (i32.const 1))', '(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 0))'));
    const error = await rejection(proxyWasmForm.compile(bytes, { maxMemoryPages: 64, sha256: 'x' }) as Promise<unknown>);
    expect(error.code).toBe('invalid_module');
    expect(error.message).toMatch(/failed to start: proxy_on_vm_start returned false/);
  });
});

describe('fresh or reused state', () => {
  const counter = `(global.set $calls (i32.add (global.get $calls) (i32.const 1))) (call $answer_number (global.get $calls)) (i32.const 0)`;

  it('every request sees a freshly started plugin by default', async () => {
    const h = await load({ headers: counter }, { maxConcurrency: 1 });
    for (let i = 0; i < 3; i++) expect(text((await h.call()).body)).toBe('1');
  });

  it('keeps module state between requests with reuse', async () => {
    const h = await load({ headers: counter }, { maxConcurrency: 1, reuse: true });
    expect(text((await h.call()).body)).toBe('1');
    expect(text((await h.call()).body)).toBe('2');
  });
});
