// Kubernetes for tests and the demo: the real kube-apiserver of `npm run services:up`,
// with no kubelet. A "runtime pod" here is a real `l8 serve --kubernetes-agent` process on
// 127.0.0.1 plus a Pod object whose status we write the way a kubelet would (Running,
// Ready, podIP 127.0.0.1). As every such pod has the same IP, each process listens on its
// own port, and the Pod's container port named "http" carries it — exactly where a real
// cluster keeps the port too, so clients resolve "pod IP + port http" either way.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  loadAllYaml,
  setHeaderOptions,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { GROUP, PLURAL, RUNTIME_LABEL, VERSION, type FunctionResource } from '../../operator/function-resource.ts';
import { ROOT, startRuntimeProcess, type RuntimeProcess } from './runtime-process.ts';

export const CRD_FILE = join(ROOT, 'deploy/crd/function.yaml');
export const RBAC_FILE = join(ROOT, 'deploy/rbac.yaml');
export const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface Kube {
  kc: KubeConfig;
  kubeconfig: string;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
}

export function connect(kubeconfig: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    kc,
    kubeconfig,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, intervalMs = 100): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Server-side applies every object of a YAML file (optionally moved to `namespace`);
 * `dryRun` has the API server validate and admit them without storing anything.
 */
export async function applyFile(kube: Kube, file: string, namespace?: string, options: { dryRun?: boolean } = {}): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kube.kc);
  const applied: KubernetesObject[] = [];
  for (const object of loadAllYaml(readFileSync(file, 'utf8')) as KubernetesObject[]) {
    if (namespace && object.kind !== 'CustomResourceDefinition' && object.kind !== 'Namespace') {
      object.metadata = { ...object.metadata, namespace };
      const subjects = (object as { subjects?: Array<{ namespace?: string }> }).subjects;
      for (const subject of subjects ?? []) if (subject.namespace) subject.namespace = namespace;
    }
    if (object.kind === 'Namespace') continue;
    applied.push(await api.patch(object, undefined, options.dryRun ? 'All' : undefined, 'l8-tests', true, PatchStrategy.ServerSideApply));
  }
  return applied;
}

/** Installs (or updates) the Function CRD and waits until the API serves it. */
export async function installCrd(kube: Kube): Promise<void> {
  await applyFile(kube, CRD_FILE);
  const ext = kube.kc.makeApiClient(ApiextensionsV1Api);
  await waitFor('the Function CRD to be established', 30_000, async () => {
    const crd = await ext.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
  // Established can precede the first successful list by a moment.
  await waitFor('functions to be listable', 30_000, () => kube.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }).then(() => true));
}

export async function createNamespace(kube: Kube, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kube.core.createNamespace({ body: { metadata: { name, labels: { 'l8.dev/test': 'true' } } } });
  return name;
}

/**
 * Deletes a namespace and everything the tests put in it. Without a controller-manager
 * nothing empties or finalizes a namespace, so this does both.
 */
export async function deleteNamespace(kube: Kube, namespace: string): Promise<void> {
  const rbac = kube.kc.makeApiClient(RbacAuthorizationV1Api);
  const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
  await quiet(kube.custom.deleteCollectionNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL }));
  await quiet(kube.core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }));
  await quiet(kube.core.deleteCollectionNamespacedConfigMap({ namespace }));
  await quiet(kube.core.deleteCollectionNamespacedSecret({ namespace }));
  await quiet(kube.core.deleteCollectionNamespacedServiceAccount({ namespace }));
  await quiet(kube.coordination.deleteCollectionNamespacedLease({ namespace }));
  await quiet(rbac.deleteCollectionNamespacedRole({ namespace }));
  await quiet(rbac.deleteCollectionNamespacedRoleBinding({ namespace }));
  const services = await kube.core.listNamespacedService({ namespace }).catch(() => ({ items: [] }));
  for (const s of services.items) await quiet(kube.core.deleteNamespacedService({ name: s.metadata!.name!, namespace }));
  await quiet(kube.core.deleteNamespace({ name: namespace }));
  await quiet(kube.core.replaceNamespaceFinalize({ name: namespace, body: { metadata: { name: namespace }, spec: { finalizers: [] } } }));
}

/**
 * A kubeconfig file that authenticates as a ServiceAccount (token from the TokenRequest
 * API), so processes run with exactly the rights deploy/rbac.yaml grants.
 */
export async function serviceAccountKubeconfig(kube: Kube, namespace: string, serviceAccount: string): Promise<string> {
  const token = await kube.core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const cluster = kube.kc.getCurrentCluster()!;
  const ca = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  const dir = mkdtempSync(join(tmpdir(), 'l8-kubeconfig-'));
  // It holds a token: gone with the process that asked for it.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, `${serviceAccount}.yaml`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'l8', cluster: { server: cluster.server, 'certificate-authority-data': ca } }],
      users: [{ name: serviceAccount, user: { token: token.status!.token } }],
      contexts: [{ name: 'l8', context: { cluster: 'l8', user: serviceAccount, namespace } }],
      'current-context': 'l8',
    }),
    { mode: 0o600 },
  );
  return file;
}

export interface RuntimePodOptions {
  namespace: string;
  name: string;
  /** Kubeconfig the agent uses (the runtime service account's). */
  kubeconfig: string;
  node?: string;
  labels?: Record<string, string>;
  capacity?: number;
  /** Extra `l8 serve` arguments. */
  args?: string[];
  drain?: string;
}

