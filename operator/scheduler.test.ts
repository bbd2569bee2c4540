import { describe, expect, it } from 'vitest';
import type { FunctionResource, FunctionSpec, Placement, PodReport } from './function-resource.ts';
import { plan, type PlanInput, type RuntimePod } from './scheduler.ts';

const NOW = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:01:00.000Z';

function pod(name: string, options: Partial<RuntimePod> = {}): RuntimePod {
  return { name, node: options.node ?? `node-${name}`, labels: {}, ready: true, terminating: false, capacity: Infinity, report: {}, ...options };
}

function fn(spec: Partial<FunctionSpec> = {}, placements?: Placement[], generation = 1): FunctionResource {
  return {
    metadata: { name: 'hello', generation },
    spec: { module: { url: 'https://example.com/hello.wasm', sha256: 'a'.repeat(64) }, routes: ['GET /hello'], ...spec },
    status: placements ? { placements } : undefined,
  };
}

function pods(...list: RuntimePod[]): Map<string, RuntimePod> {
  return new Map(list.map((p) => [p.name, p]));
}

const serving = (revision: string, extra: Partial<PodReport[string]> = {}): PodReport => ({ hello: { serving: revision, target: revision, state: 'Ready', ...extra } });

function run(input: Partial<PlanInput> & Pick<PlanInput, 'fn' | 'pods'>) {
  return plan({ revision: 'r1', load: new Map(), now: NOW, ...input });
}

const placedOn = (result: ReturnType<typeof plan>) => result.status.placements!.map((p) => p.pod);
const condition = (result: ReturnType<typeof plan>, type: string) => result.status.conditions!.find((c) => c.type === type)!;

