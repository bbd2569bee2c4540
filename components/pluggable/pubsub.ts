// A pub/sub broker served by a pluggable component (Dapr's PubSub), behind L8's PubSub
// contract. Publish carries L8's message id in the metadata ("l8-message-id"), because
// Dapr's Publish returns none. A subscription is one PullMessages stream per (topic,
// group) — the group travels as the "consumerID" metadata, Dapr's name for it — and a
// message is acknowledged only after the handler resolved (a rejection is sent back as an
// ack error, so the component redelivers it). A broken stream is reopened with backoff
// until the subscription is closed.
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { Message, MessageHandler, PubSub, Subscription } from '../pubsub/contract.ts';
import type { PluggableConnection } from './connection.ts';
import { method, type Message as Proto } from './protocol.ts';

const m = {
  init: method('pubsub', 'Init'),
  features: method('pubsub', 'Features'),
  ping: method('pubsub', 'Ping'),
  publish: method('pubsub', 'Publish'),
  pull: method('pubsub', 'PullMessages'),
};

export const MESSAGE_ID_KEY = 'l8-message-id';

/**
 * How long subscribe() waits for the component to confirm a new stream. A component that
 * sends response headers once the subscription is in place (grpc-go: SendHeader) is
 * confirmed at once; one that sends nothing before its first message is assumed
 * subscribed after this long.
 */
const CONFIRM_MS = 1500;
const MAX_BACKOFF_MS = 2000;

export interface PluggablePubSubOptions {
  connection: PluggableConnection;
  properties: Record<string, string>;
}

export class PluggablePubSub implements PubSub {
  readonly kind: string;
  private readonly options: PluggablePubSubOptions;
  private readonly connection: PluggableConnection;
  private readonly subscriptions = new Set<PullSubscription>();

  constructor(options: PluggablePubSubOptions) {
    this.options = options;
    this.connection = options.connection;
    this.kind = options.connection.options.type;
  }

  async init(): Promise<void> {
    await this.connection.init(async () => {
      await this.connection.rawUnary(m.init, { metadata: { properties: this.options.properties } }, 'Init');
      await this.connection.rawUnary(m.features, {}, 'Features');
    });
  }

  health(): Promise<ComponentHealth> {
    return this.connection.health(m.ping);
  }

  async close(): Promise<void> {
    for (const subscription of this.subscriptions) await subscription.close();
    this.connection.close();
  }

  async publish(topic: string, data: Uint8Array, metadata: Record<string, string> = {}): Promise<string> {
    if (!topic) throw new ComponentError('invalid', 'topic must not be empty');
    const id = randomUUID();
    await this.connection.unary(
      m.publish,
      { data: Buffer.from(data), pubsub_name: this.connection.options.name, topic, metadata: { ...metadata, [MESSAGE_ID_KEY]: id }, content_type: metadata['content-type'] ?? '' },
      `Publish to topic "${topic}"`,
    );
    return id;
  }

  async subscribe(topic: string, group: string, handler: MessageHandler): Promise<Subscription> {
    if (!topic) throw new ComponentError('invalid', 'topic must not be empty');
    const subscription = new PullSubscription(this.connection, topic, group, handler, () => this.subscriptions.delete(subscription));
    try {
      await subscription.open();
    } catch (error) {
      await subscription.close();
      throw error;
    }
    this.subscriptions.add(subscription);
    return subscription;
  }
}

class PullSubscription implements Subscription {
  private call: grpc.ClientDuplexStream<Proto, Proto> | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly connection: PluggableConnection;
  private readonly topic: string;
  private readonly group: string;
  private readonly handler: MessageHandler;
  private readonly forget: () => void;

  constructor(connection: PluggableConnection, topic: string, group: string, handler: MessageHandler, forget: () => void) {
    this.connection = connection;
    this.topic = topic;
    this.group = group;
    this.handler = handler;
    this.forget = forget;
  }

  /** Opens the stream; resolves once the component confirmed it (or after CONFIRM_MS). */
  async open(): Promise<void> {
    const call = await this.connection.bidi(m.pull);
    this.call = call;
    const confirmed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, CONFIRM_MS);
      call.once('metadata', () => {
        clearTimeout(timer);
        resolve();
      });
      call.once('error', (error) => {
        clearTimeout(timer);
        reject(this.connection.error(error, `PullMessages of topic "${this.topic}"`));
      });
    });
    call.on('data', (response: Proto) => this.deliver(call, response));
    call.on('error', () => this.broken(call));
    call.on('end', () => this.broken(call));
    call.write({ topic: { name: this.topic, metadata: { consumerID: this.group } } });
    await confirmed;
    this.failures = 0;
  }

  private deliver(call: grpc.ClientDuplexStream<Proto, Proto>, response: Proto): void {
    const metadata: Record<string, string> = { ...(response.metadata ?? {}) };
    const id = metadata[MESSAGE_ID_KEY] || response.id;
    delete metadata[MESSAGE_ID_KEY];
    const message: Message = { id, topic: response.topic_name || this.topic, data: new Uint8Array(response.data ?? []), metadata };
    const ack = (error?: unknown) => {
      // After close (or once this stream was replaced) nothing is acknowledged: the
      // component gives the message to the next subscriber of the group.
      if (this.closed || this.call !== call) return;
      const request: Proto = { ack_message_id: response.id };
      if (error !== undefined) request.ack_error = { message: error instanceof Error ? error.message : String(error) };
      call.write(request);
    };
    this.handler(message).then(() => ack(), (error) => ack(error ?? new Error('handler failed')));
  }

  /** The stream ended or failed: drop it and open a new one after a backoff. */
  private broken(call: grpc.ClientDuplexStream<Proto, Proto>): void {
    if (this.call !== call) return;
    this.call = null;
    call.cancel();
    this.reopenLater();
  }

  private reopenLater(): void {
    if (this.closed || this.retry) return;
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures++);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.closed) return;
      this.open().catch(() => {
        if (!this.call) this.reopenLater();
      });
    }, delay);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.call?.cancel();
    this.call = null;
    this.forget();
  }
}
