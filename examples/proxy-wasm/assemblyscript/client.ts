// Layotto's demo client in AssemblyScript, id "as_client": reads `name` (and optionally
// `target`, default "id_2") from the request body — the query string when there is no
// body — invokes the target through Layotto's proxy_invoke_service and answers
// "There are <n> inventories for <name>.".
import { CONTINUE, PAUSE, LOG_ERROR, REQUEST_BODY, RESPONSE_BODY, getBuffer, invokeService, lastStatus, log, param, sendResponse, setBuffer, setId } from "./proxy";

// The callbacks every function exports (the helpers above stay internal).
export { proxy_abi_version_0_2_0, malloc, proxy_on_vm_start, proxy_on_configure, proxy_on_context_create, proxy_on_done, proxy_on_delete } from "./proxy";

export function proxy_get_id(): void {
  setId("as_client");
}

export function proxy_on_request_body(context: u32, size: usize, endOfStream: u32): u32 {
  const body = getBuffer(REQUEST_BODY, 0, size);
  if (body === null) {
    log(LOG_ERROR, "reading the request body failed with status " + lastStatus.toString());
    return PAUSE;
  }
  const query = String.UTF8.decode(body);
  const name = param(query, "name");
  if (name === null) {
    sendResponse(400, "missing parameter 'name'");
    return PAUSE;
  }
  const given = param(query, "target");
  const target = given === null ? "id_2" : given;
  const count = invokeService(target, "", name);
  if (count === null) {
    log(LOG_ERROR, "invoking " + target + " failed with status " + lastStatus.toString());
    sendResponse(502, target + " is unavailable (proxy_invoke_service status " + lastStatus.toString() + ")");
    return PAUSE;
  }
  setBuffer(RESPONSE_BODY, String.UTF8.encode("There are " + String.UTF8.decode(count) + " inventories for " + name + "."));
  return CONTINUE;
}
