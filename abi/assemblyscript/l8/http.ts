import { HostError } from "./error";
import { Field, findField } from "./field";
import { parseQuery, queryValue } from "./url";
import { decodeBytes, utf8Bytes } from "./utf8";

/** An HTTP request: the one a handler receives, or one sent with `invoke.call`. */
export class Request {
  /** Upper-case method, e.g. "GET". */
  method: string;
  /** Path without the query string, e.g. "/stock/book1". */
  path: string;
  /** Raw query string without the leading "?", "" when absent. */
  queryString: string;
  /** Header names are lower-case in requests from the host; names may repeat. */
  headers: Field[];
  body: Uint8Array;

  constructor(method: string, path: string, queryString: string = "", headers: Field[] = [], body: Uint8Array = new Uint8Array(0)) {
    this.method = method;
    this.path = path;
    this.queryString = queryString;
    this.headers = headers;
    this.body = body;
  }

  /** The first value of header `name` (any case), or null. */
  header(name: string): string | null {
    return findField(this.headers, name);
  }

  /** Route parameter `name` (`:name` in the route), or "" if the route has none. */
  param(name: string): string {
    const value = findField(this.headers, "l8-param-" + name);
    return value !== null ? value : "";
  }

  /** The first query parameter `name`, form-urlencoded decoded, or null when absent. */
  query(name: string): string | null {
    return queryValue(this.queryString, name);
  }

  /** Every query parameter, decoded, in order. */
  queryParams(): Field[] {
    return parseQuery(this.queryString);
  }

  /** The body decoded as UTF-8 (invalid bytes become U+FFFD). */
  text(): string {
    return decodeBytes(this.body);
  }
}

const TEXT_PLAIN = "text/plain; charset=utf-8";

/** An HTTP response: the one a handler returns, or the answer to `invoke.call`. */
export class Response {
  /** 100-599. */
  status: i32;
  headers: Field[];
  body: Uint8Array;

  constructor(status: i32 = 200, body: Uint8Array = new Uint8Array(0), headers: Field[] = []) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }

  /** A UTF-8 text response, by default with `content-type: text/plain; charset=utf-8`. */
  static text(status: i32, text: string, contentType: string = TEXT_PLAIN): Response {
    return new Response(status, utf8Bytes(text)).header("content-type", contentType);
  }

  /** A JSON response: `json` is sent as is with `content-type: application/json`. */
  static json(status: i32, json: string): Response {
    return new Response(status, utf8Bytes(json)).header("content-type", "application/json");
  }

  /** A binary response. */
  static bytes(status: i32, body: Uint8Array, contentType: string = "application/octet-stream"): Response {
    return new Response(status, body).header("content-type", contentType);
  }

  /**
   * The answer to a failed host call: the error's status (denied 403, not-found 404,
   * unavailable 503, invalid 400, conflict 409, internal 500) with the body
   * `<code>: <message>` as `text/plain`, the same in every L8 SDK.
   *
   *     const got = state.getText("default", key);
   *     if (!got.ok) return Response.fromError(got.error!);
   */
  static fromError(error: HostError): Response {
    return Response.text(error.httpStatus, error.toString(), "text/plain");
  }

  /** A response with an empty body, e.g. `Response.status(204)`. */
  static status(status: i32): Response {
    return new Response(status);
  }

  /** Adds a header (names may repeat) and returns this response, for chaining. */
  header(name: string, value: string): Response {
    this.headers.push(new Field(name, value));
    return this;
  }

  /** The first value of header `name` (any case), or null. */
  getHeader(name: string): string | null {
    return findField(this.headers, name);
  }

  /** The body decoded as UTF-8 (invalid bytes become U+FFFD). */
  text(): string {
    return decodeBytes(this.body);
  }
}

/** A function that serves HTTP requests. It cannot capture local variables (AssemblyScript has no closures). */
export type Handler = (request: Request) => Response;

let registered: Handler | null = null;

export namespace http {
  /**
   * Registers the function's HTTP handler. Call it once, at the top level of the entry
   * file: the build exports the ABI's `handle` only when it is called.
   */
  export function handle(handler: Handler): void {
    if (registered !== null) abort("http.handle was called twice; a function has one HTTP handler (dispatch on request.method and request.path inside it)");
    registered = handler;
  }
}

/** The registered handler, for the export glue. */
export function httpHandler(): Handler {
  const handler = registered;
  if (handler === null) abort("no HTTP handler is registered: call http.handle(...) at the top level of the function's entry file");
  return handler!;
}
