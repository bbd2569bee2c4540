// Pub/sub on Redis Streams. A topic is the stream `<keyPrefix><topic>`; a subscriber group
// is a Redis consumer group on it, so every group gets every message and the members of
// one group (runtime replicas) share the work.
//
// Delivery is at least once: an entry is XACKed only after the handler resolved. A handler
// that rejects gets the same entry again (after `redeliverMs`) before anything later in
// the stream, so order holds within one subscriber. Entries a subscriber read but did not
// acknowledge stay in the group's pending list: on close they are handed back at once
// (their idle time is raised so the next reader claims them), and those of a subscriber
// that crashed are claimed with XAUTOCLAIM once idle for `claimIdleMs`.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import { asBuffer, RedisConnection, redisSettingsFor, type RedisSettings } from '../redis.ts';
import { specNumber, type Spec } from '../spec.ts';
import type { Message, MessageHandler, PubSub, Subscription } from './contract.ts';

export interface RedisPubSubOptions {
  /** Approximate number of entries kept per stream (XADD MAXLEN ~); 0 keeps everything. */
  maxLen?: number;
  /** How long one XREADGROUP waits for new entries. */
  blockMs?: number;
  /** Entries read per XREADGROUP. */
  batchSize?: number;
  /** Pending entries idle this long belong to a subscriber presumed dead and are claimed. */
  claimIdleMs?: number;
  /** Pause before a rejected message is handed to the handler again. */
  redeliverMs?: number;
  /** Receives problems the subscriber loops recover from (Redis away, and so on). */
  logger?: { warn(object: object, message: string): void };
}

export const REDIS_PUBSUB_DEFAULTS = {
  maxLen: 100_000,
  blockMs: 2000,
  batchSize: 100,
  claimIdleMs: 30_000,
  redeliverMs: 100,
};

type Entry = [Buffer, Buffer[] | null];
/** Idle time given to entries handed back on close: any reader's XAUTOCLAIM takes them. */
const HANDED_BACK_IDLE_MS = 2 ** 31;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function decode(topic: string, [id, fields]: Entry): Message | null {
  // A pending entry whose data was trimmed away (MAXLEN) comes back without fields.
  if (!fields) return null;
  let data: Buffer | undefined;
  let metadata: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === 'd') data = fields[i + 1];
    else if (name === 'm') metadata = JSON.parse(fields[i + 1]!.toString()) as Record<string, string>;
  }
  return { id: id.toString(), topic, data: new Uint8Array(data ?? Buffer.alloc(0)), metadata };
}

class StreamSubscriber implements Subscription {
  private readonly owner: RedisPubSub;
  private readonly topic: string;
  private readonly stream: string;
  private readonly group: string;
  private readonly consumer: string;
  private readonly handler: MessageHandler;
  private readonly reader: RedisConnection;
  private readonly options: Required<Omit<RedisPubSubOptions, 'logger'>>;
  private closed = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private readonly acking = new Set<Promise<void>>();
  lastError: string | null = null;

  constructor(owner: RedisPubSub, settings: RedisSettings, topic: string, group: string, handler: MessageHandler) {
    this.owner = owner;
    this.topic = topic;
    this.stream = settings.keyPrefix + topic;
    this.group = group;
    this.handler = handler;
    this.options = owner.options;
    this.consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    // XREADGROUP BLOCK holds its connection: each subscriber reads on its own.
    this.reader = new RedisConnection(settings, `redis pubsub subscriber of "${topic}"`, { blocking: true, connectionName: 'l8-pubsub-reader' });
  }

  async start(): Promise<void> {
    await this.owner.ensureGroup(this.stream, this.group, '$');
    await this.reader.connect();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let nextClaim = 0;
    let failures = 0;
    while (!this.closed) {
      try {
        const claimEveryMs = Math.max(500, Math.floor(this.options.claimIdleMs / 2));
        if (Date.now() >= nextClaim) {
          await this.claimStale();
          nextClaim = Date.now() + claimEveryMs;
        }
        const reply = (await this.reader.client.xreadgroupBuffer(
          'GROUP', this.group, this.consumer,
          'COUNT', this.options.batchSize,
          // Wake up in time for the next claim round even when no new entries arrive.
          'BLOCK', Math.min(this.options.blockMs, claimEveryMs),
          'STREAMS', this.stream, '>',
        )) as Array<[Buffer, Entry[]]> | null;
        failures = 0;
        this.lastError = null;
        for (const entry of reply?.[0]?.[1] ?? []) {
          if (this.closed) break;
          await this.deliver(entry);
        }
      } catch (error) {
        if (this.closed) break;
        const message = (error as Error).message;
        if (message.startsWith('NOGROUP')) {
          // The stream or group vanished (deleted, or Redis restarted without persistence):
          // recreate it from the start of whatever the stream holds now, so nothing
          // published since is skipped.
          await this.owner.ensureGroup(this.stream, this.group, '0').catch(() => {});
          continue;
        }
        failures += 1;
        this.lastError = `reading "${this.topic}" for group "${this.group}" failed: ${message}`;
        if (failures === 1) this.owner.warn({ topic: this.topic, group: this.group, err: message }, 'redis pubsub: cannot read; retrying until Redis answers');
        await this.pause(Math.min(1000, 100 * failures));
      }
    }
  }

