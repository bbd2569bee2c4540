// The manifests in deploy/ agree with the code and with the API server: every object is
// admitted by the real kube-apiserver (server-side dry run, in a scratch namespace), the
// names, labels, ports and probes they use are the ones the operator, the agent and the
// actuator use, and the Dockerfile ships every file the entry points import (no Docker
// engine is needed for that).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { loadAllYaml, type V1Deployment } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_LABEL } from '../operator/function-resource.ts';
import { applyFile, connect, createModuleConfigMap, createNamespace, deleteNamespace, installCrd, type Kube } from '../test/support/kube.ts';
import { ROOT } from '../test/support/runtime-process.ts';
import { describeWithService } from '../test/support/services.ts';

const DEPLOY = join(ROOT, 'deploy');
const objects = (file: string) => loadAllYaml(readFileSync(join(DEPLOY, file), 'utf8')) as Array<{ kind: string; metadata: { name: string; namespace?: string } }>;
const deployment = (file: string) => objects(file).find((o) => o.kind === 'Deployment') as unknown as V1Deployment;

describe('deploy/ manifests', () => {
  it('lists every manifest in the kustomization, all in the namespace l8', () => {
    const kustomization = parse(readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources).toEqual(['namespace.yaml', 'crd/function.yaml', 'rbac.yaml', 'operator.yaml', 'runtime.yaml']);
    for (const file of kustomization.resources) {
      for (const object of objects(file)) {
        if (object.kind !== 'Namespace' && object.kind !== 'CustomResourceDefinition') expect(object.metadata.namespace, `${file} ${object.kind}/${object.metadata.name}`).toBe('l8');
      }
    }
  });

  it('runs runtime pods the operator recognises, as the runtime ServiceAccount, with the ports and probes the code serves', () => {
    const runtime = deployment('runtime.yaml');
    const pod = runtime.spec!.template;
    expect(pod.metadata!.labels![RUNTIME_LABEL]).toBe('true');
    expect(pod.spec!.serviceAccountName).toBe('l8-runtime');
    const container = pod.spec!.containers[0]!;
    expect(container.args).toEqual(['serve', '--kubernetes-agent']);
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
    expect(env).toMatchObject({ POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', L8_DATA_DIR: '/data', L8_API_HOST: '0.0.0.0' });
    const ports = Object.fromEntries(container.ports!.map((p) => [p.name, p.containerPort]));
    // http: the runtime's default port, targeted by name by every Function's Service.
    // api: the runtime API's default port, where the actuator answers.
    expect(ports).toEqual({ http: 8080, api: 34999, grpc: 34904 });
    expect(container.livenessProbe!.httpGet).toEqual({ path: '/actuator/health/liveness', port: 'api' });
    expect(container.readinessProbe!.httpGet).toEqual({ path: '/actuator/health/readiness', port: 'api' });
    expect(container.volumeMounts!.map((m) => m.mountPath)).toContain('/data');
  });

  it('runs the operator as its ServiceAccount with probes on its health port', () => {
    const operator = deployment('operator.yaml');
    const pod = operator.spec!.template.spec!;
    expect(pod.serviceAccountName).toBe('l8-operator');
    const container = pod.containers[0]!;
    expect(container.args).toEqual(['operator']);
    expect(container.ports).toEqual([{ name: 'health', containerPort: 8082 }]);
    expect(container.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(operator.spec!.replicas).toBeGreaterThan(1);
  });

  it('copies into the image every file that bin/l8.js and operator/main.ts import', () => {
    const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]!.replace(/\/$/, ''));
    const ignored = readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const excluded = (file: string) =>
      ignored.some((pattern) => {
        const rel = relative(ROOT, file);
        if (pattern.startsWith('**/')) {
          const tail = pattern.slice(3);
          return tail.startsWith('*') ? rel.endsWith(tail.slice(1)) : rel.split('/').slice(0, -1).includes(tail);
        }
        return rel === pattern || rel.startsWith(`${pattern}/`);
      });
    const shipped = (file: string) => copied.some((c) => relative(ROOT, file) === c || relative(ROOT, file).startsWith(`${c}/`)) && !excluded(file);

    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      expect(shipped(file), `${relative(ROOT, file)} is imported at run time but not in the image`).toBe(true);
      const text = readFileSync(file, 'utf8');
      const specifiers = [...text.matchAll(/(?:from\s+|import\(\s*|new URL\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
      for (const specifier of specifiers) {
        const target = resolve(dirname(file), specifier);
        if (existsSync(target) && statSync(target).isFile()) visit(target);
      }
    };
    visit(join(ROOT, 'bin/l8.js'));
    visit(join(ROOT, 'operator/main.ts'));
    expect(seen.size).toBeGreaterThan(50);
    // Read at run time by path, not imported.
    for (const path of ['package.json', 'proto']) expect(copied).toContain(path);
  });
});

describeWithService('k8s', 'deploy/ manifests on the API server', (k8s) => {
  let kube: Kube;
  let namespace: string;

  beforeAll(async () => {
    kube = connect(k8s.kubeconfig);
    await installCrd(kube);
    namespace = await createNamespace(kube, 'l8-deploy');
  });
  afterAll(async () => {
    if (namespace) await deleteNamespace(kube, namespace);
  });

  it('admits the RBAC, operator and runtime manifests (server-side dry run)', async () => {
    for (const file of ['rbac.yaml', 'operator.yaml', 'runtime.yaml']) {
      const admitted = await applyFile(kube, join(DEPLOY, file), namespace, { dryRun: true });
      expect(admitted.length, file).toBe(objects(file).length);
    }
  });

  it('admits the example Function, which the schema accepts as written', async () => {
    await createModuleConfigMap(kube, namespace, 'hello-wasm', 'hello.wasm', new Uint8Array([0, 97, 115, 109]));
    const [fn] = await applyFile(kube, join(DEPLOY, 'examples/hello.yaml'), namespace);
    expect(fn).toMatchObject({ kind: 'Function', metadata: { name: 'hello' }, spec: { replicas: 2, routes: ['GET /hello'] } });
  });
});
