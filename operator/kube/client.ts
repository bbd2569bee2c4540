// Connecting to the Kubernetes API: which config to use, and what an API error means.
import { existsSync } from 'node:fs';
import { ApiException, KubeConfig } from '@kubernetes/client-node';

/**
 * The kubeconfig to use: an explicit file, else $KUBECONFIG, ~/.kube/config, or the
 * service account of the pod we run in (client-node's default order).
 */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  const source = file ? `--kubeconfig ${file}` : process.env.KUBECONFIG ? `KUBECONFIG=${process.env.KUBECONFIG}` : 'the default kubeconfig (~/.kube/config or the pod service account)';
  try {
    if (file && !existsSync(file)) throw new Error('the file does not exist');
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (error) {
    throw new Error(`cannot load Kubernetes credentials from ${source}: ${(error as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new Error('no Kubernetes API server configured: pass --kubeconfig FILE, set KUBECONFIG, or run inside a pod with a service account');
  }
  return kc;
}

/** The HTTP status of a failed API call (0 when it never got an answer). */
export function statusOf(error: unknown): number {
  if (error instanceof ApiException) return error.code;
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return 0;
}

export const isNotFound = (error: unknown): boolean => statusOf(error) === 404;
export const isConflict = (error: unknown): boolean => statusOf(error) === 409;
export const isAlreadyExists = (error: unknown): boolean => statusOf(error) === 409;

/** One line that says what the API server answered (its Status message when there is one). */
export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    let message: string | undefined;
    try {
      message = (JSON.parse(String(error.body)) as { message?: string }).message;
    } catch {
      message = typeof error.body === 'string' ? error.body.slice(0, 300) : undefined;
    }
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  const e = error as Error & { cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}
