// The proxy-wasm ABI as data (https://github.com/proxy-wasm/spec, versions 0.1.0, 0.2.0 and
// 0.2.1) plus Layotto's two extensions: status codes, buffer and map ids, and the core
// signature of every host function L8 implements. The module checker and the linker read
// this one table, so a signature is written down once.
import type { CoreSignature, CoreType } from '../abi.ts';

/** Export names that mark a module as proxy-wasm, with the ABI version each announces. */
export const ABI_MARKERS: Record<string, string> = {
  proxy_abi_version_0_2_1: '0.2.1',
  proxy_abi_version_0_2_0: '0.2.0',
  proxy_abi_version_0_1_0: '0.1.0',
};

/** proxy_status_t. */
export const Status = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  /** What Layotto answers for every failed proxy_get_state / proxy_invoke_service. */
  InternalFailure: 10,
  Unimplemented: 12,
} as const;

/** proxy_action_t. */
export const Action = { Continue: 0, Pause: 1 } as const;

/**
 * proxy_buffer_type_t. Type 8 is FOREIGN_FUNCTION_ARGUMENTS in the 0.2.1 spec, but Layotto
 * uses it as its CallData buffer: the buffer `proxy_get_id` writes the function's id into.
 */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const;

/** proxy_map_type_t. */
export const MapType = {
  HttpRequestHeaders: 0,
  HttpRequestTrailers: 1,
  HttpResponseHeaders: 2,
  HttpResponseTrailers: 3,
  GrpcInitialMetadata: 4,
  GrpcTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;

/** proxy_log_level_t (trace, debug, info, warn, error, critical) in L8's levels. */
export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'error'] as const;

const i32 = (n: number): CoreType[] => Array.from({ length: n }, () => 'i32' as const);
const status = (params: number): CoreSignature => ({ params: i32(params), results: ['i32'] });

/**
 * Host functions L8 implements, by import name (module "env"), with the signature the
 * module must import them with. `async` ones wait for I/O and are linked through JSPI.
 */
export const IMPLEMENTED: Record<string, { signature: CoreSignature; async?: boolean }> = {
  proxy_log: { signature: status(3) },
  proxy_get_log_level: { signature: status(1) },
  proxy_get_current_time_nanoseconds: { signature: status(1) },
  proxy_set_effective_context: { signature: status(1) },
  proxy_done: { signature: status(0) },
  proxy_get_configuration: { signature: status(2) },
  proxy_get_buffer_bytes: { signature: status(5) },
  proxy_set_buffer_bytes: { signature: status(5) },
  proxy_get_buffer_status: { signature: status(3) },
  proxy_get_header_map_size: { signature: status(2) },
  proxy_get_header_map_pairs: { signature: status(3) },
  proxy_set_header_map_pairs: { signature: status(3) },
  proxy_get_header_map_value: { signature: status(5) },
  proxy_add_header_map_value: { signature: status(5) },
  proxy_replace_header_map_value: { signature: status(5) },
  proxy_remove_header_map_value: { signature: status(3) },
  proxy_send_local_response: { signature: status(8) },
  proxy_get_property: { signature: status(4) },
  // Layotto's extensions (mosn.io/layotto pkg/wasm, layotto/proxy-wasm-go-host).
  proxy_get_state: { signature: status(6), async: true },
  proxy_invoke_service: { signature: status(8), async: true },
};

/**
 * Non-proxy imports of module "env" that toolchains add on their own: AssemblyScript's
 * runtime hooks and Emscripten's memory growth notification.
 */
export const TOOLCHAIN_IMPORTS: Record<string, CoreSignature> = {
  abort: { params: i32(4), results: [] },
  trace: { params: ['i32', 'i32', 'f64', 'f64', 'f64', 'f64', 'f64'], results: [] },
  seed: { params: [], results: ['f64'] },
  emscripten_notify_memory_growth: { params: i32(1), results: [] },
};

/** Guest callbacks L8 calls, with the signatures it accepts (0.1.0 request headers has no end_of_stream). */
export const CALLBACKS: Record<string, CoreSignature[]> = {
  _initialize: [{ params: [], results: [] }],
  _start: [{ params: [], results: [] }],
  main: [{ params: i32(2), results: ['i32'] }],
  proxy_get_id: [{ params: [], results: [] }],
  malloc: [{ params: i32(1), results: ['i32'] }],
  proxy_on_memory_allocate: [{ params: i32(1), results: ['i32'] }],
  proxy_on_context_create: [{ params: i32(2), results: [] }],
  proxy_on_vm_start: [{ params: i32(2), results: ['i32'] }],
  proxy_on_configure: [{ params: i32(2), results: ['i32'] }],
  proxy_on_request_headers: [status(3), status(2)],
  proxy_on_request_body: [status(3)],
  proxy_on_request_trailers: [status(2)],
  proxy_on_done: [status(1)],
  proxy_on_log: [{ params: i32(1), results: [] }],
  proxy_on_delete: [{ params: i32(1), results: [] }],
};

/** Callbacks that make a module an HTTP function. */
export const HTTP_CALLBACKS = ['proxy_on_request_headers', 'proxy_on_request_body', 'proxy_on_request_trailers'] as const;

/** Context id of the one plugin (root) context, as Layotto uses it. */
export const ROOT_CONTEXT_ID = 1;
