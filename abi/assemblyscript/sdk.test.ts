// The AssemblyScript SDK on its own, without the L8 runtime: modules built with the build
// helper have exactly the imports and exports abi/README.md lists (names and core
// signatures), the build refuses programs that cannot be L8 functions with a message
// saying why, and the SDK's lifting and lowering follow the canonical-ABI layouts of
// abi/README.md. The runtime side is exercised by test/conformance.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunction, buildFunctions } from './build.ts';
import { ABI_VERSION } from './transform.js';

// ---------------------------------------------------------------------------------------
// Fixtures

const HTTP_FIXTURE = `
import { config, http, invoke, io, lock, log, pubsub, sequencer, state, unlockStatusName, Field, HostError, Request, Response } from "l8";

function show(value: string | null): string {
  return value === null ? "<null>" : value;
}

function failed(error: HostError): Response {
  return Response.text(500, "err:" + error.codeName + ":" + (<i32>error.code).toString() + ":" + error.message);
}

let counter = 0;

http.handle((req: Request): Response => {
  const path = req.path;
  if (path == "/echo") {
    const res = new Response(201, req.body)
      .header("x-method", req.method)
      .header("x-query", req.queryString);
    for (let i = 0; i < req.headers.length; i++) res.header(req.headers[i].name, req.headers[i].value);
    return res;
  }
  if (path == "/query") {
    return Response.text(200, [
      show(req.query("a")), show(req.query("b")), show(req.query("c")), show(req.query("d")),
      show(req.query("e")), show(req.query("missing")), req.param("name"), show(req.header("X-MIXED-Case")),
      req.queryParams().length.toString(),
    ].join("|"));
  }
  if (path == "/text") return Response.text(200, req.text());
  if (path == "/surrogate") return Response.text(200, "a" + String.fromCharCode(0xD800) + "b");
  if (path == "/state/get") {
    const got = state.get(show(req.query("store")), show(req.query("key")));
    if (!got.ok) return failed(got.error!);
    const value = got.value;
    return value === null ? Response.text(404, "none") : Response.bytes(200, value);
  }
  if (path == "/state/text") {
    const got = state.getText("default", show(req.query("key")));
    if (!got.ok) return failed(got.error!);
    return Response.text(200, show(got.value));
  }
  if (path == "/state/set") {
    const error = req.query("as") == "text" ? state.set("default", show(req.query("key")), req.text()) : state.set("default", show(req.query("key")), req.body);
    return error ? failed(error) : Response.status(204);
  }
  if (path == "/state/delete") {
    const error = state.delete("default", show(req.query("key")));
    return error ? failed(error) : Response.status(204);
  }
  if (path == "/publish") {
    const published = pubsub.publish("default", show(req.query("topic")), req.body, [new Field("k1", "v1"), new Field("k2", "v2")]);
    if (!published.ok) return failed(published.error!);
    return Response.text(200, published.value);
  }
  if (path == "/config") {
    const got = config.get(show(req.query("key")));
    if (!got.ok) return failed(got.error!);
    return Response.text(200, show(got.value));
  }
  if (path == "/invoke") {
    const answer = invoke.call("target", new Request("PUT", "/there", "x=1", [new Field("x-a", "1"), new Field("x-b", "2")], req.body));
    if (!answer.ok) return failed(answer.error!);
    const res = answer.value;
    return new Response(res.status, res.body).header("x-got", show(res.getHeader("X-Reply")));
  }
  if (path == "/lock") {
    const store = show(req.query("store"));
    const resource = show(req.query("resource"));
    const owner = show(req.query("owner"));
    const expire = <u32>U64.parseInt(show(req.query("expire")));
    if (req.method == "POST" || req.method == "PUT") {
      const done = req.method == "POST" ? lock.tryLock(store, resource, owner, expire) : lock.keepAlive(store, resource, owner, expire);
      if (!done.ok) return failed(done.error!);
      return Response.text(200, done.value ? "true" : "false");
    }
    const unlocked = lock.unlock(store, resource, owner);
    if (!unlocked.ok) return failed(unlocked.error!);
    return Response.text(200, unlockStatusName(unlocked.value) + ":" + (<i32>unlocked.value).toString());
  }
  if (path == "/sequence") {
    const next = sequencer.nextId(show(req.query("store")), show(req.query("key")));
    if (!next.ok) return failed(next.error!);
    return Response.text(200, next.value.toString());
  }
  if (path == "/from-error") {
    const got = state.get("default", "k");
    return got.ok ? Response.status(200) : Response.fromError(got.error!);
  }
  if (path == "/print") {
    log.warn("warned");
    console.log("to stdout");
    console.error("to stderr");
    io.stdout("raw ");
    return Response.status(200);
  }
  if (path == "/random") return Response.text(200, Math.random().toString());
  if (path == "/abort") {
    abort("asked to abort");
    return Response.status(200);
  }
  if (path == "/bounds") {
    const list = new Array<i32>(2);
    return Response.text(200, list[<i32>req.body.length + 5].toString());
  }
  if (path == "/bad-status") return Response.status(42);
  if (path == "/garbage") {
    let s = "";
    for (let i = 0; i < 2000; i++) s += String.fromCharCode(97 + i % 26);
    counter++;
    return Response.text(200, s.length.toString() + " " + counter.toString());
  }
  return Response.text(404, "no route " + path);
});
`;

