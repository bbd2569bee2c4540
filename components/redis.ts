// What every Redis backend (state, pubsub, lock, sequencer) shares: reading the
// connection settings from a component spec, a client tuned to fail fast while Redis is
// away and to come back on its own, and the translation of client errors into
// ComponentErrors that say which server failed and what to check.
import { Redis, type RedisOptions } from 'ioredis';
import { ComponentError, type ComponentHealth } from './errors.ts';
import { checkKnown, specNumber, specString, type Spec } from './spec.ts';

export interface RedisSettings {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS. */
  url: string;
  username?: string;
  /** Overrides the password in the URL; reference it as ${REDIS_PASSWORD} in the runtime config. */
  password?: string;
  db?: number;
  /** Give up on a connection attempt after this long. */
  connectTimeoutMs: number;
  /** Fail a command that got no reply within this long (the server hangs or the network drops packets). */
  commandTimeoutMs: number;
  /** Prepended to every key so several components, runtimes or apps share one Redis safely. */
  keyPrefix: string;
}

export const REDIS_DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  connectTimeoutMs: 2000,
  commandTimeoutMs: 2000,
};

/** Longest pause between reconnection attempts: Redis coming back is noticed within this. */
const MAX_RECONNECT_DELAY_MS = 1000;

/** Connection options every Redis backend reads from its spec. */
export const REDIS_CONNECTION_OPTIONS = ['url', 'username', 'password', 'db', 'connectTimeoutMs', 'commandTimeoutMs', 'keyPrefix'] as const;

const invalid = (where: string, message: string): never => {
  throw new ComponentError('invalid', `${where}: ${message}`);
};

/**
 * Reads `url`, `username`, `password`, `db`, `connectTimeoutMs`, `commandTimeoutMs` and
 * `keyPrefix` from a component spec. `defaultPrefix` is used when the spec names none.
 */
export function redisSettings(spec: Spec, where: string, defaultPrefix: string): RedisSettings {
  const url = specString(spec, 'url', where) ?? REDIS_DEFAULTS.url;
  if (!/^rediss?:\/\//.test(url)) invalid(where, `"url" must look like redis://host:6379 or rediss://host:6380, got ${JSON.stringify(url)}`);
  try {
    new URL(url);
  } catch {
    invalid(where, `"url" ${JSON.stringify(url)} is not a valid URL`);
  }
  const settings: RedisSettings = {
    url,
    connectTimeoutMs: specNumber(spec, 'connectTimeoutMs', where, { min: 1 }) ?? REDIS_DEFAULTS.connectTimeoutMs,
    commandTimeoutMs: specNumber(spec, 'commandTimeoutMs', where, { min: 1 }) ?? REDIS_DEFAULTS.commandTimeoutMs,
    keyPrefix: specString(spec, 'keyPrefix', where) ?? defaultPrefix,
  };
  const username = specString(spec, 'username', where);
  if (username) settings.username = username;
  const password = specString(spec, 'password', where);
  if (password) settings.password = password;
  const db = specNumber(spec, 'db', where, { min: 0, integer: true });
  if (db !== undefined) settings.db = db;
  return settings;
}

/** Settings for a backend of `kind` named `name`: checks the spec holds only known options. */
export function redisSettingsFor(kind: string, name: string, spec: Spec, extraOptions: readonly string[] = []): RedisSettings {
  const where = `components.${kind}.${name}`;
  checkKnown(spec, where, [...REDIS_CONNECTION_OPTIONS, ...extraOptions]);
  return redisSettings(spec, where, `l8:${kind}:${name}:`);
}

/** The URL without its password, for messages and health reports. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid url)';
  }
}

const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/**
 * One connection to Redis. Commands never wait in an offline queue: while the server is
 * unreachable they fail at once with ComponentError('unavailable'), and the client keeps
 * reconnecting in the background (at most MAX_RECONNECT_DELAY_MS apart), so calls succeed
 * again within about a second of the server returning.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly settings: RedisSettings;
  private readonly what: string;
  private lastError: string | null = null;
  private closed = false;

  /**
   * `what` names the component in messages ("redis state store"). `blocking` makes a
   * connection for blocking reads (XREADGROUP BLOCK): no per-command timeout, a client-side
   * deadline of the block time plus a grace period instead.
   */
  constructor(settings: RedisSettings, what: string, extra: { blocking?: boolean; connectionName?: string; stringNumbers?: boolean } = {}) {
    this.settings = settings;
    this.what = what;
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      // A command in flight when the connection drops fails instead of being replayed on
      // the next connection: the caller decides whether to retry (a replay could apply a
      // write twice after the caller already gave up on it).
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: settings.connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      keepAlive: 10_000,
      stringNumbers: extra.stringNumbers ?? false,
    };
    if (extra.blocking) options.blockingTimeout = 60_000;
    else options.commandTimeout = settings.commandTimeoutMs;
    if (extra.connectionName) options.connectionName = extra.connectionName;
    if (settings.username !== undefined) options.username = settings.username;
    if (settings.password !== undefined) options.password = settings.password;
    if (settings.db !== undefined) options.db = settings.db;
    this.client = new Redis(settings.url, options);
    // Without a listener every failed reconnection attempt would be printed by ioredis.
    this.client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    this.client.on('ready', () => {
      this.lastError = null;
    });
  }

  get url(): string {
    return redactUrl(this.settings.url);
  }

  /** Connects once; fails with a message naming the URL when Redis cannot be reached. */
  async connect(): Promise<void> {
    try {
      await this.client.connect();
      await this.client.ping();
    } catch (error) {
      this.client.disconnect();
      throw new ComponentError(
        'unavailable',
        `${this.what}: cannot connect to Redis at ${this.url}: ${this.lastError ?? (error as Error).message}; check that redis-server runs there and that the url, username and password are right`,
        { cause: error },
      );
    }
  }

  async health(): Promise<ComponentHealth> {
    if (this.closed) return { status: 'DOWN', reason: `${this.what} is closed` };
    if (this.client.status !== 'ready') {
      return { status: 'DOWN', reason: `Redis at ${this.url} is unreachable (${this.lastError ?? this.client.status}); reconnecting in the background` };
    }
    try {
      await this.client.ping();
      return { status: 'UP' };
    } catch (error) {
      return { status: 'DOWN', reason: `Redis at ${this.url} does not answer PING: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.status === 'ready') {
      // QUIT lets replies in flight arrive; fall back to dropping the socket.
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  /** Translates a client failure into a ComponentError that names the server. */
  error(error: unknown, doing: string): ComponentError {
    if (error instanceof ComponentError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const isReply = error instanceof Error && error.name === 'ReplyError';
    if (this.closed) return new ComponentError('unavailable', `${this.what} is closed (${doing})`, { cause: error });
    if (isReply && !UNAVAILABLE_REPLIES.test(message)) {
      return new ComponentError('internal', `${this.what}: Redis at ${this.url} refused ${doing}: ${message}`, { cause: error });
    }
    const reason = this.client.status === 'ready' ? message : `${this.lastError ?? message}; reconnecting in the background`;
    return new ComponentError('unavailable', `${this.what}: Redis at ${this.url} is unavailable (${doing}): ${reason}; retry later`, { cause: error });
  }

  /** Runs one Redis call and translates its failure. */
  async run<T>(doing: string, call: (client: Redis) => Promise<T>): Promise<T> {
    if (this.closed) throw new ComponentError('unavailable', `${this.what} is closed (${doing})`);
    try {
      return await call(this.client);
    } catch (error) {
      throw this.error(error, doing);
    }
  }
}

/** A Uint8Array as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
