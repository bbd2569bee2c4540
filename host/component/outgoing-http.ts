// Outgoing HTTP of one component instance (wasi:http/outgoing-handler), deny by default:
// a request goes out only to a host its manifest's `capabilities.outboundHosts` allows,
// is bounded by the calling request's deadline, and does not follow redirects (the guest
// gets the 3xx, as under wasmtime), so an allowed host cannot redirect it elsewhere.
//
// preview2-shim's portable http calls `globalThis.fetch` from a promise continuation,
// where no per-instance option reaches it. L8 therefore installs, once per process, a
// `fetch` that looks up the calling component's policy in an AsyncLocalStorage (which
// follows promise continuations) and, when there is one, checks the destination again
// and forces `redirect: "manual"`. Calls made outside a component keep the original
// fetch unchanged.
import { AsyncLocalStorage } from 'node:async_hooks';
import { OutboundHosts } from '../../functions/outbound-hosts.ts';
import { shim } from './preview2-shim.ts';

export interface OutboundPolicy {
  hosts: OutboundHosts;
  /** Milliseconds left for the current request (Infinity outside one). */
  remainingMs(): number;
  /** Called with a message when a request is refused, for the function's logs. */
  denied(message: string): void;
}

const policies = new AsyncLocalStorage<OutboundPolicy>();
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

function allowed(policy: OutboundPolicy, url: URL): boolean {
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol] ?? 0;
  return policy.hosts.allows(url.protocol.slice(0, -1), url.hostname, port);
}

let installed = false;

function installFetchGuard(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.fetch;
  globalThis.fetch = function fetchWithComponentPolicy(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const policy = policies.getStore();
    if (!policy) return original(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!allowed(policy, url)) {
      return Promise.reject(new TypeError(`outgoing request to ${url.origin} is not allowed by capabilities.outboundHosts`));
    }
    return original(input, { ...init, redirect: 'manual' });
  } as typeof fetch;
}

type Scheme = { tag: 'HTTP' } | { tag: 'HTTPS' } | { tag: 'other'; val: string } | undefined;

interface OutgoingRequest {
  scheme(): Scheme;
  authority(): string | undefined;
  pathWithQuery(): string | undefined;
}

interface RequestOptions {
  connectTimeout(): bigint | undefined;
  firstByteTimeout(): bigint | undefined;
  betweenBytesTimeout?(): bigint | undefined;
}

/** The wasi:http/outgoing-handler interface for one instance. */
export function outgoingHandler(policy: OutboundPolicy): { handle(request: OutgoingRequest, options: RequestOptions | undefined): unknown } {
  installFetchGuard();
  return {
    handle(request, options) {
      const scheme = request.scheme();
      const protocol = scheme === undefined || scheme.tag === 'HTTPS' ? 'https' : scheme.tag === 'HTTP' ? 'http' : scheme.val.toLowerCase();
      const authority = request.authority() ?? '';
      let url: URL;
      try {
        url = new URL(`${protocol}://${authority}${request.pathWithQuery() ?? '/'}`);
      } catch {
        throw { tag: 'HTTP-request-URI-invalid' };
      }
      if ((protocol !== 'http' && protocol !== 'https') || !allowed(policy, url)) {
        policy.denied(
          `outgoing HTTP request to ${protocol}://${authority} was denied: add "${url.hostname}" (or "${protocol}://${authority}") to capabilities.outboundHosts in the function's manifest`,
        );
        throw { tag: 'HTTP-request-denied' };
      }
      // The request may not outlive the call that makes it.
      const remaining = policy.remainingMs();
      const bounded = new shim.http.types.RequestOptions();
      const limit = Number.isFinite(remaining) ? BigInt(Math.max(1, Math.floor(remaining))) * 1_000_000n : undefined;
      const clamp = (value: bigint | undefined) => (limit === undefined ? value : value === undefined || value > limit ? limit : value);
      bounded.setConnectTimeout(clamp(options?.connectTimeout()));
      bounded.setFirstByteTimeout(clamp(options?.firstByteTimeout()));
      return policies.run(policy, () => shim.http.outgoingHandler.handle(request, bounded));
    },
  };
}
