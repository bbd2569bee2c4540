// Pub/sub in process memory: each consumer group gets every message published after it
// subscribed, in order, one at a time; a rejected delivery is retried. Nothing survives
// a restart. Bounded: publishing to a group that is too far behind fails instead of
// growing memory without limit.
import { randomUUID } from 'node:crypto';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { Message, MessageHandler, PubSub, Subscription } from './contract.ts';

export interface MemoryPubSubOptions {
  /** Undelivered messages allowed per consumer group before publish fails. */
  maxPending?: number;
  /** Wait before redelivering a message whose handler rejected. */
  redeliverMs?: number;
}

class Group {
  readonly queue: Message[] = [];
  handler: MessageHandler | null = null;
  private running = false;
  private closed = false;
  private readonly redeliverMs: number;

  constructor(redeliverMs: number) {
    this.redeliverMs = redeliverMs;
  }

  push(message: Message): void {
    this.queue.push(message);
    this.pump();
  }

  attach(handler: MessageHandler): void {
    this.handler = handler;
    this.closed = false;
    this.pump();
  }

  detach(): void {
    this.handler = null;
  }

  stop(): void {
    this.closed = true;
    this.handler = null;
  }

  private pump(): void {
    if (this.running || this.closed || !this.handler || this.queue.length === 0) return;
    this.running = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    while (this.handler && this.queue.length > 0 && !this.closed) {
      const message = this.queue[0]!;
      try {
        await this.handler(message);
        this.queue.shift(); // acknowledged
      } catch {
        await new Promise((r) => setTimeout(r, this.redeliverMs));
      }
    }
    this.running = false;
    if (this.handler && this.queue.length > 0 && !this.closed) this.pump();
  }
}

export class MemoryPubSub implements PubSub {
  readonly kind = 'memory';
  /** topic -> group -> state */
  private readonly topics = new Map<string, Map<string, Group>>();
  private readonly maxPending: number;
  private readonly redeliverMs: number;

  constructor(options: MemoryPubSubOptions = {}) {
    this.maxPending = options.maxPending ?? 100_000;
    this.redeliverMs = options.redeliverMs ?? 100;
  }

  async init(): Promise<void> {}

  async health(): Promise<ComponentHealth> {
    return { status: 'UP' };
  }

  async close(): Promise<void> {
    for (const groups of this.topics.values()) for (const group of groups.values()) group.stop();
    this.topics.clear();
  }

  async publish(topic: string, data: Uint8Array, metadata: Record<string, string> = {}): Promise<string> {
    if (!topic) throw new ComponentError('invalid', 'topic name must not be empty');
    const groups = this.topics.get(topic);
    for (const [name, group] of groups ?? []) {
      if (group.queue.length >= this.maxPending) {
        throw new ComponentError('unavailable', `consumer group "${name}" of topic "${topic}" has ${group.queue.length} undelivered messages; publish again once it has caught up`);
      }
    }
    const id = randomUUID();
    for (const group of groups?.values() ?? []) {
      group.push({ id, topic, data: data.slice(), metadata: { ...metadata } });
    }
    return id;
  }

  async subscribe(topic: string, groupName: string, handler: MessageHandler): Promise<Subscription> {
    let groups = this.topics.get(topic);
    if (!groups) this.topics.set(topic, (groups = new Map()));
    let group = groups.get(groupName);
    if (!group) groups.set(groupName, (group = new Group(this.redeliverMs)));
    if (group.handler) throw new ComponentError('invalid', `consumer group "${groupName}" already has a subscriber on topic "${topic}"`);
    group.attach(handler);
    const attached = group;
    return {
      close: async () => {
        // The group keeps its queue: a re-subscription (new version) continues from there.
        attached.detach();
      },
    };
  }
}