const SUBSCRIBER_FIXTURE = `
import { subscriber, Message } from "l8";

subscriber.handle((msg: Message): string | null => {
  if (msg.meta("FAIL") == "yes") return "failing " + msg.id + " on " + msg.broker + "/" + msg.topic + ": " + msg.text();
  return null;
});
`;

// ---------------------------------------------------------------------------------------
// abi/README.md as data: the tables are the spec the modules are checked against.

interface Signature {
  params: number;
  results: number;
}

async function readmeTables(): Promise<{ imports: Map<string, Signature>; exports: Map<string, Signature | 'memory'> }> {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const section = (title: string) => {
    const start = readme.indexOf(`## ${title}`);
    const end = readme.indexOf('\n## ', start + 1);
    if (start < 0) throw new Error(`abi/README.md has no section "${title}"`);
    return readme.slice(start, end < 0 ? undefined : end);
  };
  const count = (list: string) => (list.trim() === '' ? 0 : list.split(',').length);
  // The tables name each interface with the version that introduced it; "a 0.2.0 module
  // imports the same functions from l8:faas/<interface>@0.2.0", and the SDK builds
  // modules of its own version only.
  const current = (name: string) => name.replace(/^((?:cabi_post_)?l8:faas\/[a-z-]+)@[0-9.]+/, `$1@${ABI_VERSION}`);
  const imports = new Map<string, Signature>();
  for (const m of section('Core module: imports').matchAll(/^\| `([^`]+)` \| `([^`]+)` \| `\(([^)]*)\)` \|/gm)) {
    // "All parameters are i32; none of these imports returns a core value."
    imports.set(`${current(m[1]!)} ${m[2]}`, { params: count(m[3]!), results: 0 });
  }
  const exports = new Map<string, Signature | 'memory'>();
  for (const m of section('Core module: exports').matchAll(/^\| `([^`]+)`(?: \(optional\))? \| (memory|`\(([^)]*)\)( -> \w+)?`) \|/gm)) {
    exports.set(current(m[1]!), m[2] === 'memory' ? 'memory' : { params: count(m[3] ?? ''), results: m[4] ? 1 : 0 });
  }
  if (imports.size < 11 || exports.size < 7) throw new Error('could not read the import/export tables of abi/README.md');
  return { imports, exports };
}

/** Core signatures of a module's imported and exported functions, read from its binary. */
function coreSignatures(bytes: Uint8Array): { imports: Map<string, string>; exports: Map<string, string> } {
  let at = 8;
  const u32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++]!;
      result |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result >>> 0;
      shift += 7;
    }
  };
  const name = () => {
    const len = u32();
    const text = new TextDecoder().decode(bytes.subarray(at, at + len));
    at += len;
    return text;
  };
  const valtype = (b: number) => ({ 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' })[b] ?? `0x${b.toString(16)}`;
  const types: string[] = [];
  const funcTypes: number[] = [];
  const imports = new Map<string, string>();
  const exports = new Map<string, string>();
  const exported: Array<[string, number]> = [];
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const size = u32();
    const end = at + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        if (bytes[at++] !== 0x60) throw new Error('unexpected type form');
        const params = Array.from({ length: u32() }, () => valtype(bytes[at++]!));
        const results = Array.from({ length: u32() }, () => valtype(bytes[at++]!));
        types.push(`(${params.join(' ')}) -> (${results.join(' ')})`);
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        const key = `${name()} ${name()}`;
        const kind = bytes[at++];
        if (kind !== 0) throw new Error(`import ${key} is not a function`);
        const type = u32();
        funcTypes.push(type);
        imports.set(key, types[type]!);
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcTypes.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const exportName = name();
        const kind = bytes[at++];
        const index = u32();
        if (kind === 0) exported.push([exportName, index]);
        else exports.set(exportName, kind === 2 ? 'memory' : `kind ${kind}`);
      }
    }
    at = end;
  }
  for (const [exportName, index] of exported) exports.set(exportName, types[funcTypes[index]!]!);
  return { imports, exports };
}

const asSignature = (s: Signature) => `(${Array(s.params).fill('i32').join(' ')}) -> (${Array(s.results).fill('i32').join(' ')})`;

// ---------------------------------------------------------------------------------------
// A host for one instance, written from abi/README.md: it allocates arguments with
// cabi_realloc, writes import results the way the layouts say, and keeps what the guest
// sends. Imports are synchronous here; suspension (JSPI) is the runtime's business.

type Fields = Array<[string, string]>;
interface HostFailure {
  code: number;
  message: string;
}

class Host {
  readonly instance: WebAssembly.Instance;
  readonly exports: Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
  readonly logs: Array<[number, string]> = [];
  readonly out: Record<number, string> = { 1: '', 2: '' };
  readonly state = new Map<string, Uint8Array>();
  readonly calls: Array<{ fn: string; args: unknown[] }> = [];
  /** When set, the next ABI import fails with this error. */
  failNext: HostFailure | null = null;
  config = new Map<string, string>();
  invokeAnswer = { status: 200, headers: [] as Fields, body: new Uint8Array() };
  randomByte = 7;
  /** The ok byte of the next lock call: a bool, or an unlock-status. */
  lockAnswer = 1;
  nextId = 1n;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(module: WebAssembly.Module) {
    const stateGet = (sp: number, sl: number, kp: number, kl: number, ret: number) => {
      const store = this.str(sp, sl, 'store');
      const key = this.str(kp, kl, 'key');
      this.calls.push({ fn: 'state.get', args: [store, key] });
      if (this.fail(ret)) return;
      const value = this.state.get(`${store}/${key}`);
      this.u8(ret, 0);
      this.u8(ret + 4, value ? 1 : 0);
      if (value) this.put(ret + 8, this.alloc(value, 1));
    };
    const imports = {
      'l8:faas/state@0.2.0': {
        get: stateGet,
        set: (sp: number, sl: number, kp: number, kl: number, vp: number, vl: number, ret: number) => {
          const store = this.str(sp, sl, 'store');
          const key = this.str(kp, kl, 'key');
          this.calls.push({ fn: 'state.set', args: [store, key] });
          if (this.fail(ret)) return;
          this.state.set(`${store}/${key}`, this.bytes(vp, vl));
          this.u8(ret, 0);
        },
        delete: (sp: number, sl: number, kp: number, kl: number, ret: number) => {
          const store = this.str(sp, sl, 'store');
          const key = this.str(kp, kl, 'key');
          this.calls.push({ fn: 'state.delete', args: [store, key] });
          if (this.fail(ret)) return;
          this.state.delete(`${store}/${key}`);
          this.u8(ret, 0);
        },
      },
      'l8:faas/pubsub@0.2.0': {
        publish: (bp: number, bl: number, tp: number, tl: number, dp: number, dl: number, mp: number, ml: number, ret: number) => {
          this.calls.push({ fn: 'publish', args: [this.str(bp, bl, 'broker'), this.str(tp, tl, 'topic'), this.bytes(dp, dl), this.fields(mp, ml)] });
          if (this.fail(ret)) return;
          this.u8(ret, 0);
          this.put(ret + 4, this.alloc(new TextEncoder().encode('message-id-1'), 1));
        },
      },
      'l8:faas/config@0.2.0': {
        get: (kp: number, kl: number, ret: number) => {
          const key = this.str(kp, kl, 'key');
          if (this.fail(ret)) return;
          const value = this.config.get(key);
          this.u8(ret, 0);
          this.u8(ret + 4, value === undefined ? 0 : 1);
          if (value !== undefined) this.put(ret + 8, this.alloc(new TextEncoder().encode(value), 1));
        },
      },
      'l8:faas/invoke@0.2.0': {
        call: (...a: number[]) => {
          const ret = a[12]!;
          this.calls.push({
            fn: 'invoke',
            args: [this.str(a[0]!, a[1]!, 'target'), this.str(a[2]!, a[3]!, 'method'), this.str(a[4]!, a[5]!, 'path'), this.str(a[6]!, a[7]!, 'query'), this.fields(a[8]!, a[9]!), this.bytes(a[10]!, a[11]!)],
          });
          if (this.fail(ret)) return;
          const answer = this.invokeAnswer;
          this.u8(ret, 0);
          new DataView(this.exports.memory.buffer).setUint16(ret + 4, answer.status, true);
          this.put(ret + 8, this.allocFields(answer.headers));
          this.put(ret + 16, this.alloc(answer.body, 1));
        },
      },
      'l8:faas/log@0.2.0': {
        write: (level: number, ptr: number, len: number) => {
          this.logs.push([level, this.str(ptr, len, 'log message')]);
        },
      },
      'l8:faas/lock@0.2.0': {
        'try-lock': (...a: number[]) => this.lockCall('try-lock', a),
        unlock: (...a: number[]) => this.lockCall('unlock', a),
        'keep-alive': (...a: number[]) => this.lockCall('keep-alive', a),
      },
      'l8:faas/sequencer@0.2.0': {
        'next-id': (sp: number, sl: number, kp: number, kl: number, ret: number) => {
          this.calls.push({ fn: 'next-id', args: [this.str(sp, sl, 'store'), this.str(kp, kl, 'key')] });
          if (ret % 8 !== 0) throw new Error(`result<u64, error> area at ${ret} is not 8-byte aligned`);
          // result<u64, error> aligns its payload to 8: id, or error record, at offset 8.
          if (this.fail(ret, 8)) return;
          const view = new DataView(this.exports.memory.buffer);
          view.setUint8(ret, 0);
          view.setUint32(ret + 4, 0xdeadbeef, true); // padding: must not leak into the id
          view.setBigUint64(ret + 8, this.nextId, true);
        },
      },
      wasi_snapshot_preview1: {
        fd_write: (fd: number, iovs: number, count: number, written: number) => {
          const view = new DataView(this.exports.memory.buffer);
          let total = 0;
          for (let i = 0; i < count; i++) {
            const ptr = view.getUint32(iovs + i * 8, true);
            const len = view.getUint32(iovs + i * 8 + 4, true);
            this.out[fd] += this.str(ptr, len, 'output');
            total += len;
          }
          view.setUint32(written, total, true);
          return 0;
        },
        random_get: (ptr: number, len: number) => {
          new Uint8Array(this.exports.memory.buffer, ptr, len).fill(this.randomByte);
          return 0;
        },
      },
    };
    this.instance = new WebAssembly.Instance(module, imports);
    this.exports = this.instance.exports as never;
    this.exports._initialize!();
  }

  /** Writes err(failNext) if set: the error record at `payload` (8 for result<u64, error>). */
  private fail(ret: number, payload = 4): boolean {
    const failure = this.failNext;
    if (!failure) return false;
    this.failNext = null;
    this.u8(ret, 1);
    this.u8(ret + payload, failure.code);
    this.put(ret + payload + 4, this.alloc(new TextEncoder().encode(failure.message), 1));
    return true;
  }

  /** try-lock, unlock and keep-alive: 7 or 8 i32 parameters, the last one retptr. */
  private lockCall(fn: 'try-lock' | 'unlock' | 'keep-alive', a: number[]): void {
    const ret = a.at(-1)!;
    const args: unknown[] = [this.str(a[0]!, a[1]!, 'store'), this.str(a[2]!, a[3]!, 'resource'), this.str(a[4]!, a[5]!, 'owner')];
    // expire-seconds is a u32 passed as i32.
    if (fn !== 'unlock') args.push(a[6]! >>> 0);
    this.calls.push({ fn, args });
    if (this.fail(ret)) return;
    this.u8(ret, 0);
    this.u8(ret + 4, this.lockAnswer);
  }

  private u8(at: number, value: number) {
    new DataView(this.exports.memory.buffer).setUint8(at, value);
  }

  private put(at: number, [ptr, len]: [number, number]) {
    const view = new DataView(this.exports.memory.buffer);
    view.setUint32(at, ptr, true);
    view.setUint32(at + 4, len, true);
  }

  str(ptr: number, len: number, what: string): string {
    try {
      return this.utf8.decode(new Uint8Array(this.exports.memory.buffer, ptr, len));
    } catch {
      throw new Error(`the guest passed invalid UTF-8 as ${what}`);
    }
  }

  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, ptr, len).slice();
  }

  fields(ptr: number, len: number): Fields {
    const view = new DataView(this.exports.memory.buffer);
    return Array.from({ length: len }, (_, i) => {
      const e = ptr + i * 16;
      return [this.str(view.getUint32(e, true), view.getUint32(e + 4, true), 'name'), this.str(view.getUint32(e + 8, true), view.getUint32(e + 12, true), 'value')] as [string, string];
    });
  }

  /** Like the L8 host: empty lists are passed without allocating. */
  alloc(data: Uint8Array, align: number): [number, number] {
    if (data.length === 0) return [align, 0];
    const ptr = this.exports.cabi_realloc!(0, 0, align, data.length) >>> 0;
    if (ptr % align !== 0) throw new Error(`cabi_realloc returned ${ptr}, not aligned to ${align}`);
    new Uint8Array(this.exports.memory.buffer).set(data, ptr);
    return [ptr, data.length];
  }

  allocFields(fields: Fields): [number, number] {
    if (fields.length === 0) return [4, 0];
    const enc = new TextEncoder();
    const entries = fields.map(([n, v]) => [...this.alloc(enc.encode(n), 1), ...this.alloc(enc.encode(v), 1)]);
    const table = new Uint8Array(entries.length * 16);
    const view = new DataView(table.buffer);
    entries.forEach((e, i) => e.forEach((x, j) => view.setUint32(i * 16 + j * 4, x, true)));
    // (ptr, number of entries)
    return [this.alloc(table, 4)[0], fields.length];
  }

  handle(request: { method?: string; path: string; query?: string; headers?: Fields; body?: Uint8Array | string }): { status: number; headers: Fields; body: Uint8Array; text: string } {
    const enc = new TextEncoder();
    const body = typeof request.body === 'string' ? enc.encode(request.body) : (request.body ?? new Uint8Array());
    const args = [
      ...this.alloc(enc.encode(request.method ?? 'GET'), 1),
      ...this.alloc(enc.encode(request.path), 1),
      ...this.alloc(enc.encode(request.query ?? ''), 1),
      ...this.allocFields(request.headers ?? []),
      ...this.alloc(body, 1),
    ];
    const ptr = this.exports[`l8:faas/http-handler@${ABI_VERSION}#handle`]!(...args) >>> 0;
    const view = new DataView(this.exports.memory.buffer);
    const response = {
      status: view.getUint16(ptr, true),
      headers: this.fields(view.getUint32(ptr + 4, true), view.getUint32(ptr + 8, true)),
      body: this.bytes(view.getUint32(ptr + 12, true), view.getUint32(ptr + 16, true)),
      text: '',
    };
    response.text = new TextDecoder().decode(response.body);
    this.exports[`cabi_post_l8:faas/http-handler@${ABI_VERSION}#handle`]!(ptr);
    return response;
  }

  onMessage(message: { id: string; broker: string; topic: string; data: string; metadata: Fields }): string | null {
    const enc = new TextEncoder();
    const args = [
      ...this.alloc(enc.encode(message.id), 1),
      ...this.alloc(enc.encode(message.broker), 1),
      ...this.alloc(enc.encode(message.topic), 1),
      ...this.alloc(enc.encode(message.data), 1),
      ...this.allocFields(message.metadata),
    ];
    const ptr = this.exports[`l8:faas/subscriber@${ABI_VERSION}#on-message`]!(...args) >>> 0;
    const view = new DataView(this.exports.memory.buffer);
    const disc = view.getUint8(ptr);
    const result = disc === 0 ? null : this.str(view.getUint32(ptr + 4, true), view.getUint32(ptr + 8, true), 'error');
    this.exports[`cabi_post_l8:faas/subscriber@${ABI_VERSION}#on-message`]!(ptr);
    return result;
  }

  get pages(): number {
    return this.exports.memory.buffer.byteLength / 65536;
  }
}

