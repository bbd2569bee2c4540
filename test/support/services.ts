// How tests get the real servers that `npm run services:up` starts (Redis, Kafka,
// Kubernetes apiserver).
//
// The rule: a test that needs a server runs against it if it answers. If it does not
// answer, in CI (CI=true) the test FAILS, naming the server and the command that starts
// it, so a broken CI setup can never pass by skipping; on a developer's machine the tests
// are skipped and the reason is printed.
//
//   describeWithService('redis', 'state store on Redis', (redis) => {
//     test('...', async () => { const client = new Redis(redis.url); ... });
//   });
//
// Connection info comes from .services/env.json; L8_REDIS_URL and L8_KAFKA_BROKERS
// (comma-separated host:port) point tests at servers started some other way.

import { describe, test } from 'vitest';
import { kafkaListTopics } from '../../scripts/services/kafka.ts';
import { apiserverReady } from '../../scripts/services/k8s.ts';
import { envFile, readServicesEnv, type K8sEnv, type KafkaEnv, type RedisEnv, type ServiceName } from '../../scripts/services/paths.ts';
import { redisPing } from '../../scripts/services/redis.ts';

export type { K8sEnv, KafkaEnv, RedisEnv, ServiceName };

export interface ServiceInfo {
  redis: RedisEnv;
  kafka: KafkaEnv;
  k8s: K8sEnv;
}

export type Probe<N extends ServiceName> = { ok: true; info: ServiceInfo[N] } | { ok: false; reason: string };

const labels: Record<ServiceName, string> = { redis: 'Redis', kafka: 'Kafka', k8s: 'the Kubernetes apiserver (k8s)' };

function redisInfo(): RedisEnv | string {
  const override = process.env.L8_REDIS_URL;
  if (override) {
    const url = new URL(override);
    return { url: override, host: url.hostname, port: Number(url.port || 6379) };
  }
  return readServicesEnv().redis ?? `${envFile()} has no redis entry`;
}

function kafkaInfo(): KafkaEnv | string {
  const override = process.env.L8_KAFKA_BROKERS;
  if (override) return { brokers: override.split(',').map((b) => b.trim()), controller: '' };
  return readServicesEnv().kafka ?? `${envFile()} has no kafka entry`;
}

function k8sInfo(): K8sEnv | string {
  return readServicesEnv().k8s ?? `${envFile()} has no k8s entry`;
}

/** Asks the server now, without the per-file cache of `probeService`. */
export async function probeServiceNow<N extends ServiceName>(name: N): Promise<Probe<N>> {
  try {
    switch (name) {
      case 'redis': {
        const info = redisInfo();
        if (typeof info === 'string') return { ok: false, reason: info };
        await redisPing(info.port, info.host);
        return { ok: true, info: info as ServiceInfo[N] };
      }
      case 'kafka': {
        const info = kafkaInfo();
        if (typeof info === 'string') return { ok: false, reason: info };
        await kafkaListTopics(info);
        return { ok: true, info: info as ServiceInfo[N] };
      }
      case 'k8s': {
        const info = k8sInfo();
        if (typeof info === 'string') return { ok: false, reason: info };
        await apiserverReady(info);
        return { ok: true, info: info as ServiceInfo[N] };
      }
    }
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  return { ok: false, reason: `unknown service ${String(name)}` };
}

const probes = new Map<string, Promise<Probe<ServiceName>>>();

/** Asks the server whether it answers; one probe per service (and override) per test file. */
export function probeService<N extends ServiceName>(name: N): Promise<Probe<N>> {
  const key = `${name} ${process.env.L8_REDIS_URL ?? ''} ${process.env.L8_KAFKA_BROKERS ?? ''}`;
  let p = probes.get(key);
  if (!p) {
    p = probeServiceNow(name);
    probes.set(key, p);
  }
  return p as Promise<Probe<N>>;
}

export function unavailableMessage(name: ServiceName, reason: string): string {
  return `${labels[name]} is not available (${reason}). Start the test servers with \`npm run services:up\` (see docs/services.md).`;
}

export class ServiceUnavailableError extends Error {
  readonly service: ServiceName;
  constructor(service: ServiceName, reason: string) {
    super(unavailableMessage(service, reason));
    this.name = 'ServiceUnavailableError';
    this.service = service;
  }
}

export const inCI = (): boolean => process.env.CI === 'true';

/**
 * The connection info of a running service, or a ServiceUnavailableError naming it and
 * `npm run services:up`. Use it in a beforeAll or a test; `describeWithService` applies
 * the CI/local rule for you.
 */
export async function requireService<N extends ServiceName>(name: N): Promise<ServiceInfo[N]> {
  const probe = await probeService(name);
  if (!probe.ok) throw new ServiceUnavailableError(name, probe.reason);
  return probe.info;
}

export type Gate<N extends ServiceName> =
  | { action: 'run'; info: ServiceInfo[N] }
  | { action: 'fail'; message: string }
  | { action: 'skip'; message: string };

/** The rule, as a pure function of the probe and whether this is CI. */
export function gate<N extends ServiceName>(name: N, probe: Probe<N>, ci: boolean): Gate<N> {
  if (probe.ok) return { action: 'run', info: probe.info };
  const message = unavailableMessage(name, probe.reason);
  return ci ? { action: 'fail', message } : { action: 'skip', message };
}

/**
 * A describe block whose tests need `name`. Its body gets the connection info. If the
 * server does not answer: in CI one failing test stands in for the block; elsewhere the
 * block is skipped and the reason printed.
 */
export function describeWithService<N extends ServiceName>(name: N, title: string, body: (info: ServiceInfo[N]) => void): void {
  describe(title, async () => {
    const decision = gate(name, await probeService(name), inCI());
    switch (decision.action) {
      case 'run':
        body(decision.info);
        return;
      case 'fail':
        test(`needs ${name}`, () => {
          throw new Error(decision.message);
        });
        return;
      case 'skip':
        process.stderr.write(`[services] skipping "${title}": ${decision.message}\n`);
        test.skip(`needs ${name}: ${decision.message}`, () => {});
        return;
    }
  });
}
