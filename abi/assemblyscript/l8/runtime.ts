// Replacements for the three functions AssemblyScript imports from a JavaScript host by
// default (`env.abort`, `env.trace`, `env.seed`). L8 functions may import only the L8
// ABI and WASI, so the build helper redirects them here with `--use abort=...` etc.
import { LogLevel, log, writeRaw } from "./log";

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function random_get(buf: usize, len: usize): u16;

// abort() must not allocate: it also runs when memory is exhausted. The message is
// encoded into this static buffer and cut off if longer.
const ABORT_BUFFER_SIZE: usize = 1024;
const ABORT_BUFFER: usize = memory.data(<i32>ABORT_BUFFER_SIZE);
let abortLength: usize = 0;
let aborting = false;

function appendAscii(text: string): void {
  appendString(changetype<usize>(text), text.length);
}

function appendString(ptr: usize, units: i32): void {
  if (ptr == 0) return;
  const room = ABORT_BUFFER_SIZE - abortLength;
  // Worst case three bytes per UTF-16 unit; cut the input so the encoding always fits.
  const fits = <i32>min(<usize>units, room / 3);
  abortLength += String.UTF8.encodeUnsafe(ptr, fits, ABORT_BUFFER + abortLength, false, String.UTF8.ErrorMode.REPLACE);
}

function appendNumber(value: u32): void {
  // Up to 10 digits, written backwards into a scratch area after the message.
  const digits = memory.data(10);
  let n: usize = 0;
  do {
    store<u8>(digits + n++, <u8>(48 + value % 10));
    value /= 10;
  } while (value != 0);
  while (n > 0 && abortLength < ABORT_BUFFER_SIZE) {
    store<u8>(ABORT_BUFFER + abortLength++, load<u8>(digits + --n));
  }
}

/**
 * `abort(message, file, line, column)`: logs `abort: <message> at <file>:<line>:<column>`
 * at level error, then traps, which fails the request with HTTP 500.
 */
export function l8Abort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {
  if (!aborting) {
    aborting = true;
    abortLength = 0;
    appendAscii("abort: ");
    if (message !== null) appendString(changetype<usize>(message), message.length);
    else appendAscii("(no message)");
    if (fileName !== null) {
      appendAscii(" at ");
      appendString(changetype<usize>(fileName), fileName.length);
      appendAscii(":");
      appendNumber(line);
      appendAscii(":");
      appendNumber(column);
    }
    writeRaw(LogLevel.Error, ABORT_BUFFER, abortLength);
  }
  unreachable();
}

/** `trace(message, n, a0, ..., a4)`: logs the message and the first n values at level debug. */
export function l8Trace(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  let text = "trace: " + message;
  if (n > 0) text += " " + a0.toString();
  if (n > 1) text += ", " + a1.toString();
  if (n > 2) text += ", " + a2.toString();
  if (n > 3) text += ", " + a3.toString();
  if (n > 4) text += ", " + a4.toString();
  log.debug(text);
}

/** `seed()` for Math.random: 52 random bits from WASI `random_get`, as a float. */
export function l8Seed(): f64 {
  const buf = memory.data(8, 8);
  random_get(buf, 8);
  // Any bit pattern is a fine seed; keep it a finite, non-zero double.
  return reinterpret<f64>((load<u64>(buf) & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000);
}
