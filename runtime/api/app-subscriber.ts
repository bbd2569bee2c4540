// What both ways of delivering to an app share (gRPC AppCallback, HTTP /dapr/subscribe):
// ask the app for its subscriptions at start, subscribe to each, and, while the app does not
// answer, retry with backoff and keep readiness at INIT. Each subclass only says how to ask
// and how to deliver.
import type { Logger } from 'pino';
import type { Subscription } from '../../components/pubsub/contract.ts';
import type { AppEvents, AppSubscriptionRequest } from './app-events.ts';

export interface AppCallbackHealth {
  status: 'INIT' | 'UP' | 'DOWN';
  reason?: string;
}

export abstract class AppSubscriber {
  protected readonly events: AppEvents;
  protected readonly logger: Logger;
  protected readonly deliveryTimeoutMs: number;
  /** The app's last failure, for health and logs; cleared by the next success. */
  protected lastError = '';
  protected subscribed = false;
  private readonly subscriptions: Subscription[] = [];
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(events: AppEvents, logger: Logger, deliveryTimeoutMs: number) {
    this.events = events;
    this.logger = logger;
    this.deliveryTimeoutMs = deliveryTimeoutMs;
  }

  /** The app, for log lines: fields and a phrase such as `app callback at host:port`. */
  protected abstract readonly app: { logFields: Record<string, string>; name: string };

  /** Asks the app what it subscribes to; throws an Error whose message says what failed. */
  protected abstract askSubscriptions(): Promise<Array<AppSubscriptionRequest & { describe: string }>>;

  /** Starts asking the app for its subscriptions in the background; health says when done. */
  start(): void {
    void this.attempt(0);
  }

  private async attempt(failures: number): Promise<void> {
    if (this.closed) return;
    try {
      const wanted = await this.askSubscriptions();
      for (const request of wanted) this.subscriptions.push(await this.events.subscribe(request));
      this.subscribed = true;
      this.lastError = '';
      this.logger.info({ ...this.app.logFields, subscriptions: wanted.map((w) => w.describe) }, `${this.app.name} subscribed to ${wanted.length} topic(s)`);
    } catch (error) {
      for (const s of this.subscriptions.splice(0)) await s.close().catch(() => {});
      this.lastError = (error as Error).message;
      if (failures === 0 || failures % 10 === 0) this.logger.warn(this.app.logFields, `${this.lastError}; retrying until the app answers (readiness stays INIT)`);
      if (this.closed) return;
      this.retry = setTimeout(() => void this.attempt(failures + 1), Math.min(2000, 100 * 2 ** failures));
    }
  }

  abstract health(): AppCallbackHealth;

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    for (const s of this.subscriptions.splice(0)) await s.close().catch(() => {});
  }
}
