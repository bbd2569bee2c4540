// Layotto's actuator endpoints: /actuator/health/liveness, /actuator/health/readiness and
// /actuator/info, with Layotto's JSON ({"status": "UP", "components": {name: {"status",
// "details"}}}) and status codes (200 when UP, 503 otherwise), so Kubernetes probes and
// Layotto dashboards work unchanged.
//
// Readiness is INIT while the runtime API is starting (and while the app has not told its
// subscriptions yet, through its AppCallback or GET /dapr/subscribe), DOWN naming every component whose own health check
// fails (each component contributes its health: Redis answers PING, a pluggable component
// answers Ping, ...), UP otherwise, and DOWN again once shutdown began. Liveness does not
// depend on components: restarting L8 does not bring Redis back.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PluggableCatalog } from '../../components/pluggable/index.ts';
import { CAPABILITY_KINDS } from '../config.ts';
import type { Runtime } from '../runtime.ts';
import type { AppCallbackHealth } from './app-callback.ts';

export type Status = 'INIT' | 'UP' | 'DOWN';

export interface HealthReport {
  status: Status;
  components: Record<string, { status: Status; details: Record<string, unknown> }>;
}

const VERSION = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

export interface ActuatorOptions {
  runtime: Runtime;
  appId: string;
  /** How the app's delivery paths are doing (appCallback, appHttp), when configured. */
  apps?: Record<string, () => AppCallbackHealth>;
  /** Listener addresses for /actuator/info. */
  urls: () => Record<string, string>;
}

export class Actuator {
  private phase: 'starting' | 'running' | 'stopping' = 'starting';
  private readonly options: ActuatorOptions;

  constructor(options: ActuatorOptions) {
    this.options = options;
  }

  started(): void {
    if (this.phase === 'starting') this.phase = 'running';
  }

  stopping(): void {
    this.phase = 'stopping';
  }

  liveness(): HealthReport {
    return { status: 'UP', components: { livenessProbe: { status: 'UP', details: {} } } };
  }

  async readiness(): Promise<HealthReport> {
    const components: HealthReport['components'] = {};
    components.runtime = {
      status: this.phase === 'starting' ? 'INIT' : this.phase === 'stopping' ? 'DOWN' : 'UP',
      details: this.phase === 'running' ? {} : { reason: this.phase === 'starting' ? 'the runtime API is starting' : 'the runtime is shutting down' },
    };
    for (const c of await this.options.runtime.components.status()) {
      components[c.id] = { status: c.health.status, details: { type: c.type, ...(c.health.reason ? { reason: c.health.reason } : {}) } };
    }
    for (const [name, check] of Object.entries(this.options.apps ?? {})) {
      const app = check();
      components[name] = { status: app.status, details: app.reason ? { reason: app.reason } : {} };
    }
    const statuses = Object.values(components).map((c) => c.status);
    const status: Status = statuses.includes('DOWN') ? 'DOWN' : statuses.includes('INIT') ? 'INIT' : 'UP';
    return { status, components };
  }

  info(): Record<string, unknown> {
    const { runtime } = this.options;
    const pluggable = runtime.components.pluggable;
    return {
      app: { name: 'L8', version: VERSION, id: this.options.appId },
      urls: { http: runtime.httpUrl, admin: runtime.adminUrl, ...this.options.urls() },
      // From the live set: extensions may add components the config file does not name.
      components: CAPABILITY_KINDS.flatMap((kind) =>
        runtime.components.names(kind).map((name) => ({ id: `${kind}/${name}`, kind, name, type: runtime.components.get(kind, name)!.kind })),
      ),
      pluggableComponents: {
        folder: pluggable.discovery.folder,
        found: pluggable.found.map((s) => ({ type: s.type, socket: s.socket, kinds: PluggableCatalog.kindsOf(s), services: s.services })),
        failed: Object.fromEntries(pluggable.discovery.failed),
      },
      functions: runtime.table.list().map((f) => ({
        name: f.name,
        version: f.version.version,
        sha256: f.version.sha256,
        routes: f.manifest.routes.map((r) => `${r.method} ${r.path}`),
        subscriptions: f.manifest.subscriptions.map((s) => `${s.broker}/${s.topic}`),
      })),
    };
  }
}

export async function actuatorRoutes(app: FastifyInstance, options: { actuator: Actuator }): Promise<void> {
  const { actuator } = options;
  const send = (report: HealthReport) => ({ code: report.status === 'UP' ? 200 : 503, report });
  app.get('/actuator/health/liveness', async (_request, reply) => {
    const { code, report } = send(actuator.liveness());
    return reply.code(code).send(report);
  });
  app.get('/actuator/health/readiness', async (_request, reply) => {
    const { code, report } = send(await actuator.readiness());
    return reply.code(code).send(report);
  });
  app.get('/actuator/info', async () => actuator.info());
}
