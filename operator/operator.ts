// The L8 operator: watches Functions and runtime pods in one namespace and, while it
// holds the leader Lease, writes each Function's placements and status (decided by
// scheduler.ts) and keeps a Service per Function that selects the pods serving it.
//
// Placements live in the Function's status: the operator is their only writer, they are
// read back after a restart, and kubectl shows them with the Function. What each pod
// actually runs is the pod's own report (an annotation written by its agent). See
// docs/kubernetes.md for why.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesListObject, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  API_VERSION,
  CAPACITY_ANNOTATION,
  GROUP,
  KIND,
  PLURAL,
  RUNTIME_SELECTOR,
  VERSION,
  canonicalJson,
  readPodReport,
  revisionOf,
  servingSelector,
  type FunctionResource,
  type FunctionStatus,
} from './function-resource.ts';
import { describeError, isAlreadyExists, isConflict, isNotFound } from './kube/client.ts';
import { Informer } from './kube/informer.ts';
import { LeaderElector } from './leader-election.ts';
import { routeKeys } from './routes.ts';
import { plan, type RuntimePod } from './scheduler.ts';

export interface OperatorOptions {
  kc: KubeConfig;
  namespace: string;
  identity: string;
  logger: Logger;
  /** Functions a pod accepts when it declares no capacity (Infinity = no limit). */
  defaultCapacity?: number;
  /** How often every Function is looked at again even without events. */
  resyncMs?: number;
  /** Keep a Service per Function (default true). */
  services?: boolean;
  leaseName?: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

/** Labels of the Services the operator owns. */
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'l8-operator' };
const FUNCTION_LABEL = 'l8.dev/function';
const SERVICE_SELECTOR = `app.kubernetes.io/managed-by=l8-operator,${FUNCTION_LABEL}`;
const FIELD_MANAGER = 'l8-operator';

