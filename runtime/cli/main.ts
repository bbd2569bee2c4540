// The `l8` command line: `serve` runs a runtime; every other command is a client of a
// running runtime's admin API.
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { L8Error } from '../../host/errors.ts';
import { manifestInput, parseManifest, type Manifest } from '../../functions/manifest.ts';
import { loadRuntimeConfig } from '../config.ts';
import { readAppFile, readModuleFile } from '../deployer.ts';
import { EXTENSIONS } from '../extensions.ts';
import { startRuntime } from '../runtime.ts';
import { AdminClient } from './admin-client.ts';

const USAGE = `l8 — WebAssembly functions with state, pub/sub, config and invoke

Usage:
  l8 serve [--config l8-runtime.yaml] [--app l8.yaml]... [--port N] [--admin-port N] [--data-dir DIR]
  l8 deploy <module.wasm|manifest.yaml|app.yaml> [--name NAME] [--route "GET /path"]... [grants, limits]
  l8 list
  l8 rollback <name>
  l8 rm <name>
  l8 invoke <name> [--method GET] [--path /x] [--query a=b] [--header "k: v"]... [--data TEXT]
  l8 logs <name> [--tail N] [--follow]

Deploy flags for a bare .wasm file:
  --route "METHOD /path"       HTTP trigger (repeatable; :param and trailing * allowed)
  --subscribe broker/topic     pub/sub trigger (repeatable)
  --state STORE                grant a state store (repeatable, "*" = all)
  --publish broker/topic       grant publishing to a topic (repeatable)
  --config-key KEY             grant a config key of the runtime's config store (repeatable)
  --config KEY=VALUE           a literal config value (repeatable)
  --invoke FUNCTION            grant invoking another function (repeatable)
  --timeout-ms N --memory-mb N --max-body-bytes N --max-concurrency N --reuse

Client flags: --admin-url URL (L8_ADMIN_URL), --data-dir DIR (L8_DATA_DIR, to find the admin token), --json
Environment: L8_PORT (8080), L8_ADMIN_PORT (8081), L8_DATA_DIR (.l8), L8_CONFIG, L8_ADMIN_TOKEN, L8_LOG_LEVEL
`;