export interface RuntimePod {
  name: string;
  url: string;
  process: RuntimeProcess;
  /** Writes what a kubelet would: phase and Ready condition. */
  setReady(ready: boolean): Promise<void>;
  /** A container restart: the process stops and starts again with the same data dir and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a runtime process with the agent, then its Pod object, then marks the Pod Running and Ready. */
export async function startRuntimePod(kube: Kube, options: RuntimePodOptions): Promise<RuntimePod> {
  const { namespace, name } = options;
  const start = (extra: { dataDir?: string; port?: number } = {}) =>
    startRuntimeProcess({
      args: ['--kubernetes-agent', '--kubernetes-drain', options.drain ?? '300ms', '--kubernetes-resync', '60s', ...(options.args ?? []), ...(extra.port ? ['--port', String(extra.port)] : [])],
      // A restart reuses its fixed port; the runtime API's listeners stay on free ports
      // so runtimes of parallel test files never fight over 34999/34904.
      env: { POD_NAME: name, POD_NAMESPACE: namespace, KUBECONFIG: options.kubeconfig, L8_API_PORT: '0', L8_GRPC_PORT: '0' },
      dataDir: extra.dataDir,
      // Several runtimes start at once on a small CI box.
      timeoutMs: 60_000,
    });
  let proc = await start();
  const port = Number(new URL(proc.httpUrl).port);
  await kube.core.createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name,
        labels: { [RUNTIME_LABEL]: 'true', app: 'l8-runtime', ...options.labels },
        annotations: options.capacity === undefined ? {} : { 'l8.dev/capacity': String(options.capacity) },
      },
      spec: {
        nodeName: options.node ?? 'node-1',
        containers: [{ name: 'runtime', image: 'l8-runtime:test', ports: [{ name: 'http', containerPort: port }] }],
      },
    },
  });
  const setReady = async (ready: boolean) => {
    await kube.core.patchNamespacedPodStatus(
      {
        name,
        namespace,
        body: {
          status: {
            phase: 'Running',
            podIP: '127.0.0.1',
            podIPs: [{ ip: '127.0.0.1' }],
            conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date() }],
          },
        },
      },
      mergePatch(),
    );
  };
  await setReady(true);
  return {
    name,
    url: proc.httpUrl,
    get process() {
      return proc;
    },
    setReady,
    async restart() {
      await proc.stop();
      proc = await start({ dataDir: proc.dataDir, port });
    },
    async stop() {
      await proc.stop();
      await kube.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    },
  };
}

/** The URL of a pod's "http" port: pod IP plus the container port, as a Service would route. */
export function podUrl(pod: V1Pod): string | undefined {
  const ip = pod.status?.podIP;
  const port = pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === 'http')?.containerPort;
  return ip && port ? `http://${ip}:${port}` : undefined;
}

/** The Ready pods a Service's selector picks, as kube-proxy would see them. */
export async function endpointsOf(kube: Kube, namespace: string, service: string): Promise<Array<{ pod: string; url: string }>> {
  const svc = await kube.core.readNamespacedService({ name: service, namespace });
  const selector = Object.entries(svc.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await kube.core.listNamespacedPod({ namespace, labelSelector: selector });
  return pods.items
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .flatMap((p) => {
      const url = podUrl(p);
      return url ? [{ pod: p.metadata!.name!, url }] : [];
    });
}

export async function getFunction(kube: Kube, namespace: string, name: string): Promise<FunctionResource> {
  return (await kube.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as FunctionResource;
}

export async function createFunction(kube: Kube, namespace: string, name: string, spec: FunctionResource['spec']): Promise<FunctionResource> {
  return (await kube.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Function', metadata: { name }, spec },
  })) as FunctionResource;
}

export async function patchFunctionSpec(kube: Kube, namespace: string, name: string, spec: Partial<FunctionResource['spec']>): Promise<FunctionResource> {
  return (await kube.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { spec } }, mergePatch())) as FunctionResource;
}

/** Waits until the Function's Ready condition is True for its current generation with `replicas` pods. */
export async function waitReady(kube: Kube, namespace: string, name: string, replicas: number, timeoutMs = 20_000): Promise<FunctionResource> {
  return waitFor(`function ${name} to be Ready on ${replicas} pods`, timeoutMs, async () => {
    const fn = await getFunction(kube, namespace, name);
    const ready = fn.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' && fn.status?.observedGeneration === fn.metadata.generation && fn.status?.readyReplicas === replicas && fn.status?.placements?.length === replicas && fn;
  });
}

export interface OperatorProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  identity: string;
  /** Base URL of its /healthz and /readyz. */
  health: string;
  /** Status writes it logged. */
  writes(): number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node operator/main.ts` and waits until it says it started. */
export async function startOperator(options: { namespace: string; kubeconfig: string; identity: string; args?: string[] }): Promise<OperatorProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'operator/main.ts'), '--namespace', options.namespace, '--kubeconfig', options.kubeconfig, '--identity', options.identity, '--health-port', '0', '--health-host', '127.0.0.1', ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, L8_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let health = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`operator did not start within 20 s:\n${JSON.stringify(logs)}\n${stderr.join('')}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'L8 operator started') {
          health = String(entry.health);
          clearTimeout(timer);
          resolve();
        }
      } catch {
        logs.push({ msg: line });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`operator exited with code ${code}:\n${JSON.stringify(logs)}\n${stderr.join('')}`));
    });
  });
  return {
    child,
    logs,
    identity: options.identity,
    health,
    writes: () => logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('updated status of function')).length,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Creates a ConfigMap holding a file as binaryData (what `kubectl create configmap --from-file` does). */
export async function createModuleConfigMap(kube: Kube, namespace: string, name: string, key: string, bytes: Uint8Array): Promise<void> {
  await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, binaryData: { [key]: Buffer.from(bytes).toString('base64') } } });
}
