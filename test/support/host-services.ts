// Host services and limits for driving the host directly (unit tests, micro-benchmarks):
// every capability answers at once with an empty result unless the caller overrides it.
import { CapabilityError, type HostServices } from '../../host/call-context.ts';
import type { FunctionLimits } from '../../host/loaded-function.ts';

export function hostServices(over: Partial<HostServices> = {}): HostServices {
  return {
    stateGet: async () => null,
    stateSet: async () => {},
    stateDelete: async () => {},
    publish: async () => 'id',
    configGet: () => null,
    invoke: async () => ({ status: 200, headers: [], body: new Uint8Array() }),
    tryLock: async () => true,
    unlock: async () => 'success',
    keepAlive: async () => true,
    nextId: async () => 1n,
    ...over,
  };
}

/**
 * A state store for probe.wat: store "default" holds book1 = "100", key "broken" fails
 * as an unavailable backend, another store is not granted. Each read waits a real
 * millisecond, so the guest suspends.
 */
export function probeStateGet(): HostServices['stateGet'] {
  const state = new Map<string, Uint8Array>([['book1', new TextEncoder().encode('100')]]);
  return async (_ctx, store, key) => {
    if (store !== 'default') throw new CapabilityError('denied', `store ${store} not granted`);
    if (key === 'broken') throw new CapabilityError('unavailable', 'backend down');
    await new Promise((r) => setTimeout(r, 1));
    return state.get(key) ?? null;
  };
}

export const testLimits = (over: Partial<FunctionLimits> = {}): FunctionLimits => ({
  timeoutMs: 2000,
  memoryPages: 64,
  maxConcurrency: 4,
  maxQueue: 4,
  reuse: false,
  ...over,
});
