// The Kubernetes path end to end against the real kube-apiserver: the operator
// (`node operator/main.ts`) and runtime pods (`l8 serve --kubernetes-agent` processes with
// Pod objects whose status we write, see test/support/kube.ts), each running as the
// ServiceAccount deploy/rbac.yaml defines, so the RBAC there is proven sufficient.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, readPodReport, type FunctionResource } from '../operator/function-resource.ts';
import {
  RBAC_FILE,
  applyFile,
  connect,
  createFunction,
  createModuleConfigMap,
  createNamespace,
  deleteNamespace,
  endpointsOf,
  getFunction,
  installCrd,
  mergePatch,
  patchFunctionSpec,
  serviceAccountKubeconfig,
  startOperator,
  startRuntimePod,
  waitFor,
  waitReady,
  type Kube,
  type OperatorProcess,
  type RuntimePod,
} from './support/kube.ts';
import { ROOT } from './support/runtime-process.ts';
import { describeWithService } from './support/services.ts';

const BUILD = join(ROOT, 'examples/assemblyscript/build');
const HELLO = readFileSync(join(BUILD, 'hello.wasm'));
const GREETING = readFileSync(join(BUILD, 'greeting.wasm'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const HELLO_TEXT = 'Hello from AssemblyScript!';
/** Short leader-election timings keep the fail-over test fast. */
const OPERATOR_ARGS = ['--lease-duration', '5s', '--renew-deadline', '4s', '--retry-period', '500ms', '--resync', '2s'];
const helloSpec = { module: { configMap: { name: 'hello-wasm', key: 'hello.wasm' } }, routes: ['GET /hello'] };

describeWithService('k8s', 'Functions on Kubernetes: operator, runtime pods and their agents', (k8s) => {
  let kube: Kube;
  let namespace: string;
  let runtimeConfig: string;
  let operatorConfig: string;
  let modules: Server;
  let modulesUrl: string;
  const pods = new Map<string, RuntimePod>();
  const operators: OperatorProcess[] = [];
  let operator: OperatorProcess;

  const addPod = async (name: string, node: string) => {
    const pod = await startRuntimePod(kube, { namespace, name, node, kubeconfig: runtimeConfig });
    pods.set(name, pod);
    return pod;
  };
  const runOperator = async (identity: string) => {
    const started = await startOperator({ namespace, kubeconfig: operatorConfig, identity, args: OPERATOR_ARGS });
    operators.push(started);
    return started;
  };
  const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(5000) }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const placed = (fn: FunctionResource) => (fn.status?.placements ?? []).map((p) => p.pod).sort();
  const reportOf = async (pod: string) => readPodReport((await kube.core.readNamespacedPod({ name: pod, namespace })).metadata?.annotations);

  beforeAll(async () => {
    kube = connect(k8s.kubeconfig);
    await installCrd(kube);
    namespace = await createNamespace(kube, 'l8-e2e');
    await applyFile(kube, RBAC_FILE, namespace);
    [runtimeConfig, operatorConfig] = await Promise.all([serviceAccountKubeconfig(kube, namespace, 'l8-runtime'), serviceAccountKubeconfig(kube, namespace, 'l8-operator')]);
    await createModuleConfigMap(kube, namespace, 'hello-wasm', 'hello.wasm', HELLO);
    await createModuleConfigMap(kube, namespace, 'greeting-wasm', 'greeting.wasm', GREETING);
    await createModuleConfigMap(kube, namespace, 'not-wasm', 'module.wasm', new TextEncoder().encode('this is not WebAssembly'));
    await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'greeting' }, stringData: { word: 'Howdy' } } });
    // Modules by URL come from a plain HTTP server, as they would from an artifact store.
    modules = createServer((req, res) => {
      if (req.url === '/hello.wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end(HELLO);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => modules.listen(0, '127.0.0.1', r));
    modulesUrl = `http://127.0.0.1:${(modules.address() as AddressInfo).port}`;
    // Two pods on node-1, one on node-2: spreading over nodes is visible.
    // allSettled: if one fails to start, the others are in `pods` before afterAll stops them.
    const started = await Promise.allSettled([addPod('rt-a', 'node-1'), addPod('rt-b', 'node-1'), addPod('rt-c', 'node-2')]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    operator = await runOperator('operator-1');
  }, 120_000);

  // A failure is explained by what the operator and the agents logged: keep it with the failure.
  afterEach((context) => {
    if (context.task.result?.state !== 'fail') return;
    const lines = [
      ...operators.flatMap((o) => o.logs.map((l) => ({ time: String(l.time), who: o.identity, line: JSON.stringify(l) }))),
      ...[...pods.values()].flatMap((p) => p.process.logs.map((l) => ({ time: String((JSON.parse(l.startsWith('{') ? l : '{}') as { time?: string }).time), who: p.name, line: l }))),
    ].sort((a, b) => a.time.localeCompare(b.time));
    const file = join(tmpdir(), `l8-k8s-e2e-${Date.now()}.log`);
    writeFileSync(file, lines.map((l) => `${l.who} ${l.line}`).join('\n'));
    console.error(`[k8s e2e] operator and agent logs of the failed test: ${file}`);
  });

  afterAll(async () => {
    await Promise.all(operators.map((o) => o.stop()));
    await Promise.all([...pods.values()].map((p) => p.stop()));
    modules?.close();
    if (namespace) await deleteNamespace(kube, namespace);
  });

  it('makes a Function Ready on the requested number of pods, which answer over HTTP; other pods do not serve it', async () => {
    const created = performance.now();
    await createFunction(kube, namespace, 'hello', { ...helloSpec, replicas: 2 });
    const fn = await waitReady(kube, namespace, 'hello', 2);
    console.info(`[k8s e2e] Function created -> Ready on 2 pods in ${Math.round(performance.now() - created)} ms`);
    const chosen = placed(fn);
    expect(new Set(chosen).size).toBe(2);
    // Spread: one replica on each node.
    expect(chosen).toContain('rt-c');
    expect(fn.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Ready'],
      ['Scheduled', 'True', 'Scheduled'],
      ['Degraded', 'False', 'AsExpected'],
    ]);

    // The Function's Service selects exactly the pods that serve it.
    const endpoints = await endpointsOf(kube, namespace, 'hello');
    expect(endpoints.map((e) => e.pod).sort()).toEqual(chosen);
    for (const endpoint of endpoints) expect(await get(`${endpoint.url}/hello`)).toEqual({ status: 200, body: HELLO_TEXT });
    const other = [...pods.values()].find((p) => !chosen.includes(p.name))!;
    expect((await get(`${other.url}/hello`)).status).toBe(404);

    // The Service belongs to the Function (garbage-collected with it) and comes back if deleted.
    const service = await kube.core.readNamespacedService({ name: 'hello', namespace });
    expect(service.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Function', name: 'hello', uid: fn.metadata.uid, controller: true })]);
    expect(service.spec?.ports).toEqual([expect.objectContaining({ name: 'http', port: 80, targetPort: 'http' })]);
    await kube.core.deleteNamespacedService({ name: 'hello', namespace });
    await waitFor('the Service to be put back', 10_000, () => kube.core.readNamespacedService({ name: 'hello', namespace }).then((s) => s.metadata?.uid !== service.metadata?.uid));

    // kubectl get functions: the printer columns.
    const columns = await fetchTable(kube, `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`);
    expect(columns.names).toEqual(['Name', 'Replicas', 'Placed', 'Ready', 'Status', 'Revision', 'Age']);
    expect(columns.rows[0]!.slice(0, 6)).toEqual(['hello', 2, 2, 2, 'Ready', fn.status!.revision]);
  });

  it('moves placements when replicas are scaled up and down, also through the scale subresource', async () => {
    await patchFunctionSpec(kube, namespace, 'hello', { replicas: 3 });
    const three = await waitReady(kube, namespace, 'hello', 3);
    expect(placed(three)).toEqual(['rt-a', 'rt-b', 'rt-c']);
    expect((await endpointsOf(kube, namespace, 'hello')).length).toBe(3);

    const scale = await kube.custom.getNamespacedCustomObjectScale({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'hello' });
    expect(scale).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 3, selector: 'l8.dev/runtime=true,fn.l8.dev/hello=true' } });
    // What `kubectl scale function hello --replicas=1`, an HPA or KEDA does.
    await kube.custom.patchNamespacedCustomObjectScale({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'hello', body: { spec: { replicas: 1 } } }, mergePatch());
    const one = await waitReady(kube, namespace, 'hello', 1);
    const [kept] = placed(one);
    // The pods that lost it stop getting traffic, then unload it after the drain period.
    await waitFor('the other pods to unload hello', 10_000, async () => {
      for (const pod of pods.values()) {
        if (pod.name === kept) continue;
        if ((await get(`${pod.url}/hello`)).status !== 404) return false;
      }
      return true;
    });
    expect((await endpointsOf(kube, namespace, 'hello')).map((e) => e.pod)).toEqual([kept]);
    expect((await get(`${pods.get(kept!)!.url}/hello`)).body).toBe(HELLO_TEXT);
  });

  it('moves a replica off a pod that becomes unready, once its replacement serves', async () => {
    const before = placed(await getFunction(kube, namespace, 'hello'));
    const sick = pods.get(before[0]!)!;
    await sick.setReady(false);
    const moved = await waitFor('hello to move off the unready pod', 10_000, async () => {
      const fn = await getFunction(kube, namespace, 'hello');
      return placed(fn).length === 1 && placed(fn)[0] !== sick.name && fn.status?.readyReplicas === 1 && fn;
    });
    expect((await get(`${pods.get(placed(moved)[0]!)!.url}/hello`)).body).toBe(HELLO_TEXT);
    await sick.setReady(true);
  });

  it('reschedules the functions of a deleted runtime pod within 10 s', async () => {
    await patchFunctionSpec(kube, namespace, 'hello', { replicas: 2 });
    const before = placed(await waitReady(kube, namespace, 'hello', 2));
    const victim = before.find((p) => p !== 'rt-c') ?? before[0]!;
    const started = performance.now();
    // The pod is bound to a node, so deleting it starts graceful termination, as in a cluster.
    await kube.core.deleteNamespacedPod({ name: victim, namespace });
    const after = await waitFor('hello to be rescheduled', 10_000, async () => {
      const fn = await getFunction(kube, namespace, 'hello');
      return !placed(fn).includes(victim) && fn.status?.readyReplicas === 2 && fn.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && fn;
    }, 50);
    const elapsed = performance.now() - started;
    console.info(`[k8s e2e] runtime pod deleted -> its function Ready elsewhere in ${Math.round(elapsed)} ms`);
    expect(elapsed).toBeLessThan(10_000);
    for (const endpoint of await endpointsOf(kube, namespace, 'hello')) expect((await get(`${endpoint.url}/hello`)).body).toBe(HELLO_TEXT);
    expect(placed(after)).toHaveLength(2);
    await pods.get(victim)!.stop();
    pods.delete(victim);
    await addPod('rt-d', 'node-2');
  });

  it('rolls out an updated module with no failed request while it switches', async () => {
    await waitReady(kube, namespace, 'hello', 2);
    const load = startLoad(() => endpointsOf(kube, namespace, 'hello'), '/hello');
    await load.warm;
    // New module, new route set stays, config value from a Secret.
    await patchFunctionSpec(kube, namespace, 'hello', {
      module: { configMap: { name: 'greeting-wasm', key: 'greeting.wasm' } },
      config: [{ name: 'greeting', valueFrom: { secretKeyRef: { name: 'greeting', key: 'word' } } }],
    } as Partial<FunctionResource['spec']>);
    const fn = await waitReady(kube, namespace, 'hello', 2);
    // Keep sending a little longer, across the last pod's switch and label changes.
    await new Promise((r) => setTimeout(r, 500));
    const result = await load.stop();
    console.info(`[k8s e2e] rollout under load: ${result.total} requests, ${result.failures.length} failed, answers ${JSON.stringify(Object.fromEntries(result.bodies))}`);
    expect(result.failures).toEqual([]);
    expect(result.bodies.get(HELLO_TEXT)).toBeGreaterThan(0);
    expect(result.bodies.get('Howdy, world!')).toBeGreaterThan(0);
    expect(result.total).toBeGreaterThan(50);
    for (const endpoint of await endpointsOf(kube, namespace, 'hello')) expect((await get(`${endpoint.url}/hello`)).body).toBe('Howdy, world!');
    // One pod at a time: the operator logged two separate steps.
    expect(operator.logs.filter((l) => String(l.msg).includes(`load revision ${fn.status!.revision}`))).toHaveLength(2);
  });

  it('resumes after a runtime container restart without reloading what it serves', async () => {
    const fn = await waitReady(kube, namespace, 'hello', 2);
    const pod = pods.get(placed(fn)[0]!)!;
    const version = (await reportOf(pod.name)).hello?.version;
    await pod.restart();
    // Served from the registry in the data dir as soon as the runtime listens.
    expect(await get(`${pod.url}/hello`)).toEqual({ status: 200, body: 'Howdy, world!' });
    await new Promise((r) => setTimeout(r, 500));
    expect(pod.process.logs.filter((l) => l.includes('loaded function hello'))).toEqual([]);
    expect((await reportOf(pod.name)).hello).toMatchObject({ state: 'Ready', version, serving: fn.status!.revision });
    expect(placed(await getFunction(kube, namespace, 'hello'))).toEqual(placed(fn));
  });

  it('marks a Function Degraded with the reason when a new revision cannot load, and keeps the old one serving', async () => {
    const before = await getFunction(kube, namespace, 'hello');
    await patchFunctionSpec(kube, namespace, 'hello', { module: { configMap: { name: 'not-wasm', key: 'module.wasm' } } });
    const degraded = await waitFor('hello to be Degraded', 15_000, async () => {
      const fn = await getFunction(kube, namespace, 'hello');
      return fn.status?.conditions?.find((c) => c.type === 'Degraded')?.status === 'True' && fn;
    });
    const condition = degraded.status!.conditions!.find((c) => c.type === 'Degraded')!;
    expect(condition.reason).toBe('LoadFailed');
    expect(condition.message).toMatch(/cannot load revision \w+: .*(WebAssembly|wasm)/i);
    expect(degraded.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'LoadFailed' });
    // The rollout stopped after the first pod; every pod still serves the previous module.
    expect(degraded.status!.placements!.filter((p) => p.revision === degraded.status!.revision)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 500));
    expect((await getFunction(kube, namespace, 'hello')).status!.placements!.filter((p) => p.revision === degraded.status!.revision)).toHaveLength(1);
    for (const endpoint of await endpointsOf(kube, namespace, 'hello')) expect((await get(`${endpoint.url}/hello`)).body).toBe('Howdy, world!');

    await patchFunctionSpec(kube, namespace, 'hello', { module: before.spec.module });
    const healed = await waitReady(kube, namespace, 'hello', 2);
    expect(healed.status!.conditions!.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });

  it('rejects invalid Functions by schema, and marks what only a pod can check Degraded', async () => {
    const rejected = async (name: string, spec: unknown) => {
      const error = await createFunction(kube, namespace, name, spec as FunctionResource['spec']).then(
        () => undefined,
        (e: { code: number; body: string }) => e,
      );
      expect(error?.code, `${name} should be rejected`).toBe(422);
      return (JSON.parse(error!.body) as { message: string }).message;
    };
    expect(await rejected('no-digest', { module: { url: `${modulesUrl}/hello.wasm` } })).toContain('module.url needs module.sha256');
    expect(await rejected('short-digest', { module: { url: `${modulesUrl}/hello.wasm`, sha256: 'abc' } })).toContain('spec.module.sha256');
    expect(await rejected('two-sources', { module: { url: `${modulesUrl}/x.wasm`, sha256: sha256(HELLO), configMap: { name: 'a', key: 'b' } } })).toContain('exactly one source');
    expect(await rejected('bad-route', { ...helloSpec, routes: ['FETCH /x'] })).toContain('spec.routes[0]');
    expect(await rejected('bad-replicas', { ...helloSpec, replicas: -1 })).toContain('spec.replicas');
    expect(await rejected('bad-limit', { ...helloSpec, limits: { memoryMb: 0 } })).toContain('spec.limits.memoryMb');
    expect(await rejected('bad-config', { ...helloSpec, config: [{ name: 'a', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] })).toContain('exactly one of value or valueFrom');
    expect(await rejected('Upper.Case', helloSpec)).toContain('DNS-1035');

    // Valid by schema, but the downloaded bytes do not match the digest.
    await createFunction(kube, namespace, 'wrong-digest', { module: { url: `${modulesUrl}/hello.wasm`, sha256: sha256(GREETING) }, routes: ['GET /wrong'] });
    // Valid by schema, but its ConfigMap does not exist.
    await createFunction(kube, namespace, 'no-configmap', { module: { configMap: { name: 'missing', key: 'm.wasm' } }, routes: ['GET /missing'] });
    for (const [name, reason] of [
      ['wrong-digest', `has sha256 ${sha256(HELLO)}, but spec.module.sha256 is ${sha256(GREETING)}`],
      ['no-configmap', 'ConfigMap missing does not exist'],
    ] as const) {
      const fn = await waitFor(`${name} to be Degraded`, 15_000, async () => {
        const f = await getFunction(kube, namespace, name);
        return f.status?.conditions?.find((c) => c.type === 'Degraded')?.status === 'True' && f;
      });
      expect(fn.status!.conditions!.find((c) => c.type === 'Degraded')!.message).toContain(reason);
      expect(fn.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'LoadFailed' });
      await kube.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name });
    }
  });

  it('runs a function that invokes another on the pods that host the other (invoke is in-process)', async () => {
    await createModuleConfigMap(kube, namespace, 'demo-wasm', 'stock.wasm', readFileSync(join(BUILD, 'stock.wasm')));
    await kube.core.patchNamespacedConfigMap(
      { name: 'demo-wasm', namespace, body: { binaryData: { 'inventory.wasm': readFileSync(join(BUILD, 'inventory.wasm')).toString('base64') } } },
      mergePatch(),
    );
    await createFunction(kube, namespace, 'stock', {
      module: { configMap: { name: 'demo-wasm', key: 'stock.wasm' } },
      routes: ['GET /stock/:name', 'PUT /stock/:name'],
      capabilities: { state: ['default'], publish: { default: ['stock-changed'] } },
      replicas: 1,
    });
    const stock = await waitReady(kube, namespace, 'stock', 1);
    // Two replicas asked, but only one pod hosts stock: the caller goes there and says why it cannot do more.
    await createFunction(kube, namespace, 'inventory', { module: { configMap: { name: 'demo-wasm', key: 'inventory.wasm' } }, routes: ['GET /inventory'], capabilities: { invoke: ['stock'] }, replicas: 2 });
    const short = await waitFor('inventory to be placed next to stock', 15_000, async () => {
      const fn = await getFunction(kube, namespace, 'inventory');
      return fn.status?.readyReplicas === 1 && fn;
    });
    expect(placed(short)).toEqual(placed(stock));
    expect(short.status!.conditions!.find((c) => c.type === 'Scheduled')!.message).toContain('do not host stock, which it invokes (scale it up)');
    const url = pods.get(placed(stock)[0]!)!.url;
    expect((await fetch(`${url}/stock/book`, { method: 'PUT', body: '7' })).status).toBe(200);
    expect((await get(`${url}/inventory?name=book`)).body).toBe('There are 7 inventories for book.');

    // Scaling the callee makes room for the caller.
    await patchFunctionSpec(kube, namespace, 'stock', { replicas: 2 });
    const both = await waitReady(kube, namespace, 'inventory', 2);
    expect(placed(both)).toEqual(placed(await waitReady(kube, namespace, 'stock', 2)));
    for (const name of ['inventory', 'stock']) await kube.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name });
  });

  it('restarting the operator neither duplicates nor loses placements', async () => {
    const before = await waitReady(kube, namespace, 'hello', 2);
    const versions = Object.fromEntries(await Promise.all(placed(before).map(async (p) => [p, (await reportOf(p)).hello?.version] as const)));
    await operator.stop();
    const lease = await kube.coordination.readNamespacedLease({ name: 'l8-operator', namespace });
    expect(lease.spec?.holderIdentity).toBe('');

    // Nothing changed while it was down: the new operator writes nothing, and no pod reloads.
    operator = await runOperator('operator-2');
    await waitFor('operator-2 to lead', 10_000, () => operator.logs.some((l) => l.msg === 'became the leader'));
    await new Promise((r) => setTimeout(r, 2500)); // longer than its resync period
    expect(operator.writes()).toBe(0);
    const same = await getFunction(kube, namespace, 'hello');
    expect(same.status!.placements).toEqual(before.status!.placements);
    for (const [pod, version] of Object.entries(versions)) expect((await reportOf(pod)).hello?.version).toBe(version);

    // Changes made while no operator runs are applied once, on top of what exists.
    await operator.stop();
    await patchFunctionSpec(kube, namespace, 'hello', { replicas: 3 });
    await createFunction(kube, namespace, 'late', { module: { url: `${modulesUrl}/hello.wasm`, sha256: sha256(HELLO) }, routes: ['GET /late'], replicas: 1 });
    operator = await runOperator('operator-3');
    const three = await waitReady(kube, namespace, 'hello', 3);
    expect(new Set(placed(three)).size).toBe(3);
    for (const p of before.status!.placements!) expect(three.status!.placements).toContainEqual(p);
    const late = await waitReady(kube, namespace, 'late', 1);
    const [host] = await endpointsOf(kube, namespace, 'late');
    expect(host!.pod).toBe(placed(late)[0]);
    expect((await get(`${host!.url}/late`)).body).toBe(HELLO_TEXT);
  });

  it('with two operators running, only the leader acts; the other takes over when the leader dies', async () => {
    const standby = await runOperator('operator-4');
    await waitFor('operator-4 to wait for the Lease', 5000, () => standby.logs.some((l) => String(l.msg).startsWith('waiting to lead')));
    await patchFunctionSpec(kube, namespace, 'hello', { replicas: 2 });
    await waitReady(kube, namespace, 'hello', 2);
    await new Promise((r) => setTimeout(r, 1000));
    expect(standby.writes()).toBe(0);
    expect(standby.logs.some((l) => l.msg === 'became the leader')).toBe(false);
    expect((await kube.coordination.readNamespacedLease({ name: 'l8-operator', namespace })).spec?.holderIdentity).toBe(operator.identity);
    // Both are ready (the standby is warm); only one says it leads.
    expect(await (await fetch(`${operator.health}/readyz`)).json()).toEqual({ status: 'UP', leader: true, identity: operator.identity });
    expect(await (await fetch(`${standby.health}/readyz`)).json()).toEqual({ status: 'UP', leader: false, identity: standby.identity });

    // The leader dies without releasing the Lease: the standby waits for it to expire.
    const writesBefore = operator.writes();
    expect(writesBefore).toBeGreaterThan(0);
    await operator.stop('SIGKILL');
    await patchFunctionSpec(kube, namespace, 'hello', { replicas: 1 });
    await waitReady(kube, namespace, 'hello', 1, 15_000);
    expect(standby.logs.some((l) => l.msg === 'became the leader')).toBe(true);
    // Its log line may reach us a moment after the status it wrote.
    await waitFor('the standby to log its status write', 5000, () => standby.writes() > 0);
    expect(operator.writes()).toBe(writesBefore);
    operator = standby;
  });
});

