// `node operator/main.ts` and `l8 operator`: flags and environment to a running Operator,
// plus a small health listener for the Deployment's probes.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createServer, urlOf } from '../runtime/http-server.ts';
import { parseDuration } from './duration.ts';
import { loadKubeConfig } from './kube/client.ts';
import { Operator } from './operator.ts';

export const OPERATOR_USAGE = `l8 operator — places Function resources on L8 runtime pods (docs/kubernetes.md)

Usage: l8 operator [flags]      (or: node operator/main.ts [flags])
  --namespace NS            namespace of the Functions and runtime pods (POD_NAMESPACE, else the kubeconfig's, else default)
  --kubeconfig FILE         API server credentials (KUBECONFIG, ~/.kube/config, or the pod's service account)
  --identity ID             leader-election identity (POD_NAME plus a random suffix)
  --lease-name NAME         Lease used for leader election (l8-operator)
  --lease-duration 15s      how long a silent leader's Lease stays valid
  --renew-deadline 10s      how long the leader tries to renew before it stops acting
  --retry-period 2s         how often the Lease is renewed or tried
  --default-capacity N      functions a runtime pod accepts when it has no l8.dev/capacity annotation (no limit)
  --resync 30s              how often every Function is reconciled without an event
  --no-services             do not create a Service per Function
  --health-port N           serve /healthz and /readyz on this port (8082; 0 = pick one, -1 = none)
  --health-host HOST        address of the health listener (0.0.0.0)
  --log-level LEVEL         pino level (L8_LOG_LEVEL, info)
`;

function inClusterNamespace(): string | undefined {
  const file = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export async function runOperator(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        namespace: { type: 'string' },
        kubeconfig: { type: 'string' },
        identity: { type: 'string' },
        'lease-name': { type: 'string' },
        'lease-duration': { type: 'string' },
        'renew-deadline': { type: 'string' },
        'retry-period': { type: 'string' },
        'default-capacity': { type: 'string' },
        resync: { type: 'string' },
        'no-services': { type: 'boolean' },
        'health-port': { type: 'string' },
        'health-host': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${OPERATOR_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(OPERATOR_USAGE);
    return 0;
  }
  const logger = pino({ level: values['log-level'] ?? process.env.L8_LOG_LEVEL ?? 'info', base: { pid: process.pid, component: 'operator' }, timestamp: pino.stdTimeFunctions.isoTime });
  const kc = loadKubeConfig(values.kubeconfig);
  const namespace = values.namespace ?? process.env.POD_NAMESPACE ?? inClusterNamespace() ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const identity = values.identity ?? `${process.env.POD_NAME ?? hostname()}-${randomBytes(4).toString('hex')}`;
  const capacityText = values['default-capacity'];
  const defaultCapacity = capacityText === undefined ? Infinity : Number(capacityText);
  if (!Number.isInteger(defaultCapacity) && defaultCapacity !== Infinity) throw new Error(`--default-capacity expects a whole number, got "${capacityText}"`);
  const seconds = (flag: 'lease-duration', fallback: number) => (values[flag] === undefined ? fallback : Math.max(1, Math.round(parseDuration(values[flag]!, flag) / 1000)));
  const ms = (flag: 'renew-deadline' | 'retry-period' | 'resync', fallback: number) => (values[flag] === undefined ? fallback : parseDuration(values[flag]!, flag));

  const operator = new Operator({
    kc,
    namespace,
    identity,
    logger,
    defaultCapacity,
    resyncMs: ms('resync', 30_000),
    services: !values['no-services'],
    leaseName: values['lease-name'],
    leaseDurationSeconds: seconds('lease-duration', 15),
    renewDeadlineMs: ms('renew-deadline', 10_000),
    retryPeriodMs: ms('retry-period', 2_000),
  });

  const healthPort = Number(values['health-port'] ?? 8082);
  let health: ReturnType<typeof createServer> | undefined;
  if (healthPort >= 0) {
    health = createServer(logger, 'health');
    // Alive while the process runs; ready once its watches have a first list (a
    // follower is ready too: it is a warm standby).
    health.get('/healthz', async () => ({ status: 'UP', leader: operator.isLeader(), identity }));
    health.get('/readyz', async (_request, reply) => {
      if (!operator.synced) return reply.code(503).send({ status: 'DOWN', reason: 'watches have not listed Functions and pods yet' });
      return { status: 'UP', leader: operator.isLeader(), identity };
    });
    await health.listen({ port: healthPort, host: values['health-host'] ?? '0.0.0.0' });
  }
  await operator.start();
  logger.info({ namespace, identity, health: health ? urlOf(health, values['health-host'] ?? '0.0.0.0') : undefined }, 'L8 operator started');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await operator.stop();
  await health?.close();
  logger.info('L8 operator stopped');
  return 0;
}
