// Pub/sub on Kafka (kafkajs). A topic is a Kafka topic, created with the admin client
// when first used (auto-creation on the broker may be off, and would pick its own
// partition count); a subscriber group is a Kafka consumer group.
//
// Publishing: one idempotent producer, acks from all in-sync replicas. kafkajs's
// idempotent producer loses or reorders messages when several sends overlap (kafkajs
// issues #598, #1005), so publishes are queued and sent as one batch at a time; under load
// the queue turns many publishes into one request. The id of a message is
// `<topic>-<partition>-<offset>`.
//
// Consuming: offsets are committed by hand, never before the handler of a message
// resolved (and at most every `commitEvery` messages or `commitIntervalMs`, and when a
// batch ends). A handler that rejects gets the same message again after `redeliverMs`
// before anything later in its partition, so order holds per partition (the partition
// key selects the partition). A group subscribing for the first time starts at the end of
// each partition as it was when subscribe() was called, so nothing published after
// subscribe() resolved is missed even though joining the group takes longer.
import { hostname } from 'node:os';
import {
  Kafka,
  logLevel as LogLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaConfig,
  type LogEntry,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import { checkKnown, specBoolean, specList, specNumber, specString, type Spec } from '../spec.ts';
import { PARTITION_KEY, type Message, type MessageHandler, type PubSub, type Subscription } from './contract.ts';

/** What kafkajs's log lines are sent to: pino, or anything with these methods. */
export interface KafkaLogger {
  error(object: object, message: string): void;
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
  debug(object: object, message: string): void;
}

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaPubSubOptions {
  brokers: string[];
  clientId?: string;
  /** Partitions of topics this component creates. */
  partitions?: number;
  /** Replication factor of topics this component creates; -1 takes the broker's default. */
  replicationFactor?: number;
  ssl?: boolean;
  sasl?: SASLOptions;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** A publish not confirmed by the brokers within this long fails with 'unavailable'. */
  publishTimeoutMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Pause before a rejected message is handed to the handler again. */
  redeliverMs?: number;
  /** Commit after this many handled messages of a partition at the latest... */
  commitEvery?: number;
  /** ...or after this long, whichever comes first. */
  commitIntervalMs?: number;
  /** Partitions of one subscription whose messages are handled at the same time. */
  partitionConcurrency?: number;
  /** Which kafkajs log lines to keep. */
  logLevel?: KafkaLogLevel;
  logger?: KafkaLogger;
}

export const KAFKA_DEFAULTS = {
  clientId: 'l8',
  partitions: 1,
  replicationFactor: -1,
  connectionTimeoutMs: 3000,
  requestTimeoutMs: 30_000,
  publishTimeoutMs: 10_000,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3000,
  redeliverMs: 100,
  commitEvery: 100,
  commitIntervalMs: 1000,
  partitionConcurrency: 1,
  logLevel: 'warn' as KafkaLogLevel,
};

const LEVELS: Record<KafkaLogLevel, LogLevel> = {
  nothing: LogLevel.NOTHING,
  error: LogLevel.ERROR,
  warn: LogLevel.WARN,
  info: LogLevel.INFO,
  debug: LogLevel.DEBUG,
};

/** Kafka's rule for topic names. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** Bytes of message data sent in one produce request at most (the broker limits a batch to ~1 MB). */
const MAX_BATCH_BYTES = 512 * 1024;
const MAX_BATCH_MESSAGES = 1000;
/** How long cached partition metadata of a topic is trusted. */
const METADATA_MAX_AGE_MS = 60_000;

const stderrLogger: KafkaLogger = {
  error: (o, m) => process.stderr.write(`${JSON.stringify({ level: 'error', name: 'kafka', ...o, msg: m })}\n`),
  warn: (o, m) => process.stderr.write(`${JSON.stringify({ level: 'warn', name: 'kafka', ...o, msg: m })}\n`),
  info: (o, m) => process.stderr.write(`${JSON.stringify({ level: 'info', name: 'kafka', ...o, msg: m })}\n`),
  debug: (o, m) => process.stderr.write(`${JSON.stringify({ level: 'debug', name: 'kafka', ...o, msg: m })}\n`),
};

function kafkaLogCreator(logger: KafkaLogger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...rest } = log as LogEntry['log'] & { logger?: string };
      // Retries are bounded on purpose (publishTimeoutMs): a publish that cannot be confirmed
      // fails and the caller decides; kafkajs warns about this on every producer start.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      const object = { namespace, ...rest };
      if (level === LogLevel.ERROR) logger.error(object, message);
      else if (level === LogLevel.WARN) logger.warn(object, message);
      else if (level === LogLevel.INFO) logger.info(object, message);
      else logger.debug(object, message);
    };
}

