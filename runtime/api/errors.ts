// Errors of the runtime API: one code set (gRPC's status codes), mapped to an HTTP status
// for the HTTP API, so both transports tell a client the same thing.
import * as grpc from '@grpc/grpc-js';
import { ComponentError } from '../../components/errors.ts';
import { CapabilityError } from '../../host/call-context.ts';
import { L8Error } from '../../host/errors.ts';

export type ApiCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ABORTED'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

const HTTP: Record<ApiCode, number> = {
  INVALID_ARGUMENT: 400,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ABORTED: 409,
  FAILED_PRECONDITION: 412,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

export class ApiError extends Error {
  readonly code: ApiCode;

  constructor(code: ApiCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
  }

  get httpStatus(): number {
    return HTTP[this.code];
  }

  get grpcStatus(): grpc.status {
    return grpc.status[this.code];
  }
}

const FROM_COMPONENT: Record<ComponentError['code'], ApiCode> = {
  'not-found': 'NOT_FOUND',
  unavailable: 'UNAVAILABLE',
  invalid: 'INVALID_ARGUMENT',
  // Dapr and Layotto answer an ETag mismatch with ABORTED; clients retry on it.
  conflict: 'ABORTED',
  internal: 'INTERNAL',
};

const FROM_L8: Partial<Record<L8Error['code'], ApiCode>> = {
  bad_request: 'INVALID_ARGUMENT',
  not_found: 'NOT_FOUND',
  route_not_found: 'NOT_FOUND',
  conflict: 'ABORTED',
  denied: 'PERMISSION_DENIED',
  payload_too_large: 'RESOURCE_EXHAUSTED',
  overloaded: 'RESOURCE_EXHAUSTED',
  unavailable: 'UNAVAILABLE',
  timeout: 'DEADLINE_EXCEEDED',
};

/** Any failure as an ApiError; component and capability errors keep their meaning. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ComponentError) return new ApiError(FROM_COMPONENT[error.code], error.message, { cause: error });
  if (error instanceof CapabilityError) {
    const code = error.code as string;
    const mapped: ApiCode = code === 'not-found' ? 'NOT_FOUND' : code === 'unavailable' ? 'UNAVAILABLE' : code === 'invalid' ? 'INVALID_ARGUMENT' : code === 'denied' ? 'PERMISSION_DENIED' : code === 'conflict' ? 'ABORTED' : 'INTERNAL';
    return new ApiError(mapped, error.message, { cause: error });
  }
  if (error instanceof L8Error) return new ApiError(FROM_L8[error.code] ?? 'INTERNAL', error.message, { cause: error });
  return new ApiError('INTERNAL', (error as Error)?.message ?? String(error), { cause: error });
}

/** The error as a gRPC status for a callback. */
export function toGrpcError(error: unknown): Partial<grpc.StatusObject> {
  const e = toApiError(error);
  return { code: e.grpcStatus, details: e.message };
}
