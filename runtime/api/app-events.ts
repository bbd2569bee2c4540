// Delivering pub/sub messages to the app, as Layotto's TopicEventRequest, through either
// path an app may choose: the app's AppCallback server (OnTopicEvent) or a
// SubscribeTopicEvents stream the app opened. Both use the delivery policy of function
// subscriptions (runtime/triggers/pubsub.ts): retries with backoff, then the dead-letter
// topic, acknowledged only after that, so delivery is at-least-once.
import type { Logger } from 'pino';
import type { Message, Subscription } from '../../components/pubsub/contract.ts';
import { deliverWithPolicy, type DeliveryResult } from '../triggers/pubsub.ts';
import type { Runtime } from '../runtime.ts';
import { ApiError } from './errors.ts';
import type { ApiSettings } from './settings.ts';

/** The app's answer to one event (Layotto's TopicEventResponse.TopicEventResponseStatus). */
export type EventStatus = 'SUCCESS' | 'RETRY' | 'DROP';

/** spec.proto.runtime.v1.TopicEventRequest, as proto-loader objects. */
export interface TopicEvent {
  id: string;
  source: string;
  type: string;
  spec_version: string;
  data_content_type: string;
  data: Buffer;
  topic: string;
  pubsub_name: string;
  metadata: Record<string, string>;
}

export function topicEvent(pubsub: string, message: Message): TopicEvent {
  return {
    id: message.id,
    source: `l8/${pubsub}`,
    type: 'l8.message',
    spec_version: '1.0',
    data_content_type: message.metadata['content-type'] ?? 'application/octet-stream',
    data: Buffer.from(message.data),
    topic: message.topic,
    pubsub_name: pubsub,
    metadata: message.metadata,
  };
}

export interface AppSubscriptionRequest {
  pubsub: string;
  topic: string;
  metadata: Record<string, string>;
  deadLetterTopic?: string;
  /** "stream" or "app callback", for logs and messages. */
  via: string;
  /** Sends one event to the app; resolves with its answer. */
  send(event: TopicEvent): Promise<EventStatus>;
}

/** The consumer group of an app subscription: metadata consumerGroup (or Dapr's consumerID), else l8-app-<appId>. */
export function appGroup(appId: string, metadata: Record<string, string>): string {
  return metadata.consumerGroup || metadata.consumerID || `l8-app-${appId}`;
}

export class AppEvents {
  private readonly runtime: Runtime;
  private readonly settings: ApiSettings;
  private readonly logger: Logger;

  constructor(runtime: Runtime, settings: ApiSettings, logger: Logger) {
    this.runtime = runtime;
    this.settings = settings;
    this.logger = logger;
  }

  /** Subscribes the app to a topic; messages go through `request.send` until the subscription is closed. */
  async subscribe(request: AppSubscriptionRequest): Promise<Subscription> {
    const { pubsub, topic } = request;
    if (!topic) throw new ApiError('INVALID_ARGUMENT', 'topic must not be empty');
    const broker = this.runtime.components.get('pubsub', pubsub || 'default');
    if (!broker) {
      const known = this.runtime.components.names('pubsub');
      throw new ApiError('INVALID_ARGUMENT', `no pubsub component named "${pubsub || 'default'}" is configured (configured: ${known.join(', ') || 'none'}); add it under components.pubsub in the runtime config`);
    }
    const brokerName = pubsub || 'default';
    const appId = this.settings.appId;
    let closed = false;
    const policy = { policy: this.runtime.config.delivery, components: this.runtime.components, logger: this.logger };
    const subscription = await broker.subscribe(topic, appGroup(appId, request.metadata), (message) =>
      deliverWithPolicy(policy, message, {
        subscriber: `app "${appId}" (${request.via})`,
        brokerName,
        deadLetterTopic: request.deadLetterTopic,
        deadLetterMetadata: { 'l8.app': appId },
        closed: () => closed,
        logFields: { app: appId, via: request.via },
        attempt: async (): Promise<DeliveryResult> => {
          const status = await request.send(topicEvent(brokerName, message));
          if (status === 'SUCCESS') return null;
          if (status === 'DROP') return { drop: `the app answered DROP for message ${message.id}` };
          return `the app answered RETRY for message ${message.id}`;
        },
      }),
    );
    this.logger.info({ pubsub: brokerName, topic, via: request.via }, `app "${appId}" subscribed to ${brokerName}/${topic} (${request.via})`);
    return {
      close: async () => {
        closed = true;
        await subscription.close();
      },
    };
  }
}