const OPTIONS = {
  config: { type: 'string' },
  app: { type: 'string', multiple: true },
  port: { type: 'string' },
  'admin-port': { type: 'string' },
  'admin-host': { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  workers: { type: 'string' },
  'log-level': { type: 'string' },
  'admin-url': { type: 'string' },
  name: { type: 'string' },
  route: { type: 'string', multiple: true },
  subscribe: { type: 'string', multiple: true },
  state: { type: 'string', multiple: true },
  publish: { type: 'string', multiple: true },
  'config-key': { type: 'string', multiple: true },
  'config-value': { type: 'string', multiple: true },
  invoke: { type: 'string', multiple: true },
  'timeout-ms': { type: 'string' },
  'memory-mb': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'max-concurrency': { type: 'string' },
  reuse: { type: 'boolean' },
  method: { type: 'string' },
  path: { type: 'string' },
  query: { type: 'string' },
  header: { type: 'string', multiple: true },
  data: { type: 'string' },
  tail: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

type Flags = ReturnType<typeof parseBuiltIn>['values'];

function parseBuiltIn(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Built-in flags plus the `l8 serve` flags extensions add. */
function parse(args: string[]): { values: Flags & Record<string, unknown>; positionals: string[] } {
  // `--config KEY=VALUE` on deploy means a literal value; on serve it is the config file.
  const deploy = args[0] === 'deploy';
  const rewritten = deploy ? args.map((a) => (a === '--config' ? '--config-value' : a)) : args;
  const options: ParseArgsConfig['options'] = { ...OPTIONS };
  for (const extension of EXTENSIONS) {
    for (const [name, flag] of Object.entries(extension.flags ?? {})) options[name] = { type: flag.type, multiple: flag.multiple === true };
  }
  return parseArgs({ args: rewritten, options, allowPositionals: true, strict: true }) as { values: Flags & Record<string, unknown>; positionals: string[] };
}

function extensionHelp(): string {
  const lines: string[] = [];
  for (const extension of EXTENSIONS) {
    for (const command of Object.values(extension.commands ?? {})) lines.push(`  ${command.usage}`);
  }
  const flags: string[] = [];
  for (const extension of EXTENSIONS) {
    for (const [name, flag] of Object.entries(extension.flags ?? {})) flags.push(`  --${name}${flag.type === 'string' ? ' VALUE' : ''}`.padEnd(30) + ` ${flag.help}`);
  }
  return [lines.length ? `More commands:\n${lines.join('\n')}` : '', flags.length ? `More serve flags:\n${flags.join('\n')}` : ''].filter(Boolean).join('\n\n');
}

const int = (value: string | undefined, flag: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new L8Error('bad_request', `--${flag} expects a whole number, got "${value}"`);
  return n;
};

function splitTopic(value: string, flag: string): [string, string] {
  const at = value.indexOf('/');
  if (at <= 0 || at === value.length - 1) throw new L8Error('bad_request', `--${flag} expects broker/topic (e.g. default/orders), got "${value}"`);
  return [value.slice(0, at), value.slice(at + 1)];
}

/** A manifest for a bare .wasm file, from flags. */
function manifestFromFlags(file: string, flags: Flags): Manifest {
  const name = flags.name ?? basename(file).replace(/\.wasm$/, '').toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const publish: Record<string, string[]> = {};
  for (const value of flags.publish ?? []) {
    const [broker, topic] = splitTopic(value, 'publish');
    (publish[broker] ??= []).push(topic);
  }
  const config: Record<string, string> = {};
  for (const value of flags['config-value'] ?? []) {
    const at = value.indexOf('=');
    if (at <= 0) throw new L8Error('bad_request', `--config expects KEY=VALUE, got "${value}"`);
    config[value.slice(0, at)] = value.slice(at + 1);
  }
  const limits: Record<string, number> = {};
  const setLimit = (key: string, flag: keyof Flags) => {
    const v = int(flags[flag] as string | undefined, flag);
    if (v !== undefined) limits[key] = v;
  };
  setLimit('timeoutMs', 'timeout-ms');
  setLimit('memoryMb', 'memory-mb');
  setLimit('maxBodyBytes', 'max-body-bytes');
  setLimit('maxConcurrency', 'max-concurrency');
  return parseManifest({
    name,
    routes: flags.route ?? [],
    subscriptions: (flags.subscribe ?? []).map((s) => {
      const [broker, topic] = splitTopic(s, 'subscribe');
      return { broker, topic };
    }),
    capabilities: {
      state: flags.state ?? [],
      publish,
      config: flags['config-key'] ?? [],
      invoke: flags.invoke ?? [],
    },
    config,
    limits,
    reuse: flags.reuse ?? false,
  });
}

function client(flags: Flags): AdminClient {
  return AdminClient.fromEnvironment({ adminUrl: flags['admin-url'], dataDir: flags['data-dir'] });
}

async function serve(flags: Flags & Record<string, unknown>): Promise<number> {
  const extensionKeys = EXTENSIONS.flatMap((e) => (e.configKey ? [e.configKey] : []));
  const config = loadRuntimeConfig(flags.config ?? process.env.L8_CONFIG, {
    port: int(flags.port, 'port'),
    adminPort: int(flags['admin-port'], 'admin-port'),
    host: flags.host,
    adminHost: flags['admin-host'],
    dataDir: flags['data-dir'],
    workers: int(flags.workers, 'workers'),
    logLevel: flags['log-level'],
  }, process.env, extensionKeys);
  const runtime = await startRuntime(config, { apps: flags.app, flags });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      runtime.logger.info({ signal }, 'stopping');
      runtime.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

async function deploy(file: string | undefined, flags: Flags): Promise<number> {
  if (!file) throw new L8Error('bad_request', 'l8 deploy needs a .wasm file or a manifest/app file');
  const api = client(flags);
  const entries = file.endsWith('.wasm')
    ? [{ manifest: manifestFromFlags(file, flags), modulePath: file }]
    : (await readAppFile(file)).map((e) => (flags.name && e.manifest.name !== flags.name ? { ...e, manifest: { ...e.manifest, name: flags.name } } : e));
  for (const { manifest, modulePath } of entries) {
    const bytes = await readModuleFile(modulePath, manifest.name);
    const { sha256 } = await api.json<{ sha256: string }>('POST', '/v1/modules', bytes, 'application/wasm');
    const result = await api.json<{ name: string; version: number; changed: boolean }>('PUT', `/v1/functions/${manifest.name}`, { ...manifestInput(manifest), module: sha256 });
    if (flags.json) console.log(JSON.stringify(result));
    else console.log(result.changed ? `deployed ${result.name} v${result.version} (${sha256.slice(0, 12)})` : `${result.name} v${result.version} is already deployed (${sha256.slice(0, 12)})`);
  }
  return 0;
}

async function list(flags: Flags): Promise<number> {
  const { functions } = await client(flags).json<{ functions: Array<{ name: string; version: number; routes: string[]; subscriptions: Array<{ broker: string; topic: string }>; sha256: string }> }>('GET', '/v1/functions');
  if (flags.json) {
    console.log(JSON.stringify(functions, null, 2));
    return 0;
  }
  if (functions.length === 0) {
    console.log('no functions deployed (l8 deploy <file>)');
    return 0;
  }
  for (const fn of functions) {
    const triggers = [...fn.routes, ...fn.subscriptions.map((s) => `sub ${s.broker}/${s.topic}`)].join(', ') || 'invoke only';
    console.log(`${fn.name.padEnd(20)} v${String(fn.version).padEnd(4)} ${fn.sha256.slice(0, 12)}  ${triggers}`);
  }
  return 0;
}

async function invoke(name: string | undefined, flags: Flags): Promise<number> {
  if (!name) throw new L8Error('bad_request', 'l8 invoke needs a function name');
  const headers: Record<string, string> = {};
  for (const h of flags.header ?? []) {
    const at = h.indexOf(':');
    if (at <= 0) throw new L8Error('bad_request', `--header expects "name: value", got "${h}"`);
    headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
  }
  const result = await client(flags).json<{ status: number; headers: Array<[string, string]>; body?: string; bodyBase64?: string; requestId: string }>('POST', `/v1/functions/${name}/invoke`, {
    method: flags.method,
    path: flags.path,
    query: flags.query,
    headers,
    body: flags.data,
  });
  if (flags.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    process.stdout.write(result.body ?? Buffer.from(result.bodyBase64 ?? '', 'base64').toString());
    if (result.body && !result.body.endsWith('\n')) process.stdout.write('\n');
    if (result.status >= 400) console.error(`HTTP ${result.status} (request ${result.requestId})`);
  }
  return result.status >= 400 ? 1 : 0;
}

async function logs(name: string | undefined, flags: Flags): Promise<number> {
  if (!name) throw new L8Error('bad_request', 'l8 logs needs a function name');
  const response = await client(flags).request('GET', `/v1/functions/${name}/logs?tail=${int(flags.tail, 'tail') ?? 100}&follow=${flags.follow ? 'true' : 'false'}`);
  if (!response.ok) {
    const body = (await response.json()) as { error: { message: string } };
    throw new Error(body.error.message);
  }
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (flags.json) {
        console.log(line);
        continue;
      }
      const l = JSON.parse(line) as { time: string; level: string; source: string; requestId: string; message: string };
      console.log(`${l.time} ${l.level.toUpperCase().padEnd(5)} [${l.source}] ${l.requestId.slice(0, 8)} ${l.message}`);
    }
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const extensionCommand = EXTENSIONS.flatMap((e) => Object.entries(e.commands ?? {})).find(([name]) => name === argv[0]);
  if (extensionCommand) {
    try {
      return await extensionCommand[1].run(argv.slice(1));
    } catch (error) {
      console.error(`l8 ${argv[0]}: ${(error as Error).message}`);
      return 1;
    }
  }
  let parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const [command, target] = positionals;
  if (flags.help || !command) {
    console.log(`${USAGE}\n${extensionHelp()}`);
    return command || flags.help ? 0 : 2;
  }
  try {
    switch (command) {
      case 'serve':
        return await serve(flags);
      case 'deploy':
        return await deploy(target, flags);
      case 'list':
      case 'ls':
        return await list(flags);
      case 'rollback': {
        if (!target) throw new L8Error('bad_request', 'l8 rollback needs a function name');
        const r = await client(flags).json<{ name: string; version: number }>('POST', `/v1/functions/${target}/rollback`);
        console.log(flags.json ? JSON.stringify(r) : `${r.name} is back at v${r.version}`);
        return 0;
      }
      case 'rm':
      case 'remove': {
        if (!target) throw new L8Error('bad_request', 'l8 rm needs a function name');
        const response = await client(flags).request('DELETE', `/v1/functions/${target}`);
        if (!response.ok) throw new Error(((await response.json()) as { error: { message: string } }).error.message);
        console.log(`removed ${target}`);
        return 0;
      }
      case 'invoke':
        return await invoke(target, flags);
      case 'logs':
        return await logs(target, flags);
      default:
        console.error(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    console.error(`l8 ${command}: ${(error as Error).message}`);
    return 1;
  }
}
