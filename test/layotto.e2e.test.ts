// Layotto's functions on L8, end to end: the real `l8 serve --layotto-config` with the
// proxy-wasm functions of examples/proxy-wasm built from source (Rust and AssemblyScript),
// requests routed by the `id` header, Layotto's /wasm/* admin endpoints, and invoking
// between proxy-wasm and L8-ABI functions both ways.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startRuntimeProcess, tempDataDir, type RuntimeProcess } from './support/runtime-process.ts';
import { requireBuild } from './support/languages.ts';

function proxyBuild(name: string): string {
  const path = join(ROOT, 'examples', 'proxy-wasm', 'build', `${name}.wasm`);
  if (!existsSync(path)) throw new Error(`${path} is missing; build the examples with "npm run build:examples -- proxy-wasm"`);
  return path;
}

/** A Layotto config file (MOSN JSON, the shape of Layotto's demo/faas/config.json). */
function writeLayottoConfig(dir: string, functions: Record<string, { name: string; path: string; instances?: number }>, stateStores: string[]): string {
  const config = {
    servers: [
      {
        default_log_path: 'stdout',
        listeners: [
          {
            name: 'grpc',
            address: '127.0.0.1:34904',
            filter_chains: [
              { filters: [{ type: 'grpc', config: { server_name: 'runtime', grpc_config: { state: Object.fromEntries(stateStores.map((s) => [s, { type: 'redis', metadata: { redisHost: 'localhost:6379' } }])) } } }] },
            ],
          },
          {
            name: 'wasm',
            address: '0.0.0.0:2045',
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'function_router' } }] }],
            stream_filters: [
              {
                type: 'Layotto',
                config: Object.fromEntries(
                  Object.entries(functions).map(([key, f]) => [key, { name: f.name, instance_num: f.instances ?? 1, vm_config: { engine: 'wasmtime', path: f.path } }]),
                ),
              },
            ],
          },
          { name: 'wasm_admin', address: '0.0.0.0:34998', stream_filters: [{ type: 'wasm_filter' }] },
        ],
      },
    ],
  };
  const file = join(dir, 'layotto-config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** The AssemblyScript conformance function (L8 ABI), granted the Layotto store and invoking id-2. */
function writeApp(dir: string): string {
  const app = {
    functions: {
      conformance: { module: requireBuild('assemblyscript', 'conformance'), routes: ['ANY /conf/*'], capabilities: { state: ['state_demo'], invoke: ['id-2', 'probe'] } },
    },
  };
  const file = join(dir, 'app.yaml');
  writeFileSync(file, stringify(app));
  return file;
}

const layottoArgs = ['--layotto-port', '0', '--layotto-admin-port', '0'];
/** Starting a runtime compiles every module; give a loaded 2-core box time. */
const START_TIMEOUT_MS = 60_000;

/** Log lines arrive on the child's stdout a little after the response: wait for one. */
async function logged(runtime: RuntimeProcess, pattern: RegExp, timeoutMs = 3000): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const lines = runtime.logs.filter((line) => pattern.test(line));
    if (lines.length > 0 || performance.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function get(url: string, id?: string, init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { ...init, headers: { ...(id ? { id } : {}), ...(init.headers as Record<string, string> | undefined) } });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

describe('l8 serve --layotto-config: Layotto functions on L8', () => {
  let runtime: RuntimeProcess;
  let layotto: string;

  beforeAll(async () => {
    const dir = tempDataDir('l8-layotto-');
    const config = writeLayottoConfig(
      dir,
      {
        function1: { name: 'function1', path: proxyBuild('rust-client') },
        function2: { name: 'function2', path: proxyBuild('rust-server'), instances: 2 },
        asClient: { name: 'as_client', path: proxyBuild('as-client') },
        asServer: { name: 'as_server', path: proxyBuild('as-server') },
        probe: { name: 'probe', path: proxyBuild('rust-probe'), instances: 2 },
      },
      ['state_demo'],
    );
    // Limits for every function installed the Layotto way.
    writeFileSync(join(dir, 'runtime.yaml'), stringify({ layotto: { limits: { timeoutMs: 1500, memoryMb: 16 } } }));
    runtime = await startRuntimeProcess({
      dataDir: join(dir, 'data'),
      args: ['--config', join(dir, 'runtime.yaml'), '--layotto-config', config, '--app', writeApp(dir), ...layottoArgs],
      timeoutMs: START_TIMEOUT_MS,
    });
    layotto = runtime.urls.layotto!;
    // state_demo holds book1 = 100, written through an L8 function.
    const put = await fetch(`${runtime.httpUrl}/conf/state/book1?store=state_demo`, { method: 'PUT', body: '100' });
    expect(put.status).toBe(204);
  });
  afterAll(() => runtime?.stop());

  it("answers Layotto's demo request: curl -H 'id: id_1' 'localhost:2045?name=book1'", async () => {
    const response = await get(`${layotto}?name=book1`, 'id_1');
    expect(response).toMatchObject({ status: 200, body: 'There are 100 inventories for book1.' });
  });

  it('deployed the config\'s functions under the L8 names of their ids, and created state_demo', async () => {
    const list = await runtime.cli(['list', '--json']);
    expect(list.code).toBe(0);
    const names = (JSON.parse(list.stdout) as Array<{ name: string }>).map((f) => f.name).sort();
    expect(names).toEqual(['as-client', 'as-server', 'conformance', 'id-1', 'id-2', 'probe']);
    expect(runtime.logs.join('\n')).toMatch(/state store \\"state_demo\\" \(Layotto type \\"redis\\"\) is not configured in the L8 runtime config, so it was created as a memory store/);
  });

  it('invokes across languages: Rust -> AssemblyScript, AssemblyScript -> Rust, AssemblyScript -> AssemblyScript', async () => {
    expect((await get(`${layotto}?name=book1&target=as_server`, 'id_1')).body).toBe('There are 100 inventories for book1.');
    expect((await get(`${layotto}?name=book1`, 'as_client')).body).toBe('There are 100 inventories for book1.');
    expect((await get(`${layotto}?name=book1&target=as_server`, 'as_client')).body).toBe('There are 100 inventories for book1.');
  });

  it('takes the body when there is one, the query string otherwise', async () => {
    expect((await get(`${layotto}/any/path?name=ignored`, 'id_1', { method: 'POST', body: 'name=book1' })).body).toBe('There are 100 inventories for book1.');
    expect((await get(layotto, 'id_2', { method: 'POST', body: 'book1' })).body).toBe('100');
  });

  it('an L8-ABI function invokes a proxy-wasm function (FunctionTable.invoke)', async () => {
    const response = await get(`${runtime.httpUrl}/conf/invoke/id-2`, undefined, { method: 'POST', body: 'book1' });
    expect(response.status).toBe(200);
    expect(response.body).toBe('100');
    expect(response.headers.get('x-invoked')).toBe('id-2');
  });

  it('a proxy-wasm function invokes an L8-ABI function: the method becomes the path and query', async () => {
    const method = encodeURIComponent('/conf/state/book1?store=state_demo');
    const response = await get(`${layotto}/invoke?target=conformance&method=${method}`, 'probe');
    expect(response).toMatchObject({ status: 200, body: '100' });
  });

  it('proxy_get_state goes through the state capability: a store not granted answers InternalFailure, and the log says why', async () => {
    const response = await get(`${layotto}/state?store=secret&key=book1`, 'probe');
    expect(response).toMatchObject({ status: 500, body: 'status 10' });
    expect(await logged(runtime, /proxy_get_state\(\\"secret\\", \\"book1\\"\) failed: state store \\"secret\\" is not granted to function \\"probe\\"/)).toHaveLength(1);
  });

  it('routes by the id header only, with clear errors for a missing or unknown id', async () => {
    const missing = await get(`${layotto}?name=book1`);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatch(/missing \\"id\\" header/);
    const unknown = await get(`${layotto}?name=book1`, 'id_404');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatch(/no function with id \\"id_404\\" \(L8 function \\"id-404\\"\) is installed/);
  });

  it('answers with proxy_send_local_response and with response headers and :status set by the function', async () => {
    const local = await get(`${layotto}/local`, 'probe');
    expect(local).toMatchObject({ status: 418, body: 'short and stout' });
    expect(local.headers.get('x-local')).toBe('yes');
    const headers = await get(`${layotto}/headers`, 'probe', { headers: { 'x-probe': 'hello' } });
    expect(headers).toMatchObject({ status: 201, body: 'GET hello' });
    expect(headers.headers.get('x-probe-echo')).toBe('hello');
  });

  it('an unimplemented host function answers Unimplemented (12), is logged once, and the function keeps serving', async () => {
    expect(await get(`${layotto}/unimplemented`, 'probe')).toMatchObject({ status: 200, body: 'status 12' });
    expect(await get(`${layotto}/unimplemented`, 'probe')).toMatchObject({ status: 200, body: 'status 12' });
    // Once per function: every instance of it shares the compiled module that remembers it.
    expect(await logged(runtime, /proxy_set_tick_period_milliseconds is not supported/)).toHaveLength(1);
  });

  it('a guest trap gives a clear error and the runtime keeps serving', async () => {
    const trap = await get(`${layotto}/trap`, 'probe');
    expect(trap.status).toBe(500);
    expect(JSON.parse(trap.body).error).toMatchObject({ code: 'trap', message: expect.stringMatching(/function "probe" trapped: unreachable/) });
    expect(await logged(runtime, /the probe was asked to trap/)).not.toHaveLength(0); // the panic message, from stderr
    expect(await get(`${layotto}?name=book1`, 'id_1')).toMatchObject({ status: 200, body: 'There are 100 inventories for book1.' });
    expect(await get(`${layotto}/global`, 'probe')).toMatchObject({ status: 200, body: '1' });
  });

  it('a runaway guest is stopped at its timeout while other requests are served', async () => {
    const started = performance.now();
    const runaway = get(`${layotto}/spin`, 'probe');
    expect(await get(`${layotto}?name=book1`, 'id_1')).toMatchObject({ status: 200 });
    const response = await runaway;
    expect(response.status).toBe(504);
    expect(JSON.parse(response.body).error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/function "probe" did not finish within its 1500 ms timeout/) });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await get(`${layotto}/global`, 'probe')).toMatchObject({ status: 200, body: '1' });
  });

  it('a guest that outgrows its memory limit gets memory_limit, and the next request is served', async () => {
    const response = await get(`${layotto}/grow?mb=32`, 'probe');
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body).error).toMatchObject({ code: 'memory_limit', message: expect.stringMatching(/function "probe" ran out of memory: .*16 MiB limit/) });
    expect(await get(`${layotto}/grow?mb=2`, 'probe')).toMatchObject({ status: 200, body: 'grew 2' });
  });

  it('every request sees fresh module state, as L8 functions do', async () => {
    for (let i = 0; i < 3; i++) expect(await get(`${layotto}/global`, 'probe')).toMatchObject({ status: 200, body: '1' });
  });

  it('a function that pauses without answering gets a clear error', async () => {
    const response = await get(`${layotto}/pause`, 'probe');
    expect(response.status).toBe(502);
    expect(JSON.parse(response.body).error.message).toMatch(/function "probe" paused the request in proxy_on_request_headers without sending a response/);
  });

  it('guest log lines (proxy_log and stdout) reach l8 logs', async () => {
    expect(await get(`${layotto}/log`, 'probe')).toMatchObject({ status: 200, body: 'logged' });
    const logs = await runtime.cli(['logs', 'probe', '--tail', '100']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/INFO  \[log\] .* probe log line/);
    expect(logs.stdout).toMatch(/INFO  \[stdout\] .* probe stdout line/);
  });

  it('counts Layotto listener requests in the runtime metrics, like other function requests', async () => {
    await get(`${layotto}?name=book1`, 'id_1');
    const text = await (await fetch(`${runtime.adminUrl}/metrics`)).text();
    expect(text).toMatch(/l8_function_requests_total\{function="id-1",code="2xx"\} [1-9]/);
    expect(text).toMatch(/l8_function_errors_total\{function="probe",kind="timeout"\} 1/);
    expect(text).toMatch(/l8_host_calls_total\{function="id-2",call="state.get",outcome="ok"\} [1-9]/);
  });

  it('the admin endpoints on loopback need no token, as in Layotto', async () => {
    const response = await fetch(`${runtime.urls.layottoAdmin}/wasm/update`, { method: 'POST', body: JSON.stringify({ name: 'id_2', instance_num: 3 }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'id_2', function: 'id-2', version: 2, changed: true });
    expect(await get(`${layotto}?name=book1`, 'id_1')).toMatchObject({ status: 200, body: 'There are 100 inventories for book1.' });
  });
});

