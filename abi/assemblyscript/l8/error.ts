import { liftString } from "./abi";

/** Why a host call failed (the WIT `error-code`). */
export enum ErrorCode {
  /** The function's manifest does not grant this store, topic, config key or target. */
  Denied = 0,
  /** The named component (store, broker) or function does not exist. */
  NotFound = 1,
  /** The backend is down or did not answer in time; retrying later may work. */
  Unavailable = 2,
  /** An argument was rejected (too large, empty name, ...). */
  Invalid = 3,
  /** A concurrent change won (optimistic concurrency). */
  Conflict = 4,
  /** Anything else; the message says what. */
  Internal = 5,
}

/** The error a host call returned: a code and a message saying what to fix. */
export class HostError {
  code: ErrorCode;
  message: string;

  constructor(code: ErrorCode, message: string) {
    this.code = code;
    this.message = message;
  }

  /** The code as spelled in the WIT: "denied", "not-found", ... */
  get codeName(): string {
    switch (this.code) {
      case ErrorCode.Denied: return "denied";
      case ErrorCode.NotFound: return "not-found";
      case ErrorCode.Unavailable: return "unavailable";
      case ErrorCode.Invalid: return "invalid";
      case ErrorCode.Conflict: return "conflict";
      case ErrorCode.Internal: return "internal";
      default: return "error-code-" + (<i32>this.code).toString();
    }
  }

  /**
   * The HTTP status L8 functions answer for this error: denied 403, not-found 404,
   * unavailable 503, invalid 400, conflict 409, internal (and unknown codes) 500.
   * `Response.fromError(error)` answers it with the error's text.
   */
  get httpStatus(): i32 {
    switch (this.code) {
      case ErrorCode.Denied: return 403;
      case ErrorCode.NotFound: return 404;
      case ErrorCode.Unavailable: return 503;
      case ErrorCode.Invalid: return 400;
      case ErrorCode.Conflict: return 409;
      default: return 500;
    }
  }

  /** "<code>: <message>", e.g. `denied: state store "x" is not granted ...`. */
  toString(): string {
    return this.codeName + ": " + this.message;
  }
}

/**
 * The outcome of a host call that produces a value: either `value` or `error`.
 *
 *     const got = config.get("greeting");
 *     if (!got.ok) return Response.text(500, got.error!.toString());
 *     const greeting = got.value;
 */
export class Result<T> {
  private _value: T;
  /** The failure, or null when the call succeeded. */
  readonly error: HostError | null;

  constructor(value: T, error: HostError | null) {
    this._value = value;
    this.error = error;
  }

  static ok<T>(value: T): Result<T> {
    return new Result<T>(value, null);
  }

  static err<T>(error: HostError): Result<T> {
    // The value slot of a failed result is never handed out (see `value`).
    if (isReference<T>()) return new Result<T>(changetype<T>(0), error);
    // @ts-ignore: T is a number type here
    return new Result<T>(<T>0, error);
  }

  /** True when the call succeeded. */
  get ok(): bool {
    return this.error === null;
  }

  /** The value; traps with the error's text when the call failed. */
  get value(): T {
    const error = this.error;
    if (error !== null) abort("host call failed, check `.ok` before reading `.value`: " + error.toString());
    return this._value;
  }

  /** The value, or `fallback` when the call failed. */
  valueOr(fallback: T): T {
    return this.error === null ? this._value : fallback;
  }
}

/**
 * Reads the `error` record of a result area and takes over the message. The record
 * starts at `payload`: 4 for most results (`4: code (u8)`, `8: message ptr`,
 * `12: message len`), 8 for `result<u64, error>`, whose payload is 8-byte aligned.
 */
export function liftError(area: usize, payload: usize = 4): HostError {
  const record = area + payload;
  return new HostError(<ErrorCode>load<u8>(record), liftString(load<usize>(record, 4), load<usize>(record, 8)));
}