function positiveInteger(options: Record<string, unknown>, name: string, allowMinusOne = false): void {
  const value = options[name];
  if (Number.isInteger(value) && ((value as number) > 0 || (allowMinusOne && value === -1))) return;
  throw new ComponentError('invalid', `kafka pubsub: "${name}" must be a positive whole number${allowMinusOne ? ' or -1' : ''}, got ${JSON.stringify(value)}`);
}

interface Pending {
  topic: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  resolve(id: string): void;
  reject(error: Error): void;
  settled: boolean;
  timer: NodeJS.Timeout;
}

type CommitOffsets = Array<{ topic: string; partition: number; offset: string }>;

interface TopicInfo {
  partitions: Array<{ partitionId: number; leader: number; partitionErrorCode: number; replicas: number[]; isr: number[] }>;
  fetchedAt: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** False for broker answers that mean the same request will never succeed. */
function retriable(error: unknown): boolean {
  for (let e = error as { name?: string; retriable?: boolean; cause?: unknown; originalError?: unknown } | undefined; e; e = (e.cause ?? e.originalError) as typeof e) {
    if (e.name === 'KafkaJSProtocolError' && e.retriable === false) return false;
  }
  return true;
}

class KafkaSubscriber implements Subscription {
  private readonly owner: KafkaPubSub;
  private readonly topic: string;
  private readonly group: string;
  private readonly handler: MessageHandler;
  /** Per partition: offsets below this were published before the group's first subscribe(). */
  private readonly floors = new Map<number, bigint>();
  /** Per partition: the commit of its floor, so the group's start survives a close before any message. */
  private readonly floorCommits = new Map<number, Promise<void>>();
  private consumer: Consumer | null = null;
  private closed = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private wakers = new Set<() => void>();
  lastError: string | null = null;

  constructor(owner: KafkaPubSub, topic: string, group: string, handler: MessageHandler) {
    this.owner = owner;
    this.topic = topic;
    this.group = group;
    this.handler = handler;
  }

