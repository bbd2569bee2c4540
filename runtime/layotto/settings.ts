// Settings of the Layotto compatibility extension: the `layotto:` section of the runtime
// config, overridden by `l8 serve` flags, with ports falling back to the Layotto config's
// listeners and then to Layotto's defaults. Parsing is strict: a typo is an error naming it.
import { L8Error } from '../../host/errors.ts';
import type { LayottoConfig } from './layotto-config.ts';

/** Layotto's function listener port (demo/faas/config.json). */
export const DEFAULT_PORT = 2045;
/** Layotto's admin listener port (the "wasm_filter" listener serving /wasm/*). */
export const DEFAULT_ADMIN_PORT = 34998;

export interface LayottoSettings {
  /** Layotto config file to read functions and state store names from. */
  configFile: string | null;
  host: string;
  port: number | null;
  adminHost: string;
  /** null: not set here; false: no admin listener. */
  adminPort: number | null | false;
  /** What functions installed the Layotto way may use. null: the defaults (see grantsFor). */
  grants: { state: string[] | null; invoke: string[] | null };
  /** Backend type for state stores a Layotto config names that the runtime config does not define. */
  stateType: string;
  reuse: boolean;
  limits: { timeoutMs?: number; memoryMb?: number };
}

const KEYS = ['config', 'host', 'port', 'adminHost', 'adminPort', 'grants', 'stateType', 'reuse', 'limits'];

function fail(where: string, message: string): never {
  throw new L8Error('bad_request', `runtime config layotto.${where}: ${message}`);
}

function port(value: unknown, where: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new L8Error('bad_request', `${where}: "${String(value)}" is not a port number (0-65535; 0 picks a free port)`);
  }
  return n;
}

function names(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !v)) fail(where, 'must be a list of names ("*" for all)');
  return value as string[];
}

export function parseSettings(section: unknown, flags: Record<string, unknown>): LayottoSettings | null {
  const enabled = section !== undefined || flags.layotto === true || typeof flags['layotto-config'] === 'string';
  if (!enabled) return null;
  const raw = (section ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('', 'must be a map');
  for (const key of Object.keys(raw)) if (!KEYS.includes(key)) fail(key, `unknown field (known: ${KEYS.join(', ')})`);

  const grants: LayottoSettings['grants'] = { state: null, invoke: null };
  if (raw.grants !== undefined) {
    const g = raw.grants as Record<string, unknown>;
    if (typeof g !== 'object' || g === null || Array.isArray(g)) fail('grants', 'must be { state: [...], invoke: [...] }');
    for (const key of Object.keys(g)) if (key !== 'state' && key !== 'invoke') fail(`grants.${key}`, 'unknown grant (known: state, invoke)');
    if (g.state !== undefined) grants.state = names(g.state, 'grants.state');
    if (g.invoke !== undefined) grants.invoke = names(g.invoke, 'grants.invoke');
  }
  const limits: LayottoSettings['limits'] = {};
  if (raw.limits !== undefined) {
    const l = raw.limits as Record<string, unknown>;
    if (typeof l !== 'object' || l === null || Array.isArray(l)) fail('limits', 'must be { timeoutMs, memoryMb }');
    for (const [key, value] of Object.entries(l)) {
      if (key !== 'timeoutMs' && key !== 'memoryMb') fail(`limits.${key}`, 'unknown limit (known: timeoutMs, memoryMb)');
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(`limits.${key}`, 'must be a positive whole number');
      limits[key as 'timeoutMs' | 'memoryMb'] = value as number;
    }
  }
  const string = (key: string, fallback: string): string => {
    const value = raw[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !value) fail(key, 'must be a non-empty string');
    return value as string;
  };
  if (raw.reuse !== undefined && typeof raw.reuse !== 'boolean') fail('reuse', 'must be true or false');

  const flagPort = (name: string) => (typeof flags[name] === 'string' ? port(flags[name], `--${name}`) : undefined);
  const adminFlag = flags['layotto-admin-port'];
  let adminPort: LayottoSettings['adminPort'] = null;
  if (adminFlag === 'off') adminPort = false;
  else if (adminFlag !== undefined) adminPort = flagPort('layotto-admin-port')!;
  else if (raw.adminPort === false) adminPort = false;
  else if (raw.adminPort !== undefined) adminPort = port(raw.adminPort, 'runtime config layotto.adminPort');

  return {
    configFile: typeof flags['layotto-config'] === 'string' ? (flags['layotto-config'] as string) : raw.config === undefined ? null : string('config', ''),
    host: string('host', '0.0.0.0'),
    port: flagPort('layotto-port') ?? (raw.port === undefined ? null : port(raw.port, 'runtime config layotto.port')),
    adminHost: string('adminHost', '127.0.0.1'),
    adminPort,
    grants,
    stateType: string('stateType', 'memory'),
    reuse: raw.reuse === true,
    limits,
  };
}

/** The listener ports: settings first, then the Layotto config's listeners, then Layotto's defaults. */
export function portsFor(settings: LayottoSettings, layotto: LayottoConfig | null): { port: number; adminPort: number | false } {
  return {
    port: settings.port ?? layotto?.listenerPort ?? DEFAULT_PORT,
    adminPort: settings.adminPort === false ? false : (settings.adminPort ?? layotto?.adminPort ?? DEFAULT_ADMIN_PORT),
  };
}

/**
 * What a function installed the Layotto way may use. Layotto has no allow-lists: any
 * function reads every configured state store and invokes any id. The defaults grant
 * exactly that: the state stores the Layotto config names, and invoking any function.
 */
export function grantsFor(settings: LayottoSettings, layotto: LayottoConfig | null): { state: string[]; invoke: string[] } {
  return {
    state: settings.grants.state ?? (layotto?.stateStores.map((s) => s.name) ?? []),
    invoke: settings.grants.invoke ?? ['*'],
  };
}

/** Whether a host name binds to this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
