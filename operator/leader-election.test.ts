// Leader election against the real API server: one leader at a time, a quick hand-over on
// a clean stop, and a leader that loses the API steps down before anyone else takes over.
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, createNamespace, deleteNamespace, serviceAccountKubeconfig, waitFor, type Kube } from '../test/support/kube.ts';
import { describeWithService } from '../test/support/services.ts';
import { loadKubeConfig } from './kube/client.ts';
import { LeaderElector } from './leader-election.ts';

const logger = pino({ level: 'silent' });
// Generous against a busy CI box: a starved leader must not lose the Lease by accident.
const TIMING = { leaseDurationSeconds: 4, renewDeadlineMs: 3000, retryPeriodMs: 400 };

describeWithService('k8s', 'leader election on a Lease', (k8s) => {
  let kube: Kube;
  let namespace: string;
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    kube = connect(k8s.kubeconfig);
    namespace = await createNamespace(kube, 'l8-lease');
  });
  afterAll(async () => {
    await Promise.all(electors.map((e) => e.stop()));
    if (namespace) await deleteNamespace(kube, namespace);
  });

  function elector(identity: string, lease: string, events: string[], kubeconfig = k8s.kubeconfig): LeaderElector {
    const e = new LeaderElector({
      kc: loadKubeConfig(kubeconfig),
      namespace,
      name: lease,
      identity,
      logger,
      ...TIMING,
      onStartedLeading: () => events.push(`${identity} started ${performance.now()}`),
      onStoppedLeading: () => events.push(`${identity} stopped ${performance.now()}`),
    });
    electors.push(e);
    return e;
  }

  it('lets exactly one of two candidates lead, and hands over at once when the leader stops', async () => {
    const events: string[] = [];
    const a = elector('a', 'one-leader', events);
    const b = elector('b', 'one-leader', events);
    a.start();
    b.start();
    await waitFor('a leader', 5000, () => a.isLeader() || b.isLeader());
    // Several renew periods later there is still exactly one.
    for (let i = 0; i < 8; i++) {
      expect(Number(a.isLeader()) + Number(b.isLeader())).toBe(1);
      await new Promise((r) => setTimeout(r, 150));
    }
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    const lease = await kube.coordination.readNamespacedLease({ name: 'one-leader', namespace });
    expect(lease.spec?.holderIdentity).toBe(leader.identity);

    const stoppedAt = performance.now();
    await leader.stop();
    expect(leader.isLeader()).toBe(false);
    await waitFor('the follower to lead', 5000, () => follower.isLeader(), 20);
    // A released Lease is taken on the next try, not after the lease duration.
    expect(performance.now() - stoppedAt).toBeLessThan(TIMING.leaseDurationSeconds * 1000);
    const taken = await kube.coordination.readNamespacedLease({ name: 'one-leader', namespace });
    expect(taken.spec?.holderIdentity).toBe(follower.identity);
    expect(taken.spec?.leaseTransitions).toBe(1);
  });

  it('makes a leader that cannot reach the API stop acting before another takes over', async () => {
    // "a" authenticates as a ServiceAccount; taking its RBAC grant away cuts it off from
    // the Lease as a network partition would: a can no longer renew.
    const rbac = { apiGroup: 'rbac.authorization.k8s.io' };
    await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'cut-off' } } });
    const { RbacAuthorizationV1Api } = await import('@kubernetes/client-node');
    const rbacApi = kube.kc.makeApiClient(RbacAuthorizationV1Api);
    await rbacApi.createNamespacedRole({ namespace, body: { metadata: { name: 'lease' }, rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }] } });
    await rbacApi.createNamespacedRoleBinding({ namespace, body: { metadata: { name: 'lease' }, roleRef: { ...rbac, kind: 'Role', name: 'lease' }, subjects: [{ kind: 'ServiceAccount', name: 'cut-off', namespace }] } });
    const events: string[] = [];
    const a = elector('a', 'partition', events, await serviceAccountKubeconfig(kube, namespace, 'cut-off'));
    a.start();
    await waitFor('a to lead', 5000, () => a.isLeader());
    const b = elector('b', 'partition', events);
    b.start();
    await new Promise((r) => setTimeout(r, 600));
    expect(b.isLeader()).toBe(false);

    await rbacApi.deleteNamespacedRoleBinding({ name: 'lease', namespace });
    await waitFor('b to take over', 10_000, () => b.isLeader(), 20);
    const time = (what: string) => Number(events.find((e) => e.startsWith(what))!.split(' ')[2]);
    // Never two leaders: a stopped before b started.
    expect(time('a stopped')).toBeLessThan(time('b started'));
    expect(a.isLeader()).toBe(false);
  });
});
