// What every capability binding shares: turning component failures into the ABI's
// error values, bounding how long a host call may wait, and the wording of denials.
import { ComponentError } from '../../components/errors.ts';
import { CapabilityError, type CallContext } from '../../host/call-context.ts';

/** A host call never waits longer than this, whatever the request's deadline. */
export const MAX_HOST_CALL_MS = 5_000;

export function denied(fn: string, what: string, field: string): CapabilityError {
  return new CapabilityError('denied', `${what} is not granted to function "${fn}"; add it to ${field} in its manifest`);
}

/** Runs a component call with a bounded wait; failures become CapabilityErrors. */
export async function hostCall<T>(ctx: CallContext, component: string, work: () => Promise<T>): Promise<T> {
  const budget = Math.min(MAX_HOST_CALL_MS, Math.max(0, ctx.deadline - performance.now()));
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new CapabilityError('unavailable', `${component} did not answer within ${Math.round(budget)} ms`)),
          budget,
        );
      }),
    ]);
  } catch (error) {
    if (error instanceof CapabilityError) throw error;
    if (error instanceof ComponentError) throw new CapabilityError(error.code, `${component}: ${error.message}`);
    throw new CapabilityError('internal', `${component}: ${(error as Error)?.message ?? String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Converts a synchronous component failure the same way. */
export function asCapabilityError(component: string, error: unknown): CapabilityError {
  if (error instanceof CapabilityError) return error;
  if (error instanceof ComponentError) return new CapabilityError(error.code, `${component}: ${error.message}`);
  return new CapabilityError('internal', `${component}: ${(error as Error)?.message ?? String(error)}`);
}
