// Helpers shared by the contract test kits (components/<capability>/contract.test-kit.ts).
// Kept free of any backend knowledge: the kits run unchanged against in-process, server
// and pluggable (gRPC) components.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { ComponentError, type ComponentErrorCode } from './errors.ts';

/** A name no earlier run used: backends with servers keep data between runs. */
export function unique(label: string): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it stops throwing, or throws its last error after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(intervalMs);
    }
  }
}

/** Asserts that `promise` rejects with a ComponentError of `code`; returns it for more checks. */
export async function rejectsWith(promise: Promise<unknown>, code: ComponentErrorCode): Promise<ComponentError> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (error) {
    expect(error, `expected a ComponentError('${code}'), got ${String(error)}`).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).code, (error as Error).message).toBe(code);
    return error as ComponentError;
  }
  throw new Error(`expected a ComponentError('${code}'), but the call succeeded with ${String(outcome)}`);
}

/** Every byte value, zeros and invalid UTF-8 included. */
export function allBytes(): Uint8Array {
  const bytes = new Uint8Array(512);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
  return bytes;
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(value: Uint8Array | null | undefined): string | null {
  return value ? new TextDecoder().decode(value) : null;
}
