// Pub/sub delivery to an app without gRPC, the way Dapr does it for HTTP apps: at start L8
// asks GET <app>/dapr/subscribe for the app's subscriptions
// ([{"pubsubname", "topic", "route", "metadata"?, "deadLetterTopic"?}]) and POSTs each
// message to <app><route> as a CloudEvent (application/cloudevents+json). The answer
// decides, as Dapr's does: 2xx with {"status": "RETRY" | "DROP"} does that, any other 2xx is
// SUCCESS, 404 is DROP, every other status (or no answer) is a failed attempt to retry.
// Delivery follows the same policy as everywhere else (app-events.ts).
import type { Logger } from 'pino';
import type { AppEvents, EventStatus, TopicEvent } from './app-events.ts';
import { AppSubscriber, type AppCallbackHealth } from './app-subscriber.ts';

interface HttpSubscription {
  pubsubname: string;
  topic: string;
  route: string;
  metadata?: Record<string, string>;
  deadLetterTopic?: string;
}

/** The CloudEvent L8 posts for one message; data is the JSON value when the bytes are JSON, else data_base64. */
export function cloudEvent(event: TopicEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    specversion: '1.0',
    id: event.id,
    source: event.source,
    type: event.type,
    datacontenttype: event.data_content_type,
    topic: event.topic,
    pubsubname: event.pubsub_name,
    metadata: event.metadata,
  };
  try {
    out.data = JSON.parse(event.data.toString('utf8'));
  } catch {
    out.data_base64 = event.data.toString('base64');
  }
  return out;
}

function parseSubscriptions(body: unknown, url: string): HttpSubscription[] {
  if (!Array.isArray(body)) throw new Error(`GET ${url} must answer a JSON array of {"pubsubname", "topic", "route"}`);
  return body.map((raw, i) => {
    const s = (raw ?? {}) as Record<string, unknown>;
    if (typeof s.pubsubname !== 'string' || typeof s.topic !== 'string' || !s.topic) throw new Error(`GET ${url}: item ${i} needs "pubsubname" and "topic"`);
    const route = typeof s.route === 'string' && s.route ? s.route : `/${s.topic}`;
    const out: HttpSubscription = { pubsubname: s.pubsubname, topic: s.topic, route: route.startsWith('/') ? route : `/${route}` };
    if (s.metadata && typeof s.metadata === 'object') out.metadata = s.metadata as Record<string, string>;
    if (typeof s.deadLetterTopic === 'string' && s.deadLetterTopic) out.deadLetterTopic = s.deadLetterTopic;
    return out;
  });
}

export class AppHttpSubscriber extends AppSubscriber {
  private readonly base: string;
  protected readonly app: { logFields: Record<string, string>; name: string };

  constructor(base: string, events: AppEvents, logger: Logger, deliveryTimeoutMs: number) {
    super(events, logger, deliveryTimeoutMs);
    this.base = base.replace(/\/$/, '');
    this.app = { logFields: { app: this.base }, name: `HTTP app at ${this.base}` };
  }

  protected async askSubscriptions() {
    const url = `${this.base}/dapr/subscribe`;
    let wanted: HttpSubscription[];
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      // An app without subscriptions may not serve the path at all.
      if (response.status === 404) wanted = [];
      else if (!response.ok) throw new Error(`GET ${url} answered HTTP ${response.status}`);
      else wanted = parseSubscriptions(await response.json(), url);
    } catch (error) {
      throw new Error(`GET ${url} failed: ${(error as Error).message}`);
    }
    return wanted.map((s) => ({
      pubsub: s.pubsubname,
      topic: s.topic,
      metadata: s.metadata ?? {},
      deadLetterTopic: s.deadLetterTopic,
      via: `HTTP ${this.base}${s.route}`,
      send: (event: TopicEvent) => this.post(s.route, event),
      describe: `${s.pubsubname}/${s.topic} -> ${s.route}`,
    }));
  }

  private async post(route: string, event: TopicEvent): Promise<EventStatus> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(cloudEvent(event)),
        signal: AbortSignal.timeout(this.deliveryTimeoutMs),
      });
    } catch (error) {
      this.lastError = `POST ${this.base}${route} failed: ${(error as Error).message}`;
      throw new Error(this.lastError);
    }
    this.lastError = '';
    const text = await response.text();
    if (response.status === 404) return 'DROP';
    if (!response.ok) throw new Error(`POST ${this.base}${route} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
    try {
      const status = (JSON.parse(text) as { status?: unknown }).status;
      if (status === 'RETRY' || status === 'DROP') return status;
    } catch {
      // Not JSON: a plain 2xx is SUCCESS.
    }
    return 'SUCCESS';
  }

  health(): AppCallbackHealth {
    if (!this.subscribed) return { status: 'INIT', reason: this.lastError || `waiting for the app at ${this.base} to answer GET /dapr/subscribe` };
    return { status: 'UP' };
  }
}
