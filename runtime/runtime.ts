// Starting and stopping one runtime process: components, registry, function table,
// triggers and the admin API, wired together. Everything a test or the CLI needs to run
// L8 goes through startRuntime().
import { pino, type Logger } from 'pino';
import { FunctionRegistry } from '../functions/registry.ts';
import { adminApi } from './admin/admin-api.ts';
import { ensureAdminToken } from './admin/token.ts';
import { ComponentSet } from './components.ts';
import type { RuntimeConfig } from './config.ts';
import { Deployer } from './deployer.ts';
import { EXTENSIONS } from './extensions.ts';
import { FunctionTable } from './function-table.ts';
import { createServer, urlOf } from './http-server.ts';
import { FunctionLogs } from './logs.ts';
import { RuntimeMetrics, requestObserver } from './metrics.ts';
import { Lanes } from './lanes/lanes.ts';
import type { FastifyListenOptions } from 'fastify';
import type { AddressInfo } from 'node:net';
import { metricsRoute } from './admin/metrics-route.ts';
import { httpTrigger } from './triggers/http.ts';
import { PubsubTrigger } from './triggers/pubsub.ts';

export interface RuntimeOptions {
  /** App files deployed at start (idempotent). */
  apps?: string[];
  logger?: Logger;
  /** Values of extension flags given to `l8 serve`. */
  flags?: Record<string, unknown>;
}

export interface Runtime {
  config: RuntimeConfig;
  logger: Logger;
  components: ComponentSet;
  registry: FunctionRegistry;
  table: FunctionTable;
  deployer: Deployer;
  adminToken: string;
  /** This thread's metrics, for extension listeners that serve function requests. */
  metrics: RuntimeMetrics;
  /** Bound addresses (port 0 in the config picks a free one). */
  httpUrl: string;
  adminUrl: string;
  /** Addresses of extension listeners, by name. */
  urls: Record<string, string>;
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

export async function startRuntime(config: RuntimeConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const components = await ComponentSet.start(config);
  const cleanups: Array<() => Promise<void>> = [() => components.close()];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error) => logger.error({ err: error }, 'shutdown step failed'));
  };
  try {
    const registry = await FunctionRegistry.open(config.dataDir);
    const logs = new FunctionLogs(logger.child({ component: 'function' }));
    let table: FunctionTable | null = null;
    const metrics = new RuntimeMetrics({ defaultMetrics: true, instances: () => table?.instanceStats() ?? [] });
    table = new FunctionTable({ registry, components, logs, logger, defaults: config.limits, metrics });
    const mainTable = table;
    cleanups.push(async () => mainTable.close());
    // Worker lanes (started below) get every change after the main table has it.
    let lanes: Lanes | null = null;
    const deployer = new Deployer(registry, async (name, version) => {
      await mainTable.activate(name, version);
      await lanes?.activate(name, version);
    });
    for (const failure of await deployer.restore()) {
      logger.error({ fn: failure.name }, `function "${failure.name}" could not be loaded and is not served: ${failure.error}`);
    }
    for (const app of options.apps ?? []) {
      for (const result of await deployer.deployApp(app)) {
        logger.info({ fn: result.name, version: result.version, changed: result.changed }, result.changed ? `deployed ${result.name} v${result.version}` : `${result.name} v${result.version} is up to date`);
      }
    }
    const pubsub = new PubsubTrigger({
      table,
      components,
      policy: config.delivery,
      logger: logger.child({ component: 'pubsub' }),
      observe: ({ fn, topic, outcome }) => metrics.deliveries.inc({ function: fn, topic, outcome }),
    });
    cleanups.push(() => pubsub.close());
    await pubsub.sync();

    // The main thread is a lane itself; with workers > 0, more threads share its port.
    const http = createServer(logger, 'http');
    await http.register(httpTrigger, { table, observe: requestObserver(metrics, logger) });
    await http.listen({ port: config.port, host: config.host, reusePort: config.workers > 0 } as FastifyListenOptions);
    cleanups.push(() => http.close());
    if (config.workers > 0) {
      const port = (http.server.address() as AddressInfo).port;
      lanes = await Lanes.start({ count: config.workers, port, config, table, components, logs, logger });
      const started = lanes;
      cleanups.push(() => started.close());
    }

    const adminToken = ensureAdminToken(config.dataDir);
    const admin = createServer(logger, 'admin', { bodyLimit: 1 << 20 });
    await admin.register(metricsRoute, { metrics: async () => RuntimeMetrics.merge(metrics, (await lanes?.metrics()) ?? []) });
    await admin.register(adminApi, { token: adminToken, registry, deployer, table, logs });
    await admin.listen({ port: config.adminPort, host: config.adminHost });
    cleanups.push(() => admin.close());

    const runtime: Runtime = {
      config,
      logger,
      components,
      registry,
      table,
      deployer,
      adminToken,
      metrics,
      httpUrl: urlOf(http, config.host),
      adminUrl: urlOf(admin, config.adminHost),
      urls: {},
      close: cleanup,
    };
    for (const extension of EXTENSIONS) {
      if (!extension.start) continue;
      const flags = Object.fromEntries(Object.keys(extension.flags ?? {}).map((f) => [f, options.flags?.[f]]));
      const config = extension.configKey ? runtime.config.extensions[extension.configKey] : undefined;
      const started = await extension.start(runtime, { flags, config });
      if (!started) continue;
      cleanups.push(() => started.stop());
      Object.assign(runtime.urls, started.urls);
    }
    logger.info({ http: runtime.httpUrl, admin: runtime.adminUrl, ...runtime.urls, dataDir: config.dataDir, functions: table.list().map((f) => f.name) }, 'L8 runtime is serving');
    return runtime;
  } catch (error) {
    await cleanup();
    throw error;
  }
}
