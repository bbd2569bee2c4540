// Settings of the runtime API, from (strongest first) `l8 serve` flags, environment
// variables, the `runtimeApi:` section of the runtime config, and defaults.
//
//   runtimeApi:
//     enabled: true              # false: no gRPC or HTTP API listener
//     host: 127.0.0.1            # L8_API_HOST / --api-host
//     grpcPort: 34904            # L8_GRPC_PORT / --grpc-port (Layotto's port)
//     httpPort: 34999            # L8_API_PORT / --api-port (HTTP/JSON API + actuator, Layotto's actuator port)
//     appId: my-app              # L8_APP_ID / --app-id: this app's name (consumer groups, dead letters)
//     appCallback: 127.0.0.1:9999  # L8_APP_CALLBACK / --app-callback: the app's AppCallback gRPC server
//     appHttp: http://127.0.0.1:3000  # L8_APP_HTTP / --app-http: an HTTP app's base URL (Dapr-style /dapr/subscribe delivery)
//     apps: { orders: http://127.0.0.1:3000 }  # apps InvokeService can call by id (besides functions)
//     timeoutMs: 10000           # longest wait for a component when the client sets no deadline
//     deliveryTimeoutMs: 30000   # longest wait for an app to answer one message
import { L8Error } from '../../host/errors.ts';

export const DEFAULT_GRPC_PORT = 34904;
export const DEFAULT_HTTP_PORT = 34999;

export interface ApiSettings {
  host: string;
  /** null: that listener is off. */
  grpcPort: number | null;
  httpPort: number | null;
  appId: string;
  /** host:port of the app's AppCallback server, or null. */
  appCallback: string | null;
  /** Base URL of an HTTP app that receives messages Dapr-style, or null. */
  appHttp: string | null;
  apps: Record<string, string>;
  timeoutMs: number;
  deliveryTimeoutMs: number;
}

const KEYS = ['enabled', 'host', 'grpcPort', 'httpPort', 'appId', 'appCallback', 'appHttp', 'apps', 'timeoutMs', 'deliveryTimeoutMs'];

const fail = (where: string, message: string): never => {
  throw new L8Error('bad_request', `${where}: ${message}`);
};

function port(value: unknown, where: string): number | null {
  if (value === 'off' || value === false) return null;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) return fail(where, `"${String(value)}" is not a port number (0-65535; 0 picks a free port; "off" turns the listener off)`);
  return n;
}

function positive(value: unknown, where: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return fail(where, `"${String(value)}" must be a positive number of milliseconds`);
  return n;
}

/**
 * `runtimePort` is the runtime's own HTTP port: when it is 0 (tests, several runtimes on
 * one machine) and no API port is set anywhere, the API ports are 0 too, so runtimes
 * started that way never fight over 34904 and 34999.
 */
export function parseApiSettings(section: unknown, flags: Record<string, unknown>, env: NodeJS.ProcessEnv, runtimePort: number): ApiSettings | null {
  const raw = (section ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('runtimeApi', 'must be a map (see docs/runtime-api.md)');
  for (const key of Object.keys(raw)) if (!KEYS.includes(key)) fail('runtimeApi', `unknown field "${key}" (known: ${KEYS.join(', ')})`);
  if (raw.enabled === false || raw.enabled === 'false') return null;

  const pick = (flag: string, envName: string, key: string): unknown => {
    if (flags[flag] !== undefined) return flags[flag];
    if (env[envName] !== undefined && env[envName] !== '') return env[envName];
    return raw[key];
  };
  const ephemeral = runtimePort === 0;
  const grpcValue = pick('grpc-port', 'L8_GRPC_PORT', 'grpcPort');
  const httpValue = pick('api-port', 'L8_API_PORT', 'httpPort');
  const grpcPort = grpcValue === undefined ? (ephemeral ? 0 : DEFAULT_GRPC_PORT) : port(grpcValue, 'runtimeApi.grpcPort (--grpc-port, L8_GRPC_PORT)');
  const httpPort = httpValue === undefined ? (ephemeral ? 0 : DEFAULT_HTTP_PORT) : port(httpValue, 'runtimeApi.httpPort (--api-port, L8_API_PORT)');

  const appCallback = pick('app-callback', 'L8_APP_CALLBACK', 'appCallback');
  if (appCallback !== undefined && (typeof appCallback !== 'string' || !/^[^\s:]+:\d+$|^unix:/.test(appCallback))) {
    fail('runtimeApi.appCallback (--app-callback, L8_APP_CALLBACK)', `"${String(appCallback)}" must be host:port (or unix:/path) of the app's AppCallback gRPC server`);
  }
  const appHttp = pick('app-http', 'L8_APP_HTTP', 'appHttp');
  if (appHttp !== undefined && (typeof appHttp !== 'string' || !/^https?:\/\/[^/]/.test(appHttp))) {
    fail('runtimeApi.appHttp (--app-http, L8_APP_HTTP)', `"${String(appHttp)}" must be the app's base URL, e.g. http://127.0.0.1:3000`);
  }
  const apps = (raw.apps ?? {}) as Record<string, unknown>;
  if (typeof apps !== 'object' || Array.isArray(apps)) fail('runtimeApi.apps', 'must map app ids to base URLs, e.g. { orders: "http://127.0.0.1:3000" }');
  for (const [id, url] of Object.entries(apps)) {
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) fail(`runtimeApi.apps.${id}`, `"${String(url)}" must be an http:// or https:// base URL`);
  }
  const appId = String(pick('app-id', 'L8_APP_ID', 'appId') ?? 'app');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(appId)) fail('runtimeApi.appId (--app-id, L8_APP_ID)', `"${appId}" must be letters, digits, ".", "_" or "-"`);

  return {
    host: String(pick('api-host', 'L8_API_HOST', 'host') ?? '127.0.0.1'),
    grpcPort,
    httpPort,
    appId,
    appCallback: (appCallback as string | undefined) ?? null,
    appHttp: (appHttp as string | undefined) ?? null,
    apps: apps as Record<string, string>,
    timeoutMs: raw.timeoutMs === undefined ? 10_000 : positive(raw.timeoutMs, 'runtimeApi.timeoutMs'),
    deliveryTimeoutMs: raw.deliveryTimeoutMs === undefined ? 30_000 : positive(raw.deliveryTimeoutMs, 'runtimeApi.deliveryTimeoutMs'),
  };
}
