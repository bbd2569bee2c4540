// A function's manifest: how it is triggered, what it may use, its limits.
// Parsing is strict: an unknown field or a wrong type is an error that names the field,
// because a typo in a grant would otherwise silently deny (or allow) something.
import { isAbsolute, normalize, posix } from 'node:path';
import { L8Error } from '../host/errors.ts';
import { parseOutboundHost } from './outbound-hosts.ts';

export interface Route {
  /** Upper-case method or "ANY". */
  method: string;
  /** find-my-way pattern: "/stock/:name", "/files/*". */
  path: string;
}

export interface Subscription {
  broker: string;
  topic: string;
}

/** A host directory a component may use through WASI 0.2 filesystem (`capabilities.files`). */
export interface FileGrant {
  /** Absolute path on the runtime's machine. */
  host: string;
  /** Absolute path the function sees it at (its preopened directory). */
  guest: string;
  readOnly: boolean;
}

export interface Capabilities {
  state: string[];
  /** broker name -> topic patterns */
  publish: Record<string, string[]>;
  config: string[];
  invoke: string[];
  /** Lock stores it may use (ABI 0.2). */
  lock: string[];
  /** Sequencers it may use (ABI 0.2). */
  sequencer: string[];
  /** Hosts a component may reach with outgoing HTTP (wasi:http), see outbound-hosts.ts. */
  outboundHosts: string[];
  /** Host directories a component may use (WASI 0.2 preopens). */
  files: FileGrant[];
}

export interface ManifestLimits {
  timeoutMs?: number;
  memoryMb?: number;
  maxBodyBytes?: number;
  maxConcurrency?: number;
}

export interface Manifest {
  name: string;
  routes: Route[];
  subscriptions: Subscription[];
  capabilities: Capabilities;
  config: Record<string, string>;
  limits: ManifestLimits;
  reuse: boolean;
}

export const FUNCTION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'ANY'];

const fail = (where: string, message: string): never => {
  throw new L8Error('invalid_manifest', `${where}: ${message}`);
};

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function only(obj: Obj, where: string, allowed: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(where, `unknown field "${key}" (allowed: ${allowed.join(', ')})`);
  }
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(where, 'must be a list of names');
  return (value as unknown[]).map((item, i) => {
    if (typeof item !== 'string' || item.length === 0) fail(`${where}[${i}]`, 'must be a non-empty string');
    return item as string;
  });
}

function positiveInt(value: unknown, where: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
    fail(where, `must be a whole number between 1 and ${max}`);
  }
  return value as number;
}

function fileGrants(value: unknown, where: string): FileGrant[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(where, 'must be a list of { host, guest, readOnly }');
  const guests = new Set<string>();
  return (value as unknown[]).map((item, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(item)) return fail(at, 'must be { host: /absolute/host/dir, guest: /dir, readOnly: true|false }');
    only(item, at, ['host', 'guest', 'readOnly']);
    if (typeof item.host !== 'string' || !isAbsolute(item.host)) {
      fail(`${at}.host`, `must be an absolute directory path on the runtime's machine, got ${JSON.stringify(item.host)}`);
    }
    const guest = item.guest ?? item.host;
    if (typeof guest !== 'string' || !guest.startsWith('/')) fail(`${at}.guest`, `must be an absolute path as the function sees it, e.g. "/data", got ${JSON.stringify(guest)}`);
    const guestPath = posix.normalize(guest as string).replace(/(.)\/$/, '$1');
    if (guests.has(guestPath)) fail(`${at}.guest`, `"${guestPath}" is granted twice`);
    guests.add(guestPath);
    if (item.readOnly !== undefined && typeof item.readOnly !== 'boolean') fail(`${at}.readOnly`, 'must be true or false');
    return { host: normalize(item.host as string), guest: guestPath, readOnly: item.readOnly !== false };
  });
}

export function parseRoute(text: unknown, where: string): Route {
  if (typeof text !== 'string') return fail(where, 'a route is a string like "GET /stock/:name"');
  const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(text);
  if (!match) return fail(where, `"${text}" is not "<METHOD> /path" (e.g. "GET /stock/:name")`);
  const method = match[1]!.toUpperCase();
  if (!METHODS.includes(method)) fail(where, `method "${match[1]}" is not one of ${METHODS.join(', ')}`);
  const path = match[2]!;
  if (path.includes('*') && !path.endsWith('*')) fail(where, `"*" may only end a path pattern: "${path}"`);
  return { method, path };
}