// ---------------------------------------------------------------------------------------

let dir: string;
let httpBytes: Uint8Array;
let subscriberBytes: Uint8Array;
let httpModule: WebAssembly.Module;
let subscriberModule: WebAssembly.Module;
const failures: Record<string, Error> = {};

const FAILING: Record<string, string> = {
  'no-handler': 'import { state } from "l8";\nexport function notAHandler(): void { state.delete("default", "x"); }\n',
  'js-host': 'import { http, Request, Response } from "l8";\nhttp.handle((req: Request): Response => Response.text(200, Date.now().toString()));\n',
  'type-error': 'import { http, Request, Response } from "l8";\nhttp.handle((req: Request): Response => Response.text(200, req.body));\n',
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'l8-as-sdk-'));
  const sources: Record<string, string> = { http: HTTP_FIXTURE, subscriber: SUBSCRIBER_FIXTURE, ...FAILING };
  for (const [name, source] of Object.entries(sources)) await writeFile(path.join(dir, `${name}.ts`), source);
  const names = Object.keys(sources);
  const outcomes = await buildFunctions(names.map((name) => ({ sourceFile: path.join(dir, `${name}.ts`), outFile: path.join(dir, `${name}.wasm`) })));
  outcomes.forEach((outcome, i) => {
    if (outcome instanceof Error) failures[names[i]!] = outcome;
  });
  for (const name of ['http', 'subscriber']) {
    if (failures[name]) throw failures[name];
  }
  httpBytes = new Uint8Array(await readFile(path.join(dir, 'http.wasm')));
  subscriberBytes = new Uint8Array(await readFile(path.join(dir, 'subscriber.wasm')));
  httpModule = new WebAssembly.Module(httpBytes as Uint8Array<ArrayBuffer>);
  subscriberModule = new WebAssembly.Module(subscriberBytes as Uint8Array<ArrayBuffer>);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('module shape (abi/README.md)', () => {
  it('imports every L8 function with the signature abi/README.md gives, and from WASI only fd_write and random_get', async () => {
    const { imports: spec } = await readmeTables();
    const { imports } = coreSignatures(httpBytes);
    const abi = new Map([...imports].filter(([key]) => key.startsWith('l8:faas/')));
    expect(new Map([...abi].sort())).toEqual(new Map([...spec].sort().map(([key, sig]) => [key, asSignature(sig)])));
    const others = [...imports.keys()].filter((key) => !key.startsWith('l8:faas/')).sort();
    expect(others).toEqual(['wasi_snapshot_preview1 fd_write', 'wasi_snapshot_preview1 random_get']);
    expect(imports.get('wasi_snapshot_preview1 fd_write')).toBe('(i32 i32 i32 i32) -> (i32)');
    expect(imports.get('wasi_snapshot_preview1 random_get')).toBe('(i32 i32) -> (i32)');
  });

  it('exports memory, cabi_realloc, _initialize and the handler with its post-return, with the signatures of abi/README.md', async () => {
    const { exports: spec } = await readmeTables();
    const { exports } = coreSignatures(httpBytes);
    const expected = ['memory', 'cabi_realloc', '_initialize', 'l8:faas/http-handler@0.2.0#handle', 'cabi_post_l8:faas/http-handler@0.2.0#handle'];
    expect([...exports.keys()].sort()).toEqual([...expected].sort());
    for (const name of expected) {
      const want = spec.get(name)!;
      expect(exports.get(name), name).toBe(want === 'memory' ? 'memory' : asSignature(want));
    }
    expect(WebAssembly.Module.exports(httpModule).find((e) => e.name === 'memory')?.kind).toBe('memory');
  });

  it('exports only on-message (and its post-return) when only a subscriber is registered', async () => {
    const { exports: spec } = await readmeTables();
    const { exports, imports } = coreSignatures(subscriberBytes);
    const expected = ['memory', 'cabi_realloc', '_initialize', 'l8:faas/subscriber@0.2.0#on-message', 'cabi_post_l8:faas/subscriber@0.2.0#on-message'];
    expect([...exports.keys()].sort()).toEqual([...expected].sort());
    for (const name of expected.slice(1)) expect(exports.get(name), name).toBe(asSignature(spec.get(name) as Signature));
    // Only what the program uses is imported: the log import backs abort().
    expect([...imports.keys()]).toEqual(['l8:faas/log@0.2.0 write']);
  });
});

