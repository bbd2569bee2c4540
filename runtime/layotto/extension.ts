// Layotto compatibility: Layotto's function listener (routing by the `id` header), its
// /wasm/* admin endpoints, and `l8 serve --layotto-config <config.json>`, which deploys the
// functions of a Layotto config file and provides the state stores it names. Enabled by
// --layotto-config, --layotto, or a `layotto:` section in the runtime config. See
// docs/layotto.md.
import type { ExtensionContext, RuntimeExtension, StartedExtension } from '../extension.ts';
import { createServer, urlOf } from '../http-server.ts';
import { requestObserver } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import { layottoAdmin } from './admin.ts';
import { LayottoFunctions } from './functions.ts';
import { readLayottoConfig, type LayottoConfig } from './layotto-config.ts';
import { layottoListener } from './listener.ts';
import { grantsFor, isLoopback, parseSettings, portsFor } from './settings.ts';

/** Creates the state stores a Layotto config names that the runtime config does not define. */
async function provideStateStores(runtime: Runtime, layotto: LayottoConfig, stateType: string): Promise<void> {
  const logger = runtime.logger.child({ component: 'layotto' });
  for (const store of layotto.stateStores) {
    const added = await runtime.components.addIfMissing('state', store.name, { type: stateType }, runtime.config);
    if (added) {
      logger.warn(
        { store: store.name, layottoType: store.type, type: stateType },
        `state store "${store.name}" (Layotto type "${store.type}") is not configured in the L8 runtime config, so it was created as a ${stateType} store; ` +
          `to keep its data elsewhere, define components.state.${store.name} in the runtime config (see docs/components.md)`,
      );
    }
  }
}

async function start(runtime: Runtime, context: ExtensionContext): Promise<StartedExtension | null> {
  const settings = parseSettings(context.config, context.flags);
  if (!settings) return null;
  const logger = runtime.logger.child({ component: 'layotto' });
  const layotto = settings.configFile ? readLayottoConfig(settings.configFile) : null;
  if (layotto) {
    if (layotto.functions.length === 0) logger.warn({ file: layotto.file }, `Layotto config ${layotto.file} has no stream filter of type "Layotto": no functions to deploy`);
    await provideStateStores(runtime, layotto, settings.stateType);
  }
  const functions = new LayottoFunctions(runtime, { grants: grantsFor(settings, layotto), limits: settings.limits, reuse: settings.reuse }, logger);
  for (const entry of layotto?.functions ?? []) {
    try {
      const result = await functions.install({ name: entry.name, instanceNum: entry.instanceNum, path: entry.path }, true);
      logger.info({ fn: result.function, id: result.id, version: result.version, changed: result.changed }, result.changed ? `deployed ${result.function} v${result.version} (Layotto id ${result.id})` : `${result.function} v${result.version} (Layotto id ${result.id}) is up to date`);
    } catch (error) {
      throw new Error(`Layotto config ${layotto!.file}, function "${entry.key}" (${entry.path}): ${(error as Error).message}`, { cause: error });
    }
  }

  const ports = portsFor(settings, layotto);
  const servers: Array<{ close(): Promise<void> }> = [];
  const urls: Record<string, string> = {};
  const stop = async () => {
    for (const server of servers.reverse()) await server.close();
  };
  try {
    const listener = createServer(runtime.logger, 'layotto');
    await listener.register(layottoListener, { table: runtime.table, observe: requestObserver(runtime.metrics, runtime.logger) });
    await listener.listen({ port: ports.port, host: settings.host });
    servers.push(listener);
    urls.layotto = urlOf(listener, settings.host);
    if (ports.adminPort !== false) {
      const admin = createServer(runtime.logger, 'layotto-admin', { bodyLimit: 1 << 20 });
      await admin.register(layottoAdmin, { functions, token: runtime.adminToken, requireToken: !isLoopback(settings.adminHost) });
      await admin.listen({ port: ports.adminPort, host: settings.adminHost });
      servers.push(admin);
      urls.layottoAdmin = urlOf(admin, settings.adminHost);
    }
  } catch (error) {
    await stop();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(`a Layotto listener cannot bind: ${(error as Error).message}; choose other ports with --layotto-port / --layotto-admin-port (or layotto.port / layotto.adminPort in the runtime config)`, { cause: error });
    }
    throw error;
  }
  return { stop, urls };
}

export const layottoExtension: RuntimeExtension = {
  name: 'layotto',
  configKey: 'layotto',
  flags: {
    'layotto-config': { type: 'string', help: "serve the wasm functions of a Layotto config file (JSON) on Layotto's listener and admin endpoints" },
    layotto: { type: 'boolean', help: "serve Layotto's function listener and /wasm/* admin endpoints without a Layotto config" },
    'layotto-port': { type: 'string', help: 'port of the Layotto function listener (default: the config\'s, else 2045; 0 = any free port)' },
    'layotto-admin-port': { type: 'string', help: 'port of the Layotto /wasm/* admin listener on 127.0.0.1 (default: the config\'s, else 34998; "off" = none)' },
  },
  start,
};
