// The main thread's side of the worker lanes: starts them, keeps their function tables
// on the same versions as its own (a deploy returns only once every lane has it),
// answers their component calls, forwards config changes, collects logs and metrics,
// and replaces a lane that dies.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FunctionVersion } from '../../functions/registry.ts';
import { CAPABILITY_KINDS, type CapabilityKind, type RuntimeConfig } from '../config.ts';
import type { ComponentSet } from '../components.ts';
import type { FunctionTable } from '../function-table.ts';
import type { FunctionLogs, LogLine } from '../logs.ts';
import type { MetricsJson } from '../metrics.ts';
import type { LaneInit } from './lane-worker.ts';
import type { ComponentCall, ConfigSnapshot } from './remote-components.ts';
import { Rpc } from './rpc.ts';

/** Methods a lane may call on a component: the building-block operations, not lifecycle. */
const FORBIDDEN = new Set(['init', 'close', 'subscribe', 'watch', 'constructor']);

export interface LanesOptions {
  count: number;
  port: number;
  config: RuntimeConfig;
  table: FunctionTable;
  components: ComponentSet;
  logs: FunctionLogs;
  logger: Logger;
}

interface Lane {
  worker: Worker;
  rpc: Rpc;
}

export class Lanes {
  private readonly lanes: Lane[] = [];
  private readonly options: LanesOptions;
  private closing = false;
  private readonly unwatch: Array<() => void> = [];

  private constructor(options: LanesOptions) {
    this.options = options;
  }

  static async start(options: LanesOptions): Promise<Lanes> {
    const lanes = new Lanes(options);
    for (const name of options.components.names('config')) {
      const store = options.components.get('config', name)!;
      lanes.unwatch.push(store.watch(() => lanes.broadcast('config', lanes.configSnapshot())));
    }
    try {
      await Promise.all(Array.from({ length: options.count }, () => lanes.spawn()));
    } catch (error) {
      await lanes.close();
      throw error;
    }
    return lanes;
  }

  private configSnapshot(): ConfigSnapshot {
    const snapshot: ConfigSnapshot = {};
    for (const name of this.options.components.names('config')) {
      snapshot[name] = [...this.options.components.get('config', name)!.entries()];
    }
    return snapshot;
  }

  private broadcast(type: string, data: unknown): void {
    for (const lane of this.lanes) lane.rpc.emit(type, data);
  }

  private async spawn(): Promise<void> {
    const { config, table, components, logs, logger, port } = this.options;
    const init: LaneInit = {
      config,
      port,
      versions: table.list().map((f) => f.version),
      components: Object.fromEntries(CAPABILITY_KINDS.map((k) => [k, components.names(k)])) as Record<CapabilityKind, string[]>,
      configValues: this.configSnapshot(),
    };
    const worker = new Worker(new URL('./lane-worker.ts', import.meta.url), { workerData: init });
    const rpc = new Rpc(worker);
    const lane: Lane = { worker, rpc };
    rpc.handle('component', async ({ kind, name, method, args }: ComponentCall) => {
      const component = components.require(kind, name) as unknown as Record<string, unknown>;
      const fn = component[method];
      if (FORBIDDEN.has(method) || typeof fn !== 'function') throw new Error(`a lane may not call ${kind}/${name}.${method}`);
      return (fn as (...a: unknown[]) => unknown).apply(component, args);
    });
    rpc.on('logs', (lines: LogLine[]) => {
      for (const line of lines) logs.write(line);
    });
    const ready = new Promise<void>((resolve, reject) => {
      rpc.on('ready', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker lane exited with code ${code} while starting`)));
    });
    worker.on('exit', (code) => {
      rpc.failAll(new Error('the worker lane exited'));
      const index = this.lanes.indexOf(lane);
      if (index !== -1) this.lanes.splice(index, 1);
      if (this.closing) return;
      logger.error({ code }, 'a worker lane exited; starting a new one');
      this.spawn().catch((error) => logger.error({ err: error }, 'could not restart the worker lane'));
    });
    await ready;
    this.lanes.push(lane);
  }

  /** Makes `version` live in every lane (after the main table has it). */
  async activate(name: string, version: FunctionVersion | null): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.rpc.call('activate', { name, version })));
  }

  async metrics(): Promise<MetricsJson[]> {
    return Promise.all(this.lanes.map((lane) => lane.rpc.call<MetricsJson>('metrics', null)));
  }

  get size(): number {
    return this.lanes.length;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const stop of this.unwatch) stop();
    await Promise.all(
      this.lanes.map(async (lane) => {
        await lane.rpc.call('close', null).catch(() => {});
        await lane.worker.terminate();
      }),
    );
    this.lanes.length = 0;
  }
}
