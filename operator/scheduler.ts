// Where a Function's replicas run: a pure function from what the operator sees (the
// Function, the runtime pods, what each pod reports) to the placements and status it
// should write. No I/O here, so every decision is unit-tested and the same input always
// gives the same answer — which is what makes reconcile idempotent.
//
// The rules (docs/kubernetes.md explains them for users):
// - A placement is *lost* when its pod is gone, terminating or no longer a runtime pod:
//   it is dropped at once. It is *misplaced* when its pod is not Ready, no longer matches
//   the podSelector, or lacks a function this one invokes: it stays until enough
//   replacements serve, so a pod that is briefly unready does not leave the function with
//   nowhere to run.
// - New replicas go to distinct Ready runtime pods that match the podSelector, have free
//   capacity, serve no other function with the same route, and host the functions this
//   one invokes (invoke runs in-process, so caller and callee share a pod). Scoring,
//   lowest first:
//   1. spread: replicas of this function already on the pod's node;
//   2. least loaded: functions placed on the pod;
//   3. the pod name, so the choice is deterministic.
// - Scaling down removes, in order: replicas that serve nothing, replicas on an old
//   revision, then the ones on the most crowded node and the most loaded pod.
// - A changed spec rolls out in place, one pod at a time: the pod's agent loads the new
//   revision while the old one keeps serving, and the runtime switches atomically. The
//   next pod is asked only once the previous one serves the new revision; a pod that
//   fails to load it stops the rollout (Degraded) and keeps serving the old revision.
import {
  selectorMatches,
  selectorString,
  servingSelector,
  type Condition,
  type FunctionResource,
  type FunctionStatus,
  type Placement,
  type PodReport,
} from './function-resource.ts';

export interface RuntimePod {
  name: string;
  /** Spread key: the node the pod runs on (its own name when unscheduled). */
  node: string;
  labels: Record<string, string>;
  /** Phase Running and condition Ready=True. */
  ready: boolean;
  /** Has a deletionTimestamp. */
  terminating: boolean;
  /** Most functions it accepts (Infinity = no limit). */
  capacity: number;
  report: PodReport;
}

export interface PlanInput {
  fn: FunctionResource;
  revision: string;
  /** Runtime pods of the Function's namespace, by name. */
  pods: ReadonlyMap<string, RuntimePod>;
  /** Placements per pod of every other function in the namespace. */
  load: ReadonlyMap<string, number>;
  /** True when the pod serves another function with a route this function also has. */
  routeConflict?: (pod: string) => boolean;
  /**
   * Functions this one invokes that are placed somewhere, each with the pods hosting it;
   * the function may only run where all of them are.
   */
  invokes?: ReadonlyMap<string, ReadonlySet<string>>;
  /** ISO time stamped on new placements and changed conditions. */
  now: string;
}

export interface Plan {
  status: FunctionStatus;
  /** One line per decision, for the operator's log. */
  changes: string[];
}

interface Candidate {
  pod: RuntimePod;
  load: number;
}