describe('build errors', () => {
  it('refuses a program that registers no handler, saying how to register one', () => {
    expect(failures['no-handler']?.message).toMatch(/no handler is registered: call http\.handle\(.*\) and\/or subscriber\.handle\(/);
  });

  it('refuses a program that would import from the JavaScript host, naming the import', () => {
    expect(failures['js-host']?.message).toMatch(/import "env" "Date\.now" .*which the L8 host does not provide/);
  });

  it('reports compile errors with the file and line', () => {
    expect(failures['type-error']?.message).toMatch(/AssemblyScript build of .*type-error\.ts failed/);
    expect(failures['type-error']?.message).toMatch(/type-error\.ts\(2,/);
  });
});

describe('canonical ABI', () => {
  it('cabi_realloc returns aligned, non-null pointers, also for size 0, and traps on a bad alignment', () => {
    const host = new Host(httpModule);
    const realloc = host.exports.cabi_realloc!;
    expect(realloc(0, 0, 1, 0)).not.toBe(0);
    expect(realloc(0, 0, 4, 0) % 4).toBe(0);
    const a = realloc(0, 0, 8, 24);
    const b = realloc(0, 0, 8, 24);
    expect([a % 8, b % 8]).toEqual([0, 0]);
    expect(Math.abs(a - b)).toBeGreaterThanOrEqual(24);
    // Growing keeps the old contents.
    new Uint8Array(host.exports.memory.buffer).set([1, 2, 3], a);
    const grown = realloc(a, 24, 8, 100);
    expect([...new Uint8Array(host.exports.memory.buffer, grown, 3)]).toEqual([1, 2, 3]);
    expect(() => realloc(0, 0, 3, 8)).toThrow(WebAssembly.RuntimeError);
    expect(host.logs.at(-1)).toEqual([4, expect.stringMatching(/^abort: cabi_realloc: unsupported alignment 3/)]);
  });

  it('lifts a request and lowers a response: status, headers in order, binary body', () => {
    const host = new Host(httpModule);
    const body = Uint8Array.from({ length: 256 }, (_, i) => i);
    const res = host.handle({ method: 'POST', path: '/echo', query: 'q=1', headers: [['x-b', '2'], ['x-a', '1'], ['x-b', '3']], body });
    expect(res.status).toBe(201);
    expect(res.headers).toEqual([['x-method', 'POST'], ['x-query', 'q=1'], ['x-b', '2'], ['x-a', '1'], ['x-b', '3']]);
    expect(res.body).toEqual(body);
    const empty = host.handle({ method: 'GET', path: '/echo' });
    expect([empty.body.length, empty.headers.length]).toEqual([0, 2]);
  });

  it('decodes query parameters as application/x-www-form-urlencoded and finds params and headers', () => {
    const host = new Host(httpModule);
    const res = host.handle({ path: '/query', query: 'a=1&b=x+y%20z&c=%C3%A9%E2%9C%93&d=100%zz%&e&a=2', headers: [['l8-param-name', 'book 1'], ['x-mixed-case', 'found']] });
    expect(res.text).toBe('1|x y z|é✓|100%zz%||<null>|book 1|found|6');
  });

  it('decodes UTF-8 bodies exactly like TextDecoder, including invalid and truncated sequences', () => {
    const host = new Host(httpModule);
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const samples: Uint8Array[] = [
      new TextEncoder().encode('héllo wörld ✓ 日本語 🚀'),
      Uint8Array.of(0x61, 0xff, 0xe2, 0x82, 0x62, 0xf0, 0x9f, 0x9a, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe0, 0x80),
    ];
    // Random bytes biased towards the lead bytes of multi-byte sequences.
    const pool = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x90, 0x8f];
    for (let n = 0; n < 200; n++) samples.push(Uint8Array.from({ length: 1 + Math.floor(random() * 12) }, () => pool[Math.floor(random() * pool.length)]!));
    for (const sample of samples) {
      expect(host.handle({ method: 'POST', path: '/text', body: sample }).text, `bytes ${[...sample].map((b) => b.toString(16))}`).toBe(new TextDecoder().decode(sample));
    }
  });

  it('sends unpaired surrogates as U+FFFD, never as invalid UTF-8', () => {
    expect(new Host(httpModule).handle({ path: '/surrogate' }).text).toBe('a\uFFFDb');
  });

  it('state: get tells a missing key from an empty value, set and delete reach the host', () => {
    const host = new Host(httpModule);
    expect(host.handle({ path: '/state/get', query: 'store=default&key=k' })).toMatchObject({ status: 404, text: 'none' });
    expect(host.handle({ method: 'PUT', path: '/state/set', query: 'key=k', body: Uint8Array.of(0, 255, 1) }).status).toBe(204);
    expect(host.state.get('default/k')).toEqual(Uint8Array.of(0, 255, 1));
    expect(host.handle({ path: '/state/get', query: 'store=default&key=k' }).body).toEqual(Uint8Array.of(0, 255, 1));
    expect(host.handle({ method: 'PUT', path: '/state/set', query: 'key=empty' }).status).toBe(204);
    expect(host.handle({ path: '/state/get', query: 'store=default&key=empty' })).toMatchObject({ status: 200, text: '' });
    expect(host.handle({ method: 'PUT', path: '/state/set', query: 'key=t&as=text', body: 'dü' }).status).toBe(204);
    expect(host.handle({ path: '/state/text', query: 'key=t' }).text).toBe('dü');
    expect(host.handle({ method: 'DELETE', path: '/state/delete', query: 'key=k' }).status).toBe(204);
    expect(host.state.has('default/k')).toBe(false);
  });

  it('maps every error code the host returns, with its message', () => {
    const host = new Host(httpModule);
    const names = ['denied', 'not-found', 'unavailable', 'invalid', 'conflict', 'internal'];
    names.forEach((name, code) => {
      host.failNext = { code, message: `why ${name} ✓` };
      expect(host.handle({ path: '/state/get', query: 'store=s&key=k' }).text).toBe(`err:${name}:${code}:why ${name} ✓`);
    });
    host.failNext = { code: 0, message: 'no' };
    expect(host.handle({ method: 'PUT', path: '/state/set', query: 'key=k' }).text).toBe('err:denied:0:no');
    host.failNext = { code: 2, message: 'down' };
    expect(host.handle({ method: 'DELETE', path: '/state/delete', query: 'key=k' }).text).toBe('err:unavailable:2:down');
    host.failNext = { code: 1, message: 'gone' };
    expect(host.handle({ path: '/invoke' }).text).toBe('err:not-found:1:gone');
  });

  it('answers a host error with its status and `<code>: <message>` (Response.fromError)', () => {
    const host = new Host(httpModule);
    const statuses = [403, 404, 503, 400, 409, 500, 500];
    statuses.forEach((status, code) => {
      const name = ['denied', 'not-found', 'unavailable', 'invalid', 'conflict', 'internal', 'error-code-6'][code];
      host.failNext = { code, message: `state store "default": ✓ ${code}` };
      const res = host.handle({ path: '/from-error' });
      expect([res.status, res.text, res.headers]).toEqual([status, `${name}: state store "default": ✓ ${code}`, [['content-type', 'text/plain']]]);
    });
  });

  it('lock: lowers store, resource, owner and a u32 lease, and lifts result<bool, error>', () => {
    const host = new Host(httpModule);
    for (const [method, fn] of [['POST', 'try-lock'], ['PUT', 'keep-alive']] as const) {
      host.lockAnswer = 1;
      expect(host.handle({ method, path: '/lock', query: 'store=locks&resource=q%2F1&owner=r-%C3%BC&expire=4294967295' }).text).toBe('true');
      expect(host.calls.at(-1)).toEqual({ fn, args: ['locks', 'q/1', 'r-ü', 4294967295] });
      host.lockAnswer = 0;
      expect(host.handle({ method, path: '/lock', query: 'store=s&resource=r&owner=o&expire=5' }).text).toBe('false');
      expect(host.calls.at(-1)).toEqual({ fn, args: ['s', 'r', 'o', 5] });
      host.failNext = { code: 2, message: 'lock store "s" is down ✓' };
      expect(host.handle({ method, path: '/lock', query: 'store=s&resource=r&owner=o&expire=5' }).text).toBe('err:unavailable:2:lock store "s" is down ✓');
    }
  });

  it('lock: lifts every unlock status, refuses an unknown one, and lifts the error case', () => {
    const host = new Host(httpModule);
    ['success', 'lock-does-not-exist', 'lock-belongs-to-others'].forEach((name, status) => {
      host.lockAnswer = status;
      expect(host.handle({ method: 'DELETE', path: '/lock', query: 'store=s&resource=r&owner=o' }).text).toBe(`${name}:${status}`);
    });
    expect(host.calls.at(-1)).toEqual({ fn: 'unlock', args: ['s', 'r', 'o'] });
    host.lockAnswer = 3;
    expect(host.handle({ method: 'DELETE', path: '/lock', query: 'store=s&resource=r&owner=o' }).text).toMatch(/^err:internal:5:the host answered unlock status 3, which this SDK does not know/);
    host.failNext = { code: 0, message: 'lock store "s" is not granted' };
    expect(host.handle({ method: 'DELETE', path: '/lock', query: 'store=s&resource=r&owner=o' }).text).toBe('err:denied:0:lock store "s" is not granted');
  });

  it('sequencer: lifts result<u64, error> from offset 8, ids above 2^32 included, and its error at 8/12/16', () => {
    const host = new Host(httpModule);
    for (const id of [1n, 0xffffffffn, 0x100000000n, 0x100000005n, 2n ** 64n - 1n]) {
      host.nextId = id;
      expect(host.handle({ method: 'POST', path: '/sequence', query: 'store=seq&key=orders' }).text).toBe(id.toString());
    }
    expect(host.calls.at(-1)).toEqual({ fn: 'next-id', args: ['seq', 'orders'] });
    host.failNext = { code: 1, message: 'no sequencer named "seq" ✓' };
    expect(host.handle({ method: 'POST', path: '/sequence', query: 'store=seq&key=orders' }).text).toBe('err:not-found:1:no sequencer named "seq" ✓');
  });

  it('publishes data with metadata in order and returns the message id', () => {
    const host = new Host(httpModule);
    const res = host.handle({ method: 'POST', path: '/publish', query: 'topic=orders', body: 'payload' });
    expect(res.text).toBe('message-id-1');
    expect(host.calls.at(-1)).toEqual({ fn: 'publish', args: ['default', 'orders', new TextEncoder().encode('payload'), [['k1', 'v1'], ['k2', 'v2']]] });
  });

  it('reads config values and tells an absent key', () => {
    const host = new Host(httpModule);
    host.config.set('greeting', 'Grüß dich');
    expect(host.handle({ path: '/config', query: 'key=greeting' }).text).toBe('Grüß dich');
    expect(host.handle({ path: '/config', query: 'key=other' }).text).toBe('<null>');
  });

  it('invokes with the request lowered and lifts the response', () => {
    const host = new Host(httpModule);
    host.invokeAnswer = { status: 418, headers: [['x-reply', 'teapot']], body: Uint8Array.of(9, 8, 7) };
    const res = host.handle({ method: 'POST', path: '/invoke', body: 'sent' });
    expect(host.calls.at(-1)).toEqual({ fn: 'invoke', args: ['target', 'PUT', '/there', 'x=1', [['x-a', '1'], ['x-b', '2']], new TextEncoder().encode('sent')] });
    expect(res.status).toBe(418);
    expect(res.body).toEqual(Uint8Array.of(9, 8, 7));
    expect(res.headers).toEqual([['x-got', 'teapot']]);
  });

  it('writes log lines through the log import and console/io through WASI fd_write', () => {
    const host = new Host(httpModule);
    host.handle({ path: '/print' });
    expect(host.logs).toEqual([[3, 'warned']]);
    expect(host.out[1]).toBe('to stdout\nraw ');
    expect(host.out[2]).toBe('to stderr\n');
  });

  it('seeds Math.random from WASI random_get', () => {
    const a = new Host(httpModule);
    const b = new Host(httpModule);
    b.randomByte = 200;
    const first = a.handle({ path: '/random' }).text;
    expect(Number(first)).toBeGreaterThanOrEqual(0);
    expect(Number(first)).toBeLessThan(1);
    expect(b.handle({ path: '/random' }).text).not.toBe(first);
  });

  it('turns abort() and runtime errors into a trap, logging the reason at level error', () => {
    const host = new Host(httpModule);
    expect(() => host.handle({ path: '/abort' })).toThrow(WebAssembly.RuntimeError);
    expect(host.logs.at(-1)).toEqual([4, 'abort: asked to abort']);
    const other = new Host(httpModule);
    expect(() => other.handle({ path: '/bounds' })).toThrow(WebAssembly.RuntimeError);
    expect(other.logs.at(-1)?.[1]).toMatch(/^abort: Index out of range at ~lib\/array\.ts:\d+:\d+$/);
  });

  it('refuses to return a status outside 100-599', () => {
    const host = new Host(httpModule);
    expect(() => host.handle({ path: '/bad-status' })).toThrow(WebAssembly.RuntimeError);
    expect(host.logs.at(-1)?.[1]).toMatch(/the handler returned HTTP status 42; statuses must be 100-599/);
  });

  it('does not leak when an instance serves many requests (reuse: true)', () => {
    const host = new Host(httpModule);
    const body = new Uint8Array(4096).fill(65);
    for (let i = 1; i <= 3000; i++) {
      const res = host.handle({ method: 'POST', path: i % 2 ? '/garbage' : '/echo', headers: [['x-i', String(i)]], body });
      if (i % 2) expect(res.text).toBe(`2000 ${(i + 1) / 2}`);
    }
    // 3000 requests moved ~30 MB through the instance; a leak would show as growth.
    expect(host.pages).toBeLessThanOrEqual(4);
  });

  it('delivers messages to the subscriber and returns its error text', () => {
    const host = new Host(subscriberModule);
    expect(host.onMessage({ id: 'm1', broker: 'default', topic: 't', data: 'fine', metadata: [] })).toBeNull();
    expect(host.onMessage({ id: 'm2', broker: 'default', topic: 'orders', data: 'dätä', metadata: [['other', 'x'], ['fail', 'yes']] })).toBe('failing m2 on default/orders: dätä');
  });
});