  /** Takes over entries other (presumably dead) members of the group left pending. */
  private async claimStale(): Promise<void> {
    let cursor = '0-0';
    do {
      const reply = (await this.owner.connection.client.callBuffer(
        'XAUTOCLAIM', this.stream, this.group, this.consumer, this.options.claimIdleMs, cursor, 'COUNT', this.options.batchSize,
      )) as [Buffer, Entry[], Buffer[]?];
      cursor = reply[0].toString();
      for (const entry of reply[1]) {
        if (this.closed) return;
        await this.deliver(entry);
      }
    } while (cursor !== '0-0' && !this.closed);
  }

  /** Calls the handler until it resolves (or the subscriber closes), then acknowledges. */
  private async deliver(entry: Entry): Promise<void> {
    const message = decode(this.topic, entry);
    const id = entry[0].toString();
    if (!message) {
      this.ackLater(id);
      return;
    }
    // A long handler must not look dead to the other members' XAUTOCLAIM: touch the entry.
    const touch = setInterval(() => {
      this.owner.connection.client.xclaim(this.stream, this.group, this.consumer, 0, id, 'JUSTID').catch(() => {});
    }, Math.max(100, Math.floor(this.options.claimIdleMs / 3)));
    try {
      while (!this.closed) {
        try {
          await this.handler(message);
        } catch {
          await this.pause(this.options.redeliverMs);
          continue;
        }
        this.ackLater(id);
        return;
      }
    } finally {
      clearInterval(touch);
    }
  }

  /**
   * Acknowledges without waiting for the reply: the next message need not wait a round
   * trip (acks go out in order on one connection). close() waits for those in flight.
   */
  private ackLater(id: string): void {
    const pending = this.ack(id).finally(() => this.acking.delete(pending));
    this.acking.add(pending);
  }

  private async ack(id: string): Promise<void> {
    try {
      await this.owner.connection.client.xack(this.stream, this.group, id);
    } catch (error) {
      // Not fatal: the entry stays pending and is delivered again later (at least once).
      this.owner.warn({ topic: this.topic, group: this.group, id, err: (error as Error).message }, 'redis pubsub: acknowledgement failed; the message will be delivered again');
    }
  }

  /** Sleeps, but wakes at once when the subscriber closes. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return this.loop;
    this.closed = true;
    this.wake?.();
    // Dropping the reader ends a blocked XREADGROUP at once.
    this.reader.client.disconnect();
    await this.loop;
    await this.reader.close();
    await Promise.all(this.acking);
    await this.handBack();
    this.owner.forget(this);
  }

  /**
   * Makes what this subscriber read but did not acknowledge claimable right away, so the
   * next member of the group (a new version, another replica) continues without waiting
   * for claimIdleMs. Without pending entries the consumer is removed from the group.
   */
  private async handBack(): Promise<void> {
    const client = this.owner.connection.client;
    try {
      for (;;) {
        const pending = (await client.xpending(this.stream, this.group, '-', '+', 1000, this.consumer)) as Array<[string, string, number, number]>;
        if (pending.length === 0) {
          await client.xgroup('DELCONSUMER', this.stream, this.group, this.consumer);
          return;
        }
        const ids = pending.map(([id]) => id);
        // IDLE backdates the delivery; the entries stay ours until someone claims them.
        await client.xclaim(this.stream, this.group, this.consumer, 0, ...ids, 'IDLE', HANDED_BACK_IDLE_MS, 'JUSTID');
        if (pending.length < 1000) return;
      }
    } catch (error) {
      this.owner.warn({ topic: this.topic, group: this.group, err: (error as Error).message }, `redis pubsub: could not hand back unacknowledged messages; they are redelivered after ${this.options.claimIdleMs} ms`);
    }
  }
}

export class RedisPubSub implements PubSub {
  readonly kind = 'redis';
  readonly connection: RedisConnection;
  readonly options: Required<Omit<RedisPubSubOptions, 'logger'>>;
  private readonly settings: RedisSettings;
  private readonly logger: RedisPubSubOptions['logger'];
  private readonly subscribers = new Set<StreamSubscriber>();

