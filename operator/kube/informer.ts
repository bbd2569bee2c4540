// A watched collection that never gives up. client-node's ListWatch lists, then watches,
// and handles two endings itself: a watch closed by the server or its inactivity timeout
// (it resumes from the last resourceVersion) and 410 Gone (it lists again and reports the
// difference as add/update/delete). Any other error — the API server restarting, a 403
// while RBAC is being set up, a list that fails — stops it for good. This wrapper starts
// it again with exponential backoff and jitter, for as long as it is not stopped.
//
// A relist may report objects that did not change as "add" again; consumers must treat
// every event as "look at this object now" (reconcile is idempotent).
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, statusOf } from './client.ts';

export type WatchEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** What it watches, for logs: "functions in default". */
  description: string;
  /** API path of the collection, e.g. /api/v1/namespaces/default/pods. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  onEvent: (event: WatchEvent, object: T) => void;
  logger: Logger;
  /** First and largest delay before restarting after an error. */
  backoffMs?: { initial: number; max: number };
  /** Added to the log line when the collection answers 404 (e.g. "is the CRD installed?"). */
  notFoundHint?: string;
}

export class Informer<T extends KubernetesObject> {
  private readonly options: InformerOptions<T>;
  private readonly listWatch: ListWatch<T>;
  private stopped = false;
  private delay: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private resolveSynced!: () => void;
  private hasSynced = false;
  /** Resolves once the first list has been delivered. */
  readonly synced: Promise<void>;
  /** Errors since the last successful list (for health reporting). */
  failures = 0;

  constructor(options: InformerOptions<T>) {
    this.options = options;
    this.delay = options.backoffMs?.initial ?? 500;
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
    const list = async () => {
      const result = await options.list();
      // Seen only after the list call succeeded: the errors before it are over.
      this.delay = options.backoffMs?.initial ?? 500;
      if (this.failures > 0) options.logger.info({ watch: options.description }, `watching ${options.description} again`);
      this.failures = 0;
      // ListWatch applies the items right after this promise settles, before any I/O:
      // setImmediate runs once they are in its cache.
      setImmediate(() => {
        if (!this.hasSynced) {
          this.hasSynced = true;
          this.resolveSynced();
        }
      });
      return result;
    };
    this.listWatch = new ListWatch<T>(options.path, new Watch(options.kc), list, false, options.labelSelector, options.fieldSelector);
    for (const event of ['add', 'update', 'delete'] as const) {
      this.listWatch.on(event, (object: T) => {
        if (!this.stopped) options.onEvent(event, object);
      });
    }
    this.listWatch.on('error', (error: unknown) => this.failed(error));
  }

  start(): this {
    this.run();
    return this;
  }

  private run(): void {
    if (this.stopped) return;
    this.listWatch.start().catch((error: unknown) => this.failed(error));
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const wait = Math.round(this.delay * (0.8 + Math.random() * 0.4));
    const hint = statusOf(error) === 404 && this.options.notFoundHint ? ` (${this.options.notFoundHint})` : '';
    this.options.logger.warn({ watch: this.options.description, attempt: this.failures, retryInMs: wait }, `watching ${this.options.description} failed: ${describeError(error)}${hint}; retrying in ${wait} ms`);
    this.delay = Math.min(this.delay * 2, this.options.backoffMs?.max ?? 30_000);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.run(), wait);
  }

  list(): readonly T[] {
    return this.listWatch.list();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.listWatch.stop();
  }
}
