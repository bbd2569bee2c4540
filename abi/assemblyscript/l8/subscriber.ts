import { Field, findField } from "./field";
import { decodeBytes } from "./utf8";

/** A pub/sub message delivered to a subscriber. */
export class Message {
  /** Broker-assigned id, the same one `pubsub.publish` returned. */
  id: string;
  /** Name of the pub/sub component (broker) it came from. */
  broker: string;
  topic: string;
  data: Uint8Array;
  metadata: Field[];

  constructor(id: string, broker: string, topic: string, data: Uint8Array, metadata: Field[]) {
    this.id = id;
    this.broker = broker;
    this.topic = topic;
    this.data = data;
    this.metadata = metadata;
  }

  /** The data decoded as UTF-8 (invalid bytes become U+FFFD). */
  text(): string {
    return decodeBytes(this.data);
  }

  /** The first metadata value called `name` (any case), or null. */
  meta(name: string): string | null {
    return findField(this.metadata, name);
  }
}

/**
 * A function that receives messages: return null when the message was handled, or an
 * error text to make the host retry it (with backoff) and finally dead-letter it.
 */
export type MessageHandler = (message: Message) => string | null;

let registered: MessageHandler | null = null;

export namespace subscriber {
  /**
   * Registers the function's message handler. Call it once, at the top level of the
   * entry file: the build exports the ABI's `on-message` only when it is called.
   */
  export function handle(handler: MessageHandler): void {
    if (registered !== null) abort("subscriber.handle was called twice; a function has one message handler (dispatch on message.topic inside it)");
    registered = handler;
  }
}

/** The registered handler, for the export glue. */
export function messageHandler(): MessageHandler {
  const handler = registered;
  if (handler === null) abort("no message handler is registered: call subscriber.handle(...) at the top level of the function's entry file");
  return handler!;
}
