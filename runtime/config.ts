// The runtime config file: ports, data directory, default limits, and which backend
// implements each named component. Every field has an embedded default, so `l8 serve`
// runs with no file at all. Values may reference environment variables as ${NAME} or
// ${NAME:-fallback}, which is how secrets (passwords, tokens) stay out of the file.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { L8Error } from '../host/errors.ts';

export const CAPABILITY_KINDS = ['state', 'pubsub', 'config', 'lock', 'sequencer', 'secrets'] as const;
export type CapabilityKind = (typeof CAPABILITY_KINDS)[number];

export interface ComponentSpec {
  type: string;
  /** Backend settings, env references already expanded. */
  [option: string]: unknown;
}

export interface DefaultLimits {
  timeoutMs: number;
  memoryMb: number;
  maxBodyBytes: number;
  maxConcurrency: number;
  maxQueue: number;
}

export interface DeliveryPolicy {
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** Dead-letter topic name: the original topic + this suffix. */
  deadLetterSuffix: string;
}

export interface RuntimeConfig {
  host: string;
  port: number;
  adminHost: string;
  adminPort: number;
  dataDir: string;
  workers: number;
  logLevel: string;
  limits: DefaultLimits;
  delivery: DeliveryPolicy;
  components: Record<CapabilityKind, Record<string, ComponentSpec>>;
  /** Where relative paths in component settings are resolved from. */
  baseDir: string;
  /** Sections of the config file that belong to extensions, by their configKey. */
  extensions: Record<string, unknown>;
  /** Folder of pluggable component sockets (L8_COMPONENTS_SOCKETS_FOLDER wins; see components/pluggable). */
  componentsSocketsFolder?: string;
}

export const DEFAULT_LIMITS: DefaultLimits = {
  timeoutMs: 10_000,
  memoryMb: 128,
  maxBodyBytes: 16 << 20,
  maxConcurrency: 64,
  maxQueue: 256,
};

export const DEFAULT_DELIVERY: DeliveryPolicy = {
  maxAttempts: 5,
  backoffMs: 100,
  maxBackoffMs: 10_000,
  deadLetterSuffix: '.dlq',
};

/** Components that exist when the config file names none: nothing to install or start. */
export function embeddedComponents(): RuntimeConfig['components'] {
  return {
    state: { default: { type: 'file' } },
    pubsub: { default: { type: 'memory' } },
    config: { default: { type: 'inline', values: {} } },
    lock: { default: { type: 'memory' } },
    sequencer: { default: { type: 'file' } },
    // Only L8_SECRET_* variables: the runtime's own settings (admin token, passwords) stay private.
    secrets: { default: { type: 'env', prefix: 'L8_SECRET_' } },
  };
}

const fail = (where: string, message: string): never => {
  throw new L8Error('bad_request', `runtime config ${where}: ${message}`);
};

/** Replaces ${NAME} and ${NAME:-fallback} in every string of `value`. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, where: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback?: string) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      return fail(where, `environment variable ${name} is not set (use \${${name}:-default} for a default)`);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, `${where}.${k}`)]));
  }
  return value;
}

export interface ConfigOverrides {
  host?: string;
  port?: number;
  adminHost?: string;
  adminPort?: number;
  dataDir?: string;
  workers?: number;
  logLevel?: string;
}

function port(value: unknown, where: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) fail(where, `"${String(value)}" is not a port number`);
  return n as number;
}

/** Loads the config file (if any), applies env fallbacks and flags, fills defaults. */
export function loadRuntimeConfig(path: string | undefined, overrides: ConfigOverrides = {}, env = process.env, extensionKeys: string[] = []): RuntimeConfig {
  let raw: Record<string, unknown> = {};
  let baseDir = process.cwd();
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      return fail(path, `cannot read it: ${(error as Error).message}`);
    }
    try {
      raw = (parse(text) ?? {}) as Record<string, unknown>;
    } catch (error) {
      return fail(path, `is not valid YAML: ${(error as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) fail(path, 'must be a YAML map');
    raw = expandEnv(raw, env, path) as Record<string, unknown>;
    baseDir = dirname(resolve(path));
  }
  const known = ['host', 'port', 'adminHost', 'adminPort', 'dataDir', 'workers', 'logLevel', 'limits', 'delivery', 'components', 'componentsSocketsFolder', ...extensionKeys];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) fail(path ?? '', `unknown field "${key}" (known: ${known.join(', ')})`);
  }
  const pick = <T>(flag: T | undefined, envName: string, file: unknown, fallback: T, parseValue: (v: unknown) => T): T => {
    if (flag !== undefined) return flag;
    if (env[envName] !== undefined && env[envName] !== '') return parseValue(env[envName]);
    if (file !== undefined) return parseValue(file);
    return fallback;
  };
  const workersValue = (v: unknown): number => {
    // The main thread serves function traffic too, so "auto" adds one lane per other core.
    if (v === 'auto') return Math.max(0, availableParallelism() - 1);
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) return fail('workers', `"${String(v)}" is not a number of worker threads or "auto"`);
    return n;
  };

  const limits = { ...DEFAULT_LIMITS, ...((raw.limits as object) ?? {}) } as DefaultLimits;
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_LIMITS)) fail('limits', `unknown limit "${key}" (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
    if (typeof value !== 'number' || value <= 0) fail(`limits.${key}`, 'must be a positive number');
  }
  const delivery = { ...DEFAULT_DELIVERY, ...((raw.delivery as object) ?? {}) } as DeliveryPolicy;

  const components = embeddedComponents();
  const fileComponents = (raw.components ?? {}) as Record<string, Record<string, ComponentSpec>>;
  for (const [kind, named] of Object.entries(fileComponents)) {
    if (!(CAPABILITY_KINDS as readonly string[]).includes(kind)) {
      fail('components', `unknown capability "${kind}" (known: ${CAPABILITY_KINDS.join(', ')})`);
    }
    for (const [name, spec] of Object.entries(named ?? {})) {
      if (!spec || typeof spec !== 'object' || typeof spec.type !== 'string') {
        fail(`components.${kind}.${name}`, 'needs a "type" (e.g. memory, file, redis)');
      }
      components[kind as CapabilityKind][name] = spec;
    }
  }

  const dataDir = pick(overrides.dataDir, 'L8_DATA_DIR', raw.dataDir, '.l8', String);
  return {
    host: pick(overrides.host, 'L8_HOST', raw.host, '0.0.0.0', String),
    port: pick(overrides.port, 'L8_PORT', raw.port, 8080, (v) => port(v, 'port')),
    adminHost: pick(overrides.adminHost, 'L8_ADMIN_HOST', raw.adminHost, '127.0.0.1', String),
    adminPort: pick(overrides.adminPort, 'L8_ADMIN_PORT', raw.adminPort, 8081, (v) => port(v, 'adminPort')),
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(dataDir),
    workers: pick(overrides.workers, 'L8_WORKERS', raw.workers, 0, workersValue),
    logLevel: pick(overrides.logLevel, 'L8_LOG_LEVEL', raw.logLevel, 'info', String),
    limits,
    delivery,
    components,
    baseDir,
    extensions: Object.fromEntries(extensionKeys.filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]])),
    componentsSocketsFolder: typeof raw.componentsSocketsFolder === 'string' ? resolve(baseDir, raw.componentsSocketsFolder) : undefined,
  };
}
