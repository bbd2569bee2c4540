/// <reference path="./runtime-builtins.d.ts" />
// The canonical-ABI plumbing shared by imports and exports: memory the host allocates
// (cabi_realloc), turning (ptr, len) pairs into AssemblyScript values and back, and
// keeping guest memory alive while the host may read it. Internal to the SDK.
import { Field } from "./field";
import { decodeUTF8, encodeUTF8 } from "./utf8";

// Memory ownership (abi/README.md, "Memory ownership"):
//  - cabi_realloc hands the host a pinned ArrayBuffer, so no collection can free it
//    before the SDK has taken it over; lift* unpins it, after which the garbage collector
//    owns it like any other object. Byte lists are wrapped without copying.
//  - Buffers the guest passes to the host (import parameters, export results) are kept
//    reachable from `retained`, a GC root, until the host is done with them: until the
//    import returns, or until cabi_post_* for export results.

/** Objects the host may still read. */
const retained = new Array<ArrayBuffer>();
let retainedBody: Uint8Array | null = null;

/** Keeps `buffer` alive until releaseRetained() and returns its address. */
export function retain(buffer: ArrayBuffer): usize {
  retained.push(buffer);
  return changetype<usize>(buffer);
}

/** Keeps a byte view alive until releaseRetained() and returns the address of its first byte. */
export function retainBytes(bytes: Uint8Array): usize {
  if (bytes.byteLength == 0) return 0;
  retained.push(bytes.buffer);
  return bytes.dataStart;
}

/** Keeps the response or message body of an export result alive until cabi_post_*. */
export function retainResultBody(bytes: Uint8Array): usize {
  retainedBody = bytes;
  return bytes.byteLength == 0 ? 0 : bytes.dataStart;
}

export function releaseRetained(): void {
  retained.length = 0;
  retainedBody = null;
}

/** UTF-8 encodes `text`, keeps the bytes alive and stores (ptr, len) at `at`. */
export function lowerString(text: string, at: usize): void {
  const bytes = encodeUTF8(text);
  store<usize>(at, retain(bytes));
  store<usize>(at, <usize>bytes.byteLength, sizeof<usize>());
}

/** Lowers `fields` to an array of 16-byte entries and stores (ptr, count) at `at`. */
export function lowerFields(fields: Field[], at: usize): void {
  const n = fields.length;
  const entries = new ArrayBuffer(n << 4);
  const base = retain(entries);
  for (let i = 0; i < n; i++) {
    const field = unchecked(fields[i]);
    lowerString(field.name, base + (<usize>i << 4));
    lowerString(field.value, base + (<usize>i << 4) + 8);
  }
  store<usize>(at, n == 0 ? 4 : base);
  store<usize>(at, <usize>n, sizeof<usize>());
}

/** cabi_realloc: memory the host fills and the guest then owns. */
export function realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  // Objects are 16-byte aligned, which covers every canonical-ABI alignment (at most 8).
  if (align == 0 || (align & (align - 1)) != 0 || align > 16) {
    abort("cabi_realloc: unsupported alignment " + align.toString() + "; expected 1, 2, 4, 8 or 16");
  }
  if (newSize == 0) {
    if (oldSize != 0) __unpin(oldPtr);
    // Never dereferenced (length 0), only needs to be non-null and aligned.
    return align;
  }
  const ptr = __pin(__new(newSize, idof<ArrayBuffer>()));
  if (oldSize != 0) {
    memory.copy(ptr, oldPtr, min(oldSize, newSize));
    __unpin(oldPtr);
  }
  return ptr;
}

/** Takes over a string the host allocated with cabi_realloc. */
export function liftString(ptr: usize, len: usize): string {
  if (len == 0) return "";
  const text = decodeUTF8(ptr, len);
  __unpin(ptr);
  return text;
}

/** Takes over a byte list the host allocated with cabi_realloc, without copying it. */
export function liftBytes(ptr: usize, len: usize): Uint8Array {
  if (len == 0) return new Uint8Array(0);
  // Wrap before unpinning: with an incremental collector the allocation of the view
  // could otherwise free the unreferenced buffer.
  const bytes = Uint8Array.wrap(changetype<ArrayBuffer>(ptr), 0, <i32>len);
  __unpin(ptr);
  return bytes;
}

/** Takes over a `fields` list the host allocated with cabi_realloc. */
export function liftFields(ptr: usize, len: usize): Field[] {
  const fields = new Array<Field>();
  if (len == 0) return fields;
  for (let i: usize = 0; i < len; i++) {
    const entry = ptr + (i << 4);
    const name = liftString(load<usize>(entry), load<usize>(entry, 4));
    const value = liftString(load<usize>(entry, 8), load<usize>(entry, 12));
    fields.push(new Field(name, value));
  }
  __unpin(ptr);
  return fields;
}

// Garbage collection at request boundaries.
//
// The build helper uses the `incremental` runtime, which collects on its own. A function
// built with the `minimal` runtime instead never collects unless asked, so for it the
// SDK collects here, between requests, where no AssemblyScript locals are live. That is
// only needed for instances kept with `reuse: true`: by default the host restores a
// snapshot before every request, which throws all garbage away for free. A reused
// instance is recognisable from the inside: `calls` survives between its requests,
// whereas every snapshot restore resets it to 0.

let calls: u32 = 0;

/** Called at the start of every export call. */
export function beginCall(): void {
  calls++;
}

/** Called from cabi_post_*, after the host has copied the result out. */
export function endCall(): void {
  releaseRetained();
  if (ASC_RUNTIME == 1 /* minimal */ && calls > 1) __collect();
}

/**
 * The `retptr` buffer every import writes its result to. One is enough: an instance
 * serves one call at a time, and each import's result is read before the next call.
 * 24 bytes covers the largest result areas, `result<response, error>` and
 * `result<u64, error>`; the latter needs the 8-byte alignment.
 */
export const RET_AREA: usize = memory.data(24, 8);

/**
 * Lowers a value a capability accepts as bytes — a string (sent as UTF-8), a Uint8Array
 * or an ArrayBuffer — to (ptr, len) at `at`, kept alive until releaseRetained().
 */
export function lowerData<T>(data: T, at: usize): void {
  if (isNullable<T>()) {
    ERROR("L8: pass a non-null string, Uint8Array or ArrayBuffer");
  } else if (isString<T>()) {
    lowerString(changetype<string>(data), at);
  } else if (data instanceof Uint8Array) {
    const bytes = changetype<Uint8Array>(data);
    store<usize>(at, retainBytes(bytes));
    store<usize>(at, <usize>bytes.byteLength, sizeof<usize>());
  } else if (data instanceof ArrayBuffer) {
    const buffer = changetype<ArrayBuffer>(data);
    store<usize>(at, retain(buffer));
    store<usize>(at, <usize>buffer.byteLength, sizeof<usize>());
  } else {
    ERROR("L8: data must be a string, Uint8Array or ArrayBuffer");
  }
}