export function plan(input: PlanInput): Plan {
  const { fn, revision, pods, now } = input;
  const name = fn.metadata.name;
  const replicas = fn.spec.replicas ?? 1;
  const selector = fn.spec.podSelector;
  const changes: string[] = [];

  const report = (p: Placement) => pods.get(p.pod)?.report[name];
  const serves = (p: Placement, rev?: string) => {
    const r = report(p);
    return r !== undefined && r.state !== 'Draining' && r.serving !== undefined && (rev === undefined ? true : r.serving === rev);
  };
  const failed = (p: Placement) => {
    const r = report(p);
    return r?.state === 'Failed' && r.target === p.revision;
  };

  // Old placements, one per pod (a hand-edited status could list a pod twice).
  const seen = new Set<string>();
  const previous = (fn.status?.placements ?? []).filter((p) => !seen.has(p.pod) && seen.add(p.pod));

  const invokes = [...(input.invokes ?? new Map<string, ReadonlySet<string>>())];
  const hostsCallees = (pod: string) => invokes.every(([, hosts]) => hosts.has(pod));
  const fits = (pod: RuntimePod) => pod.ready && selectorMatches(selector, pod.labels) && hostsCallees(pod.name);

  const good: Placement[] = [];
  const misplaced: Placement[] = [];
  for (const p of previous) {
    const pod = pods.get(p.pod);
    if (!pod || pod.terminating) {
      changes.push(`replica on ${p.pod} is lost (${pod ? 'pod is terminating' : 'pod is gone'})`);
      continue;
    }
    if (fits(pod)) good.push({ ...p });
    else misplaced.push({ ...p });
  }

  const load = new Map(input.load);
  const nodeCount = new Map<string, number>();
  const count = (p: Placement, delta: number) => {
    const pod = pods.get(p.pod);
    if (!pod) return;
    nodeCount.set(pod.node, (nodeCount.get(pod.node) ?? 0) + delta);
    load.set(pod.name, (load.get(pod.name) ?? 0) + delta);
  };
  for (const p of [...good, ...misplaced]) count(p, 1);

  // Scale down.
  if (good.length > replicas) {
    const victims = [...good].sort((a, b) => {
      const key = (p: Placement): Array<number | string> => {
        const pod = pods.get(p.pod)!;
        return [serves(p) ? 1 : 0, p.revision === revision ? 1 : 0, -(nodeCount.get(pod.node) ?? 0), -(load.get(pod.name) ?? 0)];
      };
      return compareKeys(key(a), key(b)) || b.pod.localeCompare(a.pod);
    });
    for (const victim of victims.slice(0, good.length - replicas)) {
      good.splice(good.indexOf(victim), 1);
      count(victim, -1);
      changes.push(`scale down: removed the replica on ${victim.pod}`);
    }
  }

  // Scale up / replace lost replicas.
  const hosting = new Set([...good, ...misplaced].map((p) => p.pod));
  const eligible: RuntimePod[] = [];
  let full = 0;
  let conflicting = 0;
  let withoutCallees = 0;
  for (const pod of pods.values()) {
    if (!pod.ready || pod.terminating || !selectorMatches(selector, pod.labels)) continue;
    eligible.push(pod);
  }
  let candidates: Candidate[] = [];
  for (const pod of eligible) {
    if (hosting.has(pod.name)) continue;
    if ((load.get(pod.name) ?? 0) >= pod.capacity) {
      full++;
      continue;
    }
    if (input.routeConflict?.(pod.name)) {
      conflicting++;
      continue;
    }
    if (!hostsCallees(pod.name)) {
      withoutCallees++;
      continue;
    }
    candidates.push({ pod, load: load.get(pod.name) ?? 0 });
  }
  while (good.length < replicas && candidates.length > 0) {
    candidates.sort((a, b) => compareKeys([nodeCount.get(a.pod.node) ?? 0, a.load], [nodeCount.get(b.pod.node) ?? 0, b.load]) || a.pod.name.localeCompare(b.pod.name));
    const chosen = candidates[0]!;
    candidates = candidates.slice(1);
    const placement: Placement = { pod: chosen.pod.name, revision, since: now };
    good.push(placement);
    count(placement, 1);
    changes.push(`placed a replica on ${chosen.pod.name} (node ${chosen.pod.node}, ${chosen.load} functions before)`);
  }

  // Replicas on unready or unmatched pods go once enough of the others serve.
  const servingGood = good.filter((p) => serves(p)).length;
  const keepMisplaced = Math.max(0, replicas - servingGood);
  const keptMisplaced = [...misplaced].sort((a, b) => Number(serves(b)) - Number(serves(a)) || a.pod.localeCompare(b.pod)).slice(0, keepMisplaced);
  for (const p of misplaced) {
    if (keptMisplaced.includes(p)) continue;
    const pod = pods.get(p.pod)!;
    const why = !pod.ready ? 'is not ready' : !selectorMatches(selector, pod.labels) ? 'no longer matches the podSelector' : 'no longer hosts a function it invokes';
    changes.push(`removed the replica on ${p.pod} (pod ${why}; enough replicas serve elsewhere)`);
  }

  // Roll out the current revision in place.
  const failedNow = good.filter((p) => p.revision === revision && failed(p));
  const inProgress = good.filter((p) => p.revision === revision && !serves(p, revision) && !failed(p));
  const outdated = good.filter((p) => p.revision !== revision);
  if (failedNow.length === 0) {
    // A replica that serves nothing risks nothing: move all of those at once.
    for (const p of outdated.filter((o) => !serves(o))) {
      p.revision = revision;
      p.since = now;
      changes.push(`asked ${p.pod} to load revision ${revision}`);
    }
    const serving = outdated.filter((o) => serves(o));
    if (inProgress.length === 0 && serving.length > 0) {
      const next = serving.sort((a, b) => a.pod.localeCompare(b.pod))[0]!;
      next.revision = revision;
      next.since = now;
      changes.push(`rolling out: asked ${next.pod} to load revision ${revision}`);
    }
  }

  const placements = [...good, ...keptMisplaced].sort((a, b) => a.pod.localeCompare(b.pod));
  const readyReplicas = good.filter((p) => serves(p, revision)).length;
  const failures = placements.filter(failed);

  const scheduled: Omit<Condition, 'lastTransitionTime'> =
    good.length >= replicas
      ? { type: 'Scheduled', status: 'True', reason: 'Scheduled', message: replicas === 0 ? 'scaled to zero' : `placed on ${good.length} runtime pod${good.length === 1 ? '' : 's'}` }
      : {
          type: 'Scheduled',
          status: 'False',
          reason: 'NotEnoughPods',
          message:
            `${good.length} of ${replicas} replicas placed: ${eligible.length} ready runtime pod${eligible.length === 1 ? '' : 's'} match${selector ? ' the podSelector' : ''}` +
            (full ? `, ${full} of them full` : '') +
            (conflicting ? `, ${conflicting} serve another function with the same route` : '') +
            (withoutCallees ? `, ${withoutCallees} do not host ${invokes.map(([n]) => n).join(' and ')}, which it invokes (scale ${invokes.length === 1 ? 'it' : 'them'} up)` : '') +
            '. Add runtime pods, raise their capacity or lower spec.replicas.',
        };
  const degraded: Omit<Condition, 'lastTransitionTime'> =
    failures.length > 0
      ? {
          type: 'Degraded',
          status: 'True',
          reason: 'LoadFailed',
          message: failures.map((p) => `pod ${p.pod} cannot load revision ${p.revision}: ${report(p)?.message ?? 'no reason given'}`).join('; '),
        }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no pod reports an error' };
  let ready: Omit<Condition, 'lastTransitionTime'>;
  if (replicas === 0) ready = { type: 'Ready', status: 'True', reason: 'ScaledToZero', message: 'spec.replicas is 0' };
  else if (readyReplicas >= replicas) ready = { type: 'Ready', status: 'True', reason: 'Ready', message: `${readyReplicas} pod${readyReplicas === 1 ? '' : 's'} serve revision ${revision}` };
  else {
    const reason = failures.length > 0 ? 'LoadFailed' : good.length < replicas ? 'NotEnoughPods' : placements.some((p) => p.revision !== revision) || good.some((p) => serves(p) && !serves(p, revision)) ? 'RollingOut' : 'Loading';
    ready = { type: 'Ready', status: 'False', reason, message: `${readyReplicas} of ${replicas} pods serve revision ${revision}` };
  }

  const generation = fn.metadata.generation;
  const conditions = [ready, scheduled, degraded].map((c) => withTransition({ ...c, observedGeneration: generation }, fn.status?.conditions, now));
  return {
    status: {
      observedGeneration: generation,
      revision,
      replicas: placements.length,
      readyReplicas,
      selector: selectorString(servingSelector(name)),
      placements,
      conditions,
    },
    changes,
  };
}

/** Keeps lastTransitionTime when a condition's status did not change (as metav1.Condition requires). */
function withTransition(condition: Omit<Condition, 'lastTransitionTime'>, previous: Condition[] | undefined, now: string): Condition {
  const before = previous?.find((c) => c.type === condition.type);
  return { ...condition, lastTransitionTime: before && before.status === condition.status && before.lastTransitionTime ? before.lastTransitionTime : now };
}

function compareKeys(a: Array<number | string>, b: Array<number | string>): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}
