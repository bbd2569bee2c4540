// The l8:faas imports of a component, at the level jco's glue lifts and lowers them:
// strings, Uint8Arrays, `[name, value]` tuples, records as objects, enums as their WIT
// names. They call the same capability implementations as core modules (ctx.services,
// bound to the function's manifest), so grants, errors and logs are identical. A
// `result` error is thrown as `{ payload: { code, message } }`, which the glue lowers
// into the guest's `err(error)`; anything else thrown traps the guest.
import { LOG_LEVELS, type ErrorCode } from '../abi.ts';
import { CallCancelled, CapabilityError, type CallContext, type GuestRequest, type GuestResponse } from '../call-context.ts';
import type { Fields } from '../guest-memory.ts';

/** The request a call is serving; null outside calls (during instantiation). */
export interface CallSlot {
  ctx: CallContext | null;
}

/** What the glue lowers into `err(error)`: a thrown value with an own `payload`. */
class ResultError extends Error {
  readonly payload: { code: ErrorCode; message: string };
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.payload = { code, message };
  }
}

function current(slot: CallSlot, what: string): CallContext {
  const ctx = slot.ctx;
  if (!ctx) throw new Error(`${what} was called outside of a request (while the component was being instantiated); host calls are only possible while serving one`);
  if (ctx.cancelled) throw new CallCancelled();
  return ctx;
}

async function settle<T>(slot: CallSlot, what: string, run: (ctx: CallContext) => Promise<T> | T): Promise<T> {
  const ctx = current(slot, what);
  let value: T;
  try {
    value = await run(ctx);
  } catch (error) {
    if (error instanceof CallCancelled) throw error;
    const failure = error instanceof CapabilityError ? error : new CapabilityError('internal', `host error: ${(error as Error)?.message ?? String(error)}`);
    current(slot, what);
    throw new ResultError(failure.code, failure.message);
  }
  current(slot, what); // the request may have been abandoned while the host waited
  return value;
}

function fields(value: unknown, what: string): Fields {
  if (!Array.isArray(value)) throw new TypeError(`${what} must be a list of [name, value] pairs`);
  return value as Fields;
}

interface ComponentRequest {
  method: string;
  path: string;
  query: string;
  headers: Fields;
  body: Uint8Array;
}

/** The l8:faas interfaces for one instance, keyed by interface name without version. */
export function l8Imports(slot: CallSlot): Record<string, Record<string, unknown>> {
  return {
    'l8:faas/types': {},
    'l8:faas/state': {
      get: (store: string, key: string) =>
        settle(slot, 'state.get', (ctx) => ctx.services.stateGet(ctx, store, key)).then((value) => (value === null ? undefined : value)),
      set: (store: string, key: string, value: Uint8Array) => settle(slot, 'state.set', (ctx) => ctx.services.stateSet(ctx, store, key, value)),
      delete: (store: string, key: string) => settle(slot, 'state.delete', (ctx) => ctx.services.stateDelete(ctx, store, key)),
    },
    'l8:faas/pubsub': {
      publish: (broker: string, topic: string, data: Uint8Array, metadata: Fields) =>
        settle(slot, 'pubsub.publish', (ctx) => ctx.services.publish(ctx, broker, topic, data, fields(metadata, 'metadata'))),
    },
    'l8:faas/config': {
      get: (key: string) => {
        const ctx = current(slot, 'config.get');
        let value: string | null;
        try {
          value = ctx.services.configGet(ctx, key);
        } catch (error) {
          const failure = error instanceof CapabilityError ? error : new CapabilityError('internal', `host error: ${(error as Error).message}`);
          throw new ResultError(failure.code, failure.message);
        }
        return value === null ? undefined : value;
      },
    },
    'l8:faas/invoke': {
      call: (target: string, req: ComponentRequest) =>
        settle(slot, 'invoke.call', (ctx) => {
          const request: GuestRequest = { method: req.method, path: req.path, query: req.query, headers: fields(req.headers, 'request headers'), body: req.body };
          return ctx.services.invoke(ctx, target, request);
        }).then((response: GuestResponse) => ({ status: response.status, headers: response.headers, body: response.body })),
    },
    'l8:faas/lock': {
      tryLock: (store: string, resource: string, owner: string, expireSeconds: number) =>
        settle(slot, 'lock.try-lock', (ctx) => ctx.services.tryLock(ctx, store, resource, owner, expireSeconds)),
      unlock: (store: string, resource: string, owner: string) => settle(slot, 'lock.unlock', (ctx) => ctx.services.unlock(ctx, store, resource, owner)),
      keepAlive: (store: string, resource: string, owner: string, expireSeconds: number) =>
        settle(slot, 'lock.keep-alive', (ctx) => ctx.services.keepAlive(ctx, store, resource, owner, expireSeconds)),
    },
    'l8:faas/sequencer': {
      nextId: (store: string, key: string) => settle(slot, 'sequencer.next-id', (ctx) => ctx.services.nextId(ctx, store, key)),
    },
    'l8:faas/log': {
      write: (level: string, message: string) => {
        const ctx = current(slot, 'log.write');
        if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new TypeError(`log level "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
        ctx.log(level as (typeof LOG_LEVELS)[number], message, 'log');
      },
    },
  };
}
