// The runtime API for apps that are not wasm: Layotto's gRPC API (default port 34904),
// an HTTP/JSON API with the actuator (default port 34999), pub/sub delivery to the app
// through its AppCallback server or SubscribeTopicEvents streams. All of it works through
// the component set and function table the functions use. See docs/runtime-api.md.
import type { RuntimeExtension } from '../extension.ts';

export const runtimeApiExtension: RuntimeExtension = {
  name: 'runtime-api',
  configKey: 'runtimeApi',
  flags: {
    'grpc-port': { type: 'string', help: 'gRPC runtime API port, Layotto\'s API (34904; 0 = free port; "off"; L8_GRPC_PORT)' },
    'api-port': { type: 'string', help: 'HTTP/JSON runtime API and actuator port (34999; 0 = free port; "off"; L8_API_PORT)' },
    'api-host': { type: 'string', help: 'address the runtime API listens on (127.0.0.1; L8_API_HOST)' },
    'app-callback': { type: 'string', help: 'host:port of the app\'s AppCallback gRPC server, for pub/sub delivery (L8_APP_CALLBACK)' },
    'app-http': { type: 'string', help: 'base URL of an HTTP app that receives messages Dapr-style (GET /dapr/subscribe, POST <route>) (L8_APP_HTTP)' },
    'app-id': { type: 'string', help: 'this app\'s id: consumer group l8-app-<id> and dead-letter metadata (app; L8_APP_ID)' },
  },
  // Loaded on start only: the `l8` commands that are clients need none of it.
  start: async (runtime, context) => (await import('./server.ts')).startRuntimeApi(runtime, context),
};
