// The pub/sub building block. Backends guarantee at-least-once delivery to each
// consumer group: a message is acknowledged (offset committed, stream entry acked) only
// after the handler resolved. Retries, backoff and dead-lettering are the runtime's
// delivery policy (runtime/triggers/pubsub.ts), the same for every backend.
import type { Component } from '../errors.ts';

export interface Message {
  /** The id publish() returned. */
  id: string;
  topic: string;
  data: Uint8Array;
  metadata: Record<string, string>;
}

/** Resolve to acknowledge; reject to leave the message unacknowledged (redelivered later). */
export type MessageHandler = (message: Message) => Promise<void>;

export interface Subscription {
  /** Stops delivery; messages not acknowledged yet are redelivered to the group later. */
  close(): Promise<void>;
}

/** Metadata key that selects the ordering key (Kafka message key, Dapr's name). */
export const PARTITION_KEY = 'partitionKey';

export interface PubSub extends Component {
  /** Publishes and resolves once the broker has accepted it; returns the message id. */
  publish(topic: string, data: Uint8Array, metadata?: Record<string, string>): Promise<string>;
  /** Delivers messages of `topic` to `group`, one consumer group per subscriber. */
  subscribe(topic: string, group: string, handler: MessageHandler): Promise<Subscription>;
}
