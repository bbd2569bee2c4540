// Prometheus metrics (prom-client): what operators need to see a function misbehave —
// requests, errors by kind, latency, instances, host calls, deliveries. Every lane
// (main thread and worker threads) keeps its own registry; /metrics merges them.
import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry's metrics as JSON (what lanes send to the main thread). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export type ErrorKind = 'trap' | 'timeout' | 'memory_limit' | 'overloaded' | 'payload_too_large' | 'denied' | 'other';

/** Maps an L8Error code to the error kinds reported in metrics. */
export function errorKind(code: string): ErrorKind {
  switch (code) {
    case 'trap':
    case 'timeout':
    case 'memory_limit':
    case 'overloaded':
    case 'payload_too_large':
    case 'denied':
      return code;
    default:
      return 'other';
  }
}

export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'function' | 'code'>;
  readonly errors: Counter<'function' | 'kind'>;
  readonly duration: Histogram<'function'>;
  readonly instances: Gauge<'function' | 'state'>;
  readonly hostCalls: Counter<'function' | 'call' | 'outcome'>;
  readonly deliveries: Counter<'function' | 'topic' | 'outcome'>;

  constructor(options: { defaultMetrics?: boolean; instances?: () => Array<{ fn: string; live: number; idle: number; busy: number }> } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'l8_function_requests_total', help: 'Requests handled per function, by HTTP status class', labelNames: ['function', 'code'], registers });
    this.errors = new Counter({ name: 'l8_function_errors_total', help: 'Failed calls per function, by kind (trap, timeout, memory_limit, overloaded, payload_too_large, denied, other)', labelNames: ['function', 'kind'], registers });
    this.duration = new Histogram({
      name: 'l8_function_duration_seconds',
      help: 'Time from request to response per function',
      labelNames: ['function'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const source = options.instances;
    this.instances = new Gauge({
      name: 'l8_function_instances',
      help: 'Guest instances per function: live (created and not discarded), idle (pooled, ready), busy (serving a call)',
      labelNames: ['function', 'state'],
      registers,
      collect() {
        if (!source) return;
        this.reset();
        for (const { fn, live, idle, busy } of source()) {
          this.set({ function: fn, state: 'live' }, live);
          this.set({ function: fn, state: 'idle' }, idle);
          this.set({ function: fn, state: 'busy' }, busy);
        }
      },
    });
    this.hostCalls = new Counter({ name: 'l8_host_calls_total', help: 'Host calls made by functions, by call (state.get, pubsub.publish, ...) and outcome (ok or an error code)', labelNames: ['function', 'call', 'outcome'], registers });
    this.deliveries = new Counter({ name: 'l8_pubsub_deliveries_total', help: 'Pub/sub deliveries to functions, by outcome (delivered, retried, dead-lettered)', labelNames: ['function', 'topic', 'outcome'], registers });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'l8_' });
  }

  // prom-client hashes a label object on every call; the hot path keeps the labelled
  // children instead (one per function and status class).
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly durationChildren = new Map<string, { observe(value: number): void }>();

  observeRequest(fn: string | null, status: number, errorCode: string | null, seconds: number): void {
    const name = fn ?? '(none)';
    const code = status < 200 ? '1xx' : status < 300 ? '2xx' : status < 400 ? '3xx' : status < 500 ? '4xx' : '5xx';
    const key = `${code}${name}`;
    let requests = this.requestChildren.get(key);
    if (!requests) this.requestChildren.set(key, (requests = this.requests.labels({ function: name, code })));
    requests.inc();
    if (errorCode) this.errors.inc({ function: name, kind: errorKind(errorCode) });
    if (fn) {
      let duration = this.durationChildren.get(fn);
      if (!duration) this.durationChildren.set(fn, (duration = this.duration.labels({ function: fn })));
      duration.observe(seconds);
    }
  }

  /** Drops the cached children of a function that is gone (its series stay until restart). */
  forget(fn: string): void {
    this.durationChildren.delete(fn);
    for (const key of this.requestChildren.keys()) if (key.slice(3) === fn) this.requestChildren.delete(key);
  }

  async json(): Promise<MetricsJson> {
    return this.registry.getMetricsAsJSON();
  }

  /** Prometheus text for this registry merged with the others' JSON (worker lanes). */
  static async merge(main: RuntimeMetrics, others: MetricsJson[]): Promise<{ text: string; contentType: string }> {
    if (others.length === 0) return { text: await main.registry.metrics(), contentType: main.registry.contentType };
    const merged = AggregatorRegistry.aggregate([await main.json(), ...others]);
    return { text: await merged.metrics(), contentType: merged.contentType };
  }
}

/** What every HTTP lane does when a request finishes: count it and log one line. */
export function requestObserver(metrics: RuntimeMetrics, logger: Logger) {
  const log = logger.child({ component: 'request' });
  return (event: { fn: string | null; status: number; errorCode: string | null; seconds: number; requestId: string; method: string; path: string }): void => {
    metrics.observeRequest(event.fn, event.status, event.errorCode, event.seconds);
    log.info({ requestId: event.requestId, fn: event.fn, method: event.method, path: event.path, status: event.status, ms: Math.round(event.seconds * 1e5) / 100 }, 'request');
  };
}
