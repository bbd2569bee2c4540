// npm run demo:k8s — the Kubernetes path in one command, on this machine:
// 1. starts etcd + kube-apiserver (scripts/services) unless they already run,
// 2. installs the Function CRD and, in a fresh namespace, the RBAC of deploy/rbac.yaml,
// 3. starts two runtime "pods" (real `l8 serve --kubernetes-agent` processes with Pod
//    objects whose status the demo writes, as there is no kubelet) and the operator, each
//    authenticated as its ServiceAccount,
// 4. applies deploy/examples/hello.yaml with the module built from examples/assemblyscript,
// 5. waits until the Function is Ready, calls it over HTTP through a pod that hosts it,
//    prints the answer, and removes everything it started.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { k8sStatus, startK8s, stopK8s } from './services/k8s.ts';
import {
  RBAC_FILE,
  applyFile,
  connect,
  createModuleConfigMap,
  createNamespace,
  deleteNamespace,
  endpointsOf,
  installCrd,
  serviceAccountKubeconfig,
  startOperator,
  startRuntimePod,
  waitReady,
  type Kube,
  type OperatorProcess,
  type RuntimePod,
} from '../test/support/kube.ts';
import { ROOT } from '../test/support/runtime-process.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
const HELLO = join(ROOT, 'examples/assemblyscript/build/hello.wasm');
const EXAMPLE = join(ROOT, 'deploy/examples/hello.yaml');

async function main(): Promise<number> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: Error) => say(`cleanup: ${error.message}`));
    cleanups.length = 0;
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    if (!existsSync(HELLO)) {
      say('building the AssemblyScript examples ...');
      execFileSync(process.execPath, [join(ROOT, 'scripts/build-examples.ts'), '--if-stale', 'assemblyscript'], { stdio: 'inherit', cwd: ROOT });
    }

    const status = await k8sStatus();
    if (status.healthy) say(`using the running API server: ${status.detail}`);
    else say('starting etcd and kube-apiserver (the first time, this builds them from Go modules: several minutes) ...');
    // Idempotent: starts what is not running, and returns the connection info either way.
    const env = await startK8s();
    // Stop the servers at the end only if the demo started them.
    if (!status.healthy && status.pid === undefined) cleanups.push(() => stopK8s());
    const kube: Kube = connect(env.kubeconfig);

    await installCrd(kube);
    const namespace = await createNamespace(kube, 'l8-demo');
    cleanups.push(() => deleteNamespace(kube, namespace));
    say(`namespace ${namespace}: Function CRD installed, RBAC from deploy/rbac.yaml applied`);
    await applyFile(kube, RBAC_FILE, namespace);
    const [runtimeConfig, operatorConfig] = await Promise.all([
      serviceAccountKubeconfig(kube, namespace, 'l8-runtime'),
      serviceAccountKubeconfig(kube, namespace, 'l8-operator'),
    ]);

    say('starting two runtime pods and the operator ...');
    const runtimes = await Promise.allSettled(
      ['l8-runtime-0', 'l8-runtime-1'].map((name, i) => startRuntimePod(kube, { namespace, name, node: `node-${i}`, kubeconfig: runtimeConfig, drain: '1s' })),
    );
    const pods: RuntimePod[] = runtimes.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const pod of pods) {
      cleanups.push(() => pod.stop());
      say(`  pod ${pod.name}: ${pod.url}`);
    }
    for (const result of runtimes) if (result.status === 'rejected') throw result.reason;
    const operator: OperatorProcess = await startOperator({ namespace, kubeconfig: operatorConfig, identity: 'l8-operator-demo' });
    cleanups.push(() => operator.stop());

    say(`applying ${EXAMPLE.slice(ROOT.length + 1)} with the module examples/assemblyscript/build/hello.wasm (ConfigMap hello-wasm) ...`);
    await createModuleConfigMap(kube, namespace, 'hello-wasm', 'hello.wasm', readFileSync(HELLO));
    await applyFile(kube, EXAMPLE, namespace);
    const started = performance.now();
    const fn = await waitReady(kube, namespace, 'hello', 2, 60_000);
    say(`function hello is Ready after ${Math.round(performance.now() - started)} ms`);
    say('  NAME    REPLICAS  READY  STATUS  REVISION          PODS');
    say(`  hello   ${String(fn.spec.replicas).padEnd(8)}  ${String(fn.status?.readyReplicas).padEnd(5)}  ${fn.status?.conditions?.find((c) => c.type === 'Ready')?.reason?.padEnd(6)}  ${fn.status?.revision}  ${fn.status?.placements?.map((p) => p.pod).join(',')}`);

    const [endpoint] = await endpointsOf(kube, namespace, 'hello');
    if (!endpoint) throw new Error('no pod serves hello although it is Ready');
    const url = `${endpoint.url}/hello`;
    const response = await fetch(url);
    const answer = await response.text();
    say(`GET ${url} (pod ${endpoint.pod}) -> ${response.status}`);
    say(answer);
    if (response.status !== 200) throw new Error(`hello answered HTTP ${response.status}`);
    say('cleaning up ...');
    await cleanup();
    say('done');
    return 0;
  } catch (error) {
    say(`demo:k8s failed: ${(error as Error).message}`);
    await cleanup();
    return 1;
  }
}

process.exitCode = await main();
