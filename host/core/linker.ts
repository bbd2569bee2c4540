// The linker turns a checked module's imports into host functions for one instance.
// ABI imports read their arguments from guest memory, call the capability bound to the
// current request, and write the canonical result back through cabi_realloc. Imports
// that wait for I/O are wrapped in WebAssembly.Suspending (JSPI): the guest blocks, the
// event loop does not.
import { ERROR_CODES, LOG_LEVELS, UNLOCK_STATUSES, type AbiImport, type ErrorCode } from '../abi.ts';
import { CallCancelled, CapabilityError, type CallContext } from '../call-context.ts';
import { AbiViolation, type GuestMemory } from '../guest-memory.ts';
import { WASI_MODULE, type WasiPreview1 } from '../wasi-preview1.ts';
import type { CheckedModule } from './module-check.ts';

/** The mutable link between a pooled instance and the request it serves. */
export interface InstanceSlot {
  ctx: CallContext | null;
  memory: GuestMemory | null;
}

function current(slot: InstanceSlot): { ctx: CallContext; mem: GuestMemory } {
  const ctx = slot.ctx;
  const mem = slot.memory;
  if (!ctx || !mem) throw new AbiViolation('host function called outside of a request (during initialisation or cabi_realloc)');
  if (ctx.cancelled) throw new CallCancelled();
  return { ctx, mem };
}

function asCapabilityError(error: unknown): CapabilityError {
  if (error instanceof CapabilityError) return error;
  if (error instanceof CallCancelled) throw error;
  return new CapabilityError('internal', `host error: ${(error as Error)?.message ?? String(error)}`);
}

/**
 * Writes `err(error)` of a result: discriminant 1 at 0, the error record at the payload
 * offset (4, or 8 when the ok type is 8-byte aligned, like u64).
 */
function writeErr(mem: GuestMemory, ret: number, error: CapabilityError, payload = 4): void {
  const [ptr, len] = mem.writeString(error.message);
  mem.writeU8(ret, 1);
  mem.writeU8(ret + payload, ERROR_CODES.indexOf(error.code as ErrorCode));
  mem.writeU32(ret + payload + 4, ptr);
  mem.writeU32(ret + payload + 8, len);
}

/** Runs a host call and writes its result with `writeOk`, or the error. */
async function settle<T>(
  slot: InstanceSlot,
  ret: number,
  run: (ctx: CallContext) => Promise<T> | T,
  writeOk: (mem: GuestMemory, value: T) => void,
  payload = 4,
): Promise<void> {
  const { ctx } = current(slot);
  let value: T;
  try {
    value = await run(ctx);
  } catch (error) {
    const failure = asCapabilityError(error);
    const { mem } = current(slot);
    writeErr(mem, ret, failure, payload);
    return;
  }
  const { mem } = current(slot); // the request may have been abandoned while we waited
  writeOk(mem, value);
}

function writeOption(mem: GuestMemory, ret: number, value: Uint8Array | string | null): void {
  mem.writeU8(ret, 0);
  if (value === null) {
    mem.writeU8(ret + 4, 0);
    return;
  }
  const [ptr, len] = typeof value === 'string' ? mem.writeString(value) : mem.writeBytes(value);
  mem.writeU8(ret + 4, 1);
  mem.writeU32(ret + 8, ptr);
  mem.writeU32(ret + 12, len);
}

const writeUnit = (mem: GuestMemory, ret: number) => mem.writeU8(ret, 0);

type HostFunction = (...args: number[]) => unknown;

