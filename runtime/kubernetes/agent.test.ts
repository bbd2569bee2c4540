// The agent alone, in an in-process runtime against the real API server, with the test
// writing placements the way the operator does: load, drain, a placement that comes back
// while draining, unload, and a revision the operator has not asked this pod for yet.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GROUP, PLURAL, REPORT_ANNOTATION, VERSION, revisionOf, servingLabel, type FunctionResource, type FunctionSpec, type PodReport } from '../../operator/function-resource.ts';
import { connect, createFunction, createModuleConfigMap, createNamespace, deleteNamespace, getFunction, installCrd, mergePatch, patchFunctionSpec, waitFor, type Kube } from '../../test/support/kube.ts';
import { ROOT, tempDataDir } from '../../test/support/runtime-process.ts';
import { describeWithService } from '../../test/support/services.ts';
import { loadRuntimeConfig } from '../config.ts';
import { EXTENSIONS } from '../extensions.ts';
import { startRuntime, type Runtime } from '../runtime.ts';

const BUILD = join(ROOT, 'examples/assemblyscript/build');
const POD = 'agent-pod';
const DRAIN_MS = 1500;

describeWithService('k8s', 'the Kubernetes agent in a runtime pod', (k8s) => {
  let kube: Kube;
  let namespace: string;
  let runtime: Runtime;

  const spec: FunctionSpec = { module: { configMap: { name: 'modules', key: 'hello.wasm' } }, routes: ['GET /hello'] };
  const place = async (revision: string | null) => {
    const fn = await getFunction(kube, namespace, 'hello');
    await kube.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name: 'hello',
      body: { ...fn, status: { placements: revision ? [{ pod: POD, revision }] : [] } },
    });
  };
  const pod = async () => {
    const p = await kube.core.readNamespacedPod({ name: POD, namespace });
    return { labels: p.metadata?.labels ?? {}, report: JSON.parse(p.metadata?.annotations?.[REPORT_ANNOTATION] ?? '{}') as PodReport };
  };
  const hello = () => fetch(`${runtime.httpUrl}/hello`).then(async (r) => ({ status: r.status, body: await r.text() }));

  beforeAll(async () => {
    kube = connect(k8s.kubeconfig);
    await installCrd(kube);
    namespace = await createNamespace(kube, 'l8-agent');
    await kube.core.createNamespacedPod({ namespace, body: { metadata: { name: POD, labels: { 'l8.dev/runtime': 'true' } }, spec: { containers: [{ name: 'runtime', image: 'l8' }] } } });
    await createModuleConfigMap(kube, namespace, 'modules', 'hello.wasm', readFileSync(join(BUILD, 'hello.wasm')));
    await kube.core.patchNamespacedConfigMap(
      { name: 'modules', namespace, body: { binaryData: { 'greeting.wasm': readFileSync(join(BUILD, 'greeting.wasm')).toString('base64') } } },
      mergePatch(),
    );
    const config = loadRuntimeConfig(undefined, { port: 0, adminPort: 0, dataDir: tempDataDir('l8-agent-') }, { L8_API_PORT: '0', L8_GRPC_PORT: '0' }, EXTENSIONS.flatMap((e) => (e.configKey ? [e.configKey] : [])));
    runtime = await startRuntime(config, {
      logger: pino({ level: 'silent' }),
      flags: { 'kubernetes-agent': true, 'kubernetes-pod': POD, 'kubernetes-namespace': namespace, kubeconfig: k8s.kubeconfig, 'kubernetes-drain': `${DRAIN_MS}ms` },
    });
  });
  afterAll(async () => {
    await runtime?.close();
    if (namespace) await deleteNamespace(kube, namespace);
  });

  it('loads a Function placed on its pod and reports it on the pod', async () => {
    await createFunction(kube, namespace, 'hello', spec);
    expect((await hello()).status).toBe(404);
    const revision = revisionOf((await getFunction(kube, namespace, 'hello')).spec);
    await place(revision);
    await waitFor('hello to be served', 10_000, async () => (await hello()).status === 200);
    const seen = await waitFor('the report', 5000, async () => {
      const p = await pod();
      return p.labels[servingLabel('hello')] === 'true' && p;
    });
    expect(seen.report.hello).toEqual({ serving: revision, target: revision, state: 'Ready', version: 1 });
  });

  it('keeps serving a Function taken away while it drains, and keeps it when it is placed back', async () => {
    const revision = revisionOf(spec);
    await place(null);
    await waitFor('the serving label to go', 5000, async () => !(await pod()).labels[servingLabel('hello')]);
    expect((await pod()).report.hello?.state).toBe('Draining');
    // Clients that still route here get answers during the drain.
    expect((await hello()).status).toBe(200);
    await place(revision);
    await waitFor('the serving label to come back', 5000, async () => (await pod()).labels[servingLabel('hello')] === 'true');
    await new Promise((r) => setTimeout(r, DRAIN_MS + 500));
    expect(await hello()).toEqual({ status: 200, body: 'Hello from AssemblyScript!' });
    expect((await pod()).report.hello).toMatchObject({ state: 'Ready', version: 1 });
  });

  it('unloads a Function taken away once the drain is over', async () => {
    await place(null);
    await waitFor('hello to be unloaded', DRAIN_MS + 5000, async () => (await hello()).status === 404);
    await waitFor('the report to drop it', 5000, async () => (await pod()).report.hello === undefined);
  });

  it('keeps the revision it serves until the operator asks this pod for the new one', async () => {
    const v1 = revisionOf(spec);
    await place(v1);
    await waitFor('hello to be served', 10_000, async () => (await hello()).status === 200);
    const changed: Partial<FunctionSpec> = { module: { configMap: { name: 'modules', key: 'greeting.wasm' } }, config: [{ name: 'greeting', value: 'Hi' }] };
    const updated = (await patchFunctionSpec(kube, namespace, 'hello', changed)) as FunctionResource;
    const v2 = revisionOf(updated.spec);
    // The spec changed, but this pod's placement still names v1: nothing reloads.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await hello()).body).toBe('Hello from AssemblyScript!');
    expect((await pod()).report.hello).toMatchObject({ serving: v1, state: 'Ready' });
    await place(v2);
    await waitFor('the new revision to serve', 10_000, async () => (await hello()).body === 'Hi, world!');
    expect((await pod()).report.hello).toMatchObject({ serving: v2, target: v2, state: 'Ready', version: 2 });
  });
});
