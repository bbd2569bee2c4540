// Layotto's demo server in AssemblyScript, id "as_server": the request body is a book
// name; answers its stock from state store "state_demo" through Layotto's proxy_get_state.
import { CONTINUE, PAUSE, LOG_ERROR, REQUEST_BODY, RESPONSE_BODY, getBuffer, getState, lastStatus, log, sendResponse, setBuffer, setId } from "./proxy";

// The callbacks every function exports (the helpers above stay internal).
export { proxy_abi_version_0_2_0, malloc, proxy_on_vm_start, proxy_on_configure, proxy_on_context_create, proxy_on_done, proxy_on_delete } from "./proxy";

export function proxy_get_id(): void {
  setId("as_server");
}

export function proxy_on_request_body(context: u32, size: usize, endOfStream: u32): u32 {
  const body = getBuffer(REQUEST_BODY, 0, size);
  if (body === null) {
    log(LOG_ERROR, "reading the request body failed with status " + lastStatus.toString());
    return PAUSE;
  }
  const key = String.UTF8.decode(body);
  const value = getState("state_demo", key);
  if (value === null) {
    log(LOG_ERROR, "reading " + key + " from state_demo failed with status " + lastStatus.toString());
    sendResponse(500, "state_demo is unavailable (proxy_get_state status " + lastStatus.toString() + ")");
    return PAUSE;
  }
  setBuffer(RESPONSE_BODY, value);
  return CONTINUE;
}
