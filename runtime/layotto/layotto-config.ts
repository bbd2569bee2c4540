// Reads the parts of a Layotto config file (MOSN JSON, e.g. Layotto's demo/faas/config.json)
// that L8 maps onto its own model:
//
// - the stream filter of type "Layotto" (each entry: name, instance_num, vm_config.path, or
//   from_wasm_plugin naming an entry of the top-level wasm_global_plugins) -> functions;
// - the port of the listener that filter sits on -> the Layotto function listener's port;
// - the port of the listener with the "wasm_filter" stream filter -> the admin port;
// - the state stores of the gRPC filter's grpc_config.state -> state store names.
//
// Everything else (MOSN routers, clusters, xDS, the gRPC API itself) is not read.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { L8Error } from '../../host/errors.ts';

export interface LayottoFunctionEntry {
  /** Key of the entry in the filter's config map (e.g. "function1"). */
  key: string;
  /** Its "name" (Layotto routes by the module's own id, not by this). */
  name: string;
  /** instance_num; null when absent or <= 0 (Layotto then uses the number of CPUs). */
  instanceNum: number | null;
  /** vm_config.path, resolved (see resolveModulePath). */
  path: string;
}

export interface LayottoStateStore {
  name: string;
  /** Layotto's component type, e.g. "redis", "in-memory". */
  type: string;
}

export interface LayottoConfig {
  file: string;
  functions: LayottoFunctionEntry[];
  stateStores: LayottoStateStore[];
  /** Port of the listener carrying the Layotto stream filter (2045 in Layotto's demo). */
  listenerPort: number | null;
  /** Port of the listener carrying the wasm_filter stream filter (34998 in Layotto's demo). */
  adminPort: number | null;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Where a module path of a Layotto config points. Layotto opens it relative to its working
 * directory; when nothing is there, L8 also tries relative to the config file's folder, so
 * a config moved together with its modules keeps working.
 */
export function resolveModulePath(path: string, configFile: string, cwd = process.cwd()): string {
  if (isAbsolute(path)) return path;
  const fromCwd = resolve(cwd, path);
  if (existsSync(fromCwd)) return fromCwd;
  const fromConfig = resolve(dirname(resolve(cwd, configFile)), path);
  return existsSync(fromConfig) ? fromConfig : fromCwd;
}

function portOf(address: unknown): number | null {
  if (typeof address !== 'string') return null;
  const match = /:(\d+)$/.exec(address.trim());
  if (!match) return null;
  const port = Number(match[1]);
  return port >= 0 && port <= 65535 ? port : null;
}

export function parseLayottoConfig(text: string, file: string, cwd = process.cwd()): LayottoConfig {
  const fail = (message: string): never => {
    throw new L8Error('bad_request', `Layotto config ${file}: ${message}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    return fail(`is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(doc)) return fail('must be a JSON object with "servers"');
  const globalPlugins = new Map<string, Obj>();
  for (const plugin of list(doc.wasm_global_plugins)) {
    if (isObject(plugin) && typeof plugin.plugin_name === 'string') globalPlugins.set(plugin.plugin_name, plugin);
  }

  const config: LayottoConfig = { file, functions: [], stateStores: [], listenerPort: null, adminPort: null };
  const servers = list(doc.servers);
  if (servers.length === 0) fail('has no "servers" list (is it a Layotto/MOSN config?)');
  servers.forEach((server, s) => {
    if (!isObject(server)) return;
    list(server.listeners).forEach((listener, l) => {
      if (!isObject(listener)) return;
      const at = `servers[${s}].listeners[${l}]${typeof listener.name === 'string' ? ` ("${listener.name}")` : ''}`;
      for (const filter of list(listener.stream_filters)) {
        if (!isObject(filter)) continue;
        if (filter.type === 'wasm_filter') config.adminPort ??= portOf(listener.address);
        if (filter.type !== 'Layotto') continue;
        config.listenerPort ??= portOf(listener.address);
        if (!isObject(filter.config)) fail(`${at}: the "Layotto" stream filter needs a "config" object of functions`);
        for (const [key, raw] of Object.entries(filter.config as Obj)) {
          const where = `${at} stream filter "Layotto" function "${key}"`;
          if (!isObject(raw)) fail(`${where} must be an object`);
          const entry = raw as Obj;
          let source: Obj = entry;
          if (typeof entry.from_wasm_plugin === 'string' && entry.from_wasm_plugin) {
            const plugin = globalPlugins.get(entry.from_wasm_plugin);
            if (!plugin) fail(`${where} names from_wasm_plugin "${entry.from_wasm_plugin}", which wasm_global_plugins does not define`);
            source = plugin!;
          }
          const vm = source.vm_config;
          if (!isObject(vm) || typeof vm.path !== 'string' || !vm.path) fail(`${where} needs vm_config.path (the .wasm file)`);
          const instanceNum = source.instance_num;
          if (instanceNum !== undefined && (typeof instanceNum !== 'number' || !Number.isInteger(instanceNum))) {
            fail(`${where}: instance_num must be a whole number`);
          }
          config.functions.push({
            key,
            name: typeof entry.name === 'string' ? entry.name : key,
            instanceNum: typeof instanceNum === 'number' && instanceNum > 0 ? instanceNum : null,
            path: resolveModulePath((vm as Obj).path as string, file, cwd),
          });
        }
      }
      for (const chain of list(listener.filter_chains)) {
        if (!isObject(chain)) continue;
        for (const filter of list(chain.filters)) {
          if (!isObject(filter) || filter.type !== 'grpc' || !isObject(filter.config)) continue;
          const grpc = (filter.config as Obj).grpc_config;
          if (!isObject(grpc) || !isObject(grpc.state)) continue;
          for (const [name, store] of Object.entries(grpc.state as Obj)) {
            if (config.stateStores.some((st) => st.name === name)) continue;
            config.stateStores.push({ name, type: isObject(store) && typeof store.type === 'string' ? store.type : 'unknown' });
          }
        }
      }
    });
  });
  return config;
}

export function readLayottoConfig(file: string, cwd = process.cwd()): LayottoConfig {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new L8Error('bad_request', `cannot read Layotto config ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseLayottoConfig(text, file, cwd);
}
