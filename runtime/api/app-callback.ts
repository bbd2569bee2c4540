// The app's side of pub/sub through Layotto's AppCallback service: at start L8 asks the
// app's gRPC server for its subscriptions (ListTopicSubscriptions), subscribes to each, and
// delivers every message with OnTopicEvent, whose SUCCESS / RETRY / DROP answer decides what
// happens next (see app-events.ts). Until the app has answered, readiness stays INIT: an app
// that starts after L8 is waited for, retrying with backoff.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Subscription } from '../../components/pubsub/contract.ts';
import type { AppEvents, EventStatus, TopicEvent } from './app-events.ts';
import { APP_CALLBACK_SERVICE, service } from './protos.ts';

type Msg = Record<string, any>;

export interface AppCallbackHealth {
  status: 'INIT' | 'UP' | 'DOWN';
  reason?: string;
}

export class AppCallbackClient {
  private readonly address: string;
  private readonly client: grpc.Client;
  private readonly events: AppEvents;
  private readonly logger: Logger;
  private readonly deliveryTimeoutMs: number;
  private readonly subscriptions: Subscription[] = [];
  private subscribed = false;
  private lastError = '';
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  /** The subscriptions the app asked for, once it answered. */
  topics: Array<{ pubsub_name: string; topic: string; metadata: Record<string, string> }> = [];

  constructor(address: string, events: AppEvents, logger: Logger, deliveryTimeoutMs: number) {
    this.address = address;
    this.events = events;
    this.logger = logger;
    this.deliveryTimeoutMs = deliveryTimeoutMs;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    });
  }

  private call(name: 'ListTopicSubscriptions' | 'OnTopicEvent', request: Msg, timeoutMs: number): Promise<Msg> {
    const method = service(APP_CALLBACK_SERVICE)[name]!;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(method.path, method.requestSerialize as (v: Msg) => Buffer, method.responseDeserialize as (b: Buffer) => Msg, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response!),
      );
    });
  }

  /** Starts asking the app for its subscriptions in the background; health says when done. */
  start(): void {
    void this.attempt(0);
  }

  private async attempt(failures: number): Promise<void> {
    if (this.closed) return;
    try {
      const response = await this.call('ListTopicSubscriptions', {}, 5000);
      this.topics = (response.subscriptions ?? []) as AppCallbackClient['topics'];
      for (const t of this.topics) {
        this.subscriptions.push(
          await this.events.subscribe({
            pubsub: t.pubsub_name,
            topic: t.topic,
            metadata: t.metadata ?? {},
            via: `app callback ${this.address}`,
            send: (event) => this.onTopicEvent(event),
          }),
        );
      }
      this.subscribed = true;
      this.lastError = '';
      this.logger.info({ appCallback: this.address, subscriptions: this.topics.map((t) => `${t.pubsub_name}/${t.topic}`) }, `app callback at ${this.address} subscribed to ${this.topics.length} topic(s)`);
    } catch (error) {
      for (const s of this.subscriptions.splice(0)) await s.close().catch(() => {});
      const e = error as grpc.ServiceError;
      this.lastError = `ListTopicSubscriptions at ${this.address} failed: ${e.details || e.message}`;
      if (failures === 0 || failures % 10 === 0) this.logger.warn({ appCallback: this.address }, `${this.lastError}; retrying until the app answers (readiness stays INIT)`);
      if (this.closed) return;
      this.retry = setTimeout(() => void this.attempt(failures + 1), Math.min(2000, 100 * 2 ** failures));
    }
  }

  private async onTopicEvent(event: TopicEvent): Promise<EventStatus> {
    try {
      const response = await this.call('OnTopicEvent', event, this.deliveryTimeoutMs);
      this.lastError = '';
      return (response.status ?? 'SUCCESS') as EventStatus;
    } catch (error) {
      const e = error as grpc.ServiceError;
      if (e.code === grpc.status.UNAVAILABLE) this.lastError = `the app callback at ${this.address} is unreachable: ${e.details}`;
      throw new Error(`OnTopicEvent at ${this.address} failed: ${e.details || e.message}`);
    }
  }

  /** INIT until the app told its subscriptions; DOWN while it cannot be reached. */
  health(): AppCallbackHealth {
    if (!this.subscribed) return { status: 'INIT', reason: this.lastError || `waiting for the app callback at ${this.address} to answer ListTopicSubscriptions` };
    const state = this.client.getChannel().getConnectivityState(true);
    if (state === grpc.connectivityState.TRANSIENT_FAILURE) return { status: 'DOWN', reason: this.lastError || `the app callback at ${this.address} is unreachable` };
    return { status: 'UP' };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    for (const s of this.subscriptions.splice(0)) await s.close().catch(() => {});
    this.client.close();
  }
}