describe('placing replicas', () => {
  it('places each replica on a distinct pod, spreading over nodes before filling the least loaded pod', () => {
    const result = run({
      fn: fn({ replicas: 2 }),
      pods: pods(pod('a', { node: 'n1' }), pod('b', { node: 'n1' }), pod('c', { node: 'n2' })),
      load: new Map([['c', 5]]),
    });
    // c is the most loaded pod, but the only one on n2: spread wins over load.
    expect(placedOn(result).sort()).toEqual(['a', 'c']);
    expect(result.status.placements!.every((p) => p.revision === 'r1' && p.since === NOW)).toBe(true);
  });

  it('prefers the least loaded pod when nodes tie, and the pod name when loads tie', () => {
    const result = run({ fn: fn({ replicas: 1 }), pods: pods(pod('a'), pod('b'), pod('c')), load: new Map([['a', 2], ['b', 1], ['c', 1]]) });
    expect(placedOn(result)).toEqual(['b']);
  });

  it('skips unready, terminating, full, unmatched and route-conflicting pods and says why it is short', () => {
    const result = run({
      fn: fn({ replicas: 3, podSelector: { matchLabels: { tier: 'edge' } } }),
      pods: pods(
        pod('unready', { ready: false, labels: { tier: 'edge' } }),
        pod('leaving', { terminating: true, labels: { tier: 'edge' } }),
        pod('full', { capacity: 1, labels: { tier: 'edge' } }),
        pod('other-tier', { labels: { tier: 'core' } }),
        pod('conflict', { labels: { tier: 'edge' } }),
        pod('ok', { labels: { tier: 'edge' } }),
      ),
      load: new Map([['full', 1]]),
      routeConflict: (name) => name === 'conflict',
    });
    expect(placedOn(result)).toEqual(['ok']);
    const scheduled = condition(result, 'Scheduled');
    expect(scheduled).toMatchObject({ status: 'False', reason: 'NotEnoughPods' });
    expect(scheduled.message).toBe('1 of 3 replicas placed: 3 ready runtime pods match the podSelector, 1 of them full, 1 serve another function with the same route. Add runtime pods, raise their capacity or lower spec.replicas.');
    expect(condition(result, 'Ready')).toMatchObject({ status: 'False', reason: 'NotEnoughPods' });
  });

  it('is Ready only once every replica serves the current revision', () => {
    const placements = [
      { pod: 'a', revision: 'r1' },
      { pod: 'b', revision: 'r1' },
    ];
    const loading = run({ fn: fn({ replicas: 2 }, placements), pods: pods(pod('a', { report: serving('r1') }), pod('b')) });
    expect(condition(loading, 'Ready')).toMatchObject({ status: 'False', reason: 'Loading', message: '1 of 2 pods serve revision r1' });
    expect(loading.status.readyReplicas).toBe(1);
    const ready = run({ fn: fn({ replicas: 2 }, placements), pods: pods(pod('a', { report: serving('r1') }), pod('b', { report: serving('r1') })) });
    expect(condition(ready, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(ready.status).toMatchObject({ replicas: 2, readyReplicas: 2, revision: 'r1', observedGeneration: 1, selector: 'l8.dev/runtime=true,fn.l8.dev/hello=true' });
  });

  it('does not count a draining pod as serving', () => {
    const result = run({ fn: fn({ replicas: 1 }, [{ pod: 'a', revision: 'r1' }]), pods: pods(pod('a', { report: serving('r1', { state: 'Draining' }) })) });
    expect(result.status.readyReplicas).toBe(0);
  });
});

describe('keeping placements', () => {
  it('changes nothing when applied to its own result (reconcile is idempotent)', () => {
    const world = pods(pod('a', { report: serving('r1') }), pod('b', { report: serving('r1') }), pod('c'));
    const first = run({ fn: fn({ replicas: 2 }), pods: world });
    const again = run({ fn: { ...fn({ replicas: 2 }), status: first.status }, pods: world, now: LATER });
    expect(again.status).toEqual(first.status);
    expect(again.changes).toEqual([]);
    const third = run({ fn: { ...fn({ replicas: 2 }), status: again.status }, pods: world, now: LATER });
    expect(third.status).toEqual(first.status);
  });

  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const world = pods(pod('a', { report: serving('r1') }));
    const first = run({ fn: fn({ replicas: 1 }, [{ pod: 'a', revision: 'r1' }]), pods: world });
    const second = run({ fn: { ...fn({ replicas: 1 }), status: first.status }, pods: world, now: LATER });
    expect(condition(second, 'Ready').lastTransitionTime).toBe(NOW);
  });

  it('replaces a replica whose pod is gone or terminating at once', () => {
    const result = run({
      fn: fn({ replicas: 2 }, [
        { pod: 'gone', revision: 'r1' },
        { pod: 'leaving', revision: 'r1' },
      ]),
      pods: pods(pod('leaving', { terminating: true, report: serving('r1') }), pod('x'), pod('y')),
    });
    expect(placedOn(result)).toEqual(['x', 'y']);
    expect(result.changes).toContain('replica on gone is lost (pod is gone)');
    expect(result.changes).toContain('replica on leaving is lost (pod is terminating)');
  });

  it('keeps a replica on an unready pod until its replacement serves, then removes it', () => {
    const before = [{ pod: 'a', revision: 'r1' }];
    const placing = run({ fn: fn({ replicas: 1 }, before), pods: pods(pod('a', { ready: false, report: serving('r1') }), pod('b')) });
    expect(placedOn(placing)).toEqual(['a', 'b']);
    const replaced = run({ fn: fn({ replicas: 1 }, placing.status.placements), pods: pods(pod('a', { ready: false, report: serving('r1') }), pod('b', { report: serving('r1') })) });
    expect(placedOn(replaced)).toEqual(['b']);
  });

  it('keeps a replica on an unready pod when there is nowhere else to go', () => {
    const result = run({ fn: fn({ replicas: 1 }, [{ pod: 'a', revision: 'r1' }]), pods: pods(pod('a', { ready: false, report: serving('r1') })) });
    expect(placedOn(result)).toEqual(['a']);
  });

  it('moves a replica off a pod that no longer matches the podSelector once the new one serves', () => {
    const spec = { replicas: 1, podSelector: { matchLabels: { tier: 'edge' } } };
    const first = run({ fn: fn(spec, [{ pod: 'core', revision: 'r1' }]), pods: pods(pod('core', { report: serving('r1') }), pod('edge', { labels: { tier: 'edge' } })) });
    expect(placedOn(first)).toEqual(['core', 'edge']);
    const second = run({ fn: fn(spec, first.status.placements), pods: pods(pod('core', { report: serving('r1') }), pod('edge', { labels: { tier: 'edge' }, report: serving('r1') })) });
    expect(placedOn(second)).toEqual(['edge']);
  });

  it('drops a pod listed twice', () => {
    const result = run({ fn: fn({ replicas: 2 }, [{ pod: 'a', revision: 'r1' }, { pod: 'a', revision: 'r1' }]), pods: pods(pod('a'), pod('b')) });
    expect(placedOn(result)).toEqual(['a', 'b']);
  });
});

describe('functions that invoke others', () => {
  it('runs a caller only on pods that host its callees, and says so when that is too few', () => {
    const result = run({
      fn: fn({ replicas: 2, capabilities: { invoke: ['stock'] } }),
      pods: pods(pod('a'), pod('b'), pod('c')),
      load: new Map([['b', 1]]),
      invokes: new Map([['stock', new Set(['b'])]]),
    });
    expect(placedOn(result)).toEqual(['b']);
    expect(condition(result, 'Scheduled').message).toBe(
      '1 of 2 replicas placed: 3 ready runtime pods match, 2 do not host stock, which it invokes (scale it up). Add runtime pods, raise their capacity or lower spec.replicas.',
    );
  });

  it('moves a caller to the pods of a callee that moved, once it serves there', () => {
    const invokes = new Map([['stock', new Set(['b'])]]);
    const first = run({ fn: fn({ replicas: 1 }, [{ pod: 'a', revision: 'r1' }]), pods: pods(pod('a', { report: serving('r1') }), pod('b')), invokes });
    expect(placedOn(first)).toEqual(['a', 'b']);
    const second = run({ fn: fn({ replicas: 1 }, first.status.placements), pods: pods(pod('a', { report: serving('r1') }), pod('b', { report: serving('r1') })), invokes });
    expect(placedOn(second)).toEqual(['b']);
    expect(second.changes).toEqual(['removed the replica on a (pod no longer hosts a function it invokes; enough replicas serve elsewhere)']);
  });
});

