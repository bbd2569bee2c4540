// The smallest proxy-wasm glue an HTTP function needs, with Layotto's two extensions, in
// plain AssemblyScript (no SDK package). A function's entry file re-exports this module
// (`export { proxy_abi_version_0_2_0, malloc, ... } from "./proxy"`) and defines
// proxy_get_id and proxy_on_request_body itself.

export const CONTINUE: u32 = 0;
export const PAUSE: u32 = 1;
export const OK: u32 = 0;

export const REQUEST_BODY: u32 = 0;
export const RESPONSE_BODY: u32 = 1;
/** Layotto's CallData buffer: proxy_get_id writes the function's id into it. */
export const CALL_DATA: u32 = 8;

export const LOG_INFO: u32 = 2;
export const LOG_ERROR: u32 = 4;

// @ts-ignore: decorator
@external("env", "proxy_log")
declare function proxy_log(level: u32, message: usize, size: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(kind: u32, start: usize, max: usize, data: usize, size: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(kind: u32, start: usize, size: usize, data: usize, dataSize: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_send_local_response")
declare function proxy_send_local_response(status: u32, details: usize, detailsSize: usize, body: usize, bodySize: usize, headers: usize, headersSize: usize, grpc: i32): u32;
// @ts-ignore: decorator
@external("env", "proxy_get_state")
declare function proxy_get_state(store: usize, storeSize: usize, key: usize, keySize: usize, value: usize, valueSize: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_invoke_service")
declare function proxy_invoke_service(id: usize, idSize: usize, method: usize, methodSize: usize, param: usize, paramSize: usize, result: usize, resultSize: usize): u32;

/** Where the host writes (pointer, size) of the data it returns. */
const RETURNED = memory.data(8, 4);

/** The status of the last call that failed (0 after a success). */
export let lastStatus: u32 = 0;

/** Copies the bytes the host placed with malloc into a managed buffer and frees them. */
function takeReturned(): ArrayBuffer {
  const ptr = load<usize>(RETURNED);
  const size = load<usize>(RETURNED, 4);
  const out = new ArrayBuffer(<i32>size);
  if (size > 0) {
    memory.copy(changetype<usize>(out), ptr, size);
    heap.free(ptr);
  }
  return out;
}

export function log(level: u32, message: string): void {
  const bytes = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(bytes), bytes.byteLength);
}

/** The buffer's bytes, or null with lastStatus set. */
export function getBuffer(kind: u32, start: usize, max: usize): ArrayBuffer | null {
  lastStatus = proxy_get_buffer_bytes(kind, start, max, RETURNED, RETURNED + 4);
  return lastStatus == OK ? takeReturned() : null;
}

/** Replaces the whole buffer. */
export function setBuffer(kind: u32, value: ArrayBuffer): u32 {
  return proxy_set_buffer_bytes(kind, 0, 0x7fffffff, changetype<usize>(value), value.byteLength);
}

export function sendResponse(status: u32, body: string): u32 {
  const bytes = String.UTF8.encode(body);
  return proxy_send_local_response(status, 0, 0, changetype<usize>(bytes), bytes.byteLength, 0, 0, -1);
}

/** Layotto's proxy_get_state: the value, or null with lastStatus set. */
export function getState(store: string, key: string): ArrayBuffer | null {
  const s = String.UTF8.encode(store);
  const k = String.UTF8.encode(key);
  lastStatus = proxy_get_state(changetype<usize>(s), s.byteLength, changetype<usize>(k), k.byteLength, RETURNED, RETURNED + 4);
  return lastStatus == OK ? takeReturned() : null;
}

/** Layotto's proxy_invoke_service: the target's answer, or null with lastStatus set. */
export function invokeService(id: string, method: string, param: string): ArrayBuffer | null {
  const i = String.UTF8.encode(id);
  const m = String.UTF8.encode(method);
  const p = String.UTF8.encode(param);
  lastStatus = proxy_invoke_service(changetype<usize>(i), i.byteLength, changetype<usize>(m), m.byteLength, changetype<usize>(p), p.byteLength, RETURNED, RETURNED + 4);
  return lastStatus == OK ? takeReturned() : null;
}

/** The value of `name` in an `a=1&b=2` string, or null (not percent-decoded, as in Layotto's demo). */
export function param(query: string, name: string): string | null {
  const pairs = query.split("&");
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    if (pair.startsWith(name + "=")) return pair.slice(name.length + 1);
  }
  return null;
}

export function setId(id: string): void {
  setBuffer(CALL_DATA, String.UTF8.encode(id));
}

// ---- callbacks every function exports ---------------------------------------------

export function proxy_abi_version_0_2_0(): void {}

/** The host hands request data to the guest in memory allocated here (freed by takeReturned). */
export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_vm_start(root: u32, size: usize): u32 {
  return 1;
}

export function proxy_on_configure(root: u32, size: usize): u32 {
  return 1;
}

export function proxy_on_context_create(context: u32, parent: u32): void {}

export function proxy_on_done(context: u32): u32 {
  return 1;
}

export function proxy_on_delete(context: u32): void {}
