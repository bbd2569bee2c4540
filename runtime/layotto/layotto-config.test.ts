// Reading Layotto config files and the extension's settings: what is taken from where,
// the defaults (Layotto's ports), and errors that name the field.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLayottoConfig, readLayottoConfig, resolveModulePath } from './layotto-config.ts';
import { DEFAULT_ADMIN_PORT, DEFAULT_PORT, grantsFor, isLoopback, parseSettings, portsFor } from './settings.ts';

/** A config shaped like Layotto's demo/faas/config.json (MOSN listeners and filters). */
function layottoConfig(options: { functions?: Record<string, unknown>; state?: Record<string, unknown>; globals?: unknown[] } = {}) {
  return {
    ...(options.globals ? { wasm_global_plugins: options.globals } : {}),
    servers: [
      {
        listeners: [
          {
            name: 'grpc',
            address: '0.0.0.0:34904',
            filter_chains: [{ filters: [{ type: 'grpc', config: { grpc_config: { state: options.state ?? { state_demo: { type: 'redis', metadata: { redisHost: 'localhost:6379' } } } } } }] }],
          },
          {
            name: 'wasm',
            address: '0.0.0.0:2046',
            stream_filters: [
              {
                type: 'Layotto',
                config: options.functions ?? {
                  function1: { name: 'function1', instance_num: 2, vm_config: { engine: 'wasmtime', path: '/abs/function_1.wasm' } },
                  function2: { name: 'function2', vm_config: { engine: 'wasmer', path: '/abs/function_2.wasm' } },
                },
              },
            ],
          },
          { name: 'wasm_admin', address: '127.0.0.1:34999', stream_filters: [{ type: 'wasm_filter' }] },
        ],
      },
    ],
  };
}

const parse = (doc: unknown, cwd = '/') => parseLayottoConfig(JSON.stringify(doc), 'config.json', cwd);

describe('Layotto config files', () => {
  it('takes the functions of the "Layotto" stream filter, its listener port, the admin port and the state store names', () => {
    const config = parse(layottoConfig());
    expect(config.functions).toEqual([
      { key: 'function1', name: 'function1', instanceNum: 2, path: '/abs/function_1.wasm' },
      { key: 'function2', name: 'function2', instanceNum: null, path: '/abs/function_2.wasm' },
    ]);
    expect(config.listenerPort).toBe(2046);
    expect(config.adminPort).toBe(34999);
    expect(config.stateStores).toEqual([{ name: 'state_demo', type: 'redis' }]);
  });

  it('follows from_wasm_plugin to wasm_global_plugins', () => {
    const config = parse(
      layottoConfig({
        globals: [{ plugin_name: 'shared', instance_num: 3, vm_config: { path: '/abs/shared.wasm' } }],
        functions: { f: { from_wasm_plugin: 'shared' } },
      }),
    );
    expect(config.functions).toEqual([{ key: 'f', name: 'f', instanceNum: 3, path: '/abs/shared.wasm' }]);
  });

  it('resolves module paths against the working directory as Layotto does, else against the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l8-layotto-config-'));
    mkdirSync(join(dir, 'conf', 'build'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'build', 'f.wasm'), '');
    writeFileSync(join(dir, 'here.wasm'), '');
    expect(resolveModulePath('here.wasm', 'conf/config.json', dir)).toBe(join(dir, 'here.wasm'));
    expect(resolveModulePath('build/f.wasm', 'conf/config.json', dir)).toBe(join(dir, 'conf', 'build', 'f.wasm'));
    expect(resolveModulePath('nowhere.wasm', 'conf/config.json', dir)).toBe(join(dir, 'nowhere.wasm'));
    writeFileSync(join(dir, 'conf', 'config.json'), JSON.stringify(layottoConfig({ functions: { f: { vm_config: { path: 'build/f.wasm' } } } })));
    expect(readLayottoConfig('conf/config.json', dir).functions[0]!.path).toBe(join(dir, 'conf', 'build', 'f.wasm'));
  });

  const errors: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{', /is not valid JSON/],
    ['no servers', {}, /has no "servers" list/],
    ['a function without vm_config.path', layottoConfig({ functions: { f: { name: 'f', vm_config: {} } } }), /function "f" needs vm_config.path/],
    ['an unknown from_wasm_plugin', layottoConfig({ functions: { f: { from_wasm_plugin: 'nope' } } }), /names from_wasm_plugin "nope", which wasm_global_plugins does not define/],
    ['a fractional instance_num', layottoConfig({ functions: { f: { instance_num: 1.5, vm_config: { path: 'x' } } } }), /instance_num must be a whole number/],
  ];
  for (const [what, doc, message] of errors) {
    it(`says what is wrong with ${what}`, () => {
      expect(() => parseLayottoConfig(typeof doc === 'string' ? doc : JSON.stringify(doc), 'config.json')).toThrow(message);
    });
  }

  it('says which file it could not read', () => {
    expect(() => readLayottoConfig('/no/such/config.json')).toThrow(/cannot read Layotto config \/no\/such\/config.json: ENOENT/);
  });
});