describe('scaling down', () => {
  it('removes replicas that serve nothing first, then the ones on the most crowded node', () => {
    const placements = ['a', 'b', 'c', 'd'].map((p) => ({ pod: p, revision: 'r1' }));
    const result = run({
      fn: fn({ replicas: 2 }, placements),
      pods: pods(pod('a', { node: 'n1', report: serving('r1') }), pod('b', { node: 'n1', report: serving('r1') }), pod('c', { node: 'n2', report: serving('r1') }), pod('d', { node: 'n3' })),
    });
    expect(placedOn(result)).toHaveLength(2);
    expect(placedOn(result)).not.toContain('d');
    expect(placedOn(result)).toContain('c');
  });

  it('scales to zero', () => {
    const result = run({ fn: fn({ replicas: 0 }, [{ pod: 'a', revision: 'r1' }]), pods: pods(pod('a', { report: serving('r1') })) });
    expect(placedOn(result)).toEqual([]);
    expect(condition(result, 'Ready')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
  });
});

describe('rolling out a new revision', () => {
  const two = [
    { pod: 'a', revision: 'r1' },
    { pod: 'b', revision: 'r1' },
  ];

  it('asks one serving pod at a time to load the new revision', () => {
    const world = pods(pod('a', { report: serving('r1') }), pod('b', { report: serving('r1') }));
    const step1 = run({ fn: fn({ replicas: 2 }, two, 2), revision: 'r2', pods: world });
    expect(step1.status.placements).toEqual([
      { pod: 'a', revision: 'r2', since: NOW },
      { pod: 'b', revision: 'r1' },
    ]);
    expect(condition(step1, 'Ready')).toMatchObject({ status: 'False', reason: 'RollingOut' });
    // a has not switched yet: b must wait.
    const waiting = run({ fn: fn({ replicas: 2 }, step1.status.placements, 2), revision: 'r2', pods: world });
    expect(waiting.status.placements!.map((p) => p.revision)).toEqual(['r2', 'r1']);
    const step2 = run({ fn: fn({ replicas: 2 }, step1.status.placements, 2), revision: 'r2', pods: pods(pod('a', { report: serving('r2') }), pod('b', { report: serving('r1') })) });
    expect(step2.status.placements!.map((p) => p.revision)).toEqual(['r2', 'r2']);
    const done = run({ fn: fn({ replicas: 2 }, step2.status.placements, 2), revision: 'r2', pods: pods(pod('a', { report: serving('r2') }), pod('b', { report: serving('r2') })) });
    expect(condition(done, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
  });

  it('stops the rollout and reports Degraded when a pod cannot load the new revision', () => {
    const placements = [
      { pod: 'a', revision: 'r2' },
      { pod: 'b', revision: 'r1' },
    ];
    const result = run({
      fn: fn({ replicas: 2 }, placements, 2),
      revision: 'r2',
      pods: pods(pod('a', { report: { hello: { serving: 'r1', target: 'r2', state: 'Failed', message: 'bad module' } } }), pod('b', { report: serving('r1') })),
    });
    expect(result.status.placements!.map((p) => p.revision)).toEqual(['r2', 'r1']);
    expect(condition(result, 'Degraded')).toMatchObject({ status: 'True', reason: 'LoadFailed', message: 'pod a cannot load revision r2: bad module' });
    expect(condition(result, 'Ready')).toMatchObject({ status: 'False', reason: 'LoadFailed' });
  });

  it('moves replicas that serve nothing to the new revision at once', () => {
    const result = run({ fn: fn({ replicas: 2 }, two, 2), revision: 'r2', pods: pods(pod('a'), pod('b')) });
    expect(result.status.placements!.map((p) => p.revision)).toEqual(['r2', 'r2']);
  });

  it('does not reload anything when only replicas change', () => {
    const world = pods(pod('a', { report: serving('r1') }), pod('b', { report: serving('r1') }), pod('c'));
    const result = run({ fn: fn({ replicas: 3 }, two, 2), pods: world });
    expect(result.status.placements).toEqual([...two, { pod: 'c', revision: 'r1', since: NOW }]);
  });
});