  async start(): Promise<void> {
    await this.owner.ensureTopic(this.topic);
    const admin = this.owner.adminClient();
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId: this.group, topics: [this.topic] }),
      admin.fetchTopicOffsets(this.topic),
    ]);
    const hasOffset = new Set((committed[0]?.partitions ?? []).filter((p) => p.offset !== '-1').map((p) => p.partition));
    for (const end of ends) if (!hasOffset.has(end.partition)) this.floors.set(end.partition, BigInt(end.offset));
    await this.run();
  }

  private async run(): Promise<void> {
    const o = this.owner.options;
    const consumer = this.owner.client.consumer({
      groupId: this.group,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      // Short fetch waits keep close() quick; a fetch still returns as soon as data arrives.
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 3000, restartOnFailure: async () => !this.closed },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.lastError = `consumer of "${this.topic}" for group "${this.group}" failed: ${payload.error.message}`;
      // kafkajs restarts itself after retriable errors only; come back after the others too.
      if (!payload.restart && !this.closed) this.scheduleRestart();
    });
    let assigned: number[] = [];
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.lastError = null;
      assigned = payload.memberAssignment[this.topic] ?? [];
    });
    // kafkajs ignores consumer.commitOffsets() until the member runs, which is after
    // GROUP_JOIN; the first fetch is the first moment it is accepted.
    consumer.on(consumer.events.FETCH_START, () => {
      const commit = (offsets: CommitOffsets) => consumer.commitOffsets(offsets);
      for (const partition of assigned) void this.commitFloor(commit, partition);
      assigned = [];
    });
    consumer.on(consumer.events.FETCH, () => {
      this.lastError = null;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionConcurrency,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /**
   * Commits the start position of a partition the group had no offset for, once. Until
   * then a member that leaves before handling anything would leave nothing behind, and the
   * next subscribe() would start later, past messages published in between.
   */
  private commitFloor(commitOffsets: (offsets: CommitOffsets) => Promise<unknown>, partition: number): Promise<void> {
    const floor = this.floors.get(partition);
    if (floor === undefined) return Promise.resolve();
    let commit = this.floorCommits.get(partition);
    if (!commit) {
      commit = commitOffsets([{ topic: this.topic, partition, offset: floor.toString() }]).then(
        () => {},
        (error: Error) => {
        this.floorCommits.delete(partition);
          this.owner.log.warn({ topic: this.topic, group: this.group, partition, err: error.message }, 'kafka pubsub: could not commit the start offset of a new group; retrying with the next batch');
        },
      );
      this.floorCommits.set(partition, commit);
    }
    return commit;
  }

  private scheduleRestart(): void {
    if (this.restartTimer) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closed) return;
      const old = this.consumer;
      void (old ? old.disconnect().catch(() => {}) : Promise.resolve())
        .then(() => (this.closed ? undefined : this.run()))
        .catch((error: Error) => {
          this.lastError = `consumer of "${this.topic}" for group "${this.group}" cannot restart: ${error.message}`;
          this.scheduleRestart();
        });
    }, 2000);
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    // Not consumer.commitOffsets(): kafkajs drops those once the consumer is stopping, and
    // the commit at the end of the batch in hand during close() must still happen.
    const commitOffsets = (offsets: CommitOffsets) => payload.commitOffsetsIfNecessary({ topics: [{ topic: this.topic, partitions: offsets.map(({ partition, offset }) => ({ partition, offset })) }] });
    const o = this.owner.options;
    const partition = batch.partition;
    let uncommitted: bigint | null = null;
    let handledSinceCommit = 0;
    let lastCommit = Date.now();
    const commit = async () => {
      if (uncommitted === null) return;
      const offset = uncommitted;
      uncommitted = null;
      handledSinceCommit = 0;
      lastCommit = Date.now();
      try {
        await commitOffsets([{ topic: batch.topic, partition, offset: offset.toString() }]);
      } catch (error) {
        // Not fatal: the messages after the last commit are delivered again (at least once).
        this.owner.log.warn({ topic: this.topic, group: this.group, partition, err: (error as Error).message }, 'kafka pubsub: offset commit failed; the messages since the last commit will be delivered again');
      }
    };

    try {
      // Before any handler runs, the group's start position must be on the broker.
      await this.commitFloor(commitOffsets, partition);
      for (const record of batch.messages) {
        if (this.closed || !isRunning() || isStale()) break;
        const offset = BigInt(record.offset);
        const floor = this.floors.get(partition);
        if (floor !== undefined && offset < floor) {
          resolveOffset(record.offset);
          uncommitted = offset + 1n;
          continue;
        }
        this.floors.delete(partition);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(record.headers ?? {})) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
        }
        const message: Message = {
          id: `${batch.topic}-${partition}-${record.offset}`,
          topic: this.topic,
          data: new Uint8Array(record.value ?? Buffer.alloc(0)),
          metadata: headers,
        };
        if (!(await this.deliver(message, heartbeat))) break;
        resolveOffset(record.offset);
        uncommitted = offset + 1n;
        handledSinceCommit += 1;
        if (handledSinceCommit >= o.commitEvery || Date.now() - lastCommit >= o.commitIntervalMs) await commit();
        await heartbeat();
      }
    } finally {
      await commit();
    }
  }

  /** Calls the handler until it resolves (true) or the subscription closes (false). */
  private async deliver(message: Message, heartbeat: () => Promise<void>): Promise<boolean> {
    // A long handler must not make the group think this member died.
    const beat = setInterval(() => void heartbeat().catch(() => {}), this.owner.options.heartbeatIntervalMs);
    try {
      while (!this.closed) {
        try {
          await this.handler(message);
          return true;
        } catch {
          await this.pause(this.owner.options.redeliverMs);
        }
      }
      return false;
    } finally {
      clearInterval(beat);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    for (const wake of [...this.wakers]) wake();
    // Waits for the batch in hand: what was handled is committed, the rest is left for
    // the next member of the group.
    await this.consumer?.disconnect().catch(() => {});
    this.owner.forget(this);
  }
}

