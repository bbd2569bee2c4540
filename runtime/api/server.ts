// Starting the runtime API (loaded by extension.ts only when `l8 serve` starts it, so other
// `l8` commands do not load gRPC).
import type { ExtensionContext, StartedExtension } from '../extension.ts';
import { createServer, urlOf } from '../http-server.ts';
import type { Runtime } from '../runtime.ts';
import { Actuator, actuatorRoutes } from './actuator.ts';
import { AppCallbackClient } from './app-callback.ts';
import { AppEvents } from './app-events.ts';
import { AppHttpSubscriber } from './app-http.ts';
import { startGrpcApi, type GrpcApi } from './grpc-server.ts';
import { httpApi } from './http-api.ts';
import { RuntimeOperations } from './operations.ts';
import { parseApiSettings } from './settings.ts';

export async function startRuntimeApi(runtime: Runtime, context: ExtensionContext): Promise<StartedExtension | null> {
  const settings = parseApiSettings(context.config, context.flags, process.env, runtime.config.port);
  if (!settings) return null;
  const logger = runtime.logger.child({ component: 'runtime-api' });
  const ops = new RuntimeOperations(runtime, settings);
  const events = new AppEvents(runtime, settings, logger);
  const appCallback = settings.appCallback ? new AppCallbackClient(settings.appCallback, events, logger, settings.deliveryTimeoutMs) : null;
  const appHttp = settings.appHttp ? new AppHttpSubscriber(settings.appHttp, events, logger, settings.deliveryTimeoutMs) : null;
  const urls: Record<string, string> = {};
  const apps: Record<string, () => ReturnType<AppCallbackClient['health']>> = {};
  if (appCallback) apps.appCallback = () => appCallback.health();
  if (appHttp) apps.appHttp = () => appHttp.health();
  const actuator = new Actuator({ runtime, appId: settings.appId, apps, urls: () => urls });

  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    actuator.stopping();
    for (const step of stops.reverse()) await step().catch((error) => logger.error({ err: error }, 'runtime API shutdown step failed'));
  };
  try {
    // The actuator listens first, so probes see INIT (not a refused connection) while the rest starts.
    if (settings.httpPort !== null) {
      const http = createServer(runtime.logger, 'runtime-api-http', { bodyLimit: runtime.config.limits.maxBodyBytes });
      await http.register(actuatorRoutes, { actuator });
      await http.register(httpApi, { ops, maxBodyBytes: runtime.config.limits.maxBodyBytes });
      try {
        await http.listen({ port: settings.httpPort, host: settings.host });
      } catch (error) {
        throw new Error(`cannot listen for the HTTP runtime API on ${settings.host}:${settings.httpPort}: ${(error as Error).message}; set another port with --api-port or L8_API_PORT (0 picks a free one, "off" turns it off)`, { cause: error });
      }
      stops.push(() => http.close());
      urls.api = urlOf(http, settings.host);
    }
    let grpc: GrpcApi | null = null;
    if (settings.grpcPort !== null) {
      grpc = await startGrpcApi(ops, events, { host: settings.host, port: settings.grpcPort, logger, maxMessageBytes: runtime.config.limits.maxBodyBytes });
      const g = grpc;
      stops.push(() => g.stop());
      const shown = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
      // A URL like the others; gRPC clients take the host:port after "grpc://".
      urls.grpc = `grpc://${shown}:${grpc.port}`;
    }
    const pluggable = runtime.components.pluggable;
    if (pluggable.found.length || pluggable.discovery.failed.size) {
      logger.info(
        { folder: pluggable.discovery.folder, found: pluggable.found.map((s) => s.type), failed: Object.fromEntries(pluggable.discovery.failed) },
        `pluggable components in ${pluggable.discovery.folder}: ${pluggable.found.map((s) => s.type).join(', ') || 'none answered'}`,
      );
    }
    for (const app of [appCallback, appHttp]) {
      if (!app) continue;
      stops.push(() => app.close());
      app.start();
    }
    actuator.started();
    return { urls, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