describe("Layotto's admin endpoints: install, update, uninstall", () => {
  let runtime: RuntimeProcess;
  let dir: string;
  let admin: string;
  let layotto: string;
  let token: string;

  const post = async (endpoint: string, body: unknown, auth: string | null = token) => {
    const response = await fetch(`${admin}/wasm/${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const install = (name: string, path: string, instances = 1) => post('install', { name, instance_num: instances, vm_config: { engine: 'wasmtime', path } });

  beforeAll(async () => {
    dir = tempDataDir('l8-layotto-admin-');
    // Bound to all interfaces, the admin endpoints want the L8 admin token.
    writeFileSync(join(dir, 'runtime.yaml'), stringify({ components: { state: { state_demo: { type: 'memory' } } }, layotto: { adminHost: '0.0.0.0', grants: { state: ['state_demo'] } } }));
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--layotto', '--app', writeApp(dir), ...layottoArgs], timeoutMs: START_TIMEOUT_MS });
    admin = runtime.urls.layottoAdmin!;
    layotto = runtime.urls.layotto!;
    token = readFileSync(join(runtime.dataDir, 'admin-token'), 'utf8').trim();
    expect((await fetch(`${runtime.httpUrl}/conf/state/book1?store=state_demo`, { method: 'PUT', body: '7' })).status).toBe(204);
  });
  afterAll(() => runtime?.stop());

  it('refuses requests without the token, or with a wrong one, when not bound to loopback', async () => {
    const none = await install('id_2', proxyBuild('rust-server'));
    expect(none.status).toBe(200); // with the token
    await post('uninstall', { name: 'id_2' });
    const without = await post('install', { name: 'id_2', vm_config: { path: proxyBuild('rust-server') } }, null);
    expect(without.status).toBe(401);
    expect(without.body.error).toMatch(/not on loopback, so it needs the L8 admin token/);
    const wrong = await post('install', { name: 'id_2', vm_config: { path: proxyBuild('rust-server') } }, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/wrong admin token/);
  });

  it('installs functions with Layotto\'s body, and they serve at once', async () => {
    expect(await install('id_2', proxyBuild('rust-server'))).toMatchObject({ status: 200, body: { id: 'id_2', function: 'id-2', version: 1 } });
    expect(await install('id_1', proxyBuild('rust-client'), 2)).toMatchObject({ status: 200, body: { id: 'id_1', function: 'id-1' } });
    expect(await get(`${layotto}?name=book1`, 'id_1')).toMatchObject({ status: 200, body: 'There are 7 inventories for book1.' });
  });

  it('refuses to install an id twice, as Layotto does', async () => {
    const again = await install('id_1', proxyBuild('rust-client'));
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/id_1 is already registered/);
  });

  it('updates the instance count as a new version through the deployer', async () => {
    expect(await post('update', { name: 'id_1', instance_num: 3 })).toMatchObject({ status: 200, body: { function: 'id-1', version: 2, changed: true } });
    const details = await fetch(`${runtime.adminUrl}/v1/functions/id-1`, { headers: { authorization: `Bearer ${token}` } });
    const record = (await details.json()) as { version: number; history: Array<{ version: number; manifest: { limits: { maxConcurrency?: number } } }> };
    expect(record.version).toBe(2);
    expect(record.history.find((v) => v.version === 2)!.manifest.limits.maxConcurrency).toBe(3);
    expect(await get(`${layotto}?name=book1`, 'id_1')).toMatchObject({ status: 200, body: 'There are 7 inventories for book1.' });
  });

  it('refuses updates without instance_num or for ids not installed, and a module that names another id', async () => {
    expect(await post('update', { name: 'id_1' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/can't get instance_num property/) } });
    expect(await post('update', { name: 'id_1', instance_num: 0 })).toMatchObject({ status: 400, body: { error: 'instance_num should be greater than 0' } });
    expect(await post('update', { name: 'id_9', instance_num: 1 })).toMatchObject({ status: 404, body: { error: expect.stringMatching(/id_9 is not registered/) } });
    expect(await post('update', { name: 'id_1', instance_num: 1, vm_config: { path: proxyBuild('rust-server') } })).toMatchObject({ status: 409, body: { error: expect.stringMatching(/names itself "id_2", not "id_1"/) } });
  });

  it('a malformed module, a non-module and a missing file are refused with clear errors, and the runtime keeps serving', async () => {
    const good = readFileSync(proxyBuild('rust-server'));
    const truncated = join(dir, 'truncated.wasm');
    writeFileSync(truncated, good.subarray(0, good.length - 100));
    const broken = await install('id_3', truncated);
    expect(broken.status).toBe(422);
    expect(broken.body).toMatchObject({ code: 'invalid_module', error: expect.stringMatching(/the proxy-wasm module is not a valid WebAssembly module/) });

    const text = join(dir, 'not-wasm.wasm');
    writeFileSync(text, 'this is not wasm');
    expect(await install('id_3', text)).toMatchObject({ status: 422, body: { error: expect.stringMatching(/is not a proxy-wasm module/) } });
    expect(await install('id_3', join(dir, 'missing.wasm'))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/cannot read module .*missing.wasm \(ENOENT\)/) } });
    expect(await post('install', { name: 'id_3' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/nil vm config/) } });
    expect(await post('install', 'not json')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/invalid request body/) } });

    expect(await get(`${layotto}?name=book1`, 'id_1')).toMatchObject({ status: 200, body: 'There are 7 inventories for book1.' });
  });

  it('installs under a name other than the module\'s id (routed by the id, as in Layotto) and uninstalls by either', async () => {
    expect(await install('function2', proxyBuild('as-server'))).toMatchObject({ status: 200, body: { id: 'as_server', function: 'as-server' } });
    expect(await get(layotto, 'as_server', { method: 'POST', body: 'book1' })).toMatchObject({ status: 200, body: '7' });
    expect(await post('uninstall', { name: 'function2' })).toMatchObject({ status: 200, body: { function: 'as-server' } });
    expect((await get(layotto, 'as_server', { method: 'POST', body: 'book1' })).status).toBe(404);
  });

  it('uninstalls, after which the id is unknown, and a second uninstall says so', async () => {
    expect(await post('uninstall', { name: 'id_2' })).toMatchObject({ status: 200, body: { function: 'id-2' } });
    expect((await get(layotto, 'id_2', { method: 'POST', body: 'book1' })).status).toBe(404);
    // id_1 still runs, and says (like Layotto's demo) that its target is gone.
    const orphan = await get(`${layotto}?name=book1`, 'id_1');
    expect(orphan).toMatchObject({ status: 502, body: 'id_2 is unavailable (proxy_invoke_service status 10)' });
    expect(await post('uninstall', { name: 'id_2' })).toMatchObject({ status: 404, body: { error: expect.stringMatching(/id_2 is not registered/) } });
  });

  it('does not let the Layotto endpoints remove L8 functions', async () => {
    expect(await post('uninstall', { name: 'conformance' })).toMatchObject({ status: 409, body: { error: expect.stringMatching(/is an L8 function/) } });
  });

  it('answers unknown admin paths with 404', async () => {
    const response = await fetch(`${admin}/wasm/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
    expect(response.status).toBe(404);
  });

  it('keeps installed functions across a restart (they are L8 versions in the data dir)', async () => {
    await runtime.stop();
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--layotto', ...layottoArgs], timeoutMs: START_TIMEOUT_MS });
    layotto = runtime.urls.layotto!;
    const list = JSON.parse((await runtime.cli(['list', '--json'])).stdout) as Array<{ name: string }>;
    expect(list.map((f) => f.name).sort()).toEqual(['conformance', 'id-1']);
    expect((await get(`${layotto}?name=book1`, 'id_1')).status).toBe(502); // id_2 is still uninstalled
  }, 2 * START_TIMEOUT_MS);
});

describe('Layotto config errors stop the runtime with the reason', () => {
  it('names a missing config file', async () => {
    const dir = tempDataDir('l8-layotto-bad-');
    await expect(startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--layotto-config', join(dir, 'nope.json'), ...layottoArgs], timeoutMs: START_TIMEOUT_MS })).rejects.toThrow(/cannot read Layotto config .*nope.json: ENOENT/);
  }, START_TIMEOUT_MS + 10_000);

  it('names the function whose module cannot be deployed', async () => {
    const dir = tempDataDir('l8-layotto-bad-');
    const module = join(dir, 'broken.wasm');
    writeFileSync(module, readFileSync(proxyBuild('rust-client')).subarray(0, 2000));
    const config = writeLayottoConfig(dir, { client: { name: 'id_1', path: module } }, []);
    await expect(startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--layotto-config', config, ...layottoArgs], timeoutMs: START_TIMEOUT_MS })).rejects.toThrow(/Layotto config .*layotto-config.json, function "client" \(.*broken.wasm\): .*not (a valid WebAssembly module|a proxy-wasm module)/);
  }, START_TIMEOUT_MS + 10_000);
});