/** A load that keeps calling every endpoint the Service selects, refreshing them as kube-proxy would. */
function startLoad(resolve: () => Promise<Array<{ pod: string; url: string }>>, path: string) {
  let stopped = false;
  let endpoints: Array<{ pod: string; url: string }> = [];
  const failures: string[] = [];
  const bodies = new Map<string, number>();
  let total = 0;
  let warmResolve!: () => void;
  const warm = new Promise<void>((r) => (warmResolve = r));
  const refresher = (async () => {
    while (!stopped) {
      endpoints = await resolve().catch(() => endpoints);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const worker = async (index: number) => {
    let i = index;
    while (!stopped) {
      const list = endpoints;
      if (list.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const target = list[i++ % list.length]!;
      try {
        const response = await fetch(`${target.url}${path}`, { signal: AbortSignal.timeout(5000) });
        const body = await response.text();
        if (response.status !== 200) failures.push(`${target.pod}: HTTP ${response.status} ${body.slice(0, 200)}`);
        else bodies.set(body, (bodies.get(body) ?? 0) + 1);
      } catch (error) {
        failures.push(`${target.pod}: ${(error as Error).message}`);
      }
      total++;
      if (total === 20) warmResolve();
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  return {
    warm,
    async stop() {
      stopped = true;
      await Promise.all([refresher, ...workers]);
      return { failures, bodies, total };
    },
  };
}

/** What `kubectl get` shows: the API server's Table rendering of a list. */
async function fetchTable(kube: Kube, path: string): Promise<{ names: string[]; rows: unknown[][] }> {
  const { request } = await import('node:https');
  const options: import('node:https').RequestOptions = { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } };
  await kube.kc.applyToHTTPSOptions(options);
  const cluster = kube.kc.getCurrentCluster()!;
  const body = await new Promise<string>((resolveBody, reject) => {
    const req = request(`${cluster.server}${path}`, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolveBody(text));
    });
    req.on('error', reject);
    req.end();
  });
  const table = JSON.parse(body) as { columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> };
  return { names: table.columnDefinitions.map((c) => c.name), rows: table.rows.map((r) => r.cells) };
}
