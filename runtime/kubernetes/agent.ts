// The agent inside a runtime pod (`l8 serve --kubernetes-agent`): it watches the
// Functions of its namespace, loads the ones whose status places them on its own pod —
// through the same Deployer as the CLI and the admin API — unloads the ones taken away,
// and reports what it runs on its pod:
// - annotation l8.dev/functions: JSON {name: {serving, target, state, message, version}},
//   read by the operator (readiness, Degraded) and by people (kubectl describe pod);
// - label fn.l8.dev/<name>: "true" while it serves <name>, so the Function's Service
//   sends traffic only to pods that host it.
//
// A function taken away first loses its label, keeps serving for the drain period (so
// clients that still route to this pod get answers while endpoints update), then goes.
// A new revision is loaded while the old one serves; the runtime switches atomically, so
// no request fails, and a revision that cannot load leaves the old one serving.
//
// The agent owns only the functions it deployed (recorded in <dataDir>/kubernetes-agent.json),
// so a restart with the same data dir resumes without reloading anything.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../functions/atomic-file.ts';
import { L8Error } from '../../host/errors.ts';
import { describeError, isNotFound } from '../../operator/kube/client.ts';
import { Informer } from '../../operator/kube/informer.ts';
import {
  GROUP,
  PLURAL,
  REPORT_ANNOTATION,
  SERVING_LABEL_PREFIX,
  VERSION,
  revisionOf,
  servingLabel,
  type FunctionReport,
  type FunctionResource,
  type LoadState,
  type PodReport,
} from '../../operator/function-resource.ts';
import type { Runtime } from '../runtime.ts';
import { manifestOf, moduleOf } from './function-source.ts';

export interface AgentOptions {
  kc: KubeConfig;
  namespace: string;
  pod: string;
  /** How often loaded functions are resolved again (ConfigMap/Secret values, ConfigMap modules). */
  resyncMs?: number;
  /** How long a function taken away keeps serving after its label is removed. */
  drainMs?: number;
}

interface Managed {
  serving?: string;
  target: string;
  state: LoadState;
  message?: string;
  version?: number;
  resolvedAt: number;
  failures: number;
  retryAt: number;
  drainTimer?: NodeJS.Timeout;
  /** performance.now() after which a draining function is unloaded. */
  drainUntil?: number;
}

const STATE_FILE = 'kubernetes-agent.json';
const RETRY_MS = { initial: 2_000, max: 60_000 };

export class KubernetesAgent {
  private readonly runtime: Runtime;
  private readonly options: Required<Omit<AgentOptions, 'kc'>>;
  private readonly logger: Logger;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly functions: Informer<FunctionResource>;
  private readonly managed = new Map<string, Managed>();
  private running: Promise<void> | undefined;
  private dirty = false;
  private synced = false;
  private stopped = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** What the pod carries now, as far as we know (undefined until read). */
  private podLabels: Record<string, string> | undefined;
  private lastReport: string | undefined;
  private savedState: string | undefined;