/** Validates a manifest (from YAML/JSON) and fills defaults. `name` overrides the manifest's own. */
export function parseManifest(input: unknown, name?: string): Manifest {
  if (!isObject(input)) return fail('manifest', 'must be an object');
  only(input, 'manifest', ['name', 'module', 'routes', 'subscriptions', 'capabilities', 'config', 'limits', 'reuse']);
  const fnName = name ?? input.name;
  if (typeof fnName !== 'string' || !FUNCTION_NAME.test(fnName)) {
    fail('manifest.name', `"${String(fnName)}" is not a valid function name (lower-case letters, digits and "-", at most 63, starting with a letter or digit)`);
  }
  const where = `function "${fnName}"`;

  const routes = (input.routes === undefined ? [] : Array.isArray(input.routes) ? input.routes : fail(`${where} routes`, 'must be a list')) as unknown[];
  const parsedRoutes = routes.map((r, i) => parseRoute(r, `${where} routes[${i}]`));

  const subs = (input.subscriptions === undefined ? [] : Array.isArray(input.subscriptions) ? input.subscriptions : fail(`${where} subscriptions`, 'must be a list')) as unknown[];
  const subscriptions = subs.map((s, i) => {
    const at = `${where} subscriptions[${i}]`;
    if (!isObject(s)) return fail(at, 'must be { broker, topic }');
    only(s, at, ['broker', 'topic']);
    const broker = s.broker ?? 'default';
    if (typeof broker !== 'string' || !broker) fail(`${at}.broker`, 'must be a component name');
    if (typeof s.topic !== 'string' || !s.topic) fail(`${at}.topic`, 'must be a topic name');
    return { broker: broker as string, topic: s.topic as string };
  });

  const caps = input.capabilities ?? {};
  if (!isObject(caps)) return fail(`${where} capabilities`, 'must be an object');
  only(caps, `${where} capabilities`, ['state', 'publish', 'config', 'invoke', 'outboundHosts', 'files', 'lock', 'sequencer']);
  const publish: Record<string, string[]> = {};
  if (caps.publish !== undefined) {
    if (!isObject(caps.publish)) fail(`${where} capabilities.publish`, 'must map broker names to topic lists, e.g. { default: [stock-changed] }');
    for (const [broker, topics] of Object.entries(caps.publish as Obj)) {
      publish[broker] = stringList(topics, `${where} capabilities.publish.${broker}`);
    }
  }
  const capabilities: Capabilities = {
    state: stringList(caps.state, `${where} capabilities.state`),
    publish,
    config: stringList(caps.config, `${where} capabilities.config`),
    invoke: stringList(caps.invoke, `${where} capabilities.invoke`),
    lock: stringList(caps.lock, `${where} capabilities.lock`),
    sequencer: stringList(caps.sequencer, `${where} capabilities.sequencer`),
    outboundHosts: stringList(caps.outboundHosts, `${where} capabilities.outboundHosts`),
    files: fileGrants(caps.files, `${where} capabilities.files`),
  };
  capabilities.outboundHosts.forEach((entry, i) => {
    try {
      parseOutboundHost(entry);
    } catch (error) {
      fail(`${where} capabilities.outboundHosts[${i}]`, (error as Error).message);
    }
  });

  const config: Record<string, string> = {};
  if (input.config !== undefined) {
    if (!isObject(input.config)) fail(`${where} config`, 'must map keys to values');
    for (const [key, value] of Object.entries(input.config as Obj)) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        fail(`${where} config.${key}`, 'must be a string, number or boolean');
      }
      config[key] = String(value);
    }
  }

  const limits: ManifestLimits = {};
  if (input.limits !== undefined) {
    if (!isObject(input.limits)) fail(`${where} limits`, 'must be an object');
    const l = input.limits as Obj;
    only(l, `${where} limits`, ['timeoutMs', 'memoryMb', 'maxBodyBytes', 'maxConcurrency']);
    const set = (key: keyof ManifestLimits, max: number) => {
      const v = positiveInt(l[key], `${where} limits.${key}`, max);
      if (v !== undefined) limits[key] = v;
    };
    set('timeoutMs', 15 * 60_000);
    set('memoryMb', 4096);
    set('maxBodyBytes', 1 << 30);
    set('maxConcurrency', 10_000);
  }
  if (input.reuse !== undefined && typeof input.reuse !== 'boolean') fail(`${where} reuse`, 'must be true or false');
  return {
    name: fnName as string,
    routes: parsedRoutes,
    subscriptions,
    capabilities,
    config,
    limits,
    reuse: input.reuse === true,
  };
}

/** Stable JSON of a manifest (keys sorted at every level), to tell whether a deploy changes anything. */
export function manifestKey(manifest: Manifest): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (isObject(value)) {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
    }
    return value;
  };
  return JSON.stringify(canonical(manifest));
}

/** The manifest in its written form (routes as "METHOD /path"), e.g. to send it to the admin API. */
export function manifestInput(manifest: Manifest): Record<string, unknown> {
  return {
    ...manifest,
    routes: manifest.routes.map((r) => `${r.method} ${r.path}`),
  };
}