export class Operator {
  private readonly options: OperatorOptions;
  private readonly logger: Logger;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly functions: Informer<FunctionResource>;
  private readonly pods: Informer<V1Pod>;
  /** The Services this operator made (by label), so a deleted or edited one is put back at once. */
  private readonly services: Informer<V1Service>;
  private readonly elector: LeaderElector;
  /**
   * Status writes the watch has not delivered yet, so the next decisions build on them.
   * `basedOn` is the resourceVersion the write replaced: while the watch still shows that
   * version our write is newer; once it shows any other, the watch has caught up (our
   * write succeeded against `basedOn`, so every later version differs from it). This
   * needs no ordering of resourceVersions, which the API defines as opaque.
   */
  private readonly written = new Map<string, { object: FunctionResource; basedOn: string | undefined }>();
  private readonly queue = new Set<string>();
  private readonly retries = new Map<string, number>();
  /** Services of a Function's name that someone else owns (warned about once; retried on resync). */
  private readonly foreignServices = new Set<string>();
  private working = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: OperatorOptions) {
    this.options = options;
    this.logger = options.logger;
    const { kc, namespace, logger } = options;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.functions = new Informer<FunctionResource>({
      kc,
      description: `functions in namespace ${namespace}`,
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
      notFoundHint: 'is the Function CRD installed? kubectl apply -f deploy/crd/function.yaml',
      list: () => this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL }) as Promise<KubernetesListObject<FunctionResource>>,
      logger,
      onEvent: (event, fn) => this.onFunction(event, fn),
    });
    this.pods = new Informer<V1Pod>({
      kc,
      description: `runtime pods (${RUNTIME_SELECTOR}) in namespace ${namespace}`,
      path: `/api/v1/namespaces/${namespace}/pods`,
      labelSelector: RUNTIME_SELECTOR,
      list: () => this.core.listNamespacedPod({ namespace, labelSelector: RUNTIME_SELECTOR }),
      logger,
      onEvent: (_event, pod) => this.onPod(pod),
    });
    this.services = new Informer<V1Service>({
      kc,
      description: `Services of Functions in namespace ${namespace}`,
      path: `/api/v1/namespaces/${namespace}/services`,
      labelSelector: SERVICE_SELECTOR,
      list: () => this.core.listNamespacedService({ namespace, labelSelector: SERVICE_SELECTOR }),
      logger,
      onEvent: (_event, service) => {
        const fn = service.metadata?.labels?.[FUNCTION_LABEL];
        if (fn && this.functions.get(fn, namespace)) this.enqueue(fn);
      },
    });
    this.elector = new LeaderElector({
      kc,
      namespace,
      name: options.leaseName ?? 'l8-operator',
      identity: options.identity,
      leaseDurationSeconds: options.leaseDurationSeconds,
      renewDeadlineMs: options.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs,
      logger,
      onStartedLeading: () => this.startLeading(),
      onStoppedLeading: () => this.queue.clear(),
    });
  }

  get namespace(): string {
    return this.options.namespace;
  }

  isLeader(): boolean {
    return this.elector.isLeader();
  }

  /** True once both watches delivered their first list. */
  synced = false;

  async start(): Promise<void> {
    // Watches run on every replica, so a new leader decides from a warm cache at once.
    this.functions.start();
    this.pods.start();
    if (this.options.services !== false) this.services.start();
    void Promise.all([this.functions.synced, this.pods.synced, ...(this.options.services !== false ? [this.services.synced] : [])]).then(() => {
      this.synced = true;
      this.resync();
    });
    this.elector.start();
    this.resyncTimer = setInterval(() => this.resync(), this.options.resyncMs ?? 30_000);
  }

  private startLeading(): void {
    // Before the watches have listed, the resync that follows their first list does this.
    this.resync();
  }

  private resync(): void {
    if (!this.isLeader() || !this.synced) return;
    this.foreignServices.clear();
    for (const fn of this.functions.list()) this.enqueue(fn.metadata.name);
    if (this.options.services !== false) void this.collectServices();
  }

  private onFunction(event: 'add' | 'update' | 'delete', fn: FunctionResource): void {
    const name = fn.metadata.name;
    if (event === 'delete' || this.written.get(name)?.basedOn !== fn.metadata.resourceVersion) this.written.delete(name);
    if (event === 'delete') {
      if (this.isLeader() && this.options.services !== false) void this.deleteService(name);
      // Its pods may now have room for a function that is short of replicas.
      for (const other of this.functions.list()) if (this.shortOfReplicas(other)) this.enqueue(other.metadata.name);
      return;
    }
    this.enqueue(name);
    // Callers follow their callees' placements.
    for (const other of this.functions.list()) if (other.spec.capabilities?.invoke?.includes(name)) this.enqueue(other.metadata.name);
  }

  private onPod(pod: V1Pod): void {
    const podName = pod.metadata?.name;
    for (const fn of this.functions.list()) {
      const current = this.current(fn.metadata.name) ?? fn;
      if (current.status?.placements?.some((p) => p.pod === podName) || this.shortOfReplicas(current)) this.enqueue(fn.metadata.name);
    }
  }

  private shortOfReplicas(fn: FunctionResource): boolean {
    return (fn.status?.placements?.length ?? 0) !== (fn.spec.replicas ?? 1) || fn.status?.readyReplicas !== (fn.spec.replicas ?? 1);
  }

  private enqueue(name: string): void {
    // Before both watches have listed, a decision would miss pods or functions: the
    // first full resync (once synced) looks at everything.
    if (!this.isLeader() || this.stopped || !this.synced) return;
    this.queue.add(name);
    if (this.working) return;
    this.working = true;
    // Not now: events arrive in bursts (a relist delivers every object one by one), and a
    // decision must see the whole burst, never a cache that is half updated.
    setImmediate(() => void this.work());
  }

  private async work(): Promise<void> {
    try {
      while (this.queue.size > 0 && this.isLeader() && !this.stopped) {
        const name = this.queue.values().next().value!;
        this.queue.delete(name);
        try {
          await this.reconcile(name);
          this.retries.delete(name);
        } catch (error) {
          const attempt = (this.retries.get(name) ?? 0) + 1;
          this.retries.set(name, attempt);
          const wait = isConflict(error) ? 100 : Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
          if (!isConflict(error)) this.logger.warn({ fn: name, attempt }, `reconciling function ${name} failed: ${describeError(error)}; retrying in ${wait} ms`);
          setTimeout(() => this.enqueue(name), wait).unref();
        }
      }
    } finally {
      this.working = false;
    }
  }

  /** The freshest copy of a Function: our own unconfirmed write, or the watch's. */
  private current(name: string): FunctionResource | undefined {
    const watched = this.functions.get(name, this.namespace);
    const mine = this.written.get(name);
    if (mine && watched && watched.metadata.resourceVersion === mine.basedOn) return mine.object;
    this.written.delete(name);
    return watched;
  }

  private runtimePods(): Map<string, RuntimePod> {
    const pods = new Map<string, RuntimePod>();
    for (const pod of this.pods.list()) {
      const name = pod.metadata?.name;
      if (!name) continue;
      const capacityText = pod.metadata?.annotations?.[CAPACITY_ANNOTATION];
      const declared = capacityText === undefined ? NaN : Number(capacityText);
      pods.set(name, {
        name,
        node: pod.spec?.nodeName || name,
        labels: pod.metadata?.labels ?? {},
        ready: pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
        terminating: Boolean(pod.metadata?.deletionTimestamp),
        capacity: Number.isInteger(declared) && declared >= 0 ? declared : (this.options.defaultCapacity ?? Infinity),
        report: readPodReport(pod.metadata?.annotations),
      });
    }
    return pods;
  }

  private async reconcile(name: string): Promise<void> {
    const fn = this.current(name);
    if (!fn || fn.metadata.deletionTimestamp) return;
    const others = this.functions.list().filter((f) => f.metadata.name !== name).map((f) => this.current(f.metadata.name) ?? f);
    const load = new Map<string, number>();
    const routesOnPod = new Map<string, Set<string>>();
    for (const other of others) {
      const keys = routeKeys(other.spec.routes ?? []);
      for (const p of other.status?.placements ?? []) {
        load.set(p.pod, (load.get(p.pod) ?? 0) + 1);
        const set = routesOnPod.get(p.pod) ?? new Set<string>();
        for (const key of keys) set.add(key);
        routesOnPod.set(p.pod, set);
      }
    }
    const mine = routeKeys(fn.spec.routes ?? []);
    // Invoke is in-process: a caller runs only where its callees run. A callee placed
    // nowhere yet imposes nothing (otherwise two functions invoking each other could never
    // be placed); once it is placed, the caller moves to its pods (see docs/kubernetes.md).
    const invokes = new Map<string, Set<string>>();
    for (const target of new Set(fn.spec.capabilities?.invoke ?? [])) {
      if (target === name || target.includes('*')) continue;
      const callee = others.find((o) => o.metadata.name === target);
      const hosts = new Set((callee?.status?.placements ?? []).map((p) => p.pod));
      if (hosts.size > 0) invokes.set(target, hosts);
    }
    const result = plan({
      fn,
      revision: revisionOf(fn.spec),
      pods: this.runtimePods(),
      load,
      routeConflict: (pod) => mine.some((key) => routesOnPod.get(pod)?.has(key)),
      invokes,
      now: new Date().toISOString(),
    });
    if (!sameStatus(fn.status, result.status) && this.isLeader()) await this.writeStatus(fn, result);
    if (this.options.services !== false && this.isLeader()) await this.ensureService(fn);
  }

  private async writeStatus(fn: FunctionResource, result: ReturnType<typeof plan>): Promise<void> {
    const name = fn.metadata.name;
    const updated = (await this.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural: PLURAL,
      name,
      fieldManager: FIELD_MANAGER,
      body: { apiVersion: API_VERSION, kind: KIND, metadata: fn.metadata, spec: fn.spec, status: result.status },
    })) as FunctionResource;
    // Chained writes before the watch catches up stay based on the version it still shows.
    const prior = this.written.get(name);
    const basedOn = prior && prior.object === fn ? prior.basedOn : fn.metadata.resourceVersion;
    if (this.functions.get(name, this.namespace)?.metadata.resourceVersion === basedOn) this.written.set(name, { object: updated, basedOn });
    const ready = result.status.conditions?.find((c) => c.type === 'Ready');
    this.logger.info(
      { fn: name, revision: result.status.revision, placements: result.status.placements?.map((p) => `${p.pod}@${p.revision}`), ready: `${result.status.readyReplicas}/${fn.spec.replicas ?? 1}`, reason: ready?.reason, changes: result.changes },
      `updated status of function ${name}${result.changes.length ? `: ${result.changes.join('; ')}` : ''}`,
    );
  }

  private async ensureService(fn: FunctionResource): Promise<void> {
    const name = fn.metadata.name;
    const uid = fn.metadata.uid ?? '';
    const desired: V1Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name,
        namespace: this.namespace,
        labels: { ...MANAGED_BY, [FUNCTION_LABEL]: name },
        // The API server's garbage collector deletes the Service with its Function.
        ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name, uid, controller: true, blockOwnerDeletion: false }],
      },
      spec: {
        selector: servingSelector(name),
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      },
    };
    const existing = this.services.get(name, this.namespace);
    if (existing) {
      if (canonicalJson(existing.spec?.selector) === canonicalJson(desired.spec!.selector) && existing.metadata?.ownerReferences?.[0]?.uid === uid) return;
      await this.core.patchNamespacedService({ name, namespace: this.namespace, body: { metadata: { ownerReferences: desired.metadata!.ownerReferences, labels: desired.metadata!.labels }, spec: { selector: desired.spec!.selector } } }, mergePatch());
      this.logger.info({ fn: name }, `repaired the selector and owner of Service ${name}`);
      return;
    }
    if (this.foreignServices.has(name)) return;
    try {
      await this.core.createNamespacedService({ namespace: this.namespace, body: desired, fieldManager: FIELD_MANAGER });
      this.logger.info({ fn: name }, `created Service ${name} for function ${name}`);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      // Ours but not yet on the watch, or somebody else's.
      const other = await this.core.readNamespacedService({ name, namespace: this.namespace });
      if (other.metadata?.labels?.[FUNCTION_LABEL] === name) return;
      this.foreignServices.add(name);
      this.logger.warn({ fn: name }, `a Service named ${name} exists and is not managed by the L8 operator; leaving it alone (use another name for the function, or delete that Service)`);
    }
  }

  private async deleteService(name: string): Promise<void> {
    try {
      const existing = await this.core.readNamespacedService({ name, namespace: this.namespace });
      if (existing.metadata?.labels?.[FUNCTION_LABEL] !== name) return;
      await this.core.deleteNamespacedService({ name, namespace: this.namespace });
      this.logger.info({ fn: name }, `deleted Service ${name} of deleted function ${name}`);
    } catch (error) {
      if (!isNotFound(error)) this.logger.warn({ fn: name }, `could not delete Service ${name}: ${describeError(error)}`);
    }
  }

  /** Deletes our Services whose Function is gone (deleted while no operator led). */
  private async collectServices(): Promise<void> {
    for (const service of this.services.list()) {
      const fn = service.metadata?.labels?.[FUNCTION_LABEL];
      if (fn && !this.functions.get(fn, this.namespace) && this.isLeader()) await this.deleteService(fn);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    this.queue.clear();
    await this.elector.stop();
    await Promise.all([this.functions.stop(), this.pods.stop(), this.services.stop()]);
  }
}

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Status equality that ignores nothing the operator writes (lastTransitionTime is kept stable by the planner). */
function sameStatus(a: FunctionStatus | undefined, b: FunctionStatus): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b);
}