  constructor(settings: RedisSettings, options: RedisPubSubOptions = {}) {
    this.settings = settings;
    this.connection = new RedisConnection(settings, 'redis pubsub', { connectionName: 'l8-pubsub' });
    this.logger = options.logger;
    this.options = {
      maxLen: options.maxLen ?? REDIS_PUBSUB_DEFAULTS.maxLen,
      blockMs: options.blockMs ?? REDIS_PUBSUB_DEFAULTS.blockMs,
      batchSize: options.batchSize ?? REDIS_PUBSUB_DEFAULTS.batchSize,
      claimIdleMs: options.claimIdleMs ?? REDIS_PUBSUB_DEFAULTS.claimIdleMs,
      redeliverMs: options.redeliverMs ?? REDIS_PUBSUB_DEFAULTS.redeliverMs,
    };
    for (const [name, value] of Object.entries(this.options)) {
      const ok = name === 'maxLen' ? Number.isInteger(value) && value >= 0 : Number.isInteger(value) && value > 0;
      if (!ok) throw new ComponentError('invalid', `redis pubsub: "${name}" must be a ${name === 'maxLen' ? 'non-negative' : 'positive'} whole number, got ${String(value)}`);
    }
  }

  warn(object: object, message: string): void {
    this.logger?.warn(object, message);
  }

  async init(): Promise<void> {
    await this.connection.connect();
  }

  async health(): Promise<ComponentHealth> {
    const health = await this.connection.health();
    if (health.status !== 'UP') return health;
    for (const subscriber of this.subscribers) {
      if (subscriber.lastError) return { status: 'DOWN', reason: subscriber.lastError };
    }
    return health;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscribers].map((s) => s.close()));
    await this.connection.close();
  }

  async publish(topic: string, data: Uint8Array, metadata: Record<string, string> = {}): Promise<string> {
    if (!topic) throw new ComponentError('invalid', 'topic name must not be empty');
    const fields: Array<string | Buffer> = ['d', asBuffer(data)];
    if (Object.keys(metadata).length > 0) fields.push('m', JSON.stringify(metadata));
    const trim: Array<string | number> = this.options.maxLen > 0 ? ['MAXLEN', '~', this.options.maxLen] : [];
    const id = await this.connection.run(`publish to "${topic}"`, (c) =>
      (c.xadd as (...args: Array<string | number | Buffer>) => Promise<string | null>)(this.settings.keyPrefix + topic, ...trim, '*', ...fields),
    );
    if (!id) throw new ComponentError('internal', `redis pubsub: XADD to "${topic}" returned no id`);
    return id;
  }

  async subscribe(topic: string, group: string, handler: MessageHandler): Promise<Subscription> {
    if (!topic) throw new ComponentError('invalid', 'topic name must not be empty');
    if (!group) throw new ComponentError('invalid', 'consumer group name must not be empty');
    const subscriber = new StreamSubscriber(this, this.settings, topic, group, handler);
    try {
      await subscriber.start();
    } catch (error) {
      await subscriber.close().catch(() => {});
      throw this.connection.error(error, `subscribe to "${topic}"`);
    }
    this.subscribers.add(subscriber);
    return subscriber;
  }

  /** Creates the consumer group (and the stream) unless it exists. */
  async ensureGroup(stream: string, group: string, from: '$' | '0'): Promise<void> {
    try {
      await this.connection.client.xgroup('CREATE', stream, group, from, 'MKSTREAM');
    } catch (error) {
      if (!(error as Error).message.startsWith('BUSYGROUP')) throw this.connection.error(error, `create consumer group "${group}"`);
    }
  }

  forget(subscriber: StreamSubscriber): void {
    this.subscribers.delete(subscriber);
  }
}

/** Builds the backend from a runtime config spec (`components.pubsub.<name>`, type redis). */
export function redisPubSubFromSpec(name: string, spec: Spec): RedisPubSub {
  const where = `components.pubsub.${name}`;
  const settings = redisSettingsFor('pubsub', name, spec, ['maxLen', 'blockMs', 'batchSize', 'claimIdleMs', 'redeliverMs']);
  const options: RedisPubSubOptions = {};
  const maxLen = specNumber(spec, 'maxLen', where, { min: 0, integer: true });
  if (maxLen !== undefined) options.maxLen = maxLen;
  for (const key of ['blockMs', 'batchSize', 'claimIdleMs', 'redeliverMs'] as const) {
    const value = specNumber(spec, key, where, { min: 1, integer: true });
    if (value !== undefined) options[key] = value;
  }
  return new RedisPubSub(settings, options);
}
