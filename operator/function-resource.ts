// The contract between the operator, the agent in each runtime pod and kubectl: the
// Function custom resource (deploy/crd/function.yaml), the labels and annotations both
// sides read and write, and the revision hash that says "this is the same spec".
import { createHash } from 'node:crypto';
import type { V1ObjectMeta } from '@kubernetes/client-node';

export const GROUP = 'l8.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'functions';
export const KIND = 'Function';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Label that makes a pod a runtime pod the operator may place functions on. */
export const RUNTIME_LABEL = 'l8.dev/runtime';
export const RUNTIME_SELECTOR = `${RUNTIME_LABEL}=true`;
/** Pod annotation: the most functions the pod accepts (a whole number); none = the operator's default. */
export const CAPACITY_ANNOTATION = 'l8.dev/capacity';
/** Pod annotation written by the agent: JSON of {@link PodReport}, what the pod runs. */
export const REPORT_ANNOTATION = 'l8.dev/functions';
/** Prefix of the pod labels the agent sets for each function it serves: `fn.l8.dev/<name>: "true"`. */
export const SERVING_LABEL_PREFIX = 'fn.l8.dev/';
export const servingLabel = (fn: string): string => `${SERVING_LABEL_PREFIX}${fn}`;
/** The label selector of the pods that serve `fn` (its Service and the scale subresource use it). */
export const servingSelector = (fn: string): Record<string, string> => ({ [RUNTIME_LABEL]: 'true', [servingLabel(fn)]: 'true' });
export const selectorString = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export interface ConfigKeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export interface ConfigEntry {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: ConfigKeyRef; secretKeyRef?: ConfigKeyRef };
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface FunctionSpec {
  module: { url?: string; sha256?: string; configMap?: { name: string; key: string } };
  routes?: string[];
  subscriptions?: Array<{ broker?: string; topic: string }>;
  capabilities?: { state?: string[]; publish?: Record<string, string[]>; config?: string[]; invoke?: string[] };
  config?: ConfigEntry[];
  limits?: { timeoutMs?: number; memoryMb?: number; maxBodyBytes?: number; maxConcurrency?: number };
  reuse?: boolean;
  replicas?: number;
  podSelector?: LabelSelector;
}

export interface Placement {
  pod: string;
  /** The revision the pod is asked to run. */
  revision: string;
  since?: string;
}

export type ConditionType = 'Ready' | 'Scheduled' | 'Degraded';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface FunctionStatus {
  observedGeneration?: number;
  revision?: string;
  replicas?: number;
  readyReplicas?: number;
  selector?: string;
  placements?: Placement[];
  conditions?: Condition[];
}

export interface FunctionResource {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta & { name: string };
  spec: FunctionSpec;
  status?: FunctionStatus;
}

/**
 * The revision of a spec: a hash of everything a pod loads (module, triggers, grants,
 * config references, limits). `replicas` and `podSelector` are left out, so scaling or
 * moving a function never reloads it. Config values read from ConfigMaps or Secrets are
 * referenced, not hashed: the agent re-reads them on its resync.
 */
export function revisionOf(spec: FunctionSpec): string {
  const { replicas: _replicas, podSelector: _selector, ...loaded } = spec;
  return createHash('sha256').update(canonicalJson(loaded)).digest('hex').slice(0, 16);
}

/** JSON with keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      return Object.fromEntries(
        Object.keys(v as object)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(canonical(value));
}

/** How a pod's agent is doing with one function. */
export type LoadState = 'Loading' | 'Ready' | 'Failed' | 'Draining';

export interface FunctionReport {
  /** The revision the pod serves right now (absent: it serves nothing of this function). */
  serving?: string;
  /** The revision the agent was last asked to load. */
  target: string;
  state: LoadState;
  /** Why the target could not be loaded (state Failed). */
  message?: string;
  /** The registry version number on the pod (changes only when the pod loads something new). */
  version?: number;
}

/** What one pod's agent reports in its {@link REPORT_ANNOTATION} annotation. */
export type PodReport = Record<string, FunctionReport>;

/** Reads the report annotation; a missing or unreadable one is an empty report. */
export function readPodReport(annotations: Record<string, string> | undefined): PodReport {
  const text = annotations?.[REPORT_ANNOTATION];
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as PodReport) : {};
  } catch {
    return {};
  }
}

/** Whether `labels` satisfy a Kubernetes label selector (an absent selector matches everything). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, requirement.key);
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        if (!present || !values.includes(have[requirement.key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(have[requirement.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