export class KafkaPubSub implements PubSub {
  readonly kind = 'kafka';
  readonly options: Required<Omit<KafkaPubSubOptions, 'sasl' | 'logger' | 'ssl'>> & Pick<KafkaPubSubOptions, 'sasl' | 'ssl'>;
  readonly client: Kafka;
  readonly log: KafkaLogger;
  private admin: Admin | null = null;
  private producer: Producer | null = null;
  private producerReady: Promise<Producer> | null = null;
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly topics = new Map<string, Promise<TopicInfo>>();
  private readonly queue: Pending[] = [];
  private sending = false;
  private closed = false;
  private readonly subscribers = new Set<KafkaSubscriber>();
  private lastPublishError: string | null = null;

  constructor(options: KafkaPubSubOptions) {
    const brokers = options.brokers;
    if (!Array.isArray(brokers) || brokers.length === 0 || !brokers.every((b) => typeof b === 'string' && /^[^:\s]+:\d+$/.test(b))) {
      throw new ComponentError('invalid', `kafka pubsub: "brokers" must list host:port addresses, e.g. ["127.0.0.1:9092"], got ${JSON.stringify(brokers)}`);
    }
    this.options = { ...KAFKA_DEFAULTS, ...options, brokers };
    for (const name of ['partitions', 'connectionTimeoutMs', 'requestTimeoutMs', 'publishTimeoutMs', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'redeliverMs', 'commitEvery', 'commitIntervalMs', 'partitionConcurrency']) {
      positiveInteger(this.options, name);
    }
    positiveInteger(this.options, 'replicationFactor', true);
    if (!(this.options.logLevel in LEVELS)) {
      throw new ComponentError('invalid', `kafka pubsub: "logLevel" must be one of ${Object.keys(LEVELS).join(', ')}, got ${JSON.stringify(this.options.logLevel)}`);
    }
    this.log = options.logger ?? stderrLogger;
    const config: KafkaConfig = {
      brokers,
      clientId: this.options.clientId,
      connectionTimeout: this.options.connectionTimeoutMs,
      requestTimeout: this.options.requestTimeoutMs,
      logLevel: LEVELS[this.options.logLevel],
      logCreator: kafkaLogCreator(this.log),
      // The admin client's (and the base of everyone's) retries: short, so init() reports
      // unreachable brokers within seconds; producer and consumers set their own.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    };
    if (this.options.ssl) config.ssl = true;
    if (this.options.sasl) config.sasl = this.options.sasl;
    this.client = new Kafka(config);
  }

  private get brokerList(): string {
    return this.options.brokers.join(', ');
  }

  adminClient(): Admin {
    if (!this.admin) throw new ComponentError('unavailable', 'kafka pubsub is not initialised (call init first) or is closed');
    return this.admin;
  }

  async init(): Promise<void> {
    const admin = this.client.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
    } catch (error) {
      await admin.disconnect().catch(() => {});
      throw new ComponentError('unavailable', `kafka pubsub: cannot reach the Kafka brokers ${this.brokerList}: ${(error as Error).message}; check that they run and that "brokers" names their listener addresses`, { cause: error });
    }
    this.admin = admin;
    await this.connectProducer();
  }

