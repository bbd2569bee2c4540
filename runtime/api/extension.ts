// The runtime API for apps that are not wasm: Layotto's gRPC API (default port 34904),
// an HTTP/JSON API with the actuator (default port 34999), pub/sub delivery to the app
// through its AppCallback server or SubscribeTopicEvents streams. All of it works through
// the component set and function table the functions use. See docs/runtime-api.md.
import type { ExtensionContext, RuntimeExtension, StartedExtension } from '../extension.ts';
import { createServer, urlOf } from '../http-server.ts';
import type { Runtime } from '../runtime.ts';
import { Actuator, actuatorRoutes } from './actuator.ts';
import { AppCallbackClient } from './app-callback.ts';
import { AppEvents } from './app-events.ts';
import { startGrpcApi, type GrpcApi } from './grpc-server.ts';
import { httpApi } from './http-api.ts';
import { RuntimeOperations } from './operations.ts';
import { parseApiSettings } from './settings.ts';

async function start(runtime: Runtime, context: ExtensionContext): Promise<StartedExtension | null> {
  const settings = parseApiSettings(context.config, context.flags, process.env, runtime.config.port);
  if (!settings) return null;
  const logger = runtime.logger.child({ component: 'runtime-api' });
  const ops = new RuntimeOperations(runtime, settings);
  const events = new AppEvents(runtime, settings, logger);
  const appCallback = settings.appCallback ? new AppCallbackClient(settings.appCallback, events, logger, settings.deliveryTimeoutMs) : null;
  const urls: Record<string, string> = {};
  const actuator = new Actuator({ runtime, appId: settings.appId, appCallback: appCallback ? () => appCallback.health() : undefined, urls: () => urls });

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
    if (appCallback) {
      stops.push(() => appCallback.close());
      appCallback.start();
    }
    actuator.started();
    return { urls, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export const runtimeApiExtension: RuntimeExtension = {
  name: 'runtime-api',
  configKey: 'runtimeApi',
  flags: {
    'grpc-port': { type: 'string', help: 'gRPC runtime API port, Layotto\'s API (34904; 0 = free port; "off"; L8_GRPC_PORT)' },
    'api-port': { type: 'string', help: 'HTTP/JSON runtime API and actuator port (34999; 0 = free port; "off"; L8_API_PORT)' },
    'api-host': { type: 'string', help: 'address the runtime API listens on (127.0.0.1; L8_API_HOST)' },
    'app-callback': { type: 'string', help: 'host:port of the app\'s AppCallback gRPC server, for pub/sub delivery (L8_APP_CALLBACK)' },
    'app-id': { type: 'string', help: 'this app\'s id: consumer group l8-app-<id> and dead-letter metadata (app; L8_APP_ID)' },
  },
  start,
};