describe('extension settings', () => {
  it('is off unless --layotto, --layotto-config or a layotto section enables it', () => {
    expect(parseSettings(undefined, {})).toBeNull();
    expect(parseSettings(undefined, { layotto: true })).not.toBeNull();
    expect(parseSettings(undefined, { 'layotto-config': 'c.json' })?.configFile).toBe('c.json');
    expect(parseSettings({}, {})).not.toBeNull();
  });

  it("listens on Layotto's ports unless told otherwise: flags, then the runtime config, then the Layotto config", () => {
    const layotto = parse(layottoConfig());
    const none = parseSettings({}, {})!;
    expect(portsFor(none, null)).toEqual({ port: DEFAULT_PORT, adminPort: DEFAULT_ADMIN_PORT });
    expect([DEFAULT_PORT, DEFAULT_ADMIN_PORT]).toEqual([2045, 34998]);
    expect(portsFor(none, layotto)).toEqual({ port: 2046, adminPort: 34999 });
    expect(portsFor(parseSettings({ port: 7000, adminPort: 7001 }, {})!, layotto)).toEqual({ port: 7000, adminPort: 7001 });
    expect(portsFor(parseSettings({ port: 7000 }, { 'layotto-port': '0', 'layotto-admin-port': 'off' })!, layotto)).toEqual({ port: 0, adminPort: false });
    expect(parseSettings({}, {})!.adminHost).toBe('127.0.0.1');
  });

  it("grants what Layotto allowed by default (the config's state stores, invoking any function), or what the runtime config says", () => {
    const layotto = parse(layottoConfig());
    expect(grantsFor(parseSettings({}, {})!, layotto)).toEqual({ state: ['state_demo'], invoke: ['*'] });
    expect(grantsFor(parseSettings({}, {})!, null)).toEqual({ state: [], invoke: ['*'] });
    expect(grantsFor(parseSettings({ grants: { state: ['a'], invoke: ['id-2'] } }, {})!, layotto)).toEqual({ state: ['a'], invoke: ['id-2'] });
  });

  it('refuses unknown fields and bad values, naming them', () => {
    expect(() => parseSettings({ prot: 1 }, {})).toThrow(/layotto.prot: unknown field/);
    expect(() => parseSettings({ port: 'x' }, {})).toThrow(/layotto.port: "x" is not a port number/);
    expect(() => parseSettings({}, { 'layotto-port': '99999' })).toThrow(/--layotto-port: "99999" is not a port number/);
    expect(() => parseSettings({ grants: { publish: [] } }, {})).toThrow(/layotto.grants.publish: unknown grant/);
    expect(() => parseSettings({ limits: { timeoutMs: -1 } }, {})).toThrow(/layotto.limits.timeoutMs: must be a positive whole number/);
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', 'localhost', '::1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1'].some(isLoopback)).toBe(false);
  });
});
