// The real servers L8's tests and CI run against: Redis, a one-node Kafka, and a
// Kubernetes control plane (etcd + kube-apiserver), all on 127.0.0.1, their state in
// `.services/`. `up` is idempotent; `down` stops what `up` started.
//
// Fault tests import the controls below (stopRedis/startRedis, restartKafka) to take a
// server away and bring it back on the same port and data.

import { existsSync, rmSync } from 'node:fs';
import { ensureKafkaJars, kafkaLog, kafkaStatus, startKafka, stopKafka } from './kafka.ts';
import { apiserverLog, ensureKubeBinaries, etcdLog, k8sStatus, startK8s, stopK8s } from './k8s.ts';
import { readServicesEnv, serviceNames, servicesDir, type ServiceName, type ServicesEnv } from './paths.ts';
import { withLock } from './proc.ts';
import { redisLog, redisStatus, startRedis, stopRedis } from './redis.ts';

export { readServicesEnv, serviceNames, servicesDir, type ServiceName, type ServicesEnv };
export { startRedis, stopRedis, redisPing } from './redis.ts';
export { startKafka, stopKafka, restartKafka, kafkaRoundTrip, KAFKA_VERSION } from './kafka.ts';
export { startK8s, stopK8s, apiserverReady, KUBERNETES_VERSION, ETCD_VERSION } from './k8s.ts';

export const logFiles = (): Record<ServiceName, string[]> => ({
  redis: [redisLog()],
  kafka: [kafkaLog()],
  k8s: [etcdLog(), apiserverLog()],
});

export interface StepReport {
  service: ServiceName;
  ok: boolean;
  seconds: number;
  message: string;
}

type Reporter = (line: string) => void;

async function timed(service: ServiceName, what: string, fn: () => Promise<string>, report: Reporter): Promise<StepReport> {
  const t0 = performance.now();
  try {
    const message = await fn();
    const seconds = (performance.now() - t0) / 1000;
    report(`${service}: ${what} ${message} (${seconds.toFixed(1)} s)`);
    return { service, ok: true, seconds, message };
  } catch (err) {
    const seconds = (performance.now() - t0) / 1000;
    const message = (err as Error).message;
    report(`${service}: FAILED after ${seconds.toFixed(1)} s: ${message}`);
    return { service, ok: false, seconds, message };
  }
}

/**
 * Starts the named services (all by default) that are not running and waits until each
 * answers. Slow one-time preparation (downloading Kafka, building Kubernetes) runs in
 * parallel first. Every service is attempted even if another fails.
 */
export async function up(names: readonly ServiceName[] = serviceNames, report: Reporter = () => {}): Promise<StepReport[]> {
  return withLock(async () => {
    const prepare: Promise<StepReport>[] = [];
    if (names.includes('kafka')) prepare.push(timed('kafka', 'broker jars', async () => `in ${await ensureKafkaJars()}`, report));
    if (names.includes('k8s')) {
      prepare.push(
        timed('k8s', 'binaries', async () => {
          const b = await ensureKubeBinaries();
          return `${b.etcd}, ${b.apiserver}`;
        }, report),
      );
    }
    const prepared = await Promise.all(prepare);
    const failedPrep = new Set(prepared.filter((r) => !r.ok).map((r) => r.service));
    const starts = names.map((name): Promise<StepReport> => {
      if (failedPrep.has(name)) return Promise.resolve(prepared.find((r) => r.service === name)!);
      switch (name) {
        case 'redis':
          return timed('redis', 'ready at', async () => (await startRedis()).url, report);
        case 'kafka':
          return timed('kafka', 'ready at', async () => (await startKafka()).brokers.join(','), report);
        case 'k8s':
          return timed('k8s', 'ready at', async () => {
            const env = await startK8s();
            return `${env.server} (kubeconfig ${env.kubeconfig})`;
          }, report);
      }
    });
    return Promise.all(starts);
  });
}

/** Stops the named services (all by default) that `up` started. */
export async function down(names: readonly ServiceName[] = serviceNames, report: Reporter = () => {}): Promise<StepReport[]> {
  return withLock(async () => {
    const stops: Record<ServiceName, () => Promise<boolean>> = { redis: stopRedis, kafka: stopKafka, k8s: stopK8s };
    return Promise.all(
      names.map((name) => timed(name, '', async () => ((await stops[name]()) ? 'stopped' : 'was not running'), report)),
    );
  });
}

/** `down`, then removes `.services/` (data, logs, credentials). Caches in ~/.cache/l8 stay. */
export async function clean(report: Reporter = () => {}): Promise<void> {
  await withLock(async () => {
    const results = await down(serviceNames, report);
    const failed = results.filter((r) => !r.ok);
    if (failed.length) throw new Error(`not removing ${servicesDir()}: ${failed.map((r) => r.service).join(', ')} could not be stopped`);
  });
  if (existsSync(servicesDir())) rmSync(servicesDir(), { recursive: true, force: true });
  report(`removed ${servicesDir()}`);
}

export interface ServiceStatus {
  service: ServiceName;
  healthy: boolean;
  pid?: number;
  detail: string;
  logs: string[];
}

export async function status(names: readonly ServiceName[] = serviceNames): Promise<ServiceStatus[]> {
  const probes: Record<ServiceName, () => Promise<{ pid?: number; healthy: boolean; detail: string }>> = {
    redis: redisStatus,
    kafka: kafkaStatus,
    k8s: k8sStatus,
  };
  return Promise.all(names.map(async (service) => ({ service, ...(await probes[service]()), logs: logFiles()[service] })));
}