  constructor(runtime: Runtime, options: AgentOptions) {
    this.runtime = runtime;
    this.options = { namespace: options.namespace, pod: options.pod, resyncMs: options.resyncMs ?? 60_000, drainMs: options.drainMs ?? 5_000 };
    this.logger = runtime.logger.child({ component: 'kubernetes-agent', pod: options.pod, namespace: options.namespace });
    this.core = options.kc.makeApiClient(CoreV1Api);
    this.custom = options.kc.makeApiClient(CustomObjectsApi);
    const namespace = options.namespace;
    this.functions = new Informer<FunctionResource>({
      kc: options.kc,
      description: `functions in namespace ${namespace}`,
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
      notFoundHint: 'is the Function CRD installed? kubectl apply -f deploy/crd/function.yaml',
      list: () => this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL }) as Promise<KubernetesListObject<FunctionResource>>,
      logger: this.logger,
      onEvent: () => this.kick(),
    });
  }

  private get stateFile(): string {
    return join(this.runtime.config.dataDir, STATE_FILE);
  }

  async start(): Promise<void> {
    await this.restoreState();
    this.functions.start();
    this.resyncTimer = setInterval(() => this.kick(), Math.min(this.options.resyncMs, 30_000));
    void this.functions.synced.then(() => {
      this.synced = true;
      this.kick();
    });
    this.logger.info(`Kubernetes agent watching Functions placed on pod ${this.options.namespace}/${this.options.pod}`);
  }

  private async restoreState(): Promise<void> {
    let saved: Record<string, string> = {};
    try {
      saved = (JSON.parse(await readFile(this.stateFile, 'utf8')) as { functions?: Record<string, string> }).functions ?? {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`ignoring unreadable ${this.stateFile}: ${(error as Error).message}`);
    }
    for (const [name, revision] of Object.entries(saved)) {
      const live = this.runtime.table.get(name);
      if (!live) continue;
      this.managed.set(name, { serving: revision, target: revision, state: 'Ready', version: live.version.version, resolvedAt: performance.now(), failures: 0, retryAt: 0 });
    }
  }

  /** Every Function event in the namespace runs a pass; the file is written only when it changes. */
  private async saveState(): Promise<void> {
    const functions = Object.fromEntries([...this.managed].filter(([, m]) => m.serving).map(([name, m]) => [name, m.serving!]));
    const text = `${JSON.stringify({ functions }, null, 2)}\n`;
    if (text === this.savedState) return;
    await writeFileAtomic(this.stateFile, text);
    this.savedState = text;
  }

  /**
   * Asks for a reconcile pass; passes never overlap, and a request during one runs another.
   * Nothing runs before the first list (a partial view would unload what is placed here),
   * and a pass starts on a later turn of the event loop, after the burst of watch events
   * that asked for it (a relist delivers objects one by one).
   */
  private kick(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running || !this.synced) return;
    this.running = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.reconcile();
        } catch (error) {
          this.logger.error({ err: error }, `Kubernetes agent pass failed: ${describeError(error)}`);
          this.retryIn(RETRY_MS.initial);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  private retryIn(ms: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.kick(), ms);
  }

  private async reconcile(): Promise<void> {
    const desired = new Map<string, { fn: FunctionResource; placed: string }>();
    for (const fn of this.functions.list()) {
      const placement = fn.status?.placements?.find((p) => p.pod === this.options.pod);
      if (placement && !fn.metadata.deletionTimestamp) desired.set(fn.metadata.name, { fn, placed: placement.revision });
    }
    const now = performance.now();
    let nextRetry = Infinity;
    for (const [name, { fn, placed }] of desired) {
      if (this.stopped) return;
      let m = this.managed.get(name);
      if (m?.state === 'Draining') {
        clearTimeout(m.drainTimer);
        m.state = 'Ready';
        this.logger.info({ fn: name }, `function ${name} is placed here again; it keeps serving`);
      }
      const current = revisionOf(fn.spec);
      // The operator moves pods to a new revision one at a time: until it asks this pod,
      // the pod keeps what it serves (it cannot load an older spec it does not have).
      if (placed !== current && m?.serving) continue;
      if (m && m.serving === current && m.state === 'Ready' && now - m.resolvedAt < this.options.resyncMs) continue;
      if (m && m.state === 'Failed' && m.target === current && now < m.retryAt) {
        nextRetry = Math.min(nextRetry, m.retryAt);
        continue;
      }
      if (!m) {
        m = { target: current, state: 'Loading', resolvedAt: 0, failures: 0, retryAt: 0 };
        this.managed.set(name, m);
      }
      await this.load(name, fn, current, m);
      if (m.state === 'Failed') nextRetry = Math.min(nextRetry, m.retryAt);
    }
    for (const [name, m] of [...this.managed]) {
      if (desired.has(name)) continue;
      if (m.state !== 'Draining') this.drain(name, m);
      // Unloading runs inside the pass, never beside it: a function placed here again
      // while it drains is kept (above), and one being unloaded cannot come back half-way.
      else if (performance.now() >= m.drainUntil!) await this.unload(name, m);
      else {
        clearTimeout(m.drainTimer);
        m.drainTimer = setTimeout(() => this.kick(), m.drainUntil! - performance.now() + 1);
      }
    }
    await this.saveState();
    await this.report();
    if (nextRetry !== Infinity) this.retryIn(Math.max(50, nextRetry - performance.now()));
  }

  private async load(name: string, fn: FunctionResource, revision: string, m: Managed): Promise<void> {
    const started = performance.now();
    const first = m.serving !== revision;
    m.target = revision;
    const source = { core: this.core, namespace: this.options.namespace, registry: this.runtime.registry };
    try {
      const module = await moduleOf(fn, source);
      const manifest = await manifestOf(fn, source);
      const sha256 = module.bytes ? await this.runtime.deployer.upload(module.bytes) : module.sha256;
      const result = await this.runtime.deployer.deploy(manifest, sha256);
      m.serving = revision;
      m.state = 'Ready';
      m.message = undefined;
      m.version = result.version;
      m.failures = 0;
      m.resolvedAt = performance.now();
      if (result.changed || first) {
        this.logger.info({ fn: name, revision, version: result.version, sha256, ms: Math.round(performance.now() - started) }, `loaded function ${name} revision ${revision} (v${result.version})`);
      }
    } catch (error) {
      m.failures++;
      const wait = Math.min(RETRY_MS.max, RETRY_MS.initial * 2 ** (m.failures - 1));
      m.retryAt = performance.now() + wait;
      m.state = 'Failed';
      m.message = (error as Error).message;
      this.logger.warn({ fn: name, revision, attempt: m.failures, retryInMs: wait, serving: m.serving }, `cannot load function ${name} revision ${revision}: ${m.message}${m.serving ? ` (revision ${m.serving} keeps serving)` : ''}`);
    }
  }

  private drain(name: string, m: Managed): void {
    if (!m.serving) {
      this.managed.delete(name);
      return;
    }
    m.state = 'Draining';
    m.drainUntil = performance.now() + this.options.drainMs;
    this.logger.info({ fn: name, drainMs: this.options.drainMs }, `function ${name} is no longer placed here; unloading it in ${this.options.drainMs} ms`);
    m.drainTimer = setTimeout(() => this.kick(), this.options.drainMs);
  }

  private async unload(name: string, m: Managed): Promise<void> {
    try {
      await this.runtime.deployer.remove(name);
    } catch (error) {
      if (!(error instanceof L8Error && error.code === 'not_found')) {
        this.logger.error({ fn: name }, `cannot unload function ${name}: ${(error as Error).message}; retrying`);
        this.retryIn(RETRY_MS.initial);
        return;
      }
    }
    this.managed.delete(name);
    this.logger.info({ fn: name }, `unloaded function ${name}`);
  }

  /** Writes the annotation and serving labels on the pod when they changed. */
  private async report(): Promise<void> {
    const report: PodReport = {};
    const labels: Record<string, string | null> = {};
    for (const [name, m] of [...this.managed].sort(([a], [b]) => a.localeCompare(b))) {
      const entry: FunctionReport = { target: m.target, state: m.state };
      if (m.serving) entry.serving = m.serving;
      if (m.message) entry.message = m.message;
      if (m.version !== undefined) entry.version = m.version;
      report[name] = entry;
      if (m.serving && m.state !== 'Draining') labels[servingLabel(name)] = 'true';
    }
    try {
      if (this.podLabels === undefined) {
        const pod = await this.core.readNamespacedPod({ name: this.options.pod, namespace: this.options.namespace });
        this.podLabels = pod.metadata?.labels ?? {};
      }
      for (const key of Object.keys(this.podLabels)) {
        if (key.startsWith(SERVING_LABEL_PREFIX) && !(key in labels)) labels[key] = null;
      }
      for (const [key, value] of Object.entries(labels)) if (value !== null && this.podLabels[key] === value) delete labels[key];
      const annotation = JSON.stringify(report);
      if (annotation === this.lastReport && Object.keys(labels).length === 0) return;
      const pod = await this.core.patchNamespacedPod(
        { name: this.options.pod, namespace: this.options.namespace, body: { metadata: { annotations: { [REPORT_ANNOTATION]: annotation }, labels } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.podLabels = pod.metadata?.labels ?? {};
      this.lastReport = annotation;
    } catch (error) {
      this.podLabels = undefined;
      const why = isNotFound(error) ? `pod ${this.options.namespace}/${this.options.pod} does not exist (yet?)` : describeError(error);
      this.logger.warn(`cannot report to pod ${this.options.pod}: ${why}; retrying`);
      this.retryIn(isNotFound(error) ? 1_000 : RETRY_MS.initial);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    for (const m of this.managed.values()) clearTimeout(m.drainTimer);
    await this.functions.stop();
    await this.running;
  }
}
