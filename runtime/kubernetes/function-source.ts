// What a runtime pod needs to load a Function: the module bytes (downloaded and checked
// against their sha256, or read from a ConfigMap) and a manifest with the config values
// read from ConfigMaps and Secrets. Errors say which field of the Function is wrong and
// how to fix it; the agent reports them, and the operator shows them as Degraded.
import { createHash } from 'node:crypto';
import type { CoreV1Api, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { parseManifest, type Manifest } from '../../functions/manifest.ts';
import type { FunctionRegistry } from '../../functions/registry.ts';
import { describeError, isNotFound } from '../../operator/kube/client.ts';
import type { ConfigKeyRef, FunctionResource } from '../../operator/function-resource.ts';

/** Largest module accepted from a URL (the admin API's limit is lower; Kubernetes users ship bigger components). */
export const MAX_MODULE_BYTES = 256 << 20;
const DOWNLOAD_TIMEOUT_MS = 120_000;

export class SourceError extends Error {
  override name = 'SourceError';
}

export interface SourceOptions {
  core: CoreV1Api;
  namespace: string;
  registry: FunctionRegistry;
}

/**
 * The module of `fn`: bytes plus sha256, or only the sha256 when the registry already holds
 * that module (a URL with a pinned digest never needs downloading twice).
 */
export async function moduleOf(fn: FunctionResource, options: SourceOptions): Promise<{ sha256: string; bytes?: Uint8Array }> {
  const module = fn.spec.module;
  const pinned = module.sha256;
  if (pinned && (await options.registry.hasModule(pinned))) return { sha256: pinned };
  let bytes: Uint8Array;
  let where: string;
  if (module.url) {
    where = module.url;
    bytes = await download(module.url);
  } else if (module.configMap) {
    where = `ConfigMap ${module.configMap.name} key ${module.configMap.key}`;
    bytes = await fromConfigMap(module.configMap, options);
  } else {
    throw new SourceError('spec.module names no source: set url (with sha256) or configMap');
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (pinned && digest !== pinned) {
    throw new SourceError(`the module from ${where} has sha256 ${digest}, but spec.module.sha256 is ${pinned}: the bytes changed or the digest is wrong; fix one of them`);
  }
  return { sha256: digest, bytes };
}

async function download(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
  } catch (error) {
    throw new SourceError(`cannot download the module from ${url}: ${describeError(error)}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new SourceError(`cannot download the module from ${url}: the server answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > MAX_MODULE_BYTES) {
    await response.body?.cancel();
    throw new SourceError(`the module at ${url} is ${declared} bytes; the limit is ${MAX_MODULE_BYTES}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_MODULE_BYTES) throw new SourceError(`the module at ${url} is larger than ${MAX_MODULE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

async function readConfigMap(name: string, options: SourceOptions, cache?: Map<string, Promise<V1ConfigMap | null>>): Promise<V1ConfigMap | null> {
  const key = `configmap/${name}`;
  let found = cache?.get(key);
  if (!found) {
    found = options.core.readNamespacedConfigMap({ name, namespace: options.namespace }).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw new SourceError(`cannot read ConfigMap ${name} in namespace ${options.namespace}: ${describeError(error)}`);
    });
    cache?.set(key, found);
  }
  return found;
}

async function readSecret(name: string, options: SourceOptions, cache: Map<string, Promise<V1Secret | null>>): Promise<V1Secret | null> {
  const key = `secret/${name}`;
  let found = cache.get(key);
  if (!found) {
    found = options.core.readNamespacedSecret({ name, namespace: options.namespace }).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw new SourceError(`cannot read Secret ${name} in namespace ${options.namespace}: ${describeError(error)}`);
    });
    cache.set(key, found);
  }
  return found;
}

async function fromConfigMap(ref: { name: string; key: string }, options: SourceOptions): Promise<Uint8Array> {
  const map = await readConfigMap(ref.name, options);
  if (!map) throw new SourceError(`spec.module.configMap: ConfigMap ${ref.name} does not exist in namespace ${options.namespace}; create it with kubectl create configmap ${ref.name} --from-file=${ref.key}=<module.wasm>`);
  const binary = map.binaryData?.[ref.key];
  if (binary !== undefined) return new Uint8Array(Buffer.from(binary, 'base64'));
  if (map.data?.[ref.key] !== undefined) {
    throw new SourceError(`spec.module.configMap: key ${ref.key} of ConfigMap ${ref.name} is text (data); a wasm module must be in binaryData (kubectl create configmap --from-file puts binary files there)`);
  }
  throw new SourceError(`spec.module.configMap: ConfigMap ${ref.name} has no key ${ref.key} (it has: ${Object.keys({ ...map.binaryData, ...map.data }).join(', ') || 'nothing'})`);
}

/** The function's manifest, with config values read from ConfigMaps and Secrets now. */
export async function manifestOf(fn: FunctionResource, options: SourceOptions): Promise<Manifest> {
  const spec = fn.spec;
  const maps = new Map<string, Promise<V1ConfigMap | null>>();
  const secrets = new Map<string, Promise<V1Secret | null>>();
  const config: Record<string, string> = {};
  for (const entry of spec.config ?? []) {
    if (entry.value !== undefined) {
      config[entry.name] = entry.value;
      continue;
    }
    const fromMap = entry.valueFrom?.configMapKeyRef;
    const fromSecret = entry.valueFrom?.secretKeyRef;
    const ref: ConfigKeyRef | undefined = fromMap ?? fromSecret;
    if (!ref) throw new SourceError(`spec.config "${entry.name}" has neither value nor valueFrom`);
    const kind = fromMap ? 'ConfigMap' : 'Secret';
    let source: V1ConfigMap | V1Secret | null;
    let value: string | undefined;
    if (fromMap) {
      const map = await readConfigMap(ref.name, options, maps);
      source = map;
      value = map?.data?.[ref.key] ?? decode(map?.binaryData?.[ref.key]);
    } else {
      const secret = await readSecret(ref.name, options, secrets);
      source = secret;
      value = decode(secret?.data?.[ref.key]);
    }
    if (value === undefined) {
      if (ref.optional) continue;
      throw new SourceError(
        source
          ? `spec.config "${entry.name}": ${kind} ${ref.name} has no key ${ref.key}`
          : `spec.config "${entry.name}": ${kind} ${ref.name} does not exist in namespace ${options.namespace} (mark the reference optional: true if that is expected)`,
      );
    }
    config[entry.name] = value;
  }
  try {
    return parseManifest({
      name: fn.metadata.name,
      routes: spec.routes ?? [],
      subscriptions: spec.subscriptions ?? [],
      capabilities: spec.capabilities ?? {},
      config,
      limits: spec.limits ?? {},
      reuse: spec.reuse ?? false,
    });
  } catch (error) {
    throw new SourceError(`the spec is not a valid L8 manifest: ${(error as Error).message}`);
  }
}

const decode = (base64: string | undefined): string | undefined => (base64 === undefined ? undefined : Buffer.from(base64, 'base64').toString('utf8'));
