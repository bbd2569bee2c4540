// Errors are part of L8's interface: each has a stable code, the HTTP status it maps
// to, and a message that says what was wrong and how to fix it.

export type L8ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'not_found'
  | 'route_not_found'
  | 'payload_too_large'
  | 'invalid_module'
  | 'invalid_manifest'
  | 'conflict'
  | 'denied'
  | 'trap'
  | 'timeout'
  | 'memory_limit'
  | 'overloaded'
  | 'unavailable'
  | 'bad_gateway'
  | 'internal';

const STATUS: Record<L8ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  denied: 403,
  not_found: 404,
  route_not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  invalid_module: 422,
  invalid_manifest: 422,
  trap: 500,
  memory_limit: 500,
  internal: 500,
  bad_gateway: 502,
  overloaded: 503,
  unavailable: 503,
  timeout: 504,
};

export interface L8ErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (503). */
  retryAfter?: number;
  /** Extra structured details for the JSON body. */
  details?: Record<string, unknown>;
}

export class L8Error extends Error {
  readonly code: L8ErrorCode;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: L8ErrorCode, message: string, options: L8ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'L8Error';
    this.code = code;
    this.status = STATUS[code];
    this.retryAfter = options.retryAfter;
    this.details = options.details;
  }

  /** The JSON body every L8 endpoint answers errors with. */
  toJSON(requestId?: string): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(requestId ? { requestId } : {}),
        ...(this.details ?? {}),
      },
    };
  }
}

export function isL8Error(error: unknown): error is L8Error {
  return error instanceof L8Error;
}

/** Wraps anything thrown into an L8Error without losing the original. */
export function toL8Error(error: unknown, fallback: L8ErrorCode = 'internal'): L8Error {
  if (error instanceof L8Error) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new L8Error(fallback, message, { cause: error });
}
