// What a runtime pod reads to load a Function — module bytes by URL or from a ConfigMap,
// config values from ConfigMaps and Secrets — against the real API server, with the error
// each mistake produces (the text users see in the Function's Degraded condition).
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FunctionRegistry } from '../../functions/registry.ts';
import type { FunctionResource, FunctionSpec } from '../../operator/function-resource.ts';
import { connect, createNamespace, deleteNamespace, type Kube } from '../../test/support/kube.ts';
import { tempDataDir } from '../../test/support/runtime-process.ts';
import { describeWithService } from '../../test/support/services.ts';
import { manifestOf, moduleOf, type SourceOptions } from './function-source.ts';

const BYTES = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
const DIGEST = createHash('sha256').update(BYTES).digest('hex');
const fn = (spec: Partial<FunctionSpec>): FunctionResource => ({ metadata: { name: 'orders' }, spec: { module: { configMap: { name: 'm', key: 'k' } }, ...spec } });

describeWithService('k8s', 'loading a Function on a pod: module and config sources', (k8s) => {
  let kube: Kube;
  let namespace: string;
  let source: SourceOptions;
  let server: Server;
  let base: string;
  let downloads = 0;

  beforeAll(async () => {
    kube = connect(k8s.kubeconfig);
    namespace = await createNamespace(kube, 'l8-source');
    source = { core: kube.core, namespace, registry: await FunctionRegistry.open(tempDataDir('l8-source-')) };
    await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'modules' }, binaryData: { 'm.wasm': Buffer.from(BYTES).toString('base64') }, data: { 'text.wasm': 'not binary' } } });
    await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { region: 'eu' }, binaryData: { blob: Buffer.from('bin-value').toString('base64') } } });
    await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'creds' }, stringData: { token: 's3cret' } } });
    server = createServer((req, res) => {
      if (req.url === '/m.wasm') {
        downloads++;
        res.writeHead(200).end(BYTES);
      } else res.writeHead(404).end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.close();
    if (namespace) await deleteNamespace(kube, namespace);
  });

  it('downloads a module by URL, checks its digest, and does not download what the registry already has', async () => {
    expect(await moduleOf(fn({ module: { url: `${base}/m.wasm`, sha256: DIGEST } }), source)).toEqual({ sha256: DIGEST, bytes: BYTES });
    await expect(moduleOf(fn({ module: { url: `${base}/m.wasm`, sha256: 'f'.repeat(64) } }), source)).rejects.toThrow(
      `the module from ${base}/m.wasm has sha256 ${DIGEST}, but spec.module.sha256 is ${'f'.repeat(64)}: the bytes changed or the digest is wrong; fix one of them`,
    );
    await expect(moduleOf(fn({ module: { url: `${base}/gone.wasm`, sha256: DIGEST } }), source)).rejects.toThrow(`cannot download the module from ${base}/gone.wasm: the server answered HTTP 404`);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(moduleOf(fn({ module: { url: `http://127.0.0.1:${port}/m.wasm`, sha256: DIGEST } }), source)).rejects.toThrow(`cannot download the module from http://127.0.0.1:${port}/m.wasm: fetch failed (ECONNREFUSED)`);

    await source.registry.putModule(BYTES);
    const before = downloads;
    expect(await moduleOf(fn({ module: { url: `${base}/m.wasm`, sha256: DIGEST } }), source)).toEqual({ sha256: DIGEST });
    expect(downloads).toBe(before);
  });

  it('reads a module from a ConfigMap, and says what is wrong with the reference', async () => {
    const fresh = { ...source, registry: await FunctionRegistry.open(tempDataDir('l8-source-')) };
    expect(await moduleOf(fn({ module: { configMap: { name: 'modules', key: 'm.wasm' } } }), fresh)).toEqual({ sha256: DIGEST, bytes: BYTES });
    await expect(moduleOf(fn({ module: { configMap: { name: 'modules', key: 'm.wasm' }, sha256: 'e'.repeat(64) } }), fresh)).rejects.toThrow('but spec.module.sha256 is eeee');
    await expect(moduleOf(fn({ module: { configMap: { name: 'nope', key: 'm.wasm' } } }), fresh)).rejects.toThrow(
      `spec.module.configMap: ConfigMap nope does not exist in namespace ${namespace}; create it with kubectl create configmap nope --from-file=m.wasm=<module.wasm>`,
    );
    await expect(moduleOf(fn({ module: { configMap: { name: 'modules', key: 'other.wasm' } } }), fresh)).rejects.toThrow('spec.module.configMap: ConfigMap modules has no key other.wasm (it has: m.wasm, text.wasm)');
    await expect(moduleOf(fn({ module: { configMap: { name: 'modules', key: 'text.wasm' } } }), fresh)).rejects.toThrow('key text.wasm of ConfigMap modules is text (data); a wasm module must be in binaryData');
  });

  it('builds the manifest with config values from literals, ConfigMaps and Secrets', async () => {
    const manifest = await manifestOf(
      fn({
        routes: ['GET /orders/:id'],
        subscriptions: [{ topic: 'payments' }],
        capabilities: { state: ['default'], invoke: ['inventory'] },
        config: [
          { name: 'currency', value: 'EUR' },
          { name: 'region', valueFrom: { configMapKeyRef: { name: 'settings', key: 'region' } } },
          { name: 'blob', valueFrom: { configMapKeyRef: { name: 'settings', key: 'blob' } } },
          { name: 'token', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
          { name: 'maybe', valueFrom: { secretKeyRef: { name: 'absent', key: 'x', optional: true } } },
        ],
        limits: { timeoutMs: 1000 },
      }),
      source,
    );
    expect(manifest).toMatchObject({
      name: 'orders',
      routes: [{ method: 'GET', path: '/orders/:id' }],
      subscriptions: [{ broker: 'default', topic: 'payments' }],
      capabilities: { state: ['default'], invoke: ['inventory'], publish: {}, config: [] },
      config: { currency: 'EUR', region: 'eu', blob: 'bin-value', token: 's3cret' },
      limits: { timeoutMs: 1000 },
      reuse: false,
    });
  });

  it('names the missing ConfigMap, Secret or key of a config value', async () => {
    const value = (valueFrom: NonNullable<FunctionSpec['config']>[number]['valueFrom']) => manifestOf(fn({ config: [{ name: 'x', valueFrom }] }), source);
    await expect(value({ secretKeyRef: { name: 'absent', key: 'k' } })).rejects.toThrow(`spec.config "x": Secret absent does not exist in namespace ${namespace} (mark the reference optional: true if that is expected)`);
    await expect(value({ secretKeyRef: { name: 'creds', key: 'nope' } })).rejects.toThrow('spec.config "x": Secret creds has no key nope');
    await expect(value({ configMapKeyRef: { name: 'settings', key: 'nope' } })).rejects.toThrow('spec.config "x": ConfigMap settings has no key nope');
  });

  it('reports a spec the manifest parser refuses', async () => {
    await expect(manifestOf(fn({ capabilities: { state: [''] } }), source)).rejects.toThrow('the spec is not a valid L8 manifest: function "orders" capabilities.state[0]: must be a non-empty string');
  });
});
