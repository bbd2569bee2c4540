// stdout and stderr through WASI `fd_write`. The host turns each line into a log line
// (stdout at level info, stderr at warn). The build helper also makes AssemblyScript's
// `console` use these, since its default console calls into JavaScript.
import { encodeUTF8 } from "./utf8";

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: usize, written: usize): u16;

// One iovec (buf, len) followed by the `written` count.
const IOVEC: usize = memory.data(12, 4);

/** Writes `len` bytes at `ptr` to file descriptor `fd`, retrying partial writes. */
export function writeFd(fd: u32, ptr: usize, len: usize): void {
  while (len > 0) {
    store<usize>(IOVEC, ptr);
    store<usize>(IOVEC, len, 4);
    if (fd_write(fd, IOVEC, 1, IOVEC + 8) != 0) return; // nowhere to report it
    const written = load<usize>(IOVEC, 8);
    if (written == 0 || written > len) return;
    ptr += written;
    len -= written;
  }
}

function writeText(fd: u32, text: string): void {
  const bytes = encodeUTF8(text);
  writeFd(fd, changetype<usize>(bytes), <usize>bytes.byteLength);
}

export namespace io {
  /** Writes `text` to stdout as is (add "\n" to end the line). */
  export function stdout(text: string): void {
    writeText(1, text);
  }

  /** Writes `text` to stderr as is (add "\n" to end the line). */
  export function stderr(text: string): void {
    writeText(2, text);
  }
}

/**
 * Replaces AssemblyScript's `console` (`--use console=~lib/l8/io/console`): log, info
 * and debug print a line to stdout; warn and error to stderr.
 */
export namespace console {
  export function log(message: string = ""): void {
    writeText(1, message + "\n");
  }

  export function info(message: string = ""): void {
    writeText(1, message + "\n");
  }

  export function debug(message: string = ""): void {
    writeText(1, message + "\n");
  }

  export function warn(message: string = ""): void {
    writeText(2, message + "\n");
  }

  export function error(message: string = ""): void {
    writeText(2, message + "\n");
  }

  export function assert<T>(condition: T, message: string = ""): void {
    if (!condition) writeText(2, "Assertion failed: " + message + "\n");
  }
}