  private connectProducer(): Promise<Producer> {
    this.producerReady ??= (async () => {
      const producer = this.client.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        // Short inner retries: send() retries on a fresh producer until publishTimeoutMs.
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      try {
        await producer.connect();
      } catch (error) {
        this.producerReady = null;
        throw new ComponentError('unavailable', `kafka pubsub: cannot connect a producer to ${this.brokerList}: ${(error as Error).message}`, { cause: error });
      }
      this.producer = producer;
      return producer;
    })();
    return this.producerReady;
  }

  /** After a failed send the idempotent producer's sequence numbers may be off: start a new one. */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = null;
    this.producerReady = null;
    await old?.disconnect().catch(() => {});
  }

  async health(): Promise<ComponentHealth> {
    if (this.closed || !this.admin) return { status: 'DOWN', reason: 'kafka pubsub is not initialised or is closed' };
    try {
      await Promise.race([
        this.admin.describeCluster(),
        sleep(2000).then(() => {
          throw new Error('no answer within 2 s');
        }),
      ]);
    } catch (error) {
      return { status: 'DOWN', reason: `Kafka brokers ${this.brokerList} do not answer: ${(error as Error).message}` };
    }
    for (const subscriber of this.subscribers) if (subscriber.lastError) return { status: 'DOWN', reason: subscriber.lastError };
    if (this.lastPublishError) return { status: 'UP', reason: `last publish failed: ${this.lastPublishError}` };
    return { status: 'UP' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscribers].map((s) => s.close()));
    for (const pending of this.queue.splice(0)) this.settle(pending, new ComponentError('unavailable', 'kafka pubsub closed before the message was sent'));
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
    this.admin = null;
  }

  /** Creates the topic unless it exists; returns its partitions. */
  ensureTopic(topic: string): Promise<TopicInfo> {
    const cached = this.topics.get(topic);
    if (cached) {
      return cached.then((info) => {
        if (Date.now() - info.fetchedAt < METADATA_MAX_AGE_MS) return info;
        this.topics.delete(topic);
        return this.ensureTopic(topic);
      });
    }
    const loading = (async () => {
      const admin = this.adminClient();
      try {
        // Create only what is missing: listing needs fewer rights than creating.
        if (!(await admin.listTopics()).includes(topic)) {
          await admin.createTopics({
            topics: [{ topic, numPartitions: this.options.partitions, replicationFactor: this.options.replicationFactor }],
            waitForLeaders: true,
          });
        }
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = metadata.topics[0]?.partitions ?? [];
        if (partitions.length === 0) throw new Error(`topic "${topic}" has no partitions`);
        return { partitions, fetchedAt: Date.now() };
      } catch (error) {
        throw new ComponentError('unavailable', `kafka pubsub: cannot create or describe topic "${topic}" on ${this.brokerList}: ${(error as Error).message}`, { cause: error });
      }
    })();
    this.topics.set(topic, loading);
    loading.catch(() => this.topics.delete(topic));
    return loading;
  }

  async publish(topic: string, data: Uint8Array, metadata: Record<string, string> = {}): Promise<string> {
    if (this.closed) throw new ComponentError('unavailable', 'kafka pubsub is closed');
    if (!topic) throw new ComponentError('invalid', 'topic name must not be empty');
    if (!TOPIC_NAME.test(topic)) {
      throw new ComponentError('invalid', `kafka topic names use only letters, digits, ".", "_" and "-" (at most 249), got ${JSON.stringify(topic)}`);
    }
    return new Promise<string>((resolve, reject) => {
      const pending: Pending = {
        topic,
        key: metadata[PARTITION_KEY] ?? null,
        value: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        headers: { ...metadata },
        resolve,
        reject,
        settled: false,
        timer: setTimeout(() => {
          this.settle(
            pending,
            new ComponentError('unavailable', `kafka pubsub: the brokers ${this.brokerList} did not confirm the message to "${topic}" within ${this.options.publishTimeoutMs} ms${this.lastPublishError ? ` (${this.lastPublishError})` : ''}; it may still be published — publish again if it must arrive`),
          );
        }, this.options.publishTimeoutMs),
      };
      this.queue.push(pending);
      void this.drain();
    });
  }

  private settle(pending: Pending, outcome: string | Error): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    if (typeof outcome === 'string') pending.resolve(outcome);
    else pending.reject(outcome);
  }

  /** Sends queued messages, one batch at a time (see the top of this file for why). */
  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch: Pending[] = [];
        let bytes = 0;
        while (this.queue.length > 0 && batch.length < MAX_BATCH_MESSAGES) {
          const next = this.queue[0]!;
          if (batch.length > 0 && bytes + next.value.byteLength > MAX_BATCH_BYTES) break;
          this.queue.shift();
          // A caller that gave up (timeout) is not sent: it was told the message failed.
          if (next.settled) continue;
          batch.push(next);
          bytes += next.value.byteLength;
        }
        if (batch.length > 0) await this.send(batch);
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * Sends one batch, and again while the brokers are unreachable (a restart, a leader
   * election), until every message in it is confirmed or its publishTimeoutMs ran out.
   * Only errors that will not go away (message too large, not authorised) fail at once.
   */
  private async send(batch: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const live = batch.filter((pending) => !pending.settled);
      if (live.length === 0) return;
      if (this.closed) {
        for (const pending of live) this.settle(pending, new ComponentError('unavailable', 'kafka pubsub closed before the message was confirmed'));
        return;
      }
      try {
        await this.sendOnce(live);
        this.lastPublishError = null;
        return;
      } catch (error) {
        const reason = (error as Error).message;
        this.lastPublishError = reason;
        await this.replaceProducer();
        for (const pending of live) this.topics.delete(pending.topic);
        if (!retriable(error)) {
          for (const pending of live) {
            this.settle(pending, error instanceof ComponentError ? error : new ComponentError('invalid', `kafka pubsub: the brokers ${this.brokerList} refused the message to "${pending.topic}": ${reason}`, { cause: error }));
          }
          return;
        }
        await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  }

  private async sendOnce(batch: Pending[]): Promise<void> {
    const producer = await this.connectProducer();
    // Choose each message's partition here, so each one's offset is known from the reply.
    const groups = new Map<string, { topic: string; partition: number; items: Pending[] }>();
    for (const pending of batch) {
      const info = await this.ensureTopic(pending.topic);
      const partition = this.partitioner({
        topic: pending.topic,
        partitionMetadata: info.partitions,
        message: { key: pending.key, value: pending.value },
      });
      const id = `${pending.topic}\0${partition}`;
      let group = groups.get(id);
      if (!group) groups.set(id, (group = { topic: pending.topic, partition, items: [] }));
      group.items.push(pending);
    }
    const byTopic = new Map<string, Array<{ key: string | null; value: Buffer; partition: number; headers: Record<string, string> }>>();
    for (const group of groups.values()) {
      let messages = byTopic.get(group.topic);
      if (!messages) byTopic.set(group.topic, (messages = []));
      for (const p of group.items) messages.push({ key: p.key, value: p.value, partition: group.partition, headers: p.headers });
    }
    const results = await producer.sendBatch({
      acks: -1,
      timeout: this.options.requestTimeoutMs,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    for (const result of results) {
      const group = groups.get(`${result.topicName}\0${result.partition}`);
      if (!group) continue;
      const base = BigInt(result.baseOffset ?? result.offset ?? '-1');
      group.items.forEach((pending, index) => this.settle(pending, `${group.topic}-${group.partition}-${base + BigInt(index)}`));
    }
    for (const pending of batch) {
      this.settle(pending, new ComponentError('internal', `kafka pubsub: the brokers accepted the batch but reported no offset for "${pending.topic}"`));
    }
  }

  async subscribe(topic: string, group: string, handler: MessageHandler): Promise<Subscription> {
    if (this.closed) throw new ComponentError('unavailable', 'kafka pubsub is closed');
    if (!topic) throw new ComponentError('invalid', 'topic name must not be empty');
    if (!TOPIC_NAME.test(topic)) {
      throw new ComponentError('invalid', `kafka topic names use only letters, digits, ".", "_" and "-" (at most 249), got ${JSON.stringify(topic)}`);
    }
    if (!group) throw new ComponentError('invalid', 'consumer group name must not be empty');
    const subscriber = new KafkaSubscriber(this, topic, group, handler);
    try {
      await subscriber.start();
    } catch (error) {
      await subscriber.close();
      if (error instanceof ComponentError) throw error;
      throw new ComponentError('unavailable', `kafka pubsub: cannot subscribe group "${group}" to "${topic}" on ${this.brokerList}: ${(error as Error).message}`, { cause: error });
    }
    this.subscribers.add(subscriber);
    return subscriber;
  }

  forget(subscriber: KafkaSubscriber): void {
    this.subscribers.delete(subscriber);
  }
}

/** Builds the backend from a runtime config spec (`components.pubsub.<name>`, type kafka). */
export function kafkaPubSubFromSpec(name: string, spec: Spec): KafkaPubSub {
  const where = `components.pubsub.${name}`;
  const numbers = ['partitions', 'connectionTimeoutMs', 'requestTimeoutMs', 'publishTimeoutMs', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'redeliverMs', 'commitEvery', 'commitIntervalMs', 'partitionConcurrency'] as const;
  checkKnown(spec, where, ['brokers', 'clientId', 'replicationFactor', 'ssl', 'sasl', 'logLevel', ...numbers]);
  const brokers = specList(spec, 'brokers', where) ?? ['127.0.0.1:9092'];
  const options: KafkaPubSubOptions = { brokers, clientId: specString(spec, 'clientId', where) ?? `l8-${name}-${hostname()}` };
  for (const key of numbers) {
    const value = specNumber(spec, key, where, { min: 1, integer: true });
    if (value !== undefined) options[key] = value;
  }
  const replicationFactor = specNumber(spec, 'replicationFactor', where, { min: 1, integer: true, allow: [-1] });
  if (replicationFactor !== undefined) options.replicationFactor = replicationFactor;
  const ssl = specBoolean(spec, 'ssl', where);
  if (ssl !== undefined) options.ssl = ssl;
  const logLevel = specString(spec, 'logLevel', where);
  if (logLevel !== undefined) options.logLevel = logLevel as KafkaLogLevel;
  if (spec.sasl !== undefined) {
    const sasl = spec.sasl as Spec;
    const mechanism = specString(sasl ?? {}, 'mechanism', `${where}.sasl`);
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new ComponentError('invalid', `${where}.sasl: "mechanism" must be plain, scram-sha-256 or scram-sha-512, got ${JSON.stringify(mechanism)}`);
    }
    const username = specString(sasl, 'username', `${where}.sasl`);
    const password = specString(sasl, 'password', `${where}.sasl`);
    if (!username || password === undefined) throw new ComponentError('invalid', `${where}.sasl: needs "username" and "password" (reference the password as \${KAFKA_PASSWORD})`);
    options.sasl = { mechanism, username, password } as SASLOptions;
  }
  return new KafkaPubSub(options);
}
