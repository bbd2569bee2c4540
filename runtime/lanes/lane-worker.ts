// A worker lane: one more thread serving function HTTP traffic on the runtime's port
// (SO_REUSEPORT: the kernel spreads connections over the lanes). It runs its own
// function table with the same versions as the main thread; components stay on the
// main thread (see remote-components.ts), logs and metrics go back to it.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { FastifyListenOptions } from 'fastify';
import { readStoredModule, type FunctionVersion } from '../../functions/registry.ts';
import type { CapabilityKind, RuntimeConfig } from '../config.ts';
import { FunctionTable } from '../function-table.ts';
import { createServer } from '../http-server.ts';
import type { LogLine } from '../logs.ts';
import { RuntimeMetrics, requestObserver } from '../metrics.ts';
import { createLogger } from '../runtime.ts';
import { httpTrigger } from '../triggers/http.ts';
import { RemoteComponents, type ConfigSnapshot } from './remote-components.ts';
import { Rpc } from './rpc.ts';

export interface LaneInit {
  config: RuntimeConfig;
  port: number;
  versions: FunctionVersion[];
  components: Record<CapabilityKind, string[]>;
  configValues: ConfigSnapshot;
}

const init = workerData as LaneInit;
const rpc = new Rpc(parentPort!);
const logger = createLogger(init.config.logLevel).child({ lane: threadId });
const components = new RemoteComponents(rpc, init.components, init.configValues);
rpc.on('config', (snapshot: ConfigSnapshot) => components.updateConfig(snapshot));

// Function log lines are batched per tick: a chatty guest costs one message per tick.
let pendingLogs: LogLine[] = [];
const logs = {
  write(line: LogLine) {
    if (pendingLogs.length === 0) setImmediate(() => rpc.emit('logs', pendingLogs.splice(0)));
    pendingLogs.push(line);
  },
  forget() {},
};

let table: FunctionTable | null = null;
const metrics = new RuntimeMetrics({ instances: () => table?.instanceStats() ?? [] });
table = new FunctionTable({
  registry: { dataDir: init.config.dataDir, readModule: (digest) => readStoredModule(init.config.dataDir, digest) },
  components,
  logs,
  logger,
  defaults: init.config.limits,
  metrics,
});
const lane = table;
for (const version of init.versions) await lane.activate(version.manifest.name, version);
rpc.handle('activate', ({ name, version }: { name: string; version: FunctionVersion | null }) => lane.activate(name, version));
rpc.handle('metrics', () => metrics.json());

const http = createServer(logger, 'http');
await http.register(httpTrigger, { table: lane, observe: requestObserver(metrics, logger) });
await http.listen({ port: init.port, host: init.config.host, reusePort: true } as FastifyListenOptions);
rpc.handle('close', async () => {
  await http.close();
  lane.close();
});
rpc.emit('ready', null);