/** Host implementations of every ABI import, by "interface.name". */
const IMPLEMENTATIONS: Record<string, (slot: InstanceSlot) => HostFunction> = {
  'state.get': (slot) => (sp, sl, kp, kl, ret) => {
    const { mem } = current(slot);
    const store = mem.readString(sp!, sl!, 'state store name');
    const key = mem.readString(kp!, kl!, 'state key');
    return settle(slot, ret!, (ctx) => ctx.services.stateGet(ctx, store, key), (m, v) => writeOption(m, ret!, v));
  },
  'state.set': (slot) => (sp, sl, kp, kl, vp, vl, ret) => {
    const { mem } = current(slot);
    const store = mem.readString(sp!, sl!, 'state store name');
    const key = mem.readString(kp!, kl!, 'state key');
    const value = mem.readBytes(vp!, vl!, 'state value');
    return settle(slot, ret!, (ctx) => ctx.services.stateSet(ctx, store, key, value), (m) => writeUnit(m, ret!));
  },
  'state.delete': (slot) => (sp, sl, kp, kl, ret) => {
    const { mem } = current(slot);
    const store = mem.readString(sp!, sl!, 'state store name');
    const key = mem.readString(kp!, kl!, 'state key');
    return settle(slot, ret!, (ctx) => ctx.services.stateDelete(ctx, store, key), (m) => writeUnit(m, ret!));
  },
  'pubsub.publish': (slot) => (bp, bl, tp, tl, dp, dl, mp, ml, ret) => {
    const { mem } = current(slot);
    const broker = mem.readString(bp!, bl!, 'broker name');
    const topic = mem.readString(tp!, tl!, 'topic');
    const data = mem.readBytes(dp!, dl!, 'message data');
    const metadata = mem.readFields(mp!, ml!, 'message metadata');
    return settle(
      slot,
      ret!,
      (ctx) => ctx.services.publish(ctx, broker, topic, data, metadata),
      (m, id) => {
        const [ptr, len] = m.writeString(id);
        m.writeU8(ret!, 0);
        m.writeU32(ret! + 4, ptr);
        m.writeU32(ret! + 8, len);
      },
    );
  },
  'config.get': (slot) => (kp, kl, ret) => {
    const { ctx, mem } = current(slot);
    const key = mem.readString(kp!, kl!, 'config key');
    let value: string | null;
    try {
      value = ctx.services.configGet(ctx, key);
    } catch (error) {
      writeErr(mem, ret!, asCapabilityError(error));
      return;
    }
    writeOption(mem, ret!, value);
  },
  'invoke.call': (slot) => (np, nl, mp, ml, pp, pl, qp, ql, hp, hl, bp, bl, ret) => {
    const { mem } = current(slot);
    const target = mem.readString(np!, nl!, 'invoke target');
    const request = {
      method: mem.readString(mp!, ml!, 'request method'),
      path: mem.readString(pp!, pl!, 'request path'),
      query: mem.readString(qp!, ql!, 'request query'),
      headers: mem.readFields(hp!, hl!, 'request headers'),
      body: mem.readBytes(bp!, bl!, 'request body'),
    };
    return settle(
      slot,
      ret!,
      (ctx) => ctx.services.invoke(ctx, target, request),
      (m, response) => {
        const [headersPtr, headersLen] = m.writeFields(response.headers);
        const [bodyPtr, bodyLen] = m.writeBytes(response.body);
        m.writeU8(ret!, 0);
        m.writeU16(ret! + 4, response.status);
        m.writeU32(ret! + 8, headersPtr);
        m.writeU32(ret! + 12, headersLen);
        m.writeU32(ret! + 16, bodyPtr);
        m.writeU32(ret! + 20, bodyLen);
      },
    );
  },
  'lock.try-lock': (slot) => (sp, sl, rp, rl, op, ol, expire, ret) => {
    const { mem } = current(slot);
    const store = mem.readString(sp!, sl!, 'lock store name');
    const resource = mem.readString(rp!, rl!, 'lock resource');
    const owner = mem.readString(op!, ol!, 'lock owner');
    return settle(slot, ret!, (ctx) => ctx.services.tryLock(ctx, store, resource, owner, expire! >>> 0), (m, taken) => {
      m.writeU8(ret!, 0);
      m.writeU8(ret! + 4, taken ? 1 : 0);
    });
  },
  'lock.unlock': (slot) => (sp, sl, rp, rl, op, ol, ret) => {
    const { mem } = current(slot);
    const store = mem.readString(sp!, sl!, 'lock store name');
    const resource = mem.readString(rp!, rl!, 'lock resource');
    const owner = mem.readString(op!, ol!, 'lock owner');
    return settle(slot, ret!, (ctx) => ctx.services.unlock(ctx, store, resource, owner), (m, status) => {
      m.writeU8(ret!, 0);
      m.writeU8(ret! + 4, UNLOCK_STATUSES.indexOf(status));
    });
  },
  'lock.keep-alive': (slot) => (sp, sl, rp, rl, op, ol, expire, ret) => {
    const { mem } = current(slot);
    const store = mem.readString(sp!, sl!, 'lock store name');
    const resource = mem.readString(rp!, rl!, 'lock resource');
    const owner = mem.readString(op!, ol!, 'lock owner');
    return settle(slot, ret!, (ctx) => ctx.services.keepAlive(ctx, store, resource, owner, expire! >>> 0), (m, alive) => {
      m.writeU8(ret!, 0);
      m.writeU8(ret! + 4, alive ? 1 : 0);
    });
  },
  'sequencer.next-id': (slot) => (sp, sl, kp, kl, ret) => {
    const { mem } = current(slot);
    const store = mem.readString(sp!, sl!, 'sequencer store name');
    const key = mem.readString(kp!, kl!, 'sequencer key');
    // result<u64, error> aligns its payload to 8: the id is at offset 8.
    return settle(slot, ret!, (ctx) => ctx.services.nextId(ctx, store, key), (m, id) => {
      m.writeU8(ret!, 0);
      m.writeU32(ret! + 8, Number(id & 0xffffffffn));
      m.writeU32(ret! + 12, Number((id >> 32n) & 0xffffffffn));
    }, 8);
  },
  'log.write': (slot) => (level, mp, ml) => {
    const { ctx, mem } = current(slot);
    const name = LOG_LEVELS[level!];
    if (!name) throw new AbiViolation(`log level ${level} is not one of 0..${LOG_LEVELS.length - 1}`);
    ctx.log(name, mem.readString(mp!, ml!, 'log message'), 'log');
  },
};

export interface LinkOptions {
  wasi: WasiPreview1;
  /** Extra imports injected by instrumentation (the interruption check). */
  internal?: Record<string, Record<string, unknown>>;
}

/** Builds the import object for one instance of `checked`. */
export function linkImports(checked: CheckedModule, slot: InstanceSlot, options: LinkOptions): WebAssembly.Imports {
  const imports: Record<string, Record<string, unknown>> = { ...options.internal };
  const wasi = options.wasi.imports();
  for (const imp of checked.imports) {
    const namespace = (imports[imp.module] ??= {});
    if (imp.module === WASI_MODULE || imp.abi === null) {
      namespace[imp.name] = wasi[imp.name];
      continue;
    }
    namespace[imp.name] = hostFunction(imp.abi, slot);
  }
  return imports as WebAssembly.Imports;
}

function hostFunction(abi: AbiImport, slot: InstanceSlot): unknown {
  const make = IMPLEMENTATIONS[`${abi.interface}.${abi.name}`];
  if (!make) throw new Error(`internal: no host implementation for ${abi.interface}.${abi.name}`);
  const fn = make(slot);
  return abi.async ? new WebAssembly.Suspending(fn as (...args: unknown[]) => Promise<unknown>) : fn;
}
