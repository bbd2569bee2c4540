// The watch wrapper against the real API server: it comes back after 410 Gone and after
// errors that stop client-node's own ListWatch.
import { CustomObjectsApi, RbacAuthorizationV1Api, type KubernetesListObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, createFunction, createNamespace, deleteNamespace, installCrd, serviceAccountKubeconfig, waitFor, type Kube } from '../../test/support/kube.ts';
import { describeWithService } from '../../test/support/services.ts';
import { GROUP, PLURAL, VERSION, type FunctionResource } from '../function-resource.ts';
import { loadKubeConfig } from './client.ts';
import { Informer } from './informer.ts';

const logger = pino({ level: 'silent' });
const MODULE = { url: 'https://example.com/m.wasm', sha256: 'b'.repeat(64) };

describeWithService('k8s', 'informer', (k8s) => {
  let kube: Kube;
  let namespace: string;
  const informers: Informer<FunctionResource>[] = [];

  beforeAll(async () => {
    kube = connect(k8s.kubeconfig);
    await installCrd(kube);
    namespace = await createNamespace(kube, 'l8-informer');
  });
  afterAll(async () => {
    await Promise.all(informers.map((i) => i.stop()));
    if (namespace) await deleteNamespace(kube, namespace);
  });

  function functionsInformer(kubeconfig: string, list: (api: CustomObjectsApi) => Promise<KubernetesListObject<FunctionResource>>, events: string[]) {
    const kc = loadKubeConfig(kubeconfig);
    const api = kc.makeApiClient(CustomObjectsApi);
    const informer = new Informer<FunctionResource>({
      kc,
      description: 'functions',
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
      list: () => list(api),
      logger,
      backoffMs: { initial: 100, max: 400 },
      onEvent: (event, fn) => events.push(`${event} ${fn.metadata.name}`),
    });
    informers.push(informer);
    return informer.start();
  }
  const listFunctions = (api: CustomObjectsApi) => api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL }) as Promise<KubernetesListObject<FunctionResource>>;

  it('lists again after 410 Gone and keeps delivering events', async () => {
    await createFunction(kube, namespace, 'before', { module: MODULE });
    let lists = 0;
    const events: string[] = [];
    // The first list claims a resourceVersion the API server no longer keeps history for,
    // as after a long disconnection: the watch from it is answered with 410 Gone.
    const informer = functionsInformer(k8s.kubeconfig, async (api) => {
      const list = await listFunctions(api);
      lists++;
      return lists === 1 ? { ...list, metadata: { ...list.metadata, resourceVersion: '1' } } : list;
    }, events);
    await informer.synced;
    await waitFor('a second list after 410', 10_000, () => lists >= 2);
    await createFunction(kube, namespace, 'after', { module: MODULE });
    await waitFor('the event for a Function created after the relist', 10_000, () => events.includes('add after'));
    expect(informer.list().map((f) => f.metadata.name).sort()).toEqual(['after', 'before']);
    expect(informer.failures).toBe(0);
  });

  it('keeps retrying through errors (403 until RBAC allows it) and then syncs', async () => {
    await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reader' } } });
    const events: string[] = [];
    const informer = functionsInformer(await serviceAccountKubeconfig(kube, namespace, 'reader'), listFunctions, events);
    await waitFor('a few failed attempts', 10_000, () => informer.failures >= 2);
    const rbac = kube.kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'read-functions' }, rules: [{ apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch'] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: { metadata: { name: 'read-functions' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-functions' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }] },
    });
    await informer.synced;
    expect(informer.failures).toBe(0);
    expect(events).toEqual(expect.arrayContaining(['add before', 'add after']));
    await createFunction(kube, namespace, 'later', { module: MODULE });
    await waitFor('the watch to deliver a new Function', 10_000, () => events.includes('add later'));
  });
});
