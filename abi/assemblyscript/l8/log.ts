// Structured logs through the `l8:faas/log` import: the host tags every line with the
// function's name and the request id.
import { encodeUTF8 } from "./utf8";

// @ts-ignore: decorator
@external("l8:faas/log@0.2.0", "write")
declare function log_write(level: i32, messagePtr: usize, messageLen: usize): void;

/** Log levels, as in the WIT `log.level` enum. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

export namespace log {
  export function write(level: LogLevel, message: string): void {
    const bytes = encodeUTF8(message);
    log_write(level, changetype<usize>(bytes), <usize>bytes.byteLength);
  }

  export function trace(message: string): void {
    write(LogLevel.Trace, message);
  }

  export function debug(message: string): void {
    write(LogLevel.Debug, message);
  }

  export function info(message: string): void {
    write(LogLevel.Info, message);
  }

  export function warn(message: string): void {
    write(LogLevel.Warn, message);
  }

  export function error(message: string): void {
    write(LogLevel.Error, message);
  }
}

/** Writes raw UTF-8 bytes at `ptr` without allocating (used by abort). */
export function writeRaw(level: LogLevel, ptr: usize, len: usize): void {
  log_write(level, ptr, len);
}
