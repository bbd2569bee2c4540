// Where the services keep their state, and the connection file tests read.
//
// Everything a running service owns (pid files, logs, data, generated config) lives in
// `.services/` at the repository root, which is gitignored. Things that are expensive to
// make and do not depend on the checkout (downloaded Kafka jars, built Kubernetes
// binaries) live in ~/.cache/l8 so a fresh clone, or the next CI run on the same
// machine, reuses them.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Read on every call, not at import: a test can point one process at a private set of
// servers (L8_SERVICES_DIR plus the port variables) without touching the shared ones.
export const servicesDir = (): string =>
  process.env.L8_SERVICES_DIR ? resolve(process.env.L8_SERVICES_DIR) : join(repoRoot, '.services');
export const cacheDir = (): string =>
  process.env.L8_CACHE_DIR
    ? resolve(process.env.L8_CACHE_DIR)
    : join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'l8');
export const envFile = (): string => join(servicesDir(), 'env.json');

export type ServiceName = 'redis' | 'kafka' | 'k8s';
export const serviceNames: readonly ServiceName[] = ['redis', 'kafka', 'k8s'];

export interface RedisEnv {
  url: string;
  host: string;
  port: number;
}
export interface KafkaEnv {
  brokers: string[];
  controller: string;
}
export interface K8sEnv {
  /** Path of a kubeconfig file whose current context is this apiserver. */
  kubeconfig: string;
  server: string;
  /** Bearer token of a user in group system:masters. */
  token: string;
  /** PEM file that verifies the apiserver's serving certificate. */
  ca: string;
  etcd: string;
}
export interface ServicesEnv {
  redis?: RedisEnv;
  kafka?: KafkaEnv;
  k8s?: K8sEnv;
}

export function serviceDir(name: string): string {
  const dir = join(servicesDir(), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Connection info of the services started by `npm run services:up` (empty if none were). */
export function readServicesEnv(): ServicesEnv {
  const file = envFile();
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServicesEnv;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); delete it and run \`npm run services:up\``);
  }
}

/** Merges one service's entry into env.json; written through a rename so readers never see half a file. */
export function updateServicesEnv<K extends ServiceName>(name: K, value: ServicesEnv[K]): void {
  const env = readServicesEnv();
  env[name] = value;
  mkdirSync(servicesDir(), { recursive: true });
  const tmp = `${envFile()}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(env, null, 2) + '\n');
  renameSync(tmp, envFile());
}

export function envPort(variable: string, recorded: number | undefined, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return recorded ?? fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${variable}=${raw} is not a TCP port number (1-65535)`);
  }
  return port;
}
