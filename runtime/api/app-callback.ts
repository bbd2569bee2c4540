// The app's side of pub/sub through Layotto's AppCallback service: at start L8 asks the
// app's gRPC server for its subscriptions (ListTopicSubscriptions), subscribes to each, and
// delivers every message with OnTopicEvent, whose SUCCESS / RETRY / DROP answer decides what
// happens next (see app-events.ts). Until the app has answered, readiness stays INIT: an app
// that starts after L8 is waited for, retrying with backoff.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AppEvents, EventStatus, TopicEvent } from './app-events.ts';
import { AppSubscriber, type AppCallbackHealth } from './app-subscriber.ts';
import { APP_CALLBACK_SERVICE, service } from './protos.ts';

type Msg = Record<string, any>;

export type { AppCallbackHealth } from './app-subscriber.ts';

export class AppCallbackClient extends AppSubscriber {
  private readonly address: string;
  private readonly client: grpc.Client;
  protected readonly app: { logFields: Record<string, string>; name: string };
  /** The subscriptions the app asked for, once it answered. */
  topics: Array<{ pubsub_name: string; topic: string; metadata: Record<string, string> }> = [];

  constructor(address: string, events: AppEvents, logger: Logger, deliveryTimeoutMs: number) {
    super(events, logger, deliveryTimeoutMs);
    this.address = address;
    this.app = { logFields: { appCallback: address }, name: `app callback at ${address}` };
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

  protected async askSubscriptions() {
    let response: Msg;
    try {
      response = await this.call('ListTopicSubscriptions', {}, 5000);
    } catch (error) {
      const e = error as grpc.ServiceError;
      throw new Error(`ListTopicSubscriptions at ${this.address} failed: ${e.details || e.message}`);
    }
    this.topics = (response.subscriptions ?? []) as AppCallbackClient['topics'];
    return this.topics.map((t) => ({
      pubsub: t.pubsub_name,
      topic: t.topic,
      metadata: t.metadata ?? {},
      via: `app callback ${this.address}`,
      send: (event: TopicEvent) => this.onTopicEvent(event),
      describe: `${t.pubsub_name}/${t.topic}`,
    }));
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

  override async close(): Promise<void> {
    await super.close();
    this.client.close();
  }
}
