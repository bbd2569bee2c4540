// The Kubernetes extension: `l8 serve --kubernetes-agent` runs the agent that loads the
// Functions the operator places on this pod, and `l8 operator` runs the operator itself
// (docs/kubernetes.md). @kubernetes/client-node takes most of a second to import, so it
// is loaded only when one of them is used, not by every `l8` command.
import { existsSync, readFileSync } from 'node:fs';
import { parseDuration } from '../../operator/duration.ts';
import type { RuntimeExtension } from '../extension.ts';

interface AgentSection {
  agent?: boolean;
  namespace?: string;
  pod?: string;
  kubeconfig?: string;
  resync?: string;
  drain?: string;
}

/** The `kubernetes:` section of the runtime config file, checked field by field. */
function readSection(config: unknown): AgentSection {
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new Error('runtime config: "kubernetes" must be an object like { agent: true, namespace: ..., pod: ... }');
  const allowed = ['agent', 'namespace', 'pod', 'kubeconfig', 'resync', 'drain'];
  const section = config as Record<string, unknown>;
  for (const key of Object.keys(section)) {
    if (!allowed.includes(key)) throw new Error(`runtime config: unknown field "kubernetes.${key}" (allowed: ${allowed.join(', ')})`);
  }
  if (section.agent !== undefined && typeof section.agent !== 'boolean') throw new Error('runtime config: "kubernetes.agent" must be true or false');
  for (const key of allowed.slice(1)) {
    if (section[key] !== undefined && typeof section[key] !== 'string' && typeof section[key] !== 'number') throw new Error(`runtime config: "kubernetes.${key}" must be a string`);
  }
  return Object.fromEntries(Object.entries(section).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v])) as AgentSection;
}

function inClusterNamespace(): string | undefined {
  const file = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export const kubernetesExtension: RuntimeExtension = {
  name: 'kubernetes',
  configKey: 'kubernetes',
  flags: {
    'kubernetes-agent': { type: 'boolean', help: 'load the Functions the L8 operator places on this pod (needs POD_NAME, POD_NAMESPACE)' },
    'kubernetes-namespace': { type: 'string', help: 'namespace of this pod and its Functions (POD_NAMESPACE)' },
    'kubernetes-pod': { type: 'string', help: 'name of this pod (POD_NAME)' },
    kubeconfig: { type: 'string', help: 'API server credentials (KUBECONFIG, else the pod service account)' },
    'kubernetes-resync': { type: 'string', help: 'how often loaded Functions re-read ConfigMaps and Secrets (60s)' },
    'kubernetes-drain': { type: 'string', help: 'how long a Function taken off this pod keeps serving (5s)' },
  },
  commands: {
    operator: {
      usage: 'l8 operator [--namespace NS] [...]   run the Kubernetes operator (l8 operator --help)',
      run: async (args) => (await import('../../operator/cli.ts')).runOperator(args),
    },
  },
  async start(runtime, { flags, config }) {
    const section = readSection(config);
    const enabled = (flags['kubernetes-agent'] as boolean | undefined) ?? section.agent ?? false;
    if (!enabled) return null;
    const { loadKubeConfig } = await import('../../operator/kube/client.ts');
    const { KubernetesAgent } = await import('./agent.ts');
    const kc = loadKubeConfig((flags.kubeconfig as string | undefined) ?? section.kubeconfig);
    const namespace = (flags['kubernetes-namespace'] as string | undefined) ?? section.namespace ?? process.env.POD_NAMESPACE ?? inClusterNamespace();
    const pod = (flags['kubernetes-pod'] as string | undefined) ?? section.pod ?? process.env.POD_NAME;
    if (!namespace || !pod) {
      throw new Error('the Kubernetes agent needs to know its pod: set POD_NAME and POD_NAMESPACE (the downward API in deploy/runtime.yaml does) or pass --kubernetes-pod and --kubernetes-namespace');
    }
    const resync = (flags['kubernetes-resync'] as string | undefined) ?? section.resync;
    const drain = (flags['kubernetes-drain'] as string | undefined) ?? section.drain;
    const agent = new KubernetesAgent(runtime, {
      kc,
      namespace,
      pod,
      resyncMs: resync === undefined ? undefined : parseDuration(resync, 'kubernetes-resync'),
      drainMs: drain === undefined ? undefined : parseDuration(drain, 'kubernetes-drain'),
    });
    await agent.start();
    return { stop: () => agent.stop() };
  },
};
