// What every capability binding shares: turning component failures into the ABI's
// error values, bounding how long a host call may wait, and the wording of denials.
import { ComponentError } from '../../components/errors.ts';
import { CapabilityError, type CallContext } from '../../host/call-context.ts';
import { withDeadline } from '../../host/deadlines.ts';

/** A host call never waits longer than this, whatever the request's deadline. */
export const MAX_HOST_CALL_MS = 5_000;

export function denied(fn: string, what: string, field: string): CapabilityError {
  return new CapabilityError('denied', `${what} is not granted to function "${fn}"; add it to ${field} in its manifest`);
}

/**
 * Runs a component call with a bounded wait; failures become CapabilityErrors. `call`
 * names it for metrics ("state.get").
 */
export async function hostCall<T>(ctx: CallContext, call: string, component: string, work: () => Promise<T>): Promise<T> {
  const budget = Math.min(MAX_HOST_CALL_MS, Math.max(0, ctx.deadline - performance.now()));
  try {
    const result = await withDeadline(work(), performance.now() + budget, () => new CapabilityError('unavailable', `${component} did not answer within ${Math.round(budget)} ms`));
    ctx.observeHostCall?.(call, 'ok');
    return result;
  } catch (error) {
    const failure = asCapabilityError(component, error);
    ctx.observeHostCall?.(call, failure.code);
    throw failure;
  }
}

/** Converts a component failure into the error the guest sees. */
export function asCapabilityError(component: string, error: unknown): CapabilityError {
  if (error instanceof CapabilityError) return error;
  if (error instanceof ComponentError) return new CapabilityError(error.code, `${component}: ${error.message}`);
  return new CapabilityError('internal', `${component}: ${(error as Error)?.message ?? String(error)}`);
}
