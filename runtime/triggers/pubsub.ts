// The pub/sub trigger: keeps one subscription per (function, broker, topic), consumer
// group "l8-<function>", and applies the delivery policy the same way for every backend:
// up to maxAttempts tries with exponential backoff, then the message goes to the
// dead-letter topic with the error attached, and only then is it acknowledged. If even the
// dead-letter publish fails, the message stays unacknowledged and the broker redelivers
// it later: nothing accepted is lost.
import type { Logger } from 'pino';
import type { Message, Subscription } from '../../components/pubsub/contract.ts';
import { toL8Error } from '../../host/errors.ts';
import type { ComponentSet } from '../components.ts';
import type { DeliveryPolicy } from '../config.ts';
import { FunctionTable } from '../function-table.ts';

export interface PubsubTriggerOptions {
  table: FunctionTable;
  components: ComponentSet;
  policy: DeliveryPolicy;
  logger: Logger;
  observe?: (event: { fn: string; topic: string; outcome: 'delivered' | 'retried' | 'dead-lettered' }) => void;
}

interface Active {
  key: string;
  subscription: Subscription;
}

export const consumerGroup = (fn: string) => `l8-${fn}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PubsubTrigger {
  private readonly active = new Map<string, Active>();
  private readonly options: PubsubTriggerOptions;
  private syncing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: PubsubTriggerOptions) {
    this.options = options;
    options.table.onChange(() => void this.sync());
  }

  /** Subscribes new (function, broker, topic) triples and closes the ones no longer declared. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.reconcile()).catch((error) => {
      this.options.logger.error({ err: error }, 'pub/sub trigger: subscription update failed');
    });
    return this.syncing;
  }

  private async reconcile(): Promise<void> {
    if (this.closed) return;
    const wanted = new Map<string, { fn: string; broker: string; topic: string }>();
    for (const fn of this.options.table.list()) {
      for (const s of fn.manifest.subscriptions) wanted.set(`${fn.name}\0${s.broker}\0${s.topic}`, { fn: fn.name, ...s });
    }
    for (const [key, active] of this.active) {
      if (!wanted.has(key)) {
        await active.subscription.close();
        this.active.delete(key);
      }
    }
    for (const [key, want] of wanted) {
      if (this.active.has(key)) continue;
      const broker = this.options.components.get('pubsub', want.broker);
      if (!broker) {
        this.options.logger.error({ fn: want.fn, broker: want.broker }, `function "${want.fn}" subscribes to broker "${want.broker}", which is not configured; add it under components.pubsub`);
        continue;
      }
      const subscription = await broker.subscribe(want.topic, consumerGroup(want.fn), (message) => this.handle(want.fn, want.broker, message));
      this.active.set(key, { key, subscription });
    }
  }

  private handle(fn: string, brokerName: string, message: Message): Promise<void> {
    const { table } = this.options;
    return deliverWithPolicy(this.options, message, {
      subscriber: `function "${fn}"`,
      brokerName,
      deadLetterMetadata: { 'l8.function': fn },
      closed: () => this.closed,
      attempt: (requestId) =>
        table.deliver(fn, {
          id: message.id,
          broker: brokerName,
          topic: message.topic,
          data: message.data,
          metadata: Object.entries(message.metadata),
        }, requestId),
      logFields: { fn },
      observe: (outcome) => this.options.observe?.({ fn, topic: message.topic, outcome }),
      // Also in the function's own logs, where its author looks (l8 logs <name>).
      deadLettered: (note) => table.log(fn, message.id, 'error', note, 'runtime'),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.syncing;
    for (const active of this.active.values()) await active.subscription.close().catch(() => {});
    this.active.clear();
  }
}

/** What one attempt to deliver a message to a subscriber returned. */
export type DeliveryResult =
  | null // delivered
  | string // failed with this error: retried per the policy
  | { drop: string }; // the subscriber refused it for good: dead-lettered at once

/** One subscriber of one message, for deliverWithPolicy. */
export interface DeliveryTarget {
  /** Who receives it, for messages: 'function "orders"', 'app "shop"'. */
  subscriber: string;
  brokerName: string;
  /** Defaults to the topic + the policy's deadLetterSuffix. */
  deadLetterTopic?: string;
  /** Added to the dead letter's metadata, naming the subscriber (l8.function, l8.app). */
  deadLetterMetadata: Record<string, string>;
  /** True once the subscriber is gone: the message then stays unacknowledged. */
  closed(): boolean;
  attempt(requestId: string): Promise<DeliveryResult>;
  logFields?: Record<string, unknown>;
  observe?(outcome: 'delivered' | 'retried' | 'dead-lettered'): void;
  deadLettered?(note: string): void;
}

/**
 * The delivery policy, the same for functions and apps: up to maxAttempts tries with
 * exponential backoff and jitter, then the dead-letter topic with the last error attached,
 * and only then does it resolve (which acknowledges the message). It rejects, leaving the
 * message unacknowledged for the broker to redeliver, when the subscriber went away or the
 * dead-letter publish failed.
 */
export async function deliverWithPolicy(
  options: { policy: DeliveryPolicy; components: ComponentSet; logger: Logger },
  message: Message,
  target: DeliveryTarget,
): Promise<void> {
  const { policy, logger } = options;
  let lastError = '';
  let attempts = 0;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    if (target.closed()) throw new Error(`${target.subscriber} is gone (runtime shutting down or subscription closed); the message stays unacknowledged`);
    const requestId = FunctionTable.newRequestId();
    attempts = attempt;
    let result: DeliveryResult;
    try {
      result = await target.attempt(requestId);
    } catch (error) {
      result = toL8Error(error).message;
    }
    if (result === null) {
      target.observe?.('delivered');
      return;
    }
    if (typeof result === 'object') {
      lastError = result.drop;
      logger.warn({ ...target.logFields, topic: message.topic, messageId: message.id, attempt, requestId }, `${target.subscriber} dropped the message: ${lastError}`);
      break;
    }
    lastError = result;
    logger.warn({ ...target.logFields, topic: message.topic, messageId: message.id, attempt, requestId }, `delivery failed: ${lastError}`);
    if (attempt < policy.maxAttempts) {
      target.observe?.('retried');
      const backoff = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1));
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }
  const broker = options.components.require('pubsub', target.brokerName);
  const deadLetter = target.deadLetterTopic || `${message.topic}${policy.deadLetterSuffix}`;
  const deadLetterId = await broker.publish(deadLetter, message.data, {
    ...message.metadata,
    'l8.error': lastError,
    'l8.attempts': String(attempts),
    ...target.deadLetterMetadata,
    'l8.original-topic': message.topic,
    'l8.original-id': message.id,
  });
  const note = `message ${message.id} of topic "${message.topic}" failed ${attempts} time${attempts === 1 ? '' : 's'} and was moved to "${deadLetter}" as ${deadLetterId}: ${lastError}`;
  logger.error({ ...target.logFields, topic: message.topic, messageId: message.id, deadLetter, deadLetterId }, note);
  target.deadLettered?.(note);
  target.observe?.('dead-lettered');
}
